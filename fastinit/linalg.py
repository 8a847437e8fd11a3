"""Layer 5 helper — Haar-random (semi-)orthogonal matrices in place, by random Householder reflectors.

A Householder QR of an m×k Gaussian matrix G (m ≥ k) builds reflectors H_j = I − τ_j v_j v_jᵀ from
the trailing part of column j *after* H_1 … H_{j−1} have been applied; by the rotation invariance
of the Gaussian that trailing part is again an i.i.d. Gaussian vector of length m − j, independent
of the earlier reflectors.  So the factorization can be skipped (Stewart 1980): draw the k
Gaussian vectors directly, turn each into its reflector (LAPACK ``?larfg``: β = −sign(α)‖x‖,
τ = (β − α)/β, v = x/(α − β)), and accumulate Q = H_1 ⋯ H_k with LAPACK's blocked ``?orgqr``
(compact-WY, BLAS-3 for the bulk of the 2mk² − 2k³/3 flops: half of what QR + Q formation costs).
Fixing the signs with D = diag(sign β_j) — Mezzadri (2007)'s R-diagonal sign fix, since β_j is
R's diagonal — makes Q·D exactly Haar-distributed (on O(n), or uniform on the Stiefel manifold).

Everything happens in the caller's C-contiguous float32/float64 (rows, cols) matrix B, which
LAPACK sees as the column-major (cols, rows) matrix A = Bᵀ:

* rows ≤ cols ("wide", B has orthonormal rows): A is tall, reflector j lies in B[j, j:]
  (contiguous) and ``?orgqr`` forms A's orthonormal columns;
* rows > cols ("tall", B has orthonormal columns): A is wide, and ``?orgrq`` (RQ's reflectors,
  the transposed construction) forms A's orthonormal rows; reflector j lies in
  B[: rows − cols + j + 1, j], gathered with row-major passes.

Work space beyond B: τ, the signs and the column-norm accumulators (O(16 · min(rows, cols))),
plus LAPACK's blocked work array (O(max(rows, cols) · 64)) — no copy of the matrix.

Same seed → same matrix on the same machine, BLAS library and thread count; a different BLAS
build may order the BLAS-3 sums differently and change the last bits.

References: G. W. Stewart, "The efficient generation of random orthogonal matrices with an
application to condition estimators", SIAM J. Numer. Anal. 17 (1980).  F. Mezzadri, "How to
generate random matrices from the classical compact groups", Notices AMS 54 (2007).
R. Schreiber, C. Van Loan, "A storage-efficient WY representation for products of Householder
transformations", SIAM J. Sci. Stat. Comput. 10 (1989).
"""
from __future__ import annotations

import functools

import numba
import numpy as np

from ._jit import parallel_kernel, scalar

__all__ = ["check_size", "haar_orthonormalize"]

LAPACK_MAX_ELEMENTS = 2**31 - 1  # LAPACK's 32-bit (LP64) indexing
NORM_CHUNKS = 16  # row chunks of the column-norm pass (a constant, so the sums do not depend on threads)
BLOCK = 256  # compact-WY block width: BLAS-3 updates with inner dimension 256 stay compute-bound


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


@functools.lru_cache(maxsize=None)
def _lapack(dtype: np.dtype) -> "_Lapack":
    return _Lapack(dtype)


class _Lapack:
    """The few LAPACK routines a blocked ?orgqr/?orgrq needs, called through SciPy's exported
    function pointers (``scipy.linalg.cython_lapack``) so that sub-matrices are passed by pointer and
    leading dimension: LAPACK works in place inside the caller's matrix, never on a copy."""

    def __init__(self, dtype: np.dtype):
        import ctypes

        from numba.extending import get_cython_function_address

        self.c = ctypes
        self.itemsize = np.dtype(dtype).itemsize
        self.prefix = "s" if np.dtype(dtype) == np.float32 else "d"
        arity = {"larft": 9, "larfb": 15, "orgqr": 9, "orgrq": 9}  # every argument is a pointer (Fortran ABI)
        self.fns = {name: ctypes.cast(get_cython_function_address("scipy.linalg.cython_lapack", self.prefix + name),
                                      ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * n))) for name, n in arity.items()}

    def __call__(self, name: str, *args):
        """Call ``?name`` with ints passed by reference, bytes as chars, ``(ptr,)`` tuples as raw pointers."""
        c = self.c
        keep = [c.c_int(a) if isinstance(a, (int, np.integer)) else c.c_char(a) if isinstance(a, bytes) else None
                for a in args]
        ptrs = [c.addressof(k) if k is not None else a[0] for k, a in zip(keep, args)]
        self.fns[name](*ptrs)

    def org(self, name: str, m: int, n: int, k: int, a: int, lda: int, tau: int, work: np.ndarray) -> None:
        info = self.c.c_int(0)
        self(name, m, n, k, (a,), lda, (tau,), (work.ctypes.data,), work.size, (self.c.addressof(info),))
        if info.value != 0:
            raise RuntimeError(f"LAPACK {self.prefix}{name} failed with info={info.value}")


def _orgqr(lp: _Lapack, a: np.ndarray, tau: np.ndarray, nb: int) -> None:
    """LAPACK ?orgqr's blocked loop (last block first) with block size ``nb`` on the column-major m×n
    ``a`` (m ≥ n = k reflectors): compact-WY updates of width nb, panels by LAPACK's own ?orgqr."""
    m, n = a.shape
    lda, it, base, tp = m, lp.itemsize, a.ctypes.data, tau.ctypes.data
    t = np.empty((nb, nb), a.dtype, order="F")
    work = np.empty(max(n, m) * nb, a.dtype)
    for i in range(((n - 1) // nb) * nb, -1, -nb):
        ib = min(nb, n - i)
        vi = base + (i + i * lda) * it
        if i + ib < n:  # apply H(i) ... H(i+ib-1) to the columns already formed
            lp("larft", b"F", b"C", m - i, ib, (vi,), lda, (tp + i * it,), (t.ctypes.data,), nb)
            lp("larfb", b"L", b"N", b"F", b"C", m - i, n - i - ib, ib, (vi,), lda, (t.ctypes.data,), nb,
               (base + (i + (i + ib) * lda) * it,), lda, (work.ctypes.data,), n - i - ib)
        lp.org("orgqr", m - i, ib, ib, vi, lda, tp + i * it, work)
        a[:i, i:i + ib] = 0


def _orgrq(lp: _Lapack, a: np.ndarray, tau: np.ndarray, nb: int) -> None:
    """LAPACK ?orgrq's blocked loop (first block first) with block size ``nb`` on the column-major m×n
    ``a`` (m = k reflectors < n)."""
    m, n = a.shape
    lda, it, base, tp = m, lp.itemsize, a.ctypes.data, tau.ctypes.data
    t = np.empty((nb, nb), a.dtype, order="F")
    work = np.empty(max(n, m) * nb, a.dtype)
    for i in range(0, m, nb):
        ib = min(nb, m - i)
        cols = n - m + i + ib  # reflectors i .. i+ib-1 live in columns [0, cols)
        vi = base + i * it
        if i > 0:  # apply them from the right to the rows already formed
            lp("larft", b"B", b"R", cols, ib, (vi,), lda, (tp + i * it,), (t.ctypes.data,), nb)
            lp("larfb", b"R", b"T", b"B", b"R", i, cols, ib, (vi,), lda, (t.ctypes.data,), nb, (base,), lda,
               (work.ctypes.data,), i)
        lp.org("orgrq", ib, cols, ib, vi, lda, tp + i * it, work)
        a[i:i + ib, cols:] = 0


def check_size(rows: int, cols: int, fn: str) -> None:
    """ValueError unless a rows × cols matrix fits LAPACK's 32-bit indexing (callers check it before
    they write anything)."""
    if rows * cols > LAPACK_MAX_ELEMENTS:
        raise ValueError(f"{fn}: a {rows}x{cols} matrix has more than 2**31 - 1 elements, the limit of "
                         "LAPACK's 32-bit indexing")


def haar_orthonormalize(b: np.ndarray, gain: float = 1.0, block: int = BLOCK) -> np.ndarray:
    """Overwrite the Gaussian-filled C-contiguous float32/float64 matrix ``b`` (size checked by
    :func:`check_size`) with gain × a Haar (semi-)orthogonal matrix: orthonormal rows if rows ≤ cols,
    else orthonormal columns."""
    rows, cols = b.shape
    tall = rows > cols
    k = min(rows, cols)
    tau = np.empty(k, b.dtype)
    sign = np.empty(k, b.dtype)
    _reflectors(b, tall, tau, sign)
    (_orgrq if tall else _orgqr)(_lapack(b.dtype), b.T, tau, block)  # b.T: column-major view, same memory
    sign *= gain
    b *= sign[None, :] if tall else sign[:, None]
    return b
