"""Improved-GAN training techniques that are losses rather than layers (Salimans et al. 2016,
Improved Techniques for Training GANs); the layers are nn.MinibatchDiscrimination,
nn.VirtualBatchNorm and nn.GaussianNoise; gan_switches.py turns each on for the GANs.

    loss_g = feature_matching_loss(d_features(real), d_features(fake))     # Sec. 3.1
    history = HistoricalAverage(d.parameters()); loss_d = loss_d + history.penalty()
    ... opt_d.step(); history.update()                                     # Sec. 3.3
    targets_real = one_sided_smoothing(real_logits, alpha=0.9)              # Sec. 3.4
    average = ParameterAverage(d.parameters(), rate=1e-4)                   # the weights to test with
"""
import contextlib

from .. import full_like, no_grad


def feature_matching_loss(real_features, fake_features):
    """||E_x f(x) - E_z f(G(z))||^2 over an intermediate layer f of D (Sec. 3.1), as the mean of
    squares over the features, as openai/improved-gan (T.mean(T.square(m1 - m2))); the real
    features are a constant target (no gradient reaches D through this loss)."""
    difference = real_features.detach().mean(0) - fake_features.mean(0)
    return (difference * difference).mean()


def one_sided_smoothing(real_logits, alpha=0.9):
    """The targets of real examples, alpha instead of 1, shaped as D's logits of them; fake ones
    keep 0 (Sec. 3.4)."""
    return full_like(real_logits, alpha)


class ParameterAverage:
    """A running average of parameters, updated after each optimizer step:
    avg_t = avg_{t-1} + w_t (theta_t - avg_{t-1}), with theta_1 the parameters given at the start.
    rate None: w_t = 1/t, the mean of theta_1 ... theta_t (Sec. 3.3's historical average);
    rate r: w_t = r / (1 - (1 - r)^t), the exponential moving average with rate r corrected for
    its start as Adam's moments are (openai/improved-gan tests with r = 1e-4, started at 0).
    swapped_in() puts the averages into the parameters (the weights to test with)."""

    def __init__(self, parameters, rate=None):
        self.parameters, self.rate = list(parameters), rate
        with no_grad():
            self.averages = [p.detach().clone() for p in self.parameters]
        self.count = 1

    def update(self):
        self.count += 1
        w = 1.0 / self.count if self.rate is None else self.rate / (1.0 - (1.0 - self.rate) ** self.count)
        with no_grad():
            for p, average in zip(self.parameters, self.averages):
                average.add_(p.detach() - average, alpha=w)

    @contextlib.contextmanager
    def swapped_in(self):
        """The averages in the parameters inside the block; the parameters back after it."""
        with no_grad():
            kept = [p.detach().clone() for p in self.parameters]
            for p, average in zip(self.parameters, self.averages):
                p.copy_(average)
        try:
            yield
        finally:
            with no_grad():
                for p, value in zip(self.parameters, kept):
                    p.copy_(value)

    def state_dict(self):
        return {"averages": [average.clone() for average in self.averages], "count": self.count}

    def load_state_dict(self, state):
        with no_grad():
            for average, saved in zip(self.averages, state["averages"]):
                average.copy_(saved)
        self.count = int(state["count"])


class HistoricalAverage(ParameterAverage):
    """The penalty weight * ||theta - (1/t) sum_{i=1}^t theta[i]||^2 of Sec. 3.3, theta[i] the
    parameters after each of the t updates so far (the starting ones included); the average is
    a constant. Call update() after every optimizer step; state_dict() keeps it for resume."""

    def __init__(self, parameters, weight=1.0):
        super().__init__(parameters)
        self.weight = weight

    def penalty(self):
        total = 0.0
        for p, average in zip(self.parameters, self.averages):
            difference = p - average
            total = total + (difference * difference).sum()
        return self.weight * total
