"""The one way to run a kernel of kernels/*.cu:

    launch("softmax_rows", grid=(blocks,), block=(256,), args=(x, y, rows, cols))

On CuPy arrays the kernel runs on the GPU (cupy.RawModule); on NumPy arrays it runs on the
CPU emulator (kernels/emulator), which is how CI tests every kernel without a GPU. Each
source file is compiled once per process, on first use; the emulator also keeps its builds
in a cache directory keyed by the source's hash.

Arguments follow the kernel's C signature, which is read from the source: an array (or None,
a null pointer) for each pointer parameter, of the pointee's dtype and C-contiguous; a Python
or NumPy number for each scalar parameter, converted to the parameter's C type.

A kernel written once for both precisions is a template, `template <class T> __global__ void
name(const T* x, ...)`, instantiated for T = float and T = double (NVRTC name expressions on
the GPU, one entry point each on the emulator); launch picks the instance from the dtype of
the first T array, and every T array and scalar then takes that type.

On the emulator every launch is checked for data races, out-of-bounds accesses, reads of
unwritten shared memory and misused barriers and shuffles (kernels/emulator/README.md); a
fault raises a KernelFault subclass. Each launch runs blocks and threads in a fresh order, drawn
from SCRATCHGEN_EMULATOR_SEED (default 0) plus the number of launches so far.
"""
import contextlib
import ctypes
import functools
import importlib.util
import itertools
import os
import pathlib
import re
from dataclasses import dataclass

import numpy

from scratchgen.backends.kernel_faults import raise_fault


def _find_kernels_dir():
    """The folder of the *.cu files and the emulator, beside the scratchgen package that runs:
    scratchgen/kernels where it is installed from a wheel (pyproject.toml maps the repository's
    kernels/ onto scratchgen.kernels), else the repository's kernels/ next to scratchgen/ (a
    source checkout, installed editable or not). Not looked up through the import system: an
    editable install of another checkout would otherwise lend its kernels to this one."""
    package = pathlib.Path(__file__).resolve().parents[1]
    installed, checkout = package / "kernels", package.parent / "kernels"
    return installed if (installed / "emulator" / "emulator.py").is_file() else checkout


KERNELS_DIR = _find_kernels_dir()
MAX_THREADS_PER_BLOCK = 1024
MAX_DYNAMIC_SHARED_MEMORY = 48 * 1024

# C parameter types a kernel may use, and their NumPy dtypes.
C_TYPES = {"float": numpy.float32, "double": numpy.float64, "int": numpy.int32, "unsigned int": numpy.uint32,
           "long long": numpy.int64, "unsigned long long": numpy.uint64}

_KERNEL = re.compile(r'(extern\s+"C"|template\s*<\s*(?:class|typename)\s+T\s*>)\s*__global__\s+void\s+'
                     r'(?:__launch_bounds__\s*\([^)]*\)\s*)?(\w+)\s*\(([^)]*)\)')
FLOATING_TYPES = ("float", "double")  # what T of a template kernel stands for
_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"\s*$', re.M)
_PRAGMA_ONCE = re.compile(r"^\s*#\s*pragma\s+once\s*$", re.M)


@dataclass(frozen=True)
class Parameter:
    name: str
    c_type: str      # "float", "long long", ...
    pointer: bool
    const: bool      # a pointer to const: the kernel only reads it

    @property
    def dtype(self):
        return numpy.dtype(C_TYPES[self.c_type])


@dataclass(frozen=True)
class Kernel:
    name: str        # "relu_forward"; an instance of a template: "relu_forward<float>"
    path: pathlib.Path
    parameters: tuple
    template: bool = False  # parameters of type "T" stand for float or double

    def instance(self, c_type):
        """The template with T = c_type (built once: launches on a GPU ask for it every time)."""
        return _instance(self, c_type)

    def instances(self):
        """What gets compiled: the kernel itself, or the template for each floating type."""
        return [self.instance(c) for c in FLOATING_TYPES] if self.template else [self]

    def for_arguments(self, args):
        """The instance that `args` call: T is the dtype of the first array of a T parameter."""
        if not self.template:
            return self
        for parameter, value in zip(self.parameters, args):
            if parameter.c_type == "T" and parameter.pointer and value is not None:
                for c_type in FLOATING_TYPES:
                    if getattr(value, "dtype", None) == numpy.dtype(C_TYPES[c_type]):
                        return self.instance(c_type)
                raise TypeError(f"launch {self.name}: argument {parameter.name} must be a float32 or float64 "
                                f"array (T*), got {getattr(value, 'dtype', type(value).__name__)}")
        raise TypeError(f"launch {self.name}: no array argument gives the kernel's type T")


@functools.cache
def _instance(template, c_type):
    parameters = tuple(Parameter(p.name, c_type if p.c_type == "T" else p.c_type, p.pointer, p.const)
                       for p in template.parameters)
    return Kernel(f"{template.name}<{c_type}>", template.path, parameters)


def _parse_parameter(text, kernel, path, template):
    words = text.replace("*", " * ").replace("__restrict__", " ").split()
    if len(words) < 2:
        raise ValueError(f"{path.name}: kernel {kernel}: cannot read parameter {text.strip()!r}")
    name, pointer, const = words[-1], "*" in words, "const" in words
    c_type = " ".join(w for w in words[:-1] if w not in ("*", "const"))
    if (c_type not in C_TYPES and not (template and c_type == "T")) or words.count("*") > 1:
        raise ValueError(f"{path.name}: kernel {kernel}: parameter {text.strip()!r} has type {c_type!r}; "
                         f"kernels take these types or single pointers to them: {', '.join(C_TYPES)}")
    return Parameter(name, c_type, pointer, const)


def kernel_files():
    return sorted(KERNELS_DIR.glob("*.cu"))


@functools.cache
def kernels():
    """Every kernel of kernels/*.cu by name, with its parsed signature."""
    found = {}
    for path in kernel_files():
        for name, kernel in parse_kernels(path.read_text(), path).items():
            if name in found:
                raise ValueError(f"kernel {name} is defined in both {found[name].path.name} and {path.name}")
            found[name] = kernel
    return found


def parse_kernels(text, path):
    """The kernels of a CUDA source text by name, with their signatures; `path` names the source."""
    found = {}
    for match in _KERNEL.finditer(text):
        linkage, name, parameter_list = match.groups()
        template = linkage.startswith("template")
        parameters = tuple(_parse_parameter(p, name, path, template) for p in parameter_list.split(","))
        found[name] = Kernel(name, path, parameters, template)
    return found


def kernel_source(path):
    """The text of a kernel file with its local `#include "x.cuh"` headers inlined (each once)
    and #line directives, so that messages point into the original files. CuPy's compile
    cache and the emulator's are keyed by this text, so editing a header recompiles."""
    return _expand_includes(pathlib.Path(path), set())


def _expand_includes(file, seen):
    return expand_includes(file.read_text(), file.name, file.parent, seen)


def expand_includes(text, name, directory, seen=None):
    """`text` (a source called `name`) with its `#include "x.cuh"` of `directory` inlined."""
    seen = set() if seen is None else seen
    text = _PRAGMA_ONCE.sub("", text)

    def include(match):
        header = directory / match.group(1)
        if header in seen:
            return ""
        seen.add(header)
        next_line = text.count("\n", 0, match.end()) + 2
        return f'{_expand_includes(header, seen)}\n#line {next_line} "{name}"'
    return f'#line 1 "{name}"\n' + _INCLUDE.sub(include, text)


def launch(kernel_name, grid, block, args, shared_mem=0):
    """Run `kernel_name` over `grid` blocks of `block` threads (tuples of 1 to 3 ints, x first)
    with `shared_mem` bytes of dynamic shared memory per block, on the arrays' device."""
    kernel = kernels().get(kernel_name)
    if kernel is None:
        raise ValueError(f"launch: no kernel named {kernel_name!r} in {KERNELS_DIR}")
    kernel = kernel.for_arguments(args)
    for names in _recorders:
        names.append(kernel.name)
    grid, block, values, on_gpu = checked_launch(kernel, grid, block, args, shared_mem)
    if on_gpu:
        _gpu_module(kernel.path).get_function(kernel.name)(grid, block, tuple(values), shared_mem=shared_mem)
    else:
        run_emulated(emulated_module(kernel.path), kernel, grid, block, values, shared_mem, _next_seed())


_launches = itertools.count()
_recorders = []


@contextlib.contextmanager
def recording():
    """Inside, the name of every kernel launched (an instance: "gemm_tiled<float>") is appended
    to the list this yields: which kernels an op runs (docs/kernels.md)."""
    names = []
    _recorders.append(names)
    try:
        yield names
    finally:
        _recorders.remove(names)


def _next_seed():
    """A fresh order of blocks and threads for every launch: SCRATCHGEN_EMULATOR_SEED plus the
    number of launches so far (a fault's message gives the seed, to rerun it with emulate)."""
    return int(os.environ.get("SCRATCHGEN_EMULATOR_SEED", "0")) + next(_launches)


def checked_launch(kernel, grid, block, args, shared_mem):
    """(grid, block, argument values, whether on the GPU) for a launch of `kernel` (not a
    template: an instance of one), checked."""
    kernel_name = kernel.name
    grid, block = _dims(kernel_name, "grid", grid), _dims(kernel_name, "block", block)
    if block[0] * block[1] * block[2] > MAX_THREADS_PER_BLOCK:
        raise ValueError(f"launch {kernel_name}: a block holds at most {MAX_THREADS_PER_BLOCK} threads, got {block}")
    if not 0 <= shared_mem <= MAX_DYNAMIC_SHARED_MEMORY:
        raise ValueError(f"launch {kernel_name}: shared_mem must be in [0, {MAX_DYNAMIC_SHARED_MEMORY}] bytes, "
                         f"got {shared_mem}")
    if len(args) != len(kernel.parameters):
        raise TypeError(f"launch {kernel_name}: takes {len(kernel.parameters)} arguments "
                        f"({', '.join(p.name for p in kernel.parameters)}), got {len(args)}")
    on_gpu = _on_gpu(kernel_name, kernel.parameters, args)
    return grid, block, [_convert(kernel_name, p, a) for p, a in zip(kernel.parameters, args)], on_gpu


def run_emulated(module, kernel, grid, block, values, shared_mem, seed):
    """Run `kernel` of an emulated module on checked values; a fault raises its KernelFault."""
    arguments = [_ctypes_value(p, v) for p, v in zip(kernel.parameters, values)]
    arrays = [(p.name, v.ctypes.data, v.nbytes, v.itemsize) for p, v in zip(kernel.parameters, values)
              if p.pointer and v is not None]
    fault = module.launch(kernel.name, grid, block, shared_mem, arguments, arrays, seed)
    if fault is not None:
        raise_fault(fault[0], f"{fault[1]} (seed {seed})")


def array_module(array):
    """numpy for a NumPy array, cupy for a CuPy array (as cupy.get_array_module)."""
    if isinstance(array, numpy.ndarray):
        return numpy
    import cupy
    return cupy


def multiprocessor_count(array):
    """Streaming multiprocessors of the GPU holding `array`; 1 for the emulator, which runs
    one block at a time. Callers size grid-stride launches with it."""
    return 1 if isinstance(array, numpy.ndarray) else _gpu_multiprocessors(array.device.id)


@functools.cache
def _gpu_multiprocessors(device_id):
    import cupy
    return cupy.cuda.Device(device_id).attributes["MultiProcessorCount"]


def _dims(kernel_name, what, dims):
    dims = tuple(int(d) for d in (dims if isinstance(dims, (tuple, list)) else (dims,)))
    if not 1 <= len(dims) <= 3 or min(dims) < 1:
        raise ValueError(f"launch {kernel_name}: {what} must be 1 to 3 positive ints, got {dims}")
    return dims + (1,) * (3 - len(dims))


def _on_gpu(kernel_name, parameters, args):
    """Whether the array arguments are CuPy arrays (True) or NumPy arrays (False); never mixed."""
    kinds = {isinstance(a, numpy.ndarray) for p, a in zip(parameters, args) if p.pointer and a is not None}
    if len(kinds) != 1:
        raise TypeError(f"launch {kernel_name}: the array arguments must be all NumPy arrays (emulator) or all "
                        f"CuPy arrays (GPU), got {[type(a).__name__ for a in args]}")
    return kinds == {False}


def _convert(kernel_name, parameter, value):
    """The argument as the kernel receives it: a checked array, or a NumPy scalar of the C type."""
    where = f"launch {kernel_name}: argument {parameter.name}"
    if not parameter.pointer:
        if isinstance(value, (numpy.ndarray, type(None))) or hasattr(value, "__cuda_array_interface__"):
            raise TypeError(f"{where} is a {parameter.c_type}, got {type(value).__name__}")
        try:
            return parameter.dtype.type(value)
        except OverflowError:
            raise ValueError(f"{where}: {value} does not fit a {parameter.c_type}") from None
    if value is None:
        return None
    if value.dtype != parameter.dtype:
        raise TypeError(f"{where} must be a {parameter.dtype} array ({parameter.c_type}*), got {value.dtype}")
    if not value.flags.c_contiguous:
        raise ValueError(f"{where} must be C-contiguous, got strides {value.strides} for shape {value.shape}")
    if not parameter.const and isinstance(value, numpy.ndarray) and not value.flags.writeable:
        raise ValueError(f"{where} is written by the kernel, but the array is read-only")
    return value


def _ctypes_value(parameter, value):
    if parameter.pointer:
        return ctypes.c_void_p(None if value is None else value.ctypes.data)
    return numpy.ctypeslib.as_ctypes_type(parameter.dtype)(value.item())


@functools.cache
def _gpu_module(path):
    import cupy
    templates = [i.name for k in kernels().values() if k.path == path and k.template for i in k.instances()]
    return cupy.RawModule(code=kernel_source(path), options=("-std=c++17",), name_expressions=templates or None)


@functools.cache
def emulator_module():
    spec = importlib.util.spec_from_file_location("scratchgen_kernel_emulator", KERNELS_DIR / "emulator" / "emulator.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def emulated_module(path):
    return load_emulated(kernel_source(path), path.name,
                         [i for k in kernels().values() if k.path == path for i in k.instances()])


def load_emulated(source_text, source_name, kernel_list):
    """The emulator's build of a source, its kernels' parameter sizes checked against their signatures."""
    module = emulator_module().load(source_text, source_name, [k.name for k in kernel_list])
    for kernel in kernel_list:
        expected = [p.dtype.itemsize if not p.pointer else ctypes.sizeof(ctypes.c_void_p) for p in kernel.parameters]
        if module.parameter_sizes(kernel.name) != expected:
            raise RuntimeError(f"launch: kernel {kernel.name}: parameter sizes {module.parameter_sizes(kernel.name)} "
                               f"as compiled differ from {expected} as parsed from {source_name}")
    return module
