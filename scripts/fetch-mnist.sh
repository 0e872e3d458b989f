#!/usr/bin/env bash
# Downloads the four MNIST files into DIR (default data/mnist) and checks them
# against the SHA-256 of their decompressed content. Needs internet; lenetc
# itself never downloads anything.
#   scripts/fetch-mnist.sh [DIR]
set -euo pipefail
dir=${1:-data/mnist}
base=${MNIST_URL:-https://ossci-datasets.s3.amazonaws.com/mnist}
mkdir -p "$dir"
declare -A sha=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
for f in "${!sha[@]}"; do
  out="$dir/$f.gz"
  if [ ! -s "$out" ]; then
    echo "fetching $f.gz"
    curl -fsSL --retry 3 -o "$out.part" "$base/$f.gz"
    mv "$out.part" "$out"
  fi
  got=$(gzip -dc "$out" | sha256sum | cut -c1-64)
  if [ "$got" != "${sha[$f]}" ]; then
    echo "error: $out: sha256 $got, expected ${sha[$f]}" >&2
    exit 1
  fi
  echo "ok $out"
done
