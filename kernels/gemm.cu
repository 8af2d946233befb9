// Tiled GEMM: C = op(A) @ op(B) for row-major C (M x N) of T = float or double, where op(A)
// (M x K) is A or, with transpose_a, the transpose of A stored as K x M (likewise op(B), K x N),
// so that a backward pass multiplies by a transpose without copying it. A batch of products
// runs at once: blockIdx.z picks the product, at offsets z * batch_stride_a of A (0: every
// product shares one A), z * batch_stride_b of B and z * M * N of C.
//
// Mapping: one block of 256 threads computes a 128 x 128 tile of C. Its threads form a 16 x 16
// grid; thread (ty, tx) accumulates an 8 x 8 micro-tile of C in registers: rows
// {ty * 4 + r, 64 + ty * 4 + r} and columns {tx * 4 + q, 64 + tx * 4 + q} for r, q < 4 (two
// groups of 4, so that the 16 threads of a half-warp read 16 consecutive groups of four from
// shared memory, without bank conflicts in float). K is consumed 8 at a time:
//   a_tile[k][m]: the 128 x 8 slice of A, stored transposed (k major) so that a thread's
//                 4 consecutive rows are one Quad read; rows padded by 4 values so that the
//                 transposing stores of a warp fall into different banks.
//   b_tile[k][n]: the 8 x 128 slice of B as it is laid out in memory.
// Each slice is loaded cooperatively, one Quad per thread for each of A and B; values past
// the edges of A and B load as 0, so M, N and K need not be multiples of the tile.

#define TILE_M 128
#define TILE_N 128
#define TILE_K 8
#define A_TILE_STRIDE (TILE_M + 4)

// Four consecutive values of T, loaded and stored as one vector (float4 for float).
template <class T>
struct __align__(4 * sizeof(T)) Quad {
    T x, y, z, w;
};

// Four consecutive values m(row, col ... col + 3) of a rows x cols matrix whose element (r, c)
// is m[r * cols + c], or m[c * rows + r] when the matrix is stored transposed; 0 outside it:
// one vector load when the four are contiguous, inside and aligned, else four guarded loads.
template <class T>
__device__ __forceinline__ Quad<T> load_four(const T* m, int row, int col, int rows, int cols, int transposed) {
    const long long row_stride = transposed ? 1 : cols, col_stride = transposed ? rows : 1;
    const T* p = m + row * row_stride + col * col_stride;
    if (!transposed && row < rows && col + 3 < cols && ((unsigned long long)p % sizeof(Quad<T>)) == 0)
        return *reinterpret_cast<const Quad<T>*>(p);
    Quad<T> v = {T(0), T(0), T(0), T(0)};
    if (row < rows) {
        if (col < cols) v.x = p[0];
        if (col + 1 < cols) v.y = p[col_stride];
        if (col + 2 < cols) v.z = p[2 * col_stride];
        if (col + 3 < cols) v.w = p[3 * col_stride];
    }
    return v;
}

// Offset inside the 128-wide tile of micro-tile element e (0..7) of thread coordinate t (0..15).
__device__ __forceinline__ int micro_offset(int t, int e) {
    return (e / 4) * 64 + t * 4 + e % 4;
}

template <class T>
__global__ void __launch_bounds__(256) gemm_tiled(
    const T* __restrict__ A, const T* __restrict__ B, T* __restrict__ C, int M, int N, int K, int transpose_a,
    int transpose_b, long long batch_stride_a, long long batch_stride_b) {
    A += blockIdx.z * batch_stride_a;
    B += blockIdx.z * batch_stride_b;
    C += blockIdx.z * (long long)M * N;
    __shared__ __align__(32) T a_tile[TILE_K][A_TILE_STRIDE];
    __shared__ __align__(32) T b_tile[TILE_K][TILE_N];
    const int tid = threadIdx.x, ty = tid / 16, tx = tid % 16;
    const int row0 = blockIdx.y * TILE_M, col0 = blockIdx.x * TILE_N;
    // The Quad each thread loads: A row tid / 2, columns (tid % 2) * 4; B row tid / 32, columns (tid % 32) * 4.
    const int a_row = tid / 2, a_col = (tid % 2) * 4, b_row = tid / 32, b_col = (tid % 32) * 4;
    T acc[8][8] = {};
    T a_frag[8], b_frag[8];
    for (int k0 = 0; k0 < K; k0 += TILE_K) {
        const Quad<T> a = load_four(A, row0 + a_row, k0 + a_col, M, K, transpose_a);
        a_tile[a_col + 0][a_row] = a.x;
        a_tile[a_col + 1][a_row] = a.y;
        a_tile[a_col + 2][a_row] = a.z;
        a_tile[a_col + 3][a_row] = a.w;
        *reinterpret_cast<Quad<T>*>(&b_tile[b_row][b_col]) =
            load_four(B, k0 + b_row, col0 + b_col, K, N, transpose_b);
        __syncthreads();
#pragma unroll
        for (int k = 0; k < TILE_K; ++k) {
#pragma unroll
            for (int e = 0; e < 8; ++e) {
                a_frag[e] = a_tile[k][micro_offset(ty, e)];
                b_frag[e] = b_tile[k][micro_offset(tx, e)];
            }
#pragma unroll
            for (int r = 0; r < 8; ++r)
#pragma unroll
                for (int q = 0; q < 8; ++q) acc[r][q] += a_frag[r] * b_frag[q];
        }
        __syncthreads();
    }
    for (int r = 0; r < 8; ++r) {
        const int row = row0 + micro_offset(ty, r);
        if (row >= M) continue;
        for (int q = 0; q < 8; ++q) {
            const int col = col0 + micro_offset(tx, q);
            if (col < N) C[(long long)row * N + col] = acc[r][q];
        }
    }
}
