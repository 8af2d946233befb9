"""Train each model with scratchgen and with its PyTorch twin (torch_twins.py for the
convolutional models, torch_twins_mlp.py for the MLP ones, torch_twins_ddgm.py for DDGM,
torch_twins_lm.py for the WGAN-GP language model, torch_twins_pixel.py for PixelCNN and the PixelRNNs,
torch_twins_unrolled.py for the Unrolled GAN, torch_twins_discrete.py for the categorical VAE)
on MNIST, a 2-D toy, Tiny Shakespeare or binarized MNIST, from
the same run settings (those `scratchgen train MODEL --dataset D --seed S` resolves, with any
--set), on the same batches in the same order (scratchgen.train.datasets' data stream for
that seed, batch_size x batches_per_step examples per step, as the training loop feeds it) for the
same number of steps, and score both with the same code, scratchgen.metrics:

    MNIST: FID on LeNet features against the test set, classifier (Inception) score, KL of the
    class histogram to uniform; for vae and conv-vae also the test ELBO and importance-weighted
    test NLL in nats, computed by scratchgen's model on the twin's trained weights (the layers
    and their names match).
    8gaussians, 25gaussians: modes covered and the high-quality fraction (VEEGAN protocol).
    tinyshakespeare: the Jensen-Shannon divergence of the 1- to 4-gram statistics of samples to
    the held-out text (bits) and the fraction of real words, as `scratchgen eval`.
    binarized-mnist: the exact test NLL in nats per image over the first --nll-images test images,
    as `scratchgen eval`, computed by scratchgen's model on the twin's trained weights (cat-vae: the
    test ELBO, also at the curve points, and at the end the importance-weighted NLL with --nll-k
    one-hot samples, as `scratchgen eval --k`);
    samples (784 network passes each) are not scored, only drawn for the picture (--samples of them, 0: none).

With --curve-every N each run is also scored every N steps (scoring time not counted as
training time); the curves go into the JSON and, as mean +- std over seeds, into OUT.png. With
--keep-earlier the runs already in OUT.json (same dataset, steps, --set and --curve-every) are
kept and only the missing seeds, models or libraries run: a long comparison can grow over sessions.

    python benchmarks/reference/compare.py --models dcgan cdcgan --seeds 0 1 2 --steps 3000
    python benchmarks/reference/compare.py --models vae conv-vae --nll-images 1000 --nll-k 5000
    python benchmarks/reference/compare.py --dataset 8gaussians --models gan wgan wgan-gp
    python benchmarks/reference/compare.py --dataset tinyshakespeare --steps 1000 --curve-every 100 \
        --set dim=32 n_critic=5 batch_size=32 lr=1e-3
    python benchmarks/reference/compare.py --dataset binarized-mnist --models pixelcnn row-lstm --nll-images 1000 \
        --data-dir ../shared/data/binarized_mnist

Writes a markdown table (mean ± std over seeds per model and library, and Welch's t of the
difference) and every run's numbers as JSON to --out (default
benchmarks/results/reference-DATASET.md and .json). The full budgets take hours on 2 CPU cores:
run it on a quiet machine.
"""
import argparse
import contextlib
import functools
import json
import math
import pathlib
import statistics
import sys
import time

import numpy as np
import torch

import scratchgen as sg
from scratchgen.data import toy_distribution
from scratchgen.metrics import image_sample_metrics, load_classifier, text_sample_metrics, toy_sample_metrics
from scratchgen.models.categorical_vae import CategoricalVAE
from scratchgen.models.vae import VAE
from scratchgen.train import plots, session
from scratchgen.train.config import resolve_config
from scratchgen.train.datasets import BINARIZED_MNIST, test_set, text_split, training_batches
from scratchgen.train.evaluation import MNIST_SAMPLES, TEXT_SAMPLES, TOY_SAMPLES

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import torch_twins  # noqa: E402
import torch_twins_ddgm  # noqa: E402
import torch_twins_discrete  # noqa: E402
import torch_twins_lm  # noqa: E402
import torch_twins_mlp  # noqa: E402
import torch_twins_pixel  # noqa: E402
import torch_twins_unrolled  # noqa: E402

# CLI name: (scratchgen model, its PyTorch twin)
TWINS = (torch_twins.TWINS + torch_twins_mlp.TWINS + torch_twins_ddgm.TWINS + torch_twins_lm.TWINS
         + torch_twins_pixel.TWINS + torch_twins_unrolled.TWINS + torch_twins_discrete.TWINS)
MODELS = {twin.mirrors.name: (twin.mirrors, twin) for twin in TWINS}
DATASETS = ("mnist", "8gaussians", "25gaussians", "tinyshakespeare", BINARIZED_MNIST)  # toys: those with modes
CURVE_METRICS = {"mnist": ("fid_lenet", "classifier_score"), "tinyshakespeare": ("js_1", "js_2", "js_3", "js_4"),
                 BINARIZED_MNIST: ("test_nll", "test_elbo"), "toy": ("modes_covered", "high_quality_fraction")}
LATENT_VARIABLE_MODELS = (VAE, CategoricalVAE)  # scored by the test ELBO and the importance-weighted NLL at the end
PICTURE_SAMPLES = 16  # binarized-mnist: samples drawn for the picture only, each 784 network passes
LIBRARIES = ("scratchgen", "pytorch")
RESULTS = pathlib.Path(__file__).resolve().parents[1] / "results"
SAMPLE_CHUNK = 500
NLL_SEED = 2013


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=DATASETS, default="mnist")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS),
                        help="default: every model that trains on the dataset")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, help="training steps per run (default: the model's steps setting)")
    parser.add_argument("--samples", type=int, help=f"samples scored per run (default: {MNIST_SAMPLES} images, "
                                                    f"{TOY_SAMPLES} points on a toy, {TEXT_SAMPLES} sequences "
                                                    f"of text, as `scratchgen eval`); binarized-mnist: samples "
                                                    f"drawn for the picture, not scored (default {PICTURE_SAMPLES}, "
                                                    f"0: no picture)")
    parser.add_argument("--set", nargs="+", default=[], metavar="NAME=VALUE",
                        help="run settings for every run, as `scratchgen train --set` (a value is read as JSON)")
    parser.add_argument("--curve-every", type=int, help="also score every N steps (learning curves)")
    parser.add_argument("--keep-earlier", action="store_true",
                        help="keep the runs of OUT.json made with the same dataset, --steps, --set and --curve-every "
                             "(per model, library and seed) and run only the missing ones")
    parser.add_argument("--nll-images", type=int, default=1000,
                        help="test images for the test NLL (the VAEs', the pixel models' on binarized-mnist)")
    parser.add_argument("--nll-k", type=int, default=5000, help="importance samples per image for the VAEs' NLL")
    parser.add_argument("--data-dir", help="folder with the MNIST .gz files, or binarized_mnist.npz for "
                                           "binarized-mnist (else $SCRATCHGEN_DATA or the cache)")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch's threads (set OPENBLAS_NUM_THREADS alike)")
    parser.add_argument("--min-classifier-accuracy", type=float, default=0.99)
    parser.add_argument("--out", type=pathlib.Path, help="default: benchmarks/results/reference-DATASET.md")
    args = parser.parse_args(argv)
    trains_on = [name for name, (model_cls, _) in MODELS.items() if args.dataset in model_cls.datasets]
    wrong = [name for name in args.models or [] if name not in trains_on]
    if wrong:
        parser.error(f"{', '.join(wrong)} do(es) not train on {args.dataset}; models that do: {', '.join(trains_on)}")
    args.models = args.models or trains_on
    if args.samples is None:
        args.samples = {"mnist": MNIST_SAMPLES, "tinyshakespeare": TEXT_SAMPLES,
                        BINARIZED_MNIST: PICTURE_SAMPLES}.get(args.dataset, TOY_SAMPLES)
    args.overrides = dict(parse_setting(item, parser) for item in args.set)
    if args.steps is not None:
        args.overrides["steps"] = args.steps
    args.out = args.out or RESULTS / f"reference-{args.dataset}.md"
    return args


def build(name, library, config):
    """(model, its batch source): scratchgen's as `scratchgen train` builds them (the global seed,
    the model, then the data stream of batch_size x batches_per_step examples per step), and the
    twin on the same data stream."""
    if library == "scratchgen":
        return session.build(config)
    model_cls, twin_cls = MODELS[name]
    twin = twin_cls(config)
    return twin, training_batches(config, model_cls.image_layout, twin.batches_per_step)


def parse_setting(item, parser):
    """NAME=VALUE -> (name, value), the value read as JSON where it parses (numbers, lists), else a str."""
    name, equals, value = item.partition("=")
    if not equals:
        parser.error(f"--set: expected NAME=VALUE, got {item!r}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def train(model, batches, steps, as_numpy):
    """`steps` train_steps, each on the next batch as the training loop feeds them; returns the seconds taken."""
    start = time.perf_counter()
    for _ in range(steps):
        batch = next(batches)
        model.train_step(tuple(tensor.numpy() for tensor in batch) if as_numpy else batch)
    return time.perf_counter() - start


def draw_samples(model, n):
    return np.concatenate([model.sample(min(SAMPLE_CHUNK, n - i)) for i in range(0, n, SAMPLE_CHUNK)])


@functools.lru_cache(maxsize=1)
def text_reference(data_dir):
    """(training text, held-out sequences) of Tiny Shakespeare, as `scratchgen eval` splits it."""
    return text_split(data_dir)


def sample_metrics(samples, args, trained):
    """scratchgen.metrics' scores of generated images (MNIST), points (a toy) or text."""
    if args.dataset == "mnist":
        return image_sample_metrics(samples, trained)
    if args.dataset == "tinyshakespeare":
        train_text, held_out = text_reference(args.data_dir)
        return text_sample_metrics(list(samples), held_out, train_text)
    return toy_sample_metrics(samples, args.dataset)


def save_picture(samples, name, library, config, args):
    """A grid of the first 64 images, or a scatter of the points over the data, in
    <out folder>/samples/DATASET-MODEL-LIBRARY.png (where matplotlib is installed); the first 20
    text samples in DATASET-MODEL-LIBRARY.txt."""
    folder = args.out.parent / "samples"
    folder.mkdir(parents=True, exist_ok=True)
    if args.dataset == "tinyshakespeare":
        plots.save_text(samples[:20], folder / f"{args.dataset}-{name}-{library}.txt")
        return
    if not plots.available():
        return
    title = f"{name}, {library}, seed {config['seed']}, {config['steps']} steps"
    plots.save_samples(samples[:64] if args.dataset == "mnist" else samples,
                       folder / f"{args.dataset}-{name}-{library}.png", title, session.reference_points(config))


def scratchgen_copy(model_cls, config, twin):
    """The scratchgen model holding the twin's trained weights: each of its networks with weights
    (the VAEs' encoder and decoder, a pixel model's network) loads the twin's network of that name
    (same layer names, masks included); modules without weights (cat-vae's estimator and temperature
    schedule) are not used at test."""
    model = model_cls(config)
    for name, network in vars(model).items():
        if isinstance(network, sg.nn.Module) and list(network.parameters()):
            state = getattr(twin, name).state_dict()
            network.load_state_dict({key: value.detach().numpy() for key, value in state.items()})
    return model


def likelihood_metrics(name, library, model, config, args, elbo_only=False):
    """The test NLL in nats per image of the first --nll-images test images (and the VAEs' ELBO),
    computed by scratchgen's model: the twin's weights in a scratchgen copy, so both libraries are
    scored by the same code. elbo_only: a VAE's test ELBO alone, without the importance sampling."""
    model_cls = MODELS[name][0]
    evaluator = model if library == "scratchgen" else scratchgen_copy(model_cls, config, model)
    images = test_set(config, model_cls.image_layout)[0][:args.nll_images]
    metrics = evaluator.test_metrics(sg.tensor(images), 1 if elbo_only else args.nll_k, sg.Generator(NLL_SEED))
    if elbo_only:
        return {"test_elbo": metrics["test_elbo"]}
    if "test_elbo" in metrics:
        return {"test_nll": metrics["test_nll_iwae"], "test_elbo": metrics["test_elbo"]}
    return {"test_nll": metrics["test_nll"]}  # exact: an autoregressive model


def score(name, library, model, config, args, trained):
    """(the metrics of one point of a run, the samples drawn for them or None): on binarized-mnist
    the test NLL (a VAE's test ELBO: its NLL is scored at the end), elsewhere scratchgen.metrics'
    scores of --samples samples."""
    if args.dataset == BINARIZED_MNIST:
        elbo_only = issubclass(MODELS[name][0], LATENT_VARIABLE_MODELS)
        return likelihood_metrics(name, library, model, config, args, elbo_only), None
    samples = draw_samples(model, args.samples)
    return sample_metrics(samples, args, trained), samples


def run(name, library, seed, args, trained, overrides):
    """Train and score one model with one library; `overrides` are run settings (e.g. steps)."""
    model_cls = MODELS[name][0]
    config = resolve_config(model_cls, args.dataset, overrides, seed=seed, data_dir=args.data_dir)
    model, batches = build(name, library, config)
    seconds, curve, done = 0.0, [], 0
    for step in curve_steps(config["steps"], args.curve_every):
        seconds += train(model, batches, step - done, as_numpy=library == "pytorch")
        metrics, samples = score(name, library, model, config, args, trained)
        curve.append({"step": step, **metrics})
        done = step
    if seed == args.seeds[0] and args.samples:
        save_picture(draw_samples(model, args.samples) if samples is None else samples, name, library, config, args)
    result = {"model": name, "dataset": args.dataset, "library": library, "seed": seed, "steps": config["steps"],
              "settings": overrides, "curve_every": args.curve_every, "train_seconds": seconds,
              **{key: value for key, value in curve[-1].items() if key != "step"}}
    if args.curve_every:
        result["curve"] = curve
    if issubclass(model_cls, LATENT_VARIABLE_MODELS):
        result.update(likelihood_metrics(name, library, model, config, args))
    print(json.dumps(result), flush=True)
    return result


def curve_steps(steps, every):
    """The steps after which a run is scored: every `every` steps and at the end (only the end without `every`)."""
    return sorted({*range(every, steps, every), steps}) if every else [steps]


def save_curves(results, args):
    """OUT.png: each model's curves for each library, mean +- std over the seeds."""
    if not plots.available():
        return
    names = CURVE_METRICS.get(args.dataset, CURVE_METRICS["toy"])
    runs = {f"{r['model']}, {r['library']}": [] for r in results}
    for r in results:
        points = [{"step": point["step"], **{n: point[n] for n in names if n in point}} for point in r["curve"]]
        runs[f"{r['model']}, {r['library']}"].append(points)
    plots.save_band_curves(runs, args.out.with_suffix(".png"), f"{args.dataset}: scratchgen and its PyTorch twins")


def welch_t(a, b):
    """Welch's t of mean(a) - mean(b): |t| under about 2.8 (4 degrees of freedom, 5%) means the
    libraries differ by no more than their spread over seeds explains."""
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    spread = math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))
    return (statistics.mean(a) - statistics.mean(b)) / spread if spread else float("nan")


def table(results):
    metrics = [m for m in ("fid_lenet", "classifier_score", "kl_to_uniform", "test_nll", "test_elbo",
                           "modes_covered", "high_quality_fraction", "js_1", "js_2", "js_3", "js_4",
                           "real_word_fraction", "train_seconds") if any(m in r for r in results)]
    lines = ["| model | library | seeds | steps | " + " | ".join(metrics) + " |",
             "|---|---|---|---|" + "---|" * len(metrics)]
    for name in dict.fromkeys(r["model"] for r in results):
        runs = {lib: [r for r in results if r["model"] == name and r["library"] == lib] for lib in LIBRARIES}
        values = {lib: {m: [r[m] for r in runs[lib] if m in r] for m in metrics} for lib in LIBRARIES}
        for lib in LIBRARIES:
            lines.append(f"| {name} | {lib} | {len(runs[lib])} | {runs[lib][0]['steps']} | "
                         + " | ".join(_mean_std(values[lib][m]) for m in metrics) + " |")
        t_cells = [f"{welch_t(values['scratchgen'][m], values['pytorch'][m]):.2f}" if values["scratchgen"][m] else ""
                   for m in metrics]
        lines.append(f"| {name} | Welch t | | | " + " | ".join(t_cells) + " |")
    return "\n".join(lines) + "\n"


def _mean_std(values):
    if len(values) > 1:
        return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"
    return f"{values[0]:.3f}" if values else ""


@contextlib.contextmanager
def flushed_denormals():
    """Denormal floats read as zero inside the block, as the CPU's flush-to-zero mode: PyTorch's CPU
    kernels run 5x slower on them (DDGM's softplus gradients of inputs near -100 make them). The
    mode is the process's, so it is switched back off after (hypothesis, for one, needs it off)."""
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def earlier_results(args):
    """{(model, library, seed): result} of OUT.json's runs made with this dataset, steps, --set and
    curve points: what --keep-earlier keeps instead of running again."""
    path = args.out.with_suffix(".json")
    if not path.exists():
        return {}
    matching = [r for r in json.loads(path.read_text()) if r["dataset"] == args.dataset
                and r.get("settings", {}) == args.overrides and r.get("curve_every") == args.curve_every]
    return {(r["model"], r["library"], r["seed"]): r for r in matching}


def scoring_note(args, trained):
    """What the numbers measure, for the head of the results file."""
    if trained is not None:
        return f"{args.samples} images scored per run; LeNet classifier test accuracy {trained.test_accuracy:.4f}"
    if args.dataset == BINARIZED_MNIST:
        exact = "test_nll: the exact -log p(x) (van den Oord et al. 2016, Eq. 1)"
        bound = (f"cat-vae: test_elbo, the ELBO at one one-hot z ~ q(z|x) with the KL to the uniform prior in closed "
                 f"form (curves: test_elbo), and test_nll, -log (1/m) sum_i p(x, z_i) / q(z_i|x) over m = {args.nll_k} "
                 f"one-hot z_i ~ q(z|x) (Jang et al. 2016, Sec. 4.3; Burda et al. 2015, Eq. 8)")
        measures = dict.fromkeys(bound if issubclass(MODELS[name][0], LATENT_VARIABLE_MODELS) else exact
                                 for name in args.models)
        return (f"{'; '.join(measures)}; in nats per image over the first {args.nll_images} test images of the "
                f"static binarization, computed by scratchgen's model on each library's trained weights; samples "
                f"not scored")
    if args.dataset == "tinyshakespeare":
        return (f"{args.samples} sequences scored per run against the held-out 10% of Tiny Shakespeare: js_n is the "
                f"Jensen-Shannon divergence of the character n-gram distributions in bits (gan_language.py's "
                f"monitoring); real_word_fraction, of the samples' words those found in the training text")
    modes = len(toy_distribution(args.dataset).centers)
    return (f"{args.samples} points scored per run; high quality: within 3 standard deviations of the nearest of "
            f"the {modes} modes; a mode is covered by one high-quality point (VEEGAN, Sec. 5.1)")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    torch.set_num_threads(args.threads)
    trained = (load_classifier(data_dir=args.data_dir, min_accuracy=args.min_classifier_accuracy)
               if args.dataset == "mnist" else None)
    earlier = earlier_results(args) if args.keep_earlier else {}
    with flushed_denormals():
        results = [earlier.get((name, library, seed)) or run(name, library, seed, args, trained, args.overrides)
                   for name in args.models for seed in args.seeds for library in LIBRARIES]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"Command: python benchmarks/reference/compare.py {' '.join(argv)}\n\n"
                        f"{scoring_note(args, trained)}\n\n{table(results)}")
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1))
    if args.curve_every:
        save_curves(results, args)
    print(table(results))


if __name__ == "__main__":
    main()
