"""The WGAN-GP toy distributions: gan_toy.py's constants, mode centres and spreads that match
the samples, repeatable draws from a seeded Generator, and clear errors."""
import math

import numpy as np
import pytest

import scratchgen as sg
from scratchgen.data import EIGHT_GAUSSIANS, SWISS_ROLL, TOY_DISTRIBUTIONS, TWENTY_FIVE_GAUSSIANS, toy_distribution

MIXTURES = [EIGHT_GAUSSIANS, TWENTY_FIVE_GAUSSIANS]


def test_eight_gaussians_constants_of_gan_toy():
    radius = 2 / 1.414
    centers = EIGHT_GAUSSIANS.centers
    assert centers.shape == (8, 2) and centers.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(centers, axis=1), radius, rtol=1e-6)
    angles = np.sort(np.round(np.degrees(np.arctan2(centers[:, 1], centers[:, 0]))) % 360)
    np.testing.assert_array_equal(angles, np.arange(0, 360, 45))
    assert EIGHT_GAUSSIANS.std == pytest.approx(0.02 / 1.414)


def test_twenty_five_gaussians_constants_of_gan_toy():
    grid = np.array([-4, -2, 0, 2, 4]) / 2.828
    expected = {(round(x, 6), round(y, 6)) for x in grid for y in grid}
    assert {(round(float(x), 6), round(float(y), 6)) for x, y in TWENTY_FIVE_GAUSSIANS.centers} == expected
    assert TWENTY_FIVE_GAUSSIANS.std == pytest.approx(0.05 / 2.828)


@pytest.mark.parametrize("toy", MIXTURES, ids=lambda toy: toy.name)
def test_mixture_samples_sit_on_their_modes_with_the_stated_spread_and_equal_weights(toy):
    n = 20_000
    points = toy.sample(n, sg.Generator(0))
    assert points.shape == (n, 2) and points.dtype == np.float32
    distances = np.linalg.norm(points[:, None, :] - toy.centers[None, :, :], axis=2)
    nearest = distances.argmin(axis=1)
    offsets = points - toy.centers[nearest]
    assert np.abs(offsets).max() < 6 * toy.std  # modes are far apart: every point is near one centre
    assert np.std(offsets, axis=0) == pytest.approx([toy.std, toy.std], rel=0.03)
    counts = np.bincount(nearest, minlength=len(toy.centers))
    expected = n / len(toy.centers)
    assert np.all(np.abs(counts - expected) < 5 * math.sqrt(expected))  # multinomial, equal weights


def test_swiss_roll_lies_on_sklearns_spiral_with_its_noise():
    points = SWISS_ROLL.sample(20_000, sg.Generator(0)).astype(np.float64) * 7.5
    assert SWISS_ROLL.centers is None and SWISS_ROLL.std is None
    radius = np.linalg.norm(points, axis=1)
    angle = np.arctan2(points[:, 1], points[:, 0])
    # a point (t cos t, t sin t) has radius t and angle t (mod 2 pi); N(0, 0.25^2) noise on x and z
    # moves the radius by 0.25 and the angle by 0.25 / t (t >= 4.7) standard deviations
    winding = np.angle(np.exp(1j * (angle - radius)))
    assert np.abs(winding).max() < 6 * 0.26 and np.std(winding) == pytest.approx(0.253, rel=0.03)
    assert 1.5 * math.pi - 1.5 < radius.min() and radius.max() < 4.5 * math.pi + 1.5
    assert np.mean(radius) == pytest.approx(3 * math.pi, rel=0.02)  # t uniform on [1.5 pi, 4.5 pi]


@pytest.mark.parametrize("toy", TOY_DISTRIBUTIONS.values(), ids=lambda toy: toy.name)
def test_samples_repeat_with_the_seed_and_follow_the_generator_state(toy):
    generator = sg.Generator(7)
    first = toy.sample(64, generator)
    state = generator.get_state()
    second = toy.sample(64, generator)
    np.testing.assert_array_equal(toy.sample(64, sg.Generator(7)), first)
    assert not np.array_equal(first, second)
    generator.set_state(state)
    np.testing.assert_array_equal(toy.sample(64, generator), second)


def test_default_generator_is_the_global_one():
    sg.manual_seed(5)
    first = EIGHT_GAUSSIANS.sample(16)
    sg.manual_seed(5)
    np.testing.assert_array_equal(EIGHT_GAUSSIANS.sample(16), first)


def test_toy_distribution_by_name():
    assert [toy_distribution(name) for name in ("8gaussians", "25gaussians", "swissroll")] == [
        EIGHT_GAUSSIANS, TWENTY_FIVE_GAUSSIANS, SWISS_ROLL]
    with pytest.raises(ValueError, match="toy_distribution: unknown name '9gaussians'; expected one of "
                                         "\\['8gaussians', '25gaussians', 'swissroll'\\]"):
        toy_distribution("9gaussians")


@pytest.mark.parametrize("n", [-1, 2.5, True, "8"])
def test_bad_sample_counts_are_refused(n):
    with pytest.raises(ValueError, match=f"8gaussians.sample: n should be a non-negative integer, got {n!r}"):
        EIGHT_GAUSSIANS.sample(n)


def test_zero_samples_is_an_empty_batch():
    assert SWISS_ROLL.sample(0, sg.Generator(0)).shape == (0, 2)
