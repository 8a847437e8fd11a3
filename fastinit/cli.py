"""Layer 7 — the ``fastinit`` command line.

``fastinit init --arch NAME --out FILE.safetensors``: the main job — initialize every parameter
of an embedded architecture straight into a safetensors file, in bounded memory.
``fastinit fill``: fill a (possibly on-disk) buffer with a distribution and report throughput
against a memset of the same buffer measured in the same run.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from . import init
from ._buffers import resolve_dtype


def _numel(text: str) -> int:
    try:
        n = int(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--numel must be a number like 1e8, got {text!r}") from None
    if n < 1 or n != float(text):
        raise argparse.ArgumentTypeError(f"--numel must be a positive integer, got {text!r}")
    return n


def _shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard must look like I/N, e.g. 0/8, got {text!r}") from None
    if not 0 <= i < n:
        raise argparse.ArgumentTypeError(f"--shard I/N needs 0 <= I < N, got {text!r}")
    return i, n


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
    shape = (args.numel,)
    if args.out:
        out = np.lib.format.open_memmap(args.out, mode="w+", dtype=args.dtype, shape=shape)
    else:
        out = np.empty(shape, args.dtype)
    if args.dist == "uniform":
        def run():
            init.uniform_(out, args.a, args.b, seed=args.seed, stream=args.stream)
        law = f"U[{args.a}, {args.b})"
    elif args.dist == "normal":
        def run():
            init.normal_(out, args.mean, args.std, seed=args.seed, stream=args.stream)
        law = f"N({args.mean}, {args.std}^2)"
    elif args.dist == "trunc_normal":
        def run():
            init.trunc_normal_(out, args.mean, args.std, args.a, args.b, seed=args.seed, stream=args.stream)
        law = f"N({args.mean}, {args.std}^2) on [{args.a}, {args.b}]"
    else:
        def run():
            init.constant_(out, args.value)
        law = f"constant {args.value}"
    t0 = time.perf_counter()
    run()  # first call: compiles or loads the numba cache, touches the pages
    first = time.perf_counter() - t0
    t_fill = _best_of(args.repeat, run)
    t_memset = _best_of(args.repeat, lambda: out.fill(0) if out.dtype.kind == "f" else out.view(np.uint16).fill(0))
    if args.dist != "constant":
        run()  # leave the buffer holding the samples, not the memset's zeros
    if args.out:
        out.flush()
    gb = out.nbytes / 1e9
    print(f"fastinit fill: {args.numel:,} x {out.dtype} ~ {law}, seed={args.seed}, stream={args.stream!r}")
    print(f"  first call   {first * 1e3:9.1f} ms  (compile or cache load + page faults)")
    print(f"  fill         {t_fill * 1e3:9.1f} ms  {args.numel / t_fill / 1e9:7.3f} G elements/s  {gb / t_fill:6.2f} GB/s")
    print(f"  memset       {t_memset * 1e3:9.1f} ms  {args.numel / t_memset / 1e9:7.3f} G elements/s  {gb / t_memset:6.2f} GB/s")
    print(f"  fill / memset throughput: {t_memset / t_fill:.2f}")
    if args.out:
        print(f"  wrote {args.out} ({gb:.3f} GB, .npy)")
    sample = np.asarray(out[: min(args.numel, 10**6)], dtype=np.float64)
    print(f"  first {sample.size:,} values: mean {sample.mean():.6g}, std {sample.std():.6g}, "
          f"min {sample.min():.6g}, max {sample.max():.6g}")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .archs import ARCHS, arch_spec, parameter_count
    from .io import write_safetensors

    if args.list:
        for name in ARCHS:
            print(f"{name:12s} {parameter_count(arch_spec(name)):>15,} parameters")
        return 0
    if not args.arch or not args.out:
        print("fastinit init: error: --arch and --out are required (or --list)", file=sys.stderr)
        return 2
    spec = {name: replace(t, dtype=args.dtype) for name, t in arch_spec(args.arch).items()}
    n = parameter_count(spec)
    progress = False if args.no_progress else None
    summary = write_safetensors(args.out, spec, seed=args.seed, metadata={"arch": args.arch},
                                block_bytes=args.block_mb << 20, progress=progress, shard=args.shard)
    gb = summary["bytes"] / 1e9
    print(f"fastinit init: {args.arch}, {n:,} parameters ({len(spec)} tensors) as {args.dtype} -> {summary['path']}")
    print(f"  {gb:.3f} GB in {summary['seconds']:.2f} s: {gb / summary['seconds']:.2f} GB/s, "
          f"{n / summary['seconds'] / 1e9:.3f} G parameters/s; seed {summary['seed']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fastinit", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fill", help="fill a buffer in place and report throughput vs memset",
                       description="Fill NUMEL elements with a distribution; report elements/s and the "
                                   "ratio to a memset of the same buffer, measured in the same run.")
    f.add_argument("--numel", type=_numel, default=10**8, help="number of elements (default 1e8)")
    f.add_argument("--dtype", type=_dtype, default=np.dtype(np.float32),
                   help="float16, bfloat16, float32 (default) or float64")
    f.add_argument("--dist", choices=["uniform", "normal", "trunc_normal", "constant"], default="normal")
    f.add_argument("--a", type=float, default=None,
                   help="lower bound: uniform (default 0) or trunc_normal (absolute, default mean - 2 std)")
    f.add_argument("--b", type=float, default=None,
                   help="upper bound: uniform, excluded (default 1) or trunc_normal (default mean + 2 std)")
    f.add_argument("--mean", type=float, default=0.0, help="normal mean (default 0)")
    f.add_argument("--std", type=float, default=1.0, help="normal std (default 1)")
    f.add_argument("--value", type=float, default=0.0, help="constant value (default 0)")
    f.add_argument("--seed", type=int, default=0, help="Philox key (default 0)")
    f.add_argument("--stream", default="0", help="stream: an int or a name (default 0)")
    f.add_argument("--repeat", type=int, default=5, help="timed repetitions, best taken (default 5)")
    f.add_argument("--out", metavar="PATH.npy", help="fill a .npy file on disk (memory-mapped) instead of RAM")
    f.set_defaults(func=cmd_fill)
    i = sub.add_parser("init", help="initialize an embedded architecture into a safetensors file",
                       description="Write every parameter of an embedded architecture (no downloads), each "
                                   "initialized by its family's convention and keyed by its name as stream, "
                                   "into a safetensors file, in bounded memory.")
    i.add_argument("--arch", help="architecture name (see --list)")
    i.add_argument("--out", metavar="FILE.safetensors", help="output file (written atomically)")
    i.add_argument("--dtype", type=_dtype, default=np.dtype(np.float32), help="float16, bfloat16, float32, float64")
    i.add_argument("--seed", type=int, default=None, help="seed (default: drawn, recorded in the file's metadata)")
    i.add_argument("--block-mb", type=int, default=64, help="MiB filled per step: bounds memory (default 64)")
    i.add_argument("--shard", type=_shard, default=None, metavar="I/N",
                   help="write only shard I of N: every tensor's I-th row block (0-based), same values")
    i.add_argument("--no-progress", action="store_true", help="no progress bar")
    i.add_argument("--list", action="store_true", help="list the embedded architectures and exit")
    i.set_defaults(func=cmd_init)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "dist", None) is not None:
        trunc = args.dist == "trunc_normal"
        if args.a is None:
            args.a = args.mean - 2 * args.std if trunc else 0.0
        if args.b is None:
            args.b = args.mean + 2 * args.std if trunc else 1.0
    from .archs import ARCHS

    if args.command == "init" and args.arch and args.arch not in ARCHS:
        print(f"fastinit init: error: unknown architecture {args.arch!r} (see fastinit init --list)",
              file=sys.stderr)
        return 2
    if getattr(args, "stream", None) is not None and args.stream.isdigit():
        args.stream = int(args.stream)
    try:
        return args.func(args)
    except (TypeError, ValueError) as e:
        print(f"fastinit {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
