"""PixelCNN (models/pixelcnn.py, van den Oord et al. 2016): the network is autoregressive in raster
order, checked by its Jacobian; p(x) sums to 1 over every binary image (on 2 x 2 images); samples
drawn pixel by pixel follow it; a short run on real binarized MNIST beats independent Bernoulli
pixels; train, sample and eval through the CLI. (Resuming bit for bit: tests/test_train_resume.py.)"""
import io
import itertools
import json
import math
import pathlib

import numpy as np

import scratchgen as sg
from scratchgen import cli, train
from scratchgen.data import load_binarized_mnist
from scratchgen.models import model_class
from scratchgen.models.pixelcnn import pixelcnn_network
from scratchgen.train import plots
from scratchgen.train.config import resolve_config
from test_made import independent_pixels_nll
from test_masked_conv import depends_on, raster_before

SHARED_BINARIZED = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binarized_mnist"


def test_each_logit_depends_only_on_the_pixels_before_it():
    sg.manual_seed(0)
    network = pixelcnn_network(h=4, residual_blocks=2).double()
    depends = depends_on(network, np.random.default_rng(0).standard_normal((1, 1, 5, 6)))
    assert not np.any(depends & ~raster_before(5, 6, strictly=True))
    assert depends[4, 5, 4, 4] and depends[4, 5, 3, 5]  # and on its neighbours to the left and above


def tiny_pixelcnn(height, width, **overrides):
    cls = model_class("pixelcnn")
    config = resolve_config(cls, "binarized-mnist", {"h": 2, "residual_blocks": 1, **overrides}, seed=0)
    config["data_shape"] = [1, height, width]
    sg.manual_seed(0)
    return cls(config)


def every_binary_image(height, width):
    return sg.tensor(np.array(list(itertools.product([0.0, 1.0], repeat=height * width)),
                              np.float32).reshape(-1, 1, height, width))


def test_probabilities_of_every_binary_image_sum_to_one():
    model = tiny_pixelcnn(2, 2)
    model.network.double()
    with sg.no_grad():
        total = model.log_prob(every_binary_image(2, 2).double()).exp().sum().item()
    assert math.isclose(total, 1.0, rel_tol=1e-12)


def test_samples_drawn_pixel_by_pixel_follow_the_model_s_probabilities():
    assert_samples_follow_the_probabilities(tiny_pixelcnn(2, 2))


def assert_samples_follow_the_probabilities(model):
    """4000 samples of a model of 2 x 2 images: each image's count within 5 sigma of its probability's
    (also tests/test_pixelrnn.py)."""
    images = every_binary_image(2, 2)
    with sg.no_grad():
        probabilities = model.log_prob(images).exp().numpy()
        samples = model.generate(4000, sg.Generator(1)).numpy().reshape(4000, 4)
    counts = np.array([np.all(samples == image, axis=1).sum() for image in images.numpy().reshape(16, 4)])
    expected = 4000 * probabilities
    assert np.all(np.abs(counts - expected) <= 5 * np.sqrt(expected) + 1), (counts, expected)


def test_a_short_run_on_binarized_mnist_beats_independent_pixels_by_far(tmp_path, monkeypatch):
    monkeypatch.setattr(plots, "available", lambda: False)  # no sample grid: 784 evaluations, not checked here
    baseline = independent_pixels_nll(load_binarized_mnist("train", SHARED_BINARIZED).astype(np.float64),
                                      load_binarized_mnist("test", SHARED_BINARIZED).astype(np.float64))
    run, outcome = train.start("pixelcnn", steps=60, out=tmp_path / "pixelcnn", data_dir=SHARED_BINARIZED,
                               stream=io.StringIO(), overrides=dict(h=8, residual_blocks=2, sample_every=1000))
    assert outcome == "finished"
    results = train.evaluate(run.path, n_test=500, progress=False)
    assert results["test_nll"] < baseline - 40, (results, baseline)


def test_train_sample_and_eval_through_the_cli(tmp_path):
    run_dir = tmp_path / "pixelcnn"
    assert cli.main(["train", "pixelcnn", "--steps", "2", "--batch-size", "4", "--data-dir", str(SHARED_BINARIZED),
                     "--out", str(run_dir), "--set", "h=2", "--set", "residual_blocks=1", "--set",
                     "sample_every=1000"]) == 0
    assert cli.main(["sample", str(run_dir), "--n", "2", "--out", str(tmp_path / "s.npy")]) == 0
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (2, 1, 28, 28) and set(np.unique(samples)) <= {0.0, 1.0}
    assert cli.main(["eval", str(run_dir), "--n-test", "20"]) == 0
    assert json.loads((run_dir / "eval.json").read_text())["n_test"] == 20
