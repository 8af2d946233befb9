"""The PixelRNNs (models/pixelrnn.py, van den Oord et al. 2016): `row-lstm` and `diagonal-bilstm`,
PixelCNN's model (models/pixelcnn.py: PixelModel) with spatial LSTM layers. Their networks are
autoregressive in raster order (checked by the Jacobian; the layers alone: test_pixel_rnn_layers.py);
p(x) sums to 1 over every binary image (2 x 2); samples drawn pixel by pixel follow it; a short run
on real binarized MNIST beats independent Bernoulli pixels by far; train, sample and eval through the
CLI. (Resuming bit for bit: tests/test_train_resume.py.)"""
import io
import json
import math

import numpy as np
import pytest

import scratchgen as sg
from scratchgen import cli, nn, train
from scratchgen.data import load_binarized_mnist
from scratchgen.models import model_class
from scratchgen.models.pixelrnn import pixelrnn_network
from scratchgen.train import plots
from scratchgen.train.config import resolve_config
from test_made import independent_pixels_nll
from test_masked_conv import depends_on, raster_before
from test_pixelcnn import SHARED_BINARIZED, assert_samples_follow_the_probabilities, every_binary_image

MODELS = ["row-lstm", "diagonal-bilstm"]


@pytest.mark.parametrize("layer", [nn.RowLSTM, nn.DiagonalBiLSTM])
def test_each_logit_depends_only_on_the_pixels_before_it(layer):
    sg.manual_seed(0)
    network = pixelrnn_network(layer, h=2, layers=2).double()
    depends = depends_on(network, np.random.default_rng(0).standard_normal((1, 1, 5, 6)))
    assert not np.any(depends & ~raster_before(5, 6, strictly=True))
    assert depends[4, 5, 4, 4] and depends[4, 5, 3, 5]  # and on its neighbours to the left and above


def tiny_model(name, height, width):
    cls = model_class(name)
    config = resolve_config(cls, "binarized-mnist", {"h": 2, "layers": 1}, seed=0)
    config["data_shape"] = [1, height, width]
    sg.manual_seed(0)
    return cls(config)


@pytest.mark.parametrize("name", MODELS)
def test_probabilities_of_every_binary_image_sum_to_one(name):
    model = tiny_model(name, 2, 2)
    model.network.double()
    with sg.no_grad():
        total = model.log_prob(every_binary_image(2, 2).double()).exp().sum().item()
    assert math.isclose(total, 1.0, rel_tol=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_samples_drawn_pixel_by_pixel_follow_the_model_s_probabilities(name):
    assert_samples_follow_the_probabilities(tiny_model(name, 2, 2))


# Measured (h = 8, 1 layer, seed 0, 500 test images; independent Bernoulli pixels: 205.8 nats):
#   row-lstm:        untrained 496.5, 60 steps 151.4, 100 steps 134.9 nats (about 4 s of training)
#   diagonal-bilstm: untrained 567.3, 60 steps 157.1, 100 steps 136.0 nats (about 13 s of training)
@pytest.mark.parametrize("name", MODELS)
def test_a_short_run_on_binarized_mnist_beats_independent_pixels_by_far(name, tmp_path, monkeypatch):
    monkeypatch.setattr(plots, "available", lambda: False)  # no sample grid: 784 evaluations, not checked here
    baseline = independent_pixels_nll(load_binarized_mnist("train", SHARED_BINARIZED).astype(np.float64),
                                      load_binarized_mnist("test", SHARED_BINARIZED).astype(np.float64))
    run, outcome = train.start(name, steps=100, out=tmp_path / name, data_dir=SHARED_BINARIZED,
                               stream=io.StringIO(), overrides=dict(h=8, layers=1, sample_every=1000))
    assert outcome == "finished"
    results = train.evaluate(run.path, n_test=500, progress=False)
    assert results["test_nll"] < baseline - 50, (results, baseline)


@pytest.mark.parametrize("name", MODELS)
def test_train_sample_and_eval_through_the_cli(name, tmp_path, monkeypatch):
    monkeypatch.setattr(plots, "available", lambda: False)  # no 64-image grid at the end: 784 network evaluations
    run_dir = tmp_path / name
    assert cli.main(["train", name, "--steps", "2", "--batch-size", "4", "--data-dir", str(SHARED_BINARIZED),
                     "--out", str(run_dir), "--set", "h=2", "--set", "layers=1", "--set", "sample_every=1000"]) == 0
    assert cli.main(["sample", str(run_dir), "--n", "2", "--out", str(tmp_path / "s.npy")]) == 0
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (2, 1, 28, 28) and set(np.unique(samples)) <= {0.0, 1.0}
    assert cli.main(["eval", str(run_dir), "--n-test", "20"]) == 0
    assert json.loads((run_dir / "eval.json").read_text())["n_test"] == 20
