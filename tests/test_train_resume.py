"""Resuming is exact: N steps, then --resume to 2N, gives the same parameters, optimizer state
and data position as 2N steps in one go, also after a Ctrl-C in the middle of a run, for every
GAN-like model of the one adversarial loop, for the discrete-latent VAEs, MADE and PixelCNN, and
for the VAE and the IAF VAE."""
import io
import pathlib
import signal

import numpy
import pytest

import scratchgen as sg
from scratchgen import train
from scratchgen.models import MODELS, model_class
from scratchgen.models.adversarial import AdversarialModel
from scratchgen.train import checkpoint

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
# wgan-gp draws fresh toy points for every batch; gan on 25gaussians goes through the shuffling DataLoader
CASES = [("wgan-gp", "8gaussians", dict(hidden=[16, 16], batch_size=32, sample_every=100)),
         ("gan", "25gaussians", dict(hidden=[16], batch_size=4096, sample_every=100))]  # 24 batches an epoch: resumes mid-epoch


def flat_state(run_dir):
    """Every array and number in the newest checkpoint, by path."""
    _, state = checkpoint.latest_checkpoint(train.RunFolder.open(run_dir))
    flat = {}

    def walk(value, where):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}/{key}")
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                walk(item, f"{where}/{i}")
        else:
            flat[where] = value.numpy() if isinstance(value, sg.Tensor) else value
    walk(state, "")
    return flat


def assert_same_state(first, second):
    assert first.keys() == second.keys()
    for key in first:
        if isinstance(first[key], numpy.ndarray):
            numpy.testing.assert_array_equal(first[key], second[key], err_msg=key)
        else:
            assert first[key] == second[key], key


def start(name, dataset, overrides, out, steps, data_dir=None):
    return train.start(name, dataset, steps=steps, overrides=overrides, out=out, data_dir=data_dir,
                       stream=io.StringIO())


def logged_losses(run):
    """The metrics lines of a run without their wall times."""
    return [{key: value for key, value in record.items() if key != "time_s"} for record in run.read_metrics()]


@pytest.mark.parametrize("name, dataset, overrides", CASES)
def test_n_steps_then_resume_to_2n_equals_2n_steps(name, dataset, overrides, tmp_path):
    start(name, dataset, overrides, tmp_path / "straight", steps=6)
    start(name, dataset, overrides, tmp_path / "resumed", steps=3)
    run, outcome = train.resume(tmp_path / "resumed", steps=6, stream=io.StringIO())
    assert outcome == "finished"
    assert_same_state(flat_state(tmp_path / "straight"), flat_state(tmp_path / "resumed"))
    assert [record["step"] for record in run.read_metrics()] == [3, 6]  # log_every 10: each session's last step


# every model trained by adversarial.AdversarialModel's loop, at a tiny size, on MNIST (labels for the cGANs),
# or on its first dataset where it has no MNIST (unrolled-gan: 8 Gaussians, its Adam unrolled 2 steps)
TINY_GANS = {"gan": dict(hidden=[16], z_dim=4), "wgan": dict(hidden=[16], z_dim=4, clip=0.05),
             "wgan-gp": dict(hidden=[16], z_dim=4), "dcgan": dict(width=4, z_dim=4),
             "dcgan-upsample": dict(width=4, z_dim=4), "cdcgan": dict(width=4, z_dim=4), "cgan": dict(z_dim=4),
             "unrolled-gan": dict(hidden_g=[16], hidden_d=[16], z_dim=4, unroll=2),
             "infogan": dict(width=4, z_dim=4), "improved-gan": dict(z_dim=4, labels=10, average_rate=0.5),
             "wgan-gp-lm": dict(dim=4, z_dim=4, n_critic=2),  # on Tiny Shakespeare
             "ddgm": dict(width=4, z_dim=4, experts=8)}


def test_the_resume_test_covers_every_gan_like_model():
    assert sorted(TINY_GANS) == sorted(name for name in MODELS if issubclass(model_class(name), AdversarialModel))


# and dcgan, gan with every Improved-GAN switch on (models/gan_switches.py): historical averages, reference noise
SWITCHES = dict(feature_matching=True, minibatch_discrimination=True, historical_averaging=0.1, label_smoothing=0.9)
SWITCHED = {"dcgan, switches on": dict(TINY_GANS["dcgan"], **SWITCHES, virtual_batchnorm=True),
            "gan, switches on": dict(TINY_GANS["gan"], **SWITCHES)}


@pytest.mark.parametrize("case", [*TINY_GANS, *SWITCHED])
def test_every_gan_like_model_resumed_at_step_3_matches_6_straight_steps(case, tmp_path):
    name = case.split(",")[0]
    overrides = dict({**TINY_GANS, **SWITCHED}[case], batch_size=8, log_every=1, sample_every=100)
    datasets = model_class(name).datasets
    dataset = "mnist" if "mnist" in datasets else datasets[0]
    data_dir = str(SHARED_MNIST.parent / "tinyshakespeare" if dataset == "tinyshakespeare" else SHARED_MNIST)
    straight, _ = start(name, dataset, overrides, tmp_path / "straight", steps=6, data_dir=data_dir)
    start(name, dataset, overrides, tmp_path / "resumed", steps=3, data_dir=data_dir)
    resumed, outcome = train.resume(tmp_path / "resumed", steps=6, stream=io.StringIO())
    assert outcome == "finished"
    assert_same_state(flat_state(straight.path), flat_state(resumed.path))
    assert logged_losses(resumed) == logged_losses(straight) and len(logged_losses(straight)) == 6


# the discrete-latent VAEs (models/categorical_vae.py) with the estimators that keep state (the score
# function's baseline) or use the temperature, annealed every 2 steps so that it changes across the resume
DISCRETE_VAES = {"cat-vae": dict(hidden=[16], latents=3, categories=4, estimator="score-function"),
                 "bern-vae": dict(latents=8, estimator="st-gumbel-softmax", anneal_every=2, anneal_rate=0.1)}


# and the autoregressive models: MADE (models/made.py), which draws one of its mask sets at every step, PixelCNN
# and the PixelRNNs (models/pixelrnn.py)
BINARIZED_MNIST_MODELS = {**DISCRETE_VAES, "made": dict(hidden=[16], num_masks=4),
                          "pixelcnn": dict(h=2, residual_blocks=1), "row-lstm": dict(h=2, layers=1),
                          "diagonal-bilstm": dict(h=2, layers=1),
                          "sbn": dict(latents=8, estimator="score-function"),  # its two baselines resume
                          "cat-sbn": dict(latents=3, categories=4, hidden=[8], optimizer="sgd")}


@pytest.mark.parametrize("name", BINARIZED_MNIST_MODELS)
def test_binarized_mnist_models_resumed_at_step_3_match_6_straight_steps(name, tmp_path):
    overrides = dict(BINARIZED_MNIST_MODELS[name], batch_size=8, log_every=1, sample_every=100)
    data_dir = str(SHARED_MNIST.parent / "binarized_mnist")
    straight, _ = start(name, "binarized-mnist", overrides, tmp_path / "straight", steps=6, data_dir=data_dir)
    start(name, "binarized-mnist", overrides, tmp_path / "resumed", steps=3, data_dir=data_dir)
    resumed, outcome = train.resume(tmp_path / "resumed", steps=6, stream=io.StringIO())
    assert outcome == "finished"
    assert_same_state(flat_state(straight.path), flat_state(resumed.path))
    assert logged_losses(resumed) == logged_losses(straight) and len(logged_losses(straight)) == 6


# the Gaussian-latent VAEs on dynamically binarized MNIST: vae, and iaf-vae (models/iaf_vae.py) and
# iaf-resnet-vae, whose IAF steps' MADEs keep their masks as buffers; m2, whose labelled batches and
# temperature schedule come from the model's generator and buffers
MNIST_VAES = {"vae": dict(hidden=[16], z_dim=4), "iaf-vae": dict(hidden=[16], z_dim=4, iaf_hidden=[8, 8], context=3),
              "iaf-resnet-vae": dict(width=4, z_dim=4, iaf_hidden=[8, 8], context=3),
              "m2": dict(hidden=[16], z_dim=4, labels=20, anneal_every=2, anneal_rate=0.1)}


@pytest.mark.parametrize("name", MNIST_VAES)
def test_mnist_vaes_resumed_at_step_3_match_6_straight_steps(name, tmp_path):
    overrides = dict(MNIST_VAES[name], batch_size=8, log_every=1, sample_every=100)
    straight, _ = start(name, "mnist", overrides, tmp_path / "straight", steps=6, data_dir=str(SHARED_MNIST))
    start(name, "mnist", overrides, tmp_path / "resumed", steps=3, data_dir=str(SHARED_MNIST))
    resumed, outcome = train.resume(tmp_path / "resumed", steps=6, stream=io.StringIO())
    assert outcome == "finished"
    assert_same_state(flat_state(straight.path), flat_state(resumed.path))
    assert logged_losses(resumed) == logged_losses(straight) and len(logged_losses(straight)) == 6


def test_ctrl_c_saves_a_checkpoint_and_resume_finishes_the_same_run(tmp_path, monkeypatch):
    name, dataset, overrides = CASES[0]
    start(name, dataset, overrides, tmp_path / "straight", steps=5)
    cls = model_class(name)
    original_step = cls.train_step
    calls = []

    def step_then_ctrl_c(model, batch):
        losses = original_step(model, batch)
        calls.append(1)
        if len(calls) == 2:
            signal.raise_signal(signal.SIGINT)  # as a user pressing Ctrl-C during step 2
        return losses
    monkeypatch.setattr(cls, "train_step", step_then_ctrl_c)
    run, outcome = start(name, dataset, overrides, tmp_path / "stopped", steps=5)
    assert outcome == "interrupted" and len(calls) == 2
    assert checkpoint.checkpoint_paths(run)[-1].name == "step_000002.npz"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back
    monkeypatch.setattr(cls, "train_step", original_step)
    _, outcome = train.resume(tmp_path / "stopped", stream=io.StringIO())
    assert outcome == "finished"
    assert_same_state(flat_state(tmp_path / "straight"), flat_state(tmp_path / "stopped"))


def test_resume_forgets_metrics_logged_after_the_checkpoint(tmp_path):
    overrides = dict(CASES[0][2], log_every=1, checkpoint_every=2)
    run, _ = start("wgan-gp", "8gaussians", overrides, tmp_path / "run", steps=3)
    (run.checkpoints / "step_000003.npz").unlink()  # as if killed after logging step 3
    train.resume(run.path, steps=4, stream=io.StringIO())
    assert [record["step"] for record in run.read_metrics()] == [1, 2, 3, 4]


def test_resume_needs_a_checkpoint_and_a_total_not_behind_it(tmp_path):
    run, _ = start("wgan-gp", "8gaussians", CASES[0][2], tmp_path / "run", steps=2)
    with pytest.raises(ValueError, match="at step 2, past the 1 steps asked for"):
        train.resume(run.path, steps=1, stream=io.StringIO())
    for path in checkpoint.checkpoint_paths(run):
        path.unlink()
    with pytest.raises(FileNotFoundError, match="has no checkpoint"):
        train.resume(run.path, stream=io.StringIO())


def test_resume_past_an_unreadable_newest_checkpoint_matches_a_straight_run(tmp_path):
    """The newest checkpoint that loads is the one resumed from; the run then ends where a run
    that never stopped ends, and the unreadable file is kept out of the rotation's way."""
    overrides = dict(CASES[0][2], checkpoint_every=1, keep_checkpoints=2)
    start("wgan-gp", "8gaussians", overrides, tmp_path / "straight", steps=5)
    run, _ = start("wgan-gp", "8gaussians", overrides, tmp_path / "resumed", steps=3)
    newest = run.checkpoints / "step_000003.npz"
    newest.write_bytes(newest.read_bytes()[:-100])  # truncated
    stream = io.StringIO()
    _, outcome = train.resume(run.path, steps=5, stream=stream)
    assert outcome == "finished"
    notes = [line for line in stream.getvalue().splitlines() if line.startswith("scratchgen: skipped")]
    assert len(notes) == 1 and "step_000003.npz" in notes[0] and "resuming from step_000002.npz" in notes[0]
    assert_same_state(flat_state(tmp_path / "straight"), flat_state(run.path))
    assert sorted(path.name for path in run.checkpoints.glob("*.npz")) == [
        "step_000003.unreadable.npz", "step_000004.npz", "step_000005.npz"]


def test_rotation_never_deletes_a_checkpoint_set_aside_as_unreadable(tmp_path):
    run, _ = start("wgan-gp", "8gaussians", dict(CASES[0][2], checkpoint_every=1), tmp_path / "run", steps=2)
    (run.checkpoints / "step_000002.npz").write_bytes(b"not a checkpoint")
    train.resume(run.path, steps=6, stream=io.StringIO())  # from step 1; writes 2..6, keeps the newest 2
    assert sorted(path.name for path in run.checkpoints.glob("*.npz")) == [
        "step_000002.unreadable.npz", "step_000005.npz", "step_000006.npz"]
    train.resume(run.path, steps=7, stream=io.StringIO())
    assert (run.checkpoints / "step_000002.unreadable.npz").read_bytes() == b"not a checkpoint"


def test_a_checkpoint_of_another_model_is_skipped_with_the_reason(tmp_path):
    run, _ = start("wgan-gp", "8gaussians", dict(CASES[0][2], checkpoint_every=1), tmp_path / "run", steps=2)
    other, _ = start("wgan-gp", "8gaussians", dict(CASES[0][2], hidden=[8]), tmp_path / "other", steps=1)
    (run.checkpoints / "step_000002.npz").write_bytes((other.checkpoints / "step_000001.npz").read_bytes())
    stream = io.StringIO()
    train.resume(run.path, steps=3, stream=stream)
    assert "skipped checkpoint step_000002.npz" in stream.getvalue() and "resuming from step_000001.npz" in \
        stream.getvalue()


def test_time_s_continues_from_the_checkpoint_resumed_from(tmp_path, monkeypatch):
    """A Ctrl-C checkpoint at step 3 of a run that logs every 2 steps: the resumed run's times
    count on from step 3's, which no metrics line recorded."""
    name, dataset, overrides = CASES[0]
    cls = model_class(name)
    original_step = cls.train_step
    calls = []

    def slow_step_then_ctrl_c(model, batch):
        import time
        time.sleep(0.05)
        losses = original_step(model, batch)
        calls.append(1)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGINT)
        return losses
    monkeypatch.setattr(cls, "train_step", slow_step_then_ctrl_c)
    run, outcome = start(name, dataset, dict(overrides, log_every=2, checkpoint_every=10), tmp_path / "run", steps=6)
    assert outcome == "interrupted"
    monkeypatch.setattr(cls, "train_step", original_step)
    train.resume(run.path, stream=io.StringIO())
    times = {record["step"]: record["time_s"] for record in run.read_metrics()}
    assert sorted(times) == [2, 4, 6] and times[4] >= 0.15 and times[6] >= times[4] >= times[2]
