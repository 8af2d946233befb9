"""Shared benchmark plumbing: timing, the machine's GEMM check, and the results file.

Every benchmark times scratchgen and its reference back to back in one process with the
same thread count and reports the ratio; the machine drifts too much for absolute times
taken minutes apart to mean anything (see docs/PERF.md).
"""
import collections
import datetime
import math
import os
import pathlib
import platform
import re
import statistics
import time

import numpy

RESULTS = pathlib.Path(__file__).parent / "results"


def set_threads(n):
    """Same thread count for NumPy's BLAS, scratchgen's own worker threads and PyTorch."""
    import torch
    from threadpoolctl import threadpool_limits

    from scratchgen.backends import threads
    torch.set_num_threads(n)
    threads.set_num_threads(n)
    return threadpool_limits(n)


Inside = collections.namedtuple("Inside", "ms share")
Inside.__doc__ = """Time a step spends inside some functions: median ms per call, and the
median over calls of that time's share of the call's whole time."""


def ms_inside(step, targets, repeats=10):
    """The Inside of `step` for `targets`: (owner, name) pairs, a Function class and "forward"
    or a module and one of its functions. Where the targets are the work that cannot be avoided
    (the GEMMs, the array passes), the share times the step's ratio to PyTorch is the ratio
    that work alone would give: a share, taken from the same calls as the time inside, holds
    still while the machine's speed drifts between this measurement and the ratio's."""
    spent = [0.0]

    def timed(function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start
        return wrapper
    originals = [(owner, name, owner.__dict__[name]) for owner, name in targets]
    inside, shares = [], []
    try:
        for owner, name, original in originals:
            if isinstance(original, staticmethod):
                setattr(owner, name, staticmethod(timed(original.__func__)))
            else:
                setattr(owner, name, timed(original))
        step()
        for _ in range(repeats):
            spent[0] = 0.0
            start = time.perf_counter()
            step()
            inside.append(spent[0])
            shares.append(spent[0] / (time.perf_counter() - start))
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    return Inside(1e3 * statistics.median(inside), statistics.median(shares))


def gemm_ms_inside(step, repeats=10):
    """ms_inside scratchgen's matrix products (MatMul and Linear forwards, which every
    backward GEMM also goes through): the part of a step that BLAS does."""
    from scratchgen.ops.arithmetic import Linear, MatMul
    return ms_inside(step, [(MatMul, "forward"), (Linear, "forward")], repeats)


def median_ms(fn, repeats=20, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def timed_pair(ours, theirs, repeats, rounds=8, warmup=3, min_block_ms=100):
    """(our median ms, their median ms, ratio) of two step functions, timed in alternating
    blocks of `repeats` calls: blocks (not call-by-call turns) because each library's idle
    worker threads spin for a while after a call (OpenMP for PyTorch) and would steal the
    cores from the other. The ratio is the median over the rounds of our block's median over
    the next block's, theirs: this machine's speed drifts by up to 2x over minutes
    (docs/PERF.md), and a ratio of neighbouring blocks cancels that drift where a ratio of
    whole-run medians does not. A step so short that `repeats` calls of ours take under
    `min_block_ms` is repeated more, until a block of ours lasts that long: a millisecond
    op's block is otherwise one 10 ms sample of the machine, and one burst of another
    tenant's work moves its median."""
    steps = (ours, theirs)
    for step in steps:
        for _ in range(warmup):  # allocations, optimizer state, first-call work, GC generations
            step()
    repeats = max(repeats, math.ceil(min_block_ms / median_ms(ours, repeats=3, warmup=0)))
    blocks = ([], [])  # per step: one list of call times per round
    for _ in range(rounds):
        for step, step_blocks in zip(steps, blocks):
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                step()
                times.append(time.perf_counter() - start)
            step_blocks.append(times)
    ours_ms, theirs_ms = (1e3 * statistics.median(t for block in step_blocks for t in block) for step_blocks in blocks)
    ratio = statistics.median(statistics.median(a) / statistics.median(b) for a, b in zip(*blocks))
    return ours_ms, theirs_ms, ratio


def wait_for_idle(threshold=0.3, patience_s=600):
    """Wait (up to patience_s) until the 1-minute load average per core drops below threshold:
    timings taken beside another job's tests measure the other job. Returns the load."""
    cores = os.cpu_count() or 1
    deadline = time.monotonic() + patience_s
    while os.getloadavg()[0] / cores > threshold and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def gemm_gflops(n=1024, dtype=numpy.float32):
    """The machine check PERF.md asks for: an n^3 GEMM's rate (distrust a run below ~170)."""
    a = numpy.random.default_rng(0).standard_normal((n, n)).astype(dtype)
    ms = median_ms(lambda: a @ a, repeats=10, warmup=2)
    return 2 * n ** 3 / (ms * 1e-3) / 1e9


def cpu_model():
    if os.path.exists("/proc/cpuinfo"):
        match = re.search(r"model name\s*:\s*(.+)", open("/proc/cpuinfo").read())
        if match:
            return match.group(1).strip()
    return platform.processor() or "unknown CPU"


def machine_line(threads):
    import torch
    return (f"{cpu_model()}, {os.cpu_count()} cores, {threads} threads; Python {platform.python_version()}, "
            f"NumPy {numpy.__version__}, PyTorch {torch.__version__}; "
            f"{datetime.date.today().isoformat()}")


def write_section(name, title, body):
    """Replace this benchmark's section for this CPU model in results/cpu.md (other sections,
    and the same benchmark's latest run on other CPU models, are kept: ratios differ by CPU)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "cpu.md"
    text = path.read_text() if path.exists() else "# CPU benchmark results\n\nEach section is written by the script it names.\n"
    key = f"{name}: {cpu_model()}"
    begin, end = f"<!-- {key} -->", f"<!-- /{key} -->"
    section = f"{begin}\n## {title}, {cpu_model()}\n\n{body.strip()}\n{end}"
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
