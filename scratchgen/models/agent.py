"""Agent: what the models that act (trpo.py, gail.py, vime.py) share. Their "dataset" is a
Gymnasium task (data/environments.py) and each training step is one TRPO iteration:

    episodes = whole episodes of the policy, at least batch_size steps (the step's "batch")
    rewards  = the environment's (TRPO), -log D(s, a) (GAIL), plus eta times an information
               gain (VIME): what `rewards(episodes)` of the subclass says
    A_t      = generalised advantage estimates from a value network V(s)  (Schulman et al. 2016)
    the policy takes a TRPO step on A (trust_region.py); V is fitted to the returns by Adam;
    both standardise observations by every observation seen so far (policies.ObservationNorm)

The policy, V, V's optimizer and the model's noise are attributes, so GenerativeModel's
state_dict checkpoints them; the episode stream's reset seeds are the batch source's state. A
checkpoint therefore resumes a run bit for bit.

In GAIL's reading (Ho & Ermon 2016, Sec. 3) the policy is a generative model of state-action
pairs, its occupancy measure; `generate` draws such pairs.
"""
import numpy

from .. import optim
from .. import as_tensor, no_grad
from ..data.environments import ENVIRONMENTS, EpisodeStream, describe
from .base import GenerativeModel
from .policies import act, make_policy, value_network
from .settings import MAX_UNITS, Setting, declare
from .trust_region import trpo_step

EVAL_EPISODES = 50        # the GAIL pipeline evaluates every policy on 50 trajectories

AGENT_DEFAULTS = dict(hidden=[64, 64], batch_size=5000, steps=100, max_kl=0.01, damping=0.1, cg_iterations=10,
                      gamma=0.99, lam=0.97, value_lr=1e-3, value_epochs=5, value_batch=256, entropy_weight=0.0)
AGENT_SETTINGS = declare(
    "hidden", "steps",
    batch_size=Setting(int, "environment steps per TRPO iteration (whole episodes, at least this many)",
                       at_least=1, at_most=10 ** 7),
    max_kl=Setting(float, "TRPO's trust region delta: the largest mean KL(pi_old || pi_new) of a step", above=0),
    damping=Setting(float, "added to the Fisher matrix's diagonal in the conjugate-gradient solve", at_least=0),
    cg_iterations=Setting(int, "conjugate-gradient iterations per TRPO step", at_least=1, at_most=MAX_UNITS),
    gamma=Setting(float, "discount factor", at_least=0, at_most=1),
    lam=Setting(float, "the lambda of generalised advantage estimation", at_least=0, at_most=1),
    value_lr=Setting(float, "Adam's learning rate for the value network", above=0),
    value_epochs=Setting(int, "passes of the value network over each iteration's steps", at_least=0,
                         at_most=MAX_UNITS),
    value_batch=Setting(int, "steps per Adam update of the value network", at_least=1, at_most=10 ** 7),
    entropy_weight=Setting(float, "weight of the policy's entropy in the TRPO objective (GAIL's causal "
                           "entropy lambda)", at_least=0))


def advantages_and_returns(rewards, values, final_value, terminated, gamma, lam):
    """Generalised advantage estimation for one episode (Schulman et al. 2016, Eq. 16):
    delta_t = r_t + gamma V(s_t+1) - V(s_t),  A_t = sum_l (gamma lam)^l delta_t+l, with V after the
    last step 0 if the episode terminated, else V(final state) (the time limit cut it). Returns
    (A, A + V): the advantages and the value network's targets."""
    next_values = numpy.append(values[1:], 0.0 if terminated else final_value)
    deltas = rewards + gamma * next_values - values
    advantages = numpy.zeros(len(rewards))
    running = 0.0
    for t in reversed(range(len(rewards))):
        running = deltas[t] + gamma * lam * running
        advantages[t] = running
    return advantages, advantages + values


class PolicyModel(GenerativeModel):
    """A policy on a Gymnasium task (config["dataset"]), and what is measured of it."""
    datasets = ENVIRONMENTS

    def __init__(self, config):
        super().__init__(config)
        self.task = describe(config["dataset"])
        self.policy = make_policy(self.task, config["hidden"])

    def act(self, observations):
        """Actions drawn from the policy with the model's noise."""
        return act(self.policy, observations, self.rng)

    def act_with(self, generator):
        """observations -> actions drawn from the policy with `generator`."""
        return lambda observations: act(self.policy, observations, generator)

    def generate(self, n, generator):
        """n (state, action features) pairs (n, obs + action features) from episodes of the policy,
        their reset seeds and actions drawn with `generator`."""
        stream = EpisodeStream(self.config["dataset"], generator)
        episodes = stream.episodes(self.act_with(generator), n)
        pairs = numpy.concatenate([numpy.hstack([e.observations, self.policy.features(e.actions)]) for e in episodes])
        return as_tensor(pairs[:n])

    def data_to_output(self, data):
        return data

    def episode_returns(self, generator, episodes=EVAL_EPISODES, deterministic=False):
        """The total environment reward of `episodes` episodes of the policy (sampling its actions
        with `generator`, or taking the most likely ones when deterministic)."""
        stream = EpisodeStream(self.config["dataset"], generator)
        rule = self.act_with(None if deterministic else generator)
        return numpy.array([e.total_reward for e in stream.episodes(rule, max_episodes=episodes, min_steps=10 ** 12)])

    def episode_metrics(self, generator):
        """{"return_mean", "return_std", "episodes"} of the policy on EVAL_EPISODES fresh episodes."""
        returns = self.episode_returns(generator)
        return {"return_mean": float(returns.mean()), "return_std": float(returns.std()), "episodes": len(returns)}


class Agent(PolicyModel):
    """A TRPO agent on a Gymnasium task; subclasses say what rewards it is trained on."""
    defaults = AGENT_DEFAULTS
    settings = AGENT_SETTINGS

    def __init__(self, config):
        super().__init__(config)
        self.value = value_network(self.task.observation_size, config["hidden"])
        self.value_optimizer = optim.Adam(self.value.parameters(), lr=config["value_lr"])

    def rewards(self, episodes):
        """(the reward of each step of each episode the policy is trained on, a list of arrays;
        {name: float} to log): the environment's rewards here."""
        return [episode.rewards for episode in episodes], {}

    def train_step(self, batch):
        stream, = batch
        episodes = stream.episodes(self.act, self.config["batch_size"])
        rewards, reward_stats = self.rewards(episodes)
        stats = self.update(episodes, rewards)
        returns = [episode.total_reward for episode in episodes]
        return {"return": float(numpy.mean(returns)), "episode_length": float(numpy.mean([len(e) for e in episodes])),
                "episodes": float(len(episodes)), **reward_stats, **stats}

    def update(self, episodes, rewards):
        """A TRPO step of the policy on the advantages of `rewards`, then V fitted to the returns."""
        config = self.config
        observations = numpy.concatenate([episode.observations for episode in episodes])
        actions = numpy.concatenate([episode.actions for episode in episodes])
        for network in (self.policy, self.value):
            network.observation_norm.update(observations)
        advantages, targets = [], []
        with no_grad():
            for episode, reward in zip(episodes, rewards):
                values = self.value(as_tensor(numpy.vstack([episode.observations, episode.final_observation[None]])))
                values = values.numpy()[:, 0].astype(numpy.float64)
                a, r = advantages_and_returns(numpy.asarray(reward, numpy.float64), values[:-1], values[-1],
                                              episode.terminated, config["gamma"], config["lam"])
                advantages.append(a)
                targets.append(r)
        advantages, targets = numpy.concatenate(advantages), numpy.concatenate(targets)
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)  # standardised, as the reference code
        stats = trpo_step(self.policy, as_tensor(observations), actions, as_tensor(advantages.astype(numpy.float32)),
                          config["max_kl"], config["damping"], config["cg_iterations"], config["entropy_weight"])
        return {**stats, "value_loss": self.fit_value(observations, targets.astype(numpy.float32))}

    def fit_value(self, observations, targets):
        """value_epochs passes of Adam over the steps in shuffled batches; the mean squared error
        of the last pass."""
        config, losses = self.config, []
        for _ in range(config["value_epochs"]):
            order = self.rng.permutation(len(targets), "cpu")
            losses = []
            for start in range(0, len(order), config["value_batch"]):
                rows = order[start:start + config["value_batch"]]
                error = self.value(as_tensor(observations[rows]))[:, 0] - as_tensor(targets[rows])
                loss = (error * error).mean()
                self.value_optimizer.zero_grad()
                loss.backward()
                self.value_optimizer.step()
                losses.append(loss.item())
        return float(numpy.mean(losses)) if losses else 0.0
