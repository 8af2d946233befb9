"""VIME (Houthooft, Chen, Duan, Schulman, De Turck & Abbeel 2016, "VIME: Variational Information
Maximizing Exploration"): TRPO (agent.py) on the environment's reward plus eta times the
information gain of each transition about a Bayesian model of the dynamics (vime_dynamics.py):

    r'(s_t, a_t, s_t+1) = r(s_t, a_t) + eta * D_KL[q(theta | xi_t, a_t, s_t+1) || q(theta | xi_t)]    (Eq. 7)

the KL by the paper's second-order approximation (Sec. 2.5), divided by the mean of the last ten
batches' median KLs (the reference code's KL ratio). Each iteration, as openai/vime's
batch_polopt_expl.py: episodes; their KLs under the model as it stands (none while the replay
pool holds fewer than min_pool transitions); the transitions into the pool; dynamics_updates Adam
steps of the model on batches from the pool; the TRPO step. The last step of an episode has its
own next state here (data/environments.py keeps the final observation), so it needs no stand-in.

Departures, for a 2-core CPU: 2000 steps per iteration (the reference's SwimmerGather run: 50,000),
500 model updates per iteration (5000), Adam 1e-3 for the model (1e-4), eta 1e-3 (1e-4; with
zero extrinsic reward the standardised advantages make the scale of eta matter only against the
goal's reward), a replay pool of 100,000 (1e6).
"""
import numpy

from .. import optim
from ..data.environments import ENVIRONMENTS, SPARSE_MOUNTAIN_CAR
from .agent import AGENT_DEFAULTS, AGENT_SETTINGS, Agent
from .settings import MAX_UNITS, Setting
from .vime_dynamics import BayesianDynamics, KLNormaliser, ReplayPool


class VIME(Agent):
    name = "vime"
    paper = ("Houthooft, Chen, Duan, Schulman, De Turck & Abbeel 2016, VIME: Variational Information Maximizing "
             "Exploration")
    datasets = (SPARSE_MOUNTAIN_CAR, *(name for name in ENVIRONMENTS if name != SPARSE_MOUNTAIN_CAR))
    defaults = dict(AGENT_DEFAULTS, batch_size=2000, steps=50, eta=1e-3, dynamics_hidden=32, dynamics_lr=1e-3,
                    dynamics_updates=500, dynamics_batch=10, min_pool=500, pool_capacity=100_000, kl_step_size=0.01,
                    likelihood_std=5.0, prior_std=0.5, kl_samples=10)
    settings = dict(
        AGENT_SETTINGS,
        eta=Setting(float, "weight of the information gain in the reward (Eq. 7)", at_least=0),
        dynamics_hidden=Setting(int, "hidden units of the Bayesian dynamics model", at_least=1, at_most=MAX_UNITS),
        dynamics_lr=Setting(float, "Adam's learning rate for the dynamics model", above=0),
        dynamics_updates=Setting(int, "Adam steps of the dynamics model per iteration", at_least=0, at_most=10 ** 6),
        dynamics_batch=Setting(int, "transitions per dynamics update", at_least=1, at_most=10 ** 6),
        min_pool=Setting(int, "transitions in the replay pool before the model is fitted and asked for KLs",
                         at_least=1, at_most=10 ** 7),
        pool_capacity=Setting(int, "the replay pool's size (the oldest transitions go first)", at_least=1,
                              at_most=10 ** 7),
        kl_step_size=Setting(float, "lambda of the second-order posterior update (Sec. 2.5)", above=0),
        likelihood_std=Setting(float, "std of the model's Gaussian likelihood of the (normalised) next state",
                               above=0),
        prior_std=Setting(float, "std of the Gaussian prior on the model's weights", above=0),
        kl_samples=Setting(int, "Monte Carlo draws of the weights per likelihood", at_least=1, at_most=MAX_UNITS))

    def __init__(self, config):
        super().__init__(config)
        self.dynamics = BayesianDynamics(self.task.observation_size, self.task.actions, config["dynamics_hidden"],
                                         config["prior_std"], config["likelihood_std"])
        self.dynamics_optimizer = optim.Adam(self.dynamics.parameters(), lr=config["dynamics_lr"])
        self.pool = ReplayPool(config["pool_capacity"], self.task.observation_size, self.task.actions)
        self.normaliser = KLNormaliser()

    def rewards(self, episodes):
        config = self.config
        states = numpy.concatenate([episode.observations for episode in episodes])
        actions = numpy.concatenate([self.policy.features(episode.actions) for episode in episodes])
        next_states = numpy.concatenate([numpy.vstack([e.observations[1:], e.final_observation[None]])
                                         for e in episodes])
        bonus, stats = numpy.zeros(len(states)), {"information_gain": 0.0, "dynamics_loss": 0.0}
        if len(self.pool) >= config["min_pool"]:
            gains = self.dynamics.information_gain(states, actions, next_states, config["kl_step_size"],
                                                   config["kl_samples"], self.rng)
            bonus = config["eta"] * self.normaliser(gains)  # Eq. 7, with the KL ratio of the reference code
            stats["information_gain"] = float(gains.mean())
        self.pool.add(states, actions, next_states)
        if len(self.pool) >= config["min_pool"] and config["dynamics_updates"]:
            stats["dynamics_loss"] = self.dynamics.fit(self.pool, self.dynamics_optimizer, config["dynamics_updates"],
                                                       config["dynamics_batch"], config["kl_samples"], self.rng)
        ends = numpy.cumsum([len(episode) for episode in episodes])[:-1]
        return [e.rewards + b for e, b in zip(episodes, numpy.split(bonus, ends))], stats

    def state_dict(self):
        return {**super().state_dict(), "pool": self.pool.state_dict(), "normaliser": self.normaliser.state_dict()}

    def load_state_dict(self, state):
        state = dict(state)
        pool, normaliser = state.pop("pool"), state.pop("normaliser")
        super().load_state_dict(state)
        self.pool.load_state_dict(pool)
        self.normaliser.load_state_dict(normaliser)
