// Helpers for the trace format tests: a scratch directory, random in-memory traces of any shape, and small
// "file surgery" edits (HDF5 C API) that make a valid file invalid in one precise way.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "traces/format/trace.hpp"

namespace hgca::traces::test {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Number of entries in the directory (temporaries included: their names start with '.').
  size_t entry_count() const;

 private:
  std::filesystem::path path_;
};

struct Shape {
  int layers = 2, q_heads = 4, kv_heads = 2, head_dim = 8;
  int64_t prompt = 5, decode = 3;
};

// Random Q/K/V in [-3, 3] (seeded), tokens 0..255, all metadata fields filled. Outputs, when asked for, are
// causal attention over the trace's own Q/K/V computed here in double (naive loops).
InMemoryTrace random_trace(const Shape& shape, const std::string& storage_dtype, bool with_outputs,
                           uint32_t seed);

// Adds random prompt queries in [-3, 3] (seeded) at `positions` (format version 2).
void add_prompt_queries(InMemoryTrace& trace, const std::vector<int64_t>& positions, uint32_t seed);

// The value a float becomes when stored as `dtype` (kernels/cpu/half.hpp rounding).
float stored_value(float x, const std::string& dtype);

// File surgery (HDF5 C API, on an existing trace file).
void set_int_attribute(const std::string& file, const std::string& name, int64_t value);
void set_string_attribute(const std::string& file, const std::string& object, const std::string& name,
                          const std::string& value);
void delete_attribute(const std::string& file, const std::string& name);
void delete_dataset(const std::string& file, const std::string& name);
// Replaces dataset `name` by a float32 or int32 one of the given shape (contents zero).
void replace_dataset(const std::string& file, const std::string& name, const std::vector<uint64_t>& shape,
                     bool as_int32, const std::string& dtype_attribute);
// Overwrites element [layer][head][row][col] of a float tensor with raw 16-bit or 32-bit pattern `bits`.
void poke_element(const std::string& file, const std::string& name, const uint64_t index[4], uint32_t bits);
void write_int64_vector(const std::string& file, const std::string& name, const std::vector<int64_t>& values);

}  // namespace hgca::traces::test
