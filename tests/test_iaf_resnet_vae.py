"""The IAF VAE on the convolutional ResNet networks (models/iaf_resnet_vae.py): the shapes of the
encoder and decoder, a ResNet block's gradient (float64, finite differences), iaf_steps=0 is the
diagonal posterior on the same network, a clear error for images of another shape, and a short
run on real MNIST beats independent pixels through the CLI. The flow itself is tested in
test_iaf_vae.py; resuming bit for bit in test_train_resume.py."""
import numpy as np
import pytest

import scratchgen as sg
from scratchgen.models import model_class
from scratchgen.models.iaf_resnet_vae import ResNetBlock
from scratchgen.train.config import resolve_config
from test_iaf_vae import needs_mnist, short_run_beats_independent_pixels


def tiny_model(**overrides):
    cls = model_class("iaf-resnet-vae")
    config = resolve_config(cls, "mnist", dict(dict(width=4, z_dim=3, iaf_hidden=[8, 8], context=5), **overrides),
                            seed=0)
    sg.manual_seed(0)
    return cls(config)


def test_the_encoder_gives_mu_log_var_and_h_and_the_decoder_784_logits_per_z():
    model = tiny_model(blocks=2)
    assert model.config["data_shape"] == [1, 28, 28] and len(model.flow) == 2
    x = sg.tensor((np.random.default_rng(0).random((6, 784)) < 0.3).astype(np.float32))
    with sg.no_grad():
        assert model.encoder(x).shape == (6, 2 * 3 + 5)
        mean, log_var, h = model.encode_with_context(x)
        assert mean.shape == log_var.shape == (6, 3) and h.shape == (6, 5)
        assert model.log_likelihood(x, sg.randn(4, 6, 3)).shape == (4, 6)
        assert model.generate(7, sg.Generator(0)).shape == (7, 784)
    assert sum(isinstance(layer, ResNetBlock) for layer in model.encoder) == 4  # 2 at 14x14, 2 at 7x7


def test_iaf_steps_0_is_the_diagonal_posterior_on_the_same_network():
    """No flow and no context: the encoder gives (mu, log sigma^2) only and the KL is the closed form."""
    model = tiny_model(iaf_steps=0)
    assert len(model.flow) == 0 and model.context_size == 0
    x = sg.tensor((np.random.default_rng(1).random((5, 784)) < 0.3).astype(np.float32))
    with sg.no_grad():
        assert model.encoder(x).shape == (5, 6)
        elbo, reconstruction, kl = model.elbo(x, sg.Generator(0))
        mean, log_var = model.encode(x)
        closed_form = -0.5 * (1 + log_var - mean.square() - log_var.exp()).sum(-1)
    np.testing.assert_allclose(kl.numpy(), closed_form.numpy(), rtol=1e-6)
    np.testing.assert_allclose(elbo.numpy(), (reconstruction - kl).numpy(), rtol=1e-6)


def test_gradcheck_and_gradgradcheck_of_a_resnet_block():
    sg.manual_seed(0)
    block = ResNetBlock(2)
    block.double()
    x = sg.tensor(np.random.default_rng(0).standard_normal((2, 2, 4, 4)), requires_grad=True)
    sg.gradcheck(block, (x,))
    sg.gradgradcheck(block, (x,))


def test_images_of_another_shape_are_refused_naming_the_model_and_the_shape():
    cls = model_class("iaf-resnet-vae")
    config = resolve_config(cls, "mnist", {}, seed=0)
    config["data_shape"] = [1, 32, 32]
    with pytest.raises(ValueError, match=r"iaf-resnet-vae: data_shape must be \[1, 28, 28\].*\[1, 32, 32\]"):
        cls(config)


@needs_mnist
def test_a_short_run_on_mnist_beats_independent_pixels_and_the_cli_samples_and_evaluates_it(tmp_path):
    results, baseline = short_run_beats_independent_pixels(
        tmp_path, "iaf-resnet-vae", ["width=8", "batch_size=50", "iaf_hidden=[32, 32]"], steps=150, k=10, n_test=200)
    assert -results["test_elbo"] < baseline - 15, (results, baseline)
    assert results["test_nll_iwae"] < -results["test_elbo"]
