// out[indices[m], :] += values[m, :] for every m: the adjoint of the row gather
// values = table[indices] (embedding backward). out starts zeroed; indices must lie in
// [0, rows of out), which the caller checks. Rows hit by several m are summed with atomicAdd,
// so the order of those additions, and the last bits of the sums, vary from run to run.
// Mapping: a grid-stride loop over the count * width entries of values.
#include "common.cuh"

template <class T>
__global__ void scatter_add_rows(const T* __restrict__ values, const long long* __restrict__ indices,
                                 T* __restrict__ out, long long count, int width) {
    const long long n = count * width;
    for (long long e = grid_thread_index(); e < n; e += grid_thread_count())
        atomicAdd(&out[indices[e / width] * width + e % width], values[e]);
}
