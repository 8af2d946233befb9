"""Checkpoints: everything needed to continue a run bit for bit (the model's networks,
optimizers and noise generator, the data stream's position and generators, the global random
state), written with scratchgen.save (to a temporary file, then renamed: a kill mid-write
loses nothing). The newest `keep` checkpoints are kept, and one is written only when every
number in it is finite, so the newest checkpoint is always a good one."""
import math
import re

from .. import Tensor, get_rng_state, isfinite, set_rng_state
from ..serialization import load, save

NAME = re.compile(r"step_(\d+)\.npz")


def checkpoint_state(step, model, batches):
    return {"step": step, "model": model.state_dict(), "batches": batches.state_dict(),
            "global_rng": get_rng_state()}


def non_finite_entries(state, where="state"):
    """The places in a nested state that hold a NaN or inf."""
    if isinstance(state, dict):
        return [bad for key, value in state.items() for bad in non_finite_entries(value, f"{where}[{key!r}]")]
    if isinstance(state, (list, tuple)):
        return [bad for i, value in enumerate(state) for bad in non_finite_entries(value, f"{where}[{i}]")]
    if isinstance(state, Tensor):
        return [] if bool(isfinite(state).all()) else [where]
    if isinstance(state, float):
        return [] if math.isfinite(state) else [where]
    return []


def save_checkpoint(run, state, keep):
    """Write `state` as checkpoints/step_XXXXXX.npz and delete all but the newest `keep`."""
    path = run.checkpoints / f"step_{state['step']:06d}.npz"
    save(state, path)
    for old in checkpoint_paths(run)[:-keep]:
        old.unlink()
    return path


def checkpoint_paths(run):
    """The run's checkpoint files, oldest first."""
    if not run.checkpoints.is_dir():
        return []
    found = [(int(match.group(1)), path) for path in run.checkpoints.iterdir()
             if (match := NAME.fullmatch(path.name))]
    return [path for _, path in sorted(found)]


def latest_checkpoint(run):
    """(path, state) of the newest checkpoint of the run."""
    paths = checkpoint_paths(run)
    if not paths:
        raise FileNotFoundError(f"{run.path} has no checkpoint in {run.checkpoints}")
    return paths[-1], load(paths[-1])


def restore(state, model, batches):
    """Put the model, the data stream and the global random state back as `state` holds them."""
    model.load_state_dict(state["model"])
    batches.load_state_dict(state["batches"])
    set_rng_state(state["global_rng"])
