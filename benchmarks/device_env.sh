# On the GPU machine, from the repository root:  source benchmarks/device_env.sh
# Installs the wheels benchmarks/device_prepare.sh put in .device/wheels into /tmp/site, unpacks
# .device/mnist/*.gz into /tmp/mnist/MNIST/raw, and exports PYTHONPATH and LENET_LAB_DATA for them.
# Returns non-zero (and says why) when .device/ is missing or the install fails.
_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! ls "$_repo"/.device/wheels/*.whl >/dev/null 2>&1 || ! ls "$_repo"/.device/mnist/*.gz >/dev/null 2>&1; then
    echo "device_env: $_repo/.device/wheels or .device/mnist is empty: run benchmarks/device_prepare.sh where PyPI is reachable" >&2
    return 1 2>/dev/null || exit 1
fi
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$_repo"/.device/wheels/*.whl \
    || { echo "device_env: installing the wheels failed" >&2; return 1 2>/dev/null || exit 1; }
export PYTHONPATH="/tmp/site:$_repo${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p /tmp/mnist/MNIST/raw
for _gz in "$_repo"/.device/mnist/*.gz; do
    gunzip -c "$_gz" >"/tmp/mnist/MNIST/raw/$(basename "$_gz" .gz)"
done
export LENET_LAB_DATA=/tmp/mnist
unset _repo _gz
