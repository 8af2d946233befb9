"""PyTorch twins of scratchgen's MLP models: the VAE (scratchgen/models/vae.py), GAN (gan.py),
WGAN and WGAN-GP (wgan.py), with the networks of mlp.py and the step of adversarial.py. A twin
has the same layers in the same order (so state_dict keys match), PyTorch's default Linear
initialisation (scratchgen's nn.Linear copies it) seeded with torch.manual_seed(config["seed"]),
the same optimisers, settings (read from the resolved run config) and training step. It takes
scratchgen's batches as NumPy arrays, so both libraries see the same data in the same order,
and `sample` returns what scratchgen's `sample` does (base.py's data_to_output), so
scratchgen.metrics scores both alike. TorchTwin and TorchVAE are also the bases of the
convolutional twins (torch_twins.py).

Every random draw goes through `noise` (and WGAN-GP's `interpolation_weights`), so a test can
feed a twin the numbers its scratchgen model draws.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from scratchgen.models.base import GenerativeModel
from scratchgen.models.gan import GAN
from scratchgen.models.vae import VAE
from scratchgen.models.wgan import WGAN, WGANGP


def mlp(sizes, activation=nn.ReLU, output_activation=None):
    """mlp.py's network in torch.nn: Linear layers sizes[0] -> ... -> sizes[-1], `activation`
    after each hidden one and `output_activation` (a Module class, or None) after the last."""
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), activation()]
    layers.pop()  # no hidden activation after the last layer
    if output_activation is not None:
        layers.append(output_activation())
    return nn.Sequential(*layers)


def as_tensor(array):
    return torch.from_numpy(np.asarray(array))


def discriminator_loss(real_logits, fake_logits):
    """-[log D(x) + log(1 - D(G(z)))] (Goodfellow et al. 2014, Eq. 1) as binary cross-entropies on D's logits."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def non_saturating_generator_loss(fake_logits):
    """-log D(G(z)) (Goodfellow et al. 2014, Sec. 3): the cross-entropy of labelling fakes real."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


class TorchTwin:
    """What every twin shares: the run settings, the seeding, its own noise generator, one batch
    per step, and the mapping of samples to scratchgen's output (the same code: base.py's)."""
    mirrors = None  # the scratchgen class this twin mirrors
    batches_per_step = 1
    data_to_output = GenerativeModel.data_to_output

    def __init__(self, config):
        self.config = dict(config)
        self.data_shape = tuple(config["data_shape"])
        self.data_size = math.prod(self.data_shape)
        torch.manual_seed(config["seed"])  # default initialisation and dropout draw from the global generator
        self.rng = torch.Generator().manual_seed(config["seed"])

    @classmethod
    def mirror_only(cls, config, setting, value):
        """Refuse a run whose `setting` is not the one value this twin mirrors."""
        if config[setting] != value:
            raise ValueError(f"{cls.__name__}: only {setting} {value!r} is mirrored, got {config[setting]!r}")

    def noise(self, *shape):
        """N(0, I) noise of `shape` from the twin's generator."""
        return torch.randn(*shape, generator=self.rng)


class TorchVAE(TorchTwin):
    """vae.py's VAE with the Bernoulli likelihood: tanh MLPs and its single-sample ELBO step
    (Kingma & Welling 2013, Eq. 10)."""
    mirrors = VAE

    def __init__(self, config):
        self.mirror_only(config, "likelihood", "bernoulli")
        super().__init__(config)
        self.z_dim = config["z_dim"]
        self.encoder, self.decoder = self.build_encoder(), self.build_decoder()
        parameters = list(self.encoder.parameters()) + list(self.decoder.parameters())
        self.optimizer = torch.optim.Adam(parameters, lr=config["lr"], eps=config["adam_eps"])

    def build_encoder(self):
        return mlp([self.data_size, *self.config["hidden"], 2 * self.z_dim], activation=nn.Tanh)

    def build_decoder(self):
        return mlp([self.z_dim, *reversed(self.config["hidden"]), self.data_size], activation=nn.Tanh)

    def train_step(self, batch):
        x = as_tensor(batch[0]).flatten(1)
        mean, log_var = self.encoder(x).chunk(2, dim=-1)
        z = mean + (0.5 * log_var).exp() * self.noise(*mean.shape)  # reparameterisation (Sec. 2.4)
        reconstruction = -F.binary_cross_entropy_with_logits(self.decoder(z), x, reduction="none").sum(-1)
        kl = -0.5 * (1 + log_var - mean.square() - log_var.exp()).sum(-1)  # Appendix B
        loss = -(reconstruction - kl).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item(), "reconstruction": -reconstruction.mean().item(), "kl": kl.mean().item()}

    @torch.no_grad()
    def sample(self, n):
        return self.data_to_output(torch.sigmoid(self.decoder(self.noise(n, self.z_dim))).numpy())


class TorchAdversarialMLP(TorchTwin):
    """adversarial.py's G and D, and its step: k critic updates, each on its own chunk of the
    batch and fresh noise, then one generator update on fresh noise."""

    def __init__(self, config):
        super().__init__(config)
        self.critic_steps = config[self.mirrors.critic_steps_setting]
        self.z_dim = config["z_dim"]
        self.G, self.D = self.build_networks()
        self.optimizer_d, self.optimizer_g = self.make_optimizers()

    def build_networks(self):
        """(G, D): mlp.py's MLPs of the `hidden` sizes, G with tanh outputs on MNIST."""
        image_output = nn.Tanh if self.config["dataset"] == "mnist" else None
        return (mlp([self.z_dim, *self.config["hidden"], self.data_size], output_activation=image_output),
                mlp([self.data_size, *self.config["hidden"], 1]))

    @property
    def batches_per_step(self):
        return self.critic_steps

    def after_critic_step(self):
        """Called after every update of D."""

    def as_data(self, array):
        """A batch of scratchgen's data as what D reads: rows of pixels or points."""
        return as_tensor(array).flatten(1)

    def train_step(self, batch):
        real_batches = self.as_data(batch[0]).chunk(self.critic_steps)
        for real in real_batches:
            critic = self.critic_step(real)
        losses = {name: value.item() for name, value in critic.items()}
        losses["loss_g"] = self.generator_step(len(real_batches[0])).item()
        return losses

    def critic_step(self, real):
        with torch.no_grad():
            fake = self.G(self.noise(len(real), self.z_dim))
        losses = self.critic_losses(real, fake)
        self.optimizer_d.zero_grad()
        losses["loss_d"].backward()
        self.optimizer_d.step()
        self.after_critic_step()
        return losses

    def generator_step(self, n):
        self.D.requires_grad_(False)  # scratchgen's frozen(D)
        loss = self.generator_loss(self.D(self.G(self.noise(n, self.z_dim))))
        self.optimizer_g.zero_grad()
        loss.backward()
        self.D.requires_grad_(True)
        self.optimizer_g.step()
        return loss

    @torch.no_grad()
    def sample(self, n):
        return self.data_to_output(self.G(self.noise(n, self.z_dim)).numpy())


def adam_pair(twin):
    """Adam on D and on G with the run's lr and betas."""
    settings = dict(lr=twin.config["lr"], betas=tuple(twin.config["betas"]))
    return torch.optim.Adam(twin.D.parameters(), **settings), torch.optim.Adam(twin.G.parameters(), **settings)


class TorchGAN(TorchAdversarialMLP):
    mirrors = GAN

    def make_optimizers(self):
        return adam_pair(self)

    def critic_losses(self, real, fake):
        return {"loss_d": discriminator_loss(self.D(real), self.D(fake))}

    def generator_loss(self, fake_logits):
        if self.config["g_loss"] == "minimax":
            # log(1 - D(G(z))) (Eq. 1): minus the cross-entropy of labelling fakes fake
            return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        return non_saturating_generator_loss(fake_logits)


class TorchWassersteinMLP(TorchAdversarialMLP):
    def wasserstein_estimate(self, real, fake):
        return self.D(real).mean() - self.D(fake).mean()  # E[f(x)] - E[f(G(z))] (Arjovsky 2017, Eq. 3)

    def generator_loss(self, fake_scores):
        return -fake_scores.mean()


class TorchWGAN(TorchWassersteinMLP):
    """Weight clipping and RMSprop (Arjovsky et al. 2017, Algorithm 1)."""
    mirrors = WGAN

    def make_optimizers(self):
        lr = self.config["lr"]
        return torch.optim.RMSprop(self.D.parameters(), lr=lr), torch.optim.RMSprop(self.G.parameters(), lr=lr)

    def critic_losses(self, real, fake):
        return {"loss_d": -self.wasserstein_estimate(real, fake)}

    def after_critic_step(self):
        with torch.no_grad():
            for parameter in self.D.parameters():
                parameter.clamp_(-self.config["clip"], self.config["clip"])


class TorchWGANGP(TorchWassersteinMLP):
    """The gradient penalty and Adam (Gulrajani et al. 2017, Algorithm 1)."""
    mirrors = WGANGP

    def make_optimizers(self):
        return adam_pair(self)

    def interpolation_weights(self, n):
        """epsilon ~ U[0, 1], one per sample."""
        return torch.rand(n, 1, generator=self.rng)

    def critic_losses(self, real, fake):
        epsilon = self.interpolation_weights(len(real)).reshape(-1, *[1] * (real.ndim - 1))
        interpolates = (epsilon * real + (1 - epsilon) * fake).requires_grad_()
        (gradients,) = torch.autograd.grad(self.D(interpolates).sum(), interpolates, create_graph=True)
        norms = gradients.flatten(1).norm(2, dim=1)
        penalty = ((norms - 1) ** 2).mean()  # E[(||grad D(x_hat)|| - 1)^2] (Algorithm 1, line 7)
        return {"loss_d": -self.wasserstein_estimate(real, fake) + self.config["gp_lambda"] * penalty,
                "gradient_penalty": penalty}


TWINS = (TorchVAE, TorchGAN, TorchWGAN, TorchWGANGP)
