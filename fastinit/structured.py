"""Layer 5 — structured initializers: identity, Dirac and orthogonal matrices.

``eye_`` and ``dirac_`` follow torch.nn.init exactly.  ``orthogonal_`` draws a Haar-distributed
(semi-)orthogonal matrix times ``gain`` (Saxe, McClelland & Ganguli 2014): the target is filled
with fastinit's seeded Gaussians, which :mod:`fastinit.linalg` turns into Householder reflectors
and accumulates with blocked (compact-WY, BLAS-3) LAPACK code in the target's own memory (small
matrices: one compiled level-2 pass in float64, no BLAS), with Mezzadri (2007)'s sign fix (a
plain QR is not Haar).  float32/float64 C-contiguous targets need no copy (work space
O(n · 256)); float16/bfloat16 or strided targets are computed in one float32 (float64 for
float64) scratch matrix and rounded once into the target.
Same seed, same matrix on the same machine (BLAS builds may differ in the last bits; a small
matrix is the same on every machine).
``delta_orthogonal_`` (Xiao et al. 2018, JAX semantics): an orthogonal matrix at the spatial
centre of a conv kernel, zero elsewhere — a convolution that is an isometry at initialization.

References: F. Mezzadri, "How to generate random matrices from the classical compact groups",
Notices AMS 54 (2007).  A. M. Saxe, J. L. McClelland, S. Ganguli, "Exact solutions to the
nonlinear dynamics of learning in deep linear neural networks", ICLR 2014.  L. Xiao et al.,
"Dynamical isometry and a mean field theory of CNNs", ICML 2018.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import math
import weakref
from typing import Any, Optional, TypeVar

import numpy as np

from ._buffers import as_target, finfo_max, geometry, host_staged, shape_said_as
from ._cpu import num_threads, one_thread
from ._seed import Generator, resolve_seed, stream_words
from .fans import check_layout
from .init import Shape, Stream, as_int, as_real, constant_, normal_
from .linalg import check_size, haar_orthonormalize

__all__ = ["eye_", "dirac_", "orthogonal_", "delta_orthogonal_"]

T = TypeVar("T")


@host_staged
def eye_(out: T, *, dtype: Any = None) -> T:
    """Fill the 2-D ``out`` with the identity (ones on the main diagonal, zeros elsewhere)."""
    target = as_target(out, dtype)
    if target.array.ndim != 2:
        raise ValueError(f"eye_: Only tensors with 2 dimensions are supported, got shape {target.shape}")
    constant_(out, 0.0, dtype=dtype)
    target.array[eye_ones(target.shape)] = 1
    return out


def eye_ones(shape: tuple) -> tuple:
    """Indices of the ones of :func:`eye_` in a 2-D tensor of ``shape`` (index arrays, one per axis)."""
    i = np.arange(min(shape))
    return i, i


@host_staged
def dirac_(out: T, groups: int = 1, *, dtype: Any = None) -> T:
    """Fill a 3-, 4- or 5-D conv kernel (out, in, *k) with the Dirac delta: the identity map of
    the first min(out/groups, in) channels of each group, at the kernel's centre."""
    target = as_target(out, dtype)
    arr = target.array
    if arr.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: Only tensors with 3, 4, or 5 dimensions are supported, got shape {arr.shape}")
    groups = as_int(groups, "groups", "dirac_", least=1)
    if arr.shape[0] % groups != 0:
        raise ValueError(f"dirac_: dim 0 must be divisible by groups, got {arr.shape[0]} and groups={groups}")
    if arr.size == 0:
        return out
    constant_(out, 0.0, dtype=dtype)
    arr[dirac_ones(arr.shape, groups)] = 1
    return out


def dirac_ones(shape: tuple, groups: int) -> tuple:
    """Indices of the ones of :func:`dirac_` in a kernel of ``shape`` (out, in, *k): channel d < min(out/groups, in)
    of group g maps input d at the kernel's centre, at (g * out/groups + d, d, *centre)."""
    per_group = shape[0] // groups
    mapped = min(per_group, shape[1])
    g, d = np.divmod(np.arange(groups * mapped), mapped)
    return (g * per_group + d, d, *(np.full(d.shape, s // 2) for s in shape[2:]))


def refuse_shard(shape: tuple, global_shape: tuple, fn: str) -> None:
    """ValueError unless the block of ``shape`` is the whole tensor (``global_shape``, validated): every entry of
    an orthogonal matrix depends on the whole matrix."""
    if tuple(global_shape) != tuple(shape):
        raise ValueError(f"{fn}: cannot fill a shard: every entry of an orthogonal matrix depends on the whole "
                         "matrix; initialize the full matrix and slice it")


def _checked(target, gain, layout, fn: str, global_shape, offset, stream) -> float:
    """Validate placement, gain, layout and stream before any write; the gain as a float.  Refuses
    shards (every entry depends on the whole matrix) and gains that overflow the target's dtype."""
    refuse_shard(target.shape, geometry(target, global_shape, offset).global_shape, fn)
    gain = as_real(gain, "gain", fn)  # a float: a NumPy float16 gain compared with the limit would cast it to
    # float16 (overflow)
    limit = finfo_max(target.dtype)
    if abs(gain) > limit:  # entries reach |gain|
        raise ValueError(f"{fn}: |gain| = {abs(gain):g} overflows {target.dtype} (max {limit:g})")
    check_layout(layout, fn)
    stream_words(stream)  # validates the stream
    return gain


# orthogonal_'s numba kernels (the Gaussian fill, the reflectors) run on the calling thread up to this many elements.
# On the 2-vCPU VM numba's pool made it 1.5-4x slower below (2048 x 64: 8.0-8.5 ms on the pool, 2.0-2.3 ms on one
# thread; 256 x 1024: 13 against 6 ms; 2048 x 256 and 256 x 4096: 1.5-2x), and one thread cost nothing measurable at
# 4096²; above it, a skinny matrix's fill and reflectors are most of the work (4194304 x 16: 430 ms on the pool,
# 460-540 ms on one thread), and a many-core machine's pool fills faster still.
CALLING_THREAD_ELEMENTS = 1 << 22


def _haar(arr: np.ndarray, rows: int, cols: int, gain: float, seed: int, stream) -> None:
    """Write gain × a Haar (rows, cols) matrix into ``arr`` (its C-order flattening), in place when possible."""
    work = np.float64 if arr.dtype == np.float64 else np.float32  # LAPACK has no 16-bit types
    inplace = arr.dtype == work and arr.flags.c_contiguous
    m = arr.reshape(rows, cols) if inplace else np.empty((rows, cols), work)
    # numba's kernels on the calling thread up to CALLING_THREAD_ELEMENTS: its pool's threads and OpenBLAS's spin a
    # while after each call and fight over the cores (docs/orthogonal.md)
    threads = num_threads()  # the BLAS updates' panels run on numba's count of threads of fastinit's own
    with one_thread() if rows * cols <= CALLING_THREAD_ELEMENTS else contextlib.nullcontext():
        haar_orthonormalize(normal_(m, seed=seed, stream=stream), gain, threads)
    if not inplace:
        np.copyto(arr, m.reshape(arr.shape), casting="unsafe")  # one rounding to the target dtype


def orthogonal_matrix(shape: tuple, layout: str) -> tuple[int, int]:
    """(rows, cols) of the matrix :func:`orthogonal_` fills for a tensor of ``shape`` (torch: rows = shape[0],
    the other axes flattened; keras: cols = shape[-1]), refused beyond LAPACK's 32-bit indexing."""
    rows = shape[0] if layout == "torch" else math.prod(shape[:-1])
    cols = math.prod(shape) // rows if rows else 0
    check_size(rows, cols, "orthogonal_")
    return rows, cols


@host_staged
def orthogonal_(out: T, gain: float = 1.0, *, seed: Optional[int] = None, stream: Stream = 0,
                layout: str = "torch", dtype: Any = None, generator: Optional[Generator] = None,
                global_shape: Shape = None, offset: Shape = None) -> T:
    r"""Fill ``out`` (>= 2-D) with gain × a Haar-random (semi-)orthogonal matrix.

    torch semantics: rows = shape[0], cols = numel / rows (``layout="keras"``: rows = prod(shape[:-1]),
    cols = shape[-1]); the matrix has orthonormal rows (W Wᵀ = gain² I) if rows <= cols, else
    orthonormal columns (Wᵀ W = gain² I).  Its law is the Haar measure (uniform on the Stiefel
    manifold): random Householder reflectors with Mezzadri's sign fix, see :mod:`fastinit.linalg`.
    """
    target = as_target(out, dtype)
    if target.array.ndim < 2:
        raise ValueError(f"orthogonal_: Only tensors with 2 or more dimensions are supported, got shape "
                         f"{target.shape}")
    gain = _checked(target, gain, layout, "orthogonal_", global_shape, offset, stream)
    arr = target.array
    if arr.size == 0:
        resolve_seed(seed, generator, draw=False)
        return out
    rows, cols = orthogonal_matrix(arr.shape, layout)
    seed = resolve_seed(seed, generator)  # validated, or drawn, only for a call that will write
    _haar(arr, rows, cols, gain, seed, stream)
    return out


def _conv_kernel(shape: tuple, fn: str) -> None:
    if len(shape) not in (3, 4, 5):
        raise ValueError(f"{fn}: requires a 3-D, 4-D or 5-D conv kernel, got shape {tuple(shape)}")


def delta_orthogonal_matrix(shape: tuple, layout: str) -> tuple[int, int]:
    """(out, in) channels of the centre matrix :func:`delta_orthogonal_` fills in a conv kernel of ``shape``
    (torch: (out, in, *k); keras: (*k, in, out)), refused unless in <= out and within LAPACK's 32-bit indexing."""
    fn = "delta_orthogonal_"
    _conv_kernel(shape, fn)
    n_out, n_in = (shape[0], shape[1]) if layout == "torch" else (shape[-1], shape[-2])
    if n_in > n_out:
        raise ValueError(f"{fn}: in_channels ({n_in}) must be <= out_channels ({n_out}) for an isometry")
    check_size(n_out, n_in, fn)  # (the (out, in) matrix, as the message names it)
    return n_out, n_in


@host_staged
def delta_orthogonal_(out: T, gain: float = 1.0, *, seed: Optional[int] = None, stream: Stream = 0,
                      layout: str = "torch", dtype: Any = None, generator: Optional[Generator] = None,
                      global_shape: Shape = None, offset: Shape = None) -> T:
    r"""Fill a 3-, 4- or 5-D conv kernel with the delta-orthogonal init (Xiao et al. 2018; JAX's
    ``delta_orthogonal``): zero except at the spatial centre ((k − 1) // 2 on each axis), which
    holds gain × a Haar (out, in) matrix with orthonormal columns, so the convolution maps
    in → out channels isometrically.  Needs in_channels <= out_channels.

    ``layout="torch"``: (out, in, *k); ``layout="keras"`` (JAX/Keras): (*k, in, out).
    """
    fn = "delta_orthogonal_"
    target = as_target(out, dtype)
    _conv_kernel(target.shape, fn)
    gain = _checked(target, gain, layout, fn, global_shape, offset, stream)
    arr = target.array
    n_out, n_in = delta_orthogonal_matrix(arr.shape, layout)
    if arr.size == 0:
        resolve_seed(seed, generator, draw=False)
        return out
    seed = resolve_seed(seed, generator)  # validated, or drawn, before the first write
    centre = tuple((k - 1) // 2 for k in (arr.shape[2:] if layout == "torch" else arr.shape[:-2]))
    constant_(out, 0.0, dtype=dtype)
    if layout == "torch":
        _haar(arr[(slice(None), slice(None)) + centre], n_out, n_in, gain, seed, stream)
    else:
        _haar(arr[centre], n_in, n_out, gain, seed, stream)
    return out


# Initializers whose every entry depends on the whole tensor (or whose checks need its whole shape): they
# cannot fill a row block of a larger tensor, so writers (fastinit.io, fastinit.dask) give them the whole one.
WHOLE_TENSOR = (eye_, dirac_, orthogonal_, delta_orthogonal_)


def _unwrapped(fill) -> tuple[Any, dict]:
    """The function under any functools.partial of ``fill``, and the keywords the partials bind."""
    bound: dict = {}
    while isinstance(fill, functools.partial):
        bound = {**fill.keywords, **bound}
        fill = fill.func
    return fill, bound


def bound_keywords(fill) -> dict:
    """The keywords ``fill``'s functools.partial layers bind (none for anything else)."""
    return _unwrapped(fill)[1]


def draws(fill) -> bool:
    """Whether ``fill`` is (a partial of) a fastinit initializer that draws random values (takes ``seed=``)."""
    base = _unwrapped(fill)[0]
    try:
        return getattr(base, "__module__", "").startswith("fastinit.") and accepts(base, "seed")
    except (TypeError, ValueError):
        return False


def base_name(fill) -> str:
    """The name of the function under ``fill``'s functools.partial layers (its repr if it has none)."""
    base = _unwrapped(fill)[0]
    return getattr(base, "__name__", repr(base))


def is_whole_tensor(fill) -> bool:
    """Is ``fill`` (or the function under its functools.partial) one of :data:`WHOLE_TENSOR`?"""
    return _unwrapped(fill)[0] in WHOLE_TENSOR


# the same value everywhere: any block is filled without its place (by name: fastinit.guide imports this module)
POSITION_FREE = frozenset({"fastinit.init.constant_", "fastinit.init.zeros_", "fastinit.init.ones_",
                           "fastinit.guide.relu_bias_"})


def _qualified(fill) -> str:
    """``module.qualname`` of the function under ``fill``'s functools.partial layers."""
    base = _unwrapped(fill)[0]
    return f"{getattr(base, '__module__', '')}.{getattr(base, '__qualname__', '')}"


def position_free(fill) -> bool:
    """Is ``fill`` (or the function under its functools.partial) one of :data:`POSITION_FREE`?"""
    return _qualified(fill) in POSITION_FREE


def sums_over_tensor(fill, kw: dict) -> bool:
    """Whether ``fill`` with keywords ``kw`` writes values that depend on the whole tensor whatever its
    arguments: fastinit.guide.prior_bias_ with ``activation="softmax"`` (its priors must sum to 1 over the bias)."""
    return _qualified(fill) == "fastinit.guide.prior_bias_" and kw.get("activation") == "softmax"


_ACCEPTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # fill -> {keyword: bool}; no fill kept alive


def accepts(fill, keyword: str) -> bool:
    """Whether ``fill`` takes ``keyword=``, by name or through ``**kwargs`` (inspect's errors propagate).  Cached
    while ``fill`` lives (inspect.signature costs ~60 us, asked twice for every tensor fastinit.io writes)."""
    try:
        known = _ACCEPTS.setdefault(fill, {})
    except TypeError:  # not weakly referenceable (or unhashable): asked each time
        known = {}
    if keyword not in known:
        known[keyword] = any(p.name == keyword or p.kind is inspect.Parameter.VAR_KEYWORD
                             for p in inspect.signature(fill).parameters.values())
    return known[keyword]


@functools.cache
def _takes_offset(fill) -> bool:
    """Whether fastinit's ``fill`` can fill a block placed in a larger tensor (inspect.signature: ~0.1 ms a call)."""
    return "offset" in inspect.signature(fill).parameters


_WHOLE_CHECK_LIMIT = 1 << 20  # elements of a scratch check_by_empty_fill may allocate for a whole-shape check


def check_by_empty_fill(fill, shape: tuple, dtype: np.dtype, placed: bool, **kw) -> bool:
    """Check a fastinit initializer's arguments for a tensor of ``shape`` without writing it, as writers
    (fastinit.io, fastinit.dask) do before their first block: ``fill`` runs on a block of no element at the
    origin (told ``global_shape``/``offset`` when ``placed``), or on a one-element scratch for a 0-d shape.
    A whole-tensor initializer gets the whole shape with one axis its checks do not read emptied (a spatial
    axis of a conv kernel, the columns of a matrix), and orthogonal_ LAPACK's size limit of the whole
    matrix.  Callables from outside fastinit are left to their turn.  Returns whether the arguments were checked
    (and any warning given): the blocks may then fill under :func:`fastinit._warnings.quiet`."""
    base, bound = _unwrapped(fill)
    if not getattr(base, "__module__", "").startswith("fastinit."):
        return False
    shape = tuple(shape)
    if base in WHOLE_TENSOR:
        layout = {**bound, **kw}.get("layout", "torch")
        if base is delta_orthogonal_:  # its rank, said of the shape asked for, not of the emptied one below
            _conv_kernel(shape, base.__name__)
        spatial_first = base is delta_orthogonal_ and layout == "keras"  # (*k, in, out)
        dry = np.empty(((0,) + shape[1:]) if spatial_first else (shape[:-1] + (0,)) if shape else (), dtype)
        with shape_said_as(shape, dry.shape):
            fill(dry, **kw)
        if base is orthogonal_ and len(shape) >= 2:
            orthogonal_matrix(shape, layout)
        return True
    if not placed and not _takes_offset(base) and not position_free(base):
        # filled whole by the writers, with per-element arguments (prior_bias_'s priors): checked on the whole
        # shape when it is small (a bias), else at its turn
        if math.prod(shape) > _WHOLE_CHECK_LIMIT:
            return False
        fill(np.empty(shape, dtype), **kw)
        return True
    dry = np.empty(((0,) + shape[1:]) if shape else (), dtype)
    place = {"global_shape": shape, "offset": (0,) * len(shape)} if placed else {}
    with shape_said_as(shape, dry.shape):
        fill(dry, **place, **kw)
    return True
