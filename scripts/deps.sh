#!/usr/bin/env bash
# Installs the Debian packages HGCA-Sim needs, only those missing. Sourced by quickstart.sh and test.sh.
set -euo pipefail
HGCA_PACKAGES=(build-essential cmake pkg-config libeigen3-dev libboost-program-options-dev libhdf5-dev
  libyaml-cpp-dev libgtest-dev googletest python3 python3-numpy python3-h5py python3-matplotlib python3-pytest
  libopenmpi-dev openmpi-bin python3-torch)
missing=()
for p in "${HGCA_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing missing packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# A python3 that sees Debian's packages (the one on PATH may be a separate build without h5py).
HGCA_PYTHON=""
for py in /usr/bin/python3 python3; do
  if "$py" -c "import h5py, numpy, matplotlib" 2>/dev/null; then HGCA_PYTHON="$py"; break; fi
done
[ -n "$HGCA_PYTHON" ] || { echo "error: no python3 imports h5py, numpy and matplotlib" >&2; exit 1; }
export HGCA_PYTHON
