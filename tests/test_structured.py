"""eye_, dirac_ (torch semantics) and orthogonal_ (Haar, Mezzadri sign fix)."""
import os
import warnings

import ml_dtypes
import numpy as np
import pytest
from scipy import stats

import fastinit
from fastinit import linalg


def test_eye_only_works_on_2d_inputs():
    for shape in [(3,), (2, 2, 2)]:
        w = np.full(shape, 7.0)
        with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
            fastinit.eye_(w)
        assert (w == 7).all()  # refused before any write
    w = fastinit.eye_(np.full((3, 5), 7.0))
    assert np.array_equal(w, np.eye(3, 5))


def test_allocating_eye_reads_one_size_as_numpy_does():
    assert np.array_equal(fastinit.eye(3), np.eye(3)) and fastinit.eye(3).dtype == np.float32
    assert np.array_equal(fastinit.eye((3,)), np.eye(3))
    assert np.array_equal(fastinit.eye(2, 3, dtype="float64"), np.eye(2, 3))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        fastinit.eye(2, 2, 2)


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 2, 3, 3), 2), ((8, 4, 3, 5, 5), 2), ((3, 8, 5), 1)])
def test_dirac_is_identity_convolution(shape, groups):
    w = fastinit.dirac_(np.full(shape, 5.0), groups)
    per = shape[0] // groups
    centre = tuple(s // 2 for s in shape[2:])
    expected = np.zeros(shape)
    for g in range(groups):
        for d in range(min(per, shape[1])):
            expected[(g * per + d, d) + centre] = 1
    assert np.array_equal(w, expected)


def test_dirac_errors():
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        fastinit.dirac_(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        fastinit.dirac_(np.zeros((5, 2, 3)), groups=2)


# max |WᵀW - gain² I| / gain² per dtype: f64/f32 from LAPACK's backward stability (c · n · eps), the
# 16-bit types from rounding every entry once (relative error <= eps/2 per entry, summed over a row)
ORTHO_TOL = {np.float64: 1e-13, np.float32: 1e-5, np.float16: 4e-3, "bfloat16": 3e-2}
SHAPES = [(64, 64), (32, 128), (128, 32), (1, 7), (7, 1), (300, 301), (16, 4, 3, 3), (4, 16, 3, 3), (6, 5, 4, 3, 2)]


def gram_error(w, gain, layout="torch"):
    m = w.astype(np.float64).reshape(w.shape[0], -1) if layout == "torch" else w.astype(np.float64).reshape(
        -1, w.shape[-1])
    small = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    return np.abs(small / gain**2 - np.eye(small.shape[0])).max()


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, "bfloat16"])
@pytest.mark.parametrize("shape", SHAPES)
def test_orthogonal_rows_or_columns_are_orthonormal(shape, dtype):
    dt = resolve(dtype)
    w = fastinit.orthogonal_(np.full(shape, np.nan, dt), gain=2.0, seed=3)
    assert gram_error(w, 2.0) <= ORTHO_TOL[dtype]


@pytest.mark.parametrize("shape", [(5, 4, 3), (24, 8), (8, 24)])
def test_orthogonal_keras_layout_orthonormal_along_last_axis(shape):
    w = fastinit.orthogonal_(np.empty(shape), gain=0.5, seed=1, layout="keras")
    assert gram_error(w, 0.5, "keras") <= 1e-13


def resolve(dtype):
    return fastinit._buffers.resolve_dtype(dtype)


@pytest.mark.parametrize("shape", [(40, 40), (30, 50), (50, 30)])
def test_orthogonal_in_place_strided_and_narrow_targets_agree(shape):
    """Contiguous float32 runs in place; strided / 16-bit targets go through one float32 scratch
    matrix and one rounding — the same matrix either way."""
    ref = fastinit.orthogonal_(np.empty(shape, np.float32), seed=9, stream="w")
    big = np.zeros((shape[0] * 2, shape[1] * 3), np.float32)
    view = big[::2, 1::3]
    fastinit.orthogonal_(view, seed=9, stream="w")
    assert np.array_equal(view, ref)
    assert np.count_nonzero(big) == ref.size  # nothing written outside the view
    f = np.asfortranarray(np.empty(shape, np.float32))
    assert np.array_equal(fastinit.orthogonal_(f, seed=9, stream="w"), ref)
    for dt in (np.float16, resolve("bfloat16")):
        assert np.array_equal(fastinit.orthogonal_(np.empty(shape, dt), seed=9, stream="w"), ref.astype(dt))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_orthogonal_vectors_with_odd_strides_on_their_length_1_axis(dtype, capfd):
    """NumPy calls (1, n) views C-contiguous whatever the stride of their length-1 axis (0 for
    ``a[None, :]``); the BLAS leading dimension must come from the shape (LAPACK printed "SSYRK
    parameter number 7 had an illegal value" and skipped the call)."""
    ref = fastinit.orthogonal_(np.empty((1, 7), dtype), seed=4)
    for view in (np.empty(7, dtype)[None, :], np.zeros((7, 1), dtype).T,
                 np.lib.stride_tricks.as_strided(np.empty(7, dtype), (1, 7), (4, np.dtype(dtype).itemsize))):
        assert np.array_equal(fastinit.orthogonal_(view, seed=4), ref)
        assert fastinit.orthogonal_(view.T, seed=4).shape == (7, 1)
    assert abs(np.linalg.norm(ref) - 1) < 1e-6
    printed = capfd.readouterr()  # OpenBLAS's xerbla prints to stdout
    assert "illegal value" not in printed.out + printed.err


def test_orthogonal_same_bits_for_any_thread_count(monkeypatch):
    import numba

    from fastinit import _cpu, structured

    shape = (700, 90)  # tall: exercises the chunked column-norm pass
    # on numba's pool (a matrix this small otherwise runs its kernels on the calling thread, whatever the count)
    monkeypatch.setattr(_cpu, "SERIAL_ELEMENTS", 0)
    monkeypatch.setattr(structured, "CALLING_THREAD_ELEMENTS", 0)
    n = numba.get_num_threads()
    a = fastinit.orthogonal_(np.empty(shape), seed=4)
    numba.set_num_threads(1)
    try:
        b = fastinit.orthogonal_(np.empty(shape), seed=4)
    finally:
        numba.set_num_threads(n)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("shape", [(700, 1100), (1100, 700)])  # blocked: wide (?orgqr) and tall (?orgrq)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_orthogonal_bits_do_not_depend_on_blas_or_panel_threads(shape, dtype, monkeypatch):
    """OpenBLAS's single- and multi-threaded kernels sum differently (80 % of a 512² float32 matrix's entries
    differed between 1 and 2 BLAS threads; dgemm differed between 2 and 3: a review): BLAS runs on one thread
    and the updates' fixed panels on fastinit's own threads, so neither count changes a bit, and the BLAS
    thread counts are restored, also when two calls overlap."""
    import threading

    import numba
    from threadpoolctl import threadpool_info, threadpool_limits

    from fastinit import linalg

    monkeypatch.setattr(linalg, "PANEL", 128)  # several panels at this size
    blas = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    ref = fastinit.orthogonal_(np.empty(shape, dtype), seed=6)
    n = numba.get_num_threads()
    for count in (1, 2, 3):
        with threadpool_limits(count, user_api="blas"):
            for panel_threads in {1, n}:
                numba.set_num_threads(panel_threads)
                try:
                    assert np.array_equal(fastinit.orthogonal_(np.empty(shape, dtype), seed=6), ref), (count,
                                                                                                      panel_threads)
                finally:
                    numba.set_num_threads(n)
    def in_threads(count):  # each in a thread of its own, all at once
        out = [np.empty(shape, dtype) for _ in range(count)]
        calls = [threading.Thread(target=fastinit.orthogonal_, args=(o,), kwargs={"seed": 6}) for o in out]
        for c in calls:
            c.start()
        for c in calls:
            c.join()
        return out

    fastinit.orthogonal_(np.empty(shape, dtype), seed=6)  # the main thread first: threadpoolctl 3.8 then ignored
    assert np.array_equal(in_threads(1)[0], ref)  # any other thread's limits (a review: 74-83 % of entries differed)
    assert all(np.array_equal(o, ref) for o in in_threads(4))
    assert [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"] == blas
    assert linalg._blas_held == [0, None, False]


TWO_THREADS_ENV = {**os.environ, "NUMBA_NUM_THREADS": "2"}  # the scripts' set_num_threads(2), on one CPU too
_FORKED = """
import multiprocessing, numba, numpy as np, fastinit

def child(queue):
    queue.put(fastinit.orthogonal_(np.empty((700, 1100), np.float32), seed=6).tobytes())

if __name__ == "__main__":
    numba.set_num_threads(2)
    ref = fastinit.orthogonal_(np.empty((700, 1100), np.float32), seed=6)  # the parent's pool started
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=child, args=(queue,), daemon=True)
    proc.start()
    got = queue.get(timeout=120)
    proc.join(30)
    assert proc.exitcode == 0 and got == ref.tobytes()
    print("same")
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_child_starts_its_own_panel_threads():
    """The panels' pool is kept between calls; a forked child (dask's processes, multiprocessing's default on
    Linux) has none of its parent's threads, so it starts its own instead of waiting on theirs forever (in a fresh
    process: this one's JAX threads make a fork here unsafe)."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", _FORKED], capture_output=True, text=True, timeout=300, check=False,
                       env=TWO_THREADS_ENV)
    assert r.returncode == 0 and r.stdout.strip() == "same", r.stderr[-3000:]


_AT_EXIT = """
import atexit, numba, numpy as np, fastinit

def last():  # no thread can start now ("can't register atexit after shutdown"): the panels run on this one
    ok = np.array_equal(fastinit.orthogonal_(np.empty((700, 1100), np.float32), seed=6), ref)
    print("same" if ok else "differs", flush=True)

numba.set_num_threads(2)
ref = fastinit.orthogonal_(np.empty((700, 1100), np.float32), seed=6)
numba.set_num_threads(1)  # (a pool of another size: started anew)
fastinit.orthogonal_(np.empty((8, 8), np.float32), seed=6)
numba.set_num_threads(2)
atexit.register(last)
"""


def test_orthogonal_at_interpreter_exit_runs_its_panels_on_the_calling_thread():
    """An atexit handler (or a thread still running at exit) had 'cannot schedule new futures after shutdown'."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", _AT_EXIT], capture_output=True, text=True, timeout=300, check=False,
                       env=TWO_THREADS_ENV)
    assert r.returncode == 0 and r.stdout.strip() == "same", r.stderr[-3000:]


def test_a_failed_panel_leaves_no_span_running_after_the_call():
    """The panels' pool is kept between calls: after one span raises, the call waits for those running and cancels
    the others, so nothing writes into the matrix once the error has reached the caller."""
    import time

    log = []

    def span(start, stop):
        if start == 0:
            raise ArithmeticError("a panel failed")
        log.append(("start", start))
        time.sleep(0.02)
        log.append(("end", start))

    with pytest.raises(ArithmeticError, match="a panel failed"):
        linalg._Panels(2)(span, 4096, 1024)  # 16 spans, far above the inline limit
    at_return = list(log)
    time.sleep(0.2)
    assert log == at_return  # nothing started or finished later
    assert sorted(s for kind, s in log if kind == "start") == sorted(s for kind, s in log if kind == "end")


def test_the_blas_limit_is_restored_by_the_last_caller_to_leave_from_any_thread():
    """The process-wide BLAS limit is set by the first concurrent orthogonal_ and restored by the last, whichever
    threads they are (a worker leaving last after the main thread had its restore ignored: BLAS stayed on one thread
    for the rest of the process)."""
    import threading

    from threadpoolctl import threadpool_info

    from fastinit import linalg

    linalg._lapack(np.dtype(np.float32))  # SciPy's BLAS loaded
    def counts():
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    before = counts()
    if max(before) < 2:
        pytest.skip("BLAS already on one thread here: nothing to restore")
    entered, main_left = threading.Event(), threading.Event()
    seen = []

    def worker():
        with linalg._one_blas_thread():
            entered.set()
            main_left.wait(10)
            seen.append(counts())

    main = linalg._one_blas_thread()
    main.__enter__()
    limited = {lib["filepath"] for lib in threadpool_info() if lib["user_api"] == "blas" and lib["num_threads"] == 1}
    assert limited and all("numpy" not in path for path in limited)  # SciPy's BLAS only: NumPy's keeps its threads
    t = threading.Thread(target=worker)
    t.start()
    entered.wait(10)
    main.__exit__(None, None, None)
    main_left.set()
    t.join()
    assert min(seen[0]) == 1  # still limited while the worker is inside
    assert counts() == before and linalg._blas_held == [0, None, False]


def test_threadpool_limits_around_or_during_calls_leave_the_counts_as_they_were():
    """fastinit sets SciPy's BLAS count through the library's own call, leaving threadpoolctl's control to its users:
    their limits around a call, entered before it and left during it, or in another thread, leave every count as it
    was (an earlier version took that control, and their restores were lost: BLAS stayed on one thread; a review).
    (A limit entered during a call and left after it saves fastinit's temporary one as the count to restore.)"""
    import threading

    from threadpoolctl import threadpool_info, threadpool_limits

    from fastinit import linalg

    linalg._lapack(np.dtype(np.float64))

    def counts():
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    before = counts()
    with threadpool_limits(3, user_api="blas"):  # a user's limit around a call
        fastinit.orthogonal_(np.empty((1100, 700)), seed=2)
    assert counts() == before
    user = threadpool_limits(1, user_api="blas")  # a user's limit entered before a call and left during it
    ours = linalg._one_blas_thread()
    ours.__enter__()
    user.restore_original_limits()
    ours.__exit__(None, None, None)
    assert counts() == before
    done = []
    t = threading.Thread(target=lambda: done.append(fastinit.orthogonal_(np.empty((1100, 700)), seed=2)))
    with threadpool_limits(1, user_api="blas"):  # a user's limit in this thread, a call in another
        t.start()
        t.join()
    assert counts() == before and linalg._blas_held == [0, None, False]
    assert np.array_equal(done[0], fastinit.orthogonal_(np.empty((1100, 700)), seed=2))


def plain_qr(n, seed):
    """A QR of a Gaussian matrix *without* Mezzadri's sign fix: orthogonal, but not Haar."""
    g = np.random.default_rng(seed).standard_normal((n, n))
    return np.linalg.qr(g)[0]


def haar_trace_pvalue(sample, n=48, reps=600):
    """KS p-value of tr(Q) over ``reps`` draws against N(0, 1): for Haar O(n) the first n moments of
    the trace equal those of N(0, 1) (Diaconis & Shahshahani 1994), so at n = 48 the law is N(0, 1)."""
    traces = np.array([np.trace(sample(n, i)) for i in range(reps)])
    return stats.kstest(traces, "norm").pvalue


def test_orthogonal_trace_follows_the_haar_law_and_a_plain_qr_does_not():
    assert haar_trace_pvalue(lambda n, i: fastinit.orthogonal_(np.empty((n, n)), seed=i)) > 1e-3
    assert haar_trace_pvalue(plain_qr) < 1e-12  # the test has the power to catch a missing sign fix


def test_orthogonal_entries_are_normal_at_n_512():
    """√n·Q_ij → N(0, 1); exactly, Q_ij² ~ Beta(1/2, (n−1)/2).  KS of all 512² entries against both."""
    n = 512
    x = fastinit.orthogonal_(np.empty((n, n)), seed=2024).ravel() * np.sqrt(n)
    assert stats.kstest(x, "norm").pvalue > 1e-3
    exact = stats.kstest(np.abs(x) / np.sqrt(n), lambda t: stats.beta.cdf(np.asarray(t) ** 2, 0.5, (n - 1) / 2))
    assert exact.pvalue > 1e-3
    assert abs(x.mean()) < 5 / n and abs(x.var() - 1) < 0.01


@pytest.mark.parametrize("shape", [(60, 20), (20, 60)])
def test_semi_orthogonal_blocks_have_haar_moments(shape):
    """For a Haar Stiefel matrix every k×k block (k = min dim) is a block of a Haar O(n) matrix: its
    trace has mean 0 and variance k/n.  Checked on the first and the last block, where the two
    LAPACK constructions (QR-like for wide, RQ-like for tall) put their reflectors' pivots."""
    n, k, reps = max(shape), min(shape), 1500
    first, last = np.empty(reps), np.empty(reps)
    for i in range(reps):
        q = fastinit.orthogonal_(np.empty(shape), seed=i)
        m = q if shape[0] <= shape[1] else q.T  # k x n with orthonormal rows
        first[i], last[i] = np.trace(m[:, :k]), np.trace(m[:, -k:])
    for t in (first, last):
        assert abs(t.mean()) < 5 * np.sqrt(k / n / reps)
        assert abs(t.var() / (k / n) - 1) < 0.15


def test_orthogonal_deterministic_and_errors():
    a = fastinit.orthogonal(20, 30, seed=5)
    assert np.array_equal(a, fastinit.orthogonal(20, 30, seed=5))
    assert not np.array_equal(a, fastinit.orthogonal(20, 30, seed=5, stream=1))
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        fastinit.orthogonal_(np.zeros(5))
    w = np.full((4, 4), 7.0)
    for bad, exc, match in [(dict(gain=float("nan")), ValueError, r"orthogonal_: gain must be finite, got nan"),
                            (dict(gain="1"), TypeError, r"orthogonal_: gain must be a real number, got str '1'"),
                            (dict(layout="tf"), ValueError, r"orthogonal_: layout must be one of .*, got 'tf'"),
                            (dict(global_shape=(8, 4)), ValueError, r"orthogonal_: cannot fill a shard")]:
        with pytest.raises(exc, match=match):
            fastinit.orthogonal_(w, **bad)
        assert (w == 7.0).all()


@pytest.mark.parametrize("shape", [(8, 4, 3), (8, 8, 3, 3), (6, 2, 4, 4), (4, 3, 3, 5, 2), (5, 5, 1, 1)])
@pytest.mark.parametrize("layout", ["torch", "keras"])
def test_delta_orthogonal_is_an_orthogonal_matrix_at_the_centre(shape, layout):
    if layout == "keras":
        shape = shape[2:] + (shape[1], shape[0])
    w = fastinit.delta_orthogonal_(np.full(shape, np.nan), gain=1.5, seed=2, layout=layout)
    spatial = shape[2:] if layout == "torch" else shape[:-2]
    centre = tuple((k - 1) // 2 for k in spatial)
    m = w[(slice(None), slice(None)) + centre] if layout == "torch" else w[centre].T  # (out, in)
    assert np.abs(m.T @ m - 2.25 * np.eye(m.shape[1])).max() < 1e-12
    assert np.count_nonzero(w) == m.size  # zero everywhere else


def test_delta_orthogonal_errors():
    for shape in [(4, 4), (2, 2, 2, 2, 2, 2)]:
        with pytest.raises(ValueError, match="^delta_orthogonal_: requires a 3-D, 4-D or 5-D"):
            fastinit.delta_orthogonal_(np.zeros(shape))
        with pytest.raises(ValueError, match="^delta_orthogonal: requires a 3-D, 4-D or 5-D"):  # the twin's name
            fastinit.delta_orthogonal(*shape)
    w = np.full((2, 4, 3, 3), 7.0)  # torch layout: out=2 < in=4
    with pytest.raises(ValueError, match="in_channels"):
        fastinit.delta_orthogonal_(w)
    assert (w == 7.0).all()


@pytest.mark.parametrize("shape", [(3, 4, 4), (3, 3, 4, 8), (3, 3, 3, 2, 6), (2, 2, 4, 4), (4, 3, 5), (1, 1, 3, 3),
                                   (3, 3, 8, 4), (3, 6, 2)])  # the last two: in > out, refused by both
def test_delta_orthogonal_matches_jax_support_and_errors(shape):
    jax = pytest.importorskip("jax")
    init = jax.nn.initializers.delta_orthogonal(scale=1.0)
    if shape[-2] > shape[-1]:
        with pytest.raises(ValueError, match="fan_in.*fan_out"):
            init(jax.random.key(0), shape)
        with pytest.raises(ValueError, match=rf"in_channels \({shape[-2]}\) must be <= out_channels \({shape[-1]}\)"):
            fastinit.delta_orthogonal(*shape)
        return
    ref = np.asarray(init(jax.random.key(0), shape, jax.numpy.float32))
    w = fastinit.delta_orthogonal(*shape, seed=0)  # JAX layout (*k, in, out) by default
    assert w.shape == ref.shape and w.dtype == ref.dtype
    assert np.array_equal(w != 0, ref != 0)
    c = tuple((k - 1) // 2 for k in shape[:-2])
    assert np.allclose(w[c] @ w[c].T, ref[c] @ ref[c].T, atol=1e-5)  # both have orthonormal rows


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (1, 1), (0, 3)])
def test_eye_matches_torch(shape):
    torch = pytest.importorskip("torch")
    assert np.array_equal(fastinit.eye_(np.full(shape, 3.0)), torch.nn.init.eye_(torch.full(shape, 3.0)).numpy())


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 2, 3, 3), 2), ((8, 4, 3, 5, 5), 2), ((3, 8, 5), 1),
                                           ((9, 3, 2, 2), 3), ((4, 6, 1, 1, 1), 4), ((2, 2, 4), 1)])
def test_dirac_matches_torch(shape, groups):
    torch = pytest.importorskip("torch")
    ref = torch.nn.init.dirac_(torch.full(shape, 3.0), groups).numpy()
    assert np.array_equal(fastinit.dirac_(np.full(shape, 3.0), groups), ref)


def test_refusals_come_before_any_write_or_seed_draw(monkeypatch):
    """Too large for LAPACK, or in > out channels: the buffer is untouched and no seed is drawn."""
    import fastinit.linalg

    monkeypatch.setattr(fastinit.linalg, "LAPACK_MAX_ELEMENTS", 100)
    g = fastinit.Generator(7)
    for fn, w in [(fastinit.orthogonal_, np.full((20, 20), 3.0)),
                  (fastinit.delta_orthogonal_, np.full((12, 12, 3), 3.0))]:
        with pytest.raises(ValueError, match="LAPACK's 32-bit indexing"):
            fn(w, generator=g)
        assert (w == 3.0).all()
    monkeypatch.undo()
    w = np.full((2, 4, 3, 3), 3.0)  # torch layout: out=2 < in=4
    with pytest.raises(ValueError, match="in_channels"):
        fastinit.delta_orthogonal_(w, generator=g)
    assert (w == 3.0).all()
    assert g.next_seed() == fastinit.Generator(7).next_seed()


def test_the_lapack_limit_is_2_31_minus_1_elements_inclusive():
    """LP64 LAPACK indexes with a 32-bit int: a matrix of 2**31 - 1 elements fits, one more does not (checked on the
    shapes only: no matrix is drawn)."""
    from fastinit.linalg import check_size

    for rows, cols in ((1, 2**31 - 1), (2**31 - 1, 1), (46340, 46341), (7, 306783378)):  # 7 * 306783378 = 2**31 - 2
        check_size(rows, cols, "orthogonal_")
    for rows, cols in ((1, 2**31), (2, 2**30), (46341, 46341), (2**31 - 1, 2)):
        with pytest.raises(ValueError, match=rf"orthogonal_: a {rows}x{cols} matrix has more than 2\*\*31 - 1 "):
            check_size(rows, cols, "orthogonal_")


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-13), (np.float32, 5e-6)])
@pytest.mark.parametrize("shape, block", [((200, 300), 64), ((300, 200), 64), ((257, 257), 64), ((130, 700), 256),
                                          ((700, 130), 256), ((1, 9), 64), ((9, 1), 64)])
def test_blas3_accumulation_equals_lapack_orgqr_and_orgrq(shape, block, dtype, tol):
    """linalg's BLAS-3 forming of Q = H_1 ⋯ H_k (UT-transform T, GEMM updates and panels) gives LAPACK's
    own ?orgqr / ?orgrq result for the same reflectors, over several blocks of either construction."""
    from scipy.linalg import lapack

    from fastinit import linalg

    b = fastinit.normal_(np.empty(shape, dtype), seed=5)
    tall = shape[0] > shape[1]
    tau, sign = np.empty(min(shape), dtype), np.empty(min(shape), dtype)
    linalg._reflectors(b, tall, tau, sign)
    prefix = "s" if dtype == np.float32 else "d"
    want, _, info = getattr(lapack, prefix + ("orgrq" if tall else "orgqr"))(np.asfortranarray(b.T), tau)
    assert info == 0
    ones = np.ones(min(shape), dtype)  # no sign fix: LAPACK's Q itself
    (linalg._orgrq if tall else linalg._orgqr)(linalg._lapack(np.dtype(dtype)), b.T, tau, block, ones)
    assert np.abs(b.T.astype(np.float64) - want).max() <= tol


@pytest.mark.parametrize("shape, block", [((700, 130), 256), ((300, 200), 64), ((1100, 300), 128)])
def test_tall_float32_accumulation_is_as_accurate_as_lapack(shape, block):
    """Tall float32 (the ?orgrq construction): against LAPACK in float64 on the same float32 reflectors, the
    error is LAPACK's own sorgrq's, within 2× (each block's own rows are formed in float64; in float32 they
    erred 10× more: 6.4e-7 at 700 x 130)."""
    from scipy.linalg import lapack

    from fastinit import linalg

    b = fastinit.normal_(np.empty(shape, np.float32), seed=5)
    tau, sign = np.empty(shape[1], np.float32), np.empty(shape[1], np.float32)
    linalg._reflectors(b, True, tau, sign)
    exact = lapack.dorgrq(np.asfortranarray(b.T, np.float64), tau.astype(np.float64))[0]
    lapack_err = np.abs(lapack.sorgrq(np.asfortranarray(b.T), tau)[0] - exact).max()
    linalg._orgrq(linalg._lapack(np.dtype(np.float32)), b.T, tau, block, np.ones(shape[1], np.float32))
    assert np.abs(b.T - exact).max() <= 2 * max(lapack_err, 1e-7)


@pytest.mark.parametrize("gain", [1.0, 1.7])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 7), (7, 1), (6, 4), (4, 6), (2, 2), (64, 64), (128, 32), (32, 128), (150, 150),
                                   (256, 40), (41, 257)])
def test_small_matrices_are_lapack_q_times_d_rounded_once(shape, dtype, gain):
    """Small matrices are formed by one level-2 pass in float64 (no BLAS): LAPACK's float64 ?orgqr / ?orgrq on the
    same reflectors, times the signs and the gain, to 1e-14 — and a float32 result is that matrix rounded once
    (within half an ulp and the float64 error; the blocked float32 path errs 1-4e-7)."""
    from scipy.linalg import lapack

    from fastinit import linalg

    assert linalg.small(*shape)
    b = fastinit.normal_(np.empty(shape, dtype), seed=6)
    tall = shape[0] > shape[1]
    tau, sign = np.empty(min(shape), dtype), np.empty(min(shape), dtype)
    linalg._reflectors(b, tall, tau, sign)
    q, _, info = getattr(lapack, "dorgrq" if tall else "dorgqr")(np.asfortranarray(b.T, np.float64),
                                                                 tau.astype(np.float64))
    assert info == 0
    exact = gain * (q * sign[:, None] if tall else q * sign[None, :]).T  # D scales A = Bᵀ's rows or columns
    linalg._form_small(b, tall, tau, sign, gain)
    err = np.abs(b - exact)
    if dtype == np.float64:
        assert err.max() <= 2e-14
    else:
        assert (err <= 0.5 * np.spacing(np.abs(exact).astype(np.float32)) + 1e-14).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 2), (5, 5), (40, 24), (24, 40), (33, 96), (96, 33)])
def test_small_matrices_have_the_bits_of_a_numpy_restatement(shape, dtype):
    """The level-2 pass is a fixed order of IEEE float64 operations (no FMA contraction, no reassociation): its float64
    matrix has the bits of NumPy's ufuncs doing them in that order, so the same bits on any machine (compared before
    any rounding to float32, which would hide an FMA's last bit; and a float64 orthogonal_ end to end)."""
    from fastinit import linalg

    from reference import householder_product

    b = fastinit.normal_(np.empty(shape, dtype), seed=8)
    tall = shape[0] > shape[1]
    tau, sign = np.empty(min(shape), dtype), np.empty(min(shape), dtype)
    linalg._reflectors(b, tall, tau, sign)
    args = (tau.astype(np.float64), sign.astype(np.float64), tall)
    want = householder_product(np.array(b if tall else b.T, np.float64), *args)
    got = np.array(b if tall else b.T, np.float64, order="C")  # as _form_small makes it (b.T kept F order: a
    linalg._householder_product(got, *args)  # second signature in numba's cache, which test_precompile refuses)
    assert got.tobytes() == want.tobytes()
    if dtype == np.float64:
        assert fastinit.orthogonal_(np.empty(shape), seed=8).tobytes() == (want if tall else want.T).tobytes()


def test_which_matrices_are_small():
    """The level-2 path's limits (linalg.SMALL_*): at most 2¹⁶ elements, and a work of k²(3n − k)/3 multiply-adds
    within 2²⁰ (tall) or 2¹⁹ (wide), or within 2²³ (tall, n <= 2k) or 2²² (wide, n <= 1.25 k)."""
    from fastinit import linalg

    for shape in [(1, 1), (1, 7), (64, 64), (128, 128), (180, 180), (40, 256), (256, 40), (256, 64), (200, 100),
                  (320, 160), (64, 128)]:
        assert linalg.small(*shape), shape
    for shape in [(192, 192), (256, 256), (32, 1024), (64, 256), (384, 64), (100, 200), (128, 256), (512, 128),
                  (1, 70_000)]:
        assert not linalg.small(*shape), shape


def test_small_matrices_use_no_blas_and_large_ones_do(monkeypatch):
    """What makes a small matrix's bits the same on every machine: its path never reaches BLAS."""
    from fastinit import linalg

    def no_blas(dtype):
        raise AssertionError("BLAS called")

    monkeypatch.setattr(linalg, "_lapack", no_blas)
    for dtype in (np.float32, np.float64, np.float16):
        w = fastinit.orthogonal_(np.empty((96, 80), dtype), seed=1)
        assert gram_error(w, 1.0) <= ORTHO_TOL[dtype]
    with pytest.raises(AssertionError, match="BLAS called"):
        fastinit.orthogonal_(np.empty((256, 256), np.float32), seed=1)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (300, 280)])
def test_orthogonal_gain_at_the_dtype_limit_stays_finite(shape):
    """gain × Q is finite for gain = the largest float32 (|Q_ij| <= 1); the gain must not scale an intermediate."""
    big = float(np.finfo(np.float32).max)
    w = fastinit.orthogonal_(np.empty(shape, np.float32), gain=big, seed=2)
    assert np.isfinite(w).all()
    assert gram_error(w.astype(np.float64) / big, 1.0) <= 1e-5


@pytest.mark.parametrize("fn", [fastinit.orthogonal_, fastinit.delta_orthogonal_])
def test_numpy_scalar_gain_is_compared_as_a_float(fn):
    """A float16 gain checked against bfloat16's limit: NumPy 2 would cast the limit to float16 (an overflow
    warning, an error under -W error, and a wrong comparison)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = fn(np.empty((3, 3, 3, 4), ml_dtypes.bfloat16), gain=np.float16(1.5), seed=0)
        ref = fn(np.empty((3, 3, 3, 4), ml_dtypes.bfloat16), gain=1.5, seed=0)
    assert np.array_equal(w.view(np.uint16), ref.view(np.uint16))
    with pytest.raises(ValueError, match="gain"):
        fn(np.empty((3, 3, 3, 4), np.float16), gain=np.float32(1e5), seed=0)


@pytest.mark.parametrize("shape", [(300, 400), (400, 300)])  # 120,000 elements: the blocked LAPACK path
@pytest.mark.parametrize("gain", [0.5, -1.0, 3.0])
def test_gain_scales_large_blocked_orthogonal_matrices(shape, gain):
    assert not linalg.small(*shape)
    w = fastinit.orthogonal_(np.empty(shape), gain=gain, seed=3).astype(np.float64)
    small = w @ w.T if shape[0] <= shape[1] else w.T @ w
    assert np.abs(small - gain**2 * np.eye(min(shape))).max() < 1e-12
    base = fastinit.orthogonal_(np.empty(shape), seed=3)
    assert np.allclose(w, gain * base, rtol=0, atol=1e-13)  # the same matrix, times gain (sign included)


@pytest.mark.parametrize("fn, shape", [(fastinit.orthogonal_, (8, 8)), (fastinit.orthogonal_, (64, 24)),
                                       (fastinit.orthogonal_, (300, 400)), (fastinit.delta_orthogonal_, (6, 4, 3, 3))])
@pytest.mark.parametrize("gain", [-1.0, -0.5, 2.0])
def test_orthogonal_is_gain_times_the_unit_gain_matrix(fn, shape, gain):
    base = fn(np.empty(shape), seed=11, stream="w")
    w = fn(np.empty(shape), gain=gain, seed=11, stream="w")
    assert np.allclose(w, gain * base, rtol=0, atol=1e-13)
    assert np.abs(w).max() > 0.1


def test_checks_on_an_empty_twin_quote_the_shape_asked_for(tmp_path):
    """Writers (dask, io, jax) and meta tensors check arguments on an empty twin: a wrong rank quoted the twin's
    shape, "got shape (0, 4, 5)" of a (3, 4, 5) request (a review)."""
    import fastinit.dask as fid
    from fastinit.io import TensorSpec, write_safetensors

    calls = [(lambda: fid.sparse(3, 4, 5, chunks=2, sparsity=0.1), r"sparse: .* got shape \(3, 4, 5\)$"),
             (lambda: fid.from_initializer(fastinit.eye_, (7, 3, 2), chunks=-1, sampled=False),
              r"eye_: .* got shape \(7, 3, 2\)$"),
             (lambda: write_safetensors(tmp_path / "x.safetensors", {"b": TensorSpec((4, 4), "float32", "dirac_")},
                                        seed=0), r"b: dirac_: .* got shape \(4, 4\)$")]
    torch = pytest.importorskip("torch")
    import fastinit.torch as ft

    calls += [(lambda: ft.dirac_(torch.empty(4, 2, device="meta")), r"dirac_: .* got shape \(4, 2\)$"),
              (lambda: ft.delta_orthogonal_(torch.empty(2, 4, device="meta")), r"got shape \(2, 4\)$")]
    for call, match in calls:
        with pytest.raises(ValueError, match=match):
            call()
    assert not list(tmp_path.iterdir())


def test_only_the_twins_shape_is_rewritten_in_an_error():
    """A stream=(0, 1) the caller wrote stays as written (a 2-D meta tensor's twin is (0, 1) too)."""
    torch = pytest.importorskip("torch")
    import fastinit.dask as fid
    import fastinit.torch as ft

    for call, shown in [(lambda: ft.normal_(torch.empty(4, 8, device="meta"), stream=(0, 1)), r"\(0, 1\)"),
                        (lambda: fid.normal(3, 4, stream=(0, 4)), r"\(0, 4\)")]:
        with pytest.raises(TypeError, match=rf"stream must be an int in \[0, 2\*\*64\) or a str, got tuple {shown}$"):
            call()
