"""The embedded architectures are Hugging Face checkpoints: every name and shape of transformers' own models, and
a file written by ``fastinit init`` loads with ``from_pretrained`` (no missing, unexpected or mismatched key) into
exactly the file's values."""
import copy
import functools
import json
import math
import re
import sys
import warnings

import numpy as np
import pytest

from fastinit.archs import arch_spec, config_spec, log_uniform_, parameter_count
from fastinit.cli import main

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
st_torch = pytest.importorskip("safetensors.torch")

GPT2 = {"gpt2": (12, 768, 12), "gpt2-medium": (24, 1024, 16), "gpt2-large": (36, 1280, 20), "gpt2-xl": (48, 1600, 25)}
LLAMA = {  # layers, width, MLP width, vocabulary, heads, key/value heads, tied embeddings (the published configs)
    "llama-tiny": (2, 256, 688, 32000, 4, 4, False),
    "llama3.2-1b": (16, 2048, 8192, 128256, 32, 8, True),
    "llama-7b": (32, 4096, 11008, 32000, 32, 32, False),
    "llama3-8b": (32, 4096, 14336, 128256, 32, 8, False),
}
BERT = {"bert-base": (12, 768, 12), "bert-large": (24, 1024, 16)}


def _model(arch: str):
    """transformers' model of ``arch`` (on the current default device) and the prefix its checkpoint names lack."""
    if arch in GPT2:
        n_layer, d, heads = GPT2[arch]
        return transformers.GPT2LMHeadModel(transformers.GPT2Config(n_layer=n_layer, n_embd=d, n_head=heads)), \
            "transformer."
    if arch in LLAMA:
        n_layer, d, hidden, vocab, heads, kv, tied = LLAMA[arch]
        config = transformers.LlamaConfig(num_hidden_layers=n_layer, hidden_size=d, intermediate_size=hidden,
                                          vocab_size=vocab, num_attention_heads=heads, num_key_value_heads=kv,
                                          tie_word_embeddings=tied)
        return transformers.LlamaForCausalLM(config), ""
    n_layer, d, heads = BERT[arch]
    return transformers.BertModel(transformers.BertConfig(num_hidden_layers=n_layer, hidden_size=d,
                                                          num_attention_heads=heads, intermediate_size=4 * d)), ""


@pytest.mark.parametrize("arch", [*GPT2, *LLAMA, *BERT])
def test_names_and_shapes_are_those_of_the_transformers_model(arch):
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, prefix = _model(arch)
    theirs = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    ours = {prefix + name: tuple(spec.shape) for name, spec in arch_spec(arch).items()}
    tied = {"lm_head.weight"} if arch in GPT2 or LLAMA.get(arch, (False,))[-1] else set()  # the embedding's
    assert set(theirs) - set(ours) == tied and set(ours) <= set(theirs)
    assert {name: theirs[name] for name in ours} == ours
    assert parameter_count(arch_spec(arch)) == sum(p.numel() for p in model.parameters())  # (tied: counted once)


@pytest.mark.parametrize("arch", ["llama-tiny", "gpt2"])
def test_fastinit_init_files_load_with_from_pretrained(arch, tmp_path, capsys):
    assert main(["init", "--arch", arch, "--out", str(tmp_path / "model.safetensors"), "--seed", "3",
                 "--no-progress"]) == 0
    capsys.readouterr()
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        empty, prefix = _model(arch)
    empty.config.save_pretrained(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, info = type(empty).from_pretrained(tmp_path, output_loading_info=True)
    assert not any(info.values()), info  # missing, unexpected or mismatched keys, errors
    state = model.state_dict()
    written = st_torch.load_file(tmp_path / "model.safetensors")
    assert written.keys() == arch_spec(arch).keys()
    for name, values in written.items():
        assert torch.equal(state[prefix + name], values), name
    if arch in GPT2:  # the LM head is the (written) token embedding
        assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()


TINY = {"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 300}
MISTRAL3_TEXT = {**TINY, "model_type": "mistral", "head_dim": 16}
PIXTRAL = {"model_type": "pixtral", "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
           "num_attention_heads": 2, "patch_size": 8, "image_size": 64}
QWEN3_5_TEXT = {**TINY, "num_hidden_layers": 4, "head_dim": 16, "linear_key_head_dim": 8, "linear_value_head_dim": 12,
                "linear_num_key_heads": 2, "linear_num_value_heads": 4}  # (Qwen3.5's Gated DeltaNet, a full layer 4th)
QWEN3_5_MOE = {"num_experts": 3, "num_experts_per_tok": 2, "moe_intermediate_size": 48,
               "shared_expert_intermediate_size": 40}
QWEN3_5_VISION = {"depth": 2, "hidden_size": 32, "intermediate_size": 48, "num_heads": 2, "out_hidden_size": 64,
                  "num_position_embeddings": 16, "patch_size": 8}
CONFIGS = {  # (transformers' config class, its arguments)
    "llama-gqa-biases-pad": ("LlamaConfig", {**TINY, "attention_bias": True, "mlp_bias": True, "pad_token_id": 5,
                                             "initializer_range": 0.05}),
    "llama-tied": ("LlamaConfig", {**TINY, "tie_word_embeddings": True, "num_key_value_heads": 4}),
    "mistral-head-dim": ("MistralConfig", {**TINY, "head_dim": 32}),  # heads wider than hidden / heads (Nemo)
    "qwen2": ("Qwen2Config", TINY),
    "qwen2-tied": ("Qwen2Config", {**TINY, "tie_word_embeddings": True}),
    "qwen3": ("Qwen3Config", {**TINY, "head_dim": 16}),
    "qwen3-bias": ("Qwen3Config", {**TINY, "attention_bias": True}),  # (its default head_dim: 128)
    "gemma": ("GemmaConfig", {**TINY, "head_dim": 16}),  # (its default pad_token_id 0: a zero row)
    "gemma2": ("Gemma2Config", {**TINY, "head_dim": 16, "tie_word_embeddings": False}),
    "gemma3-text": ("Gemma3TextConfig", {**TINY, "head_dim": 16, "attention_bias": True, "initializer_range": 0.03}),
    "phi3": ("Phi3Config", {**TINY, "pad_token_id": 7}),
    "granite-biases": ("GraniteConfig", {**TINY, "attention_bias": True, "mlp_bias": True, "initializer_range": 0.03}),
    "smollm3": ("SmolLM3Config", {**TINY, "pad_token_id": 7}),  # (its default pad row 128004: past TINY's vocabulary)
    "seed-oss": ("SeedOssConfig", {**TINY, "head_dim": 16, "attention_out_bias": True, "mlp_bias": True}),
    "ernie4_5-bias": ("Ernie4_5Config", {**TINY, "head_dim": 16, "use_bias": True}),  # (tied, a pad row 0)
    "olmo2-bias": ("Olmo2Config", {**TINY, "attention_bias": True}),  # q/k norms over all heads, norms after
    "olmo3": ("Olmo3Config", TINY),
    "exaone4": ("Exaone4Config", TINY),  # q/k norms per head, norms after attention and MLP
    "ministral3": ("Ministral3Config", {**TINY, "head_dim": 16, "pad_token_id": 5, "initializer_range": 0.03}),
    "qwen3.5-text": ("Qwen3_5TextConfig", {**QWEN3_5_TEXT, "attention_bias": True, "pad_token_id": 3,
                                           "linear_conv_kernel_dim": 3, "initializer_range": 0.03}),
    "gpt2-untied": ("GPT2Config", {"n_layer": 2, "n_embd": 64, "n_head": 4, "n_inner": 80, "vocab_size": 300,
                                   "n_positions": 32, "tie_word_embeddings": False, "initializer_range": 0.04}),
    "gpt2": ("GPT2Config", {"n_layer": 2, "n_embd": 64, "n_head": 4, "vocab_size": 300, "n_positions": 32}),
    "bert": ("BertConfig", {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                            "intermediate_size": 80, "vocab_size": 300, "max_position_embeddings": 32,
                            "type_vocab_size": 3, "pad_token_id": 1}),
}


def _from_config(case: str, folder):
    """transformers' model of ``CONFIGS[case]`` or ``MOE[case]`` (on the current default device), its config saved
    into ``folder`` as ``config.json``, and the prefix its names have beyond ``config_spec``'s."""
    cls, kwargs = CONFIGS[case] if case in CONFIGS else MOE[case]
    if not hasattr(transformers, cls):
        pytest.skip(f"transformers {transformers.__version__} has no {cls}")
    config = getattr(transformers, cls)(**kwargs)
    config.save_pretrained(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if cls == "BertConfig":
            return transformers.BertModel(config), ""
        if cls in ("Qwen2VLConfig", "Qwen2_5_VLConfig", "Qwen3VLConfig", "Qwen3VLMoeConfig", "Llama4Config",
                   "Qwen3_5Config", "Qwen3_5MoeConfig", "Mistral3Config"):  # (image-text models only)
            return transformers.AutoModelForImageTextToText.from_config(config), ""
        model = transformers.AutoModelForCausalLM.from_config(config)
    return model, "transformer." if cls == "GPT2Config" and config.tie_word_embeddings else ""


@pytest.mark.parametrize("case", CONFIGS)
def test_config_spec_has_the_names_and_shapes_of_the_model_transformers_builds_from_the_config(case, tmp_path):
    with torch.device("meta"):
        model, prefix = _from_config(case, tmp_path)
    theirs = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    spec = config_spec(tmp_path)
    ours = {prefix + name: tuple(t.shape) for name, t in spec.items()}
    tied = {"lm_head.weight"} if getattr(model.config, "tie_word_embeddings", False) and case != "bert" else set()
    assert set(theirs) - set(ours) == tied and {name: theirs[name] for name in ours} == ours
    assert parameter_count(spec) == sum(p.numel() for p in model.parameters())


RAW = {  # config.json files that leave keys out (transformers' class defaults apply) or use GPT-2's other names
    "qwen2-no-kv-heads": {"model_type": "qwen2", **{k: v for k, v in TINY.items() if k != "num_key_value_heads"},
                          "num_attention_heads": 32},  # (its default: 32 key/value heads)
    "qwen3-no-kv-heads-head-dim": {"model_type": "qwen3", "num_attention_heads": 32,
                                   **{k: v for k, v in TINY.items() if k not in ("num_key_value_heads",
                                                                                  "num_attention_heads")}},
    "gemma-no-kv-heads": {"model_type": "gemma", **{k: v for k, v in TINY.items() if k != "num_key_value_heads"},
                          "num_attention_heads": 16},
    "phi3-no-kv-heads": {"model_type": "phi3", "pad_token_id": 1,
                         **{k: v for k, v in TINY.items() if k != "num_key_value_heads"}},
    "llama-null-kv-heads": {"model_type": "llama", **TINY, "num_key_value_heads": None},
    "granite-null-kv-heads": {"model_type": "granite", **TINY, "num_key_value_heads": None},
    "olmo3-no-kv-heads": {"model_type": "olmo3", **{k: v for k, v in TINY.items() if k != "num_key_value_heads"}},
    "gpt2-other-names": {"model_type": "gpt2", "num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4,
                         "vocab_size": 100, "max_position_embeddings": 32},
}


def _meta_model(cfg: dict):
    """transformers' causal LM (image-text model, for a composite config) of the config.json ``cfg`` (keys left out:
    its defaults), on the meta device."""
    config = transformers.AutoConfig.for_model(cfg["model_type"], **{k: v for k, v in cfg.items() if k != "model_type"})
    auto = transformers.AutoModelForImageTextToText if hasattr(config, "vision_config") else \
        transformers.AutoModelForCausalLM
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return auto.from_config(config)


@pytest.mark.parametrize("case", RAW)
def test_config_spec_of_configs_leaving_keys_out_is_the_model_transformers_builds(case):
    cfg = RAW[case]
    model = _meta_model(cfg)
    prefix = "transformer." if cfg["model_type"] == "gpt2" else ""
    theirs = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    ours = {prefix + name: tuple(t.shape) for name, t in config_spec(cfg).items()}
    assert {name: theirs[name] for name in ours} == ours and set(theirs) - set(ours) <= {"lm_head.weight"}


COUNTS = {  # configs of the families added 2026-12-06 (b): transformers' defaults, and published ones
    **{kind: {"model_type": kind} for kind in ("granite", "smollm3", "seed_oss", "ernie4_5", "olmo2", "olmo3",
                                               "exaone4", "glm4_moe")},  # (glm4_moe's: 96 heads of 4096 // 96)
    "glm-4.5": {"model_type": "glm4_moe", "attention_bias": True, "first_k_dense_replace": 3, "head_dim": 128,
                "hidden_size": 5120, "intermediate_size": 12288, "moe_intermediate_size": 1536, "n_routed_experts": 160,
                "num_attention_heads": 96, "num_hidden_layers": 92, "partial_rotary_factor": 0.5,
                "use_qk_norm": True},
    "olmo-2-7b": {"model_type": "olmo2", "vocab_size": 100352, "pad_token_id": 100277},
    "seed-oss-null-head-dim": {"model_type": "seed_oss", "head_dim": None, "hidden_size": 1000},
    **{kind: {"model_type": kind} for kind in ("qwen3_5_text", "qwen3_5_moe_text")},  # (2026-12-06 (d))
    "mistral3": {"model_type": "mistral3"},  # (Mistral Small 3.1's sizes, tied as transformers ties them)
    "ministral3": {"model_type": "ministral3"},
}


@pytest.mark.parametrize("case", COUNTS)
def test_config_spec_counts_the_parameters_of_the_model_transformers_builds(case):
    cfg = COUNTS[case]
    model = _meta_model(cfg)
    assert parameter_count(config_spec(cfg)) == sum(p.numel() for p in model.parameters())
    if case == "glm-4.5":  # GLM-4.5 without its multi-token-prediction layer, which transformers does not build
        assert parameter_count(config_spec(cfg)) == 352_797_814_784


SLIDE = ["sliding_attention", "full_attention"]
MROPE = {"rope_type": "default", "mrope_section": [2, 3, 3]}  # (Qwen-VL's rotary sections of TINY's 16-wide heads)
QWEN3_VL_VISION = {"depth": 1, "hidden_size": 32, "intermediate_size": 48, "num_heads": 2, "out_hidden_size": 64,
                   "num_position_embeddings": 16, "deepstack_visual_indexes": [], "patch_size": 8}
GEMMA3_VISION = {"hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 1, "num_attention_heads": 4,
                 "image_size": 64, "patch_size": 8}
WINDOWS = {  # sliding layers (given, or as the family's config derives them) and the window they need
    "llama-no-window": {"model_type": "llama", "layer_types": SLIDE},  # (no sliding_window field: none)
    "llama-window-0": {"model_type": "llama", "layer_types": SLIDE, "sliding_window": 0},  # (runs: not its field)
    "llama-window-8": {"model_type": "llama", "layer_types": SLIDE, "sliding_window": 8},
    "mistral-null-window": {"model_type": "mistral", "layer_types": SLIDE, "sliding_window": None},
    "mistral-window-0": {"model_type": "mistral", "sliding_window": 0},  # (every layer slides where there is one)
    "mixtral-no-window": {"model_type": "mixtral", "layer_types": SLIDE, "num_local_experts": 2},
    "phi3-window-0": {"model_type": "phi3", "sliding_window": 0, "pad_token_id": 7},
    "qwen2-no-flag": {"model_type": "qwen2", "layer_types": SLIDE, "sliding_window": 8},  # (the flag drops it)
    "qwen2-flag": {"model_type": "qwen2", "layer_types": SLIDE, "sliding_window": 8, "use_sliding_window": True},
    "qwen2-derived-null": {"model_type": "qwen2", "use_sliding_window": True, "sliding_window": None,
                           "max_window_layers": 1},  # (derived: full layers)
    "qwen2-derived-0": {"model_type": "qwen2", "use_sliding_window": True, "sliding_window": 0, "max_window_layers": 1},
    "qwen2-moe-derived-null": {"model_type": "qwen2_moe", "use_sliding_window": True, "sliding_window": None,
                               "num_experts": 2, "num_experts_per_tok": 1, "moe_intermediate_size": 32},
    "qwen3-moe-flag-0": {"model_type": "qwen3_moe", "use_sliding_window": True, "sliding_window": 0,
                         "num_experts": 2, "num_experts_per_tok": 1, "moe_intermediate_size": 32},
    "gemma2-null-window": {"model_type": "gemma2", "sliding_window": None, "head_dim": 16},
    "gemma3-text-no-sliding-layer": {"model_type": "gemma3_text", "sliding_window": None, "head_dim": 16,
                                     "sliding_window_pattern": 1},
    "gpt-oss-window-0": {"model_type": "gpt_oss", "sliding_window": 0, "head_dim": 16, "num_local_experts": 2,
                         "num_experts_per_tok": 1},
    "olmo3-window-0": {"model_type": "olmo3", "sliding_window": 0},
    "olmo3-window-0-full-layers": {"model_type": "olmo3", "sliding_window": 0, "layer_types": ["full_attention"] * 2},
    "smollm3-no-rope-layer-0": {"model_type": "smollm3", "use_sliding_window": True, "sliding_window": 0,
                                "no_rope_layer_interval": 2, "pad_token_id": 7},
    "smollm3-no-flag-0": {"model_type": "smollm3", "sliding_window": 0, "no_rope_layer_interval": 2, "pad_token_id": 7},
    "exaone4-window-0": {"model_type": "exaone4", "layer_types": SLIDE, "sliding_window": 0},
    "glm4-moe-no-window": {"model_type": "glm4_moe", "layer_types": SLIDE, "n_routed_experts": 4, "n_group": 1,
                           "num_experts_per_tok": 2, "moe_intermediate_size": 32},
    "gemma2-null-window-full-layers": {"model_type": "gemma2", "sliding_window": None, "head_dim": 16,
                                       "layer_types": ["full_attention"] * 2},  # (its mask needs one anyway)
    "gemma2-window-0-full-layers": {"model_type": "gemma2", "sliding_window": 0, "head_dim": 16,
                                    "layer_types": ["full_attention"] * 2},
    "mistral-window-0-full-layers": {"model_type": "mistral", "sliding_window": 0,
                                     "layer_types": ["full_attention"] * 2},
    "qwen2-moe-flag-null-full-layers": {"model_type": "qwen2_moe", "use_sliding_window": True, "sliding_window": None,
                                        "num_experts": 2, "num_experts_per_tok": 1, "moe_intermediate_size": 32,
                                        "layer_types": ["full_attention"] * 2},
    "integer-initializer-range": {"model_type": "llama", "initializer_range": 0},  # (transformers' strict config)
    # (a review's, 2026-12-06 (c))
    "qwen2-flag-null": {"model_type": "qwen2", "use_sliding_window": None},  # (strict: a bool)
    "qwen2-window-float": {"model_type": "qwen2", "sliding_window": 8.0},
    "llama-window-float": {"model_type": "llama", "sliding_window": 8.0},  # (its cache slides every layer)
    "llama-window-negative": {"model_type": "llama", "layer_types": SLIDE, "sliding_window": -1},  # (runs: kept)
    "gemma2-window-negative-full-layers": {"model_type": "gemma2", "sliding_window": -1, "head_dim": 16,
                                           "layer_types": ["full_attention"] * 2},
    "qwen2-max-window-layers-negative": {"model_type": "qwen2", "use_sliding_window": True, "sliding_window": 8,
                                         "max_window_layers": -1},
    "gemma3-text-pattern-0": {"model_type": "gemma3_text", "sliding_window_pattern": 0, "head_dim": 16},
    "exaone4-pattern-negative": {"model_type": "exaone4", "sliding_window_pattern": -1},  # (every layer full)
    "exaone4-pattern-1-window-0": {"model_type": "exaone4", "sliding_window_pattern": 1, "sliding_window": 0},
    "gemma3-text-bidirectional-window-0": {"model_type": "gemma3_text", "use_bidirectional_attention": True,
                                           "sliding_window": 0, "head_dim": 16},  # (its window: 0 // 2 + 1)
    "llama-initializer-range-1.5": {"model_type": "llama", "initializer_range": 1.5},  # (LlamaConfig: [0, 1])
    "smollm3-no-rope-bools": {"model_type": "smollm3", "no_rope_layers": [True, False], "pad_token_id": 7},
    "llama-old-attention-type": {"model_type": "llama", "layer_types": ["attention"] * 2},  # (full attention)
    "llama4-text-sliding-layer": {"model_type": "llama4_text", "layer_types": SLIDE, "sliding_window": 8,
                                  "head_dim": 16, "num_local_experts": 2},  # (Llama 4 builds no such layer)
    "qwen2-vl-integer-top-range": {"model_type": "qwen2_vl", "initializer_range": 0, "vision_config": {
        "depth": 1, "embed_dim": 32, "hidden_size": 64, "num_heads": 2}, "text_config": {**TINY,
                                                                                        "rope_parameters": MROPE}},
    **{f"{kind}-text-{name}": {"model_type": kind, "vision_config": QWEN3_VL_VISION, "text_config": {
        **TINY, "head_dim": 16, "rope_parameters": {"rope_type": "default", "mrope_section": [4, 2, 2]},
        **({"num_experts": 2, "num_experts_per_tok": 1} if kind.endswith("moe") else {}), **text}}
       for kind in ("qwen3_vl", "qwen3_vl_moe") for name, text in (
           ("flag-sliding-layer-no-window", {"use_sliding_window": True, "layer_types": SLIDE}),  # (no field)
           ("window-sliding-layer-no-flag", {"sliding_window": 8, "layer_types": SLIDE}),
           ("flag-window-0", {"use_sliding_window": True, "sliding_window": 0}))},
    **{f"llama4-text-{name}": {"model_type": "llama4_text", "head_dim": 16, "num_local_experts": 2, **kw}
       for name, kw in (  # (a review's, 2026-12-06 (c): chunked layers, RoPE layers, sparse layers)
           ("chunked-no-chunk-size", {"layer_types": ["chunked_attention", "full_attention"],
                                      "attention_chunk_size": None}),
           ("chunk-size-0", {"attention_chunk_size": 0}), ("chunk-size-float", {"attention_chunk_size": 4.0}),
           ("no-chunk-size", {"attention_chunk_size": None}), ("no-rope-short", {"no_rope_layers": [1]}),
           ("no-rope-interval-0", {"no_rope_layer_interval": 0}), ("head-dim-1", {"head_dim": 1}),
           ("head-dim-null", {"head_dim": None}),
           ("no-sparse-layer-top-k", {"moe_layers": [], "num_experts_per_tok": 4}),
           ("moe-layer-out-of-range", {"moe_layers": [-1]}),
           ("moe-layers-step-0", {"moe_layers": [1], "interleave_moe_layer_step": 0}))},
    # (a second review's, 2026-12-06 (c))
    "llama-head-dim-not-dividing": {"model_type": "llama", "num_attention_heads": 6, "num_key_value_heads": 2,
                                    "head_dim": 16},  # (LlamaConfig refuses it, head_dim or not)
    "qwen2-vl-null-flag": {"model_type": "qwen2_vl", "vision_config": {"depth": 1, "embed_dim": 32, "hidden_size": 64,
                                                                       "num_heads": 2},
                           "text_config": {**TINY, "rope_parameters": MROPE, "use_sliding_window": None,
                                           "max_window_layers": None}},  # (its fields take null)
    "gemma3-null-window-bidirectional": {"model_type": "gemma3", "vision_config": GEMMA3_VISION, "text_config": {
        **TINY, "head_dim": 16, "sliding_window": None, "use_bidirectional_attention": True,
        "layer_types": ["full_attention"] * 2}},  # (its config halves the window: None // 2)
    "gemma3-top-range-null": {"model_type": "gemma3", "vision_config": GEMMA3_VISION, "initializer_range": None,
                              "text_config": {**TINY, "head_dim": 16}},
    "qwen3-vl-negative-window": {"model_type": "qwen3_vl", "vision_config": QWEN3_VL_VISION, "text_config": {
        **TINY, "head_dim": 16, "rope_parameters": {"rope_type": "default", "mrope_section": [4, 2, 2]},
        "sliding_window": -1, "layer_types": SLIDE}},
    "qwen3-vl-float-window": {"model_type": "qwen3_vl", "vision_config": QWEN3_VL_VISION, "text_config": {
        **TINY, "head_dim": 16, "rope_parameters": {"rope_type": "default", "mrope_section": [4, 2, 2]},
        "sliding_window": 4.0}},  # (with no layer_types its cache slides every layer)
    "gemma3-text-float-pattern": {"model_type": "gemma3_text", "sliding_window_pattern": 2.0, "head_dim": 16},
    "llama4-text-no-experts-sparse": {"model_type": "llama4_text", "head_dim": 16, "num_local_experts": 0},
    "llama4-text-no-rope-0": {"model_type": "llama4_text", "head_dim": 16, "num_local_experts": 2,
                              "no_rope_layers": 0},
    "llama4-text-negative-step": {"model_type": "llama4_text", "head_dim": 16, "num_local_experts": 2,
                                  "interleave_moe_layer_step": -1},  # (no sparse layer)
    "gemma3-text-null-window-full-layers": {"model_type": "gemma3", "vision_config": GEMMA3_VISION, "text_config": {
        **TINY, "head_dim": 16, "sliding_window": None, "layer_types": ["full_attention"] * 2}},  # (its model builds
    # only the masks of its layer types)
}


QWEN3_NEXT = {"model_type": "qwen3_next", "num_hidden_layers": 4, "head_dim": 16, "linear_key_head_dim": 8,
              "linear_value_head_dim": 12, "linear_num_key_heads": 2, "linear_num_value_heads": 4, "num_experts": 3,
              "num_experts_per_tok": 2, "moe_intermediate_size": 48, "shared_expert_intermediate_size": 40}
QWEN_MOE = {"num_experts": 3, "num_experts_per_tok": 2, "moe_intermediate_size": 48}
LAYERS = {  # Qwen3-Next's hybrid layers (2026-12-06 (d)), and the sparse step of the Qwen mixtures of experts
    "qwen3-next": QWEN3_NEXT,
    "qwen3-next-value-heads-3": {**QWEN3_NEXT, "linear_num_value_heads": 3},  # (not a multiple of the key heads)
    "qwen3-next-key-heads-4": {**QWEN3_NEXT, "linear_num_key_heads": 4},
    "qwen3-next-kernel-0": {**QWEN3_NEXT, "linear_conv_kernel_dim": 0},
    "qwen3-next-kernel-1": {**QWEN3_NEXT, "linear_conv_kernel_dim": 1},
    "qwen3-next-interval-0": {**QWEN3_NEXT, "full_attention_interval": 0},
    "qwen3-next-interval-negative": {**QWEN3_NEXT, "full_attention_interval": -1},  # (every layer full attention)
    "qwen3-next-interval-float": {**QWEN3_NEXT, "full_attention_interval": 2.0},
    "qwen3-next-interval-null": {**QWEN3_NEXT, "full_attention_interval": None},
    "qwen3-next-interval-past-layers": {**QWEN3_NEXT, "full_attention_interval": 5},  # (no full-attention layer)
    "qwen3-next-all-linear": {**QWEN3_NEXT, "layer_types": ["linear_attention"] * 4},
    "qwen3-next-sliding-type": {**QWEN3_NEXT, "layer_types": ["sliding_attention"] + ["full_attention"] * 3},
    "qwen3-next-full-rotary-odd": {**QWEN3_NEXT, "head_dim": 15, "partial_rotary_factor": 1.0},
    "qwen3-next-quarter-rotary-odd": {**QWEN3_NEXT, "head_dim": 12},  # (3 rotary dimensions: run)
    "qwen3-next-no-window-field": {**QWEN3_NEXT, "sliding_window": "x"},  # (no sliding layers: unused)
    "qwen3-next-kv-heads-3": {**QWEN3_NEXT, "num_key_value_heads": 3},
    "qwen3-next-step-0-no-experts": {**QWEN3_NEXT, "decoder_sparse_step": 0, "num_experts": 0},
    "qwen3-next-step-0": {**QWEN3_NEXT, "decoder_sparse_step": 0},
    "qwen3-next-no-experts-width-0": {**QWEN3_NEXT, "num_experts": 0, "moe_intermediate_size": 0},
    # a review's (2026-12-06 (d)): transformers' old layer type names, keys no layer uses (typed only), the rotary part
    "qwen3-next-old-type-names": {**QWEN3_NEXT, "layer_types": ["attention", "mamba", "mamba", "attention"]},
    "llama4-text-old-type-name": {"model_type": "llama4_text", "head_dim": 16, "num_local_experts": 2,
                                  "intermediate_size_mlp": 96, "layer_types": ["attention", "chunked_attention"]},
    "qwen3-next-no-linear-layer": {**QWEN3_NEXT, "full_attention_interval": 1, "linear_num_value_heads": 3,
                                   "linear_conv_kernel_dim": 0},
    "qwen3-next-no-dense-layer": {**QWEN3_NEXT, "intermediate_size": -1},
    "qwen3-next-top-past-experts-no-sparse": {**QWEN3_NEXT, "num_experts_per_tok": 4, "decoder_sparse_step": 5},
    "qwen3-next-top-past-experts": {**QWEN3_NEXT, "num_experts_per_tok": 4},
    "qwen3-next-top-0": {**QWEN3_NEXT, "num_experts_per_tok": 0},
    "qwen3-next-experts-negative": {**QWEN3_NEXT, "num_experts": -1},
    "qwen3-next-top-null-no-experts": {**QWEN3_NEXT, "num_experts": 0, "num_experts_per_tok": None},
    "qwen3-next-part-2": {**QWEN3_NEXT, "partial_rotary_factor": 2.0},
    "qwen3-next-part-negative": {**QWEN3_NEXT, "rope_parameters": {"rope_type": "default", "rope_theta": 1e4,
                                                                   "partial_rotary_factor": -0.5}},
    "qwen3-next-part-string": {**QWEN3_NEXT, "partial_rotary_factor": "x"},
    "qwen3-next-part-rounded-past-head": {**QWEN3_NEXT, "head_dim": 15, "partial_rotary_factor": 1.07},
    "qwen3-next-part-null-odd-head": {**QWEN3_NEXT, "head_dim": 15, "partial_rotary_factor": None},  # (all of it)
    "qwen3-next-rope-per-layer-type": {**QWEN3_NEXT, "rope_parameters": {
        "full_attention": {"rope_type": "default", "rope_theta": 1e4},
        "linear_attention": {"rope_type": "default", "rope_theta": 1e4}}},
    "qwen3-next-empty-rope-scaling": {**QWEN3_NEXT, "head_dim": 15, "rope_scaling": {}, "rope_parameters": {
        "rope_type": "default", "rope_theta": 1e4, "partial_rotary_factor": 1.0}},
    "qwen3.5-text": {"model_type": "qwen3_5_text", **QWEN3_5_TEXT},
    "qwen3.5-text-value-heads-3": {"model_type": "qwen3_5_text", **QWEN3_5_TEXT, "linear_num_value_heads": 3},
    "qwen3.5-text-all-linear": {"model_type": "qwen3_5_text", **QWEN3_5_TEXT, "full_attention_interval": 8},
    "qwen3.5-text-sections-1": {"model_type": "qwen3_5_text", **QWEN3_5_TEXT, "rope_parameters": {
        "rope_type": "default", "rope_theta": 1e4, "mrope_section": [8]}},  # (its rotary embedding indexes 3)
    "qwen3.5-text-no-linear-layer": {"model_type": "qwen3_5_text", **QWEN3_5_TEXT, "full_attention_interval": 1,
                                     "linear_key_head_dim": 0},
    "qwen3.5-moe-text-no-experts": {"model_type": "qwen3_5_moe_text", **QWEN3_5_TEXT, **QWEN3_5_MOE, "num_experts": 0},
    "qwen3.5-moe-text-top-past-experts": {"model_type": "qwen3_5_moe_text", **QWEN3_5_TEXT, **QWEN3_5_MOE,
                                          "num_experts_per_tok": 4},
    "qwen3.5-moe-text-unused-width": {"model_type": "qwen3_5_moe_text", **QWEN3_5_TEXT, **QWEN3_5_MOE,
                                      "intermediate_size": None},  # (not a field of its config)
    "qwen3.5-image-text-deepstack-ignored": {"model_type": "qwen3_5", "text_config": QWEN3_5_TEXT,
                                              "vision_config": {**QWEN3_5_VISION, "deepstack_visual_indexes": [0]}},
    # a review's of Qwen3.5 (2026-12-06 (d))
    "qwen3.5-moe-text-top-0": {"model_type": "qwen3_5_moe_text", **QWEN3_5_TEXT, **QWEN3_5_MOE,
                               "num_experts_per_tok": 0},
    "qwen3-next-no-experts-width-string": {**QWEN3_NEXT, "num_experts": 0, "moe_intermediate_size": "x"},  # (typed)
    "qwen3.5-text-section-float": {"model_type": "qwen3_5_text", **QWEN3_5_TEXT, "rope_parameters": {
        "rope_type": "default", "rope_theta": 1e4, "mrope_section": [1, 1.5, 1]}},
    "qwen3.5-tied-top-range-string": {"model_type": "qwen3_5", "text_config": QWEN3_5_TEXT, "tie_word_embeddings": True,
                                      "vision_config": QWEN3_5_VISION, "initializer_range": "x"},  # (HF draws the head)
    # a review's of Mistral 3 (2026-12-06 (d))
    "mistral3-text-tie-null": {"model_type": "mistral3", "text_config": {**MISTRAL3_TEXT, "tie_word_embeddings": None},
                               "vision_config": PIXTRAL},
    "mistral3-projector-act-null": {"model_type": "mistral3", "text_config": MISTRAL3_TEXT, "vision_config": PIXTRAL,
                                    "projector_hidden_act": None},
    "mistral3-qwen2-text": {"model_type": "mistral3", "text_config": {**MISTRAL3_TEXT, "model_type": "qwen2"},
                            "vision_config": PIXTRAL},
    "ministral3-rope-without-scaling": {"model_type": "ministral3", "head_dim": 16, "rope_parameters": {
        "rope_type": "default", "rope_theta": 1e4}},  # (its attention scales queries by llama_4_scaling_beta)
    "ministral3-window-0": {"model_type": "ministral3", "head_dim": 16, "sliding_window": 0},
    "ministral3-empty-rope": {"model_type": "ministral3", "head_dim": 16, "rope_parameters": {}},  # (not its default)
    "ministral3-yarn-maximum-filled": {"model_type": "ministral3", "head_dim": 16, "rope_parameters": {
        "rope_type": "yarn", "rope_theta": 1e6, "factor": 16.0, "llama_4_scaling_beta": 0.1}},
    "ministral3-beta-true": {"model_type": "ministral3", "head_dim": 16, "rope_parameters": {
        "rope_type": "yarn", "rope_theta": 1e6, "factor": 16.0, "llama_4_scaling_beta": True}},
    "ministral3-sliding-layer": {"model_type": "ministral3", "head_dim": 16, "sliding_window": 4,
                                 "layer_types": ["sliding_attention", "full_attention"]},
    "glm4-moe-part-2": {"model_type": "glm4_moe", "head_dim": 16, "n_routed_experts": 4, "num_experts_per_tok": 2,
                        "moe_intermediate_size": 32, "partial_rotary_factor": 2.0},
    **{f"{kind}-{case}": {"model_type": kind, **QWEN_MOE, **({"head_dim": 16} if kind == "qwen3_moe" else {}), **v}
       for kind in ("qwen2_moe", "qwen3_moe") for case, v in (
           ("step-0-dense", {"decoder_sparse_step": 0, "mlp_only_layers": [0, 1]}),  # (no layer may be sparse: runs)
           ("step-0", {"decoder_sparse_step": 0, "mlp_only_layers": [0]}),
           ("step-negative", {"decoder_sparse_step": -2}),  # (a sparse layer every 2nd: runs)
           ("step-float", {"decoder_sparse_step": 2.0}),
           ("no-experts-width-0", {"num_experts": 0, "moe_intermediate_size": 0}),
           ("top-past-experts-all-dense", {"num_experts_per_tok": 4, "mlp_only_layers": [0, 1]}),
           ("experts-negative", {"num_experts": -1}))},
}


@pytest.mark.parametrize("case", [*WINDOWS, *LAYERS])
def test_config_spec_refuses_a_config_exactly_where_transformers_refuses_it_or_its_forward_pass_fails(case):
    """Sliding layers need a window transformers' attention can use (2026-12-06 (c): a sliding layer with no
    window, or a window of 0 where the config has the field, was written and failed in transformers' forward pass);
    an integer initializer_range is refused by transformers' strict config where the config has the field; a
    review's: the flags' types, negative windows kept, patterns, Qwen3-VL's text (no window field), Gemma 3's
    image-text model (masks of its layer types only).  Qwen3-Next's layers; the Qwen mixtures' decoder_sparse_step,
    any integer, 0 where no layer may be sparse (it had been refused unless positive) (2026-12-06 (d))."""
    given = WINDOWS[case] if case in WINDOWS else LAYERS[case]
    cfg = given if "vision_config" in given else {**TINY, **given}
    try:  # (a deep copy: transformers fills in the nested dicts it is given, rope_parameters' among them)
        config = transformers.AutoConfig.for_model(cfg["model_type"], **{k: copy.deepcopy(v) for k, v in cfg.items()
                                                                       if k != "model_type"})
        auto = transformers.AutoModelForImageTextToText if "vision_config" in cfg else \
            transformers.AutoModelForCausalLM
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = auto.from_config(config)
            model(torch.tensor([list(range(12, 24))]))
        theirs = None
    except Exception as e:  # (their config's refusal, or a failure in the forward pass)
        theirs = e
    try:
        config_spec(cfg)
        ours = None
    except ValueError as e:
        ours = e
    assert (ours is None) == (theirs is None), (ours, theirs)
    if ours is not None:
        assert any(key in str(ours) for key in ("initializer_range", "sliding_window", "layer_types", "no_rope_layer",
                                                "attention_chunk_size", "head_dim", "num_attention_heads",
                                                "num_local_experts", "linear_", "full_attention",
                                                "decoder_sparse_step", "num_experts", "rotary",
                                                "rope_parameters", "moe_intermediate_size", "tie_word_embeddings",
                                                "projector_hidden_act")), ours
    elif case in LAYERS:  # (and what it accepts is the model transformers builds)
        assert parameter_count(config_spec(cfg)) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("case", ["llama-gqa-biases-pad", "qwen3-bias", "gemma3-text", "phi3", "gpt2-untied", "bert",
                                  "granite-biases", "smollm3", "seed-oss", "ernie4_5-bias", "olmo2-bias", "olmo3",
                                  "exaone4", "qwen3.5-text", "ministral3"])
def test_fastinit_init_config_files_load_with_from_pretrained_by_transformers_laws(case, tmp_path, capsys):
    with torch.device("meta"):
        empty, prefix = _from_config(case, tmp_path)
    assert main(["init", "--config", str(tmp_path), "--out", str(tmp_path / "model.safetensors"), "--seed", "4",
                 "--no-progress"]) == 0
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, info = type(empty).from_pretrained(tmp_path, output_loading_info=True)
    assert not any(info.values()), info
    out = model(torch.tensor([[1, 2, 3, 4]]))  # (a config config_spec accepts runs)
    assert torch.isfinite(out.logits if hasattr(out, "logits") else out.last_hidden_state).all()
    state, written = model.state_dict(), st_torch.load_file(tmp_path / "model.safetensors")
    for name, values in written.items():
        assert torch.equal(state[prefix + name], values), name
    torch.manual_seed(0)
    reference, _ = _from_config(case, tmp_path)  # on the CPU: initialized by transformers' own _init_weights
    theirs = reference.state_dict()
    _assert_same_laws(written, {name: theirs[prefix + name] for name in written})


def _assert_same_laws(ours, theirs):
    """The same law as transformers' init, tensor by tensor: constants equal, zero rows where its are, the std within
    5 standard errors of its (tensors of 64 values or more: routers and shared-expert gates included)."""
    for name, t in ours.items():
        ref = theirs[name]
        if ref.min() == ref.max():  # a constant: zero biases, norm scales (zero for Gemma's 1 + weight)
            assert torch.equal(t, ref), name
            continue
        zero_rows = (ref == 0).all(dim=-1)  # the pad_token_id row of the token embedding
        assert torch.equal((t == 0).all(dim=-1), zero_rows), name
        if t.numel() >= 64:  # (a ratio of two sample stds of n values: sd ~ 1/sqrt(n))
            assert abs(float(t[~zero_rows].std()) / float(ref[~zero_rows].std()) - 1) < 5 / math.sqrt(t.numel()), name


LLAMA4_VISION = {"hidden_size": 32, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 2,
                 "image_size": 56, "patch_size": 14, "vision_output_dim": 48, "projector_input_dim": 48,
                 "projector_output_dim": 48, "initializer_range": 0.05}  # (a 4 × 4 patch grid, shuffled to 2 × 2)
MOE = {  # mixtures of experts: transformers 5 fuses a layer's experts in its model, and saves them one tensor each
    "mixtral": ("MixtralConfig", {**TINY, "num_local_experts": 3, "initializer_range": 0.03}),
    "qwen2-moe": ("Qwen2MoeConfig", {**TINY, "num_experts": 3, "num_experts_per_tok": 2, "moe_intermediate_size": 48,
                                     "shared_expert_intermediate_size": 80, "mlp_only_layers": [1]}),
    "qwen3-moe": ("Qwen3MoeConfig", {**TINY, "num_experts": 3, "num_experts_per_tok": 2, "moe_intermediate_size": 48,
                                     "head_dim": 16, "attention_bias": True, "initializer_range": 0.01}),
    "deepseek-v3": ("DeepseekV3Config", {**TINY, "num_key_value_heads": 4, "num_hidden_layers": 3,
                                         "moe_intermediate_size": 32,
                                         "n_shared_experts": 2, "n_routed_experts": 3, "kv_lora_rank": 16,
                                         "q_lora_rank": 24, "qk_rope_head_dim": 8, "v_head_dim": 12,
                                         "qk_nope_head_dim": 16, "n_group": 1, "topk_group": 1,
                                         "num_experts_per_tok": 2, "first_k_dense_replace": 1,
                                         "attention_bias": True, "initializer_range": 0.03}),
    "deepseek-v3-q-proj": ("DeepseekV3Config", {**TINY, "num_key_value_heads": 4, "moe_intermediate_size": 32,
                                                "n_routed_experts": 3,
                                                "kv_lora_rank": 16, "q_lora_rank": None, "qk_rope_head_dim": 8,
                                                "v_head_dim": 12, "qk_nope_head_dim": 16, "n_group": 1,
                                                "topk_group": 1, "num_experts_per_tok": 2,
                                                "first_k_dense_replace": 0, "pad_token_id": 3}),
    "glm4-moe": ("Glm4MoeConfig", {**TINY, "num_hidden_layers": 3, "moe_intermediate_size": 32, "n_routed_experts": 4,
                                   "num_experts_per_tok": 2, "n_shared_experts": 2, "first_k_dense_replace": 1,
                                   "attention_bias": True, "use_qk_norm": True, "initializer_range": 0.03}),
    "gpt-oss": ("GptOssConfig", {**TINY, "head_dim": 16, "num_local_experts": 3, "num_experts_per_tok": 2,
                                 "initializer_range": 0.04}),  # (experts fused, as transformers saves them)
    # and Gemma 3's image-text model, saved under names other than its modules' too
    "gemma3": ("Gemma3Config", {"text_config": {**TINY, "head_dim": 16, "initializer_range": 0.03},
                                "vision_config": {"hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
                                                  "num_attention_heads": 4, "image_size": 64, "patch_size": 8},
                                "mm_tokens_per_image": 4}),
    "qwen2.5-vl": ("Qwen2_5_VLConfig", {
        "text_config": {**TINY, "initializer_range": 0.03, "rope_parameters": MROPE},
        "vision_config": {"depth": 2, "hidden_size": 32, "intermediate_size": 48, "num_heads": 4, "out_hidden_size": 64,
                          "fullatt_block_indexes": [1], "initializer_range": 0.05}}),
    "qwen2-vl-tied": ("Qwen2VLConfig", {
        "text_config": {**TINY, "rope_parameters": MROPE}, "tie_word_embeddings": True,
        "vision_config": {"depth": 1, "embed_dim": 32, "hidden_size": 64, "num_heads": 4, "mlp_ratio": 2,
                          "patch_size": 7, "in_channels": 1, "temporal_patch_size": 1, "initializer_range": 0.04}}),
    "qwen2.5-vl-tied-by-text": ("Qwen2_5_VLConfig", {  # (a transformers 4 save: tied in text_config; ranges of 0)
        "text_config": {**TINY, "rope_parameters": MROPE, "tie_word_embeddings": True, "initializer_range": 0.0},
        "vision_config": {"depth": 1, "hidden_size": 32, "intermediate_size": 48, "num_heads": 2, "out_hidden_size": 64,
                          "initializer_range": 0.0, "window_size": 56}}),
    "qwen2-vl-zero-range": ("Qwen2VLConfig", {  # (the LM head's std: the text's range as it is, 0)
        "text_config": {**TINY, "rope_parameters": MROPE, "initializer_range": 0.0},
        "vision_config": {"depth": 1, "embed_dim": 32, "hidden_size": 64, "num_heads": 2}}),
    "qwen3-vl": ("Qwen3VLConfig", {
        "text_config": {**TINY, "head_dim": 16, "attention_bias": True, "initializer_range": 0.03,
                        "rope_parameters": {"rope_type": "default", "mrope_section": [4, 2, 2]}},
        "vision_config": {"depth": 3, "hidden_size": 32, "intermediate_size": 48, "num_heads": 4, "out_hidden_size": 64,
                          "num_position_embeddings": 16, "deepstack_visual_indexes": [0, 2], "initializer_range": 0.05,
                          "patch_size": 8}}),
    "qwen3-vl-text-tie": ("Qwen3VLConfig", {  # (Qwen3-VL's config reads only its own tie flag; the LM head's std: the
        # top-level range)
        "text_config": {**TINY, "head_dim": 16, "tie_word_embeddings": True,
                        "rope_parameters": {"rope_type": "default", "mrope_section": [4, 2, 2]}},
        "vision_config": {"depth": 1, "hidden_size": 32, "intermediate_size": 48, "num_heads": 2, "out_hidden_size": 64,
                          "num_position_embeddings": 16, "deepstack_visual_indexes": [], "patch_size": 8},
        "initializer_range": 0.1}),
    "qwen3-vl-moe": ("Qwen3VLMoeConfig", {  # (its experts fused as published: transposed from transformers' save)
        "text_config": {**TINY, "head_dim": 16, "num_experts": 3, "num_experts_per_tok": 2, "moe_intermediate_size": 48,
                        "mlp_only_layers": [1], "initializer_range": 0.03,
                        "rope_parameters": {"rope_type": "default", "mrope_section": [4, 2, 2]}},
        "vision_config": {"depth": 2, "hidden_size": 32, "intermediate_size": 40, "num_heads": 2, "out_hidden_size": 64,
                          "num_position_embeddings": 16, "deepstack_visual_indexes": [0], "patch_size": 8}}),
    "qwen3-vl-moe-top-range": ("Qwen3VLMoeConfig", {  # (a top-level initializer_range: the LM head's; the other
        # name of the experts' count, null head_dim derived)
        "text_config": {**TINY, "head_dim": None, "num_local_experts": 2, "num_experts_per_tok": 1,
                        "moe_intermediate_size": 24, "decoder_sparse_step": 2,
                        "rope_parameters": {"rope_type": "default", "mrope_section": [4, 2, 2]}},
        "vision_config": {"depth": 1, "hidden_size": 32, "intermediate_size": 40, "num_heads": 2, "out_hidden_size": 64,
                          "num_position_embeddings": 16, "deepstack_visual_indexes": [], "patch_size": 8,
                          "initializer_range": 0.05},
        "initializer_range": 0.1}),
    "llama4-text": ("Llama4TextConfig", {**TINY, "head_dim": 16, "intermediate_size_mlp": 80, "num_local_experts": 3,
                                         "interleave_moe_layer_step": 2, "attention_bias": True, "pad_token_id": 5,
                                         "initializer_range": 0.03}),
    "llama4": ("Llama4Config", {  # (sparse layers by moe_layers; the projector's std: the top-level range)
        "text_config": {**TINY, "head_dim": 16, "intermediate_size_mlp": 80, "num_local_experts": 2, "moe_layers": [0],
                        "initializer_range": 0.03},
        "vision_config": LLAMA4_VISION, "initializer_range": 0.1, "image_token_index": 7}),
    "llama4-zero-text-range": ("Llama4Config", {  # (the projector's std: the text's as it is, 0: zeros)
        "text_config": {**TINY, "head_dim": 16, "num_local_experts": 2, "initializer_range": 0.0},
        "vision_config": LLAMA4_VISION}),
    "llama4-tied-by-text": ("Llama4Config", {  # (tied by the text's flag; the top level's is ignored)
        "text_config": {**TINY, "head_dim": 16, "num_local_experts": 2, "tie_word_embeddings": True},
        "vision_config": {**LLAMA4_VISION, "initializer_range": 0.0}, "tie_word_embeddings": False}),
    "qwen3-next": ("Qwen3NextConfig", {  # (Gated DeltaNet layers, a gated-attention one every 4th; Qwen2-MoE's MLP)
        **TINY, "num_hidden_layers": 4, "head_dim": 16, "linear_key_head_dim": 8, "linear_value_head_dim": 12,
        "linear_num_key_heads": 2, "linear_num_value_heads": 4, "linear_conv_kernel_dim": 3, "num_experts": 3,
        "num_experts_per_tok": 2, "moe_intermediate_size": 48, "shared_expert_intermediate_size": 40,
        "mlp_only_layers": [1], "attention_bias": True, "pad_token_id": 3, "initializer_range": 0.03}),
    "qwen3-next-types-tied": ("Qwen3NextConfig", {  # (layer_types given; a sparse layer every 2nd)
        **TINY, "head_dim": 16, "linear_key_head_dim": 16, "linear_value_head_dim": 16, "linear_num_key_heads": 2,
        "linear_num_value_heads": 2, "num_experts": 2, "num_experts_per_tok": 1, "moe_intermediate_size": 32,
        "shared_expert_intermediate_size": 32, "decoder_sparse_step": 2, "tie_word_embeddings": True,
        "layer_types": ["full_attention", "linear_attention"], "initializer_range": 0.0}),
    "qwen3.5-moe-text": ("Qwen3_5MoeTextConfig", {**QWEN3_5_TEXT, **QWEN3_5_MOE, "initializer_range": 0.02,
                                                  "full_attention_interval": 2, "tie_word_embeddings": True}),
    "qwen3.5-image-text": ("Qwen3_5Config", {  # (the LM head's std: the top-level range; the vision's own)
        "text_config": {**QWEN3_5_TEXT, "initializer_range": 0.03}, "initializer_range": 0.1,
        "vision_config": {**QWEN3_5_VISION, "initializer_range": 0.05}}),
    "qwen3.5-moe-image-text-tied": ("Qwen3_5MoeConfig", {  # (tied by the top-level flag; the text's range for all)
        "text_config": {**QWEN3_5_TEXT, **QWEN3_5_MOE, "initializer_range": 0.04,
                        "layer_types": ["linear_attention", "full_attention"] * 2},
        "vision_config": QWEN3_5_VISION, "tie_word_embeddings": True}),
    "mistral3": ("Mistral3Config", {"text_config": MISTRAL3_TEXT, "vision_config": PIXTRAL}),  # (tied by default)
    "mistral3-untied-biases-ranges": ("Mistral3Config", {  # (the LM head's and projector's std: the top-level range)
        "text_config": {**MISTRAL3_TEXT, "initializer_range": 0.03}, "tie_word_embeddings": False,
        "vision_config": {**PIXTRAL, "initializer_range": 0.05, "num_channels": 1}, "initializer_range": 0.1,
        "multimodal_projector_bias": True, "spatial_merge_size": 1, "vision_feature_layer": [-2]}),
    "mistral3-ministral3-text": ("Mistral3Config", {  # (Ministral 3's: its decoder, a pad row)
        "text_config": {**MISTRAL3_TEXT, "model_type": "ministral3", "pad_token_id": 5}, "vision_config": PIXTRAL}),
    "mistral3-llama-text-init-std": ("Mistral3Config", {  # (a Llama decoder; the top-level init_std: the head's std)
        "text_config": {**MISTRAL3_TEXT, "model_type": "llama"}, "vision_config": PIXTRAL, "tie_word_embeddings": False,
        "init_std": 0.3}),
    "gemma3-untied-headless": ("Gemma3Config", {
        "text_config": {**TINY, "num_hidden_layers": 1, "head_dim": 16, "pad_token_id": 5},
        "vision_config": {"hidden_size": 48, "intermediate_size": 40, "num_hidden_layers": 1, "num_attention_heads": 2,
                          "image_size": 28, "patch_size": 14, "num_channels": 1, "vision_use_head": False},
        "mm_tokens_per_image": 4, "tie_word_embeddings": False, "initializer_range": 0.05}),
}


def _saved(model, folder):
    """The tensors ``save_pretrained`` writes of ``model`` (the checkpoint's names: experts one tensor each), in the
    published checkpoints' layout: Qwen3-VL-MoE's fused experts, which transformers 5 saves transposed (its modules'
    layout; it loads either), transposed back."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save_pretrained(folder)
    saved = st_torch.load_file(folder / "model.safetensors")
    if model.config.model_type != "qwen3_vl_moe":
        return saved
    return {name: t.transpose(1, 2).contiguous() if name.endswith(("experts.gate_up_proj", "experts.down_proj"))
            else t for name, t in saved.items()}


@pytest.mark.parametrize("case", MOE)
def test_config_spec_of_a_mixture_of_experts_is_the_checkpoint_transformers_saves(case, tmp_path):
    torch.manual_seed(0)
    model = _from_config(case, tmp_path)[0]
    theirs = _saved(model, tmp_path / "theirs")
    spec = config_spec(tmp_path)
    assert {name: tuple(t.shape) for name, t in theirs.items()} == {name: t.shape for name, t in spec.items()}
    assert parameter_count(spec) == sum(p.numel() for p in model.parameters())
    assert case.startswith(("gemma3", "qwen2", "qwen3-vl", "qwen3.5-image", "mistral3")) or any(
        ".experts." in n for n in spec)
    _assert_same_laws(st_torch.load_file(_write(tmp_path)), theirs)  # experts: initializer_range as it is


QWEN_VL = {  # published config.json files (Qwen2(.5)-VL's flat: the text's keys at the top level; Qwen2.5-VL-7B-
    # Instruct's as published, Qwen2-VL-7B-Instruct's and Qwen3-VL-8B-Instruct's sizes)
    "qwen2.5-vl-7b": {
        "model_type": "qwen2_5_vl", "hidden_size": 3584, "intermediate_size": 18944, "num_attention_heads": 28,
        "num_hidden_layers": 28, "num_key_value_heads": 4, "vocab_size": 152064, "tie_word_embeddings": False,
        "initializer_range": 0.02, "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
        "image_token_id": 151655, "torch_dtype": "bfloat16",
        "vision_config": {"depth": 32, "hidden_act": "silu", "hidden_size": 1280, "intermediate_size": 3420,
                          "num_heads": 16, "in_chans": 3, "out_hidden_size": 3584, "patch_size": 14,
                          "spatial_merge_size": 2, "spatial_patch_size": 14, "window_size": 112,
                          "fullatt_block_indexes": [7, 15, 23, 31], "tokens_per_second": 2, "temporal_patch_size": 2}},
    "qwen2-vl-7b": {
        "model_type": "qwen2_vl", "hidden_size": 3584, "intermediate_size": 18944, "num_attention_heads": 28,
        "num_hidden_layers": 28, "num_key_value_heads": 4, "vocab_size": 152064, "tie_word_embeddings": False,
        "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
        "vision_config": {"depth": 32, "embed_dim": 1280, "mlp_ratio": 4, "num_heads": 16, "hidden_size": 3584,
                          "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2}},
    "qwen3-vl-30b-a3b": {  # (Qwen3-VL-30B-A3B-Instruct's sizes: 128 experts, 8 per token)
        "model_type": "qwen3_vl_moe", "tie_word_embeddings": False,
        "text_config": {"hidden_size": 2048, "intermediate_size": 6144, "moe_intermediate_size": 768,
                        "num_hidden_layers": 48, "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128,
                        "num_experts": 128, "num_experts_per_tok": 8, "decoder_sparse_step": 1, "mlp_only_layers": [],
                        "vocab_size": 151936, "rope_scaling": {"rope_type": "default", "mrope_section": [24, 20, 20],
                                                               "mrope_interleaved": True}},
        "vision_config": {"depth": 27, "hidden_size": 1152, "intermediate_size": 4304, "num_heads": 16,
                          "out_hidden_size": 2048, "patch_size": 16, "num_position_embeddings": 2304,
                          "deepstack_visual_indexes": [8, 16, 24]}},
    "qwen3-vl-8b": {  # (nested, as Qwen3-VL's are published)
        "model_type": "qwen3_vl", "tie_word_embeddings": False,
        "text_config": {"hidden_size": 4096, "intermediate_size": 12288, "num_hidden_layers": 36,
                        "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 151936,
                        "rope_parameters": {"rope_type": "default", "mrope_section": [24, 20, 20],
                                            "mrope_interleaved": True}},
        "vision_config": {"depth": 27, "hidden_size": 1152, "intermediate_size": 4304, "num_heads": 16,
                          "out_hidden_size": 4096, "patch_size": 16, "num_position_embeddings": 2304,
                          "deepstack_visual_indexes": [8, 16, 24]}},
}


LLAMA4 = {  # Llama-4-Scout-17B-16E's published config (Maverick: 128 experts, every other layer sparse)
    "model_type": "llama4", "tie_word_embeddings": False,
    "text_config": {"hidden_size": 5120, "intermediate_size": 8192, "intermediate_size_mlp": 16384,
                    "num_hidden_layers": 48, "num_attention_heads": 40, "num_key_value_heads": 8, "head_dim": 128,
                    "vocab_size": 202048, "num_local_experts": 16, "num_experts_per_tok": 1,
                    "interleave_moe_layer_step": 1, "attention_bias": False, "pad_token_id": 200018,
                    "rope_scaling": {"factor": 16.0, "high_freq_factor": 1.0, "low_freq_factor": 1.0,
                                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
                    "no_rope_layers": [], "attention_chunk_size": 8192},
    "vision_config": {"hidden_size": 1408, "intermediate_size": 5632, "num_hidden_layers": 34,
                      "num_attention_heads": 16, "image_size": 336, "patch_size": 14, "vision_output_dim": 4096,
                      "projector_input_dim": 4096, "projector_output_dim": 4096, "pixel_shuffle_ratio": 0.5}}


@pytest.mark.parametrize("case, count", [("scout", 108_641_793_536), ("maverick", 401_583_781_376)])
def test_config_spec_of_published_llama4_configs_counts_as_transformers(case, count):
    cfg = LLAMA4 if case == "scout" else {**LLAMA4, "text_config": {
        **LLAMA4["text_config"], "num_local_experts": 128, "interleave_moe_layer_step": 2}}
    config = transformers.AutoConfig.for_model("llama4", **{k: v for k, v in cfg.items() if k != "model_type"})
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.AutoModelForImageTextToText.from_config(config)
    spec = config_spec(cfg)
    assert {n: t.shape for n, t in spec.items()} == {n: tuple(t.shape) for n, t in model.state_dict().items()}
    assert parameter_count(spec) == sum(p.numel() for p in model.parameters()) == count


QWEN3_NEXT_80B = {  # Qwen3-Next-80B-A3B's published config.json (its multi-token-prediction layer, which
    # transformers does not build, aside)
    "model_type": "qwen3_next", "attention_bias": False, "decoder_sparse_step": 1, "full_attention_interval": 4,
    "head_dim": 256, "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 5120,
    "linear_conv_kernel_dim": 4, "linear_key_head_dim": 128, "linear_num_key_heads": 16, "linear_num_value_heads": 32,
    "linear_value_head_dim": 128, "mlp_only_layers": [], "moe_intermediate_size": 512, "num_attention_heads": 16,
    "num_experts": 512, "num_experts_per_tok": 10, "num_hidden_layers": 48, "num_key_value_heads": 2,
    "partial_rotary_factor": 0.25, "rope_scaling": None, "rope_theta": 10000000, "shared_expert_intermediate_size": 512,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16", "use_sliding_window": False, "vocab_size": 151936}


def test_config_spec_of_qwen3_next_80b_counts_as_transformers_and_draws_its_decay_as_it_does():
    config = transformers.AutoConfig.for_model("qwen3_next", **{k: v for k, v in QWEN3_NEXT_80B.items()
                                                                if k != "model_type"})
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.AutoModelForCausalLM.from_config(config)
    spec = config_spec(QWEN3_NEXT_80B)  # (the experts one tensor each, as saved; fused in transformers' modules)
    assert {n: t.shape for n, t in spec.items() if ".experts." not in n} == \
        {n: tuple(t.shape) for n, t in model.state_dict().items() if ".experts." not in n}
    assert parameter_count(spec) == sum(p.numel() for p in model.parameters()) == 79_674_391_296
    a_log = spec["model.layers.0.linear_attn.A_log"]  # (HF: uniform_(0.01, 16).log_(), per value head)
    assert a_log.init is log_uniform_ and a_log.params == {"a": 0.01, "b": 16.0} and a_log.shape == (32,)
    assert spec["model.layers.0.linear_attn.dt_bias"].init == "ones_"
    assert spec["model.layers.3.self_attn.q_norm.weight"].init == "zeros_"  # (1 + weight)


@pytest.mark.parametrize("vision", [
    {}, {"num_attention_heads": 8}, {"pixel_shuffle_ratio": 0.25, "intermediate_size": 512}, {"image_size": 60},
    {"num_attention_heads": 16},  # (heads 2 wide: its 2-D rotary embedding fails)
    {"hidden_size": 40, "num_attention_heads": 4, "intermediate_size": 160},  # (heads 10 wide)
    {"intermediate_size": 64},  # (not hidden_size / ratio²: the adapter's input)
    {"image_size": 70}, {"image_size": 14}, {"pixel_shuffle_ratio": 0.75},  # (grids the shuffle does not divide)
    {"projector_input_dim": 40}, {"vision_output_dim": 40},
    {"hidden_size": 34, "num_attention_heads": 4, "intermediate_size": 136},  # (heads 8 wide: 32 of 34, as it builds)
    {"pixel_shuffle_ratio": 2.0, "intermediate_size": 8}, {"multi_modal_projector_bias": None}])
def test_llama4_vision_refusals_are_where_transformers_image_forward_pass_fails(vision):
    """config_spec refuses a Llama 4 vision config exactly where transformers' model fails on an image (2026-12-06
    (c)), and a file it writes for one it accepts runs an image through transformers' model."""
    text = {**TINY, "head_dim": 16, "num_local_experts": 2}
    v = {**LLAMA4_VISION, **vision}
    try:
        config_spec({"model_type": "llama4", "text_config": text, "vision_config": v})
        ours = None
    except ValueError as e:
        ours = e
    grid = v["image_size"] // v["patch_size"] * v.get("pixel_shuffle_ratio", 0.5)  # (the image's tokens: grid²)
    ids = torch.tensor([[1] + [7] * int(grid * grid) + [2]])
    try:  # (their config's refusal, or a failure on the image)
        config = transformers.Llama4Config(text_config=text, vision_config=v, image_token_index=7)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = transformers.AutoModelForImageTextToText.from_config(config)
        logits = model(input_ids=ids, pixel_values=torch.randn(1, 3, v["image_size"], v["image_size"])).logits
        theirs = None if torch.isfinite(logits).all() else "not finite"
    except Exception as e:
        theirs = e
    assert (ours is None) == (theirs is None), (ours, theirs)
    if ours is None:  # (the names and shapes of the model it builds)
        spec = config_spec({"model_type": "llama4", "text_config": text, "vision_config": v})
        assert {n: t.shape for n, t in spec.items()} == {n: tuple(t.shape) for n, t in model.state_dict().items()}


@pytest.mark.parametrize("case, count", [("qwen2.5-vl-7b", 8_292_166_656), ("qwen2-vl-7b", 8_291_375_616),
                                         ("qwen3-vl-8b", 8_767_123_696), ("qwen3-vl-30b-a3b", 31_070_754_032)])
def test_config_spec_of_a_published_qwen_vl_config_counts_as_transformers(case, count):
    cfg = QWEN_VL[case]
    config = transformers.AutoConfig.for_model(cfg["model_type"], **{k: v for k, v in cfg.items() if k != "model_type"})
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.AutoModelForImageTextToText.from_config(config)
    assert parameter_count(config_spec(cfg)) == sum(p.numel() for p in model.parameters()) == count


def test_a_flat_qwen_vl_config_is_its_text_config(tmp_path, capsys):
    """The published Qwen-VL config.json files give the text's keys at the top level (transformers 5 moves them into
    text_config, and saves them there): the same model, and transformers loads the file written beside it."""
    cls, kwargs = MOE["qwen2.5-vl"]
    flat = {"model_type": "qwen2_5_vl", **kwargs["text_config"], "vision_config": kwargs["vision_config"]}
    assert config_spec(flat) == config_spec({"model_type": "qwen2_5_vl", **kwargs})
    (tmp_path / "config.json").write_text(json.dumps(flat))
    written = st_torch.load_file(_write(tmp_path))
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, info = transformers.Qwen2_5_VLForConditionalGeneration.from_pretrained(tmp_path,
                                                                                      output_loading_info=True)
    assert not any(info.values()), info
    back = _saved(model, tmp_path / "back")
    assert back.keys() == written.keys() and all(torch.equal(back[n], t) for n, t in written.items())


def _write(folder, *flags):
    """``fastinit init --config folder`` into ``folder/model.safetensors``."""
    assert main(["init", "--config", str(folder), "--out", str(folder / "model.safetensors"), "--seed", "6",
                 "--no-progress", *flags]) == 0
    return folder / "model.safetensors"


@pytest.mark.parametrize("case, dtype, kept", [("deepseek-v3", "bfloat16", ("gate.weight", "correction_bias")),
                                               ("glm4-moe", "bfloat16", ("gate.weight", "correction_bias")),
                                               ("gpt-oss", "float16", ()),
                                               ("gpt-oss", "bfloat16", ())])
def test_fastinit_init_keeps_float32_what_transformers_keeps_float32(case, dtype, kept, tmp_path, capsys):
    """transformers keeps DeepSeek-V3's router weights and correction biases float32 in a model of any dtype
    (_keep_in_fp32_modules_strict): `fastinit init` of a config of that dtype writes them so, as save_pretrained
    does, and counts the parameters whatever their dtype (DeepSeek's correction bias, a buffer, not among them);
    GPT-OSS's norms (_keep_in_fp32_modules: upcast on load) in the model's dtype, as save_pretrained writes them."""
    empty = _from_config(case, tmp_path)[0]
    cfg = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**cfg, "dtype": dtype}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.AutoModelForCausalLM.from_config(empty.config, dtype=getattr(torch, dtype))
    theirs = _saved(model, tmp_path / "theirs")
    written = st_torch.load_file(_write(tmp_path))
    assert {n: t.dtype for n, t in written.items()} == {n: t.dtype for n, t in theirs.items()}
    float32 = {n for n, t in written.items() if t.dtype == torch.float32}
    assert float32 == {n for n in written if n.endswith(kept)} and (float32 or not kept)
    assert f"{sum(p.numel() for p in model.parameters()):,} parameters" in capsys.readouterr().out
    _assert_same_laws({n: t.float() for n, t in written.items()}, {n: t.float() for n, t in theirs.items()})


@pytest.mark.parametrize("case", MOE)
def test_fastinit_init_moe_files_load_with_from_pretrained_and_save_back_unchanged(case, tmp_path, capsys):
    empty = _from_config(case, tmp_path)[0]
    if case == "mixtral":  # a checkpoint of several files and their index, as save_pretrained(max_shard_size=)
        _write(tmp_path, "--max-file-size", "200KB")
        index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
        files = sorted(set(index["weight_map"].values()))
        assert len(files) > 3 and not (tmp_path / "model.safetensors").exists()
        written = {name: t for file in files for name, t in st_torch.load_file(tmp_path / file).items()}
        assert f"-> {len(files)} files, {tmp_path / 'model.safetensors.index.json'}" in capsys.readouterr().out
    else:
        written = st_torch.load_file(_write(tmp_path))
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, info = type(empty).from_pretrained(tmp_path, output_loading_info=True)
    assert not any(info.values()), info  # missing, unexpected or mismatched keys, errors
    assert torch.isfinite(model(torch.tensor([[1, 2, 3, 4]])).logits).all()  # (a config config_spec accepts runs)
    back = _saved(model, tmp_path / "back")  # (the experts fused on load, split on save)
    assert back.keys() == written.keys()
    for name, values in written.items():
        assert torch.equal(back[name], values), name


def test_a_written_mistral3_file_loads_and_runs_an_image(tmp_path, capsys):
    """Mistral 3's image-text model (Pixtral vision, projector, Mistral decoder) from `fastinit init --config`: loaded
    with no missing key, an image and its tokens through it; the refusals are where such an image's forward pass
    fails (tests/test_cli.py)."""
    model = _from_config("mistral3-untied-biases-ranges", tmp_path)[0]
    _write(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded, info = type(model).from_pretrained(tmp_path, output_loading_info=True)
    assert not any(info.values()), info
    config = loaded.config
    tokens = (64 // 8 // config.spatial_merge_size) ** 2
    ids = torch.tensor([[1] + [config.image_token_index] * tokens + [2, 3]])
    out = loaded(input_ids=ids, pixel_values=torch.randn(1, 1, 64, 64), image_sizes=torch.tensor([[64, 64]]))
    assert torch.isfinite(out.logits).all()


def _tiny(kind: str):
    """A small transformers model of ``kind`` and its config (random weights: built on the current device)."""
    if kind == "llama":
        return transformers.LlamaForCausalLM(transformers.LlamaConfig(
            num_hidden_layers=2, hidden_size=64, intermediate_size=128, vocab_size=300, num_attention_heads=4,
            num_key_value_heads=2))
    if kind == "gemma":
        return transformers.GemmaForCausalLM(transformers.GemmaConfig(
            num_hidden_layers=2, hidden_size=64, intermediate_size=128, vocab_size=300, num_attention_heads=4,
            num_key_value_heads=2, head_dim=16))
    if kind == "bert":
        return transformers.BertModel(transformers.BertConfig(
            num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=128, vocab_size=300))
    return transformers.ViTModel(transformers.ViTConfig(
        num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=128, image_size=32,
        patch_size=8))


hf5 = pytest.mark.skipif(int(transformers.__version__.split(".")[0]) < 5,
                         reason="transformers 4's _init_weights computes no buffer")


@hf5
def test_materialize_draws_what_hf_draws_whole_with_normal_by_fastinits_kernels_by_name():
    """Mixtral's experts and router, parameters of transformers' own modules, are drawn by its _init_weights with
    init.normal_(0, initializer_range): materialize draws them with fastinit's normal_ by (seed, name), as the rules'
    tensors, where it ran HF's init with torch's generator (and refused a placement of them).  A shard of the
    experts (placement=) holds exactly its slice of the whole."""
    import fastinit.torch as ft
    from fastinit.torch import materialize

    def mixtral(experts):
        config = transformers.MixtralConfig(**{**TINY, "num_hidden_layers": 1}, num_local_experts=experts,
                                            initializer_range=0.05)
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return transformers.AutoModelForCausalLM.from_config(config)

    model = mixtral(4)
    summary = materialize(model, seed=3, scheme="llama")
    moe = "model.layers.0.mlp."
    for name in (moe + "experts.gate_up_proj", moe + "experts.down_proj", moe + "gate.weight"):
        t = model.get_parameter(name)
        assert torch.equal(t, ft.normal_(torch.empty(t.shape), 0.0, 0.05, seed=3, stream=name)), name
        assert summary[name].method == "normal(0, 0.05) (MixtralModel._init_weights' law)"
    assert set(summary.fallbacks) == {"model.rotary_emb"}  # (its inv_freq: computed by HF's init, as before)
    local = mixtral(2)  # experts 2 and 3 of 4
    whole = model.get_parameter(moe + "experts.gate_up_proj")
    materialize(local, seed=3, scheme="llama",
                placement={moe + "experts.gate_up_proj": (tuple(whole.shape), (2, 0, 0))})
    assert torch.equal(local.get_parameter(moe + "experts.gate_up_proj"), whole[2:])


@hf5
def test_the_hf_scheme_is_each_tensors_law_in_the_models_own_init():
    """scheme="hf": every tensor by the law the model's own _init_weights gives it — fastinit's normal or constant
    where that is a whole-tensor normal_ / zeros_ / ones_, HF's init otherwise.  It is the "llama" and "gpt2" schemes
    bit for bit where those are HF's convention, and T5's per-module stds (d_model**-0.5, (d_model d_kv)**-0.5, ...),
    which no convention has, come out as T5 draws them; Gemma's zero RMSNorm scales and pad row as Gemma's."""
    from fastinit.torch import materialize

    def build(make, config):
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return make(config)

    llama = transformers.LlamaConfig(num_hidden_layers=2, hidden_size=64, intermediate_size=128, vocab_size=300,
                                     num_attention_heads=4, num_key_value_heads=2, initializer_range=0.04)
    gpt2 = transformers.GPT2Config(n_layer=4, n_embd=64, n_head=4, vocab_size=300, n_positions=64)
    for make, config, other in ((transformers.LlamaForCausalLM, llama, "llama"),
                                (transformers.GPT2LMHeadModel, gpt2, "gpt2")):
        ours, theirs = build(make, config), build(make, config)
        summary = materialize(ours, seed=3, scheme="hf")
        materialize(theirs, seed=3, scheme=other)
        assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()))
        assert sum("_init_weights()" not in r.method for r in summary) > 0.8 * len(summary)  # (fastinit's)
    t5 = transformers.T5Config(d_model=64, d_kv=16, d_ff=128, num_layers=2, num_heads=4, vocab_size=300)
    gemma = transformers.GemmaConfig(num_hidden_layers=2, hidden_size=64, intermediate_size=128, vocab_size=300,
                                     num_attention_heads=4, num_key_value_heads=2, head_dim=16)
    for make, config in ((transformers.T5ForConditionalGeneration, t5), (transformers.GemmaForCausalLM, gemma)):
        model = build(make, config)
        summary = materialize(model, seed=3, scheme="hf")
        torch.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = make(config).state_dict()  # on the CPU: transformers' own init
        _assert_same_laws(model.state_dict(), reference)
    assert summary["model.layers.0.input_layernorm.weight"].method == "zeros"  # (Gemma scales by 1 + weight)
    assert summary["model.embed_tokens.weight"].method == \
        "normal(0, 0.02), padding row 0 (GemmaModel._init_weights' law)"  # (normal_, then its pad row zeroed)
    # a review: XLM-R's LM head (the tie target, registered before the encoder) had its embedding's law, no pad
    # row; RWKV's wide orthogonal_ failed in the dry run (its t_() of a temporary skipped) and was refused
    xlmr = transformers.XLMRobertaConfig(num_hidden_layers=1, hidden_size=32, num_attention_heads=4,
                                         intermediate_size=64, vocab_size=100, max_position_embeddings=40)
    rwkv = transformers.RwkvConfig(hidden_size=32, num_hidden_layers=2, intermediate_size=64, vocab_size=100,
                                   attention_hidden_size=32, context_length=16)
    openai = transformers.OpenAIGPTConfig(n_layer=1, n_embd=32, n_head=4, vocab_size=100, n_positions=16)  # (its
    # Conv1Ds, which HF's init does not write: their constructor's law, as in a CPU build)
    for make, config in ((transformers.XLMRobertaForMaskedLM, xlmr), (transformers.RwkvForCausalLM, rwkv),
                         (transformers.OpenAIGPTLMHeadModel, openai)):
        model = build(make, config)
        materialize(model, seed=3, scheme="hf")
        torch.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = make(config).state_dict()
        _assert_same_laws(model.state_dict(), reference)
    with pytest.raises(ValueError, match="scheme 'hf' takes the laws of a Hugging Face model's own _init_weights"):
        materialize(torch.nn.Linear(4, 4, device="meta"), seed=0, scheme="hf")


@hf5
def test_what_hfs_init_leaves_in_a_module_it_writes_keeps_its_constructors_law_under_hf():
    """A review: a module whose HF init copies its weight in and never writes its bias left the bias as allocated
    (garbage, labelled as kept); under "hf" it takes its constructor's law now.  And "default" under "hf", where the
    law is HF's (found after the overrides), was refused (rather than given the constructor's rule): it exempts the
    tensor now, which gets what it gets with no override, HF's values."""
    from transformers import PretrainedConfig, PreTrainedModel
    from transformers import initialization as init

    from fastinit.torch import materialize

    class Computed(PreTrainedModel):
        config_class = PretrainedConfig

        def __init__(self, config):
            super().__init__(config)
            self.lin = torch.nn.Linear(4, 6)
            self.post_init()

        def _init_weights(self, module):
            if isinstance(module, torch.nn.Linear):
                init.copy_(module.weight, torch.arange(24.0).reshape(6, 4))

    def build():
        with torch.device("meta"):
            return Computed(PretrainedConfig())

    model = build()
    summary = materialize(model, seed=1, scheme="hf")
    assert torch.equal(model.lin.weight, torch.arange(24.0).reshape(6, 4))
    assert summary["lin.bias"].method == "uniform(±1/√fan_in)" and model.lin.bias.abs().max() <= 0.5
    again = build()
    summary = materialize(again, seed=1, scheme="hf", overrides={"lin.weight": "default", "lin.*": "zeros"})
    assert torch.equal(again.lin.weight, model.lin.weight)
    assert summary["lin.weight"].method == "Computed._init_weights()"
    assert not again.lin.bias.any()


@hf5
def test_default_exempts_a_tensor_whose_law_is_not_a_rule_from_a_broader_override():
    """overrides "default" is for exempting a tensor from a broader pattern; on a tensor with no scheme rule —
    Mixtral's experts (HF's law), a module with its own reset_parameters() — it raised "the scheme has no rule".
    It leaves the tensor as with no override now: the experts HF's law, drawn by fastinit; the module its own
    reset_parameters()."""
    import fastinit.torch as ft

    config = transformers.MixtralConfig(**{**TINY, "num_hidden_layers": 1}, num_local_experts=2,
                                        initializer_range=0.05)
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.AutoModelForCausalLM.from_config(config)
    summary = ft.materialize(model, seed=3, scheme="llama", overrides={"*experts*": "default", "*": "zeros"})
    name = "model.layers.0.mlp.experts.down_proj"
    t = model.get_parameter(name)
    assert summary[name].method == "normal(0, 0.05) (MixtralModel._init_weights' law)"
    assert torch.equal(t, ft.normal_(torch.empty(t.shape), 0.0, 0.05, seed=3, stream=name))
    assert not model.model.layers[0].mlp.gate.weight.any() and not model.lm_head.weight.any()

    class Scaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.empty(3, 4))
            self.reset_parameters()

        def reset_parameters(self):
            torch.nn.init.constant_(self.w, 0.5)

    with torch.device("meta"):
        net = torch.nn.Sequential(Scaled(), torch.nn.Linear(4, 2))
    summary = ft.materialize(net, seed=0, overrides={"0.w": "default", "*": "ones"})
    assert torch.equal(net[0].w, torch.full((3, 4), 0.5)) and summary["0.w"].method == "Scaled.reset_parameters()"
    assert (net[1].weight == 1).all()


@hf5
def test_hfs_normal_law_is_the_whole_tensors_and_its_last_write():
    """A review of the law above: a std HF reads off the tensor's shape gave a shard its own law (a wrong slice
    where placement had been refused); a later `.data =` write (unseen by the dry run) was dropped; a complex
    tensor, which fastinit does not fill, was refused.  Each is the whole tensor's law, or HF's fallback, now."""
    from transformers import PretrainedConfig, PreTrainedModel
    from transformers import initialization as init

    import fastinit.torch as ft

    class Experts(torch.nn.Module):
        def __init__(self, cols, dtype):
            super().__init__()
            self.w = torch.nn.Parameter(torch.empty(4, cols, dtype=dtype))

    class Toy(PreTrainedModel):
        config_class = PretrainedConfig

        def __init__(self, config, cols=64, dtype=torch.float32, mode="shape"):
            super().__init__(config)
            self.experts, self.mode = Experts(cols, dtype), mode
            self.post_init()

        def _init_weights(self, module):
            if isinstance(module, Experts):
                init.normal_(module.w, mean=0.0, std=module.w.shape[-1] ** -0.5 if self.mode == "shape" else 1.0)
                if self.mode == "data":
                    module.w.data = module.w.data * 0.5

    def toy(**kw):
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Toy(PretrainedConfig(), **kw)

    whole, part = toy(), toy(cols=16)
    assert ft.materialize(whole, seed=1)["experts.w"].method == "normal(0, 0.125) (Toy._init_weights' law)"
    summary = ft.materialize(part, seed=1, placement={"experts.w": ((4, 64), (0, 16))})
    assert summary["experts.w"].method == "normal(0, 0.125) (Toy._init_weights' law)"
    assert torch.equal(part.experts.w, whole.experts.w[:, 16:32])
    for model in (toy(mode="data"), toy(dtype=torch.complex64, mode="plain")):
        summary = ft.materialize(model, seed=1)
        assert summary["experts.w"].method == "Toy._init_weights()" and "experts" in summary.fallbacks
    assert abs(float(model.experts.w.detach().abs().pow(2).mean()) - 1) < 0.3  # (complex: HF's N(0, 1))


@hf5
def test_hfs_samplers_laws_are_drawn_by_fastinits_kernels_with_their_arguments():
    """What HF's init draws whole with torch.nn.init's other samplers — ViT's cls_token and position_embeddings
    (trunc_normal_, which takes no torch-function dispatch: a rejection loop of tensor methods), ResNet's convolutions
    (kaiming_normal_ fan_out / relu), SigLIP's lecun_normal_ (a trunc_normal_ with the fan's std) and xavier_uniform_
    — went to HF's fallback with torch's generator; fastinit's initializer of that name draws them now, with the
    same arguments, by (seed, name)."""
    import fastinit.torch as ft
    from fastinit.torch import materialize

    def meta(build):
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return build()

    vit = meta(lambda: _tiny("vit"))
    summary = materialize(vit, seed=2, scheme="llama")
    assert not summary.fallbacks
    for name in ("embeddings.cls_token", "embeddings.position_embeddings"):
        t = vit.get_parameter(name)
        assert summary[name].method == "trunc_normal(mean=0, std=0.02, a=-2, b=2) (ViTModel._init_weights' law)"
        assert torch.equal(t, ft.trunc_normal_(torch.empty(t.shape), 0.0, 0.02, -2.0, 2.0, seed=2, stream=name))
    resnet = meta(lambda: transformers.ResNetModel(transformers.ResNetConfig(
        embedding_size=16, hidden_sizes=[16, 32], depths=[1, 1])))
    summary = materialize(resnet, seed=2, scheme="hf")
    convs = [n for n, m in resnet.named_modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 8
    for name in (c + ".weight" for c in convs):
        t = resnet.get_parameter(name)
        assert torch.equal(t, ft.kaiming_normal_(torch.empty(t.shape), mode="fan_out", nonlinearity="relu", seed=2,
                                                 stream=name)), name
        assert summary[name].method.startswith("kaiming_normal(a=0, mode=fan_out, nonlinearity=relu) (ResNetModel")
    siglip = meta(lambda: transformers.SiglipVisionModel(transformers.SiglipVisionConfig(
        num_hidden_layers=1, hidden_size=64, num_attention_heads=4, intermediate_size=128, image_size=32,
        patch_size=8)))
    summary = materialize(siglip, seed=2, scheme="hf")
    name = "embeddings.patch_embedding.weight"
    t = siglip.get_parameter(name)
    std = math.sqrt(1 / (3 * 8 * 8)) / 0.87962566103423978  # (HF's lecun_normal_: fan_in 3·8·8)
    assert torch.equal(t, ft.trunc_normal_(torch.empty(t.shape), 0.0, std, -2.0, 2.0, seed=2, stream=name))
    name = "encoder.layers.0.self_attn.q_proj.weight"
    t = siglip.get_parameter(name)
    assert torch.equal(t, ft.xavier_uniform_(torch.empty(t.shape), seed=2, stream=name))
    assert set(summary.fallbacks) == {"embeddings"}  # (its position_ids: computed)


@hf5
def test_rwkvs_orthogonal_laws_are_drawn_by_fastinit_and_the_dry_run_computes_no_qr():
    """RWKV's init draws every Linear and Embedding with init.orthogonal_(gain): its weights went to HF's fallback
    (torch's QR), after a dry run that computed the QR of each full-size draw it skipped.  They are fastinit's
    orthogonal_ by (seed, name) now, and the dry run runs arithmetic on skipped draws on meta twins (no QR)."""
    import fastinit.torch as ft

    config = transformers.RwkvConfig(vocab_size=300, hidden_size=64, num_hidden_layers=2, attention_hidden_size=64,
                                     intermediate_size=128)  # (2: its init divides by num_hidden_layers - 1)
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.RwkvForCausalLM(config)
    calls = []

    class Seen(torch.overrides.TorchFunctionMode):  # (below the dry run's mode: sees the calls it makes)
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if func is torch.linalg.qr:
                calls.append(args[0].device.type)
            return func(*args, **(kwargs or {}))

    with Seen():
        summary = ft.materialize(model, seed=4, scheme="hf")
    assert calls and set(calls) == {"meta"}  # (the dry run's QRs: shapes only)
    name = "rwkv.embeddings.weight"
    t = model.get_parameter(name)
    gain = 1e-4 * math.sqrt(300)
    assert summary[name].method == f"orthogonal(gain={gain:.4g}) (RwkvModel._init_weights' law)"
    assert torch.equal(t, ft.orthogonal_(torch.empty(300, 64), gain=gain, seed=4, stream=name))
    key = model.rwkv.blocks[0].attention.key.weight
    assert summary["rwkv.blocks.0.attention.key.weight"].method.startswith("orthogonal(gain=1)")
    assert torch.allclose(key @ key.T, torch.eye(64), atol=1e-5)
    with torch.device("meta"), warnings.catch_warnings():  # (a shard of an orthogonal matrix: refused, saying why)
        warnings.simplefilter("ignore")
        again = transformers.RwkvForCausalLM(config)
    with pytest.raises(ValueError, match=r"placement given for \['rwkv.embeddings.weight'\].*cannot fill a slice"):
        ft.materialize(again, seed=4, scheme="hf", placement={"rwkv.embeddings.weight": ((600, 64), (0, 0))})


@hf5
def test_a_samplers_law_needs_its_tensor_whole_no_generator_and_arguments_fastinit_takes():
    """The sampler's law is the whole tensor's (a shard of a kaiming_normal_ fan_out tensor is its slice of the
    whole) and its last write; a generator given, or arguments fastinit refuses where torch does not
    (trunc_normal_ with a == b: torch fills a), leave the tensor to HF's fallback."""
    from transformers import PretrainedConfig, PreTrainedModel
    from transformers import initialization as init

    import fastinit.torch as ft

    class Block(torch.nn.Module):
        def __init__(self, rows):
            super().__init__()
            self.k = torch.nn.Parameter(torch.empty(rows, 8))
            self.u = torch.nn.Parameter(torch.empty(6, 5))
            self.g = torch.nn.Parameter(torch.empty(6, 5))
            self.t = torch.nn.Parameter(torch.empty(7))

    class Toy(PreTrainedModel):
        config_class = PretrainedConfig

        def __init__(self, config, rows=64):
            super().__init__(config)
            self.block = Block(rows)
            self.post_init()

        def _init_weights(self, module):
            if isinstance(module, Block):
                init.kaiming_normal_(module.k, a=0.1, mode="fan_out", nonlinearity="leaky_relu")
                init.uniform_(module.u, -0.5, 0.25)
                init.normal_(module.g, std=3.0, generator=torch.Generator().manual_seed(0))
                init.trunc_normal_(module.t, a=1.0, b=1.0)

    def toy(**kw):
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Toy(PretrainedConfig(), **kw)

    whole, part = toy(), toy(rows=16)
    summary = ft.materialize(whole, seed=4)
    assert summary["block.k"].method == ("kaiming_normal(a=0.1, mode=fan_out, nonlinearity=leaky_relu) "
                                         "(Toy._init_weights' law)")
    assert torch.equal(whole.block.k, ft.kaiming_normal_(torch.empty(64, 8), a=0.1, mode="fan_out",
                                                         nonlinearity="leaky_relu", seed=4, stream="block.k"))
    assert torch.equal(whole.block.u, ft.uniform_(torch.empty(6, 5), -0.5, 0.25, seed=4, stream="block.u"))
    assert summary["block.g"].method == summary["block.t"].method == "Toy._init_weights()"
    assert torch.equal(whole.block.t, torch.ones(7))  # (torch's trunc_normal_ on [1, 1])
    assert float(whole.block.g.detach().std()) > 1  # (HF's N(0, 9) with its generator)
    ft.materialize(part, seed=4, placement={"block.k": ((64, 8), (32, 0))})
    assert torch.equal(part.block.k, whole.block.k[32:48])


@hf5
def test_a_part_of_a_tensor_hfs_init_writes_keeps_its_constructors_law_elsewhere_under_hf():
    """Under "hf", an init writing only a part of a tensor (a row of a Linear weight) left the rest to a refusal
    ("left uninitialized"); a CPU build keeps the constructor's law there.  So does materialize now: the
    constructor's law first (or the law of an earlier call writing all of it), then HF's write of its part (a
    computed copy under "llama" too; a view of all of it, as ViTMAE's, is a write of the whole); not on a shard
    (HF's part is in the shard's own coordinates)."""
    from transformers import PretrainedConfig, PreTrainedModel
    from transformers import initialization as init

    import fastinit.torch as ft

    class Partial(PreTrainedModel):
        config_class = PretrainedConfig

        def __init__(self, config):
            super().__init__(config)
            self.lin = torch.nn.Linear(16, 8)
            self.table = torch.nn.Linear(4, 6)
            self.post_init()

        def _init_weights(self, module):
            if module is self.lin:
                init.zeros_(module.weight[0])
            elif module is self.table:
                module.weight[:, 0] = torch.arange(6.0)
                init.copy_(module.weight[:, 1], torch.arange(6.0))  # (a part too, under every scheme)

    def build():
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Partial(PretrainedConfig())

    model = build()
    summary = ft.materialize(model, seed=2, scheme="hf")
    expected = ft.kaiming_uniform_(torch.empty(8, 16), a=math.sqrt(5), seed=2, stream="lin.weight")
    expected[0] = 0
    assert torch.equal(model.lin.weight, expected)
    assert summary["lin.weight"].method == "kaiming_uniform(a=√5), then Partial._init_weights()"
    assert torch.equal(model.table.weight[:, 0], torch.arange(6.0))
    assert torch.equal(model.table.weight[:, 2:], ft.kaiming_uniform_(torch.empty(6, 4), a=math.sqrt(5), seed=2,
                                                                       stream="table.weight")[:, 2:])
    with pytest.raises(ValueError, match=r"placement given for \['lin.weight'\], filled by"):  # (HF's row: local)
        ft.materialize(build(), seed=2, scheme="hf", placement={"lin.weight": ((16, 16), (8, 0))})

    class Later(PreTrainedModel):  # the law of a call writing all of it, then another call's row
        config_class = PretrainedConfig

        def __init__(self, config):
            super().__init__(config)
            self.emb = torch.nn.Embedding(50, 16)
            self.post_init()

        def _init_weights(self, module):
            if isinstance(module, torch.nn.Embedding):
                init.normal_(module.weight, std=0.05)
            elif module is self:
                self.emb.weight.data[0].zero_()

    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        later = Later(PretrainedConfig())
    summary = ft.materialize(later, seed=2, scheme="hf")
    expected = ft.normal_(torch.empty(50, 16), 0.0, 0.05, seed=2, stream="emb.weight")
    expected[0] = 0
    assert torch.equal(later.emb.weight, expected)
    assert summary["emb.weight"].method == "normal(0, 0.05) (Later._init_weights' law), then Later._init_weights()"
    llama = build()
    summary = ft.materialize(llama, seed=2, scheme="llama")  # (the rule's law; HF's computed column on it)
    assert torch.equal(llama.table.weight[:, 0], torch.arange(6.0))
    assert torch.equal(llama.table.weight[:, 1], torch.arange(6.0))
    assert torch.equal(llama.table.weight[:, 2:], ft.normal_(torch.empty(6, 4), 0.0, 0.02, seed=2,
                                                             stream="table.weight")[:, 2:])


@hf5
def test_a_calls_laws_filled_before_its_fallback_survive_writes_past_the_flags():
    """A review: filling a call's laws and rules before its fallback (so that the call reads them) let the fallback
    overwrite them where it writes past transformers' flags — torch.nn.init itself, `.data` — with torch's values
    (a shard no longer the slice of the whole); and a sampler whose arguments make no law (np.float32 bounds) took
    the law of the tensor method it calls inside (an untruncated normal).  The fills are made again after the call
    now, and a sampler's write is its own."""
    from transformers import PretrainedConfig, PreTrainedModel

    import fastinit.torch as ft

    class Scaled(torch.nn.Linear):
        def __init__(self):
            super().__init__(16, 16)
            self.register_buffer("scale", torch.empty(16), persistent=False)

    class Mixed(PreTrainedModel):
        config_class = PretrainedConfig

        def __init__(self, config, rows=64):
            super().__init__(config)
            self.cls = torch.nn.Parameter(torch.empty(rows, 16))
            self.lin = Scaled()
            self.trunc = torch.nn.Parameter(torch.empty(64, 64))
            self.register_buffer("pos", torch.empty(8), persistent=False)
            self.post_init()

        def _init_weights(self, module):
            if module is self:
                torch.nn.init.normal_(self.cls, std=0.02)
                torch.nn.init.trunc_normal_(self.trunc, 0.0, 1.0, a=np.float32(-1), b=np.float32(1))
                self.pos.copy_(torch.arange(8.0))
            elif module is self.lin:
                module.weight.data.normal_(0.0, 5.0, generator=torch.Generator().manual_seed(1))
                module.scale.copy_(torch.arange(16.0))

    def build(**kw):
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Mixed(PretrainedConfig(), **kw)

    whole = build()
    summary = ft.materialize(whole, seed=3, scheme="hf")
    assert summary["cls"].method == "normal(0, 0.02) (Mixed._init_weights' law)"
    assert torch.equal(whole.cls, ft.normal_(torch.empty(64, 16), 0.0, 0.02, seed=3, stream="cls"))
    assert torch.equal(whole.pos, torch.arange(8.0)) and summary["trunc"].method == "Mixed._init_weights()"
    assert float(whole.trunc.detach().abs().max()) <= 1
    part = build(rows=16)
    ft.materialize(part, seed=3, scheme="hf", placement={"cls": ((64, 16), (16, 0))})
    assert torch.equal(part.cls, whole.cls[16:32])
    llama = build()  # the Linear's rule, after its call's fallback (its computed buffer) as before: the rule's values
    summary = ft.materialize(llama, seed=3, scheme="llama")
    assert torch.equal(llama.lin.weight, ft.normal_(torch.empty(16, 16), 0.0, 0.02, seed=3, stream="lin.weight"))
    assert summary["lin.weight"].method == "normal(0, 0.02)" and torch.equal(llama.lin.scale, torch.arange(16.0))


@hf5
def test_values_the_dry_run_does_not_draw_make_no_law_and_indices_are_computed():
    """A review of the dry run's shapes-only arithmetic on skipped draws: a law whose argument HF's code reads off a
    draw (std = float(rand())) took the dry run's garbage as its std; indices computed from a draw
    (randperm().argsort()) were garbage and the call failed.  A call reading a drawn value as a number makes no law
    after it now (HF's fallback draws it), and integer results are computed."""
    from transformers import PretrainedConfig, PreTrainedModel
    from transformers import initialization as init

    import fastinit.torch as ft

    class Read(PreTrainedModel):
        config_class = PretrainedConfig

        def __init__(self, config):
            super().__init__(config)
            self.w = torch.nn.Parameter(torch.empty(64, 64))
            self.p = torch.nn.Parameter(torch.empty(8, 8))
            self.post_init()

        def _init_weights(self, module):
            if module is self:
                std = float(torch.rand(()).mul(0.01).add(0.01))
                init.normal_(self.w, std=std)
                perm = torch.randperm(8).argsort()
                init.copy_(self.p, torch.eye(8)[perm])

    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Read(PretrainedConfig())
    summary = ft.materialize(model, seed=0, scheme="hf")
    assert summary["w"].method == summary["p"].method == "Read._init_weights()"
    assert 0.009 < float(model.w.detach().std()) < 0.021 and torch.equal(model.p.detach().sum(0), torch.ones(8))


@hf5
def test_remote_code_style_inits_through_data_are_laws_too():
    """Models of trust_remote_code initialize with their tensors' own methods through .data
    (`module.weight.data.normal_(mean=0.0, std=std)`, `.data[padding_idx].zero_()`, `.data.fill_(1.0)`): their laws
    went to HF's fallback (torch's generator); fastinit draws them now, by (seed, name).  A part of a tensor, or a
    generator, still leaves HF's fallback."""
    from transformers import PretrainedConfig, PreTrainedModel

    import fastinit.torch as ft

    class Remote(PreTrainedModel):
        config_class = PretrainedConfig

        def __init__(self, config):
            super().__init__(config)
            self.lin = torch.nn.Linear(32, 64)
            self.emb = torch.nn.Embedding(50, 32, padding_idx=1)
            self.ln = torch.nn.LayerNorm(32)
            self.u = torch.nn.Parameter(torch.empty(8, 8))
            self.part = torch.nn.Parameter(torch.empty(8, 8))
            self.own = torch.nn.Parameter(torch.empty(8, 8))
            self.post_init()

        def _init_weights(self, module):
            if isinstance(module, torch.nn.Linear):
                module.weight.data.normal_(mean=0.0, std=0.03)
                module.bias.data.zero_()
            elif isinstance(module, torch.nn.Embedding):
                module.weight.data.normal_(mean=0.0, std=0.03)
                module.weight.data[module.padding_idx].zero_()
            elif isinstance(module, torch.nn.LayerNorm):
                module.weight.data.fill_(1.0)
                module.bias.data.zero_()
            elif module is self:
                self.u.data.uniform_(-0.1, 0.1)
                self.part.data.zero_()
                self.part.data[:, :4].normal_(0.0, 2.0)
                self.own.data.normal_(0.0, 3.0, generator=torch.Generator().manual_seed(0))

    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Remote(PretrainedConfig())
    summary = ft.materialize(model, seed=5, scheme="hf")
    assert summary["lin.weight"].method == "normal(0, 0.03) (Remote._init_weights' law)"
    assert torch.equal(model.lin.weight, ft.normal_(torch.empty(64, 32), 0.0, 0.03, seed=5, stream="lin.weight"))
    expected = ft.normal_(torch.empty(50, 32), 0.0, 0.03, seed=5, stream="emb.weight")
    expected[1] = 0
    assert torch.equal(model.emb.weight, expected)
    assert summary["emb.weight"].method == "normal(0, 0.03), padding row 0 (Remote._init_weights' law)"
    assert summary["ln.weight"].method == "ones" and summary["lin.bias"].method == "zeros"
    assert torch.equal(model.u, ft.uniform_(torch.empty(8, 8), -0.1, 0.1, seed=5, stream="u"))
    assert summary["part"].method == summary["own"].method == "Remote._init_weights()"
    assert not model.part[:, 4:].any() and model.part[:, :4].std() > 1 and model.own.std() > 2


@hf5
@pytest.mark.parametrize("scheme", ["llama", "torch", "hf"])
def test_an_hf_init_reading_or_writing_through_data_a_tensor_a_rule_fills_sees_the_rules_values(scheme):
    """Under "llama"/"torch" a rule's tensors stayed meta in the dry run: HF's init computing a tensor from one of
    them in the same call (a scale from its module's weight) read it before the rule filled it (uninitialized
    memory: garbage, or "left uninitialized"), and a computed row written through ``.data`` was not seen (the rule
    replaced it).  Now a tensor a call reads is filled before it (again at its turn: the same values), and writes
    through ``.data`` are HF's as under "hf"; an override's shortcut too."""
    from transformers import PretrainedConfig, PreTrainedModel
    from transformers import initialization as init

    import fastinit.torch as ft

    class ScaledLinear(torch.nn.Linear):
        def __init__(self, *args):
            super().__init__(*args)
            self.scale = torch.nn.Parameter(torch.empty(self.out_features))

    class Reads(PreTrainedModel):
        config_class = PretrainedConfig

        def __init__(self, config):
            super().__init__(config)
            self.lin = ScaledLinear(16, 24)
            self.emb = torch.nn.Embedding(10, 16)
            self.post_init()

        def _init_weights(self, module):
            if isinstance(module, ScaledLinear):
                init.normal_(module.weight, std=0.02)
                init.zeros_(module.bias)
                init.copy_(module.scale, module.weight.abs().sum(1))
            elif isinstance(module, torch.nn.Embedding):
                init.normal_(module.weight, std=0.02)
                module.weight.data[0] = torch.arange(16.0)

    def build():
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Reads(PretrainedConfig())

    model = build()
    summary = ft.materialize(model, seed=1, scheme=scheme)
    weight = model.lin.weight.detach()
    if scheme != "hf":  # (the rule's values; under "hf" the law's, the same here)
        std = 0.02 if scheme == "llama" else None
        expected = ft.normal_(torch.empty(24, 16), 0.0, std, seed=1, stream="lin.weight") if std else \
            ft.kaiming_uniform_(torch.empty(24, 16), a=math.sqrt(5), seed=1, stream="lin.weight")
        assert torch.equal(weight, expected)
    assert torch.equal(model.lin.scale.detach(), weight.abs().sum(1))
    assert summary["lin.scale"].method == "Reads._init_weights()"
    assert torch.equal(model.emb.weight.detach()[0], torch.arange(16.0))
    again = build()
    ft.materialize(again, seed=1, scheme=scheme)
    assert torch.equal(again.lin.scale, model.lin.scale) and torch.equal(again.emb.weight, model.emb.weight)
    ones = build()
    ft.materialize(ones, seed=1, scheme=scheme, overrides={"lin.weight": "ones"})
    assert (ones.lin.weight == 1).all() and (ones.lin.scale == 16).all()
    refused = build()  # (a callable runs last: it may read tensors filled after it)
    with pytest.raises(ValueError, match=r"callables' tensors \['lin.weight \(by lin\)'\] are read by their Hugg"):
        ft.materialize(refused, seed=1, scheme=scheme, overrides={"lin.weight": lambda t: t.fill_(2)})
    assert refused.lin.weight.is_meta
    seeded = build()  # (a callable naming seed=: its values a function of (seed, name), filled before the call too)
    ft.materialize(seeded, seed=1, scheme=scheme, overrides={"lin.weight": functools.partial(ft.normal_, std=0.5)})
    assert torch.equal(seeded.lin.weight, ft.normal_(torch.empty(24, 16), 0.0, 0.5, seed=1, stream="lin.weight"))
    assert torch.equal(seeded.lin.scale.detach(), seeded.lin.weight.detach().abs().sum(1))


@hf5
@pytest.mark.parametrize("scheme", ["llama", "torch", "hf"])
def test_reads_after_a_review_numbers_numpy_sparse_shapes_and_later_fills(scheme):
    """A review of the reads: a number read off a model tensor (`.item()`) made a constant law of the stand-in's
    garbage; `np.asarray(w.data)` was not a read; a sparse temporary made the dry run fail (its call was dropped);
    a tensor's shape or dtype taken (`x.to(w)`, `expand_as(w)`, `randn_like(w)`) counted as a read of its values,
    refusing a callable override; a read of a tensor another call fills later read nothing.  Now: the values HF's
    code computes from fastinit's, a refusal for the last."""
    from transformers import PretrainedConfig, PreTrainedModel
    from transformers import initialization as init

    import fastinit.torch as ft

    class Scaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.empty(4))

    class Reader(PreTrainedModel):
        config_class = PretrainedConfig

        def __init__(self, config, body, later=False):
            super().__init__(config)
            self.body, self.later = body, later
            self.lin = torch.nn.Linear(16, 24)
            self.a, self.b, self.c = (torch.nn.Parameter(torch.empty(24)) for _ in range(3))
            self.part = Scaled()
            self.register_buffer("temperature", torch.tensor(2.0), persistent=False)
            self.post_init()

        def _init_weights(self, module):
            if isinstance(module, torch.nn.Linear):
                init.normal_(module.weight, std=0.02)
                init.zeros_(module.bias)
            elif isinstance(module, Scaled):
                init.copy_(module.scale, torch.ones(4) / (self.temperature if self.later else 2.0))
            elif module is self:
                init.copy_(self.temperature, torch.tensor(2.0))
                self.body(self)

    def build(body, later=False):
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Reader(PretrainedConfig(), body, later)

    def body(m):
        init.constant_(m.a, m.lin.weight.abs().max().item())
        init.copy_(m.b, torch.from_numpy(np.asarray(m.lin.weight.data)).abs().sum(1))
        init.copy_(m.c, torch.eye(24).to_sparse().to_dense().sum(1))

    model = build(body)
    ft.materialize(model, seed=4, scheme=scheme)
    w = model.lin.weight.detach()
    assert (model.a == w.abs().max()).all() and torch.equal(model.b.detach(), w.abs().sum(1))
    assert (model.c == 1).all() and (model.part.scale == 0.5).all()

    def shapes(m):  # (no value of lin.weight: its callable override runs last)
        init.copy_(m.a, torch.ones(24).to(m.lin.weight).expand_as(m.lin.weight[:, 0]))
        init.copy_(m.b, torch.zeros_like(m.lin.weight[:, 0] * 2).type_as(m.lin.weight) + 3)  # (RWKV's time_first:
        # ones_like(time_first * log(0.3) + zigzag), values that reach no write)
        init.copy_(m.c, torch.randn_like(m.lin.weight[:, 0]) * 0 + 5)
        init.constant_(m.part.scale, m.part.scale.new_tensor(0.5).item())  # (a factory's values: its arguments)

    model = build(shapes)
    ft.materialize(model, seed=4, scheme=scheme, overrides={"lin.weight": lambda t: t.fill_(2)})
    assert (model.a == 1).all() and (model.b == 3).all() and (model.c == 5).all() and (model.lin.weight == 2).all()
    assert (model.part.scale == 0.5).all()
    late = build(body, later=True)
    with pytest.raises(ValueError, match=r"reads \[\"temperature \(read by part's call, filled by <root>'s\)\"\]"):
        ft.materialize(late, seed=4, scheme=scheme)
    assert late.lin.weight.is_meta


@hf5
def test_an_hf_inits_eye_is_fastinits_eye():
    """init.eye_ computes torch.eye(n, m, out=tensor): the dry run ran it into the stand-in, which failed, so the call
    wrote nothing and the tensor was refused ("no rule"); a call computing into a tensor (out=) is a write of it, and
    eye_ is a law (fastinit's eye_, not placeable).  Under "llama" a Linear's rule still wins over it, as over a
    sampler's law."""
    from transformers import PretrainedConfig, PreTrainedModel
    from transformers import initialization as init

    import fastinit.torch as ft

    class Identity(PreTrainedModel):
        config_class = PretrainedConfig

        def __init__(self, config):
            super().__init__(config)
            self.lin = torch.nn.Linear(8, 8)
            self.mix = torch.nn.Parameter(torch.empty(6, 8))
            self.post_init()

        def _init_weights(self, module):
            if isinstance(module, torch.nn.Linear):
                init.eye_(module.weight)
                init.zeros_(module.bias)
            elif module is self:
                init.eye_(self.mix)

    for scheme in ("hf", "llama"):
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = Identity(PretrainedConfig())
        summary = ft.materialize(model, seed=1, scheme=scheme)
        assert torch.equal(model.mix, torch.eye(6, 8)) and summary["mix"].method == "eye (Identity._init_weights' law)"
        assert torch.equal(model.lin.weight, torch.eye(8)) == (scheme == "hf")


@hf5
def test_a_samplers_law_after_a_review_torchs_refusals_reads_and_sibling_views():
    """A review of the samplers' laws: kaiming_uniform_ with a NumPy float32 slope (torch's calculate_gain refuses
    it) was drawn; a tensor HF's init computes from a law tensor in the same call (u = 2 v) read v before fastinit
    filled it (uninitialized memory); a law written on one view of a storage was given to a sibling view of it (two
    parameters loaded as chunks of one tensor).  Now: torch's error, u == 2 v, each view its own law."""
    from transformers import PretrainedConfig, PreTrainedModel
    from transformers import initialization as init

    import fastinit.torch as ft

    def toy(body, **shapes):
        class Toy(PreTrainedModel):
            config_class = PretrainedConfig

            def __init__(self, config):
                super().__init__(config)
                for k, shape in shapes.items():
                    setattr(self, k, torch.nn.Parameter(torch.empty(shape)))
                self.post_init()

            def _init_weights(self, module):
                if module is self:
                    body(self)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Toy(PretrainedConfig())

    with torch.device("meta"):
        slope = toy(lambda m: init.kaiming_uniform_(m.w, a=np.float32(0.5)), w=(128, 32))
    with pytest.raises(ValueError, match="negative_slope 0.5 not a valid number"):
        ft.materialize(slope, seed=0)

    def computed(m):
        init.zeros_(m.u)
        init.xavier_uniform_(m.v)
        init.copy_(m.u, m.v * 2)

    with torch.device("meta"):
        model = toy(computed, v=(256, 64), u=(256, 64))
    summary = ft.materialize(model, seed=0)
    assert torch.equal(model.u, 2 * model.v)
    assert summary["v"].method == "xavier_uniform(gain=1) (Toy._init_weights' law)"
    assert torch.equal(model.v, ft.xavier_uniform_(torch.empty(256, 64), seed=0, stream="v"))

    model = toy(lambda m: (init.kaiming_uniform_(m.b, a=math.sqrt(5)), init.trunc_normal_(m.a, std=0.02)),
                a=(64, 32), b=(64, 32))
    flat = torch.empty(4096)
    model.a, model.b = (torch.nn.Parameter(flat[:2048].view(64, 32)), torch.nn.Parameter(flat[2048:].view(64, 32)))
    summary = ft.materialize(model, seed=0, scheme="hf")
    assert summary["b"].method.startswith("kaiming_uniform(a=2.236") and summary["a"].method.startswith("trunc_normal")
    assert torch.equal(model.b, ft.kaiming_uniform_(torch.empty(64, 32), a=math.sqrt(5), seed=0, stream="b"))
    assert torch.equal(model.a, ft.trunc_normal_(torch.empty(64, 32), std=0.02, seed=0, stream="a"))


@hf5
@pytest.mark.parametrize("kind", ["llama", "gemma", "bert", "vit"])
def test_materialize_fills_what_a_meta_hf_model_computes_by_its_own_init_weights(kind):
    """A model built on the meta device has no rotary inv_freq, position_ids or embed_scale (computed, not drawn),
    nor ViT's cls_token / position_embeddings (no module rule): materialize had refused them all. Its Hugging Face
    model's own _init_weights(module) fills them now, as a fallback (ViT's: fastinit draws HF's law): the computed
    buffers exactly as a model built on the CPU holds them, the drawn ones under materialize's seed; every tensor a
    rule fills keeps fastinit's values (the rest of the model is not drawn by HF's init), torch's generator is left
    as it was, and transformers' _is_hf_initialized flags are taken off."""
    from fastinit.torch import materialize, normal_

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        built = _tiny(kind)
        with torch.device("meta"):
            models = [_tiny(kind) for _ in range(3)]
    rng = torch.random.get_rng_state()
    summaries = [materialize(m, seed=s, scheme="llama") for m, s in zip(models, (5, 5, 6))]
    assert torch.equal(torch.random.get_rng_state(), rng)
    model, summary = models[0], summaries[0]
    for name, b in built.named_buffers():
        assert torch.equal(dict(model.named_buffers())[name], b), name
    by_hf = {r.name for r in summary if r.method.endswith("_init_weights()")}
    laws = {r.name for r in summary if r.method.endswith("_init_weights' law)")}
    assert by_hf or kind == "vit"
    assert all(", by " in v and "._init_weights()" in v for v in summary.fallbacks.values())
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        assert not t.is_meta and not hasattr(t, "_is_hf_initialized"), name
        if t.is_floating_point():
            assert torch.isfinite(t).all(), name
    same = dict(models[1].named_parameters())
    other = dict(models[2].named_parameters())
    for name, p in model.named_parameters():
        assert torch.equal(p, same[name]), name  # a pure function of the seed
        if p.numel() > 1 and p.std() > 0:
            assert not torch.equal(p, other[name]), name
    if kind == "vit":  # HF's law, trunc_normal(0, initializer_range), drawn by fastinit's kernels
        assert laws >= {"embeddings.cls_token", "embeddings.position_embeddings"} and not by_hf
        assert 0.01 < float(model.embeddings.position_embeddings.detach().std()) < 0.03
    else:  # only computed buffers; the embedding (which HF's init would draw too) is fastinit's rule's
        assert all(dict(model.named_buffers()).get(n) is not None for n in by_hf), by_hf
        emb = model.get_input_embeddings()
        name = next(n for n, p in model.named_parameters() if p is emb.weight)
        expected = normal_(torch.empty_like(emb.weight), 0.0, 0.02, seed=5, stream=name)
        if emb.padding_idx is not None:
            expected[emb.padding_idx] = 0
        assert torch.equal(emb.weight, expected) and "_init_weights" not in summary[name].method


@hf5
def test_materialize_of_a_meta_qwen3_next_draws_its_decays_as_hf_by_the_seed_alone():
    """Qwen3-Next's A_log (log U(0.01, 16), drawn by HF's _init_weights from a computed tensor) is filled by the
    fallback under materialize's seed — the same whatever torch's generator holds, another for another seed — and
    its RMSNorms (1 + weight) are zero, dt_bias one; the model runs."""
    from fastinit.torch import materialize

    kwargs = {**MOE["qwen3-next"][1], "mlp_only_layers": []}
    logs = []
    for seed, torch_seed in ((0, 1), (0, 2), (1, 1)):
        torch.manual_seed(torch_seed)
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = transformers.Qwen3NextForCausalLM(transformers.Qwen3NextConfig(**kwargs))
        materialize(model, seed=seed, scheme="hf")
        deltanet = model.model.layers[0].linear_attn
        logs.append(deltanet.A_log.detach().clone())
        assert math.log(0.01) <= float(logs[-1].min()) and float(logs[-1].max()) < math.log(16)
        assert torch.equal(deltanet.dt_bias, torch.ones(4)) and torch.equal(deltanet.norm.weight, torch.ones(12))
        assert not model.model.norm.weight.any() and not model.model.layers[3].self_attn.q_norm.weight.any()
        assert torch.isfinite(model(torch.tensor([[1, 2, 3, 4]])).logits).all()
    assert torch.equal(logs[0], logs[1]) and not torch.equal(logs[0], logs[2])


def test_transformers_4_models_still_get_the_meta_buffer_refusal(monkeypatch):
    """transformers 4's _init_weights leaves buffers alone: no fallback that would leave them NaN, but the refusal
    before any change, which names them."""
    from fastinit.torch import materialize

    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _tiny("llama")
    monkeypatch.delitem(sys.modules, "transformers.initialization")  # (transformers 4 has no such module)
    with pytest.raises(ValueError, match=r"meta buffers \(\['model.rotary_emb.inv_freq'"):
        materialize(model, seed=0)
    assert all(t.is_meta for t in model.parameters())


def test_the_gpt2_scheme_takes_a_hf_models_depth_for_its_residual_projections():
    """HF GPT-2's _init_weights scales every c_proj.weight by 1/sqrt(2 n_layer); scheme="gpt2" without n_layer did
    not scale them (std 0.02 where HF draws 0.00707 at 4 layers)."""
    from fastinit.torch import materialize, normal_

    config = transformers.GPT2Config(n_layer=4, n_embd=64, n_head=4, vocab_size=300, n_positions=64)
    with torch.device("meta"):
        models = [transformers.GPT2LMHeadModel(config) for _ in range(2)]
    summary = materialize(models[0], seed=1, scheme="gpt2")
    assert summary.scheme.n_layer == 4
    for name, p in models[0].named_parameters():
        if name.endswith("c_proj.weight"):
            assert torch.equal(p, normal_(torch.empty_like(p), 0.0, 0.02 / math.sqrt(8), seed=1, stream=name)), name
    assert materialize(models[1], seed=1, scheme=("gpt2", {"n_layer": 2})).scheme.n_layer == 2  # given: kept
    with torch.device("meta"), warnings.catch_warnings():  # only GPT-2's config: an encoder-decoder's
        warnings.simplefilter("ignore")  # num_hidden_layers is its encoder's, and Llama's init scales nothing
        bart = transformers.BartModel(transformers.BartConfig(
            d_model=64, encoder_layers=1, decoder_layers=12, encoder_attention_heads=4, decoder_attention_heads=4,
            encoder_ffn_dim=64, decoder_ffn_dim=64, vocab_size=300, max_position_embeddings=64))
        llama = _tiny("llama")
    assert materialize(bart, seed=1, scheme="gpt2").scheme.n_layer is None
    assert materialize(llama, seed=1, scheme="gpt2").scheme.n_layer is None


def test_a_scheme_without_std_takes_a_hf_models_initializer_range():
    """HF's _init_weights draws with its config's initializer_range; the scheme's std was 0.02 whatever it said, so
    a Mixtral at 0.05 got its linear layers at 0.02 and its experts (drawn by HF's law) at 0.05."""
    from fastinit.torch import Scheme, materialize, normal_

    def llama(init_range):
        config = transformers.LlamaConfig(num_hidden_layers=1, hidden_size=64, intermediate_size=96, vocab_size=300,
                                          num_attention_heads=4, initializer_range=init_range)
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return transformers.LlamaForCausalLM(config)

    name = "model.layers.0.mlp.up_proj.weight"
    for init_range, scheme, std in ((0.05, "llama", 0.05), (0.05, ("gpt2", {}), 0.05), (0.0, "llama", 0.02),
                                    (0.05, ("llama", {"std": 0.01}), 0.01), (0.05, Scheme("llama", std=0.02), 0.02)):
        model = llama(init_range)
        summary = materialize(model, seed=2, scheme=scheme)
        assert summary.scheme.std == std and summary[name].method == f"normal(0, {std:g})", (init_range, scheme)
        w = model.get_parameter(name)
        assert torch.equal(w, normal_(torch.empty_like(w), 0.0, std, seed=2, stream=name))
    plain = torch.nn.Linear(4, 4, device="meta")  # not a Hugging Face model: 0.02
    assert materialize(plain, seed=0, scheme="llama").scheme.std == 0.02
    with torch.device("meta"), warnings.catch_warnings():  # BART's init_std; a composite model's text config
        warnings.simplefilter("ignore")
        bart = transformers.BartModel(transformers.BartConfig(
            d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=4, decoder_attention_heads=4,
            encoder_ffn_dim=32, decoder_ffn_dim=32, vocab_size=100, max_position_embeddings=32, init_std=0.03))
    assert materialize(bart, seed=0, scheme="llama").scheme.std == 0.03

    class Composite(transformers.PreTrainedModel):
        config_class = transformers.PretrainedConfig

        def __init__(self, config):
            super().__init__(config)
            self.proj = torch.nn.Linear(4, 4)
            self.post_init()

    config = transformers.PretrainedConfig()  # (no initializer_range of its own)
    config.get_text_config = lambda *args, **kwargs: transformers.PretrainedConfig(initializer_range=0.07)
    with torch.device("meta"):
        composite = Composite(config)
    assert materialize(composite, seed=0, scheme="llama").scheme.std == 0.07


SINUSOIDS = {  # (model, config, a position table whose values HF computes: sinusoids)
    "distilbert": (lambda: transformers.DistilBertForMaskedLM, lambda: transformers.DistilBertConfig(
        dim=64, n_layers=1, n_heads=4, hidden_dim=128, vocab_size=300, max_position_embeddings=64,
        sinusoidal_pos_embds=True), "distilbert.embeddings.position_embeddings.weight"),  # trainable: copied by
    # its parent module's branch of _init_weights
    "marian": (lambda: transformers.MarianMTModel, lambda: transformers.MarianConfig(
        d_model=64, encoder_layers=1, decoder_layers=1, encoder_attention_heads=4, decoder_attention_heads=4,
        encoder_ffn_dim=128, decoder_ffn_dim=128, vocab_size=300, max_position_embeddings=64, pad_token_id=0,
        decoder_start_token_id=0), "model.encoder.embed_positions.weight"),  # frozen
    "whisper": (lambda: transformers.WhisperForConditionalGeneration, lambda: transformers.WhisperConfig(
        d_model=64, encoder_layers=1, decoder_layers=1, encoder_attention_heads=4, decoder_attention_heads=4,
        encoder_ffn_dim=128, decoder_ffn_dim=128, vocab_size=300, num_mel_bins=16, max_source_positions=32,
        max_target_positions=32, pad_token_id=0, decoder_start_token_id=1), "model.encoder.embed_positions.weight"),
}


@hf5
@pytest.mark.parametrize("kind", SINUSOIDS)
def test_position_tables_hf_computes_are_its_values_not_a_draw(kind):
    """A review: sinusoidal position tables (parameters of an nn.Embedding, which has a rule) came out N(0, 0.02²)
    on meta-built DistilBERT, Marian and Whisper; Marian's and Whisper's are frozen, so positions could never be
    learnt.  HF's init computes them (frozen ones: asked of its own module's chain; DistilBERT's: copied by its
    Embeddings' branch), and they are its values now, on a meta-built and on a built model."""
    from fastinit.torch import materialize

    cls, config, name = SINUSOIDS[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = dict(cls()(config()).named_parameters())[name].detach().clone()
        with torch.device("meta"):
            meta = cls()(config())
        built = cls()(config())
        torch.nn.init.zeros_(dict(built.named_parameters())[name])  # a built model's table is computed again
    for model in (meta, built):
        summary = materialize(model, seed=0, scheme="llama")
        assert torch.equal(dict(model.named_parameters())[name], reference), kind
        assert "_init_weights()" in summary[name].method


@hf5
def test_hf_fallbacks_run_on_models_loaded_by_from_pretrained_and_keep_computed_buffers_float32(tmp_path):
    """from_pretrained flags every tensor _is_hf_initialized, which HF's init obeys: the fallback's own tensors were
    skipped (RuntimeError after 30 of 40 tensors were re-initialized); the flags are taken off for the call and put
    back (DistilBERT's sinusoid table, computed again; ViT's cls_token, the first case, is fastinit's draw of HF's
    law now).  And a rotary inv_freq stays float32 under dtype=bfloat16, as HF builds it (it was bfloat16: 0.4 % off,
    1.5 rad of rotary angle at position 8192)."""
    from fastinit.torch import materialize

    cls, config, name = SINUSOIDS["distilbert"]  # (its sinusoid table: a parameter HF's init computes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = dict(cls()(config()).named_parameters())[name].detach().clone()
        cls()(config()).save_pretrained(tmp_path)
        loaded = cls().from_pretrained(tmp_path)
    table = loaded.get_parameter(name)
    torch.nn.init.zeros_(table)
    summary = materialize(loaded, seed=0)
    assert torch.equal(table, reference) and summary[name].method == "DistilBertModel._init_weights()"
    assert all(getattr(p, "_is_hf_initialized", False) for p in loaded.parameters())  # as loaded
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        llama = _tiny("llama")
    torch.manual_seed(0)
    reference = _tiny("llama").model.rotary_emb.inv_freq
    materialize(llama, seed=0, dtype=torch.bfloat16, scheme="llama")
    assert llama.model.embed_tokens.weight.dtype == torch.bfloat16
    assert llama.model.rotary_emb.inv_freq.dtype == torch.float32
    assert torch.equal(llama.model.rotary_emb.inv_freq, reference)


@hf5
def test_a_tensor_a_parent_modules_branch_draws_is_filled_and_one_nothing_fills_is_refused_before_any_change():
    """Qwen3-Next's router weight is drawn by its sparse MoE block's branch of _init_weights, not its own module's
    (RuntimeError after allocation, NaN left); CLIP's logit_scale is set in __init__ only: the refusal, before
    anything is allocated."""
    from fastinit.torch import materialize

    config = transformers.Qwen3NextConfig(
        hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, intermediate_size=128,
        vocab_size=300, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
        shared_expert_intermediate_size=32, head_dim=16, linear_num_value_heads=4, linear_num_key_heads=2,
        linear_key_head_dim=16, linear_value_head_dim=16)
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.Qwen3NextForCausalLM(config)
        clip = transformers.CLIPModel(transformers.CLIPConfig(
            text_config={"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64,
                         "vocab_size": 100},
            vision_config={"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                           "intermediate_size": 64, "image_size": 32, "patch_size": 8}))
    materialize(model, seed=0, scheme="llama")
    gate = model.model.layers[1].mlp.gate.weight
    assert not gate.is_meta and torch.isfinite(gate).all() and 0.015 < float(gate.detach().std()) < 0.025
    assert all(not t.is_meta and torch.isfinite(t).all() for t in model.parameters())
    with pytest.raises(ValueError, match="logit_scale"):
        materialize(clip, seed=0)
    assert all(p.is_meta for p in clip.parameters())


@hf5
def test_what_hf_draws_stays_with_the_scheme_whatever_requires_grad_and_dtype():
    """A second review: frozen parameters were all handed to HF's init (a frozen Llama: every weight drawn N(0, 0.02²)
    by torch under scheme "torch"), and HF's orthogonal_ for 16-bit tensors (a draw into a float32 copy, then
    copy_) was taken for computed values (RWKV in bfloat16: every weight); the dry run also swapped transformers'
    init table, process-wide (another thread's HF init did nothing meanwhile)."""
    from transformers import initialization

    from fastinit.torch import materialize

    table = dict(initialization.TORCH_INIT_FUNCTIONS)
    rwkv = transformers.RwkvConfig(vocab_size=300, hidden_size=64, num_hidden_layers=2, attention_hidden_size=64,
                                   intermediate_size=128, context_length=32)
    plans = {}
    for case in ("llama", "frozen llama", "rwkv float32", "rwkv bfloat16"):
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = _tiny("llama") if "llama" in case else transformers.RwkvForCausalLM(rwkv)
        if case == "frozen llama":
            model.requires_grad_(False)
        if case == "rwkv bfloat16":
            model.to(torch.bfloat16)
        summary = materialize(model, seed=0, scheme="torch")
        plans[case] = sorted(r.name for r in summary if "_init_weights" in r.method)
        assert initialization.TORCH_INIT_FUNCTIONS == table
    rotary = ["model.rotary_emb.inv_freq", "model.rotary_emb.original_inv_freq"]
    assert plans["llama"] == plans["frozen llama"] == rotary
    assert plans["rwkv float32"] == plans["rwkv bfloat16"]
    assert not any(n.endswith(("key.weight", "head.weight", "embeddings.weight")) for n in plans["rwkv bfloat16"])


@hf5
def test_a_view_hf_writes_leaves_the_rule_and_a_meta_default_device_changes_nothing():
    """A third review: ViTMAE's init, asked for its cls_token, also draws xavier_uniform_ into a view of the patch
    projection's weight (a view carries no flag): the rule's values were replaced; and under
    `with torch.device("meta")` the dry run's stand-ins were meta, so ViT's cls_token was refused."""
    from fastinit.torch import kaiming_uniform_, materialize

    config = transformers.ViTMAEConfig(hidden_size=64, num_hidden_layers=1, num_attention_heads=4,
                                       intermediate_size=128, image_size=32, patch_size=8)
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mae = transformers.ViTMAEModel(config)
    summary = materialize(mae, seed=0, scheme="torch")
    name = "embeddings.patch_embeddings.projection.weight"
    w = mae.embeddings.patch_embeddings.projection.weight
    assert summary[name].method == "kaiming_uniform(a=√5)"
    assert torch.equal(w, kaiming_uniform_(torch.empty_like(w), a=math.sqrt(5), seed=0, stream=name))
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vit, llama = _tiny("vit"), _tiny("llama")
        summary = materialize(vit, seed=0)
        materialize(llama, seed=0)  # its rotary init computes under the default device ("Cannot copy out of meta")
    assert not any(t.is_meta for t in vit.parameters())
    assert summary["embeddings.cls_token"].method.endswith("(ViTModel._init_weights' law)")
    torch.manual_seed(0)
    assert torch.equal(llama.model.rotary_emb.inv_freq, _tiny("llama").model.rotary_emb.inv_freq)


ACTIVATION_KEYS = [  # (a config, the key its MLPs' activation is read from)
    ({**TINY, "model_type": "llama"}, "hidden_act"),
    ({**TINY, "model_type": "gemma2", "head_dim": 16}, "hidden_activation"),
    ({"model_type": "gpt2", "n_embd": 32, "n_layer": 1, "n_head": 2, "vocab_size": 50}, "activation_function"),
    ({"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
      "intermediate_size": 40, "vocab_size": 50}, "hidden_act"),
    ({"model_type": "mistral3", "text_config": MISTRAL3_TEXT}, "projector_hidden_act"),
    ({"model_type": "mistral3", "text_config": MISTRAL3_TEXT, "vision_config": PIXTRAL}, "vision_config.hidden_act"),
    ({"model_type": "gemma3", "text_config": {**TINY, "head_dim": 16}, "vision_config": GEMMA3_VISION},
     "vision_config.hidden_act"),
    ({"model_type": "qwen3_vl", "text_config": {**TINY, "head_dim": 16, "rope_parameters": MROPE},
      "vision_config": QWEN3_VL_VISION}, "vision_config.hidden_act")]


@pytest.mark.parametrize("cfg, key", ACTIVATION_KEYS, ids=[f"{c['model_type']}-{k}" for c, k in ACTIVATION_KEYS])
def test_an_activation_with_parameters_or_unknown_is_refused_naming_its_key(cfg, key):
    """config_spec listed no tensors for prelu's and xielu's parameters (transformers adds them to every MLP) and
    took any name (transformers' build fails: KeyError) (noted in earlier sessions, fixed 2026-12-06 (f))."""
    def given(act):
        if key.startswith("vision_config."):
            return {**cfg, "vision_config": {**cfg["vision_config"], key.split(".")[1]: act}}
        return {**cfg, key: act}

    config_spec(given("gelu_pytorch_tanh"))  # (a known one: taken)
    leaf = key.split(".")[-1]
    with pytest.raises(ValueError, match=rf"{leaf} 'xielu' gives each MLP parameters of its own \(alpha_p, alpha_n"):
        config_spec(given("xielu"))
    with pytest.raises(ValueError, match=rf"{leaf} must be one of transformers' activations \(gelu, .*got 'nope'"):
        config_spec(given("nope"))
    with pytest.raises(ValueError, match=rf"{leaf} must be one of .*got \['gelu'\]"):  # (a list: had been the
        config_spec(given(["gelu"]))  # dict lookup's TypeError, unhashable: the re-read, 2026-12-06 (f))


def test_gpt_oss_activation_is_a_string_its_mlp_does_not_read():
    """GPT-OSS's experts compute their own gated activation: hidden_act is not read, but its config takes only a
    string (a null had been accepted: transformers' GptOssConfig refuses it)."""
    cfg = {"model_type": "gpt_oss", "hidden_size": 32, "intermediate_size": 32, "num_hidden_layers": 1,
           "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16, "num_local_experts": 2,
           "num_experts_per_tok": 1, "vocab_size": 50}
    spec = config_spec(cfg)
    assert config_spec({**cfg, "hidden_act": "anything"}) == spec  # (transformers' config takes any string)
    for bad in (None, 3, ["silu"]):
        with pytest.raises(ValueError, match=rf"hidden_act must be a string, got {re.escape(repr(bad))}"):
            config_spec({**cfg, "hidden_act": bad})
    if int(transformers.__version__.split(".")[0]) >= 5:  # (its strict config fields)
        with pytest.raises(Exception, match="hidden_act"):
            transformers.GptOssConfig(**{k: v for k, v in cfg.items() if k != "model_type"}, hidden_act=None)


@hf5
def test_transformers_adds_parameters_for_prelu_and_xielu_and_fails_an_unknown_activation():
    """Why config_spec refuses them: the model transformers builds has more parameters than it would list."""
    cfg = {**TINY, "model_type": "llama"}
    plain = parameter_count(config_spec(cfg))
    for act, more in (("prelu", 1), ("xielu", 2)):
        config = transformers.LlamaConfig(**{**TINY, "hidden_act": act})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = transformers.AutoModelForCausalLM.from_config(config)
        assert sum(p.numel() for p in model.parameters()) == plain + more * TINY["num_hidden_layers"]
    with pytest.raises(KeyError):
        transformers.AutoModelForCausalLM.from_config(transformers.LlamaConfig(**{**TINY, "hidden_act": "nope"}))


@hf5
def test_vitmae_under_hf_gets_the_init_its_code_writes_not_the_module_flag_skip():
    """Modules are not flagged: transformers 5.25 flags a module after its _init_weights call, and ViTMAE's
    embeddings return early once their projection (a child: always first) is, so its own build leaves a zero
    position table and cls_token.  fastinit runs the call as written (MAE's sin-cos table, a xavier projection,
    N(0, range) cls_token): a deliberate, documented difference, pinned here (a review, 2026-12-06 (f))."""
    from fastinit.torch import materialize

    config = transformers.ViTMAEConfig(hidden_size=64, num_hidden_layers=1, num_attention_heads=4,
                                       intermediate_size=128, image_size=32, patch_size=8, initializer_range=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = transformers.ViTMAEModel(config)
        with torch.device("meta"):
            mae = transformers.ViTMAEModel(config)
    assert not built.embeddings.position_embeddings.any()  # (transformers 5.25's own: the skip)
    summary = materialize(mae, seed=0, scheme="hf")
    del built.embeddings.patch_embeddings.projection._is_hf_initialized
    built.embeddings.initialize_weights()  # the code as written: the sin-cos table
    table = built.embeddings.position_embeddings
    assert table.abs().max() == 1 and torch.equal(mae.embeddings.position_embeddings, table)
    w = mae.embeddings.patch_embeddings.projection.weight  # (xavier_uniform_ of a view: HF's call writes it)
    bound = math.sqrt(6 / (64 + 3 * 8 * 8))
    assert w.abs().max() <= bound and 0.9 < w.std() * math.sqrt(3) / bound < 1.1
    assert summary["embeddings.cls_token"].method.startswith("normal(0, 0.05)")
    assert 0.04 < mae.embeddings.cls_token.std() < 0.06


@hf5
def test_what_hf_writes_through_a_view_is_put_back_region_by_region(monkeypatch):
    """Gemma's embedding module goes to HF's init for its embed_scale; HF's init also zeroes the (flagged) weight's
    padding row through weight[padding_idx], a view: that row alone is copied and put back, not the whole embedding
    (a 256k-row one at Gemma's size: gigabytes)."""
    from fastinit import materialize as mat

    sizes = []
    regions = mat._regions
    monkeypatch.setattr(mat, "_regions", lambda t, r: [sizes.append(v.numel()) or v for v in regions(t, r)])
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _tiny("gemma")
    mat.materialize(model, seed=0, scheme="llama")
    assert sizes == [64]  # one row of the 300 x 64 embedding
    assert torch.all(model.model.embed_tokens.weight[model.model.embed_tokens.padding_idx] == 0)


# Behaviours a mutation review of materialize.py found untested (2026-12-07 (s)); each fails with its mutant

def test_a_tensors_own_normal_without_arguments_is_the_standard_normal_law():
    import fastinit.torch as ft
    from transformers import PretrainedConfig, PreTrainedModel

    class Remote(PreTrainedModel):
        config_class = PretrainedConfig

        def __init__(self, config):
            super().__init__(config)
            self.w = torch.nn.Parameter(torch.empty(64, 64))
            self.post_init()

        def _init_weights(self, module):
            if module is self:
                self.w.data.normal_()

    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Remote(PretrainedConfig())
    s = ft.materialize(model, seed=5, scheme="hf")
    assert s["w"].method == "normal(0, 1) (Remote._init_weights' law)"
    assert torch.equal(model.w, ft.normal_(torch.empty(64, 64), 0.0, 1.0, seed=5, stream="w"))


def test_the_gpt2_scheme_leaves_the_depth_of_other_models_with_an_n_layer_alone():
    import fastinit.torch as ft

    cfg = transformers.GPTJConfig(n_layer=8, n_embd=64, n_head=4, vocab_size=300, n_positions=64, rotary_dim=8,
                                  bos_token_id=0, eos_token_id=0)
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = transformers.GPTJModel(cfg)
    s = ft.materialize(m, seed=1, scheme="gpt2")
    assert s.scheme.n_layer is None and "residual" not in s["h.0.attn.out_proj.weight"].method
    p = m.h[0].attn.out_proj.weight
    assert torch.equal(p, ft.normal_(torch.empty_like(p), 0.0, 0.02, seed=1, stream="h.0.attn.out_proj.weight"))
