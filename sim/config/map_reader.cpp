#include "sim/config/map_reader.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/config/units.hpp"

namespace hgca::cfg {
namespace {

const Node& scalar(const Node& node, std::string_view key_path, std::string_view expected) {
  if (node.kind == Node::Kind::Null) fail(node.origin, key_path, "no value given", expected);
  if (node.kind != Node::Kind::Scalar)
    fail(node.origin, key_path, std::string("got ") + kind_name(node.kind) + " " + quote(node.flow()), expected);
  return node;
}

std::string_view without_plus(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  return s;
}

}  // namespace

std::string text_of(const Node& node, std::string_view key_path) {
  return scalar(node, key_path, "a word or quoted text").scalar;
}

int64_t integer_of(const Node& node, std::string_view key_path) {
  constexpr std::string_view expected = "a whole number such as 4096";
  const std::string_view s = without_plus(scalar(node, key_path, expected).scalar);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range) fail(node.origin, key_path, quote(node.scalar) + " is too large", expected);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty())
    fail(node.origin, key_path, "not a whole number: " + quote(node.scalar), expected);
  return value;
}

double real_of(const Node& node, std::string_view key_path) {
  constexpr std::string_view expected = "a number such as 0.85";
  const std::string_view s = without_plus(scalar(node, key_path, expected).scalar);
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, std::chars_format::general);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || !std::isfinite(value))
    fail(node.origin, key_path, "not a number: " + quote(node.scalar), expected);
  return value;
}

bool flag_of(const Node& node, std::string_view key_path) {
  constexpr std::string_view expected = "true or false";
  const std::string& s = scalar(node, key_path, expected).scalar;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  fail(node.origin, key_path, "not a boolean: " + quote(s), expected);
}

double quantity_of(const Node& node, std::string_view key_path, double (*parse)(std::string_view)) {
  const Node& value = scalar(node, key_path, "a number with a unit");
  try {
    return parse(value.scalar);
  } catch (const std::invalid_argument& e) {
    // The parser's message reads "problem in 'text'; expected …": keep it whole.
    fail(value.origin, key_path, e.what());
  }
}

MapReader::MapReader(const Node& map, std::string path, std::initializer_list<std::string_view> allowed)
    : map_(&map), path_(std::move(path)) {
  if (!map.is_map())
    cfg::fail(map.origin, path_, std::string("got ") + kind_name(map.kind) + " " + quote(map.flow()), "a map of keys");
  std::vector<std::string> names(allowed.begin(), allowed.end());
  for (const Node::Entry& e : map.entries) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == e.key;
    if (known) continue;
    const std::string near = closest(e.key, names);
    cfg::fail(e.key_origin, key_path(e.key),
              "unknown key" + (near.empty() ? std::string() : " (did you mean " + quote(near) + "?)"),
              "one of " + join(names));
  }
}

std::string MapReader::key_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const Origin& MapReader::origin_of(std::string_view key) const {
  const Node* value = find(key);
  return value ? value->origin : map_->origin;
}

void MapReader::fail(std::string_view key, std::string_view problem, std::string_view expected) const {
  cfg::fail(origin_of(key), key_path(key), problem, expected);
}

const Node& MapReader::required(std::string_view key, std::string_view expected) const {
  const Node* value = find(key);
  if (!value) fail(key, "missing required key", expected);
  return *value;
}

std::string MapReader::text(std::string_view key, std::optional<std::string> fallback) const {
  if (!has(key) && fallback) return *fallback;
  return text_of(required(key, "a word or quoted text"), key_path(key));
}

int64_t MapReader::integer(std::string_view key, std::optional<int64_t> fallback) const {
  if (!has(key) && fallback) return *fallback;
  return integer_of(required(key, "a whole number"), key_path(key));
}

int MapReader::small_integer(std::string_view key, std::optional<int> fallback) const {
  const int64_t value = integer(key, fallback);
  check(value >= std::numeric_limits<int>::min() && value <= std::numeric_limits<int>::max(), key,
        std::to_string(value) + " is too large", "a whole number below 2^31");
  return int(value);
}

double MapReader::real(std::string_view key, std::optional<double> fallback) const {
  if (!has(key) && fallback) return *fallback;
  return real_of(required(key, "a number"), key_path(key));
}

bool MapReader::flag(std::string_view key, std::optional<bool> fallback) const {
  if (!has(key) && fallback) return *fallback;
  return flag_of(required(key, "true or false"), key_path(key));
}

double MapReader::bytes(std::string_view key, std::optional<double> fallback) const {
  if (!has(key) && fallback) return *fallback;
  return quantity_of(required(key, "a size such as '80 GiB'"), key_path(key), parse_bytes);
}

double MapReader::bandwidth(std::string_view key, std::optional<double> fallback) const {
  if (!has(key) && fallback) return *fallback;
  return quantity_of(required(key, "a bandwidth such as '55 GB/s'"), key_path(key), parse_bandwidth);
}

double MapReader::duration(std::string_view key, std::optional<double> fallback) const {
  if (!has(key) && fallback) return *fallback;
  return quantity_of(required(key, "a duration such as '4.7 us'"), key_path(key), parse_duration);
}

double MapReader::flop_rate(std::string_view key, std::optional<double> fallback) const {
  if (!has(key) && fallback) return *fallback;
  return quantity_of(required(key, "a FLOP rate such as '989 TFLOP/s'"), key_path(key), parse_flop_rate);
}

MapReader MapReader::child(std::string_view key, std::initializer_list<std::string_view> allowed) const {
  return MapReader(required(key, "a map of keys"), key_path(key), allowed);
}

MapReader MapReader::optional_child(std::string_view key, std::initializer_list<std::string_view> allowed) const {
  if (const Node* value = find(key)) return MapReader(*value, key_path(key), allowed);
  auto empty = std::make_shared<Node>();
  empty->kind = Node::Kind::Map;
  empty->origin = map_->origin;
  MapReader reader(*empty, key_path(key), allowed);
  reader.owned_ = std::move(empty);
  return reader;
}

}  // namespace hgca::cfg
