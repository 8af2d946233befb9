"""The MLP model families (VAE, GAN, WGAN, WGAN-GP): their losses are the papers' formulas
(checked against PyTorch where it has them), their gradients pass finite differences in
float64, a few steps on tiny data lower the loss that should fall, and their state round-trips;
their PyTorch twins (benchmarks/reference) mirror them step for step and run through the
benchmark script."""
import math

import numpy
import pytest
import torch

import scratchgen as sg
from reference_twins import assert_same_steps, load_compare, mirror_and_run
from scratchgen.metrics import Recipe, train_classifier
from scratchgen.models import list_models, model_class
from scratchgen.models.vae import kl_to_standard_normal, log_normal
from scratchgen.models.wgan import gradient_penalty
from scratchgen.train.config import resolve_config
from scratchgen.train import plots

FLOAT64_TOLERANCE = dict(rtol=1e-10, atol=1e-12)


def make_model(name, dataset="8gaussians", data_size=None, double=False, **overrides):
    """A small model; data_size replaces the dataset's example size (for tiny gradchecks)."""
    cls = model_class(name)
    config = resolve_config(cls, dataset, overrides, seed=0)
    if data_size is not None:
        config["data_shape"] = [data_size]
    sg.manual_seed(0)
    model = cls(config)
    if double:
        for network in model.networks():
            network.double()
    return model


def toy_points(n, seed=0):
    return sg.tensor(sg.data.EIGHT_GAUSSIANS.sample(n, sg.Generator(seed)))


def binary_patterns(n, size, seed=0):
    """n binary vectors built from two prototypes with a few bits flipped: easy to model."""
    rng = numpy.random.default_rng(seed)
    prototypes = rng.random((2, size)) < 0.5
    rows = prototypes[rng.integers(0, 2, n)] ^ (rng.random((n, size)) < 0.05)
    return sg.tensor(rows.astype(numpy.float32))


# ---- registry ---------------------------------------------------------------------------------
def test_every_registered_model_names_its_paper_and_datasets():
    for name, paper, datasets in list_models():
        assert model_class(name).name == name
        assert "20" in paper and datasets


def test_an_unknown_model_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="unknown model 'vea'; known models: vae, .*wgan-gp"):
        model_class("vea")


# ---- VAE -------------------------------------------------------------------------------------
def test_log_normal_and_kl_match_torch_distributions():
    rng = numpy.random.default_rng(1)
    x, mean, log_var = (rng.standard_normal((4, 3)) for _ in range(3))
    ours = log_normal(sg.tensor(x), sg.tensor(mean), sg.tensor(log_var)).numpy()
    normal = torch.distributions.Normal(torch.tensor(mean), torch.tensor(log_var).mul(0.5).exp())
    numpy.testing.assert_allclose(ours, normal.log_prob(torch.tensor(x)).sum(-1).numpy(), **FLOAT64_TOLERANCE)
    standard = torch.distributions.Normal(torch.zeros(4, 3, dtype=torch.float64), 1.0)
    expected = torch.distributions.kl_divergence(normal, standard).sum(-1).numpy()
    numpy.testing.assert_allclose(kl_to_standard_normal(sg.tensor(mean), sg.tensor(log_var)).numpy(), expected,
                                  **FLOAT64_TOLERANCE)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_vae_elbo_gradients_pass_gradcheck(likelihood):
    model = make_model("vae", "mnist", data_size=3, double=True, hidden=[4], z_dim=2, likelihood=likelihood)
    x = sg.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=sg.float64)
    parameters = [*model.encoder.parameters(), *model.decoder.parameters()]
    sg.gradcheck(lambda *_: model.elbo(x, sg.Generator(3))[0].mean(), parameters)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_vae_training_raises_the_elbo_on_tiny_data(likelihood):
    model = make_model("vae", "mnist", data_size=16, hidden=[32], z_dim=2, likelihood=likelihood, lr=1e-2)
    x = binary_patterns(64, 16)
    losses = [model.train_step((x,))["loss"] for _ in range(60)]
    assert numpy.mean(losses[-5:]) < numpy.mean(losses[:5]) - 1.0


def test_iwae_bound_is_chunk_invariant_above_the_elbo_and_tightens_with_k():
    model = make_model("vae", "mnist", data_size=16, hidden=[32], z_dim=2, lr=1e-2)
    x = binary_patterns(8, 16)
    for _ in range(30):
        model.train_step((x,))
    with sg.no_grad():
        whole = model.importance_weighted_bound(x, 50, sg.Generator(0), max_rows=10_000).numpy()
        chunked = model.importance_weighted_bound(x, 50, sg.Generator(0), max_rows=24).numpy()  # chunks of 3 samples
        elbo = numpy.mean([model.elbo(x, sg.Generator(seed))[0].numpy().mean() for seed in range(50)])
        bounds = [numpy.mean([model.importance_weighted_bound(x, k, sg.Generator(seed)).numpy().mean()
                              for seed in range(20)]) for k in (1, 10, 100)]
    numpy.testing.assert_allclose(chunked, whole, rtol=1e-5)
    assert abs(bounds[0] - elbo) < 0.5  # k = 1 is the ELBO (Burda 2015, Sec. 3)
    # the bound tightens as k grows (Theorem 1), here up to log p(x) already by k = 10
    assert bounds[1] > bounds[0] + 0.1 and bounds[2] > bounds[1] - 0.01


def test_vae_samples_are_images_in_the_unit_interval():
    model = make_model("vae", "mnist", hidden=[8], z_dim=2)
    images = model.sample(5)
    assert images.shape == (5, 1, 28, 28) and images.min() >= 0 and images.max() <= 1


# ---- GANs --------------------------------------------------------------------------------------
TINY_GAN = dict(hidden=[3], z_dim=2)


@pytest.mark.parametrize("name", ["gan", "wgan", "wgan-gp"])
def test_critic_loss_gradients_pass_gradcheck(name):
    model = make_model(name, data_size=2, double=True, **TINY_GAN)
    real = toy_points(4).double()
    fake = sg.randn(4, 2, dtype=sg.float64, generator=sg.Generator(1))
    noise_state = model.rng.get_state()  # WGAN-GP draws its interpolation weights from it

    def loss(*_):
        model.rng.set_state(noise_state)
        return model.critic_losses(real, fake, None)["loss_d"]
    sg.gradcheck(loss, list(model.D.parameters()))


@pytest.mark.parametrize("name, g_loss", [("gan", "minimax"), ("gan", "non-saturating"), ("wgan", None)])
def test_generator_loss_gradients_pass_gradcheck(name, g_loss):
    model = make_model(name, data_size=2, double=True, **TINY_GAN, **({"g_loss": g_loss} if g_loss else {}))
    z = sg.randn(4, 2, dtype=sg.float64, generator=sg.Generator(1))
    sg.gradcheck(lambda *_: model.generator_loss(model.G(z), None, model.discriminate),
                 list(model.G.parameters()))


def critic_scoring(logits):
    """A critic (x, labels) -> scores that gives `logits` whatever it is shown."""
    return lambda fake, labels: logits


def test_gan_generator_losses_are_the_papers_formulas():
    minimax = make_model("gan", g_loss="minimax", **TINY_GAN)
    logits = sg.tensor([-2.0, 0.5, 3.0])
    d = 1 / (1 + numpy.exp(-logits.numpy()))
    loss = minimax.generator_loss(None, None, critic_scoring(logits))
    assert loss.item() == pytest.approx(numpy.log(1 - d).mean(), rel=1e-6)
    saturating = make_model("gan", **TINY_GAN)
    loss = saturating.generator_loss(None, None, critic_scoring(logits))
    assert loss.item() == pytest.approx(-numpy.log(d).mean(), rel=1e-6)


def test_an_unknown_generator_loss_is_refused():
    with pytest.raises(ValueError, match="g_loss must be one of"):
        make_model("gan", g_loss="hinge")


@pytest.mark.parametrize("name", ["gan", "wgan", "wgan-gp"])
def test_a_few_steps_lower_the_critic_loss(name):
    model = make_model(name, hidden=[32, 32], batch_size=64, lr=1e-3)
    k = model.batches_per_step
    losses = [model.train_step((toy_points(64 * k, seed),))["loss_d"] for seed in range(25)]
    assert numpy.mean(losses[-5:]) < numpy.mean(losses[:5])


def test_gan_takes_k_discriminator_steps_per_generator_step():
    model = make_model("gan", k=3, **TINY_GAN)
    d_steps, g_steps = [], []
    model.optimizer_d.step = lambda step=model.optimizer_d.step: (d_steps.append(1), step())
    model.optimizer_g.step = lambda step=model.optimizer_g.step: (g_steps.append(1), step())
    model.train_step((toy_points(3 * 256),))
    assert (len(d_steps), len(g_steps)) == (3, 1)


def test_wgan_clips_every_critic_weight_to_c():
    model = make_model("wgan", hidden=[16], lr=0.5)  # steps far larger than c
    model.train_step((toy_points(5 * 256),))
    for parameter in model.D.parameters():
        assert numpy.abs(parameter.detach().numpy()).max() <= model.config["clip"]


def test_gradient_penalty_matches_pytorch_value_and_weight_gradients():
    rng = numpy.random.default_rng(0)
    sizes = [2, 8, 8, 1]
    weights = [(rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out))
               for n_in, n_out in zip(sizes, sizes[1:])]
    real, fake = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    epsilon = rng.random((6, 1))

    critic = sg.nn.Sequential(sg.nn.Linear(2, 8), sg.nn.ReLU(), sg.nn.Linear(8, 8), sg.nn.ReLU(), sg.nn.Linear(8, 1))
    torch_critic = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8), torch.nn.ReLU(),
                                       torch.nn.Linear(8, 1)).double()
    for ours, theirs, (w, b) in zip(critic[::2], torch_critic[::2], weights):
        ours.weight, ours.bias = sg.nn.Parameter(sg.tensor(w)), sg.nn.Parameter(sg.tensor(b))
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
            theirs.bias.copy_(torch.tensor(b))

    penalty = gradient_penalty(critic, sg.tensor(real), sg.tensor(fake), sg.tensor(epsilon))
    penalty.backward()
    t_eps = torch.tensor(epsilon)
    interpolates = (t_eps * torch.tensor(real) + (1 - t_eps) * torch.tensor(fake)).requires_grad_()
    (gradients,) = torch.autograd.grad(torch_critic(interpolates).sum(), interpolates, create_graph=True)
    torch_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean()
    torch_penalty.backward()

    assert penalty.item() == pytest.approx(torch_penalty.item(), rel=1e-12)
    # the biases move the penalty only through ReLU masks (piecewise constant): no gradient, None or zeros
    for ours, theirs in zip(critic.parameters(), torch_critic.parameters()):
        ours_grad = numpy.zeros(ours.shape) if ours.grad is None else ours.grad.numpy()
        theirs_grad = numpy.zeros(ours.shape) if theirs.grad is None else theirs.grad.numpy()
        numpy.testing.assert_allclose(ours_grad, theirs_grad, **FLOAT64_TOLERANCE)
    assert all(parameter.grad is not None for parameter in critic.parameters() if parameter.ndim == 2)


@pytest.mark.parametrize("name", ["gan", "wgan-gp"])
def test_gan_samples_are_points_on_toys_and_unit_images_on_mnist(name):
    assert make_model(name, **TINY_GAN).sample(7).shape == (7, 2)
    images = make_model(name, "mnist", hidden=[8], z_dim=4).sample(3)
    assert images.shape == (3, 1, 28, 28) and images.min() >= 0 and images.max() <= 1


def test_sampling_with_a_generator_leaves_the_training_noise_alone():
    model = make_model("wgan-gp", **TINY_GAN)
    state = model.rng.get_state()
    first = model.sample(5, generator=sg.Generator(9))
    assert model.rng.get_state() == state
    numpy.testing.assert_array_equal(model.sample(5, generator=sg.Generator(9)), first)


def test_unconditional_models_refuse_labels():
    with pytest.raises(ValueError, match="gan.sample: this model is unconditional"):
        make_model("gan", **TINY_GAN).sample(2, labels=numpy.zeros(2, numpy.int64))


@pytest.mark.parametrize("name", ["vae", "gan", "wgan", "wgan-gp"])
def test_state_dict_round_trips_through_save_and_load(name, tmp_path):
    dataset = "mnist" if name == "vae" else "8gaussians"
    model = make_model(name, dataset, hidden=[8], z_dim=2)
    batch = (binary_patterns(100, 784),) if name == "vae" else (toy_points(256 * model.batches_per_step),)
    model.train_step(batch)
    sg.save(model.state_dict(), tmp_path / "state.npz")
    copy = make_model(name, dataset, hidden=[8], z_dim=2)
    copy.load_state_dict(sg.load(tmp_path / "state.npz"))
    assert copy.train_step(batch) == model.train_step(batch)  # same weights, optimizer state and noise


def test_load_state_dict_names_the_missing_entries():
    model = make_model("wgan", **TINY_GAN)
    state = model.state_dict()
    del state["optimizer_g"]
    with pytest.raises(ValueError, match="needs .*optimizer_g"):
        model.load_state_dict(state)


def test_log_probabilities_stay_finite_for_confident_discriminators():
    model = make_model("gan", g_loss="minimax", **TINY_GAN)
    loss = model.generator_loss(None, None, critic_scoring(sg.tensor([-200.0, 200.0])))
    assert math.isfinite(loss.item())


# ---- the PyTorch twins of benchmarks/reference ---------------------------------------------------
TINY_TWIN = dict(steps=2, hidden=[8], z_dim=3)


def test_pytorch_twins_mirror_each_mlp_model_and_the_benchmark_scores_two_steps_on_mnist(monkeypatch, tmp_path):
    compare = load_compare(monkeypatch)
    trained = train_classifier(Recipe(epochs=1, batch_size=32, train_size=64, test_size=100))
    args = compare.parse(["--samples", "20", "--nll-images", "4", "--nll-k", "3", "--out", str(tmp_path / "ref.md")])
    twins = compare.torch_twins_mlp.TWINS
    results = mirror_and_run(compare, twins, args, trained, TINY_TWIN)
    assert all(numpy.isfinite(r[m]) for r in results for m in ("fid_lenet", "classifier_score", "kl_to_uniform"))
    assert all(numpy.isfinite([r["test_nll"], r["test_elbo"]]).all() for r in results if r["model"] == "vae")
    assert compare.table(results).count("| Welch t |") == len(twins)


@pytest.mark.parametrize("dataset, modes", [("8gaussians", 8), ("25gaussians", 25)])
def test_pytorch_twins_of_the_gans_score_mode_coverage_on_the_toys(monkeypatch, tmp_path, dataset, modes):
    compare = load_compare(monkeypatch)
    args = compare.parse(["--dataset", dataset, "--samples", "50"])
    assert args.models == ["gan", "wgan", "wgan-gp", "ddgm", "unrolled-gan"]
    assert args.out.name == f"reference-{dataset}.md"
    args.out, args.models = tmp_path / "ref.md", ["gan", "wgan", "wgan-gp"]  # not the committed results; ddgm's
    # and unrolled-gan's networks take other settings (their twins: test_ddgm.py, test_unrolled_twin.py)
    twins = [compare.MODELS[name][1] for name in args.models]
    results = mirror_and_run(compare, twins, args, None, dict(TINY_TWIN, hidden=[32]))
    assert all(r["num_modes"] == modes and 0 <= r["modes_covered"] <= modes and 0 <= r["high_quality_fraction"] <= 1
               for r in results)
    assert "| modes_covered | high_quality_fraction |" in compare.table(results)
    pictures = {path.name for path in (tmp_path / "samples").iterdir()} if plots.available() else set()
    assert pictures == ({f"{dataset}-{name}-{library}.png" for name in args.models for library in compare.LIBRARIES}
                        if plots.available() else set())


def test_the_benchmark_refuses_a_model_that_does_not_train_on_the_dataset(monkeypatch, capsys):
    compare = load_compare(monkeypatch)
    with pytest.raises(SystemExit):
        compare.parse(["--dataset", "8gaussians", "--models", "vae", "gan"])
    assert "vae do(es) not train on 8gaussians" in capsys.readouterr().err


@pytest.mark.parametrize("name, dataset, overrides", [
    ("vae", "mnist", dict(hidden=[32], z_dim=4)),
    ("gan", "8gaussians", dict(k=2)),
    ("gan", "8gaussians", dict(g_loss="minimax")),
    ("wgan", "8gaussians", {}),
    ("wgan-gp", "8gaussians", {}),
    ("wgan-gp", "mnist", dict(hidden=[16], z_dim=4)),
])
def test_a_twin_and_its_model_take_the_same_steps_from_the_same_weights_batches_and_noise(
        monkeypatch, name, dataset, overrides):
    twin_cls = load_compare(monkeypatch).MODELS[name][1]
    ours = make_model(name, dataset, **{"hidden": [16, 16], "batch_size": 32, **overrides})
    size = ours.config["batch_size"] * ours.batches_per_step
    batches = [(binary_patterns(size, 784, step) if dataset == "mnist" else toy_points(size, step)).numpy()
               for step in range(3)]
    assert_same_steps(monkeypatch, ours, twin_cls(ours.config), batches, tolerance=(1e-5, 1e-6))
