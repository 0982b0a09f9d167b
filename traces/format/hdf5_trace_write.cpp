// write_trace: streams a TraceSource into a versioned HDF5 trace file (FORMAT.md), one (layer, head) block at
// a time, into a hidden temporary beside the target that is renamed over it only when everything was written.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <system_error>

#include "kernels/cpu/half.hpp"
#include "traces/format/hdf5_layout.hpp"
#include "traces/format/trace.hpp"

namespace hgca::traces {
namespace fs = std::filesystem;
namespace {

using namespace layout;

void write_attribute(H5::H5Object& object, const char* name, const std::string& value) {
  const H5::StrType type = utf8_string_type();
  object.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)).write(type, value);
}

void write_attribute(H5::H5Object& object, const char* name, int64_t value) {
  object.createAttribute(name, H5::PredType::STD_I64LE, H5::DataSpace(H5S_SCALAR))
      .write(H5::PredType::NATIVE_INT64, &value);
}

void write_attribute(H5::H5Object& object, const char* name, double value) {
  object.createAttribute(name, H5::PredType::IEEE_F64LE, H5::DataSpace(H5S_SCALAR))
      .write(H5::PredType::NATIVE_DOUBLE, &value);
}

void write_meta(H5::H5File& file, const TraceMeta& m) {
  write_attribute(file, "format", std::string(kFormatName));
  write_attribute(file, "format_version", int64_t{kTraceFormatVersion});
  write_attribute(file, "model_name", m.model_name);
  write_attribute(file, "source", m.source);
  write_attribute(file, "text_source", m.text_source);
  write_attribute(file, "num_layers", int64_t{m.num_layers});
  write_attribute(file, "num_q_heads", int64_t{m.num_q_heads});
  write_attribute(file, "num_kv_heads", int64_t{m.num_kv_heads});
  write_attribute(file, "head_dim", int64_t{m.head_dim});
  write_attribute(file, "storage_dtype", m.storage_dtype);
  write_attribute(file, "model_dtype", m.model_dtype);
  write_attribute(file, "decode_mode", m.decode_mode);
  write_attribute(file, "rope_theta", m.rope_theta);
  write_attribute(file, "rope_scaling", m.rope_scaling);
  write_attribute(file, "softmax_scale", m.softmax_scale);
  write_attribute(file, "prompt_length", m.prompt_length);
  write_attribute(file, "decode_steps", m.decode_steps);
  write_attribute(file, "has_outputs", int64_t{m.has_outputs ? 1 : 0});
}

void write_vectors(H5::H5File& file, const TraceMeta& m) {
  const hsize_t n = static_cast<hsize_t>(m.num_positions());
  std::vector<int64_t> positions(n);
  for (hsize_t i = 0; i < n; ++i) positions[i] = static_cast<int64_t>(i);
  file.createDataSet(kPositions, H5::PredType::STD_I64LE, H5::DataSpace(1, &n))
      .write(positions.data(), H5::PredType::NATIVE_INT64);
  if (!m.tokens.empty())
    file.createDataSet(kTokens, H5::PredType::STD_I32LE, H5::DataSpace(1, &n))
        .write(m.tokens.data(), H5::PredType::NATIVE_INT32);
  if (m.has_prompt_queries()) {
    const hsize_t p = static_cast<hsize_t>(m.num_prompt_queries());
    file.createDataSet(kPromptQueryPositions, H5::PredType::STD_I64LE, H5::DataSpace(1, &p))
        .write(m.prompt_query_positions.data(), H5::PredType::NATIVE_INT64);
  }
}

// Converts one block to the storage dtype; a value that is not finite, or that becomes infinite in a 16-bit
// type, is an error naming the block and index (a trace never holds NaN/Inf).
std::vector<uint16_t> to_16_bit(const std::vector<float>& block, const std::string& dtype, const std::string& where) {
  std::vector<uint16_t> bits(block.size());
  const bool fp16 = dtype == "float16";
  for (size_t i = 0; i < block.size(); ++i) {
    bits[i] = fp16 ? kernels::float_to_fp16_bits(block[i]) : kernels::float_to_bf16_bits(block[i]);
    const float back = fp16 ? kernels::fp16_bits_to_float(bits[i]) : kernels::bf16_bits_to_float(bits[i]);
    if (!std::isfinite(back))
      throw TraceError(where + ": value " + std::to_string(block[i]) + " at index " + std::to_string(i) +
                       " does not fit " + dtype);
  }
  return bits;
}

// One tensor [layers][heads][rows][head_dim] (keys, values, queries, outputs, prompt queries), chunked per (layer, head) in runs of rows of about 256 KiB, so
// that reading one head touches only its own chunks.
void write_tensor(H5::H5File& file, const char* name, const TraceSource& source, const TraceMeta& m, int heads,
                  int64_t rows, const TraceWriteOptions& options, const std::string& what,
                  void (TraceSource::*read)(int, int, std::vector<float>&) const) {
  const hsize_t dims[4] = {static_cast<hsize_t>(m.num_layers), static_cast<hsize_t>(heads),
                           static_cast<hsize_t>(rows), static_cast<hsize_t>(m.head_dim)};
  const size_t row_bytes = element_size(m.storage_dtype) * static_cast<size_t>(m.head_dim);
  const hsize_t chunk_rows =
      std::clamp<hsize_t>((size_t{256} << 10) / row_bytes, 1, static_cast<hsize_t>(rows));
  const hsize_t chunk[4] = {1, 1, chunk_rows, static_cast<hsize_t>(m.head_dim)};
  H5::DSetCreatPropList props;
  props.setChunk(4, chunk);
  if (options.compression_level > 0) {
    props.setShuffle();
    props.setDeflate(options.compression_level);
  }
  const H5::DataType type = file_type(m.storage_dtype);
  H5::DataSpace space(4, dims);
  H5::DataSet data = file.createDataSet(name, type, space, props);
  write_attribute(data, kDtypeAttribute, m.storage_dtype);

  const size_t want = static_cast<size_t>(rows) * static_cast<size_t>(m.head_dim);
  const hsize_t block_dims[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(m.head_dim)};
  H5::DataSpace memory(2, block_dims);
  std::vector<float> block;
  for (int layer = 0; layer < m.num_layers; ++layer) {
    for (int head = 0; head < heads; ++head) {
      const std::string where =
          what + ": " + name + " layer " + std::to_string(layer) + " head " + std::to_string(head);
      try {
        (source.*read)(layer, head, block);
      } catch (const TraceError& e) {
        throw TraceError(where + ": the source failed: " + e.what());  // name the file being written
      }
      if (block.size() != want)
        throw TraceError(where + ": the source gave " + std::to_string(block.size()) + " values, expected " +
                         std::to_string(want) + " (" + std::to_string(rows) + " x head_dim " +
                         std::to_string(m.head_dim) + ")");
      const hsize_t start[4] = {static_cast<hsize_t>(layer), static_cast<hsize_t>(head), 0, 0};
      const hsize_t count[4] = {1, 1, static_cast<hsize_t>(rows), static_cast<hsize_t>(m.head_dim)};
      space.selectHyperslab(H5S_SELECT_SET, count, start);
      if (m.storage_dtype == "float32") {
        for (size_t i = 0; i < block.size(); ++i)
          if (!std::isfinite(block[i]))
            throw TraceError(where + ": non-finite value " + std::to_string(block[i]) + " at index " +
                             std::to_string(i));
        data.write(block.data(), H5::PredType::NATIVE_FLOAT, memory, space);
      } else {
        const std::vector<uint16_t> bits = to_16_bit(block, m.storage_dtype, where);
        // The memory type equals the file type: HDF5 copies the bits without converting.
        data.write(bits.data(), type, memory, space);
      }
    }
  }
}

fs::path temporary_path_for(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  static const unsigned salt = std::random_device{}();
  // Built with append: GCC 12 warns falsely (-Wrestrict) about "." + std::string.
  std::string name = ".";
  name.append(target.filename().string()).append(".tmp-").append(std::to_string(::getpid()));
  name.append("-").append(std::to_string(salt)).append("-").append(std::to_string(counter++));
  return target.parent_path() / name;
}

void sync_file(const fs::path& file, const std::string& what) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw TraceError(what + ": cannot reopen the temporary file: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw TraceError(what + ": cannot sync the temporary file: " + std::strerror(err));
}

}  // namespace

void write_trace(const TraceSource& source, const std::string& path) {
  write_trace(source, path, TraceWriteOptions{});
}

void write_trace(const TraceSource& source, const std::string& path, const TraceWriteOptions& options) {
  const std::string what = "cannot write trace " + path;
  const TraceMeta& m = source.meta();
  validate_meta(m, what);
  if (!is_storage_dtype(m.storage_dtype))
    throw TraceError(what + ": storage_dtype '" + m.storage_dtype + "' is not float16, bfloat16 or float32");
  if (options.compression_level < 0 || options.compression_level > 9)
    throw TraceError(what + ": compression level " + std::to_string(options.compression_level) +
                     " is outside 0..9");
  if (path.empty()) throw TraceError("cannot write trace: the output path is empty");
  const fs::path target = fs::absolute(fs::path(path));
  std::error_code ec;
  if (fs::is_directory(target, ec)) throw TraceError(what + ": it is a directory");
  fs::create_directories(target.parent_path(), ec);
  if (ec) throw TraceError(what + ": cannot create directory " + target.parent_path().string() + ": " + ec.message());

  const fs::path temp = temporary_path_for(target);
  std::lock_guard lock(hdf5_mutex());
  try {
    {
      ErrorCapture errors;
      try {
        H5::H5File file(temp.string(), H5F_ACC_EXCL);
        write_meta(file, m);
        write_vectors(file, m);
        write_tensor(file, kKeys, source, m, m.num_kv_heads, m.num_positions(), options, what, &TraceSource::keys);
        write_tensor(file, kValues, source, m, m.num_kv_heads, m.num_positions(), options, what,
                     &TraceSource::values);
        write_tensor(file, kQueries, source, m, m.num_q_heads, m.decode_steps, options, what,
                     &TraceSource::queries);
        if (m.has_outputs)
          write_tensor(file, kOutputs, source, m, m.num_q_heads, m.decode_steps, options, what,
                       &TraceSource::outputs);
        if (m.has_prompt_queries())
          write_tensor(file, kPromptQueries, source, m, m.num_q_heads, m.num_prompt_queries(), options, what,
                       &TraceSource::prompt_queries);
        file.close();
      } catch (const H5::Exception& e) {
        throw TraceError(what + ": " + ErrorCapture::describe(e));
      }
    }
    sync_file(temp, what);
    fs::rename(temp, target, ec);
    if (ec) throw TraceError(what + ": cannot rename the temporary file over it: " + ec.message());
  } catch (const TraceError&) {
    fs::remove(temp, ec);
    throw;
  } catch (const std::exception& e) {
    // A source may throw anything; the file must still not be left behind, and the error names the file.
    fs::remove(temp, ec);
    throw TraceError(what + ": " + e.what());
  }
}

}  // namespace hgca::traces
