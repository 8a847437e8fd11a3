"""Layer 7 — ``fastinit check``: a statistical self-test of an install.

Every registered check draws ``n`` samples per dtype and per seed of a fixed seed set and
compares them with the *exact* law of the stored values:

* Distributions (:class:`DistributionCheck`): a Kolmogorov–Smirnov test against the law — for
  float32 / float64 the continuous law, for float16 / bfloat16 the law of the rounded values
  (each representable v gets the mass of its rounding cell; values a uniform would round up to
  b are stored below it, so the edge cells extend to ±∞; the truncated normal redraws values
  that round outside [a, b], so its masses are renormalized; the KS p-value of a discrete law is
  conservative) — and the sample mean and standard deviation against the law's, in units of
  their standard errors σ/√n and σ√((κ − 1)/(4n)) (κ the law's kurtosis); plus the bounds.  Independence:
  the correlation of neighbouring values against its standard error 1/√n (a sorted fill, or each value twice, has the
  right marginal law), no run of :data:`WINDOW` values repeated at a period of :func:`_periods` (a counter bit or a
  chunk offset dropped repeats the fill at such a period, which the marginal law and the neighbours' correlation do
  not see), and different seeds must give different values.
* :class:`OrthogonalCheck`: ``max |Q Qᵀ − I|`` within 2 ε(dtype) + 2 √dim ε(work) for square, wide and tall matrices
  (n-scaled, and at every n one of each of orthogonal_'s paths: level 2, and blocked over two blocks of reflectors),
  their mean squared row norm within 2 ε(dtype)/√min + 2 √max ε(work) of 1 (rounding errors average out, a gain of
  1.005 in bfloat16 does not), and Haar-ness: Σ diag(Q) is ≈ N(0, min/max dim) for a Haar matrix but biased for a QR
  without the sign fix (Mezzadri 2007); one test pools the standardized traces of every seed and shape, so the bias
  adds up (at n = 10⁵: z ≈ −7), another those of diag(Q) past the first block of reflectors (a sign fix missing
  there only); a third, a KS test of the pooled entries, each squared entry being Beta(1/2, (big − 1)/2) (a row or
  column of a Haar Q is uniform on a sphere), fails what is orthogonal but not Haar (a signed permutation); a fourth,
  exact binomial tests of the signs of det(Q), ±1 equally likely on O(n), over the square matrices and
  :data:`DET_DRAWS` small ones a seed (sides 2 to 9), one test for each parity of the side, fails a sampler of
  rotations only (Haar on SO(n): its traces and entries pass).  The matrices are drawn with tanh's gain 5/3 (not a
  power of 2: a gain ignored or applied twice fails the mean squared row norm) and divided by it.  Each
  (seed, shape) is drawn with its own seed (the n-scaled shapes have equally many entries: under one seed they would
  share their Gaussian numbers and the pooled traces would correlate), and different seeds must give different
  matrices. For a delta-orthogonal conv kernel, the same on its spatial centre, and exact zeros elsewhere.
* :class:`SparseCheck`: exactly ⌈sparsity · rows⌉ (``sparse_``) or rows − k (``martens_sparse_``) zeros
  per column, non-zeros equal to the ``normal_`` fill of the same seed, zero positions uniform over the
  rows (two-sided χ² test: too even a spread, e.g. zeros dealt round-robin, fails as well).

The statistical tests share a family-wise level ``alpha`` (default 10⁻³) split Bonferroni-style
over all of them, so a correct install fails with probability < ``alpha`` (for n >= :data:`MIN_N`, where
the moment tests' normal approximation holds; at n = 10 a skewed law's mean test fails 20x too often); with
the fixed seeds the outcome is deterministic.  A test can swap an entry of :data:`REGISTRY` for a
deliberately wrong sampler and see the check fail.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence

import ml_dtypes
import numpy as np

from . import init, linalg, scaled, sparsity, structured
from ._buffers import is_int, resolve_dtype
from ._cpu import ROW_TILE
from ._seed import _check_u64, stream_id
from .fans import calculate_gain

__all__ = ["DistributionCheck", "OrthogonalCheck", "SparseCheck", "Row", "REGISTRY", "SEEDS", "DTYPES",
           "run_checks", "format_table"]

SEEDS = (0, 1)
DTYPES = ("float16", "bfloat16", "float32", "float64")
COLS = 250  # fan-scaled checks fill a (n // 250, 250) weight: fan_in 250, fan_out n // 250
MAX_SIDE = 1024  # the largest side of the orthogonal checks' n-scaled matrices (reached at n ~ 1.5e8)
SMALL_SHAPE = (64, 64)  # an orthogonal matrix formed by the level-2 path (linalg.small)
DET_DRAWS = 64  # small square matrices a seed of the orthogonal checks' determinant test
TANH_GAIN = calculate_gain("tanh")  # the orthogonal checks' gain (5/3, an RNN's; not a power of 2)


@dataclass
class Row:
    """The outcome of one check on one dtype, over every seed."""

    check: str
    dtype: str
    n: int
    stats: dict = field(default_factory=dict)  # name -> worst value over the seeds
    failures: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class Thresholds:
    """Per-test limits from the family-wise ``alpha`` and the number of statistical tests (Bonferroni)."""

    alpha: float
    tests: int

    @property
    def p_min(self) -> float:
        return self.alpha / self.tests

    @property
    def z_max(self) -> float:
        from scipy import stats

        return float(stats.norm.isf(self.p_min / 2))


def _finite_grid(dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """All finite values of a 16-bit dtype (sorted, unique) and each storage code's index in them (-1: not finite)."""
    codes = np.arange(2**16, dtype=np.uint32).astype(np.uint16)
    with np.errstate(invalid="ignore"):
        values = codes.view(dtype).astype(np.float64)
    finite = np.isfinite(values)
    grid, inverse = np.unique(values[finite], return_inverse=True)  # -0.0 and +0.0 merge
    index = np.full(2**16, -1, np.int64)
    index[finite] = inverse
    return grid, index


def _rounded_law(law, dtype: np.dtype, half_open: bool, rejects: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(grid, masses, stored): the exact law of ``law``'s values rounded to a 16-bit ``dtype``.

    ``stored`` marks the grid values the sampler may store (inside the law's support, b excluded when
    ``half_open``).  Clamping samplers (``rejects=False``) store values rounding outside at the nearest stored
    value: the edge cells extend to ±∞.  Rejecting ones redraw them: masses are renormalized.
    """
    grid, _ = _finite_grid(dtype)
    lo, hi = law.support()
    stored = (grid >= lo) & ((grid < hi) if half_open else (grid <= hi))
    edges = np.concatenate([[-np.inf], (grid[1:] + grid[:-1]) / 2, [np.inf]])
    idx = np.flatnonzero(stored)
    lower, upper = edges[idx], edges[idx + 1]
    if not rejects:
        lower[0], upper[-1] = -np.inf, np.inf
    mass = np.zeros(grid.size)
    mass[idx] = law.cdf(upper) - law.cdf(lower)
    return grid, mass / mass.sum(), stored


def _moment_z(mean: float, std: float, law_mean: float, law_std: float, kurtosis: float, n: int) -> tuple[float, float]:
    """(z of the mean, z of the std): errors in units of their standard errors."""
    z_mean = (mean - law_mean) / (law_std / math.sqrt(n))
    z_std = (std - law_std) / (law_std * math.sqrt(max(kurtosis - 1.0, 1e-12) / (4.0 * n)))
    return z_mean, z_std


@dataclass(frozen=True)
class DistributionCheck:
    """KS test, moments and bounds of an elementwise sampler against its exact law.

    ``fill(out, seed)`` fills ``out``; ``law(shape)`` is the frozen scipy law of the value before rounding
    (its support gives the bounds); ``half_open``: b is excluded (uniform); ``rejects``: values rounding
    outside the support are redrawn (truncated normal) rather than clamped; ``matrix``: fill a
    (n // 250, 250) weight, so fan-scaled laws have fan_in 250.
    """

    name: str
    fill: Callable[[np.ndarray, int], Any]
    law: Callable[[tuple], Any]
    half_open: bool = False
    rejects: bool = False
    matrix: bool = False

    def tests(self, seeds: Sequence[int]) -> int:
        return 4 * len(seeds)  # KS, mean, std, lag-1 correlation

    def shape(self, n: int) -> tuple[int, ...]:
        return (max(1, n // COLS), COLS) if self.matrix else (n,)

    def run(self, dtype: np.dtype, n: int, seeds: Sequence[int], limits: Thresholds) -> Row:
        shape = self.shape(n)
        law = self.law(shape)
        row = Row(self.name, dtype.name, int(np.prod(shape)))
        previous = None
        for seed in seeds:
            out = np.empty(shape, dtype)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                self.fill(out, seed)
            if dtype.itemsize == 2:
                p, z_mean, z_std, outside = self._discrete(out, law)
            else:
                p, z_mean, z_std, outside = self._continuous(out, law)
            z_lag = _lag1_z(out)
            again = _repeated_run(out)
            if again is not None:
                row.failures.append(f"seed {seed}: the {WINDOW} values from {again[1]} repeat those from {again[0]} "
                                    "(C order): not independent draws")
            _worst(row.stats, "ks_p", p, min)
            _worst(row.stats, "mean_z", z_mean, _max_abs)
            _worst(row.stats, "std_z", z_std, _max_abs)
            _worst(row.stats, "lag1_z", z_lag, _max_abs)
            if previous is not None and np.array_equal(previous[1], out):
                row.failures.append(f"seeds {previous[0]} and {seed} give the same values (the seed is not used)")
            previous = (seed, out)
            if abs(z_lag) > limits.z_max:
                row.failures.append(f"seed {seed}: neighbouring values correlate ({z_lag:+.2f} standard errors, limit "
                                    f"{limits.z_max:.2f}): not independent draws")
            if outside:
                lo, hi = (float(v) for v in law.support())
                row.failures.append(f"seed {seed}: {outside} values outside the support ({lo:g} to {hi:g}) "
                                    "or not finite")
            if p < limits.p_min:
                row.failures.append(f"seed {seed}: KS p = {p:.3g} < {limits.p_min:.3g}")
            for what, z in (("mean", z_mean), ("std", z_std)):
                if abs(z) > limits.z_max:
                    row.failures.append(f"seed {seed}: {what} off by {z:+.2f} standard errors "
                                        f"(limit {limits.z_max:.2f})")
        return row

    def _continuous(self, out: np.ndarray, law) -> tuple[float, float, float, int]:
        from scipy import stats

        x = np.sort(out, axis=None).astype(np.float64)
        n = x.size
        lo, hi = law.support()
        outside = int(np.count_nonzero(~np.isfinite(x) | (x < lo) | ((x >= hi) if self.half_open else (x > hi))))
        cdf = law.cdf(x)
        i = np.arange(1, n + 1) / n
        d = max(float(np.max(i - cdf)), float(np.max(cdf - (i - 1.0 / n))))
        kurt = float(law.stats(moments="k")) + 3.0
        z_mean, z_std = _moment_z(float(x.mean()), float(x.std()), float(law.mean()), float(law.std()), kurt, n)
        return float(stats.kstwo.sf(d, n)), z_mean, z_std, outside

    def _discrete(self, out: np.ndarray, law) -> tuple[float, float, float, int]:
        from scipy import stats

        grid, mass, stored = _rounded_law(law, out.dtype, self.half_open, self.rejects)
        _, index = _finite_grid(out.dtype)
        per_code = np.bincount(out.reshape(-1).view(np.uint16), minlength=2**16)
        n = out.size
        counts = np.bincount(index[index >= 0], weights=per_code[index >= 0], minlength=grid.size)
        outside = n - int(counts[stored].sum())
        d = float(np.abs(np.cumsum(counts) / n - np.cumsum(mass)).max())
        mu = float(mass @ grid)
        sd = math.sqrt(float(mass @ (grid - mu) ** 2))
        kurt = float(mass @ (grid - mu) ** 4) / sd**4
        s_mean = float(counts @ grid) / n
        s_std = math.sqrt(float(counts @ (grid - s_mean) ** 2) / n)
        z_mean, z_std = _moment_z(s_mean, s_std, mu, sd, kurt, n)
        return float(stats.kstwo.sf(d, n)), z_mean, z_std, outside


WINDOW = 64  # values in the runs :func:`_repeated_run` compares


def _periods(n: int, row: int = 1) -> list[int]:
    """The periods :func:`_repeated_run` tries below n: every power of two, every ⌈n / t⌉ (t = 2 … 64), and for rows
    of ``row`` values the kernels' work items (``_cpu.work_chunk``: 1 … 64 rows, or 1 … 64 tiles of ROW_TILE rows)."""
    rows = {row * r for r in range(1, 65)} | {row * ROW_TILE * k for k in range(1, 65)} if row > 1 else set()
    return sorted(p for p in {1 << k for k in range(n.bit_length())} | {-(-n // t) for t in range(2, 65)} | rows
                  if p < n)


def _repeated_run(out: np.ndarray) -> Optional[tuple[int, int]]:
    """(i, i + p): the :data:`WINDOW` values from flat index i + p (C order) equal those from i, for a period p of
    :func:`_periods` and one of 64 spread positions i; None if none repeats.  Independent draws of any law of the
    checks never repeat 64 values (even a two-valued law: 2⁻⁶⁴ a pair); a fill whose counter ignores a bit
    repeats it at a power of two, one whose chunks or threads start at the same counter at ⌈n / t⌉ or at a power
    of two: periods the marginal law and the neighbours' correlation do not see.  Exact, and one gather of 64 runs
    a period (~90 for a 1-D fill, ~200 for a matrix's): no cost beside the fill."""
    flat = np.ascontiguousarray(out).reshape(-1)
    raw = flat.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[flat.dtype.itemsize])  # (bits: -0.0 is not 0.0)
    run = np.arange(WINDOW)
    for p in _periods(flat.size, out.shape[-1] if out.ndim > 1 else 1):
        last = flat.size - p - WINDOW  # the last start whose repeat fits
        if last < 0:
            continue
        starts = np.unique(np.linspace(0, last, 64).astype(np.int64))
        same = (raw[starts[:, None] + run] == raw[starts[:, None] + p + run]).all(axis=1)
        if same.any():
            i = int(starts[np.argmax(same)])
            return i, i + p
    return None


def _lag1_z(out: np.ndarray) -> float:
    """The correlation of neighbouring values (C order) in units of its standard error 1/√n: ≈ N(0, 1) for independent
    draws; a sorted fill, or each value twice, is far off (a fill repeating at a longer period: :func:`_repeated_run`).
    0 for a constant sample."""
    x = out.reshape(-1).astype(np.float64)
    x -= x.mean()
    var = float(x @ x)
    return float(x[:-1] @ x[1:]) / var * math.sqrt(x.size) if var > 0 and x.size > 2 else 0.0


def _dithered_magnitudes(stored: np.ndarray, seed: int) -> np.ndarray:
    """|values| of ``stored`` as float64; for a 16-bit dtype each moved uniformly within its rounding cell (half-way
    to either neighbour), which turns the rounded law back into a continuous one (exactly where the density is
    flat across a cell): a KS test of 10⁶ rounded bfloat16 entries against the continuous law would otherwise
    see the rounding itself (half a cell's mass, ~0.1%)."""
    if stored.dtype.itemsize != 2:
        return np.abs(stored.astype(np.float64))
    mag = stored.view(np.uint16) & np.uint16(0x7FFF)

    def value(m):
        return m.astype(np.uint16).view(stored.dtype).astype(np.float64)

    v = value(mag)
    lo = (value(np.maximum(mag, 1) - 1) + v) / 2  # 0 for a zero: its cell, folded, is [0, half the least value]
    hi = (value(mag + np.uint16(1)) + v) / 2
    return lo + (hi - lo) * np.random.default_rng(seed).random(v.shape)


@dataclass(frozen=True)
class OrthogonalCheck:
    """Orthogonality error and Haar tests of ``fill(out, seed)``: ``gain`` × a Haar (semi-)orthogonal matrix.

    With ``kernel`` (spatial sizes), ``out`` is a torch-layout conv kernel (rows, cols, *kernel) filled by a
    delta-orthogonal init: the matrix checked is its spatial centre ((k − 1) // 2 on each axis), every other
    entry must be exactly 0, and only square and tall (out >= in) matrices are drawn.
    """

    name: str
    fill: Callable[[np.ndarray, int], Any]
    kernel: tuple = ()
    gain: float = 1.0

    def shapes(self, n: int) -> list[tuple[int, int]]:
        """A square, a wide and a tall matrix of s² entries each, s = isqrt(n) / 12 within [16, MAX_SIDE] (the Haar
        tests' power grows with n), and at every n one of each of orthogonal_'s paths: a level-2 one
        (:func:`linalg.small`) and blocked ones, wide and tall, whose reflectors span two BLOCK-wide blocks (the
        products between blocks and the sign fix past the first block)."""
        s = min(MAX_SIDE, max(16, math.isqrt(n) // 12))
        wide = (2 * linalg.BLOCK, 4 * linalg.BLOCK)
        shapes = [(s, s), (s // 2, 2 * s), (2 * s, s // 2), SMALL_SHAPE, wide, wide[::-1]]
        return list(dict.fromkeys((r, c) for r, c in shapes if r >= c or not self.kernel))

    def tests(self, seeds: Sequence[int]) -> int:
        return 4  # four pooled Haar tests: the trace's sign bias, the same past the first block, entries, det signs

    def _draw(self, dtype: np.dtype, rows: int, cols: int, key: str) -> np.ndarray:
        return self.fill(np.empty((rows, cols) + self.kernel, dtype), stream_id(key))

    def run(self, dtype: np.dtype, n: int, seeds: Sequence[int], limits: Thresholds) -> Row:
        from scipy import stats

        shapes = self.shapes(n)
        row = Row(self.name, dtype.name, sum(r * c for r, c in shapes) * math.prod(self.kernel))
        eps = float(ml_dtypes.finfo(dtype).eps)
        work_eps = float(np.finfo(np.float64 if dtype == np.float64 else np.float32).eps)
        centre = (slice(None), slice(None)) + tuple((k - 1) // 2 for k in self.kernel)
        traces = []  # each sum of diag(Q) over its sd: N(0, 1) for a Haar Q
        tails = []  # the same of diag(Q)[BLOCK:] where there is one (the reflectors of the blocks after the first)
        entries = []  # each entry's Beta CDF: uniform on [0, 1] for a Haar Q
        firsts = []  # each seed's first matrix: different seeds must give different matrices
        dets = ([], [])  # det(Q) > 0 for each square Q of even, odd side: as likely as not on O(n) (SO(n): always)
        for seed in seeds:
            for k in range(DET_DRAWS):  # the determinant test's own small squares, sides 2 to 9 (both parities)
                side = 2 + k % 8
                q = self._draw(dtype, side, side, f"{seed}/det{k}")[centre].astype(np.float64)
                dets[side % 2].append(np.linalg.slogdet(q)[0] > 0)
            for j, (rows, cols) in enumerate(shapes):
                # one seed per (seed, shape): the shapes have the same number of entries, and under one seed they
                # would be formed from the same Gaussian numbers (correlated traces: the pooled z's variance 1.2-1.3);
                # hashed, as (seed * shapes + j) mod 2**64 gave seeds s and s + 2**63 the same matrices
                stored = self._draw(dtype, rows, cols, f"{seed}/{j}")
                if j == 0:
                    if any(np.array_equal(stored, f) for f in firsts):
                        row.failures.append(f"seed {seed}: the same matrix as an earlier seed's (the seed is not used)")
                    firsts.append(stored)
                w = stored.astype(np.float64) / self.gain
                q = w[centre].copy()
                w[centre] = 0.0
                off = int(np.count_nonzero(w))
                if off:
                    _worst(row.stats, "off_centre", off, max)
                    row.failures.append(f"seed {seed} {rows}x{cols}: {off} non-zero entries off the spatial centre")
                small, big = min(rows, cols), max(rows, cols)
                gram = q @ q.T if rows <= cols else q.T @ q
                err = float(np.abs(gram - np.eye(small)).max())
                tol = 2 * eps + 2 * math.sqrt(big) * work_eps
                _worst(row.stats, "orth_err", err, max)
                if not err <= tol:
                    row.failures.append(f"seed {seed} {rows}x{cols}: max|QQ^T - I| = {err:.3g} > {tol:.3g}")
                # the mean squared row norm: rounding errors average out over the matrix, a wrong scale does not
                scale = float(np.diag(gram).mean()) - 1.0
                scale_tol = 2 * eps / math.sqrt(small) + 2 * math.sqrt(big) * work_eps
                _worst(row.stats, "scale_err", scale, _max_abs)
                if not abs(scale) <= scale_tol:
                    row.failures.append(f"seed {seed} {rows}x{cols}: mean of diag(QQ^T) - 1 = {scale:+.3g}, "
                                        f"beyond ±{scale_tol:.3g} (not gain {self.gain:.6g})")
                if rows == cols:
                    dets[rows % 2].append(np.linalg.slogdet(q)[0] > 0)
                traces.append(float(np.trace(q[:small, :small])) / math.sqrt(small / big))
                if small > linalg.BLOCK:
                    tail = small - linalg.BLOCK
                    tails.append(float(np.trace(q[linalg.BLOCK:small, linalg.BLOCK:small])) / math.sqrt(tail / big))
                # a row (wide) or column (tall) of a Haar Q is uniform on the unit sphere of R^big: each entry
                # squared is Beta(1/2, (big - 1)/2); a signed permutation (orthogonal, trace N(0, 1)) is not
                mags = _dithered_magnitudes(stored[centre], seed) / abs(self.gain)
                entries.append(stats.beta.cdf(mags.ravel() ** 2, 0.5, (big - 1) / 2.0))
        # a QR without the sign fix biases every trace the same way: pooled, the bias adds up (z ~ k / sqrt(k))
        z = math.fsum(traces) / math.sqrt(len(traces))
        row.stats["haar_z"] = z
        if abs(z) > limits.z_max:
            row.failures.append(f"sum of diag(Q) over {len(traces)} matrices (seeds x shapes) is {z:+.2f} sd from 0 "
                                "(not Haar)")
        # a sign fix missing past the first block biases only those entries: the whole traces dilute it (z ~ 5)
        z = math.fsum(tails) / math.sqrt(len(tails))
        row.stats["haar_tail_z"] = z
        if abs(z) > limits.z_max:
            row.failures.append(f"sum of diag(Q)[{linalg.BLOCK}:] over {len(tails)} matrices (seeds x shapes) is "
                                f"{z:+.2f} sd from 0 (not Haar past the first block of reflectors)")
        # the reflections: a sampler of rotations only (det +1), or of one sign for each parity of n, is orthogonal
        # and its traces and entries are those of a Haar Q (n large); each parity's count of det > 0 is
        # Binomial(len, 1/2): two exact tests, Bonferroni
        p = min(1.0, 2 * min(float(stats.binomtest(sum(d), len(d)).pvalue) for d in dets))
        row.stats["det_p"] = p
        if p < limits.p_min:
            counts = " and ".join(f"{sum(d)} of {len(d)} {side}-sided" for d, side in zip(dets, ("even", "odd")))
            row.failures.append(f"det(Q) > 0 in {counts} square matrices (seeds x shapes): binomial p = {p:.3g} < "
                                f"{limits.p_min:.3g} (not Haar on O(n), where det = ±1 are equally likely)")
        # KS of the pooled entries (dependent within a matrix, each row's squares summing to 1: conservative)
        p = float(stats.kstest(np.concatenate(entries), "uniform").pvalue)
        row.stats["entries_ks_p"] = p
        if p < limits.p_min:
            row.failures.append(f"the entries of Q are not those of a Haar matrix (Q_ij^2 ~ Beta(1/2, (n-1)/2)): "
                                f"KS p = {p:.3g} < {limits.p_min:.3g}")
        return row


@dataclass(frozen=True)
class SparseCheck:
    """Exact zero counts, values and uniform zero positions of ``fill(out, seed)``: sparse_(out, sparsity, std),
    or martens_sparse_(out, k, std) when ``k`` is given (k non-zeros per column)."""

    name: str
    fill: Callable[[np.ndarray, int], Any]
    sparsity: float = 0.1
    std: float = 0.01
    rows: int = 500
    k: Optional[int] = None

    def tests(self, seeds: Sequence[int]) -> int:
        return len(seeds)

    def run(self, dtype: np.dtype, n: int, seeds: Sequence[int], limits: Thresholds) -> Row:
        from scipy import stats

        shape = (self.rows, max(1, n // self.rows))
        rows, cols = shape
        row = Row(self.name, dtype.name, rows * cols)
        nzero = math.ceil(self.sparsity * rows) if self.k is None else rows - self.k
        for seed in seeds:
            got = self.fill(np.empty(shape, dtype), seed).astype(np.float64)
            dense = init.normal_(np.empty(shape, dtype), 0.0, self.std, seed=seed).astype(np.float64)
            zeros = got == 0
            per_col = zeros.sum(axis=0)
            dense_zeros = (dense == 0).sum(axis=0)  # a normal draw can itself round to 0 (float16)
            wrong = int(np.count_nonzero((per_col < nzero) | (per_col > nzero + dense_zeros)))
            _worst(row.stats, "bad_columns", wrong, max)
            if wrong:
                row.failures.append(f"seed {seed}: {wrong} of {cols} columns do not hold exactly {nzero} zeros")
            changed = int(np.count_nonzero(~zeros & (got != dense)))
            if changed:
                row.failures.append(f"seed {seed}: {changed} non-zero values differ from normal_ with the same seed")
            # per-row zero counts: each ~ Binomial(cols, p); Pearson's statistic scaled to chi2(rows - 1),
            # two-sided: counts too close to cols p are as wrong as counts too far from it
            p = nzero / rows
            if 0 < p < 1 and rows > 1:
                stat = float(((zeros.sum(axis=1) - cols * p) ** 2).sum() / (cols * p * (1 - p))) * (rows - 1) / rows
                p_val = min(1.0, 2 * float(min(stats.chi2.sf(stat, rows - 1), stats.chi2.cdf(stat, rows - 1))))
                _worst(row.stats, "positions_p", p_val, min)
                if p_val < limits.p_min:
                    row.failures.append(f"seed {seed}: zero positions not uniform over rows (chi2 p = {p_val:.3g})")
        return row


def _max_abs(a: float, b: float) -> float:
    return a if abs(a) >= abs(b) else b


def _worst(table: dict, key: str, value, pick) -> None:
    table[key] = value if key not in table else pick(table[key], value)


def _fan_law(distribution: str, variance: Callable[[int, int], float]):
    """The law of a fan-scaled fill of a (fan_out, fan_in) weight with Var(W) = ``variance(fan_in, fan_out)``:
    'uniform' on ±√(3 Var), 'normal' N(0, Var), or 'truncated_normal', N(0, s²) on [−2s, 2s] with
    s = √Var / 0.8796… (JAX / Keras).  The textbook formulas, written here apart from fastinit's own."""
    def make(shape):
        from scipy import stats

        var = variance(shape[1], shape[0])
        if distribution == "uniform":
            return stats.uniform(-math.sqrt(3.0 * var), 2.0 * math.sqrt(3.0 * var))
        if distribution == "normal":
            return stats.norm(0.0, math.sqrt(var))
        unit_std = float(stats.truncnorm(-2.0, 2.0).std())  # 0.8796…: JAX's correction, not fastinit's constant
        return stats.truncnorm(-2.0, 2.0, scale=math.sqrt(var) / unit_std)
    return make


def _fan_check(name: str, fill, kwargs: dict, distribution: str, variance) -> DistributionCheck:
    """A :class:`DistributionCheck` of ``fill(out, **kwargs)`` on a (n // 250, 250) weight against
    :func:`_fan_law`."""
    return DistributionCheck(name, lambda o, s: fill(o, **kwargs, seed=s), _fan_law(distribution, variance),
                             half_open=distribution == "uniform", rejects=distribution == "truncated_normal",
                             matrix=True)


def _law(name: str, *args, **kw):
    def make(shape):
        from scipy import stats

        return getattr(stats, name)(*args, **kw)
    return make


def _default_registry() -> dict:
    return {
        "uniform_": DistributionCheck("uniform_", lambda o, s: init.uniform_(o, -1.0, 2.0, seed=s),
                                      _law("uniform", -1.0, 3.0), half_open=True),
        "normal_": DistributionCheck("normal_", lambda o, s: init.normal_(o, 0.5, 2.0, seed=s), _law("norm", 0.5, 2.0)),
        "trunc_normal_": DistributionCheck("trunc_normal_", lambda o, s: init.trunc_normal_(o, seed=s),
                                           _law("truncnorm", -2.0, 2.0), rejects=True),
        "trunc_normal_tail": DistributionCheck(
            "trunc_normal_tail", lambda o, s: init.trunc_normal_(o, 0.0, 1.0, 1.5, math.inf, seed=s),
            _law("truncnorm", 1.5, math.inf), rejects=True),
        "trunc_normal_half": DistributionCheck(  # the folded normal's path (docs/trunc_normal.md)
            "trunc_normal_half", lambda o, s: init.trunc_normal_(o, 0.0, 1.0, 0.0, math.inf, seed=s),
            _law("truncnorm", 0.0, math.inf), rejects=True),
        "trunc_normal_near_mean": DistributionCheck(  # the exponential from the near bound (docs/trunc_normal.md)
            "trunc_normal_near_mean", lambda o, s: init.trunc_normal_(o, 0.0, 1.0, -0.001, math.inf, seed=s),
            _law("truncnorm", -0.001, math.inf), rejects=True),
        "xavier_uniform_": _fan_check("xavier_uniform_", scaled.xavier_uniform_, {}, "uniform",
                                      lambda fi, fo: 2.0 / (fi + fo)),
        "xavier_normal_": _fan_check("xavier_normal_", scaled.xavier_normal_, {}, "normal",
                                     lambda fi, fo: 2.0 / (fi + fo)),
        "kaiming_uniform_": _fan_check("kaiming_uniform_", scaled.kaiming_uniform_, {"nonlinearity": "relu"},
                                       "uniform", lambda fi, fo: 2.0 / fi),
        "kaiming_normal_": _fan_check("kaiming_normal_", scaled.kaiming_normal_, {"nonlinearity": "relu"},
                                      "normal", lambda fi, fo: 2.0 / fi),
        "kaiming_normal_fan_out": _fan_check(  # leaky ReLU gain² = 2 / (1 + a²)
            "kaiming_normal_fan_out", scaled.kaiming_normal_, {"a": 0.2, "mode": "fan_out"}, "normal",
            lambda fi, fo: 2.0 / (1.0 + 0.2**2) / fo),
        "lecun_uniform_": _fan_check("lecun_uniform_", scaled.lecun_uniform_, {}, "uniform", lambda fi, fo: 1.0 / fi),
        "lecun_normal_": _fan_check("lecun_normal_", scaled.lecun_normal_, {}, "normal", lambda fi, fo: 1.0 / fi),
        "fan_in_uniform_": _fan_check("fan_in_uniform_", scaled.fan_in_uniform_, {}, "uniform",
                                      lambda fi, fo: 1.0 / (3.0 * fi)),  # U(±1/√fan_in)
        "variance_scaling_": _fan_check("variance_scaling_", scaled.variance_scaling_, {}, "truncated_normal",
                                        lambda fi, fo: 1.0 / fi),
        "variance_scaling_fan_out": _fan_check(
            "variance_scaling_fan_out", scaled.variance_scaling_,
            {"scale": 2.0, "mode": "fan_out", "distribution": "uniform"}, "uniform", lambda fi, fo: 2.0 / fo),
        "variance_scaling_geo_avg": _fan_check(
            "variance_scaling_geo_avg", scaled.variance_scaling_,
            {"scale": 0.5, "mode": "fan_geo_avg", "distribution": "normal"}, "normal",
            lambda fi, fo: 0.5 / math.sqrt(fi * fo)),
        "orthogonal_": OrthogonalCheck("orthogonal_", lambda o, s: structured.orthogonal_(o, TANH_GAIN, seed=s),
                                       gain=TANH_GAIN),
        "delta_orthogonal_": OrthogonalCheck(
            "delta_orthogonal_", lambda o, s: structured.delta_orthogonal_(o, TANH_GAIN, seed=s), kernel=(3, 2),
            gain=TANH_GAIN),
        "sparse_": SparseCheck("sparse_", lambda o, s: sparsity.sparse_(o, 0.1, 0.01, seed=s)),
        "martens_sparse_": SparseCheck(  # per column: the (n_in, n_out) layout (torch's is its transpose)
            "martens_sparse_", lambda o, s: sparsity.martens_sparse_(o, 15, 1.0, seed=s, layout="keras"), std=1.0,
            k=15),
    }


#: name -> check; ``fastinit check --only NAME`` picks entries (tests may swap one for a broken sampler)
REGISTRY: dict = _default_registry()


MIN_N = 10_000  # samples per check, dtype and seed


def run_checks(names: Optional[Iterable[str]] = None, dtypes: Iterable[str] = DTYPES, n: int = 10**7,
               seeds: Sequence[int] = SEEDS, alpha: float = 1e-3, show_progress: bool = True,
               registry: Optional[dict] = None) -> dict:
    """Run the checks ``names`` (default: all of ``registry``, default :data:`REGISTRY`) on every dtype.

    Returns ``{"n", "seeds", "alpha", "p_min", "z_max", "passed", "rows": [Row as dict]}``.
    """
    from .benchmark import progress

    registry = REGISTRY if registry is None else registry
    names = list(registry) if names is None else list(names)
    unknown = [x for x in names if x not in registry]
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}; known: {list(registry)}")
    if not names or not list(dtypes):
        raise ValueError("the selection is empty: name at least one check and one dtype")
    if not is_int(n) or n < MIN_N:
        raise ValueError(f"n must be an int >= {MIN_N} (the moment tests' normal approximation), got {n!r}")
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    # checked before any run; a repeated seed is one seed (its fills would be equal: "seed not used")
    seeds = list(dict.fromkeys(_check_u64(s, "seed") for s in seeds))
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    dts = [resolve_dtype(d) for d in dtypes]
    cases = [(registry[x], dt) for x in names for dt in dts]
    limits = Thresholds(alpha, sum(c.tests(seeds) for c, _ in cases))
    rows = [c.run(dt, n, seeds, limits) for c, dt in progress(cases, len(cases), "fastinit check", show_progress)]
    return {"n": n, "seeds": list(seeds), "alpha": alpha, "tests": limits.tests, "p_min": limits.p_min,
            "z_max": limits.z_max, "passed": all(r.passed for r in rows),
            "rows": [dict(check=r.check, dtype=r.dtype, n=r.n, stats=r.stats, passed=r.passed, failures=r.failures)
                     for r in rows]}


def format_table(report: dict) -> str:
    """The human-readable table of a :func:`run_checks` report."""
    lines = [f"fastinit check: seeds {report['seeds']}, {report['tests']} statistical tests at family-wise "
             f"alpha {report['alpha']:g} (Bonferroni: p >= {report['p_min']:.2g}, |z| <= {report['z_max']:.2f})", ""]
    head = f"{'check':<26}{'dtype':<10}{'n':>11}{'KS p':>10}{'mean z':>9}{'std z':>9}  {'other':<50}{'result':>7}"
    lines += [head, "-" * len(head)]
    for r in report["rows"]:
        s = r["stats"]
        ks = f"{s['ks_p']:.3g}" if "ks_p" in s else ""
        mz = f"{s['mean_z']:+.2f}" if "mean_z" in s else ""
        sz = f"{s['std_z']:+.2f}" if "std_z" in s else ""
        other = "  ".join(f"{k} {v:.3g}" for k, v in s.items() if k not in ("ks_p", "mean_z", "std_z"))
        lines.append(f"{r['check']:<26}{r['dtype']:<10}{r['n']:>11,}{ks:>10}{mz:>9}{sz:>9}  {other:<50}"
                     f"{'ok' if r['passed'] else 'FAIL':>7}")
    failures = [(r["check"], r["dtype"], f) for r in report["rows"] for f in r["failures"]]
    if failures:
        lines += ["", "failures:"] + [f"  {c} {d}: {f}" for c, d, f in failures]
    lines += ["", "all checks passed" if report["passed"] else f"{len(failures)} failure(s)"]
    return "\n".join(lines)
