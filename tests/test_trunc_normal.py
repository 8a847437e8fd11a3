"""Truncated normal: exact law for every kind of interval, bounds after rounding, purity."""
import warnings

import ml_dtypes
import numpy as np
import pytest
from scipy import integrate, stats

import fastinit
from fastinit._transforms import EXP_PROPOSAL, NORMAL_PROPOSAL, UNIFORM_PROPOSAL
from test_distributions import P_MIN, _discrete_ks, _grid

N = 1_000_000
INF = np.inf
# standardized (a, b) covering symmetric, one-sided, infinite, far-tail, narrow and off-centre cases, every
# proposal (then: folded normal on both sides; the exponential from the near bound of intervals just containing
# 0, both sides; the normal and uniform proposals at their lowest acceptance, 0.63 and 0.69)
CASES = [(-2, 2), (-3, 3), (-INF, INF), (0, INF), (6, INF), (-INF, -8), (8, 9), (20, INF), (37, INF),
         (0.5, 0.5001), (-1e-4, 1e-4), (-0.1, 0.3), (1, 3), (-3, 0.5), (-5, -4.9), (2.5, 40),
         (-INF, 0), (0.1, 2.5), (-2.5, -0.2), (-0.01, 2.49), (-0.001, INF), (-INF, 0.3), (-0.365, 2.155),
         (-0.5, 1.9)]


def _draw(dtype, mean, std, a, b, seed=1, n=N):
    out = np.empty(n, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the mean-far-from-[a, b] warning
        fastinit.trunc_normal_(out, mean, std, a, b, seed=seed)
    return out.astype(np.float64)


def _moments(alpha, beta):
    """Mean, std and kurtosis (E(X - mean)^4 / std^4) of N(0, 1) truncated to [alpha, beta], by quadrature about
    the law's mode in units of its extent.  scipy's truncnorm moments cancel digits away on narrow intervals and
    far tails (its std of (0.5, 0.5001) is 0.2 % low, 4.5 standard errors here; its kurtosis there is -2e7)."""
    m = min(max(0.0, alpha), beta)  # the mode
    scale = min(1.0, beta - alpha, 1 / max(abs(m), 1e-300))  # integrands of order 1 in t = (x - m) / scale

    def quad(f):
        return integrate.quad(lambda t: f(t) * np.exp(-scale * t * (scale * t / 2 + m)), (alpha - m) / scale,
                              (beta - m) / scale, epsabs=1e-13, epsrel=1e-12, limit=200)[0]

    z = quad(lambda t: 1.0)
    mu = quad(lambda t: t) / z
    var = quad(lambda t: (t - mu) ** 2) / z
    return m + scale * mu, scale * np.sqrt(var), quad(lambda t: (t - mu) ** 4) / z / var**2


def _float32_grid(lo, hi):
    """Every float32 value in [lo, hi] and one more on each side, sorted, as float64."""
    def key(v):  # float32 bits -> an integer increasing with the value
        i = int(np.float32(v).view(np.int32))
        return i if i >= 0 else -(i & 0x7FFFFFFF)
    k = np.arange(key(lo) - 1, key(hi) + 2, dtype=np.int64)
    bits = np.where(k >= 0, k, -k | 0x80000000).astype(np.uint32)
    return np.unique(bits.view(np.float32).astype(np.float64))


def _float32_count(a, b):
    """How many float32 values lie in [a, b] (a, b of one sign)."""
    return abs(int(np.float32(b).view(np.int32)) - int(np.float32(a).view(np.int32))) + 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("alpha, beta", CASES)
def test_truncated_normal_matches_scipy_truncnorm(alpha, beta, dtype):
    mean, std = 0.5, 2.0
    a, b = mean + std * alpha, mean + std * beta
    x = _draw(dtype, mean, std, a, b)
    law = stats.truncnorm(alpha, beta, loc=mean, scale=std)
    assert x.min() >= a and x.max() <= b
    # KS in every case: the narrowest intervals still hold 1,679 ((0.5, 0.5001)) and 10,067 ((-1e-4, 1e-4))
    # float32 values.  Where the interval holds under 2^20 float32 values, a rounding cell carries up to ~1e-3 of
    # the mass (KS's resolution at n = 1e6), so the sample is compared with the law of the stored values
    # (P(v) = the law's mass in v's rounding cell), as for 16-bit dtypes; elsewhere with the continuous law.
    if dtype == np.float32 and np.sign(a) == np.sign(b) and _float32_count(a, b) < 2**20:
        assert _rounded_law_ks(x, _float32_grid(a, b), law, a, b) > P_MIN
    else:
        assert stats.kstest(x, law.cdf).pvalue > P_MIN
    mu, sd, kappa = _moments(alpha, beta)
    mu, sd = mean + std * mu, std * sd
    assert abs(x.mean() - mu) < 6 * sd / np.sqrt(N) + 4 * np.spacing(np.float32(abs(mu) + sd))
    # the sample std's standard error is sqrt((kappa - 1) / (4 n)) sd; relative, so the narrow cases are checked too
    assert abs(x.std() / sd - 1) < 6 * np.sqrt((kappa - 1) / (4 * N)), (x.std(), sd)


def _rounded_law_ks(x, grid, law, a, b):
    """KS p-value (conservative for a discrete law) of a sample against the exact law of the stored values:
    P(v) proportional to law(rounding cell of v within [a, b]); ``grid``: the dtype's values, sorted, covering
    [a, b] and one value beyond each finite bound."""
    inside = grid[(grid >= a) & (grid <= b)]
    k = np.searchsorted(grid, inside)
    lower = np.where(k > 0, (grid[np.maximum(k - 1, 0)] + inside) / 2, -np.inf)
    upper = np.where(k < grid.size - 1, (grid[np.minimum(k + 1, grid.size - 1)] + inside) / 2, np.inf)
    mass = law.cdf(np.minimum(upper, b)) - law.cdf(np.maximum(lower, a))
    cdf = np.cumsum(mass) / mass.sum()
    emp = np.searchsorted(np.sort(x), inside, side="right") / x.size
    return stats.kstwo.sf(np.abs(emp - cdf).max(), x.size)


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16])
@pytest.mark.parametrize("alpha, beta", CASES)
def test_low_precision_follows_the_rounded_truncated_law(alpha, beta, dtype):
    mean, std = 0.5, 2.0
    a, b = mean + std * alpha, mean + std * beta
    try:
        x = _draw(dtype, mean, std, a, b)
    except ValueError as e:  # e.g. no bfloat16 value inside [0.4998, 0.5002]: refused, nothing written
        assert "no finite" in str(e)
        return
    assert x.min() >= a and x.max() <= b
    assert _rounded_law_ks(x, _grid(dtype, -np.inf, np.inf), stats.truncnorm(alpha, beta, loc=mean, scale=std), a,
                           b) > P_MIN


@pytest.mark.parametrize("mean, std, a, b, edge", [
    (1e4, 1.0, 1e4 + 0.2, 1e4 + 0.5, "top"),  # uniform proposal from float32(10000.2) = 10000.2002
    (1e4, 0.1, 1e4 + 0.025, np.inf, "bottom"),  # the folded normal from float32(10000.025)
    (1e4 + 0.1, 0.01, 1e4 + 0.08, 1e4 + 0.12, "top"),  # the normal proposal around float32(10000.1) = 10000.0996
])
def test_float32_edge_cells_get_their_mass_when_the_origin_is_not_a_float32(mean, std, a, b, edge):
    """A float32 candidate is float32(origin) + (std t + the origin's rounding error): before, the whole law was
    shifted by that error against [a, b], up to half a float32 spacing, and the edge value's cell got 1.4x its
    mass (std = 1024 spacings; a review's 3 seeds: +15 sigma)."""
    n = 2_000_000
    x = fastinit.trunc_normal_(np.empty(n, np.float32), mean, std, a, b, seed=11).astype(np.float64)
    grid = _float32_grid(a if edge == "bottom" else b - 1, b if edge == "top" else a + 1)
    v = grid[np.searchsorted(grid, b, side="right") - 1] if edge == "top" else grid[np.searchsorted(grid, a)]
    k = np.searchsorted(grid, v)
    cell = (max(a, (grid[k - 1] + v) / 2), min(b, (v + grid[k + 1]) / 2))
    law = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    expect = n * (law.cdf(cell[1]) - law.cdf(cell[0]))
    got = np.count_nonzero(x == v)
    assert abs(got - expect) < 6 * np.sqrt(expect), (got, expect)


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16])
def test_llm_init_bounds_hold_after_rounding_without_spikes(dtype):
    # std 0.02, bounds +-2 std, 1e7 draws: every value in [-0.04, 0.04], law = rounded law
    x = _draw(dtype, 0.0, 0.02, -0.04, 0.04, n=10_000_000)
    assert x.min() >= -0.04 and x.max() <= 0.04
    law = stats.truncnorm(-2, 2, scale=0.02)
    grid = _grid(dtype, -0.05, 0.05)
    inside = grid[(grid >= -0.04) & (grid <= 0.04)]
    assert x.min() == inside[0] and x.max() == inside[-1]

    def cell(v):  # values of X that round to v, within [a, b]
        k = np.searchsorted(grid, v)
        return max(-0.04, (grid[k - 1] + v) / 2), min(0.04, (v + grid[k + 1]) / 2)

    # the stored law is the rounded law restricted to [a, b]: P(v) = P(X in cell(v)) / P(X in any cell)
    total = law.cdf(cell(inside[-1])[1]) - law.cdf(cell(inside[0])[0])
    for v in (inside[0], inside[1], inside[-2], inside[-1]):  # the edge values: no pile-up, no hole
        lo, hi = cell(v)
        expect = (law.cdf(hi) - law.cdf(lo)) / total
        got = np.mean(x == v)
        assert abs(got - expect) < 6 * np.sqrt(expect / x.size), (v, got, expect)
    p = _discrete_ks(x[:N], dtype, law.cdf, -0.04, 0.04)
    assert p > P_MIN


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16, np.float32, np.float64])
def test_truncated_value_independent_of_chunk_threads_and_shards(dtype):
    import numba
    full = np.empty((64, 700), dtype)
    fastinit.trunc_normal_(full, 0.0, 0.02, -0.04, 0.03, seed=9, stream="w")
    chunked = np.empty_like(full)
    fastinit.trunc_normal_(chunked, 0.0, 0.02, -0.04, 0.03, seed=9, stream="w", _chunk=37)
    assert np.array_equal(full.view(np.uint8), chunked.view(np.uint8))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = fastinit.trunc_normal_(np.empty_like(full), 0.0, 0.02, -0.04, 0.03, seed=9, stream="w")
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(full.view(np.uint8), single.view(np.uint8))
    for off, shape in [((3, 5), (20, 511)), ((0, 699), (64, 1)), ((63, 0), (1, 700))]:
        block = np.empty(shape, dtype)
        fastinit.trunc_normal_(block, 0.0, 0.02, -0.04, 0.03, seed=9, stream="w", global_shape=(64, 700), offset=off)
        expect = full[off[0]:off[0] + shape[0], off[1]:off[1] + shape[1]]
        assert np.array_equal(block.view(np.uint8), np.ascontiguousarray(expect).view(np.uint8))


def test_far_tail_values_are_exact_not_clamped():
    x = _draw(np.float64, 0.0, 1.0, 37.0, INF)
    assert x.min() >= 37.0
    assert len(np.unique(x)) > 0.99 * N
    law = stats.truncnorm(37.0, INF)
    assert stats.kstest(x, law.cdf).pvalue > P_MIN


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16, np.float32, np.float64])
@pytest.mark.parametrize("mean, std", [(1e8, 1e-8), (1e3, 1e-3), (-1e8, 1e-8), (1e30, 1.0)])
def test_mean_far_outside_the_bounds_gives_the_near_bound_not_a_cancelled_value(mean, std, dtype):
    """N(1e8, 1e-16) on [-1, 1] has all its mass within ~1e-24 of 1: every value must round to the near bound
    (float32 once gave mean + std * z = 1e8 - 1e8 = 0, the middle of the interval).  The uniform and
    exponential proposals compute offsets from the near bound, so nothing cancels."""
    x = _draw(dtype, mean, std, -1.0, 1.0, n=4096)
    near = 1.0 if mean > 0 else -1.0
    assert np.all(np.abs(x - near) <= (2e-8 if dtype == np.float64 else 0.0) + 1e-6 * abs(std / mean)), \
        np.unique(x)[:5]


def test_far_outside_tail_law_in_float64():
    """mean 1e3, std 1e-3 on [-1, 1]: the law is 1 - E with E ~ Exp(rate (mean - 1) / std²) to first order;
    its scale 1e-9 is resolved in float64, and the draws follow it."""
    x = _draw(np.float64, 1e3, 1e-3, -1.0, 1.0, n=100_000)
    rate = (1e3 - 1.0) / 1e-6
    assert x.max() <= 1.0 and stats.kstest((1.0 - x) * rate, stats.expon.cdf).pvalue > P_MIN


def test_warns_like_torch_when_mean_far_outside():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        fastinit.trunc_normal_(np.empty(100, np.float32), 0.0, 1.0, 5.0, 6.0, seed=0)
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):  # an empty target too: torch warns first
        fastinit.trunc_normal_(np.empty(0, np.float32), 0.0, 1.0, 5.0, 6.0, seed=0)


@pytest.mark.parametrize("a, b", [(-5.0, -2.0), (2.0, 5.0)])
def test_no_warning_at_exactly_2_std_outside(a, b):
    """torch's conditions are strict (mean < a - 2 std or mean > b + 2 std): a bound exactly 2 std away is not
    warned of."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fastinit.trunc_normal_(np.empty(64, np.float32), 0.0, 1.0, a, b, seed=0)
    assert not [w for w in caught if "mean is more than 2 std from" in str(w.message)]


@pytest.mark.parametrize("a, b", [(5.0, 6.0), (5.0, 5.0 + 2**-12)])  # far from the mean; in few 16-bit cells too
def test_a_refused_call_gives_its_error_not_the_laws_warning(a, b):
    """The law's warnings come once the placement and seed passed too: under an error filter a bad seed had raised
    the UserWarning instead of its ValueError (a review); a good call still warns."""
    out = np.full(8, 7, np.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for bad, error in ((dict(seed=-1), ValueError), (dict(seed=0, offset=(1,)), ValueError),
                           (dict(seed=0, stream=1.5), TypeError)):
            with pytest.raises(error):
                fastinit.trunc_normal_(out, 0.0, 1.0, a, b, **bad)
        assert (out == 7).all()
        with pytest.raises(UserWarning):
            fastinit.trunc_normal_(out, 0.0, 1.0, a, b, seed=0)


@pytest.mark.parametrize("kw, msg", [
    (dict(a=1.0, b=1.0), "need a < b"), (dict(a=2.0, b=-2.0), "need a < b"), (dict(a=np.nan), "need a < b"),
    (dict(std=0.0), "std must be > 0"), (dict(std=-1.0), "std must be > 0"), (dict(mean=np.nan), "mean must be finite"),
    (dict(std=np.inf), "std must be finite"), (dict(a=1.0001, b=1.0002), "no finite float16 value"),
    (dict(a=70000.0, b=np.inf), "no finite float16 value"),
])
def test_refusals_leave_buffer_untouched(kw, msg):
    out = np.full(50, 7, np.float16)
    with pytest.raises(ValueError, match=msg):
        fastinit.trunc_normal_(out, **kw)
    assert (out == 7).all()


def test_infinite_bounds_are_accepted_and_finite_in_float16():
    x = _draw(np.float16, 0.0, 3e4, -INF, INF, n=100_000)
    assert np.isfinite(x).all()
    assert x.max() <= 65504


@pytest.mark.parametrize("dtype, mean, std, a, b", [
    (np.float16, 62000.0, 2000.0, 61984.0, 65519.0),  # uniform proposal, b beyond the largest finite value
    (np.float16, 62000.0, 2000.0, 61984.0, INF),
    (np.float16, -65000.0, 300.0, -INF, -64000.0),  # Robert's exponential from the (mirrored) near bound
    (np.float16, 0.0, 3e4, -INF, INF),  # the normal proposal
    (ml_dtypes.bfloat16, 3.3e38, 1e37, 3.2e38, INF),
])
def test_largest_finite_16_bit_value_gets_its_whole_cell(dtype, mean, std, a, b):
    """float16 rounds [65488, 65520) to 65504: with b = inf (or b > 65504) the law is restricted to the values
    that round to finite ones, X < 65520.  The proposals bounded at 65504 gave that value half its cell
    (1,446 of 1e6 draws where 2,965 are due: -26 sigma)."""
    n = 1_000_000
    x = _draw(dtype, mean, std, a, b, seed=3, n=n)
    grid = _grid(dtype, 0.0, np.inf)
    top, half = grid[-1], (grid[-1] - grid[-2]) / 2  # the top value's cell: [top - half, top + half)
    law = stats.truncnorm((max(a, -top - half) - mean) / std, (min(b, top + half) - mean) / std, loc=mean,
                          scale=std)
    side = 1.0 if mean > 0 else -1.0
    cell = sorted((side * (top - half), side * (top + half)))
    expect = n * (law.cdf(cell[1]) - law.cdf(cell[0]))
    got = np.count_nonzero(x == side * top)
    assert abs(got - expect) < 6 * np.sqrt(expect), (got, expect)


@pytest.mark.parametrize("dtype, mean, std, a", [(ml_dtypes.bfloat16, 1.001, 1e-4, 1.001),  # folded normal
                                                  (np.float16, 1e4, 0.5, 1e4 + 0.125),
                                                  (ml_dtypes.bfloat16, 1e4, 1.0, 1e4 + 0.3),  # exponential
                                                  # folded, 3.9 std under the next cell: 5e-5 of the draws reach
                                                  # it, ~0.25 ms an element, silent under a 4-spread threshold
                                                  (np.float16, 65008 - 3.9 * 3.2, 3.2, 65008 - 3.9 * 3.2)])
def test_draws_far_inside_a_16_bit_cell_below_a_warn(dtype, mean, std, a):
    """bfloat16(1.001) = 1.0 < a: the first value in [a, inf) is 1.0078125, whose rounding cell starts 29 std
    above a; every element then takes the 10 000-attempt fallback, which went unsaid (the compute precision,
    float32, resolves the draws: the target's spacing is what they cannot reach).  The same laws in float32
    do not warn."""
    with pytest.warns(UserWarning, match=f"the {np.dtype(dtype)} values in \\[a, b\\] start .* times the draws'"):
        w = fastinit.trunc_normal_(np.empty(64, dtype), mean, std, a, np.inf, seed=0)
    assert np.all(w.astype(np.float64) >= a)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fastinit.trunc_normal_(np.empty(64, np.float32), mean, std, a, np.inf, seed=0)
        fastinit.trunc_normal_(np.empty(64, dtype), 0.0, 0.02, -0.04, 0.04, seed=0)  # an LLM's init: no warning
        # float32: the mean, 10 std below the first value >= a, rounds to it in the computation itself: fast
        assert np.all(fastinit.trunc_normal_(np.empty(64, np.float32), 1000.00005, 1e-6, 1000.00004, np.inf,
                                             seed=0) == np.float32(1000.00006))


def test_draws_below_the_compute_resolution_warn_and_give_the_nearest_value():
    """std 1e-5 at 1000 in float32 (spacing 6.1e-5): every draw rounds below a, so each element takes the
    10 000-attempt fallback (the value nearest the mean); the call says so instead of silently taking ~1 ms an
    element.  Usual calls do not warn."""
    w = np.empty(3, np.float32)
    with pytest.warns(UserWarning) as record:
        fastinit.trunc_normal_(w, 1000.0, 1e-5, 1000.0002, np.inf, seed=1)
    assert any("below float32's resolution at 1000" in str(r.message) for r in record)
    assert np.all(w == np.nextafter(np.float32(1000.0002), np.float32(np.inf)))
    # a spread that underflows to 0 (the exponential proposal's std / lam ~ std^2 / (a - mean)): the same warning,
    # not a ZeroDivisionError (a review)
    for dtype, std, a, b in [(np.float32, 1e-200, 1.00000003, 2.0), (ml_dtypes.bfloat16, 1e-300, 1e10, 2e10),
                             (np.float32, 1e-170, -2.0, -1.00000003)]:
        with pytest.warns(UserWarning) as record:
            w = fastinit.trunc_normal_(np.empty(2, dtype), 0.0, std, a, b, seed=0)
        assert any("resolution" in str(r.message) for r in record)
        assert np.all(w == w[0]) and a <= float(w[0]) <= b
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fastinit.trunc_normal_(np.empty(100, np.float32), 0.0, 0.02, -0.04, 0.04, seed=1)
        fastinit.trunc_normal_(np.empty(100, np.float16), 0.0, 1.0, 1.5, 1.51, seed=1)
        # a spread below the resolution is harmless where the draws round into [a, b] (they land on one value)
        for args in [(1000.0, 1e-5, -np.inf, np.inf), (1000.0, 1e-5, 1000 - 2e-5, 1000 + 2e-5),
                     (0.0, 1.0, 1e4, np.inf)]:
            warnings.filterwarnings("ignore", "mean is more than 2 std")  # the third: a far tail, told so
            fastinit.trunc_normal_(np.empty(20, np.float32), *args, seed=1)
        # the folded normal draws from the near bound too: with the mean rounding to 999.99994, below the
        # midpoint under a (alpha = 0.2), a draw of mean + std |z| would round below a unless |z| > 3
        w = fastinit.trunc_normal_(np.empty(2000, np.float32), 999.999968, 1e-5, 999.99997, np.inf, seed=1)
        assert np.all(w >= np.float32(1000.0)) and np.mean(w == np.float32(1000.0)) > 0.98
        # the origin rounds to 1000.0, below a, but lies 0.2 std (exponential) / 0.5 std (normal proposal) under
        # the midpoint from which the computation rounds up to 1000.00006, the first value in [a, b]: most draws
        # land there (it warned, comparing float32(origin) with [a, b])
        for mean, a in [(1000.0000306, 1000.0000303), (1000.00003, 1000.00001)]:
            w = fastinit.trunc_normal_(np.empty(2000, np.float32), mean, 1e-6, a, np.inf, seed=1)
            assert np.all(w == np.float32(1000.00006))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("half_width, normal_proposal", [(1.2, False), (1.25, False), (1.2534, True), (1.5, True)])
def test_normal_proposal_exactly_from_width_sqrt_2pi(dtype, half_width, normal_proposal):
    n = 20_000
    z = fastinit.normal_(np.empty(n, dtype), 0.0, 1.0, seed=5, stream="w")
    t = fastinit.trunc_normal_(np.empty(n, dtype), 0.0, 1.0, -half_width, half_width, seed=5, stream="w")
    inside = np.abs(z) <= half_width  # normal_'s value lies in [a, b]: attempt 0 of a normal proposal accepts it
    same = np.mean(t[inside] == z[inside])
    if normal_proposal:
        assert same == 1.0, same
    else:
        assert same < 0.01, same


def _retry_seed(seed, r):
    key = np.array([seed & 0xFFFFFFFF, seed >> 32], np.uint32)
    k = fastinit.philox4x32(np.array([r, 0, 0, 0x7E7A1], np.uint32), key).astype(np.uint64)
    return int(k[0]) | int(k[1]) << 32


def _first_accepted(dtype, n, seed, stream, a, b, side=0):
    """Attempts 0, 1, ... of the normal proposal for N(0, 1) on [a, b], each drawn by ``normal_`` under the
    documented retry keys: the first z in [a, b] of every element; folded (side +1 or -1), the first
    bound + side (|z| - alpha) with |z| - alpha in [0, b - a] (alpha = |near bound|), in the dtype's arithmetic."""
    want = np.full(n, np.nan, dtype)
    bound = dtype(a if side > 0 else b)
    for r in range(0, 40):
        z = fastinit.normal_(np.empty(n, dtype), 0.0, 1.0, seed=seed if r == 0 else _retry_seed(seed, r),
                             stream=stream)
        if side == 0:
            x, ok = z, (z >= a) & (z <= b)
        else:
            u = np.abs(z) - np.abs(bound)
            x = bound + dtype(1.0) * (dtype(side) * u)
            ok = (u >= 0) & (u <= dtype(b - a))
        take = np.isnan(want) & ok
        want[take] = x[take]
    assert not np.isnan(want).any()
    return want


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rejected_elements_are_redrawn_under_the_documented_retry_keys(dtype):
    seed, stream, n, b = 12345, "layer.w", 50_000, 1.5  # [-1.5, 1.5]: 3 >= sqrt(2 pi), normal proposal
    got = fastinit.trunc_normal_(np.empty(n, dtype), 0.0, 1.0, -b, b, seed=seed, stream=stream)
    assert np.count_nonzero(np.abs(fastinit.normal_(np.empty(n, dtype), seed=seed, stream=stream)) > b) > 1000
    assert np.array_equal(got, _first_accepted(dtype, n, seed, stream, -b, b))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("a, b, side", [(0.0, INF, 1), (-INF, 0.0, -1), (0.125, 2.0, 1), (-2.5, -0.125, -1)])
def test_one_sided_intervals_near_the_mean_take_the_folded_normal(dtype, a, b, side):
    """A one-sided interval starting within ~0.257 std of the mean is sampled from side |z|: the half-normal
    is |normal_| (-|normal_|) value for value, no attempt rejected (Robert's normal proposal accepted 1/2)."""
    seed, stream, n = 77, 3, 50_000
    got = fastinit.trunc_normal_(np.empty(n, dtype), 0.0, 1.0, a, b, seed=seed, stream=stream)
    assert np.array_equal(got, _first_accepted(dtype, n, seed, stream, a, b, side))
    if np.isinf(a) or np.isinf(b):
        z = fastinit.normal_(np.empty(n, dtype), 0.0, 1.0, seed=seed, stream=stream)
        assert np.array_equal(got, side * np.abs(z))


@pytest.mark.parametrize("a, b, method, side", [
    (-0.001, INF, EXP_PROPOSAL, 1), (-INF, 0.001, EXP_PROPOSAL, -1), (-0.01, 2.49, EXP_PROPOSAL, 1),
    (-2.0, 0.3, EXP_PROPOSAL, -1), (-0.34, INF, EXP_PROPOSAL, 1), (-0.36, INF, NORMAL_PROPOSAL, 0),
    (-2.0, 2.0, NORMAL_PROPOSAL, 0), (-0.5, 1.9, UNIFORM_PROPOSAL, 1), (-0.1, 0.3, UNIFORM_PROPOSAL, 1)])
def test_intervals_just_containing_the_mean_start_from_their_near_bound(a, b, method, side):
    """An interval containing 0 with one bound near it is sampled from the exponential at that bound (acceptance
    0.76 at [-0.001, inf), where the normal proposal accepts 1/2), where that accepts 1.1 times the normal's
    share (its attempts cost more: two values a Philox block), or more than the uniform's on a narrow interval."""
    from fastinit import init

    p = init._proposal(a, b, b - a)
    assert (p["METHOD"], p["SIGN"]) == (method, side)
    if method == EXP_PROPOSAL:
        assert p["ALPHA"] == (a if side > 0 else -b) and p["M2"] == pytest.approx(p["LAM"] - p["ALPHA"])


@pytest.mark.parametrize("a, b, warns", [(2.5, 3.0, True), (-3.0, -2.5, True), (1.9, 3.0, False),
                                         (-3.0, -1.9, False)])
def test_warns_exactly_when_mean_is_more_than_2_std_outside(a, b, warns):
    out = np.empty(64, np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fastinit.trunc_normal_(out, 0.0, 1.0, a, b, seed=0)
    hit = [w for w in caught if "mean is more than 2 std from" in str(w.message)]
    assert bool(hit) == warns
    assert np.all((out >= a) & (out <= b))


def test_16_bit_rounding_edges_are_computed_once_per_interval():
    """Two bisections over float32 bit patterns took 115 us of every bfloat16/float16 call (8x the float32 call),
    asked again for every weight of a model; cached, the same edges come back."""
    from fastinit import init

    w = np.empty(8, ml_dtypes.bfloat16)
    fastinit.trunc_normal_(w, 0.0, 0.02, -0.04, 0.0413, seed=1)
    before = init._rounding_edges.cache_info()
    fastinit.trunc_normal_(w, 0.0, 0.02, -0.04, 0.0413, seed=2)
    after = init._rounding_edges.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
    assert init._rounding_edges(-0.0, 1.0, np.dtype(np.float16), np.dtype(np.float32)) == \
        init._rounding_edges(0.0, 1.0, np.dtype(np.float16), np.dtype(np.float32))


@pytest.mark.parametrize("dtype, mean, std, a, b", [
    (np.float32, -3e38, 3e38, -3e38, 3e38),  # folded proposal: std·z overflows for |z| > 1.134
    (np.float32, 2e38, 1e38, -np.inf, np.inf),
    (ml_dtypes.bfloat16, 2e38, 1e38, -np.inf, np.inf),  # computed in float32
    (np.float64, -1.7e308, 1.7e308, -1.7e308, 1.7e308),
])
def test_draws_that_overflow_before_the_origin_is_added_are_refused(dtype, mean, std, a, b):
    """A review: std·z overflowed to ±inf, was rejected and redrawn, and that part of the law was lost without a
    word (float32 N(-3e38, 3e38²) on [-3e38, 3e38]: P(X > 0) 0.08 for truncnorm's 0.28); normal_ refuses its
    overflows."""
    out = np.full(100, 7, dtype)
    with pytest.raises(ValueError, match=r"trunc_normal_: values in \[a, b\] lie up to .* beyond the largest finite"):
        fastinit.trunc_normal_(out, mean, std, a, b, seed=0)
    assert np.all(out == 7)


@pytest.mark.parametrize("dtype, std, a, b", [
    (np.float32, 3e38, -3e38, 3e38),
    (np.float32, 2.75e38, -np.inf, np.inf),  # the law of the finite values (std z beyond them: rejected)
    (ml_dtypes.bfloat16, 3e38, -np.inf, np.inf),
])
def test_wide_laws_whose_bound_proposals_overflow_are_drawn_from_the_mean(dtype, std, a, b):
    """A review (2026-12-06 (i)): float32 N(0, 3e38²) on [-3e38, 3e38] was refused, its uniform proposal starting at
    a bound 6e38 from the other; the normal proposal from the mean reaches every value (acceptance 0.68)."""
    top = float(ml_dtypes.finfo(dtype).max)
    lo, hi = max(a, -top), min(b, top)
    x = fastinit.trunc_normal_(np.empty(20_000, dtype), 0.0, std, a, b, seed=0).astype(np.float64)
    assert np.isfinite(x).all() and lo <= x.min() and x.max() <= hi
    assert stats.kstest(x, stats.truncnorm(lo / std, hi / std, scale=std).cdf).pvalue > 1e-4


@pytest.mark.parametrize("dtype, mean, std, a, b, distinct", [
    (np.float32, 0.0, 1e38, -1e-30, 1e-30, 19_000),  # (b - a) / std 2e-68, 0 in float32: all at a, rejected
    (ml_dtypes.bfloat16, 0.0, 1e38, -1e-30, 1e-30, 200),  # (bfloat16's few values)
    (np.float32, 0.0, 1000.0, -1e-40, 1e-40, 15_000),  # subnormal in float32: 143 distinct values of ~142,857
    (np.float32, 0.0, 1e6, -1e-37, 1e-37, 19_000),
    (np.float64, 0.0, 1e300, -1e-30, 1e-30, 19_000),  # 0 in float64 too: every value b
    (np.float64, 0.0, 10.0, -1e-320, 1e-320, 3_500),  # 405 of the interval's 4,049 values
    (np.float32, -1e20, 1.0, 0.0, 3e-20, 19_000),  # width 3e-20 std, 1e20 std from the mean: exp(-3 u), not flat
    (np.float64, -1e200, 1.0, 0.0, 1e-200, 19_000),
    (np.float64, 1e200, 1.0, -1e-200, 0.0, 19_000),  # the mirror
])
@pytest.mark.filterwarnings("ignore:mean is more than 2 std")
def test_intervals_narrower_than_the_computation_resolves_in_std_keep_their_law(dtype, mean, std, a, b, distinct):
    """A review (2026-12-06 (i)): where (b - a) / std underflowed in the compute precision, the uniform proposal's
    offsets std·width·U were 0 or on a subnormal grid: one value, or every draw rejected 10,000 times.  Such a law is
    exp(-c u) on u = (x - a) / (b - a) (c = (a - mean)(b - a) / std²; flat for c = 0), drawn as an equal law of
    width 2^-40 std (init._widened): the law, its values' spread, and the same values by shard."""
    c = (a - mean) * (b - a) / std / std
    x = fastinit.trunc_normal_(np.empty(20_000, dtype), mean, std, a, b, seed=0)
    u = (x.astype(np.float64) - a) / (b - a)
    assert 0.0 <= u.min() and u.max() <= 1.0 and len(np.unique(x)) >= distinct
    t = u if mean < a else 1.0 - u  # the offset from the bound nearer the mean: exp(-|c| t) on [0, 1]
    law = stats.uniform() if abs(c) < 1e-6 else stats.truncexpon(b=abs(c), scale=1 / abs(c))
    assert stats.kstest(t, law.cdf).pvalue > 1e-4
    shard = np.empty(20_000, dtype)
    for lo in range(0, 20_000, 7_000):
        fastinit.trunc_normal_(shard[lo:lo + 7_000], mean, std, a, b, seed=0, global_shape=(20_000,), offset=(lo,))
    assert np.array_equal(shard.view(np.uint8), x.view(np.uint8))


@pytest.mark.parametrize("dtype, mean, std, a, b", [  # a second review: refused by the first version of the check,
    (np.float32, 0.0, 1e38, -2e38, 2e38),  # which looked at std·z alone; the draws that overflow lie outside [a, b]
    (np.float32, 0.0, 1e38, -np.inf, np.inf),
    (np.float32, 0.0, 6e37, -3e38, 3e38),
    (ml_dtypes.bfloat16, 0.0, 1e38, -2e38, 2e38),
    (np.float64, 0.0, 1e308, -1.5e308, 1.5e308),
    (np.float32, -2e38, 1e38, 1e38, 3.4e38),  # the exponential proposal from a
])
@pytest.mark.filterwarnings("ignore:mean is more than 2 std")  # (the exponential case: as intended)
def test_huge_laws_whose_values_stay_in_range_are_sampled(dtype, mean, std, a, b):
    x = fastinit.trunc_normal_(np.empty(20_000, dtype), mean, std, a, b, seed=0).astype(np.float64)
    assert np.isfinite(x).all() and x.min() >= max(a, -3.5e38 if dtype != np.float64 else -np.inf)
    law = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert stats.kstest(x, law.cdf).pvalue > 1e-4
