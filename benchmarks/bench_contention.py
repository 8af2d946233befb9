"""Training on a busy machine: how much slower each library gets beside other busy processes.

    python benchmarks/bench_contention.py [--busy 2] [--rounds 3] [--policies free,2,1]

Two short trainings, each written out here for both libraries, layer for layer:
- WGAN-GP on the 8-Gaussians toy (Gulrajani et al. 2017, the toy code's networks: 2 -> 512 x 3
  -> 2 and 2 -> 512 x 3 -> 1, batch 256, 5 critic steps with the gradient penalty, Adam);
- DCGAN on MNIST-shaped batches (the step of bench_dcgan.py).
Each run is a fresh subprocess that trains a fixed number of steps and prints its seconds:
first with the machine idle, then beside `busy` processes that each keep one core busy
(`while True: pass`), in alternating order over `rounds`; the slow-down is the median loaded
time over the median idle time. scratchgen runs under each thread policy of `--policies`
("free", what `scratchgen train` does: as many threads as there are free cores when the run
starts, see scratchgen/backends/threads.py; a number fixes the count); PyTorch runs with its
defaults.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import harness

TOY_BATCH, TOY_WIDTH, CRITIC_STEPS, GP_LAMBDA = 256, 512, 5, 0.1
STEPS = {"wgan-gp": 20, "dcgan": 8}


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--busy", type=int, default=2, help="busy processes beside the training")
    parser.add_argument("--rounds", type=int, default=3, help="idle/loaded pairs per library and policy")
    parser.add_argument("--policies", default="free,2,1", help="scratchgen thread policies to compare")
    parser.add_argument("--worker", nargs=3, metavar=("LIBRARY", "WORKLOAD", "POLICY"), help=argparse.SUPPRESS)
    return parser.parse_args()


# ---- the workloads -------------------------------------------------------------------------
def wgan_gp_step(lib, nn, optim, grad):
    """One WGAN-GP iteration (Algorithm 1): CRITIC_STEPS critic updates with the penalty, one G update."""
    lib.manual_seed(0)

    def mlp(sizes):
        layers = []
        for a, b in zip(sizes, sizes[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        return nn.Sequential(*layers[:-1])
    generator, critic = mlp([2, TOY_WIDTH, TOY_WIDTH, TOY_WIDTH, 2]), mlp([2, TOY_WIDTH, TOY_WIDTH, TOY_WIDTH, 1])
    opt_g = optim.Adam(generator.parameters(), lr=1e-4, betas=(0.5, 0.9))
    opt_d = optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))

    def step():
        for _ in range(CRITIC_STEPS):
            real, z = lib.randn(TOY_BATCH, 2), lib.randn(TOY_BATCH, 2)
            fake = generator(z).detach()
            epsilon = lib.rand(TOY_BATCH, 1)
            mixed = (epsilon * real + (1 - epsilon) * fake).requires_grad_()
            (gradients,) = grad(critic(mixed).sum(), [mixed], create_graph=True)
            penalty = ((gradients.square().sum(1) + 1e-12).sqrt() - 1).square().mean()
            loss_d = critic(fake).mean() - critic(real).mean() + GP_LAMBDA * penalty
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
        opt_g.zero_grad()
        (-critic(generator(lib.randn(TOY_BATCH, 2))).mean()).backward()
        opt_g.step()
    return step


def make_step(library, workload):
    if library == "torch":
        import torch
        if workload == "dcgan":
            import bench_dcgan
            return bench_dcgan.torch_step()
        return wgan_gp_step(torch, torch.nn, torch.optim, torch.autograd.grad)
    import scratchgen as sg
    from scratchgen import nn, optim
    if workload == "dcgan":
        import bench_dcgan
        return bench_dcgan.scratchgen_step()
    return wgan_gp_step(sg, nn, optim, sg.grad)


def worker(library, workload, policy):
    """Train STEPS[workload] steps after one warm-up step; print the seconds they took."""
    if library == "scratchgen":
        import scratchgen as sg
        sg.set_num_threads(policy if policy == "free" else int(policy))
    step = make_step(library, workload)
    step()
    start = time.perf_counter()
    for _ in range(STEPS[workload]):
        step()
    print(time.perf_counter() - start)


# ---- the measurement -----------------------------------------------------------------------
def timed_run(library, workload, policy):
    command = [sys.executable, __file__, "--worker", library, workload, policy]
    result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=os.path.dirname(__file__))
    return float(result.stdout.strip().splitlines()[-1])


def busy_processes(count):
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def measure(library, workload, policy, busy, rounds):
    """(median idle seconds, median loaded seconds) over `rounds` alternating pairs."""
    idle, loaded = [], []
    for _ in range(rounds):
        idle.append(timed_run(library, workload, policy))
        others = busy_processes(busy)
        try:
            time.sleep(0.5)  # let the busy processes reach their loops
            loaded.append(timed_run(library, workload, policy))
        finally:
            for process in others:
                process.kill()
                process.wait()
    return statistics.median(idle), statistics.median(loaded)


def main(args):
    load = harness.wait_for_idle()
    cases = [("torch", "default")] + [("scratchgen", policy) for policy in args.policies.split(",")]
    rows = []
    for workload in STEPS:
        for library, policy in cases:
            idle, loaded = measure(library, workload, policy, args.busy, args.rounds)
            rows.append((workload, library, policy, idle, loaded))
            print(f"{workload} {library} {policy}: idle {idle:.2f} s, loaded {loaded:.2f} s, "
                  f"slow-down {loaded / idle:.2f}x", file=sys.stderr)
    cores = len(os.sched_getaffinity(0))
    table = harness.table(
        ["training", "library", "threads", "idle s", f"beside {args.busy} busy processes s", "slow-down"],
        [(f"{workload}, {STEPS[workload]} steps", library, policy, f"{idle:.2f}", f"{loaded:.2f}",
          f"{loaded / idle:.2f}x") for workload, library, policy, idle, loaded in rows])
    body = (f"Machine: {harness.machine_line(cores)}; load average {load:.2f} at start.  \n"
            f"Command: `python benchmarks/bench_contention.py --busy {args.busy} --rounds {args.rounds} "
            f"--policies {args.policies}` (each run a fresh process; medians over the rounds; a busy process is "
            f"`python -c 'while True: pass'`).\n\n" + table)
    harness.write_section("contention", "Training beside busy processes (issue 13)", body)
    print(table)

if __name__ == "__main__":
    ARGS = _parse()
    if ARGS.worker:
        worker(*ARGS.worker)
    else:
        main(ARGS)
