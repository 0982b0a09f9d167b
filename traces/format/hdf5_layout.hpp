// The on-disk layout of a trace file (FORMAT.md) shared by the reader and the writer: names, element types,
// and HDF5 error plumbing. Private to traces/format.
#pragma once

#include <H5Cpp.h>

#include <cstdint>
#include <mutex>
#include <string>

#include "traces/format/trace.hpp"

namespace hgca::traces::layout {

inline constexpr const char* kFormatName = "hgca-attention-trace";

// The four tensors, each [num_layers][heads][rows][head_dim], and the two per-position vectors.
inline constexpr const char* kKeys = "keys";
inline constexpr const char* kValues = "values";
inline constexpr const char* kQueries = "queries";
inline constexpr const char* kOutputs = "outputs";
inline constexpr const char* kTokens = "tokens";
inline constexpr const char* kPositions = "positions";
// Version 2, optional and always together: queries of some prompt positions [num_layers][num_q_heads][P][head_dim]
// (a tensor like the four above) and those positions [P] (int64, strictly ascending, in [0, prompt_length)).
inline constexpr const char* kPromptQueries = "prompt_queries";
inline constexpr const char* kPromptQueryPositions = "prompt_query_positions";
// Attribute on each tensor naming its element type (the only way to tell bfloat16 from uint16).
inline constexpr const char* kDtypeAttribute = "dtype";

// Bytes per stored element of a storage dtype ("float16", "bfloat16", "float32").
size_t element_size(const std::string& storage_dtype);

// The HDF5 file type of a storage dtype: IEEE binary16 (little-endian, a type h5py/numpy read as float16),
// uint16 for bfloat16 (bit pattern of the upper half of an fp32), IEEE binary32 little-endian.
H5::DataType file_type(const std::string& storage_dtype);

// Whether `type` is the file type of `storage_dtype` (fp32 in either byte order is accepted; the 16-bit
// types must be little-endian because they are read without conversion).
bool matches_storage_dtype(const H5::DataType& type, const std::string& storage_dtype);

// Describes an HDF5 type in words for error messages: "float32", "float16", "uint16", "int64", "string".
std::string describe_type(const H5::DataType& type);

// The HDF5 library of Debian is not built thread-safe: every call from traces/format holds this lock, so
// trace files may be read from several threads (calls are serialized). Recursive: writing a trace read
// from a file reads while writing.
std::recursive_mutex& hdf5_mutex();

// While alive, HDF5 prints nothing and the innermost message of a failing call is kept; describe() turns an
// H5::Exception into one line ("HDF5 H5File constructor failed (truncated file: eof = 100, ...)").
class ErrorCapture {
 public:
  ErrorCapture();
  ~ErrorCapture();
  ErrorCapture(const ErrorCapture&) = delete;
  ErrorCapture& operator=(const ErrorCapture&) = delete;
  static std::string describe(const H5::Exception& e);

 private:
  H5E_auto2_t saved_function_ = nullptr;
  void* saved_data_ = nullptr;
};

H5::StrType utf8_string_type();

}  // namespace hgca::traces::layout
