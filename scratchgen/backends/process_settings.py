"""Process-wide settings that make the CPU backend faster, in one place.

`apply()` runs once, when scratchgen.backends is first imported (before NumPy loads, when
scratchgen is imported first); set SCRATCHGEN_PROCESS_SETTINGS=0 in the environment to
leave the process as it was. Both settings change only speed, never a result:

- OPENBLAS_THREAD_TIMEOUT=4 (unless already set): OpenBLAS's idle threads spin for about
  2^28 cycles (a tenth of a second) after each matrix product, taking the cores from the
  im2col, col2im and elementwise work that follows it in a training step (a DCGAN step ran
  20-30% slower). 2^4 cycles lets them sleep at once; the price is a wake-up of microseconds
  per product. OpenBLAS reads the variable when NumPy loads it, so it holds only where
  scratchgen is imported before NumPy.
- glibc's allocator keeps freed blocks of up to 32 MiB (M_MMAP_THRESHOLD, and
  M_TRIM_THRESHOLD so the heap is not trimmed): by default it hands large blocks back to
  the OS, so the next array of that size takes a page fault on each of its 4 KiB pages,
  about 5 ms of a DCGAN conv2d step with its 12.8 MB columns. No-op off glibc.

And one setting made when scratchgen's thread count is set (threads.py: a training run sizes
it to the cores other processes leave free): OpenBLAS's thread count follows it, through
threadpoolctl.
"""
import ctypes
import os

SWITCH = "SCRATCHGEN_PROCESS_SETTINGS"
OPENBLAS_THREAD_TIMEOUT = "4"
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 1 << 30
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)

applied = False


def enabled():
    return os.environ.get(SWITCH, "1") != "0"


def apply():
    """Apply both settings (once) unless SCRATCHGEN_PROCESS_SETTINGS=0."""
    global applied
    if applied or not enabled():
        return
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", OPENBLAS_THREAD_TIMEOUT)
    _keep_freed_memory_mapped()
    applied = True


def _keep_freed_memory_mapped():
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def limit_blas_threads(n):
    """OpenBLAS's threads (NumPy's BLAS) set to n, unless SCRATCHGEN_PROCESS_SETTINGS=0."""
    if enabled():
        _blas_controller().limit(limits=n, user_api="blas")


def _blas_controller():
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController  # after NumPy has loaded its BLAS
        _controller = ThreadpoolController()
    return _controller


_controller = None
