"""Model families, one file each, with their papers' networks and losses; the GAN-like ones train
through the one loop of adversarial.py (AdversarialModel) and its hooks.

    from scratchgen.models import model_class, list_models
    WGANGP = model_class("wgan-gp")          # the class behind `scratchgen train wgan-gp`

Every family implements the interface of base.GenerativeModel, which is all the training loop uses, and
declares each of its settings (settings.py: type, range, help) beside its defaults.
"""
from .base import GenerativeModel
from .registry import MODELS, list_models, model_class
from .settings import Setting
