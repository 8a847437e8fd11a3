"""The command line: `fastinit fill` (and `python -m fastinit`) works, reports, and fails cleanly."""
import json
import math
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import fastinit
from fastinit import benchmark, check
from fastinit.archs import arch_spec, config_spec, parameter_count
from fastinit.cli import _bytes, build_parser, main


def test_fill_reports_throughput_vs_memset(capsys):
    assert main(["fill", "--numel", "2e5", "--dist", "uniform", "--a", "-1", "--b", "1", "--repeat", "2"]) == 0
    out = capsys.readouterr().out
    assert "G elements/s" in out and "fill / memset throughput" in out
    from fastinit import benchmark

    for cache, said in ((10**6, True), (10**5, False), (None, False)):  # 800 kB: under a 1 MB cache, not 100 kB
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(benchmark, "last_level_cache", lambda: cache)
            assert main(["fill", "--numel", "2e5", "--repeat", "1"]) == 0
        assert ("smaller than the CPU's last-level cache" in capsys.readouterr().out) is said, cache


def test_fill_writes_the_npy_file_it_reports(tmp_path, capsys):
    path = tmp_path / "w.npy"
    rc = main(["fill", "--numel", "1000", "--dtype", "float16", "--std", "0.02", "--seed", "3",
               "--stream", "w", "--repeat", "1", "--out", str(path)])
    assert rc == 0
    got = np.load(path)
    expected = fastinit.normal_(np.empty(1000, np.float16), 0.0, 0.02, seed=3, stream="w")
    assert np.array_equal(got, expected)
    assert f"wrote {path} (2 kB, .npy)" in capsys.readouterr().out  # its 2,000 bytes of values, not "0.000 GB"


def test_fill_trunc_normal_defaults_to_two_std_bounds(tmp_path, capsys):
    path = tmp_path / "t.npy"
    assert main(["fill", "--numel", "5000", "--dist", "trunc_normal", "--std", "0.02", "--repeat", "1",
                 "--out", str(path)]) == 0
    x = np.load(path)
    assert x.min() >= -0.04 and x.max() <= 0.04 and "on [-0.04, 0.04]" in capsys.readouterr().out


def test_fill_bad_parameters_exit_2_with_message(capsys):
    assert main(["fill", "--numel", "10", "--std", "-1"]) == 2
    assert "std must be >= 0" in capsys.readouterr().err
    assert main(["fill", "--numel", "10", "--stream", "-1"]) == 2  # a signed number is an int, not a name
    assert "stream must lie in [0, 2**64), got -1" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="2"):  # argparse's exit, with --stream's own refusal
        main(["fill", "--numel", "10", "--stream", "-1e3"])
    assert "'-1e3' reads as a number but is not a decimal int" in capsys.readouterr().err  # not "expected one"
    assert main(["fill", "--numel", "10", "--stream=--1"]) == 0  # not a number: a name, as before
    for text, hint in (("1e3", " (write 1000)"), ("0x10", " (write 16)"), ("2.5", ""), ("inf", ""),
                       ("1e30", ""), ("-1e3", "")):  # no hint that would still be out of range
        with pytest.raises(SystemExit) as e:  # hashed as the name '1e3' before
            main(["fill", "--numel", "10", f"--stream={text}"])
        assert e.value.code == 2
        assert f"{text!r} reads as a number but is not a decimal int{hint}: a stream is" in capsys.readouterr().err
    assert main(["fill", "--numel", "10", "--stream", "1_000", "--repeat", "1"]) == 0
    assert "stream=1000" in capsys.readouterr().out
    # a review (2026-12-06 (e)): default truncation bounds that collapse blamed --a / --b, never given; a literal
    # beyond float64 was written as inf
    assert main(["fill", "--numel", "10", "--dist", "trunc_normal", "--mean", "1", "--std", "1e-17"]) == 2
    assert "the default bounds --mean ± 2·--std (1.0, 1.0) are not an interval" in capsys.readouterr().err
    for flag in ("--value", "--mean", "--a"):
        dist = {"--value": "constant", "--mean": "normal", "--a": "uniform"}[flag]
        with pytest.raises(SystemExit, match="2"):
            main(["fill", "--numel", "10", "--dist", dist, flag, "1e400"])
        assert f"argument {flag}: '1e400' is beyond float64's range" in capsys.readouterr().err
    assert main(["fill", "--numel", "10", "--repeat", "1", "--dist", "constant", "--value", "-inf"]) == 0


def test_a_closed_stdout_or_stderr_is_no_crash(tmp_path, monkeypatch):
    """sys.stdout / sys.stderr None (a stream closed at start, `>&-`, pythonw) gave a traceback and rc 1, the file
    written or not (a review); now rc 0 and the file, print() to None writing nothing, as Python's own does."""
    for closed in ("stdout", "stderr"):
        path = tmp_path / f"{closed}.safetensors"
        with monkeypatch.context() as m:
            m.setattr(sys, closed, None)
            assert main(["init", "--arch", "mlp-mnist", "--out", str(path), "--seed", "0"]) == 0
            assert main(["init", "--list"]) == 0
        assert path.stat().st_size > 900_000


def test_fill_out_needs_no_posix_fallocate(tmp_path, monkeypatch, capsys):
    """macOS and Windows Pythons have no os.posix_fallocate (fill --out crashed with an AttributeError)."""
    monkeypatch.delattr(os, "posix_fallocate", raising=False)
    assert main(["fill", "--numel", "1000", "--repeat", "1", "--seed", "2", "--out", str(tmp_path / "m.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "m.npy"), fastinit.normal_(np.empty(1000, np.float32), seed=2))


def test_python_dash_m_and_help():
    out = subprocess.run([sys.executable, "-m", "fastinit", "fill", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--numel" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "fastinit", "fill", "--dtype", "int8"], capture_output=True, text=True)
    assert bad.returncode == 2 and "dtype must be one of" in bad.stderr


def test_init_arch_writes_a_loadable_checkpoint_with_published_shapes(tmp_path, capsys):
    st = pytest.importorskip("safetensors.numpy")
    from fastinit.archs import arch_spec, parameter_count
    path = tmp_path / "mlp.safetensors"
    assert main(["init", "--arch", "mlp-mnist", "--out", str(path), "--seed", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "235,146 parameters" in out and "941 kB in " in out and "B/s" in out
    tensors = st.load_file(path)
    assert {k: v.shape for k, v in tensors.items()} == {k: s.shape for k, s in arch_spec("mlp-mnist").items()}
    w, b = tensors["fc1.weight"], tensors["fc1.bias"]
    assert np.abs(w).max() <= 1 / np.sqrt(784) and np.abs(b).max() <= 1 / np.sqrt(784)
    assert np.array_equal(w, fastinit.fan_in_uniform_(np.empty((256, 784), np.float32), seed=1, stream="fc1.weight"))
    assert parameter_count(arch_spec("gpt2")) == 124_439_808  # the published GPT-2 small count
    assert parameter_count(arch_spec("llama-7b")) == 6_738_415_616
    assert parameter_count(arch_spec("bert-base")) == 109_482_240
    assert parameter_count(arch_spec("resnet50")) == 25_557_032  # torchvision's count
    assert parameter_count(arch_spec("llama3.2-1b")) == 1_235_814_400


def test_init_gpt2_follows_its_convention(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "gpt2.safetensors"
    assert main(["init", "--arch", "gpt2", "--out", str(path), "--dtype", "bfloat16", "--seed", "0",
                 "--no-progress"]) == 0
    t = st.load_file(path)
    assert len(t) == 148 and t["wte.weight"].shape == (50257, 768)
    assert abs(float(t["h.0.attn.c_attn.weight"].astype(np.float32).std()) - 0.02) < 2e-4
    proj = 0.02 / np.sqrt(24)
    assert abs(float(t["h.11.mlp.c_proj.weight"].astype(np.float32).std()) - proj) < proj * 0.01
    assert not t["h.3.attn.c_proj.bias"].astype(np.float32).any()
    assert (t["ln_f.weight"].astype(np.float32) == 1).all()


def test_init_errors_exit_2(capsys, tmp_path):
    assert main(["init", "--arch", "gpt5", "--out", str(tmp_path / "x.safetensors")]) == 2
    assert "unknown architecture 'gpt5'" in capsys.readouterr().err
    assert main(["init", "--arch", "gpt2"]) == 2
    assert "--out and one of --arch and --config are required" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_init_resnet50_convs_are_kaiming_fan_out(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "r.safetensors"
    assert main(["init", "--arch", "resnet50", "--out", str(path), "--dtype", "bf16", "--seed", "2",
                 "--no-progress"]) == 0
    t = st.load_file(path)
    w = t["layer3.0.conv2.weight"].astype(np.float32)  # (256, 256, 3, 3): fan_out = 256 * 9
    assert abs(float(w.std()) / np.sqrt(2 / (256 * 9)) - 1) < 0.02
    assert (t["layer4.2.bn3.running_var"].astype(np.float32) == 1).all()


def test_init_list(capsys, tmp_path):
    assert main(["init", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "llama3-8b" in listed and "with --config, a Hugging Face config.json of model_type llama, mistral" in listed
    assert main(["init", "--arch", "nope", "--list"]) == 0  # --list lists, whatever --arch says
    assert "llama3-8b" in capsys.readouterr().out
    assert main(["init", "--arch", "", "--out", str(tmp_path / "x.safetensors")]) == 2  # not "--arch is required"
    assert "unknown architecture ''" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["fill", "--numel", "10", "--out", ""],
                                  ["init", "--arch", "mlp-mnist", "--out", ""],
                                  ["variance", "--depth", "2", "--png", ""]])
def test_an_empty_file_name_is_refused_not_read_as_no_flag(argv, capsys):
    with pytest.raises(SystemExit) as e:  # fill had filled RAM, reported, and exited 0 with nothing written
        main(argv)
    assert e.value.code == 2
    assert f"{argv[-2]}: expected a file name, got an empty string" in capsys.readouterr().err


def test_init_shard_flag(tmp_path, capsys):
    st = pytest.importorskip("safetensors.numpy")
    base = ["init", "--arch", "mlp-mnist", "--seed", "4", "--no-progress"]
    assert main(base + ["--out", str(tmp_path / "full.safetensors")]) == 0
    for i in range(2):
        assert main(base + ["--out", str(tmp_path / f"{i}.safetensors"), "--shard", f"{i}/2"]) == 0
    full = st.load_file(tmp_path / "full.safetensors")
    halves = [st.load_file(tmp_path / f"{i}.safetensors") for i in range(2)]
    for name, value in full.items():
        assert np.array_equal(np.concatenate([h[name] for h in halves]), value)
    for bad in ("2/2", "-1/2"):  # -1/2 named as out of range, not "expected one argument"
        with pytest.raises(SystemExit):
            main(base + ["--out", str(tmp_path / "x.safetensors"), "--shard", bad])
        assert f"needs 0 <= I < N, got '{bad}'" in capsys.readouterr().err


def test_init_shard_needs_a_seed_and_the_file_says_format_pt(tmp_path, capsys):
    """Without --seed each process drew its own, and the shards did not fit together; transformers 4.x loads
    a checkpoint's safetensors only with "format": "pt" in its metadata."""
    safetensors = pytest.importorskip("safetensors")
    out = tmp_path / "s0.safetensors"
    assert main(["init", "--arch", "mlp-mnist", "--out", str(out), "--shard", "0/2", "--no-progress"]) == 2
    assert "--shard needs --seed" in capsys.readouterr().err and not out.exists()
    assert main(["init", "--arch", "mlp-mnist", "--out", str(out), "--shard", "0/2", "--seed", "3",
                 "--no-progress"]) == 0
    with safetensors.safe_open(out, "np") as f:
        meta = f.metadata()
    assert meta["format"] == "pt" and meta["arch"] == "mlp-mnist" and meta["fastinit.seed"] == "3"


def test_progress_bars_only_on_a_terminal(monkeypatch):
    """A bar's carriage-return frames would fill a log: shown by default only when stderr is a terminal."""
    from fastinit.cli import build_parser, _progress
    args = build_parser().parse_args(["init", "--arch", "gpt2"])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert not _progress(args)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert _progress(args) and not _progress(build_parser().parse_args(["init", "--no-progress"]))
    assert not _progress(build_parser().parse_args(["compile"]))  # no bar of its own


def _exit_code(argv) -> int:
    try:
        return main(argv)
    except SystemExit as e:  # argparse's own usage errors
        return e.code


@pytest.mark.parametrize("argv", [
    ["fill", "--numel", "inf"], ["fill", "--numel", "1e400"], ["fill", "--numel", "100", "--repeat", "0"],
    ["check", "--n", "1e400"], ["bench", "--size", "1e400"], ["bench", "--matrix", "0", "--only", "orthogonal_"],
    ["variance", "--schemes", ""], ["variance", "--seed", "-1"], ["init", "--arch", "gpt2", "--block-mb", "0"],
    ["fill", "--numel", "1e17"],  # 400 PB: beyond any address space, a MemoryError
])
def test_bad_numbers_are_usage_errors_without_a_traceback(argv, capsys):
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error" in err


def test_unwritable_out_is_a_usage_error_before_any_work(tmp_path, capsys):
    missing = tmp_path / "nodir" / "x.npy"
    assert main(["fill", "--numel", "100", "--repeat", "1", "--out", str(missing)]) == 2
    assert main(["init", "--arch", "mlp-mnist", "--out", str(tmp_path), "--seed", "0"]) == 2  # a directory
    assert main(["init", "--arch", "mlp-mnist", "--out", str(tmp_path / "nodir" / "m.safetensors")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 3 and "names a directory" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, no temporary left


def test_variance_checks_its_png_path_before_the_run(tmp_path, capsys, monkeypatch):
    from fastinit import variance

    monkeypatch.setattr(variance, "run_variance", lambda *a, **k: pytest.fail("ran before checking --png"))
    assert main(["variance", "--png", str(tmp_path / "nodir" / "v.png")]) == 2
    assert main(["variance", "--png", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("cannot write a file there") == 2
    assert main(["variance", "--png", str(tmp_path / "v.svg")]) == 2  # PNG bytes under an SVG name, before
    assert "name a .png file" in capsys.readouterr().err and not (tmp_path / "v.svg").exists()


def test_fill_constant_leaves_the_constant_in_the_buffer_and_file(tmp_path, capsys):
    path = tmp_path / "c.npy"  # the memset timing zeroes the buffer: the value is written again after it
    assert main(["fill", "--numel", "1000", "--dist", "constant", "--value", "0.5", "--repeat", "1",
                 "--out", str(path)]) == 0
    assert np.all(np.load(path) == 0.5) and "mean 0.5, std 0, min 0.5, max 0.5" in capsys.readouterr().out


@pytest.mark.parametrize("fault", ["disk full", "interrupt"])
def test_fill_out_is_complete_or_absent(tmp_path, capsys, monkeypatch, fault):
    """--out goes through a temporary file renamed at the end: a full disk (reserved before the fill, an
    OSError rather than a SIGBUS in the memory map) or Ctrl-C leave nothing under the name, and no temporary."""
    import errno
    import os

    from fastinit import cli
    if fault == "disk full":
        def full(fd, offset, length):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(os, "posix_fallocate", full)
    else:
        def interrupted(*args):
            raise KeyboardInterrupt
        monkeypatch.setattr(cli, "_fill_report", interrupted)
    argv = ["fill", "--numel", "1000", "--repeat", "1", "--out", str(tmp_path / "w.npy")]
    if fault == "disk full":
        assert main(argv) == 2
        assert "No space left on device while writing" in capsys.readouterr().err
    else:  # one line and exit code 130, no traceback
        assert main(argv) == 130
        assert capsys.readouterr().err == "fastinit fill: interrupted\n"
    assert list(tmp_path.iterdir()) == []


def test_fill_refuses_a_size_beyond_any_file(tmp_path, capsys):
    assert main(["fill", "--numel", "3e18", "--out", str(tmp_path / "r.npy")]) == 2  # 1.2e19 bytes
    assert "beyond any file or memory" in capsys.readouterr().err and list(tmp_path.iterdir()) == []


def test_fill_checks_its_law_before_creating_the_file(tmp_path, capsys):
    path = tmp_path / "bad.npy"
    assert main(["fill", "--numel", "100", "--dist", "uniform", "--a", "1", "--b", "0", "--out", str(path)]) == 2
    assert not path.exists()


def test_init_shard_reports_the_shards_own_parameters(tmp_path, capsys):
    assert main(["init", "--arch", "mlp-mnist", "--shard", "0/2", "--out", str(tmp_path / "s.safetensors"),
                 "--seed", "0", "--no-progress"]) == 0
    out = capsys.readouterr().out
    from fastinit.archs import arch_spec, parameter_count
    from safetensors.numpy import load_file

    written = sum(t.size for t in load_file(str(tmp_path / "s.safetensors")).values())
    assert f"{written:,} parameters (shard 0/2 of {parameter_count(arch_spec('mlp-mnist')):,})" in out


def test_init_llama_follows_hugging_faces_convention(tmp_path):
    """N(0, 0.02²) for every matrix, embeddings included (HF's initializer_range, no truncation), RMSNorm ones."""
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "llama.safetensors"
    assert main(["init", "--arch", "llama-tiny", "--out", str(path), "--seed", "2", "--no-progress"]) == 0
    tensors = st.load_file(path)
    for name, t in tensors.items():
        if name.endswith("norm.weight"):
            assert (t == 1).all(), name
            continue
        assert np.array_equal(t, fastinit.normal_(np.empty(t.shape, np.float32), 0.0, 0.02, seed=2, stream=name)), name
    emb = tensors["model.embed_tokens.weight"]
    assert abs(emb.std() / 0.02 - 1) < 0.02 and np.abs(emb).max() > 0.06  # not truncated at ±2σ


def _spec_key(spec):
    return {name: (t.shape, t.init, t.params) for name, t in spec.items()}


def test_config_spec_defaults_are_transformers_and_match_the_embedded_architectures(tmp_path):
    # a config.json's missing keys take transformers' defaults: a bare "llama" is LLaMA 7B, a bare "gpt2" GPT-2
    for model_type, arch in (("llama", "llama-7b"), ("gpt2", "gpt2"), ("bert", "bert-base")):
        assert _spec_key(config_spec({"model_type": model_type})) == _spec_key(arch_spec(arch)), model_type
    published = {"model_type": "llama", "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16,
                 "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256, "head_dim": 64,
                 "tie_word_embeddings": True, "initializer_range": 0.02, "pad_token_id": None}
    (tmp_path / "config.json").write_text(json.dumps(published))
    for given in (published, tmp_path, tmp_path / "config.json", str(tmp_path)):  # a mapping, a folder, the file
        assert _spec_key(config_spec(given)) == _spec_key(arch_spec("llama3.2-1b"))
    assert parameter_count(config_spec({"model_type": "mistral"})) == 7_241_732_096  # Mistral 7B v0.1


def test_config_spec_families_and_their_laws():
    def shapes(cfg):
        return {name: t.shape for name, t in config_spec(cfg).items()}

    tiny = {"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 1, "num_attention_heads": 4,
            "num_key_value_heads": 2, "vocab_size": 100}
    qwen2 = shapes({"model_type": "qwen2", **tiny})  # q/k/v biases, no o_proj bias
    assert qwen2["model.layers.0.self_attn.k_proj.bias"] == (32,)
    assert "model.layers.0.self_attn.o_proj.bias" not in qwen2
    qwen3 = shapes({"model_type": "qwen3", **tiny})  # head_dim 128 by default, q/k RMSNorms over a head
    assert qwen3["model.layers.0.self_attn.q_proj.weight"] == (512, 64)
    assert qwen3["model.layers.0.self_attn.o_proj.weight"] == (64, 512)
    assert qwen3["model.layers.0.self_attn.k_norm.weight"] == (128,) and "lm_head.weight" in qwen3
    llama = config_spec({"model_type": "llama", **tiny, "attention_bias": True, "mlp_bias": True, "pad_token_id": 7,
                         "initializer_range": 0.05})
    assert llama["model.layers.0.self_attn.o_proj.bias"].init == "zeros_"
    assert llama["model.layers.0.mlp.down_proj.bias"].shape == (64,)
    assert llama["model.layers.0.mlp.up_proj.weight"].params == {"std": 0.05}
    emb = llama["model.embed_tokens.weight"]
    assert emb.params == {"std": 0.05, "padding_idx": 7}
    values = emb.init(np.empty(emb.shape, np.float32), **emb.params, seed=0, stream="e")
    assert (values[7] == 0).all() and values[6].all()
    gpt2 = config_spec({"model_type": "gpt2", "n_layer": 3, "n_embd": 32, "n_head": 4, "n_inner": 40, "vocab_size": 100,
                        "n_positions": 16, "tie_word_embeddings": False, "initializer_range": 0.0})
    assert gpt2["transformer.h.2.mlp.c_fc.weight"].shape == (32, 40)  # untied: GPT2LMHeadModel's names and head
    assert gpt2["lm_head.weight"].shape == (100, 32)
    # transformers: initializer_range 0 is its default 0.02 for embeddings, and 0 for GPT-2's Conv1D weights
    assert gpt2["transformer.wte.weight"].params == {"std": 0.02}
    assert gpt2["transformer.h.0.attn.c_attn.weight"].params == {"std": 0.0}
    bert = shapes({"model_type": "bert", "hidden_size": 32, "num_attention_heads": 4, "num_hidden_layers": 1,
                   "intermediate_size": 40,
                   "type_vocab_size": 1, "vocab_size": 100, "max_position_embeddings": 8})
    assert bert["encoder.layer.0.intermediate.dense.weight"] == (40, 32)
    assert bert["embeddings.token_type_embeddings.weight"] == (1, 32)


def test_config_spec_mixtures_of_experts():
    # the published sizes: Mixtral 8x7B (transformers' defaults), Qwen3-30B-A3B, Qwen1.5-MoE-A2.7B
    assert parameter_count(config_spec({"model_type": "mixtral"})) == 46_702_792_704
    qwen3 = {"model_type": "qwen3_moe", "hidden_size": 2048, "intermediate_size": 6144, "moe_intermediate_size": 768,
             "num_hidden_layers": 48, "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128,
             "num_experts": 128, "vocab_size": 151936, "decoder_sparse_step": 1, "mlp_only_layers": []}
    assert parameter_count(config_spec(qwen3)) == 30_532_122_624
    assert parameter_count(config_spec({"model_type": "qwen2_moe", "vocab_size": 151936})) == 14_315_784_192
    # a layer is sparse unless in mlp_only_layers or off the decoder_sparse_step grid; experts' laws as transformers'
    tiny = {"hidden_size": 16, "intermediate_size": 24, "moe_intermediate_size": 8, "num_hidden_layers": 4,
            "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 50, "initializer_range": 0.0,
            "num_experts_per_tok": 2}
    spec = config_spec({"model_type": "qwen2_moe", **tiny, "num_experts": 3, "shared_expert_intermediate_size": 12,
                        "decoder_sparse_step": 2, "mlp_only_layers": [3], "qkv_bias": False})
    assert {name.split(".")[2] for name in spec if ".experts." in name} == {"1"}
    assert spec["model.layers.0.mlp.gate_proj.weight"].shape == (24, 16)  # dense: intermediate_size
    assert spec["model.layers.3.mlp.down_proj.weight"].shape == (16, 24)
    assert spec["model.layers.1.mlp.experts.2.down_proj.weight"].shape == (16, 8)
    assert spec["model.layers.1.mlp.gate.weight"].shape == (3, 16)
    assert spec["model.layers.1.mlp.shared_expert_gate.weight"].shape == (1, 16)
    assert spec["model.layers.1.mlp.experts.0.up_proj.weight"].params == {"std": 0.0}  # initializer_range as it is
    assert spec["model.layers.1.mlp.shared_expert.up_proj.weight"].params == {"std": 0.02}  # nn.Linear: 0 -> 0.02
    assert "model.layers.0.self_attn.q_proj.bias" not in spec
    dense = config_spec({"model_type": "qwen3_moe", **tiny, "num_local_experts": 0})  # (the other name)
    assert not any("experts" in name for name in dense) and "model.layers.2.self_attn.q_norm.weight" in dense
    empty = config_spec({"model_type": "qwen2_moe", **tiny, "num_experts": 2, "shared_expert_intermediate_size": 0})
    assert empty["model.layers.0.mlp.shared_expert.down_proj.weight"].shape == (16, 0)  # (transformers saves it)
    assert empty["model.layers.0.mlp.shared_expert_gate.weight"].shape == (1, 16)
    mixtral = config_spec({"model_type": "mixtral", **tiny, "num_experts": 2, "head_dim": None})
    assert mixtral["model.layers.3.block_sparse_moe.experts.1.w2.weight"].shape == (16, 24)
    assert mixtral["model.layers.0.block_sparse_moe.gate.weight"].shape == (2, 16)


def test_config_spec_deepseek_v3():
    """DeepSeek-V3 (and R1, V3.1: the same config): transformers' DeepseekV3ForCausalLM of its defaults has
    671,026,404,352 parameters (the multi-token-prediction layer not built); multi-head latent attention, the first
    first_k_dense_replace layers dense, routers kept float32 in a bfloat16 checkpoint, their correction bias a
    buffer."""
    spec = config_spec({"model_type": "deepseek_v3"}, dtype="bfloat16")
    assert parameter_count(spec) == 671_026_404_352
    a = "model.layers.0.self_attn."
    assert spec[a + "q_a_proj.weight"].shape == (1536, 7168) and spec[a + "q_b_proj.weight"].shape == (128 * 192, 1536)
    assert spec[a + "kv_a_proj_with_mqa.weight"].shape == (512 + 64, 7168)
    assert spec[a + "kv_b_proj.weight"].shape == (128 * (128 + 128), 512)
    assert spec[a + "o_proj.weight"].shape == (7168, 128 * 128) and spec[a + "q_a_layernorm.weight"].init == "ones_"
    assert spec["model.layers.2.mlp.gate_proj.weight"].shape == (18432, 7168)  # dense
    moe = "model.layers.3.mlp."
    assert spec[moe + "experts.255.down_proj.weight"].shape == (7168, 2048)
    assert spec[moe + "shared_experts.up_proj.weight"].shape == (2048, 7168)
    assert spec[moe + "gate.weight"].dtype == spec[moe + "gate.e_score_correction_bias"].dtype == np.float32
    assert spec[moe + "experts.0.up_proj.weight"].dtype.name == "bfloat16" and "model.layers.60.mlp.gate.weight" in spec
    assert config_spec({"model_type": "deepseek_v3", "num_hidden_layers": 1, "head_dim": 64})  # (as transformers saves)
    with pytest.raises(TypeError, match="dtype must be one of float16, bfloat16, float32, float64, got int8"):
        config_spec({"model_type": "llama"}, dtype="int8")
    assert "model.layers.61.mlp.gate.weight" not in spec and "lm_head.weight" in spec
    no_q_rank = config_spec({"model_type": "deepseek_v3", "hidden_size": 16, "num_attention_heads": 2,
                             "q_lora_rank": None, "qk_nope_head_dim": 4, "qk_rope_head_dim": 2,
                             "first_k_dense_replace": 0, "n_shared_experts": 2, "moe_intermediate_size": 3,
                             "num_local_experts": 5, "initializer_range": 0.0,
                             "n_group": 1, "topk_group": 1, "num_experts_per_tok": 2})
    assert no_q_rank["model.layers.0.self_attn.q_proj.weight"].shape == (2 * 6, 16)
    assert not any("q_a_" in name for name in no_q_rank)
    assert no_q_rank["model.layers.0.mlp.shared_experts.gate_proj.weight"].shape == (6, 16)  # 2 experts × 3
    assert no_q_rank["model.layers.0.mlp.gate.weight"].shape == (5, 16)
    assert no_q_rank["model.layers.0.mlp.experts.4.gate_proj.weight"].params == {"std": 0.0}  # as it is
    assert no_q_rank["model.layers.0.self_attn.o_proj.weight"].params == {"std": 0.02}  # nn.Linear: 0 -> 0.02


def test_config_spec_gemma3_image_text():
    """Gemma 3's image-text model: transformers' defaults (2,723,312,896 parameters as it counts them) and
    gemma-3-4b's published config (4,300,079,472); the SigLIP tower's laws (Xavier, LeCun as HF draws it, N(0, 1/d)
    positions), the projector zero, the LM head tied unless the top-level config says otherwise."""
    assert parameter_count(config_spec({"model_type": "gemma3"})) == 2_723_312_896
    four = {"model_type": "gemma3", "text_config": {"hidden_size": 2560, "intermediate_size": 10240,
                                                    "model_type": "gemma3_text", "num_hidden_layers": 34},
            "vision_config": {"hidden_size": 1152, "image_size": 896, "intermediate_size": 4304,
                              "model_type": "siglip_vision_model", "num_attention_heads": 16,
                              "num_hidden_layers": 27, "patch_size": 14, "vision_use_head": False}}
    spec = config_spec(four)
    assert parameter_count(spec) == 4_300_079_472 and "language_model.lm_head.weight" not in spec
    v = "vision_tower."
    patch = spec[v + "embeddings.patch_embedding.weight"]
    assert patch.shape == (1152, 3, 14, 14) and patch.init == "trunc_normal_"
    assert patch.params == {"std": math.sqrt(1 / (3 * 14 * 14)) / 0.87962566103423978, "a": -2.0, "b": 2.0}
    assert spec[v + "embeddings.position_embedding.weight"].shape == (64 * 64, 1152)
    assert spec[v + "embeddings.position_embedding.weight"].params == {"std": 1 / math.sqrt(1152)}
    assert spec[v + "encoder.layers.26.self_attn.q_proj.weight"].init == "xavier_uniform_"
    assert spec[v + "encoder.layers.26.mlp.fc1.bias"].params == {"std": 1e-6} and v + "head.probe" not in spec
    assert spec["multi_modal_projector.mm_input_projection_weight"].shape == (1152, 2560)
    assert spec["multi_modal_projector.mm_input_projection_weight"].init == "zeros_"
    assert spec["language_model.model.embed_tokens.weight"].shape == (262208, 2560)
    untied = config_spec({**four, "tie_word_embeddings": False, "initializer_range": 0.0})
    assert untied["language_model.lm_head.weight"].params == {"std": 0.02}  # (the top-level config's; 0 -> 0.02)


def test_config_spec_gpt_oss():
    """GPT-OSS: transformers' defaults are gpt-oss-120b (116,829,156,672 parameters as transformers counts them),
    24 layers of 32 experts gpt-oss-20b (20,914,757,184); experts fused as transformers saves them, with their
    biases; router weight and bias and the attention sinks N(0, initializer_range²) with the value as it is."""
    assert parameter_count(config_spec({"model_type": "gpt_oss"})) == 116_829_156_672
    spec = config_spec({"model_type": "gpt_oss", "num_hidden_layers": 24, "num_local_experts": 32})
    assert parameter_count(spec) == 20_914_757_184
    assert config_spec({"model_type": "gpt_oss", "num_hidden_layers": 24, "num_experts": 32}).keys() == spec.keys()
    p = "model.layers.23."
    assert spec[p + "mlp.experts.gate_up_proj"].shape == (32, 2880, 2 * 2880)
    assert spec[p + "mlp.experts.down_proj"].shape == (32, 2880, 2880)
    assert spec[p + "mlp.experts.gate_up_proj_bias"].init == "zeros_"
    assert spec[p + "mlp.router.bias"].shape == (32,) and spec[p + "mlp.router.bias"].init == "normal_"
    assert spec[p + "self_attn.sinks"].shape == (64,) and spec[p + "self_attn.q_proj.bias"].shape == (64 * 64,)
    assert spec[p + "self_attn.k_proj.weight"].shape == (8 * 64, 2880) and "lm_head.weight" in spec
    zero = config_spec({"model_type": "gpt_oss", "num_hidden_layers": 1, "initializer_range": 0.0})
    assert zero["model.layers.0.self_attn.sinks"].params == {"std": 0}  # as it is
    assert zero["model.layers.0.self_attn.o_proj.weight"].params == {"std": 0.02}  # nn.Linear: 0 -> 0.02


@pytest.mark.parametrize("config, message", [
    ({"model_type": "t5"},
     "model_type 't5' is not supported; supported: llama, mistral, ministral3, qwen2, qwen3, gemma, gemma2, "
     "gemma3_text, phi3, mixtral, qwen2_moe, qwen3_moe, deepseek_v3, gpt_oss, granite, smollm3, seed_oss, ernie4_5, "
     "olmo2, olmo3, exaone4, glm4_moe, qwen3_next, qwen3_5_text, qwen3_5_moe_text, llama4_text, gemma3, mistral3, "
     "llama4, qwen2_vl, qwen2_5_vl, qwen3_vl, qwen3_vl_moe, qwen3_5, qwen3_5_moe, gpt2, bert$"),
    # a null that transformers' model of that family fails on (Llama's, Mistral's, Mixtral's derive the head width)
    ({"model_type": "qwen3", "head_dim": None}, "head_dim must be a positive integer, got None"),
    ({"model_type": "qwen2_moe", "num_key_value_heads": None}, "num_key_value_heads must be a positive integer"),
    ({"model_type": "mistral", "num_key_value_heads": None}, "num_key_value_heads must be a positive integer"),
    ({"model_type": "qwen2_moe", "num_experts": 2.0}, "num_experts must be an integer, got 2.0"),
    ({"model_type": "qwen3_moe", "decoder_sparse_step": 0}, "decoder_sparse_step must be a nonzero integer .*, got 0"),
    ({"model_type": "qwen3_moe", "mlp_only_layers": [1.0]}, r"mlp_only_layers must be null or a list of layer indices"),
    ({"model_type": "qwen3_moe", "num_experts": 8, "num_local_experts": 4},
     "num_experts 8 and num_local_experts 4 name the same size"),
    ({"model_type": "mixtral", "initializer_range": None}, r"initializer_range must be a finite float .*, got None"),
    ({"model_type": "deepseek_v3", "v_head_dim": None}, "v_head_dim must be a positive integer, got None"),
    ({"model_type": "gpt_oss", "initializer_range": None}, r"initializer_range must be a finite float .*, got None"),
    ({"model_type": "gpt_oss", "num_local_experts": 0}, "num_local_experts must be a positive integer, got 0"),
    ({"model_type": "gemma3", "text_config": {"model_type": "llama"}},
     "config: text_config model_type must be 'gemma3_text', got 'llama'"),
    ({"model_type": "gemma3", "vision_config": [1]}, r"config: vision_config must be an object or null, got \[1\]"),
    ({"model_type": "gemma3", "vision_config": {"num_attention_heads": 5}},
     "config: vision_config: hidden_size 768 is not a multiple of num_attention_heads 5"),
    ({"model_type": "gemma3", "vision_config": {"vision_use_head": 1}},
     "config: vision_config: vision_use_head must be true or false, got 1"),
    ({"model_type": "gemma3", "text_config": {"hidden_size": 0}}, "config: text_config: hidden_size must be a"),
    ({"model_type": "gemma3", "initializer_range": -1}, "config: initializer_range must be a finite float >= 0"),
    ({"model_type": "gpt_oss", "num_experts": 0}, "num_local_experts must be a positive integer, got 0"),  # (alias)
    ({"model_type": "gpt_oss", "head_dim": None}, "head_dim must be a positive integer, got None"),
    ({"model_type": "gpt_oss", "num_key_value_heads": None}, "num_key_value_heads must be a positive integer"),
    ({"model_type": "deepseek_v3", "head_dim": 16}, "head_dim must be left out or equal qk_rope_head_dim 64"),
    ({"model_type": "deepseek_v3", "head_dim": None}, "head_dim must be left out or equal qk_rope_head_dim 64"),
    ({"model_type": "deepseek_v3", "first_k_dense_replace": None}, "first_k_dense_replace must be an integer >= 0"),
    ({"model_type": "deepseek_v3", "q_lora_rank": 0}, "q_lora_rank must be a positive integer, got 0"),
    ({"model_type": "deepseek_v3", "n_routed_experts": 8, "num_local_experts": 4},
     "n_routed_experts 8 and num_local_experts 4 name the same size"),
    # what transformers' config refuses, or its model fails on in the forward pass
    ({"model_type": "llama", "num_key_value_heads": 3}, "num_attention_heads 32 is not a multiple of num_key_value_h"),
    ({"model_type": "gpt_oss", "num_key_value_heads": 3}, "num_attention_heads 64 is not a multiple of num_key_value"),
    ({"model_type": "mistral", "head_dim": 127}, "the rotary head_dim must be even .*got 127"),
    ({"model_type": "gemma3", "text_config": {"head_dim": 9}}, "config: text_config: the rotary head_dim must be even"),
    ({"model_type": "deepseek_v3", "qk_rope_head_dim": 63}, "the rotary qk_rope_head_dim must be even .*got 63"),
    ({"model_type": "mixtral", "num_experts_per_tok": 9}, r"num_experts_per_tok 9 is more than the 8 experts \(num_l"),
    ({"model_type": "qwen3_moe", "num_experts": 4}, r"num_experts_per_tok must be 0 to the 4 experts \(num_exp"),
    ({"model_type": "gpt_oss", "num_experts": 2}, r"num_experts_per_tok 4 is more than the 2 experts"),
    ({"model_type": "deepseek_v3", "n_routed_experts": 100}, "n_routed_experts 100 is not a multiple of n_group 8"),
    ({"model_type": "deepseek_v3", "topk_group": 9}, "topk_group 9 is more than n_group 8"),
    ({"model_type": "deepseek_v3", "n_group": 0}, "n_group must be a positive integer, got 0"),
    ({"model_type": "deepseek_v3", "num_key_value_heads": 64}, "num_key_value_heads 64 must be num_attention_heads"),
    ({"model_type": "qwen3", "num_hidden_layers": 2, "layer_types": ["full_attention"]},
     r"layer_types must be null or a list of 2 attention types, one per layer \(num_hidden_layers; full_attention or "
     r"sliding_attention\), got \['full"),
    ({"model_type": "gpt2", "n_layer": 1, "layer_types": "full_attention"}, "layer_types must be null or a list of 1"),
    ({"model_type": "olmo2", "head_dim": None}, "head_dim must be a positive integer, got None"),
    ({"model_type": "glm4_moe", "n_routed_experts": 6, "n_group": 4, "num_experts_per_tok": 2},
     "n_routed_experts 6 is not a multiple of n_group 4"),
    ({"model_type": "glm4_moe", "num_local_experts": 4}, r"num_experts_per_tok 8 is more than the 4 experts"),
    ({"model_type": "seed_oss", "num_key_value_heads": 7}, "num_attention_heads 80 is not a multiple of num_key_v"),
    ({"model_type": "ernie4_5", "use_bias": 1}, "use_bias must be true or false, got 1"),
    ({"model_type": "qwen2_5_vl", "hidden_size": 64, "num_attention_heads": 4},
     r"mrope_section \[16, 24, 24\] \(the rotary dimensions of time, height and width\) must sum to half a head, "
     r"hidden_size // num_attention_heads // 2 = 8"),
    ({"model_type": "qwen2_5_vl"}, "vision_config: out_hidden_size 3584 .* must be the text's hidden_size 8192"),
    ({"model_type": "qwen2_vl", "hidden_size": 1024, "num_attention_heads": 8},
     r"vision_config: hidden_size 3584 \(the width of the merger's tokens\) must be the text's hidden_size 1024"),
    ({"model_type": "qwen2_vl", "text_config": {"hidden_size": 100, "num_attention_heads": 3}},
     "config: text_config: hidden_size 100 is not a multiple of num_attention_heads 3"),
    ({"model_type": "qwen2_vl", "text_config": {"head_dim": 64}},
     "config: text_config: head_dim must be left out or equal hidden_size // num_attention_heads, got 64"),
    ({"model_type": "qwen2_vl", "text_config": [1]}, r"config: text_config must be an object or null, got \[1\]"),
    ({"model_type": "qwen2_5_vl", "hidden_size": 1024, "num_attention_heads": 8,
      "vision_config": {"num_heads": 16, "num_attention_heads": 8}},
     "config: vision_config: num_heads 16 and num_attention_heads 8 name the same size"),
    ({"model_type": "qwen3_vl", "text_config": {"hidden_size": 3584},
      "vision_config": {"deepstack_visual_indexes": [8, -1]}},
     r"config: vision_config: deepstack_visual_indexes must be a list of integers >= 0, got \[8, -1\]"),
    ({"model_type": "qwen3_vl"}, "config: vision_config: out_hidden_size 3584 .* must be the text's hidden_size 4096"),
    # (a review's: what transformers' config refuses or its model fails on, 2026-12-06 (b))
    ({"model_type": "qwen2_vl", "hidden_size": 1024, "num_attention_heads": 8,
      "vision_config": {"embed_dim": 24, "num_heads": 4, "hidden_size": 1024}},
     "vision_config: embed_dim 24 must be num_heads 4 heads of a multiple of 4 dimensions"),
    ({"model_type": "qwen2_5_vl", "hidden_size": 1024, "num_attention_heads": 8,
      "vision_config": {"out_hidden_size": 1024, "window_size": 20}},
     "vision_config: window_size 20 must be patch_size × spatial_merge_size 28 at least"),
    ({"model_type": "qwen3_vl", "hidden_size": 1024}, r"config: \['hidden_size'\] belong in text_config"),
    ({"model_type": "glm4_moe", "n_routed_experts": 8, "num_experts_per_tok": 2, "n_group": 8, "topk_group": 2},
     "each of the n_group 8 groups of the 8 experts must hold 2 at least"),
    ({"model_type": "deepseek_v3", "n_routed_experts": 8, "n_group": 8}, "groups of the 8 experts must hold 2"),
    ({"model_type": "exaone4", "sliding_window": None},
     "sliding_window must be an integer where layer_types is derived from sliding_window_pattern, got None"),
    ({"model_type": "exaone4", "sliding_window_pattern": "LLLG"},
     r"sliding_window_pattern must be a nonzero integer \(a full-attention layer every that many\), got 'LLLG'"),
    ({"model_type": "olmo3", "sliding_window": None},
     r"a layer attends through a sliding window \(a sliding_attention in layer_types, or as the family derives "
     r"its layers\): sliding_window must be an integer >= 1, got None"),
    ({"model_type": "qwen3_vl_moe", "text_config": {"hidden_size": 3584, "num_local_experts": 2}},
     r"config: text_config: num_experts_per_tok must be 0 to the 2 experts \(num_experts\) where a layer is sparse, "
     "got 4"),
    # (refused where transformers' text forward pass runs: an image's fails, a mislabelled text loads no checkpoint)
    *[({"model_type": "mistral3", "text_config": {"hidden_size": 1024}, "vision_config": {"model_type": "pixtral", **v},
        **top}, message) for v, top, message in (
        ({"num_attention_heads": 512}, {}, "heads of an even number of dimensions, 4 or more"),
        ({"head_dim": 8}, {}, r"head_dim must be left out, null or hidden_size // num_attention_heads 64, got 8"),
        ({"num_hidden_layers": 2}, {"vision_feature_layer": 5},
         "vision_feature_layer must be a nonzero integer from -3 to 2"),
        ({}, {"vision_feature_layer": [-1, -2]}, r"\(the vision layer whose output is projected\), or a list of one"),
        ({}, {"vision_feature_layer": 0}, "vision_feature_layer must be a nonzero integer from -25 to 24"),
        ({}, {"image_token_index": 32000}, "image_token_index must be an integer from 0 to 31999"),
        ({"num_hidden_layers": 0}, {}, "num_hidden_layers must be a positive integer, got 0"))],
    ({"model_type": "mistral3", "text_config": {"model_type": "ministral"}},
     r"text_config model_type must be a decoder's \(llama, mistral, .*\), got 'ministral'"),
    ({"model_type": "qwen3_5", "text_config": {"hidden_size": 3584}, "vision_config": {"head_dim": 8}},
     r"config: vision_config: head_dim must be left out or hidden_size // num_heads 72 \(the attention's\), got 8"),
    ({"model_type": "qwen3_5_moe", "text_config": {"model_type": "qwen3_5_text"}},
     "config: text_config: model_type must be 'qwen3_5_moe_text', got 'qwen3_5_text'"),
    ({"model_type": "qwen3_vl_moe", "text_config": {"num_experts": 2, "num_local_experts": 3}},
     "config: text_config: num_experts 2 and num_local_experts 3 name the same size"),
    # (sliding windows, 2026-12-06 (c))
    ({"model_type": "qwen3", "num_hidden_layers": 2, "layer_types": ["sliding_attention", "full_attention"]},
     r"sliding_window must be an integer >= 1, with use_sliding_window true \(its config drops the window without "
     r"it\), got 4096 \(use_sliding_window False\)"),
    ({"model_type": "gpt_oss", "sliding_window": None, "layer_types": ["full_attention"] * 36},
     "the model builds a sliding-window mask whatever its layers: sliding_window must be an integer, got None"),
    ({"model_type": "llama", "num_hidden_layers": 1, "layer_types": ["sliding_attention"]},
     "sliding_window must be an integer, got None"),
    ({"model_type": "mistral", "sliding_window": 0}, "sliding_window must be an integer >= 1, got 0"),
    ({"model_type": "qwen2", "sliding_window": 8.0}, "sliding_window must be null or an integer, got 8.0"),
    ({"model_type": "qwen3", "use_sliding_window": None}, "use_sliding_window must be true or false, got None"),
    ({"model_type": "llama", "initializer_range": 1.5}, r"initializer_range must be in \[0, 1\] \(LlamaConfig's"),
    ({"model_type": "llama", "initializer_range": 1}, r"initializer_range must be a finite float >= 0 \(0.0, not 0\), "
     "got 1"),
    ({"model_type": "smollm3", "num_hidden_layers": 2, "no_rope_layers": [1]},
     r"no_rope_layers must be null or a list of 2 integers at least \(1: the layer has RoPE\), one per layer "
     r"\(num_hidden_layers\), got \[1\]"),
    # (a second review's)
    ({"model_type": "qwen2", "num_hidden_layers": 2, "layer_types": ["conv", "full_attention"]}, r"got \['conv'"),
    ({"model_type": "llama", "initializer_range": None}, r"initializer_range must be a finite float .*, got None"),
    ({"model_type": "qwen3_vl", "text_config": {"rope_parameters": {"rope_type": "default", "mrope_section": [8]}}},
     r"config: text_config: rope_parameters' mrope_section must list .* \(3; .*\), got \[8\]"),
    ({"model_type": "phi3", "head_dim": 15, "rope_parameters": {"rope_type": "default", "partial_rotary_factor": 0.4},
      "rope_scaling": {"rope_type": "default", "partial_rotary_factor": 1.0}}, "the rotary head_dim must be even"),
    ({"model_type": "llama", "rope_parameters": {"rope_type": "linear", "factor": 2.0, "partial_rotary_factor": 0.5}},
     "partial_rotary_factor 0.5 with rope_type 'linear': this family rotates all of a head"),
    ({"model_type": "smollm3", "no_rope_layer_interval": 0}, "no_rope_layer_interval must be a positive integer"),
    ({"model_type": "olmo2", "num_hidden_layers": 1, "layer_types": ["bogus"]}, r"layer_types .* got \['bogus'\]"),
    ({"model_type": "ernie4_5", "head_dim": 3}, "the rotary head_dim must be even .*got 3"),
    ({"model_type": "olmo2", "head_dim": 9, "partial_rotary_factor": 0.5}, "the rotary head_dim must be even"),
    ({"model_type": "glm4_moe", "head_dim": 7, "partial_rotary_factor": 0.5,
      "rope_parameters": {"rope_type": "default", "partial_rotary_factor": 1.0}}, "the rotary head_dim must be even"),
    ({}, "model_type None is not supported"),
    ({"model_type": "llama", "hidden_size": 0}, "hidden_size must be a positive integer, got 0"),
    ({"model_type": "llama", "num_hidden_layers": 2.0}, "num_hidden_layers must be a positive integer, got 2.0"),
    ({"model_type": "qwen2", "num_attention_heads": 5}, "the rotary head_dim must be even .*got 819"),  # (4096 // 5)
    ({"model_type": "llama", "num_attention_heads": 5}, "hidden_size 4096 is not a multiple of num_attention_heads 5"),
    ({"model_type": "mistral", "tie_word_embeddings": "yes"}, "tie_word_embeddings must be true or false"),
    ({"model_type": "bert", "pad_token_id": 30522}, r"pad_token_id must be null or an int in \[-30522, 30522\)"),
    ({"model_type": "llama", "initializer_range": -0.02}, "initializer_range must be a finite float >= 0"),
    ({"model_type": "gpt2", "initializer_range": None}, r"initializer_range must be a finite float .*, got None"),
    ({"model_type": ["llama"]}, r"model_type \['llama'\] is not supported"),
    ({"model_type": "gpt2", "add_cross_attention": True}, "add_cross_attention .* is not supported"),
    ({"model_type": "bert", "is_decoder": True, "add_cross_attention": True}, "add_cross_attention"),
    ({"model_type": "llama", "add_cross_attention": True, "hidden_size": 0}, "hidden_size"),  # (ignored there)
    ({"model_type": "gpt2", "n_embd": 64, "n_head": 5}, "n_embd 64 is not a multiple of n_head 5"),
    ({"model_type": "gpt2", "n_embd": 64, "hidden_size": 32}, "n_embd 64 and hidden_size 32 name the same size"),
    ({"model_type": "bert", "hidden_size": 64}, "hidden_size 64 is not a multiple of num_attention_heads 12"),
])
def test_config_spec_refusals_name_the_key(config, message):
    with pytest.raises(ValueError, match=message):
        config_spec(config)


def test_mistral3_keeps_float32_what_its_decoder_keeps_and_draws_with_an_init_std_of_0():
    """A review (2026-12-06 (d)): Mistral 3 with a DeepSeek-V3 decoder wrote its routers and correction biases in
    the model's dtype (the decoder alone keeps them float32, as transformers saves them); an integer init_std of 0
    (transformers draws zeros) was refused."""
    deepseek = {"model_type": "deepseek_v3", "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
                "num_attention_heads": 4, "num_key_value_heads": 4, "vocab_size": 300, "moe_intermediate_size": 32,
                "n_routed_experts": 4, "n_group": 1, "topk_group": 1, "num_experts_per_tok": 2, "kv_lora_rank": 16,
                "q_lora_rank": 24, "qk_rope_head_dim": 8, "qk_nope_head_dim": 8, "v_head_dim": 16,
                "first_k_dense_replace": 1, "head_dim": 8}
    pixtral = {"model_type": "pixtral", "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 1,
               "num_attention_heads": 2, "patch_size": 8, "image_size": 64}
    spec = config_spec({"model_type": "mistral3", "text_config": deepseek, "vision_config": pixtral,
                        "tie_word_embeddings": False, "init_std": 0}, dtype="bfloat16")
    kept = {n for n, t in spec.items() if t.dtype == np.float32}
    assert kept == {"language_model.model.layers.1.mlp.gate.weight",
                    "language_model.model.layers.1.mlp.gate.e_score_correction_bias"}
    assert spec["language_model.lm_head.weight"].params == {"std": 0}
    assert spec["multi_modal_projector.linear_2.weight"].params == {"std": 0}


@pytest.mark.parametrize("config", [  # what transformers builds and runs: not refused (a review's, 2026-12-06 (b))
    {"model_type": "seed_oss", "num_key_value_heads": None},
    {"model_type": "smollm3", "num_key_value_heads": None},
    {"model_type": "ernie4_5", "num_key_value_heads": None, "head_dim": None},
    {"model_type": "qwen2_vl", "hidden_size": 3584, "num_attention_heads": 28, "num_key_value_heads": 4,
     "head_dim": 32},  # (a flat config's top-level head_dim: not the text's, which transformers ignores)
    {"model_type": "glm4_moe", "head_dim": 7, "partial_rotary_factor": 1.0,
     "rope_parameters": {"rope_type": "default", "partial_rotary_factor": 0.5}},  # (rope_parameters' first)
    {"model_type": "ernie4_5", "head_dim": 1},
    {"model_type": "mistral", "hidden_size": 66, "num_attention_heads": 4, "num_key_value_heads": 4},  # (floor heads)
    {"model_type": "smollm3", "num_hidden_layers": 2, "no_rope_layers": [1, 1, 0], "no_rope_layer_interval": 0},
    {"model_type": "olmo3", "sliding_window": 0, "num_hidden_layers": 1, "layer_types": ["full_attention"]},
    {"model_type": "ernie4_5", "use_bias": None},
    {"model_type": "phi3", "head_dim": 15, "rope_scaling": {"rope_type": "default", "partial_rotary_factor": 0.4},
     "rope_parameters": {"rope_type": "default", "partial_rotary_factor": 1.0}},  # (rope_scaling's first)
])
def test_config_spec_takes_what_transformers_runs(config):
    assert parameter_count(config_spec(config)) > 0


def test_init_config_flag(tmp_path, capsys):
    st = pytest.importorskip("safetensors.numpy")
    cfg = {"model_type": "qwen3", "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
           "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 1000,
           "tie_word_embeddings": True, "initializer_range": 0.03}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    out = tmp_path / "model.safetensors"
    assert main(["init", "--config", str(tmp_path), "--out", str(out), "--seed", "5", "--no-progress"]) == 0
    assert f"fastinit init: qwen3 from {tmp_path}, 125,824 parameters (24 tensors)" in capsys.readouterr().out
    tensors = st.load_file(out)
    assert tensors.keys() == config_spec(cfg).keys()
    emb = tensors["model.embed_tokens.weight"]
    assert np.array_equal(emb, fastinit.normal_(np.empty((1000, 64), np.float32), 0.0, 0.03, seed=5,
                                                stream="model.embed_tokens.weight"))
    assert (tensors["model.layers.1.self_attn.q_norm.weight"] == 1).all()
    with open(out, "rb") as f:  # the header's metadata says what it is
        header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    assert header["__metadata__"]["model_type"] == "qwen3" and header["__metadata__"]["fastinit.seed"] == "5"
    for argv, err in ((["--config", str(tmp_path / "missing.json")], "No such file"),
                      (["--config", str(tmp_path), "--arch", "gpt2"], "one of --arch and --config are required"),
                      ([], "one of --arch and --config are required")):
        assert main(["init", *argv, "--out", str(tmp_path / "x.safetensors")]) == 2
        assert err in capsys.readouterr().err
    # the config's dtype (transformers 5's "dtype", 4's "torch_dtype") is the default; --dtype overrides it
    for key, given, flag, stored in (("dtype", "bfloat16", [], "BF16"), ("torch_dtype", "float16", [], "F16"),
                                     ("dtype", "bfloat16", ["--dtype", "float64"], "F64"),
                                     ("dtype", "auto", [], "F32"), ("dtype", None, [], "F32")):
        (tmp_path / "config.json").write_text(json.dumps({**cfg, key: given}))
        assert main(["init", "--config", str(tmp_path), "--out", str(out), "--seed", "5", "--no-progress", *flag]) == 0
        with open(out, "rb") as f:
            header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
        assert header["model.norm.weight"]["dtype"] == stored, (key, given, flag)
    capsys.readouterr()
    # a quantized model's config (DeepSeek-V3's fp8): written unquantized, said so
    (tmp_path / "config.json").write_text(json.dumps({**cfg, "quantization_config": {"quant_method": "fp8"}}))
    with pytest.warns(UserWarning, match=r"has a quantization_config \(fp8\): the values are written unquantized, as "
                                         r"float32; remove it from the config.json"):
        assert main(["init", "--config", str(tmp_path), "--out", str(out), "--seed", "5", "--no-progress"]) == 0
    capsys.readouterr()
    (tmp_path / "t5.json").write_text(json.dumps({"model_type": "t5"}))  # the file's path in config_spec's message
    assert main(["init", "--config", str(tmp_path / "t5.json"), "--out", str(tmp_path / "x.safetensors")]) == 2
    assert f"{tmp_path / 't5.json'}: model_type 't5' is not supported" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{model_type: llama}")
    assert main(["init", "--config", str(tmp_path / "bad.json"), "--out", str(tmp_path / "x.safetensors")]) == 2
    assert "bad.json is not JSON" in capsys.readouterr().err
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(ValueError, match="holds a JSON list, not a configuration object"):
        config_spec(tmp_path / "list.json")
    with pytest.raises(TypeError, match="config must be a mapping, or the path of a config.json"):
        config_spec(3)
    assert not (tmp_path / "x.safetensors").exists()


def test_init_max_file_size_writes_a_checkpoint_of_files_and_their_index(tmp_path, capsys):
    st = pytest.importorskip("safetensors.numpy")
    out = tmp_path / "model.safetensors"
    assert main(["init", "--arch", "mlp-mnist", "--out", str(out), "--seed", "3", "--no-progress",
                 "--max-file-size", "0.2MB"]) == 0  # fc1.weight: 802,816 bytes, alone; the rest, 132,656
    assert "-> 2 files" in capsys.readouterr().out
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    assert set(index["weight_map"].values()) == {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}
    assert index["weight_map"]["fc1.weight"] == "model-00001-of-00002.safetensors"
    assert index["metadata"]["total_size"] == 4 * parameter_count(arch_spec("mlp-mnist"))
    whole = tmp_path / "whole"
    whole.mkdir()
    assert main(["init", "--arch", "mlp-mnist", "--out", str(whole / "m.safetensors"), "--seed", "3",
                 "--no-progress"]) == 0
    expected = st.load_file(whole / "m.safetensors")
    for name, file in index["weight_map"].items():
        assert np.array_equal(st.load_file(tmp_path / file)[name], expected[name]), name
    assert main(["init", "--arch", "mlp-mnist", "--out", str(out), "--seed", "3", "--no-progress"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["model.safetensors", "whole"]  # one file: the split and its index removed
    assert st.load_file(out).keys() == expected.keys()
    (tmp_path / "model-00001-of-00002.safetensors").write_bytes(b"x")  # a shard's file or another name: kept
    for args in (["--out", str(out), "--seed", "3", "--shard", "0/2"], ["--out", str(tmp_path / "MODEL.SAFETENSORS")]):
        assert main(["init", "--arch", "mlp-mnist", "--no-progress", *args]) == 0
        assert "model-00001-of-00002.safetensors" in os.listdir(tmp_path)
    for size, bytes_ in (("5GB", 5 * 10**9), ("500mb", 500 * 10**6), ("2GiB", 2 * 2**30), ("4096", 4096),
                         ("1.5KB", 1500), ("12345678901234567891", 12345678901234567891),
                         ("9007199254740993B", 2**53 + 1)):  # (exact: a float had rounded both)
        assert _bytes(size) == bytes_
    capsys.readouterr()
    for size in ("5 apples", "0", "-1GB", "1" + "0" * 400):  # argparse's exit, with the flag's own refusal
        with pytest.raises(SystemExit, match="2"):
            main(["init", "--arch", "mlp-mnist", "--out", str(tmp_path / "x.safetensors"), f"--max-file-size={size}"])
        assert "must be a size in bytes such as 5GB, 500MB or 2GiB" in capsys.readouterr().err
    assert main(["init", "--arch", "mlp-mnist", "--out", str(tmp_path / "x.safetensors"), "--seed", "1",
                 "--max-file-size", "1MB", "--shard", "0/2"]) == 2
    assert "are two ways of splitting" in capsys.readouterr().err
    assert main(["init", "--arch", "mlp-mnist", "--out", str(tmp_path / "x"), "--max-file-size", "1MB"]) == 2
    assert "--out must name its .safetensors file, in lower case (model.safetensors), got" in capsys.readouterr().err
    assert not (tmp_path / "x.safetensors").exists()


def test_bert_word_embeddings_keep_the_padding_row_zero_in_every_shard():
    from fastinit.archs import arch_spec, padded_embedding_

    spec = arch_spec("bert-base")["embeddings.word_embeddings.weight"]
    assert spec.init is padded_embedding_ and spec.params == {"std": 0.02, "padding_idx": 0}
    full = padded_embedding_(np.empty((10, 4), np.float32), 0.02, 0, seed=1, stream="e")
    assert (full[0] == 0).all()
    assert np.array_equal(full[1:], fastinit.normal_(np.empty((10, 4), np.float32), 0.0, 0.02, seed=1, stream="e")[1:])
    for r0 in (0, 3, 6):
        block = padded_embedding_(np.empty((4, 4), np.float32), 0.02, 0, seed=1, stream="e", global_shape=(10, 4),
                                  offset=(r0, 0))
        assert np.array_equal(block, full[r0:r0 + 4])
    last = padded_embedding_(np.empty((10, 4), np.float32), 0.02, -1, seed=1, stream="e")  # torch's negative index
    plain = fastinit.normal_(np.empty((10, 4), np.float32), 0.0, 0.02, seed=1, stream="e")
    assert (last[9] == 0).all() and np.array_equal(last[:9], plain[:9])
    untouched = np.full((10, 4), 7.0, np.float32)
    for bad in (10, -11, 1.0, True):
        with pytest.raises(ValueError, match=r"padding_idx must be an int in \[-10, 10\)"):
            padded_embedding_(untouched, 0.02, bad, seed=1, stream="e")
    assert (untouched == 7).all()


def test_log_uniform_is_the_log_of_a_uniform_draw_in_any_block_and_dtype():
    """Gated DeltaNet's A_log (Qwen3-Next): log U(0.01, 16) — the uniform draw's logarithm element by element, in
    every row block, once rounded to a 16-bit dtype; exp of it passes a KS test against U(0.01, 16)."""
    import ml_dtypes
    from scipy import stats

    from fastinit.archs import log_uniform_

    n = 200_000
    full = log_uniform_(np.empty(n, np.float32), 0.01, 16.0, seed=2, stream="A_log")
    u = fastinit.uniform_(np.empty(n, np.float32), 0.01, 16.0, seed=2, stream="A_log")
    assert np.array_equal(full, np.log(u)) and np.log(0.01) <= full.min() and full.max() < np.log(16)
    assert stats.kstest(np.exp(full.astype(np.float64)), stats.uniform(0.01, 15.99).cdf).pvalue > 1e-3
    blocks = [log_uniform_(np.empty(7, np.float32), 0.01, 16.0, seed=2, stream="A_log", global_shape=(n,),
                           offset=(r0,)) for r0 in (0, 7, 190_003)]
    assert all(np.array_equal(b, full[r0:r0 + 7]) for b, r0 in zip(blocks, (0, 7, 190_003)))
    for dt in (ml_dtypes.bfloat16, np.float16):  # (logged in float32, rounded once)
        assert np.array_equal(log_uniform_(np.empty(n, dt), 0.01, 16.0, seed=2, stream="A_log"), full.astype(dt))
    wide = log_uniform_(np.empty(8, np.float64), 0.01, 16.0, seed=2, stream="A_log")
    assert np.array_equal(wide, np.log(fastinit.uniform_(np.empty(8), 0.01, 16.0, seed=2, stream="A_log")))
    untouched = np.full(4, 7.0, np.float32)
    for a, b in ((0.0, 16.0), (16.0, 0.01), (-1.0, 1.0), (True, 2.0), ("0.01", 16.0)):
        with pytest.raises(ValueError, match="log_uniform_: needs 0 < a < b"):
            log_uniform_(untouched, a, b, seed=2, stream="A_log")
    assert (untouched == 7).all()


def test_init_shards_of_resnet50_count_its_parameters_not_its_buffers(tmp_path, capsys):
    from fastinit.archs import arch_spec, is_buffer, parameter_count

    counts = []
    for i in range(2):
        assert main(["init", "--arch", "resnet50", "--shard", f"{i}/2", "--out", str(tmp_path / f"r{i}.safetensors"),
                     "--seed", "0", "--dtype", "bf16", "--no-progress"]) == 0
        counts.append(int(capsys.readouterr().out.split(" parameters")[0].split(", ")[-1].replace(",", "")))
    assert sum(counts) == parameter_count(arch_spec("resnet50")) == 25_557_032
    assert is_buffer("layer1.0.bn1.running_var") and not is_buffer("layer1.0.bn1.weight")


def test_out_naming_stdout_redirected_to_a_file_reports_on_stderr(tmp_path):
    """``--out /dev/stdout > file``: the output is renamed over that file, and the report, printed to stdout,
    went into the replaced (unlinked) file, lost; it now goes to stderr."""
    import subprocess
    import sys

    for argv, load in [(["fill", "--numel", "1000", "--repeat", "1"], lambda p: np.load(p).shape == (1000,)),
                       (["init", "--arch", "mlp-mnist", "--seed", "0", "--no-progress"],
                        lambda p: len(pytest.importorskip("safetensors.numpy").load_file(p)) == 6)]:
        target = tmp_path / "out"
        target.write_text("old")
        with open(target, "w") as stdout:
            r = subprocess.run([sys.executable, "-m", "fastinit", *argv, "--out", "/dev/stdout"], stdout=stdout,
                               stderr=subprocess.PIPE, text=True, check=False)
        assert r.returncode == 0, r.stderr
        assert load(target) and f"fastinit {argv[0]}" in r.stderr and "/dev/stdout" in r.stderr


def test_out_naming_a_fifo_or_a_device_is_refused_not_replaced(tmp_path, capsys):
    """The output is a regular file renamed over the name: a FIFO, /dev/null or a link to one would be replaced
    by it (as root, /dev/null itself), so they are refused before any work, and left as they were."""
    import os
    import stat

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    to_null = tmp_path / "null"  # no suffix: fill's .npy and init's .safetensors both take the name
    to_null.symlink_to(os.devnull)
    for out, kind in [(fifo, "a FIFO"), (to_null, "a device")]:
        assert main(["fill", "--numel", "100", "--repeat", "1", "--out", str(out)]) == 2
        assert f"it names {kind}" in capsys.readouterr().err
        assert main(["init", "--arch", "mlp-mnist", "--out", str(out), "--seed", "0", "--no-progress"]) == 2
        assert f"it names {kind}" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert to_null.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["null", "pipe"]
    if os.path.isdir("/proc/self/fd"):  # `--out /dev/stdout | cat`: a link to a pipe, which has no real path (it
        read, write = os.pipe()  # said "No such file or directory (creating a temporary file in /proc/…/fd)")
        try:
            assert main(["fill", "--numel", "100", "--repeat", "1", "--out", f"/proc/self/fd/{write}"]) == 2
            assert "it names a FIFO" in capsys.readouterr().err
        finally:
            os.close(read)
            os.close(write)


def test_fill_takes_negative_numbers_in_any_notation(tmp_path, capsys):
    """argparse before Python 3.13 reads "-1e-3" as a flag; fastinit passes it as the value it is."""
    path = tmp_path / "u.npy"
    assert main(["fill", "--numel", "1000", "--dist", "uniform", "--a", "-1e-3", "--b", "1e-3", "--repeat", "1",
                 "--out", str(path)]) == 0
    x = np.load(path)
    assert x.min() >= -1e-3 and x.max() < 1e-3 and x.min() < 0 and "U[-0.001, 0.001)" in capsys.readouterr().out
    c = tmp_path / "c.npy"
    assert main(["fill", "--numel", "10", "--dist", "constant", "--value", "-inf", "--repeat", "1",
                 "--out", str(c)]) == 0
    assert np.all(np.load(c) == -np.inf)
    # abbreviations argparse expands take them too ("--val -1e-3" was "argument --value: expected one argument")
    assert main(["fill", "--numel", "10", "--dist", "constant", "--val", "-1e-3", "--repeat", "1",
                 "--out", str(c)]) == 0
    assert np.all(np.load(c) == np.float32(-1e-3))
    assert main(["fill", "--numel", "10", "--dist", "normal", "--me", "-1e3", "--std", "1", "--repeat", "1",
                 "--out", str(c)]) == 0
    assert np.all(np.abs(np.load(c) + 1e3) < 10)
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:  # --std? --seed? --stream? argparse's usage error
        main(["fill", "--numel", "10", "--dist", "normal", "--s", "-1e-3", "--repeat", "1"])
    assert info.value.code == 2 and "ambiguous option: --s=-1e-3 could match" in capsys.readouterr().err


@pytest.mark.parametrize("argv, unused", [
    (["--dist", "normal", "--a", "0"], "--a"),
    (["--dist", "uniform", "--std", "2", "--mean", "1"], "--mean and --std"),
    (["--dist", "constant", "--b", "1"], "--b"),
    (["--dist", "trunc_normal", "--value", "1"], "--value"),
])
def test_fill_refuses_flags_its_distribution_does_not_use(argv, unused, capsys):
    assert main(["fill", "--numel", "10", "--repeat", "1", *argv]) == 2
    err = capsys.readouterr().err
    assert f"error: {unused} not used by --dist" in err and "Traceback" not in err


def test_help_states_every_default(capsys):
    for command, expected in [("init", "(default: float32; with --config, the config's dtype"),
                              ("fill", "distribution (default normal)"),
                              ("variance", "(default float64)"), ("bench", "default numpy,torch,jax"),
                              ("check", "--list shows them")]:
        assert _exit_code([command, "--help"]) == 0
        assert expected in " ".join(capsys.readouterr().out.split()), command


def test_check_list_names_every_check(capsys):
    from fastinit import check

    assert main(["check", "--list"]) == 0
    assert capsys.readouterr().out.split() == list(check.REGISTRY)


def test_variance_png_needs_matplotlib_before_the_run(tmp_path, capsys, monkeypatch):
    import sys

    from fastinit import variance

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    monkeypatch.setattr(variance, "run_variance", lambda *a, **k: pytest.fail("ran before checking matplotlib"))
    assert main(["variance", "--png", str(tmp_path / "v.png")]) == 2
    assert "--png needs matplotlib" in capsys.readouterr().err and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("numel", ["1.5", "2.5e0", "99.9", "1e19", "100T"])
def test_fill_refuses_a_fractional_or_impossible_numel(numel, capsys):
    with pytest.raises(SystemExit) as e:
        main(["fill", "--numel", numel, "--repeat", "1"])
    assert e.value.code == 2
    assert "argument --numel: size must" in capsys.readouterr().err


def test_fill_numel_reads_sizes_as_bench_does(capsys):
    """``--numel 2.5k`` was refused ('must be a number like 1e8') where ``bench --size 2.5k`` is read."""
    assert main(["fill", "--numel", "2.5k", "--repeat", "1"]) == 0
    assert "fastinit fill: 2,500 x float32" in capsys.readouterr().out


def test_a_closed_stdout_keeps_the_written_file_and_exits_as_sigpipe_would(tmp_path):
    """The report was printed inside the --out file's commit: with its reader gone (`| head -1`) the finished
    file was rolled back and the broken pipe reported as an error writing it (exit 2)."""
    out = tmp_path / "w.npy"
    p = subprocess.Popen([sys.executable, "-m", "fastinit", "fill", "--numel", "1e4", "--repeat", "1", "--out",
                          str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait() == 128 + signal.SIGPIPE and "error" not in err, err
    assert np.load(out).size == 10**4


@pytest.mark.parametrize("passed, code", [(False, 1), (True, 0)])
def test_check_exit_code_follows_the_report(monkeypatch, capsys, passed, code):
    seen = {}

    def run_checks(names, dtypes, n, seeds, alpha, show_progress=True):
        seen.update(names=names, dtypes=dtypes, n=n, seeds=seeds)
        return {"passed": passed, "results": []}

    monkeypatch.setattr(check, "run_checks", run_checks)
    assert main(["check", "--only", "uniform_", "--dtype", "float32", "--n", "1e4", "--seeds", "4",
                 "--json", "--no-progress"]) == code
    assert json.loads(capsys.readouterr().out)["passed"] is passed
    assert seen == {"names": ["uniform_"], "dtypes": ["float32"], "n": 10**4, "seeds": [4]}


@pytest.mark.parametrize("value", ["0", "-3"])
def test_init_refuses_a_non_positive_block_mb_with_out_given(tmp_path, capsys, value):
    out = tmp_path / "m.safetensors"
    with pytest.raises(SystemExit) as e:
        main(["init", "--arch", "mlp-mnist", "--out", str(out), "--block-mb", value, "--seed", "0", "--no-progress"])
    assert e.value.code == 2
    assert f"argument --block-mb: must be an int >= 1, got '{value}'" in capsys.readouterr().err
    assert not out.exists()


def test_check_names_a_negative_exponent_alpha_as_out_of_range(capsys):
    assert main(["check", "--alpha", "-1e-3", "--n", "1e4", "--only", "uniform_", "--dtype", "float32",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "alpha must lie in (0, 1), got -0.001" in err and "expected one argument" not in err


def test_fill_uniform_defaults_to_the_unit_interval(tmp_path, capsys):
    path = tmp_path / "u.npy"
    assert main(["fill", "--numel", "4000", "--dist", "uniform", "--seed", "5", "--repeat", "1",
                 "--out", str(path)]) == 0
    assert "~ U[0.0, 1.0)" in capsys.readouterr().out
    got = np.load(path)
    assert np.array_equal(got, fastinit.uniform_(np.empty(4000, np.float32), 0.0, 1.0, seed=5))
    assert got.min() >= 0.0 and got.max() < 1.0


def test_fill_reports_a_bad_parameter_before_allocating_the_buffer(capsys):
    assert main(["fill", "--numel", "1e13", "--std", "-1", "--repeat", "1"]) == 2
    err = capsys.readouterr().err
    assert "std must be >= 0" in err and "out of memory" not in err


@pytest.mark.parametrize("arch, d", [("bert-base", 768), ("bert-large", 1024)])
def test_bert_feed_forward_weights_have_hugging_faces_shapes(arch, d):
    spec = arch_spec(arch)
    p = "encoder.layer.0."
    assert spec[p + "intermediate.dense.weight"].shape == (4 * d, d)
    assert spec[p + "intermediate.dense.bias"].shape == (4 * d,)
    assert spec[p + "output.dense.weight"].shape == (d, 4 * d)
    assert spec[p + "output.dense.bias"].shape == (d,)
    assert spec[p + "attention.self.query.weight"].shape == (d, d)


def test_init_resnet50_non_square_convs_use_fan_out(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "r.safetensors"
    assert main(["init", "--arch", "resnet50", "--out", str(path), "--dtype", "float32", "--seed", "2",
                 "--shard", "0/4", "--no-progress"]) == 0
    t = st.load_file(path)
    for name, fan_out in (("conv1.weight", 64 * 7 * 7), ("layer1.0.conv3.weight", 256),
                          ("layer4.0.downsample.0.weight", 2048)):
        w = t[name].astype(np.float64)
        assert abs(float(w.std()) / np.sqrt(2 / fan_out) - 1) < 0.1, name


def test_llama3_8b_has_its_published_count_and_grouped_query_shapes():
    spec = arch_spec("llama3-8b")
    assert parameter_count(spec) == 8_030_261_248
    p = "model.layers.31.self_attn."
    assert spec[p + "q_proj.weight"].shape == (4096, 4096)
    assert spec[p + "k_proj.weight"].shape == spec[p + "v_proj.weight"].shape == (1024, 4096)
    assert spec["lm_head.weight"].shape == (128256, 4096)


def test_the_other_embedded_archs_have_their_published_counts():
    # Hugging Face's counts for these checkpoints (GPT-2 with its tied head, BERT with its pooler)
    published = {"gpt2-medium": 354_823_168, "gpt2-large": 774_030_080, "gpt2-xl": 1_557_611_200,
                 "bert-large": 335_141_888}
    assert {name: parameter_count(arch_spec(name)) for name in published} == published


def test_ctrl_c_before_the_command_starts_is_one_line_not_a_traceback(monkeypatch, capsys):
    import fastinit.cli as cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["check"]) == 130
    assert capsys.readouterr().err == "fastinit: interrupted\n"


def test_an_ignored_sigint_stays_ignored_and_threads_leave_the_noted_signals_alone(monkeypatch):
    """A background job (SIGINT ignored) is not stopped by the foreground's Ctrl-C; a command run on another
    thread installs no handler and neither clears nor reports the main thread's noted signals."""
    import signal
    import threading

    import fastinit.cli as cli
    from fastinit import io
    seen = []
    monkeypatch.setattr(cli, "cmd_fill", lambda args: seen.append((signal.getsignal(signal.SIGINT),
                                                                    signal.getsignal(signal.SIGTERM))) or 0)
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert cli.main(["fill", "--numel", "10"]) == 0
    finally:
        signal.signal(signal.SIGINT, old)
    assert seen == [(signal.SIG_IGN, io.interrupt)]
    io.SIGNALLED.append(signal.SIGINT)  # as if the main thread's command had noted one
    try:
        codes = []
        worker = threading.Thread(target=lambda: codes.append(cli.main(["fill", "--numel", "10"])))
        worker.start()
        worker.join()
        assert codes == [0] and io.SIGNALLED == [signal.SIGINT]
    finally:
        io.SIGNALLED.clear()


def test_warnings_read_as_the_commands_lines():
    """A library warning is printed as `fastinit fill: warning: ...`, not as `<frozen runpy>:88: UserWarning`."""
    out = subprocess.run([sys.executable, "-m", "fastinit", "fill", "--numel", "1000", "--repeat", "1",
                          "--dist", "trunc_normal", "--mean", "10", "--a", "-1", "--b", "1"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "fastinit fill: warning: mean is more than 2 std from [a, b]" in out.stderr
    assert "UserWarning" not in out.stderr and "runpy" not in out.stderr


@pytest.mark.parametrize("argv", [["fill", "--numel", "100", "--repeat", "1", "--out", "{d}/w.txt"],
                                  ["init", "--arch", "mlp-mnist", "--seed", "0", "--out", "{d}/m.npy"]])
def test_out_under_another_formats_name_is_refused_before_writing(argv, tmp_path, capsys):
    """fill wrote .npy bytes to w.txt and init a safetensors file named m.npy, silently (variance --png refuses)."""
    assert main([a.format(d=tmp_path) for a in argv]) == 2
    assert "; name a ." in capsys.readouterr().err and list(tmp_path.iterdir()) == []


def test_summary_units_follow_the_printed_digits():
    from fastinit.cli import _si

    assert [_si(999_960, "B"), _si(999.6, "B"), _si(941_000, "B"), _si(12, "B/s"),
            _si(999_999_999, "parameters/s", " ")] == ["1 MB", "1 kB", "941 kB", "12 B/s", "1 G parameters/s"]


# Behaviours a mutation review of cli.py found untested (2026-12-07 (s)); each test fails with its mutant


def test_binary_byte_units():
    assert [_bytes(s) for s in ("1KiB", "3kib", "1.5MiB", "1TiB", "2TB")] == [1024, 3072, 1572864, 2**40, 2 * 10**12]


def test_fill_refuses_exactly_2_63_bytes(capsys):
    assert main(["fill", "--numel", str(2**61), "--repeat", "1"]) == 2  # 2**61 float32 = 2**63 bytes
    assert "is beyond any file or memory" in capsys.readouterr().err


def test_fill_uniform_refuses_value(capsys):
    assert main(["fill", "--numel", "10", "--repeat", "1", "--dist", "uniform", "--value", "1"]) == 2
    assert "--value not used by --dist uniform" in capsys.readouterr().err


def test_fill_trunc_normal_with_one_bound_given_blames_the_bounds_not_the_defaults(capsys):
    assert main(["fill", "--numel", "10", "--repeat", "1", "--dist", "trunc_normal", "--a", "5"]) == 2
    err = capsys.readouterr().err
    assert "need a < b" in err and "default bounds" not in err


def test_fill_takes_infinity_spelled_out(capsys):
    assert main(["fill", "--numel", "10", "--repeat", "1", "--dist", "constant", "--value", "-Infinity"]) == 0
    assert "constant -inf" in capsys.readouterr().out


def _spy(monkeypatch):
    seen = {}

    def run_checks(names, dtypes, n, seeds, alpha, show_progress=True):
        seen.update(names=names, dtypes=dtypes, n=n, seeds=seeds)
        return {"passed": True, "rows": []}

    monkeypatch.setattr(check, "run_checks", run_checks)
    return seen


def test_check_seeds_ignore_empty_items_and_names_count_once(monkeypatch, capsys):
    seen = _spy(monkeypatch)
    assert main(["check", "--seeds", "3,", "--only", "normal,normal_", "--dtype", "float32,f32", "--n", "1e4",
                 "--json", "--no-progress"]) == 0
    assert seen == {"names": ["normal_"], "dtypes": ["float32"], "n": 10**4, "seeds": [3]}


def test_documented_defaults():
    p = build_parser()
    check_args, fill_args = p.parse_args(["check"]), p.parse_args(["fill"])
    assert (check_args.n, check_args.seeds, check_args.alpha) == (10**7, "0,1", 1e-3)
    assert (fill_args.seed, fill_args.stream, fill_args.numel, fill_args.repeat) == (0, 0, 10**8, 5)


def test_bench_cuda_takes_against_torch(monkeypatch, capsys):
    monkeypatch.setattr(benchmark, "cuda_unavailable_reason", lambda: "no GPU (stub)")
    assert main(["bench", "--device", "cuda", "--against", "torch", "--size", "2e4"]) == 2
    err = capsys.readouterr().err
    assert "no GPU (stub)" in err and "not used with" not in err


@pytest.mark.parametrize("extra, stored", [({"dtype": "float64"}, "F64"),
                                           ({"dtype": "bfloat16", "torch_dtype": "float32"}, "BF16")])
def test_init_config_dtype(tmp_path, extra, stored):
    cfg = {"model_type": "qwen3", "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
           "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 1000,
           "tie_word_embeddings": True, "initializer_range": 0.03, **extra}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    out = tmp_path / "model.safetensors"
    assert main(["init", "--config", str(tmp_path), "--out", str(out), "--seed", "5", "--no-progress"]) == 0
    with open(out, "rb") as f:
        header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    assert header["model.norm.weight"]["dtype"] == stored


def test_variance_json_writes_non_finite_values_as_null(capsys):
    assert main(["variance", "--schemes", "naive", "--depth", "60", "--width", "64", "--batch", "8",
                 "--dtype", "float32", "--json", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "null" in out and json.loads(out)  # strict JSON: no Infinity / NaN


# a small decoder config (mutation tests of fastinit/archs.py: laws and defaults the transformers comparisons
# cannot see, their configs being saved by transformers with every key written out)
_TINY = {"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "vocab_size": 300}

_LLAMA4_VISION = {"hidden_size": 32, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 2,
                  "image_size": 56, "patch_size": 14, "vision_output_dim": 48, "projector_input_dim": 48,
                  "projector_output_dim": 48}


def test_config_spec_gpt2_of_a_zero_range_draws_its_positions_and_untied_head_with_0_02():
    # transformers: wpe (nn.Embedding) and lm_head (nn.Linear) by PreTrainedModel's rule, `initializer_range or
    # 0.02`; only GPT-2's own Conv1D weights take the range as it is
    spec = config_spec({"model_type": "gpt2", "n_layer": 2, "n_embd": 32, "n_head": 4, "vocab_size": 100,
                        "n_positions": 16, "tie_word_embeddings": False, "initializer_range": 0.0})
    assert spec["transformer.wpe.weight"].params == {"std": 0.02}
    assert spec["lm_head.weight"].params == {"std": 0.02}
    assert spec["transformer.h.1.mlp.c_proj.weight"].params == {"std": 0.0}


def test_config_spec_of_a_zero_range_routers_as_it_is_shared_experts_and_their_gates_by_the_linear_rule():
    # Qwen2-MoE's TopKRouter and experts: initializer_range as it is (0); its shared expert and shared_expert_gate,
    # nn.Linear: 0 -> 0.02; Qwen3.5-MoE's shared expert likewise
    qwen2 = config_spec({"model_type": "qwen2_moe", **_TINY, "num_experts": 3, "num_experts_per_tok": 2,
                         "moe_intermediate_size": 8, "shared_expert_intermediate_size": 12, "initializer_range": 0.0})
    m = "model.layers.0.mlp."
    assert qwen2[m + "gate.weight"].params == {"std": 0.0}
    assert qwen2[m + "shared_expert_gate.weight"].params == {"std": 0.02}
    assert qwen2[m + "experts.2.down_proj.weight"].params == {"std": 0.0}
    qwen35 = config_spec({"model_type": "qwen3_5_moe_text", **_TINY, "num_hidden_layers": 4, "head_dim": 16,
                          "linear_key_head_dim": 8, "linear_value_head_dim": 12, "linear_num_key_heads": 2,
                          "linear_num_value_heads": 4, "num_experts": 3, "num_experts_per_tok": 2,
                          "moe_intermediate_size": 48, "shared_expert_intermediate_size": 40,
                          "full_attention_interval": 2, "initializer_range": 0.0})
    assert qwen35[m + "shared_expert.up_proj.weight"].params == {"std": 0.02}
    assert qwen35[m + "shared_expert_gate.weight"].params == {"std": 0.02}
    assert qwen35[m + "experts.0.gate_proj.weight"].params == {"std": 0.0}
    assert qwen35[m + "gate.weight"].params == {"std": 0.0}


def test_resnet50_classifier_is_torchs_linear_default():
    # nn.Linear(2048, 1000).reset_parameters(): weight and bias U(±1/sqrt(fan_in)), fan_in 2048 (not the 1000 classes)
    spec = arch_spec("resnet50")
    assert spec["fc.weight"].shape == (1000, 2048) and spec["fc.weight"].init == "fan_in_uniform_"
    bias = spec["fc.bias"]
    assert bias.init == "uniform_" and bias.params == {"a": -1 / math.sqrt(2048), "b": 1 / math.sqrt(2048)}


@pytest.mark.parametrize("kind, pad", [("gemma", 0), ("gemma2", 0), ("gemma3_text", 0), ("phi3", 32000),
                                       ("ernie4_5", 0), ("olmo2", 1), ("olmo3", 1), ("smollm3", 128004),
                                       ("seed_oss", 1), ("ministral3", 11), ("llama", None), ("qwen2", None)])
def test_config_spec_a_left_out_pad_token_id_is_the_configs_default_pad_row(kind, pad):
    # transformers' configs' pad_token_id defaults (a config.json saved by transformers states it; a hand-written
    # one may leave it out): that row of the token embedding zero
    emb = config_spec({"model_type": kind, "num_hidden_layers": 1})["model.embed_tokens.weight"]
    assert emb.params == ({"std": 0.02} if pad is None else {"std": 0.02, "padding_idx": pad})
    assert config_spec({"model_type": kind, "num_hidden_layers": 1, "pad_token_id": None}
                       )["model.embed_tokens.weight"].params == {"std": 0.02}


def test_config_spec_image_text_zero_ranges_are_0_02_for_modules_drawn_by_the_linear_rule():
    # a top-level (Llama 4) or vision (Pixtral) initializer_range of 0: PreTrainedModel's `or 0.02`
    llama4 = config_spec({"model_type": "llama4", "initializer_range": 0.0,
                          "text_config": {**_TINY, "head_dim": 16, "num_local_experts": 2, "initializer_range": 0.03},
                          "vision_config": _LLAMA4_VISION})
    assert llama4["multi_modal_projector.linear_1.weight"].params == {"std": 0.02}
    mistral3 = config_spec({"model_type": "mistral3",
                            "text_config": {**_TINY, "model_type": "mistral", "head_dim": 16},
                            "vision_config": {"model_type": "pixtral", "hidden_size": 32, "intermediate_size": 48,
                                              "num_hidden_layers": 2, "num_attention_heads": 2, "patch_size": 8,
                                              "image_size": 64, "initializer_range": 0.0}})
    assert mistral3["vision_tower.patch_conv.weight"].params == {"std": 0.02}
    assert mistral3["vision_tower.transformer.layers.1.attention.q_proj.weight"].params == {"std": 0.02}


def test_config_spec_llama4_vision_class_and_position_embeddings_are_n_0_1_over_width():
    # Llama4VisionModel: class_embedding and positional_embedding_vlm ~ N(0, scale²), scale = hidden_size ** -0.5,
    # not the vision initializer_range (in test_hf's tiny configs the class embedding, 32 values, is too small for
    # its std to be compared)
    spec = config_spec({"model_type": "llama4", "text_config": {**_TINY, "head_dim": 16, "num_local_experts": 2},
                        "vision_config": {**_LLAMA4_VISION, "initializer_range": 0.05}})
    scale = {"std": 1 / math.sqrt(32)}
    assert spec["vision_model.class_embedding"].shape == (32,) and spec["vision_model.class_embedding"].params == scale
    assert spec["vision_model.positional_embedding_vlm"].shape == (17, 32)
    assert spec["vision_model.positional_embedding_vlm"].params == scale
    assert spec["vision_model.model.layers.0.mlp.fc1.weight"].params == {"std": 0.05}


def test_config_spec_qwen2_vl_tied_by_its_text_config_whatever_the_top_level_flag():
    # transformers' Qwen2(.5)-VL config carries text_config's tie_word_embeddings up (a transformers 4 save; a
    # config.json with the top-level flag false or left out): the model ties its head, so no lm_head.weight
    mrope = {"rope_type": "default", "mrope_section": [2, 3, 3]}
    vision = {"depth": 1, "hidden_size": 32, "intermediate_size": 48, "num_heads": 2, "out_hidden_size": 64}
    for top in ({}, {"tie_word_embeddings": False}):
        spec = config_spec({"model_type": "qwen2_5_vl", **top, "vision_config": vision,
                            "text_config": {**_TINY, "tie_word_embeddings": True, "rope_parameters": mrope}})
        assert "lm_head.weight" not in spec and spec["model.embed_tokens.weight"].shape == (300, 64), top
    untied = config_spec({"model_type": "qwen2_5_vl", "vision_config": vision,
                          "text_config": {**_TINY, "rope_parameters": mrope}})
    assert untied["lm_head.weight"].shape == (300, 64)
