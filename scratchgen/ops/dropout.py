"""Dropout (Srivastava et al. 2014): zero each element with probability p, scale the rest
by 1 / (1 - p) so the expectation is unchanged."""
from ..random import default_generator
from ._util import check_tensor
from .unary import _scaled


def dropout(input, p=0.5, training=True, generator=None):
    check_tensor(input, "dropout", "input")
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    keep = (generator or default_generator).uniform(input.shape, input.dtype, input.device) >= p
    return _scaled(input, keep / (1 - p))
