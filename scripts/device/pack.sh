#!/usr/bin/env bash
# Builds the binaries the device run needs (here, where nvcc lives) and packs them with the shared libraries
# they need that are not part of the base system into .devbuild/ (ignored by git; name it in `carry`).
#
#   scripts/device/pack.sh [BUILD_DIR]     default build-cuda; configure it first with -DCMAKE_BUILD_TYPE=Release
#   PACK_TARGETS="hgca" scripts/device/pack.sh   packs only the named targets (a device run that needs hgca alone)
#
# run_all.sh puts .devbuild/lib on LD_LIBRARY_PATH. The CUDA runtime is linked statically: only the driver
# (libcuda.so, present on the device machine) is needed there. The folder is also packed as
# build-devpack/devbuild.tar.xz (~12 MB instead of ~57 MB; the working tree that travels is limited to 64 MiB):
# carry build-devpack and run_all.sh unpacks it when .devbuild is absent.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-cuda}
dest=$root/.devbuild
targets=${PACK_TARGETS:-"hgca_cuda_tests hgca_hybrid_tests hgca_kernels_tests hgca_trace_kernels_tests hgca_cuda_bench hgca_kernel_bench hgca calibration_microbench_tests"}
cmake --build "$build" -j2 --target $targets
rm -rf "$dest"
mkdir -p "$dest/bin" "$dest/lib"
for t in $targets; do
  if [ -x "$build/bin/$t" ]; then cp "$build/bin/$t" "$dest/bin/"; else echo "pack.sh: $t was not built" >&2; fi
done
# Every shared library the binaries load, except the C/C++ runtime the device's newer Ubuntu provides.
for b in "$dest"/bin/*; do
  ldd "$b" | awk '/=> \//{print $3}'
done | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libgcc_s.so*|libstdc++.so*|libcuda.so*) ;;
    # cuBLAS is hundreds of MB; the device machine has it (CUDA 13.0 in /usr/local/cuda, on run_all.sh's path).
    libcublas.so*|libcublasLt.so*) ;;
    *) cp -L "$lib" "$dest/lib/" ;;
  esac
done
strip --strip-unneeded "$dest"/bin/* 2>/dev/null || true
mkdir -p "$root/build-devpack"
tar -C "$root" -cf - .devbuild | xz -T2 -6 > "$root/build-devpack/devbuild.tar.xz"
du -sh "$dest" "$dest"/lib "$root/build-devpack/devbuild.tar.xz"
