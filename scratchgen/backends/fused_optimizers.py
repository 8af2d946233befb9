"""The CPU's fused optimizer updates: one parameter and its state buffers, updated in place.

Each function here is the readable rule of scratchgen/optim (`sgd_rule` in optim/sgd.py,
`adam_rule` in optim/adam.py, `rmsprop_rule` in optim/rmsprop.py) rewritten to write into
the arrays it is given instead of making new ones: the same floating-point operations on the
same operands in the same order, so the two agree to the last bit (tests/test_optim_rules.py
checks it on float64). Read the rule there; this module only says where each result goes.
`x *= a` followed by `x += b` is the rule's `a * x + b`: IEEE multiplication and addition
are commutative, so only the grouping of operations has to match, not the order of operands.

Adam and RMSprop are cut into one contiguous slice per thread (threads.py): each element's
update reads and writes that element alone, so the slices are independent. PyTorch's
optimizers use every core too; without this NumPy would use one.

The GPU's fused updates (kernels/sgd.cu, adam.cu, rmsprop.cu, launched by backends/cuda.py)
compute the same rules in float32 and are compared with these to a tolerance
(tests/test_kernels.py), not bit for bit: the compiler may contract a multiply and an add
into one fused multiply-add.
"""
import functools

import numpy as xp

from . import threads


def _one_slice_per_thread(update):
    """Run an elementwise in-place update on one contiguous slice of its arrays per thread
    (threads.run_in_parts): the arrays are viewed flat, so each thread writes only its own
    slice. Small parameters, and arrays that are not C-contiguous, stay on the calling thread."""
    @functools.wraps(update)
    def sliced(param, grad, *state, **settings):
        arrays = [param, *state]
        elements = param.size * (2 + len(state))
        if threads.parts(param.size, elements) == 1 or not all(
                a is None or a.flags.c_contiguous for a in arrays):
            return update(param, grad, *state, **settings)
        flat = [None if a is None else a.reshape(-1) for a in (param, grad, *state)]

        def one_slice(start, stop):
            update(*(None if a is None else a[start:stop] for a in flat), **settings)
        threads.run_in_parts(one_slice, param.size, elements)
    return sliced


def _effective_grad(param, grad, weight_decay, maximize):
    """g = -grad if maximize else grad; g = g + weight_decay * param if weight_decay != 0.
    A new array where either applies, else `grad` itself (which must not be written to)."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    return g


def _running_average_(average, value, decay, scratch):
    """average = decay * average + (1 - decay) * value, in place (`scratch` may be `value`)."""
    xp.multiply(value, 1 - decay, out=scratch)
    average *= decay
    average += scratch


def sgd_update(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """optim/sgd.py's sgd_rule on `param` in place. Returns the momentum buffer: None without
    momentum, a new array on the first step with momentum (b = g), else `momentum_buffer`
    updated in place. Not cut across threads, since its first step makes a new array."""
    g = _effective_grad(param, grad, weight_decay, maximize)
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = xp.array(g, copy=True)  # b = g
        else:
            momentum_buffer *= momentum  # b = momentum * b + (1 - dampening) * g
            momentum_buffer += (1 - dampening) * g
        g = g + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * g
    return momentum_buffer


@_one_slice_per_thread
def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2, eps,
                weight_decay, maximize):
    """optim/adam.py's adam_rule on `param` and m = exp_avg, v = exp_avg_sq, v_max =
    max_exp_avg_sq (None unless amsgrad) in place; `step` counts from 1."""
    g = _effective_grad(param, grad, weight_decay, maximize)
    scratch = xp.empty_like(param)
    xp.subtract(g, exp_avg, out=scratch)  # m = m + (1 - beta1) * (g - m)
    scratch *= 1 - beta1
    exp_avg += scratch
    xp.multiply(g, g, out=scratch)
    _running_average_(exp_avg_sq, scratch, beta2, scratch)  # v = beta2 * v + (1 - beta2) * (g * g)
    if max_exp_avg_sq is not None:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)  # v_max = maximum(v_max, v)
    denom = xp.sqrt(exp_avg_sq if max_exp_avg_sq is None else max_exp_avg_sq, out=scratch)
    denom /= (1 - beta2 ** step) ** 0.5
    denom += eps  # sqrt(v) / sqrt(1 - beta2^t) + eps
    xp.divide(exp_avg, denom, out=denom)
    denom *= lr / (1 - beta1 ** step)  # step_size * (m / denom)
    param -= denom


@_one_slice_per_thread
def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps, weight_decay,
                   momentum, maximize):
    """optim/rmsprop.py's rmsprop_rule on `param` and v = square_avg, g_ave = grad_avg (None
    unless centered), b = momentum_buffer (None unless momentum > 0) in place."""
    g = _effective_grad(param, grad, weight_decay, maximize)
    scratch = xp.multiply(g, g, out=xp.empty_like(param))
    _running_average_(square_avg, scratch, alpha, scratch)  # v = alpha * v + (1 - alpha) * (g * g)
    if grad_avg is not None:
        xp.subtract(g, grad_avg, out=scratch)  # g_ave = g_ave + (1 - alpha) * (g - g_ave)
        scratch *= 1 - alpha
        grad_avg += scratch
        xp.multiply(grad_avg, grad_avg, out=scratch)
        xp.subtract(square_avg, scratch, out=scratch)  # v - g_ave * g_ave
        xp.sqrt(scratch, out=scratch)
    else:
        xp.sqrt(square_avg, out=scratch)
    scratch += eps  # sqrt(...) + eps
    xp.divide(g, scratch, out=scratch)  # g / (sqrt(...) + eps)
    if momentum_buffer is not None:
        momentum_buffer *= momentum
        momentum_buffer += scratch  # b = momentum * b + g / (sqrt(...) + eps)
        xp.multiply(momentum_buffer, lr, out=scratch)  # lr * b
    else:
        scratch *= lr  # lr * (g / (sqrt(...) + eps))
    param -= scratch
