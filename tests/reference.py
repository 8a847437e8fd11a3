"""Slow, independent NumPy re-statements of the determinism contract (docs/determinism.md).

These read the Philox words through the public ``fastinit.philox4x32`` and re-derive the
element -> (block, slot) mapping, so a change to the kernels' layout cannot go unnoticed.
"""
import hashlib
import math

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


# docs/transforms.md, "Normal": the kernels' exact operations, restated in NumPy (each array operation rounds
# once in its dtype, as the kernels' do; constants are dtype scalars, so nothing is promoted)
_LN2 = {np.float32: ("6.9313812256e-01", "9.0580006145e-06"),
        np.float64: ("6.93147180369123816490e-01", "1.90821492927058770002e-10")}
_LG = {np.float32: ("0.6666666269302368", "0.40000972151756287", "0.2849878668785095", "0.24279078841209412"),
       np.float64: ("6.666666666666735130e-01", "3.999999999940941908e-01", "2.857142874366239149e-01",
                    "2.222219843214978396e-01", "1.818357216161805012e-01", "1.531383769920937332e-01",
                    "1.479819860511658591e-01")}


def _ln(x):
    """ln of positive normal floats: fdlibm's kernel, as docs/transforms.md writes it."""
    T = x.dtype.type
    f32 = T is np.float32
    uint, bits, bias = (np.uint32, 23, 127) if f32 else (np.uint64, 52, 1023)
    b = x.view(uint).astype(np.uint64)
    mant = np.uint64((1 << bits) - 1)
    big = (b & mant) >= np.uint64(0x3504F3 if f32 else 0x6A09E667F3BCD)
    k = ((b >> np.uint64(bits)).astype(np.int64) - bias + big).astype(T)
    exp = np.where(big, np.uint64((bias - 1) << bits), np.uint64(bias << bits))
    f = ((b & mant) | exp).astype(uint).view(T) - T(1)
    s = f / (T(2) + f)
    z = s * s
    w = z * z
    lg = [T(c) for c in _LG[T]]
    if f32:
        r = z * (lg[0] + w * lg[2]) + w * (lg[1] + w * lg[3])
    else:
        r = z * (lg[0] + w * (lg[2] + w * (lg[4] + w * lg[6]))) + w * (lg[1] + w * (lg[3] + w * lg[5]))
    hfsq = T(0.5) * f * f
    hi, lo = (T(c) for c in _LN2[T])
    return k * hi - ((hfsq - (s * (hfsq + r) + k * lo)) - f)


def _horner(z, coefficients):
    acc = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        acc = c + z * acc
    return acc


def _sincos2pi(k, T, n):
    u = k.astype(T) * T(2.0**-n)
    q = np.floor(u * T(4) + T(0.5))
    x = (u - q * T(0.25)) * T(2 * np.pi)
    z = x * x
    terms = 4 if T is np.float32 else 8
    s = x + x * z * _horner(z, [T((-1) ** j / math.factorial(2 * j + 1)) for j in range(1, terms + 1)])
    c = T(1) + z * _horner(z, [T((-1) ** j / math.factorial(2 * j)) for j in range(1, terms + 2)])
    q = q.astype(np.int64) % 4
    sin = np.select([q == 0, q == 1, q == 2], [s, c, -s], -c)
    cos = np.select([q == 0, q == 1, q == 2], [c, -s, -c], s)
    return sin, cos


def normal_bits(seed, stream, index, mean, std, dtype):
    """N(mean, std²) exactly as the kernels compute it (docs/transforms.md): the stored float32 / float64."""
    if np.dtype(dtype) == np.float64:
        w, slot = words(seed, stream, index, 2)
        k1 = (w[..., 0] << np.uint64(21)) | (w[..., 1] >> np.uint64(11))
        k2 = (w[..., 2] << np.uint64(21)) | (w[..., 3] >> np.uint64(11))
        u1 = (k1.astype(np.float64) + 0.5) * 2.0**-53
        r = np.sqrt(np.float64(-2) * _ln(u1))
        sin, cos = _sincos2pi(k2, np.float64, 53)
        z = np.where(slot == 0, r * cos, r * sin)
        return np.float64(mean) + np.float64(std) * z
    w, slot = words(seed, stream, index, 4)
    pair = slot // 2
    we = np.where(pair == 0, w[..., 0], w[..., 2])
    wo = np.where(pair == 0, w[..., 1], w[..., 3])
    u1 = we.astype(np.float32) * np.float32(2.0**-32) + np.float32(2.0**-33)
    r = np.sqrt(np.float32(-2) * _ln(u1))
    sin, cos = _sincos2pi(wo >> np.uint64(8), np.float32, 24)
    z = np.where(slot % 2 == 0, r * cos, r * sin)
    return np.float32(mean) + np.float32(std) * z


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


def householder_product(m, tau, sign, tall):
    """fastinit.linalg._householder_product restated with NumPy float64 ufuncs (no FMA: one rounding per
    multiplication and per addition), each accumulator summed in row order: its bits, if the kernel is what
    it says (a fixed order of IEEE operations, the same on every machine)."""
    n, k = m.shape
    for step in range(k):
        i = step if tall else k - 1 - step
        lo, u, hi = (0, n - k + i, n - k + i + 1) if tall else (i, i, n)
        cols = slice(0, i) if tall else slice(i + 1, k)
        t = tau[i]
        m[u, i] = 1.0
        if t != 0.0 and m[:, cols].shape[1]:
            acc = np.zeros(m[:, cols].shape[1])
            for c in range(lo, hi):
                acc = acc + m[c, cols] * m[c, i]
            acc = acc * t
            for c in range(lo, hi):
                m[c, cols] = m[c, cols] - acc * m[c, i]
        m[lo:hi, i] = m[lo:hi, i] * (-t * sign[i])
        m[u, i] = (1.0 - t) * sign[i]
        m[:lo, i] = 0.0
        m[hi:, i] = 0.0
    return m
