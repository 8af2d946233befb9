"""The NumPy backend: array-level kernels that are more than a one-line `xp` call."""
import functools

import numpy as xp

from . import clipping, elementwise, extremes, indexing, losses, normalization, skew as skewing, special
from .layout import copy_in_layout_of, same_layout
from .im2col import col2im, im2col, scatter_add_rows  # convolution and pooling kernels


def gather_rows(table, indices):
    """table[indices] for an integer index array on dim 0 (kernels/scatter_add.cu's gather_rows on a GPU)."""
    return table[indices]


# the gradient of a gather along one axis (torch.scatter_add's sum), over scatter_add_rows
scatter_add_along = functools.partial(indexing.scatter_add_along, add_rows=scatter_add_rows, xp=xp)

name = "cpu"

# the normalisation ops' array work (backends/normalization.py) on NumPy arrays
affine, coefficients, moments, sums = (functools.partial(kernel, xp=xp) for kernel in (
    normalization.affine, normalization.coefficients, normalization.moments, normalization.sums))

# clipping and its gradient (backends/clipping.py) on NumPy arrays
clip, clip_backward = (functools.partial(kernel, xp=xp) for kernel in (clipping.clip, clipping.clip_backward))

# elementwise arithmetic and maths (backends/elementwise.py; kernels/elementwise.cu on a GPU) on NumPy arrays
unary, binary = (functools.partial(kernel, xp=xp) for kernel in (elementwise.unary, elementwise.binary))
copy_into = elementwise.copy_into


def reshape(x, shape):
    return x.reshape(shape)  # a copy where no view reads x's memory as `shape` (kernels/elementwise.cu on a GPU)

# the losses' fused elementwise parts (backends/losses.py; kernels/losses.cu on a GPU) on NumPy arrays
bce_with_logits = functools.partial(losses.bce_with_logits, xp=xp)

# max and min along an axis with their indices and gradient weights (backends/extremes.py) on NumPy arrays
extreme_along = functools.partial(extremes.extreme_along, xp=xp)

# the Diagonal BiLSTM's skew and unskew (backends/skew.py) on NumPy arrays
skew, unskew = (functools.partial(kernel, xp=xp) for kernel in (skewing.skew, skewing.unskew))

# the special functions' array code (backends/special.py) on NumPy arrays
erf, lgamma, digamma, polygamma = (functools.partial(kernel, xp=xp) for kernel in (
    special.erf, special.lgamma, special.digamma, special.polygamma))

# From this contraction length on, matmul orders a 2-D product for OpenBLAS's speed rather
# than for its result's layout
LONG_CONTRACTION = 1024


def matmul(a, b, layout_of=None):
    """a @ b (at least 2-D each), run the way OpenBLAS does it fastest. A 2-D product that is
    the gradient of the array `layout_of` is computed either as it reads or as (b^T a^T)^T:
    - over a long contraction, for speed: OpenBLAS runs it 1.2-2.4x faster with the result's
      longer side as its rows (a convolution's weight gradient, 128 x 1024 over 3136 columns:
      4.5 against 5.4 ms), and the result is then copied into layout_of's memory order;
    - over a short one, for layout: the order that writes the result in layout_of's memory
      order (F order for a Linear's input gradient when the input is a Flatten of a
      batch-last convolution output), so that the ops before it read both alike."""
    if layout_of is None or not a.ndim == b.ndim == layout_of.ndim == 2:
        return _product(a, b)
    if a.shape[1] >= LONG_CONTRACTION:
        transposed = a.shape[0] < b.shape[1]
    else:
        transposed = layout_of.flags.f_contiguous and not layout_of.flags.c_contiguous
    if not transposed:
        return _product(a, b)
    out = _product(b.T, a.T).T
    return out if same_layout(out, layout_of) else copy_in_layout_of(out, layout_of, xp)


def _product(a, b):
    """a @ b; an outer product (a contraction of length 1) as a broadcast multiply, 2.5x
    faster than OpenBLAS."""
    return a * b if a.shape[-1] == 1 else a @ b


def _shifted(x, axis):
    """x - max(x) along `axis` (a max that is not finite shifts by 0), so that exp cannot overflow."""
    m = x.max(axis=axis, keepdims=True)
    return x - xp.where(xp.isfinite(m), m, 0), m


def logsumexp(x, axis, keepdims):
    """log(sum(exp(x))) along `axis`, shifted by the max so that exp cannot overflow."""
    shifted, m = _shifted(x, axis)
    out = xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True)) + xp.where(xp.isfinite(m), m, 0)
    return out if keepdims else out.squeeze(axis)


def softmax(x, axis):
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(x, axis):
    """(x - max) - log(sum(exp(x - max))), in that order (torch's): x - logsumexp(x) would
    lose the log-sum beside logits of 1e7 in float32."""
    shifted, _ = _shifted(x, axis)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def dropout(x, p, generator):
    """(x * mask, mask) with mask = (u >= p) / (1 - p) (Srivastava et al. 2014), u uniforms of
    the library's `generator` (kernels/dropout.cu draws them on a GPU with Philox instead)."""
    mask = ((generator.uniform(x.shape, x.dtype, "cpu") >= p) / (1 - p)).astype(x.dtype, copy=False)
    return x * mask, mask


def sum_dims(x, dims, keepdims=False):
    """x summed over the dims `dims` (a tuple)."""
    return x.sum(axis=dims, keepdims=keepdims)


def gumbel_noise(uniform):
    """-log(-log u) for uniforms u in [0, 1): standard Gumbel samples, with u clamped to the
    smallest normal number of its dtype so that u = 0 stays finite (as kernels/gumbel.cu)."""
    return -xp.log(-xp.log(xp.maximum(uniform, xp.finfo(uniform.dtype).tiny)))


def gumbel_softmax(logits, uniform, tau, dim=-1):
    """softmax((logits + g) / tau) along dim, g = gumbel_noise(uniform) (Jang et al. 2016, Eq. 2)."""
    return softmax((logits + gumbel_noise(uniform)) / tau, dim)


def owned(array):
    """`array` itself if it owns writable contiguous memory, else a copy (so a stored
    `.grad` never aliases a broadcast view or another tensor's data)."""
    if array.flags.owndata and array.flags.writeable and array.flags.c_contiguous:
        return array
    return xp.array(array, copy=True, order="K")  # keep the memory order (conv grads are batch-last)


def to_host(array):
    return array


def from_host(array):
    return array


def softplus(x, beta, threshold):
    """log(1 + e^(beta x)) / beta without overflow, and x itself where beta x > threshold (torch's rule)."""
    bx = beta * x
    stable = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
    return xp.where(bx > threshold, x, stable)  # a select: x = +-inf gives inf and 0, not inf - inf


def sigmoid(x):
    """1 / (1 + e^-x) without overflow for large |x|."""
    e = xp.exp(-xp.abs(x))
    positive = 1 / (1 + e)  # sigmoid(|x|)
    # sigmoid(x) = positive for x >= 0, e * positive for x < 0: a multiply by a 0/1 mask,
    # since np.where on an unpredictable mask costs about 7x as much here
    negative = x < 0
    factor = e * negative
    factor += ~negative  # e where x < 0, exactly 1 elsewhere
    return positive * factor


# ---- the activations of ops/fused_activation.py: f(x), and g * f'(z) with z = x or, for tanh and
# sigmoid, z = y = f(x) (kernels/activations.cu on a GPU: the same formulas)

def _leaky_slope(x, negative_slope):
    """1 where x > 0, negative_slope elsewhere (nan included): mask arithmetic, ~6x faster than where()."""
    return (x > 0) * (1 - negative_slope) + negative_slope


def _softplus_slope(x, beta, threshold):
    """sigmoid(beta x), and 1 where beta x > threshold (where softplus is x itself)."""
    bx = beta * x
    return xp.where(bx > threshold, 1, sigmoid(bx)).astype(x.dtype, copy=False)


ACTIVATIONS = {  # name: (f(x, *params), f'(z, *params))
    "relu": (lambda x: xp.maximum(x, 0), lambda x: ~(x <= 0)),  # maximum keeps nan; f' passes nan (torch)
    "leaky_relu": (lambda x, slope: x * _leaky_slope(x, slope).astype(x.dtype, copy=False), _leaky_slope),
    "tanh": (xp.tanh, lambda y: 1 - y * y),
    "sigmoid": (sigmoid, lambda y: y * (1 - y)),
    "softplus": (softplus, _softplus_slope),
}


def activation(function, x, *params):
    return ACTIVATIONS[function][0](x, *params)


def activation_backward(function, z, grad_out, *params):
    return (grad_out * ACTIVATIONS[function][1](z, *params)).astype(grad_out.dtype, copy=False)


def pointwise(op, x, arguments, formula):
    """ops/activation.py's Pointwise functions: their `formula` on NumPy arrays (kernels/activations.cu's
    pointwise_map, named by `op` and `arguments`, on a GPU)."""
    return formula(x)


def lstm_cell(gates, c):
    """The LSTM cell's pointwise part (ops/lstm.py): from gates (..., 4 * hidden) in torch's
    order (i, f, g, o) and c (..., hidden), [h', c'] stacked in one (2, ..., hidden) array:
    c' = sigmoid(f) c + sigmoid(i) tanh(g), h' = sigmoid(o) tanh(c') (kernels/lstm.cu on a GPU)."""
    hidden = c.shape[-1]
    out = xp.empty((2,) + c.shape, dtype=xp.result_type(gates, c))
    out[1] = sigmoid(gates[..., hidden:2 * hidden]) * c + sigmoid(gates[..., :hidden]) * xp.tanh(
        gates[..., 2 * hidden:3 * hidden])
    out[0] = sigmoid(gates[..., 3 * hidden:]) * xp.tanh(out[1])
    return out


# ---- optimizer updates: one parameter and its state, in place (the rules of scratchgen/optim,
# fused; see fused_optimizers.py) ----

from .fused_optimizers import adam_update, rmsprop_update, sgd_update  # noqa: E402, F401
