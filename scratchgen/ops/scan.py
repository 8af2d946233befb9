"""Running sums and products along one dim: cumsum, logcumsumexp, and prod (whose gradient
is the product of the other elements, taken without dividing where an element is 0)."""
import numpy

from .. import backends
from ..autograd import mode
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import check_tensor, normalize_dim
from .rearrange import Flip
from .reduction import _keep, cast


def _int64(input):
    """Integer and bool tensors as int64, the dtype torch sums and multiplies them in."""
    if input.dtype.kind in "biu" and input.dtype != numpy.int64:
        return Tensor._wrap(input.array.astype(numpy.int64))
    return input


def _flip(t, dim):
    """t reversed along dim (rearrange.py's Flip: its gradient flips back)."""
    return Flip.apply(t, dims=(dim,))


def _reverse_cumsum(t, dim):
    """out_i = sum_{j >= i} t_j along dim: the adjoint of cumsum."""
    return _flip(cumsum(_flip(t, dim), dim), dim)


class CumSum(Function):
    """out_i = sum_{j <= i} x_j along dim; dL/dx_j = sum_{i >= j} g_i (a reversed cumsum)."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return backends.get(x).xp.cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return (_reverse_cumsum(g, ctx.dim),)


def cumsum(input, dim, *, dtype=None):
    """Running sum along dim (torch.cumsum); integer and bool inputs sum in int64, as torch;
    dtype= casts the input first."""
    input = _int64(cast(check_tensor(input, "cumsum", "input"), dtype, "cumsum", "biuf"))
    dim = normalize_dim(dim, input.ndim, "cumsum")
    return input * 1 if input.ndim == 0 else CumSum.apply(input, dim=dim)


def _log_cumsum_exp(x, axis, xp):
    """log sum_{j <= i} e^{x_j} along axis, by Hillis & Steele's scan (1986): after the step
    with offset k, out_i combines x_{i-2k+1..i}; each step is one logaddexp over the array, and
    log2(n) steps cover it all, as stable as logaddexp itself."""
    out = xp.array(x, copy=True)
    n, k = x.shape[axis], 1
    while k < n:
        later = (slice(None),) * axis + (slice(k, None),)
        earlier = (slice(None),) * axis + (slice(None, n - k),)
        out[later] = xp.logaddexp(out[later], out[earlier])  # the right side is read before the write
        k *= 2
    return out


class LogCumSumExp(Function):
    """out_i = log sum_{j <= i} e^{x_j} along dim. dL/dx_j = sum_{i >= j} g_i e^{x_j - out_i},
    computed as torch's logcumsumexp_backward does, in log space with the positive and negative
    parts of g apart, so that no e^{-out_i} overflows."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.save_inputs(0)
        ctx.save_output()
        ctx.dim = dim
        return _log_cumsum_exp(x, dim, backends.get(x).xp)

    @staticmethod
    def backward(ctx, g):
        from .unary import where
        (x,) = ctx.saved_inputs
        out, dim = ctx.saved_output, ctx.dim
        lowest = float(numpy.finfo(g.dtype).min)  # log of "nothing", kept finite as torch keeps it
        log_abs = g.abs().log()

        def part(mask):
            reverse = _flip(logcumsumexp(_flip(where(mask, log_abs, lowest) - out, dim), dim), dim)
            return (reverse + x).exp()
        return (part(g.detach() > 0) - part(g.detach() < 0),)


def logcumsumexp(input, dim):
    """log(cumsum(exp(input))) along dim without overflow (torch.logcumsumexp)."""
    check_tensor(input, "logcumsumexp", "input", "f")
    dim = normalize_dim(dim, input.ndim, "logcumsumexp")
    if input.ndim == 0 or input.numel() == 0:
        return input * 1
    return LogCumSumExp.apply(input, dim=dim)


class Prod(Function):
    """The product of x over dim (or all of x). dL/dx_j = g * prod_{i != j} x_i: where no
    element is 0, torch's rule g * out / x_j (inf / inf is nan there too, as torch); else the
    products of the others themselves (`_others`), so that a 0 gives no 0 / 0. Its second
    derivative where inf or nan meet a 0 is the products' own (torch's, through cumprod, is
    nan in places where those are finite)."""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.save_inputs(0)
        ctx.save_output()
        ctx.dim, ctx.keepdim = dim, keepdim
        return x.prod(axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        dim = ctx.dim
        keep = _keep(x.shape, range(x.ndim) if dim is None else (dim,))
        g, out = g.reshape(keep), ctx.saved_output.reshape(keep)
        if not bool((x.array == 0).any()):
            return (g * (out / x),)  # torch's order of operations
        flat = x.reshape(-1) if dim is None else x
        others = _others(flat, 0 if dim is None else dim)
        return (g * others.reshape(x.shape),)


def _others(x, dim):
    """prod_{i != j} x_i along dim, for each j, with no division. Without recording, in O(n)
    from the running products before and after j (as torch); recording (a gradient to be
    differentiated again), as the product of x with x_j replaced by 1 over an n x n expansion,
    whose gradient is again a Prod's: O(n^2), as torch's own second-order rule."""
    xp, n = x.backend.xp, x.shape[dim]
    if not mode.state.grad_enabled or not x.requires_grad:
        a = xp.moveaxis(x.array, dim, -1)
        ones = xp.ones(a.shape[:-1] + (1,), a.dtype)
        before = xp.cumprod(xp.concatenate([ones, a[..., :-1]], axis=-1), axis=-1)
        after = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(a[..., 1:], axis=-1)], axis=-1), axis=-1), axis=-1)
        return Tensor._wrap(xp.moveaxis(before * after, -1, dim))
    from .unary import where
    square = x.shape + (n,)                        # [..., j (at dim), ..., i (last)]
    x_i = x.unsqueeze(-1).transpose(dim, -1).expand(square)
    eye = xp.eye(n, dtype=bool).reshape([n if d in (dim, x.ndim) else 1 for d in range(x.ndim + 1)])
    return prod(where(eye, 1, x_i), -1)            # x_j replaced by 1 in row j


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of all elements, or along one dim (torch.prod); integer and bool inputs multiply
    in int64, as torch; dtype= casts the input first."""
    input = _int64(cast(check_tensor(input, "prod", "input"), dtype, "prod", "biuf"))
    if dim is not None:
        dim = normalize_dim(dim, input.ndim, "prod")
        if input.ndim == 0:
            return input * 1
    return Prod.apply(input, dim=dim, keepdim=keepdim)
