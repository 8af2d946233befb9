"""Bad input for the ops of issue 21's reductions, scans, products and linear algebra (all,
any, amax, amin, prod, cumsum, logcumsumexp, logaddexp, bmm, baddbmm, addmm, outer, einsum,
det, slogdet, logdet, inverse, cholesky, matrix_norm, norm), registered into the table that
tests/test_bad_input.py runs."""
import numpy as np
from hypothesis import strategies as st

import scratchgen as sg
from bad_input import (CLEAR_OR_INDEX, Break, dim_out_of_range, dim_wrong_type, floating, shape, spec, tensor,
                       wrong_dtype, wrong_shape, wrong_type, wrong_value)

DTYPE_VALUES = ["bogus", 3.5]


def one_dim_call(d, dtype=None):
    x = tensor(shape(d, min_dims=1), dtype or floating(d))
    return {"input": x, "dim": d.draw(st.integers(-x.ndim, x.ndim - 1))}


def duplicate_dims(d, p):
    p["dim"] = (0, 0) if d.draw(st.booleans()) else (0, -p["input"].ndim)


def empty_reduced_dim(d, p):
    p.update(input=sg.zeros(0, 3), dim=0)


@spec("all", "any", breaks=[wrong_type("input"), dim_out_of_range("dim"), dim_wrong_type("dim"),
                            Break("dim-duplicate", ("dim",), duplicate_dims)])
def truth_call(d):
    p = one_dim_call(d)
    x = p["input"] > 0 if d.draw(st.booleans()) else p["input"]
    return {"input": x, "dim": d.draw(st.sampled_from([None, p["dim"]])), "keepdim": d.draw(st.booleans())}


spec("amax", "amin", breaks=[wrong_type("input"), dim_out_of_range("dim"), dim_wrong_type("dim"),
                             Break("dim-duplicate", ("dim",), duplicate_dims),
                             Break("dim-empty", ("dim",), empty_reduced_dim, CLEAR_OR_INDEX)])(one_dim_call)


@spec("prod", "cumsum", breaks=[wrong_type("input"), dim_out_of_range("dim"), wrong_value("dim", ["0", 1.5, (0,)], "type"),
                                wrong_value("dtype", DTYPE_VALUES)])
def scan_call(d):
    return {**one_dim_call(d), "dtype": d.draw(st.sampled_from([None, sg.float64]))}


spec("logcumsumexp", breaks=[wrong_type("input"), wrong_dtype("input", np.int64, np.bool_), dim_out_of_range("dim"),
                             dim_wrong_type("dim")])(one_dim_call)


def not_broadcastable(d, p, arg="input"):
    s = p[arg].shape
    return s[:-1] + (s[-1] + 1,)


@spec("logaddexp", breaks=[wrong_type("input", ("list", "none", "string")), wrong_type("other", ("list", "none", "string")),
                           wrong_dtype("input", np.int64, also="other"),
                           wrong_shape("other", not_broadcastable, named=("input", "other"))])
def logaddexp_call(d):
    s = shape(d, min_dims=1)
    s = s[:-1] + (max(s[-1], 2),)
    dtype = floating(d)
    return {"input": tensor(s, dtype), "other": tensor(s, dtype)}


# ---- products -------------------------------------------------------------------------------------

def sides(d, n=3):
    return [d.draw(st.integers(1, 3)) for _ in range(n)]


def batch_call(d):
    (b, n, k), m = sides(d), d.draw(st.integers(1, 3))
    dtype = floating(d)
    return {"input": tensor((b, n, k), dtype), "mat2": tensor((b, k, m), dtype)}


spec("bmm", breaks=[
    wrong_type("input"), wrong_type("mat2"),
    wrong_shape("mat2", lambda d, p: (p["input"].shape[0] + 1,) + p["mat2"].shape[1:], "batch", named=("input", "mat2")),
    wrong_shape("mat2", lambda d, p: (p["mat2"].shape[0], p["input"].shape[2] + 1, 2), "inner", named=("input", "mat2")),
    wrong_shape("input", lambda d, p: p["input"].shape[1:], "rank"),
])(batch_call)


def scaled_breaks(first, second, input_shape):
    return [wrong_type("input"), wrong_type(first), wrong_type(second),
            wrong_shape(second, lambda d, p: p[second].shape[:-2] + (p[first].shape[-1] + 1, 2), "inner",
                        named=(first, second)),
            wrong_shape("input", input_shape, named=("input",)),
            wrong_value("beta", ["abc", None], "type"), wrong_value("alpha", ["abc", None, [1.0]], "type")]


@spec("baddbmm", breaks=scaled_breaks("batch1", "batch2", lambda d, p: (p["batch1"].shape[1] + 1, 1)))
def baddbmm_call(d):
    p = batch_call(d)
    n, m = p["input"].shape[1], p["mat2"].shape[2]
    return {"input": tensor((n, m), p["input"].dtype), "batch1": p["input"], "batch2": p["mat2"],
            "beta": d.draw(st.sampled_from([1, 0, 0.5])), "alpha": d.draw(st.sampled_from([1, 2.0]))}


@spec("addmm", breaks=scaled_breaks("mat1", "mat2", lambda d, p: (p["mat1"].shape[0] + 1, 1)))
def addmm_call(d):
    n, k, m = sides(d)
    dtype = floating(d)
    return {"input": tensor((m,), dtype), "mat1": tensor((n, k), dtype), "mat2": tensor((k, m), dtype),
            "beta": d.draw(st.sampled_from([1, 0, 0.5])), "alpha": d.draw(st.sampled_from([1, 2.0]))}


@spec("outer", breaks=[wrong_type("input"), wrong_type("vec2"), wrong_shape("vec2", lambda d, p: (2, 2), "rank")])
def outer_call(d):
    n, m = sides(d, 2)
    dtype = floating(d)
    return {"input": tensor((n,), dtype), "vec2": tensor((m,), dtype)}


@spec("einsum", breaks=[
    wrong_value("equation", [None, 3, ["ij"]], "type"),
    wrong_value("equation", ["ij", "ij,jk,kl->il", "ij,jk->iq", "ij,jk->ii", "i$,jk", "...i...j,jk", "ijk,jk"], "value"),
    wrong_value("a", [None, "abc", [[1.0]]], "type", named=("operands",)),
    Break("b-shape", ("j", "subscript"), lambda d, p: p.update(a=tensor((2, 2)), b=tensor((3, 2)))),
])
def einsum_call(d):
    n, k, m = sides(d)
    dtype = floating(d)
    return {"equation": d.draw(st.sampled_from(["ij,jk->ik", "ij,jk", "ij, jk -> ki"])),
            "a": tensor((n, k), dtype), "b": tensor((k, m), dtype)}


# ---- linear algebra -------------------------------------------------------------------------------

def square_call(d, positive_definite=False):
    n = d.draw(st.integers(1, 3))
    batch = tuple(d.draw(st.lists(st.integers(1, 2), max_size=1)))
    dtype = floating(d)
    a = np.random.default_rng(d.draw(st.integers(0, 99))).standard_normal(batch + (n, n))
    a = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)  # symmetric positive definite: invertible too
    return {"input": sg.tensor(a.astype(dtype))}


SQUARE_BREAKS = [wrong_type("input"), wrong_dtype("input", np.int64, np.bool_),
                 wrong_shape("input", lambda d, p: p["input"].shape[:-1] + (p["input"].shape[-1] + 1,), "not-square"),
                 wrong_shape("input", lambda d, p: (3,), "vector")]

spec("det", "slogdet", "logdet", breaks=SQUARE_BREAKS)(square_call)
spec("inverse", breaks=SQUARE_BREAKS + [wrong_value("input", [sg.zeros(2, 2), sg.ones(3, 3, dtype=sg.float64)],
                                                    "singular")])(square_call)


@spec("cholesky", breaks=SQUARE_BREAKS + [
    wrong_value("input", [-sg.eye(2), sg.tensor([[1.0, 2.0], [2.0, 1.0]])], "not-positive-definite"),
    wrong_value("upper", ["yes", 1, None], "type")])
def cholesky_call(d):
    return {**square_call(d), "upper": d.draw(st.booleans())}


@spec("matrix_norm", breaks=[
    wrong_type("input"), wrong_shape("input", lambda d, p: (3,), "vector"),
    wrong_value("ord", [3, "abc", None, 0], "value"),
    wrong_value("dim", [0, (0,), (0, 0), (0, 1, 2), ("a", 0), (0, 5)], errors=CLEAR_OR_INDEX),
    wrong_value("dtype", DTYPE_VALUES + [sg.int64]),
])
def matrix_norm_call(d):
    x = tensor(shape(d, min_dims=2), floating(d))
    return {"input": x, "ord": d.draw(st.sampled_from(["fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])),
            "dim": d.draw(st.sampled_from([(-2, -1), (0, 1), (1, 0)]))}


@spec("norm", breaks=[
    wrong_type("input"),
    wrong_value("p", ["abc", [2], True], "value"),
    dim_out_of_range("dim"), dim_wrong_type("dim"),
    Break("dim-fro-dims", ("dim",), lambda d, p: p.update(p="fro", dim=(0, 1, 2))),
    wrong_value("dtype", DTYPE_VALUES),
])
def norm_call(d):
    x = tensor(shape(d, min_dims=1), floating(d))
    p = d.draw(st.sampled_from(["fro", None, 2, 1, 3, 0.5, np.inf, -np.inf, 0]))
    return {"input": x, "p": p, "dim": d.draw(st.sampled_from([None, 0, -1])), "keepdim": d.draw(st.booleans())}
