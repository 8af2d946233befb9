"""Layers and models as PyTorch spells them: Module, Parameter, Linear, convolutions,
normalisation, pooling, embeddings, recurrent layers (LSTMCell, LSTM), activations, containers,
weight initialisation (`nn.init`), weight normalisation (`nn.utils.weight_norm`) and
`nn.functional_call` (a module called with given parameter tensors,
torch.func.functional_call); and the masked layers of the autoregressive models (MaskedLinear:
MADE; MaskedConv2d: PixelCNN) and the spatial LSTMs of PixelRNN (RowLSTM, DiagonalLSTM, DiagonalBiLSTM).

    from scratchgen import nn
    model = nn.Sequential(nn.Linear(784, 400), nn.ReLU(), nn.Linear(400, 10))
"""
from . import functional, init, parallel, utils
from .activation import (CELU, ELU, GELU, GLU, SELU, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, PReLU,
                         ReLU, ReLU6, SiLU, Sigmoid, Softmax, Softplus, Softsign, Tanh)
from .bayesian import BayesianLinear, gaussian_kl_divergence
from .containers import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .dropout import Dropout
from .dropout2d import Dropout2d
from .embedding import Embedding
from .flatten import Flatten, Unflatten
from .functional_call import functional_call
from .linear import Identity, Linear
from .masked import MaskedConv2d, MaskedLinear
from .gaussian_noise import GaussianNoise
from .minibatch_discrimination import MinibatchDiscrimination
from .module import Module
from .loss import (BCELoss, BCEWithLogitsLoss, CosineSimilarity, CrossEntropyLoss, GaussianNLLLoss, HuberLoss,
                   KLDivLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss)
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, SyncBatchNorm
from .parameter import Parameter
from .pixel_rnn import DiagonalBiLSTM, DiagonalLSTM, RowLSTM
from .pixel_shuffle import PixelShuffle, PixelUnshuffle
from .rnn import LSTM, LSTMCell
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d,
                      AvgPool2d, MaxPool1d, MaxPool2d, Upsample)
from .parallel import DataParallel
from .virtual_batchnorm import VirtualBatchNorm, run_reference
