"""The MNIST classifier behind the sample-quality metrics: a LeNet trained with scratchgen
itself, once, from a fixed seed, and cached as an .npz (sg.save) in the user's cache folder.

    trained = load_classifier()                  # trains on first use (a few minutes), then loads
    trained.test_accuracy                        # measured on the test split when it was trained
    features(trained.network, images)            # (N, 500) penultimate features, for FID
    probabilities(trained.network, images)       # (N, 10) p(y|x), for the classifier score

Images are (N, 1, 28, 28) floats in [0, 1] (also (N, 28, 28) or (N, 784)), as models' `sample`
returns them. MNIST comes from scratchgen.data.load_mnist, so it is looked up (data_dir, then
$SCRATCHGEN_DATA, then the cache folder) and downloaded as for training.

The training, the features of many images and a download show progress (scratchgen.progress):
each function's `progress` argument is None (the current default: stderr), True, False or a stream.
"""
import dataclasses
import functools
import math
import pathlib
import time
from typing import NamedTuple

import numpy

from .. import nn
from .. import Generator, as_tensor, get_rng_state, manual_seed, no_grad, set_rng_state
from ..data import DataLoader, add_channel_dim, load_mnist, to_unit_range
from ..data.mnist import cache_dir
from ..functional import cross_entropy, softmax
from ..nn.conv import Conv2d
from ..nn.pooling import MaxPool2d
from ..optim import Adam
from ..progress import ProgressBar, format_duration, note, progress_to
from ..serialization import load, save
from .fid import feature_statistics
from .inputs import as_mnist_images

MIN_TEST_ACCURACY = 0.99
NUM_CLASSES = 10


class LeNet(nn.Module):
    """Caffe's LeNet for MNIST (LeCun et al. 1998, as in BVLC/caffe examples/mnist), with ReLU
    and "same" padding: conv 5x5, 20 channels -> max-pool 2 -> conv 5x5, 50 channels -> max-pool 2
    -> fully connected 500 -> 10 logits. `features` ends at the 500-d ReLU layer (the
    penultimate features FID uses); `classifier` maps it to the logits."""
    feature_dim = 500

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            Conv2d(1, 20, 5, padding=2), nn.ReLU(), MaxPool2d(2),    # 28x28 -> 14x14
            Conv2d(20, 50, 5, padding=2), nn.ReLU(), MaxPool2d(2),   # 14x14 -> 7x7
            nn.Flatten(), nn.Linear(50 * 7 * 7, self.feature_dim), nn.ReLU())
        self.classifier = nn.Linear(self.feature_dim, NUM_CLASSES)

    def forward(self, images):
        return self.classifier(self.features(images))


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How the classifier is trained: Adam with a cosine-decayed learning rate over `epochs`
    passes of the first `train_size` training images, batches shuffled from `seed`; tested on the
    first `test_size` test images. The defaults reach 99.32% test accuracy (seed 0; about 5
    minutes on 2 CPU cores)."""
    epochs: int = 3
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    train_size: int = 60_000
    test_size: int = 10_000

    def file_name(self):
        return (f"lenet-e{self.epochs}-b{self.batch_size}-lr{self.lr:g}-s{self.seed}-"
                f"n{self.train_size}-t{self.test_size}.npz")


class TrainedClassifier(NamedTuple):
    network: LeNet
    test_accuracy: float
    test_feature_mean: numpy.ndarray   # the FID reference statistics: the test images' features
    test_feature_cov: numpy.ndarray
    training_seconds: float
    recipe: Recipe


def train_classifier(recipe=Recipe(), data_dir=None, progress=None):
    """Train a LeNet by `recipe` on MNIST and measure it on the test split. Shows the training's
    progress (steps, epoch, loss) and then the test accuracy where `progress` says (None: the
    current default, stderr; False: nothing; True; or a stream)."""
    with progress_to(progress):
        start = time.perf_counter()
        train_images, train_labels = _mnist("train", recipe.train_size, data_dir)
        network = _initialised_lenet(recipe.seed)
        optimizer = Adam(network.parameters(), lr=recipe.lr)
        loader = DataLoader((train_images, train_labels), batch_size=recipe.batch_size, shuffle=True,
                            generator=Generator(recipe.seed))
        total_steps, step = recipe.epochs * len(loader), 0
        with ProgressBar(total_steps, "classifier training", unit="steps") as bar:
            for epoch in range(recipe.epochs):
                network.train()
                for images, labels in loader:
                    # cosine decay to 0 over the run (Loshchilov & Hutter 2017, SGDR without restarts)
                    optimizer.param_groups[0]["lr"] = recipe.lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
                    loss = cross_entropy(network(images), labels)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    step += 1
                    if bar.enabled:  # loss.item() only when it may be shown
                        bar.update(step, f"epoch {epoch + 1}/{recipe.epochs} loss {loss.item():.4f}")
        test_images, test_labels = _mnist("test", recipe.test_size, data_dir)
        test_features, test_probabilities = features_and_probabilities(network, test_images)
        predictions = test_probabilities.argmax(axis=1)
        accuracy = float((predictions == test_labels).mean())
        mean, cov = feature_statistics(test_features)
        seconds = time.perf_counter() - start
        note(f"the classifier's test accuracy is {accuracy:.2%} ({len(test_labels)} MNIST test images; "
             f"trained in {format_duration(seconds)})")
    return TrainedClassifier(network, accuracy, mean, cov, seconds, recipe)


def load_classifier(data_dir=None, recipe=Recipe(), cache_folder=None, min_accuracy=MIN_TEST_ACCURACY,
                    progress=None):
    """The classifier trained by `recipe`, from the cache (`cache_folder`, default
    <cache>/scratchgen/classifiers) or, the first time, trained (showing its progress and test
    accuracy where `progress` says) and saved there with its test accuracy. Loaded once per
    process. Raises if its test accuracy is below `min_accuracy` (the metrics assume a classifier
    that is right on at least 99% of real digits)."""
    folder = classifier_cache_dir() if cache_folder is None else cache_folder
    with progress_to(progress):
        trained = _load_or_train(str(folder), recipe, data_dir)
    if trained.test_accuracy < min_accuracy:
        raise RuntimeError(f"load_classifier: the classifier in {folder} has test accuracy "
                           f"{trained.test_accuracy:.4f}, below the required {min_accuracy}; delete "
                           f"{recipe.file_name()} there to train it again")
    return trained


def classifier_cache_dir():
    """<cache>/scratchgen/classifiers, beside the MNIST download folder <cache>/scratchgen/mnist."""
    return cache_dir().parent / "classifiers"


def features(network, images, batch_size=500, progress=None):
    """The penultimate (500-d) features of `images`, (N, 500) float32 NumPy. Shows progress where
    `progress` says (None: the current default, stderr; False: nothing; True; or a stream)."""
    return _features(network, images, batch_size, "features", progress)


def probabilities(network, images, batch_size=500, progress=None):
    """p(y|x) = softmax of the logits of `images`, (N, 10) float32 NumPy."""
    return features_and_probabilities(network, images, batch_size, "probabilities", progress)[1]


def features_and_probabilities(network, images, batch_size=500, name="features_and_probabilities", progress=None):
    """(features (N, 500), p(y|x) (N, 10)) of `images` from one pass through the network."""
    feature_rows = _features(network, images, batch_size, name, progress)
    with no_grad():
        rows = softmax(network.classifier(as_tensor(feature_rows)), 1).numpy()
    return feature_rows, rows


def _features(network, images, batch_size, name, progress):
    images = as_mnist_images(images, name)
    network.eval()
    outputs = []
    with no_grad(), ProgressBar(len(images), "LeNet features", unit="images", progress=progress) as bar:
        for i in range(0, len(images), batch_size):
            outputs.append(network.features(as_tensor(images[i:i + batch_size])).numpy())
            bar.update(i + len(outputs[-1]))
    return numpy.concatenate(outputs)


@functools.lru_cache(maxsize=None)
def _load_or_train(folder, recipe, data_dir):
    path = pathlib.Path(folder) / recipe.file_name()
    if path.is_file():
        return _from_saved(load(path), recipe)
    note(f"training the MNIST classifier for the metrics once ({recipe}); it is cached in {path}")
    trained = train_classifier(recipe, data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    save({"network": trained.network.state_dict(), "test_accuracy": trained.test_accuracy,
          "test_feature_mean": trained.test_feature_mean, "test_feature_cov": trained.test_feature_cov,
          "training_seconds": trained.training_seconds, "recipe": dataclasses.asdict(recipe)}, path)
    return trained


def _from_saved(saved, recipe):
    network = _initialised_lenet(recipe.seed)  # its weights are then overwritten
    network.load_state_dict(saved["network"])
    network.eval()
    return TrainedClassifier(network, float(saved["test_accuracy"]), saved["test_feature_mean"],
                             saved["test_feature_cov"], saved["training_seconds"], recipe)


def _initialised_lenet(seed):
    """A LeNet with PyTorch's default initialisation drawn from `seed`; the global generator
    is left as it was."""
    saved_state = get_rng_state()
    manual_seed(seed)
    try:
        return LeNet()
    finally:
        set_rng_state(saved_state)


def _mnist(split, size, data_dir):
    """The first `size` images of `split` as (N, 1, 28, 28) float32 in [0, 1], and their labels."""
    images, labels = load_mnist(split, data_dir=data_dir)
    if not 1 <= size <= len(images):
        raise ValueError(f"train_classifier: the recipe asks for {size} {split} images; MNIST {split} has "
                         f"{len(images)}")
    return add_channel_dim(to_unit_range(images[:size])), labels[:size]
