"""The IAF VAE of Kingma et al. 2016 on a convolutional ResNet encoder and decoder, the kind of
network of the paper's MNIST table (a ResNet VAE with one layer of 32 Gaussian latents). The
posterior, the flow, the ELBO and the importance-weighted bound are iaf_vae.py's (Algorithm 1);
only the networks differ:

    q(z|x):  x (1x28x28) -> conv 3x3 -> w x28x28 -> conv 4x4 s2 -> w x14x14 -> ResNet blocks
             -> conv 4x4 s2 -> w x7x7 -> ResNet blocks -> ELU -> Linear -> (mu, log sigma^2, h)
    p(x|z):  z -> Linear -> w x7x7 -> ResNet blocks -> convT 4x4 s2 -> w x14x14 -> ResNet blocks
             -> convT 4x4 s2 -> w x28x28 -> ELU -> conv 3x3 -> 1x28x28 Bernoulli logits

A ResNet block is x + conv3x3(ELU(conv3x3(ELU(x)))) (He et al. 2016's pre-activation form, ELU as
openai/iaf). `iaf_steps=0` is the diagonal posterior on the same network, so the paper's
comparison (diagonal 81.08 against IAF 79.10 nats) is one setting. Departures from the paper's
model, to fit 2 CPU cores: width 16 and one block per resolution by default (the paper is wider
and deeper), Adam instead of Adamax, no free bits, no data-dependent initialisation.
"""
from .. import nn
from ..nn.conv import Conv2d, ConvTranspose2d
from .iaf_vae import IAFVAE
from .settings import COMMON, MAX_LAYERS, Setting


class ResNetBlock(nn.Module):
    """x + conv3x3(ELU(conv3x3(ELU(x)))): the channels and the size are kept."""

    def __init__(self, channels):
        super().__init__()
        self.branch = nn.Sequential(nn.ELU(), Conv2d(channels, channels, 3, padding=1),
                                    nn.ELU(), Conv2d(channels, channels, 3, padding=1))

    def forward(self, x):
        return x + self.branch(x)


def resnet_blocks(channels, blocks):
    return [ResNetBlock(channels) for _ in range(blocks)]


class IAFResNetVAE(IAFVAE):
    name = "iaf-resnet-vae"
    paper = "Kingma, Salimans, Jozefowicz, Chen, Sutskever & Welling 2016, Improved Variational Inference " \
            "with Inverse Autoregressive Flow (the ResNet VAE)"
    image_layout = "chw"
    defaults = dict({key: value for key, value in IAFVAE.defaults.items() if key != "hidden"},
                    z_dim=32, width=16, blocks=1)
    dataset_defaults = {"mnist": dict(pixels="dynamic-binary", steps=20000)}
    settings = dict({key: value for key, value in IAFVAE.settings.items() if key != "hidden"},
                    width=COMMON["width"],
                    blocks=Setting(int, "ResNet blocks at each resolution (14x14 and 7x7)", at_least=0,
                                   at_most=MAX_LAYERS))

    def __init__(self, config):
        if list(config["data_shape"]) != [1, 28, 28]:
            raise ValueError(f"{self.name}: data_shape must be [1, 28, 28] (MNIST images), got {config['data_shape']}")
        self.width, self.blocks = config["width"], config["blocks"]
        super().__init__(config)

    def build_encoder(self):
        """x (flattened) -> (mu, log sigma^2, h) side by side (Algorithm 1's EncoderNN)."""
        w = self.width
        return nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)), Conv2d(1, w, 3, padding=1),
            Conv2d(w, w, 4, 2, 1), *resnet_blocks(w, self.blocks),
            Conv2d(w, w, 4, 2, 1), *resnet_blocks(w, self.blocks),
            nn.ELU(), nn.Flatten(), nn.Linear(w * 7 * 7, 2 * self.z_dim + self.context_size))

    def build_decoder(self, outputs_per_value):
        """z -> the Bernoulli logits (or Gaussian mean and log-variance) of the 784 pixels, flattened."""
        w = self.width
        return nn.Sequential(
            nn.Linear(self.z_dim, w * 7 * 7), nn.Unflatten(1, (w, 7, 7)), *resnet_blocks(w, self.blocks),
            ConvTranspose2d(w, w, 4, 2, 1), *resnet_blocks(w, self.blocks),
            ConvTranspose2d(w, w, 4, 2, 1), nn.ELU(), Conv2d(w, outputs_per_value, 3, padding=1), nn.Flatten())
