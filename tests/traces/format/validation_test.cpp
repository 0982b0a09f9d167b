// Every way a trace file can be wrong gets one line naming the file, the dataset or attribute and what was
// expected; writing never leaves a half-written file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "tests/traces/format/trace_test_support.hpp"
#include "traces/format/trace.hpp"

namespace hgca::traces {
namespace {

using test::ScratchDir;
using test::Shape;

// A valid float16 trace: 2 layers, 4 query heads, 2 KV heads, head_dim 8, 5 prompt + 3 decode positions.
std::string valid_file(const ScratchDir& dir, const std::string& dtype = "float16", int compression = 4) {
  const std::string path = dir.file("t.h5");
  write_trace(test::random_trace(Shape{}, dtype, true, 11), path, TraceWriteOptions{compression});
  return path;
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const TraceError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string open_error(const std::string& path) {
  return error_of([&] { open_trace(path); });
}

// The message is one line, names the file and contains every expected part.
void expect_message(const std::string& message, const std::string& path, std::initializer_list<const char*> parts) {
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_NE(message.find(path), std::string::npos) << "should name " << path << ": " << message;
  for (const char* part : parts) EXPECT_NE(message.find(part), std::string::npos) << "want '" << part << "' in: " << message;
}

TEST(OpenErrors, NoSuchFileDirectoryAndNotHdf5) {
  ScratchDir dir("not-files");
  expect_message(open_error(dir.file("absent.h5")), dir.file("absent.h5"), {"no such file"});
  std::filesystem::create_directories(dir.file("sub"));
  expect_message(open_error(dir.file("sub")), dir.file("sub"), {"directory"});
  std::ofstream(dir.file("text.h5")) << "keys,values\n1,2\n";
  expect_message(open_error(dir.file("text.h5")), dir.file("text.h5"), {"not an HDF5 file"});
}

TEST(OpenErrors, TruncatedFile) {
  ScratchDir dir("truncated");
  const std::string path = valid_file(dir, "float32", 0);
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size / 2);
  expect_message(open_error(path), path, {"truncated"});
}

TEST(OpenErrors, NotATraceAndWrongVersion) {
  ScratchDir dir("version");
  const std::string path = valid_file(dir);
  test::set_int_attribute(path, "format_version", 3);
  expect_message(open_error(path), path, {"format_version 3 is not supported", "versions 1 to 2"});
  test::set_int_attribute(path, "format_version", 0);
  expect_message(open_error(path), path, {"format_version 0 is not supported"});
  test::set_string_attribute(path, "/", "format", "hgca-results");
  expect_message(open_error(path), path, {"not an HGCA attention trace", "'hgca-results'"});
  test::delete_attribute(path, "format");
  expect_message(open_error(path), path, {"not an HGCA attention trace", "'format' is missing"});
}

TEST(OpenErrors, MissingAttribute) {
  for (const char* name : {"head_dim", "num_kv_heads", "storage_dtype", "softmax_scale", "has_outputs",
                           "rope_theta", "decode_mode"}) {
    ScratchDir dir("missing-attribute");
    const std::string path = valid_file(dir);
    test::delete_attribute(path, name);
    expect_message(open_error(path), path, {"root attribute", name, "is missing"});
  }
}

TEST(OpenErrors, AttributeOfWrongTypeOrValue) {
  ScratchDir dir("attribute-type");
  const std::string path = valid_file(dir);
  test::set_string_attribute(path, "/", "head_dim", "eight");
  expect_message(open_error(path), path, {"root attribute 'head_dim' is string, expected an integer"});
  test::set_int_attribute(path, "head_dim", 8);
  test::set_int_attribute(path, "num_q_heads", 3);
  expect_message(open_error(path), path, {"query heads (3) must be a multiple of KV heads (2)"});
  test::set_int_attribute(path, "num_q_heads", 4);
  test::set_string_attribute(path, "/", "storage_dtype", "float8");
  expect_message(open_error(path), path, {"'storage_dtype' is 'float8'", "float16, bfloat16 or float32"});
  test::set_string_attribute(path, "/", "storage_dtype", "float16");
  test::set_int_attribute(path, "decode_steps", 0);
  expect_message(open_error(path), path, {"'decode_steps' is 0, expected 1.."});
}

TEST(OpenErrors, MismatchedShapes) {
  ScratchDir dir("shapes");
  const std::string path = valid_file(dir);
  // The metadata now says 4 decode steps, the datasets hold 3.
  test::set_int_attribute(path, "decode_steps", 4);
  expect_message(open_error(path), path, {"dataset '/positions' has shape [8], expected [9]"});
  test::set_int_attribute(path, "decode_steps", 3);
  test::replace_dataset(path, "queries", {2, 2, 3, 8}, false, "float16");
  expect_message(open_error(path), path,
                 {"dataset '/queries' has shape [2, 2, 3, 8], expected [2, 4, 3, 8]", "num_q_heads"});
}

TEST(OpenErrors, KeysOfTheWrongLength) {
  ScratchDir dir("keys-length");
  const std::string path = valid_file(dir);
  test::replace_dataset(path, "keys", {2, 2, 7, 8}, false, "float16");
  expect_message(open_error(path), path,
                 {"dataset '/keys' has shape [2, 2, 7, 8], expected [2, 2, 8, 8]", "num_positions"});
}

TEST(OpenErrors, WrongDtype) {
  ScratchDir dir("dtype");
  const std::string path = valid_file(dir);
  test::set_string_attribute(path, "/keys", "dtype", "bfloat16");
  expect_message(open_error(path), path, {"dataset '/keys' attribute 'dtype' is 'bfloat16', expected 'float16'"});
  test::set_string_attribute(path, "/keys", "dtype", "float16");
  test::replace_dataset(path, "values", {2, 2, 8, 8}, true, "float16");
  expect_message(open_error(path), path, {"dataset '/values' is stored as int32, expected float16"});
  test::replace_dataset(path, "values", {2, 2, 8, 8}, false, "float16");  // float32 elements
  expect_message(open_error(path), path, {"dataset '/values' is stored as float32, expected float16"});
}

TEST(OpenErrors, RootDtypeThatDisagreesWithTheDatasets) {
  ScratchDir dir("root-dtype");
  const std::string path = valid_file(dir, "bfloat16");
  test::set_string_attribute(path, "/", "storage_dtype", "float16");
  expect_message(open_error(path), path, {"dataset '/keys' attribute 'dtype' is 'bfloat16', expected 'float16'"});
}

TEST(OpenErrors, MissingOrUnexpectedDatasets) {
  ScratchDir dir("datasets");
  const std::string path = valid_file(dir);
  test::delete_dataset(path, "values");
  expect_message(open_error(path), path, {"dataset '/values' is missing"});

  ScratchDir dir2("outputs-flag");
  const std::string path2 = valid_file(dir2);
  test::set_int_attribute(path2, "has_outputs", 0);
  expect_message(open_error(path2), path2, {"'/outputs' is present but root attribute 'has_outputs' is 0"});
  test::set_int_attribute(path2, "has_outputs", 1);
  test::delete_dataset(path2, "outputs");
  expect_message(open_error(path2), path2, {"dataset '/outputs' is missing"});
}

TEST(OpenErrors, PositionsAndTokens) {
  ScratchDir dir("positions");
  const std::string path = valid_file(dir);
  test::write_int64_vector(path, "positions", {0, 1, 2, 3, 5, 5, 6, 7});
  expect_message(open_error(path), path, {"dataset '/positions' holds 5 at index 4, expected 4"});
  test::write_int64_vector(path, "positions", {0, 1, 2, 3, 4, 5, 6, 7});
  test::replace_dataset(path, "tokens", {8}, false, "");
  expect_message(open_error(path), path, {"dataset '/tokens' is float32, expected integers"});
  test::replace_dataset(path, "tokens", {5}, true, "");
  expect_message(open_error(path), path, {"dataset '/tokens' has shape [5], expected [8]"});
}

// A valid float16 trace of Shape{} (prompt 5) with prompt queries at positions 1, 3 and 4.
std::string valid_file_with_prompt_queries(const ScratchDir& dir, const std::string& dtype = "float16") {
  const std::string path = dir.file("pq.h5");
  InMemoryTrace t = test::random_trace(Shape{}, dtype, true, 11);
  test::add_prompt_queries(t, {1, 3, 4}, 12);
  write_trace(t, path);
  return path;
}

TEST(OpenErrors, VersionOneFilesAreReadAndHoldNoPromptQueries) {
  ScratchDir dir("version-1");
  const std::string path = valid_file(dir);
  test::set_int_attribute(path, "format_version", 1);
  const auto trace = open_trace(path);
  EXPECT_EQ(trace->meta().format_version, 1);
  EXPECT_FALSE(trace->meta().has_prompt_queries());

  const std::string with = valid_file_with_prompt_queries(dir);
  EXPECT_EQ(open_trace(with)->meta().format_version, 2);
  test::set_int_attribute(with, "format_version", 1);
  expect_message(open_error(with), with,
                 {"dataset '/prompt_queries' is present but format_version is 1", "need version 2"});
}

TEST(OpenErrors, PromptQueriesComeAsAPair) {
  ScratchDir dir("pq-pair");
  const std::string path = valid_file_with_prompt_queries(dir);
  test::delete_dataset(path, "prompt_query_positions");
  expect_message(open_error(path), path,
                 {"dataset '/prompt_queries' is present but '/prompt_query_positions' is missing"});
  ScratchDir dir2("pq-pair-2");
  const std::string path2 = valid_file_with_prompt_queries(dir2);
  test::delete_dataset(path2, "prompt_queries");
  expect_message(open_error(path2), path2,
                 {"dataset '/prompt_query_positions' is present but '/prompt_queries' is missing"});
}

TEST(OpenErrors, PromptQueryPositionsOutOfRangeOrNotAscending) {
  ScratchDir dir("pq-positions");
  const std::string path = valid_file_with_prompt_queries(dir);
  const std::string where = "dataset '/prompt_query_positions' holds ";
  test::write_int64_vector(path, "prompt_query_positions", {1, 3, 5});  // prompt_length is 5
  expect_message(open_error(path), path, {(where + "5 at index 2").c_str(), "[0, prompt_length 5)"});
  test::write_int64_vector(path, "prompt_query_positions", {-1, 3, 4});
  expect_message(open_error(path), path, {(where + "-1 at index 0").c_str(), "[0, prompt_length 5)"});
  test::write_int64_vector(path, "prompt_query_positions", {1, 3, 3});
  expect_message(open_error(path), path, {(where + "3 at index 2 after 3").c_str(), "strictly ascending"});
  test::write_int64_vector(path, "prompt_query_positions", {3, 1, 4});
  expect_message(open_error(path), path, {(where + "1 at index 1 after 3").c_str(), "strictly ascending"});
  test::write_int64_vector(path, "prompt_query_positions", {1, 3, 4});
  EXPECT_NO_THROW(open_trace(path));
}

TEST(OpenErrors, PromptQueryShapesAndTypes) {
  ScratchDir dir("pq-shapes");
  const std::string path = valid_file_with_prompt_queries(dir);
  // Four positions, three stored queries.
  test::replace_dataset(path, "prompt_query_positions", {4}, true, "");
  test::write_int64_vector(path, "prompt_query_positions", {0, 1, 3, 4});
  expect_message(open_error(path), path,
                 {"dataset '/prompt_queries' has shape [2, 4, 3, 8], expected [2, 4, 4, 8]",
                  "num_q_heads, prompt query positions, head_dim"});
  test::replace_dataset(path, "prompt_query_positions", {0}, true, "");
  expect_message(open_error(path), path,
                 {"dataset '/prompt_query_positions' has shape [0], expected [P] with P >= 1"});
  test::replace_dataset(path, "prompt_query_positions", {3}, false, "");
  expect_message(open_error(path), path, {"dataset '/prompt_query_positions' is float32, expected integers"});
  test::replace_dataset(path, "prompt_query_positions", {3}, true, "");
  test::write_int64_vector(path, "prompt_query_positions", {1, 3, 4});
  test::replace_dataset(path, "prompt_queries", {2, 4, 3, 8}, false, "float16");  // float32 elements
  expect_message(open_error(path), path, {"dataset '/prompt_queries' is stored as float32, expected float16"});
  test::replace_dataset(path, "prompt_queries", {2, 4, 3, 8}, false, "float32");
  expect_message(open_error(path), path,
                 {"dataset '/prompt_queries' attribute 'dtype' is 'float32', expected 'float16'"});
}

TEST(ReadErrors, NanInPromptQueriesIsFoundWithItsPosition) {
  ScratchDir dir("pq-nan");
  const std::string path = valid_file_with_prompt_queries(dir);
  const uint64_t at[4] = {1, 2, 1, 4};
  test::poke_element(path, "prompt_queries", at, 0x7C00u);  // fp16 +Inf
  const auto trace = open_trace(path);
  std::vector<float> block;
  trace->prompt_queries(1, 1, block);
  expect_message(error_of([&] { trace->prompt_queries(1, 2, block); }), path,
                 {"dataset '/prompt_queries' layer 1 query head 2 prompt query 1 (position 3) dim 4 holds Inf"});
  expect_message(error_of([&] { trace->prompt_queries(0, 4, block); }), path,
                 {"prompt_queries: query head 4 out of range [0, 4)"});
}

TEST(ReadErrors, NanAndInfAreFoundWhereTheyAre) {
  ScratchDir dir("nan");
  const std::string path = valid_file(dir, "float16");
  const uint64_t key_at[4] = {1, 1, 4, 3};
  test::poke_element(path, "keys", key_at, 0x7E00u);  // fp16 quiet NaN
  const auto trace = open_trace(path);                // opening reads no tensor data
  std::vector<float> block;
  trace->keys(0, 1, block);  // other blocks stay readable
  expect_message(error_of([&] { trace->keys(1, 1, block); }), path,
                 {"dataset '/keys' layer 1 KV head 1 position 4 dim 3 holds NaN"});

  ScratchDir dir32("inf");
  const std::string path32 = valid_file(dir32, "float32");
  const uint64_t query_at[4] = {0, 3, 2, 7};
  test::poke_element(path32, "queries", query_at, 0xFF800000u);  // -Inf
  const auto trace32 = open_trace(path32);
  expect_message(error_of([&] { trace32->queries(0, 3, block); }), path32,
                 {"dataset '/queries' layer 0 query head 3 decode step 2 dim 7 holds Inf"});

  ScratchDir dirbf("bf16-nan");
  const std::string pathbf = valid_file(dirbf, "bfloat16");
  const uint64_t value_at[4] = {0, 0, 7, 0};
  test::poke_element(pathbf, "values", value_at, 0x7FC0u);  // bf16 NaN
  expect_message(error_of([&] { open_trace(pathbf)->values(0, 0, block); }), pathbf,
                 {"dataset '/values' layer 0 KV head 0 position 7 dim 0 holds NaN"});
}

TEST(ReadErrors, OutOfRangeLayerOrHead) {
  ScratchDir dir("range");
  const std::string path = valid_file(dir);
  const auto trace = open_trace(path);
  std::vector<float> block;
  expect_message(error_of([&] { trace->keys(2, 0, block); }), path, {"keys: layer 2 out of range [0, 2)"});
  expect_message(error_of([&] { trace->queries(0, 4, block); }), path,
                 {"queries: query head 4 out of range [0, 4)"});
  expect_message(error_of([&] { trace->values(0, -1, block); }), path, {"KV head -1 out of range"});
}

TEST(WriteErrors, NonFiniteValuesAreRefusedAndNothingIsLeft) {
  ScratchDir dir("write-nan");
  InMemoryTrace t = test::random_trace(Shape{}, "float32", true, 2);
  t.k[0][1][5] = std::numeric_limits<float>::quiet_NaN();
  const std::string path = dir.file("t.h5");
  expect_message(error_of([&] { write_trace(t, path); }), path, {"keys layer 0 head 1", "non-finite", "index 5"});
  EXPECT_EQ(dir.entry_count(), 0u) << "neither the trace nor a temporary may remain";
}

TEST(WriteErrors, ValuesBeyondTheStorageRange) {
  ScratchDir dir("overflow");
  InMemoryTrace t = test::random_trace(Shape{}, "float16", true, 2);
  t.q[1][2][4] = 1e5f;  // above fp16's 65504
  const std::string path = dir.file("t.h5");
  expect_message(error_of([&] { write_trace(t, path); }), path, {"queries layer 1 head 2", "does not fit float16"});
  EXPECT_EQ(dir.entry_count(), 0u);
  t.m.storage_dtype = "bfloat16";  // the same value fits bfloat16
  write_trace(t, path);
  std::vector<float> block;
  open_trace(path)->queries(1, 2, block);
  EXPECT_EQ(block[4], test::stored_value(1e5f, "bfloat16"));
}

TEST(WriteErrors, BadMetadataOptionsAndPaths) {
  ScratchDir dir("write-meta");
  InMemoryTrace t = test::random_trace(Shape{}, "float64", true, 2);
  const std::string path = dir.file("t.h5");
  expect_message(error_of([&] { write_trace(t, path); }), path, {"storage_dtype 'float64'"});
  t.m.storage_dtype = "float16";
  expect_message(error_of([&] { write_trace(t, path, TraceWriteOptions{12}); }), path,
                 {"compression level 12 is outside 0..9"});
  t.m.num_kv_heads = 3;
  expect_message(error_of([&] { write_trace(t, path); }), path, {"multiple of KV heads"});
  t.m.num_kv_heads = 2;
  t.v[1].pop_back();  // the source has fewer heads than its metadata says
  EXPECT_THROW(write_trace(t, path), std::exception);
  EXPECT_EQ(dir.entry_count(), 0u);
  std::filesystem::create_directories(dir.file("sub"));
  expect_message(error_of([&] { write_trace(test::random_trace(Shape{}, "float16", false, 1), dir.file("sub")); }),
                 dir.file("sub"), {"directory"});
}

TEST(WriteErrors, SourceBlockOfTheWrongSize) {
  ScratchDir dir("block-size");
  InMemoryTrace t = test::random_trace(Shape{}, "float16", true, 2);
  t.o[1][3].resize(t.o[1][3].size() - 1);
  const std::string path = dir.file("t.h5");
  expect_message(error_of([&] { write_trace(t, path); }), path,
                 {"outputs layer 1 head 3", "gave 23 values, expected 24"});
  EXPECT_EQ(dir.entry_count(), 0u);
}

TEST(WriteErrors, BadPromptQueriesAreRefusedAndNothingIsLeft) {
  ScratchDir dir("write-pq");
  const std::string path = dir.file("t.h5");
  InMemoryTrace t = test::random_trace(Shape{}, "float16", true, 2);
  test::add_prompt_queries(t, {2, 4}, 3);
  t.pq[1][3][5] = std::numeric_limits<float>::quiet_NaN();
  expect_message(error_of([&] { write_trace(t, path); }), path, {"prompt_queries layer 1 head 3", "index 5"});
  t.pq[1][3][5] = 1e5f;  // beyond float16
  expect_message(error_of([&] { write_trace(t, path); }), path,
                 {"prompt_queries layer 1 head 3", "does not fit float16"});
  t.pq[1][3].resize(15);
  expect_message(error_of([&] { write_trace(t, path); }), path,
                 {"prompt_queries layer 1 head 3", "gave 15 values, expected 16 (2 x head_dim 8)"});
  test::add_prompt_queries(t, {4, 2}, 3);
  expect_message(error_of([&] { write_trace(t, path); }), path,
                 {"prompt query position 2 (index 1)", "strictly ascending"});
  test::add_prompt_queries(t, {2, 5}, 3);
  expect_message(error_of([&] { write_trace(t, path); }), path, {"prompt query position 5", "prompt_length 5"});
  EXPECT_EQ(dir.entry_count(), 0u);
  // A source that declares positions but cannot give the queries (the default TraceSource::prompt_queries).
  struct NoPromptQueries : TraceSource {
    const InMemoryTrace& base;
    explicit NoPromptQueries(const InMemoryTrace& b) : base(b) {}
    const TraceMeta& meta() const override { return base.m; }
    void keys(int l, int h, std::vector<float>& o) const override { base.keys(l, h, o); }
    void values(int l, int h, std::vector<float>& o) const override { base.values(l, h, o); }
    void queries(int l, int h, std::vector<float>& o) const override { base.queries(l, h, o); }
    void outputs(int l, int h, std::vector<float>& o) const override { base.outputs(l, h, o); }
  };
  test::add_prompt_queries(t, {2, 4}, 3);
  expect_message(error_of([&] { write_trace(NoPromptQueries(t), path); }), path, {"prompt queries", "stores none"});
  EXPECT_EQ(dir.entry_count(), 0u);
}

TEST(WriteErrors, AFailedWriteLeavesThePreviousFileAsItWas) {
  ScratchDir dir("atomic");
  const InMemoryTrace good = test::random_trace(Shape{}, "float16", true, 4);
  const std::string path = dir.file("t.h5");
  write_trace(good, path);
  InMemoryTrace bad = good;
  bad.m.model_name = "bad";
  bad.v[1][0][0] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(write_trace(bad, path), TraceError);
  EXPECT_EQ(dir.entry_count(), 1u);
  EXPECT_EQ(open_trace(path)->meta().model_name, good.m.model_name);
}

TEST(InMemory, ValidateUsesTheSameMetadataChecks) {
  InMemoryTrace t = test::random_trace(Shape{}, "float16", true, 4);
  EXPECT_NO_THROW(t.validate());
  t.m.rope_theta = -1;
  EXPECT_NE(error_of([&] { t.validate("mine"); }).find("mine: rope_theta"), std::string::npos);
  t.m.rope_theta = 10000;
  test::add_prompt_queries(t, {0, 4}, 1);
  EXPECT_NO_THROW(t.validate());
  t.pq[0][1].pop_back();
  EXPECT_NE(error_of([&] { t.validate("mine"); }).find("mine: prompt queries[0][1] has 15 values, expected 16"),
            std::string::npos);
}

}  // namespace
}  // namespace hgca::traces
