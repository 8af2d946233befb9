"""The `scratchgen` command line.

    scratchgen list                                      the models, one line each with its paper
    scratchgen train wgan-gp --dataset 8gaussians        a run folder under runs/ (see scratchgen/train/run.py)
    scratchgen train --resume RUN_DIR                    continue a stopped run exactly
    scratchgen sample RUN_DIR --n 64                     a picture of samples
    scratchgen eval RUN_DIR                              metrics, also written to RUN_DIR/eval.json
    scratchgen demo                                      fit a small MLP (the engine alone)

Bad input gets one line on stderr and exit status 2; a run that fails (missing data, a loss
that became NaN) exits with 1; a run stopped by Ctrl-C saves a checkpoint and exits with 130.
"""
import argparse
import json
import sys

USAGE_ERROR, RUN_FAILED, INTERRUPTED = 2, 1, 130


class CommandLineError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse that reports bad input as one line (by raising, so main returns the status)."""

    def error(self, message):
        raise CommandLineError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def _number(convert, what, minimum, strict):
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (value > minimum if strict else value >= minimum):  # also refuses nan
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value
    parse.__name__ = what
    return parse


positive_int = _number(int, "a positive integer", 0, strict=True)
non_negative_int = _number(int, "a non-negative integer", 0, strict=False)
positive_float = _number(float, "a positive number", 0.0, strict=True)


def setting(text):
    """KEY=VALUE, the value read as JSON (numbers, true/false, lists) or else as a string."""
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def build_parser():
    parser = Parser(prog="scratchgen", description="Deep generative models from scratch: train, sample, evaluate.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    commands.add_parser("list", help="the models, one line each with its paper and datasets")

    train = commands.add_parser("train", help="train a model into a run folder, or --resume one")
    train.add_argument("model", nargs="?", help="a model name from `scratchgen list` (not with --resume)")
    train.add_argument("--dataset", help="8gaussians, 25gaussians, swissroll or mnist (default: the model's first)")
    length = train.add_mutually_exclusive_group()
    length.add_argument("--steps", type=positive_int, help="total training steps of the run (default: the model's)")
    length.add_argument("--epochs", type=positive_float, help="total passes over the training set instead")
    train.add_argument("--batch-size", type=positive_int, help="examples per step (per critic step for GANs)")
    train.add_argument("--lr", type=positive_float, help="learning rate (default: the paper's)")
    train.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    train.add_argument("--seed", type=non_negative_int, default=0)
    train.add_argument("--out", metavar="RUN_DIR", help="the run folder (default: runs/MODEL-DATASET-TIME)")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue this run from its newest checkpoint")
    train.add_argument("--data-dir", help="folder with the MNIST .gz files (else $SCRATCHGEN_DATA, then the cache)")
    train.add_argument("--set", dest="settings", metavar="KEY=VALUE", type=setting, action="append", default=[],
                       help="any other setting of the model, e.g. --set gp_lambda=10 (see config.json)")

    sample = commands.add_parser("sample", help="draw samples from a run's model into a picture")
    sample.add_argument("run_dir", metavar="RUN_DIR")
    sample.add_argument("--n", type=positive_int, default=64, help="how many samples (default 64)")
    sample.add_argument("--class", dest="label", type=non_negative_int, help="the class, for a conditional model")
    sample.add_argument("--out", help="a .png or .npy file (default: RUN_DIR/samples/sample_step_XXXXXX.png)")
    sample.add_argument("--seed", type=non_negative_int, help="noise seed (default: the run's)")

    evaluate = commands.add_parser("eval", help="measure a run's model; writes RUN_DIR/eval.json")
    evaluate.add_argument("run_dir", metavar="RUN_DIR")
    evaluate.add_argument("--k", type=positive_int, default=5000, help="importance samples for the VAE bound (5000)")
    evaluate.add_argument("--n-test", type=positive_int, help="test images for likelihoods (default: all 10,000)")
    evaluate.add_argument("--n", type=positive_int, help="samples for sample metrics (toys 2500, MNIST 10000)")
    evaluate.add_argument("--data-dir", help="folder with the MNIST .gz files")

    demo = commands.add_parser("demo", help="fit a small MLP to sin(3x) with the engine (offline, ~10 s)")
    demo.add_argument("--steps", type=positive_int, default=2000)
    demo.add_argument("--lr", type=positive_float, default=1e-2)
    demo.add_argument("--seed", type=non_negative_int, default=0)
    return parser


def run_list(args):
    from .models import list_models
    for name, paper, datasets in list_models():
        print(f"{name:15s} {paper} [{', '.join(datasets)}]")


def run_train(args):
    from . import train
    if args.resume is not None:
        changed = [flag for flag, value in (("MODEL", args.model), ("--dataset", args.dataset),
                                            ("--batch-size", args.batch_size), ("--lr", args.lr),
                                            ("--out", args.out), ("--set", args.settings)) if value]
        if changed:
            raise CommandLineError(f"scratchgen train: error: --resume continues a run with its own settings; "
                                   f"{', '.join(changed)} cannot be given with it (start a new run instead)")
        run, outcome = train.resume(args.resume, steps=args.steps, epochs=args.epochs, data_dir=args.data_dir)
    else:
        if args.model is None:
            raise CommandLineError("scratchgen train: error: give a MODEL (see scratchgen list) or --resume RUN_DIR")
        overrides = dict(args.settings)
        overrides.update({key: value for key, value in (("batch_size", args.batch_size), ("lr", args.lr))
                          if value is not None})
        run, outcome = train.start(args.model, args.dataset, args.steps, args.epochs, overrides, args.seed,
                                   args.device, args.out, args.data_dir)
    if outcome == "interrupted":
        print(f"stopped; checkpoint saved in {run.checkpoints}. Continue with: scratchgen train --resume {run.path}",
              file=sys.stderr)
        return INTERRUPTED
    print(f"done: {run.path}")
    return 0


def run_sample(args):
    from .train import sample_to_file
    print(sample_to_file(args.run_dir, args.n, args.label, args.out, args.seed))


def run_eval(args):
    from .train import evaluate
    results = evaluate(args.run_dir, args.data_dir, args.k, args.n_test, args.n)
    for name, value in results.items():
        print(f"{name}: {value:.4f}" if isinstance(value, float) else f"{name}: {value}")


def run_demo(args):
    from .demo import fit_sine
    history = fit_sine(steps=args.steps, lr=args.lr, seed=args.seed)
    print(f"mse fell from {history[0][1]:.4f} to {history[-1][1]:.4f}")


COMMANDS = {"list": run_list, "train": run_train, "sample": run_sample, "eval": run_eval, "demo": run_demo}


def main(argv=None):
    from .train import TrainingDiverged
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args) or 0
    except CommandLineError as error:
        print(error, file=sys.stderr)
        return USAGE_ERROR
    except ValueError as error:  # settings the model or the data refuse
        print(f"scratchgen: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except (OSError, TrainingDiverged) as error:  # missing data or run folder, a diverged run
        print(f"scratchgen: error: {error}", file=sys.stderr)
        return RUN_FAILED
    except KeyboardInterrupt:
        print("scratchgen: stopped by Ctrl-C", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
