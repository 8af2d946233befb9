"""scratchgen: deep generative models from scratch on a reverse-mode autograd engine of its own.

    import scratchgen as sg
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward(); x.grad
"""
import os

# OpenBLAS's idle threads spin for about 2^28 cycles (a tenth of a second) after each matrix
# product, taking the cores from the im2col, col2im and elementwise work that follows it in
# a training step (a DCGAN step ran 20-30% slower). 2^4 cycles lets them sleep at once; the
# price is a wake-up of microseconds per product. OpenBLAS reads this when NumPy loads it, so
# it holds only where scratchgen is imported before NumPy; a value the user set wins.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

from .autograd import (Function, Tensor, backward, detect_anomaly, enable_grad, grad,
                       is_grad_enabled, no_grad, set_grad_enabled)
from .autograd.tensor import (arange, bool_, empty, eye, float32, float64, full, full_like, int32,
                              int64, linspace, ones, ones_like, rand, rand_like, randint, randn,
                              randn_like, randperm, tensor, zeros, zeros_like)
from .ops import methods as _methods  # binds Tensor's operators and methods
from .functional import (abs, cat, chunk, clamp, exp, log, log1p, logsumexp, matmul, maximum, mean,
                         minimum, one_hot, sigmoid, softmax, split, sqrt, stack, std, sum, tanh,
                         var, where)
from .random import Generator, get_rng_state, manual_seed, set_rng_state
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .serialization import load, save
from . import data, nn, optim

__version__ = "0.1.0"
