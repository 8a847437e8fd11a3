"""The core promise: a value depends only on (seed, stream, global index, parameters, dtype)."""
import array
import sys

import ml_dtypes
import numba
import numpy as np
import pytest

import fastinit

DTYPES = [np.float16, ml_dtypes.bfloat16, np.float32, np.float64]
FILLS = [(fastinit.uniform_, (-0.5, 2.0)), (fastinit.normal_, (0.25, 3.0))]
IDS = ["uniform", "normal"]


def _full(fn, args, shape, dtype, seed=42, stream="w", **kw):
    out = np.empty(shape, dtype)
    return fn(out, *args, seed=seed, stream=stream, **kw)


@pytest.mark.parametrize("fn, args", FILLS, ids=IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_value_independent_of_thread_count(fn, args, dtype):
    full = _full(fn, args, (1000, 1037), dtype)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = _full(fn, args, (1000, 1037), dtype)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(full.view(np.uint8), single.view(np.uint8))


@pytest.mark.parametrize("shape", [(64, 64), (300, 260), (260, 300)])
def test_orthogonal_and_sparse_are_the_same_on_the_calling_thread_and_on_the_pool(shape, monkeypatch):
    """Up to _cpu.SERIAL_ELEMENTS their kernels run on the calling thread (orthogonal_'s up to
    structured.CALLING_THREAD_ELEMENTS), above it on numba's pool (and on one thread with numba.set_num_threads(1)):
    the same bits every way."""
    from fastinit import _cpu, structured

    def both():
        return [fastinit.orthogonal_(np.empty(shape, np.float32), seed=3).tobytes(),
                fastinit.sparse_(np.empty(shape, np.float64), 0.3, seed=3).tobytes()]

    ref = both()
    for limit in (0, 1 << 40):  # every kernel on the pool / every kernel on the calling thread
        monkeypatch.setattr(_cpu, "SERIAL_ELEMENTS", limit)
        monkeypatch.setattr(structured, "CALLING_THREAD_ELEMENTS", limit)
        assert both() == ref, limit
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert both() == ref
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("fn, args", FILLS, ids=IDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("chunk", [1, 3, 31, 1000, 4097, 1 << 20])
def test_value_independent_of_chunk_size(fn, args, dtype, chunk):
    ref = _full(fn, args, (37, 1111), dtype)
    got = _full(fn, args, (37, 1111), dtype, _chunk=chunk)
    assert np.array_equal(ref.view(np.uint8), got.view(np.uint8))


SHARDS_2D = [((0, 0), (64, 700)), ((1, 3), (7, 11)), ((13, 255), (40, 2)), ((63, 0), (1, 1000)),
             ((5, 997), (59, 3)), ((0, 511), (64, 513)), ((30, 600), (1, 1))]


@pytest.mark.parametrize("fn, args", FILLS, ids=IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_shard_equals_block_of_full_init_2d(fn, args, dtype):
    gshape = (64, 1024)
    full = _full(fn, args, gshape, dtype)
    for off, shape in SHARDS_2D:
        block = _full(fn, args, shape, dtype, global_shape=gshape, offset=off)
        expect = full[off[0]:off[0] + shape[0], off[1]:off[1] + shape[1]]
        assert np.array_equal(block.view(np.uint8), np.ascontiguousarray(expect).view(np.uint8)), (off, shape)


@pytest.mark.parametrize("fn, args", FILLS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float16, np.float64])
def test_shard_equals_block_of_full_init_3d(fn, args, dtype):
    gshape = (6, 33, 517)
    full = _full(fn, args, gshape, dtype)
    for off, shape in [((0, 0, 0), (6, 33, 517)), ((1, 2, 3), (2, 5, 7)), ((5, 32, 1), (1, 1, 515)),
                       ((2, 0, 0), (3, 33, 517)), ((0, 7, 256), (6, 20, 261))]:
        block = _full(fn, args, shape, dtype, global_shape=gshape, offset=off)
        expect = full[tuple(slice(o, o + n) for o, n in zip(off, shape))]
        assert np.array_equal(block, expect), (off, shape)


@pytest.mark.parametrize("fn, args", FILLS, ids=IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_target_equals_contiguous_fill(fn, args, dtype):
    ref = _full(fn, args, (50, 300), dtype)
    views = [
        np.empty((300, 50), dtype).T,  # Fortran order
        np.empty((100, 900), dtype)[::2, ::3],  # steps
        np.empty((50, 300), dtype)[::-1, ::-1],  # negative strides
        np.empty((50, 600), dtype)[:, 1::2],  # interleaved, odd start
    ]
    for v in views:
        fn(v, *args, seed=42, stream="w")
        assert np.array_equal(np.ascontiguousarray(v).view(np.uint8), ref.view(np.uint8))


TRUNC = [(fastinit.trunc_normal_, (0.0, 1.0, -2.0, 2.0)), (fastinit.trunc_normal_, (0.0, 1.0, 0.1, 0.2)),
         (fastinit.trunc_normal_, (0.0, 1.0, -0.2, np.inf))]  # the normal, uniform, exponential proposals


@pytest.mark.parametrize("fn, args", FILLS + TRUNC, ids=IDS + ["trunc-normal", "trunc-uniform", "trunc-exp"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_rows_nearer_than_columns_in_memory_take_the_tiled_store_with_the_same_values(fn, args, dtype):
    """A transposed or Fortran-order target is filled up to _cpu.ROW_TILE rows at a time through a scratch tile,
    stored a column at a time: every row count and column count around the tiles (rows 37 = 2 x 16 + 5, columns
    across generation tiles of 512 and 1024), 3-D, reversed, shards placed anywhere, any chunk."""
    gshape = (2, 37, 1300)
    full = _full(fn, args, gshape, dtype)
    # (2, 37, 1024): rows of exactly the tile's width that are not one run in global index (a column shard) were
    # generated as one run (a review: every dtype and law, and martens_sparse_'s 1024-row shards)
    for off, shape in [((0, 0, 0), gshape), ((1, 3, 5), (1, 33, 1290)), ((0, 20, 1023), (2, 17, 2)),
                       ((0, 0, 200), (2, 37, 1024))]:
        expect = full[tuple(slice(o, o + n) for o, n in zip(off, shape))]
        block = dict(global_shape=gshape, offset=off)
        for view in (np.swapaxes(np.empty(shape[:1] + shape[:0:-1], dtype), 1, 2),
                     np.empty(shape, dtype, order="F"),
                     np.swapaxes(np.empty(shape[:1] + shape[:0:-1], dtype), 1, 2)[:, ::-1]):
            for chunk in (0, 1 << 16, 5000, 7):  # the kernel's choice; tiles of up to 16, of 3 rows; none
                fn(view, *args, seed=42, stream="w", _chunk=chunk, **block)
                assert np.array_equal(view.astype(np.float64), expect.astype(np.float64)), (off, chunk)


@pytest.mark.parametrize("fn, args", FILLS + TRUNC, ids=IDS + ["trunc-normal", "trunc-uniform", "trunc-exp"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_an_outer_axis_of_least_stride_is_the_tile_axis_with_the_same_values(fn, args, dtype):
    """The row tile gathers rows of the axis of least memory stride even when it is not the one before the last
    (a 3-D Fortran-order array, HWIO memory viewed as OIHW, a reversed transpose: 4-17x their contiguous twin
    before), its rows all the axes after it; a shard that cuts those axes tiles a later axis.  Shards, chunks."""
    from fastinit import _buffers, _cpu

    gshape = (20, 7, 300)
    full = _full(fn, args, gshape, dtype)
    for off, shape, ks in [((0, 0, 0), gshape, (0, 0, 0)), ((3, 1, 0), (17, 6, 300), (0, 0, 0)),
                           ((2, 0, 250), (18, 7, 50), (1, 1, -1))]:  # a column shard: axis 1, or no tile
        expect = full[tuple(slice(o, o + n) for o, n in zip(off, shape))]
        block = dict(global_shape=gshape, offset=off)
        views = [np.empty(shape, dtype, order="F"), np.empty(shape[::-1], dtype).T[::-1],  # 3-D Fortran, reversed
                 np.empty(shape[1:] + shape[:1], dtype).transpose(2, 0, 1)]  # HWIO as OIHW
        for view, k in zip(views, ks):
            geom = _buffers.geometry(_buffers.as_target(view), **block)
            assert _cpu.tile_axis(geom.shape, geom.gstride, geom.mstride) == k, (off, view.strides)
            for chunk in (0, 1 << 16, 5000, 7):
                fn(view, *args, seed=42, stream="w", _chunk=chunk, **block)
                assert np.array_equal(view.astype(np.float64), expect.astype(np.float64)), (off, chunk)


def test_work_items_hold_whole_tiles_of_long_rows_while_every_thread_has_one():
    """The kernel's chunk (0): about 2**16 positions of whole ROW_TILE-row tiles, at least one tile, fewer tiles
    (then fewer rows a tile) so that each thread keeps a work item, items within rows where a thread would get
    under two rows (a review: a (16, 10**6) Fortran array was one item, one thread); an explicit chunk is taken
    as given."""
    from fastinit import _buffers, _cpu

    def chunk(shape, order, threads, n=None):
        g = _buffers.geometry(_buffers.as_target(np.empty(shape, np.float32, order=order)))
        return _cpu.work_chunk(np.int64(-threads), g.shape, g.gstride, g.mstride, np.int64(n or g.shape.prod()))

    assert chunk((64, 128, 256), "F", 2) == 16 * 128 * 256  # rows of 32768: one tile of 16
    assert chunk((64, 128, 256), "F", 16) == 4 * 128 * 256  # 64 rows: tiles of 4 rows, an item a thread
    assert chunk((4096, 1000), "F", 2) == 64 * 1000  # rows of 1000: four tiles, not 65.5 rows
    assert chunk((4096, 1000), "F", 128) == 32 * 1000  # two tiles: 4096 rows, 128 threads
    assert chunk((4096, 1000), "C", 2) == 1 << 16  # no tile axis
    assert chunk((16, 10**6), "F", 2) == 8 * 10**6 and chunk((16, 10**6), "F", 16) == 1 << 16
    assert chunk((16, 10**6), "F", 2, n=999_999) == 1 << 16  # a call within a row (rows over CALL_ELEMENTS)
    g = _buffers.geometry(_buffers.as_target(np.empty((64, 64), np.float32, order="F")))
    assert _cpu.work_chunk(np.int64(7), g.shape, g.gstride, g.mstride, np.int64(4096)) == 7


def _tile_geometry(view, **block):
    from fastinit import _buffers, _cpu

    g = _buffers.geometry(_buffers.as_target(view), **block)
    return g, _cpu.tile_axis(g.shape, g.gstride, g.mstride)


def test_tile_rows_at_different_generation_tile_offsets_keep_their_own_last_tile():
    """A row piece of a Fortran-order matrix of rows over WIDE_ROW ends within the generation tile its next piece
    begins with; the 15 other rows' pieces took the shared scratch in between, so each tile was computed twice.
    Rows longer than a tile whose stride is not a tile's multiple, and not held whole, get one scratch a row; the
    others none."""
    from fastinit import _cpu

    def caches(view, **block):
        g, k = _tile_geometry(view, **block)
        code = np.int64(_cpu.F64 if view.dtype == np.float64 else _cpu.F32)
        cols = _cpu.row_length(g.shape, k)
        layout = _cpu.tile_layout(code, k, cols, g.gstride)[0]
        return _cpu.row_caches(code, layout, cols, g.gstride[k], np.uint64(_cpu.lanes(code, _cpu.NORMAL, 0) * 256))

    r32, r64, held = caches(np.empty((64, 9000), np.float32, order="F"))
    assert r32.size == 16 * 1024 and r64.size == 0 and held.size == 32 and (held[0::2] == np.uint64(2**64 - 1)).all()
    assert caches(np.empty((64, 9000), np.float64, order="F"))[1].size == 16 * 512
    no_tile = _cpu.row_caches(np.int64(_cpu.F32), np.int64(-1), np.int64(9000), np.uint64(64), np.uint64(1024))
    assert [a.size for a in no_tile] == [0, 0, 0]  # an item without a row tile (too short for two rows)
    shard = caches(np.empty((64, 2000), np.float32, order="F"), global_shape=(64, 3000), offset=(0, 5))
    assert shard[0].size == 16 * 1024  # a column shard: rows 3000 apart in global index
    for shape in ((64, 2048), (64, 1000), (3, 4096), (64, 1040), (64, 8192)):  # a stride of tiles; one run; a
        # stride of tiles; whole rows (the shared scratch: each row's run starts in the tile the last one ended in)
        assert [a.size for a in caches(np.empty(shape, np.float32, order="F"))] == [0, 0, 0], shape


def test_rows_that_follow_each_other_up_to_wide_row_are_generated_whole():
    """HWIO memory viewed as OIHW with many output channels (8680x256x3x3): its rows of 2304 (I kh kw) follow
    each other in global index; in pieces, each row's piece straddled two generation tiles and the store took
    twice as long as the old row-by-row path (33.9 -> 57.8 ms).  Such rows, up to WIDE_ROW long, are generated
    whole into a scratch of ROW_TILE rows of :func:`_cpu.row_pitch`; longer rows and column shards keep pieces."""
    from fastinit import _cpu

    def plan(view, **block):
        g, k = _tile_geometry(view, **block)
        code = np.int64({np.float64: _cpu.F64, np.float32: _cpu.F32, np.float16: _cpu.F16}[view.dtype.type])
        cols = _cpu.row_length(g.shape, k)
        n = np.int64(g.shape.prod())
        layout, pitch = _cpu.tile_layout(code, k, cols, g.gstride)
        size = sum(t.size for t in _cpu.rows_tile(code, layout, pitch, cols, n))
        assert size == _cpu.ROW_TILE * (_cpu.PITCH if layout == _cpu.ONE_RUN else pitch)
        assert [t.size for t in _cpu.rows_tile(code, layout, pitch, cols, 2 * cols - 1)] == [0, 0, 0]  # no two rows
        assert [t.size for t in _cpu.rows_tile(code, np.int64(-1), pitch, cols, n)] == [0, 0, 0]  # no tile axis
        return _cpu.tile_rows(np.int64(0), n, g.shape[k], cols, pitch, size), pitch, layout

    hwio = np.empty((3, 3, 256, 40), np.float32).transpose(3, 2, 0, 1)
    assert plan(hwio) == (16, 2320, _cpu.WHOLE_ROWS) and _cpu.row_pitch(2304) == 2320
    assert plan(np.empty((40, 8192), np.float32, order="F")) == (16, 8208, _cpu.WHOLE_ROWS)
    assert plan(np.empty((40, 8193), np.float32, order="F")) == (16, 8208, _cpu.PIECES)  # pieces up to 32 KiB
    assert plan(np.empty((40, 1000), np.float32, order="F")) == (16, 1000, _cpu.ONE_RUN)
    assert plan(np.empty((40, 4096), np.float64, order="F"))[2] == _cpu.WHOLE_ROWS  # WIDE_ROW is bytes: 512 KiB
    assert plan(np.empty((40, 4097), np.float64, order="F"))[2] == _cpu.PIECES  # of scratch at most
    assert plan(np.empty((40, 16384), np.float16, order="F"))[1:] == (16400, _cpu.WHOLE_ROWS)
    shard = plan(np.empty((40, 2000), np.float32, order="F"), global_shape=(40, 3000), offset=(0, 7))
    assert shard == (16, 8208, _cpu.PIECES)
    narrow = plan(np.empty((40, 1000), np.float32, order="F"), global_shape=(40, 3000), offset=(0, 7))
    assert narrow == (16, _cpu.PITCH, _cpu.PIECES)  # a column shard of rows up to a tile's width
    assert _cpu.tile_piece(16, _cpu.PIECES, 8208, 10**4, 0, np.uint64(300), np.uint64(1024)) == (16, 7892, 7892)
    assert _cpu.tile_piece(16, _cpu.PIECES, 8208, 10**4, 7892, np.uint64(300), np.uint64(1024)) == (16, 2108, 2108)


@pytest.mark.parametrize("fn, args", FILLS + TRUNC, ids=IDS + ["trunc-normal", "trunc-uniform", "trunc-exp"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_narrow_rows_take_one_tile_computation_with_the_same_values(fn, args, dtype):
    """Rows shorter than a generation tile: a channels_last conv kernel (rows of 3, `in` of stride 1: the tiled
    store with all of a matrix's rows as one run), the rows of 16 of w[:, :16] and of a narrow transpose, each
    row recomputed a whole tile before (45-90x the contiguous fill); shards of them, and any chunk."""
    gshape = (6, 40, 3, 3)
    full = _full(fn, args, gshape, dtype)
    for off, shape in [((0, 0, 0, 0), gshape), ((1, 3, 0, 0), (4, 35, 3, 3)), ((2, 0, 1, 0), (3, 40, 2, 3))]:
        expect = full[tuple(slice(o, o + n) for o, n in zip(off, shape))]
        views = [np.moveaxis(np.empty((shape[0], shape[2], shape[3], shape[1]), dtype), 3, 1),  # channels_last
                 np.empty(shape[:3] + (5 * shape[3],), dtype)[..., 2:2 + shape[3]]]
        for view in views:
            for chunk in (0, 1 << 16, 100, 7):
                fn(view, *args, seed=42, stream="w", _chunk=chunk, global_shape=gshape, offset=off)
                assert np.array_equal(view.astype(np.float64), expect.astype(np.float64)), (off, chunk)
    ref = _full(fn, args, (3000, 16), dtype)
    for view in (np.empty((3000, 64), dtype)[:, 8:24], np.empty((16, 3000), dtype).T):
        for chunk in (1 << 16, 1000, 7):
            fn(view, *args, seed=42, stream="w", _chunk=chunk)
            assert np.array_equal(view.astype(np.float64), ref.astype(np.float64)), chunk
    # 8 to 32 columns of many rows, stored a row at a time: one column axis, and two that do not merge (runs of 12)
    for view in (np.empty((8, 3000), dtype).T, np.empty((32, 3000), dtype).T,
                 np.empty((2, 16, 3000), dtype)[:, :12].transpose(2, 0, 1)):
        ref = _full(fn, args, view.shape, dtype)
        for chunk in (1 << 16, 1000):
            fn(view, *args, seed=42, stream="w", _chunk=chunk)
            assert np.array_equal(view.astype(np.float64), ref.astype(np.float64)), (view.shape, chunk)


@pytest.mark.parametrize("fn, args", FILLS, ids=IDS)
def test_strided_shard_equals_block(fn, args):
    full = _full(fn, args, (40, 80), np.float32)
    v = np.empty((16, 50), np.float32, order="F")[:, ::2]
    fn(v, *args, seed=42, stream="w", global_shape=(40, 80), offset=(9, 31))
    assert np.array_equal(v, full[9:25, 31:56])


def test_flat_fill_equals_any_reshape():
    flat = _full(fastinit.normal_, (), 6 * 35 * 11, np.float32)
    for shape in [(6, 385), (6, 35, 11), (2310, 1), (1, 2310)]:
        assert np.array_equal(_full(fastinit.normal_, (), shape, np.float32).ravel(), flat)


def test_buffer_protocol_targets_match_numpy():
    ref = _full(fastinit.uniform_, (), 1000, np.float32)
    arr = array.array("f", bytes(4000))
    fastinit.uniform_(arr, seed=42, stream="w")
    assert np.array_equal(np.frombuffer(arr, np.float32), ref)
    buf = bytearray(4000)
    fastinit.uniform_(buf, seed=42, stream="w", dtype="float32")
    assert np.array_equal(np.frombuffer(buf, np.float32), ref)
    mv = memoryview(bytearray(8000)).cast("d")
    fastinit.uniform_(mv, seed=42, stream="w")
    assert np.array_equal(np.frombuffer(mv, np.float64), _full(fastinit.uniform_, (), 1000, np.float64))


def test_16_bit_integer_storage_reads_as_float16_or_bfloat16_with_dtype():
    """torch exports bfloat16 as int16: such arrays and buffers (strided arrays too) take dtype= float16 / bfloat16."""
    for dt, storage in [("bfloat16", np.int16), ("float16", np.uint16)]:
        ref = _full(fastinit.normal_, (0.0, 0.02), (5, 7), np.dtype(ml_dtypes.bfloat16 if dt == "bfloat16" else dt))
        bits = np.zeros((5, 14), storage)
        view = bits[:, ::2]
        assert fastinit.normal_(view, std=0.02, seed=42, stream="w", dtype=dt) is view
        assert np.array_equal(view.view(np.uint16), ref.view(np.uint16)) and not bits[:, 1::2].any()
        mv = memoryview(np.zeros(35, storage))
        fastinit.normal_(mv, std=0.02, seed=42, stream="w", dtype=dt)
        assert np.array_equal(np.asarray(mv).view(np.uint16), ref.view(np.uint16).ravel())
    for other, dt in [(np.int32, "float32"), (ml_dtypes.bfloat16, "float16"), (np.float16, "bfloat16")]:
        with pytest.raises(TypeError, match="only 16-bit integer arrays in native byte order, and plain 2-byte "
                                            "void, are reinterpreted"):
            fastinit.normal_(np.zeros(4, other), dtype=dt)


def test_memmap_target(tmp_path):
    mm = np.memmap(tmp_path / "w.bin", dtype=np.float16, mode="w+", shape=(333, 77))
    fastinit.normal_(mm, std=0.02, seed=1)
    mm.flush()
    again = np.fromfile(tmp_path / "w.bin", dtype=np.float16).reshape(333, 77)
    assert np.array_equal(again, _full(fastinit.normal_, (0.0, 0.02), (333, 77), np.float16, seed=1, stream=0))


def test_streams_and_seeds_are_independent():
    base = _full(fastinit.uniform_, (), 10_000, np.float32, seed=1, stream=0)
    for seed, stream in [(2, 0), (1, 1), (1, "0"), (1, 2**32), (2**32, 0)]:
        other = _full(fastinit.uniform_, (), 10_000, np.float32, seed=seed, stream=stream)
        assert np.mean(other == base) < 0.01
        assert abs(np.corrcoef(base, other)[0, 1]) < 0.05


def test_str_stream_is_fixed_blake2b_hash():
    import hashlib
    number = int.from_bytes(hashlib.blake2b(b"encoder.layer.3.weight", digest_size=8).digest(), "little")
    a = _full(fastinit.normal_, (), 100, np.float32, stream="encoder.layer.3.weight")
    b = _full(fastinit.normal_, (), 100, np.float32, stream=number)
    assert np.array_equal(a, b)


def test_no_counter_wrap_past_2_to_32_and_2_to_40():
    # a small block placed past 2**32 and 2**40 elements of a virtual tensor, never allocated
    for start in (2**32 - 700, 2**40 + 3):
        gshape = (2**41 // 1024, 1024)
        off = (start // 1024, start % 1024)
        block = _full(fastinit.uniform_, (), (2, 1024 - off[1]), np.float32, global_shape=gshape, offset=off)
        low = _full(fastinit.uniform_, (), (2, 1024), np.float32)  # indices mod 2**32 would alias these
        assert np.mean(block[0] == low[0, off[1]:]) < 0.01
        # and the same elements reached through a different sharding agree
        row = _full(fastinit.uniform_, (), (1, 1024), np.float32, global_shape=gshape, offset=(off[0], 0))
        assert np.array_equal(block[0], row[0, off[1]:])


@pytest.mark.parametrize("chunk", [2**62, sys.maxsize, 2**63 - 50_000, 2**80])
def test_a_chunk_larger_than_any_buffer_is_one_chunk(chunk):
    """_chunk=sys.maxsize ("one chunk") overflowed the kernel's chunk count, which then filled nothing."""
    for fill in (lambda o, **k: fastinit.uniform_(o, seed=3, **k), lambda o, **k: fastinit.normal_(o, seed=3, **k),
                 lambda o, **k: fastinit.trunc_normal_(o, seed=3, **k)):
        want = fill(np.full(100_000, np.nan, np.float32))
        got = fill(np.full(100_000, np.nan, np.float32), _chunk=chunk)
        assert not np.isnan(got).any() and got.tobytes() == want.tobytes()
