"""MNIST: found where a user would put it (data_dir, then $SCRATCHGEN_DATA, then the cache),
downloaded atomically and verified, refused with a clear error when missing or damaged, decoded
once per process; the IDX reader; the pixel scalings and binarisations.

The real files come from ../shared/data/mnist beside the repository (as in CI); no test
downloads anything: an autouse fixture fails any call to urllib.request.urlopen that a test
has not replaced with a local fake (or pointed at a local HTTP server on 127.0.0.1)."""
import functools
import gzip
import http.client
import http.server
import io
import os
import pathlib
import re
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest

from scratchgen.data import DynamicBinarize, add_channel_dim, binarize, flatten_images, load_mnist, to_tanh_range
from scratchgen.data import to_unit_range
from scratchgen import progress
from scratchgen.data import idx, mnist
from scratchgen.random import Generator

REAL_URLOPEN = urllib.request.urlopen  # before any fixture replaces it
SHARED_MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
TEST_IMAGES, TEST_LABELS = mnist.FILES["test"]
LABEL_COUNTS = {"test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
                "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]}


@pytest.fixture(scope="module")
def shared_mnist():
    missing = [name for name in mnist.MD5 if not (SHARED_MNIST / name).is_file()]
    if missing:
        pytest.fail(f"the MNIST files {missing} are missing from {SHARED_MNIST}; the tests expect the shared "
                    "data folder at ../shared/data beside the repository (see its README.md)")
    return SHARED_MNIST


@pytest.fixture(scope="module")
def splits(shared_mnist):
    """Both splits, loaded once for the module through $SCRATCHGEN_DATA, as a user would."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(mnist.ENV_VAR, str(shared_mnist))
        return {split: load_mnist(split, download=False) for split in ("train", "test")}


def _refuse_network(url, *args, **kwargs):
    pytest.fail(f"a test tried to download {url}")


@pytest.fixture(autouse=True)
def isolated_lookup(tmp_path, monkeypatch):
    """A fresh cache folder, no $SCRATCHGEN_DATA, and no network, for every test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv(mnist.ENV_VAR, raising=False)
    monkeypatch.setattr(urllib.request, "urlopen", _refuse_network)


def test_cache_dir_follows_xdg_cache_home(tmp_path):
    assert mnist.cache_dir() == tmp_path / "xdg-cache" / "scratchgen" / "mnist"


# ---- the splits --------------------------------------------------------------------------------
@pytest.mark.parametrize("split, size", [("train", 60_000), ("test", 10_000)])
def test_splits_have_the_standard_shapes_and_the_readme_label_counts(splits, split, size):
    images, labels = splits[split]
    assert (images.shape, images.dtype, labels.shape, labels.dtype) == ((size, 28, 28), np.uint8, (size,), np.int64)
    assert np.bincount(labels, minlength=10).tolist() == LABEL_COUNTS[split]
    assert (images.min(), images.max()) == (0, 255)


def test_arrays_are_decoded_once_per_process_and_read_only(splits, shared_mnist):
    again = load_mnist("test", data_dir=shared_mnist.parent, download=False)  # found via its mnist/ subfolder
    assert again.images is splits["test"].images and again.labels is splits["test"].labels
    with pytest.raises(ValueError, match="read-only"):
        again.images[0, 0, 0] = 1


def test_a_file_replaced_on_disk_is_read_again(shared_mnist, tmp_path):
    folder = _folder_of_test_files(tmp_path / "data", shared_mnist)
    load_mnist("test", data_dir=folder, download=False)
    labels = folder / TEST_LABELS
    labels.unlink()
    labels.write_bytes(gzip.compress(_decompressed(shared_mnist / TEST_LABELS)[:-1]))
    with pytest.raises(ValueError, match="wrong size"):
        load_mnist("test", data_dir=folder, download=False)


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="load_mnist: split must be 'train' or 'test', got 'valid'"):
        load_mnist("valid")


# ---- where the files are looked up -------------------------------------------------------------
def _decompressed(path):
    return gzip.decompress(path.read_bytes())


def _folder_of_test_files(folder, shared_mnist, labels_bytes=None):
    """`folder` holding the test split: links to the shared files, or `labels_bytes` as its labels file."""
    folder.mkdir(parents=True)
    (folder / TEST_IMAGES).symlink_to(shared_mnist / TEST_IMAGES)
    if labels_bytes is None:
        (folder / TEST_LABELS).symlink_to(shared_mnist / TEST_LABELS)
    else:
        (folder / TEST_LABELS).write_bytes(labels_bytes)
    return folder


def test_data_dir_comes_before_the_environment_variable(shared_mnist, tmp_path, monkeypatch):
    given = _folder_of_test_files(tmp_path / "given", shared_mnist)
    from_env = _folder_of_test_files(tmp_path / "env", shared_mnist, labels_bytes=b"broken")
    monkeypatch.setenv(mnist.ENV_VAR, str(from_env))
    assert np.bincount(load_mnist("test", data_dir=given, download=False).labels).tolist() == LABEL_COUNTS["test"]
    with pytest.raises(ValueError, match=str(from_env / TEST_LABELS)):
        load_mnist("test", download=False)


@pytest.mark.parametrize("through", ["data_dir", "environment"])
def test_a_folder_under_the_home_directory_may_be_written_with_a_tilde(shared_mnist, tmp_path, monkeypatch, through):
    monkeypatch.setenv("HOME", str(tmp_path))
    _folder_of_test_files(tmp_path / "data", shared_mnist)
    data_dir = "~/data"
    if through == "environment":
        monkeypatch.setenv(mnist.ENV_VAR, data_dir)
        data_dir = None
    assert len(load_mnist("test", data_dir=data_dir, download=False).labels) == 10_000


def test_environment_variable_comes_before_the_cache(shared_mnist, tmp_path, monkeypatch):
    _folder_of_test_files(mnist.cache_dir(), shared_mnist, labels_bytes=b"broken")
    monkeypatch.setenv(mnist.ENV_VAR, str(_folder_of_test_files(tmp_path / "env", shared_mnist)))
    assert len(load_mnist("test", download=False).labels) == 10_000
    monkeypatch.delenv(mnist.ENV_VAR)
    with pytest.raises(ValueError, match=str(mnist.cache_dir() / TEST_LABELS)):
        load_mnist("test", download=False)


def test_a_link_to_a_differently_named_copy_is_checked_as_the_file_it_stands_for(shared_mnist, tmp_path):
    copy = tmp_path / "downloads" / "labels (1).gz"
    copy.parent.mkdir()
    copy.write_bytes((shared_mnist / TEST_LABELS).read_bytes())
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / TEST_IMAGES).symlink_to(shared_mnist / TEST_IMAGES)
    (folder / TEST_LABELS).symlink_to(copy)
    assert len(load_mnist("test", data_dir=folder, download=False).labels) == 10_000


def test_missing_files_offline_say_which_file_where_it_looked_and_where_to_put_it(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("Temporary failure in name resolution")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    given, from_env = tmp_path / "given", tmp_path / "env"
    monkeypatch.setenv(mnist.ENV_VAR, str(from_env))
    with pytest.raises(FileNotFoundError) as error:
        load_mnist("test", data_dir=given)
    message = str(error.value)
    for part in [f"MNIST file {TEST_IMAGES} not found", f"{given} (data_dir)", f"{given / 'mnist'} (data_dir)",
                 f"{from_env} ($SCRATCHGEN_DATA)", f"{from_env / 'mnist'} ($SCRATCHGEN_DATA)",
                 f"{mnist.cache_dir()} (cache)", "Temporary failure in name resolution",
                 *(mirror + TEST_IMAGES for mirror in mnist.MIRRORS),
                 "--data-dir", "set $SCRATCHGEN_DATA", f"or put them in {mnist.cache_dir()}"]:
        assert part in message
    assert "\n" not in message
    assert not mnist.cache_dir().exists()


def test_missing_files_with_download_off_never_touch_the_network(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{TEST_IMAGES} not found.*download=False, so it was not downloaded"):
        load_mnist("test", data_dir=tmp_path / "empty", download=False)


# ---- damaged files -----------------------------------------------------------------------------
def _labels_with(shared_mnist, edit):
    contents = bytearray(_decompressed(shared_mnist / TEST_LABELS))
    edit(contents)
    return gzip.compress(bytes(contents))


def _one_label_changed(contents):
    contents[8] = (contents[8] + 1) % 10


DAMAGED_LABELS = {
    "truncated gzip": (lambda shared: (shared / TEST_LABELS).read_bytes()[:2000], "not a complete gzip file"),
    "not gzip at all": (lambda shared: b"<html>404 Not Found</html>", "not a complete gzip file"),
    "wrong magic": (lambda shared: _labels_with(shared, lambda c: c.__setitem__(0, 8)), "not an IDX file"),
    "cut contents": (lambda shared: _labels_with(shared, lambda c: c.__delitem__(slice(-100, None))),
                     "wrong size for its IDX header: shape \\(10000,\\) of 1-byte elements needs 10008 bytes, "
                     "the file has 9908"),
    "one label changed": (lambda shared: _labels_with(shared, _one_label_changed),
                          "checksum mismatch: the md5 of its decompressed contents is [0-9a-f]{32}, the MNIST "
                          f"file {TEST_LABELS} has {mnist.MD5[TEST_LABELS]}"),
}


@pytest.mark.parametrize("damage", DAMAGED_LABELS)
def test_damaged_files_are_refused_with_an_error_naming_the_file(damage, shared_mnist, tmp_path):
    make_bytes, expected = DAMAGED_LABELS[damage]
    folder = _folder_of_test_files(tmp_path / "data", shared_mnist, labels_bytes=make_bytes(shared_mnist))
    with pytest.raises(ValueError, match=f"^{folder / TEST_LABELS}: {expected}"):
        load_mnist("test", data_dir=folder, download=False)


# ---- downloading -------------------------------------------------------------------------------
def _fake_mirrors(monkeypatch, shared_mnist, serve=None):
    """Replace urlopen by local mirrors serving the shared files (or `serve(url, real_bytes)`);
    return the list of requested URLs."""
    requested = []

    def urlopen(url, timeout):
        requested.append(url)
        real = (shared_mnist / url.rsplit("/", 1)[1]).read_bytes()
        return io.BytesIO(real if serve is None else serve(url, real))
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return requested


def _watch_renames(monkeypatch):
    """Record each os.replace as (source name, destination, whether the destination existed)."""
    renames, real_replace = [], os.replace

    def replace(source, destination):
        assert pathlib.Path(source).parent == pathlib.Path(destination).parent  # same folder: an atomic rename
        renames.append((pathlib.Path(source).name, pathlib.Path(destination), os.path.exists(destination)))
        real_replace(source, destination)
    monkeypatch.setattr(os, "replace", replace)
    return renames


def test_missing_files_are_downloaded_into_the_cache_atomically_and_verified(splits, shared_mnist, monkeypatch):
    requested = _fake_mirrors(monkeypatch, shared_mnist)
    renames = _watch_renames(monkeypatch)
    images, labels = load_mnist("test")
    cache = mnist.cache_dir()
    assert requested == [mnist.MIRRORS[0] + TEST_IMAGES, mnist.MIRRORS[0] + TEST_LABELS]
    assert [(destination, existed) for _, destination, existed in renames] == [
        (cache / TEST_IMAGES, False), (cache / TEST_LABELS, False)]
    assert all(source.startswith(".") and source.endswith(".tmp") for source, _, _ in renames)
    assert sorted(os.listdir(cache)) == sorted([TEST_IMAGES, TEST_LABELS])  # no temporary file left
    for name in (TEST_IMAGES, TEST_LABELS):
        assert (cache / name).read_bytes() == (shared_mnist / name).read_bytes()
    np.testing.assert_array_equal(images, splits["test"].images)
    np.testing.assert_array_equal(labels, splits["test"].labels)
    load_mnist("test")
    assert len(requested) == 2  # found in the cache the second time


def _http_404(url, real):
    raise urllib.error.HTTPError(url, 404, "Not Found", None, None)


def _incomplete_read(url, real):
    raise http.client.IncompleteRead(real[:100])


FIRST_MIRROR_FAILURES = {"HTTP 404": _http_404, "connection cut": _incomplete_read,
                         "truncated file": lambda url, real: real[:1000]}


@pytest.mark.parametrize("failure", FIRST_MIRROR_FAILURES)
def test_a_failed_download_tries_the_next_mirror(failure, splits, shared_mnist, monkeypatch):
    fail = FIRST_MIRROR_FAILURES[failure]
    requested = _fake_mirrors(monkeypatch, shared_mnist,
                              serve=lambda url, real: fail(url, real) if url.startswith(mnist.MIRRORS[0]) else real)
    images, _ = load_mnist("test")
    assert requested == [mirror + name for name in (TEST_IMAGES, TEST_LABELS) for mirror in mnist.MIRRORS]
    np.testing.assert_array_equal(images, splits["test"].images)


def test_a_download_failing_on_every_mirror_leaves_nothing_behind(shared_mnist, monkeypatch):
    def corrupt(url, real):
        return _labels_with(shared_mnist, _one_label_changed) if url.endswith(TEST_LABELS) else real
    _fake_mirrors(monkeypatch, shared_mnist, serve=corrupt)
    with pytest.raises(FileNotFoundError) as error:
        load_mnist("test")
    for mirror in mnist.MIRRORS:
        assert f"{mirror}{TEST_LABELS}: checksum mismatch" in str(error.value)
    assert os.listdir(mnist.cache_dir()) == [TEST_IMAGES]


# ---- a download's progress --------------------------------------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no request log on stderr
        pass


@pytest.fixture
def local_mirror(shared_mnist, monkeypatch):
    """An HTTP server on 127.0.0.1 serving the shared files (with Content-Length), as the only
    mirror, reached by the real urlopen; each read of a response takes one second of a fake clock
    (scratchgen.progress.clock). Returns the clock's readings: a list whose one entry is now."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(shared_mnist)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(mnist, "MIRRORS", (f"http://127.0.0.1:{server.server_address[1]}/",))
    monkeypatch.setenv("no_proxy", "*")
    now = [1000.0]
    monkeypatch.setattr(progress, "clock", lambda: now[0])
    real_urlopen = REAL_URLOPEN  # the one the autouse fixture replaced

    class SlowResponse:
        def __init__(self, response):
            self.response, self.headers = response, response.headers

        def read(self, size=-1):
            now[0] += 1.0
            return self.response.read(size)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.response.close()
    monkeypatch.setattr(urllib.request, "urlopen",
                        lambda url, timeout: SlowResponse(real_urlopen(url, timeout=timeout)))
    yield now
    server.shutdown()
    server.server_close()


def test_a_download_shows_its_progress_in_a_log(splits, local_mirror, capsys):
    log = io.StringIO()
    images, _ = load_mnist("test", progress=log)
    np.testing.assert_array_equal(images, splits["test"].images)
    lines = log.getvalue().splitlines()
    url = mnist.MIRRORS[0] + TEST_IMAGES
    assert lines[0] == f"scratchgen: downloading {url} into {mnist.cache_dir()}"
    # 1,648,877 bytes in reads of 64 KiB, one a second: 26 s; a line after 5 s, then every 5 s (10% = 2.5 reads)
    assert [int(re.search(r" 0m(\d\d)s elapsed", line).group(1)) for line in lines[1:7]] == [5, 10, 15, 20, 25, 26]
    assert lines[1] == f"{TEST_IMAGES} 0.3/1.6 MB [###.................] | 0m05s elapsed | 0.066 MB/s | 0m20s left"
    assert lines[6] == f"{TEST_IMAGES} 1.6/1.6 MB [####################] | 0m26s elapsed | 0.063 MB/s | 0m00s left"
    # the labels (4542 bytes): one read, then the read that finds the end, 2 s: shown once, as it ends
    assert lines[7:] == [
        f"scratchgen: downloading {mnist.MIRRORS[0] + TEST_LABELS} into {mnist.cache_dir()}",
        f"{TEST_LABELS} 0.005/0.005 MB [####################] | 0m02s elapsed | 0.0023 MB/s | 0m00s left"]
    assert "\r" not in log.getvalue() and capsys.readouterr().err == ""


def test_a_download_with_progress_off_writes_nothing(splits, local_mirror, capsys):
    load_mnist("test", progress=False)
    assert sorted(os.listdir(mnist.cache_dir())) == sorted([TEST_IMAGES, TEST_LABELS])
    assert capsys.readouterr().err == ""


def test_a_download_shows_its_progress_on_stderr_by_default(splits, local_mirror, capsys):
    load_mnist("test")
    err = capsys.readouterr().err
    assert f"{TEST_IMAGES} 1.6/1.6 MB [####################]" in err and err.count("scratchgen: downloading") == 2


# ---- the IDX reader ----------------------------------------------------------------------------
def _idx_bytes(array, type_code):
    header = bytes([0, 0, type_code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(idx.ELEMENT_TYPES[type_code]).tobytes()


@pytest.mark.parametrize("type_code", idx.ELEMENT_TYPES)
def test_idx_parse_reads_every_element_type_big_endian(type_code):
    dtype = np.dtype(idx.ELEMENT_TYPES[type_code]).newbyteorder("=")
    array = (np.arange(24).reshape(2, 3, 4) * (-1) ** np.arange(24).reshape(2, 3, 4)).astype(dtype)
    if dtype == np.uint8:
        array = np.abs(array)
    parsed = idx.parse(_idx_bytes(array, type_code), "x.idx")
    np.testing.assert_array_equal(parsed, array, strict=True)


@pytest.mark.parametrize("contents, expected", [
    (b"\x00\x00", "x.idx: 2 bytes is too short for an IDX header"),
    (b"\x00\x00\x07\x01" + bytes(5), "x.idx: not an IDX file: magic number 00000701"),
    (b"\x00\x00\x08\x03" + bytes(4), "x.idx: truncated IDX header: 3 dimensions need 16 header bytes, the file has 8"),
    (b"\x00\x00\x0c\x01\x00\x00\x00\x02" + bytes(9), "x.idx: wrong size for its IDX header: shape \\(2,\\) of "
                                                     "4-byte elements needs 16 bytes, the file has 17"),
])
def test_idx_parse_refuses_malformed_contents(contents, expected):
    with pytest.raises(ValueError, match=f"^{expected}"):
        idx.parse(contents, "x.idx")


# ---- pixel scalings ----------------------------------------------------------------------------
def test_unit_and_tanh_ranges(splits):
    images = splits["test"].images[:100]
    unit, tanh = to_unit_range(images), to_tanh_range(images)
    assert unit.dtype == tanh.dtype == np.float32 and unit.shape == tanh.shape == images.shape
    np.testing.assert_allclose(unit, images / 255.0, rtol=1e-6)
    np.testing.assert_allclose(tanh, images / 127.5 - 1, atol=1e-6)
    assert (unit.min(), unit.max(), tanh.min(), tanh.max()) == (0, 1, -1, 1)


def test_fixed_binarisation_thresholds_intensity_at_one_half(splits):
    images = splits["test"].images[:100]
    binary = binarize(images)
    assert binary.dtype == np.float32
    np.testing.assert_array_equal(binary, images >= 128)  # 127 / 255 < 0.5 < 128 / 255
    np.testing.assert_array_equal(binarize(to_unit_range(images)), binary)


def test_dynamic_binarisation_is_a_fresh_bernoulli_sample_of_the_intensity():
    pixels = np.tile(np.arange(256, dtype=np.uint8), (4000, 1))
    binary = DynamicBinarize(Generator(0))(pixels)
    assert binary.dtype == np.float32 and set(np.unique(binary)) == {0.0, 1.0}
    assert binary[:, 0].max() == 0 and binary[:, 255].min() == 1
    p = np.arange(256) / 255
    assert np.all(np.abs(binary.mean(axis=0) - p) <= 5 * np.sqrt(p * (1 - p) / len(pixels)) + 1e-12)


def test_dynamic_binarisation_repeats_with_its_seed_and_resumes_from_its_state(splits):
    images = splits["test"].images[:8]
    first, second = DynamicBinarize(Generator(3)), DynamicBinarize(Generator(3))
    draws = [first(images) for _ in range(2)]
    np.testing.assert_array_equal(second(images), draws[0])
    assert not np.array_equal(draws[0], draws[1])
    resumed = DynamicBinarize(Generator(99))
    resumed.load_state_dict(second.state_dict())
    np.testing.assert_array_equal(resumed(images), draws[1])


def test_flatten_and_channel_layouts(splits):
    images = splits["test"].images[:5]
    np.testing.assert_array_equal(flatten_images(images)[3], images[3].ravel())
    assert flatten_images(images).shape == (5, 784)
    np.testing.assert_array_equal(add_channel_dim(images)[:, 0], images)
    assert add_channel_dim(images).shape == (5, 1, 28, 28)
