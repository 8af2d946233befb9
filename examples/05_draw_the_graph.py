"""Look at the graph the engine records: print it as a tree with scratchgen.viz.graph_text,
draw it with Graphviz (scratchgen.viz.draw), watch backward free what forward saved, and see
the larger graph that a differentiable gradient (create_graph=True) adds.

    python examples/05_draw_the_graph.py                   # under 2 s
    python examples/05_draw_the_graph.py --out graphs/     # where the pictures go

The pictures need Graphviz's `dot` program (apt-get install graphviz); without it, draw()
writes the same tree as text (.txt) and says so. docs/ARCHITECTURE.md shows the graph of a
DCGAN discriminator's loss drawn the same way.
"""
import argparse
import pathlib
import tempfile

import scratchgen as sg
import scratchgen.functional as F
from scratchgen import nn, viz

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default=None, help="folder for the pictures (default: a new temporary folder)")
args = parser.parse_args()
out = pathlib.Path(args.out or tempfile.mkdtemp(prefix="scratchgen-graphs-"))
out.mkdir(parents=True, exist_ok=True)

# ---- 1. a small classifier's loss ----------------------------------------------------------
sg.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
x = sg.randn(5, 4)                  # a batch of 5 inputs: constants, no gradient needed
labels = sg.tensor([0, 1, 1, 0, 1])
loss = F.cross_entropy(model(x), labels)

# The graph runs from the loss back to the leaves. Each line: the op's Function, the shapes of
# its inputs -> its output, and what its forward saved for backward. Leaves (the parameters)
# are named through params=model; inputs that need no gradient are "constant".
print(viz.graph_text(loss, params=model))
nodes, _, _ = viz.function_nodes(loss)
print(f"the loss's graph: {len(nodes)} function nodes, over the 4 parameters of the model")
print("drawn to", viz.draw(loss, out / "loss.svg", params=model))

# ---- 2. backward frees what forward saved -------------------------------------------------
loss.backward()
after = viz.graph_text(loss, params=model)
print(f"after backward: {after.count('saved: freed')} nodes show 'saved: freed' "
      "(the arrays were dropped once used; backward(retain_graph=True) keeps them)")
print(f"the first weight's gradient: shape {model[0].weight.grad.shape}")

# ---- 3. the graph of a gradient ------------------------------------------------------------
# With create_graph=True the backward pass is itself recorded: the gradient is a tensor with a
# graph of its own, made of the ops each Function's backward is written in. This is what
# WGAN-GP's gradient penalty and gradgradcheck differentiate (examples 04 and 01).
loss = F.cross_entropy(model(x), labels)
(g,) = sg.grad(loss, [model[0].weight], create_graph=True)
gradient_norm = g.square().sum()
nodes_of_gradient, _, _ = viz.function_nodes(gradient_norm)
print(f"the graph of ||d loss / d weight||^2: {len(nodes_of_gradient)} function nodes "
      f"(the loss alone: {len(nodes)})")
print("drawn to", viz.draw(gradient_norm, out / "gradient.svg", params=model))
(second,) = sg.grad(gradient_norm, [model[0].weight])   # differentiate the gradient again
print(f"the gradient of that, w.r.t. the same weight: shape {second.shape}, norm {second.norm().item():.4f}")
