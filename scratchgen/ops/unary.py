"""Elementwise functions of one tensor (exp, log, sin, reciprocal, rounding, ...), their
selections (clamp, where, maximum), and the comparisons (which return non-differentiable
tensors). Edge values (nan, inf, +-0, the kinks) give what torch gives; activations are in
activation.py, erf, lgamma and digamma in special.py."""
import numpy

from .. import backends
from ..arguments import integer, number
from ..autograd.function import Function
from ..autograd.tensor import Tensor, float32
from ._util import broadcast_shapes, check_tensor, first_tensor, operand
from .fused_activation import ACTIVATIONS


def _constant(array):
    """A mask or other array as a Tensor outside the graph."""
    return Tensor._wrap(array)


def floating(input, op):
    """`input` for a function with real values: a floating-point tensor as it is, an integer
    or bool one as float32 (torch's promotion: sin(int tensor) is float32). Complex is refused
    (torch accepts it for some): scratchgen's gradients are those of real functions."""
    check_tensor(input, op, "input")
    kind = input.dtype.kind
    if kind == "f":
        return input
    if kind not in "biu":
        raise TypeError(f"{op}: argument 'input' must be a real (floating-point, integer or bool) tensor, "
                        f"got dtype {input.dtype}")
    return _constant(input.array.astype(float32))


def _sign(x):
    """sign(x) as torch computes it, (x > 0) - (x < 0): 0 at nan (NumPy's sign gives nan)."""
    return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_output()
        return backends.get(x).unary("exp", x)

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.saved_output,)


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_inputs(0)
        return backends.get(x).unary("log", x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        return (g / x,)


class Log1p(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_inputs(0)
        return backends.get(x).unary("log1p", x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        return (g / (x + 1),)


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_output()
        return backends.get(x).unary("sqrt", x)

    @staticmethod
    def backward(ctx, g):
        return (g / (2 * ctx.saved_output),)


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_inputs(0)
        return backends.get(x).unary("abs", x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        return (g * _constant(_sign(x.array)),)  # 0 at 0 and at nan, as torch


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_inputs(0)
        return backends.get(x).unary("sin", x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        return (g * x.cos(),)


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_inputs(0)
        return backends.get(x).unary("cos", x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        return (g * -x.sin(),)


class Rsqrt(Function):
    """1 / sqrt(x) (-inf at -0, as torch); d/dx = -y^3 / 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_output()
        return backends.get(x).unary("rsqrt", x)

    @staticmethod
    def backward(ctx, g):
        return (-0.5 * g * ctx.saved_output ** 3,)


class Reciprocal(Function):
    """1 / x; d/dx = -y^2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_output()
        return backends.get(x).unary("reciprocal", x)

    @staticmethod
    def backward(ctx, g):
        y = ctx.saved_output
        return (-g * (y * y),)


class Expm1(Function):
    """e^x - 1, accurate near 0; d/dx = y + 1."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_output()
        return backends.get(x).unary("expm1", x)

    @staticmethod
    def backward(ctx, g):
        return (g * (ctx.saved_output + 1),)


class Flat(Function):
    """A piecewise-constant function (sign, floor, round): its gradient is 0 everywhere, at
    the jumps too (torch's choice), and 0 even where the incoming gradient is inf or nan."""

    @staticmethod
    def forward(ctx, x, function):
        return function(x)

    @staticmethod
    def backward(ctx, g):
        return (_constant(backends.get(g.array).xp.zeros_like(g.array)),)


class Clip(Function):
    """Clipping to [low, high] (None: no bound), nan kept: clamp with number bounds, relu of an
    integer tensor, hardtanh. The gradient passes where x lies within the bounds, each op saying
    how, as torch does: `inclusive` low <= x <= high (clamp), else low < x < high (hardtanh,
    relu); never at nan (ClipGradient)."""

    @staticmethod
    def forward(ctx, x, low, high, inclusive):
        ctx.save_inputs(0)
        ctx.bounds = dict(low=low, high=high, inclusive=inclusive)
        return backends.get(x).clip(x, low, high)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        return (ClipGradient.apply(g, x, **ctx.bounds),)


class ClipGradient(Function):
    """g where x lies within Clip's bounds, 0 elsewhere: linear in g, constant in x wherever its
    derivative exists."""

    @staticmethod
    def forward(ctx, g, x, low, high, inclusive):
        ctx.save_inputs(1)
        ctx.bounds = dict(low=low, high=high, inclusive=inclusive)
        return backends.get(g).clip_backward(x, g, low, high, inclusive)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_inputs
        return ClipGradient.apply(grad, x, **ctx.bounds), None


class MaskedScale(Function):
    """y = x * scale, scale constant per element: dropout (0 or 1 / (1 - p))."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return backends.get(x).binary("mul", x, scale)

    @staticmethod
    def backward(ctx, g):
        return (g * _constant(ctx.scale),)


class Where(Function):
    @staticmethod
    def forward(ctx, a, b, condition):
        ctx.condition = condition
        return backends.get(a).xp.where(condition, a, b)

    @staticmethod
    def backward(ctx, g):
        zero = g * 0
        return Where.apply(g, zero, condition=ctx.condition), Where.apply(zero, g, condition=ctx.condition)


def _unary(function, name, doc, real=False):
    """The op `name` applying `function`; real: a function with real values, whose integer or
    bool input becomes float32 first (as torch promotes it)."""
    def op(input):
        return function.apply(floating(input, name) if real else check_tensor(input, name, "input"))
    op.__name__, op.__doc__ = name, doc
    return op


exp = _unary(Exp, "exp", "e ** input.")
log = _unary(Log, "log", "Natural logarithm (its gradient 1/x: +-inf at +-0, as torch).")
log1p = _unary(Log1p, "log1p", "log(1 + input), accurate near 0.")
sqrt = _unary(Sqrt, "sqrt", "Square root.")
abs = _unary(Abs, "abs", "Absolute value (gradient sign(x): 0 at 0 and at nan, as torch).")
sin = _unary(Sin, "sin", "Sine (of a real tensor: complex is refused, torch accepts it).", real=True)
cos = _unary(Cos, "cos", "Cosine (of a real tensor: complex is refused, torch accepts it).", real=True)
rsqrt = _unary(Rsqrt, "rsqrt", "1 / sqrt(input): -inf at -0, as torch (real tensors only).", real=True)
reciprocal = _unary(Reciprocal, "reciprocal", "1 / input (real tensors only: complex is refused).", real=True)
expm1 = _unary(Expm1, "expm1", "e ** input - 1, accurate near 0 (real tensors only).", real=True)


def square(input):
    check_tensor(input, "square", "input")
    return input * input


def _scaled(input, scale):
    return MaskedScale.apply(input, scale=scale.astype(input.dtype, copy=False))


def _clip(input, low, high, inclusive):
    return Clip.apply(input, low=low, high=high, inclusive=inclusive)


def _activation(input, function, *params):
    return ACTIVATIONS[function].apply(input, params=params)


def tanh(input):
    """Hyperbolic tangent (of an integer or bool tensor: of it as float32, as torch)."""
    return _activation(floating(input, "tanh"), "tanh")


def sigmoid(input):
    """1 / (1 + e^-x), computed without overflow (integer and bool tensors as float32)."""
    return _activation(floating(input, "sigmoid"), "sigmoid")


def relu(input):
    """max(x, 0), nan kept; the gradient passes where x > 0 and at nan, not at 0 (as torch)."""
    x = check_tensor(input, "relu", "input").array
    if x.dtype.kind == "b":
        return _constant(x.copy())
    if x.dtype.kind != "f":  # integers: no gradient to pass, and no kernel
        return _clip(input, 0, None, inclusive=False)
    return _activation(input, "relu")


def leaky_relu(input, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise (Maas et al. 2013)."""
    check_tensor(input, "leaky_relu", "input", "f")
    return _activation(input, "leaky_relu", input.dtype.type(number(negative_slope, "leaky_relu", "negative_slope")))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta, x itself where beta x > threshold (torch's rule).

    Differs from torch where threshold is raised above ~709 / beta: torch's log1p(exp(beta x))
    and exp(beta x) / (exp(beta x) + 1) overflow there, to inf and nan; scratchgen computes the
    same functions without overflow (x and 1)."""
    check_tensor(input, "softplus", "input", "f")
    return _activation(input, "softplus", number(beta, "softplus", "beta"), number(threshold, "softplus", "threshold"))


def sign(input):
    """-1, 0 or 1 (0 at nan, as torch; an integer or bool tensor keeps its dtype); gradient 0."""
    _check_rounding_input(input, "sign", bool_too=True)
    return Flat.apply(input, function=lambda x: x.copy() if x.dtype.kind == "b" else _sign(x))


def floor(input):
    """The largest integer <= x (an integer tensor comes back as it is, as torch); gradient 0."""
    _check_rounding_input(input, "floor")
    return Flat.apply(input, function=lambda x: backends.get(x).xp.floor(x) if x.dtype.kind == "f" else x.copy())


def round(input, *, decimals=0):
    """x rounded to `decimals` decimal places, halves to even: rint(x * 10^d) / 10^d, or
    rint(x / 10^-d) * 10^-d for d < 0, as torch.round computes it (so nan where 10^d
    overflows the dtype, as in torch); an integer tensor comes back as it is; gradient 0."""
    _check_rounding_input(input, "round")
    decimals = integer(decimals, "round", "decimals")
    if input.dtype.kind != "f":
        if decimals:
            raise TypeError(f"round: decimals={decimals} needs a floating-point input, got dtype {input.dtype}")
        return Flat.apply(input, function=lambda x: x.copy())
    return Flat.apply(input, function=lambda x: _round(x, decimals, backends.get(x).xp))


def _check_rounding_input(input, op, bool_too=False):
    check_tensor(input, op, "input")
    if input.dtype.kind not in ("biuf" if bool_too else "iuf"):
        real = "a real" if bool_too else "a real, non-bool"
        raise TypeError(f"{op}: argument 'input' must be {real} tensor, got dtype {input.dtype}")


def _round(x, decimals, xp):
    if decimals == 0:
        return xp.rint(x)
    digits = -decimals if decimals < 0 else decimals  # (abs is the op here)
    power = 10.0 ** digits if digits <= 308 else float("inf")
    scale = power if power <= numpy.finfo(x.dtype).max else float("inf")  # a Python float: x keeps its dtype
    return xp.rint(x * scale) / scale if decimals > 0 else xp.rint(x / scale) * scale


def clamp(input, min=None, max=None):
    """Clip to [min, max], nan kept; the gradient passes where min <= x <= max (torch's
    convention: at the bounds too, not at nan). With min > max every element becomes max, as in
    torch (and NumPy's clip). Bounds are numbers or tensors that broadcast against input; a
    tensor bound gets the gradient where it is the result."""
    if min is None and max is None:
        check_tensor(input, "clamp", "input")
        raise ValueError("clamp: at least one of min and max must be given")
    return _clamp(input, min, max, "clamp")


def clamp_min(input, min):
    """max(x, min) (torch.clamp_min: clamp with min only); min a number or a Tensor."""
    return _clamp(input, _bound(min, "clamp_min", "min"), None, "clamp_min")


def clamp_max(input, max):
    """min(x, max) (torch.clamp_max: clamp with max only); max a number or a Tensor."""
    return _clamp(input, None, _bound(max, "clamp_max", "max"), "clamp_max")


def _bound(value, op, arg):
    if value is None:
        raise TypeError(f"{op}: argument '{arg}' must be a number or a Tensor, got None")
    return value


def _clamp(input, min, max, name):
    check_tensor(input, name, "input")
    for arg, bound in (("min", min), ("max", max)):
        if isinstance(bound, Tensor):
            broadcast_shapes(input.shape, bound.shape, name, ("input", arg))
        elif bound is not None and not hasattr(bound, "shape"):  # an array bound is NumPy's clip's business
            number(bound, name, arg, what="a number, a Tensor or None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_to_tensors(input, min, max)
    return _clip(input, min, max, inclusive=True)


def _clamp_to_tensors(input, min, max):
    """clamp with tensor bounds as two selections, max(x, min) then min(., max), where the
    ties go to x (torch's inclusive [min, max])."""
    out = input
    if min is not None:
        out = where(out.array < operand(min, input, "clamp").array, min, out)
    if max is not None:
        out = where(out.array > operand(max, input, "clamp").array, max, out)
    return out


def where(condition, input, other):
    """input where condition else other (torch.where); condition is a bool Tensor or array."""
    like = input if isinstance(input, Tensor) else first_tensor("where", input=input, other=other)
    input, other = operand(input, like, "where", "input"), operand(other, like, "where", "other")
    if not isinstance(condition, Tensor) and not (hasattr(condition, "dtype") and hasattr(condition, "shape")):
        raise TypeError(f"where: argument 'condition' must be a bool Tensor or array, got {type(condition).__name__}")
    xp = like.backend.xp
    cond = xp.asarray(condition.array if isinstance(condition, Tensor) else condition)  # on like's device
    shape = broadcast_shapes(input.shape, other.shape, "where")
    shape = broadcast_shapes(cond.shape, shape, "where", ("condition", "input and other"))
    return Where.apply(input.expand(shape), other.expand(shape), condition=xp.broadcast_to(cond, shape))


def maximum(input, other):
    """Elementwise max, nan if either is nan; on ties each side gets half the gradient, and
    where either is nan both get all of it (as torch)."""
    return _select(input, other, "maximum")


def minimum(input, other):
    """Elementwise min, nan if either is nan; on ties each side gets half the gradient, and
    where either is nan both get all of it (as torch)."""
    return _select(input, other, "minimum")


class Select(Function):
    """maximum or minimum of a and b; `shares` are the fractions of the gradient each gets."""

    @staticmethod
    def forward(ctx, a, b, pick, shares):
        ctx.shares = shares
        return pick(a, b)

    @staticmethod
    def backward(ctx, g):
        share_a, share_b = ctx.shares
        return g * _constant(share_a), g * _constant(share_b)


def _select(input, other, name):
    like = input if isinstance(input, Tensor) else first_tensor(name, input=input, other=other)
    input, other = operand(input, like, name, "input"), operand(other, like, name, "other")
    shape = broadcast_shapes(input.shape, other.shape, name)
    xp = like.backend.xp
    a, b = xp.broadcast_to(input.array, shape), xp.broadcast_to(other.array, shape)
    dtype = xp.result_type(a, b)
    a_loses, b_loses = (a < b, a > b) if name == "maximum" else (a > b, a < b)
    tie = a == b
    shares = tuple(xp.where(tie, 0.5, xp.where(loses, 0.0, 1.0)).astype(dtype) for loses in (a_loses, b_loses))
    return Select.apply(input.expand(shape), other.expand(shape), pick=getattr(xp, name), shares=shares)


def _test(name, predicate):
    def op(input):
        check_tensor(input, name, "input")
        return _constant(predicate(input.backend.xp)(input.array))
    op.__name__ = name
    op.__doc__ = f"A bool tensor, True where the input is {name[2:]} (torch.{name}); outside the graph."
    return op


isfinite = _test("isfinite", lambda xp: xp.isfinite)
isnan = _test("isnan", lambda xp: xp.isnan)
isinf = _test("isinf", lambda xp: xp.isinf)
