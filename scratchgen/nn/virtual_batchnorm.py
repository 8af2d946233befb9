"""Virtual batch normalisation (Salimans et al. 2016, Improved Techniques for Training GANs,
Sec. 3.4): each example is normalised with the statistics of a reference batch, chosen once at
the start of training, combined with the example itself; the reference batch is normalised
with its own statistics. The generator runs on the reference batch first, every step (its
statistics depend on the current weights), then on the batch:

    g = nn.Sequential(nn.Linear(100, 500), nn.VirtualBatchNorm(500), nn.Softplus(), ...)
    nn.run_reference(g, z_reference)     # every VirtualBatchNorm keeps the reference statistics
    x = g(z)                             # each row normalised with them and with itself
"""
from .. import Tensor, ones, zeros
from ..arguments import integer, number
from .module import Module
from .parameter import Parameter


def _own_moments(input):
    """Each example's mean and mean of squares per channel, over its spatial positions."""
    spatial = tuple(range(2, input.ndim))
    if not spatial:
        return input, input * input
    return input.mean(spatial, keepdim=True), (input * input).mean(spatial, keepdim=True)


def reference_statistics(reference):
    """(n_ref, mean, mean of squares) per channel of the reference batch."""
    mean, square = _own_moments(reference)
    return reference.shape[0], mean.mean(0, keepdim=True), square.mean(0, keepdim=True)


def virtual_batch_norm(input, reference, weight, bias, eps, own_batch=False):
    """Normalise input with the reference statistics combined with each example's own, as the
    class docstring says (own_batch: input is the reference batch, normalised by them alone)."""
    n_ref, mean, square = reference
    if not own_batch:
        a = 1.0 / (n_ref + 1)
        own_mean, own_square = _own_moments(input)
        mean, square = (1 - a) * mean + a * own_mean, (1 - a) * square + a * own_square
    shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    return (input - mean) / (square - mean * mean + eps).sqrt() * weight.reshape(shape) + bias.reshape(shape)


class VirtualBatchNorm(Module):
    """Over dim 1 of (N, C) or (N, C, ...) inputs. With mu_ref, s_ref the reference batch's
    mean and mean of squares per channel (over its rows and spatial positions) and
    mu_i, s_i example i's own (over its spatial positions; for (N, C) the example itself),
    example i uses mean = (1 - a) mu_ref + a mu_i and var = (1 - a) s_ref + a s_i - mean^2,
    a = 1 / (n_ref + 1), as openai/improved-gan's VBN; then gamma (x - mean) / sqrt(var + eps) + beta."""

    def __init__(self, num_features, eps=1e-5, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        self.num_features = integer(num_features, name, "num_features", 1)
        self.eps = number(eps, name, "eps", minimum=0)
        self.weight = Parameter(ones(num_features, dtype=dtype, device=device))
        self.bias = Parameter(zeros(num_features, dtype=dtype, device=device))
        self.collecting_reference = False
        self.reference = None  # (n_ref, mean, mean of squares), kept by the last reference pass

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"VirtualBatchNorm: argument 'input' must be a Tensor, got {type(input).__name__}")
        if input.ndim < 2 or input.shape[1] != self.num_features:
            raise ValueError(f"VirtualBatchNorm: expected input of shape (N, {self.num_features}, ...), got "
                             f"{tuple(input.shape)} (argument input)")
        if self.collecting_reference:
            self.reference = reference_statistics(input)
        elif self.reference is None:
            raise RuntimeError("VirtualBatchNorm: no reference statistics; call nn.run_reference(model, "
                               "reference_batch) before the model's forward")
        return virtual_batch_norm(input, self.reference, self.weight, self.bias, self.eps,
                                  own_batch=self.collecting_reference)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}"


def run_reference(module, *inputs):
    """module(*inputs) with every VirtualBatchNorm in it normalising by, and keeping, the
    statistics of this reference batch; returns the output."""
    layers = [m for m in module.modules() if isinstance(m, VirtualBatchNorm)]
    for layer in layers:
        layer.collecting_reference = True
    try:
        return module(*inputs)
    finally:
        for layer in layers:
            layer.collecting_reference = False
