// Gumbel noise and the Gumbel-Softmax sample (Jang, Gu & Poole 2016, eq. 1 and the
// relaxation y = softmax((logits + g) / tau)). The uniforms come from the caller: scratchgen
// draws every random number on the host (scratchgen/random.py), so a seed gives the same
// sample on "cpu" and "cuda".
#include "row_softmax.cuh"

// g = -log(-log u), u clamped to the smallest normal float so that u = 0 stays finite.
template <class T>
__device__ __forceinline__ T gumbel_from_uniform(T u) {
    return -log(-log(fmax(u, Limits<T>::smallest_normal())));
}

// Mapping: a grid-stride loop, one element per thread per iteration.
template <class T>
__global__ void gumbel_noise(const T* __restrict__ uniform, T* __restrict__ noise, long long n) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count())
        noise[i] = gumbel_from_uniform(uniform[i]);
}

// y = softmax((logits + g) / tau) along the last axis of (rows, cols), g drawn from `uniform`.
// Mapping: one warp per row, as softmax_rows (softmax.cu); the perturbed logits are computed
// on the fly in both passes rather than stored.
template <class T>
__global__ void gumbel_softmax_rows(const T* __restrict__ logits, const T* __restrict__ uniform,
                                    T* __restrict__ y, int rows, int cols, T tau) {
    const int row = warp_row();
    if (row >= rows) return;
    const long long start = (long long)row * cols;
    const T inverse_tau = T(1) / tau;
    auto perturbed = [&](int col) {
        return (logits[start + col] + gumbel_from_uniform(uniform[start + col])) * inverse_tau;
    };
    const RowSoftmaxStats<T> stats = warp_row_softmax_stats<T>(perturbed, cols);
    const T inverse_sum = T(1) / stats.sum;
    for (int col = threadIdx.x % 32; col < cols; col += 32)
        y[start + col] = exp(perturbed(col) - stats.max) * inverse_sum;
}
