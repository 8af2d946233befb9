"""relu, leaky_relu, tanh, sigmoid and softplus as two Functions: the activation (a subclass per
function, so that graphs name it: TanhBackward), one backend
call (`activation`), and its gradient g * f'(z), one backend call (`activation_backward`);
on a GPU each is one launch of kernels/activations.cu, the same formulas as the NumPy
backend's ACTIVATIONS.

f' is read from z = x, or from z = y = f(x) where the output gives it cheaper (tanh, sigmoid:
torch's tanh_backward and sigmoid_backward do the same). The gradient is linear in g, so its
own gradient is the same op on g's gradient plus g's gradient times g times df'/dz (the
second derivative, in Tensor ops below): double backward works through both.
"""
from .. import backends
from ..autograd.function import Function
from ..autograd.tensor import Tensor

SLOPE_FROM_OUTPUT = ("tanh", "sigmoid")  # f' read from y = f(x); the others read it from x


def _softplus_curvature(x, beta, threshold):
    """d/dx sigmoid(beta x) = beta s (1 - s), s = sigmoid(beta x), and 0 from beta x =
    threshold on (where softplus is x itself; a mask that multiplies, so nan stays nan)."""
    s = Sigmoid.apply(x * beta, params=())
    linear_part = Tensor._wrap((beta * x.array < threshold).astype(x.dtype))
    return s * (1 - s) * beta * linear_part


# d f'(z) / dz, as Tensor ops; relu and leaky_relu have none (f' is constant on each side)
SLOPE_DERIVATIVES = {
    "tanh": lambda y: -2 * y,  # f' = 1 - y^2
    "sigmoid": lambda y: 1 - 2 * y,  # f' = y (1 - y)
    "softplus": _softplus_curvature,  # f' = sigmoid(beta x)
}


class Activation(Function):
    """y = f(x) for f in the backends' ACTIVATIONS, named by each subclass below, with `params`
    (leaky_relu: the negative slope; softplus: beta and threshold)."""
    activation = None

    @classmethod
    def forward(cls, ctx, x, params):
        ctx.activation, ctx.params = cls.activation, params
        if cls.activation in SLOPE_FROM_OUTPUT:
            ctx.save_output()
        else:
            ctx.save_inputs(0)
        return backends.get(x).activation(cls.activation, x, *params)

    @staticmethod
    def backward(ctx, g):
        z = ctx.saved_output if ctx.activation in SLOPE_FROM_OUTPUT else ctx.saved_inputs[0]
        return (ActivationGradient.apply(g, z, function=ctx.activation, params=ctx.params),)


class Relu(Activation):
    activation = "relu"


class LeakyRelu(Activation):
    activation = "leaky_relu"


class Tanh(Activation):
    activation = "tanh"


class Sigmoid(Activation):
    activation = "sigmoid"


class Softplus(Activation):
    activation = "softplus"


ACTIVATIONS = {function.activation: function for function in (Relu, LeakyRelu, Tanh, Sigmoid, Softplus)}


class ActivationGradient(Function):
    """g * f'(z), z = x or y (SLOPE_FROM_OUTPUT)."""

    @staticmethod
    def forward(ctx, g, z, function, params):
        ctx.save_inputs(0, 1)
        ctx.activation, ctx.params = function, params
        return backends.get(g).activation_backward(ctx.activation, z, g, *params)

    @staticmethod
    def backward(ctx, grad):
        g, z = ctx.saved_inputs
        need_g, need_z = ctx.needs_input_grad
        grad_g = ActivationGradient.apply(grad, z, function=ctx.activation, params=ctx.params) if need_g else None
        curvature = SLOPE_DERIVATIVES.get(ctx.activation)
        grad_z = grad * g * curvature(z, *ctx.params) if need_z and curvature is not None else None
        return grad_g, grad_z
