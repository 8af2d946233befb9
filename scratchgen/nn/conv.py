"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, with PyTorch's
arguments, parameter names and shapes, default initialisation and repr.

    conv = nn.Conv2d(1, 64, 4, stride=2, padding=1)              # weight (64, 1, 4, 4)
    deconv = nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1)  # weight (128, 64, 4, 4)
"""
import math

from .. import empty
from .. import functional as F
from ..arguments import int_tuple
from . import init
from .module import Module
from .parameter import Parameter


class _ConvNd(Module):
    """What the four layers share: checks, parameters, initialisation and repr.

    weight is (out_channels, in_channels / groups, *kernel_size) for a convolution and
    (in_channels, out_channels / groups, *kernel_size) for a transposed one (the layout of the
    convolution it is the gradient of)."""
    dims = 2
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding,
                 groups, bias, padding_mode, device, dtype):
        super().__init__()
        name, n = type(self).__name__, self.dims
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) "
                             f"must both be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode must be 'zeros' (the only mode scratchgen pads "
                             f"with), got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = int_tuple(kernel_size, n, name, "kernel_size", 1)
        self.stride = int_tuple(stride, n, name, "stride", 1)
        self.dilation = int_tuple(dilation, n, name, "dilation", 1)
        self.output_padding = int_tuple(output_padding, n, name, "output_padding", 0)
        if isinstance(padding, str) and not self.transposed:
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be 'same', 'valid', an int or a tuple of {n} ints, "
                                 f"got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = int_tuple(padding, n, name, "padding", 0)
        self.padding_mode = padding_mode
        shape = ((in_channels, out_channels // groups) if self.transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: kaiming_uniform_ with a = sqrt(5), i.e. U(-1/sqrt(fan_in),
        1/sqrt(fan_in)) for the weight, and the same interval for the bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        n = self.dims
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            text += f", padding={self.padding}"  # torch prints padding=same unquoted
        if self.dilation != (1,) * n:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        return self.function(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                             self.groups)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L) -> (N, C_out, L_out)."""
    dims, function = 1, staticmethod(F.conv1d)


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""
    dims, function = 2, staticmethod(F.conv2d)


class _ConvTranspose(_ConvNd):
    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding,
                         groups, bias, padding_mode, device, dtype)

    def forward(self, input, output_size=None):
        """`output_size` picks the output_padding that gives that size (one of the `stride`
        sizes a strided transposed convolution can produce), as PyTorch."""
        output_padding = self.output_padding if output_size is None else self._output_padding(input, output_size)
        return self.function(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                             self.groups, self.dilation)

    def _output_padding(self, input, output_size):
        name, n = type(self).__name__, self.dims
        output_size = tuple(output_size)
        if len(output_size) > n:
            output_size = output_size[len(output_size) - n:]
        if len(output_size) != n:
            raise ValueError(f"{name}: output_size must have {n} or {n + 2} elements, got {output_size}")
        padding = []
        for d in range(n):
            smallest = ((input.shape[input.ndim - n + d] - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            largest = smallest + self.stride[d] - 1
            if not smallest <= output_size[d] <= largest:
                raise ValueError(f"{name}: requested output_size {output_size} is not reachable: dim {d} "
                                 f"must be between {smallest} and {largest}")
            padding.append(output_size[d] - smallest)
        return tuple(padding)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution (N, C_in, L) -> (N, C_out, L_out), the gradient of a Conv1d."""
    dims, function = 1, staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-D convolution (N, C_in, H, W) -> (N, C_out, H_out, W_out), the gradient of a
    Conv2d; with stride 2 it doubles the resolution (DCGAN's generator, Radford et al. 2015)."""
    dims, function = 2, staticmethod(F.conv_transpose2d)
