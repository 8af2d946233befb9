"""The differentiable op vocabulary, with torch.nn.functional's names and arguments.

    import scratchgen.functional as F
    y = F.leaky_relu(F.linear(x, w, b), 0.2)

Each name is defined next to its gradient in scratchgen/ops/ (arithmetic, products, unary,
special, activation, reduction, scan, shape, rearrange, indexing, linalg, similarity, loss,
loss_classification, dropout, gumbel, conv, normalization, pooling, embedding, lstm, skew), except expand
and sum_to, which the engine itself needs (scratchgen/autograd/broadcast.py); this module only gathers
them.
"""
from .autograd.broadcast import expand, sum_to
from .ops.arithmetic import add, div, linear, logaddexp, matmul, mul, neg, pow, sub
from .ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, unfold
from .ops.dropout import dropout
from .ops.dropout2d import dropout2d
from .ops.embedding import embedding
from .ops.gumbel import gumbel_softmax
from .ops.indexing import gather, index_select, masked_fill, scatter_add, sort, topk
from .ops.lstm import lstm_cell_pointwise
from .ops.loss import gaussian_nll_loss, huber_loss, l1_loss, mse_loss, smooth_l1_loss
from .ops.loss_classification import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                                      kl_div, nll_loss)
from .ops.similarity import cosine_similarity, normalize
from .ops.skew import skew, unskew
from .ops.normalization import batch_norm, group_norm, instance_norm, layer_norm
from .ops.pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d,
                          avg_pool1d, avg_pool2d, interpolate, max_pool1d, max_pool2d, upsample)
from .ops.rearrange import flip, pixel_shuffle, pixel_unshuffle, repeat, roll, tile, tril, triu
from .ops.reduction import (all, amax, amin, any, argmax, argmin, log_softmax, logsumexp, max, mean, min,
                            softmax, std, sum, var, vector_norm)
from .ops.scan import cumsum, logcumsumexp, prod
from .ops.products import addmm, baddbmm, bmm, einsum, outer
from .ops.linalg import cholesky, det, inv as inverse, logdet, matrix_norm, norm, slogdet
from .ops.shape import (cat, chunk, clone, flatten, getitem, one_hot, pad, permute, reshape, split,
                        squeeze, stack, t, to, transpose, unflatten, unsqueeze, view)
from .ops.unary import (abs, clamp, clamp_max, clamp_min, cos, exp, expm1, floor, isfinite, isinf, isnan,
                        leaky_relu, log, log1p, maximum, minimum, reciprocal, relu, round, rsqrt, sigmoid, sign,
                        sin, softplus, sqrt, square, tanh, where)
from .ops.activation import (celu, elu, gelu, glu, hardtanh, logsigmoid, prelu, relu6, selu, silu,
                             softsign)
from .ops.special import digamma, erf, lgamma

__all__ = [name for name in dir() if not name.startswith("_")]
