"""Bad input for issue 21's pooling, losses and similarity ops (avg_pool1d, max_pool1d,
adaptive_avg_pool1d, adaptive_max_pool1d/2d, l1_loss, smooth_l1_loss, huber_loss,
cosine_similarity, normalize) and issue 22's layers (the 1-D and adaptive max pooling
modules, CosineSimilarity and every loss module), registered into the tables that
tests/test_bad_input.py runs."""
import numpy as np
from hypothesis import strategies as st

import scratchgen as sg
from bad_input import (CLEAR_OR_INDEX, Break, dim_out_of_range, dim_wrong_type, floating, labels, layer, shape,
                       spec, tensor, wrong_dtype, wrong_shape, wrong_type, wrong_value)

REDUCTION = wrong_value("reduction", ["bogus", None, "MEAN"])


def signal(d, min_side=2):
    """(N, C, L) or (C, L) float tensor."""
    batch = (d.draw(st.integers(1, 2)),) if d.draw(st.booleans()) else ()
    return tensor(batch + (d.draw(st.integers(1, 2)), d.draw(st.integers(min_side, 5))), floating(d))


def image(d):
    batch = (d.draw(st.integers(1, 2)),) if d.draw(st.booleans()) else ()
    return tensor(batch + (d.draw(st.integers(1, 2)),) + shape(d, 2, 2, 2, 4), floating(d))


def rank(dims):
    """Inputs of a rank the op does not take (dims + 1 and dims + 2 are its own)."""
    return wrong_shape("input", lambda d, p: (2,) * d.draw(st.sampled_from([dims, dims + 3])), "rank")


def no_channels(d, p):
    return (1, 0) + tuple(p["input"].shape[2:] if p["input"].ndim > 2 else p["input"].shape[1:])


POOL1D_BREAKS = [
    wrong_type("input"), rank(1), wrong_shape("input", no_channels, "empty"),
    Break("kernel_size-value", ("kernel_size",),  # (a kernel past the end is valid with ceil_mode, as torch)
          lambda d, p: [{**p, "kernel_size": v, "ceil_mode": False}
                        for v in (0, -1, "2", (2, 2), p["input"].shape[-1] + 3)]),
    wrong_value("stride", [0, -1, "2", 1.5, (1, 1)]),
    wrong_value("padding", [-1, "1", 2]),
]


@spec("avg_pool1d", breaks=POOL1D_BREAKS)
def avg_pool1d_call(d):
    return {"input": signal(d), "kernel_size": 2, "stride": None, "padding": d.draw(st.sampled_from([0, 1])),
            "ceil_mode": d.draw(st.booleans()), "count_include_pad": d.draw(st.booleans())}


@spec("max_pool1d", breaks=POOL1D_BREAKS + [wrong_value("dilation", [0, -1, "1"])])
def max_pool1d_call(d):
    return {"input": signal(d), "kernel_size": 2, "stride": None, "padding": d.draw(st.sampled_from([0, 1])),
            "dilation": 1, "ceil_mode": d.draw(st.booleans()), "return_indices": d.draw(st.booleans())}


def adaptive_breaks(dims):
    return [wrong_type("input"), rank(dims), wrong_shape("input", no_channels, "empty"),
            wrong_value("output_size", [0, -1, "2", (1,) * (dims + 1), 1.5])]


@spec("adaptive_avg_pool1d", breaks=adaptive_breaks(1))
def adaptive_avg_pool1d_call(d):
    return {"input": signal(d, 1), "output_size": d.draw(st.sampled_from([1, 2, (3,), (None,)]))}


@spec("adaptive_max_pool1d", breaks=adaptive_breaks(1))
def adaptive_max_pool1d_call(d):
    return {**adaptive_avg_pool1d_call(d), "return_indices": d.draw(st.booleans())}


@spec("adaptive_max_pool2d", breaks=adaptive_breaks(2))
def adaptive_max_pool2d_call(d):
    return {"input": image(d), "output_size": d.draw(st.sampled_from([1, 2, (1, 3), (None, 2)])),
            "return_indices": d.draw(st.booleans())}


# ---- losses ----------------------------------------------------------------------------------------

def not_broadcastable(d, p, arg="input"):
    s = p[arg].shape
    return s[:-1] + (s[-1] + 1,)


def regression_call(d):
    s = shape(d, min_dims=1)
    s = s[:-1] + (max(s[-1], 2),)  # a last side of 1 would broadcast with any other
    dtype = floating(d)
    return {"input": tensor(s, dtype), "target": tensor(s, dtype),
            "reduction": d.draw(st.sampled_from(["mean", "sum", "none"]))}


REGRESSION_BREAKS = [wrong_type("input"), wrong_type("target"), REDUCTION,
                     wrong_shape("target", not_broadcastable, named=("input", "target"))]
WEIGHT_BREAKS = [wrong_type("weight", ("list", "string", "array")),
                 wrong_shape("weight", lambda d, p: p["input"].shape + (2,))]


@spec("l1_loss", breaks=REGRESSION_BREAKS + WEIGHT_BREAKS)
def l1_loss_call(d):
    p = regression_call(d)
    return {**p, "weight": sg.ones_like(p["input"])}


@spec("smooth_l1_loss", breaks=REGRESSION_BREAKS + [wrong_value("beta", [-1.0, "abc", None, [1.0]])])
def smooth_l1_loss_call(d):
    return {**regression_call(d), "beta": d.draw(st.sampled_from([1.0, 0.5, 0.0]))}


@spec("huber_loss", breaks=REGRESSION_BREAKS + WEIGHT_BREAKS + [wrong_value("delta", [0.0, -1.0, "abc", None])])
def huber_loss_call(d):
    return {**l1_loss_call(d), "delta": d.draw(st.sampled_from([1.0, 0.5]))}


# ---- similarity -------------------------------------------------------------------------------------

@spec("cosine_similarity", breaks=[
    wrong_type("x1"), wrong_type("x2"), wrong_dtype("x1", np.int64, np.bool_),
    wrong_shape("x2", lambda d, p: not_broadcastable(d, p, "x1"), named=("x1", "x2")),
    dim_out_of_range("dim", rank=lambda p: p["x1"].ndim), dim_wrong_type("dim"),
    wrong_value("eps", ["abc", None, [1e-8]]),
])
def cosine_similarity_call(d):
    s = shape(d, min_dims=1)
    s = s[:-1] + (max(s[-1], 2),)
    dtype = floating(d)
    return {"x1": tensor(s, dtype), "x2": tensor(s, dtype), "dim": d.draw(st.integers(-len(s), len(s) - 1)),
            "eps": 1e-8}


@spec("normalize", breaks=[
    wrong_type("input"), wrong_dtype("input", np.int64, np.bool_), dim_out_of_range("dim"), dim_wrong_type("dim"),
    wrong_value("p", ["abc", None, [2.0]]), wrong_value("eps", ["abc", None]),
    wrong_value("out", lambda p: [sg.zeros_like(p["input"])]),
])
def normalize_call(d):
    x = tensor(shape(d, min_dims=1), floating(d))
    return {"input": x, "p": d.draw(st.sampled_from([2.0, 1, float("inf")])),
            "dim": d.draw(st.integers(-x.ndim, x.ndim - 1)), "eps": 1e-12}


# ---- layers -----------------------------------------------------------------------------------------

LAYER_INPUT = [wrong_type("input"), rank(1)]
layer("AvgPool1d", ops=["avg_pool1d"], breaks=LAYER_INPUT + [
    wrong_value("kernel_size", [0, -1, "2", (2, 2)]), wrong_value("stride", [0, "2"]),
    wrong_value("padding", [-1, 2])])(
    lambda d: {"kernel_size": 2, "stride": None, "padding": 0, "input": signal(d)})
layer("MaxPool1d", ops=["max_pool1d"], breaks=LAYER_INPUT + [
    wrong_value("kernel_size", [0, -1, "2", (2, 2)]), wrong_value("stride", [0, "2"]), wrong_value("padding", [-1, 2]),
    wrong_value("dilation", [0, "1"])])(
    lambda d: {"kernel_size": 2, "stride": None, "padding": 0, "dilation": 1, "input": signal(d)})
layer("AdaptiveAvgPool1d", ops=["adaptive_avg_pool1d"], breaks=LAYER_INPUT + [
    wrong_value("output_size", [0, -1, "2", (1, 2)])])(lambda d: {"output_size": 2, "input": signal(d)})
layer("AdaptiveMaxPool1d", ops=["adaptive_max_pool1d"], breaks=LAYER_INPUT + [
    wrong_value("output_size", [0, -1, "2", (1, 2)])])(
    lambda d: {"output_size": 2, "return_indices": d.draw(st.booleans()), "input": signal(d)})
layer("AdaptiveMaxPool2d", ops=["adaptive_max_pool2d"], breaks=[wrong_type("input"), rank(2),
                                                               wrong_value("output_size", [0, -1, "2", (1, 2, 3)])])(
    lambda d: {"output_size": d.draw(st.sampled_from([1, (2, None)])), "return_indices": False, "input": image(d)})
layer("CosineSimilarity", ops=["cosine_similarity"], breaks=[
    wrong_type("x1"), wrong_shape("x2", lambda d, p: not_broadcastable(d, p, "x1"), named=("x1", "x2")),
    wrong_value("dim", [5, -6, "a"], errors=CLEAR_OR_INDEX, named=("dim",)), wrong_value("eps", ["abc", None])])(
    lambda d: {"dim": 1, "eps": 1e-8, "x1": tensor((2, 3)), "x2": tensor((2, 3))})

LOSS_LAYER_BREAKS = [wrong_type("input"), wrong_type("target"), REDUCTION,
                     wrong_shape("target", not_broadcastable, named=("input", "target"))]


def loss_layer(d, **settings):
    return {**settings, "input": tensor((2, 3)), "target": tensor((2, 3), low=0.0, high=1.0)}


for _name, _op, _settings, _extra in (
        ("L1Loss", "l1_loss", {}, []), ("MSELoss", "mse_loss", {}, []),
        ("SmoothL1Loss", "smooth_l1_loss", {"beta": 1.0}, [wrong_value("beta", [-1.0, "abc", None])]),
        ("HuberLoss", "huber_loss", {"delta": 1.0}, [wrong_value("delta", [0.0, "abc", None])]),
        ("KLDivLoss", "kl_div", {"log_target": False}, [])):
    layer(_name, ops=[_op], breaks=LOSS_LAYER_BREAKS + _extra)(
        lambda d, _settings=_settings: loss_layer(d, reduction="mean", **_settings))

BINARY_LAYER_BREAKS = [wrong_type("input"), wrong_type("target"), REDUCTION,
                       wrong_shape("target", not_broadcastable, named=("input", "target")),
                       wrong_value("weight", [[1.0, 2.0], "abc"], "type"),
                       wrong_value("weight", lambda p: [sg.ones(4)], "shape")]
layer("BCELoss", ops=["binary_cross_entropy"], breaks=BINARY_LAYER_BREAKS + [
    wrong_value("input", lambda p: [p["input"] + 2.0], "range")])(
    lambda d: {"weight": None, "reduction": "mean", "input": tensor((2, 3), low=0.1, high=0.9),
               "target": tensor((2, 3), low=0.0, high=1.0)})
layer("BCEWithLogitsLoss", ops=["binary_cross_entropy_with_logits"], breaks=BINARY_LAYER_BREAKS + [
    wrong_value("pos_weight", [[1.0], "abc"], "type"), wrong_value("pos_weight", lambda p: [sg.ones(4)], "shape")])(
    lambda d: {**loss_layer(d, weight=sg.ones(3), reduction="mean"), "pos_weight": sg.ones(3)})


def classification_layer(d, **settings):
    n, c = d.draw(st.integers(1, 3)), d.draw(st.integers(2, 4))
    return {"weight": sg.ones(c), "ignore_index": -100, "reduction": "mean", **settings,
            "input": tensor((n, c)), "target": labels((n,), c)}


CLASS_LAYER_BREAKS = [
    wrong_type("input"), wrong_type("target"), REDUCTION, wrong_dtype("target", np.bool_),
    wrong_shape("target", lambda d, p: (p["target"].shape[0] + 1,), named=("input", "target")),
    wrong_value("target", lambda p: [p["target"] + p["input"].shape[1]], "range", errors=CLEAR_OR_INDEX),
    wrong_value("weight", [[1.0], "abc"], "type"),
    wrong_value("weight", lambda p: [sg.ones(p["input"].shape[1] + 1)], "shape"),
    wrong_value("ignore_index", ["abc", 1.5, None]),
]
layer("NLLLoss", ops=["nll_loss"], breaks=CLASS_LAYER_BREAKS)(classification_layer)
layer("CrossEntropyLoss", ops=["cross_entropy"], breaks=CLASS_LAYER_BREAKS + [
    wrong_value("label_smoothing", [1.5, -0.1, "abc", None])])(lambda d: classification_layer(d, label_smoothing=0.1))


@layer("GaussianNLLLoss", ops=["gaussian_nll_loss"], breaks=LOSS_LAYER_BREAKS + [
    wrong_value("var", lambda p: ["abc", None, sg.ones(4), -sg.ones(2, 3)]), wrong_value("eps", ["abc", None])])
def gaussian_nll_layer(d):
    return {"full": d.draw(st.booleans()), "eps": 1e-6, "reduction": "mean", "input": tensor((2, 3)),
            "target": tensor((2, 3)), "var": tensor((2, 3), low=0.5, high=2.0)}
