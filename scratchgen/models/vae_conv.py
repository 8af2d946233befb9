"""VAE (Kingma & Welling 2013) with a convolutional encoder and decoder: the model, the ELBO,
the reparameterisation, the closed-form KL and the importance-weighted bound (Burda et al. 2015)
are those of vae.py; only the networks differ (the DCGAN-style layout of Radford et al. 2015,
strided convolutions down and transposed convolutions up, with ReLU):

    q(z|x):  x (1x28x28) -> conv 4x4 s2 -> 32x14x14 -> ReLU -> conv 4x4 s2 -> 64x7x7 -> ReLU
             -> Linear -> (mu, log sigma^2) of z (50)
    p(x|z):  z -> Linear -> 64x7x7 -> ReLU -> convT 4x4 s2 -> 32x14x14 -> ReLU -> convT 4x4 s2
             -> 1x28x28 Bernoulli logits (2x28x28 mean and log-variance for a Gaussian likelihood)

Batches arrive as images (N, 1, 28, 28); vae.py's code flattens them to (N, 784), so the encoder
starts by restoring the image shape and the decoder ends by flattening its output.
"""
from .. import nn
from ..nn.conv import Conv2d, ConvTranspose2d
from .settings import COMMON
from .vae import VAE


class ConvVAE(VAE):
    name = "conv-vae"
    paper = "Kingma & Welling 2013, Auto-Encoding Variational Bayes, with a convolutional encoder and decoder"
    image_layout = "chw"
    defaults = dict({key: value for key, value in VAE.defaults.items() if key != "hidden"}, width=32)
    settings = dict({key: value for key, value in VAE.settings.items() if key != "hidden"}, width=COMMON["width"])

    def __init__(self, config):
        channels, height, breadth = config["data_shape"]
        if height != breadth or height % 4:
            raise ValueError("conv-vae: data_shape must be (C, S, S) with S a multiple of 4, "
                             f"got {config['data_shape']}")
        self.width = config["width"]
        super().__init__(config)

    def build_encoder(self):
        channels, size, _ = self.data_shape
        return nn.Sequential(
            nn.Unflatten(1, self.data_shape),
            Conv2d(channels, self.width, 4, 2, 1), nn.ReLU(),
            Conv2d(self.width, 2 * self.width, 4, 2, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(2 * self.width * (size // 4) ** 2, 2 * self.z_dim))

    def build_decoder(self, outputs_per_value):
        output_channels, start = self.data_shape[0] * outputs_per_value, self.data_shape[1] // 4
        return nn.Sequential(
            nn.Linear(self.z_dim, 2 * self.width * start * start), nn.ReLU(),
            nn.Unflatten(1, (2 * self.width, start, start)),
            ConvTranspose2d(2 * self.width, self.width, 4, 2, 1), nn.ReLU(),
            ConvTranspose2d(self.width, output_channels, 4, 2, 1), nn.Flatten())
