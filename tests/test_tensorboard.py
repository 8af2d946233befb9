"""`scratchgen train --tensorboard DIR` (the run setting `tensorboard`): event files written by
tensorboardX and read back here with TensorBoard's own reader (EventAccumulator): the losses
at every logged step, the sample images at the sample cadence, histograms of every weight and
gradient at the histogram cadence, and a resumed run appending to the same folder with every
step shown once."""
import io
import json
import pathlib

import numpy
import pytest

import scratchgen as sg
from scratchgen import train
from scratchgen.cli import main
from scratchgen.train import checkpoint, plots, tensorboard
from scratchgen.train.config import LOOP_SETTINGS

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
TOY = dict(hidden=[16], batch_size=32)


def read_events(folder):
    """TensorBoard's view of a folder of event files: every event kept (size_guidance 0)."""
    accumulator = event_accumulator.EventAccumulator(str(folder), size_guidance={
        event_accumulator.SCALARS: 0, event_accumulator.IMAGES: 0, event_accumulator.HISTOGRAMS: 0})
    return accumulator.Reload()


def steps(events, kind, tag):
    return [event.step for event in getattr(events, kind)(tag)]


def test_a_toy_run_writes_losses_samples_and_histograms_of_every_weight_and_gradient(tmp_path):
    folder = tmp_path / "events"
    run, outcome = train.start("wgan-gp", "8gaussians", steps=6, out=tmp_path / "run", stream=io.StringIO(),
                               overrides={**TOY, "log_every": 2, "sample_every": 3, "histogram_every": 4,
                                          "tensorboard": str(folder)})
    assert outcome == "finished" and json.loads(run.config_path.read_text())["tensorboard"] == str(folder)
    events = read_events(folder)
    tags = events.Tags()
    records = run.read_metrics()
    for name in ("loss_d", "gradient_penalty", "loss_g"):  # every loss of metrics.jsonl, at its steps
        scalars = events.Scalars(f"losses/{name}")
        assert [e.step for e in scalars] == [r["step"] for r in records] == [2, 4, 6]
        assert [e.value for e in scalars] == pytest.approx([r[name] for r in records], rel=1e-6)  # stored as float32
    assert steps(events, "Scalars", "time/elapsed_s") == [2, 4, 6]
    assert steps(events, "Images", "samples") == [3, 6]  # the scatter plot, drawn by matplotlib
    model = train.load_trained(run.path, stream=io.StringIO())[2]
    expected = {f"{kind}/{network}/{name}" for network, module in (("G", model.G), ("D", model.D))
                for name, _ in module.named_parameters() for kind in ("weights", "gradients")}
    assert set(tags["histograms"]) == expected
    for tag in expected:
        assert steps(events, "Histograms", tag) == [4, 6]
    # the last histogram of each weight is the checkpoint's weight: its count, extremes and sum
    for network, module in (("G", model.G), ("D", model.D)):
        for name, parameter in module.named_parameters():
            histogram = events.Histograms(f"weights/{network}/{name}")[-1].histogram_value
            values = parameter.detach().numpy().astype(numpy.float64)
            assert histogram.num == values.size
            assert (histogram.min, histogram.max) == (values.min(), values.max())
            assert histogram.sum == pytest.approx(values.sum(), abs=1e-9)


def test_an_mnist_run_writes_its_sample_grid_as_an_image(tmp_path):
    folder = tmp_path / "events"
    train.start("vae", steps=2, out=tmp_path / "run", data_dir=SHARED_MNIST, stream=io.StringIO(),
                overrides={"hidden": [16], "batch_size": 16, "z_dim": 4, "sample_every": 2, "tensorboard": str(folder)})
    events = read_events(folder)
    (image,) = events.Images("samples")
    assert image.step == 2
    assert (image.width, image.height) == plots.image_grid(numpy.zeros((64, 1, 28, 28))).shape[::-1]
    assert set(events.Tags()["histograms"]) >= {"weights/encoder/0.weight", "gradients/decoder/0.weight"}


def test_a_resumed_run_appends_to_the_same_folder_and_each_step_shows_once(tmp_path):
    folder = tmp_path / "events"
    overrides = {**TOY, "log_every": 1, "sample_every": 2, "checkpoint_every": 3, "tensorboard": str(folder)}
    straight, _ = train.start("wgan-gp", "8gaussians", steps=8, out=tmp_path / "straight", stream=io.StringIO(),
                              overrides={**overrides, "tensorboard": str(tmp_path / "straight-events")})
    run, _ = train.start("wgan-gp", "8gaussians", steps=6, out=tmp_path / "run", stream=io.StringIO(),
                         overrides=overrides)
    # as if the run had been killed after logging steps 4 to 6 but before its step-6 checkpoint
    (run.checkpoints / "step_000006.npz").unlink()
    train.resume(run.path, steps=8, stream=io.StringIO())
    assert len(list(folder.glob("events.out.tfevents.*"))) == 2  # a second file beside the first
    events, reference = read_events(folder), read_events(tmp_path / "straight-events")
    assert steps(events, "Scalars", "losses/loss_d") == list(range(1, 9))  # steps 4-6 of the first session purged
    assert [e.value for e in events.Scalars("losses/loss_d")] == [e.value for e in reference.Scalars("losses/loss_d")]
    assert steps(events, "Images", "samples") == [2, 4, 6, 8]
    assert steps(events, "Histograms", "weights/G/0.weight") == [2, 4, 6, 8]


def test_the_flag_sets_the_setting_and_checks_come_before_anything_is_written(tmp_path, capsys):
    folder = tmp_path / "tb"
    argv = ["train", "wgan-gp", "--dataset", "8gaussians", "--steps", "2", "--set", "hidden=[8]"]
    assert main([*argv, "--out", str(tmp_path / "a"), "--tensorboard", str(folder)]) == 0
    assert json.loads((tmp_path / "a" / "config.json").read_text())["tensorboard"] == str(folder)
    assert list(folder.glob("events.out.tfevents.*"))
    capsys.readouterr()
    assert main([*argv, "--out", str(tmp_path / "b"), "--tensorboard", "x", "--set", "tensorboard=y"]) == 2
    assert "--tensorboard x and --set tensorboard=y both give the run's tensorboard" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "a"), "--tensorboard", str(folder)]) == 2
    assert "--tensorboard cannot be given with it" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main([*argv, "--out", str(tmp_path / "c"), "--tensorboard", str(blocker / "tb")]) == 2
    assert f"{blocker} is a file, not a folder" in capsys.readouterr().err
    assert main([*argv, "--out", str(tmp_path / "c"), "--set", "tensorboard=3"]) == 2
    assert "setting tensorboard must be a folder path or null, got 3" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_without_tensorboardx_the_run_is_refused_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tensorboard, "available", lambda: False)
    assert main(["train", "gan", "--dataset", "8gaussians", "--steps", "1", "--out", str(tmp_path / "run"),
                 "--tensorboard", str(tmp_path / "tb")]) == 2
    assert "needs tensorboardX: pip install 'scratchgen[tensorboard]'" in capsys.readouterr().err
    assert not (tmp_path / "run").exists() and not (tmp_path / "tb").exists()


def test_the_settings_are_declared_and_listed(capsys):
    assert LOOP_SETTINGS["tensorboard"].check("tensorboard", pathlib.Path("a/b")) == "a/b"
    assert LOOP_SETTINGS["tensorboard"].check("tensorboard", None) is None
    for bad in ("", "  ", 3, ["a"], "a\0b"):
        with pytest.raises(ValueError, match="setting tensorboard must be a folder path or null"):
            LOOP_SETTINGS["tensorboard"].check("tensorboard", bad)
    assert main(["list", "dcgan"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.split()[:3] == ["tensorboard", "null", "a"] for line in lines)
    assert any(line.split()[:2] == ["histogram_every", "null"] for line in lines)


def test_write_scalars_adds_numbers_at_a_step(tmp_path):
    tensorboard.write_scalars(tmp_path, 7, {"fid_lenet": 12.5, "model": "dcgan", "class_histogram": [0.1],
                                            "n_samples": 100, "bad": float("nan")})
    events = read_events(tmp_path)
    assert sorted(events.Tags()["scalars"]) == ["eval/fid_lenet", "eval/n_samples"]
    assert [(e.step, e.value) for e in events.Scalars("eval/fid_lenet")] == [(7, 12.5)]


def test_writing_events_changes_nothing_the_run_computes(tmp_path):
    """The observer only reads: the same losses and the same final weights with and without it."""
    found = []
    for name, extra in (("plain", {}), ("board", {"tensorboard": str(tmp_path / "tb"), "histogram_every": 1})):
        run, _ = train.start("gan", "8gaussians", steps=3, out=tmp_path / name, stream=io.StringIO(),
                             overrides={**TOY, "log_every": 1, "sample_every": 1, **extra})
        state = sg.load(checkpoint.checkpoint_paths(run)[-1])["model"]
        found.append(([{k: v for k, v in r.items() if k != "time_s"} for r in run.read_metrics()],
                      {key: numpy.asarray(value) for key, value in state["G"].items()}))
    assert found[0][0] == found[1][0]
    assert all(numpy.array_equal(found[0][1][key], found[1][1][key]) for key in found[0][1])
