"""Bad input to issue 21's activations and elementwise math (ops/activation.py, ops/special.py,
unary.py's sin ... clamp_max) and to their layers (nn/activation.py), in the vocabulary of
tests/bad_input.py; tests/test_bad_input.py imports this file and runs the tables."""
import numpy as np
from hypothesis import strategies as st

import scratchgen as sg
from bad_input import (CLEAR_OR_INDEX, Break, cast, dim_out_of_range, dim_wrong_type, floating, layer, shape, spec,
                       tensor, wrong_dtype, wrong_shape, wrong_type, wrong_value)

REAL_INPUT = [wrong_type("input"), wrong_dtype("input", np.complex64)]  # integer and bool inputs become float32
FLOAT_INPUT = [wrong_type("input"), wrong_dtype("input", np.int64, np.bool_)]  # torch refuses them too


def unary_call(d):
    return {"input": tensor(shape(d), floating(d), 0.5, 2.0)}


def not_broadcastable(p):
    s = p["input"].shape
    return tensor(s[:-1] + (s[-1] + 1,))


spec("sin", "cos", "rsqrt", "reciprocal", "expm1", "erf", "lgamma", "digamma", "sign", breaks=REAL_INPUT)(unary_call)
spec("floor", breaks=REAL_INPUT + [wrong_dtype("input", np.bool_)])(unary_call)
spec("logsigmoid", "silu", "selu", breaks=FLOAT_INPUT)(unary_call)
spec("softsign", "relu6", breaks=[wrong_type("input"), wrong_dtype("input", np.bool_, np.complex64)])(unary_call)


@spec("round", breaks=REAL_INPUT + [wrong_dtype("input", np.bool_),
                                     wrong_value("decimals", [1.5, "1", None], "type")])
def round_call(d):
    return {**unary_call(d), "decimals": d.draw(st.sampled_from([0, 1, -1]))}


def clamp_one_call(bound):
    def call(d):
        s = shape(d, min_dims=1)
        return {"input": tensor(s[:-1] + (max(s[-1], 2),), floating(d)), bound: -0.5}
    return call


for _name, _bound in (("clamp_min", "min"), ("clamp_max", "max")):
    spec(_name, breaks=[wrong_type("input"), wrong_value(_bound, ["abc", None, [0.0]], "type"),
                        wrong_value(_bound, lambda p: [not_broadcastable(p)], "shape")])(clamp_one_call(_bound))


@spec("gelu", breaks=FLOAT_INPUT + [wrong_value("approximate", ["bogus", None, "Tanh", 1])])
def gelu_call(d):
    return {**unary_call(d), "approximate": d.draw(st.sampled_from(["none", "tanh"]))}


@spec("celu", breaks=FLOAT_INPUT + [wrong_value("alpha", ["abc", None, [1.0]], "type"),
                                    wrong_value("alpha", [0, 0.0], "zero")])
def celu_call(d):
    return {**unary_call(d), "alpha": d.draw(st.sampled_from([1.0, 0.5, -2.0]))}


@spec("hardtanh", breaks=[wrong_type("input"), wrong_dtype("input", np.bool_),
                          wrong_value("min_val", ["abc", None, [0.0]], "type"),
                          wrong_value("max_val", ["abc", None], "type"),
                          Break("min_val-above", ("min_val", "max_val"),
                                lambda d, p: p.update(min_val=2.0, max_val=1.0))])
def hardtanh_call(d):
    return {**unary_call(d), "min_val": -1.0, "max_val": d.draw(st.sampled_from([1.0, -1.0, 2]))}


def other_float(p):
    return np.float64 if p["input"].dtype == np.float32 else np.float32


@spec("prelu", breaks=[
    wrong_type("input"), wrong_type("weight"), wrong_dtype("input", np.int64),
    wrong_dtype("weight", np.int64, np.bool_),
    Break("weight-precision", ("weight", "input"), lambda d, p: p.update(weight=cast(p["weight"], other_float(p)))),
    wrong_shape("weight", lambda d, p: (p["input"].shape[1] + 1,), named=("weight", "input")),
    wrong_shape("weight", lambda d, p: (1, p["input"].shape[1]), "rank"),
])
def prelu_call(d):
    dtype = floating(d)
    x = tensor((d.draw(st.integers(1, 2)), d.draw(st.integers(2, 3))) + shape(d, 0, 2), dtype)
    return {"input": x, "weight": tensor(d.draw(st.sampled_from([(x.shape[1],), (1,)])), dtype)}


def odd_halving_dim(d, p):
    p["input"] = tensor(p["input"].shape[:-1] + (p["input"].shape[-1] + 1,), p["input"].dtype)
    p["dim"] = -1


@spec("glu", breaks=FLOAT_INPUT + [
    dim_out_of_range("dim"), dim_wrong_type("dim"),
    Break("input-odd", ("input", "dim"), odd_halving_dim),
    wrong_value("input", [sg.tensor(1.0)], "0-d"),
])
def glu_call(d):
    s = shape(d, min_dims=1)
    s = s[:-1] + (2 * s[-1],)
    return {"input": tensor(s, floating(d)), "dim": -1}


# ---- layers -----------------------------------------------------------------------------------------

def layer_input(d):
    return {"input": tensor((2, 4, 3))}


for _name, _op in (("LogSigmoid", "logsigmoid"), ("SiLU", "silu"), ("SELU", "selu"), ("Softsign", "softsign"),
                   ("ReLU6", "relu6")):
    layer(_name, ops=[_op], breaks=[wrong_type("input")])(layer_input)
layer("GELU", ops=["gelu"], breaks=[wrong_type("input"), wrong_value("approximate", ["bogus", None])])(
    lambda d: {"approximate": "tanh", **layer_input(d)})
layer("CELU", ops=["celu"], breaks=[wrong_type("input"), wrong_value("alpha", ["abc", None, 0.0])])(
    lambda d: {"alpha": 0.5, **layer_input(d)})
layer("Hardtanh", ops=["hardtanh"], breaks=[wrong_type("input"), wrong_value("min_val", ["abc", None, 2.0]),
                                            wrong_value("max_val", ["abc", -2.0, -1.0])])(
    lambda d: {"min_val": -1.0, "max_val": 1.0, **layer_input(d)})
layer("GLU", ops=["glu"], breaks=[wrong_type("input"), wrong_value("dim", [5, -4, "a", 1.5], errors=CLEAR_OR_INDEX),
                                  wrong_shape("input", lambda d, p: (2, 3), "odd")])(
    lambda d: {"dim": d.draw(st.sampled_from([-1, 1])), "input": tensor((2, 4))})


@layer("PReLU", ops=["prelu"], breaks=[
    wrong_value("num_parameters", [-1, "abc", 2.5, None]), wrong_value("init", ["abc", None]), wrong_type("input"),
    wrong_shape("input", lambda d, p: (2, p["num_parameters"] + 1, 3), "channels", named=("input", "weight")),
])
def prelu_layer(d):
    c = d.draw(st.integers(2, 3))
    return {"num_parameters": c, "init": 0.25, "input": tensor((2, c, 3))}
