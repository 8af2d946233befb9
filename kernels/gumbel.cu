// Gumbel noise and the Gumbel-Softmax sample (Jang, Gu & Poole 2016, eq. 1 and the
// relaxation y = softmax((logits + g) / tau)). The uniforms come from the caller: scratchgen
// draws every random number on the host (scratchgen/random.py), so a seed gives the same
// sample on "cpu" and "cuda".
#include "row_softmax.cuh"

// g = -log(-log u), u clamped to the smallest normal float so that u = 0 stays finite.
__device__ __forceinline__ float gumbel_from_uniform(float u) {
    return -logf(-logf(fmaxf(u, smallest_normal_float())));
}

// Mapping: a grid-stride loop, one element per thread per iteration.
extern "C" __global__ void gumbel_noise(const float* __restrict__ uniform, float* __restrict__ noise, long long n) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count())
        noise[i] = gumbel_from_uniform(uniform[i]);
}

// y = softmax((logits + g) / tau) along the last axis of (rows, cols), g drawn from `uniform`.
// Mapping: one warp per row, as softmax_rows (softmax.cu); the perturbed logits are computed
// on the fly in both passes rather than stored.
extern "C" __global__ void gumbel_softmax_rows(const float* __restrict__ logits, const float* __restrict__ uniform,
                                               float* __restrict__ y, int rows, int cols, float tau) {
    const int row = warp_row();
    if (row >= rows) return;
    const long long start = (long long)row * cols;
    const float inverse_tau = 1.0f / tau;
    auto perturbed = [&](int col) {
        return (logits[start + col] + gumbel_from_uniform(uniform[start + col])) * inverse_tau;
    };
    const RowSoftmaxStats stats = warp_row_softmax_stats(perturbed, cols);
    const float inverse_sum = 1.0f / stats.sum;
    for (int col = threadIdx.x % 32; col < cols; col += 32)
        y[start + col] = expf(perturbed(col) - stats.max) * inverse_sum;
}
