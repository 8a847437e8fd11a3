"""Property-based fuzzing of every public initializer (hypothesis, reproducible: derandomized, no database).

Every generated call must either fill its target or raise a TypeError / ValueError whose message
names an argument; a refused call leaves the target's whole underlying buffer byte-for-byte
unchanged, and a successful one writes nothing outside the target's elements and gives the same
bytes as a fresh C-contiguous array filled by the same call (layout independence).  A single-fault
pass starts from a known-good call, corrupts exactly one argument and requires a refusal to name
*that* argument.  Each test counts its generated calls and asserts its budget was really spent;
the budgets sum to >= 10,000 calls per run (``test_fuzz_budget_is_at_least_ten_thousand``).
"""
from __future__ import annotations

import array
import ctypes
import inspect
import math
import mmap
import pathlib
import re
import warnings
from dataclasses import dataclass, field
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastinit
from fastinit._buffers import resolve_dtype

# ---------------------------------------------------------------------------------------------------------------
# what is fuzzed

NOT_INITIALIZERS = {"philox4x32", "Generator", "default_generator", "initial_seed", "manual_seed", "fans",
                    "calculate_gain", "recommend", "Recommendation"}
IN_PLACE = sorted(n for n in fastinit.__all__ if n.endswith("_"))
ALLOCATING = sorted(n for n in fastinit.__all__ if not n.endswith("_") and n not in NOT_INITIALIZERS)
FLOATS = {np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16), np.dtype(np.float32), np.dtype(np.float64)}

# generated calls per test; each test asserts it made at least its budget
BUDGET = {"in_place": 6000, "single_fault": 2400, "allocating": 1300, "helpers": 400}

SETTINGS = dict(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))

# Arguments whose refusals may name them by the word torch's own message uses (documented in docs/validation.md).
ALIASES = {
    "out": ("out", "tensor", "dimensions", "dim 0", "shape", "kernel", "in_channels", "out_channels"),
    "a": ("a", "negative_slope", "bounds"),
    "global_shape": ("global_shape", "global shape", "shard"),
    "offset": ("offset", "shard"),
    "b": ("b", "bounds"),
    "value": ("value", "val"),
    "in_axis": ("in_axis", "axis"),
    "out_axis": ("out_axis", "axis"),
    "prior": ("prior",),
    "shape": ("shape",),
    "n": ("n", "shape"),
}


@dataclass
class Counter:
    calls: dict = field(default_factory=dict)

    def add(self, what: str, n: int = 1) -> None:
        self.calls[what] = self.calls.get(what, 0) + n


COUNT = Counter()


# ---------------------------------------------------------------------------------------------------------------
# values

NAN, INF = float("nan"), float("inf")
NUMBERS = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.0, 0.02, 3.0, 1e-45, 5e-324, 1e-30, 1e-300, 1e30, -1e30, 1e300, -1e300,
           65504.0, 65520.0, 70000.0, 3.4e38, 3.5e38, 1.7e308, NAN, INF, -INF, 0, 1, 5, 15, -3, 2**64, -(2**63),
           np.float16(1.5), np.float32(-0.25), np.float64(2.0), np.int64(3), np.uint8(7),
           True, False, np.bool_(True), None, "1", [1.0], (1.0,), 1 + 1j, Fraction(1, 3), np.array(1.0), object()]
numbers = st.one_of(st.sampled_from(NUMBERS), st.floats(-10, 10, allow_nan=False), st.floats(0.01, 3),
                    st.floats(allow_nan=True, allow_infinity=True), st.integers(-20, 20))
probability = st.one_of(st.sampled_from([0.0, 1.0, 0.5, 1e-300, 1 - 1e-16, -0.1, 1.1, NAN, INF, True, None, "0.5",
                                         [0.2, 0.8], [0.5, 0.6], [[0.3]], np.array([0.1, 0.9]), []]),
                        st.floats(0, 1))
STRINGS = {
    "mode": ["fan_in", "fan_out", "fan_avg", "fan_geo_avg", "FAN_IN", "fan", "", None, 1],
    "nonlinearity": ["linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu", "gelu", "", None, 3],
    "distribution": ["truncated_normal", "normal", "untruncated_normal", "uniform", "Uniform", "cauchy", None, 0],
    "layout": ["torch", "keras", "jax", "", None, 0],
    "activation": ["sigmoid", "softmax", "relu", "", None, 1],
}
axes = st.one_of(st.none(), st.integers(-6, 6), st.lists(st.integers(-4, 4), max_size=3).map(tuple),
                 st.sampled_from([True, 1.0, "0", (0, 0), [1, True]]))
seeds = st.one_of(st.none(), st.integers(0, 2**64 - 1), st.sampled_from(
    [0, 2**64 - 1, 2**32, np.uint64(2**63), np.int64(5), -1, 2**64, 1.5, True, np.bool_(False), "7", [1], NAN]))
streams = st.one_of(st.integers(0, 2**64 - 1), st.text(max_size=6), st.sampled_from(
    ["", "layer.0.weight", "\x00", "é", np.uint32(9), -1, 2**64, 2.5, None, b"x", True]))
generators = st.one_of(st.none(), st.integers(0, 99).map(fastinit.Generator), st.sampled_from([5, "g", True]))
dtype_kw = st.sampled_from([None, None, None, "float32", "bf16", "fp16", "float64", np.float32, ml_dtypes.bfloat16,
                            "int8", np.int32, "complex64", "nope", 3, True, object])
ints = st.one_of(st.integers(-3, 20), st.sampled_from([True, 1.5, "2", None, np.int64(2), 2**70]))

PARAM = {
    "a": numbers, "b": numbers, "mean": numbers, "std": numbers, "val": numbers, "value": numbers,
    "gain": numbers, "scale": numbers, "sparsity": st.one_of(numbers, st.floats(0, 1)), "k": ints, "groups": ints,
    "prior": probability, "seed": seeds, "stream": streams, "generator": generators, "dtype": dtype_kw,
    "in_axis": axes, "out_axis": axes, **{k: st.sampled_from(v) for k, v in STRINGS.items()},
}


# ---------------------------------------------------------------------------------------------------------------
# targets: numpy views of a larger garbage buffer, buffer-protocol objects, non-buffers

DTYPES = [np.float16, ml_dtypes.bfloat16, np.float32, np.float64, np.int8, np.int32, np.uint16, np.int64,
          np.complex64, np.complex128, np.bool_, np.longdouble, object, "U2", "V4"]
ARRAY_KINDS = ["C", "C", "C", "C", "F", "F", "strided", "reversed", "transposed", "offset", "0-d", "memmap", "readonly",
               "broadcast", "zero-stride", "overlap", "unaligned"]
BUFFER_KINDS = ["bytearray", "memoryview", "typed-memoryview", "strided-memoryview", "bytes", "bytes-memoryview",
                "array-f", "array-d", "array-i", "mmap"]
OTHER_KINDS = ["list", "None", "float", "str", "dict", "object"]
shapes = st.one_of(
    st.lists(st.integers(0, 6), min_size=1, max_size=4).map(tuple),
    st.sampled_from([(1,), (1, 1), (1, 300), (300, 1), (1, 1, 1, 70), (2, 1030), (0,), (0, 4), (3, 0, 2), (1025,)]),
)


class Target:
    """A target plus how to snapshot the memory it lives in and read back what was written."""

    def __init__(self, kind: str, shape: tuple, dtype):
        self.kind, self.shape = kind, shape
        self.dtype = np.dtype(dtype)
        self.base = None  # the numpy buffer the target's memory belongs to (or a bytearray / mmap)
        self.mask = None  # bytes of ``base`` covered by the target
        self.out = self._build()

    def _build(self):
        kind, shape, dt = self.kind, self.shape, self.dtype
        n = math.prod(shape)
        rng = np.random.default_rng(n)
        if kind in OTHER_KINDS:
            return {"list": [1.0, 2.0], "None": None, "float": 3.0, "str": "abc", "dict": {}, "object": object()}[kind]
        if kind in BUFFER_KINDS:
            nbytes = 4 * max(n, 1) if kind not in ("array-d",) else 8 * max(n, 1)
            raw = rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes()
            if kind == "bytes":
                return raw
            if kind == "bytes-memoryview":
                return memoryview(raw)
            if kind.startswith("array-"):
                self.base = array.array(kind[-1], raw[: nbytes - nbytes % array.array(kind[-1]).itemsize])
                return self.base
            if kind == "mmap":
                self.base = mmap.mmap(-1, nbytes)
                self.base[:] = raw
                return self.base
            self.base = bytearray(raw)
            mv = memoryview(self.base)
            return {"bytearray": self.base, "memoryview": mv, "typed-memoryview": mv.cast("f"),
                    "strided-memoryview": mv.cast("f")[::2]}[kind]
        if kind == "0-d":
            shape = self.shape = ()
        size = 2 * max(1, math.prod(2 * s for s in shape)) + 2
        if dt.hasobject:
            base = np.array([float(i) for i in range(size)], dtype=object)
        elif dt.kind in "UV":
            base = np.zeros(size, dt)
        else:
            base = np.zeros(size, dt)
            base.view(np.uint8)[:] = rng.integers(0, 256, base.nbytes, dtype=np.uint8)
        if kind == "memmap" and dt.hasobject:
            kind = self.kind = "C"  # a memory map of object pointers is not a thing
        if kind == "memmap":
            import tempfile

            f = tempfile.TemporaryFile()
            f.write(base.tobytes())
            f.flush()
            self._file = f
            base = np.memmap(f, dtype=dt, mode="r+", shape=base.shape)
        self.base = base
        view = self._carve(base, kind, shape)
        if view is not None and dt in FLOATS and kind not in ("unaligned", "readonly", "broadcast"):
            marker = np.zeros(base.shape, np.dtype(f"u{dt.itemsize}"))
            self._carve(marker, kind, shape)[...] = np.iinfo(marker.dtype).max
            self.mask = marker.view(np.uint8) != 0
        return view

    @staticmethod
    def _carve(base, kind, shape):
        n = math.prod(shape)
        c = base[:n].reshape(shape)
        if kind in ("C", "0-d", "memmap"):
            return c
        if kind == "F":
            return base[:n].reshape(shape, order="F")
        if kind == "strided":
            big = base[: math.prod(2 * s for s in shape)].reshape(tuple(2 * s for s in shape))
            return big[tuple(slice(None, None, 2) for _ in shape)]
        if kind == "reversed":
            return c[tuple(slice(None, None, -1) for _ in shape)]
        if kind == "transposed":
            return base[:n].reshape(shape[::-1]).T
        if kind == "offset":
            return base[1: n + 1].reshape(shape)
        if kind == "readonly":
            c.flags.writeable = False
            return c
        if kind == "broadcast":
            return np.broadcast_to(base[:1], shape)
        if kind in ("zero-stride", "overlap"):
            item = base.itemsize
            strides = tuple(0 if kind == "zero-stride" else item for _ in shape)
            return np.lib.stride_tricks.as_strided(base, shape, strides)
        if kind == "unaligned":
            if base.itemsize == 1 or base.dtype == object:
                return c
            raw = base.view(np.uint8)[1: 1 + n * base.itemsize]
            return raw.view(base.dtype).reshape(shape)
        raise AssertionError(kind)

    def snapshot(self) -> bytes | None:
        if self.base is None:
            return None
        if isinstance(self.base, np.ndarray) and self.base.dtype == object:
            return repr(self.base.tolist()).encode()
        return bytes(memoryview(self.base).cast("B")) if not isinstance(self.base, np.ndarray) else \
            np.asarray(self.base).tobytes()

    def written(self):
        """The target's values as a numpy array (after a successful call), for typed targets."""
        if isinstance(self.out, np.ndarray):
            return self.out
        if self.kind in ("typed-memoryview", "strided-memoryview", "array-f", "array-d"):
            return np.asarray(memoryview(self.out))
        return None


target_kinds = st.sampled_from(ARRAY_KINDS * 2 + BUFFER_KINDS + OTHER_KINDS)


# ---------------------------------------------------------------------------------------------------------------
# the checks

def _params_of(fn) -> dict:
    return {name: p for name, p in inspect.signature(fn).parameters.items()
            if not name.startswith("_") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def _names_an_argument(msg: str, names) -> bool:
    low = msg.lower()
    words = {w for name in names for w in ALIASES.get(name, (name,))}
    return any(re.search(rf"(?<![a-z_]){re.escape(w.lower())}(?![a-z_])", low) for w in words)


def _call(fn, args, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch-style warnings (zero-element, mean far from [a, b])
        warnings.simplefilter("error", RuntimeWarning)  # numpy overflow / invalid inside validation is a bug
        return fn(*args, **kw)


def _check_values(name: str, values: np.ndarray, kw: dict) -> None:
    """Postconditions of a successful fill, read in float64."""
    v = values.astype(np.float64)
    if name in ("constant_", "relu_bias_"):
        return
    assert np.isfinite(v).all(), f"{name} wrote non-finite values: {v[~np.isfinite(v)][:4]}"
    a, b = kw.get("a", 0.0 if name == "uniform_" else -2.0), kw.get("b", 1.0 if name == "uniform_" else 2.0)
    if name == "uniform_" and v.size:
        assert float(a) <= v.min() and v.max() < float(b), f"uniform_ outside [{a}, {b}): {v.min()}, {v.max()}"
    if name == "trunc_normal_" and v.size:
        assert float(a) <= v.min() and v.max() <= float(b), f"trunc_normal_ outside [{a}, {b}]: {v.min()}, {v.max()}"
    if name == "zeros_":
        assert not v.any()
    if name == "ones_":
        assert (v == 1).all()


def _deterministic(fn_params: dict, kw: dict) -> bool:
    seed = kw.get("seed")
    return "seed" not in fn_params or (isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)))


def run_in_place(name: str, target: Target, kw: dict, counter_key: str) -> BaseException | None:
    """One fuzzed in-place call with all invariants; returns the refusal (or None)."""
    fn = getattr(fastinit, name)
    before = target.snapshot()
    COUNT.add(counter_key)
    try:
        result = _call(fn, (target.out,), kw)
    except (TypeError, ValueError) as e:
        assert str(e), f"{name}: refusal without a message"
        assert _names_an_argument(str(e), ["out", *_params_of(fn)]), f"{name}: {e!r} names no argument"
        assert target.snapshot() == before, f"{name} raised {e!r} after writing"
        return e
    assert result is target.out
    COUNT.add("filled")
    values = target.written()
    if values is None:
        return None
    if values.dtype.kind in "ui":  # integer storage filled as the float dtype= names: 16-bit in place (float16 /
        dt = resolve_dtype(kw["dtype"])  # bfloat16), bytes (int8 / uint8, C-contiguous) as a flat array of it
        values = values.view(dt) if values.itemsize == 2 else values.reshape(-1).view(dt)
    assert values.dtype in FLOATS
    _check_values(name, values, kw)
    if target.mask is not None:  # nothing written outside the target's own elements
        after = np.frombuffer(target.snapshot(), np.uint8)
        assert np.array_equal(after[~target.mask], np.frombuffer(before, np.uint8)[~target.mask]), \
            f"{name} wrote outside the target"
    if _deterministic(_params_of(fn), kw):  # the same call on a fresh C-contiguous array: the same bytes
        fresh = np.empty(values.shape, values.dtype)
        COUNT.add("recheck")
        _call(fn, (fresh,), {k: v for k, v in kw.items() if k != "dtype"})
        assert fresh.tobytes() == np.ascontiguousarray(values).tobytes(), f"{name}: value depends on the layout"
    return None


@st.composite
def placements(draw, shape):
    """global_shape / offset: absent, valid (the target as a block of something bigger) or invalid."""
    choice = draw(st.sampled_from(["none", "none", "valid", "valid", "huge", "bad"]))
    if choice == "none":
        return {}
    if choice in ("valid", "huge"):
        extra = [draw(st.integers(0, 3)) for _ in shape]
        off = [draw(st.integers(0, e)) for e in extra]
        gshape = [s + e for s, e in zip(shape, extra)]
        if choice == "huge" and shape:  # a block past 2**32 (or 2**40) elements of the virtual tensor
            gshape[0] += draw(st.sampled_from([2**33, 2**41, 2**62 // max(1, math.prod(gshape[1:]))]))
            off[0] += gshape[0] - shape[0] - extra[0]
        return {"global_shape": tuple(gshape), "offset": tuple(off)}
    return draw(st.sampled_from([
        {"global_shape": tuple(s + 1 for s in shape), "offset": tuple(2 for _ in shape)},
        {"global_shape": shape + (3,)}, {"offset": tuple(0 for _ in shape)},
        {"global_shape": tuple(-1 for _ in shape)}, {"global_shape": tuple(True for _ in shape)},
        {"global_shape": (2**40,) * max(2, len(shape))}, {"global_shape": tuple(2**33 for _ in shape)},
        {"global_shape": shape, "offset": tuple(1.0 for _ in shape)}, {"global_shape": "abc"},
        {"global_shape": 7}, {"global_shape": None, "offset": None}, {"global_shape": shape, "offset": None},
    ]))


def _kw_strategy(names):
    return st.fixed_dictionaries({}, optional={n: PARAM[n] for n in names if n in PARAM})


@settings(max_examples=BUDGET["in_place"], **SETTINGS)
@given(data=st.data(), name=st.sampled_from(IN_PLACE), kind=target_kinds, shape=shapes,
       dtype=st.sampled_from(DTYPES + [np.float32, np.float16, ml_dtypes.bfloat16, np.float64] * 3))
def _fuzz_in_place(data, name, kind, shape, dtype):
    fn = getattr(fastinit, name)
    names = _params_of(fn)
    kw = data.draw(_kw_strategy(names))
    if "global_shape" in names:
        kw.update(data.draw(placements(shape if kind != "0-d" else ())))
    if name == "constant_" and "val" not in kw:
        kw["val"] = data.draw(numbers)
    run_in_place(name, Target(kind, shape, dtype), kw, "in_place")


def test_fuzz_every_in_place_initializer():
    """Random targets (dtypes, layouts, views, buffers, non-buffers) x random arguments: fill or clean refusal."""
    start = COUNT.calls.get("in_place", 0)
    _fuzz_in_place()
    assert COUNT.calls["in_place"] - start >= BUDGET["in_place"]


# ---------------------------------------------------------------------------------------------------------------
# single faults: one argument of a good call corrupted -> a refusal names that argument

GOOD = {
    "uniform_": dict(a=-1.0, b=2.0), "normal_": dict(mean=0.5, std=0.02),
    "trunc_normal_": dict(std=0.5, a=-1.0, b=1.0),
    "constant_": dict(val=0.25), "zeros_": {}, "ones_": {}, "eye_": {}, "dirac_": dict(groups=1),
    "orthogonal_": dict(gain=1.0), "delta_orthogonal_": dict(gain=1.0), "sparse_": dict(sparsity=0.5, std=0.01),
    "martens_sparse_": dict(k=2, std=1.0),
    "xavier_uniform_": dict(gain=1.0), "xavier_normal_": dict(gain=1.0),
    "kaiming_uniform_": dict(a=0.0, mode="fan_in", nonlinearity="leaky_relu"),
    "kaiming_normal_": dict(a=0.1, mode="fan_out", nonlinearity="relu"), "lecun_uniform_": {}, "lecun_normal_": {},
    "fan_in_uniform_": {}, "variance_scaling_": dict(scale=2.0, mode="fan_avg", distribution="truncated_normal"),
    "relu_bias_": dict(value=0.01), "prior_bias_": dict(prior=0.1, activation="sigmoid"),
}
GOOD_SHAPE = {"dirac_": (4, 4, 3, 3), "delta_orthogonal_": (6, 4, 3, 3)}
# a refusal may blame the argument a fault conflicts with (a >= b, a softmax prior that does not sum to 1, ...)
COUPLED = {"a": {"b"}, "b": {"a"}, "mean": {"std"}, "std": {"mean"}, "global_shape": {"offset"},
           "offset": {"global_shape"}, "activation": {"prior"}, "dtype": {"out"}, "out": {"k"}}
FAULT_TARGETS = ["C", "0-d", "readonly", "broadcast", "zero-stride", "overlap", "unaligned", "bytes", "bytearray",
                 "bytes-memoryview", "list", "None", "str", "object"]


@settings(max_examples=BUDGET["single_fault"], **SETTINGS)
@given(data=st.data(), name=st.sampled_from(IN_PLACE), dtype=st.sampled_from([np.float16, ml_dtypes.bfloat16,
                                                                               np.float32, np.float64]))
def _fuzz_single_fault(data, name, dtype):
    fn = getattr(fastinit, name)
    names = _params_of(fn)
    faultable = sorted(n for n in names if n != "out")
    arg = data.draw(st.sampled_from(["out", "out_dtype", "shape"] + faultable))
    kw = dict(GOOD[name])
    if "seed" in names:
        kw["seed"] = 11
    shape, kind = GOOD_SHAPE.get(name, (6, 5)), "C"
    if arg == "out":
        kind = data.draw(st.sampled_from(FAULT_TARGETS))
    elif arg == "out_dtype":
        dtype = data.draw(st.sampled_from([np.int8, np.int32, np.complex64, np.bool_, np.longdouble, object]))
    elif arg == "shape":
        shape = data.draw(st.sampled_from([(), (7,), (2, 3, 4), (1, 2, 3, 4, 5, 6), (0,), (0, 5)]))
    elif arg in ("global_shape", "offset"):
        kw.update(data.draw(placements(shape)))
        if arg == "offset" and "global_shape" not in kw:
            kw["global_shape"] = shape
    else:
        kw[arg] = data.draw(PARAM[arg])
    target = Target(kind, shape, dtype)
    err = run_in_place(name, target, kw, "single_fault")
    if err is not None:
        blame = {"out_dtype": "out", "shape": "out"}.get(arg, arg)
        allowed = {blame} | COUPLED.get(blame, set())
        assert _names_an_argument(str(err), allowed), f"{name}: fault in {arg!r} refused as {err!r}"


def test_fuzz_single_fault_names_the_argument():
    """A good call with exactly one argument corrupted is refused naming that argument (or filled correctly)."""
    start = COUNT.calls.get("single_fault", 0)
    _fuzz_single_fault()
    assert COUNT.calls["single_fault"] - start >= BUDGET["single_fault"]


# ---------------------------------------------------------------------------------------------------------------
# allocating twins

shape_args = st.one_of(
    st.lists(st.integers(0, 6), min_size=0, max_size=3).map(tuple),
    st.lists(st.integers(0, 5), min_size=1, max_size=3).map(lambda s: (tuple(s),)),
    st.lists(st.integers(0, 5), min_size=1, max_size=3).map(lambda s: (list(s),)),
    st.sampled_from([(-1,), (True, 3), (2.0, 3), (None,), ("3",), ((2, -3),), ((2, 3), 4), (np.int64(3), 2),
                     ((np.int32(2), 2),), ({2: 3},)]),
)


@settings(max_examples=BUDGET["allocating"], **SETTINGS)
@given(data=st.data(), name=st.sampled_from(ALLOCATING), shape=shape_args)
def _fuzz_allocating(data, name, shape):
    fn = getattr(fastinit, name)
    params = _params_of(fn)
    kw = data.draw(_kw_strategy(list(params) + ["seed", "stream", "generator"]))
    if name in ("relu_bias", "prior_bias"):
        shape = shape[:1] if name == "relu_bias" or data.draw(st.booleans()) else ()
    if name == "constant" and "val" not in kw:
        kw["val"] = data.draw(numbers)
    if name == "sparse" and "sparsity" not in kw:
        kw["sparsity"] = data.draw(PARAM["sparsity"])
    if name == "prior_bias" and not shape:
        kw.setdefault("prior", data.draw(probability))
    COUNT.add("allocating")
    try:
        result = _call(fn, shape, kw)
    except (TypeError, ValueError) as e:
        assert str(e) and _names_an_argument(str(e), ["shape", "out", *params, "seed", "stream", "generator"]), \
            f"{name}{shape}: {e!r} names no argument"
        return
    assert isinstance(result, np.ndarray) and result.dtype in FLOATS
    if name not in ("constant", "relu_bias", "prior_bias"):
        assert np.isfinite(result.astype(np.float64)).all(), f"{name} returned non-finite values"


def test_fuzz_every_allocating_twin():
    start = COUNT.calls.get("allocating", 0)
    _fuzz_allocating()
    assert COUNT.calls["allocating"] - start >= BUDGET["allocating"]


# ---------------------------------------------------------------------------------------------------------------
# the helpers the initializers build on: fans, gains, recommendations, seeding

@settings(max_examples=BUDGET["helpers"], **SETTINGS)
@given(which=st.sampled_from(["fans", "calculate_gain", "recommend", "manual_seed", "Generator"]),
       x=st.one_of(shape_args.map(lambda s: s[0] if len(s) == 1 else s), numbers, st.sampled_from(
           sum(STRINGS.values(), []))),
       y=st.one_of(numbers, st.sampled_from(sum(STRINGS.values(), []))), axes_=st.tuples(axes, axes))
def _fuzz_helpers(which, x, y, axes_):
    COUNT.add("helpers")
    calls = {
        "fans": lambda: fastinit.fans(x, y if isinstance(y, str) else "torch", in_axis=axes_[0], out_axis=axes_[1]),
        "calculate_gain": lambda: fastinit.calculate_gain(x, y),
        "recommend": lambda: fastinit.recommend(x, y),
        "manual_seed": lambda: fastinit.Generator(0).manual_seed(x),
        "Generator": lambda: fastinit.Generator(x).next_seed(),
    }
    names = {"fans": ["shape", "layout", "in_axis", "out_axis", "out", "mode"], "calculate_gain":
             ["nonlinearity", "param", "negative_slope"], "recommend": ["activation", "param", "negative_slope"],
             "manual_seed": ["seed"], "Generator": ["seed"]}[which]
    try:
        result = _call(calls[which], (), {})
    except (TypeError, ValueError) as e:
        assert _names_an_argument(str(e), names) or which == "fans" and "dimensions" in str(e), \
            f"{which}({x!r}, {y!r}): {e!r} names no argument"
        return
    if which == "calculate_gain":
        assert math.isfinite(result) and result >= 0


def test_fuzz_fans_gains_and_seeding():
    start = COUNT.calls.get("helpers", 0)
    _fuzz_helpers()
    assert COUNT.calls["helpers"] - start >= BUDGET["helpers"]


def test_fuzz_budget_is_at_least_ten_thousand():
    assert sum(BUDGET.values()) >= 10_000


def test_every_public_initializer_is_fuzzed():
    """New public initializers cannot escape fuzzing: every in-place one has a known-good call."""
    assert set(IN_PLACE) == set(GOOD)
    assert len(ALLOCATING) >= 20 and "glorot_uniform" in ALLOCATING and "prior_bias" in ALLOCATING
    assert all(callable(getattr(fastinit, n)) for n in IN_PLACE + ALLOCATING)


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    total = sum(v for k, v in COUNT.calls.items() if k != "recheck")
    ran_all = all(COUNT.calls.get(k, 0) >= v for k, v in BUDGET.items())
    if ran_all:
        assert total >= 10_000, f"only {total} fuzzed calls"


# ---------------------------------------------------------------------------------------------------------------
# docs/validation.md: its tables are executed, so the page cannot drift from the code

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "validation.md"


def _doc_rows(heading: str) -> list[list[str]]:
    """The rows (cells without backticks) of the first table after ``heading`` in docs/validation.md."""
    text = DOC.read_text(encoding="utf-8").split(heading, 1)[1]
    rows = []
    for line in text.splitlines()[1:]:
        if rows and not line.startswith("|"):
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([c.strip().strip("`") for c in line.strip().strip("|").split(" | ")])
    return rows[1:]  # without the header


def _doc_namespace() -> dict:
    rng = np.random.default_rng(0)
    ro = rng.standard_normal((6, 7)).astype(np.float32)
    ro.flags.writeable = False
    raw = np.zeros(40, np.uint8)
    ns = {name: getattr(fastinit, name) for name in fastinit.__all__}
    ns.update(np=np, array=array, ctypes=ctypes, nan=NAN, inf=INF, ro=ro, unaligned=raw[1:33].view(np.float32),
              overlap=np.lib.stride_tricks.as_strided(np.zeros(16, np.float32), (4, 4), (4, 4)),
              w=rng.standard_normal((6, 7)).astype(np.float16), w32=rng.standard_normal((6, 7)).astype(np.float32),
              w3=rng.standard_normal((2, 3, 4)).astype(np.float16),
              w4=rng.standard_normal((4, 2, 3, 3)).astype(np.float16))
    ns["before"] = ns["w"].tobytes()
    return ns


REFUSALS = _doc_rows("## Refused inputs")
EDGES = _doc_rows("## Accepted edge inputs")


@pytest.mark.parametrize("call, exc, excerpt", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_documented_refusals_are_what_the_library_does(call, exc, excerpt):
    ns = _doc_namespace()
    arrays = {k: v.tobytes() for k, v in ns.items() if isinstance(v, np.ndarray)}
    with pytest.raises({"TypeError": TypeError, "ValueError": ValueError}[exc]) as info:
        eval(call, ns)
    assert excerpt in str(info.value), f"{call}: message is {str(info.value)!r}"
    assert all(ns[k].tobytes() == b for k, b in arrays.items()), f"{call} wrote before refusing"


@pytest.mark.parametrize("call, holds, why", EDGES, ids=[r[0] for r in EDGES])
def test_documented_edge_outcomes_hold(call, holds, why):
    ns = _doc_namespace()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ns["r"] = eval(call, ns)
    assert eval(holds, ns), f"{call}: {holds} is false"


def test_the_documented_tables_cover_every_in_place_argument_kind():
    assert len(REFUSALS) >= 70 and len(EDGES) >= 8
    called = " ".join(r[0] for r in REFUSALS)
    for arg in ("seed=", "stream=", "generator=", "global_shape=", "offset=", "dtype=", "layout=", "in_axis=",
                "mode=", "nonlinearity=", "distribution=", "gain=", "groups=", "k="):
        assert arg in called, f"docs/validation.md shows no refusal of {arg}"
