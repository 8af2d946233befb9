"""Reductions (sum, mean, var, std, vector_norm, max, min, argmax, argmin, logsumexp) and the
softmax family."""
import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import scratchgen as sg
import scratchgen.functional as F
from oracle import check
from strategies import arrays, dim_tuples, dims, distinct_arrays, shapes


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


@pytest.mark.parametrize("ord", [2, 1])
@given(data=st.data(), keepdim=st.booleans())
def test_vector_norm(ord, data, keepdim):
    shape = data.draw(shapes())
    dim = data.draw(dim_tuples(len(shape)))
    x = data.draw(distinct_arrays(shape))  # no zeros: |x| and ||x|| have no derivative there
    check(lambda x: F.vector_norm(x, ord, dim, keepdim),
          lambda x: torch.linalg.vector_norm(x, ord, dim, keepdim), [x])
    check(lambda x: x.norm(ord, dim, keepdim), lambda x: x.norm(ord, dim, keepdim), [x])


def test_vector_norm_gradient_is_zero_at_a_zero_vector_as_torch():
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    check(lambda x: F.vector_norm(x, dim=1), lambda x: torch.linalg.vector_norm(x, dim=1), [x],
          gradcheck=False)
    mine = sg.tensor(x, requires_grad=True)
    F.vector_norm(mine, dim=1).sum().backward()
    np.testing.assert_array_equal(mine.grad.numpy(), [[0.0, 0.0], [0.6, 0.8]])


def test_vector_norm_rejects_other_orders():
    with pytest.raises(ValueError, match=r"vector_norm: ord must be 2 or 1, got 3"):
        F.vector_norm(sg.ones(3), 3)


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
                                F.max, F.min, F.argmax, F.argmin], ids=lambda op: op.__name__)
def test_out_of_range_dim_is_named(op):
    with pytest.raises(IndexError, match=rf"{op.__name__}: dim=2 is out of range for a tensor with "
                                         r"2 dimensions \(expected -2 to 1\)"):
        op(sg.zeros(2, 3), 2)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_of_empty_tensor_is_an_error(name):
    with pytest.raises(ValueError, match=rf"{name}: cannot reduce an empty tensor of shape \(0, 3\)"):
        getattr(F, name)(sg.zeros(0, 3))
