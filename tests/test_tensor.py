"""Tensor construction, dtypes, conversion and random numbers."""
import numpy as np
import pytest

import scratchgen as sg


def test_factories_follow_torch_dtypes():
    assert sg.tensor([1.0, 2.0]).dtype == np.float32
    assert sg.tensor([1, 2]).dtype == np.int64
    assert sg.tensor(np.zeros(2)).dtype == np.float64, "a NumPy array keeps its dtype"
    assert sg.zeros(2, 3).shape == (2, 3) and sg.zeros((2, 3)).dtype == np.float32
    assert sg.ones(4, dtype=sg.float64).dtype == np.float64
    assert sg.arange(5).dtype == np.int64 and sg.arange(0.0, 1.0, 0.25).shape == (4,)
    assert sg.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert sg.eye(3).numpy().trace() == 3
    assert sg.zeros_like(sg.ones(2, dtype=sg.float64)).dtype == np.float64


def test_tensor_copies_its_input():
    a = np.zeros(3)
    t = sg.tensor(a)
    a[0] = 5
    assert t[0].item() == 0


def test_float32_and_float64_mix_follows_numpy_promotion():
    a, b = sg.ones(2), sg.ones(2, dtype=sg.float64)
    assert (a + b).dtype == np.float64
    assert (a * 2.5).dtype == np.float32, "a Python float does not promote float32 (NEP 50)"
    assert (sg.arange(3) * 2).dtype == np.int64


def test_float32_float64_gradients_keep_each_leaf_dtype():
    a = sg.ones(2, requires_grad=True)
    b = sg.ones(2, dtype=sg.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64, "each .grad has its leaf's dtype"
    (ga,) = sg.grad((a * b).sum(), [a])
    assert ga.dtype == np.float32
    c = sg.ones(2, requires_grad=True)
    c.double().sum().backward()
    assert c.grad.dtype == np.float32, "a cast's gradient is cast back"


def test_item_numpy_detach_and_repr():
    t = sg.tensor([[1.5]], requires_grad=True)
    assert t.item() == 1.5
    with pytest.raises(RuntimeError, match="detach"):
        t.numpy()
    assert t.detach().numpy().shape == (1, 1)
    assert repr(t) == "tensor([[1.5]], requires_grad=True)"
    assert repr(sg.tensor([1, 2])) == "tensor([1, 2], dtype=int64)"
    assert "grad_fn=<MulBackward>" in repr(t * 2)
    with pytest.raises(ValueError, match="item\\(\\): tensor has 2 elements"):
        sg.tensor([1.0, 2.0]).item()


def test_requires_grad_only_for_floats_and_leaves():
    with pytest.raises(RuntimeError, match="only floating-point tensors can require grad.*int64"):
        sg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="only leaf tensors"):
        (sg.ones(2, requires_grad=True) * 2).requires_grad_(False)


def test_setitem_is_in_place_and_checked():
    t = sg.zeros(3)
    t[1] = 5.0
    t[sg.tensor([True, False, True])] = 2.0
    assert t.tolist() == [2.0, 5.0, 2.0] and t._version[0] == 2


def test_manual_seed_repeats_and_generators_are_independent():
    sg.manual_seed(42)
    a = sg.randn(5)
    sg.manual_seed(42)
    assert np.array_equal(a.numpy(), sg.randn(5).numpy())
    g1, g2 = sg.Generator(7), sg.Generator(7)
    x = sg.rand(3, generator=g1)
    state = g1.get_state()
    y = sg.rand(3, generator=g1)
    g1.set_state(state)
    assert np.array_equal(y.numpy(), sg.rand(3, generator=g1).numpy())
    assert np.array_equal(x.numpy(), sg.rand(3, generator=g2).numpy())
    assert sg.randn(4, dtype=sg.float64).dtype == np.float64
    assert 0 <= sg.randint(0, 3, (100,)).numpy().min() and sg.randint(0, 3, (100,)).numpy().max() < 3


def test_unknown_device_is_a_clear_error():
    with pytest.raises(ValueError, match="device: expected 'cpu' or 'cuda', got 'tpu'"):
        sg.zeros(2, device="tpu")


def test_data_is_a_tensor_sharing_the_array_without_history_as_in_torch():
    w = sg.zeros(3, requires_grad=True)
    view = w.data
    assert isinstance(view, sg.Tensor) and not view.requires_grad and view.grad_fn is None
    assert view.array is w.array
    w.data.normal_(0.0, 0.02)  # the DCGAN initialisation idiom: allowed outside no_grad, as in torch
    assert w.array.any() and w._version[0] == 0  # autograd is not told, as torch's .data does not tell it
    w.data.fill_(1.0)
    np.testing.assert_array_equal(w.data.numpy(), [1.0, 1.0, 1.0])


def test_setting_data_replaces_the_array():
    w = sg.zeros(3, requires_grad=True)
    w.data = sg.ones(2, 2, dtype=sg.float64)
    assert w.shape == (2, 2) and w.dtype == np.float64 and w.requires_grad
    with pytest.raises(TypeError, match="data: a Tensor's data can be set to a Tensor"):
        w.data = np.ones(2)
