#include "sim/validation/grid.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <set>
#include <tuple>

namespace hgca::validation {

const char* to_string(PointKind k) { return k == PointKind::Attention ? "attention" : "decode-step"; }
const char* to_string(PointRole r) { return r == PointRole::Fit ? "fit" : "holdout"; }

bool parse_kind(const std::string& s, PointKind& out) {
  if (s == "attention") out = PointKind::Attention;
  else if (s == "decode-step") out = PointKind::DecodeStep;
  else return false;
  return true;
}
bool parse_role(const std::string& s, PointRole& out) {
  if (s == "fit") out = PointRole::Fit;
  else if (s == "holdout") out = PointRole::Holdout;
  else return false;
  return true;
}

double ValidationPoint::pool_bytes() const {
  return static_cast<double>(pool_rows()) * batch * kv_heads * head_dim * 2.0 * 2.0;
}

std::int64_t resolve_budget(const std::string& budget, std::int64_t pool_rows) {
  if (budget.empty()) throw GridError("budget is empty; expected rows per head (64) or a share of the pool (5%)");
  char* end = nullptr;
  const double v = std::strtod(budget.c_str(), &end);
  const std::string rest(end);
  if (end == budget.c_str() || !std::isfinite(v) || v < 0 || (rest != "" && rest != "%"))
    throw GridError("budget '" + budget + "' is not rows per head (64) or a share of the pool (5%)");
  if (rest == "%") {
    if (v > 100) throw GridError("budget '" + budget + "' is over 100%");
    return std::clamp<std::int64_t>(std::llround(v / 100.0 * static_cast<double>(pool_rows)), 0, pool_rows);
  }
  if (v != std::floor(v)) throw GridError("budget '" + budget + "' is not a whole number of rows");
  return std::min(static_cast<std::int64_t>(v), pool_rows);
}

PointRole role_for_id(int id) { return id % 3 == 2 ? PointRole::Holdout : PointRole::Fit; }

namespace {

struct Shape {
  int q_heads, kv_heads, head_dim;
};

// A rough wall-clock estimate of measuring a point on the device machine (H100 + 16-core Xeon): filling the
// CPU pool and the GPU window with the runner's hashed data, then warm-up + timed steps, each redrawing its
// random lists (untimed, but real time) and reading the selected rows. Used only to keep the presets inside
// their time budget; the constants are deliberately pessimistic.
double estimate_seconds(const ValidationPoint& p, int runs) {
  // s per K/V element per thread (hash, fp16 conversion, first touch): 40-60 ns measured on the device machine.
  constexpr double kFillPerValue = 55e-9;
  const double t = std::max(1, p.threads);
  const double pool_values = static_cast<double>(p.pool_rows()) * p.batch * p.kv_heads * p.head_dim * 2.0;
  const double window_values = static_cast<double>(std::min(p.context, p.window)) * p.batch * p.kv_heads * p.head_dim * 2.0;
  const double fill = pool_values * kFillPerValue / t + window_values * kFillPerValue / std::min(t, 1.0 * p.kv_heads);
  const double rows = static_cast<double>(p.batch) * p.q_heads;
  const double draw = rows * (static_cast<double>(p.pool_rows()) * 2e-9 + static_cast<double>(p.cpu_select) * 40e-9) / t;
  const double cpu_bw = std::min(5e9 * t, 80e9);
  const double step = rows * static_cast<double>(p.cpu_select) * 2.0 * p.head_dim * 2.0 / cpu_bw + 2e-4;
  // A decode step also allocates and fills its weights (~16 GB) and starts cuBLAS.
  return 0.3 + (p.kind == PointKind::DecodeStep ? 3.0 : 0.0) + fill + runs * p.layers * (draw + step);
}

}  // namespace

static int runs_for(PointKind k) {
  const Repetitions r = repetitions_for(k);
  return r.warmup + r.reps;
}

double estimated_measure_seconds(const ValidationPoint& p) { return estimate_seconds(p, runs_for(p.kind)); }

std::vector<ValidationPoint> preset_points(const std::string& name) {
  std::vector<ValidationPoint> out;
  auto add = [&](ValidationPoint p) {
    p.id = static_cast<int>(out.size());
    p.role = role_for_id(p.id);
    p.cpu_select = resolve_budget(p.budget, p.pool_rows());
    out.push_back(p);
  };
  auto decode_point = [](int batch, std::int64_t context, const char* budget) {
    ValidationPoint p;
    p.kind = PointKind::DecodeStep;
    p.model = "llama-3.1-8b";
    p.layers = 32;
    p.batch = batch;
    p.context = context;
    p.window = 4096;
    p.budget = budget;
    p.threads = 15;
    return p;
  };
  if (name == "quick") {
    const std::tuple<int, std::int64_t, std::int64_t, const char*, int> q[] = {
        {1, 4096, 256, "64", 4}, {4, 16384, 1024, "5%", 8}, {16, 8192, 1024, "1%", 15}, {2, 16384, 4096, "10%", 8}};
    for (const auto& [b, c, w, budget, t] : q) {
      ValidationPoint p;
      p.batch = b;
      p.context = c;
      p.window = w;
      p.budget = budget;
      p.threads = t;
      add(p);
    }
    add(decode_point(1, 8192, "5%"));
    return out;
  }
  if (name != "default") throw GridError("unknown preset '" + name + "'; expected default or quick");

  // Attention points: draws from the grid's value lists by a fixed generator (mt19937's output is specified
  // by the standard, so every platform draws the same sequence), kept when the pool fits the memory ceiling,
  // the point is new and the running time estimate stays inside the budget.
  const int batches[] = {1, 4, 16, 64};
  const std::int64_t contexts[] = {4096, 16384, 32768, 131072};
  const std::int64_t windows[] = {256, 1024, 4096, 8192};
  const char* budgets[] = {"64", "1%", "5%", "10%"};
  const int threads[] = {4, 8, 15};
  const char* tasks[] = {"kv_group", "kv_group", "kv_group", "head"};  // mostly the runner's default
  // Llama-3.1-8B's attention (twice as likely), Llama-2-7B's (MHA), and a small GQA shape with head_dim 64.
  const Shape shapes[] = {{32, 8, 128}, {32, 8, 128}, {32, 32, 128}, {16, 4, 64}};
  constexpr int kAttentionPoints = 80;
  constexpr double kAttentionBudgetS = 170;
  std::mt19937 gen(20261204u);
  auto pick = [&](int n) { return static_cast<int>(gen() % static_cast<unsigned>(n)); };
  std::set<std::tuple<int, std::int64_t, std::int64_t, std::string, int, std::string, int, int, int>> seen;
  double spent = 0;
  for (int draw = 0; draw < 20000 && static_cast<int>(out.size()) < kAttentionPoints; ++draw) {
    ValidationPoint p;
    p.batch = batches[pick(4)];
    p.context = contexts[pick(4)];
    p.window = windows[pick(4)];
    p.budget = budgets[pick(4)];
    p.threads = threads[pick(3)];
    p.cpu_task = tasks[pick(4)];
    const Shape s = shapes[pick(4)];
    p.q_heads = s.q_heads;
    p.kv_heads = s.kv_heads;
    p.head_dim = s.head_dim;
    if (p.window >= p.context || p.pool_bytes() > kMaxPoolBytes) continue;
    p.cpu_select = resolve_budget(p.budget, p.pool_rows());
    if (!seen.insert({p.batch, p.context, p.window, p.budget, p.threads, p.cpu_task, p.q_heads, p.kv_heads, p.head_dim})
             .second)
      continue;
    const double est = estimate_seconds(p, runs_for(p.kind));
    if (est > 8.0 || spent + est > kAttentionBudgetS) continue;
    spent += est;
    add(p);
  }
  // Whole decode steps of Llama-3.1-8B: batch {1, 16, 64} x context {8K, 32K}, window 4K, 2% or 5% of the pool.
  const std::tuple<int, std::int64_t, const char*> steps[] = {{1, 8192, "5%"},   {1, 32768, "2%"},  {16, 8192, "2%"},
                                                              {16, 32768, "5%"}, {64, 8192, "5%"}, {64, 32768, "2%"}};
  for (const auto& [b, c, budget] : steps) add(decode_point(b, c, budget));
  return out;
}

namespace {

template <class T>
T read_scalar(const YAML::Node& n, const std::string& where, const char* key, const char* expected) {
  const YAML::Node v = n[key];
  if (!v) throw GridError(where + "." + key + ": missing; expected " + expected);
  try {
    return v.as<T>();
  } catch (const YAML::Exception&) {
    throw GridError(where + "." + key + ": '" + (v.IsScalar() ? v.Scalar() : "(not a scalar)") + "' is not " + expected);
  }
}

}  // namespace

std::vector<ValidationPoint> read_grid_file(const std::string& path) {
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw GridError(path + ": cannot read the grid file");
  } catch (const YAML::Exception& e) {
    throw GridError(path + ":" + std::to_string(e.mark.line + 1) + ": not YAML: " + e.msg);
  }
  const YAML::Node list = doc["points"];
  if (!list || !list.IsSequence() || list.size() == 0)
    throw GridError(path + ": points: missing or empty; expected a list of points");
  static const std::set<std::string> known = {"kind",    "role",   "model",  "batch",   "q_heads",  "kv_heads", "head_dim",
                                              "context", "window", "budget", "threads", "cpu_task", "layers"};
  std::vector<ValidationPoint> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node n = list[i];
    const std::string where = path + ": points[" + std::to_string(i) + "]";
    if (!n.IsMap()) throw GridError(where + ": expected a map of keys");
    for (const auto& kv : n)
      if (!known.count(kv.first.as<std::string>()))
        throw GridError(where + "." + kv.first.as<std::string>() + ": unknown key");
    ValidationPoint p;
    p.id = static_cast<int>(i);
    p.role = role_for_id(p.id);
    const std::string kind = n["kind"] ? read_scalar<std::string>(n, where, "kind", "attention or decode-step") : "attention";
    if (!parse_kind(kind, p.kind)) throw GridError(where + ".kind: '" + kind + "'; expected attention or decode-step");
    if (n["role"]) {
      const std::string role = read_scalar<std::string>(n, where, "role", "fit or holdout");
      if (!parse_role(role, p.role)) throw GridError(where + ".role: '" + role + "'; expected fit or holdout");
    }
    auto positive = [&](const char* key, auto fallback) {
      using T = decltype(fallback);
      const T v = n[key] ? read_scalar<T>(n, where, key, "a positive integer") : fallback;
      if (v <= 0) throw GridError(where + "." + key + ": " + std::to_string(v) + "; expected a positive integer");
      return v;
    };
    p.batch = positive("batch", p.batch);
    p.q_heads = positive("q_heads", p.q_heads);
    p.kv_heads = positive("kv_heads", p.kv_heads);
    p.head_dim = positive("head_dim", p.head_dim);
    p.context = positive("context", p.context);
    p.window = positive("window", p.window);
    p.threads = positive("threads", p.threads);
    if (p.q_heads % p.kv_heads != 0) throw GridError(where + ".q_heads: not a multiple of kv_heads");
    if (p.kind == PointKind::DecodeStep) {
      p.model = n["model"] ? read_scalar<std::string>(n, where, "model", "a model name") : "llama-3.1-8b";
      p.layers = positive("layers", 32);
    }
    if (n["cpu_task"]) p.cpu_task = read_scalar<std::string>(n, where, "cpu_task", "kv_group, head or sequence");
    if (p.cpu_task != "kv_group" && p.cpu_task != "head" && p.cpu_task != "sequence")
      throw GridError(where + ".cpu_task: '" + p.cpu_task + "'; expected kv_group, head or sequence");
    p.budget = read_scalar<std::string>(n, where, "budget", "rows per head (64) or a share of the pool (5%)");
    try {
      p.cpu_select = resolve_budget(p.budget, p.pool_rows());
    } catch (const GridError& e) {
      throw GridError(where + ".budget: " + e.what());
    }
    out.push_back(p);
  }
  return out;
}

}  // namespace hgca::validation
