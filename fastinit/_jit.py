"""How fastinit compiles, said once.

* :data:`scalar` — per-element math (bits, transforms): inlined at numba-IR level into every
  kernel loop, so LLVM sees straight-line arithmetic it can vectorize.  The same Python source
  is what the CUDA kernels compile as device functions.
* :data:`kernel` — serial helpers and loops over scratch batches (cached).
* :data:`parallel_kernel` — the ``prange`` entry points (cached).

``error_model="numpy"`` drops Python's zero-division checks (the math never divides by zero,
and a check per element would block vectorization).  No ``fastmath``: results must not depend
on instruction selection (no FMA contraction, no reassociation), which is what keeps them
bit-identical across machines and thread counts.
"""
import numba

scalar = numba.njit(inline="always", error_model="numpy")
kernel = numba.njit(cache=True, error_model="numpy")
parallel_kernel = numba.njit(parallel=True, cache=True, error_model="numpy")
