"""The energy a `ddgm` run learned on a 2-D toy (Kim & Bengio 2016), drawn over the plane, with
the generator's samples and the data's mode centres on top:

    scratchgen train ddgm --dataset 8gaussians --steps 3000 --out runs/ddgm-8g
    python benchmarks/ddgm_energy_surface.py runs/ddgm-8g --out docs/images/ddgm-8gaussians-energy.png

The colour is E(x) of the run's newest checkpoint (eval mode), low energy (high probability
exp(-E(x)) / Z) dark; the dots are G's samples, the crosses the mixture's centres (the swiss
roll has none). Needs matplotlib (pip install "scratchgen[plot]").
"""
import argparse

import matplotlib
import numpy

import scratchgen as sg
from scratchgen.data import TOY_DISTRIBUTIONS
from scratchgen.train.session import load_trained

matplotlib.use("Agg")
from matplotlib import pyplot  # after choosing the backend


def energy_grid(model, extent, resolution):
    """(xs, ys, E on the grid (resolution, resolution)) of the model's energy net, in eval mode."""
    axis = numpy.linspace(-extent, extent, resolution, dtype=numpy.float32)
    xs, ys = numpy.meshgrid(axis, axis)
    points = sg.tensor(numpy.stack([xs.ravel(), ys.ravel()], axis=1))
    with model.evaluating(), sg.no_grad():
        energy = model.discriminate(points).numpy()
    return xs, ys, energy.reshape(xs.shape)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a run folder of `scratchgen train ddgm` on a 2-D toy")
    parser.add_argument("--out", default="ddgm-energy.png", help="the PNG to write")
    parser.add_argument("--samples", type=int, default=1000, help="G's samples drawn on top")
    parser.add_argument("--extent", type=float, default=2.2, help="the plane drawn: [-extent, extent]^2")
    args = parser.parse_args()
    _, config, model, step = load_trained(args.run)
    if config["dataset"] not in TOY_DISTRIBUTIONS:
        parser.error(f"{args.run} trained on {config['dataset']}, not a 2-D toy")
    xs, ys, energy = energy_grid(model, args.extent, 200)
    samples = model.sample(args.samples, generator=sg.Generator(0))
    figure, axes = pyplot.subplots(figsize=(5.5, 4.8))
    low, high = numpy.percentile(energy, [0, 95])  # the far corners' quadratic walls would swamp the colours
    contour = axes.contourf(xs, ys, numpy.clip(energy, low, high), levels=40, cmap="viridis")
    figure.colorbar(contour, ax=axes, label="E(x)")
    axes.scatter(samples[:, 0], samples[:, 1], s=3, c="white", alpha=0.6, label="G(z)")
    centers = getattr(TOY_DISTRIBUTIONS[config["dataset"]], "centers", None)
    if centers is not None:
        axes.scatter(centers[:, 0], centers[:, 1], marker="x", c="red", s=30, label="mode centres")
    axes.set(title=f"ddgm, {config['dataset']}, step {step}", aspect="equal", xlim=(-args.extent, args.extent),
             ylim=(-args.extent, args.extent))
    axes.legend(loc="lower right", fontsize=7)
    figure.tight_layout()
    figure.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
