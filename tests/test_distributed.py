"""Data-parallel training (scratchgen.distributed): the pieces in one process, then real jobs
of 2 ranks started with `mpiexec -n 2` (MPICH from the `mpi`/`test` extras):

- a run on 2 ranks with batch_size 2B (B rows each) follows the one-process run with batch
  2B step for step: VAE, WGAN-GP on 8 Gaussians (5 critic steps and the double backward of
  the gradient penalty, each an optimizer step that averages), DCGAN with SyncBatchNorm;
- rank 0 alone writes (the run folder holds what a one-process run's holds);
- resume from 2 ranks on 1, and from 1 on 2, lands where the one-process run does;
- a rank that dies, or hangs, ends the job with an error, not a hang; Ctrl-C saves once;
- the collectives, SyncBatchNorm's forward and backward, the optimizer hook and the NCCL
  backend's code (with MPI standing in for NCCL) in one 2-rank job (`collectives` below).

This file is also the program those jobs run: `mpiexec -n 2 python tests/test_distributed.py NAME`.
"""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy
import pytest

import scratchgen as sg
from scratchgen import distributed, nn, optim, train
from scratchgen.distributed import launch
from scratchgen.distributed.group import CollectiveTimeout, ProcessGroup

HERE = pathlib.Path(__file__).resolve()
MNIST = HERE.parents[1].parent / "shared" / "data" / "mnist"  # as conftest.py's SHARED_MNIST
HAS_MNIST = (MNIST / "train-images-idx3-ubyte.gz").exists()
try:
    import mpi4py  # noqa: F401
    HAS_MPI = launch.mpiexec_path() is not None
except ImportError:
    HAS_MPI = False
needs_mpi = pytest.mark.skipif(not HAS_MPI, reason="needs mpi4py and mpiexec: pip install 'scratchgen[mpi]'")
needs_mnist = pytest.mark.skipif(not HAS_MNIST, reason=f"needs MNIST in {MNIST}")
RANK_ENV = {"SCRATCHGEN_NUM_THREADS": "1", "SCRATCHGEN_COLLECTIVE_TIMEOUT": "60"}


# ---- one process: the pieces ---------------------------------------------------------------------
class Spectator(ProcessGroup):
    """A group that only says which rank this is (for the sharding arithmetic)."""

    def __init__(self, rank, size):
        super().__init__(rank, size, timeout=0.05)


class Stuck:
    def test(self):
        return False


class NeverFinishes(ProcessGroup):
    def _start_all_reduce(self, buffer):
        return Stuck()


@pytest.fixture
def as_rank():
    """as_rank(r, n): pretend to be rank r of n for the block (the active group is restored)."""
    before = []

    def pretend(rank, size):
        before.append(distributed.use_group(Spectator(rank, size)))
    yield pretend
    if before:
        distributed.use_group(before[0])


def test_one_process_has_no_group():
    assert distributed.active_group() is None and distributed.get_world_size() == 1
    assert distributed.world_size_from_environment() in (0, 1) or "PMI_SIZE" in os.environ
    batch = (sg.arange(6.0),)
    assert distributed.shard_rows(batch) is batch
    assert distributed.mean_losses({"loss": 1.5}, True) == ({"loss": 1.5}, True)


@pytest.mark.parametrize("chunks", [1, 3])
def test_the_ranks_shards_make_up_the_batch(as_rank, chunks):
    size, per_rank = 2, 4
    rows = numpy.arange(chunks * size * per_rank * 3, dtype=numpy.float32).reshape(-1, 3)
    shards = []
    for rank in range(size):
        as_rank(rank, size)
        (shard,) = distributed.shard_rows((sg.as_tensor(rows),), chunks)
        shards.append(shard.numpy())
    for c in range(chunks):  # each critic round: rank 0's rows, then rank 1's, as one process has them
        one_process = rows[c * size * per_rank:(c + 1) * size * per_rank]
        ranks = numpy.concatenate([s[c * per_rank:(c + 1) * per_rank] for s in shards])
        assert numpy.array_equal(ranks, one_process)


def test_sharded_draws_are_the_one_process_draws(as_rank):
    one = sg.Generator(7)
    expected_z, expected_u = sg.randn(8, 3, generator=one).numpy(), sg.rand(8, 1, generator=one).numpy()
    parts = []
    for rank in range(2):
        as_rank(rank, 2)
        g = distributed.shard_random_draws(sg.Generator(7))
        parts.append((sg.randn(4, 3, generator=g).numpy(), sg.rand(4, 1, generator=g).numpy(), g.get_state()))
    assert numpy.array_equal(numpy.concatenate([p[0] for p in parts]), expected_z)
    assert numpy.array_equal(numpy.concatenate([p[1] for p in parts]), expected_u)
    assert parts[0][2] == parts[1][2] == one.get_state()  # a checkpoint resumes on any number of ranks


def test_buckets_split_by_dtype_and_size():
    group = Spectator(0, 2)
    group.bucket_bytes = 100
    arrays = [numpy.zeros(10, numpy.float32), numpy.zeros(10, numpy.float32), numpy.zeros(30, numpy.float32),
              numpy.zeros(2, numpy.float64), numpy.zeros(2, numpy.float32)]
    assert group._buckets(arrays) == [[0, 1], [2], [3], [4]]


def test_a_collective_that_does_not_finish_raises_in_time():
    group = NeverFinishes(0, 2, timeout=0.1)
    started = time.monotonic()
    with pytest.raises(CollectiveTimeout, match=r"did not finish within 0.1 s.*another rank has stopped"):
        group.all_reduce([numpy.ones(3, numpy.float32)], "mean", "the gradient all-reduce")
    assert time.monotonic() - started < 2


def test_timeout_from_the_environment(monkeypatch):
    monkeypatch.setenv("SCRATCHGEN_COLLECTIVE_TIMEOUT", "7.5")
    assert ProcessGroup(0, 1).timeout == 7.5
    monkeypatch.setenv("SCRATCHGEN_COLLECTIVE_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="SCRATCHGEN_COLLECTIVE_TIMEOUT"):
        ProcessGroup(0, 1)


def test_sync_batchnorm_in_one_process_is_batchnorm():
    sg.manual_seed(0)
    x = sg.randn(6, 3, 4, 4)
    plain, sync = nn.BatchNorm2d(3), nn.SyncBatchNorm(3)
    for module in (plain, sync):
        module.weight.data.normal_(1.0, 0.1)
    sync.weight.data = plain.weight.data.clone()
    assert numpy.array_equal(plain(x).detach().numpy(), sync(x).detach().numpy())
    assert numpy.array_equal(plain.running_var.numpy(), sync.running_var.numpy())
    assert list(plain.state_dict()) == list(sync.state_dict())


def test_convert_sync_batchnorm_keeps_the_parameters():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.Sequential(nn.BatchNorm2d(4, affine=False)))
    weight, running_mean = model[1].weight, model[1].running_mean
    adam = optim.Adam(model.parameters())
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model and isinstance(model[1], nn.SyncBatchNorm) and isinstance(model[3][0], nn.SyncBatchNorm)
    assert model[1].weight is weight and model[1].running_mean is running_mean
    assert model[3][0].weight is None and not model[3][0].affine
    assert [id(p) for p in model.parameters()] == [id(p) for p in adam.param_groups[0]["params"]]
    assert isinstance(nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(3)), nn.SyncBatchNorm)


def test_nproc_command_line(monkeypatch):
    assert launch.without_nproc(["train", "vae", "--nproc", "2", "--steps", "3", "--nproc=4"]) == \
        ["train", "vae", "--steps", "3"]
    if HAS_MPI:
        command = launch.rank_command(3, ["train", "vae", "--nproc", "3"])
        assert command[1:3] == ["-n", "3"] and command[-2:] == ["train", "vae"]
    monkeypatch.setenv("PMI_SIZE", "2")
    with pytest.raises(ValueError, match="already started by mpiexec"):
        launch.rank_command(2, ["train", "vae"])


# ---- 2 ranks ------------------------------------------------------------------------------------------
def mpiexec(args, timeout=240, env=None, **kwargs):
    """Run `args` on 2 ranks; returns the CompletedProcess (stdout and stderr as text)."""
    return subprocess.run([launch.mpiexec_path(), "-n", "2", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **RANK_ENV, **(env or {})}, **kwargs)


def scratchgen_command(*args):
    return [sys.executable, "-m", "scratchgen.cli", *args]


def one_process(model, dataset, steps, batch_size, out, **overrides):
    """A one-process run with the same settings, in this process."""
    settings = {"batch_size": batch_size, "log_every": 1, "sample_every": 1000, "checkpoint_every": 1,
                "threads": 1, **overrides}
    run, outcome = train.start(model, dataset=dataset, steps=steps, overrides=settings, out=out,
                               data_dir=str(MNIST) if dataset == "mnist" else None, stream=open(os.devnull, "w"))
    assert outcome == "finished"
    return run


def two_ranks(model, dataset, steps, batch_size, out, env=None, **overrides):
    settings = {"batch_size": batch_size, "log_every": 1, "sample_every": 1000, "checkpoint_every": 1, **overrides}
    words = ["train", model, "--dataset", dataset, "--steps", str(steps), "--out", str(out),
             *[f"--set={key}={json.dumps(value)}" for key, value in settings.items()]]
    if dataset == "mnist":
        words += ["--data-dir", str(MNIST)]
    done = mpiexec(scratchgen_command(*words), env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return train.RunFolder(out)


def checkpoint_arrays(run, step):
    state = sg.load(pathlib.Path(run.path) / "checkpoints" / f"step_{step:06d}.npz")
    return [numpy.asarray(array, dtype=numpy.float64) for array in distributed.state_arrays(state["model"])]


def assert_same_run(one, two, step, rtol=1e-5, atol=2e-5):
    """Same losses at every step (float32 sums in another order) and the same weights, buffers
    and optimizer state at `step`."""
    a, b = one.read_metrics(), two.read_metrics()
    assert [r["step"] for r in a] == [r["step"] for r in b]
    for ra, rb in zip(a, b):
        for name in ra:
            if name not in ("step", "time_s"):
                assert rb[name] == pytest.approx(ra[name], rel=rtol, abs=1e-6), (name, ra["step"])
    for x, y in zip(checkpoint_arrays(one, step), checkpoint_arrays(two, step), strict=True):
        numpy.testing.assert_allclose(y, x, rtol=1e-4, atol=atol)


def files_of(run):
    return sorted(str(path.relative_to(run.path)) for path in pathlib.Path(run.path).rglob("*")
                  if path.is_file() and path.suffix != ".png")


@needs_mpi
def test_collectives_on_two_ranks():
    done = mpiexec([sys.executable, str(HERE), "collectives"], timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert done.stdout.count("collectives: ok") == 2, done.stdout


@needs_mpi
@pytest.mark.parametrize("model, dataset, steps, batch_size, overrides, env", [
    pytest.param("wgan-gp", "8gaussians", 3, 32, {}, None, id="wgan-gp: 5 critic steps, double backward"),
    pytest.param("vae", "mnist", 3, 20, {}, None, id="vae", marks=needs_mnist),
    pytest.param("dcgan", "mnist", 2, 8, {"width": 8}, {"SCRATCHGEN_SYNC_BATCHNORM": "1"},
                 id="dcgan with SyncBatchNorm", marks=needs_mnist),
])
def test_two_ranks_follow_one_process(tmp_path, model, dataset, steps, batch_size, overrides, env):
    one = one_process(model, dataset, steps, batch_size, tmp_path / "one", **overrides)
    two = two_ranks(model, dataset, steps, batch_size, tmp_path / "two", env=env, **overrides)
    assert_same_run(one, two, steps)
    assert files_of(two) == files_of(one)  # rank 0 alone wrote: one metrics line a step, one file each
    assert json.loads((tmp_path / "two" / "config.json").read_text())["batch_size"] == batch_size


@needs_mpi
@needs_mnist
def test_resume_on_another_number_of_ranks(tmp_path):
    straight = one_process("vae", "mnist", 4, 20, tmp_path / "straight")
    two_ranks("vae", "mnist", 2, 20, tmp_path / "two-then-one")
    run, outcome = train.resume(tmp_path / "two-then-one", steps=4, stream=open(os.devnull, "w"))
    assert outcome == "finished"
    assert_same_run(straight, run, 4)
    one_process("vae", "mnist", 2, 20, tmp_path / "one-then-two")
    done = mpiexec(scratchgen_command("train", "--resume", str(tmp_path / "one-then-two"), "--steps", "4"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert_same_run(straight, train.RunFolder(tmp_path / "one-then-two"), 4)


@needs_mpi
@pytest.mark.parametrize("how", ["dies", "hangs"])
def test_a_rank_that_stops_stops_the_job(tmp_path, how):
    started = time.monotonic()
    done = mpiexec([sys.executable, str(HERE), f"rank-1-{how}", str(tmp_path / "run")], timeout=120,
                   env={"SCRATCHGEN_COLLECTIVE_TIMEOUT": "8"})
    assert done.returncode != 0
    assert time.monotonic() - started < 100
    if how == "hangs":  # rank 0 says why it stopped
        assert "did not finish within 8 s" in done.stderr and "another rank has stopped" in done.stderr, done.stderr


@needs_mpi
def test_ctrl_c_saves_once(tmp_path):
    out = tmp_path / "run"
    words = ["train", "wgan-gp", "--dataset", "8gaussians", "--steps", "100000", "--out", str(out), "--nproc", "2",
             "--set", "log_every=1", "--set", "sample_every=100000", "--set", "checkpoint_every=100000"]
    launcher = subprocess.Popen(scratchgen_command(*words), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, **RANK_ENV}, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not (out / "metrics.jsonl").exists() or len((out / "metrics.jsonl").read_text().splitlines()) < 3:
            assert launcher.poll() is None and time.monotonic() < deadline, launcher.communicate()
            time.sleep(0.2)
        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C does: the launcher and mpiexec both get it
        stdout, stderr = launcher.communicate(timeout=60)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
    assert launcher.returncode == 130, stderr[-2000:]
    checkpoints = sorted((out / "checkpoints").glob("step_*.npz"))
    assert len(checkpoints) == 1, checkpoints
    last = train.RunFolder(out).read_metrics()[-1]["step"]
    assert checkpoints[0].name == f"step_{last:06d}.npz"
    assert stderr.count("Ctrl-C: stopping after this step") == 1  # rank 0 speaks for the run


# ---- what the ranks run ----------------------------------------------------------------------------------
def collectives():
    """Every collective against what one process computes, on 2 ranks."""
    group = distributed.init_process_group("mpi", bucket_bytes=64)  # small buckets: several of them
    rank, size = group.rank, group.size
    assert size == 2
    rng = numpy.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(dtype) for shape, dtype in
              [((3, 4), numpy.float32), ((40,), numpy.float32), ((2, 2), numpy.float64), ((5,), numpy.float32)]]
    mine = [a * (rank + 1) for a in arrays]
    for op, factor in (("sum", 3.0), ("mean", 1.5)):
        for got, a in zip(group.all_reduce(mine, op), arrays, strict=True):
            assert got.dtype == a.dtype and got.shape == a.shape
            numpy.testing.assert_allclose(got, a * factor, rtol=1e-6)
    targets = [numpy.full(4, float(rank)), numpy.full((2, 2), rank, numpy.int64)]
    group.broadcast_(targets, root=1)
    assert (targets[0] == 1).all() and (targets[1] == 1).all()
    assert group.share_object({"rank": rank}, root=0) == {"rank": 0}
    assert group.sum_floats([rank, 1.0]) == [1.0, 2.0]
    try:
        with distributed.together("a test"):
            if rank == 1:
                raise train.UsageError("rank 1 cannot")
    except train.UsageError as error:
        assert str(error) == "rank 1 cannot"
    else:
        raise AssertionError("together() let a rank's error pass")

    # the optimizer hook: every rank steps with the mean gradient = the one-process gradient of
    # the whole batch (rows 4r..4r+3 on rank r), with the model and Adam alike on every rank
    sg.manual_seed(3)
    x, y = sg.randn(8, 5), sg.randn(8, 1)
    models = []
    for shard in (slice(None), slice(4 * rank, 4 * rank + 4)):
        sg.manual_seed(4)
        model = nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 1))
        adam = optim.Adam(model.parameters(), lr=0.1)
        for _ in range(3):
            adam.zero_grad()
            ((model(x[shard]) - y[shard]) ** 2).mean().backward()
            if shard == slice(None):
                distributed.use_group(None)  # the reference: one process
            adam.step()
            distributed.use_group(group)
        models.append(model)
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        numpy.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-5, atol=1e-6)

    # SyncBatchNorm: rank r's half of the batch normalised with the whole batch's statistics,
    # and the gradients of the weights (averaged by the optimizer hook) as one process has them
    sg.manual_seed(5)
    x = sg.randn(8, 3, 4, 4) * 2 + 1
    upstream = sg.randn(8, 3, 4, 4)
    reference, sync = nn.BatchNorm2d(3), nn.SyncBatchNorm(3)
    for module in (reference, sync):
        module.weight.data.copy_(sg.arange(1.0, 4.0))
    distributed.use_group(None)
    whole = reference(x.requires_grad_())
    (whole * upstream).sum().backward()
    distributed.use_group(group)
    part = x.detach()[4 * rank:4 * rank + 4].requires_grad_()
    out = sync(part)
    numpy.testing.assert_allclose(out.detach().numpy(), whole.detach().numpy()[4 * rank:4 * rank + 4], rtol=1e-5,
                               atol=1e-5)
    (out * upstream[4 * rank:4 * rank + 4]).sum().backward()
    numpy.testing.assert_allclose(part.grad.numpy(), x.grad.numpy()[4 * rank:4 * rank + 4], rtol=1e-4, atol=1e-5)
    summed = group.all_reduce([sync.weight.grad.array, sync.bias.grad.array], "sum")
    numpy.testing.assert_allclose(summed[0], reference.weight.grad.numpy(), rtol=1e-4, atol=1e-5)
    numpy.testing.assert_allclose(summed[1], reference.bias.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name in ("running_mean", "running_var"):
        numpy.testing.assert_allclose(getattr(sync, name).numpy(), getattr(reference, name).numpy(), rtol=1e-5)

    # the NCCL backend's code, with MPI standing in for NCCL on host memory
    from scratchgen.distributed.nccl import HostRuntime, MPIStandIn, NCCLGroup
    stand_in = MPIStandIn(group.comm)
    nccl = NCCLGroup(group, communicator=stand_in, nccl=stand_in, runtime=HostRuntime(), bucket_bytes=64)
    for got, a in zip(nccl.all_reduce(mine, "mean"), arrays, strict=True):
        numpy.testing.assert_allclose(got, a * 1.5, rtol=1e-6)
    targets = [numpy.full(3, float(rank), numpy.float32), numpy.full(2, rank, numpy.int64)]
    nccl.broadcast_(targets, root=0)
    assert (targets[0] == 0).all() and (targets[1] == 0).all()
    assert stand_in.calls >= 4 and nccl.sum_floats([1.0]) == [2.0]
    nccl.barrier()
    print(f"collectives: ok on rank {rank}", flush=True)


def rank_1_stops(how, out):
    """Train on 2 ranks; rank 1 dies (os._exit) or hangs at its third step."""
    from scratchgen.train import session
    build = session.build

    def build_and_break(config):
        model, batches = build(config)
        step = model.train_step
        calls = []

        def train_step(batch):
            calls.append(1)
            if distributed.get_rank() == 1 and len(calls) == 3:
                if how == "dies":
                    os._exit(3)
                time.sleep(600)
            return step(batch)
        model.train_step = train_step
        return model, batches
    session.build = build_and_break
    train.start("gan", dataset="8gaussians", steps=50, overrides={"batch_size": 16}, out=out)


if __name__ == "__main__":
    name = sys.argv[1]
    if name == "collectives":
        collectives()
    elif name.startswith("rank-1-"):
        rank_1_stops(name.removeprefix("rank-1-"), sys.argv[2])
