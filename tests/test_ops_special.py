"""Elementwise math beyond exp and log: sin, cos, rsqrt, reciprocal, expm1, sign, floor, round,
clamp_min, clamp_max, and the special functions erf, lgamma and digamma (array code in
backends/special.py). For each: gradcheck, gradgradcheck and torch's values and gradients on
hypothesis-drawn shapes (empty and size-1 dims included); torch's values at the edges to the
second order; and for the special functions their accuracy against mpmath."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import scratchgen as sg
import scratchgen.functional as F
from scratchgen import backends
from differential import compare, edge_arrays
from oracle import check
from strategies import (arrays, arrays_avoiding, broadcastable_shapes, distinct_arrays, nonzero_arrays,
                        positive_arrays, shapes, shapes_with_empty)
from test_ops_unary import AT_EDGES


def away_from_poles(shape):
    return arrays_avoiding(shape, [0.0, -1.0, -2.0, -3.0], margin=0.1, low=-3.5, high=5.0)


def avoiding_steps(step, offset=0.0):
    """Values a margin away from the jumps of a piecewise-constant function at offset + k step."""
    return lambda shape: arrays_avoiding(shape, [offset + k * step for k in range(-30, 31)], margin=step / 10,
                                         low=-2.9, high=2.9)


OPS = {  # name: (scratchgen op, torch op, inputs where it is smooth, its own special points for the edge test)
    "sin": (F.sin, torch.sin, lambda s: arrays(s, -4.0, 4.0), (math.pi, -math.pi / 2)),
    "cos": (F.cos, torch.cos, lambda s: arrays(s, -4.0, 4.0), (math.pi, math.pi / 2)),
    "rsqrt": (F.rsqrt, torch.rsqrt, positive_arrays, (4.0, 1e-310)),
    "reciprocal": (F.reciprocal, torch.reciprocal, nonzero_arrays, (1e-310, -1e-310)),
    "expm1": (F.expm1, torch.expm1, arrays, (710.0, -40.0, 1e-17)),
    "erf": (F.erf, torch.erf, lambda s: arrays(s, -4.0, 4.0), (0.84375, 1.25, 1 / 0.35, 6.0, -6.0, 27.0, 1e-9)),
    "lgamma": (F.lgamma, torch.lgamma, away_from_poles, (-1.5, -2.5, 1e-8, 171.7, 1e5, -3.0, -1e-300)),
    "digamma": (F.digamma, torch.digamma, away_from_poles, (-1.5, 10.0, 9.999, 1e17, -0.5, -3.0, 1.4616321449683622)),
    "sign": (F.sign, torch.sign, nonzero_arrays, ()),
    "floor": (F.floor, torch.floor, avoiding_steps(1.0), (0.5, -0.5, 2.5)),
    "round": (F.round, torch.round, avoiding_steps(1.0, 0.5), (1.5, 2.5, -0.5, -2.5, 0.49999999999999994)),
    "round (decimals=1)": (lambda x: F.round(x, decimals=1), lambda x: torch.round(x, decimals=1),
                           avoiding_steps(0.1, 0.05), (0.25, 0.15, -0.35)),
    "round (decimals=-1)": (lambda x: F.round(x, decimals=-1), lambda x: torch.round(x, decimals=-1),
                            lambda s: arrays_avoiding(s, [-25.0, -15.0, -5.0, 5.0, 15.0, 25.0], 0.5, -29, 29),
                            (15.0, 25.0, -5.0)),
    "round (decimals=400)": (lambda x: F.round(x, decimals=400), lambda x: torch.round(x, decimals=400), None, ()),
    "clamp_min": (lambda x: F.clamp_min(x, 0.5), lambda x: torch.clamp_min(x, 0.5),
                  lambda s: arrays_avoiding(s, [0.5]), (0.5,)),
    "clamp_max": (lambda x: F.clamp_max(x, -0.5), lambda x: torch.clamp_max(x, -0.5),
                  lambda s: arrays_avoiding(s, [-0.5]), (-0.5,)),
}


@pytest.mark.parametrize("name", [name for name, op in OPS.items() if op[2] is not None])
@given(data=st.data())
def test_against_torch_with_finite_differences(name, data):
    ours, theirs, inputs, _ = OPS[name]
    check(ours, theirs, [data.draw(inputs(data.draw(shapes_with_empty())))])


@AT_EDGES
@pytest.mark.parametrize("name", OPS)
@given(data=st.data())
def test_edges_against_torch(name, data):
    ours, theirs, _, special_points = OPS[name]
    compare(ours, theirs, [data.draw(edge_arrays(data.draw(shapes(max_dims=3)), extra=special_points))])


@pytest.mark.parametrize("name", ["clamp_min", "clamp_max"])
@given(data=st.data())
def test_clamp_min_max_with_a_tensor_bound(name, data):
    x_shape, bound_shape = data.draw(broadcastable_shapes())
    size = int(np.prod(x_shape))
    values = data.draw(distinct_arrays((size + int(np.prod(bound_shape)),)))  # no ties between x and the bound
    check(getattr(F, name), getattr(torch, name), [values[:size].reshape(x_shape), values[size:].reshape(bound_shape)])


@AT_EDGES
def test_round_halves_to_even_as_torch():
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 1.25, 0.125, 15.0, 25.0, 1234.0, 1e300, np.nan])
    for decimals in (0, 1, 2, -1, -2, 10, 309, -400):
        compare(lambda x, d=decimals: F.round(x, decimals=d), lambda x, d=decimals: torch.round(x, decimals=d), [x])
        assert F.round(sg.tensor(x, dtype=sg.float32), decimals=decimals).dtype == sg.float32


@AT_EDGES
def test_integer_and_bool_inputs_as_torch():
    ints, flags = np.array([-3, 0, 2]), np.array([True, False])
    for name in ("sin", "cos", "rsqrt", "reciprocal", "expm1", "erf", "lgamma", "digamma"):
        ours, theirs = getattr(F, name)(sg.tensor(ints)), getattr(torch, name)(torch.tensor(ints))
        assert ours.dtype == sg.float32 and theirs.dtype == torch.float32  # promoted as torch promotes
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, equal_nan=True)
        assert getattr(F, name)(sg.tensor(flags)).dtype == sg.float32
    for name in ("sign", "floor", "round"):
        ours, theirs = getattr(F, name)(sg.tensor(ints)), getattr(torch, name)(torch.tensor(ints))
        assert ours.dtype == sg.int64 and ours.tolist() == theirs.tolist()
    assert F.sign(sg.tensor(flags)).tolist() == torch.sign(torch.tensor(flags)).tolist()
    for name in ("floor", "round"):  # torch refuses these too
        with pytest.raises(TypeError, match=f"{name}: argument 'input' must be a real, non-bool tensor"):
            getattr(F, name)(sg.tensor(flags))
    with pytest.raises(TypeError, match="round: decimals=1 needs a floating-point input"):
        F.round(sg.tensor(ints), decimals=1)


@pytest.mark.parametrize("name", ["sin", "cos", "rsqrt", "reciprocal", "expm1"])
def test_complex_input_is_refused_where_torch_accepts_it(name):
    """A deliberate difference (the ops' docstrings): scratchgen's gradients are those of real
    functions, so these refuse complex tensors, which torch accepts."""
    getattr(torch, name)(torch.tensor([1 + 1j]))
    with pytest.raises(TypeError, match=f"{name}: argument 'input' must be a real"):
        getattr(F, name)(sg.tensor(np.array([1 + 1j])))


METHODS = ("sin", "cos", "rsqrt", "reciprocal", "expm1", "erf", "lgamma", "digamma", "sign", "floor", "round")


@pytest.mark.parametrize("name", METHODS)
def test_tensor_methods_are_the_ops(name):
    x = sg.tensor([0.3, 1.7, 2.5], dtype=sg.float64)
    np.testing.assert_array_equal(getattr(x, name)().numpy(), getattr(F, name)(x).numpy())
    assert x.round(decimals=1).tolist() == [0.3, 1.7, 2.5] and x.clamp_min(1.0).tolist() == [1.0, 1.7, 2.5]
    assert x.clamp_max(1.0).tolist() == [0.3, 1.0, 1.0]


@pytest.mark.parametrize("name", ["erf", "lgamma", "digamma"])
def test_float32_stays_float32_and_agrees_with_torch(name):
    x = np.random.default_rng(0).uniform(0.1, 6.0, 100).astype(np.float32)
    ours = getattr(F, name)(sg.tensor(x))
    assert ours.dtype == sg.float32
    np.testing.assert_allclose(ours.numpy(), getattr(torch, name)(torch.tensor(x)).numpy(), rtol=2e-6, atol=1e-6)


def test_digamma_second_derivative_far_below_zero_is_nan():
    """A deliberate difference (backends/special.py): for n >= 2, polygamma sums Hurwitz zeta's
    terms one by one from x up to 9, as torch does, but at most 10^4 of them, so below x ~ -10^4
    it gives nan where torch sums on."""
    x = sg.tensor([-12345.5, -50.5], dtype=sg.float64, requires_grad=True)
    (first,) = sg.grad([F.digamma(x).sum()], [x], create_graph=True)
    (second,) = sg.grad([first.sum()], [x])
    assert np.isnan(second[0].item())
    np.testing.assert_allclose(second[1].item(), torch.polygamma(2, torch.tensor(-50.5, dtype=torch.float64)).item(),
                               rtol=1e-12)


def test_the_cuda_backend_runs_the_same_array_code():
    """backends/cuda.py binds the special functions to the array module of its input: on NumPy
    arrays (the kernel emulator's way, without a GPU) it gives the NumPy backend's values."""
    from scratchgen.backends import cuda
    x = np.array([-2.5, -1.0, -0.0, 0.3, 1.0, 4.5, 30.0, np.nan])
    for name in ("erf", "lgamma", "digamma"):
        np.testing.assert_array_equal(getattr(cuda, name)(x), getattr(backends.numpy_backend, name)(x))
    for n in (0, 1, 2, 3):
        np.testing.assert_array_equal(cuda.polygamma(n, x), backends.numpy_backend.polygamma(n, x))


# ---- accuracy of backends/special.py against mpmath (40 digits) ----------------------------------

def _error(ours, exact):
    """|ours - exact| relative to max(1, |exact|): relative error, and absolute near a zero."""
    exact = np.array([float(v) for v in exact])
    return np.max(np.abs(ours - exact) / np.maximum(np.abs(exact), 1.0))


def test_erf_is_accurate_to_the_last_bits():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-7, 7, 500), rng.uniform(-1.3, 1.3, 300), 10.0 ** rng.uniform(-300, 0, 100)])
    exact = np.array([float(mpmath.erf(mpmath.mpf(v))) for v in x])
    assert np.max(np.abs(backends.numpy_backend.erf(x) - exact) / np.abs(exact)) < 5e-16


@pytest.mark.parametrize("name", ["lgamma", "digamma"])
def test_lgamma_and_digamma_are_accurate(name):
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    exact_function = {"lgamma": lambda v: mpmath.log(abs(mpmath.gamma(v))), "digamma": mpmath.digamma}[name]
    rng = np.random.default_rng(1)
    poles = -np.arange(1.0, 20.0)[:, None] + np.array([1e-12, -1e-9, 1e-6, 0.3])[None, :]
    x = np.concatenate([rng.uniform(0, 20, 300), 10.0 ** rng.uniform(-10, 5, 200), rng.uniform(-30, 0, 200),
                        rng.uniform(0.95, 2.05, 100), poles.ravel()])
    exact = [exact_function(mpmath.mpf(v)) for v in x]
    assert _error(getattr(backends.numpy_backend, name)(x), exact) < 5e-14
