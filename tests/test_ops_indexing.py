"""Indexing ops (scratchgen/ops/indexing.py): gather, scatter_add, index_select, masked_fill,
sort and topk. Each: gradcheck and gradgradcheck in float64 on drawn shapes (empty and size-1
dims included) with PyTorch's forward and gradients (tests/oracle.py), then PyTorch at the
edges (tests/differential.py: nan, inf, ties, empty and zero-stride inputs), the Tensor
methods, the choices that differ from torch on purpose, and the same code on the CUDA
backend (its kernels on the CPU emulator, float32)."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal

import scratchgen as sg
import scratchgen.functional as F
from differential import compare, edge_arrays, same_tensor, without_overflow
from oracle import check
from strategies import arrays, dims, distinct_arrays, masks, shapes, shapes_broadcastable_to, shapes_with_empty
from test_cuda_end_to_end import assert_match_the_cpu, device  # noqa: F401 (device: the emulated/real CUDA fixture)


def positions(shape, size):
    """int64 arrays of `shape` with values in [0, size) (repeats likely)."""
    if size == 0:
        shape = tuple(shape[:-1]) + (0,) if shape else (0,)  # nothing can be picked from an empty dim
    return hnp.arrays(np.int64, shape, elements=st.integers(0, max(size - 1, 0)))


@st.composite
def gather_case(draw, edges=False, src=False):
    """(input, dim, index[, src]) for gather / scatter_add: index no larger than input off dim,
    any size along it; src no smaller than index. edges: edge values (differential.py)."""
    elements = edge_arrays if edges else arrays
    shape = draw(shapes_with_empty(max_elements=12))
    dim = draw(dims(len(shape)))
    rank = max(len(shape), 1)
    full = shape or (1,)
    index_shape = tuple(draw(st.integers(0, 3)) if d == dim % rank else draw(st.integers(0, n))
                        for d, n in enumerate(full))
    if not shape and draw(st.booleans()):
        index_shape = ()  # a 0-d index of a 0-d input
    index = draw(positions(index_shape, full[dim % rank]))
    case = [draw(elements(shape)), dim, index]
    if src:
        src_shape = tuple(n + draw(st.integers(0, 1)) for n in index.shape) if index.ndim else ()
        case.append(draw(edge_arrays(src_shape, empty=False) if edges else arrays(src_shape)))
    return case


# ---- gather and scatter_add -----------------------------------------------------------------------

@given(case=gather_case())
def test_gather(case):
    x, dim, index = case
    check(lambda x, i: F.gather(x, dim, i), lambda x, i: torch.gather(x, dim, i), [x, index])
    check(lambda x, i: x.gather(dim, i), lambda x, i: x.gather(dim, i), [x, index])


def torch_scatter_add(x, dim, index, src):
    """torch.scatter_add on src cut to index's shape: torch's backward fails on a larger src
    (test below), where scratchgen gives its unused part a zero gradient, as the cut's
    gradient does here."""
    return torch.scatter_add(x, dim, index, src[tuple(slice(0, n) for n in index.shape)])


@given(case=gather_case(src=True))
def test_scatter_add(case):
    x, dim, index, src = case
    check(lambda x, i, s: F.scatter_add(x, dim, i, s), lambda x, i, s: torch_scatter_add(x, dim, i, s),
          [x, index, src])
    check(lambda x, i, s: x.scatter_add(dim, i, s), lambda x, i, s: torch_scatter_add(x, dim, i, s), [x, index, src])


def test_scatter_add_gives_the_unused_part_of_a_larger_src_a_zero_gradient():
    """Deliberate: torch's backward refuses a src larger than index."""
    src = torch.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid gradient"):
        torch.scatter_add(torch.zeros(3, 4), 1, torch.tensor([[0, 1], [2, 0]]), src).sum().backward()
    src = sg.ones(2, 3, requires_grad=True)
    F.scatter_add(sg.zeros(3, 4), 1, sg.tensor([[0, 1], [2, 0]]), src).sum().backward()
    assert_array_equal(src.grad.numpy(), [[1, 1, 0], [1, 1, 0]])


@given(case=gather_case(edges=True))
def test_gather_at_the_edges(case):
    x, dim, index = case
    compare(lambda x, i: F.gather(x, dim, i), lambda x, i: torch.gather(x, dim, i), [x, index], name="gather")


@given(case=gather_case(edges=True, src=True))
def test_scatter_add_at_the_edges(case):
    """+-1e300 become +-3: a sum of 1, 1e300 and -1e300 is 0 or 1 by the order of its additions."""
    x, dim, index, src = case
    x, src = without_overflow(x), without_overflow(src)
    compare(lambda x, i, s: F.scatter_add(x, dim, i, s), lambda x, i, s: torch_scatter_add(x, dim, i, s),
            [x, index, src], name="scatter_add")


def test_gather_and_scatter_add_are_each_others_adjoint():
    """<gather(x), y> = <x, scatter_add(0, y)>: why each one's gradient is the other."""
    rng = np.random.default_rng(0)
    x, index, y = rng.standard_normal((3, 4)), rng.integers(0, 4, (3, 6)), rng.standard_normal((3, 6))
    left = (F.gather(sg.tensor(x), 1, sg.tensor(index)) * sg.tensor(y)).sum().item()
    right = (sg.tensor(x) * F.scatter_add(sg.zeros(3, 4, dtype=sg.float64), 1, sg.tensor(index), sg.tensor(y))).sum()
    assert left == pytest.approx(right.item(), rel=1e-12)


def test_gather_index_out_of_range_names_op_and_dim():
    with pytest.raises(IndexError, match=r"gather: index values must lie in \[0, 3\) for dim 1 of size 3, got min 0, max 3"):
        F.gather(sg.zeros(2, 3), 1, sg.tensor([[0, 3]]))


def test_scatter_add_index_larger_than_src_is_an_error():
    with pytest.raises(ValueError, match=r"scatter_add: index of shape \(2, 2\) must be no larger than src"):
        F.scatter_add(sg.zeros(3, 4), 1, sg.tensor([[0, 1], [1, 0]]), sg.ones(1, 1))


# ---- index_select ---------------------------------------------------------------------------------

@st.composite
def index_select_case(draw, elements=arrays):
    shape = draw(shapes_with_empty(max_elements=12))
    dim = draw(dims(len(shape)))
    size = (shape or (1,))[dim % max(len(shape), 1)]
    index_shape = () if (not shape or draw(st.booleans())) and size else (draw(st.integers(0, 4)),)
    if not shape:
        index_shape = draw(st.sampled_from([(), (1,)]))
    return draw(elements(shape)), dim, draw(positions(index_shape, size))


@given(case=index_select_case())
def test_index_select(case):
    x, dim, index = case
    check(lambda x, i: F.index_select(x, dim, i), lambda x, i: torch.index_select(x, dim, i), [x, index])
    check(lambda x, i: x.index_select(dim, i), lambda x, i: x.index_select(dim, i), [x, index])


@given(case=index_select_case(elements=edge_arrays))
def test_index_select_at_the_edges(case):
    x, dim, index = case
    compare(lambda x, i: F.index_select(x, dim, i), lambda x, i: torch.index_select(x, dim, i), [x, index],
            name="index_select")


def test_index_select_takes_int32_indices():
    x = np.arange(12.0).reshape(3, 4)
    check(lambda x: F.index_select(x, 1, sg.tensor(np.array([3, 0, 3], dtype=np.int32))),
          lambda x: torch.index_select(x, 1, torch.tensor([3, 0, 3], dtype=torch.int32)), [x])


# ---- masked_fill ----------------------------------------------------------------------------------

@st.composite
def masked_fill_case(draw, elements=arrays):
    """input and mask that broadcast together (either may be the larger), and a value: a number
    or a 0-d array (then a tensor that gets a gradient)."""
    big = draw(shapes_with_empty(max_elements=12))
    small = draw(shapes_broadcastable_to(big))
    x_shape, mask_shape = (big, small) if draw(st.booleans()) else (small, big)
    numbers = [0.0, -1.5, 2.0] + ([np.inf, -np.inf, np.nan] if elements is edge_arrays else [])
    value = draw(st.one_of(st.sampled_from(numbers), st.just(np.array(draw(st.sampled_from(numbers))))))
    return draw(elements(x_shape)), draw(masks(mask_shape)), value


@given(case=masked_fill_case())
def test_masked_fill(case):
    x, mask, value = case
    if isinstance(value, np.ndarray):
        check(lambda x, m, v: F.masked_fill(x, m, v), lambda x, m, v: torch.masked_fill(x, m, v), [x, mask, value])
        check(lambda x, m, v: x.masked_fill(m, v), lambda x, m, v: x.masked_fill(m, v), [x, mask, value])
    else:
        check(lambda x, m: F.masked_fill(x, m, value), lambda x, m: torch.masked_fill(x, m, value), [x, mask])


@given(case=masked_fill_case(elements=edge_arrays))
def test_masked_fill_at_the_edges(case):
    x, mask, value = case
    if isinstance(value, np.ndarray):
        compare(lambda x, m, v: F.masked_fill(x, m, v), lambda x, m, v: torch.masked_fill(x, m, v), [x, mask, value],
                name="masked_fill")
    else:
        compare(lambda x, m: F.masked_fill(x, m, value), lambda x, m: torch.masked_fill(x, m, value), [x, mask],
                name="masked_fill")


@pytest.mark.parametrize("value", [2.5, -2.5, True])
def test_masked_fill_casts_the_value_to_the_input_dtype(value):
    x, mask = np.arange(6).reshape(2, 3), np.array([True, False, True])
    got = F.masked_fill(sg.tensor(x), sg.tensor(mask), value)
    same_tensor(got, torch.masked_fill(torch.tensor(x), torch.tensor(mask), value), "masked_fill of int64")


def test_masked_fill_refuses_a_value_an_integer_tensor_cannot_hold():
    with pytest.raises(ValueError, match="masked_fill: value nan cannot be converted to input's dtype int64"):
        F.masked_fill(sg.tensor([1, 2]), sg.tensor([True, False]), float("nan"))


# ---- sort and topk --------------------------------------------------------------------------------

@given(data=st.data(), descending=st.booleans(), stable=st.booleans())
def test_sort(data, descending, stable):
    x = data.draw(distinct_arrays(data.draw(shapes_with_empty())))
    dim = data.draw(dims(x.ndim))
    check(lambda x: F.sort(x, dim, descending, stable),
          lambda x: torch.sort(x, dim=dim, descending=descending, stable=stable), [x])
    check(lambda x: x.sort(dim, descending), lambda x: x.sort(dim, descending), [x])


TIES = (0.0, -0.0, 1.0, np.nan, np.inf, -np.inf)


@given(data=st.data(), descending=st.booleans())
def test_sort_with_ties_nan_and_inf_matches_torch_stable(data, descending):
    """Equal elements keep their order, NaN sorts as the largest, -0.0 ties with 0.0: as torch's
    stable sort, in values, indices and both orders of gradients."""
    shape = data.draw(shapes(min_dims=1, max_elements=12))
    x = data.draw(edge_arrays(shape, extra=TIES * 3))
    dim = data.draw(dims(x.ndim))
    compare(lambda x: F.sort(x, dim, descending, stable=True),
            lambda x: torch.sort(x, dim=dim, descending=descending, stable=True), [x], name="sort")


def test_sort_is_stable_even_when_not_asked_to_be():
    """Deliberate: scratchgen's sort is always stable. torch's CPU sort with stable=False orders
    these 200 ties otherwise (its values agree, its indices differ)."""
    x = np.random.default_rng(0).integers(0, 3, 200).astype(np.float64)
    ours = F.sort(sg.tensor(x), stable=False)
    stable, unstable = torch.sort(torch.tensor(x), stable=True), torch.sort(torch.tensor(x), stable=False)
    same_tensor(ours.values, unstable.values, "values")
    same_tensor(ours.indices, stable.indices, "indices")
    assert not torch.equal(stable.indices, unstable.indices), "torch's unstable sort has become stable here"


@given(data=st.data(), largest=st.booleans())
def test_topk(data, largest):
    x = data.draw(distinct_arrays(data.draw(shapes_with_empty())))
    dim = data.draw(dims(x.ndim))
    k = data.draw(st.integers(0, (x.shape or (1,))[dim]))
    check(lambda x: F.topk(x, k, dim, largest), lambda x: torch.topk(x, k, dim, largest), [x])
    check(lambda x: x.topk(k, dim, largest), lambda x: x.topk(k, dim, largest), [x])


@given(data=st.data(), largest=st.booleans())
def test_topk_unsorted_is_sorted_and_picks_torchs_elements(data, largest):
    """Deliberate: with sorted=False torch's order is unspecified; scratchgen's result is sorted."""
    x = data.draw(distinct_arrays(data.draw(shapes(min_dims=1))))
    dim = data.draw(dims(x.ndim))
    k = data.draw(st.integers(0, x.shape[dim]))
    ours = F.topk(sg.tensor(x), k, dim, largest, sorted=False)
    assert_array_equal(ours.indices.numpy(), F.topk(sg.tensor(x), k, dim, largest).indices.numpy())
    theirs = torch.topk(torch.tensor(x), k, dim, largest, sorted=False)
    assert_array_equal(np.sort(ours.indices.numpy(), dim), np.sort(theirs.indices.numpy(), dim))


@given(data=st.data(), largest=st.booleans())
def test_topk_with_ties_nan_and_inf(data, largest):
    """torch's values always; its indices (and so its gradients) where it picks the same tied
    elements, which it does not promise. scratchgen's pick is pinned: the first k of its stable
    sort, so among equal elements the earlier one."""
    shape = data.draw(shapes(min_dims=1, max_elements=12))
    x = data.draw(edge_arrays(shape, extra=TIES * 3))
    dim = data.draw(dims(x.ndim))
    k = data.draw(st.integers(0, x.shape[dim]))
    ours, theirs = F.topk(sg.tensor(x), k, dim, largest), torch.topk(torch.tensor(x), k, dim, largest)
    same_tensor(ours.values, theirs.values, "values")
    stable = F.sort(sg.tensor(x), dim, descending=largest).indices.numpy()
    assert_array_equal(ours.indices.numpy(), np.take(stable, range(k), axis=dim))
    if np.array_equal(ours.indices.numpy(), theirs.indices.numpy()):
        compare(lambda x: F.topk(x, k, dim, largest), lambda x: torch.topk(x, k, dim, largest), [x], name="topk")


def test_topk_of_a_0d_tensor_is_the_element_for_k_0_or_1():
    for k in (0, 1):
        check(lambda x: F.topk(x, k), lambda x: torch.topk(x, k), [np.array(2.5)])
    with pytest.raises(ValueError, match=r"topk: k must be in \[0, 1\]"):
        F.topk(sg.tensor(2.5), 2)


def test_sort_and_topk_of_zero_stride_input():
    """A broadcast (zero-stride) array, every row the same: ties along dim 0."""
    x = np.broadcast_to(np.array([3.0, np.nan, -1.0]), (4, 3))
    for dim, descending in ((0, False), (1, True)):
        ours, theirs = F.sort(sg.as_tensor(x), dim, descending), torch.sort(torch.tensor(x), dim=dim, descending=descending, stable=True)
        same_tensor(ours.values, theirs.values, "values")
        same_tensor(ours.indices, theirs.indices, "indices")
    same_tensor(F.topk(sg.as_tensor(x), 2).values, torch.topk(torch.tensor(x), 2).values, "topk values")


def test_indexing_ops_take_a_zero_stride_gradient():
    """The gradient of .sum() reaches each op as a broadcast (zero-stride) array."""
    x = np.arange(12.0).reshape(3, 4)
    index = np.array([[0, 0, 3]] * 3)
    for ours, theirs in (
            (lambda x: F.gather(x, 1, sg.tensor(index)), lambda x: torch.gather(x, 1, torch.tensor(index))),
            (lambda x: F.index_select(x, 0, sg.tensor([2, 2])), lambda x: torch.index_select(x, 0, torch.tensor([2, 2]))),
            (lambda x: F.topk(x, 2, 0).values, lambda x: torch.topk(x, 2, 0).values)):
        mine, theirs_x = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ours(mine).sum().backward()
        theirs(theirs_x).sum().backward()
        assert_array_equal(mine.grad.numpy(), theirs_x.grad.numpy())


# ---- the same code on the CUDA backend ---------------------------------------------------------------

def test_indexing_ops_run_on_the_cuda_backend(device):
    """float32 forward and gradients through backends/cuda.py (scatter_add_along over its
    scatter_add_rows kernel) equal the CPU's."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    index = rng.integers(0, 4, (3, 6, 5))
    ops = {
        "gather": lambda x: F.gather(x, 1, sg.tensor(index)),
        "scatter_add": lambda x: F.scatter_add(x, 1, sg.tensor(index[:, :2]), x[:, :2] * 2),
        "index_select": lambda x: F.index_select(x, 2, sg.tensor([4, 0, 4])),
        "sort": lambda x: F.sort(x, 1, descending=True).values,
        "topk": lambda x: F.topk(x, 2, -1).values,
        "masked_fill": lambda x: F.masked_fill(x, x > 0, -1.0),
    }
    for op in ops.values():
        assert_match_the_cpu(device, op, [x])
