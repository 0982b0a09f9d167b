// Usage: write_sample_results OUT.h5 — writes test::sample_sweep() with tool version "sample".
#include <exception>
#include <iostream>

#include "sim/results/hdf5.hpp"
#include "tests/results/sample_runs.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: write_sample_results OUT.h5\n";
    return 2;
  }
  try {
    hgca::write_hdf5(argv[1], hgca::test::sample_sweep(), "sample");
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
