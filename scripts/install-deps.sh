#!/usr/bin/env bash
# Installs the Debian packages lenetc needs to build and train (and, with
# --test, to run every test).
# Idempotent: packages already present are left alone.
set -euo pipefail
# What building and training need: the compiler's and runtime's libraries,
# tcc, gnuplot (its pngcairo terminal) for --plot and a CJK font (1.6 MB) so
# that class names in Chinese, Japanese or Korean draw as text, not boxes;
# protobuf-c, its compiler and ONNX's onnx.proto (libonnx-dev), from which the
# build generates the C that reads and writes ONNX files.
pkgs=(build-essential pkg-config libyaml-dev libtcc-dev tcc zlib1g-dev libjansson-dev libpng-dev
      libjpeg62-turbo-dev gnuplot-nox fonts-wqy-microhei libprotobuf-c-dev protobuf-c-compiler
      libonnx-dev)
# --test (make test-deps), what only the tests need: Check; valgrind; clang
# and its libFuzzer runtime for `make fuzz`; Fashion-MNIST for a test; the
# aarch64 cross compiler and qemu-user for `make check-neon`; PyTorch and
# numpy for the oracle and interop tests (tests/torch/check.py,
# lenetc-torch), which make test otherwise skips (CI: fails); the bare-metal
# Arm compiler, newlib (memcpy/memset only) and qemu-system-arm for
# `make check-mcu` (the int8 export on a Cortex-M4 and a Cortex-M0);
# python3-onnx (its checker), python3-opencv (its dnn module, a runtime that
# runs ONNX files) and ONNX's node tests (libonnx-testdata) for the ONNX tests.
if [ "${1:-}" = "--test" ]; then
  pkgs+=(check valgrind clang libclang-rt-14-dev dataset-fashion-mnist gcc-aarch64-linux-gnu
         libc6-dev-arm64-cross qemu-user python3-torch python3-numpy
         gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm python3-onnx python3-opencv
         libonnx-testdata)
fi
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
