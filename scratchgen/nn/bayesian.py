"""BayesianLinear: a linear layer whose weights have a factorised Gaussian posterior
q(W) = prod N(mu, sigma^2) with sigma = log(1 + exp(rho)) (Blundell et al. 2015, "Weight
Uncertainty in Neural Networks", Sec. 3.2), sampled by the local reparameterisation trick
(Kingma, Salimans & Welling 2015, "Variational Dropout and the Local Reparameterization
Trick", Sec. 2.3): the pre-activations are drawn, not the weights. This is the BNNLayer of
VIME's dynamics model (Houthooft et al. 2016; openai/vime dynamics/bnn.py), in torch's layout
(weight (out_features, in_features)) and with fresh noise for every row of the batch.

    layer = nn.BayesianLinear(4, 3, prior_std=0.5)
    y = layer(x, generator=sg.Generator(0))        # one sample of the activations
    loss = nll + layer.kl_divergence()             # KL[q || prior], closed form
"""
import math

from .. import empty, randn
from .. import functional as F
from ..arguments import integer, number
from . import init
from .module import Module
from .parameter import Parameter


def gaussian_kl_divergence(mu_p, std_p, mu_q, std_q):
    """KL[p || q] between factorised Gaussians p = prod N(mu_p, std_p^2), q = prod N(mu_q, std_q^2):
    a 0-d Tensor, the sum over the elements of the arguments broadcast together. mu_q and std_q
    may be numbers (e.g. a prior N(0, prior_std^2))."""
    # KL of two univariate Gaussians: log(s_q / s_p) + (s_p^2 + (m_p - m_q)^2) / (2 s_q^2) - 1/2 (bnn.py kl_div_p_q)
    return (F.log(std_q / std_p) + (std_p * std_p + (mu_p - mu_q) ** 2) / (2 * std_q * std_q) - 0.5).sum()


def positive(value, where, arg):
    """A finite number > 0, as a float; else a ValueError (a TypeError if not a number) naming `where` and `arg`."""
    value = float(number(value, where, arg))
    if not 0 < value < math.inf:
        raise ValueError(f"{where}: {arg} must be a positive finite number, got {value!r}")
    return value


def std_of(rho):
    """sigma = log(1 + exp(rho)) (Blundell et al. 2015, Sec. 3.2; VIME Sec. 2.5), as F.softplus computes it."""
    return F.softplus(rho)


class BayesianLinear(Module):
    """y ~ q(y | x) for W ~ N(weight_mu, std_of(weight_rho)^2), b ~ N(bias_mu, std_of(bias_rho)^2),
    drawn per row of the input by the local reparameterisation trick. The prior is N(0, prior_std^2)
    on every weight and bias. As VIME's reference, mu starts from N(0, init_mu_std^2) (there 1.0)
    and every std at prior_std."""

    def __init__(self, in_features, out_features, prior_std=0.5, init_mu_std=1.0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        self.in_features = integer(in_features, name, "in_features", 1)
        self.out_features = integer(out_features, name, "out_features", 1)
        self.prior_std = positive(prior_std, name, "prior_std")
        self.init_mu_std = float(number(init_mu_std, name, "init_mu_std", 0.0, None, "a non-negative number"))
        self.weight_mu = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        self.weight_rho = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        self.bias_mu = Parameter(empty(out_features, dtype=dtype, device=device))
        self.bias_rho = Parameter(empty(out_features, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        rho = math.log(math.expm1(self.prior_std))  # inverse of sigma = log(1 + e^rho) (bnn.py std_to_log)
        for mu, rho_param in ((self.weight_mu, self.weight_rho), (self.bias_mu, self.bias_rho)):
            init.normal_(mu, 0.0, self.init_mu_std, generator=generator)
            init.constant_(rho_param, rho)

    def forward(self, input, generator=None):
        """One sample of the activations, (..., out_features), for input (..., in_features); the
        noise comes from `generator` (default: the global one)."""
        mean = F.linear(input, self.weight_mu, self.bias_mu)  # Kingma et al. 2015, Eq. 6: gamma = x mu_W + mu_b
        weight_std, bias_std = std_of(self.weight_rho), std_of(self.bias_rho)
        # Kingma et al. 2015, Eq. 6: delta = x^2 sigma_W^2 + sigma_b^2
        variance = F.linear(input * input, weight_std * weight_std, bias_std * bias_std)
        noise = randn(*mean.shape, dtype=mean.dtype, device=mean.device, generator=generator)
        return mean + F.sqrt(variance) * noise  # Eq. 6: b = gamma + sqrt(delta) * eps, eps ~ N(0, 1)

    def kl_divergence(self):
        """KL[q(W, b) || N(0, prior_std^2)], a 0-d Tensor (Blundell et al. 2015, Eq. 2's complexity cost)."""
        return (gaussian_kl_divergence(self.weight_mu, std_of(self.weight_rho), 0.0, self.prior_std)
                + gaussian_kl_divergence(self.bias_mu, std_of(self.bias_rho), 0.0, self.prior_std))

    def kl_hessian_diagonal(self):
        """{parameter name: Tensor}: the diagonal of the Hessian of KL[q(phi') || q(phi)] in phi' at
        phi' = phi (its off-diagonal entries are 0 there), for each of the four parameters."""
        hessian = {}
        for prefix in ("weight", "bias"):
            rho = getattr(self, prefix + "_rho").detach()
            variance = std_of(rho) ** 2
            hessian[prefix + "_mu"] = 1 / variance  # VIME Sec. 2.5: d2 KL / d mu^2 = 1 / log^2(1 + e^rho)
            # VIME Sec. 2.5: d2 KL / d rho^2 = 2 e^(2 rho) / (1 + e^rho)^2 / log^2(1 + e^rho)
            hessian[prefix + "_rho"] = 2 * F.sigmoid(rho) ** 2 / variance
        return hessian

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, prior_std={self.prior_std}"
