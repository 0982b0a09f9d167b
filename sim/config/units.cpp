#include "sim/config/units.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <span>
#include <stdexcept>

namespace hgca {
namespace {

struct Unit {
  std::string_view symbol;
  double scale;  // value in base units of one of this unit
};

// Units a value is parsed from. KB and kB both mean 1000 bytes (both spellings are common).
constexpr std::array<Unit, 10> kByteUnits = {{{"B", 1.0},
                                              {"KB", 1e3},
                                              {"kB", 1e3},
                                              {"MB", 1e6},
                                              {"GB", 1e9},
                                              {"TB", 1e12},
                                              {"KiB", 1024.0},
                                              {"MiB", 1048576.0},
                                              {"GiB", 1073741824.0},
                                              {"TiB", 1099511627776.0}}};
constexpr std::array<Unit, 6> kDurationUnits = {{{"s", 1.0},
                                                 {"ms", 1e-3},
                                                 {"us", 1e-6},
                                                 {"\xC2\xB5s", 1e-6},  // U+00B5 MICRO SIGN
                                                 {"\xCE\xBCs", 1e-6},  // U+03BC GREEK SMALL LETTER MU
                                                 {"ns", 1e-9}}};
constexpr std::array<Unit, 7> kFlopPrefixes = {
    {{"", 1.0}, {"K", 1e3}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}}};

// Units a value is formatted in (one spelling each).
constexpr std::array<std::string_view, 9> kByteOutput = {"B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"};
constexpr std::array<std::string_view, 4> kDurationOutput = {"s", "ms", "us", "ns"};
constexpr std::array<std::string_view, 6> kFlopOutput = {"FLOP/s",  "kFLOP/s", "MFLOP/s",
                                                         "GFLOP/s", "TFLOP/s", "PFLOP/s"};

// Built by appending: GCC 12 warns falsely (-Wrestrict) about "literal" + std::string at -O2.
std::string quoted(std::string_view s) {
  std::string out = "'";
  out += s;
  out += "'";
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

[[noreturn]] void reject(std::string_view text, std::string_view problem, std::string_view example) {
  throw std::invalid_argument(std::string(problem) + " in " + quoted(text) + "; expected " + std::string(example));
}

struct NumberAndUnit {
  double number;
  std::string_view unit;
};

// Splits "4.7 us" into 4.7 and "us". The number must be finite; an optional '+' is allowed.
NumberAndUnit split(std::string_view text, std::string_view example) {
  std::string_view s = trim(text);
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (first != last && *first == '+') ++first;
  double number = 0;
  auto [end, ec] = std::from_chars(first, last, number, std::chars_format::general);
  if (ec != std::errc() || end == first) reject(text, "no number", example);
  if (!std::isfinite(number)) reject(text, "not a finite number", example);
  return {number, trim(std::string_view(end, size_t(last - end)))};
}

std::optional<double> scale_of(std::string_view unit, std::span<const Unit> table) {
  for (const Unit& u : table)
    if (u.symbol == unit) return u.scale;
  return std::nullopt;
}

// A bit unit ("Gb", "Mbps") is a common slip for a byte unit: say so, with the byte figure. Returns if
// `unit` is not a bit unit.
void reject_bits(std::string_view text, double number, std::string_view unit, std::string_view per_second,
                 std::string_view example) {
  std::string_view bits = unit;
  std::string byte_rate_suffix(per_second);
  if (bits.ends_with("ps")) {  // "Gbps"
    bits.remove_suffix(2);
    byte_rate_suffix = "/s";
  }
  if (bits.empty() || bits.back() != 'b') return;
  const std::string byte_unit = std::string(bits.substr(0, bits.size() - 1)) + "B";
  if (!scale_of(byte_unit, kByteUnits)) return;
  reject(text,
         "bits are not accepted (" + quoted(std::string(unit) + std::string(per_second)) + "); that is " +
             format_number(number / 8) + " " + byte_unit + byte_rate_suffix,
         example);
}

// Explains a unit the table lacks: a bit unit gets the byte equivalent, a miscased unit its right case.
[[noreturn]] void reject_unit(std::string_view text, double number, std::string_view unit, std::string_view per_second,
                              std::span<const Unit> table, std::string_view example) {
  reject_bits(text, number, unit, per_second, example);
  for (const Unit& u : table)
    if (equal_ignoring_case(u.symbol, unit))
      reject(text,
             "unit " + quoted(std::string(unit) + std::string(per_second)) + " has the wrong case (did you mean " +
                 quoted(std::string(u.symbol) + std::string(per_second)) + "?)",
             example);
  reject(text, "unknown unit " + quoted(std::string(unit) + std::string(per_second)), example);
}

// Exact-round-trip formatting: the shortest text among `units` that parses back to exactly `value`.
template <class Parse>
std::string format_in(double value, std::span<const std::string_view> units, std::string_view base_unit, Parse parse) {
  if (!std::isfinite(value) || value == 0) return format_number(value) + " " + std::string(base_unit);
  std::string best;
  double best_scale = 0;
  double smallest_scale = INFINITY;
  for (std::string_view u : units) smallest_scale = std::min(smallest_scale, parse("1 " + std::string(u)));
  for (std::string_view u : units) {
    const double scale = parse("1 " + std::string(u));
    const double q = value / scale;
    if (std::fabs(q) < 1 && scale != smallest_scale) continue;  // "0.5 GB" reads worse than "500 MB"
    // q rounded to a double may be one step off the number whose product with scale gives value back.
    for (double candidate : {q, std::nextafter(q, -INFINITY), std::nextafter(q, INFINITY)}) {
      std::string text = format_number(candidate) + " " + std::string(u);
      if (parse(text) != value) continue;
      if (best.empty() || text.size() < best.size() || (text.size() == best.size() && scale > best_scale)) {
        best = text;
        best_scale = scale;
      }
      break;
    }
  }
  if (best.empty()) best = format_number(value) + " " + std::string(base_unit);  // scale 1 is always exact
  return best;
}

}  // namespace

std::string format_number(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : std::string("nan");
}

double parse_bytes(std::string_view text) {
  constexpr std::string_view example = "a size such as '80 GiB', '1.5 GB' or '4096' (bytes)";
  auto [number, unit] = split(text, example);
  if (unit.empty()) return number;
  if (auto scale = scale_of(unit, kByteUnits)) return number * *scale;
  reject_unit(text, number, unit, "", kByteUnits, example);
}

double parse_bandwidth(std::string_view text) {
  constexpr std::string_view example = "a bandwidth such as '55 GB/s' or '10 GiB/s'";
  auto [number, unit] = split(text, example);
  if (unit.empty()) reject(text, "missing unit", example);
  if (!unit.ends_with("/s")) {
    reject_bits(text, number, unit, "", example);
    reject(text, "unit " + quoted(unit) + " is not bytes per second", example);
  }
  unit.remove_suffix(2);
  if (auto scale = scale_of(unit, kByteUnits)) return number * *scale;
  reject_unit(text, number, unit, "/s", kByteUnits, example);
}

double parse_duration(std::string_view text) {
  constexpr std::string_view example = "a duration such as '4.7 us' (units ns, us, ms, s)";
  auto [number, unit] = split(text, example);
  if (unit.empty()) reject(text, "missing unit", example);
  if (auto scale = scale_of(unit, kDurationUnits)) return number * *scale;
  reject_unit(text, number, unit, "", kDurationUnits, example);
}

double parse_flop_rate(std::string_view text) {
  constexpr std::string_view example = "a FLOP rate such as '989 TFLOP/s' or '67 TFLOPS'";
  auto [number, unit] = split(text, example);
  if (unit.empty()) reject(text, "missing unit", example);
  // The word is case-insensitive ("FLOP/s", "flops"); the prefix is not (M is mega, m would be milli).
  for (std::string_view word : {std::string_view("flop/s"), std::string_view("flops")}) {
    if (unit.size() < word.size() || !equal_ignoring_case(unit.substr(unit.size() - word.size()), word)) continue;
    std::string_view prefix = unit.substr(0, unit.size() - word.size());
    if (auto scale = scale_of(prefix, kFlopPrefixes)) return number * *scale;
    reject(text, "unknown prefix " + quoted(prefix) + " (use k, M, G, T or P)", example);
  }
  reject(text, "unknown unit " + quoted(unit), example);
}

std::string format_bytes(double bytes) {
  return format_in(bytes, kByteOutput, "B", [](std::string_view t) { return parse_bytes(t); });
}

std::string format_bandwidth(double bytes_per_s) {
  std::array<std::string, kByteOutput.size()> storage;
  std::array<std::string_view, kByteOutput.size()> units;
  for (size_t i = 0; i < units.size(); ++i) units[i] = storage[i] = std::string(kByteOutput[i]) + "/s";
  return format_in(bytes_per_s, units, "B/s", [](std::string_view t) { return parse_bandwidth(t); });
}

std::string format_duration(double seconds) {
  return format_in(seconds, kDurationOutput, "s", [](std::string_view t) { return parse_duration(t); });
}

std::string format_flop_rate(double flop_per_s) {
  return format_in(flop_per_s, kFlopOutput, "FLOP/s", [](std::string_view t) { return parse_flop_rate(t); });
}

}  // namespace hgca
