"""The gradient estimators of models/estimators.py on a small categorical expectation
E_{z~q}[f(z)], q = softmax(logits) over L variables of K classes, whose value and gradient are
computed here exactly by enumerating the K^L configurations (NumPy, float64):
the score function is unbiased (the mean of 20,000 per-row estimates is within 5 standard errors
of the exact gradient, with and without its baseline, and the baseline lowers the variance),
marginalization is exact (and passes gradcheck and gradgradcheck), straight-through is one-hot
forward with softmax's gradient backward, and the Gumbel-Softmax estimators pass F.gumbel_softmax's
sample."""
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import scratchgen as sg
import scratchgen.functional as F
from scratchgen.models import estimators

ROWS = 20000


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def quadratic(weights, target):
    """f(z) = (sum(w * z) - target)^2 per row: not linear in z, so the estimators differ."""
    w = sg.tensor(weights)
    return lambda z: ((z * w).sum((-2, -1)) - target).square()


def exact(logits, weights, target):
    """(E_q f, dE/dlogits) by enumeration: dE/dlogits[l, k] = sum_z q(z) f(z) (z[l, k] - q[l, k])."""
    latents, classes = logits.shape
    q = softmax(logits)
    value, gradient = 0.0, np.zeros_like(logits)
    for chosen in itertools.product(range(classes), repeat=latents):
        z = np.eye(classes)[list(chosen)]
        probability = np.prod(q[np.arange(latents), chosen])
        f = ((z * weights).sum() - target) ** 2
        value += probability * f
        gradient += probability * f * (z - q)
    return value, gradient


def per_row_gradients(estimator, logits, f, seed, rows=ROWS):
    """The estimator's gradient for each of `rows` rows holding the same logits: (rows, L, K)."""
    leaf = sg.tensor(np.broadcast_to(logits, (rows, *logits.shape)).copy(), requires_grad=True)
    estimator(leaf, f, 1.0, sg.Generator(seed)).sum().backward()
    return leaf.grad.numpy()


def problem(seed, latents=2, classes=3, target=0.5):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((latents, classes)), rng.standard_normal((latents, classes)), target


def test_score_function_gradient_is_unbiased_and_the_baseline_lowers_its_variance():
    logits, weights, target = problem(0, target=-4.0)  # f far from 0, as an ELBO's log-likelihood is
    f = quadratic(weights, target)
    _, expected = exact(logits, weights, target)
    score = estimators.build("score-function", baseline_decay=0.5)
    spreads = []
    for seed in (1, 2):  # the first call has no baseline (b = 0); the second uses the first's batch mean
        grads = per_row_gradients(score, logits, f, seed)
        mean, standard_error = grads.mean(0), grads.std(0, ddof=1) / np.sqrt(ROWS)
        assert np.all(np.abs(mean - expected) <= 5 * standard_error + 1e-12), (mean, expected, standard_error)
        spreads.append(grads.std(0).sum())
    assert spreads[1] < 0.5 * spreads[0]


def test_score_function_baseline_is_the_corrected_moving_average_and_in_the_state_dict():
    score = estimators.ScoreFunction(decay=0.9)
    means = []
    for seed in range(3):
        logits = sg.tensor(np.random.default_rng(seed).standard_normal((5, 2, 3)))
        means.append(score(logits, lambda z: z.sum((-2, -1)) * (seed + 1.0), 1.0, sg.Generator(seed)).mean().item())
    weights = 0.9 ** np.arange(2, -1, -1)
    assert score.baseline() == pytest.approx((weights * means).sum() / weights.sum(), rel=1e-6)
    resumed = estimators.ScoreFunction(decay=0.9)
    resumed.load_state_dict(score.state_dict())
    assert resumed.baseline() == score.baseline()
    score.eval()
    score(logits, lambda z: z.sum((-2, -1)) * 100, 1.0, sg.Generator(0))
    assert score.baseline() == resumed.baseline()  # evaluation leaves the baseline alone


@given(latents=st.integers(1, 3), classes=st.integers(2, 4), rows=st.integers(1, 3), seed=st.integers(0, 2 ** 32 - 1))
def test_marginalization_is_the_exact_expectation_and_its_gradient(latents, classes, rows, seed):
    logits, weights, target = problem(seed, latents, classes)
    f = quadratic(weights, target)
    marginal = estimators.build("marginalization")
    expected_value, expected_gradient = exact(logits, weights, target)
    leaf = sg.tensor(np.broadcast_to(logits, (rows, latents, classes)).copy(), requires_grad=True)
    value = marginal(leaf, f, 1.0, None)
    assert_allclose(value.detach().numpy(), expected_value, rtol=1e-12)
    value.sum().backward()
    assert_allclose(leaf.grad.numpy(), np.broadcast_to(expected_gradient, leaf.shape), rtol=1e-10, atol=1e-12)
    expectation = lambda x: marginal(x, f, 1.0, None)  # noqa: E731
    x = sg.tensor(np.random.default_rng(seed).standard_normal((rows, latents, classes)), requires_grad=True)
    sg.gradcheck(expectation, (x,))
    sg.gradgradcheck(expectation, (x,))


def test_marginalization_refuses_too_many_configurations():
    with pytest.raises(ValueError, match="marginalization: 20 variables of 10 classes"):
        estimators.build("marginalization")(sg.zeros(2, 20, 10), lambda z: z.sum((-2, -1)), 1.0, None)


def test_straight_through_is_a_one_hot_sample_forward_and_the_softmax_gradient_backward():
    logits, weights, target = problem(3)
    leaf = sg.tensor(np.broadcast_to(logits, (500, *logits.shape)).copy(), requires_grad=True)
    seen = []

    def f(z):
        seen.append(z.detach().numpy())
        return (z * sg.tensor(weights)).sum((-2, -1))
    estimators.build("straight-through")(leaf, f, 1.0, sg.Generator(0)).sum().backward()
    (z,) = seen
    assert_array_equal(z, estimators.one_hot_sample(leaf, sg.Generator(0)).numpy())
    assert set(np.unique(z)) == {0.0, 1.0} and np.all(z.sum(-1) == 1)
    q = softmax(logits)
    softmax_gradient = q * (weights - (q * weights).sum(-1, keepdims=True))  # d sum(w * q) / d logits
    assert_allclose(leaf.grad.numpy(), np.broadcast_to(softmax_gradient, leaf.shape), rtol=1e-12)


@pytest.mark.parametrize("name, hard", [("gumbel-softmax", False), ("st-gumbel-softmax", True)])
def test_gumbel_estimators_pass_the_gumbel_softmax_sample(name, hard):
    logits = sg.tensor(np.random.default_rng(0).standard_normal((4, 3, 5)), requires_grad=True)
    seen = []
    estimators.build(name)(logits, lambda z: seen.append(z) or z.sum((-2, -1)), 0.7, sg.Generator(2))
    expected = F.gumbel_softmax(logits, 0.7, hard, generator=sg.Generator(2))
    assert_array_equal(seen[0].detach().numpy(), expected.detach().numpy())
    (mine,) = sg.grad(seen[0].square().sum(), [logits])
    (theirs,) = sg.grad(expected.square().sum(), [logits])
    assert_array_equal(mine.numpy(), theirs.numpy())


def test_build_names_the_estimators():
    with pytest.raises(ValueError, match="estimator must be one of"):
        estimators.build("reinforce")
