"""Layer 5 — sparse initialization through index sampling.

``sparse_`` (torch semantics): a 2-D weight whose every column holds exactly
``ceil(sparsity * rows)`` zeros at uniformly random rows, the other entries N(0, std²).
``martens_sparse_``: the seed texts' form (Martens 2010) — exactly ``k`` non-zero entries per
column (a unit's incoming weights in the (n_in, n_out) layout), N(0, std²) with std = 1.

Values come from :func:`fastinit.normal_` with the same seed and stream; the zero rows of each
column from a partial Fisher–Yates shuffle of the column's (global) rows driven by Philox bits
under a key derived from the seed — so positions and values are pure functions of
(seed, stream, global position), and a shard (``global_shape``/``offset``) equals the same block
of the whole matrix.  Each uniform integer uses Lemire's multiply-shift with rejection (exact); column c's
draws read the four words of Philox blocks (b, c, stream) in order, b = 0, 1, ...
Work space per thread: the int64 permutation of the global rows, its swap list and one uint64
mask per local row (≤ 24·rows bytes), never O(rows·cols).

Reference: J. Martens, "Deep learning via Hessian-free optimization", ICML 2010, §5.
D. Lemire, "Fast random integer generation in an interval", ACM TOMACS 29 (2019).
"""
from __future__ import annotations

import math
from typing import Any, Optional, TypeVar

import numba
import numpy as np

from ._buffers import as_target, geometry, host_staged
from ._cpu import KERNEL_LOCK
from ._jit import float_bits, parallel_kernel
from ._philox import PHILOX_ROUNDS, philox4x32, philox_block
from ._seed import Generator, key_words, resolve_seed, stream_words
from .init import Shape, Stream, _real, sample_normal

__all__ = ["sparse_", "martens_sparse_"]

T = TypeVar("T")
SPARSE_TAG = 0x5BA55E  # counter word 3 of the position-key derivation

_U64 = np.uint64
_MASK32 = _U64(0xFFFFFFFF)
_SHIFT32 = _U64(32)


STRIP = 64  # columns whose zero rows are collected in one uint64 bit mask per row, then written row by row


@parallel_kernel
def _zero_positions(flat8, itemsize, mbase, ms0, ms1, rows, cols, grows, row0, col0, nzero, key, stream, nthreads):
    """Zero ``nzero`` uniformly chosen global rows in every local column (partial Fisher–Yates).

    Column c's draws consume the words of Philox blocks (b, c, stream) for b = 0, 1, ... in order;
    draw i is uniform on [0, grows − i) by Lemire's multiply-shift, a rejected word is skipped.
    The zeros of a strip of 64 columns are gathered as one bit mask per row and written in row
    order, so the stores sweep the strip instead of jumping a row stride per zero."""
    nstrips = (cols + STRIP - 1) // STRIP
    per = (nstrips + nthreads - 1) // nthreads
    for t in numba.prange(nthreads):
        perm = np.arange(grows)
        swaps = np.empty(nzero, np.int64)
        words = np.empty(4, np.uint64)
        mask = np.zeros(rows, np.uint64)
        for strip in range(t * per, min(nstrips, (t + 1) * per)):
            first = strip * STRIP
            for c in range(first, min(cols, first + STRIP)):
                gcol = _U64(col0 + c)
                blk, used = _U64(0), 4
                for i in range(nzero):  # perm[:nzero] becomes a uniform nzero-subset of the rows
                    n = _U64(grows - i)
                    while True:
                        if used == 4:
                            words[0], words[1], words[2], words[3] = philox_block(
                                blk, gcol, stream[0], stream[1], key[0], key[1], PHILOX_ROUNDS)
                            blk += _U64(1)
                            used = 0
                        m = words[used] * n
                        used += 1
                        low = m & _MASK32  # accept iff low >= 2**32 mod n; the modulo only when low < n
                        if low >= n or low >= (_U64(1) << _SHIFT32) % n:
                            break
                    j = i + np.int64(m >> _SHIFT32)
                    swaps[i] = j
                    perm[i], perm[j] = perm[j], perm[i]
                bit = _U64(1) << _U64(c - first)
                for i in range(nzero):
                    r = perm[i] - row0
                    if 0 <= r < rows:
                        mask[r] |= bit
                for i in range(nzero - 1, -1, -1):  # undo the swaps: perm is the identity again, in O(nzero)
                    j = swaps[i]
                    perm[i], perm[j] = perm[j], perm[i]
            for r in range(rows):
                bits = mask[r]
                while bits != _U64(0):
                    lowest = bits & (~bits + _U64(1))
                    k = np.int64(float_bits(np.float64(lowest)) >> _U64(52)) - 1023  # log2 of a power of 2
                    at = (mbase + r * ms0 + (first + k) * ms1) * itemsize
                    for b in range(itemsize):
                        flat8[at + b] = 0
                    bits ^= lowest
                mask[r] = _U64(0)


def _sparse(out, nzero_of_rows, std, fn, dtype, seed, stream, global_shape, offset, generator):
    target = as_target(out, dtype)
    if target.array.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    geom = geometry(target, global_shape, offset)  # validates the placement
    grows, gcols = geom.global_shape
    if max(grows, gcols) >= 2**32:
        raise ValueError(f"{fn}: global shape {geom.global_shape} has a dimension >= 2**32 (not supported)")
    nzero = nzero_of_rows(grows)
    std = _real(std, "std", fn)
    sw = stream_words(stream)
    if target.size == 0:
        return out
    s = resolve_seed(seed, generator)
    sample_normal(out, target, 0.0, std, fn, seed=s, stream=stream, global_shape=global_shape, offset=offset)
    k = key_words(s)
    pos_key = philox4x32([0, 0, 0, SPARSE_TAG], k.astype(np.uint32))[:2].astype(np.uint64)
    row0, col0 = divmod(geom.gbase, gcols)  # the block's global offset, as geometry parsed it
    ms0, ms1 = target.mstride
    with KERNEL_LOCK:
        _zero_positions(target.flat.view(np.uint8), target.array.itemsize, target.mbase, ms0, ms1, target.shape[0],
                        target.shape[1], grows, row0, col0, nzero, pos_key, sw, numba.get_num_threads())
    return out


@host_staged
def sparse_(out: T, sparsity: float, std: float = 0.01, *, seed: Optional[int] = None, stream: Stream = 0,
            global_shape: Shape = None, offset: Shape = None, dtype: Any = None,
            generator: Optional[Generator] = None) -> T:
    """Fill the 2-D ``out`` with N(0, std²) and exactly ``ceil(sparsity * rows)`` zeros per column.

    torch.nn.init.sparse_'s law (Martens 2010), but seeded, parallel and exact: zero rows are a
    uniform random subset per column (partial Fisher–Yates on Philox bits).
    """
    fn = "sparse_"
    sp = _real(sparsity, "sparsity", fn)
    if not 0.0 <= sp <= 1.0:
        raise ValueError(f"{fn}: sparsity must lie in [0, 1], got {sp}")
    return _sparse(out, lambda rows: math.ceil(sp * rows), std, fn, dtype, seed, stream, global_shape, offset,
                   generator)


@host_staged
def martens_sparse_(out: T, k: int = 15, std: float = 1.0, *, seed: Optional[int] = None, stream: Stream = 0,
                    global_shape: Shape = None, offset: Shape = None, dtype: Any = None,
                    generator: Optional[Generator] = None) -> T:
    """Martens (2010)'s sparse init: exactly ``k`` non-zero N(0, std²) weights per column (unit), rest 0.

    In the (n_in, n_out) layout of the seed texts a column is one unit's incoming weights.
    """
    fn = "martens_sparse_"
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"{fn}: k must be a non-negative int, got {k!r}")

    def nzero(rows):
        if k > rows:
            raise ValueError(f"{fn}: k={k} non-zeros per column but only {rows} rows")
        return rows - int(k)

    return _sparse(out, nzero, std, fn, dtype, seed, stream, global_shape, offset, generator)
