"""Run a CUDA kernel on the CPU, checked: the emulator of kernels/emulator for anyone who
writes a kernel.

    from scratchgen.cuda import emulate, KernelFault
    emulate(source, "scale", grid=4, block=64, args=(x, y, 2.0, x.size))

runs kernel `scale` of the CUDA source string `source` on NumPy arrays (a pointer parameter
takes a C-contiguous array of its type, or None; a scalar parameter a Python number), with
every block's threads as fibers. A launch in which two threads race on an address, an access
falls outside the arrays, a thread reads shared memory its block has not written, a
__syncthreads is not reached by every thread, or a warp shuffle breaks the rules raises a
KernelFault subclass that names the kernel, the array, the index and the threads. `seed`
draws the order of blocks and of threads; run a kernel under several seeds. The source may
`#include "x.cuh"` headers of the library's kernels/ folder, and a kernel may be a template
(`template <class T> __global__ void name(const T* x, ...)`), run for the arrays' float32 or
float64.
"""
import functools

from scratchgen.backends import launch
from scratchgen.backends.kernel_faults import (BarrierDivergence, DataRace, KernelFault, OutOfBounds, ShuffleFault,
                                               UninitializedSharedRead)

__all__ = ["emulate", "KernelFault", "DataRace", "OutOfBounds", "UninitializedSharedRead", "BarrierDivergence",
           "ShuffleFault"]


def emulate(source, kernel, grid, block, args, shared_bytes=0, seed=0):
    """Run `kernel` of the CUDA `source` over `grid` blocks of `block` threads (ints or tuples
    of up to 3, x first) with `shared_bytes` of dynamic shared memory per block."""
    text, kernels = _parsed(source)
    if kernel not in kernels:
        raise ValueError(f"emulate: no kernel named {kernel!r} in the source; it defines {sorted(kernels)} "
                         f"(each `extern \"C\" __global__ void name(...)`)")
    instance = kernels[kernel].for_arguments(args)
    grid, block, values, on_gpu = launch.checked_launch(instance, grid, block, args, shared_bytes)
    if on_gpu:
        raise TypeError(f"emulate {kernel}: the arrays must be NumPy arrays, got CuPy arrays (use launch on a GPU)")
    module = _module(text, tuple(i for k in kernels.values() for i in k.instances()))
    launch.run_emulated(module, instance, grid, block, values, shared_bytes, seed)


@functools.lru_cache(maxsize=64)
def _parsed(source):
    text = launch.expand_includes(source, "source.cu", launch.KERNELS_DIR)
    return text, launch.parse_kernels(text, "source.cu")


@functools.lru_cache(maxsize=64)
def _module(text, kernels):
    return launch.load_emulated(text, "source.cu", list(kernels))
