// How close one HGCA output comes to the exact one: relative L2 error, cosine similarity and the attention mass
// recovered. Shared by every replay driver (replay.cpp, paper_replay.cpp) so the figures mean the same.
#pragma once

#include <algorithm>
#include <cmath>

namespace hgca::traces::detail {

struct OutputQuality {
  float rel_l2 = 0, cosine = 0, mass = 0;
};

// exact, hgca: head_dim outputs; lse_e, lse_h: their natural-log LSEs (exact over [0, p], HGCA over what it
// attended).
inline OutputQuality compare_outputs(const float* exact, const float* hgca, int head_dim, float lse_e, float lse_h) {
  double diff = 0, ne = 0, nh = 0, dot = 0;
  for (int i = 0; i < head_dim; ++i) {
    const double e = exact[i], h = hgca[i];
    diff += (h - e) * (h - e);
    ne += e * e;
    nh += h * h;
    dot += h * e;
  }
  OutputQuality q;
  q.rel_l2 = static_cast<float>(ne > 0 ? std::sqrt(diff / ne) : std::sqrt(diff));
  q.cosine = static_cast<float>(ne > 0 && nh > 0 ? dot / std::sqrt(ne * nh) : (ne == nh ? 1.0 : 0.0));
  // exp(lse_h - lse_e) is the exact softmax weight of the attended positions; fp32 rounding can put a full
  // coverage a hair above 1.
  const double m = std::exp(static_cast<double>(lse_h) - static_cast<double>(lse_e));
  q.mass = static_cast<float>(std::clamp(std::isfinite(m) ? m : 0.0, 0.0, 1.0));
  return q;
}

}  // namespace hgca::traces::detail
