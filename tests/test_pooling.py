"""avg_pool2d, max_pool2d, adaptive_avg_pool2d and interpolate: gradcheck, gradgradcheck and
PyTorch's values and gradients for drawn windows (ceil_mode and padding included) and
resizing modes; the errors for invalid arguments."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import scratchgen as sg
from oracle import check
from scratchgen.ops.pooling import adaptive_avg_pool2d, avg_pool2d, interpolate, max_pool2d
from strategies import arrays, distinct_arrays

EXAMPLES = settings(max_examples=15, deadline=None)


@st.composite
def pool_windows(draw, dilation=False):
    """(input shape, options) for a valid 2-D pooling window."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(2))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(2))
    dilations = tuple(draw(st.integers(1, 2)) for _ in range(2)) if dilation else (1, 1)
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 5)) for k, d, p in zip(kernel, dilations, padding))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + size
    options = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=draw(st.booleans()))
    if dilation:
        options["dilation"] = dilations
    return shape, options


@EXAMPLES
@given(data=st.data())
def test_avg_pool2d(data):
    shape, options = data.draw(pool_windows())
    options["count_include_pad"] = data.draw(st.booleans())
    options["divisor_override"] = data.draw(st.sampled_from([None, 3]))
    check(lambda x: avg_pool2d(x, **options), lambda x: TF.avg_pool2d(x, **options), [data.draw(arrays(shape))])


@EXAMPLES
@given(data=st.data())
def test_max_pool2d(data):
    # every window holds an input element (else torch's index of an all-padding window is arbitrary)
    shape, options = data.draw(pool_windows(dilation=True).filter(
        lambda case: torch.isfinite(TF.max_pool2d(torch.zeros(case[0]), **case[1])).all()))
    x = data.draw(distinct_arrays(shape))  # no ties: the maximum of each window is unique
    check(lambda x: max_pool2d(x, return_indices=True, **options),
          lambda x: TF.max_pool2d(x, return_indices=True, **options), [x])


def test_max_pool2d_gives_a_tie_to_the_first_maximum_as_torch():
    x = np.array([[[[1.0, 1.0, 0.0], [1.0, 0.0, 2.0], [2.0, 2.0, 0.5]]]])
    check(lambda x: max_pool2d(x, 2, 1, return_indices=True), lambda x: TF.max_pool2d(x, 2, 1, return_indices=True),
          [x], gradcheck=False)


@EXAMPLES
@given(data=st.data())
def test_adaptive_avg_pool2d(data):
    shape = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))) + tuple(data.draw(st.integers(1, 5)) for _ in range(2))
    size = data.draw(st.sampled_from([1, (2, 3), (None, 2), 4]))
    check(lambda x: adaptive_avg_pool2d(x, size), lambda x: TF.adaptive_avg_pool2d(x, size), [data.draw(arrays(shape))])


@EXAMPLES
@given(data=st.data())
def test_interpolate(data):
    mode = data.draw(st.sampled_from(["nearest", "nearest-exact", "bilinear", "linear", "area"]))
    spatial = 1 if mode == "linear" else data.draw(st.integers(1, 2)) if mode != "bilinear" else 2
    options = {"mode": mode}
    if data.draw(st.booleans()):
        options["scale_factor"] = data.draw(st.sampled_from([2, 2.0, 0.5, 1.5, 3]))
    else:
        options["size"] = tuple(data.draw(st.integers(1, 6)) for _ in range(spatial))
    if mode in ("linear", "bilinear"):
        options["align_corners"] = data.draw(st.sampled_from([None, False, True]))
    sides = st.integers(2, 4)  # at least 1 output pixel at scale 0.5
    shape = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))) + tuple(data.draw(sides) for _ in range(spatial))
    x = data.draw(arrays(shape))
    check(lambda x: interpolate(x, **options), lambda x: TF.interpolate(x, **options), [x])


def test_upsample_by_two_is_a_block_copy():
    x = sg.tensor(np.arange(4.0).reshape(1, 1, 2, 2))
    expected = [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]
    np.testing.assert_array_equal(interpolate(x, scale_factor=2).numpy()[0, 0], expected)


def test_pooling_errors_name_the_argument():
    x = sg.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match=r"max_pool2d: padding \(2, 2\) should be at most half of kernel_size \(2, 2\)"):
        max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match=r"avg_pool2d: output size \(0, 0\) is too small"):
        avg_pool2d(x, 5)
    with pytest.raises(ValueError, match=r"interpolate: mode must be one of nearest, nearest-exact, linear, "
                                         r"bilinear, area, got 'bicubic'"):
        interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match=r"interpolate: give exactly one of size and scale_factor"):
        interpolate(x)
    with pytest.raises(ValueError, match=r"interpolate: align_corners can only be set with the interpolating modes"):
        interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match=r"interpolate: mode 'linear' needs a 3-D input, got shape \(1, 1, 4, 4\)"):
        interpolate(x, scale_factor=2, mode="linear")
