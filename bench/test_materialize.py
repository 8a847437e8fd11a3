"""fastinit.torch.materialize of a meta-built model vs building the same model normally on CPU (issue #11).

Models from standard torch modules only: GPT-2 small (124,439,808 parameters: nn.Embedding, Linear-based
attention and MLP, nn.LayerNorm, tied head) and, with FASTINIT_BENCH_1B=1, a Llama-3.2-1B-shaped decoder
(1,235,814,400 parameters: nn.Embedding, nn.Linear q/k/v/o and SwiGLU MLP, nn.RMSNorm, tied head).  With
transformers installed, a Hugging Face Mixtral (4 layers of 8 experts, hidden 1024, MLP 3584, vocabulary 32000:
428,385,280 parameters, 82% of them experts and routers) against transformers' own init on the CPU, materialized
with scheme="llama" (its experts drawn by HF's normal law, by fastinit's kernels), and a Hugging Face RWKV (4 layers,
hidden 1024, vocabulary 50277: 157,542,400 parameters, every Linear and Embedding drawn by HF's init with
orthogonal_(gain)) with scheme="hf" (those laws by fastinit's blocked-QR orthogonal_).
Each contestant runs in a fresh process (after a warm-up that loads fastinit's kernels): wall time of
construction + initialization end to end, and peak RSS (ru_maxrss) above the RSS just before.
Goals: >= 5x faster than torch's own init, peak RSS <= model bytes + 64 MiB.  pytest-benchmark's own table
times the whole subprocess (imports included); the in-process numbers are printed (-s) and kept in extra_info.

Run: python -m pytest bench/test_materialize.py -q -s        (FASTINIT_BENCH_1B=1 adds the 1B decoder)
     python bench/test_materialize.py gpt2-small fastinit    (one measurement, JSON on stdout)
"""
import json
import os
import subprocess
import sys

import torch
from torch import nn

MODELS = ["gpt2-small"] + (["decoder-1b"] if os.environ.get("FASTINIT_BENCH_1B") else [])
try:
    import transformers  # noqa: F401
    MODELS += ["hf-mixtral", "hf-rwkv"]
except ImportError:
    pass


class GPT2Block(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.ModuleDict({"c_attn": nn.Linear(d, 3 * d), "c_proj": nn.Linear(d, d)})
        self.mlp = nn.ModuleDict({"c_fc": nn.Linear(d, 4 * d), "c_proj": nn.Linear(4 * d, d)})


class GPT2(nn.Module):
    def __init__(self, vocab=50257, n_ctx=1024, d=768, n_layer=12):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(n_ctx, d)
        self.h = nn.ModuleList(GPT2Block(d) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.tie()

    def tie(self):
        self.lm_head.weight = self.wte.weight


class LlamaLayer(nn.Module):
    def __init__(self, d: int, kv: int, ff: int):
        super().__init__()
        self.input_layernorm, self.post_attention_layernorm = nn.RMSNorm(d), nn.RMSNorm(d)
        self.self_attn = nn.ModuleDict({"q_proj": nn.Linear(d, d, bias=False), "k_proj": nn.Linear(d, kv, bias=False),
                                        "v_proj": nn.Linear(d, kv, bias=False), "o_proj": nn.Linear(d, d, bias=False)})
        self.mlp = nn.ModuleDict({"gate_proj": nn.Linear(d, ff, bias=False), "up_proj": nn.Linear(d, ff, bias=False),
                                  "down_proj": nn.Linear(ff, d, bias=False)})


class Decoder1B(nn.Module):
    def __init__(self, vocab=128256, d=2048, kv=512, ff=8192, n_layer=16):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(LlamaLayer(d, kv, ff) for _ in range(n_layer))
        self.norm = nn.RMSNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.tie()

    def tie(self):
        self.lm_head.weight = self.embed_tokens.weight


def hf_mixtral():
    import warnings

    import transformers

    config = transformers.MixtralConfig(vocab_size=32000, hidden_size=1024, intermediate_size=3584, num_hidden_layers=4,
                                        num_attention_heads=16, num_key_value_heads=4, num_local_experts=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transformers.AutoModelForCausalLM.from_config(config)


def hf_rwkv():
    import warnings

    import transformers

    config = transformers.RwkvConfig(vocab_size=50277, hidden_size=1024, num_hidden_layers=4,
                                     attention_hidden_size=1024, intermediate_size=4096)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transformers.RwkvForCausalLM(config)


BUILDERS = {"gpt2-small": GPT2, "decoder-1b": Decoder1B, "hf-mixtral": hf_mixtral, "hf-rwkv": hf_rwkv}
SCHEMES = {"hf-mixtral": "llama", "hf-rwkv": "hf"}  # (the others: torch's defaults)


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(model: str, mode: str) -> dict:
    """One contestant in this process: wall time of build + init, and peak RSS above the RSS before it."""
    import resource
    import time

    import fastinit.torch as ft

    build = BUILDERS[model]
    t0 = time.perf_counter()
    with torch.device("meta"):  # warm-up: import paths and fastinit's compiled kernels (cache) loaded
        warm = nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8), nn.Embedding(8, 8), nn.RMSNorm(8))
    ft.materialize(warm, seed=0, progress=False)
    first_call = time.perf_counter() - t0
    del warm
    if mode.endswith("reinit"):  # a built model initialized again in place: no allocation, no first touch
        m = build()
        owners = [mod for mod in m.modules() if hasattr(mod, "reset_parameters")]
    before = _rss_mib()
    t0 = time.perf_counter()
    if mode == "torch":
        m = build()
    elif mode == "floor":  # allocation and first touch only: what any initialization of fresh memory pays
        with torch.device("meta"):
            m = build()
        m.to_empty(device="cpu")
        (getattr(m, "tie", None) or m.tie_weights)()  # to_empty unties shared parameters
        with torch.no_grad():
            for p in m.parameters():
                p.zero_()
    elif mode == "torch-reinit":
        for mod in owners:
            mod.reset_parameters()
    elif mode == "fastinit-reinit":
        ft.materialize(m, seed=0, progress=False, scheme=SCHEMES.get(model, "torch"))
    else:
        with torch.device("meta"):
            m = build()
        ft.materialize(m, seed=0, progress=False, scheme=SCHEMES.get(model, "torch"))
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    params = {id(p): p for p in m.parameters()}.values()
    nbytes = sum(p.numel() * p.element_size() for p in params)
    return {"model": model, "mode": mode, "params": sum(p.numel() for p in params), "model_mib": nbytes / 2**20,
            "wall_s": wall, "rss_before_mib": before, "peak_rss_mib": peak,
            "overhead_mib": None if mode.endswith("reinit") else peak - before - nbytes / 2**20,
            "warmup_s": first_call, "threads": torch.get_num_threads()}


def _run(model: str, mode: str) -> dict:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, __file__, model, mode], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout)


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], sys.argv[2])))
else:
    import pytest

    @pytest.mark.parametrize("model", MODELS)
    def test_materialize_vs_torch_build(benchmark, model):
        """A meta-built model materialized vs the same model built on CPU; 'floor' = allocate + zero only."""
        ref, floor = _run(model, "torch"), _run(model, "floor")
        fast = benchmark.pedantic(lambda: _run(model, "fastinit"), rounds=1, iterations=1)
        benchmark.extra_info.update(fastinit=fast, torch=ref, floor=floor, speedup=ref["wall_s"] / fast["wall_s"])
        print(f"\n{model}: {fast['params']:,} parameters ({fast['model_mib']:.0f} MiB float32), "
              f"{fast['threads']} threads. materialize {fast['wall_s']:.3f} s vs torch build {ref['wall_s']:.3f} s "
              f"-> {ref['wall_s'] / fast['wall_s']:.1f}x (allocate + zero floor {floor['wall_s']:.3f} s); peak RSS "
              f"above model size: materialize {fast['overhead_mib']:.0f} MiB, torch {ref['overhead_mib']:.0f} MiB "
              "(goals: >= 5x, <= 64 MiB)")

    @pytest.mark.parametrize("model", MODELS[:1])
    def test_reinitialize_in_place_vs_reset_parameters(benchmark, model):
        """A built model initialized again: materialize vs calling every module's reset_parameters()."""
        ref = _run(model, "torch-reinit")
        fast = benchmark.pedantic(lambda: _run(model, "fastinit-reinit"), rounds=1, iterations=1)
        benchmark.extra_info.update(fastinit=fast, torch=ref, speedup=ref["wall_s"] / fast["wall_s"])
        print(f"\n{model} in place: materialize {fast['wall_s']:.3f} s vs reset_parameters() {ref['wall_s']:.3f} s "
              f"-> {ref['wall_s'] / fast['wall_s']:.1f}x")
