"""A run's settings: the model's paper defaults, those for its kind of dataset, then what the
user chose. Everything ends up in the run's config.json."""
from .. import __version__
from . import datasets

# how often the loop logs a metrics line, plots samples and writes a checkpoint (None: 10 times a run)
LOOP_DEFAULTS = dict(log_every=10, sample_every=None, checkpoint_every=None, keep_checkpoints=2)
POSITIVE_SETTINGS = ("batch_size", "steps", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints")


def resolve_config(model_cls, dataset=None, overrides=None, seed=0, device="cpu", data_dir=None):
    """Every setting of a new run of `model_cls` (a GenerativeModel subclass) on `dataset` (its
    first dataset by default). `overrides` {setting: value} must name settings the model has."""
    dataset = model_cls.datasets[0] if dataset is None else dataset
    if dataset not in model_cls.datasets:
        raise ValueError(f"model {model_cls.name} does not train on dataset {dataset!r}; its datasets: "
                         f"{', '.join(model_cls.datasets)}")
    settings = {**LOOP_DEFAULTS, **model_cls.defaults,
                **model_cls.dataset_defaults.get(datasets.dataset_kind(dataset), {})}
    for key, value in (overrides or {}).items():
        if key not in settings:
            raise ValueError(f"unknown setting {key!r} for {model_cls.name} on {dataset}; its settings: "
                             f"{', '.join(sorted(settings))}")
        settings[key] = checked_setting(key, value, settings[key])
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return {"model": model_cls.name, "dataset": dataset, "seed": seed, "device": device, "data_dir": data_dir,
            **settings, "data_shape": datasets.data_shape(dataset, model_cls.image_layout),
            "num_classes": datasets.num_classes(dataset), "scratchgen_version": __version__}


def checked_setting(key, value, default):
    """`value` for setting `key`, if it has the type of the default (an int may stand for a float)."""
    expected = type(default)
    if default is None or key in POSITIVE_SETTINGS:
        expected = int
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) != (expected is bool) or not isinstance(value, expected):
        raise ValueError(f"setting {key} must be {expected.__name__}, got {value!r}")
    if key in POSITIVE_SETTINGS and value <= 0:
        raise ValueError(f"setting {key} must be a positive integer, got {value!r}")
    return value


def loop_cadence(config):
    """Fill in sample_every and checkpoint_every left to the default: 10 times over the run."""
    every = max(1, config["steps"] // 10)
    for key in ("sample_every", "checkpoint_every"):
        if config[key] is None:
            config[key] = every
    return config
