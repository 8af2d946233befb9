// Mean and variance in one pass over the data, as (count, mean, m2) triples that merge
// exactly (Chan, Golub & LeVeque 1979), used by batch norm and layer norm.
//
// Each thread sums its values shifted by one value K of the same data (the "shifted data"
// algorithm): sum (x - K) and sum (x - K)^2 lose no precision to a large common offset of x,
// unlike E[x^2] - E[x]^2, and need no division per value, unlike Welford's update.
#pragma once

#include "common.cuh"

struct Moments {
    float count;  // number of values
    float mean;
    float m2;     // sum of squared deviations from the mean: variance = m2 / count
};

__device__ __forceinline__ Moments no_moments() {
    Moments m = {0.0f, 0.0f, 0.0f};
    return m;
}

// The moments of `count` values x, given shifted_sum = sum (x - shift) and
// shifted_square_sum = sum (x - shift)^2.
__device__ __forceinline__ Moments moments_from_shifted_sums(float count, float shift, float shifted_sum,
                                                             float shifted_square_sum) {
    if (count == 0.0f) return no_moments();
    const float mean_offset = shifted_sum / count;
    Moments m = {count, shift + mean_offset, fmaxf(0.0f, shifted_square_sum - shifted_sum * mean_offset)};
    return m;
}

// Chan et al.'s merge: mean and m2 of the union of two disjoint sets of values.
__device__ __forceinline__ Moments merge(Moments a, Moments b) {
    const float count = a.count + b.count;
    if (count == 0.0f) return a;
    const float delta = b.mean - a.mean, weight_b = b.count / count;
    Moments m = {count, a.mean + delta * weight_b, a.m2 + b.m2 + delta * delta * a.count * weight_b};
    return m;
}

// Merge the moments of the 32 lanes of a warp, returned to every lane (butterfly shuffles).
__device__ __forceinline__ Moments warp_merge(Moments m) {
    for (int offset = 16; offset > 0; offset /= 2) {
        Moments other = {__shfl_xor_sync(0xffffffff, m.count, offset),
                         __shfl_xor_sync(0xffffffff, m.mean, offset),
                         __shfl_xor_sync(0xffffffff, m.m2, offset)};
        m = merge(m, other);
    }
    return m;
}

// Merge over a whole block (blockDim.x a multiple of 32, 1-D block), returned to every
// thread (block_combine in common.cuh).
__device__ Moments block_merge(Moments m) {
    return block_combine<Moments, warp_merge>(m, no_moments());
}
