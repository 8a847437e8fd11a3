"""Sparse init: exact zero counts, N(0, std^2) non-zeros, uniform positions, purity."""
import fractions
import math

import ml_dtypes
import numba
import numpy as np
import pytest
from scipy import stats

import fastinit
import reference


@pytest.mark.parametrize("shape, sparsity", [((100, 50), 0.1), ((37, 11), 0.5), ((64, 3), 0.0), ((10, 4), 1.0),
                                             ((1000, 20), 0.93)])
def test_exact_zero_count_in_every_column(shape, sparsity):
    w = fastinit.sparse_(np.empty(shape), sparsity, seed=1)
    assert ((w == 0).sum(0) == math.ceil(sparsity * shape[0])).all()


def test_a_fraction_sparsity_counts_zeros_exactly_as_torch():
    """torch's ceil(sparsity * rows) with a Fraction is exact: 9/14 of 42 rows is 27, where the float 9/14 times
    42 is 27.000000000000004, ceiling 28 (a review, 2026-12-06 (e))."""
    w = fastinit.sparse_(np.empty((42, 4), np.float32), fractions.Fraction(9, 14), std=1.0, seed=1)
    assert ((w == 0).sum(0) == 27).all()
    assert ((fastinit.sparse_(np.empty((42, 4), np.float32), 9 / 14, std=1.0, seed=1) == 0).sum(0) == 28).all()


def test_nonzeros_are_normal_with_std():
    w = fastinit.sparse_(np.empty((2000, 1000)), 0.2, std=0.05, seed=2).ravel()
    assert stats.kstest(w[w != 0], "norm", args=(0, 0.05)).pvalue > 1e-4


def test_zero_positions_uniform_over_rows():
    rows = 50
    w = fastinit.sparse_(np.empty((rows, 20000), np.float32), 0.1, seed=3)
    counts = (w == 0).sum(1)
    assert stats.chisquare(counts).pvalue > 1e-4


def test_zero_sets_of_different_columns_are_independent():
    """The overlap of two columns' zero sets is hypergeometric: mean nz²/rows, its variance too."""
    rows, nz = 40, 10
    w = fastinit.sparse_(np.empty((rows, 20001), np.float32), nz / rows, seed=6)
    z = (w == 0).astype(np.int64)
    overlap = (z[:, :-1] * z[:, 1:]).sum(0)
    law = stats.hypergeom(rows, nz, nz)
    assert abs(overlap.mean() - law.mean()) < 5 * law.std() / np.sqrt(overlap.size)
    assert abs(overlap.var() / law.var() - 1) < 0.1


def test_shards_across_column_strips():
    """Zeros are gathered per strip of 64 columns: shards that cut strips anywhere agree with the whole."""
    full = fastinit.sparse_(np.empty((50, 200), np.float32), 0.2, seed=7)
    for off, shape in [((7, 61), (30, 100)), ((0, 63), (50, 2)), ((49, 127), (1, 73)), ((0, 0), (50, 129))]:
        blk = fastinit.sparse_(np.empty(shape, np.float32), 0.2, seed=7, global_shape=(50, 200), offset=off)
        assert np.array_equal(blk, full[off[0]:off[0] + shape[0], off[1]:off[1] + shape[1]])


def test_martens_k_nonzeros_per_unit_in_either_layout():
    w = fastinit.martens_sparse_(np.empty((784, 300)), seed=4, layout="keras")  # (n_in, n_out): per column
    assert ((w != 0).sum(0) == 15).all()
    for c in (0, 1, 299):  # the 15 kept rows are the ones drawn (the complement of the zero rows)
        assert np.flatnonzero(w[:, c] == 0).tolist() == reference.sparse_zero_rows(4, 0, c, 784, 784 - 15)
    assert abs(w[w != 0].std() - 1) < 0.03
    t = fastinit.martens_sparse_(np.empty((300, 784)), seed=4)  # torch's (out, in), the default: per row
    assert np.array_equal(t, w.T)
    dense = fastinit.martens_sparse_(np.empty((4, 15)), k=15, seed=0)  # k = every input: a dense unit
    assert (dense != 0).all() and abs(dense.std() - 1) < 0.3
    with pytest.raises(ValueError, match=r"k=20 non-zeros per column \(unit\) but only 10 rows"):
        fastinit.martens_sparse_(np.empty((10, 3)), k=20, layout="keras")
    with pytest.raises(ValueError, match=r"k=20 non-zeros per row \(unit\) but only 3 columns"):
        fastinit.martens_sparse_(np.empty((10, 3)), k=20)
    with pytest.raises(ValueError, match="layout must be one of"):
        fastinit.martens_sparse_(np.empty((10, 3)), k=2, layout="jax")


def test_martens_torch_layout_shards_equal_slices_of_the_whole():
    full = fastinit.martens_sparse_(np.empty((70, 90), np.float32), k=5, seed=2)
    assert ((full != 0).sum(1) == 5).all()
    for off, shape in [((3, 61), (30, 20)), ((0, 0), (70, 90)), ((69, 1), (1, 89)), ((10, 0), (5, 90))]:
        blk = fastinit.martens_sparse_(np.empty(shape, np.float32), k=5, seed=2, global_shape=(70, 90), offset=off)
        assert np.array_equal(blk, full[off[0]:off[0] + shape[0], off[1]:off[1] + shape[1]])
    strided = np.zeros((90, 70), np.float32).T  # a Fortran-order target: same values
    assert np.array_equal(fastinit.martens_sparse_(strided, k=5, seed=2), full)


@pytest.mark.parametrize("sp", [0.3, 0.8, 0.97])  # zero rows drawn / kept rows drawn / a few kept values written
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_shard_and_thread_invariance(dtype, sp):
    full = fastinit.sparse_(np.empty((300, 70), dtype), sp, seed=5, stream="s")
    for off, shape in [((150, 10), (100, 20)), ((0, 69), (300, 1)), ((299, 0), (1, 70))]:
        blk = fastinit.sparse_(np.empty(shape, dtype), sp, seed=5, stream="s", global_shape=(300, 70), offset=off)
        assert np.array_equal(blk, full[off[0]:off[0] + shape[0], off[1]:off[1] + shape[1]])
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = fastinit.sparse_(np.empty((300, 70), dtype), sp, seed=5, stream="s")
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(single, full)
    strided = np.empty((70, 300), dtype).T
    assert np.array_equal(fastinit.sparse_(strided, sp, seed=5, stream="s"), full)


@pytest.mark.parametrize("dtype", [ml_dtypes.bfloat16, np.float32, np.float64])
def test_a_large_mostly_zero_matrix_zero_filled_past_the_cache_holds_the_same_values(monkeypatch, dtype):
    """Where at most 1/32 of the rows keep a value, the block is zero-filled and the kept values written alone;
    from _cpu.stream_bytes() on (forced here) the zero fill stores past the cache: the same bytes, also in a
    strided view whose rows are streamed one at a time."""
    from fastinit import _cpu

    def fills():
        out = []
        for make in (lambda: np.empty((1536, 1100), dtype), lambda: np.empty((1536, 1200), dtype)[:, 7:1107]):
            out.append(fastinit.sparse_(make(), 0.99, seed=4, stream="z").copy())
            out.append(fastinit.martens_sparse_(make(), 5, seed=4, layout="keras").copy())
        return out

    plain = fills()
    monkeypatch.setattr(_cpu, "stream_bytes", lambda: 0)
    streamed = fills()
    for a, b in zip(plain, streamed):
        assert np.array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}"))
    assert (plain[1] != 0).sum() == 5 * 1100 and np.array_equal(plain[0], plain[2])


@pytest.mark.parametrize("call, msg", [
    (lambda w: fastinit.sparse_(w, 1.5), "sparsity must lie in \\[0, 1\\]"),
    (lambda w: fastinit.sparse_(w, -0.1), "sparsity must lie in"),
    (lambda w: fastinit.sparse_(w, np.nan), "sparsity must be finite"),
    (lambda w: fastinit.sparse_(w[0], 0.1), "Only tensors with 2 dimensions"),
    (lambda w: fastinit.martens_sparse_(w, k=-1), "k must be a non-negative int"),
])
def test_bad_input_leaves_buffer_untouched(call, msg):
    w = np.full((6, 5), 3.0)
    with pytest.raises(ValueError, match=msg):
        call(w)
    assert (w == 3).all()


def test_allocating_twin_and_torch_adapter():
    w = fastinit.sparse(100, 30, sparsity=0.25, seed=1)
    assert w.shape == (100, 30) and ((w == 0).sum(0) == 25).all()
    torch = pytest.importorskip("torch")
    import fastinit.torch as finit
    torch.manual_seed(0)
    a = finit.sparse_(torch.empty(40, 10), 0.5)
    b = finit.sparse_(torch.empty(40, 10), 0.5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and ((a == 0).sum(0) == 20).all()


@pytest.mark.parametrize("dtype, view, sp", [
    (np.float32, False, 0.07), (np.float64, True, 0.07), (np.float16, False, 0.07), (np.float32, False, 0.5),
    (np.float64, False, 0.6), (np.float16, True, 0.9), (ml_dtypes.bfloat16, False, 0.98), (np.float32, True, 0.98),
    (np.float64, False, 0.99), (np.float16, False, 0.99)])
def test_values_and_zero_rows_follow_the_documented_mapping(dtype, view, sp):
    """700 x 1000 elements: many work items of 2**16 positions, each cutting rows, zero their own share of
    the mask (zero rows drawn, or above sparsity 1/2 the kept rows; at most 1/32 kept: a zero fill and the
    kept values alone); every entry is the normal_ value or, at the reference's rows, exactly +0."""
    rows, cols, std = 700, 1000, 0.5
    out = np.empty((cols, rows), dtype).T if view else np.empty((rows, cols), dtype)
    w = fastinit.sparse_(out, sp, std, seed=11, stream="w")
    nz = math.ceil(sp * rows)
    expect = fastinit.normal_(np.empty((rows, cols), dtype), 0.0, std, seed=11, stream="w")
    for c in range(cols):
        expect[reference.sparse_zero_rows(11, "w", c, rows, nz), c] = 0
    assert np.array_equal(np.ascontiguousarray(w).view(np.uint8), expect.view(np.uint8))  # bit for bit: zeros are +0


def test_martens_row_shard_of_1024_rows_equals_its_block():
    """The torch layout fills the transposed view: a 1024-row shard's rows took the row tile as one global run
    (a review: fastinit.io blocks of 1024 rows wrote other values than the whole matrix)."""
    full = fastinit.martens_sparse_(np.zeros((2048, 300), np.float32), k=280, seed=0)
    blk = fastinit.martens_sparse_(np.zeros((1024, 300), np.float32), k=280, seed=0, global_shape=(2048, 300),
                                   offset=(1024, 0))
    assert np.array_equal(blk, full[1024:])


def test_work_space_beyond_the_machines_memory_is_refused_before_any_draw_or_write(monkeypatch):
    """A block of a matrix with billions of rows needs each thread's permutation of all of them (8 bytes a row):
    numba's allocation failure surfaced as a SystemError after the seed was drawn (a review).  Here the machine
    is made 4 MiB small: a block of a (10**6, 3) matrix needs 8 MB."""
    from fastinit import sparsity

    monkeypatch.setattr(sparsity, "physical_memory", lambda: 4 * 2**20)
    w = np.full((2, 3), 7.0, np.float32)
    g, twin = fastinit.Generator(1), fastinit.Generator(1)
    with pytest.raises(MemoryError, match=r"sparse_: global shape \(1000000, 3\) draws .* split such a matrix"):
        fastinit.sparse_(w, 0.5, generator=g, global_shape=(10**6, 3))
    assert (w == 7).all() and g.next_seed() == twin.next_seed()
    with pytest.raises(MemoryError, match=r"^sparse: global shape \(1000000, 3\)"):  # the twin names itself
        fastinit.sparse(10**6, 3, sparsity=0.5, seed=0)
    for bad, match in (({"std": -1.0}, "std must be >= 0"), ({"stream": -1}, "stream"), ({"seed": -1}, "seed")):
        with pytest.raises(ValueError, match=match):  # a bad argument is named first, not the memory (a review)
            fastinit.sparse_(w, 0.5, **{"generator": g, **bad}, global_shape=(10**6, 3))
    assert (w == 7).all() and g.next_seed() == twin.next_seed()
    fastinit.sparse_(w, 0.5, seed=0, global_shape=(1000, 3))  # 8 kB: fits
    assert np.array_equal(w, fastinit.sparse_(np.empty((1000, 3), np.float32), 0.5, seed=0)[:2])
    with pytest.raises(MemoryError):  # an empty block too (fastinit.io checks each tensor's arguments on one before
        fastinit.sparse_(w[:0], 0.5, seed=0, global_shape=(10**6, 3))  # its first write: a review, 2026-12-06 (f))
    w[:] = 7
    with pytest.raises(MemoryError, match=r"martens_sparse_: global shape \(3, 1000000\) draws each row's positions "
                                          r"over all its 1,000,000 columns: .* split such a matrix by rows"):
        fastinit.martens_sparse_(w, 2, seed=0, global_shape=(3, 10**6))  # (torch's layout: k per row; it named the
    assert (w == 7).all()  # transposed shape, 2026-12-07 (q))


def test_martens_sparse_on_an_empty_tensor_is_a_no_op():
    """k non-zeros per unit of no inputs: nothing to fill, as every zero-element target (DESIGN; it had been
    refused as k > 0 rows, a review, 2026-12-06 (f)); a non-empty one with too few inputs is still refused."""
    assert fastinit.martens_sparse_(np.zeros((0, 5), np.float32), layout="keras", seed=1).shape == (0, 5)
    assert fastinit.martens_sparse((0, 5), seed=1).shape == (0, 5)
    assert fastinit.martens_sparse_(np.zeros((5, 0), np.float32), seed=1).shape == (5, 0)
    with pytest.raises(ValueError, match="k=15 non-zeros per column"):
        fastinit.martens_sparse_(np.zeros((2, 5), np.float32), layout="keras", seed=1)


def test_global_extents_from_2_32_are_refused_unless_the_tensor_is_empty():
    """The position draws index rows and columns in 32 bits: a tensor with an extent of 2**32 or more is refused
    before any write, unless it has no element at all (nothing of it is ever drawn; torch.nn.init's sparse_
    leaves an empty tensor alone too)."""
    w = np.full((2, 3), 7.0, np.float32)
    for shape in ((2, 2**32), (2**32, 3)):
        with pytest.raises(ValueError, match=rf"sparse_: global shape \({shape[0]}, {shape[1]}\) has a dimension >= "
                                             r"2\*\*32"):  # (martens_sparse_'s torch layout: the shape as given, not
            fastinit.martens_sparse_(w, 2, seed=0, global_shape=shape)  # transposed, 2026-12-07 (q))
        with pytest.raises(ValueError, match=r"sparse_: global shape .* has a dimension >= 2\*\*32"):
            fastinit.sparse_(w, 0.5, seed=0, global_shape=shape)
    assert (w == 7).all()
    for shape in ((0, 2**33), (2**33, 0)):
        empty = np.empty(shape, np.float32)
        assert fastinit.sparse_(empty, 0.5, seed=0) is empty
        if shape[1]:  # k=1 non-zero per row (unit) needs a column
            assert fastinit.martens_sparse_(empty, 1, seed=0) is empty
