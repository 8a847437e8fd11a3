"""Thread safety: fastinit called from many Python threads at once gives exactly the values of the same
calls made one after another, and the shared default generator never hands two calls the same seed.

Each fill holds ``fastinit._cpu.KERNEL_LOCK`` around its parallel kernel (numba's workqueue layer must not
be entered twice); seeds come from ``Generator.next_seed`` under the generator's own lock."""
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import ml_dtypes
import numpy as np
import pytest

import fastinit
from fastinit import _seed

THREADS = 8
CALLS = {  # name -> (shape, dtype, fill(out, seed)); sizes above one 65536-element chunk run in parallel
    "uniform_": ((300, 301), np.float32, lambda out, **kw: fastinit.uniform_(out, -1.0, 1.0, **kw)),
    "normal_": ((257, 509), ml_dtypes.bfloat16, lambda out, **kw: fastinit.normal_(out, 0.0, 0.02, **kw)),
    "trunc_normal_": ((70_001,), np.float64, lambda out, **kw: fastinit.trunc_normal_(out, 0.0, 1.0, -0.5, 2.0, **kw)),
    "kaiming_uniform_": ((64, 3, 5, 5), np.float16, lambda out, **kw: fastinit.kaiming_uniform_(out, **kw)),
    "xavier_normal_": ((128, 96), np.float32, lambda out, **kw: fastinit.xavier_normal_(out, **kw)),
    "sparse_": ((200, 150), np.float32, lambda out, **kw: fastinit.sparse_(out, 0.3, **kw)),
    "orthogonal_": ((40, 24), np.float64, lambda out, **kw: fastinit.orthogonal_(out, **kw)),
    "shard": ((100, 33), np.float32, lambda out, **kw: fastinit.normal_(out, global_shape=(300, 99), offset=(100, 33),
                                                                         **kw)),
}


def _run(name, **kw):
    shape, dtype, fill = CALLS[name]
    return fill(np.empty(shape, dtype), **kw)


def _jobs():
    """Every initializer with the same seed in several threads and with different seeds in others."""
    return [(name, seed, stream) for name in CALLS for seed in (7, 7, 8, 2**63 + 1) for stream in (0, "w")]


def test_concurrent_calls_equal_serial_calls():
    jobs = _jobs()
    serial = [_run(name, seed=seed, stream=stream) for name, seed, stream in jobs]
    start = threading.Barrier(THREADS)

    def work(k):
        start.wait()  # all threads enter fastinit together
        return [(i, _run(jobs[i][0], seed=jobs[i][1], stream=jobs[i][2])) for i in range(k, len(jobs), THREADS)]

    with ThreadPoolExecutor(THREADS) as pool:
        results = [r for part in pool.map(work, range(THREADS)) for r in part]
    assert sorted(i for i, _ in results) == list(range(len(jobs)))
    for i, got in results:
        assert got.tobytes() == serial[i].tobytes(), f"{jobs[i]} differs when called concurrently"


class _Recorder:
    """Wraps a generator's ``next_seed`` to record, per thread, every seed it hands out."""

    def __init__(self, gen):
        self.gen, self.local, self.all, self.lock = gen, threading.local(), [], threading.Lock()
        self.draw = gen.next_seed

    def __call__(self):
        s = self.draw()
        self.local.last = s
        with self.lock:
            self.all.append(s)
        return s


@pytest.mark.parametrize("shared", ["default", "explicit"])
def test_unseeded_calls_under_contention_draw_unique_seeds_and_match_their_seeded_twin(monkeypatch, shared):
    gen = fastinit.default_generator if shared == "default" else fastinit.Generator(1234)
    gen.manual_seed(99)
    rec = _Recorder(gen)
    monkeypatch.setattr(gen, "next_seed", rec)
    names = sorted(CALLS)
    per_thread = 12
    start = threading.Barrier(THREADS)

    def work(t):
        start.wait()
        out = []
        for j in range(per_thread):
            name = names[(t + j) % len(names)]
            kw = {} if shared == "default" else {"generator": gen}
            values = _run(name, stream=f"t{t}", **kw)
            out.append((name, t, rec.local.last, values))
        return out

    with ThreadPoolExecutor(THREADS) as pool:
        results = [r for part in pool.map(work, range(THREADS)) for r in part]
    seeds = [s for _, _, s, _ in results]
    assert len(seeds) == len(set(seeds)) == THREADS * per_thread == len(rec.all)
    # exactly the first N seeds of the generator's sequence, in some interleaving
    assert set(seeds) == set(_first_seeds(99, len(seeds)))
    for name, t, s, values in results:  # each unseeded call equals the same call with the seed it drew
        assert values.tobytes() == _run(name, seed=s, stream=f"t{t}").tobytes(), name


def _first_seeds(seed, n):
    g = fastinit.Generator(seed)
    return [g.next_seed() for _ in range(n)]


def test_default_generator_hands_out_distinct_seeds_to_many_threads():
    fastinit.manual_seed(5)
    drawn, lock = [], threading.Lock()
    start = threading.Barrier(THREADS)

    def work():
        start.wait()
        mine = [_seed.resolve_seed(None) for _ in range(3000)]
        with lock:
            drawn.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(drawn) == len(set(drawn)) == 3000 * THREADS
    assert set(drawn) == set(_first_seeds(5, 3000 * THREADS))


def test_concurrent_calls_under_numbas_workqueue_layer():
    """numba's workqueue layer (its fallback where neither OpenMP nor TBB is installed) aborts the
    process when two threads enter parallel code at once: every parallel kernel must hold the lock."""
    code = ("import sys, numba\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "import test_threads\n"
            "test_threads.test_concurrent_calls_equal_serial_calls()\n"
            "print(numba.threading_layer())\n")
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue"}
    r = subprocess.run([sys.executable, "-c", code, os.path.dirname(__file__)], env=env, capture_output=True,
                       text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert r.stdout.split()[-1] == "workqueue"


FORK_CHILD = r"""
import copy, os, sys, threading, numba, numpy as np, fastinit
from fastinit import _cpu

layer = sys.argv[1]
want = fastinit.normal_(np.empty(200_000, np.float32), seed=3, stream="w").tobytes()  # the layer is up
want += b"".join(fastinit.orthogonal_(np.empty((40, 24), dt), seed=5).tobytes() for dt in (np.float32, np.float64))
busy = threading.Thread(target=_cpu.KERNEL_LOCK.acquire)  # another thread holds the kernel lock at the fork
busy.start(); busy.join()
unseeded = fastinit.Generator()
for case in ("entropy", "manual"):
    if case == "manual":
        fastinit.manual_seed(7)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a fill of its own (serial kernels after OpenMP), seeds
        os.close(r)
        out = fastinit.normal_(np.empty(200_000, np.float32), seed=3, stream="w")
        out = np.concatenate([out.view(np.uint8)] + [fastinit.orthogonal_(np.empty((40, 24), dt), seed=5).view(
            np.uint8).ravel() for dt in (np.float32, np.float64)])
        seeds = np.array([fastinit.default_generator.next_seed(), unseeded.next_seed()], np.uint64)
        os.write(w, out.tobytes() + seeds.tobytes() + bytes([_cpu.SERIAL_ONLY]))
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 1 << 20):
        data += chunk
    _, status = os.waitpid(pid, 0)
    seeds = np.frombuffer(data[len(want):len(want) + 16], np.uint64)
    parents = [copy.deepcopy(g).next_seed() for g in (fastinit.default_generator, unseeded)]  # what it would draw
    print(case, os.waitstatus_to_exitcode(status), data[:len(want)] == want, data[-1],
          int(seeds[0]) == parents[0], int(seeds[1]) == parents[1])
print(numba.threading_layer())
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork: POSIX")
@pytest.mark.parametrize("layer", ["default", "workqueue"])
def test_a_forked_child_fills_after_its_parent_did(layer):
    """A DataLoader worker or a fork pool after the parent filled: under GNU OpenMP (numba's default layer where
    TBB is not installed) a parallel launch killed the child (SIGTERM); now its kernels run serially, same values.
    A lock another thread held at the fork does not block the child.  Unless manual_seed was called, the child's
    default generator is reseeded (as Python's random), so pool workers do not repeat the parent's seeds; a
    generator of the program's own (and a manually seeded default) goes on with the parent's sequence."""
    env = {**os.environ, "NUMBA_THREADING_LAYER": layer}
    r = subprocess.run([sys.executable, "-W", "ignore::DeprecationWarning", "-c", FORK_CHILD, layer], env=env,
                       capture_output=True, text=True, timeout=900, check=False)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    lines = r.stdout.strip().split("\n")
    serial = int(lines[-1] == "omp")  # the layer the parent ran
    assert lines[-3:-1] == [f"entropy 0 True {serial} False True", f"manual 0 True {serial} True True"], r.stdout


TORCH_PARENT = r"""
import faulthandler, os, sys, numpy as np, torch
late = sys.argv[1] == "late"  # fastinit first imported by the child, after the fork: no at-fork hook of its ran
if not late:
    import fastinit
x = torch.randn(1000, 1000); (x @ x).sum(); torch.randn(10**6).exp_()  # torch's OpenMP team is up, numba's layer not
def fill():
    import fastinit
    from fastinit import _cpu
    out = fastinit.normal_(np.empty(300_000, np.float32), seed=3, stream="w")
    return int(out.view(np.uint32).sum(dtype=np.uint64)), _cpu.SERIAL_ONLY, _cpu._forked_with_gnu_openmp()
pid = os.fork()
if pid == 0:  # a DataLoader worker's first fill: it hung in GOMP_parallel (a review; with a late import, session (q))
    faulthandler.dump_traceback_later(120, exit=True)
    os.write(1, ("child %d %s %s\n" % fill()).encode())
    os._exit(0)
_, status = os.waitpid(pid, 0)
print("parent %d %s %s" % fill(), os.waitstatus_to_exitcode(status), flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "fork") or not os.path.exists("/proc/self/maps"), reason="os.fork, Linux")
@pytest.mark.parametrize("imported", ["early", "late"])
@pytest.mark.parametrize("env", [{}, {"NUMBA_THREADING_LAYER_PRIORITY": "workqueue omp tbb"}])
def test_a_child_forked_after_torchs_openmp_work_fills_serially(env, imported):
    """torch's GNU OpenMP (loaded globally: numba's omp layer calls it) ran a parallel region in the parent, which
    had not filled: the forked child's first parallel fill hung.  Its kernels now run serially where numba takes its
    omp layer, the parent's values; the parent's stay parallel.  Where numba's priority puts workqueue first (its
    choice as the child starts the layer) the child stays parallel, same values.  A child that imports fastinit
    only after the fork (``late``: fastinit's at-fork hook never ran; it hung) is known by its parent running the
    same executable with the same libgomp mapping; the parent, started anew by this test, is not."""
    pytest.importorskip("torch")
    r = subprocess.run([sys.executable, "-W", "ignore::DeprecationWarning", "-c", TORCH_PARENT, imported],
                       env={**os.environ, **env}, capture_output=True, text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    lines = r.stdout.strip().split("\n")
    assert len(lines) == 2, r.stdout + r.stderr[-3000:]  # (a hung child: faulthandler's traceback, no line of its own)
    child, parent = (line.split() for line in lines)
    assert child[0] == "child" and parent[0] == "parent" and child[1] == parent[1], r.stdout
    serial = str(not env)  # (the default priority: omp before workqueue, and no TBB in CI)
    assert child[2:] == [serial, "True"] and parent[2:] == ["False", "False", "0"], r.stdout  # (serial only there)


FORKSERVER_CHILD = r"""
import multiprocessing as mp
def child():
    import torch
    from fastinit import _cpu
    return _cpu._forked_with_gnu_openmp(), bool(_cpu._gnu_openmp_maps())
if __name__ == "__main__":
    with mp.get_context("forkserver").Pool(1) as pool:
        print(*pool.apply(child))
"""


@pytest.mark.skipif(not hasattr(os, "fork") or not os.path.exists("/proc/self/maps"), reason="os.fork, Linux")
def test_a_fork_servers_child_that_loads_torch_itself_stays_parallel(tmp_path):
    """The start method docs/buffers.md advises for parallel fills in workers: a fork server's child runs the
    server's program, but its libgomp is its own (loaded after the fork), so it is not taken for a forked child."""
    pytest.importorskip("torch")
    script = tmp_path / "server.py"
    script.write_text(FORKSERVER_CHILD)
    r = subprocess.run([sys.executable, "-W", "ignore::DeprecationWarning", str(script)], capture_output=True,
                       text=True, timeout=600, check=False)
    assert r.returncode == 0 and r.stdout.split() == ["False", "True"], r.stdout[-2000:] + r.stderr[-2000:]


def test_forked_children_decide_serial_kernels_by_the_layer_numba_takes(monkeypatch):
    """The child's rule: serial after GNU OpenMP started by numba at the fork; numba's layer not up and a libgomp
    loaded, serial only if the layer numba takes as the child starts it is its omp layer (not TBB, not workqueue:
    NUMBA_THREADING_LAYER / _PRIORITY are numba's to read); a fresh kernel lock either way."""
    import io

    import numba

    from fastinit import _cpu

    taken = []

    def layer():
        if not taken:
            raise ValueError("not started")
        return taken[0]

    monkeypatch.setattr(numba, "threading_layer", layer)
    monkeypatch.setattr(_cpu, "KERNEL_LOCK", _cpu.KERNEL_LOCK)  # (put back after the test)
    for maps, name, serial in [(True, "omp", True), (True, "workqueue", False), (True, "tbb", False),
                               (False, "omp", False)]:
        lines = "7f00 r-xp 00000000 /usr/lib/x86_64-linux-gnu/" + ("libgomp.so.1\n" if maps else "libc.so.6\n")
        monkeypatch.setattr(_cpu, "SERIAL_ONLY", False)
        monkeypatch.setattr(_cpu, "_GOMP_AT_FORK", False)
        monkeypatch.setattr(_cpu, "open", lambda *a, text=lines, **k: io.StringIO(text), raising=False)
        taken.clear()
        lock = _cpu.KERNEL_LOCK
        _cpu._after_fork_in_child()
        assert _cpu.SERIAL_ONLY is False and _cpu._GOMP_AT_FORK is maps and _cpu.KERNEL_LOCK is not lock
        taken.append(name)
        _cpu._start_threads()
        assert _cpu.SERIAL_ONLY is serial, (maps, name)
        _cpu._after_fork_in_child()  # (a fork after numba's layer is up: its omp layer alone decides, then and there)
        assert _cpu.SERIAL_ONLY is (name == "omp"), (maps, name)


BLAS_HANDLER = r"""
import faulthandler, signal, sys, numpy as np, fastinit, fastinit.linalg as linalg
faulthandler.dump_traceback_later(120, exit=True)
shape = (1500, 1500)  # (blocked: BLAS-3 products whose bits depend on BLAS's thread count)
want = fastinit.orthogonal_(np.empty(shape, np.float32), seed=1).tobytes()
before = [lib.get_num_threads() for lib in linalg._blas()]
got = []
def handler(signum, frame):  # a checkpoint's fill; the BLAS counts it ran under
    bits = fastinit.orthogonal_(np.empty(shape, np.float32), seed=1).tobytes()
    got.append((bits, [lib.get_num_threads() for lib in linalg._blas()]))
signal.signal(signal.SIGUSR1, handler)
set_threads, fired = linalg._set_threads, []
def raising(lib, count):  # the signal arrives while _one_blas_thread sets a BLAS library's count, under its lock
    if sys.argv[1] == "after":
        set_threads(lib, count)
    if not fired:
        fired.append(1)
        signal.raise_signal(signal.SIGUSR1)
    if sys.argv[1] == "before":  # (the count not set yet: the handler's call must set it)
        set_threads(lib, count)
linalg._set_threads = raising
main = fastinit.orthogonal_(np.empty(shape, np.float32), seed=1).tobytes()
linalg._set_threads = set_threads
print(len(fired), len(got), got[0][0] == want, set(got[0][1]), main == want, linalg._blas_held,
      [lib.get_num_threads() for lib in linalg._blas()] == before)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="SIGUSR1: POSIX")
@pytest.mark.parametrize("when", ["after", "before"])
def test_a_handler_filling_orthogonal_while_its_thread_sets_blas_threads_does_not_deadlock(when):
    """A review: _one_blas_thread's lock was a plain one, and a signal handler's orthogonal_ (a checkpoint on
    SIGUSR1) on the thread that held it while setting a BLAS library's thread count waited for itself forever.
    Re-entrant now, as the kernel lock; a second review: a handler arriving before the count was set ran on BLAS not
    yet limited (other bits), so it finishes the limits itself.  Both fills give the matrix, on one BLAS thread, and
    the counts are left as they were."""
    from fastinit import linalg

    if not [lib for lib in linalg._blas() if not linalg._per_thread(lib)]:
        pytest.skip("no process-wide BLAS limit to set")
    r = subprocess.run([sys.executable, "-c", BLAS_HANDLER, when], capture_output=True, text=True, timeout=600,
                       check=False)
    assert r.returncode == 0 and r.stdout.split("\n")[0] == "1 1 True {1} True [0, None, False] True", \
        r.stdout + r.stderr[-3000:]


def test_a_fill_inside_a_fill_on_the_same_thread_does_not_deadlock():
    """A signal handler (a checkpoint on SIGUSR1, a timer) that fills runs on the thread that holds the kernel
    lock between two kernel calls of a large fill: the lock is re-entrant."""
    from fastinit import _cpu

    with _cpu.KERNEL_LOCK:
        out = fastinit.uniform_(np.empty(200_000, np.float32), seed=2)
    assert np.array_equal(out, fastinit.uniform_(np.empty(200_000, np.float32), seed=2))


def test_serial_twins_only_after_gnu_openmp_and_never_without_the_jit(monkeypatch):
    """numba terminates a forked child at its first parallel launch after GNU OpenMP only (Intel's is fork-safe);
    with NUMBA_DISABLE_JIT the kernels are Python functions, their own twins."""
    import numba
    from numba.np.ufunc import omppool

    from fastinit import _cpu, _jit

    monkeypatch.setattr(numba, "threading_layer", lambda: "omp")
    monkeypatch.setattr(omppool, "openmp_vendor", "GNU", raising=False)
    assert _cpu._omp_started()
    monkeypatch.setattr(omppool, "openmp_vendor", "Intel")
    assert not _cpu._omp_started()
    monkeypatch.setattr(numba, "threading_layer", lambda: "workqueue")
    assert not _cpu._omp_started()

    def plain(x):
        return x

    assert _jit.serial_twin(plain) is plain
    twin = _jit.serial_twin(_cpu.fill, "_x")
    assert twin.py_func.__name__ == "fill_serial_x" and twin is _jit.serial_twin(_cpu.fill, "_x")


TORCH_THREADS = r"""
import os, sys, numpy as np
order = sys.argv[1]
if order != "numba_first":
    import torch
    torch.get_num_threads()  # torch's OpenMP is up (any torch op would do)
    if order == "set":
        torch.set_num_threads(1)
import fastinit, fastinit.torch, numba
fastinit.normal_(np.empty(10, np.float32), seed=0)  # on the calling thread: starts numba's layer
fastinit.torch.kaiming_uniform_(torch.empty(64, 64)) if order != "numba_first" else None
fastinit.normal_(np.empty(1 << 20, np.float32), seed=0)  # on every thread
import torch
print(torch.get_num_threads(), numba.get_num_threads(), numba.threading_layer())
"""


@pytest.mark.parametrize("order", ["torch_first", "set", "numba_first"])
def test_fills_leave_torchs_thread_count_alone(order):
    """numba's OpenMP layer, started by the first fill, set the OpenMP runtime's default thread count to numba's
    (torch's own libgomp, which torch loads globally, or the one both share): torch.set_num_threads(1) and
    OMP_NUM_THREADS=1 (torchrun's default) became 2 for the rest of the process (a review).  torch's count is
    kept; numba's stays its own."""
    pytest.importorskip("torch")
    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    if order != "set":
        env["OMP_NUM_THREADS"] = "1"
    r = subprocess.run([sys.executable, "-W", "ignore::DeprecationWarning", "-c", TORCH_THREADS, order], env=env,
                       capture_output=True, text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    torch_threads, numba_threads, _ = r.stdout.split()
    assert (torch_threads, numba_threads) == ("1", "2"), r.stdout
