"""MPIGroup: the process group over MPI, through mpi4py (MPICH from the package index:
`pip install 'scratchgen[mpi]'`). Every collective is MPI's non-blocking one (MPI_Iallreduce,
MPI_Ibcast, MPI_Ibarrier), polled with MPI_Test until ProcessGroup.wait's deadline. A CuPy
buffer is staged through host memory (the MPICH wheel is not CUDA-aware; NCCL is the GPU path).
"""
from .group import ProcessGroup, array_module


class _Request:
    """An MPI request and the buffer it works on (kept alive until the request is done)."""

    def __init__(self, request, buffer):
        self.request, self.buffer = request, buffer

    def test(self):
        return self.request.Test()


def import_mpi():
    """mpi4py's MPI module (importing it initialises MPI); ImportError that says what to install."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(f"data-parallel training over MPI needs mpi4py and an MPI library ({error}): "
                          "pip install 'scratchgen[mpi]' (mpi4py and MPICH)") from None
    return MPI


def world_size_and_rank():
    """(size, rank) of MPI_COMM_WORLD (initialises MPI)."""
    world = import_mpi().COMM_WORLD
    return world.Get_size(), world.Get_rank()


class MPIGroup(ProcessGroup):
    backend = "mpi"

    def __init__(self, comm=None, timeout=None, bucket_bytes=None):
        self.MPI = import_mpi()
        self.comm = self.MPI.COMM_WORLD if comm is None else comm
        local = self.comm.Split_type(self.MPI.COMM_TYPE_SHARED)  # the ranks on this machine
        local_rank, local_size = local.Get_rank(), local.Get_size()
        local.Free()
        super().__init__(self.comm.Get_rank(), self.comm.Get_size(), local_rank, local_size, timeout, bucket_bytes)

    def _transport(self, flat):
        return flat.get() if array_module(flat).__name__ == "cupy" else flat

    def _returned(self, buffer, like):
        return array_module(like).asarray(buffer) if buffer is not like else buffer

    def _start_all_reduce(self, buffer):
        return _Request(self.comm.Iallreduce(self.MPI.IN_PLACE, buffer, op=self.MPI.SUM), buffer)

    def _start_broadcast(self, buffer, root):
        return _Request(self.comm.Ibcast(buffer, root=root), buffer)

    def _start_barrier(self):
        return _Request(self.comm.Ibarrier(), None)

    def abort(self, code=1):
        self.comm.Abort(code)
