"""What the imitation learners (gail.py, behavioural_cloning.py) share: the expert's
demonstrations, and the settings that choose them.

The demonstrations are episodes of an expert policy (a `scratchgen train trpo` run, --expert),
subsampled as in openai/imitation's classic-control pipeline (Ho & Ermon 2016, Sec. 6): of each
of `trajectories` episodes, every `subsample`-th state-action pair from a random offset.
train/session.py draws them from the expert run and hands them to `imitate`.
"""
import dataclasses

import numpy

from .settings import MAX_UNITS, FolderSetting, Setting

IMITATION_DEFAULTS = dict(expert=None, trajectories=4, subsample=5)
IMITATION_SETTINGS = dict(
    expert=FolderSetting("the run folder of the expert (a trpo run on the same task) whose episodes are imitated",
                         "runs/trpo-CartPole-v1"),
    trajectories=Setting(int, "expert episodes in the demonstrations (the paper: 1, 4, 7, 10)", at_least=1,
                         at_most=MAX_UNITS),
    subsample=Setting(int, "keep every N-th state-action pair of an expert episode (the pipeline: 10 on CartPole, "
                      "5 on the others)", at_least=1, at_most=MAX_UNITS))
IMITATION_DATASET_DEFAULTS = {"CartPole-v1": dict(subsample=10)}
NEEDS_EXPERT = ((lambda settings: settings["expert"] is not None,
                 "an imitation learner needs the expert's run folder: --expert RUN_DIR (a trpo run on this task)"),)


@dataclasses.dataclass
class Demonstrations:
    """Expert state-action pairs: observations (M, obs), actions as the policy takes them (M,) or
    (M, d), and `returns`, the total reward of each whole expert episode they came from."""
    observations: numpy.ndarray
    actions: numpy.ndarray
    returns: numpy.ndarray


def subsample(episodes, every, generator):
    """Demonstrations of `episodes`: every `every`-th pair of each from an offset in [0, every)."""
    observations, actions = [], []
    for episode in episodes:
        start = int(generator.integers(0, every, (), numpy.int64, "cpu"))
        observations.append(episode.observations[start::every])
        actions.append(episode.actions[start::every])
    return Demonstrations(numpy.concatenate(observations), numpy.concatenate(actions),
                          numpy.array([episode.total_reward for episode in episodes]))
