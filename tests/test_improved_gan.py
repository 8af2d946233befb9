"""The semi-supervised K+1 GAN (scratchgen/models/improved_gan.py, Salimans et al. 2016, Sec. 5):
its unsupervised loss against the reference code's expression in PyTorch, the labelled examples
chosen by the seed, and a short run on real MNIST that classifies far above chance, which fails
when the supervised loss sees wrong labels."""
import io
import pathlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import scratchgen as sg
from oracle import check
from scratchgen import train
from scratchgen.models.improved_gan import ImprovedGAN, unsupervised_loss
from scratchgen.train.config import resolve_config

MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not (MNIST / "t10k-labels-idx1-ubyte.gz").exists()
                                 and not (MNIST / "t10k-labels-idx1-ubyte").exists(), reason="no MNIST here")


def torch_unsupervised_loss(real_logits, fake_logits):
    """openai/improved-gan's loss_unl, line for line."""
    l_unl, l_fake = torch.logsumexp(real_logits, 1), torch.logsumexp(fake_logits, 1)
    softplus = torch.nn.functional.softplus
    return -0.5 * l_unl.mean() + 0.5 * softplus(l_unl).mean() + 0.5 * softplus(l_fake).mean()


@settings(max_examples=20, deadline=None)
@given(data=st.data(), n=st.integers(1, 4), m=st.integers(1, 4), k=st.integers(1, 4))
def test_the_unsupervised_loss_is_the_reference_codes(data, n, m, k):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    logits = [rng.standard_normal((n, k)) * 3, rng.standard_normal((m, k)) * 3]
    check(unsupervised_loss, torch_unsupervised_loss, logits)


def test_d_of_x_is_z_over_z_plus_one():
    """D(x) = Z(x) / (Z(x) + 1): all-fake logits (Z -> 0) cost -log D(x) -> inf on real data, 0 on fake."""
    logits = sg.tensor([[-30.0, -30.0]], dtype=sg.float64)
    z = 2 * np.exp(-30.0)
    expected = 0.5 * (-np.log(z / (z + 1)) - np.log(1 / (z + 1)))
    np.testing.assert_allclose(unsupervised_loss(logits, logits).item(), expected)


def tiny(**overrides):
    config = resolve_config(ImprovedGAN, "mnist", dict(batch_size=20, **overrides), seed=3, data_dir=str(MNIST))
    sg.manual_seed(0)
    return ImprovedGAN(config)


@needs_mnist
def test_the_labelled_examples_are_as_many_of_each_digit_and_chosen_by_the_seed():
    model = tiny(labels=20)
    images, digits = model.labelled
    assert images.shape == (20, 784) and np.bincount(digits.numpy(), minlength=10).tolist() == [2] * 10
    again, other = tiny(labels=20).labelled[0], ImprovedGAN(dict(model.config, seed=4)).labelled[0]
    np.testing.assert_array_equal(again.numpy(), images.numpy())
    assert not np.array_equal(other.numpy(), images.numpy())
    batch_images, batch_digits = model.labelled_batch(40)  # the set in two fresh orders
    assert batch_images.shape == (40, 784) and set(np.bincount(batch_digits.numpy())) == {4}
    assert model.critic_features(batch_images).shape == (40, 250)


def short_run(tmp_path, name, **overrides):
    """150 steps on real MNIST with 100 labels; the test errors (of the 10,000, averaged weights)."""
    run, _ = train.start("improved-gan", "mnist", steps=150, overrides=dict(labels=100, average_rate=0.01, **overrides),
                         out=tmp_path / name, data_dir=str(MNIST), stream=io.StringIO())
    return train.evaluate(run.path, progress=False)


@needs_mnist
def test_a_short_run_classifies_mnist_far_above_chance_and_not_with_wrong_labels(tmp_path, monkeypatch):
    results = short_run(tmp_path, "right")
    assert results["n_test"] == 10000 and results["test_errors"] < 4000  # chance: 9000
    labelled = ImprovedGAN.labelled.fget

    def shifted(model):  # every labelled digit called the next one
        images, digits = labelled(model)
        return images, sg.tensor((digits.numpy() + 1) % 10)

    monkeypatch.setattr(ImprovedGAN, "labelled", property(shifted))
    assert short_run(tmp_path, "wrong")["test_errors"] > 8000
