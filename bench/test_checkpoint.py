"""A >= 1e9-parameter bfloat16 checkpoint written to safetensors (issue #8), and one from a Hugging Face config.json
(Qwen3-0.6B's, as `fastinit init --config` writes it): wall time against writing the same bytes of zeros, and the
writer's peak RSS.  Run: python -m pytest bench -q -k checkpoint -s"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("safetensors")

PROBE = textwrap.dedent("""
    import json, os, resource, sys, time
    from dataclasses import replace
    from fastinit.archs import arch_spec, config_spec, parameter_count
    from fastinit.io import TensorSpec, write_safetensors
    arch, out, zeros = sys.argv[1], sys.argv[2], sys.argv[3] == "zeros"
    built = config_spec(arch) if arch.endswith(".json") else arch_spec(arch)
    spec = {n: replace(t, dtype="bfloat16") for n, t in built.items()}
    if zeros:
        spec = {n: TensorSpec(t.shape, "bfloat16", "zeros_") for n, t in spec.items()}
    write_safetensors(out + ".warm", {"w": TensorSpec((64, 64), "bfloat16")}, seed=0, progress=False)
    os.unlink(out + ".warm")
    t0 = time.perf_counter()
    s = write_safetensors(out, spec, seed=0, progress=False)
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"params": parameter_count(spec), "bytes": s["bytes"], "wall_s": wall, "peak_rss_mib": rss}))
""")


QWEN3_0_6B = {"model_type": "qwen3", "vocab_size": 151936, "hidden_size": 1024, "intermediate_size": 3072,
              "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128,
              "tie_word_embeddings": True, "torch_dtype": "bfloat16"}  # (Qwen/Qwen3-0.6B's shapes: 596,049,920)


@pytest.mark.parametrize("arch", ["llama3.2-1b", "qwen3-0.6b config.json"])
def test_billion_parameter_bf16_checkpoint(benchmark, tmp_path, arch):
    label = arch
    if arch.endswith("config.json"):
        (tmp_path / "config.json").write_text(json.dumps(QWEN3_0_6B))
        arch = str(tmp_path / "config.json")

    def run(kind):
        out = subprocess.run([sys.executable, "-c", PROBE, arch, str(tmp_path / f"{kind}.safetensors"), kind],
                             capture_output=True, text=True, check=True).stdout
        os.unlink(tmp_path / f"{kind}.safetensors")
        return json.loads(out)

    zeros = run("zeros")
    init = benchmark.pedantic(lambda: run("init"), rounds=1, iterations=1)
    benchmark.extra_info.update(init=init, zeros=zeros)
    print(f"\n{label}: {init['params']:,} bf16 parameters, {init['bytes'] / 1e9:.2f} GB: "
          f"{init['wall_s']:.2f} s ({init['bytes'] / init['wall_s'] / 1e9:.2f} GB/s) vs zeros {zeros['wall_s']:.2f} s "
          f"-> {init['wall_s'] / zeros['wall_s']:.2f}x; peak RSS {init['peak_rss_mib']:.0f} MiB "
          f"(zeros {zeros['peak_rss_mib']:.0f} MiB)")


@pytest.mark.parametrize("block_bytes", [4 << 20, 64 << 20])
def test_sparse_through_the_writer(benchmark, tmp_path, block_bytes):
    """A (16384, 4096) float32 sparse_ (256 MiB, sparsity 0.5) written in row blocks, against normal_ through the
    writer and sparse_ in memory in the same run: its columns' zero positions are drawn once a tensor (the whole
    mask kept, 8 MiB, while at most block_bytes / 2), where each row block drew them all again before 2026-12-07
    (l) (36.6 s with 4 MiB blocks, 3.3 s with the default 64 MiB); a mask over block_bytes / 2 is kept a band of
    rows at a time (4 MiB blocks: 5 bands, where each of 128 row blocks drew them again before (n): 12.55 → 1.16 s).
    Run:
    python -m pytest bench -q -k sparse_through -s"""
    import time

    import numpy as np

    import fastinit
    from fastinit.io import TensorSpec, write_safetensors

    shape, path = (16384, 4096), tmp_path / "s.safetensors"

    def write(init, params):
        t0 = time.perf_counter()
        write_safetensors(path, {"w": TensorSpec(shape, "float32", init, params)}, seed=0, block_bytes=block_bytes,
                          progress=False)
        return time.perf_counter() - t0

    normal = min(write("normal_", {"std": 0.01}) for _ in range(2))
    w = np.empty(shape, np.float32)
    fastinit.sparse_(w, 0.5, seed=0, stream="w")  # (warm)
    t0 = time.perf_counter()
    fastinit.sparse_(w, 0.5, seed=0, stream="w")
    memory = time.perf_counter() - t0
    last = benchmark.pedantic(write, args=("sparse_", {"sparsity": 0.5}), rounds=2, iterations=1)
    sparse = benchmark.stats.stats.min if benchmark.stats is not None else last  # (None: --benchmark-disable)
    from safetensors.numpy import load_file

    assert np.array_equal(load_file(path)["w"], w)  # the in-memory fill's values
    benchmark.extra_info.update(normal_s=normal, in_memory_s=memory)
    print(f"\nsparse_ {shape} float32 through the writer, blocks of {block_bytes >> 20} MiB: {sparse:.2f} s; normal_ "
          f"through it {normal:.2f} s; sparse_ in memory {memory:.2f} s")
