#!/usr/bin/env bash
# Installs the Debian packages lenetc needs to build and test.
# Idempotent: packages already present are left alone.
set -euo pipefail
# clang and its libFuzzer runtime are for `make fuzz`; Fashion-MNIST for a test;
# the aarch64 cross compiler and qemu-user for `make check-neon`; gnuplot (its
# pngcairo terminal) for --plot, and a CJK font (1.6 MB) so that class names
# in Chinese, Japanese or Korean draw as text, not boxes; PyTorch and numpy for the oracle and interop
# tests (tests/torch/check.py, lenetc-torch), which make test otherwise skips
pkgs=(build-essential pkg-config libyaml-dev libtcc-dev tcc check zlib1g-dev libjansson-dev valgrind
      clang libclang-rt-14-dev libpng-dev libjpeg62-turbo-dev dataset-fashion-mnist
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user gnuplot-nox fonts-wqy-microhei python3-torch python3-numpy)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all installed"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
