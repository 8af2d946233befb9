"""Hypothesis strategies for op tests: small shapes, broadcastable shape pairs, dims, and
float64 arrays kept away from the points where an op is not differentiable.

Tensors hold at most MAX_ELEMENTS elements, so that gradcheck's full Jacobian stays cheap.

    @given(x=tensors())
    def test_exp(x):
        check(F.exp, torch.exp, [x])              # tests/oracle.py

    @given(data=st.data())
    def test_log(data):
        x = data.draw(positive_arrays(data.draw(shapes(min_dims=1))))
"""
import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_ELEMENTS = 24
MAX_SIDE = 4


@st.composite
def shapes(draw, min_dims=0, max_dims=3, min_side=1, max_side=MAX_SIDE, max_elements=MAX_ELEMENTS):
    """A shape whose sides are drawn one by one, each within what the element budget leaves."""
    ndim = draw(st.integers(min_dims, max_dims))
    shape, budget = [], max_elements
    for i in range(ndim):
        largest = min(max_side, budget // min_side ** (ndim - i - 1))
        side = draw(st.integers(min_side, max(min_side, largest)))
        shape.append(side)
        budget //= side
    return tuple(shape)


@st.composite
def shapes_with_empty(draw, **options):
    """A shape of `shapes` (size-1 dims included), one side sometimes 0: an empty tensor."""
    shape = draw(shapes(**options))
    if shape and draw(st.integers(0, 4)) == 0:
        i = draw(st.integers(0, len(shape) - 1))
        shape = shape[:i] + (0,) + shape[i + 1:]
    return shape


@st.composite
def shapes_broadcastable_to(draw, shape):
    """A shape that broadcasts up to `shape`: some of its leading dims dropped and some of the
    rest turned into size-1 (broadcast) dims."""
    kept = draw(st.integers(0, len(shape)))
    ones = draw(st.lists(st.booleans(), min_size=kept, max_size=kept))
    return tuple(1 if one else n for one, n in zip(ones, shape[len(shape) - kept:]))


@st.composite
def broadcastable_shapes(draw, num_shapes=2, min_dims=0, max_dims=3, max_elements=MAX_ELEMENTS):
    """Shapes that broadcast together (to a common shape of at most max_elements)."""
    result = draw(shapes(min_dims, max_dims, max_elements=max_elements))
    return tuple(draw(shapes_broadcastable_to(result)) for _ in range(num_shapes))


@st.composite
def matmul_shapes(draw):
    """Operand shapes for torch.matmul: 1-D or matrices, with broadcastable batch dims."""
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch_a, batch_b = draw(broadcastable_shapes(max_dims=2, max_elements=3))
    a = (k,) if draw(st.booleans()) else batch_a + (n, k)
    b = (k,) if draw(st.booleans()) else batch_b + (k, m)
    return a, b


@st.composite
def classification_shapes(draw):
    """(input shape, target shape) for class-index losses: (C,) with a 0-d target, (N, C), or
    (N, C, d1[, d2]) with the class dim second, as torch."""
    classes = draw(st.integers(2, 4))
    if draw(st.booleans()):
        return (classes,), ()
    batch = draw(st.integers(1, 3))
    extra = draw(st.lists(st.integers(1, 2), max_size=2))
    return (batch, classes, *extra), (batch, *extra)


@st.composite
def same_size_shapes(draw, size, max_dims=4):
    """A shape with `size` elements: `size` split into random factors, in random order."""
    shape, left = [], size
    while left > 1 and len(shape) < max_dims - 1:
        factor = draw(st.sampled_from([d for d in range(1, left + 1) if left % d == 0]))
        shape.append(factor)
        left //= factor
    shape.append(left)
    return tuple(draw(st.permutations(shape)))


@st.composite
def with_one_unknown(draw, shape):
    """`shape`, with one of its sides sometimes written as -1 (for reshape to infer)."""
    if not shape or not draw(st.booleans()):
        return shape
    i = draw(st.integers(0, len(shape) - 1))
    return shape[:i] + (-1,) + shape[i + 1:]


def dims(ndim):
    """A dim of a tensor with `ndim` dims, negative ones included (0-d tensors accept 0 and -1)."""
    rank = max(ndim, 1)
    return st.integers(-rank, rank - 1)


@st.composite
def dim_tuples(draw, ndim):
    """None, (), one dim, or a tuple of distinct dims (possibly negative), as torch reductions
    take (None and () both mean every dim)."""
    if ndim == 0:
        return draw(st.sampled_from([None, (), 0, -1]))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    signed = tuple(d - ndim if draw(st.booleans()) else d for d in chosen)
    return draw(st.sampled_from([None, (), signed[0], signed]))


def _floats(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def arrays(shape, low=-2.0, high=2.0, elements=None):
    """float64 arrays with every element drawn on its own (no repeated fill value)."""
    elements = _floats(low, high) if elements is None else elements
    return hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing())


@st.composite
def tensors(draw, low=-2.0, high=2.0, **shape_options):
    """float64 arrays in [low, high] of a drawn shape (`shape_options` go to `shapes`)."""
    return draw(arrays(draw(shapes(**shape_options)), low, high))


def nonzero_arrays(shape, margin=0.1, high=2.0):
    """Values with |x| in [margin, high]: away from the kink at 0 of abs, relu and friends."""
    magnitude = _floats(margin, high)
    return arrays(shape, elements=st.tuples(st.sampled_from([-1.0, 1.0]), magnitude).map(math.prod))


def positive_arrays(shape, low=0.2, high=3.0):
    """Values in [low, high]: the domain of log, sqrt and tensor-exponent pow."""
    return arrays(shape, low, high)


def probability_arrays(shape, low=0.05, high=0.95):
    """Values in [low, high]: inputs of binary_cross_entropy, away from its log(0) ends."""
    return arrays(shape, low, high)


def arrays_avoiding(shape, points, margin=0.05, low=-2.0, high=2.0):
    """Values at least `margin` away from each of `points` (clamp bounds, thresholds)."""
    far = _floats(low, high).filter(lambda v: all(abs(v - p) >= margin for p in points))
    return arrays(shape, elements=far)


def distinct_arrays(shape, spacing=0.125):
    """Values on a grid of `spacing`, all different and none 0 (the grid is offset by a third of
    a step): max/min have no ties, and no element is within a finite-difference step of
    another."""
    size = math.prod(shape)
    grid = hnp.arrays(np.int64, (size,), elements=st.integers(-2 * size, 2 * size), unique=True)
    return grid.map(lambda k: (k * spacing + spacing / 3).reshape(shape))


def masks(shape):
    """bool arrays (conditions for where, boolean indices)."""
    return hnp.arrays(np.bool_, shape, elements=st.booleans(), fill=st.nothing())


def class_indices(shape, classes, ignore_index=None):
    """int64 class labels in [0, classes), some replaced by `ignore_index` when it is given."""
    labels = st.integers(0, classes - 1)
    if ignore_index is not None:
        labels = st.one_of(labels, st.just(ignore_index))
    return hnp.arrays(np.int64, shape, elements=labels)


def probability_rows(shape, class_dim=1):
    """Non-negative arrays that sum to 1 along `class_dim` (soft targets)."""
    return positive_arrays(shape, 0.05, 1.0).map(lambda p: p / p.sum(axis=class_dim, keepdims=True))


reductions = st.sampled_from(["mean", "sum", "none"])


@st.composite
def basic_indices(draw, shape):
    """A NumPy basic index for `shape`: an int, a slice (negative steps included) or nothing
    for some leading dims, sometimes an Ellipsis and then some trailing dims, and sometimes a
    None (new axis) anywhere."""
    def part(n):
        bound = st.one_of(st.none(), st.integers(-n - 1, n + 1))
        step = st.one_of(st.none(), st.sampled_from([1, 2, -1, -2]))
        return draw(st.one_of(st.integers(-n, n - 1), st.builds(slice, bound, bound, step)))

    leading = draw(st.integers(0, len(shape)))
    parts = [part(n) for n in shape[:leading]]
    if draw(st.booleans()):
        trailing = draw(st.integers(0, len(shape) - leading))
        parts += [Ellipsis] + [part(n) for n in shape[len(shape) - trailing:]]
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), None)
    return tuple(parts)


def integer_indices(size, index_shape=None):
    """int64 positions into a dim of `size`, negative ones and repeats included."""
    index_shape = st.sampled_from([(3,), (2, 2), (1,)]) if index_shape is None else st.just(index_shape)
    return index_shape.flatmap(lambda s: hnp.arrays(np.int64, s, elements=st.integers(-size, size - 1)))


# ---- optimizer hyperparameters (torch.optim's arguments) ------------------------------------------
def hyperparameters(low, high):
    return _floats(low, high)


def zero_or(strategy):
    return st.one_of(st.just(0.0), strategy)


@st.composite
def sgd_options(draw, lr=0.5, momentum=0.95, nesterov_momentum=0.1, dampening=0.9, weight_decay=0.1):
    """SGD's arguments, each up to the given bound (Nesterov needs momentum > 0, no dampening)."""
    nesterov = draw(st.booleans())
    chosen = draw(hyperparameters(nesterov_momentum, momentum) if nesterov else zero_or(hyperparameters(0.0, momentum)))
    return dict(lr=draw(hyperparameters(0.0, lr)), momentum=chosen,
                dampening=0.0 if nesterov else draw(zero_or(hyperparameters(0.0, dampening))),
                weight_decay=draw(zero_or(hyperparameters(0.0, weight_decay))), nesterov=nesterov,
                maximize=draw(st.booleans()))


def adam_options(lr=0.5, beta1=0.99, beta2=0.9999, eps=(1e-10, 1e-3), weight_decay=0.1):
    """Adam's arguments, each up to the given bound."""
    return st.fixed_dictionaries(dict(
        lr=hyperparameters(0.0, lr), betas=st.tuples(hyperparameters(0.0, beta1), hyperparameters(0.0, beta2)),
        eps=hyperparameters(*eps), weight_decay=zero_or(hyperparameters(0.0, weight_decay)), amsgrad=st.booleans(),
        maximize=st.booleans()))
