"""Argument checks shared by the ops, the layers and the tensor factories; each error names
the op (or layer) and the argument, what was expected and what came."""
import numbers

import numpy

from . import backends


def _is_int(value):
    return type(value) is int or (isinstance(value, numbers.Integral) and not isinstance(value, (bool, numpy.bool_)))


def int_tuple(value, n, op, arg, minimum):
    """An int, or a tuple/list of n ints, as a tuple of n ints that are all >= minimum (None:
    any int)."""
    values = value if isinstance(value, (tuple, list)) else (value,) * n if _is_int(value) else None
    if values is None or len(values) != n or not all(map(_is_int, values)):
        raise TypeError(f"{op}: {arg} must be an int or a tuple of {n} ints, got {value!r}")
    if minimum is not None and values and min(values) < minimum:
        expected = {0: "non-negative", 1: "positive"}.get(minimum, f"at least {minimum}")
        raise ValueError(f"{op}: {arg} must be {expected}, got {value!r}")
    return tuple(map(int, values))


def integer(value, op, arg, minimum=None):
    """An int (not a bool) that is >= minimum, as a Python int."""
    if not _is_int(value):
        raise TypeError(f"{op}: {arg} must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        expected = {0: "non-negative", 1: "positive"}.get(minimum, f"at least {minimum}")
        raise ValueError(f"{op}: {arg} must be {expected}, got {value!r}")
    return int(value)


def number(value, op, arg, minimum=None, maximum=None, what="a number"):
    """A real number (an int, a float, a bool or a NumPy scalar) within [minimum, maximum]."""
    if type(value) is not float and type(value) is not int and not isinstance(value, (numbers.Real, numpy.bool_)):
        raise TypeError(f"{op}: {arg} must be {what}, got {value!r}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        low = "-inf" if minimum is None else minimum
        high = "inf" if maximum is None else maximum
        raise ValueError(f"{op}: {arg} must be {what} in [{low}, {high}], got {value!r}")
    return value


def dtype(value, op, arg="dtype"):
    """A NumPy dtype of numbers or bools from a dtype, a type (sg.float32, float) or a name."""
    try:
        result = numpy.dtype(value)
    except TypeError:
        result = None
    if value is None or result is None or result.kind not in "biufc":
        raise TypeError(f"{op}: {arg} must be a numeric or bool dtype such as sg.float32, got {value!r}")
    return result


def device_backend(device, op, arg="device"):
    """The array backend of `device`, 'cpu' or 'cuda'; for 'cuda', a RuntimeError naming CuPy
    and the GPU when CuPy is missing or finds no GPU (CuPy's own error comes only on the
    first allocation, from inside CuPy)."""
    if not isinstance(device, str) or device not in ("cpu", "cuda"):
        raise ValueError(f"{op}: argument device: expected 'cpu' or 'cuda', got {device!r}")
    if device == "cpu":
        return backends.for_device("cpu")
    try:
        backend = backends.for_device("cuda")
        _check_gpu(backend)
    except Exception as error:  # noqa: BLE001 (CuPy missing, no driver, no device: each its own type)
        raise RuntimeError(f"{op}: {arg}='cuda' needs CuPy and a GPU, and none is usable here "
                           f"({type(error).__name__}: {error})") from None
    return backend


_gpu_found = []  # [True] once CuPy has found a GPU: a GPU found stays found


def _check_gpu(backend):
    is_available = getattr(backend.xp, "is_available", None)  # CuPy's (a stand-in array module may lack it)
    if _gpu_found or is_available is None:
        return
    if not is_available():
        raise RuntimeError("CuPy finds no usable CUDA GPU")
    _gpu_found.append(True)
