"""Function: one differentiable op, its forward on arrays and its backward in Tensor ops.

A subclass writes

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):               # arrays in, one array out
            ctx.save_output()
            return backends.get(x).xp.exp(x)

        @staticmethod
        def backward(ctx, grad):           # Tensors in, Tensors out (one per input)
            return (grad * ctx.saved_output,)

Because `backward` is made of ordinary differentiable ops, running it with recording on
builds the graph of the gradient itself: that is all double backward needs.
"""
import weakref

import numpy

from . import mode
from .. import backends


class Context:
    """What forward leaves for backward: chosen inputs, the output, and any attributes."""

    def __init__(self, inputs):
        self._inputs = inputs
        self._saved_inputs = ()
        self._saved_output = None
        self.needs_input_grad = tuple(t.requires_grad for t in inputs)

    def save_inputs(self, *indices):
        """Keep the inputs at these positions for backward (checked against in-place edits)."""
        self._saved_inputs = tuple((self._inputs[i], self._inputs[i]._version[0]) for i in indices)

    def save_output(self):
        """Keep the output for backward (e.g. exp, tanh, sigmoid reuse their result)."""
        self._saved_output = True

    @property
    def saved_inputs(self):
        return tuple(self._check_version(t, v) for t, v in self._saved_inputs)

    @property
    def saved_output(self):
        from .tensor import Tensor
        data, counter, version = self._saved_output
        tensor = Tensor._wrap(data, grad_fn=self._node(), version=counter)
        return self._check_version(tensor, version)

    def _check_version(self, tensor, version):
        if tensor._version[0] != version:
            raise RuntimeError(
                f"{self.name}: a tensor of shape {tensor.shape} saved for backward was "
                f"modified in place (version {version} when saved, {tensor._version[0]} now); "
                "the gradient would be wrong. Clone it before modifying it.")
        return tensor


class Node:
    """A recorded application of a Function: the grad_fn of its output tensor.

    `next` holds, for each input, where its gradient goes: the input's own Node, the
    leaf Tensor itself (its gradient accumulates in `.grad`), or None (no gradient needed).
    """
    __slots__ = ("function", "ctx", "next", "input_shapes", "hooks", "__weakref__")

    def __init__(self, function, ctx, inputs):
        self.function = function
        self.ctx = ctx
        self.next = tuple((t.grad_fn or t) if t.requires_grad else None for t in inputs)
        self.input_shapes = tuple(t.shape for t in inputs)
        self.hooks = []

    @property
    def name(self):
        return self.function.__name__

    def __repr__(self):
        return f"<{self.name}Backward>"


class Function:
    """Base class of every differentiable op. A subclass defines the static methods
    `forward(ctx, *arrays, **params) -> array` and `backward(ctx, grad) -> tuple of Tensors`;
    callers use `MyOp.apply(*tensors, **params)`."""

    @classmethod
    def apply(cls, *inputs, **params):
        from .tensor import Tensor
        record = mode.is_grad_enabled() and any(t.requires_grad for t in inputs)
        ctx = Context(inputs)
        out = cls.forward(ctx, *[t.data for t in inputs], **params)
        if isinstance(out, numpy.generic):  # NumPy turns 0-d results into scalars
            out = numpy.asarray(out)
        if mode.is_anomaly_enabled():
            _check_finite(out, f"{cls.__name__} forward")
        if not record:
            return Tensor._wrap(out)
        node = Node(cls, ctx, inputs)
        ctx.name = cls.__name__
        ctx._node = weakref.ref(node)  # weak: the output tensor owns the node, not its ctx
        ctx._inputs = None
        result = Tensor._wrap(out, grad_fn=node)
        if ctx._saved_output:
            ctx._saved_output = (out, result._version, result._version[0])
        return result


def _check_finite(array, where):
    xp = backends.get(array).xp
    if xp.issubdtype(array.dtype, xp.floating) and not bool(xp.isfinite(array).all()):
        kind = "nan" if bool(xp.isnan(array).any()) else "inf"
        raise FloatingPointError(f"anomaly: {where} produced {kind}")
