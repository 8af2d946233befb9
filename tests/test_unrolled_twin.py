"""The PyTorch twin of Unrolled GAN (benchmarks/reference/torch_twins_unrolled.py; the model is
scratchgen/models/unrolled_gan.py): from scratchgen's initial weights, batches and noise it takes
the same three steps, losses and weights to 1e-4 in float32, for K = 0 (the plain GAN), K = 3 with
the second-order gradient (through torch's own functional Adam, differentiable=True), K = 2
first-order and K = 3 with the non-saturating G loss, with learning rates large enough that the
unrolled steps move G by far more than that tolerance (checked: each variant's G differs from the
others'); and compare.py trains and scores both libraries on the 8 Gaussians with --set unroll=5."""
import itertools
import types

import numpy as np
import pytest

import scratchgen as sg
from reference_twins import assert_same_steps, draw_the_same_noise, load_compare, mirror_and_run, network_shapes
from scratchgen.models.unrolled_gan import UnrolledGAN
from scratchgen.train.config import resolve_config

TINY = dict(hidden_g=[16, 16], hidden_d=[16, 16], z_dim=4, batch_size=32, lr=0.02, lr_g=0.02)
VARIANTS = {"K=0": dict(unroll=0), "K=3 second-order": dict(unroll=3),
            "K=2 first-order": dict(unroll=2, unroll_gradient="first-order"),
            "K=3 non-saturating": dict(unroll=3, g_loss="non-saturating")}
BATCHES = [sg.data.EIGHT_GAUSSIANS.sample(32, sg.Generator(step)) for step in range(3)]
TOLERANCE = (1e-4, 1e-4)


def tiny_model(overrides):
    sg.manual_seed(0)
    return UnrolledGAN(resolve_config(UnrolledGAN, "8gaussians", {**TINY, **overrides}, seed=0))


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_twin_takes_the_same_steps_from_the_same_weights_batches_and_noise(monkeypatch, variant):
    twin_cls = load_compare(monkeypatch).MODELS["unrolled-gan"][1]
    ours = tiny_model(VARIANTS[variant])
    twin = twin_cls(ours.config)
    assert network_shapes(twin) == network_shapes(ours)
    assert_same_steps(monkeypatch, ours, twin, BATCHES, TOLERANCE)
    for parameter in twin.D.parameters():  # the unrolled steps left D's own Adam state alone
        assert twin.optimizer_d.state[parameter]["step"].item() == len(BATCHES)


def test_each_variant_moves_g_by_far_more_than_the_tolerance(monkeypatch):
    """So that agreeing to TOLERANCE above tells a twin that unrolls right from one that does not."""
    trained = {}
    for variant, overrides in VARIANTS.items():
        model = tiny_model(overrides)
        draw_the_same_noise(monkeypatch, model, types.SimpleNamespace())
        for batch in BATCHES:
            model.train_step((sg.tensor(batch),))
        trained[variant] = np.concatenate([p.detach().numpy().ravel() for p in model.G.parameters()])
    for a, b in itertools.combinations(VARIANTS, 2):
        assert np.abs(trained[a] - trained[b]).max() > 100 * TOLERANCE[1], (a, b)


def test_the_benchmark_trains_and_scores_unrolled_gan_and_its_twin(monkeypatch, tmp_path):
    compare = load_compare(monkeypatch)
    args = compare.parse(["--dataset", "8gaussians", "--models", "unrolled-gan", "--steps", "3", "--samples", "50",
                          "--set", "unroll=5", "hidden_g=[16,16]", "hidden_d=[16,16]", "z_dim=4", "batch_size=32",
                          "--out", str(tmp_path / "r.md")])
    assert args.overrides["unroll"] == 5
    results = mirror_and_run(compare, [compare.MODELS["unrolled-gan"][1]], args, None, args.overrides)
    assert [r["library"] for r in results] == list(compare.LIBRARIES)
    assert all(r["settings"]["unroll"] == 5 and r["steps"] == 3 for r in results)
    assert all(np.isfinite(r[m]) for r in results for m in ("modes_covered", "high_quality_fraction"))
    assert compare.table(results).count("| unrolled-gan | Welch t |") == 1
