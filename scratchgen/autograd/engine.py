"""Reverse-mode traversal: backward() and grad().

The graph is a DAG of Nodes (see function.py). We order it with an iterative depth-first
search (no recursion, so a 100,000-op chain is fine), then walk it from the outputs back,
calling each Function's backward with the summed gradient of its output. Gradients of
broadcast inputs are reduced to the input's shape here, in one place, by `sum_to`.
"""
import contextlib
import gc
import warnings

from . import mode
from .broadcast import sum_to
from .function import Node, _check_finite
from .tensor import Tensor, ones_like


def _topological_order(roots):
    """Nodes reachable from `roots`, each before every node it depends on."""
    order, visited = [], set()
    stack = [(node, False) for node in roots]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        stack.extend((n, False) for n in node.next if type(n) is Node and id(n) not in visited)
    order.reverse()
    return order


def _leads_to(order, targets):
    """ids of the nodes from which some target is reachable (to prune unneeded work)."""
    needed = set()
    for node in reversed(order):
        if id(node) in targets or any(n is not None and (id(n) in targets or id(n) in needed)
                                      for n in node.next):
            needed.add(id(node))
    return needed


@contextlib.contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off while gradients flow: the pass makes many small
    objects but no reference cycles (the graph has none), and each automatic collection would
    walk every live object of the process."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _apply_hooks(hooks, grad):
    """Tensor.register_hook: each hook sees the gradient and may return a replacement."""
    for hook in hooks:
        replaced = hook(grad)
        grad = grad if replaced is None else replaced
    return grad


def _root_gradients(outputs, grad_outputs, caller):
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"{caller}: got {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(f"{caller}: output {i} does not require grad and has no grad_fn "
                               "(was it computed under no_grad, or from tensors without requires_grad?)")
        if g is None:
            if out.array.size != 1:
                raise RuntimeError(f"{caller}: output {i} has shape {out.shape}; a gradient can be "
                                   "created implicitly only for a scalar output, pass grad_outputs")
            g = ones_like(out)
        elif not isinstance(g, Tensor):
            try:
                g = Tensor._wrap(out.backend.xp.asarray(g, dtype=out.dtype))
            except (TypeError, ValueError):
                raise TypeError(f"{caller}: grad_outputs[{i}] (the gradient of output {i}) must be a Tensor "
                                f"or an array of numbers, got {type(g).__name__} {g!r:.60}") from None
        if g.shape != out.shape:
            raise ValueError(f"{caller}: grad_outputs[{i}] has shape {g.shape} but output {i} "
                             f"has shape {out.shape}")
        grads.append(g)
    return grads


def _run(outputs, grad_outputs, retain_graph, create_graph, targets, caller):
    """Propagate gradients; return {id(node or leaf): gradient} for every leaf reached and
    for every node in `targets` (None: no capture, all leaves)."""
    grads = {}
    keep = {}  # id -> node/leaf, so ids stay valid
    for out, g in zip(outputs, _root_gradients(outputs, grad_outputs, caller)):
        key = out.grad_fn or out
        keep[id(key)] = key
        grads[id(key)] = grads[id(key)] + g if id(key) in grads else g
    order = _topological_order([o.grad_fn for o in outputs if o.grad_fn is not None])
    needed = None if targets is None else _leads_to(order, targets)
    captured = {}
    anomaly = mode.is_anomaly_enabled()
    with mode.set_grad_enabled(create_graph), _collector_paused():
        for node in order:
            grad = grads.pop(id(node), None)
            if grad is None:
                continue
            if node.freed:
                raise RuntimeError(
                    f"{caller}: trying to backward through the graph a second time (at "
                    f"{node.name}); its saved tensors were freed after the first backward. "
                    "Pass retain_graph=True to the first backward() or grad() call.")
            if node.hooks:
                grad = _apply_hooks(node.hooks, grad)
            if targets is not None and id(node) in targets:
                captured[id(node)] = grad
            if needed is not None and id(node) not in needed:
                continue
            if needed is None:
                node.needs_input_grad = tuple(n is not None for n in node.next)
            else:  # grad(): only the inputs that lead to a target
                node.needs_input_grad = tuple(n is not None and (id(n) in targets or id(n) in needed)
                                              for n in node.next)
            input_grads = _call_backward(node, grad, anomaly)
            wanted = node.needs_input_grad
            for nxt, shape, need, g in zip(node.next, node.input_shapes, wanted, input_grads):
                if not need or g is None:
                    continue
                if anomaly:
                    _check_finite(g.array, f"{node.name} backward")
                if g.shape != shape:
                    g = sum_to(g, shape)
                keep[id(nxt)] = nxt
                grads[id(nxt)] = grads[id(nxt)] + g if id(nxt) in grads else g
            if not retain_graph:
                node.release()
    leaves = {k: g for k, g in grads.items() if type(keep[k]) is not Node}
    leaves.update(captured)
    return leaves, keep


def _call_backward(node, grad, anomaly):
    if not anomaly:
        return node.function.backward(node, grad)
    try:
        return node.function.backward(node, grad)
    except FloatingPointError as error:  # an op inside this backward made the NaN/inf
        raise FloatingPointError(f"{error}, inside {node.name} backward") from None


def backward(outputs, grad_outputs=None, retain_graph=None, create_graph=False):
    """Accumulate d(outputs)/d(leaf) into every leaf's `.grad` (like torch.autograd.backward)."""
    outputs = [outputs] if not isinstance(outputs, (list, tuple)) else list(outputs)
    retain_graph = create_graph if retain_graph is None else retain_graph
    leaf_grads, keep = _run(outputs, grad_outputs, retain_graph, create_graph, None, "backward")
    with mode.set_grad_enabled(create_graph):
        for key, grad in leaf_grads.items():
            _accumulate_grad(keep[key], grad, create_graph)


def _accumulate_grad(leaf, grad, create_graph):
    """leaf.grad += grad, after the leaf's hooks, in the leaf's dtype; a first-order gradient
    is stored as an array of its own (never a view of another tensor's data)."""
    if leaf._hooks:
        grad = _apply_hooks(leaf._hooks, grad)
    if grad.dtype != leaf.dtype:
        grad = grad.to(dtype=leaf.dtype)  # e.g. float32 leaf used in a float64 expression
    if not create_graph:
        grad = Tensor._wrap(leaf.backend.owned(grad.array))
    leaf.grad = grad if leaf.grad is None else leaf.grad + grad


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=False):
    """Return d(outputs)/d(inputs) without touching `.grad` (like torch.autograd.grad).
    With create_graph=True the result is itself differentiable (double backward).
    `only_inputs` is accepted and ignored, as torch has done since 0.4 (GAN code still passes
    only_inputs=True): only the inputs' gradients are ever computed, no leaf's .grad changes."""
    if not only_inputs:
        warnings.warn("grad: only_inputs is deprecated and ignored (as in torch): only the gradients of "
                      "`inputs` are returned and no .grad is changed", UserWarning, stacklevel=2)
    outputs = [outputs] if not isinstance(outputs, (list, tuple)) else list(outputs)
    single = not isinstance(inputs, (list, tuple))
    inputs = [inputs] if single else list(inputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: inputs[{i}] does not require grad")
    retain_graph = create_graph if retain_graph is None else retain_graph
    keys = [t.grad_fn or t for t in inputs]
    found, _ = _run(outputs, grad_outputs, retain_graph, create_graph, {id(k) for k in keys}, "grad")
    result = []
    for i, key in enumerate(keys):
        g = found.get(id(key))
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: inputs[{i}] (shape {inputs[i].shape}) was not used to "
                               "compute the outputs; pass allow_unused=True to get None for it")
        if g is not None and type(key) is not Node and key._hooks:
            g = _apply_hooks(key._hooks, g)
        if g is not None and g.dtype != inputs[i].dtype:
            g = g.to(dtype=inputs[i].dtype)  # promotion made it wider; report it in the input's dtype
        result.append(g if g is None or create_graph else g.detach())
    return tuple(result)
