// open_trace: a TraceSource over a trace file (FORMAT.md). Opening validates every attribute and the shape and
// element type of every dataset against the metadata; each block read checks that its values are finite.
// Every problem is a TraceError "trace <path>: <dataset or attribute>: <what is wrong>".
#include <H5Cpp.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include "kernels/cpu/half.hpp"
#include "traces/format/hdf5_layout.hpp"
#include "traces/format/trace.hpp"

namespace hgca::traces {
namespace {

using namespace layout;

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

class FileTrace final : public TraceSource {
 public:
  explicit FileTrace(std::string path) : path_(std::move(path)) {
    std::lock_guard lock(hdf5_mutex());
    try {
      guarded([&] { open(); });
    } catch (...) {
      close();
      throw;
    }
  }

  ~FileTrace() override {
    std::lock_guard lock(hdf5_mutex());
    close();
  }
  FileTrace(const FileTrace&) = delete;
  FileTrace& operator=(const FileTrace&) = delete;

  const TraceMeta& meta() const override { return meta_; }

  void keys(int layer, int kv_head, std::vector<float>& out) const override {
    read_block(keys_, kKeys, "KV head", layer, kv_head, meta_.num_kv_heads, meta_.num_positions(), out);
  }
  void values(int layer, int kv_head, std::vector<float>& out) const override {
    read_block(values_, kValues, "KV head", layer, kv_head, meta_.num_kv_heads, meta_.num_positions(), out);
  }
  void queries(int layer, int q_head, std::vector<float>& out) const override {
    read_block(queries_, kQueries, "query head", layer, q_head, meta_.num_q_heads, meta_.decode_steps, out);
  }
  void outputs(int layer, int q_head, std::vector<float>& out) const override {
    if (!meta_.has_outputs) fail("outputs: this trace stores no attention outputs (has_outputs = 0)");
    read_block(outputs_, kOutputs, "query head", layer, q_head, meta_.num_q_heads, meta_.decode_steps, out);
  }
  void prompt_queries(int layer, int q_head, std::vector<float>& out) const override {
    if (!meta_.has_prompt_queries())
      fail("prompt queries: this trace stores none (no '/prompt_queries'; capture with --prompt-queries)");
    read_block(prompt_queries_, kPromptQueries, "query head", layer, q_head, meta_.num_q_heads,
               meta_.num_prompt_queries(), out);
  }

  std::vector<TraceDatasetInfo> datasets() const {
    std::lock_guard lock(hdf5_mutex());
    std::vector<TraceDatasetInfo> infos;
    guarded([&] {
      for (const char* name :
           {kKeys, kValues, kQueries, kOutputs, kPromptQueries, kTokens, kPositions, kPromptQueryPositions})
        if (file_.nameExists(name)) infos.push_back(describe(name));
    });
    return infos;
  }

 private:
  // Releases the HDF5 handles while the caller holds the lock (the library is not thread-safe).
  void close() noexcept {
    ErrorCapture errors;
    try {
      prompt_queries_.close();
      outputs_.close();
      queries_.close();
      values_.close();
      keys_.close();
      file_.close();
    } catch (const H5::Exception&) {
      // Closing a read-only file cannot lose data; nothing to report.
    }
  }

  [[noreturn]] void fail(const std::string& problem) const { throw TraceError("trace " + path_ + ": " + problem); }

  // Runs HDF5 calls with errors captured; a library error becomes a TraceError naming the file.
  template <typename F>
  void guarded(F&& body) const {
    ErrorCapture errors;
    try {
      body();
    } catch (const H5::Exception& e) {
      fail(ErrorCapture::describe(e));
    }
  }

  void open() {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(path_, ec)) fail("no such file");
    if (fs::is_directory(path_, ec)) fail("it is a directory, not a trace file");
    if (H5Fis_hdf5(path_.c_str()) <= 0) fail("not an HDF5 file (or truncated before its superblock)");
    file_ = H5::H5File(path_, H5F_ACC_RDONLY);
    read_meta();
    check_vectors();
    keys_ = open_tensor(kKeys, meta_.num_kv_heads, meta_.num_positions(), "num_kv_heads", "num_positions");
    values_ = open_tensor(kValues, meta_.num_kv_heads, meta_.num_positions(), "num_kv_heads", "num_positions");
    queries_ = open_tensor(kQueries, meta_.num_q_heads, meta_.decode_steps, "num_q_heads", "decode_steps");
    if (meta_.has_outputs)
      outputs_ = open_tensor(kOutputs, meta_.num_q_heads, meta_.decode_steps, "num_q_heads", "decode_steps");
    else if (file_.nameExists(kOutputs))
      fail("dataset '/outputs' is present but root attribute 'has_outputs' is 0");
    if (meta_.has_prompt_queries())
      prompt_queries_ = open_tensor(kPromptQueries, meta_.num_q_heads, meta_.num_prompt_queries(), "num_q_heads",
                                    "prompt query positions");
  }

  H5::Attribute attribute(const char* name, H5T_class_t expected, const char* expected_words) const {
    if (!file_.attrExists(name)) fail("root attribute '" + std::string(name) + "' is missing");
    H5::Attribute a = file_.openAttribute(name);
    if (a.getTypeClass() != expected)
      fail("root attribute '" + std::string(name) + "' is " + describe_type(a.getDataType()) + ", expected " +
           expected_words);
    if (a.getSpace().getSimpleExtentNpoints() != 1)
      fail("root attribute '" + std::string(name) + "' is not a single value");
    return a;
  }

  std::string read_string(const char* name) const {
    H5::Attribute a = attribute(name, H5T_STRING, "a string");
    std::string value;
    a.read(a.getStrType(), value);
    return value;
  }

  int64_t read_int(const char* name, int64_t lo, int64_t hi) const {
    H5::Attribute a = attribute(name, H5T_INTEGER, "an integer");
    int64_t value = 0;
    const H5::IntType type = a.getIntType();
    if (type.getSign() == H5T_SGN_NONE) {
      uint64_t u = 0;
      a.read(H5::PredType::NATIVE_UINT64, &u);
      value = u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                              : static_cast<int64_t>(u);
    } else {
      a.read(H5::PredType::NATIVE_INT64, &value);
    }
    if (value < lo || value > hi)
      fail("root attribute '" + std::string(name) + "' is " + std::to_string(value) + ", expected " +
           std::to_string(lo) + ".." + std::to_string(hi));
    return value;
  }

  double read_double(const char* name) const {
    if (file_.attrExists(name) && file_.openAttribute(name).getTypeClass() == H5T_INTEGER)
      return static_cast<double>(read_int(name, std::numeric_limits<int64_t>::min(),
                                          std::numeric_limits<int64_t>::max()));
    H5::Attribute a = attribute(name, H5T_FLOAT, "a number");
    double value = 0;
    a.read(H5::PredType::NATIVE_DOUBLE, &value);
    return value;
  }

  void read_meta() {
    if (!file_.attrExists("format"))
      fail("not an HGCA attention trace (root attribute 'format' is missing)");
    const std::string format = read_string("format");
    if (format != kFormatName)
      fail("not an HGCA attention trace (root attribute 'format' is '" + format + "', expected '" + kFormatName +
           "')");
    const int64_t version = read_int("format_version", std::numeric_limits<int64_t>::min(),
                                     std::numeric_limits<int64_t>::max());
    if (version < kOldestTraceFormatVersion || version > kTraceFormatVersion)
      fail("format_version " + std::to_string(version) + " is not supported (this build reads versions " +
           std::to_string(kOldestTraceFormatVersion) + " to " + std::to_string(kTraceFormatVersion) + ")");
    const int64_t int_max = std::numeric_limits<int>::max();
    TraceMeta& m = meta_;
    m.format_version = static_cast<int>(version);
    m.model_name = read_string("model_name");
    m.source = read_string("source");
    m.text_source = read_string("text_source");
    m.num_layers = static_cast<int>(read_int("num_layers", 1, int_max));
    m.num_q_heads = static_cast<int>(read_int("num_q_heads", 1, int_max));
    m.num_kv_heads = static_cast<int>(read_int("num_kv_heads", 1, int_max));
    m.head_dim = static_cast<int>(read_int("head_dim", 1, int_max));
    m.storage_dtype = read_string("storage_dtype");
    if (!is_storage_dtype(m.storage_dtype))
      fail("root attribute 'storage_dtype' is '" + m.storage_dtype + "', expected float16, bfloat16 or float32");
    m.model_dtype = read_string("model_dtype");
    m.decode_mode = read_string("decode_mode");
    m.rope_theta = read_double("rope_theta");
    m.rope_scaling = read_string("rope_scaling");
    m.softmax_scale = read_double("softmax_scale");
    m.prompt_length = read_int("prompt_length", 0, std::numeric_limits<int32_t>::max());
    m.decode_steps = read_int("decode_steps", 1, std::numeric_limits<int32_t>::max());
    m.has_outputs = read_int("has_outputs", 0, 1) == 1;
    validate_meta(m, "trace " + path_);
  }

  // Opens a 1-D dataset of `n` integers, or returns false when it is absent and optional.
  bool open_vector(const char* name, bool required, std::vector<int64_t>& values) const {
    const std::string where = "dataset '/" + std::string(name) + "'";
    if (!file_.nameExists(name)) {
      if (required) fail(where + " is missing");
      return false;
    }
    if (file_.childObjType(name) != H5O_TYPE_DATASET) fail(where + " is not a dataset");
    const H5::DataSet data = file_.openDataSet(name);
    if (data.getTypeClass() != H5T_INTEGER)
      fail(where + " is " + describe_type(data.getDataType()) + ", expected integers");
    const H5::DataSpace space = data.getSpace();
    std::vector<hsize_t> dims(static_cast<size_t>(space.getSimpleExtentNdims()));
    space.getSimpleExtentDims(dims.data());
    const std::vector<hsize_t> want = {static_cast<hsize_t>(meta_.num_positions())};
    if (dims != want)
      fail(where + " has shape " + shape_text(dims) + ", expected " + shape_text(want) +
           " (prompt_length + decode_steps)");
    values.resize(want[0]);
    data.read(values.data(), H5::PredType::NATIVE_INT64);
    return true;
  }

  void check_vectors() {
    std::vector<int64_t> values;
    open_vector(kPositions, true, values);
    for (size_t i = 0; i < values.size(); ++i)
      if (values[i] != static_cast<int64_t>(i))
        fail("dataset '/positions' holds " + std::to_string(values[i]) + " at index " + std::to_string(i) +
             ", expected " + std::to_string(i) + " (positions are numbered 0..n-1)");
    if (open_vector(kTokens, false, values)) {
      meta_.tokens.resize(values.size());
      for (size_t i = 0; i < values.size(); ++i) {
        if (values[i] < std::numeric_limits<int32_t>::min() || values[i] > std::numeric_limits<int32_t>::max())
          fail("dataset '/tokens' holds " + std::to_string(values[i]) + " at index " + std::to_string(i) +
               ", outside int32");
        meta_.tokens[i] = static_cast<int32_t>(values[i]);
      }
    }
    read_prompt_query_positions();
  }

  // Version 2's optional pair: '/prompt_query_positions' [P] and '/prompt_queries' (shape checked with the
  // other tensors). Either both or neither; positions strictly ascending in [0, prompt_length).
  void read_prompt_query_positions() {
    const bool has_queries = file_.nameExists(kPromptQueries);
    const bool has_positions = file_.nameExists(kPromptQueryPositions);
    if (!has_queries && !has_positions) return;
    const std::string present = has_queries ? kPromptQueries : kPromptQueryPositions;
    if (meta_.format_version < 2)
      fail("dataset '/" + present + "' is present but format_version is " + std::to_string(meta_.format_version) +
           " (prompt queries need version 2)");
    if (has_queries != has_positions)
      fail("dataset '/" + present + "' is present but '/" +
           (has_queries ? kPromptQueryPositions : kPromptQueries) + "' is missing (they come as a pair)");
    const std::string where = "dataset '/" + std::string(kPromptQueryPositions) + "'";
    if (file_.childObjType(kPromptQueryPositions) != H5O_TYPE_DATASET) fail(where + " is not a dataset");
    const H5::DataSet data = file_.openDataSet(kPromptQueryPositions);
    if (data.getTypeClass() != H5T_INTEGER)
      fail(where + " is " + describe_type(data.getDataType()) + ", expected integers");
    const H5::DataSpace space = data.getSpace();
    std::vector<hsize_t> dims(static_cast<size_t>(space.getSimpleExtentNdims()));
    space.getSimpleExtentDims(dims.data());
    if (dims.size() != 1 || dims[0] == 0)
      fail(where + " has shape " + shape_text(dims) + ", expected [P] with P >= 1 (leave both prompt query "
           "datasets out when there are none)");
    std::vector<int64_t> positions(dims[0]);
    data.read(positions.data(), H5::PredType::NATIVE_INT64);
    for (size_t i = 0; i < positions.size(); ++i) {
      const int64_t p = positions[i];
      if (p < 0 || p >= meta_.prompt_length)
        fail(where + " holds " + std::to_string(p) + " at index " + std::to_string(i) + ", expected a prompt "
             "position in [0, prompt_length " + std::to_string(meta_.prompt_length) + ")");
      if (i > 0 && p <= positions[i - 1])
        fail(where + " holds " + std::to_string(p) + " at index " + std::to_string(i) + " after " +
             std::to_string(positions[i - 1]) + ", expected strictly ascending positions");
    }
    meta_.prompt_query_positions = std::move(positions);
    validate_meta(meta_, "trace " + path_);
  }

  H5::DataSet open_tensor(const char* name, int heads, int64_t rows, const char* heads_name,
                          const char* rows_name) const {
    const std::string where = "dataset '/" + std::string(name) + "'";
    if (!file_.nameExists(name)) fail(where + " is missing");
    if (file_.childObjType(name) != H5O_TYPE_DATASET) fail(where + " is not a dataset");
    H5::DataSet data = file_.openDataSet(name);
    const H5::DataSpace space = data.getSpace();
    std::vector<hsize_t> dims(static_cast<size_t>(space.getSimpleExtentNdims()));
    space.getSimpleExtentDims(dims.data());
    const std::vector<hsize_t> want = {static_cast<hsize_t>(meta_.num_layers), static_cast<hsize_t>(heads),
                                       static_cast<hsize_t>(rows), static_cast<hsize_t>(meta_.head_dim)};
    if (dims != want)
      fail(where + " has shape " + shape_text(dims) + ", expected " + shape_text(want) + " (num_layers, " +
           heads_name + ", " + rows_name + ", head_dim)");
    if (!data.attrExists(kDtypeAttribute)) fail(where + " attribute 'dtype' is missing");
    const H5::Attribute dtype_attribute = data.openAttribute(kDtypeAttribute);
    if (dtype_attribute.getTypeClass() != H5T_STRING) fail(where + " attribute 'dtype' is not a string");
    std::string dtype;
    dtype_attribute.read(dtype_attribute.getStrType(), dtype);
    if (dtype != meta_.storage_dtype)
      fail(where + " attribute 'dtype' is '" + dtype + "', expected '" + meta_.storage_dtype +
           "' (root attribute 'storage_dtype')");
    if (!matches_storage_dtype(data.getDataType(), meta_.storage_dtype))
      fail(where + " is stored as " + describe_type(data.getDataType()) + ", expected " +
           (meta_.storage_dtype == "bfloat16" ? std::string("uint16 little-endian (bfloat16 bits)")
                                              : meta_.storage_dtype + " little-endian IEEE"));
    return data;
  }

  void read_block(const H5::DataSet& data, const char* name, const char* head_word, int layer, int head,
                  int heads, int64_t rows, std::vector<float>& out) const {
    if (layer < 0 || layer >= meta_.num_layers)
      fail(std::string(name) + ": layer " + std::to_string(layer) + " out of range [0, " +
           std::to_string(meta_.num_layers) + ")");
    if (head < 0 || head >= heads)
      fail(std::string(name) + ": " + head_word + " " + std::to_string(head) + " out of range [0, " +
           std::to_string(heads) + ")");
    const std::string where = "dataset '/" + std::string(name) + "' layer " + std::to_string(layer) + " " +
                              head_word + " " + std::to_string(head);
    const size_t d = static_cast<size_t>(meta_.head_dim);
    out.resize(static_cast<size_t>(rows) * d);
    {
      std::lock_guard lock(hdf5_mutex());
      ErrorCapture errors;
      try {
        H5::DataSpace space = data.getSpace();
        const hsize_t start[4] = {static_cast<hsize_t>(layer), static_cast<hsize_t>(head), 0, 0};
        const hsize_t count[4] = {1, 1, static_cast<hsize_t>(rows), d};
        space.selectHyperslab(H5S_SELECT_SET, count, start);
        const hsize_t block_dims[2] = {static_cast<hsize_t>(rows), d};
        const H5::DataSpace memory(2, block_dims);
        if (meta_.storage_dtype == "float32") {
          data.read(out.data(), H5::PredType::NATIVE_FLOAT, memory, space);
        } else {
          std::vector<uint16_t> bits(out.size());
          // Same memory type as file type: the bits are copied, then widened exactly here.
          data.read(bits.data(), data.getDataType(), memory, space);
          const bool fp16 = meta_.storage_dtype == "float16";
          for (size_t i = 0; i < bits.size(); ++i)
            out[i] = fp16 ? kernels::fp16_bits_to_float(bits[i]) : kernels::bf16_bits_to_float(bits[i]);
        }
      } catch (const H5::Exception& e) {
        fail(where + ": cannot read: " + ErrorCapture::describe(e));
      }
    }
    const bool is_query = name == std::string(kQueries) || name == std::string(kOutputs);
    const bool is_prompt_query = name == std::string(kPromptQueries);
    for (size_t i = 0; i < out.size(); ++i) {
      if (!std::isfinite(out[i])) {
        const int64_t row = static_cast<int64_t>(i / d);
        const std::string row_text =
            is_prompt_query ? " prompt query " + std::to_string(row) + " (position " +
                                  std::to_string(meta_.prompt_query_positions[static_cast<size_t>(row)]) + ")"
                            : (is_query ? " decode step " : " position ") + std::to_string(row);
        fail(where + row_text + " dim " +
             std::to_string(i % d) + " holds " + (std::isnan(out[i]) ? "NaN" : "Inf") +
             " (traces hold finite values only)");
      }
    }
  }

  TraceDatasetInfo describe(const char* name) const {
    const H5::DataSet data = file_.openDataSet(name);
    TraceDatasetInfo info;
    info.name = std::string("/") + name;
    const H5::DataSpace space = data.getSpace();
    std::vector<hsize_t> dims(static_cast<size_t>(space.getSimpleExtentNdims()));
    space.getSimpleExtentDims(dims.data());
    info.shape.assign(dims.begin(), dims.end());
    const H5::DSetCreatPropList props = data.getCreatePlist();
    if (props.getLayout() == H5D_CHUNKED) {
      std::vector<hsize_t> chunk(dims.size());
      props.getChunk(static_cast<int>(chunk.size()), chunk.data());
      info.chunk.assign(chunk.begin(), chunk.end());
    }
    info.stored_as = describe_type(data.getDataType());
    if (data.attrExists(kDtypeAttribute) && info.stored_as == "uint16") info.stored_as = "bfloat16 (as uint16)";
    std::string filters;
    for (int i = 0; i < props.getNfilters(); ++i) {
      unsigned int flags = 0;
      size_t n_values = 4;
      unsigned int values[4] = {0, 0, 0, 0};
      char filter_name[64] = {0};
      unsigned int config = 0;
      const H5Z_filter_t id = props.getFilter(i, flags, n_values, values, sizeof filter_name, filter_name, config);
      if (!filters.empty()) filters += "+";
      if (id == H5Z_FILTER_DEFLATE) filters += "gzip(" + std::to_string(n_values > 0 ? values[0] : 0) + ")";
      else if (id == H5Z_FILTER_SHUFFLE) filters += "shuffle";
      else filters += filter_name[0] ? filter_name : "filter " + std::to_string(id);
    }
    info.filters = filters.empty() ? "none" : filters;
    info.stored_bytes = static_cast<int64_t>(data.getStorageSize());
    return info;
  }

  std::string path_;
  H5::H5File file_;
  TraceMeta meta_;
  H5::DataSet keys_, values_, queries_, outputs_, prompt_queries_;
};

}  // namespace

std::unique_ptr<TraceSource> open_trace(const std::string& path) { return std::make_unique<FileTrace>(path); }

std::vector<TraceDatasetInfo> describe_trace_datasets(const std::string& path) {
  return FileTrace(path).datasets();
}

}  // namespace hgca::traces
