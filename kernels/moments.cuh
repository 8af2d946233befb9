// Mean and variance in one pass over the data, as (count, mean, m2) triples that merge
// exactly (Chan, Golub & LeVeque 1979), used by batch norm and layer norm.
//
// Each thread sums its values shifted by one value K of the same data (the "shifted data"
// algorithm): sum (x - K) and sum (x - K)^2 lose no precision to a large common offset of x,
// unlike E[x^2] - E[x]^2, and need no division per value, unlike Welford's update.
#pragma once

#include "common.cuh"

template <class T>
struct Moments {
    T count;  // number of values
    T mean;
    T m2;     // sum of squared deviations from the mean: variance = m2 / count
};

template <class T>
__device__ __forceinline__ Moments<T> no_moments() {
    Moments<T> m = {T(0), T(0), T(0)};
    return m;
}

// The moments of `count` values x, given shifted_sum = sum (x - shift) and
// shifted_square_sum = sum (x - shift)^2.
template <class T>
__device__ __forceinline__ Moments<T> moments_from_shifted_sums(T count, T shift, T shifted_sum,
                                                                T shifted_square_sum) {
    if (count == T(0)) return no_moments<T>();
    const T mean_offset = shifted_sum / count;
    Moments<T> m = {count, shift + mean_offset, fmax(T(0), shifted_square_sum - shifted_sum * mean_offset)};
    return m;
}

// Chan et al.'s merge: mean and m2 of the union of two disjoint sets of values.
template <class T>
__device__ __forceinline__ Moments<T> merge(Moments<T> a, Moments<T> b) {
    const T count = a.count + b.count;
    if (count == T(0)) return a;
    const T delta = b.mean - a.mean, weight_b = b.count / count;
    Moments<T> m = {count, a.mean + delta * weight_b, a.m2 + b.m2 + delta * delta * a.count * weight_b};
    return m;
}

// Merge the moments of the 32 lanes of a warp, returned to every lane (butterfly shuffles).
template <class T>
__device__ __forceinline__ Moments<T> warp_merge(Moments<T> m) {
    for (int offset = 16; offset > 0; offset /= 2) {
        Moments<T> other = {__shfl_xor_sync(0xffffffff, m.count, offset),
                            __shfl_xor_sync(0xffffffff, m.mean, offset),
                            __shfl_xor_sync(0xffffffff, m.m2, offset)};
        m = merge(m, other);
    }
    return m;
}

// Merge over a whole block (blockDim.x a multiple of 32, 1-D block), returned to every
// thread (block_combine in common.cuh).
template <class T>
__device__ Moments<T> block_merge(Moments<T> m) {
    return block_combine<Moments<T>, warp_merge<T>>(m, no_moments<T>());
}
