"""Run a PyTorch script on scratchgen, unedited:

    python -m scratchgen.as_torch dcgan.py --steps 100     (or: scratchgen run-torch dcgan.py --steps 100)

While the script runs, `import torch` gives the namespace built here, and so do torch.nn,
torch.nn.functional, torch.optim, torch.optim.lr_scheduler, torch.utils.data, torch.autograd,
torch.nn.init, torch.nn.utils, torch.nn.parallel, torch.cuda, torch.backends.cudnn and
torch.accelerator. Each is a thin module object over scratchgen's own module of that name
(torch.nn over scratchgen.nn, torch.nn.functional over scratchgen.functional, ...): `torch.randn`,
`nn.Conv2d`, `optim.Adam` *are* scratchgen's, so a debugger steps from the tutorial's
`loss.backward()` into scratchgen/autograd/engine.py and each op's backward in scratchgen/ops/.
Nothing in scratchgen is changed; the namespaces live in sys.modules for the run only.

How a name is found, e.g. `torch.X`: first in this file's table for torch (`_torch_names`:
torch's other names for scratchgen things, `torch.float` for float32, `torch.from_numpy`; the
ops of scratchgen.functional that torch also has at its top level with the same arguments,
TOP_LEVEL_OPS, such as `torch.flatten`; torch's legacy `Variable`, `FloatTensor` and the
`torch.Tensor(data)` constructor, which makes float32; the device queries), then in
scratchgen's front file (`scratchgen.X`). `torch.nn.X` is looked up in scratchgen.nn, and so on.
A name found nowhere raises NotInScratchgen, whose message names the torch attribute
("torch.fft is not implemented in scratchgen (running under scratchgen.as_torch)"); it is an
AttributeError, so hasattr() and getattr(..., default) work, and a NotImplementedError.
Importing a torch submodule that is not here (`import torch.fft`), or torchvision, which is
built on the real torch, fails the same way at the import.

Only torch's legacy and alternative names live in this file. What has behaviour of its own is
in the library, where scratchgen's own code can use it: torch.device is scratchgen.device,
Tensor.is_cuda and .type() are in autograd/tensor.py, optim.Adadelta and optim.lr_scheduler in
scratchgen/optim/, torch.utils.data in scratchgen/utils/data.py, nn.parallel in
scratchgen/nn/parallel.py, torch.nn.functional is scratchgen/nn/functional.py.
"""
import contextlib
import importlib.abc
import numbers
import operator
import os
import runpy
import sys
import traceback
import types
import warnings

import numpy

import scratchgen
from scratchgen import functional, nn, optim, utils
from scratchgen.arguments import device_backend
from scratchgen.autograd.tensor import LEGACY_TYPE_NAMES

WHERE = "running under scratchgen.as_torch"
PACKAGES_BUILT_ON_TORCH = ("torchvision", "torchaudio", "torchtext")


class NotInScratchgen(AttributeError, NotImplementedError):
    """A torch name that scratchgen does not implement (an AttributeError, so hasattr() works)."""


class TorchModuleNotInScratchgen(ModuleNotFoundError, NotImplementedError):
    """`import torch.something` (or torchvision) where scratchgen has no such module."""


def not_implemented(qualified_name, hint=""):
    return f"{qualified_name} is not implemented in scratchgen ({WHERE}){hint}"


# ---- a torch module made of scratchgen's names ------------------------------------------------
class TorchNamespace(types.ModuleType):
    """A module object standing for a torch module: its own attributes (the compatibility names
    and submodules given to it), then each of `sources`' public non-module attributes, then a
    NotInScratchgen naming `<module>.<name>`. Attributes can be set, as on any module
    (`torch.backends.cudnn.benchmark = True`)."""

    def __init__(self, name, sources=(), names=None, hints=None, doc=None):
        super().__init__(name, doc or f"torch's {name} as scratchgen provides it (scratchgen/as_torch.py)")
        self.__dict__["_sources"] = tuple(sources)
        self.__dict__["_hints"] = dict(hints or {})
        self.__dict__["__path__"] = []  # a package: `import torch.fft` asks the finders (which refuse it clearly)
        self.__dict__.update(names or {})

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):  # the import system's and tools' probes
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        for source in self._sources:
            value = getattr(source, name, _MISSING)
            if value is not _MISSING and not isinstance(value, types.ModuleType):  # submodules: only as named
                return value
        raise NotInScratchgen(not_implemented(f"{self.__name__}.{name}", self._hints.get(name, "")), name=name,
                              obj=self)

    def __dir__(self):
        names = {n for n in self.__dict__ if not n.startswith("_")}
        for source in self._sources:
            names.update(n for n in dir(source) if not n.startswith("__")
                         and not isinstance(getattr(source, n, None), types.ModuleType))
        return sorted(names)

    def __repr__(self):
        return f"<module {self.__name__!r} (scratchgen, {WHERE})>"


_MISSING = object()


# ---- torch's legacy names -------------------------------------------------------------------
class _VariableType(type):
    def __instancecheck__(cls, instance):
        return isinstance(instance, scratchgen.Tensor)


class Variable(metaclass=_VariableType):
    """torch.autograd.Variable as PyTorch 2 keeps it: `Variable(x)` is a tensor on x's data
    without x's history, `Variable(x, requires_grad=True)` such a tensor that requires grad, and
    `volatile=True` is accepted with torch's warning (use `with torch.no_grad():`). Every tensor
    is a Variable (isinstance)."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        if not isinstance(data, scratchgen.Tensor):
            raise TypeError(f"Variable: data has to be a tensor, but got {type(data).__name__}")
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        return data.detach().requires_grad_(True) if requires_grad else data.detach()


def _new_tensor(data, dtype, device):
    """What torch's legacy constructors make: `(2, 3)` a tensor of that shape (zero-filled here,
    uninitialised in torch), `()` an empty one, `(data,)` a copy of a list or an array of any
    dtype in `dtype`, `(tensor,)` that tensor's data."""
    if len(data) == 1 and isinstance(data[0], scratchgen.Tensor):
        return data[0].to(device, dtype)
    if all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in data):
        return scratchgen.zeros(*(data or (0,)), dtype=dtype, device=device)
    if len(data) != 1:
        raise TypeError(f"Tensor: expected sizes (ints) or one data argument, got {len(data)} arguments of types "
                        f"{[type(d).__name__ for d in data]}")
    return scratchgen.tensor(data[0], dtype=dtype, device=device)


class _TensorClass(type):
    """The metaclass of torch.Tensor as this namespace gives it: isinstance() and issubclass()
    ask scratchgen.Tensor, attributes are scratchgen.Tensor's (torch.Tensor.backward), and calling
    it is torch.Tensor's constructor: a float32 tensor (torch.Tensor(float64_array) is float32,
    torch.Tensor(2, 3) a 2x3 tensor), where scratchgen.tensor(data) keeps the data's dtype."""

    def __call__(cls, *data, device=None):
        if len(data) == 1 and isinstance(data[0], scratchgen.Tensor) and device is None:
            return data[0]  # torch.Tensor(t) is t
        return _new_tensor(data, numpy.float32, device)

    def __instancecheck__(cls, instance):
        return isinstance(instance, scratchgen.Tensor)

    def __subclasscheck__(cls, subclass):
        return isinstance(subclass, type) and issubclass(subclass, scratchgen.Tensor)

    def __getattr__(cls, name):
        return getattr(scratchgen.Tensor, name)

    def __repr__(cls):
        return "<class 'torch.Tensor'>"


Tensor = _TensorClass("Tensor", (), {"__doc__": _TensorClass.__doc__})


class _TypedConstructor(type):
    """The metaclass of torch's legacy typed constructors (torch.FloatTensor, torch.cuda.LongTensor):
    calling one makes a tensor of its dtype on its device (sizes, or data converted to the dtype);
    isinstance() asks for that dtype and device; x.type(it) converts (Tensor.type reads its
    `.dtype` and `.is_cuda`)."""

    def __call__(cls, *data, device=None):
        return _new_tensor(data, cls.dtype, "cuda" if cls.is_cuda else "cpu")

    def __instancecheck__(cls, instance):
        return (isinstance(instance, scratchgen.Tensor) and instance.dtype == cls.dtype
                and instance.is_cuda == cls.is_cuda)

    def __repr__(cls):
        return f"<class 'torch.{'cuda.' if cls.is_cuda else ''}{cls.__name__}'>"


def _typed_constructors(cuda):
    return {name: _TypedConstructor(name, (), {"dtype": numpy.dtype(dtype), "is_cuda": cuda})
            for dtype, name in LEGACY_TYPE_NAMES.items() if dtype is not numpy.float16}


# ---- devices ----------------------------------------------------------------------------------
def _cuda_is_available():
    """Whether scratchgen can use a GPU here (CuPy installed and a GPU found)."""
    try:
        device_backend("cuda", "torch.cuda.is_available")
    except (RuntimeError, ValueError):
        return False
    return True


def _cuda_synchronize(device=None):
    if _cuda_is_available():
        import cupy  # scratchgen's GPU arrays are CuPy's
        cupy.cuda.Device().synchronize()


def _no_effect(*args, **kwargs):
    """Accepted and without effect under scratchgen (see the docstring of the name's namespace)."""


def _cuda_namespace():
    return TorchNamespace("torch.cuda", names={
        "is_available": _cuda_is_available,
        "device_count": lambda: int(_cuda_is_available()),
        "current_device": lambda: 0,
        "get_device_name": lambda device=None: "the GPU CuPy uses (scratchgen)",
        # scratchgen draws CUDA tensors' random numbers from the one global generator that
        # torch.manual_seed seeds (scratchgen/random.py), so there is no CUDA seed of its own
        "manual_seed": _no_effect, "manual_seed_all": _no_effect, "empty_cache": _no_effect,
        "synchronize": _cuda_synchronize, "is_initialized": _cuda_is_available,
        **_typed_constructors(cuda=True)},
        doc="torch.cuda: whether a GPU can be used (CuPy and a GPU), and the legacy typed constructors")


def _backends_namespaces():
    """torch.backends: cudnn's and CUDA's switches are accepted and change nothing (scratchgen's
    GPU code is CuPy and its own kernels, without cuDNN); MPS is never available."""
    cudnn = TorchNamespace("torch.backends.cudnn", names={
        "benchmark": False, "deterministic": False, "enabled": True, "allow_tf32": True,
        "is_available": lambda: False, "version": lambda: None})
    mps = TorchNamespace("torch.backends.mps", names={"is_available": lambda: False, "is_built": lambda: False})
    cuda = TorchNamespace("torch.backends.cuda", names={
        "matmul": types.SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True),
        "is_built": lambda: False})
    backends = TorchNamespace("torch.backends", names={"cudnn": cudnn, "mps": mps, "cuda": cuda})
    return {"torch.backends": backends, "torch.backends.cudnn": cudnn, "torch.backends.mps": mps,
            "torch.backends.cuda": cuda}


def _accelerator_namespace():
    return TorchNamespace("torch.accelerator", names={
        "is_available": _cuda_is_available,
        "current_accelerator": lambda check_available=False: scratchgen.device("cuda") if _cuda_is_available()
        else None,
        "device_count": lambda: int(_cuda_is_available()),
        "synchronize": _cuda_synchronize})


# ---- torch's top level ---------------------------------------------------------------------------
# ops of scratchgen.functional that torch also has at its top level with the same arguments
# (torch.batch_norm, torch.embedding, torch.instance_norm and torch.kl_div order theirs otherwise)
TOP_LEVEL_OPS = ("add", "sub", "mul", "div", "neg", "pow", "square", "relu", "argmax", "argmin", "max", "min",
                 "log_softmax", "clone", "flatten", "unflatten", "reshape", "permute", "transpose", "t", "squeeze",
                 "unsqueeze", "dropout", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool2d",
                 "layer_norm", "group_norm")


def _set_default_dtype(dtype):
    if numpy.dtype(dtype) != numpy.float32:
        raise NotImplementedError(not_implemented(
            f"torch.set_default_dtype({dtype!r})", ": scratchgen's default dtype is float32; for float64, "
            "convert the model with model.double() and make tensors with dtype=torch.float64"))


def _from_numpy(array):
    if not isinstance(array, numpy.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return scratchgen.as_tensor(array)  # shares the array's memory, as torch.from_numpy


def _load(f, map_location=None, pickle_module=None, *, weights_only=None, **kwargs):
    """torch.load of a file that scratchgen.save (torch.save here) wrote."""
    return scratchgen.load(f, map_location=map_location)


def _two_dims(name):
    def product(input, mat2, *, out=None):
        if out is not None:
            raise NotImplementedError(not_implemented(f"torch.{name}(..., out=)"))
        return functional.matmul(input, mat2)
    product.__name__ = name
    return product


def _elementwise(op, name):
    def compare(input, other):
        return getattr(input, name)(other) if isinstance(input, scratchgen.Tensor) else op(input, other)
    compare.__name__ = name
    return compare


def _torch_names():
    return {
        # dtypes by torch's other names
        "float": numpy.float32, "double": numpy.float64, "long": numpy.int64, "int": numpy.int32, "bool": numpy.bool_,
        "uint8": numpy.uint8, "int8": numpy.int8, "int16": numpy.int16,
        "get_default_dtype": lambda: numpy.float32, "set_default_dtype": _set_default_dtype,
        "Size": tuple, "from_numpy": _from_numpy, "is_tensor": lambda obj: isinstance(obj, scratchgen.Tensor),
        "numel": lambda input: input.numel(), "mm": _two_dims("mm"), "bmm": _two_dims("bmm"),
        "concat": scratchgen.cat, "concatenate": scratchgen.cat,
        "eq": _elementwise(operator.eq, "eq"), "ne": _elementwise(operator.ne, "ne"),
        "inference_mode": scratchgen.no_grad, "load": _load, "Tensor": Tensor,
        # the PyTorch API scratchgen follows is 2.x's; the local part says whose this is
        "__version__": f"2.0.0+scratchgen.{scratchgen.__version__}",
        **_typed_constructors(cuda=False),
        **{name: getattr(functional, name) for name in TOP_LEVEL_OPS if hasattr(functional, name)},
    }


def build():
    """{module name: TorchNamespace} of every torch module provided, built afresh."""
    modules = {
        "torch.nn.functional": TorchNamespace("torch.nn.functional", [nn.functional]),
        "torch.nn.init": TorchNamespace("torch.nn.init", [nn.init]),
        "torch.nn.utils": TorchNamespace("torch.nn.utils", [nn.utils]),
        "torch.nn.parallel": TorchNamespace("torch.nn.parallel", [nn.parallel]),
        "torch.optim.lr_scheduler": TorchNamespace("torch.optim.lr_scheduler", [optim.lr_scheduler]),
        "torch.utils.data": TorchNamespace("torch.utils.data", [utils.data]),
        "torch.cuda": _cuda_namespace(),
        "torch.accelerator": _accelerator_namespace(),
        **_backends_namespaces(),
    }
    modules["torch.autograd"] = TorchNamespace("torch.autograd", names={
        "Variable": Variable, "grad": scratchgen.grad, "backward": scratchgen.backward,
        "gradcheck": scratchgen.gradcheck, "gradgradcheck": scratchgen.gradgradcheck,
        "detect_anomaly": scratchgen.detect_anomaly, "no_grad": scratchgen.no_grad,
        "enable_grad": scratchgen.enable_grad, "set_grad_enabled": scratchgen.set_grad_enabled},
        hints={"Function": ": scratchgen.Function's forward and backward take arrays and Tensor ops "
                           "(scratchgen/autograd/function.py), not torch's; write the op with scratchgen's API"})
    modules["torch.nn"] = TorchNamespace("torch.nn", [nn], {
        "functional": modules["torch.nn.functional"], "init": modules["torch.nn.init"],
        "utils": modules["torch.nn.utils"], "parallel": modules["torch.nn.parallel"]})
    modules["torch.optim"] = TorchNamespace("torch.optim", [optim],
                                            {"lr_scheduler": modules["torch.optim.lr_scheduler"]})
    modules["torch.utils"] = TorchNamespace("torch.utils", names={"data": modules["torch.utils.data"]})
    submodules = {name.rpartition(".")[2]: modules[name] for name in
                  ("torch.nn", "torch.optim", "torch.utils", "torch.autograd", "torch.cuda", "torch.backends",
                   "torch.accelerator")}
    modules["torch"] = TorchNamespace("torch", [scratchgen], {**_torch_names(), **submodules},
                                      doc="torch, as scratchgen provides it (scratchgen/as_torch.py)")
    return modules


# ---- installing it for a run -----------------------------------------------------------------------
class _RefuseOtherTorchModules(importlib.abc.MetaPathFinder):
    """For the run: `import torch.<anything not built here>` and torchvision & co. fail clearly,
    instead of loading pieces of the real torch."""

    def find_spec(self, fullname, path=None, target=None):
        root = fullname.partition(".")[0]
        if root == "torch":
            raise TorchModuleNotInScratchgen(not_implemented(fullname), name=fullname)
        if root in PACKAGES_BUILT_ON_TORCH:
            raise TorchModuleNotInScratchgen(
                f"{root} is not available under scratchgen.as_torch: it is built on the real PyTorch, which "
                "scratchgen stands in for here (load data with NumPy instead, e.g. MNIST's IDX files with "
                "numpy.frombuffer)", name=fullname)


def _is_torch_module(name):
    return name.partition(".")[0] in ("torch",) + PACKAGES_BUILT_ON_TORCH


@contextlib.contextmanager
def installed():
    """Within the block, `import torch` (and its submodules) gives scratchgen's namespaces;
    afterwards sys.modules is as it was (a real torch imported before comes back)."""
    saved = {name: module for name, module in sys.modules.items() if _is_torch_module(name)}
    for name in saved:
        del sys.modules[name]
    modules = build()
    sys.modules.update(modules)
    finder = _RefuseOtherTorchModules()
    sys.meta_path.insert(0, finder)
    try:
        yield modules["torch"]
    finally:
        sys.meta_path.remove(finder)
        for name in [name for name in sys.modules if _is_torch_module(name)]:
            del sys.modules[name]
        sys.modules.update(saved)


def run(script, args=()):
    """Run the file `script` as `__main__` with sys.argv = [script, *args] and torch resolved to
    scratchgen, as `python script args...` runs it (its folder first on sys.path)."""
    path = os.path.abspath(script)
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(path))
    try:
        with installed():
            runpy.run_path(path, run_name="__main__")
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path


USAGE = """usage: python -m scratchgen.as_torch SCRIPT.py [ARGS ...]
       scratchgen run-torch SCRIPT.py [ARGS ...]

Run a PyTorch script with `import torch` (and torch.nn, torch.optim, torch.utils.data, ...)
resolved to scratchgen. A torch name scratchgen does not have stops the script with an error
that names it."""


def main(argv=None):
    """The command: run SCRIPT with ARGS; returns the exit status (the script's sys.exit code,
    1 after an exception, whose traceback is printed from the script's frames on, 2 when the
    script is not a file, 130 on Ctrl-C)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    script, args = argv[0], argv[1:]
    if not os.path.isfile(script):
        print(f"scratchgen.as_torch: error: {script!r} is not a file (usage: python -m scratchgen.as_torch "
              "SCRIPT.py [ARGS ...])", file=sys.stderr)
        return 2
    try:
        run(script, args)
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            return stop.code or 0
        print(stop.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("scratchgen.as_torch: stopped by Ctrl-C", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 (the script's error: shown as Python would show it)
        if type(error).__module__ == "bdb":  # quitting the debugger (python -m pdb -m scratchgen.as_torch)
            raise
        _print_script_traceback(error, script)
        return 1
    return 0


def _print_script_traceback(error, script):
    """The traceback from the script's first frame on (this file's and runpy's frames left out)."""
    report = traceback.TracebackException.from_exception(error)
    target = os.path.abspath(script)
    start = next((i for i, frame in enumerate(report.stack) if os.path.abspath(frame.filename) == target), 0)
    report.stack = traceback.StackSummary.from_list(report.stack[start:])
    sys.stderr.write("".join(report.format()))


if __name__ == "__main__":
    from scratchgen.as_torch import (
        main as command,  # the module's own copy, not __main__'s
    )
    sys.exit(command())
