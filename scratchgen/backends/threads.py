"""Spread a large array operation over the CPU's cores with Python threads.

NumPy releases the GIL inside its ufunc loops, copies and einsum, so two threads that each
run the same NumPy calls on one half of an array run on two cores at once. BLAS already does
this for matrix products; this module does it for the memory-bound work around them (im2col,
col2im, batch normalisation's passes), which would otherwise leave all but one core idle.

The work is cut into exactly one contiguous piece per thread, never into a Python loop over
samples or pixels: `run_in_parts(work, size, elements)` calls `work(start, stop)` for
`threads` consecutive ranges of range(size), one of them on the calling thread. Jobs of
fewer than `MIN_ELEMENTS_PER_THREAD` elements per thread stay on the calling thread: a
hand-off to a worker and back costs about 65 us on the 2-core VMs of shared/PERF.md, as much
as a whole pass over a 64x128x7x7 batch-norm input (1.6 MB), and cutting those passes in two
made batch norm twice as slow. 2^20 elements (4 MB of float32) per thread keep the hand-off
under a tenth of the work; im2col and col2im of the DCGAN's 64-channel layers (12.8 MB) are
still cut.
"""
import os
from concurrent.futures import ThreadPoolExecutor

MIN_ELEMENTS_PER_THREAD = 1 << 20

_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
_pool = None  # (executor, its number of workers), made on first use


def set_num_threads(n):
    """Use n threads (torch.set_num_threads's meaning) for the array work of this module."""
    global _threads, _pool
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int, got {n!r}")
    if _pool is not None:
        _pool[0].shutdown()
    _threads, _pool = n, None


def get_num_threads():
    return _threads


def parts(size, elements):
    """How many pieces `run_in_parts` cuts range(size) into, for work on `elements` numbers."""
    return max(1, min(_threads, size, elements // MIN_ELEMENTS_PER_THREAD))


def run_in_parts(work, size, elements):
    """Call work(start, stop) on consecutive ranges covering range(size), one per thread;
    `elements` (how many numbers the whole job touches) decides whether threads pay off."""
    global _pool
    count = parts(size, elements)
    bounds = [size * k // count for k in range(count + 1)]
    if count == 1:
        work(0, size)
        return
    if _pool is None or _pool[1] < count - 1:
        _pool = ThreadPoolExecutor(max_workers=count - 1, thread_name_prefix="scratchgen"), count - 1
    futures = [_pool[0].submit(work, bounds[k], bounds[k + 1]) for k in range(1, count)]
    work(bounds[0], bounds[1])
    for future in futures:
        future.result()
