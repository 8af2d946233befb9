"""Memory layouts: which order an array's elements lie in, and the "batch-last" order.

A convolution here is one GEMM over im2col's columns, which run over (output row, output
column, sample) with the sample fastest (im2col.py). Its output is therefore stored in
(C, H, W, N) order, and handed on as a (N, C, H, W) view of that: the "batch-last" order.
NumPy's elementwise ops keep an input's order, so the layers after a convolution pass it
along without copies, and the next im2col reads it fastest. Code that reads two arrays in
one pass (batch norm's statistics and affine map, a gradient against its input) reads them
along memory with the helpers below; nothing else in the library needs to know the order.
"""


def memory_order(x):
    """x's dims from the largest stride to the smallest: x.transpose(order) is C-contiguous
    when x is dense, whatever order it is stored in."""
    return tuple(sorted(range(x.ndim), key=lambda d: -x.strides[d]))


def unpermuted(array, order):
    """Undo array.transpose(order)."""
    return array.transpose(sorted(range(len(order)), key=order.__getitem__))


def same_layout(a, b):
    """Whether two arrays of one shape lie in memory alike."""
    return a.strides == b.strides


def copy_in_layout_of(x, like, xp):
    """x's values in a new array of the array module `xp`, stored in the memory order of
    `like` (same shape)."""
    out = xp.empty_like(like, dtype=x.dtype)  # order 'K': like's strides
    out[...] = x
    return out
