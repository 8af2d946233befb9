"""The `scratchgen` command's entry point. It lives outside the package so that a Ctrl-C
while the package itself is being imported (NumPy, the backends: the first fifth of a second)
ends in one line and exit status 130, as a Ctrl-C anywhere later does (scratchgen/cli.py)."""
import sys

INTERRUPTED = 130


def main(argv=None):
    try:
        from scratchgen.cli import main as run
    except KeyboardInterrupt:
        print("scratchgen: stopped by Ctrl-C", file=sys.stderr)
        return INTERRUPTED
    return run(argv)
