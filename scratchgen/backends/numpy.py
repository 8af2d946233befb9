"""The NumPy backend: array-level kernels that are more than a one-line `xp` call."""
import numpy as xp

name = "cpu"


def logsumexp(x, axis, keepdims):
    """log(sum(exp(x))) along `axis`, shifted by the max so that exp cannot overflow."""
    m = x.max(axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    out = xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else out.squeeze(axis)


def softmax(x, axis):
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(x, axis):
    return x - logsumexp(x, axis, keepdims=True)


def owned(array):
    """`array` itself if it owns writable contiguous memory, else a copy (so a stored
    `.grad` never aliases a broadcast view or another tensor's data)."""
    if array.flags.owndata and array.flags.writeable and array.flags.c_contiguous:
        return array
    return xp.array(array, copy=True)


def to_host(array):
    return array


def from_host(array):
    return array


def sigmoid(x):
    """1 / (1 + e^-x) without overflow for large |x|."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
