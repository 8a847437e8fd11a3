"""Peak RSS beyond the buffer, and first-call time in a fresh process with a warm numba cache."""
import json
import subprocess
import sys
import textwrap

import pytest

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
