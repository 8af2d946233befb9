"""Broadcasting and its adjoint: expand (no copy) and sum_to, the one place where the
gradient of a broadcast input is summed back to the input's shape. The engine calls sum_to
on every gradient whose shape differs from its input's, so no op undoes broadcasting itself.
"""
from .. import backends
from .function import Function


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
        out = x.sum(axis=axes, keepdims=True) if axes else x
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return (expand(g, ctx.input_shape),)


def expand(input, *shape):
    """Broadcast to `shape` (-1 keeps a dimension), as torch.Tensor.expand."""
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    lead = len(shape) - input.ndim
    if lead < 0:
        raise ValueError(f"expand: target shape {shape} has fewer dimensions than input {input.shape}")
    shape = tuple(input.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
    for i, n in enumerate(input.shape):
        if n != 1 and n != shape[lead + i]:
            raise ValueError(f"expand: cannot expand shape {input.shape} to {shape}")
    return input if shape == input.shape else Expand.apply(input, shape=shape)


def sum_to(input, shape):
    """Sum `input` down to `shape` (the inverse of broadcasting `shape` up to input.shape)."""
    shape = tuple(shape)
    return input if input.shape == shape else SumTo.apply(input, shape=shape)
