"""`scratchgen explore RUN_DIR`: pictures of what a trained model's latent space does.

    --interpolate [--n 8] [--rows 8] [--between A,B] [--slerp] [--class C]
        rows of samples along straight (lerp) or great-circle (slerp) paths between two codes:
        seeded pairs, or samples A and B of the picture `scratchgen sample RUN_DIR` draws with
        the same --seed (Radford et al. 2015, Sec. 6.1; slerp: White 2016)
    --arithmetic "thick 7 - thin 7 + thin 1" [--k 3] [--pool 1000] [--rows 4] [--noise 0.25]
        vector arithmetic on the mean codes of groups of samples (Radford et al. 2015, Sec. 6.3.2,
        Fig. 7): each group is k samples of a pool that share a property the library measures,
        a digit (as the LeNet of scratchgen.metrics sees it; for a conditional model, the class it
        was drawn with) and/or a handwriting word: thick, thin (metrics.thickness: the thickest
        or thinnest third), slanted, upright (metrics.slant: the third leaning furthest right,
        or the most upright third); the result is decoded with variations of uniform noise
        of +-noise added to it, as the paper's figure
    --manifold [--n 20] [--n-test N]
        for a VAE with a 2-D latent (--set z_dim=2): the decoded images over a grid of the
        Gaussian's quantiles (Kingma & Welling 2013, Fig. 4) beside the test set's codes (the
        encoder's means) coloured by digit
    --traverse [--rows 8]
        for a model with codes besides z (a conditional GAN's class; InfoGAN's codes): each row
        one z, each column one value of the code

The latent interface: what a model gives explore (AdversarialModel has the first two for every
GAN, the VAE its own; a new model family provides them to be explored):

    model.latent(n, generator) -> Tensor (n, z_dim)   codes from the prior, as its `sample` draws them
    model.decode(z, labels=None) -> NumPy             the data of chosen codes, as `sample` returns it
    model.encode_mean(x) -> NumPy (n, z_dim)          (a model with an encoder) where it puts data: --manifold
    model.code_traversals(n, generator)               (a model with codes besides z) {name: [(value,
                                                      labels)]}: --traverse; decode(z, labels) sets them
    model.sample_labels(n, labels)                    (a conditional model) the labels `sample` uses

From Python, each picture's numbers come from a function of a loaded model (interpolate,
arithmetic, manifold, traverse) and the picture from explore(run_dir, what, ...).
"""
import dataclasses
import re
import statistics

import numpy

from ..metrics import load_classifier, probabilities, slant, thickness
from ..models.dcgan import average_latent, lerp, slerp
from . import datasets, plots
from .config import UsageError
from .session import load_trained, reference_points
from .sample import check_output

WHAT = ("interpolate", "arithmetic", "manifold", "traverse")
EXPLORE_STREAM = 9         # the exemplars and noise of --arithmetic (train/datasets.py's streams are 1 to 8)
CONFIDENT = 0.9            # a sample is "a 7" where the classifier gives 7 at least this probability
NUM_CLASSES = 10
DECODE_CHUNK = 500
# the handwriting words of --arithmetic: (measure, direction along it for the expected result)
WORDS = {"thick": ("thickness", +1), "thin": ("thickness", -1), "slanted": ("slant", +1), "upright": ("slant", -1)}


# ---- the latent interface ---------------------------------------------------------------------
def check_latent_interface(model, what="explore"):
    missing = [name for name in ("latent", "decode") if not callable(getattr(model, name, None))]
    if missing:
        raise UsageError(f"{what}: model {model.name} has no latent code to explore (it lacks "
                         f"{' and '.join(missing)}; see scratchgen/train/explore.py)")


def is_conditional(model):
    return callable(getattr(model, "sample_labels", None))


def sample_codes(model, n, seed):
    """The codes (n, z_dim) behind `scratchgen sample RUN_DIR --n n --seed seed` (any n: the
    first rows are the same), as NumPy float32."""
    return model.latent(n, datasets.stream(seed, datasets.SAMPLE_STREAM)).numpy().astype(numpy.float32)


def decode(model, codes, labels=None):
    """model.decode of codes (..., z_dim) with labels (...) or None, in chunks; NumPy (..., *sample shape)."""
    codes = numpy.asarray(codes, numpy.float32)
    flat = codes.reshape(-1, codes.shape[-1])
    flat_labels = None if labels is None else numpy.asarray(labels).reshape(-1)
    parts = []
    for start in range(0, len(flat), DECODE_CHUNK):
        rows = slice(start, start + DECODE_CHUNK)
        chunk_labels = None if flat_labels is None else model.sample_labels(len(flat[rows]), flat_labels[rows])
        parts.append(model.decode(flat[rows], chunk_labels))
    decoded = numpy.concatenate(parts)
    return decoded.reshape(*codes.shape[:-1], *decoded.shape[1:])


def _is_images(model):
    return model.config["dataset"] == "mnist"


# ---- interpolation ----------------------------------------------------------------------------
@dataclasses.dataclass
class Interpolation:
    codes: numpy.ndarray        # (rows, steps, z_dim): each row's path, both ends included
    images: numpy.ndarray       # (rows, steps, 1, 28, 28) images in [0, 1], or (rows, steps, 2) points
    labels: numpy.ndarray       # (rows,) the class each row holds (conditional models), else None
    ends: list                  # [(a, b)]: the indices in `scratchgen sample`'s picture of each row's ends
    spherical: bool

    def summary(self):
        path = "great circles (slerp)" if self.spherical else "straight lines (lerp)"
        ends = ", ".join(f"{a}->{b}" for a, b in self.ends)
        rows = f"{len(self.codes)} row{'s' if len(self.codes) > 1 else ''}"
        return [f"{rows} of {self.codes.shape[1]} along {path} between samples {ends}"]


def interpolate(model, steps=8, rows=8, between=None, spherical=False, seed=0, label=None):
    """Rows of samples along paths between latent codes. The ends of row r are samples 2r and
    2r + 1, or (`between` = (A, B)) one row from sample A to sample B, of the picture
    `scratchgen sample RUN_DIR --seed seed [--class label]` draws: the path's first and last
    images are those samples. A conditional model's row keeps one class: `label`, else the
    class the samples were drawn with (row r of the seeded pairs: class r % 10)."""
    check_latent_interface(model, "--interpolate")
    conditional = is_conditional(model)
    if label is not None and not conditional:
        raise UsageError(f"--class {label}: this model is unconditional ({model.name}), so the class cannot be chosen")
    if steps < 2:
        raise UsageError(f"--n must be at least 2 for a path (both ends are drawn), got {steps}")
    ends = [tuple(between)] if between is not None else [(2 * r, 2 * r + 1) for r in range(rows)]
    count = max(max(pair) for pair in ends) + 1
    codes = sample_codes(model, count, seed)
    labels = None
    if conditional:
        drawn = model.sample_labels(count, label).numpy()
        if between is not None:
            a, b = between
            if drawn[a] != drawn[b]:
                raise UsageError(f"samples {a} and {b} are of classes {drawn[a]} and {drawn[b]}, and a conditional "
                                 f"model's path keeps one class: give --class C (and choose A and B in "
                                 f"`scratchgen sample RUN_DIR --class C`)")
            labels = numpy.array([drawn[a]])
        else:
            labels = numpy.array([label if label is not None else r % NUM_CLASSES for r in range(rows)])
    walk = slerp if spherical else lerp
    paths = numpy.stack([walk(codes[a], codes[b], steps) for a, b in ends])
    images = decode(model, paths, None if labels is None else numpy.repeat(labels[:, None], steps, axis=1))
    return Interpolation(paths, images, labels, ends, spherical)


# ---- vector arithmetic ------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Group:
    """Samples named by a digit and/or handwriting words (WORDS): "thick 7", "7", "thin"."""
    text: str
    digit: int = None
    words: tuple = ()


def parse_group(text, expression):
    digit, words, measures = None, [], {}
    for word in text.split():
        if word.isdigit() and len(word) == 1:
            if digit is not None:
                raise UsageError(f"--arithmetic {expression!r}: the group {text!r} names two digits")
            digit = int(word)
        elif word in WORDS:
            measure = WORDS[word][0]
            if measure in measures:
                raise UsageError(f"--arithmetic {expression!r}: the group {text!r} says {measures[measure]!r} and "
                                 f"{word!r}, both of its {measure}")
            measures[measure] = word
            words.append(word)
        else:
            raise UsageError(f"--arithmetic {expression!r}: {word!r} is not a digit 0-9 or one of "
                             f"{', '.join(WORDS)}")
    if digit is None and not words:
        raise UsageError(f"--arithmetic {expression!r}: a group is empty (write groups such as 'thick 7', '3' "
                         "or 'thin' between the signs)")
    return Group(" ".join(text.split()), digit, tuple(words))


def parse_expression(expression):
    """[(sign +1 or -1, Group)] of "A - B + C" (any number of groups joined by + and -)."""
    if not isinstance(expression, str) or not expression.strip():
        raise UsageError("--arithmetic needs an expression such as \"thick 7 - thin 7 + thin 1\"")
    parts = re.split(r"([+-])", expression)
    if parts[0].strip() == "" and len(parts) > 1 and parts[1] == "+":
        parts = parts[2:]
    terms, sign = [], +1
    for index, part in enumerate(parts):
        if index % 2:
            sign = +1 if part == "+" else -1
        else:
            terms.append((sign, parse_group(part, expression)))
    return terms


def expected_outcome(terms):
    """(class or None, {measure: net direction}) that the arithmetic should give: the digits
    and words counted with their signs ("thick 7 - thin 7 + thin 1": class 1, thickness +1).
    The class is None unless the digits leave exactly one of them, counted once."""
    classes, directions = {}, {}
    for sign, group in terms:
        if group.digit is not None:
            classes[group.digit] = classes.get(group.digit, 0) + sign
        for word in group.words:
            measure, direction = WORDS[word]
            directions[measure] = directions.get(measure, 0) + sign * direction
    left = {digit: count for digit, count in classes.items() if count}
    expected = next(iter(left)) if len(left) == 1 and next(iter(left.values())) == 1 else None
    return expected, directions


@dataclasses.dataclass
class Pool:
    """The samples the groups are drawn from: `scratchgen sample RUN_DIR --n size --seed seed`."""
    codes: numpy.ndarray        # (size, z_dim)
    images: numpy.ndarray       # (size, 1, 28, 28)
    classes: numpy.ndarray      # (size,) the digit (-1: the classifier is unsure), or a conditional model's label
    thickness: numpy.ndarray
    slant: numpy.ndarray

    def members(self, group):
        """Indices of the pool's samples in `group`; the words pick a third of those of its digit."""
        chosen = (numpy.arange(len(self.codes)) if group.digit is None
                  else numpy.flatnonzero(self.classes == group.digit))
        for word in group.words:
            if len(chosen) == 0:
                break
            values = {"thick": self.thickness, "thin": -self.thickness, "slanted": self.slant,
                      "upright": -numpy.abs(self.slant)}[word][chosen]
            chosen = chosen[values >= numpy.quantile(values, 2 / 3)]
        return chosen


def draw_pool(model, size, seed, network):
    """Pool of `size` samples with their codes and measures; `network` the LeNet classifying them."""
    codes = sample_codes(model, size, seed)
    if is_conditional(model):
        classes = model.sample_labels(size).numpy()
        images = decode(model, codes, classes)
    else:
        images = decode(model, codes)
        table = probabilities(network, images, progress=False)
        classes = numpy.where(table.max(axis=1) >= CONFIDENT, table.argmax(axis=1), -1)
    return Pool(codes, images, classes, thickness(images), slant(images))


@dataclasses.dataclass
class Arithmetic:
    expression: str
    terms: list                 # [(sign, Group)]
    group_sizes: list           # how many of the pool's samples each group has
    exemplars: numpy.ndarray    # (rows, terms, k) pool indices
    exemplar_images: numpy.ndarray  # (rows, terms, k, 1, 28, 28)
    mean_images: numpy.ndarray  # (rows, terms, 1, 28, 28): each group's mean code, decoded
    codes: numpy.ndarray        # (rows, 1 + variants, z_dim): the result, then it with noise added
    images: numpy.ndarray       # (rows, 1 + variants, 1, 28, 28): those decoded
    expected_class: int         # or None
    directions: dict            # {measure: +n / -n}: which way the result should move
    seen: numpy.ndarray         # (rows, 1 + variants): the classifier's class of each result image
    thickness: numpy.ndarray    # (rows, 1 + variants), and of the exemplars: (rows, terms, k)
    exemplar_thickness: numpy.ndarray
    slant: numpy.ndarray
    exemplar_slant: numpy.ndarray
    pool: Pool                  # the samples the groups were drawn from

    def seen_as_expected(self):
        """The fraction of result images the classifier sees as the expected class (None if none is)."""
        return None if self.expected_class is None else float((self.seen == self.expected_class).mean())

    def summary(self):
        groups = ", ".join(f"{group.text!r} {size}" for (_, group), size in zip(self.terms, self.group_sizes))
        lines = [f"{self.expression}: groups of {groups} in the pool; {len(self.codes)} rows of "
                 f"{self.exemplars.shape[2]} exemplars each"]
        if self.expected_class is not None:
            lines.append(f"the classifier sees {int((self.seen == self.expected_class).sum())} of {self.seen.size} "
                         f"results as a {self.expected_class} ({self.seen_as_expected():.0%}; chance 10%)")
        for measure, direction in self.directions.items():
            if direction:
                result = getattr(self, measure).mean()
                last = [i for i, (sign, group) in enumerate(self.terms) if sign > 0][-1]
                base = getattr(self, f"exemplar_{measure}")[:, last].mean()
                lines.append(f"{measure} of the results {result:.2f} against {base:.2f} for "
                             f"{self.terms[last][1].text!r} (expected {'higher' if direction > 0 else 'lower'})")
        return lines


def check_arithmetic(model, expression):
    """The checks of --arithmetic that need no classifier (so bad input is reported before one
    loads): (terms, expected class, directions, conditional?) of `expression` for `model`."""
    check_latent_interface(model, "--arithmetic")
    if not _is_images(model):
        raise UsageError(f"--arithmetic measures digits, but this model ({model.name}) was trained on "
                         f"{model.config['dataset']}")
    terms = parse_expression(expression)
    expected, directions = expected_outcome(terms)
    conditional = is_conditional(model)
    if conditional and expected is None:
        raise UsageError(f"--arithmetic {expression!r}: a conditional model decodes the result with a class, and "
                         "the digits of the expression leave none (write e.g. 'thick 7 - thin 7 + 1')")
    return terms, expected, directions, conditional


def arithmetic(model, expression, network, k=3, pool=1000, rows=4, noise=0.25, variants=4, seed=0):
    """Radford et al. 2015, Sec. 6.3.2: for each of `rows` rows, k random samples of each group
    of `expression` (from a pool of `pool` samples), their mean codes combined with the
    expression's signs, and the result decoded with `variants` more of it plus uniform noise in
    [-noise, noise] (Fig. 7). `network` classifies the pool (unconditional models) and the results."""
    terms, expected, directions, conditional = check_arithmetic(model, expression)
    drawn = draw_pool(model, pool, seed, network)
    memberships = [drawn.members(group) for _, group in terms]
    for (_, group), members in zip(terms, memberships):
        if len(members) < k:
            raise UsageError(f"--arithmetic: only {len(members)} of the {pool} samples are {group.text!r}, fewer than "
                             f"--k {k}: draw a larger --pool")
    rng = numpy.random.default_rng(numpy.random.SeedSequence([seed, EXPLORE_STREAM]))
    exemplars = numpy.array([[rng.choice(members, k, replace=False) for members in memberships] for _ in range(rows)])
    means = numpy.array([[average_latent(drawn.codes[chosen]) for chosen in row] for row in exemplars])
    signs = numpy.array([sign for sign, _ in terms], numpy.float32)
    results = numpy.einsum("t,rtd->rd", signs, means)
    jitter = rng.uniform(-noise, noise, (rows, variants, results.shape[1])).astype(numpy.float32)
    codes = numpy.concatenate([results[:, None], results[:, None] + jitter], axis=1)
    if conditional:
        group_labels = numpy.array([expected if group.digit is None else group.digit for _, group in terms])
        mean_images = decode(model, means, numpy.broadcast_to(group_labels, means.shape[:2]))
        images = decode(model, codes, numpy.full(codes.shape[:2], expected))
    else:
        mean_images = decode(model, means)
        images = decode(model, codes)
    seen = probabilities(network, images.reshape(-1, *images.shape[2:]), progress=False).argmax(axis=1)
    flat = images.reshape(-1, *images.shape[2:])
    return Arithmetic(expression, terms, [len(m) for m in memberships], exemplars, drawn.images[exemplars], mean_images,
                      codes, images, expected, directions, seen.reshape(codes.shape[:2]),
                      thickness(flat).reshape(codes.shape[:2]), drawn.thickness[exemplars],
                      slant(flat).reshape(codes.shape[:2]), drawn.slant[exemplars], drawn)


# ---- the 2-D manifold -------------------------------------------------------------------------
@dataclasses.dataclass
class Manifold:
    grid_values: numpy.ndarray  # (n,) the z coordinates of the grid's columns (and rows, from the top down reversed)
    images: numpy.ndarray       # (n, n, 1, 28, 28): row i, column j decodes (z1, z2) = (values[j], values[n-1-i])
    codes: numpy.ndarray        # (N, 2) the encoder's means of the test images
    labels: numpy.ndarray       # (N,) their digits
    knn_accuracy: float         # how well a 5-NN classifier tells the digit from the code

    def summary(self):
        return [f"{len(self.grid_values)}x{len(self.grid_values)} grid over the Gaussian's quantiles "
                f"{self.grid_values[0]:.2f} to {self.grid_values[-1]:.2f}; {len(self.codes)} test codes, from which "
                f"5 nearest neighbours tell the digit {self.knn_accuracy:.1%} of the time (chance 10%)"]


def gaussian_quantiles(n):
    """The standard normal's quantiles at (i + 1/2) / n, i = 0..n-1: an n-point grid whose cells
    hold equal probability (Kingma & Welling 2013, Fig. 4: the unit square through the inverse CDF)."""
    return numpy.array([statistics.NormalDist().inv_cdf((i + 0.5) / n) for i in range(n)], numpy.float32)


def knn_accuracy(codes, labels, k=5):
    """Leave-half-out k-nearest-neighbour accuracy of `labels` from `codes`: the second half of
    the points classified by majority vote of their k nearest neighbours in the first half."""
    codes, labels = numpy.asarray(codes, numpy.float64), numpy.asarray(labels)
    half = len(codes) // 2
    if half < k:
        raise ValueError(f"knn_accuracy: needs at least {2 * k} points, got {len(codes)}")
    reference, queries = codes[:half], codes[half:]
    right = 0
    for start in range(0, len(queries), 1000):
        block = queries[start:start + 1000]
        distances = ((block[:, None, :] - reference[None, :, :]) ** 2).sum(-1)
        nearest = labels[:half][numpy.argsort(distances, axis=1)[:, :k]]
        votes = numpy.array([numpy.bincount(row, minlength=NUM_CLASSES).argmax() for row in nearest])
        right += int((votes == labels[half + start:half + start + len(block)]).sum())
    return right / len(queries)


def manifold(model, images, labels, n=20):
    """The decoded n x n grid over the Gaussian's quantiles and the codes of `images` (test
    images with their digits `labels`) of a VAE with a 2-D latent."""
    if not callable(getattr(model, "encode_mean", None)):
        raise UsageError(f"--manifold needs a model with an encoder (vae, conv-vae), got {model.name}")
    if model.z_dim != 2:
        raise UsageError(f"--manifold draws a 2-D latent space, and this {model.name} has z_dim {model.z_dim}: train "
                         f"one with --set z_dim=2")
    values = gaussian_quantiles(n)
    z1, z2 = numpy.meshgrid(values, values[::-1])  # row 0 at the top holds the largest z2
    grid = decode(model, numpy.stack([z1, z2], axis=-1))
    codes = numpy.concatenate([model.encode_mean(images[start:start + 1000]) for start in range(0, len(images), 1000)])
    return Manifold(values, grid, codes, numpy.asarray(labels), knn_accuracy(codes, labels))


def manifold_of_run(model, config, n=20, n_test=None):
    """manifold() on the run's MNIST test split (its pixels as the model trained on them)."""
    images, labels = datasets.mnist_test_set(config, type(model).image_layout)
    count = len(images) if n_test is None else min(n_test, len(images))
    return manifold(model, images[:count], labels[:count], n)


# ---- traversals of the codes besides z --------------------------------------------------------
@dataclasses.dataclass
class Traversal:
    name: str                   # the code: "class" for a conditional GAN
    values: list                # its values, one per column
    codes: numpy.ndarray        # (rows, z_dim): one z per row
    images: numpy.ndarray       # (rows, len(values), 1, 28, 28)

    def summary(self):
        return [f"{len(self.codes)} rows (one z each) across the {len(self.values)} values of the {self.name}"]


def traverse(model, rows=8, seed=0):
    """[Traversal] for each code the model has besides z (code_traversals): row r decodes
    sample r's code of `scratchgen sample RUN_DIR --seed seed` at every value of that code."""
    check_latent_interface(model, "--traverse")
    if not callable(getattr(model, "code_traversals", None)):
        raise UsageError(f"--traverse walks the codes a model has besides z (a conditional model's class: cgan, "
                         f"cdcgan), and {model.name} has none")
    codes = sample_codes(model, rows, seed)
    walks = model.code_traversals(rows, datasets.stream(seed, EXPLORE_STREAM))
    found = []
    for name, settings in walks.items():
        columns = [model.decode(codes, labels) for _, labels in settings]
        found.append(Traversal(name, [value for value, _ in settings], codes, numpy.stack(columns, axis=1)))
    return found


# ---- pictures ---------------------------------------------------------------------------------
def mosaic(images, gap=1):
    """(rows, cols, 1, H, W) -> one (rows (H + gap) - gap, cols (W + gap) - gap) array, white gaps."""
    rows, cols, _, height, width = images.shape
    canvas = numpy.ones((rows * (height + gap) - gap, cols * (width + gap) - gap), numpy.float32)
    for r in range(rows):
        for c in range(cols):
            top, left = r * (height + gap), c * (width + gap)
            canvas[top:top + height, left:left + width] = images[r, c, 0]
    return canvas


def _figure(width_tiles, height_tiles, scale=0.5):
    plt = plots._pyplot()
    return plt, plt.figure(figsize=(max(4.0, width_tiles * scale), max(2.0, height_tiles * scale)))


def _save(plt, figure, path):
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)


def save_interpolation(found, path, title, reference=None):
    if found.images.ndim == 3:  # 2-D points: each path drawn over the data
        plt = plots._pyplot()
        figure, axes = plt.subplots(figsize=(5, 5))
        if reference is not None:
            axes.scatter(reference[:, 0], reference[:, 1], s=1, c="lightgray", label="data")
        for row, points in enumerate(found.images):
            axes.plot(points[:, 0], points[:, 1], "-o", ms=3, lw=1, color=plt.cm.tab10(row % 10))
            axes.plot(*points[0], "s", color=plt.cm.tab10(row % 10), ms=6)
        axes.set_aspect("equal")
        axes.set_title(title + "\n(squares: the start of each path)")
        _save(plt, figure, path)
        return
    rows, steps = found.images.shape[:2]
    plt, figure = _figure(steps + 2, rows + 1)
    axes = figure.add_subplot()
    axes.imshow(mosaic(found.images), cmap="gray", vmin=0, vmax=1)
    height = found.images.shape[3] + 1
    names = [f"{a} -> {b}" + ("" if found.labels is None else f", class {found.labels[r]}")
             for r, (a, b) in enumerate(found.ends)]
    axes.set_yticks([r * height + height / 2 - 1 for r in range(rows)], names, fontsize=8)
    axes.set_xticks([])
    for side in axes.spines.values():
        side.set_visible(False)
    axes.set_title(title, fontsize=9)
    _save(plt, figure, path)


def save_arithmetic(found, path, title):
    """Each row: every group's k exemplars and its mean code decoded (framed), the signs between
    them, then "=" and the result with its noisy variations (the first framed)."""
    rows, terms, k = found.exemplars.shape
    variants = found.images.shape[1]
    size = found.images.shape[-1]
    tile = size + 2
    columns = terms * (k + 1) + terms + variants  # the tiles, a sign before each group but the first, and "="
    plt, figure = _figure(columns + 1, rows + 1.5)
    axes = figure.add_subplot()
    canvas = numpy.ones((rows * tile, columns * tile), numpy.float32)
    frames, signs, headers = [], [], []
    for r in range(rows):
        column = 0
        for t, (sign, group) in enumerate(found.terms):
            if t > 0 or sign < 0:
                signs.append((r, column, "+" if sign > 0 else "\u2212"))
                column += 1
            if r == 0:
                headers.append((column + k / 2, f"{group.text}\n({k} samples, mean)"))
            for i in range(k):
                canvas[r * tile + 1:r * tile + 1 + size, column * tile + 1:column * tile + 1 + size] = \
                    found.exemplar_images[r, t, i, 0]
                column += 1
            canvas[r * tile + 1:r * tile + 1 + size, column * tile + 1:column * tile + 1 + size] = \
                found.mean_images[r, t, 0]
            frames.append((r, column, "tab:blue"))
            column += 1
        signs.append((r, column, "="))
        column += 1
        if r == 0:
            headers.append((column + (variants - 1) / 2, "result (first), + uniform noise"))
        for v in range(variants):
            canvas[r * tile + 1:r * tile + 1 + size, column * tile + 1:column * tile + 1 + size] = found.images[r, v, 0]
            column += 1
        frames.append((r, column - variants, "tab:red"))
    axes.imshow(canvas, cmap="gray", vmin=0, vmax=1)
    import matplotlib.patches
    for r, c, colour in frames:
        axes.add_patch(matplotlib.patches.Rectangle((c * tile - 0.5, r * tile - 0.5), tile, tile, fill=False,
                                                    edgecolor=colour, lw=1.5))
    for r, c, text in signs:
        axes.text(c * tile + tile / 2, r * tile + tile / 2, text, ha="center", va="center", fontsize=14)
    for centre, text in headers:
        axes.text(centre * tile, -2, text, ha="center", va="bottom", fontsize=7)
    axes.set_axis_off()
    axes.set_title(title, fontsize=9, pad=26)
    _save(plt, figure, path)


def save_manifold(found, path, title):
    plt = plots._pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 5.5))
    n = len(found.grid_values)
    left.imshow(mosaic(found.images, gap=0), cmap="gray", vmin=0, vmax=1)
    size = found.images.shape[-1]
    ticks = [i for i in range(n) if i % max(1, n // 5) == 0] + ([n - 1] if (n - 1) % max(1, n // 5) else [])
    left.set_xticks([i * size + size / 2 for i in ticks], [f"{found.grid_values[i]:.1f}" for i in ticks])
    left.set_yticks([i * size + size / 2 for i in ticks], [f"{found.grid_values[n - 1 - i]:.1f}" for i in ticks])
    left.set_xlabel("z1")
    left.set_ylabel("z2")
    left.set_title("decoded over the Gaussian's quantiles", fontsize=10)
    points = right.scatter(found.codes[:, 0], found.codes[:, 1], c=found.labels, cmap="tab10", vmin=-0.5, vmax=9.5,
                           s=2, alpha=0.6)
    low, high = found.grid_values[0], found.grid_values[-1]
    right.plot([low, high, high, low, low], [low, low, high, high, low], "k--", lw=0.8, label="the grid's extent")
    right.set_aspect("equal")
    right.set_xlabel("z1")
    right.set_ylabel("z2")
    right.set_title(f"test codes (encoder means) by digit; 5-NN accuracy {found.knn_accuracy:.0%}", fontsize=10)
    figure.colorbar(points, ax=right, ticks=range(10), fraction=0.046, pad=0.04).set_label("digit")
    right.legend(loc="upper right", fontsize=8)
    figure.suptitle(title)
    _save(plt, figure, path)


def save_traversals(found, path, title):
    traversal = found[0]  # a conditional GAN has one code; InfoGAN's would each get a panel
    plt = plots._pyplot()
    figure, panels = plt.subplots(1, len(found), figsize=(0.45 * sum(len(t.values) + 1 for t in found) + 1,
                                                          0.45 * len(traversal.codes) + 1.2), squeeze=False)
    for axes, traversal in zip(panels[0], found):
        size = traversal.images.shape[-1] + 1
        axes.imshow(mosaic(traversal.images), cmap="gray", vmin=0, vmax=1)
        axes.set_xticks([c * size + size / 2 - 1 for c in range(len(traversal.values))],
                        [str(value) for value in traversal.values], fontsize=8)
        axes.set_yticks([])
        axes.set_xlabel(traversal.name)
        axes.xaxis.set_label_position("top")
        axes.xaxis.tick_top()
    figure.suptitle(title, fontsize=9, y=0.02, va="bottom")
    _save(plt, figure, path)


# ---- the command ------------------------------------------------------------------------------
def explore(run_dir, what, out=None, seed=None, data_dir=None, classifier=None, steps=8, rows=None, between=None,
            spherical=False, label=None, expression=None, k=3, pool=1000, noise=0.25, grid=20, n_test=None):
    """Draw one picture of a run's model (`what`: interpolate, arithmetic, manifold, traverse)
    into `out` (default RUN_DIR/explore/WHAT_step_XXXXXX.png; a .npy holds the picture's images);
    returns (path, the found object: Interpolation, Arithmetic, Manifold or [Traversal]).
    `classifier`: a TrainedClassifier for --arithmetic (default: scratchgen.metrics' LeNet)."""
    if what not in WHAT:
        raise UsageError(f"explore: what must be one of {', '.join(WHAT)}, got {what!r}")
    out = None if out is None else check_output(out)
    if (out is None or out.suffix == ".png") and not plots.available():
        raise UsageError(f"drawing a picture {plots.MISSING} (or write the images: --out FILE.npy)")
    run, config, model, step = load_trained(run_dir, data_dir)
    seed = config["seed"] if seed is None else seed
    title = f"{config['model']} on {config['dataset']}, step {step}"
    if what == "interpolate":
        found = interpolate(model, steps, 8 if rows is None else rows, between, spherical, seed, label)
        title += f": {'slerp' if spherical else 'lerp'} between samples of `scratchgen sample` (seed {seed})"
        arrays = found.images
    elif what == "arithmetic":
        check_arithmetic(model, expression)  # bad input is reported before the classifier loads
        network = (load_classifier(config["data_dir"]) if classifier is None else classifier).network
        found = arithmetic(model, expression, network, k, pool, 4 if rows is None else rows, noise, seed=seed)
        title += f": {expression} (means of {k} samples; Radford et al. 2015, Fig. 7)"
        arrays = found.images
    elif what == "manifold":
        if not _is_images(model):
            raise UsageError(f"--manifold draws MNIST digits, but this model was trained on {config['dataset']}")
        found = manifold_of_run(model, config, grid, n_test)
        title += ": the 2-D latent space (Kingma & Welling 2013, Fig. 4)"
        arrays = found.images
    else:
        found = traverse(model, 8 if rows is None else rows, seed)
        title += f": each row one z (seed {seed}), each column one value"
        arrays = numpy.stack([t.images for t in found]) if len(found) > 1 else found[0].images
    if out is None:
        folder = run.path / "explore"
        folder.mkdir(exist_ok=True)
        out = folder / f"{what}_step_{step:06d}.png"
    try:
        if out.suffix == ".npy":
            numpy.save(out, arrays)
        elif what == "interpolate":
            save_interpolation(found, out, title, reference_points(config))
        elif what == "arithmetic":
            save_arithmetic(found, out, title)
        elif what == "manifold":
            save_manifold(found, out, title)
        else:
            save_traversals(found, out, title)
    except OSError as error:
        raise UsageError(f"cannot write {out}: {error.strerror or error}") from None
    return out, found
