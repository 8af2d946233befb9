"""Adam (Kingma & Ba 2015), with the AMSGrad variant (Reddi et al. 2018).

`adam_rule` is the update, line by line after Algorithm 1 of the paper (with the L2 weight
decay, `maximize` and order of operations of torch.optim.Adam). `Adam.step` runs it through the
backend's fused in-place update (backends/fused_optimizers.py on the CPU, which performs
these operations in this order, to the last bit; kernels/adam.cu on a GPU), or, with
fused=False, calls `adam_rule` itself; `Adam.differentiable_step` calls it on Tensors.
"""
from .. import zeros_like
from .optimizer import Optimizer, check_fraction, check_non_negative, maximum, sqrt


def adam_rule(param, grad, m, v, v_max, *, step, lr, beta1, beta2, eps, weight_decay, maximize):
    """One Adam step on arrays or on Tensors, out of place: returns the new (param, m, v, v_max).
    Kingma & Ba 2015, Algorithm 1, with torch.optim.Adam's additions (maximize, weight_decay,
    amsgrad) and its order of operations (the paper's Sec. 2 allows reordering the last three
    lines for efficiency). m, v and v_max are state['exp_avg'], ['exp_avg_sq'] and
    ['max_exp_avg_sq'] (v_max is None unless amsgrad); `step` is the paper's t, counted from 1;
    lr is its alpha."""
    g = -grad if maximize else grad                      # torch.optim.Adam: maximize f by descending -f
    if weight_decay != 0:
        g = g + weight_decay * param                     # torch.optim.Adam: L2 penalty in g_t (AdamW decouples it)
    m = m + (1 - beta1) * (g - m)                        # Algorithm 1, m_t = beta1 m + (1 - beta1) g (torch.lerp's form)
    v = beta2 * v + (1 - beta2) * (g * g)                # Algorithm 1, v_t: biased second raw moment estimate
    if v_max is not None:
        v_max = maximum(v_max, v)                        # AMSGrad (Reddi et al. 2018, Algorithm 2): max(v_max, v_t)
    step_size = lr / (1 - beta1 ** step)                 # Algorithm 1, m_hat_t = m_t / (1 - beta1^t), its divisor on alpha
    denom = sqrt(v if v_max is None else v_max) / (1 - beta2 ** step) ** 0.5 + eps  # sqrt(v_hat_t) + eps
    param = param - step_size * (m / denom)              # Algorithm 1, theta_t = theta - alpha m_hat / (sqrt(v_hat) + eps)
    return param, m, v, v_max


class Adam(Optimizer):
    """torch.optim.Adam: running averages m of the gradient and v of its square, bias-corrected
    by their step count, and p -= lr * m_hat / (sqrt(v_hat) + eps) (`adam_rule`). weight_decay
    adds weight_decay * p to the gradient (L2, not AdamW's decoupled decay). fused=False runs
    `adam_rule` instead of the backend's fused update (optimizer.py)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 maximize=False, fused=None):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize), fused)

    def _check_hyperparameters(self, group):
        check_non_negative("Adam", group, "lr", "eps", "weight_decay")
        if not isinstance(group["betas"], (tuple, list)) or len(group["betas"]) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {group['betas']}")
        beta1, beta2 = group["betas"]
        check_fraction("Adam", "betas[0]", beta1)
        check_fraction("Adam", "betas[1]", beta2)

    def _initial_state(self, param, group):
        state = {"step": 0, "exp_avg": zeros_like(param), "exp_avg_sq": zeros_like(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_like(param)
        return state

    def _rule_step(self, param, grad, group, state):
        step = state["step"] + 1
        param, m, v, v_max = adam_rule(param, grad, state["exp_avg"], state["exp_avg_sq"],
                                       state.get("max_exp_avg_sq"), step=step, **self._settings(group))
        new_state = {"step": step, "exp_avg": m, "exp_avg_sq": v}
        return param, new_state if v_max is None else {**new_state, "max_exp_avg_sq": v_max}

    def _fused_update(self, param, grad, group, state):
        state["step"] += 1
        v_max = state["max_exp_avg_sq"].array if group["amsgrad"] else None
        param.backend.adam_update(param.array, grad, state["exp_avg"].array, state["exp_avg_sq"].array, v_max,
                                  step=state["step"], **self._settings(group))

    @staticmethod
    def _settings(group):
        beta1, beta2 = group["betas"]
        return dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                    maximize=group["maximize"])
