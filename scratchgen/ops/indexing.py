"""Indexing ops with torch's names: gather and scatter_add along a dim, index_select,
masked_fill, sort and topk.

A gather reads each output element from a position of its input; its gradient adds each
output's gradient back into the position it was read from (a scatter-add, by the backend's
scatter-add kernel: backends/indexing.py), and the gradient of that scatter-add is the gather
again: the two are each other's adjoint, as embedding's row lookup and its scatter-add are
(ops/embedding.py, which index_select reuses). sort and topk are a gather at the positions
that order the input, so their gradient reaches the values only.
"""
import collections
import math

import numpy

from .. import backends
from ..arguments import integer, number
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import broadcast_shapes, check_tensor, normalize_dim, same_device
from .embedding import GatherRows
from .unary import where

ValuesIndices = collections.namedtuple("ValuesIndices", ["values", "indices"])


class Gather(Function):
    """out[i][j] = x[i][index[i][j]] for axis 1 (torch.gather): index has x's rank and no side
    larger than x's off the axis."""

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.index, ctx.axis, ctx.input_shape = index, axis, x.shape
        corner = tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(index.shape))
        return backends.get(x).xp.take_along_axis(x[corner], index, axis)

    @staticmethod
    def backward(ctx, g):
        return (ScatterAdd.apply(g, index=ctx.index, axis=ctx.axis, shape=ctx.input_shape),)


class ScatterAdd(Function):
    """zeros(shape) with out[i][index[i][j]] += src[i][j] for axis 1 (src of index's shape):
    the adjoint of Gather."""

    @staticmethod
    def forward(ctx, src, index, axis, shape):
        ctx.index, ctx.axis = index, axis
        return backends.get(src).scatter_add_along(src, index, axis, shape)

    @staticmethod
    def backward(ctx, gg):
        return (Gather.apply(gg, index=ctx.index, axis=ctx.axis),)


# ---- argument checks shared by the ops below

def _rank(tensor):
    """torch counts a 0-d tensor as 1-d in gather, scatter_add and index_select."""
    return max(tensor.ndim, 1)


def _index(index, op, arg="index"):
    return check_tensor(index, op, arg, "iu")


def _check_range(index, size, op, dim, arg="index"):
    """Every value of `index` lies in [0, size): an IndexError naming op, arg and dim else."""
    values = index.array
    if values.size and (int(values.min()) < 0 or int(values.max()) >= size):
        raise IndexError(f"{op}: {arg} values must lie in [0, {size}) for dim {dim} of size {size}, "
                         f"got min {int(values.min())}, max {int(values.max())}")


def _no_larger(small, large, skip, op, names):
    """small's sides are no larger than large's (off dim `skip`), as torch requires."""
    for d, (a, b) in enumerate(zip(small.shape or (1,), large.shape or (1,))):
        if d != skip and a > b:
            raise ValueError(f"{op}: {names[0]} of shape {tuple(small.shape)} must be no larger than {names[1]} of "
                             f"shape {tuple(large.shape)} in every dim{'' if skip is None else f' but dim {skip}'}")


def _flag(value, op, arg):
    if not isinstance(value, (bool, numpy.bool_)):
        raise TypeError(f"{op}: {arg} must be a bool, got {value!r}")
    return bool(value)


def _as_1d(tensor):
    return tensor.reshape(1) if tensor.ndim == 0 else tensor


# ---- the ops

def gather(input, dim, index, sparse_grad=False):
    """input's values picked along `dim` at the positions in `index` (torch.gather); the
    gradient is always dense (sparse_grad changes only torch's storage of it)."""
    op = "gather"
    check_tensor(input, op, "input")
    _index(index, op)
    same_device(op, input=input, index=index)
    d = normalize_dim(dim, input.ndim, op)
    if index.numel() == 0:  # picks nothing: torch checks no shapes then
        return input.reshape(-1)[:0].reshape(index.shape)
    if _rank(index) != _rank(input):
        raise ValueError(f"{op}: index must have as many dims as input ({input.ndim}), got index of shape "
                         f"{tuple(index.shape)}")
    _no_larger(index, input, d, op, ("index", "input"))
    _check_range(index, (input.shape or (1,))[d], op, dim)
    out = Gather.apply(_as_1d(input), index=_as_1d(index).array, axis=d)
    return out.reshape(index.shape) if index.ndim == 0 else out


def scatter_add(input, dim, index, src):
    """input plus src's values added along `dim` at the positions in `index` (out of place,
    torch.scatter_add): out[i][index[i][j]] += src[i][j] for dim 1; repeated positions add up,
    and only src's part of index's shape is used. Deliberately, the rest of a larger src gets
    a zero gradient, where torch's backward fails ("invalid gradient")."""
    op = "scatter_add"
    for arg, value in (("input", input), ("src", src)):
        check_tensor(value, op, arg)
    _index(index, op)
    same_device(op, input=input, index=index, src=src)
    if src.dtype != input.dtype:
        raise TypeError(f"{op}: src must have input's dtype {input.dtype}, got {src.dtype}")
    d = normalize_dim(dim, input.ndim, op)
    if index.numel() == 0:  # adds nothing: torch checks no shapes then
        return input.clone()
    if not _rank(index) == _rank(src) == _rank(input):
        raise ValueError(f"{op}: index and src must have as many dims as input ({input.ndim}), got index of "
                         f"shape {tuple(index.shape)} and src of shape {tuple(src.shape)}")
    _no_larger(index, input, d, op, ("index", "input"))
    _no_larger(index, src, None, op, ("index", "src"))
    _check_range(index, (input.shape or (1,))[d], op, dim)
    index_array, src = _as_1d(index).array, _as_1d(src)
    if src.shape != index_array.shape:
        src = src[tuple(slice(0, n) for n in index_array.shape)]
    added = ScatterAdd.apply(src, index=index_array, axis=d, shape=_as_1d(input).shape)
    return input + added.reshape(input.shape)


def index_select(input, dim, index):
    """The slices of input at the positions of a 1-D (or 0-d) integer `index` along `dim`
    (torch.index_select): embedding's row lookup (ops/embedding.py) along that dim."""
    op = "index_select"
    check_tensor(input, op, "input")
    _index(index, op)
    same_device(op, input=input, index=index)
    d = normalize_dim(dim, input.ndim, op)
    if index.ndim > 1:
        raise ValueError(f"{op}: index must be 1-D or 0-d, got shape {tuple(index.shape)}")
    if input.ndim == 0 and index.numel() != 1:
        raise ValueError(f"{op}: index into a 0-d input must hold one value, got {index.numel()}")
    _check_range(index, (input.shape or (1,))[d], op, dim)
    rows = index.array.reshape(-1)
    if input.ndim == 0:
        return GatherRows.apply(input.reshape(1), indices=rows).reshape(())
    order = (d,) + tuple(i for i in range(input.ndim) if i != d)  # dim d first: the rows
    picked = GatherRows.apply(input.permute(order), indices=rows)
    return picked.permute(tuple(int(i) for i in numpy.argsort(order)))


def masked_fill(input, mask, value):
    """input with `value` wherever the bool `mask` is True (torch.masked_fill, out of place:
    the result has the broadcast shape of input and mask). value is a number or a 0-d
    tensor, cast to input's dtype; a tensor value gets the gradient of the filled places."""
    op = "masked_fill"
    check_tensor(input, op, "input")
    if check_tensor(mask, op, "mask").dtype != numpy.bool_:
        raise TypeError(f"{op}: mask must be a bool tensor, got dtype {mask.dtype}")
    same_device(op, input=input, mask=mask)
    broadcast_shapes(input.shape, mask.shape, op, ("input", "mask"))
    if isinstance(value, Tensor):
        same_device(op, input=input, value=value)
        if value.ndim:
            raise ValueError(f"{op}: a tensor value must be 0-d, got shape {tuple(value.shape)}")
        filler = value if value.dtype == input.dtype else value.to(dtype=input.dtype)
    else:
        number(value, op, "value")
        if input.dtype.kind in "iu" and not _fits(value, input.dtype):
            raise ValueError(f"{op}: value {value!r} cannot be converted to input's dtype {input.dtype}")
        filler = Tensor._wrap(input.backend.xp.asarray(value).astype(input.dtype))
    return where(mask, filler, input)


def _fits(value, dtype):
    limits = numpy.iinfo(dtype)
    return math.isfinite(value) and limits.min <= value <= limits.max


def _order(x, axis, descending, xp):
    """Positions that sort x along axis, stably (equal elements keep their order) and with NaN
    as the largest value, as torch. Descending: the reversed array sorted ascending, reversed
    back, so that equal elements still keep their order."""
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    reversed_order = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")
    return x.shape[axis] - 1 - xp.flip(reversed_order, axis)


def _picked(input, positions, axis):
    """(input's values at `positions` along axis, positions): a gather, so that the gradient
    reaches the values only."""
    values = Gather.apply(_as_1d(input), index=positions, axis=axis)
    if input.ndim == 0:
        return ValuesIndices(values.reshape(()), Tensor._wrap(positions.reshape(())))
    return ValuesIndices(values, Tensor._wrap(positions))


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) of input sorted along `dim` (torch.sort); NaN sorts as the largest.
    Deliberately always stable: equal elements keep their input order, which torch promises
    only with stable=True (its unstable CPU sort may order ties otherwise)."""
    op = "sort"
    check_tensor(input, op, "input")
    d = normalize_dim(dim, input.ndim, op)
    descending = _flag(descending, op, "descending")
    if stable is not None:  # torch's stable is a bool or None
        _flag(stable, op, "stable")
    x = input.array.reshape(1) if input.ndim == 0 else input.array
    return _picked(input, _order(x, d, descending, input.backend.xp), d)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (or smallest) elements along `dim` (torch.topk);
    NaN counts as the largest. Deliberate choices where torch leaves them open: among equal
    elements the first in input order is taken first (torch's pick among ties is unspecified),
    and the result is sorted even when sorted=False (torch's order is then unspecified)."""
    op = "topk"
    check_tensor(input, op, "input")
    if input.dtype == numpy.bool_:
        raise TypeError(f"{op}: input must be a numeric tensor, got dtype bool (as torch)")
    d = normalize_dim(dim, input.ndim, op)
    k = integer(k, op, "k")
    size = (input.shape or (1,))[d]
    if not 0 <= k <= size:
        raise ValueError(f"{op}: k must be in [0, {size}] (the size of dim {dim}), got {k}")
    _flag(largest, op, "largest"), _flag(sorted, op, "sorted")
    if input.ndim == 0:  # torch: the element itself, for k 0 or 1
        return _picked(input, input.backend.xp.zeros(1, dtype=numpy.int64), 0)
    order = _order(input.array, d, largest, input.backend.xp)
    return _picked(input, order[(slice(None),) * d + (slice(0, k),)], d)
