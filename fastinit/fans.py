"""Layer 5 — fans, layouts and gains: the one place these formulas live.

A weight's *fan-in* is the number of inputs feeding one output unit, its *fan-out* the number of
outputs one input feeds.  For a dense or convolutional kernel

* ``layout="torch"``: shape (out, in, *kernel) — ``nn.Linear.weight``, ``nn.Conv2d.weight``;
* ``layout="keras"``: shape (*kernel, in, out) — Keras/Flax kernels and the textbook NumPy
  ``W`` of shape (n_in, n_out);
* explicit ``in_axis`` / ``out_axis`` (ints or tuples; JAX's ``variance_scaling`` convention):
  every other axis is receptive field,

``fan_in = in_size * receptive_field`` and ``fan_out = out_size * receptive_field``.

References: Glorot & Bengio (2010), He et al. (2015), LeCun et al. (1998); torch.nn.init and
jax.nn.initializers for the exact conventions.
"""
from __future__ import annotations

import functools
import math
import numbers
from typing import Optional, Protocol, Sequence, Tuple, Union

import numpy as np

from ._buffers import NOT_INTS, is_int, shape_tuple

__all__ = ["fans", "fan", "calculate_gain", "LAYOUTS", "MODES"]

LAYOUTS = ("torch", "keras")
MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
Axes = Union[int, Sequence[int], None]


class HasShape(Protocol):
    """Anything with a ``.shape`` (a NumPy, torch, JAX or dask array)."""

    @property
    def shape(self) -> Sequence[int]: ...


_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def _axis_items(value, name: str) -> tuple:
    """An axis or axes given as ``name`` as a tuple of ints, unchecked against a shape; TypeError naming ``name``
    for anything else.  An array of another library (JAX's, torch's) is read as a NumPy one (a traced one cannot be)."""
    try:
        given = np.asarray(value) if hasattr(value, "__array__") and not isinstance(
            value, (int, np.generic, np.ndarray, tuple, list, range)) else value  # (a JAX or torch array)
        items = (given,) if isinstance(given, (int, np.integer, np.bool_)) else tuple(given)
        if isinstance(value, str) or not all(map(is_int, items)):
            raise TypeError
    except (TypeError, ValueError, RuntimeError):  # (np.asarray of a tensor that requires grad: RuntimeError)
        raise TypeError(f"{name} must be an int or a tuple of ints, got {value!r}") from None
    return items


def _axes(value, ndim: int, name: str) -> tuple[int, ...]:
    items = _axis_items(value, name)
    out = []
    for a in items:
        if not -ndim <= a < ndim:
            raise ValueError(f"{name}={value!r} is not a valid axis for a {ndim}-D shape")
        out.append(int(a) % ndim)
    if len(set(out)) < len(out):
        raise ValueError(f"{name}={value!r} names an axis twice (for a {ndim}-D shape)")
    return tuple(out)


def fans(shape: Union[Sequence[int], HasShape], layout: str = "torch", *, in_axis: Axes = None,
         out_axis: Axes = None) -> Tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape`` (a tuple, or anything with ``.shape``).  An axis not given
    is the layout's: keras's are JAX's defaults (-2, -1), which may share an axis with the one given, as in JAX
    (Flax's ``nn.Embed``: ``out_axis=0``); torch's (1, 0) may not (``fans((784, 256), in_axis=0)`` is refused:
    pass both axes).

    >>> fans((64, 3, 7, 7))                   # torch Conv2d(3, 64, 7): in 3, out 64, field 49
    (147, 3136)
    >>> fans((7, 7, 3, 64), layout="keras")   # the same kernel, Keras layout
    (147, 3136)
    >>> fans((784, 256), layout="keras")      # the textbook W of shape (n_in, n_out)
    (784, 256)
    """
    if isinstance(shape, (int, np.integer)) and isinstance(layout, (int, np.integer)):  # fans(784, 256)
        raise TypeError(f"fans takes one shape: fans(({shape}, {layout})), not fans({shape}, {layout}) (the second "
                        f"argument is the layout, 'torch' or 'keras')")
    shape = shape_tuple(getattr(shape, "shape", shape))
    if in_axis is None and out_axis is None and layout in LAYOUTS:
        return _layout_fans(shape, layout)
    return _fans(shape, layout, in_axis, out_axis)


@functools.lru_cache(maxsize=1024)
def _layout_fans(shape: tuple[int, ...], layout: str) -> Tuple[int, int]:
    """:func:`fans` of a layout's default axes, cached (a model repeats a few shapes many times)."""
    return _fans(shape, layout, None, None)


def _fans(shape: tuple[int, ...], layout: str, in_axis: Axes, out_axis: Axes) -> Tuple[int, int]:
    """fan_in = in_size · field, fan_out = out_size · field, field = numel / (in_size · out_size).  With explicit
    axes this is JAX's ``_compute_fans``: any rank >= 1, and in and out axes may share an axis (Flax's ``nn.Embed``
    uses ``out_axis=0`` with ``in_axis=-2`` on a (vocab, features) table: fan_in = features), where the field is
    fractional and fan_in = numel / out_size, fan_out = numel / in_size, still integers."""
    ndim = len(shape)
    explicit = in_axis is not None or out_axis is not None
    if explicit:  # each as a tuple, once: an iterator (iter([0])) read twice had given its second reader nothing
        in_axis, out_axis = (None if a is None else a if isinstance(a, (int, np.integer)) else _axis_items(a, n)
                             for n, a in (("in_axis", in_axis), ("out_axis", out_axis)))
    no_axes = ndim == 0 and in_axis == () and out_axis == ()  # (JAX's 0-d shape with in_axis=() and out_axis=())
    if ndim < (1 if explicit else 2) and not no_axes:  # torch's text; with explicit axes (JAX's rule) 1-D has fans
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than "
                         f"{'1 dimension (a 0-d shape)' if explicit else '2 dimensions'}")
    check_axes(shape, layout, None, None)  # the layout (the axes are checked below, with their defaults)
    if in_axis is None and ndim < 2:  # the default input axis (torch: 1, keras: -2) is not there; no wrapping
        raise ValueError(f"a {ndim}-D shape {shape} has no default input axis in the {layout!r} layout: pass in_axis")
    default_in, default_out = (1, 0) if layout == "torch" else (ndim - 2, ndim - 1)
    ins = _axes(default_in if in_axis is None else in_axis, ndim, "in_axis")
    outs = _axes(default_out if out_axis is None else out_axis, ndim, "out_axis")
    in_size, out_size = math.prod(shape[d] for d in ins), math.prod(shape[d] for d in outs)
    if set(ins) & set(outs) and layout == "torch" and (in_axis is None or out_axis is None):
        # the torch layout's (out, in) default against an axis the caller named (keras's are JAX's: shared, as JAX)
        given, other = ("in_axis", "out_axis") if out_axis is None else ("out_axis", "in_axis")
        raise ValueError(f"{given}={in_axis if out_axis is None else out_axis!r} overlaps the 'torch' layout's "
                         f"default {other}={default_out if out_axis is None else default_in} for shape {shape}; "
                         f"pass {other} too (in and out axes may share an axis when both are given)")
    if set(ins) & set(outs):
        numel = math.prod(shape)
        return (numel // out_size if out_size else 0), (numel // in_size if in_size else 0)
    field = math.prod(s for d, s in enumerate(shape) if d not in ins and d not in outs)
    return in_size * field, out_size * field


def check_layout(layout: str, fn: str = "") -> None:
    """A ValueError naming ``layout`` (and the function ``fn``) unless it is one of :data:`LAYOUTS`."""
    if layout not in LAYOUTS:
        raise ValueError(f"{fn}: " * bool(fn) + f"layout must be one of {LAYOUTS}, got {layout!r}")


def check_axes(shape: tuple[int, ...], layout: str, in_axis: Axes, out_axis: Axes) -> None:
    """``layout`` and any explicit axes checked for ``shape``, without the fans (torch's kaiming_* on an empty
    tensor computes none)."""
    check_layout(layout)
    for name, axes in (("in_axis", in_axis), ("out_axis", out_axis)):
        if axes is not None:
            _axes(axes, len(shape), name)


def fan(fan_in: int, fan_out: int, mode: str, modes: Sequence[str] = MODES) -> float:
    """The fan a ``mode`` selects: fan_in, fan_out, (fan_in + fan_out) / 2 or sqrt(fan_in * fan_out)."""
    if isinstance(mode, str):
        mode = mode.lower()  # (first, as torch: its message names the lowered mode)
    if mode not in modes:
        also = f" ({mode}: variance_scaling_)" if mode in MODES else ""  # kaiming_*'s fan_avg / fan_geo_avg
        raise ValueError(f"Mode {mode} not supported, please use one of {list(modes)}{also}")
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    if mode == "fan_avg":
        return (fan_in + fan_out) / 2
    return math.sqrt(fan_in * fan_out)


def python_number(value):
    """A number given as a NumPy scalar, a 0-d NumPy array, a ``fractions.Fraction`` or another ``numbers.Real`` as
    the Python int or float :func:`calculate_gain` takes (torch's takes only those); anything else (bool included)
    as given, for its checks."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]
    if isinstance(value, NOT_INTS):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(value) if isinstance(value, (numbers.Real, np.floating)) else value


def calculate_gain(nonlinearity: str, param: Optional[float] = None) -> float:
    r"""The recommended gain for a nonlinearity — torch.nn.init.calculate_gain's values and errors, but for a
    leaky slope whose square overflows float64 (|slope| > ~1.3e154): gain 0 (its limit) where torch raises
    OverflowError.

    ================= ======================================
    nonlinearity      gain
    ================= ======================================
    linear, conv*     1
    sigmoid           1
    tanh              5/3
    relu              :math:`\sqrt{2}`
    leaky_relu        :math:`\sqrt{2 / (1 + \text{slope}^2)}` (slope = param, default 0.01)
    selu              3/4
    ================= ======================================

    >>> calculate_gain("leaky_relu", 0.2)
    1.3867504905630728
    """
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, int):
            # torch's 1 + slope**2 in exact int arithmetic, rounded once; beyond float64 (torch: OverflowError): 0
            try:
                return math.sqrt(2.0 / (1 + param * param)) if abs(param) < 2**600 else 0.0
            except OverflowError:
                return 0.0
        elif isinstance(param, float):
            slope = param
        else:  # torch's text, then what was meant (kaiming's mode or nonlinearity given in a's place)
            hint = "; kaiming's a (the slope) comes before mode and nonlinearity: pass those by keyword" if \
                isinstance(param, str) else ""
            raise ValueError(f"negative_slope {param} not a valid number (an int or a float){hint}")
        try:  # torch's slope**2: libm's pow, which is not always slope * slope (0.5102: an ulp apart)
            square = slope**2
        except OverflowError:  # (torch raises it; the limit)
            return 0.0
        return math.sqrt(2.0 / (1 + square))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}; supported: {', '.join(_LINEAR)}, sigmoid, tanh, relu, "
                     "leaky_relu, selu (fastinit.recommend also knows gelu, silu / swish, elu and others)")
