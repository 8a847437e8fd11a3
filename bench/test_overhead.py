"""Peak RSS beyond the buffer and first-call time in a fresh process with a warm numba cache (``fastinit bench``'s
probe, :func:`fastinit.benchmark.probe`, on an N-element float32 buffer), and the cost of one call on a small
tensor (a bias, a LayerNorm weight: what per-call overhead costs a model of many small parameters), against
torch.nn.init on the same tensor."""
import numpy as np
import pytest

import fastinit
from conftest import N, SIZE
from fastinit import benchmark as fb

try:
    import torch
    import fastinit.torch as fit
except ImportError:  # torch is optional: its rows are skipped
    torch = None


@pytest.mark.parametrize("fn", ["uniform_", "normal_", "trunc_normal_"])
def test_first_call_and_rss_overhead(benchmark, fn):
    """Three fresh processes (the benchmark times each whole); the least first call and the largest RSS rise kept."""
    fb.probe(fn, "float32", (1000,))  # its kernel loaded (or compiled) into the cache, outside the timing
    results = []
    benchmark.pedantic(lambda: results.append(fb.probe(fn, "float32", (N,))), rounds=3, iterations=1)
    first = min(r["first_call_s"] for r in results)
    rss = [r["rss_overhead_mib"] for r in results if "rss_overhead_mib" in r]
    benchmark.extra_info.update(first_call_s=first, rss_overhead_mib=max(rss) if rss else None, elements=N)
    print(f"\n{fn}: first call (import + cache load + a small fill) {first:.3f} s, peak RSS beyond the {SIZE} "
          "float32 buffer " + (f"{max(rss):.1f} MiB" if rss else "not measured on this platform"))


SMALL = (64, 16)  # 1024 elements
# (group, fastinit on a NumPy array, fastinit.torch on a tensor, torch.nn.init), all with their defaults
SMALL_CALLS = {
    "normal_": (lambda a: fastinit.normal_(a, seed=0), lambda t: fit.normal_(t, seed=0),
                lambda t: torch.nn.init.normal_(t)),
    "uniform_": (lambda a: fastinit.uniform_(a, seed=0), lambda t: fit.uniform_(t, seed=0),
                 lambda t: torch.nn.init.uniform_(t)),
    "zeros_": (fastinit.zeros_, lambda t: fit.zeros_(t), lambda t: torch.nn.init.zeros_(t)),
    "kaiming_uniform_": (lambda a: fastinit.kaiming_uniform_(a, seed=0), lambda t: fit.kaiming_uniform_(t, seed=0),
                         lambda t: torch.nn.init.kaiming_uniform_(t)),
    "trunc_normal_": (lambda a: fastinit.trunc_normal_(a, std=0.02, seed=0),
                      lambda t: fit.trunc_normal_(t, std=0.02, seed=0),
                      lambda t: torch.nn.init.trunc_normal_(t, std=0.02)),
}


@pytest.mark.parametrize("who", ["fastinit", "fastinit.torch", "torch"])
@pytest.mark.parametrize("fn", list(SMALL_CALLS))
def test_small_tensor_call(benchmark, fn, who):
    """One call on a 64 x 16 float32 tensor (min of 2000-call rounds; compare within a group)."""
    if who != "fastinit" and torch is None:
        pytest.skip("torch not installed")
    call = SMALL_CALLS[fn][["fastinit", "fastinit.torch", "torch"].index(who)]
    target = np.empty(SMALL, np.float32) if who == "fastinit" else torch.empty(SMALL)
    call(target)  # compile / load the kernel outside the timing
    benchmark.group = f"small call {fn} 64x16"
    benchmark.pedantic(call, args=(target,), rounds=5, warmup_rounds=1, iterations=2000)
