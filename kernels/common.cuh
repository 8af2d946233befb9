// Helpers shared by the kernels of this folder: grid-stride loops, warp and block reductions.
// Every function here is plain CUDA C++ that the CPU emulator (emulator/) also compiles.
#pragma once

// A grid-stride loop visits every index below n with any grid size: thread t of the grid
// takes t, t + (threads in the grid), t + 2 * (threads in the grid), ...
//     for (long long i = grid_thread_index(); i < n; i += grid_thread_count())
__device__ __forceinline__ long long grid_thread_index() {
    return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ long long grid_thread_count() {
    return (long long)gridDim.x * blockDim.x;
}

// Kernels that give each row to one warp: warp w of block b takes row b * (warps per block) + w.
__device__ __forceinline__ int warp_row() {
    return (int)(blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32);
}

// The kernels are templates over T, float or double (launch.py instantiates both); these
// constants of T are bit patterns, since NVRTC has no <cmath> (no INFINITY, no FLT_MIN).
template <class T>
struct Limits;

template <>
struct Limits<float> {
    // -inf, and the smallest positive normal value (FLT_MIN) for clamping before a logarithm
    __device__ static float negative_infinity() { return __int_as_float(0xff800000); }
    __device__ static float smallest_normal() { return __int_as_float(0x00800000); }
};

template <>
struct Limits<double> {
    __device__ static double negative_infinity() { return __longlong_as_double(0xfff0000000000000ll); }
    __device__ static double smallest_normal() { return __longlong_as_double(0x0010000000000000ll); }
};

template <class T>
__device__ __forceinline__ T negative_infinity() {
    return Limits<T>::negative_infinity();
}

// Sum of v over the 32 lanes of a warp, returned to every lane: a butterfly of shuffles in
// which lane l adds the value of lane l ^ offset, for offset 16, 8, 4, 2, 1.
template <class T>
__device__ __forceinline__ T warp_sum(T v) {
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffff, v, offset);
    return v;
}

// v combined over all threads of a block (blockDim.x a multiple of 32, blockDim.y = blockDim.z = 1)
// by warp_combine, a butterfly over the 32 lanes of a warp that returns its result to every lane;
// the block's result is returned to every thread. Each warp combines its lanes; shared memory
// `warp_results` holds one result per warp (at most 32 warps); warp 0 combines those (`identity`
// standing in for absent warps) and publishes the result in `block_result`.
template <typename T, T (*warp_combine)(T)>
__device__ T block_combine(T v, T identity) {
    __shared__ T warp_results[32];
    __shared__ T block_result;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    v = warp_combine(v);
    if (lane == 0) warp_results[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = warp_combine(lane < (int)blockDim.x / 32 ? warp_results[lane] : identity);
        if (lane == 0) block_result = v;
    }
    __syncthreads();
    return block_result;
}

// Sum of v over all threads of a block, returned to every thread (block_combine).
template <class T>
__device__ T block_sum(T v) {
    return block_combine<T, warp_sum<T>>(v, T(0));
}
