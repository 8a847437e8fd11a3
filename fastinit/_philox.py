"""Layer 1 — bits: the Philox4x32 counter-based generator.

Philox4x32-R maps a 128-bit counter and a 64-bit key to 128 random bits through R rounds of
32x32->64-bit multiplications and key-schedule additions (Salmon, Moraes, Dror & Shaw,
"Parallel random numbers: as easy as 1, 2, 3", SC'11; the Random123 reference implementation,
also used by numpy, JAX and cuRAND).  fastinit uses R = 10, the variant Random123 recommends.

All arithmetic is written on ``uint64`` values holding 32-bit words so that the same Python
source compiles unchanged for the CPU (numba ``njit``) and for CUDA device code.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._jit import kernel, mul_lo32, scalar

__all__ = ["philox4x32", "PHILOX_ROUNDS"]

PHILOX_ROUNDS = 10

_U64 = np.uint64
_MASK32 = _U64(0xFFFFFFFF)
_SHIFT32 = _U64(32)
_M0 = _U64(0xD2511F53)  # multipliers (Salmon et al. 2011, table 2)
_M1 = _U64(0xCD9E8D57)
_W0 = _U64(0x9E3779B9)  # Weyl key increments: golden ratio and sqrt(3) - 1, as 32-bit fractions
_W1 = _U64(0xBB67AE85)


@scalar
def philox_block(c0, c1, c2, c3, k0, k1, rounds):
    """One Philox4x32 call on uint64-held 32-bit words; returns the four output words."""
    # Only the low 32 bits of c0 and c2 feed the multipliers (a 32x32->64 multiply: vpmuludq on the
    # CPU, mul.wide.u32 on a GPU, _jit.mul_lo32), while the other words may carry junk in their high
    # halves (XOR is bitwise) until the final mask.
    k0, k1 = k0 & _MASK32, k1 & _MASK32
    for _ in range(rounds):
        p0 = mul_lo32(c0, _M0)
        p1 = mul_lo32(c2, _M1)
        c0, c1, c2, c3 = (p1 >> _SHIFT32) ^ c1 ^ k0, p1, (p0 >> _SHIFT32) ^ c3 ^ k1, p0
        k0 = (k0 + _W0) & _MASK32
        k1 = (k1 + _W1) & _MASK32
    return c0 & _MASK32, c1 & _MASK32, c2 & _MASK32, c3 & _MASK32


@kernel
def _philox_many(ctr, key, rounds, out):
    for i in range(ctr.shape[0]):
        r = philox_block(
            _U64(ctr[i, 0]), _U64(ctr[i, 1]), _U64(ctr[i, 2]), _U64(ctr[i, 3]),
            _U64(key[i, 0]), _U64(key[i, 1]), rounds,
        )
        for j in range(4):
            out[i, j] = r[j]


def philox4x32(counter: ArrayLike, key: ArrayLike, rounds: int = PHILOX_ROUNDS) -> np.ndarray:
    """Philox4x32-R bijection of a 4-word counter under a 2-word key.

    Parameters
    ----------
    counter : array_like of uint32, shape (..., 4)
        Counter words, least significant first, as in Random123's ``philox4x32_ctr_t``.
    key : array_like of uint32, shape (..., 2)
        Key words; broadcast against ``counter``.
    rounds : int
        Number of rounds (10 by default; Random123 also publishes answers for 7).

    Returns
    -------
    numpy.ndarray of uint32, shape (..., 4)

    Examples
    --------
    >>> philox4x32([0, 0, 0, 0], [0, 0])  # Random123 known answer
    array([1713891541, 3781805453, 3159862348, 2600524760], dtype=uint32)

    References
    ----------
    J. K. Salmon, M. A. Moraes, R. O. Dror, D. E. Shaw, "Parallel random numbers: as easy as
    1, 2, 3", Proc. SC'11, doi:10.1145/2063384.2063405.
    """
    ctr = _as_words(counter, 4, "counter")
    k = _as_words(key, 2, "key")
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 0:
        raise ValueError(f"philox4x32: rounds must be a non-negative int, got {rounds!r}")
    shape = np.broadcast_shapes(ctr.shape[:-1], k.shape[:-1])
    ctr, k = _rows(ctr, shape, 4), _rows(k, shape, 2)
    out = np.empty((ctr.shape[0], 4), np.uint32)
    _philox_many(ctr, k, int(rounds), out)
    return out.reshape(shape + (4,))


def _rows(x: np.ndarray, shape: tuple, n: int) -> np.ndarray:
    """``x`` broadcast to ``shape + (n,)`` as C-contiguous, read-only rows: one kernel signature for every call
    (a broadcast view would be another layout, a copy another write flag: each a compile of its own)."""
    rows = np.ascontiguousarray(np.broadcast_to(x, shape + (n,)).reshape(-1, n))
    rows.flags.writeable = False
    return rows


def _as_words(x, n: int, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype.kind not in "ui" or a.shape[-1:] != (n,):
        raise ValueError(f"philox4x32: {name} must be integers of shape (..., {n}), got {a.dtype} {a.shape}")
    if a.size and (a.min() < 0 or a.max() > 0xFFFFFFFF):
        raise ValueError(f"philox4x32: {name} words must lie in [0, 2**32)")
    return a.astype(np.uint32)
