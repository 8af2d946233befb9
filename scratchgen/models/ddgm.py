"""DDGM (Kim & Bengio 2016, "Deep Directed Generative Models with Energy-Based Probability
Estimation", arXiv 1606.03439): an energy function E(x), p(x) = exp(-E(x)) / Z, trained by
maximum likelihood with a generator G standing in for the MCMC chain of the negative phase, and
G trained to match exp(-E) by minimising KL(p_G || p_E); both through adversarial.py's loop
(E takes D's place, D's optimizer and D's step):

    E(x) = (1/sigma^2) x^T x - b^T x - sum_i softplus(W_i^T f(x) + b_i)             (Eq. 11)
    E's loss:  E_{x~data}[E(x)] - E_{x~G}[E(x)]    (Eqs. 7, 9: G's samples for the negative phase)
    G's loss:  KL(p_G || p_E) - log Z = E_z[E(G(z))] - H(p_G)                    (Eqs. 10, 13, 14)
    H(p_G) ~= sum_a 1/2 log(2 pi e sigma_a^2) over G's batch-norm units a                (Eq. 15)

f is a deep network: an MLP on the 2-D toys, DCGAN's strided-convolution trunk on MNIST
(dcgan.py), read by a product of experts, one softplus "expert" per row W_i (as the free energy
of an RBM with Gaussian visible units); 128 experts on the toys, 1024 on MNIST.

1/sigma^2, not 1/(2 sigma^2): the paper's PDF text could not be read here (only its abstract
and introduction were found), so this follows Eq. 11 as quoted (docs/PAPERS.md, Sec. 8) and as
the PyTorch reimplementations found write it, (1/sigma^2) x^T x; musyoku/ddgm, the reference
code, computes sum(x * x) / sigma with sigma = 1, the same number at sigma = 1 (our default).
sigma is the `sigma` setting. Equation numbers other than Eq. 11's are those a reimplementation
quoting the paper gives, not checked against the PDF.

The entropy's sigma_a: each BN unit's output gamma_a x_hat_a + beta_a has standard deviation
|gamma_a| over the batch (x_hat_a is normalised to unit variance), so sigma_a = gamma_a, the BN
scale, as musyoku/ddgm computes it; the batch standard deviation of a BN layer's input is
normalised away, so G could raise it without limit at no cost and it is not used. One term per
unit of BatchNorm1d and per channel of BatchNorm2d (where gamma lives). The sum of the units'
entropies is the joint entropy when the units are independent and an upper bound otherwise.
It also ignores the layers after each batch norm: G can raise gamma and shrink the next layer's
weights without changing its samples (ReLU is positively homogeneous), and -H does fall steadily
through training (-370 to -620 on the toys in 8000 steps) while the samples' spread does not grow.

Defaults: on the toys the networks of musyoku/ddgm's train_2d (ELU energy MLP 2 x 128, G 2 x 128
ReLU with batch norm before each activation, z of 4: N(0, I) here, U(-1, 1) there) with 128
experts (its 4 also train), Adam(3e-4, beta1 0.5), batch 256, 8000 steps (at 1e-3 the energy's
scale grows tenfold faster); on MNIST DCGAN's networks and Adam(2e-4, beta1 0.5), z = 100,
images in [-1, 1]. The paper reports samples only. Nothing bounds E's scale but G's pursuit:
|E| grows through training (thousands by step 8000 on the toys, 5e4 by step 300 on MNIST) while
its shape stays right and G's samples improve.
"""
import math

from .. import functional as F
from .. import nn
from .. import Tensor, zeros
from ..nn.normalization import BatchNorm1d, BatchNorm2d
from .adversarial import AdversarialModel
from .dcgan import dcgan_critic_layers, dcgan_generator, dcgan_init_
from .mlp import mlp
from .settings import MAX_LAYERS, MAX_UNITS, Setting, declare


def poe_energy(x, expert_inputs, visible_bias, sigma):
    """E(x) per sample, (N,), from x (N, D), the experts' inputs W f(x) + c (N, K) and b (D,):
    (1/sigma^2) x^T x - b^T x - sum_i softplus(W_i^T f(x) + c_i) (Kim & Bengio 2016, Eq. 11)."""
    for name, value, ndim in (("x", x, 2), ("expert_inputs", expert_inputs, 2), ("visible_bias", visible_bias, 1)):
        if not isinstance(value, Tensor) or value.ndim != ndim:
            raise ValueError(f"poe_energy: {name} must be a {ndim}-D Tensor, got "
                             f"{tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__}")
    if len(expert_inputs) != len(x) or visible_bias.shape[0] != x.shape[1]:
        raise ValueError(f"poe_energy: expert_inputs (N, K) and visible_bias (D,) must match x (N, D) "
                         f"{tuple(x.shape)}, got {tuple(expert_inputs.shape)} and {tuple(visible_bias.shape)}")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not 0 < sigma < math.inf:
        raise ValueError(f"poe_energy: sigma must be a finite number > 0, got {sigma!r}")
    return x.square().sum(1) / sigma ** 2 - x @ visible_bias - F.softplus(expert_inputs).sum(1)


def gaussian_entropy(std):
    """sum_a 1/2 log(2 pi e std_a^2): the entropy of independent Gaussians of these standard
    deviations (Kim & Bengio 2016, Eq. 15, for each batch-normalised unit)."""
    if not isinstance(std, Tensor):
        raise ValueError(f"gaussian_entropy: std must be a Tensor, got {type(std).__name__}")
    return 0.5 * (2 * math.pi * math.e * std.square()).log().sum()


def batchnorm_entropy(network):
    """H(p_G) ~= sum over the BN units a of `network` of 1/2 log(2 pi e gamma_a^2) (Kim & Bengio
    2016, Eq. 15; sigma_a = the BN scale gamma_a, as musyoku/ddgm: the module docstring)."""
    scales = [layer.weight for layer in network.modules() if isinstance(layer, (BatchNorm1d, BatchNorm2d))]
    if not scales or any(scale is None for scale in scales):
        raise ValueError("batchnorm_entropy: the network needs batch norms with a learned scale (affine=True)")
    return sum(gaussian_entropy(scale) for scale in scales)


class EnergyNet(nn.Module):
    """E(x) of Eq. 11, (N,): the feature network f, the experts (W, c) and the visible bias b."""

    def __init__(self, features, feature_size, data_size, experts, sigma):
        super().__init__()
        self.features, self.sigma = features, sigma
        self.experts = nn.Linear(feature_size, experts)
        self.visible_bias = nn.Parameter(zeros(data_size))

    def forward(self, x):
        return poe_energy(x.flatten(1), self.experts(self.features(x)), self.visible_bias, self.sigma)


def batchnorm_mlp(sizes):
    """G on the toys: Linear -> BatchNorm1d -> ReLU for each hidden layer, then a Linear layer."""
    layers = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(n_in, n_out), BatchNorm1d(n_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1]))


def widths(network):
    units = Setting(int, "units", at_least=1, at_most=MAX_UNITS)
    return Setting(list, f"widths of {network}'s hidden layers", item=units, length=(1, MAX_LAYERS))


class DDGM(AdversarialModel):
    name = "ddgm"
    paper = "Kim & Bengio 2016, Deep Directed Generative Models with Energy-Based Probability Estimation"
    datasets = ("8gaussians", "25gaussians", "swissroll", "mnist")
    image_layout = "chw"
    defaults = dict(sigma=1.0, betas=[0.5, 0.999])
    dataset_defaults = {
        "toy": dict(hidden_g=[128, 128], hidden_e=[128, 128], experts=128, z_dim=4, batch_size=256, lr=3e-4,
                    steps=8000),
        "mnist": dict(width=64, experts=1024, z_dim=100, batch_size=64, lr=2e-4, steps=5000, pixels="tanh"),
    }
    settings = declare(
        "betas", "z_dim", "batch_size", "lr", "steps", "pixels", "width",
        sigma=Setting(float, "sigma of the energy's quadratic term (1/sigma^2) x^T x (Eq. 11)", above=0),
        experts=Setting(int, "experts of the energy's product of experts (Eq. 11)", at_least=1, at_most=MAX_UNITS),
        hidden_g=widths("G"), hidden_e=widths("the energy's feature MLP f"))

    @property
    def images(self):
        return len(self.data_shape) == 3

    def build_generator(self):
        if self.images:
            return dcgan_generator(self.z_dim, self.config["width"], self.data_shape)
        return batchnorm_mlp([self.z_dim, *self.config["hidden_g"], self.data_size])

    def build_critic(self):
        """E(x): DCGAN's convolutional trunk on MNIST, an ELU MLP on the toys, then the experts."""
        if self.images:
            trunk, size, _ = dcgan_critic_layers(self.data_shape[0], self.config["width"], self.data_shape)
            features = nn.Sequential(*trunk, nn.Flatten())
        else:
            size = self.config["hidden_e"][-1]
            features = mlp([self.data_size, *self.config["hidden_e"]], nn.ELU, nn.ELU)
        return EnergyNet(features, size, self.data_size, self.config["experts"], self.config["sigma"])

    def initialise(self, network):
        if self.images:
            dcgan_init_(network, self.rng)  # N(0, 0.02) weights (Radford et al. 2015); the toys keep torch's

    def critic_losses(self, real, fake, labels):
        energy_real, energy_fake = self.discriminate(real).mean(), self.discriminate(fake).mean()
        # E_data[E(x)] - E_G[E(x)]: the likelihood gradient, G's samples as the negative phase (Eqs. 7, 9)
        return {"loss_d": energy_real - energy_fake, "energy_real": energy_real, "energy_fake": energy_fake}

    def generator_loss(self, fake, labels, critic):
        return critic(fake).mean()  # E_z[E(G(z))], KL(p_G || p_E)'s first term (Eqs. 10, 13)

    def generator_terms(self, fake, labels, critic):
        return {"minus_entropy": -batchnorm_entropy(self.G)}  # -H(p_G), the KL's second term (Eqs. 10, 15)
