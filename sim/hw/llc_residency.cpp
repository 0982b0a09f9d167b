#include "sim/hw/llc_residency.hpp"

#include <algorithm>
#include <cmath>

namespace hgca {

double llc_hit_share(double cache, double residency, double ws, double touched, double period) {
  if (!(cache > 0) || !(ws > 0)) return 0;
  const double knee = std::min(1.0, cache / ws);
  const double inserted = residency > 0 && period > 0 ? cache * period / residency : 0;  // other bytes per period
  // No other traffic (or no period to weigh it by): the knee, whatever the step reads.
  if (!(inserted > 0) || !std::isfinite(inserted) || !std::isfinite(cache / inserted)) return knee;
  if (!(touched > 0)) return 0;  // rows never read again: other traffic has them out
  // A line is read in a period with probability `touched`, so the periods between its reads are geometric:
  // the rate that makes 1 - exp(-rate x) the chance of a read within x periods is -ln(1 - touched).
  const double f = -std::log1p(-std::min(touched, 1.0 - 1e-9));
  // g(x) = ws (1 - e^{-f x}) + inserted x - cache rises from -cache at x = 0 and is >= 0 at x = cache / inserted:
  // one root in between. Bisection on a bracket this tight converges to double precision in < 64 halvings.
  double lo = 0, hi = cache / inserted;
  for (int i = 0; i < 100 && hi - lo > 1e-12 * hi; ++i) {
    const double x = 0.5 * (lo + hi);
    const double g = ws * -std::expm1(-f * x) + inserted * x - cache;
    (g < 0 ? lo : hi) = x;
  }
  return -std::expm1(-f * 0.5 * (lo + hi));
}

}  // namespace hgca
