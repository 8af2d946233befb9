"""DCGAN (Radford, Metz & Chintala 2015, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks"), for 28x28 MNIST, and its Upsample + Conv
variant; latent interpolation and latent vector arithmetic.

The paper's architecture guidelines (Sec. 3), as followed here:
  - strided convolutions in D and transposed ("fractionally-strided") convolutions in G, no pooling;
  - batch norm in G and D, except on G's output layer and D's input layer;
  - ReLU in G with tanh on its output, LeakyReLU(0.2) in D;
  - weights ~ N(0, 0.02), Adam(lr=2e-4, beta1=0.5), images scaled to [-1, 1] (Sec. 4).

    G: z (100) -> convT 7x7 -> 128x7x7 -> BN, ReLU -> convT 4x4 s2 -> 64x14x14 -> BN, ReLU
               -> convT 4x4 s2 -> 1x28x28 -> tanh
    D: 1x28x28 -> conv 4x4 s2 -> 64x14x14 -> LeakyReLU -> conv 4x4 s2 -> 128x7x7 -> BN, LeakyReLU
               -> conv 7x7 -> 1 logit

Both networks play the GAN game of Goodfellow et al. 2014 with the non-saturating G loss
(gan.py's GANLosses), trained by adversarial.py's loop. `DCGAN` is also the base of the
conditional DCGAN in cgan.py, which feeds the label to both networks.
"""
import numpy

from .. import functional as F
from .. import nn
from .. import Tensor
from ..nn.conv import Conv2d, ConvTranspose2d
from ..nn.normalization import BatchNorm1d, BatchNorm2d
from ..nn.pooling import Upsample
from .adversarial import AdversarialModel
from .gan import GANLosses
from .gan_switches import TECHNIQUE_DEFAULTS, TECHNIQUE_SETTINGS, TechniqueSwitches
from .settings import MAX_WIDTH, Setting, declare


# ---- layers and initialisation ------------------------------------------------------------------
class SeededDropout(nn.Dropout):
    """nn.Dropout (or Dropout2d, `channels=True`: whole feature maps) drawing its masks from the
    model's own Generator, so a checkpoint of that generator's state resumes them exactly."""

    def __init__(self, p, generator, channels=False):
        super().__init__(p)
        self.generator, self.channels = generator, channels

    def forward(self, input):
        dropout = F.dropout2d if self.channels else F.dropout
        return dropout(input, self.p, self.training, generator=self.generator)


def dcgan_init_(module, generator):
    """Radford et al. 2015, Sec. 4: every weight ~ N(0, 0.02); batch-norm scales ~ N(1, 0.02) and
    all biases 0, as the PyTorch DCGAN example's weights_init."""
    for layer in module.modules():
        if isinstance(layer, (Conv2d, ConvTranspose2d, nn.Linear)):
            nn.init.normal_(layer.weight, 0.0, 0.02, generator=generator)
        elif isinstance(layer, (BatchNorm1d, BatchNorm2d, nn.VirtualBatchNorm)):
            nn.init.normal_(layer.weight, 1.0, 0.02, generator=generator)
        else:
            continue
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)


def _check_image_shape(image_shape, name):
    channels, height, width = image_shape
    if height != width or height % 4 or height < 4:
        raise ValueError(f"{name}: image_shape must be (C, S, S) with S a multiple of 4 (two stride-2 "
                         f"layers), got {tuple(image_shape)}")
    return channels, height // 4


def dcgan_generator(input_dim, width, image_shape, norm=BatchNorm2d):
    """G of the module docstring for S x S images: z -> 2w x S/4 x S/4 -> w x S/2 x S/2 -> C x S x S;
    `norm` the batch-norm layer class (nn.VirtualBatchNorm for virtual batch norm)."""
    channels, start = _check_image_shape(image_shape, "dcgan_generator")
    return nn.Sequential(
        nn.Unflatten(1, (input_dim, 1, 1)),
        ConvTranspose2d(input_dim, 2 * width, start, 1, 0, bias=False), norm(2 * width), nn.ReLU(),
        ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), norm(width), nn.ReLU(),
        ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh())


def dcgan_critic_layers(input_channels, width, image_shape):
    """D of the module docstring as (trunk, features, head): strided convolutions down to
    2w x S/4 x S/4 (no batch norm on the input layer), `features` = 2w (S/4)^2 values, then the
    head, one S/4 x S/4 convolution to a single logit per image."""
    _, end = _check_image_shape(image_shape, "dcgan_discriminator")
    trunk = [Conv2d(input_channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
             Conv2d(width, 2 * width, 4, 2, 1, bias=False), BatchNorm2d(2 * width), nn.LeakyReLU(0.2)]
    return trunk, 2 * width * end * end, [Conv2d(2 * width, 1, end, 1, 0), nn.Flatten(0)]


def dcgan_discriminator(input_channels, width, image_shape):
    """D of the module docstring, one nn.Sequential."""
    trunk, _, head = dcgan_critic_layers(input_channels, width, image_shape)
    return nn.Sequential(*trunk, *head)


# ---- the model --------------------------------------------------------------------------------
class DCGAN(TechniqueSwitches, GANLosses, AdversarialModel):
    """The DCGAN of the module docstring on MNIST. Settings: z_dim, width (the channels of D's
    first layer; G mirrors it), lr, betas, batch_size, steps, and Improved GAN's techniques
    (gan_switches.py); data_shape (C, S, S) comes with the data, (1, 28, 28) for MNIST. The step
    of adversarial.py in the order of the PyTorch DCGAN example: one D step on a real batch and
    a fake one, then one G step on the same fake batch through the updated D."""
    name = "dcgan"
    paper = "Radford, Metz & Chintala 2015, Unsupervised Representation Learning with Deep Convolutional GANs"
    datasets = ("mnist",)
    image_layout = "chw"
    generator_reuses_critic_fake = True
    # Sec. 4: Adam(2e-4, beta1 = 0.5), mini-batches of 128; beta2 is Adam's default
    defaults = dict(z_dim=100, width=64, lr=2e-4, betas=[0.5, 0.999], **TECHNIQUE_DEFAULTS)
    dataset_defaults = {"mnist": dict(batch_size=128, steps=5000, pixels="tanh")}
    settings = declare("z_dim", "width", "lr", "betas", "batch_size", "steps", "pixels", **TECHNIQUE_SETTINGS)

    def __init__(self, config):
        self.width = config["width"]
        super().__init__(config)

    def build_generator(self):
        return dcgan_generator(self.z_dim, self.width, self.data_shape, self.generator_norm)

    def critic_layers(self):
        return dcgan_critic_layers(self.data_shape[0], self.width, self.data_shape)

    def initialise(self, network):
        dcgan_init_(network, self.rng)


class DCGANUpsample(DCGAN):
    """The DCGAN variant whose G resizes with nearest-neighbour Upsample + 3x3 convolution instead
    of transposed convolutions (which avoids their checkerboard artefacts, Odena et al. 2016), and
    whose D has channel dropout (the layout of eriklindernoren/PyTorch-GAN's dcgan.py):

        G: z -> Linear -> 128 x 7x7 -> BN -> Upsample x2 -> conv 3x3 -> 64 x 14x14 -> BN -> ReLU
                                          -> Upsample x2 -> conv 3x3 -> 1 x 28x28 -> tanh
        D: (conv 3x3 s2 -> LeakyReLU(0.2) -> Dropout2d(0.25) [-> BN]) x 4 -> Linear -> 1 logit
    """
    name = "dcgan-upsample"
    paper = ("Radford, Metz & Chintala 2015 (DCGAN), with Upsample + Conv in G (Odena, Dumoulin & Olah 2016, "
             "Deconvolution and Checkerboard Artifacts)")
    dropout = 0.25
    # D's channels are width // 4 * (1, 2, 4, 8): width must be a multiple of 4
    settings = dict(DCGAN.settings, width=Setting(int, "channels: G's 2 width then width; D's width/4, /2, 1, 2x",
                                                  at_least=4, at_most=MAX_WIDTH, multiple_of=4))

    def build_generator(self):
        channels, start = _check_image_shape(self.data_shape, "DCGANUpsample")
        wide = 2 * self.width
        return nn.Sequential(
            nn.Linear(self.z_dim, wide * start * start), nn.Unflatten(1, (wide, start, start)),
            self.generator_norm(wide),
            Upsample(scale_factor=2), Conv2d(wide, self.width, 3, 1, 1, bias=False), self.generator_norm(self.width),
            nn.ReLU(),
            Upsample(scale_factor=2), Conv2d(self.width, channels, 3, 1, 1), nn.Tanh())

    def critic_layers(self):
        channels, size = self.data_shape[0], self.data_shape[1]
        widths = [channels] + [self.width // 4 * 2 ** i for i in range(4)]  # 16, 32, 64, 128 for width 64
        layers = []
        for i, (in_channels, out_channels) in enumerate(zip(widths, widths[1:])):
            layers += [Conv2d(in_channels, out_channels, 3, 2, 1), nn.LeakyReLU(0.2),
                       SeededDropout(self.dropout, self.rng, channels=True)]
            layers += [BatchNorm2d(out_channels)] if i > 0 else []  # no batch norm on D's input layer
            size = (size + 1) // 2  # a 3x3 stride-2 padding-1 convolution: ceil(size / 2)
        features = widths[-1] * size * size
        return [*layers, nn.Flatten()], features, [nn.Linear(features, 1), nn.Flatten(0)]


# ---- latent space utilities (Radford et al. 2015, Sec. 6) ----------------------------------------
def _latent_array(z, name):
    array = z.detach().numpy() if isinstance(z, Tensor) else numpy.asarray(z, numpy.float64)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a latent vector (D,), got shape {array.shape}")
    return array


def _interpolation_weights(steps, name):
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise ValueError(f"{name}: steps must be an int >= 2 (both end points included), got {steps!r}")
    return numpy.linspace(0.0, 1.0, steps)[:, None]


def lerp(z0, z1, steps):
    """`steps` points on the straight line from z0 to z1, ends included: (steps, D) float32.
    The walks in latent space of Radford et al. 2015, Sec. 6.1."""
    z0, z1 = _latent_array(z0, "lerp"), _latent_array(z1, "lerp")
    t = _interpolation_weights(steps, "lerp")
    return ((1 - t) * z0 + t * z1).astype(numpy.float32)


def slerp(z0, z1, steps):
    """`steps` points on the great circle from z0 to z1, ends included (Shoemake 1985), which
    keeps a Gaussian z at the typical norm that linear paths leave (White 2016, "Sampling
    Generative Networks"): sin((1-t) omega) / sin(omega) z0 + sin(t omega) / sin(omega) z1, with
    omega the angle between z0 and z1. Parallel vectors fall back to lerp. (steps, D) float32."""
    z0, z1 = _latent_array(z0, "slerp"), _latent_array(z1, "slerp")
    t = _interpolation_weights(steps, "slerp")
    cosine = z0 @ z1 / (numpy.linalg.norm(z0) * numpy.linalg.norm(z1))
    omega = numpy.arccos(numpy.clip(cosine, -1.0, 1.0))
    if numpy.sin(omega) < 1e-6:
        return lerp(z0, z1, steps)
    return ((numpy.sin((1 - t) * omega) * z0 + numpy.sin(t * omega) * z1) / numpy.sin(omega)).astype(numpy.float32)


def average_latent(latents):
    """The mean z of a group of samples, (k, D) -> (D,): Radford et al. 2015, Sec. 6.3.2 average
    the z of three exemplars of a concept, because single samples were unstable."""
    array = latents.detach().numpy() if isinstance(latents, Tensor) else numpy.asarray(latents, numpy.float64)
    if array.ndim != 2 or len(array) == 0:
        raise ValueError(f"average_latent: expected a group of latent vectors (k, D) with k >= 1, "
                         f"got shape {array.shape}")
    return array.mean(axis=0).astype(numpy.float32)


def latent_arithmetic(add=(), subtract=()):
    """Vector arithmetic on concept averages (Radford et al. 2015, Sec. 6.3.2, Fig. 7):
    sum of average_latent(g) over the groups in `add`, minus those in `subtract`; e.g.
    latent_arithmetic(add=[smiling_woman, neutral_man], subtract=[neutral_woman]) ~ smiling man.
    Decode the result with `model.decode(result[None])`."""
    if not add:
        raise ValueError("latent_arithmetic: add needs at least one group of latent vectors")
    result = sum(average_latent(group) for group in add)
    return (result - sum(average_latent(group) for group in subtract)).astype(numpy.float32)
