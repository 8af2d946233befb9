"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm, with PyTorch's
arguments, parameter and buffer names, defaults and repr.

    bn = nn.BatchNorm2d(128)   # weight, bias; running_mean, running_var, num_batches_tracked
"""
import numbers

from .. import Tensor
from .. import functional as F
from .. import int64, ones, tensor, zeros
from ..arguments import int_tuple, integer, number
from . import init
from .module import Module
from .parameter import Parameter


def _register_affine(module, shape, affine, bias, device, dtype):
    """weight = ones(shape) if affine, bias = zeros(shape) if affine and bias; else None."""
    if affine:
        module.weight = Parameter(ones(*shape, dtype=dtype, device=device))
    else:
        module.register_parameter("weight", None)
    if affine and bias:
        module.bias = Parameter(zeros(*shape, dtype=dtype, device=device))
    else:
        module.register_parameter("bias", None)


class _BatchNorm(Module):
    """Batch normalisation (Ioffe & Szegedy 2015) over the channels (dim 1). In training it
    normalises with the batch statistics and updates the running ones by `momentum`
    (momentum=None: their cumulative average over batches, as PyTorch); in eval it uses the
    running ones, unless track_running_stats=False."""
    input_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        name = type(self).__name__
        num_features = integer(num_features, name, "num_features", 0)
        number(eps, name, "eps")
        if momentum is not None:
            number(momentum, name, "momentum", what="a number or None")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _register_affine(self, (num_features,), affine, bias, device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64, device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: argument 'input' must be a Tensor, got {type(input).__name__}")
        if input.ndim not in self.input_dims:
            expected = " or ".join(f"{d}D" for d in self.input_dims)
            raise ValueError(f"{type(self).__name__}: expected {expected} input (got {input.ndim}D input)")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / int(self.num_batches_tracked.item())
        use_batch_stats = self.training or self.running_mean is None
        keep_running = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if keep_running else None,
                              self.running_var if keep_running else None, self.weight, self.bias,
                              use_batch_stats, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) inputs."""
    input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) inputs (DCGAN, Radford et al. 2015)."""
    input_dims = (4,)


class LayerNorm(Module):
    """Layer normalisation (Ba et al. 2016) over the last dims, of shape normalized_shape."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        if not isinstance(normalized_shape, (tuple, list)):
            raise TypeError(f"LayerNorm: normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}")
        normalized_shape = int_tuple(normalized_shape, len(normalized_shape), "LayerNorm", "normalized_shape", 0)
        number(eps, "LayerNorm", "eps")
        self.normalized_shape, self.eps = tuple(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        _register_affine(self, self.normalized_shape, elementwise_affine, bias, device, dtype)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Group normalisation (Wu & He 2018): num_channels split into num_groups groups."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        num_groups = integer(num_groups, "GroupNorm", "num_groups", 1)
        num_channels = integer(num_channels, "GroupNorm", "num_channels", 0)
        number(eps, "GroupNorm", "eps")
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        _register_affine(self, (num_channels,), affine, bias, device, dtype)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
