"""Seeding: explicit seeds are pure; seed=None draws from a generator that never repeats."""
import subprocess
import sys
import threading

import numpy as np
import pytest

import fastinit
from fastinit import _seed


def _u(seed=None, **kw):
    return fastinit.uniform_(np.empty(1000, np.float32), seed=seed, **kw)


def test_explicit_seed_is_pure():
    fastinit.manual_seed(1)
    a = _u(7)
    _u()  # advancing the default generator changes nothing for explicit seeds
    assert np.array_equal(a, _u(7))


def test_consecutive_unseeded_calls_differ():
    a, b = _u(), _u()
    assert np.mean(a == b) < 0.01


def test_manual_seed_makes_a_program_reproducible():
    fastinit.manual_seed(123)
    first = [_u(), _u(), fastinit.normal_(np.empty(10))]
    fastinit.manual_seed(123)
    second = [_u(), _u(), fastinit.normal_(np.empty(10))]
    for x, y in zip(first, second):
        assert np.array_equal(x, y)
    assert fastinit.initial_seed() == 123


EMPTY_CALLS = [
    lambda **kw: fastinit.uniform_(np.empty((0, 3)), **kw), lambda **kw: fastinit.normal_(np.empty(0), **kw),
    lambda **kw: fastinit.trunc_normal_(np.empty((3, 0), np.float16), **kw),
    lambda **kw: fastinit.xavier_uniform_(np.empty((0, 3)), **kw),
    lambda **kw: fastinit.kaiming_normal_(np.empty((0, 3, 2)), **kw),
    lambda **kw: fastinit.orthogonal_(np.empty((0, 3)), **kw),
    lambda **kw: fastinit.delta_orthogonal_(np.empty((3, 0, 3)), **kw),
    lambda **kw: fastinit.sparse_(np.empty((0, 3)), 0.5, **kw),
    lambda **kw: fastinit.martens_sparse_(np.empty((3, 0)), k=0, **kw)]
REFUSED_CALLS = [
    lambda **kw: fastinit.uniform_(np.empty((2, 3)), 1.0, 0.0, **kw),
    lambda **kw: fastinit.orthogonal_(np.empty(3), **kw), lambda **kw: fastinit.sparse_(np.empty((2, 3)), 2.0, **kw)]


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op")
def test_empty_and_refused_calls_draw_no_seed():
    """A call that writes nothing leaves the generator where it was (torch's generator does not move for an empty
    tensor): a program's later unseeded fills do not depend on its empty or refused ones."""
    g = fastinit.Generator(5)
    fastinit.manual_seed(5)
    for kw in ({"generator": g}, {}):
        for call in EMPTY_CALLS:
            call(**kw)
        for call in REFUSED_CALLS:
            with pytest.raises(ValueError):
                call(**kw)
    assert g.next_seed() == fastinit.Generator(5).next_seed()
    assert _u().tobytes() == _u(seed=fastinit.Generator(5).next_seed()).tobytes()


def test_generator_objects_are_independent_of_the_default():
    g1, g2 = fastinit.Generator(5), fastinit.Generator(5)
    fastinit.manual_seed(0)
    a = _u(generator=g1)
    _u()
    assert np.array_equal(a, _u(generator=g2))
    assert not np.array_equal(a, _u(generator=g2))


def test_generator_seed_sequence_is_pinned():
    # the i-th seed of Generator(s) is philox4x32((i, 0, 0, 0x5EED), key(s)) words 0 and 1
    w = fastinit.philox4x32([1, 0, 0, 0x5EED], [42, 0])
    g = fastinit.Generator(42)
    g.next_seed()
    assert g.next_seed() == int(w[0]) | (int(w[1]) << 32)


def test_a_pickled_or_copied_generator_goes_on_with_the_same_seeds():
    import copy
    import pickle

    g = fastinit.Generator(7)
    for _ in range(300):  # past the block of seeds computed ahead
        g.next_seed()
    for copier in (lambda x: pickle.loads(pickle.dumps(x)), copy.deepcopy):
        twin = copier(g)
        assert twin.initial_seed() == 7 and [twin.next_seed() for _ in range(3)] == [g.next_seed() for _ in range(3)]


def test_default_generator_never_hands_two_threads_the_same_seed():
    g = fastinit.Generator(9)
    seen, lock = [], threading.Lock()

    def work():
        mine = [g.next_seed() for _ in range(2000)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == len(set(seen)) == 16000
    serial = fastinit.Generator(9)
    assert set(seen) == {serial.next_seed() for _ in range(16000)}


def test_concurrent_fills_equal_serial_fills():
    seeds = list(range(16))
    serial = [fastinit.normal_(np.empty((300, 301), np.float32), seed=s, stream="x") for s in seeds]
    results = {}

    def work(s):
        results[s] = fastinit.normal_(np.empty((300, 301), np.float32), seed=s, stream="x")

    threads = [threading.Thread(target=work, args=(s,)) for s in seeds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in seeds:
        assert np.array_equal(results[s], serial[s])


def test_unseeded_default_is_drawn_from_os_entropy():
    code = "import fastinit; print(fastinit.initial_seed())"
    a, b = (subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2))
    assert a != b


@pytest.mark.parametrize("bad", [-1, 2**64, 1.0, "1", None])
def test_manual_seed_rejects_bad_seeds(bad):
    with pytest.raises((TypeError, ValueError), match="seed"):
        fastinit.manual_seed(bad)


def test_import_does_not_load_optional_extras():
    extras = ("torch", "dask", "jax", "tqdm", "matplotlib", "safetensors", "numba.cuda")
    code = f"import sys, fastinit; print(sorted(m for m in {extras!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("module, package, extra", [("torch", "torch", "torch"), ("materialize", "torch", "torch"),
                                                    ("jax", "jax", "jax"), ("dask", "dask", "dask")])
def test_an_optional_module_without_its_package_names_the_extra(module, package, extra):
    code = ("import sys\n"
            "class Hide:  # the package is not installed\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            f"        if name == {package!r}:\n"
            "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
            "sys.meta_path.insert(0, Hide())\n"
            f"try:\n    import fastinit.{module}\nexcept ImportError as e:\n    print(type(e).__name__, e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == (f"ImportError fastinit.{module} needs {package}, which is not installed: "
                   f"pip install 'fastinit[{extra}]' (or {package} itself)")


def test_a_broken_optional_package_keeps_its_own_error():
    from fastinit._extras import missing

    broken = ImportError("libtorch_cpu.so: cannot open shared object file")
    assert missing(broken, "torch", "fastinit.torch") is broken
    own_module = ModuleNotFoundError("No module named 'torch._C'", name="torch._C")  # installed, but broken or old
    assert missing(own_module, "torch", "fastinit.torch") is own_module


def test_a_draw_inside_a_draw_gets_its_own_seed(monkeypatch):
    """A signal handler drawing a seed on the thread that is drawing one (while the next batch of seeds is computed,
    or inside the generator's lock) gets a seed of its own; it waited for itself forever."""
    g = fastinit.Generator(9)
    real, inner, outer = _seed._seeds, [], []

    def seeds(seed, i, n):
        if not inner:
            inner.append(None)
            inner[0] = g.next_seed()  # the handler, re-entering next_seed
        return real(seed, i, n)

    monkeypatch.setattr(_seed, "_seeds", seeds)
    t = threading.Thread(target=lambda: outer.append(g.next_seed()), daemon=True)
    t.start()
    t.join(timeout=60)
    assert not t.is_alive(), "the nested draw deadlocked"
    with g._lock:  # a handler arriving inside the lock
        third = g.next_seed()
    twin = fastinit.Generator(9)
    assert {inner[0], outer[0], third} == {twin.next_seed() for _ in range(3)}


def test_a_fill_does_not_import_scipy_linalg_yet_numba_keeps_its_blas():
    # numba's first target load asks for a BLAS by importing scipy.linalg (most of a first fill's
    # time); fastinit answers from the disk (_jit._defer_numbas_blas_import): np.dot keeps its BLAS
    code = ("import sys, numpy as np, numba, fastinit\n"
            "fastinit.uniform_(np.empty(8, np.float32), seed=0)\n"
            "import numba.np.arraymath as am, numba.np.linalg as nl\n"
            "print('scipy.linalg' in sys.modules, getattr(am, '_HAVE_BLAS', 'gone'),\n"
            "      am.ensure_blas is nl.ensure_blas, nl.ensure_blas.__module__)\n"
            "a = np.arange(6.0).reshape(2, 3)\n"
            "print(np.array_equal(numba.njit(lambda a, b: np.dot(a, b))(a, a.T), a @ a.T),\n"
            "      'scipy.linalg' in sys.modules)\n"
            "q = fastinit.orthogonal((8, 8), dtype='float64', seed=1)\n"
            "print(np.allclose(q.T @ q, np.eye(8)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True", "True", "numba.np.linalg", "True", "True", "True"]


def test_a_float32_checkpoint_from_the_cli_loads_neither_ml_dtypes_nor_scipy_special(tmp_path):
    # ml_dtypes takes 1.1-1.4 s to import on the 2-vCPU VM, scipy.special 0.25 s: only bfloat16 / variance need them
    code = ("import sys\n"
            "from fastinit.cli import main\n"
            "assert main(['init', '--arch', 'mlp-mnist', '--out', sys.argv[1], '--seed', '0', '--no-progress']) == 0\n"
            "print('ml_dtypes' in sys.modules, 'scipy.special' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m.safetensors")], capture_output=True,
                         text=True, check=True).stdout
    assert out.split()[-2:] == ["False", "False"]


def test_the_blas_probe_looks_for_scipys_module(monkeypatch):
    import importlib.util

    from fastinit import _jit

    assert _jit._scipy_has_blas()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert not _jit._scipy_has_blas()


def test_bfloat16_support_loads_ml_dtypes_only_when_asked():
    # ml_dtypes 0.7 takes ~0.5 s to import: a float32 fill must not pay for it; a bfloat16 one does
    code = ("import sys, numpy as np, fastinit\n"
            "fastinit.uniform_(np.empty(8, np.float32), seed=0)\n"
            "before = 'ml_dtypes' in sys.modules\n"
            "a = fastinit.normal((4,), dtype='bf16', seed=0)\n"
            "print(before, a.dtype, 'ml_dtypes' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "bfloat16", "True"]
