"""Starting, resuming and loading runs: what `scratchgen train`, `sample` and `eval` do
before and after the loop. Everything the user gave is checked before anything is written
(config.py's UsageError: the CLI's exit status 2)."""
import importlib.util
import math
import os
import re
import sys

from .. import distributed, manual_seed, nn, set_num_threads, zeros
from ..data import toy_distribution
from ..data.environments import EpisodeStream
from ..models.imitation import subsample
from ..models.policies import act
from ..models.settings import MAX_STEPS
from ..models import model_class
from . import checkpoint, config as settings, datasets, tensorboard
from .config import MissingInput, UsageError
from .loop import Trainer, TrainingDiverged
from .run import RunFolder, default_run_dir

REFERENCE_POINTS = 1000  # real points drawn with each scatter plot
CUDA_ERROR = re.compile(r"cuda\w*Error\w*: ([^()]+)")  # CuPy's "cudaErrorNoDevice: its message"


def check_device(device):
    """Fail early, in one line, when `device` cannot hold a tensor here."""
    settings.check_device_name(device)
    if device == "cpu":
        return
    try:
        has_cupy = importlib.util.find_spec("cupy") is not None
    except (ImportError, ValueError):
        has_cupy = False
    if not has_cupy:
        raise UsageError(f"device {device!r} needs CuPy and an NVIDIA GPU, and CuPy is not installed: "
                         "pip install 'scratchgen[cuda]'")
    try:
        zeros(1, device=device)
    except Exception as error:  # no driver or GPU, a broken CUDA installation: CUDA's own words if any
        text = " ".join(str(error).split()) or type(error).__name__
        reason = CUDA_ERROR.search(text)
        raise UsageError(f"device {device!r} cannot be used here: {reason.group(1).strip() if reason else text}") \
            from None


def check_data_dir(data_dir, source="--data-dir"):
    """`data_dir` as a str, if it names a folder that exists (else MissingInput: nothing is
    downloaded for a folder that is not there)."""
    path = settings.path_text(data_dir)
    if path is not None and not os.path.isdir(path):
        raise MissingInput(f"{source} {path} {'is not a folder' if os.path.exists(path) else 'does not exist'}")
    return path


def build(config):
    """(model, batch source) for `config`; the global random state (weight initialisation) is
    seeded from config["seed"] first, so a run is repeatable."""
    model_cls = model_class(config["model"])
    manual_seed(config["seed"])
    model = model_cls(config)
    if getattr(model_cls, "imitates", False):  # GAIL, behavioural cloning: the expert's demonstrations
        model.imitate(demonstrations(config))
    batches = datasets.training_batches(config, model_cls.image_layout, model.batches_per_step)
    data_parallel(model)
    return model, batches


def demonstrations(config):
    """The expert's demonstrations of an imitation run (models/imitation.py): `trajectories`
    episodes of the policy in the run folder config["expert"] (its newest checkpoint), its actions
    drawn with a stream of the imitation run's seed, subsampled every `subsample` steps."""
    _, expert_config, expert, _ = load_trained(config["expert"])
    if not hasattr(expert, "policy") or expert_config["dataset"] != config["dataset"]:
        raise UsageError(f"--expert {config['expert']} holds a {expert_config['model']} run on "
                         f"{expert_config['dataset']}; {config['model']} on {config['dataset']} needs an agent's run (trpo, vime) "
                         f"on {config['dataset']}")
    generator = datasets.stream(config["seed"], datasets.DEMONSTRATION_STREAM)
    stream = EpisodeStream(config["dataset"], generator)
    episodes = stream.episodes(lambda o: act(expert.policy, o, generator), min_steps=MAX_STEPS,
                               max_episodes=config["trajectories"])
    return subsample(episodes, config["subsample"], generator)


# ---- data-parallel hooks (scratchgen.distributed): each one does nothing in one process ---------------
def join_ranks(config):
    """Join the other ranks when mpiexec started several (the group: MPI, or NCCL for --device
    cuda), and check that the batch splits over them."""
    group = distributed.init_from_environment(config["device"])
    if group is not None and config["batch_size"] % group.size:
        raise UsageError(f"batch_size {config['batch_size']} does not split over {group.size} ranks: each rank takes "
                         f"batch_size / {group.size} rows of every batch, so give a multiple of {group.size}")


def rank_stream(stream):
    """The stream this rank reports on: ranks other than 0 say nothing (rank 0 speaks for the run)."""
    return stream if distributed.is_writer() else open(os.devnull, "w")


def data_parallel(model):
    """With several ranks: the model's noise drawn as one process draws it for the whole batch
    (each rank keeps its rows), and, with SCRATCHGEN_SYNC_BATCHNORM=1, nn.SyncBatchNorm for
    every batch norm (whole-batch statistics; by default each rank normalises with its own)."""
    if not distributed.is_initialized():
        return
    distributed.shard_random_draws(model.rng)
    if distributed.sync_batchnorm_requested():
        for name, value in list(vars(model).items()):
            if isinstance(value, nn.Module):
                setattr(model, name, nn.SyncBatchNorm.convert_sync_batchnorm(value))


def rank_zero_value(value, what):
    """Rank 0's `value` on every rank (the run folder's default name has the time in it)."""
    group = distributed.active_group()
    return value if group is None else group.share_object(value, 0, f"sharing {what}")


def total_steps(batches, steps=None, epochs=None, default=None):
    """The run's total number of steps, from --steps, --epochs or the model's default."""
    if epochs is None:
        total = default if steps is None else steps
    elif batches.batches_per_epoch is None:
        raise UsageError("--epochs needs a finite dataset, but this one draws fresh points for every "
                         "batch; give --steps")
    else:
        total = math.ceil(epochs * batches.batches_per_epoch)
    return settings.STEPS.check("steps", total)


def reference_points(config):
    """Real points to draw under the scatter plots of a toy run (None for images)."""
    if config["dataset"] not in datasets.TOY_DATASETS:
        return None
    return toy_distribution(config["dataset"]).sample(REFERENCE_POINTS, datasets.stream(0, datasets.REFERENCE_STREAM))


def start(model_name, dataset=None, steps=None, epochs=None, overrides=None, seed=0, device="cpu",
          out=None, data_dir=None, stream=None):
    """Create a run folder and train a new model; returns (run, "finished" | "interrupted").
    The run's length is `steps`, `epochs` or the setting overrides["steps"]: one of them."""
    stream = sys.stderr if stream is None else stream
    model_cls = model_class(model_name)
    settings.check_length(steps, epochs)
    if overrides and "steps" in overrides and (steps is not None or epochs is not None):
        raise UsageError("the run's length is given twice: as steps/epochs and as the setting steps")
    data_dir = check_data_dir(data_dir)
    config = settings.resolve_config(model_cls, dataset, overrides, seed, device, data_dir)
    join_ranks(config)  # data-parallel: several ranks when mpiexec started them
    stream = rank_stream(stream)
    check_device(device)
    tensorboard.check(config)
    run = RunFolder(rank_zero_value(default_run_dir(model_cls.name, config["dataset"]), "the run folder's name")
                    if out is None else out)
    run.writer = distributed.is_writer()  # rank 0 alone writes the run folder
    run.check_unused()
    model, batches = build(config)  # loads the data: a missing file stops here, before the folder is made
    config["steps"] = total_steps(batches, steps, epochs, config["steps"])
    # recorded: resume uses the same count; with several ranks here, they share the cores
    config["threads"] = set_num_threads(distributed.threads_per_rank(config["threads"]) or "free")
    settings.loop_cadence(config)
    with distributed.together("making the run folder"):  # if rank 0 cannot, every rank stops with its error
        run.create(config)
    if run.restarted:
        stream.write(f"scratchgen: {run.path} held a run that never wrote a checkpoint; starting it over\n")
    return run, _train(model, batches, run, config, 0, stream)


def open_run(run_dir, data_dir=None, parallel=False):
    """(run, config) of an existing run folder, its config.json checked as a new run's settings
    are; `data_dir` (the --data-dir flag) replaces the run's own. `parallel`: join the other ranks
    (join_ranks) before the device is first used."""
    run = RunFolder.open(settings.path_text(run_dir))
    config = settings.check_stored_config(run.read_config(), run.config_path)
    if data_dir is not None:
        config["data_dir"] = check_data_dir(data_dir)
    elif (config["dataset"] not in datasets.TOY_DATASETS and config["data_dir"] is not None
          and not os.path.isdir(config["data_dir"])):
        raise MissingInput(f"the run's data folder {config['data_dir']} (data_dir in {run.config_path}) does not "
                           "exist: give the MNIST folder with --data-dir")
    if parallel:
        join_ranks(config)
        run.writer = distributed.is_writer()
    check_device(config["device"])
    return run, config


def resume(run_dir, steps=None, epochs=None, data_dir=None, stream=None):
    """Continue a run from its newest checkpoint that loads, to its total steps or a new total.
    Newer checkpoints that do not load are renamed step_XXXXXX.unreadable.npz (never deleted)
    and named on `stream`, one line each."""
    stream = sys.stderr if stream is None else stream
    settings.check_length(steps, epochs)
    run, config = open_run(run_dir, data_dir, parallel=True)  # data-parallel: any number of ranks
    stream = rank_stream(stream)
    tensorboard.check(config)
    # the run's own count: the same numbers (with several ranks here, at most their share of the cores)
    config["threads"] = set_num_threads(distributed.threads_per_rank(config["threads"]) or "free")
    model, batches = build(config)
    restored = []

    def restore(state):
        nonlocal model, batches
        if restored:  # an earlier checkpoint failed part-way through restoring: start from fresh ones
            model, batches = build(config)
        restored.append(1)
        checkpoint.restore(state, model, batches)
    path, state, skipped = checkpoint.load_newest(run, restore)
    # data-parallel: every rank has read its checkpoint (before rank 0 renames any) and it is the same one
    distributed.check_same_everywhere(state["step"], "the checkpoint to resume from (each rank must see the run "
                                      "folder: on several machines, a shared file system)")
    config["steps"] = total_steps(batches, steps, epochs, config["steps"])
    settings.loop_cadence(config)  # an edited config.json may have put null back
    if config["steps"] < state["step"]:
        raise UsageError(f"the run is at step {state['step']}, past the {config['steps']} steps asked for")
    with distributed.together("preparing the run folder"):  # rank 0 alone writes (run.writer)
        for unreadable, why in skipped if run.writer else ():  # set aside only now that the run will go on
            kept = checkpoint.set_aside(unreadable)
            stream.write(f"scratchgen: skipped checkpoint {unreadable.name} ({why}); kept it as {kept.name}; "
                         f"resuming from {path.name}\n")
        for folder in (run.checkpoints, run.samples) if run.writer else ():
            folder.mkdir(exist_ok=True)
        start_time = checkpoint.elapsed_at(run, state["step"])
        run.write_config(config)
        dropped = run.truncate_metrics(state["step"])
    if dropped:
        stream.write(f"scratchgen: left out {dropped} unreadable line{'s' if dropped > 1 else ''} of "
                     f"{run.metrics_path}\n")
    return run, _train(model, batches, run, config, state["step"], stream, start_time)


def _train(model, batches, run, config, start_step, stream, start_time=0.0):
    distributed.broadcast_state(model.state_dict())  # data-parallel: every rank starts from rank 0's state
    with tensorboard.observer_for(config, model, start_step, run) as observer, \
            distributed.stop_every_rank_on_error(collective=(TrainingDiverged,)):  # an error on one rank ends all
        trainer = Trainer(model, batches, run, config, start_step, stream, reference_points(config), start_time,
                          observer)  # None but on the rank that writes (run.writer)
        return trainer.train()


def load_trained(run_dir, data_dir=None, stream=None):
    """(run, config, model, step) with the model as the run's newest checkpoint that loads holds
    it; a newer one that does not is named on `stream` (stderr), one line each."""
    stream = sys.stderr if stream is None else stream
    run, config = open_run(run_dir, data_dir)
    model_cls = model_class(config["model"])
    models = []

    def load_model(state):
        manual_seed(config["seed"])
        models.append(model_cls(config))  # a fresh model for each try: a failed one may be half loaded
        models[-1].load_state_dict(state["model"])
    path, state, skipped = checkpoint.load_newest(run, load_model)
    for unreadable, why in skipped:
        stream.write(f"scratchgen: skipped checkpoint {unreadable.name} ({why}); using {path.name}\n")
    return run, config, models[-1], state["step"]
