"""The host's share of a GPU fill, measured on a machine with no GPU: microseconds per call of fastinit's Python
from the call to the kernel launch, with the driver stood in for (tests/test_cuda.py's ``_stand_in_gpu``: no
pointer query, no context switch, no compile, and a launch that returns at once).  The GPU target is an object
exporting ``__cuda_array_interface__`` (as a CuPy or numba array does; ``fastinit.torch`` adds its own tensor
checks).  The same call on a small NumPy array (CPU kernel included) is printed for reference.  What the driver
and the launch add comes from bench/test_cuda.py's small-call rows on a GPU (bench/gpu_check.sh).

Run: PYTHONPATH=. python bench/gpu_host_overhead.py
"""
from __future__ import annotations

import pathlib
import sys
import timeit

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests"))

import test_cuda  # noqa: E402

import fastinit  # noqa: E402

CALLS = ("uniform_", "normal_", "trunc_normal_", "kaiming_uniform_", "zeros_")


def per_call_us(fn, target, number: int = 2000, repeat: int = 7) -> float:
    """Best of ``repeat`` rounds of ``number`` calls, in microseconds per call."""
    kwargs = {} if fn is fastinit.zeros_ else {"seed": 1}
    fn(target, **kwargs)  # compile / cache first
    return min(timeit.repeat(lambda: fn(target, **kwargs), number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    launches = []
    test_cuda._stand_in_gpu(lambda *a: launches.append(a[1]), sms=132)
    gpu, host = test_cuda.Device(np.empty((1024, 1024), np.float32)), np.empty((64, 16), np.float32)
    print(f"{'call':18s} {'GPU target, host part (us)':>28s} {'64x16 NumPy array (us)':>24s}")
    for name in CALLS:
        fn = getattr(fastinit, name)
        print(f"{name:18s} {per_call_us(fn, gpu):28.1f} {per_call_us(fn, host):24.1f}")
    assert launches, "no launch reached the stand-in"


if __name__ == "__main__":
    main()
