"""Slow, independent NumPy re-statements of the determinism contract (docs/determinism.md).

These read the Philox words through the public ``fastinit.philox4x32`` and re-derive the
element -> (block, slot) mapping, so a change to the kernels' layout cannot go unnoticed.
"""
import hashlib

import numpy as np

import fastinit

TILE_BLOCKS = 256


def stream_number(stream):
    if isinstance(stream, str):
        return int.from_bytes(hashlib.blake2b(stream.encode("utf-8"), digest_size=8).digest(), "little")
    return stream


def words(seed, stream, index, lanes):
    """Philox words of the block holding each global index, and each index's slot."""
    index = np.asarray(index, dtype=np.uint64)
    tile = np.uint64(lanes * TILE_BLOCKS)
    t, p = index // tile, index % tile
    block = t * np.uint64(TILE_BLOCKS) + p % np.uint64(TILE_BLOCKS)
    slot = (p // np.uint64(TILE_BLOCKS)).astype(np.int64)
    s = stream_number(stream)
    ctr = np.stack([block & np.uint64(0xFFFFFFFF), block >> np.uint64(32),
                    np.full_like(block, s & 0xFFFFFFFF), np.full_like(block, s >> 32)], axis=-1)
    key = np.array([seed & 0xFFFFFFFF, seed >> 32], dtype=np.uint64)
    return fastinit.philox4x32(ctr, key).astype(np.uint64), slot


def uniform(seed, stream, index, a, b, dtype):
    """U[a, b) per the contract, before the clamp to the last value below b."""
    if np.dtype(dtype) == np.float64:
        w, slot = words(seed, stream, index, 2)
        hi = np.where(slot == 0, w[..., 0], w[..., 2])
        lo = np.where(slot == 0, w[..., 1], w[..., 3])
        u = ((hi << np.uint64(21)) | (lo >> np.uint64(11))).astype(np.float64) * 2.0**-53
        return a + (b - a) * u
    w, slot = words(seed, stream, index, 4)
    u = (np.take_along_axis(w, slot[..., None], -1)[..., 0] >> np.uint64(8)).astype(np.float32)
    return np.float32(a) + np.float32(b - a) * (u * np.float32(2.0**-24))


def normal(seed, stream, index, dtype):
    """N(0, 1) per the contract (Box-Muller), in long double: the exact value the kernel rounds."""
    L = np.longdouble
    two_pi = 2 * L("3.14159265358979323846264338327950288")
    if np.dtype(dtype) == np.float64:
        w, slot = words(seed, stream, index, 2)
        k1 = (w[..., 0] << np.uint64(21)) | (w[..., 1] >> np.uint64(11))
        k2 = (w[..., 2] << np.uint64(21)) | (w[..., 3] >> np.uint64(11))
        u1 = ((k1.astype(np.float64) + 0.5) * 2.0**-53).astype(L)  # rounded once, as the kernel does
        theta = two_pi * k2.astype(L) * L(2) ** -53
        cos_slot = slot == 0
    else:
        w, slot = words(seed, stream, index, 4)
        pair = slot // 2
        w0 = np.where(pair == 0, w[..., 0], w[..., 2])
        w1 = np.where(pair == 0, w[..., 1], w[..., 3])
        u1 = (w0.astype(np.float32) * np.float32(2.0**-32) + np.float32(2.0**-33)).astype(L)
        theta = two_pi * (w1 >> np.uint64(8)).astype(L) * L(2) ** -24
        cos_slot = slot % 2 == 0
    r = np.sqrt(-2 * np.log(u1))
    return np.where(cos_slot, r * np.cos(theta), r * np.sin(theta))


def ulps(got, exact, dtype, noise=0.0):
    """|got - exact| in units of the spacing of ``dtype`` at ``exact``.

    ``noise`` is the absolute error of the long-double reference itself (e.g. sin(2 pi k / 2**24)
    next to an exact zero), subtracted before scaling.
    """
    dt = np.dtype(dtype)
    near = np.abs(exact).astype(dt)
    spacing = np.spacing(np.maximum(near, np.finfo(dt).tiny)).astype(np.longdouble)
    return np.maximum(np.abs(got.astype(np.longdouble) - exact) - noise, 0) / spacing


SPARSE_TAG = 0x5BA55E


def sparse_zero_rows(seed, stream, column, rows, nzero):
    """The global zero rows of a sparse_ column: partial Fisher–Yates, draw i uniform on [0, rows - i) by
    Lemire's multiply-shift on the words of Philox blocks (b, column, stream) in order, under the key
    philox4x32((0, 0, 0, SPARSE_TAG), key(seed))[:2].  The draws are the zero rows, or the kept rows
    when more than half the rows are zero."""
    keep = 2 * nzero > rows
    ndraw = rows - nzero if keep else nzero
    pos_key = fastinit.philox4x32([0, 0, 0, SPARSE_TAG], [seed & 0xFFFFFFFF, seed >> 32])[:2]
    s = stream_number(stream)
    b = np.arange(ndraw // 4 + 64, dtype=np.uint64)  # rejections are rare (probability < rows / 2**32 a draw)
    ctr = np.stack([b, np.full_like(b, column), np.full_like(b, s & 0xFFFFFFFF), np.full_like(b, s >> 32)], axis=-1)
    stream_of_words = iter(int(w) for w in fastinit.philox4x32(ctr, pos_key).ravel())
    perm = list(range(rows))
    for i in range(ndraw):
        n = rows - i
        while True:
            m = next(stream_of_words) * n
            if (m & 0xFFFFFFFF) >= (2**32) % n:
                break
        j = i + (m >> 32)
        perm[i], perm[j] = perm[j], perm[i]
    return sorted(perm[ndraw:] if keep else perm[:ndraw])
