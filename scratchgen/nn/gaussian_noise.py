"""Gaussian noise layer: x + N(0, std^2) while training, the identity in eval(); the
Improved-GAN MNIST discriminator adds it to its input (std 0.3) and after every hidden layer
(std 0.5) (Salimans et al. 2016, openai/improved-gan train_mnist_feature_matching.py)."""
from .. import Tensor, randn_like
from ..arguments import number
from .module import Module


class GaussianNoise(Module):
    def __init__(self, std):
        super().__init__()
        self.std = number(std, "GaussianNoise", "std", minimum=0)

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"GaussianNoise: argument 'input' must be a Tensor, got {type(input).__name__}")
        if not self.training or self.std == 0:
            return input
        return input + self.std * randn_like(input)  # the global generator, as dropout's masks

    def extra_repr(self):
        return f"std={self.std}"
