// The normalisation layers' array work (batch, layer, group and instance norm: ops/normalization.py,
// backends/normalization.py on the CPU) over a contiguous float or double array viewed as
// (outer, channels, inner): channel c's M = outer * inner values are x[o, c, i] for every o and i.
// Batch norm of an (N, C, H, W) array is (N, C, H * W), or (1, C, H * W * N) for the batch-last
// array a convolution leaves; layer norm of (rows, cols) is (1, rows, cols).
//
// Statistics and sums are reduced in two steps so that many blocks share a channel's work:
// grid (channels, splits), block (c, k) reduces the k-th of `splits` equal chunks of channel
// c's M values into a partial result, then a second launch combines the `splits` partials in
// a fixed order (deterministic, no atomics).
#include "common.cuh"
#include "moments.cuh"

// The caller keeps outer * channels * inner below 2^31, so indices within a channel and channel
// lookups use 32-bit arithmetic: a 64-bit integer division costs several times a 32-bit one on a GPU.

// Channel of flat index i of the (outer, channels, inner) array.
__device__ __forceinline__ int channel_of(long long i, int channels, int inner) {
    return (int)((unsigned)i / (unsigned)inner % (unsigned)channels);
}

// The j-th value (j < M) of channel c, in (o, i) order.
template <class T>
__device__ __forceinline__ T channel_value(const T* x, int j, int c, int channels, int inner) {
    return x[((long long)(j / inner) * channels + c) * inner + j % inner];
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
__global__ void channel_moments_partial(const T* __restrict__ x, T* __restrict__ partial, int outer,
                                        int channels, int inner, int splits) {
    const int c = blockIdx.x, k = blockIdx.y;
    int first, last;
    chunk_bounds(outer * inner, k, splits, first, last);
    const T shift = channel_value(x, 0, c, channels, inner);
    T count = T(0), shifted_sum = T(0), shifted_square_sum = T(0);
#pragma unroll 4
    for (int j = first + threadIdx.x; j < last; j += blockDim.x) {
        const T d = channel_value(x, j, c, channels, inner) - shift;
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

// stats = [mean, biased variance m2 / M] (2, channels), merging the partials (Chan et al. 1979);
// one thread per channel.
template <class T>
__global__ void channel_moments_finalize(const T* __restrict__ partial, T* __restrict__ stats, int channels,
                                         int splits) {
    const int c = (int)grid_thread_index();
    if (c >= channels) return;
    Moments<T> total = no_moments<T>();
    for (int k = 0; k < splits; ++k) {
        const T* p = partial + ((long long)c * splits + k) * 3;
        Moments<T> chunk = {p[0], p[1], p[2]};
        total = merge(total, chunk);
    }
    stats[c] = total.mean;
    stats[channels + c] = total.count > T(0) ? total.m2 / total.count : T(0);
}

// partial[0, c, k] = sum of g * t and partial[1, c, k] = sum of g over chunk k of channel c
// (t null: partial[0] alone, the sum of g, as the reductions of ops/reduction.py use it); grid
// (channels, splits) as the statistics.
template <class T>
__global__ void channel_dot_partial(const T* __restrict__ g, const T* __restrict__ t, T* __restrict__ partial,
                                    int outer, int channels, int inner, int splits) {
    const int c = blockIdx.x, k = blockIdx.y;
    int first, last;
    chunk_bounds(outer * inner, k, splits, first, last);
    T sum_gt = T(0), sum_g = T(0);
#pragma unroll 4
    for (int j = first + threadIdx.x; j < last; j += blockDim.x) {
        const T value = channel_value(g, j, c, channels, inner);
        sum_g += value;
        if (t) sum_gt += value * channel_value(t, j, c, channels, inner);
    }
    sum_g = block_sum(sum_g);
    if (!t) {
        if (threadIdx.x == 0) partial[(long long)c * splits + k] = sum_g;
        return;
    }
    sum_gt = block_sum(sum_gt);
    if (threadIdx.x == 0) {
        partial[(long long)c * splits + k] = sum_gt;
        partial[((long long)channels + c) * splits + k] = sum_g;
    }
}

// out = a * scale_a[c] + b * scale_b[c] + shift[c], plus out's own value if `accumulate` != 0; b
// (with scale_b) and shift may be null. Sums of more terms are several launches, the later ones
// accumulating. Mapping: a grid-stride loop over all outer * channels * inner values.
template <class T>
__global__ void channel_affine(const T* __restrict__ a, const T* __restrict__ scale_a, const T* __restrict__ b,
                               const T* __restrict__ scale_b, const T* __restrict__ shift, T* __restrict__ out,
                               int outer, int channels, int inner, int accumulate) {
    const long long n = (long long)outer * channels * inner;
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const int c = channel_of(i, channels, inner);
        T value = a[i] * scale_a[c];
        if (b) value += b[i] * scale_b[c];
        if (shift) value += shift[c];
        out[i] = accumulate ? out[i] + value : value;
    }
}

// out = [scale, shift] (2, n) with scale = weight / sqrt(var + eps), shift = bias - mean * scale, from
// stats = [mean, var] (2, n): normalisation and affine map folded into one x * scale + shift
// (Ioffe & Szegedy 2015, Algorithm 1). Mapping: a grid-stride loop over the n channels.
template <class T>
__global__ void channel_coefficients(const T* __restrict__ stats, const T* __restrict__ weight,
                                     const T* __restrict__ bias, T* __restrict__ out, int n, T eps) {
    for (long long c = grid_thread_index(); c < n; c += grid_thread_count()) {
        const T scale = weight[c] / sqrt(stats[n + c] + eps);
        out[c] = scale;
        out[n + c] = bias[c] - stats[c] * scale;
    }
}
