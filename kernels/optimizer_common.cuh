// Pieces shared by the fused optimizer updates (sgd.cu, adam.cu, rmsprop.cu), which follow
// torch.optim's single-tensor implementations in their order of operations.
#pragma once

// The gradient an update follows: negated to maximize, plus the L2 term weight_decay * param.
template <class T>
__device__ __forceinline__ T effective_grad(T grad, T param, T weight_decay, int maximize) {
    const T g = maximize ? -grad : grad;
    return weight_decay != T(0) ? g + weight_decay * param : g;
}

// start + weight * (end - start): torch.lerp's formula, as backends/fused_optimizers.py evaluates it.
template <class T>
__device__ __forceinline__ T lerp(T start, T end, T weight) {
    return start + weight * (end - start);
}
