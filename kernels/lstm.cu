// The LSTM cell's pointwise part (scratchgen/ops/lstm.py) in one pass: from the gate
// pre-activations gates (rows, 4 * hidden), in torch's order (i, f, g, o), and the cell state
// c (rows, hidden), writes out = [h', c'] (2, rows, hidden):
//     c' = sigmoid(f) * c + sigmoid(i) * tanh(g),   h' = sigmoid(o) * tanh(c').
// Its backward is written in Tensor ops (ops/lstm.py), so it needs no kernel of its own.
// Mapping: a grid-stride loop, one (row, unit) pair per thread per iteration.
#include "common.cuh"

// 1 / (1 + e^-x) without overflow: e = e^-|x| lies in (0, 1] (as activations.cu).
__device__ __forceinline__ float lstm_sigmoid(float x) {
    const float e = expf(-fabsf(x));
    return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

extern "C" __global__ void lstm_cell_forward(const float* __restrict__ gates, const float* __restrict__ c,
                                             float* __restrict__ out, long long rows, long long hidden) {
    const long long n = rows * hidden;
    for (long long k = grid_thread_index(); k < n; k += grid_thread_count()) {
        const long long row = k / hidden, unit = k - row * hidden;
        const float* g = gates + row * 4 * hidden + unit;
        const float input_gate = lstm_sigmoid(g[0]);
        const float forget_gate = lstm_sigmoid(g[hidden]);
        const float cell_gate = tanhf(g[2 * hidden]);
        const float output_gate = lstm_sigmoid(g[3 * hidden]);
        const float c_new = forget_gate * c[k] + input_gate * cell_gate;
        out[k] = output_gate * tanhf(c_new);
        out[n + k] = c_new;
    }
}
