"""Dropout (Srivastava et al. 2014): zero each element with probability p, scale the rest
by 1 / (1 - p) so the expectation is unchanged."""
from ..arguments import number
from ..random import default_generator
from ._util import check_tensor
from .unary import _scaled


def dropout(input, p=0.5, training=True, generator=None):
    check_tensor(input, "dropout", "input", "f")
    number(p, "dropout", "p", 0, 1, what="a probability")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    keep = (generator or default_generator).uniform(input.shape, input.dtype, input.device) >= p
    return _scaled(input, keep / (1 - p))
