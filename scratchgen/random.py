"""Random numbers: a seedable Generator, and one global default (`manual_seed`).

Samples are drawn on the host with NumPy's PCG64 and moved to the device, so the same seed
gives the same numbers on "cpu" and "cuda" and a checkpoint can hold the exact state. One
exception: dropout on "cuda" draws its uniforms on the device (Philox4x32-10, kernels/dropout.cu)
under a 64-bit key taken from the generator, so its masks follow the seed but differ from the CPU's.
"""
import numpy

from . import backends


class Generator:
    """Like torch.Generator: `Generator().manual_seed(0)`, `get_state()`, `set_state(s)`."""

    def __init__(self, seed=None):
        self._rng = numpy.random.Generator(numpy.random.PCG64(seed))

    def manual_seed(self, seed):
        self._rng = numpy.random.Generator(numpy.random.PCG64(int(seed)))
        return self

    def get_state(self):
        return self._rng.bit_generator.state

    def set_state(self, state):
        self._rng.bit_generator.state = state

    def normal(self, shape, dtype, device):
        return self._place(self._rng.standard_normal(shape, dtype=_float(dtype, "normal")), device)

    def uniform(self, shape, dtype, device):
        return self._place(self._rng.random(shape, dtype=_float(dtype, "uniform")), device)

    def integers(self, low, high, shape, dtype, device):
        return self._place(self._rng.integers(low, high, shape, dtype=dtype), device)

    def permutation(self, n, device):
        return self._place(self._rng.permutation(n), device)

    def _place(self, array, device):
        return backends.for_device(device).from_host(array)


def _float(dtype, what):
    dtype = numpy.dtype(dtype)
    if dtype not in (numpy.float32, numpy.float64):
        raise TypeError(f"{what}: dtype must be float32 or float64, got {dtype}")
    return dtype


default_generator = Generator(0)


def manual_seed(seed):
    """Seed the global generator, so a run repeats exactly."""
    return default_generator.manual_seed(seed)


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)
