// Replay of the paper policy (HGCA as published): selections worked out by hand on tiny traces, every figure
// against the Eigen double-precision reference (kernels/ref), the prompt's selection from an independent
// double computation, the growth dataset, the oracle at the same budget, the profile, and bad specs.
#include <gtest/gtest.h>

#include <H5Cpp.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <stdexcept>

#include "kernels/ref/reference_attention.hpp"
#include "sim/policy/selection.hpp"
#include "traces/replay/random_trace.hpp"
#include "traces/replay/replay.hpp"
#include "traces/replay/replay_files.hpp"
#include "traces/replay/report.hpp"

namespace hgca::traces {
namespace {

namespace ref = kernels::ref;

// ---------------------------------------------------------------- a trace small enough to follow by hand
//
// 1 layer, 2 query heads sharing 1 KV head, head_dim 2, softmax scale 1, prompt 6 + 4 decode steps. Every key is
// zero except k1 = (20, 0) and k5 = (0, 20). Prompt queries (all 6 positions, both heads) are (1, 0): from
// position 1 on they look at position 1 only. Decode queries: head 0 (0, 1) looks at position 5, head 1 (0, 0)
// attends uniformly.
//
// With block 2, gpu_blocks 2 (capacity 4), no recall: the prompt append evicts positions 0..3 (window keeps
// 4, 5). Mean prompt weights over them: w0 = 1/6 (query 0 sees only itself), w1 ~ 5/6, w2, w3 ~ e^-20. With
// beta 0.5 the threshold is 0.5 / 6 (n = the 6 tokens attended): 2 counted, so keep_min 1 keeps {0, 1}.
// Step 0 (p 6): window 4, 5, 6. Step 1 (p 7): window 4..7 reaches capacity, 4 and 5 leave; their smoothed
// scores (alpha 0.5): head 0 s4 ~ 0, s5 = 0.5 * 1 + 0.5 * (0.5 * 1) = 0.75; head 1 s4 = s5 = 0.5 / 4 +
// 0.5 * (0.5 / 3) = 0.2083. Threshold 0.5 / 4: head 0 counts 1 (keeps 5), head 1 counts 2 (keeps 4, 5).
InMemoryTrace hand_trace(bool prompt_queries) {
  InMemoryTrace t;
  TraceMeta& m = t.m;
  m.model_name = "hand";
  m.num_layers = 1;
  m.num_q_heads = 2;
  m.num_kv_heads = 1;
  m.head_dim = 2;
  m.softmax_scale = 1.0;
  m.prompt_length = 6;
  m.decode_steps = 4;
  const int N = 10;
  t.k = {{std::vector<float>(2 * N, 0.0f)}};
  t.k[0][0][1 * 2 + 0] = 20;
  t.k[0][0][5 * 2 + 1] = 20;
  t.v = {{std::vector<float>(2 * N)}};
  for (int j = 0; j < 2 * N; ++j) t.v[0][0][static_cast<size_t>(j)] = static_cast<float>(std::sin(1.0 + j));
  t.q = {{std::vector<float>(2 * 4, 0.0f), std::vector<float>(2 * 4, 0.0f)}};
  for (int s = 0; s < 4; ++s) t.q[0][0][static_cast<size_t>(s) * 2 + 1] = 1;
  if (prompt_queries) {
    m.prompt_query_positions = {0, 1, 2, 3, 4, 5};
    t.pq = {{std::vector<float>(2 * 6, 0.0f), std::vector<float>(2 * 6, 0.0f)}};
    for (int h = 0; h < 2; ++h)
      for (int i = 0; i < 6; ++i) t.pq[0][static_cast<size_t>(h)][static_cast<size_t>(i) * 2] = 1;
  }
  t.validate();
  return t;
}

ReplayResult run(const TraceSource& t, const std::string& spec, int threads = 1, bool shared = false) {
  const auto policy = make_policy(spec, {shared});
  ReplayOptions o;
  o.threads = threads;
  o.keep_selections = true;
  return replay(t, *policy, o);
}

using List = std::vector<std::int32_t>;

TEST(PaperReplay, PromptAndEvictionSelectionsByHand) {
  const InMemoryTrace t = hand_trace(true);
  // head_groups 2: each head keeps its own count.
  const ReplayResult r = run(t, "paper:block=2,gpu_blocks=2,recall_blocks=0,keep_min=1,head_groups=2");
  ASSERT_TRUE(r.paper);
  EXPECT_EQ(r.paper->prompt_queries_used, 6);
  EXPECT_EQ(r.cpu_resident, (std::vector<std::int64_t>{4, 4, 6, 6}));
  EXPECT_EQ(r.paper->gpu_tokens, (std::vector<std::int64_t>{3, 4, 3, 4}));
  for (int h = 0; h < 2; ++h) {
    EXPECT_EQ(r.selections[r.head_index(0, h, 0)], (List{0, 1})) << h;
    EXPECT_EQ(r.selections[r.head_index(0, h, 1)], (List{0, 1})) << h;
  }
  EXPECT_EQ(r.selections[r.head_index(0, 0, 2)], (List{0, 1, 5}));     // the spike head keeps its spike
  EXPECT_EQ(r.selections[r.head_index(0, 1, 2)], (List{0, 1, 4, 5}));  // the uniform head keeps both
  // Growth: [layer][head][step] sparse-set sizes, and what each step's eviction kept.
  EXPECT_EQ(r.paper->sparse_set, (std::vector<std::int32_t>{2, 2, 3, 3, 2, 2, 4, 4}));
  EXPECT_EQ(r.paper->kept[1], 1);
  EXPECT_EQ(r.paper->kept[4 + 1], 2);
  EXPECT_EQ(r.paper->kept[0], 0);
  EXPECT_EQ(r.selected[r.head_index(0, 1, 3)], 4);

  // One group: both heads keep the group's largest count (2).
  const ReplayResult g = run(t, "paper:block=2,gpu_blocks=2,recall_blocks=0,keep_min=1,head_groups=1");
  EXPECT_EQ(g.selections[g.head_index(0, 0, 2)], (List{0, 1, 4, 5}));
  // keep_min 3: the prompt keeps the top 3 (w2 > w3: more prompt queries see position 2), the eviction both
  // leaving tokens (at most what leaves).
  const ReplayResult k = run(t, "paper:block=2,gpu_blocks=2,recall_blocks=0,keep_min=3,head_groups=2");
  EXPECT_EQ(k.selections[k.head_index(0, 0, 0)], (List{0, 1, 2}));
  EXPECT_EQ(k.selections[k.head_index(0, 0, 2)], (List{0, 1, 2, 4, 5}));
  // KV-head scope: one set from the mean of the two heads' weights. After step 0 s4 = 0.5 * 1/6, s5 = 0.5 * 2/3;
  // after step 1 s4 = 0.5 * 0.125 + 0.5 * 0.0833 = 0.104 < 0.125 and s5 = 0.5 * 0.625 + 0.5 * 0.333 = 0.479:
  // the shared set keeps 5 only, and both heads attend it.
  const ReplayResult kv = run(t, "paper:block=2,gpu_blocks=2,recall_blocks=0,keep_min=1,head_groups=2,scope=kv-head");
  EXPECT_EQ(kv.paper->selection_heads, 1);
  for (int h = 0; h < 2; ++h) EXPECT_EQ(kv.selections[kv.head_index(0, h, 2)], (List{0, 1, 5})) << h;
  EXPECT_EQ(kv.paper->sparse_set, (std::vector<std::int32_t>{2, 2, 3, 3}));
}

TEST(PaperReplay, OracleEqualsPaperWhereItPicksTheTrueTopAndBeatsItOtherwise) {
  const InMemoryTrace t = hand_trace(true);
  const ReplayResult r = run(t, "paper:block=2,gpu_blocks=2,recall_blocks=0,keep_min=1,head_groups=2");
  // Step 2, head 0: its set {0, 1, 5} holds the only high logit among CPU-only [0, 6) (position 5), the rest
  // tie at 0 and go to the earliest positions: the oracle picks the same set, so the figures are equal.
  const size_t i = r.head_index(0, 0, 2);
  EXPECT_EQ(r.paper->oracle_mass[i], r.mass[i]);
  EXPECT_EQ(r.paper->oracle_rel_l2[i], r.rel_l2[i]);
  EXPECT_GT(r.mass[i], 0.999);  // the spike is attended
  // Steps 0 and 1, head 0: the set {0, 1} misses nothing the oracle could take either (every CPU-only logit
  // of query (0, 1) is 0): equal. Everywhere, the oracle recovers at least the paper's mass.
  for (int h = 0; h < 2; ++h)
    for (int s = 0; s < 4; ++s) {
      const size_t j = r.head_index(0, h, s);
      EXPECT_GE(r.paper->oracle_mass[j], r.mass[j] - 1e-6) << h << " " << s;
    }
}

TEST(PaperReplay, FirstDecodeFallbackWithoutPromptQueries) {
  const InMemoryTrace t = hand_trace(false);
  std::string error;
  try {
    run(t, "paper:block=2,gpu_blocks=2,recall_blocks=0");
  } catch (const std::invalid_argument& e) {
    error = e.what();
  }
  EXPECT_NE(error.find("stores no prompt queries"), std::string::npos) << error;
  EXPECT_NE(error.find("prompt=first-decode"), std::string::npos) << error;
  // Decode step 0's queries over the prompt [0, 6): head 0's (0, 1) sees logit 20 at 5 (not leaving), 0 on
  // 0..3 (weights ~ e^-20: none counted, keep_min 1 keeps the earliest tie, 0); head 1 is uniform, 1/6 each
  // >= 0.5 / 6: all four leaving tokens counted and kept.
  const ReplayResult r = run(t, "paper:block=2,gpu_blocks=2,recall_blocks=0,keep_min=1,head_groups=2,prompt=first-decode");
  EXPECT_EQ(r.paper->prompt, "first-decode");
  EXPECT_EQ(r.paper->prompt_queries_used, 1);
  EXPECT_EQ(r.selections[r.head_index(0, 0, 0)], (List{0}));
  EXPECT_EQ(r.selections[r.head_index(0, 1, 0)], (List{0, 1, 2, 3}));
}

// ---------------------------------------------------------------- random traces against the reference

TraceMeta small_meta() {
  TraceMeta m;
  m.model_name = "test";
  m.num_layers = 2;
  m.num_q_heads = 4;
  m.num_kv_heads = 2;
  m.head_dim = 16;
  m.prompt_length = 40;
  m.decode_steps = 12;
  return m;
}

// A random trace with the queries of the last `P` prompt positions (deterministic pseudo-random values).
InMemoryTrace with_prompt_queries(std::int64_t P) {
  InMemoryTrace t = random_trace(small_meta(), 5);
  const TraceMeta& m = t.m;
  for (std::int64_t p = m.prompt_length - P; p < m.prompt_length; ++p) t.m.prompt_query_positions.push_back(p);
  t.pq.assign(static_cast<size_t>(m.num_layers), std::vector<std::vector<float>>(static_cast<size_t>(m.num_q_heads)));
  std::uint64_t x = 12345;
  for (auto& layer : t.pq)
    for (auto& head : layer) {
      head.resize(static_cast<size_t>(P * m.head_dim));
      for (float& v : head) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        v = static_cast<float>(static_cast<double>(x >> 11) / 9007199254740992.0 * 4.0 - 2.0);
      }
    }
  t.validate();
  return t;
}

ref::RowMatrix to_matrix(const std::vector<float>& rows, int d) {
  const auto n = static_cast<Eigen::Index>(rows.size() / static_cast<size_t>(d));
  ref::RowMatrix m(n, d);
  for (Eigen::Index i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) m(i, j) = rows[static_cast<size_t>(i) * d + j];
  return m;
}

Eigen::VectorXd row(const std::vector<float>& rows, std::int64_t i, int d) {
  Eigen::VectorXd q(d);
  for (int j = 0; j < d; ++j) q(j) = rows[static_cast<size_t>(i) * d + j];
  return q;
}

struct Figures {
  double rel_l2, cosine, mass;
};

Figures figures(const ref::Result& exact, const ref::Result& hgca) {
  return {(hgca.out - exact.out).norm() / exact.out.norm(), hgca.out.dot(exact.out) / (hgca.out.norm() * exact.out.norm()),
          std::min(1.0, std::exp(hgca.lse - exact.lse))};
}

void check_against_reference(const InMemoryTrace& tr, const std::string& spec) {
  SCOPED_TRACE(spec);
  const ReplayResult r = run(tr, spec, 2);
  const TraceMeta& m = tr.m;
  const int d = m.head_dim;
  for (int l = 0; l < m.num_layers; ++l)
    for (int h = 0; h < m.num_q_heads; ++h) {
      const ref::RowMatrix K = to_matrix(tr.k[l][m.kv_head_of(h)], d), V = to_matrix(tr.v[l][m.kv_head_of(h)], d);
      for (int t = 0; t < m.decode_steps; ++t) {
        const size_t i = r.head_index(l, h, t);
        const std::int64_t p = m.prompt_length + t, c = r.cpu_resident[static_cast<size_t>(t)];
        ASSERT_EQ(p + 1 - c, r.paper->gpu_tokens[static_cast<size_t>(t)]);
        const List& sel = r.selections[i];
        ASSERT_EQ(r.selected[i], static_cast<std::int32_t>(sel.size()));
        ASSERT_TRUE(std::is_sorted(sel.begin(), sel.end()));
        ASSERT_TRUE(sel.empty() || (sel.front() >= 0 && sel.back() < c));
        const Eigen::VectorXd q = row(tr.q[l][h], t, d);
        std::vector<std::int64_t> all(static_cast<size_t>(p + 1)), gpu(static_cast<size_t>(p + 1 - c));
        std::iota(all.begin(), all.end(), 0);
        std::iota(gpu.begin(), gpu.end(), c);
        const ref::Result exact = ref::attend_subset(q, K, V, all, m.softmax_scale);
        const ref::Result window = ref::attend_subset(q, K, V, gpu, m.softmax_scale);
        const std::vector<std::int64_t> cpu(sel.begin(), sel.end());
        const Figures f = figures(exact, ref::merge(window, ref::attend_subset(q, K, V, cpu, m.softmax_scale)));
        EXPECT_NEAR(r.rel_l2[i], f.rel_l2, 2e-5) << l << " " << h << " " << t;
        EXPECT_NEAR(r.cosine[i], f.cosine, 2e-5) << l << " " << h << " " << t;
        EXPECT_NEAR(r.mass[i], f.mass, 2e-5) << l << " " << h << " " << t;
        // The oracle at the same budget: the |sel| CPU-only positions of highest double logit.
        std::vector<std::int64_t> order(static_cast<size_t>(c));
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return q.dot(K.row(a)) > q.dot(K.row(b)); });
        order.resize(sel.size());
        const Figures o = figures(exact, ref::merge(window, ref::attend_subset(q, K, V, order, m.softmax_scale)));
        EXPECT_NEAR(r.paper->oracle_rel_l2[i], o.rel_l2, 2e-5) << l << " " << h << " " << t;
        EXPECT_NEAR(r.paper->oracle_mass[i], o.mass, 2e-5) << l << " " << h << " " << t;
        EXPECT_GE(r.paper->oracle_mass[i], r.mass[i] - 1e-6);
      }
    }
}

TEST(PaperReplay, MatchesTheReferenceWithRecallAndGqa) {
  const InMemoryTrace tr = with_prompt_queries(10);
  check_against_reference(tr, "paper:block=4,gpu_blocks=4,recall_blocks=1,keep_min=2,head_groups=2");
  check_against_reference(tr, "paper:block=4,gpu_blocks=3,recall_blocks=0,keep_min=1,head_groups=1,scope=kv-head");
}

// The prompt's selection from an independent double computation: mean causal weights of the stored prompt
// queries (only the last 10 of 40: their mean stands in for the prompt's), the count against beta / n with n =
// the prompt length, the group maximum and keep_min, then each head's top-k.
TEST(PaperReplay, PromptSelectionFromTheMeanWeightsOfTheStoredPromptQueries) {
  const InMemoryTrace tr = with_prompt_queries(10);
  const TraceMeta& m = tr.m;
  const ReplayResult r = run(tr, "paper:block=4,gpu_blocks=4,recall_blocks=1,keep_min=2,head_groups=2,beta=1");
  EXPECT_EQ(r.paper->prompt_queries_used, 10);
  const std::int64_t c0 = r.cpu_resident[0];
  ASSERT_EQ(c0, 40 - 12 - 4);  // 3 blocks stay in the window, 1 in recall
  const int d = m.head_dim;
  for (int l = 0; l < m.num_layers; ++l) {
    std::vector<std::vector<double>> w(4, std::vector<double>(40, 0.0));
    std::vector<std::int64_t> counts(4);
    for (int h = 0; h < 4; ++h) {
      const ref::RowMatrix K = to_matrix(tr.k[l][m.kv_head_of(h)], d);
      for (int i = 0; i < 10; ++i) {
        const std::int64_t pos = m.prompt_query_positions[static_cast<size_t>(i)];
        const Eigen::VectorXd q = row(tr.pq[l][h], i, d);
        Eigen::VectorXd s = K.topRows(pos + 1) * q * m.softmax_scale;
        const Eigen::VectorXd e = (s.array() - s.maxCoeff()).exp();
        for (std::int64_t j = 0; j <= pos; ++j) w[h][static_cast<size_t>(j)] += e(j) / e.sum() / 10.0;
      }
      counts[h] = std::count_if(w[h].begin(), w[h].begin() + c0, [](double x) { return x >= 1.0 / 40; });
    }
    for (int h = 0; h < 4; ++h) {
      const int g0 = h / 2 * 2;
      const std::int64_t k = std::min(c0, std::max<std::int64_t>(2, std::max(counts[g0], counts[g0 + 1])));
      std::vector<std::int32_t> order(static_cast<size_t>(c0));
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return w[h][a] > w[h][b]; });
      order.resize(static_cast<size_t>(k));
      std::sort(order.begin(), order.end());
      EXPECT_EQ(r.selections[r.head_index(l, h, 0)], order) << "layer " << l << " head " << h;
    }
  }
}

TEST(PaperReplay, SparseSetsOnlyGrowAndResultsDoNotDependOnThreads) {
  const InMemoryTrace tr = with_prompt_queries(10);
  const std::string spec = "paper:block=4,gpu_blocks=2,recall_blocks=1,keep_min=1,head_groups=4";
  const ReplayResult a = run(tr, spec, 1), b = run(tr, spec, 2);
  EXPECT_EQ(a.rel_l2, b.rel_l2);
  EXPECT_EQ(a.paper->oracle_mass, b.paper->oracle_mass);
  EXPECT_EQ(a.paper->sparse_set, b.paper->sparse_set);
  const TraceMeta& m = tr.m;
  bool grew = false;
  for (int l = 0; l < m.num_layers; ++l)
    for (int h = 0; h < m.num_q_heads; ++h)
      for (int t = 1; t < m.decode_steps; ++t) {
        const size_t i = a.paper->set_index(l, h, t, m.decode_steps);
        // A set grows by exactly what the previous step's eviction kept, and its old entries stay.
        EXPECT_EQ(a.paper->sparse_set[i], a.paper->sparse_set[i - 1] + a.paper->kept[i - 1]);
        const List& before = a.selections[a.head_index(l, h, t - 1)];
        const List& now = a.selections[a.head_index(l, h, t)];
        EXPECT_TRUE(std::includes(now.begin(), now.end(), before.begin(), before.end()));
        grew = grew || now.size() > before.size();
      }
  EXPECT_TRUE(grew);  // window 8, recall 4: an eviction every 4 steps
}

// ---------------------------------------------------------------- files and the simulator's profile reader

TEST(PaperReplay, ResultsFileAndProfile) {
  const InMemoryTrace tr = with_prompt_queries(10);
  const ReplayResult r = run(tr, "paper:block=4,gpu_blocks=2,recall_blocks=1,keep_min=1");
  const auto dir = std::filesystem::temp_directory_path() / ("hgca-paper-replay-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string results = (dir / "r.h5").string(), profile = (dir / "p.h5").string();
  write_replay_results(r, results, "mem");
  write_selection_profile(r, profile, "mem");
  {
    H5::H5File f(results, H5F_ACC_RDONLY);
    H5::DataSet ds = f.openDataSet("paper/sparse_set");
    hsize_t dims[3];
    ds.getSpace().getSimpleExtentDims(dims);
    EXPECT_EQ(dims[0], 2u);
    EXPECT_EQ(dims[1], 4u);
    EXPECT_EQ(dims[2], 12u);
    std::vector<std::int32_t> sets(dims[0] * dims[1] * dims[2]);
    ds.read(sets.data(), H5::PredType::NATIVE_INT32);
    EXPECT_EQ(sets, r.paper->sparse_set);
    std::vector<float> om(sets.size());
    f.openDataSet("paper/oracle_mass").read(om.data(), H5::PredType::NATIVE_FLOAT);
    EXPECT_EQ(om, r.paper->oracle_mass);
  }
  // The profile carries each head's keep rate: its sparse set over the CPU-only tokens, summed over steps.
  ModelShape shape;
  shape.layers = 2;
  shape.q_heads = 4;
  shape.kv_heads = 2;
  const SelectionProfile p = read_selection_profile_file(profile, shape);
  for (int l = 0; l < 2; ++l)
    for (int h = 0; h < 4; ++h) {
      double set = 0, cpu = 0;
      for (int t = 0; t < 12; ++t) {
        set += r.paper->sparse_set[r.paper->set_index(l, h, t, 12)];
        cpu += static_cast<double>(r.cpu_resident[static_cast<size_t>(t)]);
      }
      EXPECT_DOUBLE_EQ(p.fraction[static_cast<size_t>(l * 4 + h)], set / cpu);
    }
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------- bad specs and options

std::string spec_error(const std::string& spec, bool shared = false) {
  try {
    make_policy(spec, {shared});
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

TEST(PaperReplay, RejectsBadSpecsAndOptions) {
  EXPECT_NE(spec_error("paper:alpha=0").find("alpha=0 is out of range"), std::string::npos);
  EXPECT_NE(spec_error("paper:beta=-1").find("beta=-1 is out of range"), std::string::npos);
  EXPECT_NE(spec_error("paper:block=0").find("block=0 is out of range"), std::string::npos);
  EXPECT_NE(spec_error("paper:scope=layer").find("scope=layer is not one of q-head | kv-head"), std::string::npos);
  EXPECT_NE(spec_error("paper:prompt=recent").find("is not one of queries | first-decode"), std::string::npos);
  EXPECT_NE(spec_error("paper:k=4").find("unknown key \"k\" for paper"), std::string::npos);
  EXPECT_NE(spec_error("paper:scope=q-head", true).find("contradicts --shared-kv"), std::string::npos);
  EXPECT_EQ(make_policy("paper", {true})->spec(),
            "paper:alpha=0.5,beta=0.5,keep_min=10,head_groups=4,block=64,gpu_blocks=16,recall_blocks=2,scope=kv-head,"
            "threshold=attended,prompt=queries");

  const InMemoryTrace tr = with_prompt_queries(4);
  auto error = [&](const std::string& spec, std::int64_t window, std::int64_t sinks) -> std::string {
    ReplayOptions o;
    o.window = window;
    o.sinks = sinks;
    try {
      replay(tr, *make_policy(spec), o);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_NE(error("paper:block=4,gpu_blocks=2", 5, 0).find("--window 5 does not apply to policy paper"), std::string::npos);
  EXPECT_EQ(error("paper:block=4,gpu_blocks=2", 8, 0), "accepted");  // the spec's own window
  EXPECT_NE(error("paper:block=4,gpu_blocks=2", 0, 2).find("--sinks does not apply"), std::string::npos);
  EXPECT_NE(error("paper:block=8,gpu_blocks=8,recall_blocks=0", 0, 0).find("nothing is ever CPU-resident"), std::string::npos);
}

}  // namespace
}  // namespace hgca::traces
