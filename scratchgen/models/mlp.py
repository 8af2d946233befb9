"""The multilayer perceptron every MLP model here is built from, and the MLP players of the
GANs in gan.py and wgan.py.

Those players are the networks of the WGAN-GP reference code for the toys
(igul222/improved_wgan_training, gan_toy.py: 3 hidden ReLU layers of 512 units in G and D, noise
of dimension 2) and of the WGAN reference code's MLP_G / MLP_D for images
(martinarjovsky/WassersteinGAN, models/mlp.py: 3 hidden ReLU layers of 512, z of dimension 100),
with a tanh output for images in [-1, 1].
"""
from .. import nn

MLP_GAN_SHAPES = {"toy": dict(hidden=[512, 512, 512], z_dim=2), "mnist": dict(hidden=[512, 512, 512], z_dim=100)}


def mlp(sizes, activation=nn.ReLU, output_activation=None):
    """Linear layers sizes[0] -> sizes[1] -> ... -> sizes[-1], with `activation` after each
    hidden layer and `output_activation` (a Module class, or None) after the last."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        last = i == len(sizes) - 2
        if not last:
            layers.append(activation())
        elif output_activation is not None:
            layers.append(output_activation())
    return nn.Sequential(*layers)


class MLPPlayers:
    """The networks of an adversarial.AdversarialModel as MLPs with the `hidden` sizes of the
    run (module docstring): G: z -> data, D: data -> one score per sample, (N, 1)."""
    datasets = ("8gaussians", "25gaussians", "swissroll", "mnist")

    def build_generator(self):
        image_output = nn.Tanh if self.config["dataset"] == "mnist" else None  # images live in [-1, 1]
        return mlp([self.z_dim, *self.config["hidden"], self.data_size], output_activation=image_output)

    def build_critic(self):
        return mlp([self.data_size, *self.config["hidden"], 1])
