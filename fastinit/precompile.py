"""Layer 7 — ``fastinit compile``: every CPU kernel compiled for this machine now, the groups in parallel.

numba compiles a kernel for the host CPU the first time a process calls it and keeps the machine
code in its on-disk cache (``cache=True``; fastinit's ``__pycache__``, or ``NUMBA_CACHE_DIR``);
later processes load it in tenths of a second.  On an empty cache the first ``normal_`` of an
install compiles for about 20 s and the first ``trunc_normal_`` for about a minute (2-vCPU VM);
``orthogonal_`` and ``sparse_`` add 5-30 s.  :func:`compile_kernels` pays all of it at once,
before the first real call (a Docker image's build step, a CI job's setup), with one worker
process per kernel group.  A group that reuses another's kernels starts after it (``sparse_`` and
``orthogonal_`` fill through ``normal_``'s kernel); ``trunc_normal_`` shares two small kernels with
the fills, which both may compile: the same machine code under the same cache key.  The cache is
keyed by the CPU and by the contents of fastinit's modules, so an image built on another CPU
model, or an edit of fastinit, compiles again.  CUDA kernels are compiled per process by
numba-cuda (nothing on disk) and are not covered.
"""
from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import time
from typing import Callable, NamedTuple, Optional

import numpy as np


def _fills() -> None:
    from . import init

    init.normal_(np.empty(8, np.float32), seed=0)  # the constant, uniform and normal kernel (every dtype inside)


def _trunc_normal() -> None:
    from . import init

    init.trunc_normal_(np.empty(8, np.float32), seed=0)  # every proposal and dtype inside


def _orthogonal() -> None:
    from . import structured

    for dtype in (np.float32, np.float64):  # float16 / bfloat16 compute in float32
        structured.orthogonal_(np.empty((4, 4), dtype), seed=0)


def _sparse() -> None:
    from . import sparsity

    sparsity.sparse_(np.empty((8, 4), np.float32), 0.1, seed=0)  # few zeros: the fill that zeroes as it goes
    sparsity.sparse_(np.empty((8, 4), np.float32), 0.9, seed=0)  # few values: zeros, then a scatter


def _philox() -> None:
    from ._philox import philox4x32

    philox4x32(np.zeros(4, np.uint32), np.zeros(2, np.uint32))


class Group(NamedTuple):
    """The kernels one call reaches, compiled after the groups named in ``after`` (whose kernels it reuses)."""
    name: str
    run: Callable[[], None]
    after: tuple[str, ...] = ()


FILLS = "constant_, uniform_, normal_ and the fan-scaled fills"
# Dependencies before their users; the longest first (times on the 2-vCPU VM, empty cache).
GROUPS = (
    Group("trunc_normal_", _trunc_normal),  # ~55 s
    Group(FILLS, _fills),  # ~20 s
    Group("philox4x32", _philox),  # ~1 s
    Group("sparse_, martens_sparse_", _sparse, after=(FILLS,)),  # ~12 s (its fill goes through the fills' kernels)
    Group("orthogonal_, delta_orthogonal_", _orthogonal, after=(FILLS,)),  # ~5 s (a normal_ fill, then reflectors)
)


class Compiled(NamedTuple):
    """What one group took: ``kernels`` compiled (0: all loaded from the cache) in ``seconds``."""
    name: str
    kernels: int
    seconds: float


def _compile_group(index: int) -> tuple[int, float]:
    """Run group ``index``; (fastinit kernels numba compiled meanwhile, seconds).  Also a worker's task."""
    from numba.core import event
    from numba.core.caching import NullCache

    class Count(event.Listener):  # numba fires "numba:compile" on a cache miss only, not on a load
        kernels = 0

        def on_start(self, ev):  # fastinit's cached kernels (not the overloads typed along the way)
            d = ev.data["dispatcher"]
            if d.py_func.__module__.startswith(__package__ + ".") and not isinstance(d._cache, NullCache):
                self.kernels += 1

        def on_end(self, ev):
            pass

    count = Count()
    event.register("numba:compile", count)
    t0 = time.perf_counter()
    try:
        GROUPS[index].run()
    finally:
        event.unregister("numba:compile", count)
    return count.kernels, time.perf_counter() - t0


def compile_kernels(jobs: Optional[int] = None,
                    report: Optional[Callable[[Compiled], None]] = None) -> list[Compiled]:
    """Compile (or load from numba's cache) every CPU kernel fastinit has, one :data:`GROUPS` entry per
    worker process, ``jobs`` at a time (default: one per group, at most the CPU count; ``jobs=1`` runs them in
    this process).  ``report`` is called with each group's :class:`Compiled` as it finishes; returns them all,
    in :data:`GROUPS` order."""
    if jobs is None:
        jobs = min(len(GROUPS), os.cpu_count() or 1)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    done: dict[int, Compiled] = {}

    def finish(i: int, kernels: int, seconds: float) -> None:
        done[i] = Compiled(GROUPS[i].name, kernels, seconds)
        if report is not None:
            report(done[i])

    if jobs == 1:
        for i in range(len(GROUPS)):
            finish(i, *_compile_group(i))
    else:
        # spawn: a fresh interpreter per worker (forking a process with numba's thread pool up is unsafe)
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(min(jobs, len(GROUPS)), mp_context=ctx) as pool:
            running: dict = {}

            def submit_ready() -> None:
                names = {GROUPS[i].name for i in done}
                for i, g in enumerate(GROUPS):
                    if i not in done and i not in running.values() and names.issuperset(g.after):
                        running[pool.submit(_compile_group, i)] = i

            submit_ready()
            while running:
                finished, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                for f in finished:
                    finish(running.pop(f), *f.result())
                submit_ready()
    return [done[i] for i in range(len(GROUPS))]


def cache_location() -> str:
    """Where numba keeps fastinit's compiled kernels (the folder of the fill kernel's cache files)."""
    from . import _cpu

    impl = getattr(getattr(_cpu.fill, "_cache", None), "_impl", None)
    locator = getattr(impl, "locator", None)
    return locator.get_cache_path() if locator is not None else "numba's default cache folder"
