"""scratchgen.nn.init: gains and fans equal torch.nn.init's, and each initialiser draws from
the distribution its formula gives (checked on large tensors), repeatably for a seed."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

import scratchgen as sg
from scratchgen import nn
from scratchgen.nn import init

SHAPE = (300, 200, 2)  # fan_in 400, fan_out 600; 120000 samples
FAN_IN, FAN_OUT = 400, 600

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_equals_torchs(nonlinearity):
    assert init.calculate_gain(nonlinearity) == torch.nn.init.calculate_gain(nonlinearity)


@pytest.mark.parametrize("slope", [0, 0.2, 1, 3.5])
def test_leaky_relu_gain_uses_the_slope_like_torch(slope):
    assert init.calculate_gain("leaky_relu", slope) == torch.nn.init.calculate_gain("leaky_relu", slope)


@pytest.mark.parametrize("call, message", [
    (lambda: init.calculate_gain("swish"), "unsupported nonlinearity 'swish'"),
    (lambda: init.calculate_gain("leaky_relu", True), "negative_slope True is not a valid number"),
    (lambda: init.kaiming_uniform_(sg.zeros(2, 3), mode="fan_avg"), "mode 'fan_avg' not supported"),
    (lambda: init.xavier_normal_(sg.zeros(3)), r"fewer than 2 dimensions \(shape \(3,\)\)"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@given(shape=st.lists(st.integers(1, 5), min_size=2, max_size=5).map(tuple))
def test_fans_equal_torchs_for_linear_and_conv_weights(shape):
    assert init._calculate_fan_in_and_fan_out(sg.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


def test_fans_of_a_conv_weight_count_the_kernel():
    assert init._calculate_fan_in_and_fan_out(sg.zeros(8, 4, 3, 3)) == (36, 72)


def _samples(fill, shape=SHAPE, **kwargs):
    sg.manual_seed(0)
    tensor = nn.Parameter(sg.zeros(*shape, dtype=sg.float64))
    assert fill(tensor, **kwargs) is tensor
    assert tensor.requires_grad and tensor.is_leaf and sg.is_grad_enabled()
    return tensor.detach().numpy()


def _assert_moments(values, mean, std):
    """Sample mean within 5 standard errors; sample std within 2% (120000 samples)."""
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(values.size), values.mean()
    assert values.std() == pytest.approx(std, rel=0.02)


def _assert_uniform(values, low, high):
    assert low <= values.min() and values.max() < high
    assert values.min() < low + 0.001 * (high - low) and values.max() > high - 0.001 * (high - low)
    _assert_moments(values, (low + high) / 2, (high - low) / math.sqrt(12))


def test_uniform_and_normal():
    _assert_uniform(_samples(init.uniform_), 0.0, 1.0)
    _assert_uniform(_samples(init.uniform_, a=-3.0, b=0.5), -3.0, 0.5)
    _assert_moments(_samples(init.normal_), 0.0, 1.0)
    _assert_moments(_samples(init.normal_, mean=2.0, std=0.02), 2.0, 0.02)


def test_constant_zeros_ones():
    assert_array_equal(_samples(init.constant_, (2, 3), val=0.25), np.full((2, 3), 0.25))
    assert_array_equal(_samples(init.zeros_, (2, 3)), np.zeros((2, 3)))
    assert_array_equal(_samples(init.ones_, (2, 3)), np.ones((2, 3)))


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_std_is_gain_sqrt_2_over_fan_in_plus_fan_out(gain):
    std = gain * math.sqrt(2.0 / (FAN_IN + FAN_OUT))
    bound = std * math.sqrt(3.0)
    _assert_uniform(_samples(init.xavier_uniform_, gain=gain), -bound, bound)
    _assert_moments(_samples(init.xavier_normal_, gain=gain), 0.0, std)


@pytest.mark.parametrize("a, mode, nonlinearity", [
    (0, "fan_in", "leaky_relu"), (0.2, "fan_out", "leaky_relu"), (0, "fan_in", "relu"),
    (0, "FAN_OUT", "tanh"), (math.sqrt(5), "fan_in", "leaky_relu")])
def test_kaiming_std_is_gain_over_sqrt_fan(a, mode, nonlinearity):
    fan = FAN_IN if mode.lower() == "fan_in" else FAN_OUT
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0 / fan) * torch.nn.init.calculate_gain(nonlinearity, a)
    options = dict(a=a, mode=mode, nonlinearity=nonlinearity)
    _assert_uniform(_samples(init.kaiming_uniform_, **options), -bound, bound)
    _assert_moments(_samples(init.kaiming_normal_, **options), 0.0, std)


def test_kaiming_on_an_empty_tensor_warns_and_does_nothing():
    empty = sg.zeros(0, 3)
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        assert init.kaiming_uniform_(empty) is empty


@pytest.mark.parametrize("fill", [init.uniform_, init.normal_, init.xavier_uniform_,
                                  init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_])
def test_same_seed_same_values_and_a_passed_generator_is_used(fill):
    assert_array_equal(_samples(fill, (4, 5)), _samples(fill, (4, 5)))
    first, second = sg.zeros(4, 5), sg.zeros(4, 5)
    sg.manual_seed(0)
    state = sg.get_rng_state()
    fill(first, generator=sg.Generator(7))
    fill(second, generator=sg.Generator(7))
    assert_array_equal(first.numpy(), second.numpy())
    assert sg.get_rng_state() == state  # the global generator was not touched
    assert not np.array_equal(first.numpy(), _samples(fill, (4, 5)))


def test_init_keeps_float32():
    assert init.kaiming_normal_(sg.zeros(3, 4)).dtype == np.float32


# ---- the layers' default initialisation ---------------------------------------------------
def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in():
    sg.manual_seed(0)
    fc = nn.Linear(400, 300, dtype=sg.float64)
    bound = 1 / math.sqrt(400)
    _assert_uniform(fc.weight.detach().numpy(), -bound, bound)
    bias = fc.bias.detach().numpy()
    assert (np.abs(bias) < bound).all() and bias.std() == pytest.approx(bound / math.sqrt(3), rel=0.2)


def test_same_seed_builds_the_same_model():
    def build():
        sg.manual_seed(123)
        return nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2)).state_dict()

    first, second = build(), build()
    for key in first:
        assert_array_equal(first[key].numpy(), second[key].numpy(), err_msg=key)
    assert not np.array_equal(first["0.weight"].numpy(), nn.Linear(5, 4).weight.detach().numpy())
