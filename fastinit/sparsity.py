"""Layer 5 — sparse initialization through index sampling.

``sparse_`` (torch semantics): a 2-D weight whose every column holds exactly
``ceil(sparsity * rows)`` zeros at uniformly random rows, the other entries N(0, std²).
``martens_sparse_``: the textbook form (Martens 2010) — exactly ``k`` entries drawn per column (a unit's
incoming weights in the (n_in, n_out) layout), N(0, std²) with std = 1, the rest 0 (a drawn value is itself
exactly 0 for ~2e-7 of float32 normal values: docs/initializers.md).

Values come from :func:`fastinit.normal_` with the same seed and stream; the zero rows of each
column from a partial Fisher–Yates shuffle of the column's (global) rows driven by Philox bits
under a key derived from the seed — so positions and values are pure functions of
(seed, stream, global position), and a shard (``global_shape``/``offset``) equals the same block
of the whole matrix.  Each uniform integer uses Lemire's multiply-shift with rejection (exact); column c's
draws read the four words of Philox blocks (b, c, stream) in order, b = 0, 1, ...  The draws are
the smaller set: the zero rows, or — when more than half the rows are zero (sparsity > 1/2,
``martens_sparse_``) — the rows that keep their value.

The drawn positions become a bit mask first (one bit per element: rows·⌈cols/64⌉·8 bytes, 1/32 of
a float32 matrix, 1/16 of a 16-bit one — the work space a single pass over the target needs).  Then
the normal fill runs with each work item zeroing its share while it is still in cache (a branch-free
select per 64 entries), or, when at most 1/32 of the rows keep a value, a zero fill is followed by
the normal value of each kept entry alone (:func:`fastinit._cpu.normal_at`); a zero fill of 4x the last-level cache
or more stores past the cache (:func:`fastinit._cpu.streams`).  Work space per thread
besides: the int64 permutation of the global rows and its swap list (≤ 16·rows bytes).

A block of a larger matrix (a shard, a Dask chunk) draws its columns' positions over all the global rows, as the
whole matrix does: its cost is that of its whole columns, whatever its rows.  Split a sparse matrix by columns,
not rows, where the split is yours to choose.  fastinit.io's row blocks of one tensor draw them once a band of
rows (:func:`whole_masks`: a band of the whole matrix's mask kept, as many rows as the writer's budget holds).

Reference: J. Martens, "Deep learning via Hessian-free optimization", ICML 2010, §5.
D. Lemire, "Fast random integer generation in an interval", ACM TOMACS 29 (2019).
"""
from __future__ import annotations

import contextlib
import contextvars
import fractions
import math
from typing import Any, Optional, TypeVar

import numba
import numpy as np

from ._buffers import as_target, geometry, host_staged, memory_geometry, physical_memory, place_block
from ._cpu import (CONSTANT, F32, F64, N_PARAMS, NORMAL, fill_span, launch, normal_at, run, scratch, store_at,
                   threads_for, typed_views, work_chunk)
from ._jit import float_bits, parallel_kernel, scalar, wide_vectors
from ._philox import PHILOX_ROUNDS, philox4x32, philox_block
from ._seed import Generator, key_words, resolve_seed, stream_words
from .fans import check_layout
from .init import Shape, Stream, as_int, as_real, normal_params

__all__ = ["sparse_", "martens_sparse_"]

T = TypeVar("T")
SPARSE_TAG = 0x5BA55E  # counter word 3 of the position-key derivation

_U64 = np.uint64
_MASK32 = _U64(0xFFFFFFFF)
_SHIFT32 = _U64(32)


STRIP = 64  # columns whose drawn rows share one uint64 word of the mask: one strip, one thread, no write races
DRAW_BLOCKS = 64  # Philox blocks a column's draws are generated in at once (one vectorized loop)
KEEP_FRACTION = 32  # at most 1/32 of the rows keep a value: a zero fill, then the kept values alone


@parallel_kernel
def _row_mask(zmask, cols, grows, row0, col0, ndraw, key, stream, nthreads):
    """Set bit c - 64 s of ``zmask[r, s]`` for the ``ndraw`` uniformly chosen global rows of every local
    column c (partial Fisher–Yates), r the local row.

    Column c's draws consume the words of Philox blocks (b, c, stream) for b = 0, 1, ... in order
    (generated up to DRAW_BLOCKS at a time: as many as ``ndraw`` draws need, rejections being rare); draw i is
    uniform on [0, grows − i) by Lemire's multiply-shift, a rejected word is skipped."""
    rows, nstrips = zmask.shape
    per = (nstrips + nthreads - 1) // nthreads
    k0, k1, s0, s1 = key[0], key[1], stream[0], stream[1]
    batch = min(DRAW_BLOCKS, ndraw // 4 + 1)  # (64 blocks a column for 4 draws: 85 ns a column of 4 rows)
    for t in numba.prange(nthreads):
        wide_vectors()  # in the loop body: numba compiles it as a function of its own
        if t * per >= nstrips:  # no strip: no work space (8 rows + 8 ndraw bytes a thread)
            continue
        perm = np.arange(grows)
        swaps = np.empty(ndraw, np.int64)
        words = np.empty(4 * DRAW_BLOCKS, np.uint64)
        for strip in range(t * per, min(nstrips, (t + 1) * per)):
            first = strip * STRIP
            for c in range(first, min(cols, first + STRIP)):
                gcol = _U64(col0 + c)
                blk, used = _U64(0), 4 * batch
                for i in range(ndraw):  # perm[:ndraw] becomes a uniform ndraw-subset of the rows
                    n = _U64(grows - i)
                    while True:
                        if used == 4 * batch:
                            for j in range(batch):
                                w0, w1, w2, w3 = philox_block(blk + _U64(j), gcol, s0, s1, k0, k1, PHILOX_ROUNDS)
                                words[4 * j], words[4 * j + 1], words[4 * j + 2], words[4 * j + 3] = w0, w1, w2, w3
                            blk += _U64(batch)
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
                for i in range(ndraw):
                    r = perm[i] - row0
                    if 0 <= r < rows:
                        zmask[r, strip] |= bit
                for i in range(ndraw - 1, -1, -1):  # undo the swaps: perm is the identity again, in O(ndraw)
                    j = swaps[i]
                    perm[i], perm[j] = perm[j], perm[i]


@scalar
def _pop_lowest(bits):
    """(index of the lowest set bit of a non-zero uint64, the bits without it)."""
    lowest = bits & (~bits + _U64(1))
    return np.int64(float_bits(np.float64(lowest)) >> _U64(52)) - 1023, bits ^ lowest  # log2 of a power of 2


@scalar
def _zero_word(d, base, zbits, zero):
    """d[base + k] = zero for every set bit k of ``zbits``: a branch-free select over 64 entries (it vectorizes;
    a loop over the set bits costs a mispredicted branch per word)."""
    w = d[base:base + STRIP]
    for k in range(STRIP):
        w[k] = zero if (zbits >> _U64(k)) & _U64(1) else w[k]


@scalar
def _zero_if(code, d16, d32, d64, i, zero):
    """Entry i of the storage format's array := 0 where ``zero``, else unchanged (a select, not a branch)."""
    if code == F64:
        d64[i] = 0.0 if zero else d64[i]
    elif code == F32:
        d32[i] = np.float32(0.0) if zero else d32[i]
    else:
        d16[i] = np.uint16(0) if zero else d16[i]


@scalar
def _zero_strip(zmask, flip, cols, pos, end, r, s, code, d16, d32, d64, tmbase, ms0, ms1):
    """Write 0 at the entries of row r, strip s (columns 64 s ...) inside row-major positions [pos, end) whose bit
    in ``zmask`` differs from ``flip`` (0: set bits are zeros; all ones: clear bits are)."""
    lo, hi = max(pos - r * cols, 0), min(end - r * cols, cols)  # the row's columns inside [pos, end)
    c0 = s * STRIP
    if c0 >= hi or c0 + STRIP <= lo:
        return
    bits = zmask[r, s] ^ flip
    m = tmbase + r * ms0
    if ms1 == 1 and lo <= c0 and c0 + STRIP <= hi:  # a whole word of contiguous entries
        if code == F64:
            _zero_word(d64, m + c0, bits, 0.0)
        elif code == F32:
            _zero_word(d32, m + c0, bits, np.float32(0.0))
        else:
            _zero_word(d16, m + c0, bits, np.uint16(0))
        return
    while bits != _U64(0):
        k, bits = _pop_lowest(bits)
        if lo <= c0 + k < hi:
            store_at(code, d16, d32, d64, m + (c0 + k) * ms1, 0.0)


@scalar
def _zero_span(zmask, flip, cols, pos, end, code, d16, d32, d64, tmbase, ms0, ms1):
    """Write 0 at the local positions among row-major positions [pos, end) of a (rows, cols) block whose bit in
    ``zmask`` differs from ``flip``: a row at a time, but where rows lie nearer each other than columns (Fortran
    order, a transpose) the whole rows a column at a time (along a row, each store went to a page of its own:
    sparse_ of a Fortran 2048² at sparsity 0.9 took 9x C order)."""
    r0, r1 = pos // cols, (end - 1) // cols + 1
    a, b = (-(-pos // cols), end // cols) if abs(ms0) < abs(ms1) else (r1, r1)  # rows [a, b) by columns
    for r in range(r0, r1):
        if not a <= r < b:
            for s in range((cols - 1) // STRIP + 1):
                _zero_strip(zmask, flip, cols, pos, end, r, s, code, d16, d32, d64, tmbase, ms0, ms1)
    for c in range(cols if a < b else 0):  # a column's rows are memory neighbours: a select each (no branch)
        s = c // STRIP
        k = _U64(c - s * STRIP)
        m = tmbase + c * ms1
        for r in range(a, b):
            _zero_if(code, d16, d32, d64, m + r * ms0, (zmask[r, s] ^ flip) >> k & _U64(1) != _U64(0))


@parallel_kernel
def _fill_sparse(d16, d32, d64, code, kind, prm, key, stream, shape, gbase, gstride, mbase, mstride, start, stop,
                 chunk, zmask, flip, cols, tmbase, ms0, ms1):
    """:func:`fastinit._cpu.fill` of the normal values, each work item then zeroing the positions it has
    just written (still in cache) that are zeros: local (r, c), at ``tmbase + r ms0 + c ms1``, when bit
    c - 64 s of ``zmask[r, s]`` differs from ``flip``."""
    chunk = work_chunk(chunk, shape, gstride, mstride, stop - start)
    nchunks = (stop - start + chunk - 1) // chunk
    for ci in numba.prange(nchunks):
        wide_vectors()
        words, v32, v64, held = scratch()
        pos = start + ci * chunk
        end = min(stop, pos + chunk)
        fill_span(d16, d32, d64, code, kind, prm, key, stream, shape, gbase, gstride, mbase, mstride, pos, end,
                  words, v32, v64, held)
        _zero_span(zmask, flip, cols, pos, end, code, d16, d32, d64, tmbase, ms0, ms1)


@parallel_kernel
def _scatter_normal(d16, d32, d64, code, prm, key, stream, kmask, gcols, gbase, tmbase, ms0, ms1):
    """Write the normal_ value of global index ``gbase + r gcols + c`` at local (r, c) when bit c - 64 s of
    ``kmask[r, s]`` is set (the few kept entries of an otherwise zero block)."""
    for r in numba.prange(kmask.shape[0]):
        for s in range(kmask.shape[1]):
            bits = kmask[r, s]
            while bits != _U64(0):
                k, bits = _pop_lowest(bits)
                c = s * STRIP + k
                store_at(code, d16, d32, d64, tmbase + r * ms0 + c * ms1,
                         normal_at(code, prm, key, stream, gbase + _U64(r) * gcols + _U64(c)))


def _sparse(out, nzero_of_rows, std, fn, dtype, seed, stream, global_shape, offset, generator, by_row=False):
    """The zeros per column (``by_row``: per row, the fill of the transposed view at the transposed place)."""
    target = as_target(out, dtype)
    if target.array.ndim != 2:
        raise ValueError(f"{fn}: Only tensors with 2 dimensions are supported, got shape {target.shape}")
    if by_row:
        global_shape, offset = (p[::-1] for p in place_block(target.shape, global_shape, offset))  # validated
        target = target._replace(array=target.array.T, mstride=target.mstride[::-1])
    geom = geometry(target, global_shape, offset)  # validates the placement
    grows, gcols = geom.global_shape
    given = geom.global_shape[::-1] if by_row else geom.global_shape  # (the messages': the caller's shape)
    drawn = grows * gcols > 0  # an empty tensor's other extent is not bounded: nothing of it is ever drawn
    if drawn and max(grows, gcols) >= 2**32:
        raise ValueError(f"{fn}: global shape {given} has a dimension >= 2**32 (not supported)")
    nzero = nzero_of_rows(grows) if drawn else 0  # (an empty tensor: a no-op, k > its 0 rows included)
    draw_kept = 2 * nzero > grows  # the smaller set is drawn: the zero rows, or the rows that keep a value
    ndraw = grows - nzero if draw_kept else nzero
    rows, cols = target.shape
    work = cols * max(ndraw, 1)  # the draws
    nthreads = min(threads_for(work), -(-cols // STRIP))  # a thread per 64-column strip at most
    prm = normal_params(target, 0.0, std, fn)
    sw = stream_words(stream)
    resolve_seed(seed, generator, draw=False)  # checked; drawn below, after the last refusal
    if drawn:  # (an empty block too: no block of this global shape fits, and fastinit.io checks on an empty one)
        _refuse_beyond_memory(fn, given, by_row, (8 * grows + 8 * ndraw) * max(nthreads, 1))
    if target.size == 0:
        return out
    key = key_words(resolve_seed(seed, generator))
    pos_key = philox4x32([0, 0, 0, SPARSE_TAG], key.astype(np.uint32))[:2].astype(np.uint64)
    row0, col0 = divmod(geom.gbase, gcols)  # the block's global offset, as geometry parsed it
    mask = _zero_mask(rows, cols, grows, gcols, row0, col0, ndraw, pos_key, sw, nthreads, work)
    tmbase, ms0, ms1 = (np.int64(v) for v in (target.mbase, *target.mstride))
    if (grows - nzero) * KEEP_FRACTION > grows:  # many values: the normal fill, zeroing as it goes
        launch(target.flat, target.code, geom, NORMAL, prm, key, sw, kernel=_fill_sparse,
               extra=(mask, ~_U64(0) if draw_kept else _U64(0), cols, tmbase, ms0, ms1))
        return out
    launch(target.flat, target.code, memory_geometry(target), CONSTANT, np.zeros(N_PARAMS), key, sw)  # +0 always
    run(_scatter_normal, (*typed_views(target.flat, target.code), target.code, prm, key, sw, mask, _U64(gcols),
                          _U64(geom.gbase), tmbase, ms0, ms1), target.size)
    return out


# fastinit.io's row blocks of one tensor: {"budget": bytes, "drawing": its key, "mask": a band of the whole matrix's
# mask, "first": the band's first row}
_WHOLE_MASKS: contextvars.ContextVar[Optional[dict]] = contextvars.ContextVar("fastinit_whole_masks", default=None)


@contextlib.contextmanager
def whole_masks(budget: int):
    """Within, a block takes its part of a kept band of the whole matrix's zero mask (its rows, its columns'
    64-column strips: :func:`_zero_mask`): the band drawn from its first rows on (as many rows as ``budget`` bytes
    hold, rows·⌈cols/64⌉·8; all of them where the whole mask fits) and kept while the next blocks lie inside it.
    The blocks of one tensor (fastinit.io) then draw its columns' positions once a band — once, where the mask
    fits — not once a block, whose cost grew with the square of the rows.  Values unchanged: each bit says whether
    a global (row, column) is drawn."""
    token = _WHOLE_MASKS.set({"budget": budget})
    try:
        yield
    finally:
        _WHOLE_MASKS.reset(token)


def _zero_mask(rows, cols, grows, gcols, row0, col0, ndraw, pos_key, sw, nthreads, work) -> np.ndarray:
    """The block's bit mask of drawn positions (rows·⌈cols/64⌉·8 bytes: 1/32 of a float32 block): drawn for it
    alone, or (inside :func:`whole_masks`) its part of the kept band, whose rows span all the columns (``work``: the
    block's draws, as :func:`_sparse` counted them).  A block takes the band's words where its columns start a
    64-column strip and end one or the matrix (fastinit.io's blocks: whole rows, or a row's runs of a power of 2)
    and where a row of the band fits the budget; the band's draws are the whole matrix's, whatever its height."""
    strips, wide = -(-cols // STRIP), -(-gcols // STRIP)
    kept = _WHOLE_MASKS.get()
    if kept is None or col0 % STRIP or cols % STRIP and col0 + cols != gcols \
            or cols != gcols and wide * 8 > kept["budget"]:
        mask = np.zeros((rows, strips), np.uint64)
        run(_row_mask, (mask, cols, grows, row0, col0, ndraw, pos_key, sw, nthreads), work)
        return mask
    drawing = (pos_key.tobytes(), sw.tobytes(), grows, gcols, ndraw)
    first = kept.get("first", 0)
    if kept.get("drawing") != drawing or not first <= row0 <= row0 + rows <= first + len(kept["mask"]):
        kept.pop("mask", None)  # (freed before the next is drawn)
        band = min(grows, max(rows, kept["budget"] // (wide * 8)))
        first = min(row0, grows - band)  # the band from this block on (the last one: up to the last row)
        mask = np.zeros((band, wide), np.uint64)
        run(_row_mask, (mask, gcols, grows, first, 0, ndraw, pos_key, sw, nthreads), gcols * max(ndraw, 1))
        kept.update(drawing=drawing, mask=mask, first=first)
    part = kept["mask"][row0 - first:row0 - first + rows, col0 // STRIP:col0 // STRIP + strips]
    return part if cols == gcols else np.ascontiguousarray(part)  # (the kernels take C-order masks)


def _refuse_beyond_memory(fn: str, global_shape, by_row: bool, space: int) -> None:
    """MemoryError, before anything is drawn or written, when the threads' permutations of the global rows need
    more than this machine's memory (a small block of a (4e9, 3) matrix: 32 GB a thread; numba's allocation
    failure inside the kernel surfaced as a SystemError).  ``global_shape``: the caller's (``by_row``: positions
    drawn per row, over its columns)."""
    total = physical_memory()
    if total is not None and space > total:
        unit, over = ("row", "column") if by_row else ("column", "row")
        raise MemoryError(f"{fn}: global shape {tuple(global_shape)} draws each {unit}'s positions over all its "
                          f"{global_shape[1 if by_row else 0]:,} {over}s: {space / 2**30:.3g} GiB of work space (8 "
                          f"bytes a{'n' if by_row else ''} {over} and 8 a drawn {over}, a thread), more than this "
                          f"machine's {total / 2**30:.3g} GiB; split such a matrix by {unit}s")


@host_staged
def sparse_(out: T, sparsity: float, std: float = 0.01, *, seed: Optional[int] = None, stream: Stream = 0,
            global_shape: Shape = None, offset: Shape = None, dtype: Any = None,
            generator: Optional[Generator] = None) -> T:
    """Fill the 2-D ``out`` with N(0, std²) and ``ceil(sparsity * rows)`` zeros per column (a normal draw can be 0
    too: ~2e-7 of float32 values, as in torch).

    torch.nn.init.sparse_'s law (Martens 2010), but seeded, parallel and exact: zero rows are a
    uniform random subset per column (partial Fisher–Yates on Philox bits).
    """
    fn = "sparse_"
    sp = as_real(sparsity, "sparsity", fn)
    if not 0.0 <= sp <= 1.0:
        raise ValueError(f"{fn}: sparsity must lie in [0, 1], got {sp}")
    exact = sparsity if isinstance(sparsity, fractions.Fraction) else sp  # (torch's ceil(sparsity * rows), exact)
    return _sparse(out, lambda rows: math.ceil(exact * rows), std, fn, dtype, seed, stream, global_shape, offset,
                   generator)


@host_staged
def martens_sparse_(out: T, k: int = 15, std: float = 1.0, *, seed: Optional[int] = None, stream: Stream = 0,
                    global_shape: Shape = None, offset: Shape = None, layout: str = "torch", dtype: Any = None,
                    generator: Optional[Generator] = None) -> T:
    """Martens (2010)'s sparse init: exactly ``k`` N(0, std²) incoming weights drawn per unit, rest 0 (so k
    non-zeros, but for the ~2e-7 of float32 normal values that are exactly 0).

    A unit's incoming weights are a row of the torch layout (out, in) (``layout="torch"``, the default) and
    a column of the textbook (n_in, n_out) (``layout="keras"``, as :func:`fastinit.martens_sparse`
    makes it).  The values of ``layout="torch"`` are those of ``layout="keras"`` on the transposed array.
    """
    fn = "martens_sparse_"
    k = as_int(k, "k", fn)
    check_layout(layout, fn)
    unit, inputs = ("row", "columns") if layout == "torch" else ("column", "rows")

    def nzero(n_in):
        if k > n_in:
            raise ValueError(f"{fn}: k={k} non-zeros per {unit} (unit) but only {n_in} {inputs}")
        return n_in - int(k)

    return _sparse(out, nzero, std, fn, dtype, seed, stream, global_shape, offset, generator,
                   by_row=layout == "torch")
