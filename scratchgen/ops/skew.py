"""The skew of the Diagonal LSTM (van den Oord, Kalchbrenner & Kavukcuoglu 2016, Pixel Recurrent
Neural Networks, Sec. 3.2, Figure 3): each row of an image map shifted right by its index, so that
the diagonals of the image become the columns of the skewed map and one column-by-column pass
of a recurrence sweeps the image diagonal by diagonal.

    skew:   (N, C, H, W) -> (N, C, H, W + H - 1),  out[:, :, i, i + j] = x[:, :, i, j], zeros elsewhere
    unskew: (N, C, H, W + H - 1) -> (N, C, H, W),  out[:, :, i, j] = y[:, :, i, i + j]

unskew(skew(x)) = x. Each is the other's adjoint (the gradient of skew is the unskew of the
gradient, and the other way round), so each backward is the other op and double backward works.
The array work is the backend's: index arrays on NumPy (backends/skew.py), and one strided copy
on device "cuda" (row i of the skewed map read or written with a row stride of W + H).
"""
from .. import backends
from ..autograd.function import Function
from ._util import check_tensor


class Skew(Function):
    """(N, C, H, W) -> (N, C, H, W + H - 1), row i shifted right by i (Sec. 3.2, Figure 3)."""

    @staticmethod
    def forward(ctx, x):
        return backends.get(x).skew(x)

    @staticmethod
    def backward(ctx, g):
        return (Unskew.apply(g),)


class Unskew(Function):
    """(N, C, H, W + H - 1) -> (N, C, H, W): row i's columns i .. i + W - 1."""

    @staticmethod
    def forward(ctx, y):
        return backends.get(y).unskew(y)

    @staticmethod
    def backward(ctx, g):
        return (Skew.apply(g),)


def skew(input):
    """The Diagonal LSTM's skew (van den Oord et al. 2016, Sec. 3.2): (N, C, H, W) -> (N, C, H,
    W + H - 1), row i shifted right by i positions, zeros where no pixel lands. unskew inverts it."""
    check_tensor(input, "skew", "input")
    if input.ndim != 4:
        raise ValueError(f"skew: input must have 4 dims (N, C, H, W), got shape {tuple(input.shape)}")
    if input.shape[2] < 1 or input.shape[3] < 1:
        raise ValueError(f"skew: input must have at least one row and one column, got shape {tuple(input.shape)}")
    return Skew.apply(input)


def unskew(input):
    """The inverse of skew: (N, C, H, W + H - 1) -> (N, C, H, W), row i's columns i .. i + W - 1."""
    check_tensor(input, "unskew", "input")
    if input.ndim != 4:
        raise ValueError(f"unskew: input must have 4 dims (N, C, H, W + H - 1), got shape {tuple(input.shape)}")
    height, width = input.shape[2:]
    if height < 1 or width < height:
        raise ValueError(f"unskew: input must be a skewed map (N, C, H, W + H - 1) with W >= 1, so at least as "
                         f"wide as it is high, got shape {tuple(input.shape)}")
    return Unskew.apply(input)
