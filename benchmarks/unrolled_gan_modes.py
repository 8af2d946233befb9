"""Unrolled GAN on the 8 Gaussians: modes covered and the high-quality fraction for several K
(unrolling steps) and seeds, and the paper's Figure 1 (Metz et al. 2016) as a picture: one row
per K, one column per snapshot of training, G's samples over the ring's centres.

    python benchmarks/unrolled_gan_modes.py --unroll 0 1 5 10 --seeds 0 1 2 --steps 2000 \\
        --out benchmarks/results/unrolled-gan-8gaussians

writes OUT.json (every snapshot of every run), OUT.md (the table at the last step: mean and
each seed) and OUT.png (the figure, for the first seed). Each finished run is kept in
OUT-runs/K<k>-seed<s>.npz, and a run already there is not trained again: several processes
with different --unroll or --seeds can share the work, and a last call with all of them
writes the table and the figure. Each run is `scratchgen train
unrolled-gan --set unroll=K --seed S --steps N` (the same settings, batches and noise), trained
in this process; the metrics are those of `scratchgen eval` (VEEGAN's protocol: a sample is of
high quality within 3 standard deviations of a centre, a mode is covered by one of them).
"""
import argparse
import json
import pathlib
import time

import numpy

import scratchgen as sg
from scratchgen.metrics import toy_sample_metrics
from scratchgen.models.unrolled_gan import UnrolledGAN
from scratchgen.train.config import resolve_config
from scratchgen.train.datasets import EVAL_STREAM, stream, training_batches
from scratchgen.train.evaluation import TOY_SAMPLES


def train(unroll, seed, steps, snapshots, dataset, overrides):
    """[(step, metrics, samples)] at `snapshots` evenly spaced steps of one run."""
    config = resolve_config(UnrolledGAN, dataset, dict(overrides, unroll=unroll, steps=steps), seed=seed)
    sg.manual_seed(seed)  # as train.start: the networks' initial weights
    model, batches = UnrolledGAN(config), training_batches(config, UnrolledGAN.image_layout, 1)
    marks = set(numpy.linspace(0, steps, snapshots + 1).astype(int)[1:])
    records = []
    for step in range(1, steps + 1):
        model.train_step(next(batches))
        if step in marks:
            samples = model.sample(TOY_SAMPLES, generator=stream(seed, EVAL_STREAM))
            records.append((step, toy_sample_metrics(samples, dataset), samples))
    return records


def run_file(out, k, seed, steps):
    return out.parent / f"{out.name}-runs" / f"K{k}-seed{seed}-steps{steps}.npz"


def load_or_train(out, k, seed, args, overrides):
    """The snapshots of run (k, seed): from its file, or trained now and saved there."""
    path = run_file(out, k, seed, args.steps)
    if path.exists():
        with numpy.load(path) as saved:
            metrics = json.loads(str(saved["metrics"]))
            return [(step, m, saved[f"samples_{step}"]) for step, m in metrics]
    start = time.perf_counter()
    records = train(k, seed, args.steps, args.snapshots, args.dataset, overrides)
    print(f"K={k} seed={seed}: {[(s, m['modes_covered']) for s, m, _ in records]} "
          f"({time.perf_counter() - start:.0f} s)", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    numpy.savez_compressed(path, metrics=json.dumps([(step, m) for step, m, _ in records]),
                           **{f"samples_{step}": samples for step, _, samples in records})
    return records


def table(results, unrolls, seeds):
    lines = ["| K | modes covered (of 8), mean | high-quality fraction, mean | per seed (modes / HQ) |",
             "|---|---|---|---|"]
    for k in unrolls:
        last = [results[(k, seed)][-1][1] for seed in seeds]
        modes, quality = [m["modes_covered"] for m in last], [m["high_quality_fraction"] for m in last]
        each = ", ".join(f"{m} / {q:.2f}" for m, q in zip(modes, quality))
        lines.append(f"| {k} | {numpy.mean(modes):.1f} | {numpy.mean(quality):.2f} | {each} |")
    return "\n".join(lines) + "\n"


def figure(results, unrolls, seed, dataset, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    centers = sg.data.toy_distribution(dataset).centers
    columns = len(results[(unrolls[0], seed)])
    fig, axes = plt.subplots(len(unrolls), columns, figsize=(2 * columns, 2 * len(unrolls)), squeeze=False)
    for row, k in enumerate(unrolls):
        for col, (step, metrics, samples) in enumerate(results[(k, seed)]):
            ax = axes[row][col]
            ax.scatter(samples[:, 0], samples[:, 1], s=1, alpha=0.3, color="tab:green")
            ax.scatter(centers[:, 0], centers[:, 1], s=12, marker="x", color="black")
            ax.set(xlim=(-2, 2), ylim=(-2, 2), xticks=[], yticks=[], aspect="equal")
            ax.set_title(f"step {step}: {metrics['modes_covered']} modes", fontsize=8)
            if col == 0:
                ax.set_ylabel(f"K = {k}")
    fig.suptitle(f"Unrolled GAN on {dataset}, seed {seed}: rows K unrolling steps, columns training steps")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--unroll", type=int, nargs="+", default=[0, 1, 5, 10])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--snapshots", type=int, default=5)
    parser.add_argument("--dataset", default="8gaussians")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=JSON", help="other settings, as --set of train")
    parser.add_argument("--out", default="benchmarks/results/unrolled-gan-8gaussians")
    args = parser.parse_args(argv)
    overrides = {key: json.loads(value) for key, value in (item.split("=", 1) for item in args.set)}
    sg.set_num_threads(1)  # several of these runs side by side are faster than one on every core
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    results = {(k, seed): load_or_train(out, k, seed, args, overrides) for k in args.unroll for seed in args.seeds}
    out.with_suffix(".json").write_text(json.dumps(
        {"args": vars(args), "runs": [{"unroll": k, "seed": seed, "snapshots": [{"step": s, **m} for s, m, _ in runs]}
                                      for (k, seed), runs in results.items()]}, indent=1))
    out.with_suffix(".md").write_text(f"Unrolled GAN, {args.dataset}, {args.steps} steps, seeds {args.seeds}\n\n"
                                      + table(results, args.unroll, args.seeds))
    figure(results, args.unroll, args.seeds[0], args.dataset, out.with_suffix(".png"))
    print(table(results, args.unroll, args.seeds))


if __name__ == "__main__":
    main()
