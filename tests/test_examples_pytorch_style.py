"""examples/pytorch_style/: each script run twice, by PyTorch and by scratchgen (`python -m
scratchgen.as_torch SCRIPT ...`), from the same initial weights and the same batches; the
losses they print must agree: to 1e-9 (relative) in float64, to 1e-4 in float32.

The PyTorch runs share one process (torch's import is paid once); each writes its models'
initial weights with --save-init (NumPy arrays in an .npz), and the scratchgen run of the same
script starts from them (--init-from: model.load_state_dict({k: torch.tensor(v)})). The batches'
order and every noise tensor are drawn by NumPy inside the scripts, seeded by --seed, so both
runs see the same numbers. MNIST is read by the scripts' own IDX reader from ../shared/data/mnist
when it is there; otherwise random images stand in (--data)."""
import json
import math
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest


pytest.importorskip("torch")
ROOT = pathlib.Path(__file__).resolve().parents[1]
FOLDER = ROOT / "examples" / "pytorch_style"
MNIST = ROOT.parent / "shared" / "data" / "mnist"

SMALL = {"vae.py": ["--steps", "4", "--batch-size", "32"],
         "mnist_classifier.py": ["--steps", "4", "--epochs", "2", "--batch-size", "32", "--dropout", "0"],
         "dcgan.py": ["--steps", "3", "--batch-size", "16", "--ngf", "8", "--ndf", "8", "--nz", "16"],
         "wgan_gp_toy.py": ["--steps", "3", "--batch-size", "64", "--dim", "64", "--critic-iters", "3"],
         "cgan.py": ["--steps", "3", "--batch-size", "16", "--dropout", "0"]}
CASES = {f"{script[:-3]}-float64": (script, args + ["--double"]) for script, args in SMALL.items()}
CASES.update({f"{script[:-3]}-float32": (script, SMALL[script]) for script in ("dcgan.py", "wgan_gp_toy.py")})
TOLERANCE = {"float64": 1e-9, "float32": 1e-4}

TORCH_RUNS = r"""
import json, os, runpy, sys, traceback
folder, cases = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, folder)
for name, script, args in cases:
    print(f"=== {name}", flush=True)
    sys.argv = [script, *args]
    try:
        runpy.run_path(os.path.join(folder, script), run_name="__main__")
    except BaseException:
        traceback.print_exc(file=sys.stdout)
"""


def data_args(folder):
    if all((MNIST / f"{name}-ubyte.gz").exists() for name in ("train-images-idx3", "train-labels-idx1")):
        return ["--mnist", str(MNIST), "--n-images", "200"]
    rng = np.random.default_rng(0)
    path = folder / "data.npz"
    np.savez(path, images=rng.random((200, 1, 28, 28)), labels=rng.integers(0, 10, 200))
    return ["--data", str(path)]


def arguments(name, folder, mnist):
    script, args = CASES[name]
    return args + (mnist if script != "wgan_gp_toy.py" else []) + ["--seed", "3"]


@pytest.fixture(scope="module")
def torch_runs(tmp_path_factory):
    """{case: what its PyTorch run printed}, and the folder of the initial weights."""
    folder = tmp_path_factory.mktemp("pytorch_style")
    mnist = data_args(folder)
    cases = [(name, CASES[name][0], arguments(name, folder, mnist) + ["--save-init", str(folder / f"{name}.npz")])
             for name in CASES]
    done = subprocess.run([sys.executable, "-c", TORCH_RUNS, str(FOLDER), json.dumps(cases)], capture_output=True,
                          text=True, timeout=300, cwd=folder)
    assert done.returncode == 0, done.stderr
    printed = dict(re.findall(r"^=== (\S+)\n(.*?)(?=^=== |\Z)", done.stdout, re.DOTALL | re.MULTILINE))
    return printed, folder, mnist


def losses(text):
    """[(line, name, value)] of every `name: number` the script printed."""
    return [(i, name, float(value)) for i, line in enumerate(text.splitlines()) if line.startswith("[")
            for name, value in re.findall(r"(\w+): (\S+)", line)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_pytorch_and_scratchgen_print_the_same_losses(name, torch_runs):
    script = CASES[name][0]
    printed, folder, mnist = torch_runs
    theirs = printed[name]
    assert "Traceback" not in theirs, theirs
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-m", "scratchgen.as_torch", str(FOLDER / script),
                           *arguments(name, folder, mnist), "--init-from", str(folder / f"{name}.npz")],
                          capture_output=True, text=True, timeout=300, cwd=folder, env=env)
    assert done.returncode == 0, done.stderr
    ours, reference = losses(done.stdout), losses(theirs)
    assert len(reference) >= 4 and [(i, n) for i, n, _ in ours] == [(i, n) for i, n, _ in reference]
    tolerance = TOLERANCE[name.rpartition("-")[2]]
    far = [(line, key, a, b) for (line, key, a), (_, _, b) in zip(ours, reference)
           if not math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance * 1e-2)]
    assert not far, f"scratchgen and PyTorch differ (line, name, scratchgen, PyTorch): {far}"


def test_the_scripts_are_short():
    for script in SMALL:
        assert len((FOLDER / script).read_text().splitlines()) <= 130, script
