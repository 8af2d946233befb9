"""Tensor: an array, and where its gradient comes from.

A leaf tensor (made by the user, `grad_fn is None`) collects its gradient in `.grad`; a
tensor computed by an op carries the Node (`grad_fn`) that computed it. This file holds the
data, the autograd bookkeeping, in-place updates and the factories; every operator and
method that computes something (`x * y`, `x.sum()`, `x.to()`, `x.backward()`) is bound to
its op of `scratchgen.functional` in scratchgen/tensor_methods.py.
"""
import numbers

import numpy

from .. import backends
from ..hooks import RemovableHandle
from ..random import default_generator
from . import mode

float32, float64, int64, int32, bool_ = numpy.float32, numpy.float64, numpy.int64, numpy.int32, numpy.bool_


class Tensor:
    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "_counter", "_hooks", "__weakref__")
    __array_priority__ = 1000  # numpy_array * tensor dispatches to Tensor.__rmul__

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = _to_array(data, dtype, device)
        self.grad = None
        self.grad_fn = None
        self._counter = None  # the version counter, made on first use (see _version)
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array, grad_fn=None, version=None):
        """Fast constructor for op outputs (no conversion, no checks)."""
        t = cls.__new__(cls)
        t.data = array
        t.grad = None
        t.grad_fn = grad_fn
        t.requires_grad = grad_fn is not None
        t._counter = version
        t._hooks = None
        return t

    # ---- properties -------------------------------------------------------------------
    @property
    def _version(self):
        """[number of in-place changes so far], shared with `detach()`ed copies and saved
        outputs of this tensor. Made on first use: most tensors are never changed in place,
        and one object fewer per op keeps the garbage collector away from the forward pass."""
        if self._counter is None:
            self._counter = [0]
        return self._counter

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    is_leaf = property(lambda self: self.grad_fn is None)
    backend = property(lambda self: backends.get(self.data))
    device = property(lambda self: self.backend.name)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self.data.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # ---- conversion -------------------------------------------------------------------
    def numpy(self):
        if self.requires_grad and mode.is_grad_enabled():
            raise RuntimeError("numpy(): tensor requires grad; call .detach().numpy()")
        return self.data if isinstance(self.data, numpy.ndarray) else self.data.get()

    def __array__(self, dtype=None, copy=None):
        array = self.detach().numpy()
        return array if dtype is None else array.astype(dtype)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): tensor has {self.data.size} elements, expected 1")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.detach().numpy().tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"bool(): truth value of a tensor with {self.data.size} elements is "
                               "ambiguous; use .any() or .all()")
        return bool(self.item())

    def __index__(self):
        return int(self.item())

    def detach(self):
        """The same data, cut from the graph."""
        return Tensor._wrap(self.data, version=self._version)

    def __repr__(self):
        body = numpy.array2string(numpy.asarray(self.__array__()), separator=", ", prefix="tensor(")
        extra = "" if self.dtype == float32 else f", dtype={self.dtype}"
        extra += "" if self.device == "cpu" else f", device='{self.device}'"
        if self.grad_fn is not None:
            extra += f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    __hash__ = object.__hash__

    # ---- autograd ---------------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        if not self.is_leaf:
            raise RuntimeError("requires_grad_: only leaf tensors can change requires_grad; "
                               "use .detach().requires_grad_()")
        if requires_grad and self.dtype.kind not in "fc":
            raise RuntimeError(f"requires_grad_: only floating-point tensors can require grad, "
                               f"this one has dtype {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a non-None return
        replaces the gradient. Returns a handle with `.remove()`."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: tensor does not require grad")
        if self.grad_fn is None:
            self._hooks = hooks = self._hooks or []
        else:
            self.grad_fn.hooks = hooks = self.grad_fn.hooks or []
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    # ---- in-place (only outside the graph: optimizers, init, clipping) ----------------
    def _modify(self, op_name, update):
        if mode.is_grad_enabled() and self.requires_grad:
            raise RuntimeError(
                f"{op_name}: in-place operation on a tensor that requires grad "
                f"({'a leaf' if self.is_leaf else 'part of a graph'}); wrap it in sg.no_grad() "
                "or use the out-of-place op")
        update(self.data)
        self._version[0] += 1
        return self

    def _other(self, value):
        """A Tensor's or an array's data on this tensor's device (copy_ may cross devices)."""
        value = value.data if isinstance(value, Tensor) else value
        if hasattr(value, "dtype") and backends.get(value) is not self.backend:
            value = self.backend.from_host(backends.get(value).to_host(value))
        return value

    def zero_(self):
        return self._modify("zero_", lambda a: a.fill(0))

    def fill_(self, value):
        return self._modify("fill_", lambda a: a.fill(value))

    def copy_(self, src):
        return self._modify("copy_", lambda a: a.__setitem__(Ellipsis, self._other(src)))

    def add_(self, other, alpha=1):
        o = self._other(other)
        return self._modify("add_", lambda a: a.__iadd__(o if alpha == 1 else alpha * o))

    def sub_(self, other, alpha=1):
        return self.add_(other, alpha=-alpha)

    def mul_(self, other):
        o = self._other(other)
        return self._modify("mul_", lambda a: a.__imul__(o))

    def div_(self, other):
        o = self._other(other)
        return self._modify("div_", lambda a: a.__itruediv__(o))

    def clamp_(self, min=None, max=None):
        return self._modify("clamp_", lambda a: self.backend.xp.clip(a, min, max, out=a))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        g = generator or default_generator
        return self._modify("normal_", lambda a: a.__setitem__(
            Ellipsis, g.normal(a.shape, a.dtype, self.device) * std + mean))

    def uniform_(self, a=0.0, b=1.0, generator=None):
        g = generator or default_generator
        return self._modify("uniform_", lambda x: x.__setitem__(
            Ellipsis, g.uniform(x.shape, x.dtype, self.device) * (b - a) + a))

    def __setitem__(self, index, value):
        index = index_arrays(index, self.backend.xp)
        self._modify("__setitem__", lambda a: a.__setitem__(index, self._other(value)))


def index_arrays(index, xp):
    """Tensors, lists and arrays inside an index as arrays of the indexed array's module `xp`
    (integer or boolean indexing): a CPU index of a CUDA tensor is copied to the device."""
    if isinstance(index, tuple):
        return tuple(index_arrays(i, xp) for i in index)
    if isinstance(index, Tensor):
        index = index.data
    if isinstance(index, (list, numpy.ndarray)):
        return xp.asarray(index)
    if hasattr(index, "__cuda_array_interface__") and xp is numpy:
        return index.get()
    return index


def _to_array(data, dtype, device):
    backend = backends.for_device(device) if device is not None else (
        backends.get(data) if not isinstance(data, (list, tuple, numbers.Number)) else
        backends.for_device("cpu"))
    xp = backend.xp
    if dtype is None and not hasattr(data, "dtype"):
        probe = numpy.asarray(data)
        dtype = float32 if probe.dtype.kind == "f" else (int64 if probe.dtype.kind in "iu" else None)
    return xp.array(data.get() if hasattr(data, "get") and xp is numpy else data, dtype=dtype)


# ---- factories (torch names and signatures) ----------------------------------------------
def as_tensor(data, dtype=None, device=None):
    """`data` as a Tensor, sharing its memory where it can (torch.as_tensor): a Tensor as it
    is, a NumPy or CuPy array wrapped without a copy, anything else (lists, numbers) copied.
    A dtype or device other than the data's makes a converted copy."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    if isinstance(data, numpy.ndarray) or hasattr(data, "__cuda_array_interface__"):
        wrapped = Tensor._wrap(data)
        if (dtype is None or numpy.dtype(dtype) == data.dtype) and device in (None, wrapped.device):
            return wrapped
        return wrapped.to(device=device, dtype=dtype)
    return Tensor(data, dtype=dtype, device=device)


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new leaf tensor holding a copy of `data`. Python floats become float32, ints int64;
    a NumPy array keeps its dtype."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def _shape(size):
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


def _filled(fill, size, dtype, requires_grad, device):
    xp = backends.for_device(device or "cpu").xp
    return Tensor._wrap(xp.full(_shape(size), fill, dtype=dtype or float32)).requires_grad_(requires_grad)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _filled(0, size, dtype, requires_grad, device)


def ones(*size, dtype=None, requires_grad=False, device=None):
    return _filled(1, size, dtype, requires_grad, device)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    return _filled(fill_value, (size,), dtype, requires_grad, device)


def empty(*size, dtype=None, requires_grad=False, device=None):
    return zeros(*size, dtype=dtype, requires_grad=requires_grad, device=device)


def zeros_like(t, dtype=None, requires_grad=False):
    return zeros(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)


def ones_like(t, dtype=None, requires_grad=False):
    return ones(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    xp = backends.for_device(device or "cpu").xp
    return Tensor._wrap(xp.eye(n, m, dtype=dtype or float32)).requires_grad_(requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    xp = backends.for_device(device or "cpu").xp
    start, end = (0, start) if end is None else (start, end)
    if dtype is None:
        floats = any(isinstance(v, float) for v in (start, end, step))
        dtype = float32 if floats else int64
    return Tensor._wrap(xp.arange(start, end, step, dtype=dtype)).requires_grad_(requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    xp = backends.for_device(device or "cpu").xp
    return Tensor._wrap(xp.linspace(start, end, steps, dtype=dtype or float32)).requires_grad_(requires_grad)


def _random(kind, size, dtype, requires_grad, device, generator):
    g = generator or default_generator
    data = getattr(g, kind)(_shape(size), dtype or float32, device or "cpu")
    return Tensor._wrap(data).requires_grad_(requires_grad)


def randn(*size, dtype=None, requires_grad=False, device=None, generator=None):
    """Standard normal samples from `generator` (default: the global one, see manual_seed)."""
    return _random("normal", size, dtype, requires_grad, device, generator)


def rand(*size, dtype=None, requires_grad=False, device=None, generator=None):
    """Uniform samples on [0, 1)."""
    return _random("uniform", size, dtype, requires_grad, device, generator)


def randn_like(t, dtype=None, generator=None):
    return randn(*t.shape, dtype=dtype or t.dtype, device=t.device, generator=generator)


def rand_like(t, dtype=None, generator=None):
    return rand(*t.shape, dtype=dtype or t.dtype, device=t.device, generator=generator)


def randint(low, high, size, dtype=None, device=None, generator=None):
    g = generator or default_generator
    return Tensor._wrap(g.integers(low, high, tuple(size), dtype or int64, device or "cpu"))


def randperm(n, device=None, generator=None):
    g = generator or default_generator
    return Tensor._wrap(g.permutation(n, device or "cpu"))
