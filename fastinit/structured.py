"""Layer 5 — structured initializers: identity, Dirac and orthogonal matrices.

``eye_`` and ``dirac_`` follow torch.nn.init exactly.  ``orthogonal_`` draws a Haar-distributed
orthogonal matrix: QR of a Gaussian matrix (filled by fastinit's seeded normal kernel) with the
signs of R's diagonal moved into Q (Mezzadri 2007; a plain QR is not Haar), times ``gain``
(Saxe, McClelland & Ganguli 2014).  The QR is LAPACK's blocked Householder (BLAS-3) through
SciPy, in float64 for float64 targets and float32 otherwise (like torch); it needs the Gaussian
matrix and Q: 2 x itemsize x rows x cols of work space.
Same seed, same matrix on the same machine (LAPACK builds may differ in the last bits).

References: F. Mezzadri, "How to generate random matrices from the classical compact groups",
Notices AMS 54 (2007).  A. M. Saxe, J. L. McClelland, S. Ganguli, "Exact solutions to the
nonlinear dynamics of learning in deep linear neural networks", ICLR 2014.
"""
from __future__ import annotations

import math
from typing import Any, Optional, TypeVar

import numpy as np

from ._buffers import as_target
from ._seed import Generator
from .init import Stream, constant_, normal_

__all__ = ["eye_", "dirac_", "orthogonal_"]

T = TypeVar("T")


def eye_(out: T, *, dtype: Any = None) -> T:
    """Fill the 2-D ``out`` with the identity (ones on the main diagonal, zeros elsewhere)."""
    target = as_target(out, dtype)
    if target.array.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    constant_(out, 0.0, dtype=dtype)
    n = min(target.shape)
    target.array[np.arange(n), np.arange(n)] = 1
    return out


def dirac_(out: T, groups: int = 1, *, dtype: Any = None) -> T:
    """Fill a 3-, 4- or 5-D conv kernel (out, in, *k) with the Dirac delta: the identity map of
    the first min(out/groups, in) channels of each group, at the kernel's centre."""
    target = as_target(out, dtype)
    arr = target.array
    if arr.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    if arr.shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    if arr.size == 0:
        return out
    constant_(out, 0.0, dtype=dtype)
    per_group = arr.shape[0] // groups
    centre = tuple(s // 2 for s in arr.shape[2:])
    for g in range(groups):
        for d in range(min(per_group, arr.shape[1])):
            arr[(g * per_group + d, d) + centre] = 1
    return out


def orthogonal_(out: T, gain: float = 1.0, *, seed: Optional[int] = None, stream: Stream = 0,
                layout: str = "torch", dtype: Any = None, generator: Optional[Generator] = None,
                global_shape=None, offset=None) -> T:
    r"""Fill ``out`` (>= 2-D) with a Haar-random (semi-)orthogonal matrix times ``gain``.

    torch semantics: rows = shape[0], cols = numel / rows (``layout="keras"``: rows = prod(shape[:-1]),
    cols = shape[-1]); the matrix has orthonormal rows if rows <= cols, else orthonormal columns.
    """
    target = as_target(out, dtype)
    arr = target.array
    if global_shape is not None and tuple(global_shape) != arr.shape or offset is not None and any(offset):
        raise ValueError("orthogonal_ cannot fill a shard: every entry of an orthogonal matrix depends on the "
                         "whole matrix (it is a QR factor); initialize the full matrix and slice it")
    if arr.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if isinstance(gain, bool) or not isinstance(gain, (int, float)) or not math.isfinite(gain):
        raise ValueError(f"orthogonal_: gain must be a finite number, got {gain!r}")
    if layout not in ("torch", "keras"):
        raise ValueError(f"layout must be one of ('torch', 'keras'), got {layout!r}")
    if arr.size == 0:
        return out
    rows = arr.shape[0] if layout == "torch" else arr.size // arr.shape[-1]
    cols = arr.size // rows
    tall = max(rows, cols), min(rows, cols)
    work = np.float64 if arr.dtype == np.float64 else np.float32  # float32 QR for the narrow types
    a = normal_(np.empty(tall, work), seed=seed, stream=stream, generator=generator)
    from scipy.linalg import qr  # imported on first use: keeps `import fastinit` light

    q, r = qr(a, mode="economic", overwrite_a=True, check_finite=False)
    q *= np.sign(np.diag(r)) * work(gain)  # Mezzadri: make the factorization unique -> Haar
    arr[...] = (q if rows >= cols else q.T).reshape(arr.shape).astype(arr.dtype)
    return out
