"""Losses, each with reduction 'mean' | 'sum' | 'none', against torch.nn.functional: gradcheck,
gradgradcheck and PyTorch's values and gradients on drawn shapes (empty and size-1 dims
included, tests/oracle.py), then PyTorch at the edges (tests/differential.py): binary
cross-entropy at p = 0 and 1 exactly, infinite logits, the kinks of smooth L1 and Huber, var
at 0 and inf; torch's deprecated size_average / reduce, target broadcasting, and the errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, given
from hypothesis import strategies as st

import scratchgen as sg
import scratchgen.functional as F
from differential import EDGE_VALUES, compare
from oracle import check
from strategies import (arrays, arrays_avoiding, class_indices, classification_shapes, positive_arrays,
                        probability_arrays, probability_rows, reductions, shapes,
                        shapes_broadcastable_to)
from test_cuda_end_to_end import assert_match_the_cpu, device  # noqa: F401 (device: the emulated/real CUDA fixture)


@st.composite
def loss_shapes(draw, min_dims=0):
    """A shape of `shapes`, sometimes with one side 0 (an empty batch)."""
    shape = draw(shapes(min_dims))
    if shape and draw(st.integers(0, 5)) == 0:
        i = draw(st.integers(0, len(shape) - 1))
        shape = shape[:i] + (0,) + shape[i + 1:]
    return shape


def _optional(data, flag, strategy):
    """A list holding one drawn array when `flag` is set, else empty (for optional arguments)."""
    return [data.draw(strategy)] if flag else []


def _with_weight(loss, weight_name="weight", **options):
    """`loss` as a function of (input, target[, weight]), the weight passed by name when given."""
    return lambda x, t, *w: loss(x, t, **{weight_name: w[0] if w else None}, **options)


@given(data=st.data(), reduction=reductions, weighted=st.booleans())
def test_mse_loss(data, reduction, weighted):
    shape = data.draw(loss_shapes())
    x, target = data.draw(arrays(shape)), data.draw(arrays(shape))
    weight = _optional(data, weighted, positive_arrays(shape))
    check(_with_weight(F.mse_loss, reduction=reduction), _with_weight(TF.mse_loss, reduction=reduction),
          [x, target] + weight, constants=(2,))  # torch has no gradient for weight


@st.composite
def away_from_kinks(draw, kinks):
    """(input, target) whose differences stay 0.05 away from each of `kinks` (for gradcheck)."""
    shape = draw(loss_shapes())
    target = draw(arrays(shape))
    return target + draw(arrays_avoiding(shape, kinks)), target


@given(data=st.data(), reduction=reductions, weighted=st.booleans())
def test_l1_loss(data, reduction, weighted):
    x, target = data.draw(away_from_kinks((0.0,)))
    weight = _optional(data, weighted, positive_arrays(x.shape))
    check(_with_weight(F.l1_loss, reduction=reduction), _with_weight(TF.l1_loss, reduction=reduction),
          [x, target] + weight, constants=(2,))


@given(data=st.data(), reduction=reductions, beta=st.sampled_from([1.0, 0.5, 2.0, 0.0]))
def test_smooth_l1_loss(data, reduction, beta):
    x, target = data.draw(away_from_kinks((0.0, beta, -beta)))
    check(lambda x, t: F.smooth_l1_loss(x, t, reduction=reduction, beta=beta),
          lambda x, t: TF.smooth_l1_loss(x, t, reduction=reduction, beta=beta), [x, target])


@given(data=st.data(), reduction=reductions, delta=st.sampled_from([1.0, 0.5, 2.0]), weighted=st.booleans())
def test_huber_loss(data, reduction, delta, weighted):
    x, target = data.draw(away_from_kinks((delta, -delta)))
    weight = _optional(data, weighted, positive_arrays(x.shape))
    check(_with_weight(F.huber_loss, reduction=reduction, delta=delta),
          _with_weight(TF.huber_loss, reduction=reduction, delta=delta), [x, target] + weight, constants=(2,))


def test_huber_is_smooth_l1_times_delta():
    """Huber 1964 with delta is delta * smooth L1 (Girshick 2015) with beta = delta."""
    rng = np.random.default_rng(0)
    x, t = sg.tensor(rng.standard_normal(50) * 3), sg.tensor(rng.standard_normal(50))
    for delta in (0.3, 1.0, 2.5):
        np.testing.assert_allclose(F.huber_loss(x, t, "none", delta).numpy(),
                                   delta * F.smooth_l1_loss(x, t, reduction="none", beta=delta).numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_a_broadcast_target_warns_as_torch(name):
    """torch broadcasts a target of another shape, with a warning: scratchgen too."""
    x, target = np.arange(6.0).reshape(2, 3) / 4, np.array([0.5, -1.0, 2.0])
    with pytest.warns(UserWarning, match=r"Using a target size .* different to the input size"):
        ours = getattr(F, name)(sg.tensor(x), sg.tensor(target), reduction="none")
    with pytest.warns(UserWarning, match=r"Using a target size .* different to the input size"):
        theirs = getattr(TF, name)(torch.tensor(x), torch.tensor(target), reduction="none")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


LEGACY = [(None, False), (False, None), (True, True), (False, False), (None, True), (True, None)]


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "binary_cross_entropy",
                                  "binary_cross_entropy_with_logits", "kl_div", "nll_loss", "cross_entropy"])
@pytest.mark.parametrize("size_average, reduce", LEGACY)
def test_size_average_and_reduce_map_to_reduction_as_torch(name, size_average, reduce):
    rng = np.random.default_rng(1)
    x = rng.uniform(0.1, 0.9, (3, 4))
    target = rng.integers(0, 4, 3) if name in ("nll_loss", "cross_entropy") else rng.uniform(0.1, 0.9, (3, 4))
    arrays = [x, target]
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        ours = getattr(F, name)(*map(sg.tensor, arrays), size_average=size_average, reduce=reduce)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        theirs = getattr(TF, name)(*map(torch.tensor, arrays), size_average=size_average, reduce=reduce)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@given(data=st.data(), reduction=reductions, weighted=st.booleans())
def test_binary_cross_entropy(data, reduction, weighted):
    shape = data.draw(shapes())
    # targets inside [0, 1]: gradcheck's steps must not leave it (torch refuses a target outside)
    x, target = data.draw(probability_arrays(shape)), data.draw(probability_arrays(shape, 0.01, 0.99))
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
    shape = data.draw(loss_shapes())
    x, target = data.draw(arrays(shape)), data.draw(arrays(data.draw(shapes_broadcastable_to(shape))))
    var = data.draw(positive_arrays(data.draw(gaussian_var_shapes(shape)), 0.3, 2.0))
    # the mean of no terms is NaN: finite differences of a broadcast target or var are NaN there
    check(lambda x, t, v: F.gaussian_nll_loss(x, t, v, full=full, reduction=reduction),
          lambda x, t, v: TF.gaussian_nll_loss(x, t, v, full=full, reduction=reduction), [x, target, var],
          gradcheck=0 not in shape)


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
    "l1_loss": lambda r: F.l1_loss(sg.zeros(2), sg.zeros(2), reduction=r),
    "smooth_l1_loss": lambda r: F.smooth_l1_loss(sg.zeros(2), sg.zeros(2), reduction=r),
    "huber_loss": lambda r: F.huber_loss(sg.zeros(2), sg.zeros(2), reduction=r),
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
    with pytest.raises(ValueError, match=r"mse_loss: shapes \(2, 3\) and \(3, 2\) cannot be broadcast together "
                                         r"\(the shapes of input and target\)"):
        F.mse_loss(sg.zeros(2, 3), sg.zeros(3, 2))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input has shape \(2, 3\) but target has shape \(3,\)"):
        F.binary_cross_entropy(sg.zeros(2, 3), sg.zeros(3))  # torch refuses to broadcast its target too


def test_new_loss_arguments_are_checked():
    x = sg.zeros(2)
    with pytest.raises(ValueError, match=r"smooth_l1_loss: beta must be non-negative, got -1.0"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(ValueError, match=r"huber_loss: delta must be positive, got 0.0"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match=r"l1_loss: weight has shape \(3,\), expected input's shape \(2,\)"):
        F.l1_loss(x, x, weight=sg.ones(3))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: target must be probabilities in \[0, 1\]"):
        F.binary_cross_entropy(sg.full((2,), 0.5), sg.tensor([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must be probabilities in \[0, 1\]"):
        F.binary_cross_entropy(sg.tensor([0.5, float("nan")]), sg.zeros(2))  # as torch: NaN is no probability


# ---- at the edges (tests/differential.py) ---------------------------------------------------------

def edge_values(values, shape):
    return st.lists(st.sampled_from(values), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))).map(
        lambda v: np.array(v, dtype=np.float64).reshape(shape))


PROBABILITIES = (0.0, 1.0, 0.5, 1e-300, 1 - 1e-16, 0.25, 0.999)
TARGETS = (0.0, 1.0, 0.5, 0.3)


@given(data=st.data(), reduction=reductions, weighted=st.booleans())
def test_binary_cross_entropy_at_zero_and_one(data, reduction, weighted):
    """p = 0 or 1 exactly: each log clamped at -100, the gradient (p - t) / max(p (1 - p), 1e-12),
    and the double backward, as torch's (the DCGAN tutorial's discriminator reaches p = 1)."""
    shape = data.draw(loss_shapes(min_dims=1))
    p, t = data.draw(edge_values(PROBABILITIES, shape)), data.draw(edge_values(TARGETS, shape))
    weight = _optional(data, weighted, edge_values((0.5, 2.0, 0.0), shape))
    compare(_with_weight(F.binary_cross_entropy, reduction=reduction),
            _with_weight(TF.binary_cross_entropy, reduction=reduction), [p, t] + weight, constants=(2,),
            name="binary_cross_entropy")


def test_binary_cross_entropy_of_a_saturated_sigmoid_keeps_a_finite_gradient():
    """The DCGAN tutorial's third step: D's sigmoid gives 1.0 in float32; BCE against 0 was NaN
    (log 0 * 0) and its gradient NaN. Now 100 and torch's 1e12 * (p - t)."""
    logits = np.array([40.0, -40.0, 0.0], dtype=np.float32)
    for target in (np.zeros(3, np.float32), np.ones(3, np.float32)):
        ours_x = sg.tensor(logits, requires_grad=True)
        theirs_x = torch.tensor(logits, requires_grad=True)
        ours = F.binary_cross_entropy(ours_x.sigmoid(), sg.tensor(target))
        theirs = TF.binary_cross_entropy(theirs_x.sigmoid(), torch.tensor(target))
        ours.backward()
        theirs.backward()
        assert np.isfinite(ours.item()) and np.isfinite(ours_x.grad.numpy()).all()
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6)
        np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-6)


@given(data=st.data(), reduction=reductions, with_pos_weight=st.booleans())
def test_binary_cross_entropy_with_logits_at_infinite_logits(data, reduction, with_pos_weight):
    """Infinite logits give torch's values: NaN where (1 - t) x or -x + |x| is inf - inf."""
    shape = data.draw(loss_shapes(min_dims=1))
    x, t = data.draw(edge_values(EDGE_VALUES, shape)), data.draw(edge_values(TARGETS, shape))
    pos_weight = _optional(data, with_pos_weight, edge_values((0.5, 1.0, 3.0), shape[-1:]))
    compare(_with_weight(F.binary_cross_entropy_with_logits, "pos_weight", reduction=reduction),
            _with_weight(TF.binary_cross_entropy_with_logits, "pos_weight", reduction=reduction),
            [x, t] + pos_weight, constants=(2,), name="binary_cross_entropy_with_logits")


@given(data=st.data(), reduction=reductions, kink=st.sampled_from([0.5, 1.0, 2.0]), huber=st.booleans())
def test_smooth_l1_and_huber_at_their_kinks(data, reduction, kink, huber):
    """At |d| = beta (delta) the gradient is the linear side's, and the second derivative 0,
    as torch's; nan and inf as torch's."""
    shape = data.draw(loss_shapes())
    x = data.draw(edge_values(EDGE_VALUES + (kink, -kink) * 4, shape))
    target = data.draw(edge_values((0.0, 0.0, 1.0, -kink), shape))
    name = "huber_loss" if huber else "smooth_l1_loss"
    options = {"reduction": reduction, "delta" if huber else "beta": kink}
    ours, theirs = getattr(F, name), getattr(TF, name)
    compare(lambda x, t: ours(x, t, **options), lambda x, t: theirs(x, t, **options), [x, target], name=name)


@given(data=st.data(), reduction=reductions)
def test_l1_and_mse_at_the_edges(data, reduction):
    shape = data.draw(loss_shapes())
    x, target = data.draw(edge_values(EDGE_VALUES, shape)), data.draw(edge_values(EDGE_VALUES, shape))
    compare(lambda x, t: F.mse_loss(x, t, reduction=reduction), lambda x, t: TF.mse_loss(x, t, reduction=reduction),
            [x, target], name="mse_loss")
    compare(lambda x, t: F.l1_loss(x, t, reduction=reduction),
                                   lambda x, t: TF.l1_loss(x, t, reduction=reduction), [x, target], name="l1_loss")
    compare(lambda x, t: F.smooth_l1_loss(x, t, reduction=reduction, beta=0.0),
                                   lambda x, t: TF.smooth_l1_loss(x, t, reduction=reduction, beta=0.0), [x, target],
                                   name="smooth_l1_loss")


@given(data=st.data(), reduction=reductions)
def test_gaussian_nll_loss_at_the_edges(data, reduction):
    """var 0, below eps, inf, nan (clamped in value only); negative var refused as torch."""
    shape = data.draw(loss_shapes(min_dims=1))
    x, target = data.draw(edge_values(EDGE_VALUES, shape)), data.draw(edge_values(EDGE_VALUES, shape))
    var = data.draw(edge_values((0.0, 1e-300, 1e-7, 1.0, 2.0, np.inf, np.nan, 1e300, -1.0), shape))
    compare(lambda x, t, v: F.gaussian_nll_loss(x, t, v, reduction=reduction),
            lambda x, t, v: TF.gaussian_nll_loss(x, t, v, reduction=reduction), [x, target, var],
            name="gaussian_nll_loss")


@given(data=st.data(), reduction=st.sampled_from(["mean", "sum", "none", "batchmean"]), log_target=st.booleans())
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")  # torch's advice
def test_kl_div_at_the_edges(data, reduction, log_target):
    """target 0 (torch's xlogy: the value 0, the target's gradient NaN), -inf log-probabilities."""
    shape = data.draw(loss_shapes(min_dims=1))
    x = data.draw(edge_values((0.0, -1.0, -np.inf, np.nan, -0.5, -2.0), shape))
    target = data.draw(edge_values((0.0, -1.0, -np.inf, 0.5) if log_target else (0.0, 0.5, 1.0, 1e-300), shape))
    compare(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target),
            lambda x, t: TF.kl_div(x, t, reduction=reduction, log_target=log_target), [x, target], name="kl_div")


def test_losses_run_on_the_cuda_backend(device):
    """float32 values and gradients of the losses through backends/cuda.py equal the CPU's."""
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((4, 5)).astype(np.float32), rng.uniform(0, 1, (4, 5)).astype(np.float32)
    losses = {
        "binary_cross_entropy": lambda x: F.binary_cross_entropy(x.sigmoid(), tt(t, x)),
        "bce_at_0_and_1": lambda x: F.binary_cross_entropy(F.clamp(x * 0.5 + 0.5, 0.0, 1.0), tt(t, x)),
        "bce_with_logits": lambda x: F.binary_cross_entropy_with_logits(x, tt(t, x), pos_weight=tt(t[0] + 1, x)),
        "smooth_l1": lambda x: F.smooth_l1_loss(x, tt(t, x), beta=0.5),
        "huber": lambda x: F.huber_loss(x, tt(t, x), delta=0.5),
        "l1": lambda x: F.l1_loss(x, tt(t, x)),
        "gaussian_nll": lambda x: F.gaussian_nll_loss(x, tt(t, x), tt(t[:, :1] + 0.5, x)),
        "kl_div": lambda x: F.kl_div(F.log_softmax(x, 1), tt(t / t.sum(1, keepdims=True), x), reduction="batchmean"),
        "cosine": lambda x: F.cosine_similarity(x, tt(t, x)).sum(),
        "normalize": lambda x: (F.normalize(x, 3.0) * tt(t, x)).sum(),
    }
    for loss in losses.values():
        assert_match_the_cpu(device, loss, [x])


def tt(array, like):
    """A constant float32 tensor on like's device."""
    return sg.tensor(np.asarray(array, dtype=np.float32), device=like.device)
