"""NCCLGroup: the process group between GPUs, through CuPy's NCCL binding (cupy.cuda.nccl),
with the interface of every ProcessGroup (group.py).

The arrays' collectives (gradient buckets, SyncBatchNorm's sums, the initial broadcast) run
on NCCL, on the current CUDA stream, where the kernels that made the gradients ran; an event
recorded after each is polled (`event.done`) until the deadline, and a collective that does
not finish aborts the communicator (ncclCommAbort) before CollectiveTimeout is raised. The
small things (losses, Ctrl-C flags, errors, NCCL's unique id at the start) go over MPI, the
`control` group, which also starts the processes (`mpiexec -n N`): the split ChainerMN and
torch's DDP make.

Without a GPU the same class runs with MPI standing in for NCCL (`MPIStandIn`: the
NcclCommunicator calls, on host pointers, done by MPI), which is how tests/test_distributed.py
checks this path on the CPU; on a machine with several GPUs it is the real thing.
"""
import numpy

from .group import ProcessGroup, array_module

NCCL_TYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
              "int8": "NCCL_INT8", "uint8": "NCCL_UINT8", "int32": "NCCL_INT32", "int64": "NCCL_INT64",
              "bool": "NCCL_UINT8"}


class CudaRuntime:
    """What NCCLGroup needs of CUDA: the array module, pointers, the stream, events."""

    def __init__(self):
        import cupy
        self.cupy = self.xp = cupy

    @staticmethod
    def pointer(array):
        return array.data.ptr

    def stream(self):
        return self.cupy.cuda.get_current_stream().ptr

    def event_after(self):
        event = self.cupy.cuda.Event(block=False, disable_timing=True)
        event.record()
        return event  # .done: whether the work queued before it has finished


class HostRuntime:
    """CudaRuntime's stand-in on the CPU: NumPy arrays, no stream; MPIStandIn is synchronous."""
    xp = numpy

    @staticmethod
    def pointer(array):
        return array.ctypes.data

    @staticmethod
    def stream():
        return 0

    @staticmethod
    def event_after():
        return _Done()


class _Done:
    done = True


class _EventRequest:
    def __init__(self, event, buffer):
        self.event, self.buffer = event, buffer

    def test(self):
        return bool(self.event.done)


def select_device(local_rank):
    """Make GPU (local_rank mod the GPUs here) current, before anything uses CUDA; returns its index."""
    import cupy
    index = local_rank % cupy.cuda.runtime.getDeviceCount()
    cupy.cuda.Device(index).use()
    return index


class NCCLGroup(ProcessGroup):
    """`control`: an MPIGroup over the same processes. `nccl`: the cupy.cuda.nccl module (or a
    stand-in with its constants); `communicator`: an NcclCommunicator (made from a unique id
    that rank 0 draws and `control` shares, when not given); `runtime`: CudaRuntime() (or
    HostRuntime() with MPI standing in)."""
    backend = "nccl"

    def __init__(self, control, communicator=None, nccl=None, runtime=None, timeout=None, bucket_bytes=None):
        super().__init__(control.rank, control.size, control.local_rank, control.local_size,
                         control.timeout if timeout is None else timeout, bucket_bytes)
        self.control = control
        if nccl is None:
            from cupy.cuda import nccl
        self.nccl = nccl
        self.runtime = CudaRuntime() if runtime is None else runtime
        if communicator is None:
            unique_id = nccl.get_unique_id() if control.rank == 0 else None
            unique_id = control.share_object(unique_id, 0, "sharing NCCL's unique id")
            communicator = nccl.NcclCommunicator(control.size, unique_id, control.rank)
        self.communicator = communicator

    def _datatype(self, buffer):
        name = NCCL_TYPES.get(buffer.dtype.name)
        if name is None:
            raise TypeError(f"NCCLGroup: NCCL has no collective for dtype {buffer.dtype}")
        return getattr(self.nccl, name)

    def _transport(self, flat):
        return self.runtime.xp.asarray(flat)  # the bucket on the device (a no-op for device arrays)

    def _returned(self, buffer, like):
        if array_module(buffer) is array_module(like):
            return buffer
        return buffer.get() if hasattr(buffer, "get") else array_module(like).asarray(buffer)

    def _start_all_reduce(self, buffer):
        pointer = self.runtime.pointer(buffer)
        self.communicator.allReduce(pointer, pointer, buffer.size, self._datatype(buffer), self.nccl.NCCL_SUM,
                                    self.runtime.stream())
        return _EventRequest(self.runtime.event_after(), buffer)

    def _start_broadcast(self, buffer, root):
        self.communicator.bcast(self.runtime.pointer(buffer), buffer.size, self._datatype(buffer), root,
                                self.runtime.stream())
        return _EventRequest(self.runtime.event_after(), buffer)

    def wait(self, requests, what):
        try:
            super().wait(requests, what)
        except Exception:
            if any(isinstance(request, _EventRequest) for request in requests):
                self.communicator.abort()  # frees the GPU work stuck in the collective
            raise

    # the control plane: MPI
    def _start_host_all_reduce(self, buffer):
        return self.control._start_all_reduce(buffer)

    def _start_host_broadcast(self, buffer, root):
        return self.control._start_broadcast(buffer, root)

    def _start_barrier(self):
        return self.control._start_barrier()

    def abort(self, code=1):
        self.control.abort(code)


class MPIStandIn:
    """cupy.cuda.nccl's NcclCommunicator methods (allReduce, bcast, abort) and constants, done by
    MPI on host memory: NCCLGroup's code on a machine without GPUs. Its calls block (NCCL's
    are queued on a stream), so its requests are done when they are made."""
    NCCL_INT8, NCCL_UINT8, NCCL_INT32, NCCL_INT64, NCCL_FLOAT16, NCCL_FLOAT32, NCCL_FLOAT64 = range(7)
    NCCL_SUM = 0
    DTYPES = {0: numpy.int8, 1: numpy.uint8, 2: numpy.int32, 3: numpy.int64, 4: numpy.float16, 5: numpy.float32,
              6: numpy.float64}

    def __init__(self, comm):
        from mpi4py import MPI
        self.MPI, self.comm = MPI, comm
        self.calls = 0

    def _view(self, pointer, count, datatype):
        dtype = numpy.dtype(self.DTYPES[datatype])
        return numpy.frombuffer(self.MPI.memory.fromaddress(pointer, count * dtype.itemsize), dtype)

    def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):  # noqa: N802 (NCCL's names)
        if op != self.NCCL_SUM:
            raise ValueError("MPIStandIn: only NCCL_SUM is implemented")
        received = self._view(recvbuf, count, datatype)
        if sendbuf != recvbuf:
            received[...] = self._view(sendbuf, count, datatype)
        self.comm.Allreduce(self.MPI.IN_PLACE, received, op=self.MPI.SUM)
        self.calls += 1

    def bcast(self, buff, count, datatype, root, stream):
        self.comm.Bcast(self._view(buff, count, datatype), root=root)
        self.calls += 1

    def abort(self):
        pass
