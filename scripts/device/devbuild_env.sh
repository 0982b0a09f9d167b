# Sourced by the device scripts (run_all.sh, calibrate.sh, validate.sh) after they set `root` (the repository)
# and `dir` (the packed binaries, .devbuild by default): unpacks build-devpack/devbuild.tar.xz when `dir` is
# missing, puts the packed libraries and the machine's CUDA libraries on the path (cuBLAS is not packed, see
# pack.sh: it comes from the device machine's CUDA 13.0) and sets `bin`.
if [ ! -d "$dir" ] && [ -f "$root/build-devpack/devbuild.tar.xz" ]; then
  tar -C "$root" -xJf "$root/build-devpack/devbuild.tar.xz"
fi
export LD_LIBRARY_PATH="$dir/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
bin=$dir/bin
