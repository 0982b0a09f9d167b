#include "traces/policies/selection_rules.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "kernels/cpu/selection.hpp"

namespace hgca::traces::detail {

std::int64_t Budget::count(std::int64_t candidates) const {
  if (candidates <= 0) return 0;
  if (k > 0) return std::min(k, candidates);
  // The tiny slack keeps frac * n from rounding up past an exact integer (0.25 * 400 must give 100).
  const auto c = static_cast<std::int64_t>(std::ceil(frac * static_cast<double>(candidates) - 1e-9));
  return std::clamp<std::int64_t>(c, 0, candidates);
}

std::string Budget::spec() const { return k > 0 ? "k=" + std::to_string(k) : "frac=" + format_number(frac); }

Budget Budget::parse(const SpecArgs& args) {
  Budget b;
  if (args.has("k") == args.has("frac")) args.fail("give exactly one budget: k=ENTRIES or frac=SHARE");
  if (args.has("k")) {
    b.k = args.integer("k", 1, std::numeric_limits<std::int32_t>::max());
  } else {
    b.frac = args.number("frac", 0.0, 1.0, /*lo_open=*/true);
  }
  return b;
}

Sharing parse_sharing(const SpecArgs& args, const PolicyOptions& options) {
  if (!options.shared_kv) {
    if (args.has("share")) args.fail("share= applies only with a shared KV-group selection (--shared-kv)");
    return Sharing::per_head;
  }
  if (!args.has("share")) return Sharing::sum;
  return args.word("share", {"sum", "union"}) == "sum" ? Sharing::sum : Sharing::union_of_heads;
}

std::string sharing_spec(Sharing s) {
  switch (s) {
    case Sharing::per_head: return "";
    case Sharing::sum: return ",share=sum";
    case Sharing::union_of_heads: return ",share=union";
  }
  return "";
}

void softmax(std::span<const float> logw, std::vector<double>& prob) {
  prob.resize(logw.size());
  float mx = -std::numeric_limits<float>::infinity();
  for (const float w : logw) mx = std::max(mx, w);
  if (mx == -std::numeric_limits<float>::infinity()) {
    std::fill(prob.begin(), prob.end(), 0.0);
    return;
  }
  double sum = 0;
  for (size_t i = 0; i < logw.size(); ++i) sum += prob[i] = std::exp(static_cast<double>(logw[i]) - mx);
  for (double& p : prob) p /= sum;
}

void top_count(std::span<const float> logw, std::int64_t k, bool ties_to_later, std::vector<std::int32_t>& out,
               RuleScratch& s) {
  if (!ties_to_later) {
    out = kernels::top_k(logw, k);
    return;
  }
  // kernels::top_k breaks ties toward the lower index: run it on the reversed weights.
  const auto n = static_cast<std::int32_t>(logw.size());
  s.work.assign(logw.rbegin(), logw.rend());
  out = kernels::top_k(s.work, k);
  for (std::int32_t& i : out) i = n - 1 - i;
  std::reverse(out.begin(), out.end());
}

void smallest_mass(std::span<const float> logw, double share, std::vector<std::int32_t>& out, RuleScratch& s) {
  softmax(logw, s.prob);
  // (weight, index) pairs side by side: nth_element then compares without chasing indices.
  struct Item {
    double w;
    std::int32_t i;
  };
  std::vector<Item> items(logw.size());
  double total = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    items[i] = {s.prob[i], static_cast<std::int32_t>(i)};
    total += s.prob[i];
  }
  auto better = [](const Item& a, const Item& b) { return a.w != b.w ? a.w > b.w : a.i < b.i; };
  double need = share * total;  // items [0, lo) are taken; the boundary lies in [lo, hi]
  auto lo = items.begin(), hi = items.end();
  while (need > 0 && hi - lo > 32) {
    const auto mid = lo + (hi - lo) / 2;
    std::nth_element(lo, mid, hi, better);
    double upper = 0;
    for (auto it = lo; it != mid; ++it) upper += it->w;
    if (upper >= need) {
      hi = mid;
    } else {
      need -= upper;
      lo = mid;
    }
  }
  if (need > 0) {
    std::sort(lo, hi, better);
    while (lo != hi && need > 0) need -= (lo++)->w;
  }
  out.clear();
  for (auto it = items.begin(); it != lo; ++it) out.push_back(it->i);
  std::sort(out.begin(), out.end());
}

void at_least(std::span<const float> logw, double t, std::vector<std::int32_t>& out, RuleScratch& s) {
  softmax(logw, s.prob);
  out.clear();
  for (size_t i = 0; i < s.prob.size(); ++i)
    if (s.prob[i] >= t && s.prob[i] > 0) out.push_back(static_cast<std::int32_t>(i));
}

void select_items(Sharing sharing, std::span<const std::span<const float>> logw, const Rule& rule,
                  std::vector<std::vector<std::int32_t>>& out, RuleScratch& s) {
  const int group = static_cast<int>(logw.size());
  const std::int64_t n = group > 0 ? static_cast<std::int64_t>(logw[0].size()) : 0;
  out.resize(static_cast<size_t>(group));
  if (group == 0) return;
  auto head = [&](int g) { return logw[static_cast<size_t>(g)]; };
  switch (sharing) {
    case Sharing::per_head:
      for (int g = 0; g < group; ++g) rule(head(g), g, out[static_cast<size_t>(g)]);
      return;
    case Sharing::sum: {
      std::vector<double> avg(static_cast<size_t>(n), 0.0);
      for (int g = 0; g < group; ++g) {
        softmax(head(g), s.prob);
        for (std::int64_t i = 0; i < n; ++i) avg[static_cast<size_t>(i)] += s.prob[static_cast<size_t>(i)] / group;
      }
      std::vector<float> combined(static_cast<size_t>(n));
      for (std::int64_t i = 0; i < n; ++i)
        combined[static_cast<size_t>(i)] = static_cast<float>(std::log(avg[static_cast<size_t>(i)]));
      rule(combined, -1, out[0]);
      break;
    }
    case Sharing::union_of_heads: {
      s.lists.resize(static_cast<size_t>(group));
      std::vector<std::int32_t> all;
      for (int g = 0; g < group; ++g) {
        rule(head(g), g, s.lists[static_cast<size_t>(g)]);
        all.insert(all.end(), s.lists[static_cast<size_t>(g)].begin(), s.lists[static_cast<size_t>(g)].end());
      }
      std::sort(all.begin(), all.end());
      all.erase(std::unique(all.begin(), all.end()), all.end());
      out[0] = std::move(all);
      break;
    }
  }
  for (int g = 1; g < group; ++g) out[static_cast<size_t>(g)] = out[0];
}

void distribute(std::int64_t total, std::span<const double> weights, std::int64_t cap, std::span<std::int64_t> out) {
  const size_t H = out.size();
  std::fill(out.begin(), out.end(), 0);
  if (H == 0 || cap <= 0 || total <= 0) return;
  total = std::min<std::int64_t>(total, cap * static_cast<std::int64_t>(H));
  std::vector<double> w(weights.begin(), weights.end());
  double wsum = 0;
  for (double& x : w) wsum += x = std::isfinite(x) && x > 0 ? x : 0.0;
  if (wsum == 0) std::fill(w.begin(), w.end(), 1.0);
  // Water-filling: heads whose share would exceed the cap get the cap; the rest share what is left.
  std::vector<char> capped(H, 0);
  std::vector<double> share(H, 0.0);
  std::int64_t left = total;
  for (bool changed = true; changed;) {
    changed = false;
    double free_w = 0;
    for (size_t h = 0; h < H; ++h)
      if (!capped[h]) free_w += w[h];
    for (size_t h = 0; h < H; ++h) {
      if (capped[h]) continue;
      share[h] = free_w > 0 ? static_cast<double>(left) * w[h] / free_w : 0.0;
      if (share[h] >= static_cast<double>(cap)) {
        capped[h] = 1;
        share[h] = static_cast<double>(cap);
        left -= cap;
        changed = true;
        break;  // recompute the others' shares with this head removed
      }
    }
  }
  std::int64_t given = 0;
  for (size_t h = 0; h < H; ++h) given += out[h] = static_cast<std::int64_t>(std::floor(share[h]));
  std::vector<size_t> order(H);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return share[a] - std::floor(share[a]) > share[b] - std::floor(share[b]);
  });
  for (size_t i = 0; given < total; i = (i + 1) % H) {
    const size_t h = order[i];
    if (out[h] < cap) {
      ++out[h];
      ++given;
    }
  }
}

void items_to_positions(std::span<const std::int32_t> items, std::int64_t begin, std::vector<std::int32_t>& out) {
  out.resize(items.size());
  for (size_t i = 0; i < items.size(); ++i) out[i] = static_cast<std::int32_t>(begin + items[i]);
}

std::int64_t index_count(const GroupSelection& sel, bool shared) {
  if (sel.heads.empty()) return 0;
  if (shared) return static_cast<std::int64_t>(sel.heads[0].size());
  std::int64_t n = 0;
  for (const auto& h : sel.heads) n += static_cast<std::int64_t>(h.size());
  return n;
}

}  // namespace hgca::traces::detail
