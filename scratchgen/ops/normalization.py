"""Normalisation layers' ops: batch_norm (Ioffe & Szegedy 2015), layer_norm (Ba et al. 2016),
group_norm (Wu & He 2018), instance_norm (Ulyanov et al. 2016), with torch's signatures.

Each one is x_hat = (x - mean) / sqrt(var + eps) over some dims, then an affine map. Five
Functions make all of them, with backwards made of the same five (so double backward works):

- `Standardize`: x_hat * weight + bias from x's own statistics (training mode), whose
  backward is one Sums and one Affine;
- `Moments`: mean and biased variance over `dims`, stacked in one (2, ...) array;
- `Coefficients`: [scale, shift] = [weight / sqrt(var + eps), bias - mean * scale], small
  (with given statistics, as batch norm's eval mode: x * scale + shift is one Affine);
- `Affine`: t_1 * c_1 + ... + t_k * c_k + shift, with coefficients broadcast along the
  reduced dims;
- `Sums`: the sums over those dims of g * t_i and of g (Affine's coefficient gradient), by
  einsum without a temporary product.

So batch norm's forward and backward each touch the full-size data only a few times, in
few Python-level ops (the running time of a 64x128x7x7 batch is a millisecond). The array
work of Moments, Coefficients, Affine and Sums is the backend's (backends/normalization.py:
memory order, threads).
"""
import math
import numbers

from .. import backends
from ..arguments import int_tuple, number
from ..autograd.function import Function
from ..autograd.mode import is_grad_enabled, no_grad
from ..autograd.tensor import Tensor
from ._util import check_tensor, same_device
from .shape import cat, in_layout_of


class Affine(Function):
    """t_1 * c[0] + ... + t_k * c[k-1] (+ c[k]) for tensors t_i of one shape: `coefficients`,
    the last input, stacks one scale per tensor (and a shift), each of the tensors' number of
    dims and size 1 along the dims where it broadcasts."""

    @staticmethod
    def forward(ctx, *arrays):
        ctx.save_inputs(*range(len(arrays)))
        return backends.get(arrays[0]).affine(arrays[:-1], arrays[-1])

    @staticmethod
    def backward(ctx, g):
        *tensors, coefficients = ctx.saved_inputs
        need = ctx.needs_input_grad
        grads = [Affine.apply(g, coefficients[i:i + 1]) if need[i] else None for i in range(len(tensors))]
        grad_coefficients = None
        if need[-1]:
            grad_coefficients = Sums.apply(g, *tensors, shape=coefficients.shape[1:])
            if len(coefficients) == len(tensors):  # no shift
                grad_coefficients = grad_coefficients[:-1]
        return (*grads, grad_coefficients)


class Sums(Function):
    """[sum of g * t_1, ..., sum of g * t_k, sum of g] over the dims where `shape` is 1, stacked:
    the gradient of Affine's coefficients (einsum, no temporary product)."""

    @staticmethod
    def forward(ctx, g, *tensors, shape):
        ctx.save_inputs(*range(1 + len(tensors)))
        return backends.get(g).sums(g, tensors, shape)

    @staticmethod
    def backward(ctx, grad):
        g, *tensors = ctx.saved_inputs
        need = ctx.needs_input_grad
        # d/dg = sum_i grad[i] * t_i + grad[k];  d/dt_i = grad[i] * g
        grad_g = Affine.apply(*tensors, grad) if need[0] else None
        return (grad_g, *[Affine.apply(g, grad[i:i + 1]) if need[1 + i] else None for i in range(len(tensors))])


class Moments(Function):
    """Stacked (mean, biased variance) of x over `dims`: mean = sum(x) / M, var = sum((x - mean)^2) / M."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.save_inputs(0)
        ctx.save_output()
        return backends.get(x).moments(x, dims)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_inputs
        mean = ctx.saved_output[:1]
        count = max(x.array.size // max(mean.array.size, 1), 1)  # an empty x: any count gives its empty gradient
        g_mean, g_var = grad[:1], grad[1:]
        # d mean / dx = 1 / M;  d var / dx = 2 (x - mean) / M: one Affine of x
        return (Affine.apply(x, cat([g_var * (2 / count), (g_mean - 2 * g_var * mean) / count])),)


class Coefficients(Function):
    """[scale, shift] = [weight / sqrt(var + eps), bias - mean * scale] from stats = [mean, var]:
    normalisation and affine map folded into one x * scale + shift (Ioffe & Szegedy 2015)."""

    @staticmethod
    def forward(ctx, stats, weight, bias, eps):
        ctx.save_inputs(0, 1)
        ctx.eps = eps
        return backends.get(stats).coefficients(stats, weight, bias, eps)

    @staticmethod
    def backward(ctx, grad):
        stats, weight = ctx.saved_inputs
        mean, invstd = stats[:1], (stats[1:] + ctx.eps) ** -0.5
        g_scale, g_shift = grad[:1], grad[1:]
        through_scale = g_scale - g_shift * mean  # the gradient reaching scale, both uses
        d_stats = cat([-g_shift * weight * invstd, through_scale * weight * (-0.5) * invstd ** 3])
        return d_stats, through_scale[0] * invstd[0], g_shift[0]


class Standardize(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias, where `stats` = [mean, biased variance] of
    x itself over `dims` (backend.moments): the training-mode op of every norm layer, one
    Function so that its backward reads the data in three passes, not six (Sums of g and
    g * x, then one Affine of g and x). With x_hat = (x - mean) * invstd and M values per mean,
    dL/dx = weight * invstd * (g - sum(g) / M - x_hat * sum(g * x_hat) / M) (Ioffe & Szegedy
    2015, Sec. 3, the chain rule through mean and variance collected)."""

    @staticmethod
    def forward(ctx, x, weight, bias, stats, dims, eps):
        ctx.save_inputs(0, 1)
        ctx.stats, ctx.dims, ctx.eps = stats, dims, eps
        backend = backends.get(x)
        return backend.affine([x], backend.coefficients(stats, weight, bias, eps))

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_inputs
        need_x, need_weight, need_bias = ctx.needs_input_grad
        g = in_layout_of(g, x)  # then Sums and Affine read g and x along the same memory
        sums = Sums.apply(g, x, shape=weight.shape)
        if is_grad_enabled():  # recording a double backward: the statistics as the functions of x they are
            stats, concatenate = Moments.apply(x, dims=ctx.dims), cat
        else:  # first order: the per-channel algebra below on arrays, without a graph's overhead
            stats, sums, weight, concatenate = ctx.stats, sums.array, weight.array, x.backend.xp.concatenate
        count = max(math.prod(x.shape[d] for d in ctx.dims), 1)  # values per statistic (none: any count will do)
        mean, invstd = stats[:1], (stats[1:] + ctx.eps) ** -0.5
        sum_gx, sum_g = sums[:1], sums[1:]
        sum_g_xhat = (sum_gx - mean * sum_g) * invstd
        grad_x = None
        if need_x:
            scale = weight * invstd
            x_coefficient = -scale * invstd * sum_g_xhat / count
            shift = -scale * sum_g / count - x_coefficient * mean
            grad_x = Affine.apply(g, x, _tensor(concatenate([scale, x_coefficient, shift])))
        return grad_x, (_tensor(sum_g_xhat[0]) if need_weight else None), (_tensor(sum_g[0]) if need_bias else None)


def _tensor(value):
    """A Tensor as it is, an array as a constant Tensor."""
    return value if isinstance(value, Tensor) else Tensor._wrap(value)


def _standardize(x, dims, weight=None, bias=None, eps=1e-5, stats=None):
    """Standardize x over `dims` with weight and bias (None: 1 and 0) of the statistics'
    shape; `stats` = the backend's moments(x.data, dims) if the caller has it already."""
    stats = x.backend.moments(x.array, dims) if stats is None else stats
    weight, bias = _weight_and_bias(weight, bias, stats.shape[1:], x)
    return Standardize.apply(x, weight, bias, stats=stats, dims=tuple(dims), eps=eps)


def _weight_and_bias(weight, bias, shape, like):
    """weight and bias reshaped to the statistics' `shape`; None stands for 1 and 0."""
    xp = like.backend.xp
    weight = Tensor._wrap(xp.ones(shape, dtype=like.dtype)) if weight is None else weight.reshape(shape)
    bias = Tensor._wrap(xp.zeros(shape, dtype=like.dtype)) if bias is None else bias.reshape(shape)
    return weight, bias


def _normalize(x, stats, weight=None, bias=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias, as one Affine; stats = [mean, var] and
    weight and bias (None: 1 and 0) broadcast to x."""
    weight, bias = _weight_and_bias(weight, bias, stats.shape[1:], stats)
    return Affine.apply(x, Coefficients.apply(stats, weight, bias, eps=eps))


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _check_channel_vector(op, arg, value, channels):
    if value is not None and check_tensor(value, op, arg).shape != (channels,):
        raise ValueError(f"{op}: {arg} has shape {tuple(value.shape)}, expected ({channels},): one per "
                         f"channel of the input, which has {channels}")


def _check_input(op, input, min_dims, layout, eps, momentum=0.1, **parameters):
    """The checks every norm op makes: a floating-point input of at least `min_dims` dims,
    eps and momentum numbers, the parameters (Tensors or None) on input's device."""
    check_tensor(input, op, "input", "f")
    if input.ndim < min_dims:
        raise ValueError(f"{op}: expected an input of at least {min_dims} dims {layout}, got shape "
                         f"{tuple(input.shape)}")
    number(eps, op, "eps")
    if momentum is not None:
        number(momentum, op, "momentum")
    same_device(op, input=input, **parameters)


def _update_running(running, value, momentum, correction=1.0):
    """running = (1 - momentum) * running + momentum * correction * value (an array), in
    place: one version bump of the buffer."""
    with no_grad():
        running.copy_(running.array * (1 - momentum) + value.reshape(running.shape) * (momentum * correction))


def _running_stats(running_mean, running_var, shape):
    """[running_mean, running_var] as constant stats (no gradient flows into buffers)."""
    xp = running_mean.backend.xp
    return Tensor._wrap(xp.stack([running_mean.array.reshape(shape), running_var.array.reshape(shape)]))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Ioffe & Szegedy 2015, Algorithm 1, per channel (dim 1) over every other dim of a
    (N, C) or (N, C, *) input. In training the batch statistics normalise, and running_mean /
    running_var (if given) move towards the batch mean and the unbiased batch variance by
    `momentum`, in place; otherwise the running statistics normalise. An empty batch gives an
    empty output and leaves the running statistics as they are, as torch."""
    op = "batch_norm"
    _check_input(op, input, 2, "(N, C, ...)", eps, momentum, running_mean=running_mean, running_var=running_var,
                 weight=weight, bias=bias)
    channels = input.shape[1]
    for arg, value in (("running_mean", running_mean), ("running_var", running_var),
                       ("weight", weight), ("bias", bias)):
        _check_channel_vector(op, arg, value, channels)
    if training:
        dims = (0,) + tuple(range(2, input.ndim))
        count = math.prod(input.shape[d] for d in dims)
        if count == 1:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, got input "
                             f"of shape {tuple(input.shape)}")
        if count == 0:  # an empty batch, as torch: an empty output, the running statistics left as they are
            xp, shape = input.backend.xp, _channel_shape(input)
            stats = xp.stack([xp.zeros(shape, input.dtype), xp.ones(shape, input.dtype)])  # any: nothing to scale
            return _normalize(input, Tensor._wrap(stats), weight, bias, eps)
        stats = input.backend.moments(input.array, dims)
        if running_mean is not None:
            _update_running(running_mean, stats[0], momentum)
        if running_var is not None:
            _update_running(running_var, stats[1], momentum, count / (count - 1))
        return _standardize(input, dims, weight, bias, eps, stats)
    if running_mean is None or running_var is None:
        raise ValueError(f"{op}: running_mean and running_var are needed when training=False")
    stats = _running_stats(running_mean, running_var, _channel_shape(input))
    return _normalize(input, stats, weight, bias, eps)


def _affine_parameters(x, weight, bias, shape):
    if weight is not None:
        x = x * weight.reshape(shape)
    return x if bias is None else x + bias.reshape(shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Ba et al. 2016: normalise over the last len(normalized_shape) dims of each sample, then
    weight * x_hat + bias with weight and bias of shape normalized_shape."""
    op = "layer_norm"
    _check_input(op, input, 0, "", eps, weight=weight, bias=bias)
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(f"{op}: normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}")
    normalized_shape = int_tuple(normalized_shape, len(normalized_shape), op, "normalized_shape", 0)
    k = len(normalized_shape)
    if k == 0 or input.shape[input.ndim - k:] != normalized_shape:
        raise ValueError(f"{op}: normalized_shape {normalized_shape} must match the last dims of the "
                         f"input, got input shape {tuple(input.shape)}")
    for arg, value in (("weight", weight), ("bias", bias)):
        if value is not None and check_tensor(value, op, arg).shape != normalized_shape:
            raise ValueError(f"{op}: {arg} has shape {tuple(value.shape)}, expected {normalized_shape}")
    x_hat = _standardize(input, range(input.ndim - k, input.ndim), eps=eps)
    return _affine_parameters(x_hat, weight, bias, normalized_shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Wu & He 2018: split the C channels of (N, C, *) into num_groups groups and normalise
    each group of each sample over its channels and positions; then a per-channel affine map."""
    op = "group_norm"
    _check_input(op, input, 2, "(N, C, ...)", eps, weight=weight, bias=bias)
    channels = input.shape[1]
    if not isinstance(num_groups, numbers.Integral) or num_groups < 1 or channels % num_groups:
        raise ValueError(f"{op}: num_groups must be a positive divisor of the number of channels "
                         f"({channels}), got {num_groups!r} (input shape {tuple(input.shape)})")
    for arg, value in (("weight", weight), ("bias", bias)):
        _check_channel_vector(op, arg, value, channels)
    grouped = input.reshape(input.shape[0], num_groups, math.prod(input.shape[1:]) // num_groups)  # N may be 0
    x_hat = _standardize(grouped, (2,), eps=eps).reshape(input.shape)
    return _affine_parameters(x_hat, weight, bias, _channel_shape(input))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Ulyanov et al. 2016: normalise each channel of each sample over its positions. With
    running statistics given, they move towards the batch average of the instance means and
    unbiased variances (as torch); use_input_stats=False normalises with them instead."""
    op = "instance_norm"
    _check_input(op, input, 3, "(N, C, L, ...)", eps, momentum, running_mean=running_mean,
                 running_var=running_var, weight=weight, bias=bias)
    channels = input.shape[1]
    for arg, value in (("running_mean", running_mean), ("running_var", running_var),
                       ("weight", weight), ("bias", bias)):
        _check_channel_vector(op, arg, value, channels)
    shape = _channel_shape(input)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: running_mean and running_var are needed when use_input_stats=False")
        return _normalize(input, _running_stats(running_mean, running_var, shape), weight, bias, eps)
    dims = tuple(range(2, input.ndim))
    count = math.prod(input.shape[2:])
    if count <= 1:
        raise ValueError(f"{op}: expected more than 1 spatial element when training, got input of "
                         f"shape {tuple(input.shape)}")
    stats = input.backend.moments(input.array, dims)
    if running_mean is not None:
        _update_running(running_mean, stats[0].mean(0), momentum)
    if running_var is not None:
        _update_running(running_var, stats[1].mean(0), momentum, count / (count - 1))
    return _affine_parameters(_standardize(input, dims, eps=eps, stats=stats), weight, bias, shape)
