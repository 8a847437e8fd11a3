"""Layer 7 — measurement: what ``fastinit bench`` runs, and the timing helpers bench/ can share.

For each initializer and dtype, in one process and on the same buffer: fastinit's time (best of
``repeat`` after one warm-up call; the last timed call must overwrite NaN sentinels and write values of its
law: :class:`FillCheck`), a memset of the same buffer (the C library's ``memset`` on as many
threads as the fill: the memory-speed ceiling), and what a user would call instead, each only when installed —
NumPy (``Generator.random`` / ``standard_normal`` with ``out=``, or drawn into a float32 scratch allocated
before the timing and stored for the 16-bit types; ``scipy.stats.truncnorm`` for the truncated normal),
torch (``Tensor.uniform_`` / ``normal_`` and ``torch.nn.init``, with as many threads as numba)
and JAX (``jax.random`` / ``jax.nn.initializers`` compiled ahead with ``jax.jit(...).lower().compile()``,
``block_until_ready``; new arrays, JAX has no in-place fill).  A contestant whose one call takes over a
second is timed once after its warm-up (``timed_calls`` in its entry), over ten seconds by that first call alone
(``"cold": true``: any first-call cost included).  Speed-up = their time / fastinit's time; memset fraction =
memset time / fastinit time (1.0 would be memory speed).

Peak RSS beyond the buffer and the first-call time are measured in a fresh child process each
(``python -c "import fastinit; fastinit.X(...)"``, warm numba cache): the first call includes
``import fastinit`` and the kernel's cache load (a small fill; orthogonal_ and sparse_: one of the measured
shape, so that SciPy's import for the blocked QR lands there); the RSS overhead is the rise of the peak RSS over a
paged-in buffer during one fill (Linux: VmHWM after resetting it through ``/proc/self/clear_refs``;
elsewhere ``ru_maxrss``, a lifetime high-water mark that can hide a small overhead).
"""
from __future__ import annotations

import contextlib
import ctypes
import decimal
import importlib.util
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Iterator, Optional

import numpy as np

from . import _cpu, init, scaled, sparsity, structured
from ._buffers import resolve_dtype
from ._cpu import last_level_cache

__all__ = [
    "INITIALIZERS", "ELEMENTWISE", "MATRIX", "CONTESTANTS", "DTYPES", "Result", "parse_size", "best_of", "timings",
    "memset", "memset_threads", "progress", "rss_overhead", "machine_info", "case_shape", "fastinit_fill", "probe",
    "run_bench", "run_bench_cuda", "cuda_unavailable_reason", "format_table", "contestant_setup", "thread_counts",
    "FillCheck", "FillCheckError",
]

#: elementwise initializers (timed on ``size`` elements) and matrix ones (timed on ``matrix``² elements)
ELEMENTWISE = ("constant_", "uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "kaiming_normal_")
MATRIX = ("orthogonal_", "sparse_")
INITIALIZERS = ELEMENTWISE + MATRIX
CONTESTANTS = ("numpy", "torch", "jax")
DTYPES = ("float16", "bfloat16", "float32", "float64")
COLS = 1024  # xavier/kaiming fill a (size // 1024, 1024) weight: fan_in 1024
SPARSITY = 0.1
CONSTANT = 0.5  # constant_'s value
CONTESTANT_BUDGET_S = 1.0  # a contestant slower than this per call is timed once after its warm-up
COLD_S = 10.0  # a contestant's first call slower than this is its measurement (nothing to compile: JAX's is ahead)

_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9}


def parse_size(text: str) -> int:
    """A positive element count from ``1e8``, ``100M``, ``2.5k``, ``10_000`` or ``1G`` (suffixes k, M, G)."""
    m = re.fullmatch(r"\s*([0-9_]*\.?[0-9_]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgGbB]?)\s*", str(text))
    if not m or not re.search(r"[0-9]", m.group(1)):  # ("_" alone matches the digits' pattern)
        raise ValueError(f"size must look like 1e8, 100M, 2.5k or 10000, got {text!r}")
    digits = m.group(1).replace("_", "")
    number = decimal.Decimal(digits)  # (exact: not a float's 53 bits, which made 123456789012345678 ...680)
    if number.adjusted() >= 19:  # (1e19 and up, 1e99999999 included: no product to round or overflow)
        raise ValueError(f"size must be below 2**63 elements, got {text!r}")
    with decimal.localcontext() as exact:
        exact.prec = len(digits) + 12  # (a product of the digits and a suffix of at most 10: exact)
        value = number * _SUFFIX[m.group(2).lower()]
    if value >= 2**63:  # beyond any file or memory (and numpy's "Maximum allowed dimension exceeded")
        raise ValueError(f"size must be below 2**63 elements, got {text!r}")
    if value < 1 or value != value.to_integral_value():
        raise ValueError(f"size must be a positive whole number of elements, got {text!r}")
    return int(value)


def timings(fn: Callable[[], Any], repeat: int, warmup: int = 1, budget: float = math.inf,
            before_last: Optional[Callable[[], Any]] = None) -> list[float]:
    """The wall times (s) of up to ``repeat`` calls of ``fn`` after ``warmup`` untimed calls.

    Stops early (after at least one timed call) once the timed calls used ``budget`` seconds.  ``before_last``
    runs, untimed, before the last timed call (e.g. :meth:`FillCheck.plant`; not with a budget, which may end the
    calls before it).
    """
    if before_last is not None and budget != math.inf:
        raise ValueError("timings: before_last needs every timed call (no budget)")
    for _ in range(warmup):
        fn()
    times: list[float] = []
    for i in range(repeat):
        if before_last is not None and i == repeat - 1:
            before_last()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if sum(times) >= budget:
            break
    return times


def best_of(fn: Callable[[], Any], repeat: int, **options) -> float:
    """The shortest of :func:`timings` (same arguments)."""
    return min(timings(fn, repeat, **options))


_POOLS: dict = {}  # helper threads of memset, by count: started once, reused


def memset_threads(buf: np.ndarray) -> int:
    """The threads :func:`memset` zeroes ``buf`` with: those a fastinit fill of it runs on (numba's thread count,
    one up to ``_cpu.SERIAL_ELEMENTS`` elements); one where ``buf`` is not contiguous."""
    return _cpu.threads_for(buf.size) if _one_block(buf) else 1


def _one_block(buf: np.ndarray) -> bool:
    return buf.flags.c_contiguous or buf.flags.f_contiguous


def memset(buf: np.ndarray) -> None:
    """Zero ``buf`` with the C library's ``memset``, one call per contiguous slice on :func:`memset_threads`
    threads (ctypes releases the GIL; the helper threads are started once), so that it and a fastinit fill
    use the same cores; ``ndarray.fill`` where ``buf`` is not contiguous (integer storage for bfloat16)."""
    if not _one_block(buf):
        (buf if buf.dtype.kind == "f" else buf.view(np.uint16)).fill(0)
        return
    threads, addr, nbytes = memset_threads(buf), buf.ctypes.data, buf.nbytes
    if threads == 1:
        ctypes.memset(addr, 0, nbytes)
        return
    per_thread = -(-nbytes // threads)
    step = -(-per_thread // 4096) * 4096  # whole 4 KiB pages
    if threads not in _POOLS:
        from concurrent.futures import ThreadPoolExecutor

        _POOLS[threads] = ThreadPoolExecutor(threads - 1, thread_name_prefix="fastinit-memset")
    rest = [_POOLS[threads].submit(ctypes.memset, addr + start, 0, min(step, nbytes - start))
            for start in range(step, nbytes, step)]
    ctypes.memset(addr, 0, min(step, nbytes))  # the first slice on this thread
    for done in rest:
        done.result()


def progress(items: Iterable, total: int, desc: str, enabled: bool = True):
    """``items`` wrapped in a tqdm bar on stderr when tqdm is installed and ``enabled``; else ``items``."""
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, total=total, desc=desc, file=sys.stderr, leave=False)


def thread_counts() -> dict:
    """numba's thread count, and torch's where torch is imported."""
    counts = {"numba_threads": _cpu.num_threads()}
    if "torch" in sys.modules:
        counts["torch_threads"] = sys.modules["torch"].get_num_threads()
    return counts


@contextlib.contextmanager
def contestant_setup(against: Iterable[str] = CONTESTANTS) -> Iterator[dict]:
    """The set-up contestants are timed in, restored on exit: torch on numba's thread count, JAX in float64 mode
    (else float64 arrays are float32); those of ``against`` not installed are left alone.  Yields
    :func:`thread_counts`."""
    against = [c for c in against if installed(c)]
    with contextlib.ExitStack() as restore:
        if "torch" in against:
            import torch

            restore.callback(torch.set_num_threads, torch.get_num_threads())
            torch.set_num_threads(_cpu.num_threads())
        if "jax" in against:
            import jax

            restore.callback(jax.config.update, "jax_enable_x64", jax.config.jax_enable_x64)
            jax.config.update("jax_enable_x64", True)
        yield thread_counts()


def machine_info() -> dict:
    """CPU, core count, numba (and torch) threads and library versions: the context every number needs."""
    import numba

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    versions = {"python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__}
    for mod in ("torch", "jax", "scipy"):
        if mod in sys.modules:
            versions[mod] = sys.modules[mod].__version__
    from . import __version__

    versions["fastinit"] = __version__
    return {"platform": f"{platform.system()} {platform.machine()}", "cpu": cpu, "cpus": os.cpu_count(),
            **thread_counts(), "last_level_cache_bytes": last_level_cache(), "versions": versions}


def load_average() -> Optional[float]:
    """The OS's 1-minute load average (None where it has none): other work competing for the cores."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # (no getloadavg: Windows; OSError where the OS cannot say)
        return None


def case_shape(name: str, size: int, matrix: int) -> tuple[int, ...]:
    """The shape ``name`` is timed on: ``(size,)``, a ``(size // 1024, 1024)`` weight, or ``matrix``²."""
    if name in MATRIX:
        return (matrix, matrix)
    if name in ("xavier_uniform_", "kaiming_normal_"):
        cols = min(COLS, size)
        return (size // cols, cols)
    return (size,)


def fastinit_fill(name: str, buf: np.ndarray, seed: int = 1) -> Callable[[], Any]:
    """The fastinit call that ``fastinit bench`` times for initializer ``name`` on ``buf``."""
    fills = {
        "constant_": lambda: init.constant_(buf, CONSTANT),
        "uniform_": lambda: init.uniform_(buf, seed=seed),
        "normal_": lambda: init.normal_(buf, seed=seed),
        "trunc_normal_": lambda: init.trunc_normal_(buf, seed=seed),
        "xavier_uniform_": lambda: scaled.xavier_uniform_(buf, seed=seed),
        "kaiming_normal_": lambda: scaled.kaiming_normal_(buf, nonlinearity="relu", seed=seed),
        "orthogonal_": lambda: structured.orthogonal_(buf, seed=seed),
        "sparse_": lambda: sparsity.sparse_(buf, SPARSITY, seed=seed),
    }
    return fills[name]


class FillCheckError(AssertionError):
    """A timed fill left a NaN sentinel in its buffer or broke its law."""


class FillCheck:
    """Did the timed fill write ``law`` into ``buf`` (a NumPy array, a torch tensor, or a C-contiguous GPU array
    exporting ``__cuda_array_interface__``)?  :meth:`plant`, called outside the timing before the last timed call,
    puts NaN at 256 places (first, last, spread and random: a few KiB of cache lines, no bias to the timing);
    :meth:`verify` then raises :class:`FillCheckError` when one is left or a cheap law check of a sample fails.
    A GPU buffer is read and written a few elements at a time (one small copy each, outside the timing) and its
    elementwise laws checked on 16 slices of it; ``orthogonal`` and ``sparse`` need a host buffer.

    Laws and their parameters: ``constant`` (value), ``uniform`` (a, b), ``normal`` (mean, std), ``trunc_normal``
    (mean, std, a, b): bounds, the sample mean and std within 6 standard errors, and a KS distance to the law;
    ``orthogonal``: QᵀQ = I on 8 columns (rows of a wide matrix); ``sparse`` (zeros, std): the zero count of 64
    columns, the non-zeros' mean and std.
    """

    SENTINELS = 256
    SAMPLE = 1 << 16

    def __init__(self, buf, law: str, name: Optional[str] = None, **params):
        if law not in _LAWS:
            raise ValueError(f"unknown law {law!r}; choose from {list(_LAWS)}")
        self.gpu = _GpuFlat(buf) if _on_gpu(buf) else None
        if self.gpu is not None and law in _HOST_LAWS:
            raise ValueError(f"the {law} law is checked on host buffers only (a GPU buffer: one of {_GPU_LAWS})")
        if self.gpu is None and not isinstance(buf, np.ndarray):
            from .torch import as_numpy

            buf = as_numpy(buf)
        self.view = None if self.gpu is not None else buf
        self.law, self.params, self.planted = law, params, False
        ref = self.gpu or buf
        self.dtype, n = np.dtype(ref.dtype), int(math.prod(ref.shape))
        self.label = f"{name or law} fill of {self.dtype} {tuple(ref.shape)}"
        spread = np.linspace(0, n - 1, min(n, self.SENTINELS // 2)).astype(np.int64)
        self.spots = np.unique(np.concatenate([spread, np.random.default_rng(n).integers(0, max(n, 1), spread.size)]))

    @classmethod
    def for_case(cls, name: str, buf) -> "FillCheck":
        """The check of :func:`fastinit_fill`'s ``name`` on ``buf`` (its 2-D weight's fans: torch's layout)."""
        rows, cols = buf.shape if len(buf.shape) == 2 else (1, math.prod(buf.shape))
        bound = math.sqrt(6.0 / (rows + cols))
        law, params = {
            "constant_": ("constant", {"value": CONSTANT}),
            "uniform_": ("uniform", {"a": 0.0, "b": 1.0}),
            "normal_": ("normal", {"mean": 0.0, "std": 1.0}),
            "trunc_normal_": ("trunc_normal", {"mean": 0.0, "std": 1.0, "a": -2.0, "b": 2.0}),
            "xavier_uniform_": ("uniform", {"a": -bound, "b": bound}),
            "kaiming_normal_": ("normal", {"mean": 0.0, "std": math.sqrt(2.0 / cols)}),
            "orthogonal_": ("orthogonal", {}),
            "sparse_": ("sparse", {"zeros": math.ceil(SPARSITY * rows), "std": 0.01}),
        }[name]
        return cls(buf, law, name, **params)

    def plant(self) -> None:
        """NaN at the sentinel places (call it untimed, before the last timed call)."""
        if self.gpu is not None:
            self.gpu.plant(self.spots)
        else:
            self.view.flat[self.spots] = np.nan
        self.planted = True

    def planter(self, calls: int) -> Callable[[], None]:
        """A pytest-benchmark ``setup`` (run before every call, untimed) that plants before the ``calls``-th."""
        left = [calls]

        def setup() -> None:
            left[0] -= 1
            if left[0] == 0:
                self.plant()
        return setup

    def verify(self) -> None:
        """Raise :class:`FillCheckError` unless the fill since :meth:`plant` overwrote every sentinel and holds its
        law."""
        if not self.planted:
            raise FillCheckError(f"{self.label}: no sentinel was planted before the last timed call: nothing checked")
        self.planted = False
        gpu = self.gpu
        seen = gpu.take(self.spots) if gpu is not None else np.asarray(self.view.flat[self.spots], np.float64)
        left = int(np.isnan(seen).sum())
        if left:
            raise FillCheckError(f"the timed {self.label} left {left} of {self.spots.size} NaN sentinels: it did not "
                                 "write (all of) its buffer")
        target = gpu.sample() if gpu is not None else self.view
        problem = _LAWS[self.law](target, self.dtype, **self.params) if target.size else None
        if problem:
            raise FillCheckError(f"the timed {self.label} wrote values off its law: {problem}")


def _on_gpu(buf) -> bool:
    """Whether ``buf`` is in GPU memory: a CUDA torch tensor, or another object exporting
    ``__cuda_array_interface__`` (numba-cuda, CuPy)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(buf, torch.Tensor):
        return buf.device.type == "cuda"
    return hasattr(buf, "__cuda_array_interface__")


class _GpuFlat:
    """A C-contiguous GPU array as :class:`FillCheck` reads and writes it: one element or one slice at a time,
    each a small copy (256 sentinels each way, then :data:`FillCheck.SAMPLE` values in 16 slices).  A torch
    tensor through torch (any device: the tests use a CPU one), anything else through numba-cuda's view of its
    ``__cuda_array_interface__``."""

    RUNS = 16

    def __init__(self, buf):
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(buf, torch.Tensor):
            from .torch import _numpy_dtype

            if not buf.is_contiguous():
                raise ValueError(f"a C-contiguous GPU array is needed here, got strides {buf.stride()} for shape "
                                 f"{tuple(buf.shape)} ({buf.dtype})")
            self.dtype, self.shape = _numpy_dtype(buf.dtype), tuple(buf.shape)
            self.flat = buf.detach().view(-1)
            self._host = lambda part: part.double().cpu().numpy()
            self._nan = lambda part: part.fill_(math.nan)
            self._sync = lambda: torch.cuda.synchronize(buf.device) if buf.device.type == "cuda" else None
        else:
            from ._cuda import contiguous_array

            arr = contiguous_array(buf)
            self.dtype, self.shape = np.dtype(arr.dtype), tuple(arr.shape)
            if self.dtype.kind != "f":
                raise TypeError(f"FillCheck reads floating-point GPU arrays, got {self.dtype}")
            self.flat = arr.reshape(arr.size)
            self._host = lambda part: part.copy_to_host().astype(np.float64)
            self._nan = lambda part: part.copy_to_device(np.full(part.size, np.nan, self.dtype))  # synchronous
            self._sync = lambda: None
        self.size = int(math.prod(self.shape))

    def plant(self, spots: np.ndarray) -> None:
        for i in spots.tolist():
            self._nan(self.flat[i:i + 1])
        self._sync()  # nothing of the planting left to run inside the timed call

    def take(self, spots: np.ndarray) -> np.ndarray:
        return np.concatenate([self._host(self.flat[i:i + 1]) for i in spots.tolist()] or [np.empty(0)])

    def sample(self, size: Optional[int] = None) -> np.ndarray:
        """About ``size`` (default :data:`FillCheck.SAMPLE`) values in :data:`RUNS` slices spread over the buffer,
        as float64 on the host."""
        run = max(1, min(self.size, size or FillCheck.SAMPLE) // self.RUNS)
        starts = np.unique(np.linspace(0, self.size - run, self.RUNS).astype(np.int64)).tolist()
        return np.concatenate([self._host(self.flat[s:s + run]) for s in starts] or [np.empty(0)])


def _eps(dtype: np.dtype) -> float:
    return float(np.finfo(dtype).eps) if dtype.kind == "f" else 2.0**-7  # bfloat16: 8 significant bits


def _sample(buf: np.ndarray, size: int = FillCheck.SAMPLE) -> np.ndarray:
    idx = np.unique(np.linspace(0, buf.size - 1, min(buf.size, size)).astype(np.int64))
    return np.asarray(buf.flat[idx], np.float64)


def _moments(x: np.ndarray, dtype: np.dtype, law, a: float = -math.inf, b: float = math.inf) -> Optional[str]:
    """What is off in the sample ``x`` of a fill of ``law`` (a frozen scipy distribution) stored as ``dtype``: a
    non-finite value, one outside [a, b], the sample mean or std beyond 6 standard errors (``6 std / √n``; 0.023 std
    at the 65,536 values sampled), or the shape: a KS distance beyond its 10⁻⁶ critical value plus what rounding to
    ``dtype`` can add (|F(round(x)) − F(x)| ≤ f(x)·|x|·eps); each plus the rounding.  None when nothing is.

    A KS distance, not only moments: a moment-matched wrong law (a uniform for a normal: same mean and std) or a
    std 8 % off had passed the former 0.1 std tolerance."""
    mean, std = float(law.mean()), float(law.std())
    eps = _eps(dtype)
    ulp = eps * max([abs(mean) + 4 * std] + [abs(v) for v in (a, b) if math.isfinite(v)])
    if not np.isfinite(x).all():
        return f"{np.count_nonzero(~np.isfinite(x))} non-finite values"
    if x.min() < a - ulp or x.max() > b + ulp:
        return f"values in [{x.min():.6g}, {x.max():.6g}], outside [{a:.6g}, {b:.6g}]"
    n = max(x.size, 1)
    tol = 6 / math.sqrt(n) * std + ulp
    m, s = x.mean(), x.std()
    if abs(m - mean) > tol or abs(s - std) > tol:
        return f"sample mean {m:.6g} and std {s:.6g} of {x.size} values, for {mean:.6g} and {std:.6g} (± {tol:.2g})"
    from scipy import stats

    grid = law.ppf(np.linspace(1e-6, 1 - 1e-6, 4001))
    rounding = eps * float(np.max(law.pdf(grid) * np.abs(grid)))
    d, allowed = stats.kstest(x, law.cdf).statistic, math.sqrt(math.log(2e6) / (2 * n)) + rounding
    if d > allowed:
        return f"KS distance {d:.4g} of {x.size} values from the law (> {allowed:.3g})"
    return None


def _law_constant(buf, dtype, value):
    x, want = _sample(buf), float(np.asarray(value, dtype))
    wrong = np.count_nonzero(x != want)
    return f"{wrong} of {x.size} sampled values are not {want:.6g}" if wrong else None


def _law_uniform(buf, dtype, a, b):
    from scipy import stats

    return _moments(_sample(buf), dtype, stats.uniform(a, b - a), a, b)


def _law_normal(buf, dtype, mean, std):
    from scipy import stats

    return _moments(_sample(buf), dtype, stats.norm(mean, std))


def _law_trunc_normal(buf, dtype, mean, std, a, b):
    from scipy import stats

    return _moments(_sample(buf), dtype, stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std),
                    a, b)


def _law_orthogonal(buf, dtype):
    rows, cols = buf.shape
    tall = rows >= cols
    pick = np.unique(np.linspace(0, min(rows, cols) - 1, min(8, rows, cols)).astype(np.int64))
    q = np.asarray(buf[:, pick] if tall else buf[pick, :].T, np.float64)
    err = float(np.abs(q.T @ q - np.eye(pick.size)).max()) if np.isfinite(q).all() else math.inf
    work = np.float64 if dtype == np.float64 else np.float32
    tol = 10 * (2 * _eps(dtype) + 2 * math.sqrt(max(rows, cols)) * _eps(np.dtype(work)))
    if err > tol:
        return f"max |QᵀQ - I| = {err:.3g} on {pick.size} {'columns' if tall else 'rows'} (> {tol:.2g})"
    return None


def _law_sparse(buf, dtype, zeros, std):
    rows, cols = buf.shape
    pick = np.unique(np.linspace(0, cols - 1, min(64, cols)).astype(np.int64))
    block = np.asarray(buf[:, pick], np.float64)
    counts = (block == 0).sum(axis=0)
    slack = 1 + rows // 1000  # a float16 N(0, 0.01²) draw may round to 0
    if counts.min() < zeros or counts.max() > zeros + slack:
        return f"{counts.min()} to {counts.max()} zeros in a column, for {zeros}"
    nonzero = block[block != 0]
    from scipy import stats

    # (one row at sparsity 0.1: all zero)
    return _moments(nonzero, dtype, stats.norm(0.0, std)) if nonzero.size else None


_LAWS = {"constant": _law_constant, "uniform": _law_uniform, "normal": _law_normal, "trunc_normal": _law_trunc_normal,
         "orthogonal": _law_orthogonal, "sparse": _law_sparse}
_HOST_LAWS = ("orthogonal", "sparse")  # read along the matrix's axes
_GPU_LAWS = tuple(law for law in _LAWS if law not in _HOST_LAWS)  # read from a sample of values


def _numpy_fill(name: str, buf: np.ndarray) -> Optional[Callable[[], Any]]:
    """What a NumPy user writes instead (16-bit types: drawn into a float32 scratch, allocated here, and stored)."""
    g = np.random.default_rng(1)
    native = buf.dtype in (np.float32, np.float64)
    work = buf.dtype if native else np.dtype(np.float32)
    rows, cols = buf.shape if buf.ndim == 2 else (1, buf.size)

    def store(draw):
        if native:
            return lambda: draw(buf)
        tmp = np.empty(buf.shape, work)  # a 16-bit row's float32 draws: allocated and paged in here, untimed
        memset(tmp)

        def run():
            draw(tmp)
            buf[...] = tmp
        return run

    def scaled_draw(method, factor, shift=0.0):
        def draw(out):
            method(out=out, dtype=out.dtype)
            out *= factor
            if shift:
                out -= shift
        return draw

    if name == "constant_":
        return lambda: buf.fill(0.5)
    if name == "uniform_":
        return store(lambda out: g.random(out=out, dtype=out.dtype))
    if name == "normal_":
        return store(lambda out: g.standard_normal(out=out, dtype=out.dtype))
    if name == "trunc_normal_":
        from scipy import stats

        return lambda: buf.__setitem__(..., stats.truncnorm.rvs(-2.0, 2.0, size=buf.shape, random_state=g))
    if name == "xavier_uniform_":
        bound = math.sqrt(6.0 / (rows + cols))
        return store(scaled_draw(g.random, 2 * bound, bound))
    if name == "kaiming_normal_":
        return store(scaled_draw(g.standard_normal, math.sqrt(2.0 / cols)))
    if name == "orthogonal_":
        def orthogonal():
            q, r = np.linalg.qr(g.standard_normal((rows, cols), dtype=work))
            q *= np.sign(np.diag(r))
            buf[...] = q
        return orthogonal
    nzero = math.ceil(SPARSITY * rows)
    normal = store(lambda out: g.standard_normal(out=out, dtype=out.dtype))

    def sparse():
        normal()
        np.multiply(buf, buf.dtype.type(0.01), out=buf)
        kth = min(nzero, rows - 1)  # (every row zero in a one-row matrix: nzero = rows)
        zero_rows = np.argpartition(g.random((rows, cols), dtype=np.float32), kth, axis=0)[:nzero]
        np.put_along_axis(buf, zero_rows, 0, axis=0)
    return sparse


def _torch_fill(name: str, buf: np.ndarray) -> Callable[[], Any]:
    import torch

    if buf.dtype == resolve_dtype("bfloat16"):
        t = torch.zeros(buf.shape, dtype=torch.bfloat16)  # a tensor of its own, paged in
    else:
        t = torch.from_numpy(buf)
    nn = torch.nn.init
    return {
        "constant_": lambda: t.fill_(0.5),
        "uniform_": lambda: t.uniform_(),
        "normal_": lambda: t.normal_(),
        "trunc_normal_": lambda: nn.trunc_normal_(t),
        "xavier_uniform_": lambda: nn.xavier_uniform_(t),
        "kaiming_normal_": lambda: nn.kaiming_normal_(t, nonlinearity="relu"),
        "orthogonal_": lambda: nn.orthogonal_(t),
        "sparse_": lambda: nn.sparse_(t, SPARSITY),
    }[name]


def _jax_fill(name: str, buf: np.ndarray) -> Optional[Callable[[], Any]]:
    import jax
    import jax.numpy as jnp

    if name == "sparse_":
        return None  # JAX has no sparse initializer
    dt = {"bfloat16": jnp.bfloat16}.get(buf.dtype.name, buf.dtype)
    shape = buf.shape
    inits = jax.nn.initializers
    make = {
        "constant_": lambda k: jnp.full(shape, 0.5, dt),
        "uniform_": lambda k: jax.random.uniform(k, shape, dt),
        "normal_": lambda k: jax.random.normal(k, shape, dt),
        "trunc_normal_": lambda k: jax.random.truncated_normal(k, -2.0, 2.0, shape, dt),
        "xavier_uniform_": lambda k: inits.glorot_uniform(in_axis=-1, out_axis=-2)(k, shape, dt),
        "kaiming_normal_": lambda k: inits.variance_scaling(2.0, "fan_in", "normal", in_axis=-1, out_axis=-2)(
            k, shape, dt),
        "orthogonal_": lambda k: inits.orthogonal()(k, shape, dt),
    }[name]
    key = jax.random.key(1)
    fn = jax.jit(make).lower(key).compile()  # compiled ahead: every timed call is execution only
    return lambda: fn(key).block_until_ready()


_CONTESTANT_FILLS = {"numpy": _numpy_fill, "torch": _torch_fill, "jax": _jax_fill}


def contestant_fill(contestant: str, name: str, buf: np.ndarray) -> Optional[Callable[[], Any]]:
    """What a user of ``contestant`` (numpy, torch, jax) calls instead of fastinit's ``name`` on
    ``buf``; None where that library has no equivalent."""
    return _CONTESTANT_FILLS[contestant](name, buf)


def installed(contestant: str) -> bool:
    """Whether the library behind ``contestant`` can be imported (without importing it)."""
    return importlib.util.find_spec(contestant) is not None


@dataclass
class Result:
    """One (initializer, dtype) row of ``fastinit bench``; times in seconds, None where not measured."""

    initializer: str
    dtype: str
    shape: tuple[int, ...]
    elements: int
    seconds: float
    memset_seconds: float
    memset_threads: Optional[int] = None  # CPU: the threads of the memset (those of the fill); GPU: None
    elements_per_s: float = field(init=False)
    memset_fraction: float = field(init=False)
    others: dict = field(default_factory=dict)  # contestant: {"seconds", "speedup", "timed_calls", "cold"}/{"error"}
    first_call_s: Optional[float] = None
    rss_overhead_mib: Optional[float] = None
    probe_error: Optional[str] = None  # why the fresh-process probe gave no numbers (killed, timed out, failed)

    def __post_init__(self):
        self.elements_per_s = self.elements / self.seconds
        self.memset_fraction = self.memset_seconds / self.seconds


PROBE = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np, fastinit
from fastinit import benchmark
name, dtype, shape = sys.argv[1], sys.argv[2], tuple(int(s) for s in sys.argv[3].split("x"))
if name in benchmark.MATRIX:  # the measured shape: a 64x64 orthogonal_ takes a path without BLAS (no scipy.linalg)
    warm = shape
else:  # past constant_'s ndarray.fill path, which never loads its kernel
    warm = (64, 64) if len(shape) == 2 else (2 * fastinit._cpu.SERIAL_ELEMENTS,)
benchmark.fastinit_fill(name, np.empty(warm, fastinit._buffers.resolve_dtype(dtype)))()
first = time.perf_counter() - t0
print(json.dumps(dict(first_call_s=first, **benchmark.rss_overhead(name, dtype, shape))))
"""


def _peak_rss_reset() -> Optional[Callable[[], float]]:
    """Reset the peak-RSS mark and return a reader of the peak since (bytes): Linux's VmHWM through
    ``/proc/self/clear_refs``, else ``ru_maxrss`` (a lifetime high-water mark); None without either."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")

        def peak() -> float:
            with open("/proc/self/status") as f:
                return next(float(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
        return peak
    except OSError:
        pass
    try:
        import resource
    except ImportError:
        return None
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB elsewhere
    return lambda: float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit)


def rss_overhead(name: str, dtype: str, shape: tuple[int, ...]) -> dict:
    """Peak-RSS increase (MiB) over a paged-in buffer of ``shape`` during one fastinit fill; ``{}`` where the
    platform cannot tell.  Call it in a fresh process, after a first call (the kernel's cache load)."""
    buf = np.empty(shape, resolve_dtype(dtype))
    memset(buf)
    peak = _peak_rss_reset()
    if peak is None:
        return {}
    before = peak()
    fastinit_fill(name, buf)()
    return {"rss_overhead_mib": max(0.0, peak() - before) / 2**20}


def probe(name: str, dtype: str, shape: tuple[int, ...], timeout: float = 600.0) -> dict:
    """First-call time and peak-RSS overhead of ``name`` in a fresh Python process (warm numba cache)."""
    out = subprocess.run([sys.executable, "-c", PROBE, name, dtype, "x".join(map(str, shape))],
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        killed = f"killed by signal {-out.returncode}" if out.returncode < 0 else f"exit code {out.returncode}"
        raise RuntimeError(f"probe of {name} {dtype} failed ({killed}): {last}")
    lines = out.stdout.strip().splitlines()
    if not lines:  # (a sitecustomize or an atexit hook that closed stdout: the cells' error, not the run's)
        raise RuntimeError(f"probe of {name} {dtype} printed nothing (exit code 0)")
    return json.loads(lines[-1])


def run_bench(initializers: Iterable[str] = INITIALIZERS, dtypes: Iterable[str] = ("float32",), size: int = 10**7,
              matrix: int = 1024, repeat: int = 3, against: Iterable[str] = CONTESTANTS, probes: bool = True,
              show_progress: bool = True) -> dict:
    """Time every (initializer, dtype) against memset and the installed contestants; see the module doc.
    Raises :class:`FillCheckError` when a timed fastinit fill did not write its law.

    Returns ``{"machine": ..., "size": ..., "matrix": ..., "repeat": ..., "contestants": ..., "not_installed": ...,
    "kernel_cache": ..., "results": [...]}`` (``not_installed``: those of ``against`` left out)
    (the fresh-process probes are skipped where numba has no kernel cache).
    """
    initializers, dtypes = list(initializers), [resolve_dtype(d).name for d in dtypes]
    absent = [c for c in against if not installed(c)]
    against = [c for c in against if installed(c)]
    from ._jit import UNCACHED

    probes = probes and not UNCACHED  # no kernel cache: a fresh process's first call would compile (~20-70 s)
    cases = [(name, dt) for dt in dtypes for name in initializers]
    load = load_average()  # before the bench's own work counts in it
    with contestant_setup(against):
        results = [_bench_case(name, dt, size, matrix, repeat, against, probes)
                   for name, dt in progress(cases, len(cases), "fastinit bench", show_progress)]
        machine = machine_info()  # the thread counts the contestants ran with
    machine["load_average_at_start"] = load
    return {"machine": machine, "size": size, "matrix": matrix, "repeat": repeat, "contestants": against,
            "not_installed": absent, "kernel_cache": not UNCACHED, "results": [asdict(r) for r in results]}


def _bench_case(name: str, dt: str, size: int, matrix: int, repeat: int, against: list, probes: bool) -> Result:
    """One row of :func:`run_bench`."""
    shape = case_shape(name, size, matrix)
    buf = np.empty(shape, resolve_dtype(dt))
    memset(buf)  # page it in: every contestant writes to resident memory
    t_memset = best_of(lambda: memset(buf), repeat)
    check = FillCheck.for_case(name, buf)
    t = best_of(fastinit_fill(name, buf), repeat, before_last=check.plant)
    check.verify()  # before the contestants write into buf
    res = Result(name, dt, shape, buf.size, t, t_memset, memset_threads(buf))
    for c in against:
        try:
            fn = contestant_fill(c, name, buf)
            if fn is not None:
                first = timings(fn, 1, warmup=0)  # their warm-up, timed: the measurement only past COLD_S
                cold = first[0] >= COLD_S
                times = first if cold else timings(fn, repeat, warmup=0, budget=CONTESTANT_BUDGET_S)
                res.others[c] = {"seconds": min(times), "speedup": min(times) / t, "timed_calls": len(times),
                                 "cold": cold}
        except Exception as e:  # e.g. a dtype the library does not implement: report, go on
            res.others[c] = {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"}
    if probes:  # a probe that fails (its second buffer OOM-killed, a timeout) costs its two cells, not the run
        try:
            measured = probe(name, dt, shape)
            res.first_call_s, res.rss_overhead_mib = measured["first_call_s"], measured.get("rss_overhead_mib")
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
            res.probe_error = str(e).splitlines()[0][:200]
    return res


def cuda_unavailable_reason() -> Optional[str]:
    """Why ``fastinit bench --device cuda`` cannot run here, or None when it can."""
    if not installed("numba") or importlib.util.find_spec("numba_cuda") is None:  # numba's own numba.cuda is not it
        return "GPU bench needs numba-cuda: pip install 'fastinit[cuda]'"
    from numba import cuda
    from numba.cuda.core import config

    if config.ENABLE_CUDASIM:
        return "numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1) is not a GPU: there is nothing to time"
    if not cuda.is_available():
        return "no usable CUDA GPU: numba.cuda.is_available() is False"
    if importlib.util.find_spec("fastinit._cuda") is None:
        return "GPU bench needs fastinit's CUDA path (fastinit._cuda), which this install does not have"
    return None


def gpu_cases(initializers: Iterable[str], dtypes: Iterable[str]) -> tuple[list, list]:
    """The (initializer, dtype) pairs :func:`run_bench_cuda` times on numba device arrays, and a line for each
    initializer or dtype asked for that it does not."""
    initializers, dtypes = list(initializers), [resolve_dtype(d).name for d in dtypes]
    names = [n for n in initializers if n in ("uniform_", "normal_", "trunc_normal_", "constant_")]
    scaled = "a uniform_ / normal_ fill scaled by the fans: measured as those"
    skipped = [f"{n} ({scaled if n.startswith(('xavier', 'kaiming')) else 'computed on the host, one copy to the GPU'})"
               for n in initializers if n not in names]
    if "bfloat16" in dtypes:
        skipped.append("bfloat16 (numba device arrays have none; fastinit.torch fills bfloat16 CUDA tensors)")
    return [(n, d) for d in dtypes if d != "bfloat16" for n in names], skipped


def run_bench_cuda(initializers: Iterable[str], dtypes: Iterable[str], size: int, repeat: int,
                   show_progress: bool = True) -> dict:
    """GPU twin of :func:`run_bench` for the elementwise samplers: fastinit on a numba device array vs a
    device memset of it and (when torch sees the GPU) torch's ``uniform_`` / ``normal_`` / ``trunc_normal_``.
    Raises :class:`FillCheckError` when a timed fastinit fill did not write its law (NaN sentinels, a sample)."""
    from numba import cuda
    from numba.cuda.cudadrv.driver import device_memset

    torch = None
    if installed("torch"):
        import torch

        torch = torch if torch.cuda.is_available() else None
    cases, skipped = gpu_cases(initializers, dtypes)

    def synced(fn):
        def run():
            fn()
            cuda.synchronize()
        return run

    results = []
    for name, dt in progress(cases, len(cases), "fastinit bench --device cuda", show_progress):
        buf = cuda.device_array(size, dt)
        t_memset = best_of(synced(lambda: device_memset(buf, 0, buf.nbytes)), repeat)
        check = FillCheck.for_case(name, buf)
        t = best_of(synced(fastinit_fill(name, buf)), repeat, before_last=check.plant)
        check.verify()
        res = Result(name, dt, (size,), size, t, t_memset)
        if torch is not None:
            tt = torch.empty(size, dtype=getattr(torch, dt), device="cuda")
            fn = {"constant_": lambda: tt.fill_(0.5), "uniform_": tt.uniform_, "normal_": tt.normal_,
                  "trunc_normal_": lambda: torch.nn.init.trunc_normal_(tt)}[name]
            t_c = best_of(lambda: (fn(), torch.cuda.synchronize()), repeat)
            res.others["torch"] = {"seconds": t_c, "speedup": t_c / t, "timed_calls": repeat}
        results.append(res)
    info = machine_info()
    gpu = cuda.get_current_device().name
    info["gpu"] = gpu.decode() if isinstance(gpu, bytes) else str(gpu)
    return {"machine": info, "device": "cuda", "size": size, "repeat": repeat,
            "contestants": ["torch"] if torch is not None else [], "results": [asdict(r) for r in results],
            "skipped": skipped}


def _count(n: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return str(n)


def format_table(report: dict) -> str:
    """The human-readable table of a :func:`run_bench` report."""
    m = report["machine"]
    v = m["versions"]
    libs = ", ".join(f"{k} {v[k]}" for k in ("numpy", "numba", "torch", "jax") if k in v)
    cpu = report.get("device") != "cuda"
    load = m.get("load_average_at_start")
    lines = [f"fastinit bench on {m['cpu']} ({m['cpus']} CPUs, numba {m['numba_threads']} threads"
             + (", NumPy's generators 1" if cpu and "numpy" in report["contestants"] else "")
             + (", JAX on XLA's own pool (not set)" if cpu and "jax" in report["contestants"] else "")
             + (f", GPU {m['gpu']}" if "gpu" in m else "")
             + (f"; load average {load:.2f} at the start" if load is not None else "")
             + f"); {libs}",
             f"best of {report['repeat']}; speed-up = their time / fastinit's; x memset = memset time / fastinit's "
             "(1.0 = memory speed" + ("; memset on the fill's threads" if cpu else "") + ")"]
    if report.get("not_installed"):
        lines.append(f"not installed, not timed: {', '.join(report['not_installed'])}")
    contestants = report["contestants"]
    head = (f"{'initializer':<16}{'dtype':<10}{'elements':>10}{'fastinit':>11}{'G el/s':>8}{'memset':>10}"
            f"{'x memset':>9}" + "".join(f"{c:>16}" for c in contestants) + f"{'1st call':>10}{'RSS+':>10}")
    lines += ["", head, "-" * len(head)]
    for r in report["results"]:
        cells = []
        for c in contestants:
            o = r["others"].get(c)
            if o is None:
                cells.append(f"{'—':>16}")
            elif "error" in o:
                cells.append(f"{'unsupported':>16}")
            else:
                cells.append(f"{o['speedup']:>6.1f}x{o['seconds'] * 1e3:>7.1f}ms")
        first = f"{r['first_call_s']:.2f} s" if r["first_call_s"] is not None else \
            "failed" if r.get("probe_error") else ""
        rss = "" if r["rss_overhead_mib"] is None else f"{r['rss_overhead_mib']:.1f} MiB"
        lines.append(f"{r['initializer']:<16}{r['dtype']:<10}{_count(r['elements']):>10}"
                     f"{r['seconds'] * 1e3:>9.2f}ms{r['elements_per_s'] / 1e9:>8.3f}{r['memset_seconds'] * 1e3:>8.2f}ms"
                     f"{r['memset_fraction']:>9.2f}" + "".join(cells) + f"{first:>10}{rss:>10}")
    cache = m.get("last_level_cache_bytes")
    cached = [r for r in report["results"] if cache and r["elements"] * resolve_dtype(r["dtype"]).itemsize < cache]
    if cpu and cached:
        lines += ["", f"{len(cached)} of {len(report['results'])} buffers are smaller than the CPU's last-level cache "
                      f"({cache / 2**20:.0f} MiB, as the OS reports it): they may stay in it, and memset and the fills "
                      f"there run above memory speed (x memset can pass 1); memory speed needs buffers beyond it "
                      f"(--size above {_count(cache // 4)} for float32)"]
    if cpu and load is not None and load >= max(m["cpus"] or 1, 2) / 2:
        lines += ["", f"load average {load:.2f} on {m['cpus']} CPUs when the bench started (its last minute, a run "
                      "just before included): other work used the CPUs, and a fill waiting on its slowest thread feels "
                      "that more than memset does; rerun on an idle machine for ratios to quote"]
    failed = [(r["initializer"], r["dtype"], r["probe_error"]) for r in report["results"] if r.get("probe_error")]
    if failed:
        lines += ["", "fresh-process probes (1st call, RSS+) that failed:"]
        lines += [f"  {name} {dt}: {msg}" for name, dt, msg in failed]
    errors = [(r["initializer"], r["dtype"], c, o["error"]) for r in report["results"]
              for c, o in r["others"].items() if "error" in o]
    if errors:
        lines += ["", "unsupported by the contestant (their error):"]
        lines += [f"  {c} {name} {dt}: {msg}" for name, dt, c, msg in errors]
    fewer = [(r["initializer"], r["dtype"], c, o["timed_calls"], o.get("cold")) for r in report["results"]
             for c, o in r["others"].items() if o.get("timed_calls", report["repeat"]) < report["repeat"]]
    if fewer:
        lines += ["", f"contestants timed fewer than {report['repeat']} times after their warm-up (their calls "
                      f"passed {CONTESTANT_BUDGET_S:g} s: the best of these; a first call past {COLD_S:g} s is the "
                      "measurement, any first-call cost included):"]
        lines += [f"  {c} {name} {dt}: " + ("its first call" if cold else f"{n} call{'s' * (n > 1)}")
                  for name, dt, c, n, cold in fewer]
    if report.get("skipped"):
        lines += ["", "not measured on the GPU:"] + [f"  {s}" for s in report["skipped"]]
    return "\n".join(lines)
