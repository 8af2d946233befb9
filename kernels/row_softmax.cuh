// The statistics a softmax needs of one row, computed by one warp in one pass (the "online
// softmax" of Milakov & Gimelshein 2018): the row's maximum m and s = sum_j e^(x_j - m).
// Then softmax_j = e^(x_j - m) / s, log_softmax_j = x_j - m - log s, logsumexp = m + log s.
#pragma once
#include "common.cuh"

template <class T>
struct RowSoftmaxStats {
    T max;
    T sum;  // sum of e^(x - max) over the row
};

// s * e^(from - to): rescales a sum taken relative to maximum `from` to maximum `to` >= from.
// A sum over only -inf values is 0 whatever the maximum (and e^(-inf - -inf) would be NaN).
template <class T>
__device__ __forceinline__ T rescale(T s, T from, T to) {
    return from == negative_infinity<T>() ? T(0) : s * exp(from - to);
}

// Lane l of the warp reads columns l, l + 32, l + 64, ... through value(column), four at a
// time (four loads in flight, and one rescaling of the running sum per four values), keeping
// a running maximum and a sum relative to it; the 32 partial results are then merged with
// butterfly shuffles. Every lane returns the row's statistics.
template <class T, class Value>
__device__ RowSoftmaxStats<T> warp_row_softmax_stats(Value value, int cols) {
    const int lane = threadIdx.x % 32;
    T m = negative_infinity<T>(), s = T(0);
    for (int col = lane; col < cols; col += 128) {
        T v[4];
#pragma unroll
        for (int u = 0; u < 4; ++u) v[u] = col + 32 * u < cols ? value(col + 32 * u) : negative_infinity<T>();
        const T new_max = fmax(fmax(m, fmax(v[0], v[1])), fmax(v[2], v[3]));
        s = rescale(s, m, new_max);
#pragma unroll
        for (int u = 0; u < 4; ++u) s += v[u] == negative_infinity<T>() ? T(0) : exp(v[u] - new_max);
        m = new_max;
    }
    for (int offset = 16; offset > 0; offset /= 2) {
        const T other_m = __shfl_xor_sync(0xffffffff, m, offset);
        const T other_s = __shfl_xor_sync(0xffffffff, s, offset);
        const T new_max = fmax(m, other_m);
        s = rescale(s, m, new_max) + rescale(other_s, other_m, new_max);
        m = new_max;
    }
    RowSoftmaxStats<T> stats = {m, s};
    return stats;
}
