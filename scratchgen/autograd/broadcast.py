"""Broadcasting and its adjoint: expand (no copy) and sum_to, the one place where the
gradient of a broadcast input is summed back to the input's shape. The engine calls sum_to
on every gradient whose shape differs from its input's, so no op undoes broadcasting itself.
"""
from .. import backends
from ..arguments import int_tuple
from .function import Function
from .tensor import Tensor


class Expand(Function):
    """Broadcast to a larger shape (a view, no copy); the gradient sums back with sum_to."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return backends.get(x).xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return (sum_to(g, ctx.input_shape),)


class SumTo(Function):
    """Sum a broadcast result back to `shape`: over the leading dims broadcasting added, and
    over the dims where `shape` has 1 and the result does not."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
        out = backends.get(x).sum_dims(x, axes, keepdims=True) if axes else x
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return (expand(g, ctx.input_shape),)


def _checked(input, shape, op):
    """The Tensor `input` and `shape` as a tuple of ints, or an error naming op and argument."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: argument 'input' must be a Tensor, got {type(input).__name__}")
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"{op}: shape must be a tuple of ints, got {shape!r}")
    return int_tuple(shape, len(shape), op, "shape", None)


def expand(input, *shape):
    """Broadcast to `shape` (-1 keeps a dimension), as torch.Tensor.expand."""
    shape = _checked(input, tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape,
                     "expand")
    lead = len(shape) - input.ndim
    if lead < 0:
        raise ValueError(f"expand: target shape {shape} has fewer dimensions than input {input.shape}")
    if any(n < -1 for n in shape) or -1 in shape[:lead]:
        raise ValueError(f"expand: shape {shape} has a size below 0 (-1 keeps one of the input's dimensions, "
                         "and only those)")
    shape = tuple(input.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
    for i, n in enumerate(input.shape):
        if n != 1 and n != shape[lead + i]:
            raise ValueError(f"expand: cannot expand shape {input.shape} to {shape}")
    return input if shape == input.shape else Expand.apply(input, shape=shape)


def sum_to(input, shape):
    """Sum `input` down to `shape` (the inverse of broadcasting `shape` up to input.shape)."""
    shape = _checked(input, shape, "sum_to")
    lead = input.ndim - len(shape)
    if lead < 0 or any(n not in (1, input.shape[lead + i]) for i, n in enumerate(shape)):
        raise ValueError(f"sum_to: shape {shape} does not broadcast to the input's shape {input.shape}")
    return input if input.shape == shape else SumTo.apply(input, shape=shape)
