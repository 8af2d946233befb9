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
from ..arguments import device_backend, dtype as dtype_argument, int_tuple, integer, number
from ..hooks import RemovableHandle
from ..random import default_generator
from . import mode

float32, float64, int64, int32, bool_ = numpy.float32, numpy.float64, numpy.int64, numpy.int32, numpy.bool_


class Tensor:
    """`array` is the NumPy or CuPy array it holds (Chainer's name); `data` is, as in PyTorch, a
    Tensor sharing that array without its history."""
    __slots__ = ("array", "grad", "requires_grad", "grad_fn", "_counter", "_hooks", "__weakref__")
    __array_priority__ = 1000  # numpy_array * tensor dispatches to Tensor.__rmul__

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        if isinstance(data, Tensor):
            data = data.array
        self.array = _to_array(data, dtype, device, "tensor")
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
        t.array = array
        t.grad = None
        t.grad_fn = grad_fn
        t.requires_grad = grad_fn is not None
        t._counter = version
        t._hooks = None
        return t

    # ---- properties -------------------------------------------------------------------
    @property
    def data(self):
        """A Tensor on this one's array, outside the graph and without its version counter, as
        torch's `.data`: `param.data.normal_(0.0, 0.02)` changes the parameter in place, and
        autograd is not told (`detach()` shares the counter, so it is)."""
        return Tensor._wrap(self.array)

    @data.setter
    def data(self, value):
        """`x.data = t`: x holds t's array from now on (its shape and dtype too), as in torch."""
        if not isinstance(value, Tensor):
            raise TypeError(f"data: a Tensor's data can be set to a Tensor (torch's rule), got {type(value).__name__}")
        self.array = value.array

    @property
    def _version(self):
        """[number of in-place changes so far], shared with `detach()`ed copies and saved
        outputs of this tensor. Made on first use: most tensors are never changed in place,
        and one object fewer per op keeps the garbage collector away from the forward pass."""
        if self._counter is None:
            self._counter = [0]
        return self._counter

    shape = property(lambda self: self.array.shape)
    dtype = property(lambda self: self.array.dtype)
    ndim = property(lambda self: self.array.ndim)
    is_leaf = property(lambda self: self.grad_fn is None)
    backend = property(lambda self: backends.get(self.array))
    device = property(lambda self: _DEVICES.get(self.backend.name, self.backend.name))  # a `device`
    is_cuda = property(lambda self: self.backend.name == "cuda", doc="Whether the tensor is on the GPU (torch's name).")

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self.array.size)

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
        return self.array if isinstance(self.array, numpy.ndarray) else self.array.get()

    def __array__(self, dtype=None, copy=None):
        array = self.detach().numpy()
        return array if dtype is None else array.astype(dtype)

    def item(self):
        if self.array.size != 1:
            raise ValueError(f"item(): tensor has {self.array.size} elements, expected 1")
        return self.array.reshape(()).item()

    def tolist(self):
        return self.detach().numpy().tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"bool(): truth value of a tensor with {self.array.size} elements is "
                               "ambiguous; use .any() or .all()")
        return bool(self.item())

    def __index__(self):
        return int(self.item())

    def detach(self):
        """The same data, cut from the graph."""
        return Tensor._wrap(self.array, version=self._version)

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
    def _modify(self, op_name, update, arg="value"):
        if mode.is_grad_enabled() and self.requires_grad:
            raise RuntimeError(
                f"{op_name}: in-place operation on a tensor that requires grad "
                f"({'a leaf' if self.is_leaf else 'part of a graph'}); wrap it in sg.no_grad() "
                "or use the out-of-place op")
        try:
            update(self.array)
        except IndexError as error:  # only __setitem__ indexes
            raise IndexError(f"{op_name}: index is invalid for a tensor of shape {self.shape}: {error}") from None
        except (TypeError, ValueError) as error:  # NumPy's broadcasting or casting refused
            kind = TypeError if isinstance(error, TypeError) else ValueError
            raise kind(f"{op_name}: {arg} does not fit in place into a tensor of shape {self.shape} and "
                       f"dtype {self.dtype}: {error}") from None
        self._version[0] += 1
        return self

    def _other(self, value, op_name, arg):
        """A Tensor's or an array's data on this tensor's device (copy_ may cross devices), or
        a number."""
        value = value.array if isinstance(value, Tensor) else value
        if not (hasattr(value, "dtype") and hasattr(value, "shape")) and not isinstance(value, numbers.Number):
            raise TypeError(f"{op_name}: argument '{arg}' must be a Tensor, an array or a number, "
                            f"got {type(value).__name__}")
        if hasattr(value, "dtype") and backends.get(value) is not self.backend:
            value = self.backend.from_host(backends.get(value).to_host(value))
        return value

    def zero_(self):
        return self._modify("zero_", lambda a: a.fill(0))

    def fill_(self, value):
        value = self._other(value, "fill_", "value")
        return self._modify("fill_", lambda a: a.fill(value))

    def copy_(self, src):
        src = self._other(src, "copy_", "src")
        return self._modify("copy_", lambda a: a.__setitem__(Ellipsis, src), "src")

    def _add_scaled(self, op_name, other, alpha):
        o = self._other(other, op_name, "other")
        alpha = number(alpha, op_name, "alpha")
        return self._modify(op_name, lambda a: a.__iadd__(o if alpha == 1 else alpha * o), "other")

    def add_(self, other, alpha=1):
        return self._add_scaled("add_", other, alpha)

    def sub_(self, other, alpha=1):
        return self._add_scaled("sub_", other, -number(alpha, "sub_", "alpha"))

    def mul_(self, other):
        o = self._other(other, "mul_", "other")
        return self._modify("mul_", lambda a: a.__imul__(o), "other")

    def div_(self, other):
        o = self._other(other, "div_", "other")
        return self._modify("div_", lambda a: a.__itruediv__(o), "other")

    def clamp_(self, min=None, max=None):
        for arg, bound in (("min", min), ("max", max)):
            if bound is not None:
                number(bound, "clamp_", arg, what="a number or None")
        return self._modify("clamp_", lambda a: self.backend.xp.clip(a, min, max, out=a), "min and max")

    def normal_(self, mean=0.0, std=1.0, generator=None):
        number(mean, "normal_", "mean")
        number(std, "normal_", "std", 0)
        g = generator or default_generator
        return self._modify("normal_", lambda a: a.__setitem__(
            Ellipsis, g.normal(a.shape, a.dtype, self.device) * std + mean))

    def uniform_(self, a=0.0, b=1.0, generator=None):
        number(a, "uniform_", "a")
        number(b, "uniform_", "b")
        g = generator or default_generator
        return self._modify("uniform_", lambda x: x.__setitem__(
            Ellipsis, g.uniform(x.shape, x.dtype, self.device) * (b - a) + a))

    def __setitem__(self, index, value):
        index = index_arrays(index, self.backend.xp)
        value = self._other(value, "__setitem__", "value")
        self._modify("__setitem__", lambda a: a.__setitem__(index, value))

    # ---- torch's legacy type names (last in the class: `type` names this method from here on) --
    def type(self, dtype=None, non_blocking=False):
        """torch.Tensor.type: with no argument the legacy type name ('torch.FloatTensor',
        'torch.cuda.LongTensor'); given a dtype, this tensor in that dtype; given a legacy type,
        by its name or as a typed constructor (torch.FloatTensor under scratchgen.as_torch, which
        has `.dtype` and `.is_cuda`), this tensor in that dtype on that device. A tensor that
        already is what was asked for is returned itself, as in torch."""
        if dtype is None:
            return f"torch.{'cuda.' if self.is_cuda else ''}{LEGACY_TYPE_NAMES[self.dtype.type]}"
        if isinstance(dtype, str) and dtype.startswith("torch."):
            device, name = ("cuda", dtype[11:]) if dtype.startswith("torch.cuda.") else ("cpu", dtype[6:])
            dtypes = {type_name: dt for dt, type_name in LEGACY_TYPE_NAMES.items()}
            if name not in dtypes:
                raise ValueError(f"type: invalid type {dtype!r}; expected one of "
                                 f"{', '.join('torch.' + n for n in dtypes)} (or torch.cuda.*)")
            return self.to(device, dtypes[name])
        if hasattr(dtype, "dtype") and hasattr(dtype, "is_cuda"):  # a typed constructor
            return self.to("cuda" if dtype.is_cuda else "cpu", dtype.dtype)
        return self.to(dtype=dtype)


LEGACY_TYPE_NAMES = {numpy.float32: "FloatTensor", numpy.float64: "DoubleTensor", numpy.float16: "HalfTensor",
                     numpy.int64: "LongTensor", numpy.int32: "IntTensor", numpy.int16: "ShortTensor",
                     numpy.int8: "CharTensor", numpy.uint8: "ByteTensor", numpy.bool_: "BoolTensor"}


class device(str):
    """torch.device: 'cpu' or 'cuda' ('cuda:0' and device('cuda', 0) too: scratchgen uses one
    GPU). It is the string 'cpu' or 'cuda' itself, so it goes wherever a device name goes
    (`x.to(device)`, `sg.zeros(2, device=device)`), and has torch's `.type` and `.index`."""

    def __new__(cls, type, index=None):
        if isinstance(type, device) and index is None:
            return type
        if not isinstance(type, str):
            raise TypeError(f"device: expected a device name such as 'cpu' or 'cuda', got {type!r}")
        name, colon, number_text = type.partition(":")
        if colon:
            if index is not None or not number_text.isdigit():
                raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:0', got {type!r}")
            index = int(number_text)
        if name not in ("cpu", "cuda") or (name == "cpu" and index not in (None, 0)):
            raise ValueError(f"device: expected 'cpu' or 'cuda', got {type!r}")
        if index is not None and (isinstance(index, bool) or not isinstance(index, numbers.Integral) or index != 0):
            raise ValueError(f"device: scratchgen uses one GPU, cuda:0; got index {index!r}")
        made = super().__new__(cls, name)
        made.index = None if index is None else int(index)
        return made

    @property
    def type(self):
        return str(self)

    def __repr__(self):
        return f"device(type='{self}')" if self.index is None else f"device(type='{self}', index={self.index})"


_DEVICES = {"cpu": device("cpu"), "cuda": device("cuda")}


def index_arrays(index, xp):
    """Tensors, lists and arrays inside an index as arrays of the indexed array's module `xp`
    (integer or boolean indexing): a CPU index of a CUDA tensor is copied to the device."""
    if isinstance(index, tuple):
        return tuple(index_arrays(i, xp) for i in index)
    if isinstance(index, Tensor):
        index = index.array
    if isinstance(index, (list, numpy.ndarray)):
        return xp.asarray(index)
    if hasattr(index, "__cuda_array_interface__") and xp is numpy:
        return index.get()
    return index


def _to_array(data, dtype, device, op):
    if dtype is not None:
        dtype = dtype_argument(dtype, op)
    backend = device_backend(device, op) if device is not None else (
        backends.get(data) if not isinstance(data, (list, tuple, numbers.Number)) else
        backends.for_device("cpu"))
    xp = backend.xp
    try:
        if dtype is None and not hasattr(data, "dtype"):
            probe = numpy.asarray(data)
            dtype = float32 if probe.dtype.kind == "f" else (int64 if probe.dtype.kind in "iu" else None)
        array = xp.array(data.get() if hasattr(data, "get") and xp is numpy else data, dtype=dtype)
    except (TypeError, ValueError) as error:  # ragged lists, strings where numbers belong
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(f"{op}: data cannot be made into an array of numbers: {error}") from None
    if array.dtype.kind not in "biufc":
        raise TypeError(f"{op}: data must hold numbers or bools, got a {type(data).__name__} that makes an "
                        f"array of dtype {array.dtype}")
    return array


# ---- factories (torch names and signatures) ----------------------------------------------
def as_tensor(data, dtype=None, device=None):
    """`data` as a Tensor, sharing its memory where it can (torch.as_tensor): a Tensor as it
    is, a NumPy or CuPy array wrapped without a copy, anything else (lists, numbers) copied.
    A dtype or device other than the data's makes a converted copy."""
    if dtype is not None:
        dtype_argument(dtype, "as_tensor")
    if device is not None:
        device_backend(device, "as_tensor")
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    if isinstance(data, numpy.ndarray) or hasattr(data, "__cuda_array_interface__"):
        wrapped = Tensor._wrap(data)
        if (dtype is None or numpy.dtype(dtype) == data.dtype) and device in (None, wrapped.device):
            return wrapped
        return wrapped.to(device=device, dtype=dtype)
    return Tensor._wrap(_to_array(data, dtype, device, "as_tensor"))


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new leaf tensor holding a copy of `data`. Python floats become float32, ints int64;
    a NumPy array keeps its dtype."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def _shape(size, op):
    """The sizes given as ints or as one tuple/list of ints, checked."""
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    return int_tuple(size, len(size), op, "size", 0)


def _place(device, dtype, op, default=float32):
    """The backend of `device` (default cpu) and the dtype (default `default`), checked."""
    return device_backend(device or "cpu", op), default if dtype is None else dtype_argument(dtype, op)


def _filled(fill, size, dtype, requires_grad, device, op):
    backend, dtype = _place(device, dtype, op)
    shape = _shape(size, op)
    number(fill, op, "fill_value")
    return Tensor._wrap(backend.xp.full(shape, fill, dtype=dtype)).requires_grad_(requires_grad)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _filled(0, size, dtype, requires_grad, device, "zeros")


def ones(*size, dtype=None, requires_grad=False, device=None):
    return _filled(1, size, dtype, requires_grad, device, "ones")


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    return _filled(fill_value, (size,), dtype, requires_grad, device, "full")


def empty(*size, dtype=None, requires_grad=False, device=None):
    return _filled(0, size, dtype, requires_grad, device, "empty")


def _like(t, op):
    """The tensor whose shape, dtype and device a *_like factory copies."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: argument 't' must be a Tensor, got {type(t).__name__}")
    return t


def zeros_like(t, dtype=None, requires_grad=False):
    t = _like(t, "zeros_like")
    return _filled(0, t.shape, dtype or t.dtype, requires_grad, t.device, "zeros_like")


def ones_like(t, dtype=None, requires_grad=False):
    t = _like(t, "ones_like")
    return _filled(1, t.shape, dtype or t.dtype, requires_grad, t.device, "ones_like")


def full_like(t, fill_value, dtype=None, requires_grad=False):
    t = _like(t, "full_like")
    return _filled(fill_value, t.shape, dtype or t.dtype, requires_grad, t.device, "full_like")


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    backend, dtype = _place(device, dtype, "eye")
    n = integer(n, "eye", "n", 0)
    m = None if m is None else integer(m, "eye", "m", 0)
    return Tensor._wrap(backend.xp.eye(n, m, dtype=dtype)).requires_grad_(requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    start, end = (0, start) if end is None else (start, end)
    for arg, value in (("start", start), ("end", end), ("step", step)):
        number(value, "arange", arg)
    if step == 0:
        raise ValueError("arange: step must be non-zero, got 0")
    floats = any(isinstance(v, float) for v in (start, end, step))
    backend, dtype = _place(device, dtype, "arange", float32 if floats else int64)
    return Tensor._wrap(backend.xp.arange(start, end, step, dtype=dtype)).requires_grad_(requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    backend, dtype = _place(device, dtype, "linspace")
    number(start, "linspace", "start")
    number(end, "linspace", "end")
    steps = integer(steps, "linspace", "steps", 0)
    return Tensor._wrap(backend.xp.linspace(start, end, steps, dtype=dtype)).requires_grad_(requires_grad)


def _random(kind, size, dtype, requires_grad, device, generator, op):
    g = generator or default_generator
    _, dtype = _place(device, dtype, op)
    data = getattr(g, kind)(_shape(size, op), dtype, device or "cpu")
    return Tensor._wrap(data).requires_grad_(requires_grad)


def randn(*size, dtype=None, requires_grad=False, device=None, generator=None):
    """Standard normal samples from `generator` (default: the global one, see manual_seed)."""
    return _random("normal", size, dtype, requires_grad, device, generator, "randn")


def rand(*size, dtype=None, requires_grad=False, device=None, generator=None):
    """Uniform samples on [0, 1)."""
    return _random("uniform", size, dtype, requires_grad, device, generator, "rand")


def randn_like(t, dtype=None, generator=None):
    t = _like(t, "randn_like")
    return _random("normal", t.shape, dtype or t.dtype, False, t.device, generator, "randn_like")


def rand_like(t, dtype=None, generator=None):
    t = _like(t, "rand_like")
    return _random("uniform", t.shape, dtype or t.dtype, False, t.device, generator, "rand_like")


def randint(low, high, size, dtype=None, device=None, generator=None):
    g = generator or default_generator
    low, high = integer(low, "randint", "low"), integer(high, "randint", "high")
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint: size must be a tuple of ints, got {size!r}")
    _, dtype = _place(device, dtype, "randint", int64)
    return Tensor._wrap(g.integers(low, high, _shape(size, "randint"), dtype, device or "cpu"))


def randperm(n, device=None, generator=None):
    g = generator or default_generator
    n = integer(n, "randperm", "n", 0)
    device_backend(device or "cpu", "randperm")
    return Tensor._wrap(g.permutation(n, device or "cpu"))
