#include "sim/hw/llc_residency.hpp"

#include <algorithm>
#include <cmath>

namespace hgca {

namespace {

// A line read with probability p per period has geometric gaps between its reads: the rate that makes
// 1 - exp(-rate x) the chance of a read within x periods is -ln(1 - p). Every step (p = 1) is capped where the
// exponential is 1 to double precision within a tenth of a period.
double read_rate(double p) { return -std::log1p(-std::clamp(p, 0.0, 1.0 - 1e-9)); }

}  // namespace

double llc_hit_share(double cache, double residency, const LlcReads& reads, double period) {
  const double ws = reads.working_set;
  if (!(cache > 0) || !(ws > 0)) return 0;
  const double knee = std::min(1.0, cache / ws);
  const double inserted = residency > 0 && period > 0 ? cache * period / residency : 0;  // other bytes per period
  // No other traffic (or no period to weigh it by): the knee, whatever the step reads.
  if (!(inserted > 0) || !std::isfinite(inserted) || !std::isfinite(cache / inserted)) return knee;
  double read_weight = 0;
  for (const LlcLines& k : reads.lines) read_weight += k.share * k.read_now;
  if (!(read_weight > 0)) return 0;  // nothing read: nothing to hit
  // g(x) = sum_k ws s_k (1 - e^{-r_k x}) + inserted x - cache rises from -cache at x = 0 and is >= 0 at
  // x = cache / inserted: one root in between. Bisection on a bracket this tight converges to double precision
  // in < 64 halvings.
  std::array<double, 3> rate{};
  for (size_t i = 0; i < rate.size(); ++i) rate[i] = read_rate(reads.lines[i].per_period);
  auto held = [&](double x) {
    double b = 0;
    for (size_t i = 0; i < rate.size(); ++i) b += reads.lines[i].share * -std::expm1(-rate[i] * x);
    return ws * b;
  };
  double lo = 0, hi = cache / inserted;
  for (int i = 0; i < 100 && hi - lo > 1e-12 * hi; ++i) {
    const double x = 0.5 * (lo + hi);
    (held(x) + inserted * x - cache < 0 ? lo : hi) = x;
  }
  const double x = 0.5 * (lo + hi);
  double hit = 0;
  for (size_t i = 0; i < rate.size(); ++i) {
    const LlcLines& k = reads.lines[i];
    hit += k.share * k.read_now * -std::expm1(-rate[i] * x);
  }
  return std::clamp(hit / read_weight, 0.0, 1.0);
}

}  // namespace hgca
