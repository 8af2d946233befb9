"""The Unrolled GAN and its PyTorch twin in lockstep at the benchmark's full size: the twin
starts from scratchgen's weights, and both take the same batches and the same noise, so any
gap between them after N steps is floating-point drift, not a difference of method.

    python benchmarks/reference/unrolled_lockstep.py --unroll 5 --steps 60

prints both libraries' losses and the largest weight difference of G and D every 10 steps.
tests/test_unrolled_twin.py checks the same on tiny networks for 3 steps; this runs the
notebook's networks (2 x 128 tanh, z 256, batch 512) for as long as asked.
"""
import argparse
import pathlib
import sys

import numpy
import torch

import scratchgen as sg
from scratchgen.models.unrolled_gan import UnrolledGAN
from scratchgen.train import session
from scratchgen.train.config import resolve_config

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from torch_twins_unrolled import TorchUnrolledGAN  # noqa: E402


def largest_weight_gap(ours, twin):
    gaps = {}
    for name in ("G", "D"):
        theirs = getattr(twin, name).state_dict()
        gaps[name] = max(float(numpy.abs(v.numpy() - theirs[k].numpy()).max())
                         for k, v in getattr(ours, name).state_dict().items())
    return gaps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--unroll", type=int, default=5)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    sg.set_num_threads(1)
    config = resolve_config(UnrolledGAN, "8gaussians", {"unroll": args.unroll}, seed=args.seed)
    ours, batches = session.build(config)
    twin = TorchUnrolledGAN(config)
    for name in ("G", "D"):
        getattr(twin, name).load_state_dict({k: torch.from_numpy(v.numpy().copy())
                                             for k, v in getattr(ours, name).state_dict().items()})
    ours_noise, twin_noise = numpy.random.default_rng(args.seed), numpy.random.default_rng(args.seed)
    ours.noise = lambda n, size, generator=None: sg.tensor(ours_noise.standard_normal((n, size), dtype=numpy.float32))
    twin.noise = lambda *shape: torch.from_numpy(twin_noise.standard_normal(shape, dtype=numpy.float32))
    for step in range(1, args.steps + 1):
        batch = next(batches)
        our_losses, twin_losses = ours.train_step(batch), twin.train_step((batch[0].numpy(),))
        if step == 1 or step % 10 == 0:
            losses = ", ".join(f"{k} {our_losses[k]:.6f} / {twin_losses[k]:.6f}" for k in our_losses)
            print(f"step {step}: {losses}; largest weight gap {largest_weight_gap(ours, twin)}", flush=True)


if __name__ == "__main__":
    main()
