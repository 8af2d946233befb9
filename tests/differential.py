"""Differential testing against PyTorch at the edges: an op's forward value, first-order and
second-order gradients, on inputs holding inf, -inf, nan, +-0, ties, the kinks of piecewise
functions, empty and zero-stride (broadcast) arrays.

    compare(lambda x: F.relu(x), torch.relu, [np.array([-np.inf, -0.0, 0.0, np.nan, 2.0])])

Both libraries get the same float64 arrays (as tensors that require grad, unless the array is
an integer or bool one, or its index is in `constants`). Compared, with nan equal to nan and
infinities by sign:
  order 0: each output's dtype, shape and values;
  order 1: d(sum(u * output))/d(input) for a fixed random upstream u;
  order 2: d(sum(v * first-order gradient))/d(input) for a fixed random v (double backward).
Where PyTorch raises, scratchgen must raise too, a ValueError, TypeError, RuntimeError or
IndexError whose message starts with the op's name; where scratchgen differs on purpose, the
op's docstring says so and the spec passes `differs=` naming the order and why.

`edge_arrays(shape, draw)` is a hypothesis-drawn float64 array of such values; `EDGE_VALUES`
lists them.
"""
import numpy as np
import torch
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import scratchgen as sg

RTOL, ATOL = 1e-9, 1e-12
EDGE_VALUES = (np.inf, -np.inf, np.nan, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 1e-300, -1e-300, 1e300,
               -1e300, 3.0)
ACCEPTED_ERRORS = (ValueError, TypeError, RuntimeError, IndexError)


def edge_values(extra=()):
    """One value at a time: the edge values and `extra` (an op's own kinks and special points)."""
    return st.sampled_from(EDGE_VALUES + tuple(extra))


@st.composite
def edge_arrays(draw, shape, extra=(), empty=True, broadcast=True):
    """A float64 array of `shape` filled with edge values (ties likely: few distinct ones);
    sometimes an empty variant of the shape, sometimes a zero-stride (broadcast) view."""
    if empty and shape and draw(st.integers(0, 7)) == 0:
        shape = tuple(0 if i == 0 else n for i, n in enumerate(shape))
    values = np.array([draw(edge_values(extra)) for _ in range(int(np.prod(shape)))], dtype=np.float64)
    array = values.reshape(shape)
    if broadcast and len(shape) >= 1 and shape[-1] > 1 and draw(st.integers(0, 7)) == 0:
        array = np.broadcast_to(array[..., :1], shape)  # a zero-stride view: every column the same
    return array


def without_overflow(x):
    """x with +-1e300 made +-3, for ops that sum products: whether 1e300 * 1e300 next to an inf
    overflows first depends on the order of the additions (BLAS's fused multiply-adds keep it
    exact where torch's kernels round it to inf, so inf - inf is inf here and nan there)."""
    return np.where(np.abs(x) == 1e300, np.sign(x) * 3.0, x)


def compare(ours, theirs, arrays, constants=(), orders=(0, 1, 2), differs=None, name=None):
    """Compare scratchgen's `ours` and PyTorch's `theirs` on `arrays` as the module docstring
    says. `differs`: {order: reason} for the orders where scratchgen differs on purpose (they
    are skipped: the reason is the record, and the op's docstring says the same)."""
    differs = differs or {}
    needs_grad = [np.asarray(a).dtype.kind == "f" and i not in constants for i, a in enumerate(arrays)]
    ours_in = [sg.tensor(np.array(a), requires_grad=g) for a, g in zip(arrays, needs_grad)]
    theirs_in = [torch.tensor(np.array(a), requires_grad=g) for a, g in zip(arrays, needs_grad)]
    try:
        expected = _listed(theirs(*theirs_in))
    except Exception as error:  # noqa: BLE001 (whatever PyTorch refuses, scratchgen must refuse cleanly)
        _refuses(ours, ours_in, name, error)
        return
    got = _listed(ours(*ours_in))
    assert len(got) == len(expected), f"{len(got)} outputs, torch gives {len(expected)}"
    if 0 in orders and 0 not in differs:
        for i, (mine, their) in enumerate(zip(got, expected)):
            same_tensor(mine, their, f"output {i}")
    wrt = [i for i, g in enumerate(needs_grad) if g]
    live = [i for i, (mine, their) in enumerate(zip(got, expected))
            if isinstance(their, torch.Tensor) and their.requires_grad and their.dtype.is_floating_point]
    if not wrt or not live:
        return
    rng = np.random.default_rng(0)
    upstream = [rng.standard_normal(expected[i].shape) for i in live]
    first_ours = sg.grad([got[i] for i in live], [ours_in[i] for i in wrt],
                         [sg.tensor(u, dtype=got[i].dtype) for u, i in zip(upstream, live)],
                         create_graph=True, allow_unused=True)
    first_theirs = torch.autograd.grad([expected[i] for i in live], [theirs_in[i] for i in wrt],
                                       [torch.tensor(u, dtype=expected[i].dtype) for u, i in zip(upstream, live)],
                                       create_graph=True, allow_unused=True)
    if 1 in orders and 1 not in differs:
        for i, mine, their in zip(wrt, first_ours, first_theirs):
            same_gradient(mine, their, ours_in[i], f"first-order gradient of input {i}")
    if 2 not in orders or 2 in differs:
        return
    # a first-order gradient that does not depend on the inputs (relu's, abs's) may be outside
    # one library's graph and inside the other's: its second order is zero either way
    pairs = [(m, t) for m, t in zip(first_ours, first_theirs)
             if (m is not None and m.requires_grad) or (t is not None and t.requires_grad)]
    if not pairs:
        return
    weights = [rng.standard_normal(tuple((t if t is not None else m).shape)) for m, t in pairs]
    second_ours = _second_order(sg.grad, [(m * sg.tensor(w)).sum() for (m, _), w in zip(pairs, weights)
                                          if m is not None and m.requires_grad], [ours_in[i] for i in wrt])
    second_theirs = _second_order(torch.autograd.grad, [(t * torch.tensor(w)).sum() for (_, t), w in zip(pairs, weights)
                                                        if t is not None and t.requires_grad], [theirs_in[i] for i in wrt])
    for i, mine, their in zip(wrt, second_ours, second_theirs):
        same_gradient(mine, their, ours_in[i], f"second-order gradient of input {i}")


def _second_order(grad, terms, inputs):
    """grad(sum of terms, inputs), None (zero) for each input where there is no term."""
    return grad(terms, inputs, allow_unused=True) if terms else [None] * len(inputs)


def _refuses(ours, inputs, name, torch_error):
    try:
        result = ours(*inputs)
    except ACCEPTED_ERRORS as error:
        if name is not None:
            assert str(error).startswith(name), f"the error should name the op {name!r}: {error}"
        return
    raise AssertionError(f"torch refuses ({type(torch_error).__name__}: {torch_error}) but scratchgen returned "
                         f"{result!r:.200}")


def same_tensor(mine, their, what):
    """Same dtype, shape and values (nan equal to nan, infinities by sign; integers exactly)."""
    if not isinstance(their, torch.Tensor):
        assert mine == their, f"{what}: {mine!r}, torch gives {their!r}"
        return
    assert isinstance(mine, sg.Tensor), f"{what}: expected a scratchgen Tensor, got {type(mine).__name__}"
    expected = their.detach().numpy()
    assert mine.dtype == expected.dtype, f"{what}: dtype {mine.dtype}, torch gives {expected.dtype}"
    assert mine.shape == expected.shape, f"{what}: shape {mine.shape}, torch gives {expected.shape}"
    if expected.dtype.kind == "f":
        assert_allclose(mine.detach().numpy(), expected, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=what)
    else:
        assert_array_equal(mine.detach().numpy(), expected, err_msg=what)


def same_gradient(mine, their, like, what):
    """A gradient (None: zeros, as torch's allow_unused None) in the input's shape and dtype."""
    shape = like.shape
    mine = np.zeros(shape) if mine is None else mine.detach().numpy()
    their = np.zeros(shape) if their is None else their.detach().numpy(force=True)  # force: torch's ZeroTensor
    assert mine.shape == shape, f"{what} has shape {mine.shape}, the input {shape}"
    assert_allclose(mine, their, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=what)


def _listed(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]
