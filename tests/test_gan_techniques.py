"""The Improved-GAN techniques (Salimans et al. 2016): minibatch discrimination, virtual batch
norm, Gaussian noise, feature matching, historical averaging and one-sided label smoothing.
Each formula: gradcheck and gradgradcheck in float64 on hypothesis-drawn shapes, and the same
formula written in PyTorch; each layer: what it is for (a collapsed batch is seen, an example's
output does not depend on the rest of its batch, noise only while training)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import scratchgen as sg
from oracle import check
from scratchgen import nn
from scratchgen.models.gan_techniques import (HistoricalAverage, ParameterAverage, feature_matching_loss,
                                              one_sided_smoothing)
from scratchgen.nn.minibatch_discrimination import closeness
from scratchgen.nn.virtual_batchnorm import reference_statistics, virtual_batch_norm

EXAMPLES = settings(max_examples=20, deadline=None)


def normal(data, *shape):
    """Gaussian values from a drawn seed: no ties between rows, which |.| would turn into kinks."""
    return np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1))).standard_normal(shape)


def torch_closeness(x, T, b):
    m = (x @ T).reshape(x.shape[0], b, -1)
    return torch.exp(-(m.unsqueeze(1) - m.unsqueeze(0)).abs().sum(-1)).sum(1)


@EXAMPLES
@given(data=st.data(), n=st.integers(1, 4), a=st.integers(1, 3), b=st.integers(1, 3), c=st.integers(1, 3))
def test_minibatch_closeness(data, n, a, b, c):
    check(lambda x, T: closeness(x, T, b), lambda x, T: torch_closeness(x, T, b),
          [normal(data, n, a), normal(data, a, b * c)])


def test_minibatch_discrimination_sees_a_collapsed_batch():
    """o(x_i)_b counts the examples close to x_i: n for a batch of one repeated example, near 1
    (x_i itself) for a spread one."""
    sg.manual_seed(0)
    layer = nn.MinibatchDiscrimination(4, num_kernels=3, kernel_dim=2)
    collapsed = layer(sg.ones(5, 4))
    assert collapsed.shape == (5, 7)
    np.testing.assert_allclose(collapsed.detach().numpy()[:, 4:], 5.0)
    spread = layer(sg.tensor(np.arange(20.0).reshape(5, 4) * 1000, dtype=sg.float32))
    np.testing.assert_allclose(spread.detach().numpy()[:, 4:], 1.0, atol=1e-3)
    np.testing.assert_array_equal(spread.detach().numpy()[:, :4], np.arange(20.0).reshape(5, 4) * 1000)


def torch_vbn(x, r, w, b, eps, own_batch):
    spatial = tuple(range(2, x.ndim))
    def moments(t):
        return (t.mean(spatial, keepdim=True), (t * t).mean(spatial, keepdim=True)) if spatial else (t, t * t)
    mean, square = (m.mean(0, keepdim=True) for m in moments(r))
    if not own_batch:
        a = 1.0 / (r.shape[0] + 1)
        own_mean, own_square = moments(x)
        mean, square = (1 - a) * mean + a * own_mean, (1 - a) * square + a * own_square
    shape = (1, x.shape[1]) + (1,) * len(spatial)
    return (x - mean) / torch.sqrt(square - mean * mean + eps) * w.reshape(shape) + b.reshape(shape)


@EXAMPLES
@given(data=st.data(), n=st.integers(1, 3), n_ref=st.integers(2, 4), c=st.integers(1, 3),
       spatial=st.sampled_from([(), (2,), (2, 2)]), own_batch=st.booleans())
def test_virtual_batch_norm(data, n, n_ref, c, spatial, own_batch):
    x, r = normal(data, n, c, *spatial), normal(data, n_ref, c, *spatial)
    w, b = normal(data, c), normal(data, c)
    if own_batch:
        x = r
    check(lambda x, r, w, b: virtual_batch_norm(x, reference_statistics(r), w, b, 1e-3, own_batch),
          lambda x, r, w, b: torch_vbn(x, r, w, b, 1e-3, own_batch), [x, r, w, b])


def test_virtual_batch_norm_keeps_each_example_apart_from_its_batch():
    """Salimans et al. 2016, Sec. 3.4: an example's output depends on the reference batch and on
    itself, not on the other examples of its batch (as batch norm's does)."""
    sg.manual_seed(0)
    g = nn.Sequential(nn.Linear(3, 4), nn.VirtualBatchNorm(4), nn.Softplus())
    with pytest.raises(RuntimeError, match="VirtualBatchNorm: no reference statistics"):
        g(sg.randn(2, 3))
    reference = nn.run_reference(g[:2], sg.randn(16, 3))
    np.testing.assert_allclose(reference.detach().numpy().mean(0), 0.0, atol=1e-5)  # normalised by its own statistics
    x = sg.randn(5, 3)
    np.testing.assert_allclose(g(x).detach().numpy()[:1], g(x[:1]).detach().numpy(), rtol=1e-6)
    batch_norm = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    assert not np.allclose(batch_norm(x).detach().numpy()[:1], batch_norm(x[:2]).detach().numpy()[:1])


def test_gaussian_noise_while_training_only():
    layer = nn.GaussianNoise(0.5)
    x = sg.zeros(200, 500)
    noise = layer(x).numpy()
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.5) < 0.01
    layer.eval()
    assert layer(x) is x
    layer.train()
    sg.manual_seed(3)
    first = layer(x).numpy()
    sg.manual_seed(3)
    np.testing.assert_array_equal(layer(x).numpy(), first)  # the global generator: seeded, resumable


@given(data=st.data(), shape=st.sampled_from([(1, 1), (2, 3), (4, 2), (3, 2, 2)]))
@EXAMPLES
def test_gaussian_noise_passes_the_gradient(data, shape):
    layer = nn.GaussianNoise(0.3)

    def noisy(x):
        sg.manual_seed(7)
        return layer(x)

    def torch_noisy(x):
        sg.manual_seed(7)
        return x + torch.tensor(layer(sg.zeros(*x.shape, dtype=sg.float64)).numpy())

    check(noisy, torch_noisy, [normal(data, *shape)])


@EXAMPLES
@given(data=st.data(), n=st.integers(1, 4), m=st.integers(1, 4), features=st.integers(1, 4))
def test_feature_matching_loss(data, n, m, features):
    check(feature_matching_loss, lambda r, f: ((r.detach().mean(0) - f.mean(0)) ** 2).mean(),
          [normal(data, n, features), normal(data, m, features)], constants=(0,))  # real: a detached target
    real = sg.tensor(normal(data, n, features), requires_grad=True)
    feature_matching_loss(real, sg.tensor(normal(data, m, features), requires_grad=True)).backward()
    assert real.grad is None  # the real features are a target: no gradient reaches D through them


def test_historical_average_penalises_the_distance_to_the_mean_of_past_parameters():
    """Sec. 3.3: ||theta - (1/t) sum_i theta[i]||^2, its gradient 2 (theta - mean)."""
    p = nn.Parameter(sg.tensor([1.0, 2.0], dtype=sg.float64))
    history = HistoricalAverage([p], weight=0.5)
    assert history.penalty().item() == 0.0
    past = [np.array([1.0, 2.0])]
    for new in ([3.0, 0.0], [-1.0, 4.0]):
        with sg.no_grad():
            p.copy_(sg.tensor(new, dtype=sg.float64))
        history.update()
        past.append(np.array(new))
    with sg.no_grad():
        p.copy_(sg.tensor([0.5, 0.5], dtype=sg.float64))
    mean = np.mean(past, axis=0)
    penalty = history.penalty()
    np.testing.assert_allclose(penalty.item(), 0.5 * np.sum((np.array([0.5, 0.5]) - mean) ** 2))
    penalty.backward()
    np.testing.assert_allclose(p.grad.numpy(), 2 * 0.5 * (np.array([0.5, 0.5]) - mean))
    restored = HistoricalAverage([p], weight=0.5)
    restored.load_state_dict(history.state_dict())
    assert restored.penalty().item() == penalty.item()


def test_one_sided_smoothing_gives_the_real_targets_alpha():
    logits = sg.randn(3, 1, dtype=sg.float64)
    targets = one_sided_smoothing(logits, alpha=0.9)
    assert targets.shape == (3, 1) and targets.dtype == sg.float64 and np.allclose(targets.numpy(), 0.9)


def test_parameter_average_is_the_start_corrected_moving_average_and_swaps_in_for_testing():
    """avg_t = sum_i r (1-r)^(t-i) theta_i / (1 - (1-r)^t): the exponential moving average
    started at 0 (openai/improved-gan's), divided by its weight so far, as Adam's moments."""
    p = nn.Parameter(sg.tensor([1.0, -2.0], dtype=sg.float64))
    average, r, seen = ParameterAverage([p], rate=0.3), 0.3, [np.array([1.0, -2.0])]
    for new in ([3.0, 0.0], [-1.0, 4.0], [0.5, 0.5]):
        with sg.no_grad():
            p.copy_(sg.tensor(new, dtype=sg.float64))
        average.update()
        seen.append(np.array(new))
    t = len(seen)
    weights = np.array([r * (1 - r) ** (t - 1 - i) for i in range(t)])
    expected = (weights[:, None] * seen).sum(0) / (1 - (1 - r) ** t)
    with average.swapped_in():
        np.testing.assert_allclose(p.detach().numpy(), expected)
    np.testing.assert_array_equal(p.detach().numpy(), [0.5, 0.5])
