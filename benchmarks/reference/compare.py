"""Train each model with scratchgen and with its PyTorch twin (torch_twins.py for the
convolutional models, torch_twins_mlp.py for the MLP ones) on MNIST or a 2-D toy, from the same
run settings (those `scratchgen train MODEL --dataset D --seed S` resolves), on the same batches
in the same order (scratchgen.train.datasets' data stream for that seed, batch_size x
batches_per_step examples per step, as the training loop feeds it) for the same number of steps,
and score both with the same code, scratchgen.metrics:

    MNIST: FID on LeNet features against the test set, classifier (Inception) score, KL of the
    class histogram to uniform; for vae and conv-vae also the test ELBO and importance-weighted
    test NLL in nats, computed by scratchgen's model on the twin's trained weights (the layers
    and their names match).
    8gaussians, 25gaussians: modes covered and the high-quality fraction (VEEGAN protocol).

    python benchmarks/reference/compare.py --models dcgan cdcgan --seeds 0 1 2 --steps 3000
    python benchmarks/reference/compare.py --models vae conv-vae --nll-images 1000 --nll-k 5000
    python benchmarks/reference/compare.py --dataset 8gaussians --models gan wgan wgan-gp

Writes a markdown table (mean ± std over seeds per model and library, and Welch's t of the
difference) and every run's numbers as JSON to --out (default
benchmarks/results/reference-DATASET.md and .json). The full budgets take hours on 2 CPU cores:
run it on a quiet machine.
"""
import argparse
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
from scratchgen.metrics import image_sample_metrics, load_classifier, toy_sample_metrics
from scratchgen.models.vae import VAE
from scratchgen.train import plots, session
from scratchgen.train.config import resolve_config
from scratchgen.train.datasets import mnist_test_set, training_batches
from scratchgen.train.evaluation import MNIST_SAMPLES, TOY_SAMPLES

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import torch_twins  # noqa: E402
import torch_twins_mlp  # noqa: E402

# CLI name: (scratchgen model, its PyTorch twin)
MODELS = {twin.mirrors.name: (twin.mirrors, twin) for twin in torch_twins.TWINS + torch_twins_mlp.TWINS}
DATASETS = ("mnist", "8gaussians", "25gaussians")  # the toys with modes to count
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
                                                    f"{TOY_SAMPLES} points on a toy, as `scratchgen eval`)")
    parser.add_argument("--nll-images", type=int, default=1000, help="test images for the VAEs' NLL")
    parser.add_argument("--nll-k", type=int, default=5000, help="importance samples per image for the VAEs' NLL")
    parser.add_argument("--data-dir", help="folder with the MNIST .gz files (else $SCRATCHGEN_DATA or the cache)")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch's threads (set OPENBLAS_NUM_THREADS alike)")
    parser.add_argument("--min-classifier-accuracy", type=float, default=0.99)
    parser.add_argument("--out", type=pathlib.Path, help="default: benchmarks/results/reference-DATASET.md")
    args = parser.parse_args(argv)
    trains_on = [name for name, (model_cls, _) in MODELS.items() if args.dataset in model_cls.datasets]
    wrong = [name for name in args.models or [] if name not in trains_on]
    if wrong:
        parser.error(f"{', '.join(wrong)} do(es) not train on {args.dataset}; models that do: {', '.join(trains_on)}")
    args.models = args.models or trains_on
    args.samples = args.samples or (MNIST_SAMPLES if args.dataset == "mnist" else TOY_SAMPLES)
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


def train(model, batches, steps, as_numpy):
    """`steps` train_steps, each on the next batch as the training loop feeds them; returns the seconds taken."""
    start = time.perf_counter()
    for _ in range(steps):
        batch = next(batches)
        model.train_step(tuple(tensor.numpy() for tensor in batch) if as_numpy else batch)
    return time.perf_counter() - start


def draw_samples(model, n):
    return np.concatenate([model.sample(min(SAMPLE_CHUNK, n - i)) for i in range(0, n, SAMPLE_CHUNK)])


def sample_metrics(samples, dataset, trained):
    """scratchgen.metrics' scores of generated images (MNIST) or points (a toy)."""
    return image_sample_metrics(samples, trained) if dataset == "mnist" else toy_sample_metrics(samples, dataset)


def save_picture(samples, name, library, config, args):
    """A grid of the first 64 images, or a scatter of the points over the data, in
    <out folder>/samples/DATASET-MODEL-LIBRARY.png (where matplotlib is installed)."""
    if not plots.available():
        return
    folder = args.out.parent / "samples"
    folder.mkdir(parents=True, exist_ok=True)
    title = f"{name}, {library}, seed {config['seed']}, {config['steps']} steps"
    plots.save_samples(samples[:64] if args.dataset == "mnist" else samples, folder / f"{args.dataset}-{name}-{library}.png",
                       title, session.reference_points(config))


def scratchgen_copy(model_cls, config, twin):
    """The scratchgen VAE holding the twin's trained weights (same layer names)."""
    model = model_cls(config)
    for name in ("encoder", "decoder"):
        state = {key: value.detach().numpy() for key, value in getattr(twin, name).state_dict().items()}
        getattr(model, name).load_state_dict(state)
    return model


def run(name, library, seed, args, trained, overrides):
    """Train and score one model with one library; `overrides` are run settings (e.g. steps)."""
    model_cls = MODELS[name][0]
    config = resolve_config(model_cls, args.dataset, overrides, seed=seed, data_dir=args.data_dir)
    model, batches = build(name, library, config)
    seconds = train(model, batches, config["steps"], as_numpy=library == "pytorch")
    samples = draw_samples(model, args.samples)
    if seed == args.seeds[0]:
        save_picture(samples, name, library, config, args)
    result = {"model": name, "dataset": args.dataset, "library": library, "seed": seed, "steps": config["steps"],
              "train_seconds": seconds, **sample_metrics(samples, args.dataset, trained)}
    if issubclass(model_cls, VAE):
        evaluator = model if library == "scratchgen" else scratchgen_copy(model_cls, config, model)
        images = mnist_test_set(config, model_cls.image_layout)[0][:args.nll_images]
        metrics = evaluator.test_metrics(sg.tensor(images), args.nll_k, sg.Generator(NLL_SEED))
        result.update(test_nll=metrics["test_nll_iwae"], test_elbo=metrics["test_elbo"])
    print(json.dumps(result), flush=True)
    return result


def welch_t(a, b):
    """Welch's t of mean(a) - mean(b): |t| under about 2.8 (4 degrees of freedom, 5%) means the
    libraries differ by no more than their spread over seeds explains."""
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    spread = math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))
    return (statistics.mean(a) - statistics.mean(b)) / spread if spread else float("nan")


def table(results):
    metrics = [m for m in ("fid_lenet", "classifier_score", "kl_to_uniform", "test_nll", "test_elbo",
                           "modes_covered", "high_quality_fraction", "train_seconds") if any(m in r for r in results)]
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


def scoring_note(args, trained):
    """What the numbers measure, for the head of the results file."""
    if trained is not None:
        return f"{args.samples} images scored per run; LeNet classifier test accuracy {trained.test_accuracy:.4f}"
    modes = len(toy_distribution(args.dataset).centers)
    return (f"{args.samples} points scored per run; high quality: within 3 standard deviations of the nearest of "
            f"the {modes} modes; a mode is covered by one high-quality point (VEEGAN, Sec. 5.1)")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    torch.set_num_threads(args.threads)
    trained = (load_classifier(data_dir=args.data_dir, min_accuracy=args.min_classifier_accuracy)
               if args.dataset == "mnist" else None)
    overrides = {} if args.steps is None else {"steps": args.steps}
    results = [run(name, library, seed, args, trained, overrides)
               for name in args.models for seed in args.seeds for library in LIBRARIES]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"Command: python benchmarks/reference/compare.py {' '.join(argv)}\n\n"
                        f"{scoring_note(args, trained)}\n\n{table(results)}")
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1))
    print(table(results))


if __name__ == "__main__":
    main()
