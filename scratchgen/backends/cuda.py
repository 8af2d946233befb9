"""The CUDA backend: the functions of backends/numpy.py (and of the im2col.py,
normalization.py and fused_optimizers.py it gathers; same names, same arguments) for CuPy
arrays, each one or a few launches of the kernels in kernels/*.cu, plus the kernels that
have no NumPy counterpart yet (tiled GEMM, direct convolution, activations, axis sums,
Gumbel, dropout).

Every function takes its array module from its input. Called with NumPy arrays, the same
launches run on the CPU emulator (kernels/emulator) instead of a GPU: that is how
tests/test_kernels.py checks this module in CI. The kernels are templates over float and
double, so the arrays of one call are all float32 or all float64 (float64 is what gradcheck
needs; float32 is what training uses).
"""
import math
import os
import re

import numpy

from . import clipping, elementwise, extremes, indexing, losses, skew as skewing, special
from .launch import KERNELS_DIR, array_module, launch, multiprocessor_count
from .layout import memory_order, unpermuted, view_strides

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


def _whole_warps(work):
    """Threads for a block that shares `work` items: whole warps, at most THREADS, no more than the work needs."""
    return min(THREADS, 32 * max(1, math.ceil(work / 32)))


def _elementwise(kernel, like, n, *args):
    if n:
        launch(kernel, _grid_stride_blocks(like, n), _whole_warps(n), args)


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


# ---- elementwise arithmetic and maths (kernels/elementwise.cu)

def _enum_codes(enum, file="elementwise.cu"):
    """{member name in lower case: code} of the C enum `enum` of kernels/`file`."""
    members = re.search(rf"enum {enum} {{([^}}]*)}}", (KERNELS_DIR / file).read_text()).group(1)
    return {member.strip().lower(): code for code, member in enumerate(members.split(","))}


UNARY_OPS, BINARY_OPS = _enum_codes("UnaryOp"), _enum_codes("BinaryOp")
MAX_BROADCAST_DIMS = 4  # binary_broadcast indexes the output as (size0, size1, size2, size3)


def _dense(x):
    """(x, order) with x.transpose(order) C-contiguous: x itself in whatever order it lies in
    memory (a batch-last convolution output), or a C-ordered copy of a strided view."""
    order = memory_order(x)
    if x.transpose(order).flags.c_contiguous:
        return x, order
    return array_module(x).ascontiguousarray(x), tuple(range(x.ndim))


def _memory(x):
    """The elements of a dense x as a 1-d view, in memory order (what a kernel's pointer sees)."""
    return x.transpose(memory_order(x)).reshape(-1)


def _element_strides(x, shape, order):
    """A dense x's strides in elements over the broadcast `shape` permuted by `order`: 0 along
    the dims that x broadcasts (its size-1 and missing dims)."""
    sizes = (1,) * (len(shape) - x.ndim) + x.shape
    strides = (0,) * (len(shape) - x.ndim) + tuple(s // x.itemsize for s in x.strides)
    return tuple(strides[d] if sizes[d] > 1 else 0 for d in order)


def _collapse(sizes, *operand_strides):
    """Merge neighbouring dims that every operand steps through as one (the outer stride is
    the inner one times the inner size), and drop dims of size 1: [(size, *strides)], outer first."""
    dims = []
    for dim in zip(sizes, *operand_strides):
        if dim[0] == 1:
            continue
        if dims and all(outer == inner * dim[0] for outer, inner in zip(dims[-1][1:], dim[1:])):
            dims[-1] = (dims[-1][0] * dim[0],) + dim[1:]
        else:
            dims.append(dim)
    return dims


def _map(kernel, x, *args):
    """y = kernel(x, *args) elementwise, for a kernel (x, y, n, *args) of one pass over memory:
    y in x's memory order (a copy of x first if it is a strided view)."""
    x, _ = _dense(x)
    y = array_module(x).empty_like(x)  # x's strides
    _elementwise(kernel, x, x.size, _memory(x), _memory(y), x.size, *args)
    return y


def unary(op, x, parameter=0.0):
    """op(x) for a name of elementwise.UNARY (pow_scalar's exponent `parameter`), in x's memory
    order; an integer or bool x, or a complex exponent, as array-library expressions."""
    if x.dtype not in FLOATING or isinstance(parameter, complex):
        return elementwise.unary(op, x, parameter, xp=array_module(x))
    return _map("unary_map", x, UNARY_OPS[op], parameter)


def binary(op, a, b, in_place=False):
    """op(a, b) for "add", "sub", "mul", "div" or "pow", broadcast, stored in the memory order
    of the operand of the result's shape; in_place: into a (of the result's shape). Operands
    of other or of two different dtypes, and broadcasts that do not collapse to
    MAX_BROADCAST_DIMS dims, as array-library expressions."""
    if not (a.dtype == b.dtype and a.dtype in FLOATING):
        return elementwise.binary(op, a, b, in_place, xp=array_module(a))
    xp = array_module(a)
    shape = numpy.broadcast_shapes(a.shape, b.shape)
    dense_a, order = _dense(a)
    dense_b, order_b = _dense(b)
    if in_place and dense_a is not a:
        return elementwise.binary(op, a, b, in_place, xp=xp)
    if a.shape != shape and b.shape == shape:
        order = order_b
    elif a.shape != shape:
        order = tuple(range(len(shape)))
    dims = _collapse(tuple(shape[d] for d in order), _element_strides(dense_a, shape, order),
                     _element_strides(dense_b, shape, order))
    if len(dims) > MAX_BROADCAST_DIMS:
        return elementwise.binary(op, a, b, in_place, xp=xp)
    out = a if in_place else unpermuted(xp.empty(tuple(shape[d] for d in order), a.dtype), order)
    n, code = out.size, BINARY_OPS[op]
    if dims == [(n, 1, 1)]:
        _elementwise("binary_map", out, n, _memory(dense_a), _memory(dense_b), _memory(out), n, code)
    elif n:
        sizes, a_strides, b_strides = zip(*[(1, 0, 0)] * (MAX_BROADCAST_DIMS - len(dims)) + dims)
        _elementwise("binary_broadcast", out, n, _memory(dense_a), _memory(dense_b), _memory(out), n, code,
                     *sizes[1:], *a_strides, *b_strides)
    return out


def _address(array):
    """Where array's first element lies: CuPy's device pointer, or NumPy's host pointer on the emulator."""
    return array.data.ptr if hasattr(array.data, "ptr") else array.__array_interface__["data"][0]


def _root(array):
    """The array that owns the memory `array` views."""
    while getattr(array, "base", None) is not None and hasattr(array.base, "strides"):
        array = array.base
    return array


def _strided_copy(dst, dst_offset, dst_strides, src, src_offset, src_strides, shape):
    """The elements of `shape` from src's memory (offset + index . strides, in elements) to
    dst's (dst and src dense, their memory order read by _memory) through strided_copy; False
    (and nothing copied) where the view does not collapse to MAX_BROADCAST_DIMS dims."""
    dims = _collapse(shape, src_strides, dst_strides)
    if len(dims) > MAX_BROADCAST_DIMS:
        return False
    n = math.prod(shape)
    if n:
        sizes, src_strides, dst_strides = zip(*[(1, 0, 0)] * (MAX_BROADCAST_DIMS - len(dims)) + dims)
        memory = _memory(dst)
        _elementwise("strided_copy", memory, n, _memory(src), memory, n, src_offset, dst_offset, *sizes[1:],
                     *src_strides, *dst_strides)
    return True


def copy_into(dst, src):
    """dst[...] = src through strided_copy: dst any view of a dense array, src any array of its
    dtype (a copy of it first if it is a strided view), broadcast to dst's shape; returns dst.
    Other dtypes, and views that do not collapse to MAX_BROADCAST_DIMS dims, by the array
    library's assignment."""
    root = _root(dst)
    if (src.dtype != dst.dtype or dst.dtype not in FLOATING or src.ndim > dst.ndim
            or not root.transpose(memory_order(root)).flags.c_contiguous):
        return elementwise.copy_into(dst, src)
    src, _ = _dense(src)
    offset = (_address(dst) - _address(_memory(root))) // dst.itemsize
    if not _strided_copy(root, offset, tuple(s // dst.itemsize for s in dst.strides), src, 0,
                         _element_strides(src, dst.shape, range(dst.ndim)), dst.shape):
        return elementwise.copy_into(dst, src)
    return dst


def _diagonal_strides(skewed):
    """Element strides that read row i of a dense skewed map (N, C, H, W + H - 1) from column i:
    its own, with the row stride plus one column's."""
    n, c, row, column = (s // skewed.itemsize for s in skewed.strides)
    return n, c, row + column, column


def skew(x):
    """backends/skew.py's skew as one strided copy into zeros, through its diagonal strides."""
    if x.dtype not in FLOATING:
        return skewing.skew(x, xp=array_module(x))
    x, _ = _dense(x)
    n, c, height, width = x.shape
    out = array_module(x).zeros((n, c, height, width + height - 1), dtype=x.dtype)
    _strided_copy(out, 0, _diagonal_strides(out), x, 0, _element_strides(x, x.shape, range(4)), x.shape)
    return out


def unskew(y):
    """backends/skew.py's unskew as one strided copy out of y, through its diagonal strides."""
    if y.dtype not in FLOATING:
        return skewing.unskew(y, xp=array_module(y))
    y, _ = _dense(y)
    n, c, height, skewed_width = y.shape
    out = array_module(y).empty((n, c, height, skewed_width - height + 1), dtype=y.dtype)
    _strided_copy(out, 0, _element_strides(out, out.shape, range(4)), y, 0, _diagonal_strides(y), out.shape)
    return out


def reshape(x, shape):
    """x.reshape(shape) (-1 for one size): a view where x's memory allows one
    (layout.view_strides), else a C-ordered copy through strided_copy, then a view of it."""
    known = math.prod(n for n in shape if n != -1)
    sizes = tuple(x.size // known if n == -1 else n for n in shape) if known else shape
    if x.size == 0 or view_strides(x.shape, tuple(s // x.itemsize for s in x.strides), sizes) is not None:
        return x.reshape(shape)
    return copy_into(array_module(x).empty(x.shape, x.dtype), x).reshape(shape)


# ---- the losses' fused elementwise parts (kernels/losses.cu)

def bce_with_logits(x, t, pos_weight=None):
    """backends/losses.py's bce_with_logits in one pass: in x's memory order without pos_weight;
    with it (one per class of the last dim, or one) on C-ordered copies. Other dtypes, or a
    pos_weight of another shape, as array-library expressions."""
    arrays = (x, t) if pos_weight is None else (x, t, pos_weight)
    if x.dtype not in FLOATING or any(a.dtype != x.dtype for a in arrays) or (
            pos_weight is not None and pos_weight.size not in (1, x.shape[-1] if x.ndim else 1)):
        return losses.bce_with_logits(x, t, pos_weight, xp=array_module(x))
    xp = array_module(x)
    if pos_weight is None:
        x, _ = _dense(x)
        t = t if t.strides == x.strides else copy_into(xp.empty_like(x), t)
        classes = 1
    else:
        x, t = (_floating("binary_cross_entropy_with_logits", name, a) for name, a in (("input", x), ("target", t)))
        pos_weight = xp.ascontiguousarray(pos_weight.reshape(-1))
        classes = pos_weight.size
    loss = xp.empty_like(x)
    _elementwise("bce_with_logits_forward", x, x.size, _memory(x), _memory(t), pos_weight, _memory(loss), x.size,
                 classes)
    return loss


# ---- elementwise activations (kernels/activations.cu)

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "softplus")


def activation(function, x, *params):
    """function(x) for a name in ACTIVATIONS; params: negative_slope for leaky_relu, (beta,
    threshold) for softplus."""
    x = _floating(function, "x", x)
    y = array_module(x).empty_like(x)
    _elementwise(f"{function}_forward", x, x.size, x, y, x.size, *params)
    return y


def activation_backward(function, z, grad_out, *params):
    """grad_out * function'(z), z = x, or y = function(x) for tanh and sigmoid; the params of `activation`."""
    z = _floating(function, "z", z)
    grad_out = _floating(function, "grad_out", array_module(z).broadcast_to(grad_out, z.shape), like=z)
    grad_in = array_module(z).empty_like(z)
    _elementwise(f"{function}_backward", z, z.size, z, grad_out, grad_in, z.size, *params)
    return grad_in


def sigmoid(x):
    return activation("sigmoid", x)


POINTWISE_OPS = _enum_codes("PointwiseOp", "activations.cu")


def pointwise(op, x, arguments, formula):
    """op(x; arguments) for a name of POINTWISE_OPS (up to 3 arguments, in the kernel's order),
    in x's memory order; `formula` (x -> array, ops/activation.py's value) for other dtypes."""
    if x.dtype not in FLOATING:
        return formula(x)
    return _map("pointwise_map", x, POINTWISE_OPS[op], *arguments, *(0.0,) * (3 - len(arguments)))


# ---- clipping (kernels/activations.cu): clamp, hardtanh, relu6

def _clip_bounds(x, low, high):
    """The kernels' (low, high, has_low, has_high), or None where they cannot take the call: an
    integer x, or a bound that is an array (NumPy's clip semantics, left to the array library)."""
    if x.dtype not in FLOATING or any(b is not None and numpy.ndim(b) for b in (low, high)):
        return None
    return (0.0 if low is None else float(low), 0.0 if high is None else float(high), low is not None,
            high is not None)


def clip(x, low, high):
    """x clipped to [low, high] (None: no bound), nan kept, as numpy.py's clip."""
    bounds = _clip_bounds(x, low, high)
    if bounds is None:
        return clipping.clip(x, low, high, xp=array_module(x))
    x = _floating("clip", "x", x)
    y = array_module(x).empty_like(x)
    _elementwise("clip_forward", x, x.size, x, y, x.size, *bounds)
    return y


def clip_backward(x, grad_out, low, high, inclusive):
    """grad_out where x lies within [low, high] (inclusive) or (low, high), else 0, as numpy.py's clip_backward."""
    bounds = _clip_bounds(x, low, high)
    if bounds is None:
        return clipping.clip_backward(x, grad_out, low, high, inclusive, xp=array_module(x))
    x = _floating("clip", "x", x)
    grad_out = _floating("clip", "grad_out", array_module(x).broadcast_to(grad_out, x.shape), like=x)
    grad_in = array_module(x).empty_like(x)
    _elementwise("clip_backward", x, x.size, x, grad_out, grad_in, x.size, *bounds, inclusive)
    return grad_in


# ---- sums over dims (kernels/reduce.cu, and normalization.cu for per-channel sums)

SUM_MIN_ROWS_PER_CHUNK = 64  # sum_inner_axis: rows one block adds at least, before splitting further


def _sum_columns(x, out):
    """out[i] = the sum of column i of a C-contiguous (length, width) array, by sum_inner_axis: in
    one launch, or in chunks of the rows whose partial sums a second call adds."""
    length, width = x.shape
    blocks = math.ceil(width / 32)
    spare = max(1, BLOCKS_PER_MULTIPROCESSOR * multiprocessor_count(x) // blocks)
    chunks = max(1, min(spare, math.ceil(length / SUM_MIN_ROWS_PER_CHUNK), MAX_GRID_Y))
    rows_per_chunk = max(1, math.ceil(length / chunks))
    chunks = max(1, math.ceil(length / rows_per_chunk))
    partial = out if chunks == 1 else array_module(x).empty((chunks, width), dtype=x.dtype)
    launch("sum_inner_axis", (blocks, chunks), (32, 8), (x, partial, 1, length, width, rows_per_chunk))
    if chunks > 1:
        _sum_columns(partial, out)


def _sum_rows(rows, out):
    """out[r] = the sum of rows[r], for a C-contiguous (R, L) array with R > 0: a block per row."""
    length = rows.shape[1]
    launch("sum_last_axis", rows.shape[0], _whole_warps(length), (rows, out, length))


def sum_dims(x, dims, keepdims=False):
    """x summed over `dims` (a tuple; floating x through kernels, other dtypes by the array
    library). In x's memory order the kept dims are the channels of an (outer, channels,
    inner) view (_Channels): rows (outer = 1) are summed by sum_last_axis, columns (inner = 1)
    by sum_inner_axis, and the rest by channel_dot_partial's per-channel sums."""
    if x.dtype not in FLOATING or not dims:
        return x.sum(axis=dims, keepdims=keepdims)
    channels = _Channels("sum_dims", x, tuple(1 if d in dims else n for d, n in enumerate(x.shape)))
    outer, count, inner = channels.view_shape
    xp = array_module(x)
    out = xp.zeros(count, dtype=x.dtype)
    if count and outer * inner:
        view = channels.view(x, "x")
        if outer == 1:
            _sum_rows(view.reshape(count, inner), out)
        elif inner == 1:
            _sum_columns(view.reshape(outer, count), out)
        else:
            splits = _chunks(x, count, outer * inner)
            partial = xp.empty((count, splits), dtype=x.dtype)
            launch("channel_dot_partial", (count, splits), _whole_warps(outer * inner / splits),
                   (view, None, partial, outer, count, inner, splits))
            _sum_rows(partial, out)
    total = channels.per_channel(out.reshape(1, count))[0]
    return total if keepdims else total.reshape(tuple(n for d, n in enumerate(x.shape) if d not in dims))


# ---- max and min along an axis (kernels/reduce.cu)

def extreme_along(x, axis, largest):
    """backends/extremes.py's extreme_along through extreme_rows, one warp per row of x with
    `axis` moved last (copied into that order first unless it already lies so); other dtypes
    as array-library expressions."""
    xp = array_module(x)
    if x.dtype not in FLOATING:
        return extremes.extreme_along(x, axis, largest, xp=xp)
    moved = xp.moveaxis(x, axis, -1)
    if not moved.flags.c_contiguous:
        moved = copy_into(xp.empty(moved.shape, x.dtype), moved)
    cols = moved.shape[-1]
    rows = moved.size // cols if cols else 0
    values, indices = xp.empty(rows, x.dtype), xp.empty(rows, numpy.int64)
    weights = xp.empty(moved.shape, x.dtype)
    _warp_per_row("extreme_rows", x, rows, moved, values, indices, weights.reshape(rows, cols), rows, cols,
                  int(largest))
    kept = moved.shape[:-1] + (1,)
    return (xp.moveaxis(values.reshape(kept), -1, axis), xp.moveaxis(indices.reshape(kept), -1, axis),
            xp.moveaxis(weights, -1, axis))


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


def gather_rows(table, indices):
    """table[indices] for an integer index array on dim 0, negative indices counting from the
    end: (num_rows, *row) -> indices.shape + row, through gather_rows (other dtypes of table
    by the array library)."""
    if table.dtype not in FLOATING or table.ndim == 0:
        return table[indices]
    xp = array_module(table)
    flat_indices = xp.ascontiguousarray(indices.reshape(-1), dtype=numpy.int64)
    num_rows, width = table.shape[0], math.prod(table.shape[1:])
    out = xp.empty((flat_indices.size, width), dtype=table.dtype)
    if out.size:
        low, high = int(flat_indices.min()), int(flat_indices.max())
        if low < -num_rows or high >= num_rows:
            bad = low if low < -num_rows else high
            raise IndexError(f"gather_rows: index {bad} is out of bounds for axis 0 with size {num_rows}")
        rows = _floating("gather_rows", "table", table).reshape(num_rows, width)
        _elementwise("gather_rows", out, out.size, rows, flat_indices, out, flat_indices.size, width, num_rows)
    return out.reshape(indices.shape + table.shape[1:])


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


# ---- the normalisation ops' array work (kernels/normalization.cu): backends/normalization.py's
# four functions (moments, affine, sums, coefficients) for batch, layer, group and instance norm

class _Channels:
    """An array x of the normalisation ops split for kernels/normalization.cu: the dims where
    `kept_shape` (x's number of dims) is not 1 are the channels, the others are reduced. Read
    in x's memory order, x is (outer, channels, inner) when the channel dims lie together in
    it (no copy: a batch-last convolution output is (1, C, H * W * N)); else x is copied with
    them first (outer = 1)."""

    def __init__(self, function, x, kept_shape):
        self.function, self.shape = function, x.shape
        kept = [d for d in range(x.ndim) if kept_shape[d] != 1]
        self.memory_order = self.order = memory_order(x)
        if not self._channels_together(kept):
            self.order = tuple(kept) + tuple(d for d in range(x.ndim) if d not in kept)
        sizes = [x.shape[d] for d in self.order]
        positions = [i for i, d in enumerate(self.order) if d in kept and x.shape[d] != 1]
        first, last = (positions[0], positions[-1] + 1) if positions else (0, 0)
        self.view_shape = (math.prod(sizes[:first]), math.prod(sizes[first:last]), math.prod(sizes[last:]))
        self.kept = [d for d in self.order if d in kept]  # the channel dims, in the order the kernels count them

    def _channels_together(self, kept):
        """Whether the channel dims of size > 1 form one run in memory order (dims of size 1 lie anywhere)."""
        flags = [d in kept for d in self.order if self.shape[d] != 1]
        runs = sum(1 for i, flag in enumerate(flags) if flag and (i == 0 or not flags[i - 1]))
        return runs <= 1

    def view(self, array, argument):
        """An array of x's shape as the C-contiguous (outer, channels, inner) array of the kernels."""
        array = _floating(self.function, argument, array, copy=False)
        return array_module(array).ascontiguousarray(array.transpose(self.order)).reshape(self.view_shape)

    def unview(self, array):
        """The inverse of `view`: an (outer, channels, inner) array as x's shape, in x's memory order."""
        out = unpermuted(array.reshape(tuple(self.shape[d] for d in self.order)), self.order)
        if self.order == self.memory_order:
            return out
        return unpermuted(array_module(out).ascontiguousarray(out.transpose(self.memory_order)), self.memory_order)

    def rows(self, per_channel, argument, like):
        """(k,) + kept_shape values, one per channel, as a C-contiguous (k, channels) array."""
        per_channel = _floating(self.function, argument, per_channel, like=like, copy=False)
        xp = array_module(per_channel)
        ordered = per_channel.reshape((len(per_channel),) + tuple(self.shape[d] for d in sorted(self.kept)))
        moved = [0] + [1 + sorted(self.kept).index(d) for d in self.kept]
        return xp.ascontiguousarray(ordered.transpose(moved)).reshape(len(per_channel), -1)

    def per_channel(self, rows):
        """The inverse of `rows`: a (k, channels) array as (k,) + kept_shape."""
        ordered = rows.reshape((len(rows),) + tuple(self.shape[d] for d in self.kept))
        back = [0] + [1 + self.kept.index(d) for d in sorted(self.kept)]
        kept_shape = tuple(self.shape[d] if d in self.kept else 1 for d in range(len(self.shape)))
        return ordered.transpose(back).reshape((len(rows),) + kept_shape)


def moments(x, dims):
    """Stacked (mean, biased variance) of x over `dims`, shape (2,) + x's shape with 1 at `dims`,
    in one pass over x (kernels/moments.cuh); NaN for an empty reduction, as NumPy."""
    channels = _Channels("moments", x, tuple(1 if d in dims else n for d, n in enumerate(x.shape)))
    outer, count, inner = channels.view_shape
    xp = array_module(x)
    if not outer * count * inner:
        return channels.per_channel(xp.full((2, count), math.nan, dtype=x.dtype))
    view = channels.view(x, "x")
    stats = xp.empty((2, count), dtype=view.dtype)
    splits = _chunks(x, count, outer * inner)
    partial = xp.empty((count, splits, 3), dtype=view.dtype)
    threads = _whole_warps(outer * inner / splits)
    launch("channel_moments_partial", (count, splits), threads, (view, partial, outer, count, inner, splits))
    launch("channel_moments_finalize", math.ceil(count / THREADS), THREADS, (partial, stats, count, splits))
    return channels.per_channel(stats)


def affine(arrays, coefficients):
    """arrays[0] * c[0] + ... + arrays[k-1] * c[k-1] (+ c[k]), c = coefficients broadcast
    along the reduced dims; the result is in the first array's memory order. Two terms per
    launch of channel_affine, the later launches adding to the first's result."""
    channels = _Channels("affine", arrays[0], coefficients.shape[1:])
    views = [channels.view(a, f"arrays[{i}]") for i, a in enumerate(arrays)]
    rows = channels.rows(coefficients, "coefficients", like=views[0])
    shift = rows[len(arrays)] if len(rows) > len(arrays) else None
    out = array_module(views[0]).empty_like(views[0])
    for i in range(0, len(arrays), 2):
        b, scale_b = (views[i + 1], rows[i + 1]) if i + 1 < len(arrays) else (None, None)
        _elementwise("channel_affine", out, out.size, views[i], rows[i], b, scale_b, shift if i == 0 else None, out,
                     *channels.view_shape, i > 0)
    return channels.unview(out)


def sums(g, tensors, shape):
    """[sum of g * t_1, ..., sum of g * t_k, sum of g] over the dims where `shape` is 1, stacked
    (k >= 1): a channel_dot_partial launch per tensor, its chunks added by sum_last_axis."""
    channels = _Channels("sums", tensors[0], shape)
    outer, count, inner = channels.view_shape
    view = channels.view(g, "g")
    xp = array_module(view)
    out = xp.zeros((len(tensors) + 1, count), dtype=view.dtype)
    if not count:
        return channels.per_channel(out)
    splits = _chunks(g, count, outer * inner)
    partial = xp.empty((2, count, splits), dtype=view.dtype)
    for i, t in enumerate(tensors):
        launch("channel_dot_partial", (count, splits), _whole_warps(outer * inner / splits),
               (view, channels.view(t, f"tensors[{i}]"), partial, outer, count, inner, splits))
        _sum_rows(partial[0], out[i])
    _sum_rows(partial[1], out[-1])  # the sum of g, from the last launch
    return channels.per_channel(out)


def coefficients(stats, weight, bias, eps):
    """[scale, shift] = [weight / sqrt(var + eps), bias - mean * scale] from stats = [mean, var]."""
    stats = _floating("coefficients", "stats", stats)
    xp = array_module(stats)
    weight, bias = (_floating("coefficients", label, xp.broadcast_to(a, stats.shape[1:]), like=stats)
                    for label, a in (("weight", weight), ("bias", bias)))
    out = xp.empty_like(stats)
    n = stats[0].size
    _elementwise("channel_coefficients", stats, n, stats, weight, bias, out, n, eps)
    return out


# ---- Gumbel (kernels/gumbel.cu: uniforms from the caller) and dropout (kernels/dropout.cu: on-device Philox)

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


def dropout(x, p, generator):
    """(x * mask, mask) with mask = (u >= p) / (1 - p), as numpy.py's dropout (Srivastava et al.
    2014), but u drawn on the device: Philox4x32-10 under a 64-bit key, the one number taken
    from the library's `generator` (kernels/dropout.cu)."""
    key = int(generator.integers(0, 2 ** 64, (), numpy.uint64, "cpu"))
    return dropout_with_key(x, p, key)


def dropout_with_key(x, p, key):
    """dropout's kernel under a given 64-bit Philox key."""
    x = _floating("dropout", "x", x)
    xp = array_module(x)
    y, mask = xp.empty_like(x), xp.empty_like(x)
    _elementwise("dropout_philox", x, math.ceil(x.size / 4), x, y, mask, x.size, p, key & 0xFFFFFFFF, key >> 32)
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
