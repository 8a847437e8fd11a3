"""Layer 6 — ``fastinit.torch.materialize``: allocate and initialize a torch model (meta-device or built).

>>> import torch, fastinit.torch
>>> with torch.device("meta"):
...     model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.LayerNorm(32))
>>> summary = fastinit.torch.materialize(model, seed=0)
>>> model[0].weight.device.type, float(model[1].weight.detach().sum())
('cpu', 32.0)

Every parameter and buffer is allocated on ``device`` (like ``module.to_empty``; a parameter object
shared by several modules is allocated and filled once and stays shared), then filled through
fastinit's kernels with the law the module's own initialization gives it (``scheme="torch"``) or
a common convention (``"gpt2"``, ``"llama"``).  The stream of every tensor is its fully qualified
name (``model.named_parameters()``), so its values are a pure function of (seed, name, element
index): they do not depend on construction order, on which other modules exist, or on sharding
(``placement=`` fills a local shard with exactly its slice of the full tensor, and a DTensor's ranks — FSDP2,
tensor parallelism — each their shard's block).  Modules without a
rule fall back to their own ``reset_parameters()`` (in a Hugging Face model: its ``_init_weights(module)``, which
also computes a meta-built model's rotary ``inv_freq`` and position ids) under a seed derived from (seed, module
name); nothing is ever left uninitialized (docs/materialize.md).
"""
from __future__ import annotations

import ast
import contextlib
import fnmatch
import inspect
import math
import numbers
import re
import sys
import textwrap
import time
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from ._extras import missing

try:
    import torch
    from torch import nn
    from torch.nn.modules.batchnorm import _NormBase
    from torch.nn.modules.conv import _ConvNd
    from torch.nn.utils import parametrize
    from torch.nn.utils.parametrizations import _SpectralNorm
except ImportError as e:
    raise missing(e, "torch", "fastinit.materialize") from None

from ._buffers import _c_strides, place_block, shape_tuple
from ._cpu import one_thread
from ._seed import _check_u64, hash64
from .fans import fans
from .init import _float, _is_real
from .structured import WHOLE_TENSOR, _unwrapped, check_by_empty_fill, position_free

__all__ = ["RESIDUAL_PROJECTIONS", "SHORTCUTS", "MaterializeSummary", "ParamRecord", "Scheme", "materialize"]

PROGRESS_THRESHOLD = 100_000_000  # progress=None shows a bar above this many parameters (tqdm installed)
# Tensors below this many elements are filled on one thread: waking the kernel's thread pool costs tens of
# microseconds on a quiet 2-core machine (6-12 ms per call on a loaded one).  GPT-2 small re-initialized in place,
# same process, quiet machine: 156 ms with 2**22 (every Linear weight on one thread), 127 ms with 2**18, 126 ms
# with 2**16.  Values do not depend on the thread count (docs/determinism.md).
SERIAL_BELOW = 1 << 18
RESIDUAL_PROJECTIONS = ("c_proj", "out_proj", "o_proj", "down_proj", "fc2")
SCHEMES = ("torch", "gpt2", "llama", "hf")
SHORTCUTS = ("zeros", "ones", "normal", "trunc_normal", "default", "keep")
_FILLABLE = (torch.float16, torch.bfloat16, torch.float32, torch.float64)

Placement = Mapping[str, tuple] | Callable[[str], tuple | None] | None
OverrideKey = str | re.Pattern | type


def _ft():
    """fastinit.torch, resolved on use (it imports this module at its end)."""
    from . import torch as ft

    return ft


@dataclass(frozen=True)
class Scheme:
    """An initialization convention.

    ``"torch"``: each module's own default (``reset_parameters``) in law.
    ``"gpt2"``: Linear / Conv / HF Conv1D / Embedding / MultiheadAttention weights
    :math:`\\mathcal{N}(0, \\text{std}^2)`, biases 0, norms 1 / 0; weights of modules whose own name
    is in ``residual`` get std / sqrt(2 n_layer) when ``n_layer`` is given (Radford et al. 2019,
    HF ``GPT2PreTrainedModel._init_weights``; on a Hugging Face GPT-2 without ``n_layer``: its config's).
    ``"llama"``: the same without residual scaling (HF ``LlamaPreTrainedModel._init_weights``:
    ``normal_(0, initializer_range)``); truncated normals via ``overrides`` ("trunc_normal").
    ``"hf"``: a Hugging Face (transformers 5) model's own ``_init_weights``, tensor by tensor, as a dry run of it
    records: what it draws whole with a torch.nn.init sampler (``normal_``, ``uniform_``, ``trunc_normal_``,
    ``xavier_*``, ``kaiming_*``, ``orthogonal_``; an embedding's padding row zeroed after ``normal_`` too) or sets
    whole to a constant or an identity (``eye_``),
    fastinit draws or sets with that law by (seed, name); anything else (computed tables) its own init writes, as a
    fallback; what it never writes keeps its constructor's law
    (``"torch"``'s rules).  Modules outside a Hugging Face model: as ``"llama"``.
    ``std`` (finite, > 0) and ``n_layer`` (>= 1) may be NumPy scalars or 0-d tensors; they are stored as float / int.
    ``std=None``: the model's — a Hugging Face model's config ``initializer_range`` (as its ``_init_weights``: 0.02
    where that is 0 or missing), 0.02 for any other model; :func:`materialize` resolves it (``summary.scheme``).
    """

    name: str = "torch"
    std: float | None = None
    n_layer: int | None = None
    residual: tuple = RESIDUAL_PROJECTIONS

    def __post_init__(self):
        if self.name not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {self.name!r}")
        if self.std is not None:
            std = _ft()._num(self.std)  # a real number (NumPy scalars too) or a 0-d tensor, not a bool
            if not _is_real(std) or not (math.isfinite(_float(std)) and std > 0):
                raise ValueError(f"scheme std must be a finite number > 0 or None (the model's), got {self.std!r}")
            object.__setattr__(self, "std", _float(std))
        if self.n_layer is not None:
            n_layer = _ft()._num(self.n_layer)
            if isinstance(n_layer, bool) or not isinstance(n_layer, numbers.Integral) or n_layer < 1:
                raise ValueError(f"scheme n_layer must be an int >= 1 or None, got {self.n_layer!r}")
            object.__setattr__(self, "n_layer", int(n_layer))
            if self.name != "gpt2":
                raise ValueError(f"n_layer (residual scaling) belongs to the 'gpt2' scheme, not {self.name!r}")
        if isinstance(self.residual, str) or not isinstance(self.residual, Iterable) \
                or not all(isinstance(r, str) for r in self.residual):
            raise TypeError(f"scheme residual must be a tuple of module names, got {self.residual!r}")
        object.__setattr__(self, "residual", tuple(self.residual))

    @classmethod
    def of(cls, scheme) -> Scheme:
        """A Scheme from ``"torch"`` / ``"gpt2"`` / ``"llama"``, ``(name, {options})`` or a Scheme."""
        if isinstance(scheme, Scheme):
            return scheme
        if isinstance(scheme, str):
            return cls(scheme)
        if isinstance(scheme, tuple) and len(scheme) == 2 and isinstance(scheme[1], Mapping):
            return cls(scheme[0], **scheme[1])
        raise TypeError(f"scheme must be one of {SCHEMES}, a (name, options) pair or a Scheme, got {scheme!r}")


@dataclass(frozen=True)
class _Method:
    """How one tensor is filled: ``fill(tensor, seed, stream, place)`` with ``place`` {} or the shard keywords;
    ``any_dtype``: it fills tensors of any dtype (constants, keep, callables), not only float16 ... float64.
    ``check``: what runs on a meta twin of the tensor (its shape and new dtype) before anything is allocated, with
    the same arguments, raising what ``fill`` would: True for ``fill`` itself (fastinit.torch's initializers check
    a meta tensor and write nothing), False for nothing (a user's callable), else a callable.  ``law``: the rule
    factory's arguments, when they alone decide the check's outcome for a shape and dtype (the stream, a name,
    is always valid), so one check serves every tensor of that law, shape and dtype."""

    label: str
    fill: Callable
    any_dtype: bool = False
    check: Callable | bool = True
    law: tuple | None = None
    placeable: bool = True  # False: it sets the tensor from the whole weight (a parametrization's right_inverse)
    late: bool = False  # True: it runs after the overrides (it reads tensors they may set)
    pure: bool = False  # True: its values are a function of (seed, stream, place) alone (a callable taking seed=)

    @property
    def repeatable(self) -> bool:
        """Filling again gives the same values: a rule's law or a shortcut's, or a callable taking ``seed=``."""
        return self.law is not None or self.pure

    def dry_run(self, twin: torch.Tensor, seed: int, stream: str, place: dict) -> None:
        if self.check is True:
            self.fill(twin, seed, stream, place)
        elif self.check:
            self.check(twin, seed, stream, place)


def _const(value: float) -> _Method:
    # fastinit.torch.constant_ hands integer buffers such as num_batches_tracked to torch
    return _Method("zeros" if value == 0 else "ones" if value == 1 else f"constant {value:g}",
                   lambda t, seed, stream, place: _ft().constant_(t, value), any_dtype=True, law=("constant", value))


ZEROS, ONES = _const(0.0), _const(1.0)


def _uniform(bound: float, label: str) -> _Method:
    return _Method(f"uniform(±{label})",
                   lambda t, seed, stream, place: _ft().uniform_(t, -bound, bound, seed=seed, stream=stream, **place),
                   law=("uniform", bound))


def _normal(std: float, suffix: str = "", mean: float = 0.0) -> _Method:
    return _Method(f"normal({mean:.4g}, {std:.4g}){suffix}",
                   lambda t, seed, stream, place: _ft().normal_(t, mean, std, seed=seed, stream=stream, **place),
                   law=("normal", mean, std))


def _trunc_normal(std: float) -> _Method:
    return _Method(f"trunc_normal(0, {std:.4g}, ±2σ)",
                   lambda t, seed, stream, place: _ft().trunc_normal_(t, 0.0, std, -2 * std, 2 * std, seed=seed,
                                                                      stream=stream, **place),
                   law=("trunc_normal", std))


def _scaled(fn_name: str, label: str, **kw) -> _Method:
    return _Method(label, lambda t, seed, stream, place: getattr(_ft(), fn_name)(t, seed=seed, stream=stream,
                                                                                  **kw, **place),
                   law=(fn_name, *sorted(kw.items())))


KAIMING_A5 = _scaled("kaiming_uniform_", "kaiming_uniform(a=√5)", a=math.sqrt(5))
XAVIER_UNIFORM = _scaled("xavier_uniform_", "xavier_uniform")
XAVIER_NORMAL = _scaled("xavier_normal_", "xavier_normal")


def _zero_row(t: torch.Tensor, row: int) -> None:
    """Row ``row`` of ``t`` set to zero; of a DTensor (whose rows are global), by the rank whose shard holds it,
    in its local tensor (indexing the DTensor would write a redistributed copy)."""
    if not _ft()._dtensor(t):
        t.detach()[row].zero_()
        return
    local, offset = _ft()._local_block(t, "materialize")
    if local is not None and 0 <= row - offset[0] < local.shape[0]:
        local[row - offset[0]].zero_()


def _embedding(std: float, padding_idx: int | None) -> _Method:
    def fill(t, seed, stream, place):
        _ft().normal_(t, 0.0, std, seed=seed, stream=stream, **place)
        if padding_idx is not None:  # the module's own (local) row index, also in a vocabulary shard
            _zero_row(t, padding_idx)
    pad = "" if padding_idx is None else ", padding row 0"
    return _Method(f"normal(0, {std:.4g}){pad}", fill, law=("embedding", std, padding_idx))


class _Context:
    """What rules may ask: the scheme and each tensor's global shape (placement, else its own)."""

    def __init__(self, scheme: Scheme, global_shapes: dict):
        self.scheme = scheme
        self._shapes = global_shapes

    def shape(self, t: torch.Tensor) -> tuple:
        return self._shapes.get(id(t), tuple(t.shape))

    def fan_in(self, weight: torch.Tensor) -> int:
        return fans(self.shape(weight))[0]


# --- scheme "torch": each class's reset_parameters, in law -----------------------------------------------------
def _linear(m, ctx, prefix):
    out = {"weight": KAIMING_A5}
    if getattr(m, "bias", None) is not None:  # torch: bound 1/sqrt(fan_in) of the weight, 0 when fan_in is 0
        fan_in = ctx.fan_in(m.weight)
        out["bias"] = _uniform(1 / math.sqrt(fan_in) if fan_in > 0 else 0.0, "1/√fan_in")
    return out


def _bilinear(m, ctx, prefix):
    bound = 1 / math.sqrt(ctx.shape(m.weight)[1])
    method = _uniform(bound, "1/√in1_features")
    return {"weight": method, "bias": method} if m.bias is not None else {"weight": method}


def _embedding_rule(m, ctx, prefix):
    std = 1.0 if ctx.scheme.name == "torch" else ctx.scheme.std
    return {"weight": _embedding(std, m.padding_idx)}


def _norm_base(m, ctx, prefix):
    out = {}
    if m.track_running_stats:
        out.update(running_mean=ZEROS, running_var=ONES, num_batches_tracked=ZEROS)
    if m.affine:
        out["weight"] = ONES
        if m.bias is not None:
            out["bias"] = ZEROS
    return out


def _affine_norm(m, ctx, prefix):
    return {name: ONES if name == "weight" else ZEROS for name in ("weight", "bias") if getattr(m, name, None)
            is not None}


def _mha(m, ctx, prefix):
    out = {}
    if m._qkv_same_embed_dim:
        out["in_proj_weight"] = XAVIER_UNIFORM
    else:
        out.update(q_proj_weight=XAVIER_UNIFORM, k_proj_weight=XAVIER_UNIFORM, v_proj_weight=XAVIER_UNIFORM)
    if m.in_proj_bias is not None:
        out["in_proj_bias"] = ZEROS
        out["out_proj.bias"] = ZEROS
    for name in ("bias_k", "bias_v"):
        if getattr(m, name) is not None:
            out[name] = XAVIER_NORMAL
    return out


def _rnn(m, ctx, prefix):
    """Every weight and bias (torch: ``self.parameters()``); a parametrized one under its own name, set through
    right_inverse like any rule's."""
    bound = 1.0 / math.sqrt(m.hidden_size) if m.hidden_size > 0 else 0.0
    method = _uniform(bound, "1/√hidden_size")
    names = [name for name, p in m._parameters.items() if p is not None]
    names += list(m.parametrizations) if parametrize.is_parametrized(m) else []
    return {name: method for name in names}


def _prelu(m, ctx, prefix):
    return {"weight": _const(float(getattr(m, "init", 0.25)))}


def _transformer(m, ctx, prefix):
    """Every >= 2-D parameter of its encoder and decoder (torch's ``_reset_parameters`` runs at the end of
    ``Transformer.__init__``: modules a subclass adds afterwards keep their own laws); a parametrized one under its
    parametrized name (``linear1.weight``, set through right_inverse like any rule's), not its originals."""
    out = {}
    for sub, mm in m.named_modules():
        if sub.split(".")[0] not in ("encoder", "decoder"):
            continue
        if "parametrizations" in sub.split("."):
            continue
        pre = f"{sub}." if sub else ""
        locals_ = [local for local, p in mm._parameters.items() if p is not None and p.dim() > 1]
        if parametrize.is_parametrized(mm):
            with torch.no_grad(), _no_state_updates(mm):
                locals_ += [local for local in mm.parametrizations if getattr(mm, local).dim() > 1]
        out.update({pre + local: XAVIER_UNIFORM for local in locals_})
    return out


def _hf_conv1d(m, ctx, prefix):
    std = 0.02 if ctx.scheme.name == "torch" else ctx.scheme.std
    return {"weight": _normal(std), **({"bias": ZEROS} if getattr(m, "bias", None) is not None else {})}


# torch's reset_parameters() that only calls its children's (whose rules reproduce them): nothing to warn about
_CHILDREN_ONLY = nn.AdaptiveLogSoftmaxWithLoss.reset_parameters

# (class, method whose default the rule reproduces, rule); a subclass that overrides that method falls back to it
_TORCH_RULES = (
    (nn.Linear, "reset_parameters", _linear),
    (_ConvNd, "reset_parameters", _linear),
    (nn.Bilinear, "reset_parameters", _bilinear),
    (nn.Embedding, "reset_parameters", _embedding_rule),
    (nn.EmbeddingBag, "reset_parameters", _embedding_rule),
    (_NormBase, "reset_parameters", _norm_base),
    (nn.LayerNorm, "reset_parameters", _affine_norm),
    (nn.GroupNorm, "reset_parameters", _affine_norm),
    (nn.RMSNorm, "reset_parameters", _affine_norm),
    (nn.MultiheadAttention, "_reset_parameters", _mha),
    (nn.RNNBase, "reset_parameters", _rnn),
    (nn.RNNCellBase, "reset_parameters", _rnn),
    (nn.PReLU, "reset_parameters", _prelu),
    (nn.Transformer, "_reset_parameters", _transformer),
)


# --- schemes "gpt2" / "llama": HF _init_weights conventions (by isinstance, like HF) --------------------------
def _hf_weight(m, ctx, prefix):
    s = ctx.scheme
    residual = s.n_layer is not None and prefix.rpartition(".")[2] in s.residual
    std = s.std / math.sqrt(2 * s.n_layer) if residual else s.std
    return _normal(std, " residual: std/√(2·n_layer)" if residual else "")


def _hf_linear(m, ctx, prefix):
    return {"weight": _hf_weight(m, ctx, prefix), **({"bias": ZEROS} if getattr(m, "bias", None) is not None
                                                     else {})}


def _hf_mha(m, ctx, prefix):
    out = {}
    w = _normal(ctx.scheme.std)
    for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight", "bias_k", "bias_v"):
        if getattr(m, name, None) is not None:
            out[name] = w
    if m.in_proj_bias is not None:
        out["in_proj_bias"] = ZEROS
        out["out_proj.bias"] = ZEROS
    return out


_HF_RULES = ((nn.Linear, _hf_linear), (_ConvNd, _hf_linear), (nn.Embedding, _embedding_rule),
             (nn.EmbeddingBag, _embedding_rule), (_NormBase, _norm_base), (nn.LayerNorm, _affine_norm),
             (nn.GroupNorm, _affine_norm), (nn.RMSNorm, _affine_norm), (nn.MultiheadAttention, _hf_mha))


def _class_name(m: nn.Module) -> str:
    """A module's class name, beneath the ``FSDP<Name>`` subclass FSDP2's ``fully_shard`` gives it (a sharded
    ``Conv1D`` is an ``FSDPConv1D``): the name the rules found by class name, the summary and the messages read."""
    bases = type(m).__bases__
    return (bases[1] if len(bases) == 2 and bases[0].__name__ == "FSDPModule" else type(m)).__name__


def _rule(m: nn.Module, prefix: str, ctx: _Context) -> dict | None:
    """The {relative name: method} a module's default would give, or None when fastinit has no rule for it."""
    if ctx.scheme.name != "torch":
        for cls, rule in _HF_RULES:
            if isinstance(m, cls):
                return rule(m, ctx, prefix)
        if _class_name(m) == "Conv1D":
            return _hf_linear(m, ctx, prefix)
    for cls, method, rule in _TORCH_RULES:
        if isinstance(m, cls):
            if cls is nn.Transformer and ctx.scheme.name != "torch":  # HF: every Linear below it is a Linear
                return None
            return rule(m, ctx, prefix) if getattr(type(m), method, None) is getattr(cls, method) else None
    if not hasattr(m, "reset_parameters"):  # duck-typed classes that initialize in __init__ (HF style)
        name = _class_name(m)
        if name == "Conv1D":
            return _hf_conv1d(m, ctx, prefix)
        if name.endswith(("RMSNorm", "LayerNorm")) and set(m._parameters) <= {"weight", "bias"}:
            names = [k for k, v in m._parameters.items() if v is not None]
            constants = _parsed_constants(type(m), tuple(names))
            if constants is None:
                warnings.warn(f"materialize: {name}.__init__ does not plainly set {names} to torch.ones / torch.zeros; "
                              "they get weight 1 and bias 0, the usual start of a norm (Gemma's RMSNorm starts at 0): "
                              "give overrides where that is wrong", UserWarning, stacklevel=2)
                return _affine_norm(m, ctx, prefix)
            return dict(constants)  # (a copy of the cached one)
    return None


_PARSED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # class -> {names: (its classes' __init__ codes,
# constants)}


def _parsed_constants(cls: type, names: tuple) -> dict | None:
    """:func:`_constructed_constants`, parsed once per class (again where an ``__init__`` of it or of a base is
    another), the classes not held."""
    code = tuple(getattr(vars(k).get("__init__"), "__code__", None) for k in cls.__mro__)  # (a base's counts too)
    held = _PARSED.setdefault(cls, {}).get(names)
    if held is None or held[0] != code:
        held = _PARSED[cls][names] = code, _constructed_constants(cls, names)
    return held[1]


def _constructed_constants(cls: type, names: tuple) -> dict | None:
    """{name: ONES | ZEROS} as the ``__init__`` of ``cls`` (or of the nearest base class that sets it) sets each of
    ``names``: one plain ``self.weight = nn.Parameter(torch.ones(d))`` / ``torch.zeros(...)`` at the top level of
    the method, read from its syntax tree (comments aside).  None when the source says otherwise or not plainly
    (a conditional or repeated assignment, arithmetic, a variable, or a subclass's ``__init__`` reading it after
    its base set it: ``nn.init.zeros_(self.weight)``) for any of them.  A norm's weight is not always
    1: Gemma's RMSNorm starts at 0 and scales by (1 + weight)."""
    found: dict = {}
    for klass in cls.__mro__:
        if all(n in found for n in names):
            break
        if klass in (nn.Module, object) or "__init__" not in vars(klass):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass.__init__)))
        except (OSError, TypeError, SyntaxError):  # no source (a compiled or built-in class)
            return None
        assigned = _parameter_assignments(tree.body[0])
        for local, value in assigned.items():
            found.setdefault(local, value)  # a subclass's assignment before its base's
        for local in _self_reads(tree.body[0]) - assigned.keys():  # a subclass's __init__ reading the base's
            found.setdefault(local, None)  # (nn.init.zeros_(self.weight) after super().__init__()): not plain
    values = [found.get(n) for n in names]
    return None if None in values else dict(zip(names, values))


def _parameter_assignments(fn: ast.AST) -> dict:
    """{attribute: ONES | ZEROS | None} of the ``self.<attribute> = ...`` assignments in the method ``fn`` (``self``
    being its first parameter, whatever its name): the constant of a top-level ``Parameter(torch.ones(...))`` /
    ``zeros``, None for anything else (nested in a condition or loop, assigned twice, or another value; read in
    the method too: ``nn.init.ones_(self.weight)`` after it, or a helper handed it, may change it)."""
    me = fn.args.args[0].arg if fn.args.args else "self"
    out: dict = {}
    for stmt in fn.body:
        for node in ast.walk(stmt):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
                continue
            target = node.targets[0]
            if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                    and target.value.id == me):
                continue
            constant = _ones_or_zeros(node.value) if node is stmt else None  # nested: conditional
            out[target.attr] = None if target.attr in out else constant
    for attr in _self_reads(fn) & out.keys():
        out[attr] = None
    return out


def _self_reads(fn: ast.AST) -> set:
    """The attributes of ``self`` (the method's first parameter) that the method ``fn`` reads."""
    me = fn.args.args[0].arg if fn.args.args else "self"
    return {node.attr for node in ast.walk(fn) if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)
            and isinstance(node.value, ast.Name) and node.value.id == me}


def _ones_or_zeros(value: ast.AST):
    """ONES / ZEROS for ``[nn.]Parameter(torch.ones(...))`` / ``zeros`` (also ``data=``), else None."""
    def called(node, *names):
        f = node.func if isinstance(node, ast.Call) else None
        return (f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None) in names

    if not called(value, "Parameter"):
        return None
    data = value.args[0] if value.args else next((k.value for k in value.keywords if k.arg == "data"), None)
    return ONES if called(data, "ones") else ZEROS if called(data, "zeros") else None


def _own_init(m: nn.Module) -> str | None:
    """The method a module without a rule initializes itself with: the one of :data:`_TORCH_RULES` its class
    overrides (a Transformer subclass's ``_reset_parameters``), else ``reset_parameters`` if it has one."""
    for cls, method, _ in _TORCH_RULES:
        if isinstance(m, cls) and getattr(type(m), method, None) is not getattr(cls, method):
            return method
    return "reset_parameters" if callable(getattr(m, "reset_parameters", None)) else None


# --- overrides ----------------------------------------------------------------------------------------------
def _shortcut(name: str, scheme: Scheme) -> _Method:
    """The method of a shortcut but ``"default"`` (which overrides nothing: the tensor is exempt)."""
    return {"zeros": ZEROS, "ones": ONES, "normal": _normal(scheme.std), "trunc_normal": _trunc_normal(scheme.std),
            "keep": _KEEP}[name]


def _noop(t, seed, stream, place) -> None:
    pass


_KEEP = _Method("keep (current values)", _noop, any_dtype=True, check=False)


def _refresh_flat_weights(modules: list) -> None:
    """An RNN's ``_flat_weights`` list names its tensors: again after they are replaced (``to_empty`` does it too)."""
    for _, m in modules:
        if isinstance(m, nn.RNNBase):
            with torch.no_grad(), _no_state_updates(m):  # it evaluates parametrized weights: no power iteration
                m._init_flat_weights()


@contextlib.contextmanager
def _given_back_on_failure(given: list, modules: list):
    """On a failure inside (a fill, a fallback or a callable at its turn), every tensor a new one replaced
    (``given``: (store, name, the tensor as given)) is put back: a built model's values, dtype and objects, a meta
    model's meta tensors, not the later modules' new, unfilled memory (a review, 2026-12-06 (f))."""
    try:
        yield
    except BaseException:
        for store, local, t in given:
            store[local] = t
        _refresh_flat_weights(modules)
        raise


@contextlib.contextmanager
def _torch_rng(seed: int, device: torch.device):
    """torch's global generator (of ``device``'s type too) seeded with ``seed`` inside, restored after: for torch
    code materialize runs (a fallback reset_parameters, a right_inverse that draws), so that its values follow
    materialize's seed and the caller's generator is left as it was."""
    with torch.random.fork_rng(devices=[] if device.type == "cpu" else [device.index or 0], device_type=device.type):
        torch.manual_seed(seed)
        yield


def _holder(e: "_Entry") -> tuple[dict, str]:
    """The dict of ``e``'s owner that holds it (``_parameters`` or ``_buffers``), and its key there."""
    return e.owner._parameters if e.kind == "parameter" else e.owner._buffers, e.name.rpartition(".")[2]


def _registered(e: "_Entry") -> bool:
    """Whether ``e``'s owner still holds ``e.tensor`` under its name (not a tensor assigned in its place)."""
    holder, local = _holder(e)
    return holder.get(local) is e.tensor


def _restore(backup: list) -> None:
    """Put back (entry, copy) pairs, the entry's tensor registered again where a failed fallback assigned another:
    a built model's tensors as they were, not NaN."""
    with torch.no_grad():
        for e, values in backup:
            e.tensor.detach().copy_(values)
            if not _registered(e):
                holder, local = _holder(e)
                holder[local] = e.tensor


@contextlib.contextmanager
def _no_state_updates(m: nn.Module):
    """Evaluate ``m``'s parametrizations (a rule reads ``m.weight``; a parametrized tensor's shape) in eval mode:
    spectral_norm's power iteration updates its ``_u`` and ``_v`` in place in training mode, which planning must
    not do (a refused call changes nothing; a kept buffer keeps its values)."""
    chains = [p for chain in m.parametrizations.values() for p in chain.modules()] \
        if parametrize.is_parametrized(m) else []
    training = [p.training for p in chains]
    for p in chains:
        p.training = False
    try:
        yield
    finally:
        for p, mode in zip(chains, training):
            p.training = mode


def _originals(chain: parametrize.ParametrizationList) -> list:
    return [chain.original] if chain.is_tensor else [getattr(chain, f"original{i}") for i in range(chain.ntensors)]


def _reparametrized(holder: nn.Module, local: str, method: _Method, name: str) -> tuple | None:
    """A rule's tensor that ``torch.nn.utils.parametrize`` turned into a parametrization (weight_norm,
    spectral_norm, orthogonal, ... of ``torch.nn.utils.parametrizations``): None when ``local`` is not
    parametrized, else (the tensors the rule sets, a placeholder method, ``assign(entries)``).  Each tensor first
    gets the placeholder (also what a "default" override gives it); ``assign``, once overrides are known, leaves an
    overridden tensor to its override and gives the others their methods.  The first original so left computes
    the rule's values for the unparametrized tensor (stream: its name ``name``, so they are the plain module's
    values) in a temporary of its size and assigns it, so the parametrization's ``right_inverse`` sets the
    originals, as registering it on an initialized module does (torch's generator, where a right_inverse draws,
    seeded from (seed, name)); each original keeps its own memory, and an overridden one its values.  A spectral
    norm first in the chain also gets what its constructor gives: ``_u``, ``_v`` drawn N(0, 1) (streams: their
    names), normalized, then 15 power iterations on the weight as overrides leave it (they run after them); a
    vector an override names is left to it, and then no power iteration runs.  The originals are also known by
    ``name``: an override matching it sets them through right_inverse with its values (``assign``'s ``rule``)."""
    if not parametrize.is_parametrized(holder, local):
        return None
    chain = holder.parametrizations[local]
    originals = _originals(chain)
    with torch.no_grad(), _no_state_updates(holder):
        shape = tuple(getattr(holder, local).shape)  # free on meta; one evaluation of the parametrization otherwise
    norm = chain[0] if chain.is_tensor and isinstance(chain[0], _SpectralNorm) and hasattr(chain[0], "_u") else None
    vectors = {b: getattr(norm, b) for b in ("_u", "_v")} if norm is not None else {}
    placeholder = _Method(f"{method.label}, set as {name} through right_inverse", _noop, check=False)

    def assign(entries: dict, rule: _Method | None = None) -> None:
        """``rule``: an override naming the parametrized tensor (``0.weight``, its module's class), in the rule's
        stead."""
        rule = rule or method
        written = [i for i, x in enumerate(originals) if entries[id(x)].method is placeholder]
        drawn = {b: entries[id(x)].name for b, x in vectors.items() if entries[id(x)].method is placeholder}
        missing = [type(p).__name__ for p in chain if not hasattr(p, "right_inverse")]
        where = f"{name.rpartition('.')[0] or '<root>'}.parametrizations.{local}'s original tensors"
        if written and missing:
            raise ValueError(f"{name} is parametrized by {missing}, which define no right_inverse, so materialize "
                             f"cannot set it from its rule; give {where} overrides")
        if written and any(_ft()._dtensor(x) for x in originals):
            raise ValueError(f"{name} is parametrized, and its originals are DTensors, which its right_inverse cannot "
                             f"set from the whole weight; give {where} overrides, or register the parametrization "
                             "after materialize")

        def fill(t, seed, stream, place):
            value = torch.empty(shape, dtype=t.dtype, device=t.device)
            rule.fill(value, seed, name, {})
            current = _originals(chain)
            memory = [o.detach() for o in current]  # right_inverse's set_ gives each original its result's memory
            with torch.no_grad(), _torch_rng(_fallback_seed(seed, name), t.device):
                setattr(holder, local, value)  # right_inverse -> the originals (all of them)
                for i, (o, own) in enumerate(zip(current, memory)):
                    if i in written:
                        own.copy_(o)
                    o.set_(own)  # back in its own memory (strides, optimizers); an overridden one as it was

        def check(twin, seed, stream, place):
            rule.dry_run(torch.empty(shape, dtype=twin.dtype, device="meta"), seed, name, {})

        def draw(t, seed, stream, place):
            for b, qualified in drawn.items():
                vec = getattr(norm, b)  # the buffer as allocated (planning saw the meta one)
                _ft().normal_(vec, seed=seed, stream=qualified)
                vec.copy_(nn.functional.normalize(vec, dim=0, eps=norm.eps))
            if len(drawn) == len(vectors):  # an override on either: the vectors are the overrides' to set
                norm._power_method(norm._reshape_weight_to_matrix(chain.original), 15)

        def give(tensors: list, first: _Method) -> None:
            """``first`` to the first of ``tensors``, which sets them all; a record of that to the others."""
            for x in tensors:
                entries[id(x)].method = first if x is tensors[0] else _Method(
                    f"set with {entries[id(tensors[0])].name}", _noop, any_dtype=True, placeable=False)

        give([originals[i] for i in written], _Method(f"{rule.label}, set as {name} through right_inverse", fill,
                                                      check=check, placeable=False))
        iterated = f", 15 power iterations on {name}" if len(drawn) == len(vectors) else ""
        give([vectors[b] for b in drawn], _Method(f"normal(0, 1) normalized{iterated}", draw, check=False, late=True))

    return originals + list(vectors.values()), placeholder, assign


def _origin(fn) -> str:
    """The module of a callable, seen through functools.partial."""
    return getattr(_unwrapped(fn)[0], "__module__", "") or ""


def _wants_numpy(fn) -> bool:
    """fastinit's NumPy-level initializers (fastinit.normal_, ...) get the tensor's NumPy view."""
    mod = _origin(fn)
    return mod.startswith("fastinit.") and mod not in ("fastinit.torch", __name__)


def _callable_method(fn: Callable, name: str, placed: bool, sharded: bool = False) -> _Method:
    """``fn`` as an override: handed the keywords of ``seed``, ``stream``, ``global_shape``, ``offset`` it takes
    (all of them through ``**kwargs``) and does not bind already; fastinit's NumPy-level initializers on a DTensor
    (``sharded``) get its local shard, placed by those keywords (a constant, as it is).  Repeatable (``pure``: filled
    before a fallback that reads its tensor too) where it names ``seed`` and does not bind it to None (a fresh seed
    each call)."""
    base, bound = _unwrapped(fn)  # (the keywords its partials bind, the outer's first: the caller's to keep)
    label = getattr(fn, "__name__", None) or getattr(getattr(fn, "func", None), "__name__", None) or repr(fn)
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = None
    named = {p.name for p in params or () if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    keys = {"seed", "stream", "global_shape", "offset"}
    accepted = (keys if params is None or any(p.kind is p.VAR_KEYWORD for p in params) else keys & named) \
        - bound.keys()
    numpy_view = _wants_numpy(fn)
    if sharded and numpy_view and base in WHOLE_TENSOR:
        raise ValueError(f"overrides: fastinit.{base.__name__} for {name!r}, a DTensor: its values depend on the "
                         f"whole tensor, which a rank's shard is not; give fastinit.torch.{base.__name__}, which fills "
                         "each rank's block of it")
    if sharded and numpy_view and "seed" in bound and bound["seed"] is None:
        raise ValueError(f"overrides: fastinit.{base.__name__} for {name!r}, a DTensor, binds seed=None: a rank "
                         "whose shard is empty would draw no seed from fastinit's generator and fall out of step with "
                         "the others; bind a seed, or leave seed= to materialize")
    anywhere = position_free(fn)  # (a constant: the local shard filled as it is)
    if (placed or sharded and numpy_view and not anywhere) and not {"global_shape", "offset"} <= accepted:
        raise ValueError(f"overrides: the initializer for {name!r} takes no global_shape=/offset= keywords, so it "
                         f"cannot fill its shard ({'placement=' if placed else 'a DTensor'}'s)")

    def fill(t, seed, stream, place):
        kw = {k: v for k, v in dict(seed=seed, stream=stream, **place).items() if k in accepted}
        if numpy_view:
            held = t
            if _ft()._dtensor(t):  # its local shard, as the block at its offset of the global tensor
                held, offset = _ft()._local_block(t, f"materialize: overrides for {name!r}")
                if not anywhere:
                    kw = {**kw, "global_shape": tuple(t.shape), "offset": offset}
            if held is not None:
                fn(_ft().as_numpy(held), **kw)
            torch.autograd.graph.increment_version(t)
        else:
            fn(t, **kw)

    def check(twin, seed, stream, place):  # fastinit's NumPy-level initializers: their check on an empty block,
        kw = {k: v for k, v in dict(seed=seed, stream=stream).items() if k in accepted}  # placed in the whole shape
        shape = place.get("global_shape", tuple(twin.shape))
        check_by_empty_fill(fn, shape, _ft()._numpy_dtype(twin.dtype), {"global_shape", "offset"} <= accepted, **kw)

    # fastinit.torch's initializers check a meta tensor; a user's callable may not run on one: left to its turn
    checked = check if numpy_view else _origin(fn) == "fastinit.torch"
    pure = bound["seed"] is not None if "seed" in bound else "seed" in named
    return _Method(f"override {label}", fill, any_dtype=True, check=checked, pure=pure)


def _check_overrides(overrides) -> list:
    if overrides is None:
        return []
    if not isinstance(overrides, Mapping):
        raise TypeError(f"overrides must be a mapping {{pattern or module type: initializer}}, got "
                        f"{type(overrides).__name__}")
    items = []
    for key, value in overrides.items():
        if not (isinstance(key, (str, re.Pattern)) or isinstance(key, type) and issubclass(key, nn.Module)):
            raise TypeError(f"overrides keys must be glob strings, compiled regexes or nn.Module subclasses, "
                            f"got {key!r}")
        if isinstance(value, str):
            if value not in SHORTCUTS:
                raise ValueError(f"overrides[{key!r}]: unknown shortcut {value!r}; accepted: {SHORTCUTS} or a "
                                 "callable initializer")
        elif not callable(value):
            raise TypeError(f"overrides[{key!r}] must be a callable initializer or one of {SHORTCUTS}, got "
                            f"{value!r}")
        items.append((key, value))
    return items


def _key_index(rules: list) -> tuple[dict, list]:
    """The overrides keys by kind: {name: indices} of those with no glob character (``*?[``: ``fnmatchcase`` is
    equality for them), and the indices of the others (globs, regexes, module types), which :func:`_matching`
    tries one by one: a key per tensor costs a lookup, not a scan of every key (tensors × keys)."""
    exact, other = {}, []
    for i, (key, _) in enumerate(rules):
        if isinstance(key, str) and not any(c in key for c in "*?["):
            exact.setdefault(key, []).append(i)
        else:
            other.append(i)
    return exact, other


def _matching(rules: list, index: tuple, names: tuple, owners: tuple, kind: str) -> list:
    """The indices of the overrides keys that match a tensor (:func:`_match`), in the order given."""
    exact, other = index
    found = {i for n in names for i in exact.get(n, ())}
    found.update(i for i in other if _match(rules[i][0], names, owners, kind))
    return sorted(found)


def _match(key, names: tuple, owners: tuple, kind: str) -> bool:
    """Does an overrides key match a tensor known under ``names`` (a tied tensor has several), owned by
    ``owners``?"""
    if isinstance(key, str):
        return any(fnmatch.fnmatchcase(n, key) for n in names)
    if isinstance(key, re.Pattern):
        return any(key.search(n) is not None for n in names)
    return kind == "parameter" and any(isinstance(o, key) for o in owners)


# --- placement ----------------------------------------------------------------------------------------------
def _check_place(name: str, local: tuple, spec) -> dict:
    """A placement as the core takes it, ints only (a float 6.9 was read as 6: another shard), or a refusal
    naming the parameter."""
    try:
        global_shape, offset = spec
    except (TypeError, ValueError):
        raise TypeError(f"placement for {name!r} must be a pair (global_shape, offset), got {spec!r}") from None
    try:
        global_shape, offset = shape_tuple(global_shape, "global_shape"), shape_tuple(offset, "offset")
        place_block(local, global_shape, offset)
    except (TypeError, ValueError) as e:
        raise type(e)(f"placement for {name!r} (a local shard of shape {local}): {e}") from None
    return {"global_shape": global_shape, "offset": offset}


# --- summary ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParamRecord:
    """What materialize did to one tensor (``aliases``: other names of a shared parameter)."""

    name: str
    kind: str  # "parameter" or "buffer"
    module: str  # class name of the module owning ``name``
    method: str
    numel: int
    nbytes: int
    seconds: float
    aliases: tuple = ()


@dataclass
class MaterializeSummary:
    """Returned by :func:`materialize`: per-tensor records, totals, and the modules that fell back."""

    seed: int
    scheme: Scheme
    device: str
    records: dict = field(default_factory=dict)
    fallbacks: dict = field(default_factory=dict)  # module name -> class whose reset_parameters() ran (or "Class, by
    # Model._init_weights()": a Hugging Face model's own init of the module)
    seconds: float = 0.0

    def __getitem__(self, name: str) -> ParamRecord:
        return self.records[name]

    def __iter__(self) -> Iterator[ParamRecord]:
        return iter(self.records.values())

    def __len__(self) -> int:
        return len(self.records)

    @property
    def numel(self) -> int:
        """Number of parameter elements (each shared parameter counted once)."""
        return sum(r.numel for r in self if r.kind == "parameter")

    @property
    def nbytes(self) -> int:
        """Bytes of parameters (each shared parameter counted once)."""
        return sum(r.nbytes for r in self if r.kind == "parameter")

    def by_method(self) -> dict:
        """{method: (tensors, elements, bytes, seconds)} over all records."""
        out: dict = {}
        for r in self:
            n, e, b, s = out.get(r.method, (0, 0, 0, 0.0))
            out[r.method] = (n + 1, e + r.numel, b + r.nbytes, s + r.seconds)
        return out

    def table(self, limit: int | None = None) -> str:
        """One line per tensor (the first ``limit`` when given)."""
        rows = list(self)[:limit] if limit is not None else list(self)
        names = [r.name + (f" (= {', '.join(r.aliases)})" if r.aliases else "") for r in rows]
        w = max([len(n) for n in names] + [4])
        wm = max([len(r.method) for r in rows] + [6])
        mods = [r.module + ("" if r.kind == "parameter" else " [buffer]") for r in rows]
        wt = max([len(m) for m in mods] + [6])
        lines = [f"{'name':<{w}}  {'module':<{wt}}  {'method':<{wm}} {'numel':>13} {'MiB':>9} {'ms':>8}"]
        for n, mod, r in zip(names, mods, rows):
            lines.append(f"{n:<{w}}  {mod:<{wt}}  {r.method:<{wm}} {r.numel:>13,} "
                         f"{r.nbytes / 2**20:>9.2f} {r.seconds * 1e3:>8.2f}")
        if limit is not None and len(self) > limit:
            lines.append(f"... and {len(self) - limit} more (summary.table() lists all)")
        return "\n".join(lines)

    def __str__(self) -> str:
        head = (f"materialize: {self.numel:,} parameters ({self.nbytes / 2**20:.1f} MiB) on {self.device} in "
                f"{self.seconds:.3f} s, seed {self.seed}, scheme {self.scheme.name!r}")
        groups = [f"  {m}: {n} tensor{'s' * (n != 1)}, {e:,} elements, {s * 1e3:.1f} ms" for m, (n, e, b, s) in
                  self.by_method().items()]
        calls = ", ".join(f"{k or '<root>'} ({v})" for k, v in self.fallbacks.items())
        fb = [f"fallbacks (reset_parameters(), or a Hugging Face model's _init_weights()): {calls}"] \
            if self.fallbacks else []
        return "\n".join([head, "by method:", *groups, *fb, self.table(limit=40)])


# --- materialize --------------------------------------------------------------------------------------------
@dataclass
class _Entry:
    name: str
    kind: str
    tensor: torch.Tensor
    owner: nn.Module
    owner_name: str
    aliases: tuple
    method: _Method | None = None
    at: str | None = None  # module whose rule fills it (None: an override, filled last)
    place: dict = field(default_factory=dict)
    was_meta: bool = False
    hf: bool = False  # filled by a Hugging Face model's _init_weights (a fallback of its own module's or an ancestor's)
    partial: str | None = None  # that fallback's module, where it writes a part of the tensor only (a row): its rule
    # fills the tensor first
    early: bool = False  # filled before the fallback of the module its ``at`` names (a law of that call, which its
    # code may read; a partly written tensor's rule), not after it as rules are

    @property
    def overridden(self) -> bool:
        return self.method is not None and self.at is None


def _below(m: nn.Module, entries: dict) -> list:
    """The entries of the parameters and buffers below ``m``."""
    return [entries[id(t)] for t in (*m.parameters(), *m.buffers()) if id(t) in entries]


def _fallback_seed(seed: int, module_name: str) -> int:
    return hash64(f"{seed}:{module_name}".encode()) >> 1


def _with_hf_config(scheme: Scheme, module: nn.Module) -> Scheme:
    """``scheme`` with what it leaves to the model resolved.  ``std=None``: on a Hugging Face model (its ``config``
    a transformers config), the std HF's base ``_init_weights`` draws with — the config's ``initializer_range``,
    else its ``init_std`` (BART), else its text config's ``initializer_range`` (Llava), 0.02 where that is not a
    finite number > 0 (HF: ``initializer_range or 0.02``) — else 0.02.  (Not ``initializer_factor``, which HF's base
    also takes: CLIP's and T5's own inits scale it per module, and 1.0 would be no linear layer's std.)
    ``"gpt2"`` without ``n_layer`` on a Hugging Face GPT-2 (its config's ``model_type``): the config's ``n_layer``,
    by which HF's GPT-2 ``_init_weights`` scales the residual projections; other models' depth is left alone (an
    encoder-decoder's ``num_hidden_layers`` is its encoder's)."""
    config = getattr(module, "config", None)
    hf = type(config).__module__.split(".")[0] == "transformers"
    if scheme.std is None:
        std = None
        if hf and hasattr(config, "initializer_range"):
            std = config.initializer_range
        elif hf and hasattr(config, "init_std"):
            std = config.init_std
        elif hf and callable(getattr(config, "get_text_config", None)):
            try:
                std = getattr(config.get_text_config(), "initializer_range", None)
            except Exception:  # (a config whose text config cannot be told)
                std = None
        ok = isinstance(std, (int, float)) and not isinstance(std, bool) and math.isfinite(std) and std > 0
        scheme = replace(scheme, std=float(std) if ok else 0.02)
    if scheme.name != "gpt2" or scheme.n_layer is not None or not hf or getattr(config, "model_type", None) != "gpt2":
        return scheme
    depth = getattr(config, "n_layer", None)
    return replace(scheme, n_layer=depth) if isinstance(depth, int) and not isinstance(depth, bool) and depth >= 1 \
        else scheme


def _post_order(modules: list) -> list:
    """``modules`` (``named_modules()``: pre-order, each module once) with every module after its descendants and
    siblings in their registration order: the order of construction, where a module's ``reset_parameters()`` runs
    at the end of its ``__init__``, after its children's, and of Hugging Face's ``smart_apply``."""
    out, open_ = [], []
    for prefix, m in modules:
        while open_ and not (open_[-1][0] == "" or prefix.startswith(open_[-1][0] + ".")):
            out.append(open_.pop())
        open_.append((prefix, m))
    return out + open_[::-1]


def _hf_models(modules: list) -> dict:
    """{prefix: the nearest Hugging Face ``PreTrainedModel`` at or above that module} over ``modules`` (the
    ``named_modules()`` list), for models of transformers 5 or later, whose ``_init_weights`` also writes the values
    a model computes rather than draws (rotary ``inv_freq``, ``position_ids``, Gemma's ``embed_scale``, sinusoidal
    position tables), which a model built on the meta device lacks; transformers 4's leaves buffers alone."""
    if "transformers.initialization" not in sys.modules:  # transformers 5's init functions, which its models import
        return {}
    out: dict = {}
    for prefix, m in modules:  # pre-order: a module's parent comes first
        if any(c.__name__ == "PreTrainedModel" and c.__module__.split(".")[0] == "transformers"
               for c in type(m).__mro__) and callable(getattr(m, "_init_weights", None)):
            out[prefix] = m
        elif prefix:
            parent = out.get(prefix.rpartition(".")[0])
            if parent is not None:
                out[prefix] = parent
    return out


@contextlib.contextmanager
def _hf_flags(done: Iterable[torch.Tensor], todo: Iterable[torch.Tensor]):
    """transformers' ``_is_hf_initialized`` flag, which its init functions obey, set on ``done`` (fastinit fills them:
    HF's init neither draws a 256k-row embedding again nor changes it) and taken off ``todo`` (what HF's init is
    asked to write: a model loaded by ``from_pretrained`` has every tensor flagged); all put back after."""
    marked = [t for t in done if not hasattr(t, "_is_hf_initialized")]
    cleared = [(t, t._is_hf_initialized) for t in todo if hasattr(t, "_is_hf_initialized")]
    for t in marked:
        t._is_hf_initialized = True
    for t, _ in cleared:
        del t._is_hf_initialized
    try:
        yield
    finally:
        for t in marked:
            del t._is_hf_initialized
        for t, flag in cleared:
            t._is_hf_initialized = flag


@contextlib.contextmanager
def _unsharded(dtensors: list, modules: list):
    """Hugging Face's ``_init_weights`` on DTensors (FSDP2's, tensor parallelism's): each of ``dtensors`` (entries)
    stands in the modules as a plain tensor of its global shape for the call (NaN: what it leaves unwritten is seen,
    as for a plain tensor), then each rank takes its block of it: the unsharded model's values.  Its code mixes plain
    tensors with the parameters (Whisper's sinusoids copied in, Mamba's ``A_log``), which DTensors refuse.  Costs
    one tensor of the global shape per such DTensor on each rank, for the call; nothing is copied where it raises."""
    twins = {}
    for e in dtensors:
        t = e.tensor
        twin = torch.full(tuple(t.shape), math.nan if t.is_floating_point() or t.is_complex() else 0, dtype=t.dtype,
                          device=t.device)
        twins[id(t)] = e, nn.Parameter(twin, requires_grad=t.requires_grad) if isinstance(t, nn.Parameter) else twin
    held = [(store, k, twins[id(v)]) for _, m in (modules if twins else ()) for store in (m._parameters, m._buffers)
            for k, v in store.items() if id(v) in twins]  # (every name a tied tensor has; none to look for: none)
    for store, k, (_, twin) in held:
        store[k] = twin
    try:
        yield
    finally:
        for store, k, (e, twin) in held:
            if store.get(k) is twin:  # (one assigned in its place: left there, and named as such)
                store[k] = e.tensor
    for e, twin in twins.values():
        local, offset = _ft()._local_block(e.tensor, e.name)
        if local is not None:
            _ft()._copy_block(local, offset, twin.detach())


_RANDOM = {"normal_", "uniform_", "bernoulli_", "random_", "exponential_", "cauchy_", "log_normal_", "geometric_",
           "rand", "randn", "randint", "randperm", "normal", "rand_like", "randn_like", "randint_like", "bernoulli",
           "multinomial", "poisson"}
# values nothing has set yet: until a write of computed values, what they hold is unknown (HF's orthogonal_ for a
# 16-bit tensor fills a float32 empty_like by nn.init.orthogonal_, which returns at once on a meta tensor)
_EMPTY = {"empty", "empty_like", "new_empty", "empty_strided", "new_empty_strided"}
_CONSTANT_INIT = {"zeros_", "ones_", "constant_", "eye_", "dirac_"}
_FACTORIES = {"new_tensor", "new_zeros", "new_ones", "new_full", "zeros_like", "ones_like", "full_like"}  # (the
# source's dtype and device only, not its values: trunc_normal_'s tensor.new_tensor(a).item())
_AS_NUMBER = {"item", "tolist", "__float__", "__int__", "__index__", "__bool__", "__complex__", "numpy", "__array__",
              "equal", "allclose", "is_nonzero"}  # (values out as Python numbers)
_SHAPED = _FACTORIES | _EMPTY | {"rand_like", "randn_like", "randint_like"}  # their first argument's shape, dtype
# and device only: not a read of its values
_LIKE = {"to", "type_as", "expand_as", "view_as", "reshape_as"}  # their other tensor's shape, dtype or device only
_RESHAPING = {"t_", "transpose_", "swapdims_", "swapaxes_", "squeeze_", "unsqueeze_", "resize_", "resize_as_",
              "as_strided_", "set_", "__set__"}  # in-place calls that change a tensor's shape or memory


def _storage(t: torch.Tensor) -> int | None:
    """The address of ``t``'s storage; None for a meta or sparse tensor (none to tell)."""
    return None if t.device.type == "meta" or t.layout != torch.strided else t.untyped_storage().data_ptr()


def _tensors(xs) -> list:
    """The tensors among ``xs`` (arguments: lists and tuples of them too)."""
    out = []
    for x in xs:
        if isinstance(x, torch.Tensor):
            out.append(x)
        elif isinstance(x, (list, tuple)):
            out.extend(_tensors(x))
    return out


class _Writes(torch.overrides.TorchFunctionMode):
    """A dry run of HF's ``_init_weights``: every in-place torch call on a tensor (``normal_``, ``copy_``,
    ``nn.init.*_``, item assignment) is recorded, not run, with how it would write: ``"copy_"`` of values computed
    from no random draw (a sinusoidal table: computed), a law (:func:`_init_law`, :func:`_constant_law`, an
    embedding's padding row) where the whole tensor is written by one, else ``"draw"``. Whether a value comes from a
    draw is followed through every call (the outputs of a call with a drawn input are drawn): HF's orthogonal_ for a
    16-bit tensor draws into a float32 copy, then copy_s it in. ``storages`` ({storage address: {id: region}}, a
    region :func:`_region`'s) finds the
    tensor of a write through ``.data``, an alias without a ``_base``."""

    def __init__(self, storages: dict, known: set | None = None, _shared: tuple | None = None,
                 metas: dict | None = None, stand_ins: set | None = None):
        super().__init__()
        self.storages = storages
        self.known = known  # ids of the model's own tensors: a law is a call on one of them (not .data, a view)
        self.regions, self.entries = _shared or _tables(storages, known)  # (one run per module: _hf_writes
        # builds them once for all)
        self.rows: dict = {}  # id(view) -> (view, id(tensor), index): a row of a model's tensor (an embedding's pad
        # row), also through its .data
        self.written: dict = {}  # id(tensor) -> how the last in-place call wrote it
        self.whole: set = set()  # ids of tensors some call wrote whole (not only through a view of a part)
        self.unguarded: set = set()  # ids of tensors written by other than transformers' init functions
        self.tainted = False  # a value the dry run does not have read as a number (std = float(rand()), a model
        # tensor's .item()): no law after it
        self.metas = metas or {}  # id(stand-in) -> (it, its meta original): the real layout of a region written
        # through a view of it (a stand-in's strides are 0); shared by the runs, read only
        self.views: dict = {}  # the same for views of them, this run's
        self.stand_ins = stand_ins or set()  # ids of the stand-ins (shared, read only), whose values are meaningless
        self.junk: dict = {}  # id -> a tensor computed from them (shapes only, as for skipped draws)
        self.derived: dict = {}  # id -> (a tensor computed from the values of the model's tensors, their ids)
        self.aliased: list = []  # (ids, region, its meta original's or None) of writes through another object (a view,
        # .data), which carries no flag
        self.drawn: dict = {}  # id -> the tensor (held: its id is not reused during the run)
        self.unknown: dict = {}  # id -> a tensor whose values nothing observed has set (see _EMPTY)
        self.read: set = set()  # ids of the model's tensors whose values reach a write of a model tensor or a number
        # (not a view, the metadata, a shape or dtype taken)

    def _mark(self, marks: dict, tensors) -> None:
        marks.update((id(t), t) for t in tensors if t is not None)

    def _ids(self, t: torch.Tensor) -> set:
        ids = {id(t), id(t._base)}
        ids.update(self.storages.get(_storage(t), ()))
        return ids

    def _deps(self, tensors) -> set:
        """The ids of the model's tensors whose values ``tensors`` carry: theirs (a view, ``.data``) or those they
        were computed from."""
        deps: set = set()
        for t in tensors:
            deps |= self._ids(t) & self.entries
            held = self.derived.get(id(t))
            if held is not None:
                deps |= held[1]
        return deps

    def _carry(self, tensors, deps: set) -> None:
        for t in tensors:
            if t is not None:
                held = self.derived.get(id(t))
                self.derived[id(t)] = t, deps | (held[1] if held else set())  # (held: its id is not reused)

    def _junk(self, t: torch.Tensor) -> bool:
        return id(t) in self.stand_ins or id(t) in self.junk

    def _meta(self, t: torch.Tensor) -> torch.Tensor | None:
        """The meta original's view of a stand-in's view ``t`` (its real layout), or None."""
        held = self.views.get(id(t)) or self.metas.get(id(t))
        return None if held is None else held[1]

    def _view(self, func, args: tuple, kwargs: dict, inputs: list, out: torch.Tensor) -> None:
        """Where ``out`` is a view of a stand-in (or of a view of one), the same view of its meta original."""
        storage = _storage(out)
        src = next((t for t in inputs if self._meta(t) is not None and _storage(t) == storage), None)
        if storage is None or src is None:
            return
        meta = self._meta(src)

        def swap(x):
            return meta if x is src else type(x)(swap(v) for v in x) if isinstance(x, (list, tuple)) else x
        try:
            twin = func(*swap(args), **{k: swap(v) for k, v in kwargs.items()})
        except Exception:  # (no meta kernel: the region stays unknown, all of the tensor)
            return
        if isinstance(twin, torch.Tensor) and twin.is_meta and twin.shape == out.shape:
            self.views[id(out)] = out, twin  # (the view held: its id is not reused during the run)

    def _known(self, t: torch.Tensor) -> int | None:
        """The id of the model's tensor ``t`` is (or an alias of, ``.data``: the same region of its storage)."""
        if id(t) in self.known:
            return id(t)
        if t._base is not None or _storage(t) is None:
            return None
        region = _region(t)
        return next((i for i in self.storages.get(_storage(t), ()) if i in self.known and self.regions[i] == region),
                    None)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        inputs = _tensors(args) + _tensors(kwargs.values())
        target = args[0] if args else kwargs.get("tensor")  # (torch.nn.init passes its tensor by keyword)
        into = kwargs.get("out")  # a call computing into a tensor (init.eye_'s torch.eye(n, m, out=tensor))
        if isinstance(into, torch.Tensor):
            target = into
        in_place = isinstance(target, torch.Tensor) and (name in ("__setitem__", "__set__") or name.endswith("_")
                                                          and not name.startswith("_") or target is into)
        # (__set__: .data = ...)
        sources = [t for t in inputs if not in_place or t is not target]
        drawn = name in _RANDOM or name not in _FACTORIES and any(id(t) in self.drawn for t in sources) or \
            getattr(func, "__module__", "") == "torch.nn.init" and name not in _CONSTANT_INIT
        unknown = not drawn and (name in _EMPTY or any(id(t) in self.unknown for t in sources))
        junky = any(map(self._junk, sources))  # (values computed from stand-ins: meaningless)
        if in_place:
            how = "draw" if drawn or unknown else "copy_" if name in ("copy_", "__setitem__", "__set__") \
                or target is into else name
            region = _region(target)
            ids = {i for i in self._ids(target) if i in (id(target), id(target._base))
                   or _overlap(self.regions.get(i), region)}  # (not a sibling view of the same storage elsewhere:
            # transformers' Chunk conversions load tensors as views of one)
            whole = target._base is None and (self.known is None or self._known(target) is not None)  # (or its
            # .data: remote code's module.weight.data.normal_(mean, std))
            law = _init_law(target) if whole else None  # any write of a torch.nn.init sampler drawing it whole
            # (orthogonal_'s last is tensor.mul_(gain))
            if law is not None:
                how = law if not self.tainted else "draw"
            elif drawn and whole and not self.tainted:  # a whole tensor drawn by its own normal_ / uniform_
                how = _method_law(func, name, args, kwargs) or how
            elif not drawn and not unknown and whole and not self.tainted:
                how = _constant_law(name, args, kwargs) or how
            elif not drawn and not unknown and id(target) in self.rows and _constant_law(name, args, kwargs) == (
                    "constant", 0.0):  # a row of a tensor drawn N(0, std²) zeroed: an embedding's padding row
                _, base, index = self.rows[id(target)]
                prior = self.written.get(base)
                if isinstance(prior, tuple) and prior[:2] == ("init", "normal_") and dict(prior[2])["mean"] == 0:
                    how = "normal_pad", dict(prior[2])["std"], index
            if name not in _RANDOM and not ids & self.entries and (name in _RESHAPING or not drawn and not junky and
                                                                    id(target) not in self.drawn
                                                                    and not self._junk(target)):
                func(*args, **kwargs)  # a temporary's, run for what follows to see its shape (orthogonal_'s t_() of
                # its draw) or its computed values; not the arithmetic on a skipped draw (q *= sign(diag(r)))
            owner = self.rows[id(target)][1] if isinstance(how, tuple) and how[0] == "normal_pad" else id(target)
            lawful = {owner} | {i for i in ids if self.regions.get(i, ()) == self.regions.get(owner, region)}
            for i in ids | {owner}:  # a law is its tensor's and its aliases' (.data); a part of one is drawn
                self.written[i] = how if not isinstance(how, tuple) or i in lawful else "draw"
            if ids & self.entries and not _guarded(self.known or set()):
                self.unguarded.update(ids)
            both = (target, target._base)  # (the tensor it views: torch's orthogonal_ copies into tensor.view_as(q))
            deps = self._deps(sources)
            if ids & self.entries:  # (the values of those reach a model tensor: read by this call)
                self.read |= deps
            elif deps:  # (a temporary carrying them)
                self._carry(both, deps)
                if junky:
                    self._mark(self.junk, both)
            if name != "__setitem__":  # (w[:, 0] = x: a part of it, whatever the key)
                of = {id(target): region, **({id(target._base): _region(target._base)} if target._base is not None
                                             else {})}  # (a meta tensor's: not in regions)
                self.whole.update(i for i in ids if (i in self.regions or i in of) and _covers(
                    region, self.regions.get(i) or of[i]))  # (a view of all of it too: ViTMAE's xavier_uniform_ of
                # w.view(out, -1))
            if ids - {id(target)}:
                real = self._meta(target)
                self.aliased.append((ids - {id(target)}, region, None if real is None else _region(real)))
            if drawn:
                self._mark(self.drawn, both)
            elif unknown:
                self._mark(self.unknown, both)
            else:  # computed values written in
                for t in both:
                    self.unknown.pop(id(t), None)
            return target
        if name == "any" and drawn and len(args) == 1 and not kwargs:
            # "any rejected?" of a rejection sampler (torch's trunc_normal_) over draws not made: none, so that its
            # loop ends, not spin on stale memory (on the CPU: a meta bool, under `with torch.device("meta")`, has no
            # truth value)
            return torch.zeros((), dtype=torch.bool, device="cpu")
        out = None
        junk = name not in _FACTORIES and inputs and (drawn or junky) and all(  # (a factory's values: its
            self._junk(t) or id(t) in self.drawn and not self._ids(t) & self.entries for t in inputs)  # arguments)
        if junk:
            out = _shape_only(func, args, kwargs)  # values of skipped draws and of stand-ins: no need to compute
            # them (the QR of orthogonal_'s full-size draw, a rejection sampler's full-size masks over a stand-in, a
            # full-size float32 copy of a stand-in)
        if out is None:
            out = func(*args, **kwargs)
        read = _tensors(args[1:]) + _tensors(kwargs.values()) if name in _SHAPED else _tensors(args[:1]) \
            if name in _LIKE else inputs  # (the values a call takes: not those it takes a shape or dtype of)
        deps = self._deps(read)
        if name in _AS_NUMBER:  # (values out as a number: read)
            self.read |= deps
            if drawn or unknown or deps or junky:  # (its law's arguments would be the dry
                self.tainted = True  # run's, not HF's: the values of a skipped draw, of a stand-in, of a tensor
                # fastinit fills)
        if (self.metas or self.views) and isinstance(out, torch.Tensor) and out.device.type != "meta":
            self._view(func, args, kwargs, inputs, out)
        if drawn or unknown:
            self._mark(self.drawn if drawn else self.unknown, _tensors([out]))
        if deps:
            self._carry(_tensors([out]), deps)
        if junk and not drawn:
            self._mark(self.junk, _tensors([out]))
        if name == "__getitem__" and self.known is not None and len(args) == 2 and isinstance(args[1], int) \
                and not isinstance(args[1], bool) and isinstance(out, torch.Tensor) \
                and (base := self._known(target)) is not None:
            self.rows[id(out)] = out, base, args[1]  # (the view held: its id is not reused during the run)
        return out


# torch.nn.init's samplers whose law fastinit's kernels draw (and eye_, which draws nothing): {name: its parameters
# besides tensor and generator}
_INIT_LAWS = {"uniform_": ("a", "b"), "normal_": ("mean", "std"), "trunc_normal_": ("mean", "std", "a", "b"),
              "xavier_uniform_": ("gain",), "xavier_normal_": ("gain",),
              "kaiming_uniform_": ("a", "mode", "nonlinearity"), "kaiming_normal_": ("a", "mode", "nonlinearity"),
              "orthogonal_": ("gain",), "eye_": ()}


def _tables(storages: dict, known: set | None) -> tuple[dict, set]:
    """A dry run's {id: storage region} of the model's tensors and the ids no in-place call may change."""
    return ({i: region for held in storages.values() for i, region in held.items()},
            set(known or ()).union(*storages.values()))


def _shape_only(func, args: tuple, kwargs: dict):
    """``func``'s outputs for tensors whose values do not matter (draws the dry run skipped, stand-ins): run on meta
    twins of them, each output an uninitialized tensor of its shape, strides and dtype on the inputs' device (pages
    never touched), a bool one none set (a zero-stride False: a rejection mask of no rejection, as "any rejected?"
    is answered); None where that cannot be told or values may matter (a non-tensor result, an op meta tensors do not
    take, a view or an alias of an input, integer results: indices)."""
    device = (_tensors(args) + _tensors(kwargs.values()))[0].device
    twins: list = []

    def meta(x):
        if isinstance(x, torch.Tensor):
            twins.append(x.detach().to("meta"))
            return twins[-1]
        return type(x)(meta(v) for v in x) if isinstance(x, (list, tuple)) else x
    try:
        out = func(*meta(args), **{k: meta(v) for k, v in kwargs.items()})
    except Exception:  # (data-dependent shapes, ops without a meta kernel)
        return None
    outs = out if isinstance(out, tuple) else (out,)
    held = {_meta_storage(t) for t in twins}
    if not outs or not all(isinstance(o, torch.Tensor) and o.is_meta and o._base is None and (
            o.is_floating_point() or o.dtype == torch.bool) and _meta_storage(o) not in held | {None} for o in outs):
        return None  # (an alias: .data, detach(), to() of its own dtype give an input's storage back)

    def real(o):  # (a mask: none set, as "any rejected?" is answered, in no memory)
        if o.dtype == torch.bool:
            return torch.zeros((), dtype=torch.bool, device=device).expand(o.shape)
        return torch.empty_strided(o.shape, o.stride(), dtype=o.dtype, device=device)
    return type(out)(real(o) for o in outs) if isinstance(out, tuple) else real(out)


def _meta_storage(t: torch.Tensor) -> int | None:
    """An identity of a meta tensor's storage (shared by its aliases, views or not), None where torch has none."""
    return getattr(t.untyped_storage(), "_cdata", None)


def _region(t: torch.Tensor) -> tuple:
    """(storage offset, shape, strides) of ``t``: the elements of its storage it covers."""
    return t.storage_offset(), tuple(t.shape), t.stride()


def _overlap(a: tuple | None, b: tuple) -> bool:
    """Whether regions ``a`` (None: unknown) and ``b`` may share an element: their spans of the storage meet."""
    if a is None:
        return True
    (a0, a1), (b0, b1) = _span(a), _span(b)
    return a0 < b1 and b0 < a1


def _span(region: tuple) -> tuple:
    """[first, last + 1) storage elements of a region (empty: [offset, offset))."""
    offset, shape, strides = region
    if 0 in shape:
        return offset, offset
    low = offset + sum((n - 1) * s for n, s in zip(shape, strides) if s < 0)
    return low, offset + 1 + sum((n - 1) * s for n, s in zip(shape, strides) if s > 0)


def _covers(a: tuple, b: tuple) -> bool:
    """Whether region ``a`` holds every element of region ``b``: as many elements over the same span of the storage
    (the tensor itself, its .data, a reshaped view of all of it)."""
    return math.prod(a[1]) == math.prod(b[1]) and _span(a) == _span(b)


def _init_law(target: torch.Tensor) -> tuple | str | None:
    """``("init", name, ((parameter, value), ...))`` of the outermost torch.nn.init sampler of :data:`_INIT_LAWS`
    on the call stack drawing ``target`` (its ``tensor`` argument) with plain Python numbers (strings for kaiming's
    mode and nonlinearity) and no generator; ``"draw"`` where its arguments make no law (a write of that sampler:
    not the law of the tensor method it calls); None where no sampler draws ``target``.  Read off the stack because
    ``trunc_normal_``, ``xavier_*`` and ``kaiming_normal_`` take no torch-function dispatch: the mode sees only the
    tensor methods they call (``normal_``, ``uniform_``, a rejection loop), each of which is given the sampler's
    law."""
    found = None
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        if code.co_name in _INIT_LAWS and code.co_filename == nn.init.__file__ \
                and frame.f_locals.get("tensor") is target:
            found = frame
        frame = frame.f_back
    if found is None:
        return None
    given = found.f_locals
    name = found.f_code.co_name
    values = [given.get(k) for k in _INIT_LAWS[name]]
    if given.get("generator") is not None or not all(isinstance(v, str) or isinstance(v, (int, float)) and not
                                                     isinstance(v, bool) and math.isfinite(v) for v in values):
        return "draw"  # (a NumPy scalar: torch's calculate_gain refuses np.float32 as kaiming's slope)
    return "init", name, tuple((k, v if isinstance(v, str) else float(v)) for k, v in zip(_INIT_LAWS[name], values))


def _guarded(known: set) -> bool:
    """Whether the write under way is made by one of transformers' init functions (``transformers.initialization``)
    given a model's tensor (ids ``known``): they skip a tensor flagged ``_is_hf_initialized``, as a fallback's law
    and rule tensors are; torch's own functions, a tensor's methods and writes through ``.data`` write it whatever
    its flag."""
    hf = sys.modules.get("transformers.initialization")
    frame = sys._getframe(2)
    while hf is not None and frame is not None:
        if frame.f_code.co_filename == hf.__file__ and id(frame.f_locals.get("tensor")) in known:
            return True
        frame = frame.f_back
    return False


def _method_law(func, name: str, args: tuple, kwargs: dict) -> tuple | None:
    """The law of a tensor's own ``normal_(mean, std)`` / ``uniform_(from, to)`` (``Tensor`` methods: no module)
    with plain Python numbers and no generator, as :func:`_init_law` gives torch.nn.init's; None for any other."""
    if getattr(func, "__module__", None) is not None or name not in ("normal_", "uniform_"):
        return None
    names, ours = (("mean", "std"), ("mean", "std")) if name == "normal_" else (("from", "to"), ("a", "b"))
    given = {**dict(zip(names, args[1:])), **kwargs}
    values = [given.get(k, d) for k, d in zip(names, (0.0, 1.0))]
    if len(args) > 3 or set(given) - {*names, "generator"} or given.get("generator") is not None or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        return None
    return "init", name, tuple((k, float(v)) for k, v in zip(ours, values))


def _constant_law(name: str, args: tuple, kwargs: dict) -> tuple | None:
    """``("constant", value)`` of a call setting a whole tensor to a plain number (``zeros_``, ``zero_``, ``ones_``,
    ``constant_``, ``fill_``); None for any other."""
    if name in ("zeros_", "zero_", "ones_"):
        return "constant", 0.0 if name != "ones_" else 1.0
    if name in ("constant_", "fill_"):
        value = args[1] if len(args) > 1 else kwargs.get("val", kwargs.get("value"))
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
            return "constant", float(value)
    return None


def _law_method(how: tuple, model: nn.Module) -> _Method:
    """fastinit's method for a law :class:`_Writes` recorded."""
    if how[0] == "constant":
        return _const(how[1])
    if how[0] == "normal_pad":
        method = _embedding(how[1], how[2])
        return replace(method, label=f"{method.label} ({_class_name(model)}._init_weights' law)")
    _, name, given = how
    kw = dict(given)
    suffix = f" ({_class_name(model)}._init_weights' law)"
    if name == "eye_":  # (no draw: a whole matrix)
        return _Method(f"eye{suffix}", lambda t, seed, stream, place: _ft().eye_(t), law=("eye",), placeable=False)
    if name == "normal_":
        return _normal(kw["std"], suffix, kw["mean"])
    args = ", ".join(f"{k}={v}" if isinstance(v, str) else f"{k}={v:.4g}" for k, v in given)
    return replace(_scaled(name, f"{name[:-1]}({args}){suffix}", **kw), placeable=name != "orthogonal_")


def _tie_targets(plan: list) -> set:
    """The qualified names HF ties to another tensor after initializing (its models' ``all_tied_weights_keys``:
    {target: source}, an LM head's weight to the token embedding's)."""
    at = {id(model): p for p, m, model in plan if m is model}
    out = set()
    for model in {id(model): model for _, _, model in plan}.values():
        try:
            tied = getattr(model, "all_tied_weights_keys", None) or {}
        except Exception:  # (a model whose tie map cannot be told)
            tied = {}
        pre = at.get(id(model), "")
        out.update(f"{pre}.{name}" if pre else name for name in tied)
    return out


def _hf_writes(plan: list, entries: dict) -> tuple[dict, dict, dict, dict]:
    """({id(entry): (how, index in ``plan``, whether that call writes all of it, else (how, index) of the last call
    before it that does, or None)}, {index in plan: {id(entry):
    regions its call writes through a view}}, {index in plan: ids of the entries it writes past the flags of
    transformers' init functions (:func:`_guarded`)}, {index in plan: ids of the entries whose values it reads}):
    for each entry, the last call of ``plan`` (``(prefix, module, model)`` in HF's order, a module after its children)
    whose ``model._init_weights(module)`` writes its tensor, and how (:class:`_Writes`); and what each call writes
    through another object, which carries no flag, so HF's init writes it even when it is flagged done (ViTMAE's
    xavier_uniform_ of ``w.view(...)``; a direct write of a flagged tensor is skipped, a 256k-row embedding
    included, and needs no copy to put back; a region is (storage offset from the tensor's, shape, strides): the
    padding row HF zeroes through ``weight[padding_idx]``, not the whole embedding).  Found by a
    dry run that writes nothing, no tensor flagged initialized and torch's generator forked.  The meta tensors stand
    in the modules as CPU tensors of their shape and dtype over one element (strides 0) for the run, a rule's too
    (its writes and reads through ``.data`` are seen): ``nn.init.trunc_normal_`` takes no torch-function dispatch
    and returns at once on a meta tensor, and some init code reads values (``.item()``); so do the placed ones, of
    their global shape (a law HF reads off the shape, ``std = shape[-1] ** -0.5``, is the whole tensor's).  A call
    that raises writes nothing."""
    twins: dict = {}  # id(meta tensor) -> its stand-in
    for e in entries.values():
        t = e.tensor
        if (t.is_meta or e.place or _ft()._dtensor(t)) and id(t) not in twins:  # (a DTensor: no storage to read)
            twins[id(t)] = _stand_in(t, tuple(e.place["global_shape"]) if e.place else tuple(t.shape))
    seen = {id(twins.get(id(e.tensor), e.tensor)): e for e in entries.values()}
    metas = {id(twins[id(e.tensor)]): (twins[id(e.tensor)], e.tensor) for e in entries.values()
             if id(e.tensor) in twins and e.tensor.is_meta and not e.place}  # (a placed one's: another shape)
    stand_ins = {id(t) for t in twins.values()}
    storages: dict = {}
    for i, e in seen.items():
        t = twins.get(id(e.tensor), e.tensor)
        if t.device.type != "meta":
            storages.setdefault(t.untyped_storage().data_ptr(), {})[i] = _region(t)
    swapped = []
    out: dict = {}
    by_call: dict = {}
    unflagged: dict = {}
    reads: dict = {}
    targets = _tie_targets(plan)
    try:
        for prefix, m, _ in plan:
            for store in (m._parameters, m._buffers):
                for local, t in store.items():
                    if t is not None and (f"{prefix}.{local}" if prefix else local) in targets:
                        # untied for the run, as HF initializes it before tying: what it writes there does not stay
                        swapped.append((store, local, t))
                        store[local] = _stand_in(t, tuple(t.shape))
                    elif t is not None and id(t) in twins:
                        swapped.append((store, local, t))
                        store[local] = twins[id(t)]
        known = set(seen)
        shared = _tables(storages, known)
        with torch.no_grad(), torch.random.fork_rng(devices=[]), _hf_flags((), [twins.get(id(e.tensor), e.tensor)
                                                                                for e in entries.values()]):
            for i, (_, m, model) in enumerate(plan):
                mode = _Writes(storages, known, shared, metas, stand_ins)
                try:
                    with mode:
                        model._init_weights(m)
                except Exception:
                    continue
                for k, how in mode.written.items():
                    if k in seen:
                        prior = out.get(id(seen[k]))  # (the last call before this one writing all of it)
                        earlier = None if k in mode.whole or prior is None else prior[:2] if prior[2] else prior[3]
                        out[id(seen[k])] = how, i, k in mode.whole, earlier
                unflagged[i] = {id(seen[k]) for k in mode.unguarded if k in seen}
                reads[i] = {id(seen[k]) for k in mode.read if k in seen}
                for ids, region, real in mode.aliased:  # each as its region of the entry's tensor
                    for k in ids & seen.keys():
                        t = seen[k].tensor
                        offset, shape, strides = region if twins.get(id(t), t) is t else real or (None,) * 3
                        by_call.setdefault(i, {}).setdefault(id(seen[k]), []).append(
                            None if offset is None else (offset - t.storage_offset(), shape, strides))
                        # (None: unknown, a placed stand-in of the global shape: all of the tensor)
    finally:
        for store, local, t in swapped:
            store[local] = t
    return out, by_call, unflagged, reads


def _stand_in(t: torch.Tensor, shape: tuple) -> torch.Tensor:
    """A dry run's stand-in for ``t``: a CPU tensor (not the default device, meta in a ``with torch.device("meta")``)
    of ``shape`` and ``t``'s dtype over one element (strides 0), a Parameter where ``t`` is one."""
    s = torch.empty(1, dtype=t.dtype, device="cpu").as_strided(shape, (0,) * len(shape)) if shape \
        else torch.empty((), dtype=t.dtype, device="cpu")
    return nn.Parameter(s, requires_grad=t.requires_grad) if isinstance(t, nn.Parameter) else s


def _regions(t: torch.Tensor, regions: list) -> list:
    """Views of ``t`` at (storage offset from its own, shape, strides), as :func:`_hf_writes` recorded them (all of
    ``t`` where one does not fit its allocation's layout, or is None: a region of a dry run's stand-in)."""
    if any(region is None for region in regions):
        return [t.detach()]
    try:
        return [t.detach().as_strided(shape, strides, t.storage_offset() + offset)
                for offset, shape, strides in regions]
    except RuntimeError:
        return [t.detach()]


def _hf_fallbacks(modules: list, entries: dict, fallback: list, taken: set, dtype: torch.dtype | None) -> set:
    """Hugging Face models: append to ``fallback`` (and ``taken``) each module whose model's ``_init_weights(module)``
    is to write some tensors, as HF's own initialization would: those no rule, override or ``reset_parameters()``
    fills (a meta buffer of computed values, a parameter of HF's own such as ViT's ``cls_token``) and those it
    copies computed values into (sinusoidal position tables: Marian's, Whisper's, DistilBERT's, which a rule would
    draw) — each by the last module of HF's order (a module after its children) that writes it in a dry run
    (:func:`_hf_writes`).  Those no call writes are left to the refusal; parameters whose last write is a law
    fastinit has (:func:`_law_method`: a whole-tensor torch.nn.init sampler, a constant, a normal then its padding row)
    get that instead (``dtype``: materialize's, which the tensor must be fillable in).  Returns the ids of the
    buffers among them: they keep their dtype under ``dtype=`` (rotary ``inv_freq`` in float32 beside bfloat16
    weights, as HF builds it); and {prefix of each such module: the ids of the other entries its call reads}."""
    models = _hf_models(modules)
    if not models:
        return set(), {}
    plan = [(p, m, models[p]) for p, m in _post_order(modules) if p in models and id(m) not in taken]
    writes, by_call, unflagged, reads = _hf_writes(plan, entries)
    asked: dict = {}  # index in plan -> its entries
    for e in entries.values():
        if id(e.owner) in taken or e.overridden or id(e) not in writes:
            continue
        how, i = writes[id(e)][:2]
        if e.method is None and (e.kind == "parameter" or e.was_meta) or e.kind == "parameter" and how == "copy_":
            asked.setdefault(i, []).append(e)
    own_dtype, read = set(), {}
    by_id = {id(e): e for e in entries.values()}
    for i, group in asked.items():
        prefix, m, model = plan[i]
        laws = {id(e): _law_method(writes[id(e)][0], model) for e in group if e.method is None
                and e.kind == "parameter" and isinstance(writes[id(e)][0], tuple)
                and _new_dtype(e.tensor, dtype) in _FILLABLE}  # (a complex tensor: HF's init)
        drawn = [e for e in group if id(e) in laws and _takes(laws[id(e)], e, dtype)]
        for e in drawn:  # a law of fastinit's: its kernels draw it
            e.method, e.at, e.early = laws[id(e)], prefix, True
        group = [e for e in group if e not in drawn]
        if not group:
            continue
        for e in group:
            e.hf = True
            earlier = writes[id(e)][3]  # (a call before this one writing all of it: its law, if it is one)
            law = _law_method(earlier[0], plan[earlier[1]][2]) if earlier and isinstance(earlier[0], tuple) else None
            if law is not None and not _takes(law, e, dtype):
                law = None
            if e.kind == "parameter" and not writes[id(e)][2] and (earlier is None or law is not None):
                e.partial, e.early = prefix, True  # a part of it only: the rule (the constructor's law under "hf") or
                # the earlier call's law fills it before this call writes its part, as in a CPU build
                e.method = law or e.method
            if e.partial is None or e.method is None:  # (under "hf": the constructor's rule, given back after)
                e.method = e.at = None  # a copied parameter: HF's computed values, not the rule's draw
            else:
                e.at = prefix
            if e.kind == "buffer":
                own_dtype.add(id(e.tensor))
        mine = {id(e) for e in group}  # what else it writes through a view: kept as the rules leave it (put back)
        others = [(by_id[k], regions) for k, regions in by_call.get(i, {}).items() if k not in mine]
        again = sorted((by_id[k] for k in unflagged.get(i, ()) if k not in mine), key=lambda e: e.name)  # (filled
        # before the call, which writes them anyway: filled again after it)
        fallback.append((prefix, m, "_init_weights", (model, group, others, again)))
        taken.add(id(m))
        read[prefix] = reads.get(i, set()) - mine
    return own_dtype, read


def _takes(method: _Method, e: _Entry, dtype: torch.dtype | None) -> bool:
    """Whether fastinit's initializer takes ``method``'s law for ``e``'s tensor (its global shape, new dtype): a law
    torch takes and fastinit refuses (a kaiming fan of 0, mean beyond a truncation's bounds) stays HF's init's."""
    if e.place and not method.placeable:  # (orthogonal_: the whole matrix; HF's fallback refuses the shard, saying so)
        return False
    shape = tuple(e.place["global_shape"]) if e.place else tuple(e.tensor.shape)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            method.dry_run(torch.empty(shape, dtype=_new_dtype(e.tensor, dtype), device="meta"), 0, "law", {})
    except (ValueError, TypeError, RuntimeError):  # (HF's init then raises torch's own error)
        return False
    return True


def _new_dtype(t: torch.Tensor, dtype: torch.dtype | None) -> torch.dtype:
    """The dtype ``t`` is materialized in: ``dtype`` for floating-point tensors when given, else its own."""
    return dtype if dtype is not None and t.is_floating_point() else t.dtype


def _written(t: torch.Tensor) -> int:
    """The bytes this process writes to ``t`` (the progress bar's): of a DTensor, its local shard's."""
    if _ft()._dtensor(t):
        with torch.no_grad():
            t = t.to_local()
    return t.numel() * t.element_size()


def _check_dtensor(e: "_Entry", device: torch.device, dtype: torch.dtype | None) -> None:
    """A DTensor (FSDP2's ``fully_shard``, ``parallelize_module``) is allocated on its mesh's device type or on the
    CPU (FSDP2's CPU offloading keeps the shards there), and only when meta: an allocated one is filled in place
    (FSDP2 keeps its own storage of a shard, which it re-reads from the module once, at its first forward)."""
    mesh = e.tensor.device_mesh.device_type
    if device.type not in (mesh, "cpu"):
        raise ValueError(f"materialize: {e.name} is a DTensor on a {mesh!r} device mesh; give device={mesh!r}, where "
                         f"its ranks hold their shards (or 'cpu', for FSDP2's CPU offloading), not {str(device)!r}")
    if not e.tensor.is_meta and _needs_new(e.tensor, device, dtype):
        raise ValueError(f"materialize: {e.name} is an allocated DTensor ({e.tensor.dtype}, {e.tensor.device}), "
                         f"which materialize fills in place, not on {str(device)!r} as {_new_dtype(e.tensor, dtype)}; "
                         "move or cast the sharded model first (model.to(...): FSDP2 moves its shards with it)")


def _needs_new(t: torch.Tensor, device: torch.device, dtype: torch.dtype | None) -> bool:
    return t.is_meta or t.device != device or _new_dtype(t, dtype) != t.dtype


def materialize(module: nn.Module, *, seed: int | None = None, device: str | torch.device = "cpu",
                dtype: torch.dtype | None = None, scheme: str | tuple | Scheme = "torch",
                overrides: Mapping[OverrideKey, str | Callable] | None = None,
                placement: Placement = None, progress: bool | None = None) -> MaterializeSummary:
    """Allocate every parameter and buffer of ``module`` on ``device`` and initialize it; returns a summary.

    Parameters
    ----------
    module : torch.nn.Module
        Built on ``torch.device("meta")`` (allocated here) or already materialized (re-initialized in
        place; the Parameter objects stay the same when device and dtype do not change).  Its parameters may be
        DTensors (``fully_shard``, ``parallelize_module``): each rank allocates and fills its shards with their
        blocks of the unsharded values (docs/materialize.md, Sharding).
    seed : int in [0, 2**64), optional
        ``None`` draws one 63-bit seed from torch's global generator (``torch.manual_seed`` makes it
        reproducible); the summary records it.  Each tensor's stream is its qualified name.
    device, dtype
        Where to allocate, and the floating dtype of floating tensors (float16, bfloat16, float32,
        float64; ``None`` keeps each tensor's dtype).  Integer buffers keep their dtype.
    scheme : "torch", "gpt2", "llama", "hf", (name, {std, n_layer, residual}) or Scheme
        The laws (see :class:`Scheme` and docs/materialize.md for the module -> law table).
    overrides : mapping, optional
        {glob on qualified names | compiled regex (``search``) | nn.Module subclass (its direct
        parameters): initializer}; the first matching entry wins and beats the scheme.  An
        initializer is a callable ``fn(tensor, *, seed, stream, global_shape, offset)`` (keywords it
        does not take are not passed; fastinit's NumPy-level initializers get the NumPy view) or
        one of :data:`SHORTCUTS`: "zeros", "ones", "normal" (N(0, std²), std of the scheme),
        "trunc_normal" (the same truncated to ±2σ), "default" (no override: what the tensor gets without one — the
        scheme's rule, a Hugging Face model's law, its module's ``reset_parameters()``), "keep" (leave a
        materialized tensor's values).  Overrides also fill buffers that have no value (meta buffers).
    placement : mapping or callable, optional
        {name: (global_shape, offset)} or ``name -> (global_shape, offset) | None``: the module holds
        the local shard at ``offset`` of a parameter of ``global_shape``; it receives exactly that
        slice of the full initialization (fans and bounds come from the global shape).
    progress : bool, optional
        tqdm bar over bytes; ``None`` shows one above 1e8 parameters when tqdm is installed.

    Raises
    ------
    ValueError / TypeError
        Before any allocation or write: bad arguments, an override key matching nothing, a lazy
        (uninitialized) parameter, or a parameter / meta buffer no rule, fallback or override fills.
    """
    t_start = time.perf_counter()
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    scheme = _with_hf_config(Scheme.of(scheme), module)
    if isinstance(device, bool) or not isinstance(device, (str, torch.device, int)):
        raise TypeError(f"device must be a str, a torch.device or a CUDA device index, got {type(device).__name__}")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:  # an unknown name; an index without an accelerator
        raise ValueError(f"device {device!r} is not a device torch can use here: {exc}") from None
    if dev.type == "meta":
        raise ValueError("device must be a real device such as 'cpu', not 'meta'")
    if dtype is not None and dtype not in _FILLABLE:
        raise ValueError(f"dtype must be None or one of {_FILLABLE}, got {dtype!r}")
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"progress must be None, True or False, got {progress!r}")
    if placement is not None and not (isinstance(placement, Mapping) or callable(placement)):
        raise TypeError(f"placement must be None, a mapping or a callable, got {type(placement).__name__}")
    rules = _check_overrides(overrides)
    if seed is not None:
        seed = _check_u64(seed, "seed")  # drawn (seed=None) after every check: a refused call draws nothing
    if progress:
        try:
            import tqdm.auto  # noqa: F401
        except ImportError:
            raise ImportError("progress=True needs tqdm (pip install tqdm)") from None
    try:  # refuse devices fastinit cannot fill, before any change
        probe = torch.empty(0, device=dev)
        dev = probe.device  # "cpu:0" is "cpu", "cuda" the current CUDA device: tensors already there stay
        _ft().zeros_(probe)
    except (RuntimeError, AssertionError, NotImplementedError) as exc:
        raise NotImplementedError(f"materialize cannot fill tensors on device {str(dev)!r}: {exc}. Materialize on "
                                  "the CPU, then move the model (model.to(device))") from exc

    # 0. FSDP2 modules left unsharded (after a forward under no_grad, unshard()) hold all-gathered copies, which
    # FSDP2 frees at its next reshard: their shards registered again first, as its own Module._apply does.
    fsdp = sys.modules.get("torch.distributed.fsdp")
    if fsdp is not None and hasattr(fsdp, "FSDPModule"):
        for m in module.modules():
            if isinstance(m, fsdp.FSDPModule):
                m.reshard()

    # 1. Tensors under their first qualified name (named_parameters' dedup), their owners and aliases.
    modules = list(module.named_modules())
    entries: dict = {}  # id(tensor) -> _Entry
    for prefix, m in modules:
        for kind, store in (("parameter", m._parameters), ("buffer", m._buffers)):
            for local, t in store.items():
                if t is None or id(t) in entries:
                    continue
                name = f"{prefix}.{local}" if prefix else local
                if isinstance(t, nn.parameter.UninitializedTensorMixin):
                    raise TypeError(f"{name!r} of {_class_name(m)} is an uninitialized lazy parameter: run a "
                                     "forward pass (or build the non-lazy module) before materialize")
                entries[id(t)] = _Entry(name, kind, t, m, prefix, (), was_meta=t.is_meta)
    for e in entries.values():
        if _ft()._dtensor(e.tensor):
            _check_dtensor(e, dev, dtype)
    aliases: dict = {}
    for name, t in [*module.named_parameters(remove_duplicate=False), *module.named_buffers(remove_duplicate=False)]:
        if entries[id(t)].name != name:
            aliases.setdefault(id(t), []).append(name)
    for i, names in aliases.items():
        entries[i].aliases = tuple(names)
    owned: dict = {}  # id(module) -> its tensors under their first names
    for e in entries.values():
        owned.setdefault(id(e.owner), []).append(e)

    # 2. Placement of local shards (parameters only).
    shapes = {}
    if placement is not None:
        by_name = {e.name: e for e in entries.values() if e.kind == "parameter"}
        if isinstance(placement, Mapping):  # a tied parameter through any of its names, as in overrides
            named = {**by_name, **{a: e for e in by_name.values() for a in e.aliases}}
            unknown = [k for k in placement if k not in named]
            if unknown:
                raise ValueError(f"placement names no parameter: {unknown}")
            for e in by_name.values():
                given = [n for n in (e.name, *e.aliases) if n in placement]
                if len(given) > 1:
                    raise ValueError(f"placement names the tied parameter {e.name} more than once (by {given})")
            specs = {named[k].name: v for k, v in placement.items()}
        else:  # asked once per tensor, by its first name
            specs = {n: placement(n) for n in by_name}
        for n, spec in specs.items():
            if spec is not None:
                e = by_name[n]
                if _ft()._dtensor(e.tensor):
                    raise TypeError(f"placement given for {n}, a DTensor: it carries its own placement (its mesh and "
                                    "placements), by which each rank receives its shard of the unsharded values")
                e.place = _check_place(n, tuple(e.tensor.shape), spec)
                shapes[id(e.tensor)] = e.place["global_shape"]
    ctx = _Context(scheme, shapes)

    # 3. Plan: scheme rules, descendants before ancestors so that an ancestor's rule wins (as in construction).
    fallback: list = []
    parametrized: dict = {}  # (id(module), name) -> assign(entries, rule) of its parametrized tensor's group
    known_as: dict = {}  # id(an original) -> (that group's key, its module, its parametrized tensor's name)
    parents: list = []  # modules owning no tensor whose reset_parameters() is not called (as FSDP's materializing)
    order = _post_order(modules)
    own_init = _hf_models(modules) if scheme.name == "hf" else {}  # (their _init_weights: the laws)
    if scheme.name == "hf" and not own_init:
        raise ValueError("scheme 'hf' takes the laws of a Hugging Face model's own _init_weights (transformers 5 or "
                         f"later): {_class_name(module)} holds none; use 'torch', 'gpt2' or 'llama'")
    # "hf": where the model's init writes nothing, what the module's constructor gives it (a CPU build's law)
    constructed = _Context(replace(scheme, name="torch", n_layer=None), shapes) if own_init else ctx
    for prefix, m in order:
        try:
            with _no_state_updates(m):
                claims = _rule(m, prefix, constructed if prefix in own_init else ctx)
        except Exception as exc:  # a rule reads parametrized tensors (m.weight): their parametrization failed
            if not parametrize.is_parametrized(m):
                raise
            raise ValueError(f"{prefix or '<root>'} ({_class_name(m)}): its parametrized tensors cannot be evaluated "
                             f"({type(exc).__name__}: {exc}); register the parametrization after materialize") from exc
        if claims is None:
            if prefix in own_init:  # ("hf": the model's own init, not the module's reset_parameters())
                continue
            own = _own_init(m)  # an overridden rule method (Transformer._reset_parameters) may fill descendants
            if own is not None and (owned.get(id(m)) or own != "reset_parameters"):
                fallback.append((prefix, m, own))
            elif own is not None and getattr(type(m), own) is not _CHILDREN_ONLY:
                parents.append((prefix, m))
            continue
        for rel, method in claims.items():
            sub, _, local = rel.rpartition(".")
            holder = m.get_submodule(sub) if sub else m
            t = holder._parameters.get(local, holder._buffers.get(local))
            if t is None:  # parametrized; or replaced by a hook (torch.nn.utils.weight_norm): its tensors lack a rule
                qualified = f"{prefix}.{rel}" if prefix else rel
                got = _reparametrized(holder, local, method, qualified)
                if got is not None:
                    tensors, placeholder, parametrized[id(holder), local] = got  # an ancestor's rule wins
                    for x in tensors:
                        entries[id(x)].method, entries[id(x)].at = placeholder, prefix
                    for x in _originals(holder.parametrizations[local]):
                        known_as[id(x)] = ((id(holder), local), holder, qualified)
                continue
            e = entries[id(t)]
            if "." in rel or e.owner is m:  # own tensors only under their first name; claims on descendants always
                e.method, e.at = method, prefix
    # Overrides: the first matching entry wins, beating rules and fallbacks.  A parametrized tensor's originals are
    # also known by its name (and its module's class): a key matching that, and none the original itself, sets them
    # through right_inverse.
    used, hidden, exempt = set(), {}, set()  # hidden: a key matching only tensors an earlier key took -> that key
    group_rules: dict = {}  # a parametrized tensor's group -> the override its name matches
    index = _key_index(rules)
    for e in entries.values():
        names = (e.name, *e.aliases)
        owners = (e.owner, *(module.get_submodule(a.rpartition(".")[0]) for a in e.aliases))
        group, holder, qualified = known_as.get(id(e.tensor), (None, None, None))
        direct = _matching(rules, index, names, owners, e.kind)
        through = [] if group is None else [i for i in _matching(rules, index, (qualified,), (holder,), e.kind)
                                            if i not in direct]
        if not direct + through:
            continue
        won, *rest = direct + through
        used.add(won)
        for i in rest:
            if i not in used and i not in hidden:
                hidden[i] = rules[won][0]
        value = rules[won][1]
        if isinstance(value, str) and value == "default":  # exempt: as with no override (the rule, a Hugging Face
            exempt.add(id(e))  # model's law, found after the overrides, or the module's own default)
            continue
        via = won in through
        if via and not (isinstance(value, str) and value == "keep"):  # the group's values, through right_inverse
            if group not in group_rules:  # (its placeholder stays: assign below writes it)
                group_rules[group] = _shortcut(value, scheme) if isinstance(value, str) else \
                    _callable_method(value, qualified, False)
            e.at = None
            continue
        if isinstance(value, str):
            method = _shortcut(value, scheme)
            if value == "keep" and e.tensor.is_meta:
                raise ValueError(f"overrides: 'keep' for {qualified if via else e.name!r}, a meta tensor with no "
                                 "values to keep")
        else:
            method = _callable_method(value, e.name, bool(e.place), _ft()._dtensor(e.tensor))
        e.method, e.at = method, None
    unused = [key for i, (key, _) in enumerate(rules) if i not in used and i not in hidden]
    if unused:
        raise ValueError(f"overrides keys match no parameter or buffer: {unused}")
    shadowed = [f"{key!r} (by {hidden[i]!r})" for i, (key, _) in enumerate(rules) if i not in used]
    if shadowed:
        raise ValueError(f"overrides keys whose every tensor an earlier key takes (the first match wins): "
                         f"{', '.join(shadowed)}; put the specific key first, or keep one key for a tied tensor's "
                         "names (they name one tensor)")
    for group, assign in parametrized.items():  # the tensors of a parametrized weight no override names itself
        assign(entries, group_rules.get(group))
    ignored = [f"{p or '<root>'} ({_class_name(m)})" for p, m in parents
               if any(not e.overridden and id(e) not in exempt for e in _below(m, entries))]  # ("default": as meant)
    if ignored:
        warnings.warn(f"materialize: {ignored} define reset_parameters() but hold no parameter or buffer of their own: "
                      "as FSDP does, it is not called, and the tensors below them get their own modules' rules; if "
                      "it sets their laws (a zero-initialized residual branch), give those tensors overrides",
                      UserWarning, stacklevel=2)
    # A fallback runs unless overrides cover every tensor it may write: its module's and those below it (it had been
    # dropped once they covered its own, silently losing what it does to its children: a review, 2026-12-06 (e)).
    fallback = [(p, m, own, None) for p, m, own in fallback  # (None: no Hugging Face model's init)
                if not owned.get(id(m)) or any(not e.overridden for e in _below(m, entries))]
    fallback_mods = {id(m) for _, m, _, _ in fallback}
    constructors = set(fallback_mods)  # (their reset_parameters() writes all their own tensors, or is refused)
    # "hf": the constructors' laws inside the model give way to what its own init writes; they stay where it writes
    # nothing
    ruled = [(e, e.method, e.at) for e in entries.values()
             if e.method is not None and e.at is not None and e.owner_name in own_init]
    for e, _, _ in ruled:
        e.method = e.at = None
    own_dtype, read = _hf_fallbacks(modules, entries, fallback, fallback_mods, dtype)
    for e, method, at in ruled:
        if e.method is None and not e.hf:  # (a module HF's init runs for another tensor too: not for this one)
            e.method, e.at = method, at
        elif e.method is None and e.partial is not None:  # (HF's init writes a part of it: the rest, the law)
            e.method, e.at = method, e.partial
    by_id = {id(e): e for e in entries.values()}
    unread = [f"{by_id[i].name} (by {p or '<root>'})" for p, ids in read.items() for i in ids
              if by_id[i].overridden and not by_id[i].method.repeatable and by_id[i].method is not _KEEP]
    if unread:  # (a shortcut or a seeded callable is filled before the call too; another callable, only last: it
        # may read tensors filled after it, and need not give the same values twice)
        raise ValueError(f"overrides: callables' tensors {unread} are read by their Hugging Face model's "
                         "_init_weights(), which runs before the overrides (a callable without seed= may read tensors "
                         "filled after it): give them a shortcut ('zeros', 'ones', 'normal', 'trunc_normal'), a "
                         "callable taking seed= (fastinit's initializers), 'default' or 'keep'")
    turn = {p: k for k, (p, _) in enumerate(order)}
    filler = {id(e): p for p, m, _, hf in fallback for e in (hf[1] if hf is not None else owned.get(id(m), ()))
              if e.method is None}  # (the call that fills a tensor no rule, law or override does)
    early = [f"{by_id[i].name} (read by {p or '<root>'}'s call, filled by {filler[i] or '<root>'}'s)"
             for p, ids in read.items() for i in ids if i in filler and turn[filler[i]] > turn[p]]
    if early:  # (in a CPU build they would hold their constructor's values; here nothing yet)
        raise ValueError(f"materialize: a Hugging Face model's _init_weights() reads {early} before the call that "
                         "fills them (HF's order: a module after its children); give them overrides (a shortcut "
                         "fills them before the call)")
    unfilled = [e for e in entries.values() if e.method is None and id(e.owner) not in constructors and not e.hf
                and (e.kind == "parameter" or e.was_meta)]  # (a tensor HF's init was to write but does not: here)
    placed_fallback = [e.name for e in entries.values() if e.place and (e.method is None or e.partial is not None)]
    if unfilled:
        missing = [f"{e.name} ({_class_name(e.owner)})" for e in unfilled]
        params = [e.name for e in unfilled if e.kind == "parameter"]
        buffers = [e.name for e in unfilled if e.kind == "buffer"]
        hint = (f"for a parameter, the value its module's __init__ sets (a meta model holds none: CLIP's logit_scale "
                f"is log(1/0.07)): 'zeros' or 'ones' only where that is it, else a callable, e.g. overrides="
                f"{{{params[0]!r}: lambda t: t.fill_(<its value>)}}, or a fastinit.torch initializer" if params
                else "")
        if buffers:  # often computed values (rotary inv_freq, position ids): zeros would silently be wrong
            hint += ("; " if hint else "") + (
                f"meta buffers ({buffers}) usually hold computed values (rotary inv_freq, position ids): give a "
                f"callable that writes them, e.g. overrides={{{buffers[0]!r}: lambda t: t.copy_(values)}}, 'zeros' "
                "only where zero is the value, or register them on a real device")
        raise ValueError(
            "materialize has no rule for these tensors and no reset_parameters() of their modules fills them: "
            f"{missing}. Give each an initializer: {hint} ('keep' keeps the values of an already-materialized "
            "tensor)")
    if placed_fallback:
        raise ValueError(f"placement given for {placed_fallback}, filled by their module's reset_parameters() (or "
                         "their Hugging Face model's _init_weights()), which cannot fill a slice of a larger tensor; "
                         "give them an override")
    placed_parametrized = [e.name for e in entries.values() if e.place and e.method is not None
                           and not e.method.placeable]
    if placed_parametrized:
        raise ValueError(f"placement given for {placed_parametrized}, parametrized tensors set through right_inverse "
                         "from the whole weight, which a shard does not hold; give them overrides, or register the "
                         "parametrization after materialize")
    unfillable = [f"{e.name} ({e.tensor.dtype})" for e in entries.values() if e.method is not None
                  and not e.method.any_dtype and _new_dtype(e.tensor, dtype) not in _FILLABLE]
    if unfillable:
        raise TypeError(f"materialize's rules fill float16, bfloat16, float32 and float64 tensors, not {unfillable}; "
                        "give them overrides (a callable, 'zeros', 'ones' or 'keep')")
    # Every fill's own checks (a fan rule on a 1-D tensor, a std that overflows float16, ...) on a meta twin of the
    # tensor as it will be allocated: nothing allocated or written yet, and nothing drawn.  A rule's law checked
    # on one shape and dtype is not checked again (a model's repeated layers).
    checked = set()
    for e in entries.values():
        if e.method is not None:
            new_dtype = _new_dtype(e.tensor, dtype)
            key = None if e.method.law is None else (e.method.law, tuple(e.tensor.shape), new_dtype,
                                                     tuple((k, tuple(v)) for k, v in sorted(e.place.items())))
            if key is not None:
                if key in checked:
                    continue
                checked.add(key)
            twin = torch.empty_like(e.tensor, dtype=new_dtype, device="meta")
            try:
                with warnings.catch_warnings():  # a fill warns at its own turn (a zero-element one: never)
                    warnings.simplefilter("ignore")
                    e.method.dry_run(twin, 0 if seed is None else seed, e.name, e.place)
            except (ValueError, TypeError, RuntimeError, NotImplementedError) as exc:
                raise type(exc)(f"materialize: {e.name} ({_class_name(e.owner)}, {e.method.label}): {exc}") from exc
    if seed is None:
        seed = _ft()._seed(None, None)

    # 4. Allocate (torch.empty: pages are touched once, by the fill) and re-point every module, keeping ties.
    new: dict = {}
    subclassed: list = []
    given: list = []  # (store, name, the tensor as given) where a new one replaced it: put back if a fill fails
    for _, m in modules:
        for store, is_param in ((m._parameters, True), (m._buffers, False)):
            for local, t in store.items():
                if t is None:
                    continue
                if id(t) not in new:
                    e = entries[id(t)]
                    own = id(t) in own_dtype  # a buffer a Hugging Face model computes: its dtype kept
                    if not _needs_new(t, dev, None if own else dtype):
                        new[id(t)] = t
                    else:
                        dt = t.dtype if own else _new_dtype(t, dtype)
                        # a built model's values where no fill of fastinit's replaces them: kept buffers and
                        # 'keep' overrides, and what a module's reset_parameters() fills (put back if that fails)
                        keep = not t.is_meta and (e.method is None or e.method is _KEEP)
                        if keep:
                            data = t.detach().to(dev, dt)
                        elif not _ft()._dtensor(t) and t.stride() == _c_strides(tuple(t.shape)):  # row-major (not
                            # a 1x1 channels_last kernel, contiguous too): torch.empty, without empty_like's Python
                            # reference path for meta sources (16 us a tensor, a quarter of a small model's time); a
                            # DTensor by empty_like (its mesh and placements, its local shard)
                            data = torch.empty(t.shape, dtype=dt, device=dev)
                        else:
                            data = torch.empty_like(t, dtype=dt, device=dev)
                        if is_param:
                            data = nn.Parameter(data, requires_grad=t.requires_grad)
                            data.__dict__.update(t.__dict__)
                            if type(t) is not nn.Parameter:  # its class is given back once filled: a subclass
                                subclassed.append((data, type(t)))  # would be handed to torch.nn.init (no seed)
                        new[id(t)] = data
                if new[id(t)] is not t:
                    given.append((store, local, t))
                store[local] = new[id(t)]
    _refresh_flat_weights(modules)
    by_at: dict = {}
    late = []
    for e in entries.values():
        e.tensor = new[id(e.tensor)]
        if e.method is not None:
            (late if e.method.late else by_at.setdefault(e.at, [])).append(e)
    versions = {id(e.tensor): e.tensor._version for e in entries.values() if e.method is None}

    # 5. Fill: per module in reverse pre-order (rules, or the module's own reset_parameters), then overrides.
    summary = MaterializeSummary(seed, scheme, str(dev))
    done: dict = {}
    total = sum(_written(e.tensor) for e in entries.values()
                if e.method is not None or id(e.owner) in fallback_mods)
    bar = None
    if progress or progress is None and sum(e.tensor.numel() for e in entries.values()
                                            if e.kind == "parameter") > PROGRESS_THRESHOLD:
        try:
            from tqdm.auto import tqdm
            bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="materialize",
                       file=sys.stderr)
        except ImportError:  # no bar (progress=True without tqdm was refused before any change)
            pass

    def run(e: _Entry, method: _Method, counted: bool = True) -> None:
        t0 = time.perf_counter()
        if 0 < e.tensor.numel() < SERIAL_BELOW:
            with one_thread():
                method.fill(e.tensor, seed, e.name, e.place)
        elif e.tensor.numel():
            method.fill(e.tensor, seed, e.name, e.place)
        done[id(e.tensor)] = (method.label, time.perf_counter() - t0)
        if bar is not None and counted:
            bar.update(_written(e.tensor))

    pending: list = []

    def flush() -> None:
        # Rule fills are pure, so their order is free up to the next fallback: the small tensors first, together.
        # A small fill right after a large one runs with caches full of the large one's lines (a 768-element
        # bias after a 2.4 M-element weight: 350-650 us instead of 80-120 us here).
        for e in sorted(pending, key=lambda e: e.tensor.numel()):
            run(e, e.method)
        pending.clear()

    fallback_at = {p: (m, own, hf) for p, m, own, hf in fallback}
    by_tensor = {id(e.tensor): e for e in entries.values()}
    with torch.no_grad(), _given_back_on_failure(given, modules):  # (a fill, a fallback or a callable failing)
        for prefix, m in order:
            if prefix in fallback_at and m is fallback_at[prefix][0]:
                _, own, hf = fallback_at[prefix]
                label = f"{_class_name(m)}.{own}()" if hf is None else f"{_class_name(hf[0])}._init_weights()"
                if hf is not None:  # the laws of this call first: its own code may read them (u = 2 v)
                    pending.extend(e for e in by_at.get(prefix, ()) if e.early)
                    by_at[prefix] = [e for e in by_at.get(prefix, ()) if not e.early]
                flush()  # a module's reset_parameters() runs after the fills below it, as in construction
                # what its code reads (a scale from its module's weight) and a rule, an override's shortcut or
                # seeded callable fills after it: filled now too (again at its turn, the same values: pure), not
                # read uninitialized
                for e in (by_id[i] for i in read.get(prefix, ()) if hf is not None):
                    if e.method is not None and (e.at is not None or e.method.repeatable) \
                            and not e.method.late and id(e.tensor) not in done:
                        run(e, e.method, counted=False)
                # a reset_parameters() may read the tensors below it (g = ‖v‖ per row) that an override's shortcut
                # or seeded callable fills: filled now too (again last, the same values), not read stale or
                # uninitialized (a review)
                sub = list({id(t): by_tensor[id(t)] for t in [*m.parameters(), *m.buffers()]}.values())
                for e in (sub if hf is None else ()):
                    if e.overridden and e.method.repeatable and id(e.tensor) not in done:
                        run(e, e.method, counted=False)
                # What it must fill holds NaN first: writes through .data skip the version counter, and a
                # partial write leaves NaN (integer tensors: the version counter only).
                watched = [e for e in owned.get(id(m), ()) if e.method is None and (e.kind == "parameter"
                                                                                    or e.was_meta)] \
                    if hf is None else list(hf[1])  # (what its Hugging Face model's init writes: below m too)
                sentinel = {id(e.tensor) for e in watched if (e.tensor.is_floating_point() or e.tensor.is_complex())
                            and (e.partial is None or e.method is None)}  # (a rule fills a partly written one)
                # a built model's values, put back if the call fails (this module's own tensors: a copy of them)
                backup = [(e, e.tensor.detach().clone()) for e in watched if not e.was_meta]
                for e in watched:
                    if id(e.tensor) in sentinel:
                        e.tensor.detach().fill_(math.nan)
                kept = [(e, e.tensor.detach().clone()) for e in sub if e.method is _KEEP]
                watched_ids = {id(e) for e in watched}
                before = {id(e.tensor): e.tensor._version for e in sub}
                t0 = time.perf_counter()
                try:
                    with _torch_rng(_fallback_seed(seed, prefix), dev), torch.device(dev):  # (the code's own
                        # tensors on dev, not on a meta default device: materialize inside `with torch.device("meta")`)
                        if hf is None:
                            getattr(m, own)()
                        else:  # every tensor but those it is to write flagged done; what it writes anyway
                            # (through an unflagged view) put back
                            guard = [(e, region, region.clone()) for e, regions in hf[2] if not e.tensor.is_meta
                                     for region in _regions(e.tensor, regions)]
                            with _hf_flags([e.tensor for e in entries.values() if id(e) not in watched_ids],
                                           [e.tensor for e in watched]), \
                                    _unsharded([e for e in watched if _ft()._dtensor(e.tensor)], modules):
                                hf[0]._init_weights(m)
                            for _, region, values in guard:
                                region.copy_(values)
                except BaseException:
                    _restore(backup + kept)
                    raise
                again = [] if hf is None else [e for e in hf[3] if e.method is not None and e.partial is None
                                               and id(e.tensor) in done]  # filled, then written by the call past
                # its flags (torch.nn.init itself, .data): filled again, the same values (pure fills)
                guarded = {id(e) for e in again} | (set() if hf is None else {id(e) for e, _ in hf[2]})
                changed = [e for e in sub if id(e) not in guarded and (
                    not e.tensor.isnan().any() if id(e.tensor) in sentinel
                    else e.tensor._version != before[id(e.tensor)])]
                _restore(kept)  # 'keep' overrides survive their module's reset_parameters()
                for e in again:
                    e.method.fill(e.tensor, seed, e.name, e.place)
                dt = (time.perf_counter() - t0) / max(len(changed), 1)
                for e in changed:
                    done[id(e.tensor)] = (label, dt)
                for e in watched:  # (its write of a part may go past the version counter: .data[0].zero_())
                    if e.partial is not None and e.method is not None:
                        done[id(e.tensor)] = (f"{e.method.label}, then {label}", dt)
                summary.fallbacks[prefix] = _class_name(m) if hf is None else f"{_class_name(m)}, by {label}"
                if bar is not None:
                    bar.update(sum(_written(e.tensor) for e in changed if e.method is None))
                stale = [e for e in watched if id(e.tensor) not in done]
                if stale:
                    replaced = [e.name for e in stale if not _registered(e)]
                    _restore(backup)
                    raise RuntimeError(
                        f"{prefix or '<root>'} ({_class_name(m)}): {label} left {[e.name for e in stale]} "
                        "uninitialized; give them an override"
                        + (f"; it assigned new tensors to {replaced} instead of filling them in place" if replaced
                           else "") + ("; this module's tensors are put back as they were" if backup else ""))
            pending.extend(by_at.get(prefix, ()))
        flush()
        for e in by_at.get(None, ()):  # overrides: any callable, run last and in order
            run(e, e.method)
        for e in late:  # spectral norms' vectors: power iterations on their weights as the overrides leave them
            run(e, e.method)
    if bar is not None:
        bar.close()
    for p, cls in subclassed:  # the same objects (ties, optimizers), their class as given (to_empty drops it)
        p.__class__ = cls

    for e in entries.values():
        i = id(e.tensor)
        changed = i in versions and (e.tensor._version != versions[i]  # written, or replaced (orthogonal's base)
                                     or not _registered(e))
        label, secs = done.get(i) or (("set by a parametrization's right_inverse", 0.0) if changed
                                      else ("kept (buffer value)", 0.0))
        summary.records[e.name] = ParamRecord(e.name, e.kind, _class_name(e.owner), label, e.tensor.numel(),
                                              e.tensor.numel() * e.tensor.element_size(), secs, e.aliases)
    summary.seconds = time.perf_counter() - t_start
    return summary
