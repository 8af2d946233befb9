"""Linear algebra (det, slogdet, logdet, inv, cholesky, matrix_norm, torch.norm and
torch.linalg.norm): first and second order gradients by finite differences, and values and
gradients against torch, on well-conditioned matrices A = Q diag(s) Q^T with |s| in [0.5, 2]
(symmetric positive definite for cholesky), batches of them, and 0 x 0 and empty batches."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import scratchgen as sg
import scratchgen.functional as F
from differential import compare
from oracle import check
from strategies import arrays


@st.composite
def batch_shapes(draw):
    """() or a batch of 1 to 2 matrices, sometimes an empty batch."""
    return draw(st.sampled_from([(), (1,), (2,), (0,)]))


@st.composite
def well_conditioned(draw, positive_definite=False, sizes=(0, 1, 2, 3)):
    """A = Q diag(s) Q^T, Q orthogonal (from a drawn matrix's QR), |s| in [0.5, 2]; s > 0
    (symmetric positive definite) with positive_definite, else of either sign."""
    batch, n = draw(batch_shapes()), draw(st.sampled_from(sizes))
    q, _ = np.linalg.qr(draw(arrays(batch + (n, n), -1.0, 1.0)) + 2 * np.eye(n))
    s = draw(arrays(batch + (n,), 0.5, 2.0))
    if not positive_definite:
        s = s * draw(arrays(batch + (n,), elements=st.sampled_from([-1.0, 1.0])))
    return (q * s[..., None, :]) @ np.swapaxes(q, -1, -2)


def symmetrized(f):
    """f of (a + a^T) / 2: cholesky reads one triangle, so its finite differences need a
    symmetric parametrisation (torch's own tests use the same)."""
    return lambda a: f((a + a.transpose(-1, -2)) / 2)


@given(a=well_conditioned())
def test_det(a):
    check(F.det, torch.linalg.det, [a])
    check(sg.linalg.det, torch.det, [a])
    check(lambda a: a.det(), lambda a: a.det(), [a])


@given(a=well_conditioned())
def test_slogdet_gives_sign_and_logabsdet(a):
    check(lambda a: tuple(F.slogdet(a)), lambda a: tuple(torch.linalg.slogdet(a)), [a])
    sign, logabsdet = sg.linalg.slogdet(sg.tensor(a))
    assert not sign.requires_grad and logabsdet.shape == a.shape[:-2]


@given(a=well_conditioned(positive_definite=True))
def test_logdet(a):
    check(F.logdet, torch.logdet, [a])


def test_logdet_is_nan_for_a_negative_determinant_with_gradient_zero_as_torch():
    compare(F.logdet, torch.logdet, [np.array([[-1.0, 0.0], [0.0, 4.0]]), ])


@given(a=well_conditioned())
def test_inv(a):
    check(F.inverse, torch.inverse, [a])
    check(sg.linalg.inv, torch.linalg.inv, [a])
    check(lambda a: a.inverse(), lambda a: a.inverse(), [a])


@given(a=well_conditioned(positive_definite=True), upper=st.booleans())
def test_cholesky(a, upper):
    check(symmetrized(lambda a: F.cholesky(a, upper)), symmetrized(lambda a: torch.linalg.cholesky(a, upper=upper)),
          [a])
    # on A itself, the gradient is the symmetric one torch gives (finite differences would see one triangle)
    check(lambda a: sg.linalg.cholesky(a, upper=upper), lambda a: torch.linalg.cholesky(a, upper=upper), [a],
          gradcheck=False)


def test_cholesky_reads_the_lower_triangle_and_upper_the_upper_one_as_torch():
    a = np.array([[4.0, 2.0], [99.0, 3.0]])  # not symmetric: lower is not positive definite, upper is
    compare(lambda a: F.cholesky(a, True), lambda a: torch.linalg.cholesky(a, upper=True), [a])
    with pytest.raises(RuntimeError, match="cholesky: input is not positive-definite"):
        F.cholesky(sg.tensor(a))


@pytest.mark.parametrize("op, theirs", [(F.inverse, torch.linalg.inv), (F.cholesky, torch.linalg.cholesky)],
                         ids=["inv", "cholesky"])
def test_singular_or_indefinite_input_is_an_error_as_torch(op, theirs):
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    compare(op, theirs, [a], name=op.__name__)


@pytest.mark.parametrize("op, theirs", [(F.det, torch.linalg.det), (F.inverse, torch.linalg.inv),
                                        (lambda a: F.slogdet(a)[1], lambda a: torch.linalg.slogdet(a)[1]),
                                        (lambda a: F.slogdet(a)[0], lambda a: torch.linalg.slogdet(a)[0].detach())],
                         ids=["det", "inv", "slogdet-logabsdet", "slogdet-sign"])
def test_a_matrix_holding_nan_gives_nan_as_torch(op, theirs):
    a = np.array([[[np.nan, 1.0], [1.0, 1.0]], [[2.0, 1.0], [1.0, 1.0]]])
    compare(op, theirs, [a], orders=(0,))


@pytest.mark.parametrize("op", [F.det, lambda a: F.slogdet(a).logabsdet], ids=["det", "slogdet"])
def test_gradient_at_a_singular_matrix_is_an_error_deliberately(op):
    """torch's is the adjugate (det) or inf (slogdet); here both are made of A^-1, so a
    singular matrix (as the module docstring says) raises instead of giving a wrong number."""
    a = sg.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=sg.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="input is singular .*: its gradient here is made of A\\^-1"):
        op(a).backward()


@pytest.mark.parametrize("op", [F.det, F.inverse, F.cholesky, F.slogdet, F.logdet],
                         ids=["det", "inv", "cholesky", "slogdet", "logdet"])
def test_non_square_input_is_an_error(op):
    name = "inv" if op is F.inverse else op.__name__
    with pytest.raises(ValueError, match=f"{name}: input must be a square matrix"):
        op(sg.ones(2, 3))


# ---- matrix norms ---------------------------------------------------------------------------------

ORDS = ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf]


@st.composite
def distinct_singular_values(draw, min_side=1):
    """A (batch of) m x n matrix U diag(s) V^T with s spread apart (distinct and away from 0:
    the SVD's gradient divides by s_i^2 - s_j^2 and by s)."""
    batch = draw(st.sampled_from([(), (2,)]))
    m, n = draw(st.integers(min_side, 3)), draw(st.integers(min_side, 3))
    k = min(m, n)
    u, _ = np.linalg.qr(draw(arrays(batch + (m, m), -1.0, 1.0)) + 2 * np.eye(m))
    v, _ = np.linalg.qr(draw(arrays(batch + (n, n), -1.0, 1.0)) + 2 * np.eye(n))
    s = np.arange(k, 0, -1) * 0.75 + draw(arrays(batch + (k,), 0.0, 0.25))
    return (u[..., :k] * s[..., None, :]) @ np.swapaxes(v[..., :k], -1, -2)


@pytest.mark.parametrize("ord", ORDS, ids=str)
@given(a=distinct_singular_values(), keepdim=st.booleans(), transposed=st.booleans(), seed=st.integers(0, 2**16))
def test_matrix_norm(ord, a, keepdim, transposed, seed):
    dim = (-1, -2) if transposed else (-2, -1)
    if ord in (1, -1, math.inf, -math.inf):  # |a| in [0.2, 2] at random: no kink of |a|, no tie of the sums
        rng = np.random.default_rng(seed)
        a = rng.uniform(0.2, 2.0, a.shape) * rng.choice([-1.0, 1.0], a.shape)
    check(lambda a: F.matrix_norm(a, ord, dim, keepdim), lambda a: torch.linalg.matrix_norm(a, ord, dim, keepdim), [a])


@pytest.mark.parametrize("ord", ORDS, ids=str)
def test_matrix_norm_ties_share_the_gradient_as_torch(ord):
    a = np.array([[1.0, -1.0, 0.5], [-1.0, 1.0, 0.5]])  # equal column sums, equal row sums
    check(lambda a: F.matrix_norm(a, ord), lambda a: torch.linalg.matrix_norm(a, ord), [a], gradcheck=False)


@pytest.mark.parametrize("ord", ORDS, ids=str)
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (2, 0, 0)], ids=str)
def test_matrix_norm_of_an_empty_matrix_is_zero_or_an_error_as_torch(ord, shape):
    """0, or an error where a min runs over an empty dim. (Values only: torch's gradients here
    are ZeroTensors, or missing, which tests/differential.py cannot read.)"""
    a = sg.tensor(np.zeros(shape), requires_grad=True)
    try:
        expected = torch.linalg.matrix_norm(torch.zeros(shape, dtype=torch.float64), ord)
    except IndexError:
        with pytest.raises(RuntimeError, match="matrix_norm: the .* norm of a matrix with an empty dim"):
            F.matrix_norm(a, ord)
        return
    out = F.matrix_norm(a, ord)
    np.testing.assert_array_equal(out.detach().numpy(), expected.numpy())
    (g,) = sg.grad(out.sum(), [a])
    assert g.shape == shape


def test_matrix_norm_over_dims_of_a_batch_and_its_method_forms():
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    for ord in ORDS:
        check(lambda a: F.matrix_norm(a, ord, (0, 2)), lambda a: torch.linalg.matrix_norm(a, ord, (0, 2)), [a])
    check(lambda a: sg.linalg.matrix_norm(a), lambda a: torch.linalg.matrix_norm(a), [a])
    check(lambda a: a.norm("nuc", (2, 1)), lambda a: a.norm("nuc", (2, 1)), [a])


@pytest.mark.parametrize("p, dim", [("fro", None), ("fro", (0, 1)), (None, 1), ("nuc", None), ("nuc", (1, 0)),
                                    (3, None), (0.5, 1), (1, 0), (math.inf, None), (-math.inf, 0), (0, None)],
                         ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_torch_norm(p, dim, keepdim):
    a = np.array([[1.5, -0.5, 2.0], [0.25, 1.0, -3.0]])
    check(lambda a: F.norm(a, p, dim, keepdim), lambda a: torch.norm(a, p, dim, keepdim), [a])
    check(lambda a: a.norm(p, dim, keepdim), lambda a: a.norm(p, dim, keepdim), [a])


@pytest.mark.parametrize("ord, dim", [(None, None), (None, 0), (None, (0, 1)), (2, None), ("nuc", None), (1, 1),
                                      (math.inf, (1, 0)), (-1, (0, 1))], ids=str)
def test_linalg_norm_picks_vector_or_matrix_as_torch(ord, dim):
    a = np.array([[1.5, -0.5, 2.0], [0.25, 1.0, -3.0]])
    check(lambda a: sg.linalg.norm(a, ord, dim), lambda a: torch.linalg.norm(a, ord, dim), [a])
    check(lambda v: sg.linalg.norm(v, ord if not isinstance(ord, str) else None),
          lambda v: torch.linalg.norm(v, ord if not isinstance(ord, str) else None), [a[0]])


@pytest.mark.parametrize("call, message", [
    (lambda: F.matrix_norm(sg.ones(2, 2), 3), "matrix_norm: ord must be one of"),
    (lambda: F.matrix_norm(sg.ones(2), 1), "matrix_norm: input must have at least 2 dims"),
    (lambda: F.matrix_norm(sg.ones(2, 2), 1, (0,)), "matrix_norm: dim must be a tuple of two different dims"),
    (lambda: F.norm(sg.ones(2, 2, 2), "nuc"), "norm: p='nuc' needs a 2-D input"),
    (lambda: F.norm(sg.ones(2, 2, 2), "fro", (0, 1, 2)), "norm: p='fro' takes at most two dims"),
    (lambda: F.norm(sg.ones(2), "abc"), "norm: p must be"),
    (lambda: sg.linalg.norm(sg.ones(2, 2, 2), 2), "norm: an ord without dim needs a 1-D or 2-D input"),
    (lambda: sg.linalg.norm(sg.ones(2), "fro", 0), "norm: ord 'fro' is a matrix norm"),
])
def test_norm_arguments_are_checked_as_torch(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
