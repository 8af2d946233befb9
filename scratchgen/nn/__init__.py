"""Layers and models as PyTorch spells them: Module, Parameter, Linear, convolutions,
normalisation, pooling, embeddings, activations, containers, weight initialisation
(`nn.init`) and weight normalisation (`nn.utils.weight_norm`).

    from scratchgen import nn
    model = nn.Sequential(nn.Linear(784, 400), nn.ReLU(), nn.Linear(400, 10))
"""
from . import init, utils
from .activation import ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .containers import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .dropout import Dropout
from .dropout2d import Dropout2d
from .embedding import Embedding
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .parameter import Parameter
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, Upsample
