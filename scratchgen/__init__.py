"""scratchgen: deep generative models from scratch on a reverse-mode autograd engine of its own.

    import scratchgen as sg
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward(); x.grad

The package's layers, from the top (scratchgen/layers.py): commands, training, models and
metrics, nn/optim/data, functional, ops, autograd, backends. This file only gathers the
public names.
"""
from . import backends  # first: it applies the CPU process settings before NumPy loads (README)
from .autograd import (Function, Tensor, backward, detect_anomaly, enable_grad, grad,
                       is_grad_enabled, no_grad, set_grad_enabled)
from .autograd.tensor import (arange, as_tensor, bool_, device, empty, eye, float32, float64, full,
                              full_like, int32, int64, linspace, ones, ones_like, rand, rand_like,
                              randint, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .backends.threads import get_num_threads, set_num_threads
from . import tensor_methods
from .functional import (abs, cat, chunk, clamp, exp, flatten, isfinite, isinf, isnan, log, log1p, logsumexp, matmul,
                         maximum, mean, minimum, one_hot, sigmoid, softmax, split, sqrt, stack, std, sum,
                         tanh, var, where)
from .functional import (add, addmm, all, amax, amin, any, baddbmm, bmm, cholesky, cumsum, det, div, einsum,
                         inverse, logaddexp, logcumsumexp, logdet, max, min, mul, norm, outer, prod, slogdet, sub)
from . import linalg

tensor_methods.bind()  # Tensor's operators and methods (x * y, x.sum()) call functional's ops
from .random import Generator, default_generator, get_rng_state, manual_seed, set_rng_state
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .serialization import load, save
from .version import __version__
from . import data, nn, optim, utils
