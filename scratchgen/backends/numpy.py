"""The NumPy backend: array-level kernels that are more than a one-line `xp` call."""
import functools

import numpy as xp

from . import threads
from .im2col import col2im, im2col, scatter_add_rows  # convolution and pooling kernels

name = "cpu"


def logsumexp(x, axis, keepdims):
    """log(sum(exp(x))) along `axis`, shifted by the max so that exp cannot overflow."""
    m = x.max(axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    out = xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else out.squeeze(axis)


def softmax(x, axis):
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(x, axis):
    return x - logsumexp(x, axis, keepdims=True)


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


# ---- optimizer updates: one parameter, in place, in torch.optim's single-tensor order ----

def _effective_grad(param, grad, weight_decay, maximize):
    """The gradient an update follows: negated to maximize, plus the L2 term weight_decay * param."""
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    return grad


def _lerp_(start, end, weight, scratch):
    """start += weight * (end - start) in place (torch.lerp_), through the buffer `scratch`."""
    xp.subtract(end, start, out=scratch)
    scratch *= weight
    start += scratch


def _in_parts(update):
    """Run an elementwise in-place update on one contiguous slice of its arrays per thread
    (threads.py): the state arrays are flat views, so each thread writes only its own slice.
    PyTorch's optimizers use every core too; without this NumPy would use one."""
    @functools.wraps(update)
    def threaded(param, grad, *state, **settings):
        arrays = [param, *state]
        elements = param.size * (2 + len(state))
        if threads.parts(param.size, elements) == 1 or not all(
                a is None or a.flags.c_contiguous for a in arrays):
            return update(param, grad, *state, **settings)
        flat = [None if a is None else a.reshape(-1) for a in (param, grad, *state)]

        def part(start, stop):
            update(*(None if a is None else a[start:stop] for a in flat), **settings)
        threads.run_in_parts(part, param.size, elements)
    return threaded


def sgd_update(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """One SGD step on `param` in place. Returns the momentum buffer: None without momentum, a
    copy of the first gradient on the first step (as torch), else `momentum_buffer` updated in place."""
    grad = _effective_grad(param, grad, weight_decay, maximize)
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = xp.array(grad, copy=True)
        else:
            momentum_buffer *= momentum  # b = momentum * b + (1 - dampening) * g
            momentum_buffer += grad if dampening == 0 else (1 - dampening) * grad
        # Nesterov (Sutskever et al. 2013, as torch): step along g + momentum * b
        grad = grad + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * grad
    return momentum_buffer


@_in_parts
def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2, eps,
                weight_decay, maximize):
    """One Adam step on `param` in place; `step` counts from 1. `max_exp_avg_sq` is None
    unless amsgrad (Reddi et al. 2018: normalise by the running maximum of v)."""
    grad = _effective_grad(param, grad, weight_decay, maximize)
    scratch = xp.empty_like(param)
    _lerp_(exp_avg, grad, 1 - beta1, scratch)  # m = beta1 * m + (1 - beta1) * g
    xp.multiply(grad, grad, out=scratch)
    scratch *= 1 - beta2
    exp_avg_sq *= beta2
    exp_avg_sq += scratch  # v = beta2 * v + (1 - beta2) * g^2
    if max_exp_avg_sq is not None:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    second_moment = exp_avg_sq if max_exp_avg_sq is None else max_exp_avg_sq
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    # param -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps): Algorithm 1's m_hat / (sqrt(v_hat) + eps)
    denom = xp.sqrt(second_moment, out=scratch)
    denom /= bias_correction2 ** 0.5
    denom += eps
    xp.divide(exp_avg, denom, out=denom)
    denom *= -(lr / bias_correction1)
    param += denom


@_in_parts
def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps, weight_decay,
                   momentum, maximize):
    """One RMSprop step on `param` in place. `grad_avg` is None unless centered, and
    `momentum_buffer` None unless momentum > 0."""
    grad = _effective_grad(param, grad, weight_decay, maximize)
    avg = xp.multiply(grad, grad, out=xp.empty_like(param))
    avg *= 1 - alpha
    square_avg *= alpha
    square_avg += avg  # E[g^2] = alpha * E[g^2] + (1 - alpha) * g^2
    if grad_avg is not None:
        _lerp_(grad_avg, grad, 1 - alpha, avg)  # E[g] = alpha * E[g] + (1 - alpha) * g
        xp.multiply(grad_avg, grad_avg, out=avg)
        xp.subtract(square_avg, avg, out=avg)  # centered (Graves 2013, eqs. 38-40): E[g^2] - E[g]^2
        xp.sqrt(avg, out=avg)
    else:
        xp.sqrt(square_avg, out=avg)
    avg += eps  # torch adds eps after the square root
    xp.divide(grad, avg, out=avg)
    if momentum_buffer is not None:
        momentum_buffer *= momentum
        momentum_buffer += avg  # b = momentum * b + g / (sqrt(E[g^2]) + eps)
        xp.multiply(momentum_buffer, lr, out=avg)
        param -= avg
    else:
        avg *= -lr
        param += avg
