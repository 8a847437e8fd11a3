"""eye_, dirac_ (torch semantics) and orthogonal_ (Haar, Mezzadri sign fix)."""
import numpy as np
import pytest
from scipy import stats

import fastinit


def test_eye_only_works_on_2d_inputs():
    for shape in [(3,), (2, 2, 2)]:
        with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
            fastinit.eye_(np.zeros(shape))
    w = fastinit.eye_(np.full((3, 5), 7.0))
    assert np.array_equal(w, np.eye(3, 5))


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 2, 3, 3), 2), ((8, 4, 3, 5, 5), 2), ((3, 8, 5), 1)])
def test_dirac_is_identity_convolution(shape, groups):
    w = fastinit.dirac_(np.full(shape, 5.0), groups)
    per = shape[0] // groups
    centre = tuple(s // 2 for s in shape[2:])
    expected = np.zeros(shape)
    for g in range(groups):
        for d in range(min(per, shape[1])):
            expected[(g * per + d, d) + centre] = 1
    assert np.array_equal(w, expected)


def test_dirac_errors():
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        fastinit.dirac_(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        fastinit.dirac_(np.zeros((5, 2, 3)), groups=2)


@pytest.mark.parametrize("shape", [(64, 64), (32, 128), (128, 32), (16, 4, 3, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    w = fastinit.orthogonal_(np.empty(shape), gain=2.0, seed=3)
    m = w.reshape(shape[0], -1)
    small = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    assert np.allclose(small, 4.0 * np.eye(small.shape[0]), atol=1e-10)


def test_orthogonal_is_haar_distributed():
    # for Haar O(n), sqrt(n) * w[0, 0] -> N(0, 1) and the trace has mean 0, variance 1 (Diaconis-Shahshahani)
    n, reps = 40, 2000
    traces, entries = np.empty(reps), np.empty(reps)
    for i in range(reps):
        q = fastinit.orthogonal_(np.empty((n, n)), seed=i)
        traces[i], entries[i] = np.trace(q), q[0, 0] * np.sqrt(n)
    assert abs(traces.mean()) < 5 / np.sqrt(reps) and abs(traces.var() - 1) < 0.2
    assert stats.kstest(entries, "norm").pvalue > 1e-4


def test_orthogonal_deterministic_and_errors():
    a = fastinit.orthogonal(20, 30, seed=5)
    assert np.array_equal(a, fastinit.orthogonal(20, 30, seed=5))
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        fastinit.orthogonal_(np.zeros(5))
