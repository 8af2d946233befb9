"""MADE (Germain, Gregor, Murray & Larochelle 2015, MADE: Masked Autoencoder for Distribution
Estimation): an autoencoder whose weights are masked so that output d sees only the inputs before
d in an ordering; its outputs are then the conditionals of an autoregressive model, and
log p(x) = sum_d log p(x_d | x_<d) is exact, in one forward pass.

    degrees    m^0(d) in 1..D: the position of input d in the ordering (natural: d itself);
               m^l(k) drawn uniformly from [min_k' m^(l-1)(k'), D - 1] for hidden unit k of layer l
    masks      M^(W^l)[k, k'] = 1[m^l(k) >= m^(l-1)(k')]   (hidden layers; the paper's Sec. 4, "Deep MADE")
               M^V[d, k]     = 1[m^0(d) > m^L(k)]          (the output layer: strictly before d)
    p(x_d = 1 | x_<d) = sigmoid(logit_d),  -log p(x) = sum_d BCE(logit_d, x_d)

The paper's order-agnostic training (a fresh ordering per mask set) and connectivity-agnostic
training (fresh hidden degrees per mask set) are switches; `num_masks` sets are drawn
once from the run's seed, and each training step uses one of them, chosen at random (the official
code cycles through them in turn). At test
time the model is the uniform mixture of its masks, p(x) = (1/K) sum_k p_k(x), as the official
code (mgermain/MADE, trainMADE.py) evaluates it; `test_nll_one_mask` is the average of the
single-mask NLLs beside it.

Defaults: the paper's one-hidden-layer MNIST model (500 ReLU units, 32 masks with both kinds of
resampling, batch 100). Departures: Adam(1e-3) instead of the official code's Adagrad (0.01;
scratchgen has no Adagrad), PyTorch's default initialisation instead of orthogonal, no direct
input-to-output connections, and a fixed number of steps instead of early stopping on the
validation set.
"""
import math
from typing import NamedTuple

import numpy

from .. import functional as F
from .. import nn, optim
from .. import as_tensor, no_grad, zeros
from ..progress import ProgressBar, progress_to
from .base import GenerativeModel
from .settings import MAX_UNITS, Setting, declare

MASK_STREAM = 10  # the mask sets come from SeedSequence([seed, 10, k]) (train/datasets.py uses 2 to 9)
SWITCH = ("on", "off")


class Connectivity(NamedTuple):
    """The degrees of one mask set: `ordering` (D,) holds m^0(d), 1..D; `hidden` one array of
    m^l(k) per hidden layer."""
    ordering: numpy.ndarray
    hidden: list


def draw_hidden_degrees(ordering, hidden_sizes, rng):
    """m^l(k) uniform on [min of the layer below, D - 1], layer by layer ("Deep MADE")."""
    degrees, below = [], ordering
    for size in hidden_sizes:
        below = rng.integers(min(below.min(), len(ordering) - 1), len(ordering), size)
        degrees.append(below)
    return degrees


def mask_sets(data_size, hidden_sizes, num_masks, order_agnostic, connectivity_agnostic, seed):
    """`num_masks` Connectivity sets drawn from the seed: mask k from SeedSequence([seed,
    MASK_STREAM, k]); orderings natural unless order-agnostic, hidden degrees those of mask 0
    unless connectivity-agnostic."""
    natural = numpy.arange(1, data_size + 1)
    sets = []
    for k in range(num_masks):
        rng = numpy.random.default_rng(numpy.random.SeedSequence([seed, MASK_STREAM, k]))
        ordering = rng.permutation(natural) if order_agnostic else natural
        hidden = draw_hidden_degrees(ordering, hidden_sizes, rng) if connectivity_agnostic or k == 0 \
            else sets[0].hidden
        sets.append(Connectivity(ordering, hidden))
    return sets


def masks(connectivity):
    """The (out, in) 0/1 mask of each layer, input to output (module docstring)."""
    degrees = [connectivity.ordering, *connectivity.hidden]
    hidden = [(upper[:, None] >= lower[None, :]) for lower, upper in zip(degrees[:-1], degrees[1:])]
    return hidden + [connectivity.ordering[:, None] > degrees[-1][None, :]]


class MADENetwork(nn.Module):
    """x (N, D) -> the logits of p(x_d = 1 | x_<d), (N, D): masked ReLU layers D -> hidden -> D."""

    def __init__(self, data_size, hidden_sizes):
        super().__init__()
        sizes = [data_size, *hidden_sizes, data_size]
        self.layers = nn.ModuleList([nn.MaskedLinear(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])])

    def set_connectivity(self, connectivity):
        for layer, mask in zip(self.layers, masks(connectivity)):
            layer.set_mask(mask)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))
        return self.layers[-1](x)


class MADE(GenerativeModel):
    name = "made"
    paper = "Germain, Gregor, Murray & Larochelle 2015, MADE: Masked Autoencoder for Distribution Estimation"
    datasets = ("binarized-mnist",)
    defaults = dict(hidden=[500], num_masks=32, order_agnostic="on", connectivity_agnostic="on", batch_size=100,
                    lr=1e-3, steps=50000)
    settings = declare(
        "hidden", "batch_size", "lr", "steps",
        num_masks=Setting(int, "mask sets trained (one drawn per step) and averaged over at test time",
                          at_least=1, at_most=MAX_UNITS),
        order_agnostic=Setting(str, "order-agnostic training: a fresh random ordering of the pixels for each "
                               "mask set; off: raster order", choices=SWITCH),
        connectivity_agnostic=Setting(str, "connectivity-agnostic training: fresh hidden-unit degrees for "
                                      "each mask set; off: those of the first", choices=SWITCH))
    setting_requirements = (
        (lambda settings: settings["num_masks"] == 1 or "on" in (settings["order_agnostic"],
                                                                 settings["connectivity_agnostic"]),
         "num_masks > 1 needs order_agnostic or connectivity_agnostic on (else every mask set is the same)"),)

    def __init__(self, config):
        super().__init__(config)
        self.connectivities = mask_sets(self.data_size, config["hidden"], config["num_masks"],
                                        config["order_agnostic"] == "on", config["connectivity_agnostic"] == "on",
                                        config["seed"])
        self.network = MADENetwork(self.data_size, config["hidden"]).to(self.device)
        self.network.set_connectivity(self.connectivities[0])
        self.optimizer = optim.Adam(self.network.parameters(), lr=config["lr"])

    def use_mask(self, k):
        self.network.set_connectivity(self.connectivities[k])

    def log_prob(self, x):
        """log p(x) of each row of x under the current mask set."""
        # log p(x) = sum_d log p(x_d | x_<d) = -sum_d BCE(logit_d, x_d) (Germain et al. 2015, Sec. 2-3)
        return -F.binary_cross_entropy_with_logits(self.network(x), x, reduction="none").sum(-1)

    def train_step(self, batch):
        x = batch[0].flatten(1)
        self.use_mask(int(self.rng.integers(0, len(self.connectivities), (), numpy.int64, "cpu")))
        loss = -self.log_prob(x).mean()  # the NLL of this step's mask set, nats per image
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}

    # ---- sampling: D network evaluations, one pixel each ----------------------------------------
    def generate(self, n, generator):
        """n samples: a mask set drawn from the mixture, then every pixel in that set's ordering,
        x_d ~ Bernoulli(sigmoid(logit_d(x_<d))), one network evaluation per pixel. Each row is a
        sample of the mixture; the rows of one call share the mask set (a set per row would cost
        D evaluations per distinct set)."""
        k = int(generator.integers(0, len(self.connectivities), (), numpy.int64, "cpu"))
        self.use_mask(k)
        uniform = as_tensor(generator.uniform((n, self.data_size), numpy.float32, self.device))
        x = zeros(n, self.data_size, device=self.device)
        for d in numpy.argsort(self.connectivities[k].ordering).tolist():
            x[:, d] = (uniform[:, d] < self.network(x)[:, d].sigmoid()).float()
        return x

    # ---- evaluation: exact, no sampling --------------------------------------------------------------
    def test_metrics(self, x, k, generator, batch_size=1000, progress=None):
        """{"test_nll", "test_nll_one_mask", "num_masks", "n_test"} in nats per image: the NLL of
        the uniform mixture of the mask sets, and the mean NLL of one mask set alone. `k` and
        `generator` are the importance sampling of latent-variable models (the VAE's
        test_metrics); MADE's likelihood is exact and needs neither."""
        x = x.flatten(1)
        log_probs = numpy.zeros((len(self.connectivities), len(x)))
        with self.evaluating(), no_grad(), progress_to(progress), \
                ProgressBar(log_probs.size, f"test NLL ({len(self.connectivities)} masks)", unit="images") as bar:
            for mask, row in enumerate(log_probs):
                self.use_mask(mask)
                for start in range(0, len(x), batch_size):
                    row[start:start + batch_size] = self.log_prob(x[start:start + batch_size]).numpy()
                    bar.update(mask * len(x) + min(start + batch_size, len(x)))
        mixture = as_tensor(log_probs).logsumexp(0).numpy() - math.log(len(log_probs))  # log (1/K) sum_k p_k(x)
        return {"test_nll": float(-mixture.mean()), "test_nll_one_mask": float(-log_probs.mean()),
                "num_masks": len(log_probs), "n_test": len(x)}
