"""WGAN-GP written out by hand on the 8-Gaussians toy: a generator and a critic as plain
nn.Sequential MLPs, and the gradient penalty computed with sg.grad(..., create_graph=True),
so that the critic's update differentiates through the critic's own gradient (double backward).

    python examples/04_wgan_gp_by_hand.py                  # about 15 s
    python examples/04_wgan_gp_by_hand.py --steps 1000 --plot wgan-gp.png

Gulrajani et al. 2017, Improved Training of Wasserstein GANs, Algorithm 1, with the settings of
the paper's toy code (gan_toy.py): n_critic = 5, lambda = 0.1 on the toys, Adam(1e-4, betas
(0.5, 0.9)), batch 256, 2-d noise. The networks here are 3 x 256 wide instead of 3 x 512, to
keep the example short. The library's version: scratchgen/models/wgan.py, gradient_penalty;
`scratchgen train wgan-gp --dataset 8gaussians` runs it.
"""
import argparse
import os

import numpy

import scratchgen as sg
from scratchgen import nn, optim
from scratchgen.data import EIGHT_GAUSSIANS

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=int(os.environ.get("SCRATCHGEN_EXAMPLE_STEPS", 300)),
                    help="generator steps, each after n_critic critic steps (default 300)")
parser.add_argument("--hidden", type=int, default=256, help="width of the 3 hidden layers (gan_toy.py: 512)")
parser.add_argument("--plot", default=None, help="save a scatter plot of samples here (.png; needs matplotlib)")
args = parser.parse_args()

N_CRITIC, LAMBDA, BATCH, Z_DIM = 5, 0.1, 256, 2


def mlp(n_in, n_out, hidden):
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_out))


# ---- 1. the gradient penalty, line by line (Algorithm 1, lines 6-7) ------------------------
def gradient_penalty(critic, real, fake):
    """E[(||grad_x critic(x_hat)||_2 - 1)^2] at random points x_hat on the lines between real
    and generated samples."""
    epsilon = sg.rand(len(real), 1, dtype=real.dtype)                      # one t ~ U[0, 1] per pair
    x_hat = (epsilon * real + (1 - epsilon) * fake.detach()).requires_grad_()
    # d critic(x_hat) / d x_hat, per sample (summing the outputs gives each row its own gradient).
    # create_graph=True records this backward pass as a graph of its own, so that the penalty,
    # a function of the gradient, can be differentiated w.r.t. the critic's weights.
    (gradients,) = sg.grad(critic(x_hat).sum(), [x_hat], create_graph=True)
    # .norm(dim=1) rather than .square().sum(1).sqrt(): its gradient at a zero row is 0, not NaN.
    return (gradients.norm(dim=1) - 1).square().mean()


# ---- 2. check the double backward, in float64 on a small critic ------------------------------
# The penalty's gradient w.r.t. the critic's first weight matrix, from the engine (backward
# through a backward), against central finite differences of the penalty itself.
sg.manual_seed(0)
small = mlp(2, 1, 8).double()
real64 = sg.tensor(EIGHT_GAUSSIANS.sample(16, sg.Generator(1)), dtype=sg.float64)
fake64 = sg.randn(16, 2, dtype=sg.float64)
weight = small[0].weight


def penalty_of_weight(w):
    sg.manual_seed(1)  # the same epsilon each call: gradcheck evaluates the function many times
    return gradient_penalty(small, real64, fake64)


sg.gradcheck(penalty_of_weight, (weight,))
print("gradcheck of the gradient penalty w.r.t. the critic's weights: passed (double backward is right)")

# ---- 3. train ----------------------------------------------------------------------------
sg.manual_seed(0)
G, D = mlp(Z_DIM, 2, args.hidden), mlp(2, 1, args.hidden)
opt_g = optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.9))
opt_d = optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.9))
data = sg.Generator(2)  # the stream the real points come from


def real_batch():
    return sg.as_tensor(EIGHT_GAUSSIANS.sample(BATCH, data))


for step in range(1, args.steps + 1):
    # n_critic critic updates: ascend E[D(x)] - E[D(G(z))], with the penalty keeping D 1-Lipschitz
    for _ in range(N_CRITIC):
        real, fake = real_batch(), G(sg.randn(BATCH, Z_DIM)).detach()   # no gradient into G here
        distance = D(real).mean() - D(fake).mean()     # the critic's Wasserstein-1 estimate
        penalty = gradient_penalty(D, real, fake)
        loss_d = -distance + LAMBDA * penalty          # Algorithm 1, line 7
        opt_d.zero_grad()
        loss_d.backward()                              # goes through the penalty's recorded backward
        opt_d.step()
    # one generator update: ascend E[D(G(z))]
    loss_g = -D(G(sg.randn(BATCH, Z_DIM))).mean()
    opt_g.zero_grad()
    loss_g.backward()                                  # D's .grad fills too; opt_d.zero_grad() clears it
    opt_g.step()
    if step == 1 or step % max(1, args.steps // 6) == 0 or step == args.steps:
        print(f"step {step:4d}  Wasserstein estimate {distance.item():.4f}  penalty {penalty.item():.4f}")

# ---- 4. what did it learn? ------------------------------------------------------------------
with sg.no_grad():
    points = G(sg.randn(2500, Z_DIM)).numpy()
    epsilon = sg.rand(BATCH, 1)
    x_hat = epsilon * real_batch() + (1 - epsilon) * G(sg.randn(BATCH, Z_DIM))
(g,) = sg.grad(D(x_hat.requires_grad_()).sum(), [x_hat])   # first order only: no create_graph
print(f"critic's gradient norm at interpolates: mean {g.norm(dim=1).mean().item():.2f} "
      f"(the penalty pulls it towards 1; gently with lambda = {LAMBDA}, firmly with the paper's 10)")
# Mode coverage as the VEEGAN paper counts it (scratchgen.metrics.mode_coverage does the same):
# a sample is "high quality" within 3 standard deviations of its nearest mode; a mode is
# covered when at least one high-quality sample is nearest to it.
centers, std = EIGHT_GAUSSIANS.centers, EIGHT_GAUSSIANS.std
distances = numpy.linalg.norm(points[:, None, :] - centers[None, :, :], axis=2)   # (2500, 8)
nearest, closest = distances.argmin(1), distances.min(1)
good = closest <= 3 * std
covered = len(set(nearest[good].tolist()))
print(f"modes covered: {covered}/8; high-quality samples: {good.mean():.1%} "
      "(the library's 300-step main job, 3 x 512 wide: 8/8 and about 12%)")
if args.plot:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(*EIGHT_GAUSSIANS.sample(1000, sg.Generator(3)).T, s=2, c="tab:orange", label="real")
    ax.scatter(*points[:1000].T, s=2, c="tab:blue", label="generated")
    ax.legend(loc="upper right")
    fig.savefig(args.plot, dpi=100)
    print(f"scatter plot: {args.plot}")
