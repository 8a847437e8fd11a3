"""Layer 6 — allocating twins: new NumPy arrays, the textbook way.

Each ``X(*shape, ...)`` allocates and fills with ``X_``; shapes are positional ints or one tuple (a list, range
or 1-d integer array too), ``dtype='float32'``, ``order='C'`` (``'F'``: columns contiguous, the same values) and
``layout='keras'`` by default, so a weight of shape (n_in, n_out) has fan_in = n_in:

>>> import fastinit
>>> W = fastinit.glorot_uniform(784, 256, seed=0)     # limit sqrt(6 / (784 + 256))
>>> W.shape, W.dtype
((784, 256), dtype('float32'))

``glorot_*`` are ``xavier_*``, ``he_*`` are ``kaiming_*`` (defaults: ReLU gain sqrt(2), fan_in).
"""
from __future__ import annotations

import functools
import inspect
import re
from typing import Any, Optional

import numpy as np

from . import init, scaled, structured
from . import sparsity as sparsity_
from ._buffers import resolve_dtype, shape_tuple
from ._warnings import warn

__all__ = [
    "uniform", "normal", "trunc_normal", "constant", "zeros", "ones", "xavier_uniform", "xavier_normal",
    "kaiming_uniform", "kaiming_normal", "lecun_uniform", "lecun_normal", "fan_in_uniform", "variance_scaling",
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "orthogonal", "delta_orthogonal", "eye", "dirac",
    "sparse", "martens_sparse",
]


def parse_shape(shape: tuple) -> tuple[int, ...]:
    """A shape given as positional ints, or as one tuple, list, range or 1-d integer array (as ``np.empty`` takes
    ``np.array([4, 5])``), validated (:func:`~fastinit._buffers.shape_tuple`)."""
    one = len(shape) == 1 and (isinstance(shape[0], (tuple, list, range)) or getattr(shape[0], "ndim", None) == 1)
    return shape_tuple(shape[0] if one else shape)


PASSED_ON = """

    Other keywords go to the in-place initializer: ``seed=``, ``stream=``, ``generator=``, ``global_shape=`` /
    ``offset=``, and where fans matter ``in_axis=`` / ``out_axis=``."""


def _named(twin, name: str = "", module: str = "fastinit", passed_on: str = PASSED_ON, passes: str = "seed=, ..."):
    """``twin`` under ``name`` (default its own): an unknown keyword (``rng=``, ``low=``) is refused naming the
    function called, not the in-place one it reached (``xavier_uniform_() got an unexpected keyword argument``);
    where it has a ``**kw``, its docstring says what that takes (``passed_on``), and a misplaced parameter's refusal
    names ``passes`` after its own keywords.  ``module``: where the twin lives (``fastinit.dask``'s twins use it
    too)."""
    name = name or twin.__name__
    params = inspect.signature(twin).parameters.values()
    passing = any(p.kind is p.VAR_KEYWORD for p in params)
    keywords = ", ".join([f"{p.name}=" for p in params if p.kind is p.KEYWORD_ONLY] + [passes] * passing)

    @functools.wraps(twin)
    def called(*shape, **kw):
        _separate_sizes(shape, f"{module}.{name}", keywords, name not in _NO_NUMBERS)
        try:
            return twin(*shape, **kw)
        except (TypeError, ValueError, MemoryError) as e:  # (Python 3.13 adds ". Did you mean 'seed'?")
            # a keyword the in-place function or from_initializer takes by position or sets itself (out=, shape=,
            # sampled=) is one the twin does not take either
            unknown = re.fullmatch(r"[\w.]+\(\) got (?:an unexpected keyword |multiple values for (?:keyword )?)"
                                   r"argument ('\w+'.*)", str(e), re.S)
            if unknown is not None and type(e) is TypeError:
                raise TypeError(f"{name}() got an unexpected keyword argument {unknown.group(1)} (see "
                                f"help({module}.{name}))") from None
            if type(e) not in (TypeError, ValueError, MemoryError) or str(e).startswith(f"{name}: "):
                raise
            inplace = re.match(r"\w+_: ", str(e))  # "kaiming_normal_: layout must be ...": said of he_normal,
            # and a message naming no function ("Fan in and fan out can not be computed ...", torch's) too
            raise type(e)(f"{name}: {str(e)[inplace.end() if inplace else 0:]}") from e.__cause__

    called.__name__ = called.__qualname__ = name
    if passing:
        called.__doc__ = (twin.__doc__ or "") + passed_on
    return called


_NO_NUMBERS = {"zeros", "ones", "eye"}  # twins with no number to pass by mistake among the sizes (np.eye(3, 0))


def _separate_sizes(shape: tuple, fn: str, keywords: str, numbers: bool = True) -> None:
    """A parameter passed by position among separate sizes: NumPy's ``normal(0, 1)`` habit made
    ``normal(1000, 0, 1)`` an empty (1000, 0, 1) array silently.  A dtype or a float is refused, naming the keywords;
    a 0 among separate sizes warns where the twin has ``numbers`` (parameters), so not for zeros / ones / eye (one
    tuple, ``normal((1000, 0))``, makes an empty array without a word).  A whole number
    (``variance_scaling(784, 256, 2)``, a 3-D kernel) cannot be told from a size."""
    if len(shape) < 2:
        return
    keywords = f"its parameters ({keywords}) are keywords"
    if any(isinstance(v, (type, np.dtype, str, float, np.floating)) for v in shape):
        raise TypeError(f"shape must be a tuple of ints, got {shape!r}: {fn} takes the sizes by position, and "
                        f"{keywords}")
    if numbers and any(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v == 0 for v in shape):
        warn(f"{fn}{shape!r} makes an empty array: a size of 0 among separate sizes; {keywords}.  Pass the shape as "
             f"one tuple, {fn}({shape!r}), for an empty array without this warning")


def _order(order: Optional[str]) -> str:
    """A new array's memory order, as NumPy's ``np.empty`` takes it: 'C' (rows contiguous; None too) or 'F'
    (columns), either case, anything else refused as NumPy refuses it (a TypeError where not a str); the values do
    not depend on it (each is a function of its index)."""
    if order is None:
        return "C"
    if not isinstance(order, str):
        raise TypeError(f"order must be 'C' or 'F' (a str), got {type(order).__name__} {order!r}")
    if order.upper() not in ("C", "F"):
        raise ValueError(f"order must be 'C' or 'F', got {order!r}")
    return order.upper()


def _new(shape, dtype, order: str, make=np.empty) -> np.ndarray:
    shape, dtype = parse_shape(shape), resolve_dtype(dtype)  # (checked in np.empty's order)
    return make(shape, dtype, _order(order))


@_named
def uniform(*shape, a: float = 0.0, b: float = 1.0, dtype: Any = "float32", order: str = "C", **kw) -> np.ndarray:
    """New array of U[a, b) samples (see :func:`fastinit.uniform_`)."""
    return init.uniform_(_new(shape, dtype, order), a, b, **kw)


@_named
def normal(*shape, mean: float = 0.0, std: float = 1.0, dtype: Any = "float32", order: str = "C", **kw) -> np.ndarray:
    """New array of N(mean, std²) samples (see :func:`fastinit.normal_`)."""
    return init.normal_(_new(shape, dtype, order), mean, std, **kw)


@_named
def trunc_normal(*shape, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                 dtype: Any = "float32", order: str = "C", **kw) -> np.ndarray:
    """New array of N(mean, std²) restricted to [a, b] (see :func:`fastinit.trunc_normal_`).  ``a`` and ``b`` are
    absolute bounds, as torch's: ``trunc_normal(784, 256, std=0.02)`` keeps [-2, 2], 100 std, so is all but a plain
    normal; cut at 2 std with ``a=-0.04, b=0.04`` (or :func:`variance_scaling`'s ``"truncated_normal"``)."""
    return init.trunc_normal_(_new(shape, dtype, order), mean, std, a, b, **kw)


@_named
def constant(*shape, val: float, dtype: Any = "float32", order: str = "C") -> np.ndarray:
    """New array filled with ``val``."""
    return init.constant_(_new(shape, dtype, order), val)


@_named
def zeros(*shape, dtype: Any = "float32", order: str = "C") -> np.ndarray:
    """New array of zeros (the usual bias init): ``np.zeros``, whose pages the OS gives zeroed when first touched
    (a fill would touch them all now: 10⁷ float32 in 2.5 ms instead of 10 µs)."""
    return _new(shape, dtype, order, np.zeros)


@_named
def ones(*shape, dtype: Any = "float32", order: str = "C") -> np.ndarray:
    """New array of ones (e.g. a normalization layer's scale)."""
    return init.ones_(_new(shape, dtype, order))


@_named
def xavier_uniform(*shape, gain: float = 1.0,
                   dtype: Any = "float32", order: str = "C", layout: str = "keras", **kw) -> np.ndarray:
    """New Glorot/Xavier-uniform array: limit gain * sqrt(6 / (fan_in + fan_out))."""
    return scaled.xavier_uniform_(_new(shape, dtype, order), gain, layout=layout, **kw)


@_named
def xavier_normal(*shape, gain: float = 1.0,
                  dtype: Any = "float32", order: str = "C", layout: str = "keras", **kw) -> np.ndarray:
    """New Glorot/Xavier-normal array: std gain * sqrt(2 / (fan_in + fan_out))."""
    return scaled.xavier_normal_(_new(shape, dtype, order), gain, layout=layout, **kw)


@_named
def kaiming_uniform(*shape, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    dtype: Any = "float32", order: str = "C", layout: str = "keras", **kw) -> np.ndarray:
    """New He/Kaiming-uniform array: limit gain * sqrt(3 / fan), sqrt(6 / fan_in) for ReLU."""
    return scaled.kaiming_uniform_(_new(shape, dtype, order), a, mode, nonlinearity, layout=layout, **kw)


@_named
def kaiming_normal(*shape, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                   dtype: Any = "float32", order: str = "C", layout: str = "keras", **kw) -> np.ndarray:
    """New He/Kaiming-normal array: std gain / sqrt(fan), sqrt(2 / fan_in) for ReLU."""
    return scaled.kaiming_normal_(_new(shape, dtype, order), a, mode, nonlinearity, layout=layout, **kw)


@_named
def lecun_uniform(*shape, dtype: Any = "float32", order: str = "C", layout: str = "keras", **kw) -> np.ndarray:
    """New LeCun-uniform array: limit sqrt(3 / fan_in)."""
    return scaled.lecun_uniform_(_new(shape, dtype, order), layout=layout, **kw)


@_named
def lecun_normal(*shape, dtype: Any = "float32", order: str = "C", layout: str = "keras", **kw) -> np.ndarray:
    """New LeCun-normal array: std sqrt(1 / fan_in) (SELU networks)."""
    return scaled.lecun_normal_(_new(shape, dtype, order), layout=layout, **kw)


@_named
def fan_in_uniform(*shape, dtype: Any = "float32", order: str = "C", layout: str = "keras", **kw) -> np.ndarray:
    """New array of the classic U(±1/sqrt(fan_in))."""
    return scaled.fan_in_uniform_(_new(shape, dtype, order), layout=layout, **kw)


@_named
def variance_scaling(*shape, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                     dtype: Any = "float32", order: str = "C", layout: str = "keras", **kw) -> np.ndarray:
    """New variance-scaled array (JAX / Keras semantics, see :func:`fastinit.variance_scaling_`)."""
    return scaled.variance_scaling_(_new(shape, dtype, order), scale, mode, distribution, layout=layout, **kw)


@_named
def orthogonal(*shape, gain: float = 1.0,
               dtype: Any = "float32", order: str = "C", layout: str = "keras", **kw) -> np.ndarray:
    """New Haar-random (semi-)orthogonal array times ``gain`` (recurrent weights)."""
    return structured.orthogonal_(_new(shape, dtype, order), gain, layout=layout, **kw)


@_named
def delta_orthogonal(*shape, gain: float = 1.0,
                     dtype: Any = "float32", order: str = "C", layout: str = "keras", **kw) -> np.ndarray:
    """New delta-orthogonal conv kernel (*k, in, out) (see :func:`fastinit.delta_orthogonal_`)."""
    return structured.delta_orthogonal_(_new(shape, dtype, order), gain, layout=layout, **kw)


@_named
def sparse(*shape, sparsity: float, std: float = 0.01, dtype: Any = "float32", order: str = "C", **kw) -> np.ndarray:
    """New 2-D array with ceil(sparsity * rows) zeros per column, other entries N(0, std²) (which may be 0 too:
    ~2e-7 of float32 draws)."""
    return sparsity_.sparse_(_new(shape, dtype, order), sparsity, std, **kw)


@_named
def martens_sparse(*shape, k: int = 15, std: float = 1.0,
                   dtype: Any = "float32", order: str = "C", layout: str = "keras", **kw) -> np.ndarray:
    """New 2-D array, (n_in, n_out): exactly ``k`` N(0, std²) weights drawn per column (unit), zeros elsewhere,
    Martens (2010) (``layout="torch"``: (out, in), per row; a drawn value is exactly 0 for ~2e-7 of float32 ones)."""
    return sparsity_.martens_sparse_(_new(shape, dtype, order), k, std, layout=layout, **kw)


@_named
def eye(*shape, dtype: Any = "float32", order: str = "C") -> np.ndarray:
    """New 2-D identity: ``eye(n)`` is n × n (as ``np.eye(n)``), ``eye(n, m)`` n × m."""
    shape = parse_shape(shape)
    return structured.eye_(_new(shape * 2 if len(shape) == 1 else shape, dtype, order))


@_named
def dirac(*shape, groups: int = 1, dtype: Any = "float32", order: str = "C") -> np.ndarray:
    """New 3-, 4- or 5-D conv kernel holding the Dirac delta, in :func:`fastinit.dirac_`'s (out, in, *k) layout."""
    return structured.dirac_(_new(shape, dtype, order), groups)


glorot_uniform = _named(xavier_uniform.__wrapped__, "glorot_uniform")
glorot_normal = _named(xavier_normal.__wrapped__, "glorot_normal")
he_uniform = _named(kaiming_uniform.__wrapped__, "he_uniform")
he_normal = _named(kaiming_normal.__wrapped__, "he_normal")
