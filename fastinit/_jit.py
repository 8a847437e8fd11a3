"""How fastinit compiles, said once.

* :data:`scalar` — per-element math (bits, transforms): inlined at numba-IR level into every
  kernel loop, so LLVM sees straight-line arithmetic it can vectorize.  The same Python source
  is what the CUDA kernels compile as device functions.
* :data:`kernel` — serial helpers and loops over tiles (cached on disk where numba finds a writable folder).
* :data:`parallel_kernel` — the ``prange`` entry points (cached likewise).
* :data:`outlined` — large functions the CUDA kernels call once (``_cpu._candidates32/64``, ``_cuda._store_block``):
  typed on their own and inlined by LLVM, which keeps the kernels' first compile 2-5x shorter than numba-IR
  inlining; not cached (no CPU kernel calls them).

``error_model="numpy"`` drops Python's zero-division checks (the math never divides by zero,
and a check per element would block vectorization).  No ``fastmath``: results must not depend
on instruction selection (no FMA contraction, no reassociation), which is what keeps them
bit-identical across machines and thread counts.

The bit casts (:func:`float_bits`, :func:`bits_float`) reinterpret a float's storage as an
unsigned integer and back: a free LLVM ``bitcast`` in compiled code (it vectorizes), a NumPy
view in plain Python.  :func:`sqrt` and :func:`floor` are the LLVM intrinsics ``llvm.sqrt`` /
``llvm.floor`` (IEEE: correctly rounded / exact) for every target: numba's CPU lowering of
``np.sqrt`` / ``np.floor`` gives the same bits, and numba-cuda has no lowering of those ufuncs on
scalars, so the transforms call these instead.  :func:`mul_lo32` is Philox's 32x32 -> 64-bit product of a word's
low half and a multiplier: LLVM's ``mul`` of the masked word on the CPU (``vpmuludq`` once vectorized), PTX's
``mul.wide.u32`` on a GPU (the 64-bit multiply NVVM emits there made ptxas add the words' zero high halves back,
one ``VIADD`` per multiply).  The same product on both.

:func:`wide_vectors` lets LLVM vectorize the calling function with the widest registers the CPU has.
LLVM's tuning for Intel's AVX-512 cores (Skylake-SP to Sapphire Rapids, Rocket Lake) prefers 256-bit
vectors, so numba's host target compiles every loop 8 float32 lanes wide there; the kernels call it
first (measured on a 2-vCPU Sapphire Rapids VM: normal_ 1.5x, uniform_ 1.1-1.3x faster).  Same
instructions lane by lane (no fastmath), so the same bits; a no-op on CPUs without 512-bit vectors.

:func:`half_bits` rounds a float32 to IEEE binary16 with the CPU's own conversion instruction (LLVM
``fptrunc`` to ``half``: x86 F16C ``vcvtps2ph``, AArch64 ``fcvt``), round to nearest, ties to even:
the same bits as the portable ``_transforms.f32bits_to_f16bits`` for every input but NaN payloads
(tested on all 2**32 patterns), 2.2x faster and vectorized.  :data:`HARDWARE_HALF` says whether the
host has it; elsewhere LLVM would call a runtime library, so the kernels use the portable one.

:func:`stream_store` writes 32 bytes with one LLVM ``!nontemporal`` vector store (x86 ``vmovntps`` /
``vmovntdq``, AArch64 ``stnp``): the cache line goes to memory without first being read into the cache (a plain
store reads it: twice the memory traffic of the write); :func:`store_fence` (``fence seq_cst``: on x86
``mfence`` or a locked ``or`` of 0 to the stack, either draining the write-combining buffers) orders such stores
before the thread reports its work done.  The large constant fills use them.
"""
import functools
import hashlib
import os
import platform
import sys
import types as types_module

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core.extending import intrinsic, overload

from ._signals import guard_dispatcher

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def package_stamp(package: str = _PACKAGE) -> str:
    """A digest of the contents of every module of ``package`` (a directory), re-read only when a module's
    (mtime, size) changes."""
    files = tuple((name, st.st_mtime_ns, st.st_size) for name, st in
                  ((n, os.stat(os.path.join(package, n))) for n in sorted(os.listdir(package)) if n.endswith(".py")))
    return _digest(package, files)


@functools.lru_cache(maxsize=None)
def _digest(package: str, files: tuple) -> str:
    h = hashlib.sha256()
    for name, _, _ in files:
        with open(os.path.join(package, name), "rb") as f:
            h.update(name.encode() + b"\0" + f.read() + b"\0")
    return h.hexdigest()


def _covering(base):
    """numba's locator ``base``, for fastinit's functions only, stamped with :func:`package_stamp`."""
    class Locator(base):
        def get_source_stamp(self):
            if getattr(sys, "frozen", False):  # numba stamps a frozen application with its executable
                return super().get_source_stamp()
            return package_stamp()

        @classmethod
        def from_function(cls, py_func, py_file):
            if os.path.dirname(os.path.abspath(py_file)) != _PACKAGE:
                return None
            return super().from_function(py_func, py_file)

    Locator.__name__ = Locator.__qualname__ = "Package" + base.__name__
    Locator.__module__ = __name__
    return Locator


def stamp_caches_with_the_package(caching=None, prefix: str = "") -> None:
    """numba keeps a cached kernel while its own module's source is unchanged, but fastinit's kernels
    inline functions of other modules (the transforms, Philox): edit _transforms.py and the kernels of
    _cpu.py would keep the old math.  fastinit's functions therefore get locators whose stamp covers
    every module of the package (contents, like numba's own stamp): any edit recompiles them.  numba's
    file-backed locators, each wrapped and put before it (NUMBA_CACHE_DIR keeps precedence); also
    usable by name in NUMBA_CACHE_LOCATOR_CLASSES (``fastinit._jit.PackageInTreeCacheLocator``).  Left
    as numba's where that private list changes shape or the package is not a directory of sources.
    ``caching``: numba's caching module (default) or numba-cuda's own copy of it (``numba.cuda.core.caching``,
    whose locator classes' names start with ``prefix``, "_"), for the GPU kernels' cache (``_cuda._compiled``)."""
    if caching is None:
        from numba.core import caching

    classes = getattr(getattr(caching, "CacheImpl", None), "_locator_classes", None)
    bases = [getattr(caching, prefix + n, None) for n in ("UserProvidedCacheLocator", "InTreeCacheLocator",
                                                          "UserWideCacheLocator")]
    if not isinstance(classes, list) or not all(b in classes for b in bases):
        return
    try:
        package_stamp()
    except OSError:  # not a directory of sources (a zip, a frozen application): numba's own locators
        return
    classes[:] = [c for c in classes if not c.__name__.startswith("Package")]  # a reload replaces, not adds
    for base in bases:
        locator = _covering(base)
        globals()[locator.__name__] = locator
        classes.insert(classes.index(base), locator)


def _scipy_has_blas() -> bool:
    """Whether SciPy's BLAS module is installed, found on disk without importing ``scipy.linalg``."""
    import importlib.util

    spec = importlib.util.find_spec("scipy")
    for location in spec.submodule_search_locations or () if spec is not None else ():
        folder = os.path.join(location, "linalg")
        if os.path.isdir(folder) and any(name.startswith("cython_blas.") for name in os.listdir(folder)):
            return True
    return False


def _defer_numbas_blas_import() -> None:
    """numba's CPU target, when it first loads (the first kernel call or cache load of a process),
    imports ``numba.np.arraymath``, which asks whether ``np.dot`` may use a BLAS by importing
    ``scipy.linalg`` (0.25-0.5 s of a 0.6 s first fill on the 2-vCPU VM, docs/performance.md).  That
    first load here finds SciPy's BLAS on disk instead; the import (and numba's LP64/ILP64 check) then
    happens when a function that does use BLAS compiles (``np.dot``, ``orthogonal_``), as numba's
    ``numba.np.linalg`` does it anyway.  One shot: numba's method is put back at once, and nothing is
    changed where numba's modules are not as expected or are already loaded."""
    from numba.core import cpu

    original = getattr(cpu.CPUContext, "load_additional_registries", None)
    if original is None:  # pragma: no cover - numba reorganised: leave it alone
        return

    def load_additional_registries(self):
        cpu.CPUContext.load_additional_registries = original
        from numba.np import linalg as nblinalg

        real = getattr(nblinalg, "ensure_blas", None)
        if callable(real) and "numba.np.arraymath" not in sys.modules and "scipy.linalg" not in sys.modules:
            def ensure_blas():
                if not _scipy_has_blas():
                    raise ImportError("scipy 0.16+ is required for linear algebra")

            nblinalg.ensure_blas = ensure_blas
            try:
                from numba.np import arraymath
            finally:
                nblinalg.ensure_blas = real
            if getattr(arraymath, "ensure_blas", None) is ensure_blas:
                arraymath.ensure_blas = real
        return original(self)

    cpu.CPUContext.load_additional_registries = load_additional_registries


stamp_caches_with_the_package()
_defer_numbas_blas_import()
scalar = numba.njit(inline="always", error_model="numpy")
outlined = numba.njit(error_model="numpy")
UNCACHED: list[str] = []  # the kernels numba could not cache (no writable cache folder)


def cached_or_not(jit, fn):
    """``jit(fn, cache=True)``, or ``jit(fn)`` where numba finds no writable cache folder (the package folder
    read-only and no writable home or NUMBA_CACHE_DIR: numba refuses ``cache=True`` at decoration, which would
    make ``import fastinit`` fail).  Then every process compiles the kernels it uses; one warning says so, and
    :data:`UNCACHED` lists them.  ``jit(fn, cache=...)``: numba's ``njit`` or numba-cuda's ``cuda.jit``."""
    try:
        return jit(fn, cache=True)
    except RuntimeError as e:
        if "no locator available" not in str(e):
            raise
        if not UNCACHED:
            import warnings

            where = os.environ.get("NUMBA_CACHE_DIR")
            why = f"NUMBA_CACHE_DIR={where} is not writable by this user" if where else "no writable cache folder"
            warnings.warn(f"numba cannot cache fastinit's compiled kernels here ({why}): every process compiles "
                          "them on first use (10 to 30 s each); set NUMBA_CACHE_DIR to a folder this user can "
                          "write to", RuntimeWarning, stacklevel=3)
        UNCACHED.append(fn.__qualname__)
        return jit(fn, cache=False)


def _cached(**options):
    """``numba.njit(cache=True, **options)`` where numba can cache (:func:`cached_or_not`); a Ctrl-C while it loads
    or compiles a kernel reaches the caller, not lost in llvmlite's callbacks (:func:`._signals.guard_dispatcher`)."""
    def jit(fn):
        dispatcher = cached_or_not(lambda f, cache: numba.njit(cache=cache, **options)(f), fn)
        guard_dispatcher(dispatcher)
        return dispatcher

    return jit


kernel = _cached(error_model="numpy")
parallel_kernel = _cached(parallel=True, error_model="numpy")


@functools.cache
def serial_twin(dispatcher, variant: str = ""):
    """A :data:`parallel_kernel`'s function compiled as a plain :data:`kernel` (its ``prange`` loops run in order on
    the calling thread; the same values: they never depend on the thread count), cached on disk under its own
    name, ``<name>_serial<variant>`` (numba's cache index does not tell a parallel build from a serial one; one
    ``variant`` per signature, so that forked workers compiling at once never write two signatures of one
    index).  For where numba's threading layer cannot run (a process forked from one that used GNU OpenMP).
    The dispatcher itself where numba's JIT is off (it is the Python function then)."""
    fn = getattr(dispatcher, "py_func", None)
    if fn is None:
        return dispatcher
    name = f"{fn.__name__}_serial{variant}"
    twin = types_module.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    twin.__qualname__, twin.__module__, twin.__doc__ = name, fn.__module__, fn.__doc__  # module-level kernels
    return kernel(twin)


_UINT_OF = {types.float32: types.uint32, types.float64: types.uint64}
_FLOAT_OF = {types.uint32: types.float32, types.uint64: types.float64}
_NP_UINT = {np.dtype(np.float32): np.uint32, np.dtype(np.float64): np.uint64}
_NP_FLOAT = {np.dtype(np.uint32): np.float32, np.dtype(np.uint64): np.float64}


def wide_vectors():
    """Compiled: give the calling function LLVM's ``"prefer-vector-width"="512"`` attribute.  Python: no-op."""


@intrinsic
def _prefer_wide(typingctx):
    def codegen(context, builder, signature, args):
        # a string attribute, which llvmlite's FunctionAttributes.add refuses (it knows enum attributes only)
        # but writes into the IR like the others; a tuning hint only, so skipped should that class change
        attrs = builder.function.attributes
        if isinstance(attrs, set):
            set.add(attrs, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return types.none(), codegen


@overload(wide_vectors, inline="always")
def _wide_vectors_impl():
    return lambda: _prefer_wide()


def _host_features() -> str:
    from numba.core import config

    if config.CPU_FEATURES is not None:
        return config.CPU_FEATURES
    import llvmlite.binding as ll

    return ll.get_host_cpu_features().flatten()


HARDWARE_HALF = (platform.machine().lower() in ("aarch64", "arm64")
                 or platform.machine().lower() in ("x86_64", "amd64") and "+f16c" in _host_features().split(","))


def half_bits(x):
    """The IEEE binary16 bits (uint16) nearest, ties to even, to the float32 ``x``."""
    with np.errstate(over="ignore"):
        return np.asarray(x, np.float32).astype(np.float16).view(np.uint16)[()]


@intrinsic
def _fptrunc_half(typingctx, x):
    if x == types.float32:
        def codegen(context, builder, signature, args):
            return builder.bitcast(builder.fptrunc(args[0], ir.HalfType()), ir.IntType(16))

        return types.uint16(x), codegen


@overload(half_bits, inline="always")
def _half_bits_impl(x):
    if x == types.float32:
        return lambda x: _fptrunc_half(x)


def float_bits(x):
    """The IEEE bits of a float32 / float64 as uint32 / uint64."""
    a = np.asarray(x)
    return a.view(_NP_UINT[a.dtype])[()]


def bits_float(b):
    """The float32 / float64 whose IEEE bits are the uint32 / uint64 ``b``."""
    a = np.asarray(b)
    return a.view(_NP_FLOAT[a.dtype])[()]


@intrinsic
def _bitcast(typingctx, x, to):
    target = to.instance_type

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(target.bitwidth) if isinstance(target, types.Integer)
                               else context.get_value_type(target))

    return target(x, to), codegen


@overload(float_bits, inline="always")
def _float_bits_impl(x):
    if x in _UINT_OF:
        to = _UINT_OF[x]
        return lambda x: _bitcast(x, to)


@overload(bits_float, inline="always")
def _bits_float_impl(b):
    if b in _FLOAT_OF:
        to = _FLOAT_OF[b]
        return lambda b: _bitcast(b, to)


def sqrt(x):
    """The correctly rounded square root of a float32 / float64 (IEEE 754 ``squareRoot``)."""
    return np.sqrt(x)


def floor(x):
    """The largest integral value <= x, in x's float type."""
    return np.floor(x)


def _unary_intrinsic_codegen(name):
    def codegen(context, builder, signature, args):
        return builder.call(builder.module.declare_intrinsic(name, [args[0].type]), args)

    return codegen


@intrinsic
def _llvm_sqrt(typingctx, x):
    if isinstance(x, types.Float):
        return x(x), _unary_intrinsic_codegen("llvm.sqrt")


@intrinsic
def _llvm_floor(typingctx, x):
    if isinstance(x, types.Float):
        return x(x), _unary_intrinsic_codegen("llvm.floor")


@overload(sqrt, inline="always")
def _sqrt_impl(x):
    if isinstance(x, types.Float):
        return lambda x: _llvm_sqrt(x)


@overload(floor, inline="always")
def _floor_impl(x):
    if isinstance(x, types.Float):
        return lambda x: _llvm_floor(x)


def stream_store(d, i, x):
    """d[i : i + 32 / itemsize] = x, one 32-byte non-temporal store (&d[i] 32-byte aligned).  Python: a slice."""
    d[i:i + 32 // d.itemsize] = x


def store_fence():
    """Compiled: a ``fence seq_cst``, ordering the non-temporal stores before it.  Python: no-op."""


@intrinsic
def _stream_store(typingctx, d, i, x):
    if isinstance(d, types.Array) and d.ndim == 1 and d.layout == "C" and isinstance(i, types.Integer) \
            and x == d.dtype:
        def codegen(context, builder, signature, args):
            ary = context.make_array(d)(context, builder, args[0])
            index = context.cast(builder, args[1], i, types.intp)
            ptr = builder.gep(ary.data, [index], inbounds=True)  # (a contiguous 1-D array: its element i)
            lanes = ir.VectorType(context.get_value_type(d.dtype), 256 // d.dtype.bitwidth)
            value = ir.Constant(lanes, ir.Undefined)
            for k in range(lanes.count):
                value = builder.insert_element(value, args[2], ir.Constant(ir.IntType(32), k))
            store = builder.store(value, builder.bitcast(ptr, lanes.as_pointer()), align=32)
            store.set_metadata("nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]))
            return context.get_dummy_value()

        return types.none(d, i, x), codegen


@overload(stream_store, inline="always")
def _stream_store_impl(d, i, x):
    if isinstance(d, types.Array) and d.ndim == 1 and d.layout == "C" and x == d.dtype:
        return lambda d, i, x: _stream_store(d, i, x)


@intrinsic
def _fence(typingctx):
    def codegen(context, builder, signature, args):
        builder.fence("seq_cst")
        return context.get_dummy_value()

    return types.none(), codegen


@overload(store_fence, inline="always")
def _store_fence_impl():
    return lambda: _fence()


_MASK32 = np.uint64(0xFFFFFFFF)


def mul_lo32(a, m):
    """The 64-bit product of the low 32 bits of ``a`` and the 32-bit ``m`` (uint64 scalars)."""
    return (a & _MASK32) * m


@intrinsic
def _mul_lo32(typingctx, a, m):
    if a == types.uint64 and m == types.uint64:
        def codegen(context, builder, signature, args):
            a, m = args
            if builder.module.triple.startswith("nvptx"):  # numba-cuda's modules: say the 32-bit multiply
                i32 = ir.IntType(32)
                fnty = ir.FunctionType(ir.IntType(64), [i32, i32])
                return builder.asm(fnty, "mul.wide.u32 $0, $1, $2;", "=l,r,r",
                                   [builder.trunc(a, i32), builder.trunc(m, i32)], side_effect=False)
            return builder.mul(builder.and_(a, ir.Constant(a.type, 0xFFFFFFFF)), m)

        return types.uint64(a, m), codegen


@overload(mul_lo32, inline="always")
def _mul_lo32_impl(a, m):
    if a == types.uint64 and m == types.uint64:
        return lambda a, m: _mul_lo32(a, m)
