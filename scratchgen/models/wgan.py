"""Wasserstein GANs with MLP networks (those of mlp.py) on the toys and MNIST.

WGAN (Arjovsky, Chintala & Bottou 2017, Wasserstein GAN, Algorithm 1): the critic f maximises
E_x[f(x)] - E_z[f(G(z))], an estimate of the Wasserstein-1 distance if f is 1-Lipschitz, which
is enforced crudely by clipping every weight to [-c, c] after each update; G maximises
E_z[f(G(z))]. RMSProp, lr 5e-5, c = 0.01, n_critic = 5, batch m = 64.

WGAN-GP (Gulrajani et al. 2017, Improved Training of Wasserstein GANs, Algorithm 1) replaces
the clipping by a penalty on the critic's gradient norm at random interpolates x_hat between
real and generated samples: lambda E[(||grad f(x_hat)||_2 - 1)^2]. The penalty is
differentiated through the critic's gradient (double backward). n_critic = 5, Adam(1e-4,
betas (0.5, 0.9)) as the reference code (Algorithm 1 says beta1 = 0), no batch norm in the
critic. lambda = 10 (Algorithm 1) on MNIST, and 0.1 on the 2-D toys, the default of the
reference toy code (gan_toy.py); with lambda = 10 the toy generator takes many more steps to
spread over the modes. Batch 256 on the toys (gan_toy.py), 50 on MNIST (gan_mnist.py).
"""
import functools

from .. import optim
from .. import grad, no_grad, rand
from .adversarial import AdversarialModel
from .mlp import MLP_GAN_SHAPES, MLPPlayers
from .settings import MAX_CRITIC_STEPS, Setting, declare

N_CRITIC = Setting(int, "critic updates per generator update", at_least=1, at_most=MAX_CRITIC_STEPS)


class WassersteinMLP(MLPPlayers, AdversarialModel):
    """The critic and generator losses both WGANs share."""
    critic_steps_setting = "n_critic"

    def wasserstein_estimate(self, real, fake, labels):
        # E[f(x)] - E[f(G(z))] (WGAN Eq. 3)
        return self.discriminate(real, labels).mean() - self.discriminate(fake, labels).mean()

    def generator_loss(self, fake, labels, critic):
        return -critic(fake, labels).mean()  # G ascends E[f(G(z))] (WGAN Algorithm 1, line 10)


class WGAN(WassersteinMLP):
    name = "wgan"
    paper = "Arjovsky, Chintala & Bottou 2017, Wasserstein GAN"
    defaults = dict(n_critic=5, clip=0.01, lr=5e-5)
    dataset_defaults = {
        "toy": dict(MLP_GAN_SHAPES["toy"], batch_size=256, steps=1000),
        "mnist": dict(MLP_GAN_SHAPES["mnist"], batch_size=64, steps=20000, pixels="tanh"),
    }
    settings = declare("lr", "hidden", "z_dim", "batch_size", "steps", "pixels", n_critic=N_CRITIC,
                       clip=Setting(float, "the critic's weights are clipped to [-clip, clip]", above=0))

    def make_optimizers(self):
        lr = self.config["lr"]
        return optim.RMSprop(self.critic_parameters(), lr=lr), optim.RMSprop(self.G.parameters(), lr=lr)

    def critic_losses(self, real, fake, labels):
        distance = self.wasserstein_estimate(real, fake, labels)
        return {"loss_d": -distance}  # the critic ascends the estimate (Algorithm 1, line 5)

    def after_critic_step(self):
        clip = self.config["clip"]
        with no_grad():
            for parameter in self.D.parameters():
                parameter.clamp_(-clip, clip)  # w <- clip(w, -c, c) (Algorithm 1, line 7)


class WGANGP(WassersteinMLP):
    name = "wgan-gp"
    paper = "Gulrajani et al. 2017, Improved Training of Wasserstein GANs"
    defaults = dict(n_critic=5, lr=1e-4, betas=[0.5, 0.9])
    dataset_defaults = {
        "toy": dict(MLP_GAN_SHAPES["toy"], batch_size=256, gp_lambda=0.1, steps=300),
        "mnist": dict(MLP_GAN_SHAPES["mnist"], batch_size=50, gp_lambda=10.0, steps=10000, pixels="tanh"),
    }
    settings = declare("lr", "betas", "hidden", "z_dim", "batch_size", "steps", "pixels", n_critic=N_CRITIC,
                       gp_lambda=Setting(float, "weight lambda of the gradient penalty", at_least=0))

    def critic_losses(self, real, fake, labels):
        epsilon = rand(len(real), *[1] * (real.ndim - 1), device=self.device, generator=self.rng)
        penalty = gradient_penalty(functools.partial(self.discriminate, labels=labels), real, fake, epsilon)
        distance = self.wasserstein_estimate(real, fake, labels)
        # L = E[D(x_tilde)] - E[D(x)] + lambda E[(||grad D(x_hat)||_2 - 1)^2] (Algorithm 1, line 7)
        return {"loss_d": -distance + self.config["gp_lambda"] * penalty, "gradient_penalty": penalty}


def gradient_penalty(critic, real, fake, epsilon):
    """E[(||grad_x critic(x_hat)||_2 - 1)^2] at x_hat = epsilon real + (1 - epsilon) fake
    (Gulrajani 2017, Algorithm 1, lines 6-7), differentiable w.r.t. the critic's weights:
    the gradient is taken with create_graph=True, so backward differentiates through it."""
    interpolates = (epsilon * real.detach() + (1 - epsilon) * fake.detach()).requires_grad_()
    (gradients,) = grad(critic(interpolates).sum(), [interpolates], create_graph=True)
    norms = gradients.flatten(1).norm(dim=1)  # its gradient is 0, not NaN, where a gradient is 0
    return (norms - 1).square().mean()
