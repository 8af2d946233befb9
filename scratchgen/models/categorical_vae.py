"""VAE with discrete latent variables (Jang, Gu & Poole 2016, Sec. 4.3): L categorical variables
of K classes, a uniform prior, a Bernoulli likelihood, trained by any estimator of
estimators.py (Table 1's columns):

    q(z|x) = prod_l Cat(z_l; softmax(logits_l(x)))           the encoder, logits (N, L, K)
    p(z) = prod_l Cat(z_l; 1/K),  p(x|z) = Bernoulli(x; sigmoid(decoder(z)))
    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))           (Kingma & Welling 2013, Eq. 10)
    KL = sum_l sum_k q_lk log(K q_lk)                         in closed form, as the reference notebook
    log p(x) >= log (1/m) sum_i p(x|z_i) p(z_i) / q(z_i|x)    one-hot z_i ~ q (IWAE Eq. 8), m = 1000

`cat-vae` is the reference notebook's network (ericjang/gumbel-softmax, Categorical VAE.ipynb:
784-512-256-(20x10)-256-512-784, ReLU, Adam 1e-3, batch 100) with the notebook's 20 variables
as the issue names them; `bern-vae` the paper's Bernoulli VAE, 784-200-784 (200 binary
variables, written as categoricals of 2 classes: softmax of two logits is a sigmoid of their
difference). The temperature follows tau = max(0.5, exp(-r t)), updated every N steps (Sec. 4.3;
r = 1e-4 and N = 1000 of the paper's grid). At test, z is one-hot, as the paper evaluates.
"""
import math

from .. import functional as F
from .. import optim, zeros
from . import estimators
from .base import GenerativeModel
from .mlp import mlp
from .settings import MAX_LAYERS, MAX_UNITS, Setting, declare
from .vae import iwae_bound, likelihood_test_metrics

MAX_CLASSES = 1024


def kl_to_uniform(logits):
    """KL(q || Uniform(K)) = sum_k q_k log(K q_k) of each categorical, summed over the L
    variables: (N, L, K) -> (N,)."""
    log_q = F.log_softmax(logits, -1)
    return (log_q.exp() * (log_q + math.log(logits.shape[-1]))).sum((-2, -1))


class CategoricalVAE(GenerativeModel):
    name = "cat-vae"
    paper = "Jang, Gu & Poole 2016, Categorical Reparameterization with Gumbel-Softmax (20x10 categorical VAE)"
    datasets = ("binarized-mnist",)
    defaults = dict(hidden=[512, 256], latents=20, categories=10, estimator="gumbel-softmax", batch_size=100,
                    lr=1e-3, tau0=1.0, tau_min=0.5, anneal_rate=1e-4, anneal_every=1000, baseline_decay=0.99,
                    steps=50000)
    settings = declare(
        "batch_size", "lr", "steps",
        hidden=Setting(list, "widths of the encoder's hidden layers (the decoder's, reversed); [] for none",
                       item=Setting(int, "units", at_least=1, at_most=MAX_UNITS), length=(0, MAX_LAYERS)),
        latents=Setting(int, "L: how many categorical latent variables", at_least=1, at_most=MAX_UNITS),
        categories=Setting(int, "K: classes of each latent variable", at_least=2, at_most=MAX_CLASSES),
        estimator=Setting(str, "the gradient estimator of the latent sample (Jang et al. 2016, Table 1)",
                          choices=estimators.ESTIMATORS),
        tau0=Setting(float, "the Gumbel-Softmax temperature at step 0", above=0),
        tau_min=Setting(float, "the temperature's floor: tau = max(tau_min, tau0 exp(-r t))", above=0),
        anneal_rate=Setting(float, "r of the temperature schedule", at_least=0),
        anneal_every=Setting(int, "N: the temperature is updated every N steps", at_least=1, at_most=10 ** 9),
        baseline_decay=Setting(float, "score-function estimator: decay of the baseline's moving average",
                               at_least=0, below=1))
    setting_requirements = (
        (lambda s: s["estimator"] != "marginalization"
         or s["categories"] ** s["latents"] <= estimators.MAX_MARGINALIZED,
         f"estimator 'marginalization' sums over all categories^latents values of z: at most "
         f"{estimators.MAX_MARGINALIZED} (e.g. --set latents=2 categories=10)"),)

    def __init__(self, config):
        super().__init__(config)
        self.latents, self.categories = config["latents"], config["categories"]
        z_size = self.latents * self.categories
        self.encoder = mlp([self.data_size, *config["hidden"], z_size]).to(self.device)
        self.decoder = mlp([z_size, *reversed(config["hidden"]), self.data_size]).to(self.device)
        self.estimator = estimators.build(config["estimator"], config["baseline_decay"]).to(self.device)
        self.temperature = estimators.TemperatureSchedule(config["tau0"], config["tau_min"], config["anneal_rate"],
                                                          config["anneal_every"]).to(self.device)
        self.optimizer = optim.Adam(list(self.encoder.parameters()) + list(self.decoder.parameters()), lr=config["lr"])

    # ---- the model ----------------------------------------------------------------------
    def encode(self, x):
        """The logits of q(z|x), (N, L, K)."""
        return self.encoder(x).reshape(len(x), self.latents, self.categories)

    def log_likelihood(self, x, z):
        """log p(x|z) for z of shape (..., N, L, K) (one-hot or relaxed): one value per z."""
        output = self.decoder(z.reshape(-1, self.latents * self.categories)).reshape(*z.shape[:-2], -1)
        # log Bernoulli(x; sigmoid(logits)) = -BCE(logits, x)
        return -F.binary_cross_entropy_with_logits(output, x.expand(output.shape), reduction="none").sum(-1)

    def log_prior(self):
        """log p(z) of any z under the uniform prior: L log(1/K)."""
        return -self.latents * math.log(self.categories)

    def train_step(self, batch):
        x = batch[0].flatten(1)
        logits = self.encode(x)
        tau = self.temperature.tau()
        # E_q[log p(x|z)] at one sample, its gradient by the chosen estimator (Table 1)
        reconstruction = self.estimator(logits, lambda z: self.log_likelihood(x, z), tau, self.rng)
        kl = kl_to_uniform(logits)
        loss = (kl - reconstruction).mean()  # -ELBO (Kingma & Welling 2013, Eq. 10)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.temperature.advance()
        return {"loss": loss.item(), "reconstruction": -reconstruction.mean().item(), "kl": kl.mean().item(),
                "tau": tau}

    def generate(self, n, generator):
        """The mean of p(x|z) for n draws of z from the uniform prior."""
        return self.decoder_mean(self.latent(n, generator))

    # ---- the latent interface (scratchgen explore; decode is GenerativeModel's) ----------
    def latent(self, n, generator=None):
        """n one-hot z from the uniform prior, flattened to (n, latents * categories)."""
        prior = zeros(n, self.latents, self.categories, device=self.device)
        return estimators.one_hot_sample(prior, self.rng if generator is None else generator).flatten(1)

    def decoder_mean(self, z):
        """The mean of p(x|z) for each row of z, (N, latents * categories) one-hot or relaxed."""
        return self.decoder(z).sigmoid()

    # ---- evaluation: one-hot z (Sec. 4.3) -------------------------------------------------
    def elbo(self, x, generator):
        """The single-sample ELBO of each row of x at a one-hot z ~ q(z|x): (elbo, reconstruction, KL)."""
        logits = self.encode(x)
        reconstruction = self.log_likelihood(x, estimators.one_hot_sample(logits, generator))
        kl = kl_to_uniform(logits)
        return reconstruction - kl, reconstruction, kl

    def importance_weighted_bound(self, x, k, generator, max_rows=20000, on_samples=None):
        """log (1/k) sum_i p(x, z_i) / q(z_i|x) for each row of x, one-hot z_i ~ q(z|x) (IWAE Eq. 8)."""
        logits = self.encode(x)

        def log_weights(s):
            z = estimators.one_hot_sample(logits.expand(s, *logits.shape), generator)  # (s, N, L, K)
            # log w = log p(x|z) + log p(z) - log q(z|x), shape (s, N)
            return self.log_likelihood(x, z) + self.log_prior() - estimators.log_probability(logits, z)
        return iwae_bound(log_weights, k, len(x), max_rows, on_samples)

    def test_metrics(self, x, k, generator, batch_size=100, progress=None):
        """{"test_elbo", "test_nll_iwae", "k", "n_test"} (vae.likelihood_test_metrics); the paper's
        Table 1 reports -test_elbo, with k = 1000 (`scratchgen eval RUN --k 1000`)."""
        return likelihood_test_metrics(self, x, k, generator, batch_size, progress)


class BernoulliVAE(CategoricalVAE):
    name = "bern-vae"
    paper = "Jang, Gu & Poole 2016, Categorical Reparameterization with Gumbel-Softmax (784-200-784 Bernoulli VAE)"
    defaults = dict(CategoricalVAE.defaults, hidden=[], latents=200, categories=2)
