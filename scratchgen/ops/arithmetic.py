"""Arithmetic: + - * / ** @, logaddexp, and linear (a fused matrix product and bias)."""
import numbers

from .. import backends
from ..arguments import number
from ..autograd.function import Function
from ..autograd.tensor import Tensor, float32, int64
from ._util import (broadcast_shapes, check_optional_tensor, check_tensor, explain_failure, first_tensor,
                    operand, same_device)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return backends.get(a).binary("add", a, b)

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return backends.get(a).binary("sub", a, b)

    @staticmethod
    def backward(ctx, g):
        return g, -g


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_inputs(0, 1)
        return backends.get(a).binary("mul", a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_inputs
        need_a, need_b = ctx.needs_input_grad
        return (g * b if need_a else None), (g * a if need_b else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_inputs(0, 1)
        return backends.get(a).binary("div", a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_inputs
        need_a, need_b = ctx.needs_input_grad
        return (g / b if need_a else None), (-g * (a / b / b) if need_b else None)  # torch's order of operations


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return backends.get(a).unary("neg", a)

    @staticmethod
    def backward(ctx, g):
        return (-g,)


class PowScalar(Function):
    """x ** p for a Python number p; d/dx = p x^(p-1) (0 for p = 0, even where x^-1 is inf).
    A float x takes torch's special cases: p = 0.5 is sqrt, -0.5 rsqrt ((-0) ** -0.5 = -inf),
    -1 the reciprocal, 2, 3 and -2 products (backends/elementwise.py); so do the powers in the
    gradient (p - 1), which is how torch's second derivatives at 0 and at +-inf come out."""

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_inputs(0)
        ctx.exponent = exponent
        return backends.get(x).unary("pow_scalar", x, exponent)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        p = ctx.exponent
        if p == 0:
            return (Tensor._wrap(backends.get(x.array).xp.zeros_like(x.array)),)
        return (g * (p * x ** (p - 1)),)


class Pow(Function):
    """a ** b with both tensors: d/da = b a^(b-1) (0 where b = 0, as torch, even at a = 0),
    d/db = a^b log a (0 where a = 0, b >= 0). Both are torch's formulas, term for term, so
    that the second order gives what torch's gives (nan at a = 0, from 0 * log 0)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_inputs(0, 1)
        ctx.save_output()
        return backends.get(a).binary("pow", a, b)

    @staticmethod
    def backward(ctx, g):
        from .unary import where
        a, b = ctx.saved_inputs
        need_a, need_b = ctx.needs_input_grad
        ga = where(b.detach() == 0, 0, g * (b * a ** (b - 1))) if need_a else None
        gb = None
        if need_b:
            zero_base = (a.detach() == 0) & (b.detach() >= 0)
            gb = g * where(zero_base, 0, ctx.saved_output * a.log())
        return ga, gb


class MatMul(Function):
    """a @ b for operands of at least 2 dims, batch dims broadcast: dL/da = g b^T, dL/db = a^T g.
    The backend may store the result in the memory order of the array `layout_of` (a
    gradient in the order of its input) and picks how to run the product (numpy.matmul)."""

    @staticmethod
    def forward(ctx, a, b, layout_of=None):
        ctx.save_inputs(0, 1)
        return backends.get(a).matmul(a, b, layout_of)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_inputs
        need_a, need_b = ctx.needs_input_grad
        return (MatMul.apply(g, b.transpose(-1, -2), layout_of=a.array) if need_a else None,
                MatMul.apply(a.transpose(-1, -2), g) if need_b else None)


class Linear(Function):
    """y = x W^T + b (torch.nn.functional.linear), fused so one GEMM does each product:
    dL/dx = g W, dL/dW = g^T x, dL/db = sum of g over the batch."""

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_inputs(0, 1)
        y = backends.get(x).matmul(x, weight.T)
        if bias is not None:
            y = backends.get(y).binary("add", y, bias, in_place=True)
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_inputs
        need = ctx.needs_input_grad
        g2 = g.reshape(-1, g.shape[-1])
        gx = MatMul.apply(g, weight, layout_of=x.array) if need[0] else None
        gw = matmul(g2.transpose(0, 1), x.reshape(-1, x.shape[-1])) if need[1] else None
        gb = g2.sum(0) if len(need) > 2 and need[2] else None
        return gx, gw, gb


def _operands(name, input, other, second="other", numbers=True):
    """input and other as Tensors. A Python number takes the tensor's dtype where NumPy's
    promotion says so (NEP 50); two numbers (where `numbers`) become tensors as torch makes
    them, torch.add(2, 3) being tensor(5): bool, int64, or the default float32."""
    if numbers and not isinstance(input, Tensor) and not isinstance(other, Tensor) and \
            _is_number(input) and _is_number(other):
        dtype = (float32 if any(isinstance(v, float) for v in (input, other)) else
                 bool if all(isinstance(v, bool) for v in (input, other)) else int64)
        xp = backends.for_device("cpu").xp
        return Tensor._wrap(xp.asarray(input, dtype)), Tensor._wrap(xp.asarray(other, dtype))
    if not isinstance(input, Tensor):
        input = operand(input, first_tensor(name, **{"input": input, second: other}), name, "input")
    return input, operand(other, input, name, second)


def _is_number(value):
    return isinstance(value, numbers.Real) and not hasattr(value, "shape")


def _apply(function, name, input, other, second="other", **params):
    try:
        return function.apply(input, other, **params)
    except (ValueError, TypeError) as error:  # name the op and both operands instead of NumPy
        explain_failure(name, error, **{"input": input, second: other})


def _scaled(name, input, other, alpha):
    """alpha * other, for add and sub: alpha an int for integer (and bool) tensors, as torch."""
    number(alpha, name, "alpha")
    if isinstance(alpha, float) and input.dtype.kind in "biu" and other.dtype.kind in "biu":
        raise TypeError(f"{name}: alpha must be an int for integer tensors (as torch), got {alpha!r}")
    return other if alpha == 1 else mul(other, alpha)


def add(input, other, *, alpha=1):
    """input + alpha * other, with NumPy broadcasting (torch.add); two numbers give a tensor."""
    input, other = _operands("add", input, other)
    return _apply(Add, "add", input, _scaled("add", input, other, alpha), "other")


def sub(input, other, *, alpha=1):
    """input - alpha * other, with NumPy broadcasting (torch.sub); two numbers give a tensor."""
    input, other = _operands("sub", input, other)
    return _apply(Sub, "sub", input, _scaled("sub", input, other, alpha), "other")


def mul(input, other):
    """input * other, with NumPy broadcasting (torch.mul); two numbers give a tensor."""
    return _apply(Mul, "mul", *_operands("mul", input, other))


class RoundedDiv(Function):
    """a / b rounded toward 0 ('trunc') or down ('floor'; for floats NumPy's floor_divide,
    the same divmod rule as torch's): piecewise constant, so its gradient is 0, as torch's."""

    @staticmethod
    def forward(ctx, a, b, mode):
        xp = backends.get(a).xp
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            return xp.floor_divide(a, b) if mode == "floor" else xp.trunc(a / b)
        quotient = xp.floor_divide(a, b)
        if mode == "floor":
            return quotient
        return quotient + ((quotient * b != a) & ((a < 0) != (b < 0)))  # C's integer division

    @staticmethod
    def backward(ctx, g):
        return g * 0, g * 0


def div(input, other, *, rounding_mode=None):
    """input / other, with NumPy broadcasting (torch.div); rounding_mode 'trunc' or 'floor'
    rounds the quotient (integer tensors then stay integer; dividing them by 0 is an error,
    as torch). Two numbers give a tensor. Integer tensors divide into float64 (NumPy's true
    division; torch gives its default float32)."""
    if rounding_mode not in (None, "trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    input, other = _operands("div", input, other)
    if rounding_mode is None:
        return _apply(Div, "div", input, other)
    if input.dtype.kind in "biu" and other.dtype.kind in "biu":
        if input.dtype.kind == other.dtype.kind == "b":
            raise TypeError(f"div: rounding_mode={rounding_mode!r} is not defined for bool tensors (input and other)")
        if bool((other.array == 0).any()):
            raise RuntimeError(f"div: integer division by zero (other holds a 0, rounding_mode={rounding_mode!r})")
    return _apply(RoundedDiv, "div", input, other, mode=rounding_mode)


def _pow_tensors(input, exponent):
    return _apply(Pow, "pow", *_operands("pow", input, exponent, "exponent", numbers=False), "exponent")


class LogAddExp(Function):
    """log(e^a + e^b), by the array module's stable logaddexp; d/da = 1 / (1 + e^(b - a)), as
    torch writes it (nan where a = b = +-inf, as torch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_inputs(0, 1)
        return backends.get(a).xp.logaddexp(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_inputs
        need_a, need_b = ctx.needs_input_grad
        return (g / (1 + (b - a).exp()) if need_a else None), (g / (1 + (a - b).exp()) if need_b else None)


def logaddexp(input, other):
    """log(exp(input) + exp(other)) without overflow, broadcast (torch.logaddexp); other may
    also be a Python number (torch: a Tensor only)."""
    input, other = _operands("logaddexp", input, other, numbers=False)
    check_tensor(input, "logaddexp", "input", "f")
    check_tensor(other, "logaddexp", "other", "f")
    return _apply(LogAddExp, "logaddexp", input, other)


def neg(input):
    try:
        return Neg.apply(check_tensor(input, "neg", "input"))
    except TypeError as error:  # NumPy refuses to negate bools (torch too)
        explain_failure("neg", error, input=input)


def pow(input, exponent):
    """input ** exponent; exponent a Python number or a Tensor (torch.pow)."""
    if isinstance(exponent, Tensor) or not isinstance(input, Tensor):
        return _pow_tensors(input, exponent)
    if not isinstance(exponent, numbers.Number):
        operand(exponent, input, "pow", "exponent")  # an array is a tensor exponent; else the error
        return _pow_tensors(input, exponent)
    return PowScalar.apply(input, exponent=exponent)


def matmul(input, other):
    """Matrix product with torch.matmul's rules for 1-D operands and batch broadcasting.
    One operand may be a NumPy array (as in `array @ tensor`)."""
    like = input if isinstance(input, Tensor) else first_tensor("matmul", input=input, other=other)
    input, other = operand(input, like, "matmul", "input"), operand(other, like, "matmul", "other")
    if input.ndim == 0 or other.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dimension, got shapes "
                         f"{input.shape} and {other.shape} (input and other)")
    inner = other.shape[0 if other.ndim == 1 else -2]
    if input.shape[-1] != inner:
        raise ValueError(f"matmul: shapes {input.shape} and {other.shape} cannot be multiplied "
                         f"({input.shape[-1]} != {inner}: input's last dim against other's "
                         f"{'only' if other.ndim == 1 else 'second to last'} dim)")
    a = input.unsqueeze(0) if input.ndim == 1 else input
    b = other.unsqueeze(-1) if other.ndim == 1 else other
    broadcast_shapes(a.shape[:-2], b.shape[:-2], f"matmul: batch dims of shapes {input.shape} and {other.shape}",
                     ("input's batch dims", "other's"))
    try:
        out = MatMul.apply(a, b)
    except (ValueError, TypeError) as error:
        explain_failure("matmul", error, input=input, other=other)
    if other.ndim == 1:
        out = out.squeeze(-1)
    if input.ndim == 1:
        out = out.squeeze(-2 if other.ndim > 1 else -1)
    return out


def linear(input, weight, bias=None):
    """input @ weight.T + bias, as torch.nn.functional.linear."""
    check_tensor(input, "linear", "input")
    check_tensor(weight, "linear", "weight")
    check_optional_tensor(bias, "linear", "bias")
    same_device("linear", input=input, weight=weight, bias=bias)
    if weight.ndim != 2 or input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input has {input.shape[-1] if input.ndim else 0} features but "
                         f"weight expects {weight.shape[1] if weight.ndim == 2 else '?'} "
                         f"(input shape {input.shape}, weight shape {weight.shape})")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias has shape {bias.shape}, expected ({weight.shape[0]},)")
    if input.ndim == 1:
        return Linear.apply(input.unsqueeze(0), weight, *([bias] if bias is not None else [])).squeeze(0)
    return Linear.apply(input, weight, *([bias] if bias is not None else []))
