"""The agents (TRPO, GAIL, behavioural cloning) and their parts: the Fisher-vector product is the
Fisher matrix times v, conjugate gradient solves, the line search keeps the KL bound, GAE is its
two limits, the policies' log-likelihoods, KLs and entropies against torch.distributions and by
finite differences; trained on CartPole, TRPO, GAIL and cloning beat a random policy, a run
resumes bit for bit, and `scratchgen sample` writes an episode as a GIF."""
import io
import math

import numpy
import pytest
from hypothesis import given, settings, strategies as st

import scratchgen as sg
from scratchgen import train
from scratchgen.data import environments
from scratchgen.models.agent import advantages_and_returns
from scratchgen.models.policies import CategoricalPolicy, GaussianPolicy
from scratchgen.models.trust_region import (conjugate_gradient, fisher_vector_product, flat_parameters, line_search,
                                            trpo_step)
from scratchgen.train.config import UsageError

pytest.importorskip("gymnasium")
torch = pytest.importorskip("torch")
RANDOM_CARTPOLE = 22.0  # the mean return of uniformly random actions on CartPole-v1 (about 22 steps)
SMALL = dict(hidden=[16, 16], batch_size=1000, log_every=1, value_epochs=2)


# ---- the TRPO step ---------------------------------------------------------------------------------
def test_fisher_vector_product_is_the_explicit_fisher_matrix_times_v():
    """F = mean_s J(s)^T (diag p - p p^T) J(s), J = d logits / d theta: the Fisher matrix of a
    categorical policy, built column by column from first derivatives alone."""
    sg.manual_seed(0)
    policy = CategoricalPolicy(3, 4, hidden=(5,)).double()
    observations = sg.as_tensor(numpy.random.default_rng(0).normal(size=(6, 3)))
    parameters = list(policy.parameters())
    size = flat_parameters(policy).size
    fisher = numpy.zeros((size, size))
    logits = policy(observations)
    p = numpy.exp(logits.detach().numpy() - logits.detach().numpy().max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    for row in range(len(p)):
        jacobian = numpy.stack([numpy.concatenate([g.numpy().ravel() for g in sg.grad(logits[row, k], parameters,
                                                                                       retain_graph=True)])
                                for k in range(4)])
        fisher += jacobian.T @ (numpy.diag(p[row]) - numpy.outer(p[row], p[row])) @ jacobian / len(p)
    with sg.no_grad():
        old = policy(observations)
    product = fisher_vector_product(policy.kl(old, policy(observations)).mean(), parameters, damping=0.1)
    v = numpy.random.default_rng(1).normal(size=size)
    numpy.testing.assert_allclose(product(v), fisher @ v + 0.1 * v, rtol=1e-9, atol=1e-12)


def test_conjugate_gradient_solves_a_symmetric_positive_definite_system():
    rng = numpy.random.default_rng(0)
    a = rng.normal(size=(8, 8))
    matrix = a @ a.T + 8 * numpy.eye(8)
    b = rng.normal(size=8)
    numpy.testing.assert_allclose(conjugate_gradient(lambda v: matrix @ v, b, iterations=20, tolerance=1e-24), numpy.linalg.solve(matrix, b),
                                  rtol=1e-8)


def test_line_search_takes_the_longest_halving_within_the_kl_bound():
    # objective x . 1 improves along the step; KL = |x|^2 allows |x|^2 <= 0.1, so 1/4 of a step of length 1
    accepted, gain, kl, fraction = line_search(lambda x: (x.sum(), x @ x), numpy.zeros(4), numpy.full(4, 0.5), 0.1)
    assert fraction == 0.25 and kl <= 0.1 and gain == pytest.approx(0.5)
    # no halving improves: the start is kept
    assert line_search(lambda x: (-x.sum(), 0.0), numpy.zeros(2), numpy.ones(2), 1.0)[3] == 0.0


def test_a_trpo_step_improves_the_surrogate_and_keeps_the_mean_kl_below_its_bound():
    sg.manual_seed(0)
    policy = CategoricalPolicy(4, 2, hidden=(8,))
    rng = numpy.random.default_rng(0)
    observations = sg.as_tensor(rng.normal(size=(256, 4)).astype(numpy.float32))
    actions = rng.integers(0, 2, 256)
    advantages = sg.as_tensor(numpy.where(actions == 1, 1.0, -1.0).astype(numpy.float32))
    with sg.no_grad():
        before = policy(observations)
    stats = trpo_step(policy, observations, actions, advantages, max_kl=0.01)
    with sg.no_grad():
        kl = float(policy.kl(before, policy(observations)).mean())
    assert 0 < kl <= 0.01 and stats["kl"] == pytest.approx(kl, rel=1e-4) and stats["surrogate_gain"] > 0


def test_generalised_advantages_are_td_errors_at_lambda_0_and_returns_minus_values_at_lambda_1():
    rewards, values = numpy.array([1.0, 0.5, 2.0]), numpy.array([0.3, 0.2, 0.1])
    td, _ = advantages_and_returns(rewards, values, 7.0, False, 0.9, 0.0)
    numpy.testing.assert_allclose(td, rewards + 0.9 * numpy.array([0.2, 0.1, 7.0]) - values)
    full, targets = advantages_and_returns(rewards, values, 7.0, True, 0.9, 1.0)
    returns = numpy.array([1 + 0.9 * 0.5 + 0.81 * 2, 0.5 + 0.9 * 2, 2.0])  # terminated: nothing after the end
    numpy.testing.assert_allclose(full, returns - values)
    numpy.testing.assert_allclose(targets, returns)


# ---- the policies' distributions -------------------------------------------------------------------
@settings(max_examples=15, deadline=None)
@given(rows=st.integers(1, 4), size=st.integers(1, 3), seed=st.integers(0, 10 ** 6))
def test_gaussian_policy_log_prob_kl_and_entropy_match_torch_and_their_gradients_check(rows, size, seed):
    rng = numpy.random.default_rng(seed)
    policy = GaussianPolicy(2, size, hidden=(3,))
    old, new = (rng.normal(size=(rows, 2 * size)) * 0.5 for _ in range(2))
    actions = rng.normal(size=(rows, size))
    normal = [torch.distributions.Normal(torch.tensor(p[:, :size]), torch.tensor(p[:, size:]).exp()) for p in (old, new)]
    numpy.testing.assert_allclose(policy.log_prob(sg.as_tensor(new), actions).numpy(),
                                  normal[1].log_prob(torch.tensor(actions)).sum(1).numpy(), rtol=1e-10)
    numpy.testing.assert_allclose(policy.kl(sg.as_tensor(old), sg.as_tensor(new)).numpy(),
                                  torch.distributions.kl_divergence(*normal).sum(1).numpy(), rtol=1e-9, atol=1e-12)
    numpy.testing.assert_allclose(policy.entropy(sg.as_tensor(new)).numpy(), normal[1].entropy().sum(1).numpy())
    for f in (lambda p: policy.log_prob(p, actions), lambda p: policy.kl(sg.as_tensor(old), p), policy.entropy):
        assert sg.gradcheck(f, (sg.tensor(new, requires_grad=True),))
        assert sg.gradgradcheck(f, (sg.tensor(new, requires_grad=True),))


@settings(max_examples=15, deadline=None)
@given(rows=st.integers(1, 4), choices=st.integers(2, 5), seed=st.integers(0, 10 ** 6))
def test_categorical_policy_log_prob_kl_and_entropy_match_torch_and_their_gradients_check(rows, choices, seed):
    rng = numpy.random.default_rng(seed)
    policy = CategoricalPolicy(2, choices, hidden=(3,))
    old, new = (rng.normal(size=(rows, choices)) for _ in range(2))
    actions = rng.integers(0, choices, rows)
    dist = [torch.distributions.Categorical(logits=torch.tensor(p)) for p in (old, new)]
    numpy.testing.assert_allclose(policy.log_prob(sg.as_tensor(new), actions).numpy(),
                                  dist[1].log_prob(torch.tensor(actions)).numpy(), rtol=1e-10)
    numpy.testing.assert_allclose(policy.kl(sg.as_tensor(old), sg.as_tensor(new)).numpy(),
                                  torch.distributions.kl_divergence(*dist).numpy(), rtol=1e-9, atol=1e-12)
    numpy.testing.assert_allclose(policy.entropy(sg.as_tensor(new)).numpy(), dist[1].entropy().numpy(), rtol=1e-10)
    for f in (lambda p: policy.log_prob(p, actions), lambda p: policy.kl(sg.as_tensor(old), p), policy.entropy):
        assert sg.gradcheck(f, (sg.tensor(new, requires_grad=True),))
        assert sg.gradgradcheck(f, (sg.tensor(new, requires_grad=True),))


def test_observation_norm_standardises_by_every_observation_seen():
    from scratchgen.models.policies import ObservationNorm
    rng = numpy.random.default_rng(0)
    batches = [rng.normal(3.0, 0.01, size=(n, 2)) for n in (5, 40, 1)]
    norm = ObservationNorm(2)
    for batch in batches:
        norm.update(batch)
    seen = numpy.concatenate(batches)
    numpy.testing.assert_allclose(norm.mean.numpy(), seen.mean(0), rtol=1e-6)
    numpy.testing.assert_allclose(norm.var.numpy(), seen.var(0), rtol=1e-4)
    standardised = norm(sg.as_tensor(seen.astype(numpy.float32))).numpy()
    numpy.testing.assert_allclose(standardised.std(0), [1, 1], rtol=1e-3)


def test_categorical_draws_follow_the_policy_probabilities():
    policy = CategoricalPolicy(1, 3, hidden=(2,))
    logits = sg.as_tensor(numpy.log(numpy.tile([[0.2, 0.5, 0.3]], (20000, 1))))
    counts = numpy.bincount(policy.draw(logits, sg.Generator(0)), minlength=3) / 20000
    numpy.testing.assert_allclose(counts, [0.2, 0.5, 0.3], atol=0.015)


# ---- the environments ------------------------------------------------------------------------------
def test_sparse_mountain_car_rewards_only_the_goal():
    stream = environments.EpisodeStream("MountainCarSparse", sg.Generator(0), copies=2)
    episodes = stream.episodes(lambda o: numpy.zeros(len(o), numpy.int64), max_episodes=2, min_steps=10 ** 9)
    assert [len(e) for e in episodes] == [500, 500] and all(e.total_reward == 0 and not e.terminated for e in episodes)
    push = lambda o: numpy.where(o[:, 1] >= 0, 2, 0)  # push with the velocity: reaches the goal  # noqa: E731
    episode, = stream.episodes(push, max_episodes=1, min_steps=10 ** 9)
    assert episode.terminated and episode.total_reward == 1.0 and episode.rewards[-1] == 1.0


def test_episode_streams_with_the_same_seed_repeat():
    def run(seed):
        stream = environments.EpisodeStream("CartPole-v1", sg.Generator(seed), copies=3)
        rng = numpy.random.default_rng(0)
        return stream.episodes(lambda o: rng.integers(0, 2, len(o)), min_steps=300)
    first, second = run(5), run(5)
    assert sum(len(e) for e in first) >= 300
    assert all(numpy.array_equal(a.observations, b.observations) for a, b in zip(first, second))


def test_environment_names_and_copies_are_checked():
    with pytest.raises(ValueError, match=r"make_environment: name must be one of CartPole-v1.*got 'Pong'"):
        environments.make_environment("Pong")
    with pytest.raises(ValueError, match=r"EpisodeStream: copies must be a positive integer, got 0"):
        environments.EpisodeStream("CartPole-v1", sg.Generator(0), copies=0)


# ---- training on CartPole ----------------------------------------------------------------------------
def start(name, overrides, out, steps, dataset="CartPole-v1"):
    return train.start(name, dataset, steps=steps, overrides=overrides, out=out, stream=io.StringIO())


@pytest.fixture(scope="module")
def expert(tmp_path_factory):
    """A TRPO run on CartPole: 12 iterations of 1000 steps lift the return far past a random policy's."""
    out = tmp_path_factory.mktemp("expert") / "trpo"
    run, _ = start("trpo", SMALL, out, steps=12)
    return run


def test_trpo_learns_cartpole(expert):
    returns = [record["return"] for record in expert.read_metrics()]
    assert returns[0] < 3 * RANDOM_CARTPOLE and max(returns[-3:]) > 6 * RANDOM_CARTPOLE
    assert all(record["kl"] <= SMALL.get("max_kl", 0.01) for record in expert.read_metrics())
    result = train.evaluate(expert.path, progress=False)
    assert result["episodes"] == 50 and result["return_mean"] > 4 * RANDOM_CARTPOLE


@pytest.mark.parametrize("name, steps", [("gail", 10), ("bc", 300)])
def test_imitation_of_the_expert_beats_a_random_policy(expert, name, steps, tmp_path):
    overrides = dict(hidden=[16, 16], expert=str(expert.path), trajectories=4, log_every=1)
    if name == "gail":
        overrides.update(batch_size=1000, value_epochs=2)
    run, _ = start(name, overrides, tmp_path / name, steps=steps)
    assert train.evaluate(run.path, progress=False)["return_mean"] > 4 * RANDOM_CARTPOLE


def test_an_imitation_run_needs_an_expert_of_the_same_task(expert, tmp_path):
    with pytest.raises(UsageError, match="needs the expert's run folder: --expert RUN_DIR"):
        start("gail", dict(hidden=[16, 16]), tmp_path / "a", steps=1)
    with pytest.raises(UsageError, match=r"holds a trpo run on CartPole-v1; gail on Acrobot-v1 needs an agent's run"):
        start("gail", dict(hidden=[16, 16], expert=str(expert.path)), tmp_path / "b", steps=1, dataset="Acrobot-v1")


RESUMED = {"trpo": dict(SMALL, batch_size=300), "gail": dict(SMALL, batch_size=300), "bc": dict(hidden=[16], log_every=1),
           "vime": dict(SMALL, batch_size=300, min_pool=100, dynamics_updates=5, kl_samples=2)}


@pytest.mark.parametrize("name", RESUMED)
def test_an_agent_resumed_at_step_2_matches_4_straight_steps(expert, name, tmp_path):
    """vime: also its replay pool and KL normaliser, which live outside the networks."""
    from test_train_resume import assert_same_state, flat_state, logged_losses
    overrides = dict(RESUMED[name], **({"expert": str(expert.path)} if name in ("gail", "bc") else {}))
    dataset = "MountainCarSparse" if name == "vime" else "CartPole-v1"
    straight, _ = start(name, overrides, tmp_path / "straight", steps=4, dataset=dataset)
    start(name, overrides, tmp_path / "resumed", steps=2, dataset=dataset)
    resumed, outcome = train.resume(tmp_path / "resumed", steps=4, stream=io.StringIO())
    assert outcome == "finished"
    assert_same_state(flat_state(straight.path), flat_state(resumed.path))
    assert logged_losses(resumed) == logged_losses(straight) and len(logged_losses(straight)) == 4


def test_sample_writes_an_episode_as_an_animated_gif(expert, tmp_path):
    from PIL import Image
    path = train.sample_to_file(expert.path, n=20, out=tmp_path / "episode.gif")
    with Image.open(path) as gif:  # the first state and 20 steps at 40 ms, half size (repeated frames merged)
        durations = []
        for frame in range(gif.n_frames):
            gif.seek(frame)
            durations.append(gif.info["duration"])
        assert gif.n_frames > 1 and sum(durations) == 21 * 40 and gif.size == (300, 200)
    with pytest.raises(UsageError, match=r"--out must end in \.gif"):
        train.sample_to_file(expert.path, out=tmp_path / "episode.png")


def test_a_pendulum_run_trains_a_gaussian_policy(tmp_path):
    run, _ = start("trpo", dict(SMALL, batch_size=400), tmp_path / "pendulum", steps=2, dataset="Pendulum-v1")
    assert [record["episode_length"] for record in run.read_metrics()] == [200.0, 200.0]
    assert math.isfinite(run.read_metrics()[-1]["value_loss"])
