// A strict RFC 8259 JSON parser for the tests: it rejects anything a conforming parser would (trailing
// commas, bare control characters, bad escapes, NaN, leading zeros, trailing garbage) and returns a tree
// the tests can inspect.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace hgca::test {

struct JsonValue;
using JsonArray = std::vector<JsonValue>;
using JsonObject = std::map<std::string, JsonValue>;

struct JsonValue {
  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<JsonArray>, std::shared_ptr<JsonObject>>
      value;

  bool is_object() const { return value.index() == 5; }
  bool is_array() const { return value.index() == 4; }
  const JsonObject& object() const { return *std::get<5>(value); }
  const JsonArray& array() const { return *std::get<4>(value); }
  const std::string& string() const { return std::get<3>(value); }
  double number() const { return std::get<2>(value); }
  // Member `key` of an object; throws std::out_of_range when absent.
  const JsonValue& operator[](const std::string& key) const { return object().at(key); }
  bool has(const std::string& key) const { return object().count(key) > 0; }
};

// Throws std::runtime_error("offset N: ...") on the first violation. Duplicate object keys are an error too.
JsonValue parse_json(const std::string& text);

}  // namespace hgca::test
