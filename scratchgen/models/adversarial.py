"""What GAN, WGAN and WGAN-GP share: an MLP generator G and an MLP critic (discriminator) D,
and the alternating step of their papers' Algorithm 1 (Goodfellow 2014; Arjovsky 2017;
Gulrajani 2017): k critic updates, each on a fresh real batch and fresh noise, then one
generator update on fresh noise. The families differ only in their losses, optimizers and
what follows a critic update (WGAN's weight clipping).

The networks are those of the WGAN-GP reference code for the toys (igul222/improved_wgan_training,
gan_toy.py: 3 hidden ReLU layers of 512 units in G and D, noise of dimension 2) and of the WGAN
reference code's MLP_G / MLP_D for images (martinarjovsky/WassersteinGAN, models/mlp.py: 3 hidden
ReLU layers of 512, z of dimension 100), with a tanh output for images in [-1, 1].
"""
import abc
import contextlib

from .. import nn
from .. import no_grad
from .base import GenerativeModel
from .mlp import mlp

MLP_GAN_DATASETS = ("8gaussians", "25gaussians", "swissroll", "mnist")
MLP_GAN_SHAPES = {"toy": dict(hidden=[512, 512, 512], z_dim=2), "mnist": dict(hidden=[512, 512, 512], z_dim=100)}


class AdversarialMLP(GenerativeModel):
    """G: z -> data, D: data -> one score per sample; subclasses define the losses."""
    datasets = MLP_GAN_DATASETS

    critic_steps_setting = None  # the setting that holds the number of critic updates per generator update

    def __init__(self, config):
        super().__init__(config)
        self.critic_steps = config[self.critic_steps_setting]
        self.z_dim = config["z_dim"]
        image_output = nn.Tanh if config["dataset"] == "mnist" else None  # images live in [-1, 1]
        self.G = mlp([self.z_dim, *config["hidden"], self.data_size], output_activation=image_output).to(self.device)
        self.D = mlp([self.data_size, *config["hidden"], 1]).to(self.device)
        self.optimizer_d, self.optimizer_g = self.make_optimizers()

    @property
    def batches_per_step(self):
        return self.critic_steps

    # ---- what each family defines -----------------------------------------------------
    @abc.abstractmethod
    def make_optimizers(self):
        """(optimizer of D, optimizer of G)."""

    @abc.abstractmethod
    def critic_losses(self, real, fake):
        """{"loss_d": the loss D minimises, other names: values to report} as Tensors."""

    @abc.abstractmethod
    def generator_loss(self, fake_scores):
        """The loss G minimises, from D's scores of G's samples."""

    def after_critic_step(self):
        """Called after every update of D (WGAN clips its weights here)."""

    # ---- the step ---------------------------------------------------------------------
    def train_step(self, batch):
        real_batches = batch[0].flatten(1).chunk(self.critic_steps)  # one fresh real batch per critic update
        for real in real_batches:
            critic = self.critic_step(real)
        losses = {name: value.item() for name, value in critic.items()}
        losses["loss_g"] = self.generator_step(len(real_batches[0])).item()
        return losses

    def critic_step(self, real):
        with no_grad():
            fake = self.G(self.noise(len(real), self.z_dim))
        losses = self.critic_losses(real, fake)
        self.optimizer_d.zero_grad()
        losses["loss_d"].backward()
        self.optimizer_d.step()
        self.after_critic_step()
        return losses

    def generator_step(self, n):
        with frozen(self.D):  # gradients flow through D to G, but D's weights need none
            loss = self.generator_loss(self.D(self.G(self.noise(n, self.z_dim))))
            self.optimizer_g.zero_grad()
            loss.backward()
        self.optimizer_g.step()
        return loss

    def generate(self, n, generator):
        return self.G(self.noise(n, self.z_dim, generator))


@contextlib.contextmanager
def frozen(module):
    """Parameters of `module` do not require grad inside the block."""
    module.requires_grad_(False)
    try:
        yield module
    finally:
        module.requires_grad_(True)
