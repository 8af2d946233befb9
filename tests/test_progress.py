"""Progress of long work (scratchgen/progress.py): a bar redrawn in place on a terminal, plain lines
at a set cadence in a log (never a carriage return), nothing for a job quicker than its delay or
when progress is off; where progress goes (the `progress` argument, `progress_to`); and the jobs
that use it: the VAE's importance sampling and `scratchgen eval` (the classifier's training and
features are in test_metrics.py, the MNIST download in test_data_mnist.py).

Time is a fake clock (scratchgen.progress.clock replaced) that the "slow" steps advance, so the
cadence is checked exactly and the tests take no real time waiting."""
import io
import json
import pathlib
import re
import sys

import numpy
import pytest

import scratchgen as sg
from scratchgen import progress, train
from scratchgen.cli import main
from scratchgen.models import model_class, vae
from scratchgen.train.config import resolve_config

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run_job(clock, bar, steps, seconds_per_step, postfix=None):
    for step in range(1, steps + 1):
        clock.advance(seconds_per_step)
        bar.update(step, postfix)
    bar.close()


def counts(text):
    """The "done" count of each line of a log: "some job 15/100 [..." -> 15."""
    return [int(re.search(r" (\d+)/\d+ \[", line).group(1)) for line in text.splitlines()]


# ---- the bar in a log ---------------------------------------------------------------------------
def test_in_a_log_a_line_after_5_s_then_every_10_percent_and_at_the_end(clock):
    log = io.StringIO()
    run_job(clock, progress.ProgressBar(100, "job", unit="items", progress=log), 100, 1.0)  # 100 s
    assert "\r" not in log.getvalue() and "\033" not in log.getvalue()
    assert counts(log.getvalue()) == [5, 15, 25, 35, 45, 55, 65, 75, 85, 95, 100]
    last = log.getvalue().splitlines()[-1]
    assert last == "job 100/100 [####################] | 1m40s elapsed | 1.00 items/s | 0m00s left"
    first = log.getvalue().splitlines()[0]
    assert first == "job 5/100 [#...................] | 0m05s elapsed | 1.00 items/s | 1m35s left"


def test_in_a_log_a_quick_stretch_gives_at_most_a_line_per_5_s_and_a_slow_one_a_line_a_minute(clock):
    fast = io.StringIO()
    run_job(clock, progress.ProgressBar(1024, "fast", progress=fast), 1024, 1 / 128)  # 8 s, 10% in 0.8 s
    assert counts(fast.getvalue()) == [640, 1024]
    slow = io.StringIO()
    run_job(clock, progress.ProgressBar(1000, "slow", progress=slow), 30, 10.0)  # 300 s, 1% every 10 s
    assert counts(slow.getvalue()) == [1, 7, 13, 19, 25, 30]  # 5 s, then each minute, then where it stopped


def test_a_job_quicker_than_its_delay_writes_nothing_even_at_its_end(clock):
    log, terminal = io.StringIO(), Terminal()
    for stream in (log, terminal):
        run_job(clock, progress.ProgressBar(50, "quick", progress=stream), 50, 0.03)  # 1.5 s, under the 2 s delay
    assert log.getvalue() == "" and terminal.getvalue() == ""
    run_job(clock, progress.ProgressBar(50, "a bit longer", progress=log), 50, 0.05)  # 2.5 s
    assert counts(log.getvalue()) == [50]


def test_a_job_stopped_early_or_of_unknown_size_shows_where_it_stopped(clock):
    log = io.StringIO()
    run_job(clock, progress.ProgressBar(100, "stopped", progress=log), 52, 1.0)
    assert counts(log.getvalue()) == [5, 15, 25, 35, 45, 52]
    unknown = io.StringIO()
    bar = progress.ProgressBar(None, "download", unit="MB", scale=1e6, progress=unknown)
    for received in range(1, 13):
        clock.advance(1.0)
        bar.update(received * 500_000)
    bar.close()
    lines = unknown.getvalue().splitlines()
    assert lines[0] == "download 2.5 MB | 0m05s elapsed | 0.5 MB/s"
    assert lines[-1] == "download 6.0 MB | 0m12s elapsed | 0.5 MB/s" and "[" not in unknown.getvalue()


# ---- the bar on a terminal ----------------------------------------------------------------------
def test_on_a_terminal_the_bar_redraws_one_line_at_most_10_times_a_second(clock):
    terminal = Terminal()
    bar = progress.ProgressBar(128, "job", unit="items", progress=terminal)
    run_job(clock, bar, 128, 1 / 32)  # 4 s: nothing in the first 2 s, then a redraw every 4 steps (0.125 s)
    text = terminal.getvalue()
    assert text.endswith(" left\033[K\n") and text.count("\n") == 1  # one line, ended when the job ended
    draws = text[:-1].split("\r")[1:]
    assert text.startswith("\r") and all(draw.endswith("\033[K") for draw in draws)
    assert counts("\n".join(draws)) == list(range(64, 129, 4))
    assert draws[0] == "job 64/128 [##########..........] | 0m02s elapsed | 32.0 items/s | 0m02s left\033[K"
    assert draws[-1].startswith("job 128/128 [####################]")


def test_the_training_loop_uses_the_same_bar():
    from scratchgen.train.progress import ProgressBar as TrainingBar
    assert issubclass(TrainingBar, progress.ProgressBar)
    log = io.StringIO()
    bar = TrainingBar(total=10, start=4, stream=log)
    bar.update(10, {"loss": 0.5})  # a resumed run: steps 5-10 done now, shown without a delay
    assert log.getvalue().startswith("step 10/10 [####################] loss 0.5 | 0m00s elapsed | ")


# ---- where progress goes ------------------------------------------------------------------------
def test_progress_goes_to_stderr_by_default_and_nowhere_when_off(clock, capsys):
    run_job(clock, progress.ProgressBar(10, "default"), 10, 1.0)
    assert counts(capsys.readouterr().err) == [5, 10]
    run_job(clock, progress.ProgressBar(10, "off", progress=False), 10, 1.0)
    progress.note("not shown", progress=False)
    with progress.progress_to(False):
        run_job(clock, progress.ProgressBar(10, "off by the block"), 10, 1.0)
        progress.note("not shown either")
    assert capsys.readouterr().err == ""


def test_the_argument_of_a_call_wins_over_the_default_of_the_block(clock, capsys):
    log = io.StringIO()
    with progress.progress_to(log):
        run_job(clock, progress.ProgressBar(10, "to the block's stream"), 10, 1.0)
        progress.note("a note")
        run_job(clock, progress.ProgressBar(10, "to stderr", progress=True), 10, 1.0)
        with progress.progress_to(None):  # None leaves the default as it is
            run_job(clock, progress.ProgressBar(10, "still the block's"), 10, 1.0)
    run_job(clock, progress.ProgressBar(10, "after the block, stderr again"), 10, 1.0)
    lines = log.getvalue().splitlines()
    assert [line.split(" [")[0] for line in lines] == [
        "to the block's stream 5/10", "to the block's stream 10/10", "scratchgen: a note",
        "still the block's 5/10", "still the block's 10/10"]
    assert [line.split(" [")[0] for line in capsys.readouterr().err.splitlines()] == [
        "to stderr 5/10", "to stderr 10/10",
        "after the block, stderr again 5/10", "after the block, stderr again 10/10"]
    with pytest.raises(TypeError, match="progress must be None, True, False or a text stream"):
        progress.ProgressBar(10, progress="yes")


# ---- the VAE's importance sampling ----------------------------------------------------------------
def tiny_vae(data_size=16):
    config = resolve_config(model_class("vae"), "mnist", dict(hidden=[8], z_dim=2), seed=0)
    config["data_shape"] = [data_size]
    sg.manual_seed(0)
    return model_class("vae")(config)


def slow_decoder(monkeypatch, clock, seconds):
    """Each call of the decoder (one per ELBO batch, one per chunk of importance samples) takes `seconds`."""
    real = vae.VAE.log_likelihood

    def log_likelihood(self, x, z):
        clock.advance(seconds)
        return real(self, x, z)
    monkeypatch.setattr(vae.VAE, "log_likelihood", log_likelihood)


def test_importance_sampling_shows_test_images_done_a_chunk_at_a_time(clock, monkeypatch):
    model = tiny_vae()
    x = sg.tensor((numpy.random.default_rng(0).random((300, 16)) < 0.5).astype(numpy.float32))
    quiet = model.test_metrics(x, k=300, generator=sg.Generator(0), progress=False)
    slow_decoder(monkeypatch, clock, 10.0)
    log = io.StringIO()
    shown = model.test_metrics(x, k=300, generator=sg.Generator(0), progress=log)
    assert shown == quiet  # the bar changes nothing it measures
    # batches of 100 images; k = 300 samples in chunks of 200 and 100 (max_rows 20000 / 100 rows)
    lines = log.getvalue().splitlines()
    assert counts(log.getvalue()) == [66, 100, 166, 200, 266, 300]
    assert lines[0] == ("test NLL (IWAE, k=300) 66/300 [####................] | 0m20s elapsed | 3.33 images/s "
                        "| 1m10s left")
    assert "\r" not in log.getvalue()


def test_the_bound_reports_each_chunk_of_samples_and_is_unchanged_by_it():
    model, x = tiny_vae(), sg.tensor((numpy.random.default_rng(1).random((8, 16)) < 0.5).astype(numpy.float32))
    done = []
    with sg.no_grad():
        plain = model.importance_weighted_bound(x, 50, sg.Generator(0), max_rows=24).numpy()
        reported = model.importance_weighted_bound(x, 50, sg.Generator(0), max_rows=24, on_samples=done.append).numpy()
    numpy.testing.assert_array_equal(reported, plain)
    assert done == list(range(3, 50, 3)) + [50]  # chunks of 24 // 8 = 3 samples


def test_importance_sampling_with_progress_off_writes_nothing(clock, monkeypatch, capsys):
    slow_decoder(monkeypatch, clock, 10.0)
    x = sg.tensor(numpy.ones((200, 16), numpy.float32))
    tiny_vae().test_metrics(x, k=10, generator=sg.Generator(0), progress=False)
    assert capsys.readouterr().err == ""
    tiny_vae().test_metrics(x, k=10, generator=sg.Generator(0))  # the default: stderr
    assert counts(capsys.readouterr().err) == [100, 200]


# ---- scratchgen eval ----------------------------------------------------------------------------
def test_eval_of_a_vae_shows_the_importance_sampling_and_progress_false_silences_it(clock, monkeypatch, tmp_path,
                                                                                     capsys):
    run, _ = train.start("vae", "mnist", steps=1, overrides=dict(hidden=[8], z_dim=2, batch_size=10),
                         out=tmp_path / "run", data_dir=str(SHARED_MNIST), stream=io.StringIO())
    slow_decoder(monkeypatch, clock, 10.0)
    capsys.readouterr()
    log = io.StringIO()
    results = train.evaluate(run.path, k=20, n_test=300, progress=log)
    assert counts(log.getvalue()) == [100, 200, 300] and log.getvalue().startswith("test NLL (IWAE, k=20) 100/300 [")
    assert train.evaluate(run.path, k=20, n_test=300, progress=False) == results
    assert capsys.readouterr().err == ""
    assert main(["eval", str(run.path), "--k", "20", "--n-test", "300"]) == 0  # the command: stderr
    assert counts(capsys.readouterr().err) == [100, 200, 300]


def test_eval_of_an_mnist_sampler_reports_the_classifiers_test_accuracy(stand_in_classifier, tmp_path, capsys):
    """An untrained LeNet stands in for the cached one (as in test_cli.py); its recorded accuracy
    must reach eval.json and the command's output."""
    stand_in_classifier(0.9876)
    run, _ = train.start("gan", "mnist", steps=1, overrides=dict(hidden=[8], batch_size=10), out=tmp_path / "run",
                         data_dir=str(SHARED_MNIST), stream=io.StringIO())
    capsys.readouterr()
    assert main(["eval", str(run.path), "--n", "50"]) == 0
    assert "classifier_test_accuracy: 0.9876\n" in capsys.readouterr().out
    assert json.loads((run.path / "eval.json").read_text())["classifier_test_accuracy"] == 0.9876


def test_the_default_follows_sys_stderr_as_it_is_at_the_time(clock):
    replaced = io.StringIO()
    real, sys.stderr = sys.stderr, replaced
    try:
        run_job(clock, progress.ProgressBar(10, "job"), 10, 1.0)
    finally:
        sys.stderr = real
    assert counts(replaced.getvalue()) == [5, 10]
