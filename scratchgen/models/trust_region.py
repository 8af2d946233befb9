"""The TRPO policy step (Schulman et al. 2015, "Trust Region Policy Optimization"), Sec. 6 and
Appendix C:

    maximise  L(theta) = mean_t [ pi_theta(a_t|s_t) / pi_old(a_t|s_t) * A_t ]           (Eq. 14)
    subject to          mean_t KL(pi_old(.|s_t) || pi_theta(.|s_t)) <= delta

    g = grad L at theta_old;  F = the Hessian of the mean KL at theta_old (the Fisher matrix)
    s = F^-1 g by conjugate gradient, never forming F: each F v is the gradient of (grad KL . v),
        a double backward through the policy                                    (Appendix C.1)
    beta = sqrt(2 delta / s^T F s), the longest step whose quadratic model of the KL is delta
    theta = theta_old + 0.5^k beta s for the first k at which L improves and the KL <= delta
                                                                         (backtracking, App. C)

Every function works on the policy's parameters as one flat float64 NumPy vector, in the order
of policy.named_parameters(); the policy itself is evaluated at any such vector through
nn.functional_call, so a candidate step never overwrites the weights until it is accepted.
"""
import math

import numpy

from .. import nn
from .. import as_tensor, cat, grad, no_grad


def flat_parameters(module):
    """The parameters of `module` as one float64 vector."""
    return numpy.concatenate([p.detach().numpy().astype(numpy.float64).ravel() for p in module.parameters()])


def unflatten(module, vector):
    """{name: Tensor} holding `vector` cut into the shapes (and dtype) of `module`'s parameters."""
    tensors, start = {}, 0
    for name, parameter in module.named_parameters():
        size = parameter.numel()
        tensors[name] = as_tensor(vector[start:start + size].reshape(parameter.shape).astype(parameter.detach().numpy().dtype),
                                  device=parameter.device)
        start += size
    return tensors


def load_flat(module, vector):
    """Write `vector` into `module`'s parameters."""
    with no_grad():
        for parameter, value in zip(module.parameters(), unflatten(module, vector).values()):
            parameter.copy_(value)


def flat_grad(output, parameters, **options):
    """d output / d parameters as one vector Tensor (options: create_graph, retain_graph)."""
    return cat([g.reshape(-1) for g in grad(output, parameters, **options)])


def fisher_vector_product(mean_kl, parameters, damping):
    """v -> (F + damping I) v, F the Hessian of `mean_kl` (a scalar Tensor, the KL from the old
    policy, built with the parameters in the graph) at its own point: the gradient g = d KL / d
    theta is built once with create_graph, and each product is the gradient of g . v."""
    gradient = flat_grad(mean_kl, parameters, create_graph=True)
    dtype = gradient.detach().numpy().dtype

    def product(vector):
        v = as_tensor(vector.astype(dtype), device=gradient.device)
        hessian_v = flat_grad((gradient * v).sum(), parameters, retain_graph=True)
        return hessian_v.numpy().astype(numpy.float64) + damping * vector
    return product


def conjugate_gradient(matvec, b, iterations=10, tolerance=1e-10):
    """x with matvec(x) ~ b for a symmetric positive-definite matvec (Nocedal & Wright, Alg. 5.2),
    after `iterations` steps or once the squared residual is below `tolerance`."""
    x, r = numpy.zeros_like(b), b.copy()
    p, r_dot_r = r.copy(), r @ r
    for _ in range(iterations):
        if r_dot_r < tolerance:
            break
        f_p = matvec(p)
        alpha = r_dot_r / (p @ f_p)
        x += alpha * p
        r -= alpha * f_p
        new_r_dot_r = r @ r
        p = r + (new_r_dot_r / r_dot_r) * p
        r_dot_r = new_r_dot_r
    return x


def line_search(objective_and_kl, start, full_step, max_kl, backtracks=10):
    """(accepted vector, its objective's gain over start's, its KL, the fraction of the full step
    taken): the first
    start + 0.5^k full_step (k = 0, 1, ...) that improves `objective_and_kl(vector)` [0] over
    `start`'s and keeps its [1] at most max_kl; `start` itself (fraction 0) if none does."""
    base, _ = objective_and_kl(start)
    for k in range(backtracks):
        fraction = 0.5 ** k
        candidate = start + fraction * full_step
        value, kl = objective_and_kl(candidate)
        if math.isfinite(value) and value > base and kl <= max_kl:
            return candidate, value - base, kl, fraction
    return start, 0.0, 0.0, 0.0


def trpo_step(policy, observations, actions, advantages, max_kl, damping=0.1, cg_iterations=10, entropy_weight=0.0):
    """One TRPO update of `policy` on a batch (observations a Tensor (N, obs); actions as the
    policy takes them; advantages (N,) a Tensor), with the causal-entropy bonus entropy_weight *
    mean H(pi(.|s)) added to the surrogate (Ho & Ermon 2016, Eq. 6's lambda H(pi)). Returns
    {"surrogate_gain", "kl", "step_fraction", "entropy"}."""
    parameters = list(policy.parameters())
    with no_grad():
        old = policy(observations)
        old_log_prob = policy.log_prob(old, actions)

    def surrogate(distribution):  # Eq. 14, plus the entropy bonus
        ratio = (policy.log_prob(distribution, actions) - old_log_prob).exp()
        return (ratio * advantages).mean() + entropy_weight * policy.entropy(distribution).mean()

    current = policy(observations)
    g = flat_grad(surrogate(current), parameters, retain_graph=True).numpy().astype(numpy.float64)
    fisher = fisher_vector_product(policy.kl(old, current).mean(), parameters, damping)
    direction = conjugate_gradient(fisher, g, cg_iterations)
    shs = direction @ fisher(direction)
    start = flat_parameters(policy)
    if not (shs > 0 and math.isfinite(shs)):  # a zero gradient (all advantages 0): nothing to step along
        return {"surrogate_gain": 0.0, "kl": 0.0, "step_fraction": 0.0, "entropy": float(policy.entropy(old).mean())}
    full_step = math.sqrt(2 * max_kl / shs) * direction

    def objective_and_kl(vector):
        with no_grad():
            distribution = nn.functional_call(policy, unflatten(policy, vector), observations)
            return float(surrogate(distribution)), float(policy.kl(old, distribution).mean())
    accepted, gain, kl, fraction = line_search(objective_and_kl, start, full_step, max_kl)
    load_flat(policy, accepted)
    with no_grad():
        entropy = float(policy.entropy(policy(observations)).mean())
    return {"surrogate_gain": gain, "kl": kl, "step_fraction": fraction, "entropy": entropy}
