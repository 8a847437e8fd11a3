"""fastinit — compiled, reproducible, memory-speed neural-network weight initialization.

Every value is a pure function of (seed, stream, global element index, distribution
parameters, dtype): identical for any thread count, chunking, sharding or device.

>>> import fastinit
>>> W = fastinit.he_normal(784, 256, seed=0, stream="W1")     # new array, (n_in, n_out): N(0, 2 / 784)
>>> W.shape, W.dtype
((784, 256), dtype('float32'))

* In place, into any float16/bfloat16/float32/float64 buffer (NumPy, memmap, memoryview, torch CPU
  tensor, GPU memory): ``fastinit.normal_(w, std=0.02, seed=0, stream="layer.0.weight")``; the
  initializers with a trailing underscore have torch.nn.init's names and fan rules.
* Seeding: ``seed=`` makes a call pure.  Give every parameter its own ``stream=`` (its name): under one
  seed and stream two arrays share their draws, whatever their shapes.  Without a seed, calls draw fresh
  seeds from the default generator (``fastinit.manual_seed(s)`` makes a program reproducible).
* Adapters: ``fastinit.torch`` (a drop-in for torch.nn.init, and ``materialize`` for meta-device models),
  ``fastinit.jax`` (jax.nn.initializers), ``fastinit.dask``, ``fastinit.io`` (safetensors checkpoints);
  ``fastinit.recommend(activation)`` for the textbook's activation -> init table.
* Command line: ``python -m fastinit --help``.  Guide: docs/guide.md.
"""
from ._philox import philox4x32
from ._seed import Generator, default_generator, initial_seed, manual_seed
from .alloc import (
    constant, delta_orthogonal, dirac, eye, fan_in_uniform, glorot_normal, glorot_uniform, he_normal, he_uniform,
    kaiming_normal, kaiming_uniform, lecun_normal, lecun_uniform, martens_sparse, normal, ones, orthogonal, sparse,
    trunc_normal, uniform, variance_scaling, xavier_normal, xavier_uniform, zeros,
)
from .fans import calculate_gain, fans
from .guide import Recommendation, prior_bias, prior_bias_, recommend, relu_bias, relu_bias_
from .init import constant_, normal_, ones_, trunc_normal_, uniform_, zeros_
from .scaled import (
    fan_in_uniform_, kaiming_normal_, kaiming_uniform_, lecun_normal_, lecun_uniform_, variance_scaling_,
    xavier_normal_, xavier_uniform_,
)
from .sparsity import martens_sparse_, sparse_
from .structured import delta_orthogonal_, dirac_, eye_, orthogonal_

__version__ = "0.1.0"

__all__ = [
    "philox4x32", "Generator", "default_generator", "initial_seed", "manual_seed",
    "fans", "calculate_gain",
    "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_", "eye_", "dirac_", "orthogonal_",
    "delta_orthogonal_", "sparse_", "martens_sparse_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "lecun_uniform_", "lecun_normal_",
    "fan_in_uniform_", "variance_scaling_",
    "uniform", "normal", "trunc_normal", "constant", "zeros", "ones", "eye", "dirac", "orthogonal", "sparse",
    "martens_sparse", "delta_orthogonal",
    "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "lecun_uniform", "lecun_normal",
    "fan_in_uniform", "variance_scaling", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
    "relu_bias_", "relu_bias", "prior_bias_", "prior_bias", "recommend", "Recommendation",
]
