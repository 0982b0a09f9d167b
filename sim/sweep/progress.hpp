// Progress of a sweep on stderr. On a terminal: one line redrawn in place (bar, points done, rate, ETA), at
// most ten times a second. Otherwise (a log file, a batch job): a plain line at most every `log_interval_s`
// seconds. Always a last line with the total time when finished.
#pragma once

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <mutex>
#include <string>

namespace hgca {

class Progress {
 public:
  // `already_done` points (reused from a journal) count as done but not towards the rate.
  Progress(std::ostream& out, size_t total, size_t already_done, bool terminal, double log_interval_s = 5.0);
  // Whether stderr is a terminal (the default choice of `terminal`).
  static bool stderr_is_terminal();

  void advance();  // one more point finished; thread-safe
  void finish();   // the final line; idempotent

  // "[########------------]  412/1000 points  41%  58.1 points/s  ETA 10 s" (bar only when `bar`).
  static std::string line(size_t done, size_t total, size_t computed, double elapsed_s, bool bar);
  // "0.4 s", "48 s", "3 min 05 s", "2 h 07 min"
  static std::string duration(double seconds);

 private:
  void draw(bool final_line);

  std::ostream& out_;
  size_t total_, done_, reused_;
  bool terminal_, finished_ = false;
  double log_interval_s_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mutex_;
};

}  // namespace hgca
