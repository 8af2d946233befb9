"""Pictures of a run, drawn with matplotlib's Agg backend (files only, no window): sample
grids for images, scatter plots for 2-D points (over the real distribution), and the loss
curves. matplotlib comes with the `plot` extra: pip install "scratchgen[plot]"."""
import importlib.util
import math

import numpy

from ..serialization import write_atomically

GRID_SIZE = 64          # images in a sample grid (8 x 8)
SCATTER_SIZE = 1000     # generated points in a scatter plot


MISSING = "needs matplotlib: pip install 'scratchgen[plot]'"


def installed(module):
    """Whether an optional dependency can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken installation
        return False


def available():
    return installed("matplotlib")


def _pyplot():
    if not available():
        raise ModuleNotFoundError(f"drawing plots {MISSING}")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot
    return matplotlib.pyplot


def text_lines(samples):
    """Text samples (strs) one per line, each newline inside a sample shown as "|" (a character
    Tiny Shakespeare does not use)."""
    return "".join(sample.replace("\n", "|") + "\n" for sample in samples)


def save_text(samples, path):
    """Text samples (strs) into `path`, one per line (text_lines), atomically; needs no matplotlib."""
    contents = text_lines(samples).encode()
    write_atomically(path, lambda file: file.write(contents))


def save_samples(samples, path, title, reference=None):
    """A scatter plot of points (N, 2), over `reference` points of the data if given, or a
    grid of images (N, 1, H, W) in [0, 1]."""
    if samples.ndim == 2 and samples.shape[1] == 2:
        save_scatter(samples, path, title, reference)
    else:
        save_image_grid(samples, path, title)


def save_scatter(points, path, title, reference=None):
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5, 5))
    axes.scatter(points[:, 0], points[:, 1], s=2, c="tab:orange", label="samples")
    if reference is not None:  # drawn on top, so the modes stay visible under the samples
        axes.scatter(reference[:, 0], reference[:, 1], s=1, c="tab:blue", alpha=0.5, label="data")
    axes.set_aspect("equal")
    axes.set_title(title)
    axes.legend(loc="upper right", markerscale=4)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)


def image_grid(images, cols=None):
    """(N, 1, H, W) -> one (rows * H, cols * W) mosaic, the rows filled first, 1-pixel gaps; `cols`
    columns (default: a square)."""
    n, _, height, width = images.shape
    cols = math.ceil(math.sqrt(n)) if cols is None else cols
    rows = math.ceil(n / cols)
    mosaic = numpy.ones((rows * (height + 1) - 1, cols * (width + 1) - 1), numpy.float32)
    for i, image in enumerate(images):
        top, left = (i // cols) * (height + 1), (i % cols) * (width + 1)
        mosaic[top:top + height, left:left + width] = image[0]
    return mosaic


def save_image_grid(images, path, title, cols=None):
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5, 5))
    axes.imshow(image_grid(images, cols), cmap="gray", vmin=0, vmax=1)
    axes.set_axis_off()
    axes.set_title(title)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)


def save_curves(records, path, title):
    """One panel per logged quantity of metrics.jsonl records, against the step."""
    names = list(dict.fromkeys(name for record in records for name in record if name not in ("step", "time_s")))
    if not names:
        return
    plt = _pyplot()
    figure, panels = plt.subplots(len(names), 1, figsize=(6, 2.2 * len(names)), sharex=True, squeeze=False)
    steps = [record["step"] for record in records]
    for panel, name in zip(panels[:, 0], names):
        panel.plot(steps, [record.get(name, math.nan) for record in records], lw=1)
        panel.set_ylabel(name)
    panels[-1, 0].set_xlabel("step")
    panels[0, 0].set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def save_band_curves(runs, path, title):
    """Learning curves of several seeds: `runs` {label: [one run's records [{"step": s, name:
    value}, ...] per seed]}; one panel per quantity, each label's mean over seeds as a line and
    +- one standard deviation as a band."""
    names = list(dict.fromkeys(name for seeds in runs.values() for records in seeds for record in records
                               for name in record if name != "step"))
    plt = _pyplot()
    figure, panels = plt.subplots(len(names), 1, figsize=(6, 2.2 * len(names)), sharex=True, squeeze=False)
    for label, seeds in runs.items():
        steps = [record["step"] for record in seeds[0]]
        for panel, name in zip(panels[:, 0], names):
            values = numpy.array([[record.get(name, math.nan) for record in records] for records in seeds])
            mean, std = values.mean(0), values.std(0)
            line, = panel.plot(steps, mean, lw=1, label=f"{label} ({len(seeds)} seeds)")
            panel.fill_between(steps, mean - std, mean + std, color=line.get_color(), alpha=0.25)
            panel.set_ylabel(name)
    panels[0, 0].legend()
    panels[-1, 0].set_xlabel("step")
    panels[0, 0].set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
