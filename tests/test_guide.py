"""Biases and recommend(): the seed texts' guidance as code."""
import math
import re

import numpy as np
import pytest

import fastinit
from fastinit import guide, variance


def test_relu_bias_and_zero_bias():
    assert (fastinit.relu_bias(10) == np.float32(0.01)).all()
    b = fastinit.relu_bias_(np.zeros(4), 0.1)
    assert (b == 0.1).all()
    assert not fastinit.zeros(7).any()
    for bad, error, said in ((float("nan"), ValueError, "value must be finite"), (True, TypeError, "value must be a "
                                                                                 "real number, got bool")):
        with pytest.raises(error, match=f"^relu_bias_: {said}"):  # (it had filled NaN, or named constant_'s val)
            fastinit.relu_bias_(b, bad)
        with pytest.raises(error, match=f"^relu_bias: {said}"):
            fastinit.relu_bias(3, bad)
    assert (b == 0.1).all()
    h = np.full(3, 2.0, np.float16)
    for call, fn in ((lambda: fastinit.relu_bias_(h, 1e5), "relu_bias_"),
                     (lambda: fastinit.relu_bias(3, 1e5, dtype="float16"), "relu_bias")):
        with pytest.raises(ValueError, match=rf"^{fn}: value=100000.0 overflows float16"):  # (it said constant_'s
            call()  # name and its val=, 2026-12-07 (q))
    assert (h == 2).all()


def test_a_twins_refusal_names_the_twin_even_where_the_message_names_no_function():
    """torch's own messages ("Fan in and fan out can not be computed ...") had reached a NumPy user of
    glorot_uniform(784) without the function's name (a review, 2026-12-06 (f))."""
    for call, said in ((lambda: fastinit.glorot_uniform(784), "glorot_uniform: Fan in and fan out"),
                       (lambda: fastinit.he_normal(4, 4, mode="fan_avg"), "he_normal: Mode fan_avg not supported"),
                       (lambda: fastinit.kaiming_uniform(4, 4, nonlinearity=None),
                        "kaiming_uniform: Unsupported nonlinearity None"),
                       (lambda: fastinit.sparse(8, 3, sparsity=2, seed=0), "sparse: sparsity must lie in")):
        with pytest.raises(ValueError, match=f"^{said}"):
            call()


def test_sigmoid_prior_bias_makes_the_untrained_output_the_base_rate():
    b = fastinit.prior_bias(0.01, dtype="float64")
    assert b.shape == (1,) and 1 / (1 + np.exp(-b[0])) == pytest.approx(0.01, rel=1e-12)
    vec = fastinit.prior_bias([0.1, 0.5, 0.9], dtype="float64")
    assert vec == pytest.approx([math.log(1 / 9), 0.0, math.log(9)])
    assert fastinit.prior_bias(0.25, n=5).shape == (5,)
    out = np.zeros((2, 3))
    fastinit.prior_bias_(out, [0.2, 0.3, 0.4])
    assert np.allclose(1 / (1 + np.exp(-out)), [[0.2, 0.3, 0.4]] * 2)


def test_softmax_prior_bias():
    p = np.array([0.7, 0.2, 0.1])
    b = fastinit.prior_bias(p, activation="softmax", dtype="float64")
    assert np.allclose(np.exp(b) / np.exp(b).sum(), p)


@pytest.mark.parametrize("prior, kw, exc, msg", [
    (0.0, {}, ValueError, "strictly between 0 and 1"), (1.0, {}, ValueError, "strictly between"),
    ([0.5, np.nan], {}, ValueError, "strictly between"),
    ([0.5, 0.6], {"activation": "softmax"}, ValueError, "must sum to 1"),
    ([0.7, 0.295], {"activation": "softmax"}, ValueError, "must sum to 1"),  # 0.995: not a rounding error
    (0.5, {"activation": "tanh"}, ValueError, "'sigmoid' or 'softmax'"),
    ([0.1, [0.2, 0.3]], {}, ValueError, "a probability or a sequence"),  # ragged: a bad value
    ("0.3", {}, TypeError, "a probability or a sequence"),  # no text as a number: the wrong kind
    (["0.1", "0.2"], {}, TypeError, "a probability or a sequence"),
    (np.complex128(0.3 + 0.5j), {}, TypeError, "a probability or a sequence"),
    (None, {}, TypeError, "a probability or a sequence"), ([0.5, None], {}, TypeError, "a probability"),
    (10**400, {}, ValueError, "strictly between 0 and 1, got an int too large for float64"),  # not OverflowError
    ([0.5, 10**400], {}, ValueError, "an int too large for float64")])
def test_prior_bias_refusals(prior, kw, exc, msg):
    out = np.full(2, 9.0)
    with pytest.raises(exc, match=f"^prior_bias_: .*{msg}"):  # (named since 2026-12-07 (q))
        fastinit.prior_bias_(out, prior, **kw)
    assert (out == 9).all()
    with pytest.raises(exc, match=f"^prior_bias: .*{msg}"):
        fastinit.prior_bias(prior, **kw)


def test_prior_bias_count_is_checked_and_softmax_priors_sum_over_the_bias():
    b = fastinit.prior_bias(0.25, n=4, activation="softmax", dtype="float64")
    assert np.allclose(b, np.log(0.25)) and b.shape == (4,)
    out = np.full(3, 9.0)
    assert np.allclose(fastinit.prior_bias_(out, 1 / 3, "softmax"), np.log(1 / 3))
    with pytest.raises(ValueError, match="must sum to 1 over the bias"):
        fastinit.prior_bias(0.25, n=3, activation="softmax")
    with pytest.raises(ValueError, match="prior_bias: n must be a non-negative int, got -1"):
        fastinit.prior_bias(0.1, n=-1)
    for n in (2.5, "3", True):
        with pytest.raises(TypeError, match="prior_bias: n must be an int, got"):
            fastinit.prior_bias(0.1, n=n)
    with pytest.raises(ValueError, match="n=5 does not match the 2 priors"):
        fastinit.prior_bias([0.1, 0.2], n=5)
    assert fastinit.prior_bias([0.1, 0.2], n=2).shape == (2,)


def test_recommend_names_the_gain_it_uses():
    assert "calculate_gain('tanh') = 1.667" in fastinit.recommend("tanh").reason
    softsign = fastinit.recommend("softsign")
    assert softsign.gain == pytest.approx(5 / 3) and "calculate_gain('softsign')" not in softsign.reason
    assert "tanh's gain 1.667" in softsign.reason and "gain^2 * 2 / (fan_in + fan_out)" in softsign.reason


@pytest.mark.parametrize("activation, scheme, gain", [
    ("sigmoid", "xavier_uniform_", 1.0), ("tanh", "xavier_uniform_", 5 / 3), ("relu", "kaiming_normal_", math.sqrt(2)),
    ("gelu", "kaiming_normal_", math.sqrt(2)), ("elu", "kaiming_normal_", math.sqrt(2)),
    ("leaky_relu", "kaiming_normal_", math.sqrt(2 / (1 + 0.01**2))), ("selu", "lecun_normal_", 1.0),
    ("lstm", "orthogonal_", 1.0), ("GRU", "orthogonal_", 1.0), ("rnn", "orthogonal_", 1.0),
    ("softmax", "xavier_uniform_", 1.0), ("linear", "xavier_uniform_", 1.0), ("identity", "xavier_uniform_", 1.0),
    ("none", "xavier_uniform_", 1.0),
])
def test_recommend_follows_the_guideline_table(activation, scheme, gain):
    r = fastinit.recommend(activation)
    assert r.scheme == scheme and r.gain == pytest.approx(gain)
    assert r.reason
    w = np.empty((400, 300), np.float32)
    assert r.initializer(w, seed=0) is w


def test_recommended_initializer_has_the_right_variance():
    w = np.empty((2000, 500))
    fastinit.recommend("relu").initializer(w, seed=1)
    assert w.var() == pytest.approx(2 / 500, rel=0.01)
    fastinit.recommend("leaky_relu", 0.2).initializer(w, seed=1)
    assert w.var() == pytest.approx(2 / (1.04 * 500), rel=0.01)
    fastinit.recommend("tanh").initializer(w, seed=1)
    assert w.var() == pytest.approx((5 / 3) ** 2 * 2 / 2500, rel=0.01)
    q = np.empty((256, 256))
    fastinit.recommend("lstm").initializer(q, seed=1)
    assert np.allclose(q @ q.T, np.eye(256), atol=1e-10)


def test_recommend_unknown_activation():
    with pytest.raises(ValueError, match="unknown activation 'softmaxx'"):
        fastinit.recommend("softmaxx")


def test_prior_bias_takes_any_real_number_type():
    from decimal import Decimal
    from fractions import Fraction

    import ml_dtypes

    want = fastinit.prior_bias(0.25, dtype="float64")
    for p in (Fraction(1, 4), Decimal("0.25"), ml_dtypes.bfloat16(0.25), np.array([0.25], ml_dtypes.bfloat16),
              [Fraction(1, 4)]):
        assert np.array_equal(fastinit.prior_bias(p, dtype="float64").ravel(), want)


def test_recommend_takes_a_slope_only_where_the_gain_uses_one():
    assert fastinit.recommend("prelu", 0.25).gain == pytest.approx(math.sqrt(2 / (1 + 0.25**2)))
    assert fastinit.recommend("prelu").gain == pytest.approx(math.sqrt(2))
    assert fastinit.recommend("leaky_relu").initializer.keywords["a"] == 0.01
    for activation in ("relu", "tanh", "selu", "lstm"):
        with pytest.raises(ValueError, match=f"'{activation}' takes none, got param=0.2"):
            fastinit.recommend(activation, 0.2)
    assert fastinit.recommend("leaky_relu", 10**400).gain == 0.0  # as calculate_gain: its limit, no OverflowError
    for slope in (math.nan, math.inf):
        with pytest.raises(ValueError, match="param \\(the negative slope\\) must be finite"):
            fastinit.recommend("leaky_relu", slope)


def test_recommend_reads_fans_in_the_layout_asked_for():
    """The seed texts' W of shape (n_in, n_out) needs layout='keras': fan_in 784 for a (784, 10) W, where the
    default (torch's (out, in)) reads 10."""
    W = np.empty((784, 10))
    he = fastinit.recommend("relu", layout="keras").initializer(W, seed=0)
    assert he.std() == pytest.approx(math.sqrt(2 / 784), rel=0.05)
    torch_layout = fastinit.recommend("relu").initializer(np.empty((784, 10)), seed=0)
    assert torch_layout.std() == pytest.approx(math.sqrt(2 / 10), rel=0.05)
    x = fastinit.recommend("tanh", layout="keras").initializer(np.empty((784, 10)), seed=0)
    assert np.abs(x).max() <= 5 / 3 * math.sqrt(6 / 794)
    s = fastinit.recommend("selu", layout="keras").initializer(np.empty((3, 3, 16, 64)), seed=0)
    assert s.std() == pytest.approx(math.sqrt(1 / (3 * 3 * 16)), rel=0.05)  # (kh, kw, in, out): fan_in 144
    with pytest.raises(ValueError, match="layout must be one of"):
        fastinit.recommend("relu", layout="numpy")
    rnn = fastinit.recommend("lstm", layout="keras").initializer(np.empty((3, 4, 12)), seed=0)  # 12 x 12: keras
    assert np.allclose(rnn.reshape(12, 12).T @ rnn.reshape(12, 12), np.eye(12), atol=1e-12)  # (torch: 3 x 48)


def test_dtype_names_are_case_blind_and_float_is_refused_as_ambiguous():
    from fastinit._buffers import resolve_dtype

    for name, expected in [("BF16", "bfloat16"), ("FP32", "float32"), ("Float16", "float16"), ("double", "float64"),
                           ("f", "float32"), ("d", "float64")]:  # NumPy's one-letter codes, as NumPy reads them
        assert resolve_dtype(name).name == expected
    with pytest.raises(TypeError, match="'float' is float64 to NumPy and float32 to torch"):
        fastinit.normal(3, dtype="float")
    assert resolve_dtype(float) == np.float64  # the Python type is NumPy's float64, unambiguously


@pytest.mark.parametrize("activation, value", [("relu", 0.01), ("gelu", 0.0), ("leaky_relu", 0.0), ("tanh", 0.0),
                                               ("sigmoid", 0.0), ("selu", 0.0), ("lstm", 0.0), ("relu6", 0.0),
                                               ("prelu", 0.0)])
def test_recommended_bias_values(activation, value):
    b = np.full(5, 7.0, np.float32)
    assert fastinit.recommend(activation).bias(b) is b
    assert (b == np.float32(value)).all(), (activation, b)


@pytest.mark.parametrize("activation", sorted(guide._SMOOTH_RELU))
def test_recommend_states_what_he_init_does_to_a_smooth_relu_and_the_variance_tool_measures_it(activation):
    """The reason's Var(h) after 50 layers of width 512 is what `fastinit variance` measures (to 2x), and the
    relu-like reason's promise ("neither vanish nor explode") is not made where He's argument fails."""
    r = fastinit.recommend(activation)
    assert "neither vanish nor explode" not in r.reason
    end = float(re.search(r"Var\(h\) 2\.0 to ([0-9.e+-]+) in 50 layers of width 512", r.reason).group(1))
    measured = variance.run_variance(["recommended"], activation)["schemes"]["recommended"]["preact_var"][-1]
    assert end / 2 < measured < end * 2


def test_recommend_keeps_its_variance_promises_where_it_makes_them():
    for activation in ("relu", "leaky_relu"):
        assert "neither vanish nor explode" in fastinit.recommend(activation).reason
        assert variance.run_variance(["recommended"], activation)["schemes"]["recommended"]["forward"] == "stable"
    sigmoid = variance.run_variance(["recommended"], "sigmoid")["schemes"]["recommended"]
    assert "gradients vanish (x0.06 a layer" in fastinit.recommend("sigmoid").reason
    assert 0.05 < sigmoid["backward_ratio"] < 0.07


def test_recommend_takes_torchs_class_names():
    assert fastinit.recommend("LeakyReLU").activation == "leaky_relu"
    assert fastinit.recommend("LeakyReLU", 0.2).gain == pytest.approx(math.sqrt(2 / 1.04))
    assert fastinit.recommend("Hardswish").scheme == fastinit.recommend("CELU").scheme == "kaiming_normal_"


def test_recommend_for_gated_recurrent_weights_says_the_stack_is_orthogonal_not_each_gate():
    """A (4h, h) stack made orthogonal as a whole (Keras's way) leaves each gate's block contracting: the reason
    says so and how to fill the gates one by one (a review: 'singular values all 1' read as per gate)."""
    h = 32
    r = fastinit.recommend("lstm")
    w = r.initializer(np.empty((4 * h, h)), seed=0)
    assert np.allclose(np.linalg.svd(w, compute_uv=False), 1.0)
    assert np.linalg.svd(w[:h], compute_uv=False).max() < 0.99
    assert "each gate's (h, h) block is then not" in r.reason and "w[g*h:(g+1)*h]" in r.reason
    for g in range(4):
        r.initializer(w[g * h:(g + 1) * h], seed=0, stream=g)
        assert np.allclose(np.linalg.svd(w[g * h:(g + 1) * h], compute_uv=False), 1.0)
