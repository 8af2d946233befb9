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
in the padding are zeroed instead. The work is cut into one part per core, by channels, or
by samples when there are fewer channels than cores (threads.py): each thread copies its part
of the image into (C, H, W, N) order (unless x is stored that way already), then makes the
kernel offsets' copies from it; col2im's adds are cut the same way.

`col2im` is the adjoint of `im2col`: it adds each column back where `im2col` read it, one add
per kernel offset (never `np.add.at`), into dense images of the stride's phases that are then
interleaved (see col2im). It returns the image as a (N, C, H, W) view
of a (C, H, W, N) array, the "batch-last" memory order, which the next `im2col` reads fastest;
NumPy's elementwise ops keep that order, so chained layers pass it along without copies.

The CUDA backend implements the same functions with the same arguments.
"""
import functools
import math

import numpy as xp

from . import threads


def _axis_windows(size, grid, kernel, stride, padding, dilation):
    """Per kernel offset k along one axis: (outputs, phase, phase rows). Output o reads input
    o * stride + k * dilation - padding[0]; `outputs` (a slice) are the o for which that lies
    inside [0, size), and the inputs they read are rows `phase rows` of the stride's phase
    `phase`, the inputs phase, phase + stride, phase + 2 * stride, ..."""
    windows = []
    for k in range(kernel):
        offset = k * dilation - padding[0]
        phase, shift = offset % stride, offset // stride
        phase_size = -(-(size - phase) // stride)
        first, stop = max(0, -shift), min(grid, phase_size - shift)
        if stop <= first:
            first = stop = 0
        windows.append((slice(first, stop), phase, slice(first + shift, stop + shift)))
    return windows


@functools.lru_cache(maxsize=256)  # a network has few geometries; each is worked out once
def _windows(image_size, kernel_size, stride, padding, dilation, grid):
    """For each kernel offset (i, j): ((i, j), (output rows, output columns), (phase row,
    phase column), (rows, columns) within that phase), the part of the output grid that reads
    inside the image, and where."""
    rows, cols = (_axis_windows(image_size[d], grid[d], kernel_size[d], stride[d], padding[d], dilation[d])
                  for d in range(2))
    return tuple(((i, j), (out_rows, out_cols), (a, b), (in_rows, in_cols))
                 for i, (out_rows, a, in_rows) in enumerate(rows) for j, (out_cols, b, in_cols) in enumerate(cols))


def _in_image(phase, rows, stride):
    """Rows `rows` of phase `phase` as a strided slice of the image."""
    return slice(phase + rows.start * stride, phase + (rows.stop - 1) * stride + 1, stride) if rows.stop else rows


def _split_by_channels_or_samples(work, channels, batch, elements):
    """Run work(channel slice, sample slice) on one part of the image per thread: a range of
    channels (contiguous in batch-last order), or of samples when there are too few channels."""
    if channels >= threads.get_num_threads():
        threads.run_in_parts(lambda start, stop: work(slice(start, stop), slice(None)), channels, elements)
    else:
        threads.run_in_parts(lambda start, stop: work(slice(None), slice(start, stop)), batch, elements)


def _zero_outside(block, rows, cols):
    """Zero block[:, r, c] (a (C, Ho, Wo, N) block) outside rows x cols: the padding. Most
    offsets have none on most sides; those empty slices are skipped, not assigned."""
    height, width = block.shape[1:3]
    if rows.start:
        block[:, :rows.start] = 0
    if rows.stop < height:
        block[:, rows.stop:] = 0
    if cols.start:
        block[:, rows, :cols.start] = 0
    if cols.stop < width:
        block[:, rows, cols.stop:] = 0


def im2col(x, kernel_size, stride, padding, dilation, grid):
    """x (N, C, H, W) -> columns (C * kh * kw, Ho * Wo * N) for the output grid (Ho, Wo).

    kernel_size, stride, dilation and grid are pairs (rows, columns); padding is
    ((top, bottom), (left, right)). `grid` may be smaller than the grid the padding allows
    (conv_transpose with output_padding uses that); the extra positions are not read."""
    n, c = x.shape[:2]
    batch_last = x.transpose(1, 2, 3, 0)  # (C, H, W, N)
    # a view when x is stored that way; else each thread first copies its part of x into it
    image = batch_last if batch_last.flags.c_contiguous else xp.empty(batch_last.shape, dtype=x.dtype)
    (kh, kw), (ho, wo) = kernel_size, grid
    out = xp.empty((c, kh, kw, ho, wo, n), dtype=x.dtype)
    windows = _windows(x.shape[2:], kernel_size, stride, padding, dilation, grid)

    def copy(channels, samples):
        if image is not batch_last:
            xp.copyto(image[channels, :, :, samples], batch_last[channels, :, :, samples])
        for (i, j), (out_rows, out_cols), (a, b), (rows, cols) in windows:
            block = out[channels, i, j, :, :, samples]
            block[:, out_rows, out_cols] = image[channels, _in_image(a, rows, stride[0]),
                                                 _in_image(b, cols, stride[1]), samples]
            _zero_outside(block, out_rows, out_cols)
    _split_by_channels_or_samples(copy, c, n, out.size)
    return out.reshape(c * kh * kw, ho * wo * n)


@functools.lru_cache(maxsize=256)
def _phase_plan(image_size, kernel_size, stride, padding, dilation, grid):
    """col2im's order of work: (phase rows, phase columns, steps, unread phases). Each step is
    (start, window) for one kernel offset, the offsets that read all of their phase first;
    `start` says how the offset begins its phase: "copy" (it reads all of it), "zeros" (no
    offset does: zero the phase, then add), or None (the phase is begun: add)."""
    (h, w), (sh, sw) = image_size, stride
    phase_rows, phase_cols = tuple(-(-(h - a) // sh) for a in range(sh)), tuple(-(-(w - b) // sw) for b in range(sw))

    def reads_all_of_its_phase(window):
        _, _, (a, b), (rows, cols) = window
        return (rows.start, rows.stop, cols.start, cols.stop) == (0, phase_rows[a], 0, phase_cols[b])
    steps, started = [], set()
    for window in sorted(_windows(image_size, kernel_size, stride, padding, dilation, grid),
                         key=lambda window: not reads_all_of_its_phase(window)):
        phase = window[2]
        start = None if phase in started else "copy" if reads_all_of_its_phase(window) else "zeros"
        started.add(phase)
        steps.append((start, window))
    unread = tuple((a, b) for a in range(sh) for b in range(sw) if (a, b) not in started)
    return phase_rows, phase_cols, tuple(steps), unread


def col2im(cols, image_shape, kernel_size, stride, padding, dilation, grid):
    """The adjoint of im2col: columns (C * kh * kw, Ho * Wo * N) -> image (N, C, H, W), each
    entry the sum of the columns that read it. The result is a view in (C, H, W, N) order.

    The kernel offsets that read one phase of the stride (image rows a, a + sh, a + 2 sh, ...
    and likewise columns) add into a dense image of that phase, so each add runs along whole
    rows of numbers rather than strided runs of N; the sh * sw phase images are then
    interleaved into the image, one strided copy each (none at stride 1, where the one phase
    is the image). A phase starts as a copy of an offset that reads all of it where there is
    one (at the DCGAN's k4 s2 p1 every phase has one), else as zeros (_phase_plan)."""
    n, c, h, w = image_shape
    (kh, kw), (ho, wo), (sh, sw) = kernel_size, grid, stride
    blocks = cols.reshape(c, kh, kw, ho, wo, n)
    phase_rows, phase_cols, steps, unread = _phase_plan((h, w), kernel_size, stride, padding, dilation, grid)
    phases = xp.empty((c, sh, sw, max(phase_rows), max(phase_cols), n), dtype=cols.dtype)
    interleave = (sh, sw) != (1, 1)
    image = xp.empty((c, h, w, n), dtype=cols.dtype) if interleave else phases.reshape(c, h, w, n)

    def add(channels, samples):
        part = phases[channels, :, :, :, :, samples]
        for start, ((i, j), (out_rows, out_cols), (a, b), (rows, cols)) in steps:
            target, source = part[:, a, b, rows, cols], blocks[channels, i, j, out_rows, out_cols, samples]
            if start == "copy":
                xp.copyto(target, source)
                continue
            if start == "zeros":
                part[:, a, b].fill(0)
            xp.add(target, source, out=target)
        for a, b in unread:
            part[:, a, b].fill(0)
        for a in range(sh) if interleave else ():
            for b in range(sw):
                image[channels, a::sh, b::sw, samples] = part[:, a, b, :phase_rows[a], :phase_cols[b]]
    _split_by_channels_or_samples(add, c, n, cols.size)
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
