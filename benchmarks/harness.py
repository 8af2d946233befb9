"""Shared benchmark plumbing: timing, the machine's GEMM check, and the results file.

Every benchmark times scratchgen and its reference back to back in one process with the
same thread count and reports the ratio; the machine drifts too much for absolute times
taken minutes apart to mean anything (see ../shared/PERF.md).
"""
import datetime
import os
import pathlib
import platform
import re
import statistics
import time

import numpy

RESULTS = pathlib.Path(__file__).parent / "results"


def set_threads(n):
    """Same thread count for NumPy's BLAS and PyTorch."""
    import torch
    from threadpoolctl import threadpool_limits
    torch.set_num_threads(n)
    return threadpool_limits(n)


def median_ms(fn, repeats=20, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def interleaved_ms(fns, repeats=20, warmup=3):
    """Median ms of each function, timed in alternation so drift hits all of them alike."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, bucket in zip(fns, times):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return [1e3 * statistics.median(t) for t in times]


def gemm_gflops(n=1024, dtype=numpy.float32):
    """The machine check PERF.md asks for: an n^3 GEMM's rate (distrust a run below ~170)."""
    a = numpy.random.default_rng(0).standard_normal((n, n)).astype(dtype)
    ms = median_ms(lambda: a @ a, repeats=10, warmup=2)
    return 2 * n ** 3 / (ms * 1e-3) / 1e9


def machine_line(threads):
    import torch
    cpu = "unknown CPU"
    if os.path.exists("/proc/cpuinfo"):
        match = re.search(r"model name\s*:\s*(.+)", open("/proc/cpuinfo").read())
        cpu = match.group(1).strip() if match else cpu
    return (f"{cpu}, {os.cpu_count()} cores, {threads} threads; Python {platform.python_version()}, "
            f"NumPy {numpy.__version__}, PyTorch {torch.__version__}; "
            f"{datetime.date.today().isoformat()}")


def write_section(name, title, body):
    """Replace this benchmark's section of results/cpu.md (other sections are kept)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "cpu.md"
    text = path.read_text() if path.exists() else "# CPU benchmark results\n\nEach section is written by the script it names.\n"
    begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    section = f"{begin}\n## {title}\n\n{body.strip()}\n{end}"
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)
    return path


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
