"""The semi-supervised K+1 GAN of Salimans et al. 2016 (Improved Techniques for Training GANs,
Sec. 5) on permutation-invariant MNIST, as openai/improved-gan's train_mnist_feature_matching.py.

D is a K-way classifier (K = 10 digits) whose logits l_1..l_K stand for classes 1..K of K + 1,
the (K+1)-th, "generated", having l_{K+1} = 0. With Z(x) = sum_k exp(l_k(x)):

    p(y = k | x, y < K+1) = softmax(l)_k               D(x) = 1 - p(y = K+1 | x) = Z(x) / (Z(x) + 1)
    L_supervised   = -E_{x,y ~ labelled} log p(y | x, y < K+1)
    L_unsupervised = -{E_x log D(x) + E_z log(1 - D(G(z)))},   log D(x) = log sigmoid(log Z(x))

D descends L_supervised + unsupervised_weight * L_unsupervised / 2 (the code's 0.5 on both halves);
G descends feature matching (Sec. 3.1) on D's last hidden layer. `--set unsupervised_weight=0`
is the supervised-only baseline: the same D trained on the labelled examples alone.

    G: z (100) ~ U(0, 1) -> 500 -> 500 (each BN, softplus) -> 784 (weight-normalised) -> sigmoid
    D: x + N(0, 0.3^2) -> 1000 -> 500 -> 250 -> 250 -> 250 (each weight-normalised, ReLU, + N(0, 0.5^2))
       -> 10 logits (weight-normalised)

Adam(0.003, beta1 0.5), batches of 100 unlabelled and 100 labelled examples (the labelled ones,
`labels` of them, 10 per class chosen by the seed, shuffled anew each step), pixels in [0, 1];
the code's 300 epochs of 600 steps. The test error is that of D with its parameters averaged
over training (ParameterAverage, rate 1e-4 as the code's, corrected for its start).

Departures: G's feature matching compares with the unlabelled batch D just saw (the code draws a
second one); no data-dependent initialisation of the weight norms (PyTorch's weight_norm of
nn.Linear's initialisation instead); the hidden layers' weight-norm scales train (the code
fixes them after initialising) and G's batch norms have a scale as well as a shift.
"""
import numpy

from .. import functional as F
from .. import nn
from .. import as_tensor, no_grad, rand
from .adversarial import AdversarialModel
from .gan import discriminator_loss
from .gan_techniques import ParameterAverage, feature_matching_loss
from .labelled import CLASSES, LabelledSubset
from .settings import Setting, declare

D_WIDTHS = (784, 1000, 500, 250, 250, 250)
TEST_CHUNK = 1000


def weight_normalised(n_in, n_out):
    return nn.utils.weight_norm(nn.Linear(n_in, n_out))


def k_plus_one_discriminator():
    """D of the module docstring: the noise, weight-normalised ReLU layers, 10 logits."""
    layers = [nn.GaussianNoise(0.3)]
    for n_in, n_out in zip(D_WIDTHS, D_WIDTHS[1:]):
        layers += [weight_normalised(n_in, n_out), nn.ReLU(), nn.GaussianNoise(0.5)]
    return nn.Sequential(*layers, weight_normalised(D_WIDTHS[-1], CLASSES))


def k_plus_one_generator(z_dim):
    return nn.Sequential(
        nn.Linear(z_dim, 500, bias=False), nn.BatchNorm1d(500), nn.Softplus(),
        nn.Linear(500, 500, bias=False), nn.BatchNorm1d(500), nn.Softplus(),
        weight_normalised(500, 784), nn.Sigmoid())


def unsupervised_loss(real_logits, fake_logits):
    """L_unsupervised / 2 (Sec. 5): -{E log D(x) + E log(1 - D(G(z)))} / 2 with D(x) = Z(x) / (Z(x) + 1)
    = sigmoid(logsumexp(l(x))), i.e. gan.py's two cross-entropies on the logit log Z(x)."""
    return 0.5 * discriminator_loss(real_logits.logsumexp(1), fake_logits.logsumexp(1))


class ImprovedGAN(LabelledSubset, AdversarialModel):
    """The K+1 GAN of the module docstring. Reported per step: loss_d (the total), loss_supervised,
    loss_unsupervised (L_unsupervised / 2), loss_g (feature matching). `scratchgen eval`: the
    test errors out of 10,000 with the averaged parameters, and with the last ones."""
    name = "improved-gan"
    paper = "Salimans et al. 2016, Improved Techniques for Training GANs (semi-supervised K+1 GAN)"
    datasets = ("mnist",)
    defaults = dict(z_dim=100, lr=0.003, betas=[0.5, 0.999], labels=100, unsupervised_weight=1.0, average_rate=1e-4)
    dataset_defaults = {"mnist": dict(batch_size=100, steps=180000, pixels="unit")}  # 300 epochs of 600 steps
    settings = declare(
        "z_dim", "lr", "betas", "batch_size", "steps",
        labels=Setting(int, "labelled training examples, the same number of each digit, chosen by the seed",
                       at_least=CLASSES, at_most=60000, multiple_of=CLASSES),
        unsupervised_weight=Setting(float, "weight of L_unsupervised in D's loss; 0: the supervised-only baseline",
                                    at_least=0),
        average_rate=Setting(float, "rate r of the moving average of D's parameters the test uses", above=0,
                             at_most=1),
        pixels=Setting(str, "MNIST pixel scaling: unit [0, 1], as G's sigmoid", choices=("unit",)))

    def __init__(self, config):
        super().__init__(config)
        self.average = ParameterAverage(self.D.parameters(), config["average_rate"])

    def build_generator(self):
        return k_plus_one_generator(self.z_dim)

    def build_critic(self):
        return k_plus_one_discriminator()

    def latent(self, n, generator=None):
        """z ~ U(0, 1)^z_dim, as the code's noise."""
        return rand(n, self.z_dim, device=self.device, generator=self.rng if generator is None else generator)

    def critic_features(self, x, labels=None):
        return self.D[:-2](x)  # the last 250-unit layer after its ReLU, before its noise (the code's layers[-3])

    # ---- the labelled examples: LabelledSubset's `labelled` and `labelled_batch` -------------------
    def unpack(self, batch):
        """(the unlabelled images, None): the batch's labels stay unseen; labelled_batch gives D its labels."""
        return super().unpack(batch)[0], None

    # ---- losses ---------------------------------------------------------------------------------
    def critic_losses(self, real, fake, labels):
        unsupervised = unsupervised_loss(self.discriminate(real), self.discriminate(fake))
        return {"loss_d": self.config["unsupervised_weight"] * unsupervised, "loss_unsupervised": unsupervised}

    def critic_terms(self, real, fake, labels):
        images, digits = self.labelled_batch(len(real))
        return {"loss_supervised": F.cross_entropy(self.discriminate(images), digits)}  # L_supervised (Sec. 5)

    def after_critic_step(self):
        self.average.update()

    def generator_loss(self, fake, labels, critic):
        # Sec. 3.1: ||E_x f(x) - E_z f(G(z))||^2 on D's last hidden layer
        return feature_matching_loss(critic.features(critic.real), critic.features(fake))

    def extra_state(self):
        return {"average": self.average}

    # ---- testing --------------------------------------------------------------------------------
    def test_errors(self, images, digits):
        """How many of `images` D (in eval mode: no noise) classifies as another digit than `digits`."""
        with self.evaluating(), no_grad():
            errors = sum(int((self.D(images[i:i + TEST_CHUNK]).argmax(1) != digits[i:i + TEST_CHUNK]).sum().item())
                         for i in range(0, len(images), TEST_CHUNK))
        return errors

    test_uses_labels = True  # train/evaluation.py passes the test digits

    def test_metrics(self, x, k, generator, labels):
        """{"test_errors": with the averaged parameters, "test_errors_last_weights", "n_test"} on the
        MNIST test images x and their digits `labels` (k and generator, for likelihood models, are
        not used)."""
        digits = as_tensor(numpy.asarray(labels).astype(numpy.int64), device=self.device)
        last = self.test_errors(x, digits)
        with self.average.swapped_in():
            averaged = self.test_errors(x, digits)
        return {"test_errors": averaged, "test_errors_last_weights": last, "n_test": len(x)}
