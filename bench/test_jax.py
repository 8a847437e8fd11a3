"""fastinit.jax against jax.nn.initializers: the same initializer, jitted, on the same backend and shape
(a (4096, 4096) float32 kernel by default; ``FASTINIT_JAX_BENCH_SHAPE=rows,cols``), and eager calls of small
shapes.  Jitted, fastinit's values come through a ``jax.pure_callback``, so its time includes the copy into
JAX's buffer.  Compare ``min`` within a group.

Run:  python -m pytest bench/test_jax.py -q --benchmark-group-by=group --benchmark-columns=min,median,rounds
"""
import os

import pytest

jax = pytest.importorskip("jax")
fj = pytest.importorskip("fastinit.jax")

SHAPE = tuple(int(n) for n in os.environ.get("FASTINIT_JAX_BENCH_SHAPE", "4096,4096").split(","))
CASES = {"glorot_uniform": (), "he_normal": (), "normal": (0.02,), "truncated_normal": (0.02,), "orthogonal": ()}


@pytest.mark.parametrize("who", ["fastinit.jax", "jax"])
@pytest.mark.parametrize("name", list(CASES))
def test_jitted_initializer(benchmark, name, who):
    factory = getattr(fj if who == "fastinit.jax" else jax.nn.initializers, name)
    init = factory(*CASES[name])
    fn = jax.jit(lambda key: init(key, SHAPE))
    key = jax.random.key(0)
    fn(key).block_until_ready()  # compile (and load fastinit's kernels) outside the timing
    benchmark.group = f"jax {name} {SHAPE}"
    benchmark.extra_info["backend"] = jax.default_backend()
    benchmark.pedantic(lambda: fn(key).block_until_ready(), rounds=5, warmup_rounds=1, iterations=1)


@pytest.mark.parametrize("who", ["fastinit.jax", "jax"])
@pytest.mark.parametrize("shape", [(8, 8), (512, 512)], ids=str)
def test_eager_call(benchmark, shape, who):
    """One eager call, as Flax NNX modules make them while they are built: argument checks, the fill, the copy
    to the device (fastinit) against JAX's dispatch of its own initializer."""
    init = (fj if who == "fastinit.jax" else jax.nn.initializers).he_normal()
    key = jax.random.key(0)
    init(key, shape).block_until_ready()
    benchmark.group = f"jax eager he_normal {shape}"
    benchmark.pedantic(lambda: init(key, shape).block_until_ready(), rounds=5, warmup_rounds=1, iterations=200)
