"""Layer 5 — public in-place initializers (torch names and semantics).

Every sampler takes the target first, fills it in place and returns it.  The value written at
global flat index g is a pure function of (seed, stream, g, distribution parameters, dtype)
— see docs/determinism.md — so results do not depend on threads, chunking or sharding.
"""
from __future__ import annotations

import fractions
import functools
import math
import numbers
from typing import Any, Optional, Sequence, TypeVar, Union

import numpy as np

from . import _cpu
from ._buffers import (NOT_INTS, CudaTarget, Target, as_target, finfo_max, geometry, is_int, memory_geometry,
                       shape_tuple, shown)
from ._seed import Generator, key_words, resolve_seed, stream_words
from ._transforms import EXP_PROPOSAL, NORMAL_MAX_F32, NORMAL_MAX_F64, NORMAL_PROPOSAL, UNIFORM_PROPOSAL
from ._warnings import warn

__all__ = ["uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_", "sample_uniform", "sample_normal",
           "sample_trunc_normal"]

T = TypeVar("T")
Stream = Union[int, str]
Shape = Optional[Sequence[int]]


def _is_real(value) -> bool:
    """A real number (int, float, NumPy scalars, fractions.Fraction, any numbers.Real), not a bool (nor a NumPy
    timedelta, an np.integer to NumPy)."""
    return type(value) is float or (not isinstance(value, NOT_INTS)
                                    and isinstance(value, (numbers.Real, np.integer, np.floating)))


def _float(value) -> float:
    """float(value); an int beyond float64's range is ±inf (float() would raise OverflowError)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _overflowed(value, v: float) -> bool:
    """Whether ``v = _float(value)`` is ±inf for a finite ``value`` (10**400, a long double of 1e400)."""
    value = _scalar(value)
    if not math.isinf(v) or type(value) is float:
        return False
    return bool(np.isfinite(value)) if isinstance(value, np.floating) else True


def _shown(value) -> str:
    """A number too large for float64, for a message: an int by its bits, else its first digits."""
    value = _scalar(value)
    if isinstance(value, (int, np.integer)):
        return f"an int of {int(value).bit_length()} bits"
    return f"{str(value)[:24]}..."


def _scalar(value):
    """A 0-d NumPy array of numbers (``np.array(0.5)``, what NumPy reductions of 0-d inputs give) as its scalar;
    anything else as given."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return value[()]
    return value


def as_int(value, name: str, fn: str, least: int = 0) -> int:
    """An int (NumPy integers and 0-d integer arrays too); TypeError for anything else (bool included), ValueError
    below ``least``."""
    value = _scalar(value)
    if not is_int(value):
        raise TypeError(f"{fn}: {name} must be an int, got {shown(value, typed=True)}")
    if value < least:
        raise ValueError(f"{fn}: {name} must be a {'positive' if least == 1 else 'non-negative'} int, got {value!r}")
    return int(value)


def as_real(value, name: str, fn: str, finite: bool = True) -> float:
    """A float from a real number (a 0-d NumPy array too); TypeError for non-numbers (and bool), ValueError for
    NaN/inf."""
    value = _scalar(value)
    if not _is_real(value):
        raise TypeError(f"{fn}: {name} must be a real number, got {shown(value, typed=True)}")
    v = _float(value)
    if finite and not math.isfinite(v):
        refuse_overflow(value, v, name, fn)
        raise ValueError(f"{fn}: {name} must be finite, got {v}")
    return v


def refuse_beyond_range(a: float, b: float, dtype: np.dtype, fn: str) -> None:
    """ValueError when uniform bounds [a, b) reach beyond the finite range of ``dtype``."""
    big = finfo_max(dtype)
    if max(abs(a), abs(b)) > big:
        raise ValueError(f"{fn}: bounds [{a}, {b}) exceed the finite range of {dtype} (±{big:.6g})")


def refuse_overflow(value, v: float, name: str, fn: str) -> None:
    """ValueError naming ``name`` when ``v = _float(value)`` is ±inf for a finite ``value`` (10**400)."""
    if _overflowed(value, v):
        raise ValueError(f"{fn}: {name}={_shown(value)} overflows float64")


_PARAM_INDEX = {name: getattr(_cpu, name) for name in ("P0", "P1", "LO", "HI", "ALPHA", "BETA", "LAM", "M2",
                                                         "METHOD", "SIGN", "NEAREST", "P0LO")}


def _params(**named) -> np.ndarray:
    """The kernel's float64 parameter vector from named entries (see ``_cpu.P0`` ... ``_cpu.P0LO``)."""
    prm = np.zeros(_cpu.N_PARAMS)  # then set item by item: 1 us less than np.array of a 12-float list
    for name, value in named.items():
        prm[_PARAM_INDEX[name]] = value
    return prm


def _rounded(x: float, dtype: np.dtype) -> float:
    """x rounded to ``dtype`` (nearest, ties to even) and back to a Python float."""
    with np.errstate(over="ignore"):
        return float(np.array(x, np.float64).astype(dtype).astype(np.float64))


def _ordered(x: float, dtype: np.dtype) -> int:
    """Monotone integer code of a (finite or infinite) ``dtype`` value: sign-magnitude -> two's complement."""
    uint = {2: np.uint16, 4: np.uint32, 8: np.uint64}[dtype.itemsize]
    bits = int(np.array(x, np.float64).astype(dtype).view(uint))
    sign = 1 << (8 * dtype.itemsize - 1)
    return -(bits & (sign - 1)) if bits & sign else bits


def _from_ordered(o: int, dtype: np.dtype) -> float:
    uint = {2: np.uint16, 4: np.uint32, 8: np.uint64}[dtype.itemsize]
    sign = 1 << (8 * dtype.itemsize - 1)
    return float(np.array((sign | -o) if o < 0 else o, uint).view(dtype).astype(np.float64))


def _exact(given) -> fractions.Fraction | None:
    """``given``'s exact value where float64 may not hold it (an int beyond 2**53, a Fraction, a long double), else
    None (a float, or an int float64 holds)."""
    given = _scalar(given)
    if type(given) is float or isinstance(given, (np.float16, np.float32, np.float64)) \
            or isinstance(given, (int, np.integer)) and -2**53 <= given <= 2**53:  # exact in float64
        return None
    try:  # (a long double is no float to Fraction: its integer ratio is exact)
        return fractions.Fraction(*given.as_integer_ratio()) if isinstance(given, np.floating) \
            else fractions.Fraction(given)
    except (TypeError, ValueError, OverflowError, AttributeError):
        return None


def _inward(given, v: float, up: bool) -> float:
    """``v`` = float64(``given``), one float64 step toward the interval's inside (``up``: a lower bound) where the
    rounding took it outside: an int beyond 2**53, a Fraction or a long double that float64 cannot hold (U[2**53 + 1,
    2**53 + 3) stored 2**53, below a).  Values of every target dtype are float64 values: the bound is then exact."""
    exact = _exact(given) if math.isfinite(v) else None
    if exact is not None and ((fractions.Fraction(v) < exact) if up else (fractions.Fraction(v) > exact)):
        return math.nextafter(v, math.inf if up else -math.inf)
    return v


def _to_odd(given, v: float) -> float:
    """``v`` = float64(``given``) rounded to odd instead where float64 cannot hold ``given``: of the two float64
    values around it, the one whose last significand bit is 1.  Rounded to nearest from there, a dtype of fewer bits
    gets ``given`` rounded once (Boldo & Melquiond 2008); from ``v`` it could round twice (2**60 + 2**36 + 1 went to
    2**60 in float32, not 2**60 + 2**37)."""
    exact = _exact(given) if math.isfinite(v) else None
    if exact is None or fractions.Fraction(v) == exact or int(np.float64(v).view(np.int64)) & 1:
        return v
    return math.nextafter(v, math.inf if fractions.Fraction(v) < exact else -math.inf)


def _representable(a: float, b: float, dtype: np.dtype, fn: str, closed: bool) -> tuple[float, float]:
    """[lo, hi]: the smallest finite ``dtype`` value >= a and the largest < b (<= b if ``closed``)."""
    # cached (asked again for every bias of a model, ~40 us each); the signs keep -0.0 and 0.0 apart
    return _representable_signed(a, b, math.copysign(1.0, a), math.copysign(1.0, b), dtype, fn, closed)


@functools.lru_cache(maxsize=4096)
def _representable_signed(a: float, b: float, _sa: float, _sb: float, dtype: np.dtype, fn: str,
                          closed: bool) -> tuple[float, float]:
    big = finfo_max(dtype)
    lo, hi = max(_rounded(a, dtype), -big), min(_rounded(b, dtype), big)
    if lo < a:
        lo = _from_ordered(_ordered(lo, dtype) + 1, dtype)
    if hi > b or (hi == b and not closed):
        hi = _from_ordered(_ordered(hi, dtype) - 1, dtype)
    if lo > hi:
        raise ValueError(f"{fn}: no finite {dtype} value lies in [{a}, {b}{']' if closed else ')'} (a, b)")
    return lo, hi


def _launch(target: Target | CudaTarget, geom, kind: int, prm, key, sw, chunk: int = _cpu.AUTO_CHUNK,
            kernel=None) -> None:
    """Run the kernel of the target's device: fastinit._cuda for GPU memory (``kernel``: the one
    ``_cuda.check_launch`` returned, if it ran), else fastinit._cpu."""
    if target.device == "cuda":
        from . import _cuda  # numba.cuda is imported only for GPU targets
        _cuda.launch(target, geom, kind, prm, key, sw, kernel)
    else:
        _cpu.launch(target.flat, target.code, geom, kind, prm, key, sw, chunk)


def check_placement(target: Target | CudaTarget, *, seed=None, stream: Stream = 0, global_shape: Shape = None,
                    offset: Shape = None, generator: Optional[Generator] = None, _chunk: int = _cpu.AUTO_CHUNK):
    """Validate a call's placement, stream, seed and generator (nothing drawn): (geometry, stream words)."""
    geom = geometry(target, global_shape, offset)
    sw = stream_words(stream)
    if isinstance(_chunk, bool) or not isinstance(_chunk, int) or _chunk < 0:
        raise ValueError(f"_chunk must be a non-negative int (0: the kernel's choice), got {_chunk!r}")
    resolve_seed(seed, generator, draw=False)
    return geom, sw


def _sample(out, target: Target, kind: int, prm, *, seed=None, generator: Optional[Generator] = None,
            _chunk: int = _cpu.AUTO_CHUNK, said: Sequence[str] = (), **where):
    """Validate the placement and the keys, give the warnings ``said`` (once every argument passed: a refusal is
    not preceded by a warning, which an error filter would raise instead), then run the kernel over ``target``;
    returns ``out``.  An empty target is checked alike and left alone, with no seed drawn."""
    geom, sw = check_placement(target, seed=seed, generator=generator, _chunk=_chunk, **where)
    kernel = None
    if target.size and target.device == "cuda":  # no GPU, too many axes, no kernel for the device: refused before
        from . import _cuda  # a seed is drawn
        kernel = _cuda.check_launch(target, geom, kind)
    for message in said:
        warn(message)
    if target.size == 0:
        return out
    key = key_words(resolve_seed(seed, generator))
    _launch(target, geom, kind, prm, key, sw, _chunk, kernel)
    return out


def uniform_(out: T, a: float = 0.0, b: float = 1.0, *, seed: Optional[int] = None, stream: Stream = 0,
             global_shape: Shape = None, offset: Shape = None, dtype: Any = None,
             generator: Optional[Generator] = None, _chunk: int = _cpu.AUTO_CHUNK) -> T:
    r"""Fill ``out`` with samples of :math:`\mathcal{U}[a, b)`.

    Parameters
    ----------
    out : array or writable buffer
        Target, filled in place (numpy array of any strides, np.memmap, memoryview, ...).
    a, b : float
        Bounds, finite, ``a < b``.  Every stored value lies in [a, b) *after* rounding to the
        target dtype (values that would round up to ``b`` are stored as the largest value below).
    seed : int in [0, 2**64), optional
        Philox key.  ``None`` draws a fresh seed from ``generator`` (default: the global one,
        see :func:`fastinit.manual_seed`).
    stream : int in [0, 2**64) or str
        Independent stream under the same seed, e.g. a parameter name.
    global_shape, offset : tuple of int, optional
        Treat ``out`` as the block at ``offset`` of a virtual tensor of ``global_shape``: the
        result equals that block of the unsharded fill.
    dtype : optional
        Element type for untyped buffers (bytearray, raw memoryview).
    generator : fastinit.Generator, optional
        Where a ``seed=None`` call draws its seed (default: the global generator); ignored with ``seed``.

    Notes
    -----
    Element g takes one slot of a Philox4x32-10 block (tiles of 256 blocks; docs/determinism.md):
    float16 / bfloat16 / float32 use a 24-bit uniform ``(w >> 8) * 2**-24`` of one word, computed
    in float32; float64 a 53-bit uniform from two words; then ``a + (b - a) * u`` (float32:
    ``fl32(a) + fl32(b - a) * u``, ``b - a`` computed in float64; docs/transforms.md).

    Examples
    --------
    >>> import numpy as np, fastinit
    >>> w = fastinit.uniform_(np.empty((256, 128), np.float32), -0.1, 0.1, seed=0)
    >>> bool(w.min() >= -0.1 and w.max() < 0.1)
    True
    """
    target = as_target(out, dtype)
    return sample_uniform(out, target, a, b, "uniform_", seed=seed, stream=stream, global_shape=global_shape,
                          offset=offset, generator=generator, _chunk=_chunk)


def sample_uniform(out, target: Target, a, b, fn: str, **placement):
    """Validate U[a, b) for ``target`` and fill it (``placement``: seed, stream, global_shape, ...)."""
    given_a = a
    a = as_real(a, "a", fn)
    b = as_real(b, "b", fn)
    if not a < b:
        raise ValueError(f"{fn}: need a < b, got a={a}, b={b}")
    if target.code == _cpu.F64 or max(-a, b) < 1.5e38:  # float32 b - a cannot overflow: no errstate (~3 us)
        width = b - a
    else:  # the kernels' width: fl32(b - a), which may overflow where fl32(b) - fl32(a) does not (inf * 0 = NaN)
        with np.errstate(over="ignore"):
            width = float(np.float32(b - a))
    if not math.isfinite(width):  # an empty target too: its arguments are checked like any other's
        raise ValueError(f"{fn}: b - a = {b - a} overflows the computation precision of {target.dtype}")
    refuse_beyond_range(a, b, target.dtype, fn)
    lo, hi = _representable(_inward(given_a, a, True), b, target.dtype, fn, closed=False)  # (below b's rounding:
    # below b, whichever way it went)
    return _sample(out, target, _cpu.UNIFORM, _params(P0=a, P1=b - a, LO=lo, HI=hi), **placement)


def normal_(out: T, mean: float = 0.0, std: float = 1.0, *, seed: Optional[int] = None, stream: Stream = 0,
            global_shape: Shape = None, offset: Shape = None, dtype: Any = None,
            generator: Optional[Generator] = None, _chunk: int = _cpu.AUTO_CHUNK) -> T:
    r"""Fill ``out`` with samples of :math:`\mathcal{N}(\text{mean}, \text{std}^2)`.

    Box–Muller on Philox bits: :math:`z = \sqrt{-2\ln u_1}\,(\cos 2\pi u_2, \sin 2\pi u_2)`,
    with polynomial log/sin/cos (docs/transforms.md gives every operation and the ulp bounds).
    float16 / bfloat16 / float32 use one 32-bit word for :math:`u_1` and a 24-bit :math:`u_2` (four values per
    Philox block, :math:`|z| \le 6.764`); float64 uses 53-bit uniforms (two values per block,
    :math:`|z| \le 8.65`).  Keywords as in :func:`uniform_`.

    Raises ValueError if ``std < 0``, a parameter is not finite, or ``|mean| + z_max * std``
    can round to infinity in the dtype (no silent infinities; values that round to its largest
    finite value are stored as that).

    Examples
    --------
    >>> import numpy as np, fastinit
    >>> w = fastinit.normal_(np.empty(10**6), std=0.02, seed=1)
    >>> round(float(w.std()), 3)
    0.02
    """
    target = as_target(out, dtype)
    return sample_normal(out, target, mean, std, "normal_", seed=seed, stream=stream, global_shape=global_shape,
                         offset=offset, generator=generator, _chunk=_chunk)


def sample_normal(out, target: Target, mean, std, fn: str, **placement):
    """Validate N(mean, std^2) for ``target`` and fill it."""
    return _sample(out, target, _cpu.NORMAL, normal_params(target, mean, std, fn), **placement)


def normal_params(target: Target, mean, std, fn: str) -> np.ndarray:
    """The kernel parameters of N(mean, std^2) for ``target``, after validating them."""
    mean = as_real(mean, "mean", fn)
    std = as_real(std, "std", fn)
    if std < 0:
        raise ValueError(f"{fn}: std must be >= 0, got {std}")
    zmax = NORMAL_MAX_F64 if target.code == _cpu.F64 else NORMAL_MAX_F32
    if reaches_inf(mean, std, zmax, target):
        raise ValueError(
            f"{fn}: mean={mean}, std={std} can reach |x| = {abs(mean) + zmax * std:.4g}, beyond the largest "
            f"finite {target.dtype} ({finfo_max(target.dtype):.6g}); use a wider dtype or a smaller std"
        )
    return _params(P0=mean, P1=std)


def reaches_inf(mean: float, std: float, zmax: float, target: Target) -> bool:
    """Whether mean ± std·z with |z| <= zmax, computed as the kernels do (fl(fl(mean) + fl(fl(std)·z)) in the
    target's compute precision, zmax taken 2 ulps up for the transform's error), rounds to ±inf in its dtype
    (a value that rounds to the largest finite one is fine: float16 mean=65519, std=0 stores 65504)."""
    if abs(mean) + zmax * std < 0.99 * finfo_max(target.dtype):
        return False
    c = np.float64 if target.code == _cpu.F64 else np.float32
    with np.errstate(over="ignore"):
        z = np.nextafter(np.nextafter(c(zmax), c(np.inf)), c(np.inf))
        x = np.asarray(abs(c(mean)) + c(std) * z).astype(target.dtype)
    return not math.isfinite(float(x))


@functools.lru_cache(maxsize=4096)
def _rounding_edges(lo: float, hi: float, dtype: np.dtype, compute: np.dtype) -> tuple[float, float]:
    """[lo_e, hi_e]: the ``compute`` values x whose rounding to ``dtype`` lies in [lo, hi] (both in dtype; -0.0
    and 0.0 give the same edges).  Cached: two bisections of ~32 roundings each, 115 us of every 16-bit
    trunc_normal_ call (8x its float32 cost) before."""
    if compute == dtype:
        return lo, hi

    def first(pred, a, b):  # smallest ordered code in [a, b] satisfying a monotone predicate
        while a < b:
            mid = (a + b) // 2
            a, b = (a, mid) if pred(mid) else (mid + 1, b)
        return a

    def rounded(o):
        return float(np.array(_from_ordered(o, compute), compute).astype(dtype).astype(np.float64))

    top = _ordered(np.inf, compute)
    with np.errstate(over="ignore"):
        lo_e = first(lambda o: rounded(o) >= lo, -top, top)
        hi_e = first(lambda o: rounded(o) > hi, -top, top) - 1
    return _from_ordered(lo_e, compute), _from_ordered(hi_e, compute)


@functools.lru_cache(maxsize=4096)
def _reach_edges(lo_e: float, hi_e: float, compute: np.dtype) -> tuple[float, float]:
    """The real numbers that the ``compute`` arithmetic rounds into [lo_e, hi_e] end half a spacing beyond them:
    those ends (cached with the edges' bisection: 2.6 us of a 17 us call computed anew)."""
    with np.errstate(over="ignore"):
        return ((lo_e + float(np.nextafter(compute.type(lo_e), compute.type(-np.inf)))) / 2,
                (hi_e + float(np.nextafter(compute.type(hi_e), compute.type(np.inf)))) / 2)


_FOLD = math.sqrt(2.0 / math.pi)  # the folded normal's K: acceptance sqrt(2 pi) (Phi(beta) - Phi(alpha)) K


def _proposal(alpha: float, beta: float, width: float) -> dict:
    """The proposal accepting most often for N(0, 1) restricted to [alpha, beta] (``width`` = beta - alpha,
    computed from the bounds without cancellation), as kernel parameters: Robert (1995)'s optimal choice
    among the normal, uniform and exponential proposals, or, on a one-sided interval near 0, the folded
    normal sign |z| (acceptance 2 (Phi(beta) - Phi(alpha)): 1 on [0, inf), where Robert's gives 1/2); on one
    just containing 0, the exponential from its bound nearer 0 (Robert's proposal outside the tail he used it
    for: it is valid from any bound, lam exp(lam z - lam² / 2) bounding the normal density over all z).

    Each proposal accepts sqrt(2 pi) (Phi(beta) - Phi(alpha)) K of its attempts: K = 1 / sqrt(2 pi) for the
    normal, sqrt(2 / pi) folded, exp(m² / 2) / width for the uniform (m = min |z|), lam exp(lam alpha -
    lam² / 2) for the exponential.  The uniform and exponential proposals draw the offset from the near
    bound (after mirroring a negative-side interval), and so does the folded normal (offset |z| - alpha):
    BETA is then the width, SIGN the interval's side (+1, -1), and M2 the c of ``_transforms.trunc_attempt_f32``
    (m2 - alpha², or lam - alpha).  SIGN is 0 for the (unfolded) normal proposal, drawn around the mean."""
    if alpha < 0.0 < beta:
        # the exponential from the bound nearer the mean where it accepts more: an interval just containing the
        # mean on one side ([-0.001, inf): acceptance 0.76 against the normal's 0.50); against the normal only
        # from 1.1 times its acceptance (near = -0.35), where its dearer attempts (two values a Philox block,
        # not four) stop costing more than they save (2e7 float32: 92 against 82 ms at near = -0.45)
        near, sign = (alpha, 1.0) if -alpha <= beta else (-beta, -1.0)
        lam = (near + math.hypot(near, 2.0)) / 2.0
        exp = dict(METHOD=EXP_PROPOSAL, ALPHA=near, BETA=width, LAM=lam, M2=lam - near, SIGN=sign)
        k_exp = lam * math.exp(lam * (near - lam / 2.0))
        if width >= math.sqrt(2.0 * math.pi):
            return exp if k_exp > 1.1 / math.sqrt(2.0 * math.pi) else dict(
                METHOD=NORMAL_PROPOSAL, ALPHA=alpha, BETA=beta, SIGN=0.0)
        return exp if k_exp > 1.0 / width else dict(
            METHOD=UNIFORM_PROPOSAL, ALPHA=alpha, BETA=width, M2=-alpha * alpha, SIGN=1.0)
    sign = 1.0
    if beta <= 0.0:  # mirror to the positive side
        alpha, beta, sign = -beta, -alpha, -1.0
    folded = dict(METHOD=NORMAL_PROPOSAL, ALPHA=alpha, BETA=width, SIGN=sign)
    root = math.hypot(alpha, 2.0)  # sqrt(alpha² + 4), without overflow
    lam = (alpha + root) / 2.0
    # Robert's criterion; (alpha² - alpha root) / 4 = -alpha / (alpha + root), without cancellation
    if width < 2.0 * math.sqrt(math.e) / (alpha + root) * math.exp(-alpha / (alpha + root)):
        robert = dict(METHOD=UNIFORM_PROPOSAL, ALPHA=alpha, BETA=width, M2=0.0, SIGN=sign)
        k = math.exp(alpha * alpha / 2.0) / width if alpha < 1.0 and width > 0.0 else math.inf
    else:
        robert = dict(METHOD=EXP_PROPOSAL, ALPHA=alpha, BETA=width, LAM=lam, M2=2.0 / (alpha + root), SIGN=sign)
        k = lam * math.exp(lam * (alpha - lam / 2.0)) if alpha < 1.0 else math.inf
    # the folded normal accepts at most 2 (1 - Phi(alpha)) < 0.32 once alpha >= 1: Robert's then (>= 0.49)
    return folded if alpha < 1.0 and _FOLD >= k else robert


# Below this width in std (b - a) / std a truncated normal is drawn as :func:`_widened`'s equal law: the uniform
# proposal's offsets std·width·U from a bound become subnormal or 0 in the compute precision below ~2^-102 (float32;
# ~2^-970 float64: N(0, 1e38²) on [-1e-30, 1e-30] stored 0 everywhere, after 10,000 attempts each), and from this
# width down the law's quadratic term (width² / 2) is under 2^-128 (2^-1024), so the two laws are one
_RESOLVED_WIDTH = {np.dtype(np.float32): 2.0**-64, np.dtype(np.float64): 2.0**-512}
_WIDE = 2.0**-40  # _widened's width in std: its own curvature, exp(-_WIDE² u² / 2), is within 2^-81 of 1


def _widened(a: float, b: float, slope: float) -> tuple[float, float, float, float]:
    """(mean, std, alpha, width) of a law equal to N(mean, std²) on [a, b] of a width w = (b - a) / std below
    :data:`_RESOLVED_WIDTH`: with u = (x - a) / (b - a) in [0, 1] its density is exp(-slope u - w² u² / 2)
    (``slope`` = alpha w, alpha = (a - mean) / std), the second term under 2^-128 in float32's case; the law of width
    2^-40 with the same slope differs from it by 2^-81, and its offsets are normal numbers."""
    alpha = slope / _WIDE
    std = (b - a) / _WIDE
    return a - alpha * std, std, alpha, _WIDE


# Under this share of draws reaching the values in [a, b], a truncated-normal fill warns: each element then takes
# 20 attempts or more, ~16 us (one vectorized attempt: ~0.02 us), and at 1e-4 often the 10 000-attempt fallback
_SLOW_REACH = 0.05


def mean_far(mean, std, a, b) -> bool:
    """torch's condition for its ``trunc_normal_`` warning: the mean more than 2 std outside [a, b]."""
    return mean < a - 2 * std or mean > b + 2 * std


def mean_far_said(fn: str) -> str:
    """The warning of :func:`mean_far`."""
    return (f"mean is more than 2 std from [a, b] in {fn}. fastinit samples this law exactly, but nearly all values "
            "will sit next to one bound.")


def sample_trunc_normal(out, target: Target, mean, std, a, b, fn: str, **placement):
    """Validate N(mean, std^2) restricted to [a, b] for ``target`` and fill it."""
    mean = as_real(mean, "mean", fn)
    std = as_real(std, "std", fn)
    given_a, given_b = a, b
    a = as_real(a, "a", fn, finite=False)
    b = as_real(b, "b", fn, finite=False)
    if std <= 0:
        raise ValueError(f"{fn}: std must be > 0, got {std}")
    if math.isnan(a) or math.isnan(b) or not a < b:
        raise ValueError(f"{fn}: need a < b (infinite bounds allowed), got a={a}, b={b}")
    compute = np.dtype(np.float64 if target.code == _cpu.F64 else np.float32)
    for name, v in (("mean", mean), ("std", std)):
        if abs(v) > float(np.finfo(compute).max):
            raise ValueError(f"{fn}: {name}={v} overflows {compute}, the precision of {target.dtype} values' "
                             "computation")
    lo, hi = _representable(_inward(given_a, a, True), _inward(given_b, b, False), target.dtype, fn, closed=True)
    said = [mean_far_said(fn)] if mean_far(mean, std, a, b) else []  # (given once the placement and seed passed)
    lo_e, hi_e = _rounding_edges(lo, hi, target.dtype, compute)
    # the proposal is chosen for the law restricted to the values that round to finite ones: to the rounding
    # edges lo_e, hi_e beyond the largest finite value (a 16-bit type's top value owns the cell up to 65520, not
    # 65504: clipped at 65504, it got half its mass)
    big = finfo_max(target.dtype)
    a_in, b_in = max(a, lo_e) if a < -big else a, min(b, hi_e) if b > big else b
    alpha, beta, width = (a_in - mean) / std, (b_in - mean) / std, (b_in - a_in) / std
    law_mean, law_std = mean, std  # the law's parameters as the kernels are given them
    if width < _RESOLVED_WIDTH[compute]:  # offsets std·width·U would be subnormal or 0 in compute: the same law
        law_mean, law_std, alpha, width = _widened(a_in, b_in, alpha * (b_in - a_in) / std)
        beta = alpha + width
    proposal = _proposal(alpha, beta, width)
    origin = law_mean if proposal["SIGN"] == 0 else a_in if proposal["SIGN"] > 0 else b_in
    span = max(hi - origin, origin - lo)  # how far from the origin a stored value can lie (the step a draw std·z
    # must take to it); beyond the compute dtype's range the step is ±inf, rejected, and that part of the law lost
    # (float32 N(-3e38, 3e38²) on [-3e38, 3e38]: P(X > 0) 0.08 for 0.28).  Farther draws are rejected anyway.
    if span > float(np.finfo(compute).max) and max(hi - law_mean, law_mean - lo) <= float(np.finfo(compute).max):
        # a proposal from a bound whose steps to the other overflow: the normal one, from the mean, reaches all
        # (float32 N(0, 3e38²) on [-3e38, 3e38] had been refused; it accepts P(|Z| <= 1), 0.68)
        proposal, origin = dict(METHOD=NORMAL_PROPOSAL, ALPHA=alpha, BETA=beta, SIGN=0.0), law_mean
        span = max(hi - origin, origin - lo)
    method = proposal["METHOD"]  # the draws' spread around the origin: std z (or |z|), std U[0, width), std Exp(lam)
    scale = law_std * (1.0 if method == NORMAL_PROPOSAL else proposal["BETA"] if method == UNIFORM_PROPOSAL
                       else 1.0 / proposal["LAM"])
    if span > float(np.finfo(compute).max):
        raise ValueError(f"{fn}: values in [a, b] lie up to {span:.4g} from where the draws start ({origin:.6g}), "
                         f"beyond the largest finite {compute} ({float(np.finfo(compute).max):.6g}), where "
                         f"{target.dtype} values are computed"
                         + (": use a float64 target" if compute != np.float64 else ": narrow [a, b] or move mean"))
    # the draws land within ~scale of the origin: slow if it lies far outside the real numbers that the
    # computation rounds into [lo_e, hi_e] (> 0: outside)
    edge_lo, edge_hi = _reach_edges(lo_e, hi_e, compute)
    gap = max(edge_lo - origin, origin - edge_hi)
    drawn = target.size if placement.get("global_shape") is None else math.prod(
        shape_tuple(placement["global_shape"], "global_shape"))  # a writer's check: an empty block of a whole
    # the share of the draws that get past the gap (the normal proposals' tail; an exponential's; a uniform's rest)
    # (none when the spread underflowed to 0: std 1e-200 with the exponential's 1 / lam ~ std / |a - mean|)
    reach = 1.0 if gap <= 0 else 0.0 if scale == 0 else 0.5 * math.erfc(gap / scale / math.sqrt(2.0)) \
        if method == NORMAL_PROPOSAL else math.exp(-gap / scale) if method == EXP_PROPOSAL else \
        max(0.0, 1.0 - gap / scale)
    if drawn and reach < _SLOW_REACH and scale < float(np.spacing(compute.type(abs(origin)))):  # compute's spacing
        said.append(f"{fn}: the draws' spread (~{scale:.3g}) is below {compute}'s resolution at {origin:.6g}, where "
                    f"the values are computed for {target.dtype}: nearly every draw rounds outside [a, b], and each "
                    f"element gets the nearest value after {_cpu.MAX_ATTEMPTS:,} rejected attempts (~0.8 ms an "
                    "element, 0.4 s at least). Use a float64 target.")
    elif drawn and reach < _SLOW_REACH:  # the target's spacing
        said.append(f"{fn}: the {target.dtype} values in [a, b] start {gap / scale:.3g} times the draws' spread "
                    f"(~{scale:.3g}) away from where the draws start ({origin:.6g}): nearly every draw rounds outside "
                    f"[a, b] and is redrawn, up to {_cpu.MAX_ATTEMPTS:,} attempts an element (then the nearest value; "
                    "~0.2-0.8 ms an element). Use a wider std or a finer dtype.")
    v0 = float(compute.type(origin))  # the origin as v0 + what its rounding left out, rounded (float64: 0)
    prm = _params(P0=origin, P0LO=float(compute.type(origin - v0)), P1=law_std, LO=lo_e, HI=hi_e,
                  NEAREST=min(max(mean, lo_e), hi_e), **proposal)
    return _sample(out, target, _cpu.TRUNC, prm, said=said, **placement)


def trunc_normal_(out: T, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, *,
                  seed: Optional[int] = None, stream: Stream = 0, global_shape: Shape = None, offset: Shape = None,
                  dtype: Any = None, generator: Optional[Generator] = None, _chunk: int = _cpu.AUTO_CHUNK) -> T:
    r"""Fill ``out`` with N(mean, std²) restricted to [a, b] (absolute bounds, like torch).

    Exact for every a < b — infinite and one-sided bounds, far tails (a = 37 std), narrow
    intervals, intervals on one side of the mean — by rejection sampling with the proposal that
    accepts most for the standardized interval [α, β] = [(a − mean)/std, (b − mean)/std]: among
    Robert (1995)'s, the normal itself when it contains 0 and is wider than √(2π), a uniform on
    narrow intervals, a translated exponential of rate λ = (α + √(α² + 4))/2 on one-sided tails;
    the folded normal ±|z| on one-sided intervals that start within ~0.257 std of the mean
    (the half-normal [0, ∞) of N(0, std²) is ``|normal_|`` value for value); and the exponential
    from the near bound on intervals that contain the mean with one bound within ~0.35 std of it
    ([−0.001, ∞): acceptance 0.76, where the normal's is 0.50).  A rejected
    element is redrawn from fresh counter-derived bits (attempt r uses the key
    ``Philox((r, 0, 0, 0x7E7A1), key)``), so each value stays a pure function of
    (seed, stream, index, parameters, dtype).

    Acceptance uses the value *after* rounding to the target dtype (and before it): every stored
    value lies in [a, b], and the law of the stored values is N(mean, std²) restricted to [a, b],
    then rounded, P(v) ∝ P(X ∈ cell(v) ∩ [a, b]) (docs/trunc_normal.md) — no pile-up at the bounds
    (bfloat16 at std 0.02, bounds ±0.04 included).  Warns, like torch, when mean is
    more than 2 std outside [a, b].

    References
    ----------
    C. P. Robert, "Simulation of truncated normal variables", Statistics and Computing 5 (1995).
    """
    target = as_target(out, dtype)
    return sample_trunc_normal(out, target, mean, std, a, b, "trunc_normal_", seed=seed, stream=stream,
                               global_shape=global_shape, offset=offset, generator=generator, _chunk=_chunk)


def constant_(out: T, val: float, *, dtype: Any = None) -> T:
    """Fill ``out`` with ``val`` (rounded once to the target dtype; NaN and inf allowed).

    Raises ValueError when a finite ``val`` overflows the dtype.
    """
    return fill_constant(out, val, dtype, "constant_", "val")


def fill_constant(out: T, val: float, dtype: Any, fn: str, name: str, finite: bool = False) -> T:
    """:func:`constant_`'s fill, its refusals of the value naming the function ``fn`` and the argument ``name``
    (``finite``: NaN and inf refused too)."""
    v = as_real(val, name, fn, finite=finite)
    target = as_target(out, dtype)
    once = v if target.dtype.itemsize == 8 else _to_odd(val, v)  # (float64 itself: v, the nearest)
    p0 = _constant_param(once, math.copysign(1.0, v), target.dtype)
    if p0 is None or _overflowed(val, v):  # 10**400 is finite, too
        shown = _shown(val) if math.isinf(v) else v
        raise ValueError(f"{fn}: {name}={shown} overflows {target.dtype} (largest finite "
                         f"{finfo_max(target.dtype):.6g})")
    if target.device == "cpu" and target.size <= _cpu.SERIAL_ELEMENTS:  # a bias, a norm's weight: the same
        target.array.view(target.flat.dtype).fill(p0)  # bytes as the kernel's, without its launch (~15 us)
    elif target.size:
        _launch(target, memory_geometry(target), _cpu.CONSTANT, _params(P0=p0), _NO_WORDS, _NO_WORDS)
    return out


_NO_WORDS = np.zeros(2, np.uint64)  # the key and stream of a constant fill (unused, never written)


@functools.lru_cache(maxsize=1024)
def _constant_param(v: float, _sign: float, dtype: np.dtype) -> float | None:
    """The kernel's P0 for the constant ``v``: the value rounded to ``dtype`` (float32 / float64), or the
    16-bit pattern (float16 / bfloat16); None if a finite ``v`` overflows.  Cached (every bias of a model
    asks for 0.0); the sign keeps -0.0 apart from 0.0."""
    stored = _rounded(v, dtype)
    if math.isfinite(v) and not math.isfinite(stored):
        return None
    if dtype.itemsize == 2:
        return float(np.array(v, np.float64).astype(dtype).view(np.uint16))
    return stored


def zeros_(out: T, *, dtype: Any = None) -> T:
    """Fill ``out`` with zeros."""
    return constant_(out, 0.0, dtype=dtype)


def ones_(out: T, *, dtype: Any = None) -> T:
    """Fill ``out`` with ones."""
    return constant_(out, 1.0, dtype=dtype)
