// CUDA's built-ins for g++ (-std=c++20), so that kernels/*.cu compile unchanged for the CPU
// and run on NumPy arrays. emulator.py force-includes this header before each kernel file;
// README.md beside it lists what a kernel may use. block_scheduler.h runs the threads.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <source_location>

#include "block_scheduler.h"

// ---- qualifiers
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// One block runs at a time, so a static is that block's shared memory. (`extern __shared__`
// arrays, dynamic shared memory, are rewritten by emulator.py into a per-block buffer.)
#define __shared__ static

// ---- vector types
struct __align__(16) float4 {
    float x, y, z, w;
};

inline float4 make_float4(float x, float y, float z, float w) {
    return {x, y, z, w};
}

// ---- math: CUDA's device functions and intrinsics, with the C library's full precision
using std::exp;
using std::fabs;
using std::fmax;
using std::fmin;
using std::isinf;
using std::isnan;
using std::log;
using std::log1p;
using std::max;
using std::min;
using std::sqrt;
using std::tanh;

inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float rsqrt(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __int_as_float(int bits) { return std::bit_cast<float>(bits); }
inline float __int_as_float(unsigned int bits) { return std::bit_cast<float>(bits); }
inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
inline double __longlong_as_double(long long bits) { return std::bit_cast<double>(bits); }

// ---- synchronisation: each call records where in the kernel's source it stands, so that
// threads at different barriers or lanes at different shuffles are reported.
using Where = std::source_location;

EMULATOR_RUNTIME inline void __syncthreads(Where where = Where::current()) { emulator::block_barrier(where); }

EMULATOR_RUNTIME inline void __syncwarp(unsigned int mask = 0xffffffffu, Where where = Where::current()) {
    emulator::warp_exchange("__syncwarp", where, mask, 0, emulator::lane_index());
}

// A warp shuffle: every lane offers `value` and receives the value of lane `source`.
template <class T>
EMULATOR_RUNTIME T shuffle_from(const char* what, const Where& where, unsigned int mask, T value, unsigned int source) {
    static_assert(sizeof(T) <= sizeof(std::uint64_t), "shuffled values are at most 8 bytes");
    std::uint64_t offered = 0;
    std::memcpy(&offered, &value, sizeof(T));
    const std::uint64_t received = emulator::warp_exchange(what, where, mask, offered, source);
    T result;
    std::memcpy(&result, &received, sizeof(T));
    return result;
}

// The source lanes follow the CUDA C++ Programming Guide: lanes form groups of `width`; a lane
// whose source falls outside its group (later groups, for xor) gets its own value back.
template <class T>
EMULATOR_RUNTIME T __shfl_sync(unsigned int mask, T value, int source_lane, int width = warpSize, Where where = Where::current()) {
    const unsigned int lane = emulator::lane_index();
    const unsigned int group_start = lane / width * width;
    return shuffle_from("__shfl_sync", where, mask, value, group_start + ((source_lane % width) + width) % width);
}

template <class T>
EMULATOR_RUNTIME T __shfl_up_sync(unsigned int mask, T value, unsigned int delta, int width = warpSize, Where where = Where::current()) {
    const unsigned int lane = emulator::lane_index();
    return shuffle_from("__shfl_up_sync", where, mask, value, lane % width < delta ? lane : lane - delta);
}

template <class T>
EMULATOR_RUNTIME T __shfl_down_sync(unsigned int mask, T value, unsigned int delta, int width = warpSize, Where where = Where::current()) {
    const unsigned int lane = emulator::lane_index();
    return shuffle_from("__shfl_down_sync", where, mask, value, lane % width + delta >= unsigned(width) ? lane : lane + delta);
}

template <class T>
EMULATOR_RUNTIME T __shfl_xor_sync(unsigned int mask, T value, int lane_mask, int width = warpSize, Where where = Where::current()) {
    const unsigned int lane = emulator::lane_index();
    const unsigned int source = lane ^ lane_mask;
    return shuffle_from("__shfl_xor_sync", where, mask, value, source >= (lane / width + 1) * width ? lane : source);
}

// ---- atomics: a fiber runs uninterrupted between synchronisation points, so a plain
// read-modify-write is atomic here; the race detector records it as atomic.
template <class T>
EMULATOR_RUNTIME T atomicAdd(T* address, T value) {
    emulator::check_access(address, sizeof(T), true, true);
    const T old = *address;
    *address = old + value;
    return old;
}
