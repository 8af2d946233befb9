"""Metrics: the Fréchet distance against closed forms, the classifier score, class histogram and
KL to uniform on constructed probability tables, the toy mode-coverage metrics on constructed
point sets, the classifier's code path (train, cache, load) on a tiny MNIST subset with its
progress and test accuracy, and the per-model metric reports on real data."""
import io
import math
import pathlib
import re

import numpy as np
import pytest

import scratchgen as sg
from scratchgen.data import mnist
from scratchgen.data.toy import EIGHT_GAUSSIANS, TWENTY_FIVE_GAUSSIANS
from scratchgen.metrics import (LeNet, Recipe, class_histogram, classifier_cache_dir, classifier_score, features,
                                feature_statistics, fid_from_features, frechet_distance, image_sample_metrics,
                                kl_to_uniform, load_classifier, mode_coverage, nearest_modes, probabilities,
                                toy_sample_metrics, train_classifier)
from scratchgen.metrics import classifier as classifier_module

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def random_spd(rng, dims):
    a = rng.standard_normal((dims, dims))
    return a @ a.T + 0.1 * np.eye(dims)


# ---- Fréchet distance ------------------------------------------------------------------------
def test_frechet_distance_of_diagonal_gaussians_is_the_closed_form():
    # commuting covariances: Tr((S1 S2)^(1/2)) = sum sqrt(a_i b_i), so d^2 = |dmu|^2 + sum (sqrt a_i - sqrt b_i)^2
    mean1, mean2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = 1 + 0 + 4 + (1 - 3) ** 2 + (2 - 1) ** 2 + 0
    assert frechet_distance(mean1, np.diag(a), mean2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


def test_frechet_distance_of_one_dimensional_gaussians():
    # d^2 = (m1 - m2)^2 + (s1 - s2)^2 in one dimension
    assert frechet_distance([0.5], [[4.0]], [-1.5], [[0.25]]) == pytest.approx(4 + (2 - 0.5) ** 2)


def test_frechet_distance_of_general_gaussians_matches_the_eigenvalues_of_s1_s2():
    rng = np.random.default_rng(0)
    mean1, mean2 = rng.standard_normal(6), rng.standard_normal(6)
    cov1, cov2 = random_spd(rng, 6), random_spd(rng, 6)
    # an independent route: S1 S2 is diagonalisable with positive eigenvalues; Tr sqrt = sum sqrt(eig)
    trace_sqrt = np.sqrt(np.linalg.eigvals(cov1 @ cov2).real).sum()
    expected = np.sum((mean1 - mean2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * trace_sqrt
    assert frechet_distance(mean1, cov1, mean2, cov2) == pytest.approx(expected, rel=1e-10)
    assert frechet_distance(mean2, cov2, mean1, cov1) == pytest.approx(expected, rel=1e-10)
    assert frechet_distance(mean1, cov1, mean1, cov1) == pytest.approx(0, abs=1e-9)


def test_frechet_distance_is_unchanged_by_a_common_rotation():
    rng = np.random.default_rng(1)
    rotation, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    mean1, mean2, cov1, cov2 = rng.standard_normal(4), rng.standard_normal(4), random_spd(rng, 4), random_spd(rng, 4)
    rotated = frechet_distance(rotation @ mean1, rotation @ cov1 @ rotation.T,
                               rotation @ mean2, rotation @ cov2 @ rotation.T)
    assert rotated == pytest.approx(frechet_distance(mean1, cov1, mean2, cov2), rel=1e-9)


def test_frechet_distance_handles_singular_covariances():
    # rank-1 covariances along different axes: sqrt(S1) S2 sqrt(S1) = 0, so d^2 = Tr S1 + Tr S2
    assert frechet_distance([0, 0], [[1, 0], [0, 0]], [0, 0], [[0, 0], [0, 2]]) == pytest.approx(3)


def test_fid_from_features_converges_to_the_closed_form():
    rng = np.random.default_rng(2)
    cov1, cov2 = random_spd(rng, 3), random_spd(rng, 3)
    mean1, mean2 = np.zeros(3), np.array([1.0, 0.0, -1.0])
    samples1 = rng.multivariate_normal(mean1, cov1, 200_000)
    samples2 = rng.multivariate_normal(mean2, cov2, 200_000)
    assert fid_from_features(samples1, samples2) == pytest.approx(frechet_distance(mean1, cov1, mean2, cov2), rel=0.02)
    assert fid_from_features(sg.tensor(samples1[:100]), samples1[:100]) == pytest.approx(0, abs=1e-9)


def test_feature_statistics_is_the_unbiased_mean_and_covariance():
    rows = np.array([[1.0, 2.0], [3.0, 0.0], [5.0, 4.0]])
    mean, cov = feature_statistics(rows)
    np.testing.assert_allclose(mean, [3.0, 2.0])
    np.testing.assert_allclose(cov, [[4.0, 2.0], [2.0, 4.0]])


def test_frechet_distance_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"frechet_distance: cov2 must have shape \(2, 2\)"):
        frechet_distance([0, 0], np.eye(2), [0, 0], np.eye(3))
    with pytest.raises(ValueError, match="feature_statistics: features must be"):
        feature_statistics(np.zeros((1, 5)))


# ---- classifier score, class histogram, KL to uniform -------------------------------------
def test_classifier_score_of_confident_balanced_predictions_is_the_number_of_classes():
    assert classifier_score(np.tile(np.eye(10), (3, 1))) == pytest.approx(10)


@pytest.mark.parametrize("table", [np.tile([[0.0, 1.0, 0.0]], (5, 1)), np.full((4, 3), 1 / 3)],
                         ids=["one class", "uniform rows"])
def test_classifier_score_without_information_is_one(table):
    assert classifier_score(table) == pytest.approx(1)


def test_classifier_score_of_a_small_table():
    # p(y) = (3/4, 1/4); KL rows: log(4/3) and 1/2 log(2/3) + 1/2 log 2 = 1/2 log(4/3): exp(3/4 log(4/3))
    assert classifier_score([[1.0, 0.0], [0.5, 0.5]]) == pytest.approx((4 / 3) ** 0.75)


def test_classifier_score_over_splits_gives_mean_and_spread():
    table = np.concatenate([np.eye(4), np.tile([[1.0, 0.0, 0.0, 0.0]], (4, 1))])  # first half scores 4, second 1
    mean, std = classifier_score(table, splits=2)
    assert (mean, std) == (pytest.approx(2.5), pytest.approx(1.5))
    with pytest.raises(ValueError, match=r"classifier_score: splits must be an int in \[1, 8\]"):
        classifier_score(table, splits=9)


def test_classifier_score_rejects_rows_that_are_not_distributions():
    with pytest.raises(ValueError, match="classifier_score: each row of probabilities must be non-negative"):
        classifier_score([[0.5, 0.6]])


def test_class_histogram_from_labels_and_from_probabilities():
    np.testing.assert_allclose(class_histogram(np.array([0, 2, 2, 3]), num_classes=4), [0.25, 0, 0.5, 0.25])
    table = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    np.testing.assert_allclose(class_histogram(sg.tensor(table), num_classes=2), [1 / 3, 2 / 3])
    with pytest.raises(ValueError, match=r"class_histogram: labels must be in \[0, 3\)"):
        class_histogram(np.array([0, 3]), num_classes=3)


def test_kl_to_uniform():
    assert kl_to_uniform(np.full(10, 0.1)) == pytest.approx(0)
    assert kl_to_uniform(np.eye(10)[3]) == pytest.approx(math.log(10))
    assert kl_to_uniform([0.5, 0.5, 0.0, 0.0]) == pytest.approx(math.log(2))
    with pytest.raises(ValueError, match="kl_to_uniform: histogram must be a vector of non-negative fractions"):
        kl_to_uniform([0.5, 0.6])


# ---- toy mode coverage ----------------------------------------------------------------------
def test_samples_at_every_centre_cover_every_mode():
    result = mode_coverage(TWENTY_FIVE_GAUSSIANS.centers, TWENTY_FIVE_GAUSSIANS.centers, TWENTY_FIVE_GAUSSIANS.std)
    assert result == {"modes_covered": 25, "num_modes": 25, "high_quality_fraction": 1.0}


def test_a_collapsed_generator_covers_one_mode():
    centers, std = EIGHT_GAUSSIANS.centers, EIGHT_GAUSSIANS.std
    points = centers[2] + std * np.random.default_rng(0).uniform(-1, 1, (500, 2))  # within sqrt(2) std
    assert mode_coverage(points, centers, std) == {"modes_covered": 1, "num_modes": 8, "high_quality_fraction": 1.0}


def test_high_quality_means_within_three_standard_deviations_of_the_nearest_mode():
    centers, std = np.array([[0.0, 0.0], [10.0, 0.0]]), 0.5
    points = np.array([[2.9 * std, 0.0], [0.0, -3.1 * std], [10.0, 1.0], [5.0, 5.0]])
    result = mode_coverage(points, centers, std)
    assert result == {"modes_covered": 2, "num_modes": 2, "high_quality_fraction": 0.5}
    assert mode_coverage(points, centers, std, min_samples=2)["modes_covered"] == 0
    modes, distances = nearest_modes(points, centers)
    np.testing.assert_array_equal(modes, [0, 0, 1, 0])
    np.testing.assert_allclose(distances[:3], [1.45, 1.55, 1.0])


def test_toy_metrics_reject_points_that_are_not_2d():
    with pytest.raises(ValueError, match=r"nearest_modes: points must be 2-D points shaped \(N, 2\)"):
        mode_coverage(np.zeros((3, 3)), EIGHT_GAUSSIANS.centers, EIGHT_GAUSSIANS.std)
    with pytest.raises(ValueError, match="mode_coverage: std must be a positive number"):
        mode_coverage(np.zeros((3, 2)), EIGHT_GAUSSIANS.centers, 0.0)


# ---- the classifier, on a tiny subset ------------------------------------------------------
TINY = Recipe(epochs=2, batch_size=32, train_size=320, test_size=400)


@pytest.fixture
def mnist_from_shared_folder(tmp_path, monkeypatch):
    """MNIST through $SCRATCHGEN_DATA, as a user would point at it; a fresh cache folder."""
    monkeypatch.setenv(mnist.ENV_VAR, str(SHARED_MNIST))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    classifier_module._load_or_train.cache_clear()
    yield
    classifier_module._load_or_train.cache_clear()


def test_tiny_classifier_trains_caches_and_reloads(mnist_from_shared_folder, tmp_path):
    trained = load_classifier(recipe=TINY, min_accuracy=0.0)
    path = classifier_cache_dir() / TINY.file_name()
    assert path.is_file() and classifier_cache_dir() == tmp_path / "cache" / "scratchgen" / "classifiers"
    assert trained.test_accuracy > 0.5  # 320 images, 20 steps: far above chance (0.1)
    assert trained.test_feature_mean.shape == (LeNet.feature_dim,)
    assert trained.test_feature_cov.shape == (LeNet.feature_dim, LeNet.feature_dim)

    images = mnist.add_channel_dim(mnist.to_unit_range(mnist.load_mnist("test").images[:50]))
    probs = probabilities(trained.network, images)
    assert probs.shape == (50, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)

    classifier_module._load_or_train.cache_clear()  # as a new process: from the file
    reloaded = load_classifier(recipe=TINY, min_accuracy=0.0)
    assert reloaded.test_accuracy == trained.test_accuracy
    np.testing.assert_array_equal(features(reloaded.network, images), features(trained.network, images))
    np.testing.assert_array_equal(reloaded.test_feature_cov, trained.test_feature_cov)
    with pytest.raises(RuntimeError, match="load_classifier: the classifier in .* has test accuracy"):
        load_classifier(recipe=TINY, min_accuracy=0.999)


def test_classifier_training_is_deterministic_and_leaves_the_global_generator_alone(mnist_from_shared_folder):
    sg.manual_seed(123)
    before = sg.get_rng_state()
    recipe = Recipe(epochs=1, batch_size=32, train_size=64, test_size=100)
    first, second = train_classifier(recipe), train_classifier(recipe)
    assert sg.get_rng_state() == before
    for (name, a), (_, b) in zip(first.network.state_dict().items(), second.network.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


# ---- the classifier's progress and test accuracy ------------------------------------------------
def shown_counts(text, desc):
    return [int(count) for count in re.findall(rf"^{desc} (\d+)/\d+ \[", text, re.MULTILINE)]


def test_classifier_training_shows_its_progress_then_its_test_accuracy(mnist_from_shared_folder, clock, monkeypatch):
    real_step = classifier_module.Adam.step

    def slow_step(self):  # each training step takes 3 s
        clock.advance(3.0)
        return real_step(self)
    monkeypatch.setattr(classifier_module.Adam, "step", slow_step)
    log = io.StringIO()
    trained = train_classifier(TINY, progress=log)  # 2 epochs of 10 steps
    text = log.getvalue()
    # a line after 5 s, then every 10% (2 steps) but at most one per 5 s: every other step
    assert shown_counts(text, "classifier training") == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    assert re.search(r"^classifier training 12/20 \[############........\] epoch 2/2 loss \d\.\d{4} \| "
                     r"0m36s elapsed \| 0\.33 steps/s \| 0m24s left$", text, re.MULTILINE)
    assert text.splitlines()[-1].startswith(
        f"scratchgen: the classifier's test accuracy is {trained.test_accuracy:.2%} (400 MNIST test images; trained in")
    assert "\r" not in text


def test_the_classifiers_test_accuracy_is_reported_cached_and_reported_again(mnist_from_shared_folder, capsys):
    log = io.StringIO()
    trained = load_classifier(recipe=TINY, min_accuracy=0.0, progress=log)
    path = classifier_cache_dir() / TINY.file_name()
    assert log.getvalue().startswith(f"scratchgen: training the MNIST classifier for the metrics once ({TINY}); "
                                     f"it is cached in {path}\n")
    assert f"scratchgen: the classifier's test accuracy is {trained.test_accuracy:.2%} (400 MNIST" in log.getvalue()
    assert sg.load(path)["test_accuracy"] == trained.test_accuracy

    classifier_module._load_or_train.cache_clear()  # as a new process: from the file, with nothing to show
    reloaded = load_classifier(recipe=TINY, min_accuracy=0.0)
    assert type(reloaded.test_accuracy) is float and reloaded.test_accuracy == trained.test_accuracy
    images = mnist.add_channel_dim(mnist.to_unit_range(mnist.load_mnist("test").images[:20]))
    assert image_sample_metrics(images, reloaded)["classifier_test_accuracy"] == trained.test_accuracy
    assert capsys.readouterr().err == ""


def test_features_of_many_images_show_progress_in_a_log_on_a_terminal_or_nowhere(clock, capsys):
    sg.manual_seed(0)
    network = LeNet()
    network.features.register_forward_pre_hook(lambda module, args: clock.advance(2.0))  # 2 s a batch
    images = np.zeros((600, 1, 28, 28), np.float32)
    log = io.StringIO()
    features(network, images, batch_size=50, progress=log)
    assert shown_counts(log.getvalue(), "LeNet features") == [150, 300, 450, 600]
    assert log.getvalue().splitlines()[0] == ("LeNet features 150/600 [#####...............] | 0m06s elapsed | "
                                              "25.0 images/s | 0m18s left")

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    terminal = Terminal()
    probabilities(network, images, batch_size=50, progress=terminal)
    assert terminal.getvalue().startswith("\rLeNet features 50/600 [#") and terminal.getvalue().count("\r") == 12
    assert terminal.getvalue().endswith("\033[K\n") and terminal.getvalue().count("\n") == 1

    features(network, images, batch_size=50, progress=False)
    assert capsys.readouterr().err == ""
    features(network, images, batch_size=50)  # the default: stderr
    assert shown_counts(capsys.readouterr().err, "LeNet features") == [150, 300, 450, 600]


def test_classifier_inputs_are_checked():
    network = LeNet()
    with pytest.raises(ValueError, match=r"features: images must hold pixels in \[0, 1\]"):
        features(network, -np.ones((2, 1, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"probabilities: images must be N >= 1 MNIST images shaped"):
        probabilities(network, np.zeros((2, 3, 28, 28), np.float32))
    assert features(network, np.zeros((3, 784), np.float32)).shape == (3, 500)


# ---- the metrics of a model's samples ------------------------------------------------------
def test_image_sample_metrics_of_the_test_images_themselves(mnist_from_shared_folder):
    recipe = Recipe(epochs=1, batch_size=32, train_size=320, test_size=300)
    trained = load_classifier(recipe=recipe, min_accuracy=0.0)
    test_images = mnist.add_channel_dim(mnist.to_unit_range(mnist.load_mnist("test").images[:600]))
    metrics = image_sample_metrics(sg.tensor(test_images[:300]), trained)
    assert metrics["fid_lenet"] == pytest.approx(0, abs=1e-6)  # the very images of the reference statistics
    assert len(metrics["class_histogram"]) == 10 and sum(metrics["class_histogram"]) == pytest.approx(1)
    assert metrics["kl_to_uniform"] == pytest.approx(kl_to_uniform(metrics["class_histogram"]))
    assert 1 < metrics["classifier_score"] <= 10
    other_digits = image_sample_metrics(test_images[300:], trained)["fid_lenet"]
    noise = np.random.default_rng(0).uniform(size=(300, 1, 28, 28)).astype(np.float32)
    assert image_sample_metrics(noise, trained)["fid_lenet"] > 3 * other_digits > 0


def test_toy_sample_metrics_of_the_mixtures_own_samples():
    # a 2-D Gaussian lies within 3 standard deviations with probability 1 - exp(-9/2) = 0.989
    points = EIGHT_GAUSSIANS.sample(20_000, sg.Generator(0))
    metrics = toy_sample_metrics(points, "8gaussians")
    assert metrics["modes_covered"] == metrics["num_modes"] == 8
    assert metrics["high_quality_fraction"] == pytest.approx(1 - math.exp(-4.5), abs=0.003)
    with pytest.raises(ValueError, match="toy_sample_metrics: swissroll has no modes to cover"):
        toy_sample_metrics(points, "swissroll")
