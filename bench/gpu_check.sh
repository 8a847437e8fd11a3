#!/usr/bin/env bash
# Issue #7's hardware checks in one call on a lent GPU machine (docs/gpu.md, "Validation on a GPU"):
#   bash bench/gpu_check.sh            # from the repository root; logs and JSON go to $OUT
# 1. the machine and the versions fastinit will run with (nvidia-smi, python, numba, numba-cuda,
#    torch); numba-cuda older than 0.30 is reported, and wheels in .whl/ are installed first
#    (docs/gpu.md says how to carry them);
# 2. preflight: which numba.cuda, libNVVM, libdevice, NVRTC and nvJitLink numba-cuda finds, and one
#    tiny kernel compiled and launched; if that step fails, nothing else can run: the script stops
#    there with the diagnosis (its exit code);
# 3. `fastinit compile --gpu`: every CPU kernel and every GPU kernel (for the four storage types, built for this
#    GPU: PTX and cubin) into the fresh NUMBA_CACHE_DIR, the groups in parallel processes (the fills of the next
#    steps then load them instead of compiling in turn); then one fastinit uniform_ (its own launch through
#    cuda.core, the kernel loaded from that cache) and one constant_ (the driver's memset) on numba device arrays,
#    compared with the CPU: if either raises or differs, the script stops there with the traceback (nothing after
#    it could pass);
# 4. bench/test_cuda.py at 1e8 elements: GPU == CPU bit for bit (<= 2 ulp allowed for normal and
#    truncated normal), shards and strided views, host-computed initializers, streams, first-call
#    compile time, throughput, small calls (4096 elements) and a profile of their overhead;
# 5. the throughput groups again at FASTINIT_GPU_BENCH_N_LONG (default 2e9: 8 GB of float32,
#    milliseconds per fill, so launch and Python overhead no longer hide the bandwidth);
# 6. `fastinit bench --device cuda --size 1e9 --dtype float16,float32,float64` (numba device arrays:
#    constant_, uniform_, normal_, trunc_normal_; the report lists what it skipped); 1e9 float64 is
#    8 GB, 16 GB with torch's tensor: far below an H200's 139 GiB;
# 7. only with FASTINIT_GPU_CHECK_TESTS=1: tests/test_cuda.py (simulator bit-equality, the PTX compile
#    without fma: CPU work that CI runs anyway).
# Each step has a time limit (SIGINT, so pytest still writes its summary and JSON; SIGKILL 10 s later) and runs
# even if an earlier one failed (but the preflight and the first fill); the exit code is the first failure's.  The
# limits add up to 450 s, and no step runs past FASTINIT_GPU_CHECK_BUDGET_S (default 450) seconds from the start (the
# whole script took 296 s on an H200 machine): a 15-minute device budget keeps room for a fresh machine and a rerun.
set -uo pipefail
OUT=${OUT:-/tmp/fastinit-gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-/tmp/fastinit-numba-cache}
[ -n "${CUDA_HOME:-}" ] || [ ! -d /usr/local/cuda ] || export CUDA_HOME=/usr/local/cuda  # libNVVM, libdevice
PY=${PYTHON:-python3}
if compgen -G ".whl/*.whl" >/dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || exit 1
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
    # a folder on PYTHONPATH is no site folder: its .pth files (numba-cuda's _numba_cuda_redirector.pth, which makes
    # `numba.cuda` numba-cuda's) are read only through site.addsitedir, here at every interpreter's start; then the
    # image's own sitecustomize, if it has one, which this one hides
    cat > /tmp/site/sitecustomize.py <<'PYEOF'
import importlib.machinery, importlib.util, os, site, sys
here = os.path.dirname(os.path.abspath(__file__))
site.addsitedir(here)
spec = importlib.machinery.PathFinder.find_spec(
    "sitecustomize", [p for p in sys.path if os.path.abspath(p or os.curdir) != here])
if spec is not None:
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
PYEOF
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}  # this checkout, uninstalled
BUDGET=${FASTINIT_GPU_CHECK_BUDGET_S:-450}
GRACE=10  # seconds between a step's SIGINT and its SIGKILL
status=0
last_rc=0
step() {  # step NAME SECONDS COMMAND...: run with a time limit, log to $OUT/NAME.log, keep the first failure
    local name=$1 limit=$2 left=$((BUDGET - SECONDS - GRACE))
    shift 2
    if [ "$left" -lt 5 ]; then
        echo "=== $name: skipped, the ${BUDGET} s budget is spent"
        last_rc=124
    else
        [ "$limit" -le "$left" ] || limit=$left
        echo "=== $name (limit ${limit} s): $*"
        local t0=$SECONDS
        if declare -F "$1" >/dev/null; then set -- bash -c "$1"; fi  # a function of this script (exported below)
        timeout -s INT --kill-after="$GRACE" "$limit" "$@" 2>&1 | tee "$OUT/$name.log"
        last_rc=${PIPESTATUS[0]}
        echo "=== $name: exit $last_rc after $((SECONDS - t0)) s"
    fi
    [ "$status" -ne 0 ] || status=$last_rc
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
preflight() {
    "$PY" - <<'EOF'
import sys
try:
    import numba_cuda  # noqa: F401
    from numba import cuda
    from numba.cuda.cudadrv import driver, libs, nvrtc, nvvm
except Exception as e:  # noqa: BLE001
    sys.exit(f"PREFLIGHT FAILED: numba-cuda does not import: {type(e).__name__}: {e}")
checks = [("numba.cuda", lambda: cuda.__file__), ("libNVVM", lambda: nvvm.NVVM().get_version()),
          ("libdevice", libs.get_libdevice), ("NVRTC ccs", nvrtc.get_supported_ccs),
          ("nvJitLink", driver._have_nvjitlink), ("cuda.is_available()", cuda.is_available)]
for name, probe in checks:
    try:
        print(f"{name}: {probe()}")
    except Exception as e:  # noqa: BLE001
        print(f"{name}: FAILED {type(e).__name__}: {e}")
if "numba_cuda" not in cuda.__file__ or not cuda.is_available():
    sys.exit("PREFLIGHT FAILED: numba-cuda cannot use this GPU (see above: set CUDA_HOME to a toolkit with "
             "libNVVM and NVRTC, or carry the nvidia-cuda-nvrtc / nvidia-nvvm wheels in .whl/)")
import numpy as np

try:
    @cuda.jit("void(float32[:])", lto=False)
    def plus_one(x):
        i = cuda.grid(1)
        if i < x.size:
            x[i] += 1.0
except AttributeError as e:  # numba-cuda 0.30.4 on numpy 2.5: np.row_stack is gone
    from importlib.metadata import version
    sys.exit(f"PREFLIGHT FAILED: numba-cuda {version('numba-cuda')} cannot compile with numpy {np.__version__} ({e}): "
             "carry numpy 2.4.6 in .whl/ (docs/gpu.md, 'Validation on a GPU')")


x = cuda.to_device(np.arange(4, dtype=np.float32))
plus_one[1, 32](x)
print("tiny kernel:", cuda.get_current_device().name, x.copy_to_host())
EOF
}
first_fill() {  # fastinit's own launch (cuda.core, not numba-cuda's dispatcher) and memset, once each, checked
    "$PY" - <<'EOF'
import sys, time, traceback

import numpy as np
from numba import cuda

import fastinit

cpu = fastinit.uniform_(np.empty(4100, np.float32), -1.0, 2.0, seed=5)
try:
    t0 = time.perf_counter()
    a, b = cuda.device_array(4100, np.float32), cuda.device_array(1000, np.float32)
    fastinit.uniform_(a, -1.0, 2.0, seed=5)  # the fill kernel, compiled and launched by fastinit._cuda
    fastinit.constant_(b, float("nan"))  # the driver's memset
    cuda.synchronize()
    print(f"first fills (the kernel loaded from the disk cache the compile step filled, or compiled): "
          f"{time.perf_counter() - t0:.1f} s")
except Exception:  # noqa: BLE001
    traceback.print_exc()
    sys.exit("FIRST FILL FAILED: fastinit's direct launch (_cuda._ready, _cuda._run) or memset (_cuda._memset) "
             "raised; the traceback above says where")
same = np.array_equal(a.copy_to_host().view(np.uint32), cpu.view(np.uint32))
nan = bool((b.copy_to_host().view(np.uint32) == 0x7FC00000).all())
print("uniform_ equals the CPU bit for bit:", same, "| constant_ NaN bits by memset:", nan)
if not (same and nan):
    sys.exit("FIRST FILL FAILED: the GPU's values differ from the CPU's")
EOF
}
export PY
export -f versions preflight first_fill
step versions 20 versions
step preflight 30 preflight
[ "$last_rc" -eq 0 ] || { echo "=== preflight failed: the GPU steps are skipped"; exit "$last_rc"; }
step compile 90 "$PY" -m fastinit compile --gpu
step first_fill 30 first_fill
[ "$last_rc" -eq 0 ] || { echo "=== fastinit's first GPU fill failed: the GPU steps are skipped"; exit "$last_rc"; }
step bench_1e8 160 "$PY" -m pytest -q -s -p no:cacheprovider bench/test_cuda.py --benchmark-group-by=group \
    --benchmark-columns=min,mean,rounds --benchmark-json="$OUT/bench_1e8.json"
step bench_long 60 env FASTINIT_GPU_BENCH_N="${FASTINIT_GPU_BENCH_N_LONG:-2e9}" "$PY" -m pytest -q -s \
    -p no:cacheprovider bench/test_cuda.py -k "not equals and not shards and not first_call and not host and not small" \
    --benchmark-group-by=group --benchmark-columns=min,mean,rounds --benchmark-json="$OUT/bench_long.json"
step cli_bench 60 "$PY" -m fastinit bench --device cuda --size 1e9 --dtype float16,float32,float64
if [ -n "${FASTINIT_GPU_CHECK_TESTS:-}" ]; then  # opt-in: CPU work that CI runs in the simulator
    step tests 150 "$PY" -m pytest -q -p no:cacheprovider tests/test_cuda.py
fi
exit "$status"
