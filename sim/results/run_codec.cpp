#include "sim/results/run_codec.hpp"

#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "sim/results/scalar_fields.hpp"

namespace hgca {
namespace {

constexpr uint64_t kCodecVersion = 1;

class Writer {
 public:
  template <typename T>
  void pod(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void str(const std::string& s) {
    pod<uint64_t>(s.size());
    out_ += s;
  }
  void doubles(const std::vector<double>& v) {
    pod<uint64_t>(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  T pod() {
    T value;
    std::memcpy(&value, take(sizeof value), sizeof value);
    return value;
  }
  std::string str() {
    const uint64_t n = count(1);
    return std::string(take(n), n);
  }
  std::vector<double> doubles() {
    const uint64_t n = count(sizeof(double));
    std::vector<double> v(n);
    if (n) std::memcpy(v.data(), take(n * sizeof(double)), n * sizeof(double));
    return v;
  }
  // A length prefix, checked against what is left so a corrupt length cannot allocate wildly.
  uint64_t count(size_t element_size) {
    const uint64_t n = pod<uint64_t>();
    if (n > (in_.size() - pos_) / element_size) throw std::runtime_error("run record: truncated");
    return n;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  const char* take(size_t n) {
    if (n > in_.size() - pos_) throw std::runtime_error("run record: truncated");
    const char* p = in_.data() + pos_;
    pos_ += n;
    return p;
  }
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

uint64_t fnv1a64(std::string_view bytes, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t run_codec_schema() {
  static const uint64_t schema = [] {
    std::string text = "hgca-run-codec " + std::to_string(kCodecVersion);
    for (const auto& field : scalar_fields()) {
      if (field.derived) continue;
      text += ';';
      text += field.name;
      text += ':';
      text += field_type_name(field.type);
    }
    return fnv1a64(text);
  }();
  return schema;
}

std::string encode_run(const RunResult& run) {
  Writer w;
  w.pod<uint64_t>(run_codec_schema());
  for (const auto& field : scalar_fields()) {
    if (field.derived) continue;
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>) w.str(v);
          else if constexpr (std::is_same_v<T, bool>) w.pod<uint8_t>(v ? 1 : 0);
          else w.pod<T>(v);
        },
        field.get(run));
  }
  w.doubles(run.step_latency_s);
  w.pod<uint64_t>(run.timeline.size());
  for (const auto& span : run.timeline) {
    w.str(span.track);
    w.str(span.name);
    w.pod(span.start_s);
    w.pod(span.dur_s);
    w.pod<int32_t>(span.step);
    w.pod<int32_t>(span.layer);
  }
  w.pod<uint64_t>(run.parameters.size());
  for (const auto& p : run.parameters) {
    w.str(p.key);
    w.str(p.unit);
    w.pod<uint8_t>(p.is_text ? 1 : 0);
    w.pod(p.number);
    w.str(p.text);
  }
  w.pod<int32_t>(run.head_selection.layers);
  w.pod<int32_t>(run.head_selection.heads);
  w.doubles(run.head_selection.fraction);
  return w.take();
}

RunResult decode_run(std::string_view bytes) {
  Reader r(bytes);
  if (r.pod<uint64_t>() != run_codec_schema()) {
    throw std::runtime_error("run record: written by a build with other result fields");
  }
  RunResult run;
  for (const auto& field : scalar_fields()) {
    if (field.derived) continue;
    FieldValue value;
    switch (field.type) {
      case FieldType::String: value = r.str(); break;
      case FieldType::Int: value = r.pod<int64_t>(); break;
      case FieldType::UInt: value = r.pod<uint64_t>(); break;
      case FieldType::Real: value = r.pod<double>(); break;
      case FieldType::Bool: {
        const auto byte = r.pod<uint8_t>();
        if (byte > 1) throw std::runtime_error(std::string("run record: field '") + field.name + "' is not 0 or 1");
        value = byte == 1;
        break;
      }
    }
    try {
      field.set(run, value);
    } catch (const std::out_of_range&) {
      throw std::runtime_error(std::string("run record: field '") + field.name + "' is out of range");
    }
  }
  run.step_latency_s = r.doubles();
  const uint64_t spans = r.count(2 * sizeof(uint64_t) + 2 * sizeof(double) + 2 * sizeof(int32_t));
  run.timeline.resize(spans);
  for (auto& span : run.timeline) {
    span.track = r.str();
    span.name = r.str();
    span.start_s = r.pod<double>();
    span.dur_s = r.pod<double>();
    span.step = r.pod<int32_t>();
    span.layer = r.pod<int32_t>();
  }
  const uint64_t parameters = r.count(3 * sizeof(uint64_t) + 1 + sizeof(double));
  run.parameters.resize(parameters);
  for (auto& p : run.parameters) {
    p.key = r.str();
    p.unit = r.str();
    p.is_text = r.pod<uint8_t>() != 0;
    p.number = r.pod<double>();
    p.text = r.str();
  }
  run.head_selection.layers = r.pod<int32_t>();
  run.head_selection.heads = r.pod<int32_t>();
  run.head_selection.fraction = r.doubles();
  if (!r.done()) throw std::runtime_error("run record: trailing bytes");
  return run;
}

}  // namespace hgca
