// The measurements table: what a valid table reads as, that writing and reading give the rows back, and that
// every malformed table is refused with one line naming file, line and column.
#include <gtest/gtest.h>

#include <sstream>

#include "sim/calibration/measurements.hpp"

namespace hgca {
namespace {

MeasurementTable parse(const std::string& text) {
  std::istringstream in(text);
  return parse_measurements(in, "m.csv");
}

// The message of the MeasurementError that parsing `text` throws, or "<no error>".
std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const MeasurementError& e) {
    return e.what();
  }
  return "<no error>";
}

::testing::AssertionResult one_line_containing(const std::string& message, const std::string& part) {
  if (message.find('\n') != std::string::npos) return ::testing::AssertionFailure() << "not one line: " << message;
  if (message.find(part) == std::string::npos)
    return ::testing::AssertionFailure() << "'" << part << "' not in: " << message;
  return ::testing::AssertionSuccess();
}

const std::string kHeader = "primitive,direction,memory,bytes,time_s\n";

TEST(Measurements, ReadsEveryPrimitiveWithItsShape) {
  const MeasurementTable t = parse(
      "# comment lines and blank lines are skipped\n"
      "\n"
      "primitive,direction,memory,bytes,batch,q_heads,kv_heads,kv_len,q_len,head_dim,dtype,m,n,k,count,threads,"
      "method,selected,block,task,time_s,note\n"
      "pcie_copy,h2d,pinned,256,,,,,,,,,,,,,,,,,4.7e-6,\"small, pinned\"\n"
      "pcie_copy,both,pageable,1e6,,,,,,,,,,,,,,,,,1e-3,\n"
      "gpu_attention,,,,8,32,8,4096,1,128,fp16,,,,,,,,,,74e-6,cuDNN\n"
      "gpu_gemm,,,,,,,,,,bf16,8,4096,14336,,,,,,,20e-6,\n"
      "gpu_merge,,,,8,32,,,,128,,,,,,,,,,,3e-6,\n"
      "gpu_launch,,,,,,,,,,,,,,1000,,,,,,3.5e-6,\n"
      "cpu_stream,,,1073741824,,,,,,,,,,,,16,,,,,0.0103,\n"
      "cpu_gather,,,1073741824,,,,,,,,,,,,4,,,,,0.05,\n"
      "cpu_attention,,,,4,32,8,32768,,128,bf16,,,,,16,block-summary,512,32,kv-head,0.002,\n");
  ASSERT_EQ(t.rows.size(), 9u);
  const Measurement& copy = t.rows[0];
  EXPECT_EQ(copy.primitive, Primitive::PcieCopy);
  EXPECT_EQ(copy.line, 4);
  EXPECT_EQ(copy.direction, CopyDirection::H2D);
  EXPECT_FALSE(copy.pageable);
  EXPECT_DOUBLE_EQ(copy.bytes, 256);
  EXPECT_DOUBLE_EQ(copy.seconds, 4.7e-6);
  EXPECT_EQ(t.rows[1].direction, CopyDirection::Both);
  EXPECT_TRUE(t.rows[1].pageable);
  const Measurement& att = t.rows[2];
  EXPECT_EQ(att.primitive, Primitive::GpuAttention);
  EXPECT_EQ(att.batch, 8);
  EXPECT_EQ(att.q_heads, 32);
  EXPECT_EQ(att.kv_heads, 8);
  EXPECT_EQ(att.kv_len, 4096);
  EXPECT_EQ(att.head_dim, 128);
  EXPECT_EQ(att.dtype, "fp16");
  EXPECT_DOUBLE_EQ(att.dtype_bytes, 2);
  EXPECT_EQ(t.rows[3].m, 8);
  EXPECT_EQ(t.rows[3].n, 4096);
  EXPECT_EQ(t.rows[3].k, 14336);
  EXPECT_EQ(t.rows[5].count, 1000);
  EXPECT_EQ(t.rows[6].threads, 16);
  const Measurement& cpu = t.rows[8];
  EXPECT_EQ(cpu.method, CpuAttentionMethod::BlockSummary);
  EXPECT_EQ(cpu.selected, 512);
  EXPECT_EQ(cpu.block, 32);
  EXPECT_EQ(cpu.task, CpuTaskGranularity::KvHead);
  EXPECT_EQ(cpu.q_len, 1);
}

TEST(Measurements, WritingThenReadingGivesTheRowsBack) {
  const MeasurementTable t = parse(
      "primitive,direction,bytes,batch,q_heads,kv_heads,kv_len,q_len,head_dim,dtype,threads,method,selected,time_s\n"
      "pcie_copy,d2h,4096,,,,,,,,,,,4.1e-6\n"
      "gpu_attention,,,2,40,40,1000,16,128,fp32,,,,1.234567890123e-4\n"
      "cpu_attention,,,3,32,8,5000,,128,bf16,8,key-scan,0,0.1\n");
  std::ostringstream out;
  write_measurements(out, t.rows);
  const MeasurementTable back = parse(out.str());
  ASSERT_EQ(back.rows.size(), t.rows.size());
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const Measurement &a = t.rows[i], &b = back.rows[i];
    EXPECT_EQ(a.primitive, b.primitive);
    EXPECT_EQ(a.direction, b.direction);
    EXPECT_EQ(a.bytes, b.bytes);
    EXPECT_EQ(a.batch, b.batch);
    EXPECT_EQ(a.q_heads, b.q_heads);
    EXPECT_EQ(a.kv_heads, b.kv_heads);
    EXPECT_EQ(a.kv_len, b.kv_len);
    EXPECT_EQ(a.q_len, b.q_len);
    EXPECT_EQ(a.dtype, b.dtype);
    EXPECT_EQ(a.threads, b.threads);
    EXPECT_EQ(a.method, b.method);
    EXPECT_EQ(a.selected, b.selected);
    EXPECT_EQ(a.seconds, b.seconds);  // bit for bit
  }
}

TEST(MeasurementErrors, MissingColumn) {
  EXPECT_TRUE(one_line_containing(error_of("primitive,direction,bytes\npcie_copy,h2d,256\n"),
                                  "m.csv:1: missing column 'time_s'"));
  // A column one row's primitive needs, absent from the header.
  EXPECT_TRUE(one_line_containing(
      error_of("primitive,batch,q_heads,kv_heads,head_dim,dtype,time_s\n"
               "gpu_attention,8,32,8,128,fp16,1e-4\n"),
      "m.csv:2: column 'kv_len' is missing from the header; expected it for gpu_attention"));
  // Present in the header, empty in the row.
  EXPECT_TRUE(one_line_containing(error_of(kHeader + "pcie_copy,h2d,pinned,,1e-6\n"),
                                  "m.csv:2: column 'bytes' (field 4): empty; expected a value for pcie_copy"));
}

TEST(MeasurementErrors, UnknownPrimitiveAndColumn) {
  EXPECT_TRUE(one_line_containing(error_of(kHeader + "pcie_copy,h2d,pinned,256,4e-6\npcie_cpy,h2d,pinned,256,4e-6\n"),
                                  "m.csv:3: column 'primitive' (field 1): unknown primitive 'pcie_cpy' (did you mean "
                                  "'pcie_copy'?); expected one of pcie_copy, gpu_attention"));
  EXPECT_TRUE(one_line_containing(error_of("primitive,direction,byte,time_s\npcie_copy,h2d,256,4e-6\n"),
                                  "m.csv:1: unknown column 'byte' (field 3) (did you mean 'bytes'?)"));
  EXPECT_TRUE(one_line_containing(error_of("primitive,bytes,bytes,time_s\n"), "m.csv:1: column 'bytes' (field 3) appears twice"));
  EXPECT_TRUE(one_line_containing(error_of(kHeader + "pcie_copy,sideways,pinned,256,4e-6\n"),
                                  "m.csv:2: column 'direction' (field 2): unknown value 'sideways'; expected one of h2d, d2h, both"));
}

TEST(MeasurementErrors, NonNumericNegativeNaNAndZero) {
  EXPECT_TRUE(one_line_containing(error_of(kHeader + "pcie_copy,h2d,pinned,256,fast\n"),
                                  "m.csv:2: column 'time_s' (field 5): 'fast' is not a number; expected the measured time in seconds"));
  EXPECT_TRUE(one_line_containing(error_of(kHeader + "pcie_copy,h2d,pinned,256,-4e-6\n"),
                                  "m.csv:2: column 'time_s' (field 5): '-4e-6' is negative"));
  EXPECT_TRUE(one_line_containing(error_of(kHeader + "pcie_copy,h2d,pinned,256,nan\n"),
                                  "m.csv:2: column 'time_s' (field 5): 'nan' is not a finite number"));
  EXPECT_TRUE(one_line_containing(error_of(kHeader + "pcie_copy,h2d,pinned,256,0\n"),
                                  "m.csv:2: column 'time_s' (field 5): must be positive, got 0"));
  EXPECT_TRUE(one_line_containing(error_of(kHeader + "pcie_copy,h2d,pinned,12abc,1e-6\n"),
                                  "m.csv:2: column 'bytes' (field 4): '12abc' is not a number"));
  EXPECT_TRUE(one_line_containing(
      error_of("primitive,batch,q_heads,kv_heads,kv_len,head_dim,dtype,time_s\ngpu_attention,8,32,8,4096.5,128,fp16,1e-4\n"),
      "m.csv:2: column 'kv_len' (field 5): '4096.5' is not a whole number"));
}

TEST(MeasurementErrors, EmptyTables) {
  EXPECT_TRUE(one_line_containing(error_of(""), "m.csv: empty table: no header row"));
  EXPECT_TRUE(one_line_containing(error_of("# only a comment\n\n"), "m.csv: empty table: no header row"));
  EXPECT_TRUE(one_line_containing(error_of(kHeader), "m.csv: no measurements: the table has a header but no rows"));
}

TEST(MeasurementErrors, ShapeProblems) {
  // Wrong field count, a value where the primitive takes none, an impossible head grouping, bad dtype.
  EXPECT_TRUE(one_line_containing(error_of(kHeader + "pcie_copy,h2d,256,4e-6\n"),
                                  "m.csv:2: 4 fields, but the header has 5"));
  EXPECT_TRUE(one_line_containing(error_of("primitive,threads,time_s\ngpu_launch,16,3.5e-6\n"),
                                  "m.csv:2: column 'threads' (field 2): not used by gpu_launch, got '16'"));
  const std::string att = "primitive,batch,q_heads,kv_heads,kv_len,head_dim,dtype,time_s\n";
  EXPECT_TRUE(one_line_containing(error_of(att + "gpu_attention,8,32,6,4096,128,fp16,1e-4\n"),
                                  "m.csv:2: column 'kv_heads' (field 4): q_heads (32) is not a multiple of kv_heads (6)"));
  EXPECT_TRUE(one_line_containing(error_of(att + "gpu_attention,8,32,8,4096,128,fp166,1e-4\n"),
                                  "m.csv:2: column 'dtype' (field 7): unknown dtype 'fp166' (did you mean 'fp16'?)"));
  EXPECT_TRUE(one_line_containing(
      error_of("primitive,batch,q_heads,kv_heads,kv_len,head_dim,dtype,threads,method,time_s\n"
               "cpu_attention,1,32,8,1000,128,bf16,4,key-scan,1e-3\n"),
      "m.csv:2: column 'selected' is missing from the header; expected it for cpu_attention with method key-scan"));
  EXPECT_TRUE(one_line_containing(error_of(kHeader + "pcie_copy,\"h2d,pinned,256,4e-6\n"),
                                  "m.csv:2: unterminated quoted field"));
}

TEST(Measurements, GivenListsNeedSelectedAndNothingOfTheSelection) {
  // method given: sparse attention over lists known in advance; `selected` (>= 1) is required, `block` refused.
  const std::string head = "primitive,batch,q_heads,kv_heads,kv_len,head_dim,dtype,threads,method,selected,block,task,time_s\n";
  const MeasurementTable t = parse(head + "cpu_attention,4,16,4,65536,64,fp16,8,given,512,,head,2.5e-4\n");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0].method, CpuAttentionMethod::Given);
  EXPECT_EQ(t.rows[0].selected, 512);
  EXPECT_EQ(t.rows[0].task, CpuTaskGranularity::Head);
  std::ostringstream out;
  write_measurements(out, t.rows);
  const MeasurementTable back = parse(out.str());
  EXPECT_EQ(back.rows[0].method, CpuAttentionMethod::Given);
  EXPECT_EQ(back.rows[0].selected, 512);

  EXPECT_TRUE(one_line_containing(
      error_of("primitive,batch,q_heads,kv_heads,kv_len,head_dim,dtype,threads,method,time_s\n"
               "cpu_attention,1,32,8,1000,128,bf16,4,given,1e-3\n"),
      "m.csv:2: column 'selected' is missing from the header; expected it for cpu_attention with method given"));
  EXPECT_TRUE(one_line_containing(error_of(head + "cpu_attention,1,32,8,1000,128,fp16,4,given,,,,1e-3\n"),
                                  "m.csv:2: column 'selected' (field 10): empty; expected a value for cpu_attention with method given"));
  EXPECT_TRUE(one_line_containing(error_of(head + "cpu_attention,1,32,8,1000,128,fp16,4,given,0,,,1e-3\n"),
                                  "m.csv:2: column 'selected' (field 10): '0' is too small; expected entries per query head "
                                  "such as 512 (at least 1 for method given)"));
  EXPECT_TRUE(one_line_containing(error_of(head + "cpu_attention,1,32,8,1000,128,fp16,4,given,2000,,,1e-3\n"),
                                  "m.csv:2: column 'selected' (field 10): 2000 is more than kv_len 1000"));
  EXPECT_TRUE(one_line_containing(error_of(head + "cpu_attention,1,32,8,1000,128,fp16,4,given,64,16,,1e-3\n"),
                                  "m.csv:2: column 'block' (field 11): only block-summary uses it"));
  EXPECT_TRUE(one_line_containing(error_of(head + "cpu_attention,1,32,8,1000,128,fp16,4,givn,64,,,1e-3\n"),
                                  "m.csv:2: column 'method' (field 9): unknown value 'givn' (did you mean 'given'?); expected one of "
                                  "dense, key-scan, block-summary, given"));
}

TEST(MeasurementErrors, FileThatCannotBeOpened) {
  try {
    read_measurements("/nonexistent/dir/m.csv");
    FAIL() << "no error";
  } catch (const MeasurementError& e) {
    EXPECT_TRUE(one_line_containing(e.what(), "/nonexistent/dir/m.csv: cannot open measurements file"));
  }
}

}  // namespace
}  // namespace hgca
