"""Unrolled GAN (Metz, Poole, Pfau & Sohl-Dickstein 2016, Unrolled Generative Adversarial
Networks): G descends its loss against the critic D would be after K more of its own
optimizer steps, and differentiates through those steps, so that G is pulled toward what D's
answer to G's move will be rather than toward D as it is (which makes it hop from mode to mode):

    theta_D^0 = theta_D,  theta_D^{k+1} = theta_D^k + eta^k df(theta_G, theta_D^k)/dtheta_D^k     (Eq. 7)
    f_K(theta_G, theta_D) = f(theta_G, theta_D^K(theta_G, theta_D))                    (the surrogate loss)
    theta_G <- theta_G - eta df_K(theta_G, theta_D)/dtheta_G                                      (Eq. 10)
    theta_D <- theta_D + eta df(theta_G, theta_D)/dtheta_D                                        (Eq. 11)

with f GAN's value function E_x[log D(x)] + E_z[log(1 - D(G(z)))] (gan.py). The unrolled steps
are D's own: its loss and its Adam, continued from its moments and step count (the official
notebook unrolls its Keras Adam the same way), taken by `optim.Adam.differentiable_step` on D's
weights as Tensors and evaluated by `nn.functional_call`. df_K/dtheta_G holds, besides
df/dtheta_G at theta_D^K, the term through dtheta_D^K/dtheta_G: second derivatives of f through
every step (Sec. 2.3), which `unroll_gradient="first-order"` drops (theta_D^K taken as a constant:
the cheaper variant). K = 0 is the plain GAN. D is updated on the plain loss only (Eq. 11).

Defaults: the official demo notebook (poolio/unrolled_gan): G and D MLPs with 2 hidden tanh
layers of 128, z of 256, batch 512, Adam with beta1 0.5, lr 1e-4 for D and 1e-3 for G, K = 5,
25,000 steps, G on the minimax f itself (it minimises the unrolled loss D maximises); the paper's own 2-D
networks (G 2 x 128 ReLU, D 1 x 128) are `--set activation=relu hidden_d=[128]`. Where this
differs from the notebook: G's update follows D's in the one loop (adversarial.py), so the
unroll starts from D's updated weights, where the notebook updates both from the same ones;
Adam is torch's (eps outside the bias correction, Keras's inside); the data are the library's
8 Gaussians (radius 2 / 1.414, std 0.02 / 1.414; the notebook's radius 1 and std 0.01, and the
paper's radius 2 and std 0.02, are the same ring scaled).
"""
from .. import nn, optim
from .. import grad, set_grad_enabled
from .adversarial import AdversarialModel
from .gan import discriminator_loss, non_saturating_generator_loss
from .mlp import mlp
from .settings import MAX_LAYERS, MAX_UNITS, Setting, declare

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}
G_LOSSES = ("minimax", "non-saturating")
UNROLL_GRADIENTS = ("second-order", "first-order")
MAX_UNROLL = 100


def widths(network):
    units = Setting(int, "units", at_least=1, at_most=MAX_UNITS)
    return Setting(list, f"widths of {network}'s hidden layers", item=units, length=(1, MAX_LAYERS))


def minimax_value(critic, real, fake, labels):
    """f = E_x[log D(x)] + E_z[log(1 - D(G(z)))] for the critic `critic` (Goodfellow et al.'s Eq. 1,
    the f of Eq. 7): minus D's loss."""
    return -discriminator_loss(critic(real, labels), critic(fake, labels))


class CriticAt:
    """D at the weights `weights` ({parameter name: Tensor}), called as the loop's critics are,
    (x, labels) -> logits; `real` is the real batch those weights were unrolled on."""

    def __init__(self, model, weights, real):
        self.model, self.weights, self.real = model, weights, real

    def __call__(self, x, labels=None):
        return nn.functional_call(self.model.D, self.weights, self.model.discriminator_input(x, labels))


class UnrolledGAN(AdversarialModel):
    name = "unrolled-gan"
    paper = "Metz, Poole, Pfau & Sohl-Dickstein 2016, Unrolled Generative Adversarial Networks"
    datasets = ("8gaussians", "25gaussians", "swissroll")
    defaults = dict(unroll=5, unroll_gradient="second-order", g_loss="minimax", betas=[0.5, 0.999])
    dataset_defaults = {"toy": dict(hidden_g=[128, 128], hidden_d=[128, 128], activation="tanh", z_dim=256,
                                    batch_size=512, lr=1e-4, lr_g=1e-3, steps=25000)}  # the notebook's max_iter
    settings = declare(
        "betas", "z_dim", "batch_size", "steps",
        unroll=Setting(int, "K: D's optimizer steps G's loss looks ahead through (Eq. 7); 0 is the plain GAN",
                       at_least=0, at_most=MAX_UNROLL),
        unroll_gradient=Setting(str, "G's gradient through the K steps (second-order, Eq. 10) or with "
                                "theta_D^K held constant (first-order, the cheaper variant)", choices=UNROLL_GRADIENTS),
        g_loss=Setting(str, "G's loss at theta_D^K: the minimax f itself (the paper, the notebook) or "
                       "the non-saturating -log D(G(z))", choices=G_LOSSES),
        hidden_g=widths("G"), hidden_d=widths("D"),
        activation=Setting(str, "the hidden layers' activation in G and D", choices=tuple(ACTIVATIONS)),
        lr=Setting(float, "learning rate of D's Adam, and of its unrolled steps", above=0),
        lr_g=Setting(float, "learning rate of G's Adam", above=0))

    # ---- networks ---------------------------------------------------------------------------
    def build_generator(self):
        return mlp([self.z_dim, *self.config["hidden_g"], self.data_size], ACTIVATIONS[self.config["activation"]])

    def build_critic(self):
        return mlp([self.data_size, *self.config["hidden_d"], 1], ACTIVATIONS[self.config["activation"]])

    def make_optimizers(self):
        betas = tuple(self.config["betas"])
        return (optim.Adam(self.critic_parameters(), lr=self.config["lr"], betas=betas),
                optim.Adam(self.G.parameters(), lr=self.config["lr_g"], betas=betas))

    # ---- losses -----------------------------------------------------------------------------
    def critic_losses(self, real, fake, labels):
        """D descends -f (Eq. 11): the two binary cross-entropies of gan.py."""
        return {"loss_d": -minimax_value(self.discriminate, real, fake, labels)}

    def critic_for_generator(self, rounds, fake):
        """D at theta_D^K, unrolled on the last round's real batch and G's batch `fake`."""
        real, labels = rounds[-1]
        return CriticAt(self, self.unrolled_weights(real, fake, labels), real)

    def unrolled_weights(self, real, fake, labels):
        """theta_D^K: {name: Tensor}, D's weights after `unroll` steps of D's Adam on -f(theta_G,
        theta_D^k) (Eq. 7), a function of theta_G through `fake` (second-order), or constants
        (first-order). D, its optimizer and their states are left as they are."""
        second_order = self.config["unroll_gradient"] == "second-order"
        names = [name for name, _ in self.D.named_parameters()]
        weights, states = [parameter.detach() for parameter in self.D.parameters()], None
        fake = fake if second_order else fake.detach()  # first order: the steps do not depend on theta_G
        for _ in range(self.config["unroll"]):
            weights = [w if w.requires_grad else w.detach().requires_grad_() for w in weights]
            critic = CriticAt(self, dict(zip(names, weights)), real)
            loss = -minimax_value(critic, real, fake, labels)  # -f(theta_G, theta_D^k): D's loss (Eq. 11) at theta_D^k
            grads = grad(loss, weights, create_graph=second_order)
            with set_grad_enabled(second_order):  # first order: theta_D^{k+1} a constant
                # theta_D^{k+1} = theta_D^k + eta df/dtheta_D^k (Eq. 7), the step of D's Adam
                weights, states = self.optimizer_d.differentiable_step(weights, list(grads), states)
        return dict(zip(names, weights))

    def generator_loss(self, fake, labels, critic):
        """G descends f_K = f(theta_G, theta_D^K) (Eq. 10), or -log D_K(G(z)) with g_loss non-saturating."""
        if self.config["g_loss"] == "minimax":
            return minimax_value(critic, critic.real, fake, labels)
        return non_saturating_generator_loss(critic(fake, labels))
