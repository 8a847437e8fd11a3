"""`fastinit compile`: every kernel a public call reaches is compiled (or loaded) by the groups, in order."""
import json
import subprocess
import sys
import textwrap

import pytest

from fastinit import precompile
from fastinit.cli import main

# Runs the groups in a fresh process, then public calls of every initializer, dtype and layout: none may
# reach a kernel signature the groups did not (loading from the cache adds a dispatcher's signature too).
_COVERAGE = textwrap.dedent("""
    import numpy as np, fastinit, importlib, pkgutil
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
    print({k: v for k, v in new.items() if v})
""")


def test_groups_reach_every_kernel_of_every_public_call():
    out = subprocess.run([sys.executable, "-c", _COVERAGE], capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "{}", out.stdout[-3000:]


def test_groups_come_after_the_groups_they_reuse_and_name_only_known_groups():
    names = [g.name for g in precompile.GROUPS]
    for i, g in enumerate(precompile.GROUPS):
        assert set(g.after) <= set(names[:i]), g  # jobs=1 runs them in this order


def test_parallel_workers_report_every_group_after_its_dependencies():
    order = []
    got = precompile.compile_kernels(jobs=2, report=lambda c: order.append(c.name))
    assert [c.name for c in got] == [g.name for g in precompile.GROUPS] and sorted(order) == sorted(c.name for c in got)
    for g in precompile.GROUPS:
        for dep in g.after:
            assert order.index(dep) < order.index(g.name)
    assert all(c.kernels >= 0 and c.seconds >= 0 for c in got)


def test_cli_compile_reports_each_group_and_the_cache(capsys):
    assert main(["compile", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert precompile.cache_location() in out and "kernels compiled in" in out
    for g in precompile.GROUPS:
        assert g.name in out
    assert main(["compile", "--jobs", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [g["name"] for g in report["groups"]] == [g.name for g in precompile.GROUPS]
    assert all(g["kernels"] == 0 for g in report["groups"])  # just compiled above: all loaded from the cache


@pytest.mark.parametrize("jobs", [0, -2])
def test_cli_compile_refuses_non_positive_jobs(jobs, capsys):
    assert main(["compile", "--jobs", str(jobs)]) == 2
    assert f"--jobs must be >= 1, got {jobs}" in capsys.readouterr().err


@pytest.mark.parametrize("jobs", [0, 1.5, True, "2"])
def test_compile_kernels_refuses_bad_jobs(jobs):
    with pytest.raises(ValueError, match="jobs must be a positive int"):
        precompile.compile_kernels(jobs)
