// Every scalar of a RunResult in one ordered table. The CSV columns, the HDF5 run attributes and the HDF5
// /summary columns are all generated from this list, so the formats cannot drift apart; docs/RESULTS.md
// describes each entry (a test checks that every name is documented there).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sim/results/run_result.hpp"

namespace hgca {

// Storage type of a field. The order matches the alternatives of FieldValue.
enum class FieldType { String, Int, UInt, Real, Bool };
using FieldValue = std::variant<std::string, int64_t, uint64_t, double, bool>;

struct ScalarField {
  const char* name;  // column / attribute name; the unit is part of the name (_s, _bytes) where there is one
  FieldType type;
  const char* unit;  // "s", "bytes", "tokens/s", "1" for ratios, "" for labels and counts
  bool derived;      // computed from other fields: written for convenience, ignored when reading back
  bool tabular;      // in CSV rows and /summary columns (false only for the long resolved_yaml text)
  FieldValue (*get)(const RunResult&);
  // Stores a value of this field's type; throws std::out_of_range when it does not fit the member
  // (e.g. a batch beyond int). nullptr for derived fields.
  void (*set)(RunResult&, const FieldValue&);
};

// All scalar fields in a fixed order (identity, feasibility, performance, memory, bookkeeping, derived).
const std::vector<ScalarField>& scalar_fields();

// The entry named `name`, or nullptr.
const ScalarField* find_scalar_field(std::string_view name);

// "string", "int64", "uint64", "float64", "bool".
const char* field_type_name(FieldType type);

}  // namespace hgca
