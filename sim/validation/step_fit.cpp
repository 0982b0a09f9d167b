#include "sim/validation/host_fit.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace hgca::validation {

const char* to_string(HostParam p) {
  switch (p) {
    case HostParam::FrameworkOp: return "host.framework_op";
    case HostParam::FrameworkStep: return "host.framework_step";
    case HostParam::Sync: return "host.sync";
    case HostParam::CpuLlcBandwidthFactor: return "cpu.llc_bandwidth_factor";
  }
  return "?";
}

double& param_value(HardwareProfile& hw, HostParam p) {
  switch (p) {
    case HostParam::FrameworkOp: return hw.host.framework_op_s;
    case HostParam::FrameworkStep: return hw.host.framework_step_s;
    case HostParam::CpuLlcBandwidthFactor: return hw.cpu.llc_bandwidth_factor;
    case HostParam::Sync: break;
  }
  return hw.host.sync_s;
}

std::vector<HostParam> parse_host_params(const std::string& list) {
  constexpr HostParam all[] = {HostParam::FrameworkOp, HostParam::FrameworkStep, HostParam::Sync,
                               HostParam::CpuLlcBandwidthFactor};
  std::vector<HostParam> out;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');) {
    const HostParam* found = nullptr;
    for (const HostParam& p : all) {
      const std::string full = to_string(p);
      if (name == full || (full.rfind("host.", 0) == 0 && name == full.substr(5))) found = &p;
    }
    if (!found)
      throw std::runtime_error("--params: '" + name +
                               "' is not host.framework_op, host.framework_step, host.sync or cpu.llc_bandwidth_factor");
    for (HostParam q : out)
      if (q == *found) throw std::runtime_error("--params: '" + name + "' given twice");
    out.push_back(*found);
  }
  if (out.empty()) throw std::runtime_error("--params: expected a list such as framework_op,framework_step,sync");
  return out;
}

namespace {

class Objective {
 public:
  Objective(const std::vector<MeasuredRow>& rows, const HostFitOptions& o, const LoadOptions& l)
      : rows_(rows), opts_(o), load_(l) {}
  double operator()(const HardwareProfile& hw) {
    ++evaluations;
    const std::vector<PredictedRow> pred = predict_rows(rows_, hw, load_, opts_.jobs, /*phases=*/false);
    double sum = 0;
    int n = 0;
    for (const PredictedRow& r : pred)
      if (r.feasible) {
        sum += r.error * r.error;
        ++n;
      }
    if (n == 0) throw std::runtime_error("validate fit: no fit row has a prediction (every one is infeasible)");
    return sum;
  }
  int evaluations = 0;

 private:
  const std::vector<MeasuredRow>& rows_;
  const HostFitOptions& opts_;
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

}  // namespace

HostFit fit_host(const std::vector<MeasuredRow>& rows, const HardwareProfile& base, const HostFitOptions& opts,
                 const LoadOptions& load) {
  // Holdout rows go no further than this line.
  std::vector<MeasuredRow> fit_rows;
  for (const MeasuredRow& r : rows)
    if (r.point.role == PointRole::Fit) fit_rows.push_back(r);
  if (fit_rows.empty()) throw std::runtime_error("validate fit: the table has no role=fit row");
  if (opts.params.empty()) throw std::runtime_error("validate fit: no parameter to fit");
  if (!(opts.min_s > 0 && opts.max_s > opts.min_s && opts.grid_points >= 3))
    throw std::runtime_error("validate fit: bad search range");

  for (HostParam p : opts.params)
    if (p == HostParam::CpuLlcBandwidthFactor && !(base.cpu.llc_bytes > 0))
      throw std::runtime_error("validate fit: cpu.llc_bandwidth_factor has no effect: the base profile sets no cpu.llc_bytes");
  if (!(opts.min_factor > 0 && opts.max_factor > opts.min_factor))
    throw std::runtime_error("validate fit: bad search range for cpu.llc_bandwidth_factor");

  // Per parameter: its log grid's range and whether 0 is a candidate (a host term may vanish; a cache read
  // speed-up of 0 means nothing).
  struct Range {
    double lo, hi;
    bool zero;
  };
  auto range = [&](HostParam p) {
    return p == HostParam::CpuLlcBandwidthFactor ? Range{opts.min_factor, opts.max_factor, false}
                                                 : Range{opts.min_s, opts.max_s, true};
  };
  auto grid_of = [&](const Range& r) {
    std::vector<double> grid;
    if (r.zero) grid.push_back(0.0);
    const double lmin = std::log(r.lo), lmax = std::log(r.hi);
    for (int i = 0; i < opts.grid_points; ++i) grid.push_back(std::exp(lmin + (lmax - lmin) * i / (opts.grid_points - 1)));
    return grid;
  };

  Objective f(fit_rows, opts, load);
  HardwareProfile cur = base;
  double cur_f = f(cur);
  auto with = [&](HardwareProfile hw, HostParam p, double x) {
    param_value(hw, p) = x;
    return hw;
  };
  for (int round = 0; round < opts.max_rounds; ++round) {
    HardwareProfile round_start = cur;  // non-const: param_value gives a reference
    const double round_f = cur_f;
    for (HostParam p : opts.params) {
      const Range r = range(p);
      const double x0 = param_value(cur, p);
      double best_x = x0, best_f = cur_f, lo = 0, hi = 0;
      if (round == 0 || x0 <= 0) {
        // The whole grid; the best point's neighbours bracket the refinement (the smallest positive value, the
        // range's low end, when 0 or that end is best). Ties keep the smaller value (the grid ascends, < is strict).
        const std::vector<double> grid = grid_of(r);
        std::size_t best_i = 0;
        double grid_f = std::numeric_limits<double>::infinity();
        for (std::size_t i = 0; i < grid.size(); ++i) {
          const double fi = f(with(cur, p, grid[i]));
          if (fi < grid_f) grid_f = fi, best_i = i;
        }
        if (grid_f < best_f) best_f = grid_f, best_x = grid[best_i];
        lo = grid[best_i] <= r.lo || best_i == 0 ? r.lo : grid[best_i - 1];
        hi = best_i + 1 < grid.size() ? grid[best_i + 1] : r.hi * 2;
      } else {  // later rounds: a local bracket around the current value, never below the range's low end (0 or
        lo = std::max(x0 / 2, r.lo);  // >= min_s: host.sync > 0 switches the blocking host on, whatever its size)
        hi = std::max(x0 * 2, 2 * r.lo);
      }
      double gf = best_f;
      const double gx = golden_log([&](double x) { return f(with(cur, p, x)); }, std::log(lo), std::log(hi), best_x, best_f, gf);
      if (gf < best_f) best_f = gf, best_x = gx;
      if (best_f < cur_f) {  // never worse than before
        param_value(cur, p) = best_x;
        cur_f = best_f;
      }
    }
    // Pattern move (Hooke-Jeeves): correlated parameters make coordinate steps zig-zag along a valley;
    // repeat the round's whole move once and keep it if it is better.
    if (opts.params.size() > 1) {
      HardwareProfile jump = cur;
      for (HostParam p : opts.params) {
        const Range r = range(p);
        const double x = 2 * param_value(cur, p) - param_value(round_start, p);
        param_value(jump, p) = x >= r.lo ? x : r.zero ? 0.0 : r.lo;
      }
      const double fj = f(jump);
      if (fj < cur_f) cur = jump, cur_f = fj;
    }
    if (round_f - cur_f <= 1e-9 * round_f + 1e-15) break;  // converged
  }
  HostFit out;
  out.profile = cur;
  out.host = cur.host;
  out.objective = cur_f;
  out.fit_rows = static_cast<int>(fit_rows.size());
  out.rows = predict_rows(fit_rows, cur, load, opts.jobs);
  out.evaluations = f.evaluations + 1;
  return out;
}

}  // namespace hgca::validation
