"""Array kernels for convolution and pooling on NumPy: im2col / col2im and a row scatter-add.

Column layout. `im2col` turns an image batch x of shape (N, C, H, W) into a matrix with one
row per (channel c, kernel row i, kernel column j) and one column per (output row oh, output
column ow, sample n):

    cols[(c, i, j), (oh, ow, n)] = x_padded[n, c, oh * sh + i * dh, ow * sw + j * dw]

so a convolution is one GEMM, weight (O, C*kh*kw) @ cols. The sample index is the fastest
one, and the image is first copied into the same order (C, H, W, N): then the block that one
kernel offset contributes is a run of Wo * N contiguous numbers on both sides of the copy.

Direct strided copies. Kernel offset (i, j) reads rows oh * sh + i * dh - top: a strided
window of the (C, H, W, N) image whose innermost run is a whole sample vector (N numbers,
256 bytes at batch 64), so one strided copy per kernel offset moves every cache line it
touches in full, with no padded copy of the image; the output positions whose window falls
in the padding are zeroed instead. The copies (and col2im's adds) are cut into one part per
core, by channels, or by samples when there are fewer channels than cores (threads.py).

`col2im` is the adjoint of `im2col`: it adds each column back where `im2col` read it, with one
strided add per kernel offset (never `np.add.at`). It returns the image as a (N, C, H, W) view
of a (C, H, W, N) array, the "batch-last" memory order, which the next `im2col` reads fastest;
NumPy's elementwise ops keep that order, so chained layers pass it along without copies.

The CUDA backend implements the same functions with the same arguments.
"""
import ctypes
import math

import numpy as xp

from . import threads


def _keep_freed_memory_mapped():
    """glibc hands large freed blocks back to the OS, so the next array of that size takes a
    page fault on each of its 4 KiB pages: about 5 ms of a DCGAN conv2d step goes to that with
    12.8 MB columns. Keeping blocks of up to 32 MiB in the heap (M_MMAP_THRESHOLD, and
    M_TRIM_THRESHOLD so the heap is not trimmed) lets them be reused. No-op off glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
    libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD


_keep_freed_memory_mapped()


def _axis_windows(size, grid, kernel, stride, padding, dilation):
    """Per kernel offset k along one axis: (outputs, inputs) as slices, the outputs o in
    range(grid) whose input o * stride + k * dilation - padding[0] lies inside [0, size), and
    those inputs (every stride-th one from the first)."""
    def ceil_div(a, b):
        return -(-a // b)
    windows = []
    for k in range(kernel):
        shift = k * dilation - padding[0]
        first, stop = max(0, ceil_div(-shift, stride)), min(grid, ceil_div(size - shift, stride))
        if stop <= first:
            windows.append((slice(0, 0), slice(0, 0)))
            continue
        start = first * stride + shift
        windows.append((slice(first, stop), slice(start, start + (stop - first - 1) * stride + 1, stride)))
    return windows


def _windows(image_size, kernel_size, stride, padding, dilation, grid):
    """For each kernel offset (i, j): ((i, j), (output rows, output columns), (input rows,
    input columns)), the part of the output grid that reads inside the image, and where."""
    rows, cols = (_axis_windows(image_size[d], grid[d], kernel_size[d], stride[d], padding[d], dilation[d])
                  for d in range(2))
    return [((i, j), (out_rows, out_cols), (in_rows, in_cols))
            for i, (out_rows, in_rows) in enumerate(rows) for j, (out_cols, in_cols) in enumerate(cols)]


def _batch_last(x):
    """x (N, C, H, W) as a C-contiguous (C, H, W, N) array: a view when x is stored that way."""
    image = x.transpose(1, 2, 3, 0)
    return image if image.flags.c_contiguous else xp.ascontiguousarray(image)


def _in_parts(work, channels, batch, elements):
    """Run work(channel slice, sample slice) on one part of the image per thread: a range of
    channels (contiguous in batch-last order), or of samples when there are too few channels."""
    if channels >= threads.get_num_threads():
        threads.run_in_parts(lambda start, stop: work(slice(start, stop), slice(None)), channels, elements)
    else:
        threads.run_in_parts(lambda start, stop: work(slice(None), slice(start, stop)), batch, elements)


def _zero_outside(block, rows, cols):
    """Zero block[:, r, c] (a (C, Ho, Wo, N) block) outside rows x cols: the padding."""
    block[:, :rows.start] = 0
    block[:, rows.stop:] = 0
    block[:, rows, :cols.start] = 0
    block[:, rows, cols.stop:] = 0


def im2col(x, kernel_size, stride, padding, dilation, grid):
    """x (N, C, H, W) -> columns (C * kh * kw, Ho * Wo * N) for the output grid (Ho, Wo).

    kernel_size, stride, dilation and grid are pairs (rows, columns); padding is
    ((top, bottom), (left, right)). `grid` may be smaller than the grid the padding allows
    (conv_transpose with output_padding uses that); the extra positions are not read."""
    n, c = x.shape[:2]
    image = _batch_last(x)
    (kh, kw), (ho, wo) = kernel_size, grid
    out = xp.empty((c, kh, kw, ho, wo, n), dtype=x.dtype)
    windows = _windows(x.shape[2:], kernel_size, stride, padding, dilation, grid)

    def copy(channels, samples):
        for (i, j), (out_rows, out_cols), (in_rows, in_cols) in windows:
            block = out[channels, i, j, :, :, samples]
            block[:, out_rows, out_cols] = image[channels, in_rows, in_cols, samples]
            _zero_outside(block, out_rows, out_cols)
    _in_parts(copy, c, n, out.size)
    return out.reshape(c * kh * kw, ho * wo * n)


def col2im(cols, image_shape, kernel_size, stride, padding, dilation, grid):
    """The adjoint of im2col: columns (C * kh * kw, Ho * Wo * N) -> image (N, C, H, W), each
    entry the sum of the columns that read it. The result is a view in (C, H, W, N) order."""
    n, c, h, w = image_shape
    (kh, kw), (ho, wo) = kernel_size, grid
    blocks = cols.reshape(c, kh, kw, ho, wo, n)
    image = xp.empty((c, h, w, n), dtype=cols.dtype)
    windows = _windows((h, w), kernel_size, stride, padding, dilation, grid)

    def add(channels, samples):
        part = image[channels, :, :, samples]
        part.fill(0)
        for (i, j), (out_rows, out_cols), (in_rows, in_cols) in windows:
            target = part[:, in_rows, in_cols]
            xp.add(target, blocks[channels, i, j, out_rows, out_cols, samples], out=target)
    _in_parts(add, c, n, cols.size)
    return image.transpose(3, 0, 1, 2)


def scatter_add_rows(values, indices, num_rows):
    """out[k] = sum of values[m] over the m with indices[m] == k, for out of num_rows rows:
    the adjoint of the row gather values = table[indices]. Sorting groups equal indices so
    that one `add.reduceat` sums each group (no `add.at`)."""
    flat_indices = indices.reshape(-1)
    rows = values.reshape(flat_indices.size, math.prod(values.shape[indices.ndim:]))
    out = xp.zeros((num_rows, rows.shape[1]), dtype=values.dtype)
    if flat_indices.size:
        order = xp.argsort(flat_indices, kind="stable")
        sorted_indices = flat_indices[order]
        starts = xp.flatnonzero(xp.r_[True, sorted_indices[1:] != sorted_indices[:-1]])
        out[sorted_indices[starts]] = xp.add.reduceat(rows[order], starts, axis=0)
    return out.reshape((num_rows,) + values.shape[indices.ndim:])
