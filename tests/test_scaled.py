"""Fan-scaled initializers: exact target law (KS and the std, n = 1,179,648) with the std/limit recomputed here."""
import math
import warnings
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest
from scipy import stats

import fastinit

P_MIN = 1e-4
CONV = (512, 256, 3, 3)  # torch layout (out, in, kh, kw): n = 1,179,648
FAN_IN, FAN_OUT = 256 * 9, 512 * 9  # 2304, 4608
Z = 6  # standard errors allowed on a sample std (fixed seeds: a failure is a defect, not bad luck)


def _draw(fn, shape=CONV, dtype=np.float32, **kw):
    out = np.empty(shape, dtype)
    fn(out, seed=4, **kw)
    return out.astype(np.float64).ravel()


def _std_ok(x, std, kappa):
    """The sample std within Z standard errors of ``std``; a sample std's standard error is
    sqrt((kappa - 1) / (4 n)) std for a law of kurtosis kappa (normal 3, uniform 1.8)."""
    assert abs(x.std() / std - 1) < Z * math.sqrt((kappa - 1) / (4 * x.size)), (x.std(), std)


def _uniform_ok(x, bound):
    assert x.min() >= -bound and x.max() < bound
    assert stats.kstest(x, "uniform", args=(-bound, 2 * bound)).pvalue > P_MIN
    _std_ok(x, bound / math.sqrt(3), 1.8)


def _normal_ok(x, std):
    assert stats.kstest(x, "norm", args=(0, std)).pvalue > P_MIN
    _std_ok(x, std, 3.0)


@pytest.mark.parametrize("gain", [1.0, 5 / 3, 0.25])
def test_xavier_uniform(gain):
    _uniform_ok(_draw(fastinit.xavier_uniform_, CONV, gain=gain), gain * math.sqrt(6 / (FAN_IN + FAN_OUT)))


@pytest.mark.parametrize("gain", [1.0, math.sqrt(2)])
def test_xavier_normal(gain):
    _normal_ok(_draw(fastinit.xavier_normal_, CONV, gain=gain), gain * math.sqrt(2 / (FAN_IN + FAN_OUT)))


@pytest.mark.parametrize("a, mode, nonlinearity", [
    (0, "fan_in", "leaky_relu"), (0, "fan_out", "relu"), (math.sqrt(5), "fan_in", "leaky_relu"),
    (0.2, "fan_in", "leaky_relu"), (0, "fan_in", "tanh")])
def test_kaiming_uniform(a, mode, nonlinearity):
    fan = FAN_IN if mode == "fan_in" else FAN_OUT
    gain = {"relu": math.sqrt(2), "tanh": 5 / 3}.get(nonlinearity, math.sqrt(2 / (1 + a * a)))
    _uniform_ok(_draw(fastinit.kaiming_uniform_, CONV, a=a, mode=mode, nonlinearity=nonlinearity),
                gain * math.sqrt(3 / fan))


@pytest.mark.parametrize("fn, draw", [("kaiming_uniform_", "uniform_"), ("kaiming_normal_", "normal_")])
def test_kaimings_defaults_are_torchs_he_init_bit_for_bit(fn, draw):
    """a=0, fan_in, leaky_relu: gain sqrt(2), so U(±sqrt(3) sqrt(2) / sqrt(fan_in)) and N(0, 2 / fan_in), with
    torch's arithmetic (std = gain / sqrt(fan), bound = sqrt(3) std: He et al. 2015)."""
    import inspect

    assert inspect.signature(getattr(fastinit, fn)).parameters["a"].default == 0
    std = math.sqrt(2.0) / math.sqrt(FAN_IN)
    w = getattr(fastinit, fn)(np.empty(CONV, np.float32), seed=3)
    args = (-math.sqrt(3.0) * std, math.sqrt(3.0) * std) if draw == "uniform_" else (0.0, std)
    assert w.tobytes() == getattr(fastinit, draw)(np.empty(CONV, np.float32), *args, seed=3).tobytes()


def test_untruncated_normal_is_jaxs_name_of_the_normal():
    w = np.empty((37, 41), np.float32)
    assert (fastinit.variance_scaling_(w.copy(), distribution="untruncated_normal", seed=2).tobytes()
            == fastinit.variance_scaling_(w.copy(), distribution="normal", seed=2).tobytes())


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16, np.float32])
def test_the_fan_rules_refuse_a_std_whose_values_pass_the_dtype(dtype):
    """A truncated normal reaches 2 std / 0.8796... (JAX's ±2σ truncation of the corrected std), a uniform of the
    same std spans twice sqrt(3) std: where that passes the dtype's range, the scale is refused by name (a uniform
    bound of 0.6 max spans 1.2 max: more than a float32 uniform's width holds)."""
    big = float(ml_dtypes.finfo(dtype).max)
    fan_in = 7
    scale = (0.46 * big) ** 2 * fan_in  # std 0.46 max: 2 std / 0.8796 = 1.05 max
    with pytest.raises(ValueError, match=r"^variance_scaling_: scale gives std .* beyond what"):
        fastinit.variance_scaling_(np.empty((6, fan_in), dtype), scale=scale, mode="fan_in")
    if dtype != np.float16:
        with pytest.raises(ValueError, match="^xavier_uniform_: gain gives std .* beyond what"):
            fastinit.xavier_uniform_(np.empty((6, 7), dtype), 0.6 * big / math.sqrt(6 / 13))


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming_normal(mode):
    fan = FAN_IN if mode == "fan_in" else FAN_OUT
    _normal_ok(_draw(fastinit.kaiming_normal_, CONV, mode=mode, nonlinearity="relu"), math.sqrt(2 / fan))


def test_lecun_and_classic_fan_in_uniform():
    _uniform_ok(_draw(fastinit.lecun_uniform_, CONV), math.sqrt(3 / FAN_IN))
    _normal_ok(_draw(fastinit.lecun_normal_, CONV), math.sqrt(1 / FAN_IN))
    _uniform_ok(_draw(fastinit.fan_in_uniform_, CONV), 1 / math.sqrt(FAN_IN))


@pytest.mark.parametrize("scale, mode, fan", [(1.0, "fan_in", FAN_IN), (2.0, "fan_out", FAN_OUT),
                                              (1.0, "fan_avg", (FAN_IN + FAN_OUT) / 2),
                                              (0.5, "fan_geo_avg", math.sqrt(FAN_IN * FAN_OUT))])
def test_variance_scaling_every_distribution(scale, mode, fan):
    var = scale / fan
    _uniform_ok(_draw(fastinit.variance_scaling_, CONV, scale=scale, mode=mode, distribution="uniform"),
                math.sqrt(3 * var))
    _normal_ok(_draw(fastinit.variance_scaling_, CONV, scale=scale, mode=mode, distribution="normal"), math.sqrt(var))
    x = _draw(fastinit.variance_scaling_, CONV, scale=scale, mode=mode)  # truncated_normal (the default)
    s = math.sqrt(var) / 0.87962566103423978
    assert stats.kstest(x, stats.truncnorm(-2, 2, scale=s).cdf).pvalue > P_MIN
    _std_ok(x, math.sqrt(var), stats.truncnorm(-2, 2).stats(moments="k") + 3)  # the correction restores the variance


def test_truncated_std_correction_constant():
    assert stats.truncnorm(-2, 2).std() == pytest.approx(fastinit.scaled.TRUNC_STD_CORRECTION, rel=1e-15)


def test_fans_come_from_global_shape_for_shards():
    full = np.empty((512, 256), np.float32)
    fastinit.kaiming_uniform_(full, seed=1, stream="w")
    shard = np.empty((512, 64), np.float32)
    fastinit.kaiming_uniform_(shard, seed=1, stream="w", global_shape=(512, 256), offset=(0, 128))
    assert np.array_equal(shard, full[:, 128:192])


def test_layout_keras_matches_transposed_torch_fans():
    x = _draw(fastinit.xavier_uniform_, (1200, 1000), layout="keras")  # (in, out)
    _uniform_ok(x, math.sqrt(6 / 2200))
    x = _draw(fastinit.kaiming_uniform_, (1200, 1000), layout="keras")  # fan_in 1200 (torch's reading: 1000)
    _uniform_ok(x, math.sqrt(6 / 1200))
    x = _draw(fastinit.kaiming_normal_, (3, 3, 256, 512), layout="keras", nonlinearity="relu")  # CONV, keras order
    _normal_ok(x, math.sqrt(2 / FAN_IN))


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16, np.float64])
def test_every_dtype(dtype):
    x = _draw(fastinit.xavier_uniform_, CONV, dtype=dtype)
    bound = math.sqrt(6 / (FAN_IN + FAN_OUT))
    assert x.min() >= -bound and x.max() < bound


@pytest.mark.parametrize("fn", [fastinit.kaiming_uniform_, fastinit.kaiming_normal_])
def test_kaiming_warning_on_0element_tensor(fn):
    out = np.empty((0, 5), np.float32)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert fn(out) is out
    for kw, msg in [({"mode": "fan_x"}, "Mode fan_x not supported"), ({"nonlinearity": "relux"}, "relux"),
                    ({"a": math.nan}, "negative slope")]:  # every argument checked, the mode as the others
        with pytest.raises(ValueError, match=msg):
            fn(out, **kw)


def test_gain_zero_gives_zeros_and_negative_gain_is_refused():
    out = np.ones((8, 8), np.float32)
    fastinit.xavier_uniform_(out, gain=0.0, seed=0)
    assert not out.any()
    out[:] = 3
    for bad, exc, match in [(-1.0, ValueError, "gain must be a finite number >= 0, got -1.0"),
                            (np.nan, ValueError, "gain must be finite, got nan"),
                            ("2", TypeError, "gain must be a real number, got str '2'"),
                            (True, TypeError, "gain must be a real number, got bool True")]:
        with pytest.raises(exc, match=match):
            fastinit.xavier_normal_(out, gain=bad)
    assert (out == 3).all()


@pytest.mark.parametrize("call, msg", [
    (lambda w: fastinit.kaiming_uniform_(w, mode="fan_avg"), "Mode fan_avg not supported"),
    (lambda w: fastinit.kaiming_normal_(w, nonlinearity="swish"), "Unsupported nonlinearity"),
    (lambda w: fastinit.variance_scaling_(w, mode="fan_sum"), "invalid mode"),
    (lambda w: fastinit.variance_scaling_(w, distribution="cauchy"), "invalid distribution"),
    (lambda w: fastinit.variance_scaling_(w, scale=-1.0), "scale must be a non-negative"),
    (lambda w: fastinit.xavier_uniform_(w[0]), "fewer than 2 dimensions"),
    (lambda w: fastinit.lecun_normal_(w, layout="flax"), "^lecun_normal_: layout must be one of"),
])
def test_bad_input_leaves_buffer_untouched(call, msg):
    out = np.full((6, 7), 3.0, np.float32)
    with pytest.raises(ValueError, match=msg):
        call(out)
    assert (out == 3).all()


@pytest.mark.parametrize("call, msg", [
    (lambda: fastinit.xavier_uniform_(np.empty((0,), np.float32)), "fewer than 2 dimensions"),  # torch's, too
    (lambda: fastinit.lecun_uniform_(np.empty((0,), np.float32)), "fewer than 2 dimensions"),
    (lambda: fastinit.lecun_normal_(np.empty((0, 3)), in_axis=5), "in_axis=5 is not a valid axis"),
    (lambda: fastinit.variance_scaling_(np.empty((3, 0)), mode="fan_sum"), "invalid mode")])
def test_an_empty_target_is_checked_as_a_full_one(call, msg):
    """(kaiming_*'s empty target returns before its fans, with torch's warning, as torch's does.)"""
    with pytest.raises(ValueError, match=msg):
        call()


def test_allocating_twins_shapes_dtypes_layouts():
    w = fastinit.glorot_uniform(784, 256, seed=0)
    assert w.shape == (784, 256) and w.dtype == np.float32
    assert np.abs(w).max() < math.sqrt(6 / (784 + 256))
    assert np.array_equal(w, fastinit.glorot_uniform((784, 256), seed=0))
    he = fastinit.he_normal(2000, 300, seed=1)
    _std_ok(he.astype(np.float64), math.sqrt(2 / 2000), 3.0)  # within 6 standard errors (was a flat 1 %: 11)
    assert abs(fastinit.he_uniform(400, 100, seed=2)).max() < math.sqrt(6 / 400)
    _std_ok(fastinit.lecun_normal(500, 500, seed=3).astype(np.float64), math.sqrt(1 / 500), 3.0)
    assert fastinit.glorot_normal(3, 3, 16, 32, dtype="bfloat16").dtype == ml_dtypes.bfloat16
    assert fastinit.normal(10, 4, std=0.02, dtype=np.float64).shape == (10, 4)
    assert (fastinit.zeros(5) == 0).all() and (fastinit.ones(2, 2, dtype="float16") == 1).all()
    assert fastinit.trunc_normal(1000, std=0.02, a=-0.04, b=0.04).max() <= 0.04
    assert fastinit.uniform(3, a=-1, b=1).shape == (3,)
    torch_like = fastinit.kaiming_uniform(256, 784, layout="torch", seed=0)
    assert np.abs(torch_like).max() < math.sqrt(6 / 784)
    with pytest.raises(ValueError, match="shape must be a tuple of non-negative ints"):
        fastinit.glorot_uniform(3, -1)
    with pytest.raises(TypeError, match=r"shape must be a tuple of ints, got \(3, 2.0\)"):  # NumPy's error type
        fastinit.glorot_uniform(3, 2.0)


def test_every_in_place_initializer_has_an_allocating_twin():
    in_place = [n for n in fastinit.__all__ if n.endswith("_")]
    assert [n for n in in_place if n[:-1] not in fastinit.__all__] == []
    d = fastinit.dirac(6, 3, 3, 3, groups=2, dtype="float64")
    assert np.array_equal(d, fastinit.dirac_(np.empty((6, 3, 3, 3)), 2))
    m = fastinit.martens_sparse(40, 7, k=5, std=0.5, seed=3)
    assert m.shape == (40, 7) and (np.count_nonzero(m, axis=0) == 5).all()
    assert np.array_equal(m, fastinit.martens_sparse_(np.empty((40, 7), np.float32), 5, 0.5, seed=3, layout="keras"))
    assert np.array_equal(fastinit.martens_sparse(7, 40, k=5, std=0.5, seed=3, layout="torch"), m.T)


def test_every_allocating_twin_takes_an_order_and_keeps_its_values():
    """order='F' (as np.empty / np.zeros / np.eye take it) allocates columns contiguous; each value is a function of
    its index, not of the memory order, so the array equals the C-order one (orthogonal's too: the same matrix);
    another order is refused naming the argument, before anything is allocated or drawn."""
    args = {"constant": {"val": 2.5}, "sparse": {"sparsity": 0.3, "seed": 3}, "dirac": {}, "eye": {}, "zeros": {},
            "ones": {}}
    shapes = {"dirac": (4, 2, 3, 3), "delta_orthogonal": (3, 3, 4, 6), "eye": (5, 7)}
    twins = [n for n in fastinit.alloc.__all__]
    assert len(twins) == 24
    for name in twins:
        twin, shape = getattr(fastinit, name), shapes.get(name, (6, 20, 12) if name != "sparse" and name !=
                                                              "martens_sparse" else (40, 12))
        kw = args.get(name, {"seed": 3, "stream": "w"})
        for dtype in ("float32", "bfloat16"):
            c, f = twin(shape, dtype=dtype, **kw), twin(shape, dtype=dtype, order="F", **kw)
            assert f.flags.f_contiguous and not f.flags.c_contiguous and c.flags.c_contiguous, name
            assert np.array_equal(c, f), name
        assert twin(shape, order="f", **kw).flags.f_contiguous  # (as NumPy: either case)
        state = fastinit.default_generator.__getstate__()
        for bad, error, said in [("A", ValueError, ", got 'A'"), ("K", ValueError, ", got 'K'"),
                                 ("x", ValueError, ", got 'x'"), (1, TypeError, r" \(a str\), got int 1"),
                                 (b"C", TypeError, r" \(a str\), got bytes b'C'")]:  # (NumPy's error types;
            # bytes, which NumPy also reads, refused)
            with pytest.raises(error, match=f"^{name}: order must be 'C' or 'F'{said}$"):
                twin(shape, order=bad, **{k: v for k, v in kw.items() if k != "seed"})
        assert fastinit.default_generator.__getstate__() == state
        assert twin(shape, order=None, **kw).flags.c_contiguous  # (as NumPy: None is 'C')


def test_seed_text_examples_work_verbatim():
    # NumPy-style examples of the seed texts: W = glorot_uniform(n_in, n_out); b = zeros(n_out)
    n_in, n_out = 784, 128
    W = fastinit.glorot_uniform(n_in, n_out)
    b = fastinit.zeros(n_out)
    x = np.random.default_rng(0).standard_normal((64, n_in)).astype(np.float32)
    h = np.maximum(x @ fastinit.he_normal(n_in, n_out) + b, 0)
    assert W.shape == (n_in, n_out) and h.shape == (64, n_out)
    assert 0.8 < (h**2).mean() / x.var() < 1.25  # He init keeps the ReLU layer's second moment at ~1


@pytest.mark.parametrize("name", ["normal", "glorot_uniform", "zeros"])
def test_allocating_twins_take_a_shape_as_one_list(name):
    kw = {} if name == "zeros" else {"seed": 1}
    got = getattr(fastinit, name)([30, 20], **kw)
    assert got.shape == (30, 20)
    assert np.array_equal(got, getattr(fastinit, name)((30, 20), **kw))
    assert np.array_equal(got, getattr(fastinit, name)(30, 20, **kw))


SHAPE = (3, 20, 12)  # (k, in, out) in keras layout
KW = {"seed": 4, "stream": "t"}


def _inplace(fill, *args, shape=SHAPE, **kw):
    return fill(np.empty(shape, np.float32), *args, **kw, **KW)


@pytest.mark.parametrize("twin, expected", [
    (lambda: fastinit.lecun_normal(SHAPE, **KW), lambda: _inplace(fastinit.lecun_normal_, layout="keras")),
    (lambda: fastinit.lecun_uniform(SHAPE, **KW), lambda: _inplace(fastinit.lecun_uniform_, layout="keras")),
    (lambda: fastinit.fan_in_uniform(SHAPE, **KW), lambda: _inplace(fastinit.fan_in_uniform_, layout="keras")),
    (lambda: fastinit.he_uniform(SHAPE, **KW),
     lambda: _inplace(fastinit.kaiming_uniform_, 0, "fan_in", "relu", layout="keras")),
    (lambda: fastinit.he_normal(SHAPE, **KW),
     lambda: _inplace(fastinit.kaiming_normal_, 0, "fan_in", "relu", layout="keras")),
    (lambda: fastinit.glorot_normal(SHAPE, **KW), lambda: _inplace(fastinit.xavier_normal_, 1.0, layout="keras")),
    (lambda: fastinit.variance_scaling(SHAPE, **KW),
     lambda: _inplace(fastinit.variance_scaling_, 1.0, "fan_in", "truncated_normal", layout="keras")),
    (lambda: fastinit.trunc_normal(400, **KW),
     lambda: _inplace(fastinit.trunc_normal_, 0.0, 1.0, -2.0, 2.0, shape=(400,))),
    (lambda: fastinit.orthogonal(SHAPE, **KW), lambda: _inplace(fastinit.orthogonal_, 1.0, layout="keras")),
    (lambda: fastinit.delta_orthogonal((3, 3, 4, 6), **KW),
     lambda: _inplace(fastinit.delta_orthogonal_, 1.0, shape=(3, 3, 4, 6), layout="keras")),
], ids=["lecun_normal", "lecun_uniform", "fan_in_uniform", "he_uniform", "he_normal", "glorot_normal",
        "variance_scaling", "trunc_normal", "orthogonal", "delta_orthogonal"])
def test_allocating_twins_default_to_the_documented_arguments(twin, expected):
    got, want = twin(), expected()
    assert got.dtype == np.float32 and got.shape == want.shape
    assert np.array_equal(got, want)


def test_he_uniform_is_not_glorot_uniform():
    assert not np.array_equal(fastinit.he_uniform(SHAPE, **KW), fastinit.glorot_uniform(SHAPE, **KW))


def test_numpy_scalar_slopes_are_numbers_like_gains():
    """calculate_gain takes only int and float (torch's rule); the initializers and recommend take NumPy scalars,
    0-d arrays, Fractions, as they take a gain (docs/initializers.md's numbers; a 0-d array and a Fraction were
    called "not a valid number")."""
    w = np.empty((64, 32), np.float32)
    a = fastinit.kaiming_uniform_(w.copy(), a=np.float32(0.2), seed=0)
    assert a.tobytes() == fastinit.kaiming_uniform_(w.copy(), a=float(np.float32(0.2)), seed=0).tobytes()
    for slope in (np.array(0.2), Fraction(1, 5), np.array(0.2, np.float32)):
        for f in (fastinit.kaiming_uniform_, fastinit.kaiming_normal_):
            assert f(w.copy(), a=slope, seed=0).tobytes() == f(w.copy(), a=float(slope), seed=0).tobytes()
        assert fastinit.recommend("leaky_relu", slope).gain == fastinit.calculate_gain("leaky_relu", float(slope))
    assert fastinit.kaiming_uniform_(w.copy(), a=np.array(3), seed=0).tobytes() == \
        fastinit.kaiming_uniform_(w.copy(), a=3, seed=0).tobytes()
    for bad in (True, np.bool_(True), np.array(True), "0.2", np.array([0.2])):
        with pytest.raises(ValueError, match="not a valid number"):  # torch's refusal, named by calculate_gain
            fastinit.kaiming_uniform_(w.copy(), a=bad, seed=0)
    assert fastinit.kaiming_normal_(w.copy(), a=np.int64(3), seed=0).tobytes() == \
        fastinit.kaiming_normal_(w.copy(), a=3, seed=0).tobytes()
    assert fastinit.recommend("leaky_relu", np.float64(0.2)).gain == fastinit.calculate_gain("leaky_relu", 0.2)
    with pytest.raises(ValueError, match="not a valid number"):
        fastinit.calculate_gain("leaky_relu", np.float32(0.2))  # as torch


def test_fan_in_uniform_is_kaiming_uniform_a_sqrt5_bit_for_bit():
    """torch's nn.Linear default, written once: `fastinit init`'s mlp-mnist (fan_in_uniform_) and materialize's
    Linear rule (kaiming_uniform_(a=sqrt(5))) wrote float64 weights 1 ulp apart for 37% of fans (128, 576, 2048)."""
    for fan_in in (128, 576, 784, 2048, 3, 1000):
        for dt in (np.float64, np.float32):
            a = fastinit.fan_in_uniform_(np.empty((10, fan_in), dt), seed=0, stream="fc.weight")
            b = fastinit.kaiming_uniform_(np.empty((10, fan_in), dt), a=math.sqrt(5), seed=0, stream="fc.weight")
            assert a.tobytes() == b.tobytes(), (fan_in, dt)


@pytest.mark.parametrize("twin, kw", [("glorot_uniform", {"rng": 0}), ("uniform", {"low": -1.0}),
                                      ("normal", {"scale": 0.1}), ("he_normal", {"mode": "fan_out", "foo": 1}),
                                      ("sparse", {"sparsity": 0.1, "density": 0.1})])
def test_allocating_twins_name_themselves_for_an_unknown_keyword(twin, kw):
    """NumPy habits (rng=, low=, scale=) were refused as 'xavier_uniform_() got an unexpected keyword argument':
    a function the caller never called."""
    with pytest.raises(TypeError, match=rf"^{twin}\(\) got an unexpected keyword argument '{list(kw)[-1]}'"):
        getattr(fastinit, twin)(8, 8, **kw)
    assert getattr(fastinit, twin).__name__ == twin


@pytest.mark.parametrize("call, exc, match", [
    (lambda: fastinit.he_normal(4, 3, layout="bad"), ValueError, r"^he_normal: layout must be one of"),
    (lambda: fastinit.glorot_uniform(4, 3, gain=-1), ValueError, r"^glorot_uniform: gain must be a finite number"),
    (lambda: fastinit.eye(2, 3, 4), ValueError, r"^eye: Only tensors with 2 dimensions"),
    (lambda: fastinit.normal(4, std=None), TypeError, r"^normal: std must be a real number, got NoneType"),
])
def test_allocating_twins_name_themselves_in_their_refusals(call, exc, match):
    """he_normal(4, 3, layout="bad") said "kaiming_normal_: layout must be ...": a function the caller never
    called (a review); the argument was named right."""
    with pytest.raises(exc, match=match):
        call()


def test_zero_d_numpy_arrays_are_numbers():
    """np.array(0.5) (what NumPy reductions of 0-d inputs give) is the number 0.5 for every numeric argument, as
    fastinit.torch and fastinit.jax take it (the core refused it: "std must be a real number, got ndarray")."""
    w = np.empty((6, 4), np.float32)
    assert np.array_equal(fastinit.normal_(w.copy(), np.array(1.0), np.array(0.5), seed=1),
                          fastinit.normal_(w.copy(), 1.0, 0.5, seed=1))
    assert np.array_equal(fastinit.xavier_uniform_(w.copy(), np.array(2.0), seed=1),
                          fastinit.xavier_uniform_(w.copy(), 2.0, seed=1))
    assert np.array_equal(fastinit.sparse_(w.copy(), np.array(0.5), seed=1), fastinit.sparse_(w.copy(), 0.5, seed=1))
    assert np.array_equal(fastinit.dirac_(np.empty((4, 2, 3), np.float32), np.array(2)),
                          fastinit.dirac_(np.empty((4, 2, 3), np.float32), 2))
    for inf in (np.array(np.inf), np.array(-np.inf)):  # infinite values are constants' to take, not overflows
        assert (fastinit.constant_(np.empty(4, np.float32), inf) == inf[()]).all()
        assert (fastinit.constant(3, val=inf) == inf[()]).all()
    for bad in (np.array([0.5]), np.array(True), np.array("0.5")):  # not 0-d numbers: still refused
        with pytest.raises(TypeError, match="std must be a real number"):
            fastinit.normal_(w, 0.0, bad, seed=1)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: fastinit.zeros(3, np.float32), TypeError, r"^shape must be a tuple of ints, got \(3, <class 'numpy\."
     r"float32'>\): fastinit\.zeros takes the sizes by position, and its parameters \(dtype=, order=\) are keywords$"),
    (lambda: fastinit.normal(3, 4, 0.1), TypeError, r"^shape must be a tuple of ints, got \(3, 4, 0\.1\): fastinit"),
    (lambda: fastinit.sparse(100, 50, 0.9), TypeError,  # its own keywords, sparsity= first (a review)
     r"fastinit\.sparse takes .* its parameters \(sparsity=, std=, dtype=, order=, seed=, \.\.\.\) are keywords$"),
    (lambda: fastinit.glorot_uniform(np.empty((300, 400))), TypeError,  # the array, not its 120,000 values
     r"^glorot_uniform: shape must be a tuple of ints, got \(ndarray of shape \(300, 400\) and dtype float64,\)$"),
    (lambda: fastinit.xavier_uniform_(1.0, np.empty((300, 400))), TypeError,
     r"^xavier_uniform_: gain must be a real number, got ndarray of shape \(300, 400\) and dtype float64$"),
    (lambda: fastinit.normal_(np.empty(3), seed="x" * 200), TypeError, r"got str 'x{76}\.\.\.$"),  # cut at 80
    (lambda: fastinit.he_normal(3, 4, out=np.empty((3, 4))), TypeError,  # (the in-place function's first argument)
     r"^he_normal\(\) got an unexpected keyword argument 'out' \(see help\(fastinit\.he_normal\)\)"),
])
def test_allocating_twins_refuse_a_parameter_passed_among_the_sizes(call, exc, match):
    """NumPy's normal(loc, scale) habit: normal(1000, 0, 1) was an empty (1000, 0, 1) array, silently."""
    with pytest.raises(exc, match=match):
        call()


def test_allocating_twins_make_empty_arrays_from_one_tuple_and_zeros_lazily():
    """normal(1000, 0, 1) (NumPy's loc, scale) warns, at the caller's line: an empty array; one tuple does not."""
    from fastinit._buffers import resolve_dtype

    for call, shape in [(lambda: fastinit.normal(1000, 0, 1), (1000, 0, 1)),
                        (lambda: fastinit.uniform(784, 256, 0, 1), (784, 256, 0, 1))]:
        with pytest.warns(UserWarning, match=r"^fastinit\.(normal|uniform)\(.*\) makes an empty array: a size of 0 "
                          r"among separate sizes; its parameters \((mean=, std=|a=, b=), dtype=, order=, seed=, "
                          r"\.\.\.\) are keywords.*as one tuple") as seen:
            assert call().shape == shape
        assert seen[0].filename == __file__
    with warnings.catch_warnings():  # one tuple; twins with no number to mistake for a size (np.eye(3, 0))
        warnings.simplefilter("error")
        assert fastinit.normal((1000, 0), seed=0).shape == (1000, 0) and fastinit.zeros((0, 3)).shape == (0, 3)
        assert fastinit.zeros(3, 0).shape == (3, 0) and fastinit.ones(0, 2).shape == (0, 2)
        assert fastinit.eye(3, 0).shape == (3, 0)
    for dtype in ("float16", "bfloat16", "float32", "float64"):
        z = fastinit.zeros(5, 3, dtype=dtype)
        assert z.shape == (5, 3) and z.dtype == resolve_dtype(dtype)
        assert not z.view(np.uint8).any()  # +0.0, as zeros_ writes


def test_allocating_twins_take_a_shape_as_numpy_does():
    """One tuple, list, range or 1-d integer array (np.empty(np.array([4, 5]))): the same array; a float array or a
    2-d one is refused naming the shape (a review found the 1-d array refused)."""
    want = fastinit.glorot_uniform((4, 5), seed=3)
    for shape in ([4, 5], np.array([4, 5]), np.array([4, 5], np.uint8), range(4, 6)):
        got = fastinit.glorot_uniform(shape, seed=3)
        assert got.shape == (4, 5) and np.array_equal(got, want), shape
    assert fastinit.zeros(range(3)).shape == (0, 1, 2) and fastinit.normal(np.array([], np.int64)).shape == ()
    for bad in (np.array([4.0, 5.0]), np.array([[4, 5]]), np.array([4, -5])):
        with pytest.raises((TypeError, ValueError), match=r"shape must be a tuple of (non-negative )?ints, got"):
            fastinit.normal(bad, seed=0)


def test_allocating_twins_keep_pythons_keyword_suggestion():
    """Python 3.13 adds ". Did you mean 'seed'?" to the message, which the renaming must not miss."""
    from fastinit import alloc

    def twin(*shape, **kw):
        raise TypeError("xavier_uniform_() got an unexpected keyword argument 'sed'. Did you mean 'seed'?")

    with pytest.raises(TypeError, match=r"^glorot_uniform\(\) got an unexpected keyword argument 'sed'\. Did you "):
        alloc._named(twin, "glorot_uniform")(3, 4, sed=0)
