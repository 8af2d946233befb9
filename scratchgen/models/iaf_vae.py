"""IAF VAE (Kingma, Salimans, Jozefowicz, Chen, Sutskever & Welling 2016, Improved Variational
Inference with Inverse Autoregressive Flow) on the library's MLP VAE (models/vae.py): the
posterior is the VAE's diagonal Gaussian followed by T IAF steps (Algorithm 1):

    [mu, sigma, h] = EncoderNN(x)                      h: a context vector from the encoder
    z_0 = mu + sigma * eps,  l = -sum(log sigma + eps^2 / 2 + log(2 pi) / 2)
    for t = 1..T:  [m, s] = AutoregressiveNN_t(z, h)   a MADE: m_i, s_i see only z_<i (and h)
                   sigma_t = sigmoid(s)                 the numerically stable, LSTM-like form of
                   z = sigma_t * z + (1 - sigma_t) * m  Eq. 10's z_t = mu_t + sigma_t * z_(t-1)
                   l = l - sum(log sigma_t)             the Jacobian is triangular, diagonal sigma_t
    log q(z_T|x) = l (Eq. 11);   ELBO = log p(x|z_T) + log p(z_T) - log q(z_T|x)   (one sample)

Each AutoregressiveNN is a two-hidden-layer MADE (models/made.py's degrees and masks, ELU units
as openai/iaf) whose output layer gives m and s for every latent; h enters the first hidden
layer through an unmasked linear map, so the autoregressive property in z is kept. The ordering
is reversed between steps (as in the paper's MNIST experiments), and the bias of s starts at +2 so
that sigma_t starts near 1 and each step close to the identity (the paper advises s "sufficiently
positive" at initialisation, like an LSTM's forget gate bias).

`iaf_steps=0` is the diagonal VAE itself: it trains exactly as `vae` (the closed-form KL), so the
comparison of the paper's MNIST table (diagonal vs IAF) is one setting. Departures from the paper's MNIST model: the
MLP encoder and decoder of `vae` (784-200-200-50, tanh) instead of the convolutional ResNet VAE
with 32 latents, no free bits, a fixed number of steps.
"""
import numpy

from .. import nn
from .. import functional as F
from .. import no_grad, optim, randn
from .mlp import mlp
from .made import Connectivity, draw_hidden_degrees, masks
from .settings import MAX_LAYERS, MAX_UNITS, Setting
from .vae import VAE, iwae_bound, log_normal, log_standard_normal

IAF_STREAM = 11  # the hidden degrees of step t come from SeedSequence([seed, 11, t]) (made.py uses 10)
FORGET_BIAS = 2.0  # initial bias of s: sigma = sigmoid(s) starts near sigmoid(2) = 0.88


def step_connectivity(z_dim, hidden_sizes, t, seed):
    """The degrees of step t: the natural ordering for even t, reversed for odd t,
    hidden degrees drawn as MADE's from SeedSequence([seed, IAF_STREAM, t])."""
    natural = numpy.arange(1, z_dim + 1)
    ordering = natural if t % 2 == 0 else natural[::-1].copy()
    rng = numpy.random.default_rng(numpy.random.SeedSequence([seed, IAF_STREAM, t]))
    return Connectivity(ordering, draw_hidden_degrees(ordering, hidden_sizes, rng))


class IAFStep(nn.Module):
    """One IAF step: (z, h) -> (sigma * z + (1 - sigma) * m, log sigma), with [m, s] from a MADE on z
    (m_i and s_i depend only on the z_j before z_i in `connectivity.ordering`) and context h."""

    def __init__(self, z_dim, context_size, hidden_sizes, connectivity):
        super().__init__()
        sizes = [z_dim, *hidden_sizes]
        self.hidden = nn.ModuleList([nn.MaskedLinear(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])])
        self.context = nn.Linear(context_size, hidden_sizes[0], bias=False) if context_size else None
        self.output = nn.MaskedLinear(hidden_sizes[-1], 2 * z_dim)  # m, then s, for each latent
        layer_masks = masks(connectivity)
        for layer, mask in zip(self.hidden, layer_masks[:-1]):
            layer.set_mask(mask)
        self.output.set_mask(numpy.concatenate([layer_masks[-1]] * 2, 0))  # m_i and s_i: the degrees of z_i
        with no_grad():
            self.output.bias[z_dim:] = FORGET_BIAS

    def forward(self, z, h=None):
        a = self.hidden[0](z)
        if self.context is not None:
            a = a + self.context(h)
        a = F.elu(a)
        for layer in self.hidden[1:]:
            a = F.elu(layer(a))
        m, s = self.output(a).chunk(2, dim=-1)
        log_sigma = F.logsigmoid(s)
        sigma = log_sigma.exp()
        return sigma * z + (1 - sigma) * m, log_sigma  # Kingma et al. 2016, Algorithm 1 (the stable form of Eq. 10)


def run_flow(steps, z, h):
    """(z_T, sum over steps and latents of log sigma_t) for z (..., z_dim) through `steps`."""
    log_det = 0
    for step in steps:
        z, log_sigma = step(z, h)
        log_det = log_det + log_sigma.sum(-1)  # log |det dz_t/dz_(t-1)| = sum_i log sigma_t,i (Algorithm 1)
    return z, log_det


class IAFVAE(VAE):
    name = "iaf-vae"
    paper = "Kingma, Salimans, Jozefowicz, Chen, Sutskever & Welling 2016, Improved Variational Inference " \
            "with Inverse Autoregressive Flow"
    defaults = dict(VAE.defaults, iaf_steps=2, iaf_hidden=[320, 320], context=50)
    settings = dict(
        VAE.settings,
        iaf_steps=Setting(int, "IAF steps after the diagonal Gaussian (0: the diagonal VAE)", at_least=0,
                          at_most=MAX_LAYERS),
        iaf_hidden=Setting(list, "hidden widths of each step's MADE",
                           item=Setting(int, "units", at_least=1, at_most=MAX_UNITS), length=(1, MAX_LAYERS)),
        context=Setting(int, "size of the context h the encoder gives each IAF step (0: none)", at_least=0,
                        at_most=MAX_UNITS))

    def __init__(self, config):
        self.iaf_steps = config["iaf_steps"]
        self.context_size = config["context"] if config["iaf_steps"] else 0
        super().__init__(config)
        self.flow = nn.ModuleList([
            IAFStep(self.z_dim, self.context_size, config["iaf_hidden"],
                    step_connectivity(self.z_dim, config["iaf_hidden"], t, config["seed"]))
            for t in range(self.iaf_steps)]).to(self.device)
        parameters = [*self.encoder.parameters(), *self.decoder.parameters(), *self.flow.parameters()]
        self.optimizer = optim.Adam(parameters, lr=config["lr"], eps=config["adam_eps"])

    def build_encoder(self):
        """x -> (mu, log sigma^2, h) side by side (Algorithm 1's EncoderNN); without IAF steps, the VAE's."""
        return mlp([self.data_size, *self.config["hidden"], 2 * self.z_dim + self.context_size], activation=nn.Tanh)

    def encode_with_context(self, x):
        """(mu, log sigma^2, h) of q(z|x); h is None without IAF steps or context."""
        output = self.encoder(x)
        mean, log_var = output[..., :self.z_dim], output[..., self.z_dim:2 * self.z_dim]
        return mean, log_var, (output[..., 2 * self.z_dim:] if self.context_size else None)

    def encode(self, x):
        """(mu, log sigma^2) of the diagonal Gaussian before the flow."""
        return self.encode_with_context(x)[:2]

    def posterior_sample(self, x, shape, generator):
        """(z_T, log q(z_T|x)) for eps of `shape` (..., batch, z_dim) (Algorithm 1)."""
        mean, log_var, h = self.encode_with_context(x)
        epsilon = randn(*shape, device=self.device, generator=generator)
        z = mean + (0.5 * log_var).exp() * epsilon  # z_0 = mu + sigma * eps (Algorithm 1)
        log_q = log_normal(z, mean, log_var)  # l = -sum(log sigma + eps^2/2 + log(2 pi)/2) (Algorithm 1)
        if h is not None:
            h = h.expand(*shape[:-1], h.shape[-1])
        z, log_det = run_flow(self.flow, z, h)
        return z, log_q - log_det  # log q(z_T|x) = log q(z_0|x) - sum_t sum_i log sigma_t,i (Eq. 11, Algorithm 1)

    def elbo(self, x, generator=None):
        """(elbo, reconstruction, KL) of each row; with IAF steps the KL is one sample of
        log q(z_T|x) - log p(z_T) (Algorithm 1); without, the VAE's closed form."""
        if not self.iaf_steps:
            return super().elbo(x, generator)
        mean_shape = (len(x), self.z_dim)
        z, log_q = self.posterior_sample(x, mean_shape, self.rng if generator is None else generator)
        reconstruction = self.log_likelihood(x, z)
        # one-sample KL(q(z|x) || p(z)) = log q(z_T|x) - log p(z_T) (Kingma et al. 2016, Eq. 11)
        kl = log_q - log_standard_normal(z)
        return reconstruction - kl, reconstruction, kl

    def importance_weighted_bound(self, x, k, generator, max_rows=20000, on_samples=None):
        """log (1/k) sum_i p(x, z_i) / q(z_i|x), z_i ~ the IAF posterior (IWAE Eq. 8)."""
        if not self.iaf_steps:
            return super().importance_weighted_bound(x, k, generator, max_rows, on_samples)

        def log_weights(s):
            z, log_q = self.posterior_sample(x, (s, len(x), self.z_dim), generator)
            return self.log_likelihood(x, z) + log_standard_normal(z) - log_q  # log p(x|z) + log p(z) - log q(z|x)
        return iwae_bound(log_weights, k, len(x), max_rows, on_samples)
