"""The run folder (DESIGN.md, "Runs"):

    RUN_DIR/config.json           every setting, the seed and the library version
    RUN_DIR/metrics.jsonl         one JSON line per logged step: {"step": 10, "time_s": ..., losses}
                                  (time_s: seconds of training since the run started; a resumed
                                  run counts on from the time of the checkpoint it resumed from)
    RUN_DIR/checkpoints/          step_XXXXXX.npz, written atomically (scratchgen.save), and
                                  elapsed.json, the time_s of each; a checkpoint that --resume could
                                  not read is kept as step_XXXXXX.unreadable.npz (checkpoint.py)
    RUN_DIR/samples/              step_XXXXXX.png: sample grids or 2-D scatter plots
    RUN_DIR/curves.png            the losses against the step
    RUN_DIR/eval.json             what `scratchgen eval` measured
"""
import json
import pathlib
import re
import time

from ..serialization import write_atomically
from .config import MissingInput, UsageError

STEP_PLOT = re.compile(r"step_\d+\.png")


def default_run_dir(model, dataset):
    """runs/MODEL-DATASET-YYYYmmdd-HHMMSS under the working directory (-2, -3, ... appended
    where a run started in the same second has that name)."""
    path = pathlib.Path("runs") / f"{model}-{dataset}-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


class RunFolder:
    writer = True  # data-parallel (scratchgen.distributed): False on ranks other than 0, which write nothing

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.config_path = self.path / "config.json"
        self.metrics_path = self.path / "metrics.jsonl"
        self.checkpoints = self.path / "checkpoints"
        self.samples = self.path / "samples"
        self.curves_path = self.path / "curves.png"
        self.eval_path = self.path / "eval.json"

    def check_unused(self):
        """Refuse a path that is a file (or lies in one), and a folder that holds a run with a
        checkpoint. A run that never wrote a checkpoint (stopped in its first steps) holds
        nothing to continue: `create` starts it over."""
        for path in (self.path, *self.path.parents):
            if path.exists() or path.is_symlink():
                if not path.is_dir():
                    raise UsageError(f"{path} is a file, not a folder: choose another --out")
                break
        if self.config_path.exists() and self.has_checkpoints():
            raise UsageError(f"{self.path} already holds a run ({self.config_path.name} and checkpoints); continue "
                             "it with --resume or choose another --out")

    def has_checkpoints(self):
        """Whether checkpoints/ holds a checkpoint file, readable or not."""
        try:
            return any(path.name.startswith("step_") and path.name.endswith(".npz") for path in self.checkpoints.iterdir())
        except OSError:  # no checkpoints/ folder
            return False

    def create(self, config):
        """Make the folders of a new run and write its config. `self.restarted` tells whether the
        folder held a run that never wrote a checkpoint, whose metrics and plots are removed."""
        if not self.writer:
            self.restarted = False
            return self
        self.check_unused()
        self.restarted = self.config_path.exists()
        try:
            for folder in (self.path, self.checkpoints, self.samples):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"cannot make the run folder {self.path}: {error.strerror or error}") from None
        if self.restarted:
            stale = [self.metrics_path, self.curves_path, self.eval_path, self.checkpoints / "elapsed.json",
                     *(path for path in self.samples.iterdir() if STEP_PLOT.fullmatch(path.name))]
            for path in stale:
                path.unlink(missing_ok=True)
        self.write_config(config)
        return self

    @classmethod
    def open(cls, path):
        """An existing run folder."""
        run = cls(path)
        if not run.path.exists():
            raise MissingInput(f"{run.path} does not exist")
        if not run.path.is_dir():
            raise UsageError(f"{run.path} is a file, not a run folder")
        if not run.config_path.is_file():
            raise MissingInput(f"{run.path} is not a run folder: it has no config.json")
        return run

    def read_config(self):
        """config.json as it is (check it with config.check_stored_config); UsageError naming the
        file if it is not readable JSON."""
        try:
            return json.loads(self.config_path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise UsageError(f"{self.config_path} is not text: the run folder is damaged") from None
        except (ValueError, RecursionError) as error:  # json.JSONDecodeError is a ValueError
            raise UsageError(f"{self.config_path} is not valid JSON ({error}): the run folder is damaged") from None
        except OSError as error:
            raise UsageError(f"cannot read {self.config_path}: {error.strerror or error}") from None

    def write_config(self, config):
        if self.writer:
            _write_json(self.config_path, config)

    def write_eval(self, results):
        if self.writer:
            _write_json(self.eval_path, results)

    def append_metrics(self, record):
        if not self.writer:
            return
        with open(self.metrics_path, "a") as file:
            file.write(json.dumps(record) + "\n")

    def read_metrics(self):
        """The records of metrics.jsonl; a line that is not one (a line cut short by a kill,
        damage) is left out, and `self.unreadable_metrics` counts them."""
        self.unreadable_metrics = 0
        try:
            lines = self.metrics_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:  # none yet
            return []
        records = []
        for line in filter(str.strip, lines):
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                record = None
            if is_metrics_record(record):
                records.append(record)
            else:
                self.unreadable_metrics += 1
        return records

    def truncate_metrics(self, last_step):
        """Forget the lines logged after `last_step` (a run resumed from an earlier checkpoint
        logs those steps again), and unreadable lines; returns how many of those there were."""
        if not self.writer:
            return 0
        kept = [record for record in self.read_metrics() if record["step"] <= last_step]
        text = "".join(json.dumps(record) + "\n" for record in kept)
        write_atomically(self.metrics_path, lambda file: file.write(text.encode()))
        return self.unreadable_metrics

    def sample_path(self, step):
        return self.samples / f"step_{step:06d}.png"


def is_metrics_record(record):
    """{"step": int, name: number, ...}: what the loop appends to metrics.jsonl."""
    return (isinstance(record, dict) and type(record.get("step")) is int
            and all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in record.values()))


def _write_json(path, value):
    text = json.dumps(value, indent=2) + "\n"
    write_atomically(path, lambda file: file.write(text.encode()))
