"""Regression losses (mse, l1, smooth_l1, huber, gaussian_nll) and what every loss shares:
the reduction, torch's deprecated size_average / reduce, the argument checks. Names,
arguments and edge values as torch.nn.functional; the losses between distributions
(cross-entropies, NLL, KL) are in loss_classification.py.

Each loss is a formula over differentiable ops, except smooth L1 and Huber, whose kinks are
one Function each with the gradient torch gives there (its second derivative is 0 at the
kink itself, where torch's is)."""
import math
import warnings

from .. import backends
from ..arguments import number
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import broadcast_shapes, check_broadcasts_to, check_tensor, operand, same_device
from .similarity import ClampedValue
from .unary import where

REDUCTIONS = ("mean", "sum", "none")


def legacy_reduction(size_average, reduce, reduction):
    """torch's mapping of the deprecated size_average and reduce (either given, they decide,
    with torch's warning): None counts as True; both -> 'mean', reduce alone -> 'sum',
    reduce=False -> 'none'."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{result}' instead.",
                  UserWarning, stacklevel=3)
    return result


def check_reduction(reduction, op, allowed=REDUCTIONS):
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")
    return reduction


def _reduce(loss, reduction, op, allowed=REDUCTIONS):
    check_reduction(reduction, op, allowed)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _same_shape(input, target, op):
    check_tensor(input, op, "input")
    check_tensor(target, op, "target")
    same_device(op, input=input, target=target)
    if input.shape != target.shape:
        raise ValueError(f"{op}: input has shape {input.shape} but target has shape {target.shape}")


def _broadcast(input, target, op):
    """input and target broadcast to one shape, with torch's warning when their shapes differ
    (a broadcast target is more often a bug than meant)."""
    check_tensor(input, op, "input")
    check_tensor(target, op, "target")
    same_device(op, input=input, target=target)
    if input.shape == target.shape:
        return input, target
    shape = broadcast_shapes(input.shape, target.shape, op, ("input", "target"))
    warnings.warn(f"{op}: Using a target size ({target.shape}) that is different to the input size "
                  f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
                  "Please ensure they have the same size.", UserWarning, stacklevel=3)
    return input.expand(shape), target.expand(shape)


def _elementwise_weight(weight, input, op, arg="weight"):
    """A weight (or pos_weight) Tensor that broadcasts to input's shape, or None."""
    if weight is not None:
        check_broadcasts_to(check_tensor(weight, op, arg), input.shape, op, arg)
    return weight


def _weighted(loss, weight, input, reduction, op, mean_by_weight):
    """torch's `weight` of mse, l1 and huber: of input's shape, multiplying each term; 'mean'
    divides by sum(weight) for mse and l1 (mean_by_weight), by the number of terms for huber."""
    check_reduction(reduction, op)
    if weight is None:
        return _reduce(loss, reduction, op)
    if check_tensor(weight, op, "weight").shape != input.shape:
        raise ValueError(f"{op}: weight has shape {weight.shape}, expected input's shape {input.shape}")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction, op)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean of (input - target)^2 (target broadcast with torch's warning)."""
    op = "mse_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    x, t = _broadcast(input, target, op)
    diff = x - t
    return _weighted(diff * diff, weight, input, reduction, op, mean_by_weight=True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean of |input - target|; its gradient at input = target is 0, as torch's."""
    op = "l1_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    x, t = _broadcast(input, target, op)
    return _weighted((x - t).abs(), weight, input, reduction, op, mean_by_weight=True)


def _slope(d, bound):
    """d where |d| < bound, else bound * sign(d) (NaN at NaN): the derivative of Huber's loss
    with delta = bound; a constant outside (bound), so that the second derivative is 1 inside
    and 0 from the kink on, as torch's."""
    a = d.array
    xp = backends.get(a).xp
    outside = xp.where(a > 0, bound, xp.where(a < 0, -bound, xp.nan)).astype(a.dtype)
    return where(xp.abs(a) < bound, d, Tensor._wrap(outside))


class SmoothL1(Function):
    """Girshick 2015 (Fast R-CNN, eq. 3): 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta;
    d/dd = d / beta inside, sign(d) outside."""

    @staticmethod
    def forward(ctx, d, beta):
        ctx.save_inputs(0)
        ctx.beta = beta
        xp = backends.get(d).xp
        size = xp.abs(d)
        return xp.where(size < beta, 0.5 * d * d / beta, size - 0.5 * beta)

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved_inputs
        return (g * _slope(d, ctx.beta) / ctx.beta,)


class Huber(Function):
    """Huber 1964: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta); d/dd = d inside,
    delta sign(d) outside (smooth L1 times delta, with beta = delta)."""

    @staticmethod
    def forward(ctx, d, delta):
        ctx.save_inputs(0)
        ctx.delta = delta
        xp = backends.get(d).xp
        size = xp.abs(d)
        return xp.where(size < delta, 0.5 * d * d, delta * (size - 0.5 * delta))

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved_inputs
        return (g * _slope(d, ctx.delta),)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1 (Girshick 2015) of input - target: quadratic within beta, linear beyond;
    beta = 0 is l1_loss, as torch."""
    op = "smooth_l1_loss"
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction), op)
    if number(beta, op, "beta") < 0:
        raise ValueError(f"{op}: beta must be non-negative, got {beta!r}")
    x, t = _broadcast(input, target, op)
    loss = (x - t).abs() if beta == 0 else SmoothL1.apply(x - t, beta=beta)
    return _reduce(loss, reduction, op)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber's loss (Huber 1964) of input - target: quadratic within delta, linear beyond."""
    op = "huber_loss"
    check_reduction(reduction, op)
    if number(delta, op, "delta") <= 0:
        raise ValueError(f"{op}: delta must be positive, got {delta!r}")
    x, t = _broadcast(input, target, op)
    return _weighted(Huber.apply(x - t, delta=delta), weight, input, reduction, op, mean_by_weight=False)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (input - target)^2 / var) [+ 0.5 log 2 pi]: the negative log-likelihood
    of target under N(input, var). var is clamped at eps in value only (its gradient passes
    as if unclamped, as torch's), and may be a number, input's shape, input's shape without
    its last dim, or input's shape with one dim of size 1; target broadcasts against input."""
    op = "gaussian_nll_loss"
    check_tensor(input, op, "input")
    check_tensor(target, op, "target")
    same_device(op, input=input, target=target, var=var)
    broadcast_shapes(input.shape, target.shape, op, ("input", "target"))
    number(eps, op, "eps")
    check_reduction(reduction, op)
    var = ClampedValue.apply(_gaussian_var(var, input), minimum=eps)
    diff = input - target
    loss = 0.5 * (var.log() + diff * diff / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, op)


def _gaussian_var(var, input):
    """var in a shape that broadcasts against input, as torch accepts it (see gaussian_nll_loss)."""
    op = "gaussian_nll_loss"
    if not isinstance(var, Tensor):
        var = operand(var, input, op, "var").expand(input.shape)
    a = var.array
    if a.size and bool((a < 0).any()):
        raise ValueError(f"{op}: var has negative entries")
    if var.shape == input.shape:
        return var
    if var.shape == input.shape[:-1]:
        return var.unsqueeze(-1)
    if var.ndim != input.ndim or sum(v for n, v in zip(input.shape, var.shape) if n != v) != 1:
        raise ValueError(f"{op}: var has shape {var.shape}; expected input's shape {input.shape}, "
                         f"{input.shape[:-1]}, or {input.shape} with one dim of size 1")
    return var
