"""Tensor's operators and methods, each bound to its op in scratchgen.functional."""
import operator

from .. import functional as F
from ..autograd.tensor import Tensor


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
    return Tensor._wrap(like.backend.xp.asarray(result))


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
    "__invert__": lambda self: Tensor._wrap(~self.data),
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
    "clone": F.clone,
    "expand_as": lambda self, other: F.expand(self, other.shape),
    "any": lambda self, dim=None: _bool_tensor(self, self.data.any(axis=dim)),
    "all": lambda self, dim=None: _bool_tensor(self, self.data.all(axis=dim)),
}

for _name, _fn in METHODS.items():
    setattr(Tensor, _name, _fn)
