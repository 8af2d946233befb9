"""Losses, each with reduction 'mean' | 'sum' | 'none', against torch.nn.functional."""
import numpy as np
import pytest
import torch.nn.functional as TF
from hypothesis import assume, given
from hypothesis import strategies as st

import scratchgen as sg
import scratchgen.functional as F
from oracle import check
from strategies import (arrays, class_indices, classification_shapes, positive_arrays,
                        probability_arrays, probability_rows, reductions, shapes,
                        shapes_broadcastable_to)


def _optional(data, flag, strategy):
    """A list holding one drawn array when `flag` is set, else empty (for optional arguments)."""
    return [data.draw(strategy)] if flag else []


def _with_weight(loss, weight_name="weight", **options):
    """`loss` as a function of (input, target[, weight]), the weight passed by name when given."""
    return lambda x, t, *w: loss(x, t, **{weight_name: w[0] if w else None}, **options)


@given(data=st.data(), reduction=reductions)
def test_mse_loss(data, reduction):
    shape = data.draw(shapes())
    x, target = data.draw(arrays(shape)), data.draw(arrays(shape))
    check(lambda x, t: F.mse_loss(x, t, reduction=reduction),
          lambda x, t: TF.mse_loss(x, t, reduction=reduction), [x, target])


@given(data=st.data(), reduction=reductions, weighted=st.booleans())
def test_binary_cross_entropy(data, reduction, weighted):
    shape = data.draw(shapes())
    x, target = data.draw(probability_arrays(shape)), data.draw(probability_arrays(shape, 0.0, 1.0))
    weight = _optional(data, weighted, positive_arrays(data.draw(shapes_broadcastable_to(shape))))
    check(lambda x, t, *w: F.binary_cross_entropy(x, t, *w, reduction=reduction),
          lambda x, t, *w: TF.binary_cross_entropy(x, t, *w, reduction=reduction),
          [x, target] + weight, constants=(2,))  # torch has no gradient for weight


@given(data=st.data(), reduction=reductions, weighted=st.booleans(), with_pos_weight=st.booleans())
def test_binary_cross_entropy_with_logits(data, reduction, weighted, with_pos_weight):
    shape = data.draw(shapes())
    x, target = data.draw(arrays(shape, -4.0, 4.0)), data.draw(probability_arrays(shape, 0.0, 1.0))
    weight = data.draw(positive_arrays(data.draw(shapes_broadcastable_to(shape))))
    pos_weight = data.draw(positive_arrays(data.draw(shapes_broadcastable_to(shape))))

    def loss(fn):
        return lambda x, t, w, p: fn(x, t, weight=w if weighted else None,
                                     pos_weight=p if with_pos_weight else None, reduction=reduction)

    check(loss(F.binary_cross_entropy_with_logits), loss(TF.binary_cross_entropy_with_logits),
          [x, target, weight, pos_weight], constants=(2, 3))


@pytest.mark.parametrize("pos_weight", [None, 3.0])
def test_binary_cross_entropy_with_logits_is_stable_for_huge_logits(pos_weight):
    x = np.array([1e4, -1e4, 1e4, -1e4, 1e4, -1e4])
    target = np.array([1.0, 0.0, 0.0, 1.0, 0.3, 0.3])
    weights = [] if pos_weight is None else [np.full(6, pos_weight)]
    loss = _with_weight(F.binary_cross_entropy_with_logits, "pos_weight", reduction="none")
    p = 1.0 if pos_weight is None else pos_weight
    # (1 - t) x + (1 + (p - 1) t) log(1 + e^-x), where log(1 + e^-x) is max(-x, 0) at |x| = 1e4
    expected = (1 - target) * x + (1 + (p - 1) * target) * np.maximum(-x, 0)
    values = loss(*(sg.tensor(a) for a in [x, target] + weights))
    np.testing.assert_allclose(values.numpy(), expected, rtol=1e-12)
    # and the gradients are finite and match torch's
    check(loss, _with_weight(TF.binary_cross_entropy_with_logits, "pos_weight", reduction="none"),
          [x, target] + weights, constants=(2,), gradcheck=False)


@st.composite
def class_index_problem(draw, with_ignore_index):
    """(input, target, weight or None, ignore_index) for cross_entropy / nll_loss."""
    input_shape, target_shape = draw(classification_shapes())
    classes = input_shape[1] if len(input_shape) > 1 else input_shape[0]
    ignore_index = draw(st.sampled_from([-100, 0, classes - 1])) if with_ignore_index else -100
    x = draw(arrays(input_shape, -3.0, 3.0))
    target = draw(class_indices(target_shape, classes, ignore_index if with_ignore_index else None))
    weight = draw(st.one_of(st.none(), positive_arrays((classes,))))
    return x, target, weight, ignore_index


@given(problem=class_index_problem(with_ignore_index=True), reduction=reductions,
       label_smoothing=st.sampled_from([0.0, 0.1, 0.35]))
def test_cross_entropy_with_class_indices(problem, reduction, label_smoothing):
    x, target, weight, ignore_index = problem
    assume(reduction != "mean" or (target != ignore_index).any())  # else 0 / 0, in torch too
    options = {"ignore_index": ignore_index, "reduction": reduction, "label_smoothing": label_smoothing}
    weights = [] if weight is None else [weight]
    check(_with_weight(F.cross_entropy, **options),
          _with_weight(TF.cross_entropy, **options), [x, target] + weights, constants=(2,))


@given(data=st.data(), reduction=reductions, label_smoothing=st.sampled_from([0.0, 0.2]),
       weighted=st.booleans())
def test_cross_entropy_with_class_probabilities(data, reduction, label_smoothing, weighted):
    input_shape, _ = data.draw(classification_shapes())
    class_dim = 1 if len(input_shape) > 1 else 0
    x = data.draw(arrays(input_shape, -3.0, 3.0))
    target = data.draw(probability_rows(input_shape, class_dim))
    weights = _optional(data, weighted, positive_arrays((input_shape[class_dim],)))
    options = {"reduction": reduction, "label_smoothing": label_smoothing}
    check(_with_weight(F.cross_entropy, **options),
          _with_weight(TF.cross_entropy, **options), [x, target] + weights, constants=(2,))


@given(problem=class_index_problem(with_ignore_index=True), reduction=reductions)
def test_nll_loss(problem, reduction):
    x, target, weight, ignore_index = problem
    assume(reduction != "mean" or (target != ignore_index).any())
    options = {"ignore_index": ignore_index, "reduction": reduction}
    weights = [] if weight is None else [weight]
    check(_with_weight(F.nll_loss, **options),
          _with_weight(TF.nll_loss, **options), [x, target] + weights, constants=(2,))


@st.composite
def gaussian_var_shapes(draw, shape):
    """The var shapes torch.nn.functional.gaussian_nll_loss accepts for an input of `shape`:
    the same, the shape without its last dim, or the shape with one dim of size 1."""
    choices = [shape]
    if shape:
        choices.append(shape[:-1])
        choices += [shape[:i] + (1,) + shape[i + 1:] for i in range(len(shape))]
    return draw(st.sampled_from(choices))


@given(data=st.data(), reduction=reductions, full=st.booleans())
def test_gaussian_nll_loss(data, reduction, full):
    shape = data.draw(shapes())
    x, target = data.draw(arrays(shape)), data.draw(arrays(shape))
    var = data.draw(positive_arrays(data.draw(gaussian_var_shapes(shape)), 0.3, 2.0))
    check(lambda x, t, v: F.gaussian_nll_loss(x, t, v, full=full, reduction=reduction),
          lambda x, t, v: TF.gaussian_nll_loss(x, t, v, full=full, reduction=reduction), [x, target, var])


@given(data=st.data(), var=st.sampled_from([0.5, 2.0]))
def test_gaussian_nll_loss_with_float_var(data, var):
    shape = data.draw(shapes())
    x, target = data.draw(arrays(shape)), data.draw(arrays(shape))
    check(lambda x, t: F.gaussian_nll_loss(x, t, var), lambda x, t: TF.gaussian_nll_loss(x, t, var),
          [x, target])


def test_gaussian_nll_loss_clamps_var_in_value_only():
    x, target = np.array([0.5, -1.0, 2.0]), np.array([0.0, 0.0, 1.0])
    var = np.array([1e-9, 0.0, 0.5])  # below eps: clamped in value, the gradient passes as torch's
    check(lambda x, t, v: F.gaussian_nll_loss(x, t, v, eps=1e-3),
          lambda x, t, v: TF.gaussian_nll_loss(x, t, v, eps=1e-3), [x, target, var], gradcheck=False)


@given(data=st.data(), reduction=st.sampled_from(["mean", "sum", "none", "batchmean"]),
       log_target=st.booleans())
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")  # torch's advice
def test_kl_div(data, reduction, log_target):
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(shape, -3.0, 0.0))
    target = data.draw(arrays(shape, -3.0, 0.0) if log_target else positive_arrays(shape, 0.05, 1.0))
    check(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target),
          lambda x, t: TF.kl_div(x, t, reduction=reduction, log_target=log_target), [x, target])


def test_kl_div_takes_zero_log_zero_as_zero():
    x, target = np.log(np.array([[0.2, 0.3, 0.5]])), np.array([[0.0, 0.4, 0.6]])
    check(lambda x, t: F.kl_div(x, t, reduction="sum"), lambda x, t: TF.kl_div(x, t, reduction="sum"),
          [x, target], constants=(1,))


LOSSES = {
    "mse_loss": lambda r: F.mse_loss(sg.zeros(2), sg.zeros(2), reduction=r),
    "binary_cross_entropy": lambda r: F.binary_cross_entropy(sg.full((2,), 0.5), sg.zeros(2), reduction=r),
    "binary_cross_entropy_with_logits":
        lambda r: F.binary_cross_entropy_with_logits(sg.zeros(2), sg.zeros(2), reduction=r),
    "cross_entropy": lambda r: F.cross_entropy(sg.zeros(2, 3), sg.tensor([0, 2]), reduction=r),
    "nll_loss": lambda r: F.nll_loss(sg.zeros(2, 3), sg.tensor([0, 2]), reduction=r),
    "gaussian_nll_loss": lambda r: F.gaussian_nll_loss(sg.zeros(2), sg.zeros(2), sg.ones(2), reduction=r),
    "kl_div": lambda r: F.kl_div(sg.zeros(2), sg.ones(2), reduction=r),
}


@pytest.mark.parametrize("name", LOSSES)
def test_unknown_reduction_is_named(name):
    with pytest.raises(ValueError, match=rf"{name}: reduction must be one of .*'none'.*, got 'bogus'"):
        LOSSES[name]("bogus")


def test_kl_div_unknown_reduction_lists_batchmean():
    with pytest.raises(ValueError, match="kl_div: reduction must be one of .*'batchmean'"):
        F.kl_div(sg.zeros(2), sg.ones(2), reduction="bogus")


def test_cross_entropy_wrong_target_shape_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"cross_entropy: input of shape \(2, 3\) needs target of "
                                         r"shape \(2,\), got \(2, 1\)"):
        F.cross_entropy(sg.zeros(2, 3), sg.tensor([[0], [1]]))


def test_cross_entropy_wrong_probability_target_shape_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"cross_entropy: probability target has shape \(2, 4\) but "
                                         r"input has shape \(2, 3\)"):
        F.cross_entropy(sg.zeros(2, 3), sg.zeros(2, 4))


def test_nll_loss_class_out_of_range_is_named():
    with pytest.raises(ValueError, match=r"nll_loss: target values must be in \[0, 3\)"):
        F.nll_loss(sg.zeros(2, 3), sg.tensor([0, 3]))


def test_binary_cross_entropy_rejects_non_probabilities():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must be probabilities in \[0, 1\]"):
        F.binary_cross_entropy(sg.tensor([0.5, 1.5]), sg.zeros(2))


def test_gaussian_nll_loss_wrong_var_shape_names_shapes():
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var has shape \(3,\)"):
        F.gaussian_nll_loss(sg.zeros(2, 4), sg.zeros(2, 4), sg.ones(3))


def test_gaussian_nll_loss_rejects_negative_var():
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has negative entries"):
        F.gaussian_nll_loss(sg.zeros(2), sg.zeros(2), sg.tensor([1.0, -1.0]))


def test_loss_input_target_shape_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"mse_loss: input has shape \(2, 3\) but target has shape \(3, 2\)"):
        F.mse_loss(sg.zeros(2, 3), sg.zeros(3, 2))
