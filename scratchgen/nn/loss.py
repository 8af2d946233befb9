"""PyTorch's loss modules, one for each loss of scratchgen.functional, with torch's constructor
arguments, defaults, repr (the bare name, `BCELoss()`) and state dict (a class `weight` or a
`pos_weight` is a buffer); and CosineSimilarity (torch keeps it in torch.nn's distance.py).

    criterion = nn.BCELoss()
    loss = criterion(D(images), sg.ones(64))

The deprecated size_average and reduce are accepted and mapped to `reduction` with torch's
warning. Unlike torch, which meets a bad argument at the first call, the constructor refuses
an unknown `reduction`, a weight that is not a Tensor, a negative beta or a delta <= 0,
naming the module (tests/test_nn_loss.py pins it).
"""
import warnings

from .. import Tensor
from .. import functional as F
from ..arguments import integer, number
from .module import Module

REDUCTIONS = ("mean", "sum", "none")


def _reduction(name, size_average, reduce, reduction, allowed=REDUCTIONS):
    """torch's _Reduction.legacy_get_string: size_average and reduce (None counts as True),
    when either is given, decide: both -> 'mean', reduce alone -> 'sum', reduce=False -> 'none'."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                      "instead.", UserWarning, stacklevel=3)
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(f"{name}: reduction must be one of {allowed}, got {reduction!r}")
    return reduction


class _Loss(Module):
    """A loss: `reduction` ('mean' | 'sum' | 'none'), or torch's size_average / reduce."""
    reductions = REDUCTIONS

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = _reduction(type(self).__name__, size_average, reduce, reduction, self.reductions)


class _WeightedLoss(_Loss):
    """A loss with a `weight` buffer (None, or a Tensor: a weight per element or per class)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _buffer(type(self).__name__, "weight", weight))


def _buffer(name, arg, value):
    if value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{name}: {arg} must be a Tensor or None, got {type(value).__name__}")
    return value


class L1Loss(_Loss):
    """mean |input - target| (F.l1_loss)."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """mean (input - target)^2 (F.mse_loss)."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Smooth L1 (Girshick 2015): quadratic within beta, linear beyond (F.smooth_l1_loss)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = number(beta, "SmoothL1Loss", "beta", 0.0)

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber 1964: quadratic within delta, linear beyond (F.huber_loss)."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = number(delta, "HuberLoss", "delta")
        if self.delta <= 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta!r}")

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (F.binary_cross_entropy): each log clamped at
    -100, so a sigmoid saturated at 0 or 1 keeps a finite loss and gradient."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy in one stable op (F.binary_cross_entropy_with_logits);
    weight and pos_weight are buffers."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _buffer("BCEWithLogitsLoss", "weight", weight))
        self.register_buffer("pos_weight", _buffer("BCEWithLogitsLoss", "pos_weight", pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class NLLLoss(_WeightedLoss):
    """-input[n, target[n]] for log-probabilities with classes in dim 1 (F.nll_loss)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = integer(ignore_index, "NLLLoss", "ignore_index")

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """log_softmax and NLL over dim 1, with class indices or class probabilities as target,
    and label smoothing (F.cross_entropy)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = integer(ignore_index, "CrossEntropyLoss", "ignore_index")
        self.label_smoothing = number(label_smoothing, "CrossEntropyLoss", "label_smoothing", 0.0, 1.0)

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class KLDivLoss(_Loss):
    """KL divergence of target from input's log-probabilities (F.kl_div); 'batchmean' divides
    by the batch size, the KL as it is defined."""
    reductions = REDUCTIONS + ("batchmean",)

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class GaussianNLLLoss(_Loss):
    """Negative log-likelihood of target under N(input, var) (F.gaussian_nll_loss)."""

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full, self.eps = full, number(eps, "GaussianNLLLoss", "eps")

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class CosineSimilarity(Module):
    """Cosine similarity of x1 and x2 along dim (F.cosine_similarity)."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = integer(dim, "CosineSimilarity", "dim"), number(eps, "CosineSimilarity", "eps")

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
