"""F.skew and F.unskew (the Diagonal LSTM's skew, van den Oord et al. 2016, Sec. 3.2, Figure 3):
row i shifted right by i and back; a round trip is the identity, a small example is spelled out,
gradients pass finite differences to the second order (each op's backward is the other op), bad
shapes fail clearly, and both run on the CUDA backend (emulated in CI) as on the CPU."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

import scratchgen as sg
import scratchgen.functional as F
from bad_input import assert_clear_error
from strategies import arrays
from test_cuda_end_to_end import assert_match_the_cpu, device  # noqa: F401 (device: the emulated/real CUDA fixture)

map_shapes = st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 4), st.integers(1, 4))


def skew_by_loops(x):
    """The definition, one row at a time: out[:, :, i, i + j] = x[:, :, i, j]."""
    n, c, height, width = x.shape
    out = np.zeros((n, c, height, width + height - 1), x.dtype)
    for i in range(height):
        out[:, :, i, i:i + width] = x[:, :, i]
    return out


def test_a_small_example():
    x = sg.tensor(np.arange(1.0, 10.0).reshape(1, 1, 3, 3))
    assert_array_equal(F.skew(x).numpy()[0, 0], [[1, 2, 3, 0, 0],
                                                 [0, 4, 5, 6, 0],
                                                 [0, 0, 7, 8, 9]])
    assert_array_equal(F.unskew(F.skew(x)).numpy(), x.numpy())


@given(shape=map_shapes, seed=st.integers(0, 2 ** 16))
def test_skew_matches_its_definition_and_unskew_inverts_it(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    skewed = F.skew(sg.tensor(x))
    assert skewed.shape == shape[:3] + (shape[3] + shape[2] - 1,) and skewed.dtype == sg.float32
    assert_array_equal(skewed.numpy(), skew_by_loops(x))
    assert_array_equal(F.unskew(skewed).numpy(), x)


@given(shape=map_shapes, seed=st.integers(0, 2 ** 16))
def test_skew_of_unskew_keeps_the_diagonal_band_and_zeros_the_rest(shape, seed):
    n, c, height, width = shape
    y = np.random.default_rng(seed).standard_normal((n, c, height, width + height - 1))
    band = skew_by_loops(np.ones((1, 1, height, width))) != 0
    assert_array_equal(F.skew(F.unskew(sg.tensor(y))).numpy(), np.where(band, y, 0.0))


@st.composite
def skew_cases(draw):
    n, c, height, width = draw(st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 3), st.integers(1, 3)))
    op = draw(st.sampled_from(["skew", "unskew"]))
    return op, draw(arrays((n, c, height, width if op == "skew" else width + height - 1)))


@settings(max_examples=20, deadline=None)
@given(case=skew_cases())
def test_skew_and_unskew_pass_gradcheck_and_gradgradcheck(case):
    op, x = case
    x = sg.tensor(x, requires_grad=True)
    fn = (lambda x: F.skew(x) * F.skew(x)) if op == "skew" else (lambda x: F.unskew(x) * F.unskew(x))
    sg.gradcheck(fn, (x,))
    sg.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("op, shape, message", [
    ("skew", (3, 4), r"skew: input must have 4 dims \(N, C, H, W\), got shape \(3, 4\)"),
    ("skew", (1, 1, 0, 4), "skew: input must have at least one row and one column"),
    ("skew", (1, 1, 2, 0), "skew: input must have at least one row and one column"),
    ("unskew", (1, 2, 3), r"unskew: input must have 4 dims \(N, C, H, W \+ H - 1\), got shape \(1, 2, 3\)"),
    ("unskew", (1, 1, 3, 2), r"unskew: input must be a skewed map .* W >= 1, .* got shape \(1, 1, 3, 2\)"),
    ("unskew", (1, 1, 0, 2), r"unskew: input must be a skewed map"),
])
def test_bad_shapes_fail_clearly(op, shape, message):
    with pytest.raises(ValueError, match=message):
        getattr(F, op)(sg.zeros(*shape))


def test_a_non_tensor_fails_clearly():
    for op in ("skew", "unskew"):
        assert_clear_error(lambda op=op: getattr(F, op)(np.zeros((1, 1, 2, 3))), op, "input")


def test_skew_and_unskew_run_on_the_cuda_backend(device):  # noqa: F811 (the fixture imported above)
    """float32 forward and gradients through the array module of backends/cuda.py equal the CPU's."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 3, 4, 5)).astype(np.float32), rng.standard_normal((2, 3, 4, 8)).astype(np.float32)
    assert_match_the_cpu(device, lambda x: F.skew(x).square(), [x])
    assert_match_the_cpu(device, lambda y: F.unskew(y).square(), [y])
