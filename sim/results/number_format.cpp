#include "sim/results/number_format.hpp"

#include <array>
#include <charconv>
#include <stdexcept>

namespace hgca {
namespace {

// Large enough for any double in fixed notation with up to 17 decimals (1e308 has 309 digits).
using Buffer = std::array<char, 400>;

}  // namespace

std::string format_fixed(double value, int decimals) {
  Buffer buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::fixed, decimals);
  if (ec != std::errc()) throw std::logic_error("format_fixed: buffer too small");
  return std::string(buf.data(), end);
}

std::string format_shortest(double value) {
  Buffer buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  if (ec != std::errc()) throw std::logic_error("format_shortest: buffer too small");
  return std::string(buf.data(), end);
}

}  // namespace hgca
