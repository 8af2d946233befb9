"""Arithmetic ops (add, sub, mul, div, neg, pow, matmul, linear, logaddexp), the Tensor
operators that call them, scalar promotion, add/sub's alpha, div's rounding modes, and two
Python numbers (torch.add(2, 3) is a tensor)."""
import operator
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import scratchgen as sg
import scratchgen.functional as F
from differential import compare, edge_arrays
from oracle import check
from scratchgen.backends import numpy as numpy_backend
from strategies import (arrays, broadcastable_shapes, matmul_shapes, nonzero_arrays,
                        positive_arrays, shapes, shapes_broadcastable_to, tensors)

BINARY = {"add": (F.add, torch.add), "sub": (F.sub, torch.sub), "mul": (F.mul, torch.mul),
          "div": (F.div, torch.div), "pow": (F.pow, torch.pow)}


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_binary_op_with_broadcasting(name, data):
    a_shape, b_shape = data.draw(broadcastable_shapes())
    # pow with a tensor exponent needs a positive base; div a nonzero divisor
    a = data.draw(positive_arrays(a_shape) if name == "pow" else arrays(a_shape))
    b = data.draw(nonzero_arrays(b_shape))
    check(*BINARY[name], [a, b])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0 ** -1 in the branch the mask drops
def test_pow_with_zero_base():
    # torch: d/da a^b = b a^(b-1), and d/db a^b = a^b log a taken as 0 where a = 0
    base, exponent = np.array([0.0, 0.0, 2.0, 0.0]), np.array([2.0, 1.5, 0.5, 0.0])
    check(F.pow, torch.pow, [base, exponent], gradcheck=False)


@given(data=st.data(), exponent=st.sampled_from([0, 1, 2, 3, -1, -2, 0.5, -1.5, 2.5]))
def test_pow_scalar_exponent(data, exponent):
    shape = data.draw(shapes())
    is_integer = float(exponent).is_integer()
    x = data.draw(nonzero_arrays(shape, margin=0.3) if is_integer else positive_arrays(shape))
    check(lambda x: F.pow(x, exponent), lambda x: torch.pow(x, exponent), [x])


@given(x=tensors(), base=st.sampled_from([0.5, 2.0, 3]))
def test_pow_scalar_base(x, base):
    check(lambda x: F.pow(base, x), lambda x: torch.pow(base, x), [x])


@given(x=tensors())
def test_neg(x):
    check(F.neg, torch.neg, [x])


@given(data=st.data())
def test_sum_to(data):
    x = data.draw(tensors())
    shape = data.draw(shapes_broadcastable_to(x.shape))
    check(lambda x: F.sum_to(x, shape), lambda x: x.sum_to_size(shape), [x])


@given(data=st.data())
def test_matmul(data):
    a_shape, b_shape = data.draw(matmul_shapes())
    check(F.matmul, torch.matmul, [data.draw(arrays(a_shape)), data.draw(arrays(b_shape))])


@given(data=st.data())
def test_matmul_whose_first_gradient_is_computed_transposed(data):
    # the NumPy backend's matmul orders a gradient for speed past LONG_CONTRACTION: always, here
    a_shape, b_shape = data.draw(matmul_shapes())
    with mock.patch.object(numpy_backend, "LONG_CONTRACTION", 1):
        check(F.matmul, torch.matmul, [data.draw(arrays(a_shape)), data.draw(arrays(b_shape))])


def test_a_transposed_matmul_gradient_keeps_its_inputs_memory_order():
    rng = np.random.default_rng(0)
    a, b, g = rng.standard_normal((2, 3)), rng.standard_normal((3, 1500)), rng.standard_normal((2, 1500))
    a_tensor = sg.tensor(a, requires_grad=True)
    (grad,) = sg.grad(F.matmul(a_tensor, sg.tensor(b)), [a_tensor], [sg.tensor(g)])
    assert grad.array.flags.c_contiguous
    np.testing.assert_allclose(grad.array, g @ b.T, rtol=1e-12)


@given(data=st.data())
def test_matmul_with_a_contraction_of_one_is_an_outer_product(data):
    # K = 1 takes the broadcast-multiply path, not BLAS
    batch_a, batch_b = data.draw(broadcastable_shapes(max_dims=2, max_elements=3))
    n, m = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    check(F.matmul, torch.matmul, [data.draw(arrays(batch_a + (n, 1))), data.draw(arrays(batch_b + (1, m)))])


@given(data=st.data(), lead=st.sampled_from([(), (2,), (2, 3)]), with_bias=st.booleans())
def test_linear(data, lead, with_bias):
    in_features, out_features = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    x = data.draw(arrays(lead + (in_features,)))
    weight = data.draw(arrays((out_features, in_features)))
    bias = [data.draw(arrays((out_features,)))] if with_bias else []
    check(F.linear, torch.nn.functional.linear, [x, weight] + bias)


@given(data=st.data(), out_features=st.integers(1, 3))
def test_linear_of_a_transposed_input(data, out_features):
    # the input as a Flatten of a batch-last convolution output leaves it: (N, F) in F order
    in_features, batch = data.draw(st.integers(2, 4)), data.draw(st.integers(2, 4))
    x_t, weight = data.draw(arrays((in_features, batch))), data.draw(arrays((out_features, in_features)))
    check(lambda x_t, w: F.linear(x_t.transpose(0, 1), w), lambda x_t, w: torch.nn.functional.linear(x_t.T, w),
          [x_t, weight])


@pytest.mark.parametrize("out_features", [2, 1])  # 1: the gradient is an outer product (DCGAN's last layer)
def test_linear_leaves_the_input_gradient_in_the_inputs_memory_order(out_features):
    x = sg.tensor(np.ones((3, 5)), requires_grad=True).transpose(0, 1)  # (5, 3), F order
    (grad,) = sg.grad(F.linear(x, sg.ones(out_features, 3)).sum(), [x])
    assert grad.array.flags.f_contiguous and not grad.array.flags.c_contiguous
    np.testing.assert_array_equal(grad.array, np.full((5, 3), float(out_features)))


OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
             "**": operator.pow}


@pytest.mark.parametrize("symbol", OPERATORS)
@given(data=st.data())
def test_operator_between_tensors(symbol, data):
    a_shape, b_shape = data.draw(broadcastable_shapes())
    a, b = data.draw(positive_arrays(a_shape)), data.draw(positive_arrays(b_shape))
    check(OPERATORS[symbol], OPERATORS[symbol], [a, b])


@pytest.mark.parametrize("symbol", OPERATORS)
@given(data=st.data(), scalar=st.sampled_from([0.5, 2, -1.5]))
def test_reflected_operator_with_python_scalar(symbol, data, scalar):
    x = data.draw(positive_arrays(data.draw(shapes())))
    op = OPERATORS[symbol]
    scalar = abs(scalar) if symbol == "**" else scalar  # a negative base has no real power
    check(lambda x: op(scalar, x), lambda x: op(scalar, x), [x])
    check(lambda x: op(x, scalar), lambda x: op(x, scalar), [x])


@pytest.mark.parametrize("symbol", OPERATORS)
@given(data=st.data())
def test_reflected_operator_with_numpy_array(symbol, data):
    left_shape, right_shape = data.draw(broadcastable_shapes())
    left, x = data.draw(positive_arrays(left_shape)), data.draw(positive_arrays(right_shape))
    op = OPERATORS[symbol]
    check(lambda x: op(left, x), lambda x: op(torch.tensor(left), x), [x])


@given(data=st.data())
def test_matmul_operator_with_numpy_array_on_either_side(data):
    a_shape, b_shape = data.draw(matmul_shapes())
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    check(lambda b: a @ b, lambda b: torch.tensor(a) @ b, [b])
    check(lambda a: a @ b, lambda a: a @ torch.tensor(b), [a])
    check(operator.matmul, operator.matmul, [a, b])


@given(x=tensors())
def test_unary_minus(x):
    check(operator.neg, operator.neg, [x])


COMPARISONS = [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]


@pytest.mark.parametrize("compare", COMPARISONS, ids=lambda op: op.__name__)
@given(data=st.data())
def test_comparison_gives_bool_tensor_outside_graph(compare, data):
    a_shape, b_shape = data.draw(broadcastable_shapes())
    grid = st.integers(-2, 2).map(float)  # a coarse grid, so that equal elements occur
    a, b = data.draw(arrays(a_shape, elements=grid)), data.draw(arrays(b_shape, elements=grid))
    check(compare, compare, [a, b])
    check(lambda a: compare(a, 0.0), lambda a: compare(a, 0.0), [a])
    assert not compare(sg.tensor(a, requires_grad=True), sg.tensor(b)).requires_grad


SCALAR_OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]


@pytest.mark.parametrize("op", SCALAR_OPERATORS, ids=lambda op: op.__name__)
def test_python_float_keeps_float32(op):
    x = sg.tensor([1.0, 2.0])
    assert op(x, 2.5).dtype == sg.float32
    assert op(2.5, x).dtype == sg.float32


@pytest.mark.parametrize("op", SCALAR_OPERATORS, ids=lambda op: op.__name__)
def test_float32_with_float64_promotes_to_float64(op):
    single, double = sg.tensor([1.0, 2.0]), sg.tensor([3.0, 4.0], dtype=sg.float64)
    assert op(single, double).dtype == sg.float64
    assert op(double, single).dtype == sg.float64
    assert op(single, np.array([3.0, 4.0])).dtype == sg.float64


def test_integer_tensors_stay_integer():
    labels = sg.tensor([2, 0, 1])
    assert labels.dtype == sg.int64
    assert (labels + 1).dtype == sg.int64
    assert (labels * 2).dtype == sg.int64
    assert (labels - labels).dtype == sg.int64
    x = sg.tensor([10.0, 20.0, 30.0], requires_grad=True)
    picked = x[labels + 0]
    np.testing.assert_array_equal(picked.detach().numpy(), [30.0, 10.0, 20.0])
    assert picked.dtype == sg.float32


def test_integer_tensor_with_python_float_follows_numpy_promotion():
    labels = sg.tensor([1, 2])
    assert (labels * 0.5).dtype == np.result_type(np.int64, np.float64)


def test_add_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4, 3\) cannot be broadcast"):
        F.add(sg.zeros(2, 3), sg.zeros(4, 3))


def test_matmul_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied"):
        F.matmul(sg.zeros(2, 3), sg.zeros(4, 5))


def test_matmul_batch_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul: .*\(2, 1, 3\) and \(3, 3, 4\)"):
        F.matmul(sg.zeros(2, 1, 3), sg.zeros(3, 3, 4))


def test_linear_feature_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"linear: input has 3 features but weight expects 4 "
                                         r"\(input shape \(2, 3\), weight shape \(5, 4\)\)"):
        F.linear(sg.zeros(2, 3), sg.zeros(5, 4))


def test_linear_bias_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"linear: bias has shape \(3,\), expected \(5,\)"):
        F.linear(sg.zeros(2, 4), sg.zeros(5, 4), sg.zeros(3))


# ---- issue 21: alpha, rounding modes, two numbers, logaddexp ---------------------------------------

@pytest.mark.parametrize("name", ["add", "sub"])
@given(data=st.data(), alpha=st.sampled_from([1, 2, -0.5, 0, 1.5]))
def test_add_sub_alpha(name, data, alpha):
    a_shape, b_shape = data.draw(broadcastable_shapes())
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    check(lambda a, b: getattr(F, name)(a, b, alpha=alpha), lambda a, b: getattr(torch, name)(a, b, alpha=alpha),
          [a, b])
    check(lambda a, b: getattr(a, name)(b, alpha=alpha), lambda a, b: getattr(a, name)(b, alpha=alpha), [a, b])
    check(lambda a: getattr(F, name)(a, 3, alpha=alpha), lambda a: getattr(torch, name)(a, 3, alpha=alpha), [a])


@pytest.mark.parametrize("name", ["add", "sub"])
def test_alpha_of_integer_tensors_must_be_an_int_as_torch(name):
    ints = np.array([1, 2, 3])
    check(lambda a, b: getattr(F, name)(a, b, alpha=2), lambda a, b: getattr(torch, name)(a, b, alpha=2), [ints, ints])
    with pytest.raises(TypeError, match=f"{name}: alpha must be an int for integer tensors"):
        getattr(F, name)(sg.tensor(ints), sg.tensor(ints), alpha=0.5)
    with pytest.raises(RuntimeError):
        getattr(torch, name)(torch.tensor(ints), torch.tensor(ints), alpha=0.5)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
@pytest.mark.parametrize("a, b", [(2, 3), (2, 3.5), (True, 2), (2.5, 0.5), (7, -2)], ids=str)
def test_two_python_numbers_make_a_tensor_as_torch(name, a, b):
    if name == "sub" and isinstance(a, bool):
        return  # torch refuses bool - int the same way it refuses bool tensors minus
    ours, theirs = getattr(sg, name)(a, b), getattr(torch, name)(a, b)
    integers = not any(isinstance(v, float) for v in (a, b))
    if name == "div" and integers:  # deliberately: integers divide into float64 (NumPy's true division), as F.div says
        assert ours.dtype == np.float64 and theirs.dtype == torch.float32
    else:
        assert ours.dtype == theirs.numpy().dtype
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-6)


@pytest.mark.parametrize("mode", ["trunc", "floor"])
@given(data=st.data())
def test_div_rounding_mode(mode, data):
    a_shape, b_shape = data.draw(broadcastable_shapes())
    a, b = data.draw(arrays(a_shape, -6.0, 6.0)), data.draw(nonzero_arrays(b_shape, margin=0.5))
    # away from the steps of the staircase, where finite differences see the jump
    a = np.where(np.abs(a / np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape)) % 1 - 0.5) < 0.45, a, 0.5) \
        if a.shape == np.broadcast_shapes(a.shape, b.shape) else a
    check(lambda a, b: F.div(a, b, rounding_mode=mode), lambda a, b: torch.div(a, b, rounding_mode=mode), [a, b],
          gradcheck=False)
    check(lambda a, b: a.div(b, rounding_mode=mode), lambda a, b: a.div(b, rounding_mode=mode), [a, b],
          gradcheck=False)


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
@given(data=st.data())
def test_div_at_edge_values_to_the_second_order(mode, data):
    shape = data.draw(shapes(min_dims=1))
    a, b = data.draw(edge_arrays(shape)), data.draw(edge_arrays(shape, empty=False))
    b = b[:0] if a.shape != b.shape else b
    compare(lambda a, b: F.div(a, b, rounding_mode=mode), lambda a, b: torch.div(a, b, rounding_mode=mode), [a, b],
            name="div")


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_integer_div_rounds_as_torch_and_refuses_zero(mode):
    a, b = np.array([-7, 7, -7, 7, 0, 6]), np.array([2, 2, -2, -2, 3, 4])
    check(lambda a, b: F.div(a, b, rounding_mode=mode), lambda a, b: torch.div(a, b, rounding_mode=mode), [a, b])
    with pytest.raises(RuntimeError, match="div: integer division by zero"):
        F.div(sg.tensor(a), sg.tensor(np.array([1, 0, 1, 1, 1, 1])), rounding_mode=mode)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        torch.div(torch.tensor(a), torch.tensor([1, 0, 1, 1, 1, 1]), rounding_mode=mode)


@given(data=st.data())
def test_logaddexp(data):
    a_shape, b_shape = data.draw(broadcastable_shapes())
    a, b = data.draw(arrays(a_shape, -5.0, 5.0)), data.draw(arrays(b_shape, -5.0, 5.0))
    check(F.logaddexp, torch.logaddexp, [a, b])
    check(lambda a, b: a.logaddexp(b), lambda a, b: a.logaddexp(b), [a, b])


@given(data=st.data())
def test_logaddexp_at_edge_values_to_the_second_order(data):
    shape = data.draw(shapes(min_dims=1))
    a, b = data.draw(edge_arrays(shape)), data.draw(edge_arrays(shape[-1:], empty=False))
    b = b[:0] if a.shape[-1] == 0 else b
    compare(F.logaddexp, torch.logaddexp, [a, b], name="logaddexp")


def test_logaddexp_is_stable_far_apart():
    a, b = np.array([1000.0, -1000.0, 0.0, 1e4]), np.array([1000.0, -999.0, -1e4, 1e4 - 30])
    check(F.logaddexp, torch.logaddexp, [a, b], gradcheck=False)
