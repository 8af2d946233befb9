"""The CUDA backend: the functions of backends/numpy.py (and of the im2col.py,
normalization.py and fused_optimizers.py it gathers; same names, same arguments) for CuPy
arrays, each one or a few launches of the kernels in kernels/*.cu, plus the kernels that
have no NumPy counterpart yet (tiled GEMM, direct convolution, batch and layer
norm, activations, axis sums, Gumbel, dropout).

Every function takes its array module from its input. Called with NumPy arrays, the same
launches run on the CPU emulator (kernels/emulator) instead of a GPU: that is how
tests/test_kernels.py checks this module in CI. The kernels are templates over float and
double, so the arrays of one call are all float32 or all float64 (float64 is what gradcheck
needs; float32 is what training uses).
"""
import math
import os

import numpy

from . import indexing, normalization, special
from .launch import array_module, launch, multiprocessor_count

name = "cuda"
THREADS = 256                  # threads per block of the 1-D kernels
ROWS_PER_BLOCK = THREADS // 32  # the warp-per-row kernels give each warp one row
BLOCKS_PER_MULTIPROCESSOR = 32  # grid-stride launches: enough resident blocks to hide memory latency
MAX_GRID_Y = 65535


def _cupy():
    try:
        import cupy
    except ImportError as error:
        raise ImportError(f"device 'cuda' needs CuPy and a GPU: pip install 'scratchgen[cuda]' ({error})") from None
    return cupy


def __getattr__(attribute):
    """`xp` is CuPy, imported on first use, so that this module's kernels run on the emulator
    where CuPy is not installed."""
    if attribute == "xp":
        return _cupy()
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")


def matmul(a, b, layout_of=None):
    """a @ b through our tiled GEMM (kernels/gemm.cu), for float32 and float64 operands of one
    dtype; other dtypes, and every product when SCRATCHGEN_CUBLAS=1 (the opt-in reference the
    benchmarks compare with), go to the array library's @ (cuBLAS on a GPU). The layout hint
    is for the CPU backend."""
    if os.environ.get("SCRATCHGEN_CUBLAS") == "1" or a.dtype not in FLOATING or b.dtype != a.dtype:
        return a @ b
    return gemm(a, b)


# ---- the normalisation ops' array work: backends/normalization.py's NumPy code, on CuPy arrays
def affine(arrays, coefficients):
    return normalization.affine(arrays, coefficients, xp=array_module(arrays[0]))


def coefficients(stats, weight, bias, eps):
    return normalization.coefficients(stats, weight, bias, eps, xp=array_module(stats))


def moments(x, dims):
    return normalization.moments(x, dims, xp=array_module(x))


def sums(g, tensors, shape):
    return normalization.sums(g, tensors, shape, xp=array_module(g))


# ---- the special functions: backends/special.py's array code, on CuPy arrays (elementwise
# expressions, a launch each; one fused kernel per function would save most of them)
def erf(x):
    return special.erf(x, xp=array_module(x))


def lgamma(x):
    return special.lgamma(x, xp=array_module(x))


def digamma(x):
    return special.digamma(x, xp=array_module(x))


def polygamma(n, x):
    return special.polygamma(n, x, xp=array_module(x))


# ---- helpers

FLOATING = (numpy.float32, numpy.float64)  # the two instances of every kernel template


def _floating(function, argument, array, like=None, copy=True):
    """`array` as a C-contiguous float32 or float64 array (a no-op when it already is one; left
    as it is with copy=False), of the dtype of `like` when given (the kernels take one
    floating type per call)."""
    if array.dtype not in FLOATING:
        raise TypeError(f"{function}: {argument} must be float32 or float64 on device 'cuda', got {array.dtype}")
    if like is not None and array.dtype != like.dtype:
        raise TypeError(f"{function}: {argument} must have the dtype of the other arrays ({like.dtype}), "
                        f"got {array.dtype}")
    return array_module(array).asarray(array, order="C") if copy else array


def _grid_stride_blocks(like, work):
    """Blocks for a grid-stride loop over `work` items: one item per thread, at most enough
    blocks to fill every multiprocessor; the threads loop over the rest."""
    return max(1, min(math.ceil(work / THREADS), BLOCKS_PER_MULTIPROCESSOR * multiprocessor_count(like)))


def _chunks(like, blocks, work):
    """grid.y for kernels whose grid.x already holds `blocks` blocks: split each block's `work`
    items into chunks while that adds parallelism."""
    spare = max(1, BLOCKS_PER_MULTIPROCESSOR * multiprocessor_count(like) // blocks)
    return max(1, min(math.ceil(work / THREADS), spare, MAX_GRID_Y))


def _elementwise(kernel, like, n, *args):
    if n:
        launch(kernel, _grid_stride_blocks(like, n), THREADS, args)


def _warp_per_row(kernel, like, rows, *args):
    if rows:
        launch(kernel, math.ceil(rows / ROWS_PER_BLOCK), THREADS, args)


def _along_last_axis(x, axis, rows_function):
    """Apply rows_function (a (rows, cols) -> (rows, cols) kernel call) along `axis` of x."""
    xp = array_module(x)
    if x.ndim == 0:
        return _along_last_axis(x.reshape(1), 0, rows_function).reshape(())
    moved = xp.ascontiguousarray(xp.moveaxis(x, axis, -1))
    out = rows_function(moved.reshape(math.prod(moved.shape[:-1]), moved.shape[-1]))
    return xp.moveaxis(out.reshape(moved.shape), -1, axis)


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


# ---- softmax family (kernels/softmax.cu)

def _row_softmax(kernel, function):
    def rows_function(rows):
        out = array_module(rows).empty_like(rows)
        _warp_per_row(kernel, rows, rows.shape[0], rows, out, rows.shape[0], rows.shape[1])
        return out

    def along(x, axis):
        return _along_last_axis(_floating(function, "x", x), axis, rows_function)
    return along


softmax = _row_softmax("softmax_rows", "softmax")
log_softmax = _row_softmax("log_softmax_rows", "log_softmax")


def logsumexp(x, axis, keepdims):
    """log(sum(exp(x))) over `axis` (an int, a tuple of ints, or None for all)."""
    x = _floating("logsumexp", "x", x)
    xp = array_module(x)
    axes = range(x.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
    axes = tuple(sorted(a % x.ndim for a in axes))
    kept = tuple(d for d in range(x.ndim) if d not in axes)
    rows, cols = math.prod(x.shape[d] for d in kept), math.prod(x.shape[d] for d in axes)
    moved = xp.ascontiguousarray(x.transpose(kept + axes)).reshape(rows, cols)
    out = xp.empty(rows, dtype=x.dtype)
    _warp_per_row("logsumexp_rows", x, rows, moved, out, rows, cols)
    shape = tuple(1 if d in axes else x.shape[d] for d in range(x.ndim)) if keepdims else tuple(x.shape[d] for d in kept)
    return out.reshape(shape)


# ---- elementwise activations (kernels/activations.cu)

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "softplus")


def activation(function, x, *params):
    """function(x) for a name in ACTIVATIONS; params: negative_slope for leaky_relu, (beta,
    threshold) for softplus."""
    x = _floating(function, "x", x)
    y = array_module(x).empty_like(x)
    _elementwise(f"{function}_forward", x, x.size, x, y, x.size, *params)
    return y


def activation_backward(function, x, grad_out, *params):
    """grad_out * function'(x), with the params of `activation`."""
    x = _floating(function, "x", x)
    grad_out = _floating(function, "grad_out", grad_out, like=x)
    grad_in = array_module(x).empty_like(x)
    _elementwise(f"{function}_backward", x, x.size, x, grad_out, grad_in, x.size, *params)
    return grad_in


def sigmoid(x):
    return activation("sigmoid", x)


def tanh(x):
    return activation("tanh", x)


def softplus(x, beta, threshold):
    return activation("softplus", x, beta, threshold)


# ---- axis sums (kernels/reduce.cu)

SUM_MIN_ROWS_PER_CHUNK = 64  # sum_inner_axis: rows one block adds at least, before splitting further


def _sum_inner_axis(x, out, outer, length, inner, scale):
    """out (outer * inner) = scale * x (outer, length, inner) summed over length: in one launch,
    or in chunks of the length axis whose partial sums a second call adds."""
    blocks = math.ceil(inner / 32) * outer
    spare = max(1, BLOCKS_PER_MULTIPROCESSOR * multiprocessor_count(x) // blocks)
    chunks = max(1, min(spare, math.ceil(length / SUM_MIN_ROWS_PER_CHUNK), MAX_GRID_Y))
    rows_per_chunk = max(1, math.ceil(length / chunks))
    chunks = max(1, math.ceil(length / rows_per_chunk))
    if chunks == 1:
        launch("sum_inner_axis", (blocks, 1), (32, 8), (x, out, outer, length, inner, rows_per_chunk, scale))
        return
    partial = array_module(x).empty((chunks, outer * inner), dtype=x.dtype)
    launch("sum_inner_axis", (blocks, chunks), (32, 8), (x, partial, outer, length, inner, rows_per_chunk, 1.0))
    _sum_inner_axis(partial, out, 1, chunks, outer * inner, scale)


def _reduce(x, axis, keepdims, mean):
    x = _floating("mean_axis" if mean else "sum_axis", "x", x)
    xp = array_module(x)
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{'mean_axis' if mean else 'sum_axis'}: axis {axis} is out of range for x of shape {x.shape}")
    axis %= x.ndim
    outer, length, inner = math.prod(x.shape[:axis]), x.shape[axis], math.prod(x.shape[axis + 1:])
    scale = (1 / length if length else math.nan) if mean else 1.0
    out = xp.empty(outer * inner, dtype=x.dtype)
    if inner == 1 and outer:
        threads = min(THREADS, 32 * max(1, math.ceil(length / 32)))  # whole warps, no more than the row needs
        launch("sum_last_axis", outer, threads, (x, out, length, scale))
    elif out.size:
        _sum_inner_axis(x, out, outer, length, inner, scale)
    shape = x.shape[:axis] + ((1,) if keepdims else ()) + x.shape[axis + 1:]
    return out.reshape(shape)


def sum_axis(x, axis, keepdims=False):
    return _reduce(x, axis, keepdims, mean=False)


def mean_axis(x, axis, keepdims=False):
    return _reduce(x, axis, keepdims, mean=True)


# ---- tiled GEMM (kernels/gemm.cu)

def _gemm_operand(x, batch):
    """(C-contiguous memory, stored transposed?, batch stride) of a stack of matrices x
    (..., rows, cols) broadcast to `batch`: x itself, or, for a transposed view (F order), the
    memory of its transpose with no copy; one matrix shared by the batch gets stride 0."""
    xp = array_module(x)
    rows, cols = x.shape[-2:]
    if math.prod(x.shape[:-2]) == 1:
        x, stride = x.reshape(rows, cols), 0
    else:
        x, stride = (x if x.shape[:-2] == batch else xp.broadcast_to(x, batch + (rows, cols))), rows * cols
    if x.flags.c_contiguous:
        return x, 0, stride
    swapped = x.swapaxes(-1, -2)
    if swapped.flags.c_contiguous:
        return swapped, 1, stride
    return xp.ascontiguousarray(x), 0, stride


def gemm(a, b):
    """a @ b for float32 (SGEMM) or float64 (DGEMM) stacks of matrices (..., M, K) and
    (..., K, N) with NumPy's broadcasting of the leading dims, through the 128 x 128 tiled
    kernel (not cuBLAS): transposed views are read in place, one launch covers the batch."""
    a = _floating("gemm", "a", a, copy=False)
    b = _floating("gemm", "b", b, like=a, copy=False)
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
        raise ValueError(f"gemm: expected matrices (..., M, K) and (..., K, N), got shapes {a.shape} and {b.shape}")
    (m, k), n = a.shape[-2:], b.shape[-1]
    batch = tuple(numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    c = array_module(a).zeros(batch + (m, n), dtype=a.dtype)
    count = math.prod(batch)
    if not (m and n and count):
        return c
    (a, transpose_a, stride_a), (b, transpose_b, stride_b) = _gemm_operand(a, batch), _gemm_operand(b, batch)
    out = c.reshape(count, m, n)
    for first in range(0, count, MAX_GRID_Y):  # gridDim.z holds at most 65535 products
        size = min(MAX_GRID_Y, count - first)
        a_part = a.reshape(-1)[first * stride_a:] if stride_a else a
        b_part = b.reshape(-1)[first * stride_b:] if stride_b else b
        launch("gemm_tiled", (math.ceil(n / 128), math.ceil(m / 128), size), THREADS,
               (a_part, b_part, out[first:first + size], m, n, k, transpose_a, transpose_b, stride_a, stride_b))
    return c


# ---- im2col / col2im (kernels/im2col.cu), as backends/im2col.py

def _im2col_args(image_shape, kernel_size, stride, padding, dilation, grid):
    n, _, h, w = image_shape
    (kh, kw), (sh, sw), ((top, _), (left, _)), (dh, dw), (ho, wo) = kernel_size, stride, padding, dilation, grid
    return (n, h, w, kh, kw, sh, sw, top, left, dh, dw, ho, wo)


def im2col(x, kernel_size, stride, padding, dilation, grid):
    """x (N, C, H, W) -> columns (C * kh * kw, Ho * Wo * N); see backends/im2col.py."""
    xp = array_module(x)
    image = _floating("im2col", "x", x.transpose(1, 2, 3, 0))  # (C, H, W, N), free for a batch-last x
    args = _im2col_args(x.shape, kernel_size, stride, padding, dilation, grid)
    n, c, (kh, kw), (ho, wo) = x.shape[0], x.shape[1], kernel_size, grid
    cols = xp.empty((c * kh * kw, ho * wo * n), dtype=image.dtype)
    if cols.size:
        rows = cols.shape[0]
        launch("im2col", (rows, _chunks(x, rows, cols.shape[1])), THREADS, (image, cols) + args)
    return cols


def col2im(cols, image_shape, kernel_size, stride, padding, dilation, grid):
    """The adjoint of im2col: columns -> image (N, C, H, W), a view of a (C, H, W, N) array."""
    cols = _floating("col2im", "cols", cols)
    n, c, h, w = image_shape
    image = array_module(cols).empty((c, h, w, n), dtype=cols.dtype)
    if image.size:
        args = _im2col_args(image_shape, kernel_size, stride, padding, dilation, grid)
        launch("col2im", (c, _chunks(cols, c, h * w * n)), THREADS, (cols, image) + args)
    return image.transpose(3, 0, 1, 2)


def scatter_add_rows(values, indices, num_rows):
    """out[k] = sum of values[m] over the m with indices[m] == k; see backends/im2col.py."""
    xp = array_module(values)
    flat_indices = xp.ascontiguousarray(indices.reshape(-1), dtype=numpy.int64)
    width = math.prod(values.shape[indices.ndim:])
    rows = _floating("scatter_add_rows", "values", values).reshape(flat_indices.size, width)
    out = xp.zeros((num_rows, rows.shape[1]), dtype=rows.dtype)
    if rows.size:
        low, high = int(flat_indices.min()), int(flat_indices.max())
        if low < 0 or high >= num_rows:
            raise IndexError(f"scatter_add_rows: indices must lie in [0, {num_rows}), got values from {low} to {high}")
        _elementwise("scatter_add_rows", rows, rows.size, rows, flat_indices, out, flat_indices.size, width)
    return out.reshape((num_rows,) + values.shape[indices.ndim:])


def scatter_add_along(values, index, axis, shape):
    """torch.scatter_add's sum into zeros(shape), by the scatter_add_rows kernel; see backends/indexing.py."""
    return indexing.scatter_add_along(values, index, axis, shape, scatter_add_rows, array_module(values))


# ---- direct convolution (kernels/conv2d.cu)

CONV_OUT_CHANNELS_PER_BLOCK = 8     # OUT_CHANNELS_PER_BLOCK in conv2d.cu
CONV_WEIGHT_TILE_FLOATS = 4096      # the shared-memory weight tile: 16 KiB in float32, 32 KiB in float64


def conv2d_direct(x, weight, bias, stride=1, padding=0, dilation=1):
    """torch.nn.functional.conv2d(x, weight, bias, stride, padding, dilation) with groups = 1,
    for kernels of at most 512 taps (kh * kw), without the column matrix."""
    x = _floating("conv2d_direct", "x", x)
    weight = _floating("conv2d_direct", "weight", weight, like=x)
    bias = None if bias is None else _floating("conv2d_direct", "bias", bias, like=x)
    (n, c, h, w), (o, weight_c, kh, kw) = x.shape, weight.shape
    if weight_c != c:
        raise ValueError(f"conv2d_direct: input has {c} channels but weight expects {weight_c} "
                         f"(weight shape {weight.shape})")
    taps = kh * kw
    if CONV_OUT_CHANNELS_PER_BLOCK * taps > CONV_WEIGHT_TILE_FLOATS:
        raise ValueError(f"conv2d_direct: kernels of at most {CONV_WEIGHT_TILE_FLOATS // CONV_OUT_CHANNELS_PER_BLOCK} "
                         f"taps, got {kh} x {kw}")
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    ho, wo = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = array_module(x).empty((n, o, max(ho, 0), max(wo, 0)), dtype=x.dtype)
    if y.size:
        channels_per_tile = min(c, CONV_WEIGHT_TILE_FLOATS // (CONV_OUT_CHANNELS_PER_BLOCK * taps))
        grid = (math.ceil(ho * wo / THREADS), math.ceil(o / CONV_OUT_CHANNELS_PER_BLOCK), n)
        launch("conv2d_direct", grid, THREADS,
               (x, weight, bias, y, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, channels_per_tile),
               shared_mem=x.itemsize * CONV_OUT_CHANNELS_PER_BLOCK * channels_per_tile * taps)
    return y


# ---- batch norm (kernels/batchnorm.cu) over (N, C, *) arrays

def _batch_norm_layout(function, x):
    x = _floating(function, "x", x)
    if x.ndim < 2:
        raise ValueError(f"{function}: x must have at least 2 dims (N, C, ...), got shape {x.shape}")
    n, c, s = x.shape[0], x.shape[1], math.prod(x.shape[2:])
    if n * c * s >= 2 ** 31:
        raise ValueError(f"{function}: at most 2^31 - 1 elements, got shape {x.shape}")
    return x, n, c, s


def _batch_norm_splits(x, n, c, s):
    """How many chunks each channel's n * s values are reduced in (grid.y of the partial kernels)."""
    return _chunks(x, c, n * s)


def batch_norm_stats(x):
    """Per-channel mean and biased variance of x (N, C, *) over every dim but 1 (Ioffe &
    Szegedy 2015, Algorithm 1), in one pass over x (kernels/moments.cuh)."""
    x, n, c, s = _batch_norm_layout("batch_norm_stats", x)
    xp = array_module(x)
    splits = _batch_norm_splits(x, n, c, s)
    partial = xp.empty((c, splits, 3), dtype=x.dtype)
    mean, var = xp.empty(c, dtype=x.dtype), xp.empty(c, dtype=x.dtype)
    if c:
        launch("batch_norm_partial_stats", (c, splits), THREADS, (x, partial, n, c, s, splits))
        launch("batch_norm_finalize_stats", math.ceil(c / THREADS), THREADS, (partial, mean, var, c, splits))
    return mean, var


def batch_norm_normalize(x, mean, invstd, weight, bias):
    """(x - mean) * invstd * weight + bias per channel (dim 1); weight and bias may be None."""
    x, n, c, s = _batch_norm_layout("batch_norm_normalize", x)
    y = array_module(x).empty_like(x)
    mean = _floating("batch_norm_normalize", "mean", mean, like=x)
    invstd = _floating("batch_norm_normalize", "invstd", invstd, like=x)
    affine = [None if p is None else _floating("batch_norm_normalize", label, p, like=x)
              for label, p in (("weight", weight), ("bias", bias))]
    _elementwise("batch_norm_normalize", x, x.size, x, mean, invstd, *affine, y, n, c, s)
    return y


def batch_norm_backward(grad_out, x, mean, invstd, weight):
    """Gradients of batch_norm_normalize(x, mean(x), 1 / sqrt(var(x) + eps), weight, bias) in
    training mode: (grad_input, grad_weight, grad_bias); weight may be None (then 1)."""
    x, n, c, s = _batch_norm_layout("batch_norm_backward", x)
    xp = array_module(x)
    grad_out, mean, invstd = (_floating("batch_norm_backward", label, a, like=x)
                              for label, a in (("grad_out", grad_out), ("mean", mean), ("invstd", invstd)))
    weight = None if weight is None else _floating("batch_norm_backward", "weight", weight, like=x)
    splits = _batch_norm_splits(x, n, c, s)
    partial = xp.empty((c, splits, 2), dtype=x.dtype)
    grad_weight, grad_bias = xp.empty(c, dtype=x.dtype), xp.empty(c, dtype=x.dtype)
    grad_in = xp.empty_like(x)
    if c:
        launch("batch_norm_backward_partial", (c, splits), THREADS, (x, grad_out, mean, invstd, partial, n, c, s, splits))
        launch("batch_norm_backward_finalize", math.ceil(c / THREADS), THREADS, (partial, grad_weight, grad_bias, c, splits))
    _elementwise("batch_norm_backward_input", x, x.size,
                 x, grad_out, mean, invstd, weight, grad_bias, grad_weight, grad_in, n, c, s)
    return grad_in, grad_weight, grad_bias


# ---- layer norm (kernels/layernorm.cu)

LAYER_NORM_ROWS_PER_CHUNK = 64  # rows summed per block of the weight/bias gradient kernel


def _layer_norm_rows(function, x, normalized_shape):
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if not k or tuple(x.shape[x.ndim - k:]) != normalized_shape:
        raise ValueError(f"{function}: normalized_shape {normalized_shape} must be the last dims of x, "
                         f"got x of shape {x.shape}")
    cols = math.prod(normalized_shape)
    return _floating(function, "x", x).reshape(-1, cols), x.shape[:x.ndim - k] + (1,) * k


def layer_norm_forward(x, normalized_shape, weight, bias, eps):
    """torch.native_layer_norm: (y, mean, rstd), normalizing over the last len(normalized_shape)
    dims; mean and rstd keep those dims as size 1. weight and bias may be None."""
    rows, stats_shape = _layer_norm_rows("layer_norm_forward", x, normalized_shape)
    xp = array_module(rows)
    y = xp.empty_like(rows)
    mean, rstd = xp.empty(rows.shape[0], dtype=rows.dtype), xp.empty(rows.shape[0], dtype=rows.dtype)
    affine = [None if p is None else _floating("layer_norm_forward", label, p, like=rows).reshape(-1)
              for label, p in (("weight", weight), ("bias", bias))]
    _warp_per_row("layer_norm_forward", rows, rows.shape[0], rows, *affine, y, mean, rstd, *rows.shape, eps)
    return y.reshape(x.shape), mean.reshape(stats_shape), rstd.reshape(stats_shape)


def layer_norm_backward(grad_out, x, normalized_shape, mean, rstd, weight):
    """(grad_input, grad_weight, grad_bias) of layer_norm_forward; weight may be None (then 1)."""
    rows, _ = _layer_norm_rows("layer_norm_backward", x, normalized_shape)
    xp = array_module(rows)
    grad_rows = _floating("layer_norm_backward", "grad_out", grad_out, like=rows).reshape(rows.shape)
    mean, rstd = (_floating("layer_norm_backward", label, a, like=rows).reshape(-1)
                  for label, a in (("mean", mean), ("rstd", rstd)))
    weight = None if weight is None else _floating("layer_norm_backward", "weight", weight, like=rows).reshape(-1)
    count, cols = rows.shape
    grad_in = xp.empty_like(rows)
    _warp_per_row("layer_norm_backward_input", rows, count, rows, grad_rows, mean, rstd, weight, grad_in, count, cols)
    chunks = max(1, math.ceil(count / LAYER_NORM_ROWS_PER_CHUNK))
    partial_weight = xp.empty((chunks, cols), dtype=rows.dtype)
    partial_bias = xp.empty((chunks, cols), dtype=rows.dtype)
    if cols:
        launch("layer_norm_backward_params", (math.ceil(cols / 32), chunks), (32, 8),
               (rows, grad_rows, mean, rstd, partial_weight, partial_bias, count, cols, LAYER_NORM_ROWS_PER_CHUNK))
    shape = tuple(normalized_shape)
    return (grad_in.reshape(x.shape), sum_axis(partial_weight, 0).reshape(shape),
            sum_axis(partial_bias, 0).reshape(shape))


# ---- Gumbel (kernels/gumbel.cu) and dropout (kernels/dropout.cu): uniforms come from the caller

def gumbel_noise(uniform):
    """-log(-log(u)) for uniforms u in [0, 1): standard Gumbel samples."""
    uniform = _floating("gumbel_noise", "uniform", uniform)
    noise = array_module(uniform).empty_like(uniform)
    _elementwise("gumbel_noise", uniform, uniform.size, uniform, noise, uniform.size)
    return noise


def gumbel_softmax(logits, uniform, tau, dim=-1):
    """softmax((logits + g) / tau) along `dim`, g = gumbel_noise(uniform) (Jang et al. 2016)."""
    logits = _floating("gumbel_softmax", "logits", logits)
    xp = array_module(logits)
    uniform_rows = xp.ascontiguousarray(xp.moveaxis(_floating("gumbel_softmax", "uniform", uniform, like=logits),
                                                    dim, -1))

    def rows_function(rows):
        out = xp.empty_like(rows)
        _warp_per_row("gumbel_softmax_rows", rows, rows.shape[0],
                      rows, uniform_rows.reshape(rows.shape), out, *rows.shape, tau)
        return out
    return _along_last_axis(logits, dim, rows_function)


def dropout(x, uniform, p):
    """(x * mask, mask) with mask = (u >= p) / (1 - p), as ops/dropout.py (Srivastava et al. 2014)."""
    x = _floating("dropout", "x", x)
    uniform = _floating("dropout", "uniform", uniform, like=x)
    xp = array_module(x)
    y, mask = xp.empty_like(x), xp.empty_like(x)
    _elementwise("dropout_forward", x, x.size, x, uniform, y, mask, x.size, p)
    return y, mask


def lstm_cell(gates, c):
    """The LSTM cell's pointwise part (kernels/lstm.cu), as numpy.py's lstm_cell: [h', c']
    stacked in one (2, ..., hidden) array."""
    gates = _floating("lstm_cell", "gates", gates)
    c = _floating("lstm_cell", "c", c, like=gates)
    out = array_module(c).empty((2,) + c.shape, dtype=c.dtype)
    hidden = c.shape[-1]
    _elementwise("lstm_cell_forward", c, c.size, gates, c, out, c.size // hidden if hidden else 0, hidden)
    return out


# ---- fused optimizer updates (kernels/sgd.cu, adam.cu, rmsprop.cu): one parameter, in place

def _optimizer_arrays(function, param, grad):
    if param.dtype not in FLOATING or not param.flags.c_contiguous:
        raise TypeError(f"{function}: param must be a C-contiguous float32 or float64 array, got {param.dtype} "
                        f"with strides {param.strides}")
    grad = array_module(param).broadcast_to(grad, param.shape)
    return _floating(function, "grad", grad, like=param)


def sgd_update(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """One SGD step on `param` in place; returns the momentum buffer as backends/fused_optimizers.py does."""
    grad = _optimizer_arrays("sgd_update", param, grad)
    first_step = momentum != 0 and momentum_buffer is None
    if first_step:
        momentum_buffer = array_module(param).empty_like(param)
    _elementwise("sgd_update", param, param.size, param, grad, momentum_buffer if momentum != 0 else None, param.size,
                 lr, momentum, dampening, weight_decay, nesterov, maximize, first_step)
    return momentum_buffer if momentum != 0 else None


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2, eps, weight_decay,
                maximize):
    """One Adam step on `param` in place; `step` counts from 1 (the rule: optim/adam.py)."""
    grad = _optimizer_arrays("adam_update", param, grad)
    step_size = lr / (1 - beta1 ** step)
    bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
    _elementwise("adam_update", param, param.size, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, param.size,
                 step_size, bias_correction2_sqrt, beta1, beta2, eps, weight_decay, maximize)


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps, weight_decay, momentum,
                   maximize):
    """One RMSprop step on `param` in place (the rule: optim/rmsprop.py)."""
    grad = _optimizer_arrays("rmsprop_update", param, grad)
    _elementwise("rmsprop_update", param, param.size, param, grad, square_avg, grad_avg, momentum_buffer, param.size,
                 lr, alpha, eps, weight_decay, momentum, maximize)


# ---- memory

def owned(array):
    """`array` itself if it owns contiguous memory, else a copy (so a stored `.grad` never
    aliases a broadcast view or another tensor's data)."""
    if array.flags.owndata and array.flags.c_contiguous:
        return array
    return array.copy()


def to_host(array):
    return _cupy().asnumpy(array)


def from_host(array):
    return _cupy().asarray(array)
