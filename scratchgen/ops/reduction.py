"""Reductions along dimensions (sums, moments, vector norms, extremes, tests of truth), and
the softmax family (which normalise along one)."""
import builtins
import collections
import math
import numbers

import numpy

from .. import backends
from ..arguments import dtype as dtype_argument, number
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import KINDS, check_tensor, normalize_dim, normalize_dims
from .shape import to

MinMax = collections.namedtuple("MinMax", ["values", "indices"])


def _keep(shape, dims):
    """`shape` with the reduced dims kept as size 1 (to broadcast a gradient back)."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.input_shape, ctx.dims = x.shape, dims
        return backends.get(x).sum_dims(x, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        return (g.reshape(_keep(ctx.input_shape, ctx.dims)).expand(ctx.input_shape),)


class PickAlong(Function):
    """max / min / amax / the inf-norm: the gradient goes to the picked elements, g * weights
    (weights constant: split evenly among ties for amax and a full max, 1 at the returned
    index for max along a dim, sgn(x) for the norms, 0 for the count of nonzeros)."""

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


def _var_arguments(op, dim, unbiased, keepdim, correction):
    """(dim, correction) from torch's three forms of var/std: (input, dim, unbiased, keepdim),
    (input, dim, *, correction, keepdim) and (input, unbiased), where a bool in dim's place
    is `unbiased` (as torch reads it: var(x, False) is the biased variance of all of x)."""
    if isinstance(dim, (bool, numpy.bool_)):
        if unbiased is not None or keepdim is not False:
            raise TypeError(f"{op}: a bool in dim's place is torch's {op}(input, unbiased), which takes no "
                            f"unbiased or keepdim after it; got dim={dim!r}, unbiased={unbiased!r}, "
                            f"keepdim={keepdim!r}")
        dim, unbiased = None, bool(dim)
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: give unbiased or correction, not both (as torch), got unbiased={unbiased!r} "
                        f"and correction={correction!r}")
    if unbiased is not None and not isinstance(unbiased, (bool, numpy.bool_)):
        raise TypeError(f"{op}: unbiased must be a bool, got {unbiased!r}")
    if correction is None:
        return dim, 0 if unbiased is not None and not unbiased else 1
    return dim, number(correction, op, "correction")


def _variance(x, dims, keepdim, divisor):
    backend = backends.get(x)
    centred = x - backend.sum_dims(x, dims, keepdims=True) / math.prod(x.shape[d] for d in dims)
    return backend.sum_dims(centred * centred, dims, keepdim) / builtins.max(divisor, 0)


def _variance_gradient(g, x, dims, divisor):
    """g * d var / dx = g * 2 (x - mean) / divisor, as torch's var_backward: without the term
    through the mean (it sums to 0; left out, an inf elsewhere gives no nan here), and with the
    divisor n - correction as it is (forward divides by max(n - correction, 0))."""
    return g.reshape(_keep(x.shape, dims)) * (2 / divisor if divisor else math.inf) * (x - mean(x, dims, keepdim=True))


class Variance(Function):
    """sum (x - mean)^2 / divisor over dims (divisor n - correction, at least 0)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, divisor):
        ctx.save_inputs(0)
        ctx.dims, ctx.divisor = dims, divisor
        return _variance(x, dims, keepdim, divisor)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        return (_variance_gradient(g, x, ctx.dims, ctx.divisor),)


class StandardDeviation(Function):
    """sqrt(var); d std = d var / (2 std), taken as 0 where std = 0 (as torch's std_backward)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, divisor):
        ctx.save_inputs(0)
        ctx.save_output()
        ctx.dims, ctx.divisor = dims, divisor
        return backends.get(x).xp.sqrt(_variance(x, dims, keepdim, divisor))

    @staticmethod
    def backward(ctx, g):
        from .unary import where
        (x,) = ctx.saved_inputs
        std = ctx.saved_output.reshape(_keep(x.shape, ctx.dims))
        g = where(std.detach() == 0, 0, g.reshape(std.shape) / (2 * std))
        return (_variance_gradient(g, x, ctx.dims, ctx.divisor),)


def _moment(function, input, dim, unbiased, keepdim, correction, op):
    check_tensor(input, op, "input")
    dim, correction = _var_arguments(op, dim, unbiased, keepdim, correction)
    dims = normalize_dims(dim, input.ndim, op)
    divisor = math.prod(input.shape[d] for d in dims) - correction
    return function.apply(input, dims=dims, keepdim=keepdim, divisor=divisor)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """sum (x - mean)^2 / (n - correction) over dim; correction 1 (unbiased, n - 1) by default.
    torch's overloads: var(x, dim, unbiased, keepdim), var(x, dim, correction=c) and
    var(x, unbiased) (a bool second argument)."""
    return _moment(Variance, input, dim, unbiased, keepdim, correction, "var")


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """sqrt(var(...)), with var's arguments and torch's overloads."""
    return _moment(StandardDeviation, input, dim, unbiased, keepdim, correction, "std")


# ---- vector norms (torch.linalg.vector_norm; the matrix norms are in ops/linalg.py) ----------

def sgn(x):
    """torch's sgn of a real array: -1, 0 or 1, and 0 at nan (NumPy's sign gives nan there)."""
    return (x > 0).astype(x.dtype) - (x < 0)


def _root_of_power_sum(x, dims, keepdim, p):
    """(sum |x|^p)^(1/p) over dims; over a single element |x| itself, as torch (whose |x|^p
    would underflow or overflow there, at 1e-300 or 1e300)."""
    backend = backends.get(x)
    size = backend.unary("abs", x)
    if math.prod(x.shape[d] for d in dims) == 1:
        return backend.sum_dims(size, dims, keepdim)
    if p == 2:
        return backend.unary("sqrt", backend.sum_dims(backend.binary("mul", size, size), dims, keepdim))
    return backend.unary("pow_scalar", backend.sum_dims(backend.unary("pow_scalar", size, p), dims, keepdim), 1 / p)


class EuclideanNorm(Function):
    """sqrt(sum of x^2) over dims. Its gradient x / ||x|| is taken as 0 where ||x|| = 0 (then
    x = 0 there too), as torch's: the WGAN-GP penalty meets that at a critic whose ReLUs are
    all off at an interpolate, where sqrt's own derivative would give inf * 0 = NaN. Unlike
    torch's, its second derivative there is finite too (torch's is nan): the derivative of
    x / (||x|| + 1) at 0, an arbitrary but harmless choice for the penalty's double backward."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.save_inputs(0)
        ctx.save_output()
        ctx.dims = dims
        return _root_of_power_sum(x, dims, keepdim, 2)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        keep = _keep(x.shape, ctx.dims)
        norm = ctx.saved_output.reshape(keep)
        safe_norm = norm + (norm.detach() == 0)  # 1 where the norm is 0, where x is 0 too
        return (g.reshape(keep) * (x / safe_norm),)  # torch's order of operations


class PowerNorm(Function):
    """(sum |x|^p)^(1/p) over dims, for p other than 0, 1, 2 and +-inf. Its gradient
    sgn(x) |x|^(p-1) / norm^(p-1), written as torch's norm_backward writes it: for p < 1 as
    sgn(x) |x|^(p-1) norm^(1-p) with 0 where x = 0; otherwise 0 where the norm is 0."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, p):
        ctx.save_inputs(0)
        ctx.save_output()
        ctx.dims, ctx.p = dims, p
        return _root_of_power_sum(x, dims, keepdim, p)

    @staticmethod
    def backward(ctx, g):
        from .unary import where
        (x,) = ctx.saved_inputs
        p, keep = ctx.p, _keep(x.shape, ctx.dims)
        g, norm = g.reshape(keep), ctx.saved_output.reshape(keep)
        sign = Tensor._wrap(sgn(x.array))
        if p < 1:
            return (sign * where(x.detach() == 0, 0, x.abs() ** (p - 1)) * g * norm ** (1 - p),)
        scaled = sign * x.abs() ** (p - 1) if p < 2 else x * x.abs() ** (p - 2)
        return (scaled * where(norm.detach() == 0, 0, g / norm ** (p - 1)),)


def _floating(input):
    """`input`, or a float64 copy of an integer or bool tensor (norms of those are lenient)."""
    return input if input.dtype.kind == "f" else to(input, dtype=numpy.float64)


def vector_norm(input, ord=2, dim=None, keepdim=False, *, dtype=None):
    """(sum |x|^ord)^(1/ord) over `dim` (all dims by default), as torch.linalg.vector_norm:
    ord inf is max |x|, -inf min |x|, 0 the number of nonzero elements (gradient 0). At ties
    of the +-inf norm the gradient is split evenly among them (and goes to the nans where the
    norm is nan), as torch's."""
    check_tensor(input, "vector_norm", "input")
    if isinstance(ord, str) or not isinstance(ord, numbers.Real) or isinstance(ord, (bool, numpy.bool_)):
        raise TypeError(f"vector_norm: ord must be a number (inf included), got {ord!r}")
    x = _floating(cast(input, dtype, "vector_norm"))
    dims = normalize_dims(dim, x.ndim, "vector_norm")
    if (ord < 0 or math.isinf(ord)) and 0 in (x.shape[d] for d in dims):
        raise RuntimeError(f"vector_norm: cannot take the {ord} norm over an empty dimension (input of shape "
                           f"{input.shape}, dim {dim!r}): it has no identity, as torch")
    if ord == 2:
        return EuclideanNorm.apply(x, dims=dims, keepdim=keepdim)
    if ord == 1:
        return sum(x.abs(), dims, keepdim)
    xp, a = x.backend.xp, x.array
    if ord == 0:
        count = (a != 0).sum(axis=dims, keepdims=keepdim).astype(a.dtype)
        return PickAlong.apply(x, dims=dims, weights=xp.zeros_like(a), values=xp.asarray(count))
    if math.isinf(ord):
        size = xp.abs(a)
        value = size.max(axis=dims, keepdims=True) if ord > 0 else size.min(axis=dims, keepdims=True)
        hit = (size == value) | xp.isnan(size)
        weights = sgn(a) * hit / hit.sum(axis=dims, keepdims=True)
        return PickAlong.apply(x, dims=dims, weights=weights.astype(a.dtype),
                               values=value if keepdim else value.reshape(_dropped(a.shape, dims)))
    return PowerNorm.apply(x, dims=dims, keepdim=keepdim, p=ord)


def cast(input, dtype, op, kinds="f"):
    """`input` cast to `dtype` (an op's dtype= argument: torch casts before the op), checked
    to be of `kinds` (NumPy dtype letters: "f" floating point)."""
    if dtype is None:
        return input
    dtype = dtype_argument(dtype, op)
    if dtype.kind not in kinds:
        raise TypeError(f"{op}: dtype must be a {KINDS.get(kinds, kinds)} dtype, got {dtype}")
    return to(input, dtype=dtype)


def _dropped(shape, dims):
    return tuple(n for i, n in enumerate(shape) if i not in dims)


# ---- extremes: max, min (torch.max: values and indices along a dim), amax, amin ----------------

def _extreme(input, dim, keepdim, name, other):
    check_tensor(input, name, "input")
    if isinstance(dim, Tensor) or other is not None:  # torch.max(input, other): elementwise
        from .unary import maximum, minimum
        if other is not None and dim is not None:
            raise TypeError(f"{name}: give dim or other, not both")
        return (maximum if name == "max" else minimum)(input, dim if other is None else other)
    xp = input.backend.xp
    x = input.array
    if dim is None:
        if x.size == 0:
            raise ValueError(f"{name}: cannot reduce an empty tensor of shape {input.shape} (give a dim)")
        value = getattr(x, name)()
        hit = xp.isnan(x) if x.dtype.kind == "f" and xp.isnan(value) else x == value  # ties (or the nans) share the gradient
        weights = (hit / hit.sum()).astype(x.dtype)
        return PickAlong.apply(input, dims=tuple(range(x.ndim)), weights=weights, values=xp.asarray(value))
    d = normalize_dim(dim, input.ndim, name)
    if x.ndim == 0:  # torch: the single element, at index 0
        values, indices = _extreme(input.reshape(1), 0, False, name, None)
        return MinMax(values.reshape(()), indices.reshape(()))
    _nonempty(input, (d,), name)
    values, index, weights = input.backend.extreme_along(x, d, name == "max")
    values = PickAlong.apply(input, dims=(d,), weights=weights,
                             values=values if keepdim else values.squeeze(d))
    return MinMax(values, Tensor._wrap(index if keepdim else index.squeeze(d)))


def _nonempty(input, dims, name):
    for d in dims:
        if input.shape[d] == 0:
            raise IndexError(f"{name}: cannot reduce dim {d} of size 0 (input of shape {input.shape}): "
                             "it has no identity, as torch")


def max(input, dim=None, keepdim=False, *, other=None):
    """Largest element; (values, indices) along `dim` (the gradient to the returned index); or,
    with a Tensor in dim's place (or other=), the elementwise maximum (torch.max's three forms).
    A nan is the largest element, as torch."""
    return _extreme(input, dim, keepdim, "max", other)


def min(input, dim=None, keepdim=False, *, other=None):
    """Smallest element; (values, indices) along `dim`; or the elementwise minimum with a Tensor
    (torch.min's three forms). A nan is the smallest element, as torch."""
    return _extreme(input, dim, keepdim, "min", other)


def _amax_or_amin(input, dim, keepdim, name):
    check_tensor(input, name, "input")
    dims = normalize_dims(dim, input.ndim, name)
    _nonempty(input, dims, name)
    x = input.array
    value = getattr(x, name[1:])(axis=dims, keepdims=True)
    hit = x == value  # a nan row has no hit: its gradient is nan, as torch's
    weights = (hit / hit.sum(axis=dims, keepdims=True)).astype(x.dtype)
    return PickAlong.apply(input, dims=dims, weights=weights,
                           values=value if keepdim else value.reshape(_dropped(x.shape, dims)))


def amax(input, dim=(), keepdim=False):
    """Largest element over dim (all dims by default); ties share the gradient evenly (torch.amax)."""
    return _amax_or_amin(input, dim, keepdim, "amax")


def amin(input, dim=(), keepdim=False):
    """Smallest element over dim (all dims by default); ties share the gradient evenly (torch.amin)."""
    return _amax_or_amin(input, dim, keepdim, "amin")


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
    """log sum e^x over dims (-inf over no element, as torch); d/dx = softmax(x)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.save_inputs(0)
        ctx.save_output()
        ctx.dims, ctx.keepdim = dims, keepdim
        if x.size == 0:  # NumPy's max has no identity to shift by
            shape = _keep(x.shape, dims) if keepdim else _dropped(x.shape, dims)
            return backends.get(x).xp.full(shape, -numpy.inf, _float_dtype(x))
        return backends.get(x).logsumexp(x, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        keep = _keep(x.shape, ctx.dims)
        return (g.reshape(keep) * (x - ctx.saved_output.reshape(keep)).exp(),)


def _float_dtype(x):
    """The dtype of an exp of the array x: its own when floating, else float64 (NumPy's)."""
    return x.dtype if x.dtype.kind == "f" else numpy.float64


def _normalize(backend_function):
    """softmax or log_softmax along one axis of an array; an empty array stays empty (NumPy's
    max, which the backends shift by, has no identity)."""
    def forward(x, dim):
        if x.size == 0:
            return backends.get(x).xp.empty(x.shape, _float_dtype(x))
        return getattr(backends.get(x), backend_function)(x, dim)
    return forward


class Softmax(Function):
    """e^x / sum e^x along dim; d softmax: y * (g - sum(g * y))."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.save_output()
        ctx.dim = dim
        return _normalize("softmax")(x, dim)

    @staticmethod
    def backward(ctx, g):
        y = ctx.saved_output
        return (y * (g - (g * y).sum(ctx.dim, keepdim=True)),)


class LogSoftmax(Function):
    """x - logsumexp(x) along dim; d log_softmax: g - softmax(x) * sum(g)."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.save_output()
        ctx.dim = dim
        out = _normalize("log_softmax")(x, dim)
        xp = backends.get(x).xp
        if out.dtype.kind == "f" and bool(xp.isnan(out).any()):  # a +inf or a nan in the row: torch's row is nan
            out = xp.where(xp.isnan(out).any(axis=dim, keepdims=True), xp.nan, out)
        return out

    @staticmethod
    def backward(ctx, g):
        return (g - ctx.saved_output.exp() * g.sum(ctx.dim, keepdim=True),)


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(input))) over dim, shifted by the max so that exp cannot overflow."""
    check_tensor(input, "logsumexp", "input")
    return LogSumExp.apply(input, dims=normalize_dims(dim, input.ndim, "logsumexp"), keepdim=keepdim)


def softmax(input, dim, *, dtype=None):
    """e^x / sum e^x along dim; dtype= casts the input first (torch). dim is required:
    torch's implicit dim is deprecated there."""
    input = cast(check_tensor(input, "softmax", "input"), dtype, "softmax")
    return Softmax.apply(input, dim=normalize_dim(dim, input.ndim, "softmax"))


def log_softmax(input, dim, *, dtype=None):
    """x - logsumexp(x) along dim; dtype= casts the input first (torch)."""
    input = cast(check_tensor(input, "log_softmax", "input"), dtype, "log_softmax")
    return LogSoftmax.apply(input, dim=normalize_dim(dim, input.ndim, "log_softmax"))


# ---- tests of truth (outside the graph) ---------------------------------------------------------

def _truth(name):
    def op(input, dim=None, keepdim=False):
        check_tensor(input, name, "input")
        dims = normalize_dims(dim, input.ndim, name)
        result = getattr(input.backend.xp, name)(input.array, axis=dims, keepdims=keepdim)
        return Tensor._wrap(input.backend.xp.asarray(result))
    op.__name__ = name
    op.__doc__ = (f"True where {'every' if name == 'all' else 'some'} element over dim (all dims by default) is "
                  f"nonzero, nan included (torch.{name}); a bool tensor outside the graph (for a uint8 input "
                  "too, where torch gives uint8).")
    return op


all = _truth("all")
any = _truth("any")
