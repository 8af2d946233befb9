"""PyTorch twin of scratchgen's categorical VAE with the Gumbel-Softmax estimator
(scratchgen/models/categorical_vae.py; Jang, Gu & Poole 2016, Sec. 4.3): the encoder and decoder
MLPs of mlp.py with the same layer names (784-512-256-(20x10)-256-512-784 by default), PyTorch's
default Linear initialisation (scratchgen's nn.Linear copies it) seeded as the other twins
(torch_twins_mlp.py), Adam with the run's lr, the temperature schedule of estimators.py and the
step on the negative ELBO. Only the gumbel-softmax estimator is mirrored.
"""
import math

import torch
import torch.nn.functional as F

from scratchgen.models.categorical_vae import CategoricalVAE
from torch_twins_mlp import TorchTwin, as_tensor, mlp


def kl_to_uniform(logits):
    """KL(q || Uniform(K)) = sum_k q_k log(K q_k), summed over the L variables: (N, L, K) -> (N,)."""
    log_q = F.log_softmax(logits, -1)
    return (log_q.exp() * (log_q + math.log(logits.shape[-1]))).sum((-2, -1))


class TorchCategoricalVAE(TorchTwin):
    mirrors = CategoricalVAE

    def __init__(self, config):
        self.mirror_only(config, "estimator", "gumbel-softmax")
        super().__init__(config)
        self.latents, self.categories = config["latents"], config["categories"]
        z_size = self.latents * self.categories
        self.encoder = mlp([self.data_size, *config["hidden"], z_size])
        self.decoder = mlp([z_size, *reversed(config["hidden"]), self.data_size])
        self.optimizer = torch.optim.Adam(list(self.encoder.parameters()) + list(self.decoder.parameters()),
                                          lr=config["lr"])
        self.step = 0

    def tau(self):
        # tau = max(tau_min, tau0 exp(-r t)), t rounded down to a multiple of N (Jang et al. 2016, Sec. 4.3)
        t = self.step // self.config["anneal_every"] * self.config["anneal_every"]
        return max(self.config["tau_min"], self.config["tau0"] * math.exp(-self.config["anneal_rate"] * t))

    def uniform(self, shape):
        """U[0, 1) numbers of `shape` from the twin's generator."""
        return torch.rand(shape, generator=self.rng)

    def gumbel_softmax(self, logits, tau):
        """y = softmax((logits + g) / tau), g = -log(-log u), u ~ U[0, 1) (Jang et al. 2016, Eq. 2)."""
        u = self.uniform(logits.shape).clamp_min(torch.finfo(logits.dtype).tiny)
        return F.softmax((logits - (-u.log()).log()) / tau, -1)

    def train_step(self, batch):
        x = as_tensor(batch[0]).flatten(1)
        logits = self.encoder(x).reshape(len(x), self.latents, self.categories)
        tau = self.tau()
        z = self.gumbel_softmax(logits, tau)
        reconstruction = -F.binary_cross_entropy_with_logits(self.decoder(z.flatten(1)), x, reduction="none").sum(-1)
        kl = kl_to_uniform(logits)
        # -ELBO = KL(q(z|x) || p(z)) - E_q[log p(x|z)] (Jang et al. 2016, Sec. 4.3; Kingma & Welling 2013, Eq. 10)
        loss = (kl - reconstruction).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.step += 1
        return {"loss": loss.item(), "reconstruction": -reconstruction.mean().item(), "kl": kl.mean().item(),
                "tau": tau}

    @torch.no_grad()
    def sample(self, n):
        """The mean of p(x|z) for one-hot z drawn from the uniform prior, as CategoricalVAE.generate."""
        classes = torch.randint(self.categories, (n, self.latents), generator=self.rng)
        z = F.one_hot(classes, self.categories).float().flatten(1)
        return self.data_to_output(torch.sigmoid(self.decoder(z)).numpy())


TWINS = (TorchCategoricalVAE,)
