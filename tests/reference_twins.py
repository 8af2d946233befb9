"""What the tests of the PyTorch twins (benchmarks/reference) share, in test_models_conv.py,
test_models_mlp.py and test_ddgm.py: the benchmark script loaded as a module, the check that a
twin mirrors its scratchgen model and that the script trains and scores both, and the same noise
for a model and its twin."""
import importlib.util
import pathlib

import numpy
import pytest
import torch

import scratchgen as sg
from scratchgen.models import vae, wgan
from scratchgen.train.config import resolve_config

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"


def load_compare(monkeypatch):
    """benchmarks/reference/compare.py as a module (its twin modules are compare.torch_twins and
    compare.torch_twins_mlp), reading MNIST from the shared data folder."""
    monkeypatch.setenv("SCRATCHGEN_DATA", str(SHARED_MNIST))
    spec = importlib.util.spec_from_file_location("reference_compare", ROOT / "benchmarks" / "reference" / "compare.py")
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    return compare


def networks(model):
    """{attribute: network} of a scratchgen model or of its PyTorch twin."""
    return {name: value for name, value in vars(model).items() if isinstance(value, (sg.nn.Module, torch.nn.Module))}


def network_shapes(model):
    """{network attribute: {state_dict key: shape}}: the layer names and shapes of a model's networks."""
    return {name: {key: tuple(value.shape) for key, value in network.state_dict().items()}
            for name, network in networks(model).items()}


def mirror_and_run(compare, twins, args, trained, overrides):
    """For each twin class: its networks have the names and shapes of its scratchgen model's, and
    it takes as many batches per step; then compare.run trains and scores both libraries (seed 0,
    run settings `overrides`). Returns every run's result."""
    results = []
    for twin_cls in twins:
        model_cls = twin_cls.mirrors
        config = resolve_config(model_cls, args.dataset, overrides)
        ours, twin = model_cls(config), twin_cls(config)
        assert network_shapes(twin) == network_shapes(ours), model_cls.name
        assert twin.batches_per_step == ours.batches_per_step, model_cls.name
        results += [compare.run(model_cls.name, library, 0, args, trained, overrides) for library in compare.LIBRARIES]
    return results


class SharedDraws:
    """Normal and uniform numbers from seeded NumPy streams, handed out in the order asked for:
    two instances give a scratchgen model and its twin the same noise."""

    def __init__(self):
        self.normal_stream, self.uniform_stream = numpy.random.default_rng(0), numpy.random.default_rng(1)

    def normal(self, *shape):
        return self.normal_stream.standard_normal(shape, dtype=numpy.float32)

    def uniform(self, *shape):
        return self.uniform_stream.random(shape, dtype=numpy.float32)


def draw_the_same_noise(monkeypatch, ours, twin):
    """Every random draw of a train step (z, the VAE's epsilon, WGAN-GP's interpolation weights)
    comes from SharedDraws, the same numbers for both models."""
    ours_draws, twin_draws = SharedDraws(), SharedDraws()
    ours.noise = lambda n, size, generator=None: sg.tensor(ours_draws.normal(n, size))
    monkeypatch.setattr(vae, "randn", lambda *shape, **_: sg.tensor(ours_draws.normal(*shape)))
    monkeypatch.setattr(wgan, "rand", lambda *shape, **_: sg.tensor(ours_draws.uniform(*shape)))
    twin.noise = lambda *shape: torch.from_numpy(twin_draws.normal(*shape))
    twin.interpolation_weights = lambda n: torch.from_numpy(twin_draws.uniform(n, 1))


def assert_same_steps(monkeypatch, ours, twin, batches, tolerance, skip=()):
    """From ours' initial weights (loaded into the twin) and the same noise, both take a train
    step on each NumPy batch of `batches`: the same losses, then the same weights, to `tolerance`
    (rtol, atol); `skip`: "network.entry" names left out of the weight comparison."""
    for key, network in networks(twin).items():
        network.load_state_dict({entry: torch.from_numpy(value.numpy())
                                 for entry, value in networks(ours)[key].state_dict().items()})
    draw_the_same_noise(monkeypatch, ours, twin)
    rtol, atol = tolerance
    for step, batch in enumerate(batches):
        ours_losses, twin_losses = ours.train_step((sg.tensor(batch),)), twin.train_step((batch,))
        assert ours_losses.keys() == twin_losses.keys()
        for key in ours_losses:
            assert ours_losses[key] == pytest.approx(twin_losses[key], rel=rtol, abs=atol), (step, key)
    for key, network in networks(twin).items():
        ours_state = networks(ours)[key].state_dict()
        for entry, value in network.state_dict().items():
            if f"{key}.{entry}" not in skip:
                numpy.testing.assert_allclose(ours_state[entry].numpy(), value.numpy(), rtol=rtol, atol=atol,
                                              err_msg=f"{key}.{entry}")
