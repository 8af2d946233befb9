"""sg.save / sg.load: nested values come back with the same types and bits, writes are atomic,
and damaged or foreign files are refused with a clear error."""
import gc
import json
import math
import os
import tempfile

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import scratchgen as sg

TRUNCATED = "is not a complete scratchgen file \\(truncated or corrupt\\)"


def assert_same(saved, loaded):
    """Equal values of exactly the same types, all the way down (NaN equals NaN)."""
    assert type(loaded) is type(saved), f"{type(saved).__name__} came back as {type(loaded).__name__}"
    if isinstance(saved, sg.Tensor):
        assert (loaded.dtype, loaded.requires_grad, loaded.device) == (saved.dtype, saved.requires_grad, saved.device)
        np.testing.assert_array_equal(loaded.array, saved.array, strict=True)
    elif isinstance(saved, (np.ndarray, np.generic)):
        np.testing.assert_array_equal(loaded, saved, strict=True)
    elif isinstance(saved, (list, tuple)):
        assert len(loaded) == len(saved)
        for a, b in zip(saved, loaded):
            assert_same(a, b)
    elif isinstance(saved, dict):
        assert len(loaded) == len(saved)
        for (saved_key, saved_value), (key, value) in zip(saved.items(), loaded.items()):
            assert_same(saved_key, key)
            assert_same(saved_value, value)
    elif isinstance(saved, float) and math.isnan(saved):
        assert math.isnan(loaded)
    else:
        assert loaded == saved


def round_trip(obj, directory):
    path = os.path.join(directory, "obj.npz")
    sg.save(obj, path)
    return sg.load(path)


array_dtypes = st.sampled_from([np.float32, np.float64, np.int64, np.bool_])
ndarrays = array_dtypes.flatmap(lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, min_side=0, max_side=3)))
tensors = st.tuples(ndarrays, st.booleans()).map(
    lambda a: sg.tensor(a[0], requires_grad=a[1] and a[0].dtype.kind == "f"))
numpy_scalars = ndarrays.filter(lambda a: a.size > 0).map(lambda a: a.flat[0])
python_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8))
keys = st.one_of(st.text(max_size=5), st.integers(), st.tuples(st.integers(), st.text(max_size=3)))
nested = st.recursive(
    st.one_of(python_scalars, ndarrays, tensors, numpy_scalars),
    lambda children: st.one_of(st.lists(children, max_size=3), st.tuples(children, children),
                               st.dictionaries(keys, children, max_size=3)),
    max_leaves=12)


@given(nested)
def test_nested_values_round_trip_with_their_types(obj):
    with tempfile.TemporaryDirectory() as directory:
        assert_same(obj, round_trip(obj, directory))


def test_a_checkpoint_round_trips(tmp_path):
    generator = sg.Generator(5)
    generator.normal((7,), np.float64, "cpu")
    checkpoint = {
        "model": {"fc.weight": sg.randn(3, 2), "fc.bias": sg.zeros(3, dtype=sg.float64), "count": sg.tensor(4)},
        "arrays": [np.float32(1.5), np.zeros((0, 3)), np.array(2.0), np.array([True, False]),
                   np.arange(3, dtype=np.int64)],
        "scalars": (None, True, 0, -2**200, 1.0, float("inf"), -0.0, "héllo"),
        "int keys": {0: "zero", "0": "string zero", (1, "a"): [], 1.5: ()},
        "param": sg.ones(2, requires_grad=True),
        "rng": generator.get_state(),
        "step": 10,
    }
    loaded = round_trip(checkpoint, tmp_path)
    assert_same(checkpoint, loaded)
    resumed = sg.Generator()
    resumed.set_state(loaded["rng"])
    np.testing.assert_array_equal(resumed.normal((5,), np.float64, "cpu"), generator.normal((5,), np.float64, "cpu"))


def test_loaded_tensors_are_independent_writable_leaves(tmp_path):
    loaded = round_trip({"w": sg.ones(3, requires_grad=True)}, tmp_path)["w"]
    assert loaded.is_leaf and loaded.requires_grad
    with sg.no_grad():
        loaded.add_(1.0)
    assert loaded.tolist() == [2.0, 2.0, 2.0]
    assert round_trip(sg.ones(2), tmp_path).device == "cpu"
    assert sg.load(tmp_path / "obj.npz", map_location="cpu").tolist() == [1.0, 1.0]


def test_the_file_is_a_plain_npz_with_a_json_manifest(tmp_path):
    path = tmp_path / "model.npz"
    sg.save({"w": sg.ones(2)}, path)
    with np.load(path, allow_pickle=False) as archive:
        manifest = json.loads(archive["__scratchgen__"].tobytes())
        (name,) = set(archive.files) - {"__scratchgen__"}
        np.testing.assert_array_equal(archive[name], np.ones(2, np.float32))
    assert manifest["scratchgen_version"] == sg.__version__ and manifest["format_version"] == 1
    assert manifest["root"] == {"dict": [["w", {"tensor": name, "requires_grad": False, "device": "cpu"}]]}


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    sg.save({"step": 1, "w": sg.ones(2)}, path)

    def savez_that_dies_midway(file, **arrays):
        file.write(b"PK\x03\x04 half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(np, "savez", savez_that_dies_midway)
    with pytest.raises(OSError, match="No space left"):
        sg.save({"step": 2, "w": sg.zeros(2)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["checkpoint.npz"]
    loaded = sg.load(path)
    assert loaded["step"] == 1 and loaded["w"].tolist() == [1.0, 1.0]


def test_an_interrupted_write_leaves_no_temporary(tmp_path, monkeypatch):
    def interrupted(file, **arrays):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sg.save(1, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_saving_over_a_file_replaces_it(tmp_path):
    path = tmp_path / "x.npz"
    sg.save([1, 2], path)
    sg.save((3,), path)
    assert sg.load(path) == (3,) and os.listdir(tmp_path) == ["x.npz"]


# a refused file is closed, not left open for the collector to warn about (from __del__: "unraisable")
@pytest.mark.filterwarnings("error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning")
def test_a_truncated_file_is_refused(tmp_path):
    path = tmp_path / "x.npz"
    sg.save({"w": sg.randn(4, 3), "step": 3}, path)
    whole = path.read_bytes()
    for length in range(0, len(whole), 37):
        path.write_bytes(whole[:length])
        with pytest.raises(ValueError, match=f"load: {path} {TRUNCATED}"):
            sg.load(path)
        gc.collect()


def test_a_corrupt_file_is_refused(tmp_path):
    path = tmp_path / "x.npz"
    sg.save({"w": np.arange(100.0)}, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the array's bytes: the zip CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=TRUNCATED):
        sg.load(path)


def test_a_foreign_file_is_refused(tmp_path):
    foreign = "was not written by scratchgen.save"
    np.savez(tmp_path / "numpy.npz", w=np.ones(2))
    (tmp_path / "notes.txt").write_text("hello")
    np.save(tmp_path / "array.npy", np.ones(2))
    for name in ["numpy.npz", "notes.txt", "array.npy"]:
        with pytest.raises(ValueError, match=f"load: {tmp_path / name} {foreign}"):
            sg.load(tmp_path / name)


def test_a_file_from_a_newer_format_is_refused(tmp_path):
    manifest = {"format": "scratchgen.save", "format_version": 2, "scratchgen_version": "9.0", "root": 1}
    np.savez(tmp_path / "new.npz", __scratchgen__=np.frombuffer(json.dumps(manifest).encode(), np.uint8))
    with pytest.raises(ValueError, match="has format version 2 \\(written by scratchgen 9.0\\); this scratchgen "
                                         "reads version 1"):
        sg.load(tmp_path / "new.npz")


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"load: no such file: {tmp_path / 'nope.npz'}"):
        sg.load(tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError, match="save: cannot write .*: directory .*missing does not exist"):
        sg.save(1, tmp_path / "missing" / "x.npz")


def test_unsupported_values_are_named_by_where_they_are(tmp_path):
    with pytest.raises(TypeError, match=r"save: cannot save set at obj\['a'\]\[1\]; expected a Tensor"):
        sg.save({"a": [1, {2}]}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match=r"save: obj\[0\] is an array of Python objects \(dtype object\)"):
        sg.save([np.array([None, 1])], tmp_path / "x.npz")
    with pytest.raises(TypeError, match="dict key .* has type Tensor"):
        sg.save({sg.ones(1): 1}, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []
