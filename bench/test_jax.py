"""fastinit.jax against jax.nn.initializers: the same initializer, jitted, on the same backend and shape
(a (4096, 4096) float32 kernel by default; ``FASTINIT_JAX_BENCH_SHAPE=rows,cols``), and eager calls of small
shapes.  Jitted, fastinit's values come through a ``jax.pure_callback``, so its time includes the copy into
JAX's buffer.  Compare ``min`` within a group.

Run:  python -m pytest bench/test_jax.py -q --benchmark-group-by=group --benchmark-columns=min,median,rounds
"""
import contextlib
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


@pytest.mark.parametrize("how", ["fastinit.jax", "fastinit.jax, set_mesh + out_sharding", "jax"])
def test_flax_linen_sharded_init(benchmark, how):
    """Flax Linen's classic sharded init, ``jax.jit(model.init, out_shardings=nn.get_sharding(...))``, of a
    ``Dense(4096)`` kernel (1024, 4096) split over a 2x2 mesh: fastinit.jax as is (it cannot see the mesh: one
    whole callback, then XLA reshards), under ``jax.set_mesh`` with the kernel's ``out_sharding`` passed (each
    device fills its block; docs/guide.md's tip), and JAX's own ``lecun_normal``.  Needs flax and 4 devices:
    ``XLA_FLAGS=--xla_force_host_platform_device_count=4 python -m pytest bench/test_jax.py -k flax``."""
    nn = pytest.importorskip("flax.linen")
    if jax.device_count() < 4:
        pytest.skip("needs 4 devices: XLA_FLAGS=--xla_force_host_platform_device_count=4")
    from jax.sharding import AxisType, PartitionSpec

    mesh = jax.make_mesh((2, 2), ("x", "y"), axis_types=(AxisType.Auto,) * 2)
    init = fj.lecun_normal() if how.startswith("fastinit") else jax.nn.initializers.lecun_normal()
    if how.endswith("out_sharding"):
        plain = init
        init = lambda key, shape, dtype=jax.numpy.float32: plain(key, shape, dtype,  # noqa: E731
                                                                  out_sharding=PartitionSpec("x", "y"))
    model = nn.Dense(4096, kernel_init=nn.with_partitioning(init, ("x", "y")))
    key, x = jax.random.key(0), jax.numpy.ones((1, 1024))
    with jax.set_mesh(mesh) if how.endswith("out_sharding") else contextlib.nullcontext():
        shardings = nn.get_sharding(jax.eval_shape(model.init, key, x), mesh)
        build = jax.jit(model.init, out_shardings=shardings)
        assert build(key, x)["params"]["kernel"].value.sharding.spec == PartitionSpec("x", "y")  # and compiled
        benchmark.group = "jax flax Linen sharded Dense(4096) init, 2x2 mesh"
        benchmark.pedantic(lambda: jax.block_until_ready(build(key, x)), rounds=7, warmup_rounds=1, iterations=1)
