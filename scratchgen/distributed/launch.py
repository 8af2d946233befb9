"""`scratchgen train ... --nproc N`: the same command on N ranks of this machine, started by
mpiexec (the one that came with the MPI library mpi4py uses: MPICH's, installed beside Python
by `pip install 'scratchgen[mpi]'`). This process only waits: a Ctrl-C reaches mpiexec, which
passes it on to every rank (they stop after the same step and rank 0 saves a checkpoint), and
the exit status is mpiexec's, so it is the ranks' (0, 1, 2, 130)."""
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import threading

from . import world_size_from_environment


def mpiexec_path():
    """mpiexec beside this Python (pip's MPICH puts it there), else the first on PATH; None if none."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    return shutil.which("mpiexec")


def without_nproc(argv):
    """The command's arguments less --nproc N (or --nproc=N)."""
    kept, skip = [], False
    for argument in argv:
        if skip:
            skip = False
        elif argument == "--nproc":
            skip = True
        elif not argument.startswith("--nproc="):
            kept.append(argument)
    return kept


def rank_command(nproc, argv):
    """The mpiexec command line that runs `scratchgen` with `argv` on `nproc` ranks."""
    mpiexec = mpiexec_path()
    if world_size_from_environment() > 1:
        raise ValueError("--nproc starts mpiexec itself, and this process was already started by mpiexec: leave "
                         "--nproc out (mpiexec -n N scratchgen train ...) or run scratchgen train --nproc N alone")
    try:
        has_mpi4py = importlib.util.find_spec("mpi4py") is not None
    except (ImportError, ValueError):
        has_mpi4py = False
    if mpiexec is None or not has_mpi4py:
        missing = " and ".join(name for name, absent in (("mpi4py", not has_mpi4py), ("mpiexec", mpiexec is None))
                               if absent)
        raise ValueError(f"--nproc {nproc} needs MPI, but {missing} cannot be found: pip install 'scratchgen[mpi]' "
                         "(mpi4py and MPICH)")
    return [mpiexec, "-n", str(nproc), sys.executable, "-m", "scratchgen.cli", *without_nproc(argv)]


def run_ranks(nproc, argv):
    """Run `scratchgen argv` (less --nproc) on `nproc` ranks under mpiexec; returns its exit status."""
    command = rank_command(nproc, argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None) if in_main_thread else None
    try:  # Ctrl-C: mpiexec hands it to the ranks; this process waits for them to stop
        return subprocess.call(command)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGINT, previous)
