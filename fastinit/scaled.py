"""Layer 5 — fan-scaled initializers: Xavier/Glorot, Kaiming/He, LeCun, variance scaling.

One rule behind all of them (variance scaling): draw W with Var(W) = scale / fan, from a uniform
(bound sqrt(3 Var)), a normal (std sqrt(Var)) or a truncated normal.  torch's names
(``xavier_*``, ``kaiming_*``) keep torch's signatures, defaults, errors and warnings; the rest
follow JAX / Keras.  Fans come from ``global_shape`` when given (a shard is scaled like the whole
tensor), else from ``out``'s shape, in the chosen ``layout`` (see :mod:`fastinit.fans`).

Keywords of every function here: ``layout`` says which axes hold in and out — ``'torch'`` (the default):
(out, in, *kernel); ``'keras'``: (*kernel, in, out); ``in_axis`` / ``out_axis`` (an int or a tuple of ints)
name them instead, an axis not given being the layout's (:func:`fastinit.fans`); every other axis is receptive
field.  ``seed``, ``stream``, ``global_shape``, ``offset``, ``dtype`` and ``generator`` are as in
:func:`fastinit.uniform_`.

References: X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
neural networks", AISTATS 2010.  K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers",
ICCV 2015.  Y. LeCun, L. Bottou, G. Orr, K.-R. Müller, "Efficient BackProp", 1998.
G. Klambauer et al., "Self-normalizing neural networks", NeurIPS 2017 (LeCun normal for SELU).
"""
from __future__ import annotations

import math
from typing import Any, Optional, TypeVar

import numpy as np

from . import fans as _fans
from ._buffers import as_target, finfo_max, geometry
from ._seed import Generator
from ._transforms import NORMAL_MAX_F32, NORMAL_MAX_F64
from ._warnings import warn
from .fans import Axes
from .init import Shape, Stream, as_real, check_placement, sample_normal, sample_trunc_normal, sample_uniform

__all__ = [
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "lecun_uniform_",
    "lecun_normal_", "fan_in_uniform_", "variance_scaling_", "TRUNC_STD_CORRECTION",
]

T = TypeVar("T")

# std of N(0, 1) truncated to [-2, 2]: dividing by it restores the requested variance (JAX, Keras)
TRUNC_STD_CORRECTION = 0.87962566103423978


def _fill(out, target, fn: str, distribution: str, std: float, placement: dict):
    """Draw zero-mean values of standard deviation ``std`` from ``distribution``."""
    if distribution == "uniform":
        bound = math.sqrt(3.0) * std
        if bound == 0.0:
            return sample_normal(out, target, 0.0, 0.0, fn, **placement)  # gain 0: all zeros
        return sample_uniform(out, target, -bound, bound, fn, **placement)
    if distribution == "normal":
        return sample_normal(out, target, 0.0, std, fn, **placement)
    s = std / TRUNC_STD_CORRECTION
    if s == 0.0:
        return sample_normal(out, target, 0.0, 0.0, fn, **placement)  # variance 0: all zeros
    return sample_trunc_normal(out, target, 0.0, s, -2.0 * s, 2.0 * s, fn, **placement)


def scheme(out, fn: str, distribution: str, std_of_fans, *, dtype, layout, in_axis, out_axis,
            warn_empty: bool, knob: str = "gain", **placement):
    """Validate target and fans, compute the std from (fan_in, fan_out), fill."""
    _fans.check_layout(layout, fn)
    target = as_target(out, dtype)
    shape = geometry(target, placement.get("global_shape"), placement.get("offset")).global_shape
    if 0 in tuple(shape):  # nothing to fill (and a zero fan would divide by zero): the arguments are checked
        check_placement(target, **placement)
        if warn_empty:  # kaiming_*, like torch: a warning and no fan check (fastinit's own layout and axes checked)
            _fans.check_axes(shape, layout, in_axis, out_axis)
            warn("Initializing zero-element tensors is a no-op")
        else:
            _fans.fans(shape, layout, in_axis=in_axis, out_axis=out_axis)
        return out
    fan_in, fan_out = _fans.fans(shape, layout, in_axis=in_axis, out_axis=out_axis)
    std = std_of_fans(fan_in, fan_out)  # checked for an empty block of a non-empty tensor too
    # the largest |value| must be finite in the target dtype, and uniform's width b - a in the compute precision
    # (float32 for 16-bit targets): uniform_'s own limits, refused here where the argument to blame is known
    wide = target.dtype.itemsize == 8
    reach = std * {"uniform": math.sqrt(3.0), "truncated_normal": 2.0 / TRUNC_STD_CORRECTION}.get(
        distribution, NORMAL_MAX_F64 if wide else NORMAL_MAX_F32)
    width = 2.0 * reach if distribution == "uniform" else 0.0
    if reach > finfo_max(target.dtype) or width > finfo_max(np.dtype(np.float64 if wide else np.float32)):
        raise ValueError(f"{fn}: {knob} gives std {std:.4g} for fans ({fan_in}, {fan_out}), beyond what "
                         f"{target.dtype} holds (values up to {reach:.4g}{f', range {width:.4g}' if width else ''}); "
                         f"use a wider dtype or a smaller {knob}")
    if target.size == 0:  # an empty block of a non-empty tensor: its seed, stream and placement checked too
        check_placement(target, **placement)
        return out
    return _fill(out, target, fn, distribution, std, placement)


def _gain(gain, fn: str) -> float:
    g = as_real(gain, "gain", fn)  # TypeError for a non-number, ValueError for nan / inf
    if g < 0:
        raise ValueError(f"{fn}: gain must be a finite number >= 0, got {gain!r}")
    return g


def xavier_uniform_(out: T, gain: float = 1.0, *, seed: Optional[int] = None, stream: Stream = 0,
                    global_shape: Shape = None, offset: Shape = None, layout: str = "torch", in_axis: Axes = None,
                    out_axis: Axes = None, dtype: Any = None, generator: Optional[Generator] = None) -> T:
    r"""Glorot/Xavier uniform: :math:`\mathcal{U}(-b, b)`,
    :math:`b = \text{gain}\sqrt{6/(\text{fan\_in}+\text{fan\_out})}`.

    Glorot & Bengio (2010), eq. 16; torch.nn.init.xavier_uniform_.

    Keywords: ``layout`` / ``in_axis`` / ``out_axis`` choose the fan axes, the others are as in
    :func:`fastinit.uniform_` (:mod:`fastinit.scaled`).
    """
    fn = "xavier_uniform_"
    g = _gain(gain, fn)
    return scheme(out, fn, "uniform", lambda fi, fo: g * math.sqrt(2.0 / (fi + fo)), dtype=dtype, layout=layout,
                   in_axis=in_axis, out_axis=out_axis, warn_empty=False, seed=seed, stream=stream,
                   global_shape=global_shape, offset=offset, generator=generator)


def xavier_normal_(out: T, gain: float = 1.0, *, seed: Optional[int] = None, stream: Stream = 0,
                   global_shape: Shape = None, offset: Shape = None, layout: str = "torch", in_axis: Axes = None,
                   out_axis: Axes = None, dtype: Any = None, generator: Optional[Generator] = None) -> T:
    r"""Glorot/Xavier normal: :math:`\mathcal{N}(0, \sigma^2)`,
    :math:`\sigma = \text{gain}\sqrt{2/(\text{fan\_in}+\text{fan\_out})}`.

    Keywords: ``layout`` / ``in_axis`` / ``out_axis`` choose the fan axes, the others are as in
    :func:`fastinit.uniform_` (:mod:`fastinit.scaled`).
    """
    fn = "xavier_normal_"
    g = _gain(gain, fn)
    return scheme(out, fn, "normal", lambda fi, fo: g * math.sqrt(2.0 / (fi + fo)), dtype=dtype, layout=layout,
                   in_axis=in_axis, out_axis=out_axis, warn_empty=False, seed=seed, stream=stream,
                   global_shape=global_shape, offset=offset, generator=generator)


def _kaiming(out, fn, distribution, a, mode, nonlinearity, layout, in_axis, out_axis, dtype, **placement):
    _fans.fan(1, 1, mode, ("fan_in", "fan_out"))  # mode checked as gain is, on an empty target too
    gain = _fans.calculate_gain(nonlinearity, _fans.python_number(a))  # a=np.float32(0.2) too, as gain= takes it
    if not math.isfinite(gain):  # a = nan (torch would fill NaN; a = ±inf is gain 0, zeros, as in torch)
        raise ValueError(f"{fn}: a (the negative slope) must be finite, got {a!r}")
    return scheme(out, fn, distribution,
                   lambda fi, fo: gain / math.sqrt(_fans.fan(fi, fo, mode, ("fan_in", "fan_out"))),
                   dtype=dtype, layout=layout, in_axis=in_axis, out_axis=out_axis, warn_empty=True, **placement)


def kaiming_uniform_(out: T, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", *,
                     seed: Optional[int] = None, stream: Stream = 0, global_shape: Shape = None,
                     offset: Shape = None, layout: str = "torch", in_axis: Axes = None, out_axis: Axes = None,
                     dtype: Any = None, generator: Optional[Generator] = None) -> T:
    r"""Kaiming/He uniform: :math:`\mathcal{U}(-b, b)`, :math:`b = \text{gain}\sqrt{3/\text{fan\_mode}}`.

    gain = ``calculate_gain(nonlinearity, a)``; ``a`` is the leaky-ReLU negative slope.  With the
    defaults (a=0, leaky_relu) gain = sqrt(2): He et al. (2015).  ``kaiming_uniform_(w, a=sqrt(5))``
    is torch's nn.Linear / nn.Conv default (bound 1/sqrt(fan_in)); see :func:`fan_in_uniform_`.
    Zero-element targets: torch's warning and no fill (``a``, ``mode`` and ``nonlinearity`` are still checked;
    fastinit.torch checks only its seed and placement, as torch warns only).

    Keywords: ``layout`` / ``in_axis`` / ``out_axis`` choose the fan axes, the others are as in
    :func:`fastinit.uniform_` (:mod:`fastinit.scaled`).
    """
    return _kaiming(out, "kaiming_uniform_", "uniform", a, mode, nonlinearity, layout, in_axis, out_axis, dtype,
                    seed=seed, stream=stream, global_shape=global_shape, offset=offset, generator=generator)


def kaiming_normal_(out: T, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", *,
                    seed: Optional[int] = None, stream: Stream = 0, global_shape: Shape = None,
                    offset: Shape = None, layout: str = "torch", in_axis: Axes = None, out_axis: Axes = None,
                    dtype: Any = None, generator: Optional[Generator] = None) -> T:
    r"""Kaiming/He normal: :math:`\mathcal{N}(0, \sigma^2)`, :math:`\sigma = \text{gain}/\sqrt{\text{fan\_mode}}`.

    Keywords: ``layout`` / ``in_axis`` / ``out_axis`` choose the fan axes, the others are as in
    :func:`fastinit.uniform_` (:mod:`fastinit.scaled`).
    """
    return _kaiming(out, "kaiming_normal_", "normal", a, mode, nonlinearity, layout, in_axis, out_axis, dtype,
                    seed=seed, stream=stream, global_shape=global_shape, offset=offset, generator=generator)


def lecun_uniform_(out: T, *, seed: Optional[int] = None, stream: Stream = 0, global_shape: Shape = None,
                   offset: Shape = None, layout: str = "torch", in_axis: Axes = None, out_axis: Axes = None,
                   dtype: Any = None, generator: Optional[Generator] = None) -> T:
    r"""LeCun uniform: :math:`\mathcal{U}(-b, b)`, :math:`b = \sqrt{3/\text{fan\_in}}` (Var = 1/fan_in).

    Keywords: ``layout`` / ``in_axis`` / ``out_axis`` choose the fan axes, the others are as in
    :func:`fastinit.uniform_` (:mod:`fastinit.scaled`).
    """
    return scheme(out, "lecun_uniform_", "uniform", lambda fi, fo: math.sqrt(1.0 / fi), dtype=dtype,
                   layout=layout, in_axis=in_axis, out_axis=out_axis, warn_empty=False, seed=seed, stream=stream,
                   global_shape=global_shape, offset=offset, generator=generator)


def lecun_normal_(out: T, *, seed: Optional[int] = None, stream: Stream = 0, global_shape: Shape = None,
                  offset: Shape = None, layout: str = "torch", in_axis: Axes = None, out_axis: Axes = None,
                  dtype: Any = None, generator: Optional[Generator] = None) -> T:
    r"""LeCun normal: :math:`\mathcal{N}(0, 1/\text{fan\_in})` — the init SELU networks need.

    A plain normal, as in the textbooks and Klambauer et al. (2017); JAX's and Keras'
    ``lecun_normal`` use a truncated normal of the same variance:
    ``variance_scaling_(w, 1.0, "fan_in", "truncated_normal")``.

    Keywords: ``layout`` / ``in_axis`` / ``out_axis`` choose the fan axes, the others are as in
    :func:`fastinit.uniform_` (:mod:`fastinit.scaled`).
    """
    return scheme(out, "lecun_normal_", "normal", lambda fi, fo: math.sqrt(1.0 / fi), dtype=dtype,
                   layout=layout, in_axis=in_axis, out_axis=out_axis, warn_empty=False, seed=seed, stream=stream,
                   global_shape=global_shape, offset=offset, generator=generator)


_GAIN_A5 = _fans.calculate_gain("leaky_relu", math.sqrt(5.0))  # sqrt(1/3), as torch computes it for nn.Linear


def fan_in_uniform_(out: T, *, seed: Optional[int] = None, stream: Stream = 0, global_shape: Shape = None,
                    offset: Shape = None, layout: str = "torch", in_axis: Axes = None, out_axis: Axes = None,
                    dtype: Any = None, generator: Optional[Generator] = None) -> T:
    r"""The classic :math:`\mathcal{U}(-1/\sqrt{\text{fan\_in}}, 1/\sqrt{\text{fan\_in}})`.

    LeCun et al. (1998)'s heuristic, and what torch's nn.Linear / nn.Conv*d weights get by default
    (``kaiming_uniform_(w, a=sqrt(5))``, whose arithmetic it shares: the same bits).  Their biases get the
    same bound with the *weight's* fan_in: ``uniform_(b, -k, k)``, ``k = 1 / sqrt(fans(w)[0])``.

    Keywords: ``layout`` / ``in_axis`` / ``out_axis`` choose the fan axes, the others are as in
    :func:`fastinit.uniform_` (:mod:`fastinit.scaled`).
    """
    return scheme(out, "fan_in_uniform_", "uniform", lambda fi, fo: _GAIN_A5 / math.sqrt(fi), dtype=dtype,
                   layout=layout, in_axis=in_axis, out_axis=out_axis, warn_empty=False, seed=seed, stream=stream,
                   global_shape=global_shape, offset=offset, generator=generator)


_DISTRIBUTIONS = ("truncated_normal", "normal", "untruncated_normal", "uniform")


def variance_scaling_(out: T, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal", *,
                      seed: Optional[int] = None, stream: Stream = 0, global_shape: Shape = None,
                      offset: Shape = None, layout: str = "torch", in_axis: Axes = None, out_axis: Axes = None,
                      dtype: Any = None, generator: Optional[Generator] = None) -> T:
    r"""Variance scaling (JAX / Keras semantics): Var(W) = scale / n, n chosen by ``mode``.

    ``mode``: 'fan_in', 'fan_out', 'fan_avg' = (fan_in + fan_out)/2, 'fan_geo_avg' = sqrt(fan_in fan_out).
    ``distribution``: 'truncated_normal' — N(0, s²) truncated to [−2s, 2s] with
    s = sqrt(Var)/0.87962566103423978 so that the truncated law has variance Var; 'normal'
    (alias 'untruncated_normal') — std sqrt(Var); 'uniform' — bound sqrt(3 Var).

    Glorot = (1, fan_avg), He = (2, fan_in), LeCun = (1, fan_in).  ``scale=0`` gives zeros (JAX; Keras
    refuses it).

    Keywords: ``layout`` / ``in_axis`` / ``out_axis`` choose the fan axes, the others are as in
    :func:`fastinit.uniform_` (:mod:`fastinit.scaled`).
    """
    fn = "variance_scaling_"
    s = as_real(scale, "scale", fn)
    if s < 0:  # 0: zeros, as JAX's (Keras refuses it)
        raise ValueError(f"{fn}: scale must be a non-negative finite number (0 gives zeros), got {scale!r}")
    if not isinstance(mode, str) or mode not in _fans.MODES:
        raise ValueError(f"invalid mode for variance scaling initializer: {mode!r}; use one of {_fans.MODES}")
    if distribution not in _DISTRIBUTIONS:
        raise ValueError(f"invalid distribution for variance scaling initializer: {distribution!r}; "
                         f"use one of {_DISTRIBUTIONS}")
    dist = "normal" if distribution == "untruncated_normal" else distribution
    return scheme(out, fn, dist, lambda fi, fo: math.sqrt(s / _fans.fan(fi, fo, mode)), dtype=dtype,
                   knob="scale", layout=layout, in_axis=in_axis, out_axis=out_axis, warn_empty=False, seed=seed,
                   stream=stream, global_shape=global_shape, offset=offset, generator=generator)
