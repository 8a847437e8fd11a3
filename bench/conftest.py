"""Shared fixtures for the pytest-benchmark suite: one N-element float32 buffer (``FASTINIT_BENCH_N``, default
1e8), touched once; torch on numba's thread count for the whole session, as ``fastinit bench`` runs it.  N sizes
the element-wise fills and the fresh-process probe; the benches whose goals name a size keep theirs."""
import os
import re
import sys

import numpy as np
import pytest

from fastinit import benchmark as fb

N = int(float(os.environ.get("FASTINIT_BENCH_N", "1e8")))
SIZE = re.sub(r"e\+?0*", "e", f"{N:.3g}")  # the groups' label of N: 1e8, 2e7 (they said 1e8 at any N)


@pytest.fixture(scope="session", autouse=True)
def torch_on_numba_threads():
    """torch with numba's thread count (restored after); the test modules that time torch imported it when
    they were collected."""
    with fb.contestant_setup(["torch"] if "torch" in sys.modules else []):
        yield


@pytest.fixture(scope="session")
def buf32():
    out = np.empty(N, np.float32)
    out.fill(0)  # page it in: every contestant writes to resident memory
    return out


def run(benchmark, fn, rounds=5, *, elements, check=None):
    """Time ``fn`` (``rounds`` after one warm-up); ``elements``: how many one call fills (its buffer's size, not
    N for a matrix), None to record no rate; ``check``: a ``fastinit.benchmark.FillCheck`` of the buffer ``fn``
    fills, planted before the last call (untimed) and asserted after it."""
    benchmark.extra_info.update(fb.thread_counts())
    if elements is not None:
        benchmark.extra_info["elements"] = elements
    setup = None if check is None else check.planter(1 if benchmark.disabled else rounds + 1)
    benchmark.pedantic(fn, setup=setup, rounds=rounds, warmup_rounds=1, iterations=1)
    if check is not None:
        check.verify()
    if benchmark.stats is not None and elements is not None:  # stats None under --benchmark-disable (a smoke run)
        benchmark.extra_info["elements_per_s"] = elements / benchmark.stats.stats.min
