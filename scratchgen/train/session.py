"""Starting, resuming and loading runs: what `scratchgen train`, `sample` and `eval` do
before and after the loop."""
import math

from .. import manual_seed, zeros
from ..data import toy_distribution
from ..models import model_class
from . import checkpoint, config as settings, datasets
from .loop import Trainer
from .run import RunFolder, default_run_dir

REFERENCE_POINTS = 1000  # real points drawn with each scatter plot


def check_device(device):
    """Fail early, in one line, when `device` cannot hold a tensor here."""
    try:
        zeros(1, device=device)
    except Exception as error:  # a missing CuPy, driver or GPU: whatever the backend says
        raise ValueError(f"device {device!r} cannot be used here: {error}") from None


def build(config):
    """(model, batch source) for `config`; the global random state (weight initialisation) is
    seeded from config["seed"] first, so a run is repeatable."""
    model_cls = model_class(config["model"])
    manual_seed(config["seed"])
    model = model_cls(config)
    batches = datasets.training_batches(config, model_cls.image_layout, model.batches_per_step)
    return model, batches


def total_steps(batches, steps=None, epochs=None, default=None):
    """The run's total number of steps, from --steps, --epochs or the model's default."""
    if epochs is None:
        return default if steps is None else steps
    if batches.batches_per_epoch is None:
        raise ValueError("--epochs needs a finite dataset, but this one draws fresh points for every "
                         "batch; give --steps")
    return math.ceil(epochs * batches.batches_per_epoch)


def reference_points(config):
    """Real points to draw under the scatter plots of a toy run (None for images)."""
    if config["dataset"] not in datasets.TOY_DATASETS:
        return None
    return toy_distribution(config["dataset"]).sample(REFERENCE_POINTS, datasets.stream(0, datasets.REFERENCE_STREAM))


def start(model_name, dataset=None, steps=None, epochs=None, overrides=None, seed=0, device="cpu",
          out=None, data_dir=None, stream=None):
    """Create a run folder and train a new model; returns (run, "finished" | "interrupted")."""
    model_cls = model_class(model_name)
    config = settings.resolve_config(model_cls, dataset, overrides, seed, device, data_dir)
    check_device(device)
    run = RunFolder(default_run_dir(model_cls.name, config["dataset"]) if out is None else out)
    run.check_unused()
    model, batches = build(config)  # loads the data: a missing file stops here, before the folder is made
    config["steps"] = total_steps(batches, steps, epochs, config["steps"])
    settings.loop_cadence(config)
    run.create(config)
    return run, _train(model, batches, run, config, 0, stream)


def resume(run_dir, steps=None, epochs=None, data_dir=None, stream=None):
    """Continue a run from its newest checkpoint, to its total steps or a new total."""
    run = RunFolder.open(run_dir)
    config = run.read_config()
    if data_dir is not None:
        config["data_dir"] = data_dir
    check_device(config["device"])
    model, batches = build(config)
    _, state = checkpoint.latest_checkpoint(run)
    checkpoint.restore(state, model, batches)
    config["steps"] = total_steps(batches, steps, epochs, config["steps"])
    if config["steps"] < state["step"]:
        raise ValueError(f"the run is at step {state['step']}, past the {config['steps']} steps asked for")
    run.write_config(config)
    run.truncate_metrics(state["step"])
    return run, _train(model, batches, run, config, state["step"], stream)


def _train(model, batches, run, config, start_step, stream):
    trainer = Trainer(model, batches, run, config, start_step, stream, reference_points(config))
    return trainer.train()


def load_trained(run_dir, data_dir=None):
    """(run, config, model, step) with the model as the run's newest checkpoint holds it."""
    run = RunFolder.open(run_dir)
    config = run.read_config()
    if data_dir is not None:
        config["data_dir"] = data_dir
    check_device(config["device"])
    manual_seed(config["seed"])
    model = model_class(config["model"])(config)
    _, state = checkpoint.latest_checkpoint(run)
    model.load_state_dict(state["model"])
    return run, config, model, state["step"]
