"""The training loop and its run folder: metrics, plots, checkpoints, the progress bar, and a
loss that turns NaN stopping the run with the step while keeping the last good checkpoint."""
import io
import json
import math

import numpy
import pytest

import scratchgen as sg
from scratchgen import train
from scratchgen.models import model_class
from scratchgen.train import checkpoint, plots
from scratchgen.train.config import resolve_config
from scratchgen.train.progress import ProgressBar, format_duration

TINY = dict(hidden=[16], batch_size=32)


def start(tmp_path, steps, name="wgan-gp", **overrides):
    return train.start(name, "8gaussians", steps=steps, overrides={**TINY, **overrides}, out=tmp_path / "run",
                       stream=io.StringIO())


def test_a_run_writes_config_metrics_checkpoints_sample_plots_and_curves(tmp_path):
    run, outcome = start(tmp_path, steps=4, log_every=2, sample_every=2, checkpoint_every=1)
    assert outcome == "finished"
    config = json.loads(run.config_path.read_text())
    assert config["model"] == "wgan-gp" and config["seed"] == 0 and config["scratchgen_version"] == sg.__version__
    assert config["gp_lambda"] == 0.1 and config["steps"] == 4
    records = run.read_metrics()
    assert [record["step"] for record in records] == [2, 4]
    assert set(records[0]) == {"step", "time_s", "loss_d", "gradient_penalty", "loss_g"}
    assert [path.name for path in checkpoint.checkpoint_paths(run)] == ["step_000003.npz", "step_000004.npz"]
    assert sorted(path.name for path in run.samples.iterdir()) == ["step_000002.png", "step_000004.png"]
    assert run.curves_path.read_bytes().startswith(b"\x89PNG")


def test_a_run_folder_holding_a_run_is_not_overwritten(tmp_path):
    start(tmp_path, steps=1)
    with pytest.raises(ValueError, match="already holds a run.*--resume"):
        start(tmp_path, steps=1)


def test_a_nan_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    cls = model_class("wgan-gp")
    original_step = cls.train_step
    steps_taken = []

    def nan_at_step_5(model, batch):
        losses = original_step(model, batch)
        steps_taken.append(1)
        return {**losses, "loss_d": math.nan} if len(steps_taken) == 5 else losses
    monkeypatch.setattr(cls, "train_step", nan_at_step_5)
    with pytest.raises(train.TrainingDiverged) as caught:
        start(tmp_path, steps=10, checkpoint_every=2)
    message = str(caught.value)
    assert "loss_d became non-finite at step 5" in message
    assert "last finite losses at step 4: loss_d=" in message
    assert "the last good checkpoint is" in message and "step_000004.npz" in message
    run = train.RunFolder.open(tmp_path / "run")
    assert [path.name for path in checkpoint.checkpoint_paths(run)] == ["step_000002.npz", "step_000004.npz"]
    _, state = checkpoint.latest_checkpoint(run)
    assert checkpoint.non_finite_entries(state) == []


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_a_huge_learning_rate_diverges_and_no_broken_checkpoint_is_written(tmp_path):
    with pytest.raises(train.TrainingDiverged, match=r"non-finite (at|by) step \d+"):
        start(tmp_path, steps=30, name="gan", lr=1e10, checkpoint_every=1)
    run = train.RunFolder.open(tmp_path / "run")
    for path in checkpoint.checkpoint_paths(run):
        assert checkpoint.non_finite_entries(sg.load(path)) == []


def test_non_finite_entries_names_where_they_are():
    state = {"net": {"w": sg.tensor([1.0, math.inf])}, "steps": [1.0, math.nan], "fine": sg.zeros(2)}
    assert checkpoint.non_finite_entries(state) == ["state['net']['w']", "state['steps'][1]"]


def test_epochs_count_batches_of_the_dataset(tmp_path):
    run, _ = train.start("gan", "25gaussians", epochs=0.5, overrides=dict(hidden=[8], batch_size=10_000),
                         out=tmp_path / "run", stream=io.StringIO())
    assert run.read_config()["steps"] == 5  # 100,000 points in batches of 10,000: 10 a epoch


def test_epochs_are_refused_for_fresh_toy_points(tmp_path):
    with pytest.raises(ValueError, match="--epochs needs a finite dataset"):
        train.start("wgan-gp", "8gaussians", epochs=1, overrides=TINY, out=tmp_path / "run", stream=io.StringIO())


# ---- settings ------------------------------------------------------------------------------------
def test_settings_come_from_the_paper_the_dataset_kind_and_the_user():
    wgan_gp = model_class("wgan-gp")
    assert resolve_config(wgan_gp, "mnist")["gp_lambda"] == 10.0
    toy = resolve_config(wgan_gp, None, {"gp_lambda": 1, "lr": 3e-4})
    assert (toy["dataset"], toy["gp_lambda"], toy["lr"], toy["batch_size"]) == ("8gaussians", 1.0, 3e-4, 256)


@pytest.mark.parametrize("overrides, message", [
    ({"lamda": 1.0}, "unknown setting 'lamda' for wgan-gp on 8gaussians; its settings: .*gp_lambda"),
    ({"gp_lambda": "ten"}, "setting gp_lambda must be a finite number >= 0, got 'ten'"),
    ({"batch_size": 0}, "setting batch_size must be an integer from 1 to 1048576, got 0"),
    ({"steps": 2.5}, "setting steps must be an integer from 1 to 1000000000, got 2.5"),
])
def test_bad_settings_are_refused_by_name(overrides, message):
    with pytest.raises(ValueError, match=message):
        resolve_config(model_class("wgan-gp"), "8gaussians", overrides)


def test_a_dataset_the_model_does_not_train_on_is_refused():
    with pytest.raises(ValueError, match="model vae does not train on dataset '8gaussians'; its datasets: mnist"):
        resolve_config(model_class("vae"), "8gaussians")


# ---- progress bar and plots ---------------------------------------------------------------------
def test_progress_bar_shows_step_losses_rate_and_time_left():
    stream = io.StringIO()
    bar = ProgressBar(total=4, stream=stream)
    bar.update(4, {"loss_d": -0.5, "loss_g": 1.25})
    line = stream.getvalue()
    assert line.startswith("step 4/4 [####################] loss_d -0.5 loss_g 1.25 | ")
    assert "steps/s | 0m00s left" in line and line.endswith("\n")
    assert format_duration(3725) == "1h02m"


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_the_progress_bar_redraws_one_line():
    terminal = Terminal()
    bar = ProgressBar(total=2, stream=terminal)
    bar.update(1, {"loss": 2.0})  # within 0.1 s of the start: not drawn, redraws are at most 10 a second
    bar.update(2, {"loss": 1.0})  # the last step is always drawn
    bar.close()
    assert terminal.getvalue().startswith("\rstep 2/2 ") and terminal.getvalue().endswith(" left\033[K\n")


def test_image_grid_tiles_images_row_by_row_with_gaps():
    images = numpy.arange(5, dtype=numpy.float32).reshape(5, 1, 1, 1) / 4
    grid = plots.image_grid(images)  # 3 columns, 2 rows, 1-pixel white gaps
    numpy.testing.assert_array_equal(grid, [[0, 1, 0.25, 1, 0.5], [1, 1, 1, 1, 1], [0.75, 1, 1, 1, 1]])


def test_sample_command_writes_a_picture_or_the_array(tmp_path):
    start(tmp_path, steps=1)
    picture = train.sample_to_file(tmp_path / "run", n=20, out=tmp_path / "s.png")
    assert picture.read_bytes().startswith(b"\x89PNG")
    array_path = train.sample_to_file(tmp_path / "run", n=20, out=tmp_path / "s.npy")
    assert numpy.load(array_path).shape == (20, 2)
    with pytest.raises(ValueError, match="--out must end in .png"):
        train.sample_to_file(tmp_path / "run", out=tmp_path / "s.jpg")


def test_eval_of_a_toy_run_reports_mode_coverage_and_writes_eval_json(tmp_path):
    start(tmp_path, steps=1)
    results = train.evaluate(tmp_path / "run", n_samples=500)
    assert results["num_modes"] == 8 and 0 <= results["modes_covered"] <= 8
    assert 0 <= results["high_quality_fraction"] <= 1 and results["step"] == 1
    assert json.loads((tmp_path / "run" / "eval.json").read_text()) == results
