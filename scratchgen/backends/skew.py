"""The skew and unskew of ops/skew.py (the Diagonal BiLSTM's, van den Oord et al. 2016, Sec. 3.2)
as array-library index expressions: the NumPy backend's, and the CUDA backend's for the dtypes
that kernels/elementwise.cu's strided copy does not take.

    skew:   (N, C, H, W) -> (N, C, H, W + H - 1),  out[:, :, i, i + j] = x[:, :, i, j], zeros elsewhere
    unskew: (N, C, H, W + H - 1) -> (N, C, H, W),  out[:, :, i, j] = y[:, :, i, i + j]
"""


def _diagonal_index(xp, height, width):
    """(rows (H, 1), columns (H, W)): row i's pixel j sits at column i + j of the skewed map."""
    rows = xp.arange(height).reshape(height, 1)
    return rows, rows + xp.arange(width).reshape(1, width)


def skew(x, *, xp):
    n, c, height, width = x.shape
    out = xp.zeros((n, c, height, width + height - 1), dtype=x.dtype)
    out[(Ellipsis, *_diagonal_index(xp, height, width))] = x
    return out


def unskew(y, *, xp):
    height = y.shape[2]
    return y[(Ellipsis, *_diagonal_index(xp, height, y.shape[3] - height + 1))]
