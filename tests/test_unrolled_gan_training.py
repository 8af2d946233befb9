"""Unrolled GAN trains: a short run with the notebook's networks and K = 5 moves G's samples onto
the 8-Gaussian ring and over most of its modes (a G that ascended f instead, or a critic that
unrolled the wrong way, ends far off the ring); and the run goes through train, sample and eval
as every toy GAN does. (Gradients: test_unrolled_gan.py.)"""
import io

import numpy as np

import scratchgen as sg
from scratchgen import train
from scratchgen.metrics import nearest_modes, toy_sample_metrics
from scratchgen.models.unrolled_gan import UnrolledGAN
from scratchgen.train.config import resolve_config
from scratchgen.train.datasets import training_batches


def test_a_short_run_with_k_5_moves_g_onto_the_ring_and_over_its_modes():
    # measured at seed 0 (400 steps, batch 256): 6 modes covered, mean distance 0.49 to the nearest
    # centre (the ring's radius is 1.41); with G's loss negated the distance is 16.5 and no mode is covered
    config = resolve_config(UnrolledGAN, "8gaussians", dict(unroll=5, batch_size=256), seed=0)
    sg.manual_seed(0)
    model, batches = UnrolledGAN(config), training_batches(config, "flat", 1)
    for _ in range(400):
        losses = model.train_step(next(batches))
    assert np.isfinite(list(losses.values())).all()
    samples = model.sample(2500, generator=sg.Generator(0))
    _, distances = nearest_modes(samples, sg.data.EIGHT_GAUSSIANS.centers)
    assert distances.mean() < 0.6
    assert toy_sample_metrics(samples, "8gaussians")["modes_covered"] >= 5


def test_train_sample_and_eval_a_run(tmp_path):
    overrides = dict(hidden_g=[16], hidden_d=[16], z_dim=4, batch_size=32, unroll=2, sample_every=2)
    run, outcome = train.start("unrolled-gan", steps=4, overrides=overrides, out=tmp_path / "run", stream=io.StringIO())
    assert outcome == "finished" and [r["step"] for r in run.read_metrics()] == [4]
    assert set(run.read_metrics()[0]) >= {"loss_d", "loss_g"}
    train.sample_to_file(tmp_path / "run", n=16, out=tmp_path / "samples.npy")
    assert np.load(tmp_path / "samples.npy").shape == (16, 2)
    results = train.evaluate(tmp_path / "run", n_samples=100)
    assert results["num_modes"] == 8 and 0 <= results["modes_covered"] <= 8
    assert 0 <= results["high_quality_fraction"] <= 1
