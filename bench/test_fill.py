"""Throughput of 1e8-element fills: fastinit vs memset, numpy and torch, in one run (float32; float16
and bfloat16 on torch tensors).

Run:  python -m pytest bench -q --benchmark-group-by=group --benchmark-columns=min,mean,rounds
Compare the ``min`` column within each group: memset (``fastinit.benchmark.memset``, in every group of a whole buffer:
the C library's, on as many threads as fastinit's fill) is the memory-speed ceiling (the layout and row-slice groups
compare views' layouts, fastinit against torch or NumPy on the same view); the issue's goals are uniform >= 0.5x memset
and >= 3x numpy; normal >= 0.25x memset, >= 5x numpy and >= 3x torch.  ``FASTINIT_BENCH_N`` changes the size. Threads:
fastinit and torch on numba's thread count (conftest), NumPy's ``Generator`` on one (its fills have none).
"""
import numpy as np
import pytest

import fastinit
from conftest import N, SIZE, run
from fastinit.benchmark import FillCheck, memset

try:
    import torch
except ImportError:  # torch is optional: its rows are skipped
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")


@pytest.mark.benchmark(group=f"uniform f32 {SIZE}")
def test_memset_uniform_group(benchmark, buf32):
    run(benchmark, lambda: memset(buf32), elements=N)


@pytest.mark.benchmark(group=f"uniform f32 {SIZE}")
def test_fastinit_uniform(benchmark, buf32):
    run(benchmark, lambda: fastinit.uniform_(buf32, seed=1), elements=N, check=FillCheck.for_case("uniform_", buf32))


@pytest.mark.benchmark(group=f"uniform f32 {SIZE}")
def test_numpy_uniform(benchmark, buf32):
    g = np.random.default_rng(1)
    run(benchmark, lambda: g.random(out=buf32, dtype=np.float32), rounds=3, elements=N)


@needs_torch
@pytest.mark.benchmark(group=f"uniform f32 {SIZE}")
def test_torch_uniform(benchmark, buf32):
    t = torch.from_numpy(buf32)
    run(benchmark, lambda: t.uniform_(), rounds=3, elements=N)


@pytest.mark.benchmark(group=f"normal f32 {SIZE}")
def test_memset_normal_group(benchmark, buf32):
    run(benchmark, lambda: memset(buf32), elements=N)


@pytest.mark.benchmark(group=f"normal f32 {SIZE}")
def test_fastinit_normal(benchmark, buf32):
    run(benchmark, lambda: fastinit.normal_(buf32, seed=1), elements=N, check=FillCheck.for_case("normal_", buf32))


@pytest.mark.benchmark(group=f"normal f32 {SIZE}")
def test_numpy_normal(benchmark, buf32):
    g = np.random.default_rng(1)
    run(benchmark, lambda: g.standard_normal(out=buf32, dtype=np.float32), rounds=3, elements=N)


@needs_torch
@pytest.mark.benchmark(group=f"normal f32 {SIZE}")
def test_torch_normal(benchmark, buf32):
    t = torch.from_numpy(buf32)
    run(benchmark, lambda: t.normal_(), rounds=3, elements=N)


CONSTANTS = {"zeros": 0.0, "0.5": 0.5}


@pytest.mark.benchmark(group=f"constants f32 {SIZE}")
def test_memset_constants_group(benchmark, buf32):
    run(benchmark, lambda: memset(buf32), elements=N)


@pytest.mark.benchmark(group=f"constants f32 {SIZE}")
@pytest.mark.parametrize("stores", ["as shipped", "through the cache"])
@pytest.mark.parametrize("value", CONSTANTS)
def test_fastinit_constants(benchmark, buf32, monkeypatch, value, stores):
    """constant_ past the cache (non-temporal stores from 4x the last-level cache: 10^8 float32 on a CPU whose
    cache is under 100 MB), and forced through it (the plain stores of smaller buffers), in the same run."""
    from fastinit import _cpu

    if stores == "through the cache":
        monkeypatch.setattr(_cpu, "stream_bytes", lambda: 1 << 62)
    v = CONSTANTS[value]
    run(benchmark, lambda: fastinit.constant_(buf32, v), elements=N, check=FillCheck(buf32, "constant", value=v))


@pytest.mark.benchmark(group=f"constants f32 {SIZE}")
@pytest.mark.parametrize("value", CONSTANTS)
def test_numpy_constants(benchmark, buf32, value):
    run(benchmark, lambda: buf32.fill(CONSTANTS[value]), elements=N)


@needs_torch
@pytest.mark.benchmark(group=f"constants f32 {SIZE}")
@pytest.mark.parametrize("value", CONSTANTS)
def test_torch_constants(benchmark, buf32, value):
    t = torch.from_numpy(buf32)
    run(benchmark, lambda: t.fill_(CONSTANTS[value]), elements=N)


HALF_DTYPES = ["float16", "bfloat16"]  # float16 through the CPU's conversion instruction (docs/transforms.md)


@pytest.fixture(scope="module")
def half_tensors():
    """One resident 1e8-element tensor per 16-bit dtype (torch: NumPy has no bfloat16 and no float16 sampler)."""
    return {name: torch.zeros(N, dtype=getattr(torch, name)) for name in HALF_DTYPES}


@needs_torch
@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_memset_16bit(benchmark, half_tensors, dtype):
    benchmark.group = f"uniform / normal {dtype} {SIZE}"
    from fastinit.torch import as_numpy

    view = as_numpy(half_tensors[dtype])
    run(benchmark, lambda: memset(view), elements=view.size)


@needs_torch
@pytest.mark.parametrize("dtype", HALF_DTYPES)
@pytest.mark.parametrize("law", ["uniform_", "normal_"])
def test_fastinit_16bit(benchmark, half_tensors, dtype, law):
    import fastinit.torch as ft

    benchmark.group = f"uniform / normal {dtype} {SIZE}"
    t, fill = half_tensors[dtype], getattr(ft, law)
    run(benchmark, lambda: fill(t, seed=1), elements=t.numel(), check=FillCheck.for_case(law, t))


@needs_torch
@pytest.mark.parametrize("dtype", HALF_DTYPES)
@pytest.mark.parametrize("law", ["uniform_", "normal_"])
def test_torch_16bit(benchmark, half_tensors, dtype, law):
    benchmark.group = f"uniform / normal {dtype} {SIZE}"
    t = half_tensors[dtype]
    run(benchmark, getattr(t, law), rounds=3, elements=t.numel())


def _layouts(buf):
    """Views of the same memory in layouts whose rows are not contiguous (docs/performance.md, 2026-12-03):
    C order for reference, a transpose (rows of 1000, columns of stride 1: Fortran order), a narrow transpose
    (rows of 16), a channels_last stack of 256x3x3 conv kernels (rows of 3, `in` of stride 1), w[:, :16]; and
    (2026-12-04) rows of 3000 transposed (not a tile's multiple), HWIO kernels viewed as OIHW and a reversed 3-D
    array, whose axis of stride 1 is not one of the last two."""
    n = buf.size
    return {
        "C (n/1000, 1000)": buf[:n // 1000 * 1000].reshape(-1, 1000),
        "transposed (n/1000, 1000)": buf[:n // 1000 * 1000].reshape(1000, -1).T,
        "transposed (n/16, 16)": buf[:n // 16 * 16].reshape(16, -1).T,
        "channels_last (n/2304, 256, 3, 3)": np.moveaxis(buf[:n // 2304 * 2304].reshape(-1, 3, 3, 256), 3, 1),
        "[:, :16] of (n/64, 64)": buf[:n // 64 * 64].reshape(-1, 64)[:, :16],
        "transposed (n/3000, 3000)": buf[:n // 3000 * 3000].reshape(3000, -1).T,
        "HWIO as OIHW (n/2304, 256, 3, 3)": buf[:n // 2304 * 2304].reshape(3, 3, 256, -1).transpose(3, 2, 0, 1),
        "reversed (n/16384, 32, 512).T": buf[:n // 16384 * 16384].reshape(-1, 32, 512).T,
    }


LAYOUTS = list(_layouts(np.empty(0, np.float32)))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_fastinit_normal_layouts(benchmark, buf32, layout):
    benchmark.group = "normal f32 layouts (compare within a layout: elements differ)"
    view = _layouts(buf32)[layout]
    run(benchmark, lambda: fastinit.normal_(view, seed=1), elements=view.size,
        check=FillCheck(view, "normal", mean=0.0, std=1.0))  # (a fill that writes nothing fails; a review)


@needs_torch
@pytest.mark.parametrize("layout", LAYOUTS)
def test_torch_normal_layouts(benchmark, buf32, layout):
    benchmark.group = "normal f32 layouts (compare within a layout: elements differ)"
    view = torch.from_numpy(_layouts(buf32)[layout])  # the same strides
    run(benchmark, lambda: view.normal_(), rounds=3, elements=view.numel())


def _row_slices(buf):
    """Views whose rows are short contiguous runs (a constant's values have no place: stored in memory order, a
    row's part at a time), C order for reference."""
    n = buf.size
    return {
        "C (n/100, 100)": buf[:n // 100 * 100].reshape(-1, 100),
        "[:, 1:99] of (n/100, 100)": buf[:n // 100 * 100].reshape(-1, 100)[:, 1:99],
        "[:, :16] of (n/64, 64)": buf[:n // 64 * 64].reshape(-1, 64)[:, :16],
        "[:, :4] of (n/8, 8)": buf[:n // 8 * 8].reshape(-1, 8)[:, :4],
    }


ROW_SLICES = list(_row_slices(np.empty(0, np.float32)))


@pytest.mark.parametrize("layout", ROW_SLICES)
def test_fastinit_zeros_row_slices(benchmark, buf32, layout):
    benchmark.group = "zeros f32 row slices (compare within a layout: elements differ)"
    view = _row_slices(buf32)[layout]
    run(benchmark, lambda: fastinit.zeros_(view), elements=view.size, check=FillCheck(view, "constant", value=0.0))


@pytest.mark.parametrize("layout", ROW_SLICES)
def test_numpy_zeros_row_slices(benchmark, buf32, layout):
    benchmark.group = "zeros f32 row slices (compare within a layout: elements differ)"
    view = _row_slices(buf32)[layout]
    run(benchmark, lambda: view.fill(0), elements=view.size)


@needs_torch
@pytest.mark.parametrize("layout", ROW_SLICES)
def test_torch_zeros_row_slices(benchmark, buf32, layout):
    benchmark.group = "zeros f32 row slices (compare within a layout: elements differ)"
    view = torch.from_numpy(_row_slices(buf32)[layout])
    run(benchmark, view.zero_, elements=view.numel())


@pytest.mark.parametrize("law", ["normal", "trunc_normal"])
@pytest.mark.parametrize("width", [4096, 512, 64, 16])
def test_fastinit_column_shards(benchmark, buf32, law, width):
    """A column shard (a tensor-parallel rank's, a dask column chunk's) of an (n/4096, 4096) float32 matrix: its
    rows lie a generation tile or more apart in global index, so a narrow one costs more than its share; width 4096
    is the whole matrix (compare elements/s with it; docs/dask.md, docs/performance.md)."""
    benchmark.group = f"{law} f32 column shards of (n/4096, 4096) (compare elements/s with width 4096, the whole)"
    rows = buf32.size // 4096
    block = buf32[:rows * width].reshape(rows, width)
    fill = getattr(fastinit, law + "_")
    place = {"global_shape": (rows, 4096), "offset": (0, 0 if width == 4096 else 1000)}
    params = {"mean": 0.0, "std": 1.0} | ({"a": -2.0, "b": 2.0} if law == "trunc_normal" else {})
    run(benchmark, lambda: fill(block, seed=1, **place), elements=block.size, check=FillCheck(block, law, **params))


@pytest.mark.parametrize("law", ["uniform", "normal"])
@pytest.mark.parametrize("width", [768, 96, 16])
def test_fastinit_column_shards_of_a_narrow_matrix(benchmark, buf32, law, width):
    """A column shard of an (n/768, 768) float32 matrix (GPT-2's width; 96: a rank's of 8): its rows lie closer than
    a generation tile (1024 values), so a row takes its own blocks of the tile where they cost less than the tile's
    share of a row (``_cpu.part_costs``); width 768 is the whole matrix (compare elements/s with it)."""
    benchmark.group = f"{law} f32 column shards of (n/768, 768) (compare elements/s with width 768, the whole)"
    rows = buf32.size // 768
    block = buf32[:rows * width].reshape(rows, width)
    fill = getattr(fastinit, law + "_")
    place = {"global_shape": (rows, 768), "offset": (0, 0 if width == 768 else 300)}
    params = {"a": 0.0, "b": 1.0} if law == "uniform" else {"mean": 0.0, "std": 1.0}
    run(benchmark, lambda: fill(block, seed=1, **place), elements=block.size, check=FillCheck(block, law, **params))
