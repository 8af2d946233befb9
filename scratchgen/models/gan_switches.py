"""The Improved-GAN techniques (Salimans et al. 2016, Improved Techniques for Training GANs;
gan_techniques.py and the nn layers) as settings of the GANs that play Goodfellow et al.'s game
(gan, dcgan, dcgan-upsample, cdcgan), all off by default, where a run trains exactly as without them:

    --set feature_matching=true          G's loss: ||E f(x) - E f(G(z))||^2, f D's last hidden layer (Sec. 3.1)
    --set minibatch_discrimination=true  nn.MinibatchDiscrimination before D's last layer (Sec. 3.2)
    --set historical_averaging=W         W ||theta - mean of past theta||^2 on each player's cost (Sec. 3.3)
    --set label_smoothing=0.9            real samples' targets 0.9, fake ones' still 0 (Sec. 3.4)
    --set virtual_batchnorm=true         G's batch norms become nn.VirtualBatchNorm, normalised with a
                                         reference batch of noise drawn once at the start (Sec. 3.4)

A model mixes in TechniqueSwitches before gan.GANLosses, declares TECHNIQUE_SETTINGS beside its settings (with
TECHNIQUE_DEFAULTS), builds its batch norms of G with `generator_norm`, and gives
critic_layers() -> (trunk, features, head): D is nn.Sequential(*trunk, *head), the trunk's
output (`features` wide once flattened) is D's last hidden layer, and minibatch discrimination
replaces the head. The historical averages and the reference noise (a buffer of G) are kept in
the checkpoint.
"""
from .. import nn
from .gan_techniques import HistoricalAverage, feature_matching_loss
from .settings import Setting

MINIBATCH_KERNELS, KERNEL_DIM = 100, 5  # B and C of Sec. 3.2, as openai/improved-gan's MinibatchLayer

TECHNIQUE_SETTINGS = dict(
    feature_matching=Setting(bool, "G matches the mean of D's last hidden layer on real and generated "
                             "samples instead of -log D(G(z)) (Salimans et al. 2016, Sec. 3.1)"),
    minibatch_discrimination=Setting(bool, f"a MinibatchDiscrimination layer ({MINIBATCH_KERNELS} kernels of "
                                     f"{KERNEL_DIM}) before D's last layer (Sec. 3.2)"),
    historical_averaging=Setting(float, "weight of ||theta - mean of past theta||^2 on each player's cost "
                                 "(Sec. 3.3); 0: off", at_least=0),
    label_smoothing=Setting(float, "the target of real samples in D's loss, fake ones keep 0 (one-sided "
                            "smoothing, Sec. 3.4); 1: off", above=0, at_most=1),
    virtual_batchnorm=Setting(bool, "G's batch norms normalise with a fixed reference batch (virtual batch "
                              "norm, Sec. 3.4)"),
)
TECHNIQUE_DEFAULTS = dict(feature_matching=False, minibatch_discrimination=False, historical_averaging=0.0,
                          label_smoothing=1.0, virtual_batchnorm=False)


def minibatch_discrimination_head(features):
    """D's last layer on `features` inputs, with the closeness of each sample to the rest of its
    batch beside them: flatten -> [f, o(f)] (Sec. 3.2) -> one logit per sample."""
    return [nn.Flatten(), nn.MinibatchDiscrimination(features, MINIBATCH_KERNELS, KERNEL_DIM),
            nn.Linear(features + MINIBATCH_KERNELS, 1), nn.Flatten(0)]


class TechniqueSwitches:
    """The techniques of the module docstring as adversarial.AdversarialModel hooks, in front of gan.GANLosses."""

    def __init__(self, config):
        super().__init__(config)
        weight = config["historical_averaging"]
        self.history_d = HistoricalAverage(self.critic_parameters(), weight) if weight else None
        self.history_g = HistoricalAverage(self.G.parameters(), weight) if weight else None
        if config["virtual_batchnorm"]:  # the reference batch: noise drawn once, a buffer of G (so checkpointed)
            self.G.register_buffer("reference_z", self.latent(config["batch_size"]))

    # ---- networks -------------------------------------------------------------------------------
    @property
    def generator_norm(self):
        """The batch-norm layer class of G: nn.VirtualBatchNorm with virtual_batchnorm, else BatchNorm2d."""
        return nn.VirtualBatchNorm if self.config["virtual_batchnorm"] else nn.BatchNorm2d

    def build_critic(self):
        trunk, features, head = self.critic_layers()
        if self.config["minibatch_discrimination"]:
            head = minibatch_discrimination_head(features)
        self.critic_depth = len(trunk)
        return nn.Sequential(*trunk, *head)

    def critic_features(self, x, labels=None):
        return self.D[:self.critic_depth](self.discriminator_input(x, labels)).flatten(1)

    def generate_from(self, z, labels=None):
        if self.config["virtual_batchnorm"]:  # the reference statistics at G's current weights (Sec. 3.4)
            nn.run_reference(self.G, self.generator_input(self.G.reference_z, self.reference_labels()))
        return super().generate_from(z, labels)

    def reference_labels(self):
        """The labels of the reference batch (a conditional model's); none by default."""
        return None

    # ---- losses ---------------------------------------------------------------------------------
    @property
    def real_target(self):
        return self.config["label_smoothing"]  # Sec. 3.4: alpha for real samples, 0 for fake ones

    def generator_loss(self, fake, labels, critic):
        if self.config["feature_matching"]:
            # Sec. 3.1: ||E_x f(x) - E_z f(G(z))||^2 replaces -log D(G(z))
            return feature_matching_loss(critic.features(critic.real, labels), critic.features(fake, labels))
        return super().generator_loss(fake, labels, critic)

    def critic_terms(self, real, fake, labels):
        terms = super().critic_terms(real, fake, labels)
        if self.history_d is not None:
            terms["historical_average_d"] = self.history_d.penalty()  # Sec. 3.3, on D's cost
        return terms

    def generator_terms(self, fake, labels, critic):
        terms = super().generator_terms(fake, labels, critic)
        if self.history_g is not None:
            terms["historical_average_g"] = self.history_g.penalty()  # Sec. 3.3, on G's cost
        return terms

    def after_critic_step(self):
        super().after_critic_step()
        if self.history_d is not None:
            self.history_d.update()

    def after_generator_step(self):
        super().after_generator_step()
        if self.history_g is not None:
            self.history_g.update()

    # ---- checkpoints ----------------------------------------------------------------------------
    def extra_state(self):
        return {name: history for name, history in (("history_d", self.history_d), ("history_g", self.history_g))
                if history is not None}
