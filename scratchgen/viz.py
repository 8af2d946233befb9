"""Pictures drawn from the code: the recorded graph behind a tensor, and the package's layers.

    from scratchgen import viz
    loss = F.mse_loss(model(x), y)
    print(viz.graph_text(loss, params=model))      # the graph as an indented tree
    viz.draw(loss, "graph.svg", params=model)      # the same as a Graphviz picture (.svg, .png, .pdf)
    viz.draw_layers("docs/images/layers.svg")      # scratchgen/layers.py and the imports between packages

    python -m scratchgen.viz layers docs/images/layers.svg

The graph is read as the engine left it, without running or freeing anything. It has three
kinds of entries, as the engine sees them (scratchgen/autograd/function.py):

  - a Function node (`MatMulBackward`): the shapes of its inputs -> of its output, and the
    shapes of what its forward saved for backward ("freed" once a backward has dropped them);
  - a leaf (a tensor made with requires_grad, such as a parameter), where a gradient ends up:
    its name in `params` (a Module or a dict name -> Tensor, as torchviz's make_dot(params=...)),
    else "leaf", and its shape;
  - a constant: an input that needs no gradient (data, targets, numbers), only its shape.

The pictures need Graphviz's `dot` program (apt-get install graphviz); this module writes the
DOT text itself. Without `dot`, draw() and draw_layers() write the text form next to the path
(.txt) and say so.
"""
import collections
import pathlib
import shutil
import subprocess
import sys

import numpy

from . import Tensor, layers
from .autograd.function import Node


# ---- reading the recorded graph ----------------------------------------------------------
def _leaf_names(params):
    """{id(tensor): name} from a Module or a dict name -> Tensor."""
    if params is None:
        return {}
    named = params.named_parameters() if hasattr(params, "named_parameters") else params.items()
    return {id(tensor): name for name, tensor in named}


def _is_array(value):
    return isinstance(value, (Tensor, numpy.ndarray)) or hasattr(value, "__cuda_array_interface__")


def saved_text(node):
    """What a node's forward kept for backward, e.g. "(64, 784), (784, 400)" for a matmul,
    "output (64, 400)" for tanh, "mask (64, 400)" for an array it stored on the ctx."""
    if node.freed:
        return "freed"
    inputs, output = node.saved_shapes()
    parts = [str(tuple(shape)) for shape in inputs]
    if output is not None:
        parts.append(f"output {tuple(output)}")
    for name, value in vars(node).items():  # what forward stored on the ctx (ctx.mask = ...)
        for item in value if isinstance(value, (tuple, list)) else (value,):
            if _is_array(item):
                parts.append(f"{name} {tuple(item.shape)}")
    return ", ".join(parts)


def _shapes_text(shapes):
    return ", ".join(str(tuple(s)) for s in shapes)


def function_nodes(tensor):
    """The Function nodes behind `tensor`, each once, in the order a walk from the output meets
    them; the shape of each one's output ({id(node): shape}); how many inputs each one feeds."""
    if tensor.grad_fn is None:
        return [], {}, collections.Counter()
    order, output_shape, uses = [], {id(tensor.grad_fn): tuple(tensor.shape)}, collections.Counter()
    stack, seen = [tensor.grad_fn], {id(tensor.grad_fn)}
    while stack:  # a loop, not recursion: a graph may be 100,000 ops deep
        node = stack.pop()
        order.append(node)
        for child, shape in zip(node.next, node.input_shapes):
            if isinstance(child, Node):
                uses[id(child)] += 1
                output_shape[id(child)] = tuple(shape)
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append(child)
    return order, output_shape, uses


def _node_title(node, output_shape):
    return f"{node.name}Backward  {_shapes_text(node.input_shapes)} -> {output_shape}"


def _leaf_text(leaf, names):
    return f"{names.get(id(leaf), 'leaf')} {tuple(leaf.shape)}"


def graph_text(tensor, params=None, indent="  "):
    """The graph behind `tensor` as an indented tree, from the output back to the leaves.
    A node that feeds several inputs is printed once, with a label [k], and named by that label
    where it comes again."""
    names = _leaf_names(params)
    if tensor.grad_fn is None:
        kind = _leaf_text(tensor, names) if tensor.requires_grad else f"constant {tuple(tensor.shape)}"
        return f"{kind} (no graph recorded)\n"
    _, output_shape, uses = function_nodes(tensor)
    labels, lines = {}, []
    stack = [(0, tensor.grad_fn)]
    while stack:
        depth, item = stack.pop()
        pad = indent * depth
        if isinstance(item, tuple):  # ("constant", shape): an input without gradient
            lines.append(f"{pad}constant {item[1]}")
        elif not isinstance(item, Node):
            lines.append(pad + _leaf_text(item, names))
        elif id(item) in labels:
            lines.append(f"{pad}{labels[id(item)]} {item.name}Backward (see above)")
        else:
            if uses[id(item)] > 1:  # it comes again further down: give it a label to refer to
                labels[id(item)] = f"[{len(labels) + 1}]"
            head = f"{labels[id(item)]} " if id(item) in labels else ""
            saved = saved_text(item)
            lines.append(pad + head + _node_title(item, output_shape[id(item)])
                         + (f"  saved: {saved}" if saved else ""))
            children = [child if child is not None else ("constant", tuple(shape))
                        for child, shape in zip(item.next, item.input_shapes)]
            stack.extend((depth + 1, child) for child in reversed(children))
    return "\n".join(lines) + "\n"


# ---- DOT text and Graphviz ---------------------------------------------------------------
def _quoted(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def graph_dot(tensor, params=None):
    """The graph behind `tensor` as Graphviz DOT text: one box per Function node (the root in
    green), one blue box per leaf, arrows in the direction the data flows."""
    names = _leaf_names(params)
    order, output_shape, _ = function_nodes(tensor)
    ids = {id(node): f"n{i}" for i, node in enumerate(order)}
    lines = ["digraph graph_of_a_tensor {",
             '  node [shape=box, style="filled,rounded", fillcolor=lightgrey, fontname=Helvetica, fontsize=10];']
    leaves = {id(tensor): tensor} if tensor.grad_fn is None and tensor.requires_grad else {}
    for node in order:
        saved = saved_text(node)
        label = _node_title(node, output_shape[id(node)]).replace("  ", "\n")  # name, then shapes
        label += f"\nsaved: {saved}" if saved else ""
        color = ", fillcolor=darkolivegreen1" if node is tensor.grad_fn else ""
        lines.append(f"  {ids[id(node)]} [label={_quoted(label)}{color}];")
        leaves.update((id(c), c) for c in node.next if c is not None and not isinstance(c, Node))
    for i, leaf in enumerate(leaves.values()):
        ids[id(leaf)] = f"leaf{i}"
        label = _leaf_text(leaf, names).replace(" ", "\n", 1)  # the name above the shape
        lines.append(f"  leaf{i} [label={_quoted(label)}, fillcolor=lightblue];")
    for node in order:
        for child in node.next:
            if child is not None:
                lines.append(f"  {ids[id(child)]} -> {ids[id(node)]};")
    return "\n".join(lines + ["}"]) + "\n"


def render(dot_source, path, text):
    """Write `dot_source` drawn by Graphviz to `path` (its suffix picks the format: .svg, .png,
    .pdf); without the `dot` program, write `text` to the path with .txt instead and say so.
    Returns the path written."""
    path = pathlib.Path(path)
    dot = shutil.which("dot")
    if dot is None:
        path = path.with_suffix(".txt")
        path.write_text(text, encoding="utf-8")
        print(f"viz: Graphviz's `dot` was not found (apt-get install graphviz); wrote {path} as text instead",
              file=sys.stderr)
        return path
    subprocess.run([dot, f"-T{path.suffix.lstrip('.') or 'svg'}", "-o", str(path)],
                   input=dot_source, text=True, check=True)
    return path


def draw(tensor, path, params=None):
    """Draw the graph behind `tensor` to `path` (.svg, .png), or to .txt without Graphviz."""
    return render(graph_dot(tensor, params), path, graph_text(tensor, params))


# ---- the package's layers -----------------------------------------------------------------
LAYER_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
LAYERS_LEGEND = ("An arrow: the package at its tail imports the one at its head (a name taken from the front "
                 "file counts where it is defined;\ndashed: only such names), coloured by the importing layer. "
                 "Drawn from scratchgen/layers.py and the imports in the code by scratchgen/viz.py.")


def _short(package):
    return "scratchgen (front file)" if package == "scratchgen" else package.replace("scratchgen.", "")


def layers_text(imports=None):
    """scratchgen/layers.py's table, top layer first, each package with what it imports
    ("*": only through names of the front file)."""
    pairs = layers.package_imports(imports)
    lines = []
    for index, (title, packages) in enumerate(layers.LAYERS):
        lines.append(f"{index + 1}. {title}")
        for package in packages:
            used = [_short(b) + ("" if direct else "*") for (a, b), direct in pairs.items() if a == package]
            lines.append(f"     {_short(package)}" + (f"  imports {', '.join(used)}" if used else ""))
    return "\n".join(lines) + "\n"


def layers_dot(imports=None):
    """DOT text of the layers: one box per layer with its packages inside, top layer first, and
    one arrow for each package that imports another."""
    lines = ["digraph layers {",
             "  newrank=true; nodesep=0.25; ranksep=0.45; fontname=Helvetica; fontsize=11;",
             f"  label={_quoted(LAYERS_LEGEND)};",
             '  node [shape=box, style="filled,rounded", fillcolor=white, fontname=Helvetica, fontsize=11];',
             "  edge [arrowsize=0.6];"]
    for index, (title, packages) in enumerate(layers.LAYERS):
        lines += [f"  subgraph cluster_{index} {{",
                  f"    label={_quoted(f'{index + 1}. {title}')}; labeljust=l; fontsize=12; rank=same;",
                  '    style="filled,rounded"; fillcolor=aliceblue; color=steelblue;']
        lines += [f"    {_quoted(p)} [label={_quoted(_short(p))}];" for p in packages]
        lines.append("  }")
    for (a, b), direct in layers.package_imports(imports).items():
        color = LAYER_COLORS[layers.layer_of(a) % len(LAYER_COLORS)]
        lines.append(f"  {_quoted(a)} -> {_quoted(b)} [color={_quoted(color)}{'' if direct else ', style=dashed'}];")
    return "\n".join(lines + ["}"]) + "\n"


def draw_layers(path, imports=None):
    """Draw the layers (scratchgen/layers.py) and the imports between packages to `path`."""
    return render(layers_dot(imports), path, layers_text(imports))


def main(argv=None):
    """python -m scratchgen.viz layers PATH [PATH ...]: draw the layers to each path."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2 or argv[0] != "layers":
        print("usage: python -m scratchgen.viz layers PATH.svg [PATH.png ...]", file=sys.stderr)
        return 2
    for path in argv[1:]:
        print(draw_layers(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
