"""Autograd from scratch: a tiny two-layer network written with bare tensors, its gradient
computed three ways (by the engine, by hand with the chain rule, by finite differences),
second-order gradients, and a Hessian-vector product.

    python examples/01_autograd_from_scratch.py            # about a second
    python examples/01_autograd_from_scratch.py --steps 50

What to read alongside: scratchgen/autograd/engine.py (backward, grad) and
scratchgen/ops/arithmetic.py (MatMul's backward, written with Tensor ops).
"""
import argparse
import os

import numpy

import scratchgen as sg

# ---- the knob the training examples share: how long to train ---------------------------
# The tests run every example with SCRATCHGEN_EXAMPLE_STEPS set to a small number.
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=int(os.environ.get("SCRATCHGEN_EXAMPLE_STEPS", 2000)),
                    help="gradient-descent steps on the toy regression (default 2000)")
args = parser.parse_args()

sg.manual_seed(0)  # every random draw below (sg.randn, ...) is repeatable

# ---- 1. the data: y = sin(3x) on [-1, 1] -------------------------------------------------
# float64 everywhere in this file: finite differences (step 3) need the precision.
x = sg.linspace(-1, 1, 64, dtype=sg.float64).reshape(64, 1)
y = sg.tensor(numpy.sin(3 * x.numpy()))   # no sin op in scratchgen: the target is data

# ---- 2. the model: h = tanh(x W1 + b1), prediction = h W2 + b2 ---------------------------
# Leaf tensors with requires_grad=True are what gradients are computed for.
hidden = 16
W1 = sg.randn(1, hidden, dtype=sg.float64, requires_grad=True)
b1 = sg.zeros(hidden, dtype=sg.float64, requires_grad=True)
W2 = (0.1 * sg.randn(hidden, 1, dtype=sg.float64)).requires_grad_()
b2 = sg.zeros(1, dtype=sg.float64, requires_grad=True)
params = [W1, b1, W2, b2]


def loss_fn(W1, b1, W2, b2):
    """Mean squared error of the network. Every operation here is recorded in a graph
    (each result remembers the op that made it: its `grad_fn`)."""
    h = (x @ W1 + b1).tanh()
    prediction = h @ W2 + b2
    return (prediction - y).square().mean()


# ---- 3. one gradient, three ways --------------------------------------------------------
loss = loss_fn(*params)
print(f"loss {loss.item():.6f}, made by {loss.grad_fn!r}: the last op of the recorded graph")
loss.backward()  # reverse mode: walk the graph from the loss back to the leaves
engine_grads = [p.grad.numpy().copy() for p in params]

# (a) by hand: the chain rule written out in NumPy, what backward() does for us.
X, Y = x.numpy(), y.numpy()
w1, c1, w2, c2 = (p.detach().numpy() for p in params)
H = numpy.tanh(X @ w1 + c1)
P = H @ w2 + c2
dP = 2 * (P - Y) / P.size           # d mean((P - Y)^2) / dP
dW2 = H.T @ dP                      # prediction = H W2 + b2
db2 = dP.sum(0)
dH = dP @ w2.T
dA = dH * (1 - H ** 2)              # tanh'(a) = 1 - tanh(a)^2
dW1 = X.T @ dA
db1 = dA.sum(0)
by_hand = [dW1, db1, dW2, db2]
error = max(numpy.abs(e - h).max() for e, h in zip(engine_grads, by_hand))
print(f"engine vs chain rule by hand: max |difference| = {error:.1e}")
assert error < 1e-12

# (b) by finite differences: sg.gradcheck nudges every input element by +-eps and compares
# (f(x + eps) - f(x - eps)) / 2 eps with the engine's Jacobian. It raises on a mismatch.
sg.gradcheck(loss_fn, params)
print("gradcheck: passed (engine gradient = central finite differences)")

# (c) second order: sg.gradgradcheck checks that backward itself is differentiated right.
# It works for every op because each op's backward is written with differentiable ops.
sg.gradgradcheck(loss_fn, params)
print("gradgradcheck: passed (the gradient of the gradient = finite differences)")

# ---- 4. a Hessian-vector product without forming the Hessian -----------------------------
# H v = d/dW1 (grad_W1 . v): take the gradient with create_graph=True (so that it is itself a
# recorded, differentiable tensor), dot it with v, and differentiate again.
v = sg.randn(1, hidden, dtype=sg.float64)
(g,) = sg.grad(loss_fn(*params), [W1], create_graph=True)
(hv,) = sg.grad((g * v).sum(), [W1])
# The same by finite differences of the gradient: (g(W1 + eps v) - g(W1 - eps v)) / 2 eps.
eps = 1e-6
def grad_at(w):
    (gw,) = sg.grad(loss_fn(w, b1, W2, b2), [w])
    return gw.numpy()
w_plus = (W1.detach() + eps * v).requires_grad_()
w_minus = (W1.detach() - eps * v).requires_grad_()
hv_fd = (grad_at(w_plus) - grad_at(w_minus)) / (2 * eps)
error = numpy.abs(hv.numpy() - hv_fd).max()
print(f"Hessian-vector product vs finite differences: max |difference| = {error:.1e}")
assert error < 1e-6

# ---- 5. training: plain gradient descent with the gradients from backward() ---------------
first = loss_fn(*params).item()
lr = 0.1
for step in range(1, args.steps + 1):
    for p in params:
        p.grad = None                # gradients accumulate: clear them before each backward
    loss = loss_fn(*params)
    loss.backward()
    with sg.no_grad():               # the update itself is not part of any graph
        for p in params:
            p.sub_(lr * p.grad)      # in place: p -= lr * grad
    if step % max(1, args.steps // 5) == 0:
        print(f"step {step:4d}  loss {loss.item():.6f}")
last = loss_fn(*params).item()
print(f"loss fell: {first:.4f} -> {last:.4f}" if last < first else f"loss did not fall: {first:.4f} -> {last:.4f}")
