r"""Layer 7 — ``fastinit variance``: the variance-propagation argument, measured.

A batch of N(0, 1) inputs goes forward through a deep square MLP, :math:`h_l = x_{l-1} W_l`,
:math:`x_l = f(h_l)` (no biases), each W_l of shape (width, width) initialized by a scheme with
fastinit; then a unit-variance random gradient at the output goes backward through the same
net, :math:`g_{h_l} = g_{x_l} \odot f'(h_l)`, :math:`g_{x_{l-1}} = g_{h_l} W_l^\top`.  Per layer it
records Var(h_l) (the pre-activation variance the theory follows), Var(x_l) and Var(g_{x_{l-1}}).

With Var(W) = σ², one layer multiplies Var(h) by :math:`\text{width}\cdot\sigma^2\,E[f(h)^2]/\text{Var}(h)`
— for ReLU width·σ²/2 — and the gradient by the same factor with :math:`E[f'(h)^2]` (He et al.
2015, eqs. 10 and 14).  So He (σ² = 2/fan_in) keeps a ReLU net's variances at 1 per layer and
LeCun (1/fan_in) a SELU net's forward ones (Klambauer et al. 2017; its gradients grow by E[selu'(h)²] ≈ 1.07 a
layer, the tool's "explodes" over 50 layers), while N(0, 1) explodes (width/2 per ReLU
layer) and N(0, 0.01²) vanishes.  Xavier (σ² = 2/(fan_in+fan_out), Glorot & Bengio 2010) holds a
tanh net only near its linear regime: with gain 1 each layer keeps E[tanh(h)²] < Var(h), and over
50 layers of 512 Var(h) fades 0.99 → 0.01 ("vanishes", ``fastinit variance --activation tanh``);
gain 5/3 holds the forward pass.  The per-layer ratio reported is the geometric mean of
Var(h_l)/Var(h_{l-1}) over the layers (and of the gradient's); it is "stable" when the variance
changes less than 10× over the whole depth (a finite width makes it wander: He + ReLU at width 512
ends 0.3–1.5× after 50 layers, seeds 0–11).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Sequence

import numpy as np

from . import init, scaled, structured
from ._buffers import is_int, physical_memory, shown
from ._seed import _check_u64
from .guide import recommend

__all__ = ["ACTIVATIONS", "SCHEMES", "propagate", "run_variance", "format_table", "plot", "verdict"]

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_LEAKY = 0.01


def _sigmoid(h):
    from scipy.special import expit  # scipy.special takes ~0.25 s to import: not for every CLI command

    return expit(h)


def _ndtr(h):
    from scipy.special import ndtr

    return ndtr(h)


ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    # name -> (f, f')
    "linear": (lambda h: h, lambda h: np.ones_like(h)),
    "relu": (lambda h: np.maximum(h, 0), lambda h: (h > 0).astype(h.dtype)),
    "leaky_relu": (lambda h: np.where(h > 0, h, _LEAKY * h), lambda h: np.where(h > 0, 1.0, _LEAKY).astype(h.dtype)),
    "tanh": (np.tanh, lambda h: 1 - np.tanh(h) ** 2),
    "sigmoid": (_sigmoid, lambda h: _sigmoid(h) * (1 - _sigmoid(h))),
    "selu": (lambda h: _SELU_SCALE * np.where(h > 0, h, _SELU_ALPHA * np.expm1(np.minimum(h, 0))),
             lambda h: _SELU_SCALE * np.where(h > 0, 1.0, _SELU_ALPHA * np.exp(np.minimum(h, 0))).astype(h.dtype)),
    "gelu": (lambda h: h * _ndtr(h), lambda h: _ndtr(h) + h * np.exp(-0.5 * h * h) / math.sqrt(2 * math.pi)),
    "silu": (lambda h: h * _sigmoid(h), lambda h: _sigmoid(h) * (1 + h * (1 - _sigmoid(h)))),
    "mish": (lambda h: h * np.tanh(np.logaddexp(0, h)),
             lambda h: np.tanh(np.logaddexp(0, h)) + h * (1 - np.tanh(np.logaddexp(0, h)) ** 2) * _sigmoid(h)),
    "hard_swish": (lambda h: h * np.clip(h + 3, 0, 6) / 6, lambda h: np.where(h < -3, 0.0, np.where(
        h > 3, 1.0, (2 * h + 3) / 6)).astype(h.dtype)),
    "elu": (lambda h: np.where(h > 0, h, np.expm1(np.minimum(h, 0))),
            lambda h: np.where(h > 0, 1.0, np.exp(np.minimum(h, 0))).astype(h.dtype)),
    "softplus": (lambda h: np.logaddexp(0, h), _sigmoid),
}
ACTIVATIONS["swish"], ACTIVATIONS["celu"] = ACTIVATIONS["silu"], ACTIVATIONS["elu"]  # celu: alpha 1, torch's default


#: scheme -> (description, fill(w, activation, seed, stream)); w is (fan_in, fan_out), keras layout
SCHEMES: dict[str, tuple[str, Callable]] = {
    "naive": ("N(0, 1)", lambda w, act, s, t: init.normal_(w, 0.0, 1.0, seed=s, stream=t)),
    "small": ("N(0, 0.01^2)", lambda w, act, s, t: init.normal_(w, 0.0, 0.01, seed=s, stream=t)),
    "xavier_uniform": ("U(+-sqrt(6/(in+out)))",
                       lambda w, act, s, t: scaled.xavier_uniform_(w, seed=s, stream=t, layout="keras")),
    "xavier_normal": ("N(0, 2/(in+out))",
                      lambda w, act, s, t: scaled.xavier_normal_(w, seed=s, stream=t, layout="keras")),
    "he_normal": ("N(0, 2/in)", lambda w, act, s, t: scaled.kaiming_normal_(
        w, nonlinearity="relu", seed=s, stream=t, layout="keras")),
    "he_uniform": ("U(+-sqrt(6/in))", lambda w, act, s, t: scaled.kaiming_uniform_(
        w, nonlinearity="relu", seed=s, stream=t, layout="keras")),
    "lecun_normal": ("N(0, 1/in)", lambda w, act, s, t: scaled.lecun_normal_(w, seed=s, stream=t, layout="keras")),
    # the gain fastinit.recommend gives: ReLU's for gelu etc., 1 for selu (torch's calculate_gain docs: a
    # self-normalizing net wants 'linear', not its 3/4)
    "orthogonal": ("orthogonal x recommend(activation).gain", lambda w, act, s, t: structured.orthogonal_(
        w, recommend(act, _LEAKY if act == "leaky_relu" else None).gain, seed=s, stream=t,
        layout="keras")),
    "recommended": ("fastinit.recommend(activation)", lambda w, act, s, t: recommend(
        act, _LEAKY if act == "leaky_relu" else None).initializer(w, seed=s, stream=t, layout="keras")),
}
DEFAULT_SCHEMES = ("naive", "small", "xavier_uniform", "he_normal", "lecun_normal", "orthogonal")
LEAST = {"depth": 2, "width": 1, "batch": 2}  # the least of each size (a variance needs two values of a batch)


@dataclass
class Trace:
    """Per-layer variances of one scheme: index l - 1 holds layer l (1 ... depth)."""

    scheme: str
    preact: list  # Var(h_l)
    act: list  # Var(x_l)
    grad: list  # Var(g_{x_{l-1}}): the gradient reaching layer l's input

    @staticmethod
    def ratio(values: Sequence[float]) -> float:
        """Geometric mean of values[l] / values[l - 1]: nan once a variance overflowed, 0 once one underflowed."""
        v = np.asarray(values, np.float64)
        if not np.all(np.isfinite(v)):
            return math.nan
        if np.any(v <= 0):
            return 0.0
        return float(math.exp((math.log(v[-1]) - math.log(v[0])) / (v.size - 1)))


def verdict(ratio: float, depth: int) -> str:
    """'stable' when a per-layer variance ratio changes the variance less than 10x over the ``depth`` layers (the
    ratio within 10^(±1/(depth − 1)): 0.954–1.048 for 50 layers), else 'explodes' / 'vanishes'; 'overflow' for
    nan.  A per-layer band of its own would not do: 1.18 per layer, a He init with a 10% too large std, is
    ×3,400 over 50 layers."""
    if math.isnan(ratio):
        return "overflow"
    if ratio <= 0:
        return "vanishes"
    change = (max(depth, 2) - 1) * math.log10(ratio)
    return "explodes" if change > 1 else "vanishes" if change < -1 else "stable"


def propagate(scheme: str, activation: str = "relu", depth: int = 50, width: int = 512, batch: int = 256,
              dtype="float64", seed: int = 0) -> Trace:
    """Forward a N(0, 1) batch, backward a N(0, 1) gradient through a ``depth``-layer MLP initialized by ``scheme``.
    A layer whose forward pass overflowed has no defined gradient: nan from there down.  Variances are summed in
    float64 (a float32 net's finite values can have a variance beyond float32's range, or below it).  The backward
    pass reads every layer's weights and pre-activations, kept: depth·(width² + batch·width) values (150 MiB at
    the defaults); a net that needs more than this machine's memory is refused (MemoryError) before it starts."""
    _check([scheme], activation, depth, width, batch, dtype, seed)
    fill = SCHEMES[scheme][1]
    f, df = ACTIVATIONS[activation]
    dt = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, width)).astype(dt)
    weights, pre = [], []
    preact, act = [], []
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for layer in range(depth):
            w = fill(np.empty((width, width), dt), activation, seed, f"layer{layer}.weight")
            h = x @ w
            x = f(h).astype(dt)
            weights.append(w)
            pre.append(h)
            preact.append(float(h.var(dtype=np.float64)))
            act.append(float(x.var(dtype=np.float64)))
        g = rng.standard_normal((batch, width)).astype(dt)
        grad = [math.nan] * depth
        for layer in reversed(range(depth)):
            if not np.isfinite(pre[layer]).all():  # f'(inf or nan) would pass a meaningless 0 or nan
                break
            g = (g * df(pre[layer]).astype(dt)) @ weights[layer].T
            grad[layer] = float(g.var(dtype=np.float64))
    return Trace(scheme, preact, act, grad)


def _check(schemes: list, activation, depth, width, batch, dtype, seed) -> None:
    unknown = [s for s in schemes if s not in SCHEMES]
    if unknown:
        raise ValueError(f"unknown scheme(s) {unknown}; known: {list(SCHEMES)}")
    if not schemes:
        raise ValueError(f"schemes must name one or more of {list(SCHEMES)}, got none")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, got {activation!r}")
    for name, value in (("depth", depth), ("width", width), ("batch", batch)):
        least = LEAST[name]
        if not is_int(value):
            raise TypeError(f"{name} must be an int >= {least}, got {shown(value, typed=True)}")
        if value < least:
            raise ValueError(f"{name} must be an int >= {least}, got {value!r}")
    _check_u64(seed, "seed")  # the library's seed check and words
    try:
        ok = np.dtype(dtype) in (np.float32, np.float64)
    except TypeError:  # (a name NumPy does not know: "bfloat16")
        ok = False
    if not ok:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    kept = depth * (width * width + batch * width) * np.dtype(dtype).itemsize
    total = physical_memory()
    if total is not None and kept > total:
        raise MemoryError(f"depth {depth}, width {width}, batch {batch}: the backward pass reads every layer's weights "
                          f"(width²) and pre-activations (batch × width), {kept / 2**30:.3g} GiB kept, more than this "
                          f"machine's {total / 2**30:.3g} GiB")


def run_variance(schemes: Iterable[str] = DEFAULT_SCHEMES, activation: str = "relu", depth: int = 50,
                 width: int = 512, batch: int = 256, dtype="float64", seed: int = 0,
                 show_progress: bool = False) -> dict:
    """:func:`propagate` every scheme (names, or one comma-separated string); returns a report of dicts, lists, str,
    int and float (JSON's types but for inf, a variance that overflowed, and nan, one undefined: a gradient below an
    overflow, a ratio over either; ``fastinit variance --json`` writes both as null) with per-layer variances and
    verdicts."""
    schemes = [s.strip() for s in schemes.split(",")] if isinstance(schemes, str) else list(schemes)
    _check(schemes, activation, depth, width, batch, dtype, seed)
    out = {"activation": activation, "depth": depth, "width": width, "batch": batch, "dtype": np.dtype(dtype).name,
           "seed": seed, "schemes": {}}
    from .benchmark import progress

    for s in progress(schemes, len(schemes), "fastinit variance", show_progress):
        t = propagate(s, activation, depth, width, batch, dtype, seed)
        fwd, bwd = t.ratio(t.preact), t.ratio(t.grad[::-1])
        out["schemes"][s] = {"law": SCHEMES[s][0], "preact_var": t.preact, "act_var": t.act, "grad_var": t.grad,
                             "forward_ratio": fwd, "backward_ratio": bwd, "forward": verdict(fwd, depth),
                             "backward": verdict(bwd, depth)}
    return out


def shown_layers(depth: int, rows: int = 10) -> list[int]:
    """At most ``rows`` layer numbers (1-based) to print for a ``depth``-layer net: first, last, evenly between."""
    if depth <= rows:
        return list(range(1, depth + 1))
    return sorted({1, 2, depth, *np.linspace(1, depth, rows - 1).round().astype(int).tolist()})


def format_table(report: dict) -> str:
    """Text tables of a :func:`run_variance` report: Var(h_l) and the backward Var(g) at shown layers, verdicts."""
    schemes = list(report["schemes"])
    w = max(14, *(len(s) + 2 for s in schemes))
    lines = [f"fastinit variance: {report['depth']} layers of width {report['width']}, {report['activation']}, "
             f"batch {report['batch']}, {report['dtype']}; input and output gradient ~ N(0, 1)"]
    for title, key in (("forward: Var(pre-activation h_l)", "preact_var"),
                       ("backward: Var(gradient at layer l's input)", "grad_var")):
        lines += ["", title, f"{'layer':>6}" + "".join(f"{s:>{w}}" for s in schemes)]
        for layer in shown_layers(report["depth"]):
            lines.append(f"{layer:>6}" + "".join(f"{report['schemes'][s][key][layer - 1]:>{w}.3g}" for s in schemes))
    lines += ["", "per-layer variance ratio (geometric mean) and verdict:",
              f"{'scheme':<16}{'law':<40}{'forward':>10}{'':10}{'backward':>10}"]
    for s, r in report["schemes"].items():
        lines.append(f"{s:<16}{r['law']:<40}{r['forward_ratio']:>10.3g} {r['forward']:<9}"
                     f"{r['backward_ratio']:>10.3g} {r['backward']}")
    return "\n".join(lines)


def pyplot():
    """matplotlib.pyplot on the Agg backend, or an ImportError saying how to install it (checked before a run)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("--png needs matplotlib: pip install 'fastinit[plot]' (or pip install matplotlib)") from None
    return plt


def plot(report: dict, path: str, title: Optional[str] = None) -> None:
    """Save forward and backward variance per layer (log scale) as a PNG at ``path`` (needs matplotlib)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    layers = np.arange(1, report["depth"] + 1)
    for s, r in report["schemes"].items():
        for ax, key in zip(axes, ("preact_var", "grad_var")):
            v = np.asarray(r[key], np.float64)
            v = np.where(np.isfinite(v) & (v > 0), v, np.nan)  # log axes cannot show 0 or inf
            ax.plot(layers, v, label=f"{s}: {r['law']}")
    axes[0].set_title("forward: Var(pre-activation)")
    axes[1].set_title("backward: Var(gradient at the layer's input)")
    for ax in axes:
        ax.axhline(1.0, color="0.5", linewidth=0.8, linestyle="--")  # the input's variance
        ax.set_yscale("log")
        ax.set_xlabel("layer")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(title or f"{report['depth']} x {report['width']} MLP, {report['activation']}")
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
