"""Peak RSS beyond the buffer, first-call time in a fresh process with a warm numba cache, and the cost of
one call on a small tensor (a bias, a LayerNorm weight: what per-call overhead costs a model of many small
parameters), against torch.nn.init on the same tensor."""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastinit

try:
    import torch
    import fastinit.torch as fit
except ImportError:  # torch is optional: its rows are skipped
    torch = None

PROBE = textwrap.dedent("""
    import json, resource, sys, time
    t0 = time.perf_counter()
    import numpy as np, fastinit
    fastinit.{fn}(np.empty(1000, np.float32), seed=0)
    first = time.perf_counter() - t0
    n = int(float(sys.argv[1]))
    out = np.empty(n, np.float32); out.fill(0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fastinit.{fn}(out, seed=1)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({{"first_call_s": first, "rss_overhead_mib": (after - before) / 1024}}))
""")


@pytest.mark.parametrize("fn", ["uniform_", "normal_", "trunc_normal_"])
def test_first_call_and_rss_overhead(benchmark, fn):
    code = PROBE.format(fn=fn)
    subprocess.run([sys.executable, "-c", code, "1e3"], check=True, capture_output=True)  # warm the cache

    def probe():
        out = subprocess.run([sys.executable, "-c", code, "2e8"], check=True, capture_output=True, text=True)
        return json.loads(out.stdout)

    result = benchmark.pedantic(probe, rounds=3, iterations=1)
    benchmark.extra_info.update(result)
    print(f"\n{fn}: first call (import + cache load + fill 1e3) {result['first_call_s']:.3f} s, "
          f"peak RSS beyond the 2e8 float32 buffer {result['rss_overhead_mib']:.1f} MiB")


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
