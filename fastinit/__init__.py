"""fastinit — compiled, reproducible, memory-speed neural-network weight initialization.

Every value is a pure function of (seed, stream, global element index, distribution
parameters, dtype): identical for any thread count, chunking, sharding or device.
"""
from ._philox import philox4x32
from ._seed import Generator, default_generator, initial_seed, manual_seed
from .init import constant_, normal_, ones_, trunc_normal_, uniform_, zeros_

__version__ = "0.1.0"

__all__ = [
    "philox4x32",
    "Generator",
    "default_generator",
    "initial_seed",
    "manual_seed",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "zeros_",
    "ones_",
]
