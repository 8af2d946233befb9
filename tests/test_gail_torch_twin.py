"""scratchgen's GAIL iteration (D's Adam steps, the reward -log D, GAE, the TRPO step, V's fit)
and a Gaussian policy's TRPO step against their PyTorch twins (gail_torch_twin.py), in float64
from the same weights and data: every parameter and logged number agrees to ~1e-8, while one
iteration moves the parameters by far more than that."""
import numpy
import pytest

import scratchgen as sg
from scratchgen.data.environments import Episode, EpisodeStream
from scratchgen.models.imitation import subsample
from scratchgen.models.policies import GaussianPolicy
from scratchgen.models.registry import model_class
from scratchgen.models.trust_region import trpo_step
from scratchgen.train.config import resolve_config

pytest.importorskip("gymnasium")
torch = pytest.importorskip("torch")
import gail_torch_twin as twins  # noqa: E402  (needs torch)
from reference_twins import network_shapes, networks  # noqa: E402

RTOL, ATOL = 1e-8, 1e-12
STATS = ("surrogate_gain", "kl", "step_fraction", "entropy")


def copy_weights(ours, theirs):
    theirs.load_state_dict({key: torch.tensor(value.numpy()) for key, value in ours.state_dict().items()})


def assert_same_weights(ours, theirs, name):
    theirs = theirs.state_dict()
    for key, value in ours.state_dict().items():
        numpy.testing.assert_allclose(value.numpy(), theirs[key].numpy(), rtol=RTOL, atol=ATOL, err_msg=f"{name}.{key}")


def assert_moved(before, network, name):
    """One iteration moves `network` by much more than the tolerance the twins are held to."""
    change = max(numpy.abs(value.numpy() - before[key]).max() for key, value in network.state_dict().items())
    assert change > 1e-4, f"{name} barely moved ({change:g}): the comparison would prove nothing"


def cartpole_episodes():
    """Demonstrations and three policy episodes of random actions on CartPole; the last cut after 7
    steps, as a time limit cuts one (not terminated: GAE bootstraps from V there). The
    demonstrations' observations are float64, so that GAIL.imitate's mean and spread are float64
    sums as the twin's are (of float32 observations they are float32 sums, whose last bits differ
    by summation order, ~1e-7)."""
    rng = numpy.random.default_rng(0)
    stream = EpisodeStream("CartPole-v1", sg.Generator(0), copies=2)
    random_actions = lambda observations: rng.integers(0, 2, len(observations))  # noqa: E731
    demonstrations = subsample(stream.episodes(random_actions, max_episodes=4, min_steps=10 ** 9), 2, sg.Generator(1))
    demonstrations.observations = demonstrations.observations.astype(numpy.float64)
    episodes = stream.episodes(random_actions, max_episodes=3, min_steps=10 ** 9)
    cut = episodes[-1]
    episodes[-1] = Episode(cut.observations[:7], cut.actions[:7], cut.rewards[:7], cut.observations[7], False)
    assert [e.terminated for e in episodes] == [True, True, False]
    return demonstrations, episodes


@pytest.mark.parametrize("favor_zero_expert_reward", [False, True])  # the rewards -log D and log(1 - D)
def test_one_gail_iteration_matches_its_pytorch_twin(favor_zero_expert_reward):
    config = resolve_config(model_class("gail"), "CartPole-v1",
                            {"expert": "x", "hidden": [8, 8], "discriminator_hidden": [8, 8], "value_epochs": 2,
                             "value_batch": 16, "entropy_weight": 0.01,
                             "favor_zero_expert_reward": favor_zero_expert_reward, "discriminator_steps": 3})
    sg.manual_seed(0)
    model = model_class("gail")(config)
    for network in networks(model).values():
        network.double()
    twin = twins.GAIL(config, model.task.observation_size, model.task.actions)
    assert network_shapes(twin) == network_shapes(model)
    for name, network in networks(model).items():
        copy_weights(network, getattr(twin, name))
    before = {name: {k: v.numpy().copy() for k, v in network.state_dict().items()}
              for name, network in networks(model).items()}
    demonstrations, episodes = cartpole_episodes()
    model.imitate(demonstrations)
    twin.imitate(demonstrations)
    generator = sg.Generator(0)  # the model's noise as it stands: the value fit's shuffles
    generator.set_state(model.rng.get_state())
    orders = [generator.permutation(sum(len(e) for e in episodes), "cpu") for _ in range(config["value_epochs"])]

    rewards, reward_stats = model.rewards(episodes)
    twin_rewards, twin_reward_stats = twin.rewards(episodes)
    for ours, theirs in zip(rewards, twin_rewards):
        numpy.testing.assert_allclose(ours, theirs.numpy(), rtol=RTOL, atol=ATOL)
    stats = model.update(episodes, rewards)
    twin_stats = twin.update(episodes, twin_rewards, orders)

    assert stats["step_fraction"] > 0 and 0 < stats["kl"] <= config["max_kl"]
    for key, value in {**reward_stats, **stats}.items():
        assert value == pytest.approx({**twin_reward_stats, **twin_stats}[key], rel=RTOL, abs=ATOL), key
    for name, network in networks(model).items():
        assert_moved(before[name], network, name)
        assert_same_weights(network, getattr(twin, name), name)


def test_a_gaussian_trpo_step_on_pendulum_shaped_data_matches_its_pytorch_twin():
    sg.manual_seed(0)
    policy = GaussianPolicy(3, 1, hidden=(8, 8), initial_log_std=-0.5).double()
    twin = twins.GaussianPolicy(3, 1, hidden=(8, 8))
    copy_weights(policy, twin)
    before = {k: v.numpy().copy() for k, v in policy.state_dict().items()}
    rng = numpy.random.default_rng(0)
    observations, actions, advantages = rng.normal(size=(64, 3)), rng.normal(size=(64, 1)), rng.normal(size=64)
    # 5 conjugate-gradient iterations: here the 10th leaves a residual so small that rounding
    # (numpy's sums against torch's) grows to ~5e-7 in the step, between two correct solvers
    settings = dict(max_kl=0.01, damping=0.1, cg_iterations=5, entropy_weight=0.01)
    stats = trpo_step(policy, sg.as_tensor(observations), actions, sg.as_tensor(advantages), **settings)
    twin_stats = twins.trpo_step(twin, *map(torch.tensor, (observations, actions, advantages)), **settings)
    assert stats["step_fraction"] > 0
    for key in STATS:
        assert stats[key] == pytest.approx(twin_stats[key], rel=RTOL, abs=ATOL), key
    assert_moved(before, policy, "policy")
    assert_same_weights(policy, twin, "policy")
