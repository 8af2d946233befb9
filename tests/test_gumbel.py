"""F.gumbel_softmax (scratchgen/ops/gumbel.py): the soft sample's gradcheck and gradgradcheck
with the noise fixed (a freshly seeded generator per call), values and gradients against
torch.nn.functional.gumbel_softmax given the same noise, the hard sample one-hot with the soft
sample's gradient, sample frequencies against softmax(logits) by a chi-square test, the limit
tau -> 0, and the emulated CUDA backend against the CPU."""
import contextlib

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import scratchgen as sg
import scratchgen.functional as F
from differential import compare, edge_arrays
from oracle import check
from strategies import arrays, dims, shapes, shapes_with_empty
from test_cuda_end_to_end import assert_match_the_cpu, device  # noqa: F401 (device: the emulated/real CUDA fixture)

CHI2_DF4_P001 = 18.467  # the 0.999 quantile of chi-square with 4 degrees of freedom


@contextlib.contextmanager
def torch_draws_our_noise(seed, shape):
    """torch's gumbel_softmax draws g = -log(E), E ~ Exp(1), by `exponential_`; inside, that
    fills E with -log(u) for the uniforms u that sg.Generator(seed) gives, so that both libraries
    perturb the logits by the same g = -log(-log u) (u clamped as ops/gumbel.py does)."""
    u = sg.Generator(seed).uniform(shape, np.float64, "cpu")
    exponential = torch.from_numpy(np.asarray(-np.log(np.maximum(u, np.finfo(np.float64).tiny))))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.Tensor, "exponential_", lambda self, *args, **kwargs: self.copy_(exponential))
        yield


def ours(tau, hard, dim, seed):
    return lambda x: F.gumbel_softmax(x, tau, hard, dim=dim, generator=sg.Generator(seed))


def theirs(tau, hard, dim, seed):
    def fn(x):
        with torch_draws_our_noise(seed, tuple(x.shape)):
            return torch.nn.functional.gumbel_softmax(x, tau, hard, dim=dim)
    return fn


@given(data=st.data(), tau=st.floats(0.2, 5.0), seed=st.integers(0, 2 ** 32 - 1))
def test_soft_sample_gradchecks_and_matches_torch_given_the_same_noise(data, tau, seed):
    shape = data.draw(shapes_with_empty())
    dim = data.draw(dims(len(shape)))
    check(ours(tau, False, dim, seed), theirs(tau, False, dim, seed), [data.draw(arrays(shape))])


@given(data=st.data(), tau=st.floats(0.2, 5.0), seed=st.integers(0, 2 ** 32 - 1))
def test_hard_sample_matches_torch_given_the_same_noise(data, tau, seed):
    """Values within rounding (torch's y_hard - y.detach() + y is one-hot to an ulp; ours
    exactly) and the soft sample's gradient; finite differences do not apply to a step function."""
    shape = data.draw(shapes(min_dims=1))
    dim = data.draw(dims(len(shape)))
    check(ours(tau, True, dim, seed), theirs(tau, True, dim, seed), [data.draw(arrays(shape))], gradcheck=False,
          atol=1e-15)


@given(data=st.data(), tau=st.floats(0.2, 5.0), seed=st.integers(0, 2 ** 32 - 1))
def test_hard_sample_is_one_hot_at_the_soft_argmax_and_has_the_soft_gradient(data, tau, seed):
    shape = data.draw(shapes(min_dims=1))
    dim = data.draw(dims(len(shape)))
    x = sg.tensor(data.draw(arrays(shape)), requires_grad=True)
    soft, hard = ours(tau, False, dim, seed)(x), ours(tau, True, dim, seed)(x)
    y = hard.detach().numpy()
    assert set(np.unique(y)) <= {0.0, 1.0}
    assert_array_equal(y.sum(dim), 1.0)
    assert_array_equal(np.argmax(y, dim), np.argmax(soft.detach().numpy(), dim))
    upstream = sg.tensor(np.random.default_rng(seed).standard_normal(shape))
    (grad_soft,) = sg.grad((soft * upstream).sum(), [x], create_graph=True)
    (grad_hard,) = sg.grad((hard * upstream).sum(), [x], create_graph=True)
    assert_array_equal(grad_hard.detach().numpy(), grad_soft.detach().numpy())
    direction = sg.tensor(np.random.default_rng(seed + 1).standard_normal(shape))
    (second_soft,) = sg.grad((grad_soft * direction).sum(), [x])
    (second_hard,) = sg.grad((grad_hard * direction).sum(), [x])
    assert_allclose(second_hard.numpy(), second_soft.numpy(), rtol=1e-12, atol=1e-15)


def chi_square(counts, probabilities):
    expected = counts.sum() * probabilities
    return float(((counts - expected) ** 2 / expected).sum())


def test_one_hot_frequencies_match_softmax_of_the_logits():
    """20,000 hard samples of 5 classes at a fixed seed: Pearson's chi-square against
    softmax(logits) stays below its 0.999 quantile, and against a different distribution
    (softmax(logits / 2)) it does not (the test can tell the two apart)."""
    logits = sg.tensor([1.0, 0.0, -1.0, 2.0, 0.5], dtype=sg.float64)
    draws = F.gumbel_softmax(logits.expand(20000, 5), 0.5, hard=True, generator=sg.Generator(0))
    counts = draws.numpy().sum(0)
    assert chi_square(counts, F.softmax(logits, 0).numpy()) < CHI2_DF4_P001
    assert chi_square(counts, F.softmax(logits / 2, 0).numpy()) > 10 * CHI2_DF4_P001


def test_soft_sample_approaches_the_one_hot_as_tau_goes_to_zero():
    """With the noise fixed, 1 - max(y) falls with tau, within the bound (K - 1) exp(-gap / tau)
    (gap: the largest perturbed logit minus the second), to the one-hot at tau = 1e-4."""
    logits = sg.tensor(np.random.default_rng(0).standard_normal((50, 6)))
    perturbed = (logits + sg.tensor(-np.log(-np.log(sg.Generator(1).uniform((50, 6), np.float64, "cpu"))))).numpy()
    top_two = np.sort(perturbed, 1)[:, -2:]
    gap = top_two[:, 1] - top_two[:, 0]
    hard = F.gumbel_softmax(logits, 1.0, hard=True, generator=sg.Generator(1)).numpy()
    previous = np.ones(50)
    for tau in (2.0, 1.0, 0.3, 0.1, 0.03, 0.01, 1e-3, 1e-4):
        y = F.gumbel_softmax(logits, tau, generator=sg.Generator(1)).numpy()
        distance = 1 - y.max(1)
        assert np.all(distance <= previous) and np.all(distance <= 5 * np.exp(-gap / tau) + 1e-15)
        previous = distance
    assert gap.min() > 0.01  # so that at tau = 1e-4 every row is within 5 e^-100 of its one-hot
    assert_allclose(y, hard, atol=1e-12)


def test_a_seed_repeats_the_sample_and_the_global_generator_moves_on():
    x = sg.randn(4, 7)
    assert_array_equal(F.gumbel_softmax(x, generator=sg.Generator(3)).numpy(),
                       F.gumbel_softmax(x, generator=sg.Generator(3)).numpy())
    sg.manual_seed(0)
    first = F.gumbel_softmax(x).numpy()
    assert not np.array_equal(first, F.gumbel_softmax(x).numpy())
    sg.manual_seed(0)
    assert_array_equal(first, F.gumbel_softmax(x).numpy())


def test_float32_sample_stays_float32_and_sums_to_one():
    y = F.gumbel_softmax(sg.randn(3, 10), 0.5, generator=sg.Generator(0))
    assert y.dtype == sg.float32
    assert_allclose(y.numpy().sum(1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("hard", [False, True])
def test_cuda_backend_matches_the_cpu(device, hard):  # noqa: F811 (device: the fixture)
    """On the CUDA backend (emulated where there is no GPU) the sample is one launch of
    kernels/gumbel.cu's gumbel_softmax_rows; its values and gradient equal the CPU's."""
    x = np.random.default_rng(0).uniform(-2, 2, (6, 9)).astype(np.float32)
    assert_match_the_cpu(device, lambda a: F.gumbel_softmax(a, 0.7, hard, dim=0, generator=sg.Generator(5)), [x])


@given(data=st.data(), hard=st.booleans(), seed=st.integers(0, 2 ** 32 - 1))
def test_edge_logits_match_torch_to_the_second_order(data, hard, seed):
    """Logits holding inf, -inf (a class masked out), nan, +-0, ties and 1e300, given the same
    noise: values, first and second derivatives as torch's (tests/differential.py)."""
    shape = data.draw(shapes(min_dims=1))
    dim = data.draw(dims(len(shape)))
    x = data.draw(edge_arrays(shape, empty=not hard))
    compare(ours(0.5, hard, dim, seed), theirs(0.5, hard, dim, seed), [x], name="gumbel_softmax")
