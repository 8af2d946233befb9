// Dropout (Srivastava et al. 2014) in one pass with its random numbers drawn on the device: keep
// x where u >= p and scale it by 1 / (1 - p), as scratchgen/ops/dropout.py does on the CPU; `mask`
// keeps the scale factors (0 or 1 / (1 - p)) for the backward pass. u for element i is word
// i % 4 of Philox4x32-10 (philox.cuh) at counter (i / 4, 0) under a 64-bit key that the caller
// draws from the library's seeded generator: the same seed gives the same mask, and no uniforms
// cross from the host.
// Mapping: a grid-stride loop over groups of four elements, one Philox call per group.
#include "common.cuh"
#include "philox.cuh"

template <class T>
__global__ void dropout_philox(const T* __restrict__ x, T* __restrict__ y, T* __restrict__ mask, long long n, T p,
                               unsigned int key_low, unsigned int key_high) {
    const T scale = T(1) / (T(1) - p);
    const long long groups = (n + 3) / 4;
    for (long long group = grid_thread_index(); group < groups; group += grid_thread_count()) {
        const Philox4 counter = {{(unsigned int)group, (unsigned int)(group >> 32), 0u, 0u}};
        const Philox4 bits = philox4x32_10(counter, key_low, key_high);
        for (int j = 0; j < 4 && 4 * group + j < n; ++j) {
            const long long i = 4 * group + j;
            const T keep = unit_uniform<T>(bits.word[j]) >= p ? scale : T(0);
            mask[i] = keep;
            y[i] = x[i] * keep;
        }
    }
}
