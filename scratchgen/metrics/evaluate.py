"""The sample metrics of a trained model, as `scratchgen eval` and the Results table report
them: on MNIST images, FID on LeNet features against the test set, the classifier score and the
class histogram with its KL to uniform (and the test accuracy of the classifier they rest on);
on the Gaussian-mixture toys, mode coverage."""
from ..data import toy_distribution
from ..progress import progress_to
from .classifier import features_and_probabilities, load_classifier
from .fid import feature_statistics, frechet_distance
from .scores import class_histogram, classifier_score, kl_to_uniform
from .toy import mode_coverage


def image_sample_metrics(images, trained=None, data_dir=None, progress=None):
    """{"fid_lenet", "classifier_score", "kl_to_uniform", "class_histogram", "classifier_test_accuracy"}
    of generated MNIST images (N, 1, 28, 28) in [0, 1]. `trained` is a TrainedClassifier (default:
    load_classifier(data_dir), trained once and cached); the FID compares with its test-set feature
    statistics, and classifier_test_accuracy is its accuracy on the MNIST test split. The features
    (and a first training of the classifier) show progress where `progress` says (None: the current
    default, stderr; False: nothing; True; or a stream)."""
    with progress_to(progress):
        trained = load_classifier(data_dir) if trained is None else trained
        sample_features, sample_probabilities = features_and_probabilities(trained.network, images,
                                                                           name="image_sample_metrics")
    histogram = class_histogram(sample_probabilities)
    fid = frechet_distance(*feature_statistics(sample_features), trained.test_feature_mean, trained.test_feature_cov)
    return {"fid_lenet": fid, "classifier_score": classifier_score(sample_probabilities),
            "kl_to_uniform": kl_to_uniform(histogram), "class_histogram": histogram.tolist(),
            "classifier_test_accuracy": float(trained.test_accuracy)}


def toy_sample_metrics(points, dataset):
    """mode_coverage of 2-D samples `points` (N, 2) of a model trained on `dataset`
    ("8gaussians" or "25gaussians"), with that mixture's centres and standard deviation."""
    distribution = toy_distribution(dataset)
    if distribution.centers is None:
        raise ValueError(f"toy_sample_metrics: {dataset} has no modes to cover (a continuous curve); "
                         "mode coverage applies to 8gaussians and 25gaussians")
    return mode_coverage(points, distribution.centers, distribution.std)
