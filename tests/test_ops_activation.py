"""Activations (ops/activation.py) and their layers (nn/activation.py) against torch: gradcheck,
gradgradcheck and torch's values and gradients on hypothesis-drawn shapes (empty and size-1
dims included); torch's values at the edges (nan, +-inf, +-0, the kinks) to the second order;
the layers' reprs and state dicts."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import scratchgen as sg
import scratchgen.functional as F
from scratchgen import nn
from differential import compare, edge_arrays
from oracle import assert_same_tensor, check
from strategies import arrays, arrays_avoiding, dims, nonzero_arrays, shapes, shapes_with_empty
from test_ops_unary import AT_EDGES

ACTIVATIONS = {  # name: (scratchgen op, torch op, inputs where it is smooth, its own special points)
    "logsigmoid": (F.logsigmoid, TF.logsigmoid, lambda s: arrays(s, -6.0, 6.0), (40.0, -40.0, -800.0)),
    "gelu": (F.gelu, TF.gelu, lambda s: arrays(s, -4.0, 4.0), (40.0, -40.0, 1e155)),
    "gelu (tanh)": (lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"),
                    lambda s: arrays(s, -4.0, 4.0), (40.0, -40.0, 5.0, 1e103)),
    "silu": (F.silu, TF.silu, lambda s: arrays(s, -4.0, 4.0), (40.0, -40.0, -800.0)),
    "softsign": (F.softsign, TF.softsign, nonzero_arrays, ()),
    "elu": (lambda x: F.elu(x, 0.8), lambda x: TF.elu(x, 0.8), nonzero_arrays, (-800.0,)),
    "selu": (F.selu, TF.selu, nonzero_arrays, (-800.0,)),
    "celu": (lambda x: F.celu(x, 0.5), lambda x: TF.celu(x, 0.5), nonzero_arrays, (-800.0,)),  # see test_celu_...
    "celu (alpha < 0)": (lambda x: F.celu(x, -1.5), lambda x: TF.celu(x, -1.5), nonzero_arrays, (-800.0,)),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 1.5), lambda x: TF.hardtanh(x, -0.5, 1.5),
                 lambda s: arrays_avoiding(s, [-0.5, 1.5]), (-0.5, 1.5)),
    "hardtanh (min = max)": (lambda x: F.hardtanh(x, 0.5, 0.5), lambda x: TF.hardtanh(x, 0.5, 0.5),
                             lambda s: arrays_avoiding(s, [0.5]), (0.5,)),
    "relu6": (F.relu6, TF.relu6, lambda s: arrays_avoiding(s, [0.0, 6.0], low=-2.0, high=8.0), (6.0, 5.5)),
}
# torch's gradient at nan depends on where in the tensor the nan is: its vectorised loop gives
# nan (elu family) or 0 (hardtanh), its scalar loop over the last elements 1; scratchgen gives
# the vectorised loop's (test_at_nan_the_gradients_are_torchs_vectorised_loops)
NAN_BY_POSITION = {"elu", "selu", "celu", "celu (alpha < 0)", "hardtanh", "hardtanh (min = max)", "relu6"}


@pytest.mark.parametrize("name", ACTIVATIONS)
@given(data=st.data())
def test_against_torch_with_finite_differences(name, data):
    ours, theirs, inputs, _ = ACTIVATIONS[name]
    check(ours, theirs, [data.draw(inputs(data.draw(shapes_with_empty())))])


@AT_EDGES
@pytest.mark.parametrize("name", ACTIVATIONS)
@given(data=st.data())
def test_edges_against_torch(name, data):
    ours, theirs, _, special_points = ACTIVATIONS[name]
    x = data.draw(edge_arrays(data.draw(shapes(max_dims=3)), extra=special_points))
    if name in NAN_BY_POSITION:
        compare(ours, theirs, [x], orders=(0,))
        x = np.where(np.isnan(x), 0.5, x)
    compare(ours, theirs, [x])


@AT_EDGES
@pytest.mark.parametrize("name", sorted(NAN_BY_POSITION))
def test_at_nan_the_gradients_are_torchs_vectorised_loops(name):
    """32 nans: every one in torch's vectorised loop (16 elements a step for elu, 8 for
    hardtanh); one nan alone goes through its scalar loop, which gives another gradient."""
    ours, theirs, _, _ = ACTIVATIONS[name]
    compare(ours, theirs, [np.full(32, np.nan)])
    alone = torch.tensor([np.nan], dtype=torch.float64, requires_grad=True)
    assert not torch.isnan(torch.autograd.grad(theirs(alone).sum(), alone)[0]).item()  # torch's other answer


def test_celu_gradient_is_exact_where_torchs_rounds_one_over_alpha_to_float32():
    """A deliberate difference (celu's docstring): torch's celu gradient takes 1 / alpha in
    float32 (derivatives.yaml: 1.0/alpha.toFloat()), its value in float64; scratchgen's both in
    float64. They agree where alpha is a float32 number (0.5, -1.5 above)."""
    x = np.array([-1.0, -0.25])
    ours, theirs = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.celu(ours, 0.6).sum().backward()
    TF.celu(theirs, 0.6).sum().backward()
    exact = np.exp(x / 0.6)  # d/dx of 0.6 (e^(x / 0.6) - 1)
    assert_allclose(ours.grad.numpy(), exact, rtol=1e-15)
    assert_allclose(theirs.grad.numpy(), exact, rtol=1e-7)
    assert not np.allclose(theirs.grad.numpy(), exact, rtol=1e-9, atol=0)


# ---- prelu: one slope, or one per channel (dim 1) ---------------------------------------------

@st.composite
def prelu_shapes(draw):
    shape = draw(shapes_with_empty(min_dims=0, max_dims=4))
    channels = shape[1] if len(shape) >= 2 else 1
    weight = draw(st.sampled_from([(channels,), (1,), ()]))
    return shape, weight


@given(data=st.data())
def test_prelu_against_torch_with_finite_differences(data):
    shape, weight_shape = data.draw(prelu_shapes())
    x, w = data.draw(nonzero_arrays(shape)), data.draw(arrays(weight_shape, -1.0, 1.0))
    check(F.prelu, TF.prelu, [x, w])
    check(lambda x, w: x.prelu(w), lambda x, w: x.prelu(w), [x, w])


@AT_EDGES
@given(data=st.data())
def test_prelu_edges_against_torch(data):
    """Second order included: torch's gradients take x > 0 as the positive side, their own
    gradients x >= 0, and so do scratchgen's."""
    shape, weight_shape = data.draw(prelu_shapes())
    compare(F.prelu, TF.prelu, [data.draw(edge_arrays(shape, broadcast=False)),
                                         data.draw(edge_arrays(weight_shape, empty=False, broadcast=False))])


# ---- glu: halves along dim ----------------------------------------------------------------------

@st.composite
def glu_arrays(draw, elements):
    shape = list(draw(shapes_with_empty(min_dims=1, max_elements=12)))
    dim = draw(dims(len(shape)))
    shape[dim] *= 2
    return draw(elements(tuple(shape))), dim


@given(data=st.data())
def test_glu_against_torch_with_finite_differences(data):
    x, dim = data.draw(glu_arrays(arrays))
    check(lambda x: F.glu(x, dim), lambda x: TF.glu(x, dim), [x])


@AT_EDGES
@given(data=st.data())
def test_glu_edges_against_torch(data):
    """a = +-inf with a finite b included: torch's second order in b is +-inf there (its
    closed form), where autograd through a * sigmoid(b) would give inf - inf."""
    x, dim = data.draw(glu_arrays(lambda shape: edge_arrays(shape, broadcast=False)))
    compare(lambda x: F.glu(x, dim), lambda x: TF.glu(x, dim), [x])


# ---- layers ---------------------------------------------------------------------------------------

LAYERS = {  # name: the layer, from a library's nn namespace; all take inputs of shape (2, 4, 3)
    "LogSigmoid": lambda nn: nn.LogSigmoid(), "GELU": lambda nn: nn.GELU(), "GELU (tanh)": lambda nn: nn.GELU("tanh"),
    "SiLU": lambda nn: nn.SiLU(), "SELU": lambda nn: nn.SELU(), "CELU": lambda nn: nn.CELU(0.5),
    "Softsign": lambda nn: nn.Softsign(), "Hardtanh": lambda nn: nn.Hardtanh(-2, 0.5),
    "ReLU6": lambda nn: nn.ReLU6(), "PReLU": lambda nn: nn.PReLU(), "PReLU (per channel)": lambda nn: nn.PReLU(4, 0.1),
    "GLU": lambda nn: nn.GLU(), "GLU (dim 1)": lambda nn: nn.GLU(1),
}


@pytest.mark.parametrize("name", LAYERS)
@given(data=st.data())
def test_layers_equal_torchs(name, data):
    x = data.draw(arrays((2, 4, 6)))
    mine, theirs = LAYERS[name](nn).double(), LAYERS[name](torch.nn).double()
    assert repr(mine) == repr(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine.load_state_dict({key: sg.tensor(value.numpy()) for key, value in theirs.state_dict().items()})
    x_mine, x_theirs = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_mine, y_theirs = mine(x_mine), theirs(x_theirs)
    assert_same_tensor(y_mine, y_theirs)
    upstream = np.random.default_rng(0).standard_normal(y_theirs.shape)
    y_mine.backward(sg.tensor(upstream))
    y_theirs.backward(torch.tensor(upstream))
    assert_allclose(x_mine.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (key, p_mine), (_, p_theirs) in zip(mine.named_parameters(), theirs.named_parameters()):
        assert_allclose(p_mine.grad.numpy(), p_theirs.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("name", ["SiLU", "SELU", "CELU", "Hardtanh", "ReLU6"])
def test_inplace_is_shown_as_torch_shows_it(name):
    """inplace is accepted and shown; scratchgen computes out of place (the same output)."""
    assert repr(getattr(nn, name)(inplace=True)) == repr(getattr(torch.nn, name)(inplace=True))


def test_prelu_parameter_is_torchs():
    mine, theirs = nn.PReLU(3), torch.nn.PReLU(3)
    assert [name for name, _ in mine.named_parameters()] == ["weight"]
    assert mine.weight.dtype == sg.float32 and mine.weight.tolist() == theirs.weight.tolist() == [0.25] * 3
    assert nn.PReLU(2, init=0.1, dtype=sg.float64).weight.dtype == sg.float64
