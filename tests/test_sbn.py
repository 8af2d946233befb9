"""The stochastic binary networks of models/sbn.py (Jang et al. 2016, Sec. 4.2): on a tiny SBN
(2 units of 2 classes per layer, 4 top and 4 bottom pixels) the objective passes gradcheck at fixed
noise, the score-function gradient averaged over draws is the exact gradient of the bound computed
by enumerating h1 and h2, the one-hot-forward estimators average to the bound itself, and the
m-sample evaluation converges to the exact -log p(x_b | x_t); 'marginalization' is refused; and a
short run through the CLI beats independent Bernoulli pixels on the bottom halves of real binarized
MNIST. (Resuming bit for bit: tests/test_train_resume.py.)"""
import itertools
import json
import pathlib

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import scratchgen as sg
from scratchgen import cli
from scratchgen.data import load_binarized_mnist
from scratchgen.models import estimators, model_class
from scratchgen.train.config import UsageError, resolve_config

SHARED_BINARIZED = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binarized_mnist"
needs_data = pytest.mark.skipif(not SHARED_BINARIZED.is_dir(), reason=f"no binarized MNIST in {SHARED_BINARIZED}")
ESTIMATORS = [name for name in estimators.ESTIMATORS if name != "marginalization"]


def tiny_sbn(estimator="score-function"):
    """An SBN of 2 units of 2 classes per layer in float64, on images of 8 pixels (4 the top half),
    its weights drawn large enough that the conditionals are far from uniform."""
    cls = model_class("sbn")
    config = resolve_config(cls, "binarized-mnist", dict(latents=2, estimator=estimator), seed=0)
    model = cls(dict(config, data_shape=[8]))
    rng = np.random.default_rng(1)
    with sg.no_grad():
        for network in (model.first, model.second, model.output):
            network.double()
            for parameter in network.parameters():
                parameter.copy_(sg.tensor(rng.standard_normal(parameter.shape) * 1.5))
    return model


def parameters(model):
    return [p for network in (model.first, model.second, model.output) for p in network.parameters()]


def tiny_rows(rows=3):
    return sg.tensor((np.random.default_rng(0).random((rows, 8)) < 0.5).astype(np.float64))


def enumerated(model, x):
    """(log p(h1, h2 | x_t), log p(x_b | h2)) at every configuration of (h1, h2), each (C, C, N),
    C = K^L, as differentiable tensors (h2 along the first dim)."""
    x_t, x_b = model.halves(x)
    values = np.eye(model.categories)[np.array(list(itertools.product(range(model.categories),
                                                                     repeat=model.latents)))]  # (C, L, K)
    h = sg.tensor(values).unsqueeze(1).expand(len(values), len(x), model.latents, model.categories)  # (C, N, L, K)
    log_h1 = estimators.log_probability(model.h1_logits(x_t), h)                           # (C1, N)
    log_h2 = estimators.log_probability(model.h2_logits(h), h.unsqueeze(1))                # (C2, C1, N)
    return log_h1 + log_h2, model.log_likelihood(x_b, h).unsqueeze(1).expand(log_h2.shape)


def exact_bound(model, x):
    """The training objective E_{h ~ p(h|x_t)} log p(x_b | h2), averaged over the rows."""
    log_h, log_likelihood = enumerated(model, x)
    return (log_h.exp() * log_likelihood).sum((0, 1)).mean()


def exact_log_likelihood(model, x):
    """log p(x_b | x_t) = log sum_{h1, h2} p(h1|x_t) p(h2|h1) p(x_b|h2) of each row."""
    log_h, log_likelihood = enumerated(model, x)
    return (log_h + log_likelihood).flatten(0, 1).logsumexp(0)


def test_the_objective_at_fixed_noise_and_log_p_of_x_b_pass_gradcheck_in_the_weights():
    model, x = tiny_sbn("gumbel-softmax"), tiny_rows()
    weights = parameters(model)
    # the Gumbel-Softmax objective at a fixed draw is a smooth function of every weight of the three layers
    sg.gradcheck(lambda *_: model.objective(x, 0.7, sg.Generator(3)), weights)
    h2 = sg.tensor(np.random.default_rng(2).dirichlet([1, 1], (2, 3, 2)))  # relaxed h2 (S, N, L, K)
    sg.gradcheck(lambda *_: model.log_likelihood(model.halves(x)[1], h2), list(model.output.parameters()))


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_every_estimator_gives_finite_nonzero_gradients_to_every_layer(estimator):
    model, x = tiny_sbn(estimator), tiny_rows(rows=50)
    model.objective(x, 1.0, sg.Generator(0)).mean().backward()
    for parameter in parameters(model):
        assert np.all(np.isfinite(parameter.grad.numpy())) and np.any(parameter.grad.numpy() != 0)


def draws(model, x, seeds, tau=1.0):
    """The objective's value and its gradient in every weight, one row per seed (a batch of x each)."""
    values, gradients = [], []
    for seed in range(seeds):
        value = model.objective(x, tau, sg.Generator(seed)).mean()
        gradients.append(np.concatenate([g.numpy().ravel() for g in sg.grad(value, parameters(model))]))
        values.append(value.item())
    return np.array(values), np.array(gradients)


def test_the_score_function_gradient_is_the_exact_gradient_of_the_bound_on_average():
    """Nested REINFORCE with a baseline per layer: the mean of 40 batches of 3 x 500 rows is within
    5 standard errors of the gradient computed by enumerating the 4 x 4 values of (h1, h2) (h1 by
    straight-through instead misses by 7 standard errors)."""
    model, x = tiny_sbn("score-function"), tiny_rows()
    exact = np.concatenate([g.numpy().ravel() for g in sg.grad(exact_bound(model, x), parameters(model))])
    _, gradients = draws(model, sg.tensor(np.tile(x.numpy(), (500, 1))), 40)
    error = np.abs(gradients.mean(0) - exact)
    standard_error = gradients.std(0, ddof=1) / np.sqrt(len(gradients))
    assert np.all(error < 5 * standard_error + 1e-9), (error / standard_error).max()
    assert model.estimator_h1.baseline() != 0 and model.estimator_h2.baseline() != 0  # both baselines learned
    assert standard_error.max() < 0.02 * np.abs(exact).max()  # resolved to 2% of the gradient's size


@pytest.mark.parametrize("estimator", ["score-function", "straight-through", "st-gumbel-softmax"])
def test_the_one_hot_forward_estimators_average_to_the_exact_bound(estimator):
    model, x = tiny_sbn(estimator), tiny_rows()
    values, _ = draws(model, sg.tensor(np.tile(x.numpy(), (500, 1))), 20)
    expected = exact_bound(model, x).item()
    assert abs(values.mean() - expected) < 5 * values.std(ddof=1) / np.sqrt(len(values)), (values.mean(), expected)


def test_the_m_sample_evaluation_converges_to_the_exact_conditional_likelihood():
    model, x = tiny_sbn(), tiny_rows()
    with sg.no_grad():
        exact = exact_log_likelihood(model, x).numpy()
        bound = exact_bound(model, x).item()
        estimate = model.conditional_log_likelihood(x, 20000, sg.Generator(0), max_rows=6000).numpy()
        metrics = model.test_metrics(x, 20000, sg.Generator(0), progress=False)
    assert_allclose(estimate, exact, atol=0.01)
    assert bound < exact.mean() - 0.1  # the one-sample training objective is a bound, loose on this model
    assert metrics == {"test_nll": pytest.approx(-estimate.mean(), abs=0.01), "k": 20000, "n_test": 3}


@pytest.mark.parametrize("name", ["sbn", "cat-sbn"])
def test_marginalization_is_refused_with_a_clear_error(name):
    with pytest.raises(UsageError, match=f"{name}: estimator 'marginalization' cannot sum over the SBN"):
        resolve_config(model_class(name), "binarized-mnist", {"estimator": "marginalization", "latents": 1})


def independent_pixels_nll(train_images, test_images):
    """The NLL (nats per image) of independent Bernoulli pixels at their training means (in [1e-3, 1 - 1e-3])."""
    p = np.clip(train_images.mean(0), 1e-3, 1 - 1e-3)
    return float(-(test_images * np.log(p) + (1 - test_images) * np.log(1 - p)).sum(1).mean())


@needs_data
def test_a_short_run_beats_independent_bottom_pixels_and_the_cli_completes_and_evaluates_it(tmp_path):
    train_images, test_images = (load_binarized_mnist(split, data_dir=SHARED_BINARIZED) for split in ("train", "test"))
    baseline = independent_pixels_nll(train_images[:, 392:], test_images[:500, 392:])  # 133.3 nats (the run: 110)
    out = tmp_path / "run"
    assert cli.main(["train", "sbn", "--steps", "300", "--data-dir", str(SHARED_BINARIZED), "--out", str(out),
                     "--set", "sample_every=1000"]) == 0
    assert cli.main(["sample", str(out), "--n", "16", "--out", str(tmp_path / "samples.npy")]) == 0
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (16, 1, 28, 28) and samples.min() >= 0 and samples.max() <= 1
    assert_array_equal(samples[:, 0, :14], test_images[:16].reshape(16, 28, 28)[:, :14])  # completed top halves
    assert cli.main(["eval", str(out), "--k", "100", "--n-test", "500"]) == 0
    results = json.loads((out / "eval.json").read_text())
    assert results["k"] == 100 and results["n_test"] == 500
    assert results["test_nll"] < baseline - 15, (results, baseline)
