"""Small helpers the op files share: scalar promotion and argument checks (those the layers
share too are in scratchgen/arguments.py)."""
import functools
import numbers

import numpy

from ..autograd.tensor import Tensor

KINDS = {"f": "floating-point", "iu": "integer", "fiu": "numeric (not bool)"}


def operand(value, like, op, arg="other"):
    """`value` as a Tensor on `like`'s device. A Python number takes `like`'s dtype where
    NumPy's promotion rules (NEP 50: Python scalars are weak) say it would."""
    if isinstance(value, Tensor):
        return value
    backend = like.backend
    if isinstance(value, numbers.Number):
        dtype = like.array.dtype
        if dtype.kind != "f" or isinstance(value, complex):
            dtype = backend.xp.result_type(dtype, value)
        return Tensor._wrap(_constant(backend.xp, value, dtype))
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return Tensor._wrap(backend.xp.asarray(value))
    raise TypeError(f"{op}: argument '{arg}' must be a Tensor or a number, got {type(value).__name__}")


@functools.lru_cache(maxsize=1024, typed=True)
def _constant(xp, value, dtype):
    """A 0-d array holding `value`, made once: wrapping a Python number anew costs an array
    construction per use (on a GPU a host-to-device copy) for `1 - y`, `x * 0.5` in every
    step. Shared safely, because ops never write into their inputs."""
    return xp.full((), value, dtype=dtype)


def check_tensor(value, op, arg, kinds=None):
    """`value` if it is a Tensor (whose dtype is of one of `kinds`, NumPy's dtype.kind
    letters: "f" floating point, "iu" integer), else a TypeError naming op and argument."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: argument '{arg}' must be a Tensor, got {type(value).__name__}")
    if kinds is not None and value.dtype.kind not in kinds:
        raise TypeError(f"{op}: argument '{arg}' must be a {KINDS.get(kinds, kinds)} tensor, "
                        f"got dtype {value.dtype}")
    return value


def check_optional_tensor(value, op, arg, kinds=None):
    return None if value is None else check_tensor(value, op, arg, kinds)


def first_tensor(op, **operands):
    """The first of the named operands that is a Tensor (the others may be numbers)."""
    for value in operands.values():
        if isinstance(value, Tensor):
            return value
    got = ", ".join(f"{name} a {type(value).__name__}" for name, value in operands.items())
    raise TypeError(f"{op}: at least one of {', '.join(operands)} must be a Tensor, got {got}")


def normalize_dim(dim, ndim, op, arg="dim"):
    """A possibly negative dim as an index in [0, ndim), with a clear error when out of range."""
    if type(dim) is not int and (not isinstance(dim, numbers.Integral) or isinstance(dim, bool)):
        raise TypeError(f"{op}: {arg} must be an int, got {dim!r}")
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(f"{op}: {arg}={dim} is out of range for a tensor with {ndim} dimensions "
                         f"(expected {-rank} to {rank - 1})")
    return dim % rank


def normalize_dims(dim, ndim, op):
    """None or an empty sequence (all dims, as torch), an int or a sequence of ints, as a
    sorted tuple of non-negative dims. A 0-d tensor accepts dim 0 or -1 (as torch) and has
    no axis to reduce."""
    if dim is None:
        return tuple(range(ndim))
    if type(dim) is int or isinstance(dim, numbers.Integral):
        return (normalize_dim(dim, ndim, op),) if ndim else ()
    if not isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be an int, a tuple of ints or None, got {dim!r}")
    if not dim:
        return tuple(range(ndim))
    dims = tuple(sorted(normalize_dim(d, ndim, op) for d in dim))
    if len(dims) > 1 and len(set(dims)) != len(dims):
        raise ValueError(f"{op}: dim {dim!r} names a dimension more than once")
    return dims if ndim else ()


def broadcast_shapes(a, b, op, names=("input", "other")):
    try:
        return numpy.broadcast_shapes(a, b)
    except ValueError:
        raise ValueError(f"{op}: shapes {a} and {b} cannot be broadcast together (the shapes of "
                         f"{names[0]} and {names[1]})") from None


def check_broadcasts_to(value, shape, op, arg, target="input"):
    """`value` (a Tensor) broadcasts up to `shape` (as a weight must to its input's shape)."""
    if broadcast_shapes(value.shape, shape, op, (arg, target)) != tuple(shape):
        raise ValueError(f"{op}: {arg} of shape {value.shape} does not broadcast to the shape "
                         f"{tuple(shape)} of {target}")
    return value


def same_device(op, **tensors):
    """Every Tensor among `tensors` on one device, else a RuntimeError naming each one's."""
    if len({type(t.array) for t in tensors.values() if isinstance(t, Tensor)}) < 2:  # one array type: one device
        return
    devices = {name: t.device for name, t in tensors.items() if isinstance(t, Tensor)}
    if len(set(devices.values())) > 1:
        listed = ", ".join(f"{name} on {device}" for name, device in devices.items())
        raise RuntimeError(f"{op}: expected all tensors on one device, got {listed}")


def explain_failure(op, error, **operands):
    """Called where an op's array code failed on operands that passed the checks (a NumPy or
    CuPy error from inside): raises the clear error, naming op and operands, that explains
    it: devices, then broadcasting, then their dtypes."""
    same_device(op, **operands)
    names = list(operands)
    shapes = [getattr(v, "shape", ()) for v in operands.values()]
    for i in range(1, len(names)):
        broadcast_shapes(shapes[0], shapes[i], op, (names[0], names[i]))
    dtypes = ", ".join(f"{name} of dtype {getattr(v, 'dtype', type(v).__name__)}" for name, v in operands.items())
    raise TypeError(f"{op}: not supported for {dtypes} ({error})") from None
