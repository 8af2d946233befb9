"""One GAIL iteration in plain PyTorch, float64: the twin of scratchgen's GAIL.rewards followed
by Agent.update (models/gail.py, agent.py, trust_region.py), written from the papers with torch's
own pieces rather than from scratchgen's code: torch.distributions for the policies'
log-likelihoods, KLs and entropies, binary_cross_entropy_with_logits for D's loss, torch.optim.Adam,
torch.autograd.grad(create_graph=True) for the Fisher-vector product, and GAE as a triangular
matrix of (gamma lam)^l times the TD errors rather than a backward loop.

Its networks have the attribute, layer names and shapes of scratchgen's (policy, value,
discriminator), so the test copies scratchgen's initial weights in by state_dict. scratchgen
rounds D's inputs, the advantages and V's targets to float32 (gail.py, agent.py); the twin rounds
at the same points (`float32`), which is all that keeps the two from agreeing to float64 rounding.
"""
import numpy
import torch
import torch.nn.functional as F
from torch.distributions import Categorical, Independent, Normal, kl_divergence
from torch.nn.utils import parameters_to_vector, vector_to_parameters


def float32(x):
    """x rounded to float32, kept float64."""
    return x.float().double()


def mlp(sizes):
    """Linear layers with tanh between them: the layout (and state_dict keys) of scratchgen's mlp."""
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out, dtype=torch.float64), torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1])


class ObservationNorm(torch.nn.Module):
    """(s - mean) / std over every observation seen, the running moments stored in float32."""

    def __init__(self, size):
        super().__init__()
        self.register_buffer("count", torch.zeros(1, dtype=torch.float64))
        self.register_buffer("mean", torch.zeros(size, dtype=torch.float64))
        self.register_buffer("var", torch.ones(size, dtype=torch.float64))

    @torch.no_grad()
    def update(self, observations):
        batch = torch.as_tensor(observations, dtype=torch.float64)
        n, total = len(batch), self.count + len(batch)
        delta = batch.mean(0) - self.mean
        # the moments of the union of the seen observations and the batch
        var = (self.var * self.count + batch.var(0, correction=0) * n + delta ** 2 * self.count * n / total) / total
        self.mean.copy_(float32(self.mean + delta * n / total))
        self.var.copy_(float32(var))
        self.count.copy_(total)

    def forward(self, observations):
        return (observations - self.mean) / (self.var + 1e-8).sqrt()


class Normalised(torch.nn.Module):
    def __init__(self, observation_size, net):
        super().__init__()
        self.observation_norm, self.net = ObservationNorm(observation_size), net

    def forward(self, observations):
        return self.net(self.observation_norm(observations))


class CategoricalPolicy(Normalised):
    def __init__(self, observation_size, choices, hidden):
        super().__init__(observation_size, mlp([observation_size, *hidden, choices]))

    def forward(self, observations):
        return Categorical(logits=super().forward(observations))


class GaussianPolicy(Normalised):
    """N(f(s), diag(exp(log_std))^2), log_std a free parameter (1, d)."""

    def __init__(self, observation_size, action_size, hidden):
        super().__init__(observation_size, mlp([observation_size, *hidden, action_size]))
        self.log_std = torch.nn.Parameter(torch.zeros(1, action_size, dtype=torch.float64))

    def forward(self, observations):
        mean = super().forward(observations)
        return Independent(Normal(mean, self.log_std.exp().expand_as(mean)), 1)


def flat_grad(output, parameters, **options):
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(output, parameters, **options)])


def conjugate_gradient(matvec, b, iterations, tolerance=1e-10):
    x, r = torch.zeros_like(b), b.clone()
    p, r_dot_r = r.clone(), r @ r
    for _ in range(iterations):
        if r_dot_r < tolerance:
            break
        f_p = matvec(p)
        alpha = r_dot_r / (p @ f_p)
        x, r = x + alpha * p, r - alpha * f_p
        new_r_dot_r = r @ r
        p, r_dot_r = r + (new_r_dot_r / r_dot_r) * p, new_r_dot_r
    return x


def trpo_step(policy, observations, actions, advantages, max_kl, damping, cg_iterations, entropy_weight,
              backtracks=10):
    """Schulman et al. 2015, Appendix C: s = F^-1 g by conjugate gradient, F v the gradient of
    (grad KL(pi_old || pi) . v), the step sqrt(2 delta / s.Fs) s halved until the surrogate
    improves within the KL bound."""
    parameters = list(policy.parameters())
    with torch.no_grad():
        old = policy(observations)

    def surrogate(new):
        ratio = (new.log_prob(actions) - old.log_prob(actions)).exp()
        return (ratio * advantages).mean() + entropy_weight * new.entropy().mean()

    new = policy(observations)
    g = flat_grad(surrogate(new), parameters, retain_graph=True)
    kl_gradient = flat_grad(kl_divergence(old, new).mean(), parameters, create_graph=True)

    def fisher(v):
        return flat_grad(kl_gradient @ v, parameters, retain_graph=True) + damping * v

    direction = conjugate_gradient(fisher, g, cg_iterations)
    full_step = (2 * max_kl / (direction @ fisher(direction))).sqrt() * direction
    with torch.no_grad():
        start, base = parameters_to_vector(parameters), surrogate(old)
        for k in range(backtracks):
            vector_to_parameters(start + 0.5 ** k * full_step, parameters)
            new = policy(observations)
            value, kl = surrogate(new), kl_divergence(old, new).mean()
            if value > base and kl <= max_kl:
                return {"surrogate_gain": float(value - base), "kl": float(kl), "step_fraction": 0.5 ** k,
                        "entropy": float(new.entropy().mean())}
        vector_to_parameters(start, parameters)
        return {"surrogate_gain": 0.0, "kl": 0.0, "step_fraction": 0.0, "entropy": float(old.entropy().mean())}


def advantages_and_returns(rewards, values, last_value, gamma, lam):
    """GAE (Schulman et al. 2016, Eq. 16): A_t = sum_l (gamma lam)^l delta_t+l; returns (A, A + V)."""
    deltas = rewards + gamma * torch.cat([values[1:], last_value.reshape(1)]) - values
    t = torch.arange(len(rewards), dtype=torch.float64)
    discounts = torch.triu((gamma * lam) ** (t[None, :] - t[:, None]).clamp(min=0))
    advantages = discounts @ deltas
    return advantages, advantages + values


class GAIL:
    """The networks and optimizers of scratchgen's GAIL for a discrete task, from its config."""

    def __init__(self, config, observation_size, choices):
        self.config, self.choices = config, choices
        self.policy = CategoricalPolicy(observation_size, choices, config["hidden"])
        self.value = Normalised(observation_size, mlp([observation_size, *config["hidden"], 1]))
        self.discriminator = mlp([observation_size + choices, *config["discriminator_hidden"], 1])
        self.value_optimizer = torch.optim.Adam(self.value.parameters(), lr=config["value_lr"])
        self.discriminator_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=config["discriminator_lr"])

    def pairs(self, observations, actions):
        return torch.cat([torch.as_tensor(observations, dtype=torch.float64),
                          F.one_hot(torch.as_tensor(actions), self.choices).double()], dim=1)

    def imitate(self, demonstrations):
        pairs = self.pairs(demonstrations.observations, demonstrations.actions)
        spread = pairs.std(0, correction=0)
        self.shift, self.scale = pairs.mean(0), torch.where(spread > 1e-6, spread, torch.ones_like(spread))
        self.expert_pairs = float32((pairs - self.shift) / self.scale)

    def rewards(self, episodes):
        """D (the probability that a pair is the policy's) ascends E_pi[log D] + E_E[log(1 - D)]
        (Ho & Ermon 2016, Algorithm 1, step 4); then each step's reward: log(1 - D(s, a)) with
        favor_zero_expert_reward, else -log D(s, a)."""
        observations = numpy.concatenate([episode.observations for episode in episodes])
        actions = numpy.concatenate([episode.actions for episode in episodes])
        policy_pairs = float32((self.pairs(observations, actions) - self.shift) / self.scale)
        for _ in range(self.config["discriminator_steps"]):
            policy_logits, expert_logits = self.discriminator(policy_pairs), self.discriminator(self.expert_pairs)
            loss = (F.binary_cross_entropy_with_logits(policy_logits, torch.ones_like(policy_logits))
                    + F.binary_cross_entropy_with_logits(expert_logits, torch.zeros_like(expert_logits)))
            self.discriminator_optimizer.zero_grad()
            loss.backward()
            self.discriminator_optimizer.step()
        with torch.no_grad():
            policy_logits = self.discriminator(policy_pairs)[:, 0]
            expert_logits = self.discriminator(self.expert_pairs)[:, 0]
        stats = {"loss_d": loss.item(), "d_policy": float(policy_logits.sigmoid().mean()),
                 "d_expert": float(expert_logits.sigmoid().mean())}
        if self.config["favor_zero_expert_reward"]:
            reward = F.logsigmoid(-policy_logits)
        else:
            reward = -F.logsigmoid(policy_logits)
        return list(reward.split([len(e) for e in episodes])), stats

    def update(self, episodes, rewards, orders):
        """GAE, a TRPO step on the standardised advantages, then V fitted by Adam to the returns,
        one pass per permutation of the steps in `orders`."""
        config = self.config
        for network in (self.policy, self.value):
            network.observation_norm.update(numpy.concatenate([episode.observations for episode in episodes]))
        advantages, targets = [], []
        with torch.no_grad():
            for episode, reward in zip(episodes, rewards):
                observations = torch.as_tensor(episode.observations, dtype=torch.float64)
                final = torch.as_tensor(episode.final_observation[None], dtype=torch.float64)
                values = self.value(observations)[:, 0]
                last_value = torch.zeros((), dtype=torch.float64) if episode.terminated else self.value(final)[0, 0]
                a, r = advantages_and_returns(reward, values, last_value, config["gamma"], config["lam"])
                advantages.append(a)
                targets.append(r)
        advantages, targets = torch.cat(advantages), float32(torch.cat(targets))
        advantages = float32((advantages - advantages.mean()) / (advantages.std(correction=0) + 1e-8))
        observations = torch.cat([torch.as_tensor(e.observations, dtype=torch.float64) for e in episodes])
        actions = torch.cat([torch.as_tensor(e.actions) for e in episodes])
        stats = trpo_step(self.policy, observations, actions, advantages, config["max_kl"], config["damping"],
                          config["cg_iterations"], config["entropy_weight"])
        for order in orders:
            losses = []
            for rows in torch.as_tensor(order).split(config["value_batch"]):
                loss = F.mse_loss(self.value(observations[rows])[:, 0], targets[rows])
                self.value_optimizer.zero_grad()
                loss.backward()
                self.value_optimizer.step()
                losses.append(loss.item())
        return {**stats, "value_loss": sum(losses) / len(losses)}
