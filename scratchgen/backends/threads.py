"""Spread a large array operation over the CPU's cores with Python threads.

NumPy releases the GIL inside its ufunc loops, copies and einsum, so two threads that each
run the same NumPy calls on one half of an array run on two cores at once. BLAS already does
this for matrix products; this module does it for the memory-bound work around them (im2col,
col2im, batch normalisation's passes), which would otherwise leave all but one core idle.

The work is cut into exactly one contiguous piece per thread, never into a Python loop over
samples or pixels: `run_in_parts(work, size, elements)` calls `work(start, stop)` for
`threads` consecutive ranges of range(size), one of them on the calling thread. Jobs of
fewer than `MIN_ELEMENTS_PER_THREAD` elements per thread stay on the calling thread: a
hand-off to a worker and back costs about 65 us on the 2-core VMs of docs/PERF.md, as much
as a whole pass over a 64x128x7x7 batch-norm input (1.6 MB), and cutting those passes in two
made batch norm twice as slow. 2^20 elements (4 MB of float32) per thread keep the hand-off
under a tenth of the work; im2col and col2im of the DCGAN's 64-channel layers (12.8 MB) are
still cut.

How many threads. A thread that waits for a core another process holds stalls the threads
that wait for it, and a GEMM cut in two finishes only when both halves do: beside two busy
processes on 2 cores, a WGAN-GP training on 2 threads ran 5.9x slower than idle, on 1 thread
1.5x (benchmarks/bench_contention.py). So a training run sizes its threads once, when it
starts, to the free cores: `set_num_threads("free")` takes the cores this process may use
(sched_getaffinity) less those that other processes kept busy over a fifth of a second
(/proc/stat's busy time, less this process's own CPU time), at least 1. The count then holds
for the whole run, and is recorded with it, because OpenBLAS's results depend on its thread
count in the last bits for some shapes: a run resumes, and repeats, exactly on the same count.
`set_num_threads(n)` (or SCRATCHGEN_NUM_THREADS=n in the environment) fixes it; the count holds
for this module's threads and, as a process-wide setting (process_settings.py), for OpenBLAS's.
"""
import os
import time
from concurrent.futures import ThreadPoolExecutor

from . import process_settings

MIN_ELEMENTS_PER_THREAD = 1 << 20
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
FREE_CORES_WINDOW_S = 0.2  # how long set_num_threads("free") watches the machine

_threads = CORES
_pool = None  # (executor, its number of workers), made on first use


def set_num_threads(n):
    """Use n threads (torch.set_num_threads's meaning) for scratchgen's array work and OpenBLAS;
    n = "free": SCRATCHGEN_NUM_THREADS if it is set, else as many as there are free cores now
    (see above). Returns the count."""
    if n == "free":
        n = fixed_by_environment() or free_cores()
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int or 'free', got {n!r}")
    global _threads, _pool
    if _pool is not None and n != _threads:
        _pool[0].shutdown()
        _pool = None
    _threads = n
    process_settings.limit_blas_threads(n)
    return n


def get_num_threads():
    return _threads


def free_cores(window=FREE_CORES_WINDOW_S):
    """The cores this process may use less those other processes kept busy over `window`
    seconds, at least 1 (all of them where /proc/stat cannot be read)."""
    start = _cpu_seconds()
    time.sleep(window)
    end = _cpu_seconds()
    if start is None or end is None or end[0] <= start[0]:
        return CORES
    (wall, machine, own), (wall_0, machine_0, own_0) = end, start
    others = max(0.0, (machine - machine_0) - (own - own_0)) / (wall - wall_0)
    return max(1, min(CORES, round(CORES - others)))


def _cpu_seconds():
    """(monotonic time, CPU seconds all cores spent busy since boot, this process's CPU seconds),
    from /proc/stat's first line (user .. steal, less idle and iowait); None without it."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    busy = sum(fields[:8]) - fields[3] - (fields[4] if len(fields) > 4 else 0)
    return time.monotonic(), busy / os.sysconf("SC_CLK_TCK"), sum(os.times()[:2])


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


def fixed_by_environment():
    """The count SCRATCHGEN_NUM_THREADS fixes (a positive int), or None where it is unset."""
    value = os.environ.get("SCRATCHGEN_NUM_THREADS")
    if value is None:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"SCRATCHGEN_NUM_THREADS must be a positive int, got {value!r}")
    return int(value)


def _from_environment():
    if fixed_by_environment() is not None:
        set_num_threads(fixed_by_environment())


_from_environment()
