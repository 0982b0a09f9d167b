// random: a control. Each head (or the group, shared) attends `budget` CPU-resident positions drawn uniformly
// without replacement (Floyd's algorithm). The draw of (layer, head or group, step) comes from SplitMix64
// seeded by the seed and those numbers only, so it is the same whatever the thread count or visiting order.
#include <algorithm>

#include "traces/policies/factories.hpp"
#include "traces/policies/selection_rules.hpp"

namespace hgca::traces::detail {
namespace {

struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound) (multiply-shift; the bias is below 2^-32 for the sizes here).
  std::uint64_t below(std::uint64_t bound) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * bound) >> 64);
  }
};

class RandomSelector : public GroupSelector {
 public:
  RandomSelector(Budget budget, bool shared, std::uint64_t seed) : budget_(budget), shared_(shared), seed_(seed) {}
  void select(const StepView& v, GroupSelection& out) override {
    out.reset(v.group);
    const std::int64_t n = v.candidates();
    if (n <= 0) return;
    const std::int64_t k = budget_.count(n);
    for (int g = 0; g < (shared_ ? 1 : v.group); ++g) {
      const std::uint64_t unit = shared_ ? (1ull << 31) + static_cast<std::uint64_t>(v.kv_head)
                                         : static_cast<std::uint64_t>(v.kv_head) * static_cast<std::uint64_t>(v.group) + g;
      SplitMix64 rng{seed_};
      rng.state = rng.next() ^ static_cast<std::uint64_t>(v.layer);
      rng.state = rng.next() ^ unit;
      rng.state = rng.next() ^ static_cast<std::uint64_t>(v.step);
      draw(rng, n, k, out.heads[static_cast<size_t>(g)]);
      for (std::int32_t& j : out.heads[static_cast<size_t>(g)]) j += static_cast<std::int32_t>(v.begin);
    }
    if (shared_)
      for (int g = 1; g < v.group; ++g) out.heads[static_cast<size_t>(g)] = out.heads[0];
    out.cost.indices = index_count(out, shared_);
  }

 private:
  void draw(SplitMix64& rng, std::int64_t n, std::int64_t k, std::vector<std::int32_t>& out) {
    marks_.assign(static_cast<size_t>(n), 0);
    out.clear();
    for (std::int64_t j = n - k; j < n; ++j) {
      const auto t = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(j + 1)));
      const std::int64_t pick = marks_[static_cast<size_t>(t)] ? j : t;
      marks_[static_cast<size_t>(pick)] = 1;
      out.push_back(static_cast<std::int32_t>(pick));
    }
    std::sort(out.begin(), out.end());
  }

  Budget budget_;
  bool shared_;
  std::uint64_t seed_;
  std::vector<std::uint8_t> marks_;
};

class RandomPolicy : public Policy {
 public:
  RandomPolicy(Budget budget, bool shared, std::uint64_t seed) : budget_(budget), shared_(shared), seed_(seed) {}
  std::string spec() const override {
    return "random:" + budget_.spec() + ",seed=" + std::to_string(seed_) + (shared_ ? ",shared" : "");
  }
  const char* selection_method() const override { return "none"; }
  PolicyNeeds needs() const override { return {false, 0}; }
  std::unique_ptr<GroupSelector> make_selector(int, int, int) const override {
    return std::make_unique<RandomSelector>(budget_, shared_, seed_);
  }

 private:
  Budget budget_;
  bool shared_;
  std::uint64_t seed_;
};

}  // namespace

std::unique_ptr<Policy> make_random(const SpecArgs& args, const PolicyOptions& options) {
  args.only({"k", "frac", "seed"});
  const Budget b = Budget::parse(args);
  const auto seed = static_cast<std::uint64_t>(args.has("seed") ? args.integer("seed", 0, INT64_MAX) : 0);
  return std::make_unique<RandomPolicy>(b, options.shared_kv, seed);
}

}  // namespace hgca::traces::detail
