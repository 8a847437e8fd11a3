"""Numerical edges: 16-bit overflow is refused (never a silent inf / NaN), denormal standard deviations are
not flushed to zero, a mean far from 0 is rounded once to bfloat16, gain 0 gives exact zeros."""
import fractions
import math
import re

import ml_dtypes
import numba
import numpy as np
import pytest

import fastinit

BF16 = ml_dtypes.bfloat16
NARROW = [np.float16, BF16]
TWO_THREADS = pytest.param(2, marks=pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="one CPU"))


def _garbage(shape, dtype):
    out = np.empty(shape, dtype)
    out.view(np.uint8)[...] = 0x7C  # a recognizable pattern: a refusal must leave it
    return out


@pytest.mark.parametrize("dtype", [np.float16, BF16, np.float32])
@pytest.mark.parametrize("call, arg", [
    (lambda out, big: fastinit.normal_(out, 0.0, big / 5), "std"),
    (lambda out, big: fastinit.normal_(out, big * 1.01, 0.0), "mean"),
    (lambda out, big: fastinit.uniform_(out, -big * 2, 0.0), "bounds|b - a"),
    (lambda out, big: fastinit.constant_(out, big * 2), "val"),
    (lambda out, big: fastinit.xavier_uniform_(out, gain=2 * big), "gain"),  # bound 1.22 * big (fans 8, 8)
    (lambda out, big: fastinit.xavier_normal_(out, gain=big), "gain"),
    (lambda out, big: fastinit.variance_scaling_(out, scale=big * big * 100), "scale"),
    (lambda out, big: fastinit.variance_scaling_(out, big * big * 100, distribution="uniform"), "scale"),
    (lambda out, big: fastinit.sparse_(out, 0.5, std=big), "std"),
])
def test_values_beyond_the_dtype_range_are_refused_not_written_as_inf(call, arg, dtype):
    big = float(ml_dtypes.finfo(dtype).max)
    out = _garbage((8, 8), dtype)
    before = out.tobytes()
    with pytest.raises(ValueError, match=arg):
        call(out, big)
    assert out.tobytes() == before


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
@pytest.mark.parametrize("mean, std", [(0.0, 1e39), (1e39, 1.0), (-1e300, 1.0)])
def test_trunc_normal_refuses_parameters_its_compute_precision_cannot_hold(mean, std, dtype):
    out = _garbage(100, dtype)
    with pytest.raises(ValueError, match="mean|std"):
        fastinit.trunc_normal_(out, mean, std, -1.0, 1.0)
    assert (out.view(np.uint8) == 0x7C).all()


@pytest.mark.parametrize("dtype", NARROW)
@pytest.mark.parametrize("std", [1e5, 1e12, 1e30])
def test_trunc_normal_beyond_the_16_bit_range_is_the_law_on_the_finite_range(std, dtype):
    """Infinite or out-of-range bounds mean [-max, max] of the dtype: the stored law is N(0, std^2)
    restricted to the finite range (nearly uniform there for such std), sampled exactly and fast
    (the proposal is chosen for the finite range), never +-inf."""
    big = float(ml_dtypes.finfo(dtype).max)
    v = fastinit.trunc_normal_(np.empty(20_000, dtype), 0.0, std, -np.inf, np.inf, seed=1).astype(np.float64)
    assert np.isfinite(v).all() and np.abs(v).max() <= big
    spread = min(big, std)
    assert v.min() < -0.5 * spread and v.max() > 0.5 * spread  # not collapsed to the mean
    same = fastinit.trunc_normal_(np.empty(20_000, dtype), 0.0, std, -1e300, 1e300, seed=1)
    assert same.astype(np.float64).tobytes() == v.tobytes()  # bounds past the range are the range's ends


@pytest.mark.parametrize("dtype", NARROW)
def test_largest_finite_values_are_reachable_without_overflow(dtype):
    big = float(ml_dtypes.finfo(dtype).max)
    assert (fastinit.constant_(np.empty(4, dtype), big).astype(np.float64) == big).all()
    u = fastinit.uniform_(np.empty(100_000, dtype), -big / 2, big / 2, seed=0).astype(np.float64)
    assert np.isfinite(u).all() and u.min() < -0.45 * big and u.max() > 0.45 * big
    u = fastinit.uniform_(np.empty(100_000, dtype), 0.0, big, seed=0).astype(np.float64)
    assert np.isfinite(u).all() and u.max() > 0.99 * big
    n = fastinit.normal_(np.empty(100_000, dtype), 0.0, big / 7, seed=0).astype(np.float64)
    assert np.isfinite(n).all()
    # the fan-scaled uniform takes what uniform_ takes: bounds within the dtype, their width within float32
    # (float16: a bound of 0.9 * big, refused before; bfloat16 spans float32's range: a width of 0.9 * big)
    gain = (0.9 if dtype == np.float16 else 0.45) * big / math.sqrt(6 / 13)  # xavier on (6, 7)
    x = fastinit.xavier_uniform_(np.empty((6, 7), dtype), gain, seed=0)
    bound = float(np.float32(gain * math.sqrt(6 / 13)))
    assert x.tobytes() == fastinit.uniform_(np.empty((6, 7), dtype), -bound, bound, seed=0).tobytes()
    with pytest.raises(ValueError, match="gain gives std .* beyond what"):
        fastinit.xavier_uniform_(np.empty((6, 7), dtype), 1.01 * big / math.sqrt(6 / 13), seed=0)


@pytest.mark.parametrize("dtype", [np.float16, BF16, np.float32, np.float64])
def test_normal_means_that_round_to_the_largest_finite_value_are_taken(dtype):
    """normal_ refuses what can round to inf, not what rounds to the largest finite value: in float16 anything
    below 65520 (the largest finite value, 65504, plus half its spacing) stores 65504."""
    big = float(ml_dtypes.finfo(dtype).max)
    edge = big + math.ldexp(1.0, math.frexp(big)[1] - ml_dtypes.finfo(dtype).nmant - 2)  # rounds to inf
    below = float(np.nextafter(np.float32(edge), np.float32(0))) if dtype in NARROW else big
    for mean in (below, -below, big, -big):
        v = fastinit.normal_(np.empty(64, dtype), mean, 0.0, seed=0).astype(np.float64)
        assert (v == math.copysign(big, mean)).all()
    if dtype != np.float64:
        out = _garbage(64, dtype)
        before = out.tobytes()
        for mean, std in ((edge, 0.0), (-edge, 0.0), (below, (edge - below) / 2)):
            with pytest.raises(ValueError, match="beyond the largest finite"):
                fastinit.normal_(out, mean, std, seed=0)
        assert out.tobytes() == before
    # a std whose largest draws stay within half a spacing of big is taken; one that can leave it is not
    spacing = math.ldexp(1.0, math.frexp(big)[1] - ml_dtypes.finfo(dtype).nmant - 1)
    assert np.isfinite(fastinit.normal_(np.empty(64, dtype), big, spacing / 100, seed=0).astype(np.float64)).all()
    with pytest.raises(ValueError, match="beyond the largest finite"):
        fastinit.normal_(np.empty(64, dtype), big, spacing / 10, seed=0)


@pytest.mark.parametrize("std", [1e-38, 1e-40, 1e-44, 1.4e-45])
def test_denormal_std_in_float32_is_not_flushed_to_zero(std):
    """x = 0 + std * z in float32 with a subnormal std: exactly numpy's (IEEE, no flush-to-zero) product of
    the same z (the std=1 fill) and float32(std)."""
    got = fastinit.normal_(np.empty(50_000, np.float32), 0.0, std, seed=3)
    z = fastinit.normal_(np.empty(50_000, np.float32), 0.0, 1.0, seed=3)
    want = np.float32(0.0) + np.float32(std) * z
    assert got.tobytes() == want.tobytes()
    assert np.count_nonzero(got) > 0.5 * got.size
    if 7 * std < np.finfo(np.float32).tiny:
        assert np.all(np.abs(got) < np.finfo(np.float32).tiny)  # subnormal results, kept


def test_denormal_std_in_float64_and_truncated_normal():
    got = fastinit.normal_(np.empty(10_000), 0.0, 1e-310, seed=3)
    z = fastinit.normal_(np.empty(10_000), 0.0, 1.0, seed=3)
    assert got.tobytes() == (0.0 + 1e-310 * z).tobytes() and np.count_nonzero(got) == got.size
    t = fastinit.trunc_normal_(np.empty(10_000, np.float32), 0.0, 1e-40, -2e-40, 2e-40, seed=3)
    assert (t >= np.float32(-2e-40)).all() and (t <= np.float32(2e-40)).all() and np.count_nonzero(t) > 9_000
    assert t.astype(np.float64).std() > 3e-41  # the law's spread survives: std of N(0, 1) on [-2, 2] is 0.88


@pytest.mark.parametrize("std", [1.0, 1e3, 1e5])
def test_mean_far_from_zero_is_rounded_once_to_bfloat16(std):
    """normal_ in bfloat16 at mean 1e6 equals the float32 fill rounded once to nearest-even (ml_dtypes),
    so there is no rounding bias beyond the grid's own (spacing 4096 around 1e6)."""
    n = 200_000
    b = fastinit.normal_(np.empty(n, BF16), 1e6, std, seed=5)
    f = fastinit.normal_(np.empty(n, np.float32), 1e6, std, seed=5)
    assert b.view(np.uint16).tobytes() == f.astype(BF16).view(np.uint16).tobytes()
    bias = abs(b.astype(np.float64).mean() - f.astype(np.float64).mean())
    if std == 1.0:
        assert (b.astype(np.float64) == float(BF16(1e6))).all()  # every value sits at 1e6 rounded: 999424
    if std > 4 * 8192:  # spread over many grid cells: nearest-even rounding errors average out
        assert bias < 4096 / np.sqrt(n) * 3


def test_bounds_far_from_zero_hold_after_bfloat16_rounding():
    u = fastinit.uniform_(np.empty(100_000, BF16), 1e6, 1.1e6, seed=0).astype(np.float64)
    assert u.min() >= 1e6 and u.max() < 1.1e6
    assert np.all(np.mod(u, 4096) == 0)  # on the bfloat16 grid
    t = fastinit.trunc_normal_(np.empty(100_000, BF16), 1e6, 1e4, 1e6 - 2e4, 1e6 + 2e4, seed=0).astype(np.float64)
    assert t.min() >= 1e6 - 2e4 and t.max() <= 1e6 + 2e4


GAIN_ZERO = [
    lambda out: fastinit.xavier_uniform_(out, gain=0.0, seed=1),
    lambda out: fastinit.xavier_normal_(out, gain=0, seed=1),
    lambda out: fastinit.orthogonal_(out, gain=0.0, seed=1),
    lambda out: fastinit.kaiming_uniform_(out, a=float("inf"), seed=1),  # leaky-ReLU slope inf: gain 0
    lambda out: fastinit.kaiming_normal_(out, a=1e200, seed=1),  # slope**2 overflows: gain 0, not an error
    lambda out: fastinit.normal_(out, 0.0, 0.0, seed=1),
]


@pytest.mark.parametrize("dtype", [np.float16, BF16, np.float32, np.float64])
@pytest.mark.parametrize("init", GAIN_ZERO)
def test_gain_zero_gives_exact_zeros(init, dtype):
    out = np.ones((16, 24), dtype)
    init(out)
    assert (out.astype(np.float64) == 0).all()
    if init is not GAIN_ZERO[2]:  # the kernel writes mean + 0 * z = +0.0 (orthogonal_ scales Q: -0.0 like torch)
        assert out.view(f"u{out.itemsize}").max() == 0


@pytest.mark.parametrize("distribution", ["truncated_normal", "normal", "uniform"])
def test_zero_scale_gives_zeros_and_a_negative_one_is_refused(distribution):
    """As JAX's variance_scaling (Keras refuses 0): Var(W) = 0, exact +0.0 everywhere."""
    out = np.ones((4, 4), np.float32)
    assert fastinit.variance_scaling_(out, 0.0, distribution=distribution, seed=1).tobytes() == bytes(64)
    with pytest.raises(ValueError, match="scale must be a non-negative finite number"):
        fastinit.variance_scaling_(np.ones((4, 4), np.float32), -0.5, distribution=distribution)


def test_cached_bound_limits_keep_the_sign_of_zero():
    """The representable-limits cache of uniform_/trunc_normal_ keys -0.0 and 0.0 apart (they compare equal)."""
    from fastinit import init

    f32 = np.dtype(np.float32)
    pos = init._representable(0.0, 1.0, f32, "uniform_", False)
    neg = init._representable(-0.0, 1.0, f32, "uniform_", False)
    assert np.signbit(neg[0]) and not np.signbit(pos[0])
    hi = init._representable(-1.0, -0.0, f32, "uniform_", True)[1]
    assert np.signbit(hi) and not np.signbit(init._representable(-1.0, 0.0, f32, "uniform_", True)[1])
    assert init._representable(0.0, 1.0, f32, "uniform_", False) == pos  # a second call: from the cache


def test_cached_constant_keeps_the_sign_of_zero():
    """constant_'s cache of rounded values keys -0.0 and 0.0 apart (they compare equal and hash alike)."""
    for dt in (np.float16, np.float32, np.float64):
        out = np.ones(8, dt)
        fastinit.zeros_(out)
        assert not np.signbit(out).any()
        fastinit.constant_(out, -0.0)
        assert np.signbit(out).all() and (out == 0).all()
        fastinit.zeros_(out)
        assert not np.signbit(out).any()


@pytest.mark.parametrize("val, dt, want", [
    (2**60 + 2**36 + 1, np.float32, 2**60 + 2**37),  # float64 holds 2**60 + 2**36, a float32 tie: to even, 2**60
    (-(2**60 + 2**36 + 1), np.float32, -(2**60 + 2**37)),
    (2**60 + 2**36 - 1, np.float32, 2**60),  # below the tie: down (float64's 2**60 + 2**36 would tie too)
    (fractions.Fraction(2**53 + 2**42 + 1, 2**53), np.float16, 1 + 2**-10),  # 1 + 2**-11 + 2**-53: above the tie
    (fractions.Fraction(2**53 + 2**45 + 1, 2**53), "bfloat16", 1 + 2**-7),  # 1 + 2**-8 + 2**-53
    (2**60 + 2**36 + 1, np.float64, 2**60 + 2**36),  # float64 itself: its nearest
    (2**60 + 2**36, np.float32, 2**60)])  # an exact tie: to even
def test_constant_rounds_an_int_or_fraction_once(val, dt, want):
    """An int beyond 2**53 or a Fraction is rounded to the target dtype once, as NumPy's astype and torch's fill_
    round an int (not to float64 first, then again: 2**60 + 2**36 + 1 had been stored as 2**60; a review)."""
    dt = np.dtype(ml_dtypes.bfloat16) if dt == "bfloat16" else np.dtype(dt)
    out = fastinit.constant_(np.zeros(4, dt), val)
    assert (out.astype(np.float64) == float(want)).all()
    if isinstance(val, int) and dt != np.float64:
        assert np.array(val).astype(dt) == want  # (NumPy's rounding of the int)


def test_c_contiguous_fast_path_equals_the_general_layout():
    """C-contiguous arrays skip the general layout checks; numpy calls an array with arbitrary strides on
    its length-1 axes C-contiguous too, and a misaligned contiguous one still goes through the checks."""
    base = np.zeros(64, np.float32)
    odd = np.lib.stride_tricks.as_strided(base, shape=(5, 1, 3), strides=(12, 1000, 4))
    assert odd.flags.c_contiguous
    fastinit.normal_(odd, seed=3, stream="s")
    assert np.array_equal(odd.ravel(), fastinit.normal_(np.empty((5, 1, 3), np.float32), seed=3, stream="s").ravel())
    assert (base[15:] == 0).all()
    raw = np.zeros(4 * 9, np.uint8)
    misaligned = raw[1:33].view(np.float32)
    assert misaligned.flags.c_contiguous and not misaligned.flags.aligned
    with pytest.raises(ValueError, match="not aligned"):
        fastinit.uniform_(misaligned, seed=0)
    assert not raw.any()


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix's own
def test_array_subclasses_take_the_fast_path_as_plain_arrays():
    """np.matrix stays 2-D under reshape(-1); its storage must still reach the kernel as a 1-D array."""
    for n in (100, 70_000):  # below and above the serial threshold
        m = np.matrix(np.zeros((1, n), np.float32))
        fastinit.uniform_(m, seed=1)
        assert np.array_equal(np.asarray(m).ravel(), fastinit.uniform_(np.zeros(n, np.float32), seed=1))


def test_one_thread_restores_when_one_instance_is_entered_twice():

    from fastinit import _cpu

    before = numba.get_num_threads()
    ot = _cpu.one_thread()
    with ot:
        with ot:
            assert numba.get_num_threads() == 1
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


def test_small_fills_restore_the_callers_thread_count():
    """Small fills run on the calling thread alone and put back the caller's own numba thread count."""

    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        fastinit.normal_(np.empty(100, np.float32), seed=0)
        assert numba.get_num_threads() == 1
        numba.set_num_threads(before)
        fastinit.normal_(np.empty(100, np.float32), seed=0)
        assert numba.get_num_threads() == before
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("dt", [np.float16, ml_dtypes.bfloat16, np.float32, np.float64], ids=str)
def test_small_constant_fills_write_the_kernels_bytes(dt):
    """Constants up to SERIAL_ELEMENTS are written by ndarray.fill instead of the kernel: the same bytes,
    for every rounding case (ties, subnormals, overflow to the largest finite value, signed zeros, inf, NaN)."""
    from fastinit import _cpu

    u = f"u{np.dtype(dt).itemsize}"
    for v in [0.0, -0.0, 1.0, -1.5, 1e-8, 3.14159, 65504.0, 65519.0, 1e-45, 5e-324, 2.0**-24, 2.0**-25, 1.0000001,
              1e38, -3e38, float("inf"), -float("inf"), float("nan")]:
        small, big = np.zeros((3, 7), dt)[:, ::2], np.zeros(_cpu.SERIAL_ELEMENTS + 1, dt)
        try:
            fastinit.constant_(big, v)
        except ValueError:  # overflows this dtype: refused on both paths
            with pytest.raises(ValueError, match="overflows"):
                fastinit.constant_(small, v)
            continue
        fastinit.constant_(small, v)
        assert (big.view(u) == big.view(u)[0]).all()
        assert (small.view(u) == big.view(u)[0]).all(), (dt, v)


@pytest.mark.parametrize("a, b", [(0.0, 1.0), (-0.1, 0.1), (-1e-5, 65504.0)])
def test_float16_uniform_tiles_stored_directly_equal_the_rounded_float32_fill(a, b):
    """Whole float16 uniform tiles of a contiguous target are stored straight from the Philox loop; partial
    tiles and strided targets go through the scratch; both equal the float32 fill rounded once to float16
    (within [a, b) after rounding: the float16 bounds are those of float16, so compare where they agree)."""
    n = 3 * 1024 + 517  # whole tiles, then a partial one
    direct = fastinit.uniform_(np.empty(n, np.float16), a, b, seed=9, stream="h")
    strided = fastinit.uniform_(np.empty((n, 2), np.float16)[:, 0], a, b, seed=9, stream="h")
    assert np.array_equal(direct.view(np.uint16), strided.view(np.uint16))
    f32 = fastinit.uniform_(np.empty(n, np.float32), a, b, seed=9, stream="h").astype(np.float16)
    inside = (f32 >= np.float16(a)) & (f32 < np.float16(b))
    assert inside.mean() > 0.99 and np.array_equal(direct[inside].view(np.uint16), f32[inside].view(np.uint16))


def test_constant_fills_walk_memory_in_order_whatever_the_logical_layout():
    """A constant has no position: it is stored in memory order, so a transposed, Fortran-order or reversed view
    is one contiguous run (its logical order scattered the stores: zeros_ of a 2048² transpose took 21 ms, not
    0.12), writing exactly the view's elements."""
    from fastinit._buffers import as_target, memory_geometry

    base = np.zeros((64, 48))
    for view in [base.T, np.asfortranarray(base), base[::-1, ::-1], base.T[::-1]]:
        geom = memory_geometry(as_target(view))
        assert geom.shape.tolist() == [view.size] and geom.mstride.tolist() == [1]
    from fastinit import _cpu

    big = np.full((3, _cpu.SERIAL_ELEMENTS // 4, 5), 7.0, np.float32)  # above ndarray.fill's size: the kernel
    fortran = np.full(big.shape, 7.0, np.float32, order="F")
    for whole, view in [(big, big.transpose(2, 1, 0)), (big, big[:, ::-2, ::-1]), (fortran, fortran[1:, 3:])]:
        fastinit.constant_(view, 5.0)
        assert (view == 5.0).all() and (whole == 5.0).sum() == view.size  # the view's elements, no other
        whole[...] = 7.0


@pytest.mark.parametrize("threads", [1, TWO_THREADS])
@pytest.mark.parametrize("dt", [np.float16, ml_dtypes.bfloat16, np.float32, np.float64], ids=str)
def test_large_constant_fills_store_past_the_cache_writing_the_same_bytes(monkeypatch, dt, threads):
    """From _cpu.stream_bytes() (4x the last-level cache) a constant fill's contiguous runs of STREAM_RUN bytes
    or more are written a cache line at a time by non-temporal stores, between plain ones up to the first line
    boundary and after the last (elements are aligned to their size: as_target refuses others): the bytes of the
    plain fill, at any start, length and row pitch, and not one element outside the view."""

    from fastinit import _cpu

    n = 3 * _cpu.SERIAL_ELEMENTS  # (work items of 2**16: a streamed run ends at the view's end)
    run = _cpu.STREAM_RUN // np.dtype(dt).itemsize  # elements of the shortest streamed run
    flat, rows = np.full(n + 80, 7, dt), np.full((300, run * 4 + 13), 7, dt)  # (each view above ndarray.fill's
    # size: the kernel's path)
    views = [lambda: flat[:n], lambda: flat[1:n + 1], lambda: flat[5:n + 3], lambda: flat[17:n + 79],
             lambda: flat[:n + 37], lambda: rows[:, 3:run * 4 + 3], lambda: rows[:, 5:run + 5],
             lambda: rows[:, 1:run], lambda: rows[:, ::-1]]
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        for value in (0.5, -0.0, float("nan"), 0.0):
            for view in views:
                written = []
                for threshold in (1 << 62, 0):  # plain, then streamed
                    monkeypatch.setattr(_cpu, "stream_bytes", lambda t=threshold: t)
                    flat[...], rows[...] = 7, 7
                    fastinit.constant_(view(), value)
                    written.append([a.copy().view(f"u{a.itemsize}") for a in (flat, rows)])
                for plain, streamed in zip(*written):
                    assert np.array_equal(plain, streamed), (value, view())
                seven = np.array(7, dt).view(f"u{np.dtype(dt).itemsize}")
                assert sum((a != seven).sum() for a in written[1]) == view().size  # the view's elements, no other
    finally:
        numba.set_num_threads(before)


def test_a_constant_fill_streams_from_four_last_level_caches(monkeypatch, tmp_path):
    """constant_ asks the kernel for non-temporal stores (prm[P1] = 1) from stream_bytes() on, 4x the cache the OS
    reports, its instances summed (128 MiB where it says none): below, the filled buffer may stay in the cache for
    its next use."""
    from fastinit import _cpu

    monkeypatch.setattr(_cpu, "last_level_cache", lambda: 32 << 20)
    _cpu.stream_bytes.cache_clear()
    assert _cpu.stream_bytes() == 128 << 20
    monkeypatch.setattr(_cpu, "last_level_cache", lambda: None)
    _cpu.stream_bytes.cache_clear()
    assert _cpu.stream_bytes() == 128 << 20
    monkeypatch.setattr(_cpu, "last_level_cache", lambda: 3 << 20)
    _cpu.stream_bytes.cache_clear()
    assert _cpu.stream_bytes() == 12 << 20
    monkeypatch.undo()
    _cpu.stream_bytes.cache_clear()
    assert _cpu.last_level_cache(str(tmp_path)) is None
    for cpu in range(4):  # two L3s of 32 MiB (CPUs 0-1 and 2-3), an L2 each: 64 MiB of last-level cache
        for index, (level, size, shared) in enumerate([(2, "512K", str(cpu)), (3, "32768K", "0-1" if cpu < 2 else
                                                                                  "2-3")]):
            folder = tmp_path / f"cpu{cpu}" / "cache" / f"index{index}"
            folder.mkdir(parents=True)
            for name, text in [("level", level), ("size", size), ("shared_cpu_list", shared)]:
                (folder / name).write_text(f"{text}\n")
    assert _cpu.last_level_cache(str(tmp_path)) == 64 << 20
    for cpu in range(4):  # not saying which CPUs share it: each CPU's own
        (tmp_path / f"cpu{cpu}" / "cache" / "index1" / "shared_cpu_list").unlink()
    assert _cpu.last_level_cache(str(tmp_path)) == 128 << 20
    _cpu.stream_bytes.cache_clear()
    asked, run = [], _cpu.run  # (the kernel's prm: its P1 set by launch, for every CPU constant fill)
    monkeypatch.setattr(_cpu, "run", lambda kernel, args, work: (asked.append(args[5][_cpu.P1]), run(kernel, args,
                                                                                                    work))[1])
    monkeypatch.setattr(_cpu, "stream_bytes", lambda: 1 << 20)
    for shape, dt in [((1 << 18,), np.float32), (((1 << 18) - 1,), np.float32), ((512, 512), np.float16),
                      ((512, 1024), ml_dtypes.bfloat16), ((1 << 17,), np.float64), (((1 << 17) - 1,), np.float64)]:
        fastinit.zeros_(np.empty(shape, dt))
    assert asked == [1.0, 0.0, 0.0, 1.0, 1.0, 0.0]


@pytest.mark.skipif(__import__("platform").machine().lower() not in ("x86_64", "amd64"), reason="x86 instructions")
def test_stream_store_compiles_to_a_non_temporal_vector_store():
    """fastinit._jit.stream_store is LLVM's !nontemporal store of 32 bytes (vmovnt* / movnt*), and store_fence
    a fence (mfence, or a locked or of 0 to the stack: either drains the write-combining buffers); in Python, a
    slice assignment."""

    from fastinit._jit import store_fence, stream_store

    @numba.njit
    def put(d, i, x):
        stream_store(d, i, x)
        store_fence()

    for dt, lanes in [(np.float32, 8), (np.float64, 4), (np.uint16, 16)]:
        buf = np.zeros(64 + lanes, dt)
        d = buf[-buf.ctypes.data % 32 // buf.itemsize:][:64]  # 32-byte aligned (the store's alignment)
        put(d, lanes, dt(3))
        assert (d[lanes:2 * lanes] == 3).all() and (d[:lanes] == 0).all() and (d[2 * lanes:] == 0).all()
        asm = "\n".join(put.inspect_asm().values())
        assert "movnt" in asm and re.search(r"mfence|lock\s+orl\s+\$0, ", asm), dt  # (LLVM's two seq_cst fences)
    d = np.zeros(16, np.float32)
    stream_store(d, 8, np.float32(2))  # the Python function
    assert (d[8:] == 2).all() and (d[:8] == 0).all()


def test_a_size_one_last_axis_merges_with_the_axis_before():
    """w[:, :1] and x[::2][:, None] are n rows of one element whose last stride means nothing: one strided run
    (each row was a call of its own: zeros_ 55 ms where numpy's fill takes 0.24), the values of the 1-D view."""
    from fastinit import _cpu
    from fastinit._buffers import as_target, geometry, memory_geometry

    n = 3 * _cpu.SERIAL_ELEMENTS // 2
    col, flat = np.empty((n, 2), np.float32)[:, :1], np.empty(2 * n, np.float32)[::2]
    added = np.empty(2 * n, np.float32)[::2][:, None]  # a 0 stride on the new axis
    for view in (col, added):
        for geom in (geometry(as_target(view)), memory_geometry(as_target(view))):
            assert geom.shape.tolist() == [n] and geom.mstride.tolist() == [2]
        assert np.array_equal(fastinit.normal_(view, seed=3)[:, 0], fastinit.normal_(flat, seed=3))
    shard = geometry(as_target(col), global_shape=(n, 4), offset=(0, 2))  # a column of a wider tensor: rows of 1
    assert shard.shape.tolist() == [n, 1] and shard.gstride.tolist() == [4, 1]
    whole = fastinit.normal_(np.empty((n, 4), np.float32), seed=3)
    assert np.array_equal(fastinit.normal_(col, seed=3, global_shape=(n, 4), offset=(0, 2)), whole[:, 2:3])
    base = np.full((n, 2), 7, np.float32)
    fastinit.constant_(base[:, 1:], 0.5)
    assert (base[:, 0] == 7).all() and (base[:, 1] == 0.5).all()


def _strided_views(rng, count):
    """``count`` (base, transpose, slices) layouts of 2-4 axes: permuted, stepped, reversed, offset, each view
    above ndarray.fill's size (the kernel's path) and several work items long."""
    for _ in range(count):
        nd = int(rng.integers(2, 5))
        shape = [int(rng.integers(1, {2: 900, 3: 90, 4: 30}[nd])) for _ in range(nd)]
        base = [n * int(rng.integers(1, 3)) + int(rng.integers(0, 3)) for n in shape]
        perm = tuple(int(p) for p in rng.permutation(nd))
        slices = []
        for d in range(nd):
            n, want, step = base[perm[d]], shape[d], int(rng.choice([1, 1, 2, -1]))
            if step < 0:
                slices.append(slice(None, None, -1))
                continue
            start = int(rng.integers(0, max(1, n - (want - 1) * step)))
            slices.append(slice(start, start + (min(want, (n - start + step - 1) // step) - 1) * step + 1, step))
        yield base, perm, tuple(slices)


@pytest.mark.parametrize("threads", [1, TWO_THREADS])
def test_constant_fills_of_strided_views_write_exactly_the_views_elements(threads):
    """The constant walk (whole rows of a matrix per call, a row's part at a row's ends) over random layouts:
    the buffer equals numpy's assignment, for every storage format (a block ending a matrix one row after a work
    item's start advanced a row's length of rows: other elements kept their value)."""

    rng = np.random.default_rng(5)
    cases = [([41, 27, 19, 25], (0, 3, 1, 2), (slice(8, 28), slice(0, 25), slice(3, 20), slice(0, 19, 2))),
             ([15, 25, 18, 55], (3, 1, 0, 2), (slice(None, None, -1), slice(1, 25), slice(0, 15),
                                                slice(None, None, -1)))]
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        for i, (shape, perm, slices) in enumerate([*cases, *_strided_views(rng, 40)]):
            dt = (np.float32, np.float64, np.float16, ml_dtypes.bfloat16)[i % 4]
            base = np.full(shape, 7, dt)
            view = base.transpose(perm)[slices]
            want = base.copy()
            want.transpose(perm)[slices] = 0.5
            fastinit.constant_(view, 0.5)
            assert np.array_equal(base, want), (shape, perm, slices, dt)
    finally:
        numba.set_num_threads(before)


def test_bounds_float64_cannot_hold_are_kept_exactly():
    """A review: bounds were rounded to float64 before the representable [lo, hi] was found, so an int beyond 2**53,
    a Fraction or a long double could let values below a (or above a closed b) be stored."""
    from fractions import Fraction

    w = fastinit.uniform_(np.empty(1000, np.float64), 2**53 + 1, 2**53 + 3, seed=0)
    assert all(2**53 + 1 <= int(x) < 2**53 + 3 for x in w)  # 2**53 (below a) was stored in 239 of 1000
    for a in (Fraction(1) + Fraction(1, 2**30), np.longdouble(1) + np.longdouble(2) ** -60):
        w = fastinit.uniform_(np.empty(1000, np.float32), a, 1 + 2**-22, seed=0)
        assert np.all(w > 1.0), a  # 1.0 < a was stored in ~23 %
        t = fastinit.trunc_normal_(np.empty(1000, np.float32), 1.0, 1e-6, a, 1 + 2**-22, seed=0)
        assert np.all(t > 1.0), a
    below_one = Fraction(1) - Fraction(1, 2**60)  # a closed b float64 rounds to 1.0, which is not in [a, b]
    t = fastinit.trunc_normal_(np.empty(1000, np.float32), 1.0, 1e-6, 1 - 2**-20, below_one, seed=0)
    assert np.all(t < 1.0) and np.all(t >= np.float32(1 - 2**-20))
    w = fastinit.uniform_(np.empty(1000, np.float32), -1, 1, seed=0)  # ints float64 holds: as before
    assert w.tobytes() == fastinit.uniform_(np.empty(1000, np.float32), -1.0, 1.0, seed=0).tobytes()
