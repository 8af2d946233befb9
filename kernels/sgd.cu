// One SGD step (torch.optim.SGD) on every element of a parameter, in place.
// Mapping: a grid-stride loop, one element per thread per iteration.
#include "common.cuh"
#include "optimizer_common.cuh"

// momentum_buffer is null without momentum; on the first step with momentum (first_step = 1)
// it is set to the gradient, as torch does, instead of b = momentum * b + (1 - dampening) * g.
// Nesterov (Sutskever et al. 2013, as torch) steps along g + momentum * b instead of b.
extern "C" __global__ void sgd_update(float* __restrict__ param, const float* __restrict__ grad,
                                      float* __restrict__ momentum_buffer, long long n, float lr, float momentum,
                                      float dampening, float weight_decay, int nesterov, int maximize,
                                      int first_step) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        float g = effective_grad(grad[i], param[i], weight_decay, maximize);
        if (momentum_buffer) {
            const float b = first_step ? g : momentum * momentum_buffer[i] + (1.0f - dampening) * g;
            momentum_buffer[i] = b;
            g = nesterov ? g + momentum * b : b;
        }
        param[i] -= lr * g;
    }
}
