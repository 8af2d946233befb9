"""Activation functions beyond unary.py's relu, leaky_relu, sigmoid, tanh and softplus, with
torch's values at the edges (nan, +-inf, the kinks) to the second derivative.

Most are a `Pointwise` Function: the forward on arrays, and the gradient g * f'(x) with f'
a Pointwise of its own (a `Slope`) whose gradient is f''. torch's f' and f'' may take
different sides of a kink (elu: f'(0) from the left, f''(0) from the right), and so can
these. prelu's and glu's gradients are Functions of their own too, for the same reason.
silu and softsign are compositions of differentiable ops, exactly torch's formulas (their
edges included); hardtanh and relu6 are clips (unary.py's Clip).
"""
import math

from .. import backends
from ..arguments import number
from ..autograd.function import Function
from ._util import check_tensor, normalize_dim, same_device
from .unary import _clip, floating, where

SELU_ALPHA = 1.6732632423543772848170429916717  # Klambauer et al. 2017, Eq. 14
SELU_SCALE = 1.0507009873554804934193349852946
SQRT1_2 = 0.707106781186547524400844362104849039  # 1 / sqrt(2)
NORMAL_PDF_AT_0 = 1 / math.sqrt(2 * math.pi)
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
GELU_KAPPA = 0.044715  # Hendrycks & Gimpel 2016's tanh approximation


class Pointwise(Function):
    """y = value(xp, x; params) elementwise, on arrays; on device "cuda" the same formula is
    kernels/activations.cu's pointwise_map, named by kernel(**params) -> (op, arguments). Its
    gradient is g * derivative(x; params), written in Tensor ops (for an activation: its Slope's apply)."""

    @classmethod
    def forward(cls, ctx, x, **params):
        ctx.save_inputs(0)
        ctx.params = params
        backend = backends.get(x)
        op, arguments = cls.kernel(**params)
        return backend.pointwise(op, x, arguments, lambda array: cls.value(backend.xp, array, **params))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        return (g * ctx.function.derivative(x, **ctx.params),)


# ---- the elu family: elu, selu, celu -------------------------------------------------------

class EluSlope(Pointwise):
    """elu': scale for x > 0, alpha scale input_scale e^(input_scale x) otherwise (the left
    side at 0, as torch); elu'' is 0 from 0 on (the right side, as torch). Both are nan at
    nan, as torch's vectorised loop gives them (its scalar loop, which takes the last
    elements of a tensor whose length is not a multiple of 16, gives scale and 0)."""

    @staticmethod
    def kernel(alpha, scale, input_scale):
        return "elu_slope", (alpha, scale, input_scale)

    @staticmethod
    def value(xp, x, alpha, scale, input_scale):
        return xp.where(x > 0, scale, xp.exp(xp.minimum(x, 0) * input_scale) * (alpha * scale * input_scale))

    @staticmethod
    def derivative(x, alpha, scale, input_scale):
        return where(x.array >= 0, 0, (x * input_scale).exp() * (alpha * scale * input_scale * input_scale))


class Elu(Pointwise):
    """torch's elu kernel: scale x for x > 0, scale alpha (e^(input_scale x) - 1) otherwise;
    elu is (alpha, 1, 1), selu (its two constants, 1), celu (alpha, 1, 1 / alpha)."""
    derivative = staticmethod(EluSlope.apply)

    @staticmethod
    def kernel(alpha, scale, input_scale):
        return "elu", (alpha, scale, input_scale)

    @staticmethod
    def value(xp, x, alpha, scale, input_scale):
        return xp.where(x <= 0, xp.expm1(xp.minimum(x, 0) * input_scale) * (alpha * scale), x * scale)


def elu(input, alpha=1.0):
    """ELU (Clevert et al. 2015): x for x > 0, alpha (e^x - 1) otherwise."""
    check_tensor(input, "elu", "input", "f")
    return Elu.apply(input, alpha=number(alpha, "elu", "alpha"), scale=1.0, input_scale=1.0)


def selu(input):
    """SELU (Klambauer et al. 2017): scale * elu(x, alpha) with their alpha ~ 1.6733 and
    scale ~ 1.0507, which keep activations at mean 0 and variance 1."""
    check_tensor(input, "selu", "input", "f")
    return Elu.apply(input, alpha=SELU_ALPHA, scale=SELU_SCALE, input_scale=1.0)


def celu(input, alpha=1.0):
    """CELU (Barron 2017): x for x > 0, alpha (e^(x / alpha) - 1) otherwise: continuously
    differentiable at 0 for every alpha != 0. Its gradient takes 1 / alpha in float64, where
    torch's takes it in float32 (1.0/alpha.toFloat()): they differ by up to ~1e-7 relative for
    an alpha that float32 does not hold exactly (0.6), and agree for one it does (0.5)."""
    check_tensor(input, "celu", "input", "f")
    alpha = number(alpha, "celu", "alpha")
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (celu divides by it)")
    return Elu.apply(input, alpha=alpha, scale=1.0, input_scale=1.0 / alpha)


# ---- logsigmoid, gelu, silu, softsign -----------------------------------------------------

class LogSigmoid(Pointwise):
    """log(sigmoid(x)) = min(x, 0) - log(1 + e^-|x|), without overflow; d/dx = sigmoid(-x)."""

    @staticmethod
    def kernel():
        return "log_sigmoid", ()

    @staticmethod
    def value(xp, x):
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def derivative(x):
        return (-x).sigmoid()


def logsigmoid(input):
    """log(sigmoid(input)), computed without overflow."""
    check_tensor(input, "logsigmoid", "input", "f")
    return LogSigmoid.apply(input)


class GeluSlope(Pointwise):
    """gelu' and gelu'' by torch's formulas (so inf * 0 is nan where it is in torch)."""

    @staticmethod
    def kernel(approximate):
        return ("gelu_tanh_slope" if approximate == "tanh" else "gelu_slope"), ()

    @staticmethod
    def value(xp, x, approximate):
        if approximate == "tanh":
            x_sq = x * x
            t = xp.tanh(SQRT_2_OVER_PI * (x + GELU_KAPPA * (x_sq * x)))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (SQRT_2_OVER_PI * (1 + 3 * GELU_KAPPA * x_sq))
        cdf = 0.5 * (1 + backends.get(x).erf(x * SQRT1_2))
        return cdf + x * (NORMAL_PDF_AT_0 * xp.exp(x * x * -0.5))

    @staticmethod
    def derivative(x, approximate):
        if approximate == "tanh":  # d/dx of gelu' = 0.5 (1 + t) + f g h: f = x / 2, g = 1 - t^2, h = u'
            inner = SQRT_2_OVER_PI * (x + GELU_KAPPA * x ** 3)
            t = inner.tanh()
            sech = 1 / ((inner.exp() + (-inner).exp()) * 0.5)
            f, g, h = 0.5 * x, 1 - t * t, SQRT_2_OVER_PI * (1 + 3 * GELU_KAPPA * x * x)
            g_prime = (2 * sech) * (-sech * t) * h
            return g * h + f * h * g_prime + f * g * (x * (6 * GELU_KAPPA * SQRT_2_OVER_PI))  # g h = 2 f' g h
        x_sq = x * x
        pdf = NORMAL_PDF_AT_0 * (-0.5 * x_sq).exp()
        return 2 * pdf - x_sq * pdf


class Gelu(Pointwise):
    """x Phi(x), Phi the standard normal CDF (or its tanh approximation)."""
    derivative = staticmethod(GeluSlope.apply)

    @staticmethod
    def kernel(approximate):
        return ("gelu_tanh" if approximate == "tanh" else "gelu"), ()

    @staticmethod
    def value(xp, x, approximate):
        if approximate == "tanh":
            return 0.5 * x * (1 + xp.tanh(SQRT_2_OVER_PI * (x + GELU_KAPPA * (x * x * x))))
        return x * 0.5 * (1 + backends.get(x).erf(x * SQRT1_2))


def gelu(input, *, approximate="none"):
    """GELU (Hendrycks & Gimpel 2016): x Phi(x) = x (1 + erf(x / sqrt 2)) / 2; approximate='tanh'
    is their 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). As torch, nan at -inf (-inf * 0)."""
    check_tensor(input, "gelu", "input", "f")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(input, approximate=approximate)


def silu(input):
    """SiLU (Elfwing et al. 2018; swish): x sigmoid(x). As torch, nan at +-inf (inf * 0 in
    its gradient, -inf * 0 in its value at -inf)."""
    check_tensor(input, "silu", "input", "f")
    return input * input.sigmoid()


def softsign(input):
    """x / (1 + |x|) (torch's composition: nan at +-inf, inf / inf); an integer input becomes
    float32, as in torch."""
    check_tensor(input, "softsign", "input", "fiu")
    input = floating(input, "softsign")
    return input / (input.abs() + 1)


# ---- hardtanh, relu6 ------------------------------------------------------------------------

def hardtanh(input, min_val=-1.0, max_val=1.0):
    """x clipped to [min_val, max_val], nan kept; the gradient passes strictly inside (torch's
    hardtanh_backward: 0 at the bounds, where clamp passes it), and not at nan, as torch's
    vectorised loop has it (its scalar loop, for the last elements of a tensor whose length
    is not a multiple of 8, passes it)."""
    min_val = number(min_val, "hardtanh", "min_val")
    max_val = number(max_val, "hardtanh", "max_val")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return _hardtanh(input, min_val, max_val, "hardtanh")


def relu6(input):
    """min(max(x, 0), 6): hardtanh(x, 0, 6)."""
    return _hardtanh(input, 0, 6, "relu6")


def _hardtanh(input, low, high, name):
    check_tensor(input, name, "input", "fiu")
    return _clip(input, low, high, inclusive=False)


# ---- prelu ----------------------------------------------------------------------------------

class PRelu(Function):
    """x for x > 0, w x otherwise, w broadcast along x. Its gradients are Functions of their
    own (of the incoming gradient g too), as torch's prelu backward is: their derivatives
    take x >= 0 as the positive side, where the gradients take x > 0 (torch's choices)."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_inputs(0, 1)
        return backends.get(x).xp.where(x > 0, x, w * x)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_inputs
        need_x, need_w = ctx.needs_input_grad
        return (PReluInputGrad.apply(g, x, w) if need_x else None,
                PReluWeightGrad.apply(g, x) if need_w else None)  # the engine sums it to w's shape


class PReluInputGrad(Function):
    """g for x > 0, w g otherwise."""

    @staticmethod
    def forward(ctx, g, x, w):
        ctx.save_inputs(0, 1, 2)
        return backends.get(x).xp.where(x > 0, g, w * g)

    @staticmethod
    def backward(ctx, gg):
        g, x, w = ctx.saved_inputs
        positive = x.array >= 0
        return where(positive, gg, gg * w), None, where(positive, 0, g * gg)


class PReluWeightGrad(Function):
    """0 for x > 0, x g otherwise."""

    @staticmethod
    def forward(ctx, g, x):
        ctx.save_inputs(0, 1)
        return backends.get(x).xp.where(x > 0, 0, x * g)

    @staticmethod
    def backward(ctx, gg):
        g, x = ctx.saved_inputs
        positive = x.array >= 0
        return where(positive, 0, gg * x), where(positive, 0, g * gg)


def prelu(input, weight):
    """PReLU (He et al. 2015): x for x > 0, weight * x otherwise; weight holds one slope, or
    one per channel (input's dim 1), of input's dtype (torch does not promote either)."""
    check_tensor(input, "prelu", "input", "f")
    check_tensor(weight, "prelu", "weight", "f")
    same_device("prelu", input=input, weight=weight)
    if weight.dtype != input.dtype:
        raise TypeError(f"prelu: weight has dtype {weight.dtype} and input {input.dtype}; they must be the same")
    if weight.ndim > 1:
        raise ValueError(f"prelu: weight must be 0-d or 1-d, got shape {weight.shape}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        raise ValueError(f"prelu: weight has {weight.numel()} elements; expected 1 or one per channel of input "
                         f"(dim 1 of shape {input.shape}: {channels})")
    if weight.numel() == 1:
        weight = weight.reshape(())
    else:
        weight = weight.reshape((channels,) + (1,) * (input.ndim - 2))
    return PRelu.apply(input, weight)


# ---- glu ------------------------------------------------------------------------------------

class SigmoidSlope(Pointwise):
    """sigmoid' = s (1 - s), s = sigmoid(x); its derivative s (1 - s)(1 - s) - s s (1 - s) is
    torch's glu double backward: one finite factor, so an infinite first half times it stays
    inf (autograd through s * (1 - s) would give inf - inf there)."""

    @staticmethod
    def kernel():
        return "sigmoid_slope", ()

    @staticmethod
    def value(xp, x):
        s = backends.get(x).sigmoid(x)
        return (1 - s) * s

    @staticmethod
    def derivative(x):
        s = x.sigmoid()
        slope = s * (1 - s)
        return slope * (1 - s) - s * slope


class Glu(Function):
    """a * sigmoid(b); d/da = sigmoid(b), d/db = a sigmoid'(b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_inputs(0, 1)
        return a * backends.get(b).sigmoid(b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_inputs
        need_a, need_b = ctx.needs_input_grad
        return (g * b.sigmoid() if need_a else None,
                g * a * SigmoidSlope.apply(b) if need_b else None)


def glu(input, dim=-1):
    """GLU (Dauphin et al. 2017): a * sigmoid(b), a and b the first and second half of input
    along dim."""
    check_tensor(input, "glu", "input", "f")
    if input.ndim == 0:
        raise ValueError("glu: input must have at least 1 dimension to halve, got a 0-d tensor")
    dim = normalize_dim(dim, input.ndim, "glu")
    size = input.shape[dim]
    if size % 2:
        raise ValueError(f"glu: input's dim {dim} has odd size {size}; glu halves it")
    before = (slice(None),) * dim
    return Glu.apply(input[before + (slice(0, size // 2),)], input[before + (slice(size // 2, size),)])
