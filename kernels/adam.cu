// One Adam step (Kingma & Ba 2014, Algorithm 1; torch.optim.Adam) on every element of a
// parameter, in place, with its moment buffers. The host passes the bias corrections folded
// into step_size = lr / (1 - beta1^t) and bias_correction2_sqrt = sqrt(1 - beta2^t).
// Mapping: a grid-stride loop, one element per thread per iteration.
#include "common.cuh"
#include "optimizer_common.cuh"

// max_exp_avg_sq is null unless amsgrad (Reddi et al. 2018: normalise by the running maximum of v).
template <class T>
__global__ void adam_update(T* __restrict__ param, const T* __restrict__ grad,
                            T* __restrict__ exp_avg, T* __restrict__ exp_avg_sq,
                            T* __restrict__ max_exp_avg_sq, long long n, T step_size,
                            T bias_correction2_sqrt, T beta1, T beta2, T eps,
                            T weight_decay, int maximize) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const T g = effective_grad(grad[i], param[i], weight_decay, maximize);
        const T m = lerp(exp_avg[i], g, T(1) - beta1);     // m = beta1 * m + (1 - beta1) * g
        const T v = exp_avg_sq[i] * beta2 + g * g * (T(1) - beta2);  // v = beta2 * v + (1 - beta2) * g^2
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        T second_moment = v;
        if (max_exp_avg_sq) {
            second_moment = fmax(max_exp_avg_sq[i], v);
            max_exp_avg_sq[i] = second_moment;
        }
        // m_hat / (sqrt(v_hat) + eps) with the corrections folded as torch does
        const T denom = sqrt(second_moment) / bias_correction2_sqrt + eps;
        param[i] += -step_size * (m / denom);
    }
}
