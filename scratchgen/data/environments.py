"""Gymnasium's classic-control tasks, the "datasets" of the models that act (TRPO, GAIL, VIME).

The library writes the agents, not the physics (DESIGN.md): the environments are Gymnasium's,
an optional dependency (`pip install 'scratchgen[rl]'`). What is ours:

    MountainCarSparse   MountainCar-v0 with the reward of the VIME code's MountainCarEnvX
                        (Houthooft et al. 2016): 1 on reaching the goal (x >= 0.5 here, Gymnasium's
                        flag), 0 at every other step, so a random policy almost never sees a reward;
                        episodes of at most 500 steps, the VIME code's horizon
    EpisodeStream       runs a policy on several copies of a task in lockstep (one batched
                        forward per time step) and returns whole episodes; every episode starts
                        from env.reset(seed=...) with a seed from the stream's generator, so a run
                        repeats, and resumes bit for bit from the generator's state alone
"""
import dataclasses
import os

import numpy

ENVIRONMENTS = ("CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1", "MountainCarSparse")
SPARSE_MOUNTAIN_CAR = "MountainCarSparse"
SPARSE_MOUNTAIN_CAR_STEPS = 500  # the VIME code's MountainCar horizon (Gymnasium's MountainCar-v0: 200)
MISSING = "needs Gymnasium, which is not installed: pip install 'scratchgen[rl]'"


def gymnasium_module():
    try:
        import gymnasium
    except ImportError:
        raise ModuleNotFoundError(f"the environments {MISSING}") from None
    return gymnasium


def make_environment(name, render_mode=None):
    """A Gymnasium environment by `name` (one of ENVIRONMENTS)."""
    if name not in ENVIRONMENTS:
        raise ValueError(f"make_environment: name must be one of {', '.join(ENVIRONMENTS)}, got {name!r}")
    gymnasium = gymnasium_module()
    if name == SPARSE_MOUNTAIN_CAR:
        return SparseReward(gymnasium.make("MountainCar-v0", render_mode=render_mode,
                                           max_episode_steps=SPARSE_MOUNTAIN_CAR_STEPS))
    return gymnasium.make(name, render_mode=render_mode)


class SparseReward:
    """An environment whose reward is 1 at the step that ends the episode at the goal (terminated)
    and 0 otherwise (the VIME code's sparse MountainCarEnvX)."""

    def __init__(self, environment):
        self.environment = environment
        self.observation_space, self.action_space = environment.observation_space, environment.action_space
        self.spec = environment.spec

    def reset(self, seed=None):
        return self.environment.reset(seed=seed)

    def step(self, action):
        observation, _, terminated, truncated, info = self.environment.step(action)
        return observation, float(terminated), terminated, truncated, info

    def render(self):
        return self.environment.render()

    def close(self):
        self.environment.close()


@dataclasses.dataclass(frozen=True)
class Task:
    """What an agent needs to know of an environment: the observation size, and the actions:
    `actions` choices (discrete) or a box of `action_size` values in [low, high] (continuous)."""
    name: str
    observation_size: int
    discrete: bool
    actions: int        # the number of choices (discrete) or the action's size (continuous)
    low: tuple = ()
    high: tuple = ()

    @property
    def action_size(self):
        return 1 if self.discrete else self.actions


def describe(name):
    """The Task of environment `name`."""
    environment = make_environment(name)
    observation_size = int(numpy.prod(environment.observation_space.shape))
    space = environment.action_space
    environment.close()
    if hasattr(space, "n"):
        return Task(name, observation_size, True, int(space.n))
    return Task(name, observation_size, False, int(numpy.prod(space.shape)),
                tuple(float(v) for v in space.low.ravel()), tuple(float(v) for v in space.high.ravel()))


@dataclasses.dataclass
class Episode:
    """One episode: observations[t], actions[t], rewards[t] for t < T; `final_observation`, the
    state after the last action; `terminated`, whether it ended in a terminal state (else the
    time limit cut it, and its return goes on past T: advantage estimates bootstrap there)."""
    observations: numpy.ndarray
    actions: numpy.ndarray
    rewards: numpy.ndarray
    final_observation: numpy.ndarray
    terminated: bool

    def __len__(self):
        return len(self.rewards)

    @property
    def total_reward(self):
        return float(self.rewards.sum())


class EpisodeStream:
    """Whole episodes of a policy on task `name`, `copies` environments stepped in lockstep."""
    batches_per_epoch = None  # endless: no epochs

    def __init__(self, name, generator, copies=8):
        if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
            raise ValueError(f"EpisodeStream: copies must be a positive integer, got {copies!r}")
        self.task = describe(name)
        self.generator = generator
        self.environments = [make_environment(name) for _ in range(copies)]

    def episodes(self, act, min_steps=1, max_episodes=None):
        """Episodes of `act` (observations (K, obs) float32 -> actions (K,) or (K, action_size)),
        started until they hold `min_steps` steps in all (or `max_episodes` were started), each
        run to its end: a list in the order they started."""
        started, steps, running, finished = 0, 0, {}, []
        while True:
            for slot, environment in enumerate(self.environments):
                if slot not in running and steps < min_steps and (max_episodes is None or started < max_episodes):
                    observation, _ = environment.reset(seed=self.reset_seed())
                    running[slot] = (started, _Recorder(observation))
                    started += 1
            if not running:
                break
            slots = sorted(running)
            observations = numpy.stack([running[slot][1].observation for slot in slots]).astype(numpy.float32)
            actions = numpy.asarray(act(observations))
            for row, slot in enumerate(slots):
                order, recorder = running[slot]
                step = self.environments[slot].step(environment_action(self.task, actions[row]))
                steps += 1
                if recorder.record(actions[row], *step[:4]):
                    finished.append((order, recorder.episode()))
                    del running[slot]
        return [episode for _, episode in sorted(finished, key=lambda pair: pair[0])]

    def reset_seed(self):
        return int(self.generator.integers(0, 2 ** 31 - 1, (), numpy.int64, "cpu"))

    def state_dict(self):
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state):
        self.generator.set_state(state["generator"])

    def __next__(self):
        return (self,)  # what a model's train_step gets: the stream it draws its episodes from


class _Recorder:
    """The steps of one episode as they happen."""

    def __init__(self, observation):
        self.observation = numpy.asarray(observation, numpy.float32)
        self.observations, self.actions, self.rewards = [], [], []
        self.terminated = False

    def record(self, action, observation, reward, terminated, truncated):
        """Add one step; whether the episode is over."""
        self.observations.append(self.observation)
        self.actions.append(action)
        self.rewards.append(reward)
        self.observation, self.terminated = numpy.asarray(observation, numpy.float32), bool(terminated)
        return bool(terminated or truncated)

    def episode(self):
        return Episode(numpy.stack(self.observations), numpy.stack(self.actions),
                       numpy.asarray(self.rewards, numpy.float32), self.observation, self.terminated)


def environment_action(task, action):
    """An agent's action as the environment takes it: an int choice, or a box clipped to its bounds."""
    if task.discrete:
        return int(action)
    return numpy.clip(numpy.asarray(action, numpy.float64).reshape(-1), task.low, task.high)


def render_episode(name, act, seed, max_steps=None):
    """(frames, total reward) of one episode of `act` on `name` from env.reset(seed=seed): RGB
    frames (H, W, 3) uint8, one per state, for an animated GIF (Gymnasium draws them with pygame)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # pygame draws off screen: no display, no warning about one
    environment = make_environment(name, render_mode="rgb_array")
    observation, _ = environment.reset(seed=seed)
    frames, total, task = [environment.render()], 0.0, describe(name)
    while max_steps is None or len(frames) <= max_steps:
        action = numpy.asarray(act(numpy.asarray(observation, numpy.float32)[None]))[0]
        observation, reward, terminated, truncated, _ = environment.step(environment_action(task, action))
        total += float(reward)
        frames.append(environment.render())
        if terminated or truncated:
            break
    environment.close()
    return frames, total
