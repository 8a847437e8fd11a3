"""Layer 7 — the ``fastinit`` command line (also ``python -m fastinit``).

``fastinit init --arch NAME --out FILE.safetensors``: the main job — initialize every parameter
of an embedded architecture straight into a safetensors file, in bounded memory.
``fastinit fill``: fill a (possibly on-disk) buffer with a distribution and report throughput
against a memset of the same buffer measured in the same run.
``fastinit bench``: every initializer and dtype against memset, NumPy, torch and JAX.
``fastinit check``: a statistical self-test of the install (KS, moments, orthogonality, sparsity).
``fastinit variance``: activation and gradient variance per layer of a deep MLP, per init scheme.
``fastinit compile``: compile every CPU kernel for this machine now (numba's cache), the groups in parallel.

Exit codes: 0 success, 1 ``fastinit check`` found a failure, a ``fastinit compile`` group failed or a fill timed by
``fastinit bench`` did not write its law, 2 usage
error (bad flag or value, missing optional dependency, unavailable device, an ``--out`` that cannot be written,
nothing for ``fastinit compile`` to cache into), with one ``fastinit COMMAND: error: ...`` line and no
traceback; 130 interrupted (Ctrl-C or SIGTERM; an ``--out`` file is left as it was, with no temporary file).  A
signal during the imports before :func:`main` runs (~0.5 s: NumPy, numba) is Python's own: a KeyboardInterrupt
traceback, or exit 143 for SIGTERM; nothing has been written then.  So is one in the last milliseconds, after
the command has put its ``--out`` file in place and given back the signal handlers: 130 (or 143), the new file whole.
"""
from __future__ import annotations

import argparse
import decimal
import fractions
import functools
import json
import math
import os
import re
import signal
import sys
import threading
import time
import warnings
from collections.abc import Mapping

import numpy as np

from . import init, io
from ._buffers import resolve_dtype
from .precompile import CompileWatch

COMPILING = ("fastinit: compiling kernels for this machine, once (numba caches them; 10-60 s; `fastinit compile` "
             "does it ahead, in parallel)")


def _check_suffix(flag: str, path: str, suffix: str, what: str) -> None:
    """ValueError when ``path`` names another format's file (``w.txt`` for a .npy): a name without a suffix is
    the caller's choice."""
    given = os.path.splitext(path)[1]
    if given and given.lower() != suffix:
        raise ValueError(f"{flag} {path}: {what}; name a {suffix} file")


def _si(value: float, unit: str, sep: str = "") -> str:
    """``value`` with the decimal prefix that keeps it readable: 2.5 GB, 61.4 MB/s, 3.1 M parameters/s (a
    small model's summary read 0.000 GB at 0.00 GB/s); ``sep`` goes between a prefix and the unit."""
    value = float(f"{value:.3g}")  # the prefix of the printed digits: 999,960 B is 1 MB, not 1e+03 kB
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g} {prefix}{sep}{unit}"
    return f"{value:.3g} {unit}"


def _report_stream(path: str):
    """Where a command writing ``path`` prints its report: stdout, or stderr where stdout is that very file
    (``--out /dev/stdout > model.safetensors``: the output is renamed over the file, and a report printed to
    stdout would land in the replaced, unlinked one)."""
    try:
        out, st = os.fstat(sys.stdout.fileno()), os.stat(path)
    except (OSError, AttributeError, ValueError):  # a new file, or a stdout with no descriptor (a capture)
        return sys.stdout
    return sys.stderr if (out.st_dev, out.st_ino) == (st.st_dev, st.st_ino) else sys.stdout


def _shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must look like I/N, e.g. 0/8, got {text!r}") from None
    if not 0 <= i < n:
        raise argparse.ArgumentTypeError(f"I/N needs 0 <= I < N, got {text!r}")
    return i, n


_BYTE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KIB": 2**10, "MIB": 2**20,
               "GIB": 2**30, "TIB": 2**40}


def _bytes(text: str) -> int:
    """A byte count as huggingface_hub reads ``max_shard_size``: 5GB (5·10⁹), 500MB, 2GiB (2·2³⁰), 4096."""
    m = re.fullmatch(r"\s*([0-9]{1,20}(?:\.[0-9]{0,20})?)\s*([KMGT]I?B|B)?\s*", text, re.IGNORECASE)
    n = int(fractions.Fraction(m.group(1)) * _BYTE_UNITS[(m.group(2) or "").upper()]) if m else 0  # (exact)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a size in bytes such as 5GB, 500MB or 2GiB, got {text!r}")
    return n


def _at_least(least: int):
    """An argparse type: an int >= ``least`` (argparse's error names the flag: "argument --depth: must be ...")."""
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            n = least - 1
        if n < least:
            raise argparse.ArgumentTypeError(f"must be an int >= {least}, got {text!r}")
        return n
    return parse


def _path(text: str) -> str:
    """--out, --png, --config: a file name; an empty one is refused (it had read as no flag: nothing written, rc 0)."""
    if not text:
        raise argparse.ArgumentTypeError("expected a file name, got an empty string")
    return text


def _dtype(text: str):
    try:
        return resolve_dtype(text)
    except TypeError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _best_of(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def cmd_fill(args: argparse.Namespace) -> int:
    if args.repeat < 1:
        raise ValueError(f"--repeat must be >= 1, got {args.repeat}")
    if args.dist == "uniform":
        def fill(buf):
            init.uniform_(buf, args.a, args.b, seed=args.seed, stream=args.stream)
        law = f"U[{args.a}, {args.b})"
    elif args.dist == "normal":
        def fill(buf):
            init.normal_(buf, args.mean, args.std, seed=args.seed, stream=args.stream)
        law = f"N({args.mean}, {args.std}^2)"
    elif args.dist == "trunc_normal":
        def fill(buf):
            init.trunc_normal_(buf, args.mean, args.std, args.a, args.b, seed=args.seed, stream=args.stream)
        law = f"N({args.mean}, {args.std}^2) on [{args.a}, {args.b}]"
    else:
        def fill(buf):
            init.constant_(buf, args.value)
        law = f"constant {args.value}"
    fill(np.empty(0, args.dtype))  # every argument checked before --out is created
    if args.out:
        _check_suffix("--out", args.out, ".npy", "fill writes a NumPy .npy file")
    nbytes = args.numel * args.dtype.itemsize
    if nbytes >= 2**63:
        raise ValueError(f"--numel {args.numel:.3g} x {args.dtype.itemsize} bytes is beyond any file or memory")
    if not args.out:
        print("\n".join(_fill_report(args, fill, law, np.empty((args.numel,), args.dtype))))
        return 0
    from .io import atomic_output, check_destination, check_free_space

    check_destination(args.out)
    check_free_space(args.out, nbytes + 4096)  # (and its header: posix_fallocate would take every free block first)
    report_to = _report_stream(args.out)
    with atomic_output(args.out, ".npy") as (fd, tmp):  # a complete .npy under --out, or nothing
        os.close(fd)
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=args.dtype, shape=(args.numel,))
        if hasattr(os, "posix_fallocate"):  # (not on macOS or Windows: a full disk shows during the fill there)
            with open(tmp, "r+b") as f:  # reserve the blocks: a full disk is an error here, not a SIGBUS mid-fill
                os.posix_fallocate(f.fileno(), 0, out.offset + out.nbytes)
        report = _fill_report(args, fill, law, out)
        out.flush()
        del out
    # printed once the file is in place: a closed stdout (`| head -1`) then costs the report, not the file
    raw = " of raw 2-byte values: np.load(path).view(ml_dtypes.bfloat16)" if args.dtype.name == "bfloat16" else ""
    print("\n".join(report + [f"  wrote {args.out} ({_si(nbytes, 'B')}, .npy{raw})"]), file=report_to)
    return 0


def _fill_report(args: argparse.Namespace, fill, law: str, out: np.ndarray) -> list[str]:
    """Time ``fill(out)`` against a memset of the same buffer; the report's lines.  ``out`` ends up filled."""
    from .benchmark import last_level_cache, memset, memset_threads

    t0 = time.perf_counter()
    fill(out)  # first call: compiles or loads the numba cache, touches the pages
    first = time.perf_counter() - t0
    t_fill = _best_of(args.repeat, lambda: fill(out))
    memset(out)  # its warm-up too (the first call starts memset's helper threads: 8-13 ms against 1-2 ms after)
    t_memset = _best_of(args.repeat, lambda: memset(out))
    fill(out)  # leave the buffer holding the values, not the memset's zeros
    gb = out.nbytes / 1e9
    lines = [f"fastinit fill: {args.numel:,} x {out.dtype} ~ {law}, seed={args.seed}, stream={args.stream!r}",
             f"  first call   {first * 1e3:9.1f} ms  (compile or cache load + page faults)"]
    threads = memset_threads(out)
    for what, t in (("fill", t_fill), (f"memset x{threads}", t_memset)):
        lines.append(f"  {what:<12} {t * 1e3:9.1f} ms  {args.numel / t / 1e9:7.3f} G elements/s  {gb / t:6.2f} GB/s")
    lines.append(f"  (memset: the C library's, on {threads} thread{'s' * (threads > 1)}, as many as the fill)")
    lines.append(f"  fill / memset throughput: {t_memset / t_fill:.2f}")
    cache = last_level_cache()
    if cache and out.nbytes < cache:
        lines.append(f"  (the buffer is smaller than the CPU's last-level cache, {cache / 2**20:.0f} MiB as the OS "
                     "reports it: memset and the fill may run from the cache, above memory speed)")
    sample = np.asarray(out[: min(args.numel, 10**6)], dtype=np.float64)
    with np.errstate(invalid="ignore"):  # a constant inf: mean inf, std nan, quietly
        std = sample.std()
    lines.append(f"  first {sample.size:,} values: mean {sample.mean():.6g}, std {std:.6g}, "
                 f"min {sample.min():.6g}, max {sample.max():.6g}")
    return lines


def _jsonable(obj):
    """``obj`` with non-finite floats as None, so the output is strict JSON (jq, JavaScript)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def _print_json(report: dict) -> None:
    print(json.dumps(_jsonable(report), indent=1, allow_nan=False))


def _size(text: str) -> int:
    """A count of elements (--numel, --size, --n): 1e8, 100M, 2.5k, 10_000."""
    from .benchmark import parse_size

    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _stream(text: str):
    """--stream: an int (-1 too: refused as out of range, not hashed as a name), else a name; a number that is
    not a decimal int (1e3, 0x10, 2.5) is refused rather than hashed as the name '1e3'."""
    if re.fullmatch(r"[+-]?[0-9]+(_[0-9]+)*", text):
        return int(text)
    try:
        value = decimal.Decimal(text.strip())  # exact: 1e30 is 10**30 (inf, nan too)
    except decimal.InvalidOperation:
        try:
            value = int(text, 0)
        except ValueError:
            return text
    whole = isinstance(value, int) or value.is_finite() and value == value.to_integral_value()
    hint = f" (write {int(value)})" if whole and 0 <= int(value) < 2**64 else ""
    raise argparse.ArgumentTypeError(f"{text!r} reads as a number but is not a decimal int{hint}: a stream is an "
                                     "int in [0, 2**64) or a name")


def _listed(values, known, what: str, normalize=lambda x: x) -> list:
    """Flatten repeatable, comma-separated flag values and check each against ``known``."""
    given = [v.strip() for group in values for v in group.split(",") if v.strip()]
    names = [normalize(v) for v in given]
    unknown = [v for v, n in zip(given, names) if n not in known]  # as typed
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; choose from {list(known)}")
    if not names:
        raise ValueError(f"{what} names nothing; choose from {list(known)}")
    return list(dict.fromkeys(names))


def _dtype_names(values) -> list:
    from .benchmark import DTYPES

    def name(d: str) -> str:  # (a name it does not know: in the unknown --dtype list, not resolve_dtype's words)
        try:
            return resolve_dtype(d).name
        except (TypeError, ValueError):
            return d

    return _listed(values, DTYPES, "--dtype", name)


def cmd_bench(args: argparse.Namespace) -> int:
    from . import benchmark

    size = args.size or (10**8 if args.full else 10**7)
    dtypes = _dtype_names(args.dtype) if args.dtype else list(benchmark.DTYPES if args.full else ["float32"])
    names = (_listed(args.only, benchmark.INITIALIZERS, "initializer(s) in --only",
                     lambda n: n if n.endswith("_") else n + "_") if args.only else list(benchmark.INITIALIZERS))
    against = _listed(args.against or benchmark.CONTESTANTS, (*benchmark.CONTESTANTS, "none"), "--against")
    if "none" in against:
        if against != ["none"]:
            raise ValueError(f"--against none stands alone (no contestant), got {','.join(against)!r}")
        against = []
    if args.device == "cuda":  # (torch's CUDA fills: the one contestant there; what the cuda run does not take)
        ignored = [flag for flag, used in (("--against", args.against and against != ["torch"]),
                                           ("--matrix", args.matrix is not None), ("--no-probes", args.no_probes))
                   if used]
        if ignored:
            raise ValueError(f"{' and '.join(ignored)} not used with --device cuda (it times fastinit's kernels "
                             "against a device memset and torch's CUDA fills, when torch has CUDA)")
    repeat = args.repeat if args.repeat is not None else (5 if args.full else 3)
    if repeat < 1:
        raise ValueError(f"--repeat must be >= 1, got {repeat}")
    show = _progress(args)
    if args.device == "cuda":
        reason = benchmark.cuda_unavailable_reason()
        if reason:
            print(f"fastinit bench: error: --device cuda: {reason}", file=sys.stderr)
            return 2
    matrix = args.matrix if args.matrix is not None else (2048 if args.full else 1024)
    if matrix < 1:
        raise ValueError(f"--matrix must be >= 1, got {matrix}")
    t0 = time.perf_counter()
    try:
        if args.device == "cuda":
            report = benchmark.run_bench_cuda(names, dtypes, size, repeat, show_progress=show)
        else:
            report = benchmark.run_bench(names, dtypes, size, matrix, repeat, against, probes=not args.no_probes,
                                         show_progress=show)
    except benchmark.FillCheckError as e:  # a fill that writes nothing would look fastest: no table
        print(f"fastinit bench: error: {e}", file=sys.stderr)
        return 1
    report["wall_s"] = time.perf_counter() - t0
    if args.json:
        _print_json(report)
    else:
        print(benchmark.format_table(report))
        print(f"\n{report['wall_s']:.1f} s in all")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from . import check

    if args.list:
        for name in check.REGISTRY:
            print(name)
        return 0
    dtypes = _dtype_names(args.dtype) if args.dtype else list(check.DTYPES)
    names = _listed(args.only, check.REGISTRY, "check(s) in --only",  # 'normal' for 'normal_', as bench takes it
                    lambda n: n if n in check.REGISTRY else n + "_") if args.only else None
    try:
        seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--seeds must be a comma list of ints, got {args.seeds!r}") from None
    report = check.run_checks(names, dtypes, args.n, seeds, args.alpha, show_progress=_progress(args))
    if args.json:
        _print_json(report)
    else:
        print(check.format_table(report))
    return 0 if report["passed"] else 1


def cmd_compile(args: argparse.Namespace) -> int:
    from . import precompile

    if args.jobs is not None and args.jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {args.jobs}")
    todo = precompile.GROUPS
    if args.gpu:  # refused before any compile: no numba-cuda, or no GPU
        try:
            from . import _cuda

            _cuda.require_gpu()
        except ImportError as e:  # names the package to install
            print(f"fastinit compile --gpu: error: {e}", file=sys.stderr)
            return 2
        except RuntimeError:  # (require_gpu's own message is about running the kernels, not building them)
            print("fastinit compile --gpu: error: no CUDA GPU here (numba.cuda.is_available() is False); the GPU "
                  "kernels are built for the GPU they will run on: run this on a machine with it", file=sys.stderr)
            return 2
        todo += precompile.GPU_GROUPS
    jobs = min(args.jobs or precompile.default_jobs(len(todo)), len(todo))
    where = precompile.cache_location()
    cached = where is not None and jobs > 1 and not args.gpu and precompile.all_cached()
    if cached:  # every kernel is in the cache: loaded in this process (~1 s) rather than by workers (seconds)
        jobs = 1
    if not args.json and where is not None:
        print(f"compiling fastinit's {'CPU and GPU' if args.gpu else 'CPU'} kernels for this machine into {where}, "
              f"{len(todo)} groups in {jobs} process{'es' * (jobs > 1)}{' (all in the cache already)' * cached}",
              flush=True)

    def line(c) -> None:
        if not args.json:
            what = f"compiled {c.kernels} kernel{'s' * (c.kernels != 1)}" if c.kernels else "loaded from the cache"
            print(f"  {c.name:55s} {what:24s} {c.seconds:6.1f} s", flush=True)

    t0 = time.perf_counter()
    try:
        groups = precompile.compile_kernels(jobs, report=line, groups=todo)  # (the warm-cache check is done above)
    except RuntimeError as e:  # CompileError: a bug (of fastinit, numba or LLVM) or a killed worker; else nothing
        print(f"fastinit compile: error: {e}", file=sys.stderr)  # to cache into
        return 1 if isinstance(e, precompile.CompileError) else 2
    except KeyboardInterrupt:
        print("fastinit compile: interrupted (the groups reported above are cached)", file=sys.stderr)
        return 130
    wall = time.perf_counter() - t0
    if args.json:
        _print_json({"cache": where, "jobs": jobs, "wall_s": wall, "groups": [c._asdict() for c in groups]})
    else:
        print(f"{sum(c.kernels for c in groups)} kernels compiled in {wall:.1f} s; a new process loads them from "
              "the cache")
    if where is not None and hasattr(os, "geteuid") and os.geteuid() == 0 \
            and not os.stat(where).st_mode & 0o002:  # (a Docker build step, then a USER)
        warnings.warn(f"the kernels' cache {where} is root's: numba reads a cache folder only where the running user "
                      "can write to it, so a process of another user (a Docker image's USER) compiles again; for "
                      "them, compile into a NUMBA_CACHE_DIR they will run with and give it to them (chmod -R a+rwX)",
                      UserWarning, stacklevel=2)
    return 0


def cmd_variance(args: argparse.Namespace) -> int:
    from . import variance

    schemes = _listed(args.schemes or [",".join(variance.DEFAULT_SCHEMES)], variance.SCHEMES, "--schemes")
    if args.png:  # before the run, not after it
        variance.pyplot()
        folder = os.path.dirname(os.path.abspath(args.png))
        if os.path.isdir(args.png) or not os.path.isdir(folder) or not os.access(folder, os.W_OK):
            raise OSError(f"--png {args.png}: cannot write a file there (missing or read-only folder, or a directory)")
        _check_suffix("--png", args.png, ".png", "the plot is a PNG image")
    report = variance.run_variance(schemes, args.activation, args.depth, args.width, args.batch, args.dtype, args.seed,
                                   show_progress=_progress(args))
    if args.png:
        variance.plot(report, args.png)
    if args.json:
        _print_json(report)
    else:
        print(variance.format_table(report))
        if args.png:
            print(f"\nplot written to {args.png}")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .archs import ARCHS, HF_MODEL_TYPES, arch_spec, config_spec, is_buffer, parameter_count, read_config
    from .io import write_checkpoint, write_safetensors

    if args.list:  # (whatever --arch says)
        for name in ARCHS:
            print(f"{name:12s} {parameter_count(arch_spec(name)):>15,} parameters")
        print(f"and with --config, a Hugging Face config.json of model_type {', '.join(HF_MODEL_TYPES)}")
        return 0
    if (args.arch is None) == (args.config is None) or not args.out:
        print("fastinit init: error: --out and one of --arch and --config are required (or --list)", file=sys.stderr)
        return 2
    _check_suffix("--out", args.out, ".safetensors", "init writes a safetensors file")
    if args.shard and args.max_file_size:
        print("fastinit init: error: --shard (a row block of every tensor) and --max-file-size (whole tensors split "
              "over files) are two ways of splitting; give one", file=sys.stderr)
        return 2
    if args.max_file_size and not args.out.endswith(".safetensors"):  # (its files' and index's names: lower case)
        print("fastinit init: error: --max-file-size writes a Hugging Face checkpoint: --out must name its "
              f".safetensors file, in lower case (model.safetensors), got {args.out!r}", file=sys.stderr)
        return 2
    if args.shard and args.seed is None:
        print("fastinit init: error: --shard needs --seed: each process would draw a seed of its own, and the shards "
              "would not fit together", file=sys.stderr)
        return 2
    dtype = args.dtype
    if args.config is not None:
        cfg, where = read_config(args.config)  # (read once: the spec, its model type and dtype)
        given = cfg.get("dtype") or cfg.get("torch_dtype")  # (transformers 5's key, 4's)
        if dtype is None and given in ("float16", "bfloat16", "float32", "float64"):
            dtype = resolve_dtype(given)
        dtype = np.dtype(np.float32) if dtype is None else dtype
        spec = config_spec(cfg, name=where, dtype=dtype)  # (DeepSeek's routers: float32 whatever the dtype)
        quantized = cfg.get("quantization_config")
        if quantized:  # (transformers would load the file as that format: missing scales, or a refusal)
            method = quantized.get("quant_method", "?") if isinstance(quantized, Mapping) else "?"
            warnings.warn(f"{where} has a quantization_config ({method}): the values are written unquantized, as "
                          f"{dtype}; remove it from the config.json beside the file for transformers to load it",
                          UserWarning, stacklevel=2)
        label, metadata = f"{cfg['model_type']} from {args.config}", {"format": "pt", "model_type": cfg["model_type"]}
    else:
        dtype = np.dtype(np.float32) if dtype is None else dtype
        spec = {name: replace(t, dtype=dtype) for name, t in arch_spec(args.arch).items()}
        label, metadata = args.arch, {"format": "pt", "arch": args.arch}
    n = parameter_count(spec)
    progress = None if _progress(args) else False
    report_to = _report_stream(args.out)
    if args.max_file_size or not args.shard and args.out.endswith(".safetensors"):  # a checkpoint (its files in
        # lower case; an earlier split's files and index removed)
        summary = write_checkpoint(args.out, spec, max_file_bytes=args.max_file_size, seed=args.seed,
                                   metadata=metadata, block_bytes=args.block_mb << 20, progress=progress)
    else:  # a shard's rows, or a file of another name (M.SAFETENSORS, weights): that file alone
        summary = write_safetensors(args.out, spec, seed=args.seed, metadata=metadata,
                                    block_bytes=args.block_mb << 20, progress=progress, shard=args.shard)
    written = sum(t["bytes"] // resolve_dtype(t["dtype"]).itemsize for name, t in summary["tensors"].items()
                  if not is_buffer(name))
    count = f"{written:,} parameters (shard {args.shard[0]}/{args.shard[1]} of {n:,})" if args.shard else \
        f"{n:,} parameters"
    files = summary.get("files", [summary["path"]])
    where = summary["path"] if len(files) == 1 else f"{len(files)} files, {summary['path']}"
    tensors = f"{len(spec)} tensor{'s' * (len(spec) != 1)}"
    print(f"fastinit init: {label}, {count} ({tensors}) as {dtype} -> {where}", file=report_to)
    seconds = summary["seconds"]
    print(f"  {_si(summary['bytes'], 'B')} in {seconds:.3g} s: {_si(summary['bytes'] / seconds, 'B/s')}, "
          f"{_si(written / seconds, 'parameters/s', ' ')}; seed {summary['seed']}", file=report_to)
    compiled = getattr(args, "compiles", None)
    if compiled is not None and compiled.kernels:
        kernels = f"{compiled.kernels} kernel{'s' * (compiled.kernels > 1)}"
        print(f"  ({compiled.seconds:.1f} s of it compiling {kernels}, once for this machine)", file=report_to)
    return 0


EXAMPLES = {
    "fill": """examples:
  fastinit fill --numel 1e8 --dist normal --std 0.02
  fastinit fill --numel 1e9 --dtype bf16 --dist trunc_normal --out w.npy""",
    "init": """examples:
  fastinit init --list
  fastinit init --arch gpt2 --out gpt2.safetensors --dtype bfloat16 --seed 0
  fastinit init --arch llama3.2-1b --out shard0.safetensors --dtype bf16 --seed 0 --shard 0/8
  fastinit init --config Mistral-7B/config.json --out Mistral-7B/model.safetensors --dtype bf16
  fastinit init --config Mixtral/config.json --out Mixtral/model.safetensors --dtype bf16 --max-file-size 5GB""",
    "bench": """examples:
  fastinit bench                                  # quick: 1e7 float32 elements, < 1 minute
  fastinit bench --full                           # 1e8 elements, every dtype
  fastinit bench --only uniform,normal --dtype bf16,float32 --size 100M
  fastinit bench --json > bench.json              # machine-readable
  fastinit bench --device cuda                    # the GPU kernels (exit code 2 without a GPU)""",
    "check": """examples:
  fastinit check                                  # every check, every dtype, n = 1e7 (a few minutes)
  fastinit check --only normal_,trunc_normal_ --dtype bfloat16 --n 1e6
  fastinit check --json; echo "exit code $?"      # 0 passed, 1 a check failed""",
    "compile": """examples:
  fastinit compile                                # after pip install (a Docker build step, a CI setup)
  fastinit compile --jobs 1                       # one group after the other, in this process
  fastinit compile --gpu                          # and the GPU kernels, on a machine with the GPU they will use
  NUMBA_CACHE_DIR=/opt/numba-cache fastinit compile   # set it when running too; the runner must be able to
                                                      # write there (numba ignores a folder it cannot write:
                                                      # compiled by root for another user, chmod -R a+rwX it)""",
    "variance": """examples:
  fastinit variance                               # 50 ReLU layers of width 512: He stable, N(0,1) explodes
  fastinit variance --activation tanh --schemes naive,small,xavier_uniform --png tanh.png
  fastinit variance --depth 100 --width 256 --json""",
}


def _sub(sub, name: str, help: str, description: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=description, epilog=EXAMPLES[name],
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="fastinit",
                                description="Compiled, reproducible, memory-speed weight initialization.",
                                epilog="exit codes: 0 success, 1 a check, a compile or a timed fill failed, 2 usage or "
                                       "output error, 130 interrupted, 141 its output pipe closed early "
                                       "(`| head`); `fastinit COMMAND --help` shows examples",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"fastinit {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    f = _sub(sub, "fill", "fill a buffer in place and report throughput vs memset",
             "Fill NUMEL elements with a distribution; report elements/s and the ratio to a memset of the "
             "same buffer, measured in the same run.")
    f.add_argument("--numel", type=_size, default=10**8, help="number of elements (default 1e8)")
    f.add_argument("--dtype", type=_dtype, default=np.dtype(np.float32),
                   help="float16, bfloat16, float32 (default) or float64")
    f.add_argument("--dist", choices=list(_DIST_FLAGS), default="normal", help="distribution (default normal)")
    f.add_argument("--a", type=_real, default=None,
                   help="lower bound: uniform (default 0) or trunc_normal (absolute, default mean - 2 std)")
    f.add_argument("--b", type=_real, default=None,
                   help="upper bound: uniform, excluded (default 1) or trunc_normal (default mean + 2 std)")
    f.add_argument("--mean", type=_real, default=None, help="normal or trunc_normal mean (default 0)")
    f.add_argument("--std", type=_real, default=None, help="normal or trunc_normal std (default 1)")
    f.add_argument("--value", type=_real, default=None, help="constant value (default 0)")
    f.add_argument("--seed", type=int, default=0, help="Philox key (default 0)")
    f.add_argument("--stream", type=_stream, default=0,
                   help="stream: an int in [0, 2**64) or a name that does not read as a number (default 0)")
    f.add_argument("--repeat", type=int, default=5, help="timed repetitions, best taken (default 5)")
    f.add_argument("--out", type=_path, metavar="PATH.npy",
                   help="fill a .npy file on disk (memory-mapped) instead of RAM")
    f.set_defaults(func=cmd_fill)
    i = _sub(sub, "init", "initialize an embedded architecture (or a Hugging Face config's) into a safetensors file",
             "Write every parameter of an embedded architecture (no downloads), or of the model a Hugging Face "
             "config.json describes, each initialized by its family's convention and keyed by its name as stream, "
             "into a safetensors file, in bounded memory.")
    i.add_argument("--arch", help="architecture name (see --list)")
    i.add_argument("--config", type=_path, metavar="CONFIG.json",
                   help="instead of --arch: a Hugging Face config.json (or its folder) of a model_type --list "
                        "names (llama, qwen3, deepseek_v3, gpt_oss, gemma3, ...): that model's tensors, by its "
                        "initializer_range")
    i.add_argument("--out", type=_path, metavar="FILE.safetensors",
                   help="output file (written atomically; once it is, an earlier split of it, FILE-0000I-of-0000N"
                        ".safetensors and FILE.safetensors.index.json, is removed, as save_pretrained removes it)")
    i.add_argument("--dtype", type=_dtype, default=None,
                   help="float16, bfloat16, float32 or float64 (default: float32; with --config, the config's dtype "
                        "when it names one of these)")
    i.add_argument("--seed", type=int, default=None, help="seed (default: drawn, recorded in the file's metadata)")
    i.add_argument("--block-mb", type=_at_least(1), default=64,
                   help="MiB of block memory: two blocks of half, one filled while the other is written (default 64)")
    i.add_argument("--shard", type=_shard, default=None, metavar="I/N",
                   help="write only shard I of N: every tensor's I-th row block (0-based), the values of the "
                        "whole (needs --seed)")
    i.add_argument("--max-file-size", type=_bytes, default=None, metavar="SIZE",
                   help="a Hugging Face checkpoint of files of at most SIZE of data each (5GB, 500MB, 2GiB; as "
                        "save_pretrained's max_shard_size): --out's model-0000I-of-0000N.safetensors beside it and "
                        "its .index.json, or --out alone when all fits")
    i.add_argument("--no-progress", action="store_true", help="no progress bar (default: one on stderr when it is "
                   "a terminal and the file has 256 MiB or more)")
    i.add_argument("--list", action="store_true", help="list the embedded architectures and exit")
    i.set_defaults(func=cmd_init)

    b = _sub(sub, "bench", "time every initializer vs memset, NumPy, torch and JAX",
             "For each initializer and dtype: elements/s, fraction of a memset of the same buffer, speed-up "
             "vs NumPy, torch and JAX (each when installed, same run, best of --repeat), first-call time and "
             "peak RSS beyond the buffer (each in a fresh process, warm numba cache).")
    b.add_argument("--size", type=_size, default=None, help="elements per fill: 1e8, 100M, ... (default 1e7; "
                   "--full: 1e8)")
    b.add_argument("--dtype", action="append", metavar="DTYPES",
                   help="float16, bfloat16, float32, float64; repeatable or comma list (default float32; --full: all)")
    b.add_argument("--only", action="append", metavar="NAMES",
                   help="initializers, repeatable or comma list (default all: constant_, uniform_, normal_, "
                        "trunc_normal_, xavier_uniform_, kaiming_normal_, orthogonal_, sparse_)")
    b.add_argument("--matrix", type=int, default=None, help="side of the orthogonal_ / sparse_ matrices "
                   "(default 1024; --full: 2048)")
    b.add_argument("--against", action="append", metavar="NAMES", help="contestants, repeatable or comma list, or "
                   "none (each skipped when not installed; default numpy,torch,jax; --device cuda: torch)")
    b.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="cpu (default) or cuda")
    b.add_argument("--repeat", type=int, default=None, help="timed calls after a warm-up, best taken "
                   "(default 3; --full: 5)")
    b.add_argument("--full", action="store_true", help="1e8 elements, every dtype, 2048 x 2048 matrices")
    b.add_argument("--json", action="store_true", help="print a JSON report instead of the table")
    b.add_argument("--no-probes", action="store_true", help="skip the fresh-process first-call and RSS probes")
    b.add_argument("--no-progress", action="store_true", help=NO_PROGRESS)
    b.set_defaults(func=cmd_bench)

    c = _sub(sub, "check", "statistical self-test of every initializer and dtype",
             "Draw N samples per initializer, dtype and seed; KS test against the exact law (the rounded law "
             "for float16/bfloat16), mean and std in standard errors, bounds, neighbours' correlation, no run "
             "repeated at a kernel's periods and different values per seed (independent draws), orthogonality and "
             "Haar tests (trace, entries) of orthogonal_, exact zero counts of sparse_.  Thresholds: family-wise "
             "--alpha split over all tests (Bonferroni).  "
             "Exit code 1 when any check fails.")
    c.add_argument("--n", type=_size, default=10**7, help="samples per check, dtype and seed (default 1e7)")
    c.add_argument("--dtype", action="append", metavar="DTYPES", help="dtypes, repeatable or comma list (default all)")
    c.add_argument("--only", action="append", metavar="NAMES",
                   help="checks, repeatable or comma list (default all; --list shows them)")
    c.add_argument("--list", action="store_true", help="list the checks and exit")
    c.add_argument("--seeds", default="0,1", help="comma list of seeds (default 0,1)")
    c.add_argument("--alpha", type=float, default=1e-3, help="family-wise false-failure rate (default 1e-3)")
    c.add_argument("--json", action="store_true", help="print a JSON report instead of the table")
    c.add_argument("--no-progress", action="store_true", help=NO_PROGRESS)
    c.set_defaults(func=cmd_check)

    from .variance import ACTIVATIONS, DEFAULT_SCHEMES, LEAST, SCHEMES

    v = _sub(sub, "variance", "variance of activations and gradients per layer of a deep MLP, per init scheme",
             "Push a N(0, 1) batch through a deep square MLP (no biases) initialized by each scheme, backprop a "
             "unit-variance gradient, and report Var(pre-activation) and Var(gradient) per layer, the per-layer "
             f"ratio and a verdict.  Schemes: {', '.join(SCHEMES)}.")
    v.add_argument("--depth", type=_at_least(LEAST["depth"]), default=50, help="layers (default 50)")
    v.add_argument("--width", type=_at_least(LEAST["width"]), default=512, help="units per layer (default 512)")
    v.add_argument("--batch", type=_at_least(LEAST["batch"]), default=256, help="batch size (default 256)")
    v.add_argument("--activation", choices=list(ACTIVATIONS), default="relu", help="nonlinearity (default relu)")
    v.add_argument("--schemes", action="append", metavar="NAMES",
                   help=f"repeatable or comma list (default {','.join(DEFAULT_SCHEMES)})")
    v.add_argument("--dtype", choices=["float32", "float64"], default="float64",
                   help="forward pass precision (default float64)")
    v.add_argument("--seed", type=int, default=0, help="seed of the weights, inputs and gradients (default 0)")
    v.add_argument("--png", type=_path, metavar="FILE",
                   help="also save a plot (needs matplotlib: pip install 'fastinit[plot]')")
    v.add_argument("--json", action="store_true", help="print a JSON report instead of the tables")
    v.add_argument("--no-progress", action="store_true", help=NO_PROGRESS)
    v.set_defaults(func=cmd_variance)

    k = _sub(sub, "compile", "compile every CPU kernel (--gpu: and GPU kernel) for this machine now, so no first "
             "call waits",
             "numba compiles fastinit's kernels on their first use and caches them on disk (about 11 s for the first "
             "normal_, 30 s more for the first trunc_normal_ on a 2-vCPU machine).  This compiles them all now, one "
             "worker process per kernel group; later processes load them in tenths of a second.  The cache is per "
             "CPU model and per content of fastinit's modules.  Exit codes: 0 done, 1 a group failed to compile or "
             "its worker died, 2 nothing to cache into (numba's JIT disabled, no writable cache folder: set "
             "NUMBA_CACHE_DIR) or --gpu without numba-cuda or a GPU, 130 interrupted.")
    k.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per group, at most the "
                   "CPUs this process may use: affinity, cgroup quota; 1: in this process)")
    k.add_argument("--gpu", action="store_true", help="also the GPU kernels (numba-cuda), built for this machine's "
                   "GPU (the one numba-cuda makes current) for every storage type; exit code 2 without numba-cuda or "
                   "a GPU")
    k.add_argument("--json", action="store_true", help="print a JSON report instead of the lines")
    k.set_defaults(func=cmd_compile)
    return p


#: fastinit fill: the parameter flags each --dist takes (another one given is refused, not ignored)
_DIST_FLAGS = {"uniform": ("a", "b"), "normal": ("mean", "std"), "trunc_normal": ("mean", "std", "a", "b"),
               "constant": ("value",)}
_NUMBER_FLAGS = {"--a", "--b", "--mean", "--std", "--value", "--alpha"}


def _negative_values(argv: list[str]) -> list[str]:
    """``--a -1e-3`` as ``--a=-1e-3``: argparse (before Python 3.13) takes only ``-1`` and ``-0.5`` for negative
    numbers and reads ``-1e-3`` or ``-inf`` as an unknown flag (and ``--shard -1/2`` or ``--stream -1e3`` as a
    missing value: refused by their own checks instead).  Abbreviations argparse would expand (``--val``,
    ``--me``) too; an ambiguous one (``--s``) is then argparse's "ambiguous option" error."""
    out, i = [], 0
    while i < len(argv):
        if i + 1 < len(argv) and (_abbreviates(argv[i], _NUMBER_FLAGS) and _is_float(argv[i + 1])
                                  or _abbreviates(argv[i], ("--shard", "--stream"))
                                  and re.match(r"-[0-9.]", argv[i + 1])):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def _abbreviates(arg: str, flags) -> bool:
    """Whether ``arg`` is one of ``flags`` or a prefix argparse could expand to one (``--val`` for ``--value``)."""
    return arg.startswith("--") and len(arg) > 2 and "=" not in arg and any(f.startswith(arg) for f in flags)


NO_PROGRESS = "no progress bar (default: one on stderr when it is a terminal)"


def _progress(args: argparse.Namespace) -> bool:
    """Whether a command shows its progress bar: not with --no-progress, nor into a log (stderr not a terminal:
    a bar's carriage-return frames would fill it)."""
    return not getattr(args, "no_progress", True) and io._is_terminal(sys.stderr)  # (no such flag: False)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _real(text: str) -> float:
    """A number flag's value; a literal beyond float64's range (1e400, which float() makes inf) is refused."""
    value = float(text)
    if math.isinf(value) and text.strip().lstrip("+-").lower() not in ("inf", "infinity"):
        raise argparse.ArgumentTypeError(f"{text!r} is beyond float64's range")
    return value


_real.__name__ = "float"  # (argparse's "invalid float value: 'abc'")


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(_negative_values(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:  # Ctrl-C while the parser is built: the one line (before main(), the imports: Python's)
        print("fastinit: interrupted", file=sys.stderr)
        return 130
    if getattr(args, "dist", None) is not None:  # fastinit fill
        unused = [f"--{k}" for k in ("a", "b", "mean", "std", "value")
                  if getattr(args, k) is not None and k not in _DIST_FLAGS[args.dist]]
        if unused:
            takes = ", ".join(f"--{k}" for k in _DIST_FLAGS[args.dist])
            print(f"fastinit fill: error: {' and '.join(unused)} not used by --dist {args.dist} (it takes {takes})",
                  file=sys.stderr)
            return 2
        trunc = args.dist == "trunc_normal"
        args.mean = 0.0 if args.mean is None else args.mean
        args.std = 1.0 if args.std is None else args.std
        args.value = 0.0 if args.value is None else args.value
        defaulted = args.a is None and args.b is None
        if args.a is None:
            args.a = args.mean - 2 * args.std if trunc else 0.0
        if args.b is None:
            args.b = args.mean + 2 * args.std if trunc else 1.0
        if trunc and defaulted and args.std > 0 and not args.a < args.b:  # (--mean 1 --std 1e-17: one value)
            print(f"fastinit fill: error: the default bounds --mean ± 2·--std ({args.a!r}, {args.b!r}) are not an "
                  "interval in float64; give --a and --b", file=sys.stderr)
            return 2
    from .archs import ARCHS

    if args.command == "init" and args.arch is not None and not args.list and args.arch not in ARCHS:  # --list lists
        print(f"fastinit init: error: unknown architecture {args.arch!r} (see fastinit init --list)",
              file=sys.stderr)
        return 2
    main_thread = threading.current_thread() is threading.main_thread()
    # SIGTERM (a `timeout`, docker stop, a CI cancel) stops a command as Ctrl-C does; both are noted too
    # (io.SIGNALLED), so that one lost inside a ctypes callback still stops it
    # (a signal the process ignores stays ignored: a background job's Ctrl-C is the foreground's)
    previous = {s: signal.signal(s, io.interrupt) for s in (signal.SIGINT, signal.SIGTERM)
                if main_thread and signal.getsignal(s) is not signal.SIG_IGN}
    noted = list(io.SIGNALLED)  # an enclosing command's (main() called from a command, or from a thread)
    if main_thread:
        io.SIGNALLED.clear()
    formatwarning = warnings.formatwarning  # a warning as the command's line, not "<frozen runpy>:88: UserWarning"
    unraisable = sys.unraisablehook
    if main_thread:  # process-wide: not from a thread, whose overlapping commands would restore each other's
        warnings.formatwarning = lambda message, *_, **__: f"fastinit {args.command}: warning: {message}\n"
        sys.unraisablehook = functools.partial(_quiet_interrupt, unraisable)
    try:
        if args.command == "compile":  # says what it compiles itself
            rc = args.func(args)
        else:
            with CompileWatch(first=lambda: print(COMPILING, file=sys.stderr, flush=True)) as args.compiles:
                rc = args.func(args)
        if main_thread and io.SIGNALLED:
            raise KeyboardInterrupt
        if sys.stdout is not None:  # (None: closed at start, >&-; print() then writes nothing)
            sys.stdout.flush()  # a closed pipe is seen here, not as "Exception ignored" at the interpreter's exit
        return rc
    except BrokenPipeError:  # stdout's reader went away (`| head -1`): what was asked is done (an --out file is
        # written before the report), so quietly, as a process killed by SIGPIPE exits in a shell
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush into the pipe
        except (OSError, ValueError):  # a stdout with no file descriptor (a test's capture)
            pass
        return 128 + signal.SIGPIPE
    except (TypeError, ValueError, ImportError, OSError) as e:  # OSError: --out in a missing folder, disk full
        print(f"fastinit {args.command}: error: {e}", file=sys.stderr)
        return 2
    except MemoryError as e:  # a size beyond this machine's memory: numpy's message names the bytes
        print(f"fastinit {args.command}: error: out of memory ({e or 'MemoryError'}); use a smaller size",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: an --out file was left as it was, no temporary file behind
        print(f"{chr(10) * _progress(args)}fastinit {args.command}: interrupted", file=sys.stderr)  # below a bar
        return 130
    finally:
        warnings.formatwarning = formatwarning
        sys.unraisablehook = unraisable
        for s, handler in previous.items():
            signal.signal(s, handler)
        if main_thread:  # noted for this command only (a later write_safetensors in the process is not)
            io.SIGNALLED[:] = noted


def _quiet_interrupt(previous, unraisable) -> None:
    """``sys.unraisablehook`` of a command: a KeyboardInterrupt its signal handler raised where Python can only
    print it ("Exception ignored in" a ctypes callback, or in an import lock's weakref callback, with a traceback)
    is dropped silently, as it is noted (io.SIGNALLED) and raised again where it matters; anything else, as
    before."""
    if not (issubclass(unraisable.exc_type, KeyboardInterrupt) and io.SIGNALLED):
        previous(unraisable)


if __name__ == "__main__":
    sys.exit(main())
