"""The `scratchgen` command line."""
import argparse
import sys


def _positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(prog="scratchgen", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="fit a small MLP to sin(3x) with the engine (offline, ~10 s)")
    demo.add_argument("--steps", type=_positive_int, default=2000)
    demo.add_argument("--lr", type=_positive_float, default=1e-2)
    demo.add_argument("--seed", type=int, default=0)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from .demo import fit_sine
        history = fit_sine(steps=args.steps, lr=args.lr, seed=args.seed)
        print(f"mse fell from {history[0][1]:.4f} to {history[-1][1]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
