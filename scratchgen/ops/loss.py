"""Loss functions, written as formulas over differentiable ops (so every one of them is
differentiable twice with no code of its own), except BCE with logits, the hot loss of VAEs
and GANs, which is one fused op with its backward beside it. Names and arguments as
torch.nn.functional."""
import math

from .. import backends
from ..arguments import integer, number
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import check_broadcasts_to, check_tensor, operand, same_device
from .reduction import log_softmax
from .unary import softplus

REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction, op, allowed=REDUCTIONS):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")


def _same_shape(input, target, op):
    check_tensor(input, op, "input")
    check_tensor(target, op, "target")
    same_device(op, input=input, target=target)
    if input.shape != target.shape:
        raise ValueError(f"{op}: input has shape {input.shape} but target has shape {target.shape}")


def _elementwise_weight(weight, input, op, arg="weight"):
    """A weight (or pos_weight) Tensor that broadcasts to input's shape, or None."""
    if weight is not None:
        check_broadcasts_to(check_tensor(weight, op, arg), input.shape, op, arg)
    return weight


def _class_weight(weight, classes, op):
    """A class weight: None or a Tensor of shape (classes,)."""
    if weight is not None and check_tensor(weight, op, "weight").shape != (classes,):
        raise ValueError(f"{op}: weight has shape {weight.shape}, expected ({classes},): one weight per "
                         f"class of input")
    return weight


def mse_loss(input, target, reduction="mean"):
    _same_shape(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-(t log x + (1 - t) log(1 - x)); each log clamped at -100 as torch does."""
    _same_shape(input, target, "binary_cross_entropy")
    _elementwise_weight(weight, input, "binary_cross_entropy")
    x = input.array
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"binary_cross_entropy: input must be probabilities in [0, 1], got values "
                         f"in [{float(x.min())}, {float(x.max())}]; use binary_cross_entropy_with_logits")
    loss = -(target * input.log().clamp(min=-100) + (1 - target) * (1 - input).log().clamp(min=-100))
    return _reduce(loss if weight is None else loss * weight, reduction, "binary_cross_entropy")


class BCEWithLogits(Function):
    """(1 - t) x + softplus(-x) = max(x, 0) - t x + log(1 + e^-|x|), fused into one op (it is
    the hot loss of VAEs and GANs); d/dx = sigmoid(x) - t, d/dt = -x."""

    @staticmethod
    def forward(ctx, x, t):
        ctx.save_inputs(0, 1)
        xp = backends.get(x).xp
        loss = xp.log1p(xp.exp(-xp.abs(x)))
        loss += xp.maximum(x, 0)
        loss -= t * x
        return loss

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_inputs
        need_x, need_t = ctx.needs_input_grad
        return (g * (x.sigmoid() - t) if need_x else None), (-g * x if need_t else None)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Stable sigmoid + BCE: (1 - t) x + (1 + (p - 1) t) softplus(-x), never exp of a large x."""
    op = "binary_cross_entropy_with_logits"
    _same_shape(input, target, op)
    _elementwise_weight(weight, input, op)
    _elementwise_weight(pos_weight, input, op, "pos_weight")
    if pos_weight is None:
        loss = BCEWithLogits.apply(input, target)
    else:
        log_term = (1 + (pos_weight - 1) * target) * softplus(-input, threshold=math.inf)  # -log sigmoid(x)
        loss = (1 - target) * input + log_term
    return _reduce(loss if weight is None else loss * weight, reduction,
                   "binary_cross_entropy_with_logits")


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-input[n, target[n]] (weighted); input holds log-probabilities with classes in dim 1."""
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


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """log_softmax + nll over dim 1; `target` is class indices or class probabilities."""
    op = "cross_entropy"
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
            raise ValueError(f"cross_entropy: probability target has shape {target.shape} but input "
                             f"has shape {input.shape}")
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / classes
        terms = target * logp if weight is None else target * logp * _class_shaped(weight, input)
        return _reduce(-terms.sum(class_dim), reduction, "cross_entropy")
    loss = _nll(logp, target, weight, ignore_index, reduction, "cross_entropy")
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
        smooth = _reduce(smooth, reduction, "cross_entropy")
    return (1 - label_smoothing) * loss + label_smoothing / classes * smooth


def _class_shaped(weight, input):
    return weight.reshape((1, -1) + (1,) * (input.ndim - 2)) if input.ndim > 1 else weight


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (x - mu)^2 / var) [+ 0.5 log 2 pi]; var clamped at eps in value only."""
    _same_shape(input, target, "gaussian_nll_loss")
    number(eps, "gaussian_nll_loss", "eps")
    var = _gaussian_var(var, input)
    var = var + (var.clamp(min=eps) - var).detach()
    diff = input - target
    loss = 0.5 * (var.log() + diff * diff / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


def _gaussian_var(var, input):
    """var in a shape that broadcasts against input, as torch accepts it: a float, input's shape,
    input's shape without its last dim, or input's shape with one dim of size 1 (shared var)."""
    if not isinstance(var, Tensor):
        var = operand(var, input, "gaussian_nll_loss", "var").expand(input.shape)
    if var.array.size and var.array.min() < 0:
        raise ValueError("gaussian_nll_loss: var has negative entries")
    if var.shape == input.shape:
        return var
    if var.shape == input.shape[:-1]:
        return var.unsqueeze(-1)
    if var.ndim != input.ndim or [v for n, v in zip(input.shape, var.shape) if n != v] != [1]:
        raise ValueError(f"gaussian_nll_loss: var has shape {var.shape}; expected input's shape "
                         f"{input.shape}, {input.shape[:-1]}, or {input.shape} with one dim of size 1")
    return var


def kl_div(input, target, reduction="mean", log_target=False):
    """sum target (log target - input): input holds log-probabilities (torch.nn.functional.kl_div).
    reduction='batchmean' divides by the batch size, the mathematically correct KL."""
    _same_shape(input, target, "kl_div")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # target log target is 0 where target is 0: take the log of 1 there instead
        zero = Tensor._wrap((target.array <= 0).astype(target.dtype))
        loss = target * ((target + zero).log() - input)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction, "kl_div", REDUCTIONS + ("batchmean",))

