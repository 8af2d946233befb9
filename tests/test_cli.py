"""The `scratchgen` command line: list, train (and --resume), sample, eval; bad input gets one
line on stderr and a non-zero exit status. MNIST comes from ../shared/data/mnist beside the
repository, found through --data-dir as a user would point at it; nothing is downloaded."""
import json
import pathlib
import shutil
import signal
import subprocess
import urllib.request

import numpy
import pytest

import scratchgen as sg
from scratchgen import metrics
from scratchgen.cli import main
from scratchgen.models import MODELS, model_class
from scratchgen.train import RunFolder, checkpoint, evaluation

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
TINY_TOY = ["--set", "hidden=[16]", "--batch-size", "32"]
TINY_VAE = ["--data-dir", str(SHARED_MNIST), "--set", "hidden=[32]", "--set", "z_dim=4", "--batch-size", "20"]


def _refuse_network(url, *args, **kwargs):
    raise OSError(f"the tests do not use the network (asked for {url})")


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """No network, an empty cache folder and no $SCRATCHGEN_DATA: data only where a test points."""
    monkeypatch.setattr(urllib.request, "urlopen", _refuse_network)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SCRATCHGEN_DATA", raising=False)


def error_line(capsys, notes=()):
    """The single error line a failed command wrote to stderr, after any lines starting with one
    of `notes` (what it reported doing before it failed)."""
    lines = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith(tuple(notes))]
    assert len(lines) == 1, lines
    return lines[0]


def test_list_prints_one_line_per_model_with_its_paper(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(MODELS)
    wgan_gp = lines[list(MODELS).index("wgan-gp")]
    assert "Gulrajani et al. 2017" in wgan_gp and "8gaussians" in wgan_gp


@pytest.mark.parametrize("argv, status, message", [
    (["train", "stylegan"], 2, "unknown model 'stylegan'; known models: vae, conv-vae, gan"),
    (["train", "vae", "--dataset", "8gaussians"], 2, "model vae does not train on dataset '8gaussians'"),
    (["train", "wgan", "--steps", "-3"], 2, "argument --steps: expected a positive integer, got '-3'"),
    (["train", "wgan", "--lr", "abc"], 2, "argument --lr: expected a positive number, got 'abc'"),
    (["train", "wgan", "--lr", "nan"], 2, "argument --lr: expected a positive number, got 'nan'"),
    (["train", "wgan", "--batch-size", "0"], 2, "argument --batch-size: expected a positive integer, got '0'"),
    (["train", "wgan", "--steps", "3", "--epochs", "1"], 2, "argument --epochs: not allowed with argument --steps"),
    (["train", "wgan", "--set", "clip"], 2, "argument --set: expected KEY=VALUE, got 'clip'"),
    (["train", "wgan", "--set", "clipp=0.1"], 2, "unknown setting 'clipp' for wgan"),
    (["train", "wgan", "--device", "tpu"], 2, "argument --device: invalid choice: 'tpu'"),
    (["train"], 2, "give a MODEL"),
    (["train", "--resume", "somewhere", "--lr", "0.1"], 2, "--lr cannot be given with it"),
    (["sample", "no-such-run"], 1, "no-such-run is not a run folder: it has no config.json"),
    (["eval", "no-such-run"], 1, "no-such-run is not a run folder"),
    (["frobnicate"], 2, "argument command: invalid choice: 'frobnicate'"),
])
def test_bad_input_gets_one_clear_line_and_a_non_zero_status(argv, status, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing lands in the repository if a command wrongly starts a run
    assert main(argv) == status
    assert message in error_line(capsys)


def test_missing_mnist_says_where_to_put_the_files(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "vae", "--data-dir", str(empty), "--out", str(tmp_path / "run")]) == 1
    line = error_line(capsys, notes=["scratchgen: downloading "])  # each mirror tried, and refused
    assert "MNIST file train-images-idx3-ubyte.gz not found" in line and "--data-dir" in line
    assert not (tmp_path / "run").exists()  # no half-made run folder


def test_a_diverging_run_exits_with_the_step_in_one_line(capsys, tmp_path):
    with numpy.errstate(over="ignore", invalid="ignore"):
        status = main(["train", "gan", "--lr", "1e10", "--steps", "30", "--out", str(tmp_path / "run"), *TINY_TOY])
    assert status == 1
    assert "non-finite" in error_line(capsys)


def test_ctrl_c_exits_130_with_the_resume_command(capsys, tmp_path, monkeypatch):
    cls = model_class("wgan-gp")
    original_step = cls.train_step

    def step_then_ctrl_c(model, batch):
        losses = original_step(model, batch)
        signal.raise_signal(signal.SIGINT)
        return losses
    monkeypatch.setattr(cls, "train_step", step_then_ctrl_c)
    assert main(["train", "wgan-gp", "--steps", "5", "--out", str(tmp_path / "run"), *TINY_TOY]) == 130
    assert f"scratchgen train --resume {tmp_path / 'run'}" in capsys.readouterr().err
    assert checkpoint.checkpoint_paths(RunFolder(tmp_path / "run"))[-1].name == "step_000001.npz"


def test_vae_on_mnist_trains_resumes_exactly_samples_and_evaluates(capsys, tmp_path):
    straight, resumed = str(tmp_path / "straight"), str(tmp_path / "resumed")
    assert main(["train", "vae", "--steps", "4", "--out", straight, *TINY_VAE]) == 0
    assert main(["train", "vae", "--steps", "2", "--out", resumed, *TINY_VAE]) == 0
    assert main(["train", "--resume", resumed, "--steps", "4"]) == 0
    first, second = (checkpoint.latest_checkpoint(RunFolder(run))[1] for run in (straight, resumed))
    for name, tensor in first["model"]["encoder"].items():
        numpy.testing.assert_array_equal(tensor.numpy(), second["model"]["encoder"][name].numpy())
    assert first["batches"] == second["batches"]  # the shuffled order and the binarisation noise too

    capsys.readouterr()
    assert main(["sample", straight, "--n", "16"]) == 0
    picture = pathlib.Path(capsys.readouterr().out.strip())
    assert picture.read_bytes().startswith(b"\x89PNG")
    assert main(["eval", straight, "--k", "10", "--n-test", "20"]) == 0
    printed = capsys.readouterr().out
    assert "test_elbo: -" in printed and "test_nll_iwae: " in printed
    results = json.loads((tmp_path / "straight" / "eval.json").read_text())
    assert results["k"] == 10 and results["n_test"] == 20
    assert results["test_nll_iwae"] <= -results["test_elbo"] + 5  # the bound is at least about as tight


def test_eval_of_a_gan_on_mnist_reports_the_classifier_metrics(capsys, tmp_path, monkeypatch):
    """The metrics' LeNet is trained once and cached (minutes); an untrained one stands in here,
    so the test checks the wiring from the run to the metric functions, not their values."""
    images, _ = sg.data.load_mnist("test", data_dir=SHARED_MNIST)
    sg.manual_seed(0)
    network = metrics.LeNet()
    mean, cov = metrics.feature_statistics(metrics.features(network, sg.data.to_unit_range(images[:100])))
    stand_in = metrics.TrainedClassifier(network, 0.1, mean, cov, 0.0, metrics.Recipe())
    monkeypatch.setattr(metrics.evaluate, "load_classifier", lambda data_dir: stand_in)
    run = str(tmp_path / "run")
    assert main(["train", "gan", "--dataset", "mnist", "--steps", "1", "--out", run, *TINY_VAE[:2],
                 "--set", "hidden=[8]", "--batch-size", "10"]) == 0
    assert main(["eval", run, "--n", "50"]) == 0
    results = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert results["n_samples"] == 50 and results["fid_lenet"] > 0 and 1 <= results["classifier_score"] <= 10
    assert sum(results["class_histogram"]) == pytest.approx(1, abs=1e-3) and results["kl_to_uniform"] >= 0


def test_sample_refuses_a_class_for_an_unconditional_model(capsys, tmp_path):
    assert main(["train", "wgan-gp", "--steps", "1", "--out", str(tmp_path / "run"), *TINY_TOY]) == 0
    capsys.readouterr()
    assert main(["sample", str(tmp_path / "run"), "--class", "3"]) == 2
    assert "this model is unconditional" in error_line(capsys)


def test_the_console_script_reports_bad_input_in_one_line():
    script = shutil.which("scratchgen")
    assert script is not None, "the scratchgen console script is not installed (pip install -e .)"
    result = subprocess.run([script, "train", "wgan-gp", "--steps", "-3"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "scratchgen train: error: argument --steps: expected a positive integer, got '-3' "
        "(see scratchgen train --help)"]
    assert sg.__version__  # the package imported in the subprocess is this one
