"""Layer 6 — ``fastinit.dask``: initializers as lazy ``dask.array``s, bit-identical to local ones.

Each block is filled by the core kernel with ``global_shape`` = the whole array and ``offset`` =
the block's position, so ``fastinit.dask.normal(shape, chunks=..., seed=s).compute()`` equals
``fastinit.normal(shape, seed=s)`` bit for bit, for any chunking and any scheduler (threads,
processes, a ``distributed`` cluster): every value is a pure function of (seed, stream, global
index, parameters, dtype) (``orthogonal_`` / ``delta_orthogonal_`` through :func:`from_initializer` too, on
the same BLAS build: their QR runs BLAS on one thread whatever distributed's workers set; docs/orthogonal.md).
``seed=None`` draws the seed once, when the graph is built.

>>> import fastinit.dask as fid
>>> w = fid.glorot_uniform(8192, 8192, chunks=(2048, 8192), seed=0)   # nothing computed yet
>>> w.shape, w.numblocks
((8192, 8192), (4, 1))
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from ._extras import missing

try:
    import dask.array as da
    from dask.layers import ArraySliceDep
except ImportError as e:
    raise missing(e, "dask", "fastinit.dask") from None

from . import init, scaled, structured
from .sparsity import sparse_ as _sparse_
from ._buffers import resolve_dtype
from ._warnings import quiet
from .alloc import _named, parse_shape
from ._seed import Generator, resolve_seed

__all__ = [
    "from_initializer", "uniform", "normal", "trunc_normal", "zeros", "ones", "constant", "xavier_uniform",
    "xavier_normal", "kaiming_uniform", "kaiming_normal", "lecun_uniform", "lecun_normal", "fan_in_uniform",
    "variance_scaling", "sparse", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
]


def from_initializer(fill: Callable, shape: Union[int, Sequence[int]], *, chunks: Any = "auto",
                     dtype: Any = "float32", seed: Optional[int] = None, generator: Optional[Generator] = None,
                     sampled: bool = True, **kw) -> da.Array:
    """A lazy array of ``shape`` whose blocks ``fill(block, **kw)`` writes in place, each told its
    place with ``global_shape``/``offset`` (and the same ``seed`` when ``sampled``: drawn from ``generator``, or
    the default one, when None — once, after every argument passed its checks, as the local call draws it).

    ``chunks``: the block sizes, anything ``dask.array`` takes (``"auto"``, an int, one size or tuple per axis);
    ``-1``, one block, for a fill that needs the whole tensor (``orthogonal_``, ``eye_``, per-unit priors of
    ``prior_bias_``).  ``dtype``: the array's, one of fastinit's float16, bfloat16, float32, float64.
    ``sampled``: whether ``fill`` draws random values; False for one that does not (``constant_``, ``zeros_``,
    ``prior_bias_``), which is then given no ``seed`` (``seed``/``generator`` are refused) and no place."""
    if not callable(fill):
        raise TypeError(f"fill must be an in-place initializer such as fastinit.normal_, got {fill!r}")
    shape = parse_shape((shape,) if isinstance(shape, (int, np.integer)) else tuple(shape))
    dt = resolve_dtype(dtype)
    if sampled and not _takes(fill, "seed"):
        raise TypeError(f"{getattr(fill, '__name__', fill)} takes no seed (it draws no random values): pass "
                        "sampled=False")
    placement = [k for k in ("global_shape", "offset") if sampled and not _takes(fill, k)]
    if placement:
        raise TypeError(f"{getattr(fill, '__name__', fill)} takes no {'= or '.join(placement)}=: each block of a "
                        "sampled fill is told its place in the whole array (docs/dask.md)")
    replaced = sorted(set(structured.bound_keywords(fill)) & {"seed", "generator", "global_shape", "offset"})
    if sampled and replaced:  # the blocks are told their own: a partial's would be replaced, silently
        raise TypeError(f"the partial of {structured.base_name(fill)} binds {', '.join(k + '=' for k in replaced)}: "
                        "from_initializer sets them for each block (the partial's would be replaced); pass seed= / "
                        "generator= to from_initializer")
    if not sampled and structured.draws(fill):  # each block would draw a seed of its own (or repeat a bound one)
        raise TypeError(f"{structured.base_name(fill)} draws random values: sampled=False would give every block its "
                        "own draws, not the blocks of one array; leave sampled=True (pass seed= to from_initializer)")
    if not sampled and (seed is not None or generator is not None):
        raise TypeError(f"{getattr(fill, '__name__', fill)} draws no random values: it takes no seed or generator")
    seed = resolve_seed(seed, generator, draw=False) if sampled else None
    try:
        normalized = da.core.normalize_chunks(chunks, shape, dtype=dt)
        # dask's own check lets chunks=-2 through as ((-1,), ...), and ((7, -1), ...) for a length of 6
        for d, (sizes, n) in enumerate(zip(normalized, shape)):
            if any(c < 0 for c in sizes) or sum(sizes) != n:
                raise ValueError(f"axis {d}'s chunks {tuple(sizes)} are not non-negative sizes summing to {n}")
    except (ValueError, TypeError, ZeroDivisionError) as e:
        raise ValueError(f"chunks={chunks!r} does not tile shape {shape}: {e or type(e).__name__}") from None
    # bad arguments are refused now, when the graph is built, not on a worker at compute time
    # blocks are told their place when sampled; unsampled ones are not, so per-unit array arguments (prior_bias_'s
    # priors, given here or bound by a partial) need the whole tensor, as does a softmax prior (it sums to 1 over the
    # whole bias); a scalar one (constant_, a scalar sigmoid prior, the caller's own fill) does not
    args = {**structured.bound_keywords(fill), **kw}
    per_unit = any(np.ndim(v) > 0 for v in args.values()) or structured.sums_over_tensor(fill, args)
    blockwise = not structured.is_whole_tensor(fill) and (sampled or structured.position_free(fill) or not per_unit)
    if not blockwise and any(len(c) > 1 for c in normalized):
        raise ValueError(f"{structured.base_name(fill)} needs the whole tensor in one block; pass chunks=-1")
    checked = structured.check_by_empty_fill(fill, shape, dt, sampled, **kw, **({"seed": seed or 0} if sampled else {}))
    if sampled:  # an empty array draws nothing, like the local call
        kw = dict(kw, seed=resolve_seed(seed, generator) if seed is not None or math.prod(shape) else 0)

    # each block is given its own slices (dask's lazy ArraySliceDep, as da.zeros has them): not block_info=, a dict
    # built for every block with the graph (29 s for 10**6 blocks), nor the chunk edges in the function, which
    # distributed pickles with every task
    block = functools.partial(_fill_block, fill, shape, dt, sampled, checked, kw)  # picklable (no closure)
    ind = tuple(range(len(shape)))
    return da.blockwise(block, ind, ArraySliceDep(normalized), ind, dtype=dt,
                        meta=np.empty((0,) * len(shape), dt), align_arrays=False, concatenate=True)


def _takes(fill, keyword: str) -> bool:
    """Whether ``fill`` accepts ``keyword=`` (by name or through ``**kwargs``); True where its signature is
    unknown."""
    try:
        return structured.accepts(fill, keyword)
    except (TypeError, ValueError):
        return True


_PASSED_ON = """

    Other keywords: ``chunks=``, ``dtype=``, ``seed=``, ``generator=`` (:func:`from_initializer`), and the in-place
    initializer's (``stream=``, where fans matter ``in_axis=`` / ``out_axis=``)."""
_NOTHING_DRAWN = """

    Other keywords: ``chunks=`` and ``dtype=`` (:func:`from_initializer`); nothing is drawn (no seed)."""


def _twin(make, name: str = "", drawn: bool = True):
    """A lazy twin refusing an unknown keyword under its own name (``fastinit.alloc._named``); ``drawn``: whether its
    fill draws random values (a seed)."""
    return _named(make, name, "fastinit.dask", *((_PASSED_ON, "chunks=, dtype=, seed=, ...") if drawn else
                                                 (_NOTHING_DRAWN, "chunks=, dtype=")))


def _fill_block(fill, shape, dt, sampled, checked, kw, where=()):
    """The block of :func:`from_initializer`'s array at ``where`` (a slice per axis), told its place in ``shape`` when
    ``sampled``."""
    out = np.empty(tuple(s.stop - s.start for s in where), dt)
    place = {"global_shape": shape, "offset": tuple(s.start for s in where)} if sampled else {}
    with quiet(checked):  # warned once, when the graph was built
        returned = fill(out, **place, **kw)
    if isinstance(returned, np.ndarray) and returned is not out and out.size and not np.may_share_memory(returned, out):
        # out is left unwritten (an empty block shares no memory even with itself)
        raise TypeError(f"{structured.base_name(fill)} returned a new array, not the block it was given: "
                        "from_initializer's fill writes its block in place (what it returns is not used)")
    return out  # (a fill of one's own may return None, as ndarray.fill does)


@_twin
def uniform(*shape, a: float = 0.0, b: float = 1.0, **kw) -> da.Array:
    """Lazy U[a, b) (``fastinit.uniform``)."""
    return from_initializer(init.uniform_, shape, a=a, b=b, **kw)


@_twin
def normal(*shape, mean: float = 0.0, std: float = 1.0, **kw) -> da.Array:
    """Lazy N(mean, std²) (``fastinit.normal``)."""
    return from_initializer(init.normal_, shape, mean=mean, std=std, **kw)


@_twin
def trunc_normal(*shape, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, **kw) -> da.Array:
    """Lazy truncated normal (``fastinit.trunc_normal``)."""
    return from_initializer(init.trunc_normal_, shape, mean=mean, std=std, a=a, b=b, **kw)


@functools.partial(_twin, drawn=False)
def constant(*shape, val: float, **kw) -> da.Array:
    """Lazy constant."""
    return from_initializer(init.constant_, shape, sampled=False, val=val, **kw)


@functools.partial(_twin, drawn=False)
def zeros(*shape, **kw) -> da.Array:
    """Lazy zeros."""
    return from_initializer(init.zeros_, shape, sampled=False, **kw)


@functools.partial(_twin, drawn=False)
def ones(*shape, **kw) -> da.Array:
    """Lazy ones."""
    return from_initializer(init.ones_, shape, sampled=False, **kw)


@_twin
def xavier_uniform(*shape, gain: float = 1.0, layout: str = "keras", **kw) -> da.Array:
    """Lazy Glorot uniform (fans of the whole array; ``layout='keras'`` like ``fastinit.xavier_uniform``)."""
    return from_initializer(scaled.xavier_uniform_, shape, gain=gain, layout=layout, **kw)


@_twin
def xavier_normal(*shape, gain: float = 1.0, layout: str = "keras", **kw) -> da.Array:
    """Lazy Glorot normal."""
    return from_initializer(scaled.xavier_normal_, shape, gain=gain, layout=layout, **kw)


@_twin
def kaiming_uniform(*shape, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    layout: str = "keras", **kw) -> da.Array:
    """Lazy He uniform."""
    return from_initializer(scaled.kaiming_uniform_, shape, a=a, mode=mode, nonlinearity=nonlinearity,
                            layout=layout, **kw)


@_twin
def kaiming_normal(*shape, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                   layout: str = "keras", **kw) -> da.Array:
    """Lazy He normal."""
    return from_initializer(scaled.kaiming_normal_, shape, a=a, mode=mode, nonlinearity=nonlinearity,
                            layout=layout, **kw)


@_twin
def lecun_uniform(*shape, layout: str = "keras", **kw) -> da.Array:
    """Lazy LeCun uniform."""
    return from_initializer(scaled.lecun_uniform_, shape, layout=layout, **kw)


@_twin
def lecun_normal(*shape, layout: str = "keras", **kw) -> da.Array:
    """Lazy LeCun normal."""
    return from_initializer(scaled.lecun_normal_, shape, layout=layout, **kw)


@_twin
def fan_in_uniform(*shape, layout: str = "keras", **kw) -> da.Array:
    """Lazy U(±1/sqrt(fan_in))."""
    return from_initializer(scaled.fan_in_uniform_, shape, layout=layout, **kw)


@_twin
def variance_scaling(*shape, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                     layout: str = "keras", **kw) -> da.Array:
    """Lazy variance scaling (JAX / Keras semantics)."""
    return from_initializer(scaled.variance_scaling_, shape, scale=scale, mode=mode, distribution=distribution,
                            layout=layout, **kw)


@_twin
def sparse(*shape, sparsity: float, std: float = 0.01, **kw) -> da.Array:
    """Lazy sparse init: ceil(sparsity * rows) zeros per column (and the normal draws that are 0)."""
    return from_initializer(_sparse_, shape, sparsity=sparsity, std=std, **kw)


glorot_uniform = _twin(xavier_uniform.__wrapped__, "glorot_uniform")
glorot_normal = _twin(xavier_normal.__wrapped__, "glorot_normal")
he_uniform = _twin(kaiming_uniform.__wrapped__, "he_uniform")
he_normal = _twin(kaiming_normal.__wrapped__, "he_normal")
