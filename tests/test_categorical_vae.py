"""The categorical and Bernoulli VAEs of models/categorical_vae.py (Jang et al. 2016): the
closed-form KL, the evaluation against log p(x) computed exactly by enumerating z on a tiny
model, every estimator training on real binarized MNIST, a short Gumbel-Softmax run whose test
negative ELBO beats independent Bernoulli pixels, and the CLI's train, sample and eval on it.
(Resuming bit for bit: tests/test_train_resume.py.)"""
import io
import itertools
import json
import math
import pathlib

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

import scratchgen as sg
from scratchgen import cli, train
from scratchgen.data import load_binarized_mnist
from scratchgen.models import model_class
from scratchgen.models.categorical_vae import kl_to_uniform
from scratchgen.train.config import UsageError, resolve_config

from reference_twins import SharedDraws, assert_same_steps, load_compare

SHARED_BINARIZED = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binarized_mnist"
needs_data = pytest.mark.skipif(not SHARED_BINARIZED.is_dir(), reason=f"no binarized MNIST in {SHARED_BINARIZED}")


def tiny_model(name="cat-vae", **overrides):
    cls = model_class(name)
    config = resolve_config(cls, "binarized-mnist", overrides, seed=0)
    sg.manual_seed(0)
    return cls(config)


def test_the_pytorch_twin_takes_the_same_steps(monkeypatch):
    """benchmarks/reference/torch_twins_discrete.py's Gumbel-Softmax twin, from our initial weights
    and with the same uniforms: the same losses and temperatures for 5 steps (tau annealed every
    step), then the same weights."""
    twin_module = load_compare(monkeypatch).torch_twins_discrete
    model = tiny_model(hidden=[16, 12], latents=3, categories=4, anneal_every=1, anneal_rate=0.05)
    twin = twin_module.TorchCategoricalVAE(model.config)
    ours_draws, twin_draws = SharedDraws(), SharedDraws()
    monkeypatch.setattr(model.rng, "uniform", lambda shape, dtype, device: ours_draws.uniform(*shape))
    twin.uniform = lambda shape: torch.from_numpy(twin_draws.uniform(*shape))
    batches = (np.random.default_rng(step).integers(0, 2, (6, 1, 28, 28)).astype(np.float32) for step in range(5))
    assert_same_steps(monkeypatch, model, twin, batches, tolerance=(1e-5, 1e-6))


def test_kl_to_the_uniform_prior_is_the_closed_form():
    logits = np.random.default_rng(0).standard_normal((4, 3, 5))
    q = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    assert_allclose(kl_to_uniform(sg.tensor(logits)).numpy(), (q * np.log(5 * q)).sum((-2, -1)), rtol=1e-12)
    assert_allclose(kl_to_uniform(sg.zeros(2, 3, 5, dtype=sg.float64)).numpy(), 0.0, atol=1e-15)


def test_elbo_and_importance_bound_against_log_p_x_by_enumeration():
    """On a model of 2 variables of 3 classes, log p(x) = logsumexp_z log p(x|z) p(z) over the 9
    values of z: the one-hot ELBO's mean over draws is below it, and the importance-weighted bound
    with 3000 samples is within 0.05 nats of it (and above the ELBO)."""
    model = tiny_model(hidden=[8], latents=2, categories=3)
    x = sg.tensor((np.random.default_rng(0).random((4, 784)) < 0.3).astype(np.float32))
    with sg.no_grad():
        values = np.eye(3, dtype=np.float32)[np.array(list(itertools.product(range(3), repeat=2)))]  # (9, 2, 3)
        z = sg.tensor(values).unsqueeze(1).expand(9, 4, 2, 3)
        log_p_x = (model.log_likelihood(x, z) + model.log_prior()).logsumexp(0).numpy()
        elbo = np.mean([model.elbo(x, sg.Generator(seed))[0].numpy() for seed in range(200)], 0)
        bound = model.importance_weighted_bound(x, 3000, sg.Generator(0), max_rows=400).numpy()
    assert np.all(elbo < log_p_x)
    assert np.all(bound > elbo)
    assert_allclose(bound, log_p_x, atol=0.05)


def test_marginalization_needs_few_configurations():
    with pytest.raises(UsageError, match="marginalization"):
        resolve_config(model_class("cat-vae"), "binarized-mnist", {"estimator": "marginalization"})
    resolve_config(model_class("cat-vae"), "binarized-mnist", {"estimator": "marginalization", "latents": 2})


@needs_data
@pytest.mark.parametrize("estimator", ["score-function", "straight-through", "gumbel-softmax", "st-gumbel-softmax",
                                       "marginalization"])
def test_every_estimator_lowers_the_loss_on_binarized_mnist(estimator, tmp_path):
    overrides = dict(hidden=[32], latents=2, categories=4, estimator=estimator, batch_size=50, log_every=10,
                     sample_every=1000, anneal_every=10, anneal_rate=0.01)
    run, outcome = train.start("cat-vae", steps=60, overrides=overrides, out=tmp_path / estimator,
                               data_dir=str(SHARED_BINARIZED), stream=io.StringIO())
    losses = [record["loss"] for record in run.read_metrics()]
    assert outcome == "finished" and np.mean(losses[-2:]) < losses[0] - 20, losses
    taus = [record["tau"] for record in run.read_metrics()]
    assert taus[0] == 1.0 and taus[-1] == pytest.approx(math.exp(-0.01 * 50))


def independent_pixels_nll(train_images, test_images):
    """The test NLL (nats per image) of the best model with independent Bernoulli pixels: each
    pixel's training mean, kept within [1e-3, 1 - 1e-3]."""
    p = np.clip(train_images.mean(0), 1e-3, 1 - 1e-3)
    return float(-(test_images * np.log(p) + (1 - test_images) * np.log(1 - p)).sum(1).mean())


@needs_data
def test_a_short_gumbel_softmax_run_beats_independent_pixels_and_the_cli_samples_and_evaluates_it(tmp_path):
    train_images, test_images = (load_binarized_mnist(split, data_dir=SHARED_BINARIZED) for split in ("train", "test"))
    assert 200 < independent_pixels_nll(train_images, test_images) < 215  # about 206 nats on the whole test set
    baseline = independent_pixels_nll(train_images, test_images[:1000])  # what eval --n-test 1000 reads (255 nats)
    out = tmp_path / "run"
    status = cli.main(["train", "cat-vae", "--steps", "400", "--data-dir", str(SHARED_BINARIZED), "--out", str(out),
                       "--set", "hidden=[128]", "--set", "latents=10", "--set", "sample_every=1000"])
    assert status == 0
    assert cli.main(["sample", str(out), "--n", "16", "--out", str(tmp_path / "samples.npy")]) == 0
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (16, 1, 28, 28) and samples.min() >= 0 and samples.max() <= 1
    assert cli.main(["eval", str(out), "--k", "20", "--n-test", "1000"]) == 0
    results = json.loads((out / "eval.json").read_text())
    assert results["k"] == 20 and results["n_test"] == 1000
    assert -results["test_elbo"] < baseline - 20, (results, baseline)
    assert results["test_nll_iwae"] < -results["test_elbo"]
