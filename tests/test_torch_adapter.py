"""fastinit.torch behaves like torch.nn.init: values in place, identity, errors, warnings, seeding."""
import importlib.util
import inspect
import math
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest
from scipy import stats

torch = pytest.importorskip("torch")
import torch.nn.init as tinit  # noqa: E402

import fastinit  # noqa: E402
import fastinit.torch as finit  # noqa: E402

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
P_MIN = 1e-4


def _f64(t):
    return t.detach().to(torch.float64).numpy().ravel()


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_function_returns_the_same_tensor_filled_in_place(dtype):
    calls = [
        lambda t: finit.uniform_(t, -1, 1), lambda t: finit.normal_(t, 0, 0.02), lambda t: finit.trunc_normal_(t),
        lambda t: finit.constant_(t, 0.5), finit.ones_, finit.zeros_, finit.xavier_uniform_, finit.xavier_normal_,
        finit.kaiming_uniform_, finit.kaiming_normal_, finit.orthogonal_, finit.lecun_uniform_, finit.lecun_normal_,
        finit.variance_scaling_,
    ]
    for call in calls:
        t = torch.full((64, 32), 123.0, dtype=dtype)
        ptr = t.data_ptr()
        assert call(t) is t
        assert t.data_ptr() == ptr and t.dtype == dtype
        assert not (t == 123).any()


def test_non_contiguous_tensors_are_filled_in_place():
    base = torch.full((40, 60), 7.0)
    view = base.t()[::2]  # non-contiguous
    finit.normal_(view, seed=1)
    assert (base[:, 1::2] == 7).all()  # untouched columns
    expect = finit.normal_(torch.empty(view.shape), seed=1)
    assert torch.equal(view, expect)


def test_no_autograd_history_and_version_bump():
    w = torch.empty(30, 20, requires_grad=True)
    v = w._version
    out = finit.kaiming_uniform_(w)
    assert out is w and w.requires_grad and w.grad_fn is None and w.is_leaf
    assert w._version > v
    (w * 2).sum().backward()
    assert torch.equal(w.grad, torch.full_like(w, 2.0))


@pytest.mark.parametrize("name, shape, args", [
    ("trunc_normal_", (3, 4), ()), ("dirac_", (4, 3, 3), ()), ("orthogonal_", (3, 4), ()), ("sparse_", (3, 4), (0.5,)),
    ("uniform_", (3, 4), ()), ("kaiming_normal_", (3, 4), ()), ("eye_", (3, 4), ()), ("constant_", (3, 4), (0.5,))])
def test_version_bumped_where_torchs_is(name, shape, args):
    """Where torch.nn.init returns before writing (a meta tensor to trunc_normal_, dirac_, orthogonal_ and sparse_; an
    empty one to orthogonal_), the version counter is left as it was (autograd's in-place check reads it); where
    torch writes, it moves."""
    for t in (torch.empty(shape, device="meta"), torch.empty((0,) + shape[1:])):
        mine, theirs = t.clone(), t.clone()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (kaiming's on an empty tensor, both libraries')
            getattr(finit, name)(mine, *args)
            getattr(tinit, name)(theirs, *args)
        assert (mine._version == 0) == (theirs._version == 0), (name, t.device, t.shape, theirs._version)


def test_manual_seed_and_generator_give_the_same_values():
    torch.manual_seed(42)
    a = finit.kaiming_normal_(torch.empty(100, 50))
    b = finit.kaiming_normal_(torch.empty(100, 50), generator=torch.Generator().manual_seed(42))
    assert torch.equal(a, b)
    torch.manual_seed(42)
    assert torch.equal(a, finit.kaiming_normal_(torch.empty(100, 50)))
    assert not torch.equal(a, finit.kaiming_normal_(torch.empty(100, 50)))  # the generator advanced


def test_explicit_seed_and_shard_keywords():
    full = finit.xavier_uniform_(torch.empty(128, 64), seed=3, stream="layer.w")
    shard = finit.xavier_uniform_(torch.empty(32, 64), seed=3, stream="layer.w", global_shape=(128, 64),
                                  offset=(64, 0))
    assert torch.equal(shard, full[64:96])


@pytest.mark.parametrize("dtype", DTYPES)
def test_uniform_and_normal_laws(dtype):
    x = _f64(finit.uniform_(torch.empty(1000, 1000, dtype=dtype), -2.0, 3.0))
    assert x.min() >= -2 and x.max() < 3
    if dtype in (torch.float32, torch.float64):
        assert stats.kstest(x, "uniform", args=(-2, 5)).pvalue > P_MIN
        z = _f64(finit.normal_(torch.empty(1000, 1000, dtype=dtype), 1.0, 2.0))
        assert stats.kstest(z, "norm", args=(1, 2)).pvalue > P_MIN


@pytest.mark.parametrize("shape", [(300, 200), (64, 16, 3, 3)])
def test_xavier_and_kaiming_match_torchs_std_and_bounds(shape):
    t = torch.empty(shape)
    fan_in, fan_out = tinit._calculate_fan_in_and_fan_out(t)
    x = _f64(finit.xavier_uniform_(t, gain=2.0))
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert stats.kstest(x, "uniform", args=(-bound, 2 * bound)).pvalue > P_MIN
    x = _f64(finit.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"))
    assert stats.kstest(x, "norm", args=(0, math.sqrt(2 / fan_out))).pvalue > P_MIN
    x = _f64(finit.kaiming_uniform_(t, a=math.sqrt(5)))  # nn.Linear's default
    assert abs(x).max() <= 1 / math.sqrt(fan_in)


@pytest.mark.parametrize("name", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"])
def test_errors_on_inputs_smaller_than_2d_match_torch(name):
    for fn in (getattr(finit, name), getattr(tinit, name)):
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            fn(torch.empty(5))


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_warning_on_0element_tensor(name):
    t = torch.empty(0, 3)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert getattr(finit, name)(t) is t
    # fastinit's fan keywords, as for a tensor with elements (an empty one said "check_placement() got an
    # unexpected keyword argument 'layout'"; a review)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert getattr(finit, name)(t, layout="keras", in_axis=None, seed=1) is t
    with pytest.raises(ValueError, match=f"{name}: layout must be one of"):
        getattr(finit, name)(t, layout="bogus")
    for target in (t, torch.empty(2, 3)):
        with pytest.raises(TypeError, match=f"^{name}\\(\\) got an unexpected keyword argument 'bogus'"):
            getattr(finit, name)(target, bogus=1)
    import fastinit

    keras = getattr(finit, name)(torch.empty(2, 3), layout="keras", seed=4)  # fan_in 2, not torch's 3
    assert np.array_equal(keras.numpy(), getattr(fastinit, name)(np.empty((2, 3), np.float32), layout="keras", seed=4))


def test_same_errors_as_torch():
    t = torch.empty(4, 4)
    with pytest.raises(RuntimeError, match="uniform_ expects to return a \\[from, to\\) range"):
        finit.uniform_(t, 2, 1)
    for std in (-1, math.nan):  # (NaN: torch's RuntimeError too, not a ValueError: a review, 2026-12-06 (f))
        with pytest.raises(RuntimeError, match="normal expects std >= 0.0"):
            finit.normal_(t, 0, std)
        with pytest.raises(RuntimeError, match="normal expects std >= 0.0"):
            torch.nn.init.normal_(t, 0, std)
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        finit.kaiming_uniform_(t, mode="fan_avg")
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        finit.kaiming_normal_(t, nonlinearity="swish")
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        finit.eye_(torch.empty(3))
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        finit.dirac_(torch.empty(3, 3))
    with pytest.raises(TypeError, match="supported dtypes are float16, bfloat16"):
        finit.normal_(torch.empty(3, dtype=torch.int32))
    assert finit.calculate_gain("leaky_relu", 0.3) == tinit.calculate_gain("leaky_relu", 0.3)


def test_uniform_with_equal_bounds_fills_the_value_like_torch():
    t = finit.uniform_(torch.empty(5), 0.5, 0.5)
    assert (t == 0.5).all()
    assert (finit.uniform_(torch.empty(2, dtype=torch.float16), 65504.0, 65504.0) == 65504).all()  # range's edge
    assert (finit.uniform_(torch.empty(2), 3.4028234663852886e38, 3.4028234663852886e38) > 3e38).all()
    state = torch.random.get_rng_state()
    t = torch.zeros(3)  # every other argument is still checked, before any write
    for kw, err in [(dict(seed=-5), ValueError), (dict(global_shape=(5,), offset=(4,)), ValueError),
                    (dict(stream=1.5), TypeError)]:
        with pytest.raises(err):
            finit.uniform_(t, 1.0, 1.0, **kw)
        assert (t == 0).all()
    with pytest.raises(TypeError, match="int64"):  # torch: not implemented for Long; fastinit's samplers: TypeError
        finit.uniform_(torch.zeros(3, dtype=torch.int64), 2, 2)
    with pytest.raises(TypeError, match="torch.Tensor"):
        finit.uniform_([0.0, 0.0], 1.0, 1.0)
    with pytest.raises(ValueError, match="must be finite"):  # torch: "from and to must be finite"
        finit.uniform_(t, math.inf, math.inf)
    with pytest.raises(TypeError, match="argument 'generator' must be torch.Generator, not str"):
        finit.uniform_(t, 1.0, 1.0, generator="g")
    assert torch.equal(state, torch.random.get_rng_state())


def test_zero_dim_tensor_arguments_are_taken_like_torch():
    def same(f, *args, **kw):
        return torch.equal(f(torch.empty(4, 6), *args, seed=3, **kw),
                           f(torch.empty(4, 6), *[float(a) for a in args], seed=3,
                             **{k: float(v) for k, v in kw.items()}))
    x = torch.tensor
    assert same(finit.normal_, std=x(0.02)) and same(finit.uniform_, x(-1.0), x(2.0))
    assert same(finit.trunc_normal_, x(0.0), x(1.0), x(-1.0), x(1.0)) and same(finit.xavier_uniform_, x(2.0))
    assert same(finit.kaiming_normal_, x(0.1)) and same(finit.orthogonal_, x(2.0))
    assert same(finit.sparse_, x(0.5), x(0.1)) and same(finit.variance_scaling_, x(2.0))
    assert (finit.constant_(torch.empty(3), x(0.25)) == 0.25).all()
    assert torch.equal(finit.dirac_(torch.empty(4, 2, 3), x(2)), tinit.dirac_(torch.empty(4, 2, 3), 2))


def test_one_element_tensor_arguments_are_taken_where_torchs_arithmetic_takes_them():
    """torch's orthogonal_ multiplies by its gain, sparse_ takes ceil(sparsity * rows), dirac_ divides by groups:
    a one-element tensor of any shape works there (a review); its other numbers go to Tensor.normal_ and the like,
    which refuse one (and so does fastinit: a TypeError naming the argument)."""
    one = torch.tensor([[2.0]])
    assert torch.equal(finit.orthogonal_(torch.empty(4, 6), one, seed=3), finit.orthogonal_(torch.empty(4, 6), 2.0,
                                                                                              seed=3))
    assert torch.equal(finit.sparse_(torch.empty(4, 6), one / 4, seed=3), finit.sparse_(torch.empty(4, 6), 0.5,
                                                                                          seed=3))
    assert torch.equal(finit.dirac_(torch.empty(4, 2, 3), torch.tensor([2])), tinit.dirac_(torch.empty(4, 2, 3),
                                                                                           torch.tensor([2])))
    tinit.orthogonal_(torch.empty(4, 6), one)  # torch takes them too
    tinit.sparse_(torch.empty(4, 6), one / 4)
    three = torch.tensor([[[2.0]]])  # more axes than the tensor: torch's in-place product refuses it
    for fn in (tinit.orthogonal_, finit.orthogonal_):
        w = torch.zeros(4, 6)
        with pytest.raises(RuntimeError, match=r"output with shape \[4, 6\] doesn't match the broadcast shape "
                                               r"\[1, 4, 6\]"):
            fn(w, three)
        assert fn is tinit.orthogonal_ or not w.any()  # fastinit's refusal comes before any write
    assert torch.equal(finit.orthogonal_(torch.empty(2, 4, 6), three, seed=3),  # as many axes: taken
                       finit.orthogonal_(torch.empty(2, 4, 6), 2.0, seed=3))
    for fn in (tinit.orthogonal_, finit.orthogonal_):  # an empty tensor is returned before any product
        assert fn(torch.empty(0, 4), three).shape == (0, 4)
    with pytest.raises(TypeError, match="must be float, not Tensor"):
        tinit.normal_(torch.empty(4, 6), 0.0, torch.tensor([0.5]))
    with pytest.raises(TypeError, match="std"):
        finit.normal_(torch.empty(4, 6), 0.0, torch.tensor([0.5]))


def test_orthogonal_takes_a_gain_tensor_broadcast_as_torchs_product():
    """torch's orthogonal_ multiplies the tensor in place by its gain: a tensor of several elements scales rows or
    columns (broadcast); fastinit fills with gain 1 and takes the same product.  What the product refuses (shapes,
    a complex gain, another device) fastinit refuses in torch's words, and a gain fastinit's checks refuse (NaN, beyond
    the dtype), before any write; an empty tensor is returned before the product, as torch's."""
    for shape, gain, dtype in [((3, 4), torch.tensor([[1.0], [-2.0], [3.0]]), torch.float32),
                               ((3, 4), torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64), torch.float32),
                               ((5, 3), torch.tensor([0.5, 2.0, 3.0]), torch.float16),
                               ((5, 3), torch.tensor([0.5, 2.0, 3.0]), torch.bfloat16),
                               ((2, 3, 4), torch.tensor([1, 2, 3, 4]), torch.float64),
                               ((2, 3, 4), torch.tensor([[[2.0]]]), torch.float32)]:
        ours = finit.orthogonal_(torch.empty(shape, dtype=dtype), gain, seed=4)
        assert torch.equal(ours, finit.orthogonal_(torch.empty(shape, dtype=dtype), 1.0, seed=4).mul_(gain))
        assert not torch.equal(ours, finit.orthogonal_(torch.empty(shape, dtype=dtype), 1.0, seed=4))
        tinit.orthogonal_(torch.empty(shape, dtype=torch.float64), gain)  # torch takes it too
    p = torch.nn.Parameter(torch.empty(3, 4))
    finit.orthogonal_(p, torch.arange(1.0, 5.0, requires_grad=True), seed=1)
    assert p.requires_grad and p.grad_fn is None
    for gain, exc, match in [
            (torch.ones(2), RuntimeError, r"^The size of tensor a \(4\) must match the size of tensor b \(2\) at "
                                          r"non-singleton dimension 1$"),
            (torch.ones(2, 3, 4), RuntimeError, r"^output with shape \[3, 4\] doesn't match the broadcast shape "
                                                r"\[2, 3, 4\]$"),
            (torch.ones(4, dtype=torch.complex64), RuntimeError, "result type ComplexFloat can't be cast to the "
                                                                 "desired output type Float"),
            (torch.ones(4, device="meta"), RuntimeError, "Expected all tensors to be on the same device"),
            (torch.tensor([1.0, float("nan"), 1.0, 1.0]), ValueError, "^orthogonal_: gain must be finite, got nan$"),
            (torch.tensor([1.0, -1e39, 1.0, 1.0], dtype=torch.float64), ValueError,
             r"^orthogonal_: \|gain\| = 1e\+39 overflows float32")]:
        w = torch.zeros(3, 4)
        with pytest.raises(exc, match=match):
            finit.orthogonal_(w, gain)
        assert not w.any() and w._version == 0
        if exc is RuntimeError and not gain.is_meta:  # torch's product refuses them too
            with pytest.raises(RuntimeError, match=match):
                tinit.orthogonal_(torch.zeros(3, 4), gain)
    w = torch.zeros(3, 4)  # (a review) a gain overlapping the tensor's memory: refused before the fill overwrites it
    for gain in (w, w[0], w[:, 1:2]):
        with pytest.raises(ValueError, match="^orthogonal_: gain's memory overlaps tensor's"):
            finit.orthogonal_(w, gain)
        assert not w.any() and w._version == 0
    buf = torch.zeros(16)  # one storage, apart: taken, as torch takes it
    apart, gain = buf[:12].view(3, 4), buf[12:]
    gain.copy_(torch.arange(1.0, 5.0))
    assert torch.equal(finit.orthogonal_(apart, gain, seed=2), finit.orthogonal_(torch.empty(3, 4), 1.0, seed=2)
                       * torch.arange(1.0, 5.0))
    tinit.orthogonal_(buf[:12].view(3, 4), buf[12:])
    sparse = torch.tensor([[2.0, 0.0, 0.0, 1.0]] * 3).to_sparse()  # (a review: its largest magnitude had failed)
    assert torch.equal(finit.orthogonal_(torch.empty(3, 4), sparse, seed=2),
                       finit.orthogonal_(torch.empty(3, 4), 1.0, seed=2) * sparse.to_dense())
    g = torch.Generator().manual_seed(0)
    for init in (finit, tinit):  # torch's order: its generator (normal_), the inference tensor (copy_), the product
        with torch.inference_mode():
            frozen = torch.zeros(3, 4)
        with pytest.raises(TypeError, match="argument 'generator' must be torch.Generator"):
            init.orthogonal_(torch.zeros(3, 4), torch.ones(2), generator=5)
        with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside InferenceMode"):
            init.orthogonal_(frozen, torch.ones(2), generator=g)
        assert init is tinit or not frozen.any()  # (torch's copy_ writes it, then raises)
        for empty in (torch.empty(0, 4), torch.empty(3, 4, device="meta")):  # returned before the product
            assert init.orthogonal_(empty, torch.full((2,), float("nan"))) is empty


def test_zeros_of_a_sparse_tensor_like_torch():
    t = finit.zeros_(torch.ones(3, 3).to_sparse())
    assert t.layout == torch.sparse_coo and not t.to_dense().any()


def test_eye_dirac_orthogonal_sparse_match_torch_semantics():
    assert torch.equal(finit.eye_(torch.empty(3, 5)), tinit.eye_(torch.empty(3, 5)))
    assert torch.equal(finit.dirac_(torch.empty(6, 2, 3, 3), 2), tinit.dirac_(torch.empty(6, 2, 3, 3), 2))
    q = finit.orthogonal_(torch.empty(20, 50, dtype=torch.float64), gain=3.0)
    assert torch.allclose(q @ q.T, 9 * torch.eye(20, dtype=torch.float64), atol=1e-10)
    s = finit.sparse_(torch.empty(10, 6), sparsity=0.3)
    assert ((s == 0).sum(0) >= 3).all()


def test_cuda_tensors_without_a_gpu_raise_a_clear_error():
    if importlib.util.find_spec("numba_cuda") is not None:
        from numba import cuda
        if cuda.is_available():
            pytest.skip("a CUDA GPU is present: CUDA tensors are filled (tests/test_cuda.py)")

    class FakeCuda(torch.Tensor):
        @property
        def device(self):
            return torch.device("cuda", 0)

    t = torch.empty(3, 3).as_subclass(FakeCuda)
    with pytest.raises((RuntimeError, ImportError), match="GPU path needs (the numba-cuda package|a CUDA GPU)"):
        finit.normal_(t)


def test_trunc_normal_warns_of_a_far_mean_on_a_refused_call_too_as_torch():
    """torch's trunc_normal_ warns of a mean more than 2 std outside [a, b] before its checks, then raises: so does
    fastinit's (its own checks first refuse the call); a refused call with a near mean does not warn."""
    far = "mean is more than 2 std from"
    with torch.inference_mode():
        frozen = torch.zeros(4)
    for call, exc in [(lambda init, t: init.trunc_normal_(t, mean=10.0, std=1.0, a=2.0, b=-2.0), (RuntimeError,
                                                                                                   ValueError)),
                      (lambda init, t: init.trunc_normal_(t, mean=10.0, std=0.0), (ZeroDivisionError, ValueError)),
                      (lambda init, t: init.trunc_normal_(t.long(), mean=10.0), (NotImplementedError, TypeError)),
                      (lambda init, t: init.trunc_normal_(frozen, mean=-10.0), (RuntimeError, RuntimeError)),
                      (lambda init, t: init.trunc_normal_(t, mean=10.0, generator=3), (TypeError, TypeError))]:
        for init, error in zip((tinit, finit), exc):
            w = torch.zeros(4)
            with pytest.warns(UserWarning, match=far) as caught, pytest.raises(error):
                call(init, w)
            assert not w.any() and (init is tinit or caught[0].filename == __file__)
    with torch.inference_mode():
        meta = torch.empty(8, 8, device="meta")
    with pytest.warns(UserWarning, match=far):  # returned untouched, not refused: its warning kept (a review)
        assert finit.trunc_normal_(meta, 0.0, 1.0, 10.0, 10.01) is meta
    for init in (tinit, finit):  # one warning for a refused inference tensor (a review: fastinit gave two)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(RuntimeError, match="inference tensor"):
                init.trunc_normal_(frozen, mean=10.0)
        assert [str(w.message)[:28] for w in caught] == ["mean is more than 2 std from"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # near the interval, or not numbers: refused without the warning
        for kw, error in [(dict(mean=0.0, a=2.0, b=-2.0), ValueError), (dict(mean="10"), TypeError),
                          (dict(mean=np.array([10.0, 10.0])), TypeError)]:
            with pytest.raises(error):
                finit.trunc_normal_(torch.zeros(4), **kw)


def test_bfloat16_trunc_normal_at_llm_std_stays_inside_bounds():
    t = finit.trunc_normal_(torch.empty(2000, 2000, dtype=torch.bfloat16), 0.0, 0.02, -0.04, 0.04)
    x = _f64(t)
    assert x.min() >= -0.04 and x.max() <= 0.04


def test_module_has_every_torch_nn_init_function():
    public = [n for n in dir(tinit) if n.endswith("_") and not n.startswith("_") and callable(getattr(tinit, n))]
    missing = [n for n in public if not hasattr(finit, n)]
    assert not missing


def test_delta_orthogonal_on_a_conv_weight():
    torch.manual_seed(3)
    w = finit.delta_orthogonal_(torch.full((8, 4, 3, 3), 5.0), gain=2.0)
    m = w[:, :, 1, 1].double()
    assert torch.allclose(m.T @ m, 4.0 * torch.eye(4, dtype=torch.float64), atol=1e-5)
    assert int((w != 0).sum()) == 32
    torch.manual_seed(3)
    assert torch.equal(w, finit.delta_orthogonal_(torch.empty(8, 4, 3, 3), gain=2.0))
    for device in ("cpu", "meta"):  # one error for one bad call on either device: the shape's first (a CPU
        with pytest.raises(ValueError, match="delta_orthogonal_"):  # tensor's had been its dtype's TypeError)
            finit.delta_orthogonal_(torch.zeros(8, 4, dtype=torch.int32, device=device))
        with pytest.raises(TypeError):
            finit.delta_orthogonal_(torch.zeros(8, 4, 3, dtype=torch.int32, device=device))


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_orthogonal_takes_placement_as_the_whole_tensor_and_refuses_a_shard(device):
    """global_shape=/offset= as every sampling initializer takes them (they had been unknown keywords to the
    orthogonal twins, a review, 2026-12-06 (f)): the whole tensor is taken, a shard refused before any write."""
    for fn, shape in ((finit.orthogonal_, (8, 6)), (finit.delta_orthogonal_, (8, 4, 3, 3))):
        w = fn(torch.empty(shape, device=device), seed=1, global_shape=shape, offset=(0,) * len(shape))
        if device == "cpu":
            assert torch.equal(w, fn(torch.empty(shape), seed=1))
        bigger = (2 * shape[0],) + shape[1:]
        for kw in (dict(global_shape=bigger), dict(global_shape=bigger, offset=(8,) + (0,) * (len(shape) - 1))):
            w = torch.full(shape, 5.0, device=device)
            with pytest.raises(ValueError, match=f"{fn.__name__}: cannot fill a shard"):
                fn(w, seed=1, **kw)
            assert device == "meta" or (w == 5).all()
        with pytest.raises(ValueError, match="offset= needs global_shape="):
            fn(torch.empty(shape, device=device), seed=1, offset=(0,) * len(shape))


META_CALLS = {
    "uniform_": lambda t: finit.uniform_(t, -1, 1), "normal_": lambda t: finit.normal_(t, 0, 0.02),
    "trunc_normal_": lambda t: finit.trunc_normal_(t, std=0.02), "constant_": lambda t: finit.constant_(t, 0.5),
    "ones_": finit.ones_, "zeros_": finit.zeros_, "eye_": finit.eye_, "xavier_uniform_": finit.xavier_uniform_,
    "xavier_normal_": finit.xavier_normal_, "kaiming_uniform_": finit.kaiming_uniform_,
    "kaiming_normal_": finit.kaiming_normal_, "orthogonal_": finit.orthogonal_,
    "sparse_": lambda t: finit.sparse_(t, 0.5), "lecun_normal_": finit.lecun_normal_,
    "variance_scaling_": finit.variance_scaling_,
}


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32])
def test_meta_tensors_are_checked_not_filled_like_torch(dtype):
    """torch.nn.init on a meta tensor (shape, no data) checks its arguments, writes nothing and leaves the
    generator alone; so does fastinit.torch, with no memory for even a 10**10-element tensor (the samplers
    check a one-element twin placed in the tensor's shape)."""
    import resource

    for call in META_CALLS.values():  # compile (or load) the kernels outside the memory measurement
        call(torch.empty(8, 8, device="meta", dtype=dtype))
    torch.manual_seed(5)
    expected = torch.rand(4)
    torch.manual_seed(5)
    huge = torch.empty(100_000, 100_000, device="meta", dtype=dtype)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name, call in META_CALLS.items():
        if name == "orthogonal_":  # refused for a CPU tensor of this shape (LAPACK's 32-bit indexing): so here
            with pytest.raises(ValueError, match=r"more than 2\*\*31 - 1 elements"):
                call(huge)
            continue
        assert call(huge) is huge, name
        assert huge.is_meta and huge.shape == (100_000, 100_000) and huge.dtype == dtype
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 64  # MiB; the tensor is 20-40 GB
    assert torch.equal(torch.rand(4), expected)  # no seed was drawn from torch's generator


@pytest.mark.parametrize("call, error", [
    (lambda t: finit.kaiming_uniform_(t, mode="fan_avg"), "Mode fan_avg not supported"),
    (lambda t: finit.kaiming_normal_(t[0]), "fewer than 2 dimensions"),
    (lambda t: finit.xavier_uniform_(t, gain=-1.0), "gain must be"),
    (lambda t: finit.normal_(t, 0.0, -1.0), "std >= 0"),
    (lambda t: finit.dirac_(t), "3, 4, or 5 dimensions"),
    (lambda t: finit.dirac_(t.view(6, 4, 1), groups=4), "divisible by groups"),
    (lambda t: finit.sparse_(t, 1.5), "sparsity"),
    (lambda t: finit.normal_(t, global_shape=(6, 6), offset=(0, 4)), "does not fit in global_shape"),
    (lambda t: finit.trunc_normal_(t, mean=0.5, std=0.02, a=0.52, b=0.5), "a < b"),  # (a mean near: no warning)
    (lambda t: finit.normal_(t.to(torch.int32)), "supported dtypes"),
    (lambda t: finit.normal_(t, seed=-1), "seed must lie in"),
    (lambda t: finit.orthogonal_(t, seed=2**64), "seed must lie in"),
    (lambda t: finit.uniform_(t, -3e38, 3e38), "overflows"),
    (lambda t: finit.normal_(t, std=1e300), "beyond the largest"),
    (lambda t: finit.sparse_(t, 0.5, std=1e300), "std"),
    (lambda t: finit.delta_orthogonal_(t.view(2, 4, 3)), "in_channels"),
])
def test_meta_tensors_get_the_errors_of_cpu_tensors(call, error):
    for device in ("cpu", "meta"):
        with pytest.raises((ValueError, RuntimeError, TypeError), match=error):
            call(torch.empty(6, 4, device=device))


def test_torch_deprecated_aliases_warn_and_fill_like_torch():
    """torch.nn.init's deprecated names (uniform, normal, ..., without the underscore) exist, warn the same
    FutureWarning, and fill in place like the functions they alias."""
    public = [n for n in dir(tinit) if not n.startswith("_") and callable(getattr(tinit, n))
              and getattr(getattr(tinit, n), "__module__", "") == "torch.nn.init"]
    assert [n for n in public if not hasattr(finit, n)] == []
    args = {"constant": (0.5,), "sparse": (0.5,)}
    for old in ("uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform",
                "kaiming_normal", "orthogonal", "sparse"):
        shape = (4, 2, 3) if old == "dirac" else (6, 4)
        t, ref = torch.full(shape, 9.0), torch.full(shape, 9.0)
        with pytest.warns(FutureWarning, match=f"`nn.init.{old}` is now deprecated in favor of `nn.init.{old}_`"):
            assert getattr(finit, old)(t, *args.get(old, ())) is t
        new = getattr(finit, old + "_")
        kw = {} if old in ("constant", "eye", "dirac") else {"seed": 3}
        with pytest.warns(FutureWarning):
            got = getattr(finit, old)(t, *args.get(old, ()), **kw)
        assert torch.equal(got, new(ref, *args.get(old, ()), **kw))


def test_empty_tensors_are_checked_like_torch_and_draw_nothing():
    """torch.nn.init checks an empty tensor's arguments (xavier of a 1-D tensor, a negative gain's bound, a NaN
    bound all raise); fastinit.torch does too, for CPU and meta tensors alike, and draws no seed."""
    for device in ("cpu", "meta"):
        t = torch.empty(0, 4, device=device)
        g = torch.Generator().manual_seed(0)
        state = g.get_state()
        for call in (finit.normal_, finit.xavier_uniform_, finit.orthogonal_, lambda t, generator: finit.sparse_(
                t, 0.5, generator=generator)):
            assert call(t, generator=g) is t
        assert torch.equal(g.get_state(), state)
        for bad in (lambda: finit.xavier_uniform_(torch.empty(0, device=device)),
                    lambda: finit.xavier_uniform_(t, gain=-1.0), lambda: finit.uniform_(t, float("nan"), 1.0),
                    lambda: finit.sparse_(t, 2.0), lambda: finit.normal_(t, stream=-1),
                    lambda: finit.normal_(t, seed=-1), lambda: finit.trunc_normal_(t, a=1.0, b=-1.0)):
            with pytest.raises(ValueError):
                bad()
        for lib in (tinit, finit):  # kaiming's exception, in torch too: a warning, no check of torch's arguments
            with pytest.warns(UserWarning, match="zero-element"):
                lib.kaiming_uniform_(t, mode="bad")
        for bad in (dict(seed=-1), dict(stream=-1), dict(offset=(5,))):  # fastinit's own: checked (a review)
            with pytest.raises(ValueError):
                finit.kaiming_normal_(t, **bad)


def test_refused_calls_leave_the_generator_alone():
    """The seed is drawn from torch's generator after every check: a caught error does not shift later draws."""
    g = torch.Generator().manual_seed(0)
    state = g.get_state()
    for bad in (lambda: finit.kaiming_uniform_(torch.empty(3, 3), mode="bad", generator=g),
                lambda: finit.sparse_(torch.empty(3, 3), 2.0, generator=g),
                lambda: finit.trunc_normal_(torch.empty(3), a=1.0, b=-1.0, generator=g),
                lambda: finit.uniform_(torch.empty(3), 0.0, math.inf, generator=g),
                lambda: finit.normal_(torch.empty(3), stream=1.5, generator=g)):
        with pytest.raises((ValueError, TypeError)):
            bad()
    assert torch.equal(g.get_state(), state)
    drawn = int(torch.randint(0, 2**63 - 1, (1,), generator=torch.Generator().manual_seed(0)).item())
    assert torch.equal(finit.orthogonal_(torch.empty(5, 4), generator=g), finit.orthogonal_(torch.empty(5, 4),
                                                                                           seed=drawn))


def test_inference_tensors_are_refused_outside_inference_mode_like_torch():
    with torch.inference_mode():
        t, mat = torch.zeros(3), torch.zeros(3, 3)
    for call, x in ((finit.normal_, t), (finit.zeros_, t), (finit.kaiming_uniform_, mat), (finit.orthogonal_, mat)):
        with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside InferenceMode"):
            call(x)
        assert not x.any()
    with torch.inference_mode():  # inside inference mode, like torch
        assert finit.normal_(t, seed=0) is t and t.any()
        meta = torch.empty(4, 4, device="meta")
        conv = torch.empty(4, 4, 3, device="meta")
    for call in (finit.normal_, finit.uniform_, finit.kaiming_uniform_, finit.xavier_uniform_):  # meta: as torch
        for init in (tinit, finit):
            with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside InferenceMode"):
                getattr(init, call.__name__)(meta)
    # torch's trunc_normal_, orthogonal_, sparse_ and dirac_ return a meta tensor before any write: so do fastinit's
    # (they raised); its delta_orthogonal_ as its orthogonal_
    for name, x, kw in (("trunc_normal_", meta, {}), ("orthogonal_", meta, {}), ("sparse_", meta, {"sparsity": 0.5}),
                        ("dirac_", conv, {}), ("delta_orthogonal_", conv, {})):
        for init in (tinit, finit) if hasattr(tinit, name) else (finit,):
            assert getattr(init, name)(x, **kw) is x, name
    with torch.inference_mode():
        empty = torch.empty(0, 4)
    for init in (tinit, finit):  # torch's orthogonal_ returns an empty tensor before its write: so does fastinit's
        assert init.orthogonal_(empty) is empty
        with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside InferenceMode"):
            init.normal_(empty)
    g = torch.Generator().manual_seed(1)
    for call, exc, match in [  # torch checks the arguments first, then refuses the write: so does fastinit
            (lambda init, line, w: init.xavier_uniform_(line), ValueError, "Fan in and fan out can not be computed"),
            (lambda init, line, w: init.kaiming_normal_(line), ValueError, "Fan in and fan out can not be computed"),
            (lambda init, line, w: init.kaiming_normal_(w, mode="fan_avg"), ValueError, "Mode fan_avg not supported"),
            (lambda init, line, w: init.sparse_(w, 0.5, generator=g), RuntimeError, "inference tensor outside"),
            (lambda init, line, w: init.xavier_normal_(w, generator=g), RuntimeError, "inference tensor outside")]:
        for init in (finit, tinit):
            with torch.inference_mode():
                line, w = torch.full((5,), 7.0), torch.full((4, 6), 7.0)
            state = g.get_state()
            with pytest.raises(exc, match=match):
                call(init, line, w)
            assert init is tinit or (line == 7).all() and (w == 7).all() and torch.equal(g.get_state(), state)
    with pytest.raises(ValueError, match="^trunc_normal_: need a < b"):  # (torch: its uniform_'s from > to)
        finit.trunc_normal_(line, a=2.0, b=-2.0)
    assert (line == 7).all()


def test_integer_bool_and_complex_tensors_get_constants_eye_and_dirac_from_torch():
    """torch.nn.init fills them; fastinit's kernels write floats only, so these calls are torch's own."""
    assert torch.equal(finit.zeros_(torch.ones(3, dtype=torch.long)), torch.zeros(3, dtype=torch.long))
    assert torch.equal(finit.ones_(torch.zeros(2, dtype=torch.bool)), torch.ones(2, dtype=torch.bool))
    assert torch.equal(finit.constant_(torch.zeros(2, dtype=torch.complex64), 2.0), torch.full((2,), 2 + 0j))
    assert torch.equal(finit.eye_(torch.zeros(2, 3, dtype=torch.int32)), torch.eye(2, 3, dtype=torch.int32))
    assert torch.equal(finit.dirac_(torch.zeros(2, 2, 3, dtype=torch.int32)),
                       tinit.dirac_(torch.zeros(2, 2, 3, dtype=torch.int32)))
    assert finit.zeros_(torch.empty(3, dtype=torch.long, device="meta")).is_meta
    with pytest.raises(TypeError, match="supported dtypes are float16"):
        finit.normal_(torch.zeros(3, dtype=torch.long))


def test_tensors_handed_to_torch_are_checked_by_fastinit_first_and_refusals_write_nothing():
    """torch's dirac_ zeroes the tensor, then checks groups; its fills write an inference tensor, then raise: where
    fastinit hands a tensor to torch (ints, expanded views), a refusal had come after a write (a review)."""
    with torch.inference_mode():
        frozen = torch.full((4, 2, 3), 7)
    for x, groups, exc, msg in ((torch.full((4, 2, 3), 7), 2.0, TypeError, "groups must be an int"),
                                (torch.full((4, 2, 3), 7), 0, ValueError, "groups must be a positive int"),
                                (torch.full((4, 2, 3), 7), -2, ValueError, "groups must be a positive int"),
                                (torch.full((4, 2, 3), 7), 3, ValueError, "dim 0 must be divisible by groups"),
                                (torch.full((1, 2, 3), 7.0, dtype=torch.float16).expand(4, 2, 3), 2.0, TypeError,
                                 "groups must be an int"),
                                (frozen, 2, RuntimeError, "inference tensor")):
        with pytest.raises(exc, match=msg):
            finit.dirac_(x, groups)
        assert torch.all(x == 7) and (x.is_inference() or x._version == 0)
    for call in (finit.zeros_, finit.ones_, finit.eye_, lambda t: finit.constant_(t, 2)):
        with pytest.raises(RuntimeError, match="inference tensor outside InferenceMode"):
            call(frozen[0])
        assert torch.all(frozen == 7)
    with torch.inference_mode():
        sparse = torch.eye(3).to_sparse()
    with pytest.raises(RuntimeError, match="inference tensor outside InferenceMode"):
        finit.zeros_(sparse)  # (torch's zero_ had emptied it, then raised)
    assert torch.equal(sparse.to_dense(), torch.eye(3))
    assert torch.equal(finit.dirac_(torch.full((4, 2, 3), 7), 2), tinit.dirac_(torch.full((4, 2, 3), 7), 2))


def test_constants_fill_expanded_views_like_torch():
    """One value written to elements that share memory is well defined: torch fills expanded views, so does
    constant_ (the samplers refuse them, whose elements would each want their own value)."""
    base = torch.zeros(1, 4)
    assert finit.constant_(base.expand(3, 4), 2.0) is not None and torch.all(base == 2.0)
    with pytest.raises(ValueError, match="^tensor has zero strides"):
        finit.normal_(base.expand(3, 4), seed=0)
    assert torch.all(base == 2.0)


@pytest.mark.parametrize("name, args", [("constant_", (2.5,)), ("zeros_", ()), ("ones_", ()), ("eye_", ()),
                                        ("dirac_", (2,))])
def test_constants_fill_self_overlapping_views_like_torch(name, args):
    """A view whose elements overlap in memory without a zero stride (``unfold``: neighbouring windows share
    elements) is handed to torch by the constants, as an expanded one is: torch fills it, so they do, with torch's
    result (a review found zeros_ / ones_ / eye_ / constant_ refusing it).  The samplers refuse it, uniform_ with
    a == b too, and leave it untouched."""
    def view(base):  # 1-D storage of 20: windows of 4 every 2 (2-D), or a 3-D kernel over the same memory
        return base.unfold(0, 4, 2) if name != "dirac_" else base.as_strided((4, 2, 3), (3, 2, 1))

    ours, theirs = torch.arange(20.0), torch.arange(20.0)
    assert getattr(finit, name)(view(ours), *args) is not None
    getattr(tinit, name)(view(theirs), *args)
    assert torch.equal(ours, theirs) and not torch.equal(ours, torch.arange(20.0))
    samplers = [lambda t: finit.normal_(t, seed=0), lambda t: finit.uniform_(t, 1.0, 1.0),
                lambda t: finit.kaiming_uniform_(t, seed=0), lambda t: finit.trunc_normal_(t, seed=0)]
    for sample in samplers:
        with pytest.raises(ValueError, match=r"^tensor has strides .* \(a self-overlapping view\)"):
            sample(view(ours))
        assert torch.equal(ours, theirs)


DTENSOR_PLACEMENTS = [("S0", "S1"), ("S1", "S1"), ("R", "S0"), ("S1", "R"), ("R", "R")]


def test_dtensors_are_filled_shard_by_shard_with_the_unsharded_values(monkeypatch):
    """A DTensor (FSDP2's, tensor parallelism's) is filled on each rank as the block its local shard is of the
    global tensor (global_shape= / offset=): the slice of one unsharded fill, for every placement of Shard and
    Replicate, uneven shards included, and for fans of the global shape.  Ranks simulated in one process with
    torch's fake process group (a 2 x 2 mesh, ranks 0-3)."""
    dist = pytest.importorskip("torch.distributed")
    if not dist.is_available():
        pytest.skip("torch.distributed not built")
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import DTensor, Partial, Replicate, Shard
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset
    from torch.testing._internal.distributed.fake_pg import FakeStore

    shape = (10, 7)
    fills = {"kaiming_uniform_": lambda t, **kw: finit.kaiming_uniform_(t, a=0.5, **kw),
             "xavier_normal_": finit.xavier_normal_, "orthogonal_": lambda t, **kw: finit.orthogonal_(t, 2.0, **kw),
             "trunc_normal_": lambda t, **kw: finit.trunc_normal_(t, 1, 2, **kw),
             "sparse_": lambda t, **kw: finit.sparse_(t, 0.5, **kw)}
    want = {name: fill(torch.empty(shape), seed=3) for name, fill in fills.items()}
    torch.manual_seed(11)  # seed=None: from each rank's torch generator, seeded alike; one seed a call on every rank,
    steps = [(finit.normal_, (3, 2)), (finit.orthogonal_, (3, 2)), (lambda t: finit.uniform_(t, 0.5, 0.5), (3, 2)),
             (finit.normal_, shape)]  # (3, 2) sharded on (S0, S0): empty on ranks 2, 3; uniform_ a == b draws none
    drawn = [fill(torch.empty(size)) for fill, size in steps]
    for rank in range(4):
        dist.init_process_group("fake", store=FakeStore(), rank=rank, world_size=4)
        try:
            mesh = init_device_mesh("cpu", (2, 2))
            for said in DTENSOR_PLACEMENTS:
                placements = [Replicate() if p == "R" else Shard(int(p[1])) for p in said]
                local_shape, offset = compute_local_shape_and_global_offset(shape, mesh, placements)
                block = tuple(slice(o, o + n) for o, n in zip(offset, local_shape))
                for name, fill in fills.items():
                    local = torch.full(local_shape, 7.0)
                    dt = DTensor.from_local(local, mesh, placements, run_check=False, shape=torch.Size(shape),
                                            stride=(7, 1))
                    assert fill(dt, seed=3) is dt
                    assert torch.equal(local, want[name][block]), (rank, said, name)
                torch.manual_seed(11)  # (on ranks 2 and 3 the first three shards are empty: they draw all the same)
                for (fill, size), want_all in zip(steps, drawn):
                    split = [Shard(0), Shard(0)] if size != shape else placements
                    local_shape, offset = compute_local_shape_and_global_offset(size, mesh, split)
                    local = torch.full(local_shape, 7.0)
                    dt = DTensor.from_local(local, mesh, split, run_check=False, shape=torch.Size(size),
                                            stride=(size[1], 1))
                    version = dt._version
                    assert fill(dt) is dt and dt._version > version  # (autograd sees the write, as torch's fill)
                    block = tuple(slice(o, o + n) for o, n in zip(offset, local_shape))
                    assert torch.equal(local, want_all[block]), (rank, said, size)
            if rank == 0:  # (a Parameter of a DTensor: meshes equal across the simulated ranks are shared after it)
                param = torch.nn.Parameter(DTensor.from_local(torch.zeros(5, 4), mesh, [Shard(0), Shard(1)],
                                                              run_check=False, shape=torch.Size(shape), stride=(7, 1)))
                assert finit.kaiming_uniform_(param, a=0.5, seed=3) is param and param.requires_grad
                assert torch.equal(param.to_local(), want["kaiming_uniform_"][:5, :4])
            state = torch.get_rng_state()  # a gain tensor of several elements: refused before any draw (a review)
            sharded = DTensor.from_local(torch.full((5, 7), 7.0), mesh, [Replicate(), Shard(0)], run_check=False,
                                         shape=torch.Size(shape), stride=(7, 1))
            with pytest.raises(TypeError, match="^orthogonal_: a gain tensor of several elements multiplies a DTensor"):
                finit.orthogonal_(sharded, torch.ones(7))
            assert (sharded.to_local() == 7).all() and torch.equal(torch.get_rng_state(), state)
            with pytest.raises(TypeError, match="^orthogonal_: gain is a DTensor, a tensor subclass"):
                finit.orthogonal_(torch.empty(10, 7), sharded)
            state = torch.get_rng_state()  # a meta DTensor (fully_shard on a meta model): checked, nothing drawn
            for fill in (finit.orthogonal_, finit.normal_):
                meta = DTensor.from_local(torch.empty(5, 7, device="meta"), mesh, [Replicate(), Shard(0)],
                                          run_check=False, shape=torch.Size(shape), stride=(7, 1))
                assert fill(meta) is meta
            assert torch.equal(torch.get_rng_state(), state)
            # refused before any write: a Partial placement (values to be summed), a placement given twice
            local = torch.full((5, 7), 7.0)
            partial = DTensor.from_local(local, mesh, [Partial(), Shard(0)], run_check=False, shape=torch.Size(shape),
                                         stride=(7, 1))
            with pytest.raises(TypeError, match=r"^normal_: a DTensor placed Partial\(sum\) .* Shard\(dim\) or "
                                                r"Replicate"):
                finit.normal_(partial, seed=0)
            sharded = DTensor.from_local(local, mesh, [Replicate(), Shard(0)], run_check=False,
                                         shape=torch.Size(shape), stride=(7, 1))
            with pytest.raises(TypeError, match=r"^xavier_uniform_: a DTensor carries its own placement"):
                finit.xavier_uniform_(sharded, seed=0, global_shape=shape, offset=(0, 0))
            with pytest.raises(RuntimeError, match="normal expects std >= 0.0"):
                finit.normal_(sharded, 0.0, -1.0, seed=0)
            with monkeypatch.context() as m:  # a torch without the helper that places a shard: said, not guessed
                m.setitem(sys.modules, "torch.distributed.tensor._utils", None)
                with pytest.raises(TypeError, match=r"^normal_: this torch .* has no torch.distributed.tensor._utils"):
                    finit.normal_(sharded, seed=0)
            assert (local == 7).all()
            assert torch.equal(finit.zeros_(sharded).to_local(), torch.zeros(5, 7))  # constants: torch's fill
        finally:
            dist.destroy_process_group()


def test_eye_and_dirac_fill_each_dtensor_shard_with_its_block_of_the_pattern():
    """torch's eye_ / dirac_ write the global pattern into every local tensor (a (3, 6) shard of a 6 x 6 eye_ became
    6 x 6; a sharded dirac_ kernel got no one): fastinit gives each rank its block, for any placement."""
    dist = pytest.importorskip("torch.distributed")
    if not dist.is_available():
        pytest.skip("torch.distributed not built")
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import DTensor, Replicate, Shard
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset
    from torch.testing._internal.distributed.fake_pg import FakeStore

    cases = [("eye_", (7, 5), {}), ("eye_", (5, 9), {}), ("dirac_", (6, 4, 3, 3), {"groups": 2}),
             ("dirac_", (8, 2, 3), {"groups": 4}), ("dirac_", (6, 6, 1, 3, 3), {})]
    placements = [(Shard(0), Shard(1)), (Shard(1), Shard(0)), (Replicate(), Shard(0)), (Shard(0), Shard(0)),
                  (Shard(2), Replicate())]
    compared = 0
    for rank in range(4):
        dist.init_process_group("fake", store=FakeStore(), rank=rank, world_size=4)
        torch._C._clear_DTensor_sharding_propagator_cache()  # (its specs of equal meshes: the last rank's coordinate)
        try:
            mesh = init_device_mesh("cpu", (2, 2))
            for name, shape, kw in cases:
                want = getattr(torch.nn.init, name)(torch.empty(shape), **kw)
                for placed in placements:
                    if len(shape) == 2 and Shard(2) in placed:
                        continue
                    local_shape, offset = compute_local_shape_and_global_offset(shape, mesh, placed)
                    local = torch.full(local_shape, 7.0)
                    dt = DTensor.from_local(local, mesh, placed, run_check=False, shape=torch.Size(shape),
                                            stride=torch.empty(shape).stride())
                    version = dt._version
                    assert getattr(finit, name)(dt, **kw) is dt and dt._version > version
                    assert torch.equal(local, want[tuple(slice(o, o + n) for o, n in zip(offset, local_shape))]), \
                        (rank, name, shape, placed)
                    compared += 1
            dt = DTensor.from_local(torch.full((3, 4, 3), 7.0), mesh, (Shard(0), Replicate()), run_check=False,
                                    shape=torch.Size((6, 4, 3)), stride=(12, 3, 1))
            with pytest.raises(ValueError, match="divisible by groups"):  # checked on the global shape, first
                finit.dirac_(dt, groups=4)
            assert bool((dt.to_local() == 7).all())
        finally:
            dist.destroy_process_group()
    assert compared == 4 * (2 * 4 + 3 * 5)


def test_a_meta_or_empty_dtensors_version_moves_where_a_plain_tensors_does():
    """A meta DTensor (fully_shard on a meta model) and an empty one: the version counter moves where a plain tensor's
    fill moves it (torch's trunc_normal_, orthogonal_, sparse_ return a meta tensor before writing; orthogonal_ and
    kaiming_*_ an empty one), no longer on every non-meta DTensor and no meta one."""
    dist = pytest.importorskip("torch.distributed")
    if not dist.is_available():
        pytest.skip("torch.distributed not built")
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import DTensor, Shard
    from torch.testing._internal.distributed.fake_pg import FakeStore

    fills = {"normal_": (), "uniform_": (), "kaiming_normal_": (), "kaiming_uniform_": (), "trunc_normal_": (),
             "orthogonal_": (), "delta_orthogonal_": (), "sparse_": (0.5,), "xavier_uniform_": (),
             "lecun_normal_": ()}
    dist.init_process_group("fake", store=FakeStore(), rank=0, world_size=2)
    try:
        mesh = init_device_mesh("cpu", (2,))
        for name, args in fills.items():
            for shape, device in [((4, 3, 3, 3), "meta"), ((0, 0, 3, 3), "cpu"), ((4, 0, 3, 3), "cpu"),
                                  ((4, 3, 3, 3), "cpu")]:
                shape = shape if name not in ("sparse_", "orthogonal_") else shape[:2]
                plain = torch.empty(shape, device=device)
                local = torch.empty((shape[0] // 2,) + shape[1:], device=device)
                dt = DTensor.from_local(local, mesh, [Shard(0)], run_check=False, shape=torch.Size(shape),
                                        stride=plain.stride())
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # (a zero-element tensor's warnings)
                    getattr(finit, name)(plain, *args, seed=1)
                    getattr(finit, name)(dt, *args, seed=1)
                assert (dt._version > 0) == (plain._version > 0), (name, shape, device, plain._version)
    finally:
        dist.destroy_process_group()


def test_negative_bit_views_are_refused_before_any_write():
    base = torch.zeros(4, dtype=torch.complex64)
    view = base.conj().imag
    with pytest.raises(TypeError, match="negative bit"):
        finit.normal_(view, seed=0)
    assert not base.any()
    import fastinit
    with pytest.raises(TypeError, match="out has dtype torch.complex64; supported dtypes"):  # torch's .numpy() refuses
        fastinit.uniform_(base.conj(), seed=0)  # a conjugated view with a RuntimeError


def test_constant_fills_hand_negated_and_unaligned_tensors_to_torch_which_fills_them():
    """torch.nn.init's constant_ / zeros_ / ones_ / eye_ / dirac_ fill a lazily negated view and a tensor at an odd
    byte offset; fastinit.torch refused them (a review) where it hands integer or expanded tensors to torch."""
    def unaligned():
        t = torch.frombuffer(bytearray(4 * 27 + 1), dtype=torch.float32, offset=1, count=27).view(3, 3, 3)
        return t.fill_(5.0)

    def negated():
        return torch.full((3, 3, 3), 5.0, dtype=torch.complex64).conj().imag

    for name, args, part in [("constant_", (2.0,), lambda t: t), ("ones_", (), lambda t: t),
                             ("zeros_", (), lambda t: t), ("eye_", (), lambda t: t[0]), ("dirac_", (), lambda t: t)]:
        for make in (unaligned, negated):
            ours, theirs = make(), make()
            getattr(finit, name)(part(ours), *args)
            getattr(tinit, name)(part(theirs), *args)
            assert torch.equal(ours, theirs) and not (ours == 5.0).all(), (name, make)


def test_a_tensor_fastinits_buffers_refuse_is_refused_after_the_initializers_own_argument_checks():
    """fastinit.torch makes a CPU tensor's NumPy view before the initializer runs; a tensor that view refuses
    (negative bit, sparse) still gets a bad argument's error first, and parameters (requires_grad) are filled
    like plain tensors."""
    neg = torch.zeros(4, 4, dtype=torch.complex64).conj().imag
    for t in (neg, torch.eye(3).to_sparse()):
        with pytest.raises(ValueError, match="gain must be a finite number >= 0"):
            finit.xavier_uniform_(t, gain=-1.0, seed=0)
        with pytest.raises(ValueError, match="Mode bad not supported"):
            finit.kaiming_uniform_(t, mode="bad", seed=0)
    with pytest.raises(TypeError, match="tensor has its negative bit set"):  # torch's parameter's name
        finit.xavier_uniform_(neg, seed=0)
    w = torch.nn.Parameter(torch.empty(8, 6))
    assert finit.kaiming_uniform_(w, seed=2) is w and w.requires_grad and w._version == 1
    assert torch.equal(w.detach(), finit.kaiming_uniform_(torch.empty(8, 6), seed=2))


@pytest.mark.parametrize("dtype", DTYPES)
def test_fastinits_own_functions_fill_torch_cpu_tensors_in_place(dtype):
    """DESIGN §4: a torch CPU tensor is a target of fastinit's own functions too (its NumPy view, no copy),
    with the values fastinit.torch gives for the same seed."""
    import fastinit

    for name in ("uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "kaiming_normal_", "orthogonal_",
                 "sparse_"):
        args = (0.25,) if name == "sparse_" else ()
        t = torch.empty(48, 40, dtype=dtype)[:, ::2]  # not contiguous
        assert getattr(fastinit, name)(t, *args, seed=3) is t
        assert torch.equal(t, getattr(finit, name)(torch.empty(48, 20, dtype=dtype), *args, seed=3)), name
    w, b = torch.empty(30, 20, dtype=dtype, requires_grad=True), torch.empty(30, dtype=dtype)
    r = fastinit.recommend("relu")
    r.initializer(w, seed=1), r.bias(b)
    assert w.requires_grad and w.detach().abs().sum() > 0 and (b == torch.tensor(0.01, dtype=dtype)).all()


def test_fastinits_own_functions_refuse_torch_tensors_they_cannot_write():
    import fastinit

    with torch.inference_mode():
        inference = torch.full((3,), 7.0)
    refused = [(torch.empty(4, 4, device="meta"), TypeError, "meta torch tensor"),
               (torch.full((4,), 7, dtype=torch.int32), TypeError, "supported dtypes"),
               (torch._neg_view(torch.full((4,), 7.0)), TypeError, "negative bit"),
               (torch.full((1, 4), 7.0).expand(3, 4), ValueError, "zero strides"),
               (inference, ValueError, "inference tensor"),
               (torch.full((3, 3), 7.0).to_sparse(), TypeError, "torch.sparse_coo torch tensor; fastinit fills dense")]
    for t, error, message in refused:
        with pytest.raises(error, match=message):
            fastinit.uniform_(t, seed=0)
        if t.device.type == "cpu":
            assert (t.resolve_neg() == -7).all() if t.is_neg() else (t.to_dense() == 7).all()
    with torch.inference_mode():
        assert fastinit.uniform_(inference, seed=0) is inference and (inference < 1).all()


def test_orthogonal_takes_a_stream_and_checks_lapacks_size_on_meta_tensors():
    import numpy as np

    import fastinit

    for fn in ("orthogonal_", "delta_orthogonal_"):
        t = getattr(finit, fn)(torch.empty(8, 6, 3), seed=1, stream="w")
        assert np.array_equal(t.numpy(), getattr(fastinit, fn)(np.empty((8, 6, 3), np.float32), seed=1, stream="w"))
        assert not torch.equal(t, getattr(finit, fn)(torch.empty(8, 6, 3), seed=1))
    big = 46341  # 46341**2 > 2**31 - 1: refused for a CPU tensor of this shape, so for its meta twin
    with pytest.raises(ValueError, match=r"more than 2\*\*31 - 1 elements"):
        finit.orthogonal_(torch.empty(big, big, device="meta", dtype=torch.float16))
    finit.orthogonal_(torch.empty(big, 4, device="meta"))  # within the limit: checked, nothing written


def test_empty_tensors_whose_shape_numpy_cannot_hold_are_checked_and_left_alone_like_torch():
    """torch holds an empty (0, 2**31, 2**31) tensor, NumPy no array of that shape (it bounds the product of the
    non-zero extents): torch.nn.init leaves it alone, and so does fastinit.torch (it said NumPy's "array is too
    big"), for CPU and meta tensors alike.  Its checks run on a twin that NumPy holds, placed in the tensor's
    shape, so the fans, the placement and the orthogonal sizes are those of the whole shape."""
    huge = (0, 2**31, 2**31)
    with pytest.raises(ValueError, match="array is too big"):
        np.empty(huge, np.float16)
    names = ("uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
             "kaiming_normal_", "lecun_uniform_", "lecun_normal_", "variance_scaling_", "orthogonal_", "sparse_",
             "constant_", "zeros_", "dirac_", "delta_orthogonal_")
    for device in ("cpu", "meta"):
        for whole in (huge, huge[1:] + (0,)):
            shape = whole
            g = torch.Generator().manual_seed(0)
            state = g.get_state()
            for name in names:
                shape = ((0, 2**62) if whole[0] == 0 else (2**62, 0)) if name == "sparse_" else whole  # 2-D only
                t = torch.empty(shape, device=device, dtype=torch.float16)
                args = {"constant_": (0.5,), "sparse_": (0.5,)}.get(name, ())
                ours, theirs = getattr(finit, name), getattr(tinit, name, None)
                drawn = {"generator": g} if "generator" in inspect.signature(ours).parameters else {}
                with warnings.catch_warnings(record=True) as said:
                    warnings.simplefilter("always")
                    if name == "delta_orthogonal_":  # (out, in) = (0, 2**31): in > out; (2**31, 2**31): too big
                        with pytest.raises(ValueError, match=r"in_channels \(2147483648\) must be|more than 2"):
                            ours(t, generator=g)
                        continue
                    if name in ("xavier_uniform_", "xavier_normal_") and shape[-1] == 0:
                        with pytest.raises(ZeroDivisionError):  # fan_in = fan_out = 0 (fastinit: documented)
                            theirs(torch.empty(shape, device=device))
                    elif theirs is not None and not (name == "dirac_" and shape[-1] == 0) and not (  # IndexError
                            name == "sparse_" and shape[-1]):  # torch's sparse_ loops over the 2**62 columns
                        assert theirs(torch.empty(shape, device=device), *args).shape == shape
                    assert ours(t, *args, **drawn) is t, (name, shape, device)
                assert [str(w.message) for w in said] == (["Initializing zero-element tensors is a no-op"] * 2
                                                          if name.startswith("kaiming") else []), name
                assert t.shape == shape
            assert torch.equal(g.get_state(), state), (device, shape)  # nothing drawn
        t = torch.empty(huge, device=device)
        fits = r"block tensor.shape \(0, 2147483648, 2147483648\) at offset \(2, 0, 0\) does not fit"
        for bad, error in ((lambda: finit.xavier_uniform_(t, gain=-1.0), "gain must be"),
                           (lambda: finit.normal_(t, seed=-1), "seed must lie in"),
                           (lambda: finit.trunc_normal_(t, a=1.0, b=-1.0), "a < b"),
                           (lambda: finit.sparse_(torch.empty(0, 2**62, device=device), 2.0), "sparsity"),
                           (lambda: finit.dirac_(torch.empty(3, 2**62, 0, device=device), groups=2),
                            "divisible by groups"),
                           (lambda: finit.kaiming_normal_(t, global_shape=(1, 2**31, 2**31), offset=(2, 0, 0)),
                            fits),
                           (lambda: finit.normal_(t, global_shape=(1, 2**31, 2**31), offset=(2, 0, 0)),
                            fits)):
            with pytest.raises(ValueError, match=error):
                bad()
        # an empty block of a non-empty tensor is checked as the whole: no zero-element warning, its mode checked
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert finit.kaiming_normal_(t, global_shape=(1,) + huge[1:], offset=(1, 0, 0)) is t
        with pytest.raises(ValueError, match="Mode fan_avg not supported"):
            finit.kaiming_normal_(t, mode="fan_avg", global_shape=(1,) + huge[1:], offset=(1, 0, 0))


@pytest.mark.parametrize("bad", [5, "g", object()])
def test_a_generator_that_is_not_a_torch_generator_is_refused_like_torch(bad):
    """torch's TypeError, for plain, empty and meta tensors alike, before anything is written or drawn."""
    import fastinit

    state = torch.random.get_rng_state()
    for t in (torch.full((4, 3), 7.0), torch.empty(0, 3), torch.empty(4, 3, device="meta")):
        for call in (lambda: finit.normal_(t, generator=bad), lambda: finit.xavier_uniform_(t, generator=bad),
                     lambda: finit.orthogonal_(t, generator=bad), lambda: finit.sparse_(t, 0.5, generator=bad),
                     lambda: finit.kaiming_normal_(t, generator=bad), lambda: finit.uniform_(t, 2, 2, generator=bad)):
            with pytest.raises(TypeError, match=f"argument 'generator' must be torch.Generator, not "
                                                f"{type(bad).__name__}"):
                call()
        if not t.is_meta and t.numel():
            assert (t == 7.0).all()
    for given, said in [(fastinit.Generator(0), r"fastinit.Generator; draw a seed from it instead: seed=g.next_s"),
                        (np.random.default_rng(0), r"numpy.random.Generator; draw a seed .*rng.integers\(2\*\*63"),
                        (np.random.RandomState(0), r"numpy.random.mtrand.RandomState; .*rs.randint\(2\*\*63"),
                        (5, "int; a seed goes to seed="), (True, "bool$")]:  # what was meant, said (a review)
        with pytest.raises(TypeError, match=f"must be torch.Generator, not {said}"):
            finit.normal_(torch.empty(3), generator=given)
    assert torch.equal(state, torch.random.get_rng_state())


def test_an_empty_shard_of_a_non_empty_tensor_is_checked_and_not_warned_about():
    """kaiming_*'s zero-element warning (and torch's skipped checks) is for an empty tensor, not for an empty
    shard of a tensor that has elements: that one is checked as any shard is."""
    import warnings

    shard = torch.empty(0, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert finit.kaiming_uniform_(shard, global_shape=(8, 4), offset=(8, 0), seed=1) is shard
    for bad, match in [({"offset": (9, 0)}, "does not fit"), ({"mode": "bad"}, "Mode bad not supported"),
                       ({"seed": -1}, "seed must lie in")]:
        kw = {"global_shape": (8, 4), "offset": (0, 0), "seed": 1, **bad}
        with pytest.raises(ValueError, match=match):
            finit.kaiming_normal_(shard, **kw)
    with pytest.warns(UserWarning, match="zero-element"):  # the whole tensor empty: torch's no-op and warning
        finit.kaiming_normal_(shard, global_shape=(0, 4), offset=(0, 0), mode="bad")


def test_torchs_private_no_grad_helpers_are_fastinits_fills_under_torchs_signatures():
    """Model code calls init._no_grad_trunc_normal_(w, 0, 0.02, -0.04, 0.04) in its _init_weights (a review: an
    AttributeError after `import fastinit.torch as init`): fastinit's fills, torch's parameter names, fastinit's
    own functions (they had taken torch's module and docstring through functools.wraps, and did not pickle)."""
    import inspect
    import pickle

    for name, args, public in [("_no_grad_uniform_", (-0.1, 0.2), finit.uniform_),
                               ("_no_grad_normal_", (0.5, 2.0), finit.normal_),
                               ("_no_grad_trunc_normal_", (0.0, 0.02, -0.04, 0.04), finit.trunc_normal_),
                               ("_no_grad_fill_", (0.25,), finit.constant_), ("_no_grad_zero_", (), finit.zeros_)]:
        ours, theirs = getattr(finit, name), getattr(tinit, name)
        assert list(inspect.signature(ours).parameters) == list(inspect.signature(theirs).parameters), name
        assert (ours.__module__, ours.__qualname__) == ("fastinit.torch", name) and "fastinit" in ours.__doc__
        assert pickle.loads(pickle.dumps(ours)) is ours and not hasattr(ours, "__wrapped__")
        w = torch.nn.Parameter(torch.full((6, 5), 7.0))
        torch.manual_seed(3)
        assert ours(w, *args) is w
        torch.manual_seed(3)
        assert torch.equal(w.detach(), public(torch.empty(6, 5), *args)), name
        if "generator" in inspect.signature(theirs).parameters:
            g = torch.Generator().manual_seed(4)
            assert torch.equal(ours(torch.empty(6, 5), *args, g),
                               public(torch.empty(6, 5), *args, generator=torch.Generator().manual_seed(4)))


def test_torchs_private_helpers_pointed_at_fastinits_do_not_recurse(monkeypatch):
    """torch.nn.init's functions look _no_grad_fill_ ... up at the call: with them pointed at fastinit's, a tensor
    fastinit hands to torch (integer, a __torch_function__ subclass, nested) came back to fastinit, which handed it
    to torch again: a RecursionError (a review).  Inside torch's functions, the helpers are torch's own."""
    for name in ("_no_grad_uniform_", "_no_grad_normal_", "_no_grad_trunc_normal_", "_no_grad_fill_",
                 "_no_grad_zero_"):
        monkeypatch.setattr(tinit, name, getattr(finit, name))

    class Logged(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return super().__torch_function__(func, types, args, kwargs or {})

    ints = torch.ones(3, dtype=torch.int64)
    assert finit.zeros_(ints) is ints and not ints.any() and (finit.constant_(ints, 4) == 4).all()
    sub = torch.zeros(4, 5).as_subclass(Logged)
    for fill in (finit.trunc_normal_, tinit.trunc_normal_, finit.uniform_, finit.normal_):
        assert fill(sub) is sub and sub.abs().max() > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's prototype notice
        nested = torch.nested.nested_tensor([torch.zeros(2, 3), torch.zeros(4, 3)])
    assert finit.ones_(nested) is nested and nested.to_padded_tensor(0).sum() == 18  # (not "no strides")
    w = torch.empty(30, 20)
    torch.manual_seed(1)
    tinit._no_grad_trunc_normal_(w, 0.0, 0.02, -0.04, 0.04)  # from model code: fastinit's fill
    torch.manual_seed(1)
    assert torch.equal(w, finit.trunc_normal_(torch.empty(30, 20), 0.0, 0.02, -0.04, 0.04))


def test_torchs_private_fan_helpers_are_there_for_model_code():
    """nn.Linear.reset_parameters calls init._calculate_fan_in_and_fan_out: code that imports fastinit.torch as
    init finds it (torch's own)."""
    w = torch.empty(64, 3, 7, 7)
    assert finit._calculate_fan_in_and_fan_out(w) == tinit._calculate_fan_in_and_fan_out(w) == (147, 3136)
    assert finit._calculate_correct_fan(w, "fan_out") == 3136
    with pytest.raises(ValueError, match="Mode bad not supported"):
        finit._calculate_correct_fan(w, "bad")


class _Logged(torch.Tensor):
    """A __torch_function__ subclass that records the torch functions it sees."""

    seen: list = []

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        cls.seen.append(getattr(func, "__name__", str(func)))
        return super().__torch_function__(func, types, args, kwargs or {})


def test_tensor_subclasses_go_to_torch_nn_init():
    """Subclasses that override torch's functions or dispatch (FakeTensor, DTensor, UninitializedParameter, a
    __torch_function__ subclass) are handed to torch.nn.init's function of the same name: torch's behaviour,
    where fastinit would have failed reading their memory; fastinit-only arguments are refused for them."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.nn.parameter import UninitializedParameter

    with FakeTensorMode():
        fake = torch.empty(16, 8)
    # (not trunc_normal_: torch's fails on a FakeTensor, its rejection loop reads values; fastinit's the same way)
    for call in (finit.normal_, finit.uniform_, finit.xavier_uniform_, finit.kaiming_normal_, finit.orthogonal_,
                 finit.zeros_, lambda t: finit.constant_(t, 2), lambda t: finit.eye_(t)):
        assert call(fake) is fake
    for call, match in [(lambda: finit.normal_(fake, seed=1), "torch.nn.init has no seed="),
                        (lambda: finit.xavier_uniform_(fake, global_shape=(32, 8), offset=(0, 0)),
                         "torch.nn.init has no global_shape=, offset="),
                        (lambda: finit.lecun_normal_(fake), "lecun_normal_ is not in torch.nn.init")]:
        with pytest.raises(TypeError, match=match):
            call()
    logged = torch.zeros(5, 4).as_subclass(_Logged)
    _Logged.seen.clear()
    finit.uniform_(logged, 0.5, 1.0)
    assert "uniform_" in _Logged.seen and (logged >= 0.5).all()  # torch's dispatch: the subclass saw the call
    with pytest.raises(ValueError, match="uninitialized parameter"):  # torch's own error
        finit.kaiming_uniform_(UninitializedParameter())
    p = torch.nn.Parameter(torch.empty(6, 4))  # a Parameter is a plain tensor: fastinit's values
    assert torch.equal(finit.normal_(p, seed=3).detach(), finit.normal_(torch.empty(6, 4), seed=3))


def test_torch_func_wrappers_go_to_torch_nn_init():
    """vmap / grad / functionalize wrap tensors of type torch.Tensor with no storage of their own: torch's
    behaviour (fastinit read them as 'out has dtype torch.float32; supported dtypes are ... float32', and wrote
    nothing under functionalize)."""
    out = torch.func.vmap(lambda t: finit.normal_(t), randomness="different")(torch.zeros(3, 400))
    assert out.shape == (3, 400) and 0.8 < out.std() < 1.2 and not torch.equal(out[0], out[1])
    x = torch.zeros(3, 4)
    written = torch.func.functionalize(lambda t: finit.uniform_(t, 1.0, 2.0) * 1)(x)
    assert (written >= 1).all() and (x >= 1).all()
    grads = [torch.func.grad(lambda t: (fill(t.clone(), 2.0) * t).sum())(torch.ones(3))
             for fill in (finit.constant_, torch.nn.init.constant_)]
    assert torch.equal(grads[0], grads[1])  # torch's (3: the fill runs under no_grad)
    with pytest.raises(TypeError, match="torch.nn.init has no seed="):
        torch.func.vmap(lambda t: finit.normal_(t, seed=1), randomness="different")(torch.zeros(2, 4))


def test_torch_compile_runs_the_fills_eagerly_even_as_the_first_call_of_a_process():
    """Under torch.compile a fastinit.torch call is a graph break: the same values as eager.  In a fresh process
    whose first fill was traced, Dynamo used to trace into numba's dispatcher and crash."""
    code = """if True:
        import torch, fastinit.torch as F
        def make(w):
            F.kaiming_uniform_(w, a=5 ** 0.5, seed=4)
            return w * 2
        got = torch.compile(make, backend="eager")(torch.empty(16, 16))
        assert torch.equal(got, make(torch.empty(16, 16))), "compiled != eager"
        torch.manual_seed(0)
        a = torch.compile(lambda w: F.normal_(w) + 0, backend="eager")(torch.empty(8, 8))
        torch.manual_seed(0)
        assert torch.equal(a, F.normal_(torch.empty(8, 8))), "generator draws differ"

        class M(torch.nn.Module):  # torch.export's non-strict tracing is not Dynamo: FakeTensors go to torch
            def forward(self, x):
                w = torch.empty(4, 4)
                F.normal_(w)
                return x @ w

        torch.export.export(M(), (torch.ones(2, 4),), strict=False)
        print("ok")
    """
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-3000:]


@pytest.mark.parametrize("init, shape", [(finit.eye_, (3, 4)), (lambda t: finit.dirac_(t), (2, 3, 3))])
def test_structured_fills_of_an_expanded_view_go_to_torch(init, shape):
    ours = torch.zeros((1, *shape[1:])).expand(*shape)
    theirs = torch.zeros((1, *shape[1:])).expand(*shape)
    init(ours)
    (torch.nn.init.eye_ if len(shape) == 2 else torch.nn.init.dirac_)(theirs)
    assert torch.equal(ours, theirs)


def test_orthogonal_keeps_the_sign_of_a_negative_gain_like_torch():
    pos = finit.orthogonal_(torch.empty(12, 20, dtype=torch.float64), gain=1.5, seed=3)
    neg = finit.orthogonal_(torch.empty(12, 20, dtype=torch.float64), gain=-1.5, seed=3)
    assert torch.equal(neg, -pos)
    assert torch.allclose(neg @ neg.T, 2.25 * torch.eye(12, dtype=torch.float64), atol=1e-12)


@pytest.mark.parametrize("shape", [(2, 3), (3, 2)])
def test_constant_fills_an_expanded_view_with_a_zero_stride_axis_of_two(shape):
    base = torch.zeros((1, shape[1]) if shape[0] == 2 else (shape[0], 1))
    view = base.expand(*shape)
    assert 0 in view.stride()
    assert finit.constant_(view, 0.5) is view
    assert torch.equal(view, torch.full(shape, 0.5)) and torch.equal(base, torch.full(base.shape, 0.5))


@pytest.mark.parametrize("dtype", [torch.float32, torch.int32])
@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5)])
def test_sparse_refuses_non_2d_tensors_with_torchs_error_for_any_dtype(shape, dtype):
    for init in (torch.nn.init.sparse_, finit.sparse_):
        with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
            init(torch.zeros(shape, dtype=dtype), 0.5)


def test_number_arguments_are_checked_before_torchs_comparisons():
    """uniform_ / normal_ compare a > b and std < 0 as torch does, after fastinit's own number checks: a non-number
    is a TypeError naming it, an inf NumPy scalar as a == b is refused like a Python one; constant_ takes what
    fastinit.constant_ takes (and True, as torch), not a string or a 1-element 1-D tensor."""
    w = torch.full((3, 4), 7.0)
    for call, exc, match in [
            (lambda: finit.uniform_(w, a=None), TypeError, "uniform_: a must be a real number, got NoneType"),
            (lambda: finit.uniform_(w, 0.0, np.ones(2)), TypeError, "uniform_: b must be a real number"),
            (lambda: finit.normal_(w, std="1"), TypeError, "normal_: std must be a real number, got str"),
            (lambda: finit.uniform_(w, np.float32("inf"), np.float32("inf")), ValueError, "must be finite"),
            (lambda: finit.constant_(w, "1.5"), TypeError, "constant_: val must be a real number, got str"),
            (lambda: finit.constant_(w, torch.tensor([3.0])), TypeError, "constant_: val must be a real number"),
            (lambda: finit.constant_(w, 10**400), ValueError, "constant_: val=an int of 1329 bits overflows")]:
        with pytest.raises(exc, match=match):
            call()
    assert (w == 7).all()
    with pytest.raises(RuntimeError, match="expects to return a"):  # torch's own error for a > b
        finit.uniform_(w, np.float32(2.0), 1.0)
    assert (finit.constant_(w, True) == 1).all() and (finit.uniform_(w, torch.tensor(2.5), 2.5) == 2.5).all()
    # 0-d NumPy arrays, which torch's arithmetic takes (gain, sparsity, groups; a review): numbers, as 0-d tensors
    for ours, zero_d, number in [(finit.xavier_uniform_, np.array(2.0), 2.0), (finit.sparse_, np.array(0.5), 0.5),
                                 (finit.normal_, np.array(0.5), 0.5)]:
        assert torch.equal(ours(torch.empty(4, 6), zero_d, seed=3), ours(torch.empty(4, 6), number, seed=3))
    conv = torch.empty(4, 2, 3)
    assert torch.equal(finit.dirac_(conv, np.array(2)), finit.dirac_(torch.empty(4, 2, 3), 2))
    with pytest.raises(TypeError, match="gain must be a real number"):
        finit.xavier_uniform_(w, np.array(True))  # a 0-d bool array: not a number, as True is not for gain
    half = torch.full((3,), 7.0, dtype=torch.float16)
    with pytest.raises(ValueError, match=r"^uniform_: bounds \[100000.0, 100000.0\) exceed the finite range of "
                                         r"float16 \(±65504\)"):  # said constant_'s val=
        finit.uniform_(half, 1e5, 1e5)
    assert (half == 7).all()


def test_constant_refuses_a_finite_value_beyond_the_dtypes_largest_as_torch():
    """torch refuses a finite value beyond the dtype's largest finite one, even one that rounds to it (65519 in
    float16); so does fastinit.torch, before any write, while fastinit.constant_ stores it rounded, as NumPy."""
    for dtype, val, largest in [(torch.float16, 65519.0, 65504.0), (torch.float16, -65505, -65504.0),
                                (torch.bfloat16, 3.39e38, 3.3895313892515355e38),
                                (torch.float32, 3.4028235e38 * (1 + 2.0**-26), 3.4028234663852886e38)]:
        for init in (tinit, finit):
            w = torch.zeros(3, dtype=dtype)
            with pytest.raises(RuntimeError if init is tinit else ValueError, match="overflow"):
                init.constant_(w, val)
            assert not w.any()
            assert (init.constant_(w, largest) == largest).all()  # the largest itself is taken
        assert (fastinit.constant_(np.zeros(3, finit._numpy_dtype(dtype)), val) == largest).all()
    assert finit.constant_(torch.zeros(2, dtype=torch.float16), float("-inf")).isneginf().all()  # inf is no overflow
    for init in (tinit, finit):  # a 0-d tensor's value is rounded, as torch's fill_ rounds it (a review)
        assert (init.constant_(torch.zeros(2, dtype=torch.float16), torch.tensor(65519.0)) == 65504).all()


def test_a_finite_bound_beyond_float64_is_named_as_an_overflow():
    w = torch.zeros(3)
    with pytest.raises(ValueError, match=r"^uniform_: a=an int of 1329 bits overflows float64"):
        finit.uniform_(w, 10**400, 10**400)
    with pytest.raises(ValueError, match=r"^normal_: std=an int of 1329 bits overflows float64"):
        finit.normal_(w, 0.0, 10**400)
    assert (w == 0).all()


def test_plain_api_refuses_tensors_without_memory_of_their_own_by_what_they_are():
    """fastinit.normal_ (not fastinit.torch's) on a torch.func wrapper wrote nothing under functionalize and was
    refused as 'dtype torch.float32 not supported' under vmap / grad and for FakeTensor / wrapper subclasses."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    from fastinit import normal_ as fastinit_normal_

    x = torch.zeros(3)
    for transform in (torch.func.functionalize, torch.vmap):
        with pytest.raises(TypeError, match="torch.func transform's tensor .* fastinit.torch's initializers"):
            transform(lambda t: fastinit_normal_(t, seed=1))(x.reshape(1, 3))
    assert not x.any()
    with FakeTensorMode():
        for dtype in (torch.float32, torch.bfloat16):  # bfloat16 (viewed through int16) was a raw RuntimeError
            with pytest.raises(TypeError, match="out is a FakeTensor, a torch tensor subclass with no memory"):
                fastinit_normal_(torch.zeros(3, dtype=dtype), seed=1)
    with pytest.raises(TypeError, match="has dtype torch.float8_e4m3fn; supported dtypes"):  # a dtype is still named
        fastinit_normal_(torch.zeros(3, dtype=torch.float8_e4m3fn), seed=1)


def test_torch_nn_init_patched_with_fastinit_torch_still_hands_integers_and_subclasses_to_torch(monkeypatch):
    """A program may point torch.nn.init's names at fastinit.torch's, so that modules' own reset_parameters use
    fastinit; what fastinit hands to torch (integer tensors, a BatchNorm's num_batches_tracked) then recursed
    forever, looked up in torch.nn.init at the call."""
    for name in finit.__all__:
        if name.endswith("_") and hasattr(tinit, name):
            monkeypatch.setattr(tinit, name, getattr(finit, name))
    assert tinit.zeros_(torch.ones(3, dtype=torch.int64)).tolist() == [0, 0, 0]
    assert tinit.constant_(torch.zeros(2, dtype=torch.int32), 7).tolist() == [7, 7]
    assert torch.equal(tinit.eye_(torch.zeros(2, 2, dtype=torch.int64)), torch.eye(2, dtype=torch.int64))
    assert tinit.dirac_(torch.zeros(2, 2, 3, dtype=torch.int64)).sum() == 2
    with torch.device("meta"):
        model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8))
    finit.materialize(model, seed=0)
    assert model[1].num_batches_tracked.item() == 0 and model[0].weight.abs().max() > 0
    torch.manual_seed(5)
    built = torch.nn.Linear(4, 3).weight.detach().clone()  # its reset_parameters: fastinit's kaiming_uniform_
    torch.manual_seed(5)
    assert torch.equal(built, finit.kaiming_uniform_(torch.empty(3, 4), a=math.sqrt(5)))


def test_as_numpy_views_a_cpu_tensors_memory_and_names_what_it_cannot_view():
    """as_numpy: no copy (bfloat16 as ml_dtypes.bfloat16); a sparse, CSR or nested tensor is said to be one (it
    was called "a torch tensor subclass ... handed to torch.nn.init", neither true: a review)."""
    import ml_dtypes

    import fastinit

    t = torch.zeros(4, 6, dtype=torch.bfloat16)[:, ::2]
    a = finit.as_numpy(t)
    a[...] = 1.5
    assert a.dtype == ml_dtypes.bfloat16 and a.shape == (4, 3) and (t == 1.5).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's beta / prototype notices
        tensors = [(torch.eye(3).to_sparse(), "torch.sparse_coo"), (torch.eye(3).to_sparse_csr(), "torch.sparse_csr"),
                   (torch.nested.nested_tensor([torch.ones(2), torch.ones(3)]), "nested")]
    for t, kind in tensors:
        with pytest.raises(TypeError, match=f"tensor is a {kind} torch tensor; fastinit fills dense"):
            finit.as_numpy(t)
        for a, b in ((0.0, 1.0), (1.0, 1.0)):  # uniform_(a == b) too (it raised torch's internal errors)
            with pytest.raises(TypeError, match=f"^tensor is a {kind} torch tensor; fastinit fills dense"):
                finit.uniform_(t, a, b, seed=0)  # torch's parameter's name, as fastinit's own names ``out``:
            with pytest.raises(TypeError, match=f"^out is a {kind} torch tensor; fastinit fills dense"):
                fastinit.uniform_(t, a, b, seed=0)  # (the name is fastinit.torch's for its call only)


def test_a_tensor_whose_storage_was_freed_is_refused_not_written_through_its_stale_pointer():
    """FSDP frees a parameter's storage between uses (untyped_storage().resize_(0)): its data pointer is then not
    its memory, and fastinit wrote 4 MB through it (torch's own fill crashes the process; a review)."""
    import fastinit

    t = torch.empty(1000, 1000)
    t.untyped_storage().resize_(0)
    for fill in (lambda: finit.constant_(t, 1.0), lambda: finit.normal_(t, seed=0),
                 lambda: fastinit.uniform_(t, seed=0), lambda: finit.as_numpy(t)):
        with pytest.raises(ValueError, match="storage holds 0 bytes, fewer than the 4000000 its view spans"):
            fill()
    shrunk = torch.empty(100)
    tail, strided = shrunk[10:], shrunk.view(10, 10)[:, ::3]  # contiguous at an offset; 40 elements spanning 100
    shrunk.untyped_storage().resize_(396)  # 99 float32: the last element lost
    for t, span in ((tail, 400), (strided, 400)):
        with pytest.raises(ValueError, match=f"storage holds 396 bytes, fewer than the {span} its view spans"):
            finit.normal_(t, seed=0)
    assert finit.normal_(shrunk[10:98], seed=1).abs().sum() > 0  # within what is left: filled
    view = torch.zeros(10, 10)[2:5, 3:7]  # a view within its storage: filled
    assert finit.normal_(view, seed=1) is view and view.abs().sum() > 0


def test_fills_leave_a_tensors_storage_resizable_as_torch_nn_init_does():
    """Tensor.numpy() marks a storage non-resizable for good: fastinit viewed CPU tensors through it, so a later
    t.resize_(n) or FSDP's untyped_storage().resize_(0) raised after a fastinit fill (not after torch.nn.init's).
    torch's own tensor types are viewed through __array_interface__ now: the same memory, kept alive by the view."""
    import gc
    import weakref

    fills = [lambda t: finit.normal_(t, seed=1), lambda t: finit.kaiming_uniform_(t, seed=2),
             lambda t: finit.trunc_normal_(t, seed=3), lambda t: finit.orthogonal_(t, seed=4),
             lambda t: finit.sparse_(t, 0.5, seed=5), lambda t: finit.constant_(t, 0.25), finit.eye_,
             lambda t: fastinit.uniform_(t, seed=6)]
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        for i, fill in enumerate(fills):
            base = torch.zeros(6, 16, dtype=dtype)
            for t in (base[:, :8], base[:, ::2], torch.nn.Parameter(base[:, 8:])):  # a Parameter requires grad
                fill(t)
            assert base.abs().sum() > 0, (dtype, i)
            base.resize_(200)  # (torch's error: "Trying to resize storage that is not resizable")
            base.untyped_storage().resize_(0)
        with torch.device("meta"):
            model = torch.nn.Linear(8, 6, dtype=dtype)
        finit.materialize(model, seed=7)
        for p in model.parameters():
            p.data.resize_(200)
            p.data.untyped_storage().resize_(0)
    base = torch.zeros(3, 8)
    view = finit.as_numpy(base[:, 1::3])
    view[...] = 7
    assert view.shape == (3, 3) and view.strides == (32, 12) and base.sum() == 63 and (base[:, 1::3] == 7).all()
    kept = weakref.ref(base)
    del base
    gc.collect()
    assert kept() is not None  # the view holds the tensor
    del view
    gc.collect()
    assert kept() is None


IMPORTED_UNDER_A_PATCH = r"""
import torch
names = [n for n in vars(torch.nn.init) if n.endswith("_") and callable(getattr(torch.nn.init, n))]
saved = {n: getattr(torch.nn.init, n) for n in names}

def _skip_init(*args, **kwargs):  # transformers' no_init_weights puts such a no-op there while a model is built
    pass

for n in names:
    setattr(torch.nn.init, n, _skip_init)
import fastinit.torch as finit  # imported inside the patch
for n, f in saved.items():
    setattr(torch.nn.init, n, f)
ints = torch.zeros(2, 3, dtype=torch.int64)
print(finit.ones_(ints) is ints, ints.tolist(), finit.constant_(torch.zeros(2, dtype=torch.complex64), 2).tolist(),
      finit.eye_(torch.zeros(2, 2, dtype=torch.int32)).tolist())
"""


def test_torchs_own_functions_imported_under_a_patch_are_torchs_once_restored():
    """fastinit.torch keeps torch.nn.init's functions as imported (a program may point torch.nn.init's names at
    fastinit's); imported while transformers' no_init_weights had pointed them at a no-op, it kept the no-op:
    ones_ of an int64 tensor returned None and wrote nothing (a review).  torch's, once they are back."""
    r = subprocess.run([sys.executable, "-W", "ignore", "-c", IMPORTED_UNDER_A_PATCH], capture_output=True, text=True,
                       timeout=300, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split("\n")[0] == "True [[1, 1, 1], [1, 1, 1]] [(2+0j), (2+0j)] [[1, 0], [0, 1]]", r.stdout


def test_torch_function_modes_are_offered_the_call_and_dispatch_modes_see_torchs_operations():
    """torch.nn.init's uniform_, normal_, constant_ and kaiming_uniform_ (nn.Linear's and nn.Conv's) offer an
    active TorchFunctionMode the call (a mode may skip an init, as model loaders' "skip init" modes do, or pass it
    on), and under a TorchDispatchMode their writes are aten operations the mode sees.  fastinit.torch's
    functions offer the mode the call too (torch.device's own mode passes it on: fastinit's values), and under a
    dispatch mode hand the tensor to torch.nn.init (torch's values; fastinit-only arguments refused, as for a
    tensor subclass)."""
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    class Skip(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if getattr(func, "__module__", None) in ("torch.nn.init", "fastinit.torch"):
                return args[0] if args else kwargs["tensor"]
            return func(*args, **(kwargs or {}))

    class Seen(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.funcs = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.funcs.append(func)
            return func(*args, **(kwargs or {}))

    class Ops(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops.append(str(func))
            return func(*args, **(kwargs or {}))

    expected = finit.kaiming_normal_(torch.empty(6, 4), seed=2)
    for init in (finit, tinit):  # fastinit as torch does
        t = torch.full((6, 4), 7.0)
        with Skip():
            assert init.kaiming_uniform_(t) is t and init.uniform_(t, 2.0, 2.0) is t and init.normal_(t) is t
            assert init.constant_(t, 1.0) is t
        assert (t == 7).all()
    with Skip():
        assert finit.trunc_normal_(t) is t and finit.xavier_normal_(t) is t and finit.orthogonal_(t) is t
    assert (t == 7).all()
    with Seen() as seen:
        t = finit.kaiming_normal_(torch.empty(6, 4), seed=2)
    assert torch.equal(t, expected) and finit.kaiming_normal_ in seen.funcs
    with torch.device("cpu"):
        assert torch.equal(finit.kaiming_normal_(torch.empty(6, 4), seed=2), expected)
    torch.manual_seed(3)
    with Ops() as seen:
        t = finit.normal_(torch.full((6, 4), 7.0), 1.0, 0.5)
    torch.manual_seed(3)
    assert "aten.normal_.default" in seen.ops and torch.equal(t, tinit.normal_(torch.full((6, 4), 7.0), 1.0, 0.5))
    with Ops(), pytest.raises(TypeError, match="TorchDispatchMode is active.*torch.nn.init has no seed="):
        finit.normal_(t, seed=1)
    with Ops(), pytest.raises(TypeError, match="lecun_normal_ is not in torch.nn.init"):
        finit.lecun_normal_(t)
    assert torch.equal(finit.normal_(t, seed=1), finit.normal_(torch.empty(6, 4), seed=1))  # the mode is gone
    entered, done = threading.Event(), threading.Event()

    def elsewhere():  # another thread's dispatch mode is not this thread's (torch's mode stacks are per thread)
        with Ops():
            entered.set()
            done.wait(60)

    other = threading.Thread(target=elsewhere)
    other.start()
    try:
        entered.wait(60)
        assert torch.equal(finit.normal_(torch.empty(6, 4), seed=1), finit.normal_(t, seed=1))
    finally:
        done.set()
        other.join()


def test_uniform_with_equal_bounds_refuses_an_expanded_view_as_every_sampler_does():
    """uniform_(a == b) fills a as constant_ would, but an expanded view is still a sampler's refusal (torch
    raises too), not handed to torch's constant_."""
    t = torch.full((1, 4), 7.0).expand(3, 4)
    with pytest.raises(RuntimeError, match="more than one element"):
        tinit.uniform_(t, 1.0, 1.0)
    for a in (1.0, 2.0):  # a < b and a == b
        with pytest.raises(ValueError, match="zero strides"):
            finit.uniform_(t, 1.0, a)
    assert (t == 7).all()
    for empty in (torch.empty(1, 3, device="meta").expand(4, 3), torch.empty(1, 0).expand(5, 0)):  # no element
        for a in (1.0, 2.0):  # written: nothing to refuse, as torch
            assert finit.uniform_(empty, 1.0, a) is empty and tinit.uniform_(empty, 1.0, a) is empty
    with pytest.raises(TypeError, match="supported dtypes"):  # the dtype first, as for a < b
        finit.uniform_(torch.zeros(1, 3, dtype=torch.int32).expand(4, 3), 1.0, 1.0)


def test_uniform_keeps_a_lower_bound_float64_cannot_hold():
    """fastinit.torch.uniform_ turned a into a float first: 2**53 (below a = 2**53 + 1) was stored in 523 of 4000."""
    for a in (2**53 + 1, torch.tensor(2**53 + 1)):
        t = finit.uniform_(torch.empty(4000, dtype=torch.float64), a, 2**53 + 7, seed=0)
        assert int(t.min().item()) >= 2**53 + 1


@pytest.mark.parametrize("global_shape", [np.array([8, 4]), torch.tensor([8, 4]), torch.Size([8, 4]), [8, 4]])
def test_kaimings_empty_shard_takes_any_sequence_as_its_global_shape(global_shape):
    """A review (2026-12-06 (c)): kaiming_uniform_ / kaiming_normal_ of an empty shard crashed ('NoneType' object is
    not callable) with a NumPy array or a tensor as global_shape, which every other initializer takes; the empty
    block is checked and left alone, a non-empty one gets the tuple's values."""
    for fill in (finit.kaiming_uniform_, finit.kaiming_normal_):
        empty = torch.empty(0, 4)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # (no zero-element warning: the whole tensor is not empty)
            assert fill(empty, global_shape=global_shape, offset=(2, 0), seed=1) is empty
        block = fill(torch.empty(2, 4), global_shape=global_shape, offset=(2, 0), seed=1)
        assert torch.equal(block, fill(torch.empty(2, 4), global_shape=(8, 4), offset=(2, 0), seed=1))
        for shape in (torch.empty(2, 4), torch.empty(0, 4)):  # (a second review: OverflowError, not naming it)
            with pytest.raises(TypeError, match=r"global_shape must be a tuple of ints, got \(inf, 4\)"):
                fill(shape, global_shape=(float("inf"), 4), offset=(2, 0), seed=1)


def test_a_bool_tensor_is_no_shape_or_offset_entry():
    """True and np.True_ were refused as sizes, a torch bool tensor (or a JAX one) taken as 1 by operator.index (a
    review): refused alike, the buffer untouched."""
    w = np.full((2, 3), 7.0, np.float32)
    for true in (True, np.True_, torch.tensor(True)):
        with pytest.raises(TypeError, match="offset must be a tuple of ints"):
            fastinit.uniform_(w, seed=0, global_shape=(3, 3), offset=(true, 0))
        with pytest.raises(TypeError, match="global_shape must be a tuple of ints"):
            fastinit.uniform_(w, seed=0, global_shape=(true, 3), offset=(0, 0))
    assert (w == 7).all()
    assert fastinit.uniform_(w, seed=0, global_shape=(torch.tensor(3), 3), offset=(torch.tensor(1), 0)) is w
