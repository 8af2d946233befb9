"""PyTorch twins of scratchgen's convolutional models (scratchgen/models/dcgan.py, cgan.py,
vae_conv.py): the same layers in the same order (so state_dict keys match), the same
initialisation, optimisers, hyperparameters and training step. They take the batches of
scratchgen's DataLoader as NumPy arrays, so both libraries see the same data in the same order,
and `sample` returns NumPy images in [0, 1], so scratchgen.metrics scores both alike.

A twin is built from the same run settings as the model it mirrors (scratchgen.train.config's
resolve_config), and reads the class constants it needs (dropout rates) from that model. What
they share with the MLP twins (seeding, noise, the GAN losses, the VAE step) is in
torch_twins_mlp.py.
"""
import torch
import torch.nn.functional as F
from torch import nn

from scratchgen.models.cgan import CDCGAN, CGAN, NUM_CLASSES
from scratchgen.models.dcgan import DCGAN, DCGANUpsample
from scratchgen.models.vae_conv import ConvVAE
from torch_twins_mlp import TorchTwin, TorchVAE, as_tensor, discriminator_loss, non_saturating_generator_loss


def dcgan_init_(module, generator):
    """dcgan.py's dcgan_init_: weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02), biases 0."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(layer.weight, 0.0, 0.02, generator=generator)
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(layer.weight, 1.0, 0.02, generator=generator)
        else:
            continue
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)


def dcgan_generator(input_dim, width, image_shape):
    channels, start = image_shape[0], image_shape[1] // 4
    return nn.Sequential(
        nn.Unflatten(1, (input_dim, 1, 1)),
        nn.ConvTranspose2d(input_dim, 2 * width, start, 1, 0, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
        nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh())


def dcgan_discriminator(input_channels, width, image_shape):
    end = image_shape[1] // 4
    return nn.Sequential(
        nn.Conv2d(input_channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * width, 1, end, 1, 0), nn.Flatten(0))


class TorchDCGAN(TorchTwin):
    mirrors = DCGAN

    def __init__(self, config):
        super().__init__(config)
        self.z_dim, self.width = config["z_dim"], config["width"]
        self.G, self.D = self.build_generator(), self.build_discriminator()
        for network in (self.G, self.D):
            self.initialise(network)
        betas = tuple(config["betas"])
        self.optimizer_g = torch.optim.Adam(self.G.parameters(), lr=config["lr"], betas=betas)
        self.optimizer_d = torch.optim.Adam(self.D.parameters(), lr=config["lr"], betas=betas)

    def build_generator(self):
        return dcgan_generator(self.z_dim, self.width, self.data_shape)

    def build_discriminator(self):
        return dcgan_discriminator(self.data_shape[0], self.width, self.data_shape)

    def initialise(self, network):
        dcgan_init_(network, self.rng)

    def latent(self, n):
        return self.noise(n, self.z_dim)

    def generate_from(self, z, labels=None):
        return self.G(self._generator_input(z, labels))

    def discriminate(self, images, labels=None):
        return self.D(self._discriminator_input(images, labels))

    def _generator_input(self, z, labels):
        return z

    def _discriminator_input(self, images, labels):
        return images

    def discriminator_loss(self, real, fake, labels=None):
        return discriminator_loss(self.discriminate(real, labels), self.discriminate(fake, labels))

    def generator_loss(self, fake, labels=None):
        return non_saturating_generator_loss(self.discriminate(fake, labels))

    def train_step(self, batch):
        real = as_tensor(batch[0]).reshape(-1, *self.data_shape)
        labels = as_tensor(batch[1]) if len(batch) > 1 else None
        fake = self.generate_from(self.latent(len(real)), labels)
        loss_d = self.discriminator_loss(real, fake.detach(), labels)
        self.optimizer_d.zero_grad()
        loss_d.backward()
        self.optimizer_d.step()
        self.D.requires_grad_(False)  # scratchgen's frozen(D)
        loss_g = self.generator_loss(fake, labels)
        self.optimizer_g.zero_grad()
        loss_g.backward()
        self.D.requires_grad_(True)
        self.optimizer_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}

    @torch.no_grad()
    def decode(self, z, labels=None):
        """GenerativeModel.evaluating(): every network in eval mode while sampling."""
        self.G.eval(), self.D.eval()
        images = self.generate_from(z, labels).numpy()
        self.G.train(), self.D.train()
        return self.data_to_output(images)

    def sample(self, n, labels=None):
        return self.decode(self.latent(n))


class TorchDCGANUpsample(TorchDCGAN):
    mirrors = DCGANUpsample

    def build_generator(self):
        channels, start, wide = self.data_shape[0], self.data_shape[1] // 4, 2 * self.width
        return nn.Sequential(
            nn.Linear(self.z_dim, wide * start * start), nn.Unflatten(1, (wide, start, start)), nn.BatchNorm2d(wide),
            nn.Upsample(scale_factor=2), nn.Conv2d(wide, self.width, 3, 1, 1, bias=False), nn.BatchNorm2d(self.width),
            nn.ReLU(), nn.Upsample(scale_factor=2), nn.Conv2d(self.width, channels, 3, 1, 1), nn.Tanh())

    def build_discriminator(self):
        channels, size = self.data_shape[0], self.data_shape[1]
        widths = [channels] + [self.width // 4 * 2 ** i for i in range(4)]
        layers = []
        for i, (in_channels, out_channels) in enumerate(zip(widths, widths[1:])):
            layers += [nn.Conv2d(in_channels, out_channels, 3, 2, 1), nn.LeakyReLU(0.2),
                       nn.Dropout2d(self.mirrors.dropout)]
            layers += [nn.BatchNorm2d(out_channels)] if i > 0 else []
            size = (size + 1) // 2
        return nn.Sequential(*layers, nn.Flatten(), nn.Linear(widths[-1] * size * size, 1), nn.Flatten(0))


class TorchCDCGAN(TorchDCGAN):
    mirrors = CDCGAN

    def build_generator(self):
        return dcgan_generator(self.z_dim + NUM_CLASSES, self.width, self.data_shape)

    def build_discriminator(self):
        return dcgan_discriminator(self.data_shape[0] + NUM_CLASSES, self.width, self.data_shape)

    def _generator_input(self, z, labels):
        return torch.cat([z, F.one_hot(labels, NUM_CLASSES).to(z.dtype)], 1)

    def _discriminator_input(self, images, labels):
        maps = F.one_hot(labels, NUM_CLASSES).to(images.dtype).reshape(len(images), NUM_CLASSES, 1, 1)
        return torch.cat([images, maps.expand(-1, -1, *images.shape[2:])], 1)

    def sample(self, n, labels=None):
        labels = torch.arange(n) % NUM_CLASSES if labels is None else torch.as_tensor(labels).expand(n)
        return self.decode(self.latent(n), labels)


class Maxout(nn.Module):
    def __init__(self, in_features, units, pieces):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_features, units * pieces)

    def forward(self, input):
        return self.linear(input).reshape(len(input), self.units, self.pieces).max(2).values


class TwoBranches(nn.Module):
    def __init__(self, data_branch, label_branch, joint, data_dim):
        super().__init__()
        self.data_branch, self.label_branch, self.joint, self.data_dim = data_branch, label_branch, joint, data_dim

    def forward(self, input):
        data, label = input[:, :self.data_dim], input[:, self.data_dim:]
        return self.joint(torch.cat([self.data_branch(data), self.label_branch(label)], 1))


class TorchCGAN(TorchCDCGAN):
    mirrors = CGAN

    def build_generator(self):
        pixels = self.data_size
        return nn.Sequential(
            TwoBranches(self._hidden(nn.Linear(self.z_dim, 200), nn.ReLU()),
                        self._hidden(nn.Linear(NUM_CLASSES, 1000), nn.ReLU()),
                        nn.Sequential(nn.Linear(1200, pixels), nn.Tanh()), self.z_dim),
            nn.Unflatten(1, self.data_shape))

    def build_discriminator(self):
        pixels = self.data_size
        joint = nn.Sequential(self._hidden(Maxout(240 + 50, 240, 4)), nn.Linear(240, 1), nn.Flatten(0))
        return TwoBranches(self._hidden(Maxout(pixels, 240, 5)), self._hidden(Maxout(NUM_CLASSES, 50, 5)),
                           joint, pixels)

    def _hidden(self, *layers):
        return nn.Sequential(*layers, nn.Dropout(self.mirrors.dropout))

    def initialise(self, network):
        """cgan.py's CGAN keeps the default nn.Linear initialisation."""

    def latent(self, n):
        return torch.rand(n, self.z_dim, generator=self.rng)

    def _discriminator_input(self, images, labels):
        return torch.cat([images.reshape(len(images), -1), F.one_hot(labels, NUM_CLASSES).to(images.dtype)], 1)


class TorchConvVAE(TorchVAE):
    """vae_conv.py's ConvVAE (Bernoulli likelihood): TorchVAE's step on convolutional networks."""
    mirrors = ConvVAE

    def build_encoder(self):
        width, channels, start = self.config["width"], self.data_shape[0], self.data_shape[1] // 4
        return nn.Sequential(
            nn.Unflatten(1, self.data_shape), nn.Conv2d(channels, width, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(2 * width * start * start, 2 * self.z_dim))

    def build_decoder(self):
        width, channels, start = self.config["width"], self.data_shape[0], self.data_shape[1] // 4
        return nn.Sequential(
            nn.Linear(self.z_dim, 2 * width * start * start), nn.ReLU(), nn.Unflatten(1, (2 * width, start, start)),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(width, channels, 4, 2, 1),
            nn.Flatten())


TWINS = (TorchDCGAN, TorchDCGANUpsample, TorchCGAN, TorchCDCGAN, TorchConvVAE)
