#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "sim/results/table.hpp"
#include "tests/results/sample_runs.hpp"

namespace hgca {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::string table_of(const std::vector<RunResult>& runs) {
  std::ostringstream out;
  print_table(out, runs);
  return out.str();
}

const std::vector<std::string> kHeaderWords = {"strategy", "batch", "context", "window", "tok/s", "p50", "ms",
                                               "p99",      "ms",    "GPU",     "%",      "H2D",   "%",  "D2H",
                                               "%",        "CPU",   "%",       "GPU",    "GiB",   "CPU", "GiB",
                                               "status"};

TEST(Table, FeasibleRowShowsHandComputedFigures) {
  // simple_feasible_run: 8 sequences x 4 steps in 2 s = 16 tok/s; steps of 0.5 s; busy GPU 1 s, H2D 0.5 s,
  // D2H 0.2 s of 2 s; CPU 6 core-s over 4 cores x 2 s; GPU 10+5+0.5+0.25+0.25 GiB; CPU 38+1+0.5+0.5 GiB.
  const auto lines = lines_of(table_of({test::simple_feasible_run("hgca", 8, 32768)}));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(words_of(lines[0]), kHeaderWords);
  EXPECT_EQ(lines[1].find_first_not_of("- "), std::string::npos) << lines[1];
  const std::vector<std::string> expected = {"hgca", "8",    "32768", "1024", "16.0",  "500.000", "500.000",
                                             "50.0", "25.0", "10.0",  "75.0", "16.00", "40.00",   "ok"};
  EXPECT_EQ(words_of(lines[2]), expected);
}

TEST(Table, InfeasibleRowShowsDashesAndTheWholeReason) {
  const std::string reason =
      "GPU memory: KV 70.1 GiB + weights 15.0 GiB > 78.0 GiB usable, and a long tail of explanation that must "
      "not be cut off anywhere because it is the last column";
  const auto lines = lines_of(table_of({test::simple_feasible_run("hgca", 8, 32768),
                                        test::simple_infeasible_run("gpu-full", 8, 131072, reason)}));
  ASSERT_EQ(lines.size(), 4u);
  const std::string& row = lines[3];
  const auto words = words_of(row);
  ASSERT_GE(words.size(), 13u);
  EXPECT_EQ(std::vector<std::string>(words.begin(), words.begin() + 4),
            (std::vector<std::string>{"gpu-full", "8", "131072", "0"}));
  for (size_t i = 4; i < 13; ++i) EXPECT_EQ(words[i], "-") << "column " << i;
  const size_t status_at = lines[0].find("status");
  EXPECT_EQ(row.substr(status_at), reason);
  EXPECT_EQ(lines[2].substr(status_at), "ok");
}

TEST(Table, ColumnsAlignAndWidenToTheWidestCell) {
  RunResult wide = test::simple_feasible_run("a-strategy-with-a-long-name", 128, 1048576);
  wide.tokens_per_s = 123456.78;
  const auto lines = lines_of(table_of({test::simple_feasible_run("hgca", 1, 4096), wide,
                                        test::simple_infeasible_run("cpu-full", 2, 8192, "CPU memory")}));
  ASSERT_EQ(lines.size(), 5u);
  const std::string& header = lines[0];
  // Right-aligned figure columns: every row's cell ends exactly where the header's name ends.
  for (const char* name : {"batch", "context", "window", "tok/s", "p99 ms", "CPU GiB"}) {
    const size_t end = header.find(name) + std::string(name).size();
    for (size_t i = 2; i < lines.size(); ++i) {
      ASSERT_GT(lines[i].size(), end) << lines[i];
      EXPECT_NE(lines[i][end - 1], ' ') << name << " in row " << i << ": " << lines[i];
      EXPECT_EQ(lines[i][end], ' ') << name << " in row " << i << ": " << lines[i];
    }
  }
  // The strategy column is as wide as its longest cell, so "batch" starts after it.
  EXPECT_GT(header.find("batch"), std::string("a-strategy-with-a-long-name").size());
  EXPECT_NE(lines[3].find("123456.8"), std::string::npos) << lines[3];
  EXPECT_EQ(words_of(lines[2])[0], "hgca");  // rows keep the input order
  EXPECT_EQ(words_of(lines[4])[0], "cpu-full");
}

TEST(Table, NewlinesInStringsDoNotBreakRows) {
  const auto text = table_of({test::simple_infeasible_run("hgca", 1, 4096, "first line\nsecond line")});
  const auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[2].find("first line second line"), std::string::npos) << lines[2];
}

TEST(Table, NoRunsGivesHeaderOnly) {
  const auto lines = lines_of(table_of({}));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(words_of(lines[0]), kHeaderWords);
}

}  // namespace
}  // namespace hgca
