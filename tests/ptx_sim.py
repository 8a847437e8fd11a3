"""An interpreter of the PTX that numba-cuda compiles fastinit's kernels to, one thread at a time: checks the
compiled GPU code's values (and counts its executed instructions) on a machine with no GPU.

The simulator (NUMBA_ENABLE_CUDASIM) runs the kernels' Python; this runs what NVVM made of it, for the
instructions those kernels contain (one it does not know raises NotImplementedError when the PTX is read, never
a guess).  Float arithmetic is IEEE binary32 / binary64 with round-to-nearest (the ``.rn`` forms), in NumPy
scalars.  Not modelled: shared memory, barriers, atomics, global loads (the fill kernels load nothing), min / max
of zeros of opposite signs.  Each instruction is decoded once into a Python closure over its operands.
"""
from __future__ import annotations

import math
import re

import numpy as np

_MASK = {16: 0xFFFF, 32: 0xFFFFFFFF, 64: 0xFFFFFFFFFFFFFFFF}
_FLOAT = {"f32": np.float32, "f64": np.float64}
_UINT = {"f32": np.uint32, "f64": np.uint64}
_CMP = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
        "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b}
_UNSIGNED_CMP = {"lo": "lt", "ls": "le", "hi": "gt", "hs": "ge"}
_ROUND = {"rni": np.rint, "rzi": np.trunc, "rmi": np.floor, "rpi": np.ceil}
_REG_BITS = {"rs": 16, "r": 32, "rd": 64}
SPECIAL = ("%tid.x", "%ctaid.x", "%ntid.x", "%nctaid.x")
EXIT = -1


def _width(t: str) -> int:
    return int(t[1:])


def _signed(v: int, n: int) -> int:
    return v - (1 << n) if v >> (n - 1) else v


def _reg_class(name: str) -> str:
    return "special" if name in SPECIAL else re.match(r"%([a-z]+)", name).group(1)


def _float_of_bits(v: int, t: str):
    return np.array(v, _UINT[t]).view(_FLOAT[t])[()]


def _bits_of_float(x, t: str) -> int:
    return int(np.array(x, _FLOAT[t]).view(_UINT[t]))


def _reader(s: str, t: str):
    """A function of the registers giving operand ``s`` read as type ``t``."""
    if s[0] != "%":
        if s[:2] in ("0f", "0F", "0d", "0D"):
            c = np.frombuffer(bytes.fromhex(s[2:])[::-1], np.float32 if s[1] in "fF" else np.float64)[0]
        else:
            c = int(s, 0)
        if t in _FLOAT:
            c = _FLOAT[t](c)
        elif t != "pred":
            c &= _MASK[_width(t)]
        return lambda r: c
    cls = _reg_class(s)
    if t == "pred" or cls == "special":
        return lambda r: r[s]
    if t in _FLOAT:
        if cls in ("f", "fd"):
            return (lambda r: r[s]) if (cls == "f") == (t == "f32") else (lambda r: _FLOAT[t](r[s]))
        return lambda r: _float_of_bits(r[s] & _MASK[_width(t)], t)
    mask = _MASK[_width(t)]
    if cls in ("f", "fd"):
        ft = "f32" if cls == "f" else "f64"
        return lambda r: _bits_of_float(r[s], ft) & mask
    return lambda r: r[s] & mask


def _writer(d: str):
    """A function storing a value into register ``d``, in its class's form."""
    cls = _reg_class(d)
    if cls == "p":
        def write(r, v):
            r[d] = bool(v)
    elif cls in ("f", "fd"):
        t = "f32" if cls == "f" else "f64"

        def write(r, v):
            r[d] = _float_of_bits(v & _MASK[_width(t)], t) if isinstance(v, int) else _FLOAT[t](v)
    else:
        mask = _MASK[_REG_BITS[cls]]

        def write(r, v):  # (an operand read as an integer type is an integer, a float register's bits included)
            r[d] = v & mask
    return write


class Kernel:
    """The PTX of one ``.entry``, decoded once: its parameter names and one closure per instruction (taking the
    thread's registers; returning None to go on, an instruction index to jump to, or EXIT)."""

    def __init__(self, ptx: str):
        entry = ptx[ptx.index(".entry"):]
        head, body = entry.split("{", 1)
        self.params = re.findall(r"\.param \.\w+ (\S+?)[,\s)]", head + " ")
        lines, self.labels = [], {}
        for line in body.splitlines():
            line = line.split("//")[0].strip().rstrip(";").strip()
            if not line or line[0] in ".}{":
                continue
            if line.endswith(":"):
                self.labels[line[:-1]] = len(lines)
            else:
                lines.append(line)
        self.code = [self._decode(line) for line in lines]

    def _decode(self, line: str):
        pred = None
        if line.startswith("@"):
            p, line = line.split(None, 1)
            pred = (p[1] == "!", p.lstrip("@!"))
        op, _, rest = line.partition(" ")
        args = [a.strip() for a in re.split(r",(?![^{]*})", rest)] if rest.strip() else []
        step = self._step(op.split("."), args)
        if pred is None:
            return step
        neg, p = pred
        return lambda r: None if r[p] == neg else step(r)

    def _step(self, parts: list, args: list):
        base, t = parts[0], parts[-1]
        if base == "bra":
            target = self.labels.get(args[0])
            return lambda r: self.labels[args[0]] if target is None else target
        if base in ("ret", "exit"):
            return lambda r: EXIT
        if base == "ld" and parts[1] == "param":
            write, name = _writer(args[0]), args[1].strip("[]")
            return lambda r: write(r, r["params"][name])
        if base == "st" and parts[1] == "global":
            m = re.fullmatch(r"\[(%\w+)(?:\+(-?\d+))?\]", args[0])
            reg, off, value, n = m.group(1), int(m.group(2) or 0), _reader(args[1], t), _width(t)
            if t in _FLOAT:
                def store(r):
                    r["memory"][(r[reg] + off) & _MASK[64]] = np.array(value(r), _FLOAT[t]).tobytes()
            else:
                def store(r):
                    r["memory"][(r[reg] + off) & _MASK[64]] = int(value(r)).to_bytes(n // 8, "little")
            return store
        if base == "mov" and args[0][0] == "{":
            raise NotImplementedError("mov unpacking into several registers")
        write = _writer(args[0])
        compute = self._value(base, parts, t, args)
        return lambda r: write(r, compute(r))

    def _value(self, base: str, parts: list, t: str, args: list):
        if base == "mov":
            if args[1][0] == "{":  # pack words into a wider one
                regs = [x.strip() for x in args[1].strip("{}").split(",")]
                n = _width(t) // len(regs)
                words = [_reader(x, f"b{n}") for x in regs]
                return lambda r: sum(w(r) << (n * i) for i, w in enumerate(words))
            return _reader(args[1], t)
        if base == "setp":
            return self._setp(parts, args)
        if base == "selp":
            a, b, p = _reader(args[1], t), _reader(args[2], t), args[3]
            return lambda r: a(r) if r[p] else b(r)
        if t == "pred":
            ops = [(a[0] == "!", a.lstrip("!")) for a in args[1:]]
            f = {"and": lambda x, y: x and y, "or": lambda x, y: x or y, "xor": lambda x, y: x != y}
            if base == "not":
                (neg, p), = ops
                return lambda r: (r[p] if neg else not r[p])
            (n0, p0), (n1, p1) = ops
            g = f[base]
            return lambda r: g(r[p0] != n0, r[p1] != n1)
        if base == "cvt":
            return self._cvt(parts, args)
        if base == "cvta":
            return _reader(args[1], t)
        read = [_reader(a, t) for a in args[1:]]
        if t in _FLOAT:
            return self._float(base, parts, read)
        return self._int(base, parts, t, read)

    @staticmethod
    def _setp(parts: list, args: list):
        cmp, t = parts[1], parts[2]
        if "|" in args[0]:
            raise NotImplementedError("setp with two destinations")
        a, b = _reader(args[1], t), _reader(args[2], t)
        if t in _FLOAT:
            if cmp in ("num", "nan"):
                want = cmp == "nan"
                test = lambda x, y: bool(np.isnan(x) or np.isnan(y)) == want  # noqa: E731
            elif cmp.endswith("u"):
                c = _CMP[cmp[:-1]]
                test = lambda x, y: bool(np.isnan(x) or np.isnan(y)) or c(x, y)  # noqa: E731
            else:
                test = _CMP[cmp]  # ordered: False with a NaN, as Python's comparisons of floats
        elif t[0] == "s":
            c, n = _CMP[cmp], _width(t)
            test = lambda x, y: c(_signed(x, n), _signed(y, n))  # noqa: E731
        else:
            test = _CMP[_UNSIGNED_CMP.get(cmp, cmp)]
        if len(parts) == 3:
            return lambda r: test(a(r), b(r))
        neg, q = args[3][0] == "!", args[3].lstrip("!")
        g = {"and": lambda x, y: x and y, "or": lambda x, y: x or y, "xor": lambda x, y: x != y}[parts[3]]
        return lambda r: g(test(a(r), b(r)), r[q] != neg)

    @staticmethod
    def _cvt(parts: list, args: list):
        mode = [p for p in parts[1:] if p in ("rn", "rz", "rm", "rp", *_ROUND)]
        dt, st = [p for p in parts[1:] if re.fullmatch(r"[usfb]\d+", p)]
        v = _reader(args[1], st)
        if st in _FLOAT and dt in _FLOAT:
            if mode and mode[0] in _ROUND:  # to an integral value, same format
                f = _ROUND[mode[0]]
                return lambda r: _FLOAT[dt](f(v(r)))
            if mode not in ([], ["rn"]):
                raise NotImplementedError(".".join(parts))
            return lambda r: _FLOAT[dt](v(r))
        if st in _FLOAT:  # to an integer: rounded, then saturated (NaN -> 0)
            f, n = _ROUND[mode[0]], _width(dt)
            lo, hi = (-(1 << (n - 1)), (1 << (n - 1)) - 1) if dt[0] == "s" else (0, (1 << n) - 1)

            def to_int(r):
                x = v(r)
                if np.isnan(x):
                    return 0
                return min(max(int(f(x)) if math.isfinite(x) else (hi if x > 0 else lo), lo), hi) & _MASK[n]
            return to_int
        n = _width(st)
        iv = (lambda r: _signed(v(r), n)) if st[0] == "s" else v
        if dt in _FLOAT:
            if mode != ["rn"]:
                raise NotImplementedError(".".join(parts))

            def to_float(r):
                x = iv(r)
                if abs(x) >= 1 << 53:  # float(x) would round once before a float32 rounding: refuse
                    raise NotImplementedError(f"cvt of {x} to {dt}")
                return _FLOAT[dt](float(x))
            return to_float
        mask = _MASK[_width(dt)]
        return lambda r: iv(r) & mask  # integer widths: sign- or zero-extended, or truncated

    @staticmethod
    def _float(base: str, parts: list, read: list):
        if base in ("add", "sub", "mul", "div", "sqrt") and parts[1] != "rn":
            raise NotImplementedError(".".join(parts))  # only the correctly rounded forms are modelled
        ops = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
               "div": lambda a, b: a / b, "min": np.fmin, "max": np.fmax}
        if base in ops:
            f, (a, b) = ops[base], read

            def binary(r):
                with np.errstate(all="ignore"):
                    return f(a(r), b(r))
            return binary
        one = {"sqrt": np.sqrt, "neg": lambda x: -x, "abs": abs}
        if base in one:
            f, (a,) = one[base], read

            def unary(r):
                with np.errstate(all="ignore"):
                    return f(a(r))
            return unary
        raise NotImplementedError(".".join(parts))

    @staticmethod
    def _int(base: str, parts: list, t: str, read: list):
        n = _width(t)
        s = (lambda x: _signed(x, n)) if t[0] == "s" else (lambda x: x)
        if base == "mul" and parts[1] == "wide":
            a, b = read
            return lambda r: s(a(r)) * s(b(r))
        if base == "mul" and parts[1] == "hi":
            a, b = read
            return lambda r: (s(a(r)) * s(b(r))) >> n
        if base in ("div", "rem"):
            a, b = read

            def divide(r):
                x, y = s(a(r)), s(b(r))
                q = abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1)  # truncated toward zero
                return q if base == "div" else x - q * y
            return divide
        if base == "bfi":  # insert the low len bits of a at bit pos of b
            a, b, pos, length = read

            def insert(r):
                m = ((1 << length(r)) - 1) << pos(r)
                return (b(r) & ~m) | ((a(r) << pos(r)) & m)
            return insert
        two = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "and": lambda x, y: x & y,
               "or": lambda x, y: x | y, "xor": lambda x, y: x ^ y, "shl": lambda x, y: x << min(y, n),
               "shr": lambda x, y: s(x) >> min(y, n), "min": lambda x, y: min(s(x), s(y)),
               "max": lambda x, y: max(s(x), s(y))}
        if base == "mul" and parts[1] == "lo":
            two["mul"] = lambda x, y: x * y
        if base in two:
            f, (a, b) = two[base], read
            return lambda r: f(a(r), b(r))
        if base in ("not", "neg"):
            (a,) = read
            return (lambda r: ~a(r)) if base == "not" else (lambda r: -a(r))
        raise NotImplementedError(".".join(parts))


def run_thread(kernel: Kernel, params, special: dict, memory: dict, limit: int = 10**8) -> int:
    """Run one thread: ``params`` in ``.param`` order, ``special`` the %tid.x ... %nctaid.x values; global stores
    go to ``memory`` ({address: bytes}).  Returns the instructions it executed."""
    regs = dict(special, params=dict(zip(kernel.params, params, strict=True)), memory=memory)
    code, pc, executed = kernel.code, 0, 0
    while executed < limit:
        executed += 1
        nxt = code[pc](regs)
        if nxt is None:
            pc += 1
        elif nxt == EXIT:
            return executed
        else:
            pc = nxt
    raise RuntimeError(f"instruction limit {limit} reached")


def launch(kernel: Kernel, grid: int, block: int, params, memory: dict | None = None) -> tuple[dict, int]:
    """Run every thread of a 1-D launch in turn (the kernels' threads share nothing); returns the global
    stores ({address: bytes}) and the instructions executed in all."""
    memory = {} if memory is None else memory
    executed = 0
    for b in range(grid):
        for t in range(block):
            executed += run_thread(kernel, params, {"%tid.x": t, "%ctaid.x": b, "%ntid.x": block, "%nctaid.x": grid},
                                   memory)
    return memory, executed
