"""MADE (Germain et al. 2015, models/made.py) and nn.MaskedLinear: the layer's gradients pass
finite differences to the second order and match PyTorch's F.linear with weight * mask (a masked
weight gets no gradient); the network is autoregressive, checked by its Jacobian (d logit_i / d x_j
is exactly 0 unless x_j comes before x_i in the ordering), in every mask set; its probabilities
sum to 1 over every binary vector; samples follow them; the mask-set switches do what they say;
a short run on real binarized MNIST beats independent Bernoulli pixels; train, sample and eval
through the CLI. (Resuming bit for bit: tests/test_train_resume.py.)"""
import io
import itertools
import json
import math
import pathlib

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import scratchgen as sg
from scratchgen import cli, nn, train
from scratchgen.data import load_binarized_mnist
from scratchgen.models import model_class
from scratchgen.models.made import MADENetwork, mask_sets
from scratchgen.train.config import UsageError, resolve_config
from oracle import check_layer_gradients
from strategies import arrays

SHARED_BINARIZED = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binarized_mnist"


# ---- nn.MaskedLinear ------------------------------------------------------------------------------
@st.composite
def masked_linear_cases(draw):
    """(layer in float64 with drawn weight, bias and 0/1 mask; input array)."""
    n_in, n_out, batch = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    bias = draw(st.booleans())
    layer = nn.MaskedLinear(n_in, n_out, bias=bias).double()
    mask = draw(arrays((n_out, n_in), elements=st.sampled_from([0.0, 1.0])))
    layer.set_mask(mask)
    with sg.no_grad():
        layer.weight.copy_(sg.tensor(draw(arrays((n_out, n_in)))))
        if bias:
            layer.bias.copy_(sg.tensor(draw(arrays((n_out,)))))
    return layer, draw(arrays((batch, n_in)))


@given(case=masked_linear_cases())
def test_masked_linear_passes_gradcheck_and_gradgradcheck(case):
    check_layer_gradients(*case)


@given(case=masked_linear_cases())
def test_masked_linear_matches_torch_linear_of_the_masked_weight(case):
    layer, x = case
    mask = layer.mask.numpy()
    ours_x = sg.tensor(x, requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    weight = torch.tensor(layer.weight.detach().numpy(), requires_grad=True)
    bias = None if layer.bias is None else torch.tensor(layer.bias.detach().numpy(), requires_grad=True)
    ours, theirs = layer(ours_x), torch.nn.functional.linear(theirs_x, weight * torch.tensor(mask), bias)
    assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    upstream = np.random.default_rng(0).standard_normal(ours.shape)
    ours.backward(sg.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert_allclose(layer.weight.grad.numpy(), weight.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert np.all(layer.weight.grad.numpy()[mask == 0] == 0)  # a masked weight learns nothing
    if bias is not None:
        assert_allclose(layer.bias.grad.numpy(), bias.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_the_mask_is_a_saved_buffer_that_moves_with_the_layer_and_stays_binary():
    layer = nn.MaskedLinear(3, 2, mask=[[1, 0, 0], [1, 1, 0]])
    assert list(layer.state_dict()) == ["weight", "bias", "mask"]
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    layer.double()
    assert layer.mask.dtype == np.float64
    copy = nn.MaskedLinear(3, 2).double()
    copy.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(copy.mask.numpy(), [[1, 0, 0], [1, 1, 0]])
    with pytest.raises(ValueError, match=r"MaskedLinear: mask must have the weight's shape \(2, 3\), got \(3, 2\)"):
        layer.set_mask(np.ones((3, 2)))
    with pytest.raises(ValueError, match="MaskedLinear: mask must hold only 0s and 1s"):
        layer.set_mask(np.full((2, 3), 0.5))


# ---- the autoregressive property, by the Jacobian -------------------------------------------------
def jacobian(network, x):
    """J[i, j] = d logit_i / d x_j at the row x (float64), one backward pass per output."""
    x = sg.tensor(x[None], requires_grad=True)
    logits = network(x)[0]
    rows = [sg.grad(logits[i], [x], retain_graph=True)[0].numpy()[0] for i in range(len(logits))]
    return np.stack(rows)


@given(data_size=st.integers(2, 7), hidden=st.lists(st.integers(1, 9), min_size=1, max_size=3),
       seed=st.integers(0, 2 ** 16), order_agnostic=st.booleans())
def test_each_output_depends_only_on_the_inputs_before_it_in_the_ordering(data_size, hidden, seed, order_agnostic):
    sg.manual_seed(seed)
    network = MADENetwork(data_size, hidden).double()
    x = np.random.default_rng(seed).standard_normal(data_size)
    for connectivity in mask_sets(data_size, hidden, 3, order_agnostic, True, seed):
        network.set_connectivity(connectivity)
        order = connectivity.ordering
        allowed = order[None, :] < order[:, None]  # allowed[i, j]: x_j comes before x_i
        assert np.all(jacobian(network, x)[~allowed] == 0)


def test_the_jacobian_is_not_trivially_zero_where_it_may_depend():
    """With wide layers every allowed dependency is realised somewhere: the check above is not
    passed by a network that ignores its input."""
    sg.manual_seed(0)
    network = MADENetwork(5, [64, 64]).double()
    connectivity = mask_sets(5, [64, 64], 1, True, True, 0)[0]
    network.set_connectivity(connectivity)
    order = connectivity.ordering
    rng = np.random.default_rng(0)
    reached = sum(np.abs(jacobian(network, rng.standard_normal(5))) for _ in range(5))
    np.testing.assert_array_equal(reached > 0, order[None, :] < order[:, None])


# ---- the model -----------------------------------------------------------------------------------
def tiny_made(data_size, **overrides):
    cls = model_class("made")
    config = resolve_config(cls, "binarized-mnist", {"hidden": [16], **overrides}, seed=0)
    config["data_shape"] = [data_size]
    sg.manual_seed(0)
    return cls(config)


def every_binary_vector(size):
    return sg.tensor(np.array(list(itertools.product([0.0, 1.0], repeat=size)), np.float32))


@pytest.mark.parametrize("order_agnostic, connectivity_agnostic", [("on", "on"), ("off", "on"), ("on", "off")])
def test_every_mask_set_and_their_mixture_is_a_normalised_distribution(order_agnostic, connectivity_agnostic):
    model = tiny_made(6, num_masks=4, order_agnostic=order_agnostic, connectivity_agnostic=connectivity_agnostic)
    for network in model.networks():
        network.double()
    x = every_binary_vector(6).double()
    for k in range(4):
        model.use_mask(k)
        with sg.no_grad():
            assert math.isclose(model.log_prob(x).exp().sum().item(), 1.0, rel_tol=1e-12)
    mixture = np.exp(-np.array([model.test_metrics(x[i:i + 1], 0, None, progress=False)["test_nll"]
                                for i in range(len(x))]))
    assert math.isclose(mixture.sum(), 1.0, rel_tol=1e-12)


def test_the_switches_choose_which_degrees_each_mask_set_redraws():
    both = mask_sets(10, [8, 8], 3, True, True, 0)
    orders_only = mask_sets(10, [8, 8], 3, True, False, 0)
    degrees_only = mask_sets(10, [8, 8], 3, False, True, 0)
    assert len({tuple(c.ordering) for c in both}) == 3 and len({tuple(c.hidden[0]) for c in both}) == 3
    assert len({tuple(c.ordering) for c in orders_only}) == 3
    assert all(c.hidden[l] is orders_only[0].hidden[l] for c in orders_only for l in range(2))
    assert all(list(c.ordering) == list(range(1, 11)) for c in degrees_only)
    assert len({tuple(c.hidden[1]) for c in degrees_only}) == 3
    for c in both:  # hidden degrees in [min of the layer below, D - 1]
        assert c.hidden[0].min() >= 1 and c.hidden[1].min() >= c.hidden[0].min() and c.hidden[1].max() <= 9
    with pytest.raises(UsageError, match="num_masks > 1 needs order_agnostic or connectivity_agnostic on"):
        resolve_config(model_class("made"), None, {"num_masks": 2, "order_agnostic": "off",
                                                    "connectivity_agnostic": "off"})


def test_samples_follow_the_model_s_probabilities():
    model = tiny_made(3, num_masks=1)
    x = every_binary_vector(3)
    with sg.no_grad():
        probabilities = model.log_prob(x).exp().numpy()
        samples = model.generate(4000, sg.Generator(1)).numpy()  # (sample() draws 28 x 28 images)
    assert set(np.unique(samples)) <= {0.0, 1.0}
    counts = np.array([np.all(samples == row, axis=1).sum() for row in x.numpy()])
    expected = 4000 * probabilities
    assert np.all(np.abs(counts - expected) <= 5 * np.sqrt(expected) + 1), (counts, expected)


# ---- on binarized MNIST ----------------------------------------------------------------------------
def independent_pixels_nll(train_images, test_images):
    """The baseline: each pixel an independent Bernoulli with its training frequency (add-one smoothed)."""
    p = (train_images.sum(0) + 1.0) / (len(train_images) + 2.0)
    return -(test_images @ np.log(p) + (1 - test_images) @ np.log(1 - p)).mean()


def test_a_short_run_on_binarized_mnist_beats_independent_pixels_by_far(tmp_path):
    baseline = independent_pixels_nll(load_binarized_mnist("train", SHARED_BINARIZED).astype(np.float64),
                                      load_binarized_mnist("test", SHARED_BINARIZED).astype(np.float64))
    assert 200 < baseline < 210  # about 206 nats
    run, outcome = train.start("made", steps=400, out=tmp_path / "made", data_dir=SHARED_BINARIZED,
                               stream=io.StringIO(), overrides=dict(hidden=[200], num_masks=1, sample_every=1000))
    assert outcome == "finished"
    results = train.evaluate(run.path, n_test=2000, progress=False)
    assert results["test_nll"] < baseline - 40, (results, baseline)  # 138 nats here after 400 steps


def test_train_sample_and_eval_through_the_cli(tmp_path, capsys):
    run_dir = tmp_path / "made"
    assert cli.main(["train", "made", "--steps", "4", "--batch-size", "10", "--data-dir", str(SHARED_BINARIZED),
                     "--out", str(run_dir), "--set", "hidden=[8]", "--set", "num_masks=2"]) == 0
    assert cli.main(["sample", str(run_dir), "--n", "3", "--out", str(tmp_path / "s.npy")]) == 0
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (3, 1, 28, 28) and set(np.unique(samples)) <= {0.0, 1.0}
    assert cli.main(["eval", str(run_dir), "--n-test", "50"]) == 0
    results = json.loads((run_dir / "eval.json").read_text())
    assert results["num_masks"] == 2 and results["n_test"] == 50
    assert results["test_nll"] <= results["test_nll_one_mask"]  # log of a mean >= mean of logs (Jensen)
    capsys.readouterr()
    assert cli.main(["list", "made"]) == 0
    listing = capsys.readouterr().out
    assert "binarized-mnist" in listing and "num_masks" in listing and "order_agnostic" in listing
