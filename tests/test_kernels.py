"""Every kernel of kernels/*.cu, through scratchgen/backends/cuda.py, against a NumPy or
PyTorch (CPU, float64) reference on hypothesis-drawn shapes, including sizes that are not
multiples of the block or tile sizes. Each test runs on the CPU emulator and, where a GPU and
CuPy are present, on the GPU (the `device` parameter). The last part checks the emulator's
own semantics: warp shuffles, barriers, shared memory and its error reports."""
import os

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from numpy.testing import assert_allclose

from scratchgen.backends import cuda, im2col as numpy_im2col, launch, numpy as numpy_backend
from scratchgen.cuda import UninitializedSharedRead, emulate
from scratchgen.ops import activation
from scratchgen.ops.fused_activation import SLOPE_FROM_OUTPUT

from philox_reference import dropout_uniforms, philox4x32_10


def _gpu_missing():
    """Why the GPU cases cannot run here, or None if they can."""
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed (pip install 'scratchgen[cuda]')"
    try:
        return None if cupy.cuda.runtime.getDeviceCount() > 0 else "no CUDA device"
    except cupy.cuda.runtime.CUDARuntimeError as error:
        return f"no usable CUDA device ({error})"


DEVICES = [pytest.param("emulator"),
           pytest.param("gpu", marks=pytest.mark.skipif(_gpu_missing() is not None,
                                                         reason=f"GPU cases: {_gpu_missing()}"))]
on_every_device = pytest.mark.parametrize("device", DEVICES)

# Under AddressSanitizer (test_kernel_compile.py runs this file so) two examples per test suffice.
few_under_asan = settings(max_examples=2) if os.environ.get("SCRATCHGEN_EMULATOR_SANITIZE") == "address" else settings()

# Every kernel is a template over float and double: each test of this file runs once per
# precision (the module-scoped fixture below), with the tolerance of that precision against
# float64 references.
TOLERANCES = {np.float32: (2e-5, 2e-6), np.float64: (1e-9, 1e-11)}
PRECISION = {"dtype": np.float32}


@pytest.fixture(scope="module", autouse=True, params=[np.float32, np.float64], ids=["float32", "float64"])
def precision(request):
    PRECISION["dtype"] = request.param
    yield request.param
    PRECISION["dtype"] = np.float32


def floating():
    """The floating dtype the running test uses."""
    return PRECISION["dtype"]


def put(device, array, dtype=None):
    """A copy of a NumPy array on `device`, as `dtype` (default: the test's precision)."""
    array = np.array(array, dtype=dtype or floating())
    if device == "emulator":
        return array
    import cupy
    return cupy.asarray(array)


def get(array):
    return array if isinstance(array, np.ndarray) else array.get()


def random_arrays(data, *shapes, low=-3.0, high=3.0):
    """Arrays of uniform values in the test's precision, from a seed that hypothesis draws."""
    return seeded_arrays(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"), *shapes, low=low, high=high)


def seeded_arrays(seed, *shapes, low=-3.0, high=3.0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, shape).astype(floating()) for shape in shapes]


@st.composite
def small_shapes(draw, min_dims=1, max_dims=3, max_side=40, max_elements=3000):
    """A shape of sides up to max_side and at most max_elements elements (each side drawn
    within what the budget leaves), so that the emulator stays fast."""
    shape, budget = [], max_elements
    for _ in range(draw(st.integers(min_dims, max_dims))):
        side = draw(st.integers(1, max(1, min(max_side, budget))))
        shape.append(side)
        budget //= side
    return tuple(shape)


def close(actual, expected, rtol=None, atol=None):
    """Equal within the given tolerances, or within those of the test's precision."""
    default_rtol, default_atol = TOLERANCES[floating()]
    assert_allclose(get(actual), np.asarray(expected), rtol=default_rtol if rtol is None else rtol,
                    atol=default_atol if atol is None else atol)


def stored_in(array, order):
    """`array` with its elements stored in the order of dims `order` (x.transpose(order) C-contiguous)."""
    xp = launch.array_module(array)
    if array.ndim == 0:
        return array  # ascontiguousarray would make it 1-d
    return xp.ascontiguousarray(array.transpose(order)).transpose(tuple(np.argsort(order)))


# ---- softmax family

@on_every_device
@few_under_asan
@given(st.data())
def test_softmax_and_log_softmax_match_numpy_backend(device, data):
    shape = data.draw(small_shapes())
    (x,) = random_arrays(data, shape, low=-20, high=20)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    close(cuda.softmax(put(device, x), axis), numpy_backend.softmax(x.astype(np.float64), axis))
    close(cuda.log_softmax(put(device, x), axis), numpy_backend.log_softmax(x.astype(np.float64), axis), atol=1e-5)


@on_every_device
@few_under_asan
@given(st.data())
def test_logsumexp_over_any_axes_matches_numpy_backend(device, data):
    shape = data.draw(small_shapes(0, 3, max_side=12))
    (x,) = random_arrays(data, shape, low=-20, high=20)
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, len(shape) - 1))))) if shape else ()
    keepdims = data.draw(st.booleans())
    expected = numpy_backend.logsumexp(x.astype(np.float64), axes, keepdims)
    close(cuda.logsumexp(put(device, x), axes, keepdims), expected, atol=1e-5)


@on_every_device
def test_softmax_family_handles_infinite_logits(device):
    inf = np.inf
    x = np.array([[-inf, -inf, -inf], [0.0, -inf, 1.0], [2.0, inf, 0.0]], dtype=np.float32)
    lse = get(cuda.logsumexp(put(device, x), (1,), False))
    assert lse[0] == -inf and lse[2] == inf and np.isclose(lse[1], np.log(1 + np.e))
    soft = get(cuda.softmax(put(device, x[1:2]), 1))
    close(soft, [[1 / (1 + np.e), 0.0, np.e / (1 + np.e)]])


# ---- elementwise arithmetic and maths

EXPONENTS = (0.5, -0.5, -1, 2, 3, -2, 0, 1.7)  # pow_scalar's special exponents, and two plain ones


@on_every_device
@few_under_asan
@given(st.data())
def test_unary_kernel_matches_numpy_backend_in_the_input_memory_order(device, data):
    """Every operation of unary_map, nan (log of a negative) included, on an input stored in a
    drawn order: the output lies in memory as the input does."""
    op = data.draw(st.sampled_from(sorted(cuda.UNARY_OPS)), label="op")
    shape = data.draw(small_shapes())
    order = tuple(data.draw(st.permutations(range(len(shape)))))
    (x,) = random_arrays(data, shape)
    exponent = data.draw(st.sampled_from(EXPONENTS), label="exponent")
    y = cuda.unary(op, stored_in(put(device, x), order), exponent)
    close(y, numpy_backend.unary(op, x.astype(np.float64), exponent))
    assert y.transpose(order).flags.c_contiguous


@st.composite
def broadcast_operands(draw, max_dims=6):
    """Two shapes that broadcast together: the output's, with leading dims dropped and sides
    set to 1 in each; up to 6 dims, so some do not collapse to binary_broadcast's 4."""
    shape = draw(small_shapes(0, max_dims, max_side=12, max_elements=2000))

    def operand():
        kept = shape[draw(st.integers(0, len(shape))):]
        return tuple(side if draw(st.booleans()) else 1 for side in kept)
    return shape, operand(), operand()


@on_every_device
@few_under_asan
@given(st.data())
def test_binary_kernels_match_numpy_backend_for_broadcasts_memory_orders_and_in_place(device, data):
    op = data.draw(st.sampled_from(sorted(cuda.BINARY_OPS)), label="op")
    _, a_shape, b_shape = data.draw(broadcast_operands())
    a, b = random_arrays(data, a_shape, b_shape, low=0.1 if op == "pow" else -3.0)
    a_order, b_order = (tuple(data.draw(st.permutations(range(len(s))))) for s in (a_shape, b_shape))
    on_device = [stored_in(put(device, x), order) for x, order in ((a, a_order), (b, b_order))]
    expected = numpy_backend.binary(op, a.astype(np.float64), b.astype(np.float64))
    out = cuda.binary(op, *on_device)
    close(out, expected)
    if a_shape == out.shape:
        assert out.transpose(a_order).flags.c_contiguous  # a full-shape first operand gives the memory order
        if op != "pow":
            assert cuda.binary(op, *on_device, in_place=True) is on_device[0]
            close(on_device[0], expected)


@on_every_device
def test_binary_kernel_reads_a_strided_view_and_refuses_nothing_it_cannot_take(device):
    """Operands of one shape take binary_map; a sliced operand is copied before the launch;
    float32 with float64 and int operands go to the array library, with NumPy's promotion."""
    a, b = seeded_arrays(0, (6, 8), (8,))
    close(cuda.binary("mul", put(device, a), put(device, a)), a * a)  # one shape: binary_map
    close(cuda.binary("sub", put(device, a)[::2, 1:], put(device, b)[1:]), a[::2, 1:] - b[1:])
    assert cuda.binary("add", put(device, a), put(device, b, np.float64)).dtype == np.float64
    assert cuda.binary("mul", put(device, [1, 2], np.int64), put(device, [3, 4], np.int64)).tolist() == [3, 8]


@on_every_device
@few_under_asan
@given(st.data())
def test_strided_copy_writes_a_sliced_view_as_numpy_assignment_does(device, data):
    """copy_into: the destination a slice (start, step, reversed) of an array stored in any order,
    the source broadcast from leading-dropped and size-1 dims, itself in any order; the rest of
    the destination's array untouched."""
    root_shape = data.draw(small_shapes(1, 4, max_side=9))
    root_order = tuple(data.draw(st.permutations(range(len(root_shape)))))
    index = tuple(slice(data.draw(st.integers(0, n - 1)), None, data.draw(st.sampled_from([1, 2, -1])))
                  for n in root_shape)
    (root,) = random_arrays(data, root_shape)
    expected = root.copy()
    view_shape = expected[index].shape
    kept = view_shape[data.draw(st.integers(0, len(view_shape))):]
    src_shape = tuple(n if data.draw(st.booleans()) else 1 for n in kept)
    (src,) = random_arrays(data, src_shape)
    expected[index] = src
    on_device = stored_in(put(device, root), root_order)
    src_order = tuple(data.draw(st.permutations(range(len(src_shape)))))
    cuda.copy_into(on_device[index], stored_in(put(device, src), src_order))
    np.testing.assert_array_equal(get(on_device), expected)


@st.composite
def reshapes(draw):
    """(shape, order it is stored in, steps it is sliced with, a new shape of the slice's size)."""
    shape = draw(small_shapes(1, 4, max_side=6))
    order = tuple(draw(st.permutations(range(len(shape)))))
    steps = tuple(draw(st.sampled_from([1, 1, 2])) for _ in shape)
    new_shape, rest = [], int(np.prod([len(range(0, n, k)) for n, k in zip(shape, steps)]))
    while rest > 1:
        side = draw(st.sampled_from([d for d in range(1, rest + 1) if rest % d == 0]))
        new_shape.append(side)
        rest //= side
    return shape, order, steps, tuple(new_shape + [1] * draw(st.integers(0, 1)))


@on_every_device
@given(reshapes())
def test_reshape_is_a_view_exactly_where_numpy_finds_one_else_a_kernel_copy(device, case):
    shape, order, steps, new_shape = case
    values = np.arange(np.prod(shape)).reshape(shape)
    x, on_device = (stored_in(array, order)[tuple(slice(None, None, k) for k in steps)]
                    for array in (values.astype(floating()), put(device, values)))
    try:
        np.reshape(x, new_shape, copy=False)
        numpy_views = True
    except ValueError:
        numpy_views = False
    out = cuda.reshape(on_device, new_shape)
    np.testing.assert_array_equal(get(out), x.reshape(new_shape))
    assert launch.array_module(out).shares_memory(out, on_device) == numpy_views


@on_every_device
@few_under_asan
@given(st.data())
def test_skew_and_unskew_match_numpy_backend_in_any_memory_order(device, data):
    shape = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, 9)),
             data.draw(st.integers(1, 9)))
    order = tuple(data.draw(st.permutations(range(4))))
    (x,) = random_arrays(data, shape)
    skewed = cuda.skew(stored_in(put(device, x), order))
    np.testing.assert_array_equal(get(skewed), numpy_backend.skew(x))
    np.testing.assert_array_equal(get(cuda.unskew(stored_in(skewed, order))), x)


# ---- the losses' fused elementwise parts

@on_every_device
@few_under_asan
@given(st.data())
def test_bce_with_logits_matches_numpy_backend(device, data):
    """Logits and targets each in any memory order, some logits infinite (torch's nan and inf),
    targets in [0, 1], with and without a pos_weight per class of the last dim."""
    shape = data.draw(small_shapes())
    order = tuple(data.draw(st.permutations(range(len(shape)))))
    x, t, pos_weight = random_arrays(data, shape, shape, shape[-1:], low=-30, high=30)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    x[rng.random(shape) < 0.05] = np.inf
    x[rng.random(shape) < 0.05] = -np.inf
    t, pos_weight = (t + 30) / 60, np.abs(pos_weight)
    with_weight = data.draw(st.booleans(), label="pos_weight")
    t_order = tuple(data.draw(st.permutations(range(len(shape))), label="target's order"))
    on_device = [stored_in(put(device, a), o) for a, o in ((x, order), (t, t_order))]
    weights = [put(device, pos_weight)] if with_weight else []
    with np.errstate(invalid="ignore"):
        expected = numpy_backend.bce_with_logits(*(a.astype(np.float64) for a in (x, t, pos_weight)[:2 + with_weight]))
    close(cuda.bce_with_logits(*on_device, *weights), expected)


# ---- activations

ACTIVATION_CASES = {
    "relu": ((), lambda x: torch.relu(x)),
    "leaky_relu": ((0.2,), lambda x: torch.nn.functional.leaky_relu(x, 0.2)),
    "tanh": ((), torch.tanh),
    "sigmoid": ((), torch.sigmoid),
    "softplus": ((2.0, 3.0), lambda x: torch.nn.functional.softplus(x, beta=2.0, threshold=3.0)),
}


@on_every_device
@pytest.mark.parametrize("function", cuda.ACTIVATIONS)
@few_under_asan
@given(st.data())
def test_activation_and_its_gradient_match_torch(device, function, data):
    params, reference = ACTIVATION_CASES[function]
    shape = data.draw(small_shapes(max_side=30))
    x, grad = random_arrays(data, shape, shape, low=-4, high=4)
    x_torch = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y_torch = reference(x_torch)
    (grad_torch,) = torch.autograd.grad(y_torch, x_torch, torch.tensor(grad, dtype=torch.float64))
    close(cuda.activation(function, put(device, x), *params), y_torch.detach().numpy())
    z = y_torch.detach().numpy() if function in SLOPE_FROM_OUTPUT else x  # what f' is read from
    close(cuda.activation_backward(function, put(device, z), put(device, grad), *params), grad_torch.numpy(),
          atol=1e-5 if function in SLOPE_FROM_OUTPUT else None)


@on_every_device
@few_under_asan
@given(st.data())
def test_lstm_cell_matches_torch(device, data):
    """kernels/lstm.cu against torch.nn.LSTMCell's pointwise part (float64); hidden sizes that
    are not multiples of a warp, leading dims of any rank."""
    lead = data.draw(small_shapes(min_dims=0, max_dims=2, max_side=20, max_elements=200))
    hidden = data.draw(st.integers(1, 40))
    gates, c = random_arrays(data, lead + (4 * hidden,), lead + (hidden,), low=-4, high=4)
    i, f, g, o = torch.tensor(gates, dtype=torch.float64).chunk(4, -1)
    c_new = f.sigmoid() * torch.tensor(c, dtype=torch.float64) + i.sigmoid() * g.tanh()
    out = cuda.lstm_cell(put(device, gates), put(device, c))
    close(out, torch.stack([o.sigmoid() * c_new.tanh(), c_new]).numpy())
    close(out, numpy_backend.lstm_cell(gates.astype(np.float64), c.astype(np.float64)))


@on_every_device
def test_sigmoid_is_stable_for_large_inputs(device):
    """No overflow to NaN; values stay normal floats (a GPU flushes subnormal results of expf to 0)."""
    x = np.array([-200.0, -80.0, 0.0, 80.0, 200.0], dtype=np.float32)
    close(cuda.sigmoid(put(device, x)), numpy_backend.sigmoid(x.astype(np.float64)), atol=1e-44)


POINTWISE_FUNCTIONS = (activation.Elu, activation.EluSlope, activation.LogSigmoid, activation.Gelu,
                       activation.GeluSlope, activation.SigmoidSlope)


@on_every_device
@few_under_asan
@given(st.data())
def test_pointwise_kernel_matches_the_formula_of_its_op(device, data):
    """pointwise_map for each Pointwise Function of ops/activation.py against its value() in
    float64, with nan, +-inf and 0 among the inputs (where torch's values are nan or a limit)."""
    function = data.draw(st.sampled_from(POINTWISE_FUNCTIONS), label="function")
    params = {}
    if function in (activation.Elu, activation.EluSlope):
        params = {name: data.draw(st.floats(0.25, 2.0), label=name) for name in ("alpha", "scale", "input_scale")}
    if function in (activation.Gelu, activation.GeluSlope):
        params = dict(approximate=data.draw(st.sampled_from(["none", "tanh"]), label="approximate"))
    shape = data.draw(small_shapes())
    (x,) = random_arrays(data, shape, low=-8, high=8)
    x.reshape(-1)[:5] = [np.nan, np.inf, -np.inf, 0.0, -0.0][:x.size]
    op, arguments = function.kernel(**params)
    with np.errstate(invalid="ignore", over="ignore"):
        expected = function.value(np, x.astype(np.float64), **params)
    atol = 1e-5 if floating() == np.float32 else None  # gelu's slope crosses 0: relative error means little there
    close(cuda.pointwise(op, put(device, x), arguments, None), expected, atol=atol)


# ---- clipping (clamp, hardtanh, relu6)

@on_every_device
@few_under_asan
@given(st.data())
def test_clip_and_its_gradient_match_numpy_backend(device, data):
    """Values drawn on a grid of quarters so that many sit exactly on a bound, and some nan."""
    shape = data.draw(small_shapes(max_side=30))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    x = (rng.integers(-8, 9, shape) / 4).astype(floating())
    x[rng.random(shape) < 0.05] = np.nan
    (grad,) = random_arrays(data, shape)
    bound = st.one_of(st.none(), st.integers(-8, 8).map(lambda q: q / 4))
    low, high = data.draw(bound, label="low"), data.draw(bound, label="high")
    inclusive = data.draw(st.booleans(), label="inclusive")
    np.testing.assert_array_equal(get(cuda.clip(put(device, x), low, high)), numpy_backend.clip(x, low, high))
    np.testing.assert_array_equal(get(cuda.clip_backward(put(device, x), put(device, grad), low, high, inclusive)),
                                  numpy_backend.clip_backward(x, grad, low, high, inclusive))


# ---- sums over dims

@on_every_device
@few_under_asan
@given(st.data())
def test_sum_over_any_dims_matches_numpy(device, data):
    """Rows, columns and the channel sums between (kernels/reduce.cu, normalization.cu), in
    any memory order: a batch-last convolution output summed over (N, H, W) is a bias gradient."""
    shape = data.draw(small_shapes(1, 4, max_side=700))
    dims = tuple(sorted(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    order = tuple(data.draw(st.permutations(range(len(shape)))))
    (x,) = random_arrays(data, shape)
    keepdims = data.draw(st.booleans())
    close(cuda.sum_dims(stored_in(put(device, x), order), dims, keepdims),
          x.astype(np.float64).sum(dims, keepdims=keepdims), atol=1e-4)


@on_every_device
@pytest.mark.parametrize("shape", [(40, 3), (700, 40)])
def test_sum_over_the_leading_dim_reads_columns(device, shape):
    """A bias gradient's sum over the batch: sum_inner_axis, in chunks of rows for a tall array."""
    (x,) = seeded_arrays(0, shape)
    close(cuda.sum_dims(put(device, x), (0,)), x.astype(np.float64).sum(0), atol=1e-3)


@on_every_device
@few_under_asan
@given(st.data())
def test_max_and_min_along_an_axis_match_numpy_backend_with_ties_and_nans(device, data):
    """extreme_rows along any axis of an array in any memory order: values on a coarse grid (ties:
    the first wins), some nan (the first nan wins, for max and min alike), rows longer than a warp."""
    shape = data.draw(small_shapes(1, 3, max_side=70))
    axis = data.draw(st.integers(0, len(shape) - 1), label="axis")
    order = tuple(data.draw(st.permutations(range(len(shape)))))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    x = rng.integers(-3, 4, shape).astype(floating())
    x[rng.random(shape) < data.draw(st.sampled_from([0.0, 0.02, 0.5]), label="nan rate")] = np.nan
    largest = data.draw(st.booleans(), label="largest")
    for actual, expected in zip(cuda.extreme_along(stored_in(put(device, x), order), axis, largest),
                                numpy_backend.extreme_along(x, axis, largest)):
        np.testing.assert_array_equal(get(actual), expected)


# ---- tiled GEMM

@on_every_device
@few_under_asan
@given(st.data())
def test_tiled_gemm_matches_float64_matmul(device, data):
    m, k, n = (data.draw(st.integers(1, 150), label=side) for side in "mkn")
    a, b = random_arrays(data, (m, k), (k, n))
    if data.draw(st.booleans(), label="A at an address 4 bytes off 16-byte alignment"):
        buffer = np.empty(a.size + 1, dtype=np.float32)
        buffer[1:] = a.ravel()
        a = buffer[1:].reshape(m, k)
    close(cuda.gemm(put(device, a), put(device, b)), a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)


@on_every_device
@few_under_asan
@given(st.data())
def test_tiled_gemm_reads_transposed_views_and_broadcasts_batches(device, data):
    """A transposed operand (a backward pass's W^T or x^T) is read in place, and stacks of
    matrices broadcast as in numpy.matmul, one launch for the whole batch."""
    m, k, n = (data.draw(st.integers(1, 70), label=side) for side in "mkn")
    batch_a, batch_b = data.draw(st.sampled_from([((), ()), ((3,), ()), ((), (2,)), ((2, 1), (3,)), ((4,), (4,))]))
    transpose_a, transpose_b = data.draw(st.booleans(), label="A^T"), data.draw(st.booleans(), label="B^T")
    a, b = random_arrays(data, batch_a + ((k, m) if transpose_a else (m, k)),
                         batch_b + ((n, k) if transpose_b else (k, n)))
    a, b = put(device, a), put(device, b)
    a, b = a.swapaxes(-1, -2) if transpose_a else a, b.swapaxes(-1, -2) if transpose_b else b
    expected = np.matmul(get(a).astype(np.float64), get(b).astype(np.float64))
    close(cuda.gemm(a, b), expected, rtol=1e-4, atol=1e-4)
    close(cuda.matmul(a, b), expected, rtol=1e-4, atol=1e-4)


# ---- im2col / col2im, direct convolution

@st.composite
def convolution_geometry(draw):
    """(image shape, kernel_size, stride, padding, dilation, grid) in backends/im2col.py's form,
    1-D (H = kh = 1) or 2-D; the grid is the full one or smaller (as conv_transpose uses)."""
    one_d = draw(st.booleans())
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sizes, kernel, stride, padding, dilation, grid = [], [], [], [], [], []
    for axis in range(2):
        if axis == 0 and one_d:
            sizes.append(1), kernel.append(1), stride.append(1), padding.append((0, 0)), dilation.append(1), grid.append(1)
            continue
        k, s, d = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
        before, after = draw(st.integers(0, 2)), draw(st.integers(0, 2))
        size = draw(st.integers(max(1, d * (k - 1) + 1 - before - after), 9))
        full = (size + before + after - d * (k - 1) - 1) // s + 1
        sizes.append(size), kernel.append(k), stride.append(s), padding.append((before, after))
        dilation.append(d), grid.append(draw(st.integers(1, full)))
    return (n, c, *sizes), tuple(kernel), tuple(stride), tuple(padding), tuple(dilation), tuple(grid)


@on_every_device
@few_under_asan
@given(st.data())
def test_im2col_and_col2im_match_numpy_backend(device, data):
    shape, *geometry = data.draw(convolution_geometry())
    (x,) = random_arrays(data, shape)
    expected_cols = numpy_im2col.im2col(x, *geometry)
    close(cuda.im2col(put(device, x), *geometry), expected_cols, atol=0)
    (cols,) = random_arrays(data, expected_cols.shape)
    close(cuda.col2im(put(device, cols), shape, *geometry), numpy_im2col.col2im(cols, shape, *geometry), atol=1e-5)


@on_every_device
def test_im2col_reads_a_batch_last_view_in_place(device):
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5, 2).transpose(3, 0, 1, 2)
    geometry = ((2, 2), (1, 1), ((0, 0), (0, 0)), (1, 1), (3, 4))
    image = put(device, np.ascontiguousarray(x.transpose(1, 2, 3, 0))).transpose(3, 0, 1, 2)
    close(cuda.im2col(image, *geometry), numpy_im2col.im2col(x, *geometry), atol=0)


@on_every_device
@few_under_asan
@given(st.data())
def test_direct_conv2d_matches_torch(device, data):
    n, c, o = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 5)), data.draw(st.integers(1, 11))
    kh, kw = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    stride, padding, dilation = (data.draw(st.tuples(st.integers(low, high), st.integers(low, high)))
                                 for low, high in ((1, 2), (0, 2), (1, 2)))
    h = data.draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - 2 * padding[0]), 20))
    w = data.draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - 2 * padding[1]), 20))
    x, weight, bias = random_arrays(data, (n, c, h, w), (o, c, kh, kw), (o,))
    with_bias = data.draw(st.booleans())
    expected = torch.nn.functional.conv2d(torch.tensor(x, dtype=torch.float64), torch.tensor(weight, dtype=torch.float64),
                                          torch.tensor(bias, dtype=torch.float64) if with_bias else None,
                                          stride, padding, dilation)
    actual = cuda.conv2d_direct(put(device, x), put(device, weight), put(device, bias) if with_bias else None,
                                stride, padding, dilation)
    close(actual, expected.numpy(), rtol=1e-4, atol=1e-4)


@on_every_device
def test_direct_conv2d_tiles_many_input_channels(device):
    """More input channels than one shared-memory weight tile holds (4096 / (8 * 9) = 56)."""
    x, weight = seeded_arrays(0, (1, 130, 5, 4), (9, 130, 3, 3))
    expected = torch.nn.functional.conv2d(torch.tensor(x, dtype=torch.float64), torch.tensor(weight, dtype=torch.float64),
                                          padding=1)
    close(cuda.conv2d_direct(put(device, x), put(device, weight), None, 1, 1, 1), expected.numpy(), rtol=1e-4, atol=1e-4)


# ---- the normalisation ops' array work (batch, layer, group, instance norm)

@st.composite
def normalisation_arrays(draw):
    """(shape, reduced dims, memory order): 1 to 4 dims, any non-empty set of them reduced, the
    array stored in any order of its dims (a batch-last convolution output is (1, 2, 3, 0))."""
    shape = draw(small_shapes(1, 4, max_side=17, max_elements=2000))
    dims = tuple(sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    order = tuple(draw(st.permutations(range(len(shape)))))
    return shape, dims, order


@on_every_device
@few_under_asan
@given(st.data())
def test_normalisation_kernels_match_float64_formulas(device, data):
    """moments, coefficients, affine and sums (kernels/normalization.cu) against their formulas
    (backends/normalization.py's docstrings) in float64, for channels that lie together in memory
    (no copy) and that do not; the affine map's result keeps its input's memory order."""
    shape, dims, order = data.draw(normalisation_arrays())
    kept_shape = tuple(1 if d in dims else n for d, n in enumerate(shape))
    x, g, t, scales = random_arrays(data, shape, shape, shape, (4,) + kept_shape)
    x += floating()(data.draw(st.floats(-100, 100)))  # an offset that E[x^2] - E[x]^2 would not survive
    x, g, t = (stored_in(a, order) for a in (x, g, t))
    wide = [a.astype(np.float64) for a in (x, g, t, scales)]
    dx, dg, dt = (stored_in(put(device, a), order) for a in (x, g, t))

    stats = cuda.moments(dx, dims)
    close(stats, np.stack([wide[0].mean(dims, keepdims=True), wide[0].var(dims, keepdims=True)]), rtol=1e-4, atol=1e-4)
    weight, bias, variance = scales[0], scales[1], np.abs(scales[2])
    expected_scale = weight.astype(np.float64) / np.sqrt(variance + 1e-5)
    close(cuda.coefficients(put(device, np.stack([scales[3], variance])), put(device, weight), put(device, bias), 1e-5),
          np.stack([expected_scale, bias - scales[3].astype(np.float64) * expected_scale]), rtol=1e-4, atol=1e-5)

    terms = data.draw(st.integers(1, 3), label="terms")
    shifted = data.draw(st.booleans(), label="shifted")
    arrays = [dx, dg, dt][:terms]
    result = cuda.affine(arrays, put(device, scales[:terms + shifted]))
    expected = sum(a * c for a, c in zip(wide[:terms], wide[3])) + (wide[3][terms] if shifted else 0)
    close(result, expected, rtol=1e-4, atol=1e-3)
    assert all(ours == its for ours, its, side in zip(result.strides, x.strides, shape) if side > 1) or not x.size

    tensors = [dx, dt][:data.draw(st.integers(1, 2), label="tensors")]
    expected_sums = [(wide[1] * w).sum(dims, keepdims=True) for w in (wide[0], wide[2])[:len(tensors)]]
    close(cuda.sums(dg, tensors, kept_shape), np.stack(expected_sums + [wide[1].sum(dims, keepdims=True)]),
          rtol=1e-4, atol=1e-3)


# ---- Gumbel, dropout

@on_every_device
@few_under_asan
@given(st.data())
def test_gumbel_noise_and_gumbel_softmax_match_their_formulas(device, data):
    """The kernels and the NumPy backend's functions of the same names, against the formulas."""
    shape = data.draw(small_shapes(1, 3, max_side=20))
    logits, uniform = random_arrays(data, shape, shape)
    uniform = np.abs(uniform) / 3
    uniform.flat[0] = 0.0  # the clamp keeps u = 0 finite
    tau = data.draw(st.floats(0.1, 5.0))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    noise = -np.log(-np.log(np.maximum(uniform.astype(np.float64), np.finfo(floating()).tiny)))
    close(cuda.gumbel_noise(put(device, uniform)), noise, rtol=1e-5, atol=1e-5)
    expected = numpy_backend.softmax((logits + noise) / tau, dim)
    close(cuda.gumbel_softmax(put(device, logits), put(device, uniform), tau, dim), expected, rtol=1e-4, atol=1e-5)
    close(numpy_backend.gumbel_noise(uniform), noise, rtol=1e-5, atol=1e-5)  # F.gumbel_softmax's CPU path
    close(numpy_backend.gumbel_softmax(logits, uniform, tau, dim), expected, rtol=1e-4, atol=1e-5)


# Random123's known answers for Philox4x32-10 (tests/kat_vectors): counter, key, output words
PHILOX_KNOWN_ANSWERS = [
    ((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
    ((0xffffffff,) * 4, (0xffffffff,) * 2, (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
     (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
]


@pytest.mark.parametrize("counter, key, expected", PHILOX_KNOWN_ANSWERS)
def test_philox_reference_gives_random123s_known_answers(counter, key, expected):
    assert [int(word) for word in philox4x32_10(counter, key)] == list(expected)


@on_every_device
@few_under_asan
@given(st.data())
def test_dropout_keeps_where_its_philox_uniform_reaches_p(device, data):
    """The mask of kernels/dropout.cu is Philox4x32-10's under the key, element for element."""
    shape = data.draw(small_shapes(max_side=50))
    (x,) = random_arrays(data, shape)
    p = data.draw(st.floats(0.0, 0.95))
    key = data.draw(st.integers(0, 2 ** 64 - 1), label="key")
    y, mask = cuda.dropout_with_key(put(device, x), p, key)
    uniform = dropout_uniforms(x.size, key).reshape(shape).astype(floating())
    expected_mask = (uniform >= floating()(p)) / (1 - floating()(p))
    close(mask, expected_mask, rtol=1e-6, atol=0)
    close(y, x * expected_mask, rtol=1e-6, atol=0)


@on_every_device
def test_dropout_keeps_one_minus_p_of_a_large_array(device):
    """A binomial check of the kept fraction, 20,000 draws: within 5 standard deviations of 1 - p."""
    n, p = 20_000, 0.3
    _, mask = cuda.dropout_with_key(put(device, np.ones(n)), p, key=2026)
    kept = float((get(mask) > 0).mean())
    assert abs(kept - (1 - p)) < 5 * (p * (1 - p) / n) ** 0.5


# ---- scatter-add of rows

@on_every_device
@few_under_asan
@given(st.data())
def test_scatter_add_rows_matches_numpy_backend(device, data):
    num_rows, count, width = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 40)), data.draw(st.integers(1, 9))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    indices = rng.integers(0, num_rows, (count,))
    (values,) = random_arrays(data, (count, width))
    expected = numpy_im2col.scatter_add_rows(values, indices, num_rows)
    close(cuda.scatter_add_rows(put(device, values), put(device, indices, np.int64), num_rows), expected, atol=1e-5)


@on_every_device
@few_under_asan
@given(st.data())
def test_gather_rows_matches_numpy_indexing_with_negative_indices(device, data):
    num_rows = data.draw(st.integers(1, 40), label="rows")
    row_shape = data.draw(small_shapes(0, 2, max_side=40))
    index_shape = data.draw(small_shapes(1, 2, max_side=30))
    (table,) = random_arrays(data, (num_rows, *row_shape))
    indices = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1))).integers(-num_rows, num_rows, index_shape)
    np.testing.assert_array_equal(get(cuda.gather_rows(put(device, table), put(device, indices, np.int64))),
                                  table[indices])


@on_every_device
def test_gather_rows_rejects_indices_out_of_range(device):
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        cuda.gather_rows(put(device, np.ones((3, 2))), put(device, [0, 3], np.int64))


@on_every_device
def test_scatter_add_rows_rejects_indices_out_of_range(device):
    with pytest.raises(IndexError, match=r"scatter_add_rows: indices must lie in \[0, 3\), got values from 0 to 3"):
        cuda.scatter_add_rows(put(device, np.ones((2, 4))), put(device, [0, 3], np.int64), 3)


# ---- fused optimizer updates: several steps from zeroed state, against backends/numpy.py

def _zeros(device, like, wanted=True):
    return put(device, np.zeros_like(like)) if wanted else None


def _sgd_steps(backend, device, param, grads, options):
    param, buffer = put(device, param), None
    for grad in grads:
        buffer = backend.sgd_update(param, put(device, grad), buffer, **options)
    return [param, buffer]


def _adam_steps(backend, device, param, grads, options, amsgrad):
    state = [_zeros(device, param), _zeros(device, param), _zeros(device, param, amsgrad)]
    param = put(device, param)
    for step, grad in enumerate(grads, start=1):
        backend.adam_update(param, put(device, grad), *state, step=step, **options)
    return [param, *state]


def _rmsprop_steps(backend, device, param, grads, options, centered):
    state = [_zeros(device, param), _zeros(device, param, centered), _zeros(device, param, options["momentum"] > 0)]
    param = put(device, param)
    for grad in grads:
        backend.rmsprop_update(param, put(device, grad), *state, **options)
    return [param, *state]


def close_states(actual, expected):
    assert [a is None for a in actual] == [e is None for e in expected]
    for a, e in zip(actual, expected):
        if e is not None:
            close(a, e, rtol=1e-4, atol=1e-5)


fractions = st.floats(0.0, 0.9)


@st.composite
def optimizer_problem(draw):
    """A parameter of up to 600 values (several blocks), three gradients, and the options
    every update shares."""
    size = draw(st.integers(1, 600))
    param, *grads = seeded_arrays(draw(st.integers(0, 2 ** 32 - 1)), *[(size,)] * 4)
    common = dict(lr=draw(st.floats(0.001, 0.5)), weight_decay=draw(st.sampled_from([0.0, 0.01])),
                  maximize=draw(st.booleans()))
    return param, grads, common


@on_every_device
@few_under_asan
@given(optimizer_problem(), st.data())
def test_fused_sgd_update_matches_numpy_backend(device, problem, data):
    param, grads, options = problem
    nesterov = data.draw(st.booleans())
    options |= dict(momentum=data.draw(st.floats(0.1, 0.9) if nesterov else st.sampled_from([0.0, 0.5])),
                    dampening=0.0 if nesterov else data.draw(fractions), nesterov=nesterov)
    close_states(_sgd_steps(cuda, device, param, grads, options), _sgd_steps(numpy_backend, "emulator", param, grads, options))


@on_every_device
@few_under_asan
@given(optimizer_problem(), st.data())
def test_fused_adam_update_matches_numpy_backend(device, problem, data):
    param, grads, options = problem
    options |= dict(beta1=data.draw(fractions), beta2=data.draw(st.floats(0.5, 0.999)), eps=data.draw(st.floats(1e-8, 1e-3)))
    amsgrad = data.draw(st.booleans(), label="amsgrad")
    close_states(_adam_steps(cuda, device, param, grads, options, amsgrad),
                 _adam_steps(numpy_backend, "emulator", param, grads, options, amsgrad))


@on_every_device
@few_under_asan
@given(optimizer_problem(), st.data())
def test_fused_rmsprop_update_matches_numpy_backend(device, problem, data):
    param, grads, options = problem
    options |= dict(alpha=data.draw(st.floats(0.1, 0.99)), eps=data.draw(st.floats(1e-8, 1e-3)),
                    momentum=data.draw(st.sampled_from([0.0, 0.5])))
    centered = data.draw(st.booleans(), label="centered")
    close_states(_rmsprop_steps(cuda, device, param, grads, options, centered),
                 _rmsprop_steps(numpy_backend, "emulator", param, grads, options, centered))


# ---- the emulator's own semantics, on kernels written for the purpose (and, where a GPU is
# present, the same kernels there: the emulator's model of shuffles is checked against hardware)

SEMANTICS_SOURCE = r"""
// out[4 t + k]: the four shuffle kinds of lane t's warp, with groups of `width` lanes.
extern "C" __global__ void shuffles(const int* source, int* out, int width) {
    const int t = threadIdx.x, lane = t % 32, v = source[t];
    out[4 * t + 0] = __shfl_sync(0xffffffff, v, (lane * 7 + 3) % 32, width);
    out[4 * t + 1] = __shfl_up_sync(0xffffffff, v, 3, width);
    out[4 * t + 2] = __shfl_down_sync(0xffffffff, v, 5, width);
    out[4 * t + 3] = __shfl_xor_sync(0xffffffff, v, 9, width);
}

// Each block reverses its slice of x through dynamic shared memory: correct only if the
// barrier holds every thread until the whole tile is written.
extern "C" __global__ void reverse_blocks(const float* x, float* y) {
    extern __shared__ float tile[];
    const int start = blockIdx.x * blockDim.x;
    tile[threadIdx.x] = x[start + threadIdx.x];
    __syncthreads();
    y[start + threadIdx.x] = tile[blockDim.x - 1 - threadIdx.x];
}

// Reads shared memory that nothing wrote.
extern "C" __global__ void read_unwritten_shared(float* y) {
    extern __shared__ float tile[];
    y[threadIdx.x] = tile[threadIdx.x];
}

// Half of each warp shuffles while the other half waits at the block barrier.
extern "C" __global__ void divergent_shuffle(float* y) {
    float v = threadIdx.x;
    if (threadIdx.x % 32 < 16) v = __shfl_down_sync(0xffffffff, v, 1);
    __syncthreads();
    y[threadIdx.x] = v;
}

extern "C" __global__ void warp_sum_of_lanes(float* y) {
    float v = threadIdx.x;
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffff, v, offset);
    y[threadIdx.x] = v;
}
"""


def run_semantics_kernel(device, kernel, grid, block, args, shared_mem=0):
    """Launch a kernel of SEMANTICS_SOURCE; args are arrays on `device` and NumPy scalars."""
    if device == "gpu":
        import cupy
        module = cupy.RawModule(code=SEMANTICS_SOURCE, options=("-std=c++17",))
        module.get_function(kernel)((grid, 1, 1), (block, 1, 1), tuple(args), shared_mem=shared_mem)
        return
    emulate(SEMANTICS_SOURCE, kernel, grid, block, args, shared_bytes=shared_mem)


def expected_shuffles(values, width):
    """The CUDA C++ Programming Guide's rules: lanes form groups of `width`; a source before
    the group's start (up) or past its end (down, and xor into a later group) gives the
    lane its own value."""
    out = np.empty((len(values), 4), dtype=np.int64)
    for t, v in enumerate(values):
        warp, lane = t // 32 * 32, t % 32
        group = lane // width * width
        sources = [group + ((lane * 7 + 3) % 32) % width,
                   lane - 3 if lane % width >= 3 else lane,
                   lane + 5 if lane % width + 5 < width else lane,
                   lane ^ 9 if (lane ^ 9) < group + width else lane]
        out[t] = [values[warp + s] for s in sources]
    return out.ravel()


@on_every_device
@pytest.mark.parametrize("width", [32, 16, 8, 4, 2])
def test_emulator_warp_shuffles_follow_the_cuda_rules(device, width):
    values = np.arange(100, 164)
    source, result = put(device, values, np.int32), put(device, np.zeros(4 * 64), np.int32)
    run_semantics_kernel(device, "shuffles", 1, 64, (source, result, np.int32(width)))
    np.testing.assert_array_equal(get(result), expected_shuffles(values, width))


@on_every_device
def test_emulator_barrier_and_dynamic_shared_memory(device):
    x = np.arange(3 * 96, dtype=np.float32)
    y = put(device, np.zeros_like(x), np.float32)
    run_semantics_kernel(device, "reverse_blocks", 3, 96, (put(device, x, np.float32), y), shared_mem=96 * 4)
    np.testing.assert_array_equal(get(y), x.reshape(3, 96)[:, ::-1].ravel())


@on_every_device
def test_emulator_butterfly_warp_sum(device):
    y = put(device, np.zeros(64), np.float32)
    run_semantics_kernel(device, "warp_sum_of_lanes", 1, 64, (y,))
    np.testing.assert_array_equal(get(y), np.repeat([sum(range(32)), sum(range(32, 64))], 32))


@pytest.mark.skipif(os.environ.get("SCRATCHGEN_EMULATOR_SANITIZE") == "address",
                    reason="AddressSanitizer builds go without the race detector's instrumentation")
def test_emulator_reports_a_read_of_unwritten_dynamic_shared_memory():
    with pytest.raises(UninitializedSharedRead, match=r"kernel read_unwritten_shared: block \(0, 0, 0\): read of "
                                                      r"dynamic shared memory at byte \d+ by thread \(\d+, 0, 0\)"):
        run_semantics_kernel("emulator", "read_unwritten_shared", 1, 32, (np.zeros(32, dtype=np.float32),),
                             shared_mem=32 * 4)


def test_emulator_reports_a_shuffle_that_half_a_warp_skips():
    with pytest.raises(RuntimeError, match=r"kernel divergent_shuffle: block \(0, 0, 0\): deadlock: 32 threads wait at "
                                           r"__syncthreads, 32 at a warp shuffle"):
        run_semantics_kernel("emulator", "divergent_shuffle", 1, 64, (np.zeros(64, dtype=np.float32),))


def test_emulator_reports_a_shuffle_in_a_partial_warp():
    with pytest.raises(RuntimeError, match="warp_sum_of_lanes: .*__shfl_xor_sync: the emulator supports full-warp "
                                           "synchronisation only .* with 48 threads per block"):
        run_semantics_kernel("emulator", "warp_sum_of_lanes", 1, 48, (np.zeros(48, dtype=np.float32),))


def test_emulator_rejects_more_dynamic_shared_memory_than_a_gpu_has():
    with pytest.raises(ValueError, match=r"shared_mem must be in \[0, 49152\] bytes, got 49156"):
        run_semantics_kernel("emulator", "read_unwritten_shared", 1, 32, (np.zeros(32, dtype=np.float32),),
                             shared_mem=48 * 1024 + 4)


# ---- launch.py's checks of a launch, before any kernel runs

def test_launch_checks_its_arguments_against_the_kernel_signature():
    x, y = np.zeros(8, dtype=np.float32), np.zeros(8, dtype=np.float32)
    with pytest.raises(ValueError, match="launch: no kernel named 'softmax'"):
        launch.launch("softmax", 1, 32, (x, y, 1, 8))
    with pytest.raises(TypeError, match=r"launch softmax_rows<float>: takes 4 arguments \(x, y, rows, cols\), got 3"):
        launch.launch("softmax_rows", 1, 32, (x, y, 1))
    with pytest.raises(TypeError, match=r"launch softmax_rows<double>: argument y must be a float64 array "
                                        r"\(double\*\), got float32"):
        launch.launch("softmax_rows", 1, 32, (x.astype(np.float64), y, 1, 8))
    with pytest.raises(TypeError, match=r"launch softmax_rows: argument x must be a float32 or float64 array \(T\*\), "
                                        r"got float16"):
        launch.launch("softmax_rows", 1, 32, (x.astype(np.float16), y, 1, 8))
    with pytest.raises(ValueError, match="argument x must be C-contiguous"):
        launch.launch("softmax_rows", 1, 32, (np.zeros((8, 2), dtype=np.float32)[:, 0], y, 1, 8))
    y.flags.writeable = False
    with pytest.raises(ValueError, match="argument y is written by the kernel, but the array is read-only"):
        launch.launch("softmax_rows", 1, 32, (x, y, 1, 8))
    with pytest.raises(ValueError, match="argument rows: 2147483648 does not fit a int"):
        launch.launch("softmax_rows", 1, 32, (x, x.copy(), 2 ** 31, 8))
    with pytest.raises(TypeError, match="argument cols is a int, got ndarray"):
        launch.launch("softmax_rows", 1, 32, (x, x.copy(), 1, x))
    with pytest.raises(ValueError, match=r"a block holds at most 1024 threads, got \(64, 32, 1\)"):
        launch.launch("softmax_rows", 1, (64, 32), (x, x.copy(), 1, 8))
    with pytest.raises(ValueError, match=r"grid must be 1 to 3 positive ints, got \(0,\)"):
        launch.launch("softmax_rows", 0, 32, (x, x.copy(), 1, 8))


def test_backend_rejects_other_dtypes_with_a_clear_error():
    with pytest.raises(TypeError, match="softmax: x must be float32 or float64 on device 'cuda', got float16"):
        cuda.softmax(np.zeros(3, np.float16), 0)
    with pytest.raises(TypeError, match=r"gemm: b must have the dtype of the other arrays \(float64\), got float32"):
        cuda.gemm(np.zeros((2, 3)), np.zeros((3, 2), np.float32))
