// Every policy on small hand-made cases whose answer can be worked out on paper.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "traces/policies/policy.hpp"
#include "traces/policies/selection_rules.hpp"

namespace hgca::traces {
namespace {

using List = std::vector<std::int32_t>;

// One step of one KV group with logits given per head over positions [0, position].
struct Step {
  std::vector<std::vector<float>> logits;
  std::vector<const float*> ptrs;
  std::vector<float> q;
  std::vector<std::int64_t> budgets;
  StepView v;

  Step(std::vector<std::vector<float>> per_head, std::int64_t begin, std::int64_t end, int step = 0)
      : logits(std::move(per_head)) {
    for (const auto& l : logits) ptrs.push_back(l.data());
    v.group = static_cast<int>(logits.size());
    v.q_heads = v.group;
    v.step = step;
    v.position = static_cast<std::int64_t>(logits[0].size()) - 1;
    v.begin = begin;
    v.end = end;
    v.head_dim = 1;
    v.scale = 1;
    q.assign(logits.size(), 0.0f);
    v.q = q;
    v.logits = ptrs;
  }
};

GroupSelection run(const Policy& p, Step& s) {
  GroupSelection out;
  p.make_selector(0, 0, s.v.group)->select(s.v, out);
  return out;
}

std::vector<float> logs(std::initializer_list<double> probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
  return l;
}

TEST(TopK, PicksTheHighestLogitsPerHeadAmongTheCandidates) {
  // positions 0..5; candidates [1, 5): logits 5, 1, 4, 3 for head 0 and 1, 6, 2, 0 for head 1
  Step s({{9, 5, 1, 4, 3, 9}, {9, 1, 6, 2, 0, 9}}, 1, 5);
  const auto sel = run(*make_policy("topk:k=2"), s);
  EXPECT_EQ(sel.heads[0], (List{1, 3}));
  EXPECT_EQ(sel.heads[1], (List{2, 3}));
  EXPECT_EQ(sel.cost.keys_scored, 4);  // one key scan per group
  EXPECT_EQ(sel.cost.indices, 4);
  EXPECT_EQ(run(*make_policy("topk:frac=0.3"), s).heads[0], (List{1, 3}));  // ceil(0.3 * 4) = 2
  EXPECT_EQ(run(*make_policy("topk:frac=0.25"), s).heads[0], (List{1}));   // exactly 1, not rounded up to 2
  EXPECT_EQ(run(*make_policy("topk:k=100"), s).heads[0], (List{1, 2, 3, 4}));
  Step none({{1, 2, 3}}, 1, 1);  // no candidates
  EXPECT_TRUE(run(*make_policy("topk:k=2"), none).heads[0].empty());
}

TEST(TopK, SharedSelectionBySummedWeightsOrUnion) {
  // candidates are positions 0..2; head 0 puts 0.9 on position 0, head 1 prefers 1 then 2.
  Step s({logs({0.9, 0.05, 0.05, 0.5}), logs({0.1, 0.6, 0.3, 0.5})}, 0, 3);
  // averaged normalized weights over the candidates: 0.5, 0.325, 0.175
  auto sum1 = run(*make_policy("topk:k=1", {true}), s);
  EXPECT_EQ(sum1.heads[0], (List{0}));
  EXPECT_EQ(sum1.heads[1], (List{0}));
  EXPECT_EQ(sum1.cost.indices, 1);  // one shared list
  EXPECT_EQ(run(*make_policy("topk:k=2", {true}), s).heads[1], (List{0, 1}));
  auto uni = run(*make_policy("topk:k=1,share=union", {true}), s);
  EXPECT_EQ(uni.heads[0], (List{0, 1}));
  EXPECT_EQ(uni.heads[1], (List{0, 1}));
}

TEST(TopP, SmallestSetHoldingTheShare) {
  Step s({logs({0.5, 0.3, 0.15, 0.05, 0.7})}, 0, 4);  // position 4 is in the window: not a candidate
  EXPECT_EQ(run(*make_policy("topp:p=0.75"), s).heads[0], (List{0, 1}));
  EXPECT_EQ(run(*make_policy("topp:p=0.85"), s).heads[0], (List{0, 1, 2}));
  EXPECT_EQ(run(*make_policy("topp:p=0.4"), s).heads[0], (List{0}));
  EXPECT_EQ(run(*make_policy("topp:p=1"), s).heads[0], (List{0, 1, 2, 3}));
  EXPECT_EQ(run(*make_policy("topp:p=0.85,max=2"), s).heads[0], (List{0, 1}));
}

TEST(TopP, MatchesASortedReferenceOnLargeInputs) {
  // Many candidates exercise the successive-halving path; the reference sorts.
  std::vector<float> w(3000);
  std::uint64_t x = 12345;
  for (float& v : w) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    v = static_cast<float>((x >> 33) % 100000) / 8000.0f;  // logits in [0, 12.5), with ties
  }
  std::vector<double> prob;
  detail::softmax(w, prob);
  std::vector<std::int32_t> order(w.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return prob[a] > prob[b]; });
  const double total = std::accumulate(prob.begin(), prob.end(), 0.0);
  for (double p : {0.1, 0.5, 0.9, 0.99}) {
    size_t k = 0;
    double acc = 0;
    while (acc < p * total) acc += prob[order[k++]];
    List want(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k));
    std::sort(want.begin(), want.end());
    List got;
    detail::RuleScratch scratch;
    detail::smallest_mass(w, p, got, scratch);
    EXPECT_EQ(got.size(), want.size()) << p;
    // Equal weights may be exchanged at the boundary; the mass must be the reference's.
    double got_mass = 0;
    for (auto i : got) got_mass += prob[i];
    EXPECT_GE(got_mass, p * total - 1e-12) << p;
    EXPECT_NEAR(got_mass, acc, 1e-12) << p;
  }
}

TEST(Threshold, EveryEntryAboveTheNormalizedWeight) {
  Step s({logs({0.5, 0.3, 0.15, 0.05, 0.9})}, 0, 4);
  EXPECT_EQ(run(*make_policy("threshold:t=0.1"), s).heads[0], (List{0, 1, 2}));
  EXPECT_EQ(run(*make_policy("threshold:t=0.4"), s).heads[0], (List{0}));
  EXPECT_TRUE(run(*make_policy("threshold:t=0.6"), s).heads[0].empty());
  EXPECT_EQ(run(*make_policy("threshold:t=0.1,max=1"), s).heads[0], (List{0}));
}

TEST(Block, RanksBlocksByUpperBoundsAndNeverLooksPastTheCpuPart) {
  // 12 positions, head_dim 2, blocks of 4. Query (1, 0): a block's bound is max over its keys' first element.
  // Block 0 keys reach 0.5, block 1 reaches 3, block 2's CPU-resident rows (8, 9) reach 1, but rows 10 and 11
  // (still in the window) hold 100: a bound over the whole block would wrongly rank it first.
  kernels::KvStore kv(kernels::KvType::f32, 1, 2, {12});
  const float first[12] = {0.1f, 0.5f, 0.2f, 0.3f, 0.0f, 3.0f, -1.0f, 0.5f, 1.0f, 0.2f, 100.0f, 100.0f};
  for (int t = 0; t < 12; ++t) {
    const float row[2] = {first[t], static_cast<float>(t % 3) - 1.0f};
    kv.set_key(0, 0, t, row);
  }
  const kernels::BlockSummaries sums = kernels::summarize_blocks(kv, 0, 0, 4);
  const std::vector<float> q = {1.0f, 0.0f};
  StepView v;
  v.group = 1;
  v.q_heads = 1;
  v.position = 11;
  v.begin = 0;
  v.end = 10;
  v.head_dim = 2;
  v.scale = 1;
  v.q = q;
  v.kv = &kv;
  v.summaries = &sums;
  GroupSelection sel;
  make_policy("block:size=4,k=1")->make_selector(0, 0, 1)->select(v, sel);
  EXPECT_EQ(sel.heads[0], (List{4, 5, 6, 7}));
  EXPECT_EQ(sel.cost.summary_rows, 6);  // 3 candidate blocks x (min, max)
  EXPECT_EQ(sel.cost.keys_scored, 0);
  EXPECT_EQ(sel.cost.indices, 1);  // one block index
  make_policy("block:size=4,k=2")->make_selector(0, 0, 1)->select(v, sel);
  EXPECT_EQ(sel.heads[0], (List{4, 5, 6, 7, 8, 9}));  // block 2 clipped to the CPU-resident rows
  v.begin = 2;                                          // two sinks on the GPU: block 0 is clipped too
  make_policy("block:size=4,frac=1")->make_selector(0, 0, 1)->select(v, sel);
  EXPECT_EQ(sel.heads[0], (List{2, 3, 4, 5, 6, 7, 8, 9}));
  // frac of the candidate blocks, rounded up: ceil(0.5 * 3) = 2
  v.begin = 0;
  make_policy("block:size=4,frac=0.5")->make_selector(0, 0, 1)->select(v, sel);
  EXPECT_EQ(sel.heads[0], (List{4, 5, 6, 7, 8, 9}));
}

TEST(H2O, AccumulatesWhatWasAttendedAndPrefersRecentTies) {
  const auto policy = make_policy("h2o:k=2");
  auto selector = policy->make_selector(0, 0, 1);
  GroupSelection sel;
  // Step 0: nothing accumulated yet; ties go to the most recent candidates.
  Step s0({{0, 0, 3, 0, 2, 1}}, 0, 4);
  selector->select(s0.v, sel);
  EXPECT_EQ(sel.heads[0], (List{2, 3}));
  EXPECT_EQ(sel.cost.state_entries, 4);
  // The head attended window {4, 5} and its selection {2, 3}; with lse 4 they gain exp(s - 4).
  const List window = {4, 5};
  const std::vector<float> lse = {4.0f};
  selector->observe(s0.v, sel, StepOutcome{window, lse});
  // Step 1: candidates 0..4; accumulated 0, 0, e^-1, e^-4, e^-2 -> positions 2 and 4.
  Step s1({{0, 0, 3, 0, 2, 1, 0}}, 0, 5, 1);
  selector->select(s1.v, sel);
  EXPECT_EQ(sel.heads[0], (List{2, 4}));
  // budget= is a fraction of the candidates: ceil(0.5 * 5) = 3 -> 2, 4, then 3 (e^-4 beats the zeros)
  auto frac = make_policy("h2o:budget=0.5")->make_selector(0, 0, 1);
  frac->select(s0.v, sel);
  frac->observe(s0.v, sel, StepOutcome{window, lse});
  frac->select(s1.v, sel);
  EXPECT_EQ(sel.heads[0], (List{2, 3, 4}));
}

TEST(Sinks, OldestAndNewestCandidatesOnly) {
  Step s({std::vector<float>(12, 0.0f), std::vector<float>(12, 0.0f)}, 3, 10);
  auto sel = run(*make_policy("sinks:n=2,recent=1"), s);
  EXPECT_EQ(sel.heads[0], (List{3, 4, 9}));
  EXPECT_EQ(sel.heads[1], (List{3, 4, 9}));
  EXPECT_EQ(sel.cost.indices, 3);
  EXPECT_EQ(run(*make_policy("sinks:n=5,recent=5"), s).heads[0], (List{3, 4, 5, 6, 7, 8, 9}));  // no repeats
  EXPECT_TRUE(run(*make_policy("sinks"), s).heads[0].empty());
}

TEST(Random, SeededDistinctInRangeAndUniform) {
  const auto p = make_policy("random:k=10,seed=7");
  std::map<std::int32_t, int> count;
  List first;
  for (int step = 0; step < 400; ++step) {
    Step s({std::vector<float>(60, 0.0f), std::vector<float>(60, 0.0f)}, 5, 55, step);
    const auto sel = run(*p, s);
    for (const auto& h : sel.heads) {
      ASSERT_EQ(h.size(), 10u);
      EXPECT_TRUE(std::is_sorted(h.begin(), h.end()));
      EXPECT_EQ(std::set<std::int32_t>(h.begin(), h.end()).size(), 10u);
      for (auto j : h) {
        EXPECT_GE(j, 5);
        EXPECT_LT(j, 55);
        ++count[j];
      }
    }
    EXPECT_NE(sel.heads[0], sel.heads[1]);  // heads draw independently
    EXPECT_EQ(run(*p, s).heads[0], sel.heads[0]);  // same seed, layer, head, step: same draw
    if (step == 0) first = sel.heads[0];
  }
  EXPECT_EQ(count.size(), 50u);
  for (const auto& [j, c] : count) EXPECT_NEAR(c, 160, 50) << j;  // 400 steps x 2 heads x 10 / 50
  Step s0({std::vector<float>(60, 0.0f), std::vector<float>(60, 0.0f)}, 5, 55, 0);
  EXPECT_NE(run(*make_policy("random:k=10,seed=8"), s0).heads[0], first);
  const auto shared = run(*make_policy("random:frac=0.1", {true}), s0);
  EXPECT_EQ(shared.heads[0].size(), 5u);
  EXPECT_EQ(shared.heads[0], shared.heads[1]);
}

TEST(Oracle, SpendsTheLayerBudgetWhereTheMassIs) {
  // One layer of two query heads (one KV group). Head 0 is focused, head 1 diffuse; 4 candidates, window at 4.
  // Full-attention weights (window included) decide: head 0: 0.6 on position 1, head 1: 0.24 on each.
  Step s({logs({0.05, 0.6, 0.05, 0.05, 0.25}), logs({0.24, 0.24, 0.24, 0.24, 0.04})}, 0, 4);
  const auto p = make_policy("oracle:k=2");  // layer total 4 entries
  const BudgetPlanner* planner = p->planner();
  ASSERT_NE(planner, nullptr);
  std::vector<float> r0, r1;
  planner->measure(s.v, 0, r0);
  planner->measure(s.v, 1, r1);
  const std::vector<const std::vector<float>*> recs = {&r0, &r1};
  std::vector<std::int64_t> b(2);
  planner->plan(4, recs, b);
  // Best 4 weights of the 8: 0.6 (head 0), then 0.24 x 4 (head 1) of which the first 3 fit.
  EXPECT_EQ(b, (std::vector<std::int64_t>{1, 3}));
  s.v.budgets = b;
  const auto sel = run(*p, s);
  EXPECT_EQ(sel.heads[0], (List{1}));
  EXPECT_EQ(sel.heads[1], (List{0, 1, 2}));  // equal logits: lower positions first
  // --shared-kv does not make the oracle share: it stays the per-head upper bound.
  EXPECT_EQ(make_policy("oracle:k=2", {true})->spec(), "oracle:k=2");
}

TEST(TopKAdaptive, BudgetFollowsEachHeadsEffectiveSupport) {
  // Head 0 is flat over 4 candidates (exp(entropy) = 4), head 1 one-hot (1): a total of 2 x 2 = 4 entries
  // splits 3.2 : 0.8 -> 3 and 1 by largest remainder.
  Step s({{0, 0, 0, 0, 0}, {0, -1e9f, -1e9f, -1e9f, 0}}, 0, 4);
  const auto p = make_policy("topk:k=2,adapt=entropy");
  std::vector<float> r0, r1;
  p->planner()->measure(s.v, 0, r0);
  p->planner()->measure(s.v, 1, r1);
  ASSERT_EQ(r0.size(), 1u);
  EXPECT_NEAR(r0[0], std::log(4.0), 1e-6);
  EXPECT_NEAR(r1[0], 0.0, 1e-6);
  const std::vector<const std::vector<float>*> recs = {&r0, &r1};
  std::vector<std::int64_t> b(2);
  p->planner()->plan(4, recs, b);
  EXPECT_EQ(b, (std::vector<std::int64_t>{3, 1}));
  s.v.budgets = b;
  const auto sel = run(*p, s);
  EXPECT_EQ(sel.heads[0], (List{0, 1, 2}));
  EXPECT_EQ(sel.heads[1], (List{0}));
}

TEST(Distribute, ProportionalCappedLargestRemainder) {
  std::vector<std::int64_t> out(3);
  detail::distribute(10, std::vector<double>{1, 1, 2}, 100, out);
  EXPECT_EQ(out, (std::vector<std::int64_t>{3, 2, 5}));  // 2.5, 2.5, 5: the tie goes to the lower head
  std::vector<std::int64_t> two(2);
  detail::distribute(10, std::vector<double>{1, 100}, 6, two);
  EXPECT_EQ(two, (std::vector<std::int64_t>{4, 6}));  // capped head's excess goes to the other
  detail::distribute(100, std::vector<double>{1, 1}, 6, two);
  EXPECT_EQ(two, (std::vector<std::int64_t>{6, 6}));  // never above the cap
  detail::distribute(5, std::vector<double>{0, 0}, 10, two);
  EXPECT_EQ(two, (std::vector<std::int64_t>{3, 2}));  // no information: equal shares
}

}  // namespace
}  // namespace hgca::traces
