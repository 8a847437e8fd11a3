"""Layer 4 — buffers: any writable target -> a typed, flat, strided view the kernels can fill.

Accepted targets: numpy arrays of any strides (views, Fortran order, negative strides),
``np.memmap``, and any object exporting the buffer protocol (memoryview, array.array,
bytearray, mmap, ...).  Untyped byte buffers need ``dtype=``.  GPU memory — any object
exporting ``__cuda_array_interface__`` (torch CUDA tensors, CuPy and numba device arrays) —
becomes a :class:`CudaTarget`, filled by ``fastinit._cuda`` (docs/gpu.md).  Nothing here writes:
all checks happen before a kernel runs, so a refused call leaves the target untouched.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import numbers
import operator
import os
import sys
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._cpu import BF16, F16, F32, F64

__all__ = ["CudaTarget", "Target", "as_target", "bfloat16", "finfo_max", "from_torch", "host_staged", "is_cuda_array",
           "place_block", "resolve_dtype", "shape_tuple", "storage_code", "torch_cpu_array", "torch_device_type",
           "torch_tensor"]

_IEEE = {np.dtype(np.float16): F16, np.dtype(np.float32): F32, np.dtype(np.float64): F64}


@functools.cache
def bfloat16() -> np.dtype:
    """ml_dtypes' bfloat16, imported on first need: ml_dtypes 0.7.0 takes 1.0-1.5 s to import on the 2-vCPU VM
    (0.13-0.15 s for 0.4-0.6: 0.7 registers more dtypes, each ufunc loop added by a linear search in NumPy),
    more than the rest of ``import fastinit``, and a bfloat16 array cannot exist before its module is imported."""
    import ml_dtypes

    return np.dtype(ml_dtypes.bfloat16)


def storage_code(dt: np.dtype) -> int | None:
    """The kernels' storage code of a supported dtype (float16, bfloat16, float32, float64), else None."""
    code = _IEEE.get(dt)
    if code is None and dt.name == "bfloat16" and dt == bfloat16():  # the name first: no import for others
        code = BF16
    return code


@functools.lru_cache(maxsize=None)
def finfo_max(dt: np.dtype) -> float:
    """The largest finite value of a supported dtype."""
    if storage_code(dt) == BF16:
        import ml_dtypes

        return float(ml_dtypes.finfo(dt).max)
    return float(np.finfo(dt).max)


_STORAGE = {F16: np.uint16, BF16: np.uint16, F32: np.float32, F64: np.float64}
_NAMES = "float16, bfloat16, float32, float64"
_MAX_ELEMENTS = 2**64


class Target(NamedTuple):
    """A validated fill target: a 1-D storage span plus the logical block's geometry (immutable, like
    :class:`CudaTarget`; a named tuple: one is built per call, in 0.5 us where a frozen dataclass took 1.3)."""

    array: np.ndarray  # the caller's logical array, typed with its float dtype
    dtype: np.dtype
    code: int  # storage code of _cpu
    flat: np.ndarray  # 1-D C-contiguous storage span covering every element (uint16/f32/f64)
    mbase: int  # position in ``flat`` of element (0, ..., 0)
    mstride: tuple[int, ...]  # per-axis memory strides in elements (may be negative)
    device = "cpu"  # not a field

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape

    @property
    def size(self) -> int:
        return self.array.size


_ALIASES = {name: np.dtype(t) for t, names in [(np.float16, ("float16", "fp16", "f16", "half")),
                                                (np.float32, ("float32", "fp32", "f32", "single")),
                                                (np.float64, ("float64", "fp64", "f64", "double"))] for name in names}


def resolve_dtype(dtype) -> np.dtype:
    """The numpy dtype for a user ``dtype=`` (names such as 'float32' or 'bf16', any case for fastinit's own
    short names, numpy / ml_dtypes types, torch dtypes such as torch.bfloat16); TypeError if unsupported, and
    for the string 'float' (float64 to NumPy, float32 to torch)."""
    if type(dtype).__module__ == "torch" and str(dtype).startswith("torch."):  # torch.float32: by name
        dtype = str(dtype)[len("torch."):]
    if isinstance(dtype, str):
        key = dtype.strip().lower()  # 'BF16' as 'bf16'; NumPy's own spellings below stay as NumPy reads them
        if key in ("bfloat16", "bf16"):
            return bfloat16()
        if key == "float":  # NumPy's float64, torch's torch.float (float32): no guess either
            raise TypeError(f"dtype 'float' is float64 to NumPy and float32 to torch; say which: one of {_NAMES}")
        dtype = _ALIASES.get(key, dtype)
    if dtype is None:  # NumPy reads None as float64, Keras and JAX as float32: no guess
        raise TypeError(f"dtype must be one of {_NAMES}, got None")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be one of {_NAMES}, got {dtype!r}") from None
    if storage_code(dt) is None:
        raise TypeError(f"dtype must be one of {_NAMES}, got {dt}")
    return dt


class CudaTarget(NamedTuple):
    """A validated GPU fill target: the storage span ``[ptr, ptr + span * itemsize)`` and the
    block's geometry, from ``__cuda_array_interface__`` (read here without importing numba.cuda; a named tuple,
    as :class:`Target`)."""

    owner: object  # the exporting object, referenced while fastinit works on its memory (as the CAI asks)
    dtype: np.dtype
    code: int  # storage code of _cpu
    shape: tuple[int, ...]
    ptr: int  # device address of the lowest-addressed element
    span: int  # elements from the lowest to the highest addressed one
    mbase: int  # position in the span of element (0, ..., 0)
    mstride: tuple[int, ...]  # per-axis memory strides in elements (may be negative)
    stream: int | None  # CUDA Array Interface v3 stream to work on (None: the default stream)
    device = "cuda"  # not a field

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def array(self):
        raise TypeError("this initializer computes on the host and has no GPU path yet; wrap it with "
                        "fastinit._buffers.host_staged (fills a host array, then one copy to the device)")


def is_cuda_array(out) -> bool:
    """Whether ``out`` is GPU memory: a CUDA torch tensor (whose ``__cuda_array_interface__`` raises for one
    that requires grad), or an object exporting ``__cuda_array_interface__``."""
    t = torch_tensor(out)
    if t is not None:
        return torch_device_type(t) == "cuda"
    return not isinstance(out, np.ndarray) and (hasattr(out, "__cuda_array_interface__") or _simulator_array(out))


def _simulator_array(out) -> bool:
    """Whether ``out`` is a device array of numba's CUDA simulator (``cuda.to_device`` under NUMBA_ENABLE_CUDASIM=1),
    which exports no ``__cuda_array_interface__``: its host memory is read through its NumPy array's interface."""
    return type(out).__name__ == "FakeCUDAArray" and type(out).__module__.startswith("numba.cuda.simulator")


def _interface(out) -> dict:
    """``out.__cuda_array_interface__``; a simulator array's (:func:`_simulator_array`) from its NumPy array."""
    if not _simulator_array(out) or hasattr(out, "__cuda_array_interface__"):
        return out.__cuda_array_interface__
    ai = out._ary.__array_interface__
    return {"shape": ai["shape"], "typestr": ai["typestr"], "data": ai["data"], "strides": ai["strides"],
            "version": 3}


TARGET_NAME = contextvars.ContextVar("fastinit_target_name", default="out")
"""What refusals call the target: ``out``, the initializers' parameter; fastinit.torch sets ``tensor``, torch's."""


def as_target(out, dtype=None, name: str | None = None) -> Target | CudaTarget:
    """Validate ``out`` (and ``dtype=`` for untyped buffers) and build its :class:`Target`, or its
    :class:`CudaTarget` for GPU memory; refusals name it ``name`` (default: :data:`TARGET_NAME`'s)."""
    name = name or TARGET_NAME.get()
    if not isinstance(out, np.ndarray):  # a torch tensor, GPU memory, a buffer
        if torch_tensor(out) is not None:
            out, dtype = from_torch(out, dtype, name)
        if is_cuda_array(out):
            return _cuda_target(out, dtype, name)
    arr = _as_array(out, dtype, name)
    if not arr.flags.writeable:
        raise ValueError(f"{name} is read-only; fastinit fills buffers in place and needs a writable one")
    code = storage_code(arr.dtype)
    if code is None:
        swapped = "" if arr.dtype.isnative or storage_code(arr.dtype.newbyteorder("=")) is None else (
            " in native byte order (this one is byte-swapped: fill a native array, then astype)")
        raw = " (or, for a byte array such as np.memmap's default uint8, dtype= to fill its bytes as one)" if (
            arr.dtype.itemsize == 1 and arr.dtype.kind in "iu") else ""
        raise TypeError(f"{name} has dtype {arr.dtype.str if swapped else arr.dtype}; supported dtypes are "
                        f"{_NAMES}{swapped}{raw}")
    if arr.size >= _MAX_ELEMENTS:
        raise ValueError(f"{name} has {arr.size} elements; at most 2**64 - 1 are addressable")
    item = arr.itemsize
    if arr.size == 0:
        return Target(arr, arr.dtype, code, np.empty(0, _STORAGE[code]), 0, (0,) * arr.ndim)
    flags = arr.flags
    if flags.c_contiguous and flags.aligned:  # the common case needs none of _layout's checks (15 us a call)
        # a plain array (np.matrix stays 2-D); ravel, a view here, costs 0.1 us where view-reshape-view took 0.8
        flat = (arr if type(arr) is np.ndarray else arr.view(np.ndarray)).ravel()
        if code in (F16, BF16):
            flat = flat.view(np.uint16)
        return Target(arr, arr.dtype, code, flat, 0, _c_strides(arr.shape))
    estr, mbase, span = _layout(arr.shape, arr.strides, arr.__array_interface__["data"][0], item, name)
    storage = arr.view(_STORAGE[code]) if arr.ndim else arr.reshape(1).view(_STORAGE[code])
    # the span from the lowest to the highest addressed element, as a contiguous 1-D view
    low = storage[tuple(slice(None, None, -1) if e < 0 else slice(None) for e in estr)] if arr.ndim else storage
    flat = np.lib.stride_tricks.as_strided(low, shape=(span,), strides=(item,))
    return Target(arr, arr.dtype, code, flat, mbase, estr)


@functools.lru_cache(maxsize=1024)
def _c_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Per-axis strides in elements of a C-contiguous array of ``shape``."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def _layout(shape, strides, address: int, item: int, name: str) -> tuple[tuple[int, ...], int, int]:
    """Per-axis strides in elements, the position of element (0, ...) above the lowest-addressed one,
    and the number of elements spanned — after refusing misaligned strides or addresses and views
    whose elements share memory (CPU and GPU targets alike)."""
    if any(st % item for st, n in zip(strides, shape) if n > 1):  # a size-1 axis's stride is never used
        raise ValueError(f"{name} has strides {tuple(strides)} that are not multiples of its itemsize {item}")
    if address % item:
        raise ValueError(f"{name} is not aligned to its itemsize ({item} bytes)")
    estr = tuple(int(st) // item for st in strides)
    refuse_shared_memory(name, shape, estr, strides)
    mbase = sum((n - 1) * -e for n, e in zip(shape, estr) if e < 0)
    span = 1 + sum((n - 1) * abs(e) for n, e in zip(shape, estr))
    return estr, mbase, span


def _raw16(storage: np.dtype, want: np.dtype) -> bool:
    """``dtype=`` may reinterpret 16-bit integer (or void) storage — arrays, buffers, CUDA arrays alike — as
    float16 / bfloat16: torch exports bfloat16 as int16, and raw 16-bit buffers hold either.  Other integers
    are refused: reading an int32 buffer as float32 is a mistake, not a request.  So is a float dtype (ml_dtypes'
    bfloat16 has kind 'V' too): bfloat16 is never read as float16, nor the reverse; and byte-swapped storage
    ('>i2' here: native-order bytes would read back as other numbers, as a '>f2' array is refused); and a
    structured dtype (fields, or a subarray: numbers of their own, not raw bytes)."""
    return (storage.isnative and storage.kind in "uiV" and storage.itemsize == want.itemsize == 2
            and storage.fields is None and storage.subdtype is None and storage_code(storage) is None)


def _cuda_target(out, dtype, name: str) -> CudaTarget:
    """The :class:`CudaTarget` of an object exporting ``__cuda_array_interface__`` (versions 0-3).

    ``dtype=`` reinterprets 16-bit integer storage as float16 / bfloat16 (torch exports bfloat16 tensors
    as int16) and must otherwise match the interface's ``typestr``."""
    cai = _interface(out)
    missing = [k for k in ("shape", "typestr", "data") if k not in cai] if isinstance(cai, dict) else ["a dict"]
    if missing:
        raise ValueError(f"{name}'s __cuda_array_interface__ lacks {missing}: not a CUDA array interface")
    dt = np.dtype(cai["typestr"])
    if dtype is not None:
        want = resolve_dtype(dtype)
        if dt != want and not _raw16(dt, want):
            raise TypeError(f"dtype={dtype!r} does not match {name}'s CUDA array type {cai['typestr']!r}")
        dt = want
    code = storage_code(dt)
    if code is None:
        raise TypeError(f"{name} has dtype {dt}; supported dtypes are {_NAMES} "
                        "(for bfloat16 held in 16-bit integers, pass dtype='bfloat16')")
    ptr, readonly = cai["data"]
    if readonly:
        raise ValueError(f"{name} is read-only ({type(out).__name__}); fastinit fills buffers in place and needs a "
                         "writable one")
    if cai.get("mask") is not None:
        raise ValueError(f"{name} is a masked CUDA array; fastinit fills plain arrays")
    shape = tuple(int(n) for n in cai["shape"])
    if any(n < 0 for n in shape):
        raise ValueError(f"{name}'s __cuda_array_interface__ has a negative extent in shape {shape}")
    strides = cai.get("strides")
    if strides is not None and len(strides) != len(shape):
        raise ValueError(f"{name}'s __cuda_array_interface__ gives {len(strides)} strides {tuple(strides)} for its "
                         f"{len(shape)} axes {shape}")
    size = math.prod(shape)
    if size >= _MAX_ELEMENTS:
        raise ValueError(f"{name} has {size} elements; at most 2**64 - 1 are addressable")
    stream = cai.get("stream")
    if stream is not None and (isinstance(stream, bool) or not isinstance(stream, int) or stream < 0):
        raise ValueError(f"{name}'s __cuda_array_interface__ stream must be None or a stream handle (an int >= 0), "
                         f"got {stream!r}")  # (refused here, before a seed is drawn, not at the launch)
    item = dt.itemsize
    if size and (not is_int(ptr) or ptr <= 0):
        raise ValueError(f"{name}'s __cuda_array_interface__ has data pointer {ptr!r} for {size} elements")
    ptr = int(ptr) if size else ptr  # (a NumPy int: its value)
    if size == 0:
        return CudaTarget(out, dt, code, shape, int(ptr or 0), 0, 0, (0,) * len(shape), stream)
    if strides is None:  # C-contiguous: none of _layout's checks but the address's
        if ptr % item:
            raise ValueError(f"{name} is not aligned to its itemsize ({item} bytes)")
        estr, mbase, span = _c_strides(shape), 0, size
    else:
        estr, mbase, span = _layout(shape, strides, ptr, item, name)
    return CudaTarget(out, dt, code, shape, int(ptr) - mbase * item, span, mbase, estr, stream)


def host_staged(fn):
    """Run an initializer computed on the host (orthogonal_, sparse_, eye_, dirac_ ...) for a GPU
    target too: it fills a host array of the target's shape and dtype, then one host-to-device copy
    writes it into the target (on the target's stream).  Values are those of a CPU target."""
    @functools.wraps(fn)
    def staged(out, *args, **kwargs):
        if not is_cuda_array(out):
            return fn(out, *args, **kwargs)
        target = as_target(out, kwargs.pop("dtype", None))
        host = np.empty(target.shape, target.dtype)
        if target.size == 0:  # checked like any call and left alone, GPU or numba-cuda or not, as the kernels' fills
            fn(host, *args, **kwargs)
            return out
        from . import _cuda

        copy = _cuda.host_copy(target)  # before the host work: no GPU, no kernel, no computation (nor seed drawn)
        fn(host, *args, **kwargs)
        copy(host)
        return out

    return staged


def refuse_shared_memory(name: str, shape, estr, strides) -> None:
    """Refuse a view whose elements may share memory (``estr``: strides in elements, ``strides`` in bytes): an
    expanded one (a zero stride) or one overlapping itself (``unfold``, ``as_strided``), whose elements would each
    want their own value."""
    if any(e == 0 and n > 1 for e, n in zip(estr, shape)):
        raise ValueError(f"{name} has zero strides (a broadcast view): its elements share memory")
    if may_overlap(shape, estr):
        raise ValueError(f"{name} has strides {tuple(strides)} in bytes, {tuple(estr)} in elements, under which its "
                         "elements may share memory (a self-overlapping view); fill a view without overlaps")


def may_overlap(shape, estr) -> bool:
    """Whether a view may address one element twice.  Sorted by |stride|, each axis must step over
    the whole extent of the smaller ones: true of every slice, transpose and reshape of an array
    (views interleaved by ``as_strided`` are refused too)."""
    extent = 0
    for n, e in sorted(((n, abs(e)) for n, e in zip(shape, estr) if n > 1), key=lambda t: t[1]):
        if e <= extent:
            return True
        extent += (n - 1) * e
    return False


def torch_tensor(out):
    """``out`` if it is a torch tensor, else None (without importing torch: were it not imported, nothing
    could be one)."""
    torch = sys.modules.get("torch")
    return out if torch is not None and isinstance(out, torch.Tensor) else None


@functools.cache
def _torch_own_types() -> tuple[type, ...]:
    import torch

    return torch.Tensor, torch.nn.Parameter


def torch_device_type(t) -> str:
    """``t.device.type`` of a torch tensor, read through ``is_cpu`` / ``is_cuda`` for torch's own tensor types (0.06 us
    each, where building the ``device`` object takes 1 us); through ``device`` for subclasses, which may override it."""
    if type(t) in _torch_own_types():
        return "cpu" if t.is_cpu else "cuda" if t.is_cuda else t.device.type
    return t.device.type


def _refuse_not_dense(t, name: str) -> None:
    """TypeError for a sparse, CSR or nested torch tensor: no strided memory to fill (or to view)."""
    import torch

    if t.is_nested or t.layout != torch.strided:
        raise TypeError(f"{name} is a {'nested' if t.is_nested else t.layout} torch tensor; fastinit fills dense "
                        "(strided) tensors")


def _refuse_unwritable(t, name: str = "tensor") -> None:
    """TypeError for a torch tensor whose negative bit is set (its memory holds the negated values); ValueError
    for one whose storage is smaller than its view spans (freed or shrunk, as FSDP frees a parameter's between
    uses: its data pointer is not its memory; torch's own fill crashes the process there)."""
    if t.is_neg():
        raise TypeError(f"{name} has its negative bit set (a lazily negated view such as x.conj().imag): its "
                        "memory holds the negated values; call .resolve_neg() first, or fill the un-negated tensor")
    if count := t.numel():
        last = count - 1 if t.is_contiguous() else sum((n - 1) * s for n, s in zip(t.shape, t.stride()))  # (0.4 us)
        span = (t.storage_offset() + last + 1) * t.element_size()
        have = t.untyped_storage().nbytes()
        if span > have:
            raise ValueError(f"{name}'s storage holds {have} bytes, fewer than the {span} its view spans (a freed or "
                             "resized storage, as FSDP leaves a parameter between uses): nothing to write into")


def torch_func_wrapper(t) -> bool:
    """Whether a torch tensor is a torch.func transform's wrapper (``vmap``, ``grad``, ``functionalize``): of
    type ``torch.Tensor``, with no memory of its own (``functionalize``'s even has a ``numpy()`` view that it
    never reads back)."""
    wrapped, functional = _torch_func_checks()
    return wrapped(t) or functional(t)


@functools.cache
def _torch_func_checks():
    """torch's two tests, looked up once (an import and four attribute lookups a call cost ~0.25 us)."""
    import torch

    return torch._C._functorch.is_functorch_wrapped_tensor, torch._is_functional_tensor


_TO_TORCH = "fastinit.torch's initializers hand such tensors to torch.nn.init"


def torch_cpu_array(t, name: str = "tensor") -> np.ndarray:
    """A NumPy view of a CPU torch tensor's memory, no copy (bfloat16 as ml_dtypes.bfloat16, read through
    its int16 storage); other dtypes keep their own (refused later where fastinit cannot write them).  torch's own
    tensor types are viewed through :class:`_TorchCpuMemory`, subclasses through ``Tensor.numpy()``."""
    import torch

    if torch_func_wrapper(t):
        raise TypeError(f"{name} is a torch.func transform's tensor (vmap, grad, functionalize), with no memory of "
                        f"its own to write; {_TO_TORCH}")
    _refuse_not_dense(t, name)
    _refuse_unwritable(t, name)
    if type(t) in _torch_own_types():
        bf16 = t.dtype == torch.bfloat16
        dt = np.dtype(np.int16) if bf16 else _numpy_dtype_of(t.dtype)
        if dt is not None and not t.is_conj():  # (a conjugated complex view: torch's numpy() refuses it too)
            view = np.asarray(_TorchCpuMemory(t, dt))
            return view.view(bfloat16()) if bf16 else view
    else:
        if t.requires_grad:  # numpy() refuses it
            t = t.detach()
        try:
            if t.dtype == torch.bfloat16:
                return t.view(torch.int16).numpy().view(bfloat16())
            return t.numpy()
        except (TypeError, RuntimeError):  # no NumPy dtype, a conjugated view; a subclass without memory
            if t.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64) and not t.is_conj():
                raise TypeError(f"{name} is a {type(t).__name__}, a torch tensor subclass with no memory NumPy can "
                                f"view; {_TO_TORCH}") from None
    raise TypeError(f"{name} has dtype {t.dtype}; supported dtypes are float16, bfloat16, float32, float64")


@functools.cache
def _numpy_dtype_of(dtype) -> "np.dtype | None":
    """The NumPy dtype ``Tensor.numpy()`` gives a torch dtype (None where it has none), asked once per dtype."""
    import torch

    try:
        return torch.empty(0, dtype=dtype).numpy().dtype
    except (TypeError, RuntimeError):
        return None


class _TorchCpuMemory:
    """A CPU tensor's memory as NumPy's ``__array_interface__`` (bfloat16 as int16), holding the tensor: the view
    ``Tensor.numpy()`` makes, without the mark ``numpy()`` leaves on the tensor's storage for good, non-resizable
    (FSDP's ``untyped_storage().resize_(0)`` or a later ``t.resize_`` then failed, where torch.nn.init's fills
    leave the tensor as it was).  NumPy's reading of the interface costs 1–3 µs a view more than ``numpy()``'s."""

    __slots__ = ("__array_interface__", "tensor")

    def __init__(self, tensor, dtype: np.dtype):
        size = tensor.element_size()
        strides = None if tensor.is_contiguous() else tuple([s * size for s in tensor.stride()])
        self.__array_interface__ = {"data": (tensor.data_ptr(), False), "shape": tuple(tensor.shape),
                                    "strides": strides, "typestr": dtype.str, "version": 3}
        self.tensor = tensor


class _TorchCudaMemory:
    """A CUDA tensor's memory for fastinit: its ``__cuda_array_interface__`` (bfloat16 through its
    int16 storage), tagged with torch's current stream on the tensor's device, so the kernels run in
    stream order with the caller's work (no host synchronization, no copy)."""

    def __init__(self, tensor):
        import torch

        bits = tensor.view(torch.int16) if tensor.dtype == torch.bfloat16 else tensor
        cai = dict(bits.__cuda_array_interface__)
        stream = torch.cuda.current_stream(tensor.device).cuda_stream
        cai.update(version=3, stream=stream or 1)  # CAI v3 names the legacy default stream 1, not 0
        self.__cuda_array_interface__ = cai
        self.tensor = tensor  # keeps the memory alive while a kernel writes it


def from_torch(t, dtype, name: str):
    """(what to fill, its ``dtype=``) for a torch tensor given to fastinit's own functions: a NumPy view of
    CPU memory, or a CUDA tensor's memory on torch's current stream; written in place either way
    (fastinit.torch adds torch's semantics: its generator, version counters, meta tensors)."""
    import torch

    _refuse_not_dense(t, name)
    if t.is_inference() and not torch.is_inference_mode_enabled():
        raise ValueError(f"{name} is an inference tensor: torch allows in-place updates of it only inside "
                         "torch.inference_mode()")
    device = torch_device_type(t)
    if device == "cpu":
        return torch_cpu_array(t, name), dtype
    if device != "cuda":
        raise TypeError(f"{name} is a {t.device.type} torch tensor; fastinit writes CPU and CUDA tensors in "
                        "place (fastinit.torch also checks meta tensors)")
    t = t.detach()
    _refuse_unwritable(t, name)
    if t.numel():  # (an empty one is a no-op without a GPU, as any empty target)
        from . import _cuda  # numba.cuda, imported for CUDA tensors only

        _cuda.require_gpu()  # no GPU, no numba-cuda: said before the tensor's memory is read
    if t.dtype != torch.bfloat16:
        return _TorchCudaMemory(t), dtype
    if dtype is not None and resolve_dtype(dtype) != bfloat16():
        raise TypeError(f"dtype={dtype!r} does not match {name}.dtype (bfloat16); drop dtype= for tensors")
    return _TorchCudaMemory(t), "bfloat16"


def _as_array(out, dtype, name: str) -> np.ndarray:
    if isinstance(out, np.ndarray) and not (dtype is not None and out.dtype.itemsize == 1 and out.dtype.kind in "iu"):
        # (a byte array, np.memmap's default uint8, with dtype= is raw bytes, as a bytearray: below)
        if dtype is None or (want := resolve_dtype(dtype)) == out.dtype:
            return out
        if _raw16(out.dtype, want):  # as for buffers: 16-bit integer storage read as float16 / bfloat16
            return out.view(want)
        raise TypeError(f"dtype={dtype!r} does not match {name}.dtype ({out.dtype}); drop dtype= for arrays "
                        "(only 16-bit integer arrays in native byte order, and plain 2-byte void, are reinterpreted, "
                        "as float16 or bfloat16)")
    try:
        mv = memoryview(out)
    except ValueError as e:  # (a released memoryview)
        raise ValueError(f"{name}: {e}") from None
    except TypeError:
        first = "; the array to fill comes first (normal_(out, mean, std)), and the allocating twins (normal(3, 4)) " \
            "make a new one" if isinstance(out, (numbers.Number, tuple, list)) else ""  # numpy's normal(loc, scale)
        raise TypeError(
            f"{name} must be a numpy array, a torch CPU tensor or expose the buffer protocol "
            f"(memoryview, array.array, bytearray, np.memmap), got {type(out).__name__}{first}"
        ) from None
    if mv.readonly:
        jax = "; JAX arrays are immutable: fastinit.jax's initializers make new ones" if \
            type(out).__module__.split(".")[0] in ("jax", "jaxlib") else ""
        raise ValueError(f"{name} is read-only ({type(out).__name__}); fastinit needs a writable buffer{jax}")
    untyped = mv.format.lstrip("@=<>!") in ("B", "b", "c")  # ctypes byte arrays say '<B'
    if untyped and dtype is None:
        raise TypeError(f"{name} is an untyped byte buffer; pass dtype= (one of {_NAMES})")
    if untyped:
        dt = resolve_dtype(dtype)
        if mv.nbytes % dt.itemsize:
            raise ValueError(f"{name} holds {mv.nbytes} bytes, not a multiple of {dt} itemsize {dt.itemsize}")
        if not mv.c_contiguous:
            raise ValueError(f"{name} is a non-contiguous byte buffer; pass dtype= only with contiguous ones")
        return np.frombuffer(mv.cast("B"), dtype=dt) if mv.nbytes else np.empty(0, dt)
    with warnings.catch_warnings():  # NumPy warns of ctypes formats it reads by itemsize: refused below anyway
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            arr = np.asarray(mv)  # a typed buffer keeps its shape (fans need it) and strides
        except (ValueError, TypeError, NotImplementedError):
            raise TypeError(f"{name}'s buffer format {mv.format!r} is not one NumPy reads; fastinit fills float16, "
                            "bfloat16, float32 and float64 buffers") from None
    if dtype is None or (want := resolve_dtype(dtype)) == arr.dtype:
        return arr
    if _raw16(arr.dtype, want):  # 16-bit integer storage read as float16 / bfloat16
        return arr.view(want)
    raise TypeError(f"dtype={dtype!r} does not match {name}'s element type {arr.dtype} (buffer format "
                    f"{mv.format!r}); drop dtype= for typed buffers (16-bit integers in native byte order are read "
                    "as float16 or bfloat16)")


@dataclass(frozen=True)
class Geometry:
    """Where each local element sits globally and in memory, with mergeable axes merged."""

    shape: np.ndarray  # int64, local extents (last axis = runs of consecutive global indices)
    gstride: np.ndarray  # uint64, global row-major strides (gstride[-1] == 1)
    mstride: np.ndarray  # int64, memory strides in elements
    gbase: int  # global flat index of local element (0, ..., 0)
    mbase: int  # position in Target.flat of local element (0, ..., 0)
    global_shape: tuple[int, ...]


NOT_INTS = (bool, np.bool_, np.timedelta64)  # ints to Python (bool) or NumPy (timedelta64 is an np.integer)


def physical_memory() -> int | None:
    """This machine's physical memory in bytes (``sysconf``), None where the OS cannot say (Windows)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def is_int(value) -> bool:
    """An int or a NumPy integer, not a bool or an ``np.timedelta64``."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, NOT_INTS)


def shown(value, typed: bool = False) -> str:
    """``value`` for a message: an array or tensor of any axes by its type, shape and dtype, not its elements (a
    weight passed in a number's place printed them all); a tuple or list item by item; else its repr, cut at 80
    characters; ``typed``: a repr after its type's name ("str '2'")."""
    if getattr(value, "ndim", 0) and hasattr(value, "shape"):
        return f"{type(value).__name__} of shape {tuple(value.shape)} and dtype {getattr(value, 'dtype', '?')}"
    if type(value) in (tuple, list) and any(getattr(v, "ndim", 0) for v in value):
        items = ", ".join(shown(v) for v in value) + ("," if len(value) == 1 and type(value) is tuple else "")
        return f"({items})" if type(value) is tuple else f"[{items}]"
    text = repr(value)
    text = text if len(text) <= 80 else f"{text[:77]}..."
    return f"{type(value).__name__} {text}" if typed else text


def shape_tuple(value, name: str = "shape") -> tuple[int, ...]:
    """``value`` (an int, a 0-d integer array, or a sequence of them) as a tuple of Python ints, NumPy's way:
    TypeError naming ``name`` for anything else (a float or bool is never truncated to a size; a str, dict or
    iterator is not a sequence), ValueError for a negative entry.  The one shape check of shapes, global shapes,
    offsets and file specs."""
    if type(value) is tuple and all(type(v) is int and v >= 0 for v in value):  # the common case (0.5 us, not 1.5)
        return value
    said = value  # (quoted as given)
    if is_int(value):
        value = said = (value,)
    elif getattr(value, "ndim", None) == 0 and not isinstance(value, np.generic):  # a 0-d array: a size where it is
        value = (value,)  # an integer one, as np.empty takes it
    try:
        if isinstance(value, (str, bytes, dict, set, frozenset)) or iter(value) is value:  # not a sequence of
            raise TypeError  # sizes; an iterator (map, generator) would be used up by the first of two checks
        dims = tuple(value)
        if any(isinstance(v, NOT_INTS) or str(getattr(v, "dtype", "")).endswith("bool") for v in dims):
            raise TypeError  # (a torch or JAX bool, which operator.index makes 0 or 1, too)
        items = tuple(operator.index(v) for v in dims)  # ints, NumPy ints, concrete JAX / torch integers
    except TypeError:
        raise TypeError(f"{name} must be a tuple of ints, got {shown(said)}") from None
    if any(v < 0 for v in items):
        raise ValueError(f"{name} must be a tuple of non-negative ints, got {shown(said)}")
    return items


@contextlib.contextmanager
def shape_said_as(shape, dry_shape):
    """Errors raised inside about an empty twin of ``dry_shape`` (run to check a call's arguments: a meta tensor,
    a writer's first block) quote ``shape``, the one asked for ("got shape (0, 4, 5)" of a (3, 4, 5) request)."""
    try:
        yield
    except (ValueError, TypeError) as e:  # "shape (0, 1)" only: a stream=(0, 1) the caller wrote stays as written
        real, dry = f"shape {tuple(shape)}", f"shape {tuple(dry_shape)}"
        if real == dry or dry not in str(e) or type(e) not in (ValueError, TypeError):
            raise
        raise type(e)(str(e).replace(dry, real)) from e.__cause__


def geometry(target: Target, global_shape=None, offset=None) -> Geometry:
    """Map ``target`` as the block at ``offset`` of a virtual tensor of ``global_shape``.

    Without ``global_shape`` the target is the whole tensor.  Raises ValueError naming the
    argument when the block does not fit.
    """
    gshape, off = place_block(target.shape, global_shape, offset)
    return _placed(tuple(target.shape), tuple(target.mstride), target.mbase, gshape, off)


def memory_geometry(target: Target | CudaTarget) -> Geometry:
    """``target`` walked in memory order (axes by decreasing |stride|, each ascending), for fills whose values do
    not depend on their place (a constant): a Fortran-order or transposed target is then one contiguous run of
    stores, where its logical order scatters them (zeros_ of a 2048² float32 transpose: 21 ms against 0.12)."""
    axes = sorted(zip(target.shape, target.mstride), key=lambda a: -abs(a[1]))
    shape = tuple(n for n, _ in axes)
    mbase = target.mbase + sum((n - 1) * ms for n, ms in axes if ms < 0)  # the lowest-addressed element
    return _placed(shape, tuple(abs(ms) for _, ms in axes), mbase, shape, (0,) * len(shape))


def place_block(shape: tuple[int, ...], global_shape=None, offset=None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(global_shape, offset) of a block of ``shape``, validated: ValueError naming the argument when the
    block does not fit (without ``global_shape``, the block is the whole tensor)."""
    if global_shape is None:
        if offset is not None:
            raise ValueError("offset= needs global_shape= (the shape of the whole tensor the block belongs to)")
        gshape, off = shape, (0,) * len(shape)
    else:
        gshape = shape_tuple(global_shape, "global_shape")
        off = (0,) * len(gshape) if offset is None else shape_tuple(offset, "offset")
        name = TARGET_NAME.get()  # (fastinit.torch's tensor)
        if len(gshape) != len(shape):
            raise ValueError(f"global_shape {gshape} must have the same number of axes as {name}.shape {shape}")
        if len(off) != len(shape):
            raise ValueError(f"offset {off} must have one entry per axis of {name}.shape {shape}")
        for d, (n, o, gn) in enumerate(zip(shape, off, gshape)):
            if o + n > gn:
                raise ValueError(
                    f"block {name}.shape {shape} at offset {off} does not fit in global_shape {gshape} (axis {d})"
                )
    return tuple(gshape), off


@functools.lru_cache(maxsize=1024)
def _placed(shape, mstride, mbase, gshape, off) -> Geometry:
    """The :class:`Geometry` of a validated placement: its axes from :func:`_axes`, its origin from ``off`` and
    ``mbase``.  Cached (a model's fills ask for the same few again and again; the Geometry is shared, never
    written)."""
    shape_, gstride, mstride_, gstr = _axes(shape, mstride, gshape)
    return Geometry(shape_, gstride, mstride_, sum(o * s for o, s in zip(off, gstr)), mbase, gshape)


@functools.lru_cache(maxsize=1024)
def _axes(shape, mstride, gshape) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, ...]]:
    """(shape, gstride, mstride) of a block of ``shape`` with memory strides ``mstride`` in a tensor of ``gshape``,
    size-1 axes dropped and axes merged wherever both index spaces continue seamlessly (a contiguous block is one
    axis), and the global row-major strides of ``gshape``.  Cached apart from the block's place: a Dask array asks
    for one chunk layout at many offsets (the arrays are shared, never written)."""
    total = math.prod(int(n) for n in gshape)
    gstr = _c_strides(gshape)
    if total >= _MAX_ELEMENTS or max(gstr, default=0) >= _MAX_ELEMENTS:  # an empty one too: (0, 2**64)
        raise ValueError(f"global_shape {gshape} spans {max((total, *gstr))} elements; at most 2**64 - 1 are "
                         "addressable")
    axes = [[n, gs, ms] for n, gs, ms in zip(shape, gstr, mstride)] or [[1, 1, 1]]
    axes = [a for a in axes[:-1] if a[0] != 1] + axes[-1:]
    if len(axes) > 1 and axes[-1][0] == 1:  # a size-1 last axis's memory stride means nothing: the axis before's
        axes[-1][2] = axes[-2][2]  # lets them merge (w[:, :1], x[:, None]: n rows of 1 were n calls, 200x numpy)
    d = len(axes) - 2
    while d >= 0:  # merge axis d into d+1 when both index spaces continue seamlessly
        n, gs, ms = axes[d + 1]
        if axes[d][1] == gs * n and axes[d][2] == ms * n:
            axes[d + 1] = [axes[d][0] * n, gs, ms]
            del axes[d]
        d -= 1
    return (np.array([a[0] for a in axes], np.int64), np.array([a[1] for a in axes], np.uint64),
            np.array([a[2] for a in axes], np.int64), gstr)
