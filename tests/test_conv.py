"""Convolutions, transposed convolutions, unfold and fold: gradcheck, gradgradcheck and
PyTorch's values and gradients for drawn shapes, strides, paddings, dilations, groups and
output paddings; the errors for invalid ones; float32 at the DCGAN's shapes."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import scratchgen as sg
from differential import compare, edge_arrays, without_overflow
from oracle import check
from scratchgen.ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, unfold
from strategies import arrays

EXAMPLES = settings(max_examples=15, deadline=None)


@st.composite
def windows(draw, dims, transposed=False):
    """Kernel, stride, dilation (and output_padding) per axis, and an input size per axis
    that the (dilated) kernel fits into."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(dims))
    if transposed:
        extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        size = tuple(draw(st.integers(1, 3)) for _ in range(dims))
        # padding that leaves a positive output size, (size - 1) * s - 2 p + d (k - 1) + 1
        padding = tuple(draw(st.integers(0, min(2, ((n - 1) * s + d * (k - 1)) // 2)))
                        for n, k, s, d in zip(size, kernel, stride, dilation))
        return dict(stride=stride, padding=padding, output_padding=extra, dilation=dilation), kernel, size
    if draw(st.booleans()):
        padding = draw(st.sampled_from(["valid"] + (["same"] if set(stride) == {1} else [])))
    pads = (0,) * dims if padding == "valid" else (padding if padding != "same" else (0,) * dims)
    smallest = [max(2, d * (k - 1) + 1 - 2 * p) for k, d, p in zip(kernel, dilation, pads)]
    size = tuple(draw(st.integers(n, n + 2)) for n in smallest)
    return dict(stride=stride, padding=padding, dilation=dilation), kernel, size


@st.composite
def channels(draw):
    groups = draw(st.integers(1, 2))
    return groups, groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))


def _conv_case(data, dims, transposed):
    (options, kernel, size), (groups, c_in, c_out) = data.draw(windows(dims, transposed)), data.draw(channels())
    batch = data.draw(st.integers(1, 2))
    weight_shape = ((c_in, c_out // groups) if transposed else (c_out, c_in // groups)) + kernel
    arrays_ = [data.draw(arrays((batch, c_in) + size)), data.draw(arrays(weight_shape))]
    if data.draw(st.booleans()):
        arrays_.append(data.draw(arrays((c_out,))))
    return dict(options, groups=groups), arrays_


@pytest.mark.parametrize("ours, theirs, dims", [(conv1d, TF.conv1d, 1), (conv2d, TF.conv2d, 2)])
@EXAMPLES
@given(data=st.data())
def test_conv(ours, theirs, dims, data):
    options, inputs = _conv_case(data, dims, transposed=False)
    check(lambda *t: ours(*t, **options), lambda *t: theirs(*t, **options), inputs)


@pytest.mark.parametrize("ours, theirs, dims", [(conv_transpose1d, TF.conv_transpose1d, 1),
                                                (conv_transpose2d, TF.conv_transpose2d, 2)])
@EXAMPLES
@given(data=st.data())
def test_conv_transpose(ours, theirs, dims, data):
    options, inputs = _conv_case(data, dims, transposed=True)
    check(lambda *t: ours(*t, **options), lambda *t: theirs(*t, **options), inputs)


@EXAMPLES
@given(data=st.data())
def test_unfold_and_fold(data):
    (options, kernel, size), batch, c = data.draw(windows(2)), data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    options["padding"] = options["padding"] if isinstance(options["padding"], tuple) else 0
    x = data.draw(arrays((batch, c) + size))
    check(lambda t: unfold(t, kernel, **options), lambda t: TF.unfold(t, kernel, **options), [x])
    blocks = TF.unfold(torch.tensor(x), kernel, **options).shape
    columns = data.draw(arrays(tuple(blocks)))
    check(lambda t: fold(t, size, kernel, **options), lambda t: TF.fold(t, size, kernel, **options), [columns])


def test_unbatched_inputs_as_torch():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 5, 5)), rng.standard_normal((4, 3, 3, 3))
    check(lambda x, w: conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1), [x, w], gradcheck=False)
    check(lambda x, w: conv_transpose1d(x, w, stride=2), lambda x, w: TF.conv_transpose1d(x, w, stride=2),
          [x[:, 0], w[:3, :, 0]], gradcheck=False)
    check(lambda x: unfold(x, 2), lambda x: TF.unfold(x, 2), [x], gradcheck=False)


@pytest.mark.parametrize("ours, theirs, x_shape, w_shape", [
    (conv2d, TF.conv2d, (64, 1, 28, 28), (64, 1, 4, 4)),
    (conv2d, TF.conv2d, (64, 64, 14, 14), (128, 64, 4, 4)),
    (conv_transpose2d, TF.conv_transpose2d, (64, 128, 7, 7), (128, 64, 4, 4)),
    (conv_transpose2d, TF.conv_transpose2d, (64, 64, 14, 14), (64, 1, 4, 4)),
])
def test_float32_at_dcgan_shapes(ours, theirs, x_shape, w_shape):
    rng = np.random.default_rng(0)
    x, w = (rng.standard_normal(s).astype(np.float32) for s in (x_shape, w_shape))
    check(lambda x, w: ours(x, w, stride=2, padding=1), lambda x, w: theirs(x, w, stride=2, padding=1),
          [x, w], gradcheck=False, rtol=1e-4, atol=2e-3)  # weight gradients sum 12544 float32 terms


def test_chained_layers_keep_values_through_the_batch_last_layout():
    """conv -> conv_transpose -> conv, each reading the previous output's memory order."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 6, 6))
    w1, w2, w3 = rng.standard_normal((4, 2, 3, 3)), rng.standard_normal((4, 3, 4, 4)), rng.standard_normal((1, 3, 2, 2))

    def net(conv, conv_t, x, w1, w2, w3):
        return conv(conv_t(conv(x, w1, stride=2, padding=1), w2, stride=2, padding=1), w3, dilation=2)
    check(lambda *t: net(conv2d, conv_transpose2d, *t), lambda *t: net(TF.conv2d, TF.conv_transpose2d, *t),
          [x, w1, w2, w3], gradcheck=False)


def test_double_backward_of_a_gradient_penalty_matches_torch():
    """WGAN-GP (Gulrajani et al. 2017, eq. 3): d/dw of ||d critic / dx||^2."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 1, 6, 6)), rng.standard_normal((3, 1, 4, 4))
    v = rng.standard_normal((1, 3, 3, 3))

    def penalty_gradient(conv, grad, tensor):
        x_, w_, v_ = (tensor(a, requires_grad=True) for a in (x, w, v))
        critic = (conv(x_, w_, stride=2, padding=1).tanh() * v_).sum()
        (gx,) = grad(critic, [x_], create_graph=True)
        (gw,) = grad((gx * gx).sum(), [w_])
        return gw.detach().numpy()
    assert_allclose(penalty_gradient(conv2d, sg.grad, sg.tensor),
                    penalty_gradient(TF.conv2d, torch.autograd.grad, torch.tensor), rtol=1e-10, atol=1e-12)


def _raises(message, fn, *args, **kwargs):
    with pytest.raises((ValueError, TypeError), match=message):
        fn(*args, **kwargs)


def test_errors_name_the_argument():
    x, w = sg.zeros(2, 3, 5, 5), sg.zeros(8, 4, 3, 3)
    _raises(r"^conv2d: input has 3 channels but weight expects 4 \(weight shape \(8, 4, 3, 3\)\)$", conv2d, x, w)
    _raises(r"conv2d: input has 3 channels but weight expects 8 \(weight shape \(8, 4, 3, 3\), groups=2\)",
            conv2d, x, w, groups=2)
    _raises(r"conv2d: out_channels \(weight.shape\[0\] = 8\) must be divisible by groups \(3\)",
            conv2d, x, sg.zeros(8, 1, 3, 3), groups=3)
    _raises(r"conv2d: kernel size \(7, 7\) \(dilation \(1, 1\)\) is larger than the padded input",
            conv2d, x, sg.zeros(1, 3, 7, 7))
    _raises(r"conv2d: kernel size \(3, 3\) \(dilation \(3, 3\)\) is larger", conv2d, x, sg.zeros(1, 3, 3, 3), dilation=3)
    _raises(r"conv2d: padding='same' is not supported for strided convolutions", conv2d, x,
            sg.zeros(1, 3, 3, 3), stride=2, padding="same")
    _raises(r"conv2d: padding must be 'valid', 'same', an int or a tuple of 2 ints, got 'full'",
            conv2d, x, sg.zeros(1, 3, 3, 3), padding="full")
    _raises(r"conv2d: stride must be positive, got 0", conv2d, x, sg.zeros(1, 3, 3, 3), stride=0)
    _raises(r"conv2d: stride must be an int or a tuple of 2 ints, got \(1, 1, 1\)", conv2d, x,
            sg.zeros(1, 3, 3, 3), stride=(1, 1, 1))
    _raises(r"conv2d: weight must be 4-D, got shape \(1, 3, 3\)", conv2d, x, sg.zeros(1, 3, 3))
    _raises(r"conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, got shape \(5, 5\)",
            conv2d, sg.zeros(5, 5), w)
    _raises(r"conv2d: bias has shape \(2,\), expected \(1,\)", conv2d, x, sg.zeros(1, 3, 3, 3), sg.zeros(2))
    _raises(r"conv2d: input dtype float64 does not match weight dtype float32", conv2d,
            sg.zeros(1, 3, 5, 5, dtype=sg.float64), sg.zeros(1, 3, 3, 3))
    _raises(r"conv1d: input has 2 channels but weight expects 3", conv1d, sg.zeros(1, 2, 5), sg.zeros(1, 3, 2))


def test_transposed_errors_name_the_argument():
    x = sg.zeros(1, 4, 3, 3)
    _raises(r"conv_transpose2d: output_padding \(2, 0\) must be smaller than either stride \(2, 2\) "
            r"or dilation \(1, 1\)", conv_transpose2d, x, sg.zeros(4, 2, 3, 3), stride=2, output_padding=(2, 0))
    _raises(r"conv_transpose2d: input has 4 channels but weight expects 3", conv_transpose2d, x, sg.zeros(3, 2, 3, 3))
    _raises(r"conv_transpose2d: in_channels \(weight.shape\[0\] = 4\) must be divisible by groups \(3\)",
            conv_transpose2d, x, sg.zeros(4, 1, 3, 3), groups=3)
    _raises(r"conv_transpose2d: output size \(-1, -1\) is not positive", conv_transpose2d, x,
            sg.zeros(4, 2, 1, 1), padding=2)
    _raises(r"conv_transpose2d: padding must be an int or a tuple of 2 ints, got 'same'", conv_transpose2d,
            x, sg.zeros(4, 2, 3, 3), padding="same")


def test_fold_errors_name_the_argument():
    _raises(r"fold: input.shape\[1\] = 5 must be divisible by the kernel size 2 \* 2", fold,
            sg.zeros(1, 5, 9), (4, 4), 2)
    _raises(r"fold: input.shape\[2\] = 8 must be the number of blocks 3 \* 3 = 9", fold,
            sg.zeros(1, 4, 8), (4, 4), 2)


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")  # inf - inf and the like, on purpose
@pytest.mark.parametrize("ours, theirs, dims, transposed", [
    (conv1d, TF.conv1d, 1, False), (conv2d, TF.conv2d, 2, False),
    (conv_transpose1d, TF.conv_transpose1d, 1, True), (conv_transpose2d, TF.conv_transpose2d, 2, True)])
@EXAMPLES
@given(data=st.data())
def test_convolutions_at_the_edges(ours, theirs, dims, transposed, data):
    """inf, nan, +-0 in inputs, weights and bias: values, gradients and second order as torch's
    (which multiplies padding zeros too: 0 * inf is nan in both). +-1e300 are left out: sums
    become +-3: sums holding both cancel to what the order of the additions makes them."""
    options, inputs = _conv_case(data, dims, transposed)
    inputs = [without_overflow(data.draw(edge_arrays(a.shape, empty=False, broadcast=False))) for a in inputs]
    compare(lambda *t: ours(*t, **options), lambda *t: theirs(*t, **options), inputs)
