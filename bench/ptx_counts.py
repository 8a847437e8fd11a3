"""Executed PTX instructions per stored value of fastinit's GPU kernels, measured on a machine with no GPU.

The kernels are compiled as a launch compiles them (numba-cuda, NVVM ``-fma=0``, sm_90 PTX; needs a CUDA toolkit's
libNVVM and libdevice, as tests/test_cuda.py's PTX tests), each fill's launch parameters are fastinit's own, and
threads of the launch run in tests/ptx_sim.py for two target sizes: thread 0 where every thread does the same work
(a contiguous target), else SAMPLE threads drawn at random, scaled to the launch's threads.  The difference in the
two launches' instructions over the difference in their values is the cost of one value; "per block of values" is
that times the values of a Philox block (4 float32-family, 2 float64): the cost of one work item of a contiguous
fill.  A proxy for comparing kernel changes offline, not a GPU time: PTX, not the SASS ptxas makes of it (a 64-bit
multiply or division becomes several instructions there, a division tens), and no memory system.  GPU times come
from bench/test_cuda.py (bench/gpu_check.sh).

Run: PYTHONPATH=. python bench/ptx_counts.py
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np

TESTS = pathlib.Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

import ptx_sim  # noqa: E402
import test_cuda  # noqa: E402

import fastinit  # noqa: E402

ROUNDS = (2, 6)  # a thread's grid-stride rounds in the two launches compared
SAMPLE = 16  # threads run (at random) of a launch whose threads' work differs
THREADS = 32 * 256  # a launch's threads with _stand_in_gpu(sms=1): 32 blocks of 256

# (name, storage dtype, fill(target), layout): "run" a contiguous 1-D target, "rows" rows of 1000 in a 1024-wide
# array, "shard" the (rows, 1024) column shard at offset 1024 of a (rows, 4096) global matrix
CASES = [
    ("constant_ float32", np.float32, lambda t, **kw: fastinit.constant_(t, 0.25, **kw), "run"),
    ("uniform_ float32", np.float32, lambda t, **kw: fastinit.uniform_(t, -0.5, 0.5, seed=1, **kw), "run"),
    ("normal_ float32", np.float32, lambda t, **kw: fastinit.normal_(t, 0.0, 0.02, seed=1, **kw), "run"),
    ("trunc_normal_ [-2, 2] float32", np.float32, lambda t, **kw: fastinit.trunc_normal_(t, seed=1, **kw), "run"),
    ("trunc_normal_ [0.5, 0.6] float32", np.float32,
     lambda t, **kw: fastinit.trunc_normal_(t, 0.0, 1.0, 0.5, 0.6, seed=1, **kw), "run"),
    ("uniform_ float64", np.float64, lambda t, **kw: fastinit.uniform_(t, -0.5, 0.5, seed=1, **kw), "run"),
    ("normal_ float64", np.float64, lambda t, **kw: fastinit.normal_(t, 0.0, 0.02, seed=1, **kw), "run"),
    ("uniform_ bfloat16", test_cuda.BF16,
     lambda t, **kw: fastinit.uniform_(t, -0.5, 0.5, seed=1, dtype="bfloat16", **kw), "run"),
    ("uniform_ float32, rows of 1000", np.float32,
     lambda t, **kw: fastinit.uniform_(t, -0.5, 0.5, seed=1, **kw), "rows"),
    ("uniform_ float32, column shard", np.float32,
     lambda t, **kw: fastinit.uniform_(t, -0.5, 0.5, seed=1, **kw), "shard"),
]


def _target(dtype, layout: str, rounds: int):
    """A target whose fill gives thread 0 about ``rounds`` grid-stride rounds, and the fill's keywords."""
    values = THREADS * rounds * (2 if np.dtype(dtype).itemsize == 8 else 4)
    if layout == "run":
        return np.zeros(values, dtype), {}
    rows = values // 1000 + 1
    if layout == "rows":
        return np.zeros((rows, 1024), dtype)[:, :1000], {}
    return np.zeros((rows, 1024), dtype), {"global_shape": (rows, 4096), "offset": (0, 1024)}


def main() -> None:
    libdevice = test_cuda._libdevice()
    if libdevice is None:
        raise SystemExit("needs a CUDA toolkit's libNVVM and libdevice (CUDA_HOME)")
    test_cuda._offline_nvvm(libdevice)
    from fastinit import _cpu, _cuda

    kernels = {(name, code): ptx_sim.Kernel(_cuda.ptx(kind, code, (9, 0)))
               for kind, name in ((_cpu.UNIFORM, "_fill"), (_cpu.TRUNC, "_fill_trunc"))
               for code in (_cpu.F32, _cpu.F64, _cpu.BF16)}
    seen, threads = [], [0]

    def sampled(kernel, grid, block, stream, params, arrays, args):  # the launch's instructions, estimated
        params = [float(p) if isinstance(p, np.floating) else int(p) for p in params]
        executed = sum(ptx_sim.run_thread(kernels[kernel], params, {"%tid.x": g % block[0], "%ctaid.x": g // block[0],
                                                                   "%ntid.x": block[0], "%nctaid.x": grid[0]}, {})
                       for g in threads)
        seen.append(executed * grid[0] * block[0] / len(threads))

    test_cuda._stand_in_gpu(sampled, sms=1)
    _cuda._memset_word = lambda code, p0: None  # a contiguous constant through the kernel, not the driver's memset
    rng = np.random.default_rng(0)
    print(f"{'fill':36} {'PTX per value':>14} {'per block of values':>20}")
    for name, dtype, fill, layout in CASES:
        # every thread of a contiguous fill does the same work; elsewhere threads differ (a work item past its
        # row's end does nothing), so SAMPLE threads drawn at random stand for all
        threads[:] = [0] if layout == "run" else sorted(rng.choice(THREADS, SAMPLE, replace=False).tolist())
        seen.clear()
        values = []
        for rounds in ROUNDS:
            target, where = _target(dtype, layout, rounds)
            fill(test_cuda.Device(target), **where)
            values.append(target.size)
        per_value = (seen[1] - seen[0]) / (values[1] - values[0])
        print(f"{name:36} {per_value:14.1f} {per_value * (2 if np.dtype(dtype).itemsize == 8 else 4):20.1f}")


if __name__ == "__main__":
    main()
