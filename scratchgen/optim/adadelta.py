"""Adadelta (Zeiler 2012), as torch.optim.Adadelta (the optimizer of pytorch/examples' MNIST).

`adadelta_rule` is the update, line by line after Algorithm 1 of the paper, with torch's
learning rate (Zeiler's update has none: lr=1.0, torch's default, is the paper) and its
weight decay and `maximize`. There is no fused backend update for it: `Adadelta.step` always
runs the rule (`fused=False` in optimizer.py's terms); `Adadelta.differentiable_step` runs it on
Tensors.
"""
from .. import zeros_like
from .optimizer import Optimizer, check_non_negative, sqrt


def adadelta_rule(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize):
    """One Adadelta step on arrays or on Tensors, out of place: returns the new (param, square_avg,
    acc_delta).
    square_avg is Zeiler's E[g^2] and acc_delta his E[dx^2] (state['square_avg'] and
    ['acc_delta']); rho is his decay constant, eps his epsilon."""
    g = -grad if maximize else grad                             # torch.optim.Adadelta: maximize f by descending -f
    if weight_decay != 0:
        g = g + weight_decay * param                            # torch's algorithm: g_t <- g_t + lambda theta_{t-1}
    square_avg = square_avg * rho + (1 - rho) * (g * g)       # Algorithm 1, line 4: E[g^2] <- rho E[g^2] + (1-rho) g^2
    std = sqrt(square_avg + eps)                                # RMS[g]_t = sqrt(E[g^2]_t + eps)
    delta = sqrt(acc_delta + eps) / std * g                     # line 5: -dx_t = RMS[dx]_{t-1} / RMS[g]_t g_t
    acc_delta = acc_delta * rho + (1 - rho) * (delta * delta)   # line 6: E[dx^2] <- rho E[dx^2] + (1 - rho) dx^2
    param = param - lr * delta                                  # line 7: x_{t+1} = x_t + dx_t (scaled by torch's lr)
    return param, square_avg, acc_delta


class Adadelta(Optimizer):
    """torch.optim.Adadelta: running averages of the squared gradient and of the squared
    update, and p -= lr * sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g (`adadelta_rule`).
    `foreach` is accepted and ignored, as torch's implementation choice; `capturable` and
    `differentiable` (CUDA graphs, differentiating through the step) are not supported."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        for name, value in (("capturable", capturable), ("differentiable", differentiable)):
            if value:
                raise ValueError(f"Adadelta: {name}=True is not supported by scratchgen")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize),
                         fused=False)

    def _check_hyperparameters(self, group):
        check_non_negative("Adadelta", group, "lr", "eps", "weight_decay")
        if not 0 <= group["rho"] <= 1:
            raise ValueError(f"Adadelta: rho must be in [0, 1], got {group['rho']}")

    def _initial_state(self, param, group):
        return {"step": 0, "square_avg": zeros_like(param), "acc_delta": zeros_like(param)}

    def _rule_step(self, param, grad, group, state):
        param, square_avg, acc_delta = adadelta_rule(
            param, grad, state["square_avg"], state["acc_delta"], lr=group["lr"], rho=group["rho"], eps=group["eps"],
            weight_decay=group["weight_decay"], maximize=group["maximize"])
        return param, {"step": state["step"] + 1, "square_avg": square_avg, "acc_delta": acc_delta}
