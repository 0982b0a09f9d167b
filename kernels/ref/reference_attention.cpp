#include "kernels/ref/reference_attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace hgca::kernels::ref {
namespace {
constexpr double kNegInf = -std::numeric_limits<double>::infinity();
}

bool Result::empty() const { return lse == kNegInf; }

double default_scale(int head_dim) { return 1.0 / std::sqrt(static_cast<double>(head_dim)); }

int kv_head_for(int q_head, int q_heads, int kv_heads) {
  if (kv_heads <= 0 || q_heads % kv_heads != 0) throw std::invalid_argument("q_heads must be a multiple of kv_heads");
  return q_head / (q_heads / kv_heads);
}

Result empty_result(int head_dim) { return {Eigen::VectorXd::Zero(head_dim), kNegInf}; }

Result attend_subset(const Eigen::VectorXd& q, const RowMatrix& k, const RowMatrix& v,
                     std::span<const std::int64_t> idx, double scale) {
  const auto d = static_cast<int>(q.size());
  if (idx.empty()) return empty_result(d);
  Eigen::VectorXd s(static_cast<Eigen::Index>(idx.size()));
  for (std::size_t j = 0; j < idx.size(); ++j) {
    if (idx[j] < 0 || idx[j] >= k.rows()) throw std::out_of_range("reference: index outside the KV rows");
    s[static_cast<Eigen::Index>(j)] = scale * k.row(idx[j]).dot(q);
  }
  const double m = s.maxCoeff();
  const Eigen::VectorXd w = (s.array() - m).exp().matrix();
  Eigen::VectorXd out = Eigen::VectorXd::Zero(d);
  for (std::size_t j = 0; j < idx.size(); ++j) out += w[static_cast<Eigen::Index>(j)] * v.row(idx[j]).transpose();
  const double sum = w.sum();
  return {out / sum, m + std::log(sum)};
}

Result attend_full(const Eigen::VectorXd& q, const RowMatrix& k, const RowMatrix& v, double scale) {
  std::vector<std::int64_t> all(static_cast<std::size_t>(k.rows()));
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
  return attend_subset(q, k, v, all, scale);
}

std::vector<std::int64_t> window_indices(std::int64_t tokens, std::int64_t window, std::int64_t sinks) {
  const std::int64_t sink_end = std::clamp<std::int64_t>(sinks, 0, tokens);
  const std::int64_t window_begin = std::max(sink_end, tokens - std::max<std::int64_t>(window, 0));
  std::vector<std::int64_t> idx;
  for (std::int64_t t = 0; t < sink_end; ++t) idx.push_back(t);
  for (std::int64_t t = window_begin; t < tokens; ++t) idx.push_back(t);
  return idx;
}

Result attend_window(const Eigen::VectorXd& q, const RowMatrix& k, const RowMatrix& v, std::int64_t window,
                     std::int64_t sinks, double scale) {
  return attend_subset(q, k, v, window_indices(k.rows(), window, sinks), scale);
}

Result merge(const Result& a, const Result& b) {
  const Result parts[] = {a, b};
  return merge_all(parts, static_cast<int>(a.out.size()));
}

Result merge_all(std::span<const Result> parts, int head_dim) {
  double m = kNegInf;
  for (const Result& p : parts) m = std::max(m, p.lse);
  if (m == kNegInf) return empty_result(head_dim);  // all empty: avoid exp(-inf - -inf)
  Eigen::VectorXd out = Eigen::VectorXd::Zero(head_dim);
  double sum = 0;
  for (const Result& p : parts) {
    if (p.empty()) continue;
    const double w = std::exp(p.lse - m);
    out += w * p.out;
    sum += w;
  }
  return {out / sum, m + std::log(sum)};
}

std::vector<Result> attend_heads(const RowMatrix& q, const std::vector<RowMatrix>& k,
                                 const std::vector<RowMatrix>& v,
                                 std::span<const std::vector<std::int64_t>> idx, double scale) {
  const int q_heads = static_cast<int>(q.rows());
  const int kv_heads = static_cast<int>(k.size());
  std::vector<Result> results;
  for (int h = 0; h < q_heads; ++h) {
    const int kvh = kv_head_for(h, q_heads, kv_heads);
    results.push_back(attend_subset(q.row(h).transpose(), k[static_cast<std::size_t>(kvh)],
                                    v[static_cast<std::size_t>(kvh)], idx[static_cast<std::size_t>(h)], scale));
  }
  return results;
}

}  // namespace hgca::kernels::ref
