"""The emulator finds bugs that a fixed, one-block-at-a-time order would hide: each kernel
below plants one (a missing barrier, a non-atomic update from many blocks, an index one past
the end, a barrier after an early return, lanes at different shuffles, ...), and
scratchgen.cuda.emulate must raise the right KernelFault, naming the kernel, the array, the
index and the threads, under every seed. The correct twins of the same kernels must pass."""
import numpy as np
import pytest

from scratchgen.backends import launch
from scratchgen.cuda import (BarrierDivergence, DataRace, KernelFault, OutOfBounds, ShuffleFault,
                             UninitializedSharedRead, emulate)

SEEDS = [0, 1, 2]

SOURCE = r"""
// Thread t reads the slot that thread t - 1 writes (after zeroing the tile). Correct only
// with the second barrier.
extern "C" __global__ void shift_through_shared(const float* x, float* y, int with_barrier) {
    __shared__ float tile[64];
    const int t = threadIdx.x;
    tile[t] = 0.0f;
    __syncthreads();
    tile[t] = x[t];
    if (with_barrier) __syncthreads();
    y[t] = t > 0 ? tile[t - 1] : 0.0f;
}

// A tree sum over dynamic shared memory; the barrier between the steps is optional.
extern "C" __global__ void tree_sum(const float* x, float* out, int with_barrier) {
    extern __shared__ float partial[];
    const int t = threadIdx.x;
    partial[t] = x[blockIdx.x * blockDim.x + t];
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (t < stride) partial[t] += partial[t + stride];
        if (with_barrier) __syncthreads();
    }
    if (t == 0) out[blockIdx.x] = partial[0];
}

// Every block adds its elements into out[0]: a race unless through atomicAdd.
extern "C" __global__ void total(const float* x, float* out, int n, int atomic) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n || threadIdx.x != 0) return;
    float sum = 0.0f;
    for (int k = i; k < min(n, i + (int)blockDim.x); ++k) sum += x[k];
    if (atomic) atomicAdd(out, sum);
    else out[0] += sum;
}

// Each block writes its index into out[0].
extern "C" __global__ void last_block_wins(float* out) {
    if (threadIdx.x == 0) out[0] = blockIdx.x;
}

// y[i] = 2 x[i] for i < n, or i <= n with the planted off-by-one.
extern "C" __global__ void double_it(const float* x, float* y, int n, int off_by_one) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n + off_by_one) y[i] = 2.0f * x[i];
}

// Writes the element before y's start.
extern "C" __global__ void write_before_start(float* y) {
    y[(int)threadIdx.x - 1] = 1.0f;
}

// Reads one float past the dynamic shared memory the launch asked for.
extern "C" __global__ void shared_past_end(float* y) {
    extern __shared__ float tile[];
    tile[threadIdx.x] = threadIdx.x;
    __syncthreads();
    y[threadIdx.x] = tile[threadIdx.x + 1];
}

// Only block 0 fills its static shared memory; the others read what it left there.
extern "C" __global__ void stale_static_shared(float* y) {
    __shared__ float tile[32];
    if (blockIdx.x == 0) tile[threadIdx.x] = 1.0f;
    __syncthreads();
    y[blockIdx.x * 32 + threadIdx.x] = tile[threadIdx.x];
}

// Half the block returns before the barrier.
extern "C" __global__ void barrier_after_return(float* y) {
    if (threadIdx.x >= 32) return;
    __syncthreads();
    y[threadIdx.x] = 1.0f;
}

// The two halves of the block wait at two different barriers.
extern "C" __global__ void barriers_in_branches(float* y) {
    if (threadIdx.x < 32) {
        __syncthreads();
    } else {
        __syncthreads();
    }
    y[threadIdx.x] = 1.0f;
}

// The two halves of a warp shuffle at two different calls.
extern "C" __global__ void shuffles_in_branches(float* y) {
    float v = threadIdx.x;
    if (threadIdx.x % 32 < 16) v = __shfl_down_sync(0xffffffff, v, 1);
    else v = __shfl_down_sync(0xffffffff, v, 1);
    y[threadIdx.x] = v;
}

// Lanes 16.. return, and lane 15 then reads lane 16.
extern "C" __global__ void shuffle_from_returned_lane(float* y) {
    if (threadIdx.x % 32 >= 16) return;
    y[threadIdx.x] = __shfl_down_sync(0xffffffff, (float)threadIdx.x, 1);
}

// Lanes exchange through shared memory, ordered by __syncwarp only: correct within a warp.
extern "C" __global__ void warp_exchange_through_shared(float* y) {
    __shared__ float slots[64];
    slots[threadIdx.x] = threadIdx.x;
    __syncwarp();
    y[threadIdx.x] = slots[threadIdx.x ^ 1];
}

// The order in which the emulator ran the blocks (threads 0) or the threads (block 0).
extern "C" __global__ void record_order(int* order, int* counter, int threads) {
    if (threads) {
        if (blockIdx.x == 0) order[atomicAdd(counter, 1)] = threadIdx.x;
    } else if (threadIdx.x == 0) {
        order[atomicAdd(counter, 1)] = blockIdx.x;
    }
}
"""

f32 = np.float32


def run(kernel, grid, block, args, shared_bytes=0, seed=0):
    emulate(SOURCE, kernel, grid, block, args, shared_bytes=shared_bytes, seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_read_of_the_slot_a_lower_thread_writes_without_barrier_is_a_race(seed):
    x, y = np.arange(64, dtype=f32), np.zeros(64, f32)
    with pytest.raises(DataRace, match=r"kernel shift_through_shared: block \(0, 0, 0\): data race on static shared "
                                       r"memory at byte \d+: thread \(\d+, 0, 0\) of block \(0, 0, 0\) (reads|writes) "
                                       r"it, and thread \(\d+, 0, 0\) of block \(0, 0, 0\) (reads|writes) it, with no "
                                       r"__syncthreads"):
        run("shift_through_shared", 1, 64, (x, y, 0), seed=seed)
    run("shift_through_shared", 1, 64, (x, y, 1), seed=seed)
    np.testing.assert_array_equal(y, np.r_[0, x[:-1]])


@pytest.mark.parametrize("seed", SEEDS)
def test_a_tree_sum_without_barriers_between_its_steps_is_a_race(seed):
    x, out = np.random.default_rng(seed).uniform(-1, 1, 3 * 64).astype(f32), np.zeros(3, f32)
    with pytest.raises(DataRace, match="kernel tree_sum: .*data race on dynamic shared memory at byte"):
        run("tree_sum", 3, 64, (x, out, 0), shared_bytes=64 * 4, seed=seed)
    run("tree_sum", 3, 64, (x, out, 1), shared_bytes=64 * 4, seed=seed)
    np.testing.assert_allclose(out, x.reshape(3, 64).sum(1), rtol=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_non_atomic_update_from_many_blocks_is_a_race_and_atomic_add_is_not(seed):
    x, out = np.ones(256, f32), np.zeros(1, f32)
    with pytest.raises(DataRace, match=r"kernel total: .*data race on out\[0\]: thread \(0, 0, 0\) of block "
                                       r"\(\d+, 0, 0\) (reads|writes) it, and thread \(0, 0, 0\) of block "
                                       r"\(\d+, 0, 0\) (reads|writes) it, with different blocks of one launch, "
                                       r"not both atomic"):
        run("total", 8, 32, (x, out, 256, 0), seed=seed)
    out[:] = 0
    run("total", 8, 32, (x, out, 256, 1), seed=seed)
    assert out[0] == 256


def test_two_blocks_writing_one_address_race():
    with pytest.raises(DataRace, match=r"kernel last_block_wins: .*data race on out\[0\]: .* writes it, and .* writes "
                                       r"it, with different blocks"):
        run("last_block_wins", 2, 32, (np.zeros(1, f32),))


@pytest.mark.parametrize("seed", SEEDS)
def test_an_index_one_past_the_end_is_out_of_bounds(seed):
    x, y = np.ones(100, f32), np.zeros(100, f32)
    with pytest.raises(OutOfBounds, match=r"kernel double_it: block \(3, 0, 0\): read of 4 bytes by thread \(4, 0, 0\) "
                                          r"of block \(3, 0, 0\) at x\[100\], past the end of x \(100 elements\)"):
        run("double_it", 4, 32, (x, y, 100, 1), seed=seed)
    run("double_it", 4, 32, (x, y, 100, 0), seed=seed)
    np.testing.assert_array_equal(y, 2 * x)


# One launch of a kernel with a planted bug: (kernel, grid, block, shared bytes, fault, report);
# each kernel takes one float array of grid * block elements.
SINGLE_LAUNCH_BUGS = [
    ("write_before_start", 1, 32, 0, OutOfBounds,
     r"write of 4 bytes by thread \(0, 0, 0\) of block \(0, 0, 0\) at y\[-1\], before the start of y \(32 elements\)"),
    ("shared_past_end", 1, 32, 32 * 4, OutOfBounds,
     r"read of 4 bytes by thread \(31, 0, 0\) .* past the end of dynamic shared memory \(128 bytes\)"),
    ("stale_static_shared", 4, 32, 0, UninitializedSharedRead,
     r"kernel stale_static_shared: block \((?!0,)\d+, 0, 0\): read of static shared memory at byte \d+ by thread"),
    ("barrier_after_return", 1, 64, 0, BarrierDivergence,
     r"kernel barrier_after_return: block \(0, 0, 0\): __syncthreads at source.cu:\d+ is not reached by every "
     r"thread of the block: 32 of 64 threads returned before it"),
    ("barriers_in_branches", 1, 64, 0, BarrierDivergence,
     r"threads wait at different barriers: thread \(\d+, 0, 0\) at __syncthreads at source.cu:(\d+), thread "
     r"\(\d+, 0, 0\) at __syncthreads at source.cu:(?!\1)\d+"),
    ("shuffles_in_branches", 1, 32, 0, ShuffleFault,
     r"lanes of warp 0 wait at different warp synchronisations: lane \d+ at __shfl_down_sync at source.cu:\d+, "
     r"lane \d+ at __shfl_down_sync"),
    ("shuffle_from_returned_lane", 1, 32, 0, ShuffleFault,
     r"__shfl_down_sync at source.cu:\d+: lane 15 of warp 0 reads lane 16, which has exited"),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kernel, grid, block, shared_bytes, fault, report", SINGLE_LAUNCH_BUGS,
                         ids=[bug[0] for bug in SINGLE_LAUNCH_BUGS])
def test_a_planted_bug_raises_its_fault(kernel, grid, block, shared_bytes, fault, report, seed):
    with pytest.raises(fault, match=report):
        run(kernel, grid, block, (np.zeros(grid * block, f32),), shared_bytes=shared_bytes, seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_syncwarp_orders_the_lanes_of_one_warp(seed):
    y = np.zeros(64, f32)
    run("warp_exchange_through_shared", 1, 64, (y,), seed=seed)
    np.testing.assert_array_equal(y, np.arange(64) ^ 1)


@pytest.mark.parametrize("threads", [0, 1])
def test_the_seed_draws_the_order_of_blocks_and_of_threads(threads):
    orders = set()
    for seed in range(4):
        order, counter = np.full(64, -1, np.int32), np.zeros(1, np.int32)
        run("record_order", 64 if not threads else 1, 64, (order, counter, threads), seed=seed)
        assert sorted(order) == list(range(64))
        orders.add(tuple(order))
    assert len(orders) == 4


def test_every_fault_is_a_kernel_fault_and_a_runtime_error():
    for fault in (DataRace, OutOfBounds, UninitializedSharedRead, BarrierDivergence, ShuffleFault):
        assert issubclass(fault, KernelFault) and issubclass(fault, RuntimeError)


def test_emulate_names_the_kernels_a_source_defines():
    with pytest.raises(ValueError, match=r"emulate: no kernel named 'nope' in the source; it defines \[.*'tree_sum'"):
        run("nope", 1, 32, ())


def test_emulate_reads_headers_of_the_library():
    source = '#include "common.cuh"\n' + r"""
extern "C" __global__ void sum_block(const float* x, float* out) {
    const float total = block_sum(x[threadIdx.x]);
    if (threadIdx.x == 0) out[0] = total;
}"""
    x, out = np.arange(128, dtype=f32), np.zeros(1, f32)
    for seed in SEEDS:
        emulate(source, "sum_block", 1, 128, (x, out), seed=seed)
        assert out[0] == x.sum()


def test_the_memory_checker_can_be_left_out_of_a_build(monkeypatch):
    """SCRATCHGEN_EMULATOR_CHECKS=0 builds without the instrumentation: the race goes through
    (blocks run one at a time), the misplaced barrier is still reported."""
    monkeypatch.setenv("SCRATCHGEN_EMULATOR_CHECKS", "0")
    kernels = launch.parse_kernels(SOURCE, "unchecked.cu")
    module = launch.load_emulated(SOURCE, "unchecked.cu", list(kernels.values()))
    out = np.zeros(1, f32)
    launch.run_emulated(module, kernels["last_block_wins"], (2, 1, 1), (32, 1, 1), [out], 0, seed=0)
    with pytest.raises(BarrierDivergence, match="is not reached by every thread"):
        launch.run_emulated(module, kernels["barrier_after_return"], (1, 1, 1), (64, 1, 1), [np.zeros(64, f32)], 0,
                            seed=0)
