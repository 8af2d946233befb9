"""Small helpers the op files share: scalar promotion and argument checks."""
import functools
import numbers

from ..autograd.tensor import Tensor


def operand(value, like, op):
    """`value` as a Tensor on `like`'s device. A Python number takes `like`'s dtype where
    NumPy's promotion rules (NEP 50: Python scalars are weak) say it would."""
    if isinstance(value, Tensor):
        return value
    backend = like.backend
    if isinstance(value, numbers.Number):
        dtype = like.data.dtype
        if dtype.kind != "f" or isinstance(value, complex):
            dtype = backend.xp.result_type(dtype, value)
        return Tensor._wrap(_constant(backend.xp, value, dtype))
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return Tensor._wrap(backend.xp.asarray(value))
    raise TypeError(f"{op}: expected a Tensor or a number, got {type(value).__name__}")


@functools.lru_cache(maxsize=1024, typed=True)
def _constant(xp, value, dtype):
    """A 0-d array holding `value`, made once: wrapping a Python number anew costs an array
    construction per use (on a GPU a host-to-device copy) for `1 - y`, `x * 0.5` in every
    step. Shared safely, because ops never write into their inputs."""
    return xp.full((), value, dtype=dtype)


def check_tensor(value, op, arg):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: argument '{arg}' must be a Tensor, got {type(value).__name__}")
    return value


def normalize_dim(dim, ndim, op, arg="dim"):
    """A possibly negative dim as an index in [0, ndim), with a clear error when out of range."""
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(f"{op}: {arg}={dim} is out of range for a tensor with {ndim} dimensions "
                         f"(expected {-rank} to {rank - 1})")
    return dim % rank


def normalize_dims(dim, ndim, op):
    """None or an empty sequence (all dims, as torch), an int or a sequence of ints, as a
    sorted tuple of non-negative dims. A 0-d tensor accepts dim 0 or -1 (as torch) and has
    no axis to reduce."""
    dims = (dim,) if isinstance(dim, int) else None if dim is None else tuple(dim)
    if not dims:
        return tuple(range(ndim))
    dims = tuple(sorted(normalize_dim(d, ndim, op) for d in dims))
    return dims if ndim else ()


def broadcast_shapes(a, b, op):
    import numpy
    try:
        return numpy.broadcast_shapes(a, b)
    except ValueError:
        raise ValueError(f"{op}: shapes {a} and {b} cannot be broadcast together") from None
