"""Ops that reorder or repeat elements without changing them, with torch's names: flip, roll,
the triangles tril and triu, repeat, tile, pixel_shuffle and pixel_unshuffle.

flip and the triangles are their own adjoints and roll's is the opposite roll, so each
backward is the op itself. repeat, tile and the pixel shuffles are written with reshape,
expand and permute, whose gradients (ops/shape.py, autograd/broadcast.py) give theirs: the
gradient of a repeat sums its copies back.
"""
from .. import backends
from ..arguments import int_tuple, integer
from ..autograd.function import Function
from ._util import check_tensor, normalize_dim, normalize_dims


class Flip(Function):
    """x reversed along each of `dims`."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return backends.get(x).xp.flip(x, axis=dims)

    @staticmethod
    def backward(ctx, g):
        return (Flip.apply(g, dims=ctx.dims),)


class Roll(Function):
    """x's elements shifted cyclically by shifts[i] along dims[i] (dims None: the flattened x)."""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return backends.get(x).xp.roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx, g):
        shifts = -ctx.shifts if ctx.dims is None else tuple(-s for s in ctx.shifts)
        return (Roll.apply(g, shifts=shifts, dims=ctx.dims),)


class Triangle(Function):
    """The lower (tril) or upper (triu) triangle of the last two dims, from `diagonal` on,
    zeros elsewhere."""

    @staticmethod
    def forward(ctx, x, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        xp = backends.get(x).xp
        return (xp.triu if upper else xp.tril)(x, diagonal)

    @staticmethod
    def backward(ctx, g):
        return (Triangle.apply(g, diagonal=ctx.diagonal, upper=ctx.upper),)


def _listed(values):
    """Arguments given one by one (x.flip(0, 1)) or as one tuple or list (torch.flip(x, (0, 1)))."""
    return tuple(values[0]) if len(values) == 1 and isinstance(values[0], (tuple, list)) else tuple(values)


def flip(input, *dims):
    """input with its elements in reverse order along each of `dims` (torch.flip; the dims
    may also come one by one, as Tensor.flip takes them)."""
    check_tensor(input, "flip", "input")
    dims = _listed(dims)
    dims = normalize_dims(dims, input.ndim, "flip") if dims else ()  # () flips nothing (not every dim)
    return Flip.apply(input, dims=dims) if dims else input


def roll(input, shifts, dims=None):
    """input's elements shifted cyclically by `shifts` along `dims`, or along the flattened
    input when dims is None (torch.roll); a dim may repeat (its shifts add up)."""
    op = "roll"
    check_tensor(input, op, "input")
    shifts = int_tuple(shifts, 1, op, "shifts", None) if not isinstance(shifts, (tuple, list)) else (
        int_tuple(shifts, len(shifts), op, "shifts", None))
    if dims is None:
        if len(shifts) != 1:
            raise ValueError(f"{op}: without dims, shifts must be one int, got {shifts}")
        return Roll.apply(input, shifts=shifts[0], dims=None)
    listed = isinstance(dims, (tuple, list))
    dims = int_tuple(dims, len(dims) if listed else 1, op, "dims", None)
    if not shifts or len(shifts) != len(dims):
        raise ValueError(f"{op}: shifts {shifts} and dims {dims} must have the same length (at least 1)")
    if input.ndim == 0:
        raise IndexError(f"{op}: dims {dims} name a dimension of a 0-d input, which has none")
    dims = tuple(normalize_dim(d, input.ndim, op, "dims") for d in dims)
    return Roll.apply(input, shifts=shifts, dims=dims)


def _triangle(input, diagonal, op, upper):
    check_tensor(input, op, "input")
    diagonal = integer(diagonal, op, "diagonal")
    if input.ndim < 2:
        raise ValueError(f"{op}: input must have at least 2 dimensions, got shape {tuple(input.shape)}")
    return Triangle.apply(input, diagonal=diagonal, upper=upper)


def tril(input, diagonal=0):
    """The lower triangle of the last two dims (j <= i + diagonal), zeros above (torch.tril)."""
    return _triangle(input, diagonal, "tril", upper=False)


def triu(input, diagonal=0):
    """The upper triangle of the last two dims (j >= i + diagonal), zeros below (torch.triu)."""
    return _triangle(input, diagonal, "triu", upper=True)


def repeat(input, *sizes):
    """input repeated sizes[i] times along dim i (torch.Tensor.repeat); more sizes than dims
    add leading dims. An expand between two reshapes: (n,) -> (1, n) -> (r, n) -> (r * n,)."""
    op = "repeat"
    check_tensor(input, op, "input")
    sizes = _listed(sizes)
    sizes = int_tuple(sizes, len(sizes), op, "sizes", 0)
    if len(sizes) < input.ndim:
        raise ValueError(f"{op}: sizes {sizes} must have at least as many entries as input has dims "
                         f"({input.ndim})")
    shape = (1,) * (len(sizes) - input.ndim) + input.shape
    pairs = input.reshape(tuple(side for n in shape for side in (1, n)))
    copies = pairs.expand(tuple(side for r, n in zip(sizes, shape) for side in (r, n)))
    return copies.reshape(tuple(r * n for r, n in zip(sizes, shape)))


def tile(input, *dims):
    """input repeated dims[i] times along dim i (torch.tile); fewer dims than input's are
    padded with ones in front. The dims may also come one by one, as Tensor.tile takes them."""
    check_tensor(input, "tile", "input")
    dims = _listed(dims)
    dims = int_tuple(dims, len(dims), "tile", "dims", 0)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def _image_dims(input, factor, op, arg):
    check_tensor(input, op, "input")
    factor = integer(factor, op, arg, 1)
    if input.ndim < 3:
        raise ValueError(f"{op}: input must have at least 3 dimensions (*, C, H, W), got shape {tuple(input.shape)}")
    return input.shape[:-3], input.shape[-3:], factor


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): out[c, h r + i, w r + j] = in[c r^2 + i r + j, h, w]
    (torch.nn.functional.pixel_shuffle), the sub-pixel convolution's rearrangement of Shi et
    al. 2016, "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
    Convolutional Neural Network". Empty input keeps this shape rule and gets a gradient
    (deliberately: torch 2.13's backward fails on it)."""
    op = "pixel_shuffle"
    batch, (c, h, w), r = _image_dims(input, upscale_factor, op, "upscale_factor")
    if c % (r * r):
        raise ValueError(f"{op}: the channel dim (size {c}, input shape {tuple(input.shape)}) must be "
                         f"divisible by upscale_factor ** 2 = {r * r}")
    n = len(batch)
    x = input.reshape(batch + (c // (r * r), r, r, h, w))
    x = x.permute(tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))  # (*, C, H, r, W, r)
    return x.reshape(batch + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of pixel_shuffle
    (torch.nn.functional.pixel_unshuffle). Empty input keeps this shape rule (deliberately:
    torch 2.13 returns an empty input's shape unchanged)."""
    op = "pixel_unshuffle"
    batch, (c, h, w), r = _image_dims(input, downscale_factor, op, "downscale_factor")
    if h % r or w % r:
        raise ValueError(f"{op}: height and width (input shape {tuple(input.shape)}) must be divisible by "
                         f"downscale_factor {r}")
    n = len(batch)
    x = input.reshape(batch + (c, h // r, r, w // r, r))
    x = x.permute(tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3))  # (*, C, r, r, H, W)
    return x.reshape(batch + (c * r * r, h // r, w // r))
