#include "traces/synth/attention_model.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace hgca::traces::synth {

double spike_level_density(int level) { return std::exp2(-(3.0 + 1.5 * level)); }

int nearest_spike_level(double density) {
  if (!(density > 0)) return -1;
  const double r = (-std::log2(density) - 3.0) / 1.5;
  return std::clamp(static_cast<int>(std::lround(r)), 0, kSpikeLevels - 1);
}

SpikeRealization HeadModel::spikes() const {
  SpikeRealization r;
  r.level = nearest_spike_level(spike_density);
  if (r.level >= 0) r.logit = spike_logit + std::log(spike_density / spike_level_density(r.level));
  return r;
}

double HeadModel::trend_logit(int64_t distance) const {
  const int k = distance <= 0 ? 0 : static_cast<int>(std::bit_width(static_cast<uint64_t>(distance)));
  const int last = static_cast<int>(trend.size()) - 1;
  return k <= last ? trend[k] : trend[last] + tail_slope * (k - last);
}

// ---------------------------------------------------------------------------------------------------------
// Validation

namespace {

void fail(const std::string& what, const std::string& key, const std::string& message) {
  throw ModelError(what + ": " + key + ": " + message);
}

void check_range(const std::string& what, const std::string& key, double v, double lo, double hi) {
  if (!std::isfinite(v) || v < lo || v > hi) {
    std::ostringstream s;
    s << "expected a number in [" << lo << ", " << hi << "], got " << v;
    fail(what, key, s.str());
  }
}

}  // namespace

void validate_model(const AttentionModel& m, const std::string& what) {
  if (m.num_layers < 1) fail(what, "shape.layers", "must be >= 1");
  if (m.num_q_heads < 1) fail(what, "shape.q_heads", "must be >= 1");
  if (m.num_kv_heads < 1) fail(what, "shape.kv_heads", "must be >= 1");
  if (m.num_q_heads % m.num_kv_heads != 0)
    fail(what, "shape.kv_heads", "q_heads (" + std::to_string(m.num_q_heads) + ") must be a multiple of kv_heads (" +
                                     std::to_string(m.num_kv_heads) + ")");
  if (m.head_dim < 1) fail(what, "shape.head_dim", "must be >= 1");
  check_range(what, "shape.softmax_scale", m.softmax_scale, 1e-6, 1e6);
  if (m.sinks < 0) fail(what, "sinks", "must be >= 0");
  if (m.window < 1) fail(what, "window", "must be >= 1");
  if (m.fit_eval_steps < 1) fail(what, "fit.eval_steps", "must be >= 1");
  const size_t want = static_cast<size_t>(m.num_layers) * m.num_q_heads;
  if (m.heads.size() != want)
    fail(what, "heads", std::to_string(m.heads.size()) + " entries, expected " + std::to_string(want) +
                            " (layers x q_heads, layer-major)");
  for (size_t i = 0; i < m.heads.size(); ++i) {
    const HeadModel& h = m.heads[i];
    const std::string key = "heads[" + std::to_string(i) + "]";
    const int layer = static_cast<int>(i) / m.num_q_heads, head = static_cast<int>(i) % m.num_q_heads;
    if (h.layer != layer || h.head != head)
      fail(what, key, "is layer " + std::to_string(h.layer) + " head " + std::to_string(h.head) + ", expected layer " +
                          std::to_string(layer) + " head " + std::to_string(head) + " (layer-major order)");
    if (h.trend.empty()) fail(what, key + ".trend", "needs at least one distance bin");
    if (h.trend.size() > 64) fail(what, key + ".trend", "has more than 64 distance bins");
    for (size_t k = 0; k < h.trend.size(); ++k)
      check_range(what, key + ".trend[" + std::to_string(k) + "]", h.trend[k], -1e4, 1e4);
    check_range(what, key + ".tail_slope", h.tail_slope, -100, 100);
    check_range(what, key + ".sink_logit", h.sink_logit, -1e4, 1e4);
    check_range(what, key + ".noise.sigma", h.noise_sigma, 0, 100);
    check_range(what, key + ".noise.step_correlation", h.noise_correlation, 0, 0.999);
    check_range(what, key + ".spikes.density", h.spike_density, 0, 0.5);
    check_range(what, key + ".spikes.logit", h.spike_logit, -1e4, 1e4);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Writing: one YAML node tree, emitted as YAML or as JSON.

namespace {

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

YAML::Node summary_node(const StatsSummary& s) {
  YAML::Node n;
  n["sink_mass"] = num(s.sink_mass);
  n["window_mass"] = num(s.window_mass);
  n["frac90"] = num(s.frac90);
  n["frac99"] = num(s.frac99);
  n["entropy"] = num(s.entropy);
  return n;
}

YAML::Node to_node(const AttentionModel& m) {
  YAML::Node root;
  root["format"] = kModelFormatName;
  root["version"] = kModelFormatVersion;
  YAML::Node src;
  src["trace"] = m.source_trace;
  src["model_name"] = m.source_model;
  src["positions"] = m.source_positions;
  src["decode_steps"] = m.source_decode_steps;
  src["fitted_by"] = m.fitted_by;
  root["source"] = src;
  YAML::Node shape;
  shape["layers"] = m.num_layers;
  shape["q_heads"] = m.num_q_heads;
  shape["kv_heads"] = m.num_kv_heads;
  shape["head_dim"] = m.head_dim;
  shape["softmax_scale"] = num(m.softmax_scale);
  root["shape"] = shape;
  root["sinks"] = m.sinks;
  root["window"] = m.window;
  YAML::Node fit;
  fit["seed"] = m.fit_seed;
  fit["eval_steps"] = m.fit_eval_steps;
  root["fit"] = fit;
  YAML::Node heads(YAML::NodeType::Sequence);
  for (const HeadModel& h : m.heads) {
    YAML::Node n;
    n["layer"] = h.layer;
    n["head"] = h.head;
    YAML::Node trend(YAML::NodeType::Sequence);
    for (double v : h.trend) trend.push_back(num(v));
    trend.SetStyle(YAML::EmitterStyle::Flow);
    n["trend"] = trend;
    n["tail_slope"] = num(h.tail_slope);
    n["sink_logit"] = num(h.sink_logit);
    YAML::Node noise;
    noise["sigma"] = num(h.noise_sigma);
    noise["step_correlation"] = num(h.noise_correlation);
    noise.SetStyle(YAML::EmitterStyle::Flow);
    n["noise"] = noise;
    YAML::Node spikes;
    spikes["density"] = num(h.spike_density);
    spikes["logit"] = num(h.spike_logit);
    spikes.SetStyle(YAML::EmitterStyle::Flow);
    n["spikes"] = spikes;
    if (h.real && h.fitted) {
      YAML::Node q;
      q["real"] = summary_node(*h.real);
      q["model"] = summary_node(*h.fitted);
      q["real"].SetStyle(YAML::EmitterStyle::Flow);
      q["model"].SetStyle(YAML::EmitterStyle::Flow);
      n["quality"] = q;
    }
    heads.push_back(n);
  }
  root["heads"] = heads;
  return root;
}

bool is_number(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(v);
}

void json_string(std::ostream& o, const std::string& s) {
  o << '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') o << '\\' << c;
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o << buf;
    } else o << c;
  }
  o << '"';
}

void to_json(std::ostream& o, const YAML::Node& n, int indent) {
  const std::string pad(indent + 2, ' ');
  if (n.IsMap()) {
    o << "{\n";
    bool first = true;
    for (const auto& kv : n) {
      if (!first) o << ",\n";
      first = false;
      o << pad;
      json_string(o, kv.first.as<std::string>());
      o << ": ";
      to_json(o, kv.second, indent + 2);
    }
    o << "\n" << std::string(indent, ' ') << "}";
  } else if (n.IsSequence()) {
    o << "[";
    for (size_t i = 0; i < n.size(); ++i) {
      if (i) o << ", ";
      if (n[i].IsMap()) o << "\n" << pad;
      to_json(o, n[i], indent + 2);
    }
    o << "]";
  } else {
    const std::string s = n.as<std::string>();
    if (is_number(s)) o << s;
    else json_string(o, s);
  }
}

}  // namespace

std::string model_to_text(const AttentionModel& m, bool json) {
  const YAML::Node root = to_node(m);
  if (json) {
    std::ostringstream o;
    to_json(o, root, 0);
    o << "\n";
    return o.str();
  }
  YAML::Emitter e;
  e << YAML::Comment("hgca attention model (docs/SYNTHESIS.md): fitted parameters per layer and query head");
  e << root;
  return std::string(e.c_str()) + "\n";
}

void save_model(const AttentionModel& m, const std::string& path) {
  validate_model(m, path);
  const bool json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  const std::string text = model_to_text(m, json);
  const std::filesystem::path target(path);
  std::string tmp_name = ".";  // built by appending: GCC 12 warns (-Wrestrict) on "." + string
  tmp_name += target.filename().string();
  tmp_name += ".tmp.";
  tmp_name += std::to_string(::getpid());
  const std::filesystem::path tmp = target.parent_path() / tmp_name;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw ModelError(path + ": cannot open for writing");
    out << text;
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw ModelError(path + ": write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw ModelError(path + ": cannot rename the temporary file into place");
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reading

namespace {

struct Reader {
  std::string file;

  [[noreturn]] void error(const std::string& key, const YAML::Node& n, const std::string& message) const {
    std::string where = file;
    if (n.Mark().line >= 0) where += ":" + std::to_string(n.Mark().line + 1);
    throw ModelError(where + ": " + key + ": " + message);
  }

  void only(const YAML::Node& n, const std::string& key, std::initializer_list<const char*> allowed) const {
    if (!n.IsMap()) error(key, n, "expected a mapping");
    const std::set<std::string> ok(allowed.begin(), allowed.end());
    for (const auto& kv : n) {
      const std::string k = kv.first.as<std::string>();
      if (!ok.count(k)) {
        std::string list;
        for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        error(key.empty() ? k : key + "." + k, kv.first, "unknown key (expected one of: " + list + ")");
      }
    }
  }

  YAML::Node need(const YAML::Node& n, const std::string& key, const char* name) const {
    const YAML::Node c = n[name];
    if (!c) error(key.empty() ? name : key + "." + name, n, "missing");
    return c;
  }

  double number(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) error(key, n, "expected a number");
    const std::string s = n.as<std::string>();
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
      error(key, n, "expected a finite number, got '" + s + "'");
    return v;
  }

  int64_t integer(const YAML::Node& n, const std::string& key) const {
    const double v = number(n, key);
    if (v != std::floor(v) || std::abs(v) > 9.0e15) error(key, n, "expected an integer");
    return static_cast<int64_t>(v);
  }

  std::string text(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) error(key, n, "expected a string");
    return n.as<std::string>();
  }

  StatsSummary summary(const YAML::Node& n, const std::string& key) const {
    only(n, key, {"sink_mass", "window_mass", "frac90", "frac99", "entropy"});
    StatsSummary s;
    s.sink_mass = number(need(n, key, "sink_mass"), key + ".sink_mass");
    s.window_mass = number(need(n, key, "window_mass"), key + ".window_mass");
    s.frac90 = number(need(n, key, "frac90"), key + ".frac90");
    s.frac99 = number(need(n, key, "frac99"), key + ".frac99");
    s.entropy = number(need(n, key, "entropy"), key + ".entropy");
    return s;
  }
};

}  // namespace

AttentionModel load_model(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw ModelError(path + ": no such model file");
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ModelError(path + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML/JSON: " + e.msg);
  }
  const Reader r{path};
  AttentionModel m;
  try {
    if (!root.IsMap()) r.error("(top level)", root, "expected a mapping");
    r.only(root, "", {"format", "version", "source", "shape", "sinks", "window", "fit", "heads"});
    if (r.text(r.need(root, "", "format"), "format") != kModelFormatName)
      r.error("format", root["format"], std::string("expected '") + kModelFormatName + "'");
    if (r.integer(r.need(root, "", "version"), "version") != kModelFormatVersion)
      r.error("version", root["version"], "unsupported version (this build reads " +
                                              std::to_string(kModelFormatVersion) + ")");
    if (const YAML::Node s = root["source"]) {
      r.only(s, "source", {"trace", "model_name", "positions", "decode_steps", "fitted_by"});
      if (s["trace"]) m.source_trace = r.text(s["trace"], "source.trace");
      if (s["model_name"]) m.source_model = r.text(s["model_name"], "source.model_name");
      if (s["positions"]) m.source_positions = r.integer(s["positions"], "source.positions");
      if (s["decode_steps"]) m.source_decode_steps = r.integer(s["decode_steps"], "source.decode_steps");
      if (s["fitted_by"]) m.fitted_by = r.text(s["fitted_by"], "source.fitted_by");
    }
    const YAML::Node shape = r.need(root, "", "shape");
    r.only(shape, "shape", {"layers", "q_heads", "kv_heads", "head_dim", "softmax_scale"});
    m.num_layers = static_cast<int>(r.integer(r.need(shape, "shape", "layers"), "shape.layers"));
    m.num_q_heads = static_cast<int>(r.integer(r.need(shape, "shape", "q_heads"), "shape.q_heads"));
    m.num_kv_heads = static_cast<int>(r.integer(r.need(shape, "shape", "kv_heads"), "shape.kv_heads"));
    m.head_dim = static_cast<int>(r.integer(r.need(shape, "shape", "head_dim"), "shape.head_dim"));
    m.softmax_scale = r.number(r.need(shape, "shape", "softmax_scale"), "shape.softmax_scale");
    m.sinks = r.integer(r.need(root, "", "sinks"), "sinks");
    m.window = r.integer(r.need(root, "", "window"), "window");
    if (const YAML::Node f = root["fit"]) {
      r.only(f, "fit", {"seed", "eval_steps"});
      if (f["seed"]) m.fit_seed = static_cast<uint64_t>(r.integer(f["seed"], "fit.seed"));
      if (f["eval_steps"]) m.fit_eval_steps = r.integer(f["eval_steps"], "fit.eval_steps");
    }
    const YAML::Node heads = r.need(root, "", "heads");
    if (!heads.IsSequence()) r.error("heads", heads, "expected a list");
    for (size_t i = 0; i < heads.size(); ++i) {
      const std::string key = "heads[" + std::to_string(i) + "]";
      const YAML::Node n = heads[i];
      r.only(n, key, {"layer", "head", "trend", "tail_slope", "sink_logit", "noise", "spikes", "quality"});
      HeadModel h;
      h.layer = static_cast<int>(r.integer(r.need(n, key, "layer"), key + ".layer"));
      h.head = static_cast<int>(r.integer(r.need(n, key, "head"), key + ".head"));
      const YAML::Node trend = r.need(n, key, "trend");
      if (!trend.IsSequence()) r.error(key + ".trend", trend, "expected a list of numbers");
      for (size_t k = 0; k < trend.size(); ++k)
        h.trend.push_back(r.number(trend[k], key + ".trend[" + std::to_string(k) + "]"));
      h.tail_slope = r.number(r.need(n, key, "tail_slope"), key + ".tail_slope");
      h.sink_logit = r.number(r.need(n, key, "sink_logit"), key + ".sink_logit");
      const YAML::Node noise = r.need(n, key, "noise");
      r.only(noise, key + ".noise", {"sigma", "step_correlation"});
      h.noise_sigma = r.number(r.need(noise, key + ".noise", "sigma"), key + ".noise.sigma");
      h.noise_correlation =
          r.number(r.need(noise, key + ".noise", "step_correlation"), key + ".noise.step_correlation");
      const YAML::Node spikes = r.need(n, key, "spikes");
      r.only(spikes, key + ".spikes", {"density", "logit"});
      h.spike_density = r.number(r.need(spikes, key + ".spikes", "density"), key + ".spikes.density");
      h.spike_logit = r.number(r.need(spikes, key + ".spikes", "logit"), key + ".spikes.logit");
      if (const YAML::Node q = n["quality"]) {
        r.only(q, key + ".quality", {"real", "model"});
        h.real = r.summary(r.need(q, key + ".quality", "real"), key + ".quality.real");
        h.fitted = r.summary(r.need(q, key + ".quality", "model"), key + ".quality.model");
      }
      m.heads.push_back(std::move(h));
    }
  } catch (const YAML::Exception& e) {
    throw ModelError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  validate_model(m, path);
  return m;
}

}  // namespace hgca::traces::synth
