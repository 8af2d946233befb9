"""Mode coverage on the 2-D Gaussian-mixture toys (8 and 25 Gaussians), by the protocol of
Srivastava et al. 2017 (VEEGAN, Sec. 5.1), also used for Unrolled GAN and PacGAN:

    a sample is "high quality" if it lies within 3 standard deviations of its nearest mode
    centre; a mode is "covered" if it is the nearest mode of at least one high-quality sample
    (VEEGAN draws 2500 samples from the generator).
"""
import numpy

from .inputs import as_numpy


def nearest_modes(points, centers):
    """(index of the nearest centre, distance to it) for each point: two (N,) arrays."""
    points = _checked_points(points, "nearest_modes", "points")
    centers = _checked_points(centers, "nearest_modes", "centers")
    distances = numpy.linalg.norm(points[:, None, :] - centers[None, :, :], axis=2)
    return distances.argmin(axis=1), distances.min(axis=1)


def mode_coverage(points, centers, std, num_std=3.0, min_samples=1):
    """{"modes_covered": int, "num_modes": int, "high_quality_fraction": float} for samples
    `points` (N, 2) of a mixture whose modes are at `centers` (K, 2) with per-coordinate
    standard deviation `std` (e.g. scratchgen.data.EIGHT_GAUSSIANS.centers and .std).

    A point is high quality if its distance to the nearest centre is at most num_std * std
    (VEEGAN: 3). A mode counts as covered when at least `min_samples` high-quality points have
    it as their nearest centre (VEEGAN: 1; PacGAN's stricter variant uses more)."""
    if not std > 0:
        raise ValueError(f"mode_coverage: std must be a positive number, got {std!r}")
    if isinstance(min_samples, bool) or not isinstance(min_samples, int) or min_samples < 1:
        raise ValueError(f"mode_coverage: min_samples must be a positive int, got {min_samples!r}")
    modes, distances = nearest_modes(points, centers)
    high_quality = distances <= num_std * std
    counts = numpy.bincount(modes[high_quality], minlength=len(numpy.asarray(centers)))
    return {"modes_covered": int((counts >= min_samples).sum()), "num_modes": len(counts),
            "high_quality_fraction": float(high_quality.mean())}


def _checked_points(value, function, argument):
    array = as_numpy(value, function, argument).astype(numpy.float64)
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
        raise ValueError(f"{function}: {argument} must be 2-D points shaped (N, 2) with N >= 1, "
                         f"got shape {array.shape}")
    if not numpy.isfinite(array).all():
        raise ValueError(f"{function}: {argument} contains NaN or inf")
    return array
