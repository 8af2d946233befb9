"""Data-parallel scaling: time per step and bytes all-reduced per step on 1 and 2 ranks of this
machine, and a model of the step time on 1 to 64 ranks at 10 and 100 Gb/s.

    python benchmarks/bench_scale.py [--model dcgan] [--batch 64] [--steps 8] [--ranks 1,2]

What it measures (each a fresh process; the ranks under `mpiexec -n N`, 1 thread each, as
`scratchgen train --nproc N` gives them on a 2-core machine):
1. the compute time of one training step of MODEL on one process, 1 thread, at per-rank
   batches B/8 .. B, fitted as T_c(b) = a + c b (a: the per-step cost that does not shrink
   with the batch: Python, small ops, the optimizer);
2. on N ranks (weak scaling: B rows each, global batch N B; strong scaling: global batch B):
   the median time per step, the bytes of gradient all-reduced per step and in how many
   all-reduces, and the time the step spends averaging gradients;
3. overlap: the library averages at Optimizer.step (the engine adds leaf gradients to .grad
   only after the whole backward pass, autograd/engine.py: backward -> _accumulate_grad).
   The experiment `hooks` starts each bucket's non-blocking all-reduce from Tensor hooks as
   the engine hands the parameters their gradients, and waits at the step: what overlap this
   engine allows.

The model (ring all-reduce, Patarasuk & Yuan 2009; the cost NCCL and MPI's large-message
algorithms reach): one all-reduce of S bytes over N ranks at bandwidth W takes
2 (N-1)/N * S / W + 2 (N-1) alpha, alpha the latency of one message; a step makes one per
bucket of each optimizer step, plus the 1-float all-reduce of the losses. Step time on N
ranks = T_c(per-rank batch) + sum of its all-reduces (no overlap: see 3). alpha is taken as
25 us at 10 Gb/s (TCP over Ethernet) and 3 us at 100 Gb/s (RDMA: InfiniBand or RoCE).
Writes benchmarks/results/scale.md and scale.png.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
sys.path.insert(0, ROOT)

LINKS = {10: 25e-6, 100: 3e-6}  # Gb/s: latency of one message (s)
MODEL_RANKS = (1, 2, 4, 8, 16, 32, 64)
MB = 2 ** 20


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="dcgan", help="a model of `scratchgen list` that trains on MNIST")
    parser.add_argument("--batch", type=int, default=64, help="per-rank batch B (weak scaling); global B (strong)")
    parser.add_argument("--steps", type=int, default=8, help="timed steps per measurement (after 2 warm-up steps)")
    parser.add_argument("--ranks", default="1,2", help="rank counts to measure on this machine")
    parser.add_argument("--data-dir", default=os.environ.get("SCRATCHGEN_DATA", "/work/shared/data/mnist"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # JSON: what one process (or rank) measures
    return parser.parse_args()


# ---- what each process runs ---------------------------------------------------------------------------
class OverlapByHooks:
    """The experiment `hooks`: each parameter's gradient, as the engine hands it over (a Tensor
    hook, called from autograd/engine.py's _accumulate_grad), is copied into its bucket, and a
    full bucket's non-blocking all-reduce starts at once; Optimizer.step then only waits. Assumes
    what the adversarial loop does: zero_grad (to None) before each backward."""

    def __init__(self, group, optimizers, bucket_bytes):
        import numpy
        self.group, self.numpy = group, numpy
        self.bucket_of = {}
        for optimizer in optimizers:
            params = [p for g in optimizer.param_groups for p in g["params"]][::-1]  # backward meets the last first
            bucket, size = [], 0
            for param in params + [None]:
                if param is None or (bucket and size + param.array.nbytes > bucket_bytes):
                    entry = {"params": bucket, "grads": {}, "request": None}
                    for p in bucket:
                        self.bucket_of[id(p)] = entry
                    bucket, size = [], 0
                if param is not None:
                    bucket.append(param)
                    size += param.array.nbytes
                    param.register_hook(self._hook(param))

    def _hook(self, param):
        def hook(grad):
            entry = self.bucket_of[id(param)]
            entry["grads"][id(param)] = grad.array
            if len(entry["grads"]) == len(entry["params"]):
                self._start(entry)
        return hook

    def _start(self, entry):
        flat = self.numpy.concatenate([entry["grads"][id(p)].reshape(-1) for p in entry["params"]])
        entry["flat"] = flat
        entry["request"] = self.group._start_all_reduce(flat)
        self.group.bytes_all_reduced += flat.nbytes

    def average(self, params):
        """Replaces distributed.average_gradients: wait for the buckets of `params`, then .grad = mean."""
        import scratchgen as sg
        entries = {id(self.bucket_of[id(p)]): self.bucket_of[id(p)] for p in params if p.grad is not None}
        for entry in entries.values():
            if entry["request"] is None:  # a bucket some of whose parameters got no gradient
                entry["grads"] = {id(p): p.grad.array for p in entry["params"] if p.grad is not None}
                entry["params"] = [p for p in entry["params"] if p.grad is not None]
                self._start(entry)
        self.group.wait([entry["request"] for entry in entries.values()], "the gradient all-reduce")
        for entry in entries.values():
            entry["flat"] /= self.group.size
            offset = 0
            for p in entry["params"]:
                p.grad = sg.as_tensor(entry["flat"][offset:offset + p.array.size].reshape(p.shape))
                offset += p.array.size
            entry["grads"], entry["request"] = {}, None


def worker(spec):
    """Train spec["model"] for warm-up + spec["steps"] steps; rank 0 prints one RESULT line."""
    import scratchgen as sg
    from scratchgen import distributed
    from scratchgen.models import model_class
    from scratchgen.train import config as settings, session
    spec = json.loads(spec)
    group = distributed.init_from_environment("cpu")
    if group is not None and spec.get("bucket_mib"):
        group.bucket_bytes = int(spec["bucket_mib"] * MB)
    size = distributed.get_world_size()
    config = settings.resolve_config(model_class(spec["model"]), "mnist", {"batch_size": spec["global_batch"]}, 0,
                                     "cpu", spec["data_dir"])
    sg.set_num_threads(spec.get("threads", 1))
    model, batches = session.build(config)
    distributed.broadcast_state(model.state_dict())
    if spec.get("mode") == "hooks" and group is not None:
        optimizers = [value for value in vars(model).values() if isinstance(value, sg.optim.Optimizer)]
        distributed.average_gradients = OverlapByHooks(group, optimizers, int(spec["bucket_mib"] * MB)).average
    averaging = distributed.average_gradients
    spent = [0.0]
    calls = [0]

    def timed_average(params):
        started = time.perf_counter()
        averaging(params)
        spent[0] += time.perf_counter() - started
        calls[0] += 1
    distributed.average_gradients = timed_average
    times, averaging_times = [], []
    for step in range(2 + spec["steps"]):
        if group is not None:
            group.barrier()
        bytes_before, spent[0], calls[0] = (group.bytes_all_reduced if group else 0), 0.0, 0
        started = time.perf_counter()
        losses = model.train_step(next(batches))
        distributed.mean_losses(losses, False)
        elapsed = time.perf_counter() - started
        if step >= 2:
            times.append(elapsed)
            averaging_times.append(spent[0])
        per_step_bytes = (group.bytes_all_reduced if group else 0) - bytes_before
        per_step_calls = calls[0]
    gradient_bytes = sum(p.array.nbytes for value in vars(model).values() if isinstance(value, sg.nn.Module)
                         for p in value.parameters())
    alone = []  # the all-reduce of every gradient, the ranks in step (a barrier first): the transfer alone
    if group is not None:
        arrays = [p.array.copy() for value in vars(model).values() if isinstance(value, sg.nn.Module)
                  for p in value.parameters()]
        for _ in range(10):
            group.barrier()
            started = time.perf_counter()
            group.all_reduce(arrays, "mean")
            alone.append(time.perf_counter() - started)
    if distributed.get_rank() == 0:
        print("RESULT " + json.dumps({
            "ranks": size, "global_batch": spec["global_batch"], "mode": spec.get("mode", "step"),
            "bucket_mib": spec.get("bucket_mib"), "step_ms": 1e3 * statistics.median(times),
            "averaging_ms": 1e3 * statistics.median(averaging_times), "bytes_per_step": per_step_bytes,
            "all_reduces_per_step": per_step_calls, "parameter_bytes": gradient_bytes,
            "allreduce_alone_ms": 1e3 * statistics.median(alone) if alone else 0.0,
            "threads": sg.get_num_threads()}), flush=True)


# ---- the driver -------------------------------------------------------------------------------------------
def measure(args, ranks, global_batch, **spec):
    spec = {"model": args.model, "global_batch": global_batch, "steps": args.steps, "data_dir": args.data_dir, **spec}
    command = [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)]
    if ranks > 1:
        from scratchgen.distributed.launch import mpiexec_path
        command = [mpiexec_path(), "-n", str(ranks)] + command
    env = {**os.environ, "SCRATCHGEN_NUM_THREADS": str(spec.get("threads", 1)), "SCRATCHGEN_COLLECTIVE_TIMEOUT": "300"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(command[:4])} ... failed:\n{done.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    buckets = f" ({result['bucket_mib']} MiB buckets)" if result["bucket_mib"] else ""
    print(f"  {ranks} rank(s), global batch {global_batch}, {result['mode']}{buckets}, {result['threads']} thread(s): "
          f"{result['step_ms']:.1f} ms/step, averaging {result['averaging_ms']:.2f} ms, "
          f"{result['bytes_per_step'] / MB:.2f} MiB in {result['all_reduces_per_step']} all-reduce(s)", flush=True)
    return result


def fit_line(points):
    """(a, c) of the least-squares line t = a + c b through [(b, t)]."""
    n = len(points)
    mean_b = sum(b for b, _ in points) / n
    mean_t = sum(t for _, t in points) / n
    c = sum((b - mean_b) * (t - mean_t) for b, t in points) / sum((b - mean_b) ** 2 for b, _ in points)
    return mean_t - c * mean_b, c


def ring_all_reduce_s(nbytes, ranks, gbps, latency):
    """2 (N-1)/N S / W + 2 (N-1) alpha."""
    if ranks == 1:
        return 0.0
    return 2 * (ranks - 1) / ranks * nbytes / (gbps * 1e9 / 8) + 2 * (ranks - 1) * latency


def step_model(compute_ms, bucket_bytes, ranks, gbps):
    """Modelled step time (ms) on `ranks`: compute, then each all-reduce (gradient buckets + losses)."""
    latency = LINKS[gbps]
    messages = list(bucket_bytes) + [8 * 4]  # the losses and the Ctrl-C flag: a few float64
    return compute_ms + 1e3 * sum(ring_all_reduce_s(size, ranks, gbps, latency) for size in messages)


def machine_line():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    import mpi4py
    import numpy
    from mpi4py import MPI
    return (f"{cpu}, {cores} cores; Python {platform.python_version()}, NumPy {numpy.__version__}, mpi4py "
            f"{mpi4py.__version__}, {' '.join(MPI.Get_library_version().split()[:3])}; {time.strftime('%Y-%m-%d')}; "
            f"load average {os.getloadavg()[0]:.2f} at the end (other processes share these cores: the "
            "measured times are noisy)")


def main():
    args = _parse()
    if args.worker:
        return worker(args.worker)
    ranks_measured = [int(r) for r in args.ranks.split(",")]
    batch = args.batch
    print(f"compute time of one {args.model} step, 1 process, 1 thread:", flush=True)
    curve = {b: measure(args, 1, b) for b in sorted({max(2, batch // 8), max(2, batch // 4), batch // 2, batch})}
    a_ms, c_ms = fit_line([(b, r["step_ms"]) for b, r in curve.items()])
    print(f"  T_c(b) = {a_ms:.1f} ms + {c_ms:.2f} ms * b", flush=True)
    print("on this machine:", flush=True)
    weak = {1: curve[batch]}
    strong = {1: curve[batch]}
    overlap = {}
    for n in ranks_measured:
        if n == 1:
            continue
        weak[n] = measure(args, n, n * batch)
        strong[n] = measure(args, n, batch)
        overlap[n] = {"step, 1 MiB buckets": measure(args, n, n * batch, bucket_mib=1),
                      "hooks, 1 MiB buckets": measure(args, n, n * batch, mode="hooks", bucket_mib=1)}
    two_threads = {b: measure(args, 1, b, threads=2) for b in (batch, 2 * batch)} if 2 in ranks_measured else {}
    parameter_bytes = weak[max(weak)]["parameter_bytes"]
    gradient_bytes = weak[max(weak)]["bytes_per_step"] or parameter_bytes
    # the all-reduces of one step: one per optimizer step (25 MiB buckets hold each network whole)
    per_step = weak[max(weak)]["all_reduces_per_step"] or 2
    bucket_sizes = [gradient_bytes / per_step] * per_step
    write_results(args, curve, (a_ms, c_ms), weak, strong, overlap, two_threads, gradient_bytes, parameter_bytes,
                  bucket_sizes)


def write_results(args, curve, line, weak, strong, overlap, two_threads, gradient_bytes, parameter_bytes,
                  bucket_sizes):
    a_ms, c_ms = line
    batch = args.batch
    rows = []
    for n in MODEL_RANKS:
        row = {"ranks": n}
        for gbps in LINKS:
            weak_ms = step_model(a_ms + c_ms * batch, bucket_sizes, n, gbps)
            strong_ms = step_model(a_ms + c_ms * batch / n, bucket_sizes, n, gbps)
            row[gbps] = {"allreduce_ms": step_model(0.0, bucket_sizes, n, gbps), "weak_ms": weak_ms,
                         "weak_efficiency": (a_ms + c_ms * batch) / weak_ms,
                         "weak_examples_s": n * batch / weak_ms * 1e3,
                         "strong_ms": strong_ms, "strong_speedup": (a_ms + c_ms * batch) / strong_ms}
        rows.append(row)
    os.makedirs(RESULTS, exist_ok=True)
    lines = [f"# Data-parallel scaling: {args.model} on MNIST", "",
             f"Written by `python benchmarks/bench_scale.py --model {args.model} --batch {batch} --steps {args.steps} "
             f"--ranks {args.ranks}`.  ", f"Machine: {machine_line()}.  ",
             "Each rank is a process with 1 thread (`mpiexec -n N`, as `scratchgen train --nproc N` starts them on "
             "this 2-core machine); times are medians over the timed steps; NCCL was not measured (no GPU here: "
             "its code runs in the tests with MPI standing in for it).", "",
             "## Measured on this machine", "",
             f"Gradient all-reduced per step: **{gradient_bytes / MB:.2f} MiB** ({gradient_bytes:,} bytes: the "
             f"parameters of D and of G, {parameter_bytes / MB:.2f} MiB, once each: D's optimizer step and G's) in "
             f"{len(bucket_sizes)} all-reduces, plus one of the losses (a few floats).", "",
             "| ranks | global batch | per-rank batch | ms / step | of which averaging gradients (ms) | "
             "MiB all-reduced / step | examples / s |", "|---|---|---|---|---|---|---|"]
    for title, table in (("weak", weak), ("strong", strong)):
        for n, r in sorted(table.items()):
            if title == "strong" and n == 1:
                continue
            lines.append(f"| {n} | {r['global_batch']} | {r['global_batch'] // n} | {r['step_ms']:.1f} | "
                         f"{r['averaging_ms']:.2f} | {r['bytes_per_step'] / MB:.2f} | "
                         f"{r['global_batch'] / r['step_ms'] * 1e3:.0f} |")
    for b, r in sorted(two_threads.items()):
        lines.append(f"| 1 (2 threads) | {b} | {b} | {r['step_ms']:.1f} | - | 0 | {b / r['step_ms'] * 1e3:.0f} |")
    for n, r in sorted(weak.items()):
        if r.get("allreduce_alone_ms"):
            rate = parameter_bytes / r["allreduce_alone_ms"] / 1e6
            lines += ["", f"The all-reduce of all {parameter_bytes / MB:.2f} MiB of gradients alone, the ranks in "
                      f"step (a barrier first), {n} ranks of this machine (MPICH, shared memory): "
                      f"{r['allreduce_alone_ms']:.2f} ms ({rate:.2f} GB/s of payload). The rest of the averaging "
                      "time in the table is one rank waiting for the other to finish its backward pass."]
    lines += ["", "Compute time of one step on one process, 1 thread, by batch: "
              + ", ".join(f"b={b}: {r['step_ms']:.1f} ms" for b, r in sorted(curve.items()))
              + f"; fitted T_c(b) = {a_ms:.1f} ms + {c_ms:.2f} ms x b.", ""]
    if overlap:
        lines += ["### Overlap", "",
                  "Where the gradient all-reduce starts: at Optimizer.step (what the library does), or from Tensor "
                  "hooks as the engine hands each parameter its gradient (the experiment OverlapByHooks in this "
                  "script), both with 1 MiB buckets so that there are several to start early:", "",
                  "| ranks | where the all-reduce starts | ms / step | ms of the step spent averaging |",
                  "|---|---|---|---|"]
        for n, modes in sorted(overlap.items()):
            for name, r in modes.items():
                lines.append(f"| {n} | {name} | {r['step_ms']:.1f} | {r['averaging_ms']:.2f} |")
        n, modes = max(overlap.items())
        step_mode, hook_mode = modes["step, 1 MiB buckets"], modes["hooks, 1 MiB buckets"]
        at_step, hooks = step_mode["step_ms"], hook_mode["step_ms"]
        lines += ["", f"Measured on {n} ranks: {hooks:.1f} ms per step with the hooks against {at_step:.1f} ms at "
                  f"the step ({(hooks - at_step) / at_step:+.0%}), {hook_mode['averaging_ms']:.2f} against "
                  f"{step_mode['averaging_ms']:.2f} ms of it spent averaging (which counts one rank waiting for "
                  "the other: 8 steps on a shared 2-core machine move it by several ms from run to run). Why "
                  "little can be gained here: the engine "
                  "(autograd/engine.py: backward) adds the leaf gradients into `.grad` (`_accumulate_grad`, where "
                  "the hooks run) only after the whole backward pass, so the hooks fire one after the other at its "
                  "very end, with no backward work left to overlap; and MPICH moves a non-blocking collective on "
                  "only inside MPI calls (no progress thread), so it progresses while the step waits. The library "
                  "therefore averages at Optimizer.step, which also covers every optimizer update of any model "
                  "(GAN critic steps, WGAN-GP's double backward) with one hook that models do not see.", ""]
    lines += ["## Model: 1 to 64 ranks at 10 and 100 Gb/s", "",
              f"Per step: compute T_c(per-rank batch) from the fit above, then the all-reduces, each "
              "2(N-1)/N x S / W + 2(N-1) x alpha (ring), for S = "
              f"{', '.join(f'{size / MB:.2f} MiB' for size in bucket_sizes)} "
              f"and the losses; alpha = {LINKS[10] * 1e6:g} us at 10 Gb/s, {LINKS[100] * 1e6:g} us at 100 Gb/s. "
              f"Weak scaling: {batch} rows per rank (global batch {batch} N); strong scaling: global batch {batch} "
              f"({batch}/N rows per rank; below a few rows the fit's fixed cost a dominates and the line is rough).",
              "",
              "| ranks | all-reduce ms, 10 Gb/s | weak: ms/step, efficiency, 10 Gb/s | all-reduce ms, 100 Gb/s | "
              "weak: ms/step, efficiency, 100 Gb/s | strong: ms/step, speed-up, 10 Gb/s | "
              "strong: ms/step, speed-up, 100 Gb/s |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        ten, hundred = row[10], row[100]
        lines.append(f"| {row['ranks']} | {ten['allreduce_ms']:.2f} | "
                     f"{ten['weak_ms']:.1f}, {ten['weak_efficiency']:.0%} | "
                     f"{hundred['allreduce_ms']:.2f} | {hundred['weak_ms']:.1f}, {hundred['weak_efficiency']:.0%} | "
                     f"{ten['strong_ms']:.1f}, {ten['strong_speedup']:.1f}x | "
                     f"{hundred['strong_ms']:.1f}, {hundred['strong_speedup']:.1f}x |")
    lines += ["", "![step time against ranks](scale.png)", ""]
    with open(os.path.join(RESULTS, "scale.md"), "w") as file:
        file.write("\n".join(lines))
    plot(rows, weak, strong, batch, a_ms + c_ms * batch)
    print(f"wrote {os.path.join(RESULTS, 'scale.md')} and scale.png")


def plot(rows, weak, strong, batch, compute_ms):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ranks = [row["ranks"] for row in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for gbps, style in ((10, "-o"), (100, "-s")):
        left.plot(ranks, [row[gbps]["weak_ms"] for row in rows], style, label=f"model, {gbps} Gb/s")
        right.plot(ranks, [row[gbps]["strong_ms"] for row in rows], style, label=f"model, {gbps} Gb/s")
    left.axhline(compute_ms, color="grey", ls=":", label="compute alone")
    right.plot(ranks, [rows[0][10]["strong_ms"] / n for n in ranks], ":", color="grey", label="ideal (1/N)")
    left.plot(sorted(weak), [weak[n]["step_ms"] for n in sorted(weak)], "k*", ms=12, label="measured, this machine")
    right.plot(sorted(strong), [strong[n]["step_ms"] for n in sorted(strong)], "k*", ms=12,
               label="measured, this machine")
    left.set_title(f"weak scaling: {batch} rows per rank")
    right.set_title(f"strong scaling: global batch {batch}")
    for axis in (left, right):
        axis.set_xscale("log", base=2)
        axis.set_xticks(ranks, [str(n) for n in ranks])
        axis.set_xlabel("ranks")
        axis.set_ylabel("ms per step")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    right.set_yscale("log")
    fig.tight_layout()
    fig.savefig(os.path.join(RESULTS, "scale.png"), dpi=110)


if __name__ == "__main__":
    main()
