"""One DCGAN training step for 28x28 MNIST (batch 64), scratchgen against PyTorch on the CPU:
time per step and peak resident memory.

    python benchmarks/bench_dcgan.py [--repeats 10] [--rounds 8] [--threads 2] [--memory-steps 10]

The networks (Radford et al. 2016, sized for MNIST) are written out here for both libraries,
layer for layer, rather than taken from scratchgen.models:

    G: z (100) -> Linear -> 128x7x7, BN, ReLU -> ConvTranspose2d 128->64 k4 s2 p1, BN, ReLU
               -> ConvTranspose2d 64->1 k4 s2 p1 -> tanh
    D: x (1x28x28) -> Conv2d 1->64 k4 s2 p1, LeakyReLU(0.2) -> Conv2d 64->128 k4 s2 p1, BN,
               LeakyReLU(0.2) -> Flatten -> Linear 128*7*7 -> 1 (a logit)

One step is a discriminator step on a real and a fake batch (the fake detached from G) and a
non-saturating generator step (Goodfellow et al. 2014, section 3: maximise log D(G(z))) that
reuses the same fake batch, as PyTorch's DCGAN tutorial does; BCE-with-logits losses and
Adam(lr 2e-4, betas (0.5, 0.999)) for both networks. The step is 10.29 GFLOP (docs/PERF.md).

Time: both libraries alternate in blocks of `repeats` steps (each one's idle worker threads
spin for a while after a call and would steal the cores from the other if they took turns
step by step), `rounds` times; the median over all of a library's steps is reported, and
the ratio is the median over the rounds of the two neighbouring blocks' ratio (drift over
minutes cancels in it), with a 1024^3 SGEMM check before and after (distrust a run below
about 170 GFLOP/s).

Memory: each library runs alone in a fresh subprocess (so neither's imports count against
the other) for `memory-steps` steps. Reported: the peak resident set size and that peak minus
the resident size after imports, model and optimizer construction (what the training steps
themselves add). The peak is /proc's VmHWM, not getrusage's ru_maxrss: Linux carries
ru_maxrss over an exec, so a child would report its parent's peak if that were larger.
"""
import argparse
import json
import os
import subprocess
import sys

BATCH, LATENT, SIDE = 64, 100, 28
LR, BETAS = 2e-4, (0.5, 0.999)
GFLOP_PER_STEP = 10.29


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="steps per timed block")
    parser.add_argument("--rounds", type=int, default=8, help="timed blocks per library")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-steps", type=int, default=10)
    parser.add_argument("--memory-of", choices=["scratchgen", "torch"], help=argparse.SUPPRESS)
    return parser.parse_args()


def _batches(seed=0):
    """A fixed real batch in [-1, 1] (tanh's range) and a fixed latent batch, as float32 arrays."""
    import numpy as np
    rng = np.random.default_rng(seed)
    real = rng.uniform(-1, 1, (BATCH, 1, SIDE, SIDE)).astype(np.float32)
    z = rng.standard_normal((BATCH, LATENT)).astype(np.float32)
    return real, z


def _networks(nn):
    """(G, D) from a library whose `nn` spells the layers as torch.nn does (both do)."""
    generator = nn.Sequential(
        nn.Linear(LATENT, 128 * 7 * 7, bias=False), nn.Unflatten(1, (128, 7, 7)),
        nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(1, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
    return generator, discriminator


def _training_step(lib, nn, bce, optim, device="cpu"):
    """A function running one D step and one G step in library `lib` (scratchgen or torch)."""
    generator, discriminator = (network.to(device) for network in _networks(nn))
    opt_g = optim.Adam(generator.parameters(), lr=LR, betas=BETAS)
    opt_d = optim.Adam(discriminator.parameters(), lr=LR, betas=BETAS)
    real, z = (lib.tensor(array, device=device) for array in _batches())
    ones, zeros = lib.ones(BATCH, 1, device=device), lib.zeros(BATCH, 1, device=device)

    def step():
        # D step: real images towards 1, G's images (no gradient into G) towards 0
        opt_d.zero_grad()
        fake = generator(z)
        loss_d = bce(discriminator(real), ones) + bce(discriminator(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()
        # G step, non-saturating: G's images towards 1 under the updated D
        opt_g.zero_grad()
        loss_g = bce(discriminator(fake), ones)
        loss_g.backward()
        opt_g.step()
    return step


def scratchgen_step():
    import scratchgen as sg
    import scratchgen.functional as F
    from scratchgen import nn, optim
    sg.manual_seed(0)
    return _training_step(sg, nn, F.binary_cross_entropy_with_logits, optim)


def torch_step():
    import torch
    torch.manual_seed(0)
    return _training_step(torch, torch.nn, torch.nn.functional.binary_cross_entropy_with_logits, torch.optim)


def _resident_mib(field):
    """VmRSS (resident set size now) or VmHWM (its peak) of this process, in MiB."""
    with open("/proc/self/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith(field + ":"))
    return kib / 1024


def _measure_memory(library, steps):
    """Run in the subprocess: print {baseline, peak} in MiB as JSON."""
    step = scratchgen_step() if library == "scratchgen" else torch_step()
    baseline = _resident_mib("VmRSS")
    for _ in range(steps):
        step()
    print(json.dumps({"baseline": baseline, "peak": _resident_mib("VmHWM")}))


def peak_memory(library, args):
    """{baseline, peak} MiB of `library`'s steps, measured in a fresh interpreter."""
    command = [sys.executable, __file__, "--memory-of", library, "--memory-steps", str(args.memory_steps),
               "--threads", str(args.threads)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(args):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import harness
    import torch
    from scratchgen.backends import threads
    torch.set_num_threads(args.threads)
    threads.set_num_threads(args.threads)
    load = harness.wait_for_idle()
    check_before = harness.gemm_gflops()
    ours_step = scratchgen_step()
    ours_ms, torch_ms, ratio = harness.timed_pair(ours_step, torch_step(), args.repeats, args.rounds)
    gemms = harness.gemm_ms_inside(ours_step)
    check_after = harness.gemm_gflops()
    memory = {library: peak_memory(library, args) for library in ("scratchgen", "torch")}

    rows = [("DCGAN step (D real + fake, G), batch 64", f"{ours_ms:.1f}", f"{torch_ms:.1f}",
             f"{ratio:.2f}x", f"{gemms.ms:.1f} ({GFLOP_PER_STEP / gemms.ms * 1e3:.0f} GFLOP/s)",
             f"{gemms.share * ratio:.2f}x", "<= 1.5x")]
    memory_rows = [(library, f"{m['peak']:.0f}", f"{m['peak'] - m['baseline']:.0f}", f"{m['baseline']:.0f}")
                   for library, m in memory.items()]
    body = "\n".join([
        f"Machine: {harness.machine_line(args.threads)}; load average {load:.2f} at start.  ",
        f"GEMM check (1024^3 SGEMM, NumPy): {check_before:.0f} GFLOP/s before, {check_after:.0f} after "
        "(distrust below about 170).  ",
        f"Command: `python benchmarks/bench_dcgan.py --threads {args.threads} --repeats {args.repeats} "
        f"--rounds {args.rounds} --memory-steps {args.memory_steps}` (median ms over "
        f"{args.repeats * args.rounds} steps each, alternating blocks; ratio: the median over the rounds of "
        "neighbouring blocks' ratios).  ",
        "GEMM floor: the ms of our step spent inside NumPy's matrix products (OpenBLAS) and their rate, "
        "and their share of our step times the ratio: the ratio left if everything around the GEMMs "
        "cost nothing.",
        "",
        harness.table(["benchmark", "scratchgen ms", "PyTorch ms", "ratio", "our GEMMs ms", "GEMM floor ratio",
                       "target"], rows),
        "",
        f"Peak resident memory after {args.memory_steps} steps, each library alone in a fresh process "
        "(MiB): VmHWM, and its growth over the resident size after imports and model construction.",
        "",
        harness.table(["library", "peak RSS", "peak - after construction", "after construction"], memory_rows),
    ])
    print(body)
    harness.write_section("dcgan", "DCGAN step (issue 3)", body)


if __name__ == "__main__":
    ARGS = _parse()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))  # before NumPy loads OpenBLAS
    import scratchgen  # noqa: F401  (before NumPy: it sets OPENBLAS_THREAD_TIMEOUT)
    if ARGS.memory_of:
        if ARGS.memory_of == "torch":
            import torch
            torch.set_num_threads(ARGS.threads)
        else:
            from scratchgen.backends import threads
            threads.set_num_threads(ARGS.threads)
        _measure_memory(ARGS.memory_of, ARGS.memory_steps)
    else:
        main(ARGS)
