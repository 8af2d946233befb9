"""Dropout layer (Srivastava et al. 2014): active in train(), the identity in eval()."""
from .. import functional as F
from ..arguments import number
from .module import Module


class Dropout(Module):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) while training.

    `inplace` is accepted for PyTorch compatibility and shown in the repr; scratchgen always
    computes out of place, which gives the same output."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        name = type(self).__name__
        if not 0 <= number(p, name, "p", what="a dropout probability") <= 1:
            raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p} (argument p)")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
