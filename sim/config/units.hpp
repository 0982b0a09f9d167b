// Quantities with units, as written in configuration files.
//
// Parsing: a number (decimal or scientific, optional sign) followed, with or without a space, by a unit.
// SI prefixes are powers of 1000 (KB/kB, MB, GB, TB), binary prefixes powers of 1024 (KiB, MiB, GiB, TiB).
// Case matters where it carries meaning: "b" is a bit and is rejected, "m" would be milli. Only bytes may be
// written without a unit. Every parser throws std::invalid_argument with a one-line message saying what was
// expected; the configuration loader adds file, line and key.
//
// Formatting: format_*(v) picks the unit that gives the shortest text and guarantees that parsing the text
// gives back exactly v (bit for bit, for finite v), so formatted values can be written to files and read back
// losslessly.
#pragma once

#include <string>
#include <string_view>

namespace hgca {

double parse_bytes(std::string_view text);      // "80 GiB", "1.5 GB", "512 B", "4096" -> bytes
double parse_bandwidth(std::string_view text);  // "55 GB/s", "3.08 TB/s", "10 GiB/s" -> bytes/s
double parse_duration(std::string_view text);   // "4.7 us", "4.7 µs", "3 ms", "2 ns", "1.5 s" -> seconds
double parse_flop_rate(std::string_view text);  // "989 TFLOP/s", "100 GFLOP/s", "67 TFLOPS" -> FLOP/s

std::string format_bytes(double bytes);            // 85899345920 -> "80 GiB"
std::string format_bandwidth(double bytes_per_s);  // 55e9 -> "55 GB/s"
std::string format_duration(double seconds);       // 4.7e-6 -> "4.7 us"
std::string format_flop_rate(double flop_per_s);   // 989e12 -> "989 TFLOP/s"
// Shortest decimal text that reads back as exactly `value` ("0.85", "1e-09").
std::string format_number(double value);

}  // namespace hgca
