"""`scratchgen explore`: each picture checked for what it claims, on models trained for seconds.

- interpolation: a path's end points decode to the chosen samples of `scratchgen sample`
  (DCGAN, VAE, conditional DCGAN), on lines or great circles;
- arithmetic: the handwriting measures (metrics.morphology) on drawn shapes, the expression's
  parsing, and on a briefly trained VAE the result that the classifier sees as the expected
  digit more often than chance, thicker where the expression adds thickness;
- manifold: on a 2-D VAE trained briefly, the test codes tell the digit (5-NN) far above chance,
  and the grid decodes the Gaussian's quantiles;
- traversal: column c of a conditional model's picture is that z drawn as class c;
- the command: its pictures, its defaults, and bad input in one line with status 2.
"""
import io
import math
import pathlib

import numpy
import pytest

from scratchgen import metrics, train
from scratchgen.cli import main
from scratchgen.data import add_channel_dim, load_mnist, to_unit_range
from scratchgen.metrics import slant, thickness
from scratchgen.train import explore as ex
from scratchgen.train.config import UsageError

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
TINY_GAN = dict(width=8, batch_size=16, z_dim=8)
TINY_VAE = dict(hidden=[16], batch_size=16, z_dim=4)


def tiny_run(folder, model, steps=2, dataset=None, **overrides):
    run, outcome = train.start(model, dataset, steps=steps, out=folder / model, data_dir=SHARED_MNIST,
                               stream=io.StringIO(), overrides=overrides)
    assert outcome == "finished"
    return run.path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Runs of two steps: a DCGAN, a VAE, a conditional DCGAN and a GAN on 8 Gaussians."""
    folder = tmp_path_factory.mktemp("runs")
    return {"dcgan": tiny_run(folder, "dcgan", **TINY_GAN), "vae": tiny_run(folder, "vae", **TINY_VAE),
            "cdcgan": tiny_run(folder, "cdcgan", **TINY_GAN),
            "gan": tiny_run(folder, "gan", dataset="8gaussians", hidden=[16], batch_size=16)}


def loaded(run_dir):
    return train.load_trained(run_dir, stream=io.StringIO())[2]


def sampled(run_dir, tmp_path, n=16, label=None, seed=None):
    """The images of `scratchgen sample RUN_DIR --n n [--class label] [--seed seed] --out x.npy`."""
    return numpy.load(train.sample_to_file(run_dir, n, label, tmp_path / "samples.npy", seed))


# ---- interpolation ------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["dcgan", "vae", "cdcgan"])
@pytest.mark.parametrize("spherical", [False, True])
def test_an_interpolations_end_points_decode_to_the_chosen_samples(runs, tmp_path, model, spherical):
    label = 4 if model == "cdcgan" else None  # a conditional model's path keeps one class
    path, found = ex.explore(runs[model], "interpolate", tmp_path / "path.npy", between=(3, 12),
                             spherical=spherical, label=label, seed=5)
    images = numpy.load(path)
    assert images.shape == (1, 8, 1, 28, 28)
    samples = sampled(runs[model], tmp_path, label=label, seed=5)
    numpy.testing.assert_allclose(images[0, 0], samples[3], atol=1e-5)
    numpy.testing.assert_allclose(images[0, -1], samples[12], atol=1e-5)
    codes = found.codes[0]  # and between them, each image is its point of the path decoded
    model = loaded(runs[model])
    labels = None if label is None else model.sample_labels(1, label)
    numpy.testing.assert_allclose(images[0, 3], model.decode(codes[3:4], labels)[0], atol=1e-5)
    assert not numpy.allclose(codes[3], codes[0]) and not numpy.allclose(codes[3], codes[-1])
    if spherical:  # a great circle keeps the norm of Gaussian codes that a line's middle loses (White 2016)
        line = ex.lerp(codes[0], codes[-1], 8)
        assert numpy.linalg.norm(codes[4]) > numpy.linalg.norm(line[4])
        numpy.testing.assert_allclose(codes, ex.slerp(codes[0], codes[-1], 8), atol=1e-6)
    else:  # on the line: equal steps
        numpy.testing.assert_allclose(numpy.diff(codes, axis=0), numpy.diff(codes, axis=0)[:1].repeat(7, 0), atol=1e-5)


def test_seeded_rows_join_samples_2r_and_2r_plus_1(runs, tmp_path):
    path, found = ex.explore(runs["dcgan"], "interpolate", tmp_path / "rows.npy", rows=3, steps=5)
    images, samples = numpy.load(path), sampled(runs["dcgan"], tmp_path)  # the run's seed, as sample's default
    assert images.shape == (3, 5, 1, 28, 28) and found.ends == [(0, 1), (2, 3), (4, 5)]
    for row in range(3):
        numpy.testing.assert_allclose(images[row, 0], samples[2 * row], atol=1e-5)
        numpy.testing.assert_allclose(images[row, -1], samples[2 * row + 1], atol=1e-5)


def test_a_conditional_path_keeps_the_class_of_its_samples(runs, tmp_path):
    model = loaded(runs["cdcgan"])
    found = ex.interpolate(model, steps=4, between=(3, 13))  # drawn as classes 3 and 3 (i % 10)
    samples = sampled(runs["cdcgan"], tmp_path, seed=0)
    assert list(found.labels) == [3]
    numpy.testing.assert_allclose(found.images[0, -1], samples[13], atol=1e-5)
    with pytest.raises(UsageError, match="samples 3 and 5 are of classes 3 and 5.*give --class C"):
        ex.interpolate(model, between=(3, 5))
    seeded = ex.interpolate(model, steps=3, rows=12)
    assert list(seeded.labels) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


def test_interpolation_of_a_toy_model_draws_its_paths_over_the_data(runs, tmp_path):
    path, found = ex.explore(runs["gan"], "interpolate", tmp_path / "paths.png", rows=3, steps=6)
    assert found.images.shape == (3, 6, 2) and path.read_bytes().startswith(b"\x89PNG")


# ---- the handwriting measures --------------------------------------------------------------------
def bars(width, shear=0.0, length=20):
    """A bar `width` pixels wide and `length` rows long, its rows shifted right by `shear` per row up."""
    image = numpy.zeros((1, 1, 28, 28), numpy.float32)
    for row in range(4, 4 + length):
        left = 12 + int(round(shear * (4 + length - 1 - row)))
        image[0, 0, row, left:left + width] = 1
    return image


@pytest.mark.parametrize("width", [1, 2, 3, 5])
def test_thickness_of_a_bar_is_its_width(width):
    assert thickness(bars(width)) == pytest.approx([width])
    assert slant(bars(width)) == pytest.approx([0.0], abs=1e-9)


@pytest.mark.parametrize("shear", [0.2, 1 / 3, 0.5])
def test_slant_of_a_sheared_bar_is_its_angle_and_its_mirror_leans_the_other_way(shear):
    image = bars(3, shear)
    assert slant(image) == pytest.approx([math.degrees(math.atan(shear))], abs=1.5)
    assert slant(image[..., ::-1]) == pytest.approx(-slant(image))


def test_thickening_digits_raises_their_thickness():
    images = add_channel_dim(to_unit_range(load_mnist("test", data_dir=SHARED_MNIST).images[:200]))
    padded = numpy.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)))
    dilated = numpy.max([padded[:, :, 1 + dy:29 + dy, 1 + dx:29 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                         if abs(dx) + abs(dy) <= 1], axis=0)  # one step of 4-neighbour dilation
    assert (thickness(dilated) > thickness(images)).mean() > 0.95
    assert 1.0 < numpy.median(thickness(images)) < 3.5  # MNIST strokes are about 2 pixels wide


def test_the_measures_of_an_empty_image_are_zero_and_bad_input_is_named():
    assert list(thickness(numpy.zeros((2, 784)))) == [0, 0] and list(slant(numpy.zeros((1, 28, 28)))) == [0]
    with pytest.raises(ValueError, match="thickness: images must be"):
        thickness(numpy.zeros((2, 10)))
    with pytest.raises(ValueError, match=r"slant: images must hold pixels in \[0, 1\]"):
        slant(numpy.full((1, 784), 2.0))


# ---- arithmetic -------------------------------------------------------------------------------
def test_expressions_parse_into_signed_groups_and_their_expected_outcome():
    terms = ex.parse_expression("thick 7 - thin  7 + thin 1")
    assert [(sign, group.digit, group.words) for sign, group in terms] == [
        (1, 7, ("thick",)), (-1, 7, ("thin",)), (1, 1, ("thin",))]
    assert ex.expected_outcome(terms) == (1, {"thickness": 1})
    assert ex.expected_outcome(ex.parse_expression("slanted 4 - upright 4 + upright 9")) == (9, {"slant": 1})
    assert ex.expected_outcome(ex.parse_expression("3 + 5"))[0] is None  # two digits left: no one class
    assert ex.expected_outcome(ex.parse_expression("thick - thin"))[0] is None


@pytest.mark.parametrize("expression, message", [
    ("", "needs an expression"), ("7 7", "names two digits"), ("thick thin 1", "says 'thick' and 'thin'"),
    ("fat 7", "'fat' is not a digit 0-9 or one of thick, thin, slanted, upright"), ("7 - + 1", "a group is empty"),
    ("12", "'12' is not a digit")])
def test_bad_expressions_are_named(expression, message):
    with pytest.raises(UsageError, match=message):
        ex.parse_expression(expression)


@pytest.fixture(scope="module")
def classifier():
    """A LeNet trained for seconds (one pass over 3,000 images): the arithmetic's judge."""
    trained = metrics.train_classifier(metrics.Recipe(epochs=1, train_size=3000, test_size=500), SHARED_MNIST,
                                       progress=False)
    assert trained.test_accuracy > 0.8
    return trained


@pytest.fixture(scope="module")
def vae(tmp_path_factory):
    """A VAE with a 2-D latent trained for a few seconds."""
    return tiny_run(tmp_path_factory.mktemp("vae2"), "vae", steps=600, z_dim=2, log_every=100, sample_every=600,
                    checkpoint_every=600)


def test_the_arithmetics_result_is_seen_as_the_expected_digit_more_often_than_chance(vae, classifier, tmp_path):
    path, found = ex.explore(vae, "arithmetic", tmp_path / "arithmetic.png", classifier=classifier,
                             expression="thick 7 - thin 7 + thin 0", rows=6, pool=2000)
    assert path.read_bytes().startswith(b"\x89PNG") and "results as a 0" in found.summary()[1]
    assert found.expected_class == 0 and found.directions == {"thickness": 1}
    assert found.images.shape == (6, 5, 1, 28, 28) and found.exemplar_images.shape == (6, 3, 3, 1, 28, 28)
    assert found.seen_as_expected() > 0.3  # chance: 0.1
    # the groups are what they say: the exemplars are of their digit, thick above thin
    pool = found.pool
    assert (pool.classes[found.exemplars[:, :2]] == 7).all() and (pool.classes[found.exemplars[:, 2]] == 0).all()
    assert found.exemplar_thickness[:, 0].min() > found.exemplar_thickness[:, 1].max()
    # the result is thicker than the thin 0s it started from
    assert found.thickness.mean() > found.exemplar_thickness[:, 2].mean()
    # the pool is the samples of `scratchgen sample`, classified by the classifier
    model = loaded(vae)
    numpy.testing.assert_allclose(pool.images[:16], sampled(vae, tmp_path), atol=1e-5)
    table = metrics.probabilities(classifier.network, pool.images, progress=False)
    assert (pool.classes == numpy.where(table.max(1) >= ex.CONFIDENT, table.argmax(1), -1)).all()
    # the result is the signed sum of the groups' mean codes, and each mean code is decoded
    means = numpy.array([[ex.average_latent(pool.codes[chosen]) for chosen in row] for row in found.exemplars])
    numpy.testing.assert_allclose(found.codes[:, 0], means[:, 0] - means[:, 1] + means[:, 2], atol=1e-5)
    numpy.testing.assert_allclose(found.mean_images, model.decode(means.reshape(-1, 2)).reshape(6, 3, 1, 28, 28),
                                  atol=1e-6)
    noise = found.codes[:, 1:] - found.codes[:, :1]  # the variations: uniform noise of at most 0.25
    assert 0 < numpy.abs(noise).max() <= 0.25


def test_a_group_the_pool_lacks_is_refused(vae, classifier):
    with pytest.raises(UsageError, match="only .* of the 20 samples are 'thick 1', fewer than --k 3: draw a larger"):
        ex.arithmetic(loaded(vae), "thick 1 - thick 7 + thin 1", classifier.network, pool=20)


# ---- the 2-D manifold ---------------------------------------------------------------------------
def test_the_manifolds_codes_separate_the_digits_far_better_than_chance(vae):
    model = loaded(vae)
    _, config, _, _ = train.load_trained(vae, stream=io.StringIO())
    found = ex.manifold_of_run(model, config, n=5, n_test=2000)
    assert found.codes.shape == (2000, 2) and found.images.shape == (5, 5, 1, 28, 28)
    assert found.knn_accuracy > 0.4  # chance: 0.1
    # and a centroid classifier, the simplest there is, far above chance too
    centroids = numpy.array([found.codes[found.labels == d].mean(axis=0) for d in range(10)])
    nearest = numpy.argmin(((found.codes[:, None] - centroids[None]) ** 2).sum(-1), axis=1)
    assert (nearest == found.labels).mean() > 0.3
    # the grid: columns z1 and rows z2 (top down) over the quantiles, each tile that z decoded
    values = ex.gaussian_quantiles(5)
    numpy.testing.assert_allclose(values, [-1.2816, -0.5244, 0.0, 0.5244, 1.2816], atol=1e-4)
    numpy.testing.assert_allclose(found.images[0, 4], model.decode([[values[4], values[4]]])[0], atol=1e-6)
    numpy.testing.assert_allclose(found.images[4, 0], model.decode([[values[0], values[0]]])[0], atol=1e-6)


def test_knn_accuracy_on_separated_and_on_random_codes():
    rng = numpy.random.default_rng(0)
    labels = rng.integers(0, 10, 1000)
    assert ex.knn_accuracy(labels[:, None] * 10.0 + rng.normal(size=(1000, 2)), labels) == 1.0
    assert ex.knn_accuracy(rng.normal(size=(1000, 2)), labels) < 0.2


# ---- traversals -------------------------------------------------------------------------------
def test_each_column_of_a_label_traversal_is_that_class_drawn_from_the_rows_z(runs, tmp_path):
    (found,) = ex.traverse(loaded(runs["cdcgan"]), rows=4, seed=2)
    assert found.name == "class" and found.values == list(range(10)) and found.images.shape == (4, 10, 1, 28, 28)
    for label in (0, 7):
        numpy.testing.assert_allclose(found.images[:, label], sampled(runs["cdcgan"], tmp_path, 4, label, 2)[:4],
                                      atol=1e-5)


# ---- the command --------------------------------------------------------------------------------
@pytest.mark.parametrize("model, argv", [("dcgan", ["--interpolate", "--slerp"]), ("vae", ["--interpolate"]),
                                         ("cdcgan", ["--traverse", "--rows", "3"]),
                                         ("cdcgan", ["--interpolate", "--class", "2", "--between", "0,1"])])
def test_the_command_draws_each_picture(runs, model, argv, capsys):
    assert main(["explore", str(runs[model]), *argv]) == 0
    out = capsys.readouterr().out.splitlines()
    what = argv[0][2:]
    assert out[-1] == str(runs[model] / "explore" / f"{what}_step_000002.png")
    assert pathlib.Path(out[-1]).read_bytes().startswith(b"\x89PNG")


def test_the_manifold_command(vae, tmp_path, capsys):
    out = tmp_path / "m.png"
    assert main(["explore", str(vae), "--manifold", "--n", "6", "--n-test", "500", "--out", str(out)]) == 0
    assert "6x6 grid over the Gaussian's quantiles" in capsys.readouterr().out and out.is_file()


@pytest.mark.parametrize("model, argv, message", [
    ("dcgan", ["--manifold"], "--manifold needs a model with an encoder"),
    ("vae", ["--manifold"], "this vae has z_dim 4: train one with --set z_dim=2"),
    ("gan", ["--arithmetic", "thick 1 - thin 1 + thin 7"], "--arithmetic measures digits, but this model"),
    ("dcgan", ["--arithmetic", "7 + fat 1"], "'fat' is not a digit"),
    ("cdcgan", ["--arithmetic", "thick - thin"], "a conditional model decodes the result with a class"),
    ("dcgan", ["--traverse"], "--traverse walks the codes a model has besides z"),
    ("dcgan", ["--interpolate", "--class", "3"], "--class 3: this model is unconditional"),
    ("dcgan", ["--interpolate", "--n", "1"], "--n must be at least 2"),
    ("dcgan", ["--interpolate", "--between", "1,2,3"], "expected two sample indices A,B"),
    ("dcgan", ["--interpolate", "--between", "1,x"], "expected a non-negative integer"),
    ("dcgan", ["--manifold", "--slerp"], "--slerp cannot be given with --manifold"),
    ("dcgan", ["--traverse", "--k", "2"], "--k cannot be given with --traverse"),
    ("dcgan", ["--interpolate", "--between", "1,2", "--rows", "2"], "--rows cannot be given with --between"),
    ("dcgan", ["--interpolate", "--manifold"], "not allowed with argument"),
    ("dcgan", [], "one of the arguments --interpolate --arithmetic --manifold --traverse is required"),
    ("dcgan", ["--interpolate", "--out", "x.gif"], "--out must end in .png"),
    ("dcgan", ["--interpolate", "--out", "/no/such/folder/x.png"], "the folder /no/such/folder does not exist"),
])
def test_bad_input_gets_one_line_and_status_2(runs, model, argv, message, capsys):
    assert main(["explore", str(runs[model]), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_folder_that_is_not_a_run_gets_status_2(tmp_path, capsys):
    assert main(["explore", str(tmp_path), "--interpolate"]) == 2
    assert "is not a run folder" in capsys.readouterr().err


def test_models_give_the_latent_interface():
    """Every registered model with a latent code can be explored: latent(n, generator) and
    decode(z, labels). The autoregressive models and the agents have none (explore says so, exit status 2)."""
    from scratchgen.data.environments import ENVIRONMENTS
    from scratchgen.models import MODELS, model_class
    for name in sorted(set(MODELS) - {"made", "pixelcnn", "row-lstm", "diagonal-bilstm", "sbn", "cat-sbn"}):
        cls = model_class(name)
        if cls.datasets[0] in ENVIRONMENTS:
            continue
        assert callable(getattr(cls, "latent", None)) and callable(getattr(cls, "decode", None)), name


def test_a_bad_expression_is_reported_before_the_classifier_loads(runs, monkeypatch, capsys):
    """Training the metrics' classifier takes minutes when it is not cached: an expression that
    cannot run is refused first."""
    def load_classifier(*args, **kwargs):
        raise AssertionError("the classifier loaded before the expression was checked")
    monkeypatch.setattr(ex, "load_classifier", load_classifier)
    assert main(["explore", str(runs["cdcgan"]), "--arithmetic", "thick - thin"]) == 2
    assert "a conditional model decodes the result with a class" in capsys.readouterr().err
