"""The multilayer perceptron every MLP model here is built from."""
from .. import nn


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
