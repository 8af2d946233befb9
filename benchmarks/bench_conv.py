"""Convolution, transposed convolution and batch norm against PyTorch's CPU kernels, at the
shapes of the DCGAN for 28x28 MNIST (batch 64), float32, forward + backward.

    python benchmarks/bench_conv.py [--repeats 10] [--rounds 16] [--threads 2]

Both libraries run back to back in one process with the same thread count (this machine's
speed drifts by up to 2x from minute to minute, see docs/PERF.md), and a 1024^3 SGEMM
check is printed before and after the table: distrust a run whose check reads below about
170 GFLOP/s. A step is a forward pass and a backward pass to every input (seeded with a
fixed random gradient). The 64-channel convolutions run twice: with (N, C, H, W) arrays,
and with our input and gradient stored as our own layers pass them, batch-last, which spares
us two transposing copies (PyTorch keeps its (N, C, H, W) arrays in both). The libraries
take turns in blocks of `repeats` steps (more where that many of ours take under 100 ms, as
batch norm's do), `rounds` times; each time is the median over all of a library's steps,
and the ratio the median over the rounds of the two neighbouring blocks' ratio
(harness.timed_pair).
Prints a markdown table: op, shape, ours ms, torch ms, ratio, floor ms, floor ratio.
"""
import argparse
import os


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="calls per timed block")
    parser.add_argument("--rounds", type=int, default=16, help="timed blocks per library")
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args()


ARGS = _parse()
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))  # before NumPy loads OpenBLAS

import scratchgen as sg  # noqa: E402  (before NumPy: its process settings set OPENBLAS_THREAD_TIMEOUT)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from scratchgen.backends import numpy as numpy_backend  # noqa: E402
from scratchgen.ops import normalization  # noqa: E402
from scratchgen.ops.conv import conv2d, conv_transpose2d  # noqa: E402
from scratchgen.ops.normalization import batch_norm  # noqa: E402

# (op, shape label, our function, torch's function, input shape, weight shape)
CASES = [
    ("conv2d", "64x1x28x28 -> 64, k4 s2 p1", conv2d, torch.nn.functional.conv2d, (64, 1, 28, 28), (64, 1, 4, 4)),
    ("conv2d", "64x64x14x14 -> 128, k4 s2 p1", conv2d, torch.nn.functional.conv2d, (64, 64, 14, 14), (128, 64, 4, 4)),
    ("conv_transpose2d", "64x128x7x7 -> 64, k4 s2 p1", conv_transpose2d, torch.nn.functional.conv_transpose2d,
     (64, 128, 7, 7), (128, 64, 4, 4)),
    ("conv_transpose2d", "64x64x14x14 -> 1, k4 s2 p1", conv_transpose2d, torch.nn.functional.conv_transpose2d,
     (64, 64, 14, 14), (64, 1, 4, 4)),
]


def _batch_last(array):
    """The same values stored in (C, H, W, N) order, as our convolutions leave their outputs."""
    return np.ascontiguousarray(array.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


def conv_steps(ours, theirs, x_shape, w_shape, batch_last=False):
    """With batch_last our input and output gradient are stored as our layers pass them
    (PyTorch's stay in its own (N, C, H, W) order): the step without the two transposing
    copies that (N, C, H, W) arrays cost us."""
    rng = np.random.default_rng(0)
    x, w = (rng.standard_normal(s).astype(np.float32) for s in (x_shape, w_shape))
    x_torch, w_torch = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out_shape = theirs(x_torch, w_torch, stride=2, padding=1).shape
    g = rng.standard_normal(tuple(out_shape)).astype(np.float32)
    g_torch = torch.tensor(g)
    if batch_last:
        x, g = _batch_last(x), _batch_last(g)
    x_ours, w_ours, g_ours = sg.tensor(x, requires_grad=True), sg.tensor(w, requires_grad=True), sg.tensor(g)

    def step_ours():
        sg.grad(ours(x_ours, w_ours, stride=2, padding=1), [x_ours, w_ours], [g_ours])

    def step_torch():
        torch.autograd.grad(theirs(x_torch, w_torch, stride=2, padding=1), [x_torch, w_torch], [g_torch])
    return step_ours, step_torch


def batch_norm_steps(shape, conv_layout):
    """Training-mode batch norm with affine parameters and running statistics. With
    conv_layout the input is stored as our convolutions leave it ((C, H, W, N) memory order)."""
    rng = np.random.default_rng(0)
    x, g = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))
    c = shape[1]
    if conv_layout:
        x = _batch_last(x)
    x_ours, g_ours = sg.tensor(x, requires_grad=True), sg.tensor(g)
    w_ours, b_ours = sg.ones(c, requires_grad=True), sg.zeros(c, requires_grad=True)
    stats_ours = [sg.zeros(c), sg.ones(c)]
    x_torch, g_torch = torch.tensor(x, requires_grad=True), torch.tensor(g)
    w_torch, b_torch = torch.ones(c, requires_grad=True), torch.zeros(c, requires_grad=True)
    stats_torch = [torch.zeros(c), torch.ones(c)]

    def step_ours():
        y = batch_norm(x_ours, *stats_ours, w_ours, b_ours, training=True)
        sg.grad(y, [x_ours, w_ours, b_ours], [g_ours])

    def step_torch():
        y = torch.nn.functional.batch_norm(x_torch, *stats_torch, w_torch, b_torch, training=True)
        torch.autograd.grad(y, [x_torch, w_torch, b_torch], [g_torch])
    return step_ours, step_torch


# batch norm's NumPy passes: moments, the forward's affine map, the backward's sums and affine map
NORM_PASSES = [(numpy_backend, "moments"), (normalization.Standardize, "forward"),
               (normalization.Sums, "forward"), (normalization.Affine, "forward")]


def main():
    import harness
    with harness.set_threads(ARGS.threads):
        load = harness.wait_for_idle()
        check_before = harness.gemm_gflops()
        cases = [(op, label, *conv_steps(ours, theirs, x, w)) for op, label, ours, theirs, x, w in CASES]
        cases += [(op, f"{label}, input and gradient as our layers pass them",
                   *conv_steps(ours, theirs, x, w, batch_last=True)) for op, label, ours, theirs, x, w in CASES[1:3]]
        cases.append(("batch_norm", "64x128x7x7, training", *batch_norm_steps((64, 128, 7, 7), conv_layout=False)))
        cases.append(("batch_norm", "64x128x7x7, training, input as conv2d leaves it",
                      *batch_norm_steps((64, 128, 7, 7), conv_layout=True)))
        rows = []
        for op, label, step_ours, step_torch in cases:
            ours_ms, torch_ms, ratio = harness.timed_pair(step_ours, step_torch, ARGS.repeats, ARGS.rounds)
            floor = (harness.ms_inside(step_ours, NORM_PASSES) if op == "batch_norm"
                     else harness.gemm_ms_inside(step_ours))
            rows.append((op, label, f"{ours_ms:.2f}", f"{torch_ms:.2f}", f"{ratio:.2f}x", f"{floor.share * ours_ms:.2f}",
                         f"{floor.share * ratio:.2f}x", "ok" if ratio <= 1.5 else "over 1.5x"))
        check_after = harness.gemm_gflops()
    body = "\n".join([
        f"Machine: {harness.machine_line(ARGS.threads)}; load average {load:.2f} at start.  ",
        f"GEMM check (1024^3 SGEMM, NumPy): {check_before:.0f} GFLOP/s before, {check_after:.0f} after "
        "(distrust below about 170).  ",
        f"Command: `python benchmarks/bench_conv.py --threads {ARGS.threads} --repeats {ARGS.repeats} "
        f"--rounds {ARGS.rounds}` (median ms of forward + backward to every input, float32, batch 64; "
        "ratio: median over the rounds of neighbouring blocks' ratios).  ",
        "Floor: the ms of our step spent in the work it cannot skip (its share of our step, measured "
        "separately, times our ms), and the ratio that work alone would give (the share times the "
        "ratio: what we would reach if everything else cost nothing). For the convolutions, "
        "NumPy's matrix products (OpenBLAS), beside which im2col, col2im, layout copies and Python "
        "cost nothing; for batch norm, the NumPy array passes (moments, the affine map, the "
        "backward's sums and affine map: 11 passes over the input where PyTorch's fused kernels "
        "make about 4), beside which the Python around them costs nothing.",
        "",
        harness.table(["op", "shape", "scratchgen ms", "PyTorch ms", "ratio", "floor ms", "floor ratio",
                       "target <= 1.5x"], rows),
    ])
    print(body)
    harness.write_section("conv", "Convolution and batch norm (issue 3)", body)


if __name__ == "__main__":
    main()
