// Elementwise activations and their gradients, each one pass over memory (read x, write y;
// or read x and the upstream gradient g, write g * f'(x)), with the formulas of
// torch.nn.functional. Mapping: a grid-stride loop, one element per thread per iteration.
#include "common.cuh"

// 1 / (1 + e^-x) without overflow: e = e^-|x| lies in (0, 1].
__device__ __forceinline__ float stable_sigmoid(float x) {
    const float e = expf(-fabsf(x));
    return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

extern "C" __global__ void relu_forward(const float* __restrict__ x, float* __restrict__ y, long long n) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

// torch's threshold_backward: the gradient passes where x > 0.
extern "C" __global__ void relu_backward(const float* __restrict__ x, const float* __restrict__ grad_out,
                                         float* __restrict__ grad_in, long long n) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count())
        grad_in[i] = x[i] > 0.0f ? grad_out[i] : 0.0f;
}

extern "C" __global__ void leaky_relu_forward(const float* __restrict__ x, float* __restrict__ y, long long n,
                                              float negative_slope) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count())
        y[i] = x[i] > 0.0f ? x[i] : x[i] * negative_slope;
}

extern "C" __global__ void leaky_relu_backward(const float* __restrict__ x, const float* __restrict__ grad_out,
                                               float* __restrict__ grad_in, long long n, float negative_slope) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count())
        grad_in[i] = x[i] > 0.0f ? grad_out[i] : grad_out[i] * negative_slope;
}

extern "C" __global__ void tanh_forward(const float* __restrict__ x, float* __restrict__ y, long long n) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) y[i] = tanhf(x[i]);
}

// tanh'(x) = 1 - tanh(x)^2
extern "C" __global__ void tanh_backward(const float* __restrict__ x, const float* __restrict__ grad_out,
                                         float* __restrict__ grad_in, long long n) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const float t = tanhf(x[i]);
        grad_in[i] = grad_out[i] * (1.0f - t * t);
    }
}

extern "C" __global__ void sigmoid_forward(const float* __restrict__ x, float* __restrict__ y, long long n) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) y[i] = stable_sigmoid(x[i]);
}

// sigmoid'(x) = sigmoid(x) * (1 - sigmoid(x))
extern "C" __global__ void sigmoid_backward(const float* __restrict__ x, const float* __restrict__ grad_out,
                                            float* __restrict__ grad_in, long long n) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const float s = stable_sigmoid(x[i]);
        grad_in[i] = grad_out[i] * s * (1.0f - s);
    }
}

// torch.nn.functional.softplus: log(1 + e^(beta x)) / beta, and x itself where beta x > threshold.
extern "C" __global__ void softplus_forward(const float* __restrict__ x, float* __restrict__ y, long long n,
                                            float beta, float threshold) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const float scaled = x[i] * beta;
        y[i] = scaled > threshold ? x[i] : log1pf(expf(scaled)) / beta;
    }
}

// softplus'(x) = sigmoid(beta x), and 1 where beta x > threshold (torch's softplus_backward).
extern "C" __global__ void softplus_backward(const float* __restrict__ x, const float* __restrict__ grad_out,
                                             float* __restrict__ grad_in, long long n, float beta, float threshold) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const float scaled = x[i] * beta;
        grad_in[i] = scaled > threshold ? grad_out[i] : grad_out[i] * stable_sigmoid(scaled);
    }
}
