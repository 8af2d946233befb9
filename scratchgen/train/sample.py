"""`scratchgen sample RUN_DIR`: draw from the model in a run's newest checkpoint and save the
samples as a picture (.png: grid or scatter plot) or as an array (.npy)."""
import pathlib

import numpy

from . import plots
from .datasets import SAMPLE_STREAM, stream
from .session import load_trained, reference_points


def sample_to_file(run_dir, n=64, label=None, out=None, seed=None):
    """Write n samples (of class `label`, for a conditional model) and return the path."""
    run, config, model, step = load_trained(run_dir)
    out = pathlib.Path(out) if out is not None else run.samples / f"sample_step_{step:06d}.png"
    if out.suffix not in (".png", ".npy"):
        raise ValueError(f"--out must end in .png (a picture) or .npy (the array), got {out}")
    generator = stream(config["seed"] if seed is None else seed, SAMPLE_STREAM)
    labels = None if label is None else numpy.full(n, label, numpy.int64)
    samples = model.sample(n, labels=labels, generator=generator)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        numpy.save(out, samples)
    else:
        title = f"{config['model']} on {config['dataset']}, step {step}" + ("" if label is None else f", class {label}")
        plots.save_samples(samples, out, title, reference_points(config))
    return out
