"""Tiny Shakespeare (karpathy/char-rnn's `input.txt`): found, downloaded if missing, verified by
its md5, read once per process; its character vocabulary, and the text cut into fixed-length
sequences of one-hot characters for the character-level WGAN-GP language model (Gulrajani et
al. 2017, Sec. 5; gan_language.py uses 32 characters).

Where `load_tinyshakespeare` looks for `input.txt`, in this order (files.py does the looking and
downloading), in each folder and in its `tinyshakespeare/` subfolder:

    1. `data_dir` (the CLI's --data-dir)
    2. $SCRATCHGEN_DATA
    3. the cache folder, $XDG_CACHE_HOME/scratchgen/tinyshakespeare (default ~/.cache/...)

A file found nowhere is downloaded (when `download=True`) from karpathy/char-rnn into the
cache folder, checked, and only then renamed into place.

    text = load_tinyshakespeare()                       # str, 1,115,394 characters
    train, held_out = split_text(text)                  # the first 90%, the last 10%
    indices = sequences(encode(train))                  # (N, 32) int64, non-overlapping
    x = one_hot(indices)                                # (N, 65, 32) float32: (batch, character, position)
"""
import functools
import hashlib

import numpy

from ..progress import progress_to
from . import files
from .files import ENV_VAR

SUBFOLDER = "tinyshakespeare"
FILE = "input.txt"
MD5 = "6fb458f1232090904fb40fe944165e91"
SIZE = 1_115_394  # characters (the file is ASCII, so also bytes)
URLS = ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",)
# sorted(set(text)) of the md5-checked file (tests/test_wgan_gp_lm.py checks it): 65 characters
VOCABULARY = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
VOCAB_SIZE = len(VOCABULARY)
SEQ_LEN = 32               # gan_language.py's SEQ_LEN
HELD_OUT_FRACTION = 0.1    # the last 10% of the text is held out for evaluation
TRAIN_CHARACTERS = SIZE - int(SIZE * HELD_OUT_FRACTION)
TRAIN_SEQUENCES = TRAIN_CHARACTERS // SEQ_LEN
_INDEX = {character: index for index, character in enumerate(VOCABULARY)}


def load_tinyshakespeare(data_dir=None, download=True, progress=None):
    """The whole of Tiny Shakespeare as a str, md5-checked. Raises FileNotFoundError saying where
    it looked and why it was not downloaded, ValueError for a file whose md5 differs."""
    with progress_to(progress):
        path = find_tinyshakespeare(data_dir, download)
    return _read(files.FileVersion.of(FILE, path))


def cache_dir():
    """Where a download goes: $XDG_CACHE_HOME/scratchgen/tinyshakespeare, or ~/.cache/scratchgen/tinyshakespeare."""
    return files.cache_dir(SUBFOLDER)


def find_tinyshakespeare(data_dir=None, download=True, progress=None):
    """The path of input.txt: the first of the search folders that holds it, or a download."""
    folders = files.search_folders(SUBFOLDER, data_dir)
    try:
        return files.find_or_download(FILE, folders, URLS, _check, download, progress)
    except files.Missing as outcome:
        raise FileNotFoundError(
            f"load_tinyshakespeare: {FILE} not found; looked in {files.looked_in(folders)}; {outcome}. Put Tiny "
            f"Shakespeare's {FILE} (karpathy/char-rnn, data/tinyshakespeare) in a folder and pass it as data_dir= "
            f"(CLI: --data-dir) or set ${ENV_VAR} to it, or put it in {cache_dir()}") from None


def _check(contents, source):
    digest = hashlib.md5(contents).hexdigest()
    if digest != MD5:
        raise ValueError(f"{source}: checksum mismatch: its md5 is {digest}, Tiny Shakespeare's {FILE} has {MD5} "
                         f"(corrupt, or a different file)")


@functools.lru_cache(maxsize=None)
def _read(file):
    with open(file.path, "rb") as handle:
        contents = handle.read()
    try:
        _check(contents, file.path)
    except ValueError as error:
        raise ValueError(f"{error}; delete or replace the file (a missing file is downloaded again into "
                         f"{cache_dir()})") from None
    return contents.decode("ascii")


def split_text(text, held_out=HELD_OUT_FRACTION):
    """(training text, held-out text): the last `held_out` of the characters are held out."""
    cut = len(text) - int(len(text) * held_out)
    return text[:cut], text[cut:]


def encode(text):
    """Characters -> their indices in VOCABULARY, int64; ValueError for a character outside it."""
    try:
        return numpy.fromiter((_INDEX[character] for character in text), numpy.int64, len(text))
    except KeyError as error:
        raise ValueError(f"encode: character {error.args[0]!r} is not in the vocabulary") from None


def decode(indices):
    """Indices (L,) -> a str; (N, L) -> a list of N strs."""
    indices = numpy.asarray(indices)
    if indices.ndim == 1:
        return "".join(VOCABULARY[i] for i in indices)
    return [decode(row) for row in indices]


def sequences(indices, seq_len=SEQ_LEN):
    """(N, seq_len): the indices cut into consecutive non-overlapping sequences (the rest dropped)."""
    count = len(indices) // seq_len
    return numpy.ascontiguousarray(numpy.asarray(indices)[:count * seq_len].reshape(count, seq_len))


def one_hot(indices, vocab_size=VOCAB_SIZE):
    """(N, L) indices -> (N, vocab_size, L) float32 one-hot: characters as the channels of a conv1d."""
    indices = numpy.asarray(indices)
    return (indices[:, None, :] == numpy.arange(vocab_size)[None, :, None]).astype(numpy.float32)


def to_text(probabilities):
    """(N, vocab, L) character distributions (or one-hot rows) -> N strs of their argmax characters."""
    return decode(numpy.asarray(probabilities).argmax(axis=1))


class OneHot:
    """A DataLoader transform: a batch of (N, L) indices -> its (N, vocab, L) one-hot floats."""

    def __init__(self, vocab_size=VOCAB_SIZE):
        self.vocab_size = vocab_size

    def __call__(self, indices):
        return one_hot(indices, self.vocab_size)
