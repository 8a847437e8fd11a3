"""Registers and machine instructions (SASS) of fastinit's GPU kernels, measured on a machine with no GPU.

The kernels are compiled as a launch compiles them (numba-cuda, NVVM ``-fma=0``, sm_90 PTX, as bench/ptx_counts.py),
assembled by the CUDA toolkit's ``ptxas -arch=sm_90 -v`` (its register count) and listed by ``nvdisasm``.  Printed per
kernel and storage type: registers, the cubin's instructions (all of its code: the paths a fill takes and the ones it
does not, the division routines too), and how many of them are the instructions docs/gpu.md follows — 64-bit integer
to float conversions (``I2F.U64`` / ``I2F.S64``, on the conversion unit), 32-bit ones (``I2FP``), Philox's 32x32-bit
multiplies (``IMAD.WIDE.U32``), ``VIADD`` (ptxas's adds of a zero high half after 64-bit multiplies, before session
2026-12-04 (8)), calls (slow paths of division and square root) and global stores.  A static listing, not what a
thread executes (bench/ptx_counts.py counts executed PTX) and not a GPU time (bench/test_cuda.py).

Needs ptxas (``$CUDA_HOME/bin`` or PATH) and nvdisasm (PATH, or the wheel: pip install nvidia-cuda-nvdisasm).
Run: PYTHONPATH=. python bench/sass_counts.py
"""
from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

TESTS = pathlib.Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

import test_cuda  # noqa: E402

OPCODES = {"I2F.64": r"I2F(?:\.F32)?\.[US]64$", "I2FP": r"I2FP\b", "IMAD.WIDE.U32": r"IMAD\.WIDE\.U32$",
           "VIADD": r"VIADD\b", "CALL": r"CALL\b", "STG": r"STG\b"}  # I2F.64: not .RP (the 64-bit division's)
_INSTRUCTION = re.compile(r"^\s+/\*[0-9a-f]{4}\*/\s+(?:@!?U?P\w+\s+)?(\S+)")


def _tool(name: str, roots: list[str]) -> str:
    """The path of a CUDA tool: CUDA_HOME's bin, PATH, then the given roots (a pip wheel's nvidia/cu*/bin)."""
    for root in roots:
        found = sorted(pathlib.Path(root).glob(f"**/bin/{name}")) if root else []
        if found:
            return str(found[-1])
    found = shutil.which(name)
    if found:
        return found
    raise SystemExit(f"needs {name} (a CUDA toolkit's bin, on PATH, or: pip install nvidia-cuda-{name})")


def counts(ptx: str, ptxas: str, nvdisasm: str) -> dict:
    """Registers, instructions and the OPCODES' counts of one kernel's PTX, assembled for sm_90."""
    with tempfile.TemporaryDirectory() as tmp:
        src, cubin = pathlib.Path(tmp, "k.ptx"), pathlib.Path(tmp, "k.cubin")
        src.write_text(ptx)
        r = subprocess.run([ptxas, "-arch=sm_90", "-v", str(src), "-o", str(cubin)], capture_output=True, text=True,
                           check=True)
        listing = subprocess.run([nvdisasm, str(cubin)], capture_output=True, text=True, check=True).stdout
    ops = [m.group(1) for m in map(_INSTRUCTION.match, listing.splitlines()) if m]
    line = "\n".join(ops)
    out = {"registers": int(re.search(r"Used (\d+) registers", r.stderr).group(1)), "instructions": len(ops)}
    out.update({name: len(re.findall(rf"^{pattern}", line, re.M)) for name, pattern in OPCODES.items()})
    return out


def main() -> None:
    libdevice = test_cuda._libdevice()
    if libdevice is None:
        raise SystemExit("needs a CUDA toolkit's libNVVM and libdevice (CUDA_HOME)")
    cuda_home = str(pathlib.Path(libdevice).parents[2])
    wheels = [p for p in sys.path if p.endswith("site-packages")]
    ptxas = _tool("ptxas", [os.environ.get("CUDA_HOME", ""), cuda_home])
    nvdisasm = _tool("nvdisasm", [os.environ.get("CUDA_HOME", ""), cuda_home, *wheels])
    test_cuda._offline_nvvm(libdevice)
    from fastinit import _cpu, _cuda

    print(f"{'kernel':20} {'registers':>9} {'instructions':>12} " + " ".join(f"{name:>13}" for name in OPCODES))
    for kind, name in ((_cpu.UNIFORM, "_fill"), (_cpu.TRUNC, "_fill_trunc")):
        for code, dtype in ((_cpu.F32, "float32"), (_cpu.F64, "float64"), (_cpu.BF16, "bfloat16"),
                            (_cpu.F16, "float16")):
            c = counts(_cuda.ptx(kind, code, (9, 0)), ptxas, nvdisasm)
            print(f"{name + ' ' + dtype:20} {c['registers']:9} {c['instructions']:12} "
                  + " ".join(f"{c[op]:13}" for op in OPCODES))


if __name__ == "__main__":
    main()
