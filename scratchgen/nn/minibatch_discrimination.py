"""Minibatch discrimination (Salimans et al. 2016, Improved Techniques for Training GANs,
Sec. 3.2): each example's features are compared with every other example's in the batch, so
that the discriminator can see a batch whose samples are too alike (mode collapse).

    layer = nn.MinibatchDiscrimination(250, num_kernels=100, kernel_dim=5)
    out = layer(features)          # (N, 250 + 100): the features and the closeness o(x_i)
"""
from .. import Tensor, cat, empty
from ..arguments import integer
from . import init
from .module import Module
from .parameter import Parameter


def closeness(features, T, num_kernels):
    """o(x_i)_b = sum_j exp(-||M_i,b - M_j,b||_L1) for M = features T reshaped to
    (N, num_kernels, kernel_dim) (Sec. 3.2)."""
    m = (features @ T).reshape(features.shape[0], num_kernels, -1)
    l1 = (m.unsqueeze(1) - m.unsqueeze(0)).abs().sum(-1)  # (N, N, B): ||M_i,b - M_j,b||_L1
    return (-l1).exp().sum(1)


class MinibatchDiscrimination(Module):
    """M_i = f(x_i) T, with T in R^(A x B x C) (Sec. 3.2, eq. before Fig. 3);
    c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_L1); o(x_i)_b = sum_j c_b(x_i, x_j), j over the whole
    batch (x_i itself included, as the paper's sum and the reference code); the output is
    [f(x_i), o(x_i)], of width A + B. T is drawn from N(0, 0.05^2), as openai/improved-gan."""

    def __init__(self, in_features, num_kernels=100, kernel_dim=5, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        self.in_features = integer(in_features, name, "in_features", 1)
        self.num_kernels = integer(num_kernels, name, "num_kernels", 1)
        self.kernel_dim = integer(kernel_dim, name, "kernel_dim", 1)
        self.T = Parameter(empty(in_features, num_kernels * kernel_dim, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.T, 0.0, 0.05)

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"MinibatchDiscrimination: argument 'input' must be a Tensor, got {type(input).__name__}")
        if input.ndim != 2 or input.shape[1] != self.in_features:
            raise ValueError(f"MinibatchDiscrimination: expected input of shape (N, {self.in_features}), "
                             f"got {tuple(input.shape)} (argument input)")
        return cat([input, closeness(input, self.T, self.num_kernels)], 1)

    def extra_repr(self):
        return f"in_features={self.in_features}, num_kernels={self.num_kernels}, kernel_dim={self.kernel_dim}"
