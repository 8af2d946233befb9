"""Dropout (Srivastava et al. 2014): zero each element with probability p, scale the rest
by 1 / (1 - p) so the expectation is unchanged. The mask is the backend's: uniforms of the
library's generator on the CPU, on-device Philox under a key drawn from it on a GPU
(kernels/dropout.cu); either way the generator's seed fixes it."""
from .. import backends
from ..arguments import number
from ..autograd.function import Function
from ..random import default_generator
from ._util import check_tensor
from .unary import MaskedScale


class Dropout(Function):
    """y = x * mask, mask = keep / (1 - p) drawn by the backend; the gradient is g * mask."""

    @staticmethod
    def forward(ctx, x, p, generator):
        y, ctx.mask = backends.get(x).dropout(x, p, generator)
        return y

    @staticmethod
    def backward(ctx, g):
        return (MaskedScale.apply(g, scale=ctx.mask),)


def dropout(input, p=0.5, training=True, generator=None):
    check_tensor(input, "dropout", "input", "f")
    number(p, "dropout", "p", 0, 1, what="a probability")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    return Dropout.apply(input, p=p, generator=generator or default_generator)
