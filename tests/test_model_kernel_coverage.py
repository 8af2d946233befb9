"""Which ops of a training step still run outside kernels/ on device "cuda": one training step
of every model of the library, at the tiny sizes the resume tests train them at
(test_train_resume.py, test_agents.py), on the emulated CUDA backend, with every Function's
forward watched. A forward that launches no kernel and returns new memory (not a view of an
input) computed its result with array-library expressions: CuPy's, on a GPU.

Each model's set of such ops must equal OUTSIDE_KERNELS[model]: an op that newly runs outside
kernels/ fails the test, and so does one that moved into a kernel while its entry stayed.
docs/kernels.md lists the table (tests/test_kernel_map.py writes it). Issue 14 empties it.

What this does not see: array work in a backward that goes through no Function (a mask built
from .array), comparisons (they make no Function), the optimizers' steps (kernels, one launch
per parameter) and the data pipeline. ToDevice, the host-to-device copy of a batch, is a
transfer, not a computation, and is not counted."""
import contextlib
import io

import numpy as np
import pytest

from scratchgen import train
from scratchgen.autograd.function import Function
from scratchgen.backends import launch
from scratchgen.models import MODELS, model_class
from scratchgen.train.config import resolve_config
from scratchgen.train.session import build
from test_cuda_end_to_end import Device
from test_train_resume import BINARIZED_MNIST_MODELS, MNIST_VAES, SHARED_MNIST, TINY_GANS

TRANSFERS = {"ToDevice"}
AGENT = dict(hidden=[8], batch_size=50, value_epochs=1)
TINY_AGENTS = {"trpo": ("CartPole-v1", AGENT), "gail": ("CartPole-v1", dict(AGENT, trajectories=2)),
               "bc": ("CartPole-v1", dict(hidden=[8], trajectories=2)),
               "vime": ("CartPole-v1", dict(AGENT, batch_size=20, min_pool=10, dynamics_updates=1,
                                                  kl_samples=1, dynamics_hidden=4))}


def _dataset(name):
    """(dataset, data_dir, tiny settings) of model `name`."""
    if name in TINY_AGENTS:
        return TINY_AGENTS[name][0], None, TINY_AGENTS[name][1]
    if name in BINARIZED_MNIST_MODELS:
        return "binarized-mnist", str(SHARED_MNIST.parent / "binarized_mnist"), BINARIZED_MNIST_MODELS[name]
    if name in TINY_GANS and "mnist" not in model_class(name).datasets:
        dataset = model_class(name).datasets[0]
        data_dir = SHARED_MNIST.parent / "tinyshakespeare" if dataset == "tinyshakespeare" else SHARED_MNIST
        return dataset, str(data_dir), TINY_GANS[name]
    return "mnist", str(SHARED_MNIST), {**TINY_GANS, **MNIST_VAES, "conv-vae": dict(width=4, z_dim=4)}[name]


# Function: why it still runs outside kernels/ (what issue 14 still has to move)
WHY = {
    "Cat": "a concatenation that the strided copy does not take (mixed or integer dtypes)",
    "GetItem": "indexing integer arrays (the labels) with an index array: the row gather takes floats only",
    "GatherRows": "gathering rows of integer arrays (the labels) by index",
    "IndexAdd": "the gradient of indexing with an index array (a scatter-add)",
    "Add": "EuclideanNorm's gradient adds a bool mask (mixed dtypes: no kernel)",
    "PickAlong": "its forward hands over values computed before it: by kernels/reduce.cu's extreme_rows for max "
                 "along a dim (cgan's Maxout), by CuPy for amax and the max of all elements",
}
OUTSIDE_KERNELS = {name: set() for name in MODELS} | {
    "cgan": {"PickAlong"}, "wgan-gp": {"Add"}, "wgan-gp-lm": {"Add"},
    "improved-gan": {"Cat", "GatherRows", "GetItem", "IndexAdd"}, "m2": {"Cat", "GatherRows", "GetItem", "IndexAdd"},
}


@contextlib.contextmanager
def watching_forwards(outside):
    """Inside, the name of every Function whose forward launches no kernel and returns new
    memory is added to `outside`."""
    original = Function.apply.__func__

    def apply(cls, *inputs, **params):
        with launch.recording() as names:
            out = original(cls, *inputs, **params)
        arrays = [t.array for t in inputs if isinstance(t.array, np.ndarray)]
        if not names and not any(np.shares_memory(out.array, a) for a in arrays):
            outside.add(cls.__name__)
        return out
    Function.apply = classmethod(apply)
    try:
        yield
    finally:
        Function.apply = classmethod(original)


@pytest.fixture(scope="module")
def expert(tmp_path_factory):
    """A one-iteration TRPO run on CartPole (CPU): the demonstrations gail and bc imitate."""
    run, _ = train.start("trpo", "CartPole-v1", steps=1, overrides=dict(hidden=[8], batch_size=50),
                         out=tmp_path_factory.mktemp("expert") / "trpo", stream=io.StringIO())
    return str(run.path)


def test_the_table_covers_every_model():
    assert sorted(OUTSIDE_KERNELS) == sorted(MODELS)
    assert set().union(*OUTSIDE_KERNELS.values()) == set(WHY)  # every reason still applies somewhere


@pytest.mark.parametrize("name", MODELS)
def test_a_training_step_runs_outside_kernels_only_the_ops_listed(name, monkeypatch, request):
    dataset, data_dir, settings = _dataset(name)
    if getattr(model_class(name), "imitates", False):  # gail, bc
        settings = dict(settings, expert=request.getfixturevalue("expert"))
    outside = set()
    with Device("emulated", monkeypatch, floating=(np.float32, np.float64)).active():
        model, batches = build(resolve_config(model_class(name), dataset, dict(settings, batch_size=4), 0, "cuda",
                                              data_dir))
        with watching_forwards(outside):
            model.train_step(next(batches))
    assert outside - TRANSFERS == OUTSIDE_KERNELS[name], (
        f"{name}: ops outside kernels/ now {sorted(outside - TRANSFERS)}, listed {sorted(OUTSIDE_KERNELS[name])}")
