// Hand-made RunResults for the writer tests and the sample-file helper.
#pragma once

#include <string>
#include <vector>

#include "sim/results/run_result.hpp"

namespace hgca::test {

// A feasible run whose figures are simple to check by hand: decode_s = 2 s over 4 steps of 0.5 s,
// busy GPU 1 s (50 %), H2D 0.5 s (25 %), D2H 0.2 s (10 %), CPU 6 core-s over 4 cores (75 %),
// GPU memory 16 GiB, CPU memory 40 GiB.
RunResult simple_feasible_run(const std::string& strategy, int batch, int64_t context);

// An infeasible run with the given reason.
RunResult simple_infeasible_run(const std::string& strategy, int batch, int64_t context, const std::string& reason);

// Every member set to a distinct, non-default value (strings with commas, quotes, newlines and UTF-8),
// so a round trip that drops or swaps any member is caught.
RunResult fully_populated_run();

// A small sweep: strategies gpu-full, hgca, offload-fetch over contexts 4096..65536 at batches 1 and 8,
// hgca repeated with seeds 0 and 1, gpu-full infeasible at 65536 (batch 1) and from 16384 (batch 8).
// tokens_per_s follows a formula documented in the .cpp so that plotting tests can predict it.
std::vector<RunResult> sample_sweep();

}  // namespace hgca::test
