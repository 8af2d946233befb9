"""GPU benchmark of the kernels in kernels/*.cu (through scratchgen/backends/cuda.py) against the
device's measured ceilings and against the reference libraries, in one process:

- ceilings: device-to-device copy bandwidth (bytes read + written) and cuBLAS SGEMM at 4096^3;
- per kernel: achieved GB/s (memory-bound kernels: the fewest bytes the operation must move,
  each input read once and each output written once) or TFLOP/s (GEMM, convolution), and the
  time ratio to PyTorch (cuBLAS, cuDNN, its own CUDA kernels) on the same inputs;
- shapes: MNIST/DCGAN sizes (launch overhead dominates there, for both sides) and one that
  fills the GPU (far larger than its L2), where the goals apply: memory-bound kernels reach
  >= 70% of the copy bandwidth, the tiled SGEMM >= 50% of cuBLAS at 4096^3.

Last, one whole DCGAN training step on device "cuda" (benchmarks/bench_dcgan.py's 28x28 MNIST
networks and step: batch 64, D step on real and fake, G step, BCE-with-logits, Adam(2e-4, (0.5,
0.999))) against the same step in PyTorch with cuDNN; goal: at most 2x PyTorch's time.

Float32 throughout, with TF32 off in cuBLAS and cuDNN so that both sides do fp32 arithmetic.

    PYTHONPATH=. python benchmarks/gpu.py           # the benchmark: a CUDA GPU and CuPy
    PYTHONPATH=. python benchmarks/gpu.py --check   # first the GPU tests, then the benchmark

--check is the one command for a GPU slot (no network, minutes to spare): it runs the GPU
cases of the kernel, end-to-end and float64 gradcheck tests (at most TEST_SECONDS), then the
benchmark, and writes the test summary beside the table. Timings use CUDA events through
CuPy, and the ceilings are CuPy's copy and cuBLAS SGEMM, so a machine whose PyTorch has no
CUDA still measures every kernel of ours against them; only the PyTorch reference columns
and the DCGAN step then stay empty.

Prints the table and writes benchmarks/results/gpu.md.
"""
import argparse
import pathlib
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import cupy
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_dcgan  # noqa: E402
import harness  # noqa: E402
from scratchgen.backends import cuda  # noqa: E402
from scratchgen.ops.fused_activation import SLOPE_FROM_OUTPUT  # noqa: E402

MEMORY_GOAL, GEMM_GOAL, DCGAN_GOAL = 0.70, 0.50, 2.0
FLOAT = 4  # bytes
TORCH_CUDA = torch.cuda.is_available()  # the PyTorch references need it; our kernels do not
ROOT = pathlib.Path(__file__).resolve().parents[1]
GPU_TESTS = ("tests/test_kernels.py", "tests/test_cuda_end_to_end.py", "tests/test_cuda_gradcheck.py")
TEST_SECONDS = 300


@dataclass
class Case:
    kernel: str
    shape: str
    ours: object          # () -> anything, runs our kernel(s)
    reference: object     # () -> anything, runs PyTorch's equivalent
    reference_name: str
    bytes: int = 0        # fewest bytes moved (memory-bound cases)
    flops: int = 0        # arithmetic (GEMM, convolution)
    fills_gpu: bool = False


def milliseconds(fn, repeats=15, calls=10, warmup=3):
    """Time per call: the median over `repeats` samples of CUDA events around `calls`
    back-to-back calls. Where a call's GPU work outlasts its host overhead (launch checks,
    allocation), the queue stays full and the overhead is hidden, as in a training loop;
    where it does not (small shapes), the time is the host's."""
    for _ in range(warmup):
        fn()
    cupy.cuda.Device().synchronize()
    times = []
    for _ in range(repeats):  # both libraries launch on the legacy default stream, which the events mark
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        for _ in range(calls):
            fn()
        end.record()
        end.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, end) / calls)
    return statistics.median(times)


def randn(*shape):
    """Standard normal float32 values on the GPU: (CuPy array, PyTorch tensor over the same
    memory, or None where PyTorch has no CUDA)."""
    array = cupy.random.standard_normal(shape, dtype=cupy.float32)
    return array, torch.as_tensor(array, device="cuda") if TORCH_CUDA else None


def uniform(*shape):
    array = cupy.random.random(shape, dtype=cupy.float32)
    return array, torch.as_tensor(array, device="cuda") if TORCH_CUDA else None


# ---- ceilings, through CuPy

def copy_bandwidth():
    src, dst = cupy.random.standard_normal(256 * 2 ** 20, dtype=cupy.float32), cupy.empty(256 * 2 ** 20, cupy.float32)
    return 2 * src.size * FLOAT / milliseconds(lambda: cupy.copyto(dst, src)) / 1e6  # GB/s, 1 GiB each way


def cublas_tflops(n=4096):
    a, b = randn(n, n)[0], randn(n, n)[0]
    return 2 * n ** 3 / milliseconds(lambda: a @ b) / 1e9  # CuPy's matmul is cuBLAS SGEMM


# ---- cases: ours on the CuPy arrays, the reference on the PyTorch tensors of the same memory

def gemm_cases():
    cases = []
    for (m, k, n), fills in (((128, 784, 400), False), ((1024, 1024, 1024), False), ((4096, 4096, 4096), True)):
        (a, _), (b, _) = randn(m, k), randn(k, n)
        cases.append(Case("gemm_tiled", f"{m}x{k} @ {k}x{n}", lambda a=a, b=b: cuda.gemm(a, b),
                          lambda a=a, b=b: a @ b, "cuBLAS (CuPy)", flops=2 * m * k * n, fills_gpu=fills))
    return cases


def conv_cases():
    cases = []
    shapes = (((64, 1, 28, 28), (64, 1, 4, 4), 2, 1, False), ((64, 64, 14, 14), (128, 64, 4, 4), 2, 1, False),
              ((128, 64, 64, 64), (64, 64, 3, 3), 1, 1, True))
    for x_shape, w_shape, stride, padding, fills in shapes:
        (x, tx), (w, tw), (b, tb) = randn(*x_shape), randn(*w_shape), randn(w_shape[0])
        y = torch.nn.functional.conv2d(tx, tw, tb, stride, padding)
        flops = 2 * y.numel() * w_shape[1] * w_shape[2] * w_shape[3]
        cases.append(Case("conv2d_direct", f"{x_shape} * {w_shape} s{stride} p{padding}",
                          lambda x=x, w=w, b=b, s=stride, p=padding: cuda.conv2d_direct(x, w, b, s, p),
                          lambda x=tx, w=tw, b=tb, s=stride, p=padding: torch.nn.functional.conv2d(x, w, b, s, p),
                          "cuDNN conv2d", flops=flops, fills_gpu=fills))
    return cases


def im2col_cases():
    cases = []
    for (n, c, h, w), k, s, p, fills in (((64, 64, 14, 14), 4, 2, 1, False), ((64, 64, 64, 64), 3, 1, 1, True)):
        _, tx = randn(n, c, h, w)
        ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        geometry = ((k, k), (s, s), ((p, p), (p, p)), (1, 1), (ho, wo))
        batch_last = cupy.asarray(tx.permute(1, 2, 3, 0).contiguous()).transpose(3, 0, 1, 2)  # as layers pass it on
        columns = cuda.im2col(batch_last, *geometry)
        unfolded = torch.nn.functional.unfold(tx, k, padding=p, stride=s)
        label, moved = f"({n}, {c}, {h}, {w}) k{k} s{s} p{p}", (tx.numel() + columns.size) * FLOAT
        cases.append(Case("im2col", label, lambda x=batch_last, g=geometry: cuda.im2col(x, *g),
                          lambda x=tx, k=k, s=s, p=p: torch.nn.functional.unfold(x, k, padding=p, stride=s),
                          "torch unfold", bytes=moved, fills_gpu=fills))
        cases.append(Case("col2im", label, lambda cols=columns, g=geometry, shape=(n, c, h, w): cuda.col2im(cols, shape, *g),
                          lambda u=unfolded, k=k, s=s, p=p, size=(h, w): torch.nn.functional.fold(u, size, k, padding=p,
                                                                                                    stride=s),
                          "torch fold", bytes=moved, fills_gpu=fills))
    return cases


def _norm_forward(x, dims, weight, bias):
    """A norm layer's training-mode forward on the device (ops/normalization.py's Standardize):
    moments, the per-channel coefficients, one affine map."""
    return cuda.affine([x], cuda.coefficients(cuda.moments(x, dims), weight, bias, 1e-5))


def _norm_backward(g, x, kept_shape, coefficients):
    """A norm layer's backward on the device: the sums of g and g * x, then one affine map of g
    and x (the per-channel algebra between them, a few tiny arrays, given as `coefficients`)."""
    cuda.sums(g, [x], kept_shape)
    return cuda.affine([g, x], coefficients)


def normalisation_cases():
    """kernels/normalization.cu as the norm layers use it: batch norm of a convolution's
    batch-last output over (N, H, W), and layer norm over the last dim, against PyTorch's
    batch-norm kernels on its own (N, C, H, W) layout and its layer-norm kernels."""
    cases = []
    for kind, shape, fills in (("batch norm", (64, 128, 7, 7), False), ("batch norm", (256, 128, 64, 64), True),
                               ("layer norm", (64, 512), False), ("layer norm", (65536, 1024), True)):
        (x, tx), (g, tg) = randn(*shape), randn(*shape)
        batch = kind == "batch norm"
        if batch:  # ours as layers pass it on: stored (C, H, W, N)
            x, g = (cupy.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2) for a in (x, g))
        dims = (0, 2, 3) if batch else (1,)
        kept_shape = tuple(1 if d in dims else n for d, n in enumerate(shape))
        channels = shape[1] if batch else shape[-1]
        (w, tw), (b, tb) = randn(channels), randn(channels)
        w_kept, b_kept = (a.reshape(kept_shape) if batch else cupy.ones(kept_shape, cupy.float32) for a in (w, b))
        stats = cuda.moments(x, dims)
        scale_shift = cuda.coefficients(stats, w_kept, b_kept, 1e-5)
        backward_coefficients = cupy.concatenate([scale_shift[:1], scale_shift])  # any values time alike
        label, size = f"{kind} {shape}", tx.numel() * FLOAT
        forward = (lambda x=x, d=dims, w=w_kept, b=b_kept: _norm_forward(x, d, w, b))
        backward = (lambda g=g, x=x, k=kept_shape, c=backward_coefficients: _norm_backward(g, x, k, c))
        if batch:
            mean, invstd = torch.batch_norm_stats(tx, 1e-5) if TORCH_CUDA else (None, None)
            cases += [
                Case("moments", label, lambda x=x, d=dims: cuda.moments(x, d),
                     lambda x=tx: torch.batch_norm_stats(x, 1e-5), "torch.batch_norm_stats", bytes=size,
                     fills_gpu=fills),
                Case("affine, 1 array + shift", label, lambda x=x, c=scale_shift: cuda.affine([x], c),
                     lambda x=tx, m=mean, i=invstd, w=tw, b=tb: torch.batch_norm_elemt(x, w, b, m, i, 1e-5),
                     "torch.batch_norm_elemt", bytes=2 * size, fills_gpu=fills),
                Case("forward: moments + coefficients + affine", label, forward,
                     lambda x=tx, w=tw, b=tb: torch.nn.functional.batch_norm(x, None, None, w, b, True),
                     "cuDNN batch_norm", bytes=2 * size, fills_gpu=fills),
                Case("backward: sums + affine of 2 arrays", label, backward,
                     lambda g=tg, x=tx, m=mean, i=invstd, w=tw: torch.ops.aten.native_batch_norm_backward(
                         g, x, w, None, None, m, i, True, 1e-5, [True, True, True]),
                     "native_batch_norm_backward", bytes=3 * size, fills_gpu=fills),
            ]
        else:
            _, mean, rstd = torch.native_layer_norm(tx, shape[-1:], tw, tb, 1e-5) if TORCH_CUDA else (None,) * 3
            cases += [
                Case("forward: moments + coefficients + affine", label, forward,
                     lambda x=tx, w=tw, b=tb, d=shape[-1:]: torch.native_layer_norm(x, d, w, b, 1e-5),
                     "torch layer_norm", bytes=2 * size, fills_gpu=fills),
                Case("backward: sums + affine of 2 arrays", label, backward,
                     lambda g=tg, x=tx, m=mean, r=rstd, w=tw, b=tb, d=shape[-1:]:
                     torch.ops.aten.native_layer_norm_backward(g, x, d, m, r, w, b, [True, False, False]),
                     "native_layer_norm_backward (input grad)", bytes=3 * size, fills_gpu=fills),
            ]
    return cases


TORCH_ACTIVATIONS = {
    "relu": (torch.relu, lambda x, g: torch.ops.aten.threshold_backward(g, x, 0)),
    "leaky_relu": (lambda x: torch.nn.functional.leaky_relu(x, 0.2),
                   lambda x, g: torch.ops.aten.leaky_relu_backward(g, x, 0.2, False)),
    "tanh": (torch.tanh, lambda y, g: torch.ops.aten.tanh_backward(g, y)),  # f' read from the output y
    "sigmoid": (torch.sigmoid, lambda y, g: torch.ops.aten.sigmoid_backward(g, y)),
    "softplus": (torch.nn.functional.softplus, lambda x, g: torch.ops.aten.softplus_backward(g, x, 1.0, 20.0)),
}
ACTIVATION_PARAMS = {"leaky_relu": (0.2,), "softplus": (1.0, 20.0)}


def activation_cases():
    cases = []
    for shape, fills in (((64, 784), False), ((64 * 2 ** 20,), True)):
        (x, tx), (g, tg) = randn(*shape), randn(*shape)
        size = tx.numel() * FLOAT
        for name, (forward, backward) in TORCH_ACTIVATIONS.items():
            params = ACTIVATION_PARAMS.get(name, ())
            cases.append(Case(f"{name}_forward", str(shape), lambda x=x, n=name, p=params: cuda.activation(n, x, *p),
                              lambda x=tx, f=forward: f(x), f"torch {name}", bytes=2 * size, fills_gpu=fills))
            output = name in SLOPE_FROM_OUTPUT  # then both sides read f' from y = f(x), not from x
            z = cuda.activation(name, x, *params) if output else x
            tz = (forward(tx) if output else tx) if TORCH_CUDA else None
            cases.append(Case(f"{name}_backward", str(shape),
                              lambda z=z, g=g, n=name, p=params: cuda.activation_backward(n, z, g, *p),
                              lambda z=tz, g=tg, b=backward: b(z, g), f"torch {name} backward",
                              bytes=3 * size, fills_gpu=fills))
    return cases


def elementwise_cases():
    """unary_map (exp), binary_map (same shapes) and binary_broadcast: a bias over channels, a
    (N, 1) column, and a number (kernels/elementwise.cu), elu through pointwise_map
    (kernels/activations.cu), and the fused BCE-with-logits loss (kernels/losses.cu), against
    torch's elementwise kernels."""
    cases = []
    for (rows, cols), fills in (((64, 784), False), ((65536, 1024), True)):
        (a, ta), (b, tb) = randn(rows, cols), randn(rows, cols)
        (row, t_row), (column, t_column), (number, t_number) = randn(cols), randn(rows, 1), randn()
        label, size = f"({rows}, {cols})", ta.numel() * FLOAT
        cases += [
            Case("unary_map exp", label, lambda a=a: cuda.unary("exp", a), lambda a=ta: torch.exp(a), "torch exp",
                 bytes=2 * size, fills_gpu=fills),
            Case("binary_map mul", label, lambda a=a, b=b: cuda.binary("mul", a, b), lambda a=ta, b=tb: a * b,
                 "torch mul", bytes=3 * size, fills_gpu=fills),
            Case("pointwise_map elu", label, lambda a=a: cuda.pointwise("elu", a, (1.0, 1.0, 1.0), None),
                 lambda a=ta: torch.nn.functional.elu(a), "torch elu", bytes=2 * size, fills_gpu=fills),
            Case("bce_with_logits_forward", label, lambda a=a, b=b: cuda.bce_with_logits(a, b),
                 lambda a=ta, b=tb: torch.nn.functional.binary_cross_entropy_with_logits(a, b, reduction="none"),
                 "torch BCE with logits", bytes=3 * size, fills_gpu=fills),
        ]
        for what, (other, t_other) in (("(cols,)", (row, t_row)), ("(rows, 1)", (column, t_column)),
                                       ("()", (number, t_number))):
            cases.append(Case(f"binary_broadcast add {what}", label, lambda a=a, o=other: cuda.binary("add", a, o),
                              lambda a=ta, o=t_other: a + o, "torch add", bytes=2 * size, fills_gpu=fills))
    return cases


def softmax_cases():
    cases = []
    for (rows, cols), fills in (((64, 10), False), ((65536, 1024), True)):
        x, tx = randn(rows, cols)
        label, size = f"({rows}, {cols})", tx.numel() * FLOAT
        cases += [
            Case("softmax_rows", label, lambda x=x: cuda.softmax(x, 1), lambda x=tx: torch.softmax(x, 1),
                 "torch softmax", bytes=2 * size, fills_gpu=fills),
            Case("log_softmax_rows", label, lambda x=x: cuda.log_softmax(x, 1), lambda x=tx: torch.log_softmax(x, 1),
                 "torch log_softmax", bytes=2 * size, fills_gpu=fills),
            Case("logsumexp_rows", label, lambda x=x: cuda.logsumexp(x, (1,), False), lambda x=tx: torch.logsumexp(x, 1),
                 "torch logsumexp", bytes=size, fills_gpu=fills),
        ]
    return cases


def reduction_cases():
    """max along rows with its index and gradient weights (extreme_rows; reads x, writes the
    weights), sum_dims over rows (sum_last_axis), over columns (sum_inner_axis), and a
    convolution's bias gradient, its batch-last output summed over (N, H, W) (channel_dot_partial)."""
    cases = []
    for (rows, cols), fills in (((64, 784), False), ((65536, 1024), True)):
        x, tx = randn(rows, cols)
        cases.append(Case("extreme_rows (max along axis 1)", f"({rows}, {cols})",
                          lambda x=x: cuda.extreme_along(x, 1, True), lambda x=tx: torch.max(x, 1), "torch max(x, 1)",
                          bytes=2 * tx.numel() * FLOAT, fills_gpu=fills))
        for axis, kernel in ((1, "sum_last_axis"), (0, "sum_inner_axis")):
            cases.append(Case(kernel, f"({rows}, {cols}) axis {axis}", lambda x=x, a=axis: cuda.sum_dims(x, (a,)),
                              lambda x=tx, a=axis: x.sum(a), "torch sum", bytes=tx.numel() * FLOAT, fills_gpu=fills))
    for shape, fills in (((64, 128, 7, 7), False), ((256, 128, 64, 64), True)):
        x, tx = randn(*shape)
        batch_last = cupy.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
        cases.append(Case("sum_dims (0, 2, 3), batch-last", str(shape),
                          lambda x=batch_last: cuda.sum_dims(x, (0, 2, 3)), lambda x=tx: x.sum((0, 2, 3)),
                          "torch sum", bytes=tx.numel() * FLOAT, fills_gpu=fills))
    return cases


def random_cases():
    cases = []
    for (rows, cols), fills in (((64, 10), False), ((65536, 1024), True)):
        (x, tx), (u, tu) = randn(rows, cols), uniform(rows, cols)
        label, size = f"({rows}, {cols})", tx.numel() * FLOAT
        cases += [
            Case("gumbel_noise", label, lambda u=u: cuda.gumbel_noise(u), lambda u=tu: -torch.log(-torch.log(u)),
                 "torch -log(-log u)", bytes=2 * size, fills_gpu=fills),
            Case("gumbel_softmax_rows", label, lambda x=x, u=u: cuda.gumbel_softmax(x, u, 0.5),
                 lambda x=tx, u=tu: torch.softmax((x - torch.log(-torch.log(u))) / 0.5, -1),
                 "torch softmax((x + g) / tau)", bytes=3 * size, fills_gpu=fills),
            Case("dropout_philox", label, lambda x=x: cuda.dropout_with_key(x, 0.3, 2026),
                 lambda x=tx: torch.native_dropout(x, 0.3, True), "torch native_dropout (Philox too)",
                 bytes=3 * size, fills_gpu=fills),
        ]
    return cases


def scatter_cases():
    cases = []
    for (count, width, rows), fills in (((64 * 20, 32, 1000), False), ((2 ** 20, 256, 50000), True)):
        values, tvalues = randn(count, width)
        tindices = torch.randint(0, rows, (count,), device="cuda")
        indices = cupy.asarray(tindices)
        moved = (count * width + 2 * count + rows * width) * FLOAT  # values, int64 indices, the output
        cases.append(Case("scatter_add_rows", f"{count} rows of {width} into {rows}",
                          lambda v=values, i=indices, r=rows: cuda.scatter_add_rows(v, i, r),
                          lambda v=tvalues, i=tindices, r=rows: torch.zeros(r, v.shape[1], device="cuda").index_add_(0, i, v),
                          "torch index_add_", bytes=moved, fills_gpu=fills))
        table, ttable = randn(rows, width)
        cases.append(Case("gather_rows", f"{count} rows of {width} from {rows}",
                          lambda t=table, i=indices: cuda.gather_rows(t, i), lambda t=ttable, i=tindices: t[i],
                          "torch index (embedding)", bytes=(2 * count * width + 2 * count) * FLOAT, fills_gpu=fills))
    return cases


def optimizer_cases():
    cases = []
    for size, fills in ((784 * 400, False), (64 * 2 ** 20, True)):
        (p, tp), (g, tg) = randn(size), randn(size)
        m, v, buffer = (cupy.zeros(size, dtype=cupy.float32) for _ in range(3))
        torch_param = torch.nn.Parameter(tp.clone())
        torch_param.grad = tg.clone()
        adam = torch.optim.Adam([torch_param], lr=1e-3, fused=True)
        sgd = torch.optim.SGD([torch_param], lr=1e-3, momentum=0.9, foreach=True)
        rmsprop = torch.optim.RMSprop([torch_param], lr=1e-3, foreach=True)
        label, n = f"{size} params", size * FLOAT
        cases += [
            Case("adam_update", label, lambda p=p, g=g, m=m, v=v: cuda.adam_update(
                p, g, m, v, None, step=1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, maximize=False),
                adam.step, "torch Adam(fused=True)", bytes=7 * n, fills_gpu=fills),
            Case("sgd_update", label, lambda p=p, g=g, b=buffer: cuda.sgd_update(
                p, g, b, lr=1e-3, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False),
                sgd.step, "torch SGD(foreach=True)", bytes=5 * n, fills_gpu=fills),
            Case("rmsprop_update", label, lambda p=p, g=g, s=v: cuda.rmsprop_update(
                p, g, s, None, None, lr=1e-3, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, maximize=False),
                rmsprop.step, "torch RMSprop(foreach=True)", bytes=5 * n, fills_gpu=fills),
        ]
    return cases


CASE_GROUPS = (gemm_cases, conv_cases, im2col_cases, normalisation_cases, elementwise_cases, activation_cases,
               softmax_cases, reduction_cases, random_cases, scatter_cases, optimizer_cases)


def measure(case, copy_gbs, gemm_tflops):
    ours = milliseconds(case.ours)
    if not TORCH_CUDA and "CuPy" not in case.reference_name:
        theirs = None
    else:
        theirs = milliseconds(case.reference)
    if case.flops:
        rate = case.flops / ours / 1e9
        goal = GEMM_GOAL if case.kernel == "gemm_tiled" else None
        achieved, fraction = f"{rate:.2f} TFLOP/s", rate / gemm_tflops
        ceiling = "cuBLAS"
    else:
        rate = case.bytes / ours / 1e6
        achieved, fraction, goal, ceiling = f"{rate:.0f} GB/s", rate / copy_gbs, MEMORY_GOAL, "copy"
    verdict = ("met" if fraction >= goal else "missed") if case.fills_gpu and goal is not None else ""
    reference = ["", "(PyTorch has no CUDA)", ""] if theirs is None else [
        f"{theirs:.4f}", case.reference_name, f"{ours / theirs:.2f}"]
    return [case.kernel, case.shape, f"{ours:.4f}", *reference, achieved, f"{100 * fraction:.0f}% of {ceiling}",
            verdict]


# ---- a whole DCGAN training step, scratchgen on device "cuda" against PyTorch + cuDNN

def dcgan_step(lib, nn, bce, optim):
    """bench_dcgan.py's training step with networks, batches and targets on the GPU."""
    lib.manual_seed(0)
    return bench_dcgan._training_step(lib, nn, bce, optim, device="cuda")


def dcgan_row():
    if not TORCH_CUDA:
        return ["DCGAN training step (D real + fake, G), batch 64", "", "", "", f"<= {DCGAN_GOAL:.0f}x",
                "not measured: PyTorch has no CUDA"]
    import scratchgen as sg
    import scratchgen.functional as F
    ours = dcgan_step(sg, sg.nn, F.binary_cross_entropy_with_logits, sg.optim)
    theirs = dcgan_step(torch, torch.nn, torch.nn.functional.binary_cross_entropy_with_logits, torch.optim)
    ours_ms, theirs_ms = (milliseconds(step, repeats=7, calls=10) for step in (ours, theirs))
    ratio = ours_ms / theirs_ms
    return ["DCGAN training step (D real + fake, G), batch 64", f"{ours_ms:.2f}", f"{theirs_ms:.2f}",
            f"{ratio:.2f}x", f"<= {DCGAN_GOAL:.0f}x", "met" if ratio <= DCGAN_GOAL else "missed"]


def run_gpu_tests():
    """The GPU cases of GPU_TESTS, in a subprocess of at most TEST_SECONDS: (summary line, seconds)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "not emulator and not emulated",
               *GPU_TESTS]
    start = time.perf_counter()
    try:
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TEST_SECONDS)
        lines = (result.stdout + result.stderr).strip().splitlines()
        summary = next((line for line in reversed(lines) if " passed" in line or " failed" in line or "error" in line),
                       lines[-1] if lines else "no output")
        failures = [line for line in lines if line.startswith("FAILED")][:20]
    except subprocess.TimeoutExpired:
        summary, failures = f"stopped after {TEST_SECONDS} s", []
    print(summary, *failures, sep="\n", flush=True)
    return summary, failures, time.perf_counter() - start


def case_rows(copy_gbs, gemm_tflops):
    rows = []
    for group in CASE_GROUPS:
        try:
            cases = group()
        except Exception as error:  # a group that needs PyTorch on the GPU to build its inputs
            rows.append([group.__name__, "", "not built", "", "", "", f"{error!r}"[:200], "", ""])
            continue
        for case in cases:
            try:
                rows.append(measure(case, copy_gbs, gemm_tflops))
            except Exception as error:  # one broken case is reported in its row; the others still run
                rows.append([case.kernel, case.shape, "failed", "", case.reference_name, "", f"{error!r}"[:200], "", ""])
            print(" | ".join(rows[-1]), flush=True)
        if TORCH_CUDA:
            torch.cuda.empty_cache()
        cupy.get_default_memory_pool().free_all_blocks()
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="run the GPU tests first and report them too")
    args = parser.parse_args(argv)
    tests = run_gpu_tests() if args.check else None
    if TORCH_CUDA:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.manual_seed(0)
    cupy.random.seed(0)
    name = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"].decode()
    copy_gbs, gemm_tflops = copy_bandwidth(), cublas_tflops()
    print(f"{name}: copy {copy_gbs:.0f} GB/s, cuBLAS SGEMM 4096^3 {gemm_tflops:.1f} TFLOP/s", flush=True)
    rows = case_rows(copy_gbs, gemm_tflops)
    dcgan = dcgan_row()
    print(" | ".join(dcgan), flush=True)
    header = ["kernel", "shape", "ours ms", "reference ms", "reference", "time ratio", "achieved", "of ceiling",
              "goal at GPU-filling size"]
    tested = "" if tests is None else (
        f"GPU tests (`{' '.join(GPU_TESTS)}`, cases on the GPU, {tests[2]:.0f} s): **{tests[0]}**\n\n"
        + "".join(f"- {line}\n" for line in tests[1]) + ("\n" if tests[1] else ""))
    body = (f"Device: **{name}**; CuPy {cupy.__version__}, PyTorch {torch.__version__} "
            f"({'with' if TORCH_CUDA else 'without'} CUDA), CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()}.\n\n"
            + tested +
            f"Measured ceilings (through CuPy): device-to-device copy **{copy_gbs:.0f} GB/s** (bytes read + "
            f"written), cuBLAS SGEMM 4096^3 **{gemm_tflops:.1f} TFLOP/s** (TF32 off).\n\n"
            "Times are per call, medians of CUDA-event timings around 10 back-to-back calls: host overhead hides "
            "behind long kernels, and dominates the small MNIST/DCGAN shapes, on both sides. Time ratio = ours / reference (below 1: ours is faster). "
            f"Goals at the GPU-filling sizes: memory-bound kernels >= {MEMORY_GOAL:.0%} of the copy bandwidth, "
            f"tiled SGEMM >= {GEMM_GOAL:.0%} of cuBLAS.\n\n" + harness.table(header, rows) +
            "\n\n## DCGAN training step on device \"cuda\" vs PyTorch + cuDNN\n\n"
            "benchmarks/bench_dcgan.py's 28x28 MNIST networks and step (D on a real and a fake batch, then G; "
            "BCE-with-logits; Adam(2e-4, (0.5, 0.999))), batch 64, everything on the GPU; ms per step as above "
            "(10 back-to-back steps per CUDA-event sample, median of 7).\n\n" +
            harness.table(["benchmark", "scratchgen ms", "PyTorch ms", "ratio", "goal", "verdict"], [dcgan]))
    path = harness.RESULTS / "gpu.md"
    path.write_text("# GPU kernel benchmark (benchmarks/gpu.py)\n\n" + body + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
