"""Layer 6 — ``fastinit.torch``: a drop-in for ``torch.nn.init`` backed by fastinit's kernels.

>>> import torch
>>> import fastinit.torch as init            # instead of: import torch.nn.init as init
>>> w = torch.empty(256, 128)
>>> init.kaiming_uniform_(w, a=5 ** 0.5) is w
True

Same names, signatures, defaults, return values, errors and warnings as torch.nn.init; values
are written in place into the tensor's own memory (no copy; float16, bfloat16, float32,
float64; contiguous or not), outside autograd (the tensor's version counter is bumped like
torch's in-place ops under ``no_grad``).  Seeding follows torch: a 63-bit fastinit seed is drawn
from ``generator`` (default: torch's default generator of the tensor's device, as torch.nn.init draws
there: ``torch.cuda.manual_seed`` seeds a CUDA tensor's), so ``torch.manual_seed(s)`` makes a
program reproducible and ``generator=torch.Generator().manual_seed(s)`` gives the same values.
Pass ``seed=`` to bypass torch's generator; ``stream=``, ``global_shape=``, ``offset=`` place a
tensor-parallel shard exactly as in the rest of fastinit; the fan-based ones (``xavier_*``, ``kaiming_*``,
``lecun_*``, ``variance_scaling_``) also take fastinit's ``layout=`` / ``in_axis=`` / ``out_axis=``
(default ``layout="torch"``: torch's fans).

CUDA tensors are filled by fastinit's GPU kernels (docs/gpu.md; needs numba-cuda) in their own
memory, on torch's current stream of their device, with the values a CPU tensor gets.  eye_,
dirac_, orthogonal_, delta_orthogonal_ and sparse_ compute on the host: a CUDA tensor receives a CPU
twin's values through one host-to-device copy (``host_staged``) on that stream.

Meta tensors (a shape and a dtype, no data): nothing is written and no seed is drawn from the
generator, as with torch.nn.init, so code that initializes modules built on ``torch.device("meta")``
runs unchanged (``materialize`` then allocates and fills them); the arguments are checked as for a CPU
tensor of that shape (stricter than torch, which accepts ``uniform_(meta, 2, 1)`` or an int64 meta
``uniform_``).  So are empty tensors: checked, left
alone, nothing drawn.  A refused call draws nothing either (the seed is drawn after every check).
Like torch, an inference tensor is refused outside ``torch.inference_mode`` (RuntimeError).
Integer, bool and complex tensors, which the kernels do not write, get ``constant_``, ``zeros_``,
``ones_``, ``eye_`` and ``dirac_`` from torch.nn.init itself; the samplers refuse them (TypeError).
Expanded views (zero strides: elements sharing memory) are refused by the samplers too, and
``constant_`` hands them to torch, as ``constant_`` / ``zeros_`` do sparse tensors (torch's
``constant_`` then fills a CSR tensor's stored values and refuses a COO one; its ``zeros_`` empties
either).  Numeric arguments may be 0-d tensors (``std=torch.tensor(0.02)``), as torch.nn.init allows, and 0-d
NumPy arrays of numbers; ``orthogonal_``'s gain, ``sparse_``'s sparsity and ``dirac_``'s groups any one-element
tensor, as torch's arithmetic takes it.
A DTensor (FSDP2, tensor parallelism) given to a sampler is filled on each rank as its local shard's block of
the global tensor: the values of one unsharded fill.  Other tensor subclasses that override torch's functions or
dispatch (FakeTensor, a lazy module's UninitializedParameter; DTensors given to the constants), and any tensor
under a TorchDispatchMode, go to torch.nn.init's function of the same name: torch's values and errors.  An
active TorchFunctionMode is offered each call first, as torch.nn.init's functions offer it.
"""
from __future__ import annotations

import functools
import inspect
import math
import sys
import threading
import warnings
from typing import Optional

import numpy as np

from ._extras import missing

try:
    import torch
except ImportError as e:
    raise missing(e, "torch", "fastinit.torch") from None

from torch.overrides import handle_torch_function  # noqa: E402

from . import init as _init
from . import scaled as _scaled
from . import sparsity as _sparse
from . import structured as _structured
from ._buffers import (TARGET_NAME, bfloat16, finfo_max, may_overlap, place_block, refuse_shared_memory, shape_said_as,
                       shape_tuple, torch_cpu_array, torch_device_type, torch_func_wrapper)
from ._seed import Generator, public_name, resolve_seed, seeding_hint
from ._warnings import quiet, warn
from .fans import calculate_gain
from .init import Shape, Stream

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
    "delta_orthogonal_", "lecun_uniform_", "lecun_normal_", "variance_scaling_", "as_numpy", "materialize",
    "MaterializeSummary", "Scheme",
]

# torch.nn.init's private fan helpers, which model code calls (nn.Linear.reset_parameters): torch's own
_calculate_fan_in_and_fan_out = torch.nn.init._calculate_fan_in_and_fan_out
_calculate_correct_fan = torch.nn.init._calculate_correct_fan

_FLOATS = {torch.float16: np.float16, torch.float32: np.float32, torch.float64: np.float64}
# torch.nn.init's initializers as imported, for what fastinit hands to torch (integer tensors, subclasses): a
# program may then point torch.nn.init's names at fastinit.torch's (so modules' reset_parameters use fastinit),
# where looking them up at the call would come back here forever
_TORCH_OWN = {name: f for name, f in vars(torch.nn.init).items() if name.endswith("_") and callable(f)}
_HANDING = threading.local()  # depth: inside a call of torch's own function on a tensor fastinit handed over


def _torch_own(name: str):
    """torch.nn.init's own function ``name``, as imported; where something else stood there then (transformers'
    ``no_init_weights`` points torch.nn.init's names at a no-op while a model is built, and fastinit.torch imported
    inside it kept the no-op: ``ones_`` of an int64 tensor wrote nothing; a review), torch.nn.init's current one,
    once it is torch's again."""
    f = _TORCH_OWN[name]
    if getattr(f, "__module__", None) != "torch.nn.init":
        now = getattr(torch.nn.init, name, f)
        if getattr(now, "__module__", None) == "torch.nn.init":
            _TORCH_OWN[name] = f = now
    return f


def _handed(name: str):
    """torch.nn.init's function ``name`` (:func:`_torch_own`), run with :data:`_HANDING` raised: torch's functions
    look their private helpers (``_no_grad_fill_`` ...) up at the call, which a program may have pointed at
    fastinit's, which hand the same tensor back to torch (a RecursionError); inside, fastinit's helpers are torch's
    own."""
    @functools.wraps(_TORCH_OWN[name])
    def call(*args, **kwargs):
        _HANDING.depth = getattr(_HANDING, "depth", 0) + 1
        try:
            return _torch_own(name)(*args, **kwargs)
        finally:
            _HANDING.depth -= 1
    return call


_THEIRS = {name: _handed(name) for name in _TORCH_OWN}


@functools.lru_cache(maxsize=None)
def _numpy_dtype(dtype: torch.dtype) -> np.dtype:
    """The NumPy dtype of a supported torch dtype (bfloat16: ml_dtypes'); TypeError for the others."""
    if dtype == torch.bfloat16:
        return bfloat16()
    if dtype not in _FLOATS:
        raise TypeError(f"tensor has dtype {dtype}; supported dtypes are float16, bfloat16, float32, float64")
    return np.dtype(_FLOATS[dtype])


def as_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A NumPy view of a CPU tensor's memory (bfloat16 as ml_dtypes.bfloat16); no copy.  The view holds the tensor;
    unlike ``Tensor.numpy()``'s it leaves the tensor's storage resizable."""
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")
    if torch_device_type(tensor) != "cpu":
        raise NotImplementedError(
            f"fastinit.torch fills CPU and CUDA tensors; got a {tensor.device.type} tensor (as_numpy views CPU "
            "memory only). Initialize on the CPU and move it, or use torch.nn.init.")
    _numpy_dtype(tensor.dtype)  # the dtype check
    return torch_cpu_array(tensor)


def _meta_twin(tensor: torch.Tensor, keep: int = 1) -> np.ndarray:
    """A meta tensor has a shape and a dtype but no data: torch.nn.init writes nothing and leaves the
    generator alone.  fastinit runs a CPU tensor's checks on this NumPy twin of the same dtype (an empty
    tensor's too, where NumPy cannot hold its shape): the first ``keep`` axes kept (dirac_'s groups,
    delta_orthogonal_'s channels), the others empty, so it holds no element (a 0-d tensor's twin holds one,
    harmlessly); none kept where NumPy cannot hold even those (2**62 rows of nothing)."""
    shape, dtype = tuple(tensor.shape), _numpy_dtype(tensor.dtype)
    twin = shape[:keep] + (0,) * (len(shape) - keep) if len(shape) > keep else (0,) * len(shape)
    try:
        return np.empty(twin, dtype)
    except ValueError:
        return np.empty((0,) * len(shape), dtype)


def _not_inference(tensor: torch.Tensor, meta_returns: bool = False) -> None:
    """torch's RuntimeError for an inference tensor outside inference mode (see :func:`_writable`), raised before
    anything is written: also where fastinit hands the tensor to torch.nn.init (:func:`_by_torch`), whose fill writes
    it first (a review: ``zeros_`` of an int64 inference tensor zeroed it, then raised)."""
    if tensor.is_inference() and not torch.is_inference_mode_enabled() and not (meta_returns and tensor.is_meta):
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
                           "clone to get a normal tensor before doing inplace update.See "
                           "https://github.com/pytorch/rfcs/pull/17 for more details.")


def _writable(tensor: torch.Tensor, meta_returns: bool = False, inference: bool = True):
    """What fastinit fills for ``tensor``: a NumPy view of a CPU tensor's memory (:func:`_cpu_view`), a CUDA
    tensor itself (fastinit's buffers write its memory on torch's current stream), or an empty twin for a meta
    tensor or an empty one whose shape NumPy cannot hold (:func:`_beyond_numpy`); the dtype is checked in torch's
    words.  An inference tensor outside inference mode is refused with torch's error (not a meta one where
    ``meta_returns``: torch's ``trunc_normal_``, ``dirac_``, ``orthogonal_`` and ``sparse_`` return a meta tensor
    untouched, in place of the write that would raise; ``inference=False``: not checked here); a tensor on another
    device by :func:`as_numpy`."""
    if not isinstance(tensor, torch.Tensor):
        return as_numpy(tensor)  # raises, naming what it got
    if inference:
        _not_inference(tensor, meta_returns)
    if tensor.is_meta:
        return _meta_twin(tensor)
    device = torch_device_type(tensor)
    if device not in ("cpu", "cuda"):
        return as_numpy(tensor)  # raises, naming the device
    _numpy_dtype(tensor.dtype)  # the dtype check
    if _beyond_numpy(tensor):
        return _meta_twin(tensor)
    return _cpu_view(tensor) if device == "cpu" else tensor


def _cpu_view(tensor: torch.Tensor):
    """The NumPy view of a CPU tensor's memory that fastinit's buffers make of it (their checks, naming it
    ``tensor``; :func:`_writable` has checked its device and inference mode), made once here, so the initializer takes
    its NumPy path (no second round of tensor checks); a tensor they refuse (sparse, nested, negative bit) is
    passed on as is, to be refused where it always was: after the initializer's own argument checks."""
    try:
        return torch_cpu_array(tensor, "tensor")
    except TypeError:
        return tensor


def _check_generator(generator, tensor=None) -> None:
    """torch's TypeError for a ``generator=`` that is not a torch.Generator (an int, a fastinit.Generator), raised
    for meta and empty tensors too, before anything is checked or written; and its RuntimeError for a generator of
    another device type than a tensor with memory (a CPU generator for a CUDA tensor)."""
    if generator is None:
        return
    if not isinstance(generator, torch.Generator):  # torch's text, then how to use what was given (a seed, or one
        hint = seeding_hint(generator)  # drawn from another generator)
        raise TypeError(f"argument 'generator' must be torch.Generator, not {public_name(type(generator))}"
                        + (f"; {hint}" if hint else ""))
    if isinstance(tensor, torch.Tensor) and not tensor.is_meta and generator.device.type != tensor.device.type:
        raise RuntimeError(f"Expected a '{tensor.device.type}' device type for generator but found "
                           f"'{generator.device.type}'")


def _seed(generator: Optional[torch.Generator], seed: Optional[int], device="cpu") -> int:
    """``seed``, or one drawn from ``generator`` (on its device), else from torch's default generator of
    ``device`` (a CUDA tensor's: torch.cuda.manual_seed seeds it, as it seeds torch.nn.init's draws there)."""
    if seed is not None:
        return seed
    device = device if generator is None else generator.device
    return int(torch.randint(0, 2**63 - 1, (1,), generator=generator, device=device).item())


class _TorchSeeds(Generator):
    """A torch generator (None: the default generator of ``device``, the tensor's) as the source of fastinit's
    ``seed=None`` draws.  The fastinit initializers draw only after every argument check, so a refused call leaves
    torch's generator untouched, and an empty tensor draws nothing; one call draws one seed."""

    def __init__(self, generator: Optional[torch.Generator], device="cpu"):  # no fastinit seed state of its own
        self._torch, self._device = generator, device

    def next_seed(self) -> int:
        return _seed(self._torch, None, self._device)


def _num(x):
    """A 0-d tensor argument (``std=torch.tensor(0.02)``, which torch.nn.init takes), or a 0-d NumPy array of
    numbers (``gain=np.array(2.0)``, which its arithmetic takes: xavier_*'s gain, sparse_'s sparsity, dirac_'s
    groups), as its Python number."""
    if isinstance(x, torch.Tensor) and x.dim() == 0 or isinstance(x, np.ndarray) and x.ndim == 0 and \
            x.dtype.kind in "iuf":
        return x.item()
    return x


def _item(x):
    """:func:`_num`, and a one-element tensor of any number of axes as its number, where torch.nn.init's
    arithmetic takes one (orthogonal_'s gain, sparse_'s sparsity, dirac_'s groups; its other numbers go to
    ``Tensor.normal_`` and the like, which refuse it)."""
    return x.item() if isinstance(x, torch.Tensor) and x.numel() == 1 else _num(x)


def _multiplies(gain, tensor: torch.Tensor) -> bool:
    """Whether orthogonal_'s ``gain`` is a tensor torch.nn.init's in-place product ``tensor.mul_(gain)`` takes as a
    tensor, not as a number (:func:`_item`): one of several elements, or of more axes than ``tensor``."""
    return isinstance(gain, torch.Tensor) and (gain.numel() != 1 or gain.ndim > tensor.ndim)


# torch's names of its dtypes in its messages (c10's ScalarType)
_C10 = {torch.float16: "Half", torch.bfloat16: "BFloat16", torch.float32: "Float", torch.float64: "Double",
        torch.complex32: "ComplexHalf", torch.complex64: "ComplexFloat", torch.complex128: "ComplexDouble",
        torch.int8: "Char", torch.uint8: "Byte", torch.int16: "Short", torch.int32: "Int", torch.int64: "Long",
        torch.bool: "Bool"}


def _bytes(tensor: torch.Tensor) -> tuple[int, int]:
    """The bytes [first, last) a strided tensor's elements (at least one) lie within (torch's strides are >= 0)."""
    first = tensor.data_ptr()
    return first, first + (sum((n - 1) * s for n, s in zip(tensor.shape, tensor.stride())) + 1) * tensor.element_size()


def _check_product(gain: torch.Tensor, tensor: torch.Tensor, stream) -> None:
    """Refuse, before any write, a gain tensor (:func:`_multiplies`) that the product ``tensor.mul_(gain)`` refuses,
    in torch's words: its shape must broadcast to the tensor's (``gain=g[:, None]`` scales rows), its dtype cast to
    the tensor's, and it must lie on the tensor's device; one whose memory overlaps the tensor's (the fill would
    overwrite it first; apart in one storage is taken); and one fastinit's checks of a gain refuse, on its largest
    magnitude (NaN, beyond the dtype)."""
    if _subclass(gain):  # (a DTensor's: no memory of its own to read)
        raise TypeError(f"orthogonal_: gain is a {type(gain).__name__}, a tensor subclass; pass a plain tensor")
    shape = tuple(tensor.shape)
    try:
        broadcast = torch.broadcast_shapes(shape, tuple(gain.shape))
    except RuntimeError:
        ndim = max(len(shape), gain.ndim)
        i = next(i for i in range(1, min(len(shape), gain.ndim) + 1) if 1 != shape[-i] != gain.shape[-i] != 1)
        raise RuntimeError(f"The size of tensor a ({shape[-i]}) must match the size of tensor b ({gain.shape[-i]}) "
                           f"at non-singleton dimension {ndim - i}") from None
    if broadcast != shape:
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape {list(broadcast)}")
    result = torch.promote_types(tensor.dtype, gain.dtype)
    if not torch.can_cast(result, tensor.dtype):
        raise RuntimeError(f"result type {_C10.get(result, result)} can't be cast to the desired output type "
                           f"{_C10.get(tensor.dtype, tensor.dtype)}")
    if gain.device != tensor.device:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{tensor.device} and {gain.device}!")
    (g0, g1), (t0, t1) = _bytes(gain) if gain.layout == torch.strided else (0, 0), _bytes(tensor)
    if g0 < t1 and t0 < g1:
        raise ValueError("orthogonal_: gain's memory overlaps tensor's, which the fill overwrites before its product "
                         "by gain; pass a copy (gain.clone())")
    peak = gain.detach().to_dense() if gain.layout != torch.strided else gain.detach()
    peak = float(peak.to(torch.float64).abs().max())  # (NaN if one is NaN)
    _structured.orthogonal_(np.empty((0, 0), _numpy_dtype(tensor.dtype)), peak, seed=0, stream=stream)


def _real(x, name: str, fn: str) -> float:
    """A number argument (a 0-d tensor too) as a float, checked before torch's own comparisons use it: a TypeError
    naming it for a non-number (None, a string, an array), as fastinit's samplers give."""
    x = _num(x)
    v = _init.as_real(x, name, fn, finite=False)
    _init.refuse_overflow(x, v, name, fn)  # 10**400: not an infinite bound (torch: OverflowError)
    return v


def _done(tensor: torch.Tensor) -> torch.Tensor:
    torch.autograd.graph.increment_version(tensor)
    return tensor


# torch.nn.init's functions that return a meta tensor before writing it (its version counter unchanged; fastinit's
# delta_orthogonal_ as orthogonal_), and that return a tensor of no element so; every other fill moves the counter
_META_RETURNS = frozenset({"trunc_normal_", "dirac_", "orthogonal_", "delta_orthogonal_", "sparse_"})
_EMPTY_RETURNS = frozenset({"orthogonal_", "kaiming_uniform_", "kaiming_normal_"})


def _bumps(name: str, meta: bool, empty: bool) -> bool:
    """Whether torch's ``name`` moves the version counter of a tensor (meta or not, empty or not): it writes."""
    return not (meta and name in _META_RETURNS or empty and name in _EMPTY_RETURNS)


def _beyond_numpy(tensor: torch.Tensor) -> bool:
    """A tensor of no element whose shape NumPy cannot hold ((0, 2**31, 2**31): NumPy bounds the product of the
    extents, torch does not), so that no NumPy view or twin of its shape can be made."""
    if tensor.numel():
        return False
    try:
        np.empty(tuple(tensor.shape), np.float64)  # the widest itemsize: any shape it holds, the others hold
    except ValueError:
        return True
    return False


def _placed_twin(tensor: torch.Tensor, kw: dict, dtype: np.dtype) -> np.ndarray:
    """An empty NumPy twin of ``tensor`` of ``dtype``, of shape (0, 1, ..., 1) (extents of 0 kept), placed where the
    tensor is: ``kw``'s ``global_shape`` and ``offset`` become the tensor's (its own shape: the whole tensor), so a
    placed sampler runs every check (fans of the whole shape, ranges, seed, stream) on it and writes nothing."""
    gshape, off = place_block(tuple(tensor.shape), kw.pop("global_shape", None), kw.pop("offset", None))
    kw.update(global_shape=gshape, offset=off)
    shape = (0,) + tuple(min(s, 1) for s in tensor.shape[1:]) if tensor.ndim else ()
    return np.empty(shape, dtype)


def _sampled(fill, tensor, generator, seed, placed=True, keep=1, meta_returns=False, **kw):
    """Run a fastinit sampler on the tensor's memory; the seed is drawn from ``generator`` only once the
    arguments passed every check, and only for non-empty tensors with data.  Empty tensors are checked like
    any other (as torch.nn.init checks them), then left alone.

    A non-empty meta tensor's arguments are checked as a CPU tensor's would be, with nothing drawn:
    ``placed`` samplers get an empty twin placed at the origin of the tensor's shape (:func:`_placed_twin`),
    which runs every check and no kernel; the others (orthogonal) an empty twin keeping the first ``keep`` axes
    (a 0-d tensor's twin holds one element).  So does an empty tensor whose shape NumPy cannot hold.
    ``meta_returns``: see :func:`_writable`.  An inference tensor outside inference mode is checked so too, then
    refused: torch's error comes after its arguments' (``xavier_uniform_`` of a 1-D one: the fans' ValueError)."""
    _check_generator(generator, tensor)
    beyond = isinstance(tensor, torch.Tensor) and _beyond_numpy(tensor)
    refused = isinstance(tensor, torch.Tensor) and tensor.is_inference() and not torch.is_inference_mode_enabled() \
        and not (meta_returns and tensor.is_meta)  # (as _not_inference refuses it)
    if isinstance(tensor, torch.Tensor) and (tensor.is_meta or beyond or refused):
        _writable(tensor, meta_returns, inference=False)  # its device and dtype checks
        with quiet(refused):  # (no warning for a refused call)
            if not tensor.numel() and not beyond:  # checked as an empty CPU tensor: all of it
                fill(np.empty(tuple(tensor.shape), _numpy_dtype(tensor.dtype)), seed=seed, **kw)
            else:
                seed = 0 if seed is None else resolve_seed(seed)
                twin = _placed_twin(tensor, kw, _numpy_dtype(tensor.dtype)) if placed else _meta_twin(tensor, keep)
                with shape_said_as(tensor.shape, twin.shape):
                    fill(twin, seed=seed, **kw)
        _not_inference(tensor, meta_returns)  # (a meta tensor's too, as torch)
        return tensor if meta_returns and tensor.is_meta else _done(tensor)
    cuda = generator is None and isinstance(tensor, torch.Tensor) and torch_device_type(tensor) != "cpu"
    device = tensor.device if cuda else "cpu"
    fill(_writable(tensor), seed=seed, generator=None if seed is not None else _TorchSeeds(generator, device), **kw)
    return _done(tensor)


_FASTINIT_ONLY = ("seed", "stream", "global_shape", "offset")
_PLAIN_TORCH_FUNCTION = (torch.Tensor.__torch_function__.__func__, torch._C._disabled_torch_function_impl)
_DYNAMO = torch.compiler.is_dynamo_compiling  # torch.compile's tracing (not torch.export's non-strict one)
_DISPATCH_MODE = torch._C._len_torch_dispatch_stack  # this thread's modes (FakeTensorMode too); not
# _python_dispatch.is_in_torch_dispatch_mode, a process-wide flag: another thread's mode would reroute this one's


def _subclass(tensor) -> bool:
    """A tensor subclass that overrides torch's functions or its dispatch (DTensor, FakeTensor, a lazy module's
    UninitializedParameter, a user's ``__torch_function__`` subclass), or a torch.func transform's wrapper
    (``vmap``, ``grad``, ``functionalize``: of type ``torch.Tensor``): no plain strided memory fastinit could
    write, or a tensor that expects torch to see the call.  ``nn.Parameter`` and subclasses that override
    neither are plain tensors here."""
    if not isinstance(tensor, torch.Tensor):
        return False
    if torch_func_wrapper(tensor):
        return True
    kind = type(tensor)
    if kind is torch.Tensor:
        return False
    return (getattr(kind.__torch_function__, "__func__", kind.__torch_function__) not in _PLAIN_TORCH_FUNCTION
            or kind.__torch_dispatch__ is not torch.Tensor.__torch_dispatch__)


def _dtensor(tensor) -> bool:
    """A ``torch.distributed.tensor.DTensor`` (looked for only once its module is imported: nothing else could make
    one)."""
    module = sys.modules.get("torch.distributed.tensor")
    return module is not None and isinstance(tensor, getattr(module, "DTensor", ()))


def _local_block(tensor, name: str) -> tuple:
    """A DTensor's local tensor and its offset in the global tensor, ``(None, None)`` on a rank outside its mesh.
    Placements ``Shard(dim)`` (even or uneven) and ``Replicate`` (a local tensor is one block of the global one);
    others are refused (TypeError, ``name`` the caller)."""
    from torch.distributed.tensor import Replicate, Shard

    try:  # (torch's own helper, as its checkpointing places shards; private)
        from torch.distributed.tensor._utils import compute_local_shape_and_global_offset
    except ImportError:
        raise TypeError(f"{name}: this torch {torch.__version__} has no torch.distributed.tensor._utils."
                        "compute_local_shape_and_global_offset, which fastinit places a DTensor's shard by; initialize "
                        "its local tensor with global_shape= and offset=") from None

    odd = [p for p in tensor.placements if not (type(p) is Shard or isinstance(p, Replicate))]
    if odd:
        raise TypeError(f"{name}: a DTensor placed {odd[0]!r} (placements {tuple(tensor.placements)!r}) has no one "
                        "block of the global tensor on a rank; fastinit fills DTensors placed Shard(dim) or "
                        "Replicate (redistribute it, or initialize it before sharding)")
    if tensor.device_mesh.get_coordinate() is None:
        return None, None
    with torch.no_grad():
        local = tensor.to_local()  # (under no_grad: the local tensor itself, not an autograd view of it)
    shape, offset = compute_local_shape_and_global_offset(tensor.shape, tensor.device_mesh, tensor.placements)
    if tuple(shape) != tuple(local.shape) and local.numel() + math.prod(shape):  # (an empty one: FSDP2 may give
        # a (4, 0) weight's shards the shape (0, 0))
        raise ValueError(f"{name}: the DTensor's local tensor has shape {tuple(local.shape)}, where its placements "
                         f"{tuple(tensor.placements)!r} on its mesh give {tuple(shape)}")
    return local, tuple(offset)


def _copy_block(local: torch.Tensor, offset: tuple, whole: torch.Tensor) -> None:
    """``local``, a DTensor's local tensor at ``offset`` (:func:`_local_block`), set to its block of ``whole``, a
    tensor of the global shape."""
    local.copy_(whole[tuple(slice(o, o + n) for o, n in zip(offset, local.shape))])


def _arguments(name: str, signature: inspect.Signature, args: tuple, kwargs: dict) -> dict:
    """A DTensor call's arguments by name (their binding's TypeError named as the call's)."""
    try:
        return signature.bind(*args, **kwargs).arguments
    except TypeError as e:
        raise TypeError(f"{name}() {e}") from None


def _on_local_block(fill, signature: inspect.Signature, args: tuple, kwargs: dict) -> torch.Tensor:
    """A sampler ``fill`` on a DTensor: its local tensor filled as the block at the local shard's offset of the
    global tensor (``global_shape=`` / ``offset=``), so every rank writes its part of one unsharded fill, the same
    values for any mesh and placement; ``orthogonal_`` and ``delta_orthogonal_``, whose every entry depends on the
    whole tensor, compute it whole on each rank's host (a tensor of the global shape) and copy the block.
    Placements: ``Shard(dim)`` (even or uneven) and ``Replicate``, whose local tensor is one block; ``Partial``
    (values still to be summed) and strided shards (FSDP2 over tensor parallelism: rows of several blocks) are
    refused, before any write.  Every rank draws the one seed the unsharded fill draws (``seed=None``), also where
    its shard is empty or it is outside the mesh (which holds nothing: the arguments are checked), so the ranks'
    generators stay in step; a meta DTensor draws nothing.  The DTensor's version is bumped where a plain tensor's
    is, as by torch's fill (:func:`_bumps`)."""
    name = fill.__name__
    arguments = _arguments(name, signature, args, kwargs)
    extra = dict(arguments.pop("placement", {}))  # (the samplers' **placement: fastinit's keywords)
    tensor = arguments.pop("tensor")
    if name == "orthogonal_" and _multiplies(arguments.get("gain"), tensor):  # (before any draw: the twins' fills
        # check no product)
        raise TypeError("orthogonal_: a gain tensor of several elements multiplies a DTensor in a DTensor "
                        "operation, which fastinit does not make; fill with gain 1, then multiply: w.mul_(gain)")
    placed = [where.pop(k, None) for where in (arguments, extra) for k in ("global_shape", "offset")]
    if any(v is not None for v in placed):
        raise TypeError(f"{name}: a DTensor carries its own placement; global_shape= and offset= are its global "
                        "shape and its local shard's offset, not arguments")
    local, offset = _local_block(tensor, name)
    whole = "global_shape" in signature.parameters  # (orthogonal_, delta_orthogonal_: no shards)
    held = tensor if local is None else local

    def call(target, **changed):
        return fill(target, **{**arguments, **extra, **changed})

    named = TARGET_NAME.set("tensor")
    try:
        if local is None or whole:  # every check on the global shape, nothing drawn
            call(torch.empty(tensor.shape, dtype=tensor.dtype, device="meta"))
        else:  # draws its seed itself where the shard has elements
            call(local, global_shape=tuple(tensor.shape), offset=offset)
        # The seed the unsharded fill draws (checked: its arguments passed), which no fill drew here; it draws one
        # where it writes values, but for uniform_ with a == b (a constant)
        constant = name == "uniform_" and _real(arguments.get("a", 0.0), "a", name) == _real(arguments.get("b", 1.0),
                                                                                            "b", name)
        draws = not held.is_meta and tensor.numel() and not constant
        if draws and (local is None or whole or not local.numel()):
            generator = arguments.get("generator")
            _check_generator(generator, held)
            seed = _seed(generator, arguments.get("seed"), held.device)  # (drawn, where the shard is empty)
            if local is not None and local.numel():  # (whole)
                full = call(torch.empty(tensor.shape, dtype=local.dtype), seed=seed, generator=None)
                with torch.no_grad():
                    _copy_block(local, offset, full)
    finally:
        TARGET_NAME.reset(named)
    return _done(tensor) if _bumps(name, held.is_meta, not tensor.numel()) else tensor  # (as the plain tensor's)


_PATTERNS = {"eye_": lambda shape: _structured.eye_ones(shape),
             "dirac_": lambda shape, groups=1: _structured.dirac_ones(shape, _item(groups))}  # DTensor: by block


def _pattern_on_local_block(fill, signature: inspect.Signature, args: tuple, kwargs: dict) -> torch.Tensor:
    """``eye_`` / ``dirac_`` on a DTensor (torch's functions write the global pattern into each local tensor):
    the arguments checked on a meta tensor of the global shape, then each rank's local tensor zeroed and given
    the ones of the global pattern that fall in its block."""
    name = fill.__name__
    arguments = _arguments(name, signature, args, kwargs)
    tensor = arguments.pop("tensor")
    fill(torch.empty(tensor.shape, dtype=tensor.dtype, device="meta"), **arguments)  # (its checks; no write)
    local, offset = _local_block(tensor, name)
    if local is not None and not local.is_meta and local.numel():
        ones = _PATTERNS[name](tuple(tensor.shape), **arguments)
        inside = np.logical_and.reduce([(i >= o) & (i < o + n) for i, o, n in zip(ones, offset, local.shape)])
        with torch.no_grad():
            local.zero_()
            local[tuple(torch.from_numpy(i[inside] - o) for i, o in zip(ones, offset))] = 1
    held = tensor if local is None else local
    return _done(tensor) if _bumps(name, held.is_meta, not tensor.numel()) else tensor


def _subclasses_to_torch(fill):
    """``fill`` for plain tensors, and for a sampler's DTensor on its local shard (:func:`_on_local_block`; eye_'s
    and dirac_'s: :func:`_pattern_on_local_block`); for
    another tensor subclass (:func:`_subclass`), or any tensor while a
    TorchDispatchMode is active (it expects to see the fill's aten operations, which fastinit's kernels do not
    make), torch.nn.init's function of the same name, which dispatches it as torch does (its values, its errors); a
    TypeError for fastinit's own initializers and for fastinit-only arguments (``seed=``, ``stream=``, placement),
    which torch cannot honour.  An active TorchFunctionMode is first offered the call, as torch.nn.init's functions
    offer it (``torch.device(...)``'s mode passes it on; a user's mode may skip or reroute it)."""
    theirs = _THEIRS.get(fill.__name__)
    signature = inspect.signature(fill)  # (read once: _on_local_block binds a DTensor call's arguments to it)
    sampler = "generator" in signature.parameters

    def dispatch(*args, **kwargs):
        tensor = args[0] if args else kwargs.get("tensor")
        if sampler and _dtensor(tensor) and _DISPATCH_MODE() == 0:
            return _on_local_block(fill, signature, args, kwargs)
        if fill.__name__ in _PATTERNS and _dtensor(tensor) and _DISPATCH_MODE() == 0:
            return _pattern_on_local_block(fill, signature, args, kwargs)
        if not _subclass(tensor) and not (isinstance(tensor, torch.Tensor) and _DISPATCH_MODE() > 0):
            named = TARGET_NAME.set("tensor")  # fastinit's refusals of the tensor name torch's parameter
            try:
                return fill(*args, **kwargs)
            finally:
                TARGET_NAME.reset(named)
        ours = [f"{k}=" for k in _FASTINIT_ONLY if kwargs.get(k) is not None]
        if theirs is None or ours:
            what = f"{fill.__name__} is not in torch.nn.init" if theirs is None else \
                f"torch.nn.init has no {', '.join(ours)}"
            if not _subclass(tensor):
                raise TypeError(f"{fill.__name__}: a TorchDispatchMode is active, under which fastinit hands tensors "
                                f"to torch.nn.init, and {what}; initialize outside the mode")
            raise TypeError(f"{fill.__name__}: a {type(tensor).__name__} is a tensor subclass, which fastinit hands "
                            f"to torch.nn.init, and {what}; initialize a plain tensor (a shard's local tensor) instead")
        return theirs(*args, **{k: v for k, v in kwargs.items() if k not in _FASTINIT_ONLY})

    @functools.wraps(fill)
    def initializer(*args, **kwargs):
        if _DYNAMO():  # torch.compile: a graph break, the call runs eagerly (same values)
            return torch.compiler.disable(dispatch)(*args, **kwargs)
        if torch._C._is_torch_function_mode_enabled():  # the mode calls this again (itself off) to go on
            return handle_torch_function(initializer, (args[0] if args else kwargs.get("tensor"),), *args, **kwargs)
        return dispatch(*args, **kwargs)

    return initializer


@_subclasses_to_torch
def uniform_(tensor: torch.Tensor, a: float = 0.0, b: float = 1.0, generator: Optional[torch.Generator] = None,
             *, seed: Optional[int] = None, **placement) -> torch.Tensor:
    """U[a, b) in place (torch.nn.init.uniform_); a == b fills a finite a (dtype, seed, stream, placement and
    generator checked as for a < b; no seed drawn), a > b raises like torch."""
    given_a = _num(a)  # (the sampler keeps a bound float64 cannot hold: an int beyond 2**53)
    a, b = _real(a, "a", "uniform_"), _real(b, "b", "uniform_")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    if a == b:  # torch fills a; the other arguments (dtype, seed, stream, placement) are checked as a sampler's
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")
        _check_generator(generator, tensor)
        if not math.isfinite(a):  # torch: "from and to must be finite"
            raise ValueError(f"uniform_: a and b must be finite, got a = b = {a}")
        if tensor.is_nested or tensor.layout != torch.strided:  # refused as for a < b (no meta twin of them)
            torch_cpu_array(tensor, "tensor")
        _sampled(lambda arr, **kw: _init.normal_(arr, 0.0, 0.0, **kw), torch.empty_like(tensor, device="meta"),
                 generator, seed, **placement)
        _init.refuse_beyond_range(a, b, _numpy_dtype(tensor.dtype), "uniform_")  # as for a < b, not constant_'s val
        if not tensor.is_meta and tensor.numel():  # as a sampler: elements sharing memory refused (torch: its
            strides = tensor.stride()  # overlap RuntimeError where a stride is 0), not filled by torch's constant_
            refuse_shared_memory("tensor", tensor.shape, strides, tuple(s * tensor.element_size() for s in strides))
        return _constant(tensor, a)
    return _sampled(lambda arr, **kw: _init.uniform_(arr, given_a, b, **kw), tensor, generator, seed, **placement)


@_subclasses_to_torch
def normal_(tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, generator: Optional[torch.Generator] = None,
            *, seed: Optional[int] = None, **placement) -> torch.Tensor:
    """N(mean, std²) in place (torch.nn.init.normal_)."""
    mean, std = _real(mean, "mean", "normal_"), _real(std, "std", "normal_")
    if not std >= 0:  # (NaN too, as torch's check)
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _sampled(lambda arr, **kw: _init.normal_(arr, mean, std, **kw), tensor, generator, seed, **placement)


@_subclasses_to_torch
def trunc_normal_(tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: Optional[torch.Generator] = None, *, seed: Optional[int] = None,
                  **placement) -> torch.Tensor:
    """N(mean, std²) restricted to [a, b], exactly (see :func:`fastinit.trunc_normal_`).  torch's warning for a mean
    more than 2 std outside [a, b] is given on a refused call too, as torch gives it before its checks."""
    mean, std, a, b = _num(mean), _num(std), _num(a), _num(b)
    try:
        return _sampled(lambda arr, **kw: _init.trunc_normal_(arr, mean, std, a, b, **kw), tensor, generator, seed,
                        meta_returns=True, **placement)
    except (TypeError, ValueError, RuntimeError):
        try:
            far = bool(_init.mean_far(mean, std, a, b))
        except (TypeError, ValueError):  # (not numbers: torch's comparison raises before it warns)
            far = False
        if far:
            warn(_init.mean_far_said("trunc_normal_"))
        raise


def _not_float(tensor: torch.Tensor) -> bool:
    """Integer, bool and complex tensors, which fastinit's kernels do not write: constant_, zeros_, ones_, eye_
    and dirac_ hand them to torch.nn.init (torch fills them; its samplers refuse them, and so do fastinit's)."""
    return isinstance(tensor, torch.Tensor) and tensor.dtype not in _FLOATS and tensor.dtype != torch.bfloat16


def _shares_memory(tensor: torch.Tensor) -> bool:
    """A view whose elements may share memory: an expanded one (a zero stride on an axis of more than one
    element) or one overlapping itself (``unfold``, ``as_strided``); False for a tensor without strides (sparse,
    nested)."""
    if tensor.layout != torch.strided or tensor.is_nested:
        return False
    return may_overlap(tensor.shape, tensor.stride())


def _by_torch(tensor: torch.Tensor) -> bool:
    """Whether constant_, zeros_, ones_, eye_ and dirac_ hand ``tensor`` to torch.nn.init, which fills it where
    fastinit's kernels do not write (its samplers refuse them): integer, bool and complex tensors, sparse tensors,
    views whose elements share memory (expanded, ``unfold``), a lazily negated view (``x.conj().imag``: its memory
    holds the negated values) and memory not aligned to the element size (``torch.frombuffer`` at an odd offset)."""
    return _not_float(tensor) or isinstance(tensor, torch.Tensor) and (
        tensor.is_nested or tensor.layout != torch.strided or _shares_memory(tensor) or tensor.is_neg()
        or tensor.data_ptr() % tensor.element_size() != 0)


def _handed_over(name: str, tensor: torch.Tensor, *args) -> torch.Tensor:
    """torch.nn.init's ``name`` filling a tensor fastinit hands to it (:func:`_by_torch`), an inference tensor refused
    first (:func:`_not_inference`: torch's fill writes it, then raises).  (dirac_ checks its groups between the two.)"""
    _not_inference(tensor)
    return _THEIRS[name](tensor, *args)


def _constant(tensor: torch.Tensor, val) -> torch.Tensor:
    """:func:`constant_` for a tensor its callers (ones_, zeros_, uniform_ with a == b) have already found not to
    be a tensor subclass."""
    if _by_torch(tensor):
        return _handed_over("constant_", tensor, val)
    number = not isinstance(val, torch.Tensor)  # (torch's fill_ rounds a 0-d tensor's value)
    val = _num(val)
    val = float(val) if isinstance(val, (bool, np.bool_)) else val  # True: 1, as torch
    target = _writable(tensor)
    v, dtype = _init.as_real(val, "val", "constant_", finite=False), _numpy_dtype(tensor.dtype)
    if number and math.isfinite(v) and abs(v) > finfo_max(dtype):  # torch's rule for a number, also where it
        # rounds to the largest (65519 in float16; fastinit.constant_ stores it rounded, as NumPy's conversion)
        raise ValueError(f"constant_: val={v} overflows {dtype} (largest finite {finfo_max(dtype):.6g})")
    _init.constant_(target, val)
    return _done(tensor)


@_subclasses_to_torch
def constant_(tensor: torch.Tensor, val: float) -> torch.Tensor:
    """Fill with ``val`` (torch.nn.init.constant_).  By torch itself: integer, bool and complex tensors, sparse
    ones (torch fills a CSR tensor's stored values, refuses a COO one), views whose elements share memory
    (expanded, ``unfold``), lazily negated views (``x.conj().imag``) and memory not aligned to the element size."""
    return _constant(tensor, val)


@_subclasses_to_torch
def ones_(tensor: torch.Tensor) -> torch.Tensor:
    """Fill with ones."""
    return _constant(tensor, 1.0)


@_subclasses_to_torch
def zeros_(tensor: torch.Tensor) -> torch.Tensor:
    """Fill with zeros (a sparse tensor by torch itself: its ``zero_`` empties a COO tensor, whose ``fill_``
    torch does not implement)."""
    if isinstance(tensor, torch.Tensor) and tensor.layout != torch.strided:
        return _handed_over("zeros_", tensor)
    return _constant(tensor, 0.0)


@_subclasses_to_torch
def eye_(tensor: torch.Tensor) -> torch.Tensor:
    """2-D identity (torch.nn.init.eye_; integer, bool and complex tensors, views whose elements share memory,
    lazily negated views and unaligned memory by torch itself)."""
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if _by_torch(tensor):
        return _handed_over("eye_", tensor)
    _structured.eye_(_writable(tensor))
    return _done(tensor)


@_subclasses_to_torch
def dirac_(tensor: torch.Tensor, groups: int = 1) -> torch.Tensor:
    """Dirac delta of a 3/4/5-D conv kernel (torch.nn.init.dirac_; integer, bool and complex tensors, views whose
    elements share memory, lazily negated views and unaligned memory by torch itself)."""
    by_torch = _by_torch(tensor)
    if by_torch:  # fastinit's checks first, on a float twin: torch's dirac_ writes zeros before it checks groups
        _not_inference(tensor, meta_returns=True)
        twin = _meta_twin(torch.empty(tensor.shape, device="meta"))
    else:
        twin = _writable(tensor, meta_returns=True)  # a meta tensor's: errors quote the tensor's shape
    with shape_said_as(tensor.shape, twin.shape):
        _structured.dirac_(twin, _item(groups))
    if by_torch:
        return _THEIRS["dirac_"](tensor, _item(groups))
    return tensor if tensor.is_meta else _done(tensor)


@_subclasses_to_torch
def xavier_uniform_(tensor: torch.Tensor, gain: float = 1.0, generator: Optional[torch.Generator] = None, *,
                    seed: Optional[int] = None, **placement) -> torch.Tensor:
    """Glorot uniform, bound gain * sqrt(6 / (fan_in + fan_out)) (torch.nn.init.xavier_uniform_)."""
    return _sampled(lambda arr, **kw: _scaled.xavier_uniform_(arr, _num(gain), **kw), tensor, generator, seed,
                    **placement)


@_subclasses_to_torch
def xavier_normal_(tensor: torch.Tensor, gain: float = 1.0, generator: Optional[torch.Generator] = None, *,
                   seed: Optional[int] = None, **placement) -> torch.Tensor:
    """Glorot normal, std gain * sqrt(2 / (fan_in + fan_out)) (torch.nn.init.xavier_normal_)."""
    return _sampled(lambda arr, **kw: _scaled.xavier_normal_(arr, _num(gain), **kw), tensor, generator, seed,
                    **placement)


def _kaiming(fill, tensor, a, mode, nonlinearity, generator, seed, placement):
    whole = placement.get("global_shape")  # an empty shard of a non-empty tensor is checked like any shard
    try:  # (any sequence of sizes: a tuple, a NumPy array, a tensor)
        shape = tuple(tensor.shape) if whole is None else shape_tuple(whole, "global_shape")
    except (TypeError, ValueError):  # (not a shape: refused by the placement's own check, below)
        shape = tuple(tensor.shape)
    if 0 in shape:
        _check_generator(generator)  # (its type only: torch warns and returns before it reads the device)
        # fastinit's own arguments (placement, seed, stream, layout and axes) are checked as for any empty tensor,
        # with torch's warning; torch's are not: it warns and returns before it reads mode or nonlinearity
        own = {k: placement.pop(k, d) for k, d in (("layout", "torch"), ("in_axis", None), ("out_axis", None),
                                                    ("dtype", None))}
        unknown = sorted(set(placement) - {"stream", "global_shape", "offset", "_chunk"})
        if unknown:  # said as a non-empty call says it
            raise TypeError(f"{fill.__name__}() got an unexpected keyword argument '{unknown[0]}'")
        twin = _placed_twin(tensor, placement, np.float32) if _beyond_numpy(tensor) else \
            np.empty(tuple(tensor.shape), np.float32)
        with shape_said_as(tensor.shape, twin.shape):
            _scaled.scheme(twin, fill.__name__, "uniform", None, warn_empty=True, seed=seed, **own, **placement)
        return tensor
    return _sampled(lambda arr, **kw: fill(arr, _num(a), mode, nonlinearity, **kw), tensor, generator, seed,
                    **placement)


@_subclasses_to_torch
def kaiming_uniform_(tensor: torch.Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: Optional[torch.Generator] = None, *, seed: Optional[int] = None,
                     **placement) -> torch.Tensor:
    """He uniform, bound gain * sqrt(3 / fan_mode) (torch.nn.init.kaiming_uniform_)."""
    return _kaiming(_scaled.kaiming_uniform_, tensor, a, mode, nonlinearity, generator, seed, placement)


@_subclasses_to_torch
def kaiming_normal_(tensor: torch.Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Optional[torch.Generator] = None, *, seed: Optional[int] = None,
                    **placement) -> torch.Tensor:
    """He normal, std gain / sqrt(fan_mode) (torch.nn.init.kaiming_normal_)."""
    return _kaiming(_scaled.kaiming_normal_, tensor, a, mode, nonlinearity, generator, seed, placement)


def _whole(tensor: torch.Tensor, global_shape, offset, fn: str) -> None:
    """``global_shape=``/``offset=`` of an initializer whose entries depend on the whole tensor: taken when they
    place it as the whole, else refused (as fastinit's NumPy-level one refuses them)."""
    shape = tuple(tensor.shape)
    _structured.refuse_shard(shape, place_block(shape, global_shape, offset)[0], fn)


@_subclasses_to_torch
def orthogonal_(tensor: torch.Tensor, gain: float = 1, generator: Optional[torch.Generator] = None, *,
                seed: Optional[int] = None, stream: Stream = 0, global_shape: Shape = None,
                offset: Shape = None) -> torch.Tensor:
    """Haar-random (semi-)orthogonal matrix times gain (torch.nn.init.orthogonal_); ``global_shape=``/``offset=``
    only as the whole tensor (a shard is refused: every entry depends on the whole matrix).  A gain tensor of several
    elements multiplies the filled tensor in place, broadcast as torch's product (:func:`_check_product`)."""
    if tensor.ndimension() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    _whole(tensor, global_shape, offset, "orthogonal_")
    if tensor.is_meta or _beyond_numpy(tensor):  # its empty twin has no matrix size to check
        _structured.orthogonal_matrix(tuple(tensor.shape), "torch")
    _check_generator(generator, tensor)  # (torch's first check: its normal_'s)
    product = _multiplies(gain, tensor)  # torch's in-place product by a gain tensor, after a fill of gain 1
    number = 1.0 if product else _item(gain)
    if not tensor.numel():  # torch returns an empty tensor before its write (an inference tensor's too): fastinit's
        # own arguments are checked, and the tensor's version is not bumped
        _structured.orthogonal_(np.empty((0, 0), np.float32), number, seed=seed, stream=stream)
        return tensor
    product = product and not tensor.is_meta  # (torch returns a meta tensor before its product)
    if product:
        _not_inference(tensor)  # (torch's copy_ refuses it, before its product)
        _check_product(gain, tensor, stream)
    filled = _sampled(lambda arr, **kw: _structured.orthogonal_(arr, number, **kw), tensor, generator, seed,
                      placed=False, meta_returns=True, stream=stream)
    if product:
        with torch.no_grad():
            tensor.mul_(gain)
    return filled


@_subclasses_to_torch
def delta_orthogonal_(tensor: torch.Tensor, gain: float = 1, generator: Optional[torch.Generator] = None, *,
                      seed: Optional[int] = None, stream: Stream = 0, global_shape: Shape = None,
                      offset: Shape = None) -> torch.Tensor:
    """Delta-orthogonal conv kernel (out, in, *k) (Xiao et al. 2018, JAX semantics): gain × a Haar
    (out, in) matrix at the spatial centre, zero elsewhere; not in torch.nn.init.  Placement as orthogonal_'s."""
    if isinstance(tensor, torch.Tensor):  # the shape first, on any device (as orthogonal_'s rank): a meta
        _structured.delta_orthogonal_matrix(tuple(tensor.shape), "torch")  # tensor's twin keeps (out, in) only
        _whole(tensor, global_shape, offset, "delta_orthogonal_")
    return _sampled(lambda arr, **kw: _structured.delta_orthogonal_(arr, _item(gain), **kw), tensor, generator, seed,
                    placed=False, keep=2, meta_returns=True, stream=stream)  # (as orthogonal_)


@_subclasses_to_torch
def sparse_(tensor: torch.Tensor, sparsity: float, std: float = 0.01, generator: Optional[torch.Generator] = None,
            *, seed: Optional[int] = None, **placement) -> torch.Tensor:
    """ceil(sparsity * rows) zeros per column, other entries N(0, std²) (torch.nn.init.sparse_),
    positions drawn from ``generator`` too (torch's own ignores it)."""
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _sampled(lambda arr, **kw: _sparse.sparse_(arr, _item(sparsity), _num(std), **kw), tensor, generator, seed,
                    meta_returns=True, **placement)


@_subclasses_to_torch
def lecun_uniform_(tensor: torch.Tensor, generator: Optional[torch.Generator] = None, *,
                   seed: Optional[int] = None, **placement) -> torch.Tensor:
    """LeCun uniform, bound sqrt(3 / fan_in)."""
    return _sampled(_scaled.lecun_uniform_, tensor, generator, seed, **placement)


@_subclasses_to_torch
def lecun_normal_(tensor: torch.Tensor, generator: Optional[torch.Generator] = None, *,
                  seed: Optional[int] = None, **placement) -> torch.Tensor:
    """LeCun normal, std sqrt(1 / fan_in)."""
    return _sampled(_scaled.lecun_normal_, tensor, generator, seed, **placement)


@_subclasses_to_torch
def variance_scaling_(tensor: torch.Tensor, scale: float = 1.0, mode: str = "fan_in",
                      distribution: str = "truncated_normal", generator: Optional[torch.Generator] = None, *,
                      seed: Optional[int] = None, **placement) -> torch.Tensor:
    """Variance scaling with JAX / Keras semantics (see :func:`fastinit.variance_scaling_`)."""
    return _sampled(lambda arr, **kw: _scaled.variance_scaling_(arr, _num(scale), mode, distribution, **kw), tensor,
                    generator, seed, **placement)


def _deprecated(meth):
    """torch.nn.init's deprecated alias of ``meth`` (its name without the underscore): warns like torch's,
    then calls ``meth``; old code that uses them runs unchanged on ``import fastinit.torch as init``."""
    new_name = meth.__name__
    old_name = new_name[:-1]

    @functools.wraps(meth)
    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.", FutureWarning,
                      stacklevel=2)
        return meth(*args, **kwargs)

    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    deprecated_init.__doc__ = f"Deprecated alias of :func:`{new_name}` (as in torch.nn.init: warns FutureWarning)."
    return deprecated_init




# torch.nn.init's private in-place helpers, which model code calls too (`_init_weights` methods calling
# `init._no_grad_trunc_normal_`): fastinit's fills, under torch's names and signatures (torch's own inside a
# function of torch's that fastinit handed a tensor to, see _handed)
def _no_grad(name: str, ours):
    def helper(*args, **kwargs):
        return (_torch_own(name) if getattr(_HANDING, "depth", 0) else ours)(*args, **kwargs)
    helper.__name__ = helper.__qualname__ = name  # fastinit's (pickled by this name; not functools.wraps, which
    helper.__signature__ = inspect.signature(_TORCH_OWN[name])  # gave it torch's module: a PicklingError)
    helper.__doc__ = f"torch.nn.init.{name}'s signature (a private helper model code calls too), fastinit's fill."
    return helper


_no_grad_uniform_ = _no_grad("_no_grad_uniform_", lambda tensor, a, b, generator=None: uniform_(tensor, a, b,
                                                                                                 generator))
_no_grad_normal_ = _no_grad("_no_grad_normal_", lambda tensor, mean, std, generator=None: normal_(tensor, mean, std,
                                                                                                  generator))
_no_grad_trunc_normal_ = _no_grad("_no_grad_trunc_normal_", lambda tensor, mean, std, a, b, generator=None:
                                  trunc_normal_(tensor, mean, std, a, b, generator))
_no_grad_fill_ = _no_grad("_no_grad_fill_", lambda tensor, val: constant_(tensor, val))
_no_grad_zero_ = _no_grad("_no_grad_zero_", lambda tensor: zeros_(tensor))


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)

from .materialize import MaterializeSummary, Scheme, materialize  # noqa: E402 (last: it uses the functions above)
