"""nn.LSTMCell, nn.LSTM and their fused pointwise op F.lstm_cell_pointwise (issue 17): the op
by finite differences (first and second order) and against PyTorch's composition, at the
edges (inf, nan, ties) to the second derivative; the layers against torch.nn with one state
dict loaded both ways, in float64; and the op and a layer on the CUDA backend (emulated)."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import scratchgen as sg
import scratchgen.functional as F
from scratchgen import nn
from differential import compare, edge_arrays, without_overflow
from oracle import check
from strategies import arrays, shapes
from test_cuda_end_to_end import assert_match_the_cpu, device, random  # noqa: F401 (device: the CUDA fixture)


def torch_pointwise(gates, c):
    """torch.nn.LSTMCell's pointwise part on the CPU (aten's LSTMCell, as a composition)."""
    i, f, g, o = gates.chunk(4, -1)
    c_new = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c_new.tanh(), c_new


def ours_pointwise(gates, c):
    return F.lstm_cell_pointwise(gates, c)


@st.composite
def pointwise_arrays(draw, elements=None):
    lead = draw(shapes(max_dims=2, max_elements=4))
    hidden = draw(st.integers(1, 3))
    make = elements or (lambda shape: arrays(shape, -3.0, 3.0))
    return draw(make(lead + (4 * hidden,))), draw(make(lead + (hidden,)))


# ---- the fused op ----------------------------------------------------------------------------

@given(data=st.data())
def test_pointwise_gradcheck_and_torch(data):
    gates, c = data.draw(pointwise_arrays())
    check(ours_pointwise, torch_pointwise, [gates, c])


@given(data=st.data())
def test_pointwise_edges_against_torch(data):
    gates, c = data.draw(pointwise_arrays(lambda shape: edge_arrays(shape, empty=False, broadcast=False)))
    compare(ours_pointwise, torch_pointwise, [gates, without_overflow(c)])


def test_pointwise_empty_and_gradient_of_one_output():
    gates, c = sg.zeros(0, 8, dtype=sg.float64, requires_grad=True), sg.zeros(0, 2, dtype=sg.float64)
    h, c_new = F.lstm_cell_pointwise(gates, c)
    assert h.shape == c_new.shape == (0, 2)
    gates = sg.tensor(np.linspace(-2, 2, 8).reshape(1, 8), requires_grad=True)
    c = sg.tensor([[0.5, -1.0]], dtype=sg.float64, requires_grad=True)
    h, _ = F.lstm_cell_pointwise(gates, c)
    sg.gradgradcheck(lambda g, c: F.lstm_cell_pointwise(g, c)[0], (gates, c))
    h.sum().backward()
    tg = torch.tensor(gates.detach().numpy(), requires_grad=True)
    tc = torch.tensor(c.detach().numpy(), requires_grad=True)
    torch_pointwise(tg, tc)[0].sum().backward()
    assert_allclose(gates.grad.numpy(), tg.grad.numpy(), rtol=1e-12)
    assert_allclose(c.grad.numpy(), tc.grad.numpy(), rtol=1e-12)


def test_pointwise_is_one_recorded_function():
    gates = sg.randn(2, 8, requires_grad=True)
    h, c = F.lstm_cell_pointwise(gates, sg.randn(2, 2))
    assert h.grad_fn.next[0].name == "LSTMCellPointwise"
    assert c.grad_fn.next[0] is h.grad_fn.next[0]


@pytest.mark.parametrize("gates_shape, c_shape", [((2, 7), (2, 2)), ((2, 8), (3, 2)), ((8,), ()), ((2, 8), (2, 3))])
def test_pointwise_refuses_mismatched_shapes(gates_shape, c_shape):
    with pytest.raises(ValueError, match="lstm_cell_pointwise: gates must have shape"):
        F.lstm_cell_pointwise(sg.zeros(*gates_shape), sg.zeros(*c_shape))


def test_pointwise_on_the_cuda_backend(device):  # noqa: F811 (device: the fixture)
    def fn(gates, c):
        h, c_new = F.lstm_cell_pointwise(gates, c)
        return h * 2 + c_new
    assert_match_the_cpu(device, fn, [random(3, 8, seed=1), random(3, 2, seed=2)])


def test_lstm_layer_on_the_cuda_backend(device):  # noqa: F811 (device: the fixture)
    sg.manual_seed(0)
    lstm = nn.LSTM(3, 2, bidirectional=True)
    names = [name for name, _ in lstm.named_parameters()]
    weights = [p.detach().numpy() for p in lstm.parameters()]

    def fn(x, *params):
        out, (h, c) = nn.functional_call(lstm, dict(zip(names, params)), (x,))
        return out.sum(0)[:, :2] * out.sum(0)[:, 2:] + h.sum(0) + c.sum(0)
    assert_match_the_cpu(device, fn, [random(4, 2, 3, seed=3)] + weights)


# ---- nn.LSTMCell and nn.LSTM against torch.nn ----------------------------------------------------

def to_torch(module, torch_module):
    torch_module.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in module.state_dict().items()})
    return torch_module


def from_torch(torch_module, module):
    module.load_state_dict({k: sg.tensor(v.detach().numpy()) for k, v in torch_module.state_dict().items()})
    return module


def assert_close(mine, theirs):
    assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_cell_names_shapes_and_initialisation():
    sg.manual_seed(0)
    cell = nn.LSTMCell(5, 16)
    theirs = torch.nn.LSTMCell(5, 16)
    assert [(k, tuple(v.shape)) for k, v in cell.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    bound = 1 / math.sqrt(16)
    for p in cell.parameters():
        values = p.detach().numpy()
        assert values.min() >= -bound and values.max() <= bound and values.std() > bound / 3
    assert [k for k, _ in nn.LSTMCell(2, 3, bias=False).named_parameters()] == ["weight_ih", "weight_hh"]


def test_lstm_names_and_shapes_match_torch():
    for options in ({}, {"num_layers": 3}, {"num_layers": 2, "bidirectional": True}, {"bias": False}):
        mine = nn.LSTM(3, 4, **options)
        theirs = torch.nn.LSTM(3, 4, **options)
        assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
        bound = 1 / 2
        assert all(np.abs(p.detach().numpy()).max() <= bound for p in mine.parameters())


@given(batched=st.booleans(), bias=st.booleans(), given_state=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_cell_matches_torch(batched, bias, given_state, seed):
    sg.manual_seed(seed)
    rng = np.random.default_rng(seed)
    cell = nn.LSTMCell(3, 2, bias=bias, dtype=sg.float64)
    theirs = to_torch(cell, torch.nn.LSTMCell(3, 2, bias=bias).double())
    lead = (4,) if batched else ()
    x = rng.standard_normal(lead + (3,))
    hx = [rng.standard_normal(lead + (2,)) for _ in range(2)] if given_state else None
    mine_in = [sg.tensor(x, requires_grad=True)] + ([sg.tensor(a, requires_grad=True) for a in hx] if hx else [])
    theirs_in = [torch.tensor(x, requires_grad=True)] + ([torch.tensor(a, requires_grad=True) for a in hx] if hx else [])
    h, c = cell(mine_in[0], tuple(mine_in[1:]) or None)
    th, tc = theirs(theirs_in[0], tuple(theirs_in[1:]) or None)
    assert_close(h, th)
    assert_close(c, tc)
    ((h * 2).sum() + (c * c).sum()).backward()
    ((th * 2).sum() + (tc * tc).sum()).backward()
    for m, t in zip(list(cell.parameters()) + mine_in, list(theirs.parameters()) + theirs_in):
        assert_close(m.grad, t.grad)


@given(num_layers=st.integers(1, 2), bidirectional=st.booleans(), batch_first=st.booleans(),
       batched=st.booleans(), given_state=st.booleans(), bias=st.booleans(), steps=st.integers(1, 3),
       seed=st.integers(0, 2 ** 16))
def test_lstm_matches_torch(num_layers, bidirectional, batch_first, batched, given_state, bias, steps, seed):
    sg.manual_seed(seed)
    rng = np.random.default_rng(seed)
    options = {"num_layers": num_layers, "bidirectional": bidirectional, "batch_first": batch_first, "bias": bias}
    lstm = nn.LSTM(3, 2, dtype=sg.float64, **options)
    theirs = to_torch(lstm, torch.nn.LSTM(3, 2, **options).double())
    directions = 2 if bidirectional else 1
    x = rng.standard_normal(((2, steps) if batch_first else (steps, 2)) + (3,) if batched else (steps, 3))
    state_shape = (directions * num_layers,) + ((2,) if batched else ()) + (2,)
    hx = [rng.standard_normal(state_shape) for _ in range(2)] if given_state else None
    mine_in = [sg.tensor(x, requires_grad=True)] + ([sg.tensor(a, requires_grad=True) for a in hx] if hx else [])
    theirs_in = [torch.tensor(x, requires_grad=True)] + ([torch.tensor(a, requires_grad=True) for a in hx] if hx else [])
    out, (h, c) = lstm(mine_in[0], tuple(mine_in[1:]) or None)
    tout, (th, tc) = theirs(theirs_in[0], tuple(theirs_in[1:]) or None)
    for mine, their in ((out, tout), (h, th), (c, tc)):
        assert mine.shape == tuple(their.shape)
        assert_close(mine, their)
    u = rng.standard_normal(out.shape)
    ((out * sg.tensor(u)).sum() + (h * c).sum()).backward()
    ((tout * torch.tensor(u)).sum() + (th * tc).sum()).backward()
    for m, t in zip(list(lstm.parameters()) + mine_in, list(theirs.parameters()) + theirs_in):
        assert_close(m.grad, t.grad)


def test_torch_state_dict_loads_into_scratchgen():
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    mine = from_torch(theirs, nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=sg.float64))
    x = np.random.default_rng(1).standard_normal((2, 5, 3))
    out, (h, c) = mine(sg.tensor(x))
    tout, (th, tc) = theirs(torch.tensor(x))
    for m, t in ((out, tout), (h, th), (c, tc)):
        assert_close(m, t)
    assert out.shape == (2, 5, 8) and h.shape == c.shape == (4, 2, 4)


def test_saved_state_dict_loads_into_torch(tmp_path):
    sg.manual_seed(0)
    cell = nn.LSTMCell(3, 2, dtype=sg.float64)
    sg.save(cell.state_dict(), tmp_path / "cell.npz")
    theirs = torch.nn.LSTMCell(3, 2).double()
    loaded = sg.load(tmp_path / "cell.npz")
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in loaded.items()})
    x = np.random.default_rng(2).standard_normal((4, 3))
    assert_close(cell(sg.tensor(x))[0], theirs(torch.tensor(x))[0])


def test_gradcheck_and_gradgradcheck_through_the_layers():
    sg.manual_seed(0)
    cell = nn.LSTMCell(2, 2, dtype=sg.float64)
    x = sg.tensor(np.random.default_rng(0).standard_normal((2, 2)), requires_grad=True)
    params = tuple(cell.parameters())
    sg.gradcheck(lambda x, *p: cell(x)[0], (x,) + params)
    sg.gradgradcheck(lambda x, *p: cell(x)[1], (x,) + params)
    lstm = nn.LSTM(2, 2, bidirectional=True, dtype=sg.float64)
    x = sg.tensor(np.random.default_rng(1).standard_normal((3, 1, 2)), requires_grad=True)
    sg.gradcheck(lambda x, *p: lstm(x)[0], (x,) + tuple(lstm.parameters()))
    sg.gradgradcheck(lambda x: lstm(x)[1][1], (x,))


def test_dropout_between_layers_only_in_training():
    sg.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5, dtype=sg.float64)
    theirs = to_torch(lstm, torch.nn.LSTM(3, 4, num_layers=2, dropout=0.5).double()).eval()
    x = np.random.default_rng(3).standard_normal((4, 2, 3))
    lstm.eval()
    assert_close(lstm(sg.tensor(x))[0], theirs(torch.tensor(x))[0])
    lstm.train()
    assert not np.allclose(lstm(sg.tensor(x))[0].detach().numpy(), theirs(torch.tensor(x))[0].detach().numpy())


def test_repr_and_refusals():
    assert repr(nn.LSTM(3, 4, num_layers=2, batch_first=True)) == \
        repr(torch.nn.LSTM(3, 4, num_layers=2, batch_first=True))
    assert repr(nn.LSTMCell(3, 4, bias=False)) == repr(torch.nn.LSTMCell(3, 4, bias=False))
    with pytest.raises(ValueError, match="LSTM: proj_size"):
        nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="LSTM: input"):
        nn.LSTM(3, 4)(sg.zeros(0, 2, 3))
    with pytest.raises(ValueError, match="LSTMCell: hx's c_0 must have shape"):
        nn.LSTMCell(3, 4)(sg.zeros(2, 3), (sg.zeros(2, 4), sg.zeros(3, 4)))
