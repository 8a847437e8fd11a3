"""Layer 7 — ``fastinit compile``: every CPU kernel compiled for this machine now, the groups in parallel.

numba compiles a kernel for the host CPU the first time a process calls it and keeps the machine
code in its on-disk cache (``cache=True``; fastinit's ``__pycache__``, or ``NUMBA_CACHE_DIR``);
later processes load it in tenths of a second.  On an empty cache the first ``normal_`` of an
install compiles for about 11 s and the first ``trunc_normal_`` for about 30 s more (2-vCPU VM,
docs/performance.md); ``orthogonal_`` and ``sparse_`` add 5-15 s.  :func:`compile_kernels` pays all of it at once,
before the first real call (a Docker image's build step, a CI job's setup), with one worker
process per kernel group.  A group that reuses another's kernels starts after it (``sparse_`` and
``orthogonal_`` fill through ``normal_``'s kernel, ``sparse_`` draws with ``philox4x32``);
``trunc_normal_`` shares two small kernels with the fills, which both may compile: the same
machine code under the same cache key.  That is safe because every kernel has one signature
(``_reflectors`` two, in one group; tests/test_precompile.py checks it): two processes writing
*different* signatures of one kernel at once could leave numba's cache index pointing one
signature at the other's code.  The cache is keyed by the CPU and by the contents of fastinit's
modules, so an image built on another CPU model, or an edit of fastinit, compiles again.  Where
the package folder is read-only numba caches in its per-user folder (``~/.cache/numba`` on Linux);
``NUMBA_CACHE_DIR`` must then name the same folder when the kernels run.  numba ignores a cache folder the
running user cannot write to: compile as the user who runs the kernels (or give them the folder).  The CUDA kernels
(:data:`GPU_GROUPS`, ``fastinit compile --gpu``) go to the same folder, built for the GPU this machine has; without
that, a process's first GPU fill of a storage type compiles its kernel and stores it there (``_cuda._compiled``).
"""

import functools
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from typing import Callable, NamedTuple, Optional, Sequence

import numpy as np

__all__ = ["compile_kernels", "default_jobs", "cache_location", "all_cached", "Group", "Compiled", "CompileError",
           "CompileWatch"]


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


def _gpu(kernel: str) -> int:
    """The GPU kernel ``kernel`` (``_cuda.KERNELS``) for every storage type; how many were compiled."""
    from . import _cuda

    return _cuda.compile_kernel(kernel)


class Group(NamedTuple):
    """The kernels one call reaches, compiled after the groups named in ``after`` (whose kernels it reuses).  A
    ``run`` that returns an int says how many kernels it compiled (the GPU groups: numba-cuda's compiles are not
    numba's events, which :class:`CompileWatch` counts)."""
    name: str
    run: Callable[[], Optional[int]]
    after: tuple[str, ...] = ()


FILLS, PHILOX = "constant_, uniform_, normal_ and the fan-scaled fills", "philox4x32"
# Dependencies before their users; the longest first (empty cache, one after another, 2-vCPU AMD EPYC VM).
GROUPS = (
    Group("trunc_normal_", _trunc_normal),  # ~30 s
    Group(FILLS, _fills),  # ~10 s
    Group(PHILOX, _philox),  # ~0.5 s
    Group("sparse_, martens_sparse_", _sparse, after=(FILLS, PHILOX)),  # ~14 s (and the fills' kernels, philox4x32)
    Group("orthogonal_, delta_orthogonal_", _orthogonal, after=(FILLS,)),  # ~5 s (a normal_ fill, then two kernels)
)
# ``fastinit compile --gpu``: each GPU kernel for the four storage types, on the current device (numba-cuda's cache
# keys an entry by the device's compute capability); one group per kernel, whose signatures share a cache index.
GPU_GROUPS = (  # (a partial of a module-level function: picklable, as spawned workers need)
    Group("GPU: trunc_normal_", functools.partial(_gpu, "_fill_trunc")),
    Group("GPU: " + FILLS, functools.partial(_gpu, "_fill")),
    Group("GPU: copies into strided views (orthogonal_, sparse_)", functools.partial(_gpu, "_scatter")),
)


class Compiled(NamedTuple):
    """What one group took: ``kernels`` compiled (0: all loaded from the cache) in ``seconds``."""
    name: str
    kernels: int
    seconds: float


class CompileWatch:
    """While entered: how many of fastinit's cached kernels numba compiled (``kernels``; a cache load is not a
    compile) and the seconds they took (``seconds``, nested compiles counted once); ``first`` is called at the first
    one (e.g. to say why the call takes seconds)."""

    def __init__(self, first: Optional[Callable[[], None]] = None):
        self.first, self.kernels, self.seconds = first, 0, 0.0
        self._depth, self._t0 = 0, 0.0

    def __enter__(self) -> "CompileWatch":
        from numba.core import event
        from numba.core.caching import NullCache

        watch = self

        def ours(ev) -> bool:  # fastinit's cached kernels, not the overloads typed along the way
            d = ev.data["dispatcher"]
            return d.py_func.__module__.startswith(__package__ + ".") and not isinstance(d._cache, NullCache)

        class Listener(event.Listener):  # numba fires "numba:compile" on a cache miss only, not on a load
            def on_start(self, ev):
                if not ours(ev):
                    return
                if watch.kernels == 0 and watch.first is not None:
                    watch.first()
                watch.kernels += 1
                if watch._depth == 0:
                    watch._t0 = time.perf_counter()
                watch._depth += 1

            def on_end(self, ev):
                if ours(ev):
                    watch._depth -= 1
                    if watch._depth == 0:
                        watch.seconds += time.perf_counter() - watch._t0

        self._listener = Listener()
        event.register("numba:compile", self._listener)
        return self

    def __exit__(self, *exc) -> None:
        from numba.core import event

        event.unregister("numba:compile", self._listener)


def _compile_group(group: Group) -> tuple[int, float]:
    """Run ``group``; (fastinit kernels numba compiled meanwhile, seconds).  Also a worker's task."""
    t0 = time.perf_counter()
    with CompileWatch() as watch:
        compiled = group.run() or 0
    return watch.kernels + compiled, time.perf_counter() - t0


def _ready(groups, done: set, started: set) -> list[int]:
    """The groups not started yet whose ``after`` groups are all done, in order."""
    names = {groups[i].name for i in done}
    return [i for i, g in enumerate(groups) if i not in started and names.issuperset(g.after)]


class CompileError(RuntimeError):
    """A group's kernels failed to compile, or its worker process died (the message names the group)."""


def _worker(group: Group, conn, parent: int) -> None:
    """A worker process: compile ``group`` and send ("ok", (kernels, seconds)) or ("error", traceback).
    Ctrl-C is left to the parent (which stops the workers); a watchdog exits when the parent is gone (killed:
    an orphan would go on compiling its group, up to half a minute, for nobody)."""
    import signal
    import traceback

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:  # POSIX; on Windows an orphan stops when it sends its result
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    try:
        message = ("ok", _compile_group(group))
    except Exception as e:
        text = "".join(traceback.format_exception(e))
        if len(text) > ERROR_CHARS:  # the pipe holds 64 KiB: a longer message (numba's can carry LLVM IR) would
            # block this send until the parent reads, and the parent reads once this process has exited
            head, tail = ERROR_CHARS // 4, ERROR_CHARS - ERROR_CHARS // 4  # the frames and the error's first lines,
            text = f"{text[:head]}\n[... {len(text) - ERROR_CHARS:,} characters cut ...]\n{text[-tail:]}"  # its end
        message = ("error", text)
    conn.send(message)
    conn.close()


ERROR_CHARS = 16_000  # the end of a worker's traceback sent back (its last frames and the error)
CPU_MAX = "/sys/fs/cgroup/cpu.max"  # cgroup v2: "QUOTA PERIOD" or "max PERIOD"


def _quota_cpus() -> Optional[int]:
    """The CPUs a cgroup v2 CPU quota allows (``docker --cpus``, a Kubernetes limit), rounded up; None if none."""
    try:
        with open(CPU_MAX) as f:
            quota, period = f.read().split()[:2]
        return None if quota == "max" else max(1, -(-int(quota) // int(period)))
    except (OSError, ValueError):
        return None


def default_jobs(groups: int = len(GROUPS)) -> int:
    """One process per group (of ``groups``), at most the CPUs this process may use: its CPU affinity (a container's
    cpuset) and its cgroup's CPU quota (each compile is single-threaded; more processes than CPUs only add memory)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(groups, cpus, _quota_cpus() or cpus)


def compile_kernels(jobs: Optional[int] = None, report: Optional[Callable[[Compiled], None]] = None,
                    groups: Optional[Sequence[Group]] = None) -> list[Compiled]:
    """Compile (or load from numba's cache) every CPU kernel fastinit has, each of ``groups`` (None:
    :data:`GROUPS`, all of them) in a worker process of its own, ``jobs`` at a time (default :func:`default_jobs`;
    ``jobs=1`` runs them in this process, in order, as does a call with the default groups when
    :func:`all_cached`).  ``report`` is called with each group's :class:`Compiled` as it finishes; returns them
    all, in the order of ``groups``.  RuntimeError where there is nothing to cache into (numba's JIT disabled, no
    writable cache folder); :class:`CompileError` when a group fails or its worker dies (the other workers are
    stopped, as on Ctrl-C).  The workers are spawned: a script calling this needs the
    ``if __name__ == "__main__":`` guard."""
    default = groups is None
    groups = GROUPS if default else tuple(groups)
    if jobs is None:
        jobs = default_jobs(max(len(groups), 1))  # (no groups: nothing to compile, one job's checks)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    from numba.core import config

    if config.DISABLE_JIT:
        raise RuntimeError("numba's JIT is disabled (NUMBA_DISABLE_JIT=1): there is nothing to compile")
    if cache_location() is None:
        raise RuntimeError("numba cannot cache fastinit's kernels here (no writable cache folder): set "
                           "NUMBA_CACHE_DIR to a writable folder, here and where the kernels will run")
    if jobs > 1 and default and all_cached():  # loading takes ~1 s here, starting workers seconds
        jobs = 1
    done: dict[int, Compiled] = {}

    def finish(i: int, kernels: int, seconds: float) -> None:
        done[i] = Compiled(groups[i].name, kernels, seconds)
        if report is not None:
            report(done[i])

    if jobs == 1:
        for i, group in enumerate(groups):
            try:
                result = _compile_group(group)
            except Exception as e:
                raise CompileError(f"compiling the kernels of {group.name} failed: {e!r}") from e
            finish(i, *result)
        return [done[i] for i in range(len(groups))]
    # spawn: a fresh interpreter per worker (forking a process with numba's thread pool up is unsafe)
    ctx = multiprocessing.get_context("spawn")
    running: dict = {}  # process sentinel -> (group, process, the end its result arrives at)
    started: set[int] = set()
    try:
        while len(done) < len(groups):
            for i in _ready(groups, set(done), started)[:max(0, jobs - len(running))]:
                receive, send = ctx.Pipe(duplex=False)
                process = ctx.Process(target=_worker, args=(groups[i], send, os.getpid()), daemon=True)
                process.start()
                send.close()
                running[process.sentinel] = i, process, receive
                started.add(i)
            if not running:
                raise ValueError(f"groups {[g.name for i, g in enumerate(groups) if i not in done]} wait for "
                                 "groups that never run")
            for sentinel in multiprocessing.connection.wait(list(running), timeout=0.5):  # timed: Ctrl-C is seen
                i, process, receive = running.pop(sentinel)
                try:
                    message = receive.recv() if receive.poll() else None
                except EOFError:  # the worker died before sending (its end closed: poll() saw the EOF)
                    message = None
                process.join()
                if message is None:
                    raise CompileError(f"the worker compiling the kernels of {groups[i].name} died (exit code "
                                       f"{process.exitcode}: killed, out of memory?)")
                if message[0] == "error":
                    raise CompileError(f"compiling the kernels of {groups[i].name} failed:\n{message[1]}")
                finish(i, *message[1])
    finally:  # after an error or an interrupt too: no worker left compiling
        for _, process, _ in running.values():
            process.terminate()
        for _, process, _ in running.values():
            process.join()
    return [done[i] for i in range(len(groups))]


KERNEL_MODULES = ("_cpu", "_philox", "linalg", "sparsity")  # the modules that define fastinit's cached kernels


def all_cached() -> bool:
    """Whether numba's cache holds every cached kernel of fastinit for this CPU and these sources (at least one
    signature each), read from the cache indexes without loading a kernel.  Then :func:`compile_kernels` loads
    them in its own process (about a second) instead of starting workers (seconds).  numba's private cache API:
    False wherever it is not as expected."""
    import importlib

    try:
        from numba.core.caching import FunctionCache
        from numba.core.registry import CPUDispatcher

        kernels = {id(d): d for name in KERNEL_MODULES for d in vars(importlib.import_module(f"{__package__}.{name}"))
                   .values() if isinstance(d, CPUDispatcher) and isinstance(d._cache, FunctionCache)}
        for d in kernels.values():
            codegen = d.targetctx.codegen()
            keys = d._cache._cache_file._load_index()  # {} for another source stamp, or no index
            if not any(k[1:] == d._cache._index_key(k[0], codegen)[1:] for k in keys):
                return False
        return bool(kernels)
    except Exception:  # numba's internals changed: start the workers, as without this check
        return False


def cache_location() -> Optional[str]:
    """The folder where numba keeps fastinit's compiled kernels; None where it cannot cache them."""
    from . import _cpu

    locator = getattr(getattr(getattr(_cpu.fill, "_cache", None), "_impl", None), "locator", None)
    return None if locator is None else locator.get_cache_path()
