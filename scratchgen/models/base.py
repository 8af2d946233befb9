"""GenerativeModel: what every model family gives the training loop and the CLI.

A family (vae.py, gan.py, wgan.py, ...) subclasses it and sets the class attributes below;
`scratchgen train` resolves its settings, builds it from them, and then only calls:

    model = Family(config)                 # config: every setting, plus data_shape and num_classes
    losses = model.train_step(batch)       # batch: a tuple of Tensors; returns {name: float}
    points_or_images = model.sample(n)     # NumPy: (n, 2) points or (n, 1, 28, 28) images in [0, 1]
    state = model.state_dict(); model.load_state_dict(state)

`state_dict` holds every network, optimizer and random generator the model keeps as an
attribute, so a checkpoint resumes training bit for bit.
"""
import abc
import contextlib
import math

import numpy

from .. import nn, optim
from .. import Generator, Tensor, as_tensor, no_grad, randn
from ..data import TOY_DISTRIBUTIONS

NOISE_STREAM = 1  # the model's generator draws from SeedSequence([seed, 1]); the loader from other streams


class GenerativeModel(abc.ABC):
    name = None             # the CLI name, e.g. "wgan-gp"
    paper = None            # "Authors year, title"
    datasets = ()           # the datasets it trains on; the first is the default
    defaults = {}           # settings for every dataset (from the paper), overridable from the CLI
    dataset_defaults = {}   # {"toy": {...}, "mnist": {...}}: settings that differ between 2-D toys and images
    settings = {}           # {key: settings.Setting} for every key of defaults and dataset_defaults
    setting_requirements = ()  # ((test(settings) -> bool, message), ...): what holds between settings
    image_layout = "flat"   # MNIST batches as (N, 784) ("flat") or (N, 1, 28, 28) ("chw")
    batches_per_step = 1    # one train_step gets this many batches stacked (a critic step per batch)

    def __init__(self, config):
        self.config = dict(config)
        self.device = config["device"]
        self.data_shape = tuple(config["data_shape"])
        self.data_size = math.prod(self.data_shape)
        self.rng = Generator(numpy.random.SeedSequence([config["seed"], NOISE_STREAM]))

    # ---- what each family defines -----------------------------------------------------
    @abc.abstractmethod
    def train_step(self, batch):
        """One optimisation step on `batch` (a tuple of Tensors); returns {loss name: float}."""

    @abc.abstractmethod
    def generate(self, n, generator):
        """n samples in the space of the training data (a Tensor), drawn with `generator`."""

    # ---- shared -----------------------------------------------------------------------
    def sample(self, n, labels=None, generator=None):
        """n samples as a NumPy array: (n, 2) points, or (n, 1, 28, 28) images in [0, 1].
        `generator` (default: the model's own) lets the caller draw fixed noise for plots
        without moving the training noise stream."""
        if labels is not None:
            raise ValueError(f"{self.name}.sample: this model is unconditional, so labels cannot be chosen")
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise ValueError(f"{self.name}.sample: n must be a positive integer, got {n!r}")
        with self.evaluating(), no_grad():
            data = self.generate(n, self.rng if generator is None else generator).numpy()
        return self.data_to_output(data)

    def data_to_output(self, data):
        """Samples in data space -> what `sample` returns: points as they are, images in [0, 1]."""
        if self.config["dataset"] in TOY_DISTRIBUTIONS:
            return data
        if self.config.get("pixels") == "tanh":  # binarized-mnist has no pixels setting: its pixels are 0 or 1
            data = (data + 1) / 2  # [-1, 1] -> [0, 1]
        return numpy.clip(data, 0, 1).reshape(len(data), 1, 28, 28)

    def decode(self, z, labels=None):
        """The mean of p(x|z) (the family's `decoder_mean`) for chosen latent vectors `z` (a Tensor or
        an array (N, z_size)), with every network in eval mode, as `sample` returns it: the latent
        interface of `scratchgen explore`, with `latent(n, generator)`."""
        if labels is not None:
            raise ValueError(f"{self.name}.decode: this model is unconditional, so labels cannot be chosen")
        z = z if isinstance(z, Tensor) else as_tensor(numpy.asarray(z, numpy.float32))
        with self.evaluating(), no_grad():
            data = self.decoder_mean(z.to(self.device)).numpy()
        return self.data_to_output(data)

    def noise(self, n, size, generator=None):
        """z ~ N(0, I), shape (n, size), on the model's device."""
        return randn(n, size, device=self.device, generator=self.rng if generator is None else generator)

    def networks(self):
        return [value for value in vars(self).values() if isinstance(value, nn.Module)]

    @contextlib.contextmanager
    def evaluating(self):
        """Every network in eval mode (dropout off, batch norm on running statistics) inside the block."""
        for module in self.networks():
            module.eval()
        try:
            yield
        finally:
            for module in self.networks():
                module.train()

    def state_dict(self):
        """{attribute: its state} for every network, optimizer and random generator."""
        return {name: value.get_state() if isinstance(value, Generator) else value.state_dict()
                for name, value in self._stateful()}

    def load_state_dict(self, state):
        names = [name for name, _ in self._stateful()]
        if sorted(state) != sorted(names):
            raise ValueError(f"{self.name}.load_state_dict: the state has entries {sorted(state)}, this model "
                             f"needs {sorted(names)}")
        for name, value in self._stateful():
            if isinstance(value, Generator):
                value.set_state(state[name])
            else:
                value.load_state_dict(state[name])

    def _stateful(self):
        return [(name, value) for name, value in vars(self).items()
                if isinstance(value, (nn.Module, optim.Optimizer, Generator))]
