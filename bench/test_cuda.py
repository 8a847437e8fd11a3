"""GPU path on a real CUDA device: 1e8-element equality with the CPU kernels, and throughput vs
the device memset and torch's own samplers, in one run (skipped without a GPU, torch CUDA or
numba-cuda).

Run:  python -m pytest bench/test_cuda.py -q --benchmark-group-by=group --benchmark-columns=min,mean,rounds
Compare the ``min`` column within each group.  Goals (issue #7): uniform f32 >= 0.8x the memset
(torch's ``zero_``: on a CUDA tensor a ``fill_(0)`` kernel, not the driver's cudaMemset, which fastinit's contiguous
``zeros_`` calls: ``test_fastinit_zeros``), normal >= torch.randn, truncated normal >= 5x
torch.nn.init.trunc_normal_.  ``FASTINIT_GPU_BENCH_N`` changes the size (1e9 makes the ~0.1 ms
fills long against the ~50 us of Python and launch overhead).  Record the device name (printed by
``test_device_name``) with the numbers in docs/gpu.md.
"""
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("numba_cuda")
if not torch.cuda.is_available():
    pytest.skip("needs a CUDA device (torch.cuda.is_available() is False)", allow_module_level=True)
from numba import cuda  # noqa: E402

if not cuda.is_available():
    pytest.skip("needs a CUDA device (numba.cuda.is_available() is False)", allow_module_level=True)

import torch.nn.init as tinit  # noqa: E402

import fastinit.torch as finit  # noqa: E402
from fastinit import _cuda  # noqa: E402
from fastinit.benchmark import FillCheck  # noqa: E402
from conftest import run  # noqa: E402

N = int(float(os.environ.get("FASTINIT_GPU_BENCH_N", "1e8")))
DEV = torch.device("cuda")
_UINT = {torch.float32: np.uint32, torch.float64: np.uint64, torch.float16: np.uint16, torch.bfloat16: np.uint16}


def test_device_name():
    name = torch.cuda.get_device_name(DEV)
    print(f"\nGPU: {name}, {torch.cuda.get_device_properties(DEV).total_memory / 2**30:.0f} GiB, "
          f"torch {torch.__version__}, CUDA {torch.version.cuda}")
    assert name


def _bits(t: torch.Tensor) -> np.ndarray:
    t = t.detach().cpu()
    return (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().view(_UINT[t.dtype])


def _ulps(gpu: np.ndarray, cpu: np.ndarray) -> np.ndarray:
    """|difference| in units in the last place of two arrays of :func:`_bits`, through the ordered integer codes
    of the values (several 8-byte temporaries per element: seconds at 1e8, so only where the bits differ)."""
    def ordered(b):
        w = b.dtype.itemsize * 8
        sign = b >> np.array(w - 1, b.dtype)
        mag = (b & np.array((1 << (w - 1)) - 1, b.dtype)).astype(np.int64)
        return np.where(sign == 1, -mag, mag)
    return np.abs(ordered(gpu) - ordered(cpu))


CASES = [  # (initializer, args, dtype, exact)
    ("uniform_", (-1.0, 1.0), torch.float32, True),
    ("uniform_", (0.0, 1.0), torch.float64, True),
    ("uniform_", (-0.1, 0.1), torch.bfloat16, True),
    ("normal_", (0.0, 1.0), torch.float32, False),
    ("normal_", (0.0, 0.02), torch.bfloat16, False),
    ("normal_", (0.0, 1.0), torch.float64, False),
    ("trunc_normal_", (0.0, 1.0, -2.0, 2.0), torch.float32, False),
    ("trunc_normal_", (0.0, 1.0, 0.5, 0.6), torch.float32, False),
    ("trunc_normal_", (0.0, 1.0, 3.0, float("inf")), torch.float64, False),
    ("trunc_normal_", (0.0, 0.02, -0.04, 0.04), torch.float16, False),
    ("constant_", (0.1,), torch.float32, True),
    ("constant_", (float("nan"),), torch.float32, True),  # the CPU's NaN bits, not the device's canonical NaN
]


@pytest.mark.filterwarnings("ignore:mean is more than 2 std")
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}{c[1]}-{c[2]}" for c in CASES])
def test_gpu_equals_cpu_at_1e8(case):
    """Same (seed, stream, index) -> same value: uniform and constant bit-identical, normal and truncated
    normal within 2 ulp (the kernels compile with -fma=0, so bit-identity is expected there too: the
    mismatch count is printed)."""
    name, args, dtype, exact = case
    kw = {} if name == "constant_" else {"seed": 123, "stream": "bench"}
    gpu = getattr(finit, name)(torch.empty(N, dtype=dtype, device=DEV), *args, **kw)
    cpu = getattr(finit, name)(torch.empty(N, dtype=dtype), *args, **kw)
    torch.cuda.synchronize()
    gpu, cpu = _bits(gpu), _bits(cpu)
    if np.array_equal(gpu, cpu):
        print(f"\n{name}{args} {dtype}: all {N} bit-identical")
        return
    differ = gpu != cpu
    ulps = _ulps(gpu[differ], cpu[differ])
    print(f"\n{name}{args} {dtype}: {ulps.size} of {N} differ in their bits, max {ulps.max()} ulp")
    assert not exact and ulps.max() <= 2  # (-0.0 and 0.0: 0 ulp apart)


def test_gpu_shards_and_strided_views_equal_cpu():
    """A column shard of a strided (transposed) view at an odd offset: the same block of the CPU fill."""
    g = (4096, 3001)
    gpu = torch.empty(1536, 4096, device=DEV).T  # (4096, 1536), column-major
    cpu = torch.empty(1536, 4096).T
    for t in (gpu, cpu):
        finit.trunc_normal_(t, std=0.02, a=-0.04, b=0.04, seed=9, global_shape=g, offset=(0, 1001))
        finit.normal_(t[:, ::3], seed=8, stream="w", global_shape=(4096, 512), offset=(0, 0))
    torch.cuda.synchronize()
    assert np.array_equal(_bits(gpu), _bits(cpu))
    for dtype in (torch.float32, torch.float64, torch.bfloat16):  # contiguous 1-D shards: the one-run path
        for offset in (12_345, 2**32 - 777):
            gpu, cpu = torch.empty(10**6 + 3, dtype=dtype, device=DEV), torch.empty(10**6 + 3, dtype=dtype)
            for t in (gpu, cpu):
                finit.uniform_(t, seed=3, global_shape=(2**33,), offset=(offset,))
                finit.trunc_normal_(t[1000:], a=0.5, b=0.6, seed=3, global_shape=(2**33,), offset=(offset + 1000,))
            torch.cuda.synchronize()
            assert np.array_equal(_bits(gpu), _bits(cpu)), (dtype, offset)


def test_host_computed_initializers_copy_the_cpu_values_to_the_device():
    """orthogonal_, eye_, sparse_ (host-computed, one host-to-device copy: contiguous through copy_to_device,
    strided through numba's assign kernel) on contiguous, transposed and strided bfloat16 targets."""
    cases = [(lambda t: finit.orthogonal_(t, seed=4), (512, 384), torch.float32, lambda t: t),
             (lambda t: finit.orthogonal_(t, seed=4), (384, 512), torch.float32, lambda t: t.T),
             (lambda t: finit.eye_(t), (64, 96), torch.bfloat16, lambda t: t[:, ::2]),
             (lambda t: finit.sparse_(t, 0.3, seed=5), (300, 200), torch.float16, lambda t: t)]
    for fill, shape, dtype, view in cases:
        gpu = torch.full(shape, 9.0, dtype=dtype, device=DEV)
        cpu = torch.full(shape, 9.0, dtype=dtype)
        fill(view(gpu))
        fill(view(cpu))
        torch.cuda.synchronize()
        assert np.array_equal(_bits(gpu), _bits(cpu)), (shape, dtype)


def test_fill_runs_in_order_on_the_current_stream():
    """A fill (and a host-computed copy) on a side stream, read on that stream with no host synchronization in
    between: every value the fill's (a 7.0 left, or a read before the fill, would show), the CPU's bits."""
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        t = torch.full((N // 10,), 7.0, device=DEV)
        finit.uniform_(t, 2.0, 3.0, seed=1)
        low, high = float(t.min()), float(t.max())
        q = torch.full((300, 200), 7.0, device=DEV)
        finit.orthogonal_(q.T, seed=2)  # staged, then the scatter kernel, on s
        q_high = float(q.abs().max())
    assert 2.0 <= low and high < 3.0 and q_high <= 1.0 + 1e-5
    torch.cuda.synchronize()
    assert np.array_equal(_bits(t), _bits(finit.uniform_(torch.empty(N // 10), 2.0, 3.0, seed=1)))
    assert np.array_equal(_bits(q), _bits(finit.orthogonal_(torch.empty(300, 200).T, seed=2).T))


def test_compiled_kernels_hold_no_fma():
    """Every PTX numba-cuda built for the kernels, including the one a launch on this device links (its
    code library's key: (cc, 'a') from sm_90), holds no fma (inspect_asm would build another, for the bare cc)."""
    for fn in (_cuda._fill, _cuda._fill_trunc):
        for overload in _cuda._kernel(fn, _cuda.F32).overloads.values():
            lib = overload._codelibrary
            assert lib._ensure_cc(None) in lib._ptx_cache, sorted(lib._ptx_cache)
            for ptxes in lib._ptx_cache.values():
                assert all("fma." not in ptx for ptx in ptxes)


def _timed(benchmark, fn, rounds=10, check=None, calls=1):
    """Time ``calls`` calls of ``fn`` on the device, then one synchronize (conftest's ``run``); ``check``: the
    FillCheck of the tensor it fills, planted before the last round."""
    def synced():
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
    run(benchmark, synced, rounds, elements=calls * N, check=check)


@pytest.fixture(scope="module")
def dev32():
    return torch.empty(N, dtype=torch.float32, device=DEV)


@pytest.mark.benchmark(group="gpu uniform f32")
def test_memset_zero(benchmark, dev32):
    _timed(benchmark, dev32.zero_)


@pytest.mark.benchmark(group="gpu uniform f32")
def test_fastinit_uniform(benchmark, dev32):
    _timed(benchmark, lambda: finit.uniform_(dev32, seed=1), check=FillCheck.for_case("uniform_", dev32))


@pytest.mark.benchmark(group="gpu uniform f32")
def test_torch_rand(benchmark, dev32):
    _timed(benchmark, dev32.uniform_)


@pytest.mark.benchmark(group="gpu uniform f32")
def test_fastinit_zeros(benchmark, dev32):
    _timed(benchmark, lambda: finit.zeros_(dev32), check=FillCheck(dev32, "constant", value=0.0))


@pytest.mark.benchmark(group="gpu uniform f32")
def test_fastinit_zeros_kernel(benchmark, dev32, monkeypatch):
    """zeros_ through the fill kernel rather than the driver's memset that contiguous constants take: the kernel's
    stores without Philox, the probe of docs/gpu.md's throughput item."""
    from fastinit import _cuda

    monkeypatch.setattr(_cuda, "_memset_word", lambda code, p0: None)
    _timed(benchmark, lambda: finit.zeros_(dev32), check=FillCheck(dev32, "constant", value=0.0))


@pytest.mark.benchmark(group="gpu normal f32")
def test_memset_normal_group(benchmark, dev32):
    _timed(benchmark, dev32.zero_)


@pytest.mark.benchmark(group="gpu normal f32")
def test_fastinit_normal(benchmark, dev32):
    _timed(benchmark, lambda: finit.normal_(dev32, seed=1), check=FillCheck.for_case("normal_", dev32))


@pytest.mark.benchmark(group="gpu normal f32")
def test_torch_randn(benchmark, dev32):
    _timed(benchmark, dev32.normal_)


@pytest.mark.benchmark(group="gpu trunc_normal_ f32 [-2, 2]")
def test_fastinit_trunc_normal(benchmark, dev32):
    _timed(benchmark, lambda: finit.trunc_normal_(dev32, seed=1), check=FillCheck.for_case("trunc_normal_", dev32))


PIPELINED = 10  # calls per round, one synchronize: the device stays busy while the host issues the next call
_PIPELINED_CASES = {  # name: (the call on the float32 tensor, its FillCheck or None)
    "memset": (lambda t: t.zero_(), lambda t: None),
    "fastinit_zeros": (lambda t: finit.zeros_(t), lambda t: FillCheck(t, "constant", value=0.0)),
    "fastinit_uniform": (lambda t: finit.uniform_(t, seed=1), lambda t: FillCheck.for_case("uniform_", t)),
    "torch_rand": (lambda t: t.uniform_(), lambda t: None),
    "fastinit_normal": (lambda t: finit.normal_(t, seed=1), lambda t: FillCheck.for_case("normal_", t)),
    "torch_randn": (lambda t: t.normal_(), lambda t: None),
}


@pytest.mark.benchmark(group="gpu f32, 10 calls then one sync")
@pytest.mark.parametrize("case", list(_PIPELINED_CASES))
def test_pipelined(benchmark, dev32, case):
    """PIPELINED calls, then one synchronize: at 2e9 elements a fill outlasts a call's host overhead, so this times
    the kernels (the synchronized groups add one call's overhead to each fill); at 1e8, the host."""
    call, check = _PIPELINED_CASES[case]
    _timed(benchmark, lambda: call(dev32), rounds=5, check=check(dev32), calls=PIPELINED)


@pytest.mark.benchmark(group="gpu trunc_normal_ f32 [-2, 2]")
def test_torch_trunc_normal(benchmark, dev32):
    _timed(benchmark, lambda: tinit.trunc_normal_(dev32), rounds=3)


@pytest.mark.benchmark(group="gpu bf16 uniform")
def test_fastinit_uniform_bf16(benchmark):
    t = torch.empty(N, dtype=torch.bfloat16, device=DEV)
    _timed(benchmark, lambda: finit.uniform_(t, -0.1, 0.1, seed=1), check=FillCheck(t, "uniform", a=-0.1, b=0.1))


@pytest.mark.benchmark(group="gpu bf16 uniform")
def test_torch_uniform_bf16(benchmark):
    t = torch.empty(N, dtype=torch.bfloat16, device=DEV)
    _timed(benchmark, lambda: t.uniform_(-0.1, 0.1))


SMALL = 4096  # elements: a bias or a small layer, where the call's overhead is the whole cost


@pytest.mark.benchmark(group="gpu small call (4096 f32, synchronized)")
def test_fastinit_uniform_small_call(benchmark):
    t = torch.empty(SMALL, device=DEV)
    run(benchmark, lambda: (finit.uniform_(t, seed=1), torch.cuda.synchronize()), 200, elements=SMALL,
        check=FillCheck.for_case("uniform_", t))


@pytest.mark.benchmark(group="gpu small call (4096 f32, synchronized)")
def test_torch_uniform_small_call(benchmark):
    t = torch.empty(SMALL, device=DEV)
    run(benchmark, lambda: (t.uniform_(), torch.cuda.synchronize()), 200, elements=SMALL)


@pytest.mark.benchmark(group="gpu small call (4096 f32, synchronized)")
def test_fastinit_numba_array_small_call(benchmark):
    import fastinit

    a = cuda.device_array(SMALL, np.float32)
    run(benchmark, lambda: (fastinit.uniform_(a, seed=1), cuda.synchronize()), 200, elements=SMALL)


@pytest.mark.benchmark(group="gpu small call (4096 f32, synchronized)")
def test_fastinit_zeros_small_call(benchmark):
    t = torch.empty(SMALL, device=DEV)
    run(benchmark, lambda: (finit.zeros_(t), torch.cuda.synchronize()), 200, elements=SMALL,
        check=FillCheck(t, "constant", value=0.0))


@pytest.mark.parametrize("target", ["torch", "numba"])
def test_small_call_profile(target):
    """Where a small call's time goes (docs/gpu.md, "Small calls"): 300 calls of uniform_ on 4096 elements under
    cProfile, through fastinit.torch on a CUDA tensor or fastinit on a numba device array, the 15 functions of most
    own time printed for the record (the host's Python alone: bench/gpu_host_overhead.py, offline)."""
    import cProfile
    import pstats

    import fastinit

    if target == "torch":
        t, fill = torch.empty(SMALL, device=DEV), finit.uniform_
    else:
        t, fill = cuda.device_array(SMALL, np.float32), fastinit.uniform_
    fill(t, 2.0, 3.0, seed=1)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(300):
        fill(t, 2.0, 3.0, seed=1)
    profile.disable()
    torch.cuda.synchronize()
    print()
    pstats.Stats(profile).sort_stats("tottime").print_stats(15)
    values = t if target == "torch" else torch.as_tensor(t, device=DEV)
    assert 2.0 <= float(values.min()) and float(values.max()) < 3.0


_FIRST_CALL = """
import time, numpy as np, fastinit
from numba import cuda  # noqa: E402
a = cuda.device_array(1024, np.float32)
t0 = time.perf_counter(); fastinit.uniform_(a, seed=0); cuda.synchronize()
t1 = time.perf_counter(); fastinit.trunc_normal_(a[::2], seed=0); cuda.synchronize()
t2 = time.perf_counter()
print(f"{t1 - t0:.2f} {t2 - t1:.2f}")
expected = fastinit.uniform_(np.empty(1024, np.float32), seed=0)
fastinit.trunc_normal_(expected[::2], seed=0)
assert np.array_equal(a.copy_to_host(), expected)
"""


def test_first_call_compile_time_and_numba_device_arrays(tmp_path):
    """Kernels compile once per storage type and are cached on disk (``_cuda._compiled``): a fresh process's first
    calls with no GPU kernel in the cache (a cache folder of its own: the CPU kernels copied, the GPU ones left
    out), then in another fresh process, which loads them, for the record; numba's own device arrays (a strided
    view included) are targets too."""
    import pathlib
    import shutil
    import subprocess
    import sys

    from fastinit import precompile

    folder = precompile.cache_location()
    assert folder is not None, "no numba cache folder: the GPU kernels would compile in every process"
    # a cache of its own, the CPU kernels copied into it (the check's CPU fills load them), no GPU kernel: the
    # shared one keeps the kernels `fastinit compile --gpu` built for the steps after this one
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    where = [sys.executable, "-c", "from fastinit import precompile; print(precompile.cache_location())"]
    own = subprocess.run(where, env=env, capture_output=True, text=True, check=True).stdout.strip()
    shutil.copytree(folder, own, ignore=shutil.ignore_patterns("_cuda.*"), dirs_exist_ok=True)
    times = []
    for _ in range(2):
        r = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stderr[-3000:]
        times.append(r.stdout.split())
    (fill, trunc), (fill_cached, trunc_cached) = times
    print(f"\nfirst call (compile + launch): constant/uniform/normal kernel {fill} s, truncated normal {trunc} s; "
          f"from the disk cache: {fill_cached} s, {trunc_cached} s")
    assert list(pathlib.Path(own).glob("_cuda._fill-*.nbc")), "the kernels were not cached"
