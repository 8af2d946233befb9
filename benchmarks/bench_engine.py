"""Engine benchmarks against PyTorch CPU (same process, same thread count):

1. engine overhead: a chain of 10,000 tiny ops (mul, add, tanh on 4 numbers), forward + backward;
2. MLP VAE training step (Kingma & Welling 2013): 784-400-20-400-784, batch 128, Adam, float32.

    python benchmarks/bench_engine.py [--threads 2] [--repeats 20]

Prints a table and writes the "engine" section of benchmarks/results/cpu.md.
"""
import argparse
import math

import scratchgen as sg  # before NumPy: it sets OPENBLAS_THREAD_TIMEOUT

import numpy
import torch

import scratchgen.functional as F
from scratchgen import nn, optim

import harness

CHAIN_OPS = 10_000
TARGETS = {"chain": 3.0, "vae": 1.3}


def chain_of_ops(lib, ones):
    x = ones(4, requires_grad=True)
    y = x
    for _ in range(CHAIN_OPS // 3):
        y = (y * 0.999 + 0.001).tanh()
    y.sum().backward()


def scratchgen_vae():
    enc, mu, logvar = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
    dec1, dec2 = nn.Linear(20, 400), nn.Linear(400, 784)
    params = [p for m in (enc, mu, logvar, dec1, dec2) for p in m.parameters()]
    optimizer = optim.Adam(params, lr=1e-3)

    def loss_of(x, eps):
        h = F.relu(enc(x))
        m, lv = mu(h), logvar(h)
        z = m + (lv * 0.5).exp() * eps  # reparameterisation, Kingma & Welling 2013 eq. 10
        logits = dec2(F.relu(dec1(z)))
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = -0.5 * (1 + lv - m * m - lv.exp()).sum()  # eq. 10's closed-form KL
        return (reconstruction + kl) / x.shape[0]
    return params, optimizer, loss_of, sg.tensor


def torch_vae():
    enc, mu, logvar = torch.nn.Linear(784, 400), torch.nn.Linear(400, 20), torch.nn.Linear(400, 20)
    dec1, dec2 = torch.nn.Linear(20, 400), torch.nn.Linear(400, 784)
    params = [p for m in (enc, mu, logvar, dec1, dec2) for p in m.parameters()]
    optimizer = torch.optim.Adam(params, lr=1e-3)

    def loss_of(x, eps):
        h = torch.relu(enc(x))
        m, lv = mu(h), logvar(h)
        z = m + (lv * 0.5).exp() * eps
        logits = dec2(torch.relu(dec1(z)))
        reconstruction = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = -0.5 * (1 + lv - m * m - lv.exp()).sum()
        return (reconstruction + kl) / x.shape[0]
    return params, optimizer, loss_of, torch.from_numpy


def vae_step(setup, x_array, eps_array):
    params, optimizer, loss_of, wrap = setup
    x, eps = wrap(x_array), wrap(eps_array)

    def step():
        loss = loss_of(x, eps)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    with harness.set_threads(args.threads):
        load = harness.wait_for_idle()
        gflops = harness.gemm_gflops()
        rng = numpy.random.default_rng(0)
        x = (rng.random((128, 784)) > 0.5).astype(numpy.float32)
        eps = rng.standard_normal((128, 20)).astype(numpy.float32)
        ours_vae, torch_vae_step = vae_step(scratchgen_vae(), x, eps), vae_step(torch_vae(), x, eps)
        rows = []
        chain = harness.timed_pair(lambda: chain_of_ops(sg, sg.ones), lambda: chain_of_ops(torch, torch.ones),
                                   repeats=max(5, args.repeats // 4))
        vae = harness.timed_pair(ours_vae, torch_vae_step, repeats=args.repeats)
        for name, label, (ours, ref, ratio) in [
                ("chain", f"chain of {CHAIN_OPS:,} tiny ops, fwd+bwd", chain),
                ("vae", "MLP VAE step 784-400-20-400-784, batch 128, Adam", vae)]:
            verdict = "ok" if ratio <= TARGETS[name] else "over target"
            rows.append([label, f"{ours:.2f}", f"{ref:.2f}", f"{ratio:.2f}x", f"<= {TARGETS[name]}x ({verdict})"])
    body = (f"Machine: {harness.machine_line(args.threads)}; load average {load:.2f} at start.  \n"
            f"GEMM check (1024^3 SGEMM, NumPy): {gflops:.0f} GFLOP/s"
            f"{'' if gflops >= 170 else ' (below 170: machine is slow right now, ratios still valid)'}.  \n"
            f"Command: `python benchmarks/bench_engine.py --threads {args.threads} --repeats {args.repeats}` "
            "(median ms; the libraries take turns in blocks of runs, and the ratio is the median over the "
            "rounds of neighbouring blocks' ratios).\n\n"
            + harness.table(["benchmark", "scratchgen ms", "PyTorch ms", "ratio", "target"], rows))
    print(body)
    harness.write_section("engine", "Autograd engine (issue 2)", body)
    return 0 if all(math.isfinite(timing[0]) for timing in (chain, vae)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
