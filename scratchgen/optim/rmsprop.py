"""RMSprop (Tieleman & Hinton 2012, Coursera lecture 6e), with momentum and the centered
variant (Graves 2013, eqs. 38-40).

`rmsprop_rule` is the update, line by line as torch.optim.RMSprop's documentation writes its
algorithm. `RMSprop.step` runs it through the backend's fused in-place update
(backends/fused_optimizers.py on the CPU, which performs these operations in this order, to
the last bit; kernels/rmsprop.cu on a GPU), or, with fused=False, calls `rmsprop_rule` itself;
`RMSprop.differentiable_step` calls it on Tensors.
"""
from .. import zeros_like
from .optimizer import Optimizer, check_non_negative, sqrt


def rmsprop_rule(param, grad, v, g_ave, b, *, lr, alpha, eps, weight_decay, momentum, maximize):
    """One RMSprop step on arrays or on Tensors, out of place: returns the new (param, v, g_ave,
    b). v, g_ave and b are state['square_avg'], ['grad_avg'] (None unless centered) and
    ['momentum_buffer'] (None unless momentum > 0). "torch's algorithm" is the one
    torch.optim.RMSprop's documentation writes, in whose notation lr is gamma, momentum mu and
    weight_decay lambda. Graves 2013 (eqs. 38-40) names v n, g_ave g, the gradient epsilon,
    alpha aleph and momentum beth."""
    g = -grad if maximize else grad                 # torch.optim.RMSprop: maximize f by descending -f
    if weight_decay != 0:
        g = g + weight_decay * param                # torch's algorithm: g_t <- g_t + lambda theta_{t-1}
    v = alpha * v + (1 - alpha) * (g * g)           # Hinton, lecture 6e: MeanSquare (alpha = 0.9 there); Graves eq. 38
    v_tilde = v
    if g_ave is not None:
        # centered, Graves eq. 39's running mean of g, alpha g_ave + (1 - alpha) g, written as torch.lerp
        # computes it: the variance below cancels, so this rounding is the GPU kernel's too (rmsprop.cu)
        g_ave = g_ave + (1 - alpha) * (g - g_ave)
        v_tilde = v - g_ave * g_ave                 # centered, Graves eq. 40's n - g^2: a running variance of g
    step = g / (sqrt(v_tilde) + eps)                # lecture 6e: divide g by its root mean square (eps outside, as torch)
    if b is not None:
        b = momentum * b + step                     # torch's algorithm (Graves eq. 40's Delta): b_t <- mu b_{t-1} + step
        param = param - lr * b                      # torch's algorithm: theta_t <- theta_{t-1} - gamma b_t
    else:
        param = param - lr * step                   # torch's algorithm: theta_t <- theta_{t-1} - gamma step
    return param, v, g_ave, b


class RMSprop(Optimizer):
    """torch.optim.RMSprop: a running average E[g^2] = alpha E[g^2] + (1 - alpha) g^2, and
    p -= lr * g / (sqrt(E[g^2]) + eps); centered subtracts E[g]^2 under the root, momentum
    accumulates g / (sqrt(...) + eps) in a buffer and steps along it (`rmsprop_rule`).
    fused=False runs `rmsprop_rule` instead of the backend's fused update (optimizer.py)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 maximize=False, fused=None):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize), fused)

    def _check_hyperparameters(self, group):
        check_non_negative("RMSprop", group, "lr", "alpha", "eps", "momentum", "weight_decay")

    def _initial_state(self, param, group):
        state = {"step": 0, "square_avg": zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = zeros_like(param)
        return state

    def _rule_step(self, param, grad, group, state):
        param, v, g_ave, b = rmsprop_rule(param, grad, state["square_avg"], state.get("grad_avg"),
                                          state.get("momentum_buffer"), **self._settings(group))
        buffers = {"square_avg": v, "grad_avg": g_ave, "momentum_buffer": b}
        return param, {"step": state["step"] + 1, **{name: b for name, b in buffers.items() if b is not None}}

    def _fused_update(self, param, grad, group, state):
        state["step"] += 1
        names = ("square_avg", "grad_avg", "momentum_buffer")
        arrays = [state[name].array if name in state else None for name in names]
        param.backend.rmsprop_update(param.array, grad, *arrays, **self._settings(group))

    @staticmethod
    def _settings(group):
        return dict(lr=group["lr"], alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
                    momentum=group["momentum"], maximize=group["maximize"])
