"""Losses between distributions: binary cross-entropy (on probabilities or on logits),
negative log-likelihood, cross-entropy and KL divergence, with torch.nn.functional's names,
arguments (the deprecated size_average and reduce included) and edge values.

Binary cross-entropy on probabilities is one Function with torch's gradients, which stay
finite at p = 0 and 1 (a GAN's discriminator reaches them); BCE with logits, the hot loss of
VAEs and GANs, is one fused Function; the others are formulas over differentiable ops."""
import math

import numpy

from .. import backends
from ..arguments import integer, number
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import check_tensor
from .loss import REDUCTIONS, _elementwise_weight, _reduce, _same_shape, check_reduction, legacy_reduction
from .reduction import log_softmax
from .unary import softplus, where

EPSILON = 1e-12  # torch's floor on p (1 - p) in binary cross-entropy's double backward,
FLOOR = float(numpy.float32(EPSILON))  # and in its gradient, where torch holds it as a float32


class BinaryCrossEntropy(Function):
    """-(t log p + (1 - t) log(1 - p)), each log clamped at -100 as torch does, so that p = 0
    or 1 costs 100 where the target disagrees instead of inf. Gradients as torch's:
    d/dp = (p - t) / max(p (1 - p), 1e-12), finite at p = 0 and 1 (BinaryCrossEntropyGrad),
    and d/dt = log(1 - p) - log p."""

    @staticmethod
    def forward(ctx, p, t):
        ctx.save_inputs(0, 1)
        xp = backends.get(p).xp
        above, below = p > 0, p < 1  # where log p, log(1 - p) are finite (no log(0) warning)
        log_p = xp.where(above, xp.log(xp.where(above, p, 1)), -100.0)
        log_q = xp.where(below, xp.log1p(-xp.where(below, p, 0)), -100.0)
        return (t - 1) * xp.maximum(log_q, -100.0) - t * xp.maximum(log_p, -100.0)

    @staticmethod
    def backward(ctx, g):
        p, t = ctx.saved_inputs
        need_p, need_t = ctx.needs_input_grad
        grad_p = BinaryCrossEntropyGrad.apply(g, p, t) if need_p else None
        return grad_p, (g * ((1 - p).log() - p.log()) if need_t else None)


class BinaryCrossEntropyGrad(Function):
    """g (p - t) / max(p (1 - p), FLOOR), the gradient of BinaryCrossEntropy in p. Its own
    gradient is torch's double backward: in g, the same quotient; in p,
    g (p^2 - 2 p t + t) / ((p + eps)^2 (1 - p + eps)^2); in t, -g / max(p (1 - p), eps)."""

    @staticmethod
    def forward(ctx, g, p, t):
        ctx.save_inputs(0, 1, 2)
        return g * (p - t) / backends.get(p).xp.maximum((1 - p) * p, FLOOR)

    @staticmethod
    def backward(ctx, gg):
        g, p, t = ctx.saved_inputs
        need_g, need_p, need_t = ctx.needs_input_grad
        floor = ((1 - p) * p).clamp(min=EPSILON)
        grad_g = gg * (p - t) / floor if need_g else None
        grad_p = (p * p - 2 * p * t + t) / ((p + EPSILON) ** 2 * (1 - p + EPSILON) ** 2) * (gg * g) if need_p else None
        return grad_g, grad_p, (-gg * g / floor if need_t else None)


def _check_probabilities(value, op, arg):
    a = value.array
    if a.size and not bool(((a >= 0) & (a <= 1)).all()):
        raise ValueError(f"{op}: {arg} must be probabilities in [0, 1], got values in [{float(a.min())}, "
                         f"{float(a.max())}]" + ("; use binary_cross_entropy_with_logits" if arg == "input" else ""))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(t log x + (1 - t) log(1 - x)) for probabilities x and targets t in [0, 1] (NaN
    refused, as torch); each log clamped at -100, with torch's gradients there."""
    op = "binary_cross_entropy"
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction), op)
    _same_shape(input, target, op)
    _elementwise_weight(weight, input, op)
    _check_probabilities(input, op, "input")
    _check_probabilities(target, op, "target")
    loss = BinaryCrossEntropy.apply(input, target)
    return _reduce(loss if weight is None else loss * weight, reduction, op)


def _log_sigmoid(x):
    """log sigmoid(x) = -softplus(-x), as Tensor ops."""
    return -softplus(-x, threshold=math.inf)


class BCEWithLogits(Function):
    """(1 - t) x - w log sigmoid(x), w = 1 + (pos_weight - 1) t (1 without pos_weight), with
    -log sigmoid(x) = max(-x, 0) + log(1 + e^-|x|): never exp of a large x, one fused op (the
    hot loss of VAEs and GANs). Added in torch's order, so infinite logits give torch's values:
    NaN where (1 - t) x or -x + |x| is inf - inf (x = inf with t = 1, x = -inf), inf at x = inf
    with t < 1. Gradients as torch's: d/dx = (p t + 1 - t) sigmoid(x) - p t (sigmoid(x) - t
    without pos_weight p), d/dt = log sigmoid(-x) - p log sigmoid(x) (-x without p)."""

    @staticmethod
    def forward(ctx, x, t, *pos_weight):
        ctx.save_inputs(*range(2 + len(pos_weight)))
        return backends.get(x).bce_with_logits(x, t, *pos_weight)

    @staticmethod
    def backward(ctx, g):
        x, t, *pos_weight = ctx.saved_inputs
        need = ctx.needs_input_grad
        if not pos_weight:
            return (g * (x.sigmoid() - t) if need[0] else None), (-g * x if need[1] else None)
        (p,) = pos_weight
        pt = p * t
        grad_x = g * ((pt + 1 - t) * x.sigmoid() - pt) if need[0] else None
        grad_t = g * (_log_sigmoid(-x) - _log_sigmoid(x) * p) if need[1] else None
        return grad_x, grad_t, (-g * t * _log_sigmoid(x) if need[2] else None)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid and binary cross-entropy in one stable op (BCEWithLogits); pos_weight weighs the
    positive term, broadcast along the last dim (one per class)."""
    op = "binary_cross_entropy_with_logits"
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction), op)
    _same_shape(input, target, op)
    _elementwise_weight(weight, input, op)
    _elementwise_weight(pos_weight, input, op, "pos_weight")
    loss = BCEWithLogits.apply(input, target, *([] if pos_weight is None else [pos_weight]))
    return _reduce(loss if weight is None else loss * weight, reduction, op)


def _class_weight(weight, classes, op):
    """A class weight: None or a Tensor of shape (classes,)."""
    if weight is not None and check_tensor(weight, op, "weight").shape != (classes,):
        raise ValueError(f"{op}: weight has shape {weight.shape}, expected ({classes},): one weight per "
                         f"class of input")
    return weight


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """-input[n, target[n]] (weighted); input holds log-probabilities with classes in dim 1."""
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction), "nll_loss")
    return _nll(input, target, weight, ignore_index, reduction, "nll_loss")


def _nll(input, target, weight, ignore_index, reduction, op):
    """nll_loss, with errors that name `op` (cross_entropy calls it too)."""
    check_tensor(input, op, "input")
    check_tensor(target, op, "target")
    ignore_index = integer(ignore_index, op, "ignore_index")
    labels = target.array
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {labels.dtype}")
    expected = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if input.ndim < 1 or labels.shape != expected:
        raise ValueError(f"{op}: input of shape {input.shape} needs target of shape {expected}, "
                         f"got {labels.shape}")
    classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    _class_weight(weight, classes, op)
    logp = input.unsqueeze(0) if input.ndim == 1 else input
    logp = logp.permute(0, *range(2, logp.ndim), 1).reshape(-1, classes)
    xp = input.backend.xp
    flat = labels.reshape(-1)
    keep = flat != ignore_index
    if ((flat[keep] < 0) | (flat[keep] >= classes)).any():
        raise ValueError(f"{op}: target values must be in [0, {classes}) (or ignore_index), got "
                         f"min {int(flat[keep].min())}, max {int(flat[keep].max())}")
    safe = xp.where(keep, flat, 0)
    picked = logp[xp.arange(flat.size), safe]
    w = (xp.ones(classes, dtype=input.dtype) if weight is None else weight.array)[safe] * keep
    w = Tensor._wrap(w.astype(input.dtype))
    loss = -picked * w
    if reduction == "mean":
        return loss.sum() / w.sum()
    return _reduce(loss.reshape(labels.shape), reduction, op)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax + nll over dim 1; `target` is class indices or class probabilities."""
    op = "cross_entropy"
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction), op)
    check_tensor(input, op, "input")
    check_tensor(target, op, "target")
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dim (shape (C,) or (N, C, ...)), got shape {input.shape}")
    label_smoothing = number(label_smoothing, op, "label_smoothing", 0.0, 1.0)
    class_dim = 1 if input.ndim > 1 else 0
    classes = input.shape[class_dim]
    _class_weight(weight, classes, op)
    logp = log_softmax(input, class_dim)
    if target.dtype.kind == "f":
        if target.shape != input.shape:
            raise ValueError(f"{op}: probability target has shape {target.shape} but input "
                             f"has shape {input.shape}")
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / classes
        terms = target * logp if weight is None else target * logp * _class_shaped(weight, input)
        return _reduce(-terms.sum(class_dim), reduction, op)
    loss = _nll(logp, target, weight, ignore_index, reduction, op)
    if not label_smoothing:
        return loss
    # Szegedy et al. 2016, sec. 7: mix the one-hot target with the uniform distribution
    kept = target.array != ignore_index
    smooth = -(logp if weight is None else logp * _class_shaped(weight, input)).sum(class_dim)
    smooth = smooth * Tensor._wrap(kept.astype(input.dtype))
    if reduction == "mean":
        picked = kept.sum() if weight is None else weight.array[target.array[kept]].sum()
        smooth = smooth.sum() / float(picked)
    else:
        smooth = _reduce(smooth, reduction, op)
    return (1 - label_smoothing) * loss + label_smoothing / classes * smooth


def _class_shaped(weight, input):
    return weight.reshape((1, -1) + (1,) * (input.ndim - 2)) if input.ndim > 1 else weight


class XLogX(Function):
    """t log t, 0 at t = 0: torch's xlogy(t, t). Its gradient is torch's, the sum of xlogy's
    two: log t where t != 0 (else 0), plus t / t, so NaN at t = 0 as torch's."""

    @staticmethod
    def forward(ctx, t):
        ctx.save_inputs(0)
        xp = backends.get(t).xp
        zero = t == 0
        return xp.where(zero, 0, t * xp.log(xp.where(zero, 1, t))).astype(t.dtype)

    @staticmethod
    def backward(ctx, g):
        (t,) = ctx.saved_inputs
        nonzero = t.array != 0
        safe = t + Tensor._wrap((~nonzero).astype(t.dtype))  # log of 1 where t = 0: no log(0) warning
        return (g * (where(nonzero, safe.log(), 0.0) + t / t),)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target log target - target input (torch's xlogy(target, target) - target input; with
    log_target, e^target (target - input)): input holds log-probabilities.
    reduction='batchmean' divides by the batch size, the mathematically correct KL."""
    op = "kl_div"
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction), op, REDUCTIONS + ("batchmean",))
    _same_shape(input, target, op)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = XLogX.apply(target) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction, op)
