"""Tensor's operators and methods, each bound to its op in scratchgen.functional, so that
`x * y` and `F.mul(x, y)` are the same op. Tensor itself (autograd/tensor.py) knows no op:
`bind()`, called once by scratchgen/__init__.py, attaches this table to it."""
import operator

import numpy

from . import functional as F
from .autograd.engine import backward
from .autograd.tensor import Tensor, as_tensor, float32, float64, int64
from .ops._util import check_tensor


def _reflected(op):
    return lambda self, other: op(other, self)


def _elementwise_test(op, name, operands):
    """Comparisons (and &, |, ^ of bool or integer tensors) give bool tensors outside the graph."""
    def method(self, other):
        value = other.array if isinstance(other, Tensor) else other
        try:
            if getattr(value, "dtype", None) is None and numpy.asarray(value).dtype.kind not in "biuf":
                raise TypeError  # a string, or a list of them: NumPy would compare them as unequal
            return _bool_tensor(self, op(self.array, value))
        except (TypeError, ValueError):  # NumPy's refusal, said at the API boundary
            raise TypeError(f"{name}: argument 'other' must be {operands} that broadcasts with shape "
                            f"{self.shape} (dtype {self.dtype}), got {type(other).__name__} {other!r:.60}") from None
    method.__name__ = name
    return method


def _compare(op, name):
    return _elementwise_test(op, name, "a Tensor, a number or an array of numbers")


def _logical(op, name):
    return _elementwise_test(op, name, "a bool or integer Tensor or array")


def _invert(self):
    if self.dtype.kind not in "biu":
        raise TypeError(f"__invert__: ~ needs a bool or integer tensor (self), got dtype {self.dtype}")
    return as_tensor(~self.array)


def _expand_as(self, other):
    check_tensor(other, "expand_as", "other")
    try:
        return F.expand(self, other.shape)
    except ValueError:
        raise ValueError(f"expand_as: a tensor of shape {self.shape} cannot be expanded to other's shape "
                         f"{other.shape}") from None


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


def _view_as(self, other):
    """self viewed with other's shape (torch.Tensor.view_as: `pred.eq(target.view_as(pred))`)."""
    check_tensor(other, "view_as", "other")
    try:
        return F.view(self, other.shape)
    except ValueError:
        raise ValueError(f"view_as: a tensor of shape {self.shape} ({self.numel()} elements) cannot be viewed with "
                         f"other's shape {other.shape}") from None


METHODS = {
    "__add__": F.add, "__radd__": _reflected(F.add),
    "__sub__": F.sub, "__rsub__": _reflected(F.sub),
    "__mul__": F.mul, "__rmul__": _reflected(F.mul),
    "__truediv__": F.div, "__rtruediv__": _reflected(F.div),
    "__pow__": F.pow, "__rpow__": _reflected(F.pow),
    "__matmul__": F.matmul, "__rmatmul__": _reflected(F.matmul),
    "__neg__": F.neg, "__getitem__": F.getitem,
    "__lt__": _compare(operator.lt, "__lt__"), "__le__": _compare(operator.le, "__le__"),
    "__gt__": _compare(operator.gt, "__gt__"), "__ge__": _compare(operator.ge, "__ge__"),
    "__eq__": _compare(operator.eq, "__eq__"), "__ne__": _compare(operator.ne, "__ne__"),
    "__and__": _logical(operator.and_, "__and__"), "__or__": _logical(operator.or_, "__or__"),
    "__xor__": _logical(operator.xor, "__xor__"),
    "__invert__": _invert,
    "add": F.add, "sub": F.sub, "mul": F.mul, "div": F.div, "neg": F.neg, "pow": F.pow,
    "matmul": F.matmul, "exp": F.exp, "log": F.log, "log1p": F.log1p, "sqrt": F.sqrt,
    "abs": F.abs, "tanh": F.tanh, "sigmoid": F.sigmoid, "relu": F.relu, "square": F.square,
    "clamp": F.clamp, "clip": F.clamp, "maximum": F.maximum, "minimum": F.minimum,
    "sum": F.sum, "mean": F.mean, "var": F.var, "std": F.std,
    "norm": F.norm, "max": F.max, "min": F.min, "argmax": F.argmax, "argmin": F.argmin,
    "amax": F.amax, "amin": F.amin, "prod": F.prod, "cumsum": F.cumsum, "logcumsumexp": F.logcumsumexp,
    "logaddexp": F.logaddexp, "outer": F.outer, "bmm": F.bmm, "baddbmm": F.baddbmm, "addmm": F.addmm,
    "det": F.det, "slogdet": F.slogdet, "logdet": F.logdet, "inverse": F.inverse, "cholesky": F.cholesky,
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
    "expand_as": _expand_as, "any": F.any, "all": F.all,
    "sin": F.sin, "cos": F.cos, "rsqrt": F.rsqrt, "reciprocal": F.reciprocal, "expm1": F.expm1,
    "erf": F.erf, "lgamma": F.lgamma, "digamma": F.digamma, "sign": F.sign, "floor": F.floor, "round": F.round,
    "clamp_min": F.clamp_min, "clamp_max": F.clamp_max, "prelu": F.prelu,
    "gather": F.gather, "scatter_add": F.scatter_add, "index_select": F.index_select,
    "masked_fill": F.masked_fill, "sort": F.sort, "topk": F.topk, "tril": F.tril, "triu": F.triu,
    "flip": F.flip, "roll": F.roll, "repeat": F.repeat, "tile": F.tile,
    "eq": _compare(operator.eq, "eq"), "ne": _compare(operator.ne, "ne"), "view_as": _view_as,
}

def bind():
    """Attach every entry of METHODS to Tensor."""
    for name, method in METHODS.items():
        setattr(Tensor, name, method)
