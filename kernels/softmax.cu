// Softmax, log-softmax and logsumexp along the last axis of a (rows, cols) float or double array.
// Mapping: one warp per row (8 rows per 256-thread block); lane l handles columns l, l + 32, ...
// A first pass finds the row's maximum and sum of exponentials (row_softmax.cuh), a second
// pass writes the outputs. No shared memory: the warp's lanes combine through shuffles.
#include "row_softmax.cuh"

// y = e^(x - max) / sum e^(x - max)
template <class T>
__global__ void softmax_rows(const T* __restrict__ x, T* __restrict__ y, int rows, int cols) {
    const int row = warp_row();
    if (row >= rows) return;
    const T* in = x + (long long)row * cols;
    T* out = y + (long long)row * cols;
    const RowSoftmaxStats<T> stats = warp_row_softmax_stats<T>([&](int col) { return in[col]; }, cols);
    const T inverse_sum = T(1) / stats.sum;
    for (int col = threadIdx.x % 32; col < cols; col += 32) out[col] = exp(in[col] - stats.max) * inverse_sum;
}

// y = x - max - log(sum e^(x - max))
template <class T>
__global__ void log_softmax_rows(const T* __restrict__ x, T* __restrict__ y, int rows, int cols) {
    const int row = warp_row();
    if (row >= rows) return;
    const T* in = x + (long long)row * cols;
    T* out = y + (long long)row * cols;
    const RowSoftmaxStats<T> stats = warp_row_softmax_stats<T>([&](int col) { return in[col]; }, cols);
    const T log_sum = log(stats.sum);
    for (int col = threadIdx.x % 32; col < cols; col += 32) out[col] = in[col] - stats.max - log_sum;
}

// out[row] = max + log(sum e^(x - max)); a row holding +inf gives +inf (as torch.logsumexp).
template <class T>
__global__ void logsumexp_rows(const T* __restrict__ x, T* __restrict__ out, int rows, int cols) {
    const int row = warp_row();
    if (row >= rows) return;
    const T* in = x + (long long)row * cols;
    const RowSoftmaxStats<T> stats = warp_row_softmax_stats<T>([&](int col) { return in[col]; }, cols);
    if (threadIdx.x % 32 == 0) out[row] = isinf(stats.max) ? stats.max : stats.max + log(stats.sum);
}
