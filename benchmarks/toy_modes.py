"""Several models on a 2-D toy at the same budget and seeds: modes covered and the high-quality
fraction of `scratchgen eval` (VEEGAN's protocol: 2500 samples; a sample is of high quality
within 3 standard deviations of a centre, a mode is covered by 20 of them), mean +- std.

    python benchmarks/toy_modes.py --models ddgm gan wgan-gp --dataset 8gaussians --seeds 0 1 2 \\
        --steps 8000 --out benchmarks/results/toy-modes-8gaussians

Each run is `scratchgen train MODEL --dataset D --steps N --seed S` with the model's own defaults
for the toys (its networks, optimiser and batch size), then `scratchgen eval`. Writes OUT.json
(every run) and OUT.md (the table). Runs already in OUT.json (same dataset and steps) are kept
and not repeated, so a slow model can be added to the table in a later session.
"""
import argparse
import concurrent.futures
import io
import json
import pathlib
import tempfile

import numpy

from scratchgen import train


def run(job):
    """(model, dataset, seed, steps) -> the eval metrics and the training time of one run."""
    model, dataset, seed, steps = job
    with tempfile.TemporaryDirectory() as folder:
        run_folder, _ = train.start(model, dataset, steps=steps, seed=seed, out=pathlib.Path(folder) / "run",
                                    overrides={"threads": 1, "sample_every": steps}, stream=io.StringIO())
        metrics = train.evaluate(run_folder.path, progress=False)
        return {**metrics, "time_s": run_folder.read_metrics()[-1]["time_s"]}


def earlier_runs(out, dataset, steps):
    """{(model, dataset, seed, steps): metrics} of OUT.json's runs of this dataset and budget."""
    path = out.with_suffix(".json")
    if not path.exists():
        return {}
    saved = json.loads(path.read_text())
    if saved["settings"]["dataset"] != dataset or saved["settings"]["steps"] != steps:
        return {}
    return {(run.pop("model"), dataset, run.pop("seed"), steps): run for run in saved["runs"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["ddgm", "gan", "wgan-gp"])
    parser.add_argument("--dataset", default="8gaussians")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/toy-modes-8gaussians")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    results = earlier_runs(out, args.dataset, args.steps)
    jobs = [(model, args.dataset, seed, args.steps) for model in args.models for seed in args.seeds
            if (model, args.dataset, seed, args.steps) not in results]
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        results.update(zip(jobs, pool.map(run, jobs)))
    args.models = list(dict.fromkeys([job[0] for job in results] + args.models))
    lines = [f"{args.dataset}, {args.steps} steps each, seeds {args.seeds}, every model at its own toy defaults.\n",
             "| model | modes covered, mean +- std | high-quality fraction, mean +- std | per seed (modes / HQ) | "
             "training time per run |", "|---|---|---|---|---|"]
    for model in args.models:
        each = [results[(model, args.dataset, seed, args.steps)] for seed in args.seeds]
        modes = [m["modes_covered"] for m in each]
        quality = [m["high_quality_fraction"] for m in each]
        lines.append(f"| {model} | {numpy.mean(modes):.1f} +- {numpy.std(modes, ddof=1):.1f} | "
                     f"{numpy.mean(quality):.3f} +- {numpy.std(quality, ddof=1):.3f} | "
                     + ", ".join(f"{m} / {q:.3f}" for m, q in zip(modes, quality))
                     + f" | {numpy.mean([m['time_s'] for m in each]):.0f} s |")
    out.with_suffix(".json").write_text(json.dumps({"settings": vars(args), "runs": [
        {"model": job[0], "seed": job[2], **metrics} for job, metrics in results.items()]}, indent=1) + "\n")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
