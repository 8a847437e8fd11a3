"""Layer 3 — CPU kernel: one parallel numba kernel fills any strided block in place.

The kernel only loops, indexes and calls the transforms.  Work is split into chunks of the
block's local row-major order (``prange`` over chunks); inside a chunk, each row segment is a run
of consecutive *global* indices, generated one tile of 256 Philox blocks at a time (structure of
arrays, so LLVM vectorizes each loop), transformed, and stored with one rounding to the target
format — straight into the target for whole contiguous tiles (float32/float64 values, float16
uniform), else through a 12 KiB per-chunk scratch; a layout whose rows are memory neighbours goes through a
row tile of 16 rows of up to 32 KiB (``tile_layout``).  Scratch is O(tile), never O(buffer).

Dispatch is on integer codes inside the single compiled kernel (few compiles, one cache entry).
"""
from __future__ import annotations

import ctypes
import functools
import math
import os
import re
import threading
from typing import Optional

import numba
import numpy as np
from numba.core.extending import overload
from numba.np.ufunc import parallel as _parallel

from ._jit import (HARDWARE_HALF, float_bits, half_bits, kernel, outlined, parallel_kernel, scalar, serial_twin,
                   store_fence, stream_store, wide_vectors)
from ._philox import PHILOX_ROUNDS, philox_block
from ._transforms import (
    EXP_PROPOSAL,
    NORMAL_PROPOSAL,
    UNIFORM_PROPOSAL,
    f32bits_to_bf16bits,
    f32bits_to_f16bits,
    normal_pair_f32,
    normal_pair_f64,
    trunc_attempt_f32,
    trunc_attempt_f64,
    uniform_f32,
    uniform_f64,
)

# storage codes (what the kernel writes) and distribution codes
F16, BF16, F32, F64 = 0, 1, 2, 3
CONSTANT, UNIFORM, NORMAL, TRUNC = 0, 1, 2, 3

# parameter vector ``prm`` (float64) shared by all distributions
# (truncated normal: P0 = mean for the normal proposal, the near bound for the others, whose BETA is
# the width beta - alpha and M2 the c of _transforms.trunc_attempt_f32; P0LO = P0 - float32(P0), so that a
# float32 candidate is float32(P0) + (std t + P0LO): the law is not shifted against [a, b] by P0's rounding;
# NEAREST = the fallback value)
P0, P1, LO, HI, ALPHA, BETA, LAM, M2, METHOD, SIGN, NEAREST, P0LO = range(12)
N_PARAMS = 12

# Counter layout (docs/determinism.md).  Global indices are cut into tiles of TILE_BLOCKS
# Philox blocks; a block yields ``lanes`` values: 4 for the float32 family (one 32-bit word
# each, or two Box-Muller pairs), 2 for float64 (two words per 53-bit uniform; one pair); the
# truncated normal takes two words per value (float32 family) or four (float64) per attempt.
# Element g of tile t = g // (lanes * TILE_BLOCKS), position p = g % (lanes * TILE_BLOCKS), takes
# slot p // TILE_BLOCKS of block t * TILE_BLOCKS + p % TILE_BLOCKS.  Slots of one block are
# TILE_BLOCKS apart, so every loop over a tile reads and writes contiguous memory (SIMD on the
# CPU, coalesced stores on a GPU).  A rejected truncated-normal attempt r >= 1 redraws the same
# (block, slot) under the key ``retry_key(key, r)``.
TILE_BLOCKS = 256
DEFAULT_CHUNK = 1 << 16  # local elements per parallel work item (about; see work_chunk)
AUTO_CHUNK = 0  # launch's ``chunk`` asking for work_chunk's choice
RETRY_TAG = 0x7E7A1  # counter word 3 of the retry-key derivation

_U64 = np.uint64
_MASK32 = _U64(0xFFFFFFFF)
_SHIFT32 = _U64(32)
_B = TILE_BLOCKS
_F32_UMAX = np.float32(1.0 - 2.0**-24)  # the largest 24-bit uniform


@scalar
def lanes(code, kind, method):
    """Values per Philox block for a storage code, distribution and truncated-normal proposal."""
    if kind == TRUNC and method != NORMAL_PROPOSAL:
        return 1 if code == F64 else 2
    return 2 if code == F64 else 4


@scalar
def _block(blk, key, stream):
    """The four words of Philox block ``blk`` (a uint64) under ``key`` and ``stream`` (pairs of words;
    loops pass tuples: words read from arrays inside a loop cost ~40% of a uniform fill)."""
    return philox_block(blk & _MASK32, blk >> _SHIFT32, stream[0], stream[1], key[0], key[1], PHILOX_ROUNDS)


@scalar
def retry_key(key, r):
    """Key of truncated-normal attempt r >= 1: Philox((r, 0, 0, RETRY_TAG), key) words 0 and 1."""
    k0, k1, _, _ = philox_block(_U64(r), _U64(0), _U64(0), _U64(RETRY_TAG), key[0], key[1], PHILOX_ROUNDS)
    return k0, k1


MAX_ATTEMPTS = 10_000  # truncated normal: reached only if acceptance < ~1e-3 in floating point (docs)
# Truncated-normal attempts made as vectorized passes over a tile's rejects (the rest: one position at a
# time).  At the lowest acceptance the choice of proposal gives, 0.627 (the normal proposal on
# [-0.365, 2.155]), 1.5e-7 of the values are left after 16.
VECTOR_ATTEMPTS = 16


@scalar
def _trunc_params32(prm):
    f = np.float32
    return (f(prm[P0]), f(prm[P1]), f(prm[SIGN]), f(prm[LO]), f(prm[HI]), f(prm[ALPHA]), f(prm[BETA]),
            f(prm[LAM]), f(prm[M2]), f(prm[P0LO]))


@scalar
def _trunc_params64(prm):
    return (prm[P0], prm[P1], prm[SIGN], prm[LO], prm[HI], prm[ALPHA], prm[BETA], prm[LAM], prm[M2], prm[P0LO])


@scalar
def _accept(q, z):
    """Normal proposal: x = mean + std * z if z is in [alpha, beta] and x rounds into [a, b] (x in [lo, hi]),
    else NaN.  Folded (sign = +1 or -1: a one-sided interval, mirrored to 0 <= alpha, beta = its width), as
    the uniform and exponential proposals: the offset u = |z| - alpha in [0, width] from the near bound,
    x = bound + std * sign * u.  The origin (mean or bound) is the pair origin + origin_lo (see ``P0LO``)."""
    origin, std, sign, lo, hi, alpha, beta, lam, m2, origin_lo = q
    if sign == 0:
        u, low = z, alpha
        x = origin + (std * z + origin_lo)
    else:
        u, low = abs(z) - alpha, alpha - alpha
        x = origin + (std * (sign * u) + origin_lo)
    return x if (u >= low) & (u <= beta) & (x >= lo) & (x <= hi) else x * np.nan


@scalar
def _accept_offset(q, t):
    """Uniform / exponential proposals: x = near bound + std * sign * t (t in [0, width], or NaN) if x
    rounds into [a, b], else NaN."""
    bound, std, sign, lo, hi, alpha, width, lam, c, bound_lo = q
    x = bound + (std * (sign * t) + bound_lo)
    return x if (x >= lo) & (x <= hi) else x * np.nan


@scalar
def _candidate32(method, q, w0, w1, w2, w3, slot):
    """The float32-family value of (block, slot) from one block of words, or NaN if rejected."""
    a, b = (w0, w1) if slot < 2 - (method != NORMAL_PROPOSAL) else (w2, w3)  # the slot's two words
    if method == NORMAL_PROPOSAL:  # one Box-Muller output per element, laid out as in normal_
        z0, z1 = normal_pair_f32(a, b)
        return _accept(q, z0 if slot % 2 == 0 else z1)
    return _accept_offset(q, trunc_attempt_f32(method, a, b, q[5], q[6], q[7], q[8]))


@scalar
def _candidate64(method, q, w0, w1, w2, w3, slot):
    """The float64 value of (block, slot) from one block of words, or NaN if rejected."""
    if method == NORMAL_PROPOSAL:
        z0, z1 = normal_pair_f64(w0, w1, w2, w3)
        return _accept(q, z0 if slot == 0 else z1)
    return _accept_offset(q, trunc_attempt_f64(method, w0, w1, w2, w3, q[5], q[6], q[7], q[8]))


@outlined  # not cached CPU kernels: only the CUDA kernel calls them
def _candidates32(method, q32, w0, w1, w2, w3):
    """A float32-family block's candidates, as float32 (NaN: rejected, or a slot the proposal does not have):
    ``_candidate32`` slot by slot, each Box-Muller pair computed once."""
    nan = np.float32(np.nan)
    if method == NORMAL_PROPOSAL:
        z0, z1 = normal_pair_f32(w0, w1)
        z2, z3 = normal_pair_f32(w2, w3)
        return (np.float32(_accept(q32, z0)), np.float32(_accept(q32, z1)), np.float32(_accept(q32, z2)),
                np.float32(_accept(q32, z3)))
    return (np.float32(_accept_offset(q32, trunc_attempt_f32(method, w0, w1, q32[5], q32[6], q32[7], q32[8]))),
            np.float32(_accept_offset(q32, trunc_attempt_f32(method, w2, w3, q32[5], q32[6], q32[7], q32[8]))),
            nan, nan)


@outlined
def _candidates64(method, q64, w0, w1, w2, w3):
    """A float64 block's candidates (slots 0 and 1; NaN as :func:`_candidates32`), as ``_candidate64``."""
    nan = np.float64(np.nan)
    if method == NORMAL_PROPOSAL:
        z0, z1 = normal_pair_f64(w0, w1, w2, w3)
        return _accept(q64, z0), _accept(q64, z1), nan, nan
    return _accept_offset(q64, trunc_attempt_f64(method, w0, w1, w2, w3, q64[5], q64[6], q64[7], q64[8])), \
        nan, nan, nan


def candidates(code, method, q32, q64, w0, w1, w2, w3):
    """Every slot's candidate of one block at once, in the working precision of storage code ``code`` (float64 for
    float64 targets, else float32): the CUDA kernel tries all of a block's slots together.  Compiled, a literal
    ``code`` (the kernels') picks one of the two before typing, so a float32 kernel never carries float64."""
    if code == F64:
        return _candidates64(method, q64, w0, w1, w2, w3)
    return _candidates32(method, q32, w0, w1, w2, w3)


def working(code, x):
    """x in the working precision of storage code ``code`` (as :func:`candidates`)."""
    return np.float64(x) if code == F64 else np.float32(x)


def _by_precision(code, f64, f32, either):
    """The implementation for a literal storage code, else ``either`` (both typed: float64 results)."""
    value = getattr(code, "literal_value", None)
    return either if value is None else f64 if value == F64 else f32


@overload(candidates, prefer_literal=True)
def _candidates_impl(code, method, q32, q64, w0, w1, w2, w3):
    def f64(code, method, q32, q64, w0, w1, w2, w3):
        return _candidates64(method, q64, w0, w1, w2, w3)

    def f32(code, method, q32, q64, w0, w1, w2, w3):
        return _candidates32(method, q32, w0, w1, w2, w3)

    return _by_precision(code, f64, f32, candidates)


@overload(working, prefer_literal=True, inline="always")
def _working_impl(code, x):
    return _by_precision(code, lambda code, x: np.float64(x), lambda code, x: np.float32(x), working)


@scalar
def _attempt(code, method, q32, q64, k0, k1, stream, blk, slot):
    """The candidate of (block, slot) under the key (k0, k1) (an attempt's: the call's own for attempt 0,
    :func:`retry_key`'s after), as float64; NaN if rejected."""
    w0, w1, w2, w3 = philox_block(blk & _MASK32, blk >> _SHIFT32, stream[0], stream[1], k0, k1, PHILOX_ROUNDS)
    if code == F64:
        return _candidate64(method, q64, w0, w1, w2, w3, slot)
    return np.float64(_candidate32(method, q32, w0, w1, w2, w3, slot))


@kernel
def _trunc_redraw(code, prm, key, stream, blk, slot, r0):
    """The accepted value of (block, slot) from attempts r0 >= 1, r0 + 1, ... (returned as float64)."""
    q32, q64 = _trunc_params32(prm), _trunc_params64(prm)
    method = np.int64(prm[METHOD])
    for r in range(r0, MAX_ATTEMPTS):
        k0, k1 = retry_key(key, r)
        x = _attempt(code, method, q32, q64, k0, k1, stream, blk, slot)
        if not np.isnan(x):
            return x
    return prm[NEAREST]  # acceptance ~0 in floating point: the point nearest the mean


@scalar
def _trunc_loop32(method, prm, w, v32):
    """Attempt 0 for a whole float32-family tile, in tile-position order (``method`` constant)."""
    q = _trunc_params32(prm)
    for h in range(2):  # words (2h, 2h + 1)
        wh = w[2 * h * _B:]
        if method == NORMAL_PROPOSAL:  # -> slots 2h, 2h + 1
            v = v32[2 * h * _B:]
            for j in range(_B):
                z0, z1 = normal_pair_f32(_U64(wh[j]), _U64(wh[_B + j]))
                v[j] = _accept(q, z0)
                v[_B + j] = _accept(q, z1)
        else:  # -> slot h
            v = v32[h * _B:]
            for j in range(_B):
                v[j] = _accept_offset(q, trunc_attempt_f32(method, _U64(wh[j]), _U64(wh[_B + j]), q[5], q[6], q[7],
                                                           q[8]))


@scalar
def _trunc_loop64(method, prm, w, v64):
    """Attempt 0 for a whole float64 tile."""
    q = _trunc_params64(prm)
    if method == NORMAL_PROPOSAL:
        for j in range(_B):
            z0, z1 = normal_pair_f64(_U64(w[j]), _U64(w[_B + j]), _U64(w[2 * _B + j]), _U64(w[3 * _B + j]))
            v64[j] = _accept(q, z0)
            v64[_B + j] = _accept(q, z1)
    else:
        for j in range(_B):
            v64[j] = _accept_offset(q, trunc_attempt_f64(method, _U64(w[j]), _U64(w[_B + j]), _U64(w[2 * _B + j]),
                                                         _U64(w[3 * _B + j]), q[5], q[6], q[7], q[8]))


@scalar
def _retry_loop32(method, q, k0, k1, stream, blk0, idx, n, res):
    """res[i] = attempt (key k0, k1) of tile position idx[i]: one vectorized pass over the rejects."""
    for i in range(n):
        p = idx[i]
        blk = blk0 + _U64(p % _B)
        w0, w1, w2, w3 = philox_block(blk & _MASK32, blk >> _SHIFT32, stream[0], stream[1], k0, k1, PHILOX_ROUNDS)
        res[i] = np.float64(_candidate32(method, q, w0, w1, w2, w3, p // _B))


@scalar
def _retry_loop64(method, q, k0, k1, stream, blk0, idx, n, res):
    for i in range(n):
        p = idx[i]
        blk = blk0 + _U64(p % _B)
        w0, w1, w2, w3 = philox_block(blk & _MASK32, blk >> _SHIFT32, stream[0], stream[1], k0, k1, PHILOX_ROUNDS)
        res[i] = _candidate64(method, q, w0, w1, w2, w3, p // _B)


@kernel
def _trunc_first32(method, prm, words, v32):
    """Attempt 0 over a float32-family tile; one specialised copy per proposal, so each vectorizes."""
    wide_vectors()
    if method == NORMAL_PROPOSAL:
        _trunc_loop32(NORMAL_PROPOSAL, prm, words, v32)
    elif method == UNIFORM_PROPOSAL:
        _trunc_loop32(UNIFORM_PROPOSAL, prm, words, v32)
    else:
        _trunc_loop32(EXP_PROPOSAL, prm, words, v32)


@kernel
def _trunc_first64(method, prm, words, v64):
    """As :func:`_trunc_first32`, float64."""
    wide_vectors()
    if method == NORMAL_PROPOSAL:
        _trunc_loop64(NORMAL_PROPOSAL, prm, words, v64)
    elif method == UNIFORM_PROPOSAL:
        _trunc_loop64(UNIFORM_PROPOSAL, prm, words, v64)
    else:
        _trunc_loop64(EXP_PROPOSAL, prm, words, v64)


@kernel
def _trunc_retry32(method, prm, key, stream, blk0, r, idx, res):
    """Attempt r over the tile positions idx[:res.size] (float32 family), per proposal: r >= 1 over a tile's
    rejects; r = 0 (the call's own key) over a part's positions (:func:`_trunc_part`)."""
    wide_vectors()
    k0, k1 = retry_key(key, r) if r > 0 else (key[0], key[1])
    q = _trunc_params32(prm)
    if method == NORMAL_PROPOSAL:
        _retry_loop32(NORMAL_PROPOSAL, q, k0, k1, stream, blk0, idx, res.size, res)
    elif method == UNIFORM_PROPOSAL:
        _retry_loop32(UNIFORM_PROPOSAL, q, k0, k1, stream, blk0, idx, res.size, res)
    else:
        _retry_loop32(EXP_PROPOSAL, q, k0, k1, stream, blk0, idx, res.size, res)


@kernel
def _trunc_retry64(method, prm, key, stream, blk0, r, idx, res):
    """As :func:`_trunc_retry32`, float64."""
    wide_vectors()
    k0, k1 = retry_key(key, r) if r > 0 else (key[0], key[1])
    q = _trunc_params64(prm)
    if method == NORMAL_PROPOSAL:
        _retry_loop64(NORMAL_PROPOSAL, q, k0, k1, stream, blk0, idx, res.size, res)
    elif method == UNIFORM_PROPOSAL:
        _retry_loop64(UNIFORM_PROPOSAL, q, k0, k1, stream, blk0, idx, res.size, res)
    else:
        _retry_loop64(EXP_PROPOSAL, q, k0, k1, stream, blk0, idx, res.size, res)


@kernel
def _tile_trunc(code, prm, key, stream, blk0, words, v32, v64):
    """Truncated-normal tile: vectorized attempt 0, then vectorized attempts 1, 2, ... over the compacted
    rejects (up to VECTOR_ATTEMPTS), then the rare rest one by one.  Attempt r of a position is the same
    wherever it is computed, so the values do not depend on where a pass stops."""
    wide_vectors()
    method = np.int64(prm[METHOD])
    if code == F64:
        _trunc_first64(method, prm, words, v64)
    else:
        _trunc_first32(method, prm, words, v32)
    total = lanes(code, TRUNC, method) * _B
    idx = np.empty(total, np.int64)
    n = 0
    for p in range(total):
        if np.isnan(v64[p] if code == F64 else v32[p]):
            idx[n] = p
            n += 1
    if n > 0:  # (n an int64, as a part's: numba had typed this call's n Literal[int](0), a second signature)
        _trunc_passes(code, method, prm, key, stream, blk0, idx, np.int64(n), np.empty(n, np.float64), np.int64(1),
                      v32, v64)


@kernel
def _trunc_passes(code, method, prm, key, stream, blk0, idx, n, res, r, v32, v64):
    """Attempts r, r + 1, ... of the tile positions idx[:n] until each is accepted: vectorized passes over the
    compacted rejects (``res``: n float64 of scratch) up to VECTOR_ATTEMPTS, then the rare rest one by one
    (:func:`_trunc_redraw`); each accepted value into v32 / v64 at its position.  (r: an int64, not a literal: numba
    would compile the retry kernels once more for Literal[int](1).)"""
    while n > 0 and r <= VECTOR_ATTEMPTS:
        if code == F64:
            _trunc_retry64(method, prm, key, stream, blk0, r, idx, res[:n])
        else:
            _trunc_retry32(method, prm, key, stream, blk0, r, idx, res[:n])
        left = 0
        for i in range(n):  # store the accepted, compact the still rejected
            p = idx[i]
            if np.isnan(res[i]):
                idx[left] = p
                left += 1
            elif code == F64:
                v64[p] = res[i]
            else:
                v32[p] = np.float32(res[i])
        n = left
        r += 1
    for i in range(n):
        p = idx[i]
        x = _trunc_redraw(code, prm, key, stream, blk0 + _U64(p % _B), p // _B, r)
        if code == F64:
            v64[p] = x
        else:
            v32[p] = np.float32(x)


@kernel
def _tile_words(blk0, key, stream, words):
    """words[l * B + j] = word l of block blk0 + j (structure of arrays)."""
    wide_vectors()
    _words_blocks(blk0, key, stream, words, _B)


@scalar
def _words_blocks(blk0, key, stream, words, n):
    """:func:`_tile_words` of the first n blocks from ``blk0`` (inlined: a whole tile's constant n vectorizes
    fully; a part's caller moves the base, blk0 + j0 and words[j0:], so that its loop still starts at 0)."""
    wide_vectors()
    kk, ss = (key[0], key[1]), (stream[0], stream[1])
    for j in range(n):
        w0, w1, w2, w3 = _block(blk0 + _U64(j), kk, ss)
        words[j] = w0
        words[_B + j] = w1
        words[2 * _B + j] = w2
        words[3 * _B + j] = w3


@kernel
def _tile(code, kind, prm, blk0, key, stream, words, v32, v64):
    """All values of the tile starting at block ``blk0``, in tile-position order (slot l of block j at l B + j),
    into v32 (float32 family) or v64 (float64).  Each slot's run is contiguous, so every loop vectorizes and can
    write straight into a contiguous target.  Uniform fuses Philox and transform in one loop; the others go
    through ``words`` (one fused loop would spill registers: 64-bit Philox lanes next to 32-bit float lanes).
    (The truncated normal has its own, :func:`_tile_trunc`.)"""
    wide_vectors()
    _tile_blocks(code, kind, prm, blk0, key, stream, words, v32, v64, _B)


@scalar
def _tile_blocks(code, kind, prm, blk0, key, stream, words, v32, v64, n):
    """:func:`_tile`'s values of its first n blocks (from ``blk0``; words, v32, v64 from its first), at their
    tile positions (inlined, as :func:`_words_blocks`: a part's caller moves all four bases)."""
    wide_vectors()
    a, s, lo, hi = prm[P0], prm[P1], prm[LO], prm[HI]
    kk, ss = (key[0], key[1]), (stream[0], stream[1])
    if kind == UNIFORM:
        if code == F64:
            for j in range(n):
                w0, w1, w2, w3 = _block(blk0 + _U64(j), kk, ss)
                v64[j] = uniform_value64(a, s, lo, hi, w0, w1)
                v64[_B + j] = uniform_value64(a, s, lo, hi, w2, w3)
            return
        a32, s32, lo32, hi32, clamp = _uniform_params32(prm)
        if clamp:
            _uniform_loop32(True, blk0, kk, ss, a32, s32, lo32, hi32, v32, n)
        else:
            _uniform_loop32(False, blk0, kk, ss, a32, s32, lo32, hi32, v32, n)
        return
    _words_blocks(blk0, key, stream, words, n)
    if code == F64:
        for j in range(n):
            z0, z1 = normal_pair_f64(_U64(words[j]), _U64(words[_B + j]),
                                     _U64(words[2 * _B + j]), _U64(words[3 * _B + j]))
            v64[j] = a + s * z0
            v64[_B + j] = a + s * z1
        return
    a32, s32 = np.float32(a), np.float32(s)
    for h in range(2):  # Box-Muller pairs (word 0, word 1) -> slots 0, 1 and (word 2, word 3) -> slots 2, 3
        w = words[2 * h * _B:]
        v = v32[2 * h * _B:]
        for j in range(n):
            z0, z1 = normal_pair_f32(_U64(w[j]), _U64(w[_B + j]))
            v[j] = a32 + s32 * z0
            v[_B + j] = a32 + s32 * z1


@scalar
def normal_at(code, prm, key, stream, g):
    """The value :func:`_tile` computes for global index ``g`` (a uint64) of a normal fill, alone (float64;
    float32-family values exactly): for the few kept entries of a sparse block."""
    tile = _U64(lanes(code, NORMAL, 0) * _B)
    t = g // tile
    p = np.int64(g - t * tile)
    w0, w1, w2, w3 = _block(t * _U64(_B) + _U64(p % _B), (key[0], key[1]), (stream[0], stream[1]))
    slot = p // _B
    if code == F64:
        z0, z1 = normal_pair_f64(w0, w1, w2, w3)
        return prm[P0] + prm[P1] * (z0 if slot == 0 else z1)
    z0, z1 = normal_pair_f32(w0, w1) if slot < 2 else normal_pair_f32(w2, w3)
    return np.float64(np.float32(prm[P0]) + np.float32(prm[P1]) * (z0 if slot % 2 == 0 else z1))


@scalar
def store_at(code, d16, d32, d64, m, x):
    """Round ``x`` (float64; float32-family values exactly) once to the storage format and write it at m."""
    if code == F64:
        d64[m] = x
    elif code == F32:
        d32[m] = np.float32(x)
    elif code == BF16:
        d16[m] = f32bits_to_bf16bits(float_bits(np.float32(x)))
    else:
        d16[m] = _f16_bits(np.float32(x))


@scalar
def uniform_value32(clamp, a32, s32, lo32, hi32, w):
    """A float32-family uniform value from one word: a32 + s32 * u (two roundings, no FMA), clamped to
    [lo32, hi32] if ``clamp``.  The CPU and CUDA kernels' one definition of it."""
    x = a32 + s32 * uniform_f32(w)
    if clamp:
        x = min(max(x, lo32), hi32)
    return x


@scalar
def uniform_value64(a, s, lo, hi, w0, w1):
    """A float64 uniform value from two words: a + s * u clamped to [lo, hi] (CPU and CUDA kernels)."""
    return min(max(a + s * uniform_f64(w0, w1), lo), hi)


@scalar
def _uniform_params32(prm):
    """(a, s, lo, hi) of a float32-family uniform fill in float32, and whether its values need the clamp
    to [lo, hi].  a + s * u is monotone in u (IEEE rounding is): when its ends u = 0 and u = 1 - 2**-24
    lie in [lo, hi], so does every value, and the clamp can go (the same values, ~5% less work)."""
    a32, s32, lo32, hi32 = np.float32(prm[P0]), np.float32(prm[P1]), np.float32(prm[LO]), np.float32(prm[HI])
    return a32, s32, lo32, hi32, not (lo32 <= a32 and a32 + s32 * _F32_UMAX <= hi32)


@scalar
def _uniform_block32(clamp, blk, kk, ss, a32, s32, lo32, hi32):
    """The four float32-family uniform values a32 + s32 * u of Philox block ``blk``, clamped to [lo32, hi32]
    if ``clamp``."""
    w0, w1, w2, w3 = _block(blk, kk, ss)
    return (uniform_value32(clamp, a32, s32, lo32, hi32, w0), uniform_value32(clamp, a32, s32, lo32, hi32, w1),
            uniform_value32(clamp, a32, s32, lo32, hi32, w2), uniform_value32(clamp, a32, s32, lo32, hi32, w3))


@scalar
def _uniform_loop32(clamp, blk0, kk, ss, a32, s32, lo32, hi32, v32, n):
    """The float32-family uniform tile's first n blocks from ``blk0`` (v32 from its first), clamped to [lo32, hi32]
    or not (``clamp`` a constant at each call site, so each copy compiles to its own loop)."""
    for j in range(n):
        x0, x1, x2, x3 = _uniform_block32(clamp, blk0 + _U64(j), kk, ss, a32, s32, lo32, hi32)
        v32[j] = x0
        v32[_B + j] = x1
        v32[2 * _B + j] = x2
        v32[3 * _B + j] = x3


@scalar
def _uniform_loop_f16(clamp, blk0, kk, ss, a32, s32, lo32, hi32, dst):
    """:func:`_uniform_loop32` storing float16 bits straight into ``dst`` (the CPU's conversion instruction
    in the loop; no pass through the scratch: float16 uniform fills ~35% faster).  bfloat16 gains nothing
    this way: its integer rounding needs two shifts per value on the port Philox's shifts saturate."""
    for j in range(_B):
        x0, x1, x2, x3 = _uniform_block32(clamp, blk0 + _U64(j), kk, ss, a32, s32, lo32, hi32)
        dst[j] = _f16_bits(x0)
        dst[_B + j] = _f16_bits(x1)
        dst[2 * _B + j] = _f16_bits(x2)
        dst[3 * _B + j] = _f16_bits(x3)


@kernel
def _tile_f16_uniform(prm, blk0, key, stream, dst):
    """A whole float16 uniform tile of a contiguous target, stored without the scratch (as :func:`_tile`)."""
    wide_vectors()
    a32, s32, lo32, hi32, clamp = _uniform_params32(prm)
    kk, ss = (key[0], key[1]), (stream[0], stream[1])
    if clamp:
        _uniform_loop_f16(True, blk0, kk, ss, a32, s32, lo32, hi32, dst)
    else:
        _uniform_loop_f16(False, blk0, kk, ss, a32, s32, lo32, hi32, dst)


@scalar
def _f16_bits(x):
    """float16 bits of the float32 ``x``: the CPU's conversion instruction where it has one (the same bits as
    the portable transform, which does not vectorize: float16 fills 2x slower), else the transform."""
    if HARDWARE_HALF:
        return half_bits(x)
    return f32bits_to_f16bits(float_bits(x))


@kernel
def _store(code, v32, v64, d16, d32, d64, m, ms, n):
    """Round v[:n] once to the storage format and write it at m, m + ms, m + 2 ms, ..."""
    wide_vectors()
    if code == F64:
        # contiguous: a loop over a slice (indices provably non-negative: it vectorizes); `d[m:m + n] = v[:n]`
        # would compile numba's shape-mismatch message (str formatting: 4 s of a cold compile, a third of _fill_run)
        if ms == 1:
            dst64 = d64[m:m + n]
            for i in range(n):
                dst64[i] = v64[i]
        else:
            for i in range(n):
                d64[_U64(m + i * ms)] = v64[i]
    elif code == F32:
        if ms == 1:
            dst32 = d32[m:m + n]
            for i in range(n):
                dst32[i] = v32[i]
        else:
            for i in range(n):
                d32[_U64(m + i * ms)] = v32[i]
    elif code == BF16:  # one loop per 16-bit format: each is branch-free and vectorizes
        bits = v32.view(np.uint32)
        if ms == 1:
            dst = d16[m:m + n]
            for i in range(n):
                dst[i] = f32bits_to_bf16bits(bits[i])
        else:
            for i in range(n):
                d16[_U64(m + i * ms)] = f32bits_to_bf16bits(bits[i])
    elif ms == 1:  # float16
        dst = d16[m:m + n]
        for i in range(n):
            dst[i] = _f16_bits(v32[i])
    else:
        for i in range(n):
            d16[_U64(m + i * ms)] = _f16_bits(v32[i])


@scalar
def _next_tile(g, end, tile):
    """Tile t holding global index g, g's position p0 in it, and how many of [g, end) it covers."""
    t = g // tile
    p0 = np.int64(g - t * tile)
    return t, p0, np.int64(min(end - g, tile - _U64(p0)))


@scalar
def _constant_rows(d, m, rows, ms_row, ms, length, x, streamed):
    """d[m + r ms_row + i ms] = x for r < rows, i < length (ms > 0); ``streamed``: contiguous rows of at least
    STREAM_RUN bytes by non-temporal stores (:func:`_stream_run`).  Unsigned indices: without numba's
    wraparound test the contiguous loop vectorizes, also for rows of 4 (a slice's setup cost more than their
    stores: zeros_ of w[:, :4] took 20x numpy's fill), and the strided one is not made an AVX-512 scatter
    (w[::2] took 3.5x numpy's fill)."""
    for r in range(rows):
        mr = m + r * ms_row
        if ms == 1 and streamed and length * d.itemsize >= STREAM_RUN:
            _stream_run(d, mr, length, x)
        elif ms == 1:
            for i in range(_U64(mr), _U64(mr + length)):
                d[i] = x
        else:
            for i in range(_U64(mr), _U64(mr + length * ms), _U64(ms)):
                d[i] = x


STREAM_RUN = 2048  # bytes: shorter contiguous runs of a streamed constant fill are stored through the cache
LINE = 64  # bytes of a cache line: the non-temporal stores write whole lines (a partly written one is slow to flush)


@scalar
def _stream_run(d, m, length, x):
    """d[m : m + length] = x: whole cache lines by two 32-byte non-temporal stores each
    (:func:`fastinit._jit.stream_store`), the parts of lines before the first and after the last by plain stores
    (the elements are aligned to their size: as_target refuses others).  The caller fences once its runs are
    written (:func:`constant_nd`)."""
    lanes = 32 // d.itemsize
    body = m + min((LINE - (d.ctypes.data + m * d.itemsize) % LINE) % LINE // d.itemsize, length)
    end = body + (m + length - body) // (2 * lanes) * (2 * lanes)
    for i in range(_U64(m), _U64(body)):
        d[i] = x
    for i in range(body, end, 2 * lanes):
        stream_store(d, i, x)
        stream_store(d, i + lanes, x)
    for i in range(_U64(end), _U64(m + length)):
        d[i] = x


@kernel
def _fill_run(code, kind, prm, key, stream, g, length, d16, d32, d64, m, ms, words, v32, v64, held):
    """Fill ``length`` elements of global indices g, g + 1, ... at memory m, m + ms, ...
    (uniform, normal).  ``held[0]``: the tile whose values v32 / v64 hold (runs shorter than a tile,
    the rows of a narrow block, take their values from one computation of it)."""
    wide_vectors()
    tile = _U64(lanes(code, kind, 0) * _B)
    (each, fixed), reach = part_costs(code, kind), np.float64(min(held[1], tile))  # (a part: < reach)
    end = g + _U64(length)
    while g < end:
        t, p0, n = _next_tile(g, end, tile)
        if n == np.int64(tile) and ms == 1 and code >= F32:  # a whole tile, contiguous: no scratch
            _tile(code, kind, prm, t * _U64(_B), key, stream, words, d32[m:m + n], d64[m:m + n])
        elif n == np.int64(tile) and ms == 1 and code == F16 and kind == UNIFORM:
            _tile_f16_uniform(prm, t * _U64(_B), key, stream, d16[m:m + n])
        else:
            if held[0] != t and n < _B and n * each + fixed < reach:  # a column shard's row: its blocks of the tile
                _tile_part(code, kind, prm, t, key, stream, words, v32, v64, p0, n)
                held[0] = ~_U64(0)  # the scratch holds no whole tile now
            else:
                _tile_at(code, kind, prm, t, key, stream, words, v32, v64, held)
            _store(code, v32[p0:], v64[p0:], d16, d32, d64, m, ms, n)
        g += _U64(n)
        m += n * ms


@kernel
def _fill_run_trunc(code, kind, prm, key, stream, g, length, d16, d32, d64, m, ms, words, v32, v64, held):
    """As :func:`_fill_run`, truncated normal (``kind`` TRUNC; a kernel of its own: its many specialised loops
    compile only when a truncated normal is first asked for)."""
    wide_vectors()
    tile = _U64(lanes(code, TRUNC, np.int64(prm[METHOD])) * _B)
    (alone, each, fixed), reach = trunc_part_costs(code, prm), np.float64(min(held[1], tile))  # (a part: < reach)
    end = g + _U64(length)
    while g < end:
        t, p0, n = _next_tile(g, end, tile)
        if n == np.int64(tile) and ms == 1 and code >= F32:
            _tile_words(t * _U64(_B), key, stream, words)
            _tile_trunc(code, prm, key, stream, t * _U64(_B), words, d32[m:m + n], d64[m:m + n])
        else:
            few = n <= PART_ALONE  # (n < B: _trunc_part's scratch, whatever the costs)
            take = n * alone < reach if few else n < _B and n * each + fixed < reach
            if held[0] != t and take:  # a column shard's row: its values (runs sharing a tile too)
                if few:
                    _trunc_alone(code, prm, t, key, stream, v32, v64, p0, n)
                else:
                    _trunc_part(code, prm, t, key, stream, words, v32, v64, p0, n)
                held[0] = ~_U64(0)
            else:
                _trunc_tile_at(code, kind, prm, t, key, stream, words, v32, v64, held)
            _store(code, v32[p0:], v64[p0:], d16, d32, d64, m, ms, n)
        g += _U64(n)
        m += n * ms


@scalar
def row_start(r, ndim, shape, gstride, mstride, gbase, mbase):
    """Global index and memory position of the first element of local row r (row-major over all axes but the
    last): the one decoding of the determinism contract's index, for the CPU and CUDA kernels."""
    g = gbase
    m = mbase
    for d in range(ndim - 2, 0, -1):
        i = r % shape[d]
        r = r // shape[d]
        g += _U64(i) * gstride[d]
        m += i * mstride[d]
    if ndim > 1:  # the outermost axis: r < shape[0] (r < the rows) is its index, no division
        g += _U64(r) * gstride[0]
        m += r * mstride[0]
    return g, m


@scalar
def _segment(pos, end, shape, gbase, gstride, mbase, mstride):
    """The row run starting at local position ``pos``: (global index, length, memory position)."""
    ndim = shape.size
    cols = shape[ndim - 1]
    row = pos // cols
    col = pos - row * cols
    g, m = row_start(row, ndim, shape, gstride, mstride, gbase, mbase)
    return g + _U64(col), min(cols - col, end - pos), m + col * mstride[ndim - 1]


# A target whose rows lie nearer each other in memory than its columns (a transposed or Fortran-order matrix, a
# channels_last conv kernel: (out, in, kh·kw) with `in` of stride 1): its values are generated as always, a row run
# at a time (several rows at once where rows of at most COL_TILE follow each other in global index), into a
# scratch tile of up to ROW_TILE x COL_TILE values, then stored a column at a time (the tile's rows are memory
# neighbours), not a row at a time (a store per cache line: 2048² float32 in Fortran order took 85 ms where C order
# takes 16; a channels_last 256x256x3x3 kernel 34 ms where its contiguous twin took 0.9).
ROW_TILE = 16
COL_TILE = 4 * TILE_BLOCKS  # the widest generation tile: a row's piece is one tile's part, none computed twice
PITCH = COL_TILE + 16  # the scratch's row pitch: a column's 16 reads 4 KiB apart fell in one cache set (L1 conflict
# misses: a Fortran-order 2048² float32 uniform_ 6.2-6.6 ms, 4.1-4.6 with the pad; 32 or 64 rows: 11 ms)
WIDE_ROW = 1 << 15  # bytes: the widest row the tile holds whole, and its pieces of longer rows (tile_layout)
PIECES, ONE_RUN, WHOLE_ROWS = 0, 1, 2  # how a tile's rows are generated (tile_layout)


@scalar
def row_pitch(cols):
    """The scratch's row pitch for whole rows of ``cols`` over a tile: a multiple of 16 elements, 16 more than
    needed (a column's reads not 4 KiB apart, as PITCH)."""
    return (cols + 15) // 16 * 16 + 16


@scalar
def tile_axis(shape, gstride, mstride):
    """The axis k whose neighbouring rows the row tile gathers, a row being all of axes k+1, ... (its columns, one
    run of global indices: not a shard's part of them): of those axes, the one of least memory stride, if under
    the last axis's; else -1.  A transposed or Fortran-order matrix: the one before the last; HWIO memory viewed as
    OIHW, or a 3-D Fortran-order array: axis 0 (tiled along the one before the last, a 512x512x3x3 HWIO kernel
    took 11 ms where its contiguous twin took 0.75; a (512, 32, 1024) transpose 112 ms against 6.4)."""
    nd = shape.size
    if nd < 2 or shape[nd - 1] <= 1:
        return -1
    best, width = -1, abs(mstride[nd - 1])
    for k in range(nd - 2, -1, -1):
        if abs(mstride[k]) < width:
            best, width = k, abs(mstride[k])
        if k > 0 and gstride[k] != gstride[k + 1] * _U64(shape[k + 1]):  # axes k, k+1, ... are not one run
            break
    return best


@scalar
def row_length(shape, k):
    """Elements of a row of tile axis k: the product of the extents of axes k+1, ...."""
    n = 1
    for d in range(k + 1, shape.size):
        n *= shape[d]
    return n


@scalar
def work_chunk(chunk, shape, gstride, mstride, n):
    """A work item's positions: ``chunk`` if positive, else (launch's choice for -chunk threads) about
    DEFAULT_CHUNK in whole tiles of ROW_TILE rows of the tile axis (at least one: rows of a transposed
    (512, 32, 1024) array are 32768 long; an item starting within a row stored it a short run at a time), fewer
    tiles, then fewer rows a tile, where a thread would go without an item; DEFAULT_CHUNK when the call's rows
    leave a thread under two (a (16, 10⁶) Fortran array on 16 threads: items within rows, as for any layout,
    not one item of all 16 rows).  The thread count is an argument: numba's, in a kernel, is not cached."""
    if chunk > 0:
        return chunk
    k = tile_axis(shape, gstride, mstride)
    if k < 0:
        return DEFAULT_CHUNK
    cols = row_length(shape, k)
    share = -(-(n // cols) // -chunk)  # rows a thread, rounded up
    if share < 2:
        return DEFAULT_CHUNK
    if share < ROW_TILE:
        return share * cols
    return min(max(1, DEFAULT_CHUNK // (ROW_TILE * cols)), share // ROW_TILE) * ROW_TILE * cols


@scalar
def tile_layout(code, k, cols, gstride):
    """(layout, pitch) of the row tile of tile axis k (``k >= 0``), rows of ``cols``: ONE_RUN (rows up to a tile's
    width that follow each other in global index: all of them one run, pitch = cols), WHOLE_ROWS (longer ones,
    up to WIDE_ROW bytes: a run a row, whole; each row's last generation tile is the next row's first, held in
    the one scratch), else PIECES of up to WIDE_ROW bytes (COL_TILE for rows up to a tile's width: a column
    shard's), each ending at a generation-tile boundary of the first row.  WHOLE_ROWS and wide pieces: HWIO memory
    viewed as OIHW, 8680x256x3x3, and Fortran-order (3000, 3000) normal_ took 54 and 18 ms in pieces of one
    generation tile, whose other rows' pieces straddled two tiles; 33 and 12 now (docs/performance.md)."""
    if cols <= COL_TILE:
        return (ONE_RUN, cols) if gstride[k] == _U64(cols) else (PIECES, PITCH)
    wide = WIDE_ROW // (8 if code == F64 else 4 if code == F32 else 2)
    if cols <= wide and gstride[k] == _U64(cols):
        return WHOLE_ROWS, row_pitch(cols)
    return PIECES, row_pitch(wide)


@scalar
def rows_tile(code, layout, pitch, cols, length):
    """The scratch tiles (16-, 32-, 64-bit: one of ROW_TILE rows of ``pitch``, ROW_TILE x PITCH for ONE_RUN, the
    others empty) of a work item of ``length`` positions, for rows of ``cols`` in :func:`tile_layout`'s
    (``layout``, ``pitch``); three empty arrays for no layout (-1: no tile axis), or if the item cannot hold two
    rows (a 528 KiB scratch for an item of 7 positions, ``_chunk=7``, made it 1.5x slower)."""
    n = ROW_TILE * (PITCH if layout == ONE_RUN else pitch) if layout >= 0 and length >= 2 * cols else 0
    return (np.empty(n if code in (F16, BF16) else 0, np.uint16), np.empty(n if code == F32 else 0, np.float32),
            np.empty(n if code == F64 else 0, np.float64))


@scalar
def row_caches(code, layout, cols, step, tile):
    """Per-row value scratch (ROW_TILE of :func:`scratch`'s v32 / v64, and of ``held``, none held) for PIECES
    of rows of ``cols`` longer than a tile that start at different places of their generation tiles (``step``,
    their global stride, not a tile's multiple): a piece of each row then ends within a tile that the row's next
    piece begins with, which one shared scratch had lost to the other rows by then and computed again (a
    Fortran-order (3000, 3000) trunc_normal_ took 46.5 ms, 34.5 with these); else (another ``layout``, or -1: no
    row tile) three empty arrays."""
    n = ROW_TILE if layout == PIECES and cols > COL_TILE and step % tile != _U64(0) else 0
    held = np.empty(2 * n, np.uint64)
    held[0::2] = ~_U64(0)
    return np.empty(n * 4 * _B if code != F64 else 0, np.float32), np.empty(n * 2 * _B if code == F64 else 0,
                                                                             np.float64), held


@scalar
def tile_rows(pos, end, rows, cols, pitch, size):
    """Rows of the row tile (of ``cols`` elements, ``pitch`` apart in a scratch of ``size``) starting at position
    ``pos`` of [pos, end), in a matrix of ``rows`` (the tile axis's extent): up to ROW_TILE, or for ONE_RUN as
    many as the scratch holds; 0 when the tiled store does not apply (no scratch, not a row start, under 2)."""
    if size == 0 or pos % cols != 0:
        return 0
    n = min((end - pos) // cols, size // pitch, rows - (pos // cols) % rows)
    return n if n >= 2 else 0


@scalar
def tile_piece(rows, layout, pitch, cols, c0, g, tile):
    """(runs, run length, columns) of the tile's piece from column c0 (``layout`` from :func:`tile_layout`; not told
    by the pitch: a column shard's rows of 1024 have pitch == cols too): one run of all its rows, a run a whole
    row, or a run a row up to the scratch's width (pitch - 16), ending at a generation-tile boundary of the first
    row unless at the row's end."""
    if layout == ONE_RUN:
        return 1, rows * cols, cols
    if layout == WHOLE_ROWS:
        return rows, cols, cols
    n = min(cols - c0, pitch - 16 - np.int64((g + _U64(c0)) % tile))
    return rows, n, n


@kernel
def store_tile(code, t16, t32, t64, rows, n, pitch, d16, d32, d64, m, ms_row, cshape, cstride, c0):
    """Write the tile's rows[:rows] x [:n] (row r at r pitch) as columns c0, ..., c0 + n - 1 of rows of shape
    ``cshape`` (memory strides ``cstride``), row r's at m + r ms_row: a column at a time."""
    if code == F64:
        _store_columns(t64, rows, n, pitch, d64, m, ms_row, cshape, cstride, c0)
    elif code == F32:
        _store_columns(t32, rows, n, pitch, d32, m, ms_row, cshape, cstride, c0)
    else:
        _store_columns(t16, rows, n, pitch, d16, m, ms_row, cshape, cstride, c0)


@scalar
def _store_columns(t, rows, n, pitch, d, m, ms_row, cshape, cstride, c0):
    """:func:`store_tile` for one storage format, a run of the innermost column axis at a time, with unsigned
    indices (numba's test for a negative index on every store, and a multi-index step a column: storing an
    8680x256x3x3 HWIO view's tiles took 29.6 ms, 25.4 without); a column at a time, or a row at a time for runs
    of 8 to 32 columns of at least 512 rows (ONE_RUN tiles: a transposed (n/16, 16) float32 uniform_ of 2e7
    16.9 -> 13.3 ms; fewer columns, or fewer rows, were slower so: rows of 4, a channels_last kernel's 128 x 9)."""
    nc = cshape.size
    idx = np.empty(nc, np.int64)
    mc = start_nd(c0, cshape, cstride, m, idx)
    cs = cstride[nc - 1]
    c = np.int64(0)
    while c < n:
        k = min(n - c, cshape[nc - 1] - idx[nc - 1])
        if 8 <= k <= 32 and rows >= 512:  # a few columns of many rows (ONE_RUN): a row at a time
            for r in range(rows):
                mr, tr = mc + r * ms_row, r * pitch + c
                for j in range(k):
                    d[_U64(mr + j * cs)] = t[_U64(tr + j)]
        else:
            for j in range(k):
                mj = mc + j * cs
                for r in range(rows):
                    d[_U64(mj + r * ms_row)] = t[_U64(r * pitch + c + j)]
        c += k
        mc = advance_nd(k, mc, idx, cshape, cstride, nc - 1)


@scalar
def short_rows(shape, gstride, tile, tiled):
    """Whether a block with no row tile (not ``tiled``) has rows shorter than a generation tile that follow each
    other in global index (no column shard): its positions [pos, end) are then one global run, whose values go to
    memory through :func:`store_nd` (a channels_last conv kernel's rows of 3, the rows of 16 of w[:, :16]: a row
    at a time, each row's setup cost 70 ns an element)."""
    nd = shape.size
    if nd < 2 or tiled or shape[nd - 1] >= tile:
        return False
    n = _U64(1)
    for d in range(nd - 1, -1, -1):
        if gstride[d] != n:
            return False
        n *= _U64(shape[d])
    return True


@scalar
def start_nd(pos, shape, mstride, mbase, idx):
    """idx = the local multi-index of row-major position ``pos``; returns its memory position."""
    m = mbase
    for d in range(shape.size - 1, -1, -1):
        i = pos % shape[d]
        pos //= shape[d]
        idx[d] = i
        m += i * mstride[d]
    return m


@kernel
def store_nd(code, v32, v64, n, d16, d32, d64, m, idx, shape, mstride):
    """Round v[:n] once and store them at the block's positions in row-major order from local multi-index
    ``idx`` (at memory m) on, a row's part at a time; returns the memory position after them (idx advanced)."""
    nd = shape.size
    cols, ms = shape[nd - 1], mstride[nd - 1]
    i = 0
    while i < n:
        k = min(n - i, cols - idx[nd - 1])
        for j in range(i, i + k):  # short rows: inline, a call per row would cost more than its stores
            store_at(code, d16, d32, d64, m + (j - i) * ms, v64[j] if code == F64 else np.float64(v32[j]))
        i += k
        m = advance_nd(k, m, idx, shape, mstride, nd - 1)
    return m


@scalar
def advance_nd(k, m, idx, shape, mstride, axis):
    """Move the multi-index ``idx`` (at memory m) k places along ``axis`` (the last: along its row; the one
    before: whole rows), carrying into the next row (and matrix) at its end; returns the new memory position."""
    idx[axis] += k
    m += k * mstride[axis]
    d = axis
    while d > 0 and idx[d] == shape[d]:
        m += mstride[d - 1] - shape[d] * mstride[d]
        idx[d] = 0
        idx[d - 1] += 1
        d -= 1
    return m


@kernel
def constant_nd(code, a, streamed, pos, end, shape, mstride, mbase, d16, d32, d64):
    """The constant ``a`` (a float32 / float64 value, or a 16-bit pattern) at local positions [pos, end), a row's
    part at a time through the multi-index: a row costs its stores, not a decoding of its place (rows of 16 of
    w[:, :16] took 55 ns a row, 12x numpy's fill); ``streamed``: past the cache (:func:`streams`)."""
    nd = shape.size
    idx = np.empty(nd, np.int64)
    m = start_nd(pos, shape, mstride, mbase, idx)
    cols, ms = shape[nd - 1], mstride[nd - 1]
    while pos < end:
        k = min(end - pos, cols - idx[nd - 1])
        rows, axis, step = 1, nd - 1, k
        if nd >= 2 and idx[nd - 1] == 0 and end - pos >= cols:  # whole rows of one matrix: one call
            rows = min((end - pos) // cols, shape[nd - 2] - idx[nd - 2])
            axis, step = nd - 2, rows
        if code == F64:  # one loop per storage format: each compiles to a memset-like loop
            _constant_rows(d64, m, rows, mstride[nd - 2], ms, k, a, streamed)
        elif code == F32:
            _constant_rows(d32, m, rows, mstride[nd - 2], ms, k, np.float32(a), streamed)
        else:
            _constant_rows(d16, m, rows, mstride[nd - 2], ms, k, np.uint16(a), streamed)
        pos += rows * k
        m = advance_nd(step, m, idx, shape, mstride, axis)
    if streamed:  # its non-temporal stores ordered before the work item reports done
        store_fence()


@kernel
def _tile_at(code, kind, prm, t, key, stream, words, v32, v64, held):
    """Tile t's values into v32 / v64 (uniform, normal), unless they hold them already (``held[0] == t``)."""
    if held[0] != t:
        _tile(code, kind, prm, t * _U64(_B), key, stream, words, v32, v64)
        held[0] = t


@kernel
def _tile_part(code, kind, prm, t, key, stream, words, v32, v64, p0, n):
    """Tile t's values at positions [p0, p0 + n) (n < B: at most two slots, so under B blocks) into v32 / v64 at
    those positions, from those blocks only (a column shard's row of 64 computed the whole tile of 1024, 16x
    its work); a run across a slot boundary takes blocks [p0 mod B, B) and [0, (p0 + n) mod B)."""
    wide_vectors()
    j0, j1 = p0 % _B, p0 % _B + n
    for lo, hi in ((j0, min(j1, _B)), (0, max(j1 - _B, 0))):
        _tile_blocks(code, kind, prm, t * _U64(_B) + _U64(lo), key, stream, words[lo:], v32[lo:], v64[lo:], hi - lo)


@scalar
def part_costs(code, kind):
    """What a uniform or normal part of n values of a tile costs, ``each`` n + ``fixed``, in a whole tile's values
    (:func:`_tile_part`, against :func:`_tile`): a run's part of a tile is drawn so where that costs less than the
    tile, or than the runs' pitch where runs share a tile (:func:`_fill_run`; rows of 10 of a (1000, 1000) tensor had
    each computed a tile of 1024).  Fitted on this VM, one thread, (2048, n) column blocks of (2048, 8192),
    2026-12-07 (p), docs/performance.md (the float16 family's as float32's: the same tiles)."""
    if code == F64:
        return (2.5, 55.0) if kind == NORMAL else (2.0, 80.0)
    return (4.2, 95.0) if kind == NORMAL else (3.2, 280.0)


PART_ALONE = 12  # a truncated-normal part of up to this many values is drawn value by value (_trunc_alone)


@scalar
def trunc_part_costs(code, prm):
    """What a truncated-normal part of n values costs, in a whole tile's vectorized values: ``alone`` n drawn value
    by value (:func:`_trunc_alone`), or ``each`` n + ``fixed`` in a part's vectorized passes (:func:`_trunc_part`),
    by the values a block gives the tile (4: the float32 family's normal proposal; 2: float64's normal proposal, or
    the float32 family's others; 1: float64's others).  A run's part of a tile is drawn so where that costs less than
    the tile, or than the runs' pitch where runs share a tile (:func:`_fill_run_trunc`).  Fitted to where parts and
    tiles break even on this VM, one thread, (R, w) column shards of (R, P) with P from 32 to 4096 (2026-12-06 (i),
    docs/performance.md); alone: (2048, w) shards of (2048, 4096), sessions (g) and (h)."""
    n = lanes(code, TRUNC, np.int64(prm[METHOD]))
    if n == 4:
        return 16.0, 2.2, 120.0
    if n == 1:
        return 8.0, 1.25, 36.0
    return (8.0, 1.6, 60.0) if code == F64 else (8.0, 1.7, 72.0)


@kernel
def _trunc_alone(code, prm, t, key, stream, v32, v64, p0, n):
    """As :func:`_tile_part`, truncated normal, for a few values: tile t's values at positions [p0, p0 + n) into
    v32 / v64, each from its own block (attempt 0, then :func:`_trunc_redraw`'s attempts 1, 2, ...: the values the
    whole tile's passes give).  A column shard's row of 1 to 12 values (vectorized passes cost more there)."""
    q32, q64 = _trunc_params32(prm), _trunc_params64(prm)
    method = np.int64(prm[METHOD])
    for p in range(p0, p0 + n):
        blk, slot = t * _U64(_B) + _U64(p % _B), p // _B
        x = _attempt(code, method, q32, q64, key[0], key[1], stream, blk, slot)
        if np.isnan(x):
            x = _trunc_redraw(code, prm, key, stream, blk, slot, np.int64(1))
        if code == F64:
            v64[p] = x
        else:
            v32[p] = np.float32(x)


@kernel
def _trunc_part(code, prm, t, key, stream, words, v32, v64, p0, n):
    """As :func:`_trunc_alone`, with attempt 0 of the positions one vectorized pass (the call's key), then
    :func:`_trunc_passes`' attempts 1, 2, ... over its rejects: the values the whole tile's passes give (scratch: the
    tile's words, as 2 B int64 / float64 halves, so n < B, which :func:`_fill_run_trunc` checks; not v32 / v64: a
    row's own tile cache holds one of the two only).  A column shard's row of 16 had computed, and retried, the
    whole tile of 1024."""
    idx, res = words.view(np.int64)[:n], words.view(np.float64)[_B:_B + n]
    for i in range(n):
        idx[i] = p0 + i
    _trunc_passes(code, np.int64(prm[METHOD]), prm, key, stream, t * _U64(_B), idx, n, res, np.int64(0), v32, v64)


@kernel
def _trunc_tile_at(code, kind, prm, t, key, stream, words, v32, v64, held):
    """As :func:`_tile_at`, truncated normal."""
    if held[0] != t:
        _tile_words(t * _U64(_B), key, stream, words)
        _tile_trunc(code, prm, key, stream, t * _U64(_B), words, v32, v64)
        held[0] = t


@scalar
def span(run, tile_at, d16, d32, d64, code, kind, prm, key, stream, shape, gbase, gstride, mbase, mstride, pos, end,
         words, v32, v64, held):
    """Fill local row-major positions [pos, end) with ``run`` (:func:`_fill_run`, or :func:`_fill_run_trunc`
    and its ``tile_at``): by the row tile, by one run stored through the odometer, or a row run at a time (a
    constant: through the odometer, :func:`constant_nd`)."""
    if kind == CONSTANT:  # its values have no place: the block is walked in memory order (memory_geometry)
        constant_nd(code, prm[P0], prm[P1] != 0.0, pos, end, shape, mstride, mbase, d16, d32, d64)
        return
    nd = shape.size
    k = tile_axis(shape, gstride, mstride)
    cols = row_length(shape, k) if k >= 0 else shape[nd - 1]
    layout, pitch = tile_layout(code, k, cols, gstride) if k >= 0 else (-1, 0)
    t16, t32, t64 = rows_tile(code, layout, pitch, cols, end - pos)
    size = t16.size + t32.size + t64.size
    layout = layout if size else -1  # no row tile for this item
    tile = _U64(lanes(code, kind, np.int64(prm[METHOD])) * _B)
    # held[1]: the pitch in global index of the runs a run call is given (0: rows held whole, whose last tile is the
    # next one's first): runs a tile apart share no tile, and a short one takes its blocks only (a truncated
    # normal's, where its values are few: also where runs share a tile); the row tile's rows, or the runs along the
    # last axis where no row tile holds two rows (a review: a 3-D shard's runs had been given the rows' pitch)
    rows_pitch = gstride[k if k >= 0 else nd - 2] if nd >= 2 and layout != WHOLE_ROWS else _U64(0)
    runs_pitch = gstride[nd - 2] if nd >= 2 else _U64(0)
    r32, r64, rheld = row_caches(code, layout, cols, gstride[max(k, 0)], tile)
    rheld[1::2] = rows_pitch
    if short_rows(shape, gstride, tile, size != 0):
        idx = np.empty(nd, np.int64)
        m = start_nd(pos, shape, mstride, mbase, idx)
        g, gend = gbase + _U64(pos), gbase + _U64(end)
        while g < gend:
            t, p0, n = _next_tile(g, gend, tile)
            tile_at(code, kind, prm, t, key, stream, words, v32, v64, held)
            m = store_nd(code, v32[p0:], v64[p0:], n, d16, d32, d64, m, idx, shape, mstride)
            g += _U64(n)
        return
    while pos < end:
        rows = tile_rows(pos, end, shape[max(k, 0)], cols, pitch, size)
        if rows:
            held[1] = rows_pitch
            g, m = row_start(pos // cols, k + 2, shape, gstride, mstride, gbase, mbase)
            c0 = np.int64(0)
            while c0 < cols:
                runs, length, n = tile_piece(rows, layout, pitch, cols, c0, g, tile)
                for r in range(runs):
                    rv32, rv64, rh = v32, v64, held
                    if rheld.size:  # each row its own last tile (pieces only)
                        rv32, rv64, rh = r32[r * 4 * _B:(r + 1) * 4 * _B], r64[r * 2 * _B:(r + 1) * 2 * _B], \
                            rheld[2 * r:2 * r + 2]
                    run(code, kind, prm, key, stream, g + _U64(r) * gstride[k] + _U64(c0), length, t16, t32, t64,
                        r * pitch, np.int64(1), words, rv32, rv64, rh)
                store_tile(code, t16, t32, t64, rows, n, pitch, d16, d32, d64, m, mstride[k], shape[k + 1:],
                           mstride[k + 1:], c0)
                c0 += n
            pos += rows * cols
            continue
        g, length, m = _segment(pos, end, shape, gbase, gstride, mbase, mstride)
        held[1] = runs_pitch
        run(code, kind, prm, key, stream, g, length, d16, d32, d64, m, mstride[nd - 1], words, v32, v64, held)
        pos += length


@kernel
def fill_span(d16, d32, d64, code, kind, prm, key, stream, shape, gbase, gstride, mbase, mstride, pos, end, words,
              v32, v64, held):
    """Fill local row-major positions [pos, end) (one work item of :func:`fill`; constant, uniform,
    normal), with the per-item scratch ``words``, ``v32``, ``v64``, ``held``."""
    span(_fill_run, _tile_at, d16, d32, d64, code, kind, prm, key, stream, shape, gbase, gstride, mbase, mstride, pos,
         end, words, v32, v64, held)


@scalar
def scratch():
    """A work item's tile scratch (12 KiB, whatever the buffer): words, float32 and float64 values, the index of
    the tile they hold (none yet) and the pitch of the block's rows in global index (:func:`span` sets it)."""
    held = np.zeros(2, np.uint64)
    held[0] = ~_U64(0)
    return np.empty(4 * _B, np.uint32), np.empty(4 * _B, np.float32), np.empty(2 * _B, np.float64), held


@parallel_kernel
def fill(d16, d32, d64, code, kind, prm, key, stream, shape, gbase, gstride, mbase, mstride, start, stop, chunk):
    """Fill local row-major positions [start, stop) of a strided block (constant, uniform, normal).

    Element with local multi-index i (over ``shape``) has global flat index
    ``gbase + sum(i * gstride)`` (``gstride[-1] == 1``) and sits at ``mbase + sum(i * mstride)``
    in whichever of d16 / d32 / d64 matches ``code``; its value is ``prm[P0] + prm[P1] * X``
    (X uniform, clamped to [prm[LO], prm[HI]], or normal).  ``key`` = (k0, k1) and ``stream`` =
    (c2, c3) are uint64-held 32-bit words.  For ``CONSTANT``, ``prm[P0]`` is the value
    (float32/64 targets) or the 16-bit pattern (float16 / bfloat16), and ``prm[P1]`` non-zero stores it past the
    cache (:func:`streams`).
    """
    chunk = work_chunk(chunk, shape, gstride, mstride, stop - start)
    nchunks = (stop - start + chunk - 1) // chunk
    for ci in numba.prange(nchunks):
        words, v32, v64, held = scratch()
        pos = start + ci * chunk
        fill_span(d16, d32, d64, code, kind, prm, key, stream, shape, gbase, gstride, mbase, mstride, pos,
                  min(stop, pos + chunk), words, v32, v64, held)


@parallel_kernel
def fill_trunc(d16, d32, d64, code, kind, prm, key, stream, shape, gbase, gstride, mbase, mstride, start, stop,
               chunk):
    """As :func:`fill`, for the truncated normal (parameters in ``prm``: see ``sample_trunc_normal``)."""
    chunk = work_chunk(chunk, shape, gstride, mstride, stop - start)
    nchunks = (stop - start + chunk - 1) // chunk
    for ci in numba.prange(nchunks):
        words, v32, v64, held = scratch()
        pos = start + ci * chunk
        span(_fill_run_trunc, _trunc_tile_at, d16, d32, d64, code, kind, prm, key, stream, shape, gbase, gstride,
             mbase, mstride, pos, min(stop, pos + chunk), words, v32, v64, held)


_EMPTY16 = np.empty(0, np.uint16)
_EMPTY32 = np.empty(0, np.float32)
_EMPTY64 = np.empty(0, np.float64)
CALL_ELEMENTS = 1 << 26  # elements per kernel call: Ctrl-C is seen between calls (~0.1 s)


# numba's workqueue threading layer must not be entered from two Python threads at once: every parallel
# kernel call of fastinit holds this lock (each call uses all cores anyway).  Re-entrant: a signal handler
# that fills (a checkpoint on SIGUSR1) runs on the thread that holds it, between two kernel calls.
KERNEL_LOCK = threading.RLock()
# In a process forked from one that had started numba's OpenMP layer, a parallel launch terminates the
# process (GNU OpenMP cannot run after fork): the kernels run as their serial twins there (_jit.serial_twin).
SERIAL_ONLY = False
# A forked child whose parent had not started numba's layer but had a GNU OpenMP loaded: SERIAL_ONLY is decided
# as the child starts the layer (:func:`_start_threads`), by the layer numba then takes.
_GOMP_AT_FORK = False


def _layer_started() -> bool:
    """Whether numba's threading layer is up (``numba.threading_layer()`` raises until a parallel launch)."""
    try:
        numba.threading_layer()
    except ValueError:
        return False
    return True


def _omp_started() -> bool:
    """Whether numba's threading layer is up and is GNU OpenMP (Intel's is fork-safe)."""
    if not _layer_started() or numba.threading_layer() != "omp":  # (not started: a child starts its own)
        return False
    try:
        from numba.np.ufunc import omppool

        return getattr(omppool, "openmp_vendor", "GNU") == "GNU"
    except ImportError:
        return True


def _gnu_openmp_maps(pid: int | str = "self") -> frozenset:
    """The lines of a process's memory map that map a GNU OpenMP runtime (Linux: a libgomp in /proc/<pid>/maps);
    empty where none, or where /proc cannot tell.  torch's, loaded globally, is the one numba's omp layer calls, and
    a parent's torch work may have started its thread team: a DataLoader worker forked from a training process that
    had not filled yet hung at its first parallel fill (a review)."""
    try:
        with open(f"/proc/{pid}/maps") as maps:
            return frozenset(line for line in maps if "libgomp" in line)
    except OSError:
        return frozenset()


def _after_fork_in_child() -> None:
    """A forked child: a fresh kernel lock (the parent's may have been held by another thread, forever locked
    here) and, after GNU OpenMP started by numba, serial kernels.  Where numba's layer is not up and a GNU
    OpenMP is loaded, the layer numba takes as the child starts it decides (:func:`_start_threads`): serial on its
    omp layer, parallel on TBB or workqueue (``NUMBA_THREADING_LAYER``, ``NUMBA_THREADING_LAYER_PRIORITY``,
    TBB installed: numba's own choice)."""
    global KERNEL_LOCK, SERIAL_ONLY, _GOMP_AT_FORK
    KERNEL_LOCK = threading.RLock()
    SERIAL_ONLY = SERIAL_ONLY or _omp_started()
    _GOMP_AT_FORK = _GOMP_AT_FORK or not _layer_started() and bool(_gnu_openmp_maps())


def _forked_with_gnu_openmp() -> bool:
    """Whether this process is a fork that inherited its parent's GNU OpenMP runtime: the parent runs the same
    executable and maps the same libgomp at the same addresses (a DataLoader worker, ``os.fork()``'s child; not a
    program started anew, nor a fork server's child that loaded torch itself).  Tells a child that imports fastinit
    only after its fork, where fastinit's at-fork hook never ran (it hung too: session (q)).  False where /proc
    cannot tell (no /proc, the parent gone)."""
    parent = os.getppid()
    try:  # (the executables first: two links, where a torch process's maps take ~1 ms to read at import)
        if os.readlink(f"/proc/{parent}/exe") != os.readlink("/proc/self/exe"):
            return False
    except OSError:
        return False
    return bool(_gnu_openmp_maps() & _gnu_openmp_maps(parent))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
    if _forked_with_gnu_openmp():  # a child that imports fastinit only after its fork: what the hook would do
        _after_fork_in_child()


def _openmp_threads():
    """(omp_get_max_threads, omp_set_num_threads) of the OpenMP runtime numba's omp layer calls, or None where
    there is none: looked up as the dynamic linker binds its extension module, in the global scope first (torch
    loads its own libgomp there, RTLD_GLOBAL, and numba's calls go to it), then in the module's own dependencies."""
    try:
        from numba.np.ufunc import omppool
    except ImportError:
        return None
    for name in (None, omppool.__file__):
        try:
            lib = ctypes.CDLL(name)
            return lib.omp_get_max_threads, lib.omp_set_num_threads
        except (OSError, AttributeError, TypeError):  # (TypeError: no global scope to open, on Windows)
            continue
    return None


def _start_threads() -> None:
    """Start numba's threading layer, leaving the OpenMP runtime's default thread count as it was: starting
    numba's omp layer sets it to numba's count (all cores), and torch, which shares GNU OpenMP, reads it as its
    own: ``torch.set_num_threads(1)`` or ``OMP_NUM_THREADS=1`` (torchrun's) became 2 after the first fill (a
    review).  numba's count is its own: it is passed to each launch."""
    global SERIAL_ONLY
    omp = _openmp_threads()
    before = omp[0]() if omp else 0
    numba.get_num_threads()  # starts the threading layer (once; it enters no parallel region)
    SERIAL_ONLY = SERIAL_ONLY or _GOMP_AT_FORK and _omp_started()
    if omp and before > 0 and numba.threading_layer() == "omp" and omp[0]() != before:
        omp[1](before)


@functools.cache
def _thread_count():
    """(get, set) of numba's thread count for the calling thread, once :func:`_start_threads` started the
    threading layer.  numba's public functions take a process-wide lock on every call (~10 us a pair); the C
    functions they end in are called directly where this numba has them."""
    _start_threads()
    get, put = getattr(_parallel, "_get_num_threads", None), getattr(_parallel, "_set_num_threads", None)
    if callable(get) and callable(put) and get() == numba.get_num_threads():
        return get, put
    return numba.get_num_threads, numba.set_num_threads


class one_thread:
    """Context manager: the parallel kernels called inside run on the calling thread alone (numba's
    thread count is per calling thread; restored on exit, also when one instance is entered again)."""

    def __init__(self):
        self._saved: list[int] = []

    def __enter__(self):
        get, put = _thread_count()
        self._saved.append(get())
        try:
            put(1)
        except BaseException:  # a Ctrl-C raised as numba's call returns: __exit__ will not run, so undo it here
            put(self._saved.pop())
            raise
        return self

    def __exit__(self, *exc):
        _thread_count()[1](self._saved.pop())


# Fills this small run on the calling thread: waking the thread pool costs tens of microseconds on an
# idle machine and milliseconds on a loaded one, more than 2**16 elements take on one core.
SERIAL_ELEMENTS = 1 << 16


def _alone(kernel, args) -> None:
    """``kernel(*args)`` on the calling thread alone: :class:`one_thread`'s work without its object and
    context protocol (2 us of a small fill), and none where the count already is 1 (inside one_thread)."""
    get, put = _thread_count()
    threads = get()
    if threads == 1:
        kernel(*args)
        return
    try:  # (put(1) inside: a Ctrl-C raised as numba's call returns had left the count at 1 for good)
        put(1)
        kernel(*args)
    finally:
        put(threads)


def last_level_cache(root: str = "/sys/devices/system/cpu") -> Optional[int]:
    """Bytes of the last-level CPU cache the OS reports, all its instances together (Linux sysfs under ``root``:
    the largest level's caches, one per distinct set of CPUs sharing it: a 12-chiplet EPYC's twelve L3s; a VM may
    report its host's), None where unknown: a buffer smaller than it may stay in it, and a memset then runs above
    memory speed."""
    import glob

    units = {"": 0, "K": 10, "M": 20, "G": 30}
    caches = {}  # (level, the CPUs sharing it): bytes
    for index in glob.glob(f"{root}/cpu[0-9]*/cache/index[0-9]*"):
        try:
            with open(f"{index}/size") as f, open(f"{index}/level") as g:
                size, level = re.fullmatch(r"(\d+)([KMG]?)", f.read().strip()), int(g.read())
            try:
                with open(f"{index}/shared_cpu_list") as f:
                    shared = f.read().strip()
            except OSError:  # (not said: the one CPU's own)
                shared = os.path.basename(os.path.dirname(os.path.dirname(index)))
        except (OSError, ValueError):
            continue
        if size:
            caches[level, shared] = int(size[1]) << units[size[2]]
    if not caches:
        return None
    last = max(level for level, _ in caches)
    return sum(size for (level, _), size in caches.items() if level == last)


@functools.cache
def stream_bytes() -> int:
    """The bytes from which a constant fill stores past the cache (non-temporal stores: a plain store first reads
    the line it writes): 4x the last-level cache, all instances (128 MiB where the OS does not say).  Below it the
    buffer may stay cached for its next use (filled, then read: a 64 MiB float32 buffer 7.3 ms against 7.0 ms
    through the cache on a 2-vCPU EPYC VM with a 32 MiB L3); at 4x, the fill alone is faster and fill-then-read
    even."""
    cache = last_level_cache()
    return 4 * cache if cache else 128 << 20


def streams(nbytes: int) -> bool:
    """Whether a constant fill of ``nbytes`` uses non-temporal stores (:func:`stream_bytes`)."""
    return nbytes >= stream_bytes()


def threads_for(work: int) -> int:
    """The threads :func:`run` gives a kernel of ``work`` elements (for kernels that split their work per thread)."""
    threads = num_threads()  # (first: starting the layer may set SERIAL_ONLY)
    return 1 if work <= SERIAL_ELEMENTS or SERIAL_ONLY else threads


def num_threads() -> int:
    """numba's thread count for the calling thread (its threading layer started by :func:`_start_threads`)."""
    return _thread_count()[0]()


def run(kernel, args, work: int) -> None:
    """``kernel(*args)``, a parallel kernel, under :data:`KERNEL_LOCK`: on the calling thread alone when ``work``
    (the elements it touches) is at most SERIAL_ELEMENTS (a 64x64 orthogonal_ took 4.5-8 ms on a loaded
    2-vCPU VM waking the pool, 0.3 ms without), as its serial twin where :data:`SERIAL_ONLY`.  Values never
    depend on the thread count."""
    with KERNEL_LOCK:
        threads = threads_for(work)
        if SERIAL_ONLY:  # one twin per array dtypes: _reflectors runs on float32 and on float64
            serial_twin(kernel, "_" + "".join(a.dtype.char for a in args if isinstance(a, np.ndarray)))(*args)
        elif threads == 1:
            _alone(kernel, args)
        else:
            kernel(*args)


def typed_views(flat, code):
    """(d16, d32, d64): the kernels' three storage arguments, ``flat`` in the one ``code`` selects."""
    return (flat if code in (F16, BF16) else _EMPTY16, flat if code == F32 else _EMPTY32,
            flat if code == F64 else _EMPTY64)


def launch(flat, code, geom, kind, prm, key, stream, chunk=AUTO_CHUNK, kernel=None, extra=()):
    """Run :func:`fill` (or :func:`fill_trunc`) over the whole block, in calls of at most
    CALL_ELEMENTS elements (on the calling thread alone below SERIAL_ELEMENTS; values never
    depend on the thread count).  ``chunk``: positions per work item, capped at a call's elements (a larger one is
    the same single chunk; sys.maxsize would overflow the kernel's chunk count, which then filled nothing), or
    AUTO_CHUNK for :func:`work_chunk`'s choice.

    ``prm``: the float64 parameter vector (indices P0 ... P0LO); a constant's ``prm[P1]`` is set here, to whether
    the block is large enough to store past the cache (:func:`streams`).  ``kernel``: another parallel kernel
    taking :func:`fill`'s arguments followed by ``extra`` (sparse_'s fill-and-zero pass).
    """
    if kernel is None:
        kernel = fill_trunc if kind == TRUNC else fill
    d16, d32, d64 = typed_views(flat, code)
    prm = np.asarray(prm, np.float64)
    n = math.prod(geom.shape.tolist())
    if kind == CONSTANT:  # (every CPU constant fill: constant_'s, sparse_'s zeros)
        prm = prm.copy()
        prm[P1] = streams(n * flat.itemsize)
    for start in range(0, n, CALL_ELEMENTS):
        stop = min(n, start + CALL_ELEMENTS)
        item = min(int(chunk), CALL_ELEMENTS) if chunk != AUTO_CHUNK else -threads_for(n)
        args = (d16, d32, d64, code, kind, prm, key, stream, geom.shape, np.uint64(geom.gbase), geom.gstride,
                np.int64(geom.mbase), geom.mstride, start, stop, item) + tuple(extra)
        run(kernel, args, n)
