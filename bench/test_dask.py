"""fastinit.dask: building the lazy array of many blocks (the graph, nothing computed), against
``dask.array.random``, and computing one block of it.

Run:  python -m pytest bench/test_dask.py -q --benchmark-group-by=group --benchmark-columns=min,mean,rounds
The build must not grow with the number of blocks (docs/dask.md): fastinit's blocks find their place from dask's
lazy ``block_id``.
"""
import numpy as np
import pytest

import fastinit
from conftest import run

da = pytest.importorskip("dask.array")
fid = pytest.importorskip("fastinit.dask")

SHAPE, CHUNKS = (100_000, 100_000), (1000, 1000)  # 10**4 blocks, 40 GB of float32: never computed whole
GROUP = "build a lazy (1e5, 1e5) float32 normal array of 1e4 blocks"


@pytest.mark.benchmark(group=GROUP)
def test_fastinit_dask_graph(benchmark):
    run(benchmark, lambda: fid.normal(*SHAPE, chunks=CHUNKS, seed=0), elements=None)


@pytest.mark.benchmark(group=GROUP)
def test_dask_random_graph(benchmark):
    run(benchmark, lambda: da.random.default_rng(0).standard_normal(SHAPE, chunks=CHUNKS, dtype=np.float32),
        rounds=3, elements=None)


@pytest.mark.benchmark(group="one (1000, 1000) float32 block of it: through dask, and the in-place fill")
def test_fastinit_dask_one_block(benchmark):
    block = fid.normal(*SHAPE, chunks=CHUNKS, seed=0).blocks[12, 34]
    run(benchmark, lambda: block.compute(scheduler="sync"), elements=10**6)
    want = fastinit.normal_(np.empty(CHUNKS, np.float32), seed=0, global_shape=SHAPE, offset=(12_000, 34_000))
    assert np.array_equal(block.compute(scheduler="sync"), want)


@pytest.mark.benchmark(group="one (1000, 1000) float32 block of it: through dask, and the in-place fill")
def test_fastinit_in_place_block(benchmark):
    out = np.zeros(CHUNKS, np.float32)
    run(benchmark, lambda: fastinit.normal_(out, seed=0, global_shape=SHAPE, offset=(12_000, 34_000)),
        elements=10**6)


TINY_SHAPE, TINY_CHUNKS = (1000, 1000), (10, 10)  # 10**4 blocks of 100 elements: per-block overhead, not fill rate
TINY = "compute a (1e3, 1e3) float32 normal array of 1e4 (10, 10) blocks (scheduler='sync')"


@pytest.mark.benchmark(group=TINY)
def test_fastinit_dask_tiny_blocks(benchmark):
    run(benchmark, lambda: fid.normal(*TINY_SHAPE, chunks=TINY_CHUNKS, seed=0).compute(scheduler="sync"), rounds=3,
        elements=10**6)


@pytest.mark.benchmark(group=TINY)
def test_dask_random_tiny_blocks(benchmark):
    run(benchmark, lambda: da.random.default_rng(0).standard_normal(TINY_SHAPE, chunks=TINY_CHUNKS, dtype=np.float32)
        .compute(scheduler="sync"), rounds=3, elements=10**6)


@pytest.mark.benchmark(group="1e4 placed (10, 10) float32 fills, each at a new offset of a (1e3, 1e3) tensor")
def test_fastinit_tiny_placed_fills(benchmark):
    """What a tiny dask block costs fastinit itself: the placement's geometry is cached by the block's layout, not
    its offset (one (10, 10) layout here; 1e4 offsets)."""
    out = np.empty(TINY_CHUNKS, np.float32)
    offsets = [(i, j) for i in range(0, 1000, 10) for j in range(0, 1000, 10)]

    def fills():
        for offset in offsets:
            fastinit.normal_(out, seed=0, global_shape=TINY_SHAPE, offset=offset)

    run(benchmark, fills, rounds=3, elements=10**6)
