"""Memory bound: a fill allocates no temporaries proportional to the buffer."""
import json
import subprocess
import sys
import textwrap

import pytest

PROBE = textwrap.dedent("""
    import json, resource
    import numpy as np, ml_dtypes, fastinit
    dtype = {dtype!r}
    dt = ml_dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype)
    fastinit.{fn}(np.empty(10_000, dt), seed=0)  # compile / load the cache first
    out = np.empty((12000, 8000), dt)
    out.view(np.uint8).fill(1)  # resident before the measurement
    view = out[:, ::2]  # a strided target too
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fastinit.{fn}(out, seed=1)
    fastinit.{fn}(view, seed=2)
    fastinit.{fn}(out[:6000], seed=3, global_shape=(12000, 8000), offset=(6000, 0))
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({{"overhead_kib": after - before, "buffer_kib": out.nbytes // 1024}}))
""")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("fn", ["uniform_", "normal_", "zeros_"])
def test_fill_peak_rss_overhead_under_64_mib(fn, dtype):
    code = PROBE.format(fn=fn, dtype=dtype)
    if fn == "zeros_":
        code = code.replace(", seed=0", "").replace(", seed=1", "").replace(", seed=2", "")
        code = code.replace(", seed=3, global_shape=(12000, 8000), offset=(6000, 0)", "")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    res = json.loads(out)
    assert res["buffer_kib"] >= 2 * 64 * 1024  # any O(buffer) temporary would exceed the bound
    assert res["overhead_kib"] <= 64 * 1024
