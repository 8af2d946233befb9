// im2col and its adjoint col2im, in the column layout of scratchgen/backends/im2col.py:
//
//     cols[(c, i, j), (oh, ow, n)] = x_padded[n, c, oh * sh + i * dh, ow * sw + j * dw]
//
// a (C * kh * kw, Ho * Wo * N) matrix, so that a convolution is the GEMM weight @ cols. The
// image is read and written in (C, H, W, N) order ("batch last"), the order the NumPy backend
// keeps between layers: then the sample index n is the fastest on both sides and neighbouring
// threads touch neighbouring addresses. A 1-D convolution is the 2-D case with H = kh = 1.

// One block row of the grid per matrix row r = (c, i, j): grid (C * kh * kw, chunks), 1-D blocks.
// The threads of the chunks stride over the row's Ho * Wo * N columns (a grid-stride loop in y).
template <class T>
__global__ void im2col(const T* __restrict__ image, T* __restrict__ cols, int N, int H, int W,
                       int kh, int kw, int sh, int sw, int pad_top, int pad_left, int dh, int dw, int Ho,
                       int Wo) {
    const int r = blockIdx.x;
    const int c = r / (kh * kw), i = r / kw % kh, j = r % kw;
    const int width = Ho * Wo * N;
    const T* channel = image + (long long)c * H * W * N;
    T* out = cols + (long long)r * width;
    for (int col = blockIdx.y * blockDim.x + threadIdx.x; col < width; col += gridDim.y * blockDim.x) {
        const int n = col % N, ow = col / N % Wo, oh = col / N / Wo;
        const int h = oh * sh - pad_top + i * dh, w = ow * sw - pad_left + j * dw;
        const bool inside = h >= 0 && h < H && w >= 0 && w < W;
        out[col] = inside ? channel[((long long)h * W + w) * N + n] : T(0);
    }
}

// image[c, h, w, n] = the sum of the entries of cols that im2col read from there: for each
// kernel offset (i, j), the output position (oh, ow) with oh * sh - pad_top + i * dh = h and
// ow * sw - pad_left + j * dw = w, if it is on the grid. A gather, so every image element is
// written once by one thread (no atomics, deterministic).
// Mapping: grid (C, chunks), 1-D blocks; the threads of channel c stride over its H * W * N values.
template <class T>
__global__ void col2im(const T* __restrict__ cols, T* __restrict__ image, int N, int H, int W,
                       int kh, int kw, int sh, int sw, int pad_top, int pad_left, int dh, int dw, int Ho,
                       int Wo) {
    const int c = blockIdx.x;
    const int plane = H * W * N, width = Ho * Wo * N;
    for (int index = blockIdx.y * blockDim.x + threadIdx.x; index < plane; index += gridDim.y * blockDim.x) {
        const int n = index % N, w = index / N % W, h = index / N / W;
        T total = T(0);
        for (int i = 0; i < kh; ++i) {
            const int row_offset = h + pad_top - i * dh;  // = oh * sh
            if (row_offset < 0 || row_offset % sh != 0 || row_offset / sh >= Ho) continue;
            for (int j = 0; j < kw; ++j) {
                const int col_offset = w + pad_left - j * dw;  // = ow * sw
                if (col_offset < 0 || col_offset % sw != 0 || col_offset / sw >= Wo) continue;
                const long long r = ((long long)c * kh + i) * kw + j;
                total += cols[r * width + ((long long)(row_offset / sh) * Wo + col_offset / sw) * N + n];
            }
        }
        image[(long long)c * plane + index] = total;
    }
}
