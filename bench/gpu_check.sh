#!/usr/bin/env bash
# Issue #7's hardware checks in one call on a lent GPU machine (docs/gpu.md, "Validation on a GPU"):
#   bash bench/gpu_check.sh            # from the repository root; logs and JSON go to $OUT
# 1. the machine and the versions fastinit will run with (nvidia-smi, python, numba, numba-cuda,
#    torch); numba-cuda older than 0.30 is reported, and wheels in .whl/ are installed first
#    (docs/gpu.md says how to carry them);
# 2. tests/test_cuda.py (simulator bit-equality, the PTX compile without fma, routing, refusals);
# 3. bench/test_cuda.py at 1e8 elements: GPU == CPU bit for bit (<= 2 ulp allowed for normal and
#    truncated normal), shards and strided views, streams, first-call compile time, throughput;
# 4. the throughput groups again at FASTINIT_GPU_BENCH_N_LONG (default 2e9: 8 GB of float32,
#    milliseconds per fill, so launch and Python overhead no longer hide the bandwidth);
# 5. `fastinit bench --device cuda` (numba device arrays, every initializer and dtype).
# Each step runs even if an earlier one failed; the exit code is the first failure's.
set -uo pipefail
OUT=${OUT:-/tmp/fastinit-gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-/tmp/fastinit-numba-cache}
PY=${PYTHON:-python3}
if compgen -G ".whl/*.whl" >/dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || exit 1
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}  # this checkout, uninstalled
status=0
step() {  # step NAME COMMAND...: run, log to $OUT/NAME.log, keep the first failure's exit code
    local name=$1
    shift
    echo "=== $name: $*"
    local t0=$SECONDS
    "$@" 2>&1 | tee "$OUT/$name.log"
    local rc=${PIPESTATUS[0]}
    echo "=== $name: exit $rc after $((SECONDS - t0)) s"
    [ "$status" -ne 0 ] || status=$rc
}
versions() {
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
    "$PY" - <<'EOF'
import platform, numpy, numba, torch
from importlib.metadata import version
print("python", platform.python_version(), "numpy", numpy.__version__, "numba", numba.__version__,
      "torch", torch.__version__, "cuda", torch.version.cuda)
try:
    v = version("numba-cuda")
except Exception as e:  # noqa: BLE001
    v = f"missing ({e})"
print("numba-cuda", v)
if not v[0].isdigit() or tuple(int(p) for p in v.split(".")[:2]) < (0, 30):
    print("WARNING: fastinit's GPU path is tested with numba-cuda >= 0.30; carry its wheel in .whl/")
EOF
}
step versions versions
step tests "$PY" -m pytest -q -p no:cacheprovider tests/test_cuda.py
step bench_1e8 "$PY" -m pytest -q -s -p no:cacheprovider bench/test_cuda.py --benchmark-group-by=group \
    --benchmark-columns=min,mean,rounds --benchmark-json="$OUT/bench_1e8.json"
step bench_long env FASTINIT_GPU_BENCH_N="${FASTINIT_GPU_BENCH_N_LONG:-2e9}" "$PY" -m pytest -q -s -p no:cacheprovider \
    bench/test_cuda.py -k "not equals and not shards and not first_call" --benchmark-group-by=group \
    --benchmark-columns=min,mean,rounds --benchmark-json="$OUT/bench_long.json"
step cli_bench "$PY" -m fastinit bench --device cuda
exit "$status"
