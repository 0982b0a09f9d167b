// The microbenchmarks' rows (kernels/microbench) in the measurements table's schema: the CPU part runs here
// on a tiny grid and its CSV must parse with the calibration reader, row for row; the GPU part runs only on
// a machine with a GPU (skipped otherwise, saying why).
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <utility>

#include "kernels/microbench/microbench.hpp"
#include "sim/calibration/measurements.hpp"

namespace hgca {
namespace {

namespace mb = kernels::microbench;

mb::Options tiny() {
  mb::Options o;
  o.quick = true;
  o.cpu_stream_bytes = 4 << 20;
  o.cpu_threads = {1, 2};
  return o;
}

MeasurementTable round_trip(const std::vector<mb::Row>& rows) {
  std::stringstream csv;
  mb::write_csv(csv, rows);
  return parse_measurements(csv, "microbench.csv");
}

TEST(MicrobenchRows, CpuRowsParseAsTheCalibrationTable) {
  const std::vector<mb::Row> rows = mb::run_cpu(tiny());
  const MeasurementTable t = round_trip(rows);
  ASSERT_EQ(t.rows.size(), rows.size());
  int stream = 0, gather = 0, attention = 0, given = 0, llc = 0;
  std::set<std::pair<int, std::int64_t>> llc_pools;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Measurement& m = t.rows[i];
    EXPECT_GT(m.seconds, 0);
    EXPECT_DOUBLE_EQ(m.seconds, std::stod([&] { std::ostringstream s; s.precision(7); s << rows[i].time_s; return s.str(); }()));
    EXPECT_EQ(m.threads, rows[i].threads);
    switch (m.primitive) {
      case Primitive::CpuStream: ++stream; EXPECT_EQ(m.bytes, 4 << 20); break;
      case Primitive::CpuGather: ++gather; EXPECT_EQ(m.bytes, 4 << 20); break;
      case Primitive::CpuAttention:
        // Key-scan rows (selection + attention), then given-list rows (the hybrid runner's CPU phase), then the
        // LLC sweep: given lists, batch 4, over pools of 8 and 32 MiB in two shapes: 32 q / 8 KV heads of
        // head_dim 128 (512 and 2048 tokens of 16 KiB) and 16 / 4 of head_dim 64 (2048 and 8192 tokens of 4 KiB).
        if (m.method == CpuAttentionMethod::Given && m.batch == 4) {
          ++llc;
          llc_pools.insert({m.head_dim, m.kv_len});
          EXPECT_EQ(m.q_heads, m.head_dim == 64 ? 16 : 32);
          EXPECT_EQ(m.kv_heads, m.head_dim == 64 ? 4 : 8);
        } else {
          ++(m.method == CpuAttentionMethod::Given ? given : attention);
          EXPECT_EQ(m.head_dim, 128);
          EXPECT_EQ(m.q_heads, 32);
          EXPECT_EQ(m.kv_heads, 8);
        }
        EXPECT_TRUE(m.method == CpuAttentionMethod::KeyScan || m.method == CpuAttentionMethod::Given);
        EXPECT_EQ(m.selected, 64);
        EXPECT_EQ(m.task, CpuTaskGranularity::KvHead);
        break;
      default: ADD_FAILURE() << "unexpected primitive " << to_string(m.primitive);
    }
  }
  EXPECT_EQ(stream, 2);
  EXPECT_EQ(gather, 2);
  EXPECT_EQ(attention, 2);
  EXPECT_EQ(given, 2);
  EXPECT_EQ(llc, 8);
  EXPECT_EQ(llc_pools, (std::set<std::pair<int, std::int64_t>>{{128, 512}, {128, 2048}, {64, 2048}, {64, 8192}}));
}

TEST(MicrobenchRows, EveryPrimitiveWritesOnlyItsColumns) {
  // One hand-made row per primitive the GPU part writes: the reader refuses a value in an unused column.
  std::vector<mb::Row> rows(5);
  rows[0].primitive = "pcie_copy", rows[0].direction = "both", rows[0].memory = "pinned", rows[0].bytes = 268435456;
  rows[1].primitive = "gpu_attention", rows[1].batch = 4, rows[1].q_heads = 32, rows[1].kv_heads = 8,
  rows[1].kv_len = 4096, rows[1].head_dim = 128, rows[1].dtype = "fp16";
  rows[2].primitive = "gpu_gemm", rows[2].m = 16, rows[2].n = 6144, rows[2].k = 4096, rows[2].dtype = "fp16";
  rows[3].primitive = "gpu_merge", rows[3].batch = 16, rows[3].q_heads = 32, rows[3].head_dim = 128;
  rows[4].primitive = "gpu_launch", rows[4].count = 1000;
  for (mb::Row& r : rows) r.time_s = 1.25e-5, r.note = "a note, with a comma";
  const MeasurementTable t = round_trip(rows);
  ASSERT_EQ(t.rows.size(), 5u);
  EXPECT_EQ(t.rows[0].direction, CopyDirection::Both);
  EXPECT_EQ(t.rows[0].bytes, 268435456.0);  // whole bytes, not rounded to 7 digits
  EXPECT_EQ(t.rows[1].kv_len, 4096);
  EXPECT_EQ(t.rows[2].n, 6144);
  EXPECT_EQ(t.rows[4].count, 1000);
}

// Passes merge row by row into the median time of each row; passes that list other rows are refused.
TEST(MicrobenchRows, PassesMergeIntoEachRowsMedian) {
  mb::Row a;
  a.primitive = "cpu_stream";
  a.bytes = 1 << 20;
  a.threads = 2;
  mb::Row b = a;
  b.threads = 4;
  std::vector<std::vector<mb::Row>> passes(3, std::vector<mb::Row>{a, b});
  const double ta[] = {3e-3, 1e-3, 2e-3}, tb[] = {5e-3, 9e-3, 4e-3};
  for (int p = 0; p < 3; ++p) passes[p][0].time_s = ta[p], passes[p][1].time_s = tb[p];
  const auto merged = mb::median_over_passes(passes);
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].time_s, 2e-3);
  EXPECT_EQ(merged[1].time_s, 5e-3);
  EXPECT_EQ(merged[1].threads, 4);
  passes.pop_back();  // two passes: the mean of the two middle values
  EXPECT_DOUBLE_EQ(mb::median_over_passes(passes)[1].time_s, 7e-3);
  passes[1][1].threads = 8;
  EXPECT_THROW(mb::median_over_passes(passes), std::invalid_argument);
  passes[1].pop_back();
  EXPECT_THROW(mb::median_over_passes(passes), std::invalid_argument);
  EXPECT_THROW(mb::median_over_passes({}), std::invalid_argument);
}

TEST(MicrobenchRows, GpuRowsParseAsTheCalibrationTable) {
  std::string why;
  if (!mb::gpu_available(&why)) GTEST_SKIP() << "no GPU here (" << why << "): the GPU microbenchmarks run on the device machine";
  const std::vector<mb::Row> rows = mb::run_gpu(tiny());
  const MeasurementTable t = round_trip(rows);
  EXPECT_EQ(t.rows.size(), rows.size());
  for (const Measurement& m : t.rows) EXPECT_GT(m.seconds, 0);
}

}  // namespace
}  // namespace hgca
