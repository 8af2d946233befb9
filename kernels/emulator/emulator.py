"""Build and launch CUDA kernels on the CPU: a kernel source compiled by g++ (-std=c++20) with
cuda_emulator.h force-included, into a shared library cached under a name keyed by the hash
of everything that goes into it, loaded with ctypes and launched on NumPy arrays' memory.

    module = load(source_text, "softmax.cu", ["softmax_rows", ...])
    module.launch("softmax_rows", grid=(2, 1, 1), block=(256, 1, 1), shared_mem=0,
                  arguments=[ctypes.c_void_p(x.ctypes.data), ...])

scratchgen/backends/launch.py is the usual way in: it finds the kernel, checks and converts
the arguments, and calls this. Environment:
    SCRATCHGEN_KERNEL_CACHE         where the libraries go (default ~/.cache/scratchgen/emulator)
    SCRATCHGEN_EMULATOR_SANITIZE    "address": build with AddressSanitizer (the process must
                                    have libasan preloaded, see address_sanitizer_runtime())
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
HEADERS = (HERE / "cuda_emulator.h", HERE / "block_scheduler.h")
FLAGS = ("-std=c++20", "-O2", "-fPIC", "-shared", "-fno-strict-aliasing", "-Wall", "-Wextra", "-Werror",
         "-Wno-unknown-pragmas")
SANITIZE_FLAGS = ("-std=c++20", "-O1", "-g", "-fPIC", "-shared", "-fno-strict-aliasing", "-fsanitize=address",
                  "-fno-omit-frame-pointer", "-Wno-unknown-pragmas")

# `extern __shared__ float tile[];` (dynamic shared memory) has no C++ equivalent: it becomes
# a pointer to the per-block buffer of the launch's shared_mem bytes (block_scheduler.h).
_DYNAMIC_SHARED = re.compile(r"extern\s+__shared__\s+(\w[\w\s]*?)\s+(\w+)\s*\[\s*\]\s*;")


class LaunchConfig(ctypes.Structure):
    """emulator::LaunchConfig in block_scheduler.h."""
    _fields_ = [("grid", ctypes.c_uint * 3), ("block", ctypes.c_uint * 3), ("shared_mem", ctypes.c_uint64)]


def sanitizing():
    return os.environ.get("SCRATCHGEN_EMULATOR_SANITIZE", "") == "address"


def emulator_source(source_text, kernel_names):
    """The kernel source as g++ compiles it: dynamic shared memory rewritten (same line count,
    so messages keep their line numbers) and an exported entry point per kernel appended."""
    rewritten = _DYNAMIC_SHARED.sub(r"\1* const \2 = emulator::dynamic_shared_memory<\1>();", source_text)
    entries = "".join(f"EMULATOR_ENTRY({name})\n" for name in kernel_names)
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
    flags = SANITIZE_FLAGS if sanitizing() else FLAGS
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
    partial = library.with_suffix(f".{os.getpid()}.tmp")
    command = [compiler(), *flags, "-include", str(HEADERS[0]), "-x", "c++", str(source_path), "-o", str(partial)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"emulator: g++ failed to compile {source_name}:\n{result.stderr}")
    os.replace(partial, library)  # atomic: a reader never sees half a library


class EmulatedModule:
    """The kernels of one source file, loaded from their shared library."""

    def __init__(self, library, kernel_names):
        self.library = ctypes.CDLL(str(library))
        self.entries = {}
        for name in kernel_names:
            entry = getattr(self.library, f"emulate_{name}")
            entry.restype = ctypes.c_char_p
            entry.argtypes = [ctypes.POINTER(LaunchConfig), ctypes.POINTER(ctypes.c_void_p)]
            self.entries[name] = entry

    def parameter_sizes(self, name):
        """sizeof of each parameter of kernel `name`, as g++ sees them."""
        sizes = getattr(self.library, f"parameter_sizes_{name}")
        sizes.restype = ctypes.POINTER(ctypes.c_uint32)
        table = sizes()
        return [table[i + 1] for i in range(table[0])]

    def launch(self, name, grid, block, shared_mem, arguments):
        """Run kernel `name`; `arguments` are ctypes values (pointers as c_void_p), one per parameter."""
        if os.environ.get("SCRATCHGEN_EMULATOR_TRACE") == "1":
            print(f"emulator: launch {name} grid={tuple(grid)} block={tuple(block)} shared_mem={shared_mem}",
                  file=sys.stderr, flush=True)
        config = LaunchConfig((ctypes.c_uint * 3)(*grid), (ctypes.c_uint * 3)(*block), shared_mem)
        pointers = (ctypes.c_void_p * max(1, len(arguments)))(*(ctypes.addressof(a) for a in arguments))
        error = self.entries[name](ctypes.byref(config), pointers)
        if error is not None:
            raise RuntimeError(f"emulator: kernel {name}: {error.decode()}")


def load(source_text, source_name, kernel_names):
    return EmulatedModule(build(source_text, source_name, kernel_names), kernel_names)


def address_sanitizer_runtime():
    """Path of the compiler's libasan, to LD_PRELOAD into a process that loads sanitized
    libraries (ASan's runtime must come before every other library), or None if it has none."""
    result = subprocess.run([compiler(), "-print-file-name=libasan.so"], capture_output=True, text=True)
    path = pathlib.Path(result.stdout.strip())
    return path if result.returncode == 0 and path.is_absolute() and path.exists() else None
