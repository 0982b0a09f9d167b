// Unit parsing and formatting (sim/config/units.hpp), checked against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>

#include "config_test_support.hpp"
#include "sim/config/units.hpp"

namespace hgca {
namespace {

using testing::contains;

std::string rejection(double (*parse)(std::string_view), const std::string& text) {
  try {
    parse(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<accepted>";
}

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

TEST(ParseBytes, EveryUnit) {
  EXPECT_EQ(parse_bytes("512 B"), 512.0);
  EXPECT_EQ(parse_bytes("4096"), 4096.0);  // a bare number is bytes
  EXPECT_EQ(parse_bytes("2 KB"), 2000.0);
  EXPECT_EQ(parse_bytes("2 kB"), 2000.0);
  EXPECT_EQ(parse_bytes("3 MB"), 3e6);
  EXPECT_EQ(parse_bytes("1.5 GB"), 1.5e9);
  EXPECT_EQ(parse_bytes("2 TB"), 2e12);
  EXPECT_EQ(parse_bytes("2 KiB"), 2048.0);
  EXPECT_EQ(parse_bytes("3 MiB"), 3.0 * 1048576.0);
  EXPECT_EQ(parse_bytes("80 GiB"), 80.0 * kGiB);
  EXPECT_EQ(parse_bytes("2.5 GiB"), 2.5 * kGiB);
  EXPECT_EQ(parse_bytes("1 TiB"), 1024.0 * kGiB);
}

TEST(ParseBytes, SpacingSignAndExponent) {
  EXPECT_EQ(parse_bytes("80GiB"), 80.0 * kGiB);
  EXPECT_EQ(parse_bytes("  4 KiB \t"), 4096.0);
  EXPECT_EQ(parse_bytes("1e3 B"), 1000.0);
  EXPECT_EQ(parse_bytes("+5 B"), 5.0);
  EXPECT_EQ(parse_bytes("-5 B"), -5.0);  // range checks are the caller's: they know the key
}

TEST(ParseBytes, Rejections) {
  EXPECT_TRUE(contains(rejection(parse_bytes, "10 Gb"), "bits are not accepted ('Gb'); that is 1.25 GB"));
  EXPECT_TRUE(contains(rejection(parse_bytes, "8 b"), "bits are not accepted"));
  EXPECT_TRUE(contains(rejection(parse_bytes, "80 gib"), "wrong case (did you mean 'GiB'?)"));
  EXPECT_TRUE(contains(rejection(parse_bytes, "5 XB"), "unknown unit 'XB'"));
  EXPECT_TRUE(contains(rejection(parse_bytes, "GiB"), "no number in 'GiB'"));
  EXPECT_TRUE(contains(rejection(parse_bytes, ""), "no number"));
  EXPECT_TRUE(contains(rejection(parse_bytes, "inf B"), "not a finite number"));
  EXPECT_TRUE(contains(rejection(parse_bytes, "nan"), "not a finite number"));
  // Every message says what was expected.
  EXPECT_TRUE(contains(rejection(parse_bytes, "5 XB"), "expected a size such as '80 GiB'"));
}

TEST(ParseBandwidth, EveryUnit) {
  EXPECT_EQ(parse_bandwidth("7 B/s"), 7.0);
  EXPECT_EQ(parse_bandwidth("1 KiB/s"), 1024.0);
  EXPECT_EQ(parse_bandwidth("100 MB/s"), 1e8);
  EXPECT_EQ(parse_bandwidth("55 GB/s"), 55e9);
  EXPECT_EQ(parse_bandwidth("12.3 GB/s"), 12.3 * 1e9);
  EXPECT_EQ(parse_bandwidth("3.08 TB/s"), 3.08 * 1e12);
  EXPECT_EQ(parse_bandwidth("10 GiB/s"), 10.0 * kGiB);
  EXPECT_EQ(parse_bandwidth("2 kB/s"), 2000.0);
}

TEST(ParseBandwidth, Rejections) {
  EXPECT_TRUE(contains(rejection(parse_bandwidth, "10 Gb/s"), "bits are not accepted ('Gb/s'); that is 1.25 GB/s"));
  EXPECT_TRUE(contains(rejection(parse_bandwidth, "100 Mbps"), "that is 12.5 MB/s"));
  EXPECT_TRUE(
      contains(rejection(parse_bandwidth, "55"), "missing unit in '55'; expected a bandwidth such as '55 GB/s'"));
  EXPECT_TRUE(contains(rejection(parse_bandwidth, "55 GB"), "not bytes per second"));
  EXPECT_TRUE(contains(rejection(parse_bandwidth, "55 gB/s"), "did you mean 'GB/s'?"));
  EXPECT_TRUE(contains(rejection(parse_bandwidth, "8 GT/s"), "unknown unit 'GT/s'"));
}

TEST(ParseDuration, EveryUnit) {
  EXPECT_DOUBLE_EQ(parse_duration("4.7 us"), 4.7e-6);
  EXPECT_EQ(parse_duration("4.7 \xC2\xB5s"), parse_duration("4.7 us"));  // micro sign
  EXPECT_EQ(parse_duration("4.7 \xCE\xBCs"), parse_duration("4.7 us"));  // Greek mu
  EXPECT_DOUBLE_EQ(parse_duration("3 ms"), 0.003);
  EXPECT_DOUBLE_EQ(parse_duration("2 ns"), 2e-9);
  EXPECT_EQ(parse_duration("1.5 s"), 1.5);
}

TEST(ParseDuration, Rejections) {
  EXPECT_TRUE(
      contains(rejection(parse_duration, "4.7"), "missing unit in '4.7'; expected a duration such as '4.7 us'"));
  EXPECT_TRUE(contains(rejection(parse_duration, "3 MS"), "did you mean 'ms'?"));
  EXPECT_TRUE(contains(rejection(parse_duration, "3 min"), "unknown unit 'min'"));
}

TEST(ParseFlopRate, EveryUnit) {
  EXPECT_EQ(parse_flop_rate("989 TFLOP/s"), 989e12);
  EXPECT_EQ(parse_flop_rate("100 GFLOP/s"), 100e9);
  EXPECT_EQ(parse_flop_rate("67 TFLOPS"), 67e12);
  EXPECT_EQ(parse_flop_rate("5 kflops"), 5e3);
  EXPECT_EQ(parse_flop_rate("5 MFLOP/s"), 5e6);
  EXPECT_EQ(parse_flop_rate("2 PFLOP/s"), 2e15);
  EXPECT_EQ(parse_flop_rate("3 FLOP/s"), 3.0);
}

TEST(ParseFlopRate, Rejections) {
  EXPECT_TRUE(contains(rejection(parse_flop_rate, "989"), "expected a FLOP rate such as '989 TFLOP/s'"));
  EXPECT_TRUE(contains(rejection(parse_flop_rate, "1 mFLOP/s"), "unknown prefix 'm'"));
  EXPECT_TRUE(contains(rejection(parse_flop_rate, "1 TB/s"), "unknown unit 'TB/s'"));
}

TEST(Format, PicksTheShortestNaturalUnit) {
  EXPECT_EQ(format_bytes(80.0 * kGiB), "80 GiB");
  EXPECT_EQ(format_bytes(1.5e9), "1.5 GB");
  EXPECT_EQ(format_bytes(4096), "4 KiB");
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bandwidth(55e9), "55 GB/s");
  EXPECT_EQ(format_bandwidth(3.08 * 1e12), "3.08 TB/s");
  EXPECT_EQ(format_duration(parse_duration("4.7 us")), "4.7 us");
  EXPECT_EQ(format_duration(0.003), "3 ms");
  EXPECT_EQ(format_duration(1.5), "1.5 s");
  EXPECT_EQ(format_flop_rate(989e12), "989 TFLOP/s");
  EXPECT_EQ(format_number(0.85), "0.85");
}

// parse(format(v)) must give v bit for bit: resolved configurations are written and read back this way.
TEST(Format, RoundTripsExactly) {
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> exponent(-12, 16);
  std::uniform_real_distribution<double> mantissa(1, 10);
  for (int i = 0; i < 3000; ++i) {
    const double v = mantissa(rng) * std::pow(10.0, exponent(rng));
    ASSERT_EQ(parse_bytes(format_bytes(v)), v) << format_bytes(v);
    ASSERT_EQ(parse_bandwidth(format_bandwidth(v)), v) << format_bandwidth(v);
    ASSERT_EQ(parse_duration(format_duration(v)), v) << format_duration(v);
    ASSERT_EQ(parse_flop_rate(format_flop_rate(v)), v) << format_flop_rate(v);
  }
}

}  // namespace
}  // namespace hgca
