// Dropout (Srivastava et al. 2014) in one pass: keep x where u >= p and scale it by 1 / (1 - p),
// as scratchgen/ops/dropout.py does; `mask` keeps the scale factors (0 or 1 / (1 - p)) for the
// backward pass. The uniforms u come from the caller (see gumbel.cu for why).
// Mapping: a grid-stride loop, one element per thread per iteration.
#include "common.cuh"

extern "C" __global__ void dropout_forward(const float* __restrict__ x, const float* __restrict__ uniform,
                                           float* __restrict__ y, float* __restrict__ mask, long long n, float p) {
    const float scale = 1.0f / (1.0f - p);
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const float keep = uniform[i] >= p ? scale : 0.0f;
        mask[i] = keep;
        y[i] = x[i] * keep;
    }
}
