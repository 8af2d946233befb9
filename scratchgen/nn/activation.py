"""Activation layers: parameter-free modules around the functions of scratchgen.functional.

Each class names the function it applies (`function`) and the settings passed to it
(`settings`, in the function's argument order); `forward` and the PyTorch-style repr come
from `_Activation`. `inplace` (ReLU, LeakyReLU, ELU) is accepted for PyTorch compatibility
and shown in the repr; scratchgen always computes out of place, which gives the same output.
"""
import warnings

from .. import functional as F
from .module import Module


class _Activation(Module):
    settings = ()

    def forward(self, input):
        return self.function(input, *(getattr(self, name) for name in self.settings))

    def extra_repr(self):
        shown = [f"{name}={getattr(self, name)}" for name in self.settings]
        return ", ".join(shown + (["inplace=True"] if getattr(self, "inplace", False) else []))


class ReLU(_Activation):
    """max(0, x)."""
    function = staticmethod(F.relu)

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class LeakyReLU(_Activation):
    """x for x > 0, negative_slope * x otherwise (Maas et al. 2013)."""
    function, settings = staticmethod(F.leaky_relu), ("negative_slope",)

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace


class ELU(_Activation):
    """x for x > 0, alpha * (e^x - 1) otherwise (Clevert et al. 2015)."""
    function, settings = staticmethod(F.elu), ("alpha",)

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace


class Softplus(_Activation):
    """log(1 + e^(beta x)) / beta; linear where beta * x > threshold, for stability."""
    function, settings = staticmethod(F.softplus), ("beta", "threshold")

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold


class Tanh(_Activation):
    """Hyperbolic tangent."""
    function = staticmethod(F.tanh)


class Sigmoid(_Activation):
    """1 / (1 + e^-x)."""
    function = staticmethod(F.sigmoid)


def _softmax_dim(dim, ndim, name):
    """PyTorch's deprecated choice when dim is None: 0 for 0-, 1- and 3-d inputs, else 1."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  "Change the call to include dim=X as an argument.", stacklevel=5)
    return 0 if ndim in (0, 1, 3) else 1


class _AlongDim(_Activation):
    """Softmax and LogSoftmax: a normalisation along `dim`."""
    settings = ("dim",)

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def function(self, input, dim):
        if dim is None:
            dim = _softmax_dim(dim, getattr(input, "ndim", 0), self.along_dim.__name__)
        return self.along_dim(input, dim)


class Softmax(_AlongDim):
    """e^x_i / sum_j e^x_j along `dim`."""
    along_dim = staticmethod(F.softmax)


class LogSoftmax(_AlongDim):
    """log(softmax(x)) along `dim`, computed stably as x - logsumexp(x)."""
    along_dim = staticmethod(F.log_softmax)
