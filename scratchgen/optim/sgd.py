"""Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay."""
from .. import as_tensor
from .optimizer import Optimizer, check_non_negative


class SGD(Optimizer):
    """torch.optim.SGD: p -= lr * g, where g is the gradient (plus weight_decay * p), or with
    momentum the buffer b = momentum * b + (1 - dampening) * g (b = g on the first step)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    def _check_hyperparameters(self, group):
        check_non_negative("SGD", group, "lr", "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov=True requires momentum > 0 and dampening = 0, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, param, grad, group, state):
        buffer = state["momentum_buffer"].data if "momentum_buffer" in state else None
        buffer = param.backend.sgd_update(
            param.data, grad, buffer, lr=group["lr"], momentum=group["momentum"],
            dampening=group["dampening"], weight_decay=group["weight_decay"], nesterov=group["nesterov"],
            maximize=group["maximize"])
        if buffer is not None and "momentum_buffer" not in state:
            state["momentum_buffer"] = as_tensor(buffer)
