"""Ops that move elements: reshape, view, flatten, unflatten, transpose, permute, t, expand,
squeeze, unsqueeze, indexing, cat, stack, split, chunk, pad, one_hot, dtype casts, and the copy
into another tensor's memory order."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

import scratchgen as sg
import scratchgen.functional as F
from differential import compare, edge_arrays
from oracle import assert_same_tensor, check
from scratchgen.ops.shape import in_layout_of
from strategies import (arrays, basic_indices, class_indices, dims, integer_indices, masks,
                        same_size_shapes, shapes, tensors, with_one_unknown)


@pytest.mark.parametrize("name", ["reshape", "view"])
@given(data=st.data())
def test_reshape_view(name, data):
    x = data.draw(tensors())
    new_shape = data.draw(same_size_shapes(x.size).flatmap(with_one_unknown))
    check(lambda x: getattr(F, name)(x, new_shape), lambda x: x.reshape(new_shape), [x])
    check(lambda x: getattr(x, name)(*new_shape), lambda x: getattr(x, name)(*new_shape), [x])


@given(data=st.data())
def test_flatten(data):
    x = data.draw(tensors())
    rank = max(x.ndim, 1)
    start, end = sorted(data.draw(st.integers(0, rank - 1)) for _ in range(2))
    start, end = (d - rank if data.draw(st.booleans()) else d for d in (start, end))  # negative dims too
    check(lambda x: F.flatten(x, start, end), lambda x: torch.flatten(x, start, end), [x])


@given(data=st.data())
def test_unflatten(data):
    x = data.draw(tensors(min_dims=1))
    dim = data.draw(dims(x.ndim))
    sizes = data.draw(same_size_shapes(x.shape[dim], max_dims=3).flatmap(with_one_unknown))
    check(lambda x: F.unflatten(x, dim, sizes), lambda x: torch.unflatten(x, dim, sizes), [x])


@given(data=st.data())
def test_transpose(data):
    x = data.draw(tensors())
    dim0, dim1 = data.draw(dims(x.ndim)), data.draw(dims(x.ndim))
    check(lambda x: F.transpose(x, dim0, dim1), lambda x: torch.transpose(x, dim0, dim1), [x])


@given(data=st.data())
def test_permute(data):
    x = data.draw(tensors())
    order = data.draw(st.permutations(range(x.ndim)))
    order = [d - x.ndim if data.draw(st.booleans()) else d for d in order]  # negative dims too
    check(lambda x: F.permute(x, order), lambda x: torch.permute(x, order), [x])
    check(lambda x: x.permute(*order), lambda x: x.permute(order), [x])


@given(data=st.data())
def test_t(data):
    x = data.draw(tensors(max_dims=2))
    check(F.t, torch.t, [x])


@given(data=st.data())
def test_expand(data):
    x = data.draw(tensors(max_dims=2))
    new_dims = data.draw(st.lists(st.integers(1, 2), max_size=2))
    kept = [data.draw(st.integers(1, 3)) if n == 1 else n for n in x.shape]
    target = tuple(new_dims) + tuple(-1 if data.draw(st.booleans()) else n for n in kept)
    check(lambda x: F.expand(x, target), lambda x: x.expand(target), [x])
    check(lambda x: x.expand(*target), lambda x: x.expand(target), [x])


@given(data=st.data(), form=st.sampled_from(["all", "int", "tuple"]))
def test_squeeze(data, form):
    x = data.draw(tensors(max_side=2))
    dim = {"all": lambda: None, "int": lambda: data.draw(dims(x.ndim)),
           "tuple": lambda: data.draw(st.lists(dims(x.ndim), max_size=3, unique_by=lambda d: d % max(x.ndim, 1))
                                      .map(tuple))}[form]()
    check(lambda x: F.squeeze(x, dim), lambda x: torch.squeeze(x) if dim is None else torch.squeeze(x, dim),
          [x])
    check(lambda x: x.squeeze(dim), lambda x: x.squeeze() if dim is None else x.squeeze(dim), [x])


def test_squeeze_names_a_repeated_dim():
    with pytest.raises(ValueError, match=r"squeeze: dim \(0, -2\) names a dimension more than once"):
        F.squeeze(sg.zeros(1, 1), (0, -2))


@given(data=st.data())
def test_unsqueeze(data):
    x = data.draw(tensors())
    dim = data.draw(dims(x.ndim + 1))
    check(lambda x: F.unsqueeze(x, dim), lambda x: torch.unsqueeze(x, dim), [x])


def _torch_getitem(x, index, shape):
    """torch has no negative slice steps; where one occurs, take the elements at the flat
    positions NumPy's indexing picks (the gradient is then torch's scatter-add)."""
    if not any(isinstance(p, slice) and (p.step or 1) < 0 for p in index):
        return x[index]
    positions = np.arange(math.prod(shape)).reshape(shape)[index]
    return x.reshape(-1)[torch.from_numpy(positions.copy())]  # copy: torch refuses negative strides


@given(data=st.data())
def test_getitem_basic(data):
    x = data.draw(tensors())
    index = data.draw(basic_indices(x.shape))
    check(lambda x: x[index], lambda x: _torch_getitem(x, index, x.shape), [x])
    check(lambda x: F.getitem(x, index), lambda x: _torch_getitem(x, index, x.shape), [x])


INTEGER_INDEXING = {  # where the integer arrays go, and which dims they index
    "x[i]": (lambda x, i, j: x[i], (0,)),
    "x[:, i]": (lambda x, i, j: x[:, i], (1,)),
    "x[..., i]": (lambda x, i, j: x[..., i], (-1,)),
    "x[i, j]": (lambda x, i, j: x[i, j], (0, 1)),
}


@pytest.mark.parametrize("form", INTEGER_INDEXING)
@given(data=st.data())
def test_getitem_integer_arrays_with_repeats(form, data):
    index, indexed_dims = INTEGER_INDEXING[form]
    x = data.draw(tensors(min_dims=max(d + 1 if d >= 0 else -d for d in indexed_dims)))
    i = data.draw(integer_indices(x.shape[indexed_dims[0]]))
    j = data.draw(integer_indices(x.shape[indexed_dims[-1]], i.shape))
    check(lambda x, i: index(x, i, j), lambda x, i: index(x, i, torch.from_numpy(j)), [x, i])
    check(lambda x: index(x, i, j), lambda x: index(x, torch.from_numpy(i), torch.from_numpy(j)), [x])


@given(data=st.data())
def test_getitem_boolean_mask(data):
    x = data.draw(tensors(min_dims=1))
    mask = data.draw(masks(x.shape[:data.draw(st.integers(1, x.ndim))]))
    check(lambda x, m: x[m], lambda x, m: x[m], [x, mask])
    check(lambda x: x[mask], lambda x: x[torch.from_numpy(mask)], [x])


@pytest.mark.parametrize("index", [np.array([0, 5]), (0, 3), np.zeros(3, dtype=bool)], ids=repr)
def test_getitem_with_bad_index_names_op_and_shape(index):
    with pytest.raises(IndexError, match=r"getitem: index .* is invalid for shape \(2, 3\)"):
        sg.zeros(2, 3)[index]


@st.composite
def cat_inputs(draw, same_shape=False):
    """1 to 3 arrays that agree on every dim but one (or on every dim, for stack)."""
    shape = draw(shapes(min_dims=1, max_elements=8))
    dim = draw(dims(len(shape)))
    count = draw(st.integers(1, 3))
    sides = [shape[dim] if same_shape else draw(st.integers(1, 3)) for _ in range(count)]
    pieces = [shape[:dim % len(shape)] + (n,) + shape[dim % len(shape) + 1:] for n in sides]
    return dim, [draw(arrays(p)) for p in pieces]


@given(inputs=cat_inputs(), data=st.data())
def test_cat(inputs, data):
    """With 1-D tensors of size 0 among the pieces sometimes: skipped, as torch does."""
    dim, pieces = inputs
    for _ in range(data.draw(st.integers(0, 2))):
        pieces.insert(data.draw(st.integers(0, len(pieces))), np.zeros(0))
    check(lambda *xs: F.cat(xs, dim), lambda *xs: torch.cat(xs, dim), pieces)


def test_cat_skips_an_empty_1d_tensor_but_keeps_its_dtype():
    """torch's legacy rule: a (0,) tensor is skipped (its dims need not match), and a float64
    one still makes the result float64."""
    empty, x = np.zeros(0), np.ones((2, 3), dtype=np.float32)
    for pieces in ([empty, x], [x, empty, x]):
        check(lambda *xs: F.cat(xs, -1), lambda *xs: torch.cat(xs, -1), pieces, gradcheck=False)
    check(lambda *xs: F.cat(xs), lambda *xs: torch.cat(xs), [empty, empty])


def test_cat_refuses_a_0d_tensor():
    with pytest.raises(ValueError, match=r"cat: tensors\[1\] is 0-d"):
        F.cat([sg.zeros(2), sg.tensor(1.0)])


@given(data=st.data(), inputs=cat_inputs(same_shape=True))
def test_stack(data, inputs):
    _, pieces = inputs
    dim = data.draw(dims(pieces[0].ndim + 1))
    check(lambda *xs: F.stack(xs, dim), lambda *xs: torch.stack(xs, dim), pieces)


@st.composite
def sections(draw, total):
    """A list of positive sizes that add up to `total`."""
    cuts = draw(st.lists(st.integers(1, total - 1), unique=True)) if total > 1 else []
    edges = [0] + sorted(cuts) + [total]
    return [b - a for a, b in zip(edges, edges[1:])]


@given(data=st.data(), as_sizes=st.booleans())
def test_split(data, as_sizes):
    x = data.draw(tensors(min_dims=1))
    dim = data.draw(dims(x.ndim))
    n = x.shape[dim]
    split = data.draw(sections(n)) if as_sizes else data.draw(st.integers(1, n + 1))
    check(lambda x: F.split(x, split, dim), lambda x: torch.split(x, split, dim), [x])
    check(lambda x: x.split(split, dim), lambda x: x.split(split, dim), [x])


@given(data=st.data(), chunks=st.integers(1, 5))
def test_chunk(data, chunks):
    x = data.draw(tensors(min_dims=1))
    dim = data.draw(dims(x.ndim))
    check(lambda x: F.chunk(x, chunks, dim), lambda x: torch.chunk(x, chunks, dim), [x])


@given(data=st.data(), value=st.sampled_from([0.0, -1.5]))
def test_pad_constant(data, value):
    """Negative widths crop, at most the whole dim (torch crops before it pads)."""
    x = data.draw(tensors(max_elements=12))
    padded_dims = data.draw(st.integers(0, x.ndim))
    widths = []
    for n in reversed(x.shape[x.ndim - padded_dims:]):
        before = data.draw(st.integers(-n, 2))
        widths += [before, data.draw(st.integers(-(n - max(-before, 0)), 2))]
    check(lambda x: F.pad(x, widths, value=value), lambda x: TF.pad(x, widths, value=value), [x])


@st.composite
def pad_case(draw, mode, edges=False):
    """(input, pad) within torch's limits for `mode`: 1, 2 or 3 padded dims of an input with
    one more (unbatched) or two more (batched) dims; widths negative (cropping) too; reflect's
    widths below the size; at least one element left (reflect, replicate) and circular
    wrapping at most once around the cropped dim. An empty batch dim sometimes."""
    k = draw(st.integers(1, 3))
    batched = draw(st.booleans())
    sides = [draw(st.integers(1, 3 if k < 3 else 2)) for _ in range(k)]
    lead = [draw(st.integers(0 if batched else 1, 2))] * batched + [draw(st.integers(1, 2))]
    shape = tuple(lead + sides)
    pad = []
    for n in reversed(sides):
        while True:
            before, after = draw(st.integers(-n, n)), draw(st.integers(-n, n))
            kept = n - max(-before, 0) - max(-after, 0)
            if mode == "reflect" and (before >= n or after >= n or n + before + after < 1):
                continue
            if mode == "replicate" and n + before + after < 1:
                continue
            if mode == "circular" and (max(before, after) > kept or n + before + after < 0):
                continue
            break
        pad += [before, after]
    x = draw(edge_arrays(shape, empty=False) if edges else arrays(shape))
    return x, tuple(pad)


PAD_MODES = pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
# Orders 0 and 1 only: pad is linear, so its second-order gradient is 0 (gradgradcheck checks
# it); torch's first-order gradient of these modes still requires grad, scratchgen's does not.
LINEAR = (0, 1)


@PAD_MODES
@given(data=st.data())
def test_pad_modes(mode, data):
    x, widths = data.draw(pad_case(mode))
    check(lambda x: F.pad(x, widths, mode), lambda x: TF.pad(x, widths, mode=mode), [x])


@PAD_MODES
@given(data=st.data())
def test_pad_modes_at_the_edges(mode, data):
    x, widths = data.draw(pad_case(mode, edges=True))
    compare(lambda x: F.pad(x, widths, mode), lambda x: TF.pad(x, widths, mode=mode), [x], orders=LINEAR, name="pad")


@PAD_MODES
@pytest.mark.parametrize("shape, widths", [
    ((3,), (1, 1)),              # 1-D: no mode but constant pads it
    ((2, 3, 3), (1, 1, 1, 1, 1, 1)), ((1, 2, 3, 3), (1, 1)), ((1, 1, 1, 2, 2, 2), (1, 1, 1, 1, 1, 1)),
    ((2, 3), (1, 1, 1)),         # an odd count
    ((1, 2, 3), (4, 0)),         # reflect: a width of at least the size; circular: wrapping twice
    ((1, 2, 3), (-2, -1)),       # nothing left (reflect, replicate)
    ((1, 2, 3), (-4, 0)),        # less than nothing left
    ((1, 0, 3), (1, 1)),         # an empty non-batch dim (reflect, replicate)
])
def test_pad_modes_refuse_what_torch_refuses(mode, shape, widths):
    x = np.ones(shape)
    compare(lambda x: F.pad(x, widths, mode), lambda x: TF.pad(x, widths, mode=mode), [x], orders=LINEAR, name="pad")


@PAD_MODES
def test_pad_modes_take_no_value(mode):
    with pytest.raises(ValueError, match=f"pad: mode='{mode}' takes no value"):
        F.pad(sg.ones(1, 2, 3), (1, 1), mode, value=1.0)
    F.pad(sg.ones(1, 2, 3), (1, 1), mode, value=0.0)  # 0 is the default: accepted, as torch


def test_pad_circular_refuses_to_wrap_past_the_cropped_input():
    """Deliberate: where circular padding wraps further than what the negative width left,
    torch copies overlapping memory (an error) or leaves the output unset (garbage)."""
    with pytest.raises(ValueError, match=r"pad: mode='circular' wraps at most once around dim 2"):
        F.pad(sg.ones(1, 1, 3), (2, -2), "circular")
    with pytest.raises(RuntimeError, match="single memory location"):
        TF.pad(torch.ones(1, 1, 3), (2, -2), mode="circular")
    with pytest.raises(ValueError, match=r"pad: mode='circular' wraps at most once"):
        F.pad(sg.ones(1, 1, 3), (-3, 1), "circular")  # torch: one element of unset memory


def test_pad_reflect_reads_past_a_crop_on_the_other_side_as_torch():
    """reflect pads the input first and crops after (torch's kernel), so a crop on one side
    does not shorten the mirror on the other; circular wraps around what the crop left."""
    x = np.arange(4.0).reshape(1, 1, 4)
    assert F.pad(sg.tensor(x), (-1, 3), "reflect").tolist() == [[[1.0, 2.0, 3.0, 2.0, 1.0, 0.0]]]
    assert F.pad(sg.tensor(x), (-1, 2), "circular").tolist() == [[[1.0, 2.0, 3.0, 1.0, 2.0]]]
    for mode in ("reflect", "circular"):
        check(lambda x: F.pad(x, (-1, 2), mode), lambda x: TF.pad(x, (-1, 2), mode=mode), [x])


def test_pad_rejects_odd_length():
    with pytest.raises(ValueError, match=r"pad: expected an even number of pad values"):
        F.pad(sg.zeros(2, 3), (1, 2, 3))


@given(data=st.data(), extra_classes=st.integers(0, 2), inferred=st.booleans())
def test_one_hot(data, extra_classes, inferred):
    labels = data.draw(class_indices(data.draw(shapes(max_dims=2)), 4))
    num_classes = -1 if inferred else int(labels.max()) + 1 + extra_classes
    check(lambda t: F.one_hot(t, num_classes), lambda t: TF.one_hot(t, num_classes), [labels])


def test_one_hot_out_of_range_class_is_an_error():
    with pytest.raises(ValueError, match=r"one_hot: class values must be in \[0, 3\), got min 0, max 5"):
        F.one_hot(sg.tensor([0, 5, 1]), 3)


def test_one_hot_needs_integer_labels():
    with pytest.raises(TypeError, match="one_hot: expects an integer tensor of class indices"):
        F.one_hot(sg.tensor([0.0, 1.0]))


@given(data=st.data())
def test_to_float32_and_back(data):
    x = data.draw(tensors())
    # float32 rounding limits the finite differences: a coarser step, a looser tolerance
    check(lambda x: F.to(x, dtype=sg.float32).to(sg.float64),
          lambda x: x.to(torch.float32).to(torch.float64), [x], eps=1e-3, atol=1e-4)
    check(lambda x: x.float(), lambda x: x.float(), [x], gradcheck=False, rtol=1e-6)


@given(data=st.data())
def test_to_integer_leaves_the_graph(data):
    x = data.draw(tensors())
    out = sg.tensor(x, requires_grad=True).to(sg.int64)
    assert_same_tensor(out, torch.tensor(x).to(torch.int64))
    assert not out.requires_grad


def test_cat_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"cat: tensors\[1\] has shape \(2, 4\) but tensors\[0\] has "
                                         r"shape \(3, 3\); all dims but dim=0 must match"):
        F.cat([sg.zeros(3, 3), sg.zeros(2, 4)])


def test_stack_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"stack: tensors\[1\] has shape \(2, 4\) but tensors\[0\] has "
                                         r"shape \(3, 3\)"):
        F.stack([sg.zeros(3, 3), sg.zeros(2, 4)])


def test_reshape_to_wrong_size_names_both_shapes():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\) "
                                         r"\(6 elements\) into shape \(4, 2\)"):
        sg.zeros(2, 3).reshape(4, 2)


def test_expand_to_incompatible_shape_names_both_shapes():
    with pytest.raises(ValueError, match=r"expand: cannot expand shape \(2, 3\) to \(2, 4\)"):
        sg.zeros(2, 3).expand(2, 4)


def test_split_sizes_not_adding_up_is_an_error():
    with pytest.raises(ValueError, match=r"split: sizes \[1, 1\] sum to 2, but dim 0 has size 3"):
        F.split(sg.zeros(3), [1, 1])


DIM_OPS = {
    "transpose": lambda x: F.transpose(x, 0, 3),
    "squeeze": lambda x: F.squeeze(x, 3),
    "unsqueeze": lambda x: F.unsqueeze(x, 4),
    "cat": lambda x: F.cat([x, x], 3),
    "stack": lambda x: F.stack([x, x], 4),
    "split": lambda x: F.split(x, 1, 3),
    "chunk": lambda x: F.chunk(x, 2, 3),
    "unflatten": lambda x: F.unflatten(x, 3, (1, 1)),
    "flatten": lambda x: F.flatten(x, 0, 3),
    "permute": lambda x: F.permute(x, (0, 1, 3)),
}


@pytest.mark.parametrize("name", DIM_OPS)
def test_out_of_range_dim_is_named(name):
    with pytest.raises(IndexError, match=rf"{name}: \w*dim\w*=\d is out of range for a tensor with "
                                         r"\d dimensions"):
        DIM_OPS[name](sg.zeros(2, 3, 4))


@given(data=st.data())
def test_in_layout_of_copies_values_into_the_memory_order_of_another_tensor(data):
    x = data.draw(tensors(min_dims=2))
    order = data.draw(st.permutations(range(x.ndim)))
    like = sg.tensor(np.ascontiguousarray(np.zeros(x.shape).transpose(order)).transpose(np.argsort(order)))
    out = in_layout_of(sg.tensor(x), like)
    assert out.array.strides == like.array.strides
    check(lambda x: in_layout_of(x, like), lambda x: x.clone(), [x])


def test_in_layout_of_returns_its_input_when_the_layouts_agree():
    x = sg.randn(2, 3, requires_grad=True)
    assert in_layout_of(x, sg.zeros(2, 3)) is x
