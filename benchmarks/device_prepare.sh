#!/usr/bin/env bash
# Here, on a machine with PyPI: fill .device/ (git-ignored) with what a GPU machine without a network
# needs for benchmarks/device_check.sh: wheels of the packages its image lacks, and the MNIST files,
# gzipped (~11 MB). Run once from the repository the device check will be sent from:
#
#     bash benchmarks/device_prepare.sh [DATA]     # DATA holds MNIST/raw/ (default: LENET_LAB_DATA, else ../shared/data)
#
# The GPU image (Python 3.12, torch, lightning, pandas, matplotlib, tensorboard, joblib, pyyaml,
# packaging, pytest) has everything else. benchmarks/device_env.sh installs these there.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-${LENET_LAB_DATA:-../shared/data}}
raw="$data/MNIST/raw"
WHEELS=(hydra-core==1.3.8 omegaconf==2.3.1 hydra-joblib-launcher==1.2.0)
ANTLR=antlr4-python3-runtime==4.9.3  # an sdist on PyPI: built into a py3-none-any wheel here

exclude="$(git rev-parse --git-common-dir)/info/exclude"
mkdir -p "$(dirname "$exclude")"
grep -qxF /.device/ "$exclude" 2>/dev/null || echo /.device/ >>"$exclude"

rm -rf .device/wheels .device/mnist
mkdir -p .device/wheels .device/mnist
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .device/wheels "${WHEELS[@]}"
python3 -m pip wheel -q --no-deps "$ANTLR" -w .device/wheels
for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    gzip -9 -c "$raw/$name" >".device/mnist/$name.gz"
done
ls -l .device/wheels .device/mnist
du -sh .device
