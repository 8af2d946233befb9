"""The PyTorch twin of scratchgen's DDGM (scratchgen/models/ddgm.py, Kim & Bengio 2016): the
energy E(x) of Eq. 11 on the same feature network (the ELU MLP on the 2-D toys, DCGAN's
strided-convolution trunk on MNIST), the same G (batch-normalised MLP, or DCGAN's generator), the
same initialisation, Adam settings and the step of adversarial.py with k = 1: one update of E on a
real batch and a batch of G's samples, then one update of G on fresh noise through the frozen E.
Like the other twins (torch_twins_mlp.py) it takes scratchgen's batches as NumPy arrays and every
random draw goes through `noise`.
"""
import torch
import torch.nn.functional as F
from torch import nn

from scratchgen.models.ddgm import DDGM
from torch_twins import dcgan_discriminator, dcgan_generator, dcgan_init_
from torch_twins_mlp import TorchTwin, as_tensor, mlp


class EnergyNet(nn.Module):
    """ddgm.py's EnergyNet: E(x) = (1/sigma^2) x^T x - b^T x - sum_i softplus(W_i^T f(x) + c_i) (Eq. 11)."""

    def __init__(self, features, feature_size, data_size, experts, sigma):
        super().__init__()
        self.features, self.sigma = features, sigma
        self.experts = nn.Linear(feature_size, experts)
        self.visible_bias = nn.Parameter(torch.zeros(data_size))

    def forward(self, x):
        flat = x.flatten(1)
        return (flat.square().sum(1) / self.sigma ** 2 - flat @ self.visible_bias
                - F.softplus(self.experts(self.features(x))).sum(1))


def batchnorm_mlp(sizes):
    """ddgm.py's G on the toys: Linear -> BatchNorm1d -> ReLU per hidden layer, then Linear."""
    layers = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(n_in, n_out), nn.BatchNorm1d(n_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1]))


def batchnorm_entropy(network):
    """sum over G's batch-norm units of 1/2 log(2 pi e gamma_a^2) (Eq. 15, sigma_a = the BN scale)."""
    scales = [layer.weight for layer in network.modules() if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d))]
    return sum(0.5 * (2 * torch.pi * torch.e * scale.square()).log().sum() for scale in scales)


class TorchDDGM(TorchTwin):
    mirrors = DDGM

    def __init__(self, config):
        super().__init__(config)
        self.z_dim, self.images = config["z_dim"], len(self.data_shape) == 3
        self.G, self.D = self.build_generator(), self.build_critic()
        if self.images:
            for network in (self.G, self.D):
                dcgan_init_(network, self.rng)  # the toys keep torch's default initialisation
        settings = dict(lr=config["lr"], betas=tuple(config["betas"]))
        self.optimizer_d = torch.optim.Adam(self.D.parameters(), **settings)
        self.optimizer_g = torch.optim.Adam(self.G.parameters(), **settings)

    def build_generator(self):
        if self.images:
            return dcgan_generator(self.z_dim, self.config["width"], self.data_shape)
        return batchnorm_mlp([self.z_dim, *self.config["hidden_g"], self.data_size])

    def build_critic(self):
        if self.images:
            width, end = self.config["width"], self.data_shape[1] // 4
            trunk = dcgan_discriminator(self.data_shape[0], width, self.data_shape)[:-2]  # all but the logit head
            features, size = nn.Sequential(*trunk, nn.Flatten()), 2 * width * end * end
        else:
            size = self.config["hidden_e"][-1]
            features = mlp([self.data_size, *self.config["hidden_e"]], nn.ELU, nn.ELU)
        return EnergyNet(features, size, self.data_size, self.config["experts"], self.config["sigma"])

    def train_step(self, batch):
        real = as_tensor(batch[0]).reshape(-1, *self.data_shape)
        with torch.no_grad():
            fake = self.G(self.noise(len(real), self.z_dim))
        energy_real, energy_fake = self.D(real).mean(), self.D(fake).mean()
        loss_d = energy_real - energy_fake  # E_data[E(x)] - E_G[E(x)] (Eqs. 7, 9)
        self.optimizer_d.zero_grad()
        loss_d.backward()
        self.optimizer_d.step()
        self.D.requires_grad_(False)  # scratchgen's frozen(D)
        minus_entropy = -batchnorm_entropy(self.G)  # -H(p_G) (Eqs. 10, 15)
        loss_g = self.D(self.G(self.noise(len(real), self.z_dim))).mean() + minus_entropy  # Eqs. 10, 13
        self.optimizer_g.zero_grad()
        loss_g.backward()
        self.D.requires_grad_(True)
        self.optimizer_g.step()
        return {name: value.item() for name, value in dict(
            loss_d=loss_d, energy_real=energy_real, energy_fake=energy_fake, loss_g=loss_g,
            minus_entropy=minus_entropy).items()}

    @torch.no_grad()
    def sample(self, n):
        """G's samples with batch norm in eval mode, as GenerativeModel.evaluating()."""
        self.G.eval()
        samples = self.G(self.noise(n, self.z_dim)).numpy()
        self.G.train()
        return self.data_to_output(samples)


TWINS = (TorchDDGM,)
