"""Layer 6 — out of core: write initialized tensors straight into a safetensors file.

``write_safetensors(path, {name: TensorSpec(...)}, seed=s)`` writes the real safetensors format
(8-byte little-endian header length, JSON header with dtype / shape / data_offsets, then the raw
little-endian data) for models larger than RAM: the header first, then every tensor filled in
row blocks (a row larger than a block: blocks within the row) inside two reused RAM blocks of
``block_bytes / 2``, each written at its offset with ``pwrite`` on a second thread while the other
is filled, so the writer's memory is bounded by ``block_bytes`` whatever the file size (whole-tensor
initializers, orthogonal_ and the like, aside: one tensor at a time).  (A
memory map of the file needs no copy but costs a page fault per 4 KiB: measured 2-3x slower
here than filling a resident block and writing it.)  Each tensor's
stream is its name, so its values do not depend on which other tensors exist or their order,
and equal ``fastinit.<init>(np.empty(shape, dtype), seed=s, stream=name, **params)`` (the in-place
initializer: torch's layout for the fans).  The file is written under a
temporary name in the same folder and renamed at the end: a crash, an exception or Ctrl-C leaves
no half-written file under the final name.  A progress bar (tqdm, when installed) shows bytes and
throughput.  ``write_checkpoint(path, specs, max_file_bytes=...)`` writes the same tensors as a Hugging Face
checkpoint of several files and their index, split in their order as huggingface_hub splits a state dict.
"""
from __future__ import annotations

import contextlib
import errno
import itertools
import json
import math
import os
import re
import signal
import stat
import struct
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Optional, Union

import numpy as np

from . import sparsity, structured
from ._buffers import is_int, resolve_dtype, shape_tuple
from ._seed import resolve_seed
from ._signals import HELD
from ._warnings import quiet, warn

__all__ = ["TensorSpec", "write_safetensors", "write_checkpoint", "atomic_output", "SAFETENSORS_DTYPES"]  # noqa: F822 (module __getattr__)

_CODES = {"float16": "F16", "bfloat16": "BF16", "float32": "F32", "float64": "F64"}  # by dtype name


def __getattr__(name: str):
    """``SAFETENSORS_DTYPES`` ({numpy dtype: safetensors code}), built on first use: its bfloat16 key needs
    ml_dtypes, whose import (1.1-1.4 s on the 2-vCPU VM) a float32 checkpoint should not pay."""
    if name == "SAFETENSORS_DTYPES":  # (kept as the module's attribute: one table, built once)
        table = globals()[name] = {resolve_dtype(n): code for n, code in _CODES.items()}
        return table
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class TensorSpec:
    """One tensor to write: its shape, dtype and in-place initializer (a fastinit name or callable)."""

    shape: tuple
    dtype: Any = "float32"
    init: Union[str, Callable] = "normal_"
    params: Mapping[str, Any] = field(default_factory=dict)


def _initializer(init, name: str) -> Callable:
    """Tensor ``name``'s in-place initializer: a callable, or the name of one of fastinit's."""
    if callable(init):
        return init
    import fastinit

    fn = getattr(fastinit, init) if isinstance(init, str) and init.endswith("_") and init in fastinit.__all__ else None
    if fn is None:  # (a public name: not '__init__', whose attribute is callable too)
        raise ValueError(f"{name}: init must be a fastinit in-place initializer name such as 'normal_' or a "
                         f"callable, got {init!r}")
    return fn


def _shard_rows(n_rows: int, shard: tuple[int, int]) -> tuple[int, int]:
    """Rows [r0, r1) of shard i of n along axis 0 (numpy.array_split's near-equal split)."""
    i, n = shard
    base, extra = divmod(n_rows, n)
    r0 = i * base + min(i, extra)
    return r0, r0 + base + (1 if i < extra else 0)


def _local(shape: tuple, rows: tuple[int, int]) -> tuple:
    """The shape of rows [rows[0], rows[1]) of a tensor of ``shape`` (a 0-d tensor: itself)."""
    return ((rows[1] - rows[0],) + shape[1:]) if shape else ()


def _layout(specs: Mapping[str, TensorSpec], shard: Optional[tuple[int, int]] = None) -> list:
    """Every spec checked, in file order: (name, spec, dtype, shape, rows written, data offset, bytes).  The data
    go by descending itemsize (float64, then float32, then the 16-bit ones; the caller's order within each, where
    the safetensors library's writer sorts by dtype, then name): every tensor starts at a multiple of its
    itemsize, which a NumPy memory map or a torch view of the file's bytes needs (a float32 tensor after an
    odd-length bfloat16 one would not)."""
    entries = []
    for name, spec in specs.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise ValueError(f"tensor names must be non-empty strings other than '__metadata__', got {name!r}")
        _utf8(name, "tensor name")
        try:
            dt = resolve_dtype(spec.dtype)
        except TypeError as e:
            raise TypeError(f"{name}: {e}") from None
        shape = shape_tuple(spec.shape, f"{name}: shape")
        for given, where in ((spec.params, "params"), (structured.bound_keywords(spec.init), "the init's partial")):
            reserved = sorted(set(given) & {"seed", "stream", "global_shape", "offset", "generator"})
            if reserved:  # (a partial's would be replaced silently: other values on every run)
                raise ValueError(f"{name}: {where} {reserved} are set by the writer (seed= for the file, stream = "
                                 "the tensor's name, placement by blocks); leave them out")
            if "dtype" in given:
                raise ValueError(f"{name}: {where} ['dtype'] is the TensorSpec's dtype ({spec.dtype!r}); leave it out")
        rows = _shard_rows(shape[0], shard) if shard and shape else (0, shape[0] if shape else 1)
        entries.append((name, spec, dt, shape, rows, math.prod(_local(shape, rows)) * dt.itemsize))
    layout, offset = [], 0
    for name, spec, dt, shape, rows, nbytes in sorted(entries, key=lambda e: -e[2].itemsize):  # (stable)
        layout.append((name, spec, dt, shape, rows, offset, nbytes))
        offset += nbytes
    return layout


def _utf8(text: str, what: str) -> None:
    """ValueError unless ``text`` is valid Unicode, which the header's JSON must be: a lone surrogate (what
    ``os.fsdecode`` makes of a non-UTF-8 file name) becomes an escape the safetensors library refuses to parse."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"{what} {text!r} is not valid Unicode ({e.reason} at {e.start}): safetensors headers are "
                         "UTF-8 JSON") from None


HEADER_LIMIT = 100_000_000  # bytes of JSON header the safetensors library accepts (its MAX_HEADER_SIZE)


def _header(layout: list, metadata: Mapping[str, str]) -> bytes:
    """The safetensors header of ``layout`` (:func:`_layout`): length, JSON, padding to 8 bytes."""
    entries = {"__metadata__": dict(metadata)} if metadata else {}
    codes: dict = {}  # (a dtype's name takes ~3 µs to build, a dict lookup by the dtype well under one)
    for name, _, dt, shape, rows, offset, nbytes in layout:
        code = codes.get(dt) or codes.setdefault(dt, _CODES[dt.name])
        entries[name] = {"dtype": code, "shape": list(_local(shape, rows)),
                         "data_offsets": [offset, offset + nbytes]}
    text = json.dumps(entries, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(len(text) + 8) % 8)  # data starts 8-byte aligned
    if len(text) > HEADER_LIMIT:
        raise ValueError(f"the safetensors header would take {len(text):,} bytes, beyond the {HEADER_LIMIT:,} that "
                         "the safetensors library reads (its own limit); fewer tensors or shorter names/metadata")
    return struct.pack("<Q", len(text)) + text


# Signals taken by :func:`interrupt` (the handler ``fastinit`` commands install).  Python raises a signal's
# KeyboardInterrupt in whatever Python code runs: inside a ctypes callback (numba's LLVM object-cache hook, on
# every kernel load) it is printed as "Exception ignored" and lost, and the command would go on to exit 0 and
# replace its --out file.  A noted signal is raised again where it matters: before that rename, and at the end.
SIGNALLED: list = []


def interrupt(signum, frame):
    """SIGINT / SIGTERM handler of the command line: note the signal, then stop as Ctrl-C does."""
    SIGNALLED.append(signum)
    raise KeyboardInterrupt


def _hold_signals():
    """Hold SIGINT and SIGTERM: their handlers (which raise KeyboardInterrupt, in the main thread only) are
    swapped for one that notes the signal; ``(previous handlers, noted)`` for :func:`_release_signals`.  (A
    thread's signal mask would not do: the process's other threads would take the signal, and Python would
    still raise in the main thread.)  Outside the main thread nothing is raised, nothing is held."""
    if threading.current_thread() is not threading.main_thread() or None in map(signal.getsignal, HELD):
        return None  # (None: a handler installed from outside Python, which could not be put back)
    noted: list = []
    return {s: signal.signal(s, lambda signum, frame: noted.append(signum)) for s in HELD}, noted


def _release_signals(held) -> None:
    """Put the handlers back and raise each noted signal again, now, for its own handler (Ctrl-C's
    KeyboardInterrupt then comes from this line); SIGTERM first, which a KeyboardInterrupt from SIGINT would
    otherwise drop (its default handler ends the process)."""
    if held is None:
        return
    previous, noted = held
    for s, handler in previous.items():
        signal.signal(s, handler)
    for s in sorted(set(noted), key=lambda s: s != signal.SIGTERM):
        signal.raise_signal(s)


def check_destination(path: str) -> tuple[str, Optional[os.stat_result]]:
    """The file :func:`atomic_output` writes for ``path`` (symbolic links followed) and its stat (None for a new
    file), after refusing a directory, a missing folder, and anything but a regular file — callers check before
    they draw a seed (and :func:`check_writable`), so that a refused call leaves the default generator as it was."""
    if not path:  # (realpath('') is the working folder: the rename would fail once all is written)
        raise ValueError("path must name a file, got ''")
    if os.path.isdir(path) or path.endswith(("/", os.sep)):
        raise IsADirectoryError(errno.EISDIR, f"cannot write {path}: it names a directory, not a file")
    real = os.path.realpath(path)  # a symbolic link keeps pointing at the new file (written where it points)
    st = os.stat(path) if os.path.exists(path) else None  # (/dev/stdout on a pipe: no real path, but a FIFO)
    if st is not None and not stat.S_ISREG(st.st_mode):  # the rename would replace /dev/null or a FIFO by a file
        kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file")
        raise OSError(errno.EINVAL, f"cannot write {path}: it names {kind}, and the output is a regular file "
                                    "renamed over the name, which would replace it; name a file")
    folder = os.path.dirname(real)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise NotADirectoryError(errno.ENOTDIR, f"cannot write {path}: {folder} is not a folder")
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"cannot write {path}: its folder {folder} does not exist")
    name, longest = os.fsencode(os.path.basename(real)), _longest_name(folder)
    if longest is not None and 0 < longest < len(name):  # else refused only by the final rename, once all is written
        raise OSError(errno.ENAMETOOLONG, f"cannot write {path}: its name has {len(name)} bytes, more than the "
                                          f"{longest} its folder's file system allows")
    return real, st


def check_writable(path: str, probed: Optional[set] = None) -> None:
    """Refuse a ``path`` whose folder this process cannot write (its permissions, a read-only file system) as
    :func:`atomic_output` would, by making and removing the kind of temporary file it makes there (``os.access``
    answers for the real user, not the effective one), Ctrl-C and SIGTERM held meanwhile: checked before a seed is
    drawn.  ``probed``: the folders already probed by this call (the files of a checkpoint: one probe a folder),
    the path's added."""
    folder = os.path.dirname(os.path.realpath(path))
    if probed is not None:
        if folder in probed:
            return
        probed.add(folder)
    held = _hold_signals()
    try:
        fd, probe = _temporary(path, folder, ".probe")
        os.close(fd)
        os.unlink(probe)
    finally:
        _release_signals(held)


def _temporary(path: str, folder: str, suffix: str) -> tuple[int, str]:
    """``tempfile.mkstemp`` of a fastinit temporary file in ``folder`` for writing ``path``; its OSError says
    which file it was for."""
    try:
        return tempfile.mkstemp(prefix=".fastinit-", suffix=suffix, dir=folder)
    except OSError as e:
        raise type(e)(e.errno, f"cannot write {path}: {e.strerror} (creating a temporary file in {folder})") from e


def check_free_space(path: str, nbytes: int) -> None:
    """OSError (ENOSPC) when ``path``'s file system has fewer than ``nbytes`` free for unprivileged users
    (``f_bavail``): said before a write that would fail minutes later, half done, having filled the disk (a file
    system that cannot say is not refused).  The blocks reserved for root are not counted, for root either: a root
    without CAP_SYS_RESOURCE (a container's) cannot write them, and which it is cannot be told beforehand."""
    try:
        st = os.statvfs(os.path.dirname(os.path.realpath(path)))
    except (AttributeError, OSError):  # (no statvfs: Windows)
        return
    free = st.f_bavail * st.f_frsize
    if st.f_blocks and nbytes > free:
        raise OSError(errno.ENOSPC, f"cannot write {path}: it needs {nbytes:,} bytes, and its file system has "
                                    f"{free:,} free")


def _longest_name(folder: str) -> Optional[int]:
    """The longest file name (in bytes) ``folder``'s file system takes; None where it cannot say (-1: no limit)."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, ValueError, OSError):  # (no pathconf: Windows)
        return None


def _umask() -> int:
    """The process's umask, read without changing it where Linux tells it (``os.umask`` sets it, for every
    thread: a file another thread created meanwhile would get mode 0666)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o077)  # elsewhere: a restrictive value for the instant it is read
    os.umask(umask)
    return umask


@contextlib.contextmanager
def atomic_output(path: Union[str, os.PathLike], suffix: str,
                  then: Optional[Callable[[], None]] = None) -> Iterator[tuple[int, str]]:
    """Write ``path`` through a temporary file in its folder, yielded as ``(fd, temporary path)`` and renamed over
    ``path`` only when the block completes: an exception, a full disk or Ctrl-C leaves nothing under the name (an
    existing file: its old contents), and no temporary file.  ``then`` runs right after the rename, Ctrl-C and SIGTERM
    held across both (raised once it returns): what the new file makes stale goes with its arrival (its error is
    raised as it is, the new file in place).  A symbolic link is
    followed (the file it points to is replaced), an existing file keeps its permissions, a new one gets the usual ones;
    a hard link to the old file keeps the old contents (the name gets a new file); a name (or link) to anything but a
    regular file (a FIFO, a device such as /dev/null) is refused.  An OSError says which file it was writing."""
    path = os.fsdecode(path)  # str, bytes or os.PathLike
    real, st = check_destination(path)
    mode = st.st_mode & 0o7777 if st is not None else None  # an existing file keeps its mode
    folder = os.path.dirname(real)
    renamed = False
    held = _hold_signals()  # a Ctrl-C or SIGTERM between the file's creation and the clean-up's try is held until
    try:  # the try below, which removes the file
        fd, tmp = _temporary(path, folder, suffix + ".tmp")
    except OSError:
        _release_signals(held)
        raise
    try:
        _release_signals(held)  # a held signal's KeyboardInterrupt is raised here, inside the clean-up
        yield fd, tmp
        if mode is None:
            mode = 0o666 & ~_umask()  # mkstemp creates 0600; give a new file the usual permissions
        os.chmod(tmp, mode)
        if SIGNALLED:  # a KeyboardInterrupt lost on its way up (see SIGNALLED): the old file stays
            raise KeyboardInterrupt
        held = _hold_signals()
        try:
            os.replace(tmp, real)
            renamed = True
            if then is not None:
                then()
        finally:
            _release_signals(held)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if renamed:  # (then's error, or a held signal: the new file is in place)
            raise
        if isinstance(e, OSError) and e.errno is not None and e.filename is None and path not in str(e):
            # an error of the file's own writes (ENOSPC from pwrite) says which file; one naming another file (an
            # initializer's np.load) or without an errno is the caller's, raised as it was
            raise type(e)(e.errno, f"{e.strerror} while writing {path} (the name was left as it was)") from e
        raise


def _tqdm(enabled: Optional[bool]):
    """tqdm's bar class, None for no bar (``enabled`` False, or None without tqdm); ImportError for True without it."""
    if enabled is False:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        if enabled:
            raise ImportError("progress=True needs tqdm: pip install 'fastinit[io]' (or tqdm itself)") from None
        return None
    return tqdm


def _progress(bar_class, total: int, enabled: Optional[bool]):
    """The bar over ``total`` bytes, or None: ``enabled`` None draws one only for 256 MiB or more and only into a
    terminal (a log would fill with its carriage-return frames, as the command line's ``_progress`` says)."""
    if bar_class is None or (enabled is None and (total < (256 << 20) or not _is_terminal(sys.stderr))):
        return None
    return bar_class(total=total, unit="B", unit_scale=True, unit_divisor=1000, desc="fastinit",  # MB: as the summary
                     file=sys.stderr)


def _is_terminal(stream) -> bool:
    """Whether ``stream`` shows a progress bar as it redraws: a terminal, or a Jupyter kernel's output (its
    ``isatty`` says no; None, a closed stderr or a capture without ``isatty``: no)."""
    if type(stream).__module__.startswith("ipykernel."):
        return True
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # (ValueError: a closed file)
        return False


_OWN_METADATA = ("fastinit.seed", "fastinit.shard")


def _user_metadata(metadata) -> dict[str, str]:
    """The caller's ``metadata``: str -> str (the safetensors format's, and its library's, rule), not one of the
    keys fastinit writes itself."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a mapping of str to str, got {type(metadata).__name__}")
    bad = [(k, v) for k, v in metadata.items() if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise TypeError(f"metadata must map str to str (safetensors' format), got {bad[0][0]!r}: {bad[0][1]!r}")
    for k, v in metadata.items():
        _utf8(k, "metadata key")
        _utf8(v, f"metadata[{k!r}]")
    own = [k for k in _OWN_METADATA if k in metadata]
    if own:
        raise ValueError(f"metadata key {own[0]!r} is fastinit's own: the file records the seed and shard it "
                         "was written with")
    return dict(metadata)


def write_safetensors(path: Union[str, os.PathLike], tensors: Mapping[str, TensorSpec], *, seed: Optional[int] = None,
                      metadata: Optional[Mapping[str, str]] = None, block_bytes: int = 64 << 20,
                      progress: Optional[bool] = None, shard: Optional[tuple[int, int]] = None) -> dict:
    """Initialize ``tensors`` into the safetensors file ``path``; returns a summary.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The file, written atomically (a temporary file in its folder, renamed at the end).
    tensors : mapping name -> TensorSpec
        Written by descending itemsize (float64 first), in this order within each, so that each
        tensor is aligned to its itemsize in the file.  Each is filled with ``init(view,
        seed=seed, stream=name, global_shape=shape, offset=..., **params)`` block by block.
    seed : int, optional
        One seed for the whole file (``None``: drawn from the default generator and recorded in
        the metadata as ``fastinit.seed``).
    metadata : mapping str -> str, optional
        Added to the header's ``__metadata__``, beside ``fastinit.seed`` (and ``fastinit.shard``), which
        fastinit writes itself.
    block_bytes : int
        The writer's block memory: two blocks of half of it, one filled while the other is written.
    progress : bool, optional
        tqdm progress bar: forced on/off, or (None) on for files of 256 MiB or more when stderr is a terminal.
    shard : (i, n), optional
        Write only shard i of n of every tensor: its i-th near-equal row block along axis 0
        (numpy.array_split), with exactly the values of those rows of the whole tensor; the
        metadata records ``fastinit.shard``.  Concatenating the n files' tensors along axis 0
        gives the unsharded checkpoint (a 0-d tensor, which has no axis 0, is written whole in
        every shard).

    Returns
    -------
    dict with ``path``, ``bytes``, ``seconds``, ``bytes_per_s``, ``seed`` and per-tensor entries.
    """
    return _write_file(path, tensors, seed, metadata, block_bytes, progress, shard)


def _write_file(path, tensors, seed, metadata, block_bytes, progress, shard, then=None) -> dict:
    """:func:`write_safetensors`, ``then`` run as :func:`atomic_output`'s."""
    job = _Job.prepare(path, tensors, seed, metadata, block_bytes, progress, shard)
    check_free_space(job.path, job.most_bytes)
    seed = resolve_seed(job.seed)  # drawn (seed=None) once nothing is left to refuse
    bar = _progress(job.bar_class, job.nbytes(seed), progress)
    try:
        return job.write(seed, block_bytes, bar, then=then)
    finally:
        if bar:
            bar.close()


@dataclass
class _Job:
    """One safetensors file, every check done (:meth:`prepare`): what :meth:`write` writes once the seed is drawn."""
    path: str
    specs: dict
    fills: dict
    seed: Optional[int]  # validated; None: to be drawn
    layout: list
    plans: dict
    bar_class: Any
    metadata: dict  # the caller's
    shard_metadata: dict  # fastinit.shard, after fastinit.seed (which header() adds)
    data_bytes: int
    most_bytes: int  # the file's size: with the seed given, or the longest a drawn seed can take
    headers: dict = field(default_factory=dict, repr=False)  # {seed: header}: built once per seed

    @classmethod
    def prepare(cls, path, tensors, seed, metadata, block_bytes, progress, shard, probed=None) -> "_Job":
        if not isinstance(tensors, Mapping):
            raise TypeError(f"tensors must be a mapping {{name: TensorSpec}}, got {type(tensors).__name__}")
        if not is_int(block_bytes) or block_bytes < 1:
            raise ValueError(f"block_bytes must be a positive int, got {block_bytes!r}")
        if progress is not None and not isinstance(progress, bool):
            raise TypeError(f"progress must be None, True or False, got {progress!r}")
        if shard is not None:
            i, n = shard if isinstance(shard, (tuple, list)) and len(shard) == 2 else (None, None)
            if not all(map(is_int, (i, n))) \
                    or n < 1 or not 0 <= i < n:
                raise ValueError(f"shard must be a pair (i, n) of ints with 0 <= i < n, got {shard!r}")
            shard = (int(i), int(n))
        specs = _specs(tensors)
        fills = {name: _initializer(spec.init, name) for name, spec in specs.items()}
        seed = resolve_seed(seed, draw=False)  # validated; drawn (seed=None) once every spec passed its checks
        layout = _layout(specs, shard)
        plans = _plans(fills, layout)
        bar_class = _tqdm(progress)
        meta = _user_metadata(metadata)
        shard_meta = {"fastinit.shard": f"{shard[0]}/{shard[1]}"} if shard else {}
        data_bytes = sum(entry[-1] for entry in layout)
        job = cls(os.fsdecode(path), specs, fills, seed, layout, plans, bar_class, meta, shard_meta, data_bytes, 0)
        job.most_bytes = job.nbytes(2**64 - 1 if seed is None else seed)  # (and the header's check)
        check_destination(job.path)
        check_writable(job.path, probed)
        return job

    def header(self, seed: int) -> bytes:
        if seed not in self.headers:  # (asked for the bar's total, then written: 74,391 tensors' JSON, 0.4 s)
            self.headers[seed] = _header(self.layout, {**self.metadata, "fastinit.seed": str(seed),
                                                       **self.shard_metadata})
        return self.headers[seed]

    def nbytes(self, seed: int) -> int:
        return len(self.header(seed)) + self.data_bytes

    def write(self, seed: int, block_bytes: int, bar, label: str = "", then=None) -> dict:
        """Write the file (atomically, ``then`` as :func:`atomic_output`'s) under ``seed``, advancing ``bar`` (its
        postfix: ``label``); the summary."""
        header = self.header(seed)
        start = time.perf_counter()
        if bar and label:
            bar.set_postfix_str(label)
        with atomic_output(self.path, ".safetensors", then) as (fd, _), os.fdopen(fd, "r+b") as f:
            f.write(header)
            f.truncate(len(header) + self.data_bytes)
            f.flush()
            if bar:
                bar.update(len(header))
            blocks = _Blocks(f.fileno(), min(block_bytes, 2 * max(self.data_bytes, 1)), bar)  # the writer's whole
            # working memory (no more than the file's data needs)
            try:
                for name, spec, dt, shape, rows, offset, nbytes in self.layout:
                    _fill_tensor(len(header) + offset, self.fills[name], spec, dt, shape, rows, self.plans[name],
                                 seed, name, blocks)
                blocks.finish()
            finally:
                blocks.close()  # no write left in flight when the file is closed (or removed, after an error)
            if bar:
                bar.set_postfix_str("syncing to disk")  # seconds at 100% for a large file: say why
            os.fsync(f.fileno())
        by_name = {entry[0]: entry for entry in self.layout}
        return _summary(self.path, len(header) + self.data_bytes, time.perf_counter() - start, seed,
                        {n: {"shape": s, "rows": r, "dtype": str(d), "bytes": b}
                         for n, _, d, s, r, _, b in map(by_name.get, self.specs)})


def _summary(path: str, nbytes: int, seconds: float, seed: int, tensors: dict) -> dict:
    """What the writers return."""
    return {"path": path, "bytes": nbytes, "seconds": seconds, "bytes_per_s": nbytes / seconds if seconds else None,
            "seed": seed, "tensors": tensors}


def _keeps_index(index_path: str, paths: list) -> bool:
    """Whether an earlier index at ``index_path`` may stay while the files ``paths`` are written: a regular file
    (a symbolic link, as in Hugging Face's cache, would be written through: another checkpoint's index) that
    names none of them, each of its files resolved beside it as transformers resolves it (an unreadable index:
    no)."""
    if os.path.islink(index_path):
        return False
    folder = os.path.dirname(index_path)
    try:
        with open(index_path, encoding="utf-8") as f:
            files = {os.path.realpath(os.path.join(folder, v)) for v in json.load(f)["weight_map"].values()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return False
    return files.isdisjoint(os.path.realpath(p) for p in paths)


def _remove_stale(path: str, written: list, *also: str) -> None:
    """Remove the ``<stem>-NNNNN-of-NNNNN.safetensors`` files beside ``path`` (``<stem>.safetensors``) that are not
    among ``written`` (an earlier split's), then ``also`` (an earlier index), as ``save_pretrained`` removes an
    earlier split's files: a symbolic link is removed, not what it points to, and never one to a file just written
    (a ``path`` linked to an earlier file).  The files first: an index naming files no longer there fails loudly in
    a loader that reads it (vLLM), where files without their index would be loaded beside the new ones.  It runs as
    :func:`atomic_output`'s ``then`` of the last file written: no Ctrl-C or SIGTERM between that file's arrival and
    the clean-up's end.  A folder that cannot be listed (write and search permission only) is left as it is, with a
    warning: the checkpoint is written."""
    folder, stem = os.path.split(path[:-len(".safetensors")])
    keep = {os.path.realpath(p) for p in (path, *written)}
    pattern = re.compile(re.escape(stem) + r"-\d{5}-of-\d{5}\.safetensors")
    try:
        names = [os.path.join(folder, name) for name in os.listdir(folder or ".") if pattern.fullmatch(name)]
    except OSError as e:
        warn(f"{path} is written, but its folder could not be listed ({e.strerror}) to remove an earlier split's "
             f"{stem}-NNNNN-of-NNNNN.safetensors files, if any")
        names = []
    for name in (*names, *also):
        if (os.path.isfile(name) or os.path.islink(name)) and os.path.realpath(name) not in keep:
            os.unlink(name)


def _specs(tensors: Mapping) -> dict:
    """``tensors``' specs as TensorSpecs (a tuple (shape, dtype, init, params), or its first items, taken for one),
    each refused naming its tensor where it is neither, or its params are not a mapping."""
    specs = {}
    for name, s in tensors.items():
        if not isinstance(s, TensorSpec):
            if not isinstance(s, (tuple, list)) or not 1 <= len(s) <= 4:
                raise TypeError(f"{name}: spec must be a TensorSpec or a tuple (shape, dtype, init, params) of 1 to 4 "
                                f"items, got {s!r}"[:300])
            s = TensorSpec(*s)
        if not isinstance(s.params, Mapping):
            raise TypeError(f"{name}: params must be a mapping of the initializer's keyword arguments, got "
                            f"{s.params!r}"[:300])
        specs[name] = s
    return specs


def _split(tensors: Mapping, max_file_bytes: int) -> list:
    """``tensors`` in groups of at most ``max_file_bytes`` of data, as huggingface_hub's
    ``split_state_dict_into_shards_factory`` groups a state dict in that order."""
    sizes = {entry[0]: entry[-1] for entry in _layout(_specs(tensors))}
    groups: list = []
    current, used = {}, 0
    empty = [name for name in tensors if not sizes[name]]  # (one storage to torch: hub puts them with the first)
    later_empty = set(empty[1:])
    for name, spec in tensors.items():
        if name in later_empty:
            continue
        if sizes[name] > max_file_bytes:
            groups.append({name: spec})
            continue
        if current and used + sizes[name] > max_file_bytes:
            groups.append(current)
            current, used = {}, 0
        current[name] = spec
        used += sizes[name]
    if current or not groups:
        groups.append(current)
    for group in groups:
        if empty and empty[0] in group:
            group.update((name, tensors[name]) for name in empty[1:])
    return groups


def write_checkpoint(path: Union[str, os.PathLike], tensors: Mapping[str, TensorSpec], *,
                     max_file_bytes: Optional[int],
                     seed: Optional[int] = None, metadata: Optional[Mapping[str, str]] = None,
                     block_bytes: int = 64 << 20, progress: Optional[bool] = None) -> dict:
    """Initialize ``tensors`` into a Hugging Face checkpoint of files of at most ``max_file_bytes`` of data each
    (as ``save_pretrained``'s ``max_shard_size``, a tensor larger than it aside; None: one file, however large);
    returns a summary.

    ``path`` names the single file (``…/model.safetensors``), which is what is written when every tensor fits in
    ``max_file_bytes``.  Otherwise the tensors go, in their order, into ``model-00001-of-0000N.safetensors``… beside
    it, split as huggingface_hub splits a state dict in that order (a new file when the next tensor would pass the
    limit; a tensor larger than the limit alone in its file; empty tensors with the first), and the index
    ``model.safetensors.index.json`` (``metadata.total_size``: the data bytes; ``weight_map``: name -> file), which
    ``from_pretrained`` reads, is written last.  One seed for every file (each records it); the values are
    :func:`write_safetensors`'s, whatever the split.  Everything is checked (every tensor, every file name, the free
    space for all of them) before the first file is written; each file, and the index, is written atomically; an
    earlier index that names any file about to be overwritten is removed before the first file (an interrupted
    write leaves no index naming a mix of old and new files); one naming none of them stays until the new index
    replaces it.  Once it is all written, the files of an earlier split that this one does not name
    (``model-NNNNN-of-NNNNN.safetensors`` beside it) are removed, as ``save_pretrained`` removes them, and so is an
    earlier index when one file was written (it would name files no longer there).  ``seed``,
    ``metadata``, ``block_bytes``, ``progress``: as :func:`write_safetensors` (one bar for all the files); the
    metadata holds ``"format": "pt"`` unless ``metadata`` says otherwise (as ``save_pretrained`` writes it: transformers
    4 refuses a checkpoint's file with metadata and no format).  The
    summary: ``path`` (the index, or the single file), ``files``, ``bytes``, ``seconds``, ``bytes_per_s``, ``seed``,
    ``tensors``."""
    if max_file_bytes is not None and (not is_int(max_file_bytes) or max_file_bytes < 1):
        raise ValueError(f"max_file_bytes must be a positive int or None, got {max_file_bytes!r}")
    path = os.fsdecode(path)
    if not path.endswith(".safetensors"):  # (lower case: its files' and index's names, as transformers names them)
        raise ValueError(f"path must name the checkpoint's .safetensors file (model.safetensors), got {path!r}")
    if not isinstance(tensors, Mapping):
        raise TypeError(f"tensors must be a mapping {{name: TensorSpec}}, got {type(tensors).__name__}")
    if metadata is None or isinstance(metadata, Mapping):  # (anything else: refused as write_safetensors refuses it)
        metadata = {"format": "pt", **(metadata or {})}
    groups = _split(tensors, max_file_bytes) if max_file_bytes else [tensors]
    if len(groups) == 1:
        summary = _write_file(path, tensors, seed, metadata, block_bytes, progress, None,
                              then=lambda: _remove_stale(path, [], path + ".index.json"))
        return {**summary, "files": [summary["path"]]}
    if os.path.lexists(path):  # (transformers loads a model.safetensors before looking for the index)
        what = "a folder of that name is in the way" if os.path.isdir(path) else \
            "from_pretrained would load that file, not their index"
        raise FileExistsError(errno.EEXIST, f"cannot write a checkpoint of {len(groups)} files beside {path}: "
                                            f"{what}; remove it, or write the checkpoint elsewhere")
    stem, probed = path[:-len(".safetensors")], set()
    jobs = [_Job.prepare(f"{stem}-{k + 1:05d}-of-{len(groups):05d}.safetensors", group, seed, metadata,
                         block_bytes, progress, None, probed) for k, group in enumerate(groups)]
    index_path = path + ".index.json"
    weight_map = {name: os.path.basename(job.path) for job in jobs for name in job.specs}
    index = json.dumps({"metadata": {"total_size": sum(job.data_bytes for job in jobs)},
                        "weight_map": dict(sorted(weight_map.items()))}, indent=2) + "\n"
    check_destination(index_path)
    check_writable(index_path, probed)  # (its folder, where a link sends it elsewhere: before any file is written)
    check_free_space(path, sum(job.most_bytes for job in jobs) + len(index.encode()))
    seed = resolve_seed(jobs[0].seed)  # drawn (seed=None) once nothing is left to refuse
    if os.path.lexists(index_path) and not _keeps_index(index_path, [job.path for job in jobs]):  # an earlier index
        os.unlink(index_path)  # naming a file this overwrites would name a mix of old and new files until the new
        # one is in (else it stays, its checkpoint whole, until the new index replaces it)
    bar = _progress(jobs[0].bar_class, sum(job.nbytes(seed) for job in jobs), progress)
    start = time.perf_counter()
    try:
        summaries = [job.write(seed, block_bytes, bar, os.path.basename(job.path)) for job in jobs]
    finally:
        if bar:
            bar.close()
    with atomic_output(index_path, ".json", lambda: _remove_stale(path, [job.path for job in jobs])) as (fd, _), \
            os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(index)
        f.flush()
        os.fsync(f.fileno())
    return {**_summary(index_path, sum(s["bytes"] for s in summaries), time.perf_counter() - start, seed,
                       {name: t for s in summaries for name, t in s["tensors"].items()}),
            "files": [s["path"] for s in summaries]}


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    """Write all of ``data`` at ``offset`` (Windows' Python has no os.pwrite: a seek, then writes; only the writer
    thread writes its descriptor, one block at a time)."""
    if not hasattr(os, "pwrite"):
        os.lseek(fd, offset, os.SEEK_SET)
        while len(data):
            data = data[os.write(fd, data):]
        return
    while len(data):
        n = os.pwrite(fd, data, offset)
        data, offset = data[n:], offset + n


class _Blocks:
    """Two RAM blocks of at most ``budget // 2`` bytes each (``budget``: ``block_bytes``, still the bound of both):
    one is filled while the other is written by a second thread (``os.pwrite`` releases the GIL), so that a disk
    that throttles the writer does not stall the fills.  Pieces that follow each other in the file share a block
    until it is full (a checkpoint's many small tensors: one write, not one hand-off each, which cost ~40 us a
    tensor).  A write's error is raised by the next :meth:`take` of its block, or by :meth:`finish`.  The writer
    has its own duplicate of the file descriptor, closed after its last write: a write still running when the
    caller gives up (a second Ctrl-C during :meth:`close`) can only reach this file, never a file that reuses the
    caller's descriptor number.  Where no thread can start (an atexit handler), blocks are written on the calling
    thread.  ``bar``: a progress bar counting written bytes."""

    def __init__(self, fd: int, budget: int, bar=None):
        self.fd, self.size, self.bar = os.dup(fd), max(1, budget // 2), bar
        self.buffers = [np.empty(0, np.uint8), np.empty(0, np.uint8)]
        self.writes: list = [None, None]
        self.turn = 0
        self.start, self.used = 0, 0  # the current block's file offset and bytes taken (none yet)
        self.pool = None
        try:
            from concurrent.futures import ThreadPoolExecutor

            self.pool = ThreadPoolExecutor(1, thread_name_prefix="fastinit-write")
        except RuntimeError:  # "can't register atexit after shutdown" (its first import, too): the interpreter exits
            pass

    def take(self, nbytes: int, offset: int) -> np.ndarray:
        """``nbytes`` bytes to fill for ``offset`` of the file, written by a later :meth:`take` or :meth:`finish`:
        the rest of the current block where they follow its pieces in the file and fit, else a new block, once its
        previous write is done.  A piece larger than ``size`` (a whole-tensor initializer's) is alone in memory:
        the other's write is waited for and an earlier large block freed."""
        buffer = self.buffers[self.turn]
        if self.used and offset == self.start + self.used and self.used + nbytes <= buffer.nbytes:
            self.used += nbytes
            return buffer[self.used - nbytes:self.used]
        self.flush()
        if nbytes > self.size:
            self.finish()
            self.buffers = [b if b.nbytes <= self.size else np.empty(0, np.uint8) for b in self.buffers]
        i = self.turn
        self._wait(i)
        if not nbytes <= self.buffers[i].nbytes <= max(nbytes, self.size):
            self.buffers[i] = np.empty(max(nbytes, self.size), np.uint8)
        self.start, self.used = offset, nbytes
        return self.buffers[i][:nbytes]

    def flush(self) -> None:
        """Write the current block's pieces (if any) at their offset of the file, on the writer thread."""
        if not self.used:
            return
        raw, offset, self.used = self.buffers[self.turn][:self.used], self.start, 0
        if self.pool is not None:
            try:
                self.writes[self.turn] = self.pool.submit(self._write, memoryview(raw), offset)
            except RuntimeError:  # "can't register atexit after shutdown": the interpreter is exiting
                self.pool.shutdown(wait=True)  # the write queued before, if any, still runs
                self.pool = None
        if self.pool is None:
            self._write(memoryview(raw), offset)
        self.turn = 1 - self.turn

    def _write(self, data: memoryview, offset: int) -> None:
        """Write a block, then count it on the progress bar: the bar shows what is in the file, not what was
        filled (tqdm's update takes a lock: safe from the writer thread)."""
        _pwrite_all(self.fd, data, offset)
        if self.bar:
            self.bar.update(len(data))

    def _wait(self, i: int) -> None:
        """Wait for block i's write, if any; raise its error."""
        if self.writes[i] is not None:
            self.writes[i], done = None, self.writes[i]
            done.result()

    def finish(self) -> None:
        """Write the current block, wait for both blocks' writes; raise the first error."""
        self.flush()
        self._wait(self.turn)  # the older write first
        self._wait(1 - self.turn)

    def close(self) -> None:
        """Drop the writes not started, and close the writer's descriptor after the one running, if any."""
        for write in self.writes:
            if write is not None:
                write.cancel()
        closing = None
        if self.pool is not None:
            with contextlib.suppress(RuntimeError):  # the interpreter is exiting: closed below
                closing = self.pool.submit(os.close, self.fd)  # after the running write, on the writer thread
            self.pool.shutdown(wait=True)
        if closing is None:
            os.close(self.fd)


def _plan(fill, spec, dt, shape, rows, name) -> tuple[bool, bool, bool, bool]:
    """How one tensor is filled: (takes seed= and stream=, placed, blockwise, checked) — row blocks told their
    place when the initializer takes ``offset`` (or needs none), else the whole tensor in one piece (e.g.
    ``orthogonal_``).  fastinit's blockwise initializers check their arguments here by a fill of no
    element (a one-element scratch for a scalar): a bad spec is refused before the file is created, not
    after the tensors before it were written.  Whole-tensor ones are checked on their whole shape with one axis
    emptied (small one-piece ones such as ``prior_bias_`` on the whole shape); only the caller's own callables
    wait for their turn (:func:`fastinit.structured.check_by_empty_fill`)."""
    sampled = structured.accepts(fill, "seed")
    placed = structured.accepts(fill, "offset") and len(shape) > 0 and not structured.is_whole_tensor(fill)
    blockwise = placed or (structured.position_free(fill) and len(shape) > 0)
    if not blockwise and rows != (0, shape[0] if shape else 1):
        raise ValueError(f"{name}: {getattr(fill, '__name__', fill)} needs the whole tensor and cannot write a shard")
    try:
        checked = structured.check_by_empty_fill(fill, shape, dt, placed,
                                                 **({"seed": 0, "stream": name} if sampled else {}), **spec.params)
    except (TypeError, ValueError) as e:  # say which tensor's spec it was, keep the kind
        if type(e) in (TypeError, ValueError):  # (a subclass may take other arguments: left as it is)
            raise type(e)(f"{name}: {e}").with_traceback(e.__traceback__) from None
        raise
    return sampled, placed, blockwise, checked


def _typed(value):
    """``value`` with its type (tuples' items too): ``True == 1 == 1.0`` as keys, but a check may take one and
    refuse another (a bool std)."""
    return type(value), tuple(map(_typed, value)) if type(value) is tuple else value


def _plans(fills: dict, layout: list) -> dict:
    """:func:`_plan` of every tensor of ``layout``, once per kind of tensor: tensors of one initializer, arguments,
    dtype, shape and shard (a mixture's experts: tens of thousands) share its plan and its check, which is run on
    the first of them (whose name an error gives)."""
    plans, done = {}, {}
    for name, spec, dt, shape, rows, _, _ in layout:
        key = (fills[name], tuple(sorted((k, _typed(v)) for k, v in spec.params.items())), dt, tuple(shape),
               rows == (0, shape[0] if shape else 1))
        try:
            hash(key)
        except TypeError:  # (arguments that cannot be a key, a list: checked for this tensor alone)
            key = name
        if key not in done:
            done[key] = _plan(fills[name], spec, dt, shape, rows, name)
        plans[name] = done[key]
    return plans


def _blocks(shape: tuple, rows: tuple[int, int], itemsize: int, block_bytes: int):
    """The blocks that tile rows [rows[0], rows[1]) of a C-order tensor of ``shape`` in file order, each at most
    ``block_bytes`` (or one element): ``(offset, block shape, elements before it)``.  Whole rows when a row fits;
    else, for the first axis k whose trailing sub-tensor fits, one index of each axis before k and a range along k,
    so that every block is one contiguous run of the file."""
    first, last = rows
    if len(shape) == 0:
        yield (), (), 0
        return
    k = next((k for k in range(len(shape)) if math.prod(shape[k + 1:]) * itemsize <= block_bytes), len(shape) - 1)
    unit = math.prod(shape[k + 1:])  # elements per index along axis k
    step = max(1, block_bytes // max(1, unit * itemsize))
    heads = itertools.product(range(first, last), *map(range, shape[1:k])) if k else [()]
    span = (first, last) if k == 0 else (0, shape[k])
    for head in heads:
        for j in range(span[0], span[1], step):
            n = min(span[1], j + step) - j
            index = head + (j,)
            flat = sum(i * math.prod(shape[a + 1:]) for a, i in enumerate(index)) - first * math.prod(shape[1:])
            yield index + (0,) * (len(shape) - k - 1), (1,) * k + (n,) + tuple(shape[k + 1:]), flat


def _fill_tensor(start, fill, spec, dt, shape, rows, plan, seed, name, blocks):
    """Fill rows [rows[0], rows[1]) of one tensor block by block (:func:`_blocks`; one piece when the initializer
    needs the whole tensor) in the reused RAM blocks of ``blocks`` (:class:`_Blocks`), each written at its offset in
    the file while the next is filled (``plan``: :func:`_plan`)."""
    takes_seed, placed, blockwise, checked = plan
    sampled = {"seed": seed, "stream": name} if takes_seed else {}
    shape = tuple(shape)
    with sparsity.whole_masks(blocks.size):  # sparse_'s row blocks: the columns' zero positions drawn once
        for offset, block_shape, flat in _blocks(shape, rows, dt.itemsize, blocks.size if blockwise else 1 << 62):
            nbytes = math.prod(block_shape) * dt.itemsize
            block = blocks.take(nbytes, start + flat * dt.itemsize).view(dt).reshape(block_shape)
            place = {"global_shape": shape, "offset": offset} if placed else {}
            with quiet(checked):  # warned once, by the check before the file was created
                fill(block, **sampled, **place, **spec.params)
