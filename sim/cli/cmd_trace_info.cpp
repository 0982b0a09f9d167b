// hgca trace info: what an attention trace holds (metadata, datasets) and whether it is valid: the reader's
// checks on opening, every block read (NaN/Inf), and the stored attention outputs recomputed from the
// trace's own Q/K/V with the double-precision reference. Exit 0 valid, 2 invalid or unreadable.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "sim/cli/common.hpp"
#include "sim/results/json_string.hpp"
#include "traces/format/trace.hpp"
#include "traces/format/trace_check.hpp"

namespace hgca::cli {
namespace {

std::string number(double x, int digits = 4) {
  std::ostringstream s;
  s << std::setprecision(digits) << x;
  return s.str();
}

std::string list(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

std::string size_text(int64_t bytes) {
  if (bytes < 1000) return std::to_string(bytes) + " B";
  if (bytes < 1000000) return number(static_cast<double>(bytes) / 1e3, 3) + " kB";
  return number(static_cast<double>(bytes) / 1e6, 3) + " MB";
}

// The first tokens as text when they are all bytes (byte-level models), escaped; empty otherwise.
std::string token_preview(const std::vector<int32_t>& tokens, size_t count) {
  std::string s;
  for (size_t i = 0; i < tokens.size() && i < count; ++i) {
    const int32_t t = tokens[i];
    if (t < 0 || t > 255) return "";
    if (t == '\n') s += "\\n";
    else if (t == '\t') s += "\\t";
    else if (t < 32 || t > 126) s += "?";
    else s += static_cast<char>(t);
  }
  return s;
}

// "256 at positions 3648..3903 (the last 256 of the prompt)", or "none".
std::string prompt_queries_text(const traces::TraceMeta& m) {
  if (!m.has_prompt_queries()) return "none";
  const auto& p = m.prompt_query_positions;
  const int64_t n = m.num_prompt_queries();
  const bool contiguous = p.back() - p.front() + 1 == n;
  std::string s = std::to_string(n) + " at positions " + std::to_string(p.front()) + ".." + std::to_string(p.back());
  if (contiguous && p.back() == m.prompt_length - 1)
    s += n == m.prompt_length ? " (the whole prompt)" : " (the last " + std::to_string(n) + " of the prompt)";
  else if (!contiguous)
    s += " (not contiguous)";
  return s;
}

struct Report {
  traces::TraceMeta meta;
  std::vector<traces::TraceDatasetInfo> datasets;
  traces::TraceScan scan;
  bool verified = false;
  traces::OutputCheck check;
  double tolerance = 0;
  bool outputs_ok() const { return !verified || check.max_rel_error <= tolerance; }
};

void print_text(const std::string& file, const Report& r) {
  const traces::TraceMeta& m = r.meta;
  std::cout << "trace " << file << "\n"
            << "  format        hgca-attention-trace version " << m.format_version << "\n"
            << "  model         " << m.model_name << ": " << m.num_layers << " layers, " << m.num_q_heads
            << " query heads, " << m.num_kv_heads << " KV heads (group " << m.group_size() << "), head_dim "
            << m.head_dim << "\n"
            << "  dtypes        computed in " << (m.model_dtype.empty() ? "?" : m.model_dtype) << ", stored as "
            << m.storage_dtype << "\n"
            << "  rotary        theta " << number(m.rope_theta, 8) << ", scaling " << m.rope_scaling << "\n"
            << "  softmax scale " << number(m.softmax_scale, 8) << "\n"
            << "  positions     " << m.num_positions() << " = prompt " << m.prompt_length << " + "
            << m.decode_steps << " decode steps (" << (m.decode_mode.empty() ? "?" : m.decode_mode) << ")\n"
            << "  tokens        " << m.tokens.size();
  const std::string preview = token_preview(m.tokens, 48);
  if (!preview.empty()) std::cout << ", as bytes: " << preview << "...";
  std::cout << "\n  prompt queries " << prompt_queries_text(m) << "\n  source        " << m.source
            << "\n  text          " << m.text_source << "\n  datasets\n";
  size_t name_width = 11;
  for (const auto& d : r.datasets) name_width = std::max(name_width, d.name.size() + 1);
  for (const auto& d : r.datasets) {
    std::cout << "    " << std::left << std::setw(static_cast<int>(name_width)) << d.name << std::setw(22) << list(d.shape) << std::setw(22)
              << d.stored_as << "chunk " << std::setw(20) << (d.chunk.empty() ? "none" : list(d.chunk))
              << std::setw(17) << d.filters << size_text(d.stored_bytes) << "\n";
  }
  std::cout << std::right << "  validation\n"
            << "    structure   ok (attributes, shapes, dtypes, positions"
            << (m.has_prompt_queries() ? ", prompt query positions" : "") << ")\n"
            << "    values      ok: " << r.scan.blocks << " (layer, head) blocks read, all finite; max |k| "
            << number(r.scan.max_abs_key) << ", |v| " << number(r.scan.max_abs_value) << ", |q| "
            << number(r.scan.max_abs_query);
  if (m.has_outputs) std::cout << ", |o| " << number(r.scan.max_abs_output);
  if (m.has_prompt_queries()) std::cout << ", |prompt q| " << number(r.scan.max_abs_prompt_query);
  std::cout << "\n    outputs     ";
  if (!m.has_outputs) {
    std::cout << "not stored\n";
  } else if (!r.verified) {
    std::cout << "not checked (--no-verify)\n";
  } else {
    std::cout << (r.outputs_ok() ? "ok" : "MISMATCH") << ": " << r.check.vectors
              << " vectors recomputed (kernels/ref, double); max rel error " << number(r.check.max_rel_error, 3)
              << " (layer " << r.check.worst_layer << ", head " << r.check.worst_head << ", step "
              << r.check.worst_step << "), mean " << number(r.check.mean_rel_error, 3) << "; tolerance for "
              << m.storage_dtype << " " << number(r.tolerance, 3) << "\n";
  }
}

void print_json(const std::string& file, const Report& r) {
  const traces::TraceMeta& m = r.meta;
  std::ostringstream o;
  o << std::setprecision(17);
  o << "{\"file\": " << json_string(file) << ", \"valid\": " << (r.outputs_ok() ? "true" : "false")
    << ", \"format_version\": " << m.format_version << ", \"model_name\": " << json_string(m.model_name)
    << ", \"source\": " << json_string(m.source) << ", \"text_source\": " << json_string(m.text_source)
    << ", \"num_layers\": " << m.num_layers << ", \"num_q_heads\": " << m.num_q_heads
    << ", \"num_kv_heads\": " << m.num_kv_heads << ", \"head_dim\": " << m.head_dim
    << ", \"storage_dtype\": " << json_string(m.storage_dtype) << ", \"model_dtype\": " << json_string(m.model_dtype)
    << ", \"decode_mode\": " << json_string(m.decode_mode) << ", \"rope_theta\": " << m.rope_theta
    << ", \"rope_scaling\": " << json_string(m.rope_scaling) << ", \"softmax_scale\": " << m.softmax_scale
    << ", \"prompt_length\": " << m.prompt_length << ", \"decode_steps\": " << m.decode_steps
    << ", \"num_positions\": " << m.num_positions() << ", \"num_tokens\": " << m.tokens.size()
    << ", \"has_outputs\": " << (m.has_outputs ? "true" : "false")
    << ", \"num_prompt_queries\": " << m.num_prompt_queries() << ", \"prompt_query_positions\": "
    << list(m.prompt_query_positions) << ", \"datasets\": [";
  for (size_t i = 0; i < r.datasets.size(); ++i) {
    const auto& d = r.datasets[i];
    o << (i ? ", " : "") << "{\"name\": " << json_string(d.name) << ", \"shape\": " << list(d.shape)
      << ", \"chunk\": " << list(d.chunk) << ", \"stored_as\": " << json_string(d.stored_as)
      << ", \"filters\": " << json_string(d.filters) << ", \"stored_bytes\": " << d.stored_bytes << "}";
  }
  o << "], \"scan\": {\"blocks\": " << r.scan.blocks << ", \"all_finite\": true, \"max_abs_key\": "
    << r.scan.max_abs_key << ", \"max_abs_value\": " << r.scan.max_abs_value
    << ", \"max_abs_query\": " << r.scan.max_abs_query << ", \"max_abs_output\": " << r.scan.max_abs_output
    << ", \"max_abs_prompt_query\": " << r.scan.max_abs_prompt_query
    << "}, \"outputs_check\": ";
  if (!r.verified) {
    o << "null";
  } else {
    o << "{\"vectors\": " << r.check.vectors << ", \"max_rel_error\": " << r.check.max_rel_error
      << ", \"mean_rel_error\": " << r.check.mean_rel_error << ", \"worst_layer\": " << r.check.worst_layer
      << ", \"worst_head\": " << r.check.worst_head << ", \"worst_step\": " << r.check.worst_step
      << ", \"tolerance\": " << r.tolerance << ", \"ok\": " << (r.outputs_ok() ? "true" : "false") << "}";
  }
  o << "}\n";
  std::cout << o.str();
}

}  // namespace

int cmd_trace_info(const Args& args) {
  namespace po = boost::program_options;
  po::options_description opts("hgca trace info TRACE.h5 [--json] [--no-verify] [--step-stride N]");
  std::string file;
  bool json = false, no_verify = false;
  int64_t stride = 1;
  opts.add_options()("help,h", "this help")("json", po::bool_switch(&json), "print one JSON object")(
      "no-verify", po::bool_switch(&no_verify), "do not recompute the stored attention outputs")(
      "step-stride", po::value(&stride), "recompute every N-th decode step (and the last); default 1");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&file));
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, pos, vm, "trace info")) return 2;
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (file.empty()) {
    std::cerr << "hgca trace info: missing the trace file\n";
    return 2;
  }
  if (stride < 1) {
    std::cerr << "hgca trace info: --step-stride must be >= 1, got " << stride << "\n";
    return 2;
  }
  Report r;
  try {
    const auto trace = traces::open_trace(file);
    r.meta = trace->meta();
    r.datasets = traces::describe_trace_datasets(file);
    r.scan = traces::scan_trace(*trace);
    if (r.meta.has_outputs && !no_verify) {
      r.check = traces::check_outputs(*trace, stride);
      r.tolerance = traces::output_tolerance(r.meta.storage_dtype);
      r.verified = true;
    }
  } catch (const traces::TraceError& e) {
    std::cerr << "hgca trace info: " << e.what() << "\n";
    return 2;
  }
  if (json) print_json(file, r);
  else print_text(file, r);
  if (!r.outputs_ok()) {
    std::cerr << "hgca trace info: trace " << file << ": stored outputs disagree with attention recomputed from "
              << "its Q/K/V: max relative error " << number(r.check.max_rel_error, 3) << " > " << number(r.tolerance, 3)
              << " at layer " << r.check.worst_layer << " head " << r.check.worst_head << " step "
              << r.check.worst_step << "\n";
    return 2;
  }
  return 0;
}

HGCA_COMMAND("trace info",
             "TRACE.h5 [--json] [--no-verify] [--step-stride N]\n                              an attention "
             "trace's metadata, datasets and validation (NaN scan, outputs recomputed)",
             cmd_trace_info);

}  // namespace hgca::cli
