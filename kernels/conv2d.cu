// Direct 2-D convolution forward (torch.nn.functional.conv2d with groups = 1) for small
// kernels, without the column matrix: y[n, o, oh, ow] = bias[o] + sum over (c, i, j) of
// weight[o, c, i, j] * x_padded[n, c, oh * sh + i * dh, ow * sw + j * dw]. x, weight and y
// are contiguous NCHW / OIHW arrays of T (float or double); bias may be null.
//
// Mapping: grid (ceil(Ho * Wo / 256), ceil(O / 8), N), 256 threads per block. Thread t of a
// block computes output pixel blockIdx.x * 256 + t of sample blockIdx.z for the 8 output
// channels blockIdx.y * 8 ... + 7, so each input value it loads serves 8 multiply-adds.
// Dynamic shared memory holds the weights of those 8 output channels for a slice of
// `channels_per_tile` input channels (8 * channels_per_tile * kh * kw floats, sized by the
// caller); the block walks the input channels one slice at a time.

#define OUT_CHANNELS_PER_BLOCK 8

template <class T>
__global__ void __launch_bounds__(256) conv2d_direct(
    const T* __restrict__ x, const T* __restrict__ weight, const T* __restrict__ bias,
    T* __restrict__ y, int C, int H, int W, int O, int kh, int kw, int sh, int sw, int pad_top, int pad_left,
    int dh, int dw, int Ho, int Wo, int channels_per_tile) {
    // [8][channels_per_tile][kh][kw]; declared as double, aligned for either T (CUDA wants one
    // type for an extern __shared__ name across a template's instances)
    extern __shared__ double dynamic_shared_words[];
    T* const weight_tile = reinterpret_cast<T*>(dynamic_shared_words);
    const int pixel = blockIdx.x * blockDim.x + threadIdx.x;
    const int o0 = blockIdx.y * OUT_CHANNELS_PER_BLOCK, n = blockIdx.z;
    const int oh = pixel / Wo, ow = pixel % Wo;
    const int taps = kh * kw;
    T acc[OUT_CHANNELS_PER_BLOCK] = {};
    for (int c0 = 0; c0 < C; c0 += channels_per_tile) {
        const int channels = min(channels_per_tile, C - c0);
        // Cooperative load of weight[o0 + t, c0 + c, i, j] into weight_tile[t][c][i][j] (0 past O).
        const int tile_size = OUT_CHANNELS_PER_BLOCK * channels * taps;
        for (int e = threadIdx.x; e < tile_size; e += blockDim.x) {
            const int t = e / (channels * taps), rest = e % (channels * taps);
            const int o = o0 + t;
            weight_tile[e] = o < O ? weight[((long long)o * C + c0) * taps + rest] : T(0);
        }
        __syncthreads();
        if (pixel < Ho * Wo) {
            for (int c = 0; c < channels; ++c) {
                const T* plane = x + ((long long)n * C + c0 + c) * H * W;
                for (int i = 0; i < kh; ++i) {
                    const int h = oh * sh - pad_top + i * dh;
                    if (h < 0 || h >= H) continue;
                    for (int j = 0; j < kw; ++j) {
                        const int w = ow * sw - pad_left + j * dw;
                        if (w < 0 || w >= W) continue;
                        const T v = plane[h * W + w];
                        const T* taps_of_c = weight_tile + (c * kh + i) * kw + j;
#pragma unroll
                        for (int t = 0; t < OUT_CHANNELS_PER_BLOCK; ++t) acc[t] += v * taps_of_c[t * channels * taps];
                    }
                }
            }
        }
        __syncthreads();
    }
    if (pixel >= Ho * Wo) return;
    for (int t = 0; t < OUT_CHANNELS_PER_BLOCK && o0 + t < O; ++t) {
        const int o = o0 + t;
        y[(((long long)n * O + o) * Ho + oh) * Wo + ow] = acc[t] + (bias ? bias[o] : T(0));
    }
}
