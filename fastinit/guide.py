"""Layer 6 — biases and guidance: what the textbooks teach and no framework ships.

* Biases: zeros (the default), a small positive constant for ReLU units so they start active
  (0.01), and the class-prior bias for an output layer: ``log(p / (1 - p))`` for a sigmoid unit
  whose positive class has frequency p, ``log(p_k)`` for softmax logits (shift-invariant), so the
  untrained network already predicts the base rates and the first steps are not spent learning
  them (Karpathy, "A recipe for training neural networks", 2019; Lin et al., "Focal loss", 2017).
* :func:`recommend`: the guideline table activation -> initializer with the right gain.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Optional, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from ._buffers import as_target, host_staged, resolve_dtype
from .fans import calculate_gain, check_layout, python_number
from .init import as_int, fill_constant, zeros_
from .scaled import kaiming_normal_, lecun_normal_, xavier_uniform_
from .structured import orthogonal_

__all__ = ["relu_bias_", "relu_bias", "prior_bias_", "prior_bias", "recommend", "Recommendation"]

T = TypeVar("T")


def relu_bias_(out: T, value: float = 0.01, *, dtype: Any = None) -> T:
    """Fill a ReLU layer's bias with a small positive constant (default 0.01) so units start active; ``value`` a
    finite real number."""
    return _constant(out, value, dtype, "relu_bias_")


def relu_bias(n: int, value: float = 0.01, *, dtype: Any = "float32") -> np.ndarray:
    """New bias vector of ``n`` entries equal to ``value`` (0.01)."""
    return _constant(np.empty(as_int(n, "n", "relu_bias"), resolve_dtype(dtype)), value, None, "relu_bias")


def _constant(out: T, value, dtype: Any, fn: str) -> T:
    """``out`` filled with the finite ``value``, refusals in ``fn``'s words (the target's, which name no function,
    prefixed with it)."""
    try:
        return fill_constant(out, value, dtype, fn, "value", finite=True)
    except (TypeError, ValueError) as e:
        if str(e).startswith(f"{fn}: "):  # the value's: named already
            raise
        raise type(e)(f"{fn}: {e}") from None


def _priors(prior, fn: str) -> np.ndarray:
    what = f"{fn}: prior must be a probability or a sequence of them, got {prior!r}"
    try:
        p = np.asarray(prior)
    except ValueError:  # a ragged sequence
        raise ValueError(what) from None
    try:
        if p.dtype.kind in "USbcMm" or p.dtype == object and any(x is None for x in p.flat):  # no text, bool,
            raise TypeError  # complex, time or None (NumPy's NaN for it) taken as a number
        p = p.astype(np.float64)  # Fraction, Decimal, ml_dtypes and mixed (object) numbers included
    except OverflowError:  # an int too large for a float (10**400): a number, but no probability
        raise ValueError(f"{fn}: prior must hold probabilities strictly between 0 and 1, got an int too large "
                         "for float64") from None
    except (TypeError, ValueError):  # an object that is no number
        raise TypeError(what) from None
    if not np.all((p > 0) & (p < 1)):
        raise ValueError(f"{fn}: prior must hold probabilities strictly between 0 and 1, got {prior!r}")
    return p


def _prior_logits(p: np.ndarray, activation: str, shape: tuple, fn: str) -> np.ndarray:
    """The logits of the priors ``p`` broadcast to the bias ``shape``."""
    try:
        p = np.broadcast_to(p, shape)
    except ValueError:
        raise ValueError(f"{fn}: prior of shape {p.shape} does not broadcast to out.shape {shape}") from None
    if activation == "sigmoid":
        return np.log(p / (1 - p))
    if activation == "softmax":
        if p.size and not np.isclose(p.sum(), 1.0, rtol=1e-6):
            raise ValueError(f"{fn}: softmax prior must sum to 1 over the bias, got sum {p.sum():.6g}")
        return np.log(p)
    raise ValueError(f"{fn}: activation must be 'sigmoid' or 'softmax', got {activation!r}")


@host_staged
def prior_bias_(out: T, prior: ArrayLike, activation: str = "sigmoid", *, dtype: Any = None) -> T:
    r"""Fill an output bias with the class prior: :math:`\log(p / (1 - p))` (sigmoid) or :math:`\log p_k` (softmax).

    ``prior``: a probability (every unit the same) or one per unit (broadcast to ``out``); softmax priors
    must sum to 1 over ``out``.
    """
    return _prior_fill(out, _priors(prior, "prior_bias_"), activation, dtype, "prior_bias_")


def _prior_fill(out: T, p: np.ndarray, activation: str, dtype: Any, fn: str) -> T:
    """``out`` filled with the logits of the priors ``p`` (checked), refusals in ``fn``'s words."""
    target = as_target(out, dtype)
    target.array[...] = _prior_logits(p, activation, target.shape, fn).astype(target.dtype)
    return out


def prior_bias(prior: ArrayLike, n: Optional[int] = None, activation: str = "sigmoid", *,
               dtype: Any = "float32") -> np.ndarray:
    """New output bias from class priors: one per prior, or ``n`` copies of a scalar prior.

    >>> prior_bias(0.01)          # rare positive class: the sigmoid starts at p = 0.01
    array([-4.59512], dtype=float32)
    """
    p = _priors(prior, "prior_bias")
    if n is not None:
        n = as_int(n, "n", "prior_bias")
        if p.ndim and p.shape != (n,):
            raise ValueError(f"prior_bias: n={n} does not match the {p.size} priors given (leave n out)")
    shape = p.shape if p.ndim else (1 if n is None else n,)
    return _prior_fill(np.empty(shape, resolve_dtype(dtype)), p, activation, None, "prior_bias")


@dataclass(frozen=True)
class Recommendation:
    """What :func:`recommend` returns: call ``initializer(w)`` and ``bias(b)`` in place."""

    activation: str
    scheme: str
    gain: float
    initializer: Callable
    bias: Callable
    reason: str


_TANH_LIKE = {"sigmoid", "tanh", "softsign", "linear", "identity", "none", "softmax"}  # softmax: the output layer
_RELU_LIKE = {"relu", "leaky_relu", "relu6", "prelu"}  # zero (or a slope a) below 0, identity above: He's exact case
_SMOOTH_RELU = {"gelu", "silu", "swish", "mish", "hard_swish", "elu", "celu", "softplus"}  # He by practice only
_RECURRENT = {"rnn", "lstm", "gru", "recurrent"}
_ALIASES = {"leakyrelu": "leaky_relu", "hardswish": "hard_swish"}  # torch's class names
_HALF = "near 0 it is h / 2, so He's gain halves a small variance a layer"
_DRIFT = {  # why, and Var(h) after a plain stack of 50 layers of width 512 from 2.0 (fastinit variance, seed 0)
    "gelu": (_HALF, "1e-12"), "silu": (_HALF, "3e-14"), "swish": (_HALF, "3e-14"), "hard_swish": (_HALF, "2e-14"),
    "mish": ("near 0 it is 0.6 h, so He's gain shrinks a small variance x0.72 a layer", "8e-6"),
    "elu": ("near 0 it is the identity, so He's gain doubles a small variance", "39"),
    "celu": ("near 0 it is the identity, so He's gain doubles a small variance", "39"),
    "softplus": ("its outputs are positive (mean >= ln 2), which adds to the variance, while the gradient vanishes",
                 "20"),
}


def recommend(activation: str, param: Optional[float] = None, *, layout: str = "torch") -> Recommendation:
    """The initializer the textbook guideline table gives for the activation after a layer.

    sigmoid / tanh / linear -> Xavier (Glorot & Bengio 2010); ReLU family -> He (He et al. 2015);
    SELU -> LeCun normal (Klambauer et al. 2017); recurrent weights (rnn / lstm / gru) ->
    orthogonal (Saxe et al. 2014).  ``param``: the negative slope a of leaky_relu (default 0.01) or prelu
    (default 0), gain sqrt(2 / (1 + a²)); refused for the other activations, which have none.  ``layout``: how
    the initializer reads fans from the weight's shape — ``'torch'`` (out, in, *kernel), or ``'keras'``
    (*kernel, in, out) for the textbook NumPy ``W`` of shape (n_in, n_out) (:func:`fastinit.fans`).

    >>> r = recommend("relu")
    >>> r.scheme, round(r.gain, 4)
    ('kaiming_normal_', 1.4142)
    >>> W = recommend("relu", layout="keras").initializer(np.empty((784, 256)), seed=0)  # fan_in 784
    """
    if not isinstance(activation, str):
        raise TypeError(f"activation must be a str, got {type(activation).__name__}")
    act = activation.lower()
    act = _ALIASES.get(act, act)
    known = _TANH_LIKE | _RELU_LIKE | _SMOOTH_RELU | _RECURRENT | {"selu"}
    if act not in known:
        raise ValueError(f"unknown activation {activation!r}; known: {sorted(known)}")
    check_layout(layout, "recommend")
    if param is not None and act not in ("leaky_relu", "prelu"):
        raise ValueError(f"param is the negative slope of leaky_relu or prelu; {activation!r} takes none, got "
                         f"param={param!r}")
    if act in _TANH_LIKE:
        source = "linear" if act in ("identity", "none", "softmax") else "tanh" if act == "softsign" else act
        gain = calculate_gain(source)
        named = (f"tanh's gain {gain:.4g} (calculate_gain has no softsign entry)" if act == "softsign" else
                 f"gain = calculate_gain('{source}') = {gain:.4g}")
        caveat = ("; but sigmoid's slope at 0 is 1/4 and its mean 1/2, outside that argument: through a deep plain "
                  "stack its gradients vanish (x0.06 a layer; `fastinit variance --activation sigmoid`), why LeCun "
                  "et al. (1998) prefer tanh in hidden layers" if act == "sigmoid" else "")
        return Recommendation(act, "xavier_uniform_", float(gain),
                              functools.partial(xavier_uniform_, gain=gain, layout=layout), zeros_,
                              f"Glorot & Bengio (2010): Var(W) = gain^2 * 2 / (fan_in + fan_out), the compromise "
                              f"between the forward (1 / fan_in) and backward (1 / fan_out) variance conditions of a "
                              f"unit near-linear around 0, with {named}{caveat}")
    if act in _RELU_LIKE | _SMOOTH_RELU:
        slope = {"leaky_relu": 0.01, "prelu": 0.0}.get(act, 0.0) if param is None else python_number(param)
        gain = calculate_gain("leaky_relu", slope)  # torch's checks of the slope's type
        if isinstance(slope, float) and not math.isfinite(slope):  # an int is finite, however large (gain 0)
            raise ValueError(f"param (the negative slope) must be finite, got {param!r}")
        if act in _RELU_LIKE:
            why = (f"{act} keeps (1 + a^2) / 2 of a symmetric input's second moment (slope a below 0): He et al. "
                   f"(2015)'s Var(W) = gain^2 / fan_in with gain {gain:.4g} restores it, so activations neither "
                   f"vanish nor explode with depth")
        else:
            mechanism, end = _DRIFT[act]
            why = (f"He init with ReLU's gain {gain:.4g} (Var(W) = 2 / fan_in) is the common practice for {act}, but "
                   f"He et al. (2015)'s argument is ReLU's: {mechanism}. Through a deep plain stack the variance "
                   f"drifts (`fastinit variance --activation {act}`: Var(h) 2.0 to {end} in 50 layers of width 512); "
                   "normalization layers or residual connections hold it in practice")
        return Recommendation(act, "kaiming_normal_", gain,
                              functools.partial(kaiming_normal_, a=slope, nonlinearity="leaky_relu", layout=layout),
                              relu_bias_ if act == "relu" else zeros_, why)
    if act == "selu":
        return Recommendation(act, "lecun_normal_", 1.0, functools.partial(lecun_normal_, layout=layout), zeros_,
                              "SELU self-normalizes only from Var(W) = 1 / fan_in (LeCun normal)")
    return Recommendation(act, "orthogonal_", 1.0, functools.partial(orthogonal_, layout=layout), zeros_,
                          "recurrent weights are applied many times: an orthogonal matrix keeps every "
                          "singular value at 1, so signals neither vanish nor explode through time (Saxe et al. "
                          "2014).  A stacked gate matrix (an LSTM's weight_hh (4h, h), a GRU's (3h, h)) is made "
                          "orthogonal as a whole, as Keras's recurrent_initializer does; each gate's (h, h) block is "
                          "then not (its singular values average ~0.43 for 4 gates): for orthogonal gates, as Flax's "
                          "cells have, fill each block, w[g*h:(g+1)*h], with its own stream")
