// One SGD step (torch.optim.SGD) on every element of a parameter, in place.
// Mapping: a grid-stride loop, one element per thread per iteration.
#include "common.cuh"
#include "optimizer_common.cuh"

// momentum_buffer is null without momentum; on the first step with momentum (first_step = 1)
// it is set to the gradient, as torch does, instead of b = momentum * b + (1 - dampening) * g.
// Nesterov (Sutskever et al. 2013, as torch) steps along g + momentum * b instead of b.
template <class T>
__global__ void sgd_update(T* __restrict__ param, const T* __restrict__ grad,
                           T* __restrict__ momentum_buffer, long long n, T lr, T momentum,
                           T dampening, T weight_decay, int nesterov, int maximize,
                           int first_step) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        T g = effective_grad(grad[i], param[i], weight_decay, maximize);
        if (momentum_buffer) {
            const T b = first_step ? g : momentum * momentum_buffer[i] + (T(1) - dampening) * g;
            momentum_buffer[i] = b;
            g = nesterov ? g + momentum * b : b;
        }
        param[i] -= lr * g;
    }
}
