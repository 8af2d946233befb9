"""The special functions erf, lgamma and digamma, and polygamma for their derivatives. NumPy
has no ufunc for them: their array code is the backend's (backends/special.py), the same
on NumPy and CuPy arrays. An integer or bool input becomes float32 first, as in torch."""
import math

from .. import backends
from ..autograd.function import Function
from .unary import floating


class Erf(Function):
    """erf(x) = 2/sqrt(pi) integral_0^x e^(-t^2) dt; d/dx = 2/sqrt(pi) e^(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_inputs(0)
        return backends.get(x).erf(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        return (2 / math.sqrt(math.pi) * (-(x * x)).exp() * g,)


class Polygamma(Function):
    """psi^(n)(x), the n-th derivative of digamma; d/dx = psi^(n+1)(x). n = 0 is digamma,
    the derivative of lgamma."""

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_inputs(0)
        ctx.n = n
        return backends.get(x).polygamma(n, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        return (g * Polygamma.apply(x, n=ctx.n + 1),)


class Lgamma(Function):
    """log |Gamma(x)|; d/dx = digamma(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_inputs(0)
        return backends.get(x).lgamma(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        return (g * Polygamma.apply(x, n=0),)


def erf(input):
    """The error function, 2/sqrt(pi) times the integral of e^(-t^2) from 0 to input."""
    return Erf.apply(floating(input, "erf"))


def lgamma(input):
    """log |Gamma(input)|: inf at 0, at the negative integers and at -inf, as torch."""
    return Lgamma.apply(floating(input, "lgamma"))


def digamma(input):
    """psi(input), the derivative of lgamma: -inf at 0, +inf at -0, nan at the negative
    integers (torch's values at its poles)."""
    return Polygamma.apply(floating(input, "digamma"), n=0)
