// The authors' mechanism (sim/policy/paper_selection.hpp) on hand-made score sequences, against hand
// computations written out in the comments: block eviction, smoothing, threshold, group maximum, keep_min,
// the recall buffer and reselection on a multi-token append.
#include <gtest/gtest.h>

#include <stdexcept>

#include "sim/policy/paper_selection.hpp"

namespace hgca::paper {
namespace {

using Pos = std::vector<int64_t>;

PaperSpec spec(int64_t block, int gpu_blocks, int recall_blocks, double alpha, double beta, int groups, int64_t keep_min) {
  PaperSpec p;
  p.block_size = block;
  p.gpu_blocks = gpu_blocks;
  p.recall_blocks = recall_blocks;
  p.alpha = alpha;
  p.beta = beta;
  p.head_groups = groups;
  p.keep_min = keep_min;
  return p;
}

TEST(PaperSelection, WindowEvictsWholeBlocksBeforeReachingCapacity) {
  // Block 4, capacity 8, recall 4.
  BlockWindow w(spec(4, 2, 1, 0.5, 0.5, 1, 0));
  EXPECT_EQ(w.append(7).left_window, 0);  // 7 < 8: kept
  EXPECT_EQ(w.window(), 7);
  const BlockMove m = w.append(1);  // 7 + 1 = 8 reaches capacity: floor(0 / 4 + 1) * 4 = 4 leave
  EXPECT_EQ(m.left_window, 4);
  EXPECT_EQ(m.left_recall, 0);  // the recall region takes them
  EXPECT_EQ(w.window(), 4);
  EXPECT_EQ(w.recall(), 4);
  for (int i = 0; i < 3; ++i) w.append(1);  // window 7
  const BlockMove m2 = w.append(1);         // 4 more leave the window; the 4 oldest leave the recall region
  EXPECT_EQ(m2.left_window, 4);
  EXPECT_EQ(m2.left_recall, 4);
  EXPECT_EQ(w.cpu_only(), 4);
  EXPECT_EQ(w.recall(), 4);
  EXPECT_EQ(w.window(), 4);
  // A 21-token prompt from empty: floor((21 - 8) / 4 + 1) * 4 = 16 leave; 12 of them overflow the recall.
  BlockWindow p(spec(4, 2, 1, 0.5, 0.5, 1, 0));
  const BlockMove pm = p.append(21);
  EXPECT_EQ(pm.left_window, 16);
  EXPECT_EQ(pm.left_recall, 12);
  EXPECT_EQ(p.window(), 5);
  EXPECT_EQ(p.recall(), 4);
  EXPECT_EQ(p.cpu_only(), 12);
}

TEST(PaperSelection, GroupKeepTakesTheGroupMaximumAndKeepMin) {
  const std::vector<int64_t> counts = {1, 5, 0, 2};
  EXPECT_EQ(group_keep(counts, 2, 3, 10), (Pos{5, 5, 3, 3}));  // groups {0,1} max 5; {2,3} max 2 < keep_min
  EXPECT_EQ(group_keep(counts, 2, 3, 4), (Pos{4, 4, 3, 3}));   // never more than the tokens available
  EXPECT_EQ(group_keep(counts, 1, 0, 10), (Pos{5, 5, 5, 5}));
  EXPECT_EQ(group_keep(counts, 4, 0, 10), counts);  // one head per group: its own count
  // Uneven split: 3 heads in 2 groups gives {0} and {1, 2}.
  EXPECT_EQ(group_keep(std::vector<int64_t>{4, 1, 2}, 2, 0, 10), (Pos{4, 2, 2}));
}

TEST(PaperSelection, TopKBreaksTiesTowardsEarlierPositions) {
  const std::vector<double> s = {0.5, 0.9, 0.5, 0.1};
  EXPECT_EQ(top_k(s, 2), (Pos{0, 1}));
  EXPECT_EQ(top_k(s, 3), (Pos{0, 1, 2}));
  EXPECT_EQ(top_k(s, 0), Pos{});
  EXPECT_EQ(top_k(s, 9), (Pos{0, 1, 2, 3}));
  EXPECT_EQ(count_at_least(s, 0.5), 3);
}

TEST(PaperSelection, DecodeSmoothsScoresAndSelectsAtEviction) {
  // One head, block 2, capacity 4, no recall, alpha 0.5, beta 1.4, keep_min 0.
  PaperSelector sel(spec(2, 2, 0, 0.5, 1.4, 1, 0), 1);
  sel.decode({{1.0}});            // s = [1.0]
  sel.decode({{0.2, 0.8}});       // s = [0.6, 0.8]
  sel.decode({{0.1, 0.3, 0.6}});  // s = [0.35, 0.55, 0.6]
  EXPECT_DOUBLE_EQ(sel.scores(0)[0], 0.35);
  EXPECT_DOUBLE_EQ(sel.scores(0)[1], 0.55);
  EXPECT_DOUBLE_EQ(sel.scores(0)[2], 0.6);
  EXPECT_TRUE(sel.kept(0).empty());
  // Fourth token: s = [0.375, 0.325, 0.4, 0.3]; the window (3 + 1 = 4) evicts a block: positions 0 and 1.
  // n = 4 attended, threshold 1.4 / 4 = 0.35: only position 0 qualifies, so k = 1 and the top-1 is 0.
  sel.decode({{0.4, 0.1, 0.2, 0.3}});
  EXPECT_EQ(sel.kept(0), (Pos{0}));
  EXPECT_EQ(sel.last_keep(), (Pos{1}));
  ASSERT_EQ(sel.scores(0).size(), 2u);
  EXPECT_DOUBLE_EQ(sel.scores(0)[0], 0.4);
  EXPECT_DOUBLE_EQ(sel.scores(0)[1], 0.3);
  EXPECT_EQ(sel.layout().cpu_only(), 2);
  EXPECT_EQ(sel.layout().window(), 2);
}

TEST(PaperSelection, ThresholdOverTheWholeContextIsAnOption) {
  // Same sequence with n = the context (4 tokens here equals the attended 4), then one more eviction where they
  // differ: 2 CPU-only + 4 attended.
  PaperSpec p = spec(2, 2, 0, 0.5, 1.4, 1, 0);
  p.threshold_over = PaperThresholdBase::Context;
  PaperSelector sel(p, 1);
  sel.decode({{1.0}});
  sel.decode({{0.2, 0.8}});
  sel.decode({{0.1, 0.3, 0.6}});
  sel.decode({{0.4, 0.1, 0.2, 0.3}});
  EXPECT_EQ(sel.kept(0), (Pos{0}));
  // s = [0.4, 0.3] for positions 2, 3. Token 5: a = [0.3, 0.3, 0.4] -> s = [0.35, 0.3, 0.4].
  sel.decode({{0.3, 0.3, 0.4}});
  // Token 6: a = [0.2, 0.3, 0.3, 0.2] -> s = [0.275, 0.3, 0.35, 0.2]; window 3 + 1 evicts positions 2, 3.
  // Context 6: threshold 1.4 / 6 = 0.2333: both qualify, k = 2. (Attended n = 4 would give 0.35: none, k = 0.)
  sel.decode({{0.2, 0.3, 0.3, 0.2}});
  EXPECT_EQ(sel.kept(0), (Pos{0, 2, 3}));
}

TEST(PaperSelection, RecallBufferDefersSelectionAndKeepsSmoothing) {
  // One head, block 2, capacity 2, one recall block; alpha 0.5, beta 1, keep_min 0.
  PaperSelector sel(spec(2, 1, 1, 0.5, 1.0, 1, 0), 1);
  sel.decode({{1.0}});       // window 1
  sel.decode({{0.5, 0.5}});  // s = [0.75, 0.5]; 1 + 1 reaches capacity 2: both leave the window for recall
  EXPECT_EQ(sel.layout().recall(), 2);
  EXPECT_EQ(sel.layout().window(), 0);
  EXPECT_TRUE(sel.kept(0).empty());  // nothing selected yet: the recall region is still attended on the GPU
  sel.decode({{0.1, 0.2, 0.7}});           // s = [0.425, 0.35, 0.7]
  sel.decode({{0.02, 0.3, 0.38, 0.3}});    // s = [0.2225, 0.325, 0.54, 0.3]; positions 0, 1 leave the recall
  // n = 4 attended, threshold 0.25: position 1 only (0.325), k = 1, top-1 = position 1. At window exit the
  // ranking was the opposite (0.75 > 0.5): the recall region keeps scoring.
  EXPECT_EQ(sel.kept(0), (Pos{1}));
  EXPECT_EQ(sel.layout().cpu_only(), 2);
  EXPECT_EQ(sel.layout().recall(), 2);
  ASSERT_EQ(sel.scores(0).size(), 2u);
  EXPECT_NEAR(sel.scores(0)[0], 0.54, 1e-15);
  EXPECT_NEAR(sel.scores(0)[1], 0.3, 1e-15);
}

TEST(PaperSelection, PromptSelectionUsesGroupMaximumAndKeepMin) {
  // 4 heads in 2 groups, keep_min 1, block 4, capacity 4, no recall, beta 1. A 4-token prompt reaches the
  // capacity, so the whole block leaves; threshold 1 / 4 = 0.25 over the mean weights.
  PaperSelector sel(spec(4, 1, 0, 0.5, 1.0, 2, 1), 4);
  sel.append(4,
             {{0.4, 0.3, 0.2, 0.1},      // count 2
              {0.25, 0.25, 0.25, 0.25},  // count 4 -> group {0, 1} keeps 4 each
              {0.1, 0.1, 0.1, 0.7},      // count 1
              {0.2, 0.2, 0.3, 0.3}},     // count 2 -> group {2, 3} keeps 2 each
             {});
  EXPECT_EQ(sel.kept(0), (Pos{0, 1, 2, 3}));
  EXPECT_EQ(sel.kept(1), (Pos{0, 1, 2, 3}));
  EXPECT_EQ(sel.kept(2), (Pos{0, 3}));  // 0.7, then the earliest of the tied 0.1s
  EXPECT_EQ(sel.kept(3), (Pos{2, 3}));
  EXPECT_EQ(sel.last_keep(), (Pos{4, 4, 2, 2}));
  EXPECT_EQ(sel.layout().cpu_only(), 4);
  EXPECT_EQ(sel.layout().window(), 0);
}

TEST(PaperSelection, MultiTokenAppendReselectsFromTheCpuSideAttention) {
  PaperSelector sel(spec(4, 1, 0, 0.5, 1.0, 2, 1), 4);
  sel.append(4, {{0.4, 0.3, 0.2, 0.1}, {0.25, 0.25, 0.25, 0.25}, {0.1, 0.1, 0.1, 0.7}, {0.2, 0.2, 0.3, 0.3}}, {});
  // A new turn of 2 tokens: 0 + 2 < 4 stay in the window. The CPU side's mean weights over the 4 CPU-only
  // tokens, threshold 1 / 4: counts 1, 3 (group max 3), 1, 4 (group max 4).
  sel.append(2, {{0.5, 0.5}, {0.5, 0.5}, {0.5, 0.5}, {0.5, 0.5}},
             {{0.1, 0.6, 0.2, 0.1}, {0.3, 0.3, 0.3, 0.1}, {0.05, 0.05, 0.05, 0.85}, {0.25, 0.25, 0.25, 0.25}});
  EXPECT_EQ(sel.kept(0), (Pos{0, 1, 2}));  // top-3: 0.6, 0.2, then the earlier 0.1
  EXPECT_EQ(sel.kept(1), (Pos{0, 1, 2}));
  EXPECT_EQ(sel.kept(2), (Pos{0, 1, 2, 3}));
  EXPECT_EQ(sel.kept(3), (Pos{0, 1, 2, 3}));
  EXPECT_EQ(sel.last_keep(), (Pos{3, 3, 4, 4}));
  EXPECT_EQ(sel.layout().window(), 2);
  EXPECT_EQ(sel.scores(0), (std::vector<double>{0.5, 0.5}));  // replaced, not smoothed
}

TEST(PaperSelection, RejectsWeightsOfTheWrongShape) {
  PaperSelector sel(spec(4, 1, 0, 0.5, 1.0, 1, 0), 2);
  EXPECT_THROW(sel.decode({{1.0}}), std::invalid_argument);             // one head, two expected
  EXPECT_THROW(sel.decode({{1.0, 0.0}, {1.0}}), std::invalid_argument);  // two positions, one expected
  EXPECT_THROW(sel.append(2, {{0.5, 0.5}, {0.5, 0.5}}, {{1.0}, {1.0}}), std::invalid_argument);  // no CPU tokens
  EXPECT_THROW(PaperSelector(spec(4, 1, 0, 0.5, 1.0, 1, 0), 0), std::invalid_argument);
}

}  // namespace
}  // namespace hgca::paper
