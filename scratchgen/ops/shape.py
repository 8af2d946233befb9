"""Ops that move elements without changing them: reshape, permute, indexing, cat, pad,
and casts between dtypes and devices."""
import builtins
import math

from .. import backends
from ..arguments import device_backend, dtype as dtype_argument, int_tuple, integer, number
from ..autograd.function import Function
from ..backends.layout import same_layout
from ..autograd.tensor import Tensor, index_arrays
from ._util import check_tensor, normalize_dim, normalize_dims
from .indexing import index_select


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return backends.get(x).reshape(x, shape)

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
        backend = backends.get(x)
        return backend.copy_into(backend.xp.empty_like(like, dtype=x.dtype), x)  # empty_like: like's strides

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
        if getattr(index, "dtype", None) is not None and index.dtype.kind in "iu":  # rows picked by an index array
            return backends.get(x).gather_rows(x, index)
        return x[index]

    @staticmethod
    def backward(ctx, g):
        return (IndexAdd.apply(g, index=ctx.index, shape=ctx.input_shape),)


class IndexAdd(Function):
    """zeros(shape) with g added at `index`: the adjoint of x[index]."""

    @staticmethod
    def forward(ctx, g, index, shape):
        ctx.index = index
        backend = backends.get(g)
        xp = backend.xp
        out = xp.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            backend.copy_into(_view(out, index), g)
        else:
            xp.add.at(out, index, g)
        return out

    @staticmethod
    def backward(ctx, gg):
        return (GetItem.apply(gg, index=ctx.index),)


class Cat(Function):
    """The arrays joined along dim. Those marked `skipped` (torch's legacy rule: a 1-D array of
    size 0) are left out, but their dtype takes part in the result's; their gradient is empty."""

    @staticmethod
    def forward(ctx, *arrays, dim, skipped):
        joined = [a for a, skip in zip(arrays, skipped) if not skip]
        ctx.dim, ctx.sizes, ctx.skipped = dim, [a.shape[dim] for a in joined], skipped
        backend = backends.get(arrays[0])
        dtype = backend.xp.result_type(*arrays)
        if not joined:
            return backend.xp.concatenate(joined, axis=dim, dtype=dtype)  # NumPy's error
        shape = list(joined[0].shape)
        shape[dim] = builtins.sum(ctx.sizes)
        out, start = backend.xp.empty(tuple(shape), dtype), 0
        for a, size in zip(joined, ctx.sizes):
            backend.copy_into(out[(slice(None),) * (dim % out.ndim) + (slice(start, start + size),)], a)
            start += size
        return out

    @staticmethod
    def backward(ctx, g):
        pieces = iter(split(g, ctx.sizes, ctx.dim))
        empty = g.backend.xp.zeros((0,), dtype=g.dtype)
        return tuple(Tensor._wrap(empty) if skip else next(pieces) for skip in ctx.skipped)


class Pad(Function):
    """Constant padding; `widths` is NumPy's ((before, after), ...) per dim."""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.widths = widths
        backend = backends.get(x)
        if builtins.min((w for pair in widths for w in pair), default=0) < 0:
            return backend.xp.pad(x, widths, constant_values=value)  # NumPy's error
        shape = tuple(n + before + after for n, (before, after) in zip(x.shape, widths))
        out = backend.xp.full(shape, value, dtype=x.dtype)
        backend.copy_into(out[tuple(slice(before, before + n) for n, (before, _) in zip(x.shape, widths))], x)
        return out

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


def _view(array, index):
    """array[index] for a basic index, as a view even where NumPy would return a scalar (an
    integer per dim): a trailing ... keeps it a 0-d view."""
    parts = index if isinstance(index, tuple) else (index,)
    return array[parts if builtins.any(p is Ellipsis for p in parts) else parts + (Ellipsis,)]


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
    """input without its size-1 dims: all of them (dim None), or those among `dim`, an int or
    a tuple of ints, that have size 1 (torch.squeeze; an empty tuple squeezes none)."""
    check_tensor(input, "squeeze", "input")
    if dim is None:
        dims = range(input.ndim)
    elif isinstance(dim, (tuple, list)):
        dims = normalize_dims(dim, input.ndim, "squeeze") if dim else ()
    else:
        dims = (normalize_dim(dim, input.ndim, "squeeze"),)
    kept = tuple(n for d, n in enumerate(input.shape) if n != 1 or d not in dims)
    return input if kept == input.shape else input.reshape(kept)


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
    """tensors joined along dim (torch.cat). As torch (a legacy rule), a 1-D tensor of size 0
    is skipped beside tensors of other shapes, though its dtype counts in the result's."""
    tensors = _tensor_list(tensors, "cat")
    skipped = tuple(x.shape == (0,) for x in tensors)
    if all(skipped):
        skipped = (False,) * len(tensors)
    first = next(i for i, skip in enumerate(skipped) if not skip)
    like = tensors[first]
    d = normalize_dim(dim, like.ndim, "cat")
    for i, (x, skip) in enumerate(zip(tensors, skipped)):
        if x.ndim == 0:
            raise ValueError(f"cat: tensors[{i}] is 0-d; only tensors with dimensions can be joined")
        if not skip and (x.ndim != like.ndim or x.shape[:d] + x.shape[d + 1:] != like.shape[:d] + like.shape[d + 1:]):
            raise ValueError(f"cat: tensors[{i}] has shape {x.shape} but tensors[{first}] has shape "
                             f"{like.shape}; all dims but dim={dim} must match")
    return Cat.apply(*tensors, dim=d, skipped=skipped)


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


PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=0.0):
    """torch.nn.functional.pad: `pad` lists (before, after) widths from the last dim back, and
    a negative width crops. 'constant' fills with `value` and pads any dims; 'reflect' (mirror
    at the edge, not repeating it), 'replicate' (repeat the edge) and 'circular' (wrap around)
    pad the last 1, 2 or 3 dims of a 2-D/3-D, 3-D/4-D or 4-D/5-D input, as torch does, each by
    picking input positions (index_select), whose gradient adds back into them. Where torch's
    circular padding wraps further than the cropped input (an overlap error or unset memory
    there), this one raises."""
    check_tensor(input, "pad", "input")
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad: pad must be a tuple or list of ints, got {pad!r}")
    pad = int_tuple(pad, len(pad), "pad", "pad", None)
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(PAD_MODES)}, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: expected an even number of pad values, at most 2 per dimension "
                         f"({2 * input.ndim}), got {len(pad)}")
    number(value, "pad", "value")
    padded = range(input.ndim - len(pad) // 2, input.ndim)
    widths = {d: (pad[2 * (input.ndim - 1 - d)], pad[2 * (input.ndim - 1 - d) + 1]) for d in padded}
    for d, (before, after) in widths.items():
        n = input.shape[d]
        if n + before + after < 0 or (mode == "constant" and n - max(-before, 0) - max(-after, 0) < 0):
            raise ValueError(f"pad: pad {pad} crops more than the size {n} of dim {d}")
    if mode == "constant":
        return _pad_constant(input, widths, value)
    _check_pad_mode(input, pad, mode, value, widths)
    xp = input.backend.xp
    for d, (before, after) in widths.items():
        positions = _source_positions(mode, input.shape[d], before, after, xp)
        input = index_select(input, d, Tensor._wrap(positions))
    return input


def _pad_constant(input, widths, value):
    """Crop the negative widths, then pad the positive ones with `value`."""
    if any(min(w) < 0 for w in widths.values()):
        index = tuple(slice(max(-widths[d][0], 0), n - max(-widths[d][1], 0)) if d in widths else slice(None)
                      for d, n in enumerate(input.shape))
        input = GetItem.apply(input, index=index)
    grow = tuple((max(widths[d][0], 0), max(widths[d][1], 0)) if d in widths else (0, 0) for d in range(input.ndim))
    return Pad.apply(input, widths=grow, value=value) if any(map(any, grow)) else input


def _check_pad_mode(input, pad, mode, value, widths):
    """torch's limits on the modes other than 'constant'."""
    k = len(pad) // 2
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise ValueError(f"pad: mode={mode!r} pads the last 1, 2 or 3 dims of a 2-D/3-D, 3-D/4-D or 4-D/5-D "
                         f"input (2, 4 or 6 pad values); got {len(pad)} pad values for input of shape {input.shape}")
    if value != 0:
        raise ValueError(f"pad: mode={mode!r} takes no value (got value={value!r})")
    batched = input.ndim == k + 2
    if mode != "circular" and 0 in input.shape[batched:]:
        raise ValueError(f"pad: mode={mode!r} needs every dim of input but the batch dim non-empty, got shape "
                         f"{input.shape}")
    for d, (before, after) in widths.items():
        n, out = input.shape[d], input.shape[d] + before + after
        kept = n - max(-before, 0) - max(-after, 0)
        if mode == "reflect" and not (before < n and after < n):
            raise ValueError(f"pad: mode='reflect' needs pad widths ({before}, {after}) smaller than dim {d} "
                             f"(size {n}) of input")
        if mode != "circular" and out < 1:
            raise ValueError(f"pad: pad {pad} leaves dim {d} (of size {n}) empty, mode={mode!r} needs >= 1")
        if mode == "circular" and max(before, after) > kept:
            raise ValueError(f"pad: mode='circular' wraps at most once around dim {d}: pad widths ({before}, "
                             f"{after}) must not exceed its size after cropping ({kept})")


def _source_positions(mode, n, before, after, xp):
    """For each position of a dim of size n padded by (before, after), the input position it
    takes its value from."""
    k = xp.arange(-before, n + after)  # where each output position lies in the input's coordinates
    if mode == "reflect":
        return xp.where(k < 0, -k, xp.where(k > n - 1, 2 * (n - 1) - k, k))
    if mode == "replicate":
        return xp.clip(k, 0, n - 1)
    start, stop = max(-before, 0), n - max(-after, 0)  # circular: wrap around the cropped input
    return start + (k - start) % max(stop - start, 1)


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
