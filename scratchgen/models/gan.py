"""GAN (Goodfellow et al. 2014, Generative Adversarial Nets): a generator and a discriminator
playing the minimax game of Eq. 1,

    min_G max_D  E_x[log D(x)] + E_z[log(1 - D(G(z)))],

trained by the paper's Algorithm 1 (adversarial.py's loop): k steps on D, then one on G. G
minimises either the minimax objective log(1 - D(G(z))) or, as Sec. 3 recommends because that
one saturates early in training, the non-saturating -log D(G(z)).

D outputs a logit l, with D(x) = sigmoid(l); the log-probabilities are computed from logits
(log sigmoid(l) = -softplus(-l), log(1 - sigmoid(l)) = -softplus(l)) so they never overflow.
`GANLosses` gives these losses to every model that plays this game (GAN here, DCGAN, the cGANs).

`GAN` is the MLP model: the paper's k = 1; the networks are the 3 x 512 ReLU MLPs of mlp.py (the
paper's own MNIST nets were a maxout D with dropout and a wider G, trained with SGD and
momentum); Adam(2e-4, betas (0.5, 0.999)) on MNIST as Radford et al. 2015 (DCGAN), and on the
toys the batch of 256 and lr 1e-4 of the WGAN-GP toy code.
"""
from .. import functional as F
from .. import zeros_like
from .adversarial import AdversarialModel
from .gan_techniques import one_sided_smoothing
from .mlp import MLP_GAN_SHAPES, MLPPlayers
from .gan_switches import TECHNIQUE_DEFAULTS, TECHNIQUE_SETTINGS, TechniqueSwitches
from .settings import MAX_CRITIC_STEPS, Setting, declare

G_LOSSES = ("non-saturating", "minimax")


def discriminator_loss(real_logits, fake_logits, real_target=1.0):
    """-[log D(x) + log(1 - D(G(z)))], the negated value function of Eq. 1: binary
    cross-entropies labelling real samples 1 and generated ones 0, on D's logits (real ones
    real_target < 1 with Improved GAN's one-sided label smoothing, Salimans et al. 2016, Sec. 3.4)."""
    return (F.binary_cross_entropy_with_logits(real_logits, one_sided_smoothing(real_logits, real_target))
            + F.binary_cross_entropy_with_logits(fake_logits, zeros_like(fake_logits)))


def non_saturating_generator_loss(fake_logits):
    """-log D(G(z)) (Sec. 3: "maximize log D(G(z))"), from logits: softplus(-l)."""
    return F.softplus(-fake_logits).mean()


def minimax_generator_loss(fake_logits):
    """log(1 - D(G(z))), G's side of Eq. 1 (Algorithm 1), from logits: -softplus(l)."""
    return -F.softplus(fake_logits).mean()


class GANLosses:
    """The losses of Eq. 1 as adversarial.AdversarialModel hooks, for any networks; G's is the
    non-saturating one. real_target: the target of real samples (gan_switches.py smooths it)."""
    real_target = 1.0

    def critic_losses(self, real, fake, labels):
        """{"loss_d": -[log D(x) + log(1 - D(G(z)))]}, the negated value function of Eq. 1."""
        return {"loss_d": discriminator_loss(self.discriminate(real, labels), self.discriminate(fake, labels),
                                             self.real_target)}

    def generator_loss(self, fake, labels, critic):
        """-log D(G(z)), the non-saturating loss of Sec. 3 (the one DCGAN uses)."""
        return non_saturating_generator_loss(critic(fake, labels))


class GAN(TechniqueSwitches, GANLosses, MLPPlayers, AdversarialModel):
    """The MLP GAN of the module docstring, with Improved GAN's techniques (gan_switches.py) but
    virtual batch norm (its G has no batch norm)."""
    name = "gan"
    paper = "Goodfellow et al. 2014, Generative Adversarial Nets"
    critic_steps_setting = "k"
    defaults = dict(k=1, g_loss="non-saturating", betas=[0.5, 0.999], **TECHNIQUE_DEFAULTS)
    dataset_defaults = {
        "toy": dict(MLP_GAN_SHAPES["toy"], batch_size=256, lr=1e-4, steps=2000),
        "mnist": dict(MLP_GAN_SHAPES["mnist"], batch_size=100, lr=2e-4, steps=20000, pixels="tanh"),
    }
    settings = declare(
        "betas", "hidden", "z_dim", "batch_size", "lr", "steps", "pixels",
        k=Setting(int, "discriminator updates per generator update (Algorithm 1's k)", at_least=1,
                  at_most=MAX_CRITIC_STEPS),
        g_loss=Setting(str, "G's loss: non-saturating -log D(G(z)) (Sec. 3) or minimax log(1 - D(G(z)))",
                       choices=G_LOSSES), **TECHNIQUE_SETTINGS)
    setting_requirements = (
        (lambda s: not s["virtual_batchnorm"], "virtual_batchnorm replaces batch norms of G, and this G has none "
                                               "(dcgan's has)"),
        (lambda s: not (s["feature_matching"] and s["g_loss"] == "minimax"),
         "feature_matching replaces G's loss: leave g_loss non-saturating"))

    def __init__(self, config):
        if config["g_loss"] not in G_LOSSES:
            raise ValueError(f"gan: g_loss must be one of {G_LOSSES}, got {config['g_loss']!r}")
        super().__init__(config)

    def critic_layers(self):
        """(D's layers up to its last hidden layer, that layer's width, its last Linear layer)."""
        layers = list(MLPPlayers.build_critic(self))
        return layers[:-1], self.config["hidden"][-1], layers[-1:]

    def generator_loss(self, fake, labels, critic):
        """The g_loss setting's: minimax log(1 - D(G(z))) or non-saturating -log D(G(z)) (or feature matching)."""
        if self.config["g_loss"] == "minimax":
            return minimax_generator_loss(critic(fake, labels))
        return super().generator_loss(fake, labels, critic)
