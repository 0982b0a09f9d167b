// Replay against the Eigen double-precision reference (kernels/ref), thread-count independence and bad options.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "kernels/ref/reference_attention.hpp"
#include "traces/replay/random_trace.hpp"
#include "traces/replay/replay.hpp"

namespace hgca::traces {
namespace {

namespace ref = kernels::ref;

TraceMeta small_meta() {
  TraceMeta m;
  m.model_name = "test";
  m.num_layers = 2;
  m.num_q_heads = 4;
  m.num_kv_heads = 2;
  m.head_dim = 16;
  m.prompt_length = 40;
  m.decode_steps = 6;
  return m;
}

const InMemoryTrace& small_trace() {
  static const InMemoryTrace t = random_trace(small_meta(), 3);
  return t;
}

ref::RowMatrix to_matrix(const std::vector<float>& rows, int d) {
  const auto n = static_cast<Eigen::Index>(rows.size() / static_cast<size_t>(d));
  ref::RowMatrix m(n, d);
  for (Eigen::Index i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) m(i, j) = rows[static_cast<size_t>(i) * d + j];
  return m;
}

struct RefFigures {
  double rel_l2, cosine, mass;
};

// The reference's view of one (layer, head, step) given the CPU positions replay selected.
RefFigures reference_figures(const InMemoryTrace& tr, const ReplayOptions& o, int l, int h, int t,
                             const std::vector<std::int32_t>& selection) {
  const TraceMeta& m = tr.m;
  const int d = m.head_dim;
  const ref::RowMatrix K = to_matrix(tr.k[l][m.kv_head_of(h)], d), V = to_matrix(tr.v[l][m.kv_head_of(h)], d);
  Eigen::VectorXd q(d);
  for (int i = 0; i < d; ++i) q(i) = tr.q[l][h][static_cast<size_t>(t) * d + i];
  const std::int64_t p = m.prompt_length + t;
  std::vector<std::int64_t> all(static_cast<size_t>(p + 1));
  for (std::int64_t j = 0; j <= p; ++j) all[static_cast<size_t>(j)] = j;
  std::vector<std::int64_t> window;
  for (std::int64_t j = 0; j < o.sinks; ++j) window.push_back(j);
  for (std::int64_t j = std::max(o.sinks, p - o.window + 1); j <= p; ++j) window.push_back(j);
  const std::vector<std::int64_t> cpu(selection.begin(), selection.end());
  const double scale = m.softmax_scale;
  const ref::Result exact = ref::attend_subset(q, K, V, all, scale);
  const ref::Result hgca = ref::merge(ref::attend_subset(q, K, V, window, scale), ref::attend_subset(q, K, V, cpu, scale));
  RefFigures f;
  f.rel_l2 = (hgca.out - exact.out).norm() / exact.out.norm();
  f.cosine = hgca.out.dot(exact.out) / (hgca.out.norm() * exact.out.norm());
  f.mass = std::exp(hgca.lse - exact.lse);
  return f;
}

// Double-precision logits of the candidates of (l, h, t).
std::vector<double> candidate_logits(const InMemoryTrace& tr, int l, int h, int t, std::int64_t begin, std::int64_t end) {
  const TraceMeta& m = tr.m;
  const int d = m.head_dim;
  const auto& k = tr.k[l][m.kv_head_of(h)];
  std::vector<double> s;
  for (std::int64_t j = begin; j < end; ++j) {
    double dot = 0;
    for (int i = 0; i < d; ++i) dot += static_cast<double>(tr.q[l][h][static_cast<size_t>(t) * d + i]) * k[static_cast<size_t>(j) * d + i];
    s.push_back(dot * m.softmax_scale);
  }
  return s;
}

void check_against_reference(const std::string& spec, bool shared, const ReplayOptions& base) {
  SCOPED_TRACE(spec + (shared ? " shared" : "") + " window " + std::to_string(base.window));
  const InMemoryTrace& tr = small_trace();
  ReplayOptions o = base;
  o.keep_selections = true;
  const auto policy = make_policy(spec, {shared});
  const ReplayResult r = replay(tr, *policy, o);
  const TraceMeta& m = tr.m;
  for (int l = 0; l < m.num_layers; ++l)
    for (int h = 0; h < m.num_q_heads; ++h)
      for (int t = 0; t < m.decode_steps; ++t) {
        const size_t i = r.head_index(l, h, t);
        const auto& sel = r.selections[i];
        const std::int64_t p = m.prompt_length + t, begin = o.sinks, end = std::max(o.sinks, p - o.window + 1);
        ASSERT_EQ(r.cpu_resident[static_cast<size_t>(t)], end - begin);
        ASSERT_EQ(r.selected[i], static_cast<std::int32_t>(sel.size()));
        for (size_t j = 0; j < sel.size(); ++j) {
          ASSERT_GE(sel[j], begin);
          ASSERT_LT(sel[j], end);
          if (j > 0) {
            ASSERT_LT(sel[j - 1], sel[j]);
          }
        }
        const RefFigures f = reference_figures(tr, o, l, h, t, sel);
        EXPECT_NEAR(r.rel_l2[i], f.rel_l2, 2e-5) << l << " " << h << " " << t;
        EXPECT_NEAR(r.cosine[i], f.cosine, 2e-5) << l << " " << h << " " << t;
        EXPECT_NEAR(r.mass[i], std::min(1.0, f.mass), 2e-5) << l << " " << h << " " << t;
      }
}

TEST(Replay, MatchesTheReferenceForEveryPolicy) {
  ReplayOptions o;
  o.window = 8;
  o.sinks = 2;
  o.threads = 2;
  for (const char* spec : {"topk:k=5", "topk:frac=0.1,adapt=entropy", "topp:p=0.9", "threshold:t=0.05",
                           "block:size=4,k=2", "h2o:k=4", "random:k=5,seed=3", "sinks:n=1,recent=2", "oracle:k=5"})
    check_against_reference(spec, false, o);
  for (const char* spec : {"topk:k=5", "topk:k=3,share=union", "block:size=4,k=2", "h2o:k=4", "random:k=5"})
    check_against_reference(spec, true, o);
  // A window longer than the prompt: the first steps have no CPU-resident position at all.
  o.window = 44;
  o.sinks = 0;
  check_against_reference("topk:k=5", false, o);
}

TEST(Replay, TopKSelectsTheReferenceTopK) {
  const InMemoryTrace& tr = small_trace();
  ReplayOptions o;
  o.window = 8;
  o.sinks = 2;
  o.keep_selections = true;
  const ReplayResult r = replay(tr, *make_policy("topk:k=5"), o);
  for (int l = 0; l < tr.m.num_layers; ++l)
    for (int h = 0; h < tr.m.num_q_heads; ++h)
      for (int t = 0; t < tr.m.decode_steps; ++t) {
        const std::int64_t p = tr.m.prompt_length + t, begin = o.sinks, end = p - o.window + 1;
        const std::vector<double> s = candidate_logits(tr, l, h, t, begin, end);
        std::vector<double> sorted = s;
        std::sort(sorted.rbegin(), sorted.rend());
        // fp32 scores may order near-ties differently; this data keeps the 5th and 6th well apart.
        ASSERT_GT(sorted[4] - sorted[5], 1e-4) << "test data has a near-tie at the top-k boundary";
        std::vector<std::int32_t> want;
        for (size_t j = 0; j < s.size(); ++j)
          if (s[j] >= sorted[4]) want.push_back(static_cast<std::int32_t>(begin + static_cast<std::int64_t>(j)));
        EXPECT_EQ(r.selections[r.head_index(l, h, t)], want) << l << " " << h << " " << t;
      }
}

TEST(Replay, TopPHoldsTheShareMinimally) {
  const InMemoryTrace& tr = small_trace();
  ReplayOptions o;
  o.window = 8;
  o.keep_selections = true;
  const double share = 0.8;
  const ReplayResult r = replay(tr, *make_policy("topp:p=0.8"), o);
  for (int l = 0; l < tr.m.num_layers; ++l)
    for (int h = 0; h < tr.m.num_q_heads; ++h)
      for (int t = 0; t < tr.m.decode_steps; ++t) {
        const std::int64_t p = tr.m.prompt_length + t, end = p - o.window + 1;
        const std::vector<double> s = candidate_logits(tr, l, h, t, 0, end);
        const double mx = *std::max_element(s.begin(), s.end());
        double z = 0;
        for (double x : s) z += std::exp(x - mx);
        double held = 0, smallest = 1;
        for (std::int32_t j : r.selections[r.head_index(l, h, t)]) {
          const double w = std::exp(s[static_cast<size_t>(j)] - mx) / z;
          held += w;
          smallest = std::min(smallest, w);
        }
        EXPECT_GE(held, share - 1e-5);
        EXPECT_LT(held - smallest, share + 1e-5);  // dropping any entry (the lightest) falls short
      }
}

TEST(Replay, SelectingEverythingIsExact) {
  ReplayOptions o;
  o.window = 8;
  o.sinks = 2;
  const ReplayResult r = replay(small_trace(), *make_policy("topk:frac=1"), o);
  for (size_t i = 0; i < r.rel_l2.size(); ++i) {
    EXPECT_LT(r.rel_l2[i], 1e-5);
    EXPECT_GT(r.cosine[i], 1 - 1e-6);
    EXPECT_GT(r.mass[i], 1 - 1e-5);
  }
  const auto t = r.meta.decode_steps - 1;
  EXPECT_EQ(r.selected[r.head_index(1, 3, static_cast<int>(t))], r.cpu_resident[static_cast<size_t>(t)]);
  EXPECT_EQ(r.keys_scored[r.group_index(1, 1, static_cast<int>(t))], r.cpu_resident[static_cast<size_t>(t)]);
  // exact attention's fp32 K and V per (layer, KV head, step): (p + 1) x 16 x 2 x 4 bytes
  double rows = 0;
  for (int s = 0; s < 6; ++s) rows += 40 + s + 1;
  EXPECT_EQ(r.kv_bytes, rows * 2 * 2 * 16 * 2 * 4);
}

TEST(Replay, SameResultsWhateverTheThreadCount) {
  for (const char* spec : {"topk:k=4", "h2o:budget=0.1", "oracle:frac=0.1", "random:k=3,seed=9", "block:size=4,k=2"}) {
    SCOPED_TRACE(spec);
    const auto policy = make_policy(spec);
    ReplayOptions o;
    o.window = 6;
    o.sinks = 1;
    o.threads = 1;
    const ReplayResult a = replay(small_trace(), *policy, o);
    o.threads = 3;
    const ReplayResult b = replay(small_trace(), *policy, o);
    EXPECT_EQ(a.rel_l2, b.rel_l2);
    EXPECT_EQ(a.cosine, b.cosine);
    EXPECT_EQ(a.mass, b.mass);
    EXPECT_EQ(a.selected, b.selected);
    EXPECT_EQ(a.group_selected, b.group_selected);
    EXPECT_EQ(a.indices, b.indices);
  }
}

TEST(Replay, OracleRecoversAtLeastAsMuchAsTopKForTheSameBudget) {
  ReplayOptions o;
  o.window = 8;
  const ReplayResult topk = replay(small_trace(), *make_policy("topk:k=4"), o);
  const ReplayResult oracle = replay(small_trace(), *make_policy("oracle:k=4"), o);
  const ReplayResult random = replay(small_trace(), *make_policy("random:k=4"), o);
  const int H = small_trace().m.num_q_heads;
  for (int l = 0; l < 2; ++l)
    for (int t = 0; t < 6; ++t) {
      double mt = 0, mo = 0, mr = 0, nt = 0, no = 0;
      for (int h = 0; h < H; ++h) {
        const size_t i = topk.head_index(l, h, t);
        mt += topk.mass[i];
        mo += oracle.mass[i];
        mr += random.mass[i];
        nt += topk.selected[i];
        no += oracle.selected[i];
      }
      EXPECT_EQ(no, nt);                // same total budget per layer and step
      EXPECT_GE(mo, mt - 1e-5);         // optimal allocation over heads
      EXPECT_GE(mt, mr - 1e-5);         // top-k beats the random control on every step
    }
}

TEST(Replay, AdaptiveBudgetsKeepTheLayerTotal) {
  ReplayOptions o;
  o.window = 8;
  o.sinks = 2;
  const ReplayResult r = replay(small_trace(), *make_policy("topk:frac=0.1,adapt=entropy"), o);
  bool uneven = false;
  for (int l = 0; l < 2; ++l)
    for (int t = 0; t < 6; ++t) {
      const auto n = r.cpu_resident[static_cast<size_t>(t)];
      std::int64_t total = 0;
      for (int h = 0; h < 4; ++h) {
        total += r.selected[r.head_index(l, h, t)];
        uneven = uneven || r.selected[r.head_index(l, h, t)] != r.selected[r.head_index(l, 0, t)];
      }
      EXPECT_EQ(total, 4 * static_cast<std::int64_t>(std::ceil(0.1 * static_cast<double>(n) - 1e-9)));
    }
  EXPECT_TRUE(uneven);  // the heads of this trace differ in entropy, so their budgets differ
}

TEST(Replay, RejectsOptionsTheTraceCannotSatisfy) {
  const auto policy = make_policy("topk:k=4");
  auto error = [&](std::int64_t window, std::int64_t sinks, int threads = 1) -> std::string {
    ReplayOptions o;
    o.window = window;
    o.sinks = sinks;
    o.threads = threads;
    try {
      replay(small_trace(), *policy, o);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_NE(error(0, 0).find("--window must be at least 1"), std::string::npos);
  EXPECT_NE(error(46, 0).find("--window 46 (+ --sinks 0) covers the whole context: the trace has 46 positions"),
            std::string::npos);
  EXPECT_NE(error(40, 6).find("covers the whole context"), std::string::npos);
  EXPECT_NE(error(8, 41).find("--sinks 41 exceeds the prompt (40 positions)"), std::string::npos);
  EXPECT_NE(error(8, -1).find("--sinks must not be negative"), std::string::npos);
  EXPECT_NE(error(8, 0, 0).find("--threads"), std::string::npos);
  EXPECT_EQ(error(45, 0), "accepted");  // the last step has one CPU-resident position
}

}  // namespace
}  // namespace hgca::traces
