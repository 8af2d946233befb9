"""VIME's dynamics model (Houthooft et al. 2016, "VIME: Variational Information Maximizing
Exploration"), the pieces a policy-gradient agent plugs in: a Bayesian neural network that
predicts the next observation from (observation, action), its information gain per transition
(the intrinsic reward), a replay pool and the KL-ratio normalisation, after the reference code
openai/vime (dynamics/bnn.py, algos/batch_polopt_expl.py, sampler/parallel_sampler_expl.py).

The reference's schedule, per TRPO iteration (run_trpo_expl.py's settings in brackets):
  1. sample paths with the current policy;
  2. from the second iteration on, each transition's KL = information_gain(...) with the model as
     it stands (normalised by the pool's statistics); the last step of a path, which has no next
     observation, takes the KL of the step before it;
  3. kls = KLNormaliser()(kls of the whole batch); reward += eta * kls  [eta = 1e-4];
  4. add the transitions to the ReplayPool [capacity 1e6]; once it holds min_pool_size (500)
     of them, model.fit(pool, Adam(model.parameters(), lr) [lr 1e-4], n_updates [5000], batch_size=10);
  5. the TRPO step.
Everything stateful has state_dict()/load_state_dict() (the model's normalisation statistics are
buffers), so a run restores bit for bit with the optimizer's and the generator's states.
"""
import math

import numpy

from .. import Tensor, default_generator, grad, nn, ones, tensor, zeros
from .. import functional as F
from ..arguments import integer, number

NORMALISATION_EPS = 1e-8  # batch_polopt_expl.py: (x - mean) / (std + 1e-8)


class BayesianDynamics(nn.Module):
    """s' ~ BNN(s, a): BayesianLinear(observation_size + action_size, hidden), ReLU,
    BayesianLinear(hidden, observation_size), as the reference's BNN with layers_type [1, 1]. Inputs
    and target are normalised by the pool's mean and std; the network predicts the normalised next
    observation (not a difference), with the Gaussian likelihood N(prediction, likelihood_std^2).
    n_batches divides the KL term of the loss (the reference's fixed 5)."""

    def __init__(self, observation_size, action_size, hidden=32, prior_std=0.5, likelihood_std=5.0, n_batches=5,
                 dtype=None):
        super().__init__()
        name = type(self).__name__
        self.observation_size = integer(observation_size, name, "observation_size", 1)
        self.action_size = integer(action_size, name, "action_size", 1)
        hidden = integer(hidden, name, "hidden", 1)
        self.likelihood_std = nn.bayesian.positive(likelihood_std, name, "likelihood_std")
        self.n_batches = nn.bayesian.positive(n_batches, name, "n_batches")
        self.hidden_layer = nn.BayesianLinear(self.observation_size + self.action_size, hidden, prior_std, dtype=dtype)
        self.output_layer = nn.BayesianLinear(hidden, self.observation_size, prior_std, dtype=dtype)
        dtype = self.hidden_layer.weight_mu.dtype
        self.register_buffer("observation_mean", zeros(self.observation_size, dtype=dtype))
        self.register_buffer("observation_std", ones(self.observation_size, dtype=dtype))
        self.register_buffer("action_mean", zeros(self.action_size, dtype=dtype))
        self.register_buffer("action_std", ones(self.action_size, dtype=dtype))

    # ---- normalisation and prediction -----------------------------------------------------------
    def set_normalisation(self, pool):
        """Take the mean and std of the pool's observations and actions (ReplayPool.mean_std)."""
        for buffer, value in zip((self.observation_mean, self.observation_std, self.action_mean, self.action_std),
                                 pool.mean_std()):
            buffer.copy_(tensor(value, dtype=buffer.dtype))

    def _rows(self, value, where, arg, width):
        return tensor(_rows(value, where, arg, width), dtype=self.observation_mean.dtype)

    def _normalised(self, where, states, actions, next_states=None):
        """(inputs, targets) as the network sees them: normalised, float Tensors of the model's dtype."""
        states = self._rows(states, where, "states", self.observation_size)
        actions = self._rows(actions, where, "actions", self.action_size)
        if actions.shape[0] != states.shape[0]:
            raise ValueError(f"{where}: actions must have one row per state ({states.shape[0]}), "
                             f"got {actions.shape[0]}")
        obs_scale = self.observation_std + NORMALISATION_EPS
        inputs = F.cat([(states - self.observation_mean) / obs_scale,
                        (actions - self.action_mean) / (self.action_std + NORMALISATION_EPS)], dim=1)
        if next_states is None:
            return inputs, None
        next_states = self._rows(next_states, where, "next_states", self.observation_size)
        if next_states.shape[0] != states.shape[0]:
            raise ValueError(f"{where}: next_states must have one row per state ({states.shape[0]}), "
                             f"got {next_states.shape[0]}")
        return inputs, (next_states - self.observation_mean) / obs_scale

    def _network(self, inputs, generator):
        return self.output_layer(F.relu(self.hidden_layer(inputs, generator)), generator)

    def forward(self, states, actions, generator=None):
        """One posterior sample of the next observation, (batch, observation_size), in the units of
        the observations, for states (batch, observation_size) and actions (batch, action_size)."""
        inputs, _ = self._normalised("BayesianDynamics", states, actions)
        return self._network(inputs, generator) * (self.observation_std + NORMALISATION_EPS) + self.observation_mean

    # ---- Bayes by backprop ----------------------------------------------------------------------
    def kl_divergence(self):
        """KL[q(theta) || prior], a 0-d Tensor, summed over the layers."""
        return self.hidden_layer.kl_divergence() + self.output_layer.kl_divergence()

    def _log_likelihood(self, inputs, targets, n_samples, generator):
        """(1/n_samples) sum over n_samples posterior draws of sum_batch log N(target | prediction,
        likelihood_std^2); every row of every draw has its own noise (local reparameterisation)."""
        predictions = self._network(F.stack([inputs] * n_samples), generator)
        std = self.likelihood_std
        # log N(y | m, s^2) = -log s - log sqrt(2 pi) - (y - m)^2 / (2 s^2) (bnn.py _log_prob_normal)
        log_density = -math.log(std) - 0.5 * math.log(2 * math.pi) - (targets - predictions) ** 2 / (2 * std * std)
        return log_density.sum() / n_samples

    def elbo_loss(self, states, actions, next_states, n_samples=10, generator=None):
        """The negative evidence lower bound of Bayes by backprop on this batch (Blundell et al. 2015,
        Eq. 2 with the minibatch weighting of Eq. 8; VIME Eq. 12 with the prior in place of the last
        posterior): KL[q || prior] / n_batches - E_q[log p(next_states | states, actions)], the
        expectation by n_samples draws. A 0-d Tensor."""
        where = "BayesianDynamics.elbo_loss"
        inputs, targets = self._normalised(where, states, actions, next_states)
        n_samples = integer(n_samples, where, "n_samples", 1)
        return self.kl_divergence() / self.n_batches - self._log_likelihood(inputs, targets, n_samples, generator)

    def update(self, states, actions, next_states, optimizer, n_samples=10, generator=None):
        """One optimizer step on elbo_loss of this batch; returns the loss (a float) before the step."""
        optimizer.zero_grad()
        loss = self.elbo_loss(states, actions, next_states, n_samples, generator)
        loss.backward()
        optimizer.step()
        return loss.item()

    def fit(self, pool, optimizer, n_updates, batch_size=10, n_samples=10, generator=None):
        """The reference's model fit after each batch of paths: normalise by the pool's statistics,
        then n_updates steps on batches drawn uniformly (with replacement) from the pool. Returns the
        mean loss of the steps."""
        where = "BayesianDynamics.fit"
        if not isinstance(pool, ReplayPool) or len(pool) == 0:
            raise ValueError(f"{where}: pool must be a non-empty ReplayPool, got {pool!r}")
        n_updates = integer(n_updates, where, "n_updates", 1)
        self.set_normalisation(pool)
        losses = [self.update(*pool.sample(batch_size, generator), optimizer, n_samples, generator)
                  for _ in range(n_updates)]
        return float(numpy.mean(losses))

    # ---- information gain -----------------------------------------------------------------------
    def kl_hessian_diagonal(self):
        """{parameter name: Tensor}: the diagonal Hessian of KL[q(phi') || q(phi)] at phi' = phi."""
        return {f"{layer}.{name}": value for layer in ("hidden_layer", "output_layer")
                for name, value in getattr(self, layer).kl_hessian_diagonal().items()}

    def posterior_step(self, states, actions, next_states, step_size=0.01, n_samples=10, generator=None):
        """{parameter name: Tensor}: the step Delta phi = -step_size H^-1 grad l of VIME's single
        second-order update on these transitions (Eq. 13), where l = KL[q(phi') || q(phi)] -
        E_q(phi')[log p(next_states | states, actions)] (Eq. 12) and H is the Hessian of its KL
        term at phi' = phi (diagonal, in closed form). At phi' = phi the KL term has zero gradient,
        so grad l is the gradient of the expected negative log-likelihood (n_samples draws)."""
        where = "BayesianDynamics.posterior_step"
        inputs, targets = self._normalised(where, states, actions, next_states)
        step_size = number(step_size, where, "step_size", 0.0, None, "a non-negative number")
        n_samples = integer(n_samples, where, "n_samples", 1)
        parameters = dict(self.named_parameters())
        gradients = grad(-self._log_likelihood(inputs, targets, n_samples, generator), list(parameters.values()))
        hessian = self.kl_hessian_diagonal()
        # VIME Eq. 13: Delta phi = H^-1 grad l, taken with step size lambda, downhill
        return {name: -step_size * g / hessian[name] for name, g in zip(parameters, gradients)}

    def information_gain(self, states, actions, next_states, step_size=0.01, n_samples=10, generator=None,
                         max_value=1000.0):
        """VIME's intrinsic reward, one float64 per transition (an array (batch,)): for each
        transition on its own, KL[q(phi + Delta phi) || q(phi)] ~= 1/2 Delta phi^T H Delta phi =
        1/2 step_size^2 grad^T H^-1 grad (VIME Sec. 2.5, the second-order approximation after
        Eq. 13, with the reference's step size 0.01), clipped to [0, max_value] as the reference.
        The model itself is not changed."""
        where = "BayesianDynamics.information_gain"
        states = _rows(states, where, "states", self.observation_size)
        actions = _rows(actions, where, "actions", self.action_size)
        next_states = _rows(next_states, where, "next_states", self.observation_size)
        max_value = number(max_value, where, "max_value", 0.0, None, "a non-negative number")
        hessian = self.kl_hessian_diagonal()
        gains = numpy.empty(len(states))
        for i in range(len(states)):
            step = self.posterior_step(states[i:i + 1], actions[i:i + 1], next_states[i:i + 1], step_size, n_samples,
                                       generator)
            # VIME Sec. 2.5: D_KL[q(phi + Delta phi) || q(phi)] ~= 1/2 Delta phi^T H Delta phi
            #                                                    = 1/2 lambda^2 grad^T H^-1 grad
            gains[i] = 0.5 * sum(float((hessian[name] * s * s).sum().item()) for name, s in step.items())
        return numpy.clip(gains, 0.0, max_value)


def _rows(value, where, arg, width):
    """`value` (an array, a nested list or a Tensor) as a float64 array (batch, width), checked."""
    array = value.detach().numpy() if isinstance(value, Tensor) else numpy.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{where}: {arg} must be an array of numbers, got {value!r:.80}")
    if array.ndim != 2 or array.shape[1] != width:
        raise ValueError(f"{where}: {arg} must have shape (batch, {width}), got {array.shape}")
    return array.astype(numpy.float64)


class ReplayPool:
    """The last `capacity` transitions (state, action, next state), in NumPy float64 arrays; the
    reference's SimpleReplayPool, with the next state stored, so that no sample crosses the end
    of a path."""

    def __init__(self, capacity, observation_size, action_size):
        self.capacity = integer(capacity, "ReplayPool", "capacity", 1)
        self.observation_size = integer(observation_size, "ReplayPool", "observation_size", 1)
        self.action_size = integer(action_size, "ReplayPool", "action_size", 1)
        self._arrays = {"states": numpy.zeros((self.capacity, self.observation_size)),
                        "actions": numpy.zeros((self.capacity, self.action_size)),
                        "next_states": numpy.zeros((self.capacity, self.observation_size))}
        self._top, self._size = 0, 0

    def __len__(self):
        return self._size

    def _widths(self):
        return {"states": self.observation_size, "actions": self.action_size, "next_states": self.observation_size}

    def add(self, states, actions, next_states):
        """Append transitions (rows of the three arrays), overwriting the oldest once full."""
        given = {arg: _rows(value, "ReplayPool.add", arg, width)
                 for (arg, width), value in zip(self._widths().items(), (states, actions, next_states))}
        n = len(given["states"])
        if len(given["actions"]) != n or len(given["next_states"]) != n:
            raise ValueError(f"ReplayPool.add: states, actions and next_states must have as many rows, got "
                             f"{n}, {len(given['actions'])} and {len(given['next_states'])}")
        kept = min(n, self.capacity)
        places = (self._top + n - kept + numpy.arange(kept)) % self.capacity
        for name, rows in given.items():
            self._arrays[name][places] = rows[n - kept:]
        self._top = (self._top + n) % self.capacity
        self._size = min(self._size + n, self.capacity)

    def sample(self, batch_size, generator=None):
        """(states, actions, next_states) of batch_size transitions drawn uniformly with replacement
        by `generator` (default: the global one)."""
        batch_size = integer(batch_size, "ReplayPool.sample", "batch_size", 1)
        if self._size == 0:
            raise ValueError("ReplayPool.sample: the pool is empty; add transitions first")
        index = (generator or default_generator).integers(0, self._size, (batch_size,), numpy.int64, "cpu")
        return tuple(self._arrays[name][index] for name in ("states", "actions", "next_states"))

    def mean_std(self):
        """(observation mean, observation std, action mean, action std) over the stored transitions."""
        states, actions = self._arrays["states"][:self._size], self._arrays["actions"][:self._size]
        return states.mean(0), states.std(0), actions.mean(0), actions.std(0)

    def state_dict(self):
        return {"capacity": self.capacity, "top": self._top,
                **{name: array[:self._size].copy() for name, array in self._arrays.items()}}

    def load_state_dict(self, state_dict):
        if state_dict.get("capacity") != self.capacity:
            raise ValueError(f"ReplayPool.load_state_dict: capacity must be {self.capacity}, "
                             f"got {state_dict.get('capacity')!r}")
        size = len(state_dict["states"])
        rows = {arg: _rows(state_dict[arg], "ReplayPool.load_state_dict", arg, width)
                for arg, width in self._widths().items()}
        for name, array in self._arrays.items():
            array[:] = 0.0
            array[:size] = rows[name]
        self._top, self._size = int(state_dict["top"]), size


class KLNormaliser:
    """The reference's KL ratio (use_kl_ratio with use_kl_ratio_q): each call keeps the median of
    the batch's KLs among the last `history` medians (kl_q_len = 10) and divides the KLs by the mean
    of those medians (VIME Sec. 2.5: the KL divided by the median of the previous KLs)."""

    def __init__(self, history=10):
        self.history = integer(history, "KLNormaliser", "history", 1)
        self.medians = []

    def __call__(self, kls):
        kls = numpy.asarray(kls, dtype=numpy.float64)
        if kls.ndim != 1 or kls.size == 0:
            raise ValueError(f"KLNormaliser: kls must be a non-empty 1-D array, got shape {kls.shape}")
        self.medians = (self.medians + [float(numpy.median(kls))])[-self.history:]
        return kls / numpy.mean(self.medians)

    def state_dict(self):
        return {"history": self.history, "medians": list(self.medians)}

    def load_state_dict(self, state_dict):
        self.history = integer(state_dict["history"], "KLNormaliser.load_state_dict", "history", 1)
        self.medians = [float(m) for m in state_dict["medians"]][-self.history:]
