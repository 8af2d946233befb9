"""Array kernels of the normalisation ops (scratchgen/ops/normalization.py): mean and variance
over some dims, the per-channel affine map, and the sums of its backward.

Each is a few NumPy passes over the data, written so that they run fast on the CPU:
- along memory: the arrays are transposed into their memory order first (layout.py), so a
  batch-last convolution output is read as contiguously as a C-ordered one;
- in long loops: a coefficient broadcast along a short run of the data (one channel's 7 x 7
  pixels) is made dense along it (`_dense`), so NumPy's inner loops run along whole rows;
- on every core: the kept dims (channels, for batch norm) are independent of each other, so
  the data is cut along the first kept dim into one part per thread (threads.py), and each
  thread computes its part's results into one output. A GPU array is one part.
The same functions serve CuPy arrays, in one part: each backend binds them to its array
module `xp` (numpy.py, cuda.py).
"""
import math

import numpy

from . import threads
from .layout import memory_order, unpermuted

LONG_LOOP = 1024  # elements: NumPy's per-loop overhead is small beside a loop this long


def _reduced_axes(shape, kept_shape):
    """The axes of `shape` that `kept_shape` (same length, 1 there) broadcasts along."""
    return tuple(i for i, (n, k) in enumerate(zip(shape, kept_shape)) if k == 1 and n != 1)


def _contract(arrays, kept_shape, xp):
    """Sum over the axes that kept_shape broadcasts along of the product of `arrays`."""
    ndim = arrays[0].ndim
    operands = []
    for a in arrays:
        operands += [a, list(range(ndim))]
    reduced = _reduced_axes(arrays[0].shape, kept_shape)
    kept = [i for i in range(ndim) if i not in reduced]
    return xp.einsum(*operands, kept).reshape(kept_shape)


def _dense(coefficient, x, xp):
    """`coefficient` (broadcast along some dims of C-ordered x) made dense over the dims after
    its first non-broadcast one when the run of x it repeats over is short. A long run, as in
    the batch-last order, is a long loop already (NumPy merges the contiguous trailing dims)."""
    kept = [i for i, n in enumerate(coefficient.shape) if n != 1]
    if not x.flags.c_contiguous or not kept or not 1 < math.prod(x.shape[kept[-1] + 1:]) < LONG_LOOP:
        return coefficient
    return xp.ascontiguousarray(xp.broadcast_to(coefficient, coefficient.shape[:kept[0]] + x.shape[kept[0]:]))


def _split_along_first_kept_dim(work, x, kept_shape):
    """Call work(part) for one index `part` per thread that cuts x, and arrays of kept_shape
    (1 along the reduced dims), along the first kept dim: parts never share a reduction."""
    axis = next((i for i, n in enumerate(kept_shape) if n != 1), None)
    if axis is None or not isinstance(x, numpy.ndarray) or threads.parts(x.shape[axis], x.size) == 1:
        work(Ellipsis)
        return
    threads.run_in_parts(lambda start, stop: work((slice(None),) * axis + (slice(start, stop),)),
                         x.shape[axis], x.size)


def affine(arrays, coefficients, *, xp):
    """arrays[0] * c[0] + ... + arrays[k-1] * c[k-1] (+ c[k]), c = coefficients broadcast
    along the reduced dims; the result is in the first array's memory order."""
    order = memory_order(arrays[0])
    arrays = [a.transpose(order) for a in arrays]
    dense = [_dense(c.transpose(order), arrays[0], xp) for c in coefficients]
    out = xp.empty_like(arrays[0])

    def work(part):
        xp.multiply(arrays[0][part], dense[0][part], out=out[part])
        if len(arrays) > 1:
            scratch = xp.empty_like(out[part])
            for a, c in zip(arrays[1:], dense[1:]):
                out[part] += xp.multiply(a[part], c[part], out=scratch)
        if len(dense) > len(arrays):
            out[part] += dense[-1][part]
    _split_along_first_kept_dim(work, arrays[0], dense[0].shape)
    return unpermuted(out, order)


def moments(x, dims, *, xp):
    """Stacked (mean, biased variance) of x over `dims`, shape (2,) + x's shape with 1 at
    `dims`; the variance is the mean of (x - mean)^2 (two passes, no cancellation)."""
    count = math.prod(x.shape[d] for d in dims)
    order = memory_order(x)
    x = x.transpose(order)
    stats = xp.empty((2,) + tuple(1 if d in dims else x.shape[i] for i, d in enumerate(order)), dtype=x.dtype)

    def mean(part):
        stats[0][part] = _contract((x[part],), stats[0][part].shape, xp) / count
    _split_along_first_kept_dim(mean, x, stats.shape[1:])
    dense_mean = _dense(stats[0], x, xp)

    def variance(part):
        centred = x[part] - dense_mean[part]
        stats[1][part] = _contract((centred, centred), stats[1][part].shape, xp) / count
    _split_along_first_kept_dim(variance, x, stats.shape[1:])
    return xp.stack([unpermuted(s, order) for s in stats])


def sums(g, tensors, shape, *, xp):
    """[sum of g * t_1, ..., sum of g * t_k, sum of g] over the dims where `shape` is 1,
    stacked (einsum: no temporary product)."""
    order = memory_order(tensors[0])
    g, tensors = g.transpose(order), [t.transpose(order) for t in tensors]
    out = xp.empty((len(tensors) + 1,) + tuple(shape[d] for d in order), dtype=g.dtype)

    def work(part):
        for i, t in enumerate(tensors):
            out[i][part] = _contract((g[part], t[part]), out[i][part].shape, xp)
        out[-1][part] = _contract((g[part],), out[-1][part].shape, xp)
    _split_along_first_kept_dim(work, tensors[0], out.shape[1:])
    return xp.stack([unpermuted(s, order) for s in out])


def coefficients(stats, weight, bias, eps, *, xp):
    """[scale, shift] = [weight / sqrt(var + eps), bias - mean * scale] from stats = [mean, var]."""
    scale = weight / xp.sqrt(stats[1] + eps)
    return xp.stack([scale, bias - stats[0] * scale])
