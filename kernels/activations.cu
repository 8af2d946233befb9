// Elementwise activations and their gradients, each one pass over memory (read x, write y;
// or read z and the upstream gradient g, write g * f'(z)), with the formulas of
// torch.nn.functional. f' is read from z = x, or from z = y = f(x) where that is cheaper (tanh,
// sigmoid, as torch's tanh_backward and sigmoid_backward; ops/fused_activation.py).
// Mapping: a grid-stride loop, one element per thread per iteration.
#include "common.cuh"

// 1 / (1 + e^-x) without overflow: e = e^-|x| lies in (0, 1].
template <class T>
__device__ __forceinline__ T stable_sigmoid(T x) {
    const T e = exp(-fabs(x));
    return x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

template <class T>
__global__ void relu_forward(const T* __restrict__ x, T* __restrict__ y, long long n) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) y[i] = x[i] < T(0) ? T(0) : x[i];
}

// torch's threshold_backward: the gradient passes where x > 0, and where x is nan.
template <class T>
__global__ void relu_backward(const T* __restrict__ x, const T* __restrict__ grad_out,
                              T* __restrict__ grad_in, long long n) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count())
        grad_in[i] = x[i] <= T(0) ? T(0) : grad_out[i];
}

template <class T>
__global__ void leaky_relu_forward(const T* __restrict__ x, T* __restrict__ y, long long n,
                                   T negative_slope) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count())
        y[i] = x[i] > T(0) ? x[i] : x[i] * negative_slope;
}

template <class T>
__global__ void leaky_relu_backward(const T* __restrict__ x, const T* __restrict__ grad_out,
                                    T* __restrict__ grad_in, long long n, T negative_slope) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count())
        grad_in[i] = x[i] > T(0) ? grad_out[i] : grad_out[i] * negative_slope;
}

template <class T>
__global__ void tanh_forward(const T* __restrict__ x, T* __restrict__ y, long long n) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) y[i] = tanh(x[i]);
}

// tanh'(x) = 1 - y^2, y = tanh(x)
template <class T>
__global__ void tanh_backward(const T* __restrict__ y, const T* __restrict__ grad_out,
                              T* __restrict__ grad_in, long long n) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count())
        grad_in[i] = grad_out[i] * (T(1) - y[i] * y[i]);
}

template <class T>
__global__ void sigmoid_forward(const T* __restrict__ x, T* __restrict__ y, long long n) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) y[i] = stable_sigmoid(x[i]);
}

// sigmoid'(x) = y (1 - y), y = sigmoid(x)
template <class T>
__global__ void sigmoid_backward(const T* __restrict__ y, const T* __restrict__ grad_out,
                                 T* __restrict__ grad_in, long long n) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count())
        grad_in[i] = grad_out[i] * y[i] * (T(1) - y[i]);
}

// torch.nn.functional.softplus: log(1 + e^(beta x)) / beta, and x itself where beta x > threshold.
template <class T>
__global__ void softplus_forward(const T* __restrict__ x, T* __restrict__ y, long long n,
                                 T beta, T threshold) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const T scaled = x[i] * beta;
        y[i] = scaled > threshold ? x[i] : log1p(exp(scaled)) / beta;
    }
}

// softplus'(x) = sigmoid(beta x), and 1 where beta x > threshold (torch's softplus_backward).
template <class T>
__global__ void softplus_backward(const T* __restrict__ x, const T* __restrict__ grad_out,
                                  T* __restrict__ grad_in, long long n, T beta, T threshold) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const T scaled = x[i] * beta;
        grad_in[i] = scaled > threshold ? grad_out[i] : grad_out[i] * stable_sigmoid(scaled);
    }
}
