// A table of measured primitive timings: what `hgca calibrate --from-measurements` reads, and what the
// microbenchmarks of `hgca calibrate` (issue 5) will write. The format is documented in docs/CALIBRATION.md.
//
// CSV with a header row; `#` lines and blank lines are ignored; fields may be double-quoted. Every row is one
// primitive (a PCIe copy, a GPU kernel, a CPU batch) with its shape and the time it took, in seconds. Columns
// a primitive does not use stay empty. Every problem is one line naming file, line and column.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sim/config/experiment.hpp"

namespace hgca {

struct MeasurementError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Primitive : uint8_t {
  PcieCopy,      // one host<->device copy (or one each way at once)
  GpuAttention,  // one attention kernel over a batch of sequences
  GpuGemm,       // one dense matrix product
  GpuMerge,      // one log-sum-exp merge kernel
  GpuLaunch,     // back-to-back launches of an empty kernel
  CpuStream,     // `threads` cores streaming `bytes` from DRAM
  CpuGather,     // `threads` cores reading `bytes` as scattered rows
  CpuAttention,  // decode attention (dense, or sparse with its selection work) on `threads` cores
};
inline constexpr int kPrimitiveCount = 8;

// The part of a hardware profile a primitive exercises: fits of different parts are independent.
enum class HardwarePart : uint8_t { Gpu, Pcie, Cpu };

enum class CopyDirection : uint8_t { H2D, D2H, Both };
// given: sparse attention over per-head lists known in advance (no selection work), as the hybrid runner does.
enum class CpuAttentionMethod : uint8_t { Dense, KeyScan, BlockSummary, Given };

std::string_view to_string(Primitive p);
std::string_view to_string(CpuAttentionMethod m);
std::string_view to_string(HardwarePart p);
HardwarePart part_of(Primitive p);

struct Measurement {
  Primitive primitive = Primitive::PcieCopy;
  int line = 0;  // line in the file, for messages and reports

  // pcie_copy, cpu_stream, cpu_gather
  CopyDirection direction = CopyDirection::H2D;
  bool pageable = false;
  double bytes = 0;  // per direction for pcie_copy; in all for the CPU reads

  // attention and merge shapes
  int batch = 1;
  int q_heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
  int64_t kv_len = 0;
  int64_t q_len = 1;
  std::string dtype;        // KV (attention) or weight (gemm) data type
  double dtype_bytes = 2;

  // gpu_gemm: (m x k) times (k x n)
  int64_t m = 0, n = 0, k = 0;

  // gpu_launch: launches the time was averaged over
  int count = 100;

  // CPU primitives
  int threads = 0;
  CpuAttentionMethod method = CpuAttentionMethod::Dense;
  int64_t selected = 0;  // entries each query head attends to (sparse methods)
  int64_t block = 16;    // block-summary: tokens per block
  CpuTaskGranularity task = CpuTaskGranularity::Head;

  double seconds = 0;  // measured time
};

struct MeasurementTable {
  std::string source;  // file name, as given
  std::vector<Measurement> rows;
};

// Reads and validates a table; throws MeasurementError ("FILE:LINE: column 'x' (field N): problem; expected …").
MeasurementTable read_measurements(const std::string& path);
// The same from a stream; `source` names it in messages.
MeasurementTable parse_measurements(std::istream& in, const std::string& source);

// Writes rows in the same format (the microbenchmarks' writer, and tests); parse(write(rows)) == rows.
void write_measurements(std::ostream& out, const std::vector<Measurement>& rows);

// Every column name the format knows, in the order write_measurements uses.
const std::vector<std::string>& measurement_columns();

}  // namespace hgca
