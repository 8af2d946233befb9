"""A run's settings: the model's paper defaults, those for its kind of dataset, then what the
user chose. Everything ends up in the run's config.json.

Every setting is declared (scratchgen.models.Setting: type, range or choices, one line of help):
the model's in its class's `settings`, beside its defaults; the loop's here, in LOOP_SETTINGS. A
new run's settings (resolve_config) and a run folder's config.json (check_stored_config, on
--resume, sample and eval) are checked against them before anything is written, so no run
starts with a setting outside its declared range. A problem with what the user gave raises
UsageError (a ValueError), which the CLI reports in one line with exit status 2.
"""
import importlib.util
import math
import os

from .. import __version__
from ..models import Setting, model_class
from ..models.settings import MAX_STEPS, FolderSetting, shown
from ..data import environments
from . import datasets



# how often the loop logs a metrics line, plots samples and writes a checkpoint (None: 10 times a run);
# tensorboard: a folder for TensorBoard event files (train/tensorboard.py), with histograms every histogram_every
LOOP_DEFAULTS = dict(log_every=10, sample_every=None, checkpoint_every=None, keep_checkpoints=2, threads=None,
                     tensorboard=None, histogram_every=None)
LOOP_SETTINGS = dict(
    log_every=Setting(int, "append a line to metrics.jsonl every N steps (and at the last step)",
                      at_least=1, at_most=MAX_STEPS),
    sample_every=Setting(int, "plot samples every N steps; null: 10 times a run", at_least=1, at_most=MAX_STEPS,
                         optional=True),
    checkpoint_every=Setting(int, "write a checkpoint every N steps; null: 10 times a run", at_least=1,
                             at_most=MAX_STEPS, optional=True),
    keep_checkpoints=Setting(int, "how many of the newest checkpoints are kept", at_least=1, at_most=1000),
    threads=Setting(int, "threads for the CPU's array work and OpenBLAS; null: as many as there are free cores "
                    "when the run starts (then recorded, so that resume repeats the run's numbers exactly)",
                    at_least=1, at_most=1024, optional=True),
    tensorboard=FolderSetting("write TensorBoard event files into this folder: losses every log_every steps, "
                              "samples every sample_every, histograms every histogram_every (--tensorboard DIR); "
                              "null: none", "runs/tensorboard"),
    histogram_every=Setting(int, "with tensorboard: histograms of the weights and gradients every N steps; null: "
                            "every sample_every steps", at_least=1, at_most=MAX_STEPS, optional=True),
)
STEPS = Setting(int, "total training steps of the run", at_least=1, at_most=MAX_STEPS)
DEVICES = ("cpu", "cuda")
MAX_SEED = 2 ** 63 - 1
# run entries that are not settings: the flag of `scratchgen train` that gives each
NOT_SETTINGS = {"model": "MODEL", "dataset": "--dataset", "seed": "--seed", "device": "--device",
                "data_dir": "--data-dir"}
DERIVED = ("data_shape", "num_classes", "scratchgen_version")  # written by resolve_config, not chosen


class UsageError(ValueError):
    """What the user gave (arguments, settings, a run folder, a path) cannot be used as it is:
    the CLI prints the message in one line and exits with status 2."""


class MissingInput(UsageError, FileNotFoundError):
    """A run folder, checkpoint or folder the user named does not exist or holds nothing usable."""


def declared_settings(model_cls):
    """{key: Setting} of every setting a run of `model_cls` has: the loop's and the model's."""
    return {**LOOP_SETTINGS, **model_cls.settings}


def resolve_config(model_cls, dataset=None, overrides=None, seed=0, device="cpu", data_dir=None):
    """Every setting of a new run of `model_cls` (a GenerativeModel subclass) on `dataset` (its
    first dataset by default), checked against their declarations. `overrides` {setting: value}
    must name settings the model has."""
    dataset = model_cls.datasets[0] if dataset is None else dataset
    if dataset not in model_cls.datasets:
        raise UsageError(f"model {model_cls.name} does not train on dataset {shown(dataset)}; its datasets: "
                         f"{', '.join(model_cls.datasets)}")
    check_gymnasium(dataset)
    settings = default_settings(model_cls, dataset)
    for key, value in (overrides or {}).items():
        if key in NOT_SETTINGS:
            raise UsageError(f"{key!r} is not a setting of {model_cls.name}: give it as {NOT_SETTINGS[key]} "
                             f"(train.start: {key}=)")
        if key not in settings:
            raise UsageError(f"unknown setting {shown(key)} for {model_cls.name} on {dataset}; its settings: "
                             f"{', '.join(sorted(settings))} (scratchgen list {model_cls.name} shows each)")
        settings[key] = value
    return {"model": model_cls.name, "dataset": dataset, "seed": check_seed(seed), "device": check_device_name(device),
            "data_dir": path_text(data_dir), **check_settings(model_cls, dataset, settings),
            "data_shape": datasets.data_shape(dataset, model_cls.image_layout),
            "num_classes": datasets.num_classes(dataset), "scratchgen_version": __version__}


def check_gymnasium(dataset):
    """A task of Gymnasium's needs Gymnasium installed: UsageError where it is not."""
    if dataset in datasets.ENVIRONMENT_DATASETS and importlib.util.find_spec("gymnasium") is None:
        raise UsageError(f"dataset {dataset} {environments.MISSING}")


def default_settings(model_cls, dataset):
    """The loop's defaults, the model's, then those of the model for this kind of dataset."""
    return {**LOOP_DEFAULTS, **model_cls.defaults, **model_cls.dataset_defaults.get(datasets.dataset_kind(dataset), {})}


def check_settings(model_cls, dataset, settings):
    """`settings` with each value checked against its declaration (and in its declared type),
    what the model requires between settings, and that a step's examples fit in the dataset."""
    declarations = declared_settings(model_cls)
    try:
        checked = {key: declarations[key].check(key, value) for key, value in settings.items()}
    except ValueError as error:
        raise UsageError(str(error)) from None
    for holds, message in model_cls.setting_requirements:
        if not holds(checked):
            raise UsageError(f"{model_cls.name}: {message}")
    check_batch_fits(model_cls, dataset, checked)
    return checked


def check_batch_fits(model_cls, dataset, settings):
    """One step draws batch_size examples per critic update without replacement: a finite
    dataset must hold them (else the loader would have no batch to give)."""
    size = datasets.dataset_size(dataset)
    critic_key = getattr(model_cls, "critic_steps_setting", None)
    critic_steps = 1 if critic_key is None else settings[critic_key]
    per_step = settings["batch_size"] * critic_steps
    if size is not None and per_step > size:
        what = (f"batch_size {settings['batch_size']} x {critic_key} {critic_steps} = {per_step} examples a step"
                if critic_steps > 1 else f"batch_size {per_step}")
        raise UsageError(f"{what}, but {dataset} has {size}: lower batch_size")


def check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise UsageError(f"seed must be a non-negative integer below 2**63, got {shown(seed)}")
    return seed


def check_device_name(device):
    if device not in DEVICES:
        raise UsageError(f"device must be one of {', '.join(map(repr, DEVICES))}, got {shown(device)}")
    return device


def check_length(steps=None, epochs=None):
    """The run's length as given to train.start / resume: steps an int in STEPS' range, or a
    finite positive number of epochs; not both."""
    if steps is not None and epochs is not None:
        raise UsageError("give the run's length as steps or as epochs, not both")
    if steps is not None:
        STEPS.check("steps", steps)
    if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, (int, float))
                               or not math.isfinite(epochs) or epochs <= 0):
        raise UsageError(f"epochs must be a finite number > 0, got {shown(epochs)}")


def path_text(path):
    """A path-like (str, pathlib.Path) as the str config.json stores; None stays None."""
    if path is None:
        return None
    try:
        return os.fspath(path)
    except TypeError:
        raise UsageError(f"expected a path (str or pathlib.Path), got {shown(path)}") from None


def check_stored_config(config, where):
    """A run folder's config.json (`where`), checked as a new run's settings are; the settings
    come back in their declared types. UsageError naming the file if anything is off."""
    try:
        return _checked_stored_config(config)
    except ValueError as error:
        raise UsageError(f"{where}: {error}") from None


def _checked_stored_config(config):
    if not isinstance(config, dict):
        raise UsageError(f"it holds {type(config).__name__ if config is not None else 'null'}, not an object "
                         "of settings")
    for key in ("model", "dataset", *NOT_SETTINGS, *DERIVED):
        if key not in config:
            raise UsageError(f"it has no entry {key!r}")
    if not isinstance(config["model"], str):
        raise UsageError(f"model must be a model name, got {shown(config['model'])}")
    model_cls = model_class(config["model"])
    dataset = config["dataset"]
    if dataset not in model_cls.datasets:
        raise UsageError(f"model {model_cls.name} does not train on dataset {shown(dataset)}")
    check_gymnasium(dataset)
    keys = default_settings(model_cls, dataset)  # the settings of this model on this dataset
    config = {**{key: LOOP_DEFAULTS[key] for key in LOOP_SETTINGS if key not in config}, **config}  # newer settings
    for key in keys:
        if key not in config:
            raise UsageError(f"it has no entry {key!r} (a setting of {model_cls.name} on {dataset})")
    unknown = sorted(set(config) - set(keys) - set(NOT_SETTINGS) - set(DERIVED))
    if unknown:
        raise UsageError(f"unknown entr{'y' if len(unknown) == 1 else 'ies'} {', '.join(map(repr, unknown))} "
                         f"(not a setting of {model_cls.name} on {dataset})")
    settings = check_settings(model_cls, dataset, {key: config[key] for key in keys})
    if config["data_dir"] is not None and not isinstance(config["data_dir"], str):
        raise UsageError(f"data_dir must be a folder name or null, got {shown(config['data_dir'])}")
    for key, expected in (("data_shape", datasets.data_shape(dataset, model_cls.image_layout)),
                          ("num_classes", datasets.num_classes(dataset))):
        if config[key] != expected or type(config[key]) is not type(expected):
            raise UsageError(f"{key} must be {expected} for {dataset}, got {shown(config[key])}")
    return {**config, "seed": check_seed(config["seed"]), "device": check_device_name(config["device"]), **settings}


def loop_cadence(config):
    """Fill in sample_every and checkpoint_every left to the default: 10 times over the run
    (and histogram_every: as sample_every)."""
    every = max(1, config["steps"] // 10)
    for key in ("sample_every", "checkpoint_every"):
        if config[key] is None:
            config[key] = every
    if config["histogram_every"] is None:
        config["histogram_every"] = config["sample_every"]
    return config
