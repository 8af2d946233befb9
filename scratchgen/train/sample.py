"""`scratchgen sample RUN_DIR`: draw from the model in a run's newest checkpoint and save the
samples as a picture (.png: grid or scatter plot) or as an array (.npy)."""
import pathlib

import numpy

from ..models import model_class
from . import plots
from .config import MissingInput, UsageError, check_stored_config
from .datasets import SAMPLE_STREAM, stream
from .run import RunFolder
from .session import load_trained, reference_points


def sample_to_file(run_dir, n=64, label=None, out=None, seed=None):
    """Write n samples (of class `label`, for a conditional model) and return the path. What
    can be checked before the model is loaded is: the output file, matplotlib for a picture,
    the class."""
    out = None if out is None else check_output(out)
    if (out is None or out.suffix == ".png") and not plots.available():
        raise UsageError(f"writing samples as a .png picture {plots.MISSING} (or write the array: --out FILE.npy)")
    if label is not None:
        check_label(run_dir, label)
    run, config, model, step = load_trained(run_dir)
    if out is None:
        run.samples.mkdir(exist_ok=True)
        out = run.samples / f"sample_step_{step:06d}.png"
    generator = stream(config["seed"] if seed is None else seed, SAMPLE_STREAM)
    labels = None if label is None else numpy.full(n, label, numpy.int64)
    samples = model.sample(n, labels=labels, generator=generator)
    try:
        if out.suffix == ".npy":
            numpy.save(out, samples)
        else:
            title = f"{config['model']} on {config['dataset']}, step {step}" + ("" if label is None else f", class {label}")
            plots.save_samples(samples, out, title, reference_points(config))
    except OSError as error:
        raise UsageError(f"cannot write {out}: {error.strerror or error}") from None
    return out


def check_output(out):
    """--out as a Path: a .png or .npy file in a folder that exists (it is not created)."""
    out = pathlib.Path(out)
    if out.suffix not in (".png", ".npy"):
        raise UsageError(f"--out must end in .png (a picture) or .npy (the array), got {out}")
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; name a file in it")
    if not out.parent.is_dir():
        what = "is not a folder" if out.parent.exists() else "does not exist"
        raise MissingInput(f"--out {out}: the folder {out.parent} {what}")
    return out


def check_label(run_dir, label):
    """--class: an int, for a conditional model, among the classes of its dataset."""
    config = check_stored_config(RunFolder.open(run_dir).read_config(), RunFolder(run_dir).config_path)
    if not hasattr(model_class(config["model"]), "sample_labels"):
        raise UsageError(f"--class {label}: this model is unconditional ({config['model']}), so the class cannot "
                         "be chosen")
    classes = config["num_classes"]
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < classes:
        raise UsageError(f"--class must be one of the classes 0 to {classes - 1}, got {label!r}")
