"""The data each run trains and is evaluated on, built from scratchgen.data by name.

    8gaussians, swissroll   fresh i.i.d. points for every batch, as gan_toy.py draws them
    25gaussians             one set of 100,000 points, shuffled into batches (gan_toy.py)
    mnist                   the 60,000 training images, pixels as the model's `pixels` setting asks:
                            "tanh" [-1, 1], "unit" [0, 1], "fixed-binary" (threshold 0.5) or
                            "dynamic-binary" (a fresh Bernoulli draw per batch)
    binarized-mnist         the 50,000 training images of the static binarization (Salakhutdinov &
                            Murray 2008; data/binarized_mnist.py), pixels 0.0 or 1.0 as published,
                            no labels; tested on its 10,000 test images
    CartPole-v1, ...        a Gymnasium task (data/environments.py): the batch source is an
                            EpisodeStream, and each step the agent runs its policy on it
    tinyshakespeare         the first 90% of Tiny Shakespeare (data/text.py) cut into 31,370 sequences of
                            32 characters, each batch one-hot (N, 65, 32); the last 10% is held out

A batch source gives one tuple of Tensors per `next()` and has `state_dict()` /
`load_state_dict()`, so a checkpoint resumes the data stream exactly where it was.
Each stream of random numbers comes from SeedSequence([seed, stream]), one stream per use.
"""
import numpy

from .. import Generator, as_tensor, distributed
from ..data import environments, text
from ..data import (DataLoader, DynamicBinarize, add_channel_dim, binarize, flatten_images, infinite_batches,
                    load_binarized_mnist, load_mnist, to_tanh_range, to_unit_range, toy_distribution)
from ..data.toy import TOY_DISTRIBUTIONS
from ..models.settings import PIXEL_SCALINGS

TOY_DATASETS = tuple(TOY_DISTRIBUTIONS)
FRESH_TOYS = ("8gaussians", "swissroll")
TOY_DATASET_SIZE = 100_000           # gan_toy.py's 25gaussians dataset
MNIST_TRAIN_SIZE = 60_000
BINARIZED_MNIST = "binarized-mnist"
BINARIZED_MNIST_TRAIN_SIZE = 50_000
TINYSHAKESPEARE = "tinyshakespeare"
TEXT_DATASETS = (TINYSHAKESPEARE,)
ENVIRONMENT_DATASETS = environments.ENVIRONMENTS
PIXELS = PIXEL_SCALINGS              # the choices of the `pixels` setting (models/settings.py)
# the random streams of a run, each SeedSequence([seed, number]); 1 is the model's own noise (models/base.py)
DATA_ORDER_STREAM, BINARIZATION_STREAM, TOY_STREAM = 2, 3, 4
PLOT_NOISE_STREAM = 5   # the same noise for every sample plot, so the plots show the model change
REFERENCE_STREAM = 6    # the real points drawn with each scatter plot
EVAL_STREAM = 7
SAMPLE_STREAM = 8
EPISODE_STREAM = 12     # the reset seeds of a task's training episodes (9 to 11: models)
DEMONSTRATION_STREAM = 13  # an imitation run's expert episodes
TEST_BINARIZATION_SEED = 0           # the test set is binarised once, the same for every run


def stream(seed, number):
    """An independent generator for one use of the run's seed."""
    return Generator(numpy.random.SeedSequence([seed, number]))


def dataset_kind(dataset):
    """"toy", "mnist" or "binarized-mnist": which of a model's dataset_defaults apply."""
    return "toy" if dataset in TOY_DATASETS else dataset


def data_shape(dataset, image_layout):
    """The shape of one training example."""
    if dataset in TOY_DATASETS:
        return [2]
    if dataset in TEXT_DATASETS:
        return [text.VOCAB_SIZE, text.SEQ_LEN]  # one-hot characters as channels, positions along the sequence
    if dataset in ENVIRONMENT_DATASETS:
        return [task(dataset).observation_size]
    return [784] if image_layout == "flat" else [1, 28, 28]


def task(dataset):
    """The data.environments.Task of a Gymnasium dataset."""
    return environments.describe(dataset)


def num_classes(dataset):
    return 10 if dataset == "mnist" else 0  # the binarized set's rows carry no labels


def dataset_size(dataset):
    """Examples in the training set; None where every batch is fresh points (no finite set)."""
    if dataset in FRESH_TOYS or dataset in ENVIRONMENT_DATASETS:
        return None
    if dataset == BINARIZED_MNIST:
        return BINARIZED_MNIST_TRAIN_SIZE
    if dataset in TEXT_DATASETS:
        return text.TRAIN_SEQUENCES
    return TOY_DATASET_SIZE if dataset in TOY_DATASETS else MNIST_TRAIN_SIZE


class FreshToyBatches:
    """Endless batches of new points from a toy distribution."""
    batches_per_epoch = None  # no finite dataset, so no epochs

    def __init__(self, distribution, batch_size, generator, device):
        self.distribution, self.batch_size, self.generator, self.device = distribution, batch_size, generator, device

    def __next__(self):
        return (as_tensor(self.distribution.sample(self.batch_size, self.generator), device=self.device),)

    def state_dict(self):
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state):
        self.generator.set_state(state["generator"])


class EndlessLoader:
    """A shuffling DataLoader cycled epoch after epoch."""

    def __init__(self, loader, device):
        self.loader, self.device = loader, device
        self.batches_per_epoch = len(loader)
        self._batches = infinite_batches(loader)

    def __next__(self):
        return tuple(tensor.to(self.device) for tensor in next(self._batches))

    def state_dict(self):
        return self.loader.state_dict()

    def load_state_dict(self, state):
        self.loader.load_state_dict(state)
        self._batches = infinite_batches(self.loader)


def training_batches(config, image_layout, batches_per_step):
    """The batch source of a run: batches of config["batch_size"] * batches_per_step examples
    (a model that makes several critic updates per step splits them)."""
    dataset, seed, device = config["dataset"], config["seed"], config["device"]
    batch_size = config["batch_size"] * batches_per_step
    if dataset in ENVIRONMENT_DATASETS:
        return environments.EpisodeStream(dataset, stream(seed, EPISODE_STREAM))
    if dataset in FRESH_TOYS:
        return rank_shard(FreshToyBatches(toy_distribution(dataset), batch_size, stream(seed, TOY_STREAM), device),
                          batches_per_step)
    if dataset in TOY_DATASETS:
        points = toy_distribution(dataset).sample(TOY_DATASET_SIZE, stream(seed, TOY_STREAM))
        arrays, transform = (points,), None
    elif dataset == BINARIZED_MNIST:
        arrays, transform = (binarized_mnist_layout("train", config["data_dir"], image_layout),), None
    elif dataset in TEXT_DATASETS:
        arrays, transform = (text_sequences("train", config["data_dir"]),), text.OneHot()  # one-hot per batch
    else:
        images, labels = load_mnist("train", data_dir=config["data_dir"])
        pixels, transform = mnist_pixels(images, config["pixels"], stream(seed, BINARIZATION_STREAM))
        arrays = (mnist_layout(pixels, image_layout), labels)
    loader = DataLoader(arrays, batch_size=batch_size, shuffle=True, drop_last=True,
                        generator=stream(seed, DATA_ORDER_STREAM), transform=transform)
    return rank_shard(EndlessLoader(loader, device), batches_per_step)


class RankShard:
    """Data-parallel (scratchgen.distributed): this rank's rows of every batch of `batches`, a
    stream every rank draws alike from the run's one seeded order (and binarisation): of each of
    the `chunks` critic rounds of a batch, rank r takes the r-th of N equal runs of rows. Its
    state is the whole stream's, the same on every rank and in one process, so a checkpoint
    resumes on any number of ranks."""

    def __init__(self, batches, chunks):
        self.batches, self.chunks = batches, chunks
        self.batches_per_epoch = batches.batches_per_epoch

    def __next__(self):
        return distributed.shard_rows(next(self.batches), self.chunks)

    def state_dict(self):
        return self.batches.state_dict()

    def load_state_dict(self, state):
        self.batches.load_state_dict(state)


def rank_shard(batches, chunks):
    """`batches` as it is in one process; with several ranks, this rank's RankShard of it."""
    return RankShard(batches, chunks) if distributed.is_initialized() else batches


def mnist_pixels(images, pixels, generator):
    """(array, loader transform or None) for uint8 images under the `pixels` setting."""
    if pixels not in PIXELS:
        raise ValueError(f"pixels must be one of {PIXELS}, got {pixels!r}")
    if pixels == "dynamic-binary":
        return images, DynamicBinarize(generator)  # the loader binarises each batch as it is drawn
    scale = {"tanh": to_tanh_range, "unit": to_unit_range, "fixed-binary": binarize}[pixels]
    return scale(images), None


def mnist_layout(images, image_layout):
    return flatten_images(images) if image_layout == "flat" else add_channel_dim(images)


def binarized_mnist_layout(split, data_dir, image_layout):
    """A split of the static binarized MNIST as float32 0.0 / 1.0 in `image_layout`."""
    pixels = load_binarized_mnist(split, data_dir=data_dir).astype(numpy.float32)
    return pixels if image_layout == "flat" else pixels.reshape(len(pixels), 1, 28, 28)


def text_sequences(split, data_dir):
    """(N, 32) int64 character indices of Tiny Shakespeare's "train" or "held-out" part."""
    train, held_out = text.split_text(text.load_tinyshakespeare(data_dir))
    return text.sequences(text.encode(train if split == "train" else held_out))


def text_split(data_dir):
    """(the training text as one str, the held-out text as a list of 32-character strs cut as the
    training sequences are)."""
    train, held_out = text.split_text(text.load_tinyshakespeare(data_dir))
    return train, text.decode(text.sequences(text.encode(held_out)))


def test_set(config, image_layout):
    """(images, labels or None) of the run's test split, as the model saw its training data."""
    if config["dataset"] == BINARIZED_MNIST:
        return binarized_mnist_layout("test", config["data_dir"], image_layout), None
    return mnist_test_set(config, image_layout)


def mnist_test_set(config, image_layout):
    """(images, labels) of the MNIST test split as the model saw its training data; dynamic
    binarisation is drawn once from a fixed seed, so every run is tested on the same bits."""
    images, labels = load_mnist("test", data_dir=config["data_dir"])
    pixels, transform = mnist_pixels(images, config["pixels"], Generator(TEST_BINARIZATION_SEED))
    if transform is not None:
        pixels = transform(pixels)
    return mnist_layout(pixels, image_layout), labels
