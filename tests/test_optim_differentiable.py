"""Optimizer.differentiable_step: one step of SGD, Adam, RMSprop or Adadelta as a function of
Tensors (parameters, gradients, state), built by the same readable rule `step()` runs. Its
values are step()'s to the last bit; its gradients, first and second order, match finite
differences and torch's own functional optimizers run with differentiable=True; it changes
nothing of the optimizer. (Unrolled GAN differentiates through k of them: test_unrolled_gan.py.)"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch.optim import adadelta as torch_adadelta, adam as torch_adam, rmsprop as torch_rmsprop, sgd as torch_sgd

import scratchgen as sg
from scratchgen import optim
from oracle import check
from strategies import adam_options, hyperparameters, sgd_options, shapes, zero_or
from test_optim_rules import same_bits

OPTIONS = {
    "SGD": sgd_options(),
    "Adam": adam_options(),
    "RMSprop": st.fixed_dictionaries(dict(
        lr=hyperparameters(0.0, 0.1), alpha=hyperparameters(0.1, 0.999), eps=hyperparameters(1e-6, 1e-2),
        weight_decay=zero_or(hyperparameters(0.0, 0.1)), momentum=zero_or(hyperparameters(0.0, 0.9)),
        centered=st.booleans(), maximize=st.booleans())),
    "Adadelta": st.fixed_dictionaries(dict(
        lr=hyperparameters(0.0, 1.0), rho=hyperparameters(0.0, 0.99), eps=hyperparameters(1e-6, 1e-2),
        weight_decay=zero_or(hyperparameters(0.0, 0.1)), maximize=st.booleans())),
}
NAMES = list(OPTIONS)


# ---- values: the step() trajectory ---------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@settings(deadline=None, max_examples=20)
@given(data=st.data(), param_shapes=st.lists(shapes(), min_size=1, max_size=3), seed=st.integers(0, 2 ** 32 - 1))
def test_k_differentiable_steps_follow_step_to_the_last_bit(name, data, param_shapes, seed):
    options = data.draw(OPTIONS[name], label="options")
    rng = np.random.default_rng(seed)
    initial = [rng.standard_normal(shape) for shape in param_shapes]
    stepped = [sg.tensor(a, requires_grad=True) for a in initial]
    optimizer = getattr(optim, name)(stepped, **options)
    params, states = [sg.tensor(a) for a in initial], None
    for step in range(4):
        grads = [rng.standard_normal(shape) for shape in param_shapes]
        params, states = optimizer.differentiable_step(params, [sg.tensor(g) for g in grads], states)
        for p, g in zip(stepped, grads):
            p.grad = sg.tensor(g)
        optimizer.step()
        for i, (ours, theirs) in enumerate(zip(params, stepped)):
            assert same_bits(ours.numpy(), theirs.detach().numpy()), f"step {step}, parameter {i}"
            assert states[i].keys() == optimizer.state.get(theirs, {}).keys()
            for key, value in optimizer.state.get(theirs, {}).items():
                mine = states[i][key]
                assert same_bits(mine.numpy(), value.numpy()) if isinstance(value, sg.Tensor) else mine == value, key


def test_it_starts_from_the_optimizers_state_and_changes_nothing():
    params = [sg.tensor([1.0, -2.0], requires_grad=True), sg.tensor([[0.5]], requires_grad=True)]
    optimizer = optim.Adam(params, lr=0.1)
    for p in params:
        p.grad = sg.ones(*p.shape)
    optimizer.step()
    before = {key: (value.numpy().copy() if isinstance(value, sg.Tensor) else value)
              for key, value in optimizer.state[params[0]].items()}
    values = [p.detach().numpy().copy() for p in params]
    given = [p.detach() for p in params]
    new_params, new_states = optimizer.differentiable_step(given, [sg.ones(2), None])
    assert new_states[0]["step"] == 2
    assert new_params[1] is given[1] and new_states[1] is optimizer.state[params[1]]  # a None grad: as they were
    assert not np.array_equal(new_params[0].numpy(), values[0])
    for key, value in optimizer.state[params[0]].items():
        np.testing.assert_array_equal(value.numpy() if isinstance(value, sg.Tensor) else value, before[key])
    for p, value in zip(params, values):
        np.testing.assert_array_equal(p.detach().numpy(), value)


def test_before_the_first_step_the_state_is_the_optimizers_initial_one():
    param = sg.tensor([1.0, 2.0], requires_grad=True)
    optimizer = optim.RMSprop([param], lr=0.1, momentum=0.5, centered=True)
    (_,), (state,) = optimizer.differentiable_step([param.detach()], [sg.ones(2)])
    assert sorted(state) == ["grad_avg", "momentum_buffer", "square_avg", "step"] and state["step"] == 1
    assert optimizer.state == {}


# ---- gradients: finite differences and torch's functional optimizers -----------------------------
def torch_step(name, options, step, params, grads, buffers):
    """torch.optim's functional update of `name` with differentiable=True, on clones."""
    params, buffers = [p.clone() for p in params], [b.clone() for b in buffers]
    steps = [torch.tensor(float(step), dtype=torch.float64)]
    if name == "Adam":
        beta1, beta2 = options["betas"]
        m, v, *v_max = buffers
        torch_adam.adam(params, grads, [m], [v], v_max, steps, foreach=False, differentiable=True,
                        amsgrad=options["amsgrad"], beta1=beta1, beta2=beta2, lr=options["lr"],
                        weight_decay=options["weight_decay"], eps=options["eps"], maximize=options["maximize"])
    elif name == "SGD":
        torch_sgd.sgd(params, grads, buffers, foreach=False, **options)
    elif name == "RMSprop":
        v, *rest = buffers
        g_ave = rest[:1] if options["centered"] else []
        b = rest[-1:] if options["momentum"] > 0 else []
        torch_rmsprop.rmsprop(params, grads, [v], g_ave, b, steps, foreach=False, differentiable=True, **options)
    else:
        torch_adadelta.adadelta(params, grads, *[[b] for b in buffers], steps, foreach=False, differentiable=True,
                                **options)
    return (*params, *buffers)


BUFFERS = {"Adam": lambda o: ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if o["amsgrad"] else []),
           "SGD": lambda o: ["momentum_buffer"],  # torch detaches b_1 = g_1 (step 1): compare later steps
           "RMSprop": lambda o: (["square_avg"] + (["grad_avg"] if o["centered"] else [])
                                 + (["momentum_buffer"] if o["momentum"] > 0 else [])),
           "Adadelta": lambda o: ["square_avg", "acc_delta"]}


@pytest.mark.parametrize("name", NAMES)
@settings(deadline=None, max_examples=10)
@given(data=st.data(), shape=shapes(max_elements=6), seed=st.integers(0, 2 ** 32 - 1))
def test_one_step_matches_finite_differences_and_torchs_differentiable_update(name, data, shape, seed):
    options = data.draw(OPTIONS[name], label="options")
    if name == "SGD" and options["momentum"] == 0:
        options["momentum"] = 0.5  # a buffer to differentiate through
    options["lr"] = max(options["lr"], 1e-3)  # torch's differentiable Adam has NaN gradients at lr = 0
    rng = np.random.default_rng(seed)
    buffers = BUFFERS[name](options)
    step = int(rng.integers(1, 5))
    values = {key: rng.standard_normal(shape) for key in buffers}
    for key in ("exp_avg_sq", "square_avg", "max_exp_avg_sq", "acc_delta"):  # second moments: away from 0
        if key in values:
            values[key] = values[key] ** 2 + 0.5
    if "grad_avg" in values:  # centered: E[g^2] - E[g]^2 stays >= 0.5 alpha after the step (convexity)
        values["square_avg"] = values["square_avg"] + values["grad_avg"] ** 2
    arrays = [rng.standard_normal(shape), rng.standard_normal(shape), *values.values()]
    optimizer = getattr(optim, name)([sg.zeros(*shape, dtype=sg.float64, requires_grad=True)], **options)

    def ours(param, grad, *values):
        state = {"step": step, **dict(zip(buffers, values))}
        (new_param,), (new_state,) = optimizer.differentiable_step([param], [grad], [state])
        return (new_param, *[new_state[key] for key in buffers])

    check(ours, lambda param, grad, *values: torch_step(name, options, step, [param], [grad], values), arrays)


# ---- bad input -----------------------------------------------------------------------------------
def test_bad_input_names_the_method_and_the_argument():
    from bad_input_specs_unrolled import run_table
    run_table("differentiable_step")
