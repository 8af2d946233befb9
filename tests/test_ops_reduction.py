"""Reductions (sum, mean, var, std, vector_norm, max, min, amax, amin, argmax, argmin, all, any,
logsumexp), the softmax family, and the scans and products (cumsum, logcumsumexp, prod):
gradcheck and gradgradcheck with torch's values and gradients on drawn shapes (empty and
size-1 sides included), and edge values (inf, nan, +-0, ties) against torch to the second
order (tests/differential.py)."""
import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import scratchgen as sg
import scratchgen.functional as F
from differential import compare, edge_arrays, without_overflow
from oracle import check
from strategies import arrays, dim_tuples, dims, distinct_arrays, nonzero_arrays, shapes, shapes_with_empty


def _count(shape, dim):
    """How many elements one reduction over `dim` combines."""
    if dim is None or dim == ():
        return math.prod(shape)
    return math.prod(shape[d] for d in ((dim,) if isinstance(dim, int) else dim)) if shape else 1


@pytest.mark.parametrize("name", ["sum", "mean"])
@given(data=st.data(), keepdim=st.booleans())
def test_sum_mean(name, data, keepdim):
    shape = data.draw(shapes())
    dim = data.draw(dim_tuples(len(shape)))
    x = data.draw(arrays(shape))
    check(lambda x: getattr(F, name)(x, dim, keepdim),
          lambda x: getattr(torch, name)(x, dim=dim, keepdim=keepdim), [x])
    check(lambda x: getattr(x, name)(dim, keepdim),
          lambda x: getattr(x, name)(dim=dim, keepdim=keepdim), [x])


@pytest.mark.parametrize("name", ["var", "std"])
@given(data=st.data(), keepdim=st.booleans(), correction=st.sampled_from([None, 0, 1, 2]))
def test_var_std_with_correction(name, data, keepdim, correction):
    shape = data.draw(shapes())
    # torch 2.13's var reads dim=() as every dim forward but not backward (half the gradient)
    dim = data.draw(dim_tuples(len(shape)).filter(lambda d: d != ()))
    x = data.draw(distinct_arrays(shape))  # distinct: a variance of 0 has no sqrt derivative
    count = _count(shape, dim)
    assume(count > (1 if correction is None else correction))  # a positive divisor count - correction
    assume(name == "var" or count > 1)  # the std of one value is 0
    sg_op, torch_op = getattr(F, name), getattr(torch, name)
    options = {} if correction is None else {"correction": correction}
    check(lambda x: sg_op(x, dim, keepdim=keepdim, **options),
          lambda x: torch_op(x, dim=dim, keepdim=keepdim, **options), [x])


@pytest.mark.parametrize("name", ["var", "std"])
@given(data=st.data(), unbiased=st.booleans(), keepdim=st.booleans())
def test_var_std_unbiased_flag(name, data, unbiased, keepdim):
    shape = data.draw(shapes(min_dims=1, min_side=2))
    dim = data.draw(dims(len(shape)))
    x = data.draw(distinct_arrays(shape))
    check(lambda x: getattr(F, name)(x, dim, unbiased, keepdim),
          lambda x: getattr(torch, name)(x, dim, unbiased, keepdim), [x])


@pytest.mark.parametrize("ord", [2, 1, 0, 0.5, 3, -1.5, math.inf, -math.inf], ids=str)
@given(data=st.data(), keepdim=st.booleans())
def test_vector_norm(ord, data, keepdim):
    shape = data.draw(shapes())
    dim = data.draw(dim_tuples(len(shape)))
    x = data.draw(distinct_arrays(shape))  # no zeros: |x| and ||x|| have no derivative there
    check(lambda x: F.vector_norm(x, ord, dim, keepdim),
          lambda x: torch.linalg.vector_norm(x, ord, dim, keepdim), [x])
    check(lambda x: x.norm(ord, dim, keepdim), lambda x: x.norm(ord, dim, keepdim), [x])
    check(lambda x: sg.linalg.vector_norm(x, ord, dim, keepdim, dtype=sg.float64),
          lambda x: torch.linalg.vector_norm(x, ord, dim, keepdim, dtype=torch.float64), [x])


def test_vector_norm_gradient_is_zero_at_a_zero_vector_as_torch():
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    check(lambda x: F.vector_norm(x, dim=1), lambda x: torch.linalg.vector_norm(x, dim=1), [x],
          gradcheck=False)
    mine = sg.tensor(x, requires_grad=True)
    F.vector_norm(mine, dim=1).sum().backward()
    np.testing.assert_array_equal(mine.grad.numpy(), [[0.0, 0.0], [0.6, 0.8]])


def test_vector_norm_rejects_a_matrix_order():
    with pytest.raises(TypeError, match=r"vector_norm: ord must be a number \(inf included\), got 'fro'"):
        F.vector_norm(sg.ones(3), "fro")


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data())
def test_max_min_full(name, data):
    x = data.draw(distinct_arrays(data.draw(shapes())))
    check(getattr(F, name), getattr(torch, name), [x])
    check(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), [x])


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data(), keepdim=st.booleans())
def test_max_min_along_dim_give_values_and_indices(name, data, keepdim):
    shape = data.draw(shapes())
    dim = data.draw(dims(len(shape)))
    x = data.draw(distinct_arrays(shape))
    check(lambda x: getattr(F, name)(x, dim, keepdim), lambda x: getattr(torch, name)(x, dim, keepdim), [x])
    check(lambda x: getattr(x, name)(dim, keepdim=keepdim),
          lambda x: getattr(x, name)(dim, keepdim=keepdim), [x])


TIED = np.array([[3.0, 1.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0], [3.0, -1.0, -1.0, 0.5]])


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_full_reduction_share_gradient_among_ties(name):
    check(getattr(F, name), getattr(torch, name), [TIED], gradcheck=False)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_max_min_along_dim_send_gradient_to_returned_index(name, dim):
    check(lambda x: getattr(F, name)(x, dim), lambda x: getattr(torch, name)(x, dim), [TIED],
          gradcheck=False)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data(), keepdim=st.booleans(), full=st.booleans())
def test_argmax_argmin(name, data, keepdim, full):
    shape = data.draw(shapes())
    dim = None if full else data.draw(dims(len(shape)))
    x = data.draw(distinct_arrays(shape))
    check(lambda x: getattr(F, name)(x, dim, keepdim), lambda x: getattr(torch, name)(x, dim, keepdim),
          [x])


@given(data=st.data(), keepdim=st.booleans())
def test_logsumexp(data, keepdim):
    shape = data.draw(shapes())
    # torch.logsumexp rejects dim=(), which the other reductions read as every dim
    dim = data.draw(dim_tuples(len(shape)).filter(lambda d: d not in (None, ())))
    x = data.draw(arrays(shape, -5.0, 5.0))
    check(lambda x: F.logsumexp(x, dim, keepdim), lambda x: torch.logsumexp(x, dim, keepdim), [x])


def test_logsumexp_is_stable_for_large_inputs():
    x = np.array([[1000.0, 1000.0, -1000.0], [-1e4, -1e4 + 1, -1e4 + 2]])
    check(lambda x: F.logsumexp(x, 1), lambda x: torch.logsumexp(x, 1), [x], gradcheck=False)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_family(name, data):
    shape = data.draw(shapes())
    dim = data.draw(dims(len(shape)))
    x = data.draw(arrays(shape, -4.0, 4.0))
    check(lambda x: getattr(F, name)(x, dim), lambda x: getattr(torch, name)(x, dim), [x])
    check(lambda x: getattr(x, name)(dim), lambda x: getattr(x, name)(dim), [x])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_is_stable_for_large_inputs(name):
    x = np.array([[1000.0, 0.0, -1000.0], [5e3, 5e3, 5e3]])
    check(lambda x: getattr(F, name)(x, 1), lambda x: getattr(torch, name)(x, 1), [x], gradcheck=False)


@pytest.mark.parametrize("op", [F.sum, F.mean, F.var, F.std, F.logsumexp, F.softmax, F.log_softmax,
                                F.max, F.min, F.argmax, F.argmin, F.amax, F.amin, F.prod, F.cumsum,
                                F.logcumsumexp, F.all, F.any], ids=lambda op: op.__name__)
def test_out_of_range_dim_is_named(op):
    with pytest.raises(IndexError, match=rf"{op.__name__}: dim=2 is out of range for a tensor with "
                                         r"2 dimensions \(expected -2 to 1\)"):
        op(sg.zeros(2, 3), 2)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_of_empty_tensor_is_an_error(name):
    with pytest.raises(ValueError, match=rf"{name}: cannot reduce an empty tensor of shape \(0, 3\)"):
        getattr(F, name)(sg.zeros(0, 3))


# ---- issue 21: torch's overloads and edges ---------------------------------------------------------

PIECEWISE = {2: "the first-order gradient is piecewise constant in x: scratchgen records no graph for it "
                "(torch: one whose gradient is 0), so there is no second order to compare"}


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_with_a_bool_second_argument_read_as_unbiased_as_torch(name):
    x = np.array([0.5, 1.0, 3.0, -2.0, 0.25])
    for unbiased in (True, False):
        check(lambda x: getattr(F, name)(x, unbiased), lambda x: getattr(torch, name)(x, unbiased), [x])
        check(lambda x: getattr(x, name)(unbiased), lambda x: getattr(x, name)(unbiased), [x])
        check(lambda x: getattr(F, name)(x, unbiased=unbiased), lambda x: getattr(torch, name)(x, unbiased=unbiased), [x])
    check(lambda x: getattr(F, name)(x, None, False, True), lambda x: getattr(torch, name)(x, None, False, True), [x])
    check(lambda x: getattr(F, name)(x, 0, correction=1.5), lambda x: getattr(torch, name)(x, 0, correction=1.5), [x])


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("call", [lambda op, x: op(x, True, True), lambda op, x: op(x, 0, False, correction=1),
                                  lambda op, x: op(x, 0, "yes")], ids=["bool-then-bool", "both", "not-a-bool"])
def test_var_std_refuse_what_torch_refuses(name, call):
    with pytest.raises(TypeError, match=f"{name}: "):
        call(getattr(F, name), sg.ones(3))
    with pytest.raises(TypeError):
        call(getattr(torch, name), torch.ones(3))


@pytest.mark.parametrize("name", ["var", "std"])
@given(data=st.data(), correction=st.sampled_from([0, 1]))
def test_var_std_at_edge_values_to_the_second_order(name, data, correction):
    shape = data.draw(shapes(min_dims=1))
    x, dim = data.draw(edge_arrays(shape)), data.draw(dims(len(shape)))
    compare(lambda x: getattr(F, name)(x, dim, correction=correction),
            lambda x: getattr(torch, name)(x, dim, correction=correction), [without_overflow(x)])


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data())
def test_max_min_of_a_tensor_and_another_is_elementwise_as_torch(name, data):
    a_shape, b_shape = data.draw(st.sampled_from([((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2,))]))
    a, b = data.draw(distinct_arrays(a_shape)), data.draw(distinct_arrays(b_shape)) + 0.0625  # on another grid: no ties
    check(lambda a, b: getattr(F, name)(a, b), lambda a, b: getattr(torch, name)(a, b), [a, b])
    check(lambda a, b: getattr(F, name)(a, other=b), lambda a, b: getattr(torch, name)(a, other=b), [a, b])
    check(lambda a, b: getattr(a, name)(b), lambda a, b: getattr(a, name)(b), [a, b])


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data())
def test_max_min_at_edge_values(name, data):
    shape = data.draw(shapes(min_dims=1))
    x, dim = data.draw(edge_arrays(shape)), data.draw(dims(len(shape)))
    op, theirs = getattr(F, name), getattr(torch, name)
    compare(lambda x: tuple(op(x, dim)), lambda x: tuple(theirs(x, dim)), [x], name=name, differs=PIECEWISE)
    compare(op, theirs, [x], name=name, differs=PIECEWISE)  # ties and nans share the gradient


@pytest.mark.parametrize("name", ["amax", "amin"])
@given(data=st.data(), keepdim=st.booleans())
def test_amax_amin(name, data, keepdim):
    shape = data.draw(shapes())
    dim = data.draw(dim_tuples(len(shape)))
    x = data.draw(distinct_arrays(shape))
    check(lambda x: getattr(F, name)(x, dim, keepdim), lambda x: getattr(torch, name)(x, dim, keepdim), [x])
    check(lambda x: getattr(x, name)(dim, keepdim), lambda x: getattr(x, name)(dim, keepdim), [x])


@pytest.mark.parametrize("name", ["amax", "amin"])
@given(data=st.data())
def test_amax_amin_share_the_gradient_among_ties_and_edges_as_torch(name, data):
    shape = data.draw(shapes(min_dims=1))
    x, dim = data.draw(edge_arrays(shape, extra=(1.0, 1.0, 1.0))), data.draw(dims(len(shape)))
    compare(lambda x: getattr(F, name)(x, dim), lambda x: getattr(torch, name)(x, dim), [x], name=name,
            differs=PIECEWISE)


@pytest.mark.parametrize("ord", [2, 1, 0, 0.5, 3, -1, -1.5, math.inf, -math.inf], ids=str)
@given(data=st.data(), keepdim=st.booleans(), full=st.booleans())
def test_vector_norm_at_edge_values_empty_dims_and_ties(ord, data, keepdim, full):
    """inf / -inf / negative orders over an empty dim are errors (no identity), as torch's;
    ties of the +-inf norm share the gradient, and a nan takes it, as torch's."""
    shape = data.draw(shapes(min_dims=1))
    x, dim = data.draw(edge_arrays(shape)), None if full else data.draw(dims(len(shape)))
    differs = dict(PIECEWISE) if ord in (0, 1, math.inf, -math.inf) else {}
    if ord == 2 and not np.all(np.abs(x) > 1e-300):  # a zero norm (1e-300 squared is 0 too)
        differs[2] = "EuclideanNorm's second derivative at a zero vector is finite (torch's: nan), as its docstring says"
    compare(lambda x: F.vector_norm(x, ord, dim, keepdim), lambda x: torch.linalg.vector_norm(x, ord, dim, keepdim),
            [x], name="vector_norm", differs=differs)


def test_vector_norm_of_one_element_is_its_size_without_underflow_as_torch():
    x = np.array([1e-300, -1e300])
    for ord in (2, 3, 0.5, -1):
        compare(lambda x: F.vector_norm(x, ord, 0, True), lambda x: torch.linalg.vector_norm(x, ord, 0, True),
                [x[:1]])
        check(lambda x: F.vector_norm(x.reshape(2, 1), ord, 1), lambda x: torch.linalg.vector_norm(x.reshape(2, 1), ord, 1),
              [x], gradcheck=False)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("shape, dim", [((3, 0), 1), ((0, 3), 1), ((0, 3), 0), ((0,), 0), ((2, 0, 2), (1, 2))], ids=str)
def test_softmax_family_over_an_empty_dim_as_torch(name, shape, dim):
    """An empty result, or -inf for a logsumexp of nothing; NumPy's max alone would raise."""
    if name != "logsumexp" and isinstance(dim, tuple):
        dim = dim[0]
    compare(lambda x: getattr(F, name)(x, dim), lambda x: getattr(torch, name)(x, dim), [np.zeros(shape)])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
@given(data=st.data())
def test_softmax_family_at_edge_values(name, data):
    shape = data.draw(shapes(min_dims=1))
    x, dim = data.draw(edge_arrays(shape)), data.draw(dims(len(shape)))
    compare(lambda x: getattr(F, name)(x, dim), lambda x: getattr(torch, name)(x, dim), [x], name=name)


def test_log_softmax_row_holding_inf_or_nan_is_nan_as_torch():
    x = np.array([[np.inf, -np.inf, 1.0], [np.nan, 0.0, 1.0], [1.0, 2.0, 3.0]])
    compare(lambda x: F.log_softmax(x, 1), lambda x: torch.log_softmax(x, 1), [x])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_dtype_casts_first_as_torch(name):
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    check(lambda x: getattr(F, name)(x, 1, dtype=sg.float64), lambda x: getattr(torch, name)(x, 1, dtype=torch.float64),
          [x.astype(np.float64)], gradcheck=False)
    out = getattr(F, name)(sg.tensor(x), 1, dtype=sg.float64)
    assert out.dtype == np.float64
    with pytest.raises(TypeError, match=f"{name}: dtype must be a floating-point dtype"):
        getattr(F, name)(sg.tensor(x), 1, dtype=sg.int64)


@pytest.mark.parametrize("name", ["all", "any"])
@given(data=st.data(), keepdim=st.booleans())
def test_all_any(name, data, keepdim):
    shape = data.draw(shapes_with_empty(min_dims=0))
    dim = data.draw(dim_tuples(len(shape)).filter(lambda d: d != ()))
    x = data.draw(edge_arrays(shape, extra=(0.0, 0.0, 0.0), empty=False))
    for value in (x, x > 0):
        compare(lambda x: getattr(F, name)(x, dim, keepdim), lambda x: getattr(torch, name)(x, dim, keepdim), [value])
        compare(lambda x: getattr(x, name)(dim, keepdim), lambda x: getattr(x, name)(dim, keepdim), [value])
    assert getattr(sg, name)(sg.tensor([np.nan])).item() is True  # nan is nonzero, as torch


# ---- scans and products ----------------------------------------------------------------------------

@given(data=st.data())
def test_cumsum(data):
    shape = data.draw(shapes_with_empty(min_dims=0))
    x, dim = data.draw(arrays(shape)), data.draw(dims(len(shape)))
    check(lambda x: F.cumsum(x, dim), lambda x: torch.cumsum(x, dim), [x])
    check(lambda x: x.cumsum(dim), lambda x: x.cumsum(dim), [x])


def test_cumsum_of_integers_and_bools_is_int64_and_dtype_casts_as_torch():
    for array in (np.array([1, 2, 3], dtype=np.int32), np.array([True, False, True]), np.array([1, 2], np.uint8)):
        check(lambda x: F.cumsum(x, 0), lambda x: torch.cumsum(x, 0), [array])
        check(lambda x: F.prod(x), lambda x: torch.prod(x), [array])
    check(lambda x: F.cumsum(x, 0, dtype=sg.float64), lambda x: torch.cumsum(x, 0, dtype=torch.float64),
          [np.array([1, 2, 3])])


@given(data=st.data())
def test_logcumsumexp(data):
    shape = data.draw(shapes_with_empty(min_dims=0))
    x, dim = data.draw(arrays(shape, -5.0, 5.0)), data.draw(dims(len(shape)))
    check(lambda x: F.logcumsumexp(x, dim), lambda x: torch.logcumsumexp(x, dim), [x])
    check(lambda x: x.logcumsumexp(dim), lambda x: x.logcumsumexp(dim), [x])


def test_logcumsumexp_is_stable_far_apart():
    x = np.array([-1000.0, 0.0, 1000.0, -1e4, 2.0, 7.0, -3.0, 1000.0, 999.0])
    check(lambda x: F.logcumsumexp(x, 0), lambda x: torch.logcumsumexp(x, 0), [x], gradcheck=False)


@pytest.mark.parametrize("name", ["cumsum", "logcumsumexp"])
@given(data=st.data())
def test_scans_at_edge_values_to_the_second_order(name, data):
    shape = data.draw(shapes(min_dims=1))
    x, dim = data.draw(edge_arrays(shape)), data.draw(dims(len(shape)))
    compare(lambda x: getattr(F, name)(x, dim), lambda x: getattr(torch, name)(x, dim), [x], name=name)


@st.composite
def with_zeros(draw, shape):
    """Values away from 0 with none, one or several elements set to exactly 0."""
    x = draw(nonzero_arrays(shape, margin=0.25))
    if x.size:
        for i in draw(st.lists(st.integers(0, x.size - 1), max_size=3)):
            x.reshape(-1)[i] = 0.0
    return x


@given(data=st.data(), keepdim=st.booleans(), full=st.booleans())
def test_prod(data, keepdim, full):
    """gradcheck and gradgradcheck hold with zeros in the input too (prod is a polynomial):
    they check the products of the others, O(n) first-order and O(n^2) recorded rule alike."""
    shape = data.draw(shapes_with_empty(min_dims=0))
    x = data.draw(with_zeros(shape))
    if full:
        check(F.prod, torch.prod, [x])
        check(lambda x: x.prod(), lambda x: x.prod(), [x])
    else:
        dim = data.draw(dims(len(shape)))
        check(lambda x: F.prod(x, dim, keepdim), lambda x: torch.prod(x, dim, keepdim), [x])
        check(lambda x: x.prod(dim, keepdim), lambda x: x.prod(dim, keepdim), [x])


def test_prod_gradient_with_zeros_is_the_product_of_the_others_as_torch():
    x = np.array([[3.0, 0.0, 2.0], [0.0, 0.0, 5.0], [1.5, -2.0, 4.0]])
    mine = sg.tensor(x, requires_grad=True)
    F.prod(mine, 1).sum().backward()
    np.testing.assert_array_equal(mine.grad.numpy(), [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [-8.0, 6.0, -3.0]])
    for orders_dim in (None, 0, 1):
        compare(lambda x: F.prod(x, orders_dim), lambda x: torch.prod(x) if orders_dim is None else torch.prod(x, orders_dim),
                [x])


@given(data=st.data())
def test_prod_at_edge_values(data):
    """To the second order on finite values; to the first where inf or nan meet 0 (the second
    order there follows each library's own order of products, and torch's gives nan where the
    products of the others are finite)."""
    shape = data.draw(shapes(min_dims=1))
    x = without_overflow(data.draw(edge_arrays(shape)))
    x = np.where(np.abs(x) == 1e-300, np.sign(x) * 0.25, x)  # products underflow to 0 in an order-dependent way
    dim = data.draw(st.one_of(st.none(), dims(len(shape))))
    orders = (0, 1, 2) if np.isfinite(x).all() else (0, 1)
    compare(lambda x: F.prod(x, dim), lambda x: torch.prod(x) if dim is None else torch.prod(x, dim), [x],
            name="prod", orders=orders)


def test_euclidean_norm_second_derivative_at_a_zero_vector_is_finite_deliberately():
    """torch's is nan; here it is finite, as EuclideanNorm's docstring says (the WGAN-GP
    penalty differentiates the norm of a gradient that may be 0)."""
    x = sg.tensor(np.zeros(3), requires_grad=True)
    (g,) = sg.grad(F.vector_norm(x), [x], create_graph=True)
    (h,) = sg.grad((g * sg.tensor([1.0, 2.0, 3.0], dtype=sg.float64)).sum(), [x])
    assert np.isfinite(h.numpy()).all()
    t = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.linalg.vector_norm(t), [t], create_graph=True)
    (th,) = torch.autograd.grad((tg * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum(), [t])
    assert torch.isnan(th).all()


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_needs_dim_deliberately(name):
    """torch.nn.functional's implicit dim is deprecated (a warning, then a guess); here it is required."""
    with pytest.raises(TypeError):
        getattr(F, name)(sg.ones(2, 3))


@pytest.mark.parametrize("ord, expected", [(math.inf, [0.5, -0.5, 0.0, 0.0]), (-math.inf, [0.0, 0.0, 0.5, -0.5])],
                         ids=["inf", "-inf"])
def test_inf_norm_splits_the_gradient_among_ties_as_torch(ord, expected):
    x = np.array([3.0, -3.0, 1.0, -1.0])
    check(lambda x: F.vector_norm(x, ord), lambda x: torch.linalg.vector_norm(x, ord), [x], gradcheck=False)
    mine = sg.tensor(x, requires_grad=True)
    F.vector_norm(mine, ord).backward()
    np.testing.assert_array_equal(mine.grad.numpy(), expected)
