"""The largest or smallest element along one axis with its index and the one-hot weights of its
gradient (ops/reduction.py's max and min along a dim), as array-library expressions: the NumPy
backend's, and the CUDA backend's for dtypes that kernels/reduce.cu's extreme_rows does not take."""


def extreme_along(x, axis, largest, *, xp):
    """(values, indices, weights) along `axis`, the axis kept with size 1 in values and indices:
    the first of the ties, and a nan before any number (torch.max and torch.min); weights is 1
    at the index and 0 elsewhere, in x's shape and dtype."""
    index = (x.argmax if largest else x.argmin)(axis=axis, keepdims=True)
    positions = xp.arange(x.shape[axis]).reshape([-1 if i == axis else 1 for i in range(x.ndim)])
    return xp.take_along_axis(x, index, axis=axis), index, (positions == index).astype(x.dtype)
