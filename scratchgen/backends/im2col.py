"""Array kernels for convolution and pooling on NumPy: im2col / col2im and a row scatter-add.

Column layout. `im2col` turns an image batch x of shape (N, C, H, W) into a matrix with one
row per (channel c, kernel row i, kernel column j) and one column per (output row oh, output
column ow, sample n):

    cols[(c, i, j), (oh, ow, n)] = x_padded[n, c, oh * sh + i * dh, ow * sw + j * dw]

so a convolution is one GEMM, weight (O, C*kh*kw) @ cols. The sample index is the fastest
one, and the image is first copied into the same order (C, H, W, N): then the block that one
kernel offset contributes is a run of Wo * N contiguous numbers on both sides of the copy.

Strides by phases. Padded row r = oh * sh + i * dh lies in phase a = (i * dh) % sh, at row
oh + (i * dh) // sh of the phase image x_padded[a::sh]. Split into its sh * sw phases, the
image is read by every kernel offset as a contiguous window, whatever the stride and the
dilation; the phases are built once (a copy of the input's size, not the columns' size).

`col2im` is the adjoint of `im2col`: it adds each column back where `im2col` read it, with one
strided add per kernel offset (never `np.add.at`). It returns the image as a (N, C, H, W) view
of a (C, H, W, N) array, the "batch-last" memory order, which the next `im2col` reads fastest;
NumPy's elementwise ops keep that order, so chained layers pass it along without copies.

The CUDA backend implements the same functions with the same arguments.
"""
import ctypes
import math

import numpy as xp


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


class _Axis:
    """Where each kernel offset reads along one spatial axis, in the phase images."""

    def __init__(self, size, grid, kernel, stride, padding, dilation):
        self.size, self.grid, self.stride, self.before = size, grid, stride, padding[0]
        # offset k reads phase (k * dilation) % stride, from phase row (k * dilation) // stride on
        self.offsets = [((k * dilation) % stride, (k * dilation) // stride) for k in range(kernel)]
        self.phase_length = max(shift for _, shift in self.offsets) + grid

    def inside(self, phase):
        """(phase rows, input rows) as slices: the rows of this phase that are not padding."""
        def ceil_div(a, b):
            return -(-a // b)
        first = max(0, ceil_div(self.before - phase, self.stride))
        stop = min(self.phase_length, ceil_div(self.size + self.before - phase, self.stride))
        if stop <= first:
            return slice(0, 0), slice(0, 0)
        start = phase + first * self.stride - self.before
        return slice(first, stop), slice(start, start + (stop - first - 1) * self.stride + 1, self.stride)


def _axes(image_size, grid, kernel_size, stride, padding, dilation):
    return tuple(_Axis(image_size[d], grid[d], kernel_size[d], stride[d], padding[d], dilation[d])
                 for d in range(2))


def _phase(x, rows, cols, a, b):
    """Phase image (a, b) of the zero-padded x, in (C, H, W, N) order."""
    n, c = x.shape[:2]
    out = xp.zeros((c, rows.phase_length, cols.phase_length, n), dtype=x.dtype)
    (phase_rows, x_rows), (phase_cols, x_cols) = rows.inside(a), cols.inside(b)
    out[:, phase_rows, phase_cols] = x[:, :, x_rows, x_cols].transpose(1, 2, 3, 0)
    return out


def im2col(x, kernel_size, stride, padding, dilation, grid):
    """x (N, C, H, W) -> columns (C * kh * kw, Ho * Wo * N) for the output grid (Ho, Wo).

    kernel_size, stride, dilation and grid are pairs (rows, columns); padding is
    ((top, bottom), (left, right)). `grid` may be smaller than the grid the padding allows
    (conv_transpose with output_padding uses that); the extra positions are not read."""
    n, c = x.shape[:2]
    rows, cols = _axes(x.shape[2:], grid, kernel_size, stride, padding, dilation)
    (kh, kw), (ho, wo) = kernel_size, grid
    if max(stride) > 1 and x.strides[0] != x.itemsize:
        # one transposing pass to (C, H, W, N): then each phase reads only its own cache lines
        x = xp.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    out = xp.empty((c, kh, kw, ho, wo, n), dtype=x.dtype)
    phases = {}
    for i, (a, p) in enumerate(rows.offsets):
        for j, (b, q) in enumerate(cols.offsets):
            if (a, b) not in phases:
                phases[a, b] = _phase(x, rows, cols, a, b)
            out[:, i, j] = phases[a, b][:, p:p + ho, q:q + wo]
    return out.reshape(c * kh * kw, ho * wo * n)


def col2im(cols, image_shape, kernel_size, stride, padding, dilation, grid):
    """The adjoint of im2col: columns (C * kh * kw, Ho * Wo * N) -> image (N, C, H, W), each
    entry the sum of the columns that read it. The result is a view in (C, H, W, N) order."""
    n, c = image_shape[:2]
    rows, cols_axis = _axes(image_shape[2:], grid, kernel_size, stride, padding, dilation)
    (kh, kw), (ho, wo) = kernel_size, grid
    blocks = cols.reshape(c, kh, kw, ho, wo, n)
    phases = {}
    for i, (a, p) in enumerate(rows.offsets):
        for j, (b, q) in enumerate(cols_axis.offsets):
            if (a, b) not in phases:
                phases[a, b] = xp.zeros((c, rows.phase_length, cols_axis.phase_length, n), dtype=cols.dtype)
            phases[a, b][:, p:p + ho, q:q + wo] += blocks[:, i, j]
    image = xp.zeros((c, image_shape[2], image_shape[3], n), dtype=cols.dtype)
    for (a, b), phase in phases.items():
        (phase_rows, x_rows), (phase_cols, x_cols) = rows.inside(a), cols_axis.inside(b)
        image[:, x_rows, x_cols] = phase[:, phase_rows, phase_cols]
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
