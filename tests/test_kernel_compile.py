"""Every kernels/*.cu file compiles for the GPU with nvcc (-ptx) and with NVRTC (what CuPy uses
at run time), and for the CPU emulator with g++; and the emulator part of test_kernels.py runs
clean under AddressSanitizer, which names the kernel of any out-of-bounds access.

The GPU compilers need no GPU: nvcc where it is on the PATH, NVRTC where CuPy and the
nvidia-cuda-nvrtc wheel are installed (pip install 'scratchgen[cuda]')."""
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from scratchgen.backends import launch

TESTS = pathlib.Path(__file__).resolve().parent
ROOT = TESTS.parent
KERNEL_FILES = launch.kernel_files()
GPU_ARCH = "compute_90"  # Hopper's virtual architecture: the PTX any H100 or H200 runs
SOURCE_KINDS = {".cu", ".cuh", ".h", ".hpp", ".c", ".cpp", ".py", ".md"}  # what kernels/ may hold


def kernels_in(path):
    """The entry points of a kernel file: each template's float and double instances."""
    return sorted(i.name for k in launch.kernels().values() if k.path == path for i in k.instances())


def _demangle(entry):
    """A PTX entry's kernel name: `name`, or `name<float>` for the Itanium-mangled instance of a
    kernel template `_Z<length><name>I<f or d>E...` (all the mangling these kernels need)."""
    match = re.match(r"_Z(\d+)", entry)
    if not match:
        return entry
    length, start = int(match.group(1)), match.end()
    name, argument = entry[start:start + length], entry[start + length:start + length + 3]
    return f"{name}<{ {'IfE': 'float', 'IdE': 'double'}[argument] }>"


def ptx_entries(ptx):
    return sorted(_demangle(e) for e in re.findall(r"\.entry\s+(\w+)", ptx))


def explicit_instantiations(path):
    """C++ lines that instantiate every kernel template of `path` for float and double (nvcc
    compiles templates that nothing instantiates into no PTX at all)."""
    def declared(parameter):
        return ("const " if parameter.const else "") + parameter.c_type + ("*" if parameter.pointer else "")
    return "".join(f"template __global__ void {i.name}({', '.join(declared(p) for p in i.parameters)});\n"
                   for k in launch.kernels().values() if k.path == path and k.template for i in k.instances())


def test_every_kernel_file_defines_kernels():
    assert KERNEL_FILES, f"no .cu files in {launch.KERNELS_DIR}"
    for path in KERNEL_FILES:
        assert kernels_in(path), f"{path.name} defines no extern \"C\" __global__ kernel"


def _files_under(folder):
    return {p.relative_to(folder) for p in folder.rglob("*") if p.suffix in SOURCE_KINDS and "__pycache__" not in p.parts}


def test_the_package_finds_every_file_of_the_repository_kernels():
    """launch.KERNELS_DIR (scratchgen/kernels in a wheel install, kernels/ in a checkout) holds
    every kernel source, header and emulator file of the repository's kernels/."""
    assert _files_under(ROOT / "kernels") <= _files_under(launch.KERNELS_DIR), launch.KERNELS_DIR


def _package_folder(package, package_dir):
    for prefix, folder in package_dir.items():
        if package == prefix or package.startswith(prefix + "."):
            return ROOT / folder / package[len(prefix):].lstrip(".").replace(".", "/")
    return ROOT / package.replace(".", "/")


def test_the_wheel_carries_every_module_and_kernel_file():
    """pyproject.toml lists its packages by hand (kernels/ is mapped onto scratchgen.kernels):
    each listed package's modules and package data must cover every module of scratchgen/ and
    every source file of kernels/, or an installed scratchgen would miss them."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    package_dir, package_data = setuptools.get("package-dir", {}), setuptools.get("package-data", {})
    shipped = set()
    for package in setuptools["packages"]:
        folder = _package_folder(package, package_dir)
        shipped |= {p for pattern in ["*.py", *package_data.get(package, [])] for p in folder.glob(pattern)}
    wanted = {ROOT / "scratchgen" / p for p in _files_under(ROOT / "scratchgen") if p.suffix == ".py"}
    wanted |= {ROOT / "kernels" / p for p in _files_under(ROOT / "kernels")}
    missing = sorted(str(p.relative_to(ROOT)) for p in wanted - shipped)
    assert not missing, f"pyproject.toml's packages and package-data leave these out of the wheel: {missing}"


@pytest.mark.parametrize("path", KERNEL_FILES, ids=lambda p: p.name)
def test_nvcc_compiles_to_ptx(path, tmp_path):
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not on the PATH (the CUDA toolkit is not installed here)")
    out, source = tmp_path / f"{path.stem}.ptx", tmp_path / path.name
    source.write_text(f'#include "{path}"\n{explicit_instantiations(path)}')
    result = subprocess.run([nvcc, "-ptx", f"-arch={GPU_ARCH}", "-std=c++17", "--Werror", "all-warnings",
                             str(source), "-o", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, f"nvcc failed on {path.name}:\n{result.stderr}"
    assert ptx_entries(out.read_text()) == kernels_in(path)


@pytest.mark.parametrize("path", KERNEL_FILES, ids=lambda p: p.name)
def test_nvrtc_compiles_to_ptx(path):
    nvrtc = pytest.importorskip("cupy_backends.cuda.libs.nvrtc",
                                reason="CuPy is not installed (pip install 'scratchgen[cuda]')")
    program = nvrtc.createProgram(launch.kernel_source(path), path.name, [], [])
    for name in kernels_in(path):
        nvrtc.addNameExpression(program, name)
    try:
        nvrtc.compileProgram(program, [f"-arch={GPU_ARCH}", "-std=c++17"])
    except nvrtc.NVRTCError as error:
        pytest.fail(f"NVRTC failed on {path.name}: {error}\n{nvrtc.getProgramLog(program)}")
    assert ptx_entries(nvrtc.getPTX(program).decode()) == kernels_in(path)


@pytest.mark.parametrize("path", KERNEL_FILES, ids=lambda p: p.name)
def test_emulator_builds_with_the_parsed_signatures(path):
    """g++ builds the file; launch.py checks each parameter's size against its parsed type."""
    module = launch.emulated_module(path)
    assert sorted(module.entries) == kernels_in(path)


def _asan_environment():
    runtime = launch.emulator_module().address_sanitizer_runtime()
    if runtime is None:
        pytest.skip("the C++ compiler has no AddressSanitizer runtime (libasan)")
    return os.environ | {"LD_PRELOAD": str(runtime), "ASAN_OPTIONS": "detect_leaks=0",
                         "SCRATCHGEN_EMULATOR_SANITIZE": "address", "SCRATCHGEN_EMULATOR_TRACE": "1"}


def _launched(output):
    return re.findall(r"emulator: launch (\w+)", output)


def _report(output, lines=60):
    launched = _launched(output)
    last = f"last kernel launched: {launched[-1]}\n" if launched else "no kernel was launched\n"
    return last + "\n".join(output.splitlines()[-lines:])


def test_every_kernel_runs_clean_under_address_sanitizer():
    """The emulator cases of test_kernels.py (two examples per test) with every library built
    with -fsanitize=address: an out-of-bounds index in any kernel aborts the run with a report
    that names the kernel, and every kernel must have been launched."""
    result = subprocess.run([sys.executable, "-m", "pytest", str(TESTS / "test_kernels.py"), "-k", "emulator",
                             "-q", "-x", "-s", "-p", "no:cacheprovider"],
                            env=_asan_environment(), cwd=TESTS.parent, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"test_kernels.py failed under AddressSanitizer:\n{_report(output)}"
    missing = set(launch.kernels()) - set(_launched(output))
    assert not missing, f"kernels never launched under AddressSanitizer: {sorted(missing)}"


PLANTED_BUG = r'''
import numpy
from scratchgen.cuda import emulate

SOURCE = """
extern "C" __global__ void planted_out_of_bounds(float* x, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i <= n) x[i] = 1.0f;  // the bug: i == n is one past the end
}
"""
emulate(SOURCE, "planted_out_of_bounds", 2, 32, (numpy.zeros(40, dtype=numpy.float32), 40))
'''


def test_address_sanitizer_names_the_kernel_of_an_out_of_bounds_write():
    """The check above can fail: a kernel that writes one element past its array is caught."""
    result = subprocess.run([sys.executable, "-c", PLANTED_BUG], env=_asan_environment(), cwd=TESTS.parent,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0, "the out-of-bounds write went unnoticed"
    assert re.search(r"SUMMARY: AddressSanitizer: heap-buffer-overflow .* in planted_out_of_bounds", result.stderr), \
        result.stderr[-3000:]
