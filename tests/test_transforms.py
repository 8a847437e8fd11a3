"""Transforms: ulp accuracy of the polynomial log / sincos and of Box-Muller, on 1e7 points."""
import warnings

import numba
import numpy as np
import pytest

from fastinit import _transforms as T
from fastinit._jit import bits_float, half_bits
from reference import ulps

N = 10_000_000
U64 = np.uint64
L = np.longdouble
TWO_PI = 2 * L("3.14159265358979323846264338327950288")
NOISE = 1e-18  # |error| of long-double sin/cos of a long-double angle near their zeros


@numba.njit(parallel=True)
def _eval32(w, lg, s, c):
    for i in numba.prange(w.size):
        lg[i] = T.log_f32(T.open_uniform_f32(U64(w[i])))
        s[i], c[i] = T.sincos2pi_f32(T.bits24(U64(w[i])))


@numba.njit(parallel=True)
def _eval64(w, lg, s, c):
    for i in numba.prange(w.size // 2):
        lg[i] = T.log_f64(T.open_uniform_f64(U64(w[2 * i]), U64(w[2 * i + 1])))
        s[i], c[i] = T.sincos2pi_f64(T.bits53(U64(w[2 * i]), U64(w[2 * i + 1])))


def _words(n, seed):
    w = np.random.default_rng(seed).integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    w[:4096] = np.arange(4096)  # the deep tail of log: smallest uniforms
    w[4096:8192] = np.arange(4096) << 20  # every quadrant boundary region of sincos
    return w


def test_float32_log_within_1_ulp_and_sincos_within_2_ulp():
    w = _words(N, 1)
    lg, s, c = (np.empty(N, np.float32) for _ in range(3))
    _eval32(w, lg, s, c)
    u = (w.astype(np.float32) * np.float32(2.0**-32) + np.float32(2.0**-33)).astype(L)
    theta = TWO_PI * (w >> 8).astype(L) * L(2) ** -24
    assert ulps(lg, np.log(u), np.float32).max() <= 1.0
    assert ulps(s, np.sin(theta), np.float32, NOISE).max() <= 2.0
    assert ulps(c, np.cos(theta), np.float32, NOISE).max() <= 2.0


def test_float64_log_within_1_ulp_and_sincos_within_2_ulp():
    w = _words(2 * N, 2)
    lg, s, c = (np.empty(N) for _ in range(3))
    _eval64(w, lg, s, c)
    k = (w[0::2].astype(np.uint64) << np.uint64(21)) | (w[1::2].astype(np.uint64) >> np.uint64(11))
    u = ((k.astype(np.float64) + 0.5) * 2.0**-53).astype(L)  # the float64 the kernel feeds to log
    theta = TWO_PI * k.astype(L) * L(2) ** -53
    assert ulps(lg, np.log(u), np.float64).max() <= 1.0
    assert ulps(s, np.sin(theta), np.float64, NOISE).max() <= 2.0
    assert ulps(c, np.cos(theta), np.float64, NOISE).max() <= 2.0


@pytest.mark.parametrize("bits", [np.float32(x).view(np.uint32) for x in
                                  [0.0, -0.0, 1.0, -2.5, 65504.0, 65519.996, 65520.0, 1e9, 6.1e-5, 5.96e-8,
                                   2.98e-8, 2.99e-8, 1e-10, np.inf, -np.inf, 3.14159, 1.00048828125,
                                   1.000732421875]])
@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
def test_f16_rounding_matches_numpy(bits):
    assert T.f32bits_to_f16bits(bits) == np.float32(bits.view(np.float32)).astype(np.float16).view(np.uint16)


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
def test_f16_and_bf16_rounding_match_reference_on_random_patterns():
    import ml_dtypes
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32)
    f = bits.view(np.float32)
    finite = np.isfinite(f)
    got16 = np.array([T.f32bits_to_f16bits(b) for b in bits[finite][:20_000]], np.uint16)
    assert np.array_equal(got16, f[finite][:20_000].astype(np.float16).view(np.uint16))
    gotbf = np.array([T.f32bits_to_bf16bits(b) for b in bits[finite][:20_000]], np.uint16)
    assert np.array_equal(gotbf, f[finite][:20_000].astype(ml_dtypes.bfloat16).view(np.uint16))
    nan = np.float32(np.nan).view(np.uint32)
    assert np.isnan(np.uint16(T.f32bits_to_bf16bits(nan)).view(ml_dtypes.bfloat16))
    assert np.isnan(np.uint16(T.f32bits_to_f16bits(nan)).view(np.float16))


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
def test_compiled_bf16_rounding_matches_ml_dtypes_for_every_high_half():
    """The bfloat16 rounding compiled in a loop (vectorized, as in the kernels' store loops) against ml_dtypes: all
    2**16 high halves (every sign, exponent and kept mantissa) with the low halves that decide the rounding (0, 1,
    0x7FFF, 0x8000: the ties, 0x8001, 0xFFFF) and random ones; NaN stays NaN."""
    import ml_dtypes

    @numba.njit
    def convert(bits, out):
        for i in range(bits.size):
            out[i] = T.f32bits_to_bf16bits(bits[i])

    high = np.arange(1 << 16, dtype=np.uint32) << np.uint32(16)
    low = np.concatenate([np.array([0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF], np.uint32),
                          np.random.default_rng(5).integers(0, 1 << 16, 26, dtype=np.uint32)])
    bits = (high[:, None] | low[None, :]).ravel()
    out = np.empty(bits.size, np.uint16)
    convert(bits, out)
    f = bits.view(np.float32)
    nan = np.isnan(f)
    assert np.array_equal(out[~nan], f[~nan].astype(ml_dtypes.bfloat16).view(np.uint16))
    assert np.isnan(out[nan].view(ml_dtypes.bfloat16)).all()
    with warnings.catch_warnings():  # the Python function (what the CUDA simulator runs): no uint32 overflow
        warnings.simplefilter("error")
        assert [T.f32bits_to_bf16bits.py_func(np.uint32(b)) for b in (0xFFFFFFFF, 0xFFFF8001, 0x7F7FFFFF)] == \
            [0xFFFF, 0xFFFF, 0x7F80]


def test_bit_casts_agree_compiled_and_in_python():
    from fastinit._jit import bits_float, float_bits

    @numba.njit
    def roundtrip(x):
        return float_bits(x), bits_float(float_bits(x))

    for x in (np.float32(-2.5), np.float32(1e-30), np.float64(np.pi), np.float64(-0.0)):
        bits, back = roundtrip(x)
        assert bits == float_bits(x) == x.view(np.uint32 if x.dtype == np.float32 else np.uint64)
        assert back == x and np.signbit(back) == np.signbit(x)


def test_kernels_ask_llvm_for_the_widest_vectors():
    """wide_vectors() puts LLVM's prefer-vector-width=512 on the function that calls it (Intel's AVX-512 tuning
    otherwise vectorizes 256 bits wide); in Python it is a no-op.  The tile kernels and the sparse passes call it."""
    import inspect

    from fastinit import _cpu, sparsity
    from fastinit._jit import wide_vectors

    @numba.njit
    def wide(x):
        wide_vectors()
        return x + 1

    @numba.njit
    def plain(x):
        return x + 1

    assert wide(1) == plain(1) == 2 and wide_vectors() is None
    assert '"prefer-vector-width"="512"' in next(iter(wide.inspect_llvm().values()))
    assert "prefer-vector-width" not in next(iter(plain.inspect_llvm().values()))
    for fn in (_cpu._tile, _cpu._tile_part, _cpu._tile_f16_uniform, _cpu._tile_words, _cpu._store, _cpu._fill_run,
               _cpu._fill_run_trunc,
               _cpu._tile_trunc, _cpu._trunc_first32, _cpu._trunc_first64, sparsity._row_mask, sparsity._fill_sparse):
        assert "wide_vectors()" in inspect.getsource(fn.py_func), fn.__name__


@numba.njit(parallel=True, error_model="numpy")
def _half_mismatches(hi_words):
    """Non-NaN float32 patterns (high 16 bits in hi_words) where half_bits and f32bits_to_f16bits differ."""
    bad = 0
    for i in numba.prange(hi_words.size):
        for lo in range(1 << 16):
            b = np.uint32((np.uint32(hi_words[i]) << np.uint32(16)) | np.uint32(lo))
            if (b & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000):
                continue  # NaN: payloads may differ (both stay NaN)
            if np.uint64(half_bits(bits_float(b))) != T.f32bits_to_f16bits(np.uint64(b)):
                bad += 1
    return bad


@pytest.mark.slow
def test_hardware_half_conversion_equals_the_transform_on_every_float32():
    """The CPU kernels store float16 through the conversion instruction (when the host has one): it must give the
    portable transform's bits (the CUDA kernels' and the docs' definition) on all 2**32 inputs but NaN payloads."""
    from fastinit._jit import HARDWARE_HALF

    if not HARDWARE_HALF:
        pytest.skip("this CPU has no float16 conversion instruction: the kernels use the transform itself")
    assert _half_mismatches(np.arange(1 << 16, dtype=np.uint32)) == 0


def test_kernel_caches_are_stamped_with_every_module_of_the_package(tmp_path):
    """numba keeps a cached kernel while its own module is unchanged, but the kernels inline functions of other
    modules: fastinit's locators stamp the cache with every module of the package, so editing one (the
    transforms, say) recompiles the kernels instead of loading stale math."""
    import os
    import shutil

    from fastinit import _cpu, _jit, sparsity

    if _jit.UNCACHED:
        pytest.skip("numba found no writable cache folder: the kernels are not cached")
    package = os.path.dirname(os.path.abspath(_jit.__file__))
    for dispatcher in (_cpu.fill, _cpu.fill_trunc, _cpu._tile, sparsity._fill_sparse):
        locator = dispatcher._cache._impl._locator
        assert type(locator).__name__.startswith("Package"), type(locator).__name__
        assert locator.get_source_stamp() == _jit.package_stamp()
    for name in ("_transforms.py", "_philox.py", "_cpu.py"):
        shutil.copy(os.path.join(package, name), tmp_path / name)
    before = _jit.package_stamp(str(tmp_path))
    text = (tmp_path / "_transforms.py").read_text()
    (tmp_path / "_transforms.py").write_text(text.replace("ties to even", "ties to EVEN", 1))  # same size
    os.utime(tmp_path / "_transforms.py", ns=(0, os.stat(tmp_path / "_philox.py").st_mtime_ns))
    assert _jit.package_stamp(str(tmp_path)) != before  # read now (in a process that imported fastinit)


def test_reloading_the_jit_module_replaces_its_locators():
    import importlib

    from numba.core import caching

    from fastinit import _jit

    before = [c.__name__ for c in caching.CacheImpl._locator_classes]
    importlib.reload(_jit)
    assert [c.__name__ for c in caching.CacheImpl._locator_classes] == before
    assert sum(c.__name__.startswith("Package") for c in caching.CacheImpl._locator_classes) == 3


def test_package_stamp_failure_leaves_numbas_locators(monkeypatch):
    """Installed where the package is not a directory of sources (a zip, a frozen application), fastinit keeps
    numba's own cache locators instead of failing at import."""
    from numba.core import caching

    from fastinit import _jit

    before = list(caching.CacheImpl._locator_classes)

    def unreadable(package=None):
        raise FileNotFoundError(package)

    monkeypatch.setattr(_jit, "package_stamp", unreadable)
    _jit.stamp_caches_with_the_package()
    assert caching.CacheImpl._locator_classes == before
