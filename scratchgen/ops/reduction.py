"""Reductions along dimensions (sums, moments, extremes, norms), and the softmax family
(which normalise along one)."""
import builtins
import collections
import math

from .. import backends
from ..arguments import number
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import check_tensor, normalize_dim, normalize_dims

MinMax = collections.namedtuple("MinMax", ["values", "indices"])


def _keep(shape, dims):
    """`shape` with the reduced dims kept as size 1 (to broadcast a gradient back)."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.input_shape, ctx.dims = x.shape, dims
        return x.sum(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return (g.reshape(_keep(ctx.input_shape, ctx.dims)).expand(ctx.input_shape),)


class PickAlong(Function):
    """max / min: the gradient goes to the picked elements, split evenly among ties when
    reducing all dims (torch.amax) and to the returned index when reducing one (torch.max)."""

    @staticmethod
    def forward(ctx, x, dims, weights, values):
        ctx.input_shape, ctx.dims, ctx.weights = x.shape, dims, weights
        return values

    @staticmethod
    def backward(ctx, g):
        return (g.reshape(_keep(ctx.input_shape, ctx.dims)) * Tensor._wrap(ctx.weights),)


def sum(input, dim=None, keepdim=False):
    check_tensor(input, "sum", "input")
    return Sum.apply(input, dims=normalize_dims(dim, input.ndim, "sum"), keepdim=keepdim)


def mean(input, dim=None, keepdim=False):
    check_tensor(input, "mean", "input")
    dims = normalize_dims(dim, input.ndim, "mean")
    return sum(input, dims, keepdim) / math.prod(input.shape[d] for d in dims)


def var(input, dim=None, unbiased=True, keepdim=False, correction=None):
    """Variance; unbiased (divide by n - 1) by default, as torch.var."""
    check_tensor(input, "var", "input")
    dims = normalize_dims(dim, input.ndim, "var")
    correction = (1 if unbiased else 0) if correction is None else number(correction, "var", "correction")
    count = math.prod(input.shape[d] for d in dims)
    centred = input - mean(input, dims, keepdim=True)
    return sum(centred * centred, dims, keepdim) / builtins.max(count - correction, 0)


def std(input, dim=None, unbiased=True, keepdim=False, correction=None):
    check_tensor(input, "std", "input")
    if correction is not None:
        number(correction, "std", "correction")
    return var(input, normalize_dims(dim, input.ndim, "std"), unbiased, keepdim, correction).sqrt()


class EuclideanNorm(Function):
    """sqrt(sum of x^2) over dims. Its gradient x / ||x|| is taken as 0 where ||x|| = 0 (then
    x = 0 there too), as torch's: the WGAN-GP penalty meets that at a critic whose ReLUs are
    all off at an interpolate, where sqrt's own derivative would give inf * 0 = NaN."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.save_inputs(0)
        ctx.save_output()
        ctx.dims = dims
        return backends.get(x).xp.sqrt((x * x).sum(axis=dims, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        keep = _keep(x.shape, ctx.dims)
        norm = ctx.saved_output.reshape(keep)
        safe_norm = norm + (norm.detach() == 0)  # 1 where the norm is 0, where x is 0 too
        return (g.reshape(keep) * x / safe_norm,)


def vector_norm(input, ord=2, dim=None, keepdim=False):
    """The vector ord-norm over `dim` (all dims by default), as torch.linalg.vector_norm, for
    ord 2 (Euclidean) and 1."""
    check_tensor(input, "vector_norm", "input")
    dims = normalize_dims(dim, input.ndim, "vector_norm")
    if ord == 2:
        return EuclideanNorm.apply(input, dims=dims, keepdim=keepdim)
    if ord == 1:
        return sum(input.abs(), dims, keepdim)
    raise ValueError(f"vector_norm: ord must be 2 or 1, got {ord!r}")


def _extreme(input, dim, keepdim, name, pick):
    check_tensor(input, name, "input")
    xp = input.backend.xp
    x = input.array
    if x.size == 0:
        raise ValueError(f"{name}: cannot reduce an empty tensor of shape {input.shape}")
    if dim is None:
        value = getattr(x, name)()
        hit = x == value
        weights = (hit / hit.sum()).astype(x.dtype)
        return PickAlong.apply(input, dims=tuple(range(x.ndim)), weights=weights,
                               values=xp.asarray(value))
    d = normalize_dim(dim, input.ndim, name)
    if x.ndim == 0:  # torch: the single element, at index 0
        values, indices = _extreme(input.reshape(1), 0, False, name, pick)
        return MinMax(values.reshape(()), indices.reshape(()))
    index = pick(x, axis=d, keepdims=True)
    positions = xp.arange(x.shape[d]).reshape([-1 if i == d else 1 for i in range(x.ndim)])
    weights = (positions == index).astype(x.dtype)
    values = xp.take_along_axis(x, index, axis=d)
    values = PickAlong.apply(input, dims=(d,), weights=weights,
                             values=values if keepdim else values.squeeze(d))
    return MinMax(values, Tensor._wrap(index if keepdim else index.squeeze(d)))


def max(input, dim=None, keepdim=False):
    """Largest element, or (values, indices) along `dim` (torch.max)."""
    return _extreme(input, dim, keepdim, "max", lambda x, axis, keepdims: x.argmax(axis, keepdims=keepdims))


def min(input, dim=None, keepdim=False):
    """Smallest element, or (values, indices) along `dim` (torch.min)."""
    return _extreme(input, dim, keepdim, "min", lambda x, axis, keepdims: x.argmin(axis, keepdims=keepdims))


def _arg_extreme(input, dim, keepdim, name):
    """Index of the first largest/smallest element: of the flattened tensor when dim is None
    (kept as size-1 dims with keepdim, as torch), else along dim."""
    x = check_tensor(input, name, "input").array
    pick = getattr(x, name)
    if dim is None:
        index = pick()
        return Tensor._wrap(input.backend.xp.asarray(index).reshape((1,) * x.ndim if keepdim else ()))
    d = normalize_dim(dim, x.ndim, name)
    return Tensor._wrap(input.backend.xp.asarray(pick(d if x.ndim else None, keepdims=keepdim)))


def argmax(input, dim=None, keepdim=False):
    return _arg_extreme(input, dim, keepdim, "argmax")


def argmin(input, dim=None, keepdim=False):
    return _arg_extreme(input, dim, keepdim, "argmin")


class LogSumExp(Function):
    """d/dx log sum e^x = softmax(x)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.save_inputs(0)
        ctx.save_output()
        ctx.dims, ctx.keepdim = dims, keepdim
        return backends.get(x).logsumexp(x, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        keep = _keep(x.shape, ctx.dims)
        return (g.reshape(keep) * (x - ctx.saved_output.reshape(keep)).exp(),)


class Softmax(Function):
    """d softmax: y * (g - sum(g * y))."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.save_output()
        ctx.dim = dim
        return backends.get(x).softmax(x, dim)

    @staticmethod
    def backward(ctx, g):
        y = ctx.saved_output
        return (y * (g - (g * y).sum(ctx.dim, keepdim=True)),)


class LogSoftmax(Function):
    """d log_softmax: g - softmax(x) * sum(g)."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.save_output()
        ctx.dim = dim
        return backends.get(x).log_softmax(x, dim)

    @staticmethod
    def backward(ctx, g):
        return (g - ctx.saved_output.exp() * g.sum(ctx.dim, keepdim=True),)


def logsumexp(input, dim, keepdim=False):
    check_tensor(input, "logsumexp", "input")
    return LogSumExp.apply(input, dims=normalize_dims(dim, input.ndim, "logsumexp"), keepdim=keepdim)


def softmax(input, dim):
    check_tensor(input, "softmax", "input")
    return Softmax.apply(input, dim=normalize_dim(dim, input.ndim, "softmax"))


def log_softmax(input, dim):
    check_tensor(input, "log_softmax", "input")
    return LogSoftmax.apply(input, dim=normalize_dim(dim, input.ndim, "log_softmax"))
