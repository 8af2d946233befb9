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

// Clipping to [low, high] (clamp, hardtanh, relu6), nan kept: a comparison with nan is false, so
// nan passes both bounds unchanged (fmax and fmin would drop it). A bound with has_* = 0 is absent.
template <class T>
__global__ void clip_forward(const T* __restrict__ x, T* __restrict__ y, long long n, T low, T high, int has_low,
                             int has_high) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        T value = x[i];
        if (has_low && value < low) value = low;
        if (has_high && value > high) value = high;
        y[i] = value;
    }
}

// The gradient passes where x lies within the bounds: low <= x <= high if `inclusive` (clamp, as
// torch), else low < x < high (hardtanh, relu6); an absent bound lets everything pass, a present
// one never lets nan pass (its comparison is false).
template <class T>
__global__ void clip_backward(const T* __restrict__ x, const T* __restrict__ grad_out, T* __restrict__ grad_in,
                              long long n, T low, T high, int has_low, int has_high, int inclusive) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const T v = x[i];
        const bool above_low = !has_low || (inclusive ? v >= low : v > low);
        const bool below_high = !has_high || (inclusive ? v <= high : v < high);
        grad_in[i] = above_low && below_high ? grad_out[i] : T(0);
    }
}

// ---- ops/activation.py's Pointwise functions and their slopes (f', whose own gradient is f''),
// picked by a code of PointwiseOp (backends/cuda.py reads the names from this file); p0, p1, p2
// are the parameters each names. The formulas are those of ops/activation.py's value()s, with
// torch's values at the edges (nan, +-inf).
enum PointwiseOp { ELU, ELU_SLOPE, LOG_SIGMOID, GELU, GELU_SLOPE, GELU_TANH, GELU_TANH_SLOPE, SIGMOID_SLOPE };

// NumPy's minimum: nan if either is nan
template <class T>
__device__ __forceinline__ T nan_minimum(T a, T b) {
    return a != a || a < b ? a : b;
}

template <class T>
__device__ T pointwise_op(int op, T x, T p0, T p1, T p2) {
    const T sqrt1_2 = T(0.707106781186547524400844362104849039);          // 1 / sqrt(2)
    const T sqrt_2_over_pi = T(0.797884560802865355879892119868763737);   // sqrt(2 / pi)
    const T normal_pdf_at_0 = T(0.398942280401432677939946059934381868);  // 1 / sqrt(2 pi)
    const T kappa = T(0.044715);  // Hendrycks & Gimpel 2016's tanh approximation
    switch (op) {
        case ELU:  // (alpha, scale, input_scale): scale x for x > 0, alpha scale (e^(input_scale x) - 1) otherwise
            return x <= T(0) ? expm1(x * p2) * (p0 * p1) : x * p1;
        case ELU_SLOPE:  // scale for x > 0, alpha scale input_scale e^(input_scale x) otherwise (and at nan)
            return x > T(0) ? p1 : exp(x * p2) * (p0 * p1 * p2);
        case LOG_SIGMOID:  // min(x, 0) - log(1 + e^-|x|)
            return nan_minimum(x, T(0)) - log1p(exp(-fabs(x)));
        case GELU:  // x Phi(x)
            return x * T(0.5) * (T(1) + erf(x * sqrt1_2));
        case GELU_SLOPE:  // Phi(x) + x phi(x)
            return T(0.5) * (T(1) + erf(x * sqrt1_2)) + x * (normal_pdf_at_0 * exp(x * x * T(-0.5)));
        case GELU_TANH:  // Hendrycks & Gimpel 2016: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
            return T(0.5) * x * (T(1) + tanh(sqrt_2_over_pi * (x + kappa * (x * x * x))));
        case GELU_TANH_SLOPE: {
            const T x_sq = x * x, t = tanh(sqrt_2_over_pi * (x + kappa * (x_sq * x)));
            return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * (sqrt_2_over_pi * (T(1) + T(3) * kappa * x_sq));
        }
        default: {  // SIGMOID_SLOPE: s (1 - s), s = sigmoid(x)
            const T s = stable_sigmoid(x);
            return (T(1) - s) * s;
        }
    }
}

template <class T>
__global__ void pointwise_map(const T* __restrict__ x, T* __restrict__ y, long long n, int op, T p0, T p1, T p2) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) y[i] = pointwise_op(op, x[i], p0, p1, p2);
}
