"""fastinit.torch.materialize: a meta-device (or built) model gets its modules' default laws, by name, once."""
import functools
import math
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy import stats

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import fastinit  # noqa: E402
import fastinit.torch as ft  # noqa: E402
from fastinit.torch import materialize  # noqa: E402

P_MIN = 1e-4


def _f64(t):
    return t.detach().to(torch.float64).numpy().ravel()


def _zoo():
    """Every module family with a rule, big enough for KS tests, nested in Sequential / ModuleDict."""
    return nn.Sequential(
        nn.Linear(512, 256),
        nn.ModuleDict({
            "conv1": nn.Conv1d(64, 128, 5), "conv2": nn.Conv2d(32, 64, 3), "conv3": nn.Conv3d(8, 16, 3),
            "tconv1": nn.ConvTranspose1d(64, 32, 5), "tconv2": nn.ConvTranspose2d(32, 16, 3, groups=2),
            "tconv3": nn.ConvTranspose3d(8, 8, 3),
        }),
        nn.Bilinear(20, 30, 40),
        nn.Embedding(1000, 64, padding_idx=7),
        nn.EmbeddingBag(500, 32),
        nn.Sequential(nn.LayerNorm(64), nn.GroupNorm(4, 64), nn.BatchNorm1d(64), nn.BatchNorm2d(8),
                      nn.InstanceNorm1d(64, affine=True, track_running_stats=True), nn.RMSNorm(64)),
        nn.MultiheadAttention(128, 4, add_bias_kv=True),
        nn.MultiheadAttention(64, 4, kdim=32, vdim=48),
        nn.RNN(32, 64), nn.LSTM(32, 64, num_layers=2), nn.GRU(32, 48, bidirectional=True),
        nn.RNNCell(16, 32), nn.LSTMCell(16, 32), nn.GRUCell(16, 32),
        nn.PReLU(8, init=0.1),
    )


def _fan_in(w):
    return w.shape[1] * math.prod(w.shape[2:])


def _law(module, local):
    """(kind, parameter) each module's reset_parameters draws ``local`` from, from torch's source."""
    p = getattr(module, local)
    if isinstance(module, (nn.Linear, nn.modules.conv._ConvNd)):
        return "uniform", 1 / math.sqrt(_fan_in(module.weight))  # kaiming_uniform_(a=√5) and the bias bound
    if isinstance(module, nn.Bilinear):
        return "uniform", 1 / math.sqrt(module.in1_features)
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        return "normal", 1.0
    if isinstance(module, (nn.RNNBase, nn.RNNCellBase)):
        return "uniform", 1 / math.sqrt(module.hidden_size)
    if isinstance(module, nn.PReLU):
        return "const", module.init
    if isinstance(module, nn.MultiheadAttention):
        if local.endswith("proj_weight"):
            return "uniform", math.sqrt(6 / (p.shape[0] + p.shape[1]))  # xavier_uniform_
        if local in ("bias_k", "bias_v"):
            return "normal", math.sqrt(2 / (2 * p.shape[2]))  # xavier_normal_ of (1, 1, E)
        return "const", 0.0
    if local in ("weight", "running_var"):
        return "const", 1.0
    return "const", 0.0


def _check_law(kind, arg, x, what):
    if kind == "const":
        assert np.all(x == np.float32(arg)), what
    elif kind == "uniform":
        assert np.abs(x).max() <= arg, what
        assert stats.kstest(x, "uniform", args=(-arg, 2 * arg)).pvalue > P_MIN, what
    else:
        assert stats.kstest(x, "norm", args=(0, arg)).pvalue > P_MIN, what


def _meta(build):
    with torch.device("meta"):
        return build()


@pytest.fixture(scope="module")
def zoo():
    model = _meta(_zoo)
    summary = materialize(model, seed=11)
    return model, summary


def test_every_tensor_is_allocated_on_cpu(zoo):
    model, _ = zoo
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        assert t.device.type == "cpu", name
    assert model[5][2].num_batches_tracked.dtype == torch.int64


def test_each_parameter_follows_its_modules_default_law(zoo):
    model, _ = zoo
    for mname, m in model.named_modules():
        for local, p in m.named_parameters(recurse=False):
            x = _f64(p)
            if isinstance(m, nn.Embedding):
                x = np.delete(p.detach().numpy(), m.padding_idx, axis=0).ravel().astype(np.float64)
            if mname.endswith("out_proj") and local == "bias":  # MultiheadAttention zeroes its out_proj.bias
                kind, arg = "const", 0.0
            else:
                kind, arg = _law(m, local)
            _check_law(kind, arg, x, f"{mname}.{local}")


def test_padding_row_is_zero_and_running_stats_reset(zoo):
    model, _ = zoo
    emb = model[3]
    assert torch.all(emb.weight[7] == 0) and torch.all(emb.weight[6] != 0)
    for bn in (model[5][2], model[5][3], model[5][4]):
        assert torch.all(bn.running_mean == 0) and torch.all(bn.running_var == 1) and bn.num_batches_tracked == 0


def test_meta_model_matches_the_law_of_the_same_model_built_normally(zoo):
    model, _ = zoo
    torch.manual_seed(0)
    built = _zoo()
    for (name, p), (_, q) in zip(model.named_parameters(), built.named_parameters()):
        a, b = _f64(p), _f64(q)
        if np.ptp(b) == 0:
            assert np.array_equal(a, b), name
        else:
            assert stats.ks_2samp(a, b).pvalue > P_MIN, name


def test_transformer_laws_match_torch():
    """nn.Transformer re-draws every >= 2-D parameter with xavier_uniform_ after its layers' own init."""
    build = functools.partial(nn.Transformer, 64, 4, 1, 1, 256, batch_first=True)
    model = _meta(build)
    summary = materialize(model, seed=2)
    w = model.encoder.layers[0].linear1.weight
    _check_law("uniform", math.sqrt(6 / sum(w.shape)), _f64(w), "linear1")
    assert summary["encoder.layers.0.self_attn.out_proj.weight"].method == "xavier_uniform"
    torch.manual_seed(0)
    built = build()
    for (name, p), (_, q) in zip(model.named_parameters(), built.named_parameters()):
        if p.dim() > 1:
            assert stats.ks_2samp(_f64(p), _f64(q)).pvalue > P_MIN, name
        else:
            assert torch.equal(p, q) or stats.ks_2samp(_f64(p), _f64(q)).pvalue > P_MIN, name


class TiedLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(300, 32)
        self.body = nn.Linear(32, 32)
        self.head = nn.Linear(32, 300, bias=False)
        self.head.weight = self.wte.weight


def test_tied_parameters_stay_tied_and_are_filled_once():
    model = _meta(TiedLM)
    summary = materialize(model, seed=5)
    assert model.head.weight is model.wte.weight
    assert model.head.weight.data_ptr() == model.wte.weight.data_ptr()
    rec = summary["wte.weight"]
    assert rec.aliases == ("head.weight",) and "head.weight" not in summary.records
    assert rec.method.startswith("normal(0, 1)")  # the rule of its first name: the embedding's
    assert summary.numel == 300 * 32 + 32 * 32 + 32


def _all(model):
    return {n: t.detach().clone() for n, t in [*model.named_parameters(), *model.named_buffers()]}


def test_same_seed_same_bits_other_seed_other_bits():
    a, b, c = (_meta(TiedLM) for _ in range(3))
    materialize(a, seed=1)
    materialize(b, seed=1)
    materialize(c, seed=2)
    va, vb, vc = _all(a), _all(b), _all(c)
    assert all(torch.equal(va[n], vb[n]) for n in va)
    assert not torch.equal(va["body.weight"], vc["body.weight"])


class Ordered(nn.Module):
    def __init__(self, order):
        super().__init__()
        make = {"a": lambda: nn.Linear(16, 8), "b": lambda: nn.Embedding(40, 8),
                "c": lambda: nn.Sequential(nn.Conv1d(4, 6, 3), nn.LayerNorm(6))}
        for key in order:
            setattr(self, key, make[key]())


def test_values_do_not_depend_on_construction_order():
    one, two = _meta(lambda: Ordered("abc")), _meta(lambda: Ordered("cba"))
    materialize(one, seed=3)
    materialize(two, seed=3)
    assert [n for n, _ in one.named_parameters()] != [n for n, _ in two.named_parameters()]
    v1, v2 = _all(one), _all(two)
    assert v1.keys() == v2.keys() and all(torch.equal(v1[n], v2[n]) for n in v1)


def test_each_tensor_equals_its_fastinit_initializer_with_its_name_as_stream():
    model = _meta(lambda: nn.Sequential(nn.Linear(48, 24), nn.Embedding(30, 8)))
    materialize(model, seed=9)
    w = ft.kaiming_uniform_(torch.empty(24, 48), a=math.sqrt(5), seed=9, stream="0.weight")
    assert torch.equal(model[0].weight, w)
    b = ft.uniform_(torch.empty(24), -1 / math.sqrt(48), 1 / math.sqrt(48), seed=9, stream="0.bias")
    assert torch.equal(model[0].bias, b)
    assert torch.equal(model[1].weight, ft.normal_(torch.empty(30, 8), seed=9, stream="1.weight"))


def test_unseeded_call_draws_from_torchs_generator_and_records_the_seed():
    torch.manual_seed(123)
    a = _meta(TiedLM)
    s = materialize(a)
    torch.manual_seed(123)
    b = _meta(TiedLM)
    materialize(b)
    c = _meta(TiedLM)
    materialize(c, seed=s.seed)
    assert torch.equal(a.body.weight, b.body.weight) and torch.equal(a.body.weight, c.body.weight)


def test_already_materialized_model_is_reinitialized_in_place():
    built = TiedLM()
    params = {n: (p, p.data_ptr()) for n, p in built.named_parameters()}
    materialize(built, seed=4)
    meta = _meta(TiedLM)
    materialize(meta, seed=4)
    for n, p in built.named_parameters():
        assert p is params[n][0] and p.data_ptr() == params[n][1]
        assert torch.equal(p, meta.get_parameter(n))


def test_dtype_converts_floating_tensors_only():
    model = _meta(lambda: nn.Sequential(nn.Linear(64, 64), nn.BatchNorm1d(64)))
    materialize(model, seed=0, dtype=torch.bfloat16)
    assert model[0].weight.dtype == torch.bfloat16 and model[1].running_var.dtype == torch.bfloat16
    assert model[1].num_batches_tracked.dtype == torch.int64
    assert float(model[0].weight.detach().float().abs().max()) <= 1 / 8


class _TaggedParameter(nn.Parameter):
    """A Parameter subclass (as optimizers' param-group code checks with isinstance)."""


class _DispatchingParameter(nn.Parameter):
    """A subclass with its own __torch_function__ (bitsandbytes' Params4bit keeps metadata through chunk/split)."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return super().__torch_function__(func, types, args, kwargs or {})


def test_parameter_class_attributes_and_requires_grad_are_kept():
    """Mamba-style ``p._no_weight_decay = True`` and a Parameter subclass survive allocation (and dtype)."""
    for dtype, cls in ((None, _TaggedParameter), (torch.float64, _TaggedParameter), (None, _DispatchingParameter)):
        model = _meta(lambda: nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8)))
        model[0].weight = cls(model[0].weight)
        model[0].weight._no_weight_decay = True
        model[1].bias.requires_grad_(False)
        materialize(model, seed=0, dtype=dtype)  # a __torch_function__ subclass was handed to torch.nn.init: refused
        w = model[0].weight
        assert type(w) is cls and w._no_weight_decay and w.requires_grad and not w.is_meta
        assert type(model[0].bias) is nn.Parameter and not model[1].bias.requires_grad
        assert torch.equal(w, ft.kaiming_uniform_(torch.empty(8, 8, dtype=w.dtype), a=math.sqrt(5), seed=0,
                                                  stream="0.weight"))


def test_memory_format_is_kept_and_values_do_not_depend_on_it():
    """Like Module.to_empty, materialize keeps a meta tensor's strides (channels_last), also where it converts a
    built model's dtype and in a parametrized weight's originals; the values are the contiguous model's."""
    cl = torch.channels_last

    def build():
        return nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16),
                             nn.utils.parametrizations.weight_norm(nn.Conv2d(16, 8, 3)))
    for meta, dtype in ((True, None), (False, torch.float64)):
        ref = _meta(build) if meta else build()
        materialize(ref, seed=0, dtype=dtype)
        model = (_meta(build) if meta else build()).to(memory_format=cl)
        empty = _meta(build).to(memory_format=cl).to_empty(device="cpu")
        materialize(model, seed=0, dtype=dtype)
        assert model[0].weight.is_contiguous(memory_format=cl)
        assert model[2].parametrizations.weight.original1.is_contiguous(memory_format=cl)
        for n, t in model.state_dict().items():
            assert t.stride() == empty.state_dict()[n].stride(), n
            assert torch.equal(t, ref.state_dict()[n]) and t.dtype == ref.state_dict()[n].dtype, n


def test_shard_equals_slice_of_full_initialization():
    full = _meta(lambda: nn.Sequential(nn.Linear(64, 48), nn.Linear(48, 64), nn.Embedding(50, 16, padding_idx=30)))
    materialize(full, seed=7)
    # column-parallel first Linear (rows 24:48), row-parallel second (input columns 32:48), vocab rows 25:50
    shard = _meta(lambda: nn.Sequential(nn.Linear(64, 24), nn.Linear(16, 64), nn.Embedding(25, 16, padding_idx=5)))
    placement = {"0.weight": ((48, 64), (24, 0)), "0.bias": ((48,), (24,)), "1.weight": ((64, 48), (0, 32)),
                 "2.weight": ((50, 16), (25, 0))}
    materialize(shard, seed=7, placement=placement)
    assert torch.equal(shard[0].weight, full[0].weight[24:48])
    assert torch.equal(shard[0].bias, full[0].bias[24:48])
    assert torch.equal(shard[1].weight, full[1].weight[:, 32:48])
    assert torch.equal(shard[1].bias, full[1].bias)  # bound from the global fan_in 48, not the local 16
    assert torch.equal(shard[2].weight, full[2].weight[25:50]) and torch.all(shard[2].weight[5] == 0)
    callable_shard = _meta(lambda: nn.Sequential(nn.Linear(64, 24)))
    materialize(callable_shard, seed=7, placement=lambda n: ((48, 64), (24, 0)) if n == "0.weight" else None)
    assert torch.equal(callable_shard[0].weight, full[0].weight[24:48])


def test_placement_is_validated_before_any_change():
    model = _meta(lambda: nn.Linear(8, 4))
    with pytest.raises(ValueError, match="does not fit"):
        materialize(model, seed=0, placement={"weight": ((4, 8), (1, 0))})
    with pytest.raises(ValueError, match="names no parameter"):
        materialize(model, seed=0, placement={"wieght": ((4, 8), (0, 0))})
    # floats were truncated (6.9 -> 6: another shard's values, silently), as the core refuses them
    with pytest.raises(TypeError, match=r"placement for 'weight' .*global_shape must be a tuple of ints"):
        materialize(model, seed=0, placement={"weight": ((6.9, 8), (2, 0))})
    with pytest.raises(TypeError, match=r"placement for 'weight' .*offset must be a tuple of ints"):
        materialize(model, seed=0, placement={"weight": ((8, 8), (True, 0))})
    with pytest.raises(TypeError, match=r"must be a pair \(global_shape, offset\)"):
        materialize(model, seed=0, placement={"weight": ((8, 8), (0, 0), (0, 0))})
    assert model.weight.is_meta


class Scaled(nn.Module):
    """Unknown module with its own reset_parameters, which also re-initializes a child."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(32, 32)
        self.scale = nn.Parameter(torch.empty(32))
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.normal_(self.scale, 1.0, 0.1)
        nn.init.zeros_(self.proj.bias)


def test_unknown_module_falls_back_to_its_reset_parameters_deterministically():
    state = torch.get_rng_state()
    a, b = _meta(Scaled), _meta(Scaled)
    sa = materialize(a, seed=1)
    materialize(b, seed=1)
    assert torch.equal(torch.get_rng_state(), state)  # the fallback ran under a forked, seeded generator
    assert sa.fallbacks == {"": "Scaled"}
    assert sa["scale"].method == "Scaled.reset_parameters()"
    assert sa["proj.bias"].method == "Scaled.reset_parameters()" and torch.all(a.proj.bias == 0)
    assert sa["proj.weight"].method == "kaiming_uniform(a=√5)"
    assert torch.equal(a.scale, b.scale) and abs(float(a.scale.detach().mean()) - 1) < 0.1
    assert "fallbacks (reset_parameters(), or a Hugging Face model's _init_weights()): <root> (Scaled)" in str(sa)


class Logged(nn.Module):
    """Appends its name to ``log`` in each reset_parameters()."""

    def __init__(self, name, log, *children):
        super().__init__()
        self.name, self.log, self.children_ = name, log, nn.ModuleList(children)
        self.w = nn.Parameter(torch.empty(2))
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.zeros_(self.w)
        self.log.append(self.name)


def test_fallbacks_run_in_construction_order():
    # a module after its children, siblings in registration order: as their __init__s ran them (and as
    # Hugging Face's smart_apply runs _init_weights)
    log = []
    with torch.device("meta"):
        model = Logged("root", log, Logged("a", log, Logged("a0", log), Logged("a1", log)), Logged("b", log))
    assert log == ["a0", "a1", "a", "b", "root"]
    log.clear()
    materialize(model, seed=0)
    assert log == ["a0", "a1", "a", "b", "root"]


class Arange(nn.Module):
    """A reset_parameters that builds a tensor of its own (on the default device) and copies it in."""

    def __init__(self):
        super().__init__()
        self.table = nn.Parameter(torch.empty(6))

    def reset_parameters(self):
        with torch.no_grad():
            self.table.copy_(torch.arange(6.0))


def test_a_fallback_inside_a_meta_default_device_builds_its_tensors_on_the_target_device():
    """materialize inside `with torch.device("meta")`: a fallback's own torch.arange was a meta tensor, and copying
    it into the allocated parameter raised "Cannot copy out of meta tensor"."""
    with torch.device("meta"):
        model = Arange()
        summary = materialize(model, seed=0)
    assert torch.equal(model.table, torch.arange(6.0)) and summary["table"].method == "Arange.reset_parameters()"


class HalfLinear(nn.Linear):
    def reset_parameters(self):
        nn.init.constant_(self.weight, 0.5)
        if self.bias is not None:
            nn.init.zeros_(self.bias)


def test_subclass_overriding_reset_parameters_uses_its_own():
    model = _meta(lambda: nn.Sequential(HalfLinear(4, 4)))
    s = materialize(model, seed=0)
    assert torch.all(model[0].weight == 0.5) and s.fallbacks == {"0": "HalfLinear"}


class Raw(nn.Module):
    def __init__(self):
        super().__init__()
        self.pos = nn.Parameter(torch.zeros(10, 4))
        self.register_buffer("table", torch.arange(6.0))
        self.register_buffer("mask", torch.tril(torch.ones(3, 3, device="cpu")), persistent=False)


def test_tensors_nothing_can_fill_raise_naming_them_before_any_change():
    model = _meta(Raw)
    with pytest.raises(ValueError, match=r"pos \(Raw\).*table \(Raw\)"):
        materialize(model, seed=0)
    assert model.pos.is_meta


def test_overrides_fill_unknown_tensors_and_real_buffers_are_kept():
    model = _meta(Raw)
    s = materialize(model, seed=0, overrides={"pos": "normal", re.compile(r"^table$"): "ones"})
    assert torch.all(model.table == 1) and abs(float(model.pos.detach().std()) - 0.02) < 0.01
    assert torch.equal(model.mask, torch.tril(torch.ones(3, 3))) and "mask" not in model.state_dict()
    assert s["mask"].method == "kept (buffer value)" and s["mask"].kind == "buffer"


def test_overrides_by_glob_regex_type_and_callables_first_match_wins():
    model = _meta(lambda: nn.Sequential(nn.Linear(64, 64), nn.Linear(64, 64), nn.LayerNorm(64)))
    s = materialize(model, seed=0, overrides={
        "1.bias": "ones",
        nn.Linear: functools.partial(ft.trunc_normal_, std=0.5, a=-0.5, b=0.5),
        "2.*": fastinit.normal_,  # a NumPy-level fastinit initializer gets the tensor's NumPy view
    })
    assert torch.all(model[1].bias == 1)
    w = _f64(model[0].weight)
    assert np.abs(w).max() <= 0.5 and stats.kstest(w, stats.truncnorm(-1, 1, scale=0.5).cdf).pvalue > P_MIN
    assert torch.equal(model[2].weight, ft.normal_(torch.empty(64), seed=0, stream="2.weight"))
    assert s["2.bias"].method == "override normal_"


def test_one_override_per_tensor_is_matched_by_name_not_by_a_scan_of_every_key(monkeypatch):
    """A key with no glob character is looked up; only globs, regexes and module types are tried against each
    tensor (an exact key per weight had cost tensors × keys matches: 8000 tensors, 4000 keys, 69 s; a review).
    First match wins as before, across both kinds."""
    from fastinit import materialize as mat

    calls = []
    real = mat._match
    monkeypatch.setattr(mat, "_match", lambda key, *a: calls.append(key) or real(key, *a))
    n = 300
    model = _meta(lambda: nn.Sequential(*[nn.Linear(2, 2) for _ in range(n)]))
    overrides = {"7.bias": "ones", "*.bias": "zeros", **{f"{i}.weight": "ones" for i in range(n)}, "7.*": "zeros"}
    with pytest.raises(ValueError, match=r"every tensor an earlier key takes .*'7\.\*' \(by '7\.weight'\)"):
        materialize(model, seed=0, overrides=overrides)  # refused before any change: 7.* matches only taken tensors
    del overrides["7.*"]
    calls.clear()
    s = materialize(model, seed=0, overrides=overrides)
    assert len(calls) == 2 * n  # "*.bias" against each of the 2n tensors, the exact keys looked up
    assert all(torch.all(model[i].weight == 1) and torch.all(model[i].bias == (i == 7)) for i in range(n))
    assert s["7.bias"].method == "ones" and s["8.bias"].method == "zeros"


def test_override_shortcuts_and_refusals():
    model = _meta(lambda: nn.Linear(4, 4))
    with pytest.raises(ValueError, match="match no parameter"):
        materialize(model, seed=0, overrides={"nothing.*": "zeros"})
    seq = _meta(lambda: nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4)))  # '0.weight' exists: not "matches nothing"
    with pytest.raises(ValueError, match=r"every tensor an earlier key takes .*'0\.weight' \(by '\*\.weight'\); "
                                         "put the specific key first"):
        materialize(seq, seed=0, overrides={"*.weight": "zeros", "0.weight": "ones"})
    assert all(p.is_meta for p in seq.parameters())  # refused before anything
    materialize(seq, seed=0, overrides={"0.weight": "ones", "*.weight": "zeros"})  # each key wins a tensor
    assert (seq[0].weight == 1).all() and (seq[1].weight == 0).all()
    with pytest.raises(ValueError, match="unknown shortcut"):
        materialize(model, seed=0, overrides={"weight": "xavier"})
    with pytest.raises(ValueError, match="no values to keep"):
        materialize(model, seed=0, overrides={"weight": "keep"})
    with pytest.raises(ValueError, match=r"cannot fill its shard \(placement='s\)"):
        materialize(nn.Linear(4, 2), seed=0, overrides={"weight": ft.zeros_},
                    placement={"weight": ((4, 4), (2, 0))})
    assert model.weight.is_meta
    built = nn.Linear(4, 4)
    before = built.weight.detach().clone()
    s = materialize(built, seed=0, overrides={"weight": "keep", "bias": "default"})
    assert torch.equal(built.weight, before) and s["bias"].method == "uniform(±1/√fan_in)"


def test_bad_arguments_are_refused():
    model = _meta(lambda: nn.Linear(4, 4))
    for kw, err in [({"scheme": "jax"}, ValueError), ({"scheme": ("llama", {"n_layer": 2})}, ValueError),
                    ({"dtype": torch.int32}, ValueError), ({"device": "meta"}, ValueError),
                    ({"seed": -1}, ValueError), ({"progress": "yes"}, TypeError), ({"overrides": ["x"]}, TypeError),
                    ({"device": "nope"}, ValueError), ({"device": 1.5}, TypeError),
                    ({"scheme": ("gpt2", {"residual": 5})}, TypeError)]:
        with pytest.raises(err, match=next(iter(kw)) if "scheme" not in kw else "scheme"):
            materialize(model, **kw)
    if not torch.cuda.is_available():
        with pytest.raises(NotImplementedError, match="cuda"):
            materialize(model, device="cuda")
    with pytest.raises(TypeError, match="lazy"):
        materialize(nn.LazyLinear(4), seed=0)
    assert model.weight.is_meta


class GPT(nn.Module):
    def __init__(self, n_layer=2, d=128, vocab=2000):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.h = nn.ModuleList(nn.ModuleDict({"ln": nn.LayerNorm(d), "c_attn": nn.Linear(d, 3 * d),
                                              "c_proj": nn.Linear(d, d)}) for _ in range(n_layer))
        self.lm_head = nn.Linear(d, vocab, bias=False)


def test_gpt2_scheme_scales_residual_projections():
    model = _meta(GPT)
    s = materialize(model, seed=0, scheme=("gpt2", {"n_layer": 2}))
    _check_law("normal", 0.02, _f64(model.wte.weight), "wte")
    _check_law("normal", 0.02, _f64(model.h[0]["c_attn"].weight), "c_attn")
    _check_law("normal", 0.02 / math.sqrt(4), _f64(model.h[1]["c_proj"].weight), "c_proj")
    assert torch.all(model.h[0]["c_attn"].bias == 0) and torch.all(model.h[0]["ln"].weight == 1)
    assert "residual" in s["h.1.c_proj.weight"].method


def test_llama_scheme_is_plain_normal():
    model = _meta(GPT)
    materialize(model, seed=0, scheme=fastinit.torch.Scheme("llama", std=0.01))
    _check_law("normal", 0.01, _f64(model.h[1]["c_proj"].weight), "c_proj")
    _check_law("normal", 0.01, _f64(model.lm_head.weight), "lm_head")


def test_scheme_takes_numpy_scalars_and_0d_tensors():
    """std / n_layer as the rest of the library takes numbers (NumPy scalars, 0-d tensors), stored as float / int;
    bools, NaN, non-positive and non-integer values are still refused."""
    for std in (np.float32(0.02), np.float64(0.02), torch.tensor(0.02)):
        for n_layer in (np.int64(12), torch.tensor(12)):
            s = ft.Scheme("gpt2", std=std, n_layer=n_layer)
            assert type(s.std) is float and s.std == float(std) and type(s.n_layer) is int and s.n_layer == 12
            assert hash(s) == hash(ft.Scheme("gpt2", std=float(std), n_layer=12))
    a, b = _meta(GPT), _meta(GPT)
    materialize(a, seed=0, scheme=("gpt2", {"std": np.float64(0.02), "n_layer": np.int64(2)}))
    materialize(b, seed=0, scheme=("gpt2", {"std": 0.02, "n_layer": 2}))
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    for kw in ({"std": True}, {"std": np.bool_(True)}, {"std": torch.tensor(True)}, {"std": np.float32("nan")},
               {"std": -0.02}, {"std": 0}, {"std": 10**400}, {"std": torch.tensor([0.02])}, {"std": "0.02"},
               {"n_layer": True}, {"n_layer": np.bool_(True)}, {"n_layer": 0}, {"n_layer": np.int64(-1)},
               {"n_layer": 1.5}, {"n_layer": np.float64(2)}, {"n_layer": torch.tensor(2.0)}):
        with pytest.raises(ValueError, match=f"scheme {next(iter(kw))} must be"):
            ft.Scheme("gpt2", **kw)


def test_summary_reports_every_tensor_with_totals():
    model = _meta(lambda: nn.Sequential(nn.Linear(10, 20), nn.BatchNorm1d(20)))
    s = materialize(model, seed=0)
    assert list(s.records) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                               "1.num_batches_tracked"]
    r = s["0.weight"]
    assert (r.module, r.method, r.numel, r.nbytes, r.kind) == ("Linear", "kaiming_uniform(a=√5)", 200, 800,
                                                                "parameter")
    assert s.numel == 200 + 20 + 20 + 20 and s.nbytes == 4 * s.numel and s.seconds > 0
    assert s.by_method()["ones"][:2] == (2, 40)  # BatchNorm weight and running_var
    text = str(s)
    assert "260 parameters" in text and "1.running_var" in text and "[buffer]" in text


def test_progress_bar_when_asked(capsys):
    pytest.importorskip("tqdm")
    materialize(_meta(lambda: nn.Linear(32, 32)), seed=0, progress=True)
    assert "materialize" in capsys.readouterr().err


class LlamaRMSNorm(nn.Module):
    """HF style: initialized in __init__, no reset_parameters."""

    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))


class Conv1D(nn.Module):
    """HF GPT-2's transposed linear: weight (in, out), N(0, 0.02) and zero bias in __init__."""

    def __init__(self, nf, nx):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))
        nn.init.normal_(self.weight, std=0.02)


def test_hf_style_norms_and_conv1d_are_recognized_by_class_name():
    model = _meta(lambda: nn.ModuleDict({"norm": LlamaRMSNorm(64), "c_attn": Conv1D(192, 64)}))
    s = materialize(model, seed=0)
    assert torch.all(model["norm"].weight == 1) and torch.all(model["c_attn"].bias == 0)
    _check_law("normal", 0.02, _f64(model["c_attn"].weight), "Conv1D")
    assert s.fallbacks == {}


class GemmaRMSNorm(nn.Module):
    """HF Gemma: the weight starts at zeros and the norm scales by (1 + weight)."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.zeros(dim))


class CommentedRMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        # was: self.weight = nn.Parameter(torch.zeros(d))
        self.weight = nn.Parameter(torch.ones(d))


class SubGemmaRMSNorm(GemmaRMSNorm):
    def __init__(self, d):  # sets no tensor itself: its base's __init__ says
        super().__init__(d, eps=1e-5)


class BiasedLayerNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(data=torch.zeros(d))
        self.bias = torch.nn.Parameter(torch.ones(d))


class TerseRMSNorm(nn.Module):
    def __init__(s, d):  # self by another name: still read (a review)
        super().__init__()
        s.weight = nn.Parameter(torch.zeros(d))


class ConditionalRMSNorm(nn.Module):
    """Which constant depends on an argument: not read from the source."""

    def __init__(self, d, zero_centered=False):
        super().__init__()
        if zero_centered:
            self.weight = nn.Parameter(torch.zeros(d))
        else:
            self.weight = nn.Parameter(torch.ones(d))


class ScaledLayerNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d) * 0.5)


@pytest.mark.parametrize("scheme", ["torch", "llama"])
def test_hf_style_norms_get_the_constant_their_constructor_gives(scheme):
    model = _meta(lambda: nn.ModuleDict({"llama": LlamaRMSNorm(8), "gemma": GemmaRMSNorm(8), "c": CommentedRMSNorm(8),
                                         "sub": SubGemmaRMSNorm(8), "biased": BiasedLayerNorm(8),
                                         "terse": TerseRMSNorm(8)}))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # all read plainly: no warning
        s = materialize(model, seed=0, scheme=scheme)
    for name, value in [("llama", 1), ("gemma", 0), ("c", 1), ("sub", 0), ("terse", 0)]:
        assert torch.all(model[name].weight == value), name
        assert s[f"{name}.weight"].method == ("ones" if value else "zeros")
    assert torch.all(model["biased"].weight == 0) and torch.all(model["biased"].bias == 1)
    for odd in (ConditionalRMSNorm, ScaledLayerNorm):  # not plain: the usual start, and a warning naming them
        m = _meta(lambda: nn.ModuleDict({"norm": odd(8)}))
        with pytest.warns(UserWarning, match=rf"{odd.__name__}.__init__ does not plainly set \['weight'\]"):
            materialize(m, seed=0, scheme=scheme)
        assert torch.all(m["norm"].weight == 1)


@pytest.mark.parametrize("scheme", ["gpt2", "llama"])
def test_hf_schemes_give_the_linears_below_an_nn_transformer_their_own_rule(scheme):
    model = _meta(lambda: nn.Transformer(d_model=128, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
                                         dim_feedforward=256, batch_first=True))
    s = materialize(model, seed=0, scheme=scheme)
    layer = model.encoder.layers[0]
    for name, w in [("linear1", layer.linear1.weight), ("in_proj", layer.self_attn.in_proj_weight),
                    ("out_proj", layer.self_attn.out_proj.weight)]:
        _check_law("normal", 0.02, _f64(w), name)
    assert "xavier" not in s["encoder.layers.0.linear1.weight"].method
    torch_scheme = _meta(lambda: nn.Transformer(d_model=128, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
                                                dim_feedforward=256, batch_first=True))
    assert "xavier" in materialize(torch_scheme, seed=0)["encoder.layers.0.linear1.weight"].method


class Block(nn.Module):
    """Owns no tensor; its reset_parameters() (called in __init__) zeroes the residual projection."""

    def __init__(self, d):
        super().__init__()
        self.fc, self.proj = nn.Linear(d, d), nn.Linear(d, d)
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.zeros_(self.proj.weight)


def test_a_tensorless_parents_reset_parameters_is_not_called_and_warned_of():
    model = _meta(lambda: Block(8))
    with pytest.warns(UserWarning, match=r"\['<root> \(Block\)'\] define reset_parameters\(\)"):
        s = materialize(model, seed=0)
    assert s.fallbacks == {} and s["proj.weight"].method == "kaiming_uniform(a=√5)"
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # covered by overrides: nothing to warn of
        materialize(_meta(lambda: Block(8)), seed=0, overrides={"fc.*": "default", "proj.*": "zeros"})


def test_a_parametrized_weight_cannot_be_placed():
    model = _meta(lambda: nn.utils.parametrizations.weight_norm(nn.Linear(8, 4)))
    names = ["parametrizations.weight.original0", "parametrizations.weight.original1"]
    refusal = r"placement given for \['parametrizations\.weight\.original1'\], parametrized.*right_inverse"
    with pytest.raises(ValueError, match=refusal):
        materialize(model, seed=0, placement={names[1]: ((8, 8), (4, 0))})
    assert all(p.is_meta for p in model.parameters())
    materialize(model, seed=0, placement={names[1]: ((8, 8), (4, 0))}, overrides={"parametrizations.*": "ones"})
    assert torch.all(model.parametrizations.weight.original1 == 1)


def test_device_names_of_the_same_device_keep_the_parameter_objects():
    model = nn.Linear(4, 4)
    weight = model.weight
    materialize(model, seed=0, device="cpu:0")
    assert model.weight is weight


def test_progress_without_tqdm_is_refused_before_any_change(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    model = _meta(lambda: nn.Linear(4, 4))
    with pytest.raises(ImportError, match="tqdm"):
        materialize(model, seed=0, progress=True)
    assert model.weight.is_meta


def test_gpt2_scheme_on_multihead_attention():
    model = _meta(lambda: nn.ModuleDict({"attn": nn.MultiheadAttention(128, 4)}))
    materialize(model, seed=0, scheme=("gpt2", {"n_layer": 8}))
    _check_law("normal", 0.02, _f64(model["attn"].in_proj_weight), "in_proj")
    _check_law("normal", 0.02 / 4, _f64(model["attn"].out_proj.weight), "out_proj")  # residual: 0.02/sqrt(16)
    assert torch.all(model["attn"].in_proj_bias == 0) and torch.all(model["attn"].out_proj.bias == 0)


class Forgetful(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.empty(4))
        self.b = nn.Parameter(torch.empty(4))

    def reset_parameters(self):
        nn.init.ones_(self.a)


def test_fallback_that_leaves_a_parameter_unset_raises_naming_it():
    with pytest.raises(RuntimeError, match=r"\['b'\]"):
        materialize(_meta(Forgetful), seed=0)
    model = _meta(Forgetful)
    materialize(model, seed=0, overrides={"b": "zeros"})
    assert torch.all(model.a == 1) and torch.all(model.b == 0)
    with pytest.raises(ValueError, match="reset_parameters"):
        materialize(_meta(Forgetful), seed=0, placement={"a": ((8,), (4,))})


@pytest.mark.parametrize("meta", [False, True])
def test_parametrized_weights_get_their_rule_through_right_inverse(meta):
    """torch.nn.utils.parametrizations: the rule's values for the unparametrized weight (stream: its name) are
    assigned, so right_inverse sets the originals; weight_norm then gives the plain module's weight exactly."""
    def build():
        return nn.Sequential(nn.utils.parametrizations.weight_norm(nn.Linear(24, 16)),
                             nn.utils.parametrizations.spectral_norm(nn.Linear(16, 8)))
    if meta:
        with torch.device("meta"):
            model = build()
    else:
        model = build()
    summary = materialize(model, seed=3)
    plain = nn.Sequential(nn.Linear(24, 16), nn.Linear(16, 8))
    materialize(plain, seed=3)
    with torch.no_grad():
        assert torch.allclose(model[0].weight, plain[0].weight, rtol=1e-6, atol=0)
        assert torch.equal(model[0].bias, plain[0].bias)
        w = model[1].parametrizations.weight.original
        assert torch.equal(w, plain[1].weight)  # spectral_norm's original: the rule's weight
    assert "through right_inverse" in summary["0.parametrizations.weight.original0"].method
    assert summary["0.parametrizations.weight.original1"].method == "set with 0.parametrizations.weight.original0"
    # spectral_norm's _u, _v: as its constructor gives them for the new weight (normalized N(0, 1) draws, 15 power
    # iterations), so the eval-mode weight has spectral norm 1, on a meta model too (they have no values there)
    assert summary["1.parametrizations.weight.0._u"].method == \
        "normal(0, 1) normalized, 15 power iterations on 1.weight"
    assert summary["1.parametrizations.weight.0._v"].method == "set with 1.parametrizations.weight.0._u"
    sn = model[1].parametrizations.weight[0]
    assert float(sn._u.norm()) == pytest.approx(1, abs=1e-6) and float(sn._v.norm()) == pytest.approx(1, abs=1e-6)
    model.eval()  # 15 power iterations: sigma within a few percent (unnormalized N(0, 1) vectors gave 1.23)
    with torch.no_grad():
        assert float(torch.linalg.matrix_norm(model[1].weight, 2)) == pytest.approx(1, abs=0.03)


@pytest.mark.parametrize("meta", [False, True])
def test_an_override_naming_a_parametrized_weight_sets_it_through_right_inverse(meta):
    """A glob on ``0.weight``, a regex, or the module's class reach a parametrized weight (they had skipped it, or
    been refused as matching nothing): the override's values for the unparametrized weight (stream: its name) are
    assigned, as the rule's are; a key naming an original itself still sets that one alone."""
    def build():
        return nn.Sequential(nn.utils.parametrizations.weight_norm(nn.Linear(24, 16)),
                             nn.utils.parametrizations.spectral_norm(nn.Linear(16, 8)), nn.Linear(8, 4))
    trunc = functools.partial(ft.trunc_normal_, std=0.05, a=-0.1, b=0.1)
    for overrides in ({"*.weight": "trunc_normal"}, {re.compile(r"^\d\.weight$"): "trunc_normal"},
                      {nn.Linear: trunc}, {"0.weight": trunc, "1.weight": trunc, "2.weight": trunc}):
        model = _meta(build) if meta else build()
        summary = materialize(model, seed=3, overrides=overrides)
        plain = nn.Sequential(nn.Linear(24, 16), nn.Linear(16, 8), nn.Linear(8, 4))
        materialize(plain, seed=3, overrides={"*.weight": next(iter(overrides.values()))})
        with torch.no_grad():
            assert torch.allclose(model[0].weight, plain[0].weight, rtol=1e-6, atol=0), overrides
            assert torch.equal(model[1].parametrizations.weight.original, plain[1].weight), overrides
            assert torch.equal(model[2].weight, plain[2].weight), overrides
        assert summary["0.parametrizations.weight.original0"].method.endswith(", set as 0.weight through right_inverse")
        assert summary["1.parametrizations.weight.0._u"].method == \
            "normal(0, 1) normalized, 15 power iterations on 1.weight"  # (on the override's weight)
    model = build()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    summary = materialize(model, seed=4, overrides={"0.parametrizations.weight.original0": "ones", "0.weight": trunc,
                                                    "1.weight": "keep", "2.weight": "default"})
    g = model[0].parametrizations.weight.original0
    assert torch.equal(g, torch.ones_like(g)) and summary["0.parametrizations.weight.original0"].method == "ones"
    v = model[0].parametrizations.weight.original1.detach()  # v from right_inverse of the override's weight
    assert "trunc_normal" in summary["0.parametrizations.weight.original1"].method and float(v.abs().max()) <= 0.1
    assert torch.equal(model[1].parametrizations.weight.original, before["1.parametrizations.weight.original"])
    assert summary["1.parametrizations.weight.original"].method == "keep (current values)"
    assert "kaiming_uniform" in summary["2.weight"].method  # "default": the rule
    with pytest.raises(ValueError, match=r"'keep' for '0\.weight', a meta tensor"):
        materialize(_meta(build), seed=0, overrides={"0.weight": "keep"})
    # a key naming an original itself wins over one on the weight's name, whatever their order (a review: a
    # configuration of either order is as before); a key naming both sets the originals themselves, as before
    model = build()
    summary = materialize(model, seed=4, overrides={"*.weight": trunc, "0.parametrizations.weight.original0": "ones"})
    assert summary["0.parametrizations.weight.original0"].method == "ones"
    assert "trunc_normal" in summary["0.parametrizations.weight.original1"].method
    sym = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 3))  # a parametrization with no right_inverse

    class Sym(nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).T

    nn.utils.parametrize.register_parametrization(sym[0], "weight", Sym())
    materialize(sym, seed=0, overrides={"*": "zeros"})  # (it had been refused: "define no right_inverse")
    assert not sym[0].parametrizations.weight.original.any()
    bn = nn.Sequential(nn.BatchNorm1d(4))  # a class key reaches parameters, not a parametrized buffer

    class Same(nn.Module):
        def forward(self, x):
            return x

        def right_inverse(self, x):
            return x

    nn.utils.parametrize.register_parametrization(bn[0], "running_var", Same())
    materialize(bn, seed=1, overrides={nn.BatchNorm1d: "zeros"})
    assert torch.equal(bn[0].running_var, torch.ones(4)) and not bn[0].weight.any()
    with pytest.raises(ValueError, match=r"overrides keys whose every tensor an earlier key takes.*'0\.weight' "
                                         r"\(by <class 'torch\.nn\.modules\.linear\.Linear'>\)"):
        materialize(build(), seed=0, overrides={nn.Linear: "zeros", "0.weight": trunc})


def test_spectral_norm_vectors_are_a_function_of_seed_and_name_and_yield_to_overrides():
    def build():
        with torch.device("meta"):
            return nn.Sequential(nn.utils.parametrizations.spectral_norm(nn.Linear(16, 8)))
    a, b = build(), build()
    torch.manual_seed(1)
    materialize(a, seed=5)
    torch.manual_seed(2)
    materialize(b, seed=5)
    assert all(torch.equal(x, y) for x, y in zip(a.buffers(), b.buffers()))
    built = nn.Sequential(nn.utils.parametrizations.spectral_norm(nn.Linear(16, 8)))
    materialize(built, seed=5)
    assert all(torch.equal(x, y) for x, y in zip(a.buffers(), built.buffers()))  # built or meta: the same
    before = {k: v.clone() for k, v in built.named_buffers()}
    summary = materialize(built, seed=6, overrides={re.compile(r"\._[uv]$"): "keep"})
    assert all(torch.equal(v, dict(built.named_buffers())[k]) for k, v in before.items())
    assert summary["0.parametrizations.weight.0._v"].method == "keep (current values)"


def test_weights_replaced_by_old_hooks_are_refused_before_allocation():
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(4, 3))
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(model[0])
    with pytest.raises(ValueError, match=r"0\.weight_g.*0\.weight_v"):
        materialize(model, seed=0)
    assert model[0].weight_v.is_meta


class _DataWriter(nn.Module):
    """Old-style reset_parameters writing through .data, which bumps no version counter."""

    def __init__(self, rows=4):
        super().__init__()
        self.w = nn.Parameter(torch.empty(4, 4))
        self.rows = rows

    def reset_parameters(self):
        self.w.data[:self.rows].normal_(0, 0.02)


def test_fallback_writes_through_data_are_seen_and_partial_writes_refused():
    for model in (nn.Sequential(_DataWriter()), _meta(lambda: nn.Sequential(_DataWriter()))):
        summary = materialize(model, seed=0)
        assert summary["0.w"].method == "_DataWriter.reset_parameters()"
        w = model[0].w.detach()
        assert torch.isfinite(w).all() and 0.01 < float(w.std()) < 0.04
    with pytest.raises(RuntimeError, match=r"left \['0\.w'\] uninitialized"):
        materialize(nn.Sequential(_DataWriter(rows=2)), seed=0)


class _Scaled(nn.Module):
    """Its reset_parameters() resets ``weight`` only (``alpha`` keeps its __init__ value), or raises, or assigns a
    new Parameter instead of filling the old one."""
    def __init__(self, how="partial"):
        super().__init__()
        self.weight = nn.Parameter(torch.full((4, 4), 3.0))
        self.alpha = nn.Parameter(torch.full((4,), 0.5))
        self.how = how

    def reset_parameters(self):
        if self.how == "raise":
            nn.init.kaiming_uniform_(self.weight)
            raise ArithmeticError("a user's bug")
        if self.how == "replace":
            self.alpha = nn.Parameter(torch.zeros(4))
        nn.init.kaiming_uniform_(self.weight)


@pytest.mark.parametrize("how, error, match", [("partial", RuntimeError, r"left \['1\.alpha'\] uninitialized"),
                                               ("raise", ArithmeticError, "a user's bug"),
                                               ("replace", RuntimeError, r"assigned new tensors to \['1\.alpha'\]")])
@pytest.mark.parametrize("dtype", [None, torch.float64])
def test_a_failed_fallback_puts_a_built_models_tensors_back(how, error, match, dtype):
    """In place on a built model, a fallback's tensors hold NaN while it runs (to see what it wrote): when it
    raises or leaves one unwritten, they get their values back, not NaN; with a new dtype (or device) their values
    in it (they had been new, empty tensors, whose garbage was "put back": a review)."""
    model = nn.Sequential(nn.Linear(4, 4), _Scaled(how))
    alpha = model[1].alpha
    with pytest.raises(error, match=match):
        materialize(model, seed=0, dtype=dtype)
    if dtype is None:
        assert model[1].alpha is alpha  # registered again
    assert torch.equal(model[1].alpha.detach(), torch.full((4,), 0.5, dtype=dtype))
    assert torch.equal(model[1].weight.detach(), torch.full((4, 4), 3.0, dtype=dtype))


def test_keep_survives_a_failed_fallback():
    model = nn.Sequential(nn.Linear(4, 4), _Scaled("raise"))
    with pytest.raises(ArithmeticError):
        materialize(model, seed=0, overrides={"1.weight": "keep"})
    assert torch.equal(model[1].weight.detach(), torch.full((4, 4), 3.0))


def test_transformer_rule_covers_its_encoder_and_decoder_not_a_subclass_s_additions():
    """torch's _reset_parameters runs at the end of Transformer.__init__: modules a subclass adds afterwards
    keep their own laws (Embedding: N(0, 1); Linear: kaiming_uniform(a=sqrt 5))."""
    class Seq2Seq(nn.Transformer):
        def __init__(self):
            super().__init__(d_model=64, nhead=4, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=128,
                             batch_first=True)
            self.src_emb = nn.Embedding(1000, 64)
            self.head = nn.Linear(64, 500)

    with torch.device("meta"):
        model = Seq2Seq()
    summary = materialize(model, seed=0)
    assert summary["src_emb.weight"].method != "xavier_uniform" and summary["head.weight"].method != "xavier_uniform"
    assert abs(float(model.src_emb.weight.detach().std()) - 1.0) < 0.02
    assert abs(float(model.head.weight.detach().std()) - 1 / math.sqrt(3 * 64)) < 0.002
    assert summary["encoder.layers.0.linear1.weight"].method == "xavier_uniform"
    assert summary["decoder.layers.0.self_attn.in_proj_weight"].method == "xavier_uniform"


def test_no_warning_for_torchs_adaptive_softmax_whose_reset_parameters_resets_its_children():
    with torch.device("meta"):
        model = nn.AdaptiveLogSoftmaxWithLoss(64, 1000, [100, 500])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        materialize(model, seed=0)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_keep_survives_its_modules_reset_parameters():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.w1, self.w2 = nn.Parameter(torch.empty(3)), nn.Parameter(torch.empty(3))

        def reset_parameters(self):
            nn.init.normal_(self.w1)
            nn.init.normal_(self.w2)

    model = Two()
    with torch.no_grad():
        model.w1.copy_(torch.tensor([1.0, 2.0, 3.0]))
    summary = materialize(model, seed=0, overrides={"w1": "keep"})
    assert model.w1.tolist() == [1.0, 2.0, 3.0] and summary["w1"].method == "keep (current values)"
    assert summary["w2"].method == "Two.reset_parameters()"


def test_dtypes_the_rules_cannot_fill_are_refused_before_allocation():
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4, dtype=torch.complex64))
    with pytest.raises(TypeError, match=r"1\.weight \(torch\.complex64\)"):
        materialize(model, seed=0)
    assert model[0].weight.is_meta
    materialize(model, seed=0, overrides={"1.weight": "zeros", "1.bias": "ones"})
    assert not model[1].weight.any() and torch.all(model[1].bias == 1)
    with torch.device("meta"):
        bn = nn.BatchNorm1d(4)
    assert materialize(bn, seed=0, overrides={"num_batches_tracked": ft.zeros_})["num_batches_tracked"].method == \
        "override zeros_"


class _Rotary(nn.Module):
    """HF style: a computed, non-persistent buffer, no reset_parameters."""

    def __init__(self):
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / 10000 ** (torch.arange(0, 8, 2).float() / 8), persistent=False)
        self.scale = nn.Parameter(torch.empty(4))


def test_missing_rules_ask_for_the_constructors_value_and_a_computation_for_meta_buffers():
    """The hint asks for the value the module's __init__ sets ('zeros' only where that is it: CLIP's logit_scale
    is not zero, a review, 2026-12-06 (f))."""
    with pytest.raises(ValueError) as e:
        materialize(_meta(_Rotary), seed=0)
    text = str(e.value)
    assert "the value its module's __init__ sets" in text
    assert "overrides={'scale': lambda t: t.fill_(<its value>)}" in text
    assert "['inv_freq']" in text and "computed values" in text and "lambda t: t.copy_(values)" in text
    model = _meta(_Rotary)
    inv = 1.0 / 10000 ** (torch.arange(0, 8, 2).float() / 8)
    materialize(model, seed=0, overrides={"scale": "ones", "inv_freq": lambda t: t.copy_(inv)})
    assert torch.equal(model.inv_freq, inv) and torch.all(model.scale == 1)


def test_spectral_norm_buffers_are_not_updated_by_planning_in_training_mode():
    """Planning evaluates parametrized weights (fans, shapes); spectral_norm's power iteration would update its
    _u and _v in place in training mode: a refused call must change nothing, and 'kept' buffers keep their values."""
    model = nn.Sequential(nn.Linear(6, 5))
    nn.utils.parametrizations.spectral_norm(model[0])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="match no parameter"):
        materialize(model, seed=0, overrides={"typo.weight": "zeros"})
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    assert model.training and model[0].parametrizations.weight[0].training  # modes restored
    summary = materialize(model, seed=0, overrides={"*._u": "keep", "*._v": "keep"})
    sn = model[0].parametrizations.weight[0]
    assert torch.equal(sn._u, before["0.parametrizations.weight.0._u"])
    assert summary["0.parametrizations.weight.0._u"].method == "keep (current values)"
    assert torch.equal(sn._v, before["0.parametrizations.weight.0._v"])


def test_transformer_rule_sets_a_parametrized_layer_through_right_inverse():
    """Transformer's xavier rule covers its layers' matrices; a weight_norm'ed layer gets the plain model's weight
    (through right_inverse), not xavier draws in its g and v originals."""
    def build(parametrized):
        with torch.device("meta"):
            m = nn.Transformer(16, 2, 1, 1, 32, batch_first=True)
        if parametrized:
            nn.utils.parametrizations.weight_norm(m.encoder.layers[0].linear1)
        return m
    m, plain = build(True), build(False)
    summary = materialize(m, seed=0)
    materialize(plain, seed=0)
    with torch.no_grad():
        assert torch.allclose(m.encoder.layers[0].linear1.weight, plain.encoder.layers[0].linear1.weight, rtol=1e-6,
                              atol=1e-7)
    method = summary["encoder.layers.0.linear1.parametrizations.weight.original0"].method
    assert method.startswith("xavier_uniform, set")


def test_subclasses_overriding_a_rule_method_fall_back_to_it():
    """A Transformer / MultiheadAttention subclass with its own _reset_parameters initializes itself (and a
    Transformer's covers its layers), as in construction."""
    class SmallT(nn.Transformer):
        def _reset_parameters(self):
            for p in self.parameters():
                if p.dim() > 1:
                    nn.init.normal_(p, std=0.02)

    class MyMHA(nn.MultiheadAttention):
        def _reset_parameters(self):
            nn.init.normal_(self.in_proj_weight, std=0.02)
            nn.init.zeros_(self.in_proj_bias)

    with torch.device("meta"):
        t, a = SmallT(32, 2, 1, 1, 64, batch_first=True), MyMHA(64, 2)
    summary = materialize(t, seed=0)
    assert summary.fallbacks == {"": "SmallT"}
    assert float(t.encoder.layers[0].linear1.weight.detach().std()) == pytest.approx(0.02, rel=0.1)
    assert summary["encoder.layers.0.linear1.weight"].method == "SmallT._reset_parameters()"
    summary = materialize(a, seed=0)
    assert summary["in_proj_weight"].method == "MyMHA._reset_parameters()"
    assert float(a.in_proj_weight.detach().std()) == pytest.approx(0.02, rel=0.1)


def test_each_fill_is_checked_before_anything_is_allocated():
    """An override or a scheme that a fill would refuse (a fan rule on a bias, a std float16 cannot hold) is
    refused, naming the tensor, while the model is still on meta."""
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8))
    for kw, match in [(dict(overrides={"*.bias": ft.xavier_uniform_}), r"0\.bias .*fewer than 2 dimensions"),
                      (dict(overrides={"*.bias": fastinit.xavier_uniform_}), r"0\.bias .*fewer than 2 dimensions"),
                      (dict(scheme=("llama", {"std": 1e4}), dtype=torch.float16), r"0\.weight .*float16")]:
        with pytest.raises(ValueError, match=match):
            materialize(model, seed=0, **kw)
        assert all(t.is_meta for t in model.parameters())


def test_numpy_level_overrides_are_checked_in_the_whole_shape():
    """fastinit's NumPy-level initializers as overrides: checked placed in the tensor's shape (martens_sparse_
    needs its rows; variance_scaling_'s scale meets the fans) before anything is allocated."""
    m = nn.Linear(4, 6)
    materialize(m, seed=4, overrides={"weight": functools.partial(fastinit.martens_sparse_, k=2)})
    assert (m.weight != 0).sum(1).tolist() == [2] * 6  # per row: a unit's inputs in torch's (out, in)
    with torch.device("meta"):
        meta = nn.Linear(4, 6)
    with pytest.raises(ValueError, match=r"weight .*variance_scaling_"):
        materialize(meta, seed=0, dtype=torch.float16,
                    overrides={"weight": functools.partial(fastinit.variance_scaling_, scale=1e12)})
    assert meta.weight.is_meta


def test_spectral_norm_vector_left_to_an_override_leaves_the_other_drawn():
    with torch.device("meta"):
        m = nn.utils.parametrizations.spectral_norm(nn.Linear(64, 4))
    materialize(m, seed=0, overrides={"parametrizations.weight.0._u": "ones"})
    sn = m.parametrizations.weight[0]
    assert torch.all(sn._u == 1) and float(sn._v.norm()) == pytest.approx(1, abs=1e-6)
    gru = nn.GRU(3, 4)  # an RNN's weight list refresh evaluates its parametrizations: in eval mode, kept kept
    nn.utils.parametrizations.spectral_norm(gru, "weight_hh_l0")
    before = {k: v.clone() for k, v in gru.named_buffers()}
    materialize(gru, seed=0, overrides={"*._u": "keep", "*._v": "keep", "*weight_hh_l0.original": "keep"})
    assert all(torch.equal(v, dict(gru.named_buffers())[k]) for k, v in before.items())


def _weight_norm_linear():
    return nn.Sequential(nn.utils.parametrizations.weight_norm(nn.Linear(64, 32)))


def _rule_weight():
    """The Linear(64, 32) rule's weight under the name "0.weight", and the g weight_norm's right_inverse gives it."""
    plain = nn.Sequential(nn.Linear(64, 32))
    materialize(plain, seed=0)
    w = plain[0].weight.detach()
    return w, torch.norm_except_dim(w, 2, 0)


@pytest.mark.parametrize("meta", [False, True])
def test_an_override_on_one_original_leaves_the_others_to_the_rule(meta):
    """weight_norm's g (original0) overridden: v (original1) is still set through right_inverse from the rule's
    weight (on a meta model it would hold no values), and the summary says so; likewise v overridden, g set."""
    w, g = _rule_weight()
    label = "kaiming_uniform(a=√5), set as 0.weight through right_inverse"
    for key, other, want in (("original0", "original1", w), ("original1", "original0", g)):
        model = _meta(_weight_norm_linear) if meta else _weight_norm_linear()
        summary = materialize(model, seed=0, overrides={f"0.parametrizations.weight.{key}": "ones"})
        originals = model[0].parametrizations.weight
        assert torch.all(getattr(originals, key) == 1) and torch.equal(getattr(originals, other), want)
        assert summary[f"0.parametrizations.weight.{key}"].method == "ones"
        assert summary[f"0.parametrizations.weight.{other}"].method == label
    # 'default' on an original is the rule: the group's fill, under an override of the other
    model = _meta(_weight_norm_linear)
    summary = materialize(model, seed=0, overrides={"*.original0": "default", "0.parametrizations.*": "zeros"})
    assert torch.equal(model[0].parametrizations.weight.original0, g)
    assert torch.all(model[0].parametrizations.weight.original1 == 0)
    assert summary["0.parametrizations.weight.original0"].method == label


def test_keep_on_an_original_survives_the_fill_of_the_others_in_their_own_memory():
    """'keep' on either original of a built weight_norm: right_inverse, which sets every original, does not change
    it; and each original stays the same Parameter in the same memory, as a plain tensor re-initialized in place."""
    w, g = _rule_weight()
    for key, other, want in (("original0", "original1", w), ("original1", "original0", g)):
        model = _weight_norm_linear()
        originals = model[0].parametrizations.weight
        before = {n: (p, p.data_ptr(), p.detach().clone()) for n, p in originals.named_parameters()}
        summary = materialize(model, seed=0, overrides={f"0.parametrizations.weight.{key}": "keep"})
        assert torch.equal(getattr(originals, key), before[key][2])
        assert torch.equal(getattr(originals, other), want)
        assert summary[f"0.parametrizations.weight.{key}"].method == "keep (current values)"
        assert all(p is before[n][0] and p.data_ptr() == before[n][1] for n, p in originals.named_parameters())


def test_spectral_norm_vectors_are_iterated_on_the_weight_an_override_gives():
    """An override on spectral_norm's original: _u and _v are still drawn, normalized and power-iterated (after the
    overrides), on the override's weight: what a built model keeping that weight gets, sigma 1 in eval mode."""
    def build():
        return nn.Sequential(nn.utils.parametrizations.spectral_norm(nn.Linear(64, 32)))
    model = _meta(build)
    summary = materialize(model, seed=0, overrides={"0.parametrizations.weight.original": "normal"})
    w = model[0].parametrizations.weight.original
    stream = "0.parametrizations.weight.original"  # an override's stream: the tensor's own name
    assert torch.equal(w, ft.normal_(torch.empty(32, 64), 0.0, 0.02, seed=0, stream=stream))
    built = build()
    with torch.no_grad():
        built[0].parametrizations.weight.original.copy_(w)
    materialize(built, seed=0, overrides={"0.parametrizations.weight.original": "keep"})
    assert all(torch.equal(a, b) for a, b in zip(model.buffers(), built.buffers()))
    assert summary["0.parametrizations.weight.0._u"].method == \
        "normal(0, 1) normalized, 15 power iterations on 0.weight"
    assert summary["0.parametrizations.weight.0._v"].method == "set with 0.parametrizations.weight.0._u"
    assert torch.isfinite(model(torch.randn(2, 64))).all()  # training mode: one more power iteration
    model.eval()
    with torch.no_grad():
        assert float(torch.linalg.matrix_norm(model[0].weight, 2)) == pytest.approx(1, abs=0.03)
    again = _meta(build)  # 'default' on a vector is its rule, not an override leaving it unset
    materialize(again, seed=0, overrides={"*._u": "default", "0.parametrizations.weight.original": "normal"})
    assert all(torch.equal(a, b) for a, b in zip(again.buffers(), built.buffers()))


def test_a_parametrization_without_right_inverse_is_refused_unless_overrides_set_its_originals():
    class Double(nn.Module):
        def forward(self, x):
            return 2 * x

    model = _meta(lambda: nn.Linear(4, 3))
    nn.utils.parametrize.register_parametrization(model, "weight", Double())
    with pytest.raises(ValueError, match=r"weight is parametrized by \['Double'\], which define no right_inverse"):
        materialize(model, seed=0)
    assert model.bias.is_meta
    summary = materialize(model, seed=0, overrides={"parametrizations.weight.original": "ones"})
    assert torch.all(model.weight == 2) and summary["parametrizations.weight.original"].method == "ones"


def test_one_check_per_law_shape_and_dtype_still_checks_each_dtype():
    """The dry run checks a rule's law once per (shape, dtype): a float16 layer after a float32 one of the same
    shape and law is still checked in float16."""
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8).half())
    with pytest.raises(ValueError, match=r"1\.weight .*float16"):
        materialize(model, seed=0, scheme=("llama", {"std": 1e4}))
    assert all(t.is_meta for t in model.parameters())


def test_a_refused_call_draws_no_seed_from_torch():
    with torch.device("meta"):
        model = nn.Linear(4, 4)
    state = torch.random.get_rng_state()
    with pytest.raises(ValueError):
        materialize(model, overrides={"nope": "zeros"})
    assert torch.equal(state, torch.random.get_rng_state())


def test_orthogonal_parametrization_is_pure_in_the_seed():
    """torch's orthogonal right_inverse completes a non-square matrix with torch.randn: materialize runs it under
    a generator seeded from (seed, name) and leaves the caller's generator as it was."""
    bases = []
    for torch_seed in (1, 2):
        m = nn.Linear(8, 4)
        nn.utils.parametrizations.orthogonal(m)
        torch.manual_seed(torch_seed)
        state = torch.random.get_rng_state()
        summary = materialize(m, seed=0)
        assert torch.equal(state, torch.random.get_rng_state())
        bases.append(m.parametrizations.weight[0].base.clone())
    assert torch.equal(*bases)
    assert summary["parametrizations.weight.0.base"].method == "set by a parametrization's right_inverse"


def test_overrides_match_a_tied_tensor_by_any_of_its_names():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.head = nn.Embedding(10, 4), nn.Linear(4, 10, bias=False)
            self.head.weight = self.wte.weight

    for key in ("head.weight", nn.Linear):
        m = Tied()
        summary = materialize(m, seed=0, overrides={key: "ones"})
        assert torch.all(m.wte.weight == 1) and m.head.weight is m.wte.weight
        assert summary["wte.weight"].method == "ones"


def test_rnn_flat_weights_point_at_the_new_tensors():
    with torch.device("meta"):
        lstm = nn.LSTM(4, 4)
    materialize(lstm, seed=0)
    assert all(w is getattr(lstm, n) for w, n in zip(lstm._flat_weights, lstm._flat_weights_names))
    built = nn.LSTM(4, 4)
    materialize(built, seed=0, dtype=torch.float64)
    assert all(w.dtype == torch.float64 for w in built._flat_weights)


@pytest.mark.parametrize("cell", [False, True])
def test_parametrized_rnn_weights_get_the_rnn_rule_through_right_inverse(cell):
    name = "weight_hh" if cell else "weight_hh_l0"

    def build(parametrized):
        m = nn.GRUCell(4, 8) if cell else nn.GRU(4, 8)
        return nn.utils.parametrizations.weight_norm(m, name=name) if parametrized else m
    model = _meta(lambda: build(True))
    summary = materialize(model, seed=0)
    plain = build(False)
    materialize(plain, seed=0)
    with torch.no_grad():
        assert torch.allclose(getattr(model, name), getattr(plain, name), rtol=1e-6, atol=0)
        assert all(torch.equal(p, model.get_parameter(n)) for n, p in plain.named_parameters() if n != name)
        x = torch.randn(3, 4) if cell else torch.randn(5, 3, 4)
        out, ref = (y if cell else y[0] for y in (model(x), plain(x)))
        assert torch.allclose(out, ref, atol=1e-6)
    label = f"uniform(±1/√hidden_size), set as {name} through right_inverse"
    assert summary[f"parametrizations.{name}.original0"].method == label
    assert summary[f"parametrizations.{name}.original1"].method == f"set with parametrizations.{name}.original0"


RESIDUAL = ("c_proj", "out_proj", "o_proj", "down_proj", "fc2")

def test_gpt2_scales_every_documented_residual_projection_and_nothing_else():
    with torch.device("meta"):
        model = nn.ModuleDict({name: nn.Linear(256, 256) for name in RESIDUAL + ("c_attn", "fc1", "up_proj")})
    s = materialize(model, seed=0, scheme=("gpt2", {"n_layer": 8}))
    for name, lin in model.items():
        std = float(lin.weight.detach().double().std())
        want = 0.02 / math.sqrt(16) if name in RESIDUAL else 0.02
        assert abs(std / want - 1) < 0.02, (name, std, want)
        assert ("residual" in s[f"{name}.weight"].method) == (name in RESIDUAL), name


def test_placement_names_a_tied_parameter_by_any_of_its_names():
    """'head.weight', the second name of a tied embedding, was 'placement names no parameter' though overrides
    take it; naming both is ambiguous."""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.head = nn.Embedding(50, 8), nn.Linear(8, 50, bias=False)
            self.head.weight = self.wte.weight

    for name in ("wte.weight", "head.weight"):
        with torch.device("meta"):
            m = Net()
        materialize(m, seed=0, placement={name: ((100, 8), (50, 0))})
        expect = ft.normal_(torch.empty(100, 8), seed=0, stream="wte.weight")[50:]
        assert m.head.weight is m.wte.weight and torch.equal(m.wte.weight.detach(), expect)
    with torch.device("meta"):
        m = Net()
    with pytest.raises(ValueError, match=r"names the tied parameter wte.weight more than once"):
        materialize(m, seed=0, placement={"wte.weight": ((100, 8), (0, 0)), "head.weight": ((100, 8), (50, 0))})
    assert m.wte.weight.is_meta


def test_channels_last_1x1_kernels_stay_channels_last():
    """A 1x1 channels_last kernel is contiguous too (its size-1 axes' strides do not count): allocated with
    torch.empty it lost its strides, and the layer's output its channels_last format (to_empty keeps both)."""
    with torch.device("meta"):
        a = nn.Conv2d(8, 16, 1).to(memory_format=torch.channels_last)
    b = nn.Conv2d(8, 16, 1).to(memory_format=torch.channels_last)
    materialize(a, seed=0)
    assert a.weight.stride() == b.weight.stride() == (8, 1, 8, 8)


def test_a_tensor_subclass_other_than_dtensor_is_refused_before_any_change():
    """fastinit hands another subclass to torch.nn.init, which takes no seed=: the dry run refuses it, naming the
    tensor, and the model stays on meta."""
    class Sub(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return super().__torch_function__(func, types, args, kwargs or {})

    with torch.device("meta"):
        m = nn.Linear(4, 4)
    m.weight = nn.Parameter(m.weight.as_subclass(Sub))
    with pytest.raises(TypeError, match=r"materialize: weight \(Linear, kaiming_uniform\(a=√5\)\): kaiming_uniform_: "
                                        r"a Sub is a tensor subclass, .* torch.nn.init has no seed=, stream="):
        materialize(m, seed=0)
    assert m.weight.is_meta and m.bias.is_meta


def test_a_rejection_sampler_in_hfs_dry_run_stops_at_its_first_pass():
    """The dry run of a Hugging Face model's init records torch's trunc_normal_, a rejection sampler, without
    drawing: its "any rejected?" over values never drawn read stale memory, and its loop ran as long as that memory
    said so (forever, where it held values out of [a, b]).  Answered "none" now: one pass, nothing written; the
    call's law recorded, read off the stack (trunc_normal_ takes no torch-function dispatch)."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import torch
        from fastinit.materialize import _Writes
        torch.empty_like = lambda t, **kw: torch.full(t.shape, 1e30, dtype=t.dtype)  # stale memory, all rejected
        t = torch.full((8,), 1e30)
        with torch.no_grad(), _Writes({}) as mode:
            torch.nn.init.trunc_normal_(t, std=1.0, a=-2.0, b=2.0)  # (torch 2.13: normal_, then where() until in)
            torch.nn.init.trunc_normal_(t, std=1.0, a=3.0, b=4.0)  # (uniform_ candidates, accepted by density)
        law = "init", "trunc_normal_", (("mean", 0.0), ("std", 1.0), ("a", 3.0), ("b", 4.0))  # (the last call's)
        assert torch.equal(t, torch.full((8,), 1e30)) and mode.written[id(t)] == law, mode.written
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


def test_a_dry_runs_law_is_a_call_on_the_tensor_itself():
    """A constant written through a detached view of a row is no whole-tensor law (a review: recorded as one, it
    would have zeroed the whole tensor); a temporary's in-place ops run (orthogonal_ of a wide matrix transposes
    its draw: skipped, the dry run failed)."""
    from fastinit.materialize import _Writes

    w = nn.Parameter(torch.randn(4, 8))
    mode = _Writes({w.untyped_storage().data_ptr(): {id(w): (0, (4, 8), (8, 1))}}, {id(w)})
    with mode, torch.no_grad():
        nn.init.normal_(w, std=0.5)
        assert mode.written[id(w)] == ("init", "normal_", (("mean", 0.0), ("std", 0.5)))
        nn.init.zeros_(w[0].detach())
        assert mode.written[id(w)] == "zero_"
        nn.init.orthogonal_(w)  # (rows < cols)
        nn.init.ones_(w)
    assert mode.written[id(w)] == ("constant", 1.0) and not (w == 1).all()  # recorded, not written


def test_norm_constants_are_parsed_again_when_a_base_classs_init_changes():
    """Duck-typed norms' constants are read off their __init__ source once per class (a review: then a base class's
    __init__ replaced was not seen)."""
    from fastinit.materialize import ONES, ZEROS, _parsed_constants

    class NormBase(nn.Module):
        def __init__(self, d=4):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(d))

    class MyRMSNorm(NormBase):
        def __init__(self, d=4):
            super().__init__(d)

    assert _parsed_constants(MyRMSNorm, ("weight",)) == {"weight": ONES}

    def zeros_init(self, d=4):
        nn.Module.__init__(self)
        self.weight = nn.Parameter(torch.zeros(d))

    NormBase.__init__ = zeros_init
    assert _parsed_constants(MyRMSNorm, ("weight",)) == {"weight": ZEROS}


def test_the_dry_runs_rejection_masks_over_skipped_draws_take_no_memory():
    """An HF init truncating a large rule tensor (torch's trunc_normal_ rejection loop) made the dry run compute its
    full-size masks under every scheme (a review: +737 MiB planning a 1e6 x 256 embedding on meta); they are shapes
    only now.  Measured in a fresh process (peak RSS is a high-water mark)."""
    pytest.importorskip("transformers", minversion="5")
    code = """
import resource, sys, torch, warnings
from transformers import PretrainedConfig, PreTrainedModel
from transformers import initialization as init
import fastinit.torch as ft
class Stop(Exception): pass
def stop(*a, **k): raise Stop
ft._seed = stop
class M(PreTrainedModel):
    config_class = PretrainedConfig
    def __init__(self, config):
        super().__init__(config)
        self.emb = torch.nn.Embedding(1_000_000, 256)
        self.post_init()
    def _init_weights(self, module):
        if isinstance(module, torch.nn.Embedding):
            init.trunc_normal_(module.weight, std=0.02, a=-0.06, b=0.06)
with torch.device("meta"), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    m = M(PretrainedConfig())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for scheme in ("torch", "hf"):
    try:
        ft.materialize(m, seed=None, scheme=scheme)
    except Stop:
        pass
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.split()[-1]) < 100  # MiB above the model-building peak (the masks: ~730 MiB)


@pytest.mark.parametrize("meta", [True, False])
def test_a_tie_first_named_by_a_module_without_a_rule_is_refused(meta):
    """A parameter registered first on a module with no rule and no reset_parameters() is refused, whatever module
    shares it: which one made it (the law a CPU build gives it) cannot be told (``self.out_w = self.emb.weight``:
    the Embedding's; BERT's ``decoder.bias = self.bias``: the head's zeros).  A review (2026-12-06 (e)) found that
    taking a co-owner's rule gave BERT's masked-LM bias the Linear's uniform law."""
    class W(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(40, 5)
            self.out_w = self.emb.weight

    with torch.device("meta" if meta else "cpu"):
        w = W()
    with pytest.raises(ValueError, match=r"materialize has no rule .*out_w \(W\)"):
        materialize(w, seed=0)
    materialize(w, seed=0, overrides={"out_w": "normal"})
    assert w.out_w is w.emb.weight and w.emb.weight.std() > 0


@pytest.mark.parametrize("meta", [True, False])
def test_overriding_a_modules_own_tensor_keeps_its_reset_parameters_for_the_tensors_below(meta):
    """A module's reset_parameters() that also sets a child's tensor (a zero-initialized residual projection) still
    runs when overrides name only its own tensors; it had been dropped, the child given its own rule instead,
    silently (a review, 2026-12-06 (e)).  The override wins for the tensor it names."""
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.gamma = nn.Parameter(torch.empty(16))
            self.proj = nn.Linear(16, 16)
            self.reset_parameters()

        def reset_parameters(self):
            nn.init.constant_(self.gamma, 1e-4)
            nn.init.zeros_(self.proj.weight)

    with torch.device("meta" if meta else "cpu"):
        b = Block()
    summary = materialize(b, seed=0, overrides={"gamma": "ones"})
    assert torch.equal(b.gamma, torch.ones(16)) and not b.proj.weight.any() and summary.fallbacks == {"": "Block"}
    assert b.proj.bias.abs().max() > 0  # (the Linear's own rule: U(-1/4, 1/4))
    summary = materialize(b, seed=0, overrides={"gamma": "ones", "proj.*": "ones"})  # all covered: not called
    assert torch.equal(b.proj.weight, torch.ones(16, 16)) and summary.fallbacks == {}


class WN(nn.Module):
    """A weight-norm scale: its reset_parameters() reads a child's tensor (g = ‖v‖ per row)."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)
        self.g = nn.Parameter(torch.empty(8))
        self.reset_parameters()

    def reset_parameters(self):
        with torch.no_grad():
            self.g.copy_(self.lin.weight.norm(dim=1))


@pytest.mark.parametrize("meta", [True, False])
def test_a_reset_parameters_reading_an_overridden_tensor_below_it_reads_the_override(meta):
    """A module's reset_parameters() that reads a child's tensor (a weight-norm scale g = ‖v‖ per row) sees the
    values an override's shortcut gives it: they had been filled after every fallback, so it read uninitialized
    memory (a meta model: g changed from run to run) or the old values (a built one) (a review, 2026-12-06 (e))."""
    for shortcut, norm in (("zeros", 0.0), ("ones", math.sqrt(8))):
        with torch.device("meta" if meta else "cpu"):
            m = WN()
        if not meta:
            with torch.no_grad():
                m.lin.weight.fill_(5.0)
        summary = materialize(m, seed=0, overrides={"lin.weight": shortcut})
        assert torch.allclose(m.g, torch.full((8,), norm)) and summary.records["lin.weight"].method == shortcut
    # a callable naming seed= (fastinit's initializers) is filled before the call too (2026-12-06 (f)); it had not
    # been: g read uninitialized memory or the old values
    with torch.device("meta" if meta else "cpu"):
        m = WN()
    materialize(m, seed=0, overrides={"lin.weight": functools.partial(ft.normal_, std=0.5)})
    assert torch.equal(m.lin.weight, ft.normal_(torch.empty(8, 8), 0.0, 0.5, seed=0, stream="lin.weight"))
    assert torch.allclose(m.g, m.lin.weight.norm(dim=1))
    # one binding seed=None draws a fresh seed each call: not filled twice (g had been ‖a first draw‖, a review);
    # it runs last, as any such callable: the call reads the old values (on meta, whatever memory held: not tested)
    if not meta:
        m = WN()
        with torch.no_grad():
            m.lin.weight.fill_(5.0)
        materialize(m, seed=0, overrides={"lin.weight": functools.partial(ft.normal_, std=0.5, seed=None)})
        assert torch.allclose(m.g, torch.full((8,), 5.0 * math.sqrt(8)))


def test_a_class_patched_reset_parameters_keeps_the_rule(monkeypatch):
    """``nn.Linear.reset_parameters`` patched class-wide (LLaVA's ``disable_torch_init()`` no-op): the Linear rule
    still applies (a review, 2026-12-06 (e): calling the patch failed half-way, the no-op leaving the weights)."""
    monkeypatch.setattr(nn.Linear, "reset_parameters", lambda self: None)
    with torch.device("meta"):
        m = nn.Sequential(nn.Linear(300, 300))
    assert materialize(m, seed=0).records["0.weight"].method == "kaiming_uniform(a=√5)"


def test_a_norm_whose_init_changes_its_parameters_after_assigning_them_is_not_read_as_plain():
    """A rule-less ``*LayerNorm`` whose ``__init__`` assigns zeros, then calls ``nn.init.ones_(self.weight)``: not
    the plain constant of the assignment (it had been given zeros, silently); the usual 1 / 0 and a warning."""
    class MyLayerNorm(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(d))
            self.bias = nn.Parameter(torch.zeros(d))
            nn.init.ones_(self.weight)

    with torch.device("meta"):
        m = MyLayerNorm(4)
    with pytest.warns(UserWarning, match=r"MyLayerNorm.__init__ does not plainly set \['weight', 'bias'\]"):
        materialize(m, seed=0)
    assert torch.equal(m.weight, torch.ones(4)) and not m.bias.any()


def test_a_norm_subclass_changing_its_bases_plain_weight_is_not_read_as_plain():
    """The base's ``__init__`` sets ones plainly; a subclass's zeroes them after ``super().__init__()`` (a CPU build:
    zeros): it had been given ones, silently (a review, 2026-12-06 (f)); now the warning says it is not plain."""
    class BaseRMSNorm(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(d))

    class ZeroCenteredRMSNorm(BaseRMSNorm):
        def __init__(self, d):
            super().__init__(d)
            nn.init.zeros_(self.weight)

    with torch.device("meta"):
        m = nn.Sequential(ZeroCenteredRMSNorm(4), BaseRMSNorm(4))
    with pytest.warns(UserWarning, match=r"ZeroCenteredRMSNorm.__init__ does not plainly set \['weight'\]"):
        summary = materialize(m, seed=0)
    assert summary["1.weight"].method == "ones" and torch.equal(m[1].weight, torch.ones(4))


@pytest.mark.parametrize("how", ["dtype", "meta"])
def test_a_fill_failing_at_its_turn_puts_every_replaced_tensor_back(how):
    """dtype= on a built model (or any meta model) gives every module new tensors before the fills; a failure at a
    fill's turn (a fallback raising, a parametrization's right_inverse with no bfloat16 kernel) had left the later
    modules holding uninitialized memory (a review, 2026-12-06 (f)): now the tensors as given are put back (a built
    model's values, dtype and objects; a meta model's meta tensors), RNNs' flat weights with them."""
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(3))

        def reset_parameters(self):
            raise RuntimeError("boom")

    def build():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(16, 16), Bad(), nn.Linear(16, 16), nn.Embedding(10, 16), nn.LSTM(4, 4))

    if how == "meta":
        with torch.device("meta"):
            model = build()
    else:
        model = build()
    given = dict(model.named_parameters())
    values = {k: v.detach().clone() for k, v in given.items()}
    with pytest.raises(RuntimeError, match="boom"):
        materialize(model, seed=0, dtype=torch.float64 if how == "dtype" else None)
    assert all(t is given[k] for k, t in model.named_parameters())
    if how == "meta":
        assert all(t.is_meta for t in model.parameters())
    else:
        assert all(torch.equal(t, values[k]) and t.dtype == torch.float32 for k, t in model.named_parameters())
        assert model[4]._flat_weights[0] is given["4.weight_ih_l0"]
    built = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8))  # (the review's: orthogonal's QR has no bfloat16 kernel)
    nn.utils.parametrizations.orthogonal(built[1])
    values = {k: v.clone() for k, v in built.state_dict().items()}
    with pytest.raises(NotImplementedError, match="BFloat16"):
        materialize(built, seed=0, dtype=torch.bfloat16)
    assert all(torch.equal(t, values[k]) and t.dtype == values[k].dtype for k, t in built.state_dict().items())


def test_a_partials_own_seed_and_stream_are_kept():
    """``functools.partial(ft.normal_, seed=5, stream="mine")`` had been called with materialize's seed and the
    tensor's name, which replaced the partial's (a review, 2026-12-06 (f))."""
    m = nn.Linear(4, 4)
    materialize(m, seed=0, overrides={"weight": functools.partial(ft.normal_, std=0.1, seed=5, stream="mine")})
    assert torch.equal(m.weight, ft.normal_(torch.empty(4, 4), 0.0, 0.1, seed=5, stream="mine"))


def test_bert_masked_lm_bias_tied_to_its_decoder_stays_zero():
    """BertLMPredictionHead's ``self.bias`` (zeros) tied as ``decoder.bias``: zeros in every scheme, as a CPU build
    gives it (a review caught a change of 2026-12-06 (e) that gave it the decoder Linear's uniform law)."""
    tf = pytest.importorskip("transformers")
    cfg = tf.BertConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=1, num_attention_heads=4,
                        vocab_size=100, max_position_embeddings=32)
    for scheme in ("torch", "hf"):
        with torch.device("meta"):
            m = tf.BertForMaskedLM(cfg)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            summary = materialize(m, seed=1, scheme=scheme)
        assert summary.records["cls.predictions.bias"].method == "zeros" and not m.cls.predictions.bias.any()
        assert m.cls.predictions.decoder.bias is m.cls.predictions.bias


# Behaviours a mutation review found untested (2026-12-07 (s)); each test fails with its mutant of materialize.py

class Shifted(nn.Module):
    def __init__(self, n=16):
        super().__init__()
        self.w = nn.Parameter(torch.empty(n))
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.uniform_(self.w, 2.0, 3.0)


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op")  # (torch building them)
def test_a_linear_with_no_inputs_gets_a_zero_bias_as_torch():
    m = _meta(lambda: nn.Linear(0, 4))
    s = materialize(m, seed=0)
    assert torch.all(m.bias == 0) and torch.equal(m.bias, nn.Linear(0, 4).bias)
    assert s["bias"].method == "uniform(±1/√fan_in)"


def test_multihead_attention_bias_kv_are_xavier_normal_by_name():  # (a KS test of 128 values: not uniform vs normal)
    m = _meta(lambda: nn.MultiheadAttention(128, 4, add_bias_kv=True))
    s = materialize(m, seed=3)
    for name in ("bias_k", "bias_v"):
        assert s[name].method == "xavier_normal"
        assert torch.equal(getattr(m, name).detach(), ft.xavier_normal_(torch.empty(1, 1, 128), seed=3, stream=name))


def test_gpt2_residual_rule_matches_the_last_name_component_exactly():
    m = _meta(lambda: nn.ModuleDict({"xc_proj": nn.Linear(64, 64), "mlp_down_proj": nn.Linear(64, 64),
                                     "c_proj": nn.Linear(64, 64)}))
    s = materialize(m, seed=0, scheme=("gpt2", {"n_layer": 8}))
    assert "residual" not in s["xc_proj.weight"].method and "residual" not in s["mlp_down_proj.weight"].method
    assert "residual" in s["c_proj.weight"].method


class CondRMSNorm(nn.Module):
    def __init__(self, d, zero_centered=False):
        super().__init__()
        if zero_centered:
            self.weight = nn.Parameter(torch.zeros(d))
        else:
            self.register_parameter("weight", nn.Parameter(torch.ones(d)))


def test_a_norm_assigning_its_weight_in_a_condition_is_not_read_as_plain():
    m = _meta(lambda: nn.Sequential(CondRMSNorm(8)))
    with pytest.warns(UserWarning, match="CondRMSNorm.__init__ does not plainly set"):
        materialize(m, seed=0)
    assert torch.all(m[0].weight == 1)


def test_a_fallbacks_torch_seed_is_derived_from_its_module_name():
    from fastinit.materialize import _fallback_seed
    m = _meta(lambda: nn.Sequential(Shifted(), Shifted()))
    materialize(m, seed=4)
    assert not torch.equal(m[0].w, m[1].w)  # two identical modules, two names: two draws
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_fallback_seed(4, "1"))
        want = torch.empty(16).uniform_(2.0, 3.0)
    assert torch.equal(m[1].w.detach(), want)


def test_a_key_with_a_bracket_is_a_glob():
    m = _meta(lambda: nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4)))
    materialize(m, seed=0, overrides={"[01].weight": "zeros"})
    assert torch.all(m[0].weight == 0) and torch.all(m[1].weight == 0) and m[2].weight.abs().sum() > 0


def recorded_bar(monkeypatch) -> list:
    """tqdm.auto's bar stood in for by a recorder; the list it fills: the bar's total, then each update."""
    auto = pytest.importorskip("tqdm.auto")
    seen = []

    class Bar:
        def __init__(self, total, **kw):
            seen.append(total)

        def update(self, n):
            seen.append(n)

        def close(self):
            pass

    monkeypatch.setattr(auto, "tqdm", Bar)
    return seen


def test_the_progress_bar_counts_a_tensor_filled_before_a_fallback_once(monkeypatch):
    seen = recorded_bar(monkeypatch)
    materialize(_meta(WN), seed=0, overrides={"lin.weight": "ones"}, progress=True)
    assert seen[0] == (64 + 8 + 8) * 4 and sum(seen[1:]) == seen[0]


def test_summary_table_says_more_only_when_rows_are_left_out():
    s = materialize(_meta(lambda: nn.Linear(4, 4)), seed=0)
    assert "more" not in s.table(limit=2) and len(s.table(limit=2).splitlines()) == 3
    assert s.table(limit=1).endswith("... and 1 more (summary.table() lists all)")


def test_the_seed_is_refused_up_front_even_where_no_fastinit_fill_checks_it():
    for bad, err in ((-1, ValueError), (2**64, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(err, match="seed"):
            materialize(Shifted(), seed=bad)
    assert type(materialize(Shifted(), seed=np.uint64(5)).seed) is int
