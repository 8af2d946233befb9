"""Sample-quality metrics: an MNIST classifier trained with scratchgen (cached), FID on its
penultimate features, the classifier-based Inception score, the class histogram and its KL to
uniform; mode coverage on the 2-D toys. Plain functions on NumPy arrays or Tensors. Those that can take
long (training the classifier, features of many images) show progress (scratchgen.progress) and
take a `progress` argument: None (the current default, stderr), True, False or a stream.

    image_sample_metrics(model.sample(10_000))          # {"fid_lenet", "classifier_score", "kl_to_uniform", ...,
                                                        #  "classifier_test_accuracy"}
    toy_sample_metrics(model.sample(2500), "8gaussians")  # {"modes_covered", "high_quality_fraction", ...}
    text_sample_metrics(strings, held_out, train)       # {"js_1", ..., "js_4", "real_word_fraction", ...}
    thickness(images), slant(images)                    # stroke width (pixels) and lean (degrees) of each digit
    code_classification_errors(categories, labels)      # a learned discrete code as a classifier (InfoGAN's c1)
"""
from .classifier import (LeNet, Recipe, TrainedClassifier, classifier_cache_dir, features,
                         features_and_probabilities, load_classifier, probabilities, train_classifier)
from .codes import code_classification_errors, contingency_table, linear_assignment
from .evaluate import image_sample_metrics, toy_sample_metrics
from .fid import feature_statistics, fid_from_features, frechet_distance
from .morphology import ink_area_and_perimeter, slant, thickness
from .scores import class_histogram, classifier_score, kl_to_uniform
from .text import ngram_js, real_word_fraction, text_sample_metrics
from .toy import mode_coverage, nearest_modes
