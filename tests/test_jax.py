"""fastinit.jax: jax.nn.initializers' names, arguments and laws, with fastinit's values (eager, jit, vmap)."""
import inspect
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import fastinit

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
fj = pytest.importorskip("fastinit.jax")
JI = jax.nn.initializers

KEY = jax.random.key(7)

# factory arguments -> the fastinit fill with JAX's semantics, for the NumPy reference
REFERENCE = {
    "uniform": ((0.5,), lambda out, **kw: fastinit.uniform_(out, 0.0, 0.5, **kw)),
    "normal": ((0.02,), lambda out, **kw: fastinit.normal_(out, 0.0, 0.02, **kw)),
    "truncated_normal": ((0.02,), lambda out, **kw: fastinit.trunc_normal_(out, 0.0, 0.02, -0.04, 0.04, **kw)),
    "glorot_uniform": ((), lambda out, **kw: fastinit.variance_scaling_(out, 1.0, "fan_avg", "uniform",
                                                                        layout="keras", **kw)),
    "glorot_normal": ((), lambda out, **kw: fastinit.variance_scaling_(out, 1.0, "fan_avg", layout="keras", **kw)),
    "lecun_uniform": ((), lambda out, **kw: fastinit.variance_scaling_(out, 1.0, "fan_in", "uniform",
                                                                       layout="keras", **kw)),
    "lecun_normal": ((), lambda out, **kw: fastinit.variance_scaling_(out, 1.0, "fan_in", layout="keras", **kw)),
    "he_uniform": ((), lambda out, **kw: fastinit.variance_scaling_(out, 2.0, "fan_in", "uniform",
                                                                    layout="keras", **kw)),
    "he_normal": ((), lambda out, **kw: fastinit.variance_scaling_(out, 2.0, "fan_in", layout="keras", **kw)),
    "variance_scaling": ((0.5, "fan_geo_avg", "normal"),
                         lambda out, **kw: fastinit.variance_scaling_(out, 0.5, "fan_geo_avg", "normal",
                                                                      layout="keras", **kw)),
    "orthogonal": ((1.5,), lambda out, **kw: fastinit.orthogonal_(out, 1.5, layout="keras", **kw)),
}


def test_every_jax_initializer_is_here_with_its_arguments_and_defaults():
    public = sorted(n for n in dir(JI) if not n.startswith("_"))
    assert [n for n in public if n not in fj.__all__] == []
    assert isinstance(fj.normal(), fj.Initializer) and fj.Initializer is JI.Initializer  # (JAX's Protocol; a review)
    for name in public:
        if name == "Initializer":
            continue
        ours = inspect.signature(getattr(fj, name)).parameters
        theirs = inspect.signature(getattr(JI, name)).parameters
        assert [p for p in ours if p != "stream"] == list(theirs), name
        for p, param in theirs.items():
            assert ours[p].default == param.default, (name, p)


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
def test_values_are_the_fastinit_fill_seeded_by_the_key(name, dtype):
    args, fill = REFERENCE[name]
    shape = (24, 40)
    ref = fill(np.empty(shape, fastinit._buffers.resolve_dtype(dtype)), seed=7, stream="w")
    init = getattr(fj, name)(*args, stream="w")
    eager = init(KEY, shape, dtype)
    assert str(eager.dtype) == dtype and eager.shape == shape
    assert np.asarray(eager).tobytes() == ref.tobytes()
    jitted = jax.jit(init, static_argnums=(1, 2))(KEY, shape, dtype)
    assert np.asarray(jitted).tobytes() == ref.tobytes()


def test_float64_with_x64_and_float32_without_as_jax_does():
    x64 = jax.config.jax_enable_x64
    try:
        jax.config.update("jax_enable_x64", True)
        w = fj.he_uniform()(KEY, (8, 6), jnp.float64)
        ref = fastinit.variance_scaling_(np.empty((8, 6)), 2.0, "fan_in", "uniform", layout="keras", seed=7)
        assert w.dtype == jnp.float64 and np.array_equal(np.asarray(w), ref)
        assert fj.normal()(KEY, (3,)).dtype == jnp.float64  # JAX's default float with x64
        jax.config.update("jax_enable_x64", False)
        with pytest.warns(UserWarning, match="Explicitly requested dtype float64 is not available") as caught:
            assert fj.normal()(KEY, (3,), jnp.float64).dtype == jnp.float32  # JAX's warning, at the user's line
        assert caught[0].filename == __file__
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the default float, by None or float: no warning, as JAX
            assert fj.normal()(KEY, (3,)).dtype == fj.normal()(KEY, (3,), float).dtype == jnp.float32
        with pytest.warns(UserWarning, match="Explicitly requested dtype float64"):  # NumPy's name for float64
            assert fj.normal(dtype="float")(KEY, (3,)).dtype == jnp.float32
    finally:
        jax.config.update("jax_enable_x64", x64)


def test_keys_map_to_seeds_and_vmap_gives_each_key_its_own_values():
    assert fj.key_seed(jax.random.key(5)) == 5 == fj.key_seed(jax.random.PRNGKey(5))
    assert fj.key_seed(np.array([1, 2], np.uint32)) == 2**32 + 2
    rbg = jax.random.key(5, impl="rbg")  # four words: hashed
    assert 0 <= fj.key_seed(rbg) < 2**64 and fj.key_seed(rbg) != 5
    impl = jax.config.jax_default_prng_impl
    try:  # raw key data is the default implementation's, as JAX reads it: four words under rbg
        jax.config.update("jax_default_prng_impl", "rbg")
        assert fj.key_seed(jax.random.PRNGKey(5)) == fj.key_seed(rbg)
        with pytest.raises(TypeError, match=r"jax_default_prng_impl=rbg has shape \(4,\)"):
            fj.key_seed(np.array([1, 2], np.uint32))
    finally:
        jax.config.update("jax_default_prng_impl", impl)
    keys = jax.random.split(KEY, 4)
    batch = jax.vmap(lambda k: fj.normal(1.0)(k, (3, 5)))(keys)
    for k, got in zip(keys, batch):
        assert np.array_equal(np.asarray(got), fastinit.normal_(np.empty((3, 5), np.float32), seed=fj.key_seed(k)))
    assert len({np.asarray(b).tobytes() for b in batch}) == 4


def test_tracing_under_jit_reads_no_tracers_sharding(monkeypatch):
    """A jit tracer has no ``.sharding``: reading it raised an AttributeError whose message JAX builds by walking
    the whole jaxpr traced so far, so a function of n initializers traced in O(n²) (1600 in 31 s; 1.1 s now, a
    review).  fastinit must not read it; under a vmap inside jit neither."""
    sharding, reads = jax.core.Tracer.sharding, []

    def spy(self):
        reads.append(sys._getframe(1).f_code.co_filename)
        return sharding.fget(self)

    monkeypatch.setattr(jax.core.Tracer, "sharding", property(spy))
    init, keys = fj.normal(0.02), jax.random.split(KEY, 3)
    got = jax.jit(lambda k, ks: (init(k, (3, 4)), jax.vmap(lambda q: init(q, (2, 5)))(ks)))(KEY, keys)
    assert not [f for f in reads if f.startswith(os.path.dirname(fastinit.__file__))], reads
    assert np.array_equal(np.asarray(got[0]), fastinit.normal_(np.empty((3, 4), np.float32), 0.0, 0.02,
                                                               seed=fj.key_seed(KEY)))
    assert np.array_equal(np.asarray(got[1][2]), fastinit.normal_(np.empty((2, 5), np.float32), 0.0, 0.02,
                                                                  seed=fj.key_seed(keys[2])))


def test_one_initializer_keeps_its_callbacks_for_hundreds_of_shapes(monkeypatch):
    """JAX caches what it traced of a callback by the callback's identity: one initializer shared by a model's
    layers keeps one per shape and dtype, so an eager vmap over keys compiles once per shape (the cache held 64:
    past 64 shapes every call had compiled again, 14x slower; a review)."""
    init, keys, made = fj.normal(0.02), jax.random.split(KEY, 2), []
    shapes = [(2, 1 + i) for i in range(100)]
    for s in shapes:
        jax.vmap(lambda k: init(k, s))(keys)
    real = fj._per_key
    monkeypatch.setattr(fj, "_per_key", lambda *a, **kw: made.append(a[1]) or real(*a, **kw))
    for s in shapes:
        got = jax.vmap(lambda k: init(k, s))(keys)
    assert made == [] and got.shape == (2, 2, 100)
    assert np.array_equal(np.asarray(got[1]), fastinit.normal_(np.empty((2, 100), np.float32), 0.0, 0.02,
                                                                seed=fj.key_seed(keys[1])))


@pytest.mark.parametrize("probe", ["trace", "tracer"])
def test_a_key_captured_by_a_jitted_function_is_drawn_at_run_time_not_baked_in(probe, monkeypatch):
    if probe == "tracer":  # a JAX without the private trace context: the slower public probe
        monkeypatch.setattr(fj, "_jax_core", object())
    assert not fj._traced(jax.random.key_data(KEY))
    make = jax.jit(lambda: fj.he_normal()(KEY, (256, 128)))
    assert "pure_callback" in str(jax.make_jaxpr(make)()) or "callback" in str(make.lower().as_text())
    want = fastinit.variance_scaling_(np.empty((256, 128), np.float32), 2.0, "fan_in", layout="keras",
                                      seed=fj.key_seed(KEY))
    assert np.array_equal(np.asarray(make()), want)


def test_the_laws_are_jaxs():
    """Same law as jax.nn.initializers (not the same draws): bounds, and the std within 2% at 10^5 samples."""
    shape = (400, 250)
    for name, args in [("glorot_uniform", ()), ("glorot_normal", ()), ("he_normal", ()), ("lecun_uniform", ()),
                       ("uniform", (0.3,)), ("normal", (0.1,)), ("truncated_normal", (0.1, None, -1.0, 3.0)),
                       ("variance_scaling", (3.0, "fan_out", "uniform"))]:
        ours = np.asarray(getattr(fj, name)(*args)(KEY, shape), np.float64)
        theirs = np.asarray(getattr(JI, name)(*args)(KEY, shape), np.float64)
        assert ours.std() == pytest.approx(theirs.std(), rel=0.02), name
        assert ours.mean() == pytest.approx(theirs.mean(), abs=0.02 * theirs.std() + 1e-3 * abs(theirs.mean())), name
        if "uniform" in name or name == "truncated_normal":
            assert theirs.min() >= ours.min() - 0.01 * ours.std() and theirs.max() <= ours.max() + 0.01 * ours.std()
    embed = fj.variance_scaling(1.0, "fan_in", "normal", out_axis=0)  # Flax nn.Embed's default: axes overlap
    ours = np.asarray(embed(KEY, (2000, 64)), np.float64)
    theirs = np.asarray(JI.variance_scaling(1.0, "fan_in", "normal", out_axis=0)(KEY, (2000, 64)), np.float64)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.02) == pytest.approx(1 / 8, rel=0.02)
    q = np.asarray(fj.orthogonal(2.0, column_axis=0)(KEY, (6, 4, 5))).reshape(6, 20)  # rows orthogonal: 6 <= 20
    assert np.allclose(q @ q.T, 4.0 * np.eye(6), atol=1e-5)
    d = np.array(fj.delta_orthogonal()(KEY, (3, 3, 4, 6)))
    centre = d[1, 1]  # (in 4, out 6): orthonormal rows
    assert np.allclose(centre @ centre.T, np.eye(4), atol=1e-5)
    d[1, 1] = 0
    assert not d.any()


def test_delta_orthogonal_column_axis_1_is_the_last_axis_and_float_is_numpys_float64():
    shape = (3, 3, 4, 6)
    assert np.array_equal(fj.delta_orthogonal(column_axis=1)(KEY, shape), fj.delta_orthogonal()(KEY, shape))
    for axis in (0, -2):  # JAX's law over the first axis is the same (a transposed Haar matrix of orthonormal
        # columns: orthonormal rows); refused before 2026-12-06 (e)
        w = np.asarray(fj.delta_orthogonal(2.0, column_axis=axis)(KEY, shape), np.float64)
        assert np.allclose(w[1, 1] @ w[1, 1].T, 4 * np.eye(4), atol=1e-5) and not w[0].any() and not w[2].any()
    with warnings.catch_warnings():  # (without x64, JAX's warning that float64 becomes float32)
        warnings.simplefilter("ignore", UserWarning)
        a = fj.normal(dtype="float")(KEY, (5,))  # JAX reads "float" as NumPy's float64, then its default float
    default = jax.dtypes.canonicalize_dtype(np.float64)
    assert a.dtype == default and np.array_equal(a, fj.normal(dtype=default)(KEY, (5,)))


def test_refusals_come_before_tracing_and_name_the_argument():
    cases = [(lambda: fj.normal()(0, (3,)), TypeError, "key must be a JAX PRNG key"),
             (lambda: fj.normal()(KEY, (3.5,)), TypeError, "shape must be a tuple of ints"),
             (lambda: fj.normal()(jax.random.split(KEY, 2), (3,)), ValueError, "a single key, got a key array"),
             (lambda: fj.normal()(jnp.zeros(3, jnp.uint32), (3,)), TypeError, "key must be a JAX PRNG key"),
             # raw data of the default (threefry) implementation only, as JAX: four words are no key (a review: they
             # were hashed), and a batch of raw keys points at vmap (a review: it said "must be a JAX PRNG key")
             (lambda: fj.normal()(jnp.arange(4, dtype=jnp.uint32), (3,)), TypeError,
              r"of uint32 \(4,\) \(raw key data of jax_default_prng_impl=threefry2x32 has shape \(2,\)\)"),
             (lambda: fj.normal()(jax.random.split(jax.random.PRNGKey(0), 4), (3,)), ValueError,
              r"^key must be a single key, got 4 raw keys \(uint32 \(4, 2\)\); map over keys with jax.vmap"),
             (lambda: fj.uniform(-1.0)(KEY, (3,)), ValueError, "scale must be >= 0"),
             # a key given to the factory (normal(key, shape) for normal()(key, shape)), said (a review: normal's had
             # been "Cannot call abstract method item")
             *[(lambda f=f: getattr(fj, f)(KEY, (3, 4)), TypeError, rf"^{a} is a JAX PRNG key: fastinit.jax's "
                r"factories take .* \(key, shape\): normal\(\)\(key, shape\)")
               for f, a in [("normal", "stddev"), ("uniform", "scale"), ("truncated_normal", "stddev"),
                            ("glorot_uniform", "in_axis"), ("he_normal", "in_axis"), ("orthogonal", "scale"),
                            ("delta_orthogonal", "scale")]],
             *[(lambda f=f: getattr(fj, f)(jax.random.PRNGKey(0), (3, 4)), TypeError, rf"^{a} is a JAX PRNG key")
               for f, a in [("normal", "stddev"), ("orthogonal", "scale")]],  # a legacy uint32 key too
             (lambda: fj.normal()(KEY, (3,), jnp.int32), TypeError, "dtype must be one of"),
             (lambda: fj.truncated_normal(-1.0)(KEY, (3,)), ValueError, "stddev must be >= 0"),
             (lambda: fj.variance_scaling(1.0, "fan_x", "normal")(KEY, (3, 4)), ValueError, "invalid mode"),
             (lambda: fj.glorot_uniform()(KEY, (3,)), ValueError, "in_axis=-2 is not a valid axis for a 1-D shape"),
             (lambda: fj.orthogonal(column_axis=3)(KEY, (3, 4)), ValueError, "column_axis=3"),
             (lambda: fj.orthogonal()(KEY, ()), ValueError, "2 or more dimensions"),
             # a stream: checked by the factory, unprefixed (it had been refused at init, named by shape and dtype)
             (lambda: fj.normal(stream=-1), ValueError, "^stream must lie in"),
             (lambda: fj.orthogonal(stream=1.5), TypeError, "^stream must be an int in"),
             (lambda: fj.he_uniform(stream=b"w"), TypeError, "^stream must be an int in"),
             (lambda: jax.make_jaxpr(lambda k: fj.variance_scaling(1e80, "fan_in", "normal")(k, (4, 4)))(KEY),
              ValueError, "variance_scaling_"),
             # a dtype's overflow, known at the init call: the factory's call named first (a review, 2026-12-06 (g))
             (lambda: fj.normal(1e6)(KEY, (3,), jnp.float16), ValueError,
              r"^normal\(stddev=1000000.0\) for float16 \(3,\): normal_: .*beyond the largest finite float16"),
             (lambda: fj.orthogonal(1e6)(KEY, (3, 3), jnp.float16), ValueError,
              r"^orthogonal\(scale=1000000.0\) for float16 \(3, 3\): orthogonal_: \|gain\| = 1e\+06 overflows"),
             (lambda: fj.glorot_normal(in_axis=7)(KEY, (3, 4)), ValueError,  # (the call's axes named too)
              r"^variance_scaling\(1.0, 'fan_avg', 'truncated_normal', in_axis=7, out_axis=-1\) for float32"),
             # a traced factor: not named (the check runs with a factor of 1, not the one given)
             (lambda: jax.jit(lambda k, s: fj.orthogonal(s)(k, (3,)))(KEY, 2.0), ValueError,
              r"^orthogonal_: Only tensors with 2 or more dimensions"),
             (lambda: fj.delta_orthogonal()(KEY, (3, 6, 4)), ValueError, "in_channels"),
             (lambda: fj.glorot_normal(batch_axis=0), NotImplementedError, "batch_axis"),
             # JAX fails on None ('NoneType' object is not iterable); fastinit's fans read it as torch's default
             (lambda: fj.variance_scaling(1.0, "fan_in", "normal", in_axis=None), TypeError, "in_axis must be"),
             (lambda: fj.he_normal(out_axis=None), TypeError, "out_axis must be an int or a sequence"),
             (lambda: fj.delta_orthogonal(column_axis=2), ValueError,
              "^delta_orthogonal: column_axis=2 is not an axis of the \\(in, out\\) centre"),
             (lambda: fj.delta_orthogonal(column_axis=1.0), TypeError, "^delta_orthogonal: column_axis must be an int"),
             # refused at the factory (JAX refuses a bool axis at init: ValueError, a float: TypeError)
             (lambda: fj.orthogonal(column_axis=True), TypeError, "^orthogonal: column_axis must be an int"),
             (lambda: fj.orthogonal(column_axis=1.0), TypeError, "^orthogonal: column_axis must be an int"),
             (lambda: fj.orthogonal(column_axis=np.float32(1)), TypeError, "^orthogonal: column_axis must be an int"),
             # the factory's own names, not the fastinit initializer's ("normal_: std"; a review); an array, which
             # JAX broadcasts, is refused
             (lambda: fj.normal(True), TypeError, "^normal: stddev must be a real number, got bool"),
             (lambda: fj.normal(jnp.array([1.0, 2.0])), TypeError, "^normal: stddev must be a real number"),
             (lambda: fj.truncated_normal(0.1, lower="a"), TypeError, "^truncated_normal: lower must be a real"),
             (lambda: fj.orthogonal(True), TypeError, "^orthogonal: scale must be a real number")]
    for call, err, msg in cases:
        with pytest.raises(err, match=msg):
            call()
    with pytest.raises(TypeError, match="key must be"):
        jax.jit(lambda k: fj.normal()(k, (3,)))(jnp.zeros(2, jnp.int32))


def test_an_empty_batch_axis_of_any_sequence_type_is_no_batch_axis():
    """batch_axis=np.array([], int) raised 'truth value of an empty array is ambiguous' (a review)."""
    for empty in ((), [], np.array([], int), jnp.array([], int)):
        assert np.array_equal(fj.variance_scaling(1.0, "fan_in", "normal", batch_axis=empty)(KEY, (3, 4)),
                              fj.variance_scaling(1.0, "fan_in", "normal")(KEY, (3, 4)))
    with pytest.raises(NotImplementedError, match="batch_axis"):
        fj.lecun_normal(batch_axis=np.array([0]))


def test_concrete_jax_integers_are_sizes_as_in_jax():
    assert fj.normal()(KEY, (jnp.array(3), np.int64(2))).shape == (3, 2)
    with pytest.raises(TypeError, match="shape must be a tuple of ints"):
        fj.normal()(KEY, (jnp.array(3.0), 2))


def test_zeros_ones_constant_are_jaxs_and_out_sharding_places_the_result():
    assert np.array_equal(np.asarray(fj.zeros(KEY, (2, 3))), np.zeros((2, 3), np.float32))
    assert np.array_equal(np.asarray(fj.ones(KEY, (2,), jnp.bfloat16)), np.ones(2, np.float32))
    assert np.array_equal(np.asarray(fj.constant(-7)(KEY, (2,))), [-7.0, -7.0])
    device = jax.devices()[0]
    w = fj.normal()(KEY, (4, 4), out_sharding=jax.sharding.SingleDeviceSharding(device))
    assert w.devices() == {device}
    assert math.isfinite(float(w.sum()))


SHARDED = r'''
import os, sys
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
import jax, numpy as np
import fastinit.init, fastinit.scaled, fastinit.structured
from jax.sharding import NamedSharding, PartitionSpec as P

blocks = []  # the shape of every block a fill writes
for module, name in ((fastinit.init, "normal_"), (fastinit.scaled, "variance_scaling_"),
                     (fastinit.structured, "orthogonal_")):
    def spy(out, *a, _f=getattr(module, name), **kw):
        blocks.append(out.shape)
        return _f(out, *a, **kw)
    setattr(module, name, spy)
import fastinit.jax as fj

mesh = jax.make_mesh((2, 2), ("x", "y"))
key, shape = jax.random.key(11), (64, 48)
JITTED = ((P("x", "y"), False), (P(None, ("x", "y")), False), (P("y"), False), (P("y"), True), (P(), True))
for factory, whole in ((fj.normal(0.5), False), (fj.he_uniform(), False), (fj.orthogonal(2.0), True),
                       (fj.orthogonal(column_axis=0), True)):
    ref = np.asarray(factory(key, shape))
    for spec, part in ((P("x", "y"), (32, 24)), (P("y"), (32, 48)), (P(None, ("x", "y")), (64, 12)), (P(), shape)):
        jitted = ("jit", "context jit") if (spec, whole) in JITTED else ()  # a compile each: a few cases
        for how in ("eager", "context") + jitted:
            sharding = NamedSharding(mesh, spec)
            blocks.clear()
            if how == "eager":
                w = factory(key, shape, out_sharding=sharding)
            elif how == "jit":
                w = jax.jit(lambda k: factory(k, shape, out_sharding=sharding))(key)
            else:
                with jax.set_mesh(mesh):
                    w = (factory(key, shape, out_sharding=spec) if how == "context" else
                         jax.jit(lambda k: factory(k, shape, out_sharding=spec))(key))
            got = np.asarray(w)
            assert w.sharding.is_equivalent_to(sharding, 2), (how, spec, w.sharding)
            assert np.array_equal(got, ref), (how, spec)
            # each device's block is computed on its own: no block of the whole array for a split sharding
            if how in ("eager", "context"):  # each distinct block once (the whole matrix once)
                expect = [shape, shape[::-1]] if whole else [part]  # orthogonal(column_axis=0) fills (48, 64)
                assert blocks and set(blocks) <= set(expect), (how, spec, blocks)
                assert len(blocks) == (1 if whole else {shape: 1, (32, 24): 4, (32, 48): 2, (64, 12): 4}[part])
            else:  # each device's callback: its block (the whole matrix for orthogonal)
                expect = {shape, shape[::-1]} if whole else {part}
                assert len(blocks) == 4 and set(blocks) <= expect, (how, spec, blocks)
# under a mesh, out_sharding=None is replicated over it, as jax.nn.initializers make it
with jax.set_mesh(mesh):
    w = fj.glorot_normal()(key, shape)
    assert w.sharding.is_equivalent_to(NamedSharding(mesh, P()), 2)
    assert np.array_equal(np.asarray(w), np.asarray(fj.glorot_normal()(jax.random.key(11), shape, out_sharding=None)))
    blocks.clear()
    jw = jax.jit(lambda k: fj.glorot_normal()(k, shape))(key)
    assert np.array_equal(np.asarray(jw), np.asarray(w))
    assert sorted(blocks) == [shape] * 4, blocks  # each replica its own (no collective: see spmd below)
    try:
        fj.normal()(key, (5, 4), out_sharding=P("x"))
    except ValueError as e:
        assert "divide" in str(e) or "evenly" in str(e), e
    else:
        raise AssertionError("an uneven split was not refused")
# inside a shard_map body (manual axes) an initializer makes that device's block, as JAX's do
sm = jax.shard_map(lambda k: fj.normal()(k, (4, 6)), mesh=mesh, in_specs=P(), out_specs=P("x", "y"))
own = np.asarray(fj.normal()(key, (4, 6)))
assert np.array_equal(np.asarray(sm(key)), np.tile(own, (2, 2)))
with jax.set_mesh(mesh):  # a shard_map over some axes: JAX allows no callback there, refused by name
    partial = jax.shard_map(lambda k: fj.normal()(k, (4, 4)), in_specs=P(), out_specs=P("x"), axis_names={"x"})
    try:
        partial(key)
    except NotImplementedError as e:
        assert "only some mesh axes" in str(e), e
    else:
        raise AssertionError("a partially manual shard_map was not refused")
# the sharding's memory kind; a committed key's device; trailing None entries beyond the rank dropped
pinned = NamedSharding(mesh, P("x"), memory_kind="pinned_host")
assert fj.normal()(key, (8, 12), out_sharding=pinned).sharding.memory_kind == "pinned_host"
jpinned = jax.jit(lambda k: fj.normal()(k, (8, 12), out_sharding=pinned))(key)  # jitted too (a shard_map's
assert jpinned.sharding.memory_kind == "pinned_host"  # out_specs carry none)
assert np.array_equal(np.asarray(jpinned), np.asarray(fj.normal()(key, (8, 12))))
on3 = jax.device_put(key, jax.devices()[3])
assert fj.normal()(on3, (4, 4)).devices() == {jax.devices()[3]} == jax.nn.initializers.normal()(on3, (4, 4)).devices()
everywhere = jax.device_put(key, NamedSharding(mesh, P()))  # a key replicated over the mesh: the array too
for made in (fj.normal()(everywhere, (8, 4)), fj.orthogonal()(everywhere, (8, 4))):
    theirs = jax.nn.initializers.normal()(everywhere, (8, 4))
    assert made.devices() == theirs.devices() == set(jax.devices())
    assert made.committed and made.sharding.is_fully_replicated
assert np.array_equal(np.asarray(fj.normal()(everywhere, (8, 4))), np.asarray(fj.normal()(key, (8, 4))))
def eager(k, s):
    return fj.normal()(k, (8, 12), out_sharding=s)
for f in (eager, jax.jit(eager, static_argnums=1)):
    w = f(key, NamedSharding(mesh, P("x", None, None)))
    assert w.sharding.is_equivalent_to(NamedSharding(mesh, P("x")), 2)
    for bad, message in ((P("x", None, "y"), "3 entries for the 2 axes"), (P(P.UNCONSTRAINED), "UNCONSTRAINED")):
        try:
            f(key, NamedSharding(mesh, bad))
        except ValueError as e:
            assert message in str(e), e
        else:
            raise AssertionError(f"{bad} was not refused")
# an empty array under jit is a valid (empty) array
empty = jax.jit(lambda k: fj.normal()(k, (0, 4), out_sharding=NamedSharding(mesh, P(None, "y"))))(key)
assert np.asarray(empty).shape == (0, 4)
# vmap over keys under jit with a sharding
keys = jax.random.split(key, 3)
v = jax.jit(jax.vmap(lambda k: fj.normal()(k, shape, out_sharding=NamedSharding(mesh, P("x")))))(keys)
for i in range(3):
    assert np.array_equal(np.asarray(v[i]), np.asarray(fj.normal()(keys[i], shape)))
# vmap with spmd_axis_name spreads the keys over a mesh axis: each item keeps its own key's values
for init in (fj.normal(), fj.orthogonal()):
    def one_key(k, init=init):
        return init(k, (16, 8), out_sharding=P("y"))
    two = jax.random.split(key, 2)
    want = [np.asarray(init(k, (16, 8))) for k in two]
    with jax.set_mesh(mesh):
        for batched in (jax.jit(jax.vmap(one_key, spmd_axis_name="x")), jax.vmap(jax.jit(one_key), spmd_axis_name="x")):
            got = np.asarray(batched(two))
            assert all(np.array_equal(got[i], want[i]) for i in range(2))
# an eager vmap over keys on several devices, no mesh in context: usable values on one device (a review: JAX's
# callback had left them on one device with a sharding no operation takes)
two, pair = jax.random.split(key, 2), jax.make_mesh((2,), ("x",))
for spec in (P("x"), P()):
    spread = jax.device_put(two, NamedSharding(pair, spec))
    got = jax.vmap(lambda k: fj.normal()(k, (4, 6)))(spread)
    assert abs(float(got.sum()) - float(np.asarray(got).sum())) < 1e-4  # (JAX ops on it: a sum, an index, a +)
    assert np.array_equal(np.asarray(got[1] + 0), np.asarray(fj.normal()(two[1], (4, 6))))
    factors = jax.device_put(np.full(2, 0.5, np.float32), NamedSharding(pair, spec))  # a batched factor (a
    got = jax.vmap(lambda k, s: fj.normal(s)(k, (4, 6)))(spread, factors)  # second review)
    assert abs(float(got.sum()) - float(np.asarray(got).sum())) < 1e-4
    assert np.array_equal(np.asarray(got[1] + 0), np.asarray(fj.normal(0.5)(two[1], (4, 6))))
    # under jit: on the keys' mesh (JAX 0.10 gave the callback's result a {maximal device=0} sharding no operation
    # takes, a device_put of it too): over an Explicit mesh (make_mesh's) the batch keeps the keys' sharding, as
    # JAX's initializers do; over an Auto one it is replicated
    for on in (pair, jax.sharding.Mesh(np.array(jax.devices()[:2]), ("x",))):
        ks, fs = (jax.device_put(a, NamedSharding(on, spec)) for a in (two, np.full(2, 0.5, np.float32)))
        for got, law in ((jax.jit(jax.vmap(lambda k: fj.normal()(k, (4, 6))))(ks), fj.normal()),
                         (jax.jit(jax.vmap(lambda k, s: fj.normal(s)(k, (4, 6))))(ks, fs), fj.normal(0.5)),
                         (jax.jit(jax.vmap(jax.vmap(lambda k: fj.normal()(k, (4, 6)))))(ks[None]), fj.normal())):
            assert isinstance(got.sharding, NamedSharding) and got.sharding.mesh == on, got.sharding
            batch = P(*[None] * (got.ndim - 3), *spec) if on is pair else P()  # (the keys' axis: the last vmap's)
            assert got.sharding.is_equivalent_to(NamedSharding(on, batch), got.ndim), got.sharding
            assert abs(float(got.sum()) - float(np.asarray(got).sum())) < 1e-4
            assert np.array_equal(np.asarray(got + 0).reshape(2, 4, 6)[1], np.asarray(law(two[1], (4, 6))))
alone = jax.jit(lambda k: fj.normal()(k, (8, 4)))(everywhere)  # one key replicated over the mesh, jitted
assert alone.sharding.is_fully_replicated and alone.devices() == set(jax.devices())
assert np.array_equal(np.asarray(alone + 0), np.asarray(fj.normal()(key, (8, 4))))
# a whole-tensor initializer in 16 bits, alone and under vmap
for dt in ("bfloat16", "float16"):
    ortho = lambda k: fj.orthogonal()(k, (16, 8), dt, out_sharding=NamedSharding(mesh, P("y")))  # noqa: E731
    one = jax.jit(ortho)(key)
    assert np.asarray(one).tobytes() == np.asarray(fj.orthogonal()(key, (16, 8), dt)).tobytes()
    many = jax.jit(jax.vmap(ortho))(keys)
    for i in range(3):
        assert np.asarray(many[i]).tobytes() == np.asarray(fj.orthogonal()(keys[i], (16, 8), dt)).tobytes()
print("sharded ok")
'''


def test_out_sharding_fills_each_shard_alone_with_the_unsharded_values():
    """On four (host) devices: a NamedSharding or a PartitionSpec under jax.set_mesh, eager or jitted, gives the
    unsharded array bit for bit, each device's block filled on its own (orthogonal: the whole matrix, then
    its block); None under a mesh is replicated, as JAX's; an uneven split is refused."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    run = subprocess.run([sys.executable, "-c", SHARDED], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and "sharded ok" in run.stdout, run.stderr[-3000:]


def test_an_eager_vmap_over_keys_compiles_once():
    """One callback per batch (vmap_method="expand_dims"): the second eager vmap compiles nothing (JAX's
    "sequential" method mapped a new closure per trace, 85 ms a call here)."""
    compiled = []

    def listen(event, *_, **__):
        if event.endswith("backend_compile_duration"):
            compiled.append(event)

    keys, init = jax.random.split(KEY, (2, 3)), fj.normal()
    batch = jax.vmap(jax.vmap(lambda k: init(k, (8, 12))))(keys)
    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        again = jax.vmap(jax.vmap(lambda k: init(k, (8, 12))))(keys)
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)
    assert compiled == [] and np.array_equal(np.asarray(again), np.asarray(batch))
    assert np.array_equal(np.asarray(batch[1, 2]), np.asarray(init(keys[1, 2], (8, 12))))


def test_a_partition_spec_without_a_mesh_and_other_placements_are_refused_by_name():
    with pytest.raises(ValueError, match="needs a mesh"):
        fj.normal()(KEY, (4, 4), out_sharding=jax.sharding.PartitionSpec("x"))
    with pytest.raises(TypeError, match="out_sharding must be"):
        fj.normal()(KEY, (4, 4), out_sharding="x")
    gspmd = getattr(pytest.importorskip("jax._src.sharding_impls"), "GSPMDSharding", None)  # no public constructor
    if gspmd is not None:  # jit cannot lay out by it (JAX ignores it there): refused, as jax.nn.initializers do
        replicated = gspmd.get_replicated(jax.devices())
        assert fj.normal()(KEY, (4, 4), out_sharding=replicated).sharding == replicated  # eager: placed by it
        with pytest.raises(TypeError, match="under jit, out_sharding must be a NamedSharding"):
            jax.jit(lambda k: fj.normal()(k, (4, 4), out_sharding=replicated))(KEY)


def test_a_warning_is_given_once_per_call_at_the_users_line():
    f = fj.truncated_normal(1.0, lower=10.0, upper=12.0)
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("x",))
    with pytest.warns(UserWarning) as caught:
        jax.jit(lambda k: f(k, (64, 64)))(KEY).block_until_ready()  # warned at tracing, not again at run time
        f(KEY, (64, 64), out_sharding=jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("x")))
    assert [(str(w.message)[:26], w.filename) for w in caught] == [("mean is more than 2 std fr", __file__)] * 2
    tiny = fj.truncated_normal(1e-5, lower=1000.0002 / 1e-5, upper=np.inf)  # a spread below float32's resolution
    with pytest.warns(UserWarning) as caught:
        tiny(KEY, (2, 3))
    assert sorted(str(w.message)[:20] for w in caught) == ["mean is more than 2 ", "trunc_normal_: the d"]


def test_without_shard_map_a_named_sharding_under_jit_places_one_callbacks_array(monkeypatch):
    monkeypatch.setattr(fj, "_SHARD_MAP", None)  # a JAX before jax.shard_map
    sharding = jax.sharding.NamedSharding(jax.sharding.Mesh(np.array(jax.devices()[:1]), ("x",)),
                                          jax.sharding.PartitionSpec("x"))
    w = jax.jit(lambda k: fj.he_normal()(k, (8, 6), out_sharding=sharding))(KEY)
    assert w.sharding.is_equivalent_to(sharding, 2)
    assert np.array_equal(np.asarray(w), np.asarray(fj.he_normal()(KEY, (8, 6))))


def test_factories_take_concrete_jax_scalars_and_traced_factors():
    """jax.nn.initializers takes stddev=1/jnp.sqrt(d) or scale=jnp.array(2.0); so does fastinit.jax (their
    Python values, the same bits as that float).  A factor traced under jit (``normal(1 / jnp.sqrt(d))`` built in
    a jitted ``model.init``; refused before 2026-12-06 (e), a review) goes to the host with the key: the concrete
    factor's values bit for bit, in every dtype, under vmap over keys and over factors."""
    d = jnp.sqrt(512.0)
    for make, same in [(lambda: fj.normal(1 / d), lambda: fj.normal(float(1 / d))),
                       (lambda: fj.uniform(jnp.float32(0.5)), lambda: fj.uniform(0.5)),
                       (lambda: fj.truncated_normal(jnp.array(0.02), lower=jnp.array(-3.0)),
                        lambda: fj.truncated_normal(float(jnp.array(0.02)), lower=-3.0)),
                       (lambda: fj.variance_scaling(jnp.array(2.0), "fan_in", "normal"),
                        lambda: fj.variance_scaling(2.0, "fan_in", "normal")),
                       (lambda: fj.orthogonal(jnp.array(2.0)), lambda: fj.orthogonal(2.0))]:
        assert np.array_equal(make()(KEY, (8, 6)), same()(KEY, (8, 6)))

    factories = {"normal": fj.normal, "uniform": fj.uniform,
                 "truncated_normal": lambda s: fj.truncated_normal(s, lower=-1.5, upper=3.0),
                 "variance_scaling": lambda s: fj.variance_scaling(s, "fan_avg", "uniform"),
                 "he_like": lambda s: fj.variance_scaling(s, "fan_in", "truncated_normal"),
                 "orthogonal": fj.orthogonal, "delta_orthogonal": fj.delta_orthogonal}
    for name, make in factories.items():
        shape = (3, 3, 4, 6) if name == "delta_orthogonal" else (40, 24)
        for dt in (jnp.float32, jnp.bfloat16):
            for s in (0.0371, 1.5, 0.0):
                got = jax.jit(lambda k, f: make(f)(k, shape, dt))(KEY, jnp.float32(s))
                assert got.dtype == dt and np.array_equal(got, make(float(np.float32(s)))(KEY, shape, dt)), (name, s)
    keys, factors = jax.random.split(KEY, 3), jnp.array([0.1, 0.2, 0.3], jnp.float32)
    by_key = jax.jit(jax.vmap(lambda k, f: fj.normal(f)(k, (5,)), in_axes=(0, None)))(keys, factors[1])
    by_factor = jax.jit(jax.vmap(lambda f: fj.uniform(f)(KEY, (5,))))(factors)
    for i in range(3):
        assert np.array_equal(by_key[i], fj.normal(float(factors[1]))(keys[i], (5,)))
        assert np.array_equal(by_factor[i], fj.uniform(float(factors[i]))(KEY, (5,)))
    # a negative factor, which the factories refuse, as JAX multiplies it in: the same law (normal), the interval
    # mirrored (uniform), NaN (variance_scaling's square root); a NaN factor, NaNs
    neg = jax.jit(lambda f: (fj.normal(f)(KEY, (6,)), fj.uniform(f)(KEY, (6,)),
                             fj.variance_scaling(f, "fan_in", "normal")(KEY, (2, 3))))(jnp.float32(-0.5))
    assert np.array_equal(neg[0], fj.normal(0.5)(KEY, (6,))) and np.array_equal(neg[1], -fj.uniform(0.5)(KEY, (6,)))
    assert np.isnan(neg[2]).all() and np.isnan(jax.jit(lambda f: fj.normal(f)(KEY, (2,)))(jnp.nan)).all()

    with pytest.raises(TypeError, match=r"stddev is a traced float32 value of shape \(3,\); fastinit.jax takes a "
                                        "traced factor as a real 0-d value only"):
        jax.jit(lambda f: fj.normal(f)(KEY, (2, 2)))(jnp.ones(3))


def test_a_wrong_rank_is_reported_with_the_shape_asked_for():
    """The checks run on an emptied block of the shape; the message names the caller's shape, not that block."""
    with pytest.raises(ValueError, match=r"3-D, 4-D or 5-D conv kernel, got shape \(4, 6\)$"):
        fj.delta_orthogonal()(KEY, (4, 6))
    fid = pytest.importorskip("fastinit.dask")
    with pytest.raises(ValueError, match=r"got shape \(3, 3, 3, 3, 3, 4, 6\)$"):
        fid.from_initializer(fastinit.delta_orthogonal_, (3, 3, 3, 3, 3, 4, 6), chunks=-1, seed=0)


pytest.importorskip("jax")

UNEVEN = r'''
import os
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
import jax
from jax.sharding import NamedSharding, PartitionSpec as P
import fastinit.jax as fj

mesh = jax.make_mesh((2, 2), ("x", "y"))
key = jax.random.key(3)
for how in ("eager", "jit"):
    sharding = NamedSharding(mesh, P("x"))
    call = lambda k: fj.normal()(k, (5, 4), out_sharding=sharding)
    try:
        out = (jax.jit(call) if how == "jit" else call)(key)
    except ValueError as e:
        assert "splits axis 0 of shape (5, 4) into 2 parts, which does not divide 5" in str(e), (how, str(e))
    else:
        raise AssertionError(f"{how}: an uneven split was not refused; got shape {out.shape}")
print("uneven ok")
'''


def test_an_uneven_out_sharding_is_refused_by_fastinit_eager_and_jitted():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    run = subprocess.run([sys.executable, "-c", UNEVEN], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and "uneven ok" in run.stdout, run.stderr[-3000:]


KEY5 = jax.random.key(5)


def test_truncated_normal_takes_a_concrete_jax_upper_and_refuses_a_traced_one():
    got = fj.truncated_normal(0.02, upper=jnp.array(1.5))(KEY5, (16, 8))
    assert np.array_equal(np.asarray(got), np.asarray(fj.truncated_normal(0.02, upper=1.5)(KEY5, (16, 8))))

    @jax.jit
    def traced(u):
        return fj.truncated_normal(0.02, upper=u)(KEY5, (2, 2))

    with pytest.raises(TypeError, match="upper is a traced value; fastinit.jax needs concrete parameters"):
        traced(jnp.float32(1.5))


def test_zero_and_negative_factors_as_jax_multiplies_them():
    """JAX multiplies a standard draw by the factor: 0 gives zeros (uniform, truncated_normal, variance_scaling),
    a negative stddev of normal is the same law (the same values here); 0-d NumPy arrays are numbers."""
    for init in (fj.uniform(0.0), fj.truncated_normal(0.0), fj.variance_scaling(0.0, "fan_in", "truncated_normal"),
                 fj.variance_scaling(0.0, "fan_avg", "uniform"), JI.uniform(0.0)):
        assert np.asarray(init(KEY, (5, 3))).tobytes() == bytes(60)
    assert np.array_equal(fj.normal(-0.02)(KEY, (64,)), fj.normal(0.02)(KEY, (64,)))
    assert np.array_equal(fj.normal(np.asarray(0.02))(KEY, (64,)), fj.normal(0.02)(KEY, (64,)))
    assert np.array_equal(fj.orthogonal(np.asarray(2.0))(KEY, (6, 4)), fj.orthogonal(2.0)(KEY, (6, 4)))
    with pytest.raises(ValueError, match="invalid mode"):  # the other arguments are still checked
        fj.variance_scaling(0.0, "fan_x", "normal")(KEY, (3, 3))


def test_a_negative_factor_is_refused_under_the_factorys_own_argument_name():
    with pytest.raises(ValueError, match=r"^uniform: scale must be >= 0 \(0 gives zeros\), got -1.0"):
        fj.uniform(-1.0)
    with pytest.raises(ValueError, match=r"^truncated_normal: stddev must be >= 0"):
        fj.truncated_normal(-0.5)
    with pytest.raises(ValueError, match=r"^variance_scaling: scale must be >= 0"):  # named variance_scaling_
        fj.variance_scaling(-1.0, "fan_in", "normal")


@pytest.mark.parametrize("factory, fn, name", [
    (lambda v: fj.uniform(v), "uniform", "scale"), (lambda v: fj.normal(v), "normal", "stddev"),
    (lambda v: fj.truncated_normal(v), "truncated_normal", "stddev"),
    (lambda v: fj.orthogonal(v), "orthogonal", "scale"),
    (lambda v: fj.delta_orthogonal(v), "delta_orthogonal", "scale"),
    (lambda v: fj.variance_scaling(v, "fan_in", "normal"), "variance_scaling", "scale")])
def test_a_non_finite_factor_is_refused_under_the_factorys_own_argument_name(factory, fn, name):
    """They were refused at the call, naming the NumPy initializer's argument (``uniform_: b must be finite``)."""
    for v in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match=rf"^{fn}: {name} must be finite, got {v}"):
            factory(v)
    with pytest.raises(ValueError, match=rf"^{fn}: {name}=an int of 1329 bits overflows float64"):
        factory(10**400)  # was an OverflowError from math.isfinite


def test_truncated_normal_bounds_are_checked_under_their_own_names():
    with pytest.raises(ValueError, match=r"^truncated_normal: need lower < upper, got lower=2, upper=-2"):
        fj.truncated_normal(0.0, lower=2, upper=-2)
    with pytest.raises(ValueError, match="need lower < upper"):
        fj.truncated_normal(0.02, lower=1.0, upper=1.0)


def test_explicit_x64_dtypes_as_jax_reads_them():
    """``jax_explicit_x64_dtypes``: "error" refuses float64 without x64, "allow" gives it (eager, jitted, vmapped:
    the NumPy fill's values), "warn" (the default) float32 with JAX's warning (a review: always the last)."""
    if jax.config.jax_enable_x64 or not hasattr(jax.config, "jax_explicit_x64_dtypes"):
        pytest.skip("x64 on, or a JAX without jax_explicit_x64_dtypes")
    mode = jax.config.jax_explicit_x64_dtypes
    try:
        jax.config.update("jax_explicit_x64_dtypes", "error")
        with pytest.raises(ValueError, match="Explicitly requested dtype float64 is not available"):
            fj.glorot_uniform()(KEY, (3, 4), jnp.float64)
        jax.config.update("jax_explicit_x64_dtypes", "allow")
        want = fastinit.variance_scaling_(np.empty((3, 4)), 1.0, "fan_avg", "uniform", layout="keras",
                                          seed=fj.key_seed(KEY))
        for got in (fj.glorot_uniform()(KEY, (3, 4), jnp.float64),
                    jax.jit(lambda k: fj.glorot_uniform()(k, (3, 4), jnp.float64))(KEY),
                    jax.jit(jax.vmap(lambda k: fj.glorot_uniform()(k, (3, 4), jnp.float64)))(KEY[None])[0],
                    jax.jit(lambda k, s: fj.variance_scaling(s, "fan_avg", "uniform")(k, (3, 4), jnp.float64))(
                        KEY, jnp.float32(1.0))):
            assert got.dtype == np.float64 and np.array_equal(got, want)
        f = float(np.float32(0.01))  # (a traced factor: float32 without x64)
        want = fj.normal(f)(KEY, (), jnp.float64)  # a 0-d array, jitted, had come back 1-d from the callback (refused;
        assert want.shape == () and want.dtype == np.float64  # a review, 2026-12-06 (g))
        for got in (jax.jit(lambda k: fj.normal(f)(k, (), jnp.float64))(KEY),
                    jax.jit(lambda k, f: fj.normal(f)(k, (), jnp.float64))(KEY, 0.01)):
            assert got.shape == () and got.dtype == np.float64 and np.array_equal(got, want)
    finally:
        jax.config.update("jax_explicit_x64_dtypes", mode.name.lower())
    with pytest.warns(UserWarning, match="Explicitly requested dtype float64 is not available, and will be "):
        assert fj.normal()(KEY, (2,), jnp.float64).dtype == np.float32


def test_keys_of_any_shape_of_words():
    """A PRNG implementation whose keys are not 2 or 4 words (jax.extend.random.define_prng_impl): its words
    hashed, eagerly, jitted and vmapped alike (a review: (6,) keys failed in the callback, (2, 2) ones were taken
    for a batch)."""
    define = pytest.importorskip("jax.extend.random").define_prng_impl
    for key_shape in ((6,), (2, 2)):
        n = math.prod(key_shape)

        def seed(s, key_shape=key_shape, n=n):
            return (jnp.arange(n, dtype=jnp.uint32) + jnp.uint32(s)).reshape(key_shape)

        def split(k, shape, key_shape=key_shape, n=n):
            step = jnp.arange(1, 1 + math.prod(shape), dtype=jnp.uint32).reshape(*shape, *(1,) * len(key_shape))
            return k + step * jnp.uint32(n)

        impl = define(key_shape=key_shape, seed=seed, split=split, fold_in=lambda k, d: k + d,
                      random_bits=lambda k, bw, shape: jnp.zeros(shape, jnp.uint32), name=f"w{n}", tag=f"w{n}")
        key = jax.random.key(3, impl=impl)
        want = fastinit.normal_(np.empty((2, 3), np.float32), std=0.01, seed=fj.key_seed(key))
        assert fj.key_seed(key) == fastinit._seed.hash64(np.asarray(jax.random.key_data(key)).tobytes())
        assert np.array_equal(fj.normal()(key, (2, 3)), want)
        assert np.array_equal(jax.jit(lambda k: fj.normal()(k, (2, 3)))(key), want)
        keys = jax.random.split(key, 2)
        batch = jax.jit(jax.vmap(lambda k: fj.normal()(k, (2, 3))))(keys)
        assert all(np.array_equal(batch[i], fj.normal()(keys[i], (2, 3))) for i in range(2))
        assert not np.array_equal(batch[0], batch[1])


def test_a_traced_factor_is_differentiable():
    """jax.grad over an init scale (meta-learned init scales): the values are g(f) times the factor-1 draw (f, |f|,
    sqrt(f) for variance_scaling), the derivative g'(f) times it; jitted and vmapped alike (before: JAX's "Pure
    callbacks do not support JVP")."""
    weights = jnp.arange(48.0).reshape(8, 6)
    for make, slope in ((fj.normal, lambda s: np.sign(s)), (fj.uniform, lambda s: 1.0),
                        (lambda s: fj.truncated_normal(s, lower=-1.0), lambda s: 1.0),
                        (lambda s: fj.variance_scaling(s, "fan_in", "normal"), lambda s: 0.5 / np.sqrt(s)),
                        (fj.orthogonal, lambda s: 1.0)):
        def loss(s):
            return jnp.sum(make(s)(KEY, (8, 6)) * weights)

        for s in (0.7, -0.4) if make is fj.normal else (0.7,):
            want = slope(s) * float(jnp.sum(make(1.0)(KEY, (8, 6)) * weights))
            assert float(jax.grad(loss)(jnp.float32(s))) == pytest.approx(want, rel=1e-5)
            assert float(jax.jit(jax.grad(loss))(jnp.float32(s))) == pytest.approx(want, rel=1e-5)
    grads = jax.jit(jax.vmap(jax.grad(lambda s: fj.normal(s)(KEY, (3,)).sum())))(jnp.array([0.1, 0.2], jnp.float32))
    assert grads[0] == grads[1] == pytest.approx(float(fj.normal(1.0)(KEY, (3,)).sum()), rel=1e-6)


def test_axes_given_as_a_jax_array_as_jax_takes_them():
    """jax.nn.initializers.variance_scaling takes a 1-D JAX array of axes: so does fastinit.jax (its fans read it as a
    tuple), with the values of the tuple; a 0-d one JAX refuses too."""
    shape = (4, 6, 5)
    for make in (fj.glorot_uniform, fj.he_normal):
        ours = make(in_axis=jnp.array([0, 1]), out_axis=jnp.array([-1]))(KEY, shape)
        assert (np.asarray(ours) == np.asarray(make(in_axis=(0, 1), out_axis=(2,))(KEY, shape))).all()
        getattr(jax.nn.initializers, make.__name__)(in_axis=jnp.array([0, 1]), out_axis=jnp.array([-1]))(KEY, shape)
    with pytest.raises(TypeError, match="^in_axis must be an int or a tuple of ints"):
        fj.lecun_normal(in_axis=jnp.array(0))(KEY, shape)
