"""Pooling and resizing with torch.nn.functional's signatures: avg_pool2d, max_pool2d,
adaptive_avg_pool2d, and interpolate (nearest, nearest-exact, linear, bilinear, area).

The window pools unfold the input (see conv.py) and reduce each column, so their gradients
come from Unfold/Fold and the reductions. Adaptive pooling and resizing are linear maps along
each spatial axis, out = A_h @ x @ A_w^T with small (out, in) matrices, differentiable
through matmul; a nearest upsampling by an integer factor is a broadcast.
"""
import math

from ..autograd.tensor import Tensor
from ._util import check_tensor
from ..arguments import int_tuple, integer, number
from .conv import Geometry, Unfold, batched
from .reduction import max as reduce_max
from .shape import pad


def _pool_window(op, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Checked (x with a batch dim, whether it had one, Geometry) of a 2-D pooling window.
    With ceil_mode the last window may hang over the bottom/right edge (torch's rule: it must
    start inside the input or its left padding). The padding after is what the last window
    reaches past the input: the overhang, or negative where it stops short of the end."""
    x, was_batched = batched(input, 2, op)
    kernel_size = int_tuple(kernel_size, 2, op, "kernel_size", 1)
    stride = kernel_size if stride is None or stride == [] else int_tuple(stride, 2, op, "stride", 1)
    pads = int_tuple(padding, 2, op, "padding", 0)
    dilation = int_tuple(dilation, 2, op, "dilation", 1)
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
    return x, was_batched, Geometry(kernel_size, stride, tuple(padding), dilation, tuple(grid))


def _window_columns(x, geometry):
    """x's pooling windows as (C, kh * kw, Ho * Wo * N)."""
    cols = Unfold.apply(x, geometry=geometry)
    return cols.reshape(x.shape[1], -1, cols.shape[1])


def _to_image(values, x, geometry, was_batched):
    """(C, Ho * Wo * N) -> (N, C, Ho, Wo)."""
    out = values.reshape((x.shape[1],) + geometry.grid + (x.shape[0],)).permute(3, 0, 1, 2)
    return out if was_batched else out.squeeze(0)


def _window_counts(xp, size, kernel, stride, padding, grid, include_pad):
    """How many entries of each window along one axis count for the average (torch's
    avg_pool2d divisor): those inside the padded input, or inside the input itself."""
    low, high = (-padding[0], size + padding[0]) if include_pad else (0, size)
    start = xp.arange(grid) * stride - padding[0]
    return xp.minimum(start + kernel, high) - xp.maximum(start, low)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over each kH x kW window (zero padding counted when count_include_pad)."""
    op = "avg_pool2d"
    x, was_batched, geometry = _pool_window(op, input, kernel_size, stride, padding, 1, ceil_mode)
    sums = _window_columns(x, geometry).sum(1)
    if divisor_override is not None:
        if integer(divisor_override, op, "divisor_override") == 0:
            raise ValueError(f"{op}: divisor_override must be non-zero")
        return _to_image(sums / divisor_override, x, geometry, was_batched)
    xp = x.backend.xp
    rows, cols = (_window_counts(xp, x.shape[2 + d], geometry.kernel_size[d], geometry.stride[d],
                                 geometry.padding[d], geometry.grid[d], count_include_pad) for d in range(2))
    divisor = xp.repeat(xp.outer(rows, cols).reshape(-1), x.shape[0]).astype(x.dtype)  # over (oh, ow, n)
    return _to_image(sums / Tensor._wrap(divisor), x, geometry, was_batched)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over each kH x kW window (padding never wins); the gradient goes to the first
    maximum of each window, as in torch. With return_indices, also each maximum's flat
    index into its input plane (H * W)."""
    op = "max_pool2d"
    x, was_batched, geometry = _pool_window(op, input, kernel_size, stride, padding, dilation, ceil_mode)
    widths = [max(w, 0) for before_after in reversed(geometry.padding) for w in before_after]
    padded = pad(x, widths, value=-math.inf) if any(widths) else x
    values, picked = reduce_max(_window_columns(padded, geometry._replace(padding=((0, 0), (0, 0)))), 1)
    out = _to_image(values, x, geometry, was_batched)
    if not return_indices:
        return out
    return out, _max_indices(picked.array, x, geometry, was_batched)


def _max_indices(picked, x, geometry, was_batched):
    """Flat input-plane indices of the picked window entries (C, Ho*Wo*N) as int64 (N, C, Ho, Wo)."""
    xp = x.backend.xp
    (kh, kw), (sh, sw), ((top, _), (left, _)), (dh, dw), (ho, wo) = geometry
    n = x.shape[0]
    i, j = picked // kw, picked % kw
    grid = picked.reshape(x.shape[1], ho, wo, n)
    oh = xp.arange(ho).reshape(1, ho, 1, 1)
    ow = xp.arange(wo).reshape(1, 1, wo, 1)
    rows = oh * sh - top + i.reshape(grid.shape) * dh
    cols = ow * sw - left + j.reshape(grid.shape) * dw
    index = (rows * x.shape[3] + cols).astype(xp.int64).transpose(3, 0, 1, 2)
    return Tensor._wrap(index if was_batched else index[0])


# ---- linear maps along each spatial axis ---------------------------------------------------

def _along_axes(x, matrices):
    """Apply matrices[d] (out_d, in_d) along spatial axis 2 + d of x."""
    for d, matrix in enumerate(matrices):
        if matrix is None:
            continue
        axis = 2 + d
        moved = x.transpose(axis, -1)
        flat = moved.reshape(-1, moved.shape[-1]) @ Tensor._wrap(matrix.T)
        x = flat.reshape(moved.shape[:-1] + (matrix.shape[0],)).transpose(axis, -1)
    return x


def _adaptive_matrix(xp, size, out, dtype):
    """Row o averages input [floor(o * size / out), ceil((o + 1) * size / out)) (torch's rule)."""
    rows = xp.arange(out)[:, None]
    start, stop = (rows * size) // out, -(-((rows + 1) * size) // out)
    columns = xp.arange(size)[None, :]
    return (((columns >= start) & (columns < stop)) / (stop - start)).astype(dtype)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (None keeps that axis), e.g. 1 for global pooling."""
    op = "adaptive_avg_pool2d"
    x, was_batched = batched(input, 2, op)
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(sizes) != 2:
        raise TypeError(f"{op}: output_size must be an int or a tuple of 2 ints (or None), got {output_size!r}")
    sizes = tuple(n if s is None else s for s, n in zip(sizes, x.shape[2:]))
    sizes = int_tuple(sizes, 2, op, "output_size", 1)
    xp = x.backend.xp
    out = _along_axes(x, [_adaptive_matrix(xp, n, s, x.dtype) for n, s in zip(x.shape[2:], sizes)])
    return out if was_batched else out.squeeze(0)


_LINEAR_MODES = {"linear": 1, "bilinear": 2}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "area")


def _resize_matrix(xp, size, out, scale, mode, align_corners, dtype):
    """(out, size) matrix of one axis of torch's interpolate; `scale` is input/output."""
    matrix = xp.zeros((out, size), dtype=dtype)
    rows = xp.arange(out)
    if mode == "area":
        return _adaptive_matrix(xp, size, out, dtype)
    if mode in ("nearest", "nearest-exact"):
        offset = 0.5 if mode == "nearest-exact" else 0.0
        source = xp.minimum(xp.floor((rows + offset) * scale).astype(xp.int64), size - 1)
        matrix[rows, source] = 1
        return matrix
    if align_corners:
        position = rows * ((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        position = xp.maximum((rows + 0.5) * scale - 0.5, 0.0)
    low = xp.minimum(xp.floor(position).astype(xp.int64), size - 1)
    high = xp.minimum(low + 1, size - 1)
    weight = position - low
    matrix[rows, low] += 1 - weight
    matrix[rows, high] += weight
    return matrix


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


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L) or (N, C, H, W) to `size` or by `scale_factor`, as torch's
    interpolate: 'nearest' (the pixel at floor(out * in / out_size)), 'nearest-exact',
    'linear' / 'bilinear' (half-pixel centres, or corners aligned), 'area' (adaptive average)."""
    op = "interpolate"
    check_tensor(input, op, "input")
    if input.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, got shape {tuple(input.shape)}")
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != input.ndim - 2:
        raise ValueError(f"{op}: mode {mode!r} needs a {_LINEAR_MODES[mode] + 2}-D input, "
                         f"got shape {tuple(input.shape)}")
    if align_corners is not None and mode not in _LINEAR_MODES:
        raise ValueError(f"{op}: align_corners can only be set with the interpolating modes linear | bilinear")
    if antialias:
        raise ValueError(f"{op}: antialias=True is not supported (torch uses it only for "
                         "bilinear/bicubic downsampling)")
    sizes, factors = _output_sizes(op, input, size, scale_factor)
    if min(sizes) < 1:
        raise ValueError(f"{op}: output size {sizes} must be positive")
    # torch uses 1 / scale_factor as the input/output ratio unless told to recompute it
    scales = [1 / f if factors is not None and not recompute_scale_factor else n / s
              for n, s, f in zip(input.shape[2:], sizes, factors or sizes)]
    if mode == "nearest" and all(s % n == 0 and r * (s // n) == 1 for n, s, r in zip(input.shape[2:], sizes, scales)):
        return _repeat(input, [s // n for n, s in zip(input.shape[2:], sizes)])
    xp = input.backend.xp
    matrices = [_resize_matrix(xp, n, s, r, mode, align_corners, input.dtype)
                for n, s, r in zip(input.shape[2:], sizes, scales)]
    return _along_axes(input, matrices)


upsample = interpolate


def _repeat(x, factors):
    """Nearest upsampling by integer factors: each pixel becomes a factor_h x factor_w block."""
    spread = x.shape[:2]
    for n, f in zip(x.shape[2:], factors):
        spread += (n, 1)
    wide = x.reshape(spread).expand(spread[:2] + tuple(v for n, f in zip(x.shape[2:], factors) for v in (n, f)))
    return wide.reshape(x.shape[:2] + tuple(n * f for n, f in zip(x.shape[2:], factors)))
