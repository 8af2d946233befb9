"""The array work of the gradient of a gather along one axis (ops/indexing.py: gather, sort,
topk): adding values back into the positions they were read from, as torch.scatter_add does.

It is written once for NumPy and CuPy (`xp`): the flat position of every value in the output
is computed with array arithmetic, and the adding is the backend's one scatter-add kernel,
`scatter_add_rows` (im2col.py on the CPU, kernels/scatter_add.cu on a GPU), on rows of width
one. No Python loop runs over the elements; the one loop below runs over the dims.
"""
import math


def scatter_add_along(values, index, axis, shape, add_rows, xp):
    """zeros(shape) plus, for every position p of `index`, values[p] added at p with its
    coordinate along `axis` replaced by index[p]: for axis 1,
    out[i][index[i][j][k]][k] += values[i][j][k]. `values` has index's shape, whose sides are
    no larger than shape's off `axis`; the index values lie in [0, shape[axis])."""
    strides = [math.prod(shape[d + 1:]) for d in range(len(shape))]
    positions = index.astype(xp.int64) * strides[axis]
    for d, n in enumerate(index.shape):
        if d != axis:
            positions = positions + xp.arange(n).reshape((-1,) + (1,) * (index.ndim - d - 1)) * strides[d]
    flat = add_rows(values.reshape(-1), positions.reshape(-1), math.prod(shape))
    return flat.reshape(shape)
