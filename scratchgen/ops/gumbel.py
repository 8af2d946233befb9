"""Gumbel-Softmax (Jang, Gu & Poole 2016; the Concrete distribution of Maddison et al. 2016):
a differentiable stand-in for a one-hot sample of the categorical distribution softmax(logits).

    g_i = -log(-log u_i),  u_i ~ U[0, 1)             Gumbel(0, 1) noise
    z = one_hot(argmax_i (logits_i + g_i))            a sample of softmax(logits) (Eq. 1, Gumbel-Max)
    y = softmax((logits + g) / tau)                   its relaxation, the Gumbel-Softmax sample (Eq. 2)

hard=True gives the straight-through Gumbel-Softmax (Sec. 2.2): z in forward, y's gradient in
backward, as torch.nn.functional.gumbel_softmax. The uniforms come from scratchgen's generators
(random.py), so a seed repeats a sample on "cpu" and on "cuda"; the backend turns them into y
(on a GPU one launch of kernels/gumbel.cu).
"""
import numpy

from .. import backends
from ..arguments import number
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..random import Generator, default_generator
from ._util import check_tensor, normalize_dim


class GumbelSoftmax(Function):
    """y = softmax((logits + g) / tau) along dim, g from the uniforms u; dy: softmax's
    gradient divided by tau, y * (g - sum(g * y)) / tau (g the incoming gradient)."""

    @staticmethod
    def forward(ctx, logits, uniform, tau, dim):
        ctx.save_output()
        ctx.tau, ctx.dim = tau, dim
        if logits.size == 0:
            return backends.get(logits).xp.empty_like(logits)
        return backends.get(logits).gumbel_softmax(logits, uniform, tau, dim)

    @staticmethod
    def backward(ctx, g):
        y = ctx.saved_output
        return (y * (g - (g * y).sum(ctx.dim, keepdim=True)) / ctx.tau,)


def _one_hot_argmax(y, dim):
    """One-hot of the first largest element of y along dim, outside the graph, in y's dtype."""
    xp = y.backend.xp
    index = xp.argmax(y.array, axis=dim, keepdims=True)
    classes = xp.arange(y.shape[dim] if y.ndim else 1).reshape([-1 if d == dim else 1 for d in range(y.ndim)])
    return Tensor._wrap((classes == index).astype(y.dtype))


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1, *, generator=None):
    """A Gumbel-Softmax sample along dim (module docstring): y = softmax((logits + g) / tau),
    or with hard=True the one-hot of y's argmax carrying y's gradient (y_hard + (y - y.detach()):
    exactly one-hot forward). `eps` is unused, as in torch, where it is deprecated; it keeps
    torch's argument order. The noise comes from `generator` (default: the global one)."""
    check_tensor(logits, "gumbel_softmax", "logits", "f")
    if logits.dtype not in (numpy.float32, numpy.float64):  # the generators draw float32 or float64 uniforms
        raise TypeError(f"gumbel_softmax: logits must be float32 or float64, got dtype {logits.dtype}")
    number(tau, "gumbel_softmax", "tau", what="a positive number")
    if not tau > 0:
        raise ValueError(f"gumbel_softmax: tau must be a positive number, got {tau!r}")
    if not isinstance(hard, (bool, numpy.bool_)):
        raise TypeError(f"gumbel_softmax: hard must be a bool, got {hard!r}")
    d = normalize_dim(dim, logits.ndim, "gumbel_softmax")
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"gumbel_softmax: generator must be a scratchgen Generator, got {type(generator).__name__}")
    uniform = (generator or default_generator).uniform(logits.shape, logits.dtype, logits.device)
    y = GumbelSoftmax.apply(logits, uniform=uniform, tau=float(tau), dim=d)
    if not hard:
        return y
    if logits.ndim and logits.shape[d] == 0:
        raise ValueError(f"gumbel_softmax: hard=True needs at least one class along dim {dim}, "
                         f"got logits of shape {logits.shape}")
    return _one_hot_argmax(y, d) + (y - y.detach())
