"""Adam (Kingma & Ba 2014), with the AMSGrad variant (Reddi et al. 2018)."""
from .. import zeros_like
from .optimizer import Optimizer, check_fraction, check_non_negative


class Adam(Optimizer):
    """torch.optim.Adam: running averages m of the gradient and v of its square, bias-corrected
    by their step count, and p -= lr * m_hat / (sqrt(v_hat) + eps). weight_decay adds
    weight_decay * p to the gradient (L2, not AdamW's decoupled decay)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _check_hyperparameters(self, group):
        check_non_negative("Adam", group, "lr", "eps", "weight_decay")
        if not isinstance(group["betas"], (tuple, list)) or len(group["betas"]) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {group['betas']}")
        beta1, beta2 = group["betas"]
        check_fraction("Adam", "betas[0]", beta1)
        check_fraction("Adam", "betas[1]", beta2)

    def _update(self, param, grad, group, state):
        if not state:
            state["step"] = 0
            state["exp_avg"] = zeros_like(param)
            state["exp_avg_sq"] = zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = zeros_like(param)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        # Kingma & Ba 2014, Algorithm 1 (bias-corrected moments), in torch's order of operations
        param.backend.adam_update(
            param.data, grad, state["exp_avg"].data, state["exp_avg_sq"].data,
            state["max_exp_avg_sq"].data if group["amsgrad"] else None, step=state["step"],
            lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
            maximize=group["maximize"])
