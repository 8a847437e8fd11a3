"""fastinit — compiled, reproducible, memory-speed neural-network weight initialization.

Every value is a pure function of (seed, stream, global element index, distribution
parameters, dtype): identical for any thread count, chunking, sharding or device.
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
