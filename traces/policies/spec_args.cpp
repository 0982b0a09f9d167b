#include "traces/policies/spec_args.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace hgca::traces::detail {

namespace {
std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}
}  // namespace

SpecArgs::SpecArgs(const std::string& spec) : spec_(spec) {
  const auto colon = spec.find(':');
  name_ = trim(spec.substr(0, colon));
  if (name_.empty()) fail("missing the policy name (expected NAME or NAME:key=value,...)");
  if (colon == std::string::npos) return;
  const std::string rest = spec.substr(colon + 1);
  size_t start = 0;
  while (start <= rest.size()) {
    const auto comma = rest.find(',', start);
    const std::string item = trim(rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    const auto eq = item.find('=');
    if (item.empty() || eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      fail("\"" + item + "\" is not key=value");
    const std::string key = trim(item.substr(0, eq));
    if (values_.count(key)) fail("key \"" + key + "\" given twice");
    values_[key] = trim(item.substr(eq + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

void SpecArgs::fail(const std::string& why) const {
  throw std::invalid_argument("policy \"" + spec_ + "\": " + why);
}

const std::string& SpecArgs::raw(const std::string& key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) fail("missing key \"" + key + "\"");
  return it->second;
}

double SpecArgs::number(const std::string& key, double lo, double hi, bool lo_open) const {
  const std::string& s = raw(key);
  double v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  std::string range(lo_open ? "(" : "[");  // appended piecewise (GCC 12 -Wrestrict false positive otherwise)
  range.append(format_number(lo)).append(", ").append(format_number(hi)).append("]");
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v))
    fail(key + "=" + s + " is not a number (expected a number in " + range + ")");
  if (v < lo || v > hi || (lo_open && v == lo)) fail(key + "=" + s + " is out of range (expected " + range + ")");
  return v;
}

std::int64_t SpecArgs::integer(const std::string& key, std::int64_t lo, std::int64_t hi) const {
  const std::string& s = raw(key);
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  std::string range = "[";  // appended piecewise: GCC 12 warns (-Wrestrict, a false positive) on "[" + to_string
  range.append(std::to_string(lo)).append(", ").append(std::to_string(hi)).append("]");
  if (ec != std::errc() || p != s.data() + s.size())
    fail(key + "=" + s + " is not an integer (expected an integer in " + range + ")");
  if (v < lo || v > hi) fail(key + "=" + s + " is out of range (expected " + range + ")");
  return v;
}

std::string SpecArgs::word(const std::string& key, std::initializer_list<const char*> allowed) const {
  const std::string& s = raw(key);
  std::string list;
  for (const char* a : allowed) {
    if (s == a) return s;
    list += (list.empty() ? "" : " | ") + std::string(a);
  }
  fail(key + "=" + s + " is not one of " + list);
}

void SpecArgs::only(std::initializer_list<const char*> accepted) const {
  for (const auto& [key, value] : values_) {
    bool ok = false;
    std::string list;
    for (const char* a : accepted) {
      ok = ok || key == a;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    if (!ok) fail("unknown key \"" + key + "\" for " + name_ + " (accepted: " + (list.empty() ? "none" : list) + ")");
  }
}

std::string format_number(double v) {
  char buf[64];
  const auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, p) : std::string("?");
}

}  // namespace hgca::traces::detail
