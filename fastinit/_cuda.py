"""Layer 3 — CUDA kernels (numba-cuda): the CPU kernels' twins, value for value.

Imported only when a target lives in GPU memory (``__cuda_array_interface__``), so
``import fastinit`` never needs CUDA.  The kernels only loop, index and call the functions the
CPU kernel inlines — ``_philox.philox_block``, the ``_transforms``, ``_cpu.uniform_value32`` /
``uniform_value64`` (affine step and clamp), ``candidates`` (a block's truncated-normal candidates), ``retry_key`` —
which numba-cuda compiles as device functions from the same Python source.  Nothing is re-typed for
the GPU.

Work decomposition (docs/gpu.md).  The target's local elements form rows (the last, merged axis:
runs of consecutive global indices) and each row run crosses tiles of ``L * 256`` global indices
(docs/determinism.md).  A work item is (row, tile of the row, block of the tile): its thread
draws that one Philox block — same counter, key and stream as the CPU — turns it into the
block's L values and stores those whose global index lies in the row.  Slot s of block j sits at
tile position ``s * 256 + j``: the 32 threads of a warp hold consecutive j, so every slot store
of a warp writes 32 consecutive elements (coalesced when the last axis is contiguous).  Kernels
are grid-stride loops over work items.  The truncated normal tries all of a work item's slots at once:
attempt 0 from the element's own block, then attempts 1, 2, ... from the retry keys for the slots still
rejected, the sequence of ``_cpu._trunc_redraw`` on the CPU.  A constant over one contiguous run of memory is the
driver's memset instead (:func:`_memset`), when its storage is one repeated 32- or 16-bit word.

Floating point: NVVM contracts ``a * b + c`` into FMA by default (numba-cuda exposes no switch
for it, ``fastmath=False`` does not stop it), which would change bits.  The kernels are
therefore compiled with NVVM's ``-fma=0`` (:func:`_ieee_nvvm`): every operation is then an
IEEE round-to-nearest ``mul.rn`` / ``add.rn`` / ``div.rn`` / ``sqrt.rn``, like the CPU kernels.
"""
from __future__ import annotations

import ctypes
import functools
import math
import os
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._cpu import (
    BF16,
    CONSTANT,
    F16,
    F32,
    F64,
    HI,
    LO,
    METHOD,
    N_PARAMS,
    P0,
    P1,
    TILE_BLOCKS,
    MAX_ATTEMPTS,
    NEAREST,
    TRUNC,
    UNIFORM,
    _block,
    _trunc_params32,
    _trunc_params64,
    candidates,
    lanes,
    retry_key,
    row_start,
    uniform_value32,
    uniform_value64,
    working,
)
from ._jit import bits_float, cached_or_not, float_bits, outlined, scalar, stamp_caches_with_the_package
from ._transforms import (
    f32bits_to_bf16bits,
    f32bits_to_f16bits,
    normal_pair_f32,
    normal_pair_f64,
)

_MISSING = "fastinit's GPU path needs the numba-cuda package (pip install 'fastinit[cuda]') and a CUDA GPU"


def _import_cuda():
    try:  # the maintained CUDA target: numba-cuda provides numba.cuda (numba's own is deprecated)
        import numba_cuda  # noqa: F401
    except ImportError:
        raise ImportError(f"{_MISSING}; numba-cuda is not installed") from None
    from numba import cuda as module

    if "numba_cuda" not in (module.__file__ or ""):  # numba's deprecated copy (numba-cuda's .pth not processed)
        raise ImportError(f"{_MISSING}; numba.cuda resolves to {module.__file__}, not numba-cuda's (was numba-cuda "
                          "installed in a directory whose .pth files Python does not read, e.g. on PYTHONPATH?)")
    return module


cuda = _import_cuda()
from cuda.core import LaunchConfig, Stream, launch as core_launch  # noqa: E402  (numba-cuda's dependency)

MAX_DIMS = 8  # axes left after merging (geometry); more are refused
THREADS_PER_BLOCK = 256
BLOCKS_PER_SM = 32  # grid size cap, in blocks per multiprocessor (the loops are grid-stride)
SIMULATOR_BLOCKS = 4  # grid size cap under NUMBA_ENABLE_CUDASIM (each thread is a Python thread)

_B = TILE_BLOCKS
_B_SHIFT = TILE_BLOCKS.bit_length() - 1
_U64 = np.uint64
_I64 = np.int64
_STORAGE = {F16: "uint16", BF16: "uint16", F32: "float32", F64: "float64"}  # storage code -> kernel array type


def simulated() -> bool:
    """Whether numba.cuda is numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1)."""
    from numba.cuda.core import config

    return bool(config.ENABLE_CUDASIM)


def require_gpu() -> None:
    """Raise RuntimeError unless a CUDA GPU (or the simulator, with the JIT off) can run the kernels."""
    if simulated():
        from numba.core import config

        if not config.DISABLE_JIT:  # (else numba's TypingError from inside a simulated thread, the seed drawn)
            raise RuntimeError("fastinit's GPU path in numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1) also needs "
                               "NUMBA_DISABLE_JIT=1: the simulator cannot call fastinit's jitted host helpers")
        return
    if not cuda.is_available():
        raise RuntimeError(
            "fastinit's GPU path needs a CUDA GPU: numba.cuda.is_available() is False (no CUDA driver or GPU found). "
            "Set NUMBA_ENABLE_CUDASIM=1 NUMBA_DISABLE_JIT=1 to run the kernels in numba's CUDA simulator (slow; "
            "for tests: the simulator cannot call fastinit's jitted host helpers, hence both).")


# ---------------------------------------------------------------------------------------------
# device functions: where a work item's elements are, and what they hold
# ---------------------------------------------------------------------------------------------
@scalar
def _work_item(w, ndim, shape, gstride, mstride, gbase, mbase, cols, tshift, nshift, ushift):
    """Decode work item w = (((row << nshift) + k) << ushift) + u (the row, its k-th tile, unit u; shifts only: a
    64-bit division costs tens of instructions on a GPU) into the tile t, the row's part [pa, pb) of that tile (tile
    positions), the block j of the tile (block index t * 256 + j), and the row's first global index and memory
    position.  pa == pb: nothing to do (k past the row's last tile, or u past the row's part)."""
    rest = w >> ushift
    u = w - (rest << ushift)
    r = rest >> nshift
    k = rest - (r << nshift)
    g0, m0 = row_start(r, ndim, shape, gstride, mstride, gbase, mbase)
    end = g0 + _U64(cols)  # <= 2**64 - 1, where a tile's end or the next tile's start may wrap
    t = (g0 >> tshift) + _U64(k)
    if t > (end - _U64(1)) >> tshift:  # past the row's last tile
        return t, _I64(0), _I64(0), _I64(0), g0, m0
    tile0 = t << tshift
    pa = _I64(max(g0, tile0) - tile0)
    pb = _I64(min(end - tile0, _U64(1) << tshift))
    if u >= min(_I64(_B), pb - pa):  # the row covers fewer than 256 positions of this tile
        return t, _I64(0), _I64(0), _I64(0), g0, m0
    return t, pa, pb, (pa + u) % _B, g0, m0


@scalar
def _locate(w, run, ndim, shape, gstride, mstride, gbase, mbase, cols, ms, tshift, nshift, ushift):
    """Work item w as (Philox block index, q, qn, m, step): slot s of the block holds the element at
    position q + s * 256 of its row part, which is stored iff 0 <= that < qn, at memory position m + s * step.

    ``run``: the target is one ascending contiguous run (a contiguous tensor or shard: ``ndim == 1``, stride 1),
    whose work item w is block w % 256 of the (w // 256)-th tile the run crosses: two shifts, no row decoding
    (each runtime-indexed tuple read is a branch tree on a GPU).  qn == 0: nothing to store."""
    if run:
        t0 = gbase >> tshift
        k = w >> _B_SHIFT
        j = w & (_B - 1)
        q = _I64((t0 << tshift) - gbase) + _I64(_U64(k) << tshift) + j  # the slot-0 element's place in the run
        return (t0 + _U64(k)) * _U64(_B) + _U64(j), q, cols, mbase + q, _I64(_B)
    t, pa, pb, j, g0, m0 = _work_item(w, ndim, shape, gstride, mstride, gbase, mbase, cols, tshift, nshift, ushift)
    tile0 = t << tshift
    return t * _U64(_B) + _U64(j), j - pa, pb - pa, m0 + _I64(tile0 + _U64(j) - g0) * ms, _B * ms


@scalar
def _holds(q, qn, s):
    """Whether slot s of the work item (see :func:`_locate`) is its to store: 0 <= q + s * 256 < qn."""
    return _U64(q + s * _B) < _U64(qn)


@scalar
def _at(m, step, s):
    """Memory position of slot s (see :func:`_locate`), unsigned: an index numba stores at without a
    negative-index wraparound test."""
    return _U64(m + s * step)


@scalar
def _values32(kind, prm, w0, w1, w2, w3):
    """The four float32 values of a block (uniform or normal), as the CPU kernel computes them."""
    a, s = np.float32(prm[P0]), np.float32(prm[P1])
    if kind == UNIFORM:
        lo, hi = np.float32(prm[LO]), np.float32(prm[HI])
        return (uniform_value32(True, a, s, lo, hi, w0), uniform_value32(True, a, s, lo, hi, w1),
                uniform_value32(True, a, s, lo, hi, w2), uniform_value32(True, a, s, lo, hi, w3))
    z0, z1 = normal_pair_f32(w0, w1)
    z2, z3 = normal_pair_f32(w2, w3)
    return a + s * z0, a + s * z1, a + s * z2, a + s * z3


@scalar
def _values64(kind, prm, w0, w1, w2, w3):
    """The two float64 values of a block (uniform or normal)."""
    a, s = prm[P0], prm[P1]
    if kind == UNIFORM:
        lo, hi = prm[LO], prm[HI]
        return uniform_value64(a, s, lo, hi, w0, w1), uniform_value64(a, s, lo, hi, w2, w3)
    z0, z1 = normal_pair_f64(w0, w1, w2, w3)
    return a + s * z0, a + s * z1


@scalar
def _put32(dst, m, code, v):
    """Store a float32-family value once rounded to the storage format (float32, bfloat16, float16)."""
    if code == F32:
        dst[m] = v
    elif code == BF16:
        dst[m] = f32bits_to_bf16bits(float_bits(v))
    else:
        dst[m] = f32bits_to_f16bits(float_bits(v))


@scalar
def _put_constant(dst, m, code, value):
    """Store the constant: a float64 value, or a float32 / 16-bit pattern (:func:`launch` converts a float32
    target's value on the host, as the CPU does: a device conversion makes every NaN 0x7fffffff)."""
    if code == F64:
        dst[m] = value
    elif code == F32:
        dst[m] = bits_float(np.uint32(value))
    else:
        dst[m] = np.uint16(value)


@scalar
def _unless_nan(x, y):
    """x, or y where x is NaN (a rejected candidate replaced by the next attempt's)."""
    return y if np.isnan(x) else x


@scalar
def _put_trunc(dst, m, code, x):
    """Store an accepted truncated-normal value (in the working precision, ``_cpu.working``) in the target's
    format."""
    if code == F64:
        dst[m] = x
    else:
        _put32(dst, m, code, np.float32(x))


@outlined
def _store_block(dst, code, kind, prm, key, stream, blk, q, qn, m, step):
    """The constant, or Philox block ``blk``'s uniform / normal values, into the slots :func:`_locate` places."""
    if kind == CONSTANT:
        for s in range(lanes(code, kind, 0)):
            if _holds(q, qn, s):
                _put_constant(dst, _at(m, step, s), code, prm[P0])
        return
    w0, w1, w2, w3 = _block(blk, key, stream)
    if code == F64:
        v0, v1 = _values64(kind, prm, w0, w1, w2, w3)
        if _holds(q, qn, 0):
            dst[_at(m, step, 0)] = v0
        if _holds(q, qn, 1):
            dst[_at(m, step, 1)] = v1
        return
    v0, v1, v2, v3 = _values32(kind, prm, w0, w1, w2, w3)
    if _holds(q, qn, 0) and _holds(q, qn, 3):  # every slot (they ascend): four stores, no test each
        _put32(dst, _at(m, step, 0), code, v0)
        _put32(dst, _at(m, step, 1), code, v1)
        _put32(dst, _at(m, step, 2), code, v2)
        _put32(dst, _at(m, step, 3), code, v3)
        return
    if _holds(q, qn, 0):
        _put32(dst, _at(m, step, 0), code, v0)
    if _holds(q, qn, 1):
        _put32(dst, _at(m, step, 1), code, v1)
    if _holds(q, qn, 2):
        _put32(dst, _at(m, step, 2), code, v2)
    if _holds(q, qn, 3):
        _put32(dst, _at(m, step, 3), code, v3)


# ---------------------------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------------------------
def _fill(dst, code, kind, prm, key, stream, shape, gstride, mstride, ndim, gbase, mbase, tshift, nshift, ushift,
          work):
    """Constant, uniform and normal (``prm``, ``code``, ``kind`` as in ``_cpu.fill``; ``code`` is a constant of the
    compiled kernel, :func:`_signature`)."""
    run = ndim == 1 and mstride[0] == 1
    cols, ms = shape[ndim - 1], mstride[ndim - 1]  # (read once: a runtime tuple index is a branch tree)
    w, grid = _I64(cuda.grid(1)), _I64(cuda.gridsize(1))
    blk, q, qn, m, step = _locate(w, run, ndim, shape, gstride, mstride, gbase, mbase, cols, ms, tshift, nshift,
                                  ushift)
    # one run: a thread's next item is `grid` blocks on, whole tiles (:func:`_run`), so dq places on in memory too
    dq = _I64(_U64(grid >> _B_SHIFT) << tshift)
    while w < work:
        if qn > 0:
            _store_block(dst, code, kind, prm, key, stream, blk, q, qn, m, step)
        w += grid
        if run:  # _locate's run path by additions (its row decoding is two shifts, these three adds)
            blk, q, m = blk + _U64(grid), q + dq, m + dq
        else:
            blk, q, qn, m, step = _locate(w, run, ndim, shape, gstride, mstride, gbase, mbase, cols, ms, tshift,
                                          nshift, ushift)


def _fill_trunc(dst, code, kind, prm, key, stream, shape, gstride, mstride, ndim, gbase, mbase, tshift, nshift,
                ushift, work):
    """Truncated normal, exactly as the CPU kernel: attempt 0 of every slot from the element's block, then
    attempts 1, 2, ... from the retry keys (``_cpu._trunc_redraw``'s sequence) for the slots still rejected.  One
    Philox block per attempt serves all of a work item's slots, and a warp loops over attempts only as long as
    one of its slots is still rejected (one redraw pass, not one per slot)."""
    run = ndim == 1 and mstride[0] == 1
    cols, ms = shape[ndim - 1], mstride[ndim - 1]
    method = _I64(prm[METHOD])
    q32, q64 = _trunc_params32(prm), _trunc_params64(prm)
    n = lanes(code, kind, method)
    nan, nearest = working(code, np.nan), working(code, prm[NEAREST])  # the candidates' precision
    for w in range(_I64(cuda.grid(1)), work, _I64(cuda.gridsize(1))):
        blk, q, qn, m, step = _locate(w, run, ndim, shape, gstride, mstride, gbase, mbase, cols, ms, tshift,
                                      nshift, ushift)
        if qn <= 0:
            continue
        h0, h1 = _holds(q, qn, 0), n > 1 and _holds(q, qn, 1)  # the slots this work item stores
        h2, h3 = n > 2 and _holds(q, qn, 2), n > 3 and _holds(q, qn, 3)
        x0 = x1 = x2 = x3 = nan
        r = 0  # attempt r: block blk under the key (r = 0) or retry key r; one call site (compile time)
        while (h0 and np.isnan(x0)) or (h1 and np.isnan(x1)) or (h2 and np.isnan(x2)) or (h3 and np.isnan(x3)):
            if r == MAX_ATTEMPTS:  # acceptance ~0 in floating point: the point nearest the mean
                x0, x1, x2, x3 = _unless_nan(x0, nearest), _unless_nan(x1, nearest), _unless_nan(x2, nearest), \
                    _unless_nan(x3, nearest)
                break
            w0, w1, w2, w3 = _block(blk, key if r == 0 else retry_key(key, r), stream)
            y0, y1, y2, y3 = candidates(code, method, q32, q64, w0, w1, w2, w3)
            x0, x1, x2, x3 = _unless_nan(x0, y0), _unless_nan(x1, y1), _unless_nan(x2, y2), _unless_nan(x3, y3)
            r += 1
        if h0:
            _put_trunc(dst, _at(m, step, 0), code, x0)
        if h1:
            _put_trunc(dst, _at(m, step, 1), code, x1)
        if h2:
            _put_trunc(dst, _at(m, step, 2), code, x2)
        if h3:
            _put_trunc(dst, _at(m, step, 3), code, x3)


def _scatter(dst, src, shape, gstride, mstride, ndim, mbase):
    """dst[memory position of local element j] = src[j], j over the row-major local elements of a strided
    target: a host-computed initializer's values, staged contiguously on the device, into a target that is not
    one contiguous run (numba's strided device assignment fails on ``Ellipsis`` and empties negative strides)."""
    cols = shape[ndim - 1]
    for j in range(_I64(cuda.grid(1)), _I64(src.size), _I64(cuda.gridsize(1))):
        r = j // cols
        _, m = row_start(r, ndim, shape, gstride, mstride, _U64(0), mbase)
        dst[m + (j - r * cols) * mstride[ndim - 1]] = src[j]


def _signature(code: int, fn=None) -> str:
    """The kernel ``fn``'s signature for targets of storage code ``code``.  The fill kernels take the code as a
    literal type (``literal(code)``: a constant of the compiled kernel, so every branch on it folds away; its
    parameter is still the int64 the launch passes), hence one kernel per storage code."""
    storage = _STORAGE[code]
    t = f"UniTuple(int64, {MAX_DIMS})"
    u = f"UniTuple(uint64, {MAX_DIMS})"
    if fn is _scatter:
        return f"void({storage}[::1], {storage}[::1], {t}, {u}, {t}, int64, int64)"
    return (f"void({storage}[::1], literal({code}), int64, UniTuple(float64, {N_PARAMS}), UniTuple(uint64, 2), "
            f"UniTuple(uint64, 2), {t}, {u}, {t}, int64, uint64, int64, uint64, int64, int64, int64)")


@contextmanager
def _ieee_nvvm():
    """Compile with NVVM's ``-fma=0``: no contraction of a * b + c into an FMA, so that every float
    operation rounds once, as on the CPU.  numba-cuda passes no such option through ``cuda.jit``;
    this wraps ``nvvm.compile_ir`` for the duration, holding numba-cuda's compiler lock (which its
    own compilations take, so they do not run under the wrapper)."""
    if simulated():
        yield
        return
    from numba.cuda.core.compiler_lock import global_compiler_lock
    from numba.cuda.cudadrv import nvvm

    with global_compiler_lock:
        compile_ir = nvvm.compile_ir
        nvvm.compile_ir = lambda irs, **options: compile_ir(irs, **{**options, "fma": False})
        try:
            yield
        finally:
            nvvm.compile_ir = compile_ir


_KERNELS: dict = {}
_COMPILE_LOCK = threading.Lock()


def _jit_options() -> dict:
    """No link-time optimization: numba-cuda turns it on wherever nvJitLink >= 12.3 loads (torch's CUDA
    wheels ship it), and the LTO link rebuilds the code from NVVM's IR with plain mul/add, contracted into
    FMAs whatever -fma=0 said (66 fma in the float32 kernel's PTX for sm_90): values would differ from the
    CPU's.  No debug build either, whatever NUMBA_CUDA_DEBUGINFO says: its kernels report exceptions through
    a flag that numba-cuda's dispatcher checks after a launch and :func:`_run`'s direct launch does not.  The
    simulator's ``cuda.jit`` has no such options."""
    return {} if simulated() else {"lto": False, "debug": False, "opt": True}


def _compiled(fn, sig: str):
    """What ``cuda.jit(sig, **_jit_options())(fn)`` builds (compiled under :func:`_ieee_nvvm`), cached on disk
    (numba-cuda's ``cache=True``, in the folder the CPU kernels' cache uses): a process that finds it loads the PTX
    and the cubin built for its device's compute capability instead of typing, lowering and compiling the kernel
    (seconds each, docs/gpu.md), then loads the cubin.  The cache's stamp covers every module of the package (the
    kernels inline the transforms, Philox and ``_cpu``'s functions), and numba-cuda keys an entry by its own
    version, the CUDA runtime's and the compute capability.  Uncached where no cache folder is writable (one
    warning, as the CPU kernels).

    A kernel has one signature per storage code, all in one cache index: two processes saving two of them at once
    could leave the index naming one signature's file for the other's code (numba numbers a new entry's file by
    the index's length).  The load-or-compile-and-save therefore holds :func:`_cache_lock`."""
    if simulated():
        return cuda.jit(sig)(fn)
    from numba.cuda.core import caching, sigutils

    stamp_caches_with_the_package(caching, "_")
    # cuda.jit(f, ...), not cuda.jit(...)(f): numba-cuda's decorator form drops lto=False (its autojit wrapper does
    # not pass lto on, so LTO, and FMA contraction, would be on wherever nvJitLink loads)
    kernel = cached_or_not(lambda f, cache: cuda.jit(f, cache=cache, **_jit_options()), fn)
    _forgiving(getattr(kernel, "_cache", None), fn.__name__)
    with _cache_lock(kernel, fn.__name__), _ieee_nvvm():  # (the compiler's lock only once the file's is held)
        kernel.compile(sigutils.normalize_signature(sig)[0])
    kernel.disable_compile()  # as cuda.jit(sig) leaves it: no other signature, ever
    return kernel


def _forgiving(cache, name: str) -> None:
    """Make a disk cache's failure to load or store the kernel ``name`` (a damaged file, a full disk, an entry numba
    cannot pickle) cost a compile, not the fill: each becomes one RuntimeWarning, the load a miss."""
    load, save = getattr(cache, "load_overload", None), getattr(cache, "save_overload", None)
    if load is None or save is None:
        return

    def warn(what: str, e: Exception) -> None:
        import warnings

        folder = getattr(cache, "_cache_path", "?")
        warnings.warn(f"fastinit could not {what} numba's disk cache its GPU kernel {name} ({type(e).__name__}: {e}); "
                      f"it is compiled in this process (the cache folder: {folder}; removing it clears the cache)",
                      RuntimeWarning, stacklevel=2)

    def load_or_compile(sig, target_context):
        try:
            return load(sig, target_context)
        except Exception as e:  # noqa: BLE001 - any failure: compile instead
            warn("load from", e)
            return None

    def save_if_possible(sig, data):
        try:
            save(sig, data)
        except Exception as e:  # noqa: BLE001 - the kernel is compiled and usable: only the cache misses it
            warn("store in", e)

    cache.load_overload, cache.save_overload = load_or_compile, save_if_possible


@contextmanager
def _cache_lock(kernel, name: str):
    """An exclusive lock (POSIX ``flock``) on ``_cuda.<name>.lock`` in the kernel's cache folder, released when the
    holder exits or dies; nothing where the kernel is not cached or the platform or file system has no ``flock``."""
    folder = getattr(getattr(kernel, "_cache", None), "_cache_path", None)
    try:
        import fcntl
    except ImportError:  # Windows
        fcntl = None
    if folder is None or fcntl is None:
        yield
        return
    try:
        os.makedirs(folder, exist_ok=True)
        lock = open(os.path.join(folder, f"_cuda.{name}.lock"), "a")
    except OSError:  # numba checked the folder is writable; if it no longer is, it will not save either
        yield
        return
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
        except OSError:  # a file system without flock (Lustre mounted noflock, some FUSE mounts): unlocked
            pass
        yield


def _kernel(fn, code: int):
    """``fn`` compiled for targets of storage code ``code`` (:func:`_signature`) and the current device, with
    :func:`_ieee_nvvm`: the cubin a launch on this device loads is built here (``bind``), once per compute
    capability, so no launch compiles outside it.  (numba-cuda keys the launch's code by (cc, 'a' for
    cc >= 9.0); a PTX built for the bare cc would be another, unused, compile.)"""
    cc = None if simulated() else cuda.get_current_device().compute_capability
    with _COMPILE_LOCK:
        sig = _signature(code, fn)  # (the scatter kernel's is the same for float16 and bfloat16)
        k, ccs = _KERNELS.get((fn, sig), (None, set()))
        if k is None or cc not in ccs:
            if k is None:
                k = _compiled(fn, sig)
                if cc is not None:  # this device's cubin (from the cache, or compiled with -fma=0 and stored)
                    with _ieee_nvvm():
                        for overload in k.overloads.values():
                            overload.bind()
            elif cc is not None:  # a device of another compute capability
                _bind_another_cc(k, fn)
            _KERNELS[(fn, sig)] = k, ccs | {cc}
    return k


def _bind_another_cc(kernel, fn) -> None:
    """Bind ``kernel`` (made ready on a device of another compute capability) for the current device: its cubin
    taken from the disk cache's entry for this compute capability if there is one, else compiled (under
    :func:`_ieee_nvvm`) and stored under it, so that the next process finds it."""
    ((argtypes, overload),) = kernel.overloads.items()
    cache = getattr(kernel, "_cache", None)
    with _cache_lock(kernel, fn.__name__):
        found = None if cache is None else cache.load_overload(argtypes, kernel.targetctx)
        if found is not None:  # the code numba-cuda keeps per compute capability, added to the loaded kernel's
            library = overload._codelibrary
            for cc, ptx in found._codelibrary._ptx_cache.items():
                library._ptx_cache.setdefault(cc, ptx)
            for cc, cubin in found._codelibrary._cubin_cache.items():
                library._cubin_cache.setdefault(cc, cubin)
        with _ieee_nvvm():
            overload.bind()
        if found is None and cache is not None:
            if not hasattr(overload, "target_context"):  # a kernel loaded from the cache has none; its key needs it
                overload.target_context = kernel.targetctx
            cache.save_overload(argtypes, overload)


KERNELS = {"_fill": _fill, "_fill_trunc": _fill_trunc, "_scatter": _scatter}  # fastinit compile --gpu's


def compile_kernel(name: str) -> int:
    """The kernel ``name`` (of :data:`KERNELS`) made ready for every storage type on the current device: compiled
    and stored in the disk cache, or loaded from it (``fastinit compile --gpu``, one worker per kernel); how many
    were compiled.  RuntimeError without a GPU."""
    require_gpu()
    fn = KERNELS[name]
    ordinal = cuda.get_current_device().id
    for code in _STORAGE:
        _explained(lambda: _ready(fn, code, ordinal))
    dispatchers = {id(k): k for k in (_kernel(fn, code) for code in _STORAGE)}  # _scatter: one for both uint16
    return sum(sum(k.stats.cache_misses.values()) for k in dispatchers.values())


# ---------------------------------------------------------------------------------------------
# host side
# ---------------------------------------------------------------------------------------------
def _storage(target) -> np.dtype:
    return np.dtype(_STORAGE[target.code])


def _one_run(geom) -> bool:
    """Whether the target is one ascending contiguous run (``geom``: ``_buffers.Geometry``): the kernels'
    ``run`` path (their own test of it is ``ndim == 1 and mstride[0] == 1``), one host-to-device copy."""
    return geom.shape.size == 1 and int(geom.mstride[0]) == 1


def _simulated_memory(ptr: int, count: int, dt: np.dtype) -> np.ndarray:
    """``count`` elements of ``dt`` at ``ptr`` under the simulator, whose device memory is host memory (no copy)."""
    return np.frombuffer((ctypes.c_byte * (count * dt.itemsize)).from_address(ptr), dt) if count else np.empty(0, dt)


def contiguous_array(obj):
    """numba-cuda's device array over the memory a C-contiguous ``obj`` exports through ``__cuda_array_interface__``
    (no copy; under the simulator, over the host memory it stands for); ValueError for another layout."""
    cai = obj.__cuda_array_interface__
    dt, shape = np.dtype(cai["typestr"]), tuple(cai["shape"])
    c_strides = tuple(int(np.prod(shape[i + 1:], dtype=np.int64)) * dt.itemsize for i in range(len(shape)))
    if cai.get("strides") is not None and any(s != c and n > 1 for s, c, n in zip(cai["strides"], c_strides, shape)):
        raise ValueError(f"a C-contiguous GPU array is needed here, got strides {tuple(cai['strides'])} for shape "
                         f"{shape} ({dt})")
    if not simulated():
        return cuda.from_cuda_array_interface(cai, owner=obj)
    from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

    return FakeCUDAArray(_simulated_memory(cai["data"][0], int(np.prod(shape, dtype=np.int64)), dt).reshape(shape))


def _stream(cai_stream) -> int:
    """The CUDA stream handle of a CUDA Array Interface v3 ``stream`` entry: None or 0 (the default stream) -> 0;
    1 and 2 (the legacy and per-thread default streams) are CU_STREAM_LEGACY and CU_STREAM_PER_THREAD themselves;
    anything else is a stream's address.  0 under the simulator, which has no streams."""
    return 0 if simulated() or cai_stream is None else int(cai_stream)


def _numba_stream(stream: int):
    """numba-cuda's stream object for a handle (its copies take no handles)."""
    return cuda.external_stream(stream) if stream else 0


def _ordinal(target) -> int | None:
    """The device ordinal of the target's memory (None under the simulator): one driver query."""
    if simulated():
        return None
    from numba.cuda.cudadrv import driver

    attr = driver.binding.CUpointer_attribute.CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL
    try:
        return int(driver.driver.cuPointerGetAttribute(attr, driver.binding.CUdeviceptr(target.ptr)))
    except driver.CudaAPIError as e:
        raise ValueError(f"the target's __cuda_array_interface__ pointer {target.ptr:#x} is not CUDA device "
                         f"memory ({e})") from None


@contextmanager
def _on_device(ordinal: int | None):
    """Make device ``ordinal`` current (multi-GPU processes; None: the simulator)."""
    if ordinal is None:
        yield
        return
    with cuda.gpus[ordinal]:
        yield


def _words(values, dtype, pad=None) -> tuple:
    """``values`` as a tuple of ``dtype`` scalars (the kernels' argument types), padded with ``pad`` to
    :data:`MAX_DIMS` entries when given (a geometry's per-axis values: 1 for extents, 0 for strides)."""
    words = tuple(np.asarray(values, dtype))
    return words if pad is None else words + (dtype(pad),) * (MAX_DIMS - len(words))


_GEOMETRY_ARGS: dict = {}  # id(geom) -> (geom, its arguments); holding geom keeps its id from being reused


def _geometry_args(geom) -> tuple:
    """The kernels' geometry arguments: extents, global and memory strides padded to :data:`MAX_DIMS` axes, the
    number of axes, the global and memory bases (``geom``: ``_buffers.Geometry``).  Made once per Geometry (4 us):
    ``_buffers`` caches those, and a model's few layouts recur.  At most 1024 kept."""
    found = _GEOMETRY_ARGS.get(id(geom))
    if found is None:
        if len(_GEOMETRY_ARGS) >= 1024:
            _GEOMETRY_ARGS.clear()
        found = _GEOMETRY_ARGS[id(geom)] = geom, (
            _words(geom.shape, _I64, 1), _words(geom.gstride, _U64, 0), _words(geom.mstride, _I64, 0),
            _I64(geom.shape.size), _U64(geom.gbase), _I64(geom.mbase))
    return found[1]


@dataclass(frozen=True)
class Kernel:
    """A kernel ready to launch on one device: ``function`` is numba-cuda's dispatcher under the simulator, else
    the cuda.core kernel of the cubin :func:`_kernel` built for the device (launched directly, see :func:`_run`);
    ``blocks``: the grid size cap (the loops are grid-stride)."""

    function: object
    blocks: int
    ordinal: int | None


_READY: dict = {}  # (kernel function, storage code, device ordinal) -> Kernel


def _ready(fn, code: int, ordinal: int | None) -> Kernel:
    """``fn`` for targets of storage code ``code`` on device ``ordinal``, compiled and loaded once (with the device
    made current for it: a call that finds it ready switches no context)."""
    if ordinal is None:
        return Kernel(_kernel(fn, code), SIMULATOR_BLOCKS, None)
    found = _READY.get((fn, code, ordinal))
    if found is None:
        with _on_device(ordinal):
            (overload,) = _kernel(fn, code).overloads.values()
            device = cuda.get_current_device()
            found = Kernel(overload._codelibrary.get_cufunc().kernel, BLOCKS_PER_SM * device.MULTIPROCESSOR_COUNT,
                           ordinal)
        _READY[(fn, code, ordinal)] = found
    return found


def _run(kernel: Kernel, work: int, stream: int, arrays, args) -> None:
    """Launch ``kernel`` over enough blocks of THREADS_PER_BLOCK threads for ``work`` items (at most
    ``kernel.blocks``) on ``stream`` (a handle, :func:`_stream`) and the current device, with the 1-D C-contiguous
    device arrays ``arrays`` ((address, length, storage dtype) each), then ``args`` (numpy scalars and tuples).

    On a GPU the launch bypasses numba-cuda's dispatcher (type inference of every argument, and its marshalling
    of each tuple element: 39 % of a small fill's time by cProfile on an H200, docs/gpu.md) and hands cuda.core
    the parameters numba's kernel ABI expects, in its order: per array (meminfo, parent, nitems, itemsize, data,
    shape, strides), then the scalars, tuples flattened.  It also skips the dispatcher's warning of a grid under
    128 blocks, which every fill of fewer than ~10^5 elements would raise (their grid is sized to their work on
    purpose).  The cap is whole multiples of 256 threads: a smaller grid gives each thread one item at most, and at
    the cap a thread's next item is whole tiles on (:func:`_fill`'s one-run step)."""
    assert kernel.blocks * THREADS_PER_BLOCK % _B == 0, "the grid's cap must be a multiple of 256 threads (_fill)"
    grid = max(1, min(kernel.blocks, -(-work // THREADS_PER_BLOCK)))
    if kernel.ordinal is None:
        with warnings.catch_warnings():  # the simulator's NumPy scalars warn where uint64 arithmetic wraps, as the
            warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)  # kernels mean it to (-W error)
            kernel.function[grid, THREADS_PER_BLOCK](*(_simulated_memory(p, n, dt) for p, n, dt in arrays), *args)
        return
    params = [x for ptr, n, dt in arrays for x in (0, 0, n, dt.itemsize, ptr, n, dt.itemsize)]
    for a in args:
        if isinstance(a, tuple):
            params.extend(a)
        else:
            params.append(a)
    core_launch(_core_stream(stream), LaunchConfig(grid=grid, block=THREADS_PER_BLOCK), kernel.function, *params)


_STREAMS: dict = {}  # stream handle -> cuda.core Stream over it (borrowed: nothing is created or destroyed)


def _core_stream(handle: int):
    """cuda.core's Stream for a handle, made once per handle (``Stream.from_handle`` took 7.3 µs here: a class per
    call); a launch reads only its handle.  At most 256 kept (a process creating streams without end)."""
    found = _STREAMS.get(handle)
    if found is None:
        if len(_STREAMS) >= 256:
            _STREAMS.clear()
        found = _STREAMS[handle] = Stream.from_handle(handle)
    return found


def check_launch(target, geom, kind: int) -> Kernel:
    """Refuse, before anything is drawn or written, a fill the kernels cannot run: no GPU, more than
    :data:`MAX_DIMS` axes left after merging (``geom``: ``_buffers.Geometry``), memory that is not on a CUDA
    device, or a kernel that cannot be compiled for it (no libNVVM: the error names what to install); returns
    the kernel, ready on the target's device."""
    return _checked_kernel(target, geom, _fill_trunc if kind == TRUNC else _fill)


def _checked_kernel(target, geom, fn) -> Kernel:
    """:func:`check_launch`'s checks, for the kernel ``fn``."""
    require_gpu()
    ndim = int(geom.shape.size)
    if ndim > MAX_DIMS:
        raise ValueError(f"GPU targets support at most {MAX_DIMS} axes that cannot be merged (strides of a "
                         f"non-contiguous view); this one has {ndim}: {tuple(int(n) for n in geom.shape)}")
    return _explained(lambda: _ready(fn, target.code, _ordinal(target)))


def _explained(setup: Callable[[], Kernel]) -> Kernel:
    """``setup()`` (a kernel made ready on a device), its failures to set the kernel up said with what to install."""
    try:
        return setup()
    except (ImportError, RuntimeError, OSError, *_driver_errors()) as e:  # Cuda/NvvmSupportError: ImportErrors
        raise RuntimeError(f"{_MISSING}: setting up fastinit's kernel on this GPU failed ({type(e).__name__}: {e}); "
                           "numba-cuda needs a working CUDA driver and the toolkit's libNVVM: pip install "
                           "'fastinit[cuda12]' (or [cuda13], by your driver), or set CUDA_HOME to a toolkit") from e
    except AttributeError as e:  # numba-cuda 0.30.4 registers np.row_stack, which numpy 2.5 removed
        if "module 'numpy' has no attribute" not in str(e):
            raise
        from importlib.metadata import version

        raise RuntimeError(f"{_MISSING}: numba-cuda {version('numba-cuda')} cannot compile a kernel with numpy "
                           f"{np.__version__} ({e}); install a numpy it supports: pip install 'numpy<2.5'") from e


@functools.cache
def _driver_errors() -> tuple[type, ...]:
    """numba-cuda's NVVM and driver errors (the simulator's error module has neither)."""
    from numba.cuda.cudadrv import error

    return tuple(getattr(error, name) for name in ("NvvmError", "CudaDriverError") if hasattr(error, name))


def _decoding(geom, tile: int) -> tuple[int, int, int]:
    """(nshift, ushift, work): the kernels' work items for a target (``geom``: ``_buffers.Geometry``) in tiles of
    ``tile`` global indices.  Row r's k-th tile's unit u is item (((r << nshift) + k) << ushift) + u, 2**nshift at
    least the tiles a row crosses, 2**ushift at least the units of a tile a row can cover (256, or the row's length
    if shorter): the kernels decode an item with shifts, and the items past a row's tiles or units do nothing.
    Rows cross the same number of tiles when all start at one place of a tile (every global stride of an outer axis
    a multiple of the tile: a column shard of a matrix of 4096 columns), else at most one more than the fewest (rows
    of 1000 columns in tiles of 1024 cross 1 or 2).  One ascending contiguous run is the kernels' own path: 256
    items per tile it crosses."""
    extents = geom.shape.tolist()
    cols, rows = extents[-1], math.prod(extents[:-1])
    if all(int(s) % tile == 0 for s in geom.gstride[:-1]):  # every row starts where the first does in its tile
        ntiles = (geom.gbase % tile + cols - 1) // tile + 1
    else:  # the most tiles a run of `cols` indices can cross
        ntiles = (cols + tile - 2) // tile + 1
    if _one_run(geom):
        return 0, _B_SHIFT, ntiles << _B_SHIFT
    nshift, ushift = (ntiles - 1).bit_length(), (min(_B, cols) - 1).bit_length()
    return nshift, ushift, (((rows - 1) << nshift) + ntiles) << ushift


def launch(target, geom, kind: int, prm, key, stream, kernel: Kernel | None = None) -> None:
    """Fill a GPU target (``_buffers.CudaTarget``) on its stream: the twin of ``_cpu.launch``.

    ``geom``: ``_buffers.Geometry``; ``prm``: the float64 parameter vector; ``key`` / ``stream``:
    the Philox key and counter words (uint64-held 32-bit words); ``kernel``: what :func:`check_launch` returned,
    when the caller ran it already.
    """
    prm = np.array(prm, np.float64)
    if kind == CONSTANT and target.code == F32:  # its bits, rounded here as the CPU rounds (NaN's payload kept)
        prm[P0] = float(prm[P0:P0 + 1].astype(np.float32).view(np.uint32)[0])
    word = _memset_word(target.code, prm[P0]) if kind == CONSTANT and _one_run(geom) else None
    if word is not None:  # one contiguous run of one repeated word: the driver's memset, no kernel
        require_gpu()
        count = int(geom.shape[0]) * target.dtype.itemsize // word[1]
        _memset(target.ptr + geom.mbase * target.dtype.itemsize, *word, count, _stream(target.stream),
                _ordinal(target))
        return
    if kernel is None:
        kernel = check_launch(target, geom, kind)
    method = int(prm[METHOD]) if kind == TRUNC else 0
    tile = lanes(target.code, kind, method) * _B
    tshift = tile.bit_length() - 1
    nshift, ushift, work = _decoding(geom, tile)
    args = (_I64(target.code), _I64(kind), _words(prm, np.float64), _words(key, _U64), _words(stream, _U64),
            *_geometry_args(geom), _U64(tshift), _I64(nshift), _I64(ushift), _I64(work))
    with _on_device(kernel.ordinal):
        _run(kernel, work, _stream(target.stream), [(target.ptr, target.span, _storage(target))], args)


def _memset_word(code: int, p0: float) -> tuple[int, int] | None:
    """(word, bytes): the word whose repetition stores a constant (``p0``: the kernels' P0, :func:`launch`'s), for the
    driver's memset: a float32's bits, a float16's or bfloat16's, a float64 whose two 32-bit halves are equal (0.0)
    as 32-bit words; None for another float64 (the kernel stores it)."""
    if code == F32:
        return int(p0), 4
    if code != F64:
        return int(p0), 2
    bits = int(np.float64(p0).view(np.uint64))
    return (bits >> 32, 4) if bits >> 32 == bits & 0xFFFFFFFF else None


def _memset(ptr: int, word: int, width: int, count: int, stream: int, ordinal: int | None) -> None:
    """Set ``count`` words of ``width`` bytes at device address ``ptr`` to ``word`` on ``stream`` (a handle) and
    device ``ordinal``: the driver's ``cuMemsetD32Async`` / ``cuMemsetD16Async``, a memset's speed (the simulator,
    ``ordinal`` None, writes the host memory that stands for the device's)."""
    if ordinal is None:
        _simulated_memory(ptr, count, np.dtype(np.uint32 if width == 4 else np.uint16))[...] = word
        return
    with _on_device(ordinal):
        _driver_memset(width)(ptr, word, count, stream)


def _driver_memset(width: int):
    """numba-cuda's error-checked binding of the driver's memset of ``width``-byte words."""
    from numba.cuda.cudadrv import driver

    return driver.driver.cuMemsetD32Async if width == 4 else driver.driver.cuMemsetD16Async


def _upload(ptr: int, src: np.ndarray, stream: int) -> None:
    """Copy the contiguous host array ``src`` to device address ``ptr`` on ``stream`` (a handle; current device)."""
    if simulated():  # its device memory is host memory
        _simulated_memory(ptr, src.size, src.dtype)[...] = src
        return
    desc = {"shape": (src.size,), "strides": None, "typestr": src.dtype.str, "data": (ptr, False), "version": 3}
    cuda.from_cuda_array_interface(desc, sync=False).copy_to_device(src, stream=_numba_stream(stream))


def _staged(src: np.ndarray, stream: int):
    """``src`` copied to a new device buffer on ``stream`` (a handle; current device): (the buffer, its address)."""
    if simulated():
        return src, src.ctypes.data
    buf = cuda.to_device(src, stream=_numba_stream(stream))
    return buf, buf.__cuda_array_interface__["data"][0]


def host_copy(target):
    """Check, before the host computes anything, that host values can be copied into the GPU target; returns
    ``copy(host)``, which writes a host array of the target's shape and dtype into it on the target's stream: one
    host-to-device copy when the target is one ascending contiguous run, else a copy to a contiguous device
    buffer and :func:`_scatter` (a transpose, a slice, a channels_last or reversed view).  How initializers
    computed on the host reach GPU memory."""
    from ._buffers import geometry

    geom = geometry(target)
    dt = _storage(target)
    if _one_run(geom):
        require_gpu()
        ordinal = _ordinal(target)

        def copy(host: np.ndarray) -> None:
            with _on_device(ordinal):
                _upload(target.ptr + geom.mbase * dt.itemsize, np.ascontiguousarray(host).view(dt).reshape(-1),
                        _stream(target.stream))

        return copy
    kernel = _checked_kernel(target, geom, _scatter)
    shape, gstride, mstride, ndim, _, mbase = _geometry_args(geom)
    args = (shape, gstride, mstride, ndim, mbase)

    def scatter(host: np.ndarray) -> None:
        src = np.ascontiguousarray(host).view(dt).reshape(-1)
        stream = _stream(target.stream)
        with _on_device(kernel.ordinal):
            external = kernel.ordinal is not None and not _frees_in_device_order()
            if external:  # a stream-ordered pool hands out memory in its own stream's order, not the target's
                _synchronize(None)
            buf, ptr = _staged(src, stream)
            _run(kernel, src.size, stream, [(target.ptr, target.span, dt), (ptr, src.size, dt)], args)
            if external:
                _synchronize(stream)  # the kernel reads the buffer: kept until it has run
            del buf

    return scatter


def _frees_in_device_order() -> bool:
    """Whether device memory is allocated and freed in the device's order: numba-cuda's own allocator (cuMemAlloc; its
    cuMemFree waits for the device), not an external memory manager (an EMM plugin such as RMM's stream-ordered pool,
    which may hand memory out while work on another stream still uses it, and take it back while a kernel on
    another stream still reads it)."""
    from numba.cuda.cudadrv import driver

    return type(cuda.current_context().memory_manager) is driver.NumbaCUDAMemoryManager


def _synchronize(stream: int | None) -> None:
    """Wait for the work queued on ``stream`` (a handle: 0, the legacy or per-thread default stream, a stream's), or
    with None for all the current device's work."""
    from numba.cuda.cudadrv import driver

    if stream is None:
        driver.driver.cuCtxSynchronize()
    else:
        driver.driver.cuStreamSynchronize(stream)


def ptx(kind: int, code: int = F32, cc: tuple = (9, 0)) -> str:
    """The PTX of the constant/uniform/normal (or, for ``kind == TRUNC``, truncated-normal) kernel
    for targets of storage code ``code``, compiled as :func:`launch` compiles it: to check for FMA contraction."""
    with _ieee_nvvm():
        text, _ = cuda.compile_ptx(_fill_trunc if kind == TRUNC else _fill, _signature(code), cc=cc)
    return text


