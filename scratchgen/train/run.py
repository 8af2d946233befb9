"""The run folder (DESIGN.md, "Runs"):

    RUN_DIR/config.json           every setting, the seed and the library version
    RUN_DIR/metrics.jsonl         one JSON line per logged step: {"step": 10, "time_s": ..., losses}
                                  (time_s: seconds since this session of the run started)
    RUN_DIR/checkpoints/          step_XXXXXX.npz, written atomically (scratchgen.save)
    RUN_DIR/samples/              step_XXXXXX.png: sample grids or 2-D scatter plots
    RUN_DIR/curves.png            the losses against the step
    RUN_DIR/eval.json             what `scratchgen eval` measured
"""
import json
import pathlib
import time

from ..serialization import write_atomically


def default_run_dir(model, dataset):
    """runs/MODEL-DATASET-YYYYmmdd-HHMMSS under the working directory."""
    return pathlib.Path("runs") / f"{model}-{dataset}-{time.strftime('%Y%m%d-%H%M%S')}"


class RunFolder:
    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.config_path = self.path / "config.json"
        self.metrics_path = self.path / "metrics.jsonl"
        self.checkpoints = self.path / "checkpoints"
        self.samples = self.path / "samples"
        self.curves_path = self.path / "curves.png"
        self.eval_path = self.path / "eval.json"

    def check_unused(self):
        """Refuse a folder that already holds a run."""
        if self.config_path.exists():
            raise ValueError(f"{self.path} already holds a run ({self.config_path.name}); continue it with "
                             "--resume or choose another --out")

    def create(self, config):
        """Make the folders of a new run and write its config."""
        self.check_unused()
        for folder in (self.path, self.checkpoints, self.samples):
            folder.mkdir(parents=True, exist_ok=True)
        self.write_config(config)
        return self

    @classmethod
    def open(cls, path):
        """An existing run folder."""
        run = cls(path)
        if not run.config_path.is_file():
            raise FileNotFoundError(f"{run.path} is not a run folder: it has no config.json")
        return run

    def read_config(self):
        return json.loads(self.config_path.read_text())

    def write_config(self, config):
        _write_json(self.config_path, config)

    def write_eval(self, results):
        _write_json(self.eval_path, results)

    def append_metrics(self, record):
        with open(self.metrics_path, "a") as file:
            file.write(json.dumps(record) + "\n")

    def read_metrics(self):
        if not self.metrics_path.is_file():
            return []
        return [json.loads(line) for line in self.metrics_path.read_text().splitlines() if line.strip()]

    def truncate_metrics(self, last_step):
        """Forget the lines logged after `last_step` (a run resumed from an earlier checkpoint
        logs those steps again)."""
        kept = [record for record in self.read_metrics() if record["step"] <= last_step]
        text = "".join(json.dumps(record) + "\n" for record in kept)
        write_atomically(self.metrics_path, lambda file: file.write(text.encode()))

    def sample_path(self, step):
        return self.samples / f"step_{step:06d}.png"


def _write_json(path, value):
    text = json.dumps(value, indent=2) + "\n"
    write_atomically(path, lambda file: file.write(text.encode()))
