"""nn.functional_call: a module called with given parameter and buffer tensors, as
torch.func.functional_call. Its output is a differentiable function of those tensors (finite
differences to the second order, and torch.func.functional_call's values and gradients); the
module holds its own tensors again afterwards, also after an error; a tied parameter is replaced
everywhere it is held; buffers are replaced too."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import scratchgen as sg
from scratchgen import nn
from oracle import check


def twins(sizes, seed=0):
    """An MLP (Linear-Tanh-...-Linear) in scratchgen and in torch, and its float64 weights by name."""
    rng = np.random.default_rng(seed)
    ours, theirs, arrays = [], [], {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        ours += [nn.Linear(n_in, n_out), nn.Tanh()]
        theirs += [torch.nn.Linear(n_in, n_out), torch.nn.Tanh()]
        arrays[f"{2 * i}.weight"] = rng.standard_normal((n_out, n_in))
        arrays[f"{2 * i}.bias"] = rng.standard_normal(n_out)
    return nn.Sequential(*ours[:-1]).double(), torch.nn.Sequential(*theirs[:-1]).double(), arrays


@settings(deadline=None, max_examples=10)
@given(sizes=st.lists(st.integers(1, 3), min_size=2, max_size=4), batch=st.integers(1, 3),
       seed=st.integers(0, 2 ** 32 - 1))
def test_the_output_is_a_differentiable_function_of_the_given_weights_as_torchs(sizes, batch, seed):
    module, torch_module, weights = twins(sizes, seed)
    names = list(weights)
    x = np.random.default_rng(seed + 1).standard_normal((batch, sizes[0]))
    check(lambda x, *w: nn.functional_call(module, dict(zip(names, w)), (x,)),
          lambda x, *w: torch.func.functional_call(torch_module, dict(zip(names, w)), (x,)),
          [x, *weights.values()])


def test_the_module_holds_its_own_tensors_afterwards_also_after_an_error():
    module = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    own = dict(module.named_parameters())
    given = {name: sg.zeros(*p.shape) for name, p in own.items()}
    assert nn.functional_call(module, given, sg.ones(4, 2)).numpy().tolist() == [[0.0]] * 4
    assert [(name, id(p)) for name, p in module.named_parameters()] == [(name, id(p)) for name, p in own.items()]
    with pytest.raises(ValueError, match="linear"):
        nn.functional_call(module, given, sg.ones(4, 5))  # forward fails inside
    assert [(name, id(p)) for name, p in module.named_parameters()] == [(name, id(p)) for name, p in own.items()]


def test_unnamed_parameters_stay_the_modules_and_strict_wants_them_all():
    module = nn.Linear(2, 1)
    weight = sg.tensor([[2.0, 3.0]])
    out = nn.functional_call(module, {"weight": weight}, sg.tensor([[1.0, 1.0]]))
    assert out.item() == pytest.approx(5.0 + module.bias.item())
    with pytest.raises(ValueError, match="strict=True, but parameters_and_buffers misses 'bias'"):
        nn.functional_call(module, {"weight": weight}, sg.ones(1, 2), strict=True)


def test_a_tied_parameter_is_replaced_wherever_it_is_held():
    first, second = nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False)
    second.weight = first.weight  # tied: named_parameters lists it once, as "0.weight"
    module = nn.Sequential(first, second)
    assert [name for name, _ in module.named_parameters()] == ["0.weight"]
    eye = sg.eye(2) * 2
    out = nn.functional_call(module, {"0.weight": eye}, sg.ones(1, 2))
    assert out.numpy().tolist() == [[4.0, 4.0]]  # both layers used the given weight
    assert second.weight is first.weight and isinstance(first.weight, nn.Parameter)


def test_buffers_are_replaced_and_training_updates_the_given_ones():
    norm = nn.BatchNorm1d(2)
    running_mean = sg.zeros(2)
    before = norm.running_mean.numpy().copy()
    nn.functional_call(norm, {"running_mean": running_mean}, sg.tensor([[1.0, 2.0], [3.0, 6.0]]))
    np.testing.assert_allclose(running_mean.numpy(), [0.2, 0.4])  # momentum 0.1 toward the batch mean (2, 4)
    np.testing.assert_array_equal(norm.running_mean.numpy(), before)
    norm.eval()
    out = nn.functional_call(norm, {"running_mean": sg.tensor([1.0, 1.0]), "running_var": sg.tensor([4.0, 4.0])},
                             sg.tensor([[3.0, 5.0]]))
    np.testing.assert_allclose(out.detach().numpy(), [[1.0, 2.0]], rtol=1e-5)  # (x - 1) / sqrt(4 + eps)


def test_bad_input_names_the_function_and_the_argument():
    from bad_input_specs_unrolled import run_table
    run_table("functional_call")
