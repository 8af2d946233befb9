"""Optimizers against torch.optim: the same float64 parameters fed the same gradients follow the
same trajectory for every option, with the backend's fused update (the default) and with the
readable rule (fused=False; tests/test_optim_rules.py checks that the two agree bit for bit);
plus parameter groups, skipped parameters, zero_grad, checkpoints that resume exactly, and the
errors a user meets."""
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import scratchgen as sg
from scratchgen import optim
from strategies import adam_options, hyperparameters, sgd_options, shapes, zero_or

STEPS = 20


# alpha stays >= 0.1: centered's E[g^2] - E[g]^2 cancels catastrophically as alpha -> 0
rmsprop_options = st.fixed_dictionaries(dict(
    lr=hyperparameters(0.0, 0.1), alpha=hyperparameters(0.1, 0.999), eps=hyperparameters(1e-10, 1e-3),
    weight_decay=zero_or(hyperparameters(0.0, 0.1)), momentum=zero_or(hyperparameters(0.0, 0.95)),
    centered=st.booleans(), maximize=st.booleans()))

DEFAULT_OPTIONS = {"SGD": dict(lr=0.1, momentum=0.9), "Adam": dict(lr=0.1, amsgrad=True),
                   "RMSprop": dict(lr=0.01, momentum=0.5, centered=True)}


def problem(param_shapes, seed, steps=STEPS):
    """Initial float64 parameters and `steps` lists of gradients, drawn once from `seed`."""
    rng = np.random.default_rng(seed)
    initial = [rng.standard_normal(shape) for shape in param_shapes]
    grads = [[rng.standard_normal(shape) for shape in param_shapes] for _ in range(steps)]
    return initial, grads


def set_grads(params, grads, make):
    for param, grad in zip(params, grads):
        param.grad = make(grad.copy())


def assert_close(ours, theirs):
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-6, atol=1e-12)


def assert_follows_torch(name, options, param_shapes, seed, fused=None):
    initial, grads = problem(param_shapes, seed)
    ours = [sg.tensor(a, requires_grad=True) for a in initial]
    theirs = [torch.tensor(a, requires_grad=True) for a in initial]
    our_optimizer = getattr(optim, name)(ours, **options, fused=fused)
    their_optimizer = getattr(torch.optim, name)(theirs, **options, foreach=False)
    for step_grads in grads:
        set_grads(ours, step_grads, sg.tensor)
        set_grads(theirs, step_grads, torch.tensor)
        our_optimizer.step()
        their_optimizer.step()
        for p, q, g in zip(ours, theirs, step_grads):
            assert_close(p.array, q.detach().numpy())
            np.testing.assert_array_equal(p.grad.array, g, err_msg="step must not modify .grad")
    for p, q in zip(ours, theirs):
        ours_state, their_state = our_optimizer.state.get(p, {}), their_optimizer.state.get(q, {})
        assert set(ours_state) == set(their_state), "state buffers carry torch's names"
        for key, value in their_state.items():
            assert_close(ours_state[key], value.numpy())


param_shapes = st.lists(shapes(), min_size=1, max_size=3)
seeds = st.integers(0, 2**32 - 1)


FUSED = pytest.mark.parametrize("fused", [None, False], ids=["fused", "rule"])


@FUSED
@given(sgd_options(), param_shapes, seeds)
def test_sgd_follows_torch(fused, options, param_shapes, seed):
    assert_follows_torch("SGD", options, param_shapes, seed, fused)


@FUSED
@given(adam_options(), param_shapes, seeds)
def test_adam_follows_torch(fused, options, param_shapes, seed):
    assert_follows_torch("Adam", options, param_shapes, seed, fused)


@FUSED
@given(rmsprop_options, param_shapes, seeds)
def test_rmsprop_follows_torch(fused, options, param_shapes, seed):
    assert_follows_torch("RMSprop", options, param_shapes, seed, fused)


@FUSED
def test_adam_with_zero_betas_follows_torch(fused):
    assert_follows_torch("Adam", dict(lr=0.1, betas=(0.0, 0.0)), [(50,), (3, 4)], seed=5, fused=fused)


@FUSED
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_param_groups_with_their_own_lr_follow_torch(name, fused):
    initial, grads = problem([(3, 2), (4,), ()], seed=1)

    def groups(params):
        return [{"params": params[:1], "lr": 0.3}, {"params": params[1:]}]

    ours = [sg.tensor(a, requires_grad=True) for a in initial]
    theirs = [torch.tensor(a, requires_grad=True) for a in initial]
    our_optimizer = getattr(optim, name)(groups(ours), **DEFAULT_OPTIONS[name], fused=fused)
    their_optimizer = getattr(torch.optim, name)(groups(theirs), **DEFAULT_OPTIONS[name], foreach=False)
    assert [g["lr"] for g in our_optimizer.param_groups] == [0.3, DEFAULT_OPTIONS[name]["lr"]]
    for step_grads in grads:
        set_grads(ours, step_grads, sg.tensor)
        set_grads(theirs, step_grads, torch.tensor)
        our_optimizer.step()
        their_optimizer.step()
    for p, q in zip(ours, theirs):
        assert_close(p.array, q.detach().numpy())


def test_add_param_group_fills_in_the_defaults():
    a, b = sg.zeros(2, requires_grad=True), sg.zeros(3, requires_grad=True)
    optimizer = optim.Adam([a], lr=0.5, betas=(0.8, 0.9))
    optimizer.add_param_group({"params": b, "eps": 1e-3})
    assert optimizer.param_groups[1] == {"params": [b], "lr": 0.5, "betas": (0.8, 0.9), "eps": 1e-3,
                                         "weight_decay": 0, "amsgrad": False, "maximize": False}


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_parameters_without_grad_are_skipped(name):
    with_grad, without_grad = sg.ones(3, requires_grad=True), sg.ones(2, requires_grad=True)
    optimizer = getattr(optim, name)([with_grad, without_grad], **DEFAULT_OPTIONS[name])
    with_grad.grad = sg.ones(3)
    optimizer.step()
    assert without_grad.tolist() == [1.0, 1.0] and without_grad._version[0] == 0
    assert without_grad not in optimizer.state
    assert with_grad.tolist() != [1.0, 1.0, 1.0] and with_grad._version[0] == 1


@FUSED
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_step_updates_in_place_and_bumps_the_version(name, fused):
    param = sg.ones(2, 3, requires_grad=True)
    array = param.array
    optimizer = getattr(optim, name)([param], **DEFAULT_OPTIONS[name], fused=fused)
    for step in range(1, 4):
        param.grad = sg.full((2, 3), 0.5)
        optimizer.step()
        assert param.array is array and param._version[0] == step
        assert param.dtype == np.float32 and param.requires_grad and param.is_leaf

    def state_arrays():
        return [v.array for v in optimizer.state[param].values() if isinstance(v, sg.Tensor)]

    arrays = state_arrays()
    assert all(a.dtype == np.float32 for a in arrays)
    assert not np.allclose(array, 1.0)
    param.grad = sg.full((2, 3), 0.25)
    optimizer.step()  # the state Tensors keep their arrays too
    assert len(state_arrays()) == len(arrays) and all(a is b for a, b in zip(state_arrays(), arrays))


def test_in_place_step_is_seen_by_autograd_version_checks():
    w = sg.ones(3, requires_grad=True)
    optimizer = optim.SGD([w], lr=0.1)
    loss = (w * w).sum()  # saves w for backward
    w.grad = sg.ones(3)
    optimizer.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation|version"):
        loss.backward()


def test_zero_grad():
    a, b = sg.ones(2, requires_grad=True), sg.ones(3, requires_grad=True)
    optimizer = optim.SGD([a, b])
    a.grad = sg.full((2,), 3.0)
    optimizer.zero_grad(set_to_none=False)
    assert a.grad.tolist() == [0.0, 0.0] and b.grad is None
    a.grad = sg.full((2,), 3.0)
    optimizer.zero_grad()
    assert a.grad is None and b.grad is None


def test_closure_is_run_with_grad_enabled_and_its_loss_returned():
    w = sg.tensor([1.0, -2.0], requires_grad=True)
    optimizer = optim.SGD([w], lr=0.25)

    def closure():
        optimizer.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with sg.no_grad():
        loss = optimizer.step(closure)
    assert loss.item() == 5.0
    assert w.tolist() == [0.5, -1.0]  # w - 0.25 * 2w


@FUSED
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_state_dict_round_trip_through_save_resumes_identically(name, fused, tmp_path):
    initial, grads = problem([(3, 2), (), (5,)], seed=7)
    options = dict(DEFAULT_OPTIONS[name], fused=fused)

    def fresh(arrays):
        params = [sg.tensor(a, requires_grad=True) for a in arrays]
        return params, getattr(optim, name)([{"params": params[:2]}, {"params": params[2:], "lr": 0.05}],
                                            **options)

    def run(params, optimizer, step_grads):
        for g in step_grads:
            set_grads(params, g, sg.tensor)
            optimizer.step()

    straight_params, straight = fresh(initial)
    run(straight_params, straight, grads)

    params, optimizer = fresh(initial)
    run(params, optimizer, grads[:STEPS // 2])
    sg.save({"params": params, "optim": optimizer.state_dict()}, tmp_path / "checkpoint.npz")
    checkpoint = sg.load(tmp_path / "checkpoint.npz")
    resumed_params, resumed = fresh([p.detach().numpy() for p in checkpoint["params"]])
    resumed.load_state_dict(checkpoint["optim"])
    run(resumed_params, resumed, grads[STEPS // 2:])
    for p, q in zip(resumed_params, straight_params):
        np.testing.assert_array_equal(p.array, q.array)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_state_dict_has_torch_layout(name):
    initial, grads = problem([(2,), (3,), (1, 2)], seed=3)
    ours = [sg.tensor(a, requires_grad=True) for a in initial]
    theirs = [torch.tensor(a, requires_grad=True) for a in initial]
    our_optimizer = getattr(optim, name)([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.5}],
                                         **DEFAULT_OPTIONS[name])
    their_optimizer = getattr(torch.optim, name)([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.5}],
                                                 **DEFAULT_OPTIONS[name])
    for optimizer, params, make in ((our_optimizer, ours, sg.tensor), (their_optimizer, theirs, torch.tensor)):
        set_grads(params[:2], grads[0], make)  # the last parameter has no gradient, hence no state
        optimizer.step()
    our_dict, their_dict = our_optimizer.state_dict(), their_optimizer.state_dict()
    assert sorted(our_dict) == ["param_groups", "state"]
    assert sorted(our_dict["state"]) == sorted(their_dict["state"]) == [0, 1]
    for index, state in our_dict["state"].items():
        assert sorted(state) == sorted(their_dict["state"][index])
    for our_group, their_group in zip(our_dict["param_groups"], their_dict["param_groups"]):
        assert our_group == {key: their_group[key] for key in our_group}


def test_sgd_without_momentum_keeps_no_state_as_torch():
    ours, theirs = sg.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    our_optimizer, their_optimizer = optim.SGD([ours], lr=0.1), torch.optim.SGD([theirs], lr=0.1)
    ours.grad, theirs.grad = sg.ones(2), torch.ones(2)
    our_optimizer.step()
    their_optimizer.step()
    assert our_optimizer.state_dict()["state"] == their_optimizer.state_dict()["state"] == {}
    np.testing.assert_array_equal(ours.array, theirs.detach().numpy())


def checkpointed_adam():
    params = [sg.ones(2, requires_grad=True), sg.ones(3, requires_grad=True)]
    optimizer = optim.Adam(params)
    for p in params:
        p.grad = sg.ones(*p.shape)
    optimizer.step()
    return optimizer.state_dict()


@pytest.mark.parametrize("params, message", [
    ([[sg.ones(2, requires_grad=True)], [sg.ones(3, requires_grad=True)]], "has 1 parameter groups, this optimizer has 2"),
    ([[sg.ones(2, requires_grad=True), sg.ones(3, requires_grad=True), sg.ones(1, requires_grad=True)]],
     "parameter group 0 has 2 parameters in the state dict and 3 in this optimizer"),
    ([[sg.ones(3, requires_grad=True), sg.ones(2, requires_grad=True)]],
     r"state 'exp_avg' of parameter 0 has shape \(2,\) but the parameter has shape \(3,\)"),
])
def test_load_state_dict_rejects_a_mismatch(params, message):
    optimizer = optim.Adam([{"params": group} for group in params])
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: .*" + message):
        optimizer.load_state_dict(checkpointed_adam())
    assert optimizer.state == {}, "a rejected state dict leaves the optimizer as it was"


def test_load_state_dict_rejects_something_else():
    optimizer = optim.SGD([sg.ones(2, requires_grad=True)])
    with pytest.raises(ValueError, match="expected a dict with keys 'param_groups' and 'state', got"):
        optimizer.load_state_dict({"params": []})


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.Adam(p, lr=-1), "Adam: lr must be >= 0, got -1"),
    (lambda p: optim.Adam(p, eps=-1e-8), "Adam: eps must be >= 0, got -1e-08"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"Adam: betas\[0\] must be in \[0, 1\), got 1.0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"Adam: betas\[1\] must be in \[0, 1\), got -0.1"),
    (lambda p: optim.Adam(p, betas=(0.9,)), r"Adam: betas must be a pair \(beta1, beta2\), got \(0.9,\)"),
    (lambda p: optim.Adam(p, betas=0.9), r"Adam: betas must be a pair \(beta1, beta2\), got 0.9"),
    (lambda p: optim.Adam(p, weight_decay=-0.1), "Adam: weight_decay must be >= 0, got -0.1"),
    (lambda p: optim.Adam(p, lr=float("nan")), "Adam: lr must be >= 0, got nan"),
    (lambda p: optim.SGD(p, lr=-0.1), "SGD: lr must be >= 0, got -0.1"),
    (lambda p: optim.SGD(p, momentum=-0.5), "SGD: momentum must be >= 0, got -0.5"),
    (lambda p: optim.SGD(p, nesterov=True), "SGD: nesterov=True requires momentum > 0 and dampening = 0, "
                                            "got momentum=0, dampening=0"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "got momentum=0.9, dampening=0.1"),
    (lambda p: optim.RMSprop(p, alpha=-0.5), "RMSprop: alpha must be >= 0, got -0.5"),
    (lambda p: optim.RMSprop(p, eps=-1), "RMSprop: eps must be >= 0, got -1"),
    (lambda p: optim.RMSprop(p, momentum=-1), "RMSprop: momentum must be >= 0, got -1"),
    (lambda p: optim.SGD([{"params": p, "lr": -2}]), "SGD: lr must be >= 0, got -2"),
])
def test_bad_hyperparameters_name_the_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make([sg.ones(2, requires_grad=True)])


def test_bad_params():
    w = sg.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="SGD: params must be an iterable of Tensors or of dicts, got a single Tensor"):
        optim.SGD(w)
    with pytest.raises(ValueError, match="Adam: got an empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="can only optimize Tensors, got ndarray"):
        optim.Adam([np.ones(2)])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.Adam([w * 2])
    with pytest.raises(TypeError, match="not a set"):
        optim.Adam([{"params": {w}}])
    with pytest.raises(ValueError, match="Adam.add_param_group: the group has no 'params' entry"):
        optim.Adam([{"lr": 0.1}])
    with pytest.raises(ValueError, match="some parameters appear more than once"):
        optim.Adam([{"params": [w]}, {"params": [w]}])


def test_a_gradient_of_the_wrong_shape_is_an_error():
    w = sg.ones(2, 3, requires_grad=True)
    optimizer = optim.Adam([w])
    w.grad = sg.ones(3, 2)
    with pytest.raises(ValueError, match=r"Adam.step: a gradient has shape \(3, 2\) but its parameter has shape \(2, 3\)"):
        optimizer.step()
