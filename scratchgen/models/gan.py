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
from .. import ones_like, zeros_like
from .adversarial import AdversarialModel
from .mlp import MLP_GAN_SHAPES, MLPPlayers
from .settings import MAX_CRITIC_STEPS, Setting, declare

G_LOSSES = ("non-saturating", "minimax")


def discriminator_loss(real_logits, fake_logits):
    """-[log D(x) + log(1 - D(G(z)))], the negated value function of Eq. 1: binary
    cross-entropies labelling real samples 1 and generated ones 0, on D's logits."""
    return (F.binary_cross_entropy_with_logits(real_logits, ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, zeros_like(fake_logits)))


def non_saturating_generator_loss(fake_logits):
    """-log D(G(z)) (Sec. 3: "maximize log D(G(z))"), from logits: softplus(-l)."""
    return F.softplus(-fake_logits).mean()


def minimax_generator_loss(fake_logits):
    """log(1 - D(G(z))), G's side of Eq. 1 (Algorithm 1), from logits: -softplus(l)."""
    return -F.softplus(fake_logits).mean()


class GANLosses:
    """The losses of Eq. 1 as adversarial.AdversarialModel hooks, for any networks; G's is the
    non-saturating one."""

    def critic_losses(self, real, fake, labels):
        """{"loss_d": -[log D(x) + log(1 - D(G(z)))]}, the negated value function of Eq. 1."""
        return {"loss_d": discriminator_loss(self.discriminate(real, labels), self.discriminate(fake, labels))}

    def generator_loss(self, fake, labels, critic):
        """-log D(G(z)), the non-saturating loss of Sec. 3 (the one DCGAN uses)."""
        return non_saturating_generator_loss(critic(fake, labels))


class GAN(GANLosses, MLPPlayers, AdversarialModel):
    name = "gan"
    paper = "Goodfellow et al. 2014, Generative Adversarial Nets"
    critic_steps_setting = "k"
    defaults = dict(k=1, g_loss="non-saturating", betas=[0.5, 0.999])
    dataset_defaults = {
        "toy": dict(MLP_GAN_SHAPES["toy"], batch_size=256, lr=1e-4, steps=2000),
        "mnist": dict(MLP_GAN_SHAPES["mnist"], batch_size=100, lr=2e-4, steps=20000, pixels="tanh"),
    }
    settings = declare(
        "betas", "hidden", "z_dim", "batch_size", "lr", "steps", "pixels",
        k=Setting(int, "discriminator updates per generator update (Algorithm 1's k)", at_least=1,
                  at_most=MAX_CRITIC_STEPS),
        g_loss=Setting(str, "G's loss: non-saturating -log D(G(z)) (Sec. 3) or minimax log(1 - D(G(z)))",
                       choices=G_LOSSES))

    def __init__(self, config):
        if config["g_loss"] not in G_LOSSES:
            raise ValueError(f"gan: g_loss must be one of {G_LOSSES}, got {config['g_loss']!r}")
        super().__init__(config)

    def generator_loss(self, fake, labels, critic):
        """The g_loss setting's: minimax log(1 - D(G(z))) or non-saturating -log D(G(z))."""
        if self.config["g_loss"] == "minimax":
            return minimax_generator_loss(critic(fake, labels))
        return super().generator_loss(fake, labels, critic)
