"""Arithmetic: + - * / ** @, and linear (a fused matrix product and bias)."""
import numbers

from .. import backends
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import (broadcast_shapes, check_optional_tensor, check_tensor, explain_failure, first_tensor,
                    operand, same_device)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, -g


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_inputs(0, 1)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_inputs
        need_a, need_b = ctx.needs_input_grad
        return (g * b if need_a else None), (g * a if need_b else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_inputs(0, 1)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_inputs
        need_a, need_b = ctx.needs_input_grad
        g_over_b = g / b
        return (g_over_b if need_a else None), (-g_over_b * a / b if need_b else None)


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return (-g,)


class PowScalar(Function):
    """x ** p for a Python number p."""

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_inputs(0)
        ctx.exponent = exponent
        return x ** exponent

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        p = ctx.exponent
        if p == 0:
            return (g * 0,)
        return (g * p * x ** (p - 1) if p != 1 else g,)


class Pow(Function):
    """a ** b with both tensors: d/da = b a^(b-1) (0 where b = 0, as torch, even at a = 0),
    d/db = a^b log a (0 where a = 0, b >= 0)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_inputs(0, 1)
        ctx.save_output()
        return a ** b

    @staticmethod
    def backward(ctx, g):
        from .unary import where
        a, b = ctx.saved_inputs
        need_a, need_b = ctx.needs_input_grad
        ga = where(b.detach() == 0, 0, g * b * a ** (b - 1)) if need_a else None
        gb = None
        if need_b:
            zero_base = ((a.detach() == 0) & (b.detach() >= 0))
            safe_a = where(zero_base, 1, a)
            gb = where(zero_base, 0, g * ctx.saved_output * safe_a.log())
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
            y += bias
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


def _binary(function, name, second="other"):
    def op(input, other):
        if not isinstance(input, Tensor):
            input = operand(input, first_tensor(name, **{"input": input, second: other}), name, "input")
        other = operand(other, input, name, second)
        try:
            return function.apply(input, other)
        except (ValueError, TypeError) as error:  # name the op and both operands instead of NumPy
            explain_failure(name, error, **{"input": input, second: other})
    op.__name__ = name
    op.__doc__ = f"Elementwise {name} with NumPy broadcasting (torch.{name})."
    return op


add = _binary(Add, "add")
sub = _binary(Sub, "sub")
mul = _binary(Mul, "mul")
div = _binary(Div, "div")
_pow_tensors = _binary(Pow, "pow", "exponent")


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
