"""RMSprop (Tieleman & Hinton 2012, Coursera lecture 6.5), with momentum and the centered variant."""
from .. import zeros_like
from .optimizer import Optimizer, check_non_negative


class RMSprop(Optimizer):
    """torch.optim.RMSprop: a running average E[g^2] = alpha E[g^2] + (1 - alpha) g^2, and
    p -= lr * g / (sqrt(E[g^2]) + eps); centered subtracts E[g]^2 under the root, momentum
    accumulates g / (sqrt(...) + eps) in a buffer and steps along it."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _check_hyperparameters(self, group):
        check_non_negative("RMSprop", group, "lr", "alpha", "eps", "momentum", "weight_decay")

    def _update(self, param, grad, group, state):
        if not state:
            state["step"] = 0
            state["square_avg"] = zeros_like(param)
            if group["momentum"] > 0:
                state["momentum_buffer"] = zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = zeros_like(param)
        state["step"] += 1
        param.backend.rmsprop_update(
            param.data, grad, state["square_avg"].data,
            state["grad_avg"].data if group["centered"] else None,
            state["momentum_buffer"].data if group["momentum"] > 0 else None,
            lr=group["lr"], alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
            momentum=group["momentum"], maximize=group["maximize"])
