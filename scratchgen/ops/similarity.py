"""Cosine similarity and Lp normalisation along a dim, with torch.nn.functional's names,
arguments and formulas (both keep a zero vector finite with an eps)."""
import math

from .. import backends
from ..arguments import number
from ..autograd.function import Function
from ._util import broadcast_shapes, check_tensor, normalize_dim, normalize_dims, same_device
from .reduction import vector_norm


class ClampedValue(Function):
    """max(x, minimum) in value, with x's gradient passed on unchanged: torch's clamp of a
    clone under no_grad (cosine_similarity's norms, gaussian_nll_loss's var), which keeps a
    divisor away from 0 without cutting the gradient that flows through it."""

    @staticmethod
    def forward(ctx, x, minimum):
        return backends.get(x).xp.maximum(x, minimum)  # NaN stays NaN

    @staticmethod
    def backward(ctx, g):
        return (g,)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along dim of x1 and x2 broadcast
    together: torch's current formula, which divides each vector by its norm first (a result
    within [-1, 1]) and clamps the norms in value only, so their gradient still flows. At a
    vector of norm 0 the second-order gradient is vector_norm's (finite for the 2-norm, where
    torch's norm gradient masks a 0 / 0 into NaN): a deliberate difference."""
    op = "cosine_similarity"
    check_tensor(x1, op, "x1", "f")
    check_tensor(x2, op, "x2", "f")
    same_device(op, x1=x1, x2=x2)
    number(eps, op, "eps")
    shape = broadcast_shapes(x1.shape, x2.shape, op, ("x1", "x2"))
    dim = normalize_dim(dim, len(shape), op)
    x1, x2 = x1.expand(shape), x2.expand(shape)
    n1, n2 = (ClampedValue.apply(vector_norm(x, 2, dim, keepdim=True), minimum=eps) for x in (x1, x2))
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along dim (an int or a tuple), as torch: a zero vector
    stays zero; where the norm is below eps the clamp passes no gradient to it. At a zero
    vector, where normalize is x / eps, the second-order gradient is 0 for p = 2 (torch's is
    NaN, from its norm gradient's masked 0 / 0): a deliberate difference."""
    op = "normalize"
    check_tensor(input, op, "input", "f")
    number(p, op, "p")
    number(eps, op, "eps")
    if out is not None:
        raise ValueError(f"{op}: out= is not supported (scratchgen's ops return new tensors), got {type(out).__name__}")
    dims = normalize_dims(dim, input.ndim, op)
    if (p < 0 or math.isinf(p)) and 0 in (input.shape[d] for d in dims):
        raise RuntimeError(f"{op}: cannot take the {p} norm over an empty dimension (input of shape "
                           f"{input.shape}, dim {dim!r}): it has no identity, as torch")
    return input / vector_norm(input, p, dims, keepdim=True).clamp(min=eps)
