"""Ops that reorder or repeat elements (scratchgen/ops/rearrange.py): flip, roll, tril, triu,
repeat, tile, pixel_shuffle, pixel_unshuffle, and nn.PixelShuffle / nn.PixelUnshuffle. Each:
gradcheck and gradgradcheck in float64 on drawn shapes (empty and size-1 dims included) with
PyTorch's forward and gradients (tests/oracle.py), PyTorch at the edges (tests/differential.py:
nan, inf, empty and zero-stride inputs), the Tensor methods, and the CUDA backend."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

import scratchgen as sg
import scratchgen.functional as F
from differential import compare, edge_arrays
from oracle import check
from scratchgen import nn
from strategies import arrays, dims, shapes_with_empty
from test_cuda_end_to_end import assert_match_the_cpu, device  # noqa: F401 (device: the emulated/real CUDA fixture)


@st.composite
def drawn(draw, edges, min_dims=0, max_dims=3, max_elements=24):
    """A float64 array of a drawn shape (sometimes with an empty side): ordinary values, or edge
    values (differential.py) when `edges`."""
    shape = draw(shapes_with_empty(min_dims=min_dims, max_dims=max_dims, max_elements=max_elements))
    return draw(edge_arrays(shape) if edges else arrays(shape))


def both(edges, ours, theirs, x, name):
    """check (gradcheck, gradgradcheck, torch) on ordinary values, compare on edge values."""
    if edges:
        compare(ours, theirs, [x], name=name)
    else:
        check(ours, theirs, [x])


EDGES = pytest.mark.parametrize("edges", [False, True], ids=["values", "edges"])


# ---- flip and roll --------------------------------------------------------------------------------

@st.composite
def distinct_dims(draw, ndim):
    rank = max(ndim, 1)
    chosen = draw(st.lists(st.integers(0, rank - 1), max_size=rank, unique=True))
    return tuple(d - rank if draw(st.booleans()) else d for d in chosen)


@EDGES
@given(data=st.data())
def test_flip(edges, data):
    x = data.draw(drawn(edges))
    flipped = data.draw(distinct_dims(x.ndim))
    both(edges, lambda x: F.flip(x, flipped), lambda x: torch.flip(x, flipped), x, "flip")
    if flipped and not edges:
        check(lambda x: x.flip(*flipped), lambda x: x.flip(*flipped), [x])


def test_flip_names_a_repeated_dim():
    with pytest.raises(ValueError, match=r"flip: dim \(1, -1\) names a dimension more than once"):
        F.flip(sg.zeros(2, 3), (1, -1))


@EDGES
@given(data=st.data())
def test_roll(edges, data):
    x = data.draw(drawn(edges))
    if x.ndim and data.draw(st.booleans()):
        rolled = tuple(data.draw(st.lists(dims(x.ndim), min_size=1, max_size=3)))  # repeats add up
        shifts = tuple(data.draw(st.integers(-5, 5)) for _ in rolled)
        if len(rolled) == 1 and data.draw(st.booleans()):
            rolled, shifts = rolled[0], shifts[0]
    else:
        rolled, shifts = None, data.draw(st.integers(-30, 30))
    both(edges, lambda x: F.roll(x, shifts, rolled), lambda x: torch.roll(x, shifts, rolled), x, "roll")
    if not edges:
        check(lambda x: x.roll(shifts, rolled), lambda x: x.roll(shifts, rolled), [x])


@pytest.mark.parametrize("shifts, dims", [((1, 2), None), ((1, 2), (0,)), (1, (0, 1)), ((), ())])
def test_roll_refuses_shifts_and_dims_that_do_not_align(shifts, dims):
    with pytest.raises(ValueError, match="roll: "):
        F.roll(sg.zeros(2, 3), shifts, dims)
    with pytest.raises(RuntimeError):
        torch.roll(torch.zeros(2, 3), shifts, dims)


# ---- tril and triu --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["tril", "triu"])
@EDGES
@given(data=st.data(), diagonal=st.integers(-4, 4))
def test_tril_triu(name, edges, data, diagonal):
    x = data.draw(drawn(edges, min_dims=2))
    both(edges, lambda x: getattr(F, name)(x, diagonal), lambda x: getattr(torch, name)(x, diagonal), x, name)
    if not edges:
        check(lambda x: getattr(x, name)(diagonal), lambda x: getattr(x, name)(diagonal), [x])


# ---- repeat and tile ------------------------------------------------------------------------------

@EDGES
@given(data=st.data())
def test_repeat(edges, data):
    x = data.draw(drawn(edges, max_elements=8))
    sizes = tuple(data.draw(st.lists(st.integers(0, 3), min_size=x.ndim, max_size=x.ndim + 2)))
    both(edges, lambda x: F.repeat(x, sizes), lambda x: x.repeat(sizes), x, "repeat")
    if not edges and sizes:
        check(lambda x: x.repeat(*sizes), lambda x: x.repeat(*sizes), [x])


@EDGES
@given(data=st.data())
def test_tile(edges, data):
    x = data.draw(drawn(edges, max_elements=8))
    reps = tuple(data.draw(st.lists(st.integers(0, 3), max_size=x.ndim + 2)))
    both(edges, lambda x: F.tile(x, reps), lambda x: torch.tile(x, reps), x, "tile")
    if not edges and reps:
        check(lambda x: x.tile(*reps), lambda x: x.tile(*reps), [x])


def test_repeat_needs_a_size_per_dim():
    with pytest.raises(ValueError, match=r"repeat: sizes \(2,\) must have at least as many entries as input has dims"):
        sg.zeros(2, 3).repeat(2)


def test_repeat_gradient_sums_the_copies():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    x.repeat(3, 2).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


# ---- pixel_shuffle and pixel_unshuffle --------------------------------------------------------------

@st.composite
def image_shape(draw, channels_factor=1, side_factor=1):
    """(*batch, C, H, W) with C divisible by channels_factor and H, W by side_factor, 0 to 2
    batch dims, nothing empty (torch's pixel shuffles are wrong on empty input: see below)."""
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    c = channels_factor * draw(st.integers(1, 2))
    h, w = (side_factor * draw(st.integers(1, 2)) for _ in range(2))
    return batch + (c, h, w)


@EDGES
@given(data=st.data(), r=st.integers(1, 2))
def test_pixel_shuffle(edges, data, r):
    shape = data.draw(image_shape(channels_factor=r * r))
    x = data.draw(edge_arrays(shape, empty=False) if edges else arrays(shape))
    both(edges, lambda x: F.pixel_shuffle(x, r), lambda x: TF.pixel_shuffle(x, r), x, "pixel_shuffle")


@EDGES
@given(data=st.data(), r=st.integers(1, 2))
def test_pixel_unshuffle(edges, data, r):
    shape = data.draw(image_shape(side_factor=r))
    x = data.draw(edge_arrays(shape, empty=False) if edges else arrays(shape))
    both(edges, lambda x: F.pixel_unshuffle(x, r), lambda x: TF.pixel_unshuffle(x, r), x, "pixel_unshuffle")


@pytest.mark.parametrize("shape", [(0, 4, 2, 2), (1, 0, 2, 2), (4, 0, 2), (1, 4, 0, 2)])
def test_pixel_shuffles_of_empty_input_keep_their_shape_rule(shape):
    """Deliberate: scratchgen's shapes follow the formula on empty input too, and gradients
    flow. torch 2.13's pixel_unshuffle returns an empty input's shape unchanged, and its
    pixel_shuffle's backward fails on one ("invalid gradient")."""
    x = sg.zeros(*shape, dtype=sg.float64, requires_grad=True)
    *batch, c, h, w = shape
    out = F.pixel_shuffle(x, 2)
    assert out.shape == (*batch, c // 4, 2 * h, 2 * w)
    out.sum().backward()
    assert x.grad.shape == shape
    assert F.pixel_unshuffle(out, 2).shape == shape
    with pytest.raises(RuntimeError, match="invalid gradient"):
        TF.pixel_shuffle(torch.zeros(shape, requires_grad=True), 2).sum().backward()
    assert TF.pixel_unshuffle(torch.zeros(out.shape), 2).shape == out.shape


def test_pixel_shuffle_follows_shi_et_al():
    """out[c, h r + i, w r + j] = in[c r^2 + i r + j, h, w] (Shi et al. 2016, Sec. 2.2)."""
    r, c, h, w = 2, 3, 2, 4
    x = np.random.default_rng(0).standard_normal((c * r * r, h, w))
    out = F.pixel_shuffle(sg.tensor(x), r).numpy()
    for ci, hi, wi, i, j in np.ndindex(c, h, w, r, r):
        assert out[ci, hi * r + i, wi * r + j] == x[ci * r * r + i * r + j, hi, wi]
    np.testing.assert_array_equal(F.pixel_unshuffle(sg.tensor(out), r).numpy(), x)


@pytest.mark.parametrize("layer, torch_layer, shape", [
    (nn.PixelShuffle(2), torch.nn.PixelShuffle(2), (2, 8, 3, 2)),
    (nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2), (2, 1, 4, 6)),
], ids=["PixelShuffle", "PixelUnshuffle"])
def test_pixel_shuffle_layers(layer, torch_layer, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    check(layer, torch_layer, [x])
    assert repr(layer) == repr(torch_layer)
    assert list(layer.parameters()) == []


def test_pixel_shuffle_channel_count_must_divide():
    with pytest.raises(ValueError, match=r"pixel_shuffle: the channel dim \(size 6, .*\) must be divisible by "
                                         r"upscale_factor \*\* 2 = 4"):
        F.pixel_shuffle(sg.zeros(1, 6, 2, 2), 2)


# ---- zero-stride input and the CUDA backend ---------------------------------------------------------

def test_rearrange_ops_take_zero_stride_input():
    """A broadcast (zero-stride) array, as sg.as_tensor wraps it without a copy."""
    x = np.broadcast_to(np.arange(4.0), (3, 4))
    ops = [(lambda t: F.flip(t, (0, 1)), lambda t: torch.flip(t, (0, 1))),
           (lambda t: F.roll(t, (1, -1), (0, 1)), lambda t: torch.roll(t, (1, -1), (0, 1))),
           (lambda t: F.tril(t, 1), lambda t: torch.tril(t, 1)),
           (lambda t: F.repeat(t, 2, 1, 2), lambda t: t.repeat(2, 1, 2)),
           (lambda t: F.pixel_shuffle(t.reshape(4, 1, 3), 2), lambda t: TF.pixel_shuffle(t.reshape(4, 1, 3), 2))]
    for ours, theirs in ops:
        np.testing.assert_array_equal(ours(sg.as_tensor(x)).numpy(), theirs(torch.tensor(x)).numpy())


def test_rearrange_ops_run_on_the_cuda_backend(device):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 2, 4)).astype(np.float32)
    ops = [lambda t: F.flip(t, (0, 2)), lambda t: F.roll(t, (1, 3), (1, 2)), lambda t: F.triu(t, -1),
           lambda t: t.repeat(1, 2, 1, 3), lambda t: F.pixel_shuffle(t, 2), lambda t: F.pixel_unshuffle(t, 2)]
    for op in ops:
        assert_match_the_cpu(device, op, [x])
