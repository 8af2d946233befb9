"""The policies and the value network of the agents (TRPO, GAIL, VIME): MLPs of tanh units, the
(64, 64) networks of openai/imitation's classic-control runs (Ho & Ermon 2016, Appendix B).

A policy's forward maps observations (N, obs) to the parameters of its action distribution,
one row per observation; every other method takes those parameters, so that the TRPO step
(trpo.py) can compare the distributions of two parameter settings:

    CategoricalPolicy   logits (N, K); actions are choice indices (N,)
    GaussianPolicy      [mean, log_std] (N, 2d), the log-std a free parameter per action
                        dimension, not a function of the state (Schulman et al. 2015, Sec. 8)
"""
import math

import numpy

from .. import nn
from .. import as_tensor, no_grad, ones, zeros
from ..functional import cat, exp, log_softmax
from .mlp import mlp


class ObservationNorm(nn.Module):
    """(s - mean) / std with the mean and std of every observation `update` has seen so far (the
    reference code's obsnorm, openai/imitation's policies): MountainCar's velocity, a hundredth
    of its position's range, reaches the first layer on the same scale as the position. The
    statistics are buffers, so checkpoints keep them; the networks' weights never see them move
    inside a TRPO step, which updates them before it starts."""

    def __init__(self, size):
        super().__init__()
        self.register_buffer("count", zeros(1))
        self.register_buffer("mean", zeros(size))
        self.register_buffer("var", ones(size))

    def update(self, observations):
        """Merge a batch's statistics into the running ones (Chan et al. 1979's pairwise update)."""
        batch = numpy.asarray(observations, numpy.float64)
        n, count = len(batch), float(self.count.numpy()[0])
        mean, var = self.mean.numpy().astype(numpy.float64), self.var.numpy().astype(numpy.float64)
        delta, total = batch.mean(0) - mean, count + n
        new_var = (var * count + batch.var(0) * n + delta ** 2 * count * n / total) / total
        with no_grad():
            self.mean.copy_(as_tensor((mean + delta * n / total).astype(numpy.float32)))
            self.var.copy_(as_tensor(new_var.astype(numpy.float32)))
            self.count.copy_(as_tensor(numpy.array([total], numpy.float32)))

    def forward(self, observations):
        return (observations - self.mean) / (self.var + 1e-8).sqrt()


class Normalised(nn.Module):
    """`net` applied to standardised observations."""

    def __init__(self, observation_size, net):
        super().__init__()
        self.observation_norm = ObservationNorm(observation_size)
        self.net = net

    def forward(self, observations):
        return self.net(self.observation_norm(observations))


class CategoricalPolicy(Normalised):
    """pi(a | s) = softmax(f(s))_a."""
    discrete = True

    def __init__(self, observation_size, choices, hidden=(64, 64)):
        super().__init__(observation_size, mlp([observation_size, *hidden, choices], nn.Tanh))
        self.choices = choices

    def log_prob(self, parameters, actions):
        """log pi(a | s) per row; `actions` the chosen indices (N,) as integers."""
        return (log_softmax(parameters, dim=1) * self.one_hot(actions, parameters)).sum(1)

    def kl(self, old, new):
        """KL(pi_old || pi_new) per row: sum_a p_old(a) (log p_old(a) - log p_new(a))."""
        old_log_p, new_log_p = log_softmax(old, dim=1), log_softmax(new, dim=1)
        return (exp(old_log_p) * (old_log_p - new_log_p)).sum(1)

    def entropy(self, parameters):
        log_p = log_softmax(parameters, dim=1)
        return -(exp(log_p) * log_p).sum(1)

    def draw(self, parameters, generator):
        """One action per row, drawn from pi(. | s) with `generator`: (N,) int64."""
        p = numpy.exp(log_softmax(parameters, dim=1).numpy().astype(numpy.float64))
        u = generator.uniform((len(p), 1), numpy.float64, "cpu")
        return numpy.minimum((p.cumsum(1) < u).sum(1), self.choices - 1).astype(numpy.int64)

    def most_likely(self, parameters):
        return parameters.numpy().argmax(1).astype(numpy.int64)

    def one_hot(self, actions, like):
        actions = numpy.asarray(actions, numpy.int64).reshape(-1)
        return as_tensor(numpy.eye(self.choices, dtype=like.dtype)[actions], device=like.device)

    def features(self, actions):
        """Actions as a discriminator or a dynamics model takes them: one-hot rows (N, K), float32."""
        return numpy.eye(self.choices, dtype=numpy.float32)[numpy.asarray(actions, numpy.int64).reshape(-1)]


class GaussianPolicy(Normalised):
    """pi(a | s) = N(a; f(s), diag(exp(log_std))^2)."""
    discrete = False

    def __init__(self, observation_size, action_size, hidden=(64, 64), initial_log_std=0.0):
        super().__init__(observation_size, mlp([observation_size, *hidden, action_size], nn.Tanh))
        self.action_size = action_size
        self.log_std = nn.Parameter(zeros(1, action_size) + initial_log_std)

    def forward(self, observations):
        mean = super().forward(observations)
        return cat([mean, self.log_std.expand(len(mean), self.action_size)], dim=1)

    def split(self, parameters):
        d = self.action_size
        return parameters[:, :d], parameters[:, d:]

    def log_prob(self, parameters, actions):
        """log N(a; mean, std^2) summed over the action's dimensions."""
        mean, log_std = self.split(parameters)
        actions = as_tensor(numpy.asarray(actions, numpy.float64).reshape(len(mean), -1), dtype=mean.dtype,
                            device=mean.device)
        z = (actions - mean) / exp(log_std)
        return (-0.5 * z * z - log_std - 0.5 * math.log(2 * math.pi)).sum(1)

    def kl(self, old, new):
        """KL(N_old || N_new) per row: log(s_new / s_old) + (s_old^2 + (m_old - m_new)^2) / (2 s_new^2) - 1/2."""
        (m0, l0), (m1, l1) = self.split(old), self.split(new)
        return (l1 - l0 + (exp(2 * l0) + (m0 - m1) * (m0 - m1)) / (2 * exp(2 * l1)) - 0.5).sum(1)

    def entropy(self, parameters):
        _, log_std = self.split(parameters)
        return (log_std + 0.5 * math.log(2 * math.pi * math.e)).sum(1)

    def draw(self, parameters, generator):
        mean, log_std = (part.numpy() for part in self.split(parameters))
        return (mean + numpy.exp(log_std) * generator.normal(mean.shape, mean.dtype, "cpu")).astype(numpy.float32)

    def most_likely(self, parameters):
        return self.split(parameters)[0].numpy().astype(numpy.float32)

    def features(self, actions):
        return numpy.asarray(actions, numpy.float32).reshape(-1, self.action_size)


def make_policy(task, hidden):
    """The policy for a data.environments.Task."""
    if task.discrete:
        return CategoricalPolicy(task.observation_size, task.actions, hidden)
    return GaussianPolicy(task.observation_size, task.actions, hidden)


def value_network(observation_size, hidden=(64, 64)):
    """V(s): an MLP of tanh units with one output, on standardised observations."""
    return Normalised(observation_size, mlp([observation_size, *hidden, 1], nn.Tanh))


def act(policy, observations, generator=None):
    """Actions for observations (N, obs) as NumPy: drawn from the policy with `generator`, or the
    most likely ones when it is None."""
    with no_grad():
        parameters = policy(as_tensor(numpy.asarray(observations, numpy.float32)))
    return policy.most_likely(parameters) if generator is None else policy.draw(parameters, generator)
