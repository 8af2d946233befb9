"""The losses' fused elementwise parts as array-library expressions: the NumPy backend's, and
the CUDA backend's for the dtypes and layouts that kernels/losses.cu does not take. The
formulas are the kernels'."""


def bce_with_logits(x, t, pos_weight=None, *, xp):
    """(1 - t) x - w log sigmoid(x) per element, w = 1 + (pos_weight - 1) t (1 without
    pos_weight), with -log sigmoid(x) = max(-x, 0) + log(1 + e^-|x|), added in torch's order."""
    minus_log_sigmoid = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
    if pos_weight is not None:
        minus_log_sigmoid *= (pos_weight - 1) * t + 1
    loss = (1 - t) * x
    loss += minus_log_sigmoid
    return loss
