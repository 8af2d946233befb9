"""cosine_similarity and normalize (scratchgen/ops/similarity.py) and nn.CosineSimilarity:
gradcheck, gradgradcheck and PyTorch's values and gradients on drawn shapes (broadcasting,
empty and size-1 dims included), then PyTorch at the edges (tests/differential.py: zero
vectors, nan, inf), the one deliberate difference and the errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

import scratchgen as sg
import scratchgen.functional as F
from differential import EDGE_VALUES, compare
from oracle import check
from scratchgen import nn
from strategies import broadcastable_shapes, dims, nonzero_arrays

ZERO_NORM = ("the second-order gradient at a vector of norm 0: vector_norm's (finite here), where torch's "
             "norm gradient masks a 0 / 0 and gives NaN (test_second_order_at_a_zero_vector_differs_from_torch)")


@st.composite
def similarity_case(draw):
    """(x1 shape, x2 shape, dim) that broadcast, with at least one dim, sometimes empty."""
    a, b = draw(broadcastable_shapes(min_dims=1, max_elements=12))
    shape = np.broadcast_shapes(a, b)
    if not shape:
        a = b = shape = (draw(st.integers(1, 3)),)
    if draw(st.integers(0, 5)) == 0 and len(shape) > 1:  # an empty batch: the dim before the others
        a, b = (0,) + tuple(a[1:]) if len(a) == len(shape) else a, (0,) + tuple(b[1:]) if len(b) == len(shape) else b
        shape = np.broadcast_shapes(a, b)
    return a, b, draw(dims(len(shape)))


@given(case=similarity_case(), data=st.data(), eps=st.sampled_from([1e-8, 1e-3]))
def test_cosine_similarity(case, data, eps):
    a, b, dim = case
    x1, x2 = data.draw(nonzero_arrays(a, 0.3)), data.draw(nonzero_arrays(b, 0.3))  # norms far above eps
    check(lambda x, y: F.cosine_similarity(x, y, dim, eps), lambda x, y: TF.cosine_similarity(x, y, dim, eps), [x1, x2])


@given(data=st.data(), p=st.sampled_from([2.0, 1, 3, 0.5, np.inf]))
def test_normalize(data, p):
    a, b, dim = data.draw(similarity_case())
    shape = np.broadcast_shapes(a, b)
    x = data.draw(nonzero_arrays(shape, 0.3) if p != np.inf else
                  st.integers(0, 10 ** 6).map(lambda seed: np.random.default_rng(seed).uniform(0.3, 2.0, shape)))
    dim = data.draw(st.sampled_from([dim, (dim,)] if len(shape) < 2 else [dim, (dim,), (0, -1)]))
    if p == np.inf and 0 in shape:
        with pytest.raises(RuntimeError, match="normalize: cannot take the inf norm over an empty dimension"):
            F.normalize(sg.tensor(x), p, 0 if shape[0] == 0 else -1)  # torch refuses it too
        return
    check(lambda x: F.normalize(x, p, dim), lambda x: TF.normalize(x, p, dim), [x])


def test_cosine_similarity_refuses_integer_inputs_as_torch():
    with pytest.raises(RuntimeError, match="floating point"):
        TF.cosine_similarity(torch.tensor([[1, 2]]), torch.tensor([[2, 4]]))
    with pytest.raises(TypeError, match=r"cosine_similarity: argument 'x1' must be a floating-point tensor"):
        F.cosine_similarity(sg.tensor([[1, 2]]), sg.tensor([[2.0, 4.0]]))


# ---- at the edges (tests/differential.py) -----------------------------------------------------

def edge_values(shape, zero_rows=True):
    """Edge values, and now and then a whole vector of zeros along dim 1."""
    values = st.lists(st.sampled_from(EDGE_VALUES), min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))
    array = values.map(lambda v: np.array(v, dtype=np.float64).reshape(shape))
    if not zero_rows:
        return array
    return st.tuples(array, st.integers(0, shape[0])).map(lambda case: np.where(
        (np.arange(shape[0]) < case[1])[:, None], 0.0, case[0]))


def has_zero_norm(*arrays, dim):
    arrays = np.broadcast_arrays(*arrays)
    return any(bool((torch.linalg.vector_norm(torch.tensor(a), dim=dim) == 0).any()) for a in arrays)


@given(data=st.data(), p=st.sampled_from([2.0, 1, 3, np.inf]), dim=st.sampled_from([0, 1, -1]))
def test_normalize_at_the_edges(data, p, dim):
    """A zero vector stays 0 with gradient g / eps; nan and inf as torch."""
    x = data.draw(edge_values((3, 2)))
    compare(lambda x: F.normalize(x, p, dim), lambda x: TF.normalize(x, p, dim), [x], name="normalize",
            differs={2: ZERO_NORM} if has_zero_norm(x, dim=dim) else None)


@given(data=st.data(), dim=st.sampled_from([0, 1]), broadcast=st.booleans())
def test_cosine_similarity_at_the_edges(data, dim, broadcast):
    x1 = data.draw(edge_values((3, 2)))
    x2 = data.draw(edge_values((1, 2), zero_rows=False) if broadcast else edge_values((3, 2)))
    compare(lambda x, y: F.cosine_similarity(x, y, dim), lambda x, y: TF.cosine_similarity(x, y, dim), [x1, x2],
            name="cosine_similarity", differs={2: ZERO_NORM} if has_zero_norm(x1, x2, dim=dim) else None)


def test_second_order_at_a_zero_vector_differs_from_torch():
    """Deliberate (from vector_norm): at x = 0, normalize(x) = x / eps is linear, and its
    second-order gradient here is 0; torch's is NaN (its norm gradient masks a 0 / 0)."""
    x = np.zeros((1, 3))
    ours_x, theirs_x = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g,) = sg.grad(F.normalize(ours_x).sum(), [ours_x], create_graph=True)
    (t,) = torch.autograd.grad(TF.normalize(theirs_x).sum(), [theirs_x], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy())  # first order: 1 / eps, the same
    (gg,) = sg.grad(g.sum(), [ours_x])
    (tt,) = torch.autograd.grad(t.sum(), [theirs_x])
    assert np.isnan(tt.numpy()).all() and (gg.numpy() == 0).all()


# ---- the module, errors ---------------------------------------------------------------------

@pytest.mark.parametrize("args", [(), (0,), (1, 1e-3), (-1,)])
def test_cosine_similarity_module_matches_torch(args):
    mine, theirs = nn.CosineSimilarity(*args), torch.nn.CosineSimilarity(*args)
    assert repr(mine) == repr(theirs) == "CosineSimilarity()"
    assert (mine.dim, mine.eps) == (theirs.dim, theirs.eps)
    rng = np.random.default_rng(0)
    check(mine, theirs, [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))])


def test_similarity_errors_name_op_and_argument():
    x = sg.ones(2, 3)
    with pytest.raises(IndexError, match=r"normalize: dim=2 is out of range for a tensor with 2 dimensions"):
        F.normalize(x, dim=2)
    with pytest.raises(ValueError, match=r"normalize: out= is not supported"):
        F.normalize(x, out=sg.ones(2, 3))
    with pytest.raises(TypeError, match=r"normalize: argument 'input' must be a floating-point tensor"):
        F.normalize(sg.tensor([[1, 2]]))
    with pytest.raises(ValueError, match=r"cosine_similarity: shapes \(2, 3\) and \(2, 4\) cannot be broadcast"):
        F.cosine_similarity(x, sg.ones(2, 4))
    with pytest.raises(TypeError, match=r"cosine_similarity: eps must be a number, got 'a'"):
        F.cosine_similarity(x, x, eps="a")
