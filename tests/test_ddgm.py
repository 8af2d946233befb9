"""DDGM (scratchgen/models/ddgm.py; Kim & Bengio 2016): the product-of-experts energy of Eq. 11
against NumPy and by finite differences (first and second order, the energy net included); the
batch-norm entropy estimate by finite differences, and equal to the closed-form entropy of a
Gaussian when G is linear with independent units (an upper bound when they are not); the
losses the loop gets from the hooks; bad input; and a short run on the 8 Gaussians after which
the energy is low on the data and G's samples lie on the ring, which fails when either loss
has the wrong sign; the PyTorch twin of benchmarks/reference takes the same steps. (Resuming bit
for bit: tests/test_train_resume.py.)"""
import io
import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import scratchgen as sg
from bad_input import assert_clear_error
from reference_twins import assert_same_steps, load_compare, mirror_and_run, network_shapes
from scratchgen import nn, train
from scratchgen.metrics import Recipe, nearest_modes, toy_sample_metrics, train_classifier
from scratchgen.models import model_class
from scratchgen.models.ddgm import DDGM, EnergyNet, batchnorm_entropy, gaussian_entropy, poe_energy
from scratchgen.nn.normalization import BatchNorm1d
from scratchgen.train.config import resolve_config
from scratchgen.train.datasets import training_batches
from strategies import arrays, nonzero_arrays

TINY = dict(hidden_g=[8], hidden_e=[8], experts=4, z_dim=2, batch_size=16)


def tiny_model(dataset="8gaussians", **overrides):
    sg.manual_seed(0)
    return DDGM(resolve_config(DDGM, dataset, {**TINY, **overrides}, seed=0))


def float64(array):
    return sg.tensor(np.asarray(array, np.float64), requires_grad=True)


# ---- the energy (Eq. 11) ----------------------------------------------------------------------
def test_the_energy_is_eq_11():
    rng = np.random.default_rng(0)
    x, h, b, sigma = rng.normal(size=(5, 3)), rng.normal(size=(5, 4)) * 3, rng.normal(size=3), 0.7
    expected = (x * x).sum(1) / sigma ** 2 - x @ b - np.log1p(np.exp(h)).sum(1)
    np.testing.assert_allclose(poe_energy(float64(x), float64(h), float64(b), sigma).detach().numpy(), expected,
                               rtol=1e-12)


@st.composite
def energy_inputs(draw):
    n, d, k = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x, h, b = (draw(arrays(shape)) for shape in ((n, d), (n, k), (d,)))
    return [float64(x), float64(h), float64(b)], draw(st.floats(0.5, 2.0))


@given(case=energy_inputs())
def test_the_energy_passes_gradcheck_and_gradgradcheck(case):
    inputs, sigma = case

    def energy(*tensors):
        return poe_energy(*tensors, sigma)
    assert sg.gradcheck(energy, inputs)
    assert sg.gradgradcheck(energy, inputs)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 3), seed=st.integers(0, 2 ** 16))
def test_the_energy_net_passes_gradcheck_and_gradgradcheck_in_its_input_and_weights(n, seed):
    """E(x) with f the toys' ELU MLP: gradients in x (what G's loss goes through) and in every weight."""
    model = tiny_model(sigma=0.8)
    model.D.double()
    names = [name for name, _ in model.D.named_parameters()]
    weights = [float64(p.detach().numpy()) for p in model.D.parameters()]
    x = float64(np.random.default_rng(seed).normal(size=(n, 2)))

    def energy(x, *w):
        return nn.functional_call(model.D, dict(zip(names, w)), x)
    assert sg.gradcheck(energy, [x, *weights])
    assert sg.gradgradcheck(energy, [x, *weights])


def test_the_networks_follow_the_paper():
    toy = DDGM(resolve_config(DDGM, "8gaussians", seed=0))
    assert isinstance(toy.D, EnergyNet) and toy.D.experts.out_features == 128 and toy.config["sigma"] == 1.0
    assert sum(isinstance(layer, BatchNorm1d) for layer in toy.G.modules()) == 2
    mnist = DDGM(resolve_config(DDGM, "mnist", seed=0))
    assert (mnist.config["z_dim"], mnist.D.experts.out_features, mnist.data_shape) == (100, 1024, (1, 28, 28))
    assert mnist.D(sg.zeros(3, 1, 28, 28)).shape == (3,)
    assert model_class("ddgm") is DDGM


# ---- the entropy estimate ---------------------------------------------------------------------
@given(data=st.data())
def test_the_entropy_passes_gradcheck_and_gradgradcheck(data):
    std = float64(data.draw(nonzero_arrays(data.draw(st.sampled_from([(1,), (3,), (2, 3)])), margin=0.2)))
    assert sg.gradcheck(gaussian_entropy, [std])
    assert sg.gradgradcheck(gaussian_entropy, [std])


def linear_generator(rows):
    """G(z) = BN(W z + c) with W = `rows`, in float64 eval mode, its running statistics those of
    W z + c for z ~ N(0, I): mean c, variance ||W_a||^2 (less BN's eps, added back when it
    normalises), and random BN scales and shifts (negative scales included)."""
    rng = np.random.default_rng(1)
    d, k = rows.shape
    G = nn.Sequential(nn.Linear(k, d), BatchNorm1d(d)).double()
    linear, norm = G
    with sg.no_grad():
        linear.weight.copy_(sg.tensor(rows))
        linear.bias.copy_(sg.tensor(rng.normal(size=d)))
        norm.weight.copy_(sg.tensor(rng.uniform(0.3, 3, d) * rng.choice([-1, 1], d)))
        norm.bias.copy_(sg.tensor(rng.normal(size=d)))
        norm.running_mean.copy_(linear.bias)
        norm.running_var.copy_(sg.tensor((rows ** 2).sum(1) - norm.eps))
    return G.eval()


def exact_entropy(G, k):
    """The entropy of G(z), z ~ N(0, I_k), for a linear G: 1/2 log det(2 pi e J J^T), J its matrix."""
    with sg.no_grad():
        J = (G(sg.tensor(np.eye(k))) - G(sg.zeros(1, k, dtype=sg.float64))).numpy().T
    return 0.5 * np.linalg.slogdet(2 * math.pi * math.e * J @ J.T)[1], J


def test_for_a_linear_generator_with_independent_units_the_estimate_is_the_exact_entropy():
    """W with orthogonal rows: G(z) ~ N(beta, diag(gamma^2)) exactly, whose entropy is the sum
    over units of 1/2 log(2 pi e gamma_a^2), the estimate."""
    rng = np.random.default_rng(0)
    k, d = 5, 3
    rows = np.linalg.qr(rng.normal(size=(k, d)))[0].T * rng.uniform(0.5, 2, (d, 1))  # orthogonal, any lengths
    G = linear_generator(rows)
    exact, J = exact_entropy(G, k)
    np.testing.assert_allclose(J @ J.T, np.diag(G[1].weight.detach().numpy() ** 2), atol=1e-12)
    assert batchnorm_entropy(G).item() == pytest.approx(exact, rel=1e-12)


def test_for_correlated_units_the_estimate_is_the_sum_of_the_marginal_entropies_an_upper_bound():
    rng = np.random.default_rng(2)
    G = linear_generator(rng.normal(size=(3, 4)))  # rows not orthogonal: correlated outputs
    exact, J = exact_entropy(G, 4)
    marginals = 0.5 * np.log(2 * math.pi * math.e * np.diag(J @ J.T)).sum()
    estimate = batchnorm_entropy(G).item()
    assert estimate == pytest.approx(marginals, rel=1e-12) and estimate > exact + 0.1  # Hadamard's inequality


def test_in_training_mode_gamma_is_each_units_standard_deviation_over_the_batch():
    sg.manual_seed(0)
    norm = BatchNorm1d(4, eps=1e-12).double()
    with sg.no_grad():
        norm.weight.copy_(sg.tensor([0.5, -2.0, 1.0, 3.0], dtype=sg.float64))
    out = norm(sg.randn(64, 4, dtype=sg.float64) * 5 + 1).detach().numpy()
    np.testing.assert_allclose(out.std(0), np.abs(norm.weight.detach().numpy()), rtol=1e-9)


# ---- the losses the loop gets -----------------------------------------------------------------
def test_the_losses_are_the_papers():
    model = tiny_model()
    real = sg.tensor(sg.data.EIGHT_GAUSSIANS.sample(16, sg.Generator(0)))
    fake = model.generate(16, sg.Generator(1)).detach()
    losses = model.critic_losses(real, fake, None)
    assert losses["loss_d"].item() == pytest.approx(model.D(real).mean().item() - model.D(fake).mean().item())
    terms = model.generator_terms(fake, None, model.discriminate)
    assert terms["minus_entropy"].item() == pytest.approx(-batchnorm_entropy(model.G).item())
    scale = model.G[1].weight  # G's first batch norm: the term pushes each |gamma| up, d(-H)/d gamma = -1/gamma
    np.testing.assert_allclose(sg.grad(terms["minus_entropy"], [scale])[0].numpy(), -1 / scale.detach().numpy(),
                               rtol=1e-5)
    assert set(model.train_step((real,))) == {"loss_d", "energy_real", "energy_fake", "loss_g", "minus_entropy"}


# ---- bad input ----------------------------------------------------------------------------------
def test_bad_input_is_refused_clearly():
    x, h, b = sg.zeros(4, 2), sg.zeros(4, 3), sg.zeros(2)
    for sigma in (0, -1.0, math.inf, math.nan, True, "1"):
        assert_clear_error(lambda sigma=sigma: poe_energy(x, h, b, sigma), "poe_energy", "sigma")
    assert_clear_error(lambda: poe_energy(x.flatten(), h, b, 1.0), "poe_energy", "x")
    assert_clear_error(lambda: poe_energy(x, h[0], b, 1.0), "poe_energy", "expert_inputs")
    assert_clear_error(lambda: poe_energy(x, h, np.zeros(2), 1.0), "poe_energy", "visible_bias")
    assert_clear_error(lambda: poe_energy(x, h[:3], b, 1.0), "poe_energy", "expert_inputs")
    assert_clear_error(lambda: poe_energy(x, h, sg.zeros(3), 1.0), "poe_energy", "visible_bias")
    assert_clear_error(lambda: gaussian_entropy([1.0]), "gaussian_entropy", "std")
    assert_clear_error(lambda: batchnorm_entropy(nn.Linear(2, 2)), "batchnorm_entropy", "network")


# ---- training -----------------------------------------------------------------------------------
def test_a_short_run_lowers_the_energy_on_the_data_and_moves_g_onto_the_modes():
    # measured at seed 0 (1500 steps, lr 1e-3): 8 modes covered, mean distance 0.31 to the nearest centre,
    # std 1.0 on each axis, E 92 lower on the data than on uniform points of [-2, 2]^2; untrained G's samples
    # lie 1.2 from the ring; with E's or G's loss negated they end 1800 to 3300 away and cover no mode
    config = resolve_config(DDGM, "8gaussians", dict(lr=1e-3), seed=0)
    sg.manual_seed(0)
    model, batches = DDGM(config), training_batches(config, DDGM.image_layout, 1)
    for _ in range(1500):
        losses = model.train_step(next(batches))
    assert np.isfinite(list(losses.values())).all()
    samples = model.sample(2500, generator=sg.Generator(0))
    _, distances = nearest_modes(samples, sg.data.EIGHT_GAUSSIANS.centers)
    data = sg.tensor(sg.data.EIGHT_GAUSSIANS.sample(2500, sg.Generator(1)))
    uniform = sg.tensor(np.random.default_rng(2).uniform(-2, 2, (2500, 2)).astype(np.float32))
    with model.evaluating(), sg.no_grad():
        energy_gap = model.discriminate(data).mean().item() - model.discriminate(uniform).mean().item()
    assert distances.mean() < 0.6 and samples.std(0).min() > 0.5
    assert energy_gap < -10
    assert toy_sample_metrics(samples, "8gaussians")["modes_covered"] >= 5


def test_train_sample_and_eval_a_run(tmp_path):
    overrides = dict(TINY, sample_every=2)
    run, outcome = train.start("ddgm", steps=4, overrides=overrides, out=tmp_path / "run", stream=io.StringIO())
    assert outcome == "finished" and set(run.read_metrics()[0]) >= {"loss_d", "loss_g", "minus_entropy"}
    train.sample_to_file(tmp_path / "run", n=16, out=tmp_path / "samples.npy")
    assert np.load(tmp_path / "samples.npy").shape == (16, 2)
    results = train.evaluate(tmp_path / "run", n_samples=100)
    assert results["num_modes"] == 8 and 0 <= results["high_quality_fraction"] <= 1


# ---- the PyTorch twin of benchmarks/reference ----------------------------------------------------
TINY_MNIST = dict(width=4, experts=8, z_dim=3, batch_size=16)


@pytest.mark.parametrize("dataset, overrides", [("8gaussians", TINY), ("mnist", TINY_MNIST)])
def test_the_twin_takes_the_same_steps_from_the_same_weights_batches_and_noise(monkeypatch, dataset, overrides):
    twin_cls = load_compare(monkeypatch).MODELS["ddgm"][1]
    sg.manual_seed(0)
    ours = DDGM(resolve_config(DDGM, dataset, overrides, seed=0))
    twin = twin_cls(ours.config)
    assert network_shapes(twin) == network_shapes(ours)
    rng = np.random.default_rng(0)
    batches = [(rng.random((16, *ours.data_shape)) < 0.5).astype(np.float32) * 2 - 1 if dataset == "mnist" else
               sg.data.EIGHT_GAUSSIANS.sample(16, sg.Generator(step)) for step in range(3)]
    # a bias just before a batch norm has a zero gradient up to rounding, which Adam scales to steps of lr
    # (the norm's running mean follows it)
    before_norm = [i for i in range(len(ours.G) - 1) if isinstance(ours.G[i + 1], BatchNorm1d)]
    rounding_driven = {f"G.{i + shift}.{entry}" for i in before_norm
                       for shift, entry in ((0, "bias"), (1, "running_mean"))}
    assert_same_steps(monkeypatch, ours, twin, batches, tolerance=(1e-4, 1e-4), skip=rounding_driven)
    z = rng.normal(size=(4, ours.z_dim)).astype(np.float32)  # samples: batch norm's running statistics, eval mode
    twin.noise = lambda *shape: torch.from_numpy(z)
    atol = 1e-5 if not rounding_driven else 3 * ours.config["lr"]  # those biases differ by up to lr a step
    np.testing.assert_allclose(ours.decode(z), twin.sample(4), rtol=1e-4, atol=atol)


@pytest.mark.parametrize("dataset", ["8gaussians", "mnist"])
def test_the_benchmark_trains_and_scores_ddgm_and_its_twin(monkeypatch, tmp_path, dataset):
    compare = load_compare(monkeypatch)
    trained = train_classifier(Recipe(epochs=1, batch_size=32, train_size=64, test_size=100)) \
        if dataset == "mnist" else None
    args = compare.parse(["--dataset", dataset, "--models", "ddgm", "--samples", "20", "--out", str(tmp_path / "r.md")])
    overrides = dict(TINY_MNIST if dataset == "mnist" else TINY, steps=2)
    results = mirror_and_run(compare, [compare.MODELS["ddgm"][1]], args, trained, overrides)
    metric = "fid_lenet" if dataset == "mnist" else "high_quality_fraction"
    assert [r["library"] for r in results] == list(compare.LIBRARIES) and all(np.isfinite(r[metric]) for r in results)
    assert compare.table(results).count("| ddgm | Welch t |") == 1


def test_the_benchmark_keeps_earlier_runs_and_runs_only_the_missing_seeds(monkeypatch, tmp_path):
    compare = load_compare(monkeypatch)
    argv = ["--dataset", "8gaussians", "--models", "ddgm", "--steps", "2", "--samples", "20", "--out",
            str(tmp_path / "r.md"), "--set", "hidden_g=[8]", "hidden_e=[8]", "experts=4", "z_dim=2"]
    compare.main([*argv, "--seeds", "0"])
    ran, run = [], compare.run
    monkeypatch.setattr(compare, "run", lambda name, library, seed, *rest: ran.append(seed) or run(
        name, library, seed, *rest))
    compare.main([*argv, "--seeds", "0", "1", "--keep-earlier"])
    assert ran == [1, 1]  # seed 0 of both libraries kept
    results = json.loads((tmp_path / "r.json").read_text())
    assert [(r["seed"], r["library"]) for r in results] == [(0, "scratchgen"), (0, "pytorch"), (1, "scratchgen"),
                                                             (1, "pytorch")]
    compare.main([*argv[:-1], "z_dim=3", "--seeds", "0", "--keep-earlier"])  # other settings: run again
    assert ran == [1, 1, 0, 0]
    assert np.float32(1e-40) * np.float32(1) != 0  # the runs' flush-to-zero mode is switched back off
