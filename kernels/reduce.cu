// Sum along one axis of a contiguous float or double array viewed as (outer, length, inner):
// out[o, i] = sum_k x[o, k, i].
#include "common.cuh"

// inner == 1 (the last axis): a grid of one block per row of `length` contiguous values.
// Thread t adds elements t, t + blockDim.x, ... (coalesced), then the block combines its
// threads' partial sums with warp shuffles and a 32-entry shared-memory stage (block_sum in
// common.cuh).
template <class T>
__global__ void sum_last_axis(const T* __restrict__ x, T* __restrict__ out, int length) {
    const int row = blockIdx.x;
    const T* in = x + (long long)row * length;
    T partial = T(0);
#pragma unroll 4
    for (int k = threadIdx.x; k < length; k += blockDim.x) partial += in[k];
    const T total = block_sum(partial);
    if (threadIdx.x == 0) out[row] = total;
}

// inner > 1: out[chunk, o, i] = the sum over rows k of one chunk of the length axis.
// Mapping: blocks of 32 x 8 threads; grid (column blocks * outer, chunks). Block x takes the 32
// neighbouring columns i of column block x % column_blocks at outer index x / column_blocks,
// so a warp reads 32 consecutive values of a row (coalesced); its 8 warps take rows
// first + threadIdx.y, first + threadIdx.y + 8, ... of chunk blockIdx.y. Shared memory holds
// the 8 warps' partial sums of the 32 columns; warp 0 adds them. With more than one chunk the
// caller adds the chunks' sums with a second launch (outer = 1, length = chunks).
template <class T>
__global__ void sum_inner_axis(const T* __restrict__ x, T* __restrict__ out, int outer, int length,
                               int inner, int rows_per_chunk) {
    __shared__ T warp_sums[8][32];
    const int column_blocks = (inner + 31) / 32;
    const int o = blockIdx.x / column_blocks, i = blockIdx.x % column_blocks * 32 + threadIdx.x;
    const int first = blockIdx.y * rows_per_chunk, last = min(length, first + rows_per_chunk);
    T total = T(0);
    if (i < inner) {
#pragma unroll 4
        for (int k = first + threadIdx.y; k < last; k += 8) total += x[((long long)o * length + k) * inner + i];
    }
    warp_sums[threadIdx.y][threadIdx.x] = total;
    __syncthreads();
    if (threadIdx.y == 0 && i < inner) {
        for (int w = 1; w < 8; ++w) total += warp_sums[w][threadIdx.x];
        out[((long long)blockIdx.y * outer + o) * inner + i] = total;
    }
}

// ---- max and min along the last axis of a contiguous (rows, cols) array, with the index and the
// gradient's one-hot weights (ops/reduction.py's max/min along a dim; torch.max(x, dim)).

// Whether (a at index ia) comes before (b at index ib): a nan before any number (torch's max and
// min both return the first nan), then the larger (largest) or smaller value, then the lower index.
template <class T>
__device__ __forceinline__ bool comes_first(T a, int ia, T b, int ib, bool largest) {
    const bool a_nan = a != a, b_nan = b != b;
    if (a_nan || b_nan) return a_nan && (!b_nan || ia < ib);
    if (a == b) return ia < ib;
    return largest ? a > b : a < b;
}

// One warp per row: lane l keeps the first of columns l, l + 32, ...; a butterfly of shuffles
// gives every lane the row's first; lane 0 writes its value and index, and the lanes write the
// row's weights (1 at the index, 0 elsewhere). An index of -1 stands for "none yet".
template <class T>
__global__ void extreme_rows(const T* __restrict__ x, T* __restrict__ values, long long* __restrict__ indices,
                             T* __restrict__ weights, int rows, int cols, int largest) {
    const int row = warp_row(), lane = threadIdx.x % 32;
    if (row >= rows) return;
    const T* in = x + (long long)row * cols;
    T best = T(0);
    int best_index = -1;
    for (int col = lane; col < cols; col += 32) {
        if (best_index < 0 || comes_first(in[col], col, best, best_index, largest != 0)) {
            best = in[col];
            best_index = col;
        }
    }
    for (int offset = 16; offset > 0; offset /= 2) {
        const T other = __shfl_xor_sync(0xffffffff, best, offset);
        const int other_index = __shfl_xor_sync(0xffffffff, best_index, offset);
        if (other_index >= 0 && (best_index < 0 || comes_first(other, other_index, best, best_index, largest != 0))) {
            best = other;
            best_index = other_index;
        }
    }
    if (lane == 0) {
        values[row] = best;
        indices[row] = best_index;
    }
    for (int col = lane; col < cols; col += 32) weights[(long long)row * cols + col] = col == best_index ? T(1) : T(0);
}
