"""Dropout2d layer: drops whole channels while training (Tompson et al. 2015)."""
from .. import functional as F
from .dropout import Dropout


class Dropout2d(Dropout):
    """Zero each channel of each sample with probability p and scale the rest by 1 / (1 - p)
    while training; the identity in eval()."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training)
