"""Layer 1 — seeding: (seed, stream) -> Philox key and counter words; the default generator.

Mapping (the determinism contract, docs/determinism.md):

* ``seed`` s, an int in [0, 2**64), is the key: ``k0 = s & 0xFFFFFFFF``, ``k1 = s >> 32``.
* ``stream`` t, an int in [0, 2**64), fills counter words 2 and 3: ``c2 = t & 0xFFFFFFFF``,
  ``c3 = t >> 32``.  A ``str`` stream is first hashed:
  ``t = int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")``
  (fixed across runs and machines, unlike Python's salted ``hash``).
* Counter words 0 and 1 hold the Philox block index (``_cpu.lanes``: values per block).

``seed=None`` asks the default :class:`Generator` for a fresh 64-bit seed: the i-th request of
a generator with seed s gets ``philox4x32((i mod 2**32, i >> 32, 0, 0x5EED), key(s))[:2]``,
so consecutive unseeded calls differ and ``manual_seed`` makes a program reproducible.
"""
from __future__ import annotations

import functools
import hashlib
import os
import threading
import weakref

import numpy as np

from ._buffers import is_int, shown
from ._philox import PHILOX_ROUNDS, philox_block

__all__ = ["Generator", "manual_seed", "initial_seed", "default_generator", "key_words", "stream_words"]

_TWO64 = 2**64
_SEED_TAG = 0x5EED
SEEDS_AHEAD = 256  # seeds a Generator computes at once (see _seeds)


def hash64(data: bytes) -> int:
    """The fixed 64-bit hash of names (streams) and foreign keys: blake2b, 8 bytes, little-endian."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def _check_u64(value, name: str) -> int:
    if type(value) is int and 0 <= value < _TWO64:
        return value
    if not is_int(value):
        raise TypeError(f"{name} must be an int in [0, 2**64), got {shown(value, typed=True)}")
    v = int(value)
    if not 0 <= v < _TWO64:
        raise ValueError(f"{name} must lie in [0, 2**64), got {v}")
    return v


def _split(v: int) -> np.ndarray:
    return np.array((v & 0xFFFFFFFF, v >> 32), dtype=np.uint64)


@functools.lru_cache(maxsize=4096)
def _stream_words(stream: int | str) -> np.ndarray:
    return _split(stream_id(stream))


def key_words(seed: int) -> np.ndarray:
    """Philox key (k0, k1) of a seed, as uint64-held 32-bit words."""
    return _split(_check_u64(seed, "seed"))


def stream_id(stream) -> int:
    """The 64-bit stream number of an int or str ``stream``."""
    if isinstance(stream, str):
        try:
            data = stream.encode("utf-8")
        except UnicodeEncodeError as e:  # a lone surrogate ('\ud800') has no UTF-8 form
            raise ValueError(f"stream must be an int or a str encodable as UTF-8, got {stream!r}: {e.reason}") from None
        return hash64(data)
    if not is_int(stream):
        raise TypeError(f"stream must be an int in [0, 2**64) or a str, got {shown(stream, typed=True)}")
    return _check_u64(stream, "stream")


def stream_words(stream) -> np.ndarray:
    """Counter words (c2, c3) of a stream (cached for int and str streams: a model's parameter names
    come back at every initialization; the array is shared and never written)."""
    if type(stream) in (int, str):
        return _stream_words(stream)
    return _split(stream_id(stream))


def _entropy() -> int:
    return int.from_bytes(os.urandom(8), "little")


_GENERATORS: "weakref.WeakSet[Generator]" = weakref.WeakSet()  # every live Generator (their locks, after a fork)


class Generator:
    """Source of seeds for calls made with ``seed=None``.

    Each :meth:`next_seed` returns a new 64-bit seed derived from this generator's own seed
    and a call counter, under a lock, so concurrent callers never receive the same seed.

    >>> g = Generator(42)
    >>> a, b = g.next_seed(), g.next_seed()
    >>> a != b and Generator(42).next_seed() == a
    True
    """

    def __init__(self, seed: int | None = None):
        self._lock = threading.RLock()
        _GENERATORS.add(self)
        self.manual_seed(_entropy() if seed is None else seed)
        self._from_entropy = seed is None

    def manual_seed(self, seed: int) -> "Generator":
        """Reset to ``seed`` (an int in [0, 2**64)); returns ``self``."""
        s = _check_u64(seed, "seed")
        with self._lock:
            self._seed = s
            self._count = 0  # seeds handed out
            self._ahead: list[int] = []  # the next ones, computed ahead, last first
            self._from_entropy = False
        return self

    def initial_seed(self) -> int:
        """The seed this generator was last reset to."""
        return self._seed

    def __getstate__(self) -> dict:
        """Seed and position (pickle, copy.deepcopy: the copy goes on with the same seeds); not the lock."""
        with self._lock:
            return {"seed": self._seed, "count": self._count}

    def __setstate__(self, state: dict) -> None:
        self._lock = threading.RLock()
        _GENERATORS.add(self)
        self.manual_seed(state["seed"])
        self._count = _check_u64(state["count"], "count")

    def next_seed(self) -> int:
        """A fresh 64-bit seed; the i-th call is a pure function of (seed, i).  The lock is re-entrant and the next
        batch is computed outside it, so a signal handler that draws on the thread drawing now gets a seed of its
        own (the two may take i and i + 1 in either order) instead of waiting for itself."""
        while True:
            with self._lock:
                if self._ahead:  # no call between counting and taking the seed (where a signal could run)
                    seed = self._ahead[-1]
                    self._count += 1
                    del self._ahead[-1]
                    return seed
                seed, count = self._seed, self._count
            batch = _seeds(seed, count, SEEDS_AHEAD)[::-1]
            with self._lock:
                if not self._ahead and (self._seed, self._count) == (seed, count):
                    self._ahead = batch


def _seeds(seed: int, i: int, n: int) -> list[int]:
    """Seeds i, i + 1, ..., i + n - 1 of a generator with ``seed``: Philox's Python source, run on NumPy
    arrays (it is compiled for the kernels only; on scalars it takes 10 us a seed, here 0.4 with n = 256)."""
    c = np.arange(i, i + n, dtype=np.uint64)
    k = _split(seed)
    x0, x1, _, _ = getattr(philox_block, "py_func", philox_block)(  # plain function if NUMBA_DISABLE_JIT
        c & np.uint64(0xFFFFFFFF), c >> np.uint64(32), np.uint64(0), np.uint64(_SEED_TAG), k[0], k[1], PHILOX_ROUNDS)
    return (x0 | (x1 << np.uint64(32))).tolist()


default_generator = Generator()


def _after_fork_in_child() -> None:
    """A forked child: fresh generator locks (another thread of the parent may have held one: locked forever
    here), and, as Python's ``random`` does, a fresh seed for the default generator unless the program set one
    (otherwise every worker of a pool would hand out the parent's next seeds, the same weights in each)."""
    for g in list(_GENERATORS):
        g._lock = threading.RLock()
    if default_generator._from_entropy:
        default_generator.manual_seed(_entropy())
        default_generator._from_entropy = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (like ``torch.manual_seed``); returns it."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    """The default generator's seed (drawn from ``os.urandom`` at import, and again in a forked child, unless set)."""
    return default_generator.initial_seed()


def public_name(kind: type) -> str:
    """A type's name by its public module: numpy.random.Generator, torch.Generator (torch._C), fastinit.Generator."""
    module = ".".join(p for p in kind.__module__.split(".") if not p.startswith("_"))
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def seeding_hint(source) -> str:
    """How to seed a call from ``source``, a generator argument fastinit's function does not take (another library's,
    a seed given as one): '' where there is nothing to say."""
    if isinstance(source, (int, np.integer)) and not isinstance(source, (bool, np.bool_)):
        return "a seed goes to seed="
    if isinstance(source, Generator):
        return "draw a seed from it instead: seed=g.next_seed()"
    draw = "seed=int(rng.integers(2**63))" if isinstance(source, np.random.Generator) else \
        "seed=int(rs.randint(2**63))" if isinstance(source, np.random.RandomState) else \
        "seed=int(np.random.Generator(bg).integers(2**63))" if isinstance(source, np.random.BitGenerator) else \
        "seed=int(torch.randint(2**62, (), generator=g))" if public_name(type(source)) == "torch.Generator" else ""
    return f"draw a seed from it instead: {draw}" if draw else ""


def resolve_seed(seed, generator: Generator | None = None, draw: bool = True) -> int | None:
    """An explicit seed is validated and used as is; ``None`` draws from ``generator`` or the default.
    ``draw=False`` (an empty target) checks both and draws nothing: None for ``seed=None``."""
    if generator is not None and not isinstance(generator, Generator):
        hint = seeding_hint(generator)
        raise TypeError(f"generator must be a fastinit.Generator or None, got {public_name(type(generator))}"
                        + (f"; {hint}" if hint else ""))
    if seed is None:
        return (generator or default_generator).next_seed() if draw else None
    return _check_u64(seed, "seed")
