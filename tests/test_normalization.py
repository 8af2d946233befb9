"""batch_norm, layer_norm, group_norm, instance_norm, dropout2d and embedding: gradcheck,
gradgradcheck and PyTorch's values and gradients; running statistics against PyTorch's after
several steps; the errors for invalid arguments."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import scratchgen as sg
from differential import compare
from oracle import check
from scratchgen.ops.dropout2d import dropout2d
from scratchgen.ops.embedding import embedding
from scratchgen.ops.normalization import batch_norm, group_norm, instance_norm, layer_norm
from strategies import arrays

EXAMPLES = settings(max_examples=15, deadline=None)


@st.composite
def channel_inputs(draw, min_dims=2, max_dims=4):
    """(N, C, *spatial) with at least two values per channel."""
    ndim = draw(st.integers(min_dims, max_dims))
    shape = (draw(st.integers(2, 3)), draw(st.integers(1, 3))) + tuple(draw(st.integers(1, 3)) for _ in range(ndim - 2))
    return draw(arrays(shape))


@EXAMPLES
@given(data=st.data())
def test_batch_norm_training(data):
    x = data.draw(channel_inputs())
    affine = data.draw(st.booleans())
    params = [data.draw(arrays((x.shape[1],))) for _ in range(2)] if affine else []
    check(lambda x, *wb: batch_norm(x, None, None, *wb, training=True, eps=1e-3),
          lambda x, *wb: TF.batch_norm(x, None, None, *wb, training=True, eps=1e-3), [x] + params)


@EXAMPLES
@given(data=st.data())
def test_batch_norm_training_on_the_batch_last_layout_convolutions_leave(data):
    """The input stored (C, H, W, N), as a convolution leaves it, while the gradient arrives in
    C order: the backward copies it into the input's order first (in_layout_of)."""
    x = data.draw(channel_inputs(min_dims=4))
    weight, bias = (data.draw(arrays((x.shape[1],))) for _ in range(2))
    batch_last = np.ascontiguousarray(x.transpose(1, 2, 3, 0))
    check(lambda x, w, b: batch_norm(x.permute(3, 0, 1, 2), None, None, w, b, training=True, eps=1e-3),
          lambda x, w, b: TF.batch_norm(x.permute(3, 0, 1, 2), None, None, w, b, training=True, eps=1e-3),
          [batch_last, weight, bias])


@EXAMPLES
@given(data=st.data())
def test_batch_norm_eval_uses_the_running_statistics(data):
    x = data.draw(channel_inputs())
    c = x.shape[1]
    mean, var = data.draw(arrays((c,))), data.draw(arrays((c,), 0.5, 2.0))
    weight, bias = data.draw(arrays((c,))), data.draw(arrays((c,)))

    def fn(norm, tensor):
        return lambda x, w, b: norm(x, tensor(mean), tensor(var), w, b, training=False)
    check(fn(batch_norm, sg.tensor), fn(TF.batch_norm, torch.tensor), [x, weight, bias])


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (3, 2, 4, 5)])
def test_batch_norm_running_statistics_follow_torch(shape):
    rng = np.random.default_rng(0)
    ours = [sg.zeros(shape[1], dtype=sg.float64), sg.ones(shape[1], dtype=sg.float64)]
    theirs = [torch.zeros(shape[1], dtype=torch.float64), torch.ones(shape[1], dtype=torch.float64)]
    versions = [t._version[0] for t in ours]
    for step in range(4):
        x = rng.standard_normal(shape) * (step + 1) + step
        y = batch_norm(sg.tensor(x), *ours, training=True, momentum=0.3)
        expected = TF.batch_norm(torch.tensor(x), *theirs, training=True, momentum=0.3)
        assert_allclose(y.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)
    for mine, reference in zip(ours, theirs):
        assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-12)
    assert [t._version[0] for t in ours] == [v + 4 for v in versions]  # updated in place, once a step
    x = rng.standard_normal(shape)
    assert_allclose(batch_norm(sg.tensor(x), *ours).numpy(), TF.batch_norm(torch.tensor(x), *theirs).numpy(),
                    rtol=1e-10, atol=1e-12)


def test_batch_norm_float32_keeps_a_large_mean_accurate():
    """Variance by the mean of squared deviations: no cancellation when |mean| >> std."""
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((64, 8, 7, 7)) + 1000).astype(np.float32)
    expected = TF.batch_norm(torch.tensor(x), None, None, training=True)
    assert_allclose(batch_norm(sg.tensor(x), None, None, training=True).numpy(), expected.numpy(), atol=2e-3)


@EXAMPLES
@given(data=st.data())
def test_layer_norm(data):
    x = data.draw(channel_inputs(2, 3))
    normalized = x.shape[-data.draw(st.integers(1, x.ndim - 1)):]
    params = [data.draw(arrays(normalized)) for _ in range(2)]
    check(lambda x, w, b: layer_norm(x, normalized, w, b), lambda x, w, b: TF.layer_norm(x, normalized, w, b),
          [x] + params)


@EXAMPLES
@given(data=st.data())
def test_group_norm(data):
    groups = data.draw(st.integers(1, 2))
    shape = (data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2)), data.draw(st.integers(2, 3)))
    x = data.draw(arrays(shape))
    params = [data.draw(arrays((shape[1],))) for _ in range(2)]
    check(lambda x, w, b: group_norm(x, groups, w, b), lambda x, w, b: TF.group_norm(x, groups, w, b), [x] + params)


@EXAMPLES
@given(data=st.data())
def test_instance_norm(data):
    x = data.draw(channel_inputs(3, 4).filter(lambda a: np.prod(a.shape[2:]) > 1))
    params = [data.draw(arrays((x.shape[1],))) for _ in range(2)]
    check(lambda x, w, b: instance_norm(x, weight=w, bias=b), lambda x, w, b: TF.instance_norm(x, weight=w, bias=b),
          [x] + params)


def test_instance_norm_running_statistics_follow_torch():
    rng = np.random.default_rng(2)
    ours = [sg.zeros(3, dtype=sg.float64), sg.ones(3, dtype=sg.float64)]
    theirs = [torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)]
    for _ in range(3):
        x = rng.standard_normal((4, 3, 5)) * 2 + 1
        instance_norm(sg.tensor(x), *ours, momentum=0.2)
        TF.instance_norm(torch.tensor(x), *theirs, momentum=0.2)
    for mine, reference in zip(ours, theirs):
        assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-12)
    x = rng.standard_normal((4, 3, 5))
    assert_allclose(instance_norm(sg.tensor(x), *ours, use_input_stats=False).numpy(),
                    TF.instance_norm(torch.tensor(x), *theirs, use_input_stats=False).numpy(), rtol=1e-10)


EMPTY_BATCHES = [(0, 3), (0, 4, 5), (0, 2, 3, 3)]


@pytest.mark.parametrize("shape", EMPTY_BATCHES)
def test_norms_of_an_empty_batch_follow_torch(shape):
    """An empty batch gives an empty output, an empty input gradient and zero gradients for
    weight and bias, to second order, as torch (batch_norm refused it, group_norm could not
    reshape it, layer_norm's backward divided by zero); batch_norm leaves its running
    statistics as they are."""
    rng = np.random.default_rng(5)
    x, weight, bias = np.zeros(shape), rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    compare(lambda x, w, b: batch_norm(x, None, None, w, b, training=True),
            lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), [x, weight, bias])
    compare(lambda x, w, b: group_norm(x, shape[1] // 2 or 1, w, b),
            lambda x, w, b: TF.group_norm(x, shape[1] // 2 or 1, w, b), [x, weight, bias])
    normalized = shape[1:]
    ln_weight, ln_bias = rng.standard_normal(normalized), rng.standard_normal(normalized)
    for orders, constants in (((0, 1), ()), ((0, 1, 2), (2,))):  # bias's gradient, sum(g), is a constant here
        compare(lambda x, w, b: layer_norm(x, normalized, w, b), lambda x, w, b: TF.layer_norm(x, normalized, w, b),
                [x, ln_weight, ln_bias], constants, orders)
    ours = [sg.zeros(shape[1], dtype=sg.float64), sg.ones(shape[1], dtype=sg.float64)]
    theirs = [torch.zeros(shape[1], dtype=torch.float64), torch.ones(shape[1], dtype=torch.float64)]
    batch_norm(sg.tensor(x), *ours, training=True)
    TF.batch_norm(torch.tensor(x), *theirs, training=True)
    for mine, reference in zip(ours, theirs):
        assert_allclose(mine.numpy(), reference.numpy())


def test_unfold_of_an_empty_batch_follows_torch():
    """unfold (ops/conv.py) of an empty batch: (0, C * kH * kW, L), as torch (it could not
    reshape its columns before)."""
    x = np.zeros((0, 2, 4, 5))
    compare(lambda x: sg.functional.unfold(x, (2, 3), padding=1, stride=(1, 2)),
            lambda x: TF.unfold(x, (2, 3), padding=1, stride=(1, 2)), [x])


def test_normalization_errors_name_the_argument():
    x = sg.zeros(4, 3, 2, 2)
    with pytest.raises(ValueError, match=r"batch_norm: weight has shape \(4,\), expected \(3,\)"):
        batch_norm(x, None, None, sg.ones(4), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel when training, "
                                         r"got input of shape \(1, 3\)"):
        batch_norm(sg.zeros(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"batch_norm: running_mean and running_var are needed when training=False"):
        batch_norm(x, None, None)
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(3,\) must match the last dims"):
        layer_norm(x, 3)
    with pytest.raises(ValueError, match=r"group_norm: num_groups must be a positive divisor of the number "
                                         r"of channels \(3\), got 2"):
        group_norm(x, 2)


def test_dropout2d_drops_whole_channels():
    x = sg.ones(16, 32, 3, 3, requires_grad=True)
    y = dropout2d(x, 0.25, generator=sg.Generator(0))
    per_channel = y.detach().numpy().reshape(16, 32, 9)
    assert_allclose(np.unique(per_channel), [0.0, 1 / 0.75], rtol=1e-6)
    assert (per_channel == per_channel[..., :1]).all()
    assert 0.15 < (per_channel[..., 0] == 0).mean() < 0.35
    y.sum().backward()
    assert_allclose(x.grad.numpy(), per_channel.reshape(x.shape))
    assert dropout2d(x, 0.5, training=False) is x
    assert (dropout2d(x, 1.0).detach().numpy() == 0).all()
    with pytest.raises(ValueError, match=r"dropout2d: p must be a probability in \[0, 1\], got 1.5"):
        dropout2d(x, 1.5)


@pytest.mark.parametrize("options", [{}, {"padding_idx": 1}, {"padding_idx": -1, "scale_grad_by_freq": True},
                                     {"scale_grad_by_freq": True}])
def test_embedding(options):
    rng = np.random.default_rng(3)
    weight, indices = rng.standard_normal((5, 3)), rng.integers(0, 5, (2, 4))
    # padding_idx and scale_grad_by_freq alter the gradient on purpose: finite differences do not apply
    check(lambda w, i: embedding(i, w, **options), lambda w, i: TF.embedding(i, w, **options), [weight, indices],
          gradcheck=not options)


def test_embedding_max_norm_renormalizes_the_rows_in_place_as_torch():
    rng = np.random.default_rng(4)
    weight, indices = rng.standard_normal((6, 4)) * 2, np.array([[0, 2], [2, 5]])
    ours, theirs = sg.tensor(weight, requires_grad=True), torch.tensor(weight, requires_grad=True)
    out = embedding(sg.tensor(indices), ours, max_norm=1.5)
    expected = TF.embedding(torch.tensor(indices), theirs, max_norm=1.5)
    assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)


def test_embedding_errors():
    with pytest.raises(IndexError, match=r"embedding: indices must be in \[0, 5\), got min 0, max 7"):
        embedding(sg.tensor([0, 7]), sg.zeros(5, 2))
    with pytest.raises(TypeError, match=r"embedding: input must hold integer indices, got dtype float32"):
        embedding(sg.tensor([0.0]), sg.zeros(5, 2))
