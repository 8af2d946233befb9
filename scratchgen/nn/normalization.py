"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm, SyncBatchNorm, with
PyTorch's arguments, parameter and buffer names, defaults and repr.

    bn = nn.BatchNorm2d(128)   # weight, bias; running_mean, running_var, num_batches_tracked
    model = nn.SyncBatchNorm.convert_sync_batchnorm(model)   # data-parallel: whole-batch statistics
"""
import numbers

from .. import Function, Tensor, distributed, no_grad
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


class _AllReduceSum(Function):
    """The sum of an array over the ranks of `group` (scratchgen.distributed). Every rank's loss
    depends on the sum, so the gradient of each rank's input is the sum of the ranks' gradients
    of the output: the same all-reduce, which makes this op differentiable to any order."""

    @staticmethod
    def forward(ctx, x, group=None):
        ctx.group = group
        return group.all_reduce([x], "sum", "SyncBatchNorm's all-reduce")[0]

    @staticmethod
    def backward(ctx, grad):
        return (_AllReduceSum.apply(grad, group=ctx.group),)


class SyncBatchNorm(_BatchNorm):
    """torch.nn.SyncBatchNorm: batch norm whose training statistics are those of the whole
    batch, over every rank of a data-parallel run (`process_group`, default the active one of
    scratchgen.distributed), so that N ranks with B rows each normalise as one process with
    N*B rows does. The per-channel sums go through two all-reduces in forward (the count and
    sum, then the sum of squared deviations: the two-pass variance) and their gradients
    through the same two in backward. In one process, and in eval mode, it is BatchNorm.
    Parameters, buffers and state_dict are BatchNorm's, so a checkpoint loads into either."""
    input_dims = (2, 3, 4, 5)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def forward(self, input):
        group = self.process_group if self.process_group is not None else distributed.active_group()
        if group is None or group.size == 1 or not self.training:
            return super().forward(input)
        if not isinstance(input, Tensor) or input.ndim not in self.input_dims:
            return super().forward(input)  # its message for a wrong input
        channels = input.shape[1]
        if channels != self.num_features:
            raise ValueError(f"SyncBatchNorm: expected {self.num_features} channels, got input of shape "
                             f"{tuple(input.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / int(self.num_batches_tracked.item())
        dims = (0,) + tuple(range(2, input.ndim))
        shape = (1, channels) + (1,) * (input.ndim - 2)
        local_count = tensor([input.array.size // channels], dtype=input.dtype, device=input.device)
        sums = _AllReduceSum.apply(F.cat([input.sum(dims), local_count]), group=group)  # [sum x per channel, count]
        count = float(sums[channels].item())
        if count <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel when training, got {count:g}")
        mean = sums[:channels] / count
        centred = input - mean.reshape(shape)
        variance = _AllReduceSum.apply((centred * centred).sum(dims), group=group) / count  # biased, as batch norm uses
        output = centred / (variance + self.eps).sqrt().reshape(shape)
        if self.weight is not None:
            output = output * self.weight.reshape(shape)
        if self.bias is not None:
            output = output + self.bias.reshape(shape)
        if self.track_running_stats:
            with no_grad():  # the running variance is the unbiased one, as torch keeps it
                self.running_mean.copy_(self.running_mean * (1 - factor) + mean.detach() * factor)
                unbiased = variance.detach() * (count / (count - 1))
                self.running_var.copy_(self.running_var * (1 - factor) + unbiased * factor)
        return output

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """`module` with every BatchNorm1d/2d inside it replaced by a SyncBatchNorm holding the same
        Parameters and buffers (an optimizer made before keeps working); returns the module (a
        new one when `module` itself is a batch norm), as torch's."""
        output = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            output = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                         process_group)
            for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
                setattr(output, name, getattr(module, name))
            output.train(module.training)
        for name, child in list(module.named_children()):
            converted = cls.convert_sync_batchnorm(child, process_group)
            if converted is not child:
                setattr(output, name, converted)
        return output


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
