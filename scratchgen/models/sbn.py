"""Structured output prediction with a stochastic binary network (Jang, Gu & Poole 2016, Sec. 4.2,
Table 1's rows "SBN (Bern.)" and "SBN (Cat.)"): the bottom half of a binarized MNIST digit
(rows 14-27, 392 pixels) predicted from its top half (rows 0-13), through two stochastic layers
of L categorical variables of K classes each:

    h1 ~ p(h1 | x_t) = prod_l Cat(h1_l; softmax(logits_l(x_t)))       logits (N, L, K), affine in x_t
    h2 ~ p(h2 | h1)  = prod_l Cat(h2_l; softmax(logits_l(h1)))        affine in h1's one-hots
    p(x_b | h2) = Bernoulli(x_b; sigmoid(W h2 + b))
    log p(x_b | x_t) >= E_{h ~ p(h|x_t)}[log p(x_b | h2)]             trained at one sample (m = 1)
    -log p(x_b | x_t) ~ -log (1/m) sum_i p(x_b | h2_i)                evaluated at one-hot h_i, m = 1000

The gradient through the samples is any estimator of estimators.py (Table 1's columns), one per
layer, nested: h1's estimator averages f1(h1) = [h2's estimator of E_{h2~p(h2|h1)} log p(x_b|h2)].
`sbn` is the paper's Bernoulli network 392-200-200-392 (200 binary units per layer, written as
categoricals of 2 classes: softmax of two logits is a sigmoid of their difference); `cat-sbn` the
categorical 392-(20x10)-(20x10)-392. Each conditional is one affine map, as an SBN's (`hidden`
may add deterministic ReLU layers). The temperature is fixed (tau = 1, no annealing, Sec. 4.2).

Departure: Adam(1e-3) instead of the paper's SGD with momentum 0.9 (lr from {3e-5 ... 3e-3}),
which learns too slowly for a CPU's ~10k steps: at 10k steps of batch 100 with Gumbel-Softmax, the
test NLL (k = 100) was 61.5 (sbn) and 64.0 (cat-sbn) with Adam, 65.0 and 78.4 with SGD(3e-3,
momentum 0.9) (`--set optimizer=sgd lr=0.003` runs it). With k = 1000, as Table 1, the Adam runs
reach 60.1 (sbn) and 62.6 (cat-sbn); Table 1 reports 58.5 and 59.0.
"""
from .. import functional as F
from .. import optim
from .. import as_tensor, no_grad
from ..data import load_binarized_mnist
from ..progress import ProgressBar, progress_to
from . import estimators
from .base import GenerativeModel
from .categorical_vae import MAX_CLASSES
from .mlp import mlp
from .settings import MAX_LAYERS, MAX_UNITS, Setting, declare
from .vae import iwae_bound

OPTIMIZERS = ("adam", "sgd")


class SBN(GenerativeModel):
    name = "sbn"
    paper = "Jang, Gu & Poole 2016, Categorical Reparameterization with Gumbel-Softmax (392-200-200-392 Bernoulli SBN)"
    datasets = ("binarized-mnist",)
    defaults = dict(hidden=[], latents=200, categories=2, estimator="gumbel-softmax", tau=1.0, optimizer="adam",
                    lr=1e-3, momentum=0.9, baseline_decay=0.99, batch_size=100, steps=50000)
    settings = declare(
        "batch_size", "lr", "steps",
        hidden=Setting(list, "widths of deterministic ReLU layers inside each conditional; [] for none (an SBN)",
                       item=Setting(int, "units", at_least=1, at_most=MAX_UNITS), length=(0, MAX_LAYERS)),
        latents=Setting(int, "L: categorical variables in each of the two stochastic layers", at_least=1,
                        at_most=MAX_UNITS),
        categories=Setting(int, "K: classes of each variable (2: Bernoulli units)", at_least=2, at_most=MAX_CLASSES),
        estimator=Setting(str, "the gradient estimator of both stochastic layers (Jang et al. 2016, Table 1)",
                          choices=estimators.ESTIMATORS),
        tau=Setting(float, "the Gumbel-Softmax temperature, fixed", above=0),
        optimizer=Setting(str, "adam, or the paper's sgd (with momentum)", choices=OPTIMIZERS),
        momentum=Setting(float, "sgd: its momentum", at_least=0, below=1),
        baseline_decay=Setting(float, "score-function estimator: decay of the baselines' moving averages",
                               at_least=0, below=1))
    setting_requirements = (
        (lambda s: s["estimator"] != "marginalization",
         "estimator 'marginalization' cannot sum over the SBN's two nested layers of categories^latents "
         "configurations each (2^200 for sbn); use another estimator"),)

    def __init__(self, config):
        super().__init__(config)
        self.latents, self.categories = config["latents"], config["categories"]
        self.half = self.data_size // 2  # x_t = the first half of the pixels (rows 0-13 of 28), x_b the rest
        h_size, hidden = self.latents * self.categories, config["hidden"]
        self.first = mlp([self.half, *hidden, h_size]).to(self.device)                     # x_t -> logits of h1
        self.second = mlp([h_size, *hidden, h_size]).to(self.device)                       # h1 -> logits of h2
        self.output = mlp([h_size, *hidden, self.data_size - self.half]).to(self.device)  # h2 -> logits of x_b
        # one estimator per stochastic layer: the score function keeps a baseline for each
        self.estimator_h1 = estimators.build(config["estimator"], config["baseline_decay"]).to(self.device)
        self.estimator_h2 = estimators.build(config["estimator"], config["baseline_decay"]).to(self.device)
        parameters = [p for network in (self.first, self.second, self.output) for p in network.parameters()]
        self.optimizer = (optim.Adam(parameters, lr=config["lr"]) if config["optimizer"] == "adam"
                          else optim.SGD(parameters, lr=config["lr"], momentum=config["momentum"]))

    # ---- the model ----------------------------------------------------------------------
    def halves(self, x):
        """(x_t, x_b) of flat images (N, D): the top and bottom halves of the rows."""
        x = x.flatten(1)
        return x[:, :self.half], x[:, self.half:]

    def h1_logits(self, x_t):
        """The logits of p(h1 | x_t), (N, L, K)."""
        return self.first(x_t).reshape(len(x_t), self.latents, self.categories)

    def h2_logits(self, h1):
        """The logits of p(h2 | h1) for h1 of shape (*S, N, L, K) (one-hot or relaxed): (*S, N, L, K)."""
        return self.second(h1.reshape(-1, self.latents * self.categories)).reshape(h1.shape)

    def log_likelihood(self, x_b, h2):
        """log p(x_b | h2) for h2 of shape (*S, N, L, K) (one-hot or relaxed): (*S, N)."""
        output = self.output(h2.reshape(-1, self.latents * self.categories)).reshape(*h2.shape[:-2], -1)
        # log Bernoulli(x_b; sigmoid(W h2 + b)) = -BCE(logits, x_b)
        return -F.binary_cross_entropy_with_logits(output, x_b.expand(output.shape), reduction="none").sum(-1)

    def objective(self, x, tau, generator):
        """log p(x_b | h2) of each row at one sample of h1, h2 (the bound of Sec. 4.2 at m = 1), its
        gradient through the samples by the estimators of both layers, nested."""
        x_t, x_b = self.halves(x)

        def after_h1(h1):  # f1(h1) = E_{h2 ~ p(h2|h1)} log p(x_b|h2), estimated at one h2
            return self.estimator_h2(self.h2_logits(h1), lambda h2: self.log_likelihood(x_b, h2), tau,
                                     generator)
        return self.estimator_h1(self.h1_logits(x_t), after_h1, tau, generator)

    def train_step(self, batch):
        # the negated bound log p(x_b|x_t) >= E_h log p(x_b|h2) at m = 1 (Jang et al. 2016, Sec. 4.2), nats
        loss = -self.objective(batch[0], self.config["tau"], self.rng).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}

    # ---- completing images: one-hot h (Sec. 4.2) -------------------------------------------
    def sample_h2(self, x_t, generator, samples=None):
        """One-hot h2 (N, L, K), or (samples, N, L, K), drawn through one-hot h1 ~ p(h1 | x_t)."""
        logits = self.h1_logits(x_t)
        if samples is not None:
            logits = logits.expand(samples, *logits.shape)
        h1 = estimators.one_hot_sample(logits, generator)
        return estimators.one_hot_sample(self.h2_logits(h1), generator)

    def complete(self, x, generator):
        """Images (N, D) whose top halves are x's and whose bottom halves are the mean of p(x_b | h2)
        at one draw of h1, h2 given the top half."""
        x_t, _ = self.halves(x)
        h2 = self.sample_h2(x_t, generator)
        return F.cat([x_t, self.output(h2.flatten(1)).sigmoid()], 1)

    def generate(self, n, generator):
        """The completions (`complete`) of the top halves of the first n test images (cycled past
        10,000): the model is conditional on a top half, which it does not model."""
        test = load_binarized_mnist("test", data_dir=self.config["data_dir"])
        rows = [i % len(test) for i in range(n)]
        return self.complete(as_tensor(test[rows].astype("float32"), device=self.device), generator)

    # ---- evaluation ------------------------------------------------------------------------------
    def conditional_log_likelihood(self, x, k, generator, max_rows=20000, on_samples=None):
        """log (1/k) sum_i p(x_b | h2_i) of each row, one-hot (h1_i, h2_i) ~ p(h | x_t) (Sec. 4.2, m = k),
        a logsumexp over chunks of samples (vae.iwae_bound with weights p(x_b|h2))."""
        x_t, x_b = self.halves(x)
        return iwae_bound(lambda s: self.log_likelihood(x_b, self.sample_h2(x_t, generator, s)), k, len(x),
                          max_rows, on_samples)

    def test_metrics(self, x, k, generator, batch_size=100, progress=None):
        """{"test_nll", "k", "n_test"}: -log p(x_b | x_t) in nats per bottom half, estimated with k
        samples (the paper's Table 1: k = 1000, `scratchgen eval RUN --k 1000`)."""
        total = 0.0
        with self.evaluating(), no_grad(), progress_to(progress), \
                ProgressBar(len(x), f"test NLL of the bottom halves (k={k})", unit="images") as bar:
            for start in range(0, len(x), batch_size):
                rows = x[start:start + batch_size].flatten(1)

                def samples_done(n, start=start, size=len(rows)):  # the bar counts images, a fraction at a time
                    bar.update(start + size * n / k)
                total += self.conditional_log_likelihood(rows, k, generator, on_samples=samples_done).sum().item()
        return {"test_nll": -total / len(x), "k": k, "n_test": len(x)}


class CategoricalSBN(SBN):
    name = "cat-sbn"
    paper = ("Jang, Gu & Poole 2016, Categorical Reparameterization with Gumbel-Softmax "
             "(392-(20x10)-(20x10)-392 categorical SBN)")
    defaults = dict(SBN.defaults, latents=20, categories=10)
