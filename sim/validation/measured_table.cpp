#include "sim/validation/measured_table.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>

#include "sim/results/atomic_file.hpp"
#include "sim/results/csv.hpp"
#include "sim/results/number_format.hpp"

namespace hgca::validation {

const std::vector<std::string>& measured_columns() {
  static const std::vector<std::string> cols = {
      "id",       "role",          "kind",          "model",         "layers",           "batch",         "q_heads",
      "kv_heads", "head_dim",      "context",       "window",        "budget",           "cpu_select",    "threads",
      "cpu_task", "warmup",        "reps",          "total_ms",      "total_p10_ms",     "total_p90_ms",  "gpu_window_ms",
      "d2h_query_ms", "cpu_attention_ms", "h2d_result_ms", "merge_ms", "pass_ms",        "gpu",           "cpu",          "date"};
  return cols;
}

namespace {

// Columns a row cannot do without; the rest may be absent from the header or empty in a row.
const char* const kRequired[] = {"id",      "role",   "kind",       "batch",   "q_heads",  "kv_heads", "head_dim",
                                 "context", "window", "cpu_select", "threads", "cpu_task", "total_ms"};

std::vector<std::string> split_csv_line(const std::string& line, bool& bad_quotes) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') fields.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else fields.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  bad_quotes = quoted;
  return fields;
}

class Row {
 public:
  Row(const std::string& source, int line, const std::map<std::string, std::size_t>& index,
      const std::vector<std::string>& fields)
      : source_(source), line_(line), index_(index), fields_(fields) {}

  bool has(const std::string& col) const {
    const auto it = index_.find(col);
    return it != index_.end() && !fields_[it->second].empty();
  }
  std::string text(const std::string& col) const {
    const auto it = index_.find(col);
    return it == index_.end() ? std::string() : fields_[it->second];
  }
  [[noreturn]] void fail(const std::string& col, const std::string& problem, const std::string& expected) const {
    throw TableError(source_ + ":" + std::to_string(line_) + ": column '" + col + "': " + problem + "; expected " + expected);
  }
  long long integer(const std::string& col, long long min) const {
    const std::string t = text(col);
    if (t.empty()) fail(col, "empty", "an integer >= " + std::to_string(min));
    long long v = 0;
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || p != t.data() + t.size()) fail(col, "'" + t + "' is not an integer", "an integer >= " + std::to_string(min));
    if (v < min) fail(col, t + " is too small", "an integer >= " + std::to_string(min));
    return v;
  }
  // A finite number, or a one-line error naming the column and what was expected.
  double finite(const std::string& col, const std::string& t, const std::string& expected) const {
    std::istringstream s(t);
    s.imbue(std::locale::classic());
    double v = 0;
    s >> v;
    const bool parsed = !s.fail() && s.peek() == std::char_traits<char>::eof();
    if (!parsed && (t == "nan" || t == "NaN" || t == "inf" || t == "-inf")) fail(col, "'" + t + "' is not a finite number", expected);
    if (!parsed) fail(col, "'" + t + "' is not a number", expected);
    if (!std::isfinite(v)) fail(col, "'" + t + "' is not a finite number", expected);
    return v;
  }
  // A time in ms: finite and positive (required) or absent/empty (0) when optional.
  double time(const std::string& col, bool required) const {
    const std::string t = text(col);
    if (t.empty()) {
      if (required) fail(col, "empty", "a time in ms > 0");
      return 0;
    }
    const double v = finite(col, t, "a time in ms > 0");
    if (v < 0 || (required && v == 0)) fail(col, t + " is not positive", "a time in ms > 0");
    return v;
  }
  // Times in ms separated by spaces (one per pass), each finite and positive; absent or empty: none.
  std::vector<double> times(const std::string& col) const {
    const std::string expected = "times in ms > 0 separated by spaces, one per pass";
    std::vector<double> out;
    std::istringstream words(text(col));
    std::string w;
    while (words >> w) {
      const double v = finite(col, w, expected);
      if (v <= 0) fail(col, w + " is not positive", expected);
      out.push_back(v);
    }
    return out;
  }

 private:
  const std::string& source_;
  int line_;
  const std::map<std::string, std::size_t>& index_;
  const std::vector<std::string>& fields_;
};

MeasuredRow read_row(const Row& r, int line) {
  MeasuredRow m;
  m.line = line;
  ValidationPoint& p = m.point;
  p.id = static_cast<int>(r.integer("id", 0));
  if (!parse_role(r.text("role"), p.role)) r.fail("role", "'" + r.text("role") + "' is not a role", "fit or holdout");
  if (!parse_kind(r.text("kind"), p.kind))
    r.fail("kind", "'" + r.text("kind") + "' is not a kind", "attention or decode-step");
  p.model = r.text("model");
  if (p.kind == PointKind::DecodeStep && p.model.empty())
    r.fail("model", "empty in a decode-step row", "a model name such as llama-3.1-8b");
  p.layers = r.has("layers") ? static_cast<int>(r.integer("layers", 1)) : 1;
  p.batch = static_cast<int>(r.integer("batch", 1));
  p.q_heads = static_cast<int>(r.integer("q_heads", 1));
  p.kv_heads = static_cast<int>(r.integer("kv_heads", 1));
  if (p.q_heads % p.kv_heads != 0) r.fail("q_heads", "not a multiple of kv_heads", "a multiple of kv_heads");
  p.head_dim = static_cast<int>(r.integer("head_dim", 1));
  p.context = r.integer("context", 1);
  p.window = r.integer("window", 1);
  p.budget = r.text("budget");
  p.cpu_select = r.integer("cpu_select", 0);
  if (p.cpu_select > p.pool_rows())
    r.fail("cpu_select", std::to_string(p.cpu_select) + " is more than the pool's " + std::to_string(p.pool_rows()) + " rows",
           "at most context - window");
  p.threads = static_cast<int>(r.integer("threads", 1));
  p.cpu_task = r.text("cpu_task");
  if (p.cpu_task != "kv_group" && p.cpu_task != "head" && p.cpu_task != "sequence")
    r.fail("cpu_task", "'" + p.cpu_task + "' is not a task granularity", "kv_group, head or sequence");
  m.warmup = r.has("warmup") ? static_cast<int>(r.integer("warmup", 0)) : 0;
  m.reps = r.has("reps") ? static_cast<int>(r.integer("reps", 1)) : 0;
  m.total_ms = r.time("total_ms", true);
  m.total_p10_ms = r.time("total_p10_ms", false);
  m.total_p90_ms = r.time("total_p90_ms", false);
  m.phases.gpu_window_ms = r.time("gpu_window_ms", false);
  m.phases.d2h_query_ms = r.time("d2h_query_ms", false);
  m.phases.cpu_attention_ms = r.time("cpu_attention_ms", false);
  m.phases.h2d_result_ms = r.time("h2d_result_ms", false);
  m.phases.merge_ms = r.time("merge_ms", false);
  m.pass_ms = r.times("pass_ms");
  m.gpu = r.text("gpu");
  m.cpu = r.text("cpu");
  m.date = r.text("date");
  return m;
}

}  // namespace

double pass_standard_error(const MeasuredRow& row) {
  const std::size_t n = row.pass_ms.size();
  if (n < 2 || !(row.total_ms > 0)) return std::nan("");
  double mean = 0;
  for (double v : row.pass_ms) mean += v;
  mean /= static_cast<double>(n);
  double ss = 0;
  for (double v : row.pass_ms) ss += (v - mean) * (v - mean);
  const double sd = std::sqrt(ss / static_cast<double>(n - 1));
  return sd / std::sqrt(static_cast<double>(n)) / row.total_ms;
}

std::vector<MeasuredRow> parse_measured(std::istream& in, const std::string& source) {
  std::vector<MeasuredRow> rows;
  std::map<std::string, std::size_t> index;
  std::string line;
  int n = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++n;
    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    bool bad_quotes = false;
    const std::vector<std::string> fields = split_csv_line(line, bad_quotes);
    if (bad_quotes) throw TableError(source + ":" + std::to_string(n) + ": unterminated quoted field");
    if (!header) {
      for (std::size_t i = 0; i < fields.size(); ++i) {
        if (index.count(fields[i])) throw TableError(source + ":" + std::to_string(n) + ": column '" + fields[i] + "' appears twice");
        index[fields[i]] = i;
      }
      for (const char* col : kRequired)
        if (!index.count(col)) throw TableError(source + ":" + std::to_string(n) + ": missing column '" + col + "'");
      header = true;
      continue;
    }
    if (fields.size() != index.size())
      throw TableError(source + ":" + std::to_string(n) + ": " + std::to_string(fields.size()) + " fields; expected " +
                       std::to_string(index.size()) + " (one per header column)");
    rows.push_back(read_row(Row(source, n, index, fields), n));
  }
  if (!header) throw TableError(source + ": no header line; expected a CSV table with columns " + kRequired[0] + ", ...");
  if (rows.empty()) throw TableError(source + ": no rows; expected at least one measured point");
  return rows;
}

std::vector<MeasuredRow> read_measured(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw TableError(path + ": cannot read the measured table");
  return parse_measured(in, path);
}

void write_measured(std::ostream& out, const std::vector<MeasuredRow>& rows) {
  const auto& cols = measured_columns();
  for (std::size_t i = 0; i < cols.size(); ++i) out << (i ? "," : "") << cols[i];
  out << "\n";
  auto ms = [](double v) { return v > 0 ? format_shortest(v) : std::string(); };
  auto list = [](const std::vector<double>& v) {
    std::string out;
    for (double x : v) {
      if (!out.empty()) out += ' ';
      out += format_shortest(x);
    }
    return out;
  };
  for (const MeasuredRow& m : rows) {
    const ValidationPoint& p = m.point;
    const std::string f[] = {std::to_string(p.id), to_string(p.role), to_string(p.kind), csv_quote(p.model),
                             std::to_string(p.layers), std::to_string(p.batch), std::to_string(p.q_heads),
                             std::to_string(p.kv_heads), std::to_string(p.head_dim), std::to_string(p.context),
                             std::to_string(p.window), csv_quote(p.budget), std::to_string(p.cpu_select),
                             std::to_string(p.threads), p.cpu_task, std::to_string(m.warmup), std::to_string(m.reps),
                             ms(m.total_ms), ms(m.total_p10_ms), ms(m.total_p90_ms), ms(m.phases.gpu_window_ms),
                             ms(m.phases.d2h_query_ms), ms(m.phases.cpu_attention_ms), ms(m.phases.h2d_result_ms),
                             ms(m.phases.merge_ms), list(m.pass_ms), csv_quote(m.gpu), csv_quote(m.cpu), csv_quote(m.date)};
    for (std::size_t i = 0; i < cols.size(); ++i) out << (i ? "," : "") << f[i];
    out << "\n";
  }
}

void write_measured_file(const std::string& path, const std::vector<MeasuredRow>& rows, const std::string& provenance) {
  write_file_atomically(path, [&](std::ostream& out) {
    if (!provenance.empty()) out << "# " << provenance << "\n";
    write_measured(out, rows);
  });
}

}  // namespace hgca::validation
