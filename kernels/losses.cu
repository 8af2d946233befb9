// The losses' elementwise parts, each fused into one pass (ops/loss_classification.py).
// Mapping: a grid-stride loop, one element per thread per iteration.
#include "common.cuh"

// Binary cross-entropy with logits, per element: (1 - t) x + w (max(-x, 0) + log(1 + e^-|x|)),
// the second term being -log sigmoid(x) without exp of a large x; w = 1 + (pos_weight - 1) t,
// pos_weight (one per class of the last dim, `classes` of them) or null for w = 1. Added in
// torch's order, so infinite logits give torch's nan and inf.
template <class T>
__global__ void bce_with_logits_forward(const T* __restrict__ x, const T* __restrict__ t,
                                        const T* __restrict__ pos_weight, T* __restrict__ loss, long long n,
                                        long long classes) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const T v = x[i], negative = -v;
        T minus_log_sigmoid = (negative > T(0) || negative != negative ? negative : T(0)) + log1p(exp(-fabs(v)));
        if (pos_weight != nullptr) minus_log_sigmoid *= (pos_weight[i % classes] - T(1)) * t[i] + T(1);
        loss[i] = (T(1) - t[i]) * v + minus_log_sigmoid;
    }
}
