"""`fastinit variance`: the per-layer variances follow the theory (He et al. 2015, Glorot & Bengio 2010)."""
import json
import math
import sys

import numpy as np
import pytest

from fastinit import variance
from fastinit.cli import main

DEPTH, WIDTH, BATCH = 20, 256, 256


def _ratio(values):
    return variance.Trace.ratio(values)


def test_he_keeps_relu_variance_per_layer_near_one():
    t = variance.propagate("he_normal", "relu", DEPTH, WIDTH, BATCH)
    assert _ratio(t.preact) == pytest.approx(1.0, abs=0.1)  # Var(h_l) = width * (2 / width) * Var(h_{l-1}) / 2
    assert _ratio(t.grad[::-1]) == pytest.approx(1.0, abs=0.1)
    v = np.asarray(t.preact)
    assert v[0] == pytest.approx(2.0, rel=0.1)  # the first layer sees N(0, 1) inputs, not ReLU outputs
    assert np.all((v / v[0] > 0.25) & (v / v[0] < 4))


@pytest.mark.parametrize("scheme, per_layer", [("naive", WIDTH / 2), ("small", WIDTH * 1e-4 / 2),
                                               ("xavier_normal", 0.5)])
def test_relu_variance_grows_or_shrinks_by_width_times_var_w_over_two(scheme, per_layer):
    t = variance.propagate(scheme, "relu", DEPTH, WIDTH, BATCH)
    assert _ratio(t.preact) == pytest.approx(per_layer, rel=0.15)
    assert _ratio(t.grad[::-1]) == pytest.approx(per_layer, rel=0.15)


def test_naive_relu_overflows_float32_and_is_reported_as_such():
    # 30 layers of 128: Var(h) ~ 64 ** 30 = 1e54, beyond float32's 3.4e38, but the values themselves (~8 ** 30)
    # are finite: their variance, summed in float64, says "explodes" (summed in float32 it was inf: "overflow")
    report = variance.run_variance(["naive", "he_normal"], "relu", 30, 128, 64, "float32")
    naive = report["schemes"]["naive"]
    assert naive["forward"] == naive["backward"] == "explodes"
    assert 3.4e38 < naive["preact_var"][-1] < math.inf and 3.4e38 < naive["grad_var"][0] < math.inf
    assert report["schemes"]["he_normal"]["forward"] == report["schemes"]["he_normal"]["backward"] == "stable"
    # the CLI's default net (16 ** 50 > 3.4e38): the values overflow, and the gradient below is undefined
    # (ReLU'(nan) = 0 made it "vanish" before)
    naive = variance.run_variance(["naive"], "relu", 50, 512, 256, "float32")["schemes"]["naive"]
    assert naive["forward"] == naive["backward"] == "overflow"
    assert 0.0 not in naive["grad_var"] and math.isnan(naive["grad_var"][0])


def test_float32_variance_below_float32s_range_is_not_zero():
    """N(0, 0.01²) through 30 ReLU layers of 512: Var(h) falls by 512·1e-4/2 a layer, to ~1e-48, below float32's
    least subnormal (1.4e-45) though every value (~1e-24) is not: the ratio is measured, not 0."""
    small = variance.run_variance(["small"], "relu", 30, 512, 256, "float32")["schemes"]["small"]
    assert 0 < small["preact_var"][-1] < 1.4e-45
    assert small["forward_ratio"] == pytest.approx(0.0256, rel=0.05) and small["forward"] == "vanishes"


def test_a_net_beyond_the_machines_memory_is_refused_before_it_starts(monkeypatch):
    monkeypatch.setattr(variance, "physical_memory", lambda: 2**30)
    calls = []
    monkeypatch.setitem(variance.SCHEMES, "naive", ("N(0, 1)", lambda *a: calls.append(a)))
    # 50 x (512² + 256 x 512) float64 values: 150 MiB, kept
    variance.run_variance(["he_normal"], "relu", 50, 512, 256)
    with pytest.raises(MemoryError, match=r"depth 400, width 512, batch 256: .* 1\.17 GiB kept, more than this "
                                          r"machine's 1 GiB$"):
        variance.run_variance(["naive"], "relu", 400, 512, 256)
    with pytest.raises(MemoryError, match="depth 400"):
        variance.propagate("naive", "relu", 400, 512, 256)
    assert calls == []
    monkeypatch.setattr(variance, "physical_memory", lambda: None)  # an OS that cannot say: no refusal
    variance._check(["naive"], "relu", 10**6, 512, 256, "float64", 0)


def test_tanh_xavier_decays_slowly_its_gain_holds_it_naive_saturates_and_small_vanishes():
    """Through 20 tanh layers Xavier with gain 1 loses variance slowly (38x: 'vanishes' by the 10x rule, where
    N(0, 0.01^2) loses 10^30); torch's tanh gain 5/3 (the recommended scheme) keeps the forward variance."""
    report = variance.run_variance(["xavier_uniform", "recommended", "naive", "small"], "tanh", DEPTH, WIDTH, BATCH)
    x = report["schemes"]["xavier_uniform"]
    assert 0.01 < x["preact_var"][-1] < 1.0 and 0.01 < x["grad_var"][0] < 2.0
    assert x["forward"] == x["backward"] == "vanishes"
    assert report["schemes"]["recommended"]["forward"] == "stable"
    naive = report["schemes"]["naive"]
    assert naive["preact_var"][-1] > 100 and naive["backward"] == "explodes"  # saturated units, huge weights
    assert report["schemes"]["small"]["forward"] == "vanishes" and report["schemes"]["small"]["preact_var"][-1] < 1e-20


def test_selu_is_klambauers_to_the_last_bit():
    """alpha 1.6732632423543772, lambda 1.0507009873554805 (Klambauer et al. 2017): torch's SELU to an ulp."""
    x = np.linspace(-6.0, 6.0, 1201)
    want = np.where(x > 0, 1.0507009873554805 * x, 1.0507009873554805 * 1.6732632423543772 * np.expm1(x))
    np.testing.assert_allclose(variance.ACTIVATIONS["selu"][0](x), want, rtol=4e-16, atol=0)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(variance.ACTIVATIONS["selu"][0](x), torch.nn.functional.selu(torch.tensor(x)).numpy(),
                               rtol=1e-15, atol=0)


def test_lecun_keeps_selu_and_orthogonal_keeps_linear_exactly():
    assert variance.run_variance(["lecun_normal"], "selu", DEPTH, WIDTH, BATCH)["schemes"]["lecun_normal"][
        "forward"] == "stable"
    t = variance.propagate("orthogonal", "linear", DEPTH, 64, 32)
    assert _ratio(t.preact) == pytest.approx(1.0, abs=1e-3)  # an orthogonal map preserves every norm
    assert _ratio(t.grad[::-1]) == pytest.approx(1.0, abs=1e-3)


def test_variance_cli_json_and_png(tmp_path, capsys):
    png = tmp_path / "v.png"
    argv = ["variance", "--depth", "6", "--width", "32", "--batch", "16", "--schemes", "he_normal,naive",
            "--activation", "gelu", "--json", "--png", str(png), "--no-progress"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["schemes"]) == {"he_normal", "naive"}
    assert all(len(r["preact_var"]) == len(r["grad_var"]) == 6 for r in report["schemes"].values())
    assert report["schemes"]["naive"]["forward"] == "explodes"
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = pytest.importorskip("matplotlib.image").imread(png)
    assert image.shape[:2] == (420, 1100)  # figsize (11, 4.2) at 100 dpi


def test_variance_table_shows_a_subset_of_layers_and_verdicts(capsys):
    assert main(["variance", "--depth", "30", "--width", "16", "--batch", "8", "--schemes", "he_normal",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "forward: Var(pre-activation h_l)" in out and "backward" in out and "he_normal" in out
    assert variance.shown_layers(30)[0] == 1 and variance.shown_layers(30)[-1] == 30
    assert len(variance.shown_layers(30)) <= 11 and variance.shown_layers(4) == [1, 2, 3, 4]


def test_png_without_matplotlib_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    png = tmp_path / "v.png"
    assert main(["variance", "--depth", "3", "--width", "8", "--batch", "4", "--png", str(png), "--no-progress"]) == 2
    assert "pip install 'fastinit[plot]'" in capsys.readouterr().err and not png.exists()


def test_variance_bad_values_exit_2(capsys):
    assert main(["variance", "--width", "8", "--batch", "4", "--no-progress", "--schemes", "he_normal,glorot"]) == 2
    assert "unknown --schemes ['glorot']" in capsys.readouterr().err


@pytest.mark.parametrize("flag, value, least", [("--depth", "1", 2), ("--width", "0", 1), ("--batch", "1", 2),
                                                ("--depth", "3.5", 2), ("--batch", "-4", 2)])
def test_variance_sizes_are_refused_by_their_flags(capsys, flag, value, least):
    """The parser refuses a size below its least (variance.LEAST) naming the flag, as argparse does its own errors."""
    assert variance.LEAST[flag[2:]] == least
    with pytest.raises(SystemExit) as e:
        main(["variance", "--width", "8", "--batch", "4", "--depth", "3", "--no-progress", flag, value])
    assert e.value.code == 2
    assert f"fastinit variance: error: argument {flag}: must be an int >= {least}, got '{value}'" in \
        capsys.readouterr().err


def test_variance_arguments_are_checked_by_name():
    for kw, exc, msg in ((dict(seed=-1), ValueError, r"seed must lie in \[0, 2\*\*64\), got -1"),  # the library's
                         (dict(seed=1.5), TypeError, r"seed must be an int in \[0, 2\*\*64\), got float 1.5"),
                         (dict(seed=2**64), ValueError, r"seed must lie in \[0, 2\*\*64\)"),
                         (dict(schemes=["he_normal", "glorot"]), ValueError, r"unknown scheme\(s\) \['glorot'\]"),
                         (dict(schemes=[]), ValueError, "schemes must name one or more of"),  # (its table had
                         (dict(dtype="bfloat16"), ValueError, "dtype must be float32 or float64, got 'bfloat16'"),
                         (dict(depth=1), ValueError, "depth must be an int >= 2, got 1"),
                         (dict(width=4.0), TypeError, "width must be an int >= 1, got float 4.0"),  # (a TypeError,
                         (dict(batch=True), TypeError, "batch must be an int >= 2, got bool True"),  # as the seed's:
                         (dict(depth=np.timedelta64(3)), TypeError, "depth must be an int >= 2")):  # is_int's rule)
        # failed, NumPy's message for bfloat16: a review, 2026-12-06 (f))
        with pytest.raises(exc, match=msg):
            variance.run_variance(**{"depth": 2, "width": 4, "batch": 2, **kw})
    with pytest.raises(ValueError, match=r"unknown scheme\(s\) \['foo'\]"):
        variance.propagate("foo")
    report = variance.run_variance("naive, he_normal", "relu", 2, 4, 2)  # one string: comma-separated names
    assert list(report["schemes"]) == ["naive", "he_normal"]


def test_verdicts_judge_the_change_over_the_whole_depth():
    """Stable: less than 10x over the depth.  1.18 per layer (He with a 10% too large std) is x3,400 over 50
    layers: it explodes, though a per-layer band of [0.8, 1.25] called it stable."""
    assert [variance.verdict(r, 50) for r in (1.0, 1.18, 1.04, 0.96, 1.05, 0.95, math.nan, 0.0)] == [
        "stable", "explodes", "stable", "stable", "explodes", "vanishes", "overflow", "vanishes"]
    assert variance.verdict(1.18, 10) == "stable" and variance.verdict(1.3, 10) == "explodes"  # 4.4x, 10.6x
    report = variance.run_variance(["he_normal"], "relu", 50, 128, 64)
    he = report["schemes"]["he_normal"]
    assert he["forward"] == "stable" and 0.1 < he["preact_var"][-1] / he["preact_var"][0] < 10


def test_verdict_band_edges_are_ten_to_the_one_over_depth_minus_one():
    for depth in (2, 10, 50):
        edge = 10 ** (1 / (depth - 1))
        assert variance.verdict(edge * 0.995, depth) == "stable"
        assert variance.verdict(edge * 1.005, depth) == "explodes"
        assert variance.verdict(1 / edge / 0.995, depth) == "stable"
        assert variance.verdict(1 / edge / 1.005, depth) == "vanishes"


def test_every_activation_recommend_points_to_is_measured_with_its_derivative():
    """`fastinit variance --activation X` exists for each X a recommend() reason names, and each f' is f's
    derivative (central differences)."""
    from fastinit import guide

    for act in sorted(guide._SMOOTH_RELU | guide._RELU_LIKE - {"relu6", "prelu"} | {"sigmoid", "tanh", "selu"}):
        assert act in variance.ACTIVATIONS
    h = np.linspace(-6, 6, 2401)
    h = h[np.abs(h) > 1e-3]  # the kinks of relu-like units at 0
    h = h[np.abs(np.abs(h) - 3) > 1e-3]  # hard_swish's at +-3
    for name, (f, df) in variance.ACTIVATIONS.items():
        numeric = (f(h + 1e-6) - f(h - 1e-6)) / 2e-6
        assert np.allclose(df(h), numeric, atol=1e-6), name


def test_orthogonal_scheme_uses_gain_one_for_selu_as_torch_advises():
    t = variance.propagate("orthogonal", "selu", DEPTH, WIDTH, BATCH)
    assert _ratio(t.preact) == pytest.approx(1.0, abs=0.02)  # with calculate_gain('selu') = 3/4: ~0.94 a layer
