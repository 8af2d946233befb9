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


def view_strides(shape, strides, new_shape):
    """The strides under which memory laid out as (shape, strides) reads as new_shape, or None
    where no strides do and a reshape must copy (NumPy's rule: new dims that split or merge a
    group of old dims need that group contiguous). Sizes of 1 take stride 0."""
    old = [(n, s) for n, s in zip(shape, strides) if n != 1]
    wanted = [n for n in new_shape if n != 1]
    new, i, j = [], 0, 0
    while j < len(wanted):
        ii, jj, old_size, new_size = i + 1, j + 1, old[i][0], wanted[j]
        while old_size != new_size:  # the shortest groups of old and new dims with one size
            if new_size < old_size:
                new_size, jj = new_size * wanted[jj], jj + 1
            else:
                old_size, ii = old_size * old[ii][0], ii + 1
        if any(old[k][1] != old[k + 1][1] * old[k + 1][0] for k in range(i, ii - 1)):
            return None
        stride, group = old[ii - 1][1], []
        for n in reversed(wanted[j:jj]):
            group.insert(0, stride)
            stride *= n
        new += group
        i, j = ii, jj
    steps = iter(new)
    return tuple(0 if n == 1 else next(steps) for n in new_shape)


def copy_in_layout_of(x, like, xp):
    """x's values in a new array of the array module `xp`, stored in the memory order of
    `like` (same shape)."""
    out = xp.empty_like(like, dtype=x.dtype)  # order 'K': like's strides
    out[...] = x
    return out
