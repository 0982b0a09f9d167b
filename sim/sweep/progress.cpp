#include "sim/sweep/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ostream>

namespace hgca {

Progress::Progress(std::ostream& out, size_t total, size_t already_done, bool terminal, double log_interval_s)
    : out_(out),
      total_(total),
      done_(already_done),
      reused_(already_done),
      terminal_(terminal),
      log_interval_s_(log_interval_s),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {
  if (terminal_) draw(false);
}

bool Progress::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

std::string Progress::duration(double s) {
  char text[48];
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 10) std::snprintf(text, sizeof text, "%.1f s", s);
  else if (s < 60) std::snprintf(text, sizeof text, "%.0f s", s);
  else if (s < 3600) std::snprintf(text, sizeof text, "%d min %02d s", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else std::snprintf(text, sizeof text, "%d h %02d min", static_cast<int>(s) / 3600, static_cast<int>(s) % 3600 / 60);
  return text;
}

std::string Progress::line(size_t done, size_t total, size_t computed, double elapsed_s, bool bar) {
  std::string text;
  const double share = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  if (bar) {
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(share * kWidth);
    text = "[" + std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(kWidth - filled), '-') + "]  ";
  }
  const std::string total_text = std::to_string(total);
  std::string done_text = std::to_string(done);
  done_text.insert(0, total_text.size() > done_text.size() ? total_text.size() - done_text.size() : 0, ' ');
  char tail[96];
  std::snprintf(tail, sizeof tail, " points  %3.0f%%", std::floor(share * 100));
  text += done_text + "/" + total_text + tail;
  if (computed > 0 && elapsed_s > 0) {
    const double rate = static_cast<double>(computed) / elapsed_s;
    std::snprintf(tail, sizeof tail, "  %.1f points/s", rate);
    text += tail;
    if (done < total) text += "  ETA " + duration(static_cast<double>(total - done) / rate);
  }
  return text;
}

void Progress::draw(bool final_line) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const size_t computed = done_ - reused_;
  if (final_line) {
    std::string text = "hgca: " + std::to_string(done_) + "/" + std::to_string(total_) + " points in " + duration(elapsed);
    if (reused_) text += " (" + std::to_string(reused_) + " reused from the journal)";
    if (computed && elapsed > 0) {
      char rate[48];
      std::snprintf(rate, sizeof rate, ", %.1f points/s", static_cast<double>(computed) / elapsed);
      text += rate;
    }
    out_ << (terminal_ ? "\r\033[K" : "") << text << "\n" << std::flush;
  } else if (terminal_) {
    out_ << "\r" << line(done_, total_, computed, elapsed, true) << "\033[K" << std::flush;
  } else {
    out_ << "hgca: " << line(done_, total_, computed, elapsed, false) << "\n" << std::flush;
  }
  last_draw_ = now;
}

void Progress::advance() {
  std::lock_guard lock(mutex_);
  ++done_;
  const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_draw_).count();
  if (done_ < total_ && since >= (terminal_ ? 0.1 : log_interval_s_)) draw(false);
}

void Progress::finish() {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  draw(true);
}

}  // namespace hgca
