"""`scratchgen eval RUN_DIR`: numbers for the model in a run's newest checkpoint, written to
RUN_DIR/eval.json.

    likelihood models         the VAE's test ELBO and importance-weighted NLL (IWAE bound, k samples);
                              the exact test NLL of an autoregressive model (MADE)
    toy mixtures              modes covered and the high-quality fraction (VEEGAN protocol)
    agents (Gymnasium tasks)  the mean and spread of the policy's return over 50 episodes
    language models           JS between the 1- to 4-gram statistics of samples and held-out text (in bits),
                              the fraction of sampled words that are words of the corpus
    MNIST samplers            FID on LeNet features, classifier score, class histogram, KL to uniform,
                              and the test accuracy of the LeNet they rest on

The long parts (the importance sampling, a first training of the classifier, the features of the
samples, a download of MNIST) show progress on stderr: a bar on a terminal, lines in a log.
"""
from .. import as_tensor
from ..metrics import image_sample_metrics, text_sample_metrics, toy_sample_metrics
from ..progress import progress_to
from . import datasets
from .session import load_trained

TOY_SAMPLES = 2500       # VEEGAN Sec. 5.1
MNIST_SAMPLES = 10000    # as many as test images, the FID reference
TEXT_SAMPLES = 1024      # gan_language.py's JS monitoring draws 10 batches of 64 per n-gram order; a little more


def evaluate(run_dir, data_dir=None, k=5000, n_test=None, n_samples=None, progress=None):
    """The metrics of the run's model, also written to RUN_DIR/eval.json. Progress goes where
    `progress` says (None: the current default, stderr; False: nothing; True; or a stream)."""
    with progress_to(progress):
        run, config, model, step = load_trained(run_dir, data_dir)
        generator = datasets.stream(config["seed"], datasets.EVAL_STREAM)
        if hasattr(model, "test_metrics"):
            images, labels = datasets.test_set(config, type(model).image_layout)
            if n_test is not None:
                images, labels = images[:n_test], None if labels is None else labels[:n_test]
            given = {"labels": labels} if getattr(model, "test_uses_labels", False) else {}  # classifiers' digits
            results = model.test_metrics(as_tensor(images, device=config["device"]), k, generator, **given)
        elif config["dataset"] in datasets.ENVIRONMENT_DATASETS:
            results = model.episode_metrics(generator)
        elif config["dataset"] in datasets.TEXT_DATASETS:
            results = text_metrics(model, n_samples or TEXT_SAMPLES, generator, config["data_dir"])
        elif config["dataset"] in datasets.TOY_DATASETS:
            results = toy_metrics(model, config["dataset"], n_samples or TOY_SAMPLES, generator)
        else:
            results = mnist_sample_metrics(model, n_samples or MNIST_SAMPLES, generator, config["data_dir"])
    results = {"model": config["model"], "dataset": config["dataset"], "step": step, **results}
    run.write_eval(results)
    return results


def text_metrics(model, n, generator, data_dir):
    """JS_1 ... JS_4 of the n-gram statistics of n samples to the held-out text, and the fraction of
    real words (metrics/text.py)."""
    train_text, held_out_sequences = datasets.text_split(data_dir)
    return {"n_samples": n, **text_sample_metrics(list(model.sample(n, generator=generator)), held_out_sequences,
                                                  train_text)}


def toy_metrics(model, dataset, n, generator):
    return {"n_samples": n, **toy_sample_metrics(model.sample(n, generator=generator), dataset)}


def mnist_sample_metrics(model, n, generator, data_dir):
    return {"n_samples": n, **image_sample_metrics(model.sample(n, generator=generator), data_dir=data_dir)}
