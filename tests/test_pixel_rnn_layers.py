"""nn.RowLSTM, nn.DiagonalLSTM and nn.DiagonalBiLSTM (PixelRNN, van den Oord et al. 2016, Sec. 3.1
and 3.2), checked by the Jacobian, not by reading masks: behind a first mask-A convolution and
before a 1x1 output, output pixel (i, j) depends on no input pixel at or after (i, j) in raster
order, and on the earlier pixels the paper says it sees (the Row LSTM's triangle, one Diagonal
LSTM's upper-left rectangle, the Diagonal BiLSTM's whole context). Gradients pass finite
differences to the second order, and the forward equals a PyTorch implementation of the paper's
equations with the same weights (torch conv2d, conv1d and the LSTM cell's pointwise part)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import scratchgen as sg
from scratchgen import nn
from strategies import arrays
from test_masked_conv import depends_on, raster_before

HEIGHT, WIDTH = 5, 6


def network(layer, first_kernel=3):
    """mask-A conv 1 -> 2 channels, the layer 2 -> 2, tanh, 1x1 conv -> 1 (float64)."""
    return nn.Sequential(nn.MaskedConv2d(1, 2, first_kernel, padding=first_kernel // 2, mask_type="A"),
                         layer, nn.Tanh(), nn.Conv2d(2, 1, 1)).double()


def dependencies(layer):
    sg.manual_seed(0)
    return depends_on(network(layer), np.random.default_rng(0).standard_normal((1, 1, HEIGHT, WIDTH)))


def first_layer_field(i, j):
    """The pixels the first layer's 3x3 mask-A kernel shows feature (i, j): the row above, and the left."""
    field = np.zeros((HEIGHT, WIDTH), bool)
    field[max(i - 1, 0), max(j - 1, 0):j + 2] = i > 0
    field[i, max(j - 1, 0):j] = True
    return field


def test_row_lstm_sees_only_earlier_pixels_and_a_triangle_above():
    depends = dependencies(nn.RowLSTM(2, 2))
    assert not np.any(depends & ~raster_before(HEIGHT, WIDTH, strictly=True))
    # the paper's Figure 4: state (i, j) = input-to-state (1x3, mask B) of features (i, j - 1) and (i, j),
    # and state-to-state (kernel 3) of states (i - 1, j - 1 .. j + 1): a triangle widening upwards
    field = np.zeros((HEIGHT, WIDTH, HEIGHT, WIDTH), bool)
    for i, j in np.ndindex(HEIGHT, WIDTH):
        field[i, j] = first_layer_field(i, j) | (j > 0 and first_layer_field(i, j - 1))
        if i > 0:
            field[i, j] |= field[i - 1, max(j - 1, 0):j + 2].any(axis=0)
    np.testing.assert_array_equal(depends, field)
    assert depends[4, 2, 0, 0] and depends[4, 2, 0, 5] and not depends[4, 5, 4, 1]  # a triangle; 2 pixels left


def test_one_diagonal_lstm_sees_the_pixels_above_and_to_the_left():
    depends = dependencies(nn.DiagonalLSTM(2, 2))
    assert not np.any(depends & ~raster_before(HEIGHT, WIDTH, strictly=True))
    # state (i, j) = input-to-state (1x1) of feature (i, j) and state-to-state of states (i, j - 1), (i - 1, j)
    field = np.zeros((HEIGHT, WIDTH, HEIGHT, WIDTH), bool)
    for i, j in np.ndindex(HEIGHT, WIDTH):
        field[i, j] = first_layer_field(i, j) | (j > 0 and field[i, j - 1]) | (i > 0 and field[i - 1, j])
    np.testing.assert_array_equal(depends, field)
    rows, cols = np.indices((HEIGHT, WIDTH))  # the rectangle above-left, one column wider from the 3x3 kernel
    assert np.array_equal(depends[4, 2], ((rows < 4) & (cols <= 3)) | ((rows == 4) & (cols < 2)))


def test_the_diagonal_bilstm_sees_every_earlier_pixel_but_the_end_of_the_row_above():
    """The two directions together, the right-to-left one shifted down a row: the whole context
    (Sec. 3.2), except the previous row's last pixel, which only the features of the next rows show
    (no feature of its own row sees it, and the left-to-right direction reaches it from row i only
    at the last columns): deeper stacks close that gap."""
    depends = dependencies(nn.DiagonalBiLSTM(2, 2))
    expected = raster_before(HEIGHT, WIDTH, strictly=True)
    for i, j in np.ndindex(HEIGHT, WIDTH):
        if i > 0 and j < WIDTH - 2:
            expected[i, j, i - 1, WIDTH - 1] = False
    np.testing.assert_array_equal(depends, expected)


def test_without_the_shift_the_bilstm_would_see_the_pixel_itself():
    """The check has teeth: the right-to-left direction unshifted reads pixel (i, j) at (i, j)."""
    layer = nn.DiagonalBiLSTM(2, 2)
    unshifted = lambda x: layer.forward_direction(x) + layer.backward_direction(x.flip(3)).flip(3)  # noqa: E731
    layer.forward = unshifted
    sg.manual_seed(0)
    depends = depends_on(nn.Sequential(nn.MaskedConv2d(1, 2, 3, padding=1, mask_type="B"), layer).double(),
                         np.random.default_rng(0).standard_normal((1, 1, 3, 4)))
    assert depends[1, 1, 1, 2]  # (1, 1) sees (1, 2), after it


@st.composite
def layer_cases(draw):
    """(float64 layer with drawn parameters, input array) on tiny maps."""
    kind = draw(st.sampled_from(["row", "row-A", "diagonal", "bi"]))
    c, h = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    layer = {"row": lambda: nn.RowLSTM(c, h), "row-A": lambda: nn.RowLSTM(c, h, mask_type="A"),
             "diagonal": lambda: nn.DiagonalLSTM(c, h), "bi": lambda: nn.DiagonalBiLSTM(c, h)}[kind]().double()
    with sg.no_grad():
        for p in layer.parameters():
            p.copy_(sg.tensor(draw(arrays(tuple(p.shape), -1.0, 1.0))))
    shape = (draw(st.integers(1, 2)), c, draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    return layer, draw(arrays(shape))


@settings(max_examples=6, deadline=None)
@given(case=layer_cases())
def test_layers_pass_gradcheck_and_gradgradcheck(case):
    layer, x = case
    params = list(layer.parameters())
    inputs = (sg.tensor(x, requires_grad=True), *params)
    sg.gradcheck(lambda x, *p: layer(x).tanh(), inputs)
    sg.gradgradcheck(lambda x, *p: layer(x).tanh(), inputs)


# ---- PyTorch, the paper's equations with torch's convolutions -----------------------------------

def torch_lstm_pointwise(gates, c):
    """Sec. 3.1, Eq. 3 in torch's gate order (i, f, g, o), gates along dim 1."""
    i, f, g, o = gates.chunk(4, 1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def torch_row_lstm(layer, x):
    weight = torch.tensor(layer.input_to_state.weight.detach().numpy() * layer.input_to_state.mask.numpy())
    gates_in = torch.nn.functional.conv2d(x, weight, torch.tensor(layer.input_to_state.bias.detach().numpy()),
                                          padding=(0, layer.kernel_size // 2))
    k_ss = torch.tensor(layer.state_to_state.weight.detach().numpy())
    h = c = torch.zeros(x.shape[0], layer.hidden, x.shape[3], dtype=x.dtype)
    rows = []
    for i in range(x.shape[2]):
        h, c = torch_lstm_pointwise(gates_in[:, :, i] + torch.nn.functional.conv1d(h, k_ss, padding=1), c)
        rows.append(h)
    return torch.stack(rows, 2)


def torch_skew(x):
    n, c, height, width = x.shape
    return torch.stack([torch.nn.functional.pad(x[:, :, i], (i, height - 1 - i)) for i in range(height)], 2)


def torch_diagonal_lstm(layer, x):
    height, width = x.shape[2:]
    skewed = torch_skew(x)
    gates_in = torch.nn.functional.conv2d(skewed, torch.tensor(layer.input_to_state.weight.detach().numpy()),
                                          torch.tensor(layer.input_to_state.bias.detach().numpy()))
    k_ss = torch.tensor(layer.state_to_state.weight.detach().numpy())
    h = c = torch.zeros(x.shape[0], layer.hidden, height, dtype=x.dtype)
    columns = []
    for j in range(skewed.shape[3]):  # the 2x1 column convolution: row i reads rows i - 1 and i
        h, c = torch_lstm_pointwise(gates_in[..., j] + torch.nn.functional.conv1d(
            torch.nn.functional.pad(h, (1, 0)), k_ss), c)
        columns.append(h)
    out = torch.stack(columns, 3)
    return torch.stack([out[:, :, i, i:i + width] for i in range(height)], 2)


def torch_diagonal_bilstm(layer, x):
    right = torch_diagonal_lstm(layer.backward_direction, x.flip(3)).flip(3)
    return torch_diagonal_lstm(layer.forward_direction, x) + torch.nn.functional.pad(right, (0, 0, 1, 0))[:, :, :-1]


@pytest.mark.parametrize("kind", ["row", "row-A", "bi"])
def test_forward_matches_torch_with_the_same_weights(kind):
    sg.manual_seed(1)
    layer = {"row": lambda: nn.RowLSTM(3, 4), "row-A": lambda: nn.RowLSTM(3, 4, mask_type="A"),
             "bi": lambda: nn.DiagonalBiLSTM(3, 4)}[kind]().double()
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 4))
    reference = torch_row_lstm if kind.startswith("row") else torch_diagonal_bilstm
    assert_allclose(layer(sg.tensor(x)).detach().numpy(), reference(layer, torch.tensor(x)).numpy(),
                    rtol=1e-12, atol=1e-13)


def test_parameters_and_reprs():
    layer = nn.RowLSTM(3, 4, mask_type="A")
    assert {name: tuple(p.shape) for name, p in layer.named_parameters()} == {
        "input_to_state.weight": (16, 3, 1, 3), "input_to_state.bias": (16,), "state_to_state.weight": (16, 4, 3)}
    assert repr(layer).startswith("RowLSTM(\n  3, 4, kernel_size=3, mask_type='A'\n")
    bi = nn.DiagonalBiLSTM(3, 4)
    assert sorted(name for name, _ in bi.named_parameters()) == sorted(
        f"{d}.{p}" for d in ("forward_direction", "backward_direction")
        for p in ("input_to_state.weight", "input_to_state.bias", "state_to_state.weight"))
    assert tuple(bi.forward_direction.state_to_state.weight.shape) == (16, 4, 2)


@pytest.mark.parametrize("make, args, message", [
    (nn.RowLSTM, (2, 0), "RowLSTM: hidden must be positive, got 0"),
    (nn.RowLSTM, (2, 2, 4), "RowLSTM: kernel_size must be odd"),
    (nn.RowLSTM, (2, 2, 3, "C"), "RowLSTM: mask_type must be 'A' or 'B', got 'C'"),
    (nn.DiagonalLSTM, (0, 2), "DiagonalLSTM: in_channels must be positive, got 0"),
])
def test_bad_arguments_fail_clearly(make, args, message):
    with pytest.raises(ValueError, match=message):
        make(*args)


@pytest.mark.parametrize("make", [nn.RowLSTM, nn.DiagonalLSTM, nn.DiagonalBiLSTM])
def test_bad_inputs_fail_clearly(make):
    layer = make(2, 3)
    name = make.__name__
    with pytest.raises(ValueError, match=rf"{name}: input must be a map \(N, 2, H, W\) .* got shape \(1, 3, 4, 4\)"):
        layer(sg.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match=rf"{name}: input must be a map .* got shape \(2, 4, 4\)"):
        layer(sg.zeros(2, 4, 4))
    with pytest.raises(TypeError, match=f"{name}: argument 'input' must be a floating point tensor"):
        layer(sg.zeros(1, 2, 3, 3, dtype=sg.int64))
