"""VAE (Kingma & Welling 2013, Auto-Encoding Variational Bayes) with MLP encoder and decoder,
and the importance-weighted estimate of log p(x) (Burda, Grosse & Salakhutdinov 2015, IWAE).

    q(z|x) = N(z; mu(x), diag sigma^2(x))            the encoder (Appendix C.2)
    z = mu + sigma * eps, eps ~ N(0, I)              the reparameterisation (Sec. 2.4)
    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || N(0, I))      (Eq. 10, L = 1 sample)
    log p(x) >= log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x),  z_i ~ q(z|x)     (IWAE Eq. 8)

The likelihood p(x|z) is Bernoulli (decoder logits; binarised MNIST) or Gaussian (decoder mean
and log-variance, Appendix C.2). The default network is the IWAE paper's one-stochastic-layer
MNIST architecture: 784-200-200-50 with tanh units, mirrored in the decoder (yburda/iwae
experiments.py), trained with Adam(1e-3, eps 1e-4) on dynamically binarised MNIST; the batch
is the AEVB paper's M = 100 (IWAE used 20; 100 is much faster per epoch on a CPU).
"""
import math

import numpy

from .. import functional as F
from .. import nn, optim
from .. import Tensor, as_tensor, no_grad, randn
from ..progress import ProgressBar, progress_to
from .base import GenerativeModel
from .mlp import mlp
from .settings import Setting, declare

LIKELIHOODS = ("bernoulli", "gaussian")
LOG_2PI = math.log(2 * math.pi)


def log_normal(x, mean, log_var):
    """log N(x; mean, exp(log_var)) summed over the last dimension."""
    return (-0.5 * (LOG_2PI + log_var + (x - mean).square() * (-log_var).exp())).sum(-1)


def log_standard_normal(z):
    """log N(z; 0, I) summed over the last dimension."""
    return (-0.5 * (LOG_2PI + z.square())).sum(-1)


def kl_to_standard_normal(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) in closed form, summed over the last dimension:
    -KL = 1/2 sum(1 + log sigma^2 - mu^2 - sigma^2) (Kingma & Welling 2013, Appendix B)."""
    return -0.5 * (1 + log_var - mean.square() - log_var.exp()).sum(-1)


class VAE(GenerativeModel):
    name = "vae"
    paper = "Kingma & Welling 2013, Auto-Encoding Variational Bayes (IWAE bound: Burda et al. 2015)"
    datasets = ("mnist",)
    defaults = dict(hidden=[200, 200], z_dim=50, likelihood="bernoulli", batch_size=100, lr=1e-3, adam_eps=1e-4)
    dataset_defaults = {"mnist": dict(pixels="dynamic-binary", steps=60000)}
    settings = declare(
        "hidden", "z_dim", "batch_size", "lr", "pixels", "steps",
        likelihood=Setting(str, "p(x|z): bernoulli (binary pixels) or gaussian (a mean and a variance per pixel)",
                           choices=LIKELIHOODS),
        adam_eps=Setting(float, "Adam's epsilon", above=0))
    setting_requirements = (
        (lambda settings: settings["likelihood"] != "bernoulli" or settings["pixels"] != "tanh",
         "likelihood 'bernoulli' needs pixels in [0, 1] (unit, fixed-binary or dynamic-binary), got pixels 'tanh'"),)

    def __init__(self, config):
        if config["likelihood"] not in LIKELIHOODS:
            raise ValueError(f"{self.name}: likelihood must be one of {LIKELIHOODS}, got {config['likelihood']!r}")
        super().__init__(config)
        self.z_dim = config["z_dim"]
        # the encoder's last layer gives mu and log sigma^2 side by side; so does a Gaussian decoder's
        self.encoder = self.build_encoder().to(self.device)
        self.decoder = self.build_decoder(1 if config["likelihood"] == "bernoulli" else 2).to(self.device)
        parameters = list(self.encoder.parameters()) + list(self.decoder.parameters())
        self.optimizer = optim.Adam(parameters, lr=config["lr"], eps=config["adam_eps"])

    def build_encoder(self):
        """x (flattened) -> (mu, log sigma^2) side by side: tanh MLP (Kingma & Welling 2013, Appendix C)."""
        return mlp([self.data_size, *self.config["hidden"], 2 * self.z_dim], activation=nn.Tanh)

    def build_decoder(self, outputs_per_value):
        """z -> outputs_per_value numbers per data value (Bernoulli logits, or Gaussian mean and log-variance)."""
        return mlp([self.z_dim, *reversed(self.config["hidden"]), self.data_size * outputs_per_value],
                   activation=nn.Tanh)

    # ---- the model ----------------------------------------------------------------------
    def encode(self, x):
        """(mu, log sigma^2) of q(z|x)."""
        return self.encoder(x).chunk(2, dim=-1)

    def log_likelihood(self, x, z):
        """log p(x|z) for z of shape (..., z_dim): one value per z; x broadcasts against them."""
        output = self.decoder(z.reshape(-1, self.z_dim)).reshape(*z.shape[:-1], -1)
        if self.config["likelihood"] == "bernoulli":
            # log Bernoulli(x; sigmoid(logits)) = -BCE(logits, x)
            target = x.expand(output.shape)
            return -F.binary_cross_entropy_with_logits(output, target, reduction="none").sum(-1)
        mean, log_var = output.chunk(2, dim=-1)
        return log_normal(x, mean, log_var)

    def elbo(self, x, generator=None):
        """The single-sample ELBO of each row of x (Eq. 10): (elbo, reconstruction term, KL)."""
        mean, log_var = self.encode(x)
        epsilon = randn(*mean.shape, device=self.device, generator=self.rng if generator is None else generator)
        z = mean + (0.5 * log_var).exp() * epsilon  # reparameterisation (Sec. 2.4)
        reconstruction = self.log_likelihood(x, z)
        kl = kl_to_standard_normal(mean, log_var)
        return reconstruction - kl, reconstruction, kl

    def train_step(self, batch):
        x = batch[0].flatten(1)
        elbo, reconstruction, kl = self.elbo(x)
        loss = -elbo.mean()  # maximise the ELBO (Algorithm 1)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item(), "reconstruction": -reconstruction.mean().item(), "kl": kl.mean().item()}

    def generate(self, n, generator):
        return self.decoder_mean(self.latent(n, generator))

    def decoder_mean(self, z):
        """The mean of p(x|z) for each row of z, as sample grids show it."""
        output = self.decoder(z)
        if self.config["likelihood"] == "bernoulli":
            return output.sigmoid()
        return output.chunk(2, dim=-1)[0]

    # ---- the latent interface (as AdversarialModel's: scratchgen explore walks it) ---------------
    def latent(self, n, generator=None):
        """z ~ p(z) = N(0, I), (n, z_dim), from `generator` (default: the model's own)."""
        return self.noise(n, self.z_dim, generator)

    # decode(z): GenerativeModel's, through decoder_mean

    def encode_mean(self, x):
        """The mean of q(z|x) for each row of x (images or their flattened rows), NumPy (N, z_dim),
        with every network in eval mode: where the encoder puts each image (the 2-D manifold's scatter)."""
        x = x if isinstance(x, Tensor) else as_tensor(numpy.asarray(x, numpy.float32))
        with self.evaluating(), no_grad():
            mean, _ = self.encode(x.to(self.device).flatten(1))
        return mean.numpy()

    # ---- evaluation -----------------------------------------------------------------------
    def importance_weighted_bound(self, x, k, generator, max_rows=20000, on_samples=None):
        """log (1/k) sum_i p(x, z_i) / q(z_i|x) for each row of x (IWAE Eq. 8), z_i ~ q(z|x),
        drawn in chunks (iwae_bound)."""
        mean, log_var = self.encode(x)

        def log_weights(s):
            epsilon = randn(s, *mean.shape, device=self.device, generator=generator)
            z = mean + (0.5 * log_var).exp() * epsilon  # (s, batch, z_dim)
            # log w = log p(x|z) + log p(z) - log q(z|x), shape (s, batch)
            return self.log_likelihood(x, z) + log_standard_normal(z) - log_normal(z, mean, log_var)
        return iwae_bound(log_weights, k, len(x), max_rows, on_samples)

    def test_metrics(self, x, k, generator, batch_size=100, progress=None):
        """{"test_elbo", "test_nll_iwae", "k", "n_test"}: likelihood_test_metrics."""
        return likelihood_test_metrics(self, x, k, generator, batch_size, progress)


def iwae_bound(log_weights, k, rows, max_rows=20000, on_samples=None):
    """log (1/k) sum_i w_i for each of `rows` rows (IWAE Eq. 8), where log_weights(s) gives the
    log-weights (s, rows) of s fresh samples per row: the k samples are drawn in chunks of at most
    `max_rows` decoder rows so they fit in memory; the average is a logsumexp of the log-weights,
    so nothing under- or overflows. `on_samples(n)`, if given, is called after each chunk with the
    n of k samples done."""
    samples_per_chunk = max(1, max_rows // rows)
    chunks = []
    for start in range(0, k, samples_per_chunk):
        s = min(samples_per_chunk, k - start)
        chunks.append(log_weights(s))
        if on_samples is not None:
            on_samples(start + s)
    return F.cat(chunks, 0).logsumexp(0) - math.log(k)


def likelihood_test_metrics(model, x, k, generator, batch_size=100, progress=None):
    """{"test_elbo", "test_nll_iwae"} in nats per example, averaged over the rows of x, from the
    model's `elbo(rows, generator)[0]` and `importance_weighted_bound(rows, k, generator,
    on_samples=)`. The importance sampling shows its progress in test images where `progress`
    says (None: the current default, stderr; False: nothing; True; or a stream)."""
    elbos, bounds = [], []
    with model.evaluating(), no_grad(), progress_to(progress), \
            ProgressBar(len(x), f"test NLL (IWAE, k={k})", unit="images") as bar:
        for start in range(0, len(x), batch_size):
            rows = x[start:start + batch_size].flatten(1)
            elbos.append(model.elbo(rows, generator)[0].sum().item())
            size = len(rows)

            def samples_done(n, start=start, size=size):  # the bar counts images, a fraction at a time
                bar.update(start + size * n / k)
            bounds.append(model.importance_weighted_bound(rows, k, generator, on_samples=samples_done).sum().item())
    return {"test_elbo": sum(elbos) / len(x), "test_nll_iwae": -sum(bounds) / len(x), "k": k, "n_test": len(x)}
