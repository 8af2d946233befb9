"""Behavioural cloning: the policy network of the agents fitted to the expert's state-action
pairs by maximum likelihood, max_theta sum log pi_theta(a_E | s_E), the baseline of GAIL's
Figure 1 (Ho & Ermon 2016, Sec. 6: "the same policy network ... trained with Adam").

Each training step is one Adam step on a minibatch of the demonstrations; the episode stream
the loop hands it is not used (cloning never acts while it learns).
"""
import numpy

from .. import optim
from .. import as_tensor
from .agent import PolicyModel
from .imitation import IMITATION_DATASET_DEFAULTS, IMITATION_DEFAULTS, IMITATION_SETTINGS, NEEDS_EXPERT
from .settings import declare


class BehaviouralCloning(PolicyModel):
    name = "bc"
    paper = "Ho & Ermon 2016, Generative Adversarial Imitation Learning (Sec. 6, the behavioural-cloning baseline)"
    defaults = dict(hidden=[64, 64], batch_size=128, steps=2000, lr=1e-3, **IMITATION_DEFAULTS)
    dataset_defaults = IMITATION_DATASET_DEFAULTS
    settings = declare("hidden", "batch_size", "steps", "lr", **IMITATION_SETTINGS)
    setting_requirements = NEEDS_EXPERT
    imitates = True

    def __init__(self, config):
        super().__init__(config)
        self.optimizer = optim.Adam(self.policy.parameters(), lr=config["lr"])
        self.demonstrations = None

    def imitate(self, demonstrations):
        """Take the expert's pairs; the policy standardises observations by theirs."""
        self.demonstrations = demonstrations
        self.policy.observation_norm.update(demonstrations.observations)

    def train_step(self, batch):
        expert = self.demonstrations
        rows = self.rng.integers(0, len(expert.actions), (self.config["batch_size"],), numpy.int64, "cpu")
        parameters = self.policy(as_tensor(expert.observations[rows]))
        loss = -self.policy.log_prob(parameters, expert.actions[rows]).mean()  # the negative log-likelihood
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}
