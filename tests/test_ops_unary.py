"""Elementwise ops of one tensor, the selections (clamp, maximum, minimum, where), and dropout;
their values at the edges against torch's (nan, +-inf, +-0, the kinks), to the second order."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

import scratchgen as sg
import scratchgen.functional as F
from differential import EDGE_VALUES, compare, edge_arrays
from oracle import check
from strategies import (arrays, arrays_avoiding, broadcastable_shapes, distinct_arrays,
                        masks, nonzero_arrays, positive_arrays, shapes)


# name: (scratchgen op, torch op, inputs kept where the op is smooth)
ELEMENTWISE = {
    "exp": (F.exp, torch.exp, arrays),
    "log": (F.log, torch.log, positive_arrays),
    "log1p": (F.log1p, torch.log1p, lambda shape: arrays(shape, -0.8, 2.0)),
    "sqrt": (F.sqrt, torch.sqrt, positive_arrays),
    "abs": (F.abs, torch.abs, nonzero_arrays),
    "tanh": (F.tanh, torch.tanh, lambda shape: arrays(shape, -3.0, 3.0)),
    "sigmoid": (F.sigmoid, torch.sigmoid, lambda shape: arrays(shape, -4.0, 4.0)),
    "relu": (F.relu, torch.relu, nonzero_arrays),
    "square": (F.square, torch.square, arrays),
    "clone": (F.clone, torch.clone, arrays),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
@given(data=st.data())
def test_unary_op(name, data):
    sg_op, torch_op, inputs = ELEMENTWISE[name]
    check(sg_op, torch_op, [data.draw(inputs(data.draw(shapes())))])


@given(data=st.data(), negative_slope=st.floats(0.0, 0.5))
def test_leaky_relu(data, negative_slope):
    x = data.draw(nonzero_arrays(data.draw(shapes())))
    check(lambda x: F.leaky_relu(x, negative_slope), lambda x: TF.leaky_relu(x, negative_slope), [x])


@given(data=st.data(), alpha=st.floats(0.1, 2.0))
def test_elu(data, alpha):
    x = data.draw(nonzero_arrays(data.draw(shapes())))
    check(lambda x: F.elu(x, alpha), lambda x: TF.elu(x, alpha), [x])


@given(data=st.data(), beta=st.floats(0.5, 3.0), threshold=st.floats(0.5, 20.0))
def test_softplus(data, beta, threshold):
    # torch switches to the identity where beta * x > threshold: keep away from the switch
    x = data.draw(arrays_avoiding(data.draw(shapes()), [threshold / beta], margin=0.1, low=-3, high=3))
    check(lambda x: F.softplus(x, beta, threshold), lambda x: TF.softplus(x, beta, threshold), [x])


@given(data=st.data(),
       bounds=st.sampled_from([(-1.0, 1.0), (None, 0.5), (-0.5, None), (0.3, 0.3), (1.0, -1.0)]))
def test_clamp(data, bounds):
    low, high = bounds
    x = data.draw(arrays_avoiding(data.draw(shapes()), [b for b in bounds if b is not None]))
    check(lambda x: F.clamp(x, low, high), lambda x: torch.clamp(x, low, high), [x])
    check(lambda x: x.clamp(min=low, max=high), lambda x: x.clamp(min=low, max=high), [x])


def test_clamp_gradient_passes_at_the_bounds():
    x = np.array([-1.0, 0.0, 1.0, 2.0])
    check(lambda x: F.clamp(x, -1.0, 1.0), lambda x: torch.clamp(x, -1.0, 1.0), [x], gradcheck=False)


@pytest.mark.parametrize("which", ["min", "max", "both", "min and a number"])
@given(data=st.data())
def test_clamp_to_tensor_bounds(which, data):
    x_shape, bound_shape = data.draw(broadcastable_shapes())
    x_size = int(np.prod(x_shape))
    values = data.draw(distinct_arrays((x_size + int(np.prod(bound_shape)),)))  # no ties with x
    x, low = values[:x_size].reshape(x_shape), values[x_size:].reshape(bound_shape)
    high = np.asarray(low + 1.0625)  # above low, and off the grid of x's values
    bounds = {"min": (low, None), "max": (None, high), "both": (low, high), "min and a number": (low, 0.5)}[which]
    arrays = [x] + [b for b in bounds if isinstance(b, np.ndarray)]

    def clamp_with(clamp, number=lambda b: b):
        def call(x, *tensors):
            given = iter(tensors)
            return clamp(x, *[next(given) if isinstance(b, np.ndarray) else number(b) for b in bounds])
        return call
    # torch.clamp takes numbers or tensors, not one of each; scratchgen takes both
    as_torch = lambda b: b if b is None else torch.tensor(b, dtype=torch.float64)  # noqa: E731
    check(clamp_with(F.clamp), clamp_with(torch.clamp, as_torch), arrays)


def test_clamp_without_bounds_is_an_error():
    with pytest.raises(ValueError, match="clamp: at least one of min and max"):
        F.clamp(sg.zeros(2))


SELECTIONS = {"maximum": (F.maximum, torch.maximum), "minimum": (F.minimum, torch.minimum)}


@pytest.mark.parametrize("name", SELECTIONS)
@given(data=st.data())
def test_maximum_minimum_with_broadcasting(name, data):
    a_shape, b_shape = data.draw(broadcastable_shapes())
    a_size = int(np.prod(a_shape))
    values = data.draw(distinct_arrays((a_size + int(np.prod(b_shape)),)))  # no ties between a and b
    check(*SELECTIONS[name], [values[:a_size].reshape(a_shape), values[a_size:].reshape(b_shape)])


@pytest.mark.parametrize("name", SELECTIONS)
def test_maximum_minimum_split_ties_in_half(name):
    a = np.array([[1.0, 2.0, 3.0], [0.5, 2.0, -1.0]])
    b = np.array([1.0, 0.0, 3.0])
    check(*SELECTIONS[name], [a, b], gradcheck=False)


@given(data=st.data())
def test_where_with_broadcasting(data):
    cond_shape, a_shape, b_shape = data.draw(broadcastable_shapes(num_shapes=3))
    condition = data.draw(masks(cond_shape))
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    check(F.where, torch.where, [condition, a, b])


@given(data=st.data(), scalar=st.sampled_from([0.0, -1.5]))
def test_where_with_python_scalar(data, scalar):
    shape = data.draw(shapes())
    condition = data.draw(masks(shape))
    x = data.draw(arrays(shape))
    check(lambda c, x: F.where(c, x, scalar), lambda c, x: torch.where(c, x, scalar), [condition, x])
    check(lambda c, x: F.where(c, scalar, x), lambda c, x: torch.where(c, scalar, x), [condition, x])


def _seeded_dropout(p, seed):
    """Dropout whose mask is the same at every call (gradcheck calls it many times)."""
    return lambda x: F.dropout(x, p, generator=sg.Generator(seed))


@given(data=st.data(), p=st.sampled_from([0.2, 0.5, 0.8]), seed=st.integers(0, 2 ** 16))
def test_dropout_gradient_is_mask_over_keep_probability(data, p, seed):
    x = sg.tensor(data.draw(nonzero_arrays(data.draw(shapes()))), requires_grad=True)
    sg.gradcheck(_seeded_dropout(p, seed), (x,))
    sg.gradgradcheck(_seeded_dropout(p, seed), (x,))
    y = _seeded_dropout(p, seed)(x)
    upstream = np.random.default_rng(seed).standard_normal(x.shape)
    (grad,) = sg.grad([y], [x], [sg.tensor(upstream)])
    mask = y.detach().numpy() != 0
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy() * mask / (1 - p), rtol=1e-12)
    np.testing.assert_allclose(grad.numpy(), upstream * mask / (1 - p), rtol=1e-12)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_drops_a_fraction_p(p):
    n = 20000
    y = F.dropout(sg.ones(n, dtype=sg.float64), p, generator=sg.Generator(0)).numpy()
    dropped = np.mean(y == 0)
    # binomial standard deviation sqrt(p (1 - p) / n) is at most 0.0036 here: allow 5 of them
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(y[y != 0], 1 / (1 - p))
    assert abs(y.mean() - 1) < 0.05  # the scaling keeps the expectation


def test_dropout_identity_when_not_training_or_p_zero():
    x = sg.randn(3, 4, dtype=sg.float64)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_p_one_zeroes_everything_and_its_gradient():
    x = sg.randn(3, 4, dtype=sg.float64, requires_grad=True)
    y = F.dropout(x, 1.0)
    y.sum().backward()
    assert not y.detach().numpy().any() and not x.grad.numpy().any()


def test_dropout_rejects_bad_probability():
    with pytest.raises(ValueError, match=r"dropout: p must be a probability in \[0, 1\], got 1.5"):
        F.dropout(sg.zeros(2), 1.5)


# ---- edges: values found to differ from torch's by a differential run (issues 21 and 22) -------

AT_EDGES = pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")  # inf - inf and the like, on purpose

EDGE_FIXES = {  # name: (scratchgen op, torch op, the op's own kinks and switches)
    "relu": (F.relu, torch.relu, ()),                                    # relu(-inf) was nan; relu'(nan) 0
    "abs": (F.abs, torch.abs, ()),                                       # abs'(nan) was nan
    "softplus": (lambda x: F.softplus(x, 3, 0.2), lambda x: TF.softplus(x, 3, 0.2), (0.2 / 3, 0.1)),  # +-inf: nan
    "softplus (defaults)": (F.softplus, TF.softplus, (20.0, 25.0)),
    "clamp (min)": (lambda x: F.clamp(x, min=-100.0), lambda x: torch.clamp(x, min=-100.0), (-100.0,)),  # -inf: nan
    "clamp": (lambda x: F.clamp(x, -1.0, 1.0), lambda x: torch.clamp(x, -1.0, 1.0), ()),
    "clamp (min > max)": (lambda x: F.clamp(x, 1.0, -1.0), lambda x: torch.clamp(x, 1.0, -1.0), ()),
    "log": (F.log, torch.log, ()),                                       # log'(+-0) = +-inf, as torch
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), ()),
    "sqrt": (F.sqrt, torch.sqrt, ()), "exp": (F.exp, torch.exp, ()), "log1p": (F.log1p, torch.log1p, ()),
    "tanh": (F.tanh, torch.tanh, ()), "sigmoid": (F.sigmoid, torch.sigmoid, ()),
}
for _p in (0, 1, 2, 3, 0.5, -0.5, -1, -2, 1.5, 2.5, -1.5):  # pow's torch special cases and second orders at 0
    EDGE_FIXES[f"pow {_p}"] = (lambda x, p=_p: x ** p, lambda x, p=_p: x ** p, ())


@AT_EDGES
@pytest.mark.parametrize("name", EDGE_FIXES)
def test_every_edge_value_against_torch(name):
    ours, theirs, kinks = EDGE_FIXES[name]
    compare(ours, theirs, [np.array(EDGE_VALUES + kinks)])


@AT_EDGES
@pytest.mark.parametrize("name", EDGE_FIXES)
@given(data=st.data())
def test_edge_arrays_against_torch(name, data):
    ours, theirs, kinks = EDGE_FIXES[name]
    compare(ours, theirs, [data.draw(edge_arrays(data.draw(shapes(max_dims=3)), extra=kinks))])


BINARY = {"maximum": (F.maximum, torch.maximum), "minimum": (F.minimum, torch.minimum),  # nan was dropped
          "pow": (F.pow, torch.pow)}  # second order at a base of 0 was finite: torch's is nan (0 * log 0)


@AT_EDGES
@pytest.mark.parametrize("name", BINARY)
def test_every_pair_of_edge_values_against_torch(name):
    values = np.array(EDGE_VALUES)
    compare(*BINARY[name], [np.repeat(values, len(values)), np.tile(values, len(values))])


@AT_EDGES
@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_broadcast_edge_arrays_against_torch(name, data):
    a_shape, b_shape = data.draw(broadcastable_shapes(max_dims=2))
    compare(*BINARY[name], [data.draw(edge_arrays(a_shape)), data.draw(edge_arrays(b_shape))])


@AT_EDGES
def test_the_reported_edge_values():
    """The issues' examples, one by one (before: nan, nan, nan, inf and -inf, nan, 0.8)."""
    x = sg.tensor([-np.inf, np.inf, np.nan], dtype=sg.float64)
    assert F.relu(x)[0].item() == 0
    assert F.softplus(x[:2], beta=3, threshold=0.2).tolist() == [0, np.inf]
    assert F.clamp(x[:1], min=-100.0).item() == -100
    assert np.isnan(F.maximum(x[2:], x[1:2]).item()) and np.isnan(F.minimum(x[1:2], x[2:]).item())
    t = sg.tensor([0.0, np.inf], dtype=sg.float64, requires_grad=True)
    (slope,) = sg.grad([F.elu(t, 0.8).sum()], [t], create_graph=True)
    assert slope.tolist() == [0.8, 1.0]  # elu'(inf) was nan
    assert sg.grad([slope[0]], [t])[0].tolist() == [0, 0]  # elu''(0) was 0.8: torch takes the right side


def test_softplus_with_a_raised_threshold_stays_finite_where_torchs_overflows():
    """A deliberate difference (softplus's docstring): past beta x ~ 709, torch's
    log1p(exp(beta x)) is inf and its gradient exp / (exp + 1) nan; scratchgen's are x and 1."""
    x = np.array([800.0, -800.0])
    ours, theirs = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.softplus(ours, 1.0, 1000.0).sum().backward()
    TF.softplus(theirs, 1.0, 1000.0).sum().backward()
    np.testing.assert_array_equal(F.softplus(sg.tensor(x), 1.0, 1000.0).numpy(), [800.0, 0.0])
    np.testing.assert_array_equal(ours.grad.numpy(), [1.0, 0.0])
    assert torch.isinf(TF.softplus(torch.tensor(x), 1.0, 1000.0)[0]) and torch.isnan(theirs.grad[0])
