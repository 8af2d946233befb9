"""Build and launch CUDA kernels on the CPU: a kernel source compiled by g++ (-std=c++20) with
cuda_emulator.h force-included and -fsanitize=thread's instrumentation of every memory access
(race_detector.h receives it), into a shared library cached under a name keyed by the hash
of everything that goes into it, loaded with ctypes and launched on NumPy arrays' memory.

    module = load(source_text, "softmax.cu", ["softmax_rows", ...])
    module.launch("softmax_rows", grid=(2, 1, 1), block=(256, 1, 1), shared_mem=0,
                  arguments=[ctypes.c_void_p(x.ctypes.data), ...],
                  arrays=[("x", x.ctypes.data, x.nbytes, x.itemsize), ...], seed=0)

scratchgen/backends/launch.py is the usual way in: it finds the kernel, checks and converts
the arguments, and calls this. Environment:
    SCRATCHGEN_KERNEL_CACHE         where the libraries go (default ~/.cache/scratchgen/emulator)
    SCRATCHGEN_EMULATOR_SANITIZE    "address": build with AddressSanitizer (the process must
                                    have libasan preloaded, see address_sanitizer_runtime())
    SCRATCHGEN_EMULATOR_CHECKS      "0": build without the memory checker (about 15x faster)
    SCRATCHGEN_EMULATOR_TRACE       "1": print each launch to stderr before it runs
    CXX                             the compiler (default g++)
"""
import ctypes
import fcntl
import hashlib
import os
import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
HEADERS = (HERE / "cuda_emulator.h", HERE / "block_scheduler.h", HERE / "race_detector.h")
# The kernel is compiled with ThreadSanitizer's instrumentation but linked without its runtime:
# race_detector.h defines the __tsan_* calls. (AddressSanitizer cannot be combined with it.)
# Hidden visibility: each kernel file's library keeps its own emulator state (threadIdx, the
# detector), and only the entry points are exported.
COMMON_FLAGS = ("-std=c++20", "-fPIC", "-fno-strict-aliasing", "-fvisibility=hidden", "-fno-gnu-unique",
                "-Wno-unknown-pragmas")
UNCHECKED_FLAGS = (*COMMON_FLAGS, "-O2", "-Wall", "-Wextra", "-Werror")
FLAGS = (*UNCHECKED_FLAGS, "-fsanitize=thread", "--param", "tsan-instrument-func-entry-exit=0")
SANITIZE_FLAGS = (*COMMON_FLAGS, "-O1", "-g", "-fsanitize=address", "-fno-omit-frame-pointer")

# `extern __shared__ float tile[];` (dynamic shared memory) has no C++ equivalent: it becomes
# a pointer to the per-block buffer of the launch's shared_mem bytes (block_scheduler.h).
_DYNAMIC_SHARED = re.compile(r"extern\s+__shared__\s+(\w[\w\s]*?)\s+(\w+)\s*\[\s*\]\s*;")


class ArrayRegion(ctypes.Structure):
    """emulator::ArrayRegion in race_detector.h: a global array that the kernel may access."""
    _fields_ = [("name", ctypes.c_char_p), ("address", ctypes.c_uint64), ("bytes", ctypes.c_uint64),
                ("itemsize", ctypes.c_uint32)]


class LaunchConfig(ctypes.Structure):
    """emulator::LaunchConfig in block_scheduler.h."""
    _fields_ = [("grid", ctypes.c_uint * 3), ("block", ctypes.c_uint * 3), ("shared_mem", ctypes.c_uint64),
                ("seed", ctypes.c_uint64), ("arrays", ctypes.POINTER(ArrayRegion)), ("array_count", ctypes.c_uint32)]


def sanitizing():
    return os.environ.get("SCRATCHGEN_EMULATOR_SANITIZE", "") == "address"


def symbol(kernel_name):
    """The C identifier that names a kernel's entry points: "relu_forward<float>" -> "relu_forward__float"."""
    return kernel_name.replace("<", "__").replace(">", "").replace(" ", "_")


def checking():
    return os.environ.get("SCRATCHGEN_EMULATOR_CHECKS", "1") != "0"


def emulator_source(source_text, kernel_names):
    """The kernel source as g++ compiles it: dynamic shared memory rewritten (same line count,
    so messages keep their line numbers) and an exported entry point per kernel appended."""
    rewritten = _DYNAMIC_SHARED.sub(r"\1* const \2 = emulator::dynamic_shared_memory<\1>();", source_text)
    entries = "".join(f"EMULATOR_ENTRY({symbol(name)}, {name})\n" for name in kernel_names)
    return f"{rewritten}\n#line 1 \"emulator entry points\"\n{entries}"


def cache_dir():
    default = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "scratchgen" / "emulator"
    return pathlib.Path(os.environ.get("SCRATCHGEN_KERNEL_CACHE", default))


def compiler():
    return os.environ.get("CXX", "g++")


def build(source_text, source_name, kernel_names):
    """Path of the shared library for this source, compiling it unless the cache holds it.
    The file name is the hash of the source, the emulator headers, the compiler and its flags;
    a lock file keeps parallel processes (pytest-xdist workers) from compiling it twice."""
    flags = SANITIZE_FLAGS if sanitizing() else FLAGS if checking() else UNCHECKED_FLAGS
    code = emulator_source(source_text, kernel_names)
    key = hashlib.sha256("\0".join([code, compiler(), *flags, *(h.read_text() for h in HEADERS)]).encode())
    stem = f"{pathlib.Path(source_name).stem}-{key.hexdigest()[:20]}"
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    library = directory / f"{stem}.so"
    with open(directory / f"{stem}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not library.exists():
            _compile(code, source_name, flags, directory / f"{stem}.cpp", library)
    return library


def _compile(code, source_name, flags, source_path, library):
    source_path.write_text(code)
    partial, objects = library.with_suffix(f".{os.getpid()}.tmp"), library.with_suffix(f".{os.getpid()}.o")
    compile_command = [compiler(), *flags, "-c", "-include", str(HEADERS[0]), "-x", "c++", str(source_path),
                       "-o", str(objects)]
    link_command = [compiler(), "-shared", *(["-fsanitize=address"] if sanitizing() else []), str(objects),
                    "-o", str(partial)]
    for command in (compile_command, link_command):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"emulator: g++ failed to build {source_name}:\n{result.stderr}")
    objects.unlink()
    os.replace(partial, library)  # atomic: a reader never sees half a library


class EmulatedModule:
    """The kernels of one source file, loaded from their shared library."""

    def __init__(self, library, kernel_names):
        self.library = ctypes.CDLL(str(library))
        self.entries = {}
        for name in kernel_names:
            entry = getattr(self.library, f"emulate_{symbol(name)}")
            entry.restype = ctypes.c_char_p
            entry.argtypes = [ctypes.POINTER(LaunchConfig), ctypes.POINTER(ctypes.c_void_p)]
            self.entries[name] = entry

    def parameter_sizes(self, name):
        """sizeof of each parameter of kernel `name`, as g++ sees them."""
        sizes = getattr(self.library, f"parameter_sizes_{symbol(name)}")
        sizes.restype = ctypes.POINTER(ctypes.c_uint32)
        table = sizes()
        return [table[i + 1] for i in range(table[0])]

    def launch(self, name, grid, block, shared_mem, arguments, arrays=(), seed=0):
        """Run kernel `name`; `arguments` are ctypes values (pointers as c_void_p), one per
        parameter; `arrays` are (name, address, bytes, itemsize) of the memory the kernel may
        touch; `seed` draws the order of blocks and threads. Returns None, or the fault as
        (kind, message): kind "race", "out-of-bounds", "uninitialized", "barrier", "shuffle"
        or "" (a launch the emulator refused), and a message that names the kernel."""
        if os.environ.get("SCRATCHGEN_EMULATOR_TRACE") == "1":
            print(f"emulator: launch {name} grid={tuple(grid)} block={tuple(block)} shared_mem={shared_mem} "
                  f"seed={seed}", file=sys.stderr, flush=True)
        regions = (ArrayRegion * max(1, len(arrays)))(*(ArrayRegion(n.encode(), a, b, i) for n, a, b, i in arrays))
        config = LaunchConfig((ctypes.c_uint * 3)(*grid), (ctypes.c_uint * 3)(*block), shared_mem, seed, regions,
                              len(arrays))
        pointers = (ctypes.c_void_p * max(1, len(arguments)))(*(ctypes.addressof(a) for a in arguments))
        error = self.entries[name](ctypes.byref(config), pointers)
        if error is None:
            return None
        tag, _, message = error.decode().partition("] ")
        if not tag.startswith("["):
            tag, message = "", error.decode()
        return tag.lstrip("["), f"kernel {name}: {message}"


def load(source_text, source_name, kernel_names):
    return EmulatedModule(build(source_text, source_name, kernel_names), kernel_names)


def address_sanitizer_runtime():
    """Path of the compiler's libasan, to LD_PRELOAD into a process that loads sanitized
    libraries (ASan's runtime must come before every other library), or None if it has none."""
    result = subprocess.run([compiler(), "-print-file-name=libasan.so"], capture_output=True, text=True)
    path = pathlib.Path(result.stdout.strip())
    return path if result.returncode == 0 and path.is_absolute() and path.exists() else None
