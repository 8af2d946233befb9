// Elementwise arithmetic (ops/arithmetic.py: + - * / **) and maths (ops/unary.py: exp, log, sqrt,
// ...) on device "cuda": one kernel per arity, the operation picked by a code of the enums below
// (backends/cuda.py reads the member names from this file, so the two cannot drift apart).
// Mapping: a grid-stride loop, one output element per thread per iteration. Same-shape operands
// need no index arithmetic; broadcast ones are read through strides (0 along a broadcast dim)
// over the output's shape collapsed to at most 4 dims (backends/cuda.py collapses it).
#include "common.cuh"

enum UnaryOp { NEG, EXP, LOG, LOG1P, EXPM1, SQRT, RSQRT, RECIPROCAL, ABS, SIN, COS, POW_SCALAR };

enum BinaryOp { ADD, SUB, MUL, DIV, POW };

// x ** p for a number p, with torch's special exponents (pow_tensor_scalar): 0.5 is sqrt, -0.5
// rsqrt ((-0) ** -0.5 = -inf, not pow's +inf), -1 the reciprocal, 2, 3 and -2 products.
template <class T>
__device__ __forceinline__ T power_of_number(T x, T p) {
    if (p == T(0.5)) return sqrt(x);
    if (p == T(-0.5)) return T(1) / sqrt(x);
    if (p == T(-1)) return T(1) / x;
    if (p == T(2)) return x * x;
    if (p == T(3)) return x * x * x;
    if (p == T(-2)) return T(1) / (x * x);
    return pow(x, p);
}

// `parameter` is the exponent of POW_SCALAR; the other operations ignore it.
template <class T>
__device__ __forceinline__ T unary_op(int op, T x, T parameter) {
    switch (op) {
        case NEG: return -x;
        case EXP: return exp(x);
        case LOG: return log(x);
        case LOG1P: return log1p(x);
        case EXPM1: return expm1(x);
        case SQRT: return sqrt(x);
        case RSQRT: return T(1) / sqrt(x);
        case RECIPROCAL: return T(1) / x;
        case ABS: return fabs(x);
        case SIN: return sin(x);
        case COS: return cos(x);
        default: return power_of_number(x, parameter);  // POW_SCALAR
    }
}

template <class T>
__device__ __forceinline__ T binary_op(int op, T a, T b) {
    switch (op) {
        case ADD: return a + b;
        case SUB: return a - b;
        case MUL: return a * b;
        case DIV: return a / b;
        default: return pow(a, b);  // POW: C's pow is torch's for tensor exponents
    }
}

// y may be x (an in-place update): each element is read before it is written, by one thread.
template <class T>
__global__ void unary_map(const T* x, T* y, long long n, int op, T parameter) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) y[i] = unary_op(op, x[i], parameter);
}

// a, b and out of one shape; out may be a or b (in place).
template <class T>
__global__ void binary_map(const T* a, const T* b, T* out, long long n, int op) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) out[i] = binary_op(op, a[i], b[i]);
}

// out (size0, size1, size2, size3), C-contiguous, n elements; a[i0 * a_stride0 + ... + i3 * a_stride3]
// is a's element at out's index (i0, i1, i2, i3), and so is b's. out may be a full-shape a (in place).
template <class T>
__global__ void binary_broadcast(const T* a, const T* b, T* out, long long n, int op,
                                 long long size1, long long size2, long long size3,
                                 long long a_stride0, long long a_stride1, long long a_stride2, long long a_stride3,
                                 long long b_stride0, long long b_stride1, long long b_stride2, long long b_stride3) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        long long rest = i;
        const long long i3 = rest % size3;
        rest /= size3;
        const long long i2 = rest % size2;
        rest /= size2;
        const long long i1 = rest % size1, i0 = rest / size1;
        const T a_value = a[i0 * a_stride0 + i1 * a_stride1 + i2 * a_stride2 + i3 * a_stride3];
        const T b_value = b[i0 * b_stride0 + i1 * b_stride1 + i2 * b_stride2 + i3 * b_stride3];
        out[i] = binary_op(op, a_value, b_value);
    }
}
