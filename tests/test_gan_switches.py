"""The Improved-GAN techniques as switches of the GANs (scratchgen/models/gan_switches.py,
Salimans et al. 2016): each changes training as the paper says, and nothing else. (Off, the
models train as before: test_models_*.py compare them with their PyTorch twins; on, a run
resumes bit for bit: test_train_resume.py.)"""
import numpy as np
import pytest

import scratchgen as sg
from scratchgen import nn
from scratchgen.models.dcgan import DCGAN, DCGANUpsample
from scratchgen.models.cgan import CDCGAN
from scratchgen.models.gan import GAN
from scratchgen.models.gan_techniques import feature_matching_loss
from scratchgen.nn.normalization import BatchNorm2d
from scratchgen.train.config import UsageError, resolve_config


def tiny(cls=DCGAN, **switches):
    """A small `cls` on MNIST-shaped data, its weights seeded."""
    sizes = dict(hidden=[8], z_dim=4) if cls is GAN else dict(width=4, z_dim=4)
    config = resolve_config(cls, "mnist", dict(sizes, batch_size=8, **switches), seed=0)
    sg.manual_seed(0)
    return cls(config)


def batch(model, seed=0):
    images = np.random.default_rng(seed).uniform(-1, 1, (8, *model.data_shape)).astype(np.float32)
    return (sg.tensor(images), sg.tensor(np.arange(8) % 10))


def test_feature_matching_makes_gs_loss_the_distance_between_the_mean_features_of_ds_last_hidden_layer():
    model, seen = tiny(feature_matching=True), []
    features = model.critic_features

    def spy(x, labels=None):
        seen.append((x, features(x, labels)))
        return seen[-1][1]

    model.critic_features = spy
    real = batch(model)[0]
    losses = model.train_step(batch(model))
    (x_real, f_real), (_, f_fake) = seen
    np.testing.assert_array_equal(x_real.numpy(), real.numpy())  # the round's real batch
    assert f_real.shape == (8, 2 * 4 * 7 * 7)  # D's trunk: 2w x 7 x 7 before its last convolution
    np.testing.assert_allclose(f_real.detach().numpy(), model.D[:5](real).flatten(1).detach().numpy(), rtol=1e-6)
    assert losses["loss_g"] == pytest.approx(feature_matching_loss(f_real, f_fake).item(), rel=1e-6)
    assert tiny().train_step(batch(model))["loss_g"] != pytest.approx(losses["loss_g"], rel=1e-2)


def test_label_smoothing_changes_only_the_real_targets():
    """BCE(l, t) = softplus(l) - t l, so alpha = 0.9 adds 0.1 mean(l) of the real logits, nothing of the fake ones."""
    model = tiny(label_smoothing=0.9)
    real, fake = batch(model, 0)[0], batch(model, 1)[0]
    smoothed = model.critic_losses(real, fake, None)["loss_d"].item()
    model.config["label_smoothing"] = 1.0
    plain = model.critic_losses(real, fake, None)["loss_d"].item()
    assert smoothed - plain == pytest.approx(0.1 * model.discriminate(real).mean().item(), rel=1e-4)


@pytest.mark.parametrize("cls", [DCGAN, GAN])
def test_historical_averaging_penalises_each_players_distance_to_its_past_mean(cls):
    model = tiny(cls, historical_averaging=0.5)
    start = {name: [p.detach().numpy().copy() for p in network.parameters()]
             for name, network in (("d", model.D), ("g", model.G))}
    first = model.train_step(batch(model))
    assert first["historical_average_d"] == 0.0 and first["historical_average_g"] == 0.0  # theta is its own mean
    after = {name: [p.detach().numpy().copy() for p in network.parameters()]
             for name, network in (("d", model.D), ("g", model.G))}
    second = model.train_step(batch(model, 1))
    for name in "dg":  # at step 2 theta_2 against the mean of theta_1, theta_2: 0.5 ||(theta_2 - theta_1) / 2||^2
        expected = 0.5 * sum(np.sum(((b - a) / 2.0) ** 2) for a, b in zip(start[name], after[name]))
        assert second[f"historical_average_{name}"] == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("cls", [DCGAN, DCGANUpsample, CDCGAN, GAN])
def test_minibatch_discrimination_puts_its_layer_before_ds_last_layer(cls):
    model = tiny(cls, minibatch_discrimination=True)
    layers = list(model.D)
    assert isinstance(layers[-3], nn.MinibatchDiscrimination) and isinstance(layers[-2], nn.Linear)
    assert layers[-2].in_features == layers[-3].in_features + 100
    assert not any(isinstance(layer, nn.MinibatchDiscrimination) for layer in tiny(cls).D.modules())
    images, labels = batch(model)
    assert model.discriminate(images, labels).shape == (8,)
    assert model.critic_features(images, labels).shape == (8, layers[-3].in_features)
    assert np.isfinite(list(model.train_step((images, labels)).values())).all()


@pytest.mark.parametrize("cls", [DCGAN, DCGANUpsample, CDCGAN])
def test_virtual_batchnorm_makes_gs_output_for_one_z_independent_of_the_rest_of_its_batch(cls):
    model = tiny(cls, virtual_batchnorm=True)
    assert not any(isinstance(layer, BatchNorm2d) for layer in model.G.modules())
    assert any(isinstance(layer, nn.VirtualBatchNorm) for layer in model.G.modules())
    z, labels = sg.randn(6, 4), sg.tensor(np.arange(6) % 10)
    with sg.no_grad():
        alone = model.generate_from(z[:1], labels[:1]).numpy()
        np.testing.assert_allclose(model.generate_from(z, labels).numpy()[:1], alone, atol=1e-6)
        plain = tiny(cls)
        batch_of_two = plain.generate_from(z[:2], labels[:2]).numpy()[:1]
        assert not np.allclose(plain.generate_from(z, labels).numpy()[:1], batch_of_two)
    reference = model.state_dict()["G"]["reference_z"]
    model.train_step(batch(model))
    np.testing.assert_array_equal(model.G.reference_z.numpy(), reference.numpy())  # drawn once, fixed
    assert model.sample(3).shape == (3, 1, 28, 28)


def test_the_reference_batch_passes_gs_gradient_through_its_statistics():
    """The reference statistics come from G's current weights in the same graph (Sec. 3.4), so
    G's gradient with virtual batch norm differs from that with the statistics held fixed."""
    model = tiny(virtual_batchnorm=True)
    z = sg.randn(4, 4)
    model.generate_from(z).square().sum().backward()
    with_reference = model.G[1].weight.grad.numpy().copy()
    model.G.zero_grad()
    with sg.no_grad():
        nn.run_reference(model.G, model.G.reference_z)
    model.G(z).square().sum().backward()
    assert not np.allclose(model.G[1].weight.grad.numpy(), with_reference)


def test_gan_refuses_switches_it_cannot_honour():
    with pytest.raises(UsageError, match="virtual_batchnorm"):
        tiny(GAN, virtual_batchnorm=True)
    with pytest.raises(UsageError, match="feature_matching"):
        tiny(GAN, feature_matching=True, g_loss="minimax")
    with pytest.raises(UsageError, match="label_smoothing"):
        tiny(label_smoothing=1.5)


def test_the_switches_checkpoint_their_state():
    model = tiny(historical_averaging=0.1, virtual_batchnorm=True)
    model.train_step(batch(model))
    state = model.state_dict()
    assert {"history_d", "history_g"} <= set(state) and state["history_d"]["count"] == 2
    assert "reference_z" in state["G"]
    restored = tiny(historical_averaging=0.1, virtual_batchnorm=True)
    restored.load_state_dict(state)
    np.testing.assert_array_equal(restored.G.reference_z.numpy(), model.G.reference_z.numpy())
    assert restored.history_g.penalty().item() == model.history_g.penalty().item()
    with pytest.raises(ValueError, match="history_d"):
        restored.load_state_dict({name: value for name, value in state.items() if name != "history_d"})
