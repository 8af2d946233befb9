"""The errors of a kernel run on the emulator (kernels/emulator): each names the kernel, the
block and the threads, and, for memory, the array and the index."""


class KernelFault(RuntimeError):
    """A kernel did something that is wrong or undefined on a GPU, or the emulator refused the launch."""


class DataRace(KernelFault):
    """Two threads touched one address, one of them writing, with nothing ordering them: no
    __syncthreads (or warp synchronisation) within a block, no atomic across blocks."""


class OutOfBounds(KernelFault):
    """An access outside every array of the launch, outside dynamic shared memory, or a write
    outside the kernel's static shared memory."""


class UninitializedSharedRead(KernelFault):
    """A read of shared memory that no thread of the block has written: shared memory holds
    whatever the previous block left there."""


class BarrierDivergence(KernelFault):
    """A __syncthreads that some threads of the block skip, reach at another call, or leave
    by returning; or a deadlock between barriers and warp synchronisations."""


class ShuffleFault(KernelFault):
    """A warp shuffle or __syncwarp outside the rules: lanes at different calls, a read of a
    lane that has returned, a partial mask or a partial warp."""


FAULTS = {"race": DataRace, "out-of-bounds": OutOfBounds, "uninitialized": UninitializedSharedRead,
          "barrier": BarrierDivergence, "shuffle": ShuffleFault, "": KernelFault}


def raise_fault(kind, message):
    raise FAULTS[kind](f"emulator: {message}")
