"""Every run setting is declared (models/settings.py: its type, range or choices, a one-line
help) next to the defaults it checks, and a run refuses a value outside its declaration before
anything is written: by scratchgen.train.start, by --resume of a run folder whose config.json
was edited, and by sample/eval."""
import io
import json
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchgen import train
from scratchgen.models import MODELS, Setting, model_class
from scratchgen.train.config import LOOP_DEFAULTS, LOOP_SETTINGS, declared_settings, resolve_config

TINY = dict(hidden=[8], batch_size=16)


def setting_keys(cls):
    """Every key of a model's defaults and of its dataset_defaults."""
    return set(cls.defaults) | {key for defaults in cls.dataset_defaults.values() for key in defaults}


@pytest.mark.parametrize("name", MODELS)
def test_every_key_of_every_models_defaults_has_a_declaration(name):
    cls = model_class(name)
    assert set(cls.settings) == setting_keys(cls)  # none missing, none stale
    for key, declaration in declared_settings(cls).items():
        assert isinstance(declaration, Setting), key
        assert declaration.help and "\n" not in declaration.help, key


def test_the_loop_settings_are_declared():
    assert set(LOOP_SETTINGS) == set(LOOP_DEFAULTS)


@pytest.mark.parametrize("name", MODELS)
def test_every_default_lies_inside_its_declared_range(name):
    cls = model_class(name)
    given = {"expert": "runs/trpo"} if getattr(cls, "imitates", False) else {}  # GAIL, cloning: no default expert
    for dataset in {cls.datasets[0], cls.datasets[-1]}:  # a toy and mnist where the model has both
        config = resolve_config(cls, dataset, given)
        for key, declaration in declared_settings(cls).items():
            if key in config:  # pixels: only on mnist
                assert declaration.check(key, config[key]) == config[key], (dataset, key)


# (model, dataset, setting, value, what the message says)
OUT_OF_RANGE = [
    ("wgan", "8gaussians", "n_critic", 0, "setting n_critic must be an integer from 1 to"),
    ("gan", "8gaussians", "k", 0, "setting k must be an integer from 1 to"),
    ("gan", "8gaussians", "k", True, "setting k must be an integer"),
    ("gan", "8gaussians", "k", 2.0, "setting k must be an integer"),
    ("gan", "8gaussians", "hidden", [0], "setting hidden must be a list of 1 to 16 integers from 1 to"),
    ("gan", "8gaussians", "hidden", [], "setting hidden must be a list of 1 to 16"),
    ("gan", "8gaussians", "hidden", [8, 2.5], "(item 1 is 2.5)"),
    ("gan", "8gaussians", "hidden", "[8]", "setting hidden must be a list"),
    ("gan", "8gaussians", "hidden", [[8]], "setting hidden must be a list"),
    ("gan", "8gaussians", "z_dim", 0, "setting z_dim must be an integer from 1 to"),
    ("gan", "8gaussians", "z_dim", 2 ** 70, "setting z_dim must be an integer from 1 to"),
    ("gan", "8gaussians", "lr", 0, "setting lr must be a finite number > 0"),
    ("gan", "8gaussians", "lr", -1e-4, "setting lr must be a finite number > 0"),
    ("gan", "8gaussians", "lr", math.nan, "setting lr must be a finite number > 0, got nan"),
    ("gan", "8gaussians", "lr", math.inf, "setting lr must be a finite number > 0, got inf"),
    ("gan", "8gaussians", "lr", 10 ** 400, "setting lr must be a finite number > 0"),
    ("gan", "8gaussians", "betas", [1.0, 0.9], "setting betas must be a list of 2 numbers in [0, 1)"),
    ("gan", "8gaussians", "betas", [0.5], "setting betas must be a list of 2 numbers in [0, 1)"),
    ("gan", "8gaussians", "betas", [-0.1, 0.9], "(item 0 is -0.1)"),
    ("wgan-gp", "8gaussians", "gp_lambda", -1, "setting gp_lambda must be a finite number >= 0"),
    ("wgan", "8gaussians", "clip", 0, "setting clip must be a finite number > 0"),
    ("gan", "8gaussians", "g_loss", "hinge", "setting g_loss must be one of 'non-saturating', 'minimax'"),
    ("vae", "mnist", "likelihood", "poisson", "setting likelihood must be one of 'bernoulli', 'gaussian'"),
    ("vae", "mnist", "adam_eps", 0, "setting adam_eps must be a finite number > 0"),
    ("gan", "mnist", "pixels", "grey", "setting pixels must be one of 'tanh', 'unit'"),
    ("gan", "8gaussians", "batch_size", 0, "setting batch_size must be an integer from 1 to"),
    ("gan", "8gaussians", "steps", 0, "setting steps must be an integer from 1 to"),
    ("gan", "8gaussians", "steps", 2.5, "setting steps must be an integer"),
    ("dcgan", "mnist", "width", 0, "setting width must be an integer from 1 to"),
    ("conv-vae", "mnist", "width", 0, "setting width must be an integer from 1 to"),
    ("dcgan-upsample", "mnist", "width", 6, "setting width must be a multiple of 4 from 4 to"),
    ("dcgan-upsample", "mnist", "width", 2, "setting width must be a multiple of 4 from 4 to"),
    ("gan", "8gaussians", "keep_checkpoints", 0, "setting keep_checkpoints must be an integer from 1 to"),
    ("gan", "8gaussians", "log_every", None, "setting log_every must be an integer"),
    ("gan", "8gaussians", "sample_every", 0, "setting sample_every must be an integer from 1 to"),
    ("gan", "8gaussians", "checkpoint_every", "often", "setting checkpoint_every must be an integer"),
]


@pytest.mark.parametrize("name, dataset, key, value, message", OUT_OF_RANGE)
def test_a_setting_outside_its_declared_range_is_refused_by_name(name, dataset, key, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        resolve_config(model_class(name), dataset, {key: value})


def test_values_are_normalised_to_the_declared_type():
    config = resolve_config(model_class("wgan-gp"), "8gaussians",
                            {"lr": 1, "betas": (0, 0.9), "gp_lambda": 1, "sample_every": None})
    assert config["lr"] == 1.0 and isinstance(config["lr"], float)
    assert config["betas"] == [0.0, 0.9] and isinstance(config["betas"][0], float)
    assert isinstance(config["gp_lambda"], float) and config["sample_every"] is None


def test_a_bernoulli_likelihood_needs_pixels_in_the_unit_interval():
    with pytest.raises(ValueError, match="likelihood 'bernoulli' needs pixels in \\[0, 1\\]"):
        resolve_config(model_class("vae"), "mnist", {"pixels": "tanh"})
    assert resolve_config(model_class("vae"), "mnist", {"pixels": "tanh", "likelihood": "gaussian"})


def test_a_batch_larger_than_the_dataset_is_refused():
    """25gaussians is one set of 100,000 points; WGAN's critic takes n_critic batches a step."""
    with pytest.raises(ValueError, match="batch_size 25000 x n_critic 5 = 125000 examples a step, but "
                                         "25gaussians has 100000"):
        resolve_config(model_class("wgan"), "25gaussians", {"batch_size": 25000})
    assert resolve_config(model_class("wgan"), "8gaussians", {"batch_size": 25000})  # fresh points: no limit


def test_a_run_does_not_start_with_a_setting_outside_its_range(tmp_path):
    with pytest.raises(ValueError, match="setting n_critic must be"):
        train.start("wgan", "8gaussians", steps=2, overrides={**TINY, "n_critic": 0}, out=tmp_path / "run",
                    stream=io.StringIO())
    with pytest.raises(ValueError, match="setting steps must be an integer from 1 to"):
        train.start("wgan", "8gaussians", steps=10 ** 12, overrides=TINY, out=tmp_path / "run", stream=io.StringIO())
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("key, value, message", [
    ("n_critic", 0, "setting n_critic must be an integer from 1 to"),
    ("model", "stylegan", "unknown model 'stylegan'"),
    ("seed", -1, "seed must be a non-negative integer"),
    ("data_shape", [3], "data_shape must be [2] for 8gaussians"),
    ("lr", None, "setting lr must be a finite number > 0, got None"),
])
def test_an_edited_config_json_is_checked_when_the_run_is_resumed_or_sampled(key, value, message, tmp_path):
    run, _ = train.start("wgan", "8gaussians", steps=1, overrides=TINY, out=tmp_path / "run", stream=io.StringIO())
    config = json.loads(run.config_path.read_text())
    config[key] = value
    run.config_path.write_text(json.dumps(config))
    for attempt in (lambda: train.resume(run.path, steps=2, stream=io.StringIO()),
                    lambda: train.sample_to_file(run.path, out=tmp_path / "s.npy")):
        with pytest.raises(ValueError, match=re.escape(message)) as caught:
            attempt()
        assert str(run.config_path) in str(caught.value)


def test_a_config_json_without_a_setting_is_refused(tmp_path):
    run, _ = train.start("wgan", "8gaussians", steps=1, overrides=TINY, out=tmp_path / "run", stream=io.StringIO())
    config = json.loads(run.config_path.read_text())
    del config["clip"]
    run.config_path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match="has no entry 'clip'"):
        train.resume(run.path, steps=2, stream=io.StringIO())


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-2 ** 80, max_value=2 ** 80)
    | st.floats() | st.text(max_size=8) | st.sampled_from(["tanh", "minimax", "gaussian"]),
    lambda children: st.lists(children, max_size=4), max_leaves=10)
ALL_DECLARATIONS = sorted({(key, declaration) for name in MODELS
                           for key, declaration in declared_settings(model_class(name)).items()},
                          key=lambda pair: (pair[0], repr(pair[1])))


def inside(declaration, value):
    """Whether `value` lies in what `declaration` declares, read from its fields."""
    if value is None:
        return declaration.optional
    if declaration.kind is list:
        low, high = declaration.length
        return isinstance(value, list) and low <= len(value) <= high and all(inside(declaration.item, v) for v in value)
    if declaration.kind is str:
        return isinstance(value, str) and value in declaration.choices
    if type(value) is not declaration.kind or not math.isfinite(value):
        return False
    return ((declaration.at_least is None or value >= declaration.at_least)
            and (declaration.above is None or value > declaration.above)
            and (declaration.below is None or value < declaration.below)
            and (declaration.at_most is None or value <= declaration.at_most)
            and (declaration.multiple_of is None or value % declaration.multiple_of == 0))


@given(st.sampled_from(ALL_DECLARATIONS), JSON_VALUES)
def test_a_declaration_accepts_a_value_inside_its_range_or_names_the_setting(pair, value):
    key, declaration = pair
    try:
        checked = declaration.check(key, value)
    except ValueError as error:
        message = str(error)
        assert message.startswith(f"setting {key} must be ") and "\n" not in message and len(message) < 300
        return
    assert inside(declaration, checked), (key, value, checked)


def test_a_null_cadence_in_an_edited_config_json_is_filled_in_on_resume(tmp_path):
    run, _ = train.start("wgan", "8gaussians", steps=2, overrides=TINY, out=tmp_path / "run", stream=io.StringIO())
    config = json.loads(run.config_path.read_text())
    config["sample_every"] = config["checkpoint_every"] = None
    run.config_path.write_text(json.dumps(config))
    _, outcome = train.resume(run.path, steps=20, stream=io.StringIO())
    assert outcome == "finished" and run.read_config()["checkpoint_every"] == 2
