"""`fastinit bench` and the CLI conventions: JSON that parses, every requested row, clean refusals, exit codes."""
import builtins
import json
import math
import os
import re
import subprocess
import sys
import time
import types

import ml_dtypes
import numpy as np
import pytest

import fastinit
from fastinit import benchmark
from fastinit.cli import main

SMALL = ["--size", "2e4", "--matrix", "48", "--repeat", "1", "--no-progress"]


def _json(capsys, argv):
    assert main(["bench", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("text, n", [("1e8", 10**8), ("1E7", 10**7), ("100M", 10**8), ("2.5k", 2500),
                                     ("10_000", 10**4), ("1G", 10**9), ("7", 7),
                                     ("123456789012345678", 123456789012345678),  # (exact: it had gone through a
                                     ("9223372036854775807", 2**63 - 1)])  # float, ...680: a review, 2026-12-06 (f))
def test_size_accepts_exponent_and_suffix_forms(text, n):
    assert benchmark.parse_size(text) == n


@pytest.mark.parametrize("text", ["1.5", "0", "-3", "abc", "1e-2", "5T", "_", "_k", "9223372036854775808", "1e999",
                                  "1e99999999", "9.00000000000000000000000000000000001"])  # (decimal's Overflow; 28
# digits of its default context: a review, 2026-12-06 (f))
def test_size_refuses_non_counts(text):
    with pytest.raises(ValueError, match="size must"):
        benchmark.parse_size(text)


def test_bench_json_has_one_row_per_initializer_and_dtype(capsys):
    report = _json(capsys, [*SMALL, "--only", "uniform_,normal", "--only", "sparse_", "--dtype", "float32",
                            "--dtype", "bf16,float64", "--against", "numpy", "--no-probes"])
    rows = {(r["initializer"], r["dtype"]): r for r in report["results"]}
    assert set(rows) == {(n, d) for n in ("uniform_", "normal_", "sparse_") for d in ("float32", "bfloat16", "float64")}
    for (name, _), r in rows.items():
        assert r["elements"] == (48 * 48 if name == "sparse_" else 20_000)
        assert r["seconds"] > 0 and r["memset_seconds"] > 0
        assert r["elements_per_s"] == pytest.approx(r["elements"] / r["seconds"])
        assert r["memset_fraction"] == pytest.approx(r["memset_seconds"] / r["seconds"])
        numpy = r["others"]["numpy"]
        assert numpy["speedup"] == pytest.approx(numpy["seconds"] / r["seconds"])
        assert r["first_call_s"] is None and r["rss_overhead_mib"] is None
    assert report["contestants"] == ["numpy"] and report["machine"]["numba_threads"] >= 1
    assert "load_average_at_start" in report["machine"] and "last_level_cache_bytes" in report["machine"]


def test_bench_json_says_how_many_calls_timed_each_contestant(capsys, monkeypatch):
    """A contestant whose call passes CONTESTANT_BUDGET_S is timed once after its warm-up, one whose first call
    passes COLD_S by that call ("cold": its first-call cost included; it had been so from 1 s, a slow warm-up
    inflating the speed-up): the JSON says so per entry, the table lists it, so a single sample is not read as a
    best of --repeat."""
    argv = ["--size", "2e4", "--repeat", "3", "--no-progress", "--only", "uniform_", "--against", "numpy",
            "--no-probes"]
    calls = []
    real = benchmark.contestant_fill

    def counted(*args):
        fn = real(*args)
        return lambda: (calls.append(1), fn())

    monkeypatch.setattr(benchmark, "contestant_fill", counted)
    (row,) = _json(capsys, argv)["results"]
    assert row["others"]["numpy"]["timed_calls"] == 3 and not row["others"]["numpy"]["cold"] and len(calls) == 4
    monkeypatch.setattr(benchmark, "CONTESTANT_BUDGET_S", 0.0)
    calls.clear()
    (row,) = _json(capsys, argv)["results"]
    assert row["others"]["numpy"]["timed_calls"] == 1 and not row["others"]["numpy"]["cold"] and len(calls) == 2
    assert main(["bench", *argv]) == 0
    out = capsys.readouterr().out
    assert "contestants timed fewer than 3 times after their warm-up" in out
    assert "numpy uniform_ float32: 1 call" in out
    monkeypatch.setattr(benchmark, "COLD_S", 0.0)
    calls.clear()
    (row,) = _json(capsys, argv)["results"]
    assert row["others"]["numpy"]["timed_calls"] == 1 and row["others"]["numpy"]["cold"] and len(calls) == 1
    assert main(["bench", *argv]) == 0
    assert "numpy uniform_ float32: its first call" in capsys.readouterr().out


def test_numpy_16bit_contestant_allocates_its_scratch_before_the_timing():
    """Its float32 draws go into a scratch allocated (and paged in) by contestant_fill: allocated in each timed call,
    it cost NumPy 10-17% at 1e7 float16 in the review."""
    import tracemalloc

    buf = np.zeros(10**5, np.float16)
    fn = benchmark.contestant_fill("numpy", "uniform_", buf)
    tracemalloc.start()
    try:
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < buf.size  # a float32 scratch would be 4 bytes an element


def test_bench_probes_first_call_and_rss_in_a_fresh_process(capsys):
    report = _json(capsys, [*SMALL, "--only", "normal_", "--against", "none"])
    (row,) = report["results"]
    assert row["others"] == {}
    # measured in the probe's fresh process (benchmark.probe's 600 s subprocess timeout is the hang guard)
    assert isinstance(row["first_call_s"], float) and 0 < row["first_call_s"] < math.inf
    assert 0 <= row["rss_overhead_mib"] < 64  # the kernel's scratch is KiB per thread, not a copy of the buffer


def test_bench_probe_of_constant_loads_its_kernel_before_measuring():
    """constant_ fills up to SERIAL_ELEMENTS with ndarray.fill, never loading its kernel: a small warm-up left
    the kernel's cache load (~47 MiB of RSS, a quarter second) inside the measured fill."""
    from fastinit import benchmark

    measured = benchmark.probe("constant_", "float32", (10**6,))
    assert measured["rss_overhead_mib"] < 8


def test_bench_probe_of_orthogonal_warms_up_on_the_measured_shape():
    """A 64x64 warm-up took the level-2 path, which uses no BLAS: SciPy's import and the blocked path's first use
    (~16 MiB of RSS at 1024²) landed inside the measured fill instead of the first call."""
    measured = benchmark.probe("orthogonal_", "float32", (512, 512))
    assert measured["rss_overhead_mib"] < 8


def test_memset_zeroes_contiguous_and_strided_buffers():
    from fastinit import benchmark

    a = np.full((64, 48), 3.0, np.float32)
    benchmark.memset(a)
    assert (a == 0).all()
    b = np.full((64, 48), 3.0)
    benchmark.memset(b[:, ::2])
    assert (b[:, ::2] == 0).all() and (b[:, 1::2] == 3).all()


def test_memset_runs_on_the_threads_of_the_fill(monkeypatch):
    """One C memset per slice, on as many threads as a fastinit fill of the buffer (numba's count; one for a small
    buffer, which fastinit fills on the calling thread): every byte zeroed once, slices of whole 4 KiB."""
    import ctypes
    import threading

    import numba

    from fastinit import _cpu

    calls, real = [], ctypes.memset

    def recorded(addr, value, nbytes):
        calls.append((addr, nbytes, threading.current_thread().name))
        return real(addr, value, nbytes)

    monkeypatch.setattr(ctypes, "memset", recorded)
    big = np.full(_cpu.SERIAL_ELEMENTS * 3 + 5, 3.0, np.float32)  # not a whole number of pages
    assert benchmark.memset_threads(big) == numba.get_num_threads()
    threads = 3  # as on a 3-core machine, whatever this one has
    monkeypatch.setattr(_cpu, "threads_for", lambda work: 1 if work <= _cpu.SERIAL_ELEMENTS else threads)
    benchmark.memset(big)
    assert (big == 0).all() and len(calls) == threads
    calls.sort()
    step = calls[0][1]
    assert [a - big.ctypes.data for a, _, _ in calls] == [i * step for i in range(threads)] and step % 4096 == 0
    assert sum(n for _, n, _ in calls) == big.nbytes
    assert calls[0][2] == threading.current_thread().name  # the first slice here, the others on the helpers
    assert all(name.startswith("fastinit-memset") for _, _, name in calls[1:])
    calls.clear()
    small = np.full(_cpu.SERIAL_ELEMENTS, 3.0, np.float32)
    assert benchmark.memset_threads(small) == 1
    benchmark.memset(small)
    assert (small == 0).all() and len(calls) == 1
    assert benchmark.memset_threads(np.empty((64, 4096))[:, ::2]) == 1  # not one block: ndarray.fill


def test_bench_table_names_every_contestant_and_row(capsys):
    assert main(["bench", *SMALL, "--only", "uniform_,orthogonal_", "--against", "numpy", "--no-probes"]) == 0
    out = capsys.readouterr().out
    assert "x memset" in out and "numpy" in out and "uniform_" in out and "orthogonal_" in out
    assert "s in all" in out


def test_bench_against_torch_and_jax_when_installed(capsys):
    pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    x64 = jax.config.jax_enable_x64
    report = _json(capsys, [*SMALL, "--only", "trunc_normal_,sparse_", "--against", "torch,jax", "--no-probes"])
    rows = {r["initializer"]: r for r in report["results"]}
    assert rows["trunc_normal_"]["others"]["torch"]["speedup"] > 0
    assert rows["trunc_normal_"]["others"]["jax"]["speedup"] > 0
    assert "jax" not in rows["sparse_"]["others"]  # JAX has no sparse initializer: no column, no error
    assert report["machine"]["torch_threads"] == report["machine"]["numba_threads"]
    assert jax.config.jax_enable_x64 == x64  # float64 mode only for the run


def test_contestant_setup_aligns_threads_and_float64_then_restores():
    """torch on numba's threads and JAX's float64 mode (without it a float64 row times a float32 array) inside,
    both as they were after; what fastinit bench and bench/test_matrix.py time contestants in."""
    torch = pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    import numba

    before, x64 = torch.get_num_threads(), jax.config.jax_enable_x64
    torch.set_num_threads(numba.get_num_threads() + 1)
    try:
        with benchmark.contestant_setup() as threads:
            assert threads == {"numba_threads": numba.get_num_threads(), "torch_threads": numba.get_num_threads()}
            assert benchmark.contestant_fill("jax", "normal_", np.zeros(8))().dtype == np.float64
        assert torch.get_num_threads() == numba.get_num_threads() + 1 and jax.config.jax_enable_x64 == x64
    finally:
        torch.set_num_threads(before)


def test_bench_fails_when_the_timed_fill_writes_nothing(capsys, monkeypatch):
    """A kernel that writes nothing would be the fastest row (4968 x memset in the review): the NaN sentinels
    planted before the last timed call are still there, the command exits 1 with the reason and prints no table."""
    from fastinit import init

    monkeypatch.setattr(init, "uniform_", lambda out, *args, **kwargs: out)
    assert main(["bench", *SMALL, "--only", "uniform_", "--against", "none", "--no-probes"]) == 1
    out, err = capsys.readouterr()
    assert not out and err.startswith("fastinit bench: error: the timed uniform_ fill of float32 (20000,) left 256 of ")
    assert "NaN sentinels: it did not write (all of) its buffer" in err


def test_bench_fails_when_the_timed_fill_writes_another_law(capsys, monkeypatch):
    from fastinit import init

    normal = init.normal_
    monkeypatch.setattr(init, "uniform_", lambda out, *args, seed=None, **kwargs: normal(out, seed=seed))
    assert main(["bench", *SMALL, "--only", "uniform_", "--against", "none", "--no-probes"]) == 1
    assert "uniform_ fill of float32 (20000,) wrote values off its law: values in [-" in capsys.readouterr().err


@pytest.mark.parametrize("dtype", benchmark.DTYPES)
@pytest.mark.parametrize("name", benchmark.INITIALIZERS)
def test_fill_check_passes_the_fill_and_fails_a_wrong_or_missing_one(name, dtype):
    from fastinit._buffers import resolve_dtype

    buf = np.empty(benchmark.case_shape(name, 20_000, 48), resolve_dtype(dtype))
    fill, check = benchmark.fastinit_fill(name, buf), benchmark.FillCheck.for_case(name, buf)
    with pytest.raises(benchmark.FillCheckError, match="no sentinel was planted"):
        check.verify()
    fill()
    check.plant()
    fill()
    check.verify()
    check.plant()  # a fill that writes nothing
    with pytest.raises(benchmark.FillCheckError, match="NaN sentinels"):
        check.verify()
    check.plant()
    buf[...] = 3.0  # a fill that writes garbage: a value of no law checked here
    with pytest.raises(benchmark.FillCheckError, match="off its law"):
        check.verify()


def test_sentinels_go_in_before_the_last_timed_call_only():
    buf = np.zeros(1000)
    check = benchmark.FillCheck(buf, "constant", value=0.0)
    seen = []
    benchmark.best_of(lambda: seen.append(int(np.isnan(buf).sum())), repeat=3, before_last=check.plant)
    assert seen == [0, 0, 0, check.spots.size]  # warm-up, two timed calls, the last one after the planting
    buf[...] = 0.0
    setup, seen = check.planter(3), []  # pytest-benchmark's setup: before each call (warm-up, two rounds)
    for _ in range(3):
        setup()
        seen.append(int(np.isnan(buf).sum()))
    assert seen == [0, 0, check.spots.size] and check.spots.size > 200
    with pytest.raises(ValueError, match="no budget"):
        benchmark.best_of(lambda: None, repeat=3, budget=1.0, before_last=check.plant)


def test_bench_device_cuda_without_numba_cuda_names_the_extra(monkeypatch):
    """numba itself still ships a deprecated numba.cuda: the reason must come from numba_cuda's absence (it was
    "No module named 'numba.cuda.core'")."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "numba_cuda" else real(name, *a))
    assert benchmark.cuda_unavailable_reason() == "GPU bench needs numba-cuda: pip install 'fastinit[cuda]'"


def test_bench_device_cuda_without_a_gpu_exits_2(capsys):
    if benchmark.cuda_unavailable_reason() is None:
        pytest.skip("a GPU and fastinit's CUDA path are available here")
    assert main(["bench", "--device", "cuda", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--device cuda" in err and ("GPU" in err or "CUDA" in err)


@pytest.mark.parametrize("argv, msg", [
    (["--only", "xavier_normal_"], "unknown initializer(s) in --only ['xavier_normal_']"),
    (["--only", "normal,nope"], "unknown initializer(s) in --only ['nope']"),
    (["--dtype", "int8"], "unknown --dtype ['int8']"),
    (["--against", "tensorflow"], "unknown --against ['tensorflow']"),
    (["--repeat", "0"], "--repeat must be >= 1"),
    (["--only", ","], "initializer(s) in --only names nothing"), (["--dtype", ","], "--dtype names nothing"),
])
def test_bench_bad_values_exit_2_with_the_reason(capsys, argv, msg):
    assert main(["bench", *SMALL, "--no-probes", *argv]) == 2
    assert msg in capsys.readouterr().err


def test_bench_unparseable_size_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["bench", "--size", "lots"])
    assert e.value.code == 2 and "size must look like" in capsys.readouterr().err


@pytest.mark.parametrize("command, flag", [("bench", "--full"), ("check", "--alpha"), ("variance", "--png"),
                                           ("init", "--arch"), ("fill", "--numel"),
                                           ("compile", "--jobs")])
def test_every_subcommand_has_help_with_examples(command, flag):
    out = subprocess.run([sys.executable, "-m", "fastinit", command, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and flag in out.stdout and f"examples:\n  fastinit {command}" in out.stdout


@pytest.mark.parametrize("argv, said", [(["--against", "none,numpy"], "--against none stands alone"),
                                        (["--dtype", "int8"], r"unknown --dtype \['int8'\]; choose from"),
                                        (["--dtype", "float32,bogus"], r"unknown --dtype \['bogus'\]")])
def test_bench_flag_refusals_name_the_flag(capsys, argv, said):
    """(a review, 2026-12-06 (f): none beside a contestant was "unknown --against ['none']"; a dtype bench does not
    take was said without its flag)"""
    assert main(["bench", "--size", "1000", *argv]) == 2
    assert re.search(said, capsys.readouterr().err)


def test_against_none_with_a_trailing_comma_is_none(capsys):
    assert main(["bench", "--size", "1000", "--only", "uniform_", "--against", "none,", "--no-probes", "--repeat",
                 "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["contestants"] == []


def test_contestants_not_installed_are_named_in_the_report(monkeypatch):
    """--against jax without jax: left out, and said so (it had been dropped silently: a review, 2026-12-06 (f))."""
    real = benchmark.installed
    monkeypatch.setattr(benchmark, "installed", lambda name: name != "jax" and real(name))
    report = benchmark.run_bench(["uniform_"], size=1000, matrix=16, repeat=1, against=["numpy", "jax"],
                                 probes=False, show_progress=False)
    assert report["contestants"] == ["numpy"] and report["not_installed"] == ["jax"]
    assert "not installed, not timed: jax" in benchmark.format_table(report)


def test_no_subcommand_is_a_usage_error_and_version_works():
    out = subprocess.run([sys.executable, "-m", "fastinit"], capture_output=True, text=True)
    assert out.returncode == 2 and "bench" in out.stderr
    version = subprocess.run([sys.executable, "-m", "fastinit", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.split() == ["fastinit", fastinit.__version__]
    from importlib import metadata
    try:  # (the package's metadata takes its version from fastinit.__version__: one place)
        assert metadata.version("fastinit") == fastinit.__version__
    except metadata.PackageNotFoundError:  # (run from a checkout that was never installed)
        pass


def test_bench_device_cuda_refuses_the_simulator():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    out = subprocess.run([sys.executable, "-m", "fastinit", "bench", "--device", "cuda", "--no-progress"],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 2 and "simulator" in out.stderr and not out.stdout


def test_best_of_counts_warmups_and_stops_at_the_budget():
    calls = []

    def fn():
        calls.append(1)

    assert benchmark.best_of(fn, repeat=4) >= 0 and len(calls) == 5  # one warm-up, four timed
    calls.clear()
    benchmark.best_of(fn, repeat=4, budget=0.0)
    assert len(calls) == 2  # the first timed call spends the whole budget


def test_bench_on_the_gpu_lists_what_it_does_not_time():
    """--device cuda times the elementwise kernels on numba device arrays; the rest (host-computed initializers,
    the fan-scaled ones, bfloat16, which numba device arrays lack) is listed in the report, not silently dropped."""
    cases, skipped = benchmark.gpu_cases(benchmark.INITIALIZERS, ["float32", "bf16"])
    assert cases == [(n, "float32") for n in ("constant_", "uniform_", "normal_", "trunc_normal_")]
    assert [s.split()[0] for s in skipped] == ["xavier_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
                                               "bfloat16"]
    report = {"machine": {"cpu": "x", "cpus": 1, "numba_threads": 1, "versions": {}}, "repeat": 1,
              "contestants": [], "results": [], "skipped": skipped}
    assert "not measured on the GPU:\n  xavier_uniform_ (a uniform_ / normal_ fill" in benchmark.format_table(report)


def test_bench_table_says_which_threads_each_contestant_ran_on():
    """torch runs on numba's threads (contestant_setup), NumPy's generators on one; XLA's CPU pool is JAX's own
    choice, which the header says rather than leave it to be read as numba's."""
    report = {"machine": {"cpu": "x", "cpus": 2, "numba_threads": 2, "versions": {}}, "repeat": 1,
              "contestants": ["numpy", "jax"], "results": []}
    head = benchmark.format_table(report).splitlines()[0]
    assert "numba 2 threads, NumPy's generators 1, JAX on XLA's own pool (not set)" in head
    report["contestants"] = ["numpy"]
    assert "XLA" not in benchmark.format_table(report)


def test_bench_table_says_when_buffers_fit_in_the_cache_or_the_machine_was_busy():
    """A buffer smaller than the last-level cache may stay in it: memset (the ceiling) runs at cache speed there, and
    a fill can pass it (x memset 1.8 at 1e6 on the 2-vCPU VM, a review); a busy machine stalls a fill's threads more
    than memset's.  The table says both, from the machine's facts in the report (also in its JSON)."""
    def row(elements, dtype):
        return {"initializer": "uniform_", "dtype": dtype, "elements": elements, "seconds": 1e-3,
                "elements_per_s": elements / 1e-3, "memset_seconds": 1e-3, "memset_fraction": 1.0, "others": {},
                "first_call_s": None, "rss_overhead_mib": None}

    machine = {"cpu": "x", "cpus": 2, "numba_threads": 2, "versions": {}, "last_level_cache_bytes": 32 << 20,
               "load_average_at_start": 0.2}
    report = {"machine": machine, "repeat": 1, "contestants": ["numpy"],
              "results": [row(10**6, "float32"), row(10**7, "float32"), row(10**7, "bfloat16")]}
    table = benchmark.format_table(report)
    assert "NumPy's generators 1; load average 0.20 at the start" in table
    assert "2 of 3 buffers are smaller than the CPU's last-level cache (32 MiB" in table  # 4 and 20 MB, not 40 MB
    assert "(--size above 8.39 M for float32)" in table and "load average 0.20 when" not in table
    machine.update(last_level_cache_bytes=None, load_average_at_start=1.5)  # from half the CPUs: 1 of 2
    table = benchmark.format_table(report)
    assert "last-level cache" not in table and "load average 1.50 on 2 CPUs when the bench started" in table
    machine.update(cpus=16)  # 1.5 of 16 CPUs: no warning
    assert "when the bench started" not in benchmark.format_table(report)
    assert "last_level_cache_bytes" in benchmark.machine_info()


@pytest.mark.parametrize("n", [1000, 4099])
@pytest.mark.parametrize("missed", ["first", "last"])
def test_fill_check_catches_a_fill_that_misses_one_end_element(n, missed):
    buf = np.empty(n, np.float32)
    check = benchmark.FillCheck(buf, "uniform", a=0.0, b=1.0)
    check.plant()
    part = buf[1:] if missed == "first" else buf[:-1]
    fastinit.uniform_(part, 0.0, 1.0, seed=1)  # every element but one end
    with pytest.raises(benchmark.FillCheckError, match=r"left 1 of \d+ NaN sentinels"):
        check.verify()
    check.plant()
    fastinit.uniform_(buf, 0.0, 1.0, seed=1)  # the whole buffer: passes
    check.verify()


def _checked(buf, law, fill, **params):
    check = benchmark.FillCheck(buf, law, **params)
    check.plant()
    fill(buf)
    return check


def test_fill_check_refuses_a_few_values_below_the_lower_bound():
    def fill(buf):
        fastinit.uniform_(buf, 0.0, 1.0, seed=2)
        buf[::100] = -0.01  # 1% just below a: mean and std still within 0.1 std
    check = _checked(np.empty(10_000, np.float32), "uniform", fill, a=0.0, b=1.0)
    with pytest.raises(benchmark.FillCheckError, match=r"outside \[0, 1\]"):
        check.verify()


@pytest.mark.parametrize("mean, std", [(0.0, 1.3), (0.0, 0.7), (0.3, 1.0)])
def test_fill_check_refuses_a_normal_fill_with_the_wrong_std_or_mean(mean, std):
    check = _checked(np.empty(50_000, np.float32), "normal", lambda b: fastinit.normal_(b, mean, std, seed=3),
                     mean=0.0, std=1.0)
    with pytest.raises(benchmark.FillCheckError, match="sample mean .* and std"):
        check.verify()
    check.plant()
    fastinit.normal_(check.view, 0.0, 1.0, seed=3)  # the right law passes
    check.verify()


@pytest.mark.parametrize("law, params, wrong", [
    ("normal", {"mean": 0.0, "std": 1.0},  # moment-matched: a uniform of std 1
     lambda b: fastinit.uniform_(b, -math.sqrt(3), math.sqrt(3), seed=5)),
    ("normal", {"mean": 0.0, "std": 1.0}, lambda b: fastinit.normal_(b, 0.0, 1.08, seed=5)),
    ("normal", {"mean": 0.0, "std": 1.0}, lambda b: fastinit.normal_(b, 0.09, 1.0, seed=5)),
    ("uniform", {"a": -1.0, "b": 1.0},  # inside the bounds, the mean right: a triangle
     lambda b: np.add(fastinit.uniform_(b, -0.5, 0.5, seed=5), fastinit.uniform_(np.empty_like(b), -0.5, 0.5,
                                                                                   seed=6), out=b)),
    ("trunc_normal", {"mean": 0.0, "std": 1.0, "a": -2.0, "b": 2.0},  # the right bounds, a normal's shape not kept
     lambda b: fastinit.uniform_(b, -2.0, 2.0, seed=5)),
])
def test_fill_check_refuses_wrong_laws_its_moments_alone_let_through(law, params, wrong):
    """A review: with the former tolerance (mean and std within 0.1 std) all of these passed as the law; a cheaper
    moment-matched fill could top the bench and exit 0."""
    for dtype in (np.float32, ml_dtypes.bfloat16):
        buf = np.empty(300_000, dtype)
        check = _checked(buf, law, lambda b: b.__setitem__(..., wrong(np.empty(b.shape, np.float32))), **params)
        with pytest.raises(benchmark.FillCheckError, match="KS distance|sample mean"):
            check.verify()
        right = {"normal": lambda b: fastinit.normal_(b, 0.0, 1.0, seed=7),
                 "uniform": lambda b: fastinit.uniform_(b, -1.0, 1.0, seed=7),
                 "trunc_normal": lambda b: fastinit.trunc_normal_(b, 0.0, 1.0, -2.0, 2.0, seed=7)}[law]
        check = _checked(buf, law, right, **params)
        check.verify()  # the law itself passes, rounded to bfloat16 too


def test_fill_check_refuses_a_sparse_fill_with_too_few_zeros():
    buf = np.empty((200, 64), np.float32)
    check = _checked(buf, "sparse", lambda b: fastinit.sparse_(b, 0.1, 0.01, seed=4), zeros=40, std=0.01)
    with pytest.raises(benchmark.FillCheckError, match="zeros in a column, for 40"):
        check.verify()
    check = _checked(buf, "sparse", lambda b: fastinit.sparse_(b, 0.2, 0.01, seed=4), zeros=40, std=0.01)
    check.verify()  # ceil(0.2 * 200) = 40 zeros per column: the law


def test_each_verify_needs_its_own_planting():
    buf = np.empty(5000, np.float32)
    check = benchmark.FillCheck(buf, "normal", mean=0.0, std=1.0)
    check.plant()
    fastinit.normal_(buf, seed=1)
    check.verify()
    fastinit.normal_(buf, seed=2)
    with pytest.raises(benchmark.FillCheckError, match="no sentinel was planted"):
        check.verify()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_orthogonal_law_refuses_a_matrix_slightly_off_orthogonal(dtype):
    buf = np.empty((64, 48), dtype)
    check = benchmark.FillCheck(buf, "orthogonal")
    check.plant()
    fastinit.orthogonal_(buf, seed=3)
    check.verify()  # orthogonal: passes
    check.plant()
    fastinit.orthogonal_(buf, seed=3)
    buf *= dtype(1 + 1e-4)  # |QᵀQ - I| = 2e-4: far beyond float32 rounding on 64 rows
    with pytest.raises(benchmark.FillCheckError, match="max \\|QᵀQ - I\\|"):
        check.verify()


@pytest.mark.parametrize("value", [0.25, -0.5, 0.0])
def test_constant_law_refuses_a_smaller_constant(value):
    buf = np.empty(3000, np.float32)
    check = benchmark.FillCheck(buf, "constant", value=0.5)
    check.plant()
    fastinit.constant_(buf, value)
    with pytest.raises(benchmark.FillCheckError, match="are not 0.5"):
        check.verify()


def test_a_one_row_sparse_matrix_has_no_non_zeros_to_check():
    """--matrix 1: ceil(0.1 * 1) = 1 zero in each column of one row, so nothing is left to take moments of."""
    buf = np.empty((1, 64), np.float32)
    check = benchmark.FillCheck.for_case("sparse_", buf)
    check.plant()
    benchmark.fastinit_fill("sparse_", buf)()
    check.verify()
    assert (buf == 0).all()


def test_a_failed_probe_costs_its_cells_not_the_run(capsys, monkeypatch):
    """The fresh-process probe holds a second copy of the buffer (it may be OOM-killed) or may time out: the row
    says so, the run goes on and exits 0."""
    def killed(name, dtype, shape, timeout=600.0):
        raise RuntimeError(f"probe of {name} {dtype} failed (killed by signal 9): no output")

    monkeypatch.setattr(benchmark, "probe", killed)
    assert main(["bench", "--only", "uniform_,normal_", "--against", "none", *SMALL]) == 0
    out = capsys.readouterr().out
    assert "fresh-process probes (1st call, RSS+) that failed:" in out
    assert "uniform_ float32: probe of uniform_ float32 failed (killed by signal 9)" in out
    assert out.count("failed") >= 4  # two cells, two notes
    report = benchmark.run_bench(["constant_"], size=100, repeat=1, against=[], show_progress=False)
    assert report["results"][0]["probe_error"].startswith("probe of constant_ float32 failed")


def test_bench_against_accumulates_and_numpy_sparse_fills_a_one_row_matrix(capsys):
    """--against given twice takes both (it kept the last, silently); NumPy's sparse_ baseline fills a 1 x 1 matrix
    (every row zero; its argpartition had failed and the row read "unsupported by the contestant")."""
    report = _json(capsys, ["--size", "1", "--matrix", "1", "--only", "sparse", "--against", "numpy",
                            "--against", "torch", "--no-probes"])
    assert report["contestants"] == ["numpy", "torch"] or report["contestants"] == ["numpy"]  # (torch: if installed)
    numpy = report["results"][0]["others"]["numpy"]
    assert numpy.get("seconds", 0) > 0 and not numpy.get("error"), numpy


def test_variance_schemes_accumulate(capsys):
    assert main(["variance", "--schemes", "naive", "--schemes", "he_normal", "--depth", "3", "--json"]) == 0
    assert list(json.loads(capsys.readouterr().out)["schemes"]) == ["naive", "he_normal"]


@pytest.mark.parametrize("argv, msg", [(["--against", "none"], "--against not used with --device cuda"),
                                       (["--matrix", "8", "--no-probes"], "--matrix and --no-probes not used with")])
def test_bench_device_cuda_refuses_the_flags_it_does_not_take(capsys, argv, msg):
    """A review (2026-12-06 (e)): what the cuda run does not take had been ignored silently."""
    assert main(["bench", "--device", "cuda", "--size", "2e4", *argv]) == 2
    assert msg in capsys.readouterr().err


def _scripted(monkeypatch, *lists):
    """benchmark.timings runs the calls for real (plants, fills, checks) but reports ``lists`` in order."""
    real, script = benchmark.timings, list(lists)

    def timings(fn, repeat, **options):
        real(fn, repeat, **options)
        return list(script.pop(0))
    monkeypatch.setattr(benchmark, "timings", timings)
    return script


def test_bench_ratios_are_the_best_times_divided_the_documented_way(monkeypatch):
    """Speed-up = their best time / fastinit's best time, x memset = memset's best / fastinit's best, from the
    minimum of each timing's calls (not the median or the slowest); a first contestant call below COLD_S is not
    the measurement ("cold": false)."""
    script = _scripted(monkeypatch, [0.5, 0.4, 0.6],  # memset: best 0.4
                       [2.0, 1.0, 3.0],  # fastinit: best 1.0
                       [5.0],  # numpy's first call (its warm-up, timed): 5 s < COLD_S
                       [4.0, 3.0, 6.0])  # numpy: best 3.0
    report = benchmark.run_bench(["uniform_"], size=1000, repeat=3, against=["numpy"], probes=False,
                                 show_progress=False)
    assert script == []
    (row,) = report["results"]
    assert row["seconds"] == 1.0 and row["memset_seconds"] == 0.4
    assert row["memset_fraction"] == pytest.approx(0.4) and row["elements_per_s"] == pytest.approx(1000.0)
    assert row["others"]["numpy"] == {"seconds": 3.0, "speedup": pytest.approx(3.0), "timed_calls": 3,
                                      "cold": False}


def test_timings_budget_counts_the_sum_of_the_timed_calls(monkeypatch):
    """The budget bounds the calls' total time: 0.4 s calls stop after the third (1.2 s >= 1 s)."""
    clock = [0.0]
    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])

    def call():
        clock[0] += 0.4
    times = benchmark.timings(call, 10, warmup=0, budget=1.0)
    assert times == pytest.approx([0.4, 0.4, 0.4])


def test_memset_splits_a_fortran_ordered_buffer_over_the_threads_too(monkeypatch):
    """An F-contiguous buffer is one block of memory: zeroed by C memsets on the fill's threads, as a C-ordered one."""
    import ctypes

    from fastinit import _cpu

    calls, real = [], ctypes.memset
    monkeypatch.setattr(ctypes, "memset", lambda addr, value, n: calls.append(n) or real(addr, value, n))
    monkeypatch.setattr(_cpu, "threads_for", lambda work: 1 if work <= _cpu.SERIAL_ELEMENTS else 3)
    buf = np.asfortranarray(np.full((_cpu.SERIAL_ELEMENTS, 5), 3.0, np.float32))
    assert benchmark.memset_threads(buf) == 3
    benchmark.memset(buf)
    assert (buf == 0).all() and len(calls) == 3 and sum(calls) == buf.nbytes


def test_progress_bar_goes_to_stderr_and_only_when_enabled(capsys):
    """stdout carries the table or the JSON: a bar there would corrupt `fastinit bench --json`."""
    pytest.importorskip("tqdm")
    items = [1, 2, 3]
    assert benchmark.progress(items, 3, "bar", enabled=False) is items
    assert list(benchmark.progress(items, 3, "bar")) == items
    out, err = capsys.readouterr()
    assert out == "" and "bar" in err


def test_bench_progress_total_is_the_number_of_rows(monkeypatch):
    seen = []

    def progress(items, total, desc, enabled=True):
        items = list(items)
        seen.append((total, len(items)))
        return items
    monkeypatch.setattr(benchmark, "progress", progress)
    report = benchmark.run_bench(["uniform_", "normal_"], ["float32", "float64"], size=1000, repeat=1, against=[],
                                 probes=False, show_progress=False)
    assert seen == [(4, 4)] and len(report["results"]) == 4
    assert [(r["initializer"], r["dtype"]) for r in report["results"]] == [  # dtype by dtype, as asked
        ("uniform_", "float32"), ("normal_", "float32"), ("uniform_", "float64"), ("normal_", "float64")]


def test_load_average_is_the_last_minutes(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (1.25, 2.5, 3.75))
    assert benchmark.load_average() == 1.25


def test_fan_scaled_cases_of_fewer_than_1024_elements_are_one_row():
    assert benchmark.case_shape("xavier_uniform_", 100, 8) == (1, 100)
    assert benchmark.case_shape("kaiming_normal_", 5000, 8) == (4, 1024)
    assert benchmark.case_shape("sparse_", 5000, 8) == (8, 8) and benchmark.case_shape("normal_", 7, 8) == (7,)


def test_fill_check_refuses_a_sparse_fill_with_too_many_zeros():
    buf = np.empty((200, 64), np.float32)
    check = _checked(buf, "sparse", lambda b: fastinit.sparse_(b, 0.3, 0.01, seed=4), zeros=40, std=0.01)
    with pytest.raises(benchmark.FillCheckError, match="60 to 60 zeros in a column, for 40"):
        check.verify()


@pytest.mark.parametrize("contestant", ["numpy", "torch"])
@pytest.mark.parametrize("name", benchmark.INITIALIZERS)
def test_contestants_write_the_law_fastinit_is_checked_against(contestant, name):
    """A speed-up compares like with like only when the contestant draws the same law into the same buffer."""
    if contestant == "torch":
        pytest.importorskip("torch")
    buf = np.empty(benchmark.case_shape(name, 20_000, 48), np.float32)
    check = benchmark.FillCheck.for_case(name, buf)
    check.plant()
    benchmark.contestant_fill(contestant, name, buf)()
    check.verify()


def test_fill_check_refuses_a_normal_fill_a_few_percent_too_wide():
    """A std 3.5 % off passes the KS test at 65,536 samples (D ~ 0.24 x 0.035 < 0.0105): the moments' 6 standard
    errors (0.023) catch it."""
    check = _checked(np.empty(300_000, np.float32), "normal", lambda b: fastinit.normal_(b, 0.0, 1.035, seed=3),
                     mean=0.0, std=1.0)
    with pytest.raises(benchmark.FillCheckError, match="sample mean .* and std"):
        check.verify()


def _completed(rc, stdout="", stderr=""):
    return lambda args, **kwargs: subprocess.CompletedProcess(args, rc, stdout, stderr)


@pytest.mark.parametrize("rc, said", [(-9, "killed by signal 9"), (3, "exit code 3")])
def test_a_failed_probe_says_how_it_ended_and_its_last_line(monkeypatch, rc, said):
    stderr = "Traceback ...\n  File x\nMemoryError: boom\n"
    monkeypatch.setattr(benchmark.subprocess, "run", _completed(rc, stderr=stderr))
    with pytest.raises(RuntimeError, match=rf"probe of normal_ float32 failed \({said}\): MemoryError: boom$"):
        benchmark.probe("normal_", "float32", (100,))


def test_probe_runs_under_its_600_s_hang_guard(monkeypatch):
    seen = {}

    def run(args, **kwargs):
        seen.update(kwargs)
        return subprocess.CompletedProcess(args, 0, '{"first_call_s": 0.5}\n', "")
    monkeypatch.setattr(benchmark.subprocess, "run", run)
    assert benchmark.probe("normal_", "float32", (100,)) == {"first_call_s": 0.5} and seen["timeout"] == 600.0


def test_a_probe_that_prints_no_json_costs_its_cells_not_the_run(monkeypatch):
    monkeypatch.setattr(benchmark.subprocess, "run", _completed(0, stdout="not json\n"))
    report = benchmark.run_bench(["uniform_"], size=1000, repeat=1, against=[], show_progress=False)
    (row,) = report["results"]
    assert row["first_call_s"] is None and row["probe_error"].startswith("Expecting value")


def test_rss_overhead_is_in_mib(monkeypatch):
    peaks = iter([100.0 * 2**20, 103.0 * 2**20])
    monkeypatch.setattr(benchmark, "_peak_rss_reset", lambda: lambda: next(peaks))
    assert benchmark.rss_overhead("uniform_", "float32", (1000,)) == {"rss_overhead_mib": 3.0}


def test_without_a_kernel_cache_the_probes_are_skipped_and_the_report_says_so(monkeypatch):
    from fastinit import _jit

    monkeypatch.setattr(benchmark, "probe", lambda *a, **k: pytest.fail("probed"))
    monkeypatch.setattr(_jit, "UNCACHED", ["fill"])
    report = benchmark.run_bench(["uniform_"], size=1000, repeat=1, against=[], show_progress=False)
    assert report["kernel_cache"] is False and report["results"][0]["first_call_s"] is None
    monkeypatch.setattr(_jit, "UNCACHED", [])
    report = benchmark.run_bench(["uniform_"], size=1000, repeat=1, against=[], probes=False, show_progress=False)
    assert report["kernel_cache"] is True


def _report(rows, repeat=3, contestants=("numpy",), **machine):
    return {"machine": {"cpu": "x", "cpus": 2, "numba_threads": 2, "versions": {}, **machine}, "repeat": repeat,
            "contestants": list(contestants), "results": rows}


def _row(**kw):
    row = {"initializer": "uniform_", "dtype": "float32", "elements": 10**6, "seconds": 2e-3,
           "elements_per_s": 10**6 / 2e-3, "memset_seconds": 1e-3, "memset_fraction": 0.5, "others": {},
           "first_call_s": None, "rss_overhead_mib": None}
    return {**row, **kw}


def test_bench_table_row_units():
    """ms for times, G elements/s, x memset as the fraction, 'speed-up x, their ms' per contestant, 1 M elements."""
    row = _row(others={"numpy": {"seconds": 6e-3, "speedup": 3.0, "timed_calls": 3, "cold": False}},
               first_call_s=0.25, rss_overhead_mib=1.5)
    line = benchmark.format_table(_report([row])).splitlines()[-1]
    assert line.split() == ["uniform_", "float32", "1", "M", "2.00ms", "0.500", "1.00ms", "0.50", "3.0x", "6.0ms",
                            "0.25", "s", "1.5", "MiB"]


def test_bench_table_marks_a_contestants_error_unsupported_and_lists_it():
    row = _row(others={"numpy": {"error": "TypeError: no bfloat16"}})
    table = benchmark.format_table(_report([row]))
    (line,) = [line for line in table.splitlines() if line.startswith("uniform_")]
    assert line.split()[8] == "unsupported"  # (after "1 M", fastinit, G el/s, memset, x memset)
    assert "unsupported by the contestant (their error):\n  numpy uniform_ float32: TypeError: no bfloat16" in table


def test_bench_table_notes_only_contestants_timed_fewer_than_repeat_times():
    full = {"seconds": 6e-3, "speedup": 3.0, "timed_calls": 3, "cold": False}
    assert "timed fewer" not in benchmark.format_table(_report([_row(others={"numpy": full})]))
    fewer = dict(full, timed_calls=2)
    table = benchmark.format_table(_report([_row(others={"numpy": fewer})]))
    assert "contestants timed fewer than 3 times" in table and "numpy uniform_ float32: 2 calls" in table


def test_a_load_of_half_the_cpus_is_called_busy():
    report = _report([], load_average_at_start=1.0)  # 2 CPUs: from 1.0
    assert "load average 1.00 on 2 CPUs when the bench started" in benchmark.format_table(report)


def test_size_suffix_b_is_a_billion():
    assert benchmark.parse_size("2b") == benchmark.parse_size("2G") == 2 * 10**9


def test_the_probes_first_call_includes_import_fastinit(monkeypatch, capsys):
    """First-call time = `import fastinit` + the kernel's cache load + a small fill (the module doc): the clock starts
    before the import.  A fake clock that an import of fastinit moves by 100 s."""
    clock, real_import = [0.0], builtins.__import__

    def importing(name, *args, **kwargs):
        fromlist = args[2] if len(args) > 2 else kwargs.get("fromlist")
        if name == "fastinit" and not fromlist:  # `import numpy as np, fastinit` (not `from fastinit import ...`)
            clock[0] += 100.0
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(builtins, "__import__", importing)
    monkeypatch.setattr(sys, "argv", ["-c", "uniform_", "float32", "1000"])
    exec(benchmark.PROBE, {"__name__": "__main__"})
    monkeypatch.undo()
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["first_call_s"] >= 100.0


def test_gpu_bench_ratios_and_progress_with_the_gpu_stood_in(monkeypatch):
    """run_bench_cuda's arithmetic without a GPU: numba-cuda's device array, memset and synchronize, and torch's CUDA
    stood in by host ones; the timings scripted (memset 1, fastinit 2, torch 6: speed-up 3, x memset 0.5)."""
    pytest.importorskip("numba_cuda")
    torch = pytest.importorskip("torch")
    from numba import cuda
    from numba.cuda.cudadrv import driver

    monkeypatch.setattr(cuda, "device_array", lambda size, dtype: np.empty(size, dtype))
    monkeypatch.setattr(cuda, "synchronize", lambda: None)
    monkeypatch.setattr(cuda, "get_current_device", lambda: types.SimpleNamespace(name=b"Stand-in"))
    monkeypatch.setattr(driver, "device_memset", lambda buf, value, n: buf.fill(value))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a: None)
    empty = torch.empty
    monkeypatch.setattr(torch, "empty", lambda *a, device=None, **k: empty(*a, **k))
    real, script = benchmark.best_of, [1.0, 2.0, 6.0]
    monkeypatch.setattr(benchmark, "best_of", lambda fn, repeat, **o: (real(fn, repeat, **o), script.pop(0))[1])
    totals = []
    monkeypatch.setattr(benchmark, "progress", lambda items, total, desc, enabled=True: totals.append(total) or items)
    report = benchmark.run_bench_cuda(["normal_", "orthogonal_"], ["float32"], 4096, 2, show_progress=False)
    (row,) = report["results"]
    assert totals == [1] and report["contestants"] == ["torch"] and report["machine"]["gpu"] == "Stand-in"
    assert row["memset_fraction"] == 0.5 and row["others"]["torch"] == {"seconds": 6.0, "speedup": 3.0,
                                                                        "timed_calls": 2}


def test_a_probe_that_prints_nothing_costs_its_cells_not_the_run(monkeypatch):
    """A probe exiting 0 with an empty stdout (a sitecustomize or an atexit hook that closed it) had crashed the whole
    run with an IndexError (the last line of nothing)."""
    monkeypatch.setattr(benchmark.subprocess, "run", _completed(0))
    report = benchmark.run_bench(["uniform_"], size=1000, repeat=1, against=[], show_progress=False)
    (row,) = report["results"]
    assert row["first_call_s"] is None
    assert row["probe_error"] == "probe of uniform_ float32 printed nothing (exit code 0)"
