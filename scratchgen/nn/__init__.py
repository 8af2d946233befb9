"""Layers and models as PyTorch spells them: Module, Parameter, Linear, activations,
containers, and weight initialisation (`nn.init`).

    from scratchgen import nn
    model = nn.Sequential(nn.Linear(784, 400), nn.ReLU(), nn.Linear(400, 10))
"""
from . import init
from .activation import ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .containers import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .module import Module
from .parameter import Parameter
