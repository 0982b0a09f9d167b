#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/results/run_codec.hpp"
#include "sim/sweep/journal.hpp"
#include "tests/results/sample_runs.hpp"
#include "tests/results/scratch_dir.hpp"

namespace hgca {
namespace {

RunResult run_with_yaml(const std::string& yaml, double tokens_per_s) {
  RunResult r = test::simple_feasible_run("hgca", 8, 4096);
  r.resolved_yaml = yaml;
  r.tokens_per_s = tokens_per_s;
  return r;
}

TEST(Journal, RecordsSurviveReopeningAndAreFoundByConfiguration) {
  test::ScratchDir dir("journal");
  const std::string path = dir.file("r.h5.journal");
  {
    Journal j(path, "stamp A", Journal::Mode::Refuse);
    EXPECT_EQ(j.records(), 0u);
    j.append(run_with_yaml("a: 1\n", 10));
    j.append(run_with_yaml("a: 2\n", 20));
  }
  Journal j(path, "stamp A", Journal::Mode::Resume);
  EXPECT_EQ(j.records(), 2u);
  EXPECT_EQ(j.note(), "");
  ASSERT_NE(j.find("a: 2\n"), nullptr);
  EXPECT_EQ(j.find("a: 2\n")->tokens_per_s, 20);
  EXPECT_EQ(encode_run(*j.find("a: 1\n")), encode_run(run_with_yaml("a: 1\n", 10)));
  EXPECT_EQ(j.find("a: 3\n"), nullptr);
}

TEST(Journal, AnExistingJournalIsRefusedUnlessResumeOrFreshIsChosen) {
  test::ScratchDir dir("journal");
  const std::string path = dir.file("r.h5.journal");
  { Journal(path, "s", Journal::Mode::Refuse).append(run_with_yaml("x", 1)); }
  try {
    Journal j(path, "s", Journal::Mode::Refuse);
    FAIL() << "accepted";
  } catch (const JournalError& e) {
    EXPECT_EQ(std::string(e.what()), path + " holds 1 finished point(s) of an interrupted run: pass --resume to "
                                            "reuse them or --fresh to start over");
  }
  EXPECT_EQ(Journal(path, "s", Journal::Mode::Resume).records(), 1u);  // the refusal changed nothing
  EXPECT_EQ(Journal(path, "s", Journal::Mode::Fresh).records(), 0u);
  EXPECT_EQ(Journal(path, "s", Journal::Mode::Resume).records(), 0u);
}

TEST(Journal, AnUnfinishedRecordAtTheEndIsCutOffAndAppendingContinuesAfterTheLastGoodOne) {
  test::ScratchDir dir("journal");
  const std::string path = dir.file("r.h5.journal");
  {
    Journal j(path, "s", Journal::Mode::Refuse);
    j.append(run_with_yaml("one", 1));
    j.append(run_with_yaml("two", 2));
  }
  const auto full = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, full - 5);  // killed while writing the second record
  {
    Journal j(path, "s", Journal::Mode::Resume);
    EXPECT_EQ(j.records(), 1u);
    EXPECT_NE(j.note().find("cut off"), std::string::npos) << j.note();
    j.append(run_with_yaml("three", 3));
  }
  Journal j(path, "s", Journal::Mode::Resume);
  EXPECT_EQ(j.records(), 2u);
  EXPECT_NE(j.find("one"), nullptr);
  EXPECT_EQ(j.find("two"), nullptr);
  EXPECT_NE(j.find("three"), nullptr);
  EXPECT_EQ(j.note(), "");
}

TEST(Journal, AFlippedByteEndsTheUsablePart) {
  test::ScratchDir dir("journal");
  const std::string path = dir.file("r.h5.journal");
  {
    Journal j(path, "s", Journal::Mode::Refuse);
    j.append(run_with_yaml("one", 1));
    j.append(run_with_yaml("two", 2));
  }
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-20, std::ios::end);
    f.put('\x7f');
  }
  Journal j(path, "s", Journal::Mode::Resume);
  EXPECT_EQ(j.records(), 1u);
  EXPECT_NE(j.find("one"), nullptr);
}

TEST(Journal, ARecordOfAnotherStampIsNeverReused) {
  test::ScratchDir dir("journal");
  const std::string path = dir.file("r.h5.journal");
  { Journal(path, "hgca 0.1.0; timeline_steps 0", Journal::Mode::Refuse).append(run_with_yaml("x", 1)); }
  Journal j(path, "hgca 0.1.0; timeline_steps 2", Journal::Mode::Resume);
  EXPECT_EQ(j.records(), 0u);
  EXPECT_NE(j.note().find("other simulation options"), std::string::npos) << j.note();
}

TEST(Journal, ASecondWriterIsRefusedWhileTheFirstHoldsIt) {
  test::ScratchDir dir("journal");
  const std::string path = dir.file("r.h5.journal");
  Journal first(path, "s", Journal::Mode::Refuse);
  EXPECT_THROW(Journal(path, "s", Journal::Mode::Resume), JournalError);
}

TEST(Journal, AForeignFileIsNotTakenForAJournal) {
  test::ScratchDir dir("journal");
  const std::string path = dir.file("r.h5.journal");
  std::ofstream(path) << "hello\n";
  EXPECT_THROW(Journal(path, "s", Journal::Mode::Resume), JournalError);
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "hello");  // untouched
}

TEST(Journal, RemoveDeletesTheFile) {
  test::ScratchDir dir("journal");
  const std::string path = dir.file("r.h5.journal");
  Journal j(path, "s", Journal::Mode::Refuse);
  j.remove();
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace hgca
