#include "sim/validation/step_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace hgca::validation {

const std::vector<FitParam>& fittable_params() {
  // Durations: a log grid from 1 ns (a per-row cost) to 2 ms (a host step), and 0.
  constexpr double kMin = 1e-9, kMax = 2e-3;
  static const std::vector<FitParam> all = [] {
    std::vector<FitParam> ps;
    auto duration = [&](const char* name, std::function<double&(HardwareProfile&)> f) {
      ps.push_back({name, kMin, kMax, true, FitParam::Kind::Duration, std::move(f)});
    };
    duration("host.framework_op", [](HardwareProfile& h) -> double& { return h.host.framework_op_s; });
    duration("host.framework_step", [](HardwareProfile& h) -> double& { return h.host.framework_step_s; });
    // host.sync > 0 switches the blocking host on, whatever its size (0 keeps the host that never blocks).
    duration("host.sync", [](HardwareProfile& h) -> double& { return h.host.sync_s; });
    // The host's return from a CPU phase (hgca bench wake): up to 2 ms more, over a time constant of 100 us to 100 ms.
    duration("host.after_cpu_max", [](HardwareProfile& h) -> double& { return h.host.after_cpu_max_s; });
    ps.push_back({"host.after_cpu_time", 1e-4, 1e-1, false, FitParam::Kind::Duration,
                  [](HardwareProfile& h) -> double& { return h.host.after_cpu_time_s; },
                  [](const HardwareProfile& h) {
                    return h.host.after_cpu_max_s > 0 ? std::string()
                                                      : std::string("host.after_cpu_max is 0, so it does nothing (fit it too)");
                  }});
    // The cache the KV effectively gets (other data and tenants share it): 1 MiB to 4 GiB.
    ps.push_back({"cpu.llc_bytes", 1024.0 * 1024, 4.0 * 1024 * 1024 * 1024, false, FitParam::Kind::Bytes,
                  [](HardwareProfile& h) -> double& { return h.cpu.llc_bytes; }});
    // The cache's other terms do nothing without a cache.
    auto needs_llc_bytes = [](const HardwareProfile& h) {
      return h.cpu.llc_bytes > 0 ? std::string() : std::string("the base profile sets no cpu.llc_bytes, so it does nothing");
    };
    ps.push_back({"cpu.llc_bandwidth_factor", 1, 64, false, FitParam::Kind::Number,
                  [](HardwareProfile& h) -> double& { return h.cpu.llc_bandwidth_factor; }, needs_llc_bytes});
    // How long other traffic lets a line stay in the cache: 0 (no other traffic, the knee) or 10 us to 1 s.
    ps.push_back({"cpu.llc_residency", 1e-5, 1.0, true, FitParam::Kind::Duration,
                  [](HardwareProfile& h) -> double& { return h.cpu.llc_residency_s; }, needs_llc_bytes});
    ps.push_back({"cpu.gather_efficiency", 0.05, 1, false, FitParam::Kind::Number,
                  [](HardwareProfile& h) -> double& { return h.cpu.gather_efficiency; }});
    duration("cpu.row_cost", [](HardwareProfile& h) -> double& { return h.cpu.row_cost_s; });
    duration("cpu.task_overhead", [](HardwareProfile& h) -> double& { return h.cpu.task_overhead_s; });
    duration("cpu.wakeup", [](HardwareProfile& h) -> double& { return h.cpu.wakeup_s; });
    duration("cpu.wakeup_stagger", [](HardwareProfile& h) -> double& { return h.cpu.wakeup_stagger_s; });
    duration("pcie.d2h.latency", [](HardwareProfile& h) -> double& { return h.pcie.d2h.latency_s; });
    duration("pcie.h2d.latency", [](HardwareProfile& h) -> double& { return h.pcie.h2d.latency_s; });
    duration("gpu.vector_fixed", [](HardwareProfile& h) -> double& { return h.gpu.vector_fixed_s; });
    duration("gpu.attention_fixed", [](HardwareProfile& h) -> double& { return h.gpu.attention_fixed_s; });
    duration("gpu.kernel_launch", [](HardwareProfile& h) -> double& { return h.gpu.kernel_launch_s; });
    return ps;
  }();
  return all;
}

std::string fittable_param_names() {
  std::string names;
  for (const FitParam& p : fittable_params()) names += (names.empty() ? "" : ", ") + p.name;
  return names;
}

std::vector<FitParam> parse_fit_params(const std::string& list) {
  std::vector<FitParam> out;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');) {
    const FitParam* found = nullptr;
    for (const FitParam& p : fittable_params())
      if (name == p.name || (p.name.rfind("host.", 0) == 0 && name == p.name.substr(5))) found = &p;
    if (!found)
      throw std::runtime_error("--params: '" + name + "' is not a fittable parameter; expected some of " +
                               fittable_param_names());
    for (const FitParam& q : out)
      if (q.name == found->name) throw std::runtime_error("--params: '" + name + "' given twice");
    out.push_back(*found);
  }
  if (out.empty()) throw std::runtime_error("--params: expected a list such as framework_op,framework_step,sync");
  return out;
}

namespace {

class Objective {
 public:
  Objective(const std::vector<MeasuredRow>& rows, const StepFitOptions& o, const LoadOptions& l)
      : rows_(rows), opts_(o), load_(l) {}
  double operator()(const HardwareProfile& hw) {
    ++evaluations;
    const bool phases = opts_.phase_weight > 0;
    const std::vector<PredictedRow> pred = predict_rows(rows_, hw, load_, opts_.jobs, phases);
    double sum = 0;
    int n = 0;
    for (const PredictedRow& r : pred)
      if (r.feasible) {
        sum += r.error * r.error;
        if (phases) {
          const double e = phase_error(r.predicted_phases.cpu_attention_ms, r.measured.phases.cpu_attention_ms);
          if (std::isfinite(e)) sum += opts_.phase_weight * e * e;
        }
        ++n;
      }
    if (n == 0) throw std::runtime_error("validate fit: no fit row has a prediction (every one is infeasible)");
    return sum;
  }
  int evaluations = 0;

 private:
  const std::vector<MeasuredRow>& rows_;
  const StepFitOptions& opts_;
  const LoadOptions& load_;
};

// Golden-section search for the minimum of f(exp(u)) over u in [a, b]; returns the best value seen (and its
// objective in `best_f`), starting from the known point x0 with objective f0.
template <class F>
double golden_log(F&& f, double a, double b, double x0, double f0, double& best_f) {
  const double g = (std::sqrt(5.0) - 1.0) / 2.0;
  double best = x0;
  best_f = f0;
  double c = b - g * (b - a), d = a + g * (b - a);
  double fc = f(std::exp(c)), fd = f(std::exp(d));
  for (int i = 0; i < 14 && b - a > 1e-3; ++i) {  // 14 steps shrink the bracket by ~850x
    if (fc < fd) {
      b = d, d = c, fd = fc;
      c = b - g * (b - a);
      fc = f(std::exp(c));
    } else {
      a = c, c = d, fc = fd;
      d = a + g * (b - a);
      fd = f(std::exp(d));
    }
    if (fc < best_f) best_f = fc, best = std::exp(c);
    if (fd < best_f) best_f = fd, best = std::exp(d);
  }
  return best;
}

// A parameter's search coordinate: log(x + offset), the offset the range's low end where 0 is allowed (so 0 is
// reachable), else 0; values are clamped to the range (0 counts as inside for a parameter that may vanish).
double to_coord(const FitParam& p, double x) { return std::log(x + (p.zero ? p.lo : 0.0)); }
double from_coord(const FitParam& p, double u) {
  double x = std::exp(u) - (p.zero ? p.lo : 0.0);
  if (p.zero && x < p.lo / 2) return 0.0;
  return std::clamp(x, p.lo, p.hi);
}

// Nelder-Mead over every parameter's coordinate, starting from `start` (objective f0); keeps `start` unless it
// finds better. Returns the best objective and leaves its profile in `start`. Deterministic.
template <class F>
double nelder_mead(F& f, const std::vector<FitParam>& params, HardwareProfile& start, double f0, int max_evaluations) {
  const std::size_t n = params.size();
  auto profile_at = [&](const std::vector<double>& u) {
    HardwareProfile hw = start;
    for (std::size_t i = 0; i < n; ++i) params[i].field(hw) = from_coord(params[i], u[i]);
    return hw;
  };
  std::vector<std::vector<double>> pts(n + 1, std::vector<double>(n));
  std::vector<double> fs(n + 1);
  for (std::size_t i = 0; i < n; ++i) pts[0][i] = to_coord(params[i], params[i].field(start));
  fs[0] = f0;
  int evals = 0;
  for (std::size_t k = 1; k <= n; ++k) {
    pts[k] = pts[0];
    pts[k][k - 1] += 0.3;  // x 1.35: a step the coordinate search's bracket no longer saw
    fs[k] = f(profile_at(pts[k]));
    ++evals;
  }
  std::vector<std::size_t> order(n + 1);
  while (evals < max_evaluations) {
    for (std::size_t i = 0; i <= n; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return fs[a] < fs[b]; });
    const std::size_t best = order.front(), worst = order.back(), second = order[n - 1];
    if (fs[worst] - fs[best] <= 1e-9 * fs[best] + 1e-15) break;
    std::vector<double> centre(n, 0.0);
    for (std::size_t k = 0; k <= n; ++k)
      if (k != worst)
        for (std::size_t i = 0; i < n; ++i) centre[i] += pts[k][i] / static_cast<double>(n);
    auto along = [&](double t) {
      std::vector<double> u(n);
      for (std::size_t i = 0; i < n; ++i) u[i] = centre[i] + t * (pts[worst][i] - centre[i]);
      return u;
    };
    const std::vector<double> r = along(-1.0);
    const double fr = f(profile_at(r));
    ++evals;
    if (fr < fs[best]) {
      const std::vector<double> e = along(-2.0);
      const double fe = f(profile_at(e));
      ++evals;
      if (fe < fr) pts[worst] = e, fs[worst] = fe;
      else pts[worst] = r, fs[worst] = fr;
    } else if (fr < fs[second]) {
      pts[worst] = r, fs[worst] = fr;
    } else {
      const std::vector<double> c = along(fr < fs[worst] ? -0.5 : 0.5);
      const double fc = f(profile_at(c));
      ++evals;
      if (fc < std::min(fr, fs[worst])) {
        pts[worst] = c, fs[worst] = fc;
      } else {  // shrink towards the best point
        for (std::size_t k = 0; k <= n; ++k) {
          if (k == best) continue;
          for (std::size_t i = 0; i < n; ++i) pts[k][i] = pts[best][i] + 0.5 * (pts[k][i] - pts[best][i]);
          fs[k] = f(profile_at(pts[k]));
          ++evals;
        }
      }
    }
  }
  const std::size_t best = static_cast<std::size_t>(std::min_element(fs.begin(), fs.end()) - fs.begin());
  if (fs[best] < f0) {
    start = profile_at(pts[best]);
    return fs[best];
  }
  return f0;
}

}  // namespace

StepFit fit_to_steps(const std::vector<MeasuredRow>& rows, const HardwareProfile& base, const StepFitOptions& opts,
                     const LoadOptions& load) {
  // Holdout rows go no further than this line.
  std::vector<MeasuredRow> fit_rows;
  for (const MeasuredRow& r : rows)
    if (r.point.role == PointRole::Fit) fit_rows.push_back(r);
  if (fit_rows.empty()) throw std::runtime_error("validate fit: the table has no role=fit row");
  if (opts.params.empty()) throw std::runtime_error("validate fit: no parameter to fit");
  if (opts.grid_points < 3) throw std::runtime_error("validate fit: at least 3 grid points are needed");
  if (!(opts.phase_weight >= 0 && std::isfinite(opts.phase_weight)))
    throw std::runtime_error("validate fit: the phase weight must be a number >= 0");
  // A parameter is inert when it does nothing even with the other fitted ones at their largest values (so
  // that host.after_cpu_time may be fitted together with a host.after_cpu_max that starts at 0).
  HardwareProfile widest = base;
  for (const FitParam& p : opts.params) p.field(widest) = p.hi;
  for (const FitParam& p : opts.params) {
    if (!(p.lo > 0 && p.hi > p.lo)) throw std::runtime_error("validate fit: bad search range for " + p.name);
    if (p.inert)
      if (const std::string why = p.inert(widest); !why.empty())
        throw std::runtime_error("validate fit: " + p.name + " has no effect: " + why);
  }
  auto grid_of = [&](const FitParam& p) {
    std::vector<double> grid;
    if (p.zero) grid.push_back(0.0);
    const double lmin = std::log(p.lo), lmax = std::log(p.hi);
    for (int i = 0; i < opts.grid_points; ++i) grid.push_back(std::exp(lmin + (lmax - lmin) * i / (opts.grid_points - 1)));
    return grid;
  };

  Objective f(fit_rows, opts, load);
  HardwareProfile cur = base;
  double cur_f = f(cur);
  auto with = [&](HardwareProfile hw, const FitParam& p, double x) {
    p.field(hw) = x;
    return hw;
  };
  for (int round = 0; round < opts.max_rounds; ++round) {
    HardwareProfile round_start = cur;  // non-const: FitParam::field gives a reference
    const double round_f = cur_f;
    for (const FitParam& p : opts.params) {
      const double x0 = p.field(cur);
      double best_x = x0, best_f = cur_f, lo = 0, hi = 0;
      if (round == 0 || x0 <= 0) {
        // The whole grid; the best point's neighbours bracket the refinement (the range's low end when 0 or
        // that end is best). Ties keep the smaller value (the grid ascends, < is strict).
        const std::vector<double> grid = grid_of(p);
        std::size_t best_i = 0;
        double grid_f = std::numeric_limits<double>::infinity();
        for (std::size_t i = 0; i < grid.size(); ++i) {
          const double fi = f(with(cur, p, grid[i]));
          if (fi < grid_f) grid_f = fi, best_i = i;
        }
        if (grid_f < best_f) best_f = grid_f, best_x = grid[best_i];
        lo = grid[best_i] <= p.lo || best_i == 0 ? p.lo : grid[best_i - 1];
        hi = best_i + 1 < grid.size() ? grid[best_i + 1] : p.hi;
      } else {  // later rounds: a local bracket around the current value, inside the range
        lo = std::max(x0 / 2, p.lo);
        hi = std::min(x0 * 2, p.hi);
      }
      if (hi > lo) {
        double gf = best_f;
        const double gx = golden_log([&](double x) { return f(with(cur, p, x)); }, std::log(lo), std::log(hi), best_x,
                                     best_f, gf);
        if (gf < best_f) best_f = gf, best_x = gx;
      }
      if (best_f < cur_f) {  // never worse than before
        p.field(cur) = best_x;
        cur_f = best_f;
      }
    }
    // Pattern move (Hooke-Jeeves): correlated parameters make coordinate steps zig-zag along a valley;
    // repeat the round's whole move once and keep it if it is better.
    if (opts.params.size() > 1) {
      HardwareProfile jump = cur;
      for (const FitParam& p : opts.params) {
        const double x = 2 * p.field(cur) - p.field(round_start);
        p.field(jump) = x >= p.lo ? std::min(x, p.hi) : p.zero ? 0.0 : p.lo;
      }
      const double fj = f(jump);
      if (fj < cur_f) cur = jump, cur_f = fj;
    }
    if (round_f - cur_f <= 1e-9 * round_f + 1e-15) break;  // converged
  }
  // Coordinate steps stall where parameters trade off (a wake-up against its per-worker stagger, a cache size
  // against its speed-up): polish jointly with Nelder-Mead, restarted from its own result while that helps.
  if (opts.params.size() > 1 && opts.simplex_evaluations > 0) {
    for (int restart = 0; restart < 3; ++restart) {
      const double before = cur_f;
      cur_f = nelder_mead(f, opts.params, cur, cur_f, opts.simplex_evaluations);
      if (before - cur_f <= 1e-6 * before) break;
    }
  }
  StepFit out;
  out.profile = cur;
  out.objective = cur_f;
  out.fit_rows = static_cast<int>(fit_rows.size());
  out.rows = predict_rows(fit_rows, cur, load, opts.jobs);
  out.evaluations = f.evaluations + 1;
  return out;
}

}  // namespace hgca::validation
