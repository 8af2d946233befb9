"""TensorBoard event files of a run: `scratchgen train MODEL --tensorboard DIR` (the run setting
`tensorboard`, kept in config.json, so --resume goes on writing there), then `tensorboard --logdir DIR`.

The files are written by tensorboardX, a maintained writer of TensorBoard's event format that
needs only NumPy and protobuf (pip install "scratchgen[tensorboard]"); TensorBoard itself reads
them. What is written, at the training loop's cadences (train/loop.py calls `Observer` after
every step):

    scalars      losses/NAME     every loss of metrics.jsonl,       every log_every steps and at the last
                 time/steps_per_second, time/elapsed_s               (the same steps)
    images       samples         the sample grid (2-D toys: the scatter plot) drawn from the same
                                 fixed noise as RUN_DIR/samples/,    every sample_every steps and at the last
    histograms   weights/NETWORK/PARAMETER and gradients/NETWORK/PARAMETER (the gradient of the
                 step's last update of that network),                every histogram_every steps and at the last

A resumed run appends to the same folder: its writer opens a new event file there with
purge_step at the first step it trains, so what a stopped run had written past its checkpoint is
hidden from TensorBoard (its purge of orphaned steps) and every step shows once.
`write_scalars` adds other numbers at a step (the metrics of `scratchgen eval`, for one).
"""
import contextlib
import math
import os
import pathlib
import time

import numpy

from .. import nn
from . import datasets, plots
from .config import UsageError

MISSING = "needs tensorboardX: pip install 'scratchgen[tensorboard]'"


def available():
    return plots.installed("tensorboardX")


def check(config):
    """Before anything is written: the writer is installed and config["tensorboard"] (if set)
    names a folder that exists or can be made (not a file, nor inside one)."""
    folder = config.get("tensorboard")
    if folder is None:
        return
    if not available():
        raise UsageError(f"writing TensorBoard event files (the setting tensorboard, --tensorboard) {MISSING}")
    path = pathlib.Path(folder)
    for place in (path, *path.parents):
        if place.exists():
            if not place.is_dir():
                raise UsageError(f"the TensorBoard folder {folder}: {place} is a file, not a folder")
            if not os.access(place, os.W_OK):
                raise UsageError(f"the TensorBoard folder {folder}: {place} cannot be written to")
            break


@contextlib.contextmanager
def observer_for(config, model, start_step, run=None):
    """An Observer writing into config["tensorboard"] for the block, or None where the run has
    none (or where `run` is not the one that writes: the ranks but rank 0 of a data-parallel run)."""
    if config.get("tensorboard") is None or not getattr(run, "writer", True):
        yield None
        return
    from tensorboardX import SummaryWriter
    try:
        pathlib.Path(config["tensorboard"]).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot make the TensorBoard folder {config['tensorboard']}: {error.strerror or error}") \
            from None
    writer = SummaryWriter(config["tensorboard"], purge_step=start_step + 1 if start_step else None, flush_secs=30,
                           filename_suffix=unique_suffix())
    try:
        yield Observer(writer, config, model, start_step)
    finally:
        writer.close()


def named_networks(model):
    """{attribute name: Module} of the model's networks ("G", "D"; "encoder", "decoder")."""
    return {name: value for name, value in vars(model).items() if isinstance(value, nn.Module)}


class Observer:
    """Called by the Trainer after each step (`observer(trainer, losses)`); writes what the
    step's cadences ask for (module docstring)."""

    def __init__(self, writer, config, model, start_step):
        self.writer, self.config, self.model = writer, config, model
        self.last_logged = None  # (step, elapsed) of the last scalars, for steps per second
        self.start_step = start_step

    def __call__(self, trainer, losses):
        step, config = trainer.step, self.config
        last = step == config["steps"]
        if step % config["log_every"] == 0 or last:
            self.write_losses(step, losses, trainer.elapsed)
        if step % config["sample_every"] == 0 or last:
            self.write_samples(step, trainer.reference_points)
        if step % config["histogram_every"] == 0 or last:
            self.write_histograms(step)

    def write_losses(self, step, losses, elapsed):
        for name, value in losses.items():
            self.writer.add_scalar(f"losses/{name}", value, step)
        self.writer.add_scalar("time/elapsed_s", elapsed, step)
        if self.last_logged is not None and elapsed > self.last_logged[1]:
            rate = (step - self.last_logged[0]) / (elapsed - self.last_logged[1])
            self.writer.add_scalar("time/steps_per_second", rate, step)
        self.last_logged = (step, elapsed)

    def write_samples(self, step, reference=None):
        if self.config["dataset"] in datasets.TEXT_DATASETS:
            return  # text samples go to RUN_DIR/samples/step_XXXXXX.txt only
        is_points = self.config["dataset"] in datasets.TOY_DATASETS
        n = plots.SCATTER_SIZE if is_points else plots.GRID_SIZE
        samples = self.model.sample(n, generator=datasets.stream(self.config["seed"], datasets.PLOT_NOISE_STREAM))
        if not is_points:
            self.writer.add_image("samples", plots.image_grid(samples), step, dataformats="HW")
        elif plots.available():  # a scatter plot needs matplotlib to be drawn
            self.writer.add_figure("samples", scatter_figure(samples, reference), step)

    def write_histograms(self, step):
        for network, module in named_networks(self.model).items():
            for name, parameter in module.named_parameters():
                self.histogram(f"weights/{network}/{name}", parameter.detach().numpy(), step)
                if parameter.grad is not None:
                    self.histogram(f"gradients/{network}/{name}", parameter.grad.detach().numpy(), step)

    def histogram(self, tag, values, step):
        values = numpy.asarray(values, numpy.float64).ravel()
        values = values[numpy.isfinite(values)]
        if values.size:
            self.writer.add_histogram(tag, values, step)


def scatter_figure(points, reference=None):
    """A matplotlib figure of 2-D samples over `reference` points of the data, if given."""
    plt = plots._pyplot()
    figure, axes = plt.subplots(figsize=(4, 4))
    axes.scatter(points[:, 0], points[:, 1], s=2, c="tab:orange", label="samples")
    if reference is not None:
        axes.scatter(reference[:, 0], reference[:, 1], s=1, c="tab:blue", alpha=0.5, label="data")
    axes.set_aspect("equal")
    axes.legend(loc="upper right", markerscale=4)
    return figure


def unique_suffix():
    """The end of an event file's name: tensorboardX names a file by the second it opened it and
    the host, so a resumed run (or an eval) that starts within the same second would write into
    the file of the session before it; the process and the nanosecond tell them apart."""
    return f".{os.getpid()}.{time.time_ns()}"


def write_scalars(folder, step, values, prefix="eval"):
    """Add the numbers of `values` ({name: value}; other entries are left out) at `step` to the
    event files in `folder`, as PREFIX/NAME (e.g. the metrics of `scratchgen eval`)."""
    from tensorboardX import SummaryWriter
    with contextlib.closing(SummaryWriter(str(folder), filename_suffix=unique_suffix())) as writer:
        for name, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                writer.add_scalar(f"{prefix}/{name}", value, step)
