"""Tensor's operators and methods, each bound to its op in scratchgen.functional, so that
`x * y` and `F.mul(x, y)` are the same op. Tensor itself (autograd/tensor.py) knows no op:
`bind()`, called once by scratchgen/__init__.py, attaches this table to it."""
import operator

from . import functional as F
from .autograd.engine import backward
from .autograd.tensor import Tensor, as_tensor, float32, float64, int64


def _reflected(op):
    return lambda self, other: op(other, self)


def _compare(op):
    """Comparisons give bool tensors outside the graph."""
    def method(self, other):
        other = other.data if isinstance(other, Tensor) else other
        return _bool_tensor(self, op(self.data, other))
    return method


def _logical(op):
    def method(self, other):
        return _bool_tensor(self, op(self.data, other.data if isinstance(other, Tensor) else other))
    return method


def _bool_tensor(like, result):
    """NumPy gives 0-d results as scalars (numpy.bool_); a Tensor holds an array."""
    return as_tensor(like.backend.xp.asarray(result))


def _backward(self, gradient=None, retain_graph=None, create_graph=False):
    """Accumulate d(self)/d(leaf) into every leaf's .grad (torch.Tensor.backward)."""
    backward([self], None if gradient is None else [gradient], retain_graph, create_graph)


def _to(self, device=None, dtype=None):
    """`to("cuda")`, `to(sg.float64)`, or both; differentiable."""
    if device is not None and not isinstance(device, str):
        device, dtype = None, device
    return F.to(self, device=device, dtype=dtype)


def _max_or_min(fn):
    def method(self, dim=None, keepdim=False):
        return fn(self, dim, keepdim)
    return method


METHODS = {
    "__add__": F.add, "__radd__": _reflected(F.add),
    "__sub__": F.sub, "__rsub__": _reflected(F.sub),
    "__mul__": F.mul, "__rmul__": _reflected(F.mul),
    "__truediv__": F.div, "__rtruediv__": _reflected(F.div),
    "__pow__": F.pow, "__rpow__": _reflected(F.pow),
    "__matmul__": F.matmul, "__rmatmul__": _reflected(F.matmul),
    "__neg__": F.neg, "__getitem__": F.getitem,
    "__lt__": _compare(operator.lt), "__le__": _compare(operator.le),
    "__gt__": _compare(operator.gt), "__ge__": _compare(operator.ge),
    "__eq__": _compare(operator.eq), "__ne__": _compare(operator.ne),
    "__and__": _logical(operator.and_), "__or__": _logical(operator.or_),
    "__xor__": _logical(operator.xor),
    "__invert__": lambda self: as_tensor(~self.data),
    "add": F.add, "sub": F.sub, "mul": F.mul, "div": F.div, "neg": F.neg, "pow": F.pow,
    "matmul": F.matmul, "exp": F.exp, "log": F.log, "log1p": F.log1p, "sqrt": F.sqrt,
    "abs": F.abs, "tanh": F.tanh, "sigmoid": F.sigmoid, "relu": F.relu, "square": F.square,
    "clamp": F.clamp, "clip": F.clamp, "maximum": F.maximum, "minimum": F.minimum,
    "sum": F.sum, "mean": F.mean, "var": F.var, "std": F.std,
    "norm": lambda self, p=2, dim=None, keepdim=False: F.vector_norm(self, p, dim, keepdim),
    "max": _max_or_min(F.max), "min": _max_or_min(F.min), "argmax": F.argmax, "argmin": F.argmin,
    "logsumexp": F.logsumexp, "softmax": F.softmax, "log_softmax": F.log_softmax,
    "reshape": F.reshape, "view": F.view, "flatten": F.flatten, "unflatten": F.unflatten,
    "permute": F.permute, "transpose": F.transpose, "t": F.t, "expand": F.expand,
    "squeeze": F.squeeze, "unsqueeze": F.unsqueeze, "split": F.split, "chunk": F.chunk,
    "isfinite": F.isfinite, "isnan": F.isnan, "isinf": F.isinf,
    "clone": F.clone, "to": _to, "backward": _backward,
    "float": lambda self: F.to(self, dtype=float32), "double": lambda self: F.to(self, dtype=float64),
    "long": lambda self: F.to(self, dtype=int64),
    "cpu": lambda self: F.to(self, "cpu"), "cuda": lambda self: F.to(self, "cuda"),
    "T": property(lambda self: self.permute(*reversed(range(self.ndim)))),
    "expand_as": lambda self, other: F.expand(self, other.shape),
    "any": lambda self, dim=None: _bool_tensor(self, self.data.any(axis=dim)),
    "all": lambda self, dim=None: _bool_tensor(self, self.data.all(axis=dim)),
}

def bind():
    """Attach every entry of METHODS to Tensor."""
    for name, method in METHODS.items():
        setattr(Tensor, name, method)
