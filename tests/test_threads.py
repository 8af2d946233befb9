"""The work that backends/threads.py cuts into one part per thread (im2col and col2im by
channels or by samples, the norm layers' passes by channels, the optimizers' updates by
elements) gives the same values on several threads as on one: the same bits where the parts
are copies and elementwise updates, the same to rounding where a reduction over a part may
add in another order. Only arrays of benchmark size are cut by default, so these tests let
every array be cut."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import scratchgen as sg
import scratchgen.functional as F
from scratchgen import optim
from scratchgen.backends import threads


@pytest.fixture
def on_threads(monkeypatch):
    """run(fn, n): fn() on n threads, each part however small."""
    monkeypatch.setattr(threads, "MIN_ELEMENTS_PER_THREAD", 1)
    before = threads.get_num_threads()

    def run(fn, n):
        threads.set_num_threads(n)
        return fn()
    yield run
    threads.set_num_threads(before)


def _values_and_gradients(forward, shapes, batch_last=False):
    """forward's output and the gradients of a fixed random upstream gradient, as arrays."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    if batch_last:  # the input stored (C, H, W, N), as a convolution leaves it
        arrays[0] = np.ascontiguousarray(arrays[0].transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    inputs = [sg.tensor(a, requires_grad=True) for a in arrays]
    out = forward(*inputs)
    upstream = sg.tensor(rng.standard_normal(out.shape))
    return [out.detach().numpy()] + [g.numpy() for g in sg.grad(out, inputs, upstream)]


CASES = {
    "conv2d, cut by channels": (lambda x, w: F.conv2d(x, w, stride=2, padding=1), [(4, 5, 6, 6), (3, 5, 3, 3)]),
    "conv2d, cut by samples": (lambda x, w: F.conv2d(x, w, stride=2, padding=1), [(5, 1, 6, 6), (3, 1, 3, 3)]),
    "conv_transpose2d": (lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1), [(4, 5, 3, 3), (5, 2, 4, 4)]),
    "batch_norm": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [(4, 5, 3, 3), (5,), (5,)]),
    "layer_norm": (lambda x: F.layer_norm(x, (3, 3)), [(4, 5, 3, 3)]),
}


@pytest.mark.parametrize("batch_last", [False, True])
@pytest.mark.parametrize("case", list(CASES))
def test_several_threads_give_the_values_of_one(on_threads, case, batch_last):
    forward, shapes = CASES[case]
    one = on_threads(lambda: _values_and_gradients(forward, shapes, batch_last), 1)
    three = on_threads(lambda: _values_and_gradients(forward, shapes, batch_last), 3)
    for a, b in zip(one, three):
        assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_adam_steps_on_several_threads_give_the_bits_of_one(on_threads):
    def three_steps():
        rng = np.random.default_rng(0)
        param = sg.nn.Parameter(sg.tensor(rng.standard_normal((7, 11))))
        optimizer = optim.Adam([param], lr=0.1, amsgrad=True)
        for _ in range(3):
            param.grad = sg.tensor(rng.standard_normal((7, 11)))
            optimizer.step()
        return param.detach().numpy()
    assert_array_equal(on_threads(three_steps, 1), on_threads(three_steps, 3))
