"""Where a dataset's files are looked for, and how a missing one is downloaded, for every
dataset of scratchgen.data (mnist.py, binarized_mnist.py).

A dataset named by its `subfolder` ("mnist", "binarized_mnist") is looked for, in this order,
in each folder of `search_folders(subfolder, data_dir)`:

    1. `data_dir` (the CLI's --data-dir), then its `subfolder`
    2. $SCRATCHGEN_DATA, then its `subfolder`
    3. the cache folder, $XDG_CACHE_HOME/scratchgen/<subfolder> (default ~/.cache/scratchgen/...)

A file found nowhere is downloaded into the cache folder (the last of the folders) from the
first URL that serves bytes its dataset's check accepts, and only then renamed into place, so a
failed or interrupted download leaves nothing behind. A download shows its progress
(scratchgen.progress: a bar on a terminal, lines in a log).
"""
import http.client
import os
import pathlib
import urllib.request
from typing import NamedTuple

from ..progress import ProgressBar, note, progress_to
from ..serialization import write_atomically

ENV_VAR = "SCRATCHGEN_DATA"
DOWNLOAD_TIMEOUT_S = 60
DOWNLOAD_CHUNK = 1 << 16  # bytes read at a time, for the progress bar


def cache_dir(subfolder):
    """Where downloads of `subfolder`'s dataset go: $XDG_CACHE_HOME/scratchgen/<subfolder>, or
    ~/.cache/scratchgen/<subfolder>."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"  # empty means unset (XDG spec)
    return pathlib.Path(cache_home) / "scratchgen" / subfolder


def search_folders(subfolder, data_dir=None):
    """[(folder, what it is)] in lookup order: data_dir and $SCRATCHGEN_DATA (each also with its
    `subfolder`), then the cache folder."""
    roots = [] if data_dir is None else [(pathlib.Path(data_dir).expanduser(), "data_dir")]
    if os.environ.get(ENV_VAR):
        roots.append((pathlib.Path(os.environ[ENV_VAR]).expanduser(), f"${ENV_VAR}"))
    folders = [(folder, what) for root, what in roots for folder in (root, root / subfolder)]
    return folders + [(cache_dir(subfolder), "cache")]


def looked_in(folders):
    """The folders of `search_folders`, as an error message lists them."""
    return ", ".join(f"{folder} ({what})" for folder, what in folders)


def first_found(name, folders):
    """The path of `name` in the first of `folders` that holds it, or None."""
    for folder, _ in folders:
        if (folder / name).is_file():
            return folder / name
    return None


class Missing(Exception):
    """A file found in none of the folders, and not downloaded; the message says why not."""


def find_or_download(name, folders, urls, check, download=True, progress=None):
    """The path of file `name`: the first of `folders` that holds it, or a download from the
    first of `urls` whose bytes `check(contents, source)` accepts (it raises ValueError naming
    `source` otherwise), written atomically into the last folder (the cache). Raises Missing
    saying why it was not downloaded."""
    found = first_found(name, folders)
    if found is not None:
        return found
    if not download:
        raise Missing("download=False, so it was not downloaded")
    with progress_to(progress):
        return _download(name, urls, folders[-1][0], check)


def _download(name, urls, folder, check):
    failures = []
    for url in urls:
        note(f"downloading {url} into {folder}")
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
                contents = _read_with_progress(response, name)
        except (OSError, http.client.HTTPException) as error:  # URLError and timeouts are OSErrors
            failures.append(f"{url}: {error}")
            continue
        try:
            check(contents, url)
        except ValueError as error:  # the message starts with the url
            failures.append(str(error))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(folder / name, lambda file: file.write(contents))
        return folder / name
    raise Missing("downloading it failed: " + "; ".join(failures))


def _read_with_progress(response, name):
    """The whole body of `response`, read a chunk at a time under a progress bar (its total from
    the Content-Length header, when the server sends one)."""
    headers = getattr(response, "headers", None)
    length = headers.get("Content-Length") if headers is not None else None
    total = int(length) if length is not None and length.isdigit() else None
    chunks, received = [], 0
    with ProgressBar(total, name, unit="MB", scale=1e6) as bar:
        while True:
            chunk = response.read(DOWNLOAD_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
            bar.update(received)
    return b"".join(chunks)


class FileVersion(NamedTuple):
    """Dataset file `name` as it is on disk now, at `path` with links resolved: an in-memory
    cache of decoded files is keyed by it, so a replaced file is read again."""
    name: str
    path: str
    modified_ns: int
    size: int

    @classmethod
    def of(cls, name, path):
        path = pathlib.Path(path).resolve()
        stat = path.stat()
        return cls(name, str(path), stat.st_mtime_ns, stat.st_size)
