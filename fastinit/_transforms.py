"""Layer 2 — transforms: 32-bit Philox words to uniform and normal values.

Written once as scalar numba functions of plain arithmetic and bit casts (no libm calls, no
data-dependent branches other than selects), so that

* the CPU kernels inline them into loops that LLVM vectorizes (AVX2: 8 f32 lanes), and
* the CUDA kernels compile the very same source as device functions.

Every function is a pure map from words to a value; all range reductions are exact.

Accuracy (measured by ``tests/test_transforms.py`` and ``tests/test_distributions.py`` on 1e7
points against a long-double reference; see docs/transforms.md):

==================  ======================  ======================
function            float32 max ulp (test)  float64 max ulp (test)
==================  ======================  ======================
``log_f32/f64``     0.83 (<= 1)             <= 1 (<= 1)
``sincos2pi``       1.93 (<= 2)             <= 2 (<= 2)
normal (whole)      3.35 (<= 4)             3.13 (<= 4)
==================  ======================  ======================
"""
from __future__ import annotations

from ._jit import bits_float, float_bits, floor, scalar, sqrt
import numpy as np

_U64 = np.uint64
_U32 = np.uint32
_F32 = np.float32
_F64 = np.float64

# ---------------------------------------------------------------------------------------------
# uniform variates: the integer itself, scaled by a power of two (exact)
# ---------------------------------------------------------------------------------------------
_SH8 = _U64(8)
_SH11 = _U64(11)
_SH21 = _U64(21)
_F32_2M24 = _F32(2.0**-24)
_F32_2M32 = _F32(2.0**-32)
_F32_2M33 = _F32(2.0**-33)
_F64_2M53 = _F64(2.0**-53)
_F64_HALF = _F64(0.5)


@scalar
def bits24(w):
    """Top 24 bits of a 32-bit word (uint64-held)."""
    return w >> _SH8


@scalar
def bits53(w0, w1):
    """53 bits from two 32-bit words: all 32 of ``w0`` then the top 21 of ``w1``."""
    return (w0 << _SH21) | (w1 >> _SH11)


@scalar
def uniform_f32(w):
    """U[0, 1) on the grid k * 2**-24 from one word.  k converts from 32 bits (exact below 2**24): an sm_90
    converts a 64-bit integer with I2F.U64 on its conversion unit, a 32-bit one with I2FP (docs/gpu.md)."""
    return _F32(np.uint32(bits24(w))) * _F32_2M24


@scalar
def uniform_f64(w0, w1):
    """U[0, 1) on the grid k * 2**-53 from two words."""
    return _F64(bits53(w0, w1)) * _F64_2M53


@scalar
def open_uniform_f32(w):
    """U(0, 1] from all 32 bits: (w + 1/2) * 2**-32 rounded to float32 (min 2**-33)."""
    return _F32(np.uint32(w)) * _F32_2M32 + _F32_2M33  # from 32 bits, as uniform_f32; the same rounding


@scalar
def open_uniform_f64(w0, w1):
    """U(0, 1] from 53 bits: fl64(k + 1/2) * 2**-53 (min 2**-54); exact for k < 2**52, rounded to even above
    (k + 1/2 needs 54 bits), so k = 2**53 - 1 gives 1.0 (z = 0)."""
    return (_F64(bits53(w0, w1)) + _F64_HALF) * _F64_2M53


# ---------------------------------------------------------------------------------------------
# natural logarithm: exponent and mantissa from the bits, then the fdlibm kernel
# log(1+f) = f - hfsq + s*(hfsq + R(s*s)),  s = f / (2 + f)
# (FreeBSD msun e_logf.c / e_log.c minimax coefficients, |error of R| < 2**-34.2 / 2**-58.45)
# ---------------------------------------------------------------------------------------------
_F32_ONE = _F32(1.0)
_F32_TWO = _F32(2.0)
_F32_HALF = _F32(0.5)
_F32_MANT = _U64(0x007FFFFF)
_F32_ONE_EXP = _U64(0x3F800000)  # exponent field of 1.0
_F32_HALF_EXP = _U64(0x3F000000)  # exponent field of 0.5
_F32_SQRT2_MANT = _U64(0x003504F3)  # mantissa field of sqrt(2) (0x3FB504F3)
_F32_LN2_HI = _F32(6.9313812256e-01)
_F32_LN2_LO = _F32(9.0580006145e-06)
_F32_LG1 = _F32(0.6666666269302368)
_F32_LG2 = _F32(0.40000972151756287)
_F32_LG3 = _F32(0.2849878668785095)
_F32_LG4 = _F32(0.24279078841209412)

_F64_ONE = _F64(1.0)
_F64_TWO = _F64(2.0)
_F64_MANT = _U64(0x000FFFFFFFFFFFFF)
_F64_ONE_EXP = _U64(0x3FF0000000000000)
_F64_HALF_EXP = _U64(0x3FE0000000000000)
_F64_SQRT2_MANT = _U64(0x0006A09E667F3BCD)  # mantissa field of sqrt(2) (0x3FF6A09E667F3BCD)
_F64_LN2_HI = _F64(6.93147180369123816490e-01)
_F64_LN2_LO = _F64(1.90821492927058770002e-10)
_F64_LG1 = _F64(6.666666666666735130e-01)
_F64_LG2 = _F64(3.999999999940941908e-01)
_F64_LG3 = _F64(2.857142874366239149e-01)
_F64_LG4 = _F64(2.222219843214978396e-01)
_F64_LG5 = _F64(1.818357216161805012e-01)
_F64_LG6 = _F64(1.531383769920937332e-01)
_F64_LG7 = _F64(1.479819860511658591e-01)


@scalar
def log_f32(x):
    """ln(x) for a positive normal float32 x; max error 1 ulp."""
    b = _U64(float_bits(x))
    # x = 2**k * m, m in [sqrt(1/2), sqrt(2)): take the exponent field, halve m if it is >= sqrt(2)
    big = (b & _F32_MANT) >= _F32_SQRT2_MANT
    k = _F32(np.int32(np.int64(b >> _U64(23)) - (126 if big else 127)))  # from 32 bits, as uniform_f32
    x = bits_float(np.uint32((b & _F32_MANT) | (_F32_HALF_EXP if big else _F32_ONE_EXP)))
    f = x - _F32_ONE  # exact (Sterbenz); f in [sqrt(1/2) - 1, sqrt(2) - 1)
    s = f / (_F32_TWO + f)
    z = s * s
    w = z * z
    r = z * (_F32_LG1 + w * _F32_LG3) + w * (_F32_LG2 + w * _F32_LG4)
    hfsq = _F32_HALF * f * f
    return k * _F32_LN2_HI - ((hfsq - (s * (hfsq + r) + k * _F32_LN2_LO)) - f)


@scalar
def log_f64(x):
    """ln(x) for a positive normal float64 x; max error 1 ulp."""
    b = float_bits(x)
    big = (b & _F64_MANT) >= _F64_SQRT2_MANT
    k = _F64(np.int64(b >> _U64(52)) - (1022 if big else 1023))
    x = bits_float((b & _F64_MANT) | (_F64_HALF_EXP if big else _F64_ONE_EXP))
    f = x - _F64_ONE
    s = f / (_F64_TWO + f)
    z = s * s
    w = z * z
    t1 = w * (_F64_LG2 + w * (_F64_LG4 + w * _F64_LG6))
    t2 = z * (_F64_LG1 + w * (_F64_LG3 + w * (_F64_LG5 + w * _F64_LG7)))
    r = t2 + t1
    hfsq = _F64(0.5) * f * f
    return k * _F64_LN2_HI - ((hfsq - (s * (hfsq + r) + k * _F64_LN2_LO)) - f)


# ---------------------------------------------------------------------------------------------
# sin and cos of 2*pi*u for u = k * 2**-bits: exact quarter-turn reduction, then the reduced
# angle x = 2*pi*t, |t| <= 1/8, goes through Taylor polynomials (|x| <= pi/4)
# ---------------------------------------------------------------------------------------------
_F32_TWO_PI = _F32(2.0 * np.pi)
_F64_TWO_PI = _F64(2.0 * np.pi)
_S32 = tuple(_F32((-1) ** n / float(np.prod(np.arange(1, 2 * n + 2, dtype=np.float64)))) for n in range(1, 5))
_C32 = tuple(_F32((-1) ** n / float(np.prod(np.arange(1, 2 * n + 1, dtype=np.float64)))) for n in range(1, 6))
_S64 = tuple(_F64((-1) ** n / float(np.prod(np.arange(1, 2 * n + 2, dtype=np.float64)))) for n in range(1, 9))
_C64 = tuple(_F64((-1) ** n / float(np.prod(np.arange(1, 2 * n + 1, dtype=np.float64)))) for n in range(1, 10))


@scalar
def _rotate(q, s, c, one, two, three):
    """(sin, cos) of q*pi/2 + x from (sin x, cos x); q a float in {0, 1, 2, 3, 4} (4 = 0)."""
    odd = (q == one) | (q == three)
    ss = c if odd else s
    cc = s if odd else c
    ss = -ss if (q == two) | (q == three) else ss
    cc = -cc if (q == one) | (q == two) else cc
    return ss, cc


@scalar
def sincos2pi_f32(k):
    """(sin, cos) of 2*pi*k*2**-24 for a 24-bit integer k; max error 2 ulp (float32).

    All in float32 lanes (8 per AVX2 register): u = k 2**-24 and the quarter turn
    q = floor(4u + 1/2) are exact, so is t = u - q/4 (|t| <= 1/8)."""
    u = _F32(np.int32(k)) * _F32_2M24
    q = floor(u * _F32(4.0) + _F32_HALF)
    x = (u - q * _F32(0.25)) * _F32_TWO_PI
    z = x * x
    s = x + x * z * (_S32[0] + z * (_S32[1] + z * (_S32[2] + z * _S32[3])))
    c = _F32_ONE + z * (_C32[0] + z * (_C32[1] + z * (_C32[2] + z * (_C32[3] + z * _C32[4]))))
    return _rotate(q, s, c, _F32_ONE, _F32_TWO, _F32(3.0))


@scalar
def sincos2pi_f64(k):
    """(sin, cos) of 2*pi*k*2**-53 for a 53-bit integer k; max error 2 ulp (float64)."""
    u = _F64(np.int64(k)) * _F64_2M53
    q = floor(u * _F64(4.0) + _F64_HALF)
    x = (u - q * _F64(0.25)) * _F64_TWO_PI
    z = x * x
    s = x + x * z * (_S64[0] + z * (_S64[1] + z * (_S64[2] + z * (_S64[3] + z * (
        _S64[4] + z * (_S64[5] + z * (_S64[6] + z * _S64[7])))))))
    c = _F64_ONE + z * (_C64[0] + z * (_C64[1] + z * (_C64[2] + z * (_C64[3] + z * (
        _C64[4] + z * (_C64[5] + z * (_C64[6] + z * (_C64[7] + z * _C64[8]))))))))
    return _rotate(q, s, c, _F64_ONE, _F64_TWO, _F64(3.0))


# ---------------------------------------------------------------------------------------------
# standard normal pairs: Box-Muller (Box & Muller 1958), r = sqrt(-2 ln u1), theta = 2 pi u2
# ---------------------------------------------------------------------------------------------
_F32_M2 = _F32(-2.0)
_F64_M2 = _F64(-2.0)


@scalar
def normal_pair_f32(w0, w1):
    """Two independent N(0, 1) float32 values from two words (|z| <= sqrt(66 ln 2) = 6.764)."""
    r = sqrt(_F32_M2 * log_f32(open_uniform_f32(w0)))
    s, c = sincos2pi_f32(bits24(w1))
    return r * c, r * s


@scalar
def normal_pair_f64(w0, w1, w2, w3):
    """Two independent N(0, 1) float64 values from four words (|z| <= 8.65)."""
    r = sqrt(_F64_M2 * log_f64(open_uniform_f64(w0, w1)))
    s, c = sincos2pi_f64(bits53(w2, w3))
    return r * c, r * s


# Largest |z| either pair can return: sqrt(-2 ln(min open uniform)).
NORMAL_MAX_F32 = float(np.sqrt(-2.0 * np.log(2.0**-33)))
NORMAL_MAX_F64 = float(np.sqrt(-2.0 * np.log(2.0**-54)))

# ---------------------------------------------------------------------------------------------
# rounding float32 bit patterns to 16-bit formats, round-to-nearest-even (integer only)
# ---------------------------------------------------------------------------------------------
_U16_F16_INF = _U64(0x7C00)
_U16_F16_NAN = _U64(0x7E00)
_MASK_ABS = _U64(0x7FFFFFFF)


@scalar
def f32bits_to_f16bits(b):
    """IEEE binary16 bits nearest (ties to even) to the float32 with bits ``b``."""
    b = _U64(b)
    sign = (b >> _U64(16)) & _U64(0x8000)
    a = b & _MASK_ABS
    if a > _U64(0x7F800000):  # NaN
        h = _U16_F16_NAN
    elif a >= _U64(0x477FF000):  # rounds to >= 65520: infinity
        h = _U16_F16_INF
    elif a >= _U64(0x38800000):  # normal half: rebias exponent, round 13 bits away
        h = (a - _U64(0x38000000) + _U64(0xFFF) + ((a >> _U64(13)) & _U64(1))) >> _U64(13)
    elif a < _U64(0x33000000):  # below 2**-25: rounds to zero
        h = _U64(0)
    else:  # subnormal half: units of 2**-24
        shift = _U64(126) - (a >> _U64(23))  # in [14, 24]
        m = (a & _U64(0x7FFFFF)) | _U64(0x800000)
        q = m >> shift
        rem = m & ((_U64(1) << shift) - _U64(1))
        half = _U64(1) << (shift - _U64(1))
        h = q + _U64(1) if (rem > half or (rem == half and (q & _U64(1)) == _U64(1))) else q
    return sign | h


@scalar
def f32bits_to_bf16bits(b):
    """bfloat16 bits nearest (ties to even) to the float32 with bits ``b``; NaN stays NaN.

    In 32-bit words, each step cast back to uint32: numba widens integer scalars to 64 bits, and the CPU's
    store loop then ran 4 lanes to a 256-bit vector instead of 8 (2.3x slower).  The magnitude is rounded and
    the sign put back: |b| + 0x8000 < 2**32 for every input, NaN included (no wrap, and no NumPy overflow warning
    where the Python function runs: the CUDA simulator)."""
    b = _U32(b)
    top = _U32(b >> _U32(16))
    a = _U32(b & _U32(0x7FFFFFFF))
    rounded = _U32(_U32(_U32(a + _U32(0x7FFF)) + _U32(top & _U32(1))) >> _U32(16)) | _U32(top & _U32(0x8000))
    return _U32(top | _U32(0x40)) if a > _U32(0x7F800000) else rounded


# ---------------------------------------------------------------------------------------------
# truncated normal: one rejection-sampling attempt (Robert 1995) on standardized bounds
# [alpha, beta]; the kernel retries rejected elements with fresh, counter-derived bits.
#   NORMAL_PROPOSAL  z ~ N(0, 1) (Box-Muller, one value per element), accept alpha <= z <= beta
#                    (0 inside, beta - alpha >= sqrt(2 pi)); folded, |z| on a one-sided interval near 0
#                    (init._proposal: whichever proposal accepts most), offset |z| - alpha (_cpu._accept)
#   UNIFORM_PROPOSAL z ~ U[alpha, beta), accept v <= exp((m2 - z^2) / 2)   (narrow; m = min |z|)
#   EXP_PROPOSAL     z = alpha + Exp(lam), accept z <= beta and v <= exp(-(z - lam)^2 / 2)
#                    (a one-sided tail, 0 <= alpha, or from the near bound alpha < 0 of an interval just
#                    containing 0; lam = (alpha + sqrt(alpha^2 + 4)) / 2)
# A negative-side interval is mirrored by the caller: sample on [-beta, -alpha], negate.
# The uniform and exponential attempts (and the folded normal) compute the offset t = z - alpha >= 0
# from the near bound, never z itself, with the tests rewritten in t: m2 - z^2 = c - t (2 alpha + t), c = m2 - alpha^2,
# and z - lam = t - d, d = lam - alpha.  The value is then near_bound + std * t: with |alpha| huge
# (a mean far outside [a, b]) mean + std * z would cancel catastrophically, t does not.
# ---------------------------------------------------------------------------------------------
NORMAL_PROPOSAL, UNIFORM_PROPOSAL, EXP_PROPOSAL = 0, 1, 2
_F32_NAN = _F32(np.nan)
_F64_NAN = _F64(np.nan)


@scalar
def trunc_attempt_f32(method, w0, w1, alpha, width, lam, c):
    """One uniform- or exponential-proposal attempt from two words: the accepted offset
    t = z - alpha in [0, width] (width = beta - alpha), or NaN; ``c`` is m2 - alpha^2 (uniform) or
    lam - alpha (exponential).  (The normal proposal is Box-Muller itself: ``normal_pair_f32``.)"""
    l0 = log_f32(open_uniform_f32(w0))  # the exponential variate
    l1 = log_f32(open_uniform_f32(w1))  # log of the acceptance uniform
    if method == UNIFORM_PROPOSAL:
        t = width * uniform_f32(w0)
        bound = c - t * (alpha + alpha + t)
    else:
        t = -l0 / lam
        bound = -((t - c) * (t - c))
    return t if (t <= width) & (_F32_TWO * l1 <= bound) else _F32_NAN


@scalar
def trunc_attempt_f64(method, w0, w1, w2, w3, alpha, width, lam, c):
    """One uniform- or exponential-proposal attempt from four words (53-bit uniforms): the offset
    t = z - alpha, or NaN (see :func:`trunc_attempt_f32`)."""
    l0 = log_f64(open_uniform_f64(w0, w1))
    l1 = log_f64(open_uniform_f64(w2, w3))
    if method == UNIFORM_PROPOSAL:
        t = width * uniform_f64(w0, w1)
        bound = c - t * (alpha + alpha + t)
    else:
        t = -l0 / lam
        bound = -((t - c) * (t - c))
    return t if (t <= width) & (_F64_TWO * l1 <= bound) else _F64_NAN
