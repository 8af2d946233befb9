"""Gradient estimators for discrete latent variables: the columns of Jang, Gu & Poole 2016's
Table 1 as one switch of the models that use them (models/categorical_vae.py).

Each estimator turns logits (N, L, K) (N rows, L independent categorical variables of K
classes, q(z) = softmax(logits) along K) and a function f of one-hot-like z (*S, N, L, K) ->
(*S, N) into one value per row: f at a sample (the expectation itself for 'marginalization'),
whose gradient estimates the gradient of E_{z~q}[f(z)] with respect to the logits (and whatever
f depends on):

    score-function     f(z) + (f(z) - b) log q(z) in the gradient only, z ~ q; b a moving
                       average of f (REINFORCE, Williams 1992; the baseline as NVIL's, Mnih & Gregor 2014)
    straight-through   z one-hot forward, backward as if z were q (Bengio, Leonard & Courville 2013)
    gumbel-softmax     z = softmax((logits + g) / tau) (Jang et al. 2016, Eq. 2)
    st-gumbel-softmax  z one-hot forward, the Gumbel-Softmax sample's gradient backward (Sec. 2.2)
    marginalization    sum_z q(z) f(z) over all K^L values of z: exact, where K^L is small

The one-hot samples come from the Gumbel-Max trick (Eq. 1) on the caller's generator, so a
seeded model repeats them. Only the score function keeps state (its baseline), as buffers, so
that a checkpoint resumes it; so does the temperature schedule (its step count).
"""
import itertools
import math

import numpy

from .. import functional as F
from .. import as_tensor, int64, nn, no_grad, zeros

ESTIMATORS = ("score-function", "straight-through", "gumbel-softmax", "st-gumbel-softmax", "marginalization")
MAX_MARGINALIZED = 4096  # configurations of z that 'marginalization' sums over at most (K^L)


def one_hot_sample(logits, generator):
    """z ~ softmax(logits) along the last dim as a one-hot, outside the graph: the argmax of
    logits + Gumbel noise (the Gumbel-Max trick, Jang et al. 2016, Eq. 1)."""
    return F.gumbel_softmax(logits.detach(), hard=True, generator=generator)


def gradient_only(surrogate):
    """0 in value, `surrogate`'s gradient in backward: a term that changes only the gradient."""
    return surrogate - surrogate.detach()


def straight_through(value, surrogate):
    """`value` forward, `surrogate`'s gradient backward (exactly `value`: surrogate - surrogate is 0)."""
    return value + gradient_only(surrogate)


def log_probability(logits, z):
    """log q(z) = sum over the L variables of log softmax(logits) at z's one-hot: (*S, N)."""
    return (F.log_softmax(logits, -1) * z).sum((-2, -1))


class ScoreFunction(nn.Module):
    """REINFORCE with a moving-average baseline b: the gradient (f(z) - b) d log q(z) + df(z),
    unbiased for any b that does not depend on z. b averages the batch means of f with weights
    decay^age, normalised by the weights' sum (Adam's bias correction), so the first step's
    b is 0 and the next is the first batch's mean."""

    def __init__(self, decay=0.99):
        super().__init__()
        self.decay = decay
        self.register_buffer("average", zeros(()))  # sum of decayed weights times batch means
        self.register_buffer("weight", zeros(()))   # sum of decayed weights

    def baseline(self):
        return 0.0 if self.weight.item() == 0 else self.average.item() / self.weight.item()

    def forward(self, logits, f, tau, generator):
        z = one_hot_sample(logits, generator)
        value = f(z)
        signal = value.detach() - self.baseline()  # the centred learning signal (Williams 1992)
        if self.training:
            with no_grad():
                for buffer, new in ((self.average, value.detach().mean()), (self.weight, 1.0)):
                    buffer.mul_(self.decay).add_((1 - self.decay) * new)
        return value + gradient_only(signal * log_probability(logits, z))


class StraightThrough(nn.Module):
    """Bengio et al. 2013's estimator: f at a one-hot sample, differentiated as if the sample
    were the probabilities q (an identity backward through the sampling)."""

    def forward(self, logits, f, tau, generator):
        return f(straight_through(one_hot_sample(logits, generator), F.softmax(logits, -1)))


class GumbelSoftmax(nn.Module):
    """f at a Gumbel-Softmax sample at temperature tau (hard=True: the straight-through one)."""

    def __init__(self, hard):
        super().__init__()
        self.hard = hard

    def forward(self, logits, f, tau, generator):
        return f(F.gumbel_softmax(logits, tau, self.hard, generator=generator))


class Marginalization(nn.Module):
    """E_q[f(z)] = sum_z q(z) f(z), f evaluated once at every one of the K^L configurations of
    z (as one batch of shape (K^L, N, L, K)): exact, no sampling."""

    def forward(self, logits, f, tau, generator):
        n, latents, classes = logits.shape
        check_marginalizable(latents, classes)
        chosen = numpy.array(list(itertools.product(range(classes), repeat=latents)))  # (K^L, L)
        configurations = as_tensor(numpy.eye(classes, dtype=logits.dtype)[chosen]).to(logits.device)
        z = configurations.unsqueeze(1).expand(len(chosen), n, latents, classes)
        return (log_probability(logits, z).exp() * f(z)).sum(0)


def check_marginalizable(latents, classes):
    """A ValueError unless K^L configurations are few enough to sum over."""
    if classes ** latents > MAX_MARGINALIZED:
        raise ValueError(f"marginalization: {latents} variables of {classes} classes have {classes}^{latents} "
                         f"configurations; it sums over at most {MAX_MARGINALIZED} (use another estimator)")


def build(name, baseline_decay=0.99):
    """The estimator called `name` (one of ESTIMATORS), as a module: estimate(logits, f, tau, generator)."""
    if name not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {name!r}")
    return {"score-function": lambda: ScoreFunction(baseline_decay), "straight-through": StraightThrough,
            "gumbel-softmax": lambda: GumbelSoftmax(False), "st-gumbel-softmax": lambda: GumbelSoftmax(True),
            "marginalization": Marginalization}[name]()


class TemperatureSchedule(nn.Module):
    """tau = max(tau_min, tau0 exp(-r t)) with t the training step rounded down to a multiple of
    N, i.e. updated every N steps (Jang et al. 2016, Sec. 4.3). The step count is a buffer, so a
    checkpoint resumes the schedule."""

    def __init__(self, tau0, tau_min, rate, every):
        super().__init__()
        self.tau0, self.tau_min, self.rate, self.every = tau0, tau_min, rate, every
        self.register_buffer("step", zeros((), dtype=int64))

    def tau(self):
        t = self.step.item() // self.every * self.every
        return max(self.tau_min, self.tau0 * math.exp(-self.rate * t))

    def advance(self):
        with no_grad():
            self.step.add_(1)
