#include "sim/calibration/fit.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "sim/calibration/predict.hpp"
#include "sim/engine/parallel_for.hpp"
#include "sim/hw/cpu_pool.hpp"

namespace hgca {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// A parameter no row moves by more than this (relative time per relative parameter change) is not in the data.
constexpr double kMinSensitivity = 1e-4;
// Rates stay positive during the fit (a zero rate is an infinite time).
constexpr double kMinRate = 1e-3;
// How much lower (relative) a later start's objective must be to replace an earlier one (solve_from_starts).
// The device tables' real gains were 1.3-2.7 % (runs 9-11), their near-ties 0.2-0.3 %.
constexpr double kStartMargin = 0.01;

struct Parameter {
  std::string key;
  HardwarePart part;
  QuantityKind kind;
  double lower, upper;
  std::function<double(const HardwareProfile&)> get;
  std::function<void(HardwareProfile&, double)> set;
  // An upper bound that depends on other parameters: beyond it the parameter has no effect on any row, and a
  // search that wandered there would find no gradient to come back.
  std::function<double(const HardwareProfile&)> effect_limit = nullptr;
};

// The fit parameter of the bandwidth curve's point at `threads`.
std::string curve_key(int threads) { return "cpu.bandwidth_by_threads." + std::to_string(threads); }

void set_curve_point(CpuSpec& cpu, int threads, double value) {
  for (auto& [t, b] : cpu.bandwidth_by_threads)
    if (t == threads) b = value;
}

// Every parameter of the profile that some primitive depends on, in report order. Within a part, the ones
// that usually carry the timing come first: when two cannot be separated, the later one goes back to base.
std::vector<Parameter> parameters_of(const HardwareProfile& hw) {
  std::vector<Parameter> ps;
  // GPU: the effective rates are what timings see; the split into peak x efficiency is decided when writing.
  ps.push_back({"gpu.hbm_bandwidth*gpu.hbm_efficiency", HardwarePart::Gpu, QuantityKind::Bandwidth, kMinRate, kInf,
                [](const HardwareProfile& h) { return h.gpu.hbm_bandwidth * h.gpu.hbm_efficiency; },
                [](HardwareProfile& h, double v) { h.gpu.hbm_efficiency = v / h.gpu.hbm_bandwidth; }});
  ps.push_back({"gpu.matmul_flops*gpu.matmul_efficiency", HardwarePart::Gpu, QuantityKind::FlopRate, kMinRate, kInf,
                [](const HardwareProfile& h) { return h.gpu.matmul_flops * h.gpu.matmul_efficiency; },
                [](HardwareProfile& h, double v) { h.gpu.matmul_efficiency = v / h.gpu.matmul_flops; }});
  ps.push_back({"gpu.vector_flops", HardwarePart::Gpu, QuantityKind::FlopRate, kMinRate, kInf,
                [](const HardwareProfile& h) { return h.gpu.vector_flops; },
                [](HardwareProfile& h, double v) { h.gpu.vector_flops = v; }});
  // Fixed device time per kernel kind, added to the roofline (sim/hw/gpu_cost.hpp): before kernel_min, which
  // an affine kernel time makes redundant wherever the fixed term is larger.
  ps.push_back({"gpu.attention_fixed", HardwarePart::Gpu, QuantityKind::Duration, 0, kInf,
                [](const HardwareProfile& h) { return h.gpu.attention_fixed_s; },
                [](HardwareProfile& h, double v) { h.gpu.attention_fixed_s = v; }});
  ps.push_back({"gpu.gemm_fixed", HardwarePart::Gpu, QuantityKind::Duration, 0, kInf,
                [](const HardwareProfile& h) { return h.gpu.gemm_fixed_s; },
                [](HardwareProfile& h, double v) { h.gpu.gemm_fixed_s = v; }});
  ps.push_back({"gpu.vector_fixed", HardwarePart::Gpu, QuantityKind::Duration, 0, kInf,
                [](const HardwareProfile& h) { return h.gpu.vector_fixed_s; },
                [](HardwareProfile& h, double v) { h.gpu.vector_fixed_s = v; }});
  ps.push_back({"gpu.kernel_launch", HardwarePart::Gpu, QuantityKind::Duration, 0, kInf,
                [](const HardwareProfile& h) { return h.gpu.kernel_launch_s; },
                [](HardwareProfile& h, double v) { h.gpu.kernel_launch_s = v; }});
  ps.push_back({"gpu.kernel_min", HardwarePart::Gpu, QuantityKind::Duration, 0, kInf,
                [](const HardwareProfile& h) { return h.gpu.kernel_min_s; },
                [](HardwareProfile& h, double v) { h.gpu.kernel_min_s = v; }});
  // PCIe.
  for (const bool h2d : {true, false}) {
    const std::string dir = h2d ? "pcie.h2d." : "pcie.d2h.";
    const auto side = [h2d](HardwareProfile& h) -> LinkDirectionSpec& { return h2d ? h.pcie.h2d : h.pcie.d2h; };
    const auto cside = [h2d](const HardwareProfile& h) -> const LinkDirectionSpec& { return h2d ? h.pcie.h2d : h.pcie.d2h; };
    ps.push_back({dir + "bandwidth", HardwarePart::Pcie, QuantityKind::Bandwidth, kMinRate, kInf,
                  [cside](const HardwareProfile& h) { return cside(h).bandwidth; },
                  [side](HardwareProfile& h, double v) { side(h).bandwidth = v; }});
    ps.push_back({dir + "latency", HardwarePart::Pcie, QuantityKind::Duration, 0, kInf,
                  [cside](const HardwareProfile& h) { return cside(h).latency_s; },
                  [side](HardwareProfile& h, double v) { side(h).latency_s = v; }});
  }
  ps.push_back({"pcie.duplex_bandwidth", HardwarePart::Pcie, QuantityKind::Bandwidth, kMinRate, kInf,
                [](const HardwareProfile& h) { return h.pcie.duplex_bandwidth; },
                [](HardwareProfile& h, double v) { h.pcie.duplex_bandwidth = v; },
                // A cap at or above both directions together never binds.
                [](const HardwareProfile& h) { return h.pcie.h2d.bandwidth + h.pcie.d2h.bandwidth; }});
  ps.push_back({"pcie.pageable_bandwidth", HardwarePart::Pcie, QuantityKind::Bandwidth, kMinRate, kInf,
                [](const HardwareProfile& h) { return h.pcie.pageable_bandwidth; },
                [](HardwareProfile& h, double v) { h.pcie.pageable_bandwidth = v; },
                // Pageable copies run at min(direction bandwidth, pageable): above the faster direction, no effect.
                [](const HardwareProfile& h) { return std::max(h.pcie.h2d.bandwidth, h.pcie.d2h.bandwidth); }});
  // CPU: one parameter per point of the bandwidth curve, then the per-core figures.
  for (const auto& [threads, bw] : hw.cpu.bandwidth_by_threads) {
    const int t = threads;
    ps.push_back({curve_key(t), HardwarePart::Cpu, QuantityKind::Bandwidth, kMinRate, kInf,
                  [t](const HardwareProfile& h) { return cpu_bandwidth(h.cpu, t); },
                  [t](HardwareProfile& h, double v) { set_curve_point(h.cpu, t, v); }});
  }
  ps.push_back({"cpu.flops_per_core", HardwarePart::Cpu, QuantityKind::FlopRate, kMinRate, kInf,
                [](const HardwareProfile& h) { return h.cpu.flops_per_core; },
                [](HardwareProfile& h, double v) { h.cpu.flops_per_core = v; }});
  ps.push_back({"cpu.gather_efficiency", HardwarePart::Cpu, QuantityKind::Share, 1e-3, 1,
                [](const HardwareProfile& h) { return h.cpu.gather_efficiency; },
                [](HardwareProfile& h, double v) { h.cpu.gather_efficiency = v; }});
  ps.push_back({"cpu.task_overhead", HardwarePart::Cpu, QuantityKind::Duration, 0, kInf,
                [](const HardwareProfile& h) { return h.cpu.task_overhead_s; },
                [](HardwareProfile& h, double v) { h.cpu.task_overhead_s = v; }});
  ps.push_back({"cpu.wakeup", HardwarePart::Cpu, QuantityKind::Duration, 0, kInf,
                [](const HardwareProfile& h) { return h.cpu.wakeup_s; },
                [](HardwareProfile& h, double v) { h.cpu.wakeup_s = v; }});
  // Separable from the wake-up where rows of the same work run on different thread counts.
  ps.push_back({"cpu.wakeup_stagger", HardwarePart::Cpu, QuantityKind::Duration, 0, kInf,
                [](const HardwareProfile& h) { return h.cpu.wakeup_stagger_s; },
                [](HardwareProfile& h, double v) { h.cpu.wakeup_stagger_s = v; }});
  // Per scattered row: only rows that gather (sparse attention) depend on it; separable from the bandwidth
  // when rows of different sizes (head_dim 64 and 128) and counts (selected) are measured.
  ps.push_back({"cpu.row_cost", HardwarePart::Cpu, QuantityKind::Duration, 0, kInf,
                [](const HardwareProfile& h) { return h.cpu.row_cost_s; },
                [](HardwareProfile& h, double v) { h.cpu.row_cost_s = v; }});
  // Per key scored and ranked by a selection: only key-scan and block-summary rows depend on it.
  ps.push_back({"cpu.select_key_cost", HardwarePart::Cpu, QuantityKind::Duration, 0, kInf,
                [](const HardwareProfile& h) { return h.cpu.select_key_cost_s; },
                [](HardwareProfile& h, double v) { h.cpu.select_key_cost_s = v; }});
  // The share of the last-level cache the KV effectively gets and how much cheaper a hit is than DRAM: only
  // rows whose pool is within a few times that size depend on them (the given-list rows over pools of 16 MiB
  // to 2 GiB). Last, so that where the rows cannot separate them from the bandwidth, these go back to base.
  ps.push_back({"cpu.llc_bytes", HardwarePart::Cpu, QuantityKind::Bytes, 64.0 * 1024, kInf,
                [](const HardwareProfile& h) { return h.cpu.llc_bytes; },
                [](HardwareProfile& h, double v) { h.cpu.llc_bytes = v; }});
  ps.push_back({"cpu.llc_bandwidth_factor", HardwarePart::Cpu, QuantityKind::Share, 1, 1000,
                [](const HardwareProfile& h) { return h.cpu.llc_bandwidth_factor; },
                [](HardwareProfile& h, double v) { h.cpu.llc_bandwidth_factor = v; }});
  // How long other traffic lets a line stay in the cache (sim/hw/llc_residency.hpp): rows of one pool read at
  // different rates (64 and 256 rows per head, 4 threads and all) find different shares of it cached. Held by
  // default.
  ps.push_back({"cpu.llc_residency", HardwarePart::Cpu, QuantityKind::Duration, 0, kInf,
                [](const HardwareProfile& h) { return h.cpu.llc_residency_s; },
                [](HardwareProfile& h, double v) { h.cpu.llc_residency_s = v; }});
  return ps;
}

double default_scale(QuantityKind kind) {
  switch (kind) {
    case QuantityKind::Bandwidth: return 1e9;
    case QuantityKind::Duration: return 1e-6;
    case QuantityKind::FlopRate: return 1e12;
    case QuantityKind::Share: return 1;
    case QuantityKind::Bytes: return 1024.0 * 1024;
  }
  return 1;
}

// How far the CPU bandwidth curve may depart from a physical shape between two neighbouring points before
// the fit pays for it: total bandwidth does not fall as threads are added (to 0.9x the point before, for
// noise), and one thread's share does not rise (to 1.1x; measured streams of 1 and 2 threads came 2.04x
// apart). Beyond that each pair adds a residual of kCurvePenalty x the log of the excess: a 1 % excess costs
// about as much as a row 10 % off. Without it a fit on a drifting machine put its 1-thread point at 249 GB/s beside
// 13 GB/s on 2 threads, its one 1-thread stream row 97 % off (soft-L1 makes that cheap), to speed up the lone
// reader that ends attention rows (device run 17, calibration B).
constexpr double kCurveDropSlack = 0.9;
constexpr double kCurveShareSlack = 1.1;
constexpr double kCurvePenalty = 10;

// The residuals that hold the curve's shape (kCurvePenalty), two per pair of neighbouring points.
size_t curve_shape_terms(const CpuSpec& cpu) {
  return cpu.bandwidth_by_threads.size() < 2 ? 0 : 2 * (cpu.bandwidth_by_threads.size() - 1);
}
// A pair counts only when the fit moves both points (`free`, by curve index): a point held at the base's value
// (no row reads it, or held on request) would otherwise drag a measured neighbour towards a value no row saw.
void curve_shape_residuals(const CpuSpec& cpu, const std::vector<bool>& free, Eigen::Ref<Eigen::VectorXd> out) {
  const auto& c = cpu.bandwidth_by_threads;
  for (size_t i = 1; i < c.size(); ++i) {
    const auto& [t0, b0] = c[i - 1];
    const auto& [t1, b1] = c[i];
    const bool counts = b0 > 0 && b1 > 0 && i < free.size() && free[i - 1] && free[i];
    out[2 * (i - 1)] = counts ? kCurvePenalty * std::max(0.0, std::log(kCurveDropSlack * b0 / b1)) : 0;
    out[2 * (i - 1) + 1] =
        counts ? kCurvePenalty * std::max(0.0, std::log(b1 / (kCurveShareSlack * b0 * t1 / t0))) : 0;
  }
}

// The least-squares problem of one hardware part: rows, free parameters in scaled units (value / scale). The
// CPU part's residuals end with the terms that hold the bandwidth curve's shape.
class PartProblem {
 public:
  PartProblem(const HardwareProfile& start, std::vector<const Measurement*> rows, const std::vector<Parameter>& params,
              double outlier_scale, int jobs, bool curve_shape)
      : profile_(start),
        rows_(std::move(rows)),
        params_(params),
        outlier_scale_(outlier_scale),
        jobs_(jobs),
        shape_terms_(curve_shape ? curve_shape_terms(start.cpu) : 0) {}

  HardwareProfile& profile() { return profile_; }
  const std::vector<const Measurement*>& rows() const { return rows_; }

  void set_free(const std::vector<int>& free, const std::vector<double>& scale) {
    free_ = free;
    scale_ = scale;
    const auto& curve = profile_.cpu.bandwidth_by_threads;
    curve_free_.assign(curve.size(), false);
    for (size_t i = 0; i < curve.size(); ++i) {
      const std::string key = curve_key(curve[i].first);
      curve_free_[i] = std::any_of(free_.begin(), free_.end(), [&](int f) { return params_[f].key == key; });
    }
  }
  Eigen::VectorXd x() const {
    Eigen::VectorXd v(free_.size());
    for (size_t j = 0; j < free_.size(); ++j) v[j] = params_[free_[j]].get(profile_) / scale_[j];
    return v;
  }
  void apply(const Eigen::VectorXd& x) {
    for (size_t j = 0; j < free_.size(); ++j) params_[free_[j]].set(profile_, x[j] * scale_[j]);
  }
  // Rates stay within 10^4 of where they started: far below that a single row would take hours, which says
  // nothing the cost at 10^-4 does not already say.
  double lower(int j) const {
    const Parameter& p = params_[free_[j]];
    const bool rate = p.kind == QuantityKind::Bandwidth || p.kind == QuantityKind::FlopRate;
    return rate ? std::max(p.lower / scale_[j], 1e-4) : p.lower / scale_[j];
  }
  double upper(int j) const {
    const Parameter& p = params_[free_[j]];
    return (p.effect_limit ? std::min(p.upper, p.effect_limit(profile_)) : p.upper) / scale_[j];
  }

  Eigen::VectorXd residuals(const Eigen::VectorXd& x) {
    apply(x);
    Eigen::VectorXd r(rows_.size() + shape_terms_);
    // Rows are independent simulations of one profile: in parallel, each stored by index (FitOptions::jobs).
    parallel_for(rows_.size(), jobs_, [&](size_t i) {
      r[i] = robust((predict_seconds(profile_, *rows_[i]) - rows_[i]->seconds) / rows_[i]->seconds);
    });
    if (shape_terms_ > 0) curve_shape_residuals(profile_.cpu, curve_free_, r.tail(shape_terms_));
    return r;
  }

  // The residual whose square is the soft-L1 loss of relative error e (FitOptions::outlier_scale); e itself
  // when the scale is 0. Same sign and smooth, so Levenberg-Marquardt runs on it unchanged.
  double robust(double e) const {
    const double c = outlier_scale_;
    if (!(c > 0) || !std::isfinite(e)) return e;
    const double u = e / c;
    return std::copysign(c * std::sqrt(2.0 * u * u / (std::sqrt(1.0 + u * u) + 1.0)), e);  // no cancellation near 0
  }

  // Central differences (one-sided at a bound): the cost model has kinks (max of roofline terms, a duplex cap
  // that binds or not), and a central step sees the slope on both sides of one.
  Eigen::MatrixXd jacobian(const Eigen::VectorXd& x) {
    Eigen::MatrixXd J(rows_.size() + shape_terms_, x.size());
    for (int j = 0; j < x.size(); ++j) {
      const double h = 1e-4 * std::max(std::fabs(x[j]), 1e-2);
      Eigen::VectorXd up = x, down = x;
      up[j] = std::min(x[j] + h, upper(j));
      down[j] = std::max(x[j] - h, lower(j));
      const double span = up[j] - down[j];
      if (span <= 0) {
        J.col(j).setZero();
        continue;
      }
      J.col(j) = (residuals(up) - residuals(down)) / span;
    }
    apply(x);
    return J;
  }

  // A coarse scan of each parameter alone over six decades. The roofline is a max() of terms:
  // a term that does not bind at the start has no gradient, so a local method alone would never find that
  // it should (a slow vector unit, a kernel minimum far above the base value).
  void scan(Eigen::VectorXd& x, double& cost) {
    for (int j = 0; j < x.size(); ++j) {
      const double start = x[j] != 0 ? x[j] : 1.0;
      for (int step = -18; step <= 18; ++step) {  // factors 10^(step/6): 1e-3 .. 1e3 in steps of 1.47
        if (step == 0) continue;
        Eigen::VectorXd trial = x;
        trial[j] = std::clamp(start * std::pow(10.0, step / 6.0), lower(j), upper(j));
        const double c = residuals(trial).squaredNorm();
        if (std::isfinite(c) && c < cost) {
          cost = c;
          x = trial;
        }
      }
      apply(x);  // bounds that depend on other parameters follow the accepted point
    }
  }

  // Rounds of a coarse scan then Levenberg-Marquardt, until a round no longer improves: a scan from a poor
  // start can move a parameter where it stops binding (a duplex cap above both directions' sum), and only a
  // scan from the refined point brings it back.
  void solve(int max_iterations) {
    if (free_.empty()) return;
    Eigen::VectorXd x = this->x();
    double cost = residuals(x).squaredNorm();
    for (int round = 0; round < 4; ++round) {
      const double before = cost;
      scan(x, cost);
      local_search(x, cost, max_iterations);
      if (!(cost < before * (1 - 1e-6))) break;
    }
    apply(x);
  }

  // Levenberg-Marquardt with bounds by projection.
  void local_search(Eigen::VectorXd& x, double& cost, int max_iterations) {
    Eigen::VectorXd r = residuals(x);
    cost = r.squaredNorm();
    double lambda = 1e-3;
    for (int it = 0; it < max_iterations && cost > 0; ++it) {
      const Eigen::MatrixXd J = jacobian(x);
      const Eigen::MatrixXd A = J.transpose() * J;
      const Eigen::VectorXd g = J.transpose() * r;
      bool accepted = false;
      while (lambda < 1e12) {
        Eigen::MatrixXd M = A;
        for (int j = 0; j < M.rows(); ++j) M(j, j) += lambda * std::max(A(j, j), 1e-12);
        const Eigen::VectorXd step = M.ldlt().solve(-g);
        Eigen::VectorXd next = x + step;
        for (int j = 0; j < next.size(); ++j) next[j] = std::clamp(next[j], lower(j), upper(j));
        const Eigen::VectorXd rn = residuals(next);
        const double cn = rn.squaredNorm();
        if (std::isfinite(cn) && cn < cost) {
          const double gain = cost - cn;
          x = next;
          r = rn;
          cost = cn;
          lambda = std::max(lambda / 3, 1e-9);
          accepted = true;
          if (gain < 1e-10 * (cost + gain) || cost < 1e-28 || step.norm() < 1e-12) it = max_iterations;
          break;
        }
        lambda *= 4;
      }
      if (!accepted) break;
    }
    apply(x);
  }

 private:
  HardwareProfile profile_;
  std::vector<const Measurement*> rows_;
  const std::vector<Parameter>& params_;
  std::vector<int> free_;
  std::vector<double> scale_;
  double outlier_scale_ = 0;
  int jobs_ = 1;
  size_t shape_terms_ = 0;
  std::vector<bool> curve_free_;  // by curve point: whether the fit moves it (set_free)
};

// Adds a curve point at every thread count the CPU rows use, valued as the base curve gives it there, so the
// model is unchanged until the fit moves the point.
std::set<int> add_curve_points(HardwareProfile& hw, const std::vector<Measurement>& rows) {
  std::set<int> added;
  std::map<int, double> curve(hw.cpu.bandwidth_by_threads.begin(), hw.cpu.bandwidth_by_threads.end());
  for (const Measurement& m : rows) {
    if (part_of(m.primitive) != HardwarePart::Cpu || curve.count(m.threads)) continue;
    curve[m.threads] = cpu_bandwidth(hw.cpu, m.threads);
    added.insert(m.threads);
  }
  hw.cpu.bandwidth_by_threads.assign(curve.begin(), curve.end());
  return added;
}

// Solves the CPU part from every start of `starts` (each from `start` with its row cost and cache size) and
// leaves the problem at the kept start's optimum (the lowest objective, by a margin: below); fills in each
// start's outcome. Device run 11's
// two calibrations each stopped at cpu.row_cost 0 from the base's 0 (no gradient there), where a start at
// 30 ns reached a lower objective at 45 ns; from 100 ns run 9's first calibration reached a lower one
// (54 ns, cache 89 MiB) than from 0 (cache 91-161 MiB) (docs/CALIBRATION.md).
void solve_from_starts(PartProblem& problem, const HardwareProfile& start, std::vector<FitStart>& starts, int max_iterations) {
  HardwareProfile best = start;
  double best_objective = kInf;
  FitStart* chosen = nullptr;
  for (FitStart& s : starts) {
    problem.profile() = start;
    problem.profile().cpu.row_cost_s = s.row_cost_s;
    problem.profile().cpu.llc_bytes = s.llc_bytes;
    problem.solve(max_iterations);
    s.objective = problem.residuals(problem.x()).squaredNorm();
    s.fitted_row_cost_s = problem.profile().cpu.row_cost_s;
    s.fitted_llc_bytes = problem.profile().cpu.llc_bytes;
    // A later start wins only by a clear margin: the grid's order is the preference, the base's own values
    // first. Optima a fraction of a percent apart differ by the rows' noise, not by evidence; on a table whose
    // rows do not determine the cache term (no LLC sweep) and carry outliers, the lowest of six such optima
    // put a spurious 6 MiB cache there and left three other parameters undetermined
    // (Fit.AFewOutlyingRowsDoNotMoveTheFit).
    if (std::isfinite(s.objective) && s.objective < best_objective * (1 - kStartMargin)) {
      best_objective = s.objective;
      best = problem.profile();
      chosen = &s;
    }
  }
  if (chosen) chosen->chosen = true;
  problem.profile() = best;
}

std::string percent(double share) {
  if (!std::isfinite(share)) return "unbounded";
  char buf[32];
  std::snprintf(buf, sizeof buf, share < 0.1 ? "%.2g %%" : "%.0f %%", share * 100);
  return buf;
}

double round_sig(double v, int digits = 4) {
  if (v == 0 || !std::isfinite(v)) return v;
  const double scale = std::pow(10.0, digits - 1 - std::floor(std::log10(std::fabs(v))));
  return std::round(v * scale) / scale;
}

// Fitted values are known to a few percent at best: four significant digits keep the profile readable.
void round_fitted(HardwareProfile& hw, const std::vector<Parameter>& params, const std::vector<ParameterResult>& results) {
  for (size_t i = 0; i < params.size(); ++i) {
    if (!results[i].fitted) continue;
    params[i].set(hw, round_sig(params[i].get(hw)));
    // An effective rate is stored as peak x efficiency: the efficiency is the fitted field.
    if (params[i].key == "gpu.hbm_bandwidth*gpu.hbm_efficiency") hw.gpu.hbm_efficiency = round_sig(hw.gpu.hbm_efficiency);
    if (params[i].key == "gpu.matmul_flops*gpu.matmul_efficiency")
      hw.gpu.matmul_efficiency = round_sig(hw.gpu.matmul_efficiency);
  }
}

// Makes fitted values valid for the loader and splits effective rates into peak x efficiency.
void make_loadable(HardwareProfile& hw, std::vector<ParameterResult>& results) {
  const auto note = [&](const std::string& key, const std::string& text) {
    for (ParameterResult& p : results)
      if (p.key == key) p.reason = p.reason.empty() ? text : p.reason + "; " + text;
  };
  if (hw.gpu.hbm_efficiency > 1) {
    hw.gpu.hbm_bandwidth = round_sig(hw.gpu.hbm_bandwidth * hw.gpu.hbm_efficiency);
    hw.gpu.hbm_efficiency = 1;
    note("gpu.hbm_bandwidth*gpu.hbm_efficiency", "above the base peak: hbm_bandwidth set to it, hbm_efficiency 1");
  }
  if (hw.gpu.matmul_efficiency > 1) {
    hw.gpu.matmul_flops = round_sig(hw.gpu.matmul_flops * hw.gpu.matmul_efficiency);
    hw.gpu.matmul_efficiency = 1;
    note("gpu.matmul_flops*gpu.matmul_efficiency", "above the base peak: matmul_flops set to it, matmul_efficiency 1");
  }
  const double one_way = std::max(hw.pcie.h2d.bandwidth, hw.pcie.d2h.bandwidth);
  if (hw.pcie.duplex_bandwidth > 0 && hw.pcie.duplex_bandwidth < one_way) {
    hw.pcie.duplex_bandwidth = one_way;
    note("pcie.duplex_bandwidth", "raised to the faster direction's bandwidth (the loader's lower bound)");
  }
}

}  // namespace

std::string format_quantity(QuantityKind kind, double value) {
  char buf[64];
  const double a = std::fabs(value);
  switch (kind) {
    case QuantityKind::Bandwidth:
      std::snprintf(buf, sizeof buf, a >= 1e12 ? "%.4g TB/s" : "%.4g GB/s", a >= 1e12 ? value / 1e12 : value / 1e9);
      break;
    case QuantityKind::Duration:
      std::snprintf(buf, sizeof buf, a >= 1e-3 ? "%.4g ms" : "%.4g us", a >= 1e-3 ? value * 1e3 : value * 1e6);
      break;
    case QuantityKind::FlopRate:
      std::snprintf(buf, sizeof buf, a >= 1e12 ? "%.4g TFLOP/s" : "%.4g GFLOP/s", a >= 1e12 ? value / 1e12 : value / 1e9);
      break;
    case QuantityKind::Share:
      std::snprintf(buf, sizeof buf, "%.4g", value);
      break;
    case QuantityKind::Bytes:
      std::snprintf(buf, sizeof buf, "%.4g MiB", value / (1024.0 * 1024));
      break;
  }
  return buf;
}

std::vector<RowResult> predict_rows(const HardwareProfile& hw, const std::vector<Measurement>& rows, int jobs) {
  std::vector<RowResult> out(rows.size());
  parallel_for(rows.size(), jobs, [&](size_t i) { out[i] = {rows[i], predict_seconds(hw, rows[i])}; });
  return out;
}

std::vector<PrimitiveSummary> summarize(const std::vector<RowResult>& rows) {
  std::vector<PrimitiveSummary> out;
  for (int p = 0; p < kPrimitiveCount; ++p) {
    PrimitiveSummary s;
    s.primitive = static_cast<Primitive>(p);
    double sum = 0;
    for (const RowResult& r : rows) {
      if (r.row.primitive != s.primitive) continue;
      const double e = r.relative_error();
      ++s.rows;
      sum += e * e;
      if (std::fabs(e) >= s.max_relative) {
        s.max_relative = std::fabs(e);
        s.worst_line = r.row.line;
      }
    }
    if (s.rows == 0) continue;
    s.rms_relative = std::sqrt(sum / s.rows);
    out.push_back(s);
  }
  return out;
}

const std::vector<std::string>& held_by_default_keys() {
  static const std::vector<std::string> keys = {"cpu.flops_per_core", "cpu.llc_residency"};
  return keys;
}

bool is_fit_parameter(const std::string& key) {
  const std::string curve = "cpu.bandwidth_by_threads.";
  if (key.starts_with(curve)) {
    const std::string n = key.substr(curve.size());
    return !n.empty() && n.size() < 6 && std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
           std::stoi(n) > 0;
  }
  for (const Parameter& p : parameters_of(HardwareProfile{}))
    if (p.key == key) return true;
  return false;
}

FitResult fit_profile(const HardwareProfile& base_in, const std::vector<Measurement>& rows, const FitOptions& options) {
  HardwareProfile base = base_in;
  const std::set<int> added_points = add_curve_points(base, rows);
  std::vector<Parameter> params = parameters_of(base);
  // A cache at least as large as every row's KV pool serves every row entirely: beyond that size the cache term
  // is a plain factor on the bandwidth, with no gradient to bring it back, so the search stops there.
  double largest_pool = 0;
  for (const Measurement& m : rows)
    if (m.primitive == Primitive::CpuAttention)
      largest_pool = std::max(largest_pool, static_cast<double>(m.batch) * m.kv_len * m.kv_heads * 2.0 * m.head_dim * m.dtype_bytes);
  for (Parameter& p : params)
    if (p.key == "cpu.llc_bytes" && largest_pool > 2 * p.lower) p.upper = largest_pool;

  std::vector<ParameterResult> results;
  for (const Parameter& p : params) {
    ParameterResult r;
    r.key = p.key;
    r.part = p.part;
    r.kind = p.kind;
    r.base = r.value = p.get(base);
    results.push_back(r);
  }

  HardwareProfile fitted = base;
  std::vector<FitStart> out_starts;
  for (const HardwarePart part : {HardwarePart::Gpu, HardwarePart::Pcie, HardwarePart::Cpu}) {
    std::vector<const Measurement*> part_rows;
    for (const Measurement& m : rows)
      if (part_of(m.primitive) == part) part_rows.push_back(&m);
    std::vector<int> free;
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i].part != part) continue;
      if (std::find(options.hold.begin(), options.hold.end(), params[i].key) != options.hold.end()) {
        results[i].reason = "held at its base value (--hold)";
        continue;
      }
      if (std::find(options.held_by_default.begin(), options.held_by_default.end(), params[i].key) !=
          options.held_by_default.end()) {
        results[i].reason = "held at its base value by default (--free " + params[i].key + " fits it)";
        continue;
      }
      if (part_rows.empty())
        results[i].reason = "no " + std::string(to_string(part)) + " rows in the table";
      else
        free.push_back(static_cast<int>(i));
    }
    if (part_rows.empty()) continue;

    PartProblem problem(fitted, part_rows, params, options.outlier_scale, options.jobs, part == HardwarePart::Cpu);
    // Start each parameter where the base has it; a duplex cap of 0 ("none") starts at the sum of both
    // directions, where it just begins to bind.
    if (part == HardwarePart::Pcie && problem.profile().pcie.duplex_bandwidth <= 0)
      problem.profile().pcie.duplex_bandwidth = problem.profile().pcie.h2d.bandwidth + problem.profile().pcie.d2h.bandwidth;
    // A profile without a cache term (llc_bytes 0, hits as dear as DRAM) has no gradient in either of its two
    // parameters: start from a cache of 32 MiB read twice as fast. Where the rows do not determine them they go
    // back to base, that is, to no cache term.
    if (part == HardwarePart::Cpu && !(problem.profile().cpu.llc_bytes > 0)) {
      problem.profile().cpu.llc_bytes = 32.0 * 1024 * 1024;
      problem.profile().cpu.llc_bandwidth_factor = std::max(problem.profile().cpu.llc_bandwidth_factor, 2.0);
    }
    // A residency of 0 (no other traffic) is the knee, where a pool that fits has no gradient in it: start at
    // 2 ms (devices runs 13 and 14: 2.2 and 2.3 ms).
    if (part == HardwarePart::Cpu && !(problem.profile().cpu.llc_residency_s > 0) &&
        std::any_of(free.begin(), free.end(), [&](int i) { return params[i].key == "cpu.llc_residency"; }))
      problem.profile().cpu.llc_residency_s = 2e-3;
    const HardwareProfile start = problem.profile();

    bool first_solve = true;
    while (!free.empty()) {
      std::vector<double> scale;
      for (int i : free) {
        const double v = params[i].get(start);
        scale.push_back(v > 0 ? v : default_scale(params[i].kind));
      }
      problem.set_free(free, scale);
      if (first_solve && part == HardwarePart::Cpu && options.multi_start) {
        auto is_free = [&](const char* key) {
          return std::any_of(free.begin(), free.end(), [&](int i) { return params[i].key == key; });
        };
        out_starts = cpu_start_grid(start.cpu.row_cost_s, start.cpu.llc_bytes, is_free("cpu.row_cost"),
                                    is_free("cpu.llc_bytes"));
        solve_from_starts(problem, start, out_starts, options.max_iterations);
      } else {
        problem.solve(options.max_iterations);
      }
      first_solve = false;

      // Standard errors at the optimum: sigma^2 (J^T J)^-1, through the eigen-decomposition so that directions
      // the rows do not constrain come out as unbounded instead of as a numerical accident.
      // Rows only: the bandwidth curve's shape terms (kCurvePenalty) steer the search but measure nothing, so
      // they neither determine a parameter nor count in the misfit.
      const Eigen::VectorXd x = problem.x();
      const int n = static_cast<int>(problem.rows().size()), p = static_cast<int>(free.size());
      const Eigen::VectorXd r = problem.residuals(x).head(n);
      const Eigen::MatrixXd J = problem.jacobian(x).topRows(n);
      // Whether a parameter is determined is a property of the rows (the Jacobian) at the assumed noise floor;
      // the standard error reported also grows with the misfit, when the residuals are larger than that.
      const double floor2 = options.noise_floor * options.noise_floor;
      const double misfit2 = std::max(r.squaredNorm() / std::max(1, n - p), floor2);
      const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(J.transpose() * J);
      const double lmax = std::max(eig.eigenvalues().maxCoeff(), 1e-300);
      std::vector<double> rel_err(p, 0.0), reported_err(p, 0.0), sens(p, 0.0);
      for (int j = 0; j < p; ++j) {
        sens[j] = J.col(j).cwiseAbs().maxCoeff() * std::max(std::fabs(x[j]), 1e-12);
        double var = 0;
        for (int k = 0; k < p; ++k) {
          const double v = eig.eigenvectors()(j, k);
          if (v * v < 1e-12) continue;
          const double l = eig.eigenvalues()[k];
          var = l <= 1e-12 * lmax ? kInf : var + v * v / l;
        }
        rel_err[j] = std::fabs(x[j]) > 0 ? std::sqrt(floor2 * var) / std::fabs(x[j]) : kInf;
        reported_err[j] = std::fabs(x[j]) > 0 ? std::sqrt(misfit2 * var) / std::fabs(x[j]) : kInf;
      }
      // The least determined parameter goes back to base; ties (all unbounded) drop the later one in order.
      int worst = -1;
      double worst_score = options.max_relative_error;
      for (int j = 0; j < p; ++j) {
        const double score = sens[j] < kMinSensitivity ? kInf : rel_err[j];
        if (score > worst_score || (score == kInf && worst_score == kInf)) {
          worst = j;
          worst_score = score;
        }
      }
      if (worst < 0) {
        for (int j = 0; j < p; ++j) {
          ParameterResult& res = results[free[j]];
          res.fitted = true;
          res.relative_error = reported_err[j];
          res.value = params[free[j]].get(problem.profile());
          res.reason.clear();
          if (res.value <= params[free[j]].lower * 1.000001 + 1e-300 || res.value >= params[free[j]].upper * 0.999999)
            res.reason = "at its bound";
        }
        break;
      }
      ParameterResult& res = results[free[worst]];
      if (sens[worst] < kMinSensitivity) {
        res.reason = "no row depends on it";
      } else {
        // Name the parameter whose effect on the rows looks most like this one's, if any does.
        int twin = -1;
        double best = 0.99;
        for (int k = 0; k < p; ++k) {
          if (k == worst) continue;
          const double denom = J.col(worst).norm() * J.col(k).norm();
          const double c = denom > 0 ? std::fabs(J.col(worst).dot(J.col(k))) / denom : 0;
          if (c > best) {
            best = c;
            twin = k;
          }
        }
        res.reason = twin >= 0 ? "not separable from " + params[free[twin]].key + " in these rows (only their combination is measured)"
                               : "weakly determined (±" + percent(rel_err[worst]) + " at " +
                                     format_quantity(params[free[worst]].kind, x[worst] * scale[worst]) + ")";
      }
      // Back to base (where a start differs from base, as the duplex cap's and the cache's do, base is the
      // value with no effect).
      params[free[worst]].set(problem.profile(), results[free[worst]].base);
      free.erase(free.begin() + worst);
    }
    // Parameters of this part that were not fitted hold their base values (the duplex "none" start included).
    for (size_t i = 0; i < params.size(); ++i)
      if (params[i].part == part && !results[i].fitted) params[i].set(problem.profile(), results[i].base);
    if (part == HardwarePart::Pcie)
      fitted.pcie = problem.profile().pcie;
    else if (part == HardwarePart::Gpu)
      fitted.gpu = problem.profile().gpu;
    else
      fitted.cpu = problem.profile().cpu;
  }

  // Curve points added for the fit and left undetermined are dropped again: they only restated the base curve.
  for (const ParameterResult& res : results) {
    const std::string prefix = "cpu.bandwidth_by_threads.";
    if (res.fitted || !res.key.starts_with(prefix)) continue;
    const int t = std::stoi(res.key.substr(prefix.size()));
    if (!added_points.count(t)) continue;
    auto& curve = fitted.cpu.bandwidth_by_threads;
    curve.erase(std::remove_if(curve.begin(), curve.end(), [t](const auto& pt) { return pt.first == t; }), curve.end());
  }
  for (ParameterResult& res : results) {
    const std::string prefix = "cpu.bandwidth_by_threads.";
    if (res.key.starts_with(prefix) && added_points.count(std::stoi(res.key.substr(prefix.size()))))
      res.reason = res.reason.empty() ? "new curve point (base curve there: " + format_quantity(QuantityKind::Bandwidth, res.base) + ")"
                                      : res.reason + "; not added to the curve";
  }
  round_fitted(fitted, params, results);
  make_loadable(fitted, results);
  for (size_t i = 0; i < params.size(); ++i) results[i].value = params[i].get(fitted);

  FitResult out;
  out.profile = fitted;
  out.parameters = results;
  out.rows = predict_rows(fitted, rows, options.jobs);
  out.outlier_scale = options.outlier_scale;
  out.cpu_starts = std::move(out_starts);
  return out;
}

std::vector<FitStart> cpu_start_grid(double row_cost_s, double llc_bytes, bool row_cost_free, bool llc_free) {
  std::vector<double> row_costs = {row_cost_s};
  if (row_cost_free)
    for (double v : {30e-9, 100e-9})
      if (std::find(row_costs.begin(), row_costs.end(), v) == row_costs.end()) row_costs.push_back(v);
  std::vector<double> llcs = {llc_bytes};
  if (llc_free && llc_bytes > 0) llcs.push_back(llc_bytes / 4);
  std::vector<FitStart> grid;
  for (double r : row_costs)
    for (double l : llcs) {
      FitStart s;
      s.row_cost_s = r;
      s.llc_bytes = l;
      grid.push_back(s);
    }
  return grid;
}

}  // namespace hgca
