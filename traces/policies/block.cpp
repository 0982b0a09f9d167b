// block: Quest-like page selection. The CPU keeps, per block of `size` consecutive positions, the elementwise
// min and max of the block's keys; sum_i max(q_i min_i, q_i max_i) bounds every logit of the block from above,
// so ranking blocks by that bound reads 2 summary rows per block instead of `size` keys. Each head (or the
// group, shared) attends its k best blocks (k=BLOCKS, or frac=SHARE of the CPU-resident blocks), clipped to the
// CPU-resident positions. Blocks are aligned to absolute positions; the block holding the newest CPU-resident
// position is summarized over its CPU-resident part only (what the CPU has seen), so no bound looks past the
// window. Blocks overlapping the sinks keep the sinks' keys in their summary (still a valid bound).
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "traces/policies/factories.hpp"
#include "traces/policies/selection_rules.hpp"

namespace hgca::traces::detail {
namespace {

void check(const kernels::Status& s) {
  if (!s.ok()) throw std::logic_error("block policy: " + s.message);
}

class BlockSelector : public GroupSelector {
 public:
  BlockSelector(int size, Budget budget, Sharing sharing) : size_(size), budget_(budget), sharing_(sharing) {}

  void select(const StepView& v, GroupSelection& out) override {
    out.reset(v.group);
    if (v.candidates() <= 0) return;
    if (!v.summaries || v.summaries->block_size != size_ || !v.kv)
      throw std::logic_error("block policy: the step view carries no block summaries of the right size");
    const std::int64_t b0 = v.begin / size_, b1 = (v.end + size_ - 1) / size_, nb = b1 - b0;
    const std::int64_t tail_start = (b1 - 1) * size_;
    const bool partial_tail = v.end - tail_start < size_ && v.end < v.summaries->tokens;
    if (partial_tail) summarize_tail(v, tail_start);
    bounds_.resize(static_cast<size_t>(v.group));
    spans_.resize(static_cast<size_t>(v.group));
    for (int g = 0; g < v.group; ++g) {
      auto& b = bounds_[static_cast<size_t>(g)];
      b.resize(static_cast<size_t>(v.summaries->blocks()));
      const auto q = v.q.subspan(static_cast<size_t>(g) * static_cast<size_t>(v.head_dim), static_cast<size_t>(v.head_dim));
      check(kernels::block_upper_bounds(*v.summaries, q, v.scale, b));
      if (partial_tail) check(kernels::block_upper_bounds(tail_, q, v.scale, std::span<float>(&b[static_cast<size_t>(b1 - 1)], 1)));
      spans_[static_cast<size_t>(g)] = std::span<const float>(b).subspan(static_cast<size_t>(b0), static_cast<size_t>(nb));
    }
    const std::int64_t k = budget_.count(nb);
    select_items(
        sharing_, spans_,
        [&](std::span<const float> logw, int, std::vector<std::int32_t>& items) { top_count(logw, k, false, items, scratch_); },
        items_, scratch_);
    for (int g = 0; g < v.group; ++g) {
      auto& blocks = items_[static_cast<size_t>(g)];
      for (std::int32_t& b : blocks) b += static_cast<std::int32_t>(b0);
      auto& pos = out.heads[static_cast<size_t>(g)];
      pos = kernels::expand_blocks(blocks, size_, v.end);
      pos.erase(pos.begin(), std::lower_bound(pos.begin(), pos.end(), static_cast<std::int32_t>(v.begin)));
    }
    out.cost.summary_rows = 2 * nb;
    out.cost.indices = sharing_ == Sharing::per_head
                           ? static_cast<std::int64_t>(v.group) * k
                           : static_cast<std::int64_t>(items_[0].size());
  }

 private:
  // Min/max of the CPU-resident keys of the newest block, [start, end).
  void summarize_tail(const StepView& v, std::int64_t start) {
    const int d = v.head_dim;
    tail_.block_size = size_;
    tail_.head_dim = d;
    tail_.tokens = v.end - start;
    tail_.kmin.assign(static_cast<size_t>(d), INFINITY);
    tail_.kmax.assign(static_cast<size_t>(d), -INFINITY);
    for (std::int64_t t = start; t < v.end; ++t)
      for (int i = 0; i < d; ++i) {
        const float k = v.kv->key(0, 0, t, i);
        tail_.kmin[static_cast<size_t>(i)] = std::min(tail_.kmin[static_cast<size_t>(i)], k);
        tail_.kmax[static_cast<size_t>(i)] = std::max(tail_.kmax[static_cast<size_t>(i)], k);
      }
  }

  int size_;
  Budget budget_;
  Sharing sharing_;
  kernels::BlockSummaries tail_;
  std::vector<std::vector<float>> bounds_;
  std::vector<std::span<const float>> spans_;
  std::vector<std::vector<std::int32_t>> items_;
  RuleScratch scratch_;
};

class BlockPolicy : public Policy {
 public:
  BlockPolicy(int size, Budget budget, Sharing sharing) : size_(size), budget_(budget), sharing_(sharing) {}
  std::string spec() const override {
    return "block:size=" + std::to_string(size_) + "," + budget_.spec() + sharing_spec(sharing_);
  }
  const char* selection_method() const override { return "block-summary"; }
  PolicyNeeds needs() const override { return {false, size_}; }
  std::unique_ptr<GroupSelector> make_selector(int, int, int) const override {
    return std::make_unique<BlockSelector>(size_, budget_, sharing_);
  }

 private:
  int size_;
  Budget budget_;
  Sharing sharing_;
};

}  // namespace

std::unique_ptr<Policy> make_block(const SpecArgs& args, const PolicyOptions& options) {
  args.only({"size", "k", "frac", "share"});
  const int size = static_cast<int>(args.integer("size", 1, 1 << 20));
  return std::make_unique<BlockPolicy>(size, Budget::parse(args), parse_sharing(args, options));
}

}  // namespace hgca::traces::detail
