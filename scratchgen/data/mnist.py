"""MNIST (LeCun, Cortes & Burges): the four standard IDX files, found, downloaded if missing,
verified, decoded once per process; and the pixel scalings the models of the papers use.

Where `load_mnist` looks for each file, in this order (in each folder, also in its `mnist/`
subfolder, so a folder of several datasets works too; files.py does the looking and downloading):

    1. `data_dir` (the CLI's --data-dir)
    2. $SCRATCHGEN_DATA
    3. the cache folder, $XDG_CACHE_HOME/scratchgen/mnist (default ~/.cache/scratchgen/mnist)

A file found nowhere is downloaded into the cache folder (when `download=True`), checked,
and only then renamed into place, so a failed or interrupted download leaves nothing behind.
A download shows its progress (scratchgen.progress: a bar on a terminal, lines in a log; the
`progress` argument of load_mnist is None for the current default, stderr, or True, False, a stream).
Every file is checked against the md5 of its DECOMPRESSED contents: mirrors gzip the same
bytes with different headers, so the .gz files themselves differ.
"""
import functools
import hashlib
from typing import NamedTuple

import numpy

from .. import as_tensor
from ..progress import progress_to
from . import files, idx
from .files import ENV_VAR
from .loader import generator_from_global_seed

SUBFOLDER = "mnist"
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
MD5 = {"train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
       "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
       "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
       "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637"}
MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
           "https://storage.googleapis.com/cvdf-datasets/mnist/")
_ALL_FILES = ", ".join(name for pair in FILES.values() for name in pair)


class MNIST(NamedTuple):
    """One split; unpacks as `images, labels = load_mnist("test")`. Both arrays are read-only
    (they are shared by every caller in the process)."""
    images: numpy.ndarray  # (N, 28, 28) uint8, 0 = background, 255 = ink
    labels: numpy.ndarray  # (N,) int64, the digit 0-9


def load_mnist(split="train", data_dir=None, download=True, progress=None):
    """The "train" (60,000 images) or "test" (10,000 images) split, as `MNIST(images, labels)`.
    A download shows its progress where `progress` says (None: the current default, stderr)."""
    if split not in FILES:
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")
    with progress_to(progress):
        images_file, labels_file = [files.FileVersion.of(name, find_mnist_file(name, data_dir, download))
                                    for name in FILES[split]]
    return _decode_split(images_file, labels_file)


# ---- finding and downloading the files (files.py) -----------------------------------------------
def cache_dir():
    """Where downloads go: $XDG_CACHE_HOME/scratchgen/mnist, or ~/.cache/scratchgen/mnist."""
    return files.cache_dir(SUBFOLDER)


def search_folders(data_dir=None):
    """[(folder, what it is)] in lookup order: data_dir and $SCRATCHGEN_DATA (each also with its
    mnist/ subfolder), then the cache folder."""
    return files.search_folders(SUBFOLDER, data_dir)


def find_mnist_file(name, data_dir=None, download=True, progress=None):
    """The path of MNIST file `name`: the first of `search_folders(data_dir)` that holds it, or
    a fresh download into `cache_dir()` (showing its progress where `progress` says)."""
    folders = search_folders(data_dir)
    urls = [mirror + name for mirror in MIRRORS]
    try:
        return files.find_or_download(name, folders, urls, lambda contents, source: _decode_verified(
            contents, name, source), download, progress)
    except files.Missing as outcome:
        raise FileNotFoundError(
            f"load_mnist: MNIST file {name} not found; looked in {files.looked_in(folders)}; {outcome}. Put the "
            f"MNIST files ({_ALL_FILES}) in a folder and pass it as data_dir= (CLI: --data-dir) or set "
            f"${ENV_VAR} to it, or put them in {cache_dir()}") from None


# ---- decoding, once per process --------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _decode_split(images_file, labels_file):
    images = _decode_file(images_file)
    labels = _decode_file(labels_file).astype(numpy.int64)
    labels.flags.writeable = False
    return MNIST(images, labels)


def _decode_file(file):
    with open(file.path, "rb") as handle:
        compressed = handle.read()
    try:
        return _decode_verified(compressed, file.name, source=file.path)
    except ValueError as error:
        raise ValueError(f"{error}; delete or replace the file (a missing file is downloaded again "
                         f"into {cache_dir()})") from None


def _decode_verified(compressed, name, source):
    """The array in the gzip'ed IDX bytes `compressed`, checked against MNIST file `name`'s md5."""
    contents = idx.gunzip(compressed, source)
    array = idx.parse(contents, source)
    digest = hashlib.md5(contents).hexdigest()
    if digest != MD5[name]:
        raise ValueError(f"{source}: checksum mismatch: the md5 of its decompressed contents is {digest}, "
                         f"the MNIST file {name} has {MD5[name]} (corrupt, or a different file)")
    array.flags.writeable = False
    return array


# ---- pixel scalings ----------------------------------------------------------------------------
def to_unit_range(images):
    """uint8 pixels -> float32 in [0, 1] (x / 255, as torchvision's ToTensor)."""
    return images.astype(numpy.float32) / numpy.float32(255)


def to_tanh_range(images):
    """uint8 pixels -> float32 in [-1, 1], the range of a tanh output (DCGAN, Radford 2015, Sec. 4)."""
    return images.astype(numpy.float32) / numpy.float32(127.5) - numpy.float32(1)


def binarize(images, threshold=0.5):
    """Fixed binarisation: 1.0 where the intensity (uint8 / 255, or a float in [0, 1]) exceeds
    `threshold`, else 0.0; float32."""
    return (_intensity(images) > threshold).astype(numpy.float32)


class DynamicBinarize:
    """Dynamic binarisation (Salakhutdinov & Murray 2008; IWAE, Burda 2015): each pixel is a fresh
    Bernoulli sample with p = its intensity, every time a batch is drawn. Use it as a
    DataLoader `transform`; its generator state is part of the loader's state_dict."""

    def __init__(self, generator=None):
        self.generator = generator if generator is not None else generator_from_global_seed()

    def __call__(self, images):
        probability = _intensity(images)
        uniform = self.generator.uniform(probability.shape, numpy.float32, as_tensor(probability).device)
        return (uniform < probability).astype(numpy.float32)  # P(uniform < p) = p

    def state_dict(self):
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state):
        self.generator.set_state(state["generator"])


def _intensity(images):
    return to_unit_range(images) if images.dtype == numpy.uint8 else images


def flatten_images(images):
    """(N, 28, 28) -> (N, 784), for MLPs."""
    return images.reshape(len(images), -1)


def add_channel_dim(images):
    """(N, 28, 28) -> (N, 1, 28, 28), for convolutions (NCHW)."""
    return images.reshape(len(images), 1, *images.shape[1:])
