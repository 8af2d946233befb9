"""The Fréchet distance between two Gaussians fitted to feature vectors (Heusel et al. 2017,
"GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium", Eq. 6;
Dowson & Landau 1982 for the closed form):

    d^2 = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))

On the penultimate features of an MNIST classifier it is "FID on LeNet features" (the Fréchet
LeNet distance of dfaroughy/FID-MNIST), not comparable to Inception-network FIDs.
"""
import numpy

from .inputs import as_numpy


def feature_statistics(features):
    """(mean, covariance) of the rows of `features` (N, D), in float64; the covariance is the
    unbiased one (divided by N - 1), as numpy.cov and the reference FID code use."""
    features = as_numpy(features, "feature_statistics", "features").astype(numpy.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"feature_statistics: features must be (N, D) with N >= 2, got shape {features.shape}")
    return features.mean(axis=0), numpy.cov(features, rowvar=False).reshape(features.shape[1], -1)


def frechet_distance(mean1, cov1, mean2, cov2):
    """d^2 between N(mean1, cov1) and N(mean2, cov2) (Heusel et al. 2017, Eq. 6).

    Tr((S1 S2)^(1/2)) is computed without a general matrix square root: S1 S2 is similar to
    the symmetric PSD matrix M = S1^(1/2) S2 S1^(1/2) (conjugate by S1^(1/2)), so both have the
    same non-negative eigenvalues, and Tr((S1 S2)^(1/2)) = sum_i sqrt(lambda_i(M)). Both square
    roots come from eigh of symmetric matrices; eigenvalues below zero are rounding and are
    clipped to zero."""
    mean1, mean2 = (numpy.asarray(m, numpy.float64) for m in (mean1, mean2))
    cov1, cov2 = (numpy.asarray(c, numpy.float64) for c in (cov1, cov2))
    if mean1.ndim != 1:
        raise ValueError(f"frechet_distance: mean1 must be a vector (D,), got shape {mean1.shape}")
    dims = len(mean1)
    for name, value, shape in (("mean2", mean2, (dims,)), ("cov1", cov1, (dims, dims)), ("cov2", cov2, (dims, dims))):
        if value.shape != shape:
            raise ValueError(f"frechet_distance: {name} must have shape {shape} (mean1 has {dims} "
                             f"dimensions), got {value.shape}")
    root1 = _symmetric_sqrt(cov1)
    middle = root1 @ cov2 @ root1
    eigenvalues = numpy.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt_product = numpy.sqrt(numpy.clip(eigenvalues, 0, None)).sum()
    difference = mean1 - mean2
    return float(difference @ difference + numpy.trace(cov1) + numpy.trace(cov2) - 2 * trace_sqrt_product)


def fid_from_features(features1, features2):
    """The Fréchet distance between Gaussians fitted to two sets of feature vectors (N1, D)
    and (N2, D)."""
    return frechet_distance(*feature_statistics(features1), *feature_statistics(features2))


def _symmetric_sqrt(matrix):
    """The PSD square root of a symmetric PSD matrix: V diag(sqrt(lambda)) V^T."""
    eigenvalues, eigenvectors = numpy.linalg.eigh((matrix + matrix.T) / 2)
    return (eigenvectors * numpy.sqrt(numpy.clip(eigenvalues, 0, None))) @ eigenvectors.T
