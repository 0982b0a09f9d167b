#include "tests/kernels/test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace hgca::kernels::test {

std::vector<Isa> supported_isas() {
  std::vector<Isa> isas;
  for (const Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512})
    if (isa_supported(isa)) isas.push_back(isa);
  return isas;
}

Layer make_layer(KvType type, int kv_heads, int head_dim, const std::vector<std::int64_t>& tokens, std::mt19937& rng) {
  Layer layer{KvStore(type, kv_heads, head_dim, tokens), {}, {}};
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> offset(static_cast<std::size_t>(head_dim));
  for (float& o : offset) o = 2.0f * normal(rng);
  std::vector<float> row(static_cast<std::size_t>(head_dim));
  for (int s = 0; s < static_cast<int>(tokens.size()); ++s) {
    layer.k.emplace_back();
    layer.v.emplace_back();
    for (int h = 0; h < kv_heads; ++h) {
      const std::int64_t n = tokens[static_cast<std::size_t>(s)];
      ref::RowMatrix k(n, head_dim), v(n, head_dim);
      for (std::int64_t t = 0; t < n; ++t) {
        for (int i = 0; i < head_dim; ++i) row[static_cast<std::size_t>(i)] = normal(rng) + offset[static_cast<std::size_t>(i)];
        layer.kv.set_key(s, h, t, row);
        for (float& x : row) x = normal(rng);
        layer.kv.set_value(s, h, t, row);
        for (int i = 0; i < head_dim; ++i) {
          k(t, i) = layer.kv.key(s, h, t, i);
          v(t, i) = layer.kv.value(s, h, t, i);
        }
      }
      layer.k.back().push_back(std::move(k));
      layer.v.back().push_back(std::move(v));
    }
  }
  return layer;
}

std::vector<float> random_queries(int rows, int head_dim, float stddev, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, stddev);
  std::vector<float> q(static_cast<std::size_t>(rows) * static_cast<std::size_t>(head_dim));
  for (float& x : q) x = normal(rng);
  return q;
}

void Lists::add(std::span<const std::int32_t> list) {
  indices.insert(indices.end(), list.begin(), list.end());
  offsets.push_back(static_cast<std::int64_t>(indices.size()));
}

std::vector<std::int64_t> Lists::list(std::size_t r) const {
  return {indices.begin() + offsets[r], indices.begin() + offsets[r + 1]};
}

std::vector<std::int32_t> random_subset(std::int64_t tokens, std::int64_t size, std::mt19937& rng) {
  std::vector<std::int32_t> all(static_cast<std::size_t>(tokens));
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(static_cast<std::size_t>(std::min(size, tokens)));
  return all;
}

std::vector<ref::Result> reference_rows(const Layer& layer, int q_heads, std::span<const float> q, const Lists& lists,
                                        double scale) {
  const int d = layer.kv.head_dim();
  std::vector<ref::Result> rows;
  for (int s = 0; s < layer.kv.num_sequences(); ++s) {
    ref::RowMatrix qs(q_heads, d);
    std::vector<std::vector<std::int64_t>> idx;
    for (int h = 0; h < q_heads; ++h) {
      const std::size_t r = static_cast<std::size_t>(s) * static_cast<std::size_t>(q_heads) + static_cast<std::size_t>(h);
      for (int i = 0; i < d; ++i) qs(h, i) = q[r * static_cast<std::size_t>(d) + static_cast<std::size_t>(i)];
      idx.push_back(lists.list(r));
    }
    const auto sr = ref::attend_heads(qs, layer.k[static_cast<std::size_t>(s)], layer.v[static_cast<std::size_t>(s)],
                                      idx, scale);
    rows.insert(rows.end(), sr.begin(), sr.end());
  }
  return rows;
}

double expect_rows_match(const std::vector<ref::Result>& expected, std::span<const float> out,
                         std::span<const float> lse, int head_dim, Tolerance tol, const std::string& what) {
  const auto d = static_cast<std::size_t>(head_dim);
  EXPECT_EQ(out.size(), expected.size() * d) << what;
  EXPECT_EQ(lse.size(), expected.size()) << what;
  double worst = 0;
  for (std::size_t r = 0; r < expected.size() && r < lse.size(); ++r) {
    const ref::Result& e = expected[r];
    if (e.empty()) {
      EXPECT_EQ(lse[r], -INFINITY) << what << " row " << r;
      for (std::size_t i = 0; i < d; ++i) EXPECT_EQ(out[r * d + i], 0.0f) << what << " row " << r << " elem " << i;
      continue;
    }
    const double scale = e.out.cwiseAbs().maxCoeff();
    double err = 0;
    int non_finite = 0;  // std::max would silently drop a NaN, so count them separately
    for (std::size_t i = 0; i < d; ++i) {
      if (!std::isfinite(out[r * d + i])) ++non_finite;
      err = std::max(err, std::abs(static_cast<double>(out[r * d + i]) - e.out[static_cast<Eigen::Index>(i)]));
    }
    EXPECT_EQ(non_finite, 0) << what << " row " << r;
    err /= std::max(scale, 1e-30);
    worst = std::max(worst, err);
    EXPECT_LE(err, tol.out_rel) << what << " row " << r;
    EXPECT_NEAR(lse[r], e.lse, tol.lse_abs) << what << " row " << r;
  }
  return worst;
}

}  // namespace hgca::kernels::test
