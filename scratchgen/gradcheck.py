"""Finite-difference checks of gradients (first order) and of gradients of gradients.

    sg.gradcheck(lambda x, w: F.linear(x, w).tanh(), (x, w))      # float64 inputs
    sg.gradgradcheck(lambda x: x.exp().sum(), (x,))

Both build the full Jacobian, analytically (one backward pass per output element) and by
central differences (two forward passes per input element), so keep the inputs small. On a
mismatch they raise GradcheckError naming the input, the element, and both values.
"""
import numpy

from .autograd import engine
from .autograd.tensor import Tensor, as_tensor


class GradcheckError(AssertionError):
    pass


def _outputs(result):
    result = result if isinstance(result, (tuple, list)) else (result,)
    return [r for r in result if isinstance(r, Tensor) and r.dtype.kind == "f"]


def _checked_inputs(inputs, caller):
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            continue
        if x.dtype != numpy.float64:
            raise GradcheckError(f"{caller}: inputs[{i}] has dtype {x.dtype}; finite differences "
                                 "need float64 inputs")
        bad = ~numpy.isfinite(x.detach().numpy())
        if bad.any():
            where = tuple(int(k) for k in numpy.argwhere(bad)[0])
            raise GradcheckError(f"{caller}: inputs[{i}] holds a non-finite value "
                                 f"{x.detach().numpy()[where]} at index {where}")
    return inputs


def _analytic(fn, inputs, wrt):
    """J[i] has shape (total output elements, inputs[i].size), by one backward per row."""
    outputs = _outputs(fn(*inputs))
    sizes = [o.array.size for o in outputs]
    jac = [numpy.zeros((sum(sizes), inputs[i].array.size)) for i in wrt]
    row = 0
    for k, out in enumerate(outputs):
        for j in range(out.array.size):
            seeds = [as_tensor(numpy.zeros(o.shape, dtype=o.dtype)) for o in outputs]
            seeds[k].array.reshape(-1)[j] = 1
            live = [(o, s) for o, s in zip(outputs, seeds) if o.requires_grad]
            if live:
                grads = engine.grad([o for o, _ in live], [inputs[i] for i in wrt],
                                    [s for _, s in live], retain_graph=True, allow_unused=True)
                for col, g in enumerate(grads):
                    if g is not None:
                        jac[col][row] = g.detach().numpy().reshape(-1)
            row += 1
    return jac


def _numeric(fn, inputs, wrt, eps):
    def flat_output():  # with recording on: gradgradcheck's fn itself calls grad()
        outs = _outputs(fn(*inputs))
        return numpy.concatenate([o.detach().numpy().reshape(-1) for o in outs]) if outs else numpy.zeros(0)

    jac = []
    outputs = flat_output().size
    for i in wrt:
        x = inputs[i].array.reshape(-1)
        columns = []
        for j in range(x.size):
            original = x[j]
            x[j] = original + eps
            plus = flat_output()
            x[j] = original - eps
            minus = flat_output()
            x[j] = original
            columns.append((plus - minus) / (2 * eps))
        jac.append(numpy.stack(columns, axis=1) if columns else numpy.zeros((outputs, 0)))
    return jac


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, _caller="gradcheck"):
    """Compare the analytic gradient of `fn` with central finite differences, for every input
    that requires grad. Returns True, or raises GradcheckError (or returns False)."""
    inputs = _checked_inputs(inputs, _caller)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise GradcheckError(f"{_caller}: no input requires grad, nothing to check")
    analytic = _analytic(fn, inputs, wrt)
    numeric = _numeric(fn, inputs, wrt, eps)
    for i, a, n in zip(wrt, analytic, numeric):
        if a.shape != n.shape:
            raise GradcheckError(f"{_caller}: inputs[{i}]: analytic Jacobian shape {a.shape} but "
                                 f"numeric {n.shape} (does the output depend on grad mode?)")
        bad = ~numpy.isclose(a, n, rtol=rtol, atol=atol)
        if bad.any():
            row, col = (int(v) for v in numpy.argwhere(bad)[0])
            element = numpy.unravel_index(col, inputs[i].shape)
            message = (f"{_caller}: Jacobian mismatch for inputs[{i}] (shape {inputs[i].shape}) at "
                       f"element {tuple(int(e) for e in element)}, output element {row}: "
                       f"analytic {float(a[row, col])!r}, numeric {float(n[row, col])!r} "
                       f"({int(bad.sum())} of {bad.size} entries differ; atol={atol}, rtol={rtol})")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, seed=0):
    """gradcheck of the map (inputs, v) -> v^T J(inputs): checks that the backward pass, run
    with create_graph=True, is itself differentiated correctly (double backward)."""
    inputs = _checked_inputs(inputs, "gradgradcheck")
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outputs = [o for o in _outputs(fn(*inputs)) if o.requires_grad]
    if grad_outputs is None:
        rng = numpy.random.default_rng(seed)
        grad_outputs = [Tensor(rng.standard_normal(o.shape), dtype=numpy.float64, requires_grad=True)
                        for o in outputs]
    n = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:n], args[n:]
        outs = [o for o in _outputs(fn(*xs)) if o.requires_grad]
        grads = engine.grad(outs, [xs[i] for i in wrt], list(vs), create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, tuple(inputs) + tuple(grad_outputs), eps, atol, rtol,
                     raise_exception, _caller="gradgradcheck")
