"""sg.save / sg.load: Tensors, arrays and Python values, nested in dicts, lists and tuples,
in one NumPy .npz archive without pickle.

Every array is stored under its own key ("array_0", "array_1", ...). A JSON manifest, stored
as UTF-8 bytes under the key "__scratchgen__", records the nesting and the exact types:

    None, bool, int, float, str   themselves (JSON keeps big ints exact, floats by repr)
    list, tuple                   {"list": [...]}, {"tuple": [...]}
    dict                          {"dict": [[key, value], ...]}  (keys keep their type: 0 vs "0")
    Tensor                        {"tensor": "array_3", "requires_grad": false, "device": "cpu"}
    numpy.ndarray                 {"ndarray": "array_4"}
    NumPy scalar                  {"numpy_scalar": "array_5"}  (numpy.float32(1.5) stays one)

The file is written to a temporary file in the same directory, flushed, fsync'ed and renamed
over `path` (os.replace is atomic), so a kill mid-write never leaves a partial file there.
Arrays of Python objects are refused, so nothing is ever pickled. A Tensor reached twice is
stored twice and comes back as two independent Tensors.
"""
import json
import os
import secrets
import zipfile
import zlib

import numpy

from . import backends
from .autograd.tensor import Tensor, as_tensor
from .version import __version__

MANIFEST_KEY = "__scratchgen__"
FORMAT = "scratchgen.save"
FORMAT_VERSION = 1
_ZIP_MAGIC = b"PK\x03\x04"
_SCALARS = (type(None), bool, int, float, str)


def save(obj, path):
    """Write `obj` (a Tensor, array, number, str, bool, None, or dicts/lists/tuples of those:
    a state_dict, a checkpoint) to `path` atomically."""
    path = os.fspath(path)
    encoder = _Encoder()
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "scratchgen_version": __version__,
                "root": encoder.encode(obj, "obj")}
    arrays = {**encoder.arrays,
              MANIFEST_KEY: numpy.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=numpy.uint8)}
    write_atomically(path, lambda file: numpy.savez(file, **arrays))


def load(path, map_location=None):
    """Read what `save` wrote: the same nesting and types; Tensors keep their dtype and come
    back on the device they were saved from, or on `map_location` ("cpu" | "cuda") if given."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    manifest, arrays = _read_archive(path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"load: {path} was not written by scratchgen.save (no scratchgen manifest)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"load: {path} has format version {manifest.get('format_version')} (written by "
                         f"scratchgen {manifest.get('scratchgen_version')}); this scratchgen reads "
                         f"version {FORMAT_VERSION}")
    try:
        return _decode(manifest["root"], arrays, map_location)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"load: {path} is not a complete scratchgen file (truncated or corrupt): "
                         f"bad manifest entry ({error!r})") from None


# ---- writing ------------------------------------------------------------------------------
class _Encoder:
    """Turns a nested object into a JSON-able manifest node, collecting its arrays on the way."""

    def __init__(self):
        self.arrays = {}

    def encode(self, obj, where):
        if isinstance(obj, Tensor):
            host = backends.get(obj.array).to_host(obj.array)
            return {"tensor": self._add(host, where), "requires_grad": obj.requires_grad, "device": obj.device}
        if isinstance(obj, numpy.ndarray):
            return {"ndarray": self._add(obj, where)}
        if isinstance(obj, numpy.generic):  # before the scalars: numpy.float64 subclasses float
            return {"numpy_scalar": self._add(numpy.asarray(obj), where)}
        if isinstance(obj, _SCALARS):
            return obj
        if isinstance(obj, (list, tuple)):
            tag = "tuple" if isinstance(obj, tuple) else "list"
            return {tag: [self.encode(item, f"{where}[{i}]") for i, item in enumerate(obj)]}
        if isinstance(obj, dict):
            return {"dict": [[self._key(key, where), self.encode(value, f"{where}[{key!r}]")]
                             for key, value in obj.items()]}
        raise TypeError(f"save: cannot save {type(obj).__name__} at {where}; expected a Tensor, a NumPy "
                        "array, a number, str, bool, None, or a dict/list/tuple of those")

    def _key(self, key, where):
        if not isinstance(key, _SCALARS + (tuple,)):
            raise TypeError(f"save: dict key {key!r} in {where} has type {type(key).__name__}; keys must "
                            "be str, int, float, bool, None or tuples of those")
        return self.encode(key, f"{where} key")

    def _add(self, array, where):
        if array.dtype.hasobject:
            raise TypeError(f"save: {where} is an array of Python objects (dtype object), which cannot "
                            "be saved without pickle")
        name = f"array_{len(self.arrays)}"
        self.arrays[name] = array
        return name


def write_atomically(path, write):
    """Write through `write(file)` to a temporary file beside `path`, then rename it over `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileNotFoundError:
        raise FileNotFoundError(f"save: cannot write {path}: directory {directory} does not exist") from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX; a directory cannot be opened on Windows)."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# ---- reading ------------------------------------------------------------------------------
def _read_archive(path):
    """(manifest or None, {name: array}) of an .npz file, every array read into memory."""
    with open(path, "rb") as file:
        magic = file.read(len(_ZIP_MAGIC))
    if magic != _ZIP_MAGIC:
        if _ZIP_MAGIC.startswith(magic):
            raise ValueError(f"load: {path} is not a complete scratchgen file (truncated or corrupt): "
                             f"only {len(magic)} bytes")
        raise ValueError(f"load: {path} was not written by scratchgen.save (not an .npz archive)")
    try:
        with open(path, "rb") as file, numpy.load(file, allow_pickle=False) as archive:  # closed if it fails
            arrays = {name: archive[name] for name in archive.files}
        manifest = arrays.pop(MANIFEST_KEY, None)
        return None if manifest is None else json.loads(manifest.tobytes().decode("utf-8")), arrays
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as error:
        raise ValueError(f"load: {path} is not a complete scratchgen file (truncated or corrupt): "
                         f"{error}") from None


def _decode(node, arrays, map_location):
    if not isinstance(node, dict):
        return node
    if "tensor" in node:
        device = map_location or node["device"]
        tensor = as_tensor(arrays[node["tensor"]], device=device)
        return tensor.requires_grad_(node["requires_grad"])
    if "ndarray" in node:
        return arrays[node["ndarray"]]
    if "numpy_scalar" in node:
        return arrays[node["numpy_scalar"]][()]
    if "list" in node:
        return [_decode(item, arrays, map_location) for item in node["list"]]
    if "tuple" in node:
        return tuple(_decode(item, arrays, map_location) for item in node["tuple"])
    return {_decode(key, arrays, map_location): _decode(value, arrays, map_location)
            for key, value in node["dict"]}
