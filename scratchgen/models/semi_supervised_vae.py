"""The semi-supervised VAE M2 (Kingma, Rezende, Mohamed & Welling 2014, Semi-Supervised Learning
with Deep Generative Models, Sec. 3.1.2) with the class variable y trained by any estimator of
estimators.py, as Jang, Gu & Poole 2016 compare them (Sec. 4.4, Table 2: marginalization,
Gumbel-Softmax, ST Gumbel-Softmax):

    p(y) = Cat(1/K),  p(z) = N(0, I),  p(x|y,z) = Bernoulli(x; sigmoid(decoder([z, y])))
    q(y|x) = Cat(softmax(classifier(x))),  q(z|x,y) = N(mu, sigma^2)(encoder([x, y]))
    -L(x,y) = -E_q(z|x,y)[log p(x|y,z) + log p(y) + log p(z) - log q(z|x,y)]      (Kingma et al. Eq. 6)
    -U(x) = -E_q(y|x)[L(x,y)] - H(q(y|x))                                          (Eq. 7)
          = -E_q(y|x)[ELBO_z(x,y)] + KL(q(y|x) || p(y))                            (log p(y) moved into the KL)
    J = mean_unlabelled(-U) + mean_labelled(-L) + alpha mean_labelled(-log q(y|x))   (Eq. 9)

E_q(y|x)[ELBO_z(x, y)] is what the estimator handles: 'marginalization' evaluates the encoder and
decoder at all K classes (Kingma's M2), the Gumbel-Softmax estimators at one relaxed or one-hot
y; that is where their speed-up comes from (Jang et al. Fig. 5: 2x at K = 10, 9.9x at K = 100;
`benchmarks/semi_supervised_speed.py`). KL(q(z|x,y) || p(z)) is in closed form (Kingma & Welling
2013, Appendix B), KL(q(y|x) || p(y)) too.

Network: Kingma et al.'s M2 for MNIST, one hidden layer of 500 softplus units in each of the
classifier, the encoder and the decoder, 50 latents; Adam(3e-4), batches of 100 unlabelled and
100 labelled examples (100 labels, 10 per digit, chosen by the seed: labelled.py), dynamically
binarised MNIST. Eq. 9's sums, taken as batch means, weigh the labelled bound by 100 labelled
against 50,000 unlabelled examples: labelled_weight = 0.002; the classification loss gets
alpha = 50 (0.1 N spread over the labelled examples, as wohlert/semi-supervised-pytorch),
above Eq. 9's 0.1 N per example, with which the classifier drifted to 36% test accuracy in
4000 steps. The temperature is tau = max(0.5, exp(-3e-5 t)),
updated every 2000 steps (Jang et al. Sec. 4.4). `scratchgen eval RUN`: the classifier's test
accuracy, and the test ELBO U(x) with y marginalized exactly (one z per class).

Departures: the 60,000 training images are the unlabelled set (Jang et al. hold out 10,000); the
classes setting (K) may exceed the 10 digits only to measure speed, as Fig. 5 does.
"""
import math

import numpy

from .. import functional as F
from .. import as_tensor, nn, no_grad, optim, rand, randn
from . import estimators
from .base import GenerativeModel
from .categorical_vae import CategoricalVAE, kl_to_uniform
from .labelled import CLASSES, LabelledSubset
from .mlp import mlp
from .settings import MAX_LAYERS, MAX_UNITS, Setting, declare
from .vae import kl_to_standard_normal

MAX_CLASSES = 1000


class SemiSupervisedVAE(LabelledSubset, GenerativeModel):
    """M2 of the module docstring. Reported per step: loss (J), unlabelled (-U), labelled (-L),
    classification (-log q(y|x) of the labelled batch), tau."""
    name = "m2"
    paper = ("Kingma et al. 2014, Semi-Supervised Learning with Deep Generative Models (M2), with the "
             "class variable of Jang, Gu & Poole 2016 (Gumbel-Softmax)")
    datasets = ("mnist",)
    defaults = dict(hidden=[500], z_dim=50, classes=CLASSES, labels=100, alpha=50.0, labelled_weight=0.002,
                    unlabelled_weight=1.0, estimator="gumbel-softmax",
                    batch_size=100, lr=3e-4, tau0=1.0, tau_min=0.5, anneal_rate=3e-5, anneal_every=2000,
                    baseline_decay=0.99)
    dataset_defaults = {"mnist": dict(pixels="dynamic-binary", steps=50000)}
    settings = declare(
        "z_dim", "batch_size", "lr", "steps",
        **{key: CategoricalVAE.settings[key] for key in ("tau0", "tau_min", "anneal_rate", "anneal_every",
                                                          "baseline_decay")},
        hidden=Setting(list, "widths of the hidden layers of the classifier, the encoder and the decoder (reversed)",
                       item=Setting(int, "units", at_least=1, at_most=MAX_UNITS), length=(0, MAX_LAYERS)),
        classes=Setting(int, "K: classes of y (10 digits; more only to measure speed, as Jang et al. Fig. 5)",
                        at_least=CLASSES, at_most=MAX_CLASSES),
        labels=Setting(int, "labelled training examples, the same number of each digit, chosen by the seed",
                       at_least=CLASSES, at_most=60000, multiple_of=CLASSES),
        alpha=Setting(float, "weight of the labelled examples' classification loss (Kingma et al. Eq. 9)",
                      at_least=0),
        labelled_weight=Setting(float, "weight of the labelled examples' bound -L(x,y) (Eq. 9)", at_least=0),
        unlabelled_weight=Setting(float, "weight of the unlabelled examples' bound -U(x); 0 with labelled_weight=0: "
                                  "the classifier trained on the labels alone (the supervised baseline)", at_least=0),
        estimator=Setting(str, "how E_q(y|x) is estimated for the unlabelled examples (Jang et al. Table 2)",
                          choices=estimators.ESTIMATORS),
        pixels=Setting(str, "MNIST pixel scaling: binary, as the Bernoulli likelihood needs",
                       choices=("dynamic-binary", "fixed-binary")))

    def __init__(self, config):
        super().__init__(config)
        self.classes, self.z_dim, hidden = config["classes"], config["z_dim"], config["hidden"]
        self.classifier = mlp([self.data_size, *hidden, self.classes], activation=nn.Softplus).to(self.device)
        self.encoder = mlp([self.data_size + self.classes, *hidden, 2 * self.z_dim],
                           activation=nn.Softplus).to(self.device)
        self.decoder = mlp([self.z_dim + self.classes, *reversed(hidden), self.data_size],
                           activation=nn.Softplus).to(self.device)
        self.estimator = estimators.build(config["estimator"], config["baseline_decay"]).to(self.device)
        self.exact = estimators.Marginalization()  # the test ELBO sums over y whatever the training estimator
        self.temperature = estimators.TemperatureSchedule(config["tau0"], config["tau_min"], config["anneal_rate"],
                                                          config["anneal_every"]).to(self.device)
        parameters = [p for network in (self.classifier, self.encoder, self.decoder) for p in network.parameters()]
        self.optimizer = optim.Adam(parameters, lr=config["lr"])

    # ---- the model ----------------------------------------------------------------------
    def class_logits(self, x):
        """The logits of q(y|x), (N, K)."""
        return self.classifier(x)

    def elbo_given_class(self, x, y, generator):
        """ELBO_z(x, y) = log p(x|y,z) - KL(q(z|x,y) || p(z)) at one z ~ q(z|x,y), for y of shape
        (*S, N, K), one-hot or relaxed, and x (N, D): (*S, N). Adding log p(y) gives L(x, y) (Eq. 6)."""
        lead = y.shape[:-1]
        xs = x.expand(*lead, x.shape[-1])
        mean, log_var = self.encoder(F.cat([xs, y], -1).reshape(-1, self.data_size + self.classes)).chunk(2, -1)
        epsilon = randn(*mean.shape, device=self.device, generator=generator)
        z = mean + (0.5 * log_var).exp() * epsilon  # reparameterisation (Kingma & Welling 2013, Sec. 2.4)
        logits = self.decoder(F.cat([z, y.reshape(-1, self.classes)], -1))
        # log Bernoulli(x; sigmoid(logits)) = -BCE(logits, x)
        reconstruction = -F.binary_cross_entropy_with_logits(logits, xs.reshape(-1, self.data_size),
                                                             reduction="none").sum(-1)
        return (reconstruction - kl_to_standard_normal(mean, log_var)).reshape(lead)

    def labelled_bound(self, x, digits, generator):
        """L(x, y) of each labelled row (Eq. 6), log p(y) = -log K."""
        y = F.one_hot(digits, self.classes).to(dtype=x.dtype)
        return self.elbo_given_class(x, y, generator) - math.log(self.classes)

    def unlabelled_bound(self, x, estimator, tau, generator):
        """U(x) of each row (Eq. 7): E_q(y|x)[ELBO_z(x, y)] by `estimator` minus KL(q(y|x) || p(y))."""
        logits = self.class_logits(x).unsqueeze(-2)  # (N, 1, K): one categorical variable
        expected = estimator(logits, lambda y: self.elbo_given_class(x, y.flatten(-2), generator), tau, generator)
        return expected - kl_to_uniform(logits)

    def labelled_binary_batch(self, n):
        """n labelled examples, binarised afresh each draw as the unlabelled ones (dynamic binarisation)."""
        images, digits = self.labelled_batch(n)
        if self.config["pixels"] == "dynamic-binary":
            images = (rand(*images.shape, device=self.device, generator=self.rng) < images).to(dtype=images.dtype)
        else:
            images = (images > 0.5).to(dtype=images.dtype)
        return images, digits

    def train_step(self, batch):
        x = batch[0].flatten(1)  # the batch's labels stay unseen: it is the unlabelled part
        images, digits = self.labelled_binary_batch(len(x))
        tau = self.temperature.tau()
        unlabelled = -self.unlabelled_bound(x, self.estimator, tau, self.rng).mean()
        labelled = -self.labelled_bound(images, digits, self.rng).mean()
        classification = F.cross_entropy(self.class_logits(images), digits)
        # J^alpha (Kingma et al. Eq. 9), each sum as a batch mean with its weight
        weights = self.config["unlabelled_weight"], self.config["labelled_weight"], self.config["alpha"]
        loss = weights[0] * unlabelled + weights[1] * labelled + weights[2] * classification
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.temperature.advance()
        return {"loss": loss.item(), "unlabelled": unlabelled.item(), "labelled": labelled.item(),
                "classification": classification.item(), "tau": tau}

    # ---- sampling and the latent interface (scratchgen explore) -----------------------------------
    def latent(self, n, generator=None):
        """[z, one-hot y], (n, z_dim + K): y = 0, 1, ..., K-1, 0, ... in turn (the uniform prior,
        stratified) and one z ~ N(0, I) for each run of K rows, so that a grid K images wide shows
        one class per column and one style per row (Kingma et al. 2014, Fig. 1)."""
        generator = self.rng if generator is None else generator
        rows = numpy.arange(n)
        y = F.one_hot(as_tensor(rows % self.classes, device=self.device), self.classes)
        z = self.noise(-(-n // self.classes), self.z_dim, generator).index_select(
            0, as_tensor(rows // self.classes, device=self.device))
        return F.cat([z, y.to(dtype=z.dtype)], 1)

    def decoder_mean(self, latent):
        """The mean of p(x|y,z) for each row [z, y] of `latent`."""
        return self.decoder(latent).sigmoid()

    def generate(self, n, generator):
        return self.decoder_mean(self.latent(n, generator))

    # ---- evaluation -----------------------------------------------------------------------------
    test_uses_labels = True  # train/evaluation.py passes the test digits

    def test_metrics(self, x, k, generator, labels, batch_size=500):
        """{"test_accuracy", "test_errors", "test_elbo", "n_test"}: the classifier argmax q(y|x) on the
        test images x against their digits `labels`, and U(x) with y summed over exactly (k, for the
        likelihood models' importance sampling, is not used)."""
        digits = as_tensor(numpy.asarray(labels).astype(numpy.int64), device=self.device)
        errors, elbo = 0, 0.0
        with self.evaluating(), no_grad():
            for start in range(0, len(x), batch_size):
                rows = x[start:start + batch_size].flatten(1)
                errors += int((self.class_logits(rows).argmax(1) != digits[start:start + batch_size]).sum().item())
                elbo += self.unlabelled_bound(rows, self.exact, 1.0, generator).sum().item()
        return {"test_accuracy": 1 - errors / len(x), "test_errors": errors, "test_elbo": elbo / len(x),
                "n_test": len(x)}
