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
