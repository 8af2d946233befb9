"""The convolutional model families: DCGAN and its Upsample variant, the conditional GANs (MLP
and DCGAN), the convolutional VAE. Gradients of every loss are checked by finite differences at
a tiny size in float64; a few optimiser steps lower the loss each player minimises; a checkpoint
resumes exactly; conditional sampling feeds the chosen label; the latent utilities do what
Radford et al. 2015 describe; the PyTorch twins of benchmarks/reference mirror each model and
run through the benchmark script."""
import numpy as np
import pytest

import scratchgen as sg
from reference_twins import load_compare, mirror_and_run
from scratchgen.metrics import Recipe, train_classifier
from scratchgen.models.cgan import CDCGAN, CGAN, Maxout
from scratchgen.models.dcgan import (DCGAN, DCGANUpsample, average_latent, latent_arithmetic, lerp, slerp)
from scratchgen.models.vae_conv import ConvVAE
from scratchgen.nn.conv import Conv2d, ConvTranspose2d
from scratchgen.nn.normalization import BatchNorm2d
from scratchgen.train.config import resolve_config

GANS = [DCGAN, DCGANUpsample, CDCGAN, CGAN]


def config(cls, size=8, seed=0, **overrides):
    """The run settings `scratchgen train` would give `cls`, at a tiny width and z_dim, for
    size x size images (8: small enough for full-Jacobian gradchecks; `sample` needs 28)."""
    settings = resolve_config(cls, overrides={"z_dim": 3, "width": 4, **overrides}, seed=seed)
    settings["data_shape"] = [1, size, size]
    return settings


def tiny_batch(model, n=3, seed=0, dtype=np.float32):
    """(images in [-1, 1], labels) shaped for `model`."""
    rng = np.random.default_rng(seed)
    images = sg.tensor(rng.uniform(-1, 1, (n,) + model.data_shape).astype(dtype))
    return images, sg.tensor(rng.integers(0, 10, n))


def double_model(cls):
    """The model in float64, its parameters redrawn ~ N(0, 0.5): with DCGAN's N(0, 0.02) init at a
    tiny width, pre-activations of a few 1e-5 sit within finite-difference reach of ReLU kinks and
    batch norm divides by their tiny spread."""
    model = cls(config(cls))
    redraw_in_float64((model.G, model.D), std=0.5)
    return model


def redraw_in_float64(networks, std):
    """Make `networks` float64 with every parameter redrawn ~ N(0, std^2) (seeded)."""
    rng = np.random.default_rng(0)
    for network in networks:
        network.double()
        for parameter in network.parameters():
            parameter.array[...] = rng.normal(0, std, parameter.shape)


def assert_parameter_gradients_match(loss_fn, parameters, eps=1e-6, per_tensor=3):
    """Backward's gradient of loss_fn() against central differences, on a few elements of each
    parameter (float64)."""
    parameters = list(parameters)
    gradients = sg.grad(loss_fn(), parameters)
    rng = np.random.default_rng(0)
    for i, (parameter, gradient) in enumerate(zip(parameters, gradients)):
        flat = parameter.array.reshape(-1)
        for index in rng.choice(flat.size, min(per_tensor, flat.size), replace=False):
            original = flat[index]
            flat[index] = original + eps
            plus = loss_fn().item()
            flat[index] = original - eps
            minus = loss_fn().item()
            flat[index] = original
            numeric = (plus - minus) / (2 * eps)
            assert gradient.array.reshape(-1)[index] == pytest.approx(numeric, rel=1e-4, abs=1e-7), \
                f"parameter {i} {tuple(parameter.shape)}, element {index}"


def d_loss(model, real, fake, labels):
    """What D minimises (the model's critic_losses hook)."""
    return model.critic_losses(real, fake, labels)["loss_d"]


def g_loss(model, z, labels):
    """What G minimises for latent vectors z, through D (the model's generator_loss hook)."""
    return model.generator_loss(model.generate_from(z, labels), labels, model.discriminate)


def with_fixed_rng(model, fn):
    """fn, replaying the same dropout masks on every call (finite differences need a fixed function)."""
    state = model.rng.get_state()

    def replayed(*args):
        model.rng.set_state(state)
        return fn(*args)
    return replayed


# ---- architecture ------------------------------------------------------------------------------
def test_dcgan_has_the_shapes_of_the_speed_benchmark():
    model = DCGAN(resolve_config(DCGAN))
    d_convs = [m for m in model.D.modules() if isinstance(m, Conv2d)]
    g_deconvs = [m for m in model.G.modules() if isinstance(m, ConvTranspose2d)]
    assert [tuple(c.weight.shape) for c in d_convs[:2]] == [(64, 1, 4, 4), (128, 64, 4, 4)]
    assert [(c.stride, c.padding) for c in d_convs[:2]] == [((2, 2), (1, 1))] * 2
    assert [tuple(c.weight.shape) for c in g_deconvs[1:]] == [(128, 64, 4, 4), (64, 1, 4, 4)]
    first_d_layers = list(model.D.children())[:2]
    assert not any(isinstance(m, BatchNorm2d) for m in first_d_layers)  # no BN on D's input layer
    z = model.latent(2)
    images = model.generate_from(z)
    assert tuple(images.shape) == (2, 1, 28, 28) and np.abs(images.detach().numpy()).max() <= 1
    assert tuple(model.discriminate(images).shape) == (2,)


def test_dcgan_init_and_optimiser_follow_the_paper():
    model = DCGAN(resolve_config(DCGAN, seed=1))
    weights = np.concatenate([m.weight.detach().numpy().ravel() for m in model.D.modules() if isinstance(m, Conv2d)])
    assert weights.std() == pytest.approx(0.02, rel=0.05) and abs(weights.mean()) < 1e-3
    scales = np.concatenate([m.weight.detach().numpy() for m in model.G.modules() if isinstance(m, BatchNorm2d)])
    assert scales.mean() == pytest.approx(1, abs=0.01) and scales.std() == pytest.approx(0.02, rel=0.3)
    group = model.optimizer_d.param_groups[0]
    assert (group["lr"], group["betas"]) == (2e-4, (0.5, 0.999))


def test_mlp_cgan_keeps_the_default_linear_init():
    model = CGAN(resolve_config(CGAN))
    label_branch = model.G[0].label_branch[0]  # Linear(10, 1000)
    weights = label_branch.weight.detach().numpy()
    bound = 1 / np.sqrt(10)  # U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert np.abs(weights).max() <= bound and weights.std() == pytest.approx(bound / np.sqrt(3), rel=0.05)


@pytest.mark.parametrize("cls", GANS)
def test_every_gan_generates_and_samples_images(cls):
    model = cls(config(cls, size=28))
    images = model.sample(5)
    assert images.shape == (5, 1, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1


# ---- gradients -------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", GANS)
def test_gan_losses_pass_gradcheck_with_respect_to_their_inputs(cls):
    model = double_model(cls)
    real, labels = tiny_batch(model, dtype=np.float64)
    fake = sg.tensor(np.random.default_rng(1).uniform(-1, 1, real.shape), requires_grad=True)
    real.requires_grad_(True)
    z = sg.tensor(np.random.default_rng(2).standard_normal((3, model.z_dim)), requires_grad=True)
    sg.gradcheck(with_fixed_rng(model, lambda r, f: d_loss(model, r, f, labels)), (real, fake))
    sg.gradcheck(with_fixed_rng(model, lambda z: g_loss(model, z, labels)), (z,))


@pytest.mark.parametrize("cls", GANS)
def test_gan_losses_give_the_finite_difference_gradients_of_every_parameter(cls):
    model = double_model(cls)
    real, labels = tiny_batch(model, dtype=np.float64)
    z = sg.tensor(np.random.default_rng(2).standard_normal((3, model.z_dim)))
    fake = model.generate_from(z, labels).detach()
    loss_d = with_fixed_rng(model, lambda: d_loss(model, real, fake, labels))
    loss_g = with_fixed_rng(model, lambda: g_loss(model, z, labels))
    assert_parameter_gradients_match(loss_d, model.D.parameters())
    assert_parameter_gradients_match(loss_g, model.G.parameters())


def test_maxout_takes_the_largest_piece_and_passes_gradcheck():
    layer = Maxout(3, units=2, pieces=4).double()
    x = sg.tensor(np.random.default_rng(0).standard_normal((5, 3)), requires_grad=True)
    pieces = layer.linear(x).detach().numpy().reshape(5, 2, 4)
    np.testing.assert_allclose(layer(x).detach().numpy(), pieces.max(axis=2))
    sg.gradcheck(layer, (x,))


# ---- training --------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", GANS)
def test_each_player_lowers_its_own_loss(cls):
    model = cls(config(cls))
    real, labels = tiny_batch(model)
    z = model.latent(3)
    fake = model.generate_from(z, labels).detach()
    loss_d = with_fixed_rng(model, lambda: d_loss(model, real, fake, labels))
    before = loss_d().item()
    for _ in range(5):
        model.optimizer_d.zero_grad()
        loss_d().backward()
        model.optimizer_d.step()
    assert loss_d().item() < before
    loss_g = with_fixed_rng(model, lambda: g_loss(model, z, labels))
    before = loss_g().item()
    for _ in range(5):
        model.optimizer_g.zero_grad()
        loss_g().backward()
        model.optimizer_g.step()
    assert loss_g().item() < before


@pytest.mark.parametrize("cls", GANS)
def test_train_step_updates_both_players_and_reports_finite_losses(cls):
    model = cls(config(cls))
    g_before = [p.detach().numpy().copy() for p in model.G.parameters()]
    d_before = [p.detach().numpy().copy() for p in model.D.parameters()]
    losses = model.train_step(tiny_batch(model))
    assert set(losses) == {"loss_d", "loss_g"} and all(np.isfinite(v) for v in losses.values())
    assert all(isinstance(v, float) for v in losses.values())
    assert all(not np.array_equal(a, p.detach().numpy()) for a, p in zip(g_before, model.G.parameters()))
    assert all(not np.array_equal(a, p.detach().numpy()) for a, p in zip(d_before, model.D.parameters()))


@pytest.mark.parametrize("cls", GANS + [ConvVAE])
def test_a_saved_checkpoint_resumes_exactly(cls, tmp_path):
    model = cls(config(cls, size=28))
    batch = tiny_batch(model)
    if cls is ConvVAE:
        batch = (sg.tensor((batch[0].numpy() > 0).astype(np.float32)), batch[1])
    model.train_step(batch)
    sg.save(model.state_dict(), tmp_path / "checkpoint.npz")
    resumed = cls(config(cls, size=28, seed=99))
    resumed.load_state_dict(sg.load(tmp_path / "checkpoint.npz"))
    assert resumed.train_step(batch) == model.train_step(batch)
    np.testing.assert_array_equal(resumed.sample(4), model.sample(4))


def test_train_step_rejects_a_batch_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"dcgan.train_step: expected a batch shaped \(N, 1, 8, 8\), got shape \(3, 1"):
        DCGAN(config(DCGAN)).train_step((sg.zeros(3, 1, 28, 28),))
    with pytest.raises(ValueError, match=r"cdcgan: a conditional model needs labels: batches of \(images, labels\)"):
        CDCGAN(config(CDCGAN)).train_step((sg.zeros(3, 1, 8, 8),))


# ---- conditional sampling --------------------------------------------------------------------
@pytest.mark.parametrize("cls", [CDCGAN, CGAN])
def test_sampling_a_chosen_class_feeds_its_one_hot_label_to_the_generator(cls):
    model = cls(config(cls, size=28))
    seen = []
    model.G.register_forward_pre_hook(lambda module, args: seen.append(args[0].numpy()))
    state = model.rng.get_state()
    sevens = model.sample(4, labels=7)
    (inputs,) = seen
    np.testing.assert_array_equal(inputs[:, model.z_dim:], np.tile(np.eye(10)[7], (4, 1)))
    model.rng.set_state(state)  # the same z, another class: other images
    assert not np.allclose(model.sample(4, labels=2), sevens)
    model.rng.set_state(state)
    np.testing.assert_array_equal(model.sample(4, labels=[7, 7, 7, 7]), sevens)


@pytest.mark.parametrize("cls", [CDCGAN, CGAN])
def test_conditional_labels_default_to_every_class_in_turn_and_are_checked(cls):
    model = cls(config(cls, size=28))
    np.testing.assert_array_equal(model.sample_labels(12).numpy(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])
    with pytest.raises(ValueError, match=r"sample: labels must be a class in \[0, 10\) or 2 of them"):
        model.sample(2, labels=10)
    with pytest.raises(ValueError, match="sample: labels must be a class"):
        model.sample(2, labels=[1, 2, 3])


def test_unconditional_sampling_refuses_labels():
    with pytest.raises(ValueError, match="dcgan.sample: this model is unconditional"):
        DCGAN(config(DCGAN, size=28)).sample(2, labels=3)


def test_conditional_discriminator_sees_the_label_maps():
    model = CDCGAN(config(CDCGAN))
    images, _ = tiny_batch(model)
    stacked = model.discriminator_input(images, sg.tensor([0, 4, 9])).numpy()
    assert stacked.shape == (3, 11, 8, 8)
    np.testing.assert_array_equal(stacked[:, 0], images.numpy()[:, 0])
    np.testing.assert_array_equal(stacked[:, 1:, 3, 5], np.eye(10)[[0, 4, 9]])


# ---- latent utilities ------------------------------------------------------------------------
def test_lerp_walks_the_straight_line():
    z0, z1 = np.array([0.0, 2.0, -1.0]), np.array([4.0, 0.0, 1.0])
    path = lerp(z0, z1, 5)
    assert path.shape == (5, 3) and path.dtype == np.float32
    np.testing.assert_allclose(path[[0, 2, 4]], [z0, (z0 + z1) / 2, z1])


def test_slerp_walks_the_great_circle_at_constant_speed():
    z0, z1 = np.array([3.0, 0.0, 0.0]), np.array([0.0, 3.0, 0.0])
    path = slerp(sg.tensor(z0), z1, 7)
    np.testing.assert_allclose(path[[0, -1]], [z0, z1], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 3, rtol=1e-6)  # equal norms stay on the sphere
    angles = np.arctan2(path[:, 1], path[:, 0])
    np.testing.assert_allclose(np.diff(angles), np.pi / 2 / 6, rtol=1e-5)
    np.testing.assert_allclose(slerp(z0, 2 * z0, 3), lerp(z0, 2 * z0, 3))  # parallel: a straight line
    with pytest.raises(ValueError, match="slerp: steps must be an int >= 2"):
        slerp(z0, z1, 1)


def test_latent_vector_arithmetic_on_group_averages():
    rng = np.random.default_rng(0)
    smiling_woman, neutral_woman, neutral_man = (rng.standard_normal((3, 4)) for _ in range(3))
    np.testing.assert_allclose(average_latent(smiling_woman), smiling_woman.mean(axis=0), rtol=1e-6)
    result = latent_arithmetic(add=[smiling_woman, neutral_man], subtract=[neutral_woman])
    expected = smiling_woman.mean(0) + neutral_man.mean(0) - neutral_woman.mean(0)
    np.testing.assert_allclose(result, expected, rtol=1e-5)
    with pytest.raises(ValueError, match=r"average_latent: expected a group of latent vectors \(k, D\)"):
        latent_arithmetic(add=[np.zeros(4)])


def test_decoding_an_interpolation_gives_one_image_per_step_deterministically():
    model = DCGAN(config(DCGAN, size=28))
    z = model.latent(2).numpy()
    path = slerp(z[0], z[1], 6)
    images = model.decode(path)
    assert images.shape == (6, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    np.testing.assert_array_equal(model.decode(path), images)  # batch norm in eval mode
    np.testing.assert_allclose(model.decode(z[:1]), images[:1], atol=1e-6)
    assert model.G.training


# ---- convolutional VAE -----------------------------------------------------------------------
def binary_batch(size=8, n=3, seed=0):
    return sg.tensor((np.random.default_rng(seed).uniform(size=(n, 1, size, size)) > 0.5).astype(np.float32))


def negative_elbo(model, x):
    """-ELBO of vae.py on images x, with the reparameterisation noise drawn from a fixed seed."""
    return -model.elbo(x.flatten(1), sg.Generator(1))[0].mean()


def test_conv_vae_has_convolutional_networks_between_images_and_vae_rows():
    model = ConvVAE(resolve_config(ConvVAE))
    assert [tuple(m.weight.shape) for m in model.encoder.modules() if isinstance(m, Conv2d)] == \
        [(32, 1, 4, 4), (64, 32, 4, 4)]
    assert [tuple(m.weight.shape) for m in model.decoder.modules() if isinstance(m, ConvTranspose2d)] == \
        [(64, 32, 4, 4), (32, 1, 4, 4)]
    mean, log_var = model.encode(binary_batch(28).flatten(1))
    assert tuple(mean.shape) == tuple(log_var.shape) == (3, 50)
    assert tuple(model.decoder(mean).shape) == (3, 784)


def test_conv_vae_gaussian_likelihood_splits_mean_and_log_variance_channels():
    model = ConvVAE(config(ConvVAE, likelihood="gaussian"))
    assert tuple(model.decoder(sg.zeros(2, 3)).shape) == (2, 2 * 64)  # 2 channels of 8x8, flattened
    assert np.isfinite(negative_elbo(model, binary_batch()).item())


def test_conv_vae_loss_passes_gradcheck():
    model = ConvVAE(config(ConvVAE))
    redraw_in_float64((model.encoder, model.decoder), std=0.3)
    x = sg.tensor(np.random.default_rng(1).uniform(size=(2, 1, 8, 8)), requires_grad=True)
    sg.gradcheck(lambda x: negative_elbo(model, x), (x,))
    parameters = list(model.encoder.parameters()) + list(model.decoder.parameters())
    assert_parameter_gradients_match(lambda: negative_elbo(model, x.detach()), parameters)


def test_conv_vae_lowers_its_negative_elbo():
    model = ConvVAE(config(ConvVAE))
    batch = binary_batch()
    before = negative_elbo(model, batch).item()
    for _ in range(10):
        losses = model.train_step((batch,))
    assert set(losses) == {"loss", "reconstruction", "kl"}
    assert negative_elbo(model, batch).item() < before


def test_conv_vae_samples_images_and_estimates_the_test_likelihood():
    model = ConvVAE(config(ConvVAE, size=28))
    images = model.sample(4)
    assert images.shape == (4, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    metrics = model.test_metrics(binary_batch(28), k=20, generator=sg.Generator(0))
    assert metrics["test_nll_iwae"] > 0 and metrics["test_nll_iwae"] < -metrics["test_elbo"] + 1


# ---- the PyTorch twins of benchmarks/reference --------------------------------------------
def test_pytorch_twins_mirror_each_model_and_the_benchmark_scores_two_steps_of_each(monkeypatch, tmp_path):
    compare = load_compare(monkeypatch)
    trained = train_classifier(Recipe(epochs=1, batch_size=32, train_size=64, test_size=100))
    args = compare.parse(["--samples", "20", "--nll-images", "4", "--nll-k", "3", "--out", str(tmp_path / "ref.md")])
    twins = compare.torch_twins.TWINS
    results = mirror_and_run(compare, twins, args, trained, {"steps": 2, "width": 4, "z_dim": 3})
    assert all(np.isfinite(r[m]) for r in results for m in ("fid_lenet", "classifier_score", "kl_to_uniform"))
    assert all(np.isfinite(r["test_nll"]) for r in results if r["model"] == "conv-vae")
    assert compare.table(results).count("| Welch t |") == len(twins)
