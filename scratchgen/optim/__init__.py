"""Optimizers with torch.optim's names, defaults and update formulas:

    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss.backward(); opt.step(); opt.zero_grad()

Each module starts with its update rule on arrays, as its paper writes it (`adam_rule`,
`sgd_rule`, `rmsprop_rule`); `fused=False` runs it instead of the backend's fused update.
"""
from .adam import Adam, adam_rule
from .optimizer import Optimizer
from .rmsprop import RMSprop, rmsprop_rule
from .sgd import SGD, sgd_rule

__all__ = ["Adam", "Optimizer", "RMSprop", "SGD", "adam_rule", "rmsprop_rule", "sgd_rule"]
