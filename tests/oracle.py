"""The check every op test runs: finite-difference gradcheck and gradgradcheck of the
scratchgen op, then its forward values and input gradients against PyTorch's.

    check(lambda x: F.softmax(x, 1), lambda x: torch.softmax(x, 1), [x_array])

Float arrays become float64 tensors that require grad (unless listed in `constants`);
integer and bool arrays become constant tensors (labels, indices, masks).
"""
import numpy as np
import torch
from numpy.testing import assert_allclose, assert_array_equal

import scratchgen as sg

RTOL, ATOL = 1e-10, 1e-12


def check(sg_fn, torch_fn, arrays, constants=(), gradcheck=True, rtol=RTOL, atol=ATOL,
          **gradcheck_options):
    """Check scratchgen's outputs and their gradients as described above.
    gradcheck=False skips the finite differences (for deliberate ties, where they do not apply)."""
    needs_grad = [a.dtype.kind == "f" and i not in constants for i, a in enumerate(arrays)]
    sg_inputs = [sg.tensor(a, requires_grad=g) for a, g in zip(arrays, needs_grad)]
    torch_inputs = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, needs_grad)]
    sg_outputs, torch_outputs = _listed(sg_fn(*sg_inputs)), _listed(torch_fn(*torch_inputs))
    assert len(sg_outputs) == len(torch_outputs), \
        f"{len(sg_outputs)} outputs, torch gives {len(torch_outputs)}"
    for i, (mine, theirs) in enumerate(zip(sg_outputs, torch_outputs)):
        assert_same_tensor(mine, theirs, rtol, atol, f"output {i}")
    differentiable = [i for i, out in enumerate(sg_outputs) if out.requires_grad]
    if not differentiable:
        return
    if gradcheck and all(sg_outputs[i].numel() for i in differentiable):  # else the Jacobian is empty
        sg.gradcheck(sg_fn, sg_inputs, **gradcheck_options)
        sg.gradgradcheck(sg_fn, sg_inputs, **gradcheck_options)
    _compare_gradients(sg_inputs, torch_inputs, needs_grad, [sg_outputs[i] for i in differentiable],
                       [torch_outputs[i] for i in differentiable], rtol, atol)


def _compare_gradients(sg_inputs, torch_inputs, needs_grad, sg_outputs, torch_outputs, rtol, atol):
    """Backpropagate the same random upstream gradient through both and compare."""
    rng = np.random.default_rng(0)
    upstream = [rng.standard_normal(out.shape) for out in sg_outputs]
    wrt = [i for i, g in enumerate(needs_grad) if g]
    mine = sg.grad(sg_outputs, [sg_inputs[i] for i in wrt],
                   [sg.tensor(u, dtype=out.dtype) for u, out in zip(upstream, sg_outputs)],
                   allow_unused=True)
    theirs = torch.autograd.grad(torch_outputs, [torch_inputs[i] for i in wrt],
                                 [torch.tensor(u, dtype=t.dtype) for u, t in zip(upstream, torch_outputs)],
                                 allow_unused=True)
    for i, m, t in zip(wrt, mine, theirs):
        shape = sg_inputs[i].shape
        m = np.zeros(shape) if m is None else m.numpy()
        t = np.zeros(shape) if t is None else t.numpy()
        assert m.shape == shape, f"gradient of input {i} has shape {m.shape}, input has {shape}"
        assert m.dtype == sg_inputs[i].dtype, f"gradient of input {i} has dtype {m.dtype}"
        assert_allclose(m, t, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


def assert_same_tensor(mine, theirs, rtol=RTOL, atol=ATOL, what="tensor"):
    """Same dtype, shape and values (exactly, for integer and bool tensors)."""
    assert isinstance(mine, sg.Tensor), f"{what}: expected a scratchgen Tensor, got {type(mine).__name__}"
    expected = theirs.detach().numpy()
    assert mine.dtype == expected.dtype, f"{what}: dtype {mine.dtype}, torch gives {expected.dtype}"
    assert mine.shape == expected.shape, f"{what}: shape {mine.shape}, torch gives {expected.shape}"
    if expected.dtype.kind == "f":
        assert_allclose(mine.detach().numpy(), expected, rtol=rtol, atol=atol, err_msg=what)
    else:
        assert_array_equal(mine.detach().numpy(), expected, err_msg=what)


def _listed(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def check_layer_gradients(layer, x):
    """gradcheck and gradgradcheck of tanh(layer(x)) with respect to the float64 array x and the
    layer's weight (and bias, if it has one)."""
    inputs = (sg.tensor(x, requires_grad=True), layer.weight) + ((layer.bias,) if layer.bias is not None else ())
    sg.gradcheck(lambda x, *params: layer(x).tanh(), inputs)
    sg.gradgradcheck(lambda x, *params: layer(x).tanh(), inputs)
