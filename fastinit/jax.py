"""Layer 6 — ``fastinit.jax``: a drop-in for ``jax.nn.initializers`` with fastinit's values.

>>> import jax
>>> import fastinit.jax as init                # instead of: from jax.nn import initializers as init
>>> w = init.glorot_uniform()(jax.random.key(0), (784, 256))
>>> w.shape, str(w.dtype)
((784, 256), 'float32')

Same names, factory arguments, defaults and semantics as jax.nn.initializers (Glorot / He / LeCun
through ``variance_scaling`` with JAX's ``in_axis=-2, out_axis=-1`` and its 0.8796… truncated-normal
correction; ``uniform(scale)`` is U[0, scale); ``truncated_normal(stddev, lower=, upper=)`` cuts at
``lower·stddev``, ``upper·stddev``); each factory also takes ``stream=`` (an int or a parameter name).
The returned ``init(key, shape, dtype=None, out_sharding=None)`` works eagerly, under ``jax.jit`` and
under ``jax.vmap`` (over keys), on any backend.

Values are fastinit's, not jax.random's: ``init(key, shape, dtype)`` equals the NumPy fill of the same law
(JAX's ``he_normal`` etc. are truncated normals: ``fastinit.variance_scaling_(w, 2.0, "fan_in",
"truncated_normal", layout="keras")``, not ``fastinit.he_normal``, a plain normal) with ``seed`` = the key's
data as one 64-bit integer (``key_data`` (k0, k1): ``k0 · 2³² + k1``, so ``jax.random.key(s)`` for s < 2³² is
seed ``s``; keys of other implementations: blake2b of their data)
and ``stream``.  They are computed on the host by fastinit's kernels (traced, under ``jit`` or ``vmap``: in a
``jax.pure_callback``) and copied to the devices.  ``out_sharding`` (a Sharding, or a PartitionSpec under
``jax.set_mesh``) computes each shard on its own, at its offset of the whole array: the same values for every
sharding.
zeros, ones and constant draw nothing and are JAX's own.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable, Sequence, Union

import numpy as np

from ._extras import missing

try:
    import jax
    import jax.numpy as jnp
    from jax.sharding import NamedSharding, PartitionSpec
except ImportError as e:
    raise missing(e, "jax", "fastinit.jax") from None

try:  # JAX's trace context (private): :func:`_traced` falls back to a public probe without it
    from jax._src import core as _jax_core
except ImportError:  # pragma: no cover - JAX reorganised
    _jax_core = None
try:  # a vmap's tracer (private): :func:`_on_one_device` reads its batch
    from jax._src.interpreters.batching import BatchTracer as _BatchTracer
except ImportError:  # pragma: no cover - JAX reorganised
    _BatchTracer = ()

from . import init as _init
from . import scaled as _scaled
from . import structured as _structured
from ._buffers import is_int, resolve_dtype, shape_tuple
from ._seed import hash64, stream_id
from ._warnings import quiet, warn
from .init import Stream

__all__ = [
    "constant", "delta_orthogonal", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
    "kaiming_normal", "kaiming_uniform", "lecun_normal", "lecun_uniform", "normal", "ones", "orthogonal",
    "truncated_normal", "uniform", "variance_scaling", "xavier_normal", "xavier_uniform", "zeros", "key_seed",
    "Initializer",
]

Axes = Union[int, Sequence[int]]
Initializer = jax.nn.initializers.Initializer  # (JAX's Protocol: isinstance works as with jax.nn.initializers)


def key_seed(key: jax.Array | np.ndarray) -> int:
    """fastinit's seed for a JAX key (typed ``jax.random.key`` or raw ``PRNGKey`` data): the two 32-bit words of
    a threefry key as ``k0 · 2³² + k1``; the words of any other key, blake2b-hashed to 64 bits."""
    return _seed_of(np.asarray(_key_words(key)))


def _seed_of(words: np.ndarray) -> int:
    """:func:`key_seed` of a key's words (of any key shape)."""
    words = np.asarray(words, np.uint32)
    if words.size == 2:
        return (int(words.flat[0]) << 32) | int(words.flat[1])
    return hash64(words.tobytes())


def _dtype(dtype) -> np.dtype:
    """JAX's dtype for an initializer call: its default float for None (float32, float64 with x64 on), and as
    JAX, float64 is float32 unless x64 is on, with JAX's warning when float64 was asked for by name (its error, or
    float64, as ``jax_explicit_x64_dtypes`` says); fastinit's four floating types only."""
    default = dtype is None or dtype is float  # JAX's default float; the name "float" is NumPy's float64, as in JAX
    named = isinstance(dtype, str) and dtype.lower() == "float"
    dt = np.dtype(np.float64) if default or named else resolve_dtype(dtype)
    got = np.dtype(jax.dtypes.canonicalize_dtype(dt))
    if got != dt and not default:
        mode = getattr(getattr(jax.config, "jax_explicit_x64_dtypes", None), "name", "WARN")  # (JAX >= 0.8)
        if mode == "ALLOW":
            return dt
        if mode == "ERROR":
            raise ValueError(f"Explicitly requested dtype {dt} is not available. To enable more dtypes, set the "
                             "jax_enable_x64 or allow_explicit_x64_dtypes configuration options.")
        warn(f"Explicitly requested dtype {dt} is not available, and will be truncated to dtype {got}. To enable "
             "more dtypes, set the jax_enable_x64 configuration option or the JAX_ENABLE_X64 shell environment "
             "variable.")
    return got


def _key_words(key):
    """The uint32 words of one JAX key (a tracer too), refused before any tracing if it is not one."""
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise ValueError(f"key must be a single key, got a key array of shape {key.shape}; map over keys "
                             "with jax.vmap")
        return jax.random.key_data(key)
    shape, raw = np.shape(key), _raw_key_shape()  # raw key data: JAX's default implementation's, as JAX takes it
    if getattr(key, "dtype", None) == np.uint32 and len(shape) > 1 and shape[-1:] == raw:
        raise ValueError(f"key must be a single key, got {math.prod(shape[:-1])} raw keys (uint32 {shape}); map over "
                         "keys with jax.vmap")
    if getattr(key, "dtype", None) != np.uint32 or shape != raw:
        raise TypeError(f"key must be a JAX PRNG key (jax.random.key(s) or jax.random.PRNGKey(s)), got "
                        f"{type(key).__name__}{f' of {key.dtype} {shape}' if hasattr(key, 'dtype') else ''}"
                        + (f" (raw key data of jax_default_prng_impl={jax.config.jax_default_prng_impl} has shape "
                           f"{raw})" if getattr(key, "dtype", None) == np.uint32 else ""))
    return key


def _raw_key_shape() -> tuple[int]:
    """The shape of raw key data (``jax.random.PRNGKey(s)``) under JAX's default implementation: (2,) for
    threefry2x32, (4,) for rbg and unsafe_rbg; JAX refuses raw data of another shape."""
    return (2,) if str(jax.config.jax_default_prng_impl).startswith("threefry") else (4,)


def _initializer(fill: Callable, default_dtype, stream: Stream, column_axis: int | None = None,
                 said: str = "") -> Initializer:
    """``init(key, shape, dtype, out_sharding)`` with the values of ``fill(out, seed=, stream=)`` (with
    ``column_axis``: on the array with that axis moved last, then moved back), arguments checked first, on an
    empty block (a ValueError there, of a shape or a dtype, names the factory's call ``said``, as its own checks do:
    ``normal(stddev=1000000.0) for float16 (3,): normal_: ... std=1000000.0 ... beyond the largest finite``).
    Each block [start, stop) is computed on the host as the block at ``start`` of the whole array
    (``global_shape``/``offset``: the values of one unsharded fill); an initializer that needs the whole tensor
    (orthogonal) computes it whole and hands out the block."""
    stream_id(stream)  # checked by the factory, as its numbers are (not at init, as a shape's error)
    whole = column_axis is not None or _structured.is_whole_tensor(fill)

    @functools.lru_cache(maxsize=4096)  # (64 had made every eager vmap recompile past 64 shapes of one initializer)
    def host(shape: tuple, filled: tuple, dt: np.dtype, checked: bool, key_ndim: int = 1) -> tuple[Callable, Callable]:
        """(block(seed, start, stop), the unsharded callback), the same objects for every call of one shape and
        dtype: JAX caches what it traced of a callback by its identity (an eager vmap would recompile per call)."""
        def block(seed: int, start: tuple, stop: tuple) -> np.ndarray:
            with quiet(checked):  # warned once per call, by the check
                if whole:
                    out = fill(np.empty(filled, dt), seed=seed, stream=stream)
                    out = out if column_axis is None else np.moveaxis(out, -1, column_axis)
                    return np.ascontiguousarray(out[tuple(map(slice, start, stop))])
                out = np.empty(tuple(b - a for a, b in zip(start, stop)), dt)
                return fill(out, seed=seed, stream=stream, global_shape=shape, offset=start)

        return block, _per_key(lambda words: block(_seed_of(words), (0,) * len(shape), shape), shape, dt, key_ndim)

    def plan(shape: tuple, dt: np.dtype, named: bool = True) -> tuple[tuple, bool]:
        """(the shape filled, whether the check warned), the arguments checked for ``shape`` and ``dt`` (a
        ValueError prefixed with ``said`` where ``named``: not for :func:`_factored`, whose factor is not this one)."""
        filled = shape
        if column_axis is not None and len(shape) >= 2:  # fewer axes: the fill's own check refuses them
            if not -len(shape) <= column_axis < len(shape):
                raise ValueError(f"column_axis={column_axis} is not an axis of shape {shape}")
            ax = column_axis % len(shape)
            filled = shape[:ax] + shape[ax + 1:] + (shape[ax],)
        # placed (told the whole shape), as the blocks will be: the checks that read it run now, before tracing
        try:
            return filled, _structured.check_by_empty_fill(fill, filled, dt, not whole, seed=0, stream=stream)
        except ValueError as e:
            if not (said and named):
                raise
            raise ValueError(f"{said} for {dt} {shape}: {e}") from None

    def init(key, shape, dtype=default_dtype, out_sharding=None) -> jax.Array:
        shape, dt, words = shape_tuple(shape), _dtype(dtype), _key_words(key)
        filled, checked = plan(shape, dt)
        traced = _traced(words)
        sharding = _placement(out_sharding, shape, traced)
        block, unsharded = host(shape, filled, dt, checked, words.ndim)
        if not traced:
            seed = _seed_of(words)
            if sharding is not None and not whole:
                return _eager(functools.partial(block, seed), shape, sharding)
            full = block(seed, (0,) * len(shape), shape)
            if sharding is not None:  # a whole-tensor initializer: computed once, handed out in blocks
                return _eager(lambda start, stop: full[tuple(map(slice, start, stop))], shape, sharding)
            devices = sorted(words.devices(), key=lambda d: d.id) if getattr(words, "committed", False) else []
            if len(devices) > 1:  # a key replicated over devices: so is the array, as JAX's initializers make it
                mesh = jax.sharding.Mesh(np.array(devices), ("replicas",))
                return jax.device_put(_x64(full), NamedSharding(mesh, PartitionSpec()))
            return jax.device_put(_x64(full), devices[0] if devices else None)  # a committed key's device, or JAX's
        if math.prod(shape) == 0:  # nothing to draw; unplaced: JAX 0.10 mislays the shards of an empty array
            return jnp.zeros(shape, dt)  # under jit (np.asarray of one then fails), its own initializers' too
        if isinstance(sharding, NamedSharding) and _SHARD_MAP is not None:
            out = _per_shard(block, shape, dt, sharding, words.ndim)(words)
            # the shard_map's out_specs carry no memory kind ('device', every backend's default): put it back
            return out if sharding.memory_kind in (None, "device") else jax.device_put(out, sharding)
        if sharding is not None and not isinstance(sharding, (NamedSharding, jax.sharding.SingleDeviceSharding)):
            raise TypeError(f"under jit, out_sharding must be a NamedSharding, a PartitionSpec (as "
                            f"jax.nn.initializers ask) or a SingleDeviceSharding, got {type(sharding).__name__}")
        out = _callback(unsharded, shape, dt, *_on_one_device(words))
        return out if sharding is None else jax.device_put(out, sharding)

    # (:func:`_factored`'s: the unsharded callback of a shape and dtype, checked)
    init.host = lambda shape, dt, key_ndim=1: host(shape, plan(shape, dt, False)[0], dt, True, key_ndim)[1]
    return init


def _per_key(one: Callable, shape: tuple, dt: np.dtype, key_ndim: int = 1, numbers: int = 0) -> Callable:
    """A ``pure_callback`` host function for ``vmap_method="expand_dims"``: key words (..., *w) (``key_ndim`` axes
    of words a key) under any number of vmaps give (..., *shape), ``one(words, *rest)`` per key; the first
    ``numbers`` of ``rest`` are numbers batched with the keys (a traced factor: vmapped over keys, factors or both),
    handed to ``one`` as floats, the others as they are.  One callback for the whole batch, where "sequential" maps
    a new closure each trace, which an eager vmap recompiles every call (85 ms here)."""
    def callback(data, *rest) -> np.ndarray:
        data = np.asarray(data, np.uint32)
        given = [np.asarray(r, np.float64) for r in rest[:numbers]]
        batch = np.broadcast_shapes(data.shape[:data.ndim - key_ndim], *(r.shape for r in given))
        data = np.broadcast_to(data, batch + data.shape[data.ndim - key_ndim:])
        given = [np.broadcast_to(r, batch) for r in given]
        if not batch:
            return one(data, *map(float, given), *rest[numbers:])
        out = np.empty(batch + shape, dt)
        for i in np.ndindex(batch):
            out[i] = one(data[i], *(float(r[i]) for r in given), *rest[numbers:])
        return out

    return callback


def _callback(host: Callable, shape: tuple, dt: np.dtype, *args) -> jax.Array:
    """``jax.pure_callback`` of ``host(*args)``, an array of ``shape`` and ``dt`` (under vmaps: of each); float64
    without x64 (``jax_explicit_x64_dtypes`` "allow"), which a callback cannot return, as pairs of uint32 words."""
    if dt.itemsize < 8 or jax.config.jax_enable_x64:
        out = jax.pure_callback(host, jax.ShapeDtypeStruct(shape, dt), *args, vmap_method="expand_dims")
    else:
        def as_words(*a) -> np.ndarray:
            out = np.asarray(host(*a), order="C")  # (not ascontiguousarray: it makes a 0-d array 1-d)
            return out.reshape(out.shape + (1,)).view(np.uint32)  # (a 0-d array's view cannot change its itemsize)

        words = jax.pure_callback(as_words, jax.ShapeDtypeStruct(shape + (2,), np.uint32), *args,
                                  vmap_method="expand_dims")
        out = jax.lax.bitcast_convert_type(words, dt)
    return _on_keys_mesh(out, *args)


def _on_one_device(*args) -> tuple:
    """An eager vmap's batches (keys, a traced factor) on several devices (sharded or replicated, no mesh in context)
    put on the first of them: JAX 0.10 places a host callback's result over such a batch on one device with a
    sharding nothing can use (``Cannot convert GSPMDSharding {maximal device=0} into SdyArray``: a sum, an index,
    a jit of it; a review).  Under ``jit`` a batch is abstract: left as it is (docs/guide.md)."""
    devices = set()
    for arg in args:
        batch = _batch(arg)
        if isinstance(batch, jax.core.Tracer):  # abstract, under jit: a tracer's missing .sharding would build an
            continue  # error message walking the whole jaxpr traced so far (n initializers traced in O(n²))
        devices |= set(getattr(getattr(batch, "sharding", None), "device_set", ()))
    if len(devices) < 2:
        return args
    first = min(devices, key=lambda d: d.id)
    return tuple(jax.device_put(arg, first) for arg in args)


def _batch(arg):
    """What an eager vmap batches (nested vmaps: one batch in another); a tracer under jit."""
    while isinstance(arg, _BatchTracer):
        arg = arg.val
    return arg


def _on_keys_mesh(out, *args):
    """Under jit, a host callback's result over keys (or factors) on several devices of a mesh, placed on that mesh
    (an Explicit mesh's: resharded, the batch keeping the keys' sharding as JAX's initializers do; an Auto one's:
    constrained to be replicated): JAX 0.10 gives it a ``{maximal device=0}`` sharding nothing can use (``Cannot
    convert GSPMDSharding {maximal device=0} into SdyArray``: a sum, an index; a review), a ``device_put`` of it to
    one device too.  The mesh is read from the arguments' abstract values, never a tracer's ``.sharding``; not in a
    shard_map body (manual axes), nor eagerly (:func:`_on_one_device` put the batch on one device)."""
    for arg in args:
        if _TYPEOF is None or not isinstance(_batch(arg), jax.core.Tracer):  # (a JAX before avals had shardings)
            continue
        mesh = getattr(getattr(_TYPEOF(arg), "sharding", None), "mesh", None)
        types = getattr(mesh, "axis_types", ())
        if mesh is not None and not mesh.empty and mesh.size > 1 and _MANUAL not in types:
            explicit = _EXPLICIT is not None and _EXPLICIT in types
            return (jax.sharding.reshard if explicit else jax.lax.with_sharding_constraint)(
                out, NamedSharding(mesh, PartitionSpec()))
    return out


def _x64(a: np.ndarray):
    """``a`` for ``jax.device_put``, which makes float64 float32 without x64: then (``jax_explicit_x64_dtypes``
    "allow") a float64 JAX array."""
    return jnp.asarray(a, dtype=a.dtype) if a.dtype.itemsize == 8 and not jax.config.jax_enable_x64 else a


def _traced(words) -> bool:
    """Whether the call is being traced: a traced key, or a concrete one inside ``jit`` or ``vmap`` (its values
    then come at run time, not as a constant baked into the program).  JAX's current trace says it in 0.5 us
    (``jax._src.core.trace_ctx``, private); where that is gone, an array made now is a tracer under a trace
    (0.2 ms)."""
    if isinstance(words, jax.core.Tracer):
        return True
    trace = getattr(getattr(_jax_core, "trace_ctx", None), "trace", None)
    if trace is not None and isinstance(getattr(_jax_core, "EvalTrace", None), type):
        return not isinstance(trace, _jax_core.EvalTrace)
    return isinstance(jnp.zeros(0, jnp.uint32), jax.core.Tracer)


_SHARD_MAP = getattr(jax, "shard_map", None)  # JAX >= 0.7; earlier: one callback, then placed
_MANUAL = getattr(getattr(jax.sharding, "AxisType", None), "Manual", None)
_EXPLICIT = getattr(getattr(jax.sharding, "AxisType", None), "Explicit", None)  # (JAX >= 0.6, with reshard)
_TYPEOF = getattr(jax, "typeof", None)


def _context_mesh(traced: bool):
    """The mesh of ``jax.set_mesh`` (its abstract mesh under tracing), or None; None too inside a ``shard_map``
    body over every mesh axis, where an initializer makes the block of the device it runs for.  Inside one over
    some of the axes: NotImplementedError (JAX allows no callback there)."""
    get = getattr(jax.sharding, "get_abstract_mesh" if traced else "get_mesh", None)
    mesh = get() if get is not None else None
    if mesh is None or mesh.empty:
        return None
    manual = [t == _MANUAL for t in getattr(mesh, "axis_types", ())]
    if any(manual) and not all(manual):
        raise NotImplementedError("fastinit.jax computes on the host through jax.pure_callback, which JAX does not "
                                  "allow in a shard_map over only some mesh axes (axis_names=...); initialize "
                                  "outside it, or in a shard_map over every axis")
    return None if any(manual) else mesh


def _placement(out_sharding, shape: tuple, traced: bool) -> jax.sharding.Sharding | None:
    """``out_sharding`` as jax.nn.initializers read it: a Sharding as given; a PartitionSpec over the mesh of
    ``jax.set_mesh``; None: replicated over that mesh if one is set, else JAX's default device (None).  A mesh
    sharding's spec is checked against ``shape`` (trailing None entries beyond its rank dropped, as JAX does)."""
    if out_sharding is not None and not isinstance(out_sharding, (jax.sharding.Sharding, PartitionSpec)):
        raise TypeError(f"out_sharding must be a jax.sharding.Sharding, a PartitionSpec or None, got "
                        f"{type(out_sharding).__name__}")
    sharding = out_sharding
    if not isinstance(out_sharding, jax.sharding.Sharding):
        mesh = _context_mesh(traced)
        if mesh is None:
            if out_sharding is None:
                return None
            raise ValueError(f"out_sharding={out_sharding} is a PartitionSpec, which needs a mesh: call under "
                             "jax.set_mesh(mesh), or pass NamedSharding(mesh, spec)")
        sharding = NamedSharding(mesh, PartitionSpec() if out_sharding is None else out_sharding)
    if not isinstance(sharding, NamedSharding):
        return sharding
    spec = tuple(sharding.spec)
    if any(e is not None for e in spec[len(shape):]):
        raise ValueError(f"out_sharding {sharding.spec} has {len(spec)} entries for the {len(shape)} axes of shape "
                         f"{shape}")
    for e in spec:
        if e is PartitionSpec.UNCONSTRAINED or (isinstance(e, tuple) and PartitionSpec.UNCONSTRAINED in e):
            raise ValueError(f"out_sharding {sharding.spec}: UNCONSTRAINED is not a placement; name mesh axes "
                             "or None for each axis")
    for d, (n, axes) in enumerate(zip(shape, _axis_names(spec))):
        k = _parts(sharding.mesh, axes)
        if n % k:
            raise ValueError(f"out_sharding {sharding.spec} splits axis {d} of shape {shape} into {k} parts, which "
                             f"does not divide {n}")
    if len(spec) > len(shape):
        sharding = NamedSharding(sharding.mesh, PartitionSpec(*spec[:len(shape)]), memory_kind=sharding.memory_kind)
    return sharding


def _axis_names(spec: tuple) -> list[tuple]:
    """The mesh axes each entry of a partition spec splits its array axis over (() for None)."""
    return [() if e is None else tuple(e) if isinstance(e, (tuple, list)) else (e,) for e in spec]


def _parts(mesh, axes: tuple) -> int:
    """Into how many blocks the mesh ``axes`` split an array axis."""
    return math.prod(mesh.shape[a] for a in axes)


def _eager(block: Callable, shape: tuple, sharding: jax.sharding.Sharding) -> jax.Array:
    """A concrete key and a sharding: each distinct addressable shard, ``block(start, stop)``, computed once, on
    its own, and copied to the devices that hold it, in the sharding's memory kind (host memory of one shard at
    a time; in a multi-process run, each process computes only its own shards)."""
    holders: dict = {}  # (start, stop) -> the devices holding that block
    for device, index in sharding.addressable_devices_indices_map(shape).items():
        bounds = tuple(zip(*(s.indices(n)[:2] for s, n in zip(index, shape)))) or ((), ())
        holders.setdefault(bounds, []).append(device)
    arrays = []
    for (start, stop), devices in holders.items():
        data = _x64(block(start, stop))
        arrays += [jax.device_put(data, jax.sharding.SingleDeviceSharding(device, memory_kind=sharding.memory_kind))
                   for device in devices]
    return jax.make_array_from_single_device_arrays(shape, sharding, arrays)


@functools.lru_cache(maxsize=4096)
def _per_shard(block: Callable, shape: tuple, dt: np.dtype, sharding: NamedSharding, key_ndim: int = 1) -> Callable:
    """Traced with a mesh sharding (checked by :func:`_placement`): a ``jax.shard_map`` over the mesh whose body
    asks the host (``jax.pure_callback``) for its own device's block only; the same values as the unsharded
    array.  Devices holding the same block (replicas) each compute it, and an initializer that needs the whole
    tensor computes it on every device: no collective, so a ``vmap(..., spmd_axis_name=...)`` that spreads keys
    over a mesh axis cannot mix them (gathering replicas' pieces did).  Cached, so JAX's caches of what it traced
    hit on every call."""
    names = _axis_names(tuple(sharding.spec) + (None,) * (len(shape) - len(sharding.spec)))
    size = tuple(n // _parts(sharding.mesh, axes) for n, axes in zip(shape, names))

    def one(words: np.ndarray, index) -> np.ndarray:
        start = tuple(int(i) * m for i, m in zip(np.ravel(index)[:len(size)], size))  # index: never batched
        return block(_seed_of(words), start, tuple(a + m for a, m in zip(start, size)))

    callback = _per_key(one, size, dt, key_ndim)

    def body(data):
        index = jnp.array([jax.lax.axis_index(axes) if axes else 0 for axes in names], jnp.int32)
        return _callback(callback, size, dt, data, index)

    return _SHARD_MAP(body, mesh=sharding.mesh, in_specs=PartitionSpec(), out_specs=sharding.spec)


def _not_a_key(value, name: str, raw: bool = False) -> None:
    """A PRNG key where a factory takes its parameters, refused saying so: ``normal(key, shape)`` meant
    ``normal()(key, shape)`` (it had raised "Cannot call abstract method item"); ``raw``: a legacy uint32 key too,
    where no array of that kind is a valid value (a law's number)."""
    if isinstance(value, jax.Array) and (jnp.issubdtype(value.dtype, jax.dtypes.prng_key) or raw and value.dtype ==
                                         jnp.uint32 and value.shape in ((2,), (4,))):  # (raw: jax.random.PRNGKey(s))
        raise TypeError(f"{name} is a JAX PRNG key: fastinit.jax's factories take the law's parameters and return "
                        "the initializer, which takes (key, shape): normal()(key, shape), glorot_uniform()(key, "
                        "shape)")


def _number(value, name: str, factor: bool = False):
    """A factory's number as JAX takes it: a concrete 0-d ``jax.Array`` (``1 / jnp.sqrt(512)``) as its Python
    value; a traced one (made under ``jit``) as it is where it is the law's ``factor`` (a real 0-d value,
    :func:`_factored`), else refused (fastinit computes on the host, from concrete parameters); anything else as
    given, for fastinit's own checks."""
    _not_a_key(value, name, raw=True)
    if isinstance(value, jax.core.Tracer):
        if factor and value.ndim == 0 and jnp.issubdtype(value.dtype, jnp.number) \
                and not jnp.issubdtype(value.dtype, jnp.complexfloating):
            return value
        if factor:
            raise TypeError(f"{name} is a traced {value.dtype} value of shape {value.shape}; fastinit.jax takes a "
                            "traced factor as a real 0-d value only")
        raise TypeError(f"{name} is a traced value; fastinit.jax needs concrete parameters (build the initializer "
                        "outside jit, or pass a Python or NumPy number)")
    if isinstance(value, (jax.Array, np.ndarray)) and value.ndim == 0:
        return value.item()
    return value


def _factored(make: Callable[[float], Initializer], factor, default_dtype, negative: str) -> Initializer:
    """The initializer of a law whose factor is traced (``normal(1 / jnp.sqrt(d))`` built inside a jitted
    ``model.init``): the factor goes to the host with the key, where ``make(factor)`` (the factory's initializer
    of that concrete factor) computes the values — the concrete factor's, bit for bit, bounds included.  A
    negative factor, which the factories refuse and JAX multiplies in, as JAX's law: ``negative`` "abs" (the
    same law), "mirror" (−make(−factor)), "nan" (NaN, as JAX's square root of it) or "keep" (taken as it is);
    a NaN or infinite one gives NaNs.  The whole array is computed at once, then placed by ``out_sharding``.
    Differentiable in the factor (a ``custom_jvp``): the values are g(f) times the law's draw at factor 1 (g: f, |f|
    or √f), their derivative g′(f) times that draw."""
    unit = make(1.0)  # (the other arguments checked now, as the factory checks them)

    def one(words: np.ndarray, f: float, shape: tuple, dt: np.dtype) -> np.ndarray:  # (words: one key's)
        if not math.isfinite(f) or (f < 0 and negative == "nan"):
            return np.full(shape, np.nan, dt)
        out = make(abs(f) if negative in ("abs", "mirror") else f).host(shape, dt, words.ndim)(words)
        return -out if f < 0 and negative == "mirror" else out

    def init(key, shape, dtype=default_dtype, out_sharding=None) -> jax.Array:
        shape, dt, words = shape_tuple(shape), _dtype(dtype), _key_words(key)
        unit.host(shape, dt)  # the checks of the shape and dtype, before tracing
        sharding = _placement(out_sharding, shape, True)
        if math.prod(shape) == 0:
            return jnp.zeros(shape, dt)
        callback = _per_key(lambda w, f: one(w, f, shape, dt), shape, dt, words.ndim, numbers=1)

        @jax.custom_jvp
        def draw(words, f):
            return _callback(callback, shape, dt, words, f)

        @draw.defjvp
        def slope(primals, tangents):  # the values are g(f) · (the law at factor 1): their derivative, g'(f) · that
            words, f = primals
            out = draw(words, f)
            g = jnp.where(f < 0, -1.0, 1.0) if negative == "abs" else 0.5 / jnp.sqrt(f) if negative == "nan" else 1.0
            unit_values = draw(words, jnp.ones_like(f))
            return out, (unit_values * (g * tangents[1]).astype(dt)).astype(dt)

        out = draw(*_on_one_device(words, jnp.asarray(factor, jnp.result_type(float))))
        return out if sharding is None else jax.device_put(out, sharding)

    return init


def _is_traced(value) -> bool:
    return isinstance(value, jax.core.Tracer)


_ZEROS = functools.partial(_init.normal_, mean=0.0, std=0.0)  # JAX's draw times a zero scale: +0.0 everywhere


def uniform(scale: float = 1e-2, dtype: Any = None, *, stream: Stream = 0) -> Initializer:
    """U[0, scale) (jax.nn.initializers.uniform); scale 0 gives zeros, as JAX's draw times 0 (a traced scale:
    computed on the host with the key, docs/guide.md "JAX")."""
    scale = _number(scale, "scale", factor=True)
    if _is_traced(scale):
        return _factored(lambda f: uniform(f, dtype, stream=stream), scale, dtype, "mirror")
    scale = _not_negative(scale, "uniform", "scale")
    fill = _ZEROS if scale == 0 else functools.partial(_init.uniform_, a=0.0, b=scale)
    return _initializer(fill, dtype, stream, said=f"uniform(scale={scale!r})")


def normal(stddev: float = 1e-2, dtype: Any = None, *, stream: Stream = 0) -> Initializer:
    """N(0, stddev²) (jax.nn.initializers.normal; a negative stddev, which JAX multiplies in, is the same law; a
    traced stddev: computed on the host with the key, docs/guide.md "JAX")."""
    stddev = _number(stddev, "stddev", factor=True)
    if _is_traced(stddev):
        return _factored(lambda f: normal(f, dtype, stream=stream), stddev, dtype, "abs")
    stddev = _finite(stddev, "normal", "stddev")
    return _initializer(functools.partial(_init.normal_, mean=0.0, std=abs(stddev)), dtype, stream,
                        said=f"normal(stddev={stddev!r})")


def _finite(value, fn: str, name: str):
    """``value``; a ValueError naming the factory's argument (not the fastinit initializer's it becomes) if it is
    a NaN or an infinity, a TypeError if it is not a real number (a bool; an array, which JAX would broadcast)."""
    _init.as_real(value, name, fn)  # NaN, infinities, 10**400
    return value


def _not_negative(value, fn: str, name: str):
    """``value``; a ValueError naming the factory's argument if it is not finite or a negative number (JAX
    multiplies its draw by it: the interval mirrored, which fastinit does not take)."""
    if _finite(value, fn, name) < 0:
        raise ValueError(f"{fn}: {name} must be >= 0 (0 gives zeros), got {value!r}")
    return value



def truncated_normal(stddev: float = 1e-2, dtype: Any = None, lower: float = -2.0, upper: float = 2.0, *,
                     stream: Stream = 0) -> Initializer:
    """N(0, stddev²) truncated to [lower·stddev, upper·stddev] (jax.nn.initializers.truncated_normal); stddev 0
    gives zeros, as JAX's draw times 0 (a traced stddev: computed on the host with the key, docs/guide.md "JAX"; the
    bounds are concrete)."""
    stddev, lower, upper = _number(stddev, "stddev", factor=True), _number(lower, "lower"), _number(upper, "upper")
    if _is_traced(stddev):
        return _factored(lambda f: truncated_normal(f, dtype, lower, upper, stream=stream), stddev, dtype, "mirror")
    _not_negative(stddev, "truncated_normal", "stddev")
    for bound, name in ((lower, "lower"), (upper, "upper")):  # infinite bounds are fastinit's to take
        _init.as_real(bound, name, "truncated_normal", finite=False)
    if not lower < upper:
        raise ValueError(f"truncated_normal: need lower < upper, got lower={lower!r}, upper={upper!r}")
    said = f"truncated_normal(stddev={stddev!r}, lower={lower!r}, upper={upper!r})"
    if stddev == 0:  # (lower < upper, checked above)
        return _initializer(_ZEROS, dtype, stream, said=said)
    return _initializer(functools.partial(_init.trunc_normal_, mean=0.0, std=stddev, a=lower * stddev,
                                          b=upper * stddev), dtype, stream, said=said)


def variance_scaling(scale: float, mode: str, distribution: str, in_axis: Axes = -2, out_axis: Axes = -1,
                     batch_axis: Axes = (), dtype: Any = None, *, stream: Stream = 0) -> Initializer:
    """Var(W) = scale / n, n from ``mode`` over the fans of ``in_axis`` / ``out_axis``
    (jax.nn.initializers.variance_scaling; :func:`fastinit.variance_scaling_`).  ``batch_axis`` is not
    supported (NotImplementedError).  A traced scale: computed on the host with the key (docs/guide.md "JAX")."""
    if np.size(batch_axis) != 0:  # (), [], an empty NumPy or JAX array: none
        raise NotImplementedError(f"batch_axis={batch_axis!r}: fastinit's fans have no batch axes; fill each "
                                  "batch member with its own stream instead")
    for name, axis in (("in_axis", in_axis), ("out_axis", out_axis)):
        _not_a_key(axis, name)  # (glorot_uniform(key, shape))
        if axis is None:  # fastinit's own fans read None as "the layout's default", JAX has no such default
            raise TypeError(f"variance_scaling: {name} must be an int or a sequence of ints, got None")
    scale = _number(scale, "scale", factor=True)
    if _is_traced(scale):
        return _factored(lambda f: variance_scaling(f, mode, distribution, in_axis, out_axis, batch_axis, dtype,
                                                    stream=stream), scale, dtype, "nan")
    scale = _not_negative(scale, "variance_scaling", "scale")
    return _initializer(functools.partial(_scaled.variance_scaling_, scale=scale, mode=mode,
                                          distribution=distribution, in_axis=in_axis, out_axis=out_axis),
                        dtype, stream, said=f"variance_scaling({scale!r}, {mode!r}, {distribution!r}, "
                                            f"in_axis={in_axis!r}, out_axis={out_axis!r})")


def _scheme(name: str, scale: float, mode: str, distribution: str, doc: str) -> Callable[..., Initializer]:
    def factory(in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = (), dtype: Any = None, *,
                stream: Stream = 0) -> Initializer:
        return variance_scaling(scale, mode, distribution, in_axis, out_axis, batch_axis, dtype, stream=stream)

    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = f"{doc}: variance_scaling({scale}, {mode!r}, {distribution!r}) (jax.nn.initializers.{name})."
    return factory


glorot_uniform = xavier_uniform = _scheme("glorot_uniform", 1.0, "fan_avg", "uniform", "Glorot & Bengio (2010)")
glorot_normal = xavier_normal = _scheme("glorot_normal", 1.0, "fan_avg", "truncated_normal", "Glorot & Bengio (2010)")
lecun_uniform = _scheme("lecun_uniform", 1.0, "fan_in", "uniform", "LeCun et al. (1998)")
lecun_normal = _scheme("lecun_normal", 1.0, "fan_in", "truncated_normal", "LeCun et al. (1998)")
he_uniform = kaiming_uniform = _scheme("he_uniform", 2.0, "fan_in", "uniform", "He et al. (2015)")
he_normal = kaiming_normal = _scheme("he_normal", 2.0, "fan_in", "truncated_normal", "He et al. (2015)")


def _check_column_axis(column_axis, factory: str) -> None:
    """The factory's refusal of a ``column_axis`` that is not an int (True or 1.0: JAX fails on them only at init)."""
    if not is_int(column_axis):
        raise TypeError(f"{factory}: column_axis must be an int, got {column_axis!r}")


def orthogonal(scale: float = 1.0, column_axis: int = -1, dtype: Any = None, *, stream: Stream = 0) -> Initializer:
    """scale × a Haar (semi-)orthogonal matrix over ``column_axis`` against the other axes flattened
    (jax.nn.initializers.orthogonal; Saxe et al. 2014; :func:`fastinit.orthogonal_`; a traced scale:
    computed on the host with the key, docs/guide.md "JAX")."""
    _not_a_key(scale, "scale", raw=True)  # (orthogonal(key, shape): the key, not the shape, is the mistake)
    _check_column_axis(column_axis, "orthogonal")
    scale = _number(scale, "scale", factor=True)
    if _is_traced(scale):
        return _factored(lambda f: orthogonal(f, column_axis, dtype, stream=stream), scale, dtype, "keep")
    scale = _finite(scale, "orthogonal", "scale")
    return _initializer(functools.partial(_structured.orthogonal_, gain=scale, layout="keras"),
                        dtype, stream, column_axis, said=f"orthogonal(scale={scale!r})")


def delta_orthogonal(scale: float = 1.0, column_axis: int = -1, dtype: Any = None, *,
                     stream: Stream = 0) -> Initializer:
    """Delta-orthogonal conv kernel (*k, in, out), in ≤ out (jax.nn.initializers.delta_orthogonal; Xiao et al.
    2018; :func:`fastinit.delta_orthogonal_`).  ``column_axis`` names an axis of the (in, out) centre matrix, as
    in JAX, where every one gives the same law (in ≤ out: over the first, JAX transposes a Haar matrix of
    orthonormal columns, whose rows are then a Haar orthonormal set, as over the last)."""
    _not_a_key(scale, "scale", raw=True)  # (orthogonal(key, shape): the key, not the shape, is the mistake)
    _check_column_axis(column_axis, "delta_orthogonal")
    if column_axis not in (-2, -1, 0, 1):
        raise ValueError(f"delta_orthogonal: column_axis={column_axis!r} is not an axis of the (in, out) centre "
                         "matrix (-2, -1, 0 or 1)")
    scale = _number(scale, "scale", factor=True)
    if _is_traced(scale):
        return _factored(lambda f: delta_orthogonal(f, column_axis, dtype, stream=stream), scale, dtype, "keep")
    scale = _finite(scale, "delta_orthogonal", "scale")
    return _initializer(functools.partial(_structured.delta_orthogonal_, gain=scale, layout="keras"),
                        dtype, stream, said=f"delta_orthogonal(scale={scale!r})")


def constant(value: jax.typing.ArrayLike, dtype: Any = None) -> Initializer:
    """Arrays full of ``value`` (jax.nn.initializers.constant: JAX's own, nothing is drawn)."""
    return jax.nn.initializers.constant(value, dtype)


def zeros(key: jax.Array, shape: Union[int, Sequence[int]], dtype: Any = None,
          out_sharding: NamedSharding | PartitionSpec | None = None) -> jax.Array:
    """Zeros (jax.nn.initializers.zeros: JAX's own, nothing is drawn)."""
    return jax.nn.initializers.zeros(key, shape, dtype, out_sharding)


def ones(key: jax.Array, shape: Union[int, Sequence[int]], dtype: Any = None,
         out_sharding: NamedSharding | PartitionSpec | None = None) -> jax.Array:
    """Ones (jax.nn.initializers.ones: JAX's own, nothing is drawn)."""
    return jax.nn.initializers.ones(key, shape, dtype, out_sharding)
