// A RunResult as one self-contained byte string, for the sweep journal (resume) and for shipping results
// between MPI ranks. Everything is kept bit for bit: every scalar field (through the scalar field table, so
// a new field is carried without touching this code), step latencies, timeline spans, parameters and the
// per-head selection. Not a file format to keep: integers and doubles are in host byte order, and a
// string written by a build with a different field table is rejected (the schema tag below).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sim/results/run_result.hpp"

namespace hgca {

// Identifies the field table (names and types, in order) and the encoding version; part of every encoding.
uint64_t run_codec_schema();

std::string encode_run(const RunResult& run);

// Throws std::runtime_error("run record: <problem>") when `bytes` is truncated, has trailing bytes, or was
// written with another schema.
RunResult decode_run(std::string_view bytes);

// 64-bit FNV-1a of `bytes`: record checksums and fingerprints (not cryptographic).
uint64_t fnv1a64(std::string_view bytes, uint64_t seed = 14695981039346656037ull);

}  // namespace hgca
