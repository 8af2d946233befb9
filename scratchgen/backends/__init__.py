"""Array backends. `get(array)` returns the module that holds the array-level kernels for
that array's type (NumPy on the CPU, CuPy on the GPU), as `cupy.get_array_module` does.
Every backend module exposes `xp` (its array namespace) and the same kernel functions."""
import numpy as _np

from . import numpy as numpy_backend


def get(array):
    if isinstance(array, (_np.ndarray, _np.generic)) or _np.isscalar(array):
        return numpy_backend
    return _cuda_backend()


def for_device(device):
    if device == "cpu":
        return numpy_backend
    if device == "cuda":
        return _cuda_backend()
    raise ValueError(f"device: expected 'cpu' or 'cuda', got {device!r}")


def _cuda_backend():
    try:
        from . import cuda
        cuda.xp  # imports CuPy (the module itself imports without it, for the kernel emulator)
    except ImportError as error:
        raise RuntimeError(
            "device 'cuda' needs CuPy and a GPU: pip install 'scratchgen[cuda]' "
            f"({error})") from None
    return cuda
