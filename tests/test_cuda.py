"""GPU path (fastinit._cuda) without a GPU: numba's CUDA simulator runs the kernels, bit for bit
against the CPU kernels.

The simulator must be switched on before numba.cuda is imported, and the rest of the suite shares
this process, so the simulated fills run in a child process (this file run as a script, with
``NUMBA_ENABLE_CUDASIM=1`` and ``NUMBA_DISABLE_JIT=1``: the kernels and the transforms they call
execute as Python on NumPy scalars) that saves the buffers; the parent fills the same buffers with
the compiled CPU kernels and compares the bits, inside and around every target (no stray write).
Targets are GPU-memory stand-ins: objects exporting ``__cuda_array_interface__`` over host memory,
which is what device memory is to the simulator.  Small sizes: the simulator runs each CUDA
thread as a Python thread.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import pathlib
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import types
import warnings

import ml_dtypes
import numpy as np
import pytest

import fastinit
from fastinit._buffers import CudaTarget, as_target, geometry, memory_geometry

HERE = pathlib.Path(__file__).resolve()
INF = float("inf")
BF16 = np.dtype(ml_dtypes.bfloat16)


class Device:
    """GPU-memory stand-in: an array's memory exported through ``__cuda_array_interface__`` (v3).
    bfloat16 is exported as uint16 (like torch's int16), so it needs ``dtype='bfloat16'``."""

    def __init__(self, a: np.ndarray, readonly: bool = False, stream=None):
        self.a = a
        bits = a.view(np.uint16) if a.dtype == BF16 else a
        ai = bits.__array_interface__
        self.__cuda_array_interface__ = {
            "shape": a.shape, "strides": None if a.flags.c_contiguous else a.strides, "typestr": ai["typestr"],
            "data": (ai["data"][0], readonly), "version": 3, "stream": stream}


# (name, dtype, base shape, view of the base, initializer, args, keywords)
CASES = [
    ("uniform_f32_tiles", "float32", (4100,), None, "uniform_", (-1.0, 2.0), {"seed": 5, "stream": "w"}),
    ("uniform_f64_2d", "float64", (33, 70), None, "uniform_", (0.0, 1.0), {"seed": 1}),
    ("uniform_bf16_cols", "bfloat16", (30, 200), lambda b: b[:, 1::3], "uniform_", (-0.1, 0.1), {"seed": 2}),
    ("uniform_f16_shard", "float16", (40, 48), None, "uniform_", (-3.0, 3.0),
     {"seed": 3, "global_shape": (64, 96), "offset": (8, 32)}),
    ("normal_f32_odd_offset", "float32", (2001,), None, "normal_", (0.5, 2.0),
     {"seed": 7, "stream": 9, "global_shape": (10000,), "offset": (1234,)}),
    ("normal_f64_transposed", "float64", (50, 24), lambda b: b.T, "normal_", (0.0, 1.0), {"seed": 8}),
    ("normal_bf16_reversed", "bfloat16", (20, 60), lambda b: b[::-1, ::2], "normal_", (0.0, 0.02), {"seed": 9}),
    ("normal_f16_3d_view", "float16", (5, 6, 40), lambda b: b[1:, :, ::2], "normal_", (1.0, 0.5), {"seed": 10}),
    ("normal_f32_past_2_32", "float32", (1000,), None, "normal_", (0.0, 1.0),
     {"seed": 11, "global_shape": (2**33,), "offset": (2**32 + 7,)}),
    ("trunc_f32_normal_proposal", "float32", (2000,), None, "trunc_normal_", (0.0, 1.0, -2.0, 2.0), {"seed": 5}),
    ("trunc_f64_normal_proposal", "float64", (40, 30), None, "trunc_normal_", (0.0, 1.0, -2.0, 2.0),
     {"seed": 12, "global_shape": (100, 30), "offset": (55, 0)}),
    ("trunc_f32_narrow", "float32", (1500,), None, "trunc_normal_", (0.0, 1.0, 0.5, 0.6), {"seed": 13}),
    ("trunc_f64_narrow", "float64", (700,), None, "trunc_normal_", (1.0, 2.0, 0.0, 0.3), {"seed": 14}),
    ("trunc_f32_right_tail", "float32", (1300,), None, "trunc_normal_", (0.0, 1.0, 3.0, INF), {"seed": 15}),
    ("trunc_f64_left_tail", "float64", (900,), None, "trunc_normal_", (0.0, 1.0, -INF, -4.0), {"seed": 16}),
    ("trunc_f32_far_tail", "float32", (600,), None, "trunc_normal_", (0.0, 1.0, 37.0, 38.0), {"seed": 17}),
    # the lowest acceptances: many positions need attempts 2, 3, ... (the CPU's vectorized passes over the rejects):
    # the exponential from the near bound of an interval just containing the mean (0.75), the normal and the
    # uniform proposals at their lowest (0.63, 0.69)
    ("trunc_f32_exp_proposal_straddling", "float32", (2000,), None, "trunc_normal_", (0.0, 1.0, -0.001, 2.6),
     {"seed": 23}),
    ("trunc_f64_exp_proposal_straddling", "float64", (800,), None, "trunc_normal_", (0.0, 1.0, -0.01, 2.49),
     {"seed": 24}),
    ("trunc_f32_normal_proposal_low", "float32", (2000,), None, "trunc_normal_", (0.0, 1.0, -0.36, 2.2),
     {"seed": 49}),
    ("trunc_f64_uniform_proposal_low", "float64", (800,), None, "trunc_normal_", (0.0, 1.0, -0.5, 1.9),
     {"seed": 50}),
    # the folded normal (one-sided, near the mean), both sides, with rejections ([0.2, 1.5]: acceptance 0.71)
    ("trunc_f32_folded", "float32", (1800,), None, "trunc_normal_", (0.0, 1.0, 0.2, 1.5), {"seed": 46}),
    ("trunc_f64_half_normal_left", "float64", (700,), None, "trunc_normal_", (1.0, 2.0, -INF, 1.0),
     {"seed": 47}),
    ("trunc_bf16_llm", "bfloat16", (48, 40), lambda b: b[:, 3:], "trunc_normal_", (0.0, 0.02, -0.04, 0.04),
     {"seed": 18}),
    ("trunc_f16_shard", "float16", (30, 20), None, "trunc_normal_", (0.0, 1.0, -1.0, 1.5),
     {"seed": 19, "global_shape": (90, 50), "offset": (31, 29)}),
    ("constant_f32", "float32", (300, 7), lambda b: b[:, ::2], "constant_", (0.1,), {}),
    ("constant_f64", "float64", (999,), None, "constant_", (-2.5,), {}),
    ("constant_f16", "float16", (17, 31), lambda b: b.T[:, ::2], "constant_", (3.14159,), {}),  # (strided: kernel)
    ("ones_bf16", "bfloat16", (1025,), None, "ones_", (), {}),
    ("zeros_f32", "float32", (12, 12), lambda b: b[::2], "zeros_", (), {}),
    ("kaiming_uniform_f32", "float32", (64, 33), None, "kaiming_uniform_", (), {"seed": 20}),
    ("xavier_normal_bf16_shard", "bfloat16", (16, 64), None, "xavier_normal_", (),
     {"seed": 21, "global_shape": (64, 128), "offset": (16, 64)}),
    ("variance_scaling_f64", "float64", (3, 5, 32), None, "variance_scaling_", (), {"seed": 22}),
    # the last tile of the index space, whose end (tile start + tile size) is 2**64: no wrap-around
    ("uniform_f32_last_tile", "float32", (8,), None, "uniform_", (0.0, 1.0),
     {"seed": 1, "global_shape": (2**64 - 1,), "offset": (2**64 - 9,)}),
    ("normal_f64_last_tile", "float64", (300,), None, "normal_", (0.0, 1.0),
     {"seed": 2, "global_shape": (2**64 - 1,), "offset": (2**64 - 301,)}),
    ("trunc_f32_last_tile", "float32", (5,), None, "trunc_normal_", (0.0, 1.0, 3.0, INF),
     {"seed": 3, "global_shape": (2**64 - 1,), "offset": (2**64 - 6,)}),
    ("uniform_bf16_last_rows", "bfloat16", (2, 300), None, "uniform_", (-1.0, 1.0),
     {"seed": 4, "global_shape": (2**32 - 1, 2**32 + 1), "offset": (2**32 - 3, 2**32 - 299)}),
    # the other fan-scaled samplers, and variance scaling's uniform and plain normal
    ("xavier_uniform_f16_transposed", "float16", (40, 24), lambda b: b.T, "xavier_uniform_", (), {"seed": 25}),
    ("lecun_uniform_bf16_reversed", "bfloat16", (16, 20), lambda b: b[:, ::-1], "lecun_uniform_", (), {"seed": 26}),
    ("lecun_normal_f32_shard", "float32", (16, 20), None, "lecun_normal_", (),
     {"seed": 27, "global_shape": (32, 40), "offset": (16, 7)}),
    ("fan_in_uniform_f64_rows", "float64", (16, 20), lambda b: b[::3], "fan_in_uniform_", (), {"seed": 28}),
    ("variance_scaling_uniform_f16", "float16", (8, 50), None, "variance_scaling_", (1.0, "fan_in", "uniform"),
     {"seed": 29}),
    ("variance_scaling_normal_bf16_cols", "bfloat16", (8, 60), lambda b: b[:, 5:55], "variance_scaling_",
     (2.0, "fan_out", "normal"), {"seed": 30}),
    ("relu_bias_bf16_strided", "bfloat16", (40,), lambda b: b[::2], "relu_bias_", (), {}),
    # the exponential proposal in the 16-bit formats (float32 compute, rounded to the storage format)
    ("trunc_bf16_exp_proposal", "bfloat16", (300,), None, "trunc_normal_", (0.0, 1.0, 2.5, 6.0), {"seed": 31}),
    ("trunc_f16_exp_proposal_left_reversed", "float16", (300,), lambda b: b[::-1], "trunc_normal_",
     (0.0, 1.0, -INF, -3.0), {"seed": 32}),
    # several rows of >= 256 columns (a tile's 256 units each: ushift == 8)
    ("trunc_f16_exp_rows_of_270", "float16", (3, 300), lambda b: b[:, 20:290], "trunc_normal_",
     (0.0, 1.0, 3.0, INF), {"seed": 33}),
    ("trunc_bf16_exp_rows_shard", "bfloat16", (3, 260), None, "trunc_normal_", (1.0, 0.5, 2.5, 4.0),
     {"seed": 34, "global_shape": (8, 400), "offset": (4, 70)}),
    ("trunc_f32_rows_of_600", "float32", (3, 700), lambda b: b[:, 50:650], "trunc_normal_", (0.0, 1.0, -2.0, 2.0),
     {"seed": 35}),
    # rows that all start at one place of a tile (global row length a multiple of the tile): each crosses exactly
    # the tiles the first does, 2 here, 1 in the second (_cuda._decoding)
    ("uniform_f32_tile_aligned_rows", "float32", (3, 300), None, "uniform_", (-1.0, 1.0),
     {"seed": 41, "global_shape": (8, 2048), "offset": (2, 900)}),
    ("normal_f64_rows_of_one_tile", "float64", (4, 512), None, "normal_", (0.0, 1.0),
     {"seed": 42, "global_shape": (4, 1024), "offset": (0, 512)}),
    # exactly MAX_DIMS = 8 axes that no merge can join (9 are refused: test_gpu_refuses_more_axes_...)
    ("uniform_f64_8_axes", "float64", (3,) * 8, lambda b: b[(slice(None, None, 2),) * 8], "uniform_", (-1.0, 1.0),
     {"seed": 36}),
    # host-staged initializers: the CPU twin's values, then one copy into the (strided) GPU target
    ("sparse_f32_transposed", "float32", (30, 20), lambda b: b.T, "sparse_", (0.3,), {"seed": 37, "std": 0.1}),
    ("sparse_bf16_shard", "bfloat16", (10, 20), None, "sparse_", (0.5,),
     {"seed": 38, "global_shape": (30, 40), "offset": (10, 20)}),
    ("martens_sparse_f64_cols", "float64", (20, 30), lambda b: b[:, ::2], "martens_sparse_", (), {"seed": 39, "k": 4}),
    ("dirac_f16_groups_reversed", "float16", (4, 6, 3, 3), lambda b: b[:, 1:5, ::-1], "dirac_", (2,), {}),
    ("delta_orthogonal_f32", "float32", (6, 4, 3, 3), None, "delta_orthogonal_", (1.5,), {"seed": 40}),
]
_HOST_STAGED = {"sparse_", "martens_sparse_", "dirac_", "delta_orthogonal_"}  # the cases' host-computed ones
_CODES = (2, 3, 1, 0)  # the storage codes (_cpu.F32, F64, BF16, F16): one kernel each


def _base(dtype: str, shape) -> np.ndarray:
    """A buffer of a sentinel bit pattern (any element the fill skips keeps it)."""
    dt = np.dtype(BF16 if dtype == "bfloat16" else dtype)
    return np.full(int(np.prod(shape)) * dt.itemsize, 0xA5, np.uint8).view(dt).reshape(shape)


def _fill(case, to_device: bool) -> np.ndarray:
    _, dtype, shape, view, fn, args, kw = case
    base = _base(dtype, shape)
    target = base if view is None else view(base)
    kw = dict(kw)
    if to_device:
        if dtype == "bfloat16":
            kw["dtype"] = "bfloat16"
        target = Device(target)
    getattr(fastinit, fn)(target, *args, **kw)
    return base


def _child(out_dir: str) -> None:
    """Simulated GPU fills of every case (run with NUMBA_ENABLE_CUDASIM=1), saved to out_dir."""
    from fastinit import _cuda

    assert _cuda.simulated()
    _cuda.THREADS_PER_BLOCK = 32  # several blocks, and many grid-stride rounds per thread
    _cuda.SIMULATOR_BLOCKS = 8  # (a grid of 256 threads at its cap: _cuda._run)
    out = {case[0]: _fill(case, to_device=True) for case in CASES}
    # host-computed initializers through host_staged, into strided GPU targets
    q = _base("float64", (40, 60))
    fastinit.orthogonal_(Device(q[:, 5:35]), 2.0, seed=3)
    out["host_staged_orthogonal"] = q
    e = _base("bfloat16", (30, 16))
    fastinit.eye_(Device(e[::2].view(np.uint16)), dtype="bfloat16")
    out["host_staged_eye"] = e
    p = _base("float32", (3, 8))
    fastinit.prior_bias_(Device(p[1]), [0.01, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99])
    out["host_staged_prior_bias"] = p
    r = _base("float64", (40, 60))  # negative strides: the copy starts at the view's first element, not the span's
    fastinit.orthogonal_(Device(r[::-1, 50:10:-2]), 2.0, seed=3)
    out["host_staged_orthogonal_reversed"] = r
    f = _base("float32", (12, 9))
    fastinit.eye_(Device(f[::-1, ::-1]))
    out["host_staged_eye_reversed"] = f
    errors = {}
    deep = _base("float32", (3,) * 9)[(slice(None, None, 2),) * 9]  # 9 axes no merge can join: one too many
    g, twin = fastinit.Generator(7), fastinit.Generator(7)
    try:
        fastinit.uniform_(Device(deep), generator=g)
    except ValueError as e:
        errors["too_many_axes"] = str(e)
    errors["too_many_axes_untouched"] = bool((deep.view(np.uint32) == 0xA5A5A5A5).all())
    errors["too_many_axes_drew_nothing"] = g.next_seed() == twin.next_seed()
    seen, put = [], _cuda._put_constant  # what the kernel stores a float32 constant from (the simulator runs Python)
    _cuda._put_constant = lambda dst, m, code, value: seen.append(float(value)) or put(dst, m, code, value)
    memsets, memset = [], _cuda._memset  # and what the driver's memset is asked for
    _cuda._memset = lambda *a: memsets.append(a[1:4]) or memset(*a)
    for name, v in (("constant_f32_nan", float("nan")), ("constant_f32_neg_nan", -float("nan")),
                    ("constant_f32_third", 1 / 3)):
        out[name] = _base("float32", (140,))
        fastinit.constant_(Device(out[name][::2]), v)  # strided: the kernel
        out[name + "_memset"] = _base("float32", (5, 14))
        fastinit.constant_(Device(out[name + "_memset"][1:]), v)  # one contiguous run: the memset
    _cuda._put_constant = put
    errors["f32_constant_params"] = sorted(set(seen))
    memsets.clear()
    for name, dtype, fill in (("memset_zeros_f64", "float64", fastinit.zeros_),
                              ("memset_ones_f16_fortran", "float16", fastinit.ones_),
                              ("memset_ones_bf16", "bfloat16", fastinit.ones_),
                              ("kernel_ones_f64", "float64", fastinit.ones_)):
        out[name] = _base(dtype, (6, 10))
        view = out[name][1:5].T if "fortran" in name else out[name][1:5]  # memory order contiguous either way
        fill(Device(view), **({"dtype": "bfloat16"} if dtype == "bfloat16" else {}))
    _cuda._memset = memset
    errors["memsets"] = memsets
    np.savez(os.path.join(out_dir, "sim.npz"), **{k: v.view(np.uint8) for k, v in out.items()})
    with open(os.path.join(out_dir, "errors.json"), "w") as f:
        json.dump(errors, f)


def _run_child(args, env_extra: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=_child_env(env_extra), capture_output=True, text=True,
                          timeout=timeout, check=False)


def _start_child(args, env_extra: dict) -> subprocess.Popen:
    """:func:`_run_child` started, not waited for (stdout and stderr piped, as text)."""
    return subprocess.Popen([sys.executable, *args], env=_child_env(env_extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """{case name: the simulator's buffer (bytes)}, and the errors it recorded."""
    pytest.importorskip("numba_cuda")
    out = tmp_path_factory.mktemp("cudasim")
    # -W error: the simulator's NumPy scalars had warned where the kernels' uint64 arithmetic wraps (a strided view,
    # a shard starting inside a tile), and failed such fills part-written in a suite run with filterwarnings=error
    r = _run_child([str(HERE), "--child", str(out)], {"NUMBA_ENABLE_CUDASIM": "1", "NUMBA_DISABLE_JIT": "1",
                                                       "PYTHONWARNINGS": "error::RuntimeWarning"})
    assert r.returncode == 0, r.stdout + r.stderr
    with np.load(out / "sim.npz") as z:
        bufs = {k: z[k] for k in z.files}
    return bufs, json.loads((out / "errors.json").read_text())


def test_gpu_launch_hands_cuda_core_the_parameters_numbas_launch_would():
    """On a GPU, fastinit launches the kernels' cubins through cuda.core directly (numba-cuda's dispatcher marshals
    each of the 56 parameters in Python, a third of a small fill's time).  The parameters must be what numba-cuda's
    own launch hands cuda.core, byte for byte: checked without a GPU, by packing both lists as cuda.core packs them
    for the driver, for the fill, truncated-normal and scatter kernels (driver, compile and cubin stood in for); and
    the stream each runs on is the target's CAI stream (absent: 0, the legacy and per-thread default streams 1 and 2
    are CU_STREAM_LEGACY and CU_STREAM_PER_THREAD, else a cudaStream_t)."""
    pytest.importorskip("numba_cuda")
    r = _run_child([str(HERE), "--abi-child", ""], {})
    assert r.returncode == 0, r.stdout + r.stderr
    # kernel, parameters, grid, the stream handle of the target's CAI stream (absent, 1, 2, a pointer); the truncated
    # normal's 14 rows of 40: 2 tiles' slots a row (nshift 1), 64 units' a tile (ushift 6), 28 * 64 items, 7 blocks
    assert r.stdout.split() == ["_fill", "56", "3", "0", "_fill_trunc", "56", "7", "1", "_scatter", "40", "1", "2",
                                "_fill", "56", "1", str(0xABC0),
                                # a memset: word width, the word, words, stream; what cuda.bindings made of them
                                "memset", "4", str(0x7FC00000), "300", str(0xABC0), "converted",
                                "memset", "2", str(0x3F80), "21", "2", "converted"]


def test_float32_constants_reach_the_kernel_as_the_cpus_bits(simulated):
    """A device conversion from float64 makes every NaN the canonical 0x7fffffff (PTX cvt), so the host hands
    the float32 target's bits to the kernel, converted as the CPU converts them (NaN payload and sign kept)."""
    bufs, errors = simulated
    bits = {"constant_f32_nan": 0x7FC00000, "constant_f32_neg_nan": 0xFFC00000,
            "constant_f32_third": int(np.float32(1 / 3).view(np.uint32))}
    assert errors["f32_constant_params"] == sorted(float(b) for b in bits.values())
    for name, b in bits.items():
        kernel, memset = bufs[name].view(np.uint32), bufs[name + "_memset"].view(np.uint32).reshape(5, 14)
        assert (kernel[::2] == b).all() and (kernel[1::2] == 0xA5A5A5A5).all(), name
        assert (memset[1:] == b).all() and (memset[0] == 0xA5A5A5A5).all(), name
        assert (fastinit.constant_(np.empty(70, np.float32), {"constant_f32_nan": float("nan"),
                "constant_f32_neg_nan": -float("nan")}.get(name, 1 / 3)).view(np.uint32) == b).all()


def test_contiguous_constants_are_the_drivers_memset(simulated):
    """A constant whose storage is one repeated 32- or 16-bit word, over one contiguous run of memory (in memory
    order: a transposed or Fortran-order target too), is the driver's cuMemsetD32Async / cuMemsetD16Async (a
    memset's speed; the simulator writes the words itself); a float64 with unequal halves (1.0) is the kernel's."""
    bufs, errors = simulated
    assert errors["memsets"] == [[0, 4, 80], [0x3C00, 2, 40], [0x3F80, 2, 40]]  # (word, bytes, words)
    for name, dtype, value in (("memset_zeros_f64", "float64", 0.0), ("memset_ones_f16_fortran", "float16", 1.0),
                               ("memset_ones_bf16", "bfloat16", 1.0), ("kernel_ones_f64", "float64", 1.0)):
        want = _base(dtype, (6, 10))
        want[1:5] = value
        assert np.array_equal(bufs[name], want.view(np.uint8)), name


@pytest.mark.filterwarnings("ignore:mean is more than 2 std")
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_cpu_matches_cuda_bitwise(simulated, case):
    cpu = _fill(case, to_device=False)
    gpu = simulated[0][case[0]]
    assert gpu.shape == cpu.view(np.uint8).shape
    diff = np.flatnonzero(gpu.reshape(-1) != cpu.view(np.uint8).reshape(-1))
    assert diff.size == 0, f"{case[0]}: {diff.size} bytes differ, first at byte {diff[:5]}"


def test_host_staged_initializers_copy_the_cpu_values_into_gpu_memory(simulated):
    q = _base("float64", (40, 60))
    fastinit.orthogonal_(q[:, 5:35], 2.0, seed=3)
    assert np.array_equal(simulated[0]["host_staged_orthogonal"], q.view(np.uint8))
    e = _base("bfloat16", (30, 16))
    fastinit.eye_(e[::2])
    assert np.array_equal(simulated[0]["host_staged_eye"], e.view(np.uint8))
    p = _base("float32", (3, 8))
    fastinit.prior_bias_(p[1], [0.01, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99])
    assert np.array_equal(simulated[0]["host_staged_prior_bias"], p.view(np.uint8))
    r = _base("float64", (40, 60))
    fastinit.orthogonal_(r[::-1, 50:10:-2], 2.0, seed=3)
    assert np.array_equal(simulated[0]["host_staged_orthogonal_reversed"], r.view(np.uint8))
    f = _base("float32", (12, 9))
    fastinit.eye_(f[::-1, ::-1])
    assert np.array_equal(simulated[0]["host_staged_eye_reversed"], f.view(np.uint8))


def test_gpu_refuses_more_axes_than_it_indexes_before_any_write(simulated):
    errors = simulated[1]
    assert "at most 8 axes" in errors["too_many_axes"] and "this one has 9:" in errors["too_many_axes"]
    assert errors["too_many_axes_untouched"]
    assert errors["too_many_axes_drew_nothing"]  # refused before the generator gave a seed


def test_structural_cases_have_the_layout_they_name():
    """The cases at the kernels' limits keep their layout: 8 axes after merging (MAX_DIMS, accepted; its
    values are compared in test_cpu_matches_cuda_bitwise), rows of >= 256 columns (ushift == 8), rows that all start
    at one place of a tile (2 tiles a row: nshift 1; 1: nshift 0), and a constant the fill kernel stores in every
    storage format (not the driver's memset, which contiguous constants take)."""
    pytest.importorskip("numba_cuda")
    from fastinit import _cuda

    cases = {c[0]: c for c in CASES}

    def geom(name, memory=False):
        _, dtype, shape, view, _, _, kw = cases[name]
        base = _base(dtype, shape)
        target = as_target(base if view is None else view(base))
        return memory_geometry(target) if memory else geometry(target, kw.get("global_shape"), kw.get("offset"))

    assert tuple(geom("uniform_f64_8_axes").shape) == (2,) * 8
    assert tuple(geom("trunc_f16_exp_rows_of_270").shape) == (3, 270)
    assert tuple(geom("trunc_bf16_exp_rows_shard").shape) == (3, 260)
    assert tuple(geom("trunc_f32_rows_of_600").shape) == (3, 600)
    assert _cuda._decoding(geom("uniform_f32_tile_aligned_rows"), 1024) == (1, 8, ((2 << 1) + 2) << 8)
    assert _cuda._decoding(geom("normal_f64_rows_of_one_tile"), 512) == (0, 8, 4 << 8)
    for name in ("constant_f32", "constant_f16", "zeros_f32", "relu_bias_bf16_strided"):  # strided in memory
        assert not _cuda._one_run(geom(name, memory=True)), name
    assert _cuda._one_run(geom("constant_f64", memory=True)) and _cuda._memset_word(_cuda.F64, -2.5) is None


@pytest.mark.parametrize("layout", ["rows_of_1000_in_1024", "aligned_column_shard", "unaligned_shard", "narrow_rows",
                                    "one_column", "3d_view", "strided_run", "contiguous_shard"])
def test_gpu_work_items_cover_every_element_once(layout):
    """The kernels' work items (``_cuda._decoding``: shifts, no division), each decoded by ``_cuda._locate`` as the
    kernels decode it (run here on the CPU), store every element of the target exactly once, at its memory
    position, with its global index's value slot; no item stores outside the target."""
    pytest.importorskip("numba_cuda")
    from fastinit import _cuda

    base, view, where = {
        "rows_of_1000_in_1024": ((9, 1024), lambda b: b[:, :1000], {}),
        "aligned_column_shard": ((5, 1024), None, {"global_shape": (5, 4096), "offset": (0, 1024)}),
        "unaligned_shard": ((4, 700), None, {"global_shape": (9, 3000), "offset": (3, 1500)}),
        "narrow_rows": ((40, 48), lambda b: b[:, 3:36], {"global_shape": (64, 33), "offset": (8, 0)}),  # 2**5 + 1
        "one_column": ((30, 8), lambda b: b[:, 5:6], {}),
        "3d_view": ((5, 6, 40), lambda b: b[1:, :, ::3], {}),
        "strided_run": ((3000,), lambda b: b[::-3], {"global_shape": (5000,), "offset": (17,)}),
        "contiguous_shard": ((2500,), None, {"global_shape": (9000,), "offset": (1500,)}),
    }[layout]
    a = np.zeros(base, np.float32)
    target = as_target(a if view is None else view(a))
    geom = geometry(target, where.get("global_shape"), where.get("offset"))
    local = np.indices(target.shape).reshape(len(target.shape), -1)
    gshape, off = geom.global_shape, where.get("offset", (0,) * len(target.shape))
    want = set(zip(np.ravel_multi_index(tuple(local + np.array(off)[:, None]), gshape).tolist(),
                   (target.mbase + np.array(target.mstride) @ local).tolist()))
    for tile in (256, 512, 1024):  # 1, 2 and 4 values a block
        nshift, ushift, work = _cuda._decoding(geom, tile)
        shape, gstride, mstride, ndim, gbase, mbase = _cuda._geometry_args(geom)
        run = ndim == 1 and mstride[0] == 1
        assert run == (layout == "contiguous_shard")
        stored = []
        for w in range(work):
            blk, q, qn, m, step = _cuda._locate(np.int64(w), run, ndim, shape, gstride, mstride, gbase, mbase,
                                                shape[ndim - 1], mstride[ndim - 1], np.uint64(tile.bit_length() - 1),
                                                np.int64(nshift), np.int64(ushift))
            t, j = divmod(int(blk), 256)
            stored += [(t * tile + s * 256 + j, int(m + s * step)) for s in range(tile // 256) if 0 <= q + s * 256 < qn]
        assert len(stored) == len(want) and set(stored) == want, (layout, tile)


def test_a_staged_buffer_outlives_its_kernel_under_an_external_memory_manager():
    """A host-computed initializer's values reach a strided GPU target through a device buffer its scatter kernel
    reads.  numba-cuda's allocator frees memory only once the device is done with it; an external memory manager
    (an EMM plugin: RMM's stream-ordered pool) works in its own stream's order, so then the device is synchronized
    before the buffer is staged on the target's stream, and that stream before the buffer is let go (GPU stood in
    for)."""
    pytest.importorskip("numba_cuda")
    out = _stand_in_child("events = []\n"
                          "class Buffer:\n"
                          "    def __del__(self): events.append('free')\n"
                          "_stand_in_gpu(lambda *a: events.append('launch'), sms=1)\n"
                          "_cuda._staged = lambda src, stream: events.append('stage') or (Buffer(), 0xD00D0000)\n"
                          "_cuda._synchronize = lambda stream: events.append(f'sync {stream}')\n"
                          "for external in (False, True):\n"
                          "    _cuda._frees_in_device_order = lambda: not external\n"
                          "    fastinit.eye_(Device(np.zeros((6, 5), np.float32).T, stream=0xABC0))\n"
                          "    print(' '.join(events)); events.clear()\n")
    assert out == ["stage launch free", f"sync None stage launch sync {0xABC0} free"]


def _stand_in_child(body: str) -> list[str]:
    """The output lines of ``body`` run in a child process with numpy as np, fastinit, its _cuda, contextlib, and
    this module's Device and _stand_in_gpu imported (a stand-in GPU changes the module for good: a process of its
    own)."""
    code = ("import contextlib, sys, numpy as np, fastinit\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "from test_cuda import Device, _stand_in_gpu\n"
            "from fastinit import _cuda\n" + body)
    r = _run_child(["-c", code, str(HERE.parent)], {})
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_a_fill_makes_its_device_current_once():
    """A fill switches to its target's device for the launch (or memset) only; making the kernel ready does it too,
    on a device's first fill of a kind (numba-cuda's context push and pop are Python; GPU stood in for)."""
    pytest.importorskip("numba_cuda")
    out = _stand_in_child(
        "_stand_in_gpu(lambda *a: None, sms=1)\n"
        "entered = []\n"
        "_cuda._on_device = lambda ordinal: entered.append(ordinal) or contextlib.nullcontext()\n"
        "_cuda._ordinal = lambda target: 3\n"
        "for fill in (fastinit.uniform_, fastinit.uniform_, fastinit.normal_, fastinit.zeros_):\n"
        "    fill(Device(np.zeros(1000, np.float32)), **({} if fill is fastinit.zeros_ else {'seed': 1}))\n"
        "    print(*entered); entered.clear()\n")
    assert out == ["3 3", "3", "3", "3"]  # (normal_ shares uniform_'s ready kernel)


def test_only_numba_cudas_own_allocator_frees_in_device_order(monkeypatch):
    pytest.importorskip("numba_cuda")
    from numba.cuda.cudadrv import driver

    from fastinit import _cuda

    class Pool(driver.NumbaCUDAMemoryManager):  # a plugin built on numba-cuda's manager: not known to wait
        pass

    for manager, waits in ((driver.NumbaCUDAMemoryManager, True), (Pool, False)):
        context = types.SimpleNamespace(memory_manager=object.__new__(manager))
        monkeypatch.setattr(_cuda.cuda, "current_context", lambda: context)
        assert _cuda._frees_in_device_order() is waits, manager


def test_kernels_are_built_without_link_time_optimization_and_bound_under_fma0():
    """numba-cuda links with LTO wherever nvJitLink loads (torch's CUDA wheels ship it), and that link
    contracts FMAs whatever -fma=0 said: fastinit's kernels must be built with ``lto=False`` (and not as debug
    builds, whose exception flag only numba-cuda's own launch reads)."""
    pytest.importorskip("numba_cuda")
    # also: the cubin a launch loads is built (bind) inside _ieee_nvvm, once per compute capability
    code = ("import contextlib, types\n"
            "from fastinit import _cuda\n"
            "seen, ieee = [], [False]\n"
            "@contextlib.contextmanager\n"
            "def fma0():\n"
            "    ieee[0] = True\n"
            "    yield\n"
            "    ieee[0] = False\n"
            "dev = types.SimpleNamespace(compute_capability=(9, 0))\n"
            "kernel = lambda: types.SimpleNamespace(bind=lambda: seen.append(('bind', ieee[0])))\n"
            "def jit(fn, cache, **kw):\n"
            "    seen.append({'cache': cache, **kw})\n"
            "    d = types.SimpleNamespace(overloads={}, disable_compile=lambda: None)\n"
            "    d.compile = lambda argtypes: d.overloads.setdefault(argtypes, kernel())\n"
            "    return d\n"
            "_cuda.cuda = types.SimpleNamespace(get_current_device=lambda: dev, jit=jit)\n"
            "_cuda.simulated = lambda: False\n"
            "_cuda._ieee_nvvm = fma0\n"
            "_cuda._kernel(_cuda._fill, _cuda.F32); _cuda._kernel(_cuda._fill_trunc, _cuda.BF16)\n"
            "_cuda._kernel(_cuda._fill, _cuda.F32)\n"  # cached: no second bind
            "dev.compute_capability = (8, 0); _cuda._kernel(_cuda._fill, _cuda.F32)\n"  # another cc: bound again
            "print(seen)")
    r = _run_child(["-c", code], {})
    assert r.returncode == 0, r.stderr
    jit = "{'cache': True, 'lto': False, 'debug': False, 'opt': True}"
    assert r.stdout.strip() == f"[{jit}, ('bind', True), {jit}, ('bind', True), ('bind', True)]"


def test_gpu_kernels_compile_uncached_where_no_cache_folder_is_writable():
    """numba-cuda refuses cache=True at decoration where no cache locator applies (a read-only package folder
    and home, no NUMBA_CACHE_DIR): the kernel is compiled uncached, with the CPU kernels' one warning."""
    pytest.importorskip("numba_cuda")
    code = ("import types, warnings\n"
            "from fastinit import _cuda, _jit\n"
            "def jit(fn, cache, **kw):\n"
            "    if cache:\n"
            "        raise RuntimeError(\"cannot cache function '_fill': no locator available for file 'x'\")\n"
            "    d = types.SimpleNamespace(overloads={}, disable_compile=lambda: None)\n"
            "    d.compile = lambda argtypes: d.overloads.setdefault(argtypes, types.SimpleNamespace(bind=lambda: 0))\n"
            "    return d\n"
            "dev = types.SimpleNamespace(compute_capability=(9, 0))\n"
            "_cuda.cuda = types.SimpleNamespace(get_current_device=lambda: dev, jit=jit)\n"
            "_cuda.simulated = lambda: False\n"
            "warnings.simplefilter('always')\n"
            "with warnings.catch_warnings(record=True) as seen:\n"
            "    _cuda._kernel(_cuda._fill, _cuda.F32)\n"
            "print(sum(\"numba cannot cache fastinit's compiled kernels\" in str(w.message) for w in seen),"
            " _jit.UNCACHED)")
    r = _run_child(["-c", code], {})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "1 ['_fill']"


def test_torch_cuda_tensors_with_the_negative_bit_are_refused_before_the_gpu_is_asked():
    torch = pytest.importorskip("torch")
    import fastinit.torch as finit

    class FakeCuda(torch.Tensor):
        @property
        def device(self):
            return torch.device("cuda", 0)

    t = torch._neg_view(torch.full((8,), 3.0)).as_subclass(FakeCuda)
    assert t.is_neg() and t.device.type == "cuda"
    with pytest.raises(TypeError, match="negative bit"):
        finit.uniform_(t, seed=0)
    # a CPU generator for a CUDA tensor: torch's RuntimeError, before anything is drawn or asked of the GPU
    g = torch.Generator().manual_seed(1)
    state = g.get_state()
    u = torch.full((8,), 3.0).as_subclass(FakeCuda)
    for call in (lambda: finit.normal_(u, generator=g), lambda: finit.uniform_(u, 2.0, 2.0, generator=g),
                 lambda: finit.kaiming_uniform_(u.reshape(2, 4).as_subclass(FakeCuda), generator=g)):
        with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator but found 'cpu'"):
            call()
    assert torch.equal(g.get_state(), state) and (u.as_subclass(torch.Tensor) == 3).all()
    with pytest.warns(UserWarning, match="zero-element"):  # torch warns and returns before it reads the device
        finit.kaiming_uniform_(torch.empty(0, 4).as_subclass(FakeCuda), generator=g)
    assert (t.as_subclass(torch.Tensor).resolve_neg() == -3.0).all()


def test_torch_cuda_tensors_route_to_the_gpu_kernels_on_the_current_stream(tmp_path):
    """fastinit.torch with CUDA tensors (simulated: a CPU tensor subclass that reports a CUDA device and
    exports its memory through __cuda_array_interface__) gives the CPU tensors' values, for sampling
    (GPU kernels, bfloat16 through int16 storage; strided views and shards) and host-computed
    initializers (one copy), and writes nothing around a view (every byte of the base is compared)."""
    pytest.importorskip("torch")
    pytest.importorskip("numba_cuda")
    r = _run_child([str(HERE), "--torch-child", str(tmp_path)], {"NUMBA_ENABLE_CUDASIM": "1", "NUMBA_DISABLE_JIT": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    import torch

    import fastinit.torch as finit

    with np.load(tmp_path / "torch.npz") as z:
        got = {k: z[k] for k in z.files}
    # the 7 + 2 sampling fills and the 6 host-computed copies ran on torch's current (default) stream, exported as
    # CAI v3's legacy default 1
    assert got["streams"].tolist() == [1] * 15
    for name, make in _torch_cases(torch, finit) + _core_torch_cases(torch):
        assert np.array_equal(got[name], _torch_fill(torch, make, lambda base: base).numpy()), name
    # an unseeded fill draws from the tensor's device's generator (torch.nn.init's), here the same seed as the CPU's
    assert got["drawn_on"].tolist() == ["cuda:0"]
    torch.manual_seed(5)
    assert np.array_equal(got["unseeded"], _torch_fill(torch, lambda new: finit.normal_(new(64, dtype=torch.float32)),
                                                       lambda base: base).numpy())


def _torch_fill(torch, make, wrap):
    """Run a case on a fresh tensor of the sentinel bit pattern (as _base; ``wrap`` turns it into the
    tensor the case gets): that base's bytes after the fill."""
    bases = []

    def new(*shape, dtype):
        n = int(np.prod(shape)) * torch.empty((), dtype=dtype).element_size()
        bases.append(torch.full((n,), 0xA5, dtype=torch.uint8).view(dtype).reshape(shape))
        return wrap(bases[-1])

    make(new)
    (base,) = bases
    return base.view(torch.uint8)


def _torch_cases(torch, finit):
    return [
        ("uniform_bf16", lambda new: finit.uniform_(new(64, 40, dtype=torch.bfloat16), -1, 1, seed=1)),
        ("kaiming_normal_f32", lambda new: finit.kaiming_normal_(new(48, 32, dtype=torch.float32), seed=2)),
        ("trunc_normal_f16", lambda new: finit.trunc_normal_(new(100, dtype=torch.float16), std=0.5, seed=3)),
        ("zeros_f64", lambda new: finit.zeros_(new(9, 9, dtype=torch.float64))),
        ("orthogonal_f32", lambda new: finit.orthogonal_(new(20, 30, dtype=torch.float32), seed=4)),
        ("eye_bf16", lambda new: finit.eye_(new(5, 7, dtype=torch.bfloat16))),
        # non-contiguous views, a tensor-parallel shard, and host-staged initializers (into views too)
        ("normal_bf16_transposed", lambda new: finit.normal_(new(40, 24, dtype=torch.bfloat16).T, 0.0, 0.02, seed=9)),
        ("uniform_f32_cols", lambda new: finit.uniform_(new(30, 50, dtype=torch.float32)[:, 3::2], -1, 1, seed=10)),
        ("trunc_normal_f16_shard", lambda new: finit.trunc_normal_(new(20, 30, dtype=torch.float16), std=0.5, seed=11,
                                                                   global_shape=(40, 60), offset=(20, 30))),
        ("sparse_f32_rows", lambda new: finit.sparse_(new(40, 16, dtype=torch.float32)[::2], 0.25, seed=12)),
        ("dirac_bf16", lambda new: finit.dirac_(new(4, 4, 3, dtype=torch.bfloat16))),
        ("delta_orthogonal_f64_transposed",
         lambda new: finit.delta_orthogonal_(new(4, 6, 3, 3, dtype=torch.float64).transpose(0, 1), seed=13)),
    ]


def _core_torch_cases(torch):
    """fastinit's own functions on torch tensors (parameters: they require grad, for which torch's
    __cuda_array_interface__ raises)."""
    return [
        ("core_kaiming_bf16", lambda new: fastinit.kaiming_uniform_(new(32, 24, dtype=torch.bfloat16), seed=5)),
        ("core_normal_f32", lambda new: fastinit.normal_(new(50, dtype=torch.float32), std=0.1, seed=6)),
        ("core_orthogonal_f64", lambda new: fastinit.orthogonal_(new(6, 9, dtype=torch.float64), seed=7)),
    ]


def _torch_child(out_dir: str) -> None:
    import torch

    import fastinit.torch as finit
    from fastinit import _cuda

    streams = []
    stream_of = _cuda._stream
    _cuda._stream = lambda cai_stream: streams.append(cai_stream) or stream_of(cai_stream)

    class FakeCuda(torch.Tensor):
        @property
        def device(self):
            return torch.device("cuda", 0)

        @property
        def __cuda_array_interface__(self):
            if self.requires_grad:  # as torch's own
                raise RuntimeError("Can't get __cuda_array_interface__ on Variable that requires grad.")
            a = self.detach().as_subclass(torch.Tensor).numpy()
            return Device(a).__cuda_array_interface__

    torch.cuda.current_stream = lambda device=None: types.SimpleNamespace(cuda_stream=0)  # the default stream
    out = {}
    for name, make in _torch_cases(torch, finit):
        out[name] = _torch_fill(torch, make, lambda b: b.as_subclass(FakeCuda)).numpy()
    for name, make in _core_torch_cases(torch):
        out[name] = _torch_fill(torch, make, lambda b: b.as_subclass(FakeCuda).requires_grad_()).numpy()
    sampled = len(streams)
    drawn, randint = [], torch.randint  # CPU torch has no CUDA generator: record the device, draw on the CPU
    torch.randint = lambda *a, device=None, **k: drawn.append(str(device)) or randint(*a, **k)
    torch.manual_seed(5)
    out["unseeded"] = _torch_fill(torch, lambda new: finit.normal_(new(64, dtype=torch.float32)),
                                  lambda b: b.as_subclass(FakeCuda)).numpy()
    torch.randint = randint
    np.savez(os.path.join(out_dir, "torch.npz"), streams=np.array(streams[:sampled]), drawn_on=np.array(drawn), **out)


def _bench_child(out_dir: str) -> None:
    """``fastinit bench --device cuda``'s run (run_bench_cuda) in the simulator, on device arrays that export their
    memory (the simulator's own export none); FillCheck on a GPU buffer planted, checked and failed."""
    from numba import cuda
    from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

    from fastinit import _cuda, benchmark

    _cuda.SIMULATOR_BLOCKS = 2

    class Exported(FakeCUDAArray):
        @property
        def __cuda_array_interface__(self):
            return Device(self._ary).__cuda_array_interface__

    cuda.device_array = lambda shape, dtype: Exported(np.empty(shape, dtype))
    cuda.get_current_device = lambda: types.SimpleNamespace(name=b"Simulated H200")  # the driver's bytes
    out = {}
    names = ["constant_", "uniform_", "normal_", "trunc_normal_"]
    report = benchmark.run_bench_cuda(names, ["float16", "float32", "float64"], 2000, 1, show_progress=False)
    out["rows"] = [(r["initializer"], r["dtype"], r["elements"]) for r in report["results"]]
    out["table"] = benchmark.format_table(report)
    real_fill = benchmark.fastinit_fill
    benchmark.fastinit_fill = lambda name, buf, seed=1: lambda: None  # a fill that writes nothing
    try:
        benchmark.run_bench_cuda(["normal_"], ["float32"], 2000, 1, show_progress=False)
    except benchmark.FillCheckError as e:
        out["no_write"] = str(e)
    benchmark.fastinit_fill = real_fill
    host = np.zeros(3000, np.float32)
    check = benchmark.FillCheck(Device(host), "uniform", a=-1.0, b=1.0)
    check.plant()
    out["planted"] = [int(np.isnan(host).sum()), int(check.spots.size), bool(np.isnan(host[check.spots]).all())]
    fastinit.uniform_(Device(host), -1.0, 1.0, seed=3)
    check.verify()
    check.plant()
    host[:] = 5.0
    try:
        check.verify()
    except benchmark.FillCheckError as e:
        out["off_law"] = str(e)
    odd = types.SimpleNamespace(__cuda_array_interface__={  # a size-1 axis with another stride: C-contiguous still
        **Device(host[:64].reshape(64, 1)).__cuda_array_interface__, "strides": (4, 8)})
    out["size_one_axis"] = benchmark.FillCheck(odd, "uniform", a=-1.0, b=1.0).gpu.shape
    for bad, law in ((host[::2], "uniform"), (host.reshape(60, 50), "orthogonal")):
        try:
            benchmark.FillCheck(Device(bad), law, a=0.0, b=1.0)
        except ValueError as e:
            out.setdefault("refused", []).append(str(e))
    with open(os.path.join(out_dir, "bench.json"), "w") as f:
        json.dump(out, f)


def test_gpu_bench_checks_what_each_timed_fill_wrote(tmp_path):
    """run_bench_cuda (what gpu_check.sh runs on a real GPU) in the simulator: every row's timed fill is checked
    (NaN sentinels, then its law on 16 slices), a fill that writes nothing fails the run; GPU buffers are checked
    through flat slices (contiguous only) for the elementwise laws only."""
    pytest.importorskip("numba_cuda")
    r = _run_child([str(HERE), "--bench-child", str(tmp_path)], {"NUMBA_ENABLE_CUDASIM": "1", "NUMBA_DISABLE_JIT": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads((tmp_path / "bench.json").read_text())
    assert out["rows"] == [[n, d, 2000] for d in ("float16", "float32", "float64")
                           for n in ("constant_", "uniform_", "normal_", "trunc_normal_")]
    assert "GPU Simulated H200" in out["table"] and "not measured on the GPU" not in out["table"]
    assert "normal_ fill of float32 (2000,) left" in out["no_write"] and "NaN sentinels" in out["no_write"]
    assert out["planted"][0] == out["planted"][1] > 200 and out["planted"][2]
    assert "uniform fill of float32 (3000,) wrote values off its law" in out["off_law"]
    assert out["size_one_axis"] == [64, 1]
    assert "C-contiguous GPU array is needed" in out["refused"][0] and "host buffers only" in out["refused"][1]


def test_fill_check_reads_torch_tensors_through_flat_slices():
    """The torch branch of FillCheck's GPU access (a CUDA tensor's, here on a CPU tensor: the same torch calls)."""
    torch = pytest.importorskip("torch")
    from fastinit import benchmark

    t = torch.zeros(5000, dtype=torch.bfloat16)
    flat = benchmark._GpuFlat(t)
    spots = np.array([0, 17, 4999])
    flat.plant(spots)
    assert torch.isnan(t).nonzero().flatten().tolist() == [0, 17, 4999]
    assert np.isnan(flat.take(spots)).all() and flat.take(np.array([1])).tolist() == [0.0]
    t.uniform_(2.0, 3.0)
    sample = flat.sample()
    assert sample.size == 16 * (5000 // 16) and sample.dtype == np.float64
    assert 2.0 <= sample.min() and sample.max() <= 3.0
    with pytest.raises(ValueError, match="C-contiguous GPU array is needed"):
        benchmark._GpuFlat(torch.zeros(10, 10).T)


def test_cuda_targets_are_validated_without_importing_numba_cuda():
    a = np.zeros((4, 6), np.float32)
    with pytest.raises(ValueError, match="read-only"):
        fastinit.uniform_(Device(a, readonly=True), seed=0)
    with pytest.raises(TypeError, match="supported dtypes"):
        fastinit.normal_(Device(np.zeros(5, np.int32)), seed=0)
    with pytest.raises(TypeError, match="does not match"):
        fastinit.normal_(Device(a), dtype="float64", seed=0)
    with pytest.raises(ValueError, match="zero strides"):
        fastinit.uniform_(Device(np.broadcast_to(a[:1], (4, 6))), seed=0)
    overlapping = np.lib.stride_tricks.as_strided(a, shape=(3, 4), strides=(8, 4))  # rows overlap by 2 elements
    with pytest.raises(ValueError, match="self-overlapping"):
        fastinit.uniform_(Device(overlapping), seed=0)
    raw = np.zeros(4 * 6 + 1, np.float32).view(np.uint8)[2:2 + 4 * 6 * 4].view(np.float32)  # 2 bytes off
    for view in (raw, raw.reshape(4, 6)[:, ::2]):  # contiguous (no strides in the interface) and strided
        with pytest.raises(ValueError, match="not aligned to its itemsize"):
            fastinit.uniform_(Device(view), seed=0)
    for key, value, match in (("stream", "default", "stream must be None or a stream handle"),
                              ("stream", -1, "stream must be None"), ("data", (None, False), "data pointer None"),
                              ("data", (0, False), "data pointer 0 for 24 elements")):
        bad = types.SimpleNamespace(__cuda_array_interface__={**Device(a).__cuda_array_interface__, key: value})
        with pytest.raises(ValueError, match=match):
            fastinit.uniform_(bad, seed=0)
    for strides in ((24,), (24, 4, 4)):  # a malformed interface: not one stride an axis (zip had dropped axes)
        bad = types.SimpleNamespace(__cuda_array_interface__={**Device(a).__cuda_array_interface__,
                                                               "strides": strides})
        with pytest.raises(ValueError, match=rf"gives {len(strides)} strides .* for its 2 axes \(4, 6\)"):
            fastinit.uniform_(bad, seed=0)
    t = as_target(Device(a[:, ::-2]))
    assert isinstance(t, CudaTarget) and t.device == "cuda" and t.shape == (4, 3) and t.mstride == (6, -2)
    assert t.ptr == a[:, 1:].__array_interface__["data"][0] and t.span == 3 * 6 + 5 and t.mbase == 4
    assert (a == 0).all()


def test_import_fastinit_does_not_import_numba_cuda():
    code = ("import sys, fastinit, fastinit.init, fastinit.scaled\n"
            "print([m for m in sys.modules if m.startswith(('numba.cuda', 'numba_cuda'))])")
    r = _run_child(["-c", code], {})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_gpu_path_without_a_gpu_names_what_is_missing():
    pytest.importorskip("numba_cuda")
    code = ("import numpy as np, fastinit, sys\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "from test_cuda import Device\n"
            "from numba import cuda\n"
            "if cuda.is_available(): print('GPU'); raise SystemExit\n"
            "a = np.full(8, 7.0, np.float32)\n"
            "g, twin = fastinit.Generator(3), fastinit.Generator(3)\n"
            "try:\n"  # a constant, the driver's memset, checks for the GPU too
            "    fastinit.zeros_(Device(a))\n"
            "except RuntimeError as e:\n"
            "    print('untouched' if (a == 7).all() else 'written')\n"
            "try:\n"  # a host-computed initializer checks for the GPU before computing anything
            "    fastinit.orthogonal_(Device(a.reshape(2, 4)), generator=g)\n"
            "except RuntimeError as e:\n"
            "    print('untouched' if (a == 7).all() else 'written')\n"
            "try:\n"
            "    fastinit.uniform_(Device(a), generator=g)\n"
            "except RuntimeError as e:\n"
            "    print('untouched' if (a == 7).all() else 'written')\n"
            "    print('drew nothing' if g.next_seed() == twin.next_seed() else 'drew'); print(e)\n")
    r = _run_child(["-c", code, str(HERE.parent)], {})
    assert r.returncode == 0, r.stderr
    if r.stdout.startswith("GPU"):
        pytest.skip("a CUDA GPU is present: the GPU path runs")
    constant, staged, first, drew, message = r.stdout.split("\n", 4)
    assert constant == staged == first == "untouched"
    assert drew == "drew nothing"
    assert "needs a CUDA GPU: numba.cuda.is_available() is False" in message and "pip install" not in message


def _refused_before_a_seed_is_drawn(match: str) -> None:
    """uniform_ and trunc_normal_ on a GPU target raise a RuntimeError matching ``match``, leaving the target
    untouched and the generator undrawn."""
    a = np.full(8, 7.0, np.float32)
    g, twin = fastinit.Generator(3), fastinit.Generator(3)
    for fill in (fastinit.uniform_, fastinit.trunc_normal_):
        with pytest.raises(RuntimeError, match=match):
            fill(Device(a), generator=g)
    assert (a == 7).all() and g.next_seed() == twin.next_seed()


def test_a_gpu_that_cannot_run_the_kernel_is_refused_before_a_seed_is_drawn(monkeypatch):
    """A machine where numba.cuda.is_available() holds but the device query or the kernel's compile fails (a
    driver problem, no libNVVM): fastinit's RuntimeError naming what to install, raised before the seed is drawn
    from the generator and before any write.  Emulated here by letting is_available() pass without a driver."""
    pytest.importorskip("numba_cuda")
    from numba import cuda

    from fastinit import _cuda
    if _cuda.simulated() or cuda.is_available():
        pytest.skip("a CUDA GPU (or the simulator) is present: the kernel can be set up")

    monkeypatch.setattr(_cuda.cuda, "is_available", lambda: True)
    _refused_before_a_seed_is_drawn(r"setting up fastinit's kernel on this GPU failed \(CudaSupportError")


def test_a_numpy_that_numba_cuda_cannot_compile_with_is_named_before_a_seed_is_drawn(monkeypatch):
    """numba-cuda 0.30.4's first compile fails on numpy 2.5 (``AttributeError: module 'numpy' has no attribute
    'row_stack'``, seen on a GPU machine whose image paired them): fastinit's RuntimeError names both versions and
    the fix, before the seed is drawn and before any write."""
    pytest.importorskip("numba_cuda")
    from fastinit import _cuda

    def broken(fn, storage):
        raise AttributeError("module 'numpy' has no attribute 'row_stack'")

    monkeypatch.setattr(_cuda, "require_gpu", lambda: None)
    monkeypatch.setattr(_cuda, "_ordinal", lambda target: 0)
    monkeypatch.setattr(_cuda, "_on_device", lambda ordinal: contextlib.nullcontext())
    monkeypatch.setattr(_cuda, "_kernel", broken)
    _refused_before_a_seed_is_drawn(r"numba-cuda \S+ cannot compile a kernel with numpy .*'numpy<2.5'")


def test_an_empty_gpu_target_is_checked_and_left_alone_without_a_gpu():
    """Zero-element targets are a no-op (docs/buffers.md), GPU ones included, host-computed initializers too:
    no GPU is needed to do nothing, and the arguments are still checked."""
    pytest.importorskip("numba_cuda")

    empty = np.zeros((0, 4), np.float32)
    for call in (lambda t: fastinit.uniform_(t, seed=0), fastinit.zeros_, lambda t: fastinit.xavier_normal_(t, seed=0),
                 fastinit.eye_, lambda t: fastinit.orthogonal_(t, seed=0), lambda t: fastinit.sparse_(t, 0.5, seed=0)):
        t = Device(empty)
        assert call(t) is t
    with pytest.raises(ValueError, match="sparsity"):
        fastinit.sparse_(Device(empty), 1.5, seed=0)
    with pytest.raises(ValueError, match="gain must be finite"):
        fastinit.orthogonal_(Device(empty), gain=float("nan"), seed=0)


def _without_numba_cuda(body: str) -> list:
    """The words ``body`` prints in a child process where numba-cuda cannot be imported (``from test_cuda import
    Device`` works there)."""
    code = "import sys; sys.modules['numba_cuda'] = None; sys.path.insert(0, sys.argv[1])\n" + body
    r = _run_child(["-c", code, str(HERE.parent)], {})
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_an_empty_gpu_target_needs_no_numba_cuda_for_host_computed_initializers_either():
    """eye_ / orthogonal_ on an empty GPU target imported numba-cuda before their no-op (ImportError), where the
    samplers returned (a review)."""
    assert _without_numba_cuda("import numpy as np, fastinit\n"
                               "from test_cuda import Device\n"
                               "for fill, shape in ((fastinit.eye_, (0, 4)), (fastinit.orthogonal_, (0, 4)),\n"
                               "                    (fastinit.uniform_, (0, 4)), (fastinit.dirac_, (0, 4, 3))):\n"
                               "    t = Device(np.zeros(shape, np.float32))\n"
                               "    print(fill(t) is t)\n") == ["True"] * 4


def test_an_empty_cuda_torch_tensor_needs_no_numba_cuda():
    """An empty CUDA tensor is a no-op too (as an empty __cuda_array_interface__ object): fastinit.torch's samplers,
    constants and eye_ had asked for numba-cuda and a GPU first (a review); kaiming_uniform_ returned (torch warns)."""
    pytest.importorskip("torch")
    code = ("import warnings, torch, fastinit, fastinit.torch as finit\n"
            "from test_cuda import Device\n"
            "import types; torch.cuda.current_stream = lambda device=None: types.SimpleNamespace(cuda_stream=0)\n"
            "class FakeCuda(torch.Tensor):\n"
            "    @property\n"
            "    def device(self):\n"
            "        return torch.device('cuda', 0)\n"
            "    @property\n"
            "    def __cuda_array_interface__(self):\n"
            "        return Device(self.as_subclass(torch.Tensor).numpy()).__cuda_array_interface__\n"
            "t = torch.empty(0, 4).as_subclass(FakeCuda)\n"
            "warnings.simplefilter('ignore')\n"
            "for fill in (finit.uniform_, finit.normal_, finit.trunc_normal_, finit.zeros_, finit.eye_,\n"
            "             finit.kaiming_uniform_, lambda t: fastinit.uniform_(t, seed=1)):\n"
            "    print(fill(t) is t)\n"
            "try:\n"
            "    finit.uniform_(torch.empty(2, 4).as_subclass(FakeCuda))\n"
            "except ImportError as e:\n"
            "    print('numba-cuda' in str(e))\n")
    assert _without_numba_cuda(code) == ["True"] * 8


def test_gpu_path_without_numba_cuda_names_the_package():
    code = ("import sys; sys.modules['numba_cuda'] = None\n"
            "try:\n"
            "    from fastinit import _cuda\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    r = _run_child(["-c", code], {})
    assert r.returncode == 0, r.stderr
    assert "needs the numba-cuda package (pip install 'fastinit[cuda]')" in r.stdout


def _offline_nvvm(libdevice: str) -> None:
    """Let numba-cuda compile kernels to PTX on a machine with no GPU driver and no NVRTC: the toolkit's libNVVM
    and ``libdevice`` (a path) suffice once the device queries are answered for an sm_90 device."""
    from numba.cuda import codegen, dispatcher
    from numba.cuda.cudadrv import libs, nvrtc, nvvm

    nvrtc.get_arch_option = lambda major, minor, arch="": f"compute_{major}{minor}{arch}"  # no NVRTC: named
    libs.get_libdevice = nvvm.get_libdevice = lambda: libdevice
    nvvm.open_libdevice = lambda: open(libdevice, "rb").read()
    dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))  # no driver
    codegen.CUDACodeLibrary._ensure_cc = lambda self, cc: (9, 0, "a") if cc is None else cc  # (as a launch's)


def _cache_child(mode: str, libdevice: str) -> None:
    """The float32 ``_fill`` made ready as ``_cuda._ready`` makes it, offline: numba-cuda's device queries answered
    for an sm_90 and its ``bind`` building the PTX without loading it (no driver here; on a GPU, bind builds the
    cubin too, and the cache keeps both). ``mode``: "compile"; "load", where a call to NVVM raises (the kernel must
    come from the disk cache); "edited", where the package's stamp is another (as after an edit of any of its
    modules) and NVVM raises too (the kernel must be compiled again: raising there spares the compile); "broken",
    where the cache's file of it is damaged and no entry can be stored; a mode + "+sm80" then makes it ready on a
    device of compute capability 8.0 as well (printing "sm80", whether that PTX targets sm_80, its fma count and its
    digest, first). Prints the cache's hits and misses, the PTX's fma count, a digest of the PTX, whether the kernel
    is a debug or a cooperative build (neither: _cuda._run launches it directly), whether the dispatcher and the
    code library link with LTO (never: its link contracts FMAs; nvJitLink stood in as present, as with torch's CUDA
    wheels), and the warnings' first words."""
    _offline_nvvm(libdevice)
    from numba.cuda import codegen, dispatcher
    from numba.cuda.cudadrv import nvvm

    device = [(9, 0)]  # the current device's compute capability
    codegen.JITCUDACodegen.magic_tuple = lambda self: ("offline", device[0])  # (CUDA runtime version, cc) on a GPU
    codegen.CUDACodeLibrary._ensure_cc = lambda self, cc: (*device[0], "a" if device[0] >= (9, 0) else "") \
        if cc is None else cc
    from numba.cuda import decorators

    decorators._have_nvjitlink = lambda: True  # as with torch's CUDA wheels: numba-cuda would turn LTO on
    dispatcher._Kernel.bind = lambda self: self._codelibrary.get_asm_str()
    from fastinit import _cpu, _cuda, _jit

    _cuda.cuda.get_current_device = lambda: types.SimpleNamespace(compute_capability=device[0])
    mode, _, then = mode.partition("+")  # "+sm80": then a device of compute capability 8.0 in the same process
    if mode in ("load", "edited"):
        def refused(*args, **kwargs):
            raise AssertionError("NVVM called: the kernel did not come from the cache")

        nvvm.compile_ir = refused
    if mode == "edited":
        _jit.package_stamp = lambda package=None: "another stamp"
    elif mode == "broken":  # the entry cannot be read (its file damaged) nor a new one stored
        from numba.cuda.dispatcher import CUDACacheImpl

        def unpicklable(self, kernel):
            raise pickle.PicklingError("stood in")

        for entry in pathlib.Path(os.environ["NUMBA_CACHE_DIR"]).glob("*/_cuda._fill-*.nbc"):
            entry.write_bytes(b"not a pickle")
        CUDACacheImpl.reduce = unpicklable
    warnings.simplefilter("always")
    with warnings.catch_warnings(record=True) as seen:
        kernel = _cuda._kernel(_cuda._fill, _cpu.F32)
    for w in seen:
        print("warning:", w.message, file=sys.stderr)
    (overload,) = kernel.overloads.values()
    ptx = overload._codelibrary.get_asm_str()
    if then:
        device[0] = (8, 0)
        with warnings.catch_warnings(record=True) as also:
            _cuda._kernel(_cuda._fill, _cpu.F32)
        seen += also
        sm80 = "".join(overload._codelibrary._ptx_cache[(8, 0, "")])
        print("sm80", ".target sm_80" in sm80, len(re.findall(r"\bfma\.", sm80)),
              hashlib.sha256(sm80.encode()).hexdigest()[:16])
    print(sum(kernel.stats.cache_hits.values()), sum(kernel.stats.cache_misses.values()),
          len(re.findall(r"\bfma\.", ptx)), hashlib.sha256(ptx.encode()).hexdigest()[:16],
          overload.debug, overload.cooperative,  # what the direct launch needs of a kernel loaded from the cache
          kernel.targetoptions["lto"], overload._codelibrary._lto,  # no LTO link (it contracts FMAs)
          "|".join(sorted({str(w.message).split(" (")[0] for w in seen if w.category is RuntimeWarning})) or "-")


def test_gpu_kernels_are_cached_on_disk(tmp_path):
    """A process that finds the kernel in numba's cache folder loads it (no typing, lowering or NVVM: 6.2 s -> 0.35
    s for the float32 ``_fill`` on this VM, docs/gpu.md), the same PTX, built under -fma=0; an edit of any module
    of the package compiles it again."""
    libdevice = _libdevice()
    if importlib.util.find_spec("numba_cuda") is None or libdevice is None:
        pytest.skip("needs numba-cuda and a CUDA toolkit (libNVVM + libdevice)")

    def start(mode, cache):
        return _start_child([str(HERE), "--cache-child", mode, libdevice], {"NUMBA_CACHE_DIR": str(cache)})

    def result(proc):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        return out.split()

    first = result(start("compile", tmp_path / "c"))
    assert first[:3] == ["0", "1", "0"]  # compiled, stored; no fma
    assert first[4:] == ["False"] * 4 + ["-"]  # not a debug, cooperative or LTO build; no warning
    loaded = ["1", "0", "0", first[3], "False", "False", "False", "False", "-"]  # the same PTX, from the cache
    for copy in ("sm80", "broken", "edited"):  # the steps below that write the cache (edited: that takes its lock,
        shutil.copytree(tmp_path / "c", tmp_path / copy)  # apart from the lock's test), each in a copy, all at once
    children = {mode: start(mode, tmp_path / mode.removeprefix("compile+")) for mode in ("compile+sm80", "broken",
                                                                                         "edited")}
    try:
        assert result(start("load", tmp_path / "c")) == loaded
        # a process loading or compiling the kernel waits while another holds its lock (saving another signature)
        import fcntl

        (lock_path,) = (tmp_path / "c").glob("*/_cuda._fill.lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            children["waiting"] = waiting = start("load", tmp_path / "c")
            try:
                waiting.wait(timeout=8)  # a load alone takes ~3 s with the imports (more beside the others)
            except subprocess.TimeoutExpired:
                pass
            assert waiting.poll() is None, "the kernel was loaded while another process held its cache lock"
        assert result(waiting) == loaded
        # a device of another compute capability in the same process: compiled and stored once, then loaded
        other = result(children["compile+sm80"])  # the sm_90 kernel from the cache, the sm_80 one compiled
        assert other[:4] == ["sm80", "True", "0", other[3]] and other[4:7] == ["1", "0", "0"] and other[-1] == "-"
        assert result(start("load+sm80", tmp_path / "sm80"))[:4] == other[:4]  # NVVM refused: both from the cache
        # a damaged entry, and no way to store one: compiled, with a warning each
        broken = result(children["broken"])
        assert broken[:4] == ["0", "1", "0", first[3]]
        assert " ".join(broken[8:]) == "|".join(f"fastinit could not {what} numba's disk cache its GPU kernel _fill"
                                                for what in ("load from", "store in"))
        _, err = children["edited"].communicate(timeout=300)  # the stamp differs: NVVM called (refused there)
        assert children["edited"].returncode != 0 and "AssertionError: NVVM called" in err, err[-3000:]
    finally:
        for child in children.values():  # (a failed step's siblings: not left running)
            child.kill()
            child.wait()


def _ptx_compile_child(ptx_dir: str, libdevice: str) -> None:
    """Both kernels for the four storage codes compiled to sm_90 PTX as a launch compiles them, written to ptx_dir
    (for ptx_sim); prints kind, code, the PTX's fma, mul.rn and sqrt.rn counts, whether it has an entry, its
    conversions of a 64-bit integer to float32, its 32-bit multiplies (mul.wide.u32), its 64-bit multiplies by
    a Philox multiplier and its float32 -> float64 conversions."""
    _offline_nvvm(libdevice)
    from fastinit import _cpu, _cuda

    for kind, name in ((_cpu.UNIFORM, "_fill"), (_cpu.TRUNC, "_fill_trunc")):
        for code in _CODES:
            ptx = _cuda.ptx(kind, code, (9, 0))
            (pathlib.Path(ptx_dir) / f"{name}-{code}.ptx").write_text(ptx)
            print(kind, code, len(re.findall(r"\bfma\.", ptx)), len(re.findall(r"\bmul\.rn\.f", ptx)),
                  len(re.findall(r"\bsqrt\.rn\.f", ptx)), ".entry" in ptx,
                  len(re.findall(r"\bcvt\.rn\.f32\.[su]64\b", ptx)), len(re.findall(r"\bmul\.wide\.u32\b", ptx)),
                  len(re.findall(r"\bmul\.lo\.[su]64\s[^;]*\b(?:3528531795|3449720151);", ptx)),
                  len(re.findall(r"\bcvt\.f64\.f32\b", ptx)), flush=True)
    # what _cuda._ready and _run take from numba-cuda's compiled kernel, built as cuda.jit's compile builds it
    # (less its loading: no driver here)
    from numba.cuda.core import sigutils
    from numba.cuda.cudadrv.driver import CudaPythonFunction
    from numba.cuda.dispatcher import _Kernel

    argtypes, _ = sigutils.normalize_signature(_cuda._signature(_cuda.F32))
    with _cuda._ieee_nvvm():
        overload = _Kernel(_cuda._fill, argtypes, **_cuda._jit_options())
        entry = overload.inspect_asm((9, 0))
    print("overload", overload.debug, overload.cooperative, callable(overload._codelibrary.get_cufunc),
          "kernel" in CudaPythonFunction.__slots__, len(re.findall(r"^\s*\.param\b", entry, re.M)), flush=True)


def _libdevice():
    roots = [os.environ.get("CUDA_HOME", ""), os.environ.get("CUDA_PATH", ""), "/usr/local/cuda",
             *sorted(map(str, pathlib.Path("/usr/local").glob("cuda-*")))]
    for root in filter(None, roots):
        found = sorted(pathlib.Path(root).glob("nvvm/libdevice/libdevice*.bc"))
        if found and list(pathlib.Path(root).glob("**/libnvvm.so*")):
            return str(found[0])
    return None


# The environment this process started with: distributed's LocalCluster (tests/test_dask.py) sets
# OPENBLAS_NUM_THREADS=1 and the like in os.environ, which the children need not inherit.
_START_ENV = dict(os.environ)


def _child_env(env_extra: dict) -> dict:
    env = {k: v for k, v in _START_ENV.items() if k not in ("NUMBA_ENABLE_CUDASIM", "NUMBA_DISABLE_JIT")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent.parent), env.get("PYTHONPATH")]))
    env.update(env_extra)
    return env


@pytest.fixture(scope="module", autouse=True)
def ptx_compile(tmp_path_factory):
    """The offline PTX compile of both kernels for the four storage codes, started when this module starts so
    that its tens of seconds of NVVM overlap the simulator runs (the PTX files go to ``proc.ptx_dir``); None
    without numba-cuda or a CUDA toolkit."""
    libdevice = _libdevice()
    if importlib.util.find_spec("numba_cuda") is None or libdevice is None:
        yield None
        return
    ptx_dir = tmp_path_factory.mktemp("ptx")
    with tempfile.TemporaryFile("w+") as err:  # a file, not a pipe: the child never blocks on a full pipe
        proc = subprocess.Popen([sys.executable, str(HERE), "--ptx-compile-child", str(ptx_dir), libdevice],
                                env=_child_env({}), stdout=subprocess.PIPE, stderr=err, text=True)
        proc.stderr_file, proc.ptx_dir, proc.output = err, ptx_dir, None
        yield proc
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _compiled(ptx_compile) -> list[list[str]]:
    """The rows the PTX compile printed (waiting for it once): kind, code, fma, mul.rn, sqrt.rn, has .entry, cvt
    from 64 bits to float32, mul.wide.u32, 64-bit Philox multiplies, float32 -> float64; then
    the compiled kernel's attributes (test_the_direct_launch_...)."""
    if ptx_compile is None:
        pytest.skip("needs numba-cuda and a CUDA toolkit (libNVVM + libdevice)")
    if ptx_compile.output is None:
        stdout, _ = ptx_compile.communicate(timeout=600)
        ptx_compile.stderr_file.seek(0)
        assert ptx_compile.returncode == 0, ptx_compile.stderr_file.read()[-3000:]
        ptx_compile.output = [line.split() for line in stdout.strip().splitlines()]
    return ptx_compile.output


@pytest.mark.slow
def test_kernels_compile_to_ptx_without_fma_contraction(ptx_compile):
    """The real CUDA compile of both kernels for the four storage codes (NVVM, sm_90 PTX) from the shared source,
    offline: every float operation is a single-rounding mul.rn / add.rn / sqrt.rn, no FMA (numba-cuda's default
    would contract; fastinit compiles with -fma=0).  And no float32 value converts from a 64-bit integer: the
    transforms' integers (24 or 32 bits) convert from 32 (an sm_90 converts 64-bit integers on its conversion unit,
    I2F.U64, a 32-bit one as I2FP; docs/gpu.md).  Philox multiplies 32 by 32 bits (mul.wide.u32, _jit.mul_lo32:
    the 64-bit multiply NVVM made of the masked word cost ptxas an add per multiply), 20 per call site of a block.
    A float32-family kernel widens nothing to float64 (its truncated-normal candidates stay float32: _cpu.candidates).
    Needs libNVVM and libdevice (a CUDA toolkit), no GPU."""
    rows = _compiled(ptx_compile)[:-1]
    assert [row[:2] for row in rows] == [[k, str(c)] for k in ("1", "3") for c in _CODES]
    for kind, code, fma, mul_rn, sqrt_rn, entry, cvt64, wide, philox64, widen in rows:
        assert entry == "True" and fma == "0" and cvt64 == "0", (kind, code, fma, cvt64)
        assert philox64 == "0" and int(wide) >= 20, (kind, code, wide, philox64)
        assert widen == "0" or code == "3", (kind, code, widen)  # 3: float64
        assert int(mul_rn) > 30 and int(sqrt_rn) >= 1


@pytest.mark.slow
def test_the_direct_launch_finds_what_it_needs_in_numba_cudas_kernel(ptx_compile):
    """_cuda._ready and _run use numba-cuda's compiled kernel below its public API (the one overload, its code
    library's get_cufunc, the loaded function's cuda.core kernel) and numba's kernel ABI: checked on the kernel
    cuda.jit builds here (offline), so that a numba-cuda release that moves them fails in CI, not on a GPU.  Not a
    debug or cooperative build (whose launch needs numba-cuda's own), and its entry takes the 56 parameters _run
    packs for a float32 fill (the array's 7, then 49 scalars and tuple elements)."""
    assert _compiled(ptx_compile)[-1] == ["overload", "False", "False", "True", "True", "56"]


@pytest.mark.slow
def test_compiled_ptx_equals_the_cpu_bit_for_bit(ptx_compile):
    """The PTX that NVVM compiles the kernels to, run by an interpreter (tests/ptx_sim.py) for every thread of
    each sampling case's launch, writes the CPU's bytes: the compiled code, not the kernels' Python the simulator
    runs (so also the -fma=0 compile, the storage code made a constant, the truncated normal's attempt loop as
    compiled).  No GPU: the launch parameters are fastinit's own, the driver is stood in for."""
    _compiled(ptx_compile)
    halves = [_start_child([str(HERE), "--ptx-child", str(ptx_compile.ptx_dir), str(half)], {})
              for half in (0, 1)]  # (at once: each interprets every other case, ~25 s here)
    rows = []
    try:
        for half in halves:
            out, err = half.communicate(timeout=600)
            assert half.returncode == 0, out + err
            rows += [line.split() for line in out.strip().splitlines()]
    finally:
        for half in halves:  # (a failed one's sibling: not left running)
            half.kill()
            half.wait()
    run = [case[0] for case in CASES if case[4] not in _HOST_STAGED]
    assert [row[0] for row in rows] == run[0::2] + run[1::2]
    assert [row[0] for row in rows if row[1] != "True"] == []


def test_gpu_check_script_is_valid_and_names_existing_tests():
    """bench/gpu_check.sh is what a session lent a GPU runs in one call: it must parse, and the test
    files and ``-k`` keywords it names must still exist (a renamed test would silently drop a step)."""
    root = pathlib.Path(__file__).resolve().parent.parent
    script = root / "bench" / "gpu_check.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text(encoding="utf-8")
    for path in ("tests/test_cuda.py", "bench/test_cuda.py"):
        assert path in text and (root / path).is_file()
    bench_tests = (root / "bench" / "test_cuda.py").read_text(encoding="utf-8")
    (selection,) = re.findall(r'-k "([^"]+)"', text)
    for keyword in re.findall(r"not (\w+)", selection):
        assert re.search(rf"^def test_\w*{keyword}", bench_tests, re.M), keyword


_FAKE_PYTHON = """#!/usr/bin/env bash
if [ "${1:-}" = "-" ]; then  # the versions, preflight and first-fill probes: exit as told
    case "$(cat)" in
        *PREFLIGHT*) exit "${FAKE_PREFLIGHT_RC:-0}" ;;
        *"FIRST FILL"*) exit "${FAKE_FIRST_FILL_RC:-0}" ;;
        *) exit "${FAKE_VERSIONS_RC:-0}" ;;
    esac
fi
echo "RAN $*"
"""


@pytest.mark.parametrize("versions_rc, preflight_rc, first_fill_rc", [(3, 0, 0), (0, 1, 0), (0, 0, 1)])
def test_gpu_check_script_gates_the_gpu_steps_on_the_preflight_and_first_fill(tmp_path, versions_rc, preflight_rc,
                                                                             first_fill_rc):
    """A failed versions probe (a slow cold import) used to skip every GPU step as a 'preflight failure'; only the
    preflight's own exit code stops the script, before anything, and the first fill's (fastinit's own launch and
    memset, once each) after the CPU kernels' compile.  python and nvidia-smi are stand-ins here; nothing runs."""
    root = pathlib.Path(__file__).resolve().parent.parent
    for name, text in (("fakepy", _FAKE_PYTHON), ("nvidia-smi", "#!/usr/bin/env bash\n")):
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}{os.pathsep}{os.environ['PATH']}", PYTHON="fakepy",
               OUT=str(tmp_path / "out"), FAKE_VERSIONS_RC=str(versions_rc), FAKE_PREFLIGHT_RC=str(preflight_rc),
               FAKE_FIRST_FILL_RC=str(first_fill_rc))
    run = subprocess.run(["bash", "bench/gpu_check.sh"], cwd=root, env=env, capture_output=True, text=True,
                         timeout=60)
    ran = [r for r in re.findall(r"^RAN -m (\S+ \S+)", run.stdout, re.M)
           if r != "pip install"]  # the wheels a checkout may hold in .whl/ for a GPU lease (docs/gpu.md)
    if preflight_rc:
        assert run.returncode == 1 and ran == [] and "preflight failed" in run.stdout
    elif first_fill_rc:
        assert run.returncode == 1 and ran == ["fastinit compile"] and "first GPU fill failed" in run.stdout
    else:
        assert run.returncode == 3 and ran == ["fastinit compile", "pytest -q", "pytest -q", "fastinit bench"]


def test_gpu_check_script_fits_its_budget_and_times_the_cli_on_large_buffers():
    """The step limits add up to the script's budget (450 s: a rerun fits in a 15-minute device lease), the opt-in
    tests step aside; the CLI step times three dtypes at 1e9 elements, not launch overhead at the default 1e7."""
    from fastinit.cli import build_parser

    text = (pathlib.Path(__file__).resolve().parent.parent / "bench" / "gpu_check.sh").read_text(encoding="utf-8")
    limits = dict(re.findall(r"^\s*step (\w+) (\d+) ", text, re.M))
    budget = int(re.search(r"FASTINIT_GPU_CHECK_BUDGET_S:-(\d+)", text).group(1))
    assert sum(int(v) for k, v in limits.items() if k != "tests") <= budget <= 450
    (flags,) = re.findall(r"-m fastinit bench (.+)", text)
    args = build_parser().parse_args(["bench", *flags.split()])
    assert args.device == "cuda" and args.size == 10**9 and args.dtype == ["float16,float32,float64"]


def _stand_in_gpu(on_launch, sms: int, on_memset=lambda width, args: None) -> None:
    """Let fastinit._cuda launch with no GPU (and no simulator): the driver queries, the kernels' compile and
    their loading are stood in for (a kernel is its (name, storage code)), a device of ``sms`` multiprocessors; each
    launch calls ``on_launch(kernel, grid, block, stream, params, arrays, args)`` with the parameters fastinit
    packed for cuda.core, and the arrays and arguments it packed them from; each driver memset of ``width``-byte
    words ``on_memset(width, args)`` with the driver call's arguments."""
    from fastinit import _cuda

    def ready(fn, code):
        cufunc = types.SimpleNamespace(kernel=(fn.__name__, code))
        overload = types.SimpleNamespace(_codelibrary=types.SimpleNamespace(get_cufunc=lambda: cufunc))
        return types.SimpleNamespace(overloads={code: overload})

    packed_from = []

    def run(kernel, work, stream, arrays, args):
        packed_from[:] = [arrays, args]
        return launched(kernel, work, stream, arrays, args)

    _cuda.simulated = lambda: False
    _cuda.require_gpu = lambda: None
    _cuda._ordinal = lambda target: 0
    _cuda._on_device = lambda ordinal: contextlib.nullcontext()
    _cuda._kernel = ready
    _cuda.cuda = types.SimpleNamespace(get_current_device=lambda: types.SimpleNamespace(MULTIPROCESSOR_COUNT=sms))
    _cuda.Stream = types.SimpleNamespace(from_handle=lambda handle: ("stream", handle))
    _cuda.core_launch = lambda stream, config, kernel, *params: on_launch(
        kernel, config.grid, config.block, stream, params, *packed_from)
    _cuda._driver_memset = lambda width: lambda *args: on_memset(width, args)
    _cuda._frees_in_device_order = lambda: True  # numba-cuda's own allocator
    launched, _cuda._run = _cuda._run, run


def _abi_child(_) -> None:
    """Four launches (fill, truncated normal, scatter, a fill on a cudaStream_t), their parameters compared with
    numba-cuda's marshalling of the same arguments, as cuda.core packs both for the driver; prints kernel, parameter
    count, grid and stream handle."""
    import ctypes

    from cuda.core._kernel_arg_handler import ParamHolder
    from numba.cuda.core import sigutils
    from numba.cuda.cudadrv.devicearray import _StridedLayoutShim, _StridedMemoryViewShim
    from numba.cuda.dispatcher import _Kernel

    from fastinit import _cuda

    def numbas(fn, code, arrays, args):  # what numba-cuda's launch would have handed cuda.core
        argtypes, _ = sigutils.normalize_signature(_cuda._signature(code, fn))
        # (the literal code as the integer it is: numba-cuda's marshalling has no ctypes type for a literal)
        argtypes = [getattr(ty, "literal_type", ty) for ty in argtypes]
        values = [types.SimpleNamespace(__cuda_memory__=True, _strided_memory_view_shim=_StridedMemoryViewShim(
            ptr=p, shape=(n,), dtype=dt, size=n, _layout=_StridedLayoutShim(
                strides_in_bytes=(dt.itemsize,), is_contiguous_c=True, is_contiguous_f=True, is_contiguous_any=True)))
            for p, n, dt in arrays] + list(args)  # device arrays, as numba-cuda's own view them
        out, this = [], types.SimpleNamespace(extensions=[])
        this._prepare_args = lambda *a: _Kernel._prepare_args(this, *a)  # (its recursion into tuples)
        for ty, value in zip(argtypes, values, strict=True):
            this._prepare_args(ty, value, 0, [], out)
        return out

    def packed(params):  # each parameter's bytes as the driver reads them (all are 8 bytes wide)
        holder = ParamHolder(list(params))
        slots = (ctypes.c_void_p * len(params)).from_address(holder.ptr)
        return [ctypes.string_at(slot, 8) for slot in slots]

    def check(kernel, grid, block, stream, params, arrays, args):
        fn = {"_fill": _cuda._fill, "_fill_trunc": _cuda._fill_trunc, "_scatter": _cuda._scatter}[kernel[0]]
        assert block == (_cuda.THREADS_PER_BLOCK, 1, 1)
        assert packed(params) == packed(numbas(fn, kernel[1], arrays, args)), kernel
        print(kernel[0], len(params), grid[0], stream[1])

    def memset(width, args):  # the driver's memset: its arguments as cuda.bindings converts them, before any call
        from cuda.bindings import driver

        try:  # (no driver: loading it fails after the conversion; a driver, never initialized in this process: the
            # call returns CUDA_ERROR_NOT_INITIALIZED; a wrong type or range fails in the conversion, before either)
            (driver.cuMemsetD32Async if width == 4 else driver.cuMemsetD16Async)(*args)
            converted = "converted"
        except (TypeError, OverflowError, ValueError) as e:
            converted = f"{type(e).__name__}:{e}".replace(" ", "_")
        except Exception:  # noqa: BLE001 (the driver library not found, past the conversion)
            converted = "converted"
        print("memset", width, *args[1:], converted)

    _stand_in_gpu(check, sms=3, on_memset=memset)
    _cuda._staged = lambda src, stream: (src, 0xD00D0000)
    fastinit.uniform_(Device(np.zeros(3000, np.float32)), -2.0, 3.0, seed=11)
    fastinit.trunc_normal_(Device(np.zeros((40, 30), np.float64)[:, 3:17].T, stream=1), std=0.5, seed=12, stream=7)
    fastinit.eye_(Device(np.zeros((6, 5), np.float32).T, stream=2))
    fastinit.normal_(Device(np.zeros(10, np.float32), stream=0xABC0), seed=13)  # a cudaStream_t
    fastinit.constant_(Device(np.zeros(300, np.float32), stream=0xABC0), float("nan"))  # the driver's memsets
    fastinit.ones_(Device(np.zeros((7, 3), BF16).T, stream=2), dtype="bfloat16")


def _ptx_child(ptx_dir: str, half: str) -> None:
    """Every other sampling case (the first, third, ... for ``half`` "0", the others for "1") run by ptx_sim over
    the PTX in ptx_dir (the kernels as NVVM compiled them for sm_90, written by the ptx_compile fixture), its stores
    written to the case's buffer; prints each case's name and whether it equals the CPU's bit for bit."""
    import ctypes

    import ptx_sim

    kernels = {(path.stem.split("-")[0], int(path.stem.split("-")[1])): ptx_sim.Kernel(path.read_text())
               for path in pathlib.Path(ptx_dir).glob("*.ptx")}

    def interpret(kernel, grid, block, stream, params, arrays, args):
        (ptr, n, dt), = arrays
        memory, _ = ptx_sim.launch(kernels[kernel], grid[0], block[0],
                                   [float(p) if isinstance(p, np.floating) else int(p) for p in params])
        for address, raw in memory.items():  # the stores, into the case's buffer (each inside the target's span)
            assert ptr <= address and address + len(raw) <= ptr + n * dt.itemsize, hex(address)
            ctypes.memmove(address, raw, len(raw))

    def memset(width, args):  # a contiguous constant (ones_bf16): the driver's work, done as the simulator does it
        ptr, word, count, stream = args
        _cuda._memset(ptr, word, width, count, stream, None)

    from fastinit import _cuda

    _stand_in_gpu(interpret, sms=1, on_memset=memset)
    for case in [case for case in CASES if case[4] not in _HOST_STAGED][int(half)::2]:
        same = np.array_equal(_fill(case, to_device=True).view(np.uint8), _fill(case, to_device=False).view(np.uint8))
        print(case[0], same, flush=True)


if __name__ == "__main__":
    {"--child": _child, "--torch-child": _torch_child, "--bench-child": _bench_child, "--abi-child": _abi_child,
     "--ptx-compile-child": _ptx_compile_child, "--cache-child": _cache_child,
     "--ptx-child": _ptx_child}[sys.argv[1]](*sys.argv[2:])


SIM_ARRAYS = r'''
import numpy as np, fastinit
from numba import cuda
d = cuda.to_device(np.zeros((6, 40), np.float32))  # the simulator's own device arrays
fastinit.normal_(d, seed=3, stream="w")
fastinit.uniform_(d[:, ::3], seed=3, stream="v")  # a strided device view
fastinit.zeros_(cuda.to_device(np.zeros(0, np.float32)))
np.save(__import__("sys").argv[1], d.copy_to_host())
'''

SIM_WITH_JIT = r'''
import numpy as np, fastinit
from numba import cuda
g = fastinit.Generator(3)
try:
    fastinit.uniform_(cuda.to_device(np.zeros(4, np.float32)), generator=g)
except RuntimeError as e:
    print(e)
print("next", g.next_seed())
'''


def test_the_simulators_device_arrays_are_filled_and_the_simulator_needs_the_jit_off(tmp_path):
    """numba's simulator arrays (cuda.to_device under NUMBA_ENABLE_CUDASIM=1) export no __cuda_array_interface__:
    filled through their host memory, with the CPU's values (they had been refused as not buffers, though the
    no-GPU error recommends the simulator); the simulator with the JIT on is refused before a seed is drawn (it had
    failed inside a simulated thread, the seed drawn) (a review, 2026-12-06 (e))."""
    pytest.importorskip("numba_cuda")
    r = _run_child(["-c", SIM_ARRAYS, str(tmp_path / "d.npy")], {"NUMBA_ENABLE_CUDASIM": "1", "NUMBA_DISABLE_JIT": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    want = np.zeros((6, 40), np.float32)
    fastinit.normal_(want, seed=3, stream="w")
    fastinit.uniform_(want[:, ::3], seed=3, stream="v")
    assert np.array_equal(np.load(tmp_path / "d.npy"), want)
    r = _run_child(["-c", SIM_WITH_JIT], {"NUMBA_ENABLE_CUDASIM": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "also needs NUMBA_DISABLE_JIT=1" in r.stdout
    assert f"next {fastinit.Generator(3).next_seed()}" in r.stdout  # (no seed drawn by the refused call)


def test_malformed_cuda_array_interfaces_are_refused_by_name():
    """A review (2026-12-06 (e)): negative extents had been accepted (their product positive) or failed in NumPy,
    missing keys gave a bare KeyError; a NumPy integer pointer is its value."""
    a = np.zeros((3, 4), np.float32)
    for change, msg in (({"shape": (-3, -4)}, r"a negative extent in shape \(-3, -4\)"),
                        ({"shape": (-1, 4)}, "a negative extent"), ({"data": None}, r"lacks \['data'\]"),
                        ({"typestr": None}, r"lacks \['typestr'\]")):
        d = Device(a)
        d.__cuda_array_interface__ = {k: v for k, v in {**d.__cuda_array_interface__, **change}.items()
                                      if v is not None or k not in ("data", "typestr")}
        with pytest.raises(ValueError, match=msg):
            fastinit.uniform_(d, seed=1)
    d = Device(a)
    d.__cuda_array_interface__["data"] = (np.int64(a.ctypes.data), False)
    assert as_target(d).ptr == a.ctypes.data


def test_numbas_deprecated_cuda_module_is_refused_by_name():
    """numba.cuda resolving to numba's own deprecated copy (numba-cuda installed where its .pth is not read) is
    refused with an ImportError that says so, not used."""
    code = ("import sys, types, numba\n"
            "sys.modules['numba_cuda'] = types.ModuleType('numba_cuda')  # importable\n"
            "old = types.ModuleType('numba.cuda'); old.__file__ = '/site-packages/numba/cuda/__init__.py'\n"
            "sys.modules['numba.cuda'] = numba.cuda = old\n"
            "try:\n"
            "    from fastinit import _cuda\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    r = _run_child(["-c", code], {})
    assert "numba.cuda resolves to /site-packages/numba/cuda/__init__.py, not numba-cuda's" in r.stdout, r.stderr


def test_launches_get_a_kernel_for_their_targets_storage_type():
    """A device's ready kernels are kept per (kernel, storage type): a float64 fill after a float32 one (and a
    bfloat16 after both) launches its own type's kernel (GPU stood in for: a kernel is its (name, storage code))."""
    pytest.importorskip("numba_cuda")
    out = _stand_in_child("_stand_in_gpu(lambda kernel, *a: print(*kernel), sms=1)\n"
                          "fastinit.uniform_(Device(np.zeros(8, np.float32)), seed=1)\n"
                          "fastinit.uniform_(Device(np.zeros(8, np.float64)), seed=1)\n"
                          "fastinit.normal_(Device(np.zeros(8, np.uint16)), seed=1, dtype='bfloat16')\n"
                          "fastinit.uniform_(Device(np.zeros(8, np.float32)), seed=1)\n")
    assert out == ["_fill 2", "_fill 3", "_fill 1", "_fill 2"]  # (_cpu.F32, F64, BF16, F32)


def test_the_grid_is_enough_blocks_for_the_work_up_to_a_cap_per_multiprocessor():
    """The grid is ceil(work / THREADS_PER_BLOCK) blocks (a partial block for the remainder), at most BLOCKS_PER_SM
    a multiprocessor (GPU stood in for: prints the grid of each launch)."""
    pytest.importorskip("numba_cuda")
    out = _stand_in_child("_stand_in_gpu(lambda kernel, grid, *a: print(kernel[0], grid[0]), sms=2)\n"
                          "_cuda._staged = lambda src, stream: (src, 0xD00D0000)\n"
                          "fastinit.uniform_(Device(np.zeros(2**17, np.float32)), seed=1)\n"  # 128 tiles: 128 blocks
                          "fastinit.eye_(Device(np.zeros((20, 15), np.float32).T))\n"  # 300 values: scattered
                          "fastinit.uniform_(Device(np.zeros((3, 100), np.float32)[:, :40]), seed=1)\n")  # 384 items
    assert out == [f"_fill {min(32 * 2, 128)}", "_scatter 2", "_fill 2"]


def test_host_copies_run_on_the_targets_stream():
    """A host-computed initializer's copy into GPU memory (one contiguous run: an upload; strided: a staged buffer,
    then the scatter kernel) is queued on the target's CAI stream, as numba-cuda's stream object over that handle
    (0, the default stream, stays numba-cuda's 0) (GPU stood in for)."""
    pytest.importorskip("numba_cuda")
    out = _stand_in_child(
        "_stand_in_gpu(lambda kernel, grid, block, stream, *a: print('launch', stream[1]), sms=1)\n"
        "import types\n"
        "_cuda.cuda.external_stream = lambda handle: ('external', handle)\n"
        "_cuda.cuda.from_cuda_array_interface = lambda desc, sync: types.SimpleNamespace(\n"
        "    copy_to_device=lambda src, stream: print('upload', stream))\n"
        "class Buffer:\n"
        "    __cuda_array_interface__ = {'data': (0xD00D0000, False)}\n"
        "_cuda.cuda.to_device = lambda src, stream: print('staged', stream) or Buffer()\n"
        "for stream in (0xABC0, None):\n"
        "    fastinit.eye_(Device(np.zeros((6, 5), np.float32), stream=stream))\n"
        "    fastinit.eye_(Device(np.zeros((6, 5), np.float32).T, stream=stream))\n")
    ext = f"('external', {0xABC0})"
    assert out == [f"upload {ext}", f"staged {ext}", f"launch {0xABC0}", "upload 0", "staged 0", "launch 0"]


def test_the_drivers_memset_and_synchronize_are_the_right_calls(monkeypatch):
    """_driver_memset names cuMemsetD32Async for 4-byte words and cuMemsetD16Async for 2-byte ones; _synchronize
    waits for a stream (cuStreamSynchronize, stream 0 included) or, given None, the whole device (cuCtxSynchronize)
    (the driver stood in for)."""
    pytest.importorskip("numba_cuda")
    from numba.cuda.cudadrv import driver

    from fastinit import _cuda

    calls = []
    stand_in = types.SimpleNamespace(cuMemsetD32Async="D32", cuMemsetD16Async="D16",
                                     cuStreamSynchronize=lambda s: calls.append(("stream", s)),
                                     cuCtxSynchronize=lambda: calls.append(("device",)))
    monkeypatch.setattr(driver, "driver", stand_in)
    assert (_cuda._driver_memset(4), _cuda._driver_memset(2)) == ("D32", "D16")
    for stream in (0xABC0, 0, None):
        _cuda._synchronize(stream)
    assert calls == [("stream", 0xABC0), ("stream", 0), ("device",)]


def test_the_geometry_arguments_are_never_another_geometrys():
    """_geometry_args caches by id(geom) and so keeps the Geometry alive: a later Geometry cannot take a freed one's
    id (CPython reuses a freed object's memory for the next of its size) and be handed its arguments."""
    pytest.importorskip("numba_cuda")
    from fastinit import _cuda
    from fastinit._buffers import Geometry

    def fields(n):  # a strided (n, 3) view's geometry, as a Geometry's fields
        g = geometry(as_target(np.zeros((n, 5), np.float32)[:, :3]))
        return {f: getattr(g, f) for f in Geometry.__dataclass_fields__}

    layouts = [fields(n) for n in range(2, 30)]
    for a, b in zip(layouts, layouts[1:]):
        old = Geometry(**a)
        _cuda._geometry_args(old)
        del old
        new = Geometry(**b)  # (most often at the freed one's address)
        assert _cuda._geometry_args(new)[0] == _cuda._words(b["shape"], np.int64, 1), b["shape"]


def test_kernel_setup_errors_of_the_driver_and_nvvm_are_explained(monkeypatch):
    """numba-cuda's NvvmError / CudaDriverError while making the kernel ready (not ImportErrors) get fastinit's
    RuntimeError naming what to install; an AttributeError that is not numba-cuda's numpy incompatibility is not
    dressed up as one."""
    pytest.importorskip("numba_cuda")
    from numba.cuda.cudadrv import error

    from fastinit import _cuda

    for name in ("NvvmError", "CudaDriverError"):
        cls = getattr(error, name)
        with pytest.raises(RuntimeError, match=rf"setting up fastinit's kernel on this GPU failed \({name}"):
            _cuda._explained(lambda: (_ for _ in ()).throw(cls("stood in")))
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'kernel'"):
        _cuda._explained(lambda: None.kernel)


def test_the_simulators_grid_is_capped_at_its_own_few_blocks():
    """Under the simulator (each CUDA thread a Python thread) a launch is at most SIMULATOR_BLOCKS blocks, not a
    GPU's cap (the launch is recorded, not run)."""
    pytest.importorskip("numba_cuda")
    code = ("import sys, numpy as np, fastinit\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "from test_cuda import Device\n"
            "from fastinit import _cuda\n"
            "_cuda._run = lambda kernel, work, *a: print(kernel.blocks, min(kernel.blocks, -(-work // 256)))\n"
            "fastinit.uniform_(Device(np.zeros(2**16, np.float32)), seed=1)\n")
    r = _run_child(["-c", code, str(HERE.parent)], {"NUMBA_ENABLE_CUDASIM": "1", "NUMBA_DISABLE_JIT": "1"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["4", "4"]  # (_cuda.SIMULATOR_BLOCKS)
