"""Layer 5 helper — Haar-random (semi-)orthogonal matrices in place, by random Householder reflectors.

A Householder QR of an m×k Gaussian matrix G (m ≥ k) builds reflectors H_j = I − τ_j v_j v_jᵀ from
the trailing part of column j *after* H_1 … H_{j−1} have been applied; by the rotation invariance
of the Gaussian that trailing part is again an i.i.d. Gaussian vector of length m − j, independent
of the earlier reflectors.  So the factorization can be skipped (Stewart 1980): draw the k
Gaussian vectors directly, turn each into its reflector (LAPACK ``?larfg``: β = −sign(α)‖x‖,
τ = (β − α)/β, v = x/(α − β)), and accumulate Q = H_1 ⋯ H_k as LAPACK's blocked ``?orgqr`` does
(2mk² − 2k³/3 flops: half of what QR + Q formation costs), but with every step BLAS-3: per block
of 256 reflectors V, the compact-WY factor T from VᵀV (one SYRK and one triangular inverse, the "UT
transform"), the update C −= V T Vᵀ C of the columns already formed as two GEMMs and a TRMM, and
the block's own columns E − V (T V₁ᵀ) as one in-place TRMM over V (where LAPACK spends level-2
``?larft``/``?org2r`` sweeps: 1.5× slower here at 2048², 2.5× for tall matrices).
Fixing the signs with D = diag(sign β_j) — Mezzadri (2007)'s R-diagonal sign fix, since β_j is
R's diagonal — makes Q·D exactly Haar-distributed (on O(n), or uniform on the Stiefel manifold).

Small matrices (:func:`small`: an LSTM's gates, a 128² recurrent matrix) skip BLAS: one compiled
level-2 pass (LAPACK's unblocked ``?org2r`` / ``?orgr2``) forms Q·D in float64 in a fixed order, where
the blocked path's ~15 NumPy and ctypes calls cost ~0.2 ms before any arithmetic.

Everything happens in the caller's C-contiguous float32/float64 (rows, cols) matrix B, which
BLAS sees as the column-major (cols, rows) matrix A = Bᵀ:

* rows ≤ cols ("wide", B has orthonormal rows): A is tall, reflector j lies in B[j, j:]
  (contiguous) and the ``?orgqr`` construction forms A's orthonormal columns;
* rows > cols ("tall", B has orthonormal columns): A is wide, and the ``?orgrq`` construction
  (RQ's reflectors, backward, from the right) forms A's orthonormal rows; reflector j lies in
  B[: rows − cols + j + 1, j], gathered with row-major passes.

Work space beyond B: τ, the signs and the column-norm accumulators (O(16 · min(rows, cols))), the
update's product (256 · min(rows, cols) elements) and a few 256 × 256 matrices — no copy of the
matrix: each block's reflectors are used where they lie.  A small matrix is formed in a float64
copy (at most 8 · SMALL_ELEMENTS bytes: 512 KiB), except a tall float64 one, formed in place.

Same seed → same matrix on the same machine, BLAS library and thread count; a different BLAS
build may order the BLAS-3 sums differently and change the last bits.  A small matrix uses no BLAS
and only IEEE additions and multiplications in a fixed order: the same bits on every machine.

References: G. W. Stewart, "The efficient generation of random orthogonal matrices with an
application to condition estimators", SIAM J. Numer. Anal. 17 (1980).  F. Mezzadri, "How to
generate random matrices from the classical compact groups", Notices AMS 54 (2007).
R. Schreiber, C. Van Loan, "A storage-efficient WY representation for products of Householder
transformations", SIAM J. Sci. Stat. Comput. 10 (1989).  C. Puglisi, "Modification of the
Householder method based on the compact WY representation", SIAM J. Sci. Stat. Comput. 13 (1992);
T. Joffrain, T. M. Low, E. S. Quintana-Ortí, R. van de Geijn, F. G. Van Zee, "Accumulating
Householder transformations, revisited", ACM TOMS 32 (2006).
"""
from __future__ import annotations

import functools
import os
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

import numba
import numpy as np

from ._cpu import run
from ._jit import kernel, parallel_kernel, scalar

__all__ = ["check_size", "haar_orthonormalize", "small"]

LAPACK_MAX_ELEMENTS = 2**31 - 1  # LAPACK's 32-bit (LP64) indexing
NORM_CHUNKS = 16  # row chunks of the column-norm pass (a constant, so the sums do not depend on threads)
BLOCK = 256  # compact-WY block width: BLAS-3 updates with inner dimension 256 stay compute-bound
# The updates' independent columns (rows, tall) go to BLAS in panels of PANEL, each call on one BLAS thread, the
# panels on a thread pool of fastinit's own: a fixed split, so the bits do not depend on any thread count (OpenBLAS's
# own threads split a product by their number, and its single- and multi-threaded kernels sum differently).
PANEL = 256
PANEL_INLINE = 1 << 18  # a split product of fewer elements runs its spans on the calling thread
# The level-2 path (:func:`small`): at most SMALL_ELEMENTS elements, and a level-2 work of k²(3n − k)/3 multiply-adds
# (k = min, n = max of rows and cols) within SMALL_WORK, or within SMALL_SQUARE_WORK for a near-square matrix (long
# inner loops); a wide matrix pays a transposed copy and write-back, so its limits are lower (dict keys: tall).
# Measured on the 2-vCPU VM (float32, orthogonal_ with either path): level-2 / blocked time 0.05 at 32², 0.2 at 64²,
# 0.5-0.8 at 128² to 180², 0.4-0.5 at 128 x 64, 0.7 at 256 x 64 and 320 x 160; about 1 at 64 x 256, 96 x 192 and
# 100 x 200; 1.1-1.5 at 384 x 64, 64 x 384 and 128 x 256 (left blocked), 1.15 at 256².
SMALL_ELEMENTS = 1 << 16
SMALL_WORK = {True: 1 << 20, False: 1 << 19}
SMALL_SQUARE_WORK = {True: 1 << 23, False: 1 << 22}  # tall: n <= 2k; wide: n <= 1.25 k


@scalar
def _larfg(alpha, xnorm2):
    """LAPACK ?larfg from alpha and ‖x‖²: (β, τ, the factor 1/(α − β) that turns x into v)."""
    if xnorm2 == 0.0:
        return alpha, 0.0, 1.0  # H = I; β = α
    beta = -np.copysign(np.sqrt(alpha * alpha + xnorm2), alpha)
    return beta, (beta - alpha) / beta, 1.0 / (alpha - beta)


@parallel_kernel
def _reflectors(b, tall, tau, sign):
    """Turn the Gaussian entries of ``b`` into ``?larfg`` reflectors in place; τ and sign(β) out."""
    rows, cols = b.shape
    k = min(rows, cols)
    if not tall:  # reflector j = b[j, j:], alpha first
        for j in numba.prange(k):
            s = 0.0
            for c in range(j + 1, cols):
                s += np.float64(b[j, c]) ** 2
            alpha = np.float64(b[j, j])
            beta, t, scale = _larfg(alpha, s)
            tau[j], sign[j] = t, 1.0 if beta >= 0.0 else -1.0
            for c in range(j + 1, cols):
                b[j, c] = b[j, c] * scale
    else:  # reflector j = b[: d + j + 1, j], alpha last (d = rows - cols): row-major passes
        d = rows - cols
        acc = np.zeros((NORM_CHUNKS, cols))  # fixed row chunks, summed in order: same bits for any thread count
        per = (rows + NORM_CHUNKS - 1) // NORM_CHUNKS
        for t in numba.prange(NORM_CHUNKS):
            for r in range(t * per, min(rows, (t + 1) * per)):
                for c in range(max(0, r - d + 1), cols):
                    acc[t, c] += np.float64(b[r, c]) ** 2
        scales = np.empty(cols)
        for j in range(cols):
            s = 0.0
            for t in range(NORM_CHUNKS):  # a plain loop: an array .sum() here would become a threaded reduction
                s += acc[t, j]
            beta, tau[j], scales[j] = _larfg(np.float64(b[d + j, j]), s)
            sign[j] = 1.0 if beta >= 0.0 else -1.0
        for r in numba.prange(rows):
            for c in range(max(0, r - d + 1), cols):
                b[r, c] = b[r, c] * scales[c]


def small(rows: int, cols: int) -> bool:
    """Whether a rows × cols matrix is formed by :func:`_householder_product` rather than the blocked BLAS path."""
    k, n, tall = min(rows, cols), max(rows, cols), rows > cols
    work = k * k * (3 * n - k) // 3  # multiply-adds of the level-2 pass: w = τ Cᵀv, then C −= v wᵀ
    near_square = n <= 2 * k if tall else 4 * n <= 5 * k
    limit = SMALL_SQUARE_WORK[tall] if near_square else SMALL_WORK[tall]
    return rows * cols <= SMALL_ELEMENTS and work <= limit


@kernel
def _householder_product(m, tau, sign, tall):
    """Q·D = H_1 ⋯ H_k · diag(sign), level 2, in place in the float64 C-contiguous n × k matrix ``m`` whose column i
    holds reflector i: ``m`` = Bᵀ for a wide B (support rows [i, n), unit at i: LAPACK's ``?org2r``, last reflector
    first), ``m`` = B for a tall one (support rows [0, n − k + i], unit last: ``?orgr2``, first reflector first).
    Each step applies H_i to the columns already formed, w = τ Cᵀv then C −= v wᵀ, with C's rows the inner loop
    (contiguous, so it vectorizes without reassociating a sum), then forms column i: −τ d v, with (1 − τ) d at the
    unit (d = sign[i]) and zeros off the support.  The later steps only multiply from the other side, so
    column i keeps its d."""
    n, k = m.shape
    w = np.empty(k)
    for step in range(k):
        i = step if tall else k - 1 - step
        lo, u, hi = (0, n - k + i, n - k + i + 1) if tall else (i, i, n)
        j0, j1 = (0, i) if tall else (i + 1, k)  # the columns already formed
        t = tau[i]
        m[u, i] = 1.0
        if t != 0.0 and j1 > j0:  # τ = 0: H = I
            acc = w[:j1 - j0]
            acc[:] = 0.0
            c = lo
            while c + 1 < hi:  # two rows a pass: each acc[j] summed in row order, half the acc traffic
                v0, v1 = m[c, i], m[c + 1, i]
                r0, r1 = m[c, j0:j1], m[c + 1, j0:j1]
                for j in range(acc.size):
                    acc[j] = (acc[j] + r0[j] * v0) + r1[j] * v1
                c += 2
            if c < hi:
                r0, v0 = m[c, j0:j1], m[c, i]
                for j in range(acc.size):
                    acc[j] += r0[j] * v0
            for j in range(acc.size):
                acc[j] *= t
            for c in range(lo, hi):
                r0, v0 = m[c, j0:j1], m[c, i]
                for j in range(acc.size):
                    r0[j] -= acc[j] * v0
        f = -t * sign[i]
        for c in range(lo, hi):
            m[c, i] *= f
        m[u, i] = (1.0 - t) * sign[i]
        for c in range(0, lo):
            m[c, i] = 0.0
        for c in range(hi, n):
            m[c, i] = 0.0


def _form_small(b: np.ndarray, tall: bool, tau: np.ndarray, sign: np.ndarray, gain: float) -> None:
    """gain · Q·D of :func:`small` matrices into ``b`` (reflectors in place), through :func:`_householder_product`:
    formed in float64 and rounded once into ``b``."""
    inplace = tall and b.dtype == np.float64
    m = b if inplace else np.array(b if tall else b.T, np.float64, order="C")
    _householder_product(m, tau.astype(np.float64), sign.astype(np.float64), tall)
    if gain != 1:
        m *= gain  # |gain| <= the target's largest finite value and |Q_ij| <= 1: no overflow in float64
    if not inplace:
        b[...] = m if tall else m.T


@functools.lru_cache(maxsize=None)
def _lapack(dtype: np.dtype) -> "_Lapack":
    return _Lapack(dtype)


class _Lapack:
    """The few BLAS/LAPACK routines the blocked accumulation needs, called through SciPy's exported
    function pointers (``scipy.linalg.cython_blas`` / ``cython_lapack``) so that sub-matrices are passed
    by pointer and leading dimension: BLAS works in place inside the caller's matrix, never on a copy.
    Every product goes through this one library: a second BLAS's thread pool (NumPy's) would spin
    against it."""

    def __init__(self, dtype: np.dtype):
        import ctypes

        from numba.extending import get_cython_function_address

        self.c = ctypes
        self.prefix = "s" if np.dtype(dtype) == np.float32 else "d"
        self.real = ctypes.c_float if self.prefix == "s" else ctypes.c_double
        arity = {"gemm": 13, "syrk": 10, "trmm": 11, "trtri": 6}  # every argument is a pointer (Fortran ABI)
        self.fns = {name: ctypes.cast(
            get_cython_function_address("scipy.linalg.cython_" + ("lapack" if name == "trtri" else "blas"),
                                        self.prefix + name),
            ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * n))) for name, n in arity.items()}

    def __call__(self, name: str, *args):
        """Call ``?name`` with ints and floats passed by reference, bytes as chars, ``(ptr,)`` tuples as
        raw pointers."""
        c = self.c
        keep = [c.c_int(a) if isinstance(a, (int, np.integer)) else c.c_char(a) if isinstance(a, bytes)
                else self.real(a) if isinstance(a, float) else None for a in args]
        ptrs = [c.addressof(k) if k is not None else a[0] for k, a in zip(keep, args)]
        self.fns[name](*ptrs)


@functools.lru_cache(maxsize=16)
def _outside(n: int, lower: bool, k: int) -> np.ndarray:
    """The n × n boolean mask of what ``np.tril(m, k)`` (``lower``) or ``np.triu(m, k)`` sets to zero."""
    ones = np.ones((n, n), bool)
    mask = np.triu(ones, k + 1) if lower else np.tril(ones, k - 1)
    mask.flags.writeable = False
    return mask


def _keep_triangle(m: np.ndarray, lower: bool, k: int = 0) -> None:
    """``m[...] = np.tril(m, k)`` (``lower``) or ``np.triu(m, k)`` for a square view, in place through a cached mask
    (a 256² block of a strided view: 65 against 310-470 µs)."""
    np.copyto(m, 0, where=_outside(m.shape[0], lower, k))


class _Panels:
    """Runs ``fn(start, stop)`` over fixed spans of a length ``n`` (their other extent ``other``) on ``threads``
    threads: an even number of equal spans of at most :data:`PANEL` (more where ``other`` is small: a span holds
    about PANEL² elements), set by (n, other) alone, so the BLAS calls are the same for any thread count; on the
    calling thread alone for 1 thread or a product under :data:`PANEL_INLINE` elements (the pool's hand-off costs
    more).  The pool's threads are fastinit's own (:func:`_pool`) and run BLAS on one thread
    (:func:`_one_blas_thread`, :func:`_limit_here`); the calling thread takes spans too, each span is run once by
    whichever thread claims it first (so one the pool could not start, at interpreter exit or with no thread left to
    start, runs here), and the call returns only when none is running."""

    def __init__(self, threads: int):
        self.threads = threads

    def __call__(self, fn: Callable[[int, int], None], n: int, other: int) -> None:
        cap = max(PANEL, -(-PANEL * PANEL // max(other, 1)))
        count = 2 * -(-n // (2 * cap))
        width = -(-n // max(count, 1) // 16) * 16
        spans = [(s, min(s + width, n)) for s in range(0, n, width)] if n else []
        if self.threads == 1 or len(spans) == 1 or n * other < PANEL_INLINE:
            for span in spans:
                fn(*span)
            return
        claims = iter(range(len(spans)))  # next() on it is atomic under the GIL: each span is claimed once
        lock = threading.Lock()

        def work() -> None:
            while True:
                with lock:
                    k = next(claims, None)
                if k is None:
                    return
                fn(*spans[k])

        futures = []
        try:
            try:
                pool = _pool(self.threads)
                for _ in range(min(self.threads, len(spans)) - 1):
                    futures.append(pool.submit(work))
            except RuntimeError:  # no thread or work can start (interpreter exit): the spans run here
                pass
            work()
            for done in futures:
                if not done.cancel():  # (one not started yet, behind another call's work, has nothing left to do)
                    done.result()  # (ctypes releases the GIL during each BLAS call)
        finally:  # an exception or Ctrl-C: nothing left running to write into the matrix once the call returns
            with lock:
                for _ in claims:  # no span is claimed from now on
                    pass
            for done in futures:
                done.cancel()
            if futures:
                from concurrent.futures import wait

                wait(futures)


# Re-entrant: a signal handler that fills (a checkpoint on SIGUSR1) may run on a thread holding it, while it sets a
# BLAS library's thread count (a plain lock deadlocked there: a review), as _cpu.KERNEL_LOCK
_BLAS_LOCK = threading.RLock()
# callers inside _one_blas_thread; the process-wide limits the last to leave restores; whether all are set yet
_blas_held: list = [0, None, False]
_POOL: list = [None, 0]  # the panels' thread pool and its thread count


def _pool(threads: int):
    """The panels' pool of ``threads`` threads, kept for later calls (starting one took 350 µs, a fifth of a 300²
    matrix) and replaced when numba's thread count changes (the old one's running spans finish); a forked child
    starts its own (:func:`_after_fork`)."""
    with _BLAS_LOCK:
        if _POOL[0] is None or _POOL[1] != threads:
            from concurrent.futures import ThreadPoolExecutor

            if _POOL[0] is not None:
                _POOL[0].shutdown(wait=False)
            _POOL[:] = [ThreadPoolExecutor(threads, thread_name_prefix="fastinit-blas", initializer=_limit_here),
                        threads]
        return _POOL[0]


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """SciPy's BLAS on one thread while the block runs: a process-wide limit (OpenBLAS's own threads, MKL, BLIS)
    set by the first concurrent caller and restored by the last (where it is still one: a count set meanwhile by
    other means is left as it is), and the per-thread limit of an OpenMP OpenBLAS in this thread
    (:func:`_limit_here`; the pool's threads set theirs).  Set through the libraries' own calls, not threadpoolctl's
    (whose 3.8 rule lets one "controlling thread" set OpenBLAS's count and ignores the others): fastinit neither
    waits for nor takes that control.  Another thread changing the count while a call runs can change its bits."""
    mine: list = []
    counted = False
    try:  # counted, then each limit recorded before it is set, all inside: the finally undoes what an interrupt
        with _BLAS_LOCK:  # (a Ctrl-C raised as a library's call returns) left done (it had wedged the count,
            _blas_held[0] += 1  # and with it the limit, for good: orthogonal_'s bits changed)
            counted = True
            if _blas_held[0] == 1:
                _blas_held[1:] = [[], False]
            if not _blas_held[2]:  # the first caller, or a signal handler's orthogonal_ interrupting its setup
                _limit_all(_blas_held[1])
                _blas_held[2] = True
        _limit_here(mine)
        yield
    finally:
        try:
            for lib, count in mine:
                _set_threads(lib, count)
        finally:
            if counted:
                with _BLAS_LOCK:
                    _blas_held[0] -= 1
                    if _blas_held[0] == 0:
                        held, _blas_held[1:] = _blas_held[1], [None, False]
                        for lib, count in held or ():
                            if lib.get_num_threads() == 1:
                                _set_threads(lib, count)


def _limit_all(held: list) -> None:
    """Every process-wide BLAS limit set to one thread, each library's count recorded in ``held`` before its first
    set.  A signal handler's ``orthogonal_`` that interrupts this (the lock is re-entrant) runs it to the end itself
    (a review: it had run on BLAS not yet limited, other bits), setting again what was recorded, maybe not yet set;
    the interrupted loop then goes on, recording nothing twice that matters (a second record holds the same count)."""
    for lib in _blas():
        if not _per_thread(lib):
            if all(lib is not seen for seen, _ in held):
                held.append((lib, lib.get_num_threads()))
            _set_threads(lib, 1)


def _limit_here(saved: list | None = None) -> list:
    """One thread for this thread's calls into an OpenMP-threaded OpenBLAS (its limit is per calling thread); the
    (library, count) pairs to restore, appended to ``saved`` as they are set."""
    saved = [] if saved is None else saved
    for lib in _blas():
        if _per_thread(lib):
            saved.append((lib, lib.get_num_threads()))
            _set_threads(lib, 1)
    return saved


def _set_threads(lib, count) -> None:
    """Set a BLAS library's thread count through its own call (threadpoolctl's ``_real_set_num_threads`` where it
    has one: its public ``set_num_threads`` silently does nothing from a thread other than its controlling one)."""
    if count is not None:
        getattr(lib, "_real_set_num_threads", lib.set_num_threads)(count)


def _after_fork() -> None:
    """In a forked child: a free lock (another thread may have held it), no pool (its threads are the parent's), and
    the BLAS limits a parent's ``orthogonal_`` callers would have restored."""
    global _BLAS_LOCK
    _BLAS_LOCK = threading.RLock()
    _POOL[:] = [None, 0]
    held, _blas_held[:] = _blas_held[1], [0, None, False]
    for lib, count in held or ():
        _set_threads(lib, count)


if hasattr(os, "register_at_fork"):  # (not on Windows)
    os.register_at_fork(after_in_child=_after_fork)


def _per_thread(lib) -> bool:
    return lib.internal_api == "openblas" and getattr(lib, "threading_layer", None) == "openmp"


@functools.lru_cache(maxsize=None)
def _blas() -> tuple:
    """threadpoolctl's controllers of the BLAS libraries SciPy calls (loaded by :func:`_lapack`), found once (2 ms):
    those in SciPy's own folders (its wheels' scipy.libs/ or scipy_openblas32/), NumPy's separate copy left alone
    (limiting it changed NumPy's products in other threads), or every BLAS where SciPy has none of its own (a
    shared system or conda library)."""
    import scipy
    from threadpoolctl import ThreadpoolController

    libs = [lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"]
    home = os.path.dirname(os.path.realpath(scipy.__file__))  # .../site-packages/scipy
    folders = tuple(f + os.sep for f in (home, home + ".libs", os.path.join(os.path.dirname(home), "scipy_openblas32")))
    own = [lib for lib in libs if os.path.realpath(lib.filepath or "").startswith(folders)]
    return tuple(own or libs)


def _orgqr(lp: _Lapack, a: np.ndarray, tau: np.ndarray, nb: int, d: np.ndarray,
           panels: Callable = _Panels(1)) -> None:
    """LAPACK ?orgqr's blocked loop (last block first) with block size ``nb`` on the column-major m×n
    ``a`` (m ≥ n = k reflectors), all of it BLAS-3 and in place: each block's reflectors V are made
    explicit where they lie (unit diagonal, zeros above it: that triangle holds nothing used), their
    compact-WY factor T comes from VᵀV (:func:`_t_factor`, against ?larft's level-2 sweep), two GEMMs
    and a TRMM apply them to the columns already formed (?larfb's work, without its TRMMs on V's
    triangle), and the block's own columns become (E − V W) D, W = T V₁ᵀ, by one TRMM over V itself
    (against ?org2r's level-2 sweep).  ``d``: scale column j of the result by d[j] (the later updates
    only left-multiply, so it costs no pass of its own).  ``panels``: a :class:`_Panels`, which splits the
    updates' independent columns (and V's rows)."""
    m, n = a.shape
    t = np.empty((nb, nb), a.dtype, order="F")
    w = np.empty((nb, nb), a.dtype, order="F")
    work = np.empty(n * nb, a.dtype)
    size = a.dtype.itemsize
    for i in range(((n - 1) // nb) * nb, -1, -nb):
        ib = min(nb, n - i)
        r = m - i
        v = a[i:, i:i + ib]  # V, leading dimension m
        v1 = v[:ib]
        _keep_triangle(v1, lower=True, k=-1)
        np.fill_diagonal(v1, 1)
        _t_factor(lp, v, m, tau[i:i + ib], t)
        vp, tp, wp = (v.ctypes.data,), (t.ctypes.data,), (w.ctypes.data,)
        c = n - i - ib

        def update(c0: int, c1: int) -> None:  # apply H(i) ... H(i+ib-1) to formed columns: C -= V (T (Vᵀ C))
            cp, wk = (a[i:, i + ib + c0:].ctypes.data,), (work.ctypes.data + c0 * ib * size,)
            lp("gemm", b"T", b"N", ib, c1 - c0, r, 1.0, vp, m, cp, m, 0.0, wk, ib)
            lp("trmm", b"L", b"U", b"N", b"N", ib, c1 - c0, 1.0, tp, nb, wk, ib)
            lp("gemm", b"N", b"N", r, c1 - c0, ib, -1.0, vp, m, wk, ib, 1.0, cp, m)

        panels(update, c, r)
        lp("gemm", b"N", b"T", ib, ib, ib, 1.0, tp, nb, vp, m, 0.0, wp, nb)  # W = T V₁ᵀ (upper triangular)
        di = d[i:i + ib]
        w[:ib, :ib] *= di
        panels(lambda r0, r1: lp("trmm", b"R", b"U", b"N", b"N", r1 - r0, ib, -1.0, wp, nb,  # V ← −V W D, in place
                                 (v.ctypes.data + r0 * size,), m), r, ib)
        v[np.arange(ib), np.arange(ib)] += di  # (E − V W) D
        a[:i, i:i + ib] = 0


def _t_factor(lp: _Lapack, v: np.ndarray, ldv: int, tau: np.ndarray, t: np.ndarray, lower: bool = False) -> None:
    """The triangular T of a block reflector from T⁻¹ = striu(VᵀV) + diag(1/τ) (the "UT transform",
    Puglisi 1992; Joffrain et al. 2006): one SYRK and one triangular inverse, into ``t[:ib, :ib]`` with
    its other triangle zero.  Forward, columnwise V (r × ib): H(1) ⋯ H(ib) = I − V T Vᵀ, T upper;
    ``lower``: backward, rowwise V (ib × r): H(ib) ⋯ H(1) = I − Vᵀ T V, T⁻¹ = stril(VVᵀ) + diag(1/τ).
    A τ = 0 reflector (H = I) gets a zero row and column.  ``ldv``: V's leading dimension (its matrix's
    rows; not read off the strides, which NumPy leaves arbitrary on an axis of length 1)."""
    ib, r = v.shape if lower else v.shape[::-1]
    ld = t.shape[0]
    uplo = b"L" if lower else b"U"
    lp("syrk", uplo, b"N" if lower else b"T", ib, r, 1.0, (v.ctypes.data,), ldv, 0.0,
       (t.ctypes.data,), ld)
    tt = t[:ib, :ib]
    _keep_triangle(tt, lower)
    idle = tau == 0
    tt[idle, :] = 0
    tt[:, idle] = 0
    np.fill_diagonal(tt, np.where(idle, 1, 1 / np.where(idle, 1, tau)))
    info = lp.c.c_int(0)
    lp("trtri", uplo, b"N", ib, (t.ctypes.data,), ld, (lp.c.addressof(info),))
    if info.value != 0:
        raise RuntimeError(f"LAPACK {lp.prefix}trtri failed with info={info.value}")
    tt[idle, idle] = 0


def _orgrq(lp: _Lapack, a: np.ndarray, tau: np.ndarray, nb: int, d: np.ndarray,
           panels: Callable = _Panels(1)) -> None:
    """LAPACK ?orgrq's blocked loop (first block first) with block size ``nb`` on the column-major m×n
    ``a`` (m = k reflectors < n), BLAS-3 and in place as in :func:`_orgqr`, mirrored: reflector rows,
    backward order, lower-triangular T, updates from the right; ``d`` scales row i by d[i]; ``panels`` splits
    the updates' independent rows (and V's columns)."""
    m, n = a.shape
    t = np.empty((nb, nb), a.dtype, order="F")
    x = np.empty((nb, nb), a.dtype, order="F")
    work = np.empty(m * nb, a.dtype)
    size = a.dtype.itemsize
    for i in range(0, m, nb):
        ib = min(nb, m - i)
        cols = n - m + i + ib  # reflectors i .. i+ib-1 live in columns [0, cols), unit at cols - ib + j
        v = a[i:i + ib, :cols]  # V, leading dimension m
        v2 = v[:, cols - ib:]
        _keep_triangle(v2, lower=True, k=-1)
        np.fill_diagonal(v2, 1)
        _t_factor(lp, v, m, tau[i:i + ib], t, lower=True)
        vp, tp, xp = (v.ctypes.data,), (t.ctypes.data,), (x.ctypes.data,)

        def update(r0: int, r1: int) -> None:  # apply them from the right to formed rows: C -= ((C Vᵀ) Tᵀ) V
            cp, wk = (a.ctypes.data + r0 * size,), (work.ctypes.data + r0 * size,)
            lp("gemm", b"N", b"T", r1 - r0, ib, cols, 1.0, cp, m, vp, m, 0.0, wk, i)
            lp("trmm", b"R", b"L", b"T", b"N", r1 - r0, ib, 1.0, tp, nb, wk, i)
            lp("gemm", b"N", b"N", r1 - r0, cols, ib, -1.0, wk, i, vp, m, 1.0, cp, m)

        panels(update, i, cols)
        lp("gemm", b"N", b"N", ib, ib, ib, 1.0, tp, nb, (v2.ctypes.data,), m, 0.0, xp, nb)  # X = T V₂ (lower)
        di = d[i:i + ib]
        x[:ib, :ib] *= di
        own = _own_rows(v2, t[:ib, :ib], di) if a.dtype == np.float32 else None
        panels(lambda c0, c1: lp("trmm", b"L", b"L", b"T", b"N", ib, c1 - c0, -1.0, xp, nb,  # V ← −D Xᵀ V, in place
                                 (v.ctypes.data + c0 * m * size,), m), cols, ib)
        if own is None:
            v2[np.arange(ib), np.arange(ib)] += di  # D (E − Xᵀ V), E = [0 I]
        else:
            v2[...] = own
        a[i:i + ib, cols:] = 0


def _own_rows(v2: np.ndarray, t: np.ndarray, d: np.ndarray) -> np.ndarray:
    """A float32 ?orgrq block's own ib × ib entries of Q, D (I − V₂ᵀ T V₂) (V₂ rowwise unit lower, T
    lower), formed in float64 and rounded once.  Their values are O(0.1) from terms of O(1) (the unit
    diagonal, T's diagonal τ ∈ [1, 2]): in float32 the terms' rounding stays, 10× LAPACK's own error
    (the ?orgqr construction has no such excess).  X = T V₂ is lower triangular too, so two float64
    TRMMs of ib³ flops each, through the same BLAS (a second library's thread pool would spin
    against it)."""
    lp = _lapack(np.dtype(np.float64))
    ib = v2.shape[0]
    x = np.array(v2, np.float64, order="F")
    t64 = np.array(t, np.float64, order="F")  # named: BLAS gets raw pointers, the arrays must outlive the calls
    lp("trmm", b"L", b"L", b"N", b"N", ib, ib, 1.0, (t64.ctypes.data,), ib, (x.ctypes.data,), ib)  # X = T V₂
    out = np.array(v2, np.float64, order="F")
    lp("trmm", b"L", b"L", b"T", b"N", ib, ib, -1.0, (x.ctypes.data,), ib, (out.ctypes.data,), ib)  # −Xᵀ V₂
    out[np.arange(ib), np.arange(ib)] += 1.0
    out *= d[:, None]
    return out.astype(np.float32)


def check_size(rows: int, cols: int, fn: str) -> None:
    """ValueError unless a rows × cols matrix fits LAPACK's 32-bit indexing (callers check it before
    they write anything)."""
    if rows * cols > LAPACK_MAX_ELEMENTS:
        raise ValueError(f"{fn}: a {rows}x{cols} matrix has more than 2**31 - 1 elements, the limit of "
                         "LAPACK's 32-bit indexing")


def haar_orthonormalize(b: np.ndarray, gain: float = 1.0, threads: int = 1) -> np.ndarray:
    """Overwrite the Gaussian-filled C-contiguous float32/float64 matrix ``b`` (size checked by
    :func:`check_size`) with gain × a Haar (semi-)orthogonal matrix: orthonormal rows if rows ≤ cols,
    else orthonormal columns (blocks of :data:`BLOCK` reflectors; a :func:`small` matrix has none).  ``threads``:
    the blocked updates' panels run on that many threads, BLAS on one (the same bits for any count)."""
    rows, cols = b.shape
    tall = rows > cols
    k = min(rows, cols)
    tau = np.empty(k, b.dtype)
    sign = np.empty(k, b.dtype)
    run(_reflectors, (b, tall, tau, sign), b.size)
    # Q D: the signs are folded into the forming of Q; the gain is not (gain × an intermediate of size ~2
    # could overflow where gain × Q does not)
    if small(rows, cols):
        _form_small(b, tall, tau, sign, gain)
        return b
    lp = _lapack(b.dtype)
    with _one_blas_thread():
        (_orgrq if tall else _orgqr)(lp, b.T, tau, BLOCK, sign, _Panels(threads))  # b.T: column-major view, same memory
    if gain != 1:
        b *= b.dtype.type(gain)
    return b
