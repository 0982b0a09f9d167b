#include "tests/traces/format/trace_test_support.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <random>
#include <stdexcept>

#include "kernels/cpu/half.hpp"

namespace hgca::traces::test {
namespace fs = std::filesystem;

ScratchDir::ScratchDir(const std::string& name) {
  static int counter = 0;
  path_ = fs::temp_directory_path() /
          ("hgca-trace-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

size_t ScratchDir::entry_count() const {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(path_)) ++n;
  return n;
}

namespace {

std::vector<std::vector<std::vector<float>>> random_blocks(int layers, int heads, int64_t rows, int d,
                                                           std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  std::vector<std::vector<std::vector<float>>> data(layers, std::vector<std::vector<float>>(heads));
  for (auto& layer : data)
    for (auto& block : layer) {
      block.resize(static_cast<size_t>(rows * d));
      for (float& x : block) x = dist(rng);
    }
  return data;
}

}  // namespace

InMemoryTrace random_trace(const Shape& s, const std::string& storage_dtype, bool with_outputs, uint32_t seed) {
  InMemoryTrace t;
  TraceMeta& m = t.m;
  m.format_version = kTraceFormatVersion;
  m.model_name = "random-" + std::to_string(seed);
  m.source = "test:random";
  m.text_source = "none (uniform random Q/K/V)";
  m.num_layers = s.layers;
  m.num_q_heads = s.q_heads;
  m.num_kv_heads = s.kv_heads;
  m.head_dim = s.head_dim;
  m.storage_dtype = storage_dtype;
  m.model_dtype = "float32";
  m.decode_mode = "synthetic";
  m.rope_theta = 10000.0;
  m.rope_scaling = "none";
  m.softmax_scale = 1.0 / std::sqrt(static_cast<double>(s.head_dim));
  m.prompt_length = s.prompt;
  m.decode_steps = s.decode;
  m.has_outputs = with_outputs;
  std::mt19937 rng(seed);
  for (int64_t i = 0; i < m.num_positions(); ++i) m.tokens.push_back(static_cast<int32_t>(rng() % 256));
  t.k = random_blocks(s.layers, s.kv_heads, m.num_positions(), s.head_dim, rng);
  t.v = random_blocks(s.layers, s.kv_heads, m.num_positions(), s.head_dim, rng);
  t.q = random_blocks(s.layers, s.q_heads, s.decode, s.head_dim, rng);
  if (with_outputs) {
    const int d = s.head_dim;
    t.o.assign(s.layers, std::vector<std::vector<float>>(s.q_heads));
    for (int l = 0; l < s.layers; ++l)
      for (int h = 0; h < s.q_heads; ++h) {
        const auto& k = t.k[l][h / (s.q_heads / s.kv_heads)];
        const auto& v = t.v[l][h / (s.q_heads / s.kv_heads)];
        auto& o = t.o[l][h];
        o.assign(static_cast<size_t>(s.decode * d), 0.0f);
        for (int64_t step = 0; step < s.decode; ++step) {
          const int64_t p = s.prompt + step;
          std::vector<double> w(static_cast<size_t>(p + 1));
          double top = -1e300;
          for (int64_t j = 0; j <= p; ++j) {
            double dot = 0;
            for (int c = 0; c < d; ++c) dot += double(t.q[l][h][step * d + c]) * k[j * d + c];
            w[j] = dot * m.softmax_scale;
            top = std::max(top, w[j]);
          }
          double sum = 0;
          for (double& x : w) sum += (x = std::exp(x - top));
          for (int c = 0; c < d; ++c) {
            double acc = 0;
            for (int64_t j = 0; j <= p; ++j) acc += w[j] * v[j * d + c];
            o[step * d + c] = static_cast<float>(acc / sum);
          }
        }
      }
  }
  return t;
}

void add_prompt_queries(InMemoryTrace& trace, const std::vector<int64_t>& positions, uint32_t seed) {
  std::mt19937 rng(seed);
  trace.m.prompt_query_positions = positions;
  trace.pq = random_blocks(trace.m.num_layers, trace.m.num_q_heads, static_cast<int64_t>(positions.size()),
                           trace.m.head_dim, rng);
}

float stored_value(float x, const std::string& dtype) {
  if (dtype == "float16") return kernels::fp16_bits_to_float(kernels::float_to_fp16_bits(x));
  if (dtype == "bfloat16") return kernels::bf16_bits_to_float(kernels::float_to_bf16_bits(x));
  return x;
}

namespace {

// An open HDF5 file for read-write, closed on scope exit; every failed call throws.
struct File {
  hid_t id;
  explicit File(const std::string& path) : id(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)) {
    if (id < 0) throw std::runtime_error("test: cannot open " + path);
  }
  ~File() { H5Fclose(id); }
};

void check(herr_t rc, const char* what) {
  if (rc < 0) throw std::runtime_error(std::string("test: HDF5 call failed: ") + what);
}

void string_attribute(hid_t object, const std::string& name, const std::string& value) {
  if (H5Aexists(object, name.c_str()) > 0) check(H5Adelete(object, name.c_str()), "H5Adelete");
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attr = H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
  const char* text = value.c_str();
  check(H5Awrite(attr, type, &text), "H5Awrite");
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
}

}  // namespace

void set_int_attribute(const std::string& file, const std::string& name, int64_t value) {
  File f(file);
  if (H5Aexists(f.id, name.c_str()) > 0) check(H5Adelete(f.id, name.c_str()), "H5Adelete");
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attr = H5Acreate2(f.id, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  check(H5Awrite(attr, H5T_NATIVE_INT64, &value), "H5Awrite");
  H5Aclose(attr);
  H5Sclose(space);
}

void set_string_attribute(const std::string& file, const std::string& object, const std::string& name,
                          const std::string& value) {
  File f(file);
  const hid_t target = H5Oopen(f.id, object.c_str(), H5P_DEFAULT);
  if (target < 0) throw std::runtime_error("test: no object " + object);
  string_attribute(target, name, value);
  H5Oclose(target);
}

void delete_attribute(const std::string& file, const std::string& name) {
  File f(file);
  check(H5Adelete(f.id, name.c_str()), "H5Adelete");
}

void delete_dataset(const std::string& file, const std::string& name) {
  File f(file);
  check(H5Ldelete(f.id, name.c_str(), H5P_DEFAULT), "H5Ldelete");
}

void replace_dataset(const std::string& file, const std::string& name, const std::vector<uint64_t>& shape,
                     bool as_int32, const std::string& dtype_attribute) {
  File f(file);
  if (H5Lexists(f.id, name.c_str(), H5P_DEFAULT) > 0) check(H5Ldelete(f.id, name.c_str(), H5P_DEFAULT), "H5Ldelete");
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t data = H5Dcreate2(f.id, name.c_str(), as_int32 ? H5T_STD_I32LE : H5T_IEEE_F32LE, space, H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT);
  if (data < 0) throw std::runtime_error("test: cannot create " + name);
  if (!dtype_attribute.empty()) string_attribute(data, "dtype", dtype_attribute);
  H5Dclose(data);
  H5Sclose(space);
}

void poke_element(const std::string& file, const std::string& name, const uint64_t index[4], uint32_t bits) {
  File f(file);
  const hid_t data = H5Dopen2(f.id, name.c_str(), H5P_DEFAULT);
  const hid_t type = H5Dget_type(data);
  const hid_t space = H5Dget_space(data);
  const hsize_t start[4] = {index[0], index[1], index[2], index[3]};
  const hsize_t count[4] = {1, 1, 1, 1};
  check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr), "select");
  const hsize_t one = 1;
  const hid_t memory = H5Screate_simple(1, &one, nullptr);
  const uint16_t half = static_cast<uint16_t>(bits);
  // Same memory type as file type: the raw pattern lands in the file unchanged.
  check(H5Dwrite(data, type, memory, space, H5P_DEFAULT, H5Tget_size(type) == 2 ? static_cast<const void*>(&half)
                                                                                 : static_cast<const void*>(&bits)),
        "H5Dwrite");
  H5Sclose(memory);
  H5Sclose(space);
  H5Tclose(type);
  H5Dclose(data);
}

void write_int64_vector(const std::string& file, const std::string& name, const std::vector<int64_t>& values) {
  File f(file);
  const hid_t data = H5Dopen2(f.id, name.c_str(), H5P_DEFAULT);
  check(H5Dwrite(data, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "H5Dwrite");
  H5Dclose(data);
}

}  // namespace hgca::traces::test
