#include <gtest/gtest.h>

#include "sim/config/loader.hpp"
#include "sim/results/run_codec.hpp"
#include "sim/sweep/run_sweep.hpp"
#include "tests/results/scratch_dir.hpp"

namespace hgca {
namespace {

std::vector<Experiment> quickstart_points() {
  LoadOptions lo;
  lo.overrides = {"workload.decode=2", "workload.prefill_chunk=8192"};
  return load_experiment(std::string(HGCA_SOURCE_DIR) + "/experiments/quickstart.yaml", lo);
}

// Everything but the host wall time, bit for bit.
std::vector<std::string> fingerprints(std::vector<RunResult> runs) {
  std::vector<std::string> out;
  for (auto& r : runs) {
    r.wall_s = 0;
    out.push_back(encode_run(r));
  }
  return out;
}

SweepOutcome sweep(const std::vector<Experiment>& points, int jobs, const std::string& journal = "",
                   Journal::Mode mode = Journal::Mode::Refuse) {
  Cluster single;
  SweepOptions o;
  o.jobs = jobs;
  o.journal_path = journal;
  o.journal_mode = mode;
  o.tool_version = "test";
  return run_sweep(points, o, single);
}

TEST(RunSweep, ResultsAreInPointOrderAndTheSameForAnyThreadCount) {
  const auto points = quickstart_points();
  const auto one = sweep(points, 1);
  ASSERT_EQ(one.runs.size(), points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(one.runs[i].point_label, points[i].point_label);
    EXPECT_FALSE(one.runs[i].parameters.empty());
  }
  EXPECT_EQ(fingerprints(one.runs), fingerprints(sweep(points, 3).runs));
}

TEST(RunSweep, AResumedSweepReusesFinishedPointsAndEqualsAnUninterruptedOne) {
  test::ScratchDir dir("run-sweep");
  const std::string journal = dir.file("r.h5.journal");
  const auto points = quickstart_points();
  // "Interrupted" after the first 11 points: they are in the journal.
  const std::vector<Experiment> first(points.begin(), points.begin() + 11);
  EXPECT_EQ(sweep(first, 2, journal).journal->records(), 11u);
  auto resumed = sweep(points, 2, journal, Journal::Mode::Resume);
  EXPECT_EQ(resumed.reused, 11u);
  EXPECT_EQ(resumed.journal->records(), points.size());
  EXPECT_EQ(fingerprints(resumed.runs), fingerprints(sweep(points, 1).runs));
  resumed.journal.reset();  // closes it (one sweep per journal at a time)
  // A changed configuration is not taken from the journal.
  LoadOptions lo;
  lo.overrides = {"workload.decode=3", "workload.prefill_chunk=8192"};
  const auto changed = load_experiment(std::string(HGCA_SOURCE_DIR) + "/experiments/quickstart.yaml", lo);
  EXPECT_EQ(sweep(changed, 2, journal, Journal::Mode::Resume).reused, 0u);
}

TEST(RunSweep, AnExistingJournalMustBeChosenExplicitly) {
  test::ScratchDir dir("run-sweep");
  const std::string journal = dir.file("r.h5.journal");
  const auto points = quickstart_points();
  sweep({points.front()}, 1, journal);
  try {
    sweep(points, 1, journal);
    FAIL() << "accepted";
  } catch (const SweepError& e) {
    EXPECT_EQ(e.exit_code, 2);
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }
}

TEST(RunSweep, AFailingPointIsNamedAfterTheOthersRan) {
  test::ScratchDir dir("run-sweep");
  const std::string journal = dir.file("r.h5.journal");
  const auto good = quickstart_points();
  auto points = good;
  points[7].system.strategy = "no-such-strategy";  // the runner refuses it (config validation is bypassed)
  try {
    sweep(points, 2, journal);
    FAIL() << "accepted";
  } catch (const SweepError& e) {
    EXPECT_EQ(e.exit_code, 2);
    EXPECT_EQ(std::string(e.what()).rfind("point 7 (" + points[7].point_label + "): ", 0), 0u) << e.what();
  }
  // Every other point was finished and journaled: a resume computes only the failed one.
  EXPECT_EQ(sweep(good, 2, journal, Journal::Mode::Resume).reused, good.size() - 1);
}

}  // namespace
}  // namespace hgca
