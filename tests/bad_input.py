"""What tests/test_bad_input.py is made of, shared with the tables of ops added later
(tests/bad_input_specs_*.py, each registering its ops with @spec and its layers with @layer):
the check that a call fails clearly, value makers, and the breakages that turn a valid call
into a bad one."""
import importlib.util
import os
import re
import traceback
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st

import scratchgen as sg

EXAMPLES = settings(max_examples=max(1, settings.default.max_examples // 5), deadline=None)
CLEAR = (ValueError, TypeError, RuntimeError)
CLEAR_OR_INDEX = CLEAR + (IndexError,)
RNG = np.random.default_rng(0)


def _package_folders(*names):
    folders = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            folders += [os.path.realpath(p) + os.sep for p in spec.submodule_search_locations]
    return tuple(folders)


FOREIGN = _package_folders("numpy", "cupy", "cupy_backends")


def assert_clear_error(call, ops, args, errors=CLEAR):
    """`call()` raises one of `errors` whose message names one of `ops` (as `op:`) and one of
    `args` (as a word), from a frame of scratchgen, not of NumPy or CuPy."""
    ops, args = (ops,) if isinstance(ops, str) else ops, (args,) if isinstance(args, str) else args
    try:
        call()
    except errors as error:
        message = str(error)
        last = os.path.realpath(traceback.extract_tb(error.__traceback__)[-1].filename)
        assert not last.startswith(FOREIGN), f"raised inside {last}: {type(error).__name__}: {message}"
        assert any(f"{op}:" in message for op in ops), f"the message does not name {ops}: {message!r}"
        assert any(re.search(rf"(?<![\w.]){re.escape(arg)}(?!\w)", message) for arg in args), (
            f"the message does not name the argument {args}: {message!r}")
        return error
    except Exception as error:  # noqa: BLE001 (the point is to show what came instead)
        pytest.fail(f"{type(error).__name__} instead of {'/'.join(e.__name__ for e in errors)}: {error}")
    pytest.fail(f"accepted a call that should fail (naming {ops}, {args})")


# ---- values ---------------------------------------------------------------------------------

def shape(d, min_dims=0, max_dims=3, min_side=1, max_side=3):
    return tuple(d.draw(st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims)))


def floating(d):
    return d.draw(st.sampled_from([np.float32, np.float64]))


def tensor(shape, dtype=np.float32, low=-1.0, high=1.0):
    return sg.tensor(RNG.uniform(low, high, shape).astype(dtype))


def labels(shape, classes):
    return sg.tensor(RNG.integers(0, classes, shape), dtype=sg.int64)


def as_list(value):
    return value.tolist() if value.ndim else [value.item()]


def cast(value, dtype):
    return sg.tensor(value.numpy().astype(dtype))


# ---- breakages: each replaces one argument of a valid call -----------------------------------

class Break(NamedTuple):
    label: str           # the parametrize id
    arg: tuple           # the names, one of which the message must contain
    apply: object        # (data, params) -> None (params changed in place) or a list of broken params
    errors: tuple = CLEAR


def broken_calls(b, data, params):
    """The broken variants of a valid call: every listed wrong value is tried each time."""
    variants = b.apply(data, params)
    return [params] if variants is None else variants


def names(arg):
    return (arg,) if isinstance(arg, str) else tuple(arg)


def wrong_type(arg, kinds=("list", "none", "string", "array")):
    """A list, None, a string or a NumPy array where a Tensor is required."""
    def apply(d, p):
        value = p[arg]
        made = {"list": lambda: as_list(value), "none": lambda: None, "string": lambda: "abc",
                "array": lambda: value.numpy()}
        return [{**p, arg: made[kind]()} for kind in kinds]
    return Break(f"{arg}-type", names(arg), apply)


def wrong_dtype(arg, *dtypes, also=None):
    def apply(d, p):
        return [{**p, **{name: cast(p[name], dtype) for name in (arg,) + ((also,) if also else ())}}
                for dtype in dtypes]
    return Break(f"{arg}-dtype", names(arg) + ((also,) if also else ()), apply)


def wrong_value(arg, values, label="value", errors=CLEAR, named=None):
    """p[arg] = each of `values` (or of values(p)) in turn."""
    def apply(d, p):
        return [{**p, arg: value} for value in (values(p) if callable(values) else values)]
    return Break(f"{arg}-{label}", named or names(arg), apply, errors)


def wrong_shape(arg, new_shape, label="shape", named=None):
    """p[arg] = a tensor of p[arg]'s dtype and the shape new_shape(data, params)."""
    def apply(d, p):
        old = p[arg]
        p[arg] = tensor(new_shape(d, p), old.dtype) if old.dtype.kind == "f" else sg.tensor(
            np.zeros(new_shape(d, p), dtype=old.dtype))
    return Break(f"{arg}-{label}", named or names(arg), apply)


def dim_out_of_range(arg, rank=lambda p: p["input"].ndim):
    def apply(d, p):
        r = max(rank(p), 1)
        return [{**p, arg: value} for value in (r, r + 2, -r - 1)]
    return Break(f"{arg}-range", names(arg), apply, CLEAR_OR_INDEX)


def dim_wrong_type(arg):
    return wrong_value(arg, ["0", 1.5, [[0]]], "type")


def changed(d, p, dims, arg="input"):
    """p[arg]'s shape with the sides at `dims` changed (each +1)."""
    s = list(p[arg].shape)
    for i in dims:
        s[i] += 1
    return tuple(s)


# ---- the table of scratchgen.functional: name -> (valid call, breakages) --------------------

SPECS = {}


def spec(*op_names, breaks):
    def register(valid):
        for name in op_names:
            SPECS[name] = (valid, tuple(breaks))
        return valid
    return register



LAYER_SPECS = {}


def layer(*layer_names, ops, breaks):
    def register(valid):
        for name in layer_names:
            LAYER_SPECS[name] = (valid, tuple(breaks), tuple(ops))
        return valid
    return register
