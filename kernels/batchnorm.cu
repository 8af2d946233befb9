// Batch normalization (Ioffe & Szegedy 2015, Algorithm 1) over a contiguous float32 array
// viewed as (N, C, S): statistics per channel c over its M = N * S values (S = H * W for
// images, 1 for BatchNorm1d on (N, C)).
//
// Statistics and the backward sums are reduced in two steps so that many blocks share a
// channel's work: grid (C, splits), block (c, k) reduces the k-th of `splits` equal chunks of
// channel c's M values into a partial result, then one thread per channel combines the
// `splits` partials in a fixed order (deterministic, no atomics).
#include "common.cuh"
#include "moments.cuh"

// The caller keeps N * C * S below 2^31, so indices within a channel and channel lookups use
// 32-bit arithmetic: a 64-bit integer division costs several times a 32-bit one on a GPU.

// Channel of flat index i of the (N, C, S) array.
__device__ __forceinline__ int channel_of(long long i, int C, int S) {
    return (int)((unsigned)i / (unsigned)S % (unsigned)C);
}

// The j-th value (j < M) of channel c, in (n, s) order.
__device__ __forceinline__ float channel_value(const float* x, int j, int c, int C, int S) {
    return x[((long long)(j / S) * C + c) * S + j % S];
}

// Chunk k of `splits` equal chunks of [0, M): [first, last).
__device__ __forceinline__ void chunk_bounds(int M, int k, int splits, int& first, int& last) {
    const int chunk = (M + splits - 1) / splits;
    first = min(M, k * chunk);
    last = min(M, first + chunk);
}

// partial[c, k] = (count, mean, m2) of chunk k of channel c: each thread sums its values
// first + t, first + t + blockDim.x, ... shifted by the channel's first value (moments.cuh),
// then the block merges the threads' moments.
extern "C" __global__ void batch_norm_partial_stats(const float* __restrict__ x, float* __restrict__ partial, int N,
                                                    int C, int S, int splits) {
    const int c = blockIdx.x, k = blockIdx.y;
    int first, last;
    chunk_bounds(N * S, k, splits, first, last);
    const float shift = channel_value(x, 0, c, C, S);
    float count = 0.0f, shifted_sum = 0.0f, shifted_square_sum = 0.0f;
#pragma unroll 4
    for (int j = first + threadIdx.x; j < last; j += blockDim.x) {
        const float d = channel_value(x, j, c, C, S) - shift;
        count += 1.0f;
        shifted_sum += d;
        shifted_square_sum += d * d;
    }
    const Moments moments = block_merge(moments_from_shifted_sums(count, shift, shifted_sum, shifted_square_sum));
    if (threadIdx.x == 0) {
        float* out = partial + ((long long)c * splits + k) * 3;
        out[0] = moments.count;
        out[1] = moments.mean;
        out[2] = moments.m2;
    }
}

// mean[c] and the biased variance var[c] = m2 / M, merging the partials; one thread per channel.
extern "C" __global__ void batch_norm_finalize_stats(const float* __restrict__ partial, float* __restrict__ mean,
                                                     float* __restrict__ var, int C, int splits) {
    const int c = (int)grid_thread_index();
    if (c >= C) return;
    Moments total = no_moments();
    for (int k = 0; k < splits; ++k) {
        const float* p = partial + ((long long)c * splits + k) * 3;
        Moments chunk = {p[0], p[1], p[2]};
        total = merge(total, chunk);
    }
    mean[c] = total.mean;
    var[c] = total.count > 0.0f ? total.m2 / total.count : 0.0f;
}

// y = (x - mean[c]) * invstd[c] * weight[c] + bias[c]; weight and bias may be null (affine=False).
// Mapping: a grid-stride loop over all N * C * S values.
extern "C" __global__ void batch_norm_normalize(const float* __restrict__ x, const float* __restrict__ mean,
                                                const float* __restrict__ invstd, const float* __restrict__ weight,
                                                const float* __restrict__ bias, float* __restrict__ y, int N, int C,
                                                int S) {
    const long long n = (long long)N * C * S;
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const int c = channel_of(i, C, S);
        const float scale = invstd[c] * (weight ? weight[c] : 1.0f);
        y[i] = (x[i] - mean[c]) * scale + (bias ? bias[c] : 0.0f);
    }
}

// partial[c, k] = (sum of g, sum of g * xhat) over chunk k of channel c, where
// xhat = (x - mean) * invstd and g the upstream gradient; grid (C, splits) as the statistics.
extern "C" __global__ void batch_norm_backward_partial(const float* __restrict__ x,
                                                       const float* __restrict__ grad_out,
                                                       const float* __restrict__ mean,
                                                       const float* __restrict__ invstd, float* __restrict__ partial,
                                                       int N, int C, int S, int splits) {
    const int c = blockIdx.x, k = blockIdx.y;
    int first, last;
    chunk_bounds(N * S, k, splits, first, last);
    float sum_g = 0.0f, sum_g_xhat = 0.0f;
#pragma unroll 4
    for (int j = first + threadIdx.x; j < last; j += blockDim.x) {
        const float g = channel_value(grad_out, j, c, C, S);
        sum_g += g;
        sum_g_xhat += g * (channel_value(x, j, c, C, S) - mean[c]) * invstd[c];
    }
    sum_g = block_sum(sum_g);
    sum_g_xhat = block_sum(sum_g_xhat);
    if (threadIdx.x == 0) {
        float* out = partial + ((long long)c * splits + k) * 2;
        out[0] = sum_g;
        out[1] = sum_g_xhat;
    }
}

// grad_bias[c] = sum of g, grad_weight[c] = sum of g * xhat: the partials added in order.
extern "C" __global__ void batch_norm_backward_finalize(const float* __restrict__ partial,
                                                        float* __restrict__ grad_weight,
                                                        float* __restrict__ grad_bias, int C, int splits) {
    const int c = (int)grid_thread_index();
    if (c >= C) return;
    float sum_g = 0.0f, sum_g_xhat = 0.0f;
    for (int k = 0; k < splits; ++k) {
        sum_g += partial[((long long)c * splits + k) * 2];
        sum_g_xhat += partial[((long long)c * splits + k) * 2 + 1];
    }
    grad_bias[c] = sum_g;
    grad_weight[c] = sum_g_xhat;
}

// grad_in = weight * invstd * (g - sum_g / M - xhat * sum_g_xhat / M): the gradient of
// Algorithm 1's output through the batch mean and variance (weight null means 1).
// Mapping: a grid-stride loop over all N * C * S values.
extern "C" __global__ void batch_norm_backward_input(const float* __restrict__ x, const float* __restrict__ grad_out,
                                                     const float* __restrict__ mean, const float* __restrict__ invstd,
                                                     const float* __restrict__ weight,
                                                     const float* __restrict__ grad_bias,
                                                     const float* __restrict__ grad_weight,
                                                     float* __restrict__ grad_in, int N, int C, int S) {
    const long long n = (long long)N * C * S;
    const float inverse_m = 1.0f / ((float)N * S);
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const int c = channel_of(i, C, S);
        const float xhat = (x[i] - mean[c]) * invstd[c];
        const float scale = invstd[c] * (weight ? weight[c] : 1.0f);
        grad_in[i] = scale * (grad_out[i] - grad_bias[c] * inverse_m - xhat * grad_weight[c] * inverse_m);
    }
}
