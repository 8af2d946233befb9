"""The `scratchgen` command line.

    scratchgen list                                      the models, one line each with its paper
    scratchgen train wgan-gp --dataset 8gaussians        a run folder under runs/ (see scratchgen/train/run.py)
    scratchgen train --resume RUN_DIR                    continue a stopped run exactly
    scratchgen sample RUN_DIR --n 64                     a picture of samples
    scratchgen eval RUN_DIR                              metrics, also written to RUN_DIR/eval.json
    scratchgen explore RUN_DIR --interpolate             pictures of the latent space (or --arithmetic, --manifold,
                                                         --traverse)
    scratchgen demo                                      fit a small MLP (the engine alone)
    scratchgen run-torch SCRIPT.py [ARGS]                run a PyTorch script on scratchgen (scratchgen/as_torch.py)

Exit status (EXIT_STATUS below, also in --help):

    0    done
    1    the input was good but the run failed: the loss or the weights became NaN/inf, the
         MNIST files could not be found or downloaded, memory ran out, a file could not be written
    2    bad input, in one line on stderr: an unknown command, flag, model, dataset or setting, a
         setting outside its declared range, a path that does not exist (run folder, --data-dir,
         the folder of sample's --out), a run folder that is damaged or holds no checkpoint that
         loads, --device cuda where no GPU can be used
    130  stopped by Ctrl-C (during training: after a checkpoint, which --resume continues)

No mistake in the input ends in a Python traceback. Settings are checked against their
declarations (scratchgen/models/settings.py) before anything is written; a run folder left by a
failed start without a checkpoint can be trained into again. This module imports only the
standard library at the top, and `main` catches Ctrl-C (KeyboardInterrupt) from its first line,
the imports of the command's modules included.
"""
import argparse
import collections
import json
import math
import os
import sys

USAGE_ERROR, RUN_FAILED, INTERRUPTED = 2, 1, 130
EXIT_STATUS = """exit status:
  0    done
  1    the run failed with good input: a loss became NaN/inf, the MNIST files could not be
       found or downloaded, memory ran out, a file could not be written
  2    bad input (one line on stderr): unknown names, a setting outside its declared range, a
       path that does not exist, a damaged run folder or one without a checkpoint that loads
  130  stopped by Ctrl-C (training saves a checkpoint first; continue with --resume)"""
TRAIN_NOTES = """the run's length, batch size and learning rate have flags (--steps or --epochs,
--batch-size, --lr) and are settings too (--set steps=N, batch_size, lr): give each one way,
not both (giving both, or one --set KEY twice, is an error). Every setting is checked against
its declared type and range before anything is written (scratchgen/models/settings.py)."""


EXPLORE_NOTES = """pictures (each into RUN_DIR/explore/ unless --out names a file):
  --interpolate [--n 8] [--rows 8] [--between A,B] [--slerp] [--class C]
      rows along straight (or --slerp: great-circle) paths between codes: samples 2r and 2r+1,
      or samples A and B, of the picture `scratchgen sample RUN_DIR` draws with the same --seed
  --arithmetic "thick 7 - thin 7 + thin 1" [--k 3] [--pool 1000] [--rows 4] [--noise 0.25]
      the mean codes of k samples of each group, combined (Radford et al. 2015, Fig. 7); a group
      names a digit (as the MNIST LeNet of the metrics sees it) and/or handwriting: thick, thin,
      slanted, upright (the third of the pool's samples that is most so)
  --manifold [--n 20] [--n-test N]
      a VAE trained with --set z_dim=2: the latent grid decoded, and the test set's codes
  --traverse [--rows 8]
      a conditional model (cgan, cdcgan): each row one z, each column one class; InfoGAN: one
      panel per code (c1's categories, c2 and c3 from -2 to 2)"""


class CommandLineError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse that reports bad input as one line (by raising, so main returns the status)."""

    def error(self, message):
        raise CommandLineError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def _shown(text, limit=40):
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _number(convert, what, minimum, strict):
    def parse(text):
        try:
            value = convert(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"expected {what}, got {_shown(text)}") from None
        if not (value > minimum if strict else value >= minimum) or not math.isfinite(value):  # refuses nan, inf
            raise argparse.ArgumentTypeError(f"expected {what}, got {_shown(text)}")
        return value
    parse.__name__ = what
    return parse


positive_int = _number(int, "a positive integer", 0, strict=True)
non_negative_int = _number(int, "a non-negative integer", 0, strict=False)
positive_float = _number(float, "a positive number", 0.0, strict=True)
non_negative_float = _number(float, "a non-negative number", 0.0, strict=False)


def index_pair(text):
    """A,B: two sample indices (non-negative integers)."""
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected two sample indices A,B, got {_shown(text)}")
    return tuple(non_negative_int(part.strip()) for part in parts)


def code_value(text):
    """NAME=VALUE: one of InfoGAN's codes and its value (sample --code c1=3)."""
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, e.g. c1=3, got {_shown(text)}")
    return name, _number(float, "a number", -math.inf, strict=True)(value)


def code_sweep(text):
    """NAME=LOW:HIGH:N: a code swept over N values from LOW to HIGH (sample --sweep c2=-2:2:10)."""
    name, equals, span = text.partition("=")
    parts = span.split(":")
    if not equals or not name or len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected NAME=LOW:HIGH:N, e.g. c2=-2:2:10, got {_shown(text)}")
    number = _number(float, "a number", -math.inf, strict=True)
    return name, number(parts[0]), number(parts[1]), positive_int(parts[2])


Set = collections.namedtuple("Set", "key value text")  # one --set: the value read from the text


def setting(text):
    """KEY=VALUE, the value read as JSON (numbers, true/false, null, lists) or else as a string."""
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {_shown(text)}")
    try:
        return Set(key, json.loads(value), value)
    except (ValueError, RecursionError):  # not JSON (or nested past the parser's depth): the text itself
        return Set(key, value, value)


def build_parser():
    parser = Parser(prog="scratchgen", description="Deep generative models from scratch: train, sample, evaluate.",
                    epilog=EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    listing = commands.add_parser("list", help="the models, one line each with its paper and datasets; or one "
                                  "model's settings")
    listing.add_argument("model", nargs="?", help="list this model's settings: default, accepted values, meaning")

    train = commands.add_parser("train", help="train a model into a run folder, or --resume one",
                                epilog=f"{TRAIN_NOTES}\n\n{EXIT_STATUS}", formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("model", nargs="?", help="a model name from `scratchgen list` (not with --resume)")
    train.add_argument("--dataset", help="8gaussians, 25gaussians, swissroll, mnist or binarized-mnist (default: the "
                       "model's first)")
    length = train.add_mutually_exclusive_group()
    length.add_argument("--steps", type=positive_int, help="total training steps of the run (default: the model's)")
    length.add_argument("--epochs", type=positive_float, help="total passes over the training set instead")
    train.add_argument("--env", dest="dataset", help="the Gymnasium task of an agent (trpo, gail, bc, vime): "
                       "CartPole-v1, Acrobot-v1, MountainCar-v0, Pendulum-v1 or MountainCarSparse (--dataset's twin)")
    train.add_argument("--expert", metavar="RUN_DIR", help="gail, bc: the trpo run whose policy gives the demonstrations")
    train.add_argument("--trajectories", type=positive_int, help="gail, bc: expert episodes in the demonstrations")
    train.add_argument("--batch-size", type=positive_int, help="examples per step (per critic step for GANs)")
    train.add_argument("--lr", type=positive_float, help="learning rate (default: the paper's)")
    train.add_argument("--device", choices=("cpu", "cuda"), help="where to train (default: cpu)")
    train.add_argument("--seed", type=non_negative_int, help="seed of every random stream of the run (default: 0)")
    train.add_argument("--out", metavar="RUN_DIR", help="the run folder (default: runs/MODEL-DATASET-TIME); one that "
                       "holds a run without a checkpoint is started over")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue this run from its newest checkpoint that loads")
    train.add_argument("--data-dir", help="folder with the MNIST .gz files (else $SCRATCHGEN_DATA, then the cache)")
    train.add_argument("--nproc", type=positive_int, metavar="N", help="train data-parallel on N processes of this "
                       "machine, each taking batch_size/N rows (starts mpiexec -n N; pip install 'scratchgen[mpi]')")
    train.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard event files (losses, samples, weight "
                       "and gradient histograms) into DIR: the setting tensorboard (pip install "
                       "'scratchgen[tensorboard]'; view with tensorboard --logdir DIR)")
    train.add_argument("--set", dest="settings", metavar="KEY=VALUE", type=setting, action="append", default=[],
                       help="any other setting of the model, e.g. --set gp_lambda=10 (see config.json); VALUE is "
                       "read as JSON")

    sample = commands.add_parser("sample", help="draw samples from a run's model into a picture")
    sample.add_argument("run_dir", metavar="RUN_DIR")
    sample.add_argument("--n", type=positive_int, help="how many samples (default 64); with --sweep, rows (default 10); "
                        "an agent's run: the episode's most steps")
    sample.add_argument("--class", dest="label", type=non_negative_int, help="the class, for a conditional model")
    sample.add_argument("--code", dest="codes", metavar="NAME=VALUE", type=code_value, action="append", default=[],
                        help="InfoGAN: fix a code in every sample: c1 (a category 0-9), c2 or c3 (a number)")
    sample.add_argument("--sweep", metavar="NAME=LOW:HIGH:N", type=code_sweep, help="InfoGAN: the paper's Fig. 2, "
                        "each column the code at one of N values from LOW to HIGH, each row one z (c1 = row mod 10 "
                        "unless fixed)")
    sample.add_argument("--out", help="a .png or .npy file in a folder that exists (default: "
                        "RUN_DIR/samples/sample_step_XXXXXX.png); .npy needs no matplotlib; a language "
                        "model's samples: a .txt file (default RUN_DIR/samples/sample_step_XXXXXX.txt) or - for "
                        "stdout; an agent's episode: a .gif (default RUN_DIR/samples/episode_step_XXXXXX.gif)")
    sample.add_argument("--seed", type=non_negative_int, help="noise seed (default: the run's)")

    evaluate = commands.add_parser("eval", help="measure a run's model; writes RUN_DIR/eval.json")
    evaluate.add_argument("run_dir", metavar="RUN_DIR")
    evaluate.add_argument("--k", type=positive_int, default=5000, help="importance samples for the VAE bound (5000)")
    evaluate.add_argument("--n-test", type=positive_int, help="test images for likelihoods (default: all 10,000)")
    evaluate.add_argument("--n", type=positive_int, help="samples for sample metrics (toys 2500, MNIST 10000)")
    evaluate.add_argument("--data-dir", help="folder with the MNIST .gz files")

    explore = commands.add_parser("explore", help="pictures of what a run's model learned: latent interpolations, "
                                  "vector arithmetic, the 2-D VAE manifold, label traversals",
                                  epilog=EXPLORE_NOTES, formatter_class=argparse.RawDescriptionHelpFormatter)
    explore.add_argument("run_dir", metavar="RUN_DIR")
    picture = explore.add_mutually_exclusive_group(required=True)
    picture.add_argument("--interpolate", action="store_true", help="rows of samples along paths between codes")
    picture.add_argument("--arithmetic", metavar='"A - B + C"', help='vector arithmetic on groups of samples, e.g. '
                         '"thick 7 - thin 7 + thin 1" (digits 0-9; thick, thin, slanted, upright)')
    picture.add_argument("--manifold", action="store_true", help="a VAE with z_dim 2: its decoded latent grid and "
                         "the test set's codes")
    picture.add_argument("--traverse", action="store_true", help="a conditional model (or InfoGAN): each row "
                         "one z, each column one class (or value of a code)")
    explore.add_argument("--n", type=positive_int, help="images along each path (--interpolate, default 8); the "
                         "grid's side (--manifold, default 20)")
    explore.add_argument("--rows", type=positive_int, help="rows (default 8; 4 for --arithmetic)")
    explore.add_argument("--between", metavar="A,B", type=index_pair, help="--interpolate: one path from sample A to "
                         "sample B of `scratchgen sample RUN_DIR` (same --seed)")
    explore.add_argument("--slerp", action="store_true", help="--interpolate along great circles, not lines")
    explore.add_argument("--class", dest="label", type=non_negative_int, help="--interpolate: the class a "
                         "conditional model's paths keep")
    explore.add_argument("--k", type=positive_int, help="--arithmetic: samples averaged per group (default 3)")
    explore.add_argument("--pool", type=positive_int, help="--arithmetic: samples the groups are chosen from "
                         "(default 1000)")
    explore.add_argument("--noise", type=non_negative_float, help="--arithmetic: the uniform noise of the "
                         "result's variations (default 0.25)")
    explore.add_argument("--n-test", type=positive_int, help="--manifold: test images scattered (default all)")
    explore.add_argument("--seed", type=non_negative_int, help="noise seed (default: the run's)")
    explore.add_argument("--out", help="a .png (or .npy: the picture's images) in a folder that exists (default: "
                         "RUN_DIR/explore/WHAT_step_XXXXXX.png)")
    explore.add_argument("--data-dir", help="folder with the MNIST .gz files")

    demo = commands.add_parser("demo", help="fit a small MLP to sin(3x) with the engine (offline, ~10 s)")
    demo.add_argument("--steps", type=positive_int, default=2000)
    demo.add_argument("--lr", type=positive_float, default=1e-2)
    demo.add_argument("--seed", type=non_negative_int, default=0)

    run_torch = commands.add_parser("run-torch", help="run a PyTorch script with `import torch` resolved to scratchgen "
                                    "(as python -m scratchgen.as_torch)")
    run_torch.add_argument("script", metavar="SCRIPT.py", help="the script; its exit status is the command's")
    run_torch.add_argument("args", metavar="ARGS", nargs=argparse.REMAINDER, help="the script's own arguments")
    return parser


def run_list(args):
    from .models import list_models, model_class
    if args.model is None:
        for name, paper, datasets in list_models():
            print(f"{name:15s} {paper} [{', '.join(datasets)}]")
        return
    from .train.config import declared_settings, default_settings
    cls = model_class(args.model)
    print(f"{cls.name}: {cls.paper} [{', '.join(cls.datasets)}]; settings (--set KEY=VALUE):")
    examples = list(dict.fromkeys("mnist" if dataset == "mnist" else "toys" for dataset in cls.datasets))
    first = {"toys": cls.datasets[0], "mnist": "mnist"}
    for key, declaration in declared_settings(cls).items():
        defaults = {kind: default_settings(cls, first[kind]) for kind in examples}
        shown = {kind: json.dumps(settings[key]) for kind, settings in defaults.items() if key in settings}
        default = next(iter(shown.values())) if len(set(shown.values())) == 1 and len(shown) == len(examples) \
            else ", ".join(f"{kind} {value}" for kind, value in shown.items())
        print(f"  {key:17s} {default:24s} {declaration.describe()}: {declaration.help}")


def _flag_value(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def train_overrides(args):
    """{setting: value} of a new run from --set and the setting flags; each setting given once."""
    overrides = {}
    for given in args.settings:
        if given.key in overrides:
            raise CommandLineError(f"scratchgen train: error: --set {given.key} is given twice")
        overrides[given.key] = given.value
    texts = {given.key: given.text for given in args.settings}
    for key, flag, value in (("steps", "--steps", args.steps), ("steps", "--epochs", args.epochs),
                             ("batch_size", "--batch-size", args.batch_size), ("lr", "--lr", args.lr),
                             ("tensorboard", "--tensorboard", args.tensorboard), ("expert", "--expert", args.expert),
                             ("trajectories", "--trajectories", args.trajectories)):
        if value is None:
            continue
        if key in overrides:
            text = texts[key] if len(texts[key]) <= 40 else texts[key][:40] + "..."
            raise CommandLineError(f"scratchgen train: error: {flag} {_flag_value(value)} and --set {key}={text} "
                                   f"both give the run's {key}; give one of them")
        if key != "steps":  # --steps and --epochs go to train.start as the run's length
            overrides[key] = value
    return overrides


def run_train(args):
    if args.nproc is not None and args.nproc > 1:  # data-parallel: this command on N ranks, under mpiexec
        from .distributed.launch import run_ranks
        return run_ranks(args.nproc, args.argv)
    from . import train
    if args.resume is not None:
        changed = [flag for flag, value in (("MODEL", args.model), ("--dataset", args.dataset),
                                            ("--batch-size", args.batch_size), ("--lr", args.lr),
                                            ("--device", args.device), ("--seed", args.seed),
                                            ("--out", args.out), ("--tensorboard", args.tensorboard),
                                            ("--expert", args.expert), ("--trajectories", args.trajectories),
                                            ("--set", args.settings or None)) if value is not None]
        if changed:
            raise CommandLineError(f"scratchgen train: error: --resume continues a run with its own settings; "
                                   f"{', '.join(changed)} cannot be given with it (start a new run instead)")
        run, outcome = train.resume(args.resume, steps=args.steps, epochs=args.epochs, data_dir=args.data_dir)
    else:
        if args.model is None:
            raise CommandLineError("scratchgen train: error: give a MODEL (see scratchgen list) or --resume RUN_DIR")
        run, outcome = train.start(args.model, args.dataset, args.steps, args.epochs, train_overrides(args),
                                   0 if args.seed is None else args.seed, args.device or "cpu", args.out, args.data_dir)
    if outcome == "interrupted":
        print(f"stopped; checkpoint saved in {run.checkpoints}. Continue with: scratchgen train --resume {run.path}",
              file=sys.stderr)
        return INTERRUPTED
    print(f"done: {run.path}")
    return 0


def run_sample(args):
    from .train import sample_to_file
    codes = dict(args.codes)
    if len(codes) < len(args.codes):
        raise CommandLineError("scratchgen sample: error: --code gives one code twice")
    path = sample_to_file(args.run_dir, args.n, args.label, args.out, args.seed, codes, args.sweep)
    if path is not None:  # None: a language model's samples went to stdout (--out -)
        print(path)


def run_eval(args):
    from .train import evaluate
    results = evaluate(args.run_dir, args.data_dir, args.k, args.n_test, args.n)
    for name, value in results.items():
        print(f"{name}: {value:.4f}" if isinstance(value, float) else f"{name}: {value}")


EXPLORE_FLAGS = {"interpolate": ("n", "rows", "between", "slerp", "label"),
                 "arithmetic": ("rows", "k", "pool", "noise"),
                 "manifold": ("n", "n_test"), "traverse": ("rows",)}
EXPLORE_FLAG_NAMES = {"n": "--n", "rows": "--rows", "between": "--between", "slerp": "--slerp", "label": "--class",
                      "k": "--k", "pool": "--pool", "noise": "--noise", "n_test": "--n-test"}


def run_explore(args):
    from .train.explore import explore
    what = next(name for name in EXPLORE_FLAGS if getattr(args, name) not in (None, False))
    given = [flag for flag in EXPLORE_FLAG_NAMES if getattr(args, flag) not in (None, False)]
    stray = [EXPLORE_FLAG_NAMES[flag] for flag in given if flag not in EXPLORE_FLAGS[what]]
    if stray:
        raise CommandLineError(f"scratchgen explore: error: {', '.join(stray)} cannot be given with --{what}")
    if args.between is not None and args.rows is not None:
        raise CommandLineError("scratchgen explore: error: --rows cannot be given with --between (one path)")
    options = {"interpolate": dict(steps=args.n or 8, rows=args.rows, between=args.between, spherical=args.slerp,
                                   label=args.label),
               "arithmetic": dict(expression=args.arithmetic, rows=args.rows, k=args.k or 3, pool=args.pool or 1000,
                                  noise=0.25 if args.noise is None else args.noise),
               "manifold": dict(grid=args.n or 20, n_test=args.n_test),
               "traverse": dict(rows=args.rows)}[what]
    path, found = explore(args.run_dir, what, args.out, args.seed, args.data_dir, **options)
    for line in (found.summary() if hasattr(found, "summary") else [line for t in found for line in t.summary()]):
        print(line)
    print(path)


def run_torch(args):
    """The script's exit status: 1 after an exception in it (its traceback shown), 2 when SCRIPT is not a file."""
    if not os.path.isfile(args.script):
        raise CommandLineError(f"scratchgen run-torch: error: {_shown(args.script)} is not a file (see scratchgen "
                               "run-torch --help)")
    from .as_torch import main as run_script
    return run_script([args.script, *args.args])


def run_demo(args):
    import warnings
    from .demo import fit_sine
    from .train import TrainingDiverged
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"(overflow|invalid value|divide by zero) encountered", RuntimeWarning)
        history = fit_sine(steps=args.steps, lr=args.lr, seed=args.seed)
    if not math.isfinite(history[-1][1]):
        raise TrainingDiverged(f"the demo's mse became {history[-1][1]} by step {history[-1][0]}; try a smaller --lr")
    print(f"mse fell from {history[0][1]:.4f} to {history[-1][1]:.4f}")


COMMANDS = {"list": run_list, "train": run_train, "sample": run_sample, "eval": run_eval, "explore": run_explore,
            "demo": run_demo, "run-torch": run_torch}


def main(argv=None):
    """Run one command; returns its exit status (EXIT_STATUS). Ctrl-C at any point, the imports
    of the command's modules included, ends in one line and status 130."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("scratchgen: stopped by Ctrl-C", file=sys.stderr)
        return INTERRUPTED


def _main(argv):
    try:
        args = build_parser().parse_args(argv)
        args.argv = sys.argv[1:] if argv is None else list(argv)  # the words given, for train --nproc
    except CommandLineError as error:
        print(error, file=sys.stderr)
        return USAGE_ERROR
    except SystemExit as stop:  # --help
        return stop.code if isinstance(stop.code, int) else 0
    from .train import TrainingDiverged
    try:
        return COMMANDS[args.command](args) or 0
    except CommandLineError as error:
        print(error, file=sys.stderr)
        return USAGE_ERROR
    except ValueError as error:  # train.UsageError: settings, run folders and paths that cannot be used
        print(f"scratchgen: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except TrainingDiverged as error:
        print(f"scratchgen: error: {error}", file=sys.stderr)
        return RUN_FAILED
    except BrokenPipeError:  # stdout was closed early (`scratchgen list | head -1`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's flush at exit would fail too
        return RUN_FAILED
    except MemoryError as error:
        print(f"scratchgen: error: out of memory{f' ({error})' if str(error) else ''}: try a smaller batch "
              "size or model", file=sys.stderr)
        return RUN_FAILED
    except OSError as error:  # missing data (not downloadable), a file that could not be written
        print(f"scratchgen: error: {error}", file=sys.stderr)
        return RUN_FAILED


if __name__ == "__main__":
    sys.exit(main())
