"""Properties of the autograd engine itself: accumulation, higher order, graph lifetime,
hooks, recording modes, anomaly detection and the errors a user meets."""
import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, strategies as st

import scratchgen as sg
import scratchgen.functional as F
from scratchgen.autograd.function import Function


def leaf(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return sg.tensor(rng.standard_normal(shape), requires_grad=True)


def small_mlp(params, x):
    w1, b1, w2, b2 = params
    return F.linear(F.tanh(F.linear(x, w1, b1)), w2, b2).square().mean()


def mlp_params(seed=0):
    return [leaf(5, 3, seed=seed), leaf(5, seed=seed + 1), leaf(2, 5, seed=seed + 2), leaf(2, seed=seed + 3)]


def test_gradients_of_independent_paths_accumulate():
    x = leaf(4)
    (x * 2 + x * 3 + x.exp()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 5 + np.exp(x.detach().numpy()))


def test_backward_twice_with_retain_graph_accumulates_into_grad():
    x = leaf(3)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * x.detach().numpy())


def test_backward_twice_without_retain_graph_says_so():
    x = leaf(3)
    y = x.exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_backward_of_non_scalar_needs_gradient():
    y = leaf(2, 3) * 2
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\).*scalar.*grad_outputs"):
        y.backward()
    y.backward(sg.ones(2, 3, dtype=sg.float64))


def test_backward_of_tensor_without_grad_says_so():
    with pytest.raises(RuntimeError, match="does not require grad"):
        sg.tensor([1.0, 2.0]).sum().backward()


@given(st.integers(0, 1000))
def test_create_graph_gives_same_first_order_values(seed):
    params, x = mlp_params(seed), leaf(4, 3, seed=seed + 7)
    plain = sg.grad(small_mlp(params, x), params)
    recorded = sg.grad(small_mlp(params, x), params, create_graph=True)
    assert all(r.requires_grad for r in recorded)
    for a, b in zip(plain, recorded):
        np.testing.assert_array_equal(a.numpy(), b.detach().numpy())


def test_hessian_vector_product_matches_finite_differences_of_the_gradient():
    params, x = mlp_params(3), leaf(4, 3, seed=9)
    rng = np.random.default_rng(1)
    v = [sg.tensor(rng.standard_normal(p.shape)) for p in params]
    grads = sg.grad(small_mlp(params, x), params, create_graph=True)
    hvp = sg.grad(sum((g * vi).sum() for g, vi in zip(grads, v)), params)

    def gradient_at(step):
        moved = [sg.tensor(p.detach().numpy() + step * vi.numpy(), requires_grad=True) for p, vi in zip(params, v)]
        return [g.numpy() for g in sg.grad(small_mlp(moved, x.detach()), moved)]

    eps = 1e-6
    numeric = [(a - b) / (2 * eps) for a, b in zip(gradient_at(eps), gradient_at(-eps))]
    for analytic, expected in zip(hvp, numeric):
        np.testing.assert_allclose(analytic.numpy(), expected, rtol=1e-6, atol=1e-8)


def test_long_chain_does_not_hit_the_recursion_limit():
    x = sg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.item() == 1.0


def test_saved_arrays_are_freed_after_backward_without_retain_graph():
    x = leaf(1000)
    hidden = x.exp()
    saved = weakref.ref(hidden.array)
    loss = (hidden * 2).sum()
    del hidden
    assert saved() is not None, "the graph holds what backward needs"
    loss.backward()
    assert saved() is None, "after backward the graph's saved arrays are released (no gc needed)"


def test_saved_arrays_are_freed_without_garbage_collection_when_graph_is_dropped():
    gc.disable()
    try:
        x = leaf(1000)
        hidden = x.tanh()
        saved = weakref.ref(hidden.array)
        loss = hidden.sum()
        del hidden, loss
        assert saved() is None, "no reference cycle keeps a dropped graph alive"
    finally:
        gc.enable()


def test_grad_of_non_leaf_input_and_allow_unused():
    x = leaf(3)
    h = x * 2
    unused = leaf(2)
    y = (h * h).sum()
    gh, gu = sg.grad(y, [h, unused], allow_unused=True)
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())
    assert gu is None
    with pytest.raises(RuntimeError, match=r"inputs\[1\].*not used.*allow_unused=True"):
        sg.grad((x * x).sum(), [x, unused])


def test_grad_does_not_touch_dot_grad_and_prunes_unneeded_branches():
    w, x = leaf(3, 3), leaf(3)
    calls = []
    y = F.linear(x, w)
    w_path = w * 1
    w_path.register_hook(lambda g: calls.append("w"))
    loss = y.sum() + w_path.sum()
    (gx,) = sg.grad(loss, [x])
    np.testing.assert_allclose(gx.numpy(), w.detach().numpy().sum(0))
    assert w.grad is None and x.grad is None
    assert calls == [], "no gradient is computed on a branch that does not lead to the inputs"


def test_hooks_see_and_may_replace_gradients():
    x = leaf(3)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.numpy().copy()))
    h = x * 3
    h.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_allclose(seen[0], 30.0)
    np.testing.assert_allclose(x.grad.numpy(), 30.0)
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert len(seen) == 1


def test_no_grad_and_enable_grad():
    x = leaf(2)
    with sg.no_grad():
        y = x * 2
        with sg.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad
    assert sg.is_grad_enabled()

    @sg.no_grad()
    def double(t):
        return t * 2
    assert not double(x).requires_grad


def test_in_place_change_of_a_saved_tensor_is_detected():
    w = leaf(3)
    a = sg.randn(3, dtype=sg.float64)
    loss = (w * a).sum()
    a.mul_(2)
    with pytest.raises(RuntimeError, match=r"Mul: a tensor of shape \(3,\) saved for backward was modified in place"):
        loss.backward()


def test_in_place_update_of_parameter_between_forward_and_backward_is_detected():
    w = leaf(3)
    loss = (w * w).sum()  # Mul saves w
    with sg.no_grad():
        w.sub_(0.1)
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_in_place_on_leaf_requiring_grad_needs_no_grad():
    w = leaf(3)
    with pytest.raises(RuntimeError, match="add_: in-place operation on a tensor that requires grad"):
        w.add_(1)
    with sg.no_grad():
        w.add_(1)
    assert w._version[0] == 1


def test_anomaly_mode_names_the_forward_op_that_made_nan():
    x = sg.tensor([-1.0, 1.0], requires_grad=True)
    with sg.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(FloatingPointError, match="Log forward produced nan"):
            x.log()


def test_anomaly_mode_names_the_backward_op_that_made_inf():
    x = sg.tensor([0.0, 4.0], requires_grad=True)
    with sg.detect_anomaly(), np.errstate(divide="ignore"):
        y = x.sqrt().sum()
        with pytest.raises(FloatingPointError, match="inf.*Sqrt backward"):
            y.backward()


class WrongSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_inputs(0)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_inputs
        return (g * x * 3,)  # should be 2x


def test_gradcheck_reports_input_element_and_both_values():
    x = leaf(2, 2)
    with pytest.raises(sg.GradcheckError, match=r"inputs\[0\] \(shape \(2, 2\)\) at element \(0, 0\).*analytic.*numeric"):
        sg.gradcheck(WrongSquare.apply, (x,))
    assert sg.gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False


def test_gradcheck_reports_nan_input():
    x = sg.tensor([1.0, float("nan")], dtype=sg.float64, requires_grad=True)
    with pytest.raises(sg.GradcheckError, match=r"inputs\[0\] holds a non-finite value nan at index \(1,\)"):
        sg.gradcheck(F.exp, (x,))


def test_gradcheck_wants_float64():
    with pytest.raises(sg.GradcheckError, match="float32.*float64"):
        sg.gradcheck(F.exp, (sg.randn(3, requires_grad=True),))


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    class DetachedBackward(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_inputs(0)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_inputs
            return (g * (3 * x * x).detach(),)  # right value, but cut from the graph

    x = leaf(3)
    assert sg.gradcheck(DetachedBackward.apply, (x,))
    with pytest.raises(sg.GradcheckError):
        sg.gradgradcheck(DetachedBackward.apply, (x,))
