"""Orthogonal and sparse init, float32, against torch.nn.init and NumPy in the same run (issue #6).

Goals on the 2-core reference machine: orthogonal_ 2048² and 4096² >= 2x faster than
torch.nn.init.orthogonal_ and than numpy.linalg.qr + sign fix; sparse_ 2048², sparsity 0.1,
>= 30x faster than torch.nn.init.sparse_.
"""
import math

import numpy as np
import pytest

import fastinit
from conftest import run
from fastinit.benchmark import FillCheck

torch = pytest.importorskip("torch")
import torch.nn.init as tinit  # noqa: E402

SIZES = [2048, 4096]


@pytest.mark.parametrize("n", SIZES)
def test_fastinit_orthogonal(benchmark, n):
    benchmark.group = f"orthogonal_ {n}x{n} f32"
    w = np.empty((n, n), np.float32)
    run(benchmark, lambda: fastinit.orthogonal_(w, seed=1), rounds=3, elements=w.size, check=FillCheck(w, "orthogonal"))


@pytest.mark.parametrize("n", SIZES)
def test_torch_nn_init_orthogonal(benchmark, n):
    benchmark.group = f"orthogonal_ {n}x{n} f32"
    t = torch.empty(n, n)
    run(benchmark, lambda: tinit.orthogonal_(t), rounds=3, elements=t.numel())


@pytest.mark.parametrize("n", SIZES)
def test_numpy_qr_sign_fixed(benchmark, n):
    benchmark.group = f"orthogonal_ {n}x{n} f32"
    rng = np.random.default_rng(1)

    def numpy_haar():
        q, r = np.linalg.qr(rng.standard_normal((n, n), np.float32))
        q *= np.sign(np.diag(r))
        return q

    run(benchmark, numpy_haar, rounds=3, elements=n * n)


SMALL = [(64, 64), (128, 128), (512, 128), (256, 1024)]  # recurrent matrices, LSTM gates (torch stacks four: (4 h, h))


@pytest.mark.parametrize("who", ["fastinit", "torch"])
@pytest.mark.parametrize("shape", SMALL, ids=str)
def test_small_orthogonal(benchmark, shape, who):
    benchmark.group = f"orthogonal_ {shape} f32 (per call)"
    if who == "fastinit":
        w = np.empty(shape, np.float32)
        fill = lambda: fastinit.orthogonal_(w, seed=1)  # noqa: E731
    else:
        t = torch.empty(shape)
        fill = lambda: tinit.orthogonal_(t)  # noqa: E731
    benchmark.pedantic(fill, rounds=5, warmup_rounds=1, iterations=20)
    if who == "fastinit":  # 20 calls a round, no place for a sentinel: one more call, checked
        check = FillCheck(w, "orthogonal")
        check.plant()
        fill()
        check.verify()


SPARSITIES = [0.1, 0.9]  # torch's documented example; the seed texts' "few non-zeros per unit"


@pytest.mark.parametrize("sparsity", SPARSITIES)
def test_fastinit_sparse(benchmark, sparsity):
    benchmark.group = f"sparse_ 2048x2048 sparsity {sparsity}"
    w = np.empty((2048, 2048), np.float32)
    check = FillCheck(w, "sparse", zeros=math.ceil(sparsity * 2048), std=0.01)
    run(benchmark, lambda: fastinit.sparse_(w, sparsity, seed=1), elements=w.size, check=check)


@pytest.mark.parametrize("sparsity", SPARSITIES)
def test_torch_nn_init_sparse(benchmark, sparsity):
    benchmark.group = f"sparse_ 2048x2048 sparsity {sparsity}"
    t = torch.empty(2048, 2048)
    run(benchmark, lambda: tinit.sparse_(t, sparsity), rounds=3, elements=t.numel())


@pytest.mark.benchmark(group="martens_sparse_ 2048x2048 k=15")
@pytest.mark.parametrize("layout", ["torch", "keras"])
def test_fastinit_martens_sparse(benchmark, layout):
    """k = 15 non-zeros per unit: per row of the default (out, in) weight (the keras fill of its transpose), per
    column of a keras (in, out) one."""
    w = np.empty((2048, 2048), np.float32)
    check = FillCheck(w.T if layout == "torch" else w, "sparse", zeros=2048 - 15, std=1.0)
    run(benchmark, lambda: fastinit.martens_sparse_(w, seed=1, layout=layout), elements=w.size, check=check)


@pytest.mark.benchmark(group="martens_sparse_ 2048x2048 k=15")
def test_torch_nn_init_sparse_with_k_15_nonzeros(benchmark):
    t = torch.empty(2048, 2048)
    run(benchmark, lambda: tinit.sparse_(t, 1 - 15 / 2048), rounds=3, elements=t.numel())
