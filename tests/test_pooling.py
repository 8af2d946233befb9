"""Pooling and resizing: avg_pool1d/2d, max_pool1d/2d, adaptive_avg/max_pool1d/2d and
interpolate (every mode, 1-, 2- and 3-D). Each: gradcheck, gradgradcheck and PyTorch's values
and gradients on drawn windows and shapes (empty batches and size-1 dims included, through
tests/oracle.py), then PyTorch at the edges (tests/differential.py: nan, inf, ties), the
pooling modules against torch.nn's, and the errors for invalid arguments."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import scratchgen as sg
import scratchgen.functional as F
from differential import EDGE_VALUES, compare
from oracle import check
from scratchgen import nn
from strategies import arrays, distinct_arrays
from test_cuda_end_to_end import assert_match_the_cpu, device  # noqa: F401 (device: the emulated/real CUDA fixture)

EXAMPLES = settings(max_examples=15, deadline=None)


def batch(draw, empty=True):
    """A batch size: 0 (an empty batch) now and then, else 1 or 2."""
    return draw(st.sampled_from([0, 1, 2] if empty else [1, 2]))


@st.composite
def pool_windows(draw, dims=2, dilation=False):
    """(input shape, options) for a valid pooling window over `dims` spatial axes (sometimes
    an empty batch, sometimes unbatched)."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilations = tuple(draw(st.integers(1, 2)) for _ in range(dims)) if dilation else (1,) * dims
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 5)) for k, d, p in zip(kernel, dilations, padding))
    shape = ((batch(draw),) if draw(st.integers(0, 4)) else ()) + (draw(st.integers(1, 2)),) + size
    options = {"kernel_size": kernel, "stride": stride, "padding": padding, "ceil_mode": draw(st.booleans())}
    if dilation:
        options["dilation"] = dilations
    return shape, options


def no_all_padding_window(case, pool=TF.max_pool2d):
    """Every window holds an input element (else torch's index of an all-padding window is arbitrary)."""
    shape, options = case
    return bool(torch.isfinite(pool(torch.zeros((1,) + shape[-1 - len(options["kernel_size"]):]), **options)).all())


@EXAMPLES
@given(data=st.data())
def test_avg_pool2d(data):
    shape, options = data.draw(pool_windows())
    options["count_include_pad"] = data.draw(st.booleans())
    options["divisor_override"] = data.draw(st.sampled_from([None, 3]))
    check(lambda x: F.avg_pool2d(x, **options), lambda x: TF.avg_pool2d(x, **options), [data.draw(arrays(shape))])


@EXAMPLES
@given(data=st.data())
def test_avg_pool1d(data):
    shape, options = data.draw(pool_windows(dims=1))
    options["count_include_pad"] = data.draw(st.booleans())
    options = {k: v[0] if isinstance(v, tuple) and data.draw(st.booleans()) else v for k, v in options.items()}
    check(lambda x: F.avg_pool1d(x, **options), lambda x: TF.avg_pool1d(x, **options), [data.draw(arrays(shape))])


@EXAMPLES
@given(data=st.data())
def test_max_pool2d(data):
    shape, options = data.draw(pool_windows(dilation=True).filter(no_all_padding_window))
    x = data.draw(distinct_arrays(shape))  # no ties: the maximum of each window is unique
    check(lambda x: F.max_pool2d(x, return_indices=True, **options),
          lambda x: TF.max_pool2d(x, return_indices=True, **options), [x])


@EXAMPLES
@given(data=st.data())
def test_max_pool1d(data):
    shape, options = data.draw(pool_windows(dims=1, dilation=True).filter(
        lambda case: no_all_padding_window(case, TF.max_pool1d)))
    x = data.draw(distinct_arrays(shape))
    check(lambda x: F.max_pool1d(x, return_indices=True, **options),
          lambda x: TF.max_pool1d(x, return_indices=True, **options), [x])


def test_max_pool2d_gives_a_tie_to_the_first_maximum_as_torch():
    x = np.array([[[[1.0, 1.0, 0.0], [1.0, 0.0, 2.0], [2.0, 2.0, 0.5]]]])
    check(lambda x: F.max_pool2d(x, 2, 1, return_indices=True), lambda x: TF.max_pool2d(x, 2, 1, return_indices=True),
          [x], gradcheck=False)


def test_max_pool_takes_the_last_nan_and_skips_padding_as_torch():
    """torch's CPU scan takes an entry that is larger or NaN: the last NaN of a window wins;
    a window of -inf picks its first entry inside the input, never the padding."""
    nan, inf = np.nan, np.inf
    x = np.array([[[[nan, 1.0, nan], [-inf, -inf, 2.0], [-inf, -inf, nan]]]])
    for options in ({"kernel_size": 2, "stride": 1}, {"kernel_size": 3, "padding": 1, "stride": 2},
                    {"kernel_size": 2, "padding": 1, "stride": 1}):
        compare(lambda x, o=options: F.max_pool2d(x, return_indices=True, **o),
                                       lambda x, o=options: TF.max_pool2d(x, return_indices=True, **o), [x])
    compare(lambda x: F.adaptive_max_pool2d(x, 2, True),
                                   lambda x: TF.adaptive_max_pool2d(x, 2, True), [x])


@st.composite
def adaptive_case(draw, dims):
    shape = ((batch(draw),) if draw(st.integers(0, 4)) else ()) + (draw(st.integers(1, 2)),) + tuple(
        draw(st.integers(1, 5)) for _ in range(dims))
    size = draw(st.integers(1, 4)) if dims == 1 or draw(st.booleans()) else tuple(
        draw(st.one_of(st.none(), st.integers(1, 4))) for _ in range(dims))
    return shape, size


@EXAMPLES
@given(data=st.data(), dims=st.sampled_from([1, 2]))
def test_adaptive_avg_pool(data, dims):
    shape, size = data.draw(adaptive_case(dims))
    ours, theirs = (F.adaptive_avg_pool1d, TF.adaptive_avg_pool1d) if dims == 1 else (
        F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d)
    check(lambda x: ours(x, size), lambda x: theirs(x, size), [data.draw(arrays(shape))])


@EXAMPLES
@given(data=st.data(), dims=st.sampled_from([1, 2]))
def test_adaptive_max_pool(data, dims):
    shape, size = data.draw(adaptive_case(dims))
    ours, theirs = (F.adaptive_max_pool1d, TF.adaptive_max_pool1d) if dims == 1 else (
        F.adaptive_max_pool2d, TF.adaptive_max_pool2d)
    check(lambda x: ours(x, size, True), lambda x: theirs(x, size, True), [data.draw(distinct_arrays(shape))])


@st.composite
def interpolate_case(draw, edges=False):
    """(input shape, options) of interpolate: every mode, align_corners both ways, by size or
    by scale_factor (recomputed or not)."""
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"]))
    spatial = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode) or draw(st.integers(1, 3))
    options = {"mode": mode}
    if draw(st.booleans()):
        options["scale_factor"] = draw(st.sampled_from([2, 2.0, 0.5, 1.5, 3, 0.7, 1.7]))
        options["recompute_scale_factor"] = draw(st.sampled_from([None, True]))
    else:
        options["size"] = tuple(draw(st.integers(1, 6 if spatial < 3 else 3)) for _ in range(spatial))
    if mode in ("linear", "bilinear", "bicubic", "trilinear"):
        options["align_corners"] = draw(st.sampled_from([None, False, True]))
    sides = st.integers(2, 4 if spatial < 3 else 3)  # at least 1 output pixel at scale 0.5
    shape = (batch(draw, empty=not edges), draw(st.integers(1, 2))) + tuple(draw(sides) for _ in range(spatial))
    return shape, options


@EXAMPLES
@given(data=st.data())
def test_interpolate(data):
    shape, options = data.draw(interpolate_case())
    check(lambda x: F.interpolate(x, **options), lambda x: TF.interpolate(x, **options), [data.draw(arrays(shape))])


def test_interpolate_nearest_rounds_its_source_index_as_torch():
    """torch computes the source index in the input's precision and floors it as a float32:
    floor(10 * 14 / 20) is 6 there, not 7. (float32 'nearest-exact' still differs in 3 of
    these 1300 sizes, e.g. 2 -> 41: torch's float32 kernel rounds in a way not mirrored.)"""
    for mode, dtypes in (("nearest", (np.float64, np.float32)), ("nearest-exact", (np.float64,))):
        for dtype in dtypes:
            for n in range(1, 30):
                x = np.arange(n, dtype=dtype).reshape(1, 1, n)
                for size in range(1, 45):
                    ours = F.interpolate(sg.tensor(x), size=size, mode=mode).numpy()
                    theirs = TF.interpolate(torch.tensor(x), size=size, mode=mode).numpy()
                    np.testing.assert_array_equal(ours, theirs, err_msg=f"{mode} {dtype.__name__} {n} -> {size}")


def test_upsample_by_two_is_a_block_copy():
    x = sg.tensor(np.arange(4.0).reshape(1, 1, 2, 2))
    expected = [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=2).numpy()[0, 0], expected)


# ---- at the edges: nan, inf, ties (tests/differential.py) ------------------------------------

SUMMED = tuple(v for v in EDGE_VALUES if abs(v) != 1e300)  # see below
TIES = (0.5, 1.0, 2.0)


def edge_values(values, shape):
    return st.lists(st.sampled_from(values), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))).map(
        lambda v: np.array(v, dtype=np.float64).reshape(shape))


@EXAMPLES
@given(data=st.data(), dims=st.sampled_from([1, 2]))
def test_max_pools_at_the_edges(data, dims):
    """nan, +-inf, +-0 and ties: the same picks (values, indices, gradients) as torch."""
    shape, options = data.draw(pool_windows(dims, dilation=True).filter(
        lambda case: no_all_padding_window(case, TF.max_pool1d if dims == 1 else TF.max_pool2d)))
    x = data.draw(edge_values(EDGE_VALUES + TIES * 3, shape))
    ours, theirs = (F.max_pool1d, TF.max_pool1d) if dims == 1 else (F.max_pool2d, TF.max_pool2d)
    compare(lambda x: ours(x, return_indices=True, **options),
                                   lambda x: theirs(x, return_indices=True, **options), [x])
    shape, size = data.draw(adaptive_case(dims))
    x = data.draw(edge_values(EDGE_VALUES + TIES * 3, shape))
    ours, theirs = (F.adaptive_max_pool1d, TF.adaptive_max_pool1d) if dims == 1 else (
        F.adaptive_max_pool2d, TF.adaptive_max_pool2d)
    compare(lambda x: ours(x, size, True), lambda x: theirs(x, size, True), [x])


@EXAMPLES
@given(data=st.data(), dims=st.sampled_from([1, 2]))
def test_average_pools_at_the_edges(data, dims):
    """nan and inf reach only the windows that hold them (as torch). The edge values leave out
    +-1e300: a sum holding both cancels to what the order of its additions makes it (torch's
    kernels fuse multiply-adds), which is rounding, not semantics."""
    shape, options = data.draw(pool_windows(dims))
    x = data.draw(edge_values(SUMMED, shape))
    ours, theirs = (F.avg_pool1d, TF.avg_pool1d) if dims == 1 else (F.avg_pool2d, TF.avg_pool2d)
    compare(lambda x: ours(x, **options), lambda x: theirs(x, **options), [x])
    shape, size = data.draw(adaptive_case(dims))
    x = data.draw(edge_values(SUMMED, shape))
    ours, theirs = (F.adaptive_avg_pool1d, TF.adaptive_avg_pool1d) if dims == 1 else (
        F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d)
    compare(lambda x: ours(x, size), lambda x: theirs(x, size), [x])


@EXAMPLES
@given(data=st.data())
def test_interpolate_at_the_edges(data):
    """A nan or inf reaches the outputs that read it, weighted: 0 * inf is nan, as torch's."""
    shape, options = data.draw(interpolate_case(edges=True))
    x = data.draw(edge_values(SUMMED, shape))
    compare(lambda x: F.interpolate(x, **options), lambda x: TF.interpolate(x, **options), [x])


def test_pooling_runs_on_the_cuda_backend(device):
    """float32 forward and gradients through backends/cuda.py (im2col/col2im kernels for the
    window pools, CuPy-generic array code for the rest) equal the CPU's."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    ops = {
        "max_pool2d": lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
        "avg_pool1d": lambda x: F.avg_pool1d(x.flatten(2), 4, 3, 2, count_include_pad=False),
        "max_pool1d": lambda x: F.max_pool1d(x.flatten(2), 3, dilation=2),
        "adaptive_max_pool2d": lambda x: F.adaptive_max_pool2d(x, (3, 4)),
        "adaptive_avg_pool1d": lambda x: F.adaptive_avg_pool1d(x.flatten(2), 7),
        "bicubic": lambda x: F.interpolate(x, size=(7, 4), mode="bicubic", align_corners=False),
        "trilinear": lambda x: F.interpolate(x.unsqueeze(1), scale_factor=1.5, mode="trilinear"),
        "area": lambda x: F.interpolate(x, size=(3, 4), mode="area"),
    }
    for op in ops.values():
        assert_match_the_cpu(device, op, [x])


# ---- modules ------------------------------------------------------------------------------------

MODULES = [
    ("AvgPool1d", (3,), {}), ("AvgPool1d", (3, 2, 1, True, False), {}), ("AvgPool2d", (2,), {}),
    ("MaxPool1d", (3,), {}), ("MaxPool1d", (3, 2, 1, 2), {"ceil_mode": True, "return_indices": True}),
    ("MaxPool2d", (2,), {}), ("AdaptiveAvgPool1d", (3,), {}), ("AdaptiveAvgPool2d", ((2, None),), {}),
    ("AdaptiveMaxPool1d", (3,), {}), ("AdaptiveMaxPool1d", (2, True), {}),
    ("AdaptiveMaxPool2d", ((3, 2),), {}), ("AdaptiveMaxPool2d", ((None, 2),), {"return_indices": True}),
]


@pytest.mark.parametrize("name, args, kwargs", MODULES)
def test_pooling_modules_match_torch(name, args, kwargs):
    mine, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(mine) == repr(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict()) == []
    dims = 1 if name.endswith("1d") else 2
    x = np.random.default_rng(0).permutation(2 * 3 * 7 ** dims).reshape((2, 3) + (7,) * dims) / 4.0
    check(mine, theirs, [x])


# ---- errors -------------------------------------------------------------------------------------

def test_pooling_errors_name_the_argument():
    x = sg.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match=r"max_pool2d: padding \(2, 2\) should be at most half of kernel_size \(2, 2\)"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match=r"avg_pool2d: output size \(0, 0\) is too small"):
        F.avg_pool2d(x, 5)
    with pytest.raises(TypeError, match=r"max_pool1d: kernel_size must be an int or a tuple of 1 ints, got \(2, 2\)"):
        F.max_pool1d(sg.zeros(1, 1, 4), (2, 2))
    with pytest.raises(ValueError, match=r"adaptive_max_pool2d: expected an input with non-zero channels and "
                                         r"spatial sizes \(only the batch may be empty\), got shape \(1, 0, 4, 4\)"):
        F.adaptive_max_pool2d(sg.zeros(1, 0, 4, 4), 2)
    with pytest.raises(ValueError, match=r"interpolate: mode must be one of nearest, nearest-exact, linear, "
                                         r"bilinear, bicubic, trilinear, area, got 'cubic'"):
        F.interpolate(x, scale_factor=2, mode="cubic")
    with pytest.raises(ValueError, match=r"interpolate: give exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match=r"interpolate: align_corners can only be set with the interpolating modes "
                                         r"linear \| bilinear \| bicubic \| trilinear"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match=r"interpolate: mode 'linear' needs a 3-D input, got shape \(1, 1, 4, 4\)"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match=r"interpolate: mode 'trilinear' needs a 5-D input"):
        F.interpolate(x, scale_factor=2, mode="trilinear")
