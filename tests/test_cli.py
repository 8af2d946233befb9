"""The `scratchgen` command line: list, train (and --resume), sample, eval; bad input gets one
line on stderr and a non-zero exit status. MNIST comes from ../shared/data/mnist beside the
repository, found through --data-dir as a user would point at it; nothing is downloaded."""
import builtins
import importlib.metadata
import io
import json
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import warnings

import numpy
import pytest

import scratchgen as sg
from scratchgen import train
from scratchgen.cli import main
from scratchgen.models import MODELS, model_class
from scratchgen.train import RunFolder, checkpoint

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
TINY_TOY = ["--set", "hidden=[16]", "--batch-size", "32"]
TINY_VAE = ["--data-dir", str(SHARED_MNIST), "--set", "hidden=[32]", "--set", "z_dim=4", "--batch-size", "20"]


NETWORK_REQUESTS = []


def _refuse_network(url, *args, **kwargs):
    NETWORK_REQUESTS.append(url)
    raise OSError(f"the tests do not use the network (asked for {url})")


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """No network, an empty cache folder and no $SCRATCHGEN_DATA: data only where a test points."""
    monkeypatch.setattr(urllib.request, "urlopen", _refuse_network)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SCRATCHGEN_DATA", raising=False)


PROGRESS_LINE = re.compile(r"\s*step \d+/\d+ \[")  # the progress bar (train/progress.py)


def error_line(capsys, notes=()):
    """The single error line a failed command wrote to stderr, after any lines starting with one
    of `notes` (what it reported doing before it failed) and the progress bar's lines."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines()
             if not line.startswith(tuple(notes)) and not PROGRESS_LINE.match(line)]
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
    (["sample", "no-such-run"], 2, "no-such-run does not exist"),
    (["eval", "no-such-run"], 2, "no-such-run does not exist"),
    (["train", "--resume", "no-such-run"], 2, "no-such-run does not exist"),
    (["train", "wgan", "--set", "n_critic=0"], 2, "setting n_critic must be an integer from 1 to"),
    (["train", "wgan", "--set", "n_critic=" + "[" * 100_000 + "]" * 100_000], 2,
     "setting n_critic must be an integer from 1 to"),  # nested too deep for the JSON parser
    (["train", "wgan", "--set", "lr=1e400"], 2, "setting lr must be a finite number > 0, got inf"),
    (["train", "wgan", "--lr", "inf"], 2, "argument --lr: expected a positive number, got 'inf'"),
    (["train", "wgan", "--epochs", "inf"], 2, "argument --epochs: expected a positive number, got 'inf'"),
    (["train", "wgan", "--steps", "3", "--set", "steps=5"], 2, "--steps 3 and --set steps=5 both give"),
    (["train", "wgan", "--epochs", "1", "--set", "steps=5"], 2, "--epochs 1 and --set steps=5 both give"),
    (["train", "wgan", "--lr", "0.1", "--set", "lr=0.2"], 2, "--lr 0.1 and --set lr=0.2 both give"),
    (["train", "wgan", "--set", "k=1", "--set", "k=2"], 2, "--set k is given twice"),
    (["train", "wgan", "--set", "seed=3"], 2, "'seed' is not a setting of wgan: give it as --seed"),
    (["train", "--resume", "somewhere", "--seed", "1"], 2, "--seed cannot be given with it"),
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


def test_eval_of_a_gan_on_mnist_reports_the_classifier_metrics(capsys, tmp_path, stand_in_classifier):
    """The metrics' LeNet is trained once and cached (minutes); an untrained one stands in here,
    so the test checks the wiring from the run to the metric functions, not their values."""
    stand_in_classifier(0.1)
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


# ---- issue 13: what a new user hit ----------------------------------------------------------------
def train_toy(tmp_path, name="run", *extra):
    """A finished 1-step toy run; returns its folder as a str."""
    out = str(tmp_path / name)
    assert main(["train", "wgan-gp", "--steps", "1", "--out", out, *TINY_TOY, *extra]) == 0
    return out


@pytest.mark.parametrize("setting, message", [("n_critic=0", "setting n_critic must be an integer from 1 to"),
                                              ("hidden=[0]", "setting hidden must be a list of 1 to 16 integers")])
def test_a_setting_out_of_range_is_refused_before_the_run_folder_is_made(setting, message, capsys, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["train", "wgan", "--steps", "2", "--out", str(tmp_path / "run"), "--set", setting]) == 2
    assert message in error_line(capsys)
    assert [str(warning.message) for warning in caught] == []
    assert not (tmp_path / "run").exists()


def test_a_run_folder_that_never_saved_a_checkpoint_can_be_started_over(capsys, tmp_path):
    run = train_toy(tmp_path)
    shutil.rmtree(pathlib.Path(run) / "checkpoints")  # as if killed before its first checkpoint
    capsys.readouterr()
    assert main(["train", "--resume", run]) == 2
    line = error_line(capsys)
    assert "has no checkpoint" in line and f"scratchgen train MODEL --out {run}" in line
    assert main(["train", "wgan-gp", "--steps", "2", "--out", run, *TINY_TOY]) == 0
    assert "starting it over" in capsys.readouterr().err
    assert [record["step"] for record in RunFolder(run).read_metrics()] == [2]  # the old run's lines are gone
    assert main(["train", "wgan-gp", "--steps", "2", "--out", run, *TINY_TOY]) == 2  # now it holds a run
    assert "already holds a run" in error_line(capsys)


def test_sample_to_png_without_matplotlib_says_so_and_npy_still_works(capsys, tmp_path, monkeypatch):
    run = train_toy(tmp_path)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    capsys.readouterr()
    assert main(["sample", run]) == 2
    line = error_line(capsys)
    assert "needs matplotlib" in line and "pip install 'scratchgen[plot]'" in line and ".npy" in line
    assert main(["sample", run, "--out", str(tmp_path / "s.npy")]) == 0
    assert numpy.load(tmp_path / "s.npy").shape == (64, 2)


def test_resume_falls_back_past_a_truncated_newest_checkpoint_and_keeps_it(capsys, tmp_path):
    run = train_toy(tmp_path, "run", "--steps", "3", "--set", "checkpoint_every=1")
    newest = pathlib.Path(run) / "checkpoints" / "step_000003.npz"
    damaged = newest.read_bytes()[:200]
    newest.write_bytes(damaged)
    capsys.readouterr()
    assert main(["train", "--resume", run, "--steps", "4"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "step_000003.npz" in line]
    assert len(notes) == 1
    assert "skipped" in notes[0] and "truncated or corrupt" in notes[0] and "step_000002.npz" in notes[0]
    kept = [path for path in (pathlib.Path(run) / "checkpoints").iterdir() if path.read_bytes() == damaged]
    assert [path.name for path in kept] == ["step_000003.unreadable.npz"]  # the rotation left it alone
    assert [path.name for path in checkpoint.checkpoint_paths(RunFolder(run))] == ["step_000003.npz",
                                                                                 "step_000004.npz"]


def test_when_no_checkpoint_loads_the_error_names_each_and_nothing_is_deleted(capsys, tmp_path):
    run = train_toy(tmp_path, "run", "--steps", "2", "--set", "checkpoint_every=1")
    paths = checkpoint.checkpoint_paths(RunFolder(run))
    for path in paths:
        path.write_bytes(b"garbage")
    capsys.readouterr()
    for argv in (["train", "--resume", run], ["sample", run], ["eval", run]):
        assert main(argv) == 2
        line = error_line(capsys, notes=["scratchgen: skipped"])
        assert "no checkpoint of" in line and "step_000001.npz" in line and "step_000002.npz" in line
        assert all(path.read_bytes() == b"garbage" for path in paths)


def test_a_path_the_user_named_that_does_not_exist_exits_2_without_a_download(capsys, tmp_path):
    NETWORK_REQUESTS.clear()
    missing = str(tmp_path / "nowhere")
    assert main(["train", "vae", "--data-dir", missing, "--out", str(tmp_path / "run")]) == 2
    assert f"--data-dir {missing} does not exist" in error_line(capsys)
    assert NETWORK_REQUESTS == [] and not (tmp_path / "run").exists()
    run = train_toy(tmp_path)
    capsys.readouterr()
    for argv in (["train", "--resume", run, "--data-dir", missing], ["eval", run, "--data-dir", missing]):
        assert main(argv) == 2
        assert f"--data-dir {missing} does not exist" in error_line(capsys)
    assert NETWORK_REQUESTS == []


def test_a_run_folder_without_a_checkpoint_exits_2_for_sample_eval_and_resume(capsys, tmp_path):
    run = train_toy(tmp_path)
    for path in checkpoint.checkpoint_paths(RunFolder(run)):
        path.unlink()
    capsys.readouterr()
    for argv in (["sample", run], ["eval", run], ["train", "--resume", run]):
        assert main(argv) == 2
        assert f"{run} has no checkpoint" in error_line(capsys)


def test_out_naming_an_existing_file_exits_2_in_plain_words(capsys, tmp_path):
    (tmp_path / "file").write_text("mine")
    assert main(["train", "wgan-gp", "--steps", "1", "--out", str(tmp_path / "file"), *TINY_TOY]) == 2
    line = error_line(capsys)
    assert f"{tmp_path / 'file'} is a file, not a folder" in line and "Errno" not in line
    assert (tmp_path / "file").read_text() == "mine"
    assert main(["train", "wgan-gp", "--steps", "1", "--out", str(tmp_path / "file" / "run"), *TINY_TOY]) == 2
    assert "is a file, not a folder" in error_line(capsys)


@pytest.mark.parametrize("text", ['{"model": "wgan-gp", ', "", "\xff\xfe", "[1, 2]"])
def test_a_damaged_config_json_is_named_in_the_error(text, capsys, tmp_path):
    run = train_toy(tmp_path)
    (pathlib.Path(run) / "config.json").write_bytes(text.encode("latin-1"))
    capsys.readouterr()
    for argv in (["sample", run], ["eval", run], ["train", "--resume", run]):
        assert main(argv) == 2
        assert str(pathlib.Path(run) / "config.json") in error_line(capsys)


def test_sample_of_a_class_out_of_range_says_so_briefly(capsys, tmp_path):
    run = str(tmp_path / "run")
    assert main(["train", "cdcgan", "--steps", "1", "--out", run, *TINY_VAE[:2], "--set", "width=4",
                 "--set", "z_dim=4", "--batch-size", "8", "--set", "sample_every=100"]) == 0
    capsys.readouterr()
    assert main(["sample", run, "--class", "11", "--out", str(tmp_path / "s.npy")]) == 2
    line = error_line(capsys)
    assert "--class must be one of the classes 0 to 9, got 11" in line and len(line) < 120
    assert main(["sample", run, "--class", "7", "--out", str(tmp_path / "s.npy")]) == 0


def repeats_itself(text, words=4):
    """Whether some run of `words` words occurs twice in `text`."""
    tokens = re.findall(r"[\w']+", text.lower())
    runs = [tuple(tokens[i:i + words]) for i in range(len(tokens) - words + 1)]
    return len(runs) != len(set(runs))


def test_device_cuda_without_cupy_is_one_line_that_says_it_once(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # as if CuPy were not installed
    assert main(["train", "gan", "--device", "cuda", "--out", str(tmp_path / "run")]) == 2
    line = error_line(capsys)
    assert line.count("pip install 'scratchgen[cuda]'") == 1 and "CuPy is not installed" in line
    assert not repeats_itself(line) and not (tmp_path / "run").exists()


def test_device_cuda_without_a_usable_gpu_is_one_line_that_says_it_once(capsys, tmp_path):
    try:
        sg.zeros(1, device="cuda")
    except Exception:
        pass
    else:
        pytest.skip("this machine has a working GPU")
    assert main(["train", "gan", "--device", "cuda", "--out", str(tmp_path / "run")]) == 2
    line = error_line(capsys)
    assert "device 'cuda' cannot be used here" in line and not repeats_itself(line)


def test_a_diverging_run_prints_only_its_stop_message(capsys, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = main(["train", "gan", "--set", "lr=1e6", "--steps", "30", "--out", str(tmp_path / "run"),
                       *TINY_TOY])
    assert status == 1
    assert "non-finite" in error_line(capsys)
    assert [str(warning.message) for warning in caught] == []


def test_sample_to_a_folder_that_does_not_exist_is_refused(capsys, tmp_path):
    run = train_toy(tmp_path)
    capsys.readouterr()
    for suffix in ("png", "npy"):
        assert main(["sample", run, "--out", str(tmp_path / "nowhere" / "deeper" / f"x.{suffix}")]) == 2
        assert f"folder {tmp_path / 'nowhere' / 'deeper'} does not exist" in error_line(capsys)
    assert not (tmp_path / "nowhere").exists()


def test_time_s_continues_over_a_resume(tmp_path, monkeypatch):
    cls = model_class("wgan-gp")
    original_step = cls.train_step

    def slow_step(model, batch):
        time.sleep(0.05)
        return original_step(model, batch)
    monkeypatch.setattr(cls, "train_step", slow_step)
    run = train_toy(tmp_path, "run", "--steps", "3", "--set", "log_every=2")  # logs 2 and 3, checkpoint at 3
    monkeypatch.setattr(cls, "train_step", original_step)
    assert main(["train", "--resume", run, "--steps", "4"]) == 0
    times = {record["step"]: record["time_s"] for record in RunFolder(run).read_metrics()}
    assert times[4] >= times[3] >= 0.15


def test_ctrl_c_while_the_command_imports_exits_130_in_one_line(capsys, monkeypatch):
    real_import = builtins.__import__

    def interrupted_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level >= 1 and {name, *(fromlist or ())} & {"train", "models"}:
            raise KeyboardInterrupt
        return real_import(name, globals, locals, fromlist, level)
    monkeypatch.setattr(builtins, "__import__", interrupted_import)
    for argv in (["list"], ["train", "gan"], ["sample", "run"]):
        try:
            status = main(argv)
        except KeyboardInterrupt:  # would stop pytest itself
            pytest.fail(f"KeyboardInterrupt escaped main({argv})")
        assert status == 130
        assert error_line(capsys) == "scratchgen: stopped by Ctrl-C"


def test_ctrl_c_while_the_package_imports_exits_130_in_one_line(capsys, monkeypatch):
    """The `scratchgen` command enters through scratchgen_launcher, outside the package, so that
    a Ctrl-C during `import scratchgen` itself (NumPy, the backends) is one line too."""
    import scratchgen_launcher
    real_import = builtins.__import__

    def interrupted_import(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "scratchgen.cli":
            raise KeyboardInterrupt
        return real_import(name, globals, locals, fromlist, level)
    monkeypatch.setattr(builtins, "__import__", interrupted_import)
    assert scratchgen_launcher.main(["list"]) == 130
    assert error_line(capsys) == "scratchgen: stopped by Ctrl-C"


def test_the_command_enters_through_the_launcher():
    entry_points = importlib.metadata.entry_points(group="console_scripts", name="scratchgen")
    assert [entry.value for entry in entry_points] == ["scratchgen_launcher:main"]


@pytest.mark.parametrize("delay", [0.01, 0.05, 0.15, 0.4])
def test_ctrl_c_soon_after_the_command_starts_never_prints_a_traceback(delay, tmp_path):
    """The process signals when scratchgen.cli is imported (importing the package itself, before
    any code of the command runs, is not the command's to catch), then gets SIGINT `delay` later."""
    script = ("import sys, scratchgen.cli\nprint('ready', flush=True)\n"
              "sys.exit(scratchgen.cli.main(sys.argv[1:]))\n")
    process = subprocess.Popen([sys.executable, "-c", script, "train", "wgan-gp", "--steps", "300",
                                "--out", str(tmp_path / "run"), *TINY_TOY],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "ready\n"
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in err, err
    assert "Ctrl-C" in err


def test_start_accepts_path_like_data_dir(tmp_path):
    run, _ = train.start("gan", "mnist", steps=1, overrides={"hidden": [8], "batch_size": 10, "z_dim": 4},
                         out=tmp_path / "run", data_dir=SHARED_MNIST, stream=io.StringIO())
    assert run.read_config()["data_dir"] == str(SHARED_MNIST)


def test_list_model_shows_each_setting_with_its_default_and_declared_range(capsys):
    assert main(["list", "wgan-gp"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("wgan-gp: Gulrajani et al. 2017")
    shown = {line.split()[0]: line for line in lines[1:]}
    assert set(shown) == set(train.config.declared_settings(model_class("wgan-gp")))
    assert "toys 0.1, mnist 10.0" in shown["gp_lambda"] and "a finite number >= 0" in shown["gp_lambda"]
    assert "an integer from 1 to 1000: critic updates per generator update" in shown["n_critic"]
    assert main(["list", "stylegan"]) == 2
    assert "unknown model 'stylegan'" in error_line(capsys)


def test_checkpoints_that_do_not_fit_the_runs_settings_get_one_line(capsys, tmp_path):
    run = train_toy(tmp_path, "run", "--steps", "2", "--set", "checkpoint_every=1")
    config = json.loads((pathlib.Path(run) / "config.json").read_text())
    config["hidden"] = [4]  # valid, but not the networks the checkpoints hold
    (pathlib.Path(run) / "config.json").write_text(json.dumps(config))
    capsys.readouterr()
    for argv in (["train", "--resume", run], ["sample", run]):
        assert main(argv) == 2
        line = error_line(capsys)
        assert "step_000002.npz (it does not fit this run's model: load_state_dict: size mismatch" in line
