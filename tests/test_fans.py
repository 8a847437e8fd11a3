"""Fans and gains: the formulas of the seed texts, torch's values and errors."""
import math

import numpy as np
import pytest

import fastinit
from fastinit.fans import fan

try:
    import torch
    import torch.nn.init as tinit
except ImportError:
    torch = None

SHAPES = [(5, 3), (3, 5), (64, 3, 7), (64, 3, 7, 7), (16, 8, 3, 3, 3), (1, 1), (10, 1, 1, 1), (7, 9, 2, 1, 4)]


@pytest.mark.parametrize("shape", SHAPES)
def test_torch_layout_fans_follow_the_formula(shape):
    field = math.prod(shape[2:])
    assert fastinit.fans(shape) == (shape[1] * field, shape[0] * field)


@pytest.mark.parametrize("shape", SHAPES)
def test_keras_layout_fans_follow_the_formula(shape):
    field = math.prod(shape[:-2])
    assert fastinit.fans(shape, "keras") == (shape[-2] * field, shape[-1] * field)


@pytest.mark.parametrize("shape", SHAPES)
def test_same_kernel_in_both_layouts_has_the_same_fans(shape):
    keras_shape = tuple(shape[2:]) + (shape[1], shape[0])
    assert fastinit.fans(shape, "torch") == fastinit.fans(keras_shape, "keras")


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("shape", SHAPES)
def test_fans_equal_torch(shape):
    assert fastinit.fans(shape) == tinit._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_explicit_axes_and_seed_text_convention():
    assert fastinit.fans((784, 256), "keras") == (784, 256)
    assert fastinit.fans((3, 4, 5), in_axis=0, out_axis=2) == (12, 20)
    assert fastinit.fans((3, 4, 5, 6), in_axis=(0, 1), out_axis=-1) == (12 * 5, 6 * 5)
    assert fastinit.fans(np.empty((6, 2))) == (2, 6)
    # JAX's rule with explicit axes: they may overlap (Flax nn.Embed: in_axis=-2, out_axis=0), any rank >= 1
    assert fastinit.fans((1000, 16), in_axis=-2, out_axis=0) == (16, 16)
    assert fastinit.fans((3, 4, 5), in_axis=(0, 1), out_axis=1) == (15, 5)  # as jax _compute_fans
    assert fastinit.fans((4000,), in_axis=0, out_axis=()) == (4000, 1)
    with pytest.raises(ValueError, match="not a valid axis"):
        fastinit.fans((3, 4), in_axis=2)
    for twice in ((0, 0), (0, -3)):
        with pytest.raises(ValueError, match="in_axis.*names an axis twice"):
            fastinit.fans((3, 4, 5), in_axis=twice, out_axis=1)
    with pytest.raises(ValueError, match="layout must be one of"):
        fastinit.fans((3, 4), "jax")


@pytest.mark.parametrize("shape", [(), (5,)])
def test_fewer_than_2d_raises_torchs_error(shape):
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor with fewer than 2"):
        fastinit.fans(shape)


def test_fan_modes():
    assert fan(3, 12, "fan_in") == 3 and fan(3, 12, "fan_out") == 12
    assert fan(3, 12, "fan_avg") == 7.5 and fan(3, 12, "fan_geo_avg") == 6.0
    assert fan(3, 12, "FAN_IN") == 3
    with pytest.raises(ValueError, match="Mode fan_sum not supported"):
        fan(3, 12, "fan_sum")
    with pytest.raises(ValueError, match=r"Mode fan_avg not supported, please use one of \['fan_in', 'fan_out'\] "
                                         r"\(fan_avg: variance_scaling_\)"):  # (kaiming's modes: where the rest are)
        fan(3, 12, "FAN_AVG", ("fan_in", "fan_out"))  # lowered first, as torch's message
    with pytest.raises(ValueError, match=r"please use one of \['fan_in', 'fan_out'\]$"):
        fan(3, 12, "fan_sum", ("fan_in", "fan_out"))


GAINS = [*((name, None, 1) for name in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                                        "conv_transpose3d")), ("sigmoid", None, 1),
         ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
         ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", 0, math.sqrt(2)), ("leaky_relu", 3, math.sqrt(0.2)),
         ("selu", None, 0.75)]


@pytest.mark.parametrize("name, param, expected", GAINS)
def test_calculate_gain_values(name, param, expected):
    assert fastinit.calculate_gain(name, param) == pytest.approx(expected, rel=1e-15)
    if torch is not None:
        assert fastinit.calculate_gain(name, param) == tinit.calculate_gain(name, param)


def test_calculate_gain_of_float_slopes_is_torchs_to_the_bit():
    # torch squares with **, libm's pow: on glibc an ulp from slope * slope for these (a review)
    slopes = [0.5102, 0.39333, 0.41645, 0.54741, 0.55108, 0.76509, 0.79931, 0.81475, 0.01, 0.2, math.sqrt(5), 1e-300]
    for slope in slopes:
        assert fastinit.calculate_gain("leaky_relu", slope) == math.sqrt(2.0 / (1 + slope**2)), slope
        if torch is not None:
            assert fastinit.calculate_gain("leaky_relu", slope) == tinit.calculate_gain("leaky_relu", slope), slope
    assert fastinit.calculate_gain("leaky_relu", 1e200) == 0.0 and fastinit.calculate_gain("leaky_relu", -1e155) == 0.0


@pytest.mark.parametrize("param", [2**60 + 1, 10**153, 2**511, 2**512 - 1, 2**512, 10**200, 2**999, -(10**400)])
def test_calculate_gain_of_huge_int_slopes_is_torchs_or_zero(param):
    """Exact int arithmetic, rounded once, as torch; where torch overflows (OverflowError), gain 0."""
    g = fastinit.calculate_gain("leaky_relu", param)
    try:
        expected = math.sqrt(2.0 / (1 + param * param))
    except OverflowError:
        expected = 0.0
    assert g == expected
    assert (g == 0.0) == (abs(param) >= 2**512 - 1)  # 1 + (2**512 - 1)**2 rounds up to 2**1024
    if torch is not None and expected:
        assert g == tinit.calculate_gain("leaky_relu", param)


@pytest.mark.parametrize("param", [True, "0.2", [0.1], None.__class__])
def test_calculate_gain_leaky_relu_only_accepts_numbers(param):
    said = "; kaiming's a .* pass those by keyword" if isinstance(param, str) else "$"  # kaiming_normal_(w, "fan_in")
    with pytest.raises(ValueError, match=rf"not a valid number \(an int or a float\){said}"):
        fastinit.calculate_gain("leaky_relu", param)


@pytest.mark.parametrize("name", ["swish", "ReLU", "", 3])
def test_calculate_gain_only_accepts_valid_nonlinearities(name):
    with pytest.raises(ValueError, match=f"^Unsupported nonlinearity {name}; supported: linear, conv1d, .*, selu "
                                         r"\(fastinit.recommend also knows gelu, silu / swish"):  # torch's, then ours
        fastinit.calculate_gain(name)


def test_a_1d_shape_has_no_default_input_axis_in_either_layout():
    """JAX raises for a default in_axis=-2 on a 1-D shape; fastinit too, rather than wrapping -2 (or torch's 1)
    round to axis 0, and says the axis was a default, not the caller's."""
    for layout in ("torch", "keras"):
        with pytest.raises(ValueError, match=f"1-D shape \\(6,\\) has no default input axis in the '{layout}' "
                                             "layout: pass in_axis"):
            fastinit.fans((6,), layout, out_axis=0)
    assert fastinit.fans((6,), "keras", in_axis=0, out_axis=0) == (1, 1)
    with pytest.raises(ValueError, match=r"fewer than 1 dimension \(a 0-d shape\)"):  # said "2": 1-D has fans here
        fastinit.fans((), in_axis=0)
    with pytest.raises(ValueError, match=r"fewer than 1 dimension \(a 0-d shape\)"):
        fastinit.fans((), in_axis=())
    assert fastinit.fans((), in_axis=(), out_axis=[]) == (1, 1)  # JAX's fans of a 0-d shape with no axes (a review)
    assert fastinit.fans((3, 4, 5), in_axis=iter([0]), out_axis=iter([1])) == (15, 20)  # read once (a review: read
    # twice, an iterator gave (60, 60))
    for bad in (1.0, "a", None.__class__):  # a 0-d shape's axes of the wrong type: named (a fuzz: a raw TypeError)
        with pytest.raises(TypeError, match=r"^out_axis must be an int or a tuple of ints"):
            fastinit.fans((), in_axis=(), out_axis=bad)
        with pytest.raises(TypeError, match=r"in_axis must be an int or a tuple of ints"):
            fastinit.xavier_normal_(np.empty((), np.float32), in_axis=bad, seed=0)
    w = fastinit.variance_scaling_(np.empty((), np.float64), 4.0, "fan_in", "normal", in_axis=(), out_axis=(), seed=1)
    assert w == fastinit.normal_(np.empty((), np.float64), std=2.0, seed=1)


def test_axes_as_another_librarys_array_are_read_as_numpys():
    """JAX's variance_scaling takes a 1-D JAX array of axes (it iterates them): so do fastinit's fans, as they take a
    1-D NumPy one; a torch tensor too.  Floats, a 0-d array (JAX: not iterable) and a traced array stay refused."""
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    jax = pytest.importorskip("jax")
    for axes in (np.array([0, 1]), jnp.array([0, 1]), torch.tensor([0, 1]), jnp.array([-3, -2])):
        assert fastinit.fans((3, 4, 5), in_axis=axes, out_axis=jnp.array([2])) == (12, 5)
    for bad in (jnp.array([0.5]), jnp.array(0), torch.tensor(0), torch.tensor([1.0]),
                torch.tensor([0.0], requires_grad=True)):  # (np.asarray's RuntimeError: said as the others)
        with pytest.raises(TypeError, match="^in_axis must be an int or a tuple of ints"):
            fastinit.fans((3, 4, 5), in_axis=bad, out_axis=2)
    class Axis(int):  # an int or a list that also has __array__: read as before (a review)
        def __array__(self, dtype=None, copy=None):
            return np.array([1, 2])

    class Axes(list):
        def __array__(self, dtype=None, copy=None):
            return np.array([1])

    assert fastinit.fans((3, 4, 5), in_axis=Axis(0), out_axis=2) == (12, 20)
    assert fastinit.fans((3, 4, 5), in_axis=Axes([0, 1]), out_axis=2) == (12, 5)
    with pytest.raises(TypeError, match="^in_axis must be an int or a tuple of ints, got .*Tracer"):
        jax.jit(lambda ax: fastinit.fans((3, 4, 5), in_axis=ax, out_axis=2))(jnp.array([0]))


def test_two_sizes_instead_of_one_shape_are_named():
    """fans(784, 256) blamed 'fewer than 2 dimensions' (256 was the layout)."""
    with pytest.raises(TypeError, match=r"^fans takes one shape: fans\(\(784, 256\)\), not fans\(784, 256\)"):
        fastinit.fans(784, 256)


def test_one_axis_against_the_torch_layouts_default_is_refused_not_shared():
    """An (n_in, n_out) matrix given in_axis=0 alone: torch's default out_axis is 0 too, and sharing it would make
    fan_in 256 instead of 784 (a 1.7x wrong std): refused, before any write.  Keras's defaults are JAX's, which
    share an axis as JAX does (Flax's nn.Embed); both axes given may share one."""
    w = np.full((784, 256), 5.0, np.float32)
    for kw, other in ((dict(in_axis=0), "out_axis=0"), (dict(out_axis=1), "in_axis=1")):
        with pytest.raises(ValueError, match=f"overlaps the 'torch' layout's default {other} for shape"):
            fastinit.fans(w.shape, **kw)
        with pytest.raises(ValueError, match="overlaps the 'torch' layout's default"):
            fastinit.kaiming_normal_(w, **kw, seed=0)
    assert (w == 5).all()
    assert fastinit.fans(w.shape, in_axis=0, out_axis=1) == (784, 256)
    assert fastinit.fans(w.shape, in_axis=1) == fastinit.fans(w.shape, out_axis=0) == (256, 784)  # the defaults
    assert fastinit.fans(w.shape, "keras", out_axis=0) == (256, 256)  # JAX: in_axis=-2 is axis 0 too
    assert fastinit.fans(w.shape, in_axis=0, out_axis=0) == (256, 256)  # asked for: numel / 784 each


def test_kaiming_on_an_empty_tensor_still_checks_layout_and_axes():
    """torch computes no fans for an empty tensor (a warning, no error), but fastinit's own arguments are checked."""
    for kw, exc in ((dict(layout="jax"), ValueError), (dict(in_axis=7), ValueError), (dict(in_axis=(0, 0)), ValueError),
                    (dict(out_axis=1.5), TypeError)):
        with pytest.raises(exc):
            fastinit.kaiming_uniform_(np.empty((0, 3), np.float32), **kw)
    with pytest.warns(UserWarning, match="zero-element"):
        fastinit.kaiming_normal_(np.empty((0,), np.float32), seed=0)  # 1-D: no fans needed, as torch
