"""Bad input for the indexing and rearranging ops of issue 21 (gather, scatter_add,
index_select, masked_fill, sort, topk: ops/indexing.py; flip, roll, tril, triu, repeat, tile,
pixel_shuffle, pixel_unshuffle: ops/rearrange.py) and the layers nn.PixelShuffle and
nn.PixelUnshuffle, registered into the tables that tests/test_bad_input.py runs."""
import numpy as np
from hypothesis import strategies as st

import scratchgen as sg
from bad_input import (CLEAR_OR_INDEX, Break, dim_out_of_range, dim_wrong_type, floating, layer, shape, spec,
                       tensor, wrong_dtype, wrong_shape, wrong_type, wrong_value)

FLAG_VALUES = ["yes", None, 1.5]
INDEX_DTYPES = (np.float32, np.bool_)


def index_array(d, index_shape, size):
    """A non-empty int64 index of `index_shape` with values in [0, size)."""
    return sg.tensor(np.array(d.draw(st.lists(st.integers(0, size - 1), min_size=int(np.prod(index_shape)),
                                              max_size=int(np.prod(index_shape))))).reshape(index_shape))


def out_of_range(size_of):
    """The index shifted past either end of the indexed dim."""
    return wrong_value("index", lambda p: [p["index"] + size_of(p), p["index"] - size_of(p)], "range",
                       errors=CLEAR_OR_INDEX)


def along(p):
    return p["input"].shape[p["dim"]]


def one_larger_off_dim(d, p, arg="index"):
    """`arg`'s shape with a side off dim one larger than input's there."""
    s = list(p[arg].shape)
    other = (p["dim"] + 1) % p["input"].ndim
    s[other] = p["input"].shape[other] + 1
    return tuple(s)


# ---- ops/indexing.py ---------------------------------------------------------------------------------

def gather_call(d):
    x = tensor(shape(d, min_dims=2, max_dims=3), floating(d))
    dim = d.draw(st.integers(-x.ndim, x.ndim - 1))
    index_shape = tuple(d.draw(st.integers(1, 3)) if i == dim % x.ndim else d.draw(st.integers(1, n))
                        for i, n in enumerate(x.shape))
    return {"input": x, "dim": dim, "index": index_array(d, index_shape, x.shape[dim])}


INDEX_BREAKS = [wrong_type("input"), wrong_type("index"), wrong_dtype("index", *INDEX_DTYPES),
                dim_out_of_range("dim"), dim_wrong_type("dim"), out_of_range(along)]

spec("gather", breaks=INDEX_BREAKS + [
    wrong_shape("index", lambda d, p: p["index"].shape + (1,), "rank"),
    wrong_shape("index", one_larger_off_dim, "larger"),
])(gather_call)


@spec("scatter_add", breaks=INDEX_BREAKS + [
    wrong_type("src"),
    wrong_value("src", lambda p: [p["src"].double() if p["src"].dtype == np.float32 else p["src"].float()],
                "dtype"),
    wrong_shape("index", lambda d, p: p["index"].shape + (1,), "rank"),
    wrong_shape("index", lambda d, p: one_larger_off_dim(d, {**p, "src": p["src"]}), "larger",
                named=("index",)),
    wrong_shape("src", lambda d, p: p["index"].shape[:-1] + (p["index"].shape[-1] - 1,), "smaller",
                named=("src",)),
])
def scatter_add_call(d):
    p = gather_call(d)
    return {**p, "src": tensor(tuple(n + d.draw(st.integers(0, 1)) for n in p["index"].shape), p["input"].dtype)}


@spec("index_select", breaks=INDEX_BREAKS + [
    wrong_shape("index", lambda d, p: (1, 1), "rank"),
])
def index_select_call(d):
    x = tensor(shape(d, min_dims=1), floating(d))
    dim = d.draw(st.integers(-x.ndim, x.ndim - 1))
    return {"input": x, "dim": dim, "index": index_array(d, (d.draw(st.integers(1, 4)),), x.shape[dim])}


@spec("masked_fill", breaks=[
    wrong_type("input"), wrong_type("mask"),
    wrong_value("mask", lambda p: [p["mask"].float(), p["mask"].long()], "dtype"),
    wrong_value("mask", lambda p: [sg.ones(*(p["input"].shape[:-1] + (p["input"].shape[-1] + 1,))) > 0], "shape",
                named=("input", "mask")),
    wrong_value("value", ["abc", None, [1.0], sg.ones(2)]),
])
def masked_fill_call(d):
    s = shape(d, min_dims=1)
    x = tensor(s[:-1] + (max(s[-1], 2),), floating(d))  # a last side of 1 would broadcast with any mask
    mask = tensor(x.shape[d.draw(st.integers(0, x.ndim)):]) > 0
    value = d.draw(st.sampled_from([-1.0, 0, float("inf")]))
    return {"input": x, "mask": mask, "value": sg.tensor(value) if d.draw(st.booleans()) else value}


@spec("sort", breaks=[wrong_type("input"), dim_out_of_range("dim"), dim_wrong_type("dim"),
                      wrong_value("descending", FLAG_VALUES), wrong_value("stable", ["yes", 1.5])])
def sort_call(d):
    x = tensor(shape(d), floating(d))
    return {"input": x, "dim": d.draw(st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1)),
            "descending": d.draw(st.booleans()), "stable": d.draw(st.sampled_from([False, True, None]))}


@spec("topk", breaks=[
    wrong_type("input"), wrong_dtype("input", np.bool_), dim_out_of_range("dim"), dim_wrong_type("dim"),
    wrong_value("k", lambda p: [-1, along(p) + 1, 1.5, "1", None]),
    wrong_value("largest", FLAG_VALUES), wrong_value("sorted", FLAG_VALUES),
])
def topk_call(d):
    x = tensor(shape(d, min_dims=1), floating(d))
    dim = d.draw(st.integers(-x.ndim, x.ndim - 1))
    return {"input": x, "k": d.draw(st.integers(0, x.shape[dim])), "dim": dim, "largest": d.draw(st.booleans()),
            "sorted": True}


# ---- ops/rearrange.py --------------------------------------------------------------------------------

def any_call(d, min_dims=1):
    return {"input": tensor(shape(d, min_dims=min_dims), floating(d))}


DIMS_NAMES = ("dims", "dim")


def repeated_dim(d, p):
    p["dims"] = (0, -p["input"].ndim)


@spec("flip", breaks=[
    wrong_type("input"),
    Break("dims-range", DIMS_NAMES, lambda d, p: [{**p, "dims": (v,)} for v in (p["input"].ndim, -p["input"].ndim - 1)],
          CLEAR_OR_INDEX),
    wrong_value("dims", [("0",), (1.5,), ([0],)], "type", named=DIMS_NAMES),
    Break("dims-duplicate", DIMS_NAMES, repeated_dim),
])
def flip_call(d):
    p = any_call(d)
    n = p["input"].ndim
    return {**p, "dims": tuple(d.draw(st.lists(st.integers(-n, n - 1), max_size=n, unique_by=lambda i: i % n)))}


@spec("roll", breaks=[
    wrong_type("input"),
    wrong_value("shifts", ["a", 1.5, None, ("a",)]),
    wrong_value("dims", lambda p: [p["input"].ndim, -p["input"].ndim - 1], "range", errors=CLEAR_OR_INDEX),
    wrong_value("dims", ["0", 1.5], "type"),
    Break("dims-align", ("shifts", "dims"), lambda d, p: [{**p, "shifts": (1, 2), "dims": (0,)},
                                                         {**p, "shifts": (1, 2), "dims": None}]),
])
def roll_call(d):
    p = any_call(d)
    n = p["input"].ndim
    if d.draw(st.booleans()):
        return {**p, "shifts": d.draw(st.integers(-3, 3)), "dims": None}
    rolled = tuple(d.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=2)))
    return {**p, "shifts": tuple(d.draw(st.integers(-3, 3)) for _ in rolled), "dims": rolled}


spec("tril", "triu", breaks=[
    wrong_type("input"), wrong_shape("input", lambda d, p: (3,), "rank"),
    wrong_value("diagonal", [1.5, "a", None]),
])(lambda d: {**any_call(d, min_dims=2), "diagonal": d.draw(st.integers(-3, 3))})


@spec("repeat", breaks=[
    wrong_type("input"),
    wrong_value("sizes", lambda p: [(-1,) * p["input"].ndim, ("a",) * p["input"].ndim, (1.5,) * p["input"].ndim,
                                    (2,) * (p["input"].ndim - 1)]),
])
def repeat_call(d):
    p = any_call(d)
    return {**p, "sizes": tuple(d.draw(st.lists(st.integers(0, 2), min_size=p["input"].ndim,
                                                max_size=p["input"].ndim + 1)))}


spec("tile", breaks=[wrong_type("input"), wrong_value("dims", [(-1,), ("a",), (1.5, 1), (None,)])])(
    lambda d: {**any_call(d, min_dims=0), "dims": tuple(d.draw(st.lists(st.integers(0, 2), max_size=3)))})


def image_call(d, factor_arg, shuffle):
    r = d.draw(st.integers(1, 2))
    batch = (d.draw(st.integers(1, 2)),) if d.draw(st.booleans()) else ()
    c, h, w = (d.draw(st.integers(1, 2)) for _ in range(3))
    sides = (c * r * r, h, w) if shuffle else (c, h * r, w * r)
    return {"input": tensor(batch + sides, floating(d)), factor_arg: r}


def factor_breaks(factor_arg, shuffle):
    def indivisible(d, p):
        s = p["input"].shape
        p[factor_arg] = 2
        p["input"] = tensor(s[:-3] + ((3, 2, 2) if shuffle else (1, 3, 2)), p["input"].dtype)
    return [wrong_type("input"), wrong_shape("input", lambda d, p: (4, 4), "rank"),
            wrong_value(factor_arg, [0, -1, 1.5, "2", None]),
            Break("input-indivisible", ("input", factor_arg), indivisible)]


spec("pixel_shuffle", breaks=factor_breaks("upscale_factor", True))(
    lambda d: image_call(d, "upscale_factor", True))
spec("pixel_unshuffle", breaks=factor_breaks("downscale_factor", False))(
    lambda d: image_call(d, "downscale_factor", False))


# ---- nn/pixel_shuffle.py -------------------------------------------------------------------------------

def layer_call(d, factor_arg, shuffle):
    p = image_call(d, factor_arg, shuffle)
    return {factor_arg: p[factor_arg], "input": p["input"]}


layer("PixelShuffle", ops=["pixel_shuffle"], breaks=factor_breaks("upscale_factor", True))(
    lambda d: layer_call(d, "upscale_factor", True))
layer("PixelUnshuffle", ops=["pixel_unshuffle"], breaks=factor_breaks("downscale_factor", False))(
    lambda d: layer_call(d, "downscale_factor", False))
