"""Embedding lookup (torch.nn.functional.embedding): rows of a weight table picked by integer
indices. Its gradient adds each output row's gradient back into the row it came from; the
gather and that scatter-add are each other's adjoint, so each is the other's gradient."""
from .. import backends
from ..arguments import integer, number
from ..autograd.function import Function
from ..autograd.mode import no_grad
from ..autograd.tensor import Tensor
from ._util import check_tensor, same_device


class GatherRows(Function):
    """table[indices]: (num_rows, *row) -> indices.shape + row."""

    @staticmethod
    def forward(ctx, table, indices):
        ctx.indices, ctx.num_rows = indices, table.shape[0]
        return backends.get(table).gather_rows(table, indices)

    @staticmethod
    def backward(ctx, g):
        return (ScatterAddRows.apply(g, indices=ctx.indices, num_rows=ctx.num_rows),)


class ScatterAddRows(Function):
    """out[k] = sum of g[m] over the positions m where indices[m] == k."""

    @staticmethod
    def forward(ctx, g, indices, num_rows):
        ctx.indices = indices
        return backends.get(g).scatter_add_rows(g, indices, num_rows)

    @staticmethod
    def backward(ctx, gg):
        return (GatherRows.apply(gg, indices=ctx.indices),)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """weight[input] for integer indices `input` of any shape. padding_idx's row gets no
    gradient; max_norm renormalises (in place, as torch) the looked-up rows whose norm exceeds
    it; scale_grad_by_freq divides each row's gradient by how often it occurs in `input`.
    Gradients are always dense (`sparse` changes only torch's storage of them)."""
    op = "embedding"
    check_tensor(input, op, "input")
    check_tensor(weight, op, "weight")
    if input.dtype.kind not in "iu":
        raise TypeError(f"{op}: input must hold integer indices, got dtype {input.dtype}")
    same_device(op, input=input, weight=weight)
    if weight.ndim != 2:
        raise ValueError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got shape {tuple(weight.shape)}")
    num_rows = weight.shape[0]
    indices = input.array
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= num_rows):
        raise IndexError(f"{op}: indices must be in [0, {num_rows}), got min {int(indices.min())}, "
                         f"max {int(indices.max())} in input (weight has {num_rows} rows)")
    if padding_idx is not None:
        if not -num_rows <= integer(padding_idx, op, "padding_idx") < num_rows:
            raise ValueError(f"{op}: padding_idx must be within [-{num_rows}, {num_rows}), got {padding_idx}")
        padding_idx %= num_rows
    if max_norm is not None:
        number(max_norm, op, "max_norm")
        number(norm_type, op, "norm_type")
        _renormalize_rows(weight, indices, max_norm, norm_type)
    out = GatherRows.apply(weight, indices=indices)
    if padding_idx is None and not scale_grad_by_freq:
        return out
    xp = weight.backend.xp
    grad_scale = xp.ones(indices.shape, dtype=weight.dtype)
    if scale_grad_by_freq:
        counts = xp.bincount(indices.reshape(-1), minlength=num_rows)
        grad_scale /= counts[indices]
    if padding_idx is not None:
        grad_scale[indices == padding_idx] = 0
    return _GradientScale.apply(out, scale=grad_scale[..., None])


class _GradientScale(Function):
    """Identity forward; the backward multiplies the gradient by a constant `scale`."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x

    @staticmethod
    def backward(ctx, g):
        return (g * Tensor._wrap(ctx.scale),)


def _renormalize_rows(weight, indices, max_norm, norm_type):
    """torch's max_norm: rows looked up whose norm exceeds max_norm are scaled down to it, in place."""
    xp = weight.backend.xp
    rows = xp.unique(indices)
    norms = xp.linalg.norm(weight.array[rows], ord=norm_type, axis=1)
    too_long = norms > max_norm
    if too_long.any():
        with no_grad():
            scale = max_norm / (norms[too_long] + 1e-7)
            updated = weight.array[rows[too_long]] * scale[:, None]
            weight[rows[too_long]] = updated
