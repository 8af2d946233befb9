"""GAIL (Ho & Ermon 2016, "Generative Adversarial Imitation Learning"), Algorithm 1 on
Gymnasium's classic-control tasks:

    D_w(s, a) in (0, 1): the probability that a pair came from the policy rather than the expert
    each iteration: episodes of pi_theta (at least batch_size steps), then
      w ascends   E_pi[log D_w(s, a)] + E_E[log(1 - D_w(s, a))]                 (Algorithm 1, step 4)
      theta takes a TRPO step on the cost log D_w(s, a), with the causal-entropy bonus
      lambda H(pi) (entropy_weight)                                             (Algorithm 1, step 5)

The cost log D becomes a reward in one of the reference code's two ways (openai/imitation's
favor_zero_expert_reward, set in its classic pipeline where a task "cuts off on success"):
-log D >= 0 (an expert-like pair earns much, a long episode earns more: CartPole, Pendulum), or
log(1 - D) <= 0 (an expert-like pair costs nothing, so ending an episode early at the goal is
not punished: Acrobot, MountainCar). D is an MLP of (100, 100) tanh units, as the reference
code's, on the observation and the action (one-hot for a choice) standardised by the
demonstrations' mean and spread, trained by one Adam step of rate 0.01 per iteration (the
reference code's reward_steps and reward_lr).
"""
import numpy

from .. import nn, optim
from .. import as_tensor, no_grad
from ..functional import softplus
from .agent import AGENT_DEFAULTS, AGENT_SETTINGS, Agent
from .imitation import IMITATION_DATASET_DEFAULTS, IMITATION_DEFAULTS, IMITATION_SETTINGS, NEEDS_EXPERT
from .mlp import mlp
from .settings import MAX_UNITS, Setting


ENDS_ON_SUCCESS = ("Acrobot-v1", "MountainCar-v0", "MountainCarSparse")  # the pipeline's cuts_off_on_success


class GAIL(Agent):
    name = "gail"
    paper = "Ho & Ermon 2016, Generative Adversarial Imitation Learning"
    defaults = dict(AGENT_DEFAULTS, discriminator_hidden=[100, 100], discriminator_lr=0.01, discriminator_steps=1,
                    favor_zero_expert_reward=False, **IMITATION_DEFAULTS)
    dataset_defaults = {**IMITATION_DATASET_DEFAULTS, **{name: dict(favor_zero_expert_reward=True)
                                                         for name in ENDS_ON_SUCCESS}}
    settings = dict(AGENT_SETTINGS, **IMITATION_SETTINGS,
                    discriminator_hidden=Setting(list, "widths of the discriminator's hidden tanh layers",
                                                 item=Setting(int, "units", at_least=1, at_most=MAX_UNITS),
                                                 length=(1, 16)),
                    discriminator_lr=Setting(float, "Adam's learning rate for the discriminator", above=0),
                    discriminator_steps=Setting(int, "Adam steps of the discriminator per iteration", at_least=1,
                                                at_most=MAX_UNITS),
                    favor_zero_expert_reward=Setting(bool, "reward log(1 - D) <= 0, zero for expert-like pairs (for "
                                                     "tasks that end on success); false: -log D >= 0"))
    setting_requirements = NEEDS_EXPERT
    imitates = True

    def __init__(self, config):
        super().__init__(config)
        pair_size = self.task.observation_size + self.task.actions  # a one-hot choice, or the action's values
        self.discriminator = mlp([pair_size, *config["discriminator_hidden"], 1], nn.Tanh)
        self.discriminator_optimizer = optim.Adam(self.discriminator.parameters(), lr=config["discriminator_lr"])
        self.expert_pairs = self.shift = self.scale = None

    def imitate(self, demonstrations):
        """Take the expert's pairs; D's inputs are standardised by their mean and spread."""
        pairs = self.pairs(demonstrations.observations, demonstrations.actions, standardise=False)
        spread = pairs.std(0)
        self.shift, self.scale = pairs.mean(0), numpy.where(spread > 1e-6, spread, 1.0)  # a constant column: left as is
        self.expert_pairs = as_tensor(((pairs - self.shift) / self.scale).astype(numpy.float32))

    def pairs(self, observations, actions, standardise=True):
        pairs = numpy.hstack([observations, self.policy.features(actions)])
        return ((pairs - self.shift) / self.scale).astype(numpy.float32) if standardise else pairs

    def rewards(self, episodes):
        """Algorithm 1's step 4 on this iteration's episodes, then the reward -log D(s, a) of their pairs."""
        observations = numpy.concatenate([episode.observations for episode in episodes])
        actions = numpy.concatenate([episode.actions for episode in episodes])
        policy_pairs = as_tensor(self.pairs(observations, actions))
        for _ in range(self.config["discriminator_steps"]):
            # -(E_pi[log D] + E_E[log(1 - D)]) with D = sigmoid(logit): D says "policy" (Ho & Ermon 2016, Eq. 15)
            # -log sigmoid(l) = softplus(-l), -log(1 - sigmoid(l)) = softplus(l)
            loss = softplus(-self.discriminator(policy_pairs)).mean() + softplus(self.discriminator(self.expert_pairs)).mean()
            self.discriminator_optimizer.zero_grad()
            loss.backward()
            self.discriminator_optimizer.step()
        with no_grad():
            logits = self.discriminator(policy_pairs)[:, 0]
            if self.config["favor_zero_expert_reward"]:
                reward = -softplus(logits).numpy()  # log(1 - D) = log sigmoid(-logit) = -softplus(logit)
            else:
                reward = softplus(-logits).numpy()  # -log D = -log sigmoid(logit) = softplus(-logit)
            d_policy = float(logits.sigmoid().mean())
            d_expert = float(self.discriminator(self.expert_pairs)[:, 0].sigmoid().mean())
        ends = numpy.cumsum([len(episode) for episode in episodes])[:-1]
        return numpy.split(reward.astype(numpy.float64), ends), {
            "loss_d": loss.item(), "d_policy": d_policy, "d_expert": d_expert}
