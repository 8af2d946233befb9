"""The differentiable op vocabulary, with torch.nn.functional's names and arguments.

    import scratchgen.functional as F
    y = F.leaky_relu(F.linear(x, w, b), 0.2)

Each name is defined next to its gradient in scratchgen/ops/ (arithmetic, unary, reduction,
shape, loss, dropout, conv, normalization, pooling, embedding), except expand and sum_to,
which the engine itself needs (scratchgen/autograd/broadcast.py); this module only gathers them.
"""
from .autograd.broadcast import expand, sum_to
from .ops.arithmetic import add, div, linear, matmul, mul, neg, pow, sub
from .ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, unfold
from .ops.dropout import dropout
from .ops.dropout2d import dropout2d
from .ops.embedding import embedding
from .ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                       gaussian_nll_loss, kl_div, mse_loss, nll_loss)
from .ops.normalization import batch_norm, group_norm, instance_norm, layer_norm
from .ops.pooling import adaptive_avg_pool2d, avg_pool2d, interpolate, max_pool2d, upsample
from .ops.reduction import (argmax, argmin, log_softmax, logsumexp, max, mean, min, softmax, std,
                            sum, var, vector_norm)
from .ops.shape import (cat, chunk, clone, flatten, getitem, one_hot, pad, permute, reshape, split,
                        squeeze, stack, t, to, transpose, unflatten, unsqueeze, view)
from .ops.unary import (abs, clamp, elu, exp, isfinite, isinf, isnan, leaky_relu, log, log1p, maximum,
                        minimum, relu, sigmoid, softplus, sqrt, square, tanh, where)

__all__ = [name for name in dir() if not name.startswith("_")]
