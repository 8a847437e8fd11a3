"""Sharded init everywhere: every sampling initializer, split along every axis (uneven grids),
equals the unsharded fill — the tensor-parallel promise."""
import itertools
import warnings

import numpy as np
import pytest

import fastinit

GSHAPE = (7, 10, 13)  # uneven splits along every axis
INITS = {
    "uniform_": lambda out, **kw: fastinit.uniform_(out, -1.0, 2.0, **kw),
    "normal_": lambda out, **kw: fastinit.normal_(out, 0.5, 0.02, **kw),
    "trunc_normal_": lambda out, **kw: fastinit.trunc_normal_(out, 0.0, 0.02, -0.04, 0.03, **kw),
    "xavier_uniform_": fastinit.xavier_uniform_,
    "xavier_normal_": fastinit.xavier_normal_,
    "kaiming_uniform_": fastinit.kaiming_uniform_,
    "kaiming_normal_": lambda out, **kw: fastinit.kaiming_normal_(out, 0.1, "fan_out", **kw),
    "lecun_uniform_": fastinit.lecun_uniform_,
    "lecun_normal_": fastinit.lecun_normal_,
    "fan_in_uniform_": fastinit.fan_in_uniform_,
    "variance_scaling_": lambda out, **kw: fastinit.variance_scaling_(out, 2.0, "fan_avg", **kw),
    "variance_scaling_uniform": lambda out, **kw: fastinit.variance_scaling_(out, 1.0, "fan_geo_avg", "uniform", **kw),
}


def _splits(n, parts):
    edges = np.linspace(0, n, parts + 1).astype(int)
    return list(zip(edges[:-1], edges[1:]))


@pytest.mark.parametrize("name", sorted(INITS))
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_shard_grid_equals_unsharded(name, dtype):
    fn = INITS[name]
    full = fn(np.empty(GSHAPE, dtype), seed=3, stream=name)
    for grid in [(2, 3, 4), (3, 1, 2), (1, 4, 1)]:
        for cell in itertools.product(*[_splits(n, p) for n, p in zip(GSHAPE, grid)]):
            shape = tuple(b - a for a, b in cell)
            off = tuple(a for a, _ in cell)
            block = fn(np.empty(shape, dtype), seed=3, stream=name, global_shape=GSHAPE, offset=off)
            assert np.array_equal(block.view(np.uint8), np.ascontiguousarray(
                full[tuple(slice(a, b) for a, b in cell)]).view(np.uint8)), (grid, cell)


def test_sparse_shard_grid_equals_unsharded():
    full = fastinit.sparse_(np.empty((30, 17)), 0.4, seed=2)
    for cell in itertools.product(_splits(30, 4), _splits(17, 3)):
        (r0, r1), (c0, c1) = cell
        block = fastinit.sparse_(np.empty((r1 - r0, c1 - c0)), 0.4, seed=2, global_shape=(30, 17), offset=(r0, c0))
        assert np.array_equal(block, full[r0:r1, c0:c1])


def test_torch_shards_equal_slices_of_the_full_weight():
    torch = pytest.importorskip("torch")
    import fastinit.torch as finit
    full = finit.kaiming_uniform_(torch.empty(64, 48), a=5**0.5, seed=9, stream="layer.w")
    for rank in range(4):  # column-parallel: each rank holds 12 input columns
        local = finit.kaiming_uniform_(torch.empty(64, 12), a=5**0.5, seed=9, stream="layer.w",
                                       global_shape=(64, 48), offset=(0, 12 * rank))
        assert torch.equal(local, full[:, 12 * rank:12 * (rank + 1)])


def test_orthogonal_refuses_shards_with_the_reason():
    out = np.full((4, 8), 5.0)
    with pytest.raises(ValueError, match="cannot fill a shard: every entry of an orthogonal matrix depends"):
        fastinit.orthogonal_(out, global_shape=(8, 8), offset=(4, 0))
    assert (out == 5).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fastinit.orthogonal_(np.empty((8, 8)), global_shape=(8, 8), offset=(0, 0), seed=1)  # the whole: fine


NARROW = {**INITS,  # the truncated normal's three proposals (docs/trunc_normal.md), each with rejections to retry
          "trunc_uniform_proposal": lambda out, **kw: fastinit.trunc_normal_(out, 0.0, 1.0, 0.3, 0.9, **kw),
          "trunc_exp_proposal": lambda out, **kw: fastinit.trunc_normal_(out, 0.0, 1.0, 1.9, 2.6, **kw)}


@pytest.mark.parametrize("dtype", [np.float16, "bfloat16", np.float32, np.float64])
@pytest.mark.parametrize("name", ["uniform_", "normal_", "kaiming_normal_", "trunc_normal_", "trunc_uniform_proposal",
                                  "trunc_exp_proposal"])
def test_narrow_column_shards_equal_the_columns_of_the_whole(name, dtype):
    """Rows of a column shard lie a tile apart: a short row's values come from its own blocks of the tile only
    (not the whole tile: 16x the work for a row of 64; a truncated normal's, each value alone, attempts and all,
    under tile / 16 or 8 values, or under a row's pitch / 16 or 8 where rows share a tile: the (96, 40) matrix's;
    a uniform or normal part where it costs less than the tile or the pitch: the (96, 700) matrix's rows of 16),
    across slot and tile boundaries, in C and Fortran order, on one and two threads."""
    import ml_dtypes
    import numba

    dt = np.dtype(ml_dtypes.bfloat16) if dtype == "bfloat16" else np.dtype(dtype)
    fn = NARROW[name]
    cases = {(96, 3000): [(0, 1), (250, 16), (255, 2), (1020, 9), (3, 64), (500, 255), (700, 256), (1, 700)],
             (96, 700): [(0, 16), (250, 200), (690, 10), (100, 255), (255, 3)],  # rows closer than a tile
             (96, 40): [(0, 1), (5, 3), (39, 1), (10, 4), (30, 7), (1, 20)]}  # (c0, width) of each global shape
    before = numba.get_num_threads()
    try:
        for gshape, blocks in cases.items():
            full = fn(np.empty(gshape, dt), seed=4, stream=name)
            for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
                numba.set_num_threads(threads)
                for (c0, width), order in itertools.product(blocks, "CF"):
                    block = fn(np.empty((96, width), dt, order=order), seed=4, stream=name, global_shape=gshape,
                               offset=(0, c0))
                    want = np.ascontiguousarray(full[:, c0:c0 + width]).view(np.uint8)
                    got = np.ascontiguousarray(block).view(np.uint8)
                    assert np.array_equal(got, want), (gshape, threads, c0, width, order)
    finally:
        numba.set_num_threads(before)
