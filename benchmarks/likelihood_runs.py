"""A table and learning curves of likelihood runs already trained and evaluated with the CLI
(`scratchgen train ... --out RUN`, then `scratchgen eval RUN`), e.g. the IAF VAE at several depths:

    python benchmarks/likelihood_runs.py runs/iaf0 runs/iaf2 runs/iaf4 --out benchmarks/results/iaf-vae-depths

writes OUT.md (the machine it is written on, then one row per run: model, the settings that
differ between the runs, steps, training time, test ELBO and test NLL (and a semi-supervised
model's test accuracy) with the k and test images eval used) and OUT.png (the training loss,
averaged over windows of `--window` steps, against the step, one line per run).
Needs matplotlib (pip install "scratchgen[plot]").
"""
import argparse
import datetime
import json
import os
import pathlib

import matplotlib
import numpy

import harness

matplotlib.use("Agg")
from matplotlib import pyplot  # noqa: E402 (after choosing the backend)

SHOWN = ("model", "seed", "steps", "batch_size")  # always in the table; other settings only where runs differ


def read_run(folder):
    """(config, metrics records, eval results) of a run folder."""
    folder = pathlib.Path(folder)
    config = json.loads((folder / "config.json").read_text())
    records = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines() if line]
    return config, records, json.loads((folder / "eval.json").read_text())


def differing_settings(configs):
    """The settings whose values are not the same in every config (the run's output folder aside)."""
    keys = dict.fromkeys(key for config in configs for key in config if key not in (*SHOWN, "out", "data_dir"))
    return [key for key in keys if len({json.dumps(config.get(key)) for config in configs}) > 1]


def smoothed_loss(records, window):
    """(window end steps, mean training loss over each window of `window` steps)."""
    steps = numpy.array([record["step"] for record in records])
    losses = numpy.array([record["loss"] for record in records])
    ends = numpy.arange(window, steps[-1] + 1, window)
    return ends, [losses[(steps > end - window) & (steps <= end)].mean() for end in ends]


def result_cells(results, with_accuracy):
    """One run's eval numbers as table cells: test ELBO, test NLL, [test accuracy], what eval used."""
    nll = results.get("test_nll_iwae", results.get("test_nll"))
    cells = [f"{results['test_elbo']:.2f}" if "test_elbo" in results else "-", "-" if nll is None else f"{nll:.2f}"]
    if with_accuracy:
        cells.append(f"{results['test_accuracy']:.2%}" if "test_accuracy" in results else "-")
    used = f"first {results['n_test']} test images"
    cells.append(f"k = {results['k']}, {used}" if "k" in results else used)
    return cells


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--out", required=True)
    parser.add_argument("--window", type=int, default=1000, help="steps per point of the smoothed training loss")
    args = parser.parse_args()
    runs = [(pathlib.Path(folder).name, *read_run(folder)) for folder in args.runs]
    varied = differing_settings([config for _, config, _, _ in runs])
    with_accuracy = any("test_accuracy" in results for *_, results in runs)  # m2's classifier
    columns = ["run", *SHOWN, *varied, "training time", "test ELBO", "test NLL",
               *(["test accuracy"] if with_accuracy else []), "eval"]
    machine = f"{harness.cpu_model()}, {os.cpu_count()} cores, {datetime.date.today().isoformat()}"
    lines = [f"Written on {machine}; training times are each run's own (metrics.jsonl's time_s).", "",
             "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for name, config, records, results in runs:
        cells = [name, *(str(config[key]) for key in SHOWN), *(json.dumps(config.get(key)) for key in varied),
                 f"{records[-1]['time_s']:.0f} s", *result_cells(results, with_accuracy)]
        lines.append("| " + " | ".join(cells) + " |")
    out = pathlib.Path(args.out)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    figure, axes = pyplot.subplots(figsize=(7, 4.5))
    for name, config, records, _ in runs:  # the runs by folder name: the table says how their settings differ
        axes.plot(*smoothed_loss(records, args.window), lw=1, label=name)
    axes.set_xlabel("step")
    axes.set_ylabel(f"training loss, mean of {args.window} steps")
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(out.with_suffix(".png"), dpi=100)
    pyplot.close(figure)


if __name__ == "__main__":
    main()
