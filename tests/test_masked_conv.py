"""nn.MaskedConv2d (PixelCNN's masks A and B, van den Oord et al. 2016): checked by the Jacobian,
not by reading the mask: output pixel (i, j) does not depend on input pixels at or after (i, j)
in raster order (mask A) or after it (mask B), in every channel, and a stack of one A and several
B layers is autoregressive; it does depend on the pixels its kernel is allowed to see. Gradients
pass finite differences to the second order and match PyTorch's conv2d with the masked weight."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import scratchgen as sg
from scratchgen import nn
from oracle import check_layer_gradients
from strategies import arrays


def raster_before(height, width, strictly):
    """before[i, j, p, q]: input pixel (p, q) comes before output pixel (i, j) in raster order
    (or is it, unless `strictly`)."""
    index = np.arange(height * width).reshape(height, width)
    out, inp = index[:, :, None, None], index[None, None, :, :]
    return inp < out if strictly else inp <= out


def jacobian(network, x):
    """J[o, i, j, c, p, q] = d output[0, o, i, j] / d x[0, c, p, q] (float64), by backward passes."""
    x = sg.tensor(x, requires_grad=True)
    output = network(x)[0]
    rows = [sg.grad(output[index], [x], retain_graph=True)[0].numpy()[0] for index in np.ndindex(*output.shape)]
    return np.stack(rows).reshape(*output.shape, *x.shape[1:])


def depends_on(network, x):
    """dep[i, j, p, q]: some output channel at (i, j) depends on some input channel at (p, q)."""
    return (jacobian(network, x) != 0).any(axis=(0, 3))


@given(mask_type=st.sampled_from("AB"), kernel=st.sampled_from([1, 3, 5]), height=st.integers(1, 5),
       width=st.integers(1, 5), c_in=st.integers(1, 2), c_out=st.integers(1, 2), seed=st.integers(0, 2 ** 16))
def test_a_layer_sees_only_the_pixels_before_the_output_and_for_mask_b_the_pixel_itself(
        mask_type, kernel, height, width, c_in, c_out, seed):
    sg.manual_seed(seed)
    layer = nn.MaskedConv2d(c_in, c_out, kernel, padding=kernel // 2, mask_type=mask_type).double()
    x = np.random.default_rng(seed).standard_normal((1, c_in, height, width))
    depends = depends_on(layer, x)
    assert not np.any(depends & ~raster_before(height, width, strictly=mask_type == "A"))
    # and it does see every allowed pixel its kernel covers (the weights are nonzero almost surely)
    rows, cols = np.indices((height, width))
    for i, j in np.ndindex(height, width):
        near = (np.abs(rows - i) <= kernel // 2) & (np.abs(cols - j) <= kernel // 2)
        np.testing.assert_array_equal(depends[i, j], near & raster_before(height, width, mask_type == "A")[i, j])


def test_a_stack_of_mask_a_then_mask_b_layers_is_autoregressive():
    """The PixelCNN pattern: A first, then B layers with nonlinearities and 1x1 layers; every output
    depends only on pixels strictly before it, and on its left neighbour and the pixel above."""
    sg.manual_seed(0)
    network = nn.Sequential(nn.MaskedConv2d(1, 4, 3, padding=1, mask_type="A"), nn.Tanh(),
                            nn.MaskedConv2d(4, 4, 3, padding=1, mask_type="B"), nn.Tanh(),
                            nn.MaskedConv2d(4, 4, 3, padding=1, mask_type="B"), nn.Tanh(),
                            nn.MaskedConv2d(4, 2, 1, mask_type="B")).double()  # tanh: no unit is ever off
    depends = depends_on(network, np.random.default_rng(0).standard_normal((1, 1, 6, 5)))
    assert not np.any(depends & ~raster_before(6, 5, strictly=True))
    assert all(depends[i, j, i, j - 1] for i in range(6) for j in range(1, 5))
    assert all(depends[i, j, i - 1, j] for i in range(1, 6) for j in range(5))


@st.composite
def masked_conv_cases(draw):
    """(float64 layer with drawn weight and bias, input array)."""
    c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel, bias = draw(st.sampled_from([1, 3])), draw(st.booleans())
    layer = nn.MaskedConv2d(c_in, c_out, kernel, padding=kernel // 2, bias=bias,
                            mask_type=draw(st.sampled_from("AB"))).double()
    with sg.no_grad():
        layer.weight.copy_(sg.tensor(draw(arrays(tuple(layer.weight.shape)))))
        if bias:
            layer.bias.copy_(sg.tensor(draw(arrays((c_out,)))))
    return layer, draw(arrays((draw(st.integers(1, 2)), c_in, draw(st.integers(1, 3)), draw(st.integers(1, 3)))))


@given(case=masked_conv_cases())
def test_masked_conv_passes_gradcheck_and_gradgradcheck(case):
    check_layer_gradients(*case)


@given(case=masked_conv_cases())
def test_masked_conv_matches_torch_conv2d_of_the_masked_weight(case):
    layer, x = case
    mask = torch.tensor(layer.mask.numpy())
    ours_x, theirs_x = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    weight = torch.tensor(layer.weight.detach().numpy(), requires_grad=True)
    bias = None if layer.bias is None else torch.tensor(layer.bias.detach().numpy(), requires_grad=True)
    ours = layer(ours_x)
    theirs = torch.nn.functional.conv2d(theirs_x, weight * mask, bias, padding=layer.padding)
    assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    upstream = np.random.default_rng(0).standard_normal(ours.shape)
    ours.backward(sg.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert_allclose(layer.weight.grad.numpy(), weight.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert np.all(layer.weight.grad.numpy()[mask.numpy() == 0] == 0)  # a masked weight learns nothing
    if bias is not None:
        assert_allclose(layer.bias.grad.numpy(), bias.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_the_mask_is_a_saved_buffer_and_the_layer_prints_its_type():
    layer = nn.MaskedConv2d(1, 2, 3, padding=1, mask_type="B")
    assert list(layer.state_dict()) == ["weight", "bias", "mask"]
    assert repr(layer) == "MaskedConv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), mask_type='B')"
    with pytest.raises(ValueError, match="MaskedConv2d: mask_type must be 'A' or 'B', got 'C'"):
        nn.MaskedConv2d(1, 2, 3, mask_type="C")
    with pytest.raises(ValueError, match=r"MaskedConv2d: kernel_size must be odd .*got \(4, 3\)"):
        nn.MaskedConv2d(1, 2, (4, 3), mask_type="A")
