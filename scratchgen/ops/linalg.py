"""Linear algebra with torch.linalg's names: det, slogdet, logdet, inv and cholesky of
(batches of) matrices, and the matrix norms: matrix_norm (the nuclear and spectral norms
through the singular values), torch.norm and torch.linalg.norm (vector_norm is in
ops/reduction.py). Each forward is the array module's linalg (numpy.linalg or cupy.linalg);
each backward is the matrix-calculus identity in Tensor ops, differentiable again.

Deliberately unlike torch: det's and slogdet's gradients are made of A^-1, so at a singular
matrix they are an error (torch's: the adjugate for det, inf for slogdet). On a GPU, CuPy's
inv does not detect a singular matrix (its result is then inf or nan, not an error)."""
import collections
import math
import numbers

from .. import backends
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import check_tensor, normalize_dims
from .reduction import _floating, amax, amin, cast, sum, vector_norm
from .shape import getitem
from .unary import where

Slogdet = collections.namedtuple("Slogdet", ["sign", "logabsdet"])


def _matrices(input, op):
    """`input` checked to be a floating-point Tensor of square matrices (..., n, n)."""
    check_tensor(input, op, "input", "f")
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise ValueError(f"{op}: input must be a square matrix or a batch of them (..., n, n), got shape "
                         f"{input.shape}")
    return input


def _holds_nan(a, xp):
    """For each matrix of the batch a, whether it holds a nan (shaped to broadcast over it)."""
    return xp.isnan(a).any(axis=(-2, -1), keepdims=True)


def _mT(t):
    return t.transpose(-1, -2)


def _eye_like(t):
    """The identity matrix of t's last side, as a constant."""
    return Tensor._wrap(t.backend.xp.eye(t.shape[-1], dtype=t.dtype))


class Inv(Function):
    """A^-1. d(A^-1) = -A^-1 dA A^-1, so dL/dA = -A^-T g A^-T. A matrix holding nan inverts
    to nan (as torch); a singular one is an error (as torch)."""

    @staticmethod
    def forward(ctx, a, op, why="it has no inverse (as torch)"):
        ctx.save_output()
        xp = backends.get(a).xp
        nan = _holds_nan(a, xp)
        try:
            out = xp.linalg.inv(xp.where(nan, xp.eye(a.shape[-1], dtype=a.dtype), a))
        except xp.linalg.LinAlgError:
            raise RuntimeError(f"{op}: input is singular (a matrix of it): {why}") from None
        return xp.where(nan, xp.nan, out)

    @staticmethod
    def backward(ctx, g):
        inverse_t = _mT(ctx.saved_output)
        return (-(inverse_t @ g @ inverse_t),)


def inv(input):
    """The inverse A^-1 of a square matrix or of each in a batch (torch.linalg.inv, torch.inverse)."""
    return Inv.apply(_matrices(input, "inv"), op="inv")


_NO_GRADIENT = "its gradient here is made of A^-1, which it has not (torch's: the adjugate for det, inf for slogdet)"


class Det(Function):
    """det(A). d det(A) = det(A) tr(A^-1 dA), so dL/dA = g det(A) A^-T (Jacobi's formula)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_inputs(0)
        ctx.save_output()
        xp = backends.get(a).xp
        return xp.where(_holds_nan(a, xp)[..., 0, 0], xp.nan, xp.linalg.det(a))  # LAPACK may give 0 there

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_inputs
        scale = (g * ctx.saved_output).unsqueeze(-1).unsqueeze(-1)
        return (scale * _mT(Inv.apply(a, op="det", why=_NO_GRADIENT)),)


def det(input):
    """The determinant of a square matrix or of each in a batch (torch.linalg.det, torch.det);
    its gradient at a singular matrix is an error (see the module docstring)."""
    return Det.apply(_matrices(input, "det"))


class LogAbsDet(Function):
    """log |det A| (given: slogdet computes it with the sign). d log|det A| = tr(A^-1 dA), so
    dL/dA = g A^-T."""

    @staticmethod
    def forward(ctx, a, value):
        ctx.save_inputs(0)
        return value

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_inputs
        return (g.unsqueeze(-1).unsqueeze(-1) * _mT(Inv.apply(a, op="slogdet", why=_NO_GRADIENT)),)


def slogdet(input):
    """(sign, logabsdet) with det A = sign * exp(logabsdet), without overflow (torch.linalg.slogdet);
    sign is outside the graph. A singular matrix gives (0, -inf), one holding nan (0, nan); the
    gradient at a singular matrix is an error (see the module docstring)."""
    a = _matrices(input, "slogdet").array
    xp = input.backend.xp
    sign, value = xp.linalg.slogdet(a)
    nan = _holds_nan(a, xp)[..., 0, 0]
    value = xp.asarray(xp.where(nan, xp.nan, value), dtype=a.dtype)
    return Slogdet(Tensor._wrap(xp.asarray(xp.where(nan, 0, sign), dtype=a.dtype)),
                   LogAbsDet.apply(input, value=value))


def logdet(input):
    """log det A: nan where det A < 0, -inf where A is singular (torch.logdet); the gradient is
    slogdet's where det A > 0, 0 where it is negative, as torch's."""
    sign, value = slogdet(_matrices(input, "logdet"))
    return where(sign.array == -1, float("nan"), value)


class Cholesky(Function):
    """L lower triangular with A = L L^T, from A's lower triangle (upper: U = L^T from its
    upper one). The gradient is Murray's (2016, "Differentiation of the Cholesky decomposition",
    arXiv:1602.07527) as torch's cholesky_backward writes it: P = tril(L^T gL), then
    dL/dA = L^-T (P + tril(P, -1)^T) / 2 L^-1, the symmetric gradient (A is symmetric)."""

    @staticmethod
    def forward(ctx, a, upper):
        ctx.save_output()
        ctx.upper = upper
        xp = backends.get(a).xp
        try:
            lower = xp.linalg.cholesky(xp.swapaxes(a, -1, -2) if upper else a)
        except xp.linalg.LinAlgError:
            lower = None
        if lower is None or bool(xp.isnan(lower).any()):  # CuPy gives nan rather than raise
            raise RuntimeError("cholesky: input is not positive-definite (a matrix of it), the factorization "
                               "could not be completed, as torch")
        return xp.swapaxes(lower, -1, -2) if upper else lower

    @staticmethod
    def backward(ctx, g):
        L = _mT(ctx.saved_output) if ctx.upper else ctx.saved_output
        g = _mT(g) if ctx.upper else g
        lower = Tensor._wrap(g.backend.xp.tril(g.backend.xp.ones(L.shape[-2:], dtype=g.dtype)))
        P = (_mT(L) @ g) * lower
        symmetric = (P + _mT(P * (lower - _eye_like(P)))) * 0.5
        L_inv = Inv.apply(L, op="cholesky", why="L has a zero on its diagonal")
        return (_mT(L_inv) @ symmetric @ L_inv,)


def cholesky(input, upper=False):
    """The Cholesky factor L (A = L L^T) of a symmetric positive-definite matrix or of each in a
    batch, from its lower triangle; upper=True gives U = L^T (A = U^T U) from its upper one
    (torch.linalg.cholesky; torch.cholesky's upper too)."""
    if not isinstance(upper, bool):
        raise TypeError(f"cholesky: upper must be a bool, got {upper!r}")
    return Cholesky.apply(_matrices(input, "cholesky"), upper=upper)


# ---- singular values, for the nuclear and spectral norms --------------------------------------

class SVD(Function):
    """The reduced SVD A = U diag(S) V^T of (..., m, n), k = min(m, n), returned packed as one
    array [U; S; V] of shape (..., m + 1 + n, k) (a Function has one output; `_unpack` slices
    it apart, and each slice's gradient comes back here). The gradient, for distinct nonzero
    singular values, is the real case of torch's svd_backward (Townsend 2016, "Differentiating
    the singular value decomposition"): with F_ij = 1 / (s_j^2 - s_i^2) off the diagonal,
    dL/dA = U [(F o skew(U^T gU)) S + S (F o skew(V^T gV)) + diag(gS)] V^T
            + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T);
    only U diag(gS) V^T when gU = gV = 0 (the singular values alone, as for the norms)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_output()
        ctx.m = a.shape[-2]
        xp = backends.get(a).xp
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        return xp.concatenate([u, s[..., None, :], xp.swapaxes(vh, -1, -2)], axis=-2)

    @staticmethod
    def backward(ctx, g):
        U, S, V = _unpack(ctx.saved_output, ctx.m)
        gU, gS, gV = _unpack(g, ctx.m)
        core = gS.unsqueeze(-1) * _eye_like(gS)  # diag(gS)
        if not (bool(gU.array.any()) or bool(gV.array.any())):
            return (U @ core @ _mT(V),)
        squares = S * S
        E = squares.unsqueeze(-2) - squares.unsqueeze(-1) + _eye_like(core)  # s_j^2 - s_i^2, 1 on the diagonal
        core = core + (_skew(_mT(U) @ gU) * S.unsqueeze(-2) + S.unsqueeze(-1) * _skew(_mT(V) @ gV)) / E
        gA = U @ core @ _mT(V)
        m, n, k = U.shape[-2], V.shape[-2], S.shape[-1]
        if m > k:  # the part of gU outside U's columns
            gA = gA + (gU - U @ (_mT(U) @ gU)) / S.unsqueeze(-2) @ _mT(V)
        if n > k:  # the part of gV outside V's columns
            gA = gA + U @ _mT((gV - V @ (_mT(V) @ gV)) / S.unsqueeze(-2))
        return (gA,)


def _skew(x):
    return x - _mT(x)


def _unpack(packed, m):
    """(U, S, V) from SVD's packed [U; S; V]."""
    return (getitem(packed, (Ellipsis, slice(None, m), slice(None))), getitem(packed, (Ellipsis, m, slice(None))),
            getitem(packed, (Ellipsis, slice(m + 1, None), slice(None))))


def _svdvals(a):
    """The singular values of each matrix, in descending order (torch.linalg.svdvals)."""
    return _unpack(SVD.apply(a), a.shape[-2])[1]


# ---- matrix norms -------------------------------------------------------------------------------

MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def _two_dims(dim, ndim, op):
    dims = normalize_dims(dim, ndim, op) if dim is not None else ()
    if not isinstance(dim, (tuple, list)) or len(dim) != 2 or len(dims) != 2:
        raise ValueError(f"{op}: dim must be a tuple of two different dims, got {dim!r}")
    return tuple(d % ndim for d in dim)


def matrix_norm(input, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix ord-norm over the two dims `dim` (torch.linalg.matrix_norm): 'fro' (the
    Euclidean norm of the elements), 'nuc' (the sum of the singular values), 2 / -2 (the
    largest / smallest singular value), 1 / -1 (the largest / smallest column sum of |a|),
    inf / -inf (the same over rows). Ties of a max or min share the gradient (torch.amax's
    rule). The norms of an empty matrix are 0, except where a min runs over an empty dim
    (-2; -1 without columns, -inf without rows): an error, as torch."""
    check_tensor(input, "matrix_norm", "input")
    if isinstance(ord, bool) or ord not in MATRIX_ORDS:
        raise ValueError(f"matrix_norm: ord must be one of 'fro', 'nuc', 1, -1, 2, -2, inf, -inf, got {ord!r}")
    x = _floating(cast(input, dtype, "matrix_norm"))
    if x.ndim < 2:
        raise ValueError(f"matrix_norm: input must have at least 2 dims, got shape {input.shape}")
    rows, cols = _two_dims(dim, x.ndim, "matrix_norm")
    empty = {-2: (rows, cols), -1: (cols,), -math.inf: (rows,)}.get(ord, ())  # a min over an empty dim
    if any(x.shape[d] == 0 for d in empty):
        raise RuntimeError(f"matrix_norm: the {ord} norm of a matrix with an empty dim (shape {input.shape}, dim "
                           f"{dim!r}) takes a min over nothing, which has no identity, as torch")
    if ord == "fro" or x.shape[rows] == 0 or x.shape[cols] == 0:  # else the norms of an empty matrix are 0
        return vector_norm(x, 2, (rows, cols), keepdim)
    kept = [d for d in range(x.ndim) if d not in (rows, cols)]
    if ord in ("nuc", 2, -2):
        s = _svdvals(x.permute(*kept, rows, cols))
        out = sum(s, -1) if ord == "nuc" else amax(s, -1) if ord == 2 else amin(s, -1)
    else:  # 1: over each column, the sum of |a| down the rows; inf: over each row
        along, across = (rows, cols) if abs(ord) == 1 else (cols, rows)
        pick = amax if ord > 0 else amin
        out = pick(sum(x.abs(), along, keepdim=True), across, keepdim=True).reshape(
            tuple(x.shape[d] for d in kept))
    if keepdim:
        out = out.reshape(tuple(1 if d in (rows, cols) else n for d, n in enumerate(x.shape)))
    return out


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm: p 'fro' (or None) the Euclidean norm over dim (all dims by default; at most
    two), 'nuc' the nuclear norm of the matrices over dim (a 2-D input by default), a number p
    the vector p-norm over dim (vector_norm's ord)."""
    check_tensor(input, "norm", "input")
    if not (p is None or isinstance(p, (str, numbers.Real))) or isinstance(p, bool):
        raise TypeError(f"norm: p must be 'fro', 'nuc', None or a number, got {p!r}")
    if p is None or p == "fro":
        if dim is not None and isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise ValueError(f"norm: p='fro' takes at most two dims, got dim={dim!r}")
        return vector_norm(input, 2, dim, keepdim, dtype=dtype)
    if p == "nuc":
        if dim is None and input.ndim != 2:
            raise ValueError(f"norm: p='nuc' needs a 2-D input or a dim of two dims, got shape {input.shape}")
        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if isinstance(p, str):
        raise ValueError(f"norm: p must be 'fro', 'nuc', None or a number, got {p!r}")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def linalg_norm(input, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: the vector norm over one dim (vector_norm), the matrix norm over two
    (matrix_norm), chosen by dim or else by the input's rank (1 or 2); ord=None with dim=None
    is the Euclidean norm of all elements, whatever the rank."""
    check_tensor(input, "norm", "input")
    if dim is None and ord is None:
        return vector_norm(input, 2, None, keepdim, dtype=dtype)
    if dim is None:
        if input.ndim not in (1, 2):
            raise ValueError(f"norm: an ord without dim needs a 1-D or 2-D input, got shape {input.shape}")
        dim = (-2, -1) if input.ndim == 2 else -1
    if isinstance(dim, (tuple, list)) and len(dim) == 2:
        return matrix_norm(input, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise ValueError(f"norm: ord {ord!r} is a matrix norm, but dim {dim!r} names one dim")
    return vector_norm(input, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
