// Dropout (Srivastava et al. 2014) in one pass: keep x where u >= p and scale it by 1 / (1 - p),
// as scratchgen/ops/dropout.py does; `mask` keeps the scale factors (0 or 1 / (1 - p)) for the
// backward pass. The uniforms u come from the caller (see gumbel.cu for why).
// Mapping: a grid-stride loop, one element per thread per iteration.
#include "common.cuh"

template <class T>
__global__ void dropout_forward(const T* __restrict__ x, const T* __restrict__ uniform,
                                T* __restrict__ y, T* __restrict__ mask, long long n, T p) {
    const T scale = T(1) / (T(1) - p);
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const T keep = uniform[i] >= p ? scale : T(0);
        mask[i] = keep;
        y[i] = x[i] * keep;
    }
}
