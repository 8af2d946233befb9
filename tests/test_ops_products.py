"""Products (bmm, baddbmm, addmm, outer, einsum): first and second order gradients by finite
differences, values and gradients against torch on drawn shapes (empty and size-1 sides
included), and edge values (inf, nan, +-0) against torch to the second order."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import scratchgen as sg
import scratchgen.functional as F
from differential import compare, edge_arrays, without_overflow
from oracle import check
from strategies import arrays


def side(min_side=0):
    return st.integers(min_side, 3)


@given(data=st.data(), b=side(), n=side(), k=side(), m=side())
def test_bmm(data, b, n, k, m):
    a, c = data.draw(arrays((b, n, k))), data.draw(arrays((b, k, m)))
    check(F.bmm, torch.bmm, [a, c])
    check(lambda a, c: a.bmm(c), lambda a, c: a.bmm(c), [a, c])


SCALES = st.sampled_from([(1, 1), (0.5, 2.0), (0, 1), (2, 0), (-1, 0.5)])


@given(data=st.data(), b=side(1), n=side(1), k=side(), m=side(1), scales=SCALES, broadcast=st.booleans())
def test_baddbmm(data, b, n, k, m, scales, broadcast):
    beta, alpha = scales
    input = data.draw(arrays((1, m) if broadcast else (b, n, m)))
    batch1, batch2 = data.draw(arrays((b, n, k))), data.draw(arrays((b, k, m)))
    check(lambda i, x, y: F.baddbmm(i, x, y, beta=beta, alpha=alpha),
          lambda i, x, y: torch.baddbmm(i, x, y, beta=beta, alpha=alpha), [input, batch1, batch2])
    check(lambda i, x, y: i.baddbmm(x, y, beta=beta, alpha=alpha),
          lambda i, x, y: i.baddbmm(x, y, beta=beta, alpha=alpha), [input, batch1, batch2])


@given(data=st.data(), n=side(1), k=side(), m=side(1), scales=SCALES, broadcast=st.booleans())
def test_addmm(data, n, k, m, scales, broadcast):
    beta, alpha = scales
    input = data.draw(arrays((m,) if broadcast else (n, m)))
    mat1, mat2 = data.draw(arrays((n, k))), data.draw(arrays((k, m)))
    check(lambda i, x, y: F.addmm(i, x, y, beta=beta, alpha=alpha),
          lambda i, x, y: torch.addmm(i, x, y, beta=beta, alpha=alpha), [input, mat1, mat2])
    check(lambda i, x, y: i.addmm(x, y, beta=beta, alpha=alpha),
          lambda i, x, y: i.addmm(x, y, beta=beta, alpha=alpha), [input, mat1, mat2])


def test_beta_zero_ignores_nan_and_inf_in_input_as_torch():
    input = np.array([[np.nan, np.inf], [-np.inf, 1.0]])
    compare(lambda i, x, y: F.addmm(i, x, y, beta=0), lambda i, x, y: torch.addmm(i, x, y, beta=0),
            [input, np.ones((2, 3)), np.ones((3, 2))])
    compare(lambda i, x, y: F.baddbmm(i, x, y, beta=0), lambda i, x, y: torch.baddbmm(i, x, y, beta=0),
            [input, np.ones((1, 2, 3)), np.ones((1, 3, 2))])


@given(data=st.data(), n=side(), m=side())
def test_outer(data, n, m):
    a, b = data.draw(arrays((n,))), data.draw(arrays((m,)))
    check(F.outer, torch.outer, [a, b])
    check(lambda a, b: a.outer(b), lambda a, b: a.outer(b), [a, b])


@given(data=st.data())
def test_products_at_edge_values_to_the_second_order(data):
    n, k, m = (data.draw(side(1)) for _ in range(3))
    a, b = (without_overflow(data.draw(edge_arrays(s, empty=False))) for s in ((n, k), (k, m)))
    compare(lambda a, b: F.bmm(a.unsqueeze(0), b.unsqueeze(0)), lambda a, b: torch.bmm(a[None], b[None]), [a, b])
    compare(lambda a, b: F.addmm(a[:, :1], a, b), lambda a, b: torch.addmm(a[:, :1], a, b), [a, b])
    compare(lambda a, b: F.outer(a[0], b[0]), lambda a, b: torch.outer(a[0], b[0]), [a, b])
    compare(lambda a, b: F.einsum("ij,jk->ik", a, b), lambda a, b: torch.einsum("ij,jk->ik", a, b), [a, b])


# ---- einsum -------------------------------------------------------------------------------------

EQUATIONS = [  # (equation, operand shapes): products, traces, diagonals, sums, broadcasting, '...'
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 0), (0, 3)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 1)]),
    ("ii", [(3, 3)]), ("ii->i", [(3, 3)]), ("iij->ji", [(2, 2, 3)]), ("ij->", [(2, 3)]), ("ij->j", [(0, 3)]),
    ("ba", [(2, 3)]), ("i j -> j i", [(2, 3)]), ("i,i->", [(3,), (3,)]), ("i,j", [(2,), (3,)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]), ("ij,k->ijk", [(2, 1), (3,)]), ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("...ij,...jk", [(2, 1, 2, 3), (3, 3, 2)]), ("...", [(2, 3)]), ("i...->...", [(2, 3, 1)]), ("", [()]),
    ("i,->i", [(2,), ()]), ("ijk,ikj->i", [(2, 2, 2), (2, 2, 2)]), ("Ab,bA->", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("equation, shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
@given(data=st.data())
def test_einsum(equation, shapes, data):
    operands = [data.draw(arrays(s)) for s in shapes]
    check(lambda *a: F.einsum(equation, *a), lambda *a: torch.einsum(equation, *a), operands)
    check(lambda *a: sg.einsum(equation, list(a)), lambda *a: torch.einsum(equation, list(a)), operands)


@given(data=st.data())
def test_einsum_at_edge_values_to_the_second_order(data):
    equation, shapes = data.draw(st.sampled_from(EQUATIONS[:16]))
    operands = [without_overflow(data.draw(edge_arrays(s, empty=False, broadcast=False))) for s in shapes]
    compare(lambda *a: F.einsum(equation, *a), lambda *a: torch.einsum(equation, *a), operands)


def test_einsum_promotes_mixed_float_dtypes_deliberately():
    """torch refuses float32 with float64; scratchgen promotes, as its other binary ops do
    (NumPy's rule), as the docstring says."""
    out = F.einsum("i,i->", sg.ones(2), sg.ones(2, dtype=sg.float64))
    assert out.dtype == np.float64 and out.item() == 2.0
    with pytest.raises(RuntimeError):
        torch.einsum("i,i->", torch.ones(2), torch.ones(2, dtype=torch.float64))


@pytest.mark.parametrize("equation, shapes, message", [
    ("ij,jk->ii", [(2, 2), (2, 2)], "output subscript 'i' appears more than once"),
    ("ij->k", [(2, 2)], "output subscript 'k' appears in no operand"),
    ("ij,jk", [(2, 3)], "names 2 operands, got 1"),
    ("ijk", [(2, 3)], "has 2 dims but its subscripts 'ijk'"),
    ("ij,jk", [(2, 3), (2, 2)], "subscript 'j' has size 2 in one operand and 3 in another"),
    ("ii", [(2, 3)], "subscript 'i' repeats in one operand over sides of sizes"),
    ("i1", [(2, 3)], "may hold only letters"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_einsum_errors_name_the_equation_as_torch_refuses_too(equation, shapes, message):
    with pytest.raises(ValueError, match=message):
        F.einsum(equation, *[sg.ones(*s) for s in shapes])
    with pytest.raises(RuntimeError):
        torch.einsum(equation, *[torch.ones(*s) for s in shapes])


def test_einsum_backward_is_einsum():
    a, b = (sg.tensor(np.full((2, 3), v), requires_grad=True) for v in (1.0, 2.0))
    (g,) = sg.grad(F.einsum("ij,ij->", a, b), [a], create_graph=True)
    assert g.grad_fn.name == "Einsum" and np.array_equal(g.detach().numpy(), np.full((2, 3), 2.0))


@pytest.mark.parametrize("op", ["addmm", "baddbmm"])
def test_beta_zero_leaves_input_without_a_gradient_deliberately(op):
    """torch gives input a gradient of zeros; here input takes no part (None), as the docstring says."""
    input = sg.tensor(np.ones((2, 2)), requires_grad=True)
    a, b = (sg.ones(2, 2, dtype=sg.float64), sg.ones(2, 2, dtype=sg.float64)) if op == "addmm" else \
        (sg.ones(1, 2, 2, dtype=sg.float64), sg.ones(1, 2, 2, dtype=sg.float64))
    out = getattr(F, op)(input, a, b, beta=0)
    assert not out.requires_grad
    theirs = torch.ones(2, 2, dtype=torch.float64, requires_grad=True)
    t_a, t_b = torch.tensor(a.numpy()), torch.tensor(b.numpy())
    getattr(torch, op)(theirs, t_a, t_b, beta=0).sum().backward()
    assert torch.equal(theirs.grad, torch.zeros(2, 2, dtype=torch.float64))
