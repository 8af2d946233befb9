"""`scratchgen sample RUN_DIR`: draw from the model in a run's newest checkpoint and save the
samples as a picture (.png: grid or scatter plot) or as an array (.npy); a language model's as
text, one sample per line (.txt, or stdout with --out -); an agent's as an animated GIF of one
episode of its policy (.gif)."""
import pathlib
import sys

import numpy

from ..models import model_class
from . import plots
from .config import MissingInput, UsageError, check_stored_config
from ..data.environments import render_episode
from .datasets import ENVIRONMENT_DATASETS, SAMPLE_STREAM, TEXT_DATASETS, stream
from .run import RunFolder
from .session import load_trained, reference_points


def sample_to_file(run_dir, n=None, label=None, out=None, seed=None, codes=None, sweep=None):
    """Write n samples (64; of class `label`, for a conditional model) and return the path. For a
    model with codes (InfoGAN), `codes` {name: value} fixes some and `sweep` (name, low, high,
    count) draws the paper's Fig. 2: n rows (10), each column the swept code at one of `count`
    values from low to high (the array saved as (rows, columns, 1, 28, 28)). What can be checked
    before the model is loaded is: the output file, matplotlib for a picture, the class, the codes.
    A language model's samples are text: see text_sample_to_file."""
    if is_agent_run(run_dir):
        if label is not None or codes or sweep is not None:
            raise UsageError("--class, --code and --sweep are for image models; an agent's sample is an episode")
        return episode_to_gif(run_dir, n, out, seed)
    if is_text_run(run_dir):
        if label is not None or codes or sweep is not None:
            raise UsageError("--class, --code and --sweep are for image models; a language model's samples have none")
        return text_sample_to_file(run_dir, n, out, seed)
    out = None if out is None else check_output(out)
    if (out is None or out.suffix == ".png") and not plots.available():
        raise UsageError(f"writing samples as a .png picture {plots.MISSING} (or write the array: --out FILE.npy)")
    if label is not None:
        check_label(run_dir, label)
    by_codes = bool(codes) or sweep is not None
    if by_codes:
        check_codes(run_dir)
    n = (10 if sweep is not None else 64) if n is None else n
    run, config, model, step = load_trained(run_dir)
    if out is None:
        run.samples.mkdir(exist_ok=True)
        out = run.samples / f"sample_step_{step:06d}.png"
    generator = stream(config["seed"] if seed is None else seed, SAMPLE_STREAM)
    title = f"{config['model']} on {config['dataset']}, step {step}" + ("" if label is None else f", class {label}")
    if by_codes:
        samples = code_samples(model, n, codes or {}, sweep, generator)
        title += code_title(codes or {}, sweep)
    else:
        labels = None if label is None else numpy.full(n, label, numpy.int64)
        samples = model.sample(n, labels=labels, generator=generator)
    try:
        if out.suffix == ".npy":
            numpy.save(out, samples)
        elif by_codes:
            plots.save_image_grid(samples.reshape(-1, *samples.shape[2:]), out, title, cols=samples.shape[1])
        else:
            plots.save_samples(samples, out, title, reference_points(config))
    except OSError as error:
        raise UsageError(f"cannot write {out}: {error.strerror or error}") from None
    return out


def stored_config(run_dir):
    return check_stored_config(RunFolder.open(run_dir).read_config(), RunFolder(run_dir).config_path)


def is_text_run(run_dir):
    """Whether the run trains a language model (its samples are text)."""
    return stored_config(run_dir)["dataset"] in TEXT_DATASETS


def is_agent_run(run_dir):
    """Whether the run trains an agent on a Gymnasium task (its samples are episodes)."""
    return stored_config(run_dir)["dataset"] in ENVIRONMENT_DATASETS


def episode_to_gif(run_dir, max_steps=None, out=None, seed=None):
    """One episode of the run's policy (its actions drawn from it; at most `max_steps` steps) as an
    animated GIF at half Gymnasium's frame size, 25 frames a second, into `out` (default
    RUN_DIR/samples/episode_step_XXXXXX.gif); returns the path."""
    from PIL import Image
    if out is not None:
        out = pathlib.Path(out)
        if out.suffix != ".gif":
            raise UsageError(f"--out must end in .gif for an agent's episode, got {out}")
        check_folder(out)
    run, config, model, step = load_trained(run_dir)
    generator = stream(config["seed"] if seed is None else seed, SAMPLE_STREAM)
    frames, total = render_episode(config["dataset"], model.act_with(generator), seed=reset_seed(generator),
                                   max_steps=max_steps)
    if out is None:
        run.samples.mkdir(exist_ok=True)
        out = run.samples / f"episode_step_{step:06d}.gif"
    images = [Image.fromarray(frame).reduce(2) for frame in frames]
    try:
        images[0].save(out, save_all=True, append_images=images[1:], duration=40, loop=0)
    except OSError as error:
        raise UsageError(f"cannot write {out}: {error.strerror or error}") from None
    sys.stderr.write(f"scratchgen: an episode of {len(frames) - 1} steps, total reward {total:g}\n")
    return out


def reset_seed(generator):
    """The reset seed of the episode, drawn from the sample stream."""
    return int(generator.integers(0, 2 ** 31 - 1, (), numpy.int64, "cpu"))


def text_sample_to_file(run_dir, n=None, out=None, seed=None):
    """A language model's n samples (64), one per line (the argmax character at each position; a
    newline inside a sample shown as "|"), into `out` (a .txt file; default
    RUN_DIR/samples/sample_step_XXXXXX.txt) and its path returned, or to stdout for out "-"
    (then None is returned)."""
    if out is not None and out != "-":
        out = pathlib.Path(out)
        if out.suffix != ".txt":
            raise UsageError(f"--out must end in .txt for a language model's samples (or be - for stdout), got {out}")
        check_folder(out)
    run, config, model, step = load_trained(run_dir)
    samples = model.sample(64 if n is None else n, generator=stream(config["seed"] if seed is None else seed,
                                                                    SAMPLE_STREAM))
    if out == "-":
        sys.stdout.write(plots.text_lines(samples))
        return None
    if out is None:
        run.samples.mkdir(exist_ok=True)
        out = run.samples / f"sample_step_{step:06d}.txt"
    try:
        plots.save_text(samples, out)
    except OSError as error:
        raise UsageError(f"cannot write {out}: {error.strerror or error}") from None
    return out


def code_samples(model, rows, codes, sweep, generator):
    """Images (rows, columns, 1, 28, 28) of model.code_grid: the codes `codes` fixed, the `sweep`
    (name, low, high, count) along the columns."""
    swept = None if sweep is None else (sweep[0], numpy.linspace(sweep[1], sweep[2], sweep[3]))
    latents = model.code_grid(rows, codes, swept, generator)
    images = model.decode(latents.reshape(-1, latents.shape[-1]))
    return images.reshape(*latents.shape[:2], *images.shape[1:])


def code_title(codes, sweep):
    parts = [f"{name}={value:g}" for name, value in codes.items()]
    if sweep is not None:
        parts.append(f"columns: {sweep[0]} from {sweep[1]:g} to {sweep[2]:g}")
    if "c1" not in codes and (sweep is None or sweep[0] != "c1"):
        parts.append("row r: c1 = r mod 10")
    return "\n" + "; ".join(parts)


def check_codes(run_dir):
    """--code, --sweep: for a model with codes besides z (InfoGAN)."""
    config = check_stored_config(RunFolder.open(run_dir).read_config(), RunFolder(run_dir).config_path)
    if not hasattr(model_class(config["model"]), "code_grid"):
        raise UsageError(f"--code and --sweep set the codes of InfoGAN (c1, c2, c3); {config['model']} has none")


def check_output(out):
    """--out as a Path: a .png or .npy file in a folder that exists (it is not created)."""
    out = pathlib.Path(out)
    if out.suffix not in (".png", ".npy"):
        raise UsageError(f"--out must end in .png (a picture) or .npy (the array), got {out}")
    return check_folder(out)


def check_folder(out):
    """`out` (a Path) names a file in a folder that exists."""
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
