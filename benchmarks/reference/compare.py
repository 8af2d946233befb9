"""Train each convolutional model with scratchgen and with its PyTorch twin (torch_twins.py) on
MNIST, from the same run settings (those `scratchgen train MODEL --seed S` resolves), on the same
batches in the same order (scratchgen.train.datasets' data stream for that seed) for the same
number of steps, and score both with the same code, scratchgen.metrics:

    FID on LeNet features against the test set, classifier (Inception) score, KL of the class
    histogram to uniform; for conv-vae also the importance-weighted test NLL in nats, computed by
    scratchgen's ConvVAE on the twin's trained weights (the layers and their names match).

    python benchmarks/reference/compare.py --models dcgan cdcgan --seeds 0 1 2 --steps 3000
    python benchmarks/reference/compare.py --models conv-vae --nll-images 1000 --nll-k 5000

Writes a markdown table (mean ± std over seeds per model and library, and Welch's t of the
difference) and every run's numbers as JSON to --out (default benchmarks/results/reference.md
and .json). The full budgets take hours on 2 CPU cores: run it on a quiet machine.
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
from scratchgen.metrics import image_sample_metrics, load_classifier
from scratchgen.models.cgan import CDCGAN, CGAN
from scratchgen.models.dcgan import DCGAN, DCGANUpsample
from scratchgen.models.vae_conv import ConvVAE
from scratchgen.train.config import resolve_config
from scratchgen.train.datasets import mnist_test_set, training_batches

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import torch_twins  # noqa: E402

# CLI name: (scratchgen model, its PyTorch twin)
MODELS = {"dcgan": (DCGAN, torch_twins.TorchDCGAN), "dcgan-upsample": (DCGANUpsample, torch_twins.TorchDCGANUpsample),
          "cgan": (CGAN, torch_twins.TorchCGAN), "cdcgan": (CDCGAN, torch_twins.TorchCDCGAN),
          "conv-vae": (ConvVAE, torch_twins.TorchConvVAE)}
LIBRARIES = ("scratchgen", "pytorch")
RESULTS = pathlib.Path(__file__).resolve().parents[1] / "results"
SAMPLE_CHUNK = 500
NLL_SEED = 2013


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=sorted(MODELS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, help="training steps per run (default: the model's steps setting)")
    parser.add_argument("--samples", type=int, default=10_000, help="generated images scored per run")
    parser.add_argument("--nll-images", type=int, default=1000, help="test images for conv-vae's NLL")
    parser.add_argument("--nll-k", type=int, default=5000, help="importance samples per image for conv-vae's NLL")
    parser.add_argument("--data-dir", help="folder with the MNIST .gz files (else $SCRATCHGEN_DATA or the cache)")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch's threads (set OPENBLAS_NUM_THREADS alike)")
    parser.add_argument("--min-classifier-accuracy", type=float, default=0.99)
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS / "reference.md")
    return parser.parse_args(argv)


def train(model, config, image_layout, as_numpy):
    """config["steps"] train_steps on the run's data stream; returns the seconds taken."""
    batches = training_batches(config, image_layout, batches_per_step=1)
    start = time.perf_counter()
    for _ in range(config["steps"]):
        batch = next(batches)
        model.train_step(tuple(tensor.numpy() for tensor in batch) if as_numpy else batch)
    return time.perf_counter() - start


def sample_images(model, n):
    return np.concatenate([model.sample(min(SAMPLE_CHUNK, n - i)) for i in range(0, n, SAMPLE_CHUNK)])


def scratchgen_copy(model_cls, config, twin):
    """The scratchgen model holding the twin's trained weights (same layer names)."""
    model = model_cls(config)
    for name in ("encoder", "decoder"):
        state = {key: value.detach().numpy() for key, value in getattr(twin, name).state_dict().items()}
        getattr(model, name).load_state_dict(state)
    return model


def run(name, library, seed, args, trained, overrides):
    """Train and score one model with one library; `overrides` are run settings (e.g. steps)."""
    model_cls, twin_cls = MODELS[name]
    config = resolve_config(model_cls, overrides=overrides, seed=seed, data_dir=args.data_dir)
    model = (model_cls if library == "scratchgen" else twin_cls)(config)
    seconds = train(model, config, model_cls.image_layout, as_numpy=library == "pytorch")
    result = {"model": name, "library": library, "seed": seed, "steps": config["steps"], "train_seconds": seconds,
              **image_sample_metrics(sample_images(model, args.samples), trained)}
    if name == "conv-vae":
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
    metrics = [m for m in ("fid_lenet", "classifier_score", "kl_to_uniform", "test_nll", "test_elbo", "train_seconds")
               if any(m in r for r in results)]
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


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    torch.set_num_threads(args.threads)
    trained = load_classifier(data_dir=args.data_dir, min_accuracy=args.min_classifier_accuracy)
    overrides = {} if args.steps is None else {"steps": args.steps}
    results = [run(name, library, seed, args, trained, overrides)
               for name in args.models for seed in args.seeds for library in LIBRARIES]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"Command: python benchmarks/reference/compare.py {' '.join(argv)}\n\n"
                        f"LeNet classifier test accuracy {trained.test_accuracy:.4f}\n\n{table(results)}")
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1))
    print(table(results))


if __name__ == "__main__":
    main()
