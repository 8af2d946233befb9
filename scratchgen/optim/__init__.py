"""Optimizers with torch.optim's names, defaults and update formulas:

    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss.backward(); opt.step(); opt.zero_grad()

Each module starts with its update rule on arrays, as its paper writes it (`adam_rule`,
`sgd_rule`, `rmsprop_rule`, `adadelta_rule`); `fused=False` runs it instead of the backend's
fused update. `optim.lr_scheduler` holds torch's learning-rate schedules (StepLR, ...).
"""
from . import lr_scheduler
from .adadelta import Adadelta, adadelta_rule
from .adam import Adam, adam_rule
from .optimizer import Optimizer
from .rmsprop import RMSprop, rmsprop_rule
from .sgd import SGD, sgd_rule

__all__ = ["Adadelta", "Adam", "Optimizer", "RMSprop", "SGD", "adadelta_rule", "adam_rule", "lr_scheduler",
           "rmsprop_rule", "sgd_rule"]
