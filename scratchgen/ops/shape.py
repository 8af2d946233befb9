"""Ops that move elements without changing them: reshape, permute, indexing, cat, pad,
and casts between dtypes and devices."""
import builtins
import math

from .. import backends
from ..arguments import device_backend, dtype as dtype_argument, int_tuple, integer, number
from ..autograd.function import Function
from ..backends.layout import copy_in_layout_of, same_layout
from ..autograd.tensor import Tensor, index_arrays
from ._util import check_tensor, normalize_dim


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return (g.reshape(ctx.input_shape),)


class Permute(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return (g.permute(*inverse),)


class CopyInLayoutOf(Function):
    """x's values copied into the memory order of the array `like` (same shape; see
    backends/layout.py): elementwise passes over x and `like` then both run along contiguous
    memory. The values do not change, so the gradient passes through as it is."""

    @staticmethod
    def forward(ctx, x, like):
        return copy_in_layout_of(x, like, backends.get(x).xp)

    @staticmethod
    def backward(ctx, g):
        return (g,)


def in_layout_of(input, like):
    """`input` stored in the memory order of the tensor `like` (of its shape): itself when it
    is already, else a copy (a convolution leaves its output in batch-last order, while the
    gradient flowing back to it is usually in C order)."""
    if same_layout(input.array, like.array):
        return input
    return CopyInLayoutOf.apply(input, like=like.array)


class GetItem(Function):
    """x[index]; the gradient scatters back (adding where an index repeats)."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.input_shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, g):
        return (IndexAdd.apply(g, index=ctx.index, shape=ctx.input_shape),)


class IndexAdd(Function):
    """zeros(shape) with g added at `index`: the adjoint of x[index]."""

    @staticmethod
    def forward(ctx, g, index, shape):
        ctx.index = index
        xp = backends.get(g).xp
        out = xp.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            out[index] = g
        else:
            xp.add.at(out, index, g)
        return out

    @staticmethod
    def backward(ctx, gg):
        return (GetItem.apply(gg, index=ctx.index),)


class Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim, ctx.sizes = dim, [a.shape[dim] for a in arrays]
        return backends.get(arrays[0]).xp.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return tuple(split(g, ctx.sizes, ctx.dim))


class Pad(Function):
    """Constant padding; `widths` is NumPy's ((before, after), ...) per dim."""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.widths = widths
        return backends.get(x).xp.pad(x, widths, constant_values=value)

    @staticmethod
    def backward(ctx, g):
        index = tuple(slice(before, n - after) for (before, after), n in zip(ctx.widths, g.shape))
        return (g[index],)


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return (g.to(dtype=ctx.dtype),)


class ToDevice(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.device = backends.get(x).name
        return backends.for_device(device).from_host(backends.get(x).to_host(x))

    @staticmethod
    def backward(ctx, g):
        return (g.to(ctx.device),)


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


def getitem(input, index):
    """input[index]: basic slicing, integer arrays and boolean masks, as NumPy/torch."""
    index = index_arrays(index, check_tensor(input, "getitem", "input").backend.xp)
    try:
        input.array[index]
    except IndexError as error:
        raise IndexError(f"getitem: index {index!r} is invalid for shape {input.shape}: {error}") from None
    return GetItem.apply(input, index=index)


def _sizes(op, arg, sizes, count, what):
    """`sizes` (ints, at most one -1) as a tuple whose product is `count`: a shape for
    `count` elements."""
    if all(type(n) is int for n in sizes) and (not sizes or min(sizes) >= -1):  # the common case, quickly
        unknown, known = sizes.count(-1), math.prod(sizes)
        if (unknown == 0 and known == count) or (unknown == 1 and known and count % -known == 0):
            return sizes
    sizes = int_tuple(sizes, len(sizes), op, arg, -1)
    known = math.prod(n for n in sizes if n != -1)
    if sizes.count(-1) > 1 or (sizes.count(-1) == 0 and known != count) or (
            sizes.count(-1) == 1 and (known == 0 or count % known)):
        raise ValueError(f"{op}: cannot reshape {what} into {arg} {sizes}")
    return sizes


def reshape(input, *shape):
    """Same elements, new shape; one dimension may be -1 (torch.reshape)."""
    check_tensor(input, "reshape", "input")
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)
    shape = _sizes("reshape", "shape", shape, input.array.size,
                   f"a tensor of shape {input.shape} ({input.array.size} elements)")
    return input if shape == input.shape else Reshape.apply(input, shape=shape)


view = reshape


def flatten(input, start_dim=0, end_dim=-1):
    check_tensor(input, "flatten", "input")
    if input.ndim == 0:
        return input.reshape(1)
    start = normalize_dim(start_dim, input.ndim, "flatten", "start_dim")
    end = normalize_dim(end_dim, input.ndim, "flatten", "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim={start_dim} must not come after end_dim={end_dim} "
                         f"(input shape {input.shape})")
    s = input.shape
    return input.reshape(s[:start] + (math.prod(s[start:end + 1]),) + s[end + 1:])


def unflatten(input, dim, sizes):
    check_tensor(input, "unflatten", "input")
    d = normalize_dim(dim, input.ndim, "unflatten")
    if not isinstance(sizes, (tuple, list)):
        raise TypeError(f"unflatten: sizes must be a tuple or list of ints, got {sizes!r}")
    sizes = _sizes("unflatten", "sizes", sizes, input.shape[d] if input.ndim else 1,
                   f"dim {dim} of size {input.shape[d] if input.ndim else 1} (input shape {input.shape})")
    return input.reshape(input.shape[:d] + sizes + input.shape[d + 1:])


def permute(input, *dims):
    check_tensor(input, "permute", "input")
    dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else tuple(dims)
    if len(dims) != input.ndim:
        raise ValueError(f"permute: got {len(dims)} dims {dims} for a tensor with {input.ndim} dimensions")
    dims = tuple(normalize_dim(d, input.ndim, "permute", "dims") for d in dims)
    if sorted(dims) != list(range(input.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of 0..{input.ndim - 1}")
    return input if dims == tuple(range(input.ndim)) else Permute.apply(input, dims=dims)


def transpose(input, dim0, dim1):
    check_tensor(input, "transpose", "input")
    dims = list(range(input.ndim))
    a, b = normalize_dim(dim0, input.ndim, "transpose", "dim0"), normalize_dim(dim1, input.ndim, "transpose", "dim1")
    if a == b:  # includes a 0-d tensor, whose only dim is 0 (or -1)
        return input
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(input, dims=tuple(dims))


def t(input):
    if check_tensor(input, "t", "input").ndim > 2:
        raise ValueError(f"t: expects a tensor with at most 2 dimensions, got input of shape {input.shape}")
    return input.transpose(0, 1) if input.ndim == 2 else input


def squeeze(input, dim=None):
    check_tensor(input, "squeeze", "input")
    if dim is None:
        return input.reshape(tuple(n for n in input.shape if n != 1))
    d = normalize_dim(dim, input.ndim, "squeeze")
    if input.ndim == 0 or input.shape[d] != 1:
        return input
    return input.reshape(input.shape[:d] + input.shape[d + 1:])


def unsqueeze(input, dim):
    check_tensor(input, "unsqueeze", "input")
    d = normalize_dim(dim, input.ndim + 1, "unsqueeze")
    return input.reshape(input.shape[:d] + (1,) + input.shape[d:])


def _tensor_list(tensors, op):
    """`tensors` (a list, tuple or other iterable of Tensors, not a Tensor itself) as a
    non-empty list."""
    if isinstance(tensors, (Tensor, str, bytes)) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{op}: tensors must be a list or tuple of Tensors, got {type(tensors).__name__}")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    for i, x in enumerate(tensors):
        check_tensor(x, op, f"tensors[{i}]")
    return tensors


def cat(tensors, dim=0):
    tensors = _tensor_list(tensors, "cat")
    d = normalize_dim(dim, tensors[0].ndim, "cat")
    for i, x in enumerate(tensors):
        if x.ndim != tensors[0].ndim or x.shape[:d] + x.shape[d + 1:] != tensors[0].shape[:d] + tensors[0].shape[d + 1:]:
            raise ValueError(f"cat: tensors[{i}] has shape {x.shape} but tensors[0] has shape "
                             f"{tensors[0].shape}; all dims but dim={dim} must match")
    return Cat.apply(*tensors, dim=d)


def stack(tensors, dim=0):
    tensors = _tensor_list(tensors, "stack")
    for i, x in enumerate(tensors):
        if x.shape != tensors[0].shape:
            raise ValueError(f"stack: tensors[{i}] has shape {x.shape} but tensors[0] has shape {tensors[0].shape}")
    d = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([x.unsqueeze(d) for x in tensors], d)


def split(input, split_size_or_sections, dim=0):
    """Pieces of `split_size` along dim (the last may be smaller), or of the given sizes."""
    check_tensor(input, "split", "input")
    d = normalize_dim(dim, input.ndim, "split")
    n = input.shape[d]
    arg = "split_size_or_sections"
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = list(int_tuple(split_size_or_sections, len(split_size_or_sections), "split", arg, 0))
        if builtins.sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} sum to {builtins.sum(sizes)}, but dim {dim} has size {n} "
                             f"({arg})")
    else:
        size = integer(split_size_or_sections, "split", arg, 1)
        sizes = [builtins.min(size, n - s) for s in range(0, n, size)]
    pieces, start = [], 0
    for size in sizes:
        index = (slice(None),) * d + (slice(start, start + size),)
        pieces.append(GetItem.apply(input, index=index))
        start += size
    return tuple(pieces)


def chunk(input, chunks, dim=0):
    check_tensor(input, "chunk", "input")
    chunks = integer(chunks, "chunk", "chunks", 1)
    n = input.shape[normalize_dim(dim, input.ndim, "chunk")]
    return split(input, builtins.max(1, -(-n // chunks)), dim)


def pad(input, pad, mode="constant", value=0.0):
    """torch.nn.functional.pad, constant mode: `pad` lists (before, after) from the last dim back."""
    check_tensor(input, "pad", "input")
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad: pad must be a tuple or list of ints, got {pad!r}")
    pad = int_tuple(pad, len(pad), "pad", "pad", None)
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: expected an even number of pad values, at most 2 per dimension "
                         f"({2 * input.ndim}), got {len(pad)}")
    if builtins.min(pad, default=0) < 0:
        raise ValueError(f"pad: negative padding {tuple(pad)} is not supported")
    number(value, "pad", "value")
    if not pad:
        return input
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return Pad.apply(input, widths=tuple(widths), value=value)


def to(input, device=None, dtype=None):
    check_tensor(input, "to", "input")
    out = input
    if dtype is not None:
        dtype = dtype_argument(dtype, "to")
    if device is not None:
        device_backend(device, "to")
    if dtype is not None and out.dtype != dtype:
        differentiable = out.requires_grad and dtype.kind == "f"
        out = Cast.apply(out, dtype=dtype) if differentiable else Tensor._wrap(out.array.astype(dtype))
    if device is not None and device != out.device:
        out = ToDevice.apply(out, device=device)
    return out


def clone(input):
    return check_tensor(input, "clone", "input") * 1


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding of integer class labels (torch.nn.functional.one_hot)."""
    labels = check_tensor(tensor, "one_hot", "tensor").array
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects an integer tensor of class indices, got dtype {labels.dtype}")
    num_classes = integer(num_classes, "one_hot", "num_classes", -1)
    xp = tensor.backend.xp
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got min {int(labels.min())}, "
                         f"max {int(labels.max())} in tensor (num_classes={num_classes})")
    return Tensor._wrap((labels[..., None] == xp.arange(num_classes)).astype(xp.int64))
