// The row gather out[m, :] = table[indices[m], :] (embedding forward, indexing dim 0 with an
// index array) and its adjoint, the scatter-add out[indices[m], :] += values[m, :] for every m
// (their backwards). out starts zeroed; indices must lie in
// [0, rows of out), which the caller checks. Rows hit by several m are summed with atomicAdd,
// so the order of those additions, and the last bits of the sums, vary from run to run.
// Mapping: a grid-stride loop over the count * width entries of values (or of out).
#include "common.cuh"

// A negative index counts from the end (table_rows + index), as NumPy's; the caller checks that
// every index lies in [-table_rows, table_rows).
template <class T>
__global__ void gather_rows(const T* __restrict__ table, const long long* __restrict__ indices, T* __restrict__ out,
                            long long count, int width, long long table_rows) {
    const long long n = count * width;
    for (long long e = grid_thread_index(); e < n; e += grid_thread_count()) {
        const long long row = indices[e / width];
        out[e] = table[(row < 0 ? row + table_rows : row) * width + e % width];
    }
}

template <class T>
__global__ void scatter_add_rows(const T* __restrict__ values, const long long* __restrict__ indices,
                                 T* __restrict__ out, long long count, int width) {
    const long long n = count * width;
    for (long long e = grid_thread_index(); e < n; e += grid_thread_count())
        atomicAdd(&out[indices[e / width] * width + e % width], values[e]);
}
