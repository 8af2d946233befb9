// Layer normalization (Ba, Kiros & Hinton 2016) over the last axis of a contiguous float or double
// array viewed as (rows, cols): each row is normalized by its own mean and variance, then
// scaled by weight[col] and shifted by bias[col] (either may be null: no elementwise affine).
#include "common.cuh"
#include "moments.cuh"

// y = (x - mean) * rstd * weight + bias, with rstd = 1 / sqrt(var + eps) (biased variance, as torch).
// Mapping: one warp per row; each lane sums its columns lane, lane + 32, ... shifted by the
// row's first value, the warp merges the lanes' moments with shuffles (moments.cuh), then the
// lanes write their columns. mean and rstd are kept per row for the backward pass.
template <class T>
__global__ void layer_norm_forward(const T* __restrict__ x, const T* __restrict__ weight,
                                   const T* __restrict__ bias, T* __restrict__ y,
                                   T* __restrict__ mean, T* __restrict__ rstd, int rows, int cols,
                                   T eps) {
    const int row = warp_row(), lane = threadIdx.x % 32;
    if (row >= rows) return;
    const T* in = x + (long long)row * cols;
    T* out = y + (long long)row * cols;
    const T shift = in[0];
    T count = T(0), shifted_sum = T(0), shifted_square_sum = T(0);
#pragma unroll 4
    for (int col = lane; col < cols; col += 32) {
        const T d = in[col] - shift;
        count += T(1);
        shifted_sum += d;
        shifted_square_sum += d * d;
    }
    const Moments<T> moments = warp_merge(moments_from_shifted_sums(count, shift, shifted_sum, shifted_square_sum));
    const T row_rstd = rsqrt(moments.m2 / cols + eps);
#pragma unroll 4
    for (int col = lane; col < cols; col += 32)
        out[col] = (in[col] - moments.mean) * row_rstd * (weight ? weight[col] : T(1)) + (bias ? bias[col] : T(0));
    if (lane == 0) {
        mean[row] = moments.mean;
        rstd[row] = row_rstd;
    }
}

// grad_in = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)) with gw = grad_out * weight and
// xhat = (x - mean) * rstd: the gradient through the row's own mean and variance.
// Mapping: one warp per row; the two row means are warp sums (common.cuh).
template <class T>
__global__ void layer_norm_backward_input(const T* __restrict__ x, const T* __restrict__ grad_out,
                                          const T* __restrict__ mean, const T* __restrict__ rstd,
                                          const T* __restrict__ weight, T* __restrict__ grad_in,
                                          int rows, int cols) {
    const int row = warp_row(), lane = threadIdx.x % 32;
    if (row >= rows) return;
    const long long start = (long long)row * cols;
    const T row_mean = mean[row], row_rstd = rstd[row];
    T sum_gw = T(0), sum_gw_xhat = T(0);
#pragma unroll 4
    for (int col = lane; col < cols; col += 32) {
        const T gw = grad_out[start + col] * (weight ? weight[col] : T(1));
        sum_gw += gw;
        sum_gw_xhat += gw * (x[start + col] - row_mean) * row_rstd;
    }
    const T mean_gw = warp_sum(sum_gw) / cols, mean_gw_xhat = warp_sum(sum_gw_xhat) / cols;
#pragma unroll 4
    for (int col = lane; col < cols; col += 32) {
        const T gw = grad_out[start + col] * (weight ? weight[col] : T(1));
        const T xhat = (x[start + col] - row_mean) * row_rstd;
        grad_in[start + col] = row_rstd * (gw - mean_gw - xhat * mean_gw_xhat);
    }
}

// Per chunk of rows, the column sums that make grad_weight (g * xhat) and grad_bias (g):
// partial_weight[chunk, col] and partial_bias[chunk, col]; the caller adds the chunks
// (sum_inner_axis in reduce.cu). Mapping: grid (ceil(cols / 32), chunks), block (32, 8):
// thread (tx, ty) takes column blockIdx.x * 32 + tx and rows ty, ty + 8, ... of its chunk
// (a warp reads 32 neighbouring columns of one row: coalesced). Shared memory holds the 8
// partial sums (one per ty) of each of the block's 32 columns; row ty = 0 adds them up.
template <class T>
__global__ void layer_norm_backward_params(const T* __restrict__ x, const T* __restrict__ grad_out,
                                           const T* __restrict__ mean, const T* __restrict__ rstd,
                                           T* __restrict__ partial_weight,
                                           T* __restrict__ partial_bias, int rows, int cols,
                                           int rows_per_chunk) {
    __shared__ T weight_sums[8][32];
    __shared__ T bias_sums[8][32];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int col = blockIdx.x * 32 + tx, chunk = blockIdx.y;
    const int first = chunk * rows_per_chunk, last = min(rows, first + rows_per_chunk);
    T sum_g_xhat = T(0), sum_g = T(0);
    if (col < cols) {
        for (int row = first + ty; row < last; row += 8) {
            const long long i = (long long)row * cols + col;
            sum_g += grad_out[i];
            sum_g_xhat += grad_out[i] * (x[i] - mean[row]) * rstd[row];
        }
    }
    weight_sums[ty][tx] = sum_g_xhat;
    bias_sums[ty][tx] = sum_g;
    __syncthreads();
    if (ty == 0 && col < cols) {
        T total_weight = T(0), total_bias = T(0);
        for (int k = 0; k < 8; ++k) {
            total_weight += weight_sums[k][tx];
            total_bias += bias_sums[k][tx];
        }
        partial_weight[(long long)chunk * cols + col] = total_weight;
        partial_bias[(long long)chunk * cols + col] = total_bias;
    }
}
