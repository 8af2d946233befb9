"""Activation layers: modules around the functions of scratchgen.functional, with torch's
arguments, reprs and (PReLU's `weight`) state-dict names.

Each class names the function it applies (`function`) and the settings passed to it by name
(`settings`); `forward` and the PyTorch-style repr come from `_Activation`. `inplace` (ReLU,
LeakyReLU, ELU, SiLU, SELU, CELU, Hardtanh, ReLU6) is accepted for PyTorch compatibility and
shown in the repr; scratchgen always computes out of place, which gives the same output.
"""
import warnings

from .. import full
from .. import functional as F
from ..arguments import integer, number
from .module import Module
from .parameter import Parameter


class _Activation(Module):
    settings = ()

    def forward(self, input):
        return self.function(input, **{name: getattr(self, name) for name in self.settings})

    def extra_repr(self):
        shown = [f"{name}={_shown(getattr(self, name))}" for name in self.settings]
        return ", ".join(shown + (["inplace=True"] if getattr(self, "inplace", False) else []))


def _shown(value):
    return repr(value) if isinstance(value, str) else value  # GELU(approximate='tanh'), as torch


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


class LogSigmoid(_Activation):
    """log(sigmoid(x)), computed without overflow."""
    function = staticmethod(F.logsigmoid)


class GELU(_Activation):
    """x Phi(x) (Hendrycks & Gimpel 2016); approximate='tanh' for their tanh approximation."""
    function, settings = staticmethod(F.gelu), ("approximate",)

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate


class SiLU(_Activation):
    """x sigmoid(x) (Elfwing et al. 2018; swish)."""
    function = staticmethod(F.silu)

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class SELU(_Activation):
    """scale * elu(x, alpha) with Klambauer et al. 2017's self-normalising constants."""
    function = staticmethod(F.selu)

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class CELU(_Activation):
    """x for x > 0, alpha (e^(x / alpha) - 1) otherwise (Barron 2017)."""
    function, settings = staticmethod(F.celu), ("alpha",)

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        alpha = number(alpha, "CELU", "alpha")
        if alpha == 0:
            raise ValueError("CELU: alpha cannot be 0 (celu divides by it)")
        self.alpha, self.inplace = alpha, inplace


class Softsign(_Activation):
    """x / (1 + |x|)."""
    function = staticmethod(F.softsign)


class Hardtanh(_Activation):
    """x clipped to [min_val, max_val]."""
    function, settings = staticmethod(F.hardtanh), ("min_val", "max_val")

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        min_val, max_val = number(min_val, "Hardtanh", "min_val"), number(max_val, "Hardtanh", "max_val")
        if not max_val > min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace


class ReLU6(_Activation):
    """min(max(x, 0), 6)."""
    function = staticmethod(F.relu6)

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class PReLU(Module):
    """x for x > 0, weight * x otherwise (He et al. 2015), with a learnt `weight` of
    num_parameters slopes (1, or one per input channel), each starting at `init`."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = integer(num_parameters, "PReLU", "num_parameters", 0)
        self.init = number(init, "PReLU", "init")
        self.weight = Parameter(full((self.num_parameters,), self.init, dtype=dtype, device=device))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class GLU(_Activation):
    """a * sigmoid(b), a and b the halves of the input along `dim` (Dauphin et al. 2017)."""
    function, settings = staticmethod(F.glu), ("dim",)

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = integer(dim, "GLU", "dim")


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
