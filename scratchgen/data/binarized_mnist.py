"""Binarized MNIST with the static binarization and the 50,000 / 10,000 / 10,000 split of
Salakhutdinov & Murray 2008 ("train", "valid", "test"), the set PixelCNN/PixelRNN, MADE and most
likelihood papers report test NLL on: 784 pixels of 0 or 1 per image, fixed once for all.

    train = load_binarized_mnist("train")     # uint8 (50000, 784), read-only, 0 or 1

Where it looks (files.py: data_dir, then $SCRATCHGEN_DATA, each also with its binarized_mnist/
subfolder, then the cache $XDG_CACHE_HOME/scratchgen/binarized_mnist):

    1. binarized_mnist.npz, the three splits as rows of packed bits (`numpy.packbits(axis=1)`,
       arrays "train", "valid", "test"), checked against its md5;
    2. else the published source of the split, binarized_mnist_<split>.amat (despite its name a
       MATLAB level-5 MAT-file holding one matrix "X", read by matfile.py), checked against its
       md5 and downloaded into the cache when it is found nowhere (and `download=True`).

The source files are those of the public repository mingzhang-yin/ARM-gradient, at a fixed
commit; the .npz is their lossless conversion (the same bits).
"""
import functools
import hashlib
import io

import numpy

from ..progress import progress_to
from . import files, matfile
from .files import ENV_VAR

SUBFOLDER = "binarized_mnist"
PACKED_FILE = "binarized_mnist.npz"
PACKED_MD5 = "e0fddb4034a264df42ab19348843fcc7"
SPLITS = {"train": 50_000, "valid": 10_000, "test": 10_000}
PIXELS = 784
SOURCE_FILES = {split: f"binarized_mnist_{split}.amat" for split in SPLITS}
SOURCE_MD5 = {"binarized_mnist_train.amat": "4e26f7a5b466cfcde0fa4876fa4b60a6",
              "binarized_mnist_valid.amat": "3c8c0bae400a11eda4c6caf6642d7d34",
              "binarized_mnist_test.amat": "3478bd31ef84368bf30234a011d886fa"}
SOURCE_COMMIT = "bac893cfcec486bbd00b755b12cf8402053b0e84"
MIRRORS = (f"https://raw.githubusercontent.com/mingzhang-yin/ARM-gradient/{SOURCE_COMMIT}/",
           f"https://github.com/mingzhang-yin/ARM-gradient/raw/{SOURCE_COMMIT}/")
SOURCE_MATRIX = "X"


def load_binarized_mnist(split="train", data_dir=None, download=True, progress=None):
    """The "train" (50,000 images), "valid" (10,000) or "test" (10,000) split as a read-only uint8
    array (N, 784) of 0s and 1s, rows in raster order. A download shows its progress where
    `progress` says (None: the current default, stderr)."""
    if split not in SPLITS:
        raise ValueError(f"load_binarized_mnist: split must be one of {', '.join(map(repr, SPLITS))}, got {split!r}")
    folders = search_folders(data_dir)
    packed = files.first_found(PACKED_FILE, folders)
    if packed is not None:
        return _decode_packed(files.FileVersion.of(PACKED_FILE, packed))[split]
    source = SOURCE_FILES[split]
    urls = [mirror + source for mirror in MIRRORS]
    try:
        with progress_to(progress):
            path = files.find_or_download(source, folders, urls, lambda contents, where: _verified(
                contents, source, SOURCE_MD5[source], where), download)
    except files.Missing as outcome:
        raise FileNotFoundError(
            f"load_binarized_mnist: binarized MNIST file not found: neither {PACKED_FILE} nor the source file {source}; looked in "
            f"{files.looked_in(folders)}; {outcome}. Put {PACKED_FILE} (or the source files "
            f"{', '.join(SOURCE_FILES.values())}) in a folder and pass it as data_dir= (CLI: --data-dir) or set "
            f"${ENV_VAR} to it, or put them in {cache_dir()}") from None
    return _decode_source(files.FileVersion.of(source, path))


def cache_dir():
    """Where downloads go: $XDG_CACHE_HOME/scratchgen/binarized_mnist (default under ~/.cache)."""
    return files.cache_dir(SUBFOLDER)


def search_folders(data_dir=None):
    """[(folder, what it is)] in lookup order (files.search_folders)."""
    return files.search_folders(SUBFOLDER, data_dir)


# ---- decoding, once per process --------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _decode_packed(file):
    """{split: (N, 784) uint8} of the .npz at file.path."""
    arrays = numpy.load(io.BytesIO(_read(file, PACKED_MD5)))
    return {split: _checked_split(numpy.unpackbits(arrays[split], axis=1)[:, :PIXELS], split, file.path)
            for split in SPLITS}


@functools.lru_cache(maxsize=None)
def _decode_source(file):
    contents = _read(file, SOURCE_MD5[file.name])
    matrices = matfile.read_matrices(contents, file.path)
    split = next(split for split, name in SOURCE_FILES.items() if name == file.name)
    if SOURCE_MATRIX not in matrices:
        raise ValueError(f"{file.path}: no matrix {SOURCE_MATRIX!r}, found {sorted(matrices)}")
    return _checked_split(matrices[SOURCE_MATRIX].astype(numpy.uint8), split, file.path)


def _read(file, md5):
    with open(file.path, "rb") as handle:
        contents = handle.read()
    try:
        return _verified(contents, file.name, md5, file.path)
    except ValueError as error:
        raise ValueError(f"{error}; delete or replace the file (a source file found nowhere is downloaded "
                         f"again into {cache_dir()})") from None


def _verified(contents, name, md5, source):
    digest = hashlib.md5(contents).hexdigest()
    if digest != md5:
        raise ValueError(f"{source}: checksum mismatch: its md5 is {digest}, the binarized MNIST file {name} has "
                         f"{md5} (corrupt, or a different file)")
    return contents


def _checked_split(images, split, source):
    expected = (SPLITS[split], PIXELS)
    if images.shape != expected or images.max(initial=0) > 1:
        raise ValueError(f"{source}: the {split} split should be {expected} pixels of 0 or 1, got shape "
                         f"{images.shape} with largest value {images.max(initial=0)}")
    images.flags.writeable = False
    return images
