"""GAIL and behavioural cloning against the number of expert trajectories: the paper's Figure 1
(Ho & Ermon 2016) on the classic-control tasks, scores normalised so that a random policy is 0
and the expert 1, over several seeds.

    python benchmarks/gail_trajectories.py --env CartPole-v1 Acrobot-v1 --trajectories 1 4 7 10 \\
        --seeds 0 1 2 3 4 --experts runs/experts --out benchmarks/results/gail-trajectories

An expert is the run folder EXPERTS/ENV, a `scratchgen train trpo --env ENV --steps N` run; one
that is missing is trained first, with N from EXPERT_RUNS.
Each imitation run is `scratchgen train gail|bc --env ENV --expert EXPERTS/ENV --trajectories N
--seed S` with the settings below, then `scratchgen eval` (the mean return of 50 episodes, the
pipeline's evaluation). The random policy's return is measured over 50 episodes of uniform
actions. Writes OUT.json (every run), OUT.md (the table), OUT.png (the figure) and
OUT-experts.png (the experts' return curves).
"""
import argparse
import concurrent.futures
import io
import json
import pathlib
import tempfile

import numpy

import scratchgen as sg
from scratchgen import train
from scratchgen.data.environments import EpisodeStream

# the expert of each task: (model, steps); on MountainCar-v0 TRPO first reaches the goal after about 30 iterations
EXPERT_RUNS = {"CartPole-v1": ("trpo", 30), "Acrobot-v1": ("trpo", 60), "MountainCar-v0": ("trpo", 100)}
GAIL = dict(threads=1, log_every=5)
BC = dict(threads=1, log_every=100)
EPISODES = 50


def expert_run(experts, env):
    path = pathlib.Path(experts) / env
    if not (path / "config.json").exists():
        model, steps = EXPERT_RUNS[env]
        train.start(model, env, steps=steps, overrides={"log_every": 1}, out=path, stream=io.StringIO())
    return path


def random_return(env, seed=0):
    """The mean return of EPISODES episodes of uniformly random actions."""
    stream = EpisodeStream(env, sg.Generator(seed))
    rng = numpy.random.default_rng(seed)
    task = stream.task

    def act(observations):
        if task.discrete:
            return rng.integers(0, task.actions, len(observations))
        return rng.uniform(task.low, task.high, (len(observations), task.actions))
    return float(numpy.mean([e.total_reward for e in stream.episodes(act, 10 ** 12, EPISODES)]))


def imitate(job):
    """One imitation run (method, env, trajectories, seed, expert, steps) -> its eval return."""
    method, env, trajectories, seed, expert, steps = job
    with tempfile.TemporaryDirectory() as folder:
        overrides = dict(GAIL if method == "gail" else BC, expert=str(expert), trajectories=trajectories)
        run, _ = train.start(method, env, steps=steps, overrides=overrides, seed=seed, out=pathlib.Path(folder) / "run",
                             stream=io.StringIO())
        return train.evaluate(run.path, progress=False)["return_mean"]


def table(results, envs, counts):
    lines = ["| task | method | " + " | ".join(f"{n} traj." for n in counts) + " |",
             "|---|---|" + "---|" * len(counts)]
    for env in envs:
        for method in ("gail", "bc"):
            cells = []
            for n in counts:
                scores = results["scores"][env][method][str(n)]
                cells.append(f"{numpy.mean(scores):.2f} +- {numpy.std(scores, ddof=1) if len(scores) > 1 else 0:.2f}")
            lines.append(f"| {env} | {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def figure(results, envs, counts, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(envs), figsize=(4 * len(envs), 3.2), squeeze=False)
    for ax, env in zip(axes[0], envs):
        for method, label in (("gail", "GAIL"), ("bc", "behavioural cloning")):
            scores = [results["scores"][env][method][str(n)] for n in counts]
            ax.errorbar(counts, [numpy.mean(s) for s in scores], [numpy.std(s) for s in scores], marker="o",
                        capsize=3, label=label)
        ax.axhline(1, color="gray", lw=0.8, ls="--")
        ax.axhline(0, color="gray", lw=0.8, ls=":")
        ax.set(title=env, xlabel="expert trajectories", ylabel="performance (random 0, expert 1)", xticks=counts)
    axes[0][0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def expert_curves(experts, path):
    """The return of each expert run against its TRPO iterations (its metrics.jsonl)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(experts), figsize=(4 * len(experts), 3), squeeze=False)
    for ax, (env, folder) in zip(axes[0], experts.items()):
        records = train.RunFolder.open(folder).read_metrics()
        ax.plot([r["step"] for r in records], [r["return"] for r in records])
        model = json.loads((pathlib.Path(folder) / "config.json").read_text())["model"]
        ax.set(title=f"{model} expert, {env}", xlabel="iteration", ylabel="mean return of the iteration's episodes")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", nargs="+", default=["CartPole-v1", "Acrobot-v1"])
    parser.add_argument("--trajectories", nargs="+", type=int, default=[1, 4, 7, 10])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--gail-steps", type=int, default=50, help="GAIL's TRPO iterations")
    parser.add_argument("--bc-steps", type=int, default=2000, help="cloning's Adam steps")
    parser.add_argument("--experts", default="runs/experts")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once, one thread each")
    parser.add_argument("--out", default="benchmarks/results/gail-trajectories")
    args = parser.parse_args()
    experts = {env: expert_run(args.experts, env) for env in args.env}
    results = {"settings": vars(args), "expert_return": {}, "random_return": {}, "returns": {}, "scores": {}}
    jobs = [(method, env, n, seed, experts[env], args.gail_steps if method == "gail" else args.bc_steps)
            for env in args.env for method in ("gail", "bc") for n in args.trajectories for seed in args.seeds]
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        returns = dict(zip(jobs, pool.map(imitate, jobs)))
    for env in args.env:
        expert = train.evaluate(experts[env], progress=False)["return_mean"]
        random = random_return(env)
        results["expert_return"][env], results["random_return"][env] = expert, random
        for key in ("returns", "scores"):
            results[key][env] = {method: {str(n): [] for n in args.trajectories} for method in ("gail", "bc")}
        for (method, job_env, n, seed, _, _), value in returns.items():
            if job_env == env:
                results["returns"][env][method][str(n)].append(value)
                results["scores"][env][method][str(n)].append((value - random) / (expert - random))
    out = pathlib.Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    header = (f"Normalised return (random 0, expert 1), mean +- std over seeds {args.seeds}; GAIL {args.gail_steps} "
              f"TRPO iterations, cloning {args.bc_steps} Adam steps.\n\nExpert / random returns: "
              + ", ".join(f"{env} {results['expert_return'][env]:.1f} / {results['random_return'][env]:.1f}"
                          for env in args.env) + "\n\n")
    out.with_suffix(".md").write_text(header + table(results, args.env, args.trajectories))
    figure(results, args.env, args.trajectories, out.with_suffix(".png"))
    expert_curves(experts, out.with_name(out.name + "-experts.png"))
    print(header + table(results, args.env, args.trajectories))


if __name__ == "__main__":
    main()
