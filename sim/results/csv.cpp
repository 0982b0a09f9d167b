#include "sim/results/csv.hpp"

#include <ostream>

#include "sim/results/atomic_file.hpp"
#include "sim/results/number_format.hpp"
#include "sim/results/scalar_fields.hpp"

namespace hgca {
namespace {

std::string csv_text(const FieldValue& value) {
  struct Visitor {
    std::string operator()(const std::string& s) const { return csv_quote(s); }
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(uint64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return format_shortest(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
  };
  return std::visit(Visitor{}, value);
}

}  // namespace

std::string csv_quote(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string quoted = "\"";
  for (char c : field) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

void write_csv(const std::string& path, const std::vector<RunResult>& runs) {
  write_file_atomically(path, [&](std::ostream& out) {
    const char* separator = "";
    for (const auto& field : scalar_fields()) {
      if (!field.tabular) continue;
      out << separator << field.name;
      separator = ",";
    }
    out << '\n';
    for (const auto& run : runs) {
      separator = "";
      for (const auto& field : scalar_fields()) {
        if (!field.tabular) continue;
        out << separator << csv_text(field.get(run));
        separator = ",";
      }
      out << '\n';
    }
  });
}

}  // namespace hgca
