#include "sim/validation/host_fit.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace hgca::validation {

const char* to_string(HostParam p) {
  switch (p) {
    case HostParam::FrameworkOp: return "framework_op";
    case HostParam::FrameworkStep: return "framework_step";
    case HostParam::Sync: return "sync";
  }
  return "?";
}

double& host_value(HostSpec& h, HostParam p) {
  switch (p) {
    case HostParam::FrameworkOp: return h.framework_op_s;
    case HostParam::FrameworkStep: return h.framework_step_s;
    case HostParam::Sync: break;
  }
  return h.sync_s;
}

std::vector<HostParam> parse_host_params(const std::string& list) {
  std::vector<HostParam> out;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');) {
    HostParam p;
    if (name == "framework_op") p = HostParam::FrameworkOp;
    else if (name == "framework_step") p = HostParam::FrameworkStep;
    else if (name == "sync") p = HostParam::Sync;
    else throw std::runtime_error("--params: '" + name + "' is not framework_op, framework_step or sync");
    for (HostParam q : out)
      if (q == p) throw std::runtime_error("--params: '" + name + "' given twice");
    out.push_back(p);
  }
  if (out.empty()) throw std::runtime_error("--params: expected a list such as framework_op,framework_step,sync");
  return out;
}

namespace {

class Objective {
 public:
  Objective(const std::vector<MeasuredRow>& rows, const HardwareProfile& base, const HostFitOptions& o, const LoadOptions& l)
      : rows_(rows), hw_(base), opts_(o), load_(l) {}
  double operator()(const HostSpec& h) {
    ++evaluations;
    hw_.host = h;
    const std::vector<PredictedRow> pred = predict_rows(rows_, hw_, load_, opts_.jobs, /*phases=*/false);
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
  HardwareProfile hw_;
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

  Objective f(fit_rows, base, opts, load);
  HostSpec cur = base.host;
  double cur_f = f(cur);
  std::vector<double> grid{0.0};
  const double lmin = std::log(opts.min_s), lmax = std::log(opts.max_s);
  for (int i = 0; i < opts.grid_points; ++i) grid.push_back(std::exp(lmin + (lmax - lmin) * i / (opts.grid_points - 1)));

  auto with = [&](HostSpec h, HostParam p, double x) {
    host_value(h, p) = x;
    return h;
  };
  for (int round = 0; round < opts.max_rounds; ++round) {
    HostSpec round_start = cur;  // non-const: host_value gives a reference
    const double round_f = cur_f;
    for (HostParam p : opts.params) {
      const double x0 = host_value(cur, p);
      double best_x = x0, best_f = cur_f, lo = 0, hi = 0;
      if (round == 0 || x0 <= 0) {
        // The whole grid; the best point's neighbours bracket the refinement (the smallest positive value, min_s,
        // when 0 or min_s is best). Ties keep the smaller value (the grid ascends and < is strict).
        std::size_t best_i = 0;
        double grid_f = std::numeric_limits<double>::infinity();
        for (std::size_t i = 0; i < grid.size(); ++i) {
          const double fi = f(with(cur, p, grid[i]));
          if (fi < grid_f) grid_f = fi, best_i = i;
        }
        if (grid_f < best_f) best_f = grid_f, best_x = grid[best_i];
        lo = best_i <= 1 ? opts.min_s : grid[best_i - 1];
        hi = best_i + 1 < grid.size() ? grid[best_i + 1] : opts.max_s * 2;
      } else {  // later rounds: a local bracket around the current value, never below min_s (0 or >= min_s:
        lo = std::max(x0 / 2, opts.min_s);  // host.sync > 0 switches the blocking host on, whatever its size)
        hi = std::max(x0 * 2, 2 * opts.min_s);
      }
      double gf = best_f;
      const double gx = golden_log([&](double x) { return f(with(cur, p, x)); }, std::log(lo), std::log(hi), best_x, best_f, gf);
      if (gf < best_f) best_f = gf, best_x = gx;
      if (best_f < cur_f) {  // never worse than before
        host_value(cur, p) = best_x;
        cur_f = best_f;
      }
    }
    // Pattern move (Hooke-Jeeves): correlated parameters make coordinate steps zig-zag along a valley;
    // repeat the round's whole move once and keep it if it is better.
    if (opts.params.size() > 1) {
      HostSpec jump = cur;
      for (HostParam p : opts.params) {
        const double x = 2 * host_value(cur, p) - host_value(round_start, p);
        host_value(jump, p) = x < opts.min_s ? 0.0 : x;
      }
      const double fj = f(jump);
      if (fj < cur_f) cur = jump, cur_f = fj;
    }
    if (round_f - cur_f <= 1e-9 * round_f + 1e-15) break;  // converged
  }
  HostFit out;
  out.host = cur;
  out.objective = cur_f;
  out.fit_rows = static_cast<int>(fit_rows.size());
  HardwareProfile hw = base;
  hw.host = cur;
  out.rows = predict_rows(fit_rows, hw, load, opts.jobs);
  out.evaluations = f.evaluations + 1;
  return out;
}

}  // namespace hgca::validation
