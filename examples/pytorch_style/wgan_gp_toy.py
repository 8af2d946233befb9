"""WGAN-GP (Gulrajani et al. 2017) on the 8-Gaussians toy data, after the PyTorch port of the
paper's gan_toy.py (caogang/wgan-gp): the gradient penalty through autograd.grad(create_graph=True),
the critic trained CRITIC_ITERS times per generator step, `backward(mone)`.

    python wgan_gp_toy.py
    python -m scratchgen.as_torch wgan_gp_toy.py
"""
import numpy as np
import torch
import torch.autograd as autograd
import torch.nn as nn
import torch.optim as optim

import common

parser = common.parser("WGAN-GP on 8 Gaussians", steps=1000, batch_size=256, mnist=False)
parser.add_argument("--dim", type=int, default=512, help="model dimensionality")
parser.add_argument("--critic-iters", type=int, default=5, help="how many critic iterations per generator iteration")
parser.add_argument("--lambda-gp", type=float, default=0.1, help="the gradient penalty's weight (gan_toy.py's LAMBDA)")
args = parser.parse_args()
device, dtype = common.setup(args)
DIM, BATCH_SIZE, CRITIC_ITERS, LAMBDA = args.dim, args.batch_size, args.critic_iters, args.lambda_gp


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.main = nn.Sequential(nn.Linear(2, DIM), nn.ReLU(True), nn.Linear(DIM, DIM), nn.ReLU(True),
                                  nn.Linear(DIM, DIM), nn.ReLU(True), nn.Linear(DIM, 2))

    def forward(self, noise):
        return self.main(noise)


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.main = nn.Sequential(nn.Linear(2, DIM), nn.ReLU(True), nn.Linear(DIM, DIM), nn.ReLU(True),
                                  nn.Linear(DIM, DIM), nn.ReLU(True), nn.Linear(DIM, 1))

    def forward(self, inputs):
        output = self.main(inputs)
        return output.view(-1)


def inf_train_gen():
    """Batches of the 8 Gaussians: centers on a circle of radius 2, std 0.02, scaled by 1/1.414."""
    scale = 2.
    centers = [(1, 0), (-1, 0), (0, 1), (0, -1), (1. / np.sqrt(2), 1. / np.sqrt(2)),
               (1. / np.sqrt(2), -1. / np.sqrt(2)), (-1. / np.sqrt(2), 1. / np.sqrt(2)),
               (-1. / np.sqrt(2), -1. / np.sqrt(2))]
    centers = [(scale * x, scale * y) for x, y in centers]
    while True:
        point = np.random.randn(BATCH_SIZE, 2) * .02
        center = np.array([centers[i] for i in np.random.randint(0, 8, BATCH_SIZE)])
        yield (point + center) / 1.414  # stdev


def calc_gradient_penalty(netD, real_data, fake_data):
    alpha = common.rand(BATCH_SIZE, 1, dtype=dtype, device=device)  # torch.rand, from NumPy
    alpha = alpha.expand(real_data.size())
    interpolates = alpha * real_data + ((1 - alpha) * fake_data)
    interpolates = autograd.Variable(interpolates, requires_grad=True)
    disc_interpolates = netD(interpolates)
    gradients = autograd.grad(outputs=disc_interpolates, inputs=interpolates,
                              grad_outputs=torch.ones(disc_interpolates.size(), dtype=dtype, device=device),
                              create_graph=True, retain_graph=True, only_inputs=True)[0]
    gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean() * LAMBDA
    return gradient_penalty


netG = Generator()
netD = Discriminator()
common.init_weights(args, G=netG, D=netD)
netG, netD = netG.to(device, dtype), netD.to(device, dtype)
optimizerD = optim.Adam(netD.parameters(), lr=1e-4, betas=(0.5, 0.9))
optimizerG = optim.Adam(netG.parameters(), lr=1e-4, betas=(0.5, 0.9))
one = torch.tensor(1, dtype=dtype, device=device)
mone = one * -1
data = inf_train_gen()

for iteration in range(1, args.steps + 1):
    # (1) Update D network
    for p in netD.parameters():  # reset requires_grad
        p.requires_grad = True  # they are set to False below in netG update
    for iter_d in range(CRITIC_ITERS):
        real_data_v = torch.tensor(next(data), dtype=dtype, device=device)
        netD.zero_grad()
        # train with real
        D_real = netD(real_data_v)
        D_real = D_real.mean()
        D_real.backward(mone)
        # train with fake
        noise = common.randn(BATCH_SIZE, 2, dtype=dtype, device=device)
        with torch.no_grad():
            fake = netG(noise)  # totally freeze netG
        D_fake = netD(fake)
        D_fake = D_fake.mean()
        D_fake.backward(one)
        # train with gradient penalty
        gradient_penalty = calc_gradient_penalty(netD, real_data_v, fake)
        gradient_penalty.backward()
        D_cost = D_fake - D_real + gradient_penalty
        Wasserstein_D = D_real - D_fake
        optimizerD.step()
    # (2) Update G network
    for p in netD.parameters():
        p.requires_grad = False  # to avoid computation
    netG.zero_grad()
    noise = common.randn(BATCH_SIZE, 2, dtype=dtype, device=device)
    fake = netG(noise)
    G = netD(fake)
    G = G.mean()
    G.backward(mone)
    G_cost = -G
    optimizerG.step()
    if iteration % args.log_interval == 0:
        common.report(iteration, args.steps, D_cost=D_cost.item(), G_cost=G_cost.item(),
                      Wasserstein_D=Wasserstein_D.item(), gradient_penalty=gradient_penalty.item())
