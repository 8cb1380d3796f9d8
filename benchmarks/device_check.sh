#!/usr/bin/env bash
# The device check (benchmarks/device_check.py): on a machine with one GPU, under 8 minutes, one
# Markdown table of the CUDA tests, the throughput rows, the time to 99% and a ResNet-18 epoch.
#
#     bash benchmarks/device_check.sh OUT [--setup] [--smoke] [--work DIR]
#
# --setup, or a python3 without Hydra (the GPU machine's image), first sources benchmarks/device_env.sh:
# the wheels and MNIST files that benchmarks/device_prepare.sh put in .device/. OUT gets the table
# (device_check.md) and every section's log. Without CUDA the GPU sections say "skipped: no CUDA".
set -uo pipefail
cd "$(dirname "$0")/.."
setup=0
args=()
for arg in "$@"; do
    if [[ $arg == --setup ]]; then setup=1; else args+=("$arg"); fi
done
if ((setup)) || ! python3 -c 'import hydra, omegaconf' 2>/dev/null; then
    started=$SECONDS
    if source benchmarks/device_env.sh; then
        export LENET_LAB_DEVICE_SETUP="wheels and MNIST from .device/ in $((SECONDS - started)) s"
    else
        echo "device_check: carrying on without .device/" >&2
    fi
fi
exec python3 benchmarks/device_check.py "${args[@]}"
