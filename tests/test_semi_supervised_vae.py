"""The semi-supervised VAE M2 (scratchgen/models/semi_supervised_vae.py; Kingma et al. 2014 with
the estimators of Jang et al. 2016): U(x) with y marginalized is Eq. 7 written out over the
labelled bound L(x, y) of Eq. 6, every estimator trains it, the settings are checked, the speed
benchmark writes its table, and a short run on real MNIST with 100 labels classifies far above
chance and models the pixels better than independent pixels; with the labels scrambled it does not."""
import importlib.util
import pathlib
import sys

import numpy as np
import pytest

import scratchgen as sg
from scratchgen.models import estimators
from scratchgen.models.semi_supervised_vae import SemiSupervisedVAE
from scratchgen.train.config import resolve_config
from scratchgen.train.datasets import mnist_test_set, training_batches

ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not (MNIST / "t10k-labels-idx1-ubyte.gz").exists()
                                 and not (MNIST / "t10k-labels-idx1-ubyte").exists(), reason="no MNIST here")


def tiny(**overrides):
    config = resolve_config(SemiSupervisedVAE, "mnist", dict(dict(hidden=[16], z_dim=3, labels=20), **overrides),
                            data_dir=str(MNIST))
    sg.manual_seed(0)
    return SemiSupervisedVAE(config)


def test_u_marginalized_is_the_sum_over_classes_of_q_times_l_plus_the_entropy():
    """Eq. 7: U(x) = sum_y q(y|x) L(x, y) + H(q(y|x)), with L (Eq. 6) from labelled_bound at each
    class and the same noise: the rows are class-major in both (K x N encoder rows)."""
    model, x = tiny(), sg.as_tensor((np.random.default_rng(0).random((5, 784)) < 0.3).astype(np.float32))
    k = model.classes
    digits = sg.as_tensor(np.repeat(np.arange(k), len(x)).astype(np.int64))
    with sg.no_grad():
        u = model.unlabelled_bound(x, model.exact, 1.0, sg.Generator(7)).numpy()
        bounds = model.labelled_bound(x.repeat(k, 1), digits, sg.Generator(7)).numpy().reshape(k, len(x))
        q = sg.functional.softmax(model.class_logits(x), -1).numpy().astype(np.float64)
    entropy = -(q * np.log(q)).sum(1)
    np.testing.assert_allclose(u, (q.T * bounds).sum(0) + entropy, rtol=1e-4, atol=1e-3)


@needs_mnist
@pytest.mark.parametrize("estimator", estimators.ESTIMATORS)
def test_every_estimator_takes_a_finite_step_and_anneals_tau(estimator):
    model = tiny(estimator=estimator, anneal_every=1, anneal_rate=0.5, batch_size=8)
    batches = training_batches(model.config, SemiSupervisedVAE.image_layout, 1)
    first, second = model.train_step(next(batches)), model.train_step(next(batches))
    assert all(np.isfinite(value) for value in first.values())
    assert first["tau"] == 1.0 and second["tau"] == pytest.approx(np.exp(-0.5))


@needs_mnist
def test_the_labelled_batches_are_binary_and_ten_per_digit_of_the_labelled_set():
    model = tiny(labels=30)
    images, digits = model.labelled
    assert np.bincount(digits.numpy(), minlength=10).tolist() == [3] * 10
    binary, _ = model.labelled_binary_batch(60)
    assert set(np.unique(binary.numpy())) <= {0.0, 1.0}


@pytest.mark.parametrize("overrides, message", [
    (dict(classes=5), "classes"), (dict(pixels="unit"), "pixels"), (dict(labels=15), "labels")])
def test_bad_settings_name_the_setting(overrides, message):
    with pytest.raises(ValueError, match=message):
        resolve_config(SemiSupervisedVAE, "mnist", overrides)


def independent_pixels_nll(test_images, train_images):
    """-log p(x) per test image under independent Bernoulli pixels with the training set's means."""
    p = np.clip(train_images.mean(0), 1e-3, 1 - 1e-3)
    return -(test_images * np.log(p) + (1 - test_images) * np.log(1 - p)).sum(1).mean()


def short_run(scramble_labels, monkeypatch=None):
    """Test accuracy and ELBO of M2 at its defaults (100 labels) after 300 steps."""
    config = resolve_config(SemiSupervisedVAE, "mnist", dict(steps=300), data_dir=str(MNIST))
    sg.manual_seed(0)
    model, batches = SemiSupervisedVAE(config), training_batches(config, SemiSupervisedVAE.image_layout, 1)
    if scramble_labels:  # every labelled digit called by a random other name
        images, digits = model.labelled
        wrong = np.random.default_rng(1).permutation(digits.numpy())
        model._labelled = (images, sg.as_tensor(wrong))
    for _ in range(config["steps"]):
        model.train_step(next(batches))
    images, labels = mnist_test_set(config, "flat")
    metrics = model.test_metrics(sg.as_tensor(images[:2000]), 1, sg.Generator(0), labels[:2000])
    return metrics, independent_pixels_nll(images[:2000], images[2000:])


@needs_mnist
def test_a_short_run_classifies_far_above_chance_and_beats_independent_pixels():
    metrics, baseline = short_run(scramble_labels=False)
    assert metrics["test_accuracy"] > 0.6, metrics
    assert -metrics["test_elbo"] < baseline - 10, (metrics, baseline)


@needs_mnist
def test_with_scrambled_labels_the_same_run_classifies_near_chance():
    metrics, _ = short_run(scramble_labels=True)
    assert metrics["test_accuracy"] < 0.35, metrics


@needs_mnist
def test_the_speed_benchmark_writes_a_row_per_class_count_and_estimator(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # as running the script puts its folder first
    spec = importlib.util.spec_from_file_location("semi_supervised_speed", ROOT / "benchmarks" /
                                                  "semi_supervised_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys.modules["harness"], "RESULTS", tmp_path)
    path = module.main(["--classes", "10", "12", "--estimators", "gumbel-softmax", "--repeats", "1", "--rounds", "1",
                        "--data-dir", str(MNIST)])
    rows = [line for line in path.read_text().splitlines() if line.startswith("| 1")]
    assert [row.split(" | ")[:2] for row in rows] == [["| 10", "gumbel-softmax"], ["| 12", "gumbel-softmax"]]


def test_the_latent_rows_take_the_classes_in_turn_and_share_z_within_each_run_of_k():
    model = tiny(classes=12)
    latent = model.latent(30, sg.Generator(3)).numpy()
    z, y = latent[:, :3], latent[:, 3:]
    assert y.argmax(1).tolist() == [i % 12 for i in range(30)] and y.sum(1).tolist() == [1.0] * 30
    assert all(np.array_equal(z[i], z[12 * (i // 12)]) for i in range(30))
    assert not np.array_equal(z[0], z[12]) and not np.array_equal(z[12], z[24])
