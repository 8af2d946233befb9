// One RMSprop step (Tieleman & Hinton 2012; torch.optim.RMSprop) on every element of a
// parameter, in place. Mapping: a grid-stride loop, one element per thread per iteration.
#include "common.cuh"
#include "optimizer_common.cuh"

// grad_avg is null unless centered, momentum_buffer null unless momentum > 0.
template <class T>
__global__ void rmsprop_update(T* __restrict__ param, const T* __restrict__ grad,
                               T* __restrict__ square_avg, T* __restrict__ grad_avg,
                               T* __restrict__ momentum_buffer, long long n, T lr, T alpha,
                               T eps, T weight_decay, T momentum, int maximize) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const T g = effective_grad(grad[i], param[i], weight_decay, maximize);
        const T s = square_avg[i] * alpha + g * g * (T(1) - alpha);  // E[g^2] = alpha E[g^2] + (1 - alpha) g^2
        square_avg[i] = s;
        T variance = s;
        if (grad_avg) {
            const T mean = lerp(grad_avg[i], g, T(1) - alpha);  // E[g] = alpha E[g] + (1 - alpha) g
            grad_avg[i] = mean;
            variance = s - mean * mean;  // centered (Graves 2013, eq. 38): E[g^2] - E[g]^2
        }
        const T step = g / (sqrt(variance) + eps);  // torch adds eps after the square root
        if (momentum_buffer) {
            const T b = momentum_buffer[i] * momentum + step;  // b = momentum * b + g / (sqrt(.) + eps)
            momentum_buffer[i] = b;
            param[i] -= lr * b;
        } else {
            param[i] += -lr * step;
        }
    }
}
