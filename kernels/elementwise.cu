// Elementwise arithmetic (ops/arithmetic.py: + - * / **) and maths (ops/unary.py: exp, log,
// sqrt, ...) on device "cuda", one kernel per arity with the operation picked by a code of the
// enums below (backends/cuda.py reads the member names from this file, so the two cannot drift
// apart); and the strided copy that moves data between layouts.
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

// The position (i0, i1, i2, i3) of the C-order index i in an array of sizes (size0, size1,
// size2, size3) (size0 is implied by the count of elements), and its offset under strides s.
struct Index4 {
    long long i0, i1, i2, i3;
};

__device__ __forceinline__ Index4 index4(long long i, long long size1, long long size2, long long size3) {
    Index4 k;
    k.i3 = i % size3;
    i /= size3;
    k.i2 = i % size2;
    i /= size2;
    k.i1 = i % size1;
    k.i0 = i / size1;
    return k;
}

__device__ __forceinline__ long long offset4(Index4 k, long long s0, long long s1, long long s2, long long s3) {
    return k.i0 * s0 + k.i1 * s1 + k.i2 * s2 + k.i3 * s3;
}

// out (size0, size1, size2, size3), C-contiguous, n elements; a[offset4(index, a strides)] is
// a's element at out's index, and so is b's. out may be a full-shape a (in place).
template <class T>
__global__ void binary_broadcast(const T* a, const T* b, T* out, long long n, int op,
                                 long long size1, long long size2, long long size3,
                                 long long a_stride0, long long a_stride1, long long a_stride2, long long a_stride3,
                                 long long b_stride0, long long b_stride1, long long b_stride2, long long b_stride3) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const Index4 k = index4(i, size1, size2, size3);
        out[i] = binary_op(op, a[offset4(k, a_stride0, a_stride1, a_stride2, a_stride3)],
                           b[offset4(k, b_stride0, b_stride1, b_stride2, b_stride3)]);
    }
}

// A copy between two strided views of shape (size0, size1, size2, size3), n elements:
// dst[dst_offset + offset4(index, dst strides)] = src[src_offset + offset4(index, src strides)]
// (src strides 0 along the dims it broadcasts). What concatenation, padding, a slice's
// gradient, a change of memory order and the BiLSTM's skew are made of (backends/cuda.py).
template <class T>
__global__ void strided_copy(const T* __restrict__ src, T* __restrict__ dst, long long n, long long src_offset,
                             long long dst_offset,
                             long long size1, long long size2, long long size3,
                             long long src_stride0, long long src_stride1, long long src_stride2, long long src_stride3,
                             long long dst_stride0, long long dst_stride1, long long dst_stride2,
                             long long dst_stride3) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const Index4 k = index4(i, size1, size2, size3);
        dst[dst_offset + offset4(k, dst_stride0, dst_stride1, dst_stride2, dst_stride3)] =
            src[src_offset + offset4(k, src_stride0, src_stride1, src_stride2, src_stride3)];
    }
}
