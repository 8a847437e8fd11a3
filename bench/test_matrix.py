"""The ``fastinit bench`` matrix as a pytest-benchmark suite, for tracking outside CI: every
initializer x dtype, timed for fastinit, a memset of the same buffer and each installed
contestant (numpy, torch, jax), with the same calls ``fastinit bench`` makes (fastinit.benchmark).

Run:  python -m pytest bench/test_matrix.py -q --benchmark-group-by=group --benchmark-columns=min,rounds
Elementwise fills use FASTINIT_BENCH_N elements (default 1e8; set 1e7 for a quick pass),
orthogonal_/sparse_ a FASTINIT_BENCH_MATRIX² matrix (default 2048).  Contestants are timed once
(their 1e8-element truncated normals take seconds to minutes).
"""
import os

import numpy as np
import pytest

from conftest import N, run
from fastinit import benchmark as fb
from fastinit._buffers import resolve_dtype

MATRIX_N = int(os.environ.get("FASTINIT_BENCH_MATRIX", "2048"))
_held = {}  # one buffer at a time: 1e8 float64 is 800 MB


@pytest.fixture(scope="module", autouse=True)
def contestants():
    """What ``fastinit bench`` times contestants in: torch on numba's threads, JAX in float64 mode (restored)."""
    with fb.contestant_setup():
        yield


def buffer(shape, dtype) -> np.ndarray:
    key = (shape, dtype)
    if key not in _held:
        _held.clear()
        buf = np.empty(shape, resolve_dtype(dtype))
        fb.memset(buf)  # resident before anyone is timed
        _held[key] = buf
    return _held[key]


@pytest.mark.parametrize("who", ("memset", "fastinit") + fb.CONTESTANTS)
@pytest.mark.parametrize("dtype", fb.DTYPES)
@pytest.mark.parametrize("name", fb.INITIALIZERS)
def test_matrix(benchmark, name, dtype, who):
    if who in fb.CONTESTANTS and not fb.installed(who):
        pytest.skip(f"{who} not installed")
    buf = buffer(fb.case_shape(name, N, MATRIX_N), dtype)
    benchmark.group = f"{name} {dtype} {buf.size:.0e}"
    if who == "memset":
        run(benchmark, lambda: fb.memset(buf), rounds=3, elements=buf.size)
    elif who == "fastinit":
        run(benchmark, fb.fastinit_fill(name, buf), rounds=3, elements=buf.size, check=fb.FillCheck.for_case(name, buf))
    else:
        try:  # JAX compiles ahead, inside contestant_fill
            fn = fb.contestant_fill(who, name, buf)
            if fn is None:
                pytest.skip(f"{who} has no {name} for {dtype}")
            run(benchmark, fn, rounds=1, elements=buf.size)
        except NotImplementedError as e:  # e.g. torch/JAX QR in 16-bit types
            pytest.skip(f"{who}: {str(e).splitlines()[0][:100]}")
