"""Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

`sgd_rule` is the update, line by line as torch.optim.SGD's documentation writes its
algorithm (Nesterov momentum after Sutskever et al. 2013). `SGD.step` runs it through the
backend's fused in-place update (backends/fused_optimizers.py on the CPU, which performs
these operations in this order, to the last bit; kernels/sgd.cu on a GPU), or, with
fused=False, calls `sgd_rule` itself; `SGD.differentiable_step` calls it on Tensors.
"""
from .. import tensor
from .optimizer import Optimizer, check_non_negative


def sgd_rule(param, grad, b, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """One SGD step on arrays or on Tensors, out of place: returns the new (param, b). b is
    state['momentum_buffer']: None before the first step with momentum, and without momentum.
    "torch's algorithm" is the one torch.optim.SGD's documentation writes, in whose notation
    lr is gamma, weight_decay lambda, momentum mu and dampening tau."""
    g = -grad if maximize else grad                 # torch.optim.SGD: maximize f by descending -f
    if weight_decay != 0:
        g = g + weight_decay * param                # torch's algorithm: g_t <- g_t + lambda theta_{t-1}
    if momentum != 0:
        if b is None:
            b = g                                   # torch's algorithm, t = 1: b_t <- g_t
        else:
            b = momentum * b + (1 - dampening) * g  # torch's algorithm, t > 1: b_t <- mu b_{t-1} + (1 - tau) g_t
        g = g + momentum * b if nesterov else b     # Nesterov (Sutskever et al. 2013): g_t <- g_t + mu b_t; else b_t
    param = param - lr * g                          # torch's algorithm: theta_t <- theta_{t-1} - gamma g_t
    return param, b


class SGD(Optimizer):
    """torch.optim.SGD: p -= lr * g, where g is the gradient (plus weight_decay * p), or with
    momentum the buffer b = momentum * b + (1 - dampening) * g (b = g on the first step)
    (`sgd_rule`). fused=False runs `sgd_rule` instead of the backend's fused update (optimizer.py)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 maximize=False, fused=None):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize), fused)

    def _check_hyperparameters(self, group):
        check_non_negative("SGD", group, "lr", "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov=True requires momentum > 0 and dampening = 0, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def _initial_state(self, param, group):
        return {}  # the momentum buffer starts as the first gradient (sgd_rule)

    def _rule_step(self, param, grad, group, state):
        param, b = sgd_rule(param, grad, state.get("momentum_buffer"), **self._settings(group))
        return param, {} if b is None else {"momentum_buffer": b}

    def _fused_update(self, param, grad, group, state):
        buffer = state["momentum_buffer"].array if "momentum_buffer" in state else None
        new_buffer = param.backend.sgd_update(param.array, grad, buffer, **self._settings(group))
        if buffer is None and new_buffer is not None:  # the first step with momentum: b_1 = g_1
            # a copy: the update's b_1 may be the gradient's own array
            state["momentum_buffer"] = tensor(new_buffer, dtype=param.dtype, device=param.device)

    @staticmethod
    def _settings(group):
        return dict(lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
                    weight_decay=group["weight_decay"], nesterov=group["nesterov"], maximize=group["maximize"])
