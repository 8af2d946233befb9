"""Convolution and transposed convolution, 1-D and 2-D, as im2col + GEMM (Chellapilla et al.
2006), with torch.nn.functional's signatures.

    y = F.conv2d(x, w, b, stride=2, padding=1)          # a DCGAN discriminator layer
    x = F.conv_transpose2d(z, w, stride=2, padding=1)   # a DCGAN generator layer

`Unfold` (im2col) copies every receptive field of the input into one column, so that a
convolution is one matrix product, weight @ columns. `Fold` (col2im) adds columns back into
an image; it is Unfold's adjoint, so each is the other's gradient. A transposed convolution,
the gradient of a convolution with respect to its input, is weight^T @ input followed by Fold.
Since every piece (Unfold, Fold, matmul, reshape, permute) has a gradient made of the same
pieces, the backward pass is itself differentiable: double backward (WGAN-GP's gradient
penalty) needs no extra code. A 1-D convolution is a 2-D one of height 1.

Outputs are (N, C, H, W) views of arrays stored in (C, H, W, N) order (see
backends/im2col.py): the next convolution reads that order without a transposing copy.
"""
import collections
import numbers

from .. import backends
from ..autograd.function import Function
from ..arguments import int_tuple
from ._util import check_tensor, same_device
from .arithmetic import matmul

Geometry = collections.namedtuple("Geometry", "kernel_size stride padding dilation grid")
Geometry.__doc__ = """Where the kernel reads, per spatial axis (rows, columns): padding as
(before, after) pairs; `grid` is the output size, the number of kernel positions."""


class Unfold(Function):
    """im2col: x (N, C, H, W) -> columns (C * kh * kw, Ho * Wo * N)."""

    @staticmethod
    def forward(ctx, x, geometry):
        ctx.image_shape, ctx.geometry = x.shape, geometry
        return backends.get(x).im2col(x, *geometry)

    @staticmethod
    def backward(ctx, g):
        return (Fold.apply(g, image_shape=ctx.image_shape, geometry=ctx.geometry),)


class Fold(Function):
    """col2im: columns (C * kh * kw, Ho * Wo * N) -> x (N, C, H, W), overlaps summed."""

    @staticmethod
    def forward(ctx, cols, image_shape, geometry):
        ctx.geometry = geometry
        return backends.get(cols).col2im(cols, image_shape, *geometry)

    @staticmethod
    def backward(ctx, g):
        return (Unfold.apply(g, geometry=ctx.geometry),)


# ---- argument checks, shared with pooling --------------------------------------------------

def conv_output_size(size, kernel, stride, padding, dilation):
    """Number of kernel positions along one axis; `padding` is (before, after)."""
    return (size + padding[0] + padding[1] - dilation * (kernel - 1) - 1) // stride + 1


def batched(input, spatial_dims, op):
    """(input with a batch dimension, whether it came with one): like torch, the ops accept
    an unbatched (C, *spatial) input."""
    check_tensor(input, op, "input")
    if input.ndim == spatial_dims + 2:
        return input, True
    if input.ndim == spatial_dims + 1:
        return input.unsqueeze(0), False
    raise ValueError(f"{op}: expected a {spatial_dims + 1}-D (unbatched) or {spatial_dims + 2}-D "
                     f"(batched) input, got shape {tuple(input.shape)}")


def check_kernel_fits(op, image_size, kernel_size, padding, dilation, kernel="kernel size"):
    """`kernel` names the kernel size in the message: "kernel_size" where it is an argument."""
    for size, k, (before, after), d in zip(image_size, kernel_size, padding, dilation):
        if d * (k - 1) + 1 > size + before + after:
            raise ValueError(f"{op}: {kernel} {tuple(kernel_size)} (dilation {tuple(dilation)}) "
                             f"is larger than the padded input: input size {tuple(image_size)}, "
                             f"padding {tuple(padding)}")


def lift_to_2d(x, geometry):
    """A 1-D problem as a 2-D one of height 1: x (N, C, L) -> (N, C, 1, L)."""
    missing = 4 - x.ndim
    if not missing:
        return x, geometry
    return x.reshape(x.shape[:2] + (1,) * missing + x.shape[2:]), Geometry(
        (1,) * missing + geometry.kernel_size, (1,) * missing + geometry.stride,
        ((0, 0),) * missing + geometry.padding, (1,) * missing + geometry.dilation,
        (1,) * missing + geometry.grid)


def _conv_padding(padding, kernel_size, stride, dilation, op):
    """Per axis (before, after) from an int, a tuple, 'valid' or 'same'."""
    n = len(kernel_size)
    if not isinstance(padding, str):
        return tuple((p, p) for p in int_tuple(padding, n, op, "padding", 0))
    if padding == "valid":
        return ((0, 0),) * n
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride={stride})")
        # torch puts the odd unit of an even kernel's padding after (bottom/right)
        return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel_size, dilation))
    raise ValueError(f"{op}: padding must be 'valid', 'same', an int or a tuple of {n} ints, got {padding!r}")


def _check_operands(op, dims, input, weight, bias, groups):
    input_dtype = input.dtype
    check_tensor(weight, op, "weight")
    same_device(op, input=input, weight=weight, bias=bias)
    if weight.ndim != dims + 2:
        raise ValueError(f"{op}: weight must be {dims + 2}-D, got shape {tuple(weight.shape)}")
    if weight.dtype != input_dtype:
        raise TypeError(f"{op}: input dtype {input_dtype} does not match weight dtype {weight.dtype}")
    if bias is not None and check_tensor(bias, op, "bias").dtype != input_dtype:
        raise TypeError(f"{op}: input dtype {input_dtype} does not match bias dtype {bias.dtype}")
    if not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")


def _check_channels(op, input, weight, groups, expected, grouped):
    """`grouped` names the channels weight.shape[0] counts, which groups must divide."""
    if weight.shape[0] % groups:
        raise ValueError(f"{op}: {grouped} (weight.shape[0] = {weight.shape[0]}) must be divisible "
                         f"by groups ({groups})")
    if input.shape[1] != expected:
        extra = f", groups={groups}" if groups > 1 else ""
        raise ValueError(f"{op}: input has {input.shape[1]} channels but weight expects {expected} "
                         f"(weight shape {tuple(weight.shape)}{extra})")


def _check_bias(op, bias, channels):
    if bias is not None and bias.shape != (channels,):
        raise ValueError(f"{op}: bias has shape {tuple(bias.shape)}, expected ({channels},)")


def _add_bias(out, bias):
    return out if bias is None else out + bias.reshape((1, -1) + (1,) * (out.ndim - 2))


def _group_matmul(a, b, groups):
    """a[g] @ b[g] for each group g (a block-diagonal weight times the columns); a plain
    2-D GEMM when there is one group."""
    if groups == 1:
        return matmul(a.reshape(a.shape[1:]), b.reshape(b.shape[1:]))
    return matmul(a, b)


# ---- convolution ---------------------------------------------------------------------------

def _conv(op, dims, input, weight, bias, stride, padding, dilation, groups):
    x, was_batched = batched(input, dims, op)
    _check_operands(op, dims, x, weight, bias, groups)
    _check_channels(op, x, weight, groups, weight.shape[1] * groups, "out_channels")
    out_channels, kernel_size = weight.shape[0], weight.shape[2:]
    _check_bias(op, bias, out_channels)
    stride = int_tuple(stride, dims, op, "stride", 1)
    dilation = int_tuple(dilation, dims, op, "dilation", 1)
    padding = _conv_padding(padding, kernel_size, stride, dilation, op)
    check_kernel_fits(op, x.shape[2:], kernel_size, padding, dilation)
    grid = tuple(map(conv_output_size, x.shape[2:], kernel_size, stride, padding, dilation))
    x2d, geometry = lift_to_2d(x, Geometry(kernel_size, stride, padding, dilation, grid))
    n = x.shape[0]
    cols = Unfold.apply(x2d, geometry=geometry)                           # (C*kh*kw, Ho*Wo*N)
    weights = weight.reshape(groups, out_channels // groups, -1)
    out = _group_matmul(weights, cols.reshape(groups, weights.shape[2], -1), groups)
    out = out.reshape((out_channels,) + grid + (n,)).permute((dims + 1,) + tuple(range(dims + 1)))
    out = _add_bias(out, bias)
    return out if was_batched else out.squeeze(0)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation, as torch) of input (N, C, L) with weight
    (O, C / groups, k); padding is an int, a 1-tuple, 'valid' or 'same'."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as torch) of input (N, C, H, W) with weight
    (O, C / groups, kH, kW); padding is an int, a pair, 'valid' or 'same'."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


# ---- transposed convolution ----------------------------------------------------------------

def _conv_transpose(op, dims, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x, was_batched = batched(input, dims, op)
    _check_operands(op, dims, x, weight, bias, groups)
    _check_channels(op, x, weight, groups, weight.shape[0], "in_channels")
    in_channels, out_channels, kernel_size = weight.shape[0], weight.shape[1] * groups, weight.shape[2:]
    _check_bias(op, bias, out_channels)
    stride = int_tuple(stride, dims, op, "stride", 1)
    dilation = int_tuple(dilation, dims, op, "dilation", 1)
    padding = tuple((p, p) for p in int_tuple(padding, dims, op, "padding", 0))
    output_padding = int_tuple(output_padding, dims, op, "output_padding", 0)
    if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either stride "
                         f"{stride} or dilation {dilation}")
    # the input size of the convolution whose gradient this is (torch's formula)
    size = tuple((h - 1) * s - 2 * p + d * (k - 1) + o + 1 for h, s, (p, _), d, k, o in
                 zip(x.shape[2:], stride, padding, dilation, kernel_size, output_padding))
    if min(size) < 1:
        raise ValueError(f"{op}: output size {size} is not positive (input size {tuple(x.shape[2:])}, "
                         f"padding {tuple(p for p, _ in padding)} too large)")
    x2d, geometry = lift_to_2d(x, Geometry(kernel_size, stride, padding, dilation, tuple(x.shape[2:])))
    n = x.shape[0]
    rows = x2d.permute(1, 2, 3, 0).reshape(groups, in_channels // groups, -1)  # (G, Cin/G, H*W*N)
    weights = weight.reshape(groups, in_channels // groups, -1).transpose(1, 2)
    cols = _group_matmul(weights, rows, groups).reshape(-1, rows.shape[2])     # (Cout*kh*kw, H*W*N)
    image_size = (1,) * (2 - dims) + size
    out = Fold.apply(cols, image_shape=(n, out_channels) + image_size, geometry=geometry)
    out = _add_bias(out.reshape((n, out_channels) + size), bias)
    return out if was_batched else out.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution (the gradient of conv1d with respect to its input) of input
    (N, Cin, L) with weight (Cin, Cout / groups, k)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution (the gradient of conv2d with respect to its input) of input
    (N, Cin, H, W) with weight (Cin, Cout / groups, kH, kW)."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


# ---- unfold / fold with torch's layout -----------------------------------------------------

def _window_args(op, kernel_size, dilation, padding, stride):
    kernel_size = int_tuple(kernel_size, 2, op, "kernel_size", 1)
    dilation = int_tuple(dilation, 2, op, "dilation", 1)
    padding = tuple((p, p) for p in int_tuple(padding, 2, op, "padding", 0))
    return kernel_size, int_tuple(stride, 2, op, "stride", 1), padding, dilation


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """torch.nn.functional.unfold: the sliding blocks of input (N, C, H, W) as columns,
    (N, C * kH * kW, L) with L the number of block positions."""
    x, was_batched = batched(input, 2, "unfold")
    kernel_size, stride, padding, dilation = _window_args("unfold", kernel_size, dilation, padding, stride)
    check_kernel_fits("unfold", x.shape[2:], kernel_size, padding, dilation, "kernel_size")
    grid = tuple(map(conv_output_size, x.shape[2:], kernel_size, stride, padding, dilation))
    cols = Unfold.apply(x, geometry=Geometry(kernel_size, stride, padding, dilation, grid))
    out = cols.reshape(cols.shape[0], grid[0] * grid[1], x.shape[0]).permute(2, 0, 1)  # sizes named: N may be 0
    return out if was_batched else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """torch.nn.functional.fold, the adjoint of unfold: columns (N, C * kH * kW, L) summed
    into an image (N, C, *output_size)."""
    check_tensor(input, "fold", "input")
    if input.ndim not in (2, 3):
        raise ValueError(f"fold: expected a 2-D (unbatched) or 3-D (batched) input, got shape "
                         f"{tuple(input.shape)}")
    cols_in = input if input.ndim == 3 else input.unsqueeze(0)
    output_size = int_tuple(output_size, 2, "fold", "output_size", 1)
    kernel_size, stride, padding, dilation = _window_args("fold", kernel_size, dilation, padding, stride)
    check_kernel_fits("fold", output_size, kernel_size, padding, dilation, "kernel_size")
    grid = tuple(map(conv_output_size, output_size, kernel_size, stride, padding, dilation))
    n, rows, blocks = cols_in.shape
    if rows % (kernel_size[0] * kernel_size[1]):
        raise ValueError(f"fold: input.shape[1] = {rows} must be divisible by the kernel size "
                         f"{kernel_size[0]} * {kernel_size[1]}")
    if blocks != grid[0] * grid[1]:
        raise ValueError(f"fold: input.shape[2] = {blocks} must be the number of blocks "
                         f"{grid[0]} * {grid[1]} = {grid[0] * grid[1]} for output_size {output_size}")
    cols = cols_in.permute(1, 2, 0).reshape(rows, blocks * n)
    channels = rows // (kernel_size[0] * kernel_size[1])
    out = Fold.apply(cols, image_shape=(n, channels) + output_size,
                     geometry=Geometry(kernel_size, stride, padding, dilation, grid))
    return out if input.ndim == 3 else out.squeeze(0)
