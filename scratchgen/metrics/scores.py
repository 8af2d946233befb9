"""Scores of a classifier's predictions on generated samples: the classifier-based Inception
score, the histogram of predicted classes, and its KL divergence to the uniform distribution
(how unevenly the classes, i.e. the modes, are covered)."""
import numpy

from .inputs import as_numpy


def classifier_score(probabilities, splits=1):
    """The Inception score computed with an MNIST classifier in place of the Inception network
    (Salimans et al. 2016, Sec. 4): exp(E_x KL(p(y|x) || p(y))), with p(y) the mean of p(y|x)
    over the samples. It lies between 1 (every sample gets the same prediction, or every
    prediction is uniform) and the number of classes (confident predictions, all classes equally
    often).

    probabilities: (N, K) rows of p(y|x). With splits > 1 the samples are cut into `splits`
    equal consecutive parts and the score is computed on each, as openai/improved-gan's
    inception_score.py (10 splits); returns (mean, std) over the parts. With splits=1 (the
    default) returns the score of all samples as one float."""
    probabilities = _checked_probabilities(probabilities, "classifier_score")
    if isinstance(splits, bool) or not isinstance(splits, int) or not 1 <= splits <= len(probabilities):
        raise ValueError(f"classifier_score: splits must be an int in [1, {len(probabilities)}] (the number of "
                         f"samples), got {splits!r}")
    scores = [_score(part) for part in numpy.array_split(probabilities, splits)]
    return scores[0] if splits == 1 else (float(numpy.mean(scores)), float(numpy.std(scores)))


def _score(probabilities):
    marginal = probabilities.mean(axis=0, keepdims=True)
    # KL(p(y|x) || p(y)) = sum_y p(y|x) (log p(y|x) - log p(y)); 0 log 0 = 0
    terms = probabilities * (_safe_log(probabilities) - _safe_log(marginal))
    return float(numpy.exp(terms.sum(axis=1).mean()))


def class_histogram(predictions, num_classes=10):
    """The fraction of samples in each class, (num_classes,) summing to 1. `predictions` is
    either (N,) integer class labels, or (N, K) class probabilities, whose argmax is the label
    (the mode-counting protocol of Metz et al. 2016 and Srivastava et al. 2017 on MNIST)."""
    array = as_numpy(predictions, "class_histogram", "predictions")
    if array.ndim == 2:
        if array.shape[1] != num_classes:
            raise ValueError(f"class_histogram: predictions has {array.shape[1]} class columns, "
                             f"num_classes is {num_classes}")
        array = array.argmax(axis=1)
    if array.ndim != 1 or len(array) == 0 or array.dtype.kind not in "iu":
        raise ValueError(f"class_histogram: predictions must be (N,) integer labels or (N, K) probabilities "
                         f"with N >= 1, got shape {array.shape}, dtype {array.dtype}")
    if array.min() < 0 or array.max() >= num_classes:
        raise ValueError(f"class_histogram: labels must be in [0, {num_classes}), got min {array.min()}, "
                         f"max {array.max()}")
    return numpy.bincount(array, minlength=num_classes) / len(array)


def kl_to_uniform(histogram):
    """KL(h || uniform) = sum_k h_k log(K h_k) = log K - H(h), in nats (0 log 0 = 0): 0 when every
    class is equally frequent, log K when all samples are of one class."""
    histogram = as_numpy(histogram, "kl_to_uniform", "histogram").astype(numpy.float64)
    if histogram.ndim != 1 or histogram.min() < 0 or not numpy.isclose(histogram.sum(), 1):
        raise ValueError(f"kl_to_uniform: histogram must be a vector of non-negative fractions summing to 1, "
                         f"got shape {histogram.shape} summing to {histogram.sum()}")
    return float((histogram * _safe_log(len(histogram) * histogram)).sum())


def _checked_probabilities(probabilities, function):
    array = as_numpy(probabilities, function, "probabilities").astype(numpy.float64)
    if array.ndim != 2 or len(array) == 0:
        raise ValueError(f"{function}: probabilities must be (N, K) with N >= 1, got shape {array.shape}")
    if array.min() < 0 or not numpy.allclose(array.sum(axis=1), 1, atol=1e-4):
        raise ValueError(f"{function}: each row of probabilities must be non-negative and sum to 1 "
                         f"(softmax outputs), got row sums in [{array.sum(axis=1).min()}, {array.sum(axis=1).max()}]")
    return array


def _safe_log(values):
    """log(values), with log 0 taken as 0: the terms it enters are multiplied by 0."""
    return numpy.log(numpy.where(values > 0, values, 1))
