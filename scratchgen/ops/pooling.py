"""Pooling and resizing with torch.nn.functional's signatures: avg_pool1d/2d, max_pool1d/2d,
adaptive_avg_pool1d/2d, adaptive_max_pool1d/2d, and interpolate of 1-, 2- and 3-D signals
(nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area).

The window pools unfold the input (see conv.py) and reduce each column, so their gradients
come from Unfold/Fold and the reductions; a 1-D pool is the 2-D one of height 1 (as conv1d).
A max pool takes, in each window, the last NaN if there is one, else the first maximum
(torch's CPU rule) and gives it the whole gradient; adaptive max pooling picks the same way
and gathers the picked elements (getitem, whose gradient scatters back). Adaptive average
pooling and resizing resample one spatial axis after the other, each output a weighted sum
of a few inputs (gathered by getitem, whose gradient scatters back); a nearest upsampling by
an integer factor is a broadcast.
"""
import math

from .. import backends
from ..arguments import int_tuple, integer, number
from ..autograd.tensor import Tensor
from ._util import check_tensor
from .conv import Geometry, Unfold, batched, lift_to_2d
from .reduction import PickAlong
from .shape import getitem, pad
from .unary import where


def _check_not_empty(op, input, x):
    """torch pools only inputs whose channels and spatial sizes are non-zero (a batch of 0 is fine)."""
    if 0 in x.shape[1:]:
        raise ValueError(f"{op}: expected an input with non-zero channels and spatial sizes (only the batch "
                         f"may be empty), got shape {tuple(input.shape)}")


def _pool_window(op, dims, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Checked (x as a 4-D batch, whether it had a batch dim, 2-D Geometry) of a pooling window
    over `dims` spatial axes. With ceil_mode the last window may hang over the bottom/right edge
    (torch's rule: it must start inside the input or its left padding). The padding after is
    what the last window reaches past the input: the overhang, or negative where it stops short."""
    x, was_batched = batched(input, dims, op)
    _check_not_empty(op, input, x)
    kernel_size = int_tuple(kernel_size, dims, op, "kernel_size", 1)
    stride = kernel_size if stride is None or stride == [] else int_tuple(stride, dims, op, "stride", 1)
    pads = int_tuple(padding, dims, op, "padding", 0)
    dilation = int_tuple(dilation, dims, op, "dilation", 1)
    if any(p > k // 2 for p, k in zip(pads, kernel_size)):
        raise ValueError(f"{op}: padding {pads} should be at most half of kernel_size {kernel_size}")
    grid, padding = [], []
    for size, k, s, p, d in zip(x.shape[2:], kernel_size, stride, pads, dilation):
        span = size + 2 * p - d * (k - 1) - 1
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= size + p:
            out -= 1
        grid.append(out)
        padding.append((p, (out - 1) * s + d * (k - 1) + 1 - size - p))
    if min(grid) < 1:
        raise ValueError(f"{op}: output size {tuple(grid)} is too small: kernel_size {kernel_size} "
                         f"(dilation {dilation}) does not fit the input {tuple(x.shape[2:])} with padding {pads}")
    x, geometry = lift_to_2d(x, Geometry(kernel_size, stride, tuple(padding), dilation, tuple(grid)))
    return x, was_batched, geometry


def _window_columns(x, geometry):
    """x's pooling windows as (C, kh * kw, Ho * Wo * N)."""
    cols = Unfold.apply(x, geometry=geometry)
    return cols.reshape(x.shape[1], math.prod(geometry.kernel_size), cols.shape[1])


def _to_image(values, x, geometry, was_batched, dims):
    """(C, Ho * Wo * N) -> (N, C, Ho, Wo), or (N, C, Wo) for a 1-D pool."""
    out = values.reshape((x.shape[1],) + geometry.grid + (x.shape[0],)).permute(3, 0, 1, 2)
    out = out.squeeze(2) if dims == 1 else out
    return out if was_batched else out.squeeze(0)


def _window_counts(xp, size, kernel, stride, padding, grid, include_pad):
    """How many entries of each window along one axis count for the average (torch's
    avg_pool2d divisor): those inside the padded input, or inside the input itself."""
    low, high = (-padding[0], size + padding[0]) if include_pad else (0, size)
    start = xp.arange(grid) * stride - padding[0]
    return xp.minimum(start + kernel, high) - xp.maximum(start, low)


def _avg_pool(op, dims, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x, was_batched, geometry = _pool_window(op, dims, input, kernel_size, stride, padding, 1, ceil_mode)
    sums = _window_columns(x, geometry).sum(1)
    if divisor_override is not None:
        if integer(divisor_override, op, "divisor_override") == 0:
            raise ValueError(f"{op}: divisor_override must be non-zero")
        return _to_image(sums / divisor_override, x, geometry, was_batched, dims)
    xp = x.backend.xp
    rows, cols = (_window_counts(xp, x.shape[2 + d], geometry.kernel_size[d], geometry.stride[d],
                                 geometry.padding[d], geometry.grid[d], count_include_pad) for d in range(2))
    divisor = xp.repeat(xp.outer(rows, cols).reshape(-1), x.shape[0]).astype(x.dtype)  # over (oh, ow, n)
    return _to_image(sums / Tensor._wrap(divisor), x, geometry, was_batched, dims)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over each window of kernel_size along L of (N, C, L) (avg_pool2d of height 1)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over each kH x kW window (zero padding counted when count_include_pad)."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _pick(values, inside, axis):
    """Per window along `axis`, among the entries `inside` it: the last NaN if there is one,
    else the first maximum (the first entry when all are -inf). This is torch's CPU scan,
    which starts at the window's first entry and takes an entry that is larger or NaN."""
    xp = backends.get(values).xp
    nan = xp.isnan(values) & inside
    clean = xp.where(nan | ~inside, -xp.inf, values)
    first_max = ((clean == clean.max(axis, keepdims=True)) & inside).argmax(axis)
    last_nan = values.shape[axis] - 1 - xp.flip(nan, axis).argmax(axis)
    return xp.where(nan.any(axis), last_nan, first_max)


def _positions(xp, geometry):
    """Input rows (kh, Ho) and columns (kw, Wo) that each window entry reads (negative or past
    the end in the padding)."""
    (kh, kw), (sh, sw), ((top, _), (left, _)), (dh, dw), (ho, wo) = geometry
    rows = xp.arange(ho)[None, :] * sh - top + xp.arange(kh)[:, None] * dh
    cols = xp.arange(wo)[None, :] * sw - left + xp.arange(kw)[:, None] * dw
    return rows, cols


def _max_pool(op, dims, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, was_batched, geometry = _pool_window(op, dims, input, kernel_size, stride, padding, dilation, ceil_mode)
    xp = x.backend.xp
    widths = [max(w, 0) for before_after in reversed(geometry.padding) for w in before_after]
    padded = pad(x, widths, value=-math.inf) if any(widths) else x
    cols = _window_columns(padded, geometry._replace(padding=((0, 0), (0, 0))))  # (C, K, Ho * Wo * N)
    rows, columns = _positions(xp, geometry)
    inside = (((rows >= 0) & (rows < x.shape[2]))[:, None, :, None]
              & ((columns >= 0) & (columns < x.shape[3]))[None, :, None, :])     # (kh, kw, Ho, Wo)
    inside = xp.repeat(inside.reshape(1, cols.shape[1], -1), x.shape[0], axis=2)  # over (oh, ow, n)
    picked = _pick(cols.array, inside, 1)                                         # (C, Ho * Wo * N)
    weights = (xp.arange(cols.shape[1])[None, :, None] == picked[:, None, :]).astype(x.dtype)
    values = PickAlong.apply(cols, dims=(1,), weights=weights,
                             values=xp.take_along_axis(cols.array, picked[:, None, :], 1)[:, 0])
    out = _to_image(values, x, geometry, was_batched, dims)
    if not return_indices:
        return out
    kw, wo = geometry.kernel_size[1], geometry.grid[1]
    window = xp.arange(picked.shape[1]) // max(x.shape[0], 1)  # oh * Wo + ow of each column
    index = rows[picked // kw, window // wo] * x.shape[3] + columns[picked % kw, window % wo]
    return out, _to_image(Tensor._wrap(index.astype(xp.int64)), x, geometry, was_batched, dims)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over each window along L of (N, C, L) (max_pool2d of height 1); with
    return_indices also each maximum's index along L."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over each kH x kW window (padding never wins); the whole gradient goes to the
    picked element (the last NaN, else the first maximum, as torch). With return_indices,
    also each maximum's flat index into its input plane (H * W)."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


# ---- adaptive pooling -----------------------------------------------------------------------

def _adaptive_taps(xp, size, out):
    """Window o along one axis reads input [floor(o * size / out), ceil((o + 1) * size / out))
    (torch's rule): its positions (out, K), K the longest window's length (the shorter ones
    repeat their last position), which of them are inside it, and its length."""
    rows = xp.arange(out)[:, None]
    start, stop = (rows * size) // out, -(-((rows + 1) * size) // out)
    longest = max(-(-((o + 1) * size) // out) - (o * size) // out for o in range(out))
    positions = start + xp.arange(longest)[None, :]
    return xp.minimum(positions, stop - 1), positions < stop, (stop - start)[:, 0]


def _adaptive_windows(xp, shape, sizes):
    """The windows of adaptive pooling of a spatial `shape` to `sizes`: each window's flat
    input positions (outputs, K) in row-major order (torch's order of summation), which are
    inside it, and its length along each axis (outputs,)."""
    flat, inside, lengths = xp.zeros((1, 1), dtype=xp.int64), xp.ones((1, 1), dtype=bool), []
    for size, out in zip(shape, sizes):
        index, within, length = _adaptive_taps(xp, size, out)
        flat = (flat[:, None, :, None] * size + index[None, :, None, :]).reshape(flat.shape[0] * out, -1)
        inside = (inside[:, None, :, None] & within[None, :, None, :]).reshape(flat.shape)
        lengths = [xp.repeat(n, out) for n in lengths] + [xp.tile(length, flat.shape[0] // out)]
    return flat, inside, lengths


def _adaptive_input(op, dims, input, output_size):
    """(x with a batch dim, whether it had one, the output size of each spatial axis)."""
    x, was_batched = batched(input, dims, op)
    _check_not_empty(op, input, x)
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * dims
    if len(sizes) != dims:
        raise TypeError(f"{op}: output_size must be an int or a tuple of {dims} ints (or None), got {output_size!r}")
    sizes = int_tuple(tuple(n if s is None else s for s, n in zip(sizes, x.shape[2:])), dims, op, "output_size", 1)
    return x, was_batched, sizes


def _adaptive_avg(x, sizes):
    """Each window's sum in torch's order, then divided by its length along each axis."""
    xp = x.backend.xp
    flat, inside, lengths = _adaptive_windows(xp, x.shape[2:], sizes)
    planes = x.reshape(x.shape[:2] + (math.prod(x.shape[2:]),))
    read = where(inside.T, getitem(planes, (slice(None), slice(None), flat.T)), 0.0)  # (N, C, K, outputs)
    out = read.sum(2)
    for length in lengths:
        out = out / Tensor._wrap(length.astype(x.dtype))
    return out.reshape(x.shape[:2] + tuple(sizes))


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) to output_size windows along L."""
    x, was_batched, sizes = _adaptive_input("adaptive_avg_pool1d", 1, input, output_size)
    out = _adaptive_avg(x, sizes)
    return out if was_batched else out.squeeze(0)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (None keeps that axis), e.g. 1 for global pooling."""
    x, was_batched, sizes = _adaptive_input("adaptive_avg_pool2d", 2, input, output_size)
    out = _adaptive_avg(x, sizes)
    return out if was_batched else out.squeeze(0)


def _adaptive_max_pool(op, dims, input, output_size, return_indices):
    x, was_batched, sizes = _adaptive_input(op, dims, input, output_size)
    xp = x.backend.xp
    n, c = x.shape[:2]
    flat, inside, _ = _adaptive_windows(xp, x.shape[2:], sizes)
    planes = x.reshape(n, c, math.prod(x.shape[2:]))
    picked = _pick(planes.array[:, :, flat], inside, 3)                  # (N, C, outputs) of K
    index = flat[xp.arange(flat.shape[0]), picked]
    out = getitem(planes, (xp.arange(n)[:, None, None], xp.arange(c)[None, :, None], index))
    out = out.reshape((n, c) + sizes)
    indices = Tensor._wrap(index.reshape((n, c) + sizes).astype(xp.int64))
    out, indices = (out, indices) if was_batched else (out.squeeze(0), indices.squeeze(0))
    return (out, indices) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maximum over output_size adaptive windows along L of (N, C, L) (torch's windows and
    pick); with return_indices also each maximum's index along L."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maximum over adaptive windows to a fixed output size (None keeps that axis); with
    return_indices also each maximum's flat index into its input plane (H * W)."""
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


# ---- interpolate ---------------------------------------------------------------------------

def _along_axes(x, taps):
    """x with each spatial axis 2 + d resampled by taps[d] = (index, weight): output o of an
    axis is sum_k weight[o, k] * x[index[o, k]] (x[index[o, 0]] without weights), the last
    axis first, as torch sums. Gathering a few inputs per output keeps a NaN or inf where it
    is, as in torch: a dense (out, in) matrix would spread it (0 * inf) to the whole axis."""
    for axis in reversed(range(2, x.ndim)):
        index, weight = taps[axis - 2]
        read = getitem(x, (slice(None),) * axis + (index,))              # the axis becomes (out, K)
        if weight is None:
            x = read.squeeze(axis + 1)
        else:
            shape = (1,) * axis + weight.shape + (1,) * (x.ndim - axis - 1)
            x = (read * Tensor._wrap(weight.reshape(shape).astype(x.dtype))).sum(axis + 1)
    return x


_INTERPOLATING = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}  # mode: spatial dims it needs
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
CUBIC_A = -0.75  # torch's (and OpenCV's) coefficient of Keys' cubic convolution


def _cubic_weights(t):
    """The weights of the 4 inputs around a point at fraction t past the second (Keys 1981)."""
    a = CUBIC_A

    def near(s):  # |s| <= 1
        return ((a + 2) * s - (a + 3)) * s * s + 1

    def far(s):  # 1 < |s| < 2
        return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a
    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _resize_taps(xp, size, out, scale, mode, align_corners, dtype):
    """The taps of one axis of torch's interpolate (see _along_axes); `scale` is input/output."""
    rows = xp.arange(out)
    if mode in ("nearest", "nearest-exact"):
        # torch computes the source index in the input's precision and floors it as a float32
        real = xp.float32 if dtype == xp.float32 else xp.float64
        scale = real(scale)
        position = rows.astype(real) * scale if mode == "nearest" else (rows + 0.5) * float(scale)
        return xp.minimum(xp.floor(position.astype(xp.float32)).astype(xp.int64), size - 1)[:, None], None
    if align_corners:
        position = rows * ((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        position = (rows + 0.5) * scale - 0.5
    if mode == "bicubic":  # the 4 nearest inputs, the edge ones repeated
        low = xp.minimum(xp.floor(position.astype(xp.float32)).astype(xp.int64), size - 1)
        index = xp.stack([xp.clip(low - 1 + k, 0, size - 1) for k in range(4)], 1)
        return index, xp.stack(_cubic_weights(xp.clip(position - low, 0.0, 1.0)), 1)
    if out == size:  # torch copies an axis it does not resize, as 1 * x + 0 * x (NaN at inf)
        return xp.stack([rows, rows], 1), xp.stack([xp.ones(out), xp.zeros(out)], 1)
    position = xp.maximum(position, 0.0)
    low = xp.minimum(xp.floor(position.astype(xp.float32)).astype(xp.int64), size - 1)
    weight = xp.clip(position - low, 0.0, 1.0)
    return xp.stack([low, xp.minimum(low + 1, size - 1)], 1), xp.stack([1 - weight, weight], 1)


def _output_sizes(op, x, size, scale_factor):
    dims = x.ndim - 2
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor, got size={size!r}, "
                         f"scale_factor={scale_factor!r}")
    if size is not None:
        return int_tuple(size, dims, op, "size", 1), None
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * dims
    if len(factors) != dims:
        raise ValueError(f"{op}: scale_factor must be a positive number or {dims} of them, got {scale_factor!r}")
    for f in factors:
        number(f, op, "scale_factor", what=f"a positive number or {dims} of them")
    if min(factors) <= 0:
        raise ValueError(f"{op}: scale_factor must be a positive number or {dims} of them, got {scale_factor!r}")
    return tuple(int(math.floor(n * f)) for n, f in zip(x.shape[2:], factors)), factors


def _check_mode(op, input, mode, align_corners, antialias):
    if input.ndim not in (3, 4, 5):
        raise ValueError(f"{op}: expected a 3-D (N, C, L), 4-D (N, C, H, W) or 5-D (N, C, D, H, W) input, "
                         f"got shape {tuple(input.shape)}")
    _check_not_empty(op, input, input)
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if mode in _INTERPOLATING and _INTERPOLATING[mode] != input.ndim - 2:
        raise ValueError(f"{op}: mode {mode!r} needs a {_INTERPOLATING[mode] + 2}-D input, "
                         f"got shape {tuple(input.shape)}")
    if align_corners is not None and mode not in _INTERPOLATING:
        raise ValueError(f"{op}: align_corners can only be set with the interpolating modes "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise ValueError(f"{op}: antialias=True is not supported (torch uses it only for "
                         "bilinear/bicubic downsampling)")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) to `size` or by `scale_factor`, as
    torch's interpolate: 'nearest' (the input at floor(out * in / out_size)), 'nearest-exact',
    'linear' / 'bilinear' / 'trilinear' (half-pixel centres, or corners aligned), 'bicubic'
    (Keys' cubic convolution, a = -0.75, edges repeated), 'area' (adaptive average). Source
    indices are rounded as torch's kernels round them, except that float32 'nearest-exact'
    may pick the neighbouring input in rare sizes (2 -> 41: 3 of 1300 small cases)."""
    op = "interpolate"
    check_tensor(input, op, "input")
    _check_mode(op, input, mode, align_corners, antialias)
    sizes, factors = _output_sizes(op, input, size, scale_factor)
    if min(sizes) < 1:
        raise ValueError(f"{op}: output size {sizes} must be positive")
    # torch uses 1 / scale_factor as the input/output ratio unless told to recompute it
    scales = [1 / f if factors is not None and not recompute_scale_factor else n / s
              for n, s, f in zip(input.shape[2:], sizes, factors or sizes)]
    if mode == "nearest" and all(s % n == 0 and r * (s // n) == 1 for n, s, r in zip(input.shape[2:], sizes, scales)):
        return _repeat(input, [s // n for n, s in zip(input.shape[2:], sizes)])
    if mode == "area":
        return _adaptive_avg(input, sizes)
    xp = input.backend.xp
    return _along_axes(input, [_resize_taps(xp, n, s, r, mode, align_corners, input.dtype)
                               for n, s, r in zip(input.shape[2:], sizes, scales)])


upsample = interpolate


def _repeat(x, factors):
    """Nearest upsampling by integer factors: each pixel becomes a factor_h x factor_w block."""
    spread = x.shape[:2]
    for n, f in zip(x.shape[2:], factors):
        spread += (n, 1)
    wide = x.reshape(spread).expand(spread[:2] + tuple(v for n, f in zip(x.shape[2:], factors) for v in (n, f)))
    return wide.reshape(x.shape[:2] + tuple(n * f for n, f in zip(x.shape[2:], factors)))
