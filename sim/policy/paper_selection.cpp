#include "sim/policy/paper_selection.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

namespace hgca::paper {

std::pair<int, int> group_heads(int heads, int groups, int g) {
  const int64_t h = heads, n = std::max(1, groups);
  return {static_cast<int>(h * g / n), static_cast<int>(h * (g + 1) / n)};
}

int64_t count_at_least(std::span<const double> scores, double threshold) {
  return std::count_if(scores.begin(), scores.end(), [threshold](double s) { return s >= threshold; });
}

std::vector<int64_t> group_keep(std::span<const int64_t> counts, int head_groups, int64_t keep_min, int64_t available) {
  const int heads = static_cast<int>(counts.size());
  std::vector<int64_t> keep(counts.size(), 0);
  for (int g = 0; g < std::max(1, head_groups); ++g) {
    const auto [first, last] = group_heads(heads, head_groups, g);
    if (first == last) continue;
    const int64_t largest = *std::max_element(counts.begin() + first, counts.begin() + last);
    const int64_t k = std::min(available, std::max(keep_min, largest));
    std::fill(keep.begin() + first, keep.begin() + last, std::max<int64_t>(0, k));
  }
  return keep;
}

std::vector<int64_t> top_k(std::span<const double> scores, int64_t k) {
  const int64_t n = static_cast<int64_t>(scores.size());
  k = std::clamp<int64_t>(k, 0, n);
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  const auto better = [&](int64_t a, int64_t b) {
    return scores[a] != scores[b] ? scores[a] > scores[b] : a < b;
  };
  if (k < n) std::nth_element(idx.begin(), idx.begin() + k, idx.end(), better);
  idx.resize(static_cast<size_t>(k));
  std::sort(idx.begin(), idx.end());
  return idx;
}

BlockWindow::BlockWindow(const PaperSpec& spec)
    : block_(std::max<int64_t>(1, spec.block_size)),
      capacity_(block_ * std::max(1, spec.gpu_blocks)),
      recall_capacity_(block_ * std::max(0, spec.recall_blocks)) {}

BlockMove BlockWindow::append(int64_t tokens) {
  BlockMove m;
  if (tokens <= 0) return m;
  if (window_ + tokens < capacity_) {
    window_ += tokens;
    return m;
  }
  // Whole blocks, enough that the window stays below its capacity (capacity >= one block, so e <= w + m).
  m.left_window = ((window_ + tokens - capacity_) / block_ + 1) * block_;
  window_ += tokens - m.left_window;
  recall_ += m.left_window;
  m.left_recall = std::max<int64_t>(0, recall_ - recall_capacity_);
  recall_ -= m.left_recall;
  cpu_ += m.left_recall;
  return m;
}

PaperSelector::PaperSelector(const PaperSpec& spec, int heads)
    : spec_(spec), heads_(heads), layout_(spec), scores_(heads), kept_(heads), last_keep_(heads, 0) {
  if (heads < 1) throw std::invalid_argument("PaperSelector: at least one head is needed");
}

void PaperSelector::check(const Weights& w, int64_t expected, const char* what) const {
  if (static_cast<int>(w.size()) != heads_)
    throw std::invalid_argument(std::string("PaperSelector: ") + what + " has " + std::to_string(w.size()) +
                                " heads, expected " + std::to_string(heads_));
  for (const auto& row : w)
    if (static_cast<int64_t>(row.size()) != expected)
      throw std::invalid_argument(std::string("PaperSelector: ") + what + " has " + std::to_string(row.size()) +
                                  " positions per head, expected " + std::to_string(expected));
}

double PaperSelector::threshold_n(int64_t attended) const {
  return static_cast<double>(spec_.threshold_over == PaperThresholdBase::Attended ? attended : layout_.context());
}

void PaperSelector::decode(const Weights& a) {
  const int64_t old = layout_.attended();
  check(a, old + 1, "decode weights");
  for (int h = 0; h < heads_; ++h) {
    std::vector<double>& s = scores_[h];
    for (int64_t j = 0; j < old; ++j) s[j] = spec_.alpha * a[h][j] + (1 - spec_.alpha) * s[j];
    s.push_back(a[h][old]);
  }
  std::fill(last_keep_.begin(), last_keep_.end(), 0);
  move_and_select(1);
}

void PaperSelector::append(int64_t m, const Weights& gpu_weights, const Weights& cpu_weights) {
  if (m < 1) throw std::invalid_argument("PaperSelector::append: at least one token");
  const int64_t cpu = layout_.cpu_only();
  check(gpu_weights, layout_.attended() + m, "append GPU weights");
  if (cpu > 0 || !cpu_weights.empty()) check(cpu_weights, cpu, "append CPU weights");
  scores_ = gpu_weights;  // replaced by the new queries' mean weights, no smoothing
  std::fill(last_keep_.begin(), last_keep_.end(), 0);
  // Reselection over the CPU-only tokens from the CPU side's dense attention of the new queries.
  for (auto& k : kept_) k.clear();
  if (cpu > 0) {
    const double n = spec_.threshold_over == PaperThresholdBase::Attended ? static_cast<double>(cpu)
                                                                          : static_cast<double>(layout_.context() + m);
    std::vector<int64_t> counts(heads_);
    for (int h = 0; h < heads_; ++h) counts[h] = count_at_least(cpu_weights[h], spec_.beta / n);
    const std::vector<int64_t> keep = group_keep(counts, spec_.head_groups, spec_.keep_min, cpu);
    for (int h = 0; h < heads_; ++h) {
      kept_[h] = top_k(cpu_weights[h], keep[h]);
      last_keep_[h] = keep[h];
    }
  }
  move_and_select(m);
}

void PaperSelector::move_and_select(int64_t m) {
  const int64_t attended = layout_.attended() + m;  // what the window attention covered in this call
  const int64_t cpu_before = layout_.cpu_only();
  const BlockMove mv = layout_.append(m);
  const int64_t leaving = mv.left_recall;
  if (leaving <= 0) return;
  const double n = threshold_n(attended);
  std::vector<int64_t> counts(heads_);
  for (int h = 0; h < heads_; ++h)
    counts[h] = count_at_least(std::span<const double>(scores_[h]).first(leaving), spec_.beta / n);
  const std::vector<int64_t> keep = group_keep(counts, spec_.head_groups, spec_.keep_min, leaving);
  for (int h = 0; h < heads_; ++h) {
    for (int64_t i : top_k(std::span<const double>(scores_[h]).first(leaving), keep[h]))
      kept_[h].push_back(cpu_before + i);
    last_keep_[h] += keep[h];
    scores_[h].erase(scores_[h].begin(), scores_[h].begin() + leaving);
  }
}

}  // namespace hgca::paper
