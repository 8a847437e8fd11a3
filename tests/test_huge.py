"""Global indices past 2**32, 2**40 and up to 2**64 - 1: no counter wrap, sharding still exact.

Small blocks are placed far into virtual tensors with ``global_shape``/``offset`` (nothing big is
allocated) and checked against the independent NumPy restatement of the counter mapping
(tests/reference.py), against the block at the index mod 2**32 (which a 32-bit counter would
alias), and against other shardings of the same elements.  One real fill of a float16 ``np.memmap``
with more than 2**32 elements (an 8 GiB sparse file) checks the same on disk."""
import os
import shutil

import numpy as np
import pytest
from reference import normal as ref_normal
from reference import ulps
from reference import uniform as ref_uniform

import fastinit

SEED, STREAM = 2024, "huge.weight"
STARTS = [2**32 - 700, 2**32 + 3, 2**40 - 1, 2**40 + 12_345, 2**63 + 1, 2**64 - 1 - 3000]
N = 2500  # elements per block: several 1024-element tiles, crossing 2**32 / 2**40 where a start sits below it


def _block(fn, start, n, dtype, gshape=(2**64 - 1,), **kw):
    out = np.empty(n, dtype)
    return fn(out, seed=SEED, stream=STREAM, global_shape=gshape, offset=(start,), **kw)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("start", STARTS)
def test_uniform_past_2_to_32_matches_the_reference_bit_for_bit(start, dtype):
    n = min(N, 2**64 - 1 - start)
    got = _block(fastinit.uniform_, start, n, dtype)
    index = np.arange(n, dtype=np.uint64) + np.uint64(start)
    assert np.array_equal(got, ref_uniform(SEED, STREAM, index, 0.0, 1.0, dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("start", [2**32 - 700, 2**40 + 12_345, 2**64 - 1 - 3000])
def test_normal_past_2_to_32_matches_the_reference(start, dtype):
    got = _block(fastinit.normal_, start, N, dtype)
    index = np.arange(N, dtype=np.uint64) + np.uint64(start)
    assert ulps(got, ref_normal(SEED, STREAM, index, dtype), dtype).max() <= 4


@pytest.mark.parametrize("fn, dtype", [(fastinit.uniform_, np.float16), (fastinit.normal_, np.float32),
                                       (fastinit.normal_, np.float64)])
@pytest.mark.parametrize("start", [2**32 + 3, 2**40 + 12_345, 2**41 + 2**32 + 99])
def test_values_differ_from_the_block_at_index_mod_2_to_32(fn, dtype, start):
    high = _block(fn, start, N, dtype)
    low = _block(fn, start % 2**32, N, dtype)  # what a wrapped 32-bit counter would produce
    assert np.mean(high == low) < 0.01


@pytest.mark.parametrize("init", ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "sparse_"])
@pytest.mark.parametrize("row0", [2**22 + 1, 2**30 + 7])  # rows of 1024 (or 4096): elements past 2**32 / 2**40
def test_overlapping_and_split_shards_agree_past_2_to_32(init, row0):
    fill = {
        "uniform_": lambda out, **kw: fastinit.uniform_(out, -1.0, 1.0, **kw),
        "normal_": lambda out, **kw: fastinit.normal_(out, 0.0, 0.02, **kw),
        "trunc_normal_": lambda out, **kw: fastinit.trunc_normal_(out, 0.0, 1.0, -0.3, 2.5, **kw),
        "xavier_uniform_": fastinit.xavier_uniform_,
        "sparse_": lambda out, **kw: fastinit.sparse_(out, 0.25, **kw),
    }[init]
    if init == "sparse_":  # sparse_ permutes each column's global rows: fewer rows, 2**32 - 5 columns
        gshape, col0, row0 = (4096, 2**32 - 5), 2**32 - 400, row0 % 1000
    else:
        gshape, col0 = (2**31, 1024), 0

    def shard(r0, r1, c0, c1):
        return fill(np.empty((r1 - r0, c1 - c0), np.float32), seed=SEED, stream=STREAM, global_shape=gshape,
                    offset=(r0, c0))

    whole = shard(row0, row0 + 6, col0, col0 + 300)
    assert row0 * gshape[1] + col0 > 2**32
    overlap = shard(row0 + 2, row0 + 9, col0 + 101, col0 + 333)  # a different block overlapping ``whole``
    assert np.array_equal(whole[2:, 101:], overlap[:4, :199])
    parts = [shard(row0 + r0, row0 + r1, col0 + c0, col0 + c1)  # ``whole`` split at odd offsets
             for r0, r1 in [(0, 3), (3, 6)] for c0, c1 in [(0, 1), (1, 137), (137, 300)]]
    top = np.hstack(parts[:3])
    bottom = np.hstack(parts[3:])
    assert np.array_equal(np.vstack([top, bottom]), whole)


GIB = 2**30


@pytest.mark.slow
def test_float16_memmap_with_more_than_2_to_32_elements(tmp_path):
    """A real on-disk fill of 2**32 + 2**16 float16 values (8 GiB sparse file): windows around 2**32
    and at the end equal small sharded fills of the same global indices and differ from index mod 2**32."""
    n = 2**32 + 2**16
    free = shutil.disk_usage(tmp_path).free
    if free < 10 * GIB:
        pytest.skip(f"needs 10 GiB free in {tmp_path} for an 8 GiB memmap, found {free / GIB:.1f} GiB")
    path = tmp_path / "huge.f16"
    try:
        mm = np.memmap(path, dtype=np.float16, mode="w+", shape=(n,))
        assert fastinit.uniform_(mm, -1.0, 1.0, seed=SEED, stream=STREAM) is mm
        mm.flush()
        for start in (0, 2**32 - 5000, 2**32 - 1, n - 7000):
            window = np.array(mm[start:start + 7000])
            shard = fastinit.uniform_(np.empty(len(window), np.float16), -1.0, 1.0, seed=SEED, stream=STREAM,
                                      global_shape=(n,), offset=(start,))
            assert window.tobytes() == shard.tobytes(), f"memmap window at {start} differs from its shard"
        assert np.mean(np.array(mm[2**32:2**32 + 2**16]) == np.array(mm[:2**16])) < 0.01  # no wrap
        del mm
    finally:
        if path.exists():
            os.unlink(path)
