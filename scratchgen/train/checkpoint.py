"""Checkpoints: everything needed to continue a run bit for bit (the model's networks,
optimizers and noise generator, the data stream's position and generators, the global random
state), written with scratchgen.save (to a temporary file, then renamed: a kill mid-write
loses nothing). The newest `keep` checkpoints are kept, and one is written only when every
number in it is finite, so the newest checkpoint is always a good one.

A checkpoint can still become unreadable later (a disk fault, a copy cut short). Loading then
falls back to the newest checkpoint that loads (`load_newest`), and says which it skipped and
why. No checkpoint that could not be read is ever deleted: `--resume`, which is about to write
checkpoints of those steps again, first renames each one it skipped to
step_XXXXXX.unreadable.npz (`set_aside`), a name the keep-N rotation (which only counts and
deletes step_XXXXXX.npz files) never touches; the rotation then keeps the newest N good ones.

checkpoints/elapsed.json records the run's time_s at each checkpoint, so the metrics of a
resumed run count on from the time of the step it resumed from.
"""
import json
import math
import re

from .. import Tensor, get_rng_state, isfinite, set_rng_state
from ..serialization import load, save, write_atomically
from ..models.settings import shown
from .config import MissingInput, UsageError

NAME = re.compile(r"step_(\d+)\.npz")
ELAPSED = "elapsed.json"
STATE_KEYS = ("step", "model", "batches", "global_rng")


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


def save_checkpoint(run, state, keep, elapsed=None):
    """Write `state` as checkpoints/step_XXXXXX.npz, record `elapsed` (the run's time_s) for it,
    and delete all but the newest `keep` step_XXXXXX.npz files."""
    path = run.checkpoints / f"step_{state['step']:06d}.npz"
    if not getattr(run, "writer", True):  # data-parallel: rank 0 alone writes checkpoints
        return path
    save(state, path)
    for old in checkpoint_paths(run)[:-keep]:
        old.unlink()
    if elapsed is not None:
        record_elapsed(run, state["step"], elapsed)
    return path


def checkpoint_paths(run):
    """The run's checkpoint files, oldest first."""
    if not run.checkpoints.is_dir():
        return []
    found = [(int(match.group(1)), path) for path in run.checkpoints.iterdir()
             if (match := NAME.fullmatch(path.name))]
    return [path for _, path in sorted(found)]


def load_newest(run, use=None):
    """(path, state, skipped) of the newest checkpoint that loads, holds a checkpoint's entries
    for the step its name says, and that `use(state)` accepts (restoring it into the run's
    model); skipped: [(path, why)] of the newer ones that did not. MissingInput if the run has
    no checkpoint, UsageError naming each one if none loads."""
    paths = checkpoint_paths(run)
    if not paths:
        raise MissingInput(f"{run.path} has no checkpoint (it stopped before writing one), so no model to continue "
                           f"or sample; start it over with scratchgen train MODEL --out {run.path}")
    skipped = []
    for path in reversed(paths):
        why = None
        try:
            state = load(path)
        except Exception as error:  # whatever a damaged file makes the reader raise, it is the reason
            why = one_line(str(error).replace(f"load: {path} ", "").removeprefix("is "))
        if why is None:
            why = _not_a_checkpoint(state, int(NAME.fullmatch(path.name).group(1)))
        if why is None and use is not None:
            try:
                use(state)
            except Exception as error:
                why = f"it does not fit this run's model: {one_line(str(error))}"
        if why is None:
            return path, state, skipped
        skipped.append((path, why))
    named = "; ".join(f"{path.name} ({why})" for path, why in skipped[:3])
    more = f"; and {len(skipped) - 3} older ones" if len(skipped) > 3 else ""
    raise UsageError(f"no checkpoint of {run.path} could be loaded: {named}{more}")


def one_line(text, limit=200):
    """The first line of `text`, at most about `limit` characters ("..." where cut)."""
    lines = text.strip().splitlines() or [""]
    first = lines[0] if len(lines[0]) <= limit else lines[0][:limit]
    return first + (" ..." if first != text.strip() else "")


def _not_a_checkpoint(state, step):
    if not isinstance(state, dict) or any(key not in state for key in STATE_KEYS):
        return f"it is not a checkpoint (a checkpoint has the entries {', '.join(STATE_KEYS)})"
    if state["step"] != step or type(state["step"]) is not int:
        return f"its step entry ({shown(state['step'])}) is not the step of its name"
    return None


def latest_checkpoint(run):
    """(path, state) of the newest checkpoint of the run that loads."""
    path, state, _ = load_newest(run)
    return path, state


def set_aside(path):
    """Rename an unreadable checkpoint to step_XXXXXX.unreadable[-N].npz, out of the way of the
    rotation and of the checkpoint that will be written for its step again; returns the new path."""
    stem = path.name.removesuffix(".npz")
    target, number = path.with_name(f"{stem}.unreadable.npz"), 1
    while target.exists():
        number += 1
        target = path.with_name(f"{stem}.unreadable-{number}.npz")
    path.rename(target)
    return target


def restore(state, model, batches):
    """Put the model, the data stream and the global random state back as `state` holds them."""
    model.load_state_dict(state["model"])
    batches.load_state_dict(state["batches"])
    set_rng_state(state["global_rng"])


# ---- the run's time at each checkpoint ------------------------------------------------------------
def read_elapsed(run):
    """{step: time_s} from checkpoints/elapsed.json ({} if it is missing or damaged)."""
    try:
        entries = json.loads((run.checkpoints / ELAPSED).read_text())
        return {int(step): float(seconds) for step, seconds in entries.items()
                if math.isfinite(float(seconds)) and float(seconds) >= 0}
    except (OSError, ValueError, TypeError, AttributeError, RecursionError):
        return {}


def record_elapsed(run, step, seconds):
    """Add `step`: `seconds` to elapsed.json, keeping only the steps that have a checkpoint."""
    steps = {int(NAME.fullmatch(path.name).group(1)) for path in checkpoint_paths(run)}
    entries = {key: value for key, value in read_elapsed(run).items() if key in steps}
    entries[step] = round(seconds, 3)
    text = json.dumps({str(key): value for key, value in sorted(entries.items())}) + "\n"
    write_atomically(run.checkpoints / ELAPSED, lambda file: file.write(text.encode()))


def elapsed_at(run, step):
    """The run's time_s at `step`: as recorded with its checkpoint, else that of the last
    metrics line up to it (a run from before elapsed.json), else 0."""
    recorded = read_elapsed(run).get(step)
    if recorded is not None:
        return recorded
    times = [record.get("time_s", 0.0) for record in run.read_metrics() if record["step"] <= step]
    return float(times[-1]) if times else 0.0
