"""The static binarized MNIST: found where MNIST is found (data_dir, its binarized_mnist/ subfolder,
$SCRATCHGEN_DATA, the cache), the packed .npz or the published MAT-file sources checked by md5, a
missing source downloaded atomically from the first mirror that serves it intact, a clear error
offline; the MAT-file reader; the `binarized-mnist` dataset of the training runs.

The real file comes from ../shared/data/binarized_mnist beside the repository; no test downloads
anything (urlopen is replaced for every test). The published sources are not in the shared folder,
so the download tests serve a MAT-file written here from the shared test split, with its own md5."""
import hashlib
import io
import os
import pathlib
import struct
import urllib.error
import urllib.request
import zlib

import numpy as np
import pytest

from scratchgen.data import binarized_mnist, load_binarized_mnist, matfile
from scratchgen.train import datasets

SHARED_DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"
SHARED = SHARED_DATA / "binarized_mnist"
TEST_SOURCE = binarized_mnist.SOURCE_FILES["test"]


@pytest.fixture(scope="module")
def shared():
    if not (SHARED / binarized_mnist.PACKED_FILE).is_file():
        pytest.fail(f"{binarized_mnist.PACKED_FILE} is missing from {SHARED}; the tests expect the shared data "
                    "folder at ../shared/data beside the repository (see its README.md)")
    return SHARED


@pytest.fixture(scope="module")
def splits(shared):
    return {split: load_binarized_mnist(split, data_dir=shared, download=False) for split in binarized_mnist.SPLITS}


def _refuse_network(url, *args, **kwargs):
    pytest.fail(f"a test tried to download {url}")


@pytest.fixture(autouse=True)
def isolated_lookup(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv(binarized_mnist.ENV_VAR, raising=False)
    monkeypatch.setattr(urllib.request, "urlopen", _refuse_network)


def test_the_three_splits_are_binary_images_of_the_published_sizes(splits):
    for split, size in {"train": 50_000, "valid": 10_000, "test": 10_000}.items():
        images = splits[split]
        assert images.shape == (size, 784) and images.dtype == np.uint8 and not images.flags.writeable
        assert set(np.unique(images)) == {0, 1}
        assert 0.12 < images.mean() < 0.14  # 13.1% of the pixels are ones (the data's README)


def test_it_is_found_in_the_subfolder_of_data_dir_and_of_the_environment_variable(splits, monkeypatch):
    np.testing.assert_array_equal(load_binarized_mnist("test", data_dir=SHARED_DATA, download=False), splits["test"])
    monkeypatch.setenv(binarized_mnist.ENV_VAR, str(SHARED_DATA))
    np.testing.assert_array_equal(load_binarized_mnist("valid", download=False), splits["valid"])


def test_a_bad_split_is_refused():
    with pytest.raises(ValueError, match="load_binarized_mnist: split must be one of 'train', 'valid', 'test', "
                                         "got 'validation'"):
        load_binarized_mnist("validation")


def test_missing_offline_names_what_it_looked_for_and_where(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("Temporary failure in name resolution")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    given = tmp_path / "given"
    with pytest.raises(FileNotFoundError) as error:
        load_binarized_mnist("test", data_dir=given)
    message = str(error.value)
    for part in [f"binarized MNIST file not found: neither {binarized_mnist.PACKED_FILE} nor the source file {TEST_SOURCE}",
                 f"{given} (data_dir)", f"{given / 'binarized_mnist'} (data_dir)",
                 f"{binarized_mnist.cache_dir()} (cache)", "Temporary failure in name resolution",
                 *(mirror + TEST_SOURCE for mirror in binarized_mnist.MIRRORS), "--data-dir", "$SCRATCHGEN_DATA"]:
        assert part in message
    assert "\n" not in message and not binarized_mnist.cache_dir().exists()


def test_missing_with_download_off_never_touches_the_network(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=False, so it was not downloaded"):
        load_binarized_mnist("test", data_dir=tmp_path, download=False)


def test_a_damaged_packed_file_is_refused_naming_it(shared, tmp_path):
    damaged = bytearray((shared / binarized_mnist.PACKED_FILE).read_bytes())
    damaged[-100] ^= 1
    (tmp_path / binarized_mnist.PACKED_FILE).write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match=f"^{tmp_path / binarized_mnist.PACKED_FILE}: checksum mismatch: its md5 "
                                         f"is [0-9a-f]{{32}}, the binarized MNIST file binarized_mnist.npz has "
                                         f"{binarized_mnist.PACKED_MD5}"):
        load_binarized_mnist("test", data_dir=tmp_path, download=False)


# ---- the published sources: MAT-files, downloaded when missing ---------------------------------------
def _element(kind, data, order):
    return struct.pack(order + "II", kind, len(data)) + data + bytes(-len(data) % 8)


def mat_file(matrices, order="<", compress=True):
    """A level-5 MAT-file holding `matrices` {name: 2-D array}, as MATLAB writes one (uint8 data
    of a double matrix, the name as a small element when it fits in 4 bytes)."""
    header = b"MATLAB 5.0 MAT-file, written by the tests".ljust(116) + bytes(8) + struct.pack(order + "H", 0x0100)
    contents = header + (b"IM" if order == "<" else b"MI")
    types = {np.dtype(code): kind for kind, code in matfile.NUMERIC_TYPES.items()}
    for name, array in matrices.items():
        encoded = name.encode()
        name_element = (struct.pack(order + "HH", 1, len(encoded)) + encoded.ljust(4, b"\0") if len(encoded) <= 4
                        else _element(1, encoded, order))
        data = array.T.astype(array.dtype.newbyteorder(order)).tobytes()
        matrix = (_element(6, struct.pack(order + "II", 6, 0), order) + _element(5, struct.pack(
            order + "2i", *array.shape), order) + name_element + _element(types[array.dtype], data, order))
        element = _element(matfile.MI_MATRIX, matrix, order)
        if compress:
            compressed = zlib.compress(element)
            element = struct.pack(order + "II", matfile.MI_COMPRESSED, len(compressed)) + compressed
        contents += element
    return contents


@pytest.mark.parametrize("order, compress", [("<", True), ("<", False), (">", False)])
def test_the_mat_file_reader_reads_column_major_matrices_in_their_stored_type(order, compress):
    matrices = {"X": np.arange(12, dtype=np.uint8).reshape(3, 4), "weights": np.linspace(-1, 1, 6).reshape(2, 3)}
    read = matfile.read_matrices(mat_file(matrices, order, compress), "m.mat")
    assert sorted(read) == ["X", "weights"]
    for name, array in matrices.items():
        np.testing.assert_array_equal(read[name], array, strict=True)


def _flipped(contents, at):
    return contents[:at] + bytes([contents[at] ^ 0xFF]) + contents[at + 1:]


@pytest.mark.parametrize("contents, expected", [
    (b"<html>404</html>", "not a MATLAB level-5 MAT-file"),
    (mat_file({"X": np.ones((2, 2), np.uint8)}, compress=False)[:-20], "truncated MAT-file: an element of"),
    (_flipped(mat_file({"X": np.ones((2, 2), np.uint8)}), -3), "a compressed element is corrupt"),
], ids=["html", "truncated", "corrupt zlib"])
def test_the_mat_file_reader_refuses_damaged_files(contents, expected):
    with pytest.raises(ValueError, match=f"^m.mat: {expected}"):
        matfile.read_matrices(contents, "m.mat")


@pytest.fixture
def served_source(splits, monkeypatch):
    """The test split as a MAT-file source (its md5 made the expected one); returns its bytes."""
    contents = mat_file({"X": splits["test"]})
    monkeypatch.setitem(binarized_mnist.SOURCE_MD5, TEST_SOURCE, hashlib.md5(contents).hexdigest())
    return contents


def _fake_mirrors(monkeypatch, serve):
    requested = []

    def urlopen(url, timeout):
        requested.append(url)
        return io.BytesIO(serve(url))
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return requested


def test_a_missing_source_is_downloaded_into_the_cache_verified_and_found_there_next_time(
        splits, served_source, monkeypatch, tmp_path):
    def serve(url):
        if url.startswith(binarized_mnist.MIRRORS[0]):
            return served_source[:-1000]  # cut short: refused, the next mirror is tried
        return served_source
    requested = _fake_mirrors(monkeypatch, serve)
    images = load_binarized_mnist("test", data_dir=tmp_path / "empty", progress=False)
    np.testing.assert_array_equal(images, splits["test"])
    assert not images.flags.writeable
    assert requested == [mirror + TEST_SOURCE for mirror in binarized_mnist.MIRRORS]
    assert os.listdir(binarized_mnist.cache_dir()) == [TEST_SOURCE]  # no temporary file left
    assert (binarized_mnist.cache_dir() / TEST_SOURCE).read_bytes() == served_source
    load_binarized_mnist("test", progress=False)
    assert len(requested) == 2


def test_a_download_failing_its_checksum_everywhere_leaves_nothing_behind(served_source, monkeypatch):
    _fake_mirrors(monkeypatch, lambda url: served_source[:-1] + b"\1")
    with pytest.raises(FileNotFoundError) as error:
        load_binarized_mnist("test", progress=False)
    for mirror in binarized_mnist.MIRRORS:
        assert f"{mirror}{TEST_SOURCE}: checksum mismatch" in str(error.value)
    assert not binarized_mnist.cache_dir().exists()


# ---- the dataset of the training runs ----------------------------------------------------------------
def test_the_binarized_mnist_dataset_gives_fixed_binary_batches_and_its_test_split(splits):
    config = {"dataset": "binarized-mnist", "seed": 0, "device": "cpu", "batch_size": 100, "data_dir": str(SHARED)}
    assert datasets.data_shape("binarized-mnist", "flat") == [784]
    assert datasets.num_classes("binarized-mnist") == 0 and datasets.dataset_size("binarized-mnist") == 50_000
    batches = datasets.training_batches(config, "chw", 1)
    assert batches.batches_per_epoch == 500
    (x,) = next(batches)
    assert x.shape == (100, 1, 28, 28) and x.dtype == np.float32
    assert set(np.unique(x.numpy())) == {0.0, 1.0}
    train = {row.tobytes() for row in splits["train"]}
    assert all(row.tobytes() in train for row in x.numpy().reshape(100, 784).astype(np.uint8))  # as published
    images, labels = datasets.test_set(config, "flat")
    assert labels is None
    np.testing.assert_array_equal(images, splits["test"])
