"""The PyTorch twins of PixelCNN, the Row LSTM and the Diagonal BiLSTM (benchmarks/reference/
torch_twins_pixel.py): the same layer names, shapes and masks as ours; from the same weights the
same exact log-likelihood, the same training steps and, from the same uniform numbers, the same
samples; and the benchmark script trains both libraries on binarized MNIST and scores both with
scratchgen's exact test NLL."""
import json
import pathlib

import numpy as np
import pytest
import torch

import scratchgen as sg
from reference_twins import assert_same_steps, load_compare, mirror_and_run, network_shapes
from scratchgen.train import plots
from scratchgen.train.config import resolve_config

SHARED_BINARIZED = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binarized_mnist"
TINY = {"pixelcnn": dict(h=2, residual_blocks=1), "row-lstm": dict(h=2, layers=1),
        "diagonal-bilstm": dict(h=2, layers=1)}
MODELS = pytest.mark.parametrize("name", list(TINY))
needs_data = pytest.mark.skipif(not (SHARED_BINARIZED / "binarized_mnist.npz").is_file(),
                                reason=f"binarized MNIST is not in {SHARED_BINARIZED}")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """PyTorch on one thread, as the benchmark's --threads 1 (its default spreads over the busy cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_pair(monkeypatch, name, data_shape=None):
    """(compare, ours, its twin) of tiny settings, each with its own initial weights."""
    compare = load_compare(monkeypatch)
    model_cls, twin_cls = compare.MODELS[name]
    config = resolve_config(model_cls, "binarized-mnist", TINY[name], seed=0)
    if data_shape is not None:
        config["data_shape"] = data_shape
    sg.manual_seed(0)
    return compare, model_cls(config), twin_cls(config)


def binary_images(n, seed, height=28, width=28):
    return (np.random.default_rng(seed).random((n, 1, height, width)) < 0.3).astype(np.float32)


@MODELS
def test_the_twin_has_our_layer_names_shapes_and_masks(monkeypatch, name):
    _, ours, twin = tiny_pair(monkeypatch, name)
    assert network_shapes(twin) == network_shapes(ours)
    ours_state, twin_state = ours.network.state_dict(), twin.network.state_dict()
    masks = [key for key in ours_state if key.endswith("mask")]
    assert len(masks) == {"pixelcnn": 2, "row-lstm": 2, "diagonal-bilstm": 3}[name]
    for key in masks:
        np.testing.assert_array_equal(ours_state[key].numpy(), twin_state[key].numpy(), err_msg=key)


@MODELS
def test_our_copy_of_the_twin_gives_the_twin_s_exact_log_likelihood(monkeypatch, name):
    compare, ours, twin = tiny_pair(monkeypatch, name)
    copy = compare.scratchgen_copy(type(ours), ours.config, twin)  # the benchmark scores the twin with it
    x = binary_images(3, 0)
    with torch.no_grad(), sg.no_grad():
        np.testing.assert_allclose(copy.log_prob(sg.tensor(x)).numpy(), twin.log_prob(torch.from_numpy(x)).numpy(),
                                   rtol=1e-5)


@MODELS
def test_the_twin_takes_the_same_steps_from_the_same_weights_and_batches(monkeypatch, name):
    _, ours, twin = tiny_pair(monkeypatch, name)
    batches = [binary_images(4, step) for step in range(3)]
    assert_same_steps(monkeypatch, ours, twin, batches, tolerance=(1e-4, 1e-4))


@MODELS
def test_from_the_same_uniform_numbers_the_twin_draws_our_samples(monkeypatch, name):
    _, ours, twin = tiny_pair(monkeypatch, name, data_shape=[1, 4, 5])
    twin.network.load_state_dict({key: torch.from_numpy(value.numpy()) for key, value in
                                  ours.network.state_dict().items()})
    uniform = np.random.default_rng(0).random((6, 1, 4, 5), dtype=np.float32)

    class Uniform:
        def uniform(self, shape, dtype, device):
            return uniform
    twin.uniform = lambda *shape: torch.from_numpy(uniform)
    with sg.no_grad():
        expected = ours.generate(6, Uniform()).numpy()
    assert set(np.unique(expected)) == {0.0, 1.0}
    np.testing.assert_array_equal(twin.generate(6).numpy(), expected)


@needs_data
def test_the_benchmark_trains_all_three_and_scores_them_with_our_exact_test_nll(monkeypatch, tmp_path):
    compare = load_compare(monkeypatch)
    args = compare.parse(["--dataset", "binarized-mnist", "--samples", "0", "--nll-images", "4", "--data-dir",
                          str(SHARED_BINARIZED), "--out", str(tmp_path / "pix.md")])
    assert args.models == [*TINY, "cat-vae"]  # every twin of binarized MNIST by default
    args.models = list(TINY)
    results = []
    for name in args.models:
        results += mirror_and_run(compare, [compare.MODELS[name][1]], args, None, dict(TINY[name], steps=2,
                                                                                     batch_size=4))
    assert [r["library"] for r in results] == list(compare.LIBRARIES) * 3
    assert all(300 < r["test_nll"] < 1000 for r in results)  # about 544 nats: 784 pixels of log 2
    table = compare.table(results)
    assert "| test_nll | train_seconds |" in table and "fid_lenet" not in table
    assert all(table.count(f"| {name} | Welch t |") == 1 for name in TINY)
    assert not (tmp_path / "samples").exists()


@needs_data
def test_the_benchmark_scores_curves_and_draws_a_picture_of_pixelcnn(monkeypatch, tmp_path):
    compare = load_compare(monkeypatch)
    out = tmp_path / "pix.md"
    argv = ["--dataset", "binarized-mnist", "--models", "pixelcnn", "--seeds", "0", "--steps", "2", "--samples", "1",
            "--threads", "1", "--nll-images", "4", "--curve-every", "1", "--data-dir", str(SHARED_BINARIZED),
            "--out", str(out), "--set", "h=2", "residual_blocks=1", "batch_size=4"]
    compare.main(argv)
    results = json.loads(out.with_suffix(".json").read_text())
    assert [[point["step"] for point in r["curve"]] for r in results] == [[1, 2], [1, 2]]
    assert all(r["test_nll"] == r["curve"][-1]["test_nll"] for r in results)
    assert "exact -log p(x)" in out.read_text()
    for library in compare.LIBRARIES:
        assert (tmp_path / "samples" / f"binarized-mnist-pixelcnn-{library}.png").exists() == plots.available()
    assert out.with_suffix(".png").exists() == plots.available()
