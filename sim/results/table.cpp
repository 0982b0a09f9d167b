#include "sim/results/table.hpp"

#include <algorithm>
#include <array>
#include <ostream>
#include <string>

#include "sim/results/number_format.hpp"

namespace hgca {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

struct Column {
  const char* header;
  bool right_aligned;  // numbers right, words left
};

constexpr std::array<Column, 14> kColumns = {{
    {"strategy", false},
    {"batch", true},
    {"context", true},
    {"window", true},
    {"tok/s", true},
    {"p50 ms", true},
    {"p99 ms", true},
    {"GPU %", true},
    {"H2D %", true},
    {"D2H %", true},
    {"CPU %", true},
    {"GPU GiB", true},
    {"CPU GiB", true},
    {"status", false},
}};
constexpr size_t kFirstFigure = 4;  // columns from here to the status are figures ("-" when infeasible)

using Row = std::array<std::string, kColumns.size()>;

std::string one_line(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return s;
}

// Display width in terminal columns: UTF-8 continuation bytes take no column of their own.
size_t display_width(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

Row row_for(const RunResult& r) {
  Row row;
  row[0] = one_line(r.strategy);
  row[1] = std::to_string(r.batch);
  row[2] = std::to_string(r.context);
  row[3] = std::to_string(r.window);
  if (r.feasible) {
    row[4] = format_fixed(r.tokens_per_s, 1);
    row[5] = format_fixed(r.step_p50_s * 1e3, 3);
    row[6] = format_fixed(r.step_p99_s * 1e3, 3);
    row[7] = format_fixed(r.gpu_share() * 100, 1);
    row[8] = format_fixed(r.h2d_share() * 100, 1);
    row[9] = format_fixed(r.d2h_share() * 100, 1);
    row[10] = format_fixed(r.cpu_share() * 100, 1);
    row[11] = format_fixed(r.gpu_memory.total() / kGiB, 2);
    row[12] = format_fixed(r.cpu_memory.total() / kGiB, 2);
    row[13] = "ok";
  } else {
    for (size_t c = kFirstFigure; c + 1 < kColumns.size(); ++c) row[c] = "-";
    row[13] = r.infeasible_reason.empty() ? "infeasible" : one_line(r.infeasible_reason);
  }
  return row;
}

void print_row(std::ostream& out, const Row& row, const std::array<size_t, kColumns.size()>& widths) {
  std::string line;
  for (size_t c = 0; c < row.size(); ++c) {
    if (c > 0) line += "  ";
    const std::string padding(widths[c] - display_width(row[c]), ' ');
    const bool last = c + 1 == row.size();
    if (kColumns[c].right_aligned) line += padding + row[c];
    else line += last ? row[c] : row[c] + padding;
  }
  out << line << '\n';
}

}  // namespace

void print_table(std::ostream& out, const std::vector<RunResult>& runs) {
  Row header;
  for (size_t c = 0; c < kColumns.size(); ++c) header[c] = kColumns[c].header;
  std::vector<Row> rows;
  rows.reserve(runs.size());
  for (const auto& r : runs) rows.push_back(row_for(r));

  std::array<size_t, kColumns.size()> widths{};
  for (size_t c = 0; c < kColumns.size(); ++c) {
    widths[c] = display_width(header[c]);
    for (const auto& row : rows) widths[c] = std::max(widths[c], display_width(row[c]));
  }
  print_row(out, header, widths);
  Row rule;
  for (size_t c = 0; c < kColumns.size(); ++c) rule[c] = std::string(widths[c], '-');
  print_row(out, rule, widths);
  for (const auto& row : rows) print_row(out, row, widths);
}

}  // namespace hgca
