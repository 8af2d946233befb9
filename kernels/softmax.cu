// Softmax, log-softmax and logsumexp along the last axis of a (rows, cols) float32 array.
// Mapping: one warp per row (8 rows per 256-thread block); lane l handles columns l, l + 32, ...
// A first pass finds the row's maximum and sum of exponentials (row_softmax.cuh), a second
// pass writes the outputs. No shared memory: the warp's lanes combine through shuffles.
#include "row_softmax.cuh"

// y = e^(x - max) / sum e^(x - max)
extern "C" __global__ void softmax_rows(const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    const int row = warp_row();
    if (row >= rows) return;
    const float* in = x + (long long)row * cols;
    float* out = y + (long long)row * cols;
    const RowSoftmaxStats stats = warp_row_softmax_stats([&](int col) { return in[col]; }, cols);
    const float inverse_sum = 1.0f / stats.sum;
    for (int col = threadIdx.x % 32; col < cols; col += 32) out[col] = expf(in[col] - stats.max) * inverse_sum;
}

// y = x - max - log(sum e^(x - max))
extern "C" __global__ void log_softmax_rows(const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    const int row = warp_row();
    if (row >= rows) return;
    const float* in = x + (long long)row * cols;
    float* out = y + (long long)row * cols;
    const RowSoftmaxStats stats = warp_row_softmax_stats([&](int col) { return in[col]; }, cols);
    const float log_sum = logf(stats.sum);
    for (int col = threadIdx.x % 32; col < cols; col += 32) out[col] = in[col] - stats.max - log_sum;
}

// out[row] = max + log(sum e^(x - max)); a row holding +inf gives +inf (as torch.logsumexp).
extern "C" __global__ void logsumexp_rows(const float* __restrict__ x, float* __restrict__ out, int rows, int cols) {
    const int row = warp_row();
    if (row >= rows) return;
    const float* in = x + (long long)row * cols;
    const RowSoftmaxStats stats = warp_row_softmax_stats([&](int col) { return in[col]; }, cols);
    if (threadIdx.x % 32 == 0) out[row] = isinf(stats.max) ? stats.max : stats.max + logf(stats.sum);
}
