"""A differentiable op of your own: a `Function` with a forward on arrays and a backward
written with Tensor ops, checked by gradcheck (first order) and gradgradcheck (second order),
then used as the activation of a small network.

    python examples/02_custom_function.py                  # under a second
    python examples/02_custom_function.py --steps 100

Every op of scratchgen is written this way: compare with scratchgen/ops/unary.py (Exp, Tanh,
Sigmoid) and the base class in scratchgen/autograd/function.py.
"""
import argparse
import os

import numpy

import scratchgen as sg
import scratchgen.functional as F
from scratchgen import nn, optim

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=int(os.environ.get("SCRATCHGEN_EXAMPLE_STEPS", 300)),
                    help="Adam steps of the network that uses the new op (default 300)")
args = parser.parse_args()


# ---- 1. the op: SiLU (a.k.a. swish), silu(x) = x * sigmoid(x) ------------------------------
class SiLU(sg.Function):
    @staticmethod
    def forward(ctx, x):
        # `x` is a NumPy array, not a Tensor: forward is plain array code and records nothing.
        # (This op is written for the CPU; the library's own ops pick NumPy or CuPy with
        # `backends.get(x).xp`, so that the same forward runs on a GPU.)
        ctx.save_inputs(0)                  # keep input 0 for backward
        return x / (1 + numpy.exp(-x))

    @staticmethod
    def backward(ctx, grad):
        # Tensors in, Tensors out, one gradient per input of forward.
        # d silu / dx = s + x s (1 - s), with s = sigmoid(x).
        # Written with Tensor ops (sg.sigmoid, *, +), so with create_graph=True this backward is
        # itself recorded, and the op gets second derivatives for free.
        (x,) = ctx.saved_inputs
        s = sg.sigmoid(x)
        return (grad * (s + x * s * (1 - s)),)


def silu(x):
    return SiLU.apply(x)   # apply: run forward, and record a node in the graph if x needs grad


# ---- 2. check it, as the library's tests check every op -----------------------------------
x = sg.randn(4, 5, dtype=sg.float64, requires_grad=True)   # gradcheck wants float64
sg.gradcheck(silu, (x,))
print("gradcheck SiLU: passed")
sg.gradgradcheck(silu, (x,))
print("gradgradcheck SiLU: passed")
y = silu(x).sum()
print(f"silu(x).sum() is recorded as {y.grad_fn!r} <- {y.grad_fn.next[0]!r}: the new op is a node of the graph")


# A wrong backward (the sigmoid alone, a common slip) and what gradcheck says about it:
class WrongSiLU(SiLU):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_inputs
        return (grad * sg.sigmoid(x),)


try:
    sg.gradcheck(WrongSiLU.apply, (x,))
    print("gradcheck WrongSiLU: passed (it should not have!)")
except sg.GradcheckError as error:
    print("gradcheck WrongSiLU: caught the bug:", error)


# ---- 3. use it: an nn.Module around the op, in a 1-32-32-1 network fitting |x| ---------------
class SiLUModule(nn.Module):
    def forward(self, x):
        return silu(x)


sg.manual_seed(0)
net = nn.Sequential(nn.Linear(1, 32), SiLUModule(), nn.Linear(32, 32), SiLUModule(), nn.Linear(32, 1))
opt = optim.Adam(net.parameters(), lr=1e-2)
inputs = sg.linspace(-2, 2, 128).reshape(128, 1)
targets = inputs.abs()
first = None
for step in range(1, args.steps + 1):
    loss = F.mse_loss(net(inputs), targets)
    opt.zero_grad()
    loss.backward()
    opt.step()
    first = loss.item() if first is None else first
    if step % max(1, args.steps // 4) == 0:
        print(f"step {step:4d}  loss {loss.item():.5f}")
last = F.mse_loss(net(inputs), targets).item()
print(f"loss fell: {first:.4f} -> {last:.5f}" if last < first else f"loss did not fall: {first:.4f} -> {last:.5f}")
