"""The loss modules (scratchgen/nn/loss.py) against torch.nn's: built with the same arguments,
the same repr, attributes and state dict (a torch state dict loads), the same values and
gradients (tests/oracle.py, gradcheck and gradgradcheck included); torch's deprecated
size_average / reduce; the one deliberate difference (an unknown reduction is refused when
the module is built)."""
import numpy as np
import pytest
import torch

import scratchgen as sg
from oracle import check
from scratchgen import nn

RNG = np.random.default_rng(0)


def probabilities(*shape):
    return RNG.uniform(0.05, 0.95, shape)


def labels(*shape, classes=4):
    return RNG.integers(0, classes, shape)


def log_probabilities(*shape):
    x = RNG.standard_normal(shape)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


# name, constructor arguments (arrays become tensors of each library), forward inputs
CASES = [
    ("L1Loss", {}, [RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))]),
    ("L1Loss", {"reduction": "sum"}, [RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))]),
    ("MSELoss", {}, [RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))]),
    ("MSELoss", {"reduction": "none"}, [RNG.standard_normal((2, 5)), RNG.standard_normal((2, 5))]),
    ("SmoothL1Loss", {"beta": 0.5}, [RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))]),
    ("SmoothL1Loss", {"reduction": "sum", "beta": 0.0}, [RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))]),
    ("HuberLoss", {"delta": 0.7}, [RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))]),
    ("HuberLoss", {"reduction": "none"}, [RNG.standard_normal((5,)), RNG.standard_normal((5,))]),
    ("BCELoss", {}, [probabilities(3, 4), probabilities(3, 4)]),
    ("BCELoss", {"weight": RNG.uniform(0.5, 2.0, (4,)), "reduction": "sum"},
     [probabilities(3, 4), probabilities(3, 4)]),
    ("BCEWithLogitsLoss", {}, [RNG.standard_normal((3, 4)), probabilities(3, 4)]),
    ("BCEWithLogitsLoss", {"weight": RNG.uniform(0.5, 2.0, (3, 4)), "pos_weight": RNG.uniform(0.5, 3.0, (4,))},
     [RNG.standard_normal((3, 4)), probabilities(3, 4)]),
    ("NLLLoss", {}, [log_probabilities(5, 4), labels(5)]),
    ("NLLLoss", {"weight": RNG.uniform(0.5, 2.0, (4,)), "ignore_index": 2, "reduction": "sum"},
     [log_probabilities(5, 4), labels(5)]),
    ("CrossEntropyLoss", {}, [RNG.standard_normal((5, 4)), labels(5)]),
    ("CrossEntropyLoss", {"weight": RNG.uniform(0.5, 2.0, (4,)), "ignore_index": 0, "label_smoothing": 0.1},
     [RNG.standard_normal((5, 4, 2)), labels(5, 2)]),
    ("CrossEntropyLoss", {"label_smoothing": 0.2}, [RNG.standard_normal((5, 4)), np.exp(log_probabilities(5, 4))]),
    ("KLDivLoss", {"reduction": "batchmean"}, [log_probabilities(3, 4), np.exp(log_probabilities(3, 4))]),
    ("KLDivLoss", {"reduction": "sum", "log_target": True}, [log_probabilities(3, 4), log_probabilities(3, 4)]),
    ("GaussianNLLLoss", {}, [RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4)), RNG.uniform(0.5, 2, (3, 4))]),
    ("GaussianNLLLoss", {"full": True, "eps": 1e-3, "reduction": "none"},
     [RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4)), RNG.uniform(0.5, 2, (3, 1))]),
]


def build(library, name, arguments):
    module = getattr(sg.nn if library is sg else torch.nn, name)
    return module(**{k: library.tensor(v) if isinstance(v, np.ndarray) else v for k, v in arguments.items()})


@pytest.mark.parametrize("name, arguments, inputs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_loss_module_matches_torch(name, arguments, inputs):
    mine, theirs = build(sg, name, arguments), build(torch, name, arguments)
    assert repr(mine) == repr(theirs) == f"{name}()"
    attributes = set(vars(theirs)) - set(vars(torch.nn.Module()))
    assert {a: getattr(mine, a) for a in attributes} == {a: getattr(theirs, a) for a in attributes}
    ours_state, their_state = mine.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(their_state)
    for key in their_state:
        np.testing.assert_array_equal(ours_state[key].numpy(), their_state[key].numpy())
    check(mine, theirs, inputs)


def test_a_torch_state_dict_loads_into_the_module():
    theirs = torch.nn.BCEWithLogitsLoss(weight=torch.rand(4, dtype=torch.float64),
                                        pos_weight=torch.rand(4, dtype=torch.float64) + 1)
    mine = nn.BCEWithLogitsLoss(weight=sg.ones(4, dtype=sg.float64), pos_weight=sg.ones(4, dtype=sg.float64))
    mine.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x, t = RNG.standard_normal((3, 4)), probabilities(3, 4)
    np.testing.assert_allclose(mine(sg.tensor(x), sg.tensor(t)).item(), theirs(torch.tensor(x), torch.tensor(t)).item(),
                               rtol=1e-12)


LEGACY = [(None, False), (False, None), (True, True), (False, False), (None, True), (True, None)]
DEPRECATED = ["L1Loss", "MSELoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss", "CrossEntropyLoss",
              "KLDivLoss"]


@pytest.mark.parametrize("name", DEPRECATED)
@pytest.mark.parametrize("size_average, reduce", LEGACY)
def test_size_average_and_reduce_map_to_reduction_as_torch(name, size_average, reduce):
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        mine = getattr(nn, name)(size_average=size_average, reduce=reduce)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        theirs = getattr(torch.nn, name)(size_average=size_average, reduce=reduce)
    assert mine.reduction == theirs.reduction


@pytest.mark.parametrize("name", DEPRECATED)
def test_positional_arguments_in_torchs_order(name):
    """weight, size_average, ignore_index, reduce, reduction: positions as torch's."""
    if name in ("NLLLoss", "CrossEntropyLoss"):
        args = (None, None, 3, None, "sum")
    elif name in ("BCELoss", "BCEWithLogitsLoss"):
        args = (None, None, None, "sum")
    else:
        args = (None, None, "sum")
    mine, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert mine.reduction == theirs.reduction == "sum"
    assert getattr(mine, "ignore_index", None) == getattr(theirs, "ignore_index", None)


def test_bad_arguments_are_refused_when_the_module_is_built():
    """Deliberate: torch builds the module and refuses the reduction at the first call."""
    theirs = torch.nn.MSELoss(reduction="bogus")
    with pytest.raises(ValueError):
        theirs(torch.zeros(2), torch.zeros(2))
    with pytest.raises(ValueError, match=r"MSELoss: reduction must be one of \('mean', 'sum', 'none'\), got 'bogus'"):
        nn.MSELoss(reduction="bogus")
    with pytest.raises(ValueError, match=r"KLDivLoss: reduction must be one of .*'batchmean'.*, got 'MEAN'"):
        nn.KLDivLoss(reduction="MEAN")
    with pytest.raises(TypeError, match=r"BCELoss: weight must be a Tensor or None, got list"):
        nn.BCELoss(weight=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"HuberLoss: delta must be positive, got 0.0"):
        nn.HuberLoss(delta=0.0)
    with pytest.raises(ValueError, match=r"SmoothL1Loss: beta must be a number in \[0.0, inf\], got -1.0"):
        nn.SmoothL1Loss(beta=-1.0)


def test_gaussian_nll_loss_takes_keyword_arguments_only_as_torch():
    with pytest.raises(TypeError):
        torch.nn.GaussianNLLLoss(True)
    with pytest.raises(TypeError):
        nn.GaussianNLLLoss(True)
