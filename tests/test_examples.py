"""The worked examples in examples/: each script runs in its own process, as a reader would run
it, with a few steps (SCRATCHGEN_EXAMPLE_STEPS), exits with status 0 and prints the line that
says it worked. A script in examples/ without a case here fails the first test.

MNIST comes from ../shared/data/mnist beside the repository (as in tests/test_cli.py); the
scripts run in a temporary folder, and nothing is downloaded (an empty cache folder)."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
STEPS = 40  # SCRATCHGEN_EXAMPLE_STEPS: enough for each loss to fall, short enough for the whole file to take ~20 s

# script -> (extra arguments, given the temporary folder; a line its output must contain, as a regex)
CASES = {
    "01_autograd_from_scratch.py": (
        lambda tmp: [], r"(?m)^gradgradcheck: passed.*\n(.|\n)*^Hessian-vector product vs finite differences: "
                        r"max \|difference\| = .*\n(.|\n)*^loss fell: "),
    "02_custom_function.py": (
        lambda tmp: [], r"(?m)^gradgradcheck SiLU: passed\n(.|\n)*^gradcheck WrongSiLU: caught the bug: "
                        r"gradcheck: Jacobian mismatch(.|\n)*^loss fell: "),
    "03_vae_mnist_python_api.py": (
        lambda tmp: ["--data-dir", str(SHARED_MNIST), "--out", str(tmp / "vae-run")],
        r"(?m)^resumed to step 40: finished\n(.|\n)*^loss fell\n(.|\n)*NLL <= \d+\.\d nats \(IWAE bound, k=100"
        r"(.|\n)*^64 samples drawn to .*sample_step_000040\.png$"),
    "04_wgan_gp_by_hand.py": (
        lambda tmp: ["--plot", str(tmp / "scatter.png")],
        r"(?m)^gradcheck of the gradient penalty w.r.t. the critic's weights: passed(.|\n)*"
        r"^step   40  Wasserstein estimate (.|\n)*^modes covered: \d/8; (.|\n)*^scatter plot: "),
    "05_draw_the_graph.py": (
        lambda tmp: ["--out", str(tmp / "graphs")],
        r"(?m)^\s+0\.weight \(3, 4\)$(.|\n)*^after backward: 10 nodes show 'saved: freed'(.|\n)*"
        r"^drawn to .*gradient\.(svg|txt)$"),
}


def test_every_example_has_a_test_case():
    scripts = sorted(path.name for path in EXAMPLES.glob("*.py"))
    assert scripts, f"no examples found in {EXAMPLES}"
    assert [name for name in scripts if name not in CASES] == [], "examples without a case in CASES"
    assert [name for name in CASES if name not in scripts] == [], "cases for examples that are gone"


def test_the_examples_readme_lists_every_example():
    readme = (EXAMPLES / "README.md").read_text()
    assert [name for name in CASES if f"python examples/{name}" not in readme] == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs_and_reports(name, tmp_path):
    extra, expected = CASES[name]
    env = {**os.environ, "SCRATCHGEN_EXAMPLE_STEPS": str(STEPS), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "MPLBACKEND": "Agg"}
    env.pop("SCRATCHGEN_DATA", None)
    done = subprocess.run([sys.executable, str(EXAMPLES / name), *extra(tmp_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{name} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert re.search(expected, done.stdout), f"{name} did not print {expected!r}; its output:\n{done.stdout}"
