"""Array backends. `get(array)` returns the module that holds the array-level kernels for
that array's type (NumPy on the CPU, CuPy on the GPU), as `cupy.get_array_module` does.
Every backend module exposes `xp` (its array namespace) and the same kernel functions.

Importing this package first applies the CPU process settings of process_settings.py
(before NumPy loads; SCRATCHGEN_PROCESS_SETTINGS=0 turns them off): the one place where
scratchgen changes anything process-wide."""
from . import process_settings

process_settings.apply()

import functools  # noqa: E402 (after the settings: OpenBLAS reads its variables when NumPy loads)

import numpy as _np  # noqa: E402

from . import numpy as numpy_backend  # noqa: E402


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
