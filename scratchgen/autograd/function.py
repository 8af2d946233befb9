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
import numpy

from . import mode
from .. import backends
from .tensor import Tensor


class Node:
    """One recorded application of a Function: the `grad_fn` of its output tensor, and the
    `ctx` its forward and backward share (as Chainer's FunctionNode is both).

    `next` holds, for each input, where its gradient goes: the input's own Node, the leaf
    Tensor itself (its gradient accumulates in `.grad`), or None (no gradient needed).
    Whatever forward stores on the ctx lives in `__dict__` and is dropped after backward.
    """
    __slots__ = ("function", "next", "input_shapes", "hooks", "freed", "needs_input_grad",
                 "_inputs", "_saved_inputs", "_saved_versions", "_saved_output",
                 "__dict__", "__weakref__")

    def __init__(self, inputs):
        self._inputs = inputs
        self._saved_inputs = self._saved_versions = ()
        self._saved_output = None

    def save_inputs(self, *indices):
        """Keep the inputs at these positions for backward (checked against in-place edits)."""
        tensors = self._inputs
        self._saved_inputs = tuple(tensors[i] for i in indices)
        self._saved_versions = tuple(_version_of(tensors[i]) for i in indices)

    def save_output(self):
        """Keep the output for backward (e.g. exp, tanh, sigmoid reuse their result)."""
        self._saved_output = True

    @property
    def saved_inputs(self):
        return tuple(self._check_version(t, v) for t, v in zip(self._saved_inputs, self._saved_versions))

    @property
    def saved_output(self):
        data, counter, version = self._saved_output
        return self._check_version(Tensor._wrap(data, grad_fn=self, version=counter), version)

    def saved_shapes(self):
        """(shapes of the saved inputs, shape of the saved output or None), read without the
        in-place check that `saved_inputs` makes (scratchgen.viz draws them)."""
        output = self._saved_output
        return tuple(t.shape for t in self._saved_inputs), None if output is None else output[0].shape

    def _check_version(self, tensor, version):
        if _version_of(tensor) != version:
            raise RuntimeError(
                f"{self.name}: a tensor of shape {tensor.shape} saved for backward was "
                f"modified in place (version {version} when saved, {tensor._version[0]} now); "
                "the gradient would be wrong. Clone it before modifying it.")
        return tensor

    def release(self):
        """Drop everything forward saved (after a backward without retain_graph)."""
        self._saved_inputs = self._saved_versions = ()
        self._saved_output = None
        self.__dict__.clear()
        self.freed = True

    @property
    def name(self):
        return self.function.__name__

    def __repr__(self):
        return f"<{self.name}Backward>"


class _Unrecorded:
    """The ctx of a forward that records no graph: saving is a no-op."""

    def save_inputs(self, *indices):
        pass

    def save_output(self):
        pass


def _version_of(tensor):
    """The tensor's version without making its counter (a tensor without one is at 0)."""
    return 0 if tensor._counter is None else tensor._counter[0]


class Function:
    """Base class of every differentiable op. A subclass defines the static methods
    `forward(ctx, *arrays, **params) -> array` and `backward(ctx, grad) -> tuple of Tensors`;
    callers use `MyOp.apply(*tensors, **params)`."""

    @classmethod
    def apply(cls, *inputs, **params):
        state = mode.state
        record = state.grad_enabled and any(t.requires_grad for t in inputs)
        ctx = Node(inputs) if record else _Unrecorded()
        out = cls.forward(ctx, *[t.array for t in inputs], **params)
        if isinstance(out, numpy.generic):  # NumPy turns 0-d results into scalars
            out = numpy.asarray(out)
        if state.anomaly:
            _check_finite(out, f"{cls.__name__} forward")
        if not record:
            return Tensor._wrap(out)
        ctx.function = cls
        ctx.next = tuple((t.grad_fn or t) if t.requires_grad else None for t in inputs)
        ctx.input_shapes = tuple(t.shape for t in inputs)
        ctx.hooks = None
        ctx.freed = False
        del ctx._inputs
        result = Tensor._wrap(out, grad_fn=ctx)
        if ctx._saved_output:
            ctx._saved_output = (out, result._version, result._version[0])
        return result


def _check_finite(array, where):
    xp = backends.get(array).xp
    if array.dtype.kind == "f" and not bool(xp.isfinite(array).all()):
        kind = "nan" if bool(xp.isnan(array).any()) else "inf"
        raise FloatingPointError(f"anomaly: {where} produced {kind}")
