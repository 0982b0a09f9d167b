#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/results/csv.hpp"
#include "sim/results/scalar_fields.hpp"
#include "tests/results/sample_runs.hpp"
#include "tests/results/scratch_dir.hpp"

namespace hgca {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// RFC 4180 reader written for the test: quoted fields may hold commas, doubled quotes and line breaks;
// records end at LF (or CRLF) outside quotes.
Rows parse_csv(const std::string& text) {
  Rows rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
        if (i + 1 < text.size() && text[i + 1] != ',' && text[i + 1] != '\n' && text[i + 1] != '\r') {
          throw std::runtime_error("text after closing quote at " + std::to_string(i));
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      if (field_started) throw std::runtime_error("quote inside unquoted field at " + std::to_string(i));
      quoted = field_started = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      field_started = false;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) throw std::runtime_error("unterminated quoted field");
  if (field_started || !row.empty()) throw std::runtime_error("last record lacks its line end");
  return rows;
}

size_t column_of(const std::vector<std::string>& header, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  ADD_FAILURE() << "no column " << name;
  return 0;
}

TEST(CsvQuote, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_quote("hgca"), "hgca");
  EXPECT_EQ(csv_quote(""), "");
  EXPECT_EQ(csv_quote("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_quote("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_quote("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_quote("cr\r"), "\"cr\r\"");
}

TEST(Csv, ParsesBackWithOneColumnPerTabularField) {
  test::ScratchDir dir("csv");
  const std::string path = dir.file("runs.csv");
  const RunResult full = test::fully_populated_run();
  const RunResult simple = test::simple_feasible_run("gpu-full", 4, 8192);
  write_csv(path, {full, simple});

  const Rows rows = parse_csv(test::read_text(path));
  ASSERT_EQ(rows.size(), 3u);
  const auto& header = rows[0];
  size_t tabular = 0;
  for (const auto& f : scalar_fields()) tabular += f.tabular ? 1 : 0;
  EXPECT_EQ(header.size(), tabular);
  EXPECT_GE(header.size(), 40u);
  for (const auto& row : rows) EXPECT_EQ(row.size(), header.size());
  for (const auto& name : header) EXPECT_NE(name, "resolved_yaml");

  const auto& a = rows[1];
  // Strings with commas, quotes, newlines and UTF-8 come back unchanged.
  EXPECT_EQ(a[column_of(header, "experiment")], full.experiment);
  EXPECT_EQ(a[column_of(header, "point_label")], full.point_label);
  EXPECT_EQ(a[column_of(header, "hardware")], full.hardware);
  EXPECT_EQ(a[column_of(header, "infeasible_reason")], full.infeasible_reason);
  EXPECT_EQ(a[column_of(header, "feasible")], "false");
  EXPECT_EQ(a[column_of(header, "seed")], "18446744073709551557");
  EXPECT_EQ(a[column_of(header, "context")], "123456789012");
  // Reals are exact: the shortest text that reads back to the same double.
  EXPECT_EQ(std::strtod(a[column_of(header, "busy_cpu_core_s")].c_str(), nullptr), 0.14);
  EXPECT_EQ(a[column_of(header, "busy_cpu_core_s")], "0.14");
  EXPECT_EQ(a[column_of(header, "events")], "9876543210");
  // Derived figures: 1.1+1.2+1.3+1.4+1.5 bytes of GPU memory.
  EXPECT_EQ(std::strtod(a[column_of(header, "gpu_mem_total_bytes")].c_str(), nullptr), full.gpu_memory.total());

  const auto& b = rows[2];
  EXPECT_EQ(b[column_of(header, "strategy")], "gpu-full");
  EXPECT_EQ(b[column_of(header, "feasible")], "true");
  EXPECT_EQ(b[column_of(header, "batch")], "4");
  EXPECT_EQ(b[column_of(header, "gpu_share")], "0.5");   // 1 s busy of 2 s
  EXPECT_EQ(b[column_of(header, "cpu_share")], "0.75");  // 6 core-s over 4 cores x 2 s
  EXPECT_EQ(b[column_of(header, "infeasible_reason")], "");
}

TEST(Csv, NoRunsGivesHeaderOnly) {
  test::ScratchDir dir("csv-empty");
  write_csv(dir.file("empty.csv"), {});
  const Rows rows = parse_csv(test::read_text(dir.file("empty.csv")));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "experiment");
}

TEST(Csv, ReplacesAnOlderFile) {
  test::ScratchDir dir("csv-replace");
  const std::string path = dir.file("runs.csv");
  test::write_text(path, "old content\n");
  write_csv(path, {test::simple_feasible_run("hgca", 1, 4096)});
  EXPECT_EQ(parse_csv(test::read_text(path)).size(), 2u);
  EXPECT_EQ(dir.entries(), std::set<std::string>{"runs.csv"});
}

}  // namespace
}  // namespace hgca
