"""The 2-D toy distributions of the WGAN-GP paper's code (Gulrajani et al. 2017,
igul222/improved_wgan_training, gan_toy.py), with its constants:

    8gaussians   8 modes at radius 2 on the axes and diagonals, std 0.02, all divided by 1.414
    25gaussians  a 5 x 5 grid {-4, -2, 0, 2, 4}^2, std 0.05, all divided by 2.828
    swissroll    sklearn's make_swiss_roll(noise=0.25), columns [x, z], divided by 7.5

`sample(n, generator)` draws n fresh i.i.d. points (float32, shape (n, 2)) every call, as
gan_toy.py does for 8gaussians and the swiss roll. For 25gaussians gan_toy.py instead draws one
dataset of 100,000 points (exactly 4,000 per mode) and cycles through it in batches; a
`DataLoader(dist.sample(100_000, g), batch_size=256, shuffle=True, drop_last=True)` is the
same pipeline up to those exact per-mode counts.

`centers` (the mode centres after scaling, float32 (K, 2)) and `std` (each mode's standard
deviation per coordinate after scaling) are what the mode-coverage metrics need.
"""
import math

import numpy

from .. import default_generator


class GaussianMixture:
    """An equal-weight mixture of isotropic 2-D Gaussians: a centre chosen uniformly plus
    std * N(0, I), divided by `divisor` (gan_toy.py's "stdev" normalisation)."""

    def __init__(self, name, centers, std, divisor):
        self.name = name
        self._centers = numpy.asarray(centers, numpy.float64) / divisor  # (c + s z) / d = c / d + (s / d) z
        self.centers = self._centers.astype(numpy.float32)
        self.centers.flags.writeable = False
        self.std = std / divisor

    def sample(self, n, generator=None):
        generator = _checked(n, generator, self.name)
        modes = generator.integers(0, len(self._centers), (n,), numpy.int64, "cpu")
        noise = generator.normal((n, 2), numpy.float64, "cpu")
        return (self._centers[modes] + self.std * noise).astype(numpy.float32)


class SwissRoll:
    """sklearn's make_swiss_roll(noise=0.25) (Marsland, "Machine Learning: An Algorithmic
    Perspective", 2nd ed., ch. 6, 2014), keeping the
    roll's cross-section [x, z]: the height y = 21 v is dropped, so it is not drawn. A continuous
    curve has no modes: `centers` and `std` are None and mode-coverage metrics do not apply."""

    name = "swissroll"
    centers = None
    std = None
    noise = 0.25
    divisor = 7.5

    def sample(self, n, generator=None):
        generator = _checked(n, generator, self.name)
        t = 1.5 * math.pi * (1 + 2 * generator.uniform((n,), numpy.float64, "cpu"))  # position along the roll
        noise = self.noise * generator.normal((n, 2), numpy.float64, "cpu")
        roll = numpy.stack([t * numpy.cos(t), t * numpy.sin(t)], axis=1)  # sklearn's x and z
        return ((roll + noise) / self.divisor).astype(numpy.float32)


def _checked(n, generator, name):
    """The generator to draw from (the global one by default), once `n` is a valid count."""
    if isinstance(n, bool) or not isinstance(n, (int, numpy.integer)) or n < 0:
        raise ValueError(f"{name}.sample: n should be a non-negative integer, got {n!r}")
    return default_generator if generator is None else generator


_DIAGONAL = 1 / math.sqrt(2)
EIGHT_GAUSSIANS = GaussianMixture(
    "8gaussians", std=0.02, divisor=1.414,
    centers=[(2 * x, 2 * y) for x, y in [(1, 0), (-1, 0), (0, 1), (0, -1), (_DIAGONAL, _DIAGONAL),
                                         (_DIAGONAL, -_DIAGONAL), (-_DIAGONAL, _DIAGONAL), (-_DIAGONAL, -_DIAGONAL)]])
TWENTY_FIVE_GAUSSIANS = GaussianMixture(
    "25gaussians", std=0.05, divisor=2.828,
    centers=[(2 * x, 2 * y) for x in range(-2, 3) for y in range(-2, 3)])
SWISS_ROLL = SwissRoll()
TOY_DISTRIBUTIONS = {toy.name: toy for toy in (EIGHT_GAUSSIANS, TWENTY_FIVE_GAUSSIANS, SWISS_ROLL)}


def toy_distribution(name):
    """The toy distribution called `name` ("8gaussians", "25gaussians" or "swissroll", as in gan_toy.py)."""
    if name not in TOY_DISTRIBUTIONS:
        raise ValueError(f"toy_distribution: unknown name {name!r}; expected one of {list(TOY_DISTRIBUTIONS)}")
    return TOY_DISTRIBUTIONS[name]
