"""Data-parallel training on several processes: MPI (mpi4py) between CPU processes, NCCL
(cupy.cuda.nccl) between GPUs, the split ChainerMN and torch's DDP make.

    mpiexec -n 4 scratchgen train dcgan ...      # or: scratchgen train dcgan --nproc 4 ...

Each of the N processes (ranks) holds the whole model and takes batch_size / N rows of every
batch; after backward the gradients are averaged over the ranks, so every rank takes the same
optimizer step and the run follows, step for step, the one-process run with the same
batch_size (up to the order of float32 sums). What each part does:

    init_from_environment(device)   the process group when the process was started by mpiexec
                                    with more than one rank (None otherwise: nothing changes,
                                    and mpi4py is not even imported)
    average_gradients(params)       the hook in optim.Optimizer.step: every update of every
                                    optimizer (each critic step and the generator step of a GAN,
                                    WGAN-GP's double backward included) averages the gradients
                                    first, in buckets (group.py), so models need not know
    shard_rows(batch, chunks)       this rank's rows of a global batch (train/datasets.py)
    shard_random_draws(generator)   the model's noise as one process would draw it for the whole
                                    batch, this rank's rows of it (z, dropout masks, the VAE's
                                    epsilon, WGAN-GP's interpolation weights)
    broadcast_state(state)          rank 0's weights, buffers and optimizer state to every rank
    mean_losses(losses, stop)       the losses averaged over ranks, and Ctrl-C on any rank
    together(what)                  a step that may fail on one rank (rank 0 making the run
                                    folder) fails on every rank, with that rank's error
    stop_every_rank_on_error()      any other error on one rank ends every rank (MPI_Abort)

Every collective has a deadline (SCRATCHGEN_COLLECTIVE_TIMEOUT, 120 s): a rank that died or
hangs makes the others stop with CollectiveTimeout, never wait for ever. Batch norm keeps
per-rank statistics; nn.SyncBatchNorm (SCRATCHGEN_SYNC_BATCHNORM=1 for `scratchgen train`)
computes them over the whole batch. Rank 0 alone writes the run folder.

Why the gradients are averaged at Optimizer.step and not during backward: the engine
(autograd/engine.py) adds leaf gradients into `.grad` only once the whole backward pass has
run, so a hook on a parameter (Tensor.register_hook) fires after all the backward work: there
is nothing left to overlap communication with. benchmarks/bench_scale.py measures both ways.
"""
import contextlib
import os
import pickle
import sys
import time

from .. import Tensor, as_tensor
from .group import DEFAULT_BUCKET_BYTES, CollectiveTimeout, ProcessGroup, timeout_from_environment

# what mpiexec (MPICH's hydra, Open MPI, MVAPICH, Slurm) tells a process about the job
SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_SIZE", "SLURM_NTASKS")
SYNC_BATCHNORM_VARIABLE = "SCRATCHGEN_SYNC_BATCHNORM"
ABORT_DELAY_S = 0.5  # between an error message and MPI_Abort

_group = None


# ---- the process group ------------------------------------------------------------------------------
def world_size_from_environment():
    """How many processes the launcher (mpiexec) started, from its environment variables; 1 when
    none is set (a plain `python` or `scratchgen`)."""
    for name in SIZE_VARIABLES[:-1]:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    if os.environ.get("SLURM_NTASKS", "").isdigit() and "PMI_FD" in os.environ:
        return int(os.environ["SLURM_NTASKS"])
    return 1


def init_process_group(backend="mpi", timeout=None, bucket_bytes=None):
    """Join every process of the job (torch.distributed's name): backend "mpi" (CPU tensors) or
    "nccl" (GPU tensors; MPI carries the rest). Makes the group the active one, which the
    optimizers, SyncBatchNorm and the training loop use; returns it. Calling it again returns
    the group already made."""
    global _group
    if _group is not None:
        return _group
    if backend not in ("mpi", "nccl"):
        raise ValueError(f"init_process_group: backend must be 'mpi' or 'nccl', got {backend!r}")
    from .mpi import MPIGroup
    group = MPIGroup(timeout=timeout, bucket_bytes=bucket_bytes)
    if backend == "nccl":
        from .nccl import NCCLGroup, select_device
        select_device(group.local_rank)
        group = NCCLGroup(group, timeout=timeout, bucket_bytes=bucket_bytes)
    _group = group
    return group


def init_from_environment(device="cpu"):
    """The process group of a job started by mpiexec with more than one rank (NCCL for
    device "cuda", MPI for "cpu"); None for a single process, where nothing is imported."""
    if _group is not None:
        return _group
    if world_size_from_environment() <= 1:
        return None
    return init_process_group("nccl" if device == "cuda" else "mpi")


def use_group(group):
    """Make `group` (a ProcessGroup, or None for one process) the active one; returns the one before."""
    global _group
    before, _group = _group, group
    return before


def destroy_process_group():
    """Forget the active group: optimizers stop averaging (MPI itself ends with the process)."""
    use_group(None)


def active_group():
    """The active ProcessGroup, or None when training in one process."""
    return _group if _group is not None and _group.size > 1 else None


def is_initialized():
    return active_group() is not None


def get_rank():
    return 0 if active_group() is None else _group.rank


def get_world_size():
    return 1 if active_group() is None else _group.size


def is_writer():
    """Whether this process writes the run folder: rank 0, or the only process."""
    return get_rank() == 0


# ---- the hooks of the optimizer and the training loop --------------------------------------------
def average_gradients(params):
    """Replace each parameter's gradient by its mean over the ranks (in buckets); nothing in one
    process. Optimizer.step calls it before every update, so every rank steps alike."""
    group = active_group()
    if group is None:
        return
    params = [param for param in params if param.grad is not None]
    if not params:
        return
    averaged = group.all_reduce([param.grad.array for param in params], "mean", "the gradient all-reduce")
    for param, array in zip(params, averaged):
        param.grad = as_tensor(array)


def state_arrays(state):
    """The arrays of every Tensor in a nested state (dicts, lists), in a fixed order."""
    if isinstance(state, dict):
        return [array for key in state for array in state_arrays(state[key])]
    if isinstance(state, (list, tuple)):
        return [array for value in state for array in state_arrays(value)]
    return [state.array] if isinstance(state, Tensor) else []


def broadcast_state(state, root=0):
    """Rank `root`'s values of every Tensor in `state` (a model's state_dict: weights, buffers,
    optimizer state, which share memory with the model) into every rank's, in place."""
    group = active_group()
    if group is not None:
        group.broadcast_(state_arrays(state), root, "the broadcast of rank 0's model state")


def check_same_everywhere(value, what):
    """Raise on every rank unless `value` (a number) is the same on all of them."""
    group = active_group()
    if group is None:
        return
    values = group.sum_floats([float(value) if r == group.rank else 0.0 for r in range(group.size)],
                              f"comparing {what}")
    if len(set(values)) > 1:
        shown = ", ".join(f"rank {r}: {v:g}" for r, v in enumerate(values))
        raise RuntimeError(f"the ranks disagree on {what} ({shown})")


def check_replicas(params, what="the weights"):
    """Raise on every rank unless every rank holds the same `params` (bit for bit: a checksum of
    each): the ranks' copies of a model stay equal only if every update was averaged and every
    draw of noise was this rank's part of the same draw (shard_random_draws)."""
    if active_group() is None:
        return
    checksum = 0.0
    for index, param in enumerate(params, 1):
        checksum += index * float(param.array.sum(dtype="float64"))
    check_same_everywhere(checksum, f"{what} (a checksum)")


def mean_losses(losses, stop):
    """({name: mean over the ranks}, whether any rank asked to stop): one small all-reduce a step."""
    group = active_group()
    if group is None:
        return losses, stop
    names = list(losses)
    totals = group.sum_floats([float(losses[name]) for name in names] + [1.0 if stop else 0.0])
    return {name: total / group.size for name, total in zip(names, totals)}, totals[-1] > 0


def shard_rows(batch, chunks=1):
    """This rank's rows of each Tensor of a global batch (a tuple): the batch is `chunks` parts
    one after the other (a GAN's critic rounds) and each part is split into `size` equal runs of
    rows, rank r taking run r of every part. One process: the batch as it is."""
    group = active_group()
    if group is None:
        return batch
    return tuple(as_tensor(_rank_rows(tensor.array, group.rank, group.size, chunks)) for tensor in batch)


def _rank_rows(array, rank, size, chunks):
    rows = len(array)
    if rows % (chunks * size):
        raise ValueError(f"a batch of {rows} rows does not split into {chunks} part(s) of {size} equal shards")
    per_rank = rows // (chunks * size)
    if chunks == 1:
        return array[rank * per_rank:(rank + 1) * per_rank]
    parts = array.reshape((chunks, size, per_rank) + array.shape[1:])
    return parts[:, rank].reshape((chunks * per_rank,) + array.shape[1:])


def shard_random_draws(generator):
    """Make `generator` (a scratchgen.Generator, e.g. a model's noise generator) draw, for a
    shape (n, ...), the (size * n, ...) numbers one process would draw for the whole batch and
    keep this rank's n rows, so that every rank's noise is its part of the one-process noise and
    the generator's state stays that of one process (checkpoints resume on any number of ranks).
    A draw without a batch dimension (shape ()) is the same on every rank. The rule this needs:
    every draw during a training step is one row per example of this rank's batch."""
    group = active_group()
    if group is None:
        return generator
    rank, size = group.rank, group.size

    def sharded(method):
        def draw(*args):
            *leading, shape, dtype, device = args
            shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
            if not shape:
                return method(*leading, shape, dtype, device)
            numbers = method(*leading, (size * shape[0],) + shape[1:], dtype, "cpu")
            return as_tensor(numbers[rank * shape[0]:(rank + 1) * shape[0]], device=device).array
        return draw
    for name in ("normal", "uniform", "integers"):
        setattr(generator, name, sharded(getattr(generator, name)))
    return generator


def threads_per_rank(requested):
    """The thread count of this rank: `requested` in one process; with several ranks on this
    machine at most its cores divided among them (None: SCRATCHGEN_NUM_THREADS decides)."""
    group = active_group()
    if group is None:
        return requested
    if os.environ.get("SCRATCHGEN_NUM_THREADS"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    share = max(1, cores // group.local_size)
    return share if requested is None else min(requested, share)


def sync_batchnorm_requested():
    """Whether SCRATCHGEN_SYNC_BATCHNORM asks `scratchgen train` for nn.SyncBatchNorm."""
    return os.environ.get(SYNC_BATCHNORM_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


# ---- failing together ---------------------------------------------------------------------------------
@contextlib.contextmanager
def together(what):
    """A block that may fail on some ranks only (rank 0 writing the run folder): at its end the
    ranks compare notes, and if one failed, every rank raises that rank's error."""
    group = active_group()
    if group is None:
        yield
        return
    try:
        yield
    except Exception as error:
        _agree(group, error, what)
        raise
    _agree(group, None, what)


def _agree(group, error, what):
    failed = group.sum_floats([1.0 if (r == group.rank and error is not None) else 0.0 for r in range(group.size)],
                              f"checking that every rank finished {what}")
    if not any(failed):
        return
    root = failed.index(next(value for value in failed if value))
    payload = None
    if group.rank == root:
        try:
            payload = pickle.dumps(error)
        except Exception:
            payload = pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))
    payload = group.share_object(payload, root, f"sharing rank {root}'s error in {what}")
    if error is None:
        try:
            shared = pickle.loads(payload)
        except Exception as unreadable:
            shared = RuntimeError(f"rank {root} failed in {what} (its error could not be passed on: {unreadable})")
        raise shared


@contextlib.contextmanager
def stop_every_rank_on_error(collective=(), stream=None):
    """In a job of several ranks, an error on one rank (other than the `collective` kinds, which
    every rank raises at the same step) is printed with its rank and ends every rank at once
    (MPI_Abort), instead of leaving the others waiting for it. One process: nothing changes."""
    group = active_group()
    if group is None:
        yield
        return
    try:
        yield
    except collective:
        raise
    except KeyboardInterrupt:  # a second Ctrl-C: mpiexec passed it to every rank
        group.abort(130)
        os._exit(130)
    except BaseException as error:
        stream = sys.stderr if stream is None else stream
        text = str(error) if isinstance(error, CollectiveTimeout) else \
            f"rank {group.rank} of {group.size} failed: {type(error).__name__}: {error}; stopping every rank"
        stream.write(f"scratchgen: error: {text}\n")
        stream.flush()
        time.sleep(ABORT_DELAY_S)  # mpiexec forwards the message before MPI_Abort ends the job
        group.abort(1)
        os._exit(1)  # should MPI_Abort return before mpiexec ends this process


__all__ = ["CollectiveTimeout", "ProcessGroup", "DEFAULT_BUCKET_BYTES", "timeout_from_environment",
           "world_size_from_environment", "init_process_group", "init_from_environment", "use_group",
           "destroy_process_group", "active_group", "is_initialized", "get_rank", "get_world_size", "is_writer",
           "average_gradients", "broadcast_state", "state_arrays", "check_same_everywhere", "check_replicas",
           "mean_losses",
           "shard_rows", "shard_random_draws", "threads_per_rank", "sync_batchnorm_requested", "together",
           "stop_every_rank_on_error"]
