// Strict reading of one YAML map into typed values. Internal to sim/config/.
//
// A MapReader is built with the complete list of keys its map may hold, so an unknown key is reported at
// once (with the closest valid key) whether or not anything asks for it later. Getters take an optional
// default: without one the key is required. Every error names the file and line of the offending value (or
// of the map, for a missing key) and the full key path.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/config/errors.hpp"
#include "sim/config/node.hpp"

namespace hgca::cfg {

// Conversions of one scalar node; `key_path` is used in the error.
std::string text_of(const Node& node, std::string_view key_path);
int64_t integer_of(const Node& node, std::string_view key_path);
double real_of(const Node& node, std::string_view key_path);
bool flag_of(const Node& node, std::string_view key_path);
// Applies one of the unit parsers (parse_bytes, …), turning its std::invalid_argument into a ConfigError.
double quantity_of(const Node& node, std::string_view key_path, double (*parse)(std::string_view));

class MapReader {
 public:
  // `path` is the key path of `map` ("" for a document root). Throws when `map` is not a map or holds a key
  // not in `allowed`.
  MapReader(const Node& map, std::string path, std::initializer_list<std::string_view> allowed);

  const Node& node() const { return *map_; }
  std::string key_path(std::string_view key) const;
  const Node* find(std::string_view key) const { return map_->find(key); }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // Where `key`'s value was written, or where the map was when the key is absent.
  const Origin& origin_of(std::string_view key) const;

  [[noreturn]] void fail(std::string_view key, std::string_view problem, std::string_view expected = {}) const;
  void check(bool ok, std::string_view key, std::string_view problem, std::string_view expected) const {
    if (!ok) fail(key, problem, expected);
  }

  std::string text(std::string_view key, std::optional<std::string> fallback = std::nullopt) const;
  int64_t integer(std::string_view key, std::optional<int64_t> fallback = std::nullopt) const;
  int small_integer(std::string_view key, std::optional<int> fallback = std::nullopt) const;  // fits an int
  double real(std::string_view key, std::optional<double> fallback = std::nullopt) const;
  bool flag(std::string_view key, std::optional<bool> fallback = std::nullopt) const;
  double bytes(std::string_view key, std::optional<double> fallback = std::nullopt) const;
  double bandwidth(std::string_view key, std::optional<double> fallback = std::nullopt) const;
  double duration(std::string_view key, std::optional<double> fallback = std::nullopt) const;
  double flop_rate(std::string_view key, std::optional<double> fallback = std::nullopt) const;

  // One of a fixed set of words, e.g. strategy names or enum spellings.
  template <class E>
  E choice(std::string_view key, std::span<const std::pair<E, std::string_view>> table,
           std::optional<E> fallback = std::nullopt) const {
    const Node* value = find(key);
    if (!value) {
      if (!fallback) fail(key, "missing required key", "one of " + words(table));
      return *fallback;
    }
    const std::string word = text_of(*value, key_path(key));
    for (const auto& [e, name] : table)
      if (name == word) return e;
    std::vector<std::string> names;
    for (const auto& entry : table) names.emplace_back(entry.second);
    const std::string near = closest(word, names);
    cfg::fail(value->origin, key_path(key),
              "unknown value " + quote(word) + (near.empty() ? "" : " (did you mean " + quote(near) + "?)"),
              "one of " + join(names));
  }

  // A nested map that must be present, or may be absent (an empty map then).
  MapReader child(std::string_view key, std::initializer_list<std::string_view> allowed) const;
  MapReader optional_child(std::string_view key, std::initializer_list<std::string_view> allowed) const;

 private:
  template <class E>
  static std::string words(std::span<const std::pair<E, std::string_view>> table) {
    std::vector<std::string> names;
    for (const auto& entry : table) names.emplace_back(entry.second);
    return join(names);
  }
  const Node& required(std::string_view key, std::string_view expected) const;

  const Node* map_;
  std::shared_ptr<const Node> owned_;  // the empty map standing in for an absent optional child
  std::string path_;
};

}  // namespace hgca::cfg
