"""Array backends. `get(array)` returns the module that holds the array-level kernels for
that array's type (NumPy on the CPU, CuPy on the GPU), as `cupy.get_array_module` does.
Every backend module exposes `xp` (its array namespace) and the same kernel functions."""
import functools

import numpy as _np

from . import numpy as numpy_backend


def get(array):
    """The CUDA backend for a GPU array (one with `__cuda_array_interface__`), else NumPy's."""
    if isinstance(array, _np.ndarray) or not hasattr(array, "__cuda_array_interface__"):
        return numpy_backend
    return _cuda_backend()


def for_device(device):
    if device == "cpu":
        return numpy_backend
    if device == "cuda":
        return _cuda_backend()
    raise ValueError(f"device: expected 'cpu' or 'cuda', got {device!r}")


@functools.cache  # called for every op on a GPU array: import and check CuPy once
def _cuda_backend():
    try:
        from . import cuda
        cuda.xp  # imports CuPy (the module itself imports without it, for the kernel emulator)
    except ImportError as error:
        raise RuntimeError(
            "device 'cuda' needs CuPy and a GPU: pip install 'scratchgen[cuda]' "
            f"({error})") from None
    return cuda
