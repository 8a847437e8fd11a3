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
"""
from __future__ import annotations

import math
from typing import Callable, Dict

import numpy as np

from ._buffers import shape_tuple
from .init import normal_
from .io import TensorSpec

__all__ = ["ARCHS", "arch_spec", "is_buffer", "padded_embedding_", "parameter_count"]


def _gpt2(n_layer: int, d: int, vocab: int = 50257, ctx: int = 1024) -> Dict[str, TensorSpec]:
    normal = {"std": 0.02}
    resid = {"std": 0.02 / math.sqrt(2 * n_layer)}
    spec = {"wte.weight": TensorSpec((vocab, d), init="normal_", params=normal),
            "wpe.weight": TensorSpec((ctx, d), init="normal_", params=normal)}
    for i in range(n_layer):
        p = f"h.{i}."
        spec.update({
            p + "ln_1.weight": TensorSpec((d,), init="ones_"), p + "ln_1.bias": TensorSpec((d,), init="zeros_"),
            p + "attn.c_attn.weight": TensorSpec((d, 3 * d), init="normal_", params=normal),
            p + "attn.c_attn.bias": TensorSpec((3 * d,), init="zeros_"),
            p + "attn.c_proj.weight": TensorSpec((d, d), init="normal_", params=resid),
            p + "attn.c_proj.bias": TensorSpec((d,), init="zeros_"),
            p + "ln_2.weight": TensorSpec((d,), init="ones_"), p + "ln_2.bias": TensorSpec((d,), init="zeros_"),
            p + "mlp.c_fc.weight": TensorSpec((d, 4 * d), init="normal_", params=normal),
            p + "mlp.c_fc.bias": TensorSpec((4 * d,), init="zeros_"),
            p + "mlp.c_proj.weight": TensorSpec((4 * d, d), init="normal_", params=resid),
            p + "mlp.c_proj.bias": TensorSpec((d,), init="zeros_"),
        })
    spec.update({"ln_f.weight": TensorSpec((d,), init="ones_"), "ln_f.bias": TensorSpec((d,), init="zeros_")})
    return spec


def _llama(n_layer: int, d: int, hidden: int, vocab: int, kv: int = None, tied: bool = False) -> Dict[str, TensorSpec]:
    kv = d if kv is None else kv

    def mat(rows, cols):
        return TensorSpec((rows, cols), init="normal_", params={"std": 0.02})

    spec = {"model.embed_tokens.weight": mat(vocab, d)}
    for i in range(n_layer):
        p = f"model.layers.{i}."
        spec.update({
            p + "self_attn.q_proj.weight": mat(d, d), p + "self_attn.k_proj.weight": mat(kv, d),
            p + "self_attn.v_proj.weight": mat(kv, d), p + "self_attn.o_proj.weight": mat(d, d),
            p + "mlp.gate_proj.weight": mat(hidden, d), p + "mlp.up_proj.weight": mat(hidden, d),
            p + "mlp.down_proj.weight": mat(d, hidden),
            p + "input_layernorm.weight": TensorSpec((d,), init="ones_"),
            p + "post_attention_layernorm.weight": TensorSpec((d,), init="ones_"),
        })
    spec["model.norm.weight"] = TensorSpec((d,), init="ones_")
    if not tied:
        spec["lm_head.weight"] = mat(vocab, d)
    return spec


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


def _bert(n_layer: int, d: int, vocab: int = 30522, ctx: int = 512) -> Dict[str, TensorSpec]:
    normal = {"std": 0.02}

    def dense(prefix, rows, cols):
        return {prefix + ".weight": TensorSpec((rows, cols), init="normal_", params=normal),
                prefix + ".bias": TensorSpec((rows,), init="zeros_")}

    def norm(prefix):
        return {prefix + ".weight": TensorSpec((d,), init="ones_"), prefix + ".bias": TensorSpec((d,), init="zeros_")}

    spec = {"embeddings.word_embeddings.weight": TensorSpec((vocab, d), init=padded_embedding_,
                                                            params={"std": 0.02, "padding_idx": 0}),
            "embeddings.position_embeddings.weight": TensorSpec((ctx, d), init="normal_", params=normal),
            "embeddings.token_type_embeddings.weight": TensorSpec((2, d), init="normal_", params=normal),
            **norm("embeddings.LayerNorm")}
    for i in range(n_layer):
        p = f"encoder.layer.{i}."
        for name in ("query", "key", "value"):
            spec.update(dense(p + "attention.self." + name, d, d))
        spec.update({**dense(p + "attention.output.dense", d, d), **norm(p + "attention.output.LayerNorm"),
                     **dense(p + "intermediate.dense", 4 * d, d), **dense(p + "output.dense", d, 4 * d),
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
    "llama-tiny": lambda: _llama(2, 256, 688, 32000),
    "llama3.2-1b": lambda: _llama(16, 2048, 8192, 128256, kv=512, tied=True),
    "llama-7b": lambda: _llama(32, 4096, 11008, 32000),
    "llama3-8b": lambda: _llama(32, 4096, 14336, 128256, kv=1024),
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


_BUFFERS = (".running_mean", ".running_var")


def is_buffer(name: str) -> bool:
    """Whether a spec's tensor is a buffer (BatchNorm running statistics), not a trainable parameter."""
    return name.endswith(_BUFFERS)


def parameter_count(spec: Dict[str, TensorSpec]) -> int:
    """Number of trainable scalars in a spec (buffers, :func:`is_buffer`, not counted)."""
    return sum(math.prod(s.shape) for name, s in spec.items() if not is_buffer(name))
