#include "sim/calibration/measurements.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>

#include "sim/config/errors.hpp"
#include "sim/config/names.hpp"
#include "sim/config/units.hpp"

namespace hgca {

namespace {

constexpr std::array<std::string_view, kPrimitiveCount> kPrimitiveNames = {
    "pcie_copy", "gpu_attention", "gpu_gemm", "gpu_merge", "gpu_launch", "cpu_stream", "cpu_gather", "cpu_attention"};

// Which columns a primitive needs and which it may use; any other non-empty cell is an error (a value in a
// column the primitive ignores is almost always a row of the wrong kind or a shifted field).
struct ColumnUse {
  std::vector<std::string_view> required;
  std::vector<std::string_view> optional;
};

const ColumnUse& columns_of(Primitive p) {
  static const std::array<ColumnUse, kPrimitiveCount> uses = {{
      {{"direction", "bytes"}, {"memory"}},
      {{"batch", "q_heads", "kv_heads", "kv_len", "head_dim", "dtype"}, {"q_len"}},
      {{"m", "n", "k", "dtype"}, {}},
      {{"batch", "q_heads", "head_dim"}, {}},
      {{}, {"count"}},
      {{"threads", "bytes"}, {}},
      {{"threads", "bytes"}, {}},
      {{"batch", "q_heads", "kv_heads", "kv_len", "head_dim", "dtype", "threads"},
       {"q_len", "method", "selected", "block", "task"}},
  }};
  return uses[static_cast<size_t>(p)];
}

// Splits one CSV line into fields; a field may be double-quoted ("" inside quotes is one quote).
std::vector<std::string> split_fields(const std::string& line, bool& bad_quotes) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  bad_quotes = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  bad_quotes = quoted;
  for (std::string& f : fields) {
    const size_t b = f.find_first_not_of(" \t\r");
    const size_t e = f.find_last_not_of(" \t\r");
    f = b == std::string::npos ? std::string() : f.substr(b, e - b + 1);
  }
  return fields;
}

class RowReader {
 public:
  RowReader(const std::string& source, int line, const std::map<std::string, size_t>& index,
            const std::vector<std::string>& fields)
      : source_(source), line_(line), index_(index), fields_(fields) {}

  [[noreturn]] void fail_line(const std::string& problem, std::string_view expected = {}) const {
    std::string msg = source_ + ":" + std::to_string(line_) + ": " + problem;
    if (!expected.empty()) msg += "; expected " + std::string(expected);
    throw MeasurementError(msg);
  }
  [[noreturn]] void fail(std::string_view column, const std::string& problem, std::string_view expected) const {
    const auto it = index_.find(std::string(column));
    const std::string where = it == index_.end() ? "" : " (field " + std::to_string(it->second + 1) + ")";
    fail_line("column '" + std::string(column) + "'" + where + ": " + problem, expected);
  }

  bool has(std::string_view column) const {
    const auto it = index_.find(std::string(column));
    return it != index_.end() && !fields_[it->second].empty();
  }
  const std::string& cell(std::string_view column) const { return fields_[index_.at(std::string(column))]; }

  // The cell of a column the row needs: present in the header and not empty.
  const std::string& need(std::string_view column, std::string_view why) const {
    if (!index_.count(std::string(column)))
      fail_line("column '" + std::string(column) + "' is missing from the header", "it for " + std::string(why));
    if (!has(column)) fail(column, "empty", "a value for " + std::string(why));
    return cell(column);
  }

  double number(std::string_view column, std::string_view why, std::string_view expected) const {
    const std::string& text = need(column, why);
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec == std::errc::result_out_of_range) fail(column, cfg::quote(text) + " is out of range", expected);
    if (ec != std::errc() || ptr != end) fail(column, cfg::quote(text) + " is not a number", expected);
    if (!std::isfinite(value)) fail(column, cfg::quote(text) + " is not a finite number", expected);
    return value;
  }
  double positive(std::string_view column, std::string_view why, std::string_view expected) const {
    const double v = number(column, why, expected);
    if (v < 0) fail(column, cfg::quote(cell(column)) + " is negative", expected);
    if (v == 0) fail(column, "must be positive, got 0", expected);
    return v;
  }
  int64_t whole(std::string_view column, std::string_view why, std::string_view expected, int64_t min) const {
    const double v = number(column, why, expected);
    if (v != std::floor(v) || std::fabs(v) > 9.0e15)
      fail(column, cfg::quote(cell(column)) + " is not a whole number", expected);
    if (v < static_cast<double>(min))
      fail(column, cfg::quote(cell(column)) + (v < 0 ? " is negative" : " is too small"), expected);
    return static_cast<int64_t>(v);
  }
  int small(std::string_view column, std::string_view why, std::string_view expected) const {
    const int64_t v = whole(column, why, expected, 1);
    if (v > 100'000'000) fail(column, cfg::quote(cell(column)) + " is implausibly large", expected);
    return static_cast<int>(v);
  }
  template <class E, size_t N>
  E word(std::string_view column, std::string_view why, const std::array<std::pair<E, std::string_view>, N>& names) const {
    const std::string& text = need(column, why);
    std::vector<std::string> known;
    for (const auto& [value, name] : names) {
      if (name == text) return value;
      known.emplace_back(name);
    }
    const std::string near = cfg::closest(text, known);
    fail(column, "unknown value " + cfg::quote(text) + (near.empty() ? "" : " (did you mean " + cfg::quote(near) + "?)"),
         "one of " + cfg::join(known));
  }

 private:
  const std::string& source_;
  int line_;
  const std::map<std::string, size_t>& index_;
  const std::vector<std::string>& fields_;
};

constexpr std::array<std::pair<CopyDirection, std::string_view>, 3> kDirectionNames = {{
    {CopyDirection::H2D, "h2d"}, {CopyDirection::D2H, "d2h"}, {CopyDirection::Both, "both"}}};
constexpr std::array<std::pair<bool, std::string_view>, 2> kMemoryNames = {{{false, "pinned"}, {true, "pageable"}}};
constexpr std::array<std::pair<CpuAttentionMethod, std::string_view>, 4> kMethodNames = {{
    {CpuAttentionMethod::Dense, "dense"},
    {CpuAttentionMethod::KeyScan, "key-scan"},
    {CpuAttentionMethod::BlockSummary, "block-summary"},
    {CpuAttentionMethod::Given, "given"}}};

template <class E, size_t N>
std::string_view name_of(E value, const std::array<std::pair<E, std::string_view>, N>& names) {
  for (const auto& [v, n] : names)
    if (v == value) return n;
  return "?";
}

Measurement read_row(const RowReader& r, const std::string& primitive_text) {
  Measurement m;
  {
    std::vector<std::string> known(kPrimitiveNames.begin(), kPrimitiveNames.end());
    const auto it = std::find(kPrimitiveNames.begin(), kPrimitiveNames.end(), primitive_text);
    if (it == kPrimitiveNames.end()) {
      const std::string near = cfg::closest(primitive_text, known);
      r.fail("primitive",
             "unknown primitive " + cfg::quote(primitive_text) +
                 (near.empty() ? "" : " (did you mean " + cfg::quote(near) + "?)"),
             "one of " + cfg::join(known));
    }
    m.primitive = static_cast<Primitive>(it - kPrimitiveNames.begin());
  }
  const std::string why(to_string(m.primitive));
  const ColumnUse& use = columns_of(m.primitive);
  for (const std::string& column : measurement_columns()) {
    if (column == "primitive" || column == "time_s" || column == "note" || !r.has(column)) continue;
    const bool used = std::find(use.required.begin(), use.required.end(), column) != use.required.end() ||
                      std::find(use.optional.begin(), use.optional.end(), column) != use.optional.end();
    if (!used) r.fail(column, "not used by " + why + ", got " + cfg::quote(r.cell(column)), "an empty cell");
  }
  const auto dtype = [&] {
    const std::string& text = r.need("dtype", why);
    std::vector<std::string> known;
    for (const auto& [name, size] : kDtypeBytes) {
      if (name == text) {
        m.dtype = text;
        m.dtype_bytes = size;
        return;
      }
      known.emplace_back(name);
    }
    const std::string near = cfg::closest(text, known);
    r.fail("dtype", "unknown dtype " + cfg::quote(text) + (near.empty() ? "" : " (did you mean " + cfg::quote(near) + "?)"),
           "one of " + cfg::join(known));
  };
  const auto attention_shape = [&](bool with_kv) {
    m.batch = r.small("batch", why, "a sequence count such as 8");
    m.q_heads = r.small("q_heads", why, "a head count such as 32");
    m.head_dim = r.small("head_dim", why, "a head dimension such as 128");
    if (!with_kv) return;
    m.kv_heads = r.small("kv_heads", why, "a head count such as 8");
    if (m.q_heads % m.kv_heads != 0)
      r.fail("kv_heads", "q_heads (" + std::to_string(m.q_heads) + ") is not a multiple of kv_heads (" +
                             std::to_string(m.kv_heads) + ")", "a divisor of q_heads");
    m.kv_len = r.whole("kv_len", why, "a KV length in tokens such as 32768", 1);
    if (r.has("q_len")) m.q_len = r.whole("q_len", why, "a query length in tokens such as 1", 1);
    dtype();
  };
  switch (m.primitive) {
    case Primitive::PcieCopy:
      m.direction = r.word("direction", why, kDirectionNames);
      if (r.has("memory")) m.pageable = r.word("memory", why, kMemoryNames);
      m.bytes = r.positive("bytes", why, "a transfer size in bytes such as 268435456");
      break;
    case Primitive::GpuAttention:
      attention_shape(true);
      break;
    case Primitive::GpuGemm:
      m.m = r.whole("m", why, "rows of the left matrix (tokens) such as 8", 1);
      m.n = r.whole("n", why, "columns of the result such as 4096", 1);
      m.k = r.whole("k", why, "the inner dimension such as 14336", 1);
      dtype();
      break;
    case Primitive::GpuMerge:
      attention_shape(false);
      break;
    case Primitive::GpuLaunch:
      if (r.has("count")) m.count = r.small("count", why, "the number of back-to-back launches timed, such as 1000");
      break;
    case Primitive::CpuStream:
    case Primitive::CpuGather:
      m.threads = r.small("threads", why, "a thread count such as 16");
      m.bytes = r.positive("bytes", why, "the bytes read by all threads together, such as 1073741824");
      break;
    case Primitive::CpuAttention:
      m.threads = r.small("threads", why, "a thread count such as 16");
      attention_shape(true);
      if (m.q_len != 1) r.fail("q_len", "the CPU attention model is for decode (one query per sequence), got " + r.cell("q_len"), "1 or an empty cell");
      if (r.has("method")) m.method = r.word("method", why, kMethodNames);
      if (r.has("task")) m.task = r.word("task", why, kCpuTaskNames);
      if (m.method == CpuAttentionMethod::Dense) {
        if (r.has("selected")) r.fail("selected", "not used by dense attention", "an empty cell, or method key-scan, block-summary or given");
        if (r.has("block")) r.fail("block", "not used by dense attention", "an empty cell, or method block-summary");
      } else {
        // A given list has no selection work to time on its own: it needs at least one entry.
        const bool given = m.method == CpuAttentionMethod::Given;
        m.selected = r.whole("selected", why + " with method " + std::string(name_of(m.method, kMethodNames)),
                             given ? "entries per query head such as 512 (at least 1 for method given)"
                                   : "entries per query head such as 512 (0: the selection work alone)",
                             given ? 1 : 0);
        if (m.selected > m.kv_len)
          r.fail("selected", std::to_string(m.selected) + " is more than kv_len " + std::to_string(m.kv_len), "at most kv_len");
        if (r.has("block")) {
          if (m.method != CpuAttentionMethod::BlockSummary) r.fail("block", "only block-summary uses it", "an empty cell");
          m.block = r.whole("block", why, "tokens per summary block such as 16", 1);
        }
      }
      break;
  }
  m.seconds = r.positive("time_s", why, "the measured time in seconds, > 0, such as 4.7e-06");
  return m;
}

}  // namespace

std::string_view to_string(Primitive p) { return kPrimitiveNames[static_cast<size_t>(p)]; }
std::string_view to_string(CpuAttentionMethod m) { return name_of(m, kMethodNames); }

std::string_view to_string(HardwarePart p) {
  switch (p) {
    case HardwarePart::Gpu: return "gpu";
    case HardwarePart::Pcie: return "pcie";
    case HardwarePart::Cpu: return "cpu";
  }
  return "?";
}

HardwarePart part_of(Primitive p) {
  switch (p) {
    case Primitive::PcieCopy: return HardwarePart::Pcie;
    case Primitive::GpuAttention:
    case Primitive::GpuGemm:
    case Primitive::GpuMerge:
    case Primitive::GpuLaunch: return HardwarePart::Gpu;
    case Primitive::CpuStream:
    case Primitive::CpuGather:
    case Primitive::CpuAttention: return HardwarePart::Cpu;
  }
  return HardwarePart::Gpu;
}

const std::vector<std::string>& measurement_columns() {
  static const std::vector<std::string> columns = {
      "primitive", "direction", "memory", "bytes",  "batch",    "q_heads", "kv_heads", "kv_len",
      "q_len",     "head_dim",  "dtype",  "m",      "n",        "k",       "count",    "threads",
      "method",    "selected",  "block",  "task",   "time_s",   "note"};
  return columns;
}

MeasurementTable parse_measurements(std::istream& in, const std::string& source) {
  MeasurementTable table;
  table.source = source;
  std::map<std::string, size_t> index;
  size_t header_fields = 0;
  std::string line;
  int number = 0;
  bool have_header = false;
  while (std::getline(in, line)) {
    ++number;
    if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // a BYTE ORDER MARK from spreadsheets
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    bool bad_quotes = false;
    const std::vector<std::string> fields = split_fields(line, bad_quotes);
    const auto where = source + ":" + std::to_string(number) + ": ";
    if (bad_quotes) throw MeasurementError(where + "unterminated quoted field; expected a closing '\"'");
    if (!have_header) {
      have_header = true;
      header_fields = fields.size();
      for (size_t i = 0; i < fields.size(); ++i) {
        const std::string& name = fields[i];
        const std::string field = " (field " + std::to_string(i + 1) + ")";
        if (name.empty()) throw MeasurementError(where + "empty column name" + field + "; expected a header row naming every column");
        const auto& known = measurement_columns();
        if (std::find(known.begin(), known.end(), name) == known.end()) {
          const std::string near = cfg::closest(name, known);
          throw MeasurementError(where + "unknown column " + cfg::quote(name) + field +
                                 (near.empty() ? "" : " (did you mean " + cfg::quote(near) + "?)") +
                                 "; expected columns from: " + cfg::join(known));
        }
        if (!index.emplace(name, i).second)
          throw MeasurementError(where + "column " + cfg::quote(name) + field + " appears twice; expected each column once");
      }
      for (const char* required : {"primitive", "time_s"})
        if (!index.count(required))
          throw MeasurementError(where + "missing column '" + required + "'; expected a header with at least primitive and time_s");
      continue;
    }
    if (fields.size() != header_fields)
      throw MeasurementError(where + std::to_string(fields.size()) + " fields, but the header has " +
                             std::to_string(header_fields) + "; expected one field per column (empty ones too)");
    const RowReader reader(source, number, index, fields);
    const std::string& primitive = reader.need("primitive", "every row");
    table.rows.push_back(read_row(reader, primitive));
    table.rows.back().line = number;
  }
  if (in.bad()) throw MeasurementError(source + ": read error");
  if (!have_header) throw MeasurementError(source + ": empty table: no header row; expected a CSV header such as 'primitive,direction,bytes,time_s'");
  if (table.rows.empty()) throw MeasurementError(source + ": no measurements: the table has a header but no rows; expected at least one row");
  return table;
}

MeasurementTable read_measurements(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw MeasurementError(path + ": cannot open measurements file");
  return parse_measurements(in, path);
}

void write_measurements(std::ostream& out, const std::vector<Measurement>& rows) {
  const auto& columns = measurement_columns();
  for (size_t i = 0; i < columns.size(); ++i) out << (i ? "," : "") << columns[i];
  out << "\n";
  for (const Measurement& m : rows) {
    std::map<std::string, std::string> cells;
    cells["primitive"] = to_string(m.primitive);
    const auto n = [](double v) { return format_number(v); };
    switch (m.primitive) {
      case Primitive::PcieCopy:
        cells["direction"] = name_of(m.direction, kDirectionNames);
        cells["memory"] = m.pageable ? "pageable" : "pinned";
        cells["bytes"] = n(m.bytes);
        break;
      case Primitive::GpuAttention:
      case Primitive::CpuAttention:
        cells["batch"] = std::to_string(m.batch);
        cells["q_heads"] = std::to_string(m.q_heads);
        cells["kv_heads"] = std::to_string(m.kv_heads);
        cells["kv_len"] = std::to_string(m.kv_len);
        cells["q_len"] = std::to_string(m.q_len);
        cells["head_dim"] = std::to_string(m.head_dim);
        cells["dtype"] = m.dtype;
        if (m.primitive == Primitive::CpuAttention) {
          cells["threads"] = std::to_string(m.threads);
          cells["method"] = name_of(m.method, kMethodNames);
          cells["task"] = name_of(m.task, kCpuTaskNames);
          if (m.method != CpuAttentionMethod::Dense) cells["selected"] = std::to_string(m.selected);
          if (m.method == CpuAttentionMethod::BlockSummary) cells["block"] = std::to_string(m.block);
        }
        break;
      case Primitive::GpuGemm:
        cells["m"] = std::to_string(m.m);
        cells["n"] = std::to_string(m.n);
        cells["k"] = std::to_string(m.k);
        cells["dtype"] = m.dtype;
        break;
      case Primitive::GpuMerge:
        cells["batch"] = std::to_string(m.batch);
        cells["q_heads"] = std::to_string(m.q_heads);
        cells["head_dim"] = std::to_string(m.head_dim);
        break;
      case Primitive::GpuLaunch:
        cells["count"] = std::to_string(m.count);
        break;
      case Primitive::CpuStream:
      case Primitive::CpuGather:
        cells["threads"] = std::to_string(m.threads);
        cells["bytes"] = n(m.bytes);
        break;
    }
    cells["time_s"] = n(m.seconds);
    for (size_t i = 0; i < columns.size(); ++i) out << (i ? "," : "") << cells[columns[i]];
    out << "\n";
  }
}

}  // namespace hgca
