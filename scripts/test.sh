#!/usr/bin/env bash
# The whole test suite: C++ tests (GoogleTest via ctest), the same C++ tests built with
# -fsanitize=address,undefined, and the Python analysis tests. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
jobs=$(nproc)
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "note: no GPU on this machine: GPU tests (if built) skip themselves and say so"
fi

# Ninja when it is there (it schedules the two cores better than make); a build folder keeps the generator
# it was configured with.
configure() {
  local dir=$1; shift
  if [ ! -f "$dir/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then set -- -G Ninja "$@"; fi
  cmake -S . -B "$dir" "$@" >/dev/null
}

echo "== C++ tests (Release)"
configure build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== C++ tests with AddressSanitizer + UndefinedBehaviorSanitizer"
# Without the CUDA parts: device code cannot be sanitized, the GPU tests skip without a GPU anyway, and
# compiling the .cu files a second time would cost CI minutes. The Release build above keeps them building.
# -g1 instead of RelWithDebInfo's -g (line tables only): the sanitizers check the same, reports keep file:line, and the
# build takes far less time and disk (NDEBUG stays, as in the Release build).
san_flags="-O2 -g1 -DNDEBUG"
configure build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHGCA_SANITIZE=ON -DHGCA_CUDA=OFF \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$san_flags" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$san_flags"
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j"$jobs")

echo "== Python analysis tests"
"$HGCA_PYTHON" -m pytest analysis/tests -q
