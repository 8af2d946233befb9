// One RMSprop step (Tieleman & Hinton 2012; torch.optim.RMSprop) on every element of a
// parameter, in place. Mapping: a grid-stride loop, one element per thread per iteration.
#include "common.cuh"
#include "optimizer_common.cuh"

// grad_avg is null unless centered, momentum_buffer null unless momentum > 0.
extern "C" __global__ void rmsprop_update(float* __restrict__ param, const float* __restrict__ grad,
                                          float* __restrict__ square_avg, float* __restrict__ grad_avg,
                                          float* __restrict__ momentum_buffer, long long n, float lr, float alpha,
                                          float eps, float weight_decay, float momentum, int maximize) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const float g = effective_grad(grad[i], param[i], weight_decay, maximize);
        const float s = square_avg[i] * alpha + g * g * (1.0f - alpha);  // E[g^2] = alpha E[g^2] + (1 - alpha) g^2
        square_avg[i] = s;
        float variance = s;
        if (grad_avg) {
            const float mean = lerp(grad_avg[i], g, 1.0f - alpha);  // E[g] = alpha E[g] + (1 - alpha) g
            grad_avg[i] = mean;
            variance = s - mean * mean;  // centered (Graves 2013, eq. 38): E[g^2] - E[g]^2
        }
        const float step = g / (sqrtf(variance) + eps);  // torch adds eps after the square root
        if (momentum_buffer) {
            const float b = momentum_buffer[i] * momentum + step;  // b = momentum * b + g / (sqrt(.) + eps)
            momentum_buffer[i] = b;
            param[i] -= lr * b;
        } else {
            param[i] += -lr * step;
        }
    }
}
