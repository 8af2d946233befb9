// Pieces shared by the fused optimizer updates (sgd.cu, adam.cu, rmsprop.cu), which follow
// torch.optim's single-tensor implementations in their order of operations.
#pragma once

// The gradient an update follows: negated to maximize, plus the L2 term weight_decay * param.
__device__ __forceinline__ float effective_grad(float grad, float param, float weight_decay, int maximize) {
    const float g = maximize ? -grad : grad;
    return weight_decay != 0.0f ? g + weight_decay * param : g;
}

// start + weight * (end - start): torch.lerp's formula, as backends/fused_optimizers.py evaluates it.
__device__ __forceinline__ float lerp(float start, float end, float weight) {
    return start + weight * (end - start);
}
