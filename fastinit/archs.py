"""Layer 7 — embedded architecture specs: every parameter's name, shape and initializer.

No downloads: the shapes are those of the published configurations, the names those of their
Hugging Face / torchvision checkpoints, and the initializers each family's own convention.

* ``gpt2``, ``gpt2-medium``, ``gpt2-large``, ``gpt2-xl`` (Radford et al. 2019): N(0, 0.02²) weights,
  residual projections (``attn.c_proj``, ``mlp.c_proj``) scaled by 1/sqrt(2 n_layer), zero biases,
  LayerNorm ones/zeros; Conv1D weights are (in, out); the LM head is tied to ``wte``.
* ``llama-tiny``, ``llama3.2-1b`` (tied embeddings), ``llama-7b``, ``llama3-8b`` (Touvron et al.
  2023): N(0, 0.02²) for every matrix, embeddings included, RMSNorm ones — Hugging Face's
  ``LlamaPreTrainedModel`` (``initializer_range`` 0.02, no truncation), as ``materialize``'s
  ``"llama"`` scheme.
* ``resnet50`` (He et al. 2016, torchvision names): convs Kaiming normal fan_out/ReLU, BatchNorm
  ones/zeros and running stats, classifier torch's Linear default.
* ``bert-base``, ``bert-large`` (Devlin et al. 2019): N(0, 0.02²), zero biases, LayerNorm ones/zeros;
  the ``[PAD]`` row (0) of the word embeddings zero, as Hugging Face initializes ``padding_idx``.
* ``mlp-mnist`` (784-256-128-10): torch's nn.Linear default — U(±1/sqrt(fan_in)) for weights
  and biases (fan_in of the weight).

:func:`config_spec` builds the same from a Hugging Face ``config.json`` of the Llama, Mistral, Ministral 3, Qwen2,
Qwen3, Gemma 1-3 (Gemma 3's, Mistral 3's, Qwen2-VL's, Qwen2.5-VL's, Qwen3-VL's and Qwen3-VL-MoE's image-text models
too), Phi-3, Granite, SmolLM3, Seed-OSS, ERNIE 4.5, OLMo 2 and 3, EXAONE 4, GPT-2 and BERT families and the mixtures of
experts Mixtral, Qwen2-MoE, Qwen3-MoE, Qwen3-Next and Qwen3.5 (Gated DeltaNet layers; Qwen3.5's image-text models too),
DeepSeek-V3, GLM-4.5 (``glm4_moe``), GPT-OSS and Llama 4 (its image-text model too): any size, with the config's
``initializer_range``.
"""
from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from dataclasses import replace
from typing import Any, Callable, Dict, Mapping

import numpy as np

from ._buffers import resolve_dtype, shape_tuple
from .init import normal_, uniform_
from .io import TensorSpec

__all__ = ["ARCHS", "HF_MODEL_TYPES", "arch_spec", "config_spec", "is_buffer", "log_uniform_", "padded_embedding_",
           "parameter_count", "read_config"]


def _gpt2(n_layer: int, d: int, vocab: int = 50257, ctx: int = 1024, inner: int | None = None, std: float = 0.02,
          embedding_std: float = 0.02, tied: bool = True) -> Dict[str, TensorSpec]:
    """GPT2Model's tensors; untied (``tied=False``): GPT2LMHeadModel's, ``transformer.``-prefixed, and its LM head."""
    inner = 4 * d if inner is None else inner
    normal = {"std": std}
    resid = {"std": std / math.sqrt(2 * n_layer)}
    spec = {"wte.weight": TensorSpec((vocab, d), init="normal_", params={"std": embedding_std}),
            "wpe.weight": TensorSpec((ctx, d), init="normal_", params={"std": embedding_std})}
    for i in range(n_layer):
        p = f"h.{i}."
        spec.update({
            p + "ln_1.weight": TensorSpec((d,), init="ones_"), p + "ln_1.bias": TensorSpec((d,), init="zeros_"),
            p + "attn.c_attn.weight": TensorSpec((d, 3 * d), init="normal_", params=normal),
            p + "attn.c_attn.bias": TensorSpec((3 * d,), init="zeros_"),
            p + "attn.c_proj.weight": TensorSpec((d, d), init="normal_", params=resid),
            p + "attn.c_proj.bias": TensorSpec((d,), init="zeros_"),
            p + "ln_2.weight": TensorSpec((d,), init="ones_"), p + "ln_2.bias": TensorSpec((d,), init="zeros_"),
            p + "mlp.c_fc.weight": TensorSpec((d, inner), init="normal_", params=normal),
            p + "mlp.c_fc.bias": TensorSpec((inner,), init="zeros_"),
            p + "mlp.c_proj.weight": TensorSpec((inner, d), init="normal_", params=resid),
            p + "mlp.c_proj.bias": TensorSpec((d,), init="zeros_"),
        })
    spec.update({"ln_f.weight": TensorSpec((d,), init="ones_"), "ln_f.bias": TensorSpec((d,), init="zeros_")})
    if tied:
        return spec
    return {**{"transformer." + name: t for name, t in spec.items()},
            "lm_head.weight": TensorSpec((vocab, d), init="normal_", params={"std": embedding_std})}


def _llama(n_layer: int, d: int, hidden: int, vocab: int, heads: int = 1, kv_heads: int | None = None,
           head_dim: int | None = None, tied: bool = False, std: float = 0.02, qkv_bias: bool = False,
           o_bias: bool = False, mlp_bias: bool = False, qk_norm: str | None = None, padding_idx: int | None = None,
           norm: str = "ones_", norms: tuple = ("input_layernorm", "post_attention_layernorm"), fused: bool = False,
           moe: Callable[[str, int], Dict[str, TensorSpec]] | None = None,
           attention: Callable[[str, int], Dict[str, TensorSpec]] | None = None,
           sinks: float | None = None) -> Dict[str, TensorSpec]:
    """A Llama-family decoder (Llama, Mistral, Qwen2, Qwen3, Gemma 1-3, Phi-3, OLMo 2/3, ..., and the mixtures of
    experts Mixtral, Qwen2-MoE, Qwen3-MoE, ...): ``heads`` query heads of ``head_dim`` (default ``d // heads``),
    ``kv_heads`` key/value heads (default ``heads``); the biases some of them add; q/k RMSNorms per head
    (``qk_norm="head"``: Qwen3's) or over all heads (``"full"``: OLMo 2's); the token embedding's ``padding_idx``
    row zero.  ``norm``: the RMSNorm scales' init (Gemma's scale by 1 + weight: ``"zeros_"``); ``norms``: each
    layer's norms (Gemma 2's around the MLP too, OLMo 2's after attention and MLP only); ``fused``: Phi-3's
    ``qkv_proj`` and ``gate_up_proj``; ``moe(prefix, i)``: layer ``i``'s sparse MLP (:func:`_moe`), or None where it
    is dense; ``attention(prefix, i)``: layer ``i``'s token mixer where it is not q/k/v/o (DeepSeek's :func:`_mla`,
    Qwen3-Next's :func:`_gated_deltanet` and gated attention);
    ``sinks``: the std of GPT-OSS's per-head attention ``sinks`` (Xiao et al. 2024), None where there are none."""
    head_dim = d // heads if head_dim is None else head_dim
    q, kv = heads * head_dim, (heads if kv_heads is None else kv_heads) * head_dim
    def linear(name, rows, cols, bias):
        return _linear(name, rows, cols, std, bias)

    def scale(name, n):
        return {name + ".weight": TensorSpec((n,), init=norm)}

    spec = {"model.embed_tokens.weight": _embedding(vocab, d, std, padding_idx)}
    for i in range(n_layer):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        if attention:
            spec.update(attention(p, i))
        else:
            spec.update(linear(a + "qkv_proj", q + 2 * kv, d, qkv_bias) if fused else {
                **linear(a + "q_proj", q, d, qkv_bias), **linear(a + "k_proj", kv, d, qkv_bias),
                **linear(a + "v_proj", kv, d, qkv_bias)})
            spec.update(linear(a + "o_proj", d, q, o_bias))
        if sinks is not None:
            spec[a + "sinks"] = TensorSpec((heads,), init="normal_", params={"std": sinks})
        if qk_norm:
            full = qk_norm == "full"
            spec.update({**scale(a + "q_norm", q if full else head_dim),
                         **scale(a + "k_norm", kv if full else head_dim)})
        sparse = moe(p, i) if moe else None
        if sparse:
            spec.update(sparse)
        elif fused:
            spec.update({**linear(p + "mlp.gate_up_proj", 2 * hidden, d, mlp_bias),
                         **linear(p + "mlp.down_proj", d, hidden, mlp_bias)})
        else:
            spec.update(_gated_mlp(p + "mlp.", hidden, d, std, mlp_bias))
        for name in norms:
            spec.update(scale(p + name, d))
    spec.update(scale("model.norm", d))
    if not tied:
        spec["lm_head.weight"] = TensorSpec((vocab, d), init="normal_", params={"std": std})
    return spec


def _linear(name: str, rows: int, cols: int, std: float, bias: bool) -> Dict[str, TensorSpec]:
    """A (rows, cols) linear layer's weight, N(0, std²), and its zero bias when ``bias``."""
    return {name + ".weight": TensorSpec((rows, cols), init="normal_", params={"std": std}),
            **({name + ".bias": TensorSpec((rows,), init="zeros_")} if bias else {})}


def _moe(prefix: str, d: int, experts: int, hidden: int, std: float, names=("mlp", "gate_proj", "up_proj", "down_proj"),
         shared: int | None = None, shared_std: float = 0.02, deepseek: bool = False) -> Dict[str, TensorSpec]:
    """A sparse mixture-of-experts MLP as its checkpoints store it (Shazeer et al. 2017; Jiang et al. 2024): the router
    (``gate``, experts × d) and ``experts`` gated MLPs of width ``hidden`` (``names``: the block's and the gate, up
    and down projections' names), N(0, std²) each; Qwen2-MoE's shared expert of width ``shared`` and its one-row
    gate, plain linear layers: N(0, shared_std²).  ``deepseek``: DeepSeek-V3's ``shared_experts`` (no gate) and the
    router's zero ``e_score_correction_bias`` (a buffer; Wang et al. 2024's auxiliary-loss-free balancing)."""
    block, *projections = names
    p = prefix + block + "."
    spec = {p + "gate.weight": TensorSpec((experts, d), init="normal_", params={"std": std})}
    if deepseek:
        spec[p + "gate.e_score_correction_bias"] = TensorSpec((experts,), init="zeros_")
    for j in range(experts):
        spec.update(_gated_mlp(f"{p}experts.{j}.", hidden, d, std, False, projections))
    if deepseek:
        spec.update(_gated_mlp(p + "shared_experts.", shared, d, shared_std, False))
    elif shared is not None:  # (of width 0 too: transformers builds and saves its empty tensors)
        spec.update({**_gated_mlp(p + "shared_expert.", shared, d, shared_std, False),
                     **_linear(p + "shared_expert_gate", 1, d, shared_std, False)})
    return spec


def _gpt_oss_experts(prefix: str, d: int, experts: int, hidden: int, std: float) -> Dict[str, TensorSpec]:
    """GPT-OSS's sparse MLP (OpenAI 2025) as transformers saves it: the router's weight and bias, N(0, std²), and
    the experts fused, one tensor per projection (``gate_up_proj`` experts × d × 2·hidden, gate and up columns
    interleaved, ``down_proj`` experts × hidden × d; N(0, std²)) with their zero biases."""
    p = prefix + "mlp."
    normal = {"std": std}
    return {p + "router.weight": TensorSpec((experts, d), init="normal_", params=normal),
            p + "router.bias": TensorSpec((experts,), init="normal_", params=normal),
            p + "experts.gate_up_proj": TensorSpec((experts, d, 2 * hidden), init="normal_", params=normal),
            p + "experts.gate_up_proj_bias": TensorSpec((experts, 2 * hidden), init="zeros_"),
            p + "experts.down_proj": TensorSpec((experts, hidden, d), init="normal_", params=normal),
            p + "experts.down_proj_bias": TensorSpec((experts, d), init="zeros_")}


_EXPERT = re.compile(r"(.*\.mlp\.experts\.)(\d+)\.(gate|up|down)_proj\.weight")


def _fused_pair(prefix: str, experts: int, d: int, hidden: int, std: float) -> Dict[str, TensorSpec]:
    """A layer's gated experts fused as Llama 4's and Qwen3-VL-MoE's checkpoints store them: ``gate_up_proj``
    experts × d × 2·hidden (gate, then up) and ``down_proj`` experts × hidden × d, N(0, std²)."""
    normal = {"std": std}
    return {prefix + "gate_up_proj": TensorSpec((experts, d, 2 * hidden), init="normal_", params=normal),
            prefix + "down_proj": TensorSpec((experts, hidden, d), init="normal_", params=normal)}


def _fused_gated_experts(spec: Dict[str, TensorSpec]) -> Dict[str, TensorSpec]:
    """``spec`` with each layer's experts (``mlp.experts.J.{gate,up,down}_proj.weight``, hidden × d and d × hidden)
    fused as Qwen3-VL-MoE's published checkpoints store them (:func:`_fused_pair`), the same law (i.i.d.: the layout
    changes no value's law).  transformers 5 loads this layout (its converter transposes it to its modules' experts
    × 2·hidden × d, but where those shapes are equal) and 4.57 as it is; its ``save_pretrained`` writes its
    modules' layout."""
    experts = {name: _EXPERT.fullmatch(name) for name in spec}
    counts = Counter(m[1] for m in experts.values() if m is not None and m[3] == "gate")  # (experts per layer)
    fused = {}
    for name, t in spec.items():
        m = experts[name]
        if m is None:
            fused[name] = t
        elif m[2] == "0" and m[3] == "gate":  # (the layer's first: the fused pair in its place)
            fused.update(_fused_pair(m[1], counts[m[1]], t.shape[1], t.shape[0], t.params["std"]))
    return fused


def _llama4_moe(prefix: str, d: int, experts: int, hidden: int, std: float,
                experts_std: float) -> Dict[str, TensorSpec]:
    """Llama 4's sparse MLP (Meta 2025) as its checkpoints store it: the ``router`` (experts × d) and the shared
    expert (a gated MLP of width ``hidden``), N(0, std²), and the experts fused (``experts.gate_up_proj`` experts × d ×
    2·hidden, ``experts.down_proj`` experts × hidden × d), N(0, experts_std²): transformers draws them with its
    ``initializer_range`` as it is."""
    p = prefix + "mlp."  # (feed_forward. in its names: :func:`_config_spec` renames the block)
    return {**_linear(p + "router", experts, d, std, False),
            **_fused_pair(p + "experts.", experts, d, hidden, experts_std),
            **_gated_mlp(p + "shared_expert.", hidden, d, std, False)}


def _gated_deltanet(prefix: str, d: int, k_heads: int, v_heads: int, k_dim: int, v_dim: int, kernel: int,
                    std: float, split: bool) -> Dict[str, TensorSpec]:
    """The Gated DeltaNet token mixer (Yang et al. 2025) of Qwen3-Next and Qwen3.5 as transformers builds and
    initializes it: per value head ``dt_bias`` one and ``A_log`` log U(0.01, 16) (:func:`log_uniform_`); the depthwise
    causal ``conv1d`` over queries, keys and values (2·k_heads·k_dim + v_heads·v_dim channels × 1 × ``kernel``), the
    input projections — Qwen3-Next's ``in_proj_qkvz`` (queries, keys, values and the output gate z) and ``in_proj_ba``
    (β and the decay's input, one each per value head); Qwen3.5's (``split``) ``in_proj_qkv``, ``in_proj_z``,
    ``in_proj_b``, ``in_proj_a`` — and ``out_proj``, N(0, std²); the gated RMSNorm's scale (``v_dim``) one."""
    key, value = k_heads * k_dim, v_heads * v_dim
    inputs = {**_linear(prefix + "in_proj_qkv", 2 * key + value, d, std, False),
              **_linear(prefix + "in_proj_z", value, d, std, False),
              **_linear(prefix + "in_proj_b", v_heads, d, std, False),
              **_linear(prefix + "in_proj_a", v_heads, d, std, False)} if split else \
        {**_linear(prefix + "in_proj_qkvz", 2 * key + 2 * value, d, std, False),
         **_linear(prefix + "in_proj_ba", 2 * v_heads, d, std, False)}
    rest = {prefix + "norm.weight": TensorSpec((v_dim,), init="ones_"),
            **_linear(prefix + "out_proj", d, value, std, False)}
    return {prefix + "dt_bias": TensorSpec((v_heads,), init="ones_"),
            prefix + "A_log": TensorSpec((v_heads,), init=log_uniform_, params={"a": 0.01, "b": 16.0}),
            prefix + "conv1d.weight": TensorSpec((2 * key + value, 1, kernel), init="normal_", params={"std": std}),
            **({**rest, **inputs} if split else {**inputs, **rest})}  # (their modules' order)


def _gated_attention(prefix: str, d: int, heads: int, kv_heads: int, head_dim: int, std: float,
                     bias: bool) -> Dict[str, TensorSpec]:
    """Qwen3-Next's and Qwen3.5's gated attention (Qiu et al. 2025): ``q_proj`` of twice the queries' width (each head's
    query and its sigmoid output gate), k/v/o as Llama's, N(0, std²), biases (``bias``) zero; the q/k RMSNorms per head,
    which scale by 1 + weight, zero."""
    q, kv = heads * head_dim, kv_heads * head_dim
    return {**_linear(prefix + "q_proj", 2 * q, d, std, bias), **_linear(prefix + "k_proj", kv, d, std, bias),
            **_linear(prefix + "v_proj", kv, d, std, bias), **_linear(prefix + "o_proj", d, q, std, bias),
            prefix + "q_norm.weight": TensorSpec((head_dim,), init="zeros_"),
            prefix + "k_norm.weight": TensorSpec((head_dim,), init="zeros_")}


def _mla(prefix: str, d: int, heads: int, q_rank: int | None, kv_rank: int, nope: int, rope: int, v: int,
         std: float, bias: bool) -> Dict[str, TensorSpec]:
    """DeepSeek's multi-head latent attention (DeepSeek-AI 2024, V2 and V3): queries through a rank-``q_rank``
    bottleneck with its RMSNorm (``q_a_proj``, ``q_a_layernorm``, ``q_b_proj``; one ``q_proj`` where ``q_rank`` is
    None), keys and values through a rank-``kv_rank`` latent plus a shared ``rope``-wide rotary key
    (``kv_a_proj_with_mqa``, ``kv_a_layernorm``, ``kv_b_proj``), per head ``nope + rope`` query/key and ``v`` value
    dimensions; N(0, std²), biases (``bias``: attention_bias) zero, norms one."""
    qk = heads * (nope + rope)
    spec = _linear(prefix + "q_proj", qk, d, std, False) if q_rank is None else {
        **_linear(prefix + "q_a_proj", q_rank, d, std, bias),
        prefix + "q_a_layernorm.weight": TensorSpec((q_rank,), init="ones_"),
        **_linear(prefix + "q_b_proj", qk, q_rank, std, False)}
    return {**spec, **_linear(prefix + "kv_a_proj_with_mqa", kv_rank + rope, d, std, bias),
            prefix + "kv_a_layernorm.weight": TensorSpec((kv_rank,), init="ones_"),
            **_linear(prefix + "kv_b_proj", heads * (nope + v), kv_rank, std, False),
            **_linear(prefix + "o_proj", d, heads * v, std, bias)}


def _gated_mlp(prefix: str, hidden: int, d: int, std: float, bias: bool,
               names=("gate_proj", "up_proj", "down_proj")) -> Dict[str, TensorSpec]:
    """A gated MLP's gate and up (hidden × d) and down (d × hidden) projections (:func:`_linear`)."""
    gate, up, down = names
    return {**_linear(prefix + gate, hidden, d, std, bias), **_linear(prefix + up, hidden, d, std, bias),
            **_linear(prefix + down, d, hidden, std, bias)}


def _embedding(vocab: int, d: int, std: float, padding_idx: int | None) -> TensorSpec:
    """A token embedding, N(0, std²), its ``padding_idx`` row zero (:func:`padded_embedding_`) when there is one."""
    if padding_idx is None:
        return TensorSpec((vocab, d), init="normal_", params={"std": std})
    return TensorSpec((vocab, d), init=padded_embedding_, params={"std": std, "padding_idx": padding_idx})


def padded_embedding_(out, std: float, padding_idx: int, *, seed, stream, global_shape=None, offset=None):
    """N(0, std²) with row ``padding_idx`` zero: torch's ``nn.Embedding(padding_idx=...)`` as Hugging Face
    initializes it; ``out`` may be a row block (``global_shape``/``offset``) that holds the row or not.  A negative
    ``padding_idx`` counts from the end, as in torch; one outside the rows is refused before any write."""
    shape = np.shape(out) if global_shape is None else shape_tuple(global_shape, "global_shape")
    rows = shape[0] if shape else 0
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)) or \
            not -rows <= padding_idx < rows:
        raise ValueError(f"padding_idx must be an int in [-{rows}, {rows}) (the embedding's rows), got {padding_idx!r}")
    offset = None if offset is None else shape_tuple(offset, "offset")
    normal_(out, 0.0, std, seed=seed, stream=stream, global_shape=global_shape, offset=offset)
    row = padding_idx % rows - (offset[0] if offset else 0)
    if 0 <= row < len(out):
        out[row] = 0
    return out


def log_uniform_(out, a: float, b: float, *, seed, stream, global_shape=None, offset=None):
    """log U(a, b), 0 < a < b: the decay rates' logarithm ``A_log`` of Gated DeltaNet layers (Yang et al. 2025;
    Qwen3-Next's) as Hugging Face initializes them (``uniform_(0.01, 16).log_()``; Mamba's own code draws U(1, 16),
    transformers' Mamba-2 log(1..heads)), drawn and logged in float32 (a 16-bit ``out``: rounded once, as
    transformers casts its float32 draw), or float64 for a float64 ``out``; ``out`` may be a block
    (``global_shape``/``offset``)."""
    if isinstance(a, bool) or isinstance(b, bool) or not (isinstance(a, (int, float, np.number))
                                                          and isinstance(b, (int, float, np.number)) and 0 < a < b):
        raise ValueError(f"log_uniform_: needs 0 < a < b, got a={a!r}, b={b!r}")
    draw = out if out.dtype.itemsize >= 4 else np.empty(np.shape(out), np.float32)  # (a block's: bounded)
    uniform_(draw, float(a), float(b), seed=seed, stream=stream, global_shape=global_shape, offset=offset)
    np.log(draw, out=draw)
    if draw is not out:
        out[...] = draw
    return out


def _bert(n_layer: int, d: int, vocab: int = 30522, ctx: int = 512, inner: int | None = None, types: int = 2,
          std: float = 0.02, padding_idx: int | None = 0) -> Dict[str, TensorSpec]:
    inner = 4 * d if inner is None else inner
    normal = {"std": std}

    def dense(prefix, rows, cols):
        return _linear(prefix, rows, cols, std, bias=True)

    def norm(prefix):
        return {prefix + ".weight": TensorSpec((d,), init="ones_"), prefix + ".bias": TensorSpec((d,), init="zeros_")}

    spec = {"embeddings.word_embeddings.weight": _embedding(vocab, d, std, padding_idx),
            "embeddings.position_embeddings.weight": TensorSpec((ctx, d), init="normal_", params=normal),
            "embeddings.token_type_embeddings.weight": TensorSpec((types, d), init="normal_", params=normal),
            **norm("embeddings.LayerNorm")}
    for i in range(n_layer):
        p = f"encoder.layer.{i}."
        for name in ("query", "key", "value"):
            spec.update(dense(p + "attention.self." + name, d, d))
        spec.update({**dense(p + "attention.output.dense", d, d), **norm(p + "attention.output.LayerNorm"),
                     **dense(p + "intermediate.dense", inner, d), **dense(p + "output.dense", d, inner),
                     **norm(p + "output.LayerNorm")})
    spec.update(dense("pooler.dense", d, d))
    return spec


def _resnet50(classes: int = 1000) -> Dict[str, TensorSpec]:
    """torchvision's resnet50: convs Kaiming normal (fan_out, relu), BN ones/zeros with running
    stats mean 0 / var 1, the classifier torch's Linear default."""
    spec: Dict[str, TensorSpec] = {}

    def conv(name, out_c, in_c, k):
        spec[name + ".weight"] = TensorSpec((out_c, in_c, k, k), init="kaiming_normal_",
                                            params={"mode": "fan_out", "nonlinearity": "relu"})

    def bn(name, c):
        spec.update({name + ".weight": TensorSpec((c,), init="ones_"), name + ".bias": TensorSpec((c,), init="zeros_"),
                     name + ".running_mean": TensorSpec((c,), init="zeros_"),
                     name + ".running_var": TensorSpec((c,), init="ones_")})

    conv("conv1", 64, 3, 7)
    bn("bn1", 64)
    in_c = 64
    for stage, (blocks, width) in enumerate([(3, 64), (4, 128), (6, 256), (3, 512)], start=1):
        for b in range(blocks):
            p = f"layer{stage}.{b}."
            conv(p + "conv1", width, in_c, 1)
            bn(p + "bn1", width)
            conv(p + "conv2", width, width, 3)
            bn(p + "bn2", width)
            conv(p + "conv3", 4 * width, width, 1)
            bn(p + "bn3", 4 * width)
            if b == 0:
                conv(p + "downsample.0", 4 * width, in_c, 1)
                bn(p + "downsample.1", 4 * width)
            in_c = 4 * width
    k = 1 / math.sqrt(in_c)
    spec["fc.weight"] = TensorSpec((classes, in_c), init="fan_in_uniform_")
    spec["fc.bias"] = TensorSpec((classes,), init="uniform_", params={"a": -k, "b": k})
    return spec


def _mlp(sizes) -> Dict[str, TensorSpec]:
    spec = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        k = 1 / math.sqrt(n_in)
        spec[f"fc{i + 1}.weight"] = TensorSpec((n_out, n_in), init="fan_in_uniform_")
        spec[f"fc{i + 1}.bias"] = TensorSpec((n_out,), init="uniform_", params={"a": -k, "b": k})
    return spec


ARCHS: Dict[str, Callable[[], Dict[str, TensorSpec]]] = {
    "gpt2": lambda: _gpt2(12, 768),
    "gpt2-medium": lambda: _gpt2(24, 1024),
    "gpt2-large": lambda: _gpt2(36, 1280),
    "gpt2-xl": lambda: _gpt2(48, 1600),
    "llama-tiny": lambda: _llama(2, 256, 688, 32000, heads=4),
    "llama3.2-1b": lambda: _llama(16, 2048, 8192, 128256, heads=32, kv_heads=8, tied=True),
    "llama-7b": lambda: _llama(32, 4096, 11008, 32000, heads=32),
    "llama3-8b": lambda: _llama(32, 4096, 14336, 128256, heads=32, kv_heads=8),
    "bert-base": lambda: _bert(12, 768),
    "bert-large": lambda: _bert(24, 1024),
    "resnet50": _resnet50,
    "mlp-mnist": lambda: _mlp((784, 256, 128, 10)),
}


def arch_spec(name: str) -> Dict[str, TensorSpec]:
    """The {parameter name: TensorSpec} of an embedded architecture."""
    if name not in ARCHS:
        raise ValueError(f"unknown architecture {name!r}; known: {', '.join(ARCHS)}")
    return ARCHS[name]()


# transformers' defaults (5.x, as 4.x) for what a config.json leaves out; None: derived as transformers derives it
_LLAMA = {"vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
          "num_attention_heads": 32, "num_key_value_heads": None, "head_dim": None, "tie_word_embeddings": False,
          "initializer_range": 0.02, "pad_token_id": None}
_GEMMA = {**_LLAMA, "vocab_size": 256000, "head_dim": 256, "tie_word_embeddings": True, "pad_token_id": 0,
          "attention_bias": False}
_QWEN_VL = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe", "qwen3_5", "qwen3_5_moe")  # (:func:`_qwen_vl`)
_V3 = ("qwen3_vl", "qwen3_vl_moe", "qwen3_5", "qwen3_5_moe")  # (Qwen3-VL's model: its text under
# model.language_model., its vision's learned positions)
_HYBRID = ("qwen3_next", "qwen3_5_text", "qwen3_5_moe_text")  # (Gated DeltaNet and gated attention layers)
_TEXT_OF = {"qwen3_vl": "qwen3", "qwen3_vl_moe": "qwen3_moe", "qwen3_5": "qwen3_5_text",
            "qwen3_5_moe": "qwen3_5_moe_text"}  # (the decoders of Qwen3-VL's and Qwen3.5's image-text models)
_TEXT_CONFIG = {kind: kind + "_text" for kind in _V3}  # (their text configs' model_type)
_DELTANET = {"linear_conv_kernel_dim": 4, "linear_key_head_dim": 128, "linear_value_head_dim": 128,
             "linear_num_key_heads": 16, "linear_num_value_heads": 32}  # (Qwen3-Next's and Qwen3.5's Gated DeltaNet)
_HF_DEFAULTS: Dict[str, Dict[str, Any]] = {
    "llama": {**_LLAMA, "attention_bias": False, "mlp_bias": False},
    "mistral": {**_LLAMA, "intermediate_size": 14336, "num_key_value_heads": 8},
    "ministral3": {**_LLAMA, "vocab_size": 131072, "intermediate_size": 14336, "num_hidden_layers": 34,
                   "num_key_value_heads": 8, "head_dim": 128, "pad_token_id": 11},
    "qwen2": {**_LLAMA, "vocab_size": 151936, "intermediate_size": 22016, "num_key_value_heads": 32,
              "max_window_layers": 28},
    "qwen3": {**_LLAMA, "vocab_size": 151936, "intermediate_size": 22016, "num_key_value_heads": 32, "head_dim": 128,
              "attention_bias": False, "max_window_layers": 28},
    "gemma": {**_GEMMA, "hidden_size": 3072, "intermediate_size": 24576, "num_hidden_layers": 28,
              "num_attention_heads": 16, "num_key_value_heads": 16},
    "gemma2": {**_GEMMA, "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": 26,
               "num_attention_heads": 8, "num_key_value_heads": 4},
    "gemma3_text": {**_GEMMA, "vocab_size": 262208, "hidden_size": 2304, "intermediate_size": 9216,
                    "num_hidden_layers": 26, "num_attention_heads": 8, "num_key_value_heads": 4},
    "phi3": {**_LLAMA, "vocab_size": 32064, "hidden_size": 3072, "intermediate_size": 8192, "pad_token_id": 32000},
    "mixtral": {**_LLAMA, "intermediate_size": 14336, "num_key_value_heads": 8, "num_local_experts": 8,
                "num_experts_per_tok": 2},
    "qwen2_moe": {**_LLAMA, "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 5632,
                  "num_hidden_layers": 24, "num_attention_heads": 16, "num_key_value_heads": 16, "qkv_bias": True,
                  "num_experts": 60, "num_experts_per_tok": 4, "moe_intermediate_size": 1408,
                  "shared_expert_intermediate_size": 5632, "decoder_sparse_step": 1, "mlp_only_layers": None,
                  "max_window_layers": 28},
    "qwen3_moe": {**_LLAMA, "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 6144,
                  "num_hidden_layers": 24, "num_attention_heads": 32, "num_key_value_heads": 4, "attention_bias": False,
                  "num_experts": 128, "num_experts_per_tok": 8, "moe_intermediate_size": 768, "decoder_sparse_step": 1,
                  "mlp_only_layers": None},
    "deepseek_v3": {**_LLAMA, "vocab_size": 129280, "hidden_size": 7168, "intermediate_size": 18432,
                    "num_hidden_layers": 61, "num_attention_heads": 128, "attention_bias": False,
                    "n_routed_experts": 256, "num_experts_per_tok": 8, "n_group": 8, "topk_group": 4,
                    "n_shared_experts": 1, "moe_intermediate_size": 2048, "first_k_dense_replace": 3,
                    "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
                    "v_head_dim": 128},
    "gpt_oss": {**_LLAMA, "vocab_size": 201088, "hidden_size": 2880, "intermediate_size": 2880,
                "num_hidden_layers": 36, "num_attention_heads": 64, "num_key_value_heads": 8, "head_dim": 64,
                "num_local_experts": 128, "num_experts_per_tok": 4, "attention_bias": True, "hidden_act": "silu"},
    "granite": {**_LLAMA, "attention_bias": False, "mlp_bias": False},
    "smollm3": {**_LLAMA, "vocab_size": 128256, "hidden_size": 2048, "num_hidden_layers": 36,
                "num_attention_heads": 16, "num_key_value_heads": 4, "tie_word_embeddings": True,
                "pad_token_id": 128004, "attention_bias": False, "mlp_bias": False, "no_rope_layer_interval": 4},
    "seed_oss": {**_LLAMA, "vocab_size": 155136, "intermediate_size": 27648, "num_hidden_layers": 64,
                 "num_attention_heads": 80, "num_key_value_heads": 8, "head_dim": 128, "pad_token_id": 1,
                 "attention_bias": True, "attention_out_bias": False, "mlp_bias": False},
    "ernie4_5": {**_LLAMA, "vocab_size": 103424, "hidden_size": 1024, "intermediate_size": 3072,
                 "num_hidden_layers": 18, "num_attention_heads": 16, "num_key_value_heads": 2, "head_dim": 128,
                 "tie_word_embeddings": True, "pad_token_id": 0, "use_bias": False},
    "olmo2": {**_LLAMA, "vocab_size": 50304, "pad_token_id": 1, "attention_bias": False},
    "olmo3": {**_LLAMA, "vocab_size": 50304, "pad_token_id": 1, "attention_bias": False},
    "exaone4": {**_LLAMA, "vocab_size": 102400, "intermediate_size": 16384, "num_key_value_heads": 32},
    "glm4_moe": {**_LLAMA, "vocab_size": 151552, "intermediate_size": 10944, "num_hidden_layers": 46,
                 "num_attention_heads": 96, "num_key_value_heads": 8, "attention_bias": False, "use_qk_norm": False,
                 "n_routed_experts": 128, "num_experts_per_tok": 8, "n_shared_experts": 1,
                 "moe_intermediate_size": 1408, "first_k_dense_replace": 1, "n_group": 1, "topk_group": 1},
    "qwen3_next": {**_LLAMA, "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 5632,
                   "num_hidden_layers": 48, "num_attention_heads": 16, "num_key_value_heads": 2, "head_dim": 256,
                   "attention_bias": False, **_DELTANET, "num_experts": 512, "num_experts_per_tok": 10,
                   "moe_intermediate_size": 512, "shared_expert_intermediate_size": 512, "decoder_sparse_step": 1,
                   "mlp_only_layers": None},
    "qwen3_5_text": {**_LLAMA, "vocab_size": 248320, "intermediate_size": 12288, "num_attention_heads": 16,
                     "num_key_value_heads": 4, "head_dim": 256, "attention_bias": False, **_DELTANET},
    "qwen3_5_moe_text": {**_LLAMA, "vocab_size": 248320, "hidden_size": 2048, "num_hidden_layers": 40,
                         "num_attention_heads": 16, "num_key_value_heads": 2, "head_dim": 256,
                         "attention_bias": False, "num_experts": 256, "num_experts_per_tok": 8,
                         "moe_intermediate_size": 512, "shared_expert_intermediate_size": 512, **_DELTANET},
    "llama4_text": {**_LLAMA, "vocab_size": 202048, "hidden_size": 5120, "intermediate_size": 8192,
                    "intermediate_size_mlp": 16384, "num_hidden_layers": 48, "num_attention_heads": 40,
                    "num_key_value_heads": 8, "head_dim": 128, "attention_bias": False, "num_local_experts": 16,
                    "num_experts_per_tok": 1, "interleave_moe_layer_step": 1, "moe_layers": None},
    "gemma3": {"initializer_range": 0.02, "tie_word_embeddings": True},
    "mistral3": {"tie_word_embeddings": True, "spatial_merge_size": 2, "multimodal_projector_bias": False,
                 "initializer_range": None, "init_std": None, "initializer_factor": None},
    "llama4": {"initializer_range": None, "tie_word_embeddings": False},
    **dict.fromkeys(_QWEN_VL, {"tie_word_embeddings": False,
                                                                             "initializer_range": 0.02}),
    "gpt2": {"vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": None,
             "tie_word_embeddings": True, "initializer_range": 0.02},
    "bert": {"vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
             "intermediate_size": 3072, "max_position_embeddings": 512, "type_vocab_size": 2, "pad_token_id": 0,
             "initializer_range": 0.02},
}
_LLAMA4_VISION = {"hidden_size": 768, "intermediate_size": 5632, "num_hidden_layers": 34, "num_attention_heads": 16,
                  "num_channels": 3, "image_size": 448, "patch_size": 14, "vision_output_dim": 7680,
                  "projector_input_dim": 4096, "projector_output_dim": 4096, "pixel_shuffle_ratio": 0.5,
                  "initializer_range": 0.02, "multi_modal_projector_bias": False}  # (Llama4VisionConfig's)
_MISTRAL3_TEXT = {"head_dim": 128, "hidden_size": 5120, "intermediate_size": 32768, "num_attention_heads": 32,
                  "num_hidden_layers": 40, "num_key_value_heads": 8, "vocab_size": 131072,
                  "sliding_window": None}  # (Mistral 3's text defaults where its text_config is null)
_MISTRAL3_VISION = {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24, "num_attention_heads": 16,
                    "image_size": 1540, "patch_size": 14}  # (and its vision's)
_PIXTRAL = {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24, "num_attention_heads": 16,
            "num_channels": 3, "image_size": 1024, "patch_size": 16, "head_dim": None,
            "initializer_range": 0.02}  # (PixtralVisionConfig's)
_SIGLIP = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
           "num_channels": 3, "image_size": 224, "patch_size": 16, "vision_use_head": True}  # (SiglipVisionConfig's)
_QWEN_VL_TEXT = {"vocab_size": 152064, "hidden_size": 8192, "intermediate_size": 29568, "num_hidden_layers": 80,
                 "num_attention_heads": 64, "num_key_value_heads": 8,
                 "max_window_layers": 80}  # (Qwen2-VL's and Qwen2.5-VL's text configs')
_QWEN_VISION = {  # (their vision configs')
    "qwen2_vl": {"depth": 32, "embed_dim": 1280, "hidden_size": 3584, "mlp_ratio": 4, "num_heads": 16, "in_channels": 3,
                 "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2, "initializer_range": 0.02},
    "qwen2_5_vl": {"depth": 32, "hidden_size": 3584, "intermediate_size": 3420, "num_heads": 16, "in_channels": 3,
                   "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2, "out_hidden_size": 3584,
                   "window_size": 112, "initializer_range": 0.02},
    "qwen3_vl": {"depth": 27, "hidden_size": 1152, "intermediate_size": 4304, "num_heads": 16, "in_channels": 3,
                 "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2, "out_hidden_size": 3584,
                 "num_position_embeddings": 2304, "deepstack_visual_indexes": [8, 16, 24], "initializer_range": 0.02}}
_QWEN_VISION["qwen3_vl_moe"] = _QWEN_VISION["qwen3_vl"]
_QWEN_VISION["qwen3_5"] = _QWEN_VISION["qwen3_5_moe"] = {k: v for k, v in _QWEN_VISION["qwen3_vl"].items()
                                                         if k != "deepstack_visual_indexes"}  # (no deepstack)
_QWEN3_VL_MOE_TEXT = {"vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 24,
                      "num_attention_heads": 16, "num_key_value_heads": 16, "num_experts": 60, "num_experts_per_tok": 4,
                      "moe_intermediate_size": 1408}  # (Qwen3-VL-MoE's text config's, where they are not Qwen3-MoE's)
_DERIVED = ("num_key_value_heads", "head_dim", "n_inner")  # left out: derived (head count, hidden / heads, 4 hidden)
_NULLABLE = {  # where transformers 5 derives them from an explicit null too (elsewhere its config or model fails)
    "llama": _DERIVED, "mistral": ("head_dim",), "mixtral": ("head_dim",), "qwen2": _DERIVED[:1],
    "qwen3": _DERIVED[:1], "phi3": _DERIVED[:1], "deepseek_v3": _DERIVED[:1], "gpt2": _DERIVED,
    "granite": _DERIVED[:1], "olmo2": _DERIVED[:1], "olmo3": _DERIVED[:1], "seed_oss": _DERIVED[:2],
    "ernie4_5": _DERIVED[:2], "smollm3": _DERIVED[:1], "pixtral": ("head_dim",)}
_ALIASES = {  # the configs' attribute_map: the other names a key goes by
    "gpt2": {"n_embd": "hidden_size", "n_layer": "num_hidden_layers", "n_head": "num_attention_heads",
             "n_positions": "max_position_embeddings"},
    "mixtral": {"num_local_experts": "num_experts"},
    "qwen3_moe": {"num_experts": "num_local_experts"},  # (the published configs' name; transformers 5 saves the other)
    "deepseek_v3": {"n_routed_experts": "num_local_experts"},
    "glm4_moe": {"n_routed_experts": "num_local_experts"},
    "gpt_oss": {"num_local_experts": "num_experts"},
    "mistral3": {"image_token_index": "image_token_id"}}
_FLOAT32 = {  # tensors transformers keeps in float32 in a model of any dtype (_keep_in_fp32_modules_strict)
    "deepseek_v3": ("mlp.gate.weight", "mlp.gate.e_score_correction_bias"),
    "glm4_moe": ("mlp.gate.weight", "mlp.gate.e_score_correction_bias")}
HF_MODEL_TYPES = tuple(_HF_DEFAULTS)
_DECODERS = tuple(k for k in HF_MODEL_TYPES if k not in ("gpt2", "bert", "gemma3", "llama4", "mistral3", *_QWEN_VL))


def read_config(config: Mapping | str | os.PathLike) -> tuple[Mapping, str]:
    """(the configuration, what to call it in messages: its path) from a mapping, a config.json or the folder
    holding one."""
    if isinstance(config, Mapping):
        return config, "config"
    if not isinstance(config, (str, os.PathLike)):
        raise TypeError(f"config must be a mapping, or the path of a config.json or of its folder, got "
                        f"{type(config).__name__}")
    path = os.fspath(config)
    if os.path.isdir(path):
        path = os.path.join(path, "config.json")
    try:
        with open(path, encoding="utf-8") as f:
            loaded = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not JSON: {e}") from e
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 text: {e}") from e
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} holds a JSON {type(loaded).__name__}, not a configuration object")
    return loaded, path


def config_spec(config: Mapping | str | os.PathLike, *, name: str | None = None,
                dtype: Any = "float32") -> Dict[str, TensorSpec]:
    """The {parameter name: TensorSpec} of a Hugging Face model from its configuration: a ``config.json`` (or the
    folder that holds it), or the same as a mapping. No download and no transformers needed.

    ``model_type`` ``"llama"``, ``"mistral"``, ``"ministral3"``, ``"qwen2"``, ``"qwen3"``, ``"gemma"``, ``"gemma2"``,
    ``"gemma3_text"``, ``"phi3"``, ``"granite"``, ``"smollm3"``, ``"seed_oss"``, ``"ernie4_5"``, ``"olmo2"``,
    ``"olmo3"``, ``"exaone4"``, ``"mixtral"``, ``"qwen2_moe"``, ``"qwen3_moe"``, ``"qwen3_next"``, ``"deepseek_v3"``,
    ``"glm4_moe"``, ``"gpt_oss"``, ``"llama4_text"``, ``"qwen3_5_text"``, ``"qwen3_5_moe_text"`` (``…ForCausalLM``;
    Qwen3-Next's and Qwen3.5's Gated DeltaNet and gated attention layers, :func:`_gated_deltanet`,
    :func:`_gated_attention`; the experts one tensor each, named as the published checkpoints and transformers'
    ``save_pretrained`` name them, GPT-OSS's fused as it saves them (:func:`_gpt_oss_experts`), Llama 4's as its
    checkpoints (:func:`_llama4_moe`); DeepSeek's multi-head latent attention, its (and GLM-4.5's) first
    ``first_k_dense_replace`` layers dense; their multi-token-prediction layers, which transformers does not build, left
    out), ``"gemma3"`` (``Gemma3ForConditionalGeneration``: :func:`_gemma3`), ``"mistral3"`` (:func:`_mistral3`),
    ``"llama4"`` (:func:`_llama4`), ``"qwen2_vl"``, ``"qwen2_5_vl"``, ``"qwen3_vl"``, ``"qwen3_vl_moe"``, ``"qwen3_5"``,
    ``"qwen3_5_moe"`` (:func:`_qwen_vl`), ``"gpt2"`` (``GPT2Model``'s names, as the embedded ``gpt2``; with
    ``tie_word_embeddings: false``, ``GPT2LMHeadModel``'s) and ``"bert"`` (``BertModel``); the names and shapes those
    transformers classes build from it, a key left out taking transformers' default. Values as transformers'
    ``_init_weights``: weights and embeddings N(0, initializer_range²) (GPT-2's residual projections divided by sqrt(2
    n_layer)), the ``pad_token_id`` row of the token embedding zero, biases zero, norms' scales one (Gemma's, which
    scale by 1 + weight, zero), shifts zero; experts and routers N(0, initializer_range²) (0 meaning 0 there, as in
    transformers; Llama 4's router, an ``nn.Linear``, and the shared experts by the linear rule: 0.02 for a 0).
    ``name``: what messages call the configuration (default: its path; ``config`` for a mapping).
    ``dtype``: every tensor's, except those transformers keeps in float32 (DeepSeek-V3's and GLM-4.5's routers and their
    ``e_score_correction_bias``, as its ``save_pretrained`` writes them; GPT-OSS's norms, which it upcasts when it loads
    a float16 model, are written in ``dtype``, as its ``save_pretrained`` of such a model writes them). A
    ``quantization_config`` is not followed: the values are written unquantized. A ValueError naming the key refuses a
    config transformers' config refuses or whose model fails in its forward pass (:func:`_check_runs`), and an MLP
    activation with parameters of its own (prelu, xielu), which it does not list."""
    cfg, where = read_config(config)
    where = where if name is None else name
    kind = cfg.get("model_type")
    if not isinstance(kind, str) or kind not in _HF_DEFAULTS:
        raise ValueError(f"{where}: model_type {kind!r} is not supported; supported: {', '.join(HF_MODEL_TYPES)}")
    defaults = _HF_DEFAULTS[kind]
    if kind in ("gpt2", "bert") and cfg.get("add_cross_attention") is True:  # (their layers attending to an encoder)
        raise ValueError(f"{where}: add_cross_attention (cross-attention layers) is not supported")
    cfg = _aliased(cfg, _ALIASES.get(kind, {}), where)
    if isinstance(cfg.get("layer_types"), list):  # (transformers renames the old names in every config)
        cfg = {**cfg, "layer_types": [_OLD_TYPES.get(t, t) if isinstance(t, str) else t for t in cfg["layer_types"]]}
    dtype = resolve_dtype(dtype)  # (refused before anything is built)
    spec = _config_spec(kind, cfg, _getter(cfg, defaults, kind, where), where)
    kept = _FLOAT32.get((cfg.get("text_config") or {}).get("model_type", "mistral") if kind == "mistral3" else kind,
                        ())  # (Mistral 3's: its decoder's)
    return {n: replace(t, dtype=np.dtype(np.float32) if kept and n.endswith(kept) else dtype)
            for n, t in spec.items()}


def _aliased(cfg: Mapping, aliases: Mapping, where: str) -> Mapping:
    """``cfg`` with each key of ``aliases`` (``{key: its other name}``, a config's ``attribute_map``) set from its other
    name where only that is given; the two disagreeing is refused."""
    for key, alias in aliases.items():
        if alias in cfg and key in cfg and cfg[key] != cfg[alias]:
            raise ValueError(f"{where}: {key} {cfg[key]!r} and {alias} {cfg[alias]!r} name the same size")
    return {**{key: cfg[alias] for key, alias in aliases.items() if alias in cfg}, **cfg}


def _is_int(v) -> bool:
    """An int that is not a bool (a config's integer)."""
    return isinstance(v, int) and not isinstance(v, bool)


# transformers 5's activations (ACT2FN) without parameters of their own; prelu and xielu add some to each MLP
_ACTIVATIONS = ("gelu", "gelu_10", "gelu_accurate", "gelu_fast", "gelu_new", "gelu_python", "gelu_python_tanh",
                "gelu_pytorch_tanh", "hardswish", "laplace", "leaky_relu", "linear", "mish", "quick_gelu", "relu",
                "relu2", "relu6", "sigmoid", "silu", "sqrtsoftplus", "swish", "tanh")
_WITH_PARAMETERS = {"prelu": "weight", "xielu": "alpha_p, alpha_n"}
_ACT_KEY = {"gemma2": "hidden_activation", "gemma3_text": "hidden_activation", "gpt2": "activation_function",
            "gpt_oss": None}  # the key a family's MLPs read (else hidden_act; GPT-OSS's none: a string, unread)


def _getter(cfg: Mapping, defaults: Mapping, kind: str, where: str) -> Callable:
    """``get(key, check="size")``: ``cfg``'s value of ``key`` (else its default), checked as a ``"size"`` (an int >= 1;
    None where transformers derives it), a ``"count"`` (an int >= 0), an ``"int"``, a ``"flag"``, a ``"std"`` (a finite
    float >= 0, as transformers' configs take it; ``"std or null"``, a number, where the config has no such field),
    ``"indices"`` (a list of ints >= 0), a ``"str"`` or an ``"activation"`` (one of :data:`_ACTIVATIONS`, where
    given: prelu's and xielu's parameters are not listed, an unknown name fails transformers' build)."""
    def get(key: str, check: str = "size"):
        if check == "activation":
            value = cfg.get(key, "gelu")
            if isinstance(value, str) and value in _WITH_PARAMETERS:  # (a list: not hashable, refused below)
                raise ValueError(f"{where}: {key} {value!r} gives each MLP parameters of its own "
                                 f"({_WITH_PARAMETERS[value]}), which config_spec does not list")
            if not isinstance(value, str) or value not in _ACTIVATIONS:
                raise ValueError(f"{where}: {key} must be one of transformers' activations ({', '.join(_ACTIVATIONS)})"
                                 f", got {value!r}")
            return value
        value = cfg.get(key, defaults[key])
        if check == "flag":
            ok = isinstance(value, bool)
        elif check == "indices":
            ok = isinstance(value, list) and all(_is_int(i) and i >= 0 for i in value)
        elif check == "int":  # (a field typed int whose value the model does not use, or uses as any int)
            ok = _is_int(value)
        elif check == "str":  # (a field typed str whose value the model does not use)
            ok = isinstance(value, str)
        elif check == "ratio":
            ok = isinstance(value, float) and 0 < value < math.inf
        elif check in ("std", "std or null"):  # (transformers' configs refuse a null range where it is a field)
            number = float if check == "std" else (int, float)  # (an int: refused by a config with the field)
            ok = value is None and check == "std or null" or (isinstance(value, number) and not isinstance(
                value, bool) and math.isfinite(value) and value >= 0)
        else:  # a size or a count (None where transformers derives it)
            ok = (value is None and key in _DERIVED and (key not in cfg or key in _NULLABLE.get(kind, ()))) or \
                (isinstance(value, int) and not isinstance(value, bool) and value >= (check == "size"))
        if not ok:
            what = {"flag": "true or false", "std": "a finite float >= 0 (0.0, not 0)", "std or null": "null or a "
                    "finite number >= 0", "size": "a positive integer",
                    "count": "an integer >= 0", "int": "an integer", "indices": "a list of integers >= 0",
                    "str": "a string", "ratio": "a finite float > 0"}[check]
            raise ValueError(f"{where}: {key} must be {what}, got {value!r}")
        return value
    return get


def _sub_config(cfg: Mapping, key: str, where: str) -> Mapping | None:
    """A composite config's ``key`` (``text_config``, ``vision_config``): an object, or None where it is null or
    left out."""
    given = cfg.get(key)
    if given is not None and not isinstance(given, Mapping):
        raise ValueError(f"{where}: {key} must be an object or null, got {given!r}")
    return given


def _typed_sub_configs(cfg: Mapping, where: str, text: str, vision: str) -> dict:
    """A composite config's ``text_config`` and ``vision_config`` ({} where null or left out), each with its
    ``model_type`` (``text``, ``vision``: another one is refused)."""
    sub = {}
    for key, kind in (("text_config", text), ("vision_config", vision)):
        given = _sub_config(cfg, key, where)
        if (given or {}).get("model_type", kind) != kind:
            raise ValueError(f"{where}: {key} model_type must be {kind!r}, got {given['model_type']!r}")
        sub[key] = {**(given or {}), "model_type": kind}
    return sub


def _rope(cfg: Mapping) -> Mapping:
    """A config's rotary parameters: a legacy ``rope_scaling`` first (unless empty), as transformers takes it, else
    its ``rope_parameters`` ({} where it has neither)."""
    return next((cfg[k] for k in ("rope_scaling", "rope_parameters") if isinstance(cfg.get(k), Mapping) and cfg[k]),
                {})  # (an empty rope_scaling: not taken, as transformers' `rope_scaling or rope_parameters`)


def _top_std(cfg: Mapping, get: Callable, text_range: Callable[[], float], where: str,
             keys: tuple = ("initializer_range",)) -> float:
    """The std an image-text model's top-level ``_init_weights`` draws its own modules with (its LM head, projector),
    PreTrainedModel's rule: the first of ``keys`` ``cfg`` has — ``initializer_range``, 0 or null meaning 0.02;
    ``init_std`` or ``initializer_factor`` as they are — else ``text_range()``, the text config's range as it is."""
    key = next((k for k in keys if k in cfg), None)
    if key is None:
        return text_range()
    std = get(key, "std or null")
    if key == "initializer_range":
        return std or 0.02
    if std is None:
        raise ValueError(f"{where}: {key} must be a finite number >= 0, got None")
    return std


def _gemma3(cfg: Mapping, get: Callable, where: str) -> Dict[str, TensorSpec]:
    """Gemma 3's image-text model (``Gemma3ForConditionalGeneration``; Gemma Team 2025) as transformers 5 saves it:
    its ``text_config``'s decoder under ``language_model.`` (:func:`config_spec` of ``gemma3_text``; an untied
    ``language_model.lm_head.weight`` N(0, initializer_range²) of the top-level config, which decides the tying), its
    ``vision_config``'s SigLIP tower under ``vision_tower.`` (:func:`_siglip_vision`) and the projector between
    them, ``mm_input_projection_weight`` (vision × text width) and its RMSNorm scale ``mm_soft_emb_norm`` (1 +
    weight), both zero as transformers initializes them."""
    sub = _typed_sub_configs(cfg, where, "gemma3_text", "siglip_vision_model")
    text = config_spec({**sub["text_config"], "tie_word_embeddings": True, _IMAGE_TEXT: True},
                       name=f"{where}: text_config")
    spec = {"language_model." + n: t for n, t in text.items()}
    seen = f"{where}: vision_config"
    vision = _getter(sub["vision_config"], _SIGLIP, "siglip_vision_model", seen)
    d_text, d_vision = text["model.norm.weight"].shape[0], vision("hidden_size")
    spec.update(_siglip_vision("vision_tower.", vision, seen))
    spec.update({"multi_modal_projector.mm_input_projection_weight": TensorSpec((d_vision, d_text), init="zeros_"),
                 "multi_modal_projector.mm_soft_emb_norm.weight": TensorSpec((d_vision,), init="zeros_")})
    std = (cfg.get("initializer_range", 0.02) is not None and get("initializer_range", "std")) or 0.02  # (the LM
    # head's: PreTrainedModel's rule, 0 or null meaning 0.02; its field takes a float or null)
    if not get("tie_word_embeddings", "flag"):
        vocab = text["model.embed_tokens.weight"].shape[0]
        spec["language_model.lm_head.weight"] = TensorSpec((vocab, d_text), init="normal_", params={"std": std})
    return spec


def _mistral3(cfg: Mapping, get: Callable, where: str) -> Dict[str, TensorSpec]:
    """Mistral 3's image-text model (``Mistral3ForConditionalGeneration``: Mistral Small 3.1 and 3.2) as transformers 5
    saves it: its ``text_config``'s decoder (Mistral's; another family :func:`config_spec` builds, as transformers
    takes any) under ``language_model.`` (its ``lm_head`` untied only by a top-level ``tie_word_embeddings`` false:
    transformers ties by that flag, true by default), the Pixtral vision encoder under ``vision_tower.``
    (:func:`_pixtral`) and ``multi_modal_projector.``: an RMSNorm of the vision width (one), the patch merger's
    ``merging_layer`` (vision × vision·spatial_merge_size²), ``linear_1`` (text × vision) and ``linear_2`` (text ×
    text), with ``multimodal_projector_bias`` biases (zero), and the LM head, N(0, std²) with the top-level model's
    std as transformers' ``_init_weights`` takes it (its ``initializer_range``, 0 or null meaning 0.02; else its
    ``init_std`` or ``initializer_factor``; else the text's range as it is).  A null or missing ``text_config`` /
    ``vision_config`` takes Mistral 3's own defaults (Mistral Small 3.1's sizes), a given one its class's.  Refused
    where an image's forward pass fails too: a ``vision_feature_layer`` outside the vision layers, 0 (no hidden
    states are kept for it; [0] is) or a list of more than one (the projector's norm is one layer's width), an
    ``image_token_index`` outside the vocabulary (its placeholders are embedded)."""
    given = {key: _sub_config(cfg, key, where) for key in ("text_config", "vision_config")}
    kind = (given["text_config"] or {}).get("model_type", "mistral")
    if kind not in _DECODERS:
        raise ValueError(f"{where}: text_config model_type must be a decoder's ({', '.join(_DECODERS)}), got {kind!r}")
    seen = f"{where}: text_config"
    text_cfg = {**(_MISTRAL3_TEXT if given["text_config"] is None else given["text_config"]), "model_type": kind}
    if "tie_word_embeddings" in text_cfg:  # (typed by its config, though the top-level flag ties)
        _getter(text_cfg, {"tie_word_embeddings": False}, kind, seen)("tie_word_embeddings", "flag")
    tied = get("tie_word_embeddings", "flag")
    text = config_spec({**text_cfg, "tie_word_embeddings": tied}, name=seen)
    spec = {"language_model." + n: t for n, t in text.items()}
    seen = f"{where}: vision_config"
    vision_cfg = _MISTRAL3_VISION if given["vision_config"] is None else given["vision_config"]
    if vision_cfg.get("model_type", "pixtral") != "pixtral":
        raise ValueError(f"{seen}: model_type must be 'pixtral', got {vision_cfg['model_type']!r}")
    vision = _getter(vision_cfg, _PIXTRAL, "pixtral", seen)
    d_text, d_vision, vocab = text["model.norm.weight"].shape[0], vision("hidden_size"), \
        text["model.embed_tokens.weight"].shape[0]
    spec.update(_pixtral("vision_tower.", vision, seen))
    layer, depth = cfg.get("vision_feature_layer", -1), vision("num_hidden_layers")
    one = layer[0] if isinstance(layer, list) and len(layer) == 1 else layer
    if not (_is_int(one) and -depth - 1 <= one <= depth and (one != 0 or isinstance(layer, list))):
        raise ValueError(f"{where}: vision_feature_layer must be a nonzero integer from {-depth - 1} to {depth} (the "
                         f"vision layer whose output is projected), or a list of one such integer or 0, got {layer!r}")
    token = cfg.get("image_token_index", 10)
    if not _is_int(token) or not 0 <= token < vocab:
        raise ValueError(f"{where}: image_token_index must be an integer from 0 to {vocab - 1} (a token of the "
                         f"vocabulary, which its placeholders are embedded as), got {token!r}")
    get("projector_hidden_act", "activation")
    top = _top_std(cfg, get, lambda: text_cfg.get("initializer_range", 0.02), where,
                   ("initializer_range", "init_std", "initializer_factor"))
    if not tied:  # (drawn by the top-level model's _init_weights, as the projector)
        spec["language_model.lm_head.weight"] = replace(spec["language_model.lm_head.weight"], params={"std": top})
    merge, bias, p = get("spatial_merge_size"), get("multimodal_projector_bias", "flag"), "multi_modal_projector."
    spec.update({p + "norm.weight": TensorSpec((d_vision,), init="ones_"),
                 **_linear(p + "patch_merger.merging_layer", d_vision, d_vision * merge ** 2, top, False),
                 **_linear(p + "linear_1", d_text, d_vision, top, bias), **_linear(p + "linear_2", d_text, d_text, top,
                                                                                   bias)})
    return spec


def _pixtral(prefix: str, get: Callable, where: str) -> Dict[str, TensorSpec]:
    """Pixtral's vision encoder (Mistral AI 2024) as transformers initializes it: the patch convolution (hidden ×
    channels × patch × patch, no bias) and each layer's attention (q/k/v/o, no biases) and gated feed-forward,
    N(0, its initializer_range² — 0 meaning 0.02), the RMSNorms (``ln_pre``, ``attention_norm``, ``ffn_norm``) one;
    heads of hidden_size // num_attention_heads, even and 4 or more (its 2-D rotary embedding's), a given ``head_dim``
    that number (its rotary embedding reads it, the attention not)."""
    width, heads, hidden = get("hidden_size"), get("num_attention_heads"), get("intermediate_size")
    std, patch = get("initializer_range", "std") or 0.02, get("patch_size")
    get("hidden_act", "activation")
    if width % heads or width // heads % 2 or width // heads < 4:  # (its axial rotary embedding turns pairs of
        # a head's dimensions, half of them by rows, half by columns)
        raise ValueError(f"{where}: hidden_size {width} must be num_attention_heads {heads} heads of an even number "
                         "of dimensions, 4 or more")
    given = get("head_dim")
    if given is not None and given != width // heads:  # (its rotary embedding takes it, its attention does not)
        raise ValueError(f"{where}: head_dim must be left out, null or hidden_size // num_attention_heads "
                         f"{width // heads}, got {given!r}")
    spec = {prefix + "patch_conv.weight": TensorSpec((width, get("num_channels"), patch, patch), init="normal_",
                                                     params={"std": std}),
            prefix + "ln_pre.weight": TensorSpec((width,), init="ones_")}
    for i in range(get("num_hidden_layers")):  # (one at least: the projector reads a layer's output)
        p = f"{prefix}transformer.layers.{i}."
        spec.update({p + "attention_norm.weight": TensorSpec((width,), init="ones_"),
                     **_gated_mlp(p + "feed_forward.", hidden, width, std, False),
                     **{p + f"attention.{n}_proj.weight": TensorSpec((width, width), init="normal_",
                                                                     params={"std": std}) for n in "qkvo"},
                     p + "ffn_norm.weight": TensorSpec((width,), init="ones_")})
    return spec


def _llama4(cfg: Mapping, get: Callable, where: str) -> Dict[str, TensorSpec]:
    """Llama 4's image-text model (``Llama4ForConditionalGeneration``; Meta 2025: Scout, Maverick) as its checkpoints
    store it: the ``text_config``'s decoder under ``language_model.`` (:func:`config_spec` of ``llama4_text``: dense
    layers of width ``intermediate_size_mlp``, sparse ones — every ``interleave_moe_layer_step``-th, or those
    ``moe_layers`` lists — with a router, a shared expert and fused experts, :func:`_llama4_moe`), its
    ``vision_config``'s encoder under ``vision_model.`` (:func:`_llama4_vision`) and the projector
    ``multi_modal_projector.linear_1`` (text width × ``vision_output_dim``), N(0, s²) with s the top-level
    ``initializer_range`` where the config has the key (0 or null: 0.02), else the text's as it is (0: zeros), as
    transformers' ``_init_weights`` of the top-level model takes it."""
    sub = _typed_sub_configs(cfg, where, "llama4_text", "llama4_vision_model")
    text = config_spec(sub["text_config"], name=f"{where}: text_config")
    spec = {"language_model." + n: t for n, t in text.items()}
    seen = f"{where}: vision_config"
    vision = _getter(sub["vision_config"], _LLAMA4_VISION, "llama4_vision_model", seen)
    spec.update(_llama4_vision("vision_model.", vision, seen))
    std = _top_std(cfg, get, lambda: _getter(sub["text_config"], _HF_DEFAULTS["llama4_text"], "llama4_text",
                                             f"{where}: text_config")("initializer_range", "std"), where)
    d_text = text["model.norm.weight"].shape[0]
    spec.update(_linear("multi_modal_projector.linear_1", d_text, vision("vision_output_dim"), std, False))
    return spec


def _llama4_vision(prefix: str, get: Callable, where: str) -> Dict[str, TensorSpec]:
    """Llama 4's vision encoder (``Llama4VisionModel``) with transformers' laws: the patch embedding (a linear map
    of the ``num_channels`` × ``patch_size``² pixels of a patch), the attention (q/k/v/o) and MLP (``fc1``/``fc2``)
    weights and the pixel-shuffle adapter's (``vision_adapter.mlp.fc1``/``fc2``, no biases) N(0, its config's
    initializer_range², 0 meaning 0.02), the class and position embeddings N(0, 1/hidden_size), biases zero,
    LayerNorms ones / zeros; heads of hidden_size // num_attention_heads (q/k/v heads × that wide), as transformers
    builds them.  Refused where transformers' forward pass on an image fails: heads not a multiple of 4 wide (its
    2-D rotary embedding), a ``pixel_shuffle_ratio`` that does not shuffle the patch grid and the width
    into ``intermediate_size`` (the adapter's input), ``projector_input_dim`` other than ``projector_output_dim``, a
    ``vision_output_dim`` other than the adapter's output (``projector_output_dim``)."""
    d, heads, hidden = get("hidden_size"), get("num_attention_heads"), get("intermediate_size")
    width = d // heads * heads  # (heads of hidden_size // num_attention_heads, a multiple or not, as it builds them)
    if not width or d // heads % 4:
        raise ValueError(f"{where}: hidden_size {d} // num_attention_heads {heads} must be a positive multiple of 4 "
                         "(the heads' width: its 2-D rotary embedding)")
    get("multi_modal_projector_bias", "flag")  # (unused by its projector, which has no bias; typed by its config)
    patch, grid = get("patch_size"), get("image_size") // get("patch_size")
    ratio = get("pixel_shuffle_ratio", "ratio")
    try:  # (its pixel_shuffle's views, in its arithmetic: int() of float products)
        side, wide, out_c = int(grid * ratio), int(d / ratio), int(d / ratio ** 2)
        fits = grid > 0 and side > 0 and grid * d == side * wide and grid * wide == side * out_c and out_c == hidden
    except (OverflowError, ValueError):
        fits = False
    if not fits:
        raise ValueError(f"{where}: pixel_shuffle_ratio {ratio} must shuffle the {grid} × {grid} patches "
                         f"(image_size // patch_size) into a whole grid and hidden_size {d} into intermediate_size "
                         f"{hidden} = hidden_size / pixel_shuffle_ratio² (the adapter's input)")
    into, out = get("projector_input_dim"), get("projector_output_dim")
    if into != out or get("vision_output_dim") != out:
        raise ValueError(f"{where}: projector_input_dim {into}, projector_output_dim {out} and vision_output_dim "
                         f"{get('vision_output_dim')} must be equal (the adapter's layers and the projector's input)")
    std, scale = get("initializer_range", "std") or 0.02, {"std": 1 / math.sqrt(d)}

    def linear(name, rows, cols, bias=True):
        return _linear(prefix + name, rows, cols, std, bias)

    def norm(name):
        return {prefix + name + ".weight": TensorSpec((d,), init="ones_"),
                prefix + name + ".bias": TensorSpec((d,), init="zeros_")}

    spec = {**linear("patch_embedding.linear", d, get("num_channels") * patch * patch, False),
            prefix + "class_embedding": TensorSpec((d,), init="normal_", params=scale),
            prefix + "positional_embedding_vlm": TensorSpec((grid ** 2 + 1, d), init="normal_", params=scale),
            **norm("layernorm_pre"), **norm("layernorm_post")}
    for i in range(get("num_hidden_layers", "count")):
        p = f"model.layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj"):
            spec.update(linear(p + "self_attn." + proj, width, d))
        spec.update(linear(p + "self_attn.o_proj", d, width))
        spec.update({**linear(p + "mlp.fc1", hidden, d), **linear(p + "mlp.fc2", d, hidden),
                     **norm(p + "input_layernorm"), **norm(p + "post_attention_layernorm")})
    return {**spec, **linear("vision_adapter.mlp.fc1", into, hidden, False),
            **linear("vision_adapter.mlp.fc2", out, out, False)}


def _qwen_vl(kind: str, cfg: Mapping, get: Callable, where: str) -> Dict[str, TensorSpec]:
    """Qwen2-VL's, Qwen2.5-VL's, Qwen3-VL's, Qwen3-VL-MoE's, Qwen3.5's and Qwen3.5-MoE's image-text models
    (``Qwen2VLForConditionalGeneration``, ...; Wang et al. 2024, Bai et al. 2025) under the published checkpoints'
    names, as transformers 5's ``save_pretrained`` writes them: the decoder of the ``text_config`` — or of the top-level
    keys, as Qwen2(.5)-VL's published config.json files give it — (Qwen2's, with q/k/v biases, under ``model.``;
    Qwen3's, with per-head q/k norms, under ``model.language_model.``; Qwen3-VL-MoE's Qwen3-MoE decoder with its experts
    fused as published, :func:`_fused_gated_experts`; Qwen3.5's hybrid decoders, ``qwen3_5_text`` and
    ``qwen3_5_moe_text``) and ``lm_head`` (tied by the top-level ``tie_word_embeddings``), N(0, its initializer_range²);
    the vision transformer of the ``vision_config`` (:func:`_qwen_vision`)."""
    v3 = kind in _V3
    given = _sub_config(cfg, "text_config", where)
    text = dict(given) if given is not None else {k: v for k, v in cfg.items() if k not in (
        "model_type", "vision_config", "text_config", "tie_word_embeddings")}  # (the published files: flat)
    seen = f"{where}: text_config" if given is not None else where
    if v3 and text.get("model_type", _TEXT_CONFIG[kind]) != _TEXT_CONFIG[kind]:  # (transformers builds the
        # model's decoder whatever it says, but converts its checkpoint by that type: another one's names)
        raise ValueError(f"{seen}: model_type must be {_TEXT_CONFIG[kind]!r}, got {text['model_type']!r}")
    if given is not None:  # (transformers ties them where either config says so)
        _getter(text, {"tie_word_embeddings": False}, kind, seen)("tie_word_embeddings", "flag")
    elif v3:  # (its config takes no flat layout: the top-level sizes would be ignored)
        flat = sorted(set(text) & {"hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                                   "num_key_value_heads", "head_dim", "vocab_size", "num_experts", "num_local_experts",
                                   "num_experts_per_tok", "moe_intermediate_size", "decoder_sparse_step",
                                   "mlp_only_layers", "shared_expert_intermediate_size", *_DELTANET})
        if flat:
            raise ValueError(f"{where}: {flat} belong in text_config (transformers' {kind} config ignores them at "
                             "the top level)")
        text = {}
    else:
        text.pop("head_dim", None)  # (not the text's in the flat layout: transformers leaves it at the top level)
    tied = get("tie_word_embeddings", "flag") or not v3 and text.get("tie_word_embeddings") is True
    # (Qwen2(.5)-VL's config carries the text's flag up; Qwen3-VL's reads its own alone)
    if v3:  # (Qwen3's decoder, its defaults Qwen3-VL's text config's: head_dim its own; Qwen3-MoE's for the MoE;
        # Qwen3.5's hybrid decoders, which check their rotary sections themselves)
        if kind in ("qwen3_vl", "qwen3_vl_moe"):
            _check_sections(text, [24, 20, 20], seen)
        if kind == "qwen3_vl_moe":  # (its config derives head_dim where it is null or 0: hidden // heads)
            text = {**_QWEN3_VL_MOE_TEXT, **_aliased(text, _ALIASES["qwen3_moe"], seen)}
            d, heads = text["hidden_size"], text["num_attention_heads"]
            hd = text.get("head_dim")
            if (hd is None or _is_int(hd) and hd == 0) and all(_is_int(n) and n > 0 for n in (d, heads)):  # (else
                # refused by the decoder)
                text["head_dim"] = d // heads
        if kind in ("qwen3_vl", "qwen3_vl_moe"):
            text = _vl_window(text, seen)
        spec = config_spec({**text, "model_type": _TEXT_OF[kind], "tie_word_embeddings": tied}, name=seen)
        spec = {n.replace("model.", "model.language_model.", 1): t for n, t in spec.items()}
        if kind == "qwen3_vl_moe":
            spec = _fused_gated_experts(spec)
    else:
        spec = config_spec(_qwen2_vl_text(text, tied, seen), name=seen)
    top = cfg if given is not None or v3 else {}  # (a flat layout's top-level range is the text's: Qwen2(.5)-VL's
    # config moves it)
    if not tied or "initializer_range" in top:  # (checked tied too: transformers draws the head before tying it)
        std = _top_std(top, get, lambda: _getter(text, {"initializer_range": 0.02}, kind, seen)("initializer_range",
                                                                                               "std"), where)
    if not tied:
        spec["lm_head.weight"] = replace(spec["lm_head.weight"], params={"std": std})
    seen = f"{where}: vision_config"
    vision = _aliased(_sub_config(cfg, "vision_config", where) or {},
                      {"num_heads": "num_attention_heads", "depth": "num_hidden_layers"}, seen)
    get = _getter(vision, _QWEN_VISION[kind], kind, seen)
    get("hidden_act", "activation")
    key = "hidden_size" if kind == "qwen2_vl" else "out_hidden_size"
    d = spec["model.language_model.norm.weight" if v3 else "model.norm.weight"].shape[0]
    if get(key) != d:  # (its tokens are the decoder's inputs)
        raise ValueError(f"{seen}: {key} {get(key)} (the width of the merger's tokens) must be the text's "
                         f"hidden_size {d}")
    if v3 and vision.get("head_dim") and vision["head_dim"] != get("hidden_size") // get("num_heads"):  # (its
        # rotary embedding takes a given one, its attention not: images fail)
        raise ValueError(f"{seen}: head_dim must be left out or hidden_size // num_heads "
                         f"{get('hidden_size') // get('num_heads')} (the attention's), got {vision['head_dim']!r}")
    spec.update(_qwen_vision(kind, get, seen))
    return spec


def _check_sections(cfg: Mapping, default: list, where: str) -> None:
    """Qwen3-VL's and Qwen3.5's rotary sections (``mrope_section``, interleaved: 3 of any size, time, height and
    width; their rotary embedding slices by the last two)."""
    section = _rope(cfg).get("mrope_section", default)
    if not isinstance(section, (list, tuple)) or len(section) < 3 or not all(isinstance(n, int) for n in section[1:3]):
        raise ValueError(f"{where}: rope_parameters' mrope_section must list the rotary sections of time, height and "
                         f"width (3; height's and width's integers), got {section!r}")


def _vl_window(text: dict, where: str) -> dict:
    """Qwen3-VL's text config with its layer types made full attention for the Qwen3 decoder's checks, once its
    sliding layers are checked as its model runs them: its config has no window or flag of its own, a given
    ``sliding_window`` must be an integer (with no ``layer_types`` transformers' cache slides every layer by it) and
    a ``sliding_attention`` layer needs one (its forward pass fails without)."""
    types, window = text.get("layer_types"), text.get("sliding_window")
    if window is not None and not _is_int(window):
        raise ValueError(f"{where}: sliding_window must be null or an integer, got {window!r}")
    if isinstance(types, list) and "sliding_attention" in types and window is None:
        raise ValueError(f"{where}: a sliding_attention layer (layer_types) needs an integer sliding_window, got "
                         "None")
    text = {k: v for k, v in text.items() if k not in ("sliding_window", "use_sliding_window", "max_window_layers")}
    if isinstance(types, list):  # (the rest of their checks: the decoder's)
        text["layer_types"] = ["full_attention" if t == "sliding_attention" else t for t in types]
    return text


def _qwen2_vl_text(text: dict, tied: bool, where: str) -> dict:
    """Qwen2(.5)-VL's text config as a ``qwen2`` one (its defaults), refusing what its attention and rotary
    embedding fail on: heads of other than hidden_size // num_attention_heads, ``mrope_section`` (the rotary
    dimensions of time, height and width) not summing to half a head."""
    text = {**_QWEN_VL_TEXT, **text, "model_type": "qwen2", "tie_word_embeddings": tied}
    for key in ("use_sliding_window", "max_window_layers"):  # (null in its fields: unset, where Qwen2's take no null)
        if key in text and text[key] is None and (key == "use_sliding_window"
                                                    or text.get("use_sliding_window") is not True):
            del text[key]
    d, heads = text["hidden_size"], text["num_attention_heads"]
    sizes = all(_is_int(v) and v > 0 for v in (d, heads))  # (else refused later)
    if sizes and d % heads:  # (its attention refuses it: no head_dim of its own)
        raise ValueError(f"{where}: hidden_size {d} is not a multiple of num_attention_heads {heads}")
    if "head_dim" in text and not (sizes and text["head_dim"] == d // heads):
        raise ValueError(f"{where}: head_dim must be left out or equal hidden_size // num_attention_heads, got "
                         f"{text['head_dim']!r}")
    text.pop("head_dim", None)
    section = _rope(text).get("mrope_section", [16, 24, 24])  # (transformers' default where the config has none)
    if sizes and (not isinstance(section, list) or not all(_is_int(n) and n >= 0 for n in section)
                  or 2 * sum(section) != d // heads):
        raise ValueError(f"{where}: rope_parameters' mrope_section {section!r} (the rotary dimensions of time, height "
                         f"and width) must sum to half a head, hidden_size // num_attention_heads // 2 = "
                         f"{d // heads // 2}: transformers' forward pass fails otherwise")
    return text


def _qwen_vision(kind: str, get: Callable, where: str) -> Dict[str, TensorSpec]:
    """Qwen2-VL's, Qwen2.5-VL's and Qwen3-VL's vision transformers (under ``visual.``; Qwen3-VL's ``model.visual.``)
    with transformers' laws, N(0, its config's initializer_range²) for the linear layers, the patch embedding (a
    Conv3d over ``temporal_patch_size`` frames; Qwen3-VL's with a bias) and Qwen3-VL's learned position embedding
    (``num_position_embeddings`` rows), biases zero, norms one (LayerNorms: shifts zero; Qwen2.5-VL's are RMSNorms):
    the blocks' attention (``qkv``, ``proj``) and MLP (Qwen2-VL's ``fc1``/``fc2`` of width
    ``embed_dim``·``mlp_ratio``; Qwen2.5-VL's gated ``gate_proj``/``up_proj``/``down_proj`` and Qwen3-VL's
    ``linear_fc1``/``linear_fc2``, of width ``intermediate_size``), and the merger that joins
    ``spatial_merge_size``² patches into one token of the text's width (``ln_q``, ``mlp.0``, ``mlp.2``; Qwen3-VL's
    ``norm``, ``linear_fc1``, ``linear_fc2``, and one more per ``deepstack_visual_indexes`` entry, normalized after
    the join: ``deepstack_merger_list.K``; Qwen3.5's vision is Qwen3-VL's without them)."""
    v2, v3 = kind == "qwen2_vl", kind in _V3
    width_key = "embed_dim" if v2 else "hidden_size"
    width, heads = get(width_key), get("num_heads")
    out = get("hidden_size" if v2 else "out_hidden_size")
    if width % heads or width // heads % 4:  # (its rotary embedding turns a quarter of a head by rows, one by columns)
        raise ValueError(f"{where}: {width_key} {width} must be num_heads {heads} heads of a multiple of 4 dimensions")
    std = get("initializer_range", "std") or 0.02  # (transformers' _init_weights of the vision model: 0 is 0.02)
    patch, merge, depth = get("patch_size"), get("spatial_merge_size"), get("depth", "count")
    merged = width * merge ** 2
    if kind == "qwen2_5_vl" and get("window_size") < patch * merge:  # (windows of no token)
        raise ValueError(f"{where}: window_size {get('window_size')} must be patch_size × spatial_merge_size "
                         f"{patch * merge} at least")
    prefix = "model.visual." if v3 else "visual."

    def linear(name, rows, cols):
        return _linear(prefix + name, rows, cols, std, True)

    def norm(name, n):
        return {prefix + name + ".weight": TensorSpec((n,), init="ones_"),
                **({prefix + name + ".bias": TensorSpec((n,), init="zeros_")} if kind != "qwen2_5_vl" else {})}

    spec = {prefix + "patch_embed.proj.weight": TensorSpec(
        (width, get("in_channels"), get("temporal_patch_size"), patch, patch), init="normal_", params={"std": std})}
    if v3:
        spec.update({prefix + "patch_embed.proj.bias": TensorSpec((width,), init="zeros_"),
                     prefix + "pos_embed.weight": TensorSpec((get("num_position_embeddings"), width), init="normal_",
                                                             params={"std": std})})
    for i in range(depth):
        p = f"blocks.{i}."
        spec.update({**norm(p + "norm1", width), **norm(p + "norm2", width),
                     **linear(p + "attn.qkv", 3 * width, width), **linear(p + "attn.proj", width, width)})
        if v2:
            hidden = width * get("mlp_ratio")
            spec.update({**linear(p + "mlp.fc1", hidden, width), **linear(p + "mlp.fc2", width, hidden)})
        elif v3:
            hidden = get("intermediate_size")
            spec.update({**linear(p + "mlp.linear_fc1", hidden, width),
                         **linear(p + "mlp.linear_fc2", width, hidden)})
        else:
            spec.update(_gated_mlp(prefix + p + "mlp.", get("intermediate_size"), width, std, True))
    if not v3:
        return {**spec, **norm("merger.ln_q", width), **linear("merger.mlp.0", merged, merged),
                **linear("merger.mlp.2", out, merged)}
    deep = get("deepstack_visual_indexes", "indices") if kind in ("qwen3_vl", "qwen3_vl_moe") else []  # (blocks
    # whose outputs feed the decoder's first layers; Qwen3.5's vision has none)
    for k, at in enumerate([None, *deep]):  # the merger, then the deepstack ones (normalized after the join)
        m = "merger." if at is None else f"deepstack_merger_list.{k - 1}."
        spec.update({**norm(m + "norm", width if at is None else merged), **linear(m + "linear_fc1", merged, merged),
                     **linear(m + "linear_fc2", out, merged)})
    return spec


_LECUN = 0.87962566103423978  # the std of N(0, 1) truncated to [-2, 2]: HF's lecun_normal_ divides by it


def _siglip_vision(prefix: str, get: Callable, where: str) -> Dict[str, TensorSpec]:
    """SigLIP's vision tower (Zhai et al. 2023; ``SiglipVisionModel``'s names below ``prefix``) with transformers'
    SigLIP laws: attention and MLP weights Xavier uniform, MLP biases N(0, 1e-12), the patch embedding and the
    pooling head's output projection LeCun normal as HF draws it (N(0, (1/fan_in)/0.8796²) truncated to [-2, 2]),
    position embeddings N(0, 1/hidden), the head's probe and input projection Xavier uniform, other biases zero,
    LayerNorms ones / zeros."""
    d, inter, heads = get("hidden_size"), get("intermediate_size"), get("num_attention_heads")
    if d % heads:
        raise ValueError(f"{where}: hidden_size {d} is not a multiple of num_attention_heads {heads}")
    patch, channels = get("patch_size"), get("num_channels")
    get("hidden_act", "activation")

    def xavier(*shape):
        return TensorSpec(shape, init="xavier_uniform_")

    def lecun(*shape):
        return TensorSpec(shape, init="trunc_normal_",
                          params={"std": math.sqrt(1 / math.prod(shape[1:])) / _LECUN, "a": -2.0, "b": 2.0})

    def zeros(n):
        return TensorSpec((n,), init="zeros_")

    def norm(name):
        return {name + ".weight": TensorSpec((d,), init="ones_"), name + ".bias": zeros(d)}

    def mlp(p):
        tiny = {"std": 1e-6}
        return {p + "fc1.weight": xavier(inter, d), p + "fc1.bias": TensorSpec((inter,), init="normal_", params=tiny),
                p + "fc2.weight": xavier(d, inter), p + "fc2.bias": TensorSpec((d,), init="normal_", params=tiny)}

    e = prefix + "embeddings."
    spec = {e + "patch_embedding.weight": lecun(d, channels, patch, patch), e + "patch_embedding.bias": zeros(d),
            e + "position_embedding.weight": TensorSpec(((get("image_size") // patch) ** 2, d), init="normal_",
                                                        params={"std": 1 / math.sqrt(d)})}
    for i in range(get("num_hidden_layers")):
        p = f"{prefix}encoder.layers.{i}."
        spec.update(norm(p + "layer_norm1"))
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            spec.update({f"{p}self_attn.{proj}.weight": xavier(d, d), f"{p}self_attn.{proj}.bias": zeros(d)})
        spec.update({**norm(p + "layer_norm2"), **mlp(p + "mlp.")})
    spec.update(norm(prefix + "post_layernorm"))
    if get("vision_use_head", "flag"):  # the multihead-attention pooling head
        h = prefix + "head."
        spec.update({h + "probe": xavier(1, 1, d), h + "attention.in_proj_weight": xavier(3 * d, d),
                     h + "attention.in_proj_bias": zeros(3 * d), h + "attention.out_proj.weight": lecun(d, d),
                     h + "attention.out_proj.bias": zeros(d), **norm(h + "layernorm"), **mlp(h + "mlp.")})
    return spec


def _config_spec(kind: str, cfg: Mapping, get: Callable, where: str) -> Dict[str, TensorSpec]:
    """:func:`config_spec`'s tensors (in float32) once the keys are checked by ``get``."""
    defaults = _HF_DEFAULTS[kind]

    def heads_of(width_key: str, heads_key: str) -> None:
        if get(width_key) % get(heads_key):
            raise ValueError(f"{where}: {width_key} {get(width_key)} is not a multiple of {heads_key} "
                             f"{get(heads_key)}")

    if kind == "gemma3":
        return _gemma3(cfg, get, where)
    if kind == "llama4":
        return _llama4(cfg, get, where)
    if kind == "mistral3":
        return _mistral3(cfg, get, where)
    if kind in _QWEN_VL:
        return _qwen_vl(kind, cfg, get, where)
    layers, types = get("n_layer" if kind == "gpt2" else "num_hidden_layers"), cfg.get("layer_types")
    kinds = _LAYER_TYPES.get(kind, _ATTENTION_TYPES)
    if types is not None and (not isinstance(types, list) or len(types) != layers
                              or not all(isinstance(t, str) and t in kinds for t in types)):
        raise ValueError(f"{where}: layer_types must be null or a list of {layers} attention types, one per layer "
                         f"(num_hidden_layers; {' or '.join(kinds)}), got {types!r}")
    init_range = get("initializer_range", "std")
    if kind == "llama" and init_range > 1:  # (LlamaConfig's validation)
        raise ValueError(f"{where}: initializer_range must be in [0, 1] (LlamaConfig's range), got {init_range!r}")
    std = init_range or 0.02  # as transformers' _init_weights: 0 means its default
    act_key = _ACT_KEY.get(kind, "hidden_act")
    get(act_key or "hidden_act", "activation" if act_key else "str")
    if kind in ("gpt2", "bert"):  # (transformers refuses these)
        heads_of(*(("n_embd", "n_head") if kind == "gpt2" else ("hidden_size", "num_attention_heads")))
    if kind == "gpt2":
        return _gpt2(get("n_layer"), get("n_embd"), get("vocab_size"), get("n_positions"), get("n_inner"),
                     std=init_range, embedding_std=std, tied=get("tie_word_embeddings", "flag"))
    vocab = get("vocab_size")
    pad = cfg.get("pad_token_id", defaults["pad_token_id"])
    if pad is not None and (isinstance(pad, bool) or not isinstance(pad, int) or not -vocab <= pad < vocab):
        raise ValueError(f"{where}: pad_token_id must be null or an int in [-{vocab}, {vocab}) (the vocabulary), "
                         f"got {pad!r}")
    if kind == "bert":
        return _bert(get("num_hidden_layers"), get("hidden_size"), vocab, get("max_position_embeddings"),
                     get("intermediate_size"), get("type_vocab_size"), std=std, padding_idx=pad)
    d, heads = get("hidden_size"), get("num_attention_heads")
    if kind == "deepseek_v3":
        kv_heads = get("num_key_value_heads") or heads  # (no shape of its own; transformers' forward repeats the
        if heads // kv_heads > 1:  # per-head keys heads // kv_heads times, which fails unless that is 1 (or 0)
            raise ValueError(f"{where}: num_key_value_heads {kv_heads} must be num_attention_heads {heads} (multi-head "
                             f"latent attention has a key per head; fewer is grouped-query attention)")
        rope = get("qk_rope_head_dim")
        if "head_dim" in cfg and cfg["head_dim"] != rope:  # (transformers derives it so; another fails in forward)
            raise ValueError(f"{where}: head_dim must be left out or equal qk_rope_head_dim {rope} (the rotary part "
                             f"of a head), got {cfg['head_dim']!r}")
        _check_runs(kind, cfg, get, where, rope)
        q_rank = None if cfg.get("q_lora_rank", 0) is None else get("q_lora_rank")
        mla = (get("kv_lora_rank"), get("qk_nope_head_dim"), rope, get("v_head_dim"))
        return _llama(get("num_hidden_layers"), d, get("intermediate_size"), vocab, heads=heads,
                      tied=get("tie_word_embeddings", "flag"), std=std, padding_idx=pad,
                      attention=lambda p, i: _mla(p + "self_attn.", d, heads, q_rank, *mla, std,
                                                  get("attention_bias", "flag")),
                      moe=_sparse_layers(kind, get, None, init_range, std, where))
    head_dim = get("head_dim")
    if head_dim is None and d % heads and kind not in _FLOOR_HEADS:  # (transformers' config refuses it)
        raise ValueError(f"{where}: hidden_size {d} is not a multiple of num_attention_heads {heads}; give head_dim")
    if head_dim is not None and d % heads and kind in ("llama", "gemma2", "gemma3_text"):  # (their configs' check)
        raise ValueError(f"{where}: hidden_size {d} is not a multiple of num_attention_heads {heads} (this family's "
                         "config refuses it, head_dim given or not)")
    kv_heads = get("num_key_value_heads")
    _check_runs(kind, cfg, get, where, d // heads if head_dim is None else head_dim, kv_heads)
    bias = get("use_bias" if kind == "ernie4_5" else "attention_bias", "flag") \
        if "attention_bias" in defaults or kind == "ernie4_5" and cfg.get("use_bias") is not None else False
    qkv_bias = get("qkv_bias", "flag") if kind == "qwen2_moe" else bias or kind == "qwen2"
    o_bias = get("attention_out_bias", "flag") if kind == "seed_oss" else bias and kind != "glm4_moe"
    gemma = kind.startswith("gemma")
    if kind == "gpt_oss":  # (sinks, router and experts: initializer_range as it is)
        return _llama(get("num_hidden_layers"), d, get("intermediate_size"), vocab, heads=heads, kv_heads=kv_heads,
                      head_dim=head_dim, tied=get("tie_word_embeddings", "flag"), std=std, qkv_bias=bias,
                      o_bias=bias, padding_idx=pad, sinks=init_range,
                      moe=_sparse_layers(kind, get, None, init_range, std, where))
    if kind in _HYBRID:  # (their RMSNorms scale by 1 + weight: zeros, the gated one aside)
        mixers, bias = _hybrid_layers(cfg, get, where), get("attention_bias", "flag")
        linear = "size" if "linear_attention" in mixers else "int"  # (sizes where a layer has them, else as typed)
        k_heads, v_heads = get("linear_num_key_heads", linear), get("linear_num_value_heads", linear)
        if linear == "size" and v_heads % k_heads:  # (each key head serves v_heads // k_heads value heads: its
            raise ValueError(f"{where}: linear_num_value_heads {v_heads} is not a multiple of linear_num_key_heads "
                             f"{k_heads}")  # forward pass reshapes so)
        deltanet = (k_heads, v_heads, get("linear_key_head_dim", linear), get("linear_value_head_dim", linear),
                    get("linear_conv_kernel_dim", linear), std, kind != "qwen3_next")
        layers, dense = get("num_hidden_layers"), cfg.get("mlp_only_layers")
        if kind != "qwen3_next":  # (Qwen3.5's rotary embedding: interleaved sections, text or image-text)
            _check_sections(cfg, [11, 11, 10], where)
        sparse = range(layers) if kind == "qwen3_5_moe_text" else set() if kind == "qwen3_5_text" else \
            _qwen_sparse(get, dense, where)  # (Qwen3.5's: all layers or none)
        width = 0 if kind == "qwen3_5_moe_text" else get("intermediate_size", "size" if len(sparse) < layers else
                                                         "int")  # (a dense layer's; Qwen3.5-MoE's config has none)
        return _llama(layers, d, width, vocab, heads=heads,
                      tied=get("tie_word_embeddings", "flag"), std=std, padding_idx=pad, norm="zeros_",
                      attention=lambda p, i: _gated_deltanet(p + "linear_attn.", d, *deltanet)
                      if mixers[i] == "linear_attention" else
                      _gated_attention(p + "self_attn.", d, heads, kv_heads, head_dim, std, bias),
                      moe=None if kind == "qwen3_5_text" else _sparse_layers(kind, get, dense, init_range, std,
                                                                            where))  # (its keys typed: none sparse too)
    if kind == "llama4_text":  # (its q/k norms: L2, no weights; its MLPs under feed_forward.)
        spec = _llama(get("num_hidden_layers"), d, get("intermediate_size_mlp"), vocab, heads=heads,
                      kv_heads=kv_heads, head_dim=head_dim, tied=get("tie_word_embeddings", "flag"), std=std,
                      qkv_bias=bias, o_bias=bias, padding_idx=pad,
                      moe=_sparse_layers(kind, get, None, init_range, std, where, cfg))
        return {n.replace(".mlp.", ".feed_forward.", 1): t for n, t in spec.items()}
    qk_norm = "full" if kind in ("olmo2", "olmo3") else "head" if kind in _QK_NORM or kind == "glm4_moe" and get(
        "use_qk_norm", "flag") else None
    return _llama(get("num_hidden_layers"), d, get("intermediate_size"), vocab, heads=heads, kv_heads=kv_heads,
                  head_dim=head_dim, tied=get("tie_word_embeddings", "flag"), std=std, qkv_bias=qkv_bias,
                  o_bias=o_bias, mlp_bias=get("mlp_bias", "flag") if "mlp_bias" in defaults else bias and kind ==
                  "ernie4_5", qk_norm=qk_norm, padding_idx=pad, norm="zeros_" if gemma else "ones_",
                  norms=_NORMS.get(kind, _NORMS[None]), fused=kind == "phi3",
                  moe=_sparse_layers(kind, get, cfg.get("mlp_only_layers"), init_range, std, where)
                  if kind in ("mixtral", "qwen2_moe", "qwen3_moe", "glm4_moe") else None)


_FLOOR_HEADS = ("mistral", "ministral3", "qwen2", "phi3", "granite", "smollm3", "seed_oss", "ernie4_5", "olmo2",
                "olmo3", "exaone4", "glm4_moe")  # head_dim
# left out: hidden_size // num_attention_heads, a multiple or not, as transformers builds and runs them
_QK_NORM = ("qwen3", "gemma3_text", "qwen3_moe", "exaone4")  # q/k RMSNorms per head (Qwen3's)
_NORMS = {  # each decoder layer's norms
    None: ("input_layernorm", "post_attention_layernorm"),
    **dict.fromkeys(("gemma2", "gemma3_text"), ("input_layernorm", "post_attention_layernorm",
                                                "pre_feedforward_layernorm", "post_feedforward_layernorm")),
    **dict.fromkeys(("olmo2", "olmo3", "exaone4"), ("post_attention_layernorm", "post_feedforward_layernorm"))}


_EXPERTS = {"mixtral": "num_local_experts", "gpt_oss": "num_local_experts", "llama4_text": "num_local_experts",
            "deepseek_v3": "n_routed_experts", "glm4_moe": "n_routed_experts",
            "qwen3_5_moe_text": "num_experts"}  # (its key; Qwen's sparse steps: _qwen_sparse)
_ROTARY = {"glm4_moe": 0.5, "phi3": 1.0, **dict.fromkeys(_HYBRID, 0.25)}  # the partly rotary families: their
# default part


def _check_runs(kind: str, cfg: Mapping, get: Callable, where: str, rotary: int, kv_heads: int | None = None) -> None:
    """Refuse a decoder config that transformers' config refuses or whose model fails in its forward pass, before
    anything is written: an odd fully rotary head dimension ``rotary`` of 3 or more (RoPE rotates pairs; transformers'
    ``validate_rope`` refuses those above 4, its forward pass the others), query heads not a multiple of
    ``kv_heads`` (grouped-query attention repeats each key/value head), layer patterns (:func:`_check_layers`),
    more experts per token than experts, and DeepSeek's and GLM-4.5's expert groups (``n_group`` dividing the routed
    experts into groups of 2 or more, ``topk_group`` of them at most)."""
    rope = _rope(cfg)
    if kind == "ministral3" and (cfg.get("rope_scaling") or cfg.get("rope_parameters")) is not None:  # (its
        # attention scales the queries by position with these two: given rotary parameters without them fail; its
        # config's yarn default only stands in for none; yarn's, llama3's and longrope's maximum is filled in)
        filled = ("original_max_position_embeddings",) if rope.get("rope_type", rope.get("type")) in (
            "yarn", "llama3", "longrope") else ()
        for key in ("llama_4_scaling_beta", "original_max_position_embeddings"):
            if key not in filled and not isinstance(rope.get(key), (int, float)):
                raise ValueError(f"{where}: rope_parameters must give a number {key} (its attention's query scaling "
                                 f"by position), got {rope.get(key)!r}")
    top = cfg.get("partial_rotary_factor", _ROTARY.get(kind, 1.0))  # (a null one: all of a head, but in Phi-3's
    part = rope.get("partial_rotary_factor", 1.0 if top is None and kind != "phi3" else top)  # config: refused)
    if kind in _ROTARY:  # (a part of each head, int(head_dim × part) dimensions, rotated in pairs)
        _check_part(kind, rope, part, rotary, where)
    elif rope.get("rope_type", rope.get("type", "default")) == "default":
        part = 1.0  # (a family that rotates all of a head ignores the factor, but in a non-default rope's frequencies)
    elif isinstance(part, (int, float)) and part != 1:
        raise ValueError(f"{where}: partial_rotary_factor {part} with rope_type {rope.get('rope_type')!r}: this "
                         "family rotates all of a head (transformers' forward pass fails on fewer frequencies)")
    if kind not in _ROTARY and rotary >= (1 if kind == "llama4_text" else 3) and rotary % 2 and (  # (Llama 4's:
            not isinstance(part, (int, float)) or int(rotary * part) == rotary):  # complex, pairs always)
        key = "qk_rope_head_dim" if kind == "deepseek_v3" else "head_dim"
        raise ValueError(f"{where}: the rotary {key} must be even (RoPE rotates pairs of dimensions), got {rotary}")
    heads = get("num_attention_heads")
    if kv_heads is not None and heads % kv_heads:
        raise ValueError(f"{where}: num_attention_heads {heads} is not a multiple of num_key_value_heads {kv_heads}")
    _check_layers(kind, cfg, get, where)
    experts = _EXPERTS.get(kind)
    if kind == "llama4_text":  # (its sparse layers are built whatever the experts)
        if not _llama4_sparse(cfg, get, where):
            return
        get(experts)  # (a positive integer)
    always = kind == "qwen3_5_moe_text"  # (every layer sparse: experts needed; a top-k of 0 runs)
    if experts is None or not get(experts, "size" if always else "count"):  # (a dense model)
        return
    n, top = get(experts, "count"), get("num_experts_per_tok", "count" if always else "size")
    if top > n:
        raise ValueError(f"{where}: num_experts_per_tok {top} is more than the {n} experts ({experts})")
    if kind in ("deepseek_v3", "glm4_moe"):
        groups, top_groups = get("n_group"), get("topk_group")
        if n % groups:
            raise ValueError(f"{where}: {experts} {n} is not a multiple of n_group {groups} (the router's groups)")
        if top_groups > groups:
            raise ValueError(f"{where}: topk_group {top_groups} is more than n_group {groups}")
        if n // groups < 2:  # (the router scores a group by the sum of its top 2)
            raise ValueError(f"{where}: each of the n_group {groups} groups of the {n} experts must hold 2 at least")


def _check_part(kind: str, rope: Mapping, part: Any, head_dim: int, where: str) -> None:
    """Refuse the rotary part of a head that a partly rotary family's forward pass fails on: ``part`` not a finite
    number, int(head_dim × part) dimensions negative or, rounded up to pairs, more than a head of 2 or more (an odd
    head rotated whole: transformers' ``validate_rope`` refuses it first); Qwen3-Next's and Qwen3.5's rotary parameters
    given per layer type (their rotary embeddings read one set)."""
    if kind in _HYBRID and set(rope) & {"full_attention", "linear_attention"}:
        raise ValueError(f"{where}: rope_parameters must be one set of rotary parameters (this family's rotary "
                         f"embedding reads no set per layer type), got {dict(rope)!r}")
    if not isinstance(part, (int, float)) or not math.isfinite(head_dim * part):
        raise ValueError(f"{where}: partial_rotary_factor must be a finite number (the part of each head that "
                         f"rotates), got {part!r}")
    dim = int(head_dim * part)
    if dim < 0 or dim + dim % 2 > head_dim > 1:  # (a head of 1 broadcasts against its pair)
        key = "the rotary head_dim must be even (RoPE rotates pairs of dimensions)" if dim == head_dim else \
            f"partial_rotary_factor {part} must rotate 0 to head_dim {head_dim} dimensions in pairs"
        raise ValueError(f"{where}: {key}, got {dim} of head_dim {head_dim}")


_ATTENTION_TYPES = ("full_attention", "sliding_attention")  # (the layers these families' models build: the other
# types transformers' configs take fail in their forward pass)
_OLD_TYPES = {"attention": "full_attention", "mamba": "linear_attention"}  # (transformers' _LEGACY_LAYER_TYPE_REMAP)
_LAYER_TYPES = {"llama4_text": ("full_attention", "chunked_attention"),
                **dict.fromkeys(_HYBRID, ("linear_attention", "full_attention"))}  # (the others': _ATTENTION_TYPES)


def _hybrid_layers(cfg: Mapping, get: Callable, where: str) -> list:
    """Qwen3-Next's and Qwen3.5's ``layer_types`` (checked by :func:`_config_spec`), else as their configs derive them:
    a full-attention layer every ``full_attention_interval``-th (any nonzero number, as its config divides by it), the
    others linear attention (Gated DeltaNet)."""
    types, interval = cfg.get("layer_types"), cfg.get("full_attention_interval", 4)
    if types is None:
        if not isinstance(interval, (int, float)) or not interval or isinstance(interval, float) and not math.isfinite(
                interval):  # (an int of any size: Python's modulo takes it)
            raise ValueError(f"{where}: full_attention_interval must be a nonzero number (a full-attention layer every "
                             f"that many), got {interval!r}")
        types = ["linear_attention" if (i + 1) % interval else "full_attention"
                 for i in range(get("num_hidden_layers"))]
    if "full_attention" not in types:  # (its cache sizes the attention mask by a full-attention layer's)
        given = "layer_types" if cfg.get("layer_types") is not None else \
            f"the layers full_attention_interval {interval!r} makes of {len(types)}"
        raise ValueError(f"{where}: one layer at least must be full_attention (the forward pass sizes its attention "
                         f"mask by one), none of {given} is")
    return types


def _check_layers(kind: str, cfg: Mapping, get: Callable, where: str) -> None:
    """Refuse the layer-pattern keys transformers' config of ``kind`` refuses or fails on (what it derives
    ``layer_types`` from where a config has none; SmolLM3's layers without RoPE), and a sliding window its model
    cannot run (:func:`_check_window`)."""
    derived = cfg.get("layer_types") is None
    if kind == "exaone4" and derived:  # (a global layer every sliding_window_pattern-th; none without a window)
        pattern = cfg.get("sliding_window_pattern", _PATTERN[kind])
        if not _is_int(pattern) or pattern == 0:
            raise ValueError(f"{where}: sliding_window_pattern must be a nonzero integer (a full-attention layer every "
                             f"that many), got {pattern!r}")
        if cfg.get("sliding_window", _WINDOW[kind]) is None:  # (its config makes the pattern 0: ZeroDivisionError)
            raise ValueError(f"{where}: sliding_window must be an integer where layer_types is derived from "
                             "sliding_window_pattern, got None")
    if kind == "gemma3_text" and derived:  # (not a field: any nonzero number its config divides by)
        pattern = cfg.get("sliding_window_pattern", _PATTERN[kind])
        if not isinstance(pattern, (int, float)) or not pattern or not math.isfinite(pattern):
            raise ValueError(f"{where}: sliding_window_pattern must be a nonzero number (a full-attention layer every "
                             f"that many), got {pattern!r}")
    if kind == "exaone4" and not derived and not (cfg.get("sliding_window_pattern") is None or isinstance(
            cfg["sliding_window_pattern"], str) or _is_int(cfg["sliding_window_pattern"])):  # (its field's types)
        raise ValueError(f"{where}: sliding_window_pattern must be null, a string or an integer, got "
                         f"{cfg['sliding_window_pattern']!r}")
    if kind == "llama4_text":
        _check_llama4_layers(cfg, get, where)
    if kind == "smollm3":
        no_rope = cfg.get("no_rope_layers")
        if no_rope is None:  # (derived from the interval)
            get("no_rope_layer_interval")
        elif not isinstance(no_rope, list) or len(no_rope) < get("num_hidden_layers") or not all(
                _is_int(f) for f in no_rope):  # (its config's: ints)
            raise ValueError(f"{where}: no_rope_layers must be null or a list of {get('num_hidden_layers')} integers "
                             f"at least (1: the layer has RoPE), one per layer (num_hidden_layers), got {no_rope!r}")
    if kind not in _HYBRID:  # (no sliding layers, no window field: their caches have none)
        _check_window(kind, cfg, get, where)


def _check_llama4_layers(cfg: Mapping, get: Callable, where: str) -> None:
    """Llama 4's layer keys as its config takes them and its forward pass runs them: ``no_rope_layer_interval`` a
    nonzero integer (its config divides by it), ``no_rope_layers`` null, [] or one integer per layer,
    ``attention_chunk_size`` null or an integer, 1 or more where a layer attends by chunks (a ``chunked_attention``
    in ``layer_types``, or, with none, each layer with RoPE where there is a chunk size)."""
    layers, interval = get("num_hidden_layers"), cfg.get("no_rope_layer_interval", 4)
    if not _is_int(interval) or interval == 0:
        raise ValueError(f"{where}: no_rope_layer_interval must be a nonzero integer, got {interval!r}")
    rope, types = cfg.get("no_rope_layers"), cfg.get("layer_types")
    if rope is not None and not isinstance(rope, list):
        raise ValueError(f"{where}: no_rope_layers must be null or a list of integers, got {rope!r}")
    rope = rope or [int((i + 1) % interval != 0) for i in range(layers)]  # (1: RoPE)
    if (len(rope) != layers if types is None else len(rope) < layers) or not all(_is_int(f) for f in rope):
        raise ValueError(f"{where}: no_rope_layers must be null or a list of {layers} integers, one per layer "
                         f"(num_hidden_layers; 1: the layer has RoPE), got {cfg.get('no_rope_layers')!r}")
    chunk = cfg.get("attention_chunk_size", 8192)
    if chunk is not None and not _is_int(chunk):
        raise ValueError(f"{where}: attention_chunk_size must be null or an integer, got {chunk!r}")
    chunked = "chunked_attention" in types if types is not None else chunk is not None and any(rope)
    if chunked and (chunk is None or chunk < 1):
        raise ValueError(f"{where}: a layer attends by chunks (a chunked_attention in layer_types, or a layer with "
                         f"RoPE where there is a chunk size): attention_chunk_size must be an integer >= 1, got "
                         f"{chunk!r}")


_WINDOW = {  # the families whose config has a sliding_window field: its default (others keep a given one as is)
    **dict.fromkeys(("mistral", "qwen2", "qwen3", "qwen2_moe", "qwen3_moe", "gemma2", "gemma3_text", "olmo3",
                     "exaone4"), 4096), "gpt_oss": 128,
    **dict.fromkeys(("mixtral", "phi3", "smollm3", "ministral3"), None)}
_WINDOW_FLAG = ("qwen2", "qwen3", "qwen2_moe", "qwen3_moe")  # whose config drops the window without
# use_sliding_window (SmolLM3's keeps it: the flag only derives its layers)
_EVERY_LAYER = ("mistral", "ministral3", "mixtral", "phi3", "qwen3_moe")  # with no layer_types: every layer slides
# where the config has a window
_MASKED = ("gemma2", "gemma3_text", "gpt_oss", "olmo3")  # their models build a sliding-window mask in any case
_PATTERN = {"gemma3_text": 6, "exaone4": 4}  # sliding_window_pattern's default: a full-attention layer every that many
_IMAGE_TEXT = "_fastinit_image_text"  # (a key only composite configs' text configs carry: Gemma 3's)


_FLAG_FIELDS = {  # (their families, what they must be, the check): the strict configs' types
    "use_sliding_window": (("qwen2", "qwen3", "qwen2_moe", "qwen3_moe", "smollm3"), "true or false",
                           lambda v: isinstance(v, bool)),
    "max_window_layers": (("qwen2", "qwen3", "qwen2_moe"), "an int", _is_int),
    "use_bidirectional_attention": (("gemma3_text",), "true or false", lambda v: isinstance(v, bool))}


def _check_window(kind: str, cfg: Mapping, get: Callable, where: str) -> None:
    """Refuse a sliding window transformers' config refuses or its model cannot run: ``sliding_window`` and the
    flags of another type than their fields'; where a layer slides (:func:`_sliding`), a window of 1 or more where
    the family's config has the field (0 fails in the cache's sliding layers), an integer where it has not (kept as
    given); a window where the model builds a sliding-window mask in any case (Gemma 2/3, GPT-OSS, OLMo 3;
    Qwen2-MoE under its flag)."""
    given = cfg.get("sliding_window", _WINDOW.get(kind))
    if given is not None and not _is_int(given) and (kind in _WINDOW or cfg.get("layer_types") is None):  # (its
        # field's type; elsewhere, with no layer_types, transformers' cache slides every layer by it)
        raise ValueError(f"{where}: sliding_window must be null or an integer, got {given!r}")
    for key, (families, what, ok) in _FLAG_FIELDS.items():  # (typed as their strict configs type them)
        if kind in families and key in cfg and not ok(cfg[key]):
            raise ValueError(f"{where}: {key} must be {what}, got {cfg[key]!r}")
    flag = cfg.get("use_sliding_window") is True
    window = None if kind in _WINDOW_FLAG and not flag else given
    if kind == "gemma3_text" and cfg.get("use_bidirectional_attention") is True:
        if window is None:  # (its config halves the window)
            raise ValueError(f"{where}: use_bidirectional_attention needs an integer sliding_window, got None")
        window = window // 2 + 1  # (as its config takes it)
    slides = _sliding(kind, cfg, get, window)
    masked = kind in _MASKED and not (kind == "gemma3_text" and cfg.get(_IMAGE_TEXT))  # (Gemma 3's image-text
    # model builds only the masks of its layer types)
    if not (slides or masked or kind == "qwen2_moe" and flag):
        return
    if isinstance(window, bool) or not isinstance(window, (int, type(None))):  # (a family without the field: an
        raise ValueError(f"{where}: sliding_window must be an integer, got {given!r}")  # unused one is kept as is)
    least = 1 if slides and kind in _WINDOW else None  # (a window of 0 fails where the config has the field)
    if window is None or least is not None and window < least:
        why = ("a layer attends through a sliding window (a sliding_attention in layer_types, or as the family "
               "derives its layers)") if slides else "the model builds a sliding-window mask whatever its layers"
        need = "an integer" if least is None else f"an integer >= {least}"
        hint = ", with use_sliding_window true (its config drops the window without it)" \
            if kind in _WINDOW_FLAG and not flag and given is not None else ""
        raise ValueError(f"{where}: {why}: sliding_window must be {need}{hint}, got {given!r}"
                         + (f" (use_sliding_window {cfg.get('use_sliding_window', False)!r})"
                            if kind in _WINDOW_FLAG else ""))


def _sliding(kind: str, cfg: Mapping, get: Callable, window: Any) -> bool:
    """Whether a layer of ``kind``'s model attends through a sliding window: one of ``layer_types``, else as its
    transformers config derives them (Gemma 2, GPT-OSS, OLMo 3: the first layer; Gemma 3 and EXAONE 4: all but every
    ``sliding_window_pattern``-th; Qwen2/3 from ``max_window_layers`` on and Qwen2-MoE below it, under
    ``use_sliding_window``; SmolLM3's layers without RoPE under it; with no ``layer_types``, every layer of
    Mistral's, Mixtral's, Phi-3's, Qwen3-MoE's where the config has a window)."""
    types, layers = cfg.get("layer_types"), get("num_hidden_layers")
    if types is not None:
        return "sliding_attention" in types
    if kind in _EVERY_LAYER:
        return window is not None
    flag = cfg.get("use_sliding_window") is True
    if kind in ("qwen2", "qwen3"):
        return window is not None and layers > cfg.get("max_window_layers", _HF_DEFAULTS[kind]["max_window_layers"])
    if kind == "qwen2_moe":
        return flag and cfg.get("max_window_layers", _HF_DEFAULTS[kind]["max_window_layers"]) > 0
    if kind == "smollm3":  # (layer i + 1 without RoPE every no_rope_layer_interval-th, or as no_rope_layers says)
        no_rope = cfg.get("no_rope_layers")
        if no_rope is None:
            no_rope = [(i + 1) % get("no_rope_layer_interval") != 0 for i in range(layers)]
        return flag and window is not None and not all(no_rope[:layers])
    if kind in ("gemma3_text", "exaone4"):
        return abs(cfg.get("sliding_window_pattern", _PATTERN[kind])) != 1
    return kind in ("gemma2", "gpt_oss", "olmo3")


def _llama4_sparse(cfg: Mapping, get: Callable, where: str) -> set:
    """Llama 4's sparse layers: those ``moe_layers`` lists (any ints: one out of range names no layer), else every
    ``interleave_moe_layer_step``-th."""
    layers = cfg.get("moe_layers")
    if layers is None:  # (a negative step: no layer; 0: its config fails)
        step = cfg.get("interleave_moe_layer_step", 1)
        if not _is_int(step) or step == 0:
            raise ValueError(f"{where}: interleave_moe_layer_step must be a nonzero integer, got {step!r}")
        return set(range(step - 1, get("num_hidden_layers"), step))
    if not isinstance(layers, list) or not all(_is_int(i) for i in layers):
        raise ValueError(f"{where}: moe_layers must be null or a list of layer indices, got {layers!r}")
    return set(layers)


def _sparse_layers(kind: str, get: Callable, dense: Any, init_range: float | None, std: float, where: str,
                   cfg: Mapping | None = None):
    """``_llama``'s ``moe`` for a mixture-of-experts config: its sparse layers' tensors, with transformers' laws — the
    experts and routers drawn with ``initializer_range`` as it is, Llama 4's router and the shared experts (plain
    linear layers) with ``std`` (0.02 where initializer_range is 0). Qwen's layer ``i`` is sparse unless it is in
    ``mlp_only_layers`` (``dense``), there are no experts, or ``i + 1`` is not a multiple of ``decoder_sparse_step``
    (any integer, 0 only where no layer may be sparse: transformers tests it in that order); DeepSeek's and
    GLM-4.5's from ``first_k_dense_replace`` on; Llama 4's as :func:`_llama4_sparse` reads its ``cfg``;
    Qwen3.5-MoE's every layer."""
    d = get("hidden_size")
    if kind == "gpt_oss":
        experts, hidden = get("num_local_experts"), get("intermediate_size")
        return lambda p, i: _gpt_oss_experts(p, d, experts, hidden, init_range)
    if kind in ("deepseek_v3", "glm4_moe"):  # dense before layer first_k_dense_replace; moe_intermediate_size ×
        # n_shared_experts
        experts, hidden, first = get("n_routed_experts"), get("moe_intermediate_size"), get("first_k_dense_replace",
                                                                                              "count")
        shared = hidden * get("n_shared_experts", "count")
        return lambda p, i: None if i < first else _moe(p, d, experts, hidden, init_range, shared=shared,
                                                        shared_std=std, deepseek=True)
    if kind == "llama4_text":  # (dense: None; its moe_layers are read by _llama4_sparse)
        experts, hidden = get("num_local_experts", "count"), get("intermediate_size")
        sparse = _llama4_sparse(cfg, get, where)
        return lambda p, i: _llama4_moe(p, d, experts, hidden, std, init_range) if i in sparse else None
    if kind == "qwen3_5_moe_text":  # (every layer: Qwen2-MoE's block)
        experts, hidden = get("num_experts"), get("moe_intermediate_size")
        shared = get("shared_expert_intermediate_size", "count")
        return lambda p, i: _moe(p, d, experts, hidden, init_range, shared=shared, shared_std=std)
    if kind == "mixtral":  # every layer; the checkpoints' names (as transformers 5 saves them, fusing on load)
        experts, hidden = get("num_local_experts"), get("intermediate_size")
        return lambda p, i: _moe(p, d, experts, hidden, init_range, names=("block_sparse_moe", "w1", "w3", "w2"))
    sparse, experts = _qwen_sparse(get, dense, where), get("num_experts", "int")
    used = "size" if sparse else "int"  # (the experts' widths: sizes where a layer is sparse, else as typed)
    hidden = get("moe_intermediate_size", used)
    shared = get("shared_expert_intermediate_size", "count" if sparse else "int") \
        if kind in ("qwen2_moe", "qwen3_next") else None
    return lambda p, i: _moe(p, d, experts, hidden, init_range, shared=shared, shared_std=std) if i in sparse \
        else None


def _qwen_sparse(get: Callable, dense: Any, where: str) -> set:
    """The sparse layers of Qwen2-MoE, Qwen3-MoE and Qwen3-Next, checked as transformers builds and runs them: layer
    ``i`` is sparse where it is not in ``mlp_only_layers`` (``dense``), ``num_experts`` > 0 and ``i + 1`` is a
    multiple of ``decoder_sparse_step`` — tested in that order, so a step of 0 fails only where a layer may be sparse
    (a negative one is taken, as Python's modulo takes it); ``num_experts_per_tok`` 0 to ``num_experts`` where a
    layer is sparse (an integer elsewhere)."""
    experts, step, top = get("num_experts", "int"), get("decoder_sparse_step", "int"), get("num_experts_per_tok", "int")
    dense = [] if dense is None else dense
    if not isinstance(dense, list) or not all(_is_int(i) for i in dense):
        raise ValueError(f"{where}: mlp_only_layers must be null or a list of layer indices, got {dense!r}")
    may = [i for i in range(get("num_hidden_layers")) if i not in dense] if experts > 0 else []
    if may and step == 0:
        raise ValueError(f"{where}: decoder_sparse_step must be a nonzero integer (a sparse layer every that many) "
                         "where a layer may be sparse (num_experts > 0, a layer not in mlp_only_layers), got 0")
    sparse = {i for i in may if (i + 1) % step == 0}
    if sparse and not 0 <= top <= experts:  # (its router's top-k)
        raise ValueError(f"{where}: num_experts_per_tok must be 0 to the {experts} experts (num_experts) where a "
                         f"layer is sparse, got {top}")
    return sparse


_BUFFERS = (".running_mean", ".running_var", ".e_score_correction_bias")


def is_buffer(name: str) -> bool:
    """Whether a spec's tensor is a buffer (BatchNorm running statistics, DeepSeek-V3's router biases), not a
    trainable parameter."""
    return name.endswith(_BUFFERS)


def parameter_count(spec: Dict[str, TensorSpec]) -> int:
    """Number of trainable scalars in a spec (buffers, :func:`is_buffer`, not counted)."""
    return sum(math.prod(s.shape) for name, s in spec.items() if not is_buffer(name))
