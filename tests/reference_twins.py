"""What the tests of the PyTorch twins (benchmarks/reference) share, in test_models_conv.py and
test_models_mlp.py: the benchmark script loaded as a module, and the check that a twin mirrors
its scratchgen model and that the script trains and scores both."""
import importlib.util
import pathlib

import torch

import scratchgen as sg
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
