"""`fastinit compile`: every kernel a public call reaches is compiled (or loaded) by the groups, in order."""
import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import types
import warnings

import pytest

import fastinit
from fastinit import precompile
from fastinit.cli import main

# Runs the groups in a fresh process, then public calls of every initializer, dtype and layout: none may
# reach a kernel signature the groups did not (loading from the cache adds a dispatcher's signature too).
_COVERAGE = textwrap.dedent("""
    import json, numpy as np, fastinit, importlib, pkgutil
    from numba.core.registry import CPUDispatcher
    from fastinit import precompile
    precompile.compile_kernels(jobs=1)
    kernels = {f"{m.__name__}.{k}": v for m in (importlib.import_module("fastinit." + i.name)
               for i in pkgutil.iter_modules(fastinit.__path__) if i.name not in ("jax", "__main__"))
               for k, v in vars(m).items() if isinstance(v, CPUDispatcher)}
    before = {k: set(v.signatures) for k, v in kernels.items()}
    for dt in ("float16", "bfloat16", "float32", "float64"):
        fastinit.uniform((8, 12), a=-1, b=1, dtype=dt); fastinit.normal((8, 12), dtype=dt)
        fastinit.constant((3, 4), val=0.5, dtype=dt); fastinit.zeros((5,), dtype=dt); fastinit.eye((3, 5), dtype=dt)
        fastinit.dirac((4, 2, 3, 3), dtype=dt); fastinit.he_normal((8, 12), dtype=dt)
        for a, b in ((-2.0, 2.0), (0.0, 0.01), (3.0, 9.0), (-9.0, -3.0)):  # normal, uniform, exponential proposals
            fastinit.trunc_normal((8, 12), a=a, b=b, dtype=dt)
        fastinit.orthogonal((6, 4), dtype=dt); fastinit.orthogonal((4, 6), dtype=dt)
        fastinit.delta_orthogonal((3, 3, 4, 4), dtype=dt)
        fastinit.sparse((10, 6), sparsity=0.1, dtype=dt); fastinit.sparse((10, 6), sparsity=0.9, dtype=dt)
        fastinit.martens_sparse((20, 6), k=3, dtype=dt)
        strided = fastinit.normal_(np.empty((8, 12), np.dtype(dt) if dt != "bfloat16" else np.float32)[:, ::3])
        fastinit.trunc_normal_(np.empty((12, 8), np.float32).T); fastinit.uniform_(np.empty((4, 8))[::2, 1:])
    fastinit.philox4x32(np.zeros(4, np.uint32), np.zeros(2, np.uint32))
    fastinit.philox4x32(np.zeros((3, 4), np.uint32), [1, 2]); fastinit.philox4x32(np.zeros((5, 4), np.uint64), [1, 2])
    new = {k: sorted(map(str, set(v.signatures) - before[k])) for k, v in kernels.items()}
    from numba.core.caching import FunctionCache
    signatures = {k: len({key[0] for key in v._cache._cache_file._load_index()}) for k, v in kernels.items()
                  if isinstance(v._cache, FunctionCache)}  # key[0]: the signature (the key also names the CPU)
    print(json.dumps({"new": {k: v for k, v in new.items() if v}, "signatures": signatures}))
""")


@pytest.fixture(scope="module")
def coverage():
    from numba.core.caching import FunctionCache

    from fastinit import _cpu
    if not isinstance(_cpu.fill._cache, FunctionCache) or not hasattr(_cpu.fill._cache, "_cache_file"):
        pytest.skip("reads numba's cache index (private; numba changed, or no cache folder)")
    out = subprocess.run([sys.executable, "-c", _COVERAGE], capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_groups_reach_every_kernel_of_every_public_call(coverage):
    assert coverage["new"] == {}


def test_every_kernel_has_one_signature_so_parallel_groups_cannot_mix_cache_entries(coverage):
    """Two worker processes writing different signatures of one kernel at once can leave numba's cache index
    pointing one signature at the other's machine code; with one signature each, concurrent writes are the
    same entry.  _reflectors (float32, float64) is reached by the orthogonal_ group alone."""
    counts = coverage["signatures"]
    assert counts.pop("fastinit.linalg._reflectors") == 2
    assert len(counts) >= 18 and set(counts.values()) == {1}, counts


def test_groups_come_after_the_groups_they_reuse_and_name_only_known_groups():
    names = [g.name for g in precompile.GROUPS]
    for i, g in enumerate(precompile.GROUPS):
        assert set(g.after) <= set(names[:i]), g  # jobs=1 runs them in this order


def test_no_groups_compile_nothing_and_bad_jobs_are_named():
    assert precompile.compile_kernels(groups=[]) == []  # (it had said "jobs must be a positive int, got 0")
    with pytest.raises(ValueError, match="jobs must be a positive int, got 0"):
        precompile.compile_kernels(jobs=0, groups=[])


def test_ready_starts_a_group_only_after_the_groups_it_names():
    g = precompile.Group
    groups = (g("a", None), g("b", None, after=("a",)), g("c", None), g("d", None, after=("b", "c")))
    assert precompile._ready(groups, set(), set()) == [0, 2]
    assert precompile._ready(groups, {2}, {0, 2}) == []
    assert precompile._ready(groups, {0}, {0, 2}) == [1]
    assert precompile._ready(groups, {0, 1}, {0, 1, 2}) == []
    assert precompile._ready(groups, {0, 1, 2}, {0, 1, 2}) == [3]


def test_parallel_workers_report_every_group_after_its_dependencies():
    order = []
    got = precompile.compile_kernels(jobs=2, report=lambda c: order.append(c.name))
    assert [c.name for c in got] == [g.name for g in precompile.GROUPS] and sorted(order) == sorted(c.name for c in got)
    for g in precompile.GROUPS:
        for dep in g.after:
            assert order.index(dep) < order.index(g.name)
    assert all(c.kernels >= 0 and c.seconds >= 0 for c in got)


def _child(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **env})


@pytest.mark.filterwarnings("ignore:the kernels' cache")  # (CI runs as root: the test below)
def test_cli_compile_reports_each_group_and_a_new_process_loads_them(capsys):
    assert main(["compile", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert precompile.cache_location() in out and "kernels compiled in" in out
    for g in precompile.GROUPS:
        assert g.name in out
    again = _child("import sys; from fastinit.cli import main; sys.exit(main(['compile', '--jobs', '1', '--json']))")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert [g["name"] for g in report["groups"]] == [g.name for g in precompile.GROUPS] and report["jobs"] == 1
    assert all(g["kernels"] == 0 for g in report["groups"])  # all loaded from the disk cache


@pytest.mark.parametrize("uid, others_write", [(0, False), (0, True), (1000, False)])
def test_compiling_as_root_warns_that_another_users_processes_cannot_read_the_cache(uid, others_write, monkeypatch):
    """numba reads a cache folder only where the running user can write: a Docker build step's root compile is
    not used by the image's USER (they compiled again, 20 s a process, silently: a review, 2026-12-06 (f)); a folder
    every user may write is not warned of."""
    precompile.compile_kernels(jobs=1)  # (warm: the command then loads in this process)
    where = precompile.cache_location()
    mode = os.stat(where).st_mode
    monkeypatch.setattr(os, "geteuid", lambda: uid)
    try:
        os.chmod(where, mode | 0o002 if others_write else mode & ~0o002)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            assert main(["compile", "--jobs", "1"]) == 0
    finally:
        os.chmod(where, mode)
    said = [str(w.message) for w in seen if "the kernels' cache" in str(w.message)]
    assert len(said) == (uid == 0 and not others_write) and all("NUMBA_CACHE_DIR" in m for m in said)


@pytest.mark.filterwarnings("ignore:the kernels' cache")  # (CI runs as root: the test below)
def test_a_warm_cache_is_loaded_in_process_and_an_empty_one_is_not_called_warm(tmp_path, monkeypatch, capsys):
    precompile.compile_kernels(jobs=1)  # everything in the cache (loads in ~1 s when it already is)
    assert precompile.all_cached()
    philox = [g.name for g in precompile.GROUPS].index(precompile.PHILOX)
    partial = _child(f"from fastinit import precompile; precompile._compile_group(precompile.GROUPS[{philox}]); "
                     "print(precompile.all_cached())", NUMBA_CACHE_DIR=str(tmp_path))  # one group cached: not all
    assert partial.returncode == 0 and partial.stdout.split() == ["False"], partial.stderr
    seen = []
    monkeypatch.setattr(precompile, "_compile_group", lambda g: seen.append(g.name) or (0, 0.0))
    monkeypatch.setattr(precompile.multiprocessing, "get_context", lambda *a: pytest.fail("workers started"))
    assert len(precompile.compile_kernels(jobs=2)) == len(precompile.GROUPS) and len(seen) == len(precompile.GROUPS)
    assert main(["compile", "--jobs", "2"]) == 0
    assert "groups in 1 process (all in the cache already)" in capsys.readouterr().out
    monkeypatch.setattr(precompile, "all_cached", lambda: False)  # else the workers start: the flag is read
    with pytest.raises(pytest.fail.Exception, match="workers started"):
        precompile.compile_kernels(jobs=2)


def test_an_empty_cache_counts_what_a_group_compiles(tmp_path):
    i = [g.name for g in precompile.GROUPS].index(precompile.PHILOX)
    code = f"from fastinit import precompile; print(precompile._compile_group(precompile.GROUPS[{i}])[0])"
    first = _child(code, NUMBA_CACHE_DIR=str(tmp_path))
    assert first.returncode == 0 and first.stdout.split() == ["1"], first.stderr  # _philox_many
    second = _child(code, NUMBA_CACHE_DIR=str(tmp_path))
    assert second.returncode == 0 and second.stdout.split() == ["0"], second.stderr


def test_compile_gpu_without_a_gpu_is_refused_before_any_compile(monkeypatch, capsys):
    pytest.importorskip("numba_cuda")
    from fastinit import _cuda

    if _cuda.cuda.is_available():
        pytest.skip("a GPU is here: the refusal needs a machine without one")
    monkeypatch.setattr(precompile, "compile_kernels", lambda *a, **k: pytest.fail("compiled"))
    assert main(["compile", "--gpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fastinit compile --gpu: error: no CUDA GPU here") and "the GPU they will run on" in err


# The GPU groups of `fastinit compile --gpu`, with the GPU stood in: which kernels each makes ready (storage codes,
# device) and what it reports compiled (_scatter: float16 and bfloat16 share its uint16 kernel).
_GPU_COMPILE = textwrap.dedent("""
    import json, types
    from fastinit import _cuda, precompile
    from fastinit.cli import main
    ready, kernels = [], {}
    _cuda.require_gpu = lambda: None
    _cuda.cuda = types.SimpleNamespace(get_current_device=lambda: types.SimpleNamespace(id=3))
    _cuda._ready = lambda fn, code, ordinal: ready.append([fn.__name__, code, ordinal])
    _cuda._kernel = lambda fn, code: kernels.setdefault((fn.__name__, _cuda._signature(code, fn)),
                                                        types.SimpleNamespace(stats=types.SimpleNamespace(
                                                            cache_misses={"sig": 1})))
    rc = main(["compile", "--gpu", "--jobs", "1", "--json"])
    print("@@", json.dumps({"rc": rc, "ready": ready}))
""")


def test_compile_gpu_makes_every_gpu_kernel_ready_for_every_storage_type():
    pytest.importorskip("numba_cuda")
    from fastinit import _cuda

    out = _child(_GPU_COMPILE)
    assert out.returncode == 0, out.stderr[-3000:]
    text, tail = out.stdout.split("@@")
    result, report = json.loads(tail), json.loads(text)
    codes = list(_cuda._STORAGE)
    assert result == {"rc": 0, "ready": [[name, c, 3] for name in ("_fill_trunc", "_fill", "_scatter") for c in codes]}
    gpu = report["groups"][len(precompile.GROUPS):]
    assert [(g["name"], g["kernels"]) for g in gpu] == [(g.name, n) for g, n in zip(precompile.GPU_GROUPS, (4, 4, 3))]


def test_nothing_to_compile_with_numbas_jit_disabled():
    out = _child("import sys; from fastinit.cli import main; sys.exit(main(['compile']))", NUMBA_DISABLE_JIT="1")
    assert out.returncode == 2 and "numba's JIT is disabled (NUMBA_DISABLE_JIT=1)" in out.stderr, out.stderr


def test_without_a_writable_cache_folder_fastinit_imports_warns_and_compile_refuses():
    """numba refuses cache=True at decoration where no locator applies (a read-only package folder and home):
    the kernels are then compiled per process, with one warning, and `fastinit compile` says what to set."""
    out = _child(textwrap.dedent("""
        import sys, warnings
        from numba.core import caching
        warnings.simplefilter("always")
        caching.CacheImpl._locator_classes = []
        with warnings.catch_warnings(record=True) as seen:
            import fastinit
        print(sum("numba cannot cache fastinit's compiled kernels here" in str(w.message) for w in seen))
        print(fastinit.philox4x32([0, 0, 0, 0], [0, 0]).tolist())
        from fastinit import _jit, precompile
        print(precompile.cache_location(), len(_jit.UNCACHED) > 10)
        from fastinit.cli import main
        sys.exit(main(["compile"]))
    """))
    lines = out.stdout.split("\n")
    assert out.returncode == 2 and "set NUMBA_CACHE_DIR to a writable folder" in out.stderr, out.stderr
    assert lines[0] == "1" and lines[2] == "None True"
    assert lines[1] == str(fastinit.philox4x32([0, 0, 0, 0], [0, 0]).tolist())


def _processes_with(marker: str) -> list[int]:
    """Live processes whose environment holds ``marker`` (Linux /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if marker.encode() in f.read():
                    pids.append(int(entry))
        except (OSError, ValueError):
            continue
    return pids


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_compile_leaves_no_worker_behind(tmp_path, how):
    """SIGTERM (timeout, docker stop) stops the workers and exits 130; after SIGKILL the orphaned workers see
    their parent gone and exit within a second or so (they would otherwise go on compiling, up to a minute).
    Checked without a clock: once they are gone, trunc_normal_'s kernel (tens of seconds to compile; numba
    writes its cache index when it is done) is not in the cache folder, as it would be had its worker gone on."""
    marker = f"FASTINIT_TEST_MARKER_{os.getpid()}_{how}"
    proc = subprocess.Popen([sys.executable, "-m", "fastinit", "compile", "--jobs", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), marker: "1"})
    first = proc.stdout.readline()  # the first line: the workers are starting, compiling into (the cache folder)
    assert f" into {tmp_path}" in first, first
    deadline = time.monotonic() + 120
    while len(_processes_with(marker)) < 3 and time.monotonic() < deadline:  # the command and two workers
        time.sleep(0.2)
    time.sleep(2)  # compiling now
    proc.send_signal(how)
    rc = proc.wait(timeout=60)
    err = proc.stderr.read()
    if how == signal.SIGTERM:
        assert rc == 130 and "fastinit compile: interrupted" in err, (rc, err)
    deadline = time.monotonic() + 300  # a hang guard: the watchdog looks every 0.5 s
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _processes_with(marker) == []
    assert not list(tmp_path.rglob("_cpu.fill_trunc-*.nbi")), "a worker went on compiling trunc_normal_'s kernel"


@pytest.mark.parametrize("jobs", [0, -2])
def test_cli_compile_refuses_non_positive_jobs(jobs, capsys):
    assert main(["compile", "--jobs", str(jobs)]) == 2
    assert f"--jobs must be >= 1, got {jobs}" in capsys.readouterr().err


@pytest.mark.parametrize("jobs", [0, 1.5, True, "2"])
def test_compile_kernels_refuses_bad_jobs(jobs):
    with pytest.raises(ValueError, match="jobs must be a positive int"):
        precompile.compile_kernels(jobs)


# Groups for the scheduler's own tests: plain functions (spawned workers import them from this module).
def _first():
    with open(os.environ["FASTINIT_TEST_MARK"], "w") as f:
        f.write("done")


def _second():
    with open(os.environ["FASTINIT_TEST_MARK"]) as f:  # fails if started before _first finished
        assert f.read() == "done"


def _fills_nothing():
    pass


def _dies():
    os._exit(7)


def _fails():
    raise ValueError("a kernel that does not type")


def _fails_at_length():
    raise ValueError("LLVM IR dump:\n" + "x" * 200_000 + "\nthe end of a long error")


def test_workers_run_a_group_after_the_group_it_names(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTINIT_TEST_MARK", str(tmp_path / "mark"))
    g = precompile.Group
    groups = (g("second", _second, after=("first",)), g("first", _first), g("other", _fills_nothing))
    got = precompile.compile_kernels(jobs=3, groups=groups)
    assert [c.name for c in got] == ["second", "first", "other"] and all(c.kernels == 0 for c in got)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failing_group_is_named_with_its_traceback(jobs):
    groups = (precompile.Group("fine", _fills_nothing), precompile.Group("broken", _fails))
    with pytest.raises(precompile.CompileError, match="compiling the kernels of broken failed") as e:
        precompile.compile_kernels(jobs=jobs, groups=groups)
    assert "a kernel that does not type" in str(e.value)


def test_a_failure_with_a_message_longer_than_the_pipe_is_an_error_not_a_hang():
    """A worker's send blocks while its message exceeds the pipe's buffer (64 KiB), and the parent reads once
    the worker has exited: the traceback's end is sent, within the buffer."""
    groups = (precompile.Group("long", _fails_at_length),)
    t0 = time.perf_counter()
    with pytest.raises(precompile.CompileError, match="compiling the kernels of long failed") as e:
        precompile.compile_kernels(jobs=2, groups=groups)
    assert time.perf_counter() - t0 < 60
    assert "characters cut" in str(e.value) and str(e.value).rstrip().endswith("the end of a long error")
    assert "ValueError: LLVM IR dump:" in str(e.value) and "_fails_at_length" in str(e.value)  # type, frames
    assert len(str(e.value)) < precompile.ERROR_CHARS + 200


def test_a_worker_that_dies_is_an_error_not_a_hang():
    groups = (precompile.Group("fine", _fills_nothing), precompile.Group("killed", _dies))
    with pytest.raises(precompile.CompileError, match=r"compiling the kernels of killed died \(exit code 7"):
        precompile.compile_kernels(jobs=2, groups=groups)


@pytest.mark.parametrize("text, cpus", [("150000 100000\n", 2), ("100000 100000", 1), ("50000 100000", 1),
                                        ("max 100000\n", None), ("", None), ("garbage here", None)])
def test_a_cgroup_cpu_quota_bounds_the_default_job_count(tmp_path, monkeypatch, text, cpus):
    path = tmp_path / "cpu.max"
    path.write_text(text)
    monkeypatch.setattr(precompile, "CPU_MAX", str(path))
    assert precompile._quota_cpus() == cpus
    assert 1 <= precompile.default_jobs() <= min(len(precompile.GROUPS), cpus or len(precompile.GROUPS))
    monkeypatch.setattr(precompile, "CPU_MAX", str(tmp_path / "missing"))
    assert precompile._quota_cpus() is None


def test_compile_watch_counts_fastinit_kernels_nested_once_and_announces_the_first():
    """numba's "numba:compile" events (a cache miss; the real ones: test_an_empty_cache_counts_what_a_group_compiles)
    for fastinit's cached kernels, nested or not, counted; another function's not; ``first`` called once."""
    import numba
    from numba.core import event

    from fastinit import _cpu, _philox

    other = numba.njit(lambda x: x)
    announced = []
    with precompile.CompileWatch(first=lambda: announced.append(True)) as watch:
        with event.trigger_event("numba:compile", data={"dispatcher": _cpu.fill}):
            with event.trigger_event("numba:compile", data={"dispatcher": _philox._philox_many}):
                time.sleep(0.01)
        with event.trigger_event("numba:compile", data={"dispatcher": other}):
            time.sleep(0.05)
    with event.trigger_event("numba:compile", data={"dispatcher": _cpu.fill}):  # after the watch: not seen
        pass
    assert watch.kernels == 2 and announced == [True] and 0.01 <= watch.seconds < 0.05


def test_cli_commands_say_when_they_compile_and_how_long_it_took(monkeypatch, tmp_path, capsys):
    from numba.core import event

    from fastinit import _cpu, io
    from fastinit.cli import COMPILING, main

    real = io._write_file  # (what write_safetensors and write_checkpoint write each file with)

    def compiling_first(*args, **kwargs):
        with event.trigger_event("numba:compile", data={"dispatcher": _cpu.fill}):
            pass
        return real(*args, **kwargs)

    monkeypatch.setattr(io, "_write_file", compiling_first)
    assert main(["init", "--arch", "mlp-mnist", "--out", str(tmp_path / "m.safetensors"), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert COMPILING in err and " s of it compiling 1 kernel, once for this machine)" in out
    monkeypatch.setattr(io, "_write_file", real)
    assert main(["init", "--arch", "mlp-mnist", "--out", str(tmp_path / "m.safetensors"), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert COMPILING not in err and "compiling" not in out


def test_all_cached_is_false_for_a_cache_built_for_another_cpu():
    precompile.compile_kernels(jobs=1)  # everything in the cache for this CPU (a load when it already is)
    assert precompile.all_cached()
    env = dict(os.environ, NUMBA_CPU_NAME="generic")
    out = subprocess.run([sys.executable, "-c", "from fastinit import precompile; print(precompile.all_cached())"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.split() == ["False"], out.stderr


def test_all_cached_is_false_when_there_are_no_cached_kernels():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    out = subprocess.run([sys.executable, "-c", "from fastinit import precompile; print(precompile.all_cached())"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.split() == ["False"], out.stderr


_LOADED = """
import importlib, json, pkgutil, sys, fastinit
from numba.core.registry import CPUDispatcher
from fastinit import precompile
precompile.GROUPS[int(sys.argv[1])].run()
mods = [importlib.import_module("fastinit." + m.name) for m in pkgutil.iter_modules(fastinit.__path__)
        if m.name not in ("jax", "torch", "dask", "__main__")]
print(json.dumps(sorted({f"{m.__name__}.{k}" for m in mods for k, v in vars(m).items()
                         if isinstance(v, CPUDispatcher) and v.signatures})))
"""


def test_groups_sharing_a_kernel_are_ordered_by_after():
    precompile.compile_kernels(jobs=1)  # warm: each child below loads, never compiles
    loaded = {}
    children = [subprocess.Popen([sys.executable, "-c", _LOADED, str(i)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for i in range(len(precompile.GROUPS))]
    try:
        for g, child in zip(precompile.GROUPS, children):  # (all at once: each is mostly imports)
            out, err = child.communicate(timeout=300)
            assert child.returncode == 0, err
            loaded[g.name] = set(json.loads(out.splitlines()[-1]))
            assert loaded[g.name], g.name
    finally:
        for child in children:  # (a failed one's siblings: not left running)
            child.kill()
            child.wait()
    after = {g.name: set(g.after) for g in precompile.GROUPS}
    for a, b in itertools.combinations(loaded, 2):
        shared = loaded[a] & loaded[b]
        if shared and not (b in after[a] or a in after[b]):  # both after a group that has them is fine too
            common = set().union(*(loaded[c] for c in after[a] & after[b]))
            assert shared <= common, (a, b, sorted(shared - common))


def test_compile_watch_times_nested_compiles_once_on_a_stubbed_clock(monkeypatch):
    """Outer compile from t=0 to t=3, a nested one from 1 to 2: 3 s, not 3 + 2."""
    from numba.core import event

    from fastinit import _cpu, _philox

    clock = [0.0]
    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])
    with precompile.CompileWatch() as watch:
        with event.trigger_event("numba:compile", data={"dispatcher": _cpu.fill}):  # from 0
            clock[0] = 1.0
            with event.trigger_event("numba:compile", data={"dispatcher": _philox._philox_many}):  # 1 to 2
                clock[0] = 2.0
            clock[0] = 3.0
    assert watch.kernels == 2 and watch.seconds == 3.0


def test_compile_watch_does_not_count_fastinits_uncached_functions():
    """A fastinit function numba does not cache (NullCache: compiled in every process) is not what compile builds."""
    from numba.core import event
    from numba.core.caching import NullCache

    uncached = types.SimpleNamespace(py_func=types.SimpleNamespace(__module__="fastinit._cpu"), _cache=NullCache())
    with precompile.CompileWatch() as watch:
        with event.trigger_event("numba:compile", data={"dispatcher": uncached}):
            pass
    assert watch.kernels == 0


def test_workers_ignore_ctrl_c_which_the_parent_handles():
    """Ctrl-C reaches the whole process group: a worker leaves it to the parent (which stops them), rather than
    dying with a KeyboardInterrupt traceback of its own."""
    out = _child(textwrap.dedent("""
        import multiprocessing, os, signal
        from fastinit import precompile
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal (a background job ignores it)
        receive, send = multiprocessing.Pipe(duplex=False)
        group = precompile.Group("g", lambda: print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN))
        precompile._worker(group, send, os.getppid())
        print(receive.recv()[0])
    """))
    assert out.returncode == 0 and out.stdout.split() == ["True", "ok"], out.stderr


def test_default_jobs_is_bounded_by_the_affinity_and_the_quota(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(precompile, "CPU_MAX", str(tmp_path / "missing"))
    assert precompile.default_jobs(5) == 3  # the affinity mask (a cpuset), not the machine's 64
    (tmp_path / "cpu.max").write_text("200000 100000\n")
    monkeypatch.setattr(precompile, "CPU_MAX", str(tmp_path / "cpu.max"))
    assert precompile.default_jobs(5) == 2  # the quota: 2 CPUs


_RAN_IN: list = []


def _note_pid():
    _RAN_IN.append(os.getpid())


def test_one_group_by_default_jobs_runs_in_this_process(monkeypatch, tmp_path):
    """jobs defaults to at most one per group: a single group needs no worker (whatever the CPU count)."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(precompile, "CPU_MAX", str(tmp_path / "missing"))
    _RAN_IN.clear()
    got = precompile.compile_kernels(groups=[precompile.Group("one", _note_pid)])
    assert [c.name for c in got] == ["one"] and _RAN_IN == [os.getpid()]


def test_at_most_jobs_workers_run_at_once(monkeypatch):
    real, running = precompile.multiprocessing.connection.wait, []

    def wait(objects, timeout=None):
        running.append(len(objects))
        return real(objects, timeout=timeout)
    monkeypatch.setattr(precompile.multiprocessing.connection, "wait", wait)
    groups = [precompile.Group(name, _fills_nothing) for name in ("a", "b", "c")]
    assert [c.name for c in precompile.compile_kernels(jobs=2, groups=groups)] == ["a", "b", "c"]
    assert running and max(running) == 2


def test_groups_waiting_on_a_group_that_never_runs_are_refused_not_a_hang():
    code = textwrap.dedent("""
        from fastinit import precompile
        def nothing():
            pass
        groups = (precompile.Group("lost", nothing, after=("missing",)),)
        try:
            precompile.compile_kernels(jobs=2, groups=groups)
        except ValueError as e:
            print(e)
    """)
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("compile_kernels waited for a group that never runs")
    assert "groups ['lost'] wait for groups that never run" in out.stdout, out.stderr


def test_all_cached_takes_a_kernel_cached_for_this_cpu_beside_another_cpus(tmp_path):
    """numba's index keeps one entry per CPU (a cache folder shared by two machines, or copied): this CPU's is
    enough.  philox4x32's kernel, compiled for a generic CPU, then for this one, in one cache folder."""
    i = [g.name for g in precompile.GROUPS].index(precompile.PHILOX)
    compile_philox = f"from fastinit import precompile; precompile._compile_group(precompile.GROUPS[{i}])"
    for cpu in ({"NUMBA_CPU_NAME": "generic"}, {}):
        env = {"NUMBA_CACHE_DIR": str(tmp_path), **cpu}
        done = _child(compile_philox, **env)
        assert done.returncode == 0, done.stderr
    out = _child("from fastinit import precompile; precompile.KERNEL_MODULES = ('_philox',); "
                 "print(precompile.all_cached())", NUMBA_CACHE_DIR=str(tmp_path))
    assert out.returncode == 0 and out.stdout.split() == ["True"], out.stderr
