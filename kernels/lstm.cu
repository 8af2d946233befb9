// The LSTM cell's pointwise part (scratchgen/ops/lstm.py) in one pass: from the gate
// pre-activations gates (rows, 4 * hidden), in torch's order (i, f, g, o), and the cell state
// c (rows, hidden), writes out = [h', c'] (2, rows, hidden):
//     c' = sigmoid(f) * c + sigmoid(i) * tanh(g),   h' = sigmoid(o) * tanh(c').
// Its backward is written in Tensor ops (ops/lstm.py), so it needs no kernel of its own.
// Mapping: a grid-stride loop, one (row, unit) pair per thread per iteration.
#include "common.cuh"

// 1 / (1 + e^-x) without overflow: e = e^-|x| lies in (0, 1] (as activations.cu).
template <class T>
__device__ __forceinline__ T lstm_sigmoid(T x) {
    const T e = exp(-fabs(x));
    return x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

template <class T>
__global__ void lstm_cell_forward(const T* __restrict__ gates, const T* __restrict__ c,
                                  T* __restrict__ out, long long rows, long long hidden) {
    const long long n = rows * hidden;
    for (long long k = grid_thread_index(); k < n; k += grid_thread_count()) {
        const long long row = k / hidden, unit = k - row * hidden;
        const T* g = gates + row * 4 * hidden + unit;
        const T input_gate = lstm_sigmoid(g[0]);
        const T forget_gate = lstm_sigmoid(g[hidden]);
        const T cell_gate = tanh(g[2 * hidden]);
        const T output_gate = lstm_sigmoid(g[3 * hidden]);
        const T c_new = forget_gate * c[k] + input_gate * cell_gate;
        out[k] = output_gate * tanh(c_new);
        out[n + k] = c_new;
    }
}
