"""TRPO against TRPO + VIME on the sparse MountainCar (reward 1 at the goal, 0 elsewhere): the
fraction of seeds that reach the goal, the return against iterations (the paper's Figure 2,
Houthooft et al. 2016) and the states each visits (its state-space coverage).

    python benchmarks/vime_mountaincar.py --seeds 0 1 2 3 4 --steps 30 \\
        --out benchmarks/results/vime-mountaincar

Each run is `scratchgen train trpo|vime --env MountainCarSparse --seed S --steps N` with the
models' defaults and batch_size 2000 for both (the same settings, episodes and seeds), trained in
this process so that the visited states can be counted. Writes OUT.json (the return of every
iteration of every run, and how many of every 20th visited state fall in each cell of a 60 x 60
grid over position and velocity), OUT.md (the table) and OUT.png (return curves and coverage).
"""
import argparse
import concurrent.futures
import json
import pathlib

import numpy

import scratchgen as sg
from scratchgen.models import model_class
from scratchgen.train.config import resolve_config
from scratchgen.train.datasets import training_batches

TASK = "MountainCarSparse"
GRID = dict(bins=60, range=[[-1.2, 0.6], [-0.07, 0.07]])  # (position, velocity) cells of the coverage pictures


def visits(states):
    """How many of `states` (M, 2) fall in each (position, velocity) cell of GRID: (60, 60) ints."""
    return numpy.histogram2d(states[:, 0], states[:, 1], **GRID)[0].astype(int)


class RecordingStream:
    """The run's episode stream, keeping the (position, velocity) of every state it visits."""

    def __init__(self, stream):
        self.stream, self.states = stream, []

    def episodes(self, act, min_steps=1, max_episodes=None):
        episodes = self.stream.episodes(act, min_steps, max_episodes)
        self.states.append(numpy.concatenate([episode.observations for episode in episodes]))
        return episodes


def run(job):
    """(returns per iteration, visited states (M, 2) float16) of one run (model, seed, steps)."""
    name, seed, steps = job
    sg.set_num_threads(1)
    cls = model_class(name)
    config = resolve_config(cls, TASK, {"batch_size": 2000}, seed=seed)
    sg.manual_seed(seed)  # as train.start: the networks' initial weights
    model = cls(config)
    stream = RecordingStream(training_batches(config, cls.image_layout, 1))
    returns = [model.train_step((stream,))["return"] for _ in range(steps)]
    return returns, numpy.concatenate(stream.states).astype(numpy.float16)


def figure(results, seeds, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    for name, label in (("trpo", "TRPO"), ("vime", "TRPO + VIME")):
        curves = numpy.array([results[name][str(seed)]["returns"] for seed in seeds])
        steps = numpy.arange(1, curves.shape[1] + 1)
        axes[0].plot(steps, curves.mean(0), label=label)
        axes[0].fill_between(steps, curves.min(0), curves.max(0), alpha=0.2)
    axes[0].set(xlabel="TRPO iteration", ylabel="return (fraction of episodes at the goal)",
                title=f"sparse MountainCar, {len(seeds)} seeds (band: min to max)")
    axes[0].legend()
    (x_low, x_high), (v_low, v_high) = GRID["range"]
    for ax, name, label in ((axes[1], "trpo", "TRPO"), (axes[2], "vime", "TRPO + VIME")):
        counts = sum(numpy.array(results[name][str(seed)]["visits"]) for seed in seeds)
        ax.imshow(numpy.ma.masked_equal(counts.T, 0), origin="lower", aspect="auto", cmap="viridis",
                  extent=(x_low, x_high, v_low, v_high))
        ax.axvline(0.5, color="red", lw=1)
        ax.set(xlabel="position", ylabel="velocity", title=f"states visited: {label}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, default=30, help="TRPO iterations of each run")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/vime-mountaincar")
    args = parser.parse_args()
    jobs = [(name, seed, args.steps) for name in ("vime", "trpo") for seed in args.seeds]
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        outcomes = dict(zip(jobs, pool.map(run, jobs)))
    results = {name: {} for name in ("trpo", "vime")}
    for (name, seed, _), (returns, states) in outcomes.items():
        results[name][str(seed)] = {"returns": returns, "visits": visits(states[::20]).tolist()}  # every 20th state
    lines = ["| agent | seeds that reached the goal | first iteration at the goal (those that did) | "
             "return at the last iteration, mean +- std |", "|---|---|---|---|"]
    for name in ("trpo", "vime"):
        curves = [numpy.array(results[name][str(seed)]["returns"]) for seed in args.seeds]
        firsts = [int(numpy.argmax(c > 0)) + 1 for c in curves if (c > 0).any()]
        last = [c[-1] for c in curves]
        lines.append(f"| {name} | {len(firsts)} of {len(curves)} | {', '.join(map(str, firsts)) or '-'} | "
                     f"{numpy.mean(last):.2f} +- {numpy.std(last, ddof=1):.2f} |")
    out = pathlib.Path(args.out)
    out.with_suffix(".json").write_text(json.dumps({"settings": vars(args), **results}) + "\n")
    text = (f"Sparse MountainCar (reward 1 at the goal), {args.steps} TRPO iterations of 2000+ steps, seeds "
            f"{args.seeds}.\n\n" + "\n".join(lines) + "\n")
    out.with_suffix(".md").write_text(text)
    figure(results, args.seeds, out.with_suffix(".png"))
    print(text)


if __name__ == "__main__":
    main()
