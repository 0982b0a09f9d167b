// Shared test fixtures: a random KV cache with its double-precision copy, random queries, token lists, and
// the row-by-row comparison against the reference (using tolerances.hpp).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "kernels/cpu/isa.hpp"
#include "kernels/cpu/kv_store.hpp"
#include "kernels/cpu/sparse_attention.hpp"
#include "kernels/ref/reference_attention.hpp"
#include "tests/kernels/tolerances.hpp"

namespace hgca::kernels::test {

std::vector<Isa> supported_isas();

// A KV cache of random values plus, per (sequence, KV head), double copies of what was actually stored.
struct Layer {
  KvStore kv;
  std::vector<std::vector<ref::RowMatrix>> k, v;  // [seq][kv_head]
};
// Keys ~ N(0, 1) plus a per-channel offset (real keys have outlier channels), values ~ N(0, 1).
Layer make_layer(KvType type, int kv_heads, int head_dim, const std::vector<std::int64_t>& tokens, std::mt19937& rng);

// [sequences x q_heads x head_dim]; a larger stddev makes the softmax peakier.
std::vector<float> random_queries(int rows, int head_dim, float stddev, std::mt19937& rng);

struct Lists {
  std::vector<std::int64_t> offsets{0};
  std::vector<std::int32_t> indices;
  void add(std::span<const std::int32_t> list);
  TokenLists view() const { return {offsets, indices}; }
  std::vector<std::int64_t> list(std::size_t r) const;
};

// A random subset of [0, tokens) of the given size, in random order.
std::vector<std::int32_t> random_subset(std::int64_t tokens, std::int64_t size, std::mt19937& rng);

// The reference result of every (sequence, query head) row.
std::vector<ref::Result> reference_rows(const Layer& layer, int q_heads, std::span<const float> q, const Lists& lists,
                                        double scale);

// Checks every row: an empty reference row must come out as exact zeros with lse = -inf; any other row
// within `tol`. Returns the largest output error seen (for reporting).
double expect_rows_match(const std::vector<ref::Result>& expected, std::span<const float> out,
                         std::span<const float> lse, int head_dim, Tolerance tol, const std::string& what);

}  // namespace hgca::kernels::test
