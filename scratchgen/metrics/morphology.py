"""Two measures of a digit's handwriting, computed on the image itself (no classifier): how
thick its strokes are and how far it leans. They follow the idea of Morpho-MNIST (Castro et
al. 2019, "Morpho-MNIST: Quantitative Assessment and Diagnostics for Representation Learning"),
with simpler estimators that need only NumPy and work on grey pixels as well as on binary ones:

    thickness   the width w of the rectangle that has the digit's ink area A and its perimeter P
                (A = w l, P = 2 (w + l), so w = (P/2 - sqrt(P^2/4 - 4A)) / 2), in pixels. The area
                is the sum of the pixels, the perimeter their total variation
                sum |x[i+1, j] - x[i, j]| + |x[i, j+1] - x[i, j]| (the image padded with zeros):
                for a binary image exactly the number of pixel edges between ink and background.
                A vertical bar w pixels wide measures w; a diagonal stroke's staircase edge makes it
                measure thinner than it is (about 1/sqrt 2 of it at 45 degrees).
    slant       the angle, in degrees, of the horizontal shear that would make the digit upright:
                atan(-mu11 / mu02) from its second moments (the classic deskewing estimate), with
                x the column, y the row (downwards); positive when the top leans to the right.

    thickness(images), slant(images)     # (N,) float64 each, for MNIST images (N, 1, 28, 28) in [0, 1]

scratchgen explore's --arithmetic names groups of samples by them ("thick 7 - thin 7 + thin 1").
"""
import numpy

from .inputs import as_mnist_images


def _pixels(images, function):
    """(N, H, W) float64 pixels in [0, 1], checked as the other metrics check images."""
    return as_mnist_images(images, function)[:, 0].astype(numpy.float64)


def ink_area_and_perimeter(images, function="ink_area_and_perimeter"):
    """(area, perimeter) of each image, (N,) each: the sum of its pixels, and their total
    variation along rows and columns with the image padded by zeros (module docstring)."""
    pixels = numpy.pad(_pixels(images, function), ((0, 0), (1, 1), (1, 1)))
    area = pixels.sum(axis=(1, 2))
    perimeter = (numpy.abs(numpy.diff(pixels, axis=1)).sum(axis=(1, 2))
                 + numpy.abs(numpy.diff(pixels, axis=2)).sum(axis=(1, 2)))
    return area, perimeter


def thickness(images):
    """The stroke width of each image in pixels, (N,) float64: the width of the rectangle with
    the same ink area and perimeter (module docstring); 0 for an empty image."""
    area, perimeter = ink_area_and_perimeter(images, "thickness")
    half = perimeter / 2
    discriminant = numpy.maximum(half ** 2 - 4 * area, 0.0)  # < 0 only for blobs rounder than a square
    return numpy.where(perimeter > 0, (half - numpy.sqrt(discriminant)) / 2, 0.0)


def slant(images):
    """How far each digit leans, in degrees, (N,) float64: atan(-mu11 / mu02) of its pixel
    moments, positive when the top leans right (module docstring); 0 for an empty image."""
    pixels = _pixels(images, "slant")
    rows, cols = numpy.indices(pixels.shape[1:], dtype=numpy.float64)
    mass = pixels.sum(axis=(1, 2))
    safe = numpy.where(mass > 0, mass, 1.0)
    mean_row = (pixels * rows).sum(axis=(1, 2)) / safe
    mean_col = (pixels * cols).sum(axis=(1, 2)) / safe
    drow = rows - mean_row[:, None, None]
    dcol = cols - mean_col[:, None, None]
    mu11 = (pixels * drow * dcol).sum(axis=(1, 2))
    mu02 = (pixels * drow ** 2).sum(axis=(1, 2))
    shear = numpy.where(mu02 > 0, -mu11 / numpy.where(mu02 > 0, mu02, 1.0), 0.0)
    return numpy.degrees(numpy.arctan(shear))
