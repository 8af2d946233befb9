// Batch normalization (Ioffe & Szegedy 2015, Algorithm 1) over a contiguous float or double array
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
template <class T>
__device__ __forceinline__ T channel_value(const T* x, int j, int c, int C, int S) {
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
template <class T>
__global__ void batch_norm_partial_stats(const T* __restrict__ x, T* __restrict__ partial, int N,
                                         int C, int S, int splits) {
    const int c = blockIdx.x, k = blockIdx.y;
    int first, last;
    chunk_bounds(N * S, k, splits, first, last);
    const T shift = channel_value(x, 0, c, C, S);
    T count = T(0), shifted_sum = T(0), shifted_square_sum = T(0);
#pragma unroll 4
    for (int j = first + threadIdx.x; j < last; j += blockDim.x) {
        const T d = channel_value(x, j, c, C, S) - shift;
        count += T(1);
        shifted_sum += d;
        shifted_square_sum += d * d;
    }
    const Moments<T> moments = block_merge(moments_from_shifted_sums(count, shift, shifted_sum, shifted_square_sum));
    if (threadIdx.x == 0) {
        T* out = partial + ((long long)c * splits + k) * 3;
        out[0] = moments.count;
        out[1] = moments.mean;
        out[2] = moments.m2;
    }
}

// mean[c] and the biased variance var[c] = m2 / M, merging the partials; one thread per channel.
template <class T>
__global__ void batch_norm_finalize_stats(const T* __restrict__ partial, T* __restrict__ mean,
                                          T* __restrict__ var, int C, int splits) {
    const int c = (int)grid_thread_index();
    if (c >= C) return;
    Moments<T> total = no_moments<T>();
    for (int k = 0; k < splits; ++k) {
        const T* p = partial + ((long long)c * splits + k) * 3;
        Moments<T> chunk = {p[0], p[1], p[2]};
        total = merge(total, chunk);
    }
    mean[c] = total.mean;
    var[c] = total.count > T(0) ? total.m2 / total.count : T(0);
}

// y = (x - mean[c]) * invstd[c] * weight[c] + bias[c]; weight and bias may be null (affine=False).
// Mapping: a grid-stride loop over all N * C * S values.
template <class T>
__global__ void batch_norm_normalize(const T* __restrict__ x, const T* __restrict__ mean,
                                     const T* __restrict__ invstd, const T* __restrict__ weight,
                                     const T* __restrict__ bias, T* __restrict__ y, int N, int C,
                                     int S) {
    const long long n = (long long)N * C * S;
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const int c = channel_of(i, C, S);
        const T scale = invstd[c] * (weight ? weight[c] : T(1));
        y[i] = (x[i] - mean[c]) * scale + (bias ? bias[c] : T(0));
    }
}

// partial[c, k] = (sum of g, sum of g * xhat) over chunk k of channel c, where
// xhat = (x - mean) * invstd and g the upstream gradient; grid (C, splits) as the statistics.
template <class T>
__global__ void batch_norm_backward_partial(const T* __restrict__ x,
                                            const T* __restrict__ grad_out,
                                            const T* __restrict__ mean,
                                            const T* __restrict__ invstd, T* __restrict__ partial,
                                            int N, int C, int S, int splits) {
    const int c = blockIdx.x, k = blockIdx.y;
    int first, last;
    chunk_bounds(N * S, k, splits, first, last);
    T sum_g = T(0), sum_g_xhat = T(0);
#pragma unroll 4
    for (int j = first + threadIdx.x; j < last; j += blockDim.x) {
        const T g = channel_value(grad_out, j, c, C, S);
        sum_g += g;
        sum_g_xhat += g * (channel_value(x, j, c, C, S) - mean[c]) * invstd[c];
    }
    sum_g = block_sum(sum_g);
    sum_g_xhat = block_sum(sum_g_xhat);
    if (threadIdx.x == 0) {
        T* out = partial + ((long long)c * splits + k) * 2;
        out[0] = sum_g;
        out[1] = sum_g_xhat;
    }
}

// grad_bias[c] = sum of g, grad_weight[c] = sum of g * xhat: the partials added in order.
template <class T>
__global__ void batch_norm_backward_finalize(const T* __restrict__ partial,
                                             T* __restrict__ grad_weight,
                                             T* __restrict__ grad_bias, int C, int splits) {
    const int c = (int)grid_thread_index();
    if (c >= C) return;
    T sum_g = T(0), sum_g_xhat = T(0);
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
template <class T>
__global__ void batch_norm_backward_input(const T* __restrict__ x, const T* __restrict__ grad_out,
                                          const T* __restrict__ mean, const T* __restrict__ invstd,
                                          const T* __restrict__ weight,
                                          const T* __restrict__ grad_bias,
                                          const T* __restrict__ grad_weight,
                                          T* __restrict__ grad_in, int N, int C, int S) {
    const long long n = (long long)N * C * S;
    const T inverse_m = T(1) / ((T)N * S);
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const int c = channel_of(i, C, S);
        const T xhat = (x[i] - mean[c]) * invstd[c];
        const T scale = invstd[c] * (weight ? weight[c] : T(1));
        grad_in[i] = scale * (grad_out[i] - grad_bias[c] * inverse_m - xhat * grad_weight[c] * inverse_m);
    }
}
