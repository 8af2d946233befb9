"""gradcheck and gradgradcheck in float64 on the CUDA backend: every op of
test_cuda_end_to_end.OPS, its inputs on device "cuda", so that its forward, backward and
double backward run through backends/cuda.py and the float64 instances of the kernels
(on the CPU emulator in CI, with every launch checked for races and bounds; on a GPU where
CuPy finds one)."""
import numpy as np
import pytest

import scratchgen as sg
from test_cuda_end_to_end import OPS, Device, _gpu_missing


@pytest.fixture(params=["emulated", pytest.param("cuda", marks=pytest.mark.skipif(
    _gpu_missing() is not None, reason=f"real-GPU cases: {_gpu_missing()}"))])
def device(request, monkeypatch):
    return Device(request.param, monkeypatch, floating=(np.float32, np.float64))


# Smaller inputs for the convolutions and norms: a finite-difference Jacobian costs two forward passes
# per input element, and every pass is several emulated launches.
SMALLER_SHAPES = {"conv2d": [(1, 2, 5, 5), (3, 2, 3, 3), (3,)], "conv_transpose2d": [(1, 2, 3, 3), (2, 2, 4, 4), (2,)],
                  "batch_norm_training": [(3, 3, 2, 2), (3,), (3,)],
                  "batch_norm_after_conv": [(2, 2, 3, 3), (3, 2, 2, 2)],
                  "layer_norm_group_norm": [(2, 4, 3), (4, 3), (4, 3)]}


@pytest.mark.parametrize("name", OPS)
def test_op_passes_gradcheck_and_gradgradcheck_on_the_cuda_backend(device, name):
    fn, shapes = OPS[name]
    shapes = SMALLER_SHAPES.get(name, shapes)
    rng = np.random.default_rng(0)
    with device.active():
        inputs = [sg.tensor(rng.uniform(-2, 2, shape), device="cuda", requires_grad=True) for shape in shapes]
        assert all(t.device == "cuda" and t.dtype == np.float64 for t in inputs)
        assert sg.gradcheck(fn, inputs)
        assert sg.gradgradcheck(fn, inputs)
