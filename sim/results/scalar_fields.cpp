#include "sim/results/scalar_fields.hpp"

#include <limits>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace hgca {
namespace {

template <typename T>
constexpr FieldType field_type_of() {
  if constexpr (std::is_same_v<T, std::string>) return FieldType::String;
  else if constexpr (std::is_same_v<T, bool>) return FieldType::Bool;
  else if constexpr (std::is_floating_point_v<T>) return FieldType::Real;
  else if constexpr (std::is_signed_v<T>) return FieldType::Int;
  else return FieldType::UInt;
}

template <typename T>
FieldValue to_value(const T& v) {
  constexpr FieldType type = field_type_of<T>();
  if constexpr (type == FieldType::String || type == FieldType::Bool) return v;
  else if constexpr (type == FieldType::Real) return static_cast<double>(v);
  else if constexpr (type == FieldType::Int) return static_cast<int64_t>(v);
  else return static_cast<uint64_t>(v);
}

// The stored value converted to the member's type; the variant must hold this field's storage type.
template <typename T>
T from_value(const FieldValue& value) {
  constexpr FieldType type = field_type_of<T>();
  const auto& stored = std::get<static_cast<size_t>(type)>(value);
  if constexpr (type == FieldType::Int || type == FieldType::UInt) {
    if (!std::in_range<T>(stored)) throw std::out_of_range("value " + std::to_string(stored) + " out of range");
  }
  return static_cast<T>(stored);
}

template <auto Member>
ScalarField member(const char* name, const char* unit) {
  using T = std::remove_cvref_t<decltype(std::declval<RunResult&>().*Member)>;
  return {name, field_type_of<T>(), unit, false, true,
          [](const RunResult& r) { return to_value(r.*Member); },
          [](RunResult& r, const FieldValue& v) { r.*Member = from_value<T>(v); }};
}

template <auto Outer, auto Inner>
ScalarField nested(const char* name, const char* unit) {
  using T = std::remove_cvref_t<decltype((std::declval<RunResult&>().*Outer).*Inner)>;
  return {name, field_type_of<T>(), unit, false, true,
          [](const RunResult& r) { return to_value((r.*Outer).*Inner); },
          [](RunResult& r, const FieldValue& v) { (r.*Outer).*Inner = from_value<T>(v); }};
}

std::vector<ScalarField> make_fields() {
  using R = RunResult;
  std::vector<ScalarField> f = {
      member<&R::experiment>("experiment", ""),
      member<&R::point_label>("point_label", ""),
      member<&R::strategy>("strategy", ""),
      member<&R::hardware>("hardware", ""),
      member<&R::model>("model", ""),
      member<&R::batch>("batch", ""),
      member<&R::context>("context", "tokens"),
      member<&R::decode>("decode", "tokens"),
      member<&R::window>("window", "tokens"),
      member<&R::seed>("seed", ""),
      member<&R::resolved_yaml>("resolved_yaml", ""),
      member<&R::feasible>("feasible", ""),
      member<&R::infeasible_reason>("infeasible_reason", ""),
      member<&R::prefill_s>("prefill_s", "s"),
      member<&R::decode_s>("decode_s", "s"),
      member<&R::tokens_per_s>("tokens_per_s", "tokens/s"),
      member<&R::step_p50_s>("step_p50_s", "s"),
      member<&R::step_p99_s>("step_p99_s", "s"),
      member<&R::step_mean_s>("step_mean_s", "s"),
      nested<&R::busy, &BusyTime::gpu>("busy_gpu_s", "s"),
      nested<&R::busy, &BusyTime::h2d>("busy_h2d_s", "s"),
      nested<&R::busy, &BusyTime::d2h>("busy_d2h_s", "s"),
      nested<&R::busy, &BusyTime::cpu_core_seconds>("busy_cpu_core_s", "s"),
      nested<&R::busy, &BusyTime::host>("busy_host_s", "s"),
      member<&R::cpu_cores_used>("cpu_cores_used", ""),
      member<&R::cpu_imbalance>("cpu_imbalance", "1"),
      nested<&R::gpu_memory, &MemoryUse::weights>("gpu_mem_weights_bytes", "bytes"),
      nested<&R::gpu_memory, &MemoryUse::kv>("gpu_mem_kv_bytes", "bytes"),
      nested<&R::gpu_memory, &MemoryUse::activations>("gpu_mem_activations_bytes", "bytes"),
      nested<&R::gpu_memory, &MemoryUse::staging>("gpu_mem_staging_bytes", "bytes"),
      nested<&R::gpu_memory, &MemoryUse::metadata>("gpu_mem_metadata_bytes", "bytes"),
      nested<&R::cpu_memory, &MemoryUse::weights>("cpu_mem_weights_bytes", "bytes"),
      nested<&R::cpu_memory, &MemoryUse::kv>("cpu_mem_kv_bytes", "bytes"),
      nested<&R::cpu_memory, &MemoryUse::activations>("cpu_mem_activations_bytes", "bytes"),
      nested<&R::cpu_memory, &MemoryUse::staging>("cpu_mem_staging_bytes", "bytes"),
      nested<&R::cpu_memory, &MemoryUse::metadata>("cpu_mem_metadata_bytes", "bytes"),
      member<&R::gpu_capacity>("gpu_capacity_bytes", "bytes"),
      member<&R::cpu_capacity>("cpu_capacity_bytes", "bytes"),
      member<&R::events>("events", ""),
      member<&R::wall_s>("wall_s", "s"),
      // Derived figures: the plotting scripts and spreadsheets want them without re-deriving the rules.
      {"gpu_mem_total_bytes", FieldType::Real, "bytes", true, true,
       [](const R& r) -> FieldValue { return r.gpu_memory.total(); }, nullptr},
      {"cpu_mem_total_bytes", FieldType::Real, "bytes", true, true,
       [](const R& r) -> FieldValue { return r.cpu_memory.total(); }, nullptr},
      {"gpu_share", FieldType::Real, "1", true, true, [](const R& r) -> FieldValue { return r.gpu_share(); },
       nullptr},
      {"h2d_share", FieldType::Real, "1", true, true, [](const R& r) -> FieldValue { return r.h2d_share(); },
       nullptr},
      {"d2h_share", FieldType::Real, "1", true, true, [](const R& r) -> FieldValue { return r.d2h_share(); },
       nullptr},
      {"cpu_share", FieldType::Real, "1", true, true, [](const R& r) -> FieldValue { return r.cpu_share(); },
       nullptr},
  };
  for (auto& field : f) {
    if (std::string_view(field.name) == "resolved_yaml") field.tabular = false;
  }
  return f;
}

}  // namespace

const std::vector<ScalarField>& scalar_fields() {
  static const std::vector<ScalarField> fields = make_fields();
  return fields;
}

const ScalarField* find_scalar_field(std::string_view name) {
  for (const auto& field : scalar_fields()) {
    if (name == field.name) return &field;
  }
  return nullptr;
}

const char* field_type_name(FieldType type) {
  switch (type) {
    case FieldType::String: return "string";
    case FieldType::Int: return "int64";
    case FieldType::UInt: return "uint64";
    case FieldType::Real: return "float64";
    case FieldType::Bool: return "bool";
  }
  return "?";
}

}  // namespace hgca
