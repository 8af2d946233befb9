"""Conditional GANs (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets"): the
label y is fed to both players, so the game of Goodfellow et al. 2014 becomes (Eq. 2)

    min_G max_D  E_x[log D(x|y)] + E_z[log(1 - D(G(z|y)|y))]

and `sample(n, labels=...)` draws digits of chosen classes.

`CGAN` is the paper's MLP pair (Sec. 4.1):
    G: z (100, uniform on the unit hypercube) -> 200 ReLU;  y one-hot -> 1000 ReLU;
       joint 1200 -> 784 (the paper's sigmoid becomes tanh here: images are in [-1, 1])
    D: x -> maxout 240 units x 5 pieces;  y -> maxout 50 x 5;  joint maxout 240 x 4 -> 1 logit
    dropout 0.5 in both networks.
`CDCGAN` is DCGAN (dcgan.py) with the label appended as one-hot entries to z for G, and as
10 constant one-hot feature maps beside the image for D (Newmu/dcgan_code's conditional MNIST
model concatenates y the same way).

Deviation from the paper: it trains with SGD (lr 0.1 decayed by 1/1.00004 per step, momentum
0.5 -> 0.7) and early stopping on a validation Parzen estimate; both models here train with
DCGAN's Adam(2e-4, 0.5), which needs no early stopping. CDCGAN keeps DCGAN's N(0, 0.02) init;
CGAN keeps PyTorch's default Linear init (the paper's is unspecified): with N(0, 0.02) the
one-hot label branch starts near zero, and in a PyTorch run of this model G still ignored many
labels after 5000 steps (FID on LeNet features 795 against 409 with the default init).
"""
import numpy

from .. import nn
from .. import as_tensor, rand
from ..functional import cat, one_hot
from .adversarial import AdversarialModel
from .dcgan import DCGAN, SeededDropout, dcgan_critic_layers, dcgan_generator
from .gan import GANLosses
from .settings import declare

NUM_CLASSES = 10


class Maxout(nn.Module):
    """Maxout units (Goodfellow et al. 2013): a Linear layer to units x pieces outputs, and
    the maximum over each unit's pieces."""

    def __init__(self, in_features, units, pieces):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_features, units * pieces)

    def forward(self, input):
        values, _ = self.linear(input).reshape(len(input), self.units, self.pieces).max(2)
        return values

    def extra_repr(self):
        return f"units={self.units}, pieces={self.pieces}"


class _TwoBranches(nn.Module):
    """Mirza & Osindero's layout: the data and the one-hot label each pass through their own
    hidden layer, and a joint network maps the concatenation to the output."""

    def __init__(self, data_branch, label_branch, joint, data_dim):
        super().__init__()
        self.data_branch, self.label_branch, self.joint, self.data_dim = data_branch, label_branch, joint, data_dim

    def forward(self, input):
        data, label = input[:, :self.data_dim], input[:, self.data_dim:]
        return self.joint(cat([self.data_branch(data), self.label_branch(label)], 1))


class Conditional:
    """What both conditional GANs share: G reads [z, one-hot y] (generator_input), the labels
    default to every class in turn, and `sample(n, labels=...)` draws chosen classes. Each
    model says how D reads the label (discriminator_input)."""

    def generator_input(self, z, labels):
        return cat([z, self.one_hot(labels, z)], 1)

    def one_hot(self, labels, like):
        """The one-hot rows of `labels`, in the dtype of `like`."""
        if labels is None:
            raise ValueError(f"{self.name}: a conditional model needs labels: batches of (images, labels), and "
                             "generate(n, generator, labels)")
        return one_hot(labels, NUM_CLASSES).to(dtype=like.dtype)

    def generate(self, n, generator, labels=None):
        """G(z|y) for n fresh z; the labels default to classes 0, 1, ..., 9, 0, ... in turn."""
        return self.generate_from(self.latent(n, generator), self.sample_labels(n, labels))

    def sample(self, n, labels=None, generator=None):
        """n images in [0, 1], (n, 1, 28, 28), of the classes `labels`: one class (an int) for
        all of them, or n classes; by default every class in turn, so each is drawn equally often."""
        return self.decode(self.latent(n, generator), self.sample_labels(n, labels))

    def code_traversals(self, n, generator=None):
        """{code name: [(value, labels)]}: the codes besides z that G reads, each with the values
        `scratchgen explore --traverse` walks through and, for each value, the labels that set it
        in n rows (what decode(z, labels) takes). Here the one code is the class; InfoGAN's would
        be each of its codes, the others drawn from `generator` and held along a row."""
        return {"class": [(label, self.sample_labels(n, label)) for label in range(NUM_CLASSES)]}

    def sample_labels(self, n, labels=None):
        """The int64 label Tensor (n,) that `sample(n, labels)` conditions on."""
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise ValueError(f"{self.name}.sample: n must be a positive integer, got {n!r}")
        if labels is None:
            labels = numpy.arange(n) % NUM_CLASSES
        array = numpy.asarray(labels)
        array = numpy.broadcast_to(array, (n,)) if array.ndim == 0 else array
        if array.shape != (n,) or array.dtype.kind not in "iu" or not 0 <= array.min() <= array.max() < NUM_CLASSES:
            raise ValueError(f"{self.name}.sample: labels must be a class in [0, {NUM_CLASSES}) or {n} of them, "
                             f"got {labels!r}")
        return as_tensor(array.astype(numpy.int64), device=self.device)


class CDCGAN(Conditional, DCGAN):
    """Conditional DCGAN: DCGAN whose G reads [z, one-hot y] and whose D reads the image
    stacked with 10 one-hot label maps."""
    name = "cdcgan"
    paper = "Mirza & Osindero 2014, Conditional Generative Adversarial Nets (on DCGAN, Radford et al. 2015)"

    def build_generator(self):
        return dcgan_generator(self.z_dim + NUM_CLASSES, self.width, self.data_shape, self.generator_norm)

    def critic_layers(self):
        return dcgan_critic_layers(self.data_shape[0] + NUM_CLASSES, self.width, self.data_shape)

    def reference_labels(self):
        return self.sample_labels(len(self.G.reference_z))  # virtual batch norm's reference: every class in turn

    def discriminator_input(self, images, labels):
        maps = self.one_hot(labels, images).reshape(len(images), NUM_CLASSES, 1, 1)
        return cat([images, maps.expand((len(images), NUM_CLASSES) + tuple(images.shape[2:]))], 1)


class CGAN(Conditional, GANLosses, AdversarialModel):
    """The MLP conditional GAN of Mirza & Osindero 2014, Sec. 4.1 (module docstring), trained by
    the step of DCGAN (G's update reuses D's fake batch) with nn.Linear's default initialisation."""
    name = "cgan"
    paper = "Mirza & Osindero 2014, Conditional Generative Adversarial Nets"
    datasets = ("mnist",)
    image_layout = "chw"
    generator_reuses_critic_fake = True
    dropout = 0.5
    # DCGAN's settings (module docstring); width is DCGAN's and unused by these networks
    defaults = dict(z_dim=100, width=64, lr=2e-4, betas=[0.5, 0.999])
    # Sec. 4.1: mini-batches of 100
    dataset_defaults = {"mnist": dict(batch_size=100, steps=20000, pixels="tanh")}
    settings = declare("z_dim", "width", "lr", "betas", "batch_size", "steps", "pixels")

    def build_generator(self):
        return nn.Sequential(
            _TwoBranches(self._hidden(nn.Linear(self.z_dim, 200), nn.ReLU()),
                         self._hidden(nn.Linear(NUM_CLASSES, 1000), nn.ReLU()),
                         nn.Sequential(nn.Linear(1200, self.data_size), nn.Tanh()), self.z_dim),
            nn.Unflatten(1, self.data_shape))

    def build_critic(self):
        joint = nn.Sequential(self._hidden(Maxout(240 + 50, 240, 4)), nn.Linear(240, 1), nn.Flatten(0))
        return _TwoBranches(self._hidden(Maxout(self.data_size, 240, 5)), self._hidden(Maxout(NUM_CLASSES, 50, 5)),
                            joint, self.data_size)

    def _hidden(self, *layers):
        return nn.Sequential(*layers, SeededDropout(self.dropout, self.rng))

    def latent(self, n, generator=None):
        """z ~ U[0, 1]^z_dim, "drawn from a uniform distribution within the unit hypercube" (Sec. 4.1)."""
        return rand(n, self.z_dim, device=self.device, generator=self.rng if generator is None else generator)

    def discriminator_input(self, images, labels):
        return cat([images.reshape(len(images), -1), self.one_hot(labels, images)], 1)
