"""The training loop: steps, progress bar, metrics, sample plots, checkpoints, and the two
ways a run stops early.

- Ctrl-C: the step under way finishes, a checkpoint is written, the loop returns "interrupted";
  `scratchgen train --resume RUN_DIR` continues from there. A second Ctrl-C stops at once.
- A loss that is NaN or inf (or parameters that became so): TrainingDiverged, naming the step
  and the last finite losses; no checkpoint of the broken state is written, so the newest
  checkpoint is the last good one. NumPy's RuntimeWarnings about overflow and invalid values on
  the way there are not printed: the one stop message says what happened.

time_s in metrics.jsonl is the run's training time: a resumed run starts from `start_time`,
the time of the checkpoint it resumed from.
"""
import contextlib
import math
import signal
import sys
import threading
import time
import warnings

from .. import distributed
from . import checkpoint, datasets, plots
from .progress import ProgressBar


class TrainingDiverged(RuntimeError):
    """A loss or a parameter became NaN or inf; the message names the step and the last good checkpoint."""


@contextlib.contextmanager
def deferred_interrupt(stream):
    """Inside the block a first Ctrl-C only sets the returned event (the loop stops at the
    end of its step); a second one raises KeyboardInterrupt as usual."""
    requested = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield requested  # signal handlers can only be set from the main thread
        return

    def on_interrupt(signum, frame):
        if requested.is_set():
            raise KeyboardInterrupt
        requested.set()
        stream.write("\nCtrl-C: stopping after this step and saving a checkpoint (Ctrl-C again to stop now)\n")

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield requested
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def quiet_numerics():
    """NumPy's "overflow encountered" and "invalid value encountered" warnings (those that come
    before a loss turns NaN) are not printed inside the block."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"(overflow|invalid value|divide by zero|underflow) encountered",
                                RuntimeWarning)
        yield


class Trainer:
    """Runs `model` on `batches` from `start_step` to config["steps"], writing into `run`;
    `start_time` is the run's time_s at `start_step`. `observer(trainer, losses)`, if given, is
    called after every step (train/tensorboard.py's writes TensorBoard event files)."""

    def __init__(self, model, batches, run, config, start_step=0, stream=None, reference_points=None, start_time=0.0,
                 observer=None):
        self.model, self.batches, self.run, self.config = model, batches, run, config
        self.observer = observer
        self.step = start_step
        self.start_time = self.elapsed = start_time
        self.stream = sys.stderr if stream is None else stream
        self.reference_points = reference_points
        self.last_finite = None  # (step, losses) of the last step whose losses were all finite
        self.plotting = plots.available() and getattr(run, "writer", True)  # data-parallel: rank 0 alone draws
        if not self.plotting:
            self.stream.write("scratchgen: matplotlib is not installed, so no plots are drawn "
                              "(pip install 'scratchgen[plot]')\n")

    def train(self):
        """Train to the end ("finished") or until Ctrl-C ("interrupted")."""
        total = self.config["steps"]
        progress = ProgressBar(total, self.step, self.stream)
        started = time.perf_counter()
        try:
            with deferred_interrupt(self.stream) as interrupted, quiet_numerics():
                while self.step < total and not self.stop_requested(interrupted):
                    losses = self.model.train_step(next(self.batches))
                    losses = self.across_ranks(losses, interrupted)
                    self.step += 1
                    self.elapsed = self.start_time + time.perf_counter() - started
                    self.check_finite(losses)
                    self.last_finite = (self.step, losses)
                    progress.update(self.step, losses)
                    self.after_step(losses, self.elapsed)
                if self.stop_requested(interrupted) and self.step < total:
                    self.save_checkpoint()
                    return "interrupted"
        finally:
            progress.close()
            self.plot_curves()
        return "finished"

    # ---- data-parallel hooks (scratchgen.distributed); in one process Ctrl-C is read directly ----
    stop_agreed = False  # whether any rank had seen Ctrl-C by the end of the last step

    def across_ranks(self, losses, interrupted):
        """The losses averaged over the ranks, in the same small all-reduce by which the ranks
        agree whether any of them saw Ctrl-C, so that every rank stops after the same step."""
        losses, self.stop_agreed = distributed.mean_losses(losses, interrupted.is_set())
        return losses

    def stop_requested(self, interrupted):
        return self.stop_agreed if distributed.is_initialized() else interrupted.is_set()

    def after_step(self, losses, elapsed):
        step, config, last = self.step, self.config, self.step == self.config["steps"]
        if step % config["log_every"] == 0 or last:
            self.run.append_metrics({"step": step, "time_s": round(elapsed, 3), **losses})
        if step % config["sample_every"] == 0 or last:
            self.plot_samples()
        if step % config["checkpoint_every"] == 0 or last:
            self.save_checkpoint()
        if self.observer is not None:
            self.observer(self, losses)

    def check_finite(self, losses):
        bad = [name for name, value in losses.items() if not math.isfinite(value)]
        if bad:
            values = ", ".join(f"{name}={value}" for name, value in losses.items())
            raise TrainingDiverged(f"{' and '.join(bad)} became non-finite at step {self.step} ({values}); "
                                   f"{self.last_finite_text()}; {self.last_checkpoint_text()}")

    def last_finite_text(self):
        if self.last_finite is None:
            return "no earlier step of this session had finite losses"
        step, losses = self.last_finite
        return f"last finite losses at step {step}: " + ", ".join(f"{k}={v:.6g}" for k, v in losses.items())

    def last_checkpoint_text(self):
        paths = checkpoint.checkpoint_paths(self.run)
        return f"the last good checkpoint is {paths[-1]}" if paths else "no checkpoint had been written yet"

    def save_checkpoint(self):
        # data-parallel: the ranks' weights are still one model (each rank checks; rank 0 alone writes)
        distributed.check_replicas(parameter for network in self.model.networks() for parameter in network.parameters())
        state = checkpoint.checkpoint_state(self.step, self.model, self.batches)
        bad = checkpoint.non_finite_entries(state["model"], "model")
        if bad:
            raise TrainingDiverged(f"parameters became non-finite by step {self.step} ({', '.join(bad[:3])}"
                                   f"{', ...' if len(bad) > 3 else ''}); {self.last_finite_text()}; "
                                   f"{self.last_checkpoint_text()}")
        return checkpoint.save_checkpoint(self.run, state, self.config["keep_checkpoints"], self.elapsed)

    def plot_samples(self):
        if self.config["dataset"] in datasets.ENVIRONMENT_DATASETS:  # an agent's samples are episodes: `scratchgen sample`
            return
        if self.config["dataset"] in datasets.TEXT_DATASETS:  # text: one sample per line, no matplotlib needed
            if getattr(self.run, "writer", True):
                samples = self.model.sample(plots.GRID_SIZE, generator=datasets.stream(
                    self.config["seed"], datasets.PLOT_NOISE_STREAM))
                plots.save_text(samples, self.run.sample_path(self.step).with_suffix(".txt"))
            return
        if not self.plotting:
            return
        is_points = self.config["dataset"] in datasets.TOY_DATASETS
        n = plots.SCATTER_SIZE if is_points else plots.GRID_SIZE
        samples = self.model.sample(n, generator=datasets.stream(self.config["seed"], datasets.PLOT_NOISE_STREAM))
        title = f"{self.config['model']} on {self.config['dataset']}, step {self.step}"
        plots.save_samples(samples, self.run.sample_path(self.step), title, self.reference_points)

    def plot_curves(self):
        records = self.run.read_metrics()
        if self.plotting and records:
            plots.save_curves(records, self.run.curves_path, f"{self.config['model']} on {self.config['dataset']}")
