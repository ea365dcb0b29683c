/* src/nn/gemm.c — prism's own dense-layer matrix products, blocked for the shapes its networks
 * use (widths 64-512, batch 32, heads of 2-918 outputs, conv trunks flattening to 1024/1600):
 * the forward y = x w^T + b with the ReLU fused into the store, the input gradient dx = dy w,
 * the weight gradient dw (+)= dy^T x (inner dimension = the batch) and the batch-1
 * matrix-vector product used for acting.
 *
 * Fixed reduction order, whatever the instruction set. Each output of the three batched
 * products is one chain of fused multiply-adds over its inner index in ascending order (the
 * forward's chain starts at the bias); the vector code runs many such chains side by side, one
 * per lane, and never splits one. The matrix-vector product keeps 16 partial sums (lane j takes
 * the inputs k = j mod 16) and adds them in a fixed halving tree. So the AVX-512, AVX2+FMA and
 * portable builds give the same bits (the portable form uses fmaf, an exact fused operation),
 * and nothing depends on a BLAS library, its kernel choice or a thread count.
 *
 * The instruction set is chosen at build time from the compiler's target (-march, which the
 * Makefile sets to native like every other kernel in the tree): the three paths compute the same
 * bits, so a run-time switch would only add a dispatch layer. The portable forms are also
 * compiled on every machine, as the reference the vector paths are tested against bit for bit.
 *
 * Not here: the naive reference forms (kernels.c, plain multiply-then-add loops), conv layers,
 * the AVX-512 small-shape kernels (kernels_small.c). No function allocates. */
#include "nn_internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

/* ---- portable forms: the definition of every result ------------------------------------------ */

void nn_gemm_forward_portable(float *y, const float *x, const float *w, const float *b, int B,
                              int In, int O, int relu) {
    for (int n = 0; n < B; n++)
        for (int o = 0; o < O; o++) {
            const float *xr = x + (size_t)n * In, *wr = w + (size_t)o * In;
            float s = b[o];
            for (int k = 0; k < In; k++) s = fmaf(xr[k], wr[k], s);
            y[(size_t)n * O + o] = relu ? (!(s <= 0.0f) ? s : 0.0f) : s;
        }
}

/* dx[n][i] over columns [i0, In): the tail the vector path leaves. */
static void dgrad_cols(float *dx, const float *dy, const float *w, int B, int In, int O, int i0) {
    for (int n = 0; n < B; n++)
        for (int i = i0; i < In; i++) {
            float s = 0;
            for (int o = 0; o < O; o++) s = fmaf(dy[(size_t)n * O + o], w[(size_t)o * In + i], s);
            dx[(size_t)n * In + i] = s;
        }
}

/* dw[o][i] over columns [i0, In): the batch in chunks of 32 samples, each chunk's chain from
 * zero, then stored (the first chunk, when overwriting) or added. */
static void wgrad_cols(float *dw, const float *dy, const float *x, int B, int In, int O,
                       int overwrite, int i0) {
    for (int c0 = 0; c0 < B; c0 += 32) {
        const int c1 = B - c0 < 32 ? B : c0 + 32;
        for (int o = 0; o < O; o++)
            for (int i = i0; i < In; i++) {
                float s = 0;
                for (int n = c0; n < c1; n++)
                    s = fmaf(dy[(size_t)n * O + o], x[(size_t)n * In + i], s);
                float *p = dw + (size_t)o * In + i;
                *p = overwrite && c0 == 0 ? s : *p + s;
            }
    }
}

void nn_gemm_dgrad_portable(float *dx, const float *dy, const float *w, int B, int In, int O) {
    dgrad_cols(dx, dy, w, B, In, O, 0);
}

void nn_gemm_wgrad_portable(float *dw, const float *dy, const float *x, int B, int In, int O,
                            int overwrite) {
    wgrad_cols(dw, dy, x, B, In, O, overwrite, 0);
}

/* The 16 partial sums of the matrix-vector product, added as _mm512_reduce_add_ps does:
 * a[j] + a[j + 8], then + [j + 4], then + [j + 2], then the last two. */
static float reduce16(const float *a) {
    float s8[8], s4[4], s2[2];
    for (int j = 0; j < 8; j++) s8[j] = a[j] + a[j + 8];
    for (int j = 0; j < 4; j++) s4[j] = s8[j] + s8[j + 4];
    for (int j = 0; j < 2; j++) s2[j] = s4[j] + s4[j + 2];
    return s2[0] + s2[1];
}

static void matvec_rows_portable(float *y, const float *w, const float *x, const float *b, int In,
                                 int r0, int r1) {
    for (int o = r0; o < r1; o++) {
        const float *wr = w + (size_t)o * In;
        float a[16] = {0};
        for (int k0 = 0; k0 < In; k0 += 16)
            for (int j = 0; j < 16; j++) {
                /* past the end the vector forms load zeros: fma(0, 0, a) */
                int k = k0 + j;
                a[j] = k < In ? fmaf(wr[k], x[k], a[j]) : fmaf(0.0f, 0.0f, a[j]);
            }
        y[o] = b[o] + reduce16(a);
    }
}

void nn_matvec_portable(float *y, const float *x, const float *w, const float *b, int In, int O) {
    matvec_rows_portable(y, w, x, b, In, 0, O);
}

/* ---- vector forms ------------------------------------------------------------------------------
 */

#if defined(__AVX512F__)
#define VL 16 /* floats per vector */
#define MR 12 /* rows per register tile: MR x 2 accumulators, 24 of 32 zmm */
typedef __m512 vec;
static inline vec v_load(const float *p) {
    return _mm512_loadu_ps(p);
}
static inline void v_store(float *p, vec v) {
    _mm512_storeu_ps(p, v);
}
static inline vec v_set1(float a) {
    return _mm512_set1_ps(a);
}
static inline vec v_zero(void) {
    return _mm512_setzero_ps();
}
static inline vec v_fma(vec a, vec b, vec c) {
    return _mm512_fmadd_ps(a, b, c);
}
static inline vec v_add(vec a, vec b) {
    return _mm512_add_ps(a, b);
}
/* !(v <= 0) ? v : 0, as nn_relu: NaN passes, -0 becomes +0 */
static inline vec v_relu(vec v) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NLE_UQ), v);
}
#define GEMM_SIMD 1
#elif defined(__AVX2__) && defined(__FMA__)
#define VL        8
#define MR        6 /* 6 x 2 accumulators, 12 of 16 ymm */
typedef __m256 vec;
static inline vec v_load(const float *p) {
    return _mm256_loadu_ps(p);
}
static inline void v_store(float *p, vec v) {
    _mm256_storeu_ps(p, v);
}
static inline vec v_set1(float a) {
    return _mm256_set1_ps(a);
}
static inline vec v_zero(void) {
    return _mm256_setzero_ps();
}
static inline vec v_fma(vec a, vec b, vec c) {
    return _mm256_fmadd_ps(a, b, c);
}
static inline vec v_add(vec a, vec b) {
    return _mm256_add_ps(a, b);
}
static inline vec v_relu(vec v) {
    return _mm256_andnot_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LE_OQ), v);
}
#define GEMM_SIMD 1
#endif

#if defined(GEMM_SIMD)
#define NT            (2 * VL) /* columns of a register tile: two vectors */
#define OB            128      /* outputs per block of the input gradient */
#define IB            128 /* input columns per block of the weight gradient (a multiple of NT) */
#define ALWAYS_INLINE inline __attribute__((always_inline))

/* Calls CALL(m) with m a constant equal to rows (1..MR), so that each tile kernel is compiled
 * with its row count known: its accumulators then stay in registers (with a variable count GCC
 * keeps the array in memory). */
#if MR == 12
#define ROWS_SWITCH(rows, CALL)                                                                    \
    switch (rows) {                                                                                \
    case 1:                                                                                        \
        CALL(1);                                                                                   \
        break;                                                                                     \
    case 2:                                                                                        \
        CALL(2);                                                                                   \
        break;                                                                                     \
    case 3:                                                                                        \
        CALL(3);                                                                                   \
        break;                                                                                     \
    case 4:                                                                                        \
        CALL(4);                                                                                   \
        break;                                                                                     \
    case 5:                                                                                        \
        CALL(5);                                                                                   \
        break;                                                                                     \
    case 6:                                                                                        \
        CALL(6);                                                                                   \
        break;                                                                                     \
    case 7:                                                                                        \
        CALL(7);                                                                                   \
        break;                                                                                     \
    case 8:                                                                                        \
        CALL(8);                                                                                   \
        break;                                                                                     \
    case 9:                                                                                        \
        CALL(9);                                                                                   \
        break;                                                                                     \
    case 10:                                                                                       \
        CALL(10);                                                                                  \
        break;                                                                                     \
    case 11:                                                                                       \
        CALL(11);                                                                                  \
        break;                                                                                     \
    default:                                                                                       \
        CALL(12);                                                                                  \
        break;                                                                                     \
    }
#else
#define ROWS_SWITCH(rows, CALL)                                                                    \
    switch (rows) {                                                                                \
    case 1:                                                                                        \
        CALL(1);                                                                                   \
        break;                                                                                     \
    case 2:                                                                                        \
        CALL(2);                                                                                   \
        break;                                                                                     \
    case 3:                                                                                        \
        CALL(3);                                                                                   \
        break;                                                                                     \
    case 4:                                                                                        \
        CALL(4);                                                                                   \
        break;                                                                                     \
    case 5:                                                                                        \
        CALL(5);                                                                                   \
        break;                                                                                     \
    default:                                                                                       \
        CALL(6);                                                                                   \
        break;                                                                                     \
    }
#endif

/* xt (In, NT) = rows [n0, n0 + nt) of x (B, In) transposed, zero past nt: the batch becomes
 * the vector dimension, so each weight is broadcast once and meets NT samples. */
static void pack_xt(float *restrict xt, const float *restrict x, int n0, int nt, int In) {
    if (nt < NT) memset(xt, 0, sizeof(float) * (size_t)In * NT);
    for (int j = 0; j < nt; j++) {
        const float *xr = x + (size_t)(n0 + j) * In;
        for (int k = 0; k < In; k++) xt[(size_t)k * NT + j] = xr[k];
    }
}

/* y[n0 + j][o0 + r] for r < mr, j < nt: bias, then In FMAs in order, then ReLU on the store. */
static ALWAYS_INLINE void forward_tile(float *y, const float *xt, const float *w, const float *b,
                                       int n0, int nt, int o0, const int mr, int In, int O,
                                       int relu) {
    vec a0[MR], a1[MR];
    const float *wr = w + (size_t)o0 * In;
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++) a0[r] = a1[r] = v_set1(b[o0 + r]);
    for (int k = 0; k < In; k++) {
        const vec x0 = v_load(xt + (size_t)k * NT), x1 = v_load(xt + (size_t)k * NT + VL);
#pragma GCC unroll 12
        for (int r = 0; r < mr; r++) {
            const vec wv = v_set1(wr[(size_t)r * In + k]);
            a0[r] = v_fma(wv, x0, a0[r]);
            a1[r] = v_fma(wv, x1, a1[r]);
        }
    }
    _Alignas(64) float t[NT];
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++) {
        v_store(t, a0[r]);
        v_store(t + VL, a1[r]);
        float *yc = y + (size_t)n0 * O + o0 + r;
        if (relu)
            for (int j = 0; j < nt; j++) yc[(size_t)j * O] = !(t[j] <= 0.0f) ? t[j] : 0.0f;
        else
            for (int j = 0; j < nt; j++) yc[(size_t)j * O] = t[j];
    }
}

/* out[r][0 .. NT) for r < mr (rows ld floats apart) = the FMAs of k in [k_lo, k_hi), in order,
 * of a[r lda + k] (broadcast) with row k - k_lo of ws (NT floats a row, packed), starting from
 * bias (NT floats) when given, else from the partial sums already in out (from zero when k_lo
 * is 0); ReLU on the store when relu. A partial sum kept in memory is the same float it would
 * be in a register, so blocking over k does not change the bits. The input gradient uses it
 * with a = dy, ws = a strip of w; the forward of a layer with few inputs with a = x, ws = a
 * strip of w transposed. */
static ALWAYS_INLINE void strip_tile(float *out, size_t ld, const float *a, size_t lda,
                                     const float *ws, const int mr, int k_lo, int k_hi,
                                     const float *bias, int relu) {
    vec a0[MR], a1[MR];
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++) {
        a0[r] = bias ? v_load(bias) : k_lo ? v_load(out + r * ld) : v_zero();
        a1[r] = bias ? v_load(bias + VL) : k_lo ? v_load(out + r * ld + VL) : v_zero();
    }
    for (int k = k_lo; k < k_hi; k++) {
        const float *wk = ws + (size_t)(k - k_lo) * NT;
        const vec w0 = v_load(wk), w1 = v_load(wk + VL);
#pragma GCC unroll 12
        for (int r = 0; r < mr; r++) {
            const vec av = v_set1(a[(size_t)r * lda + k]);
            a0[r] = v_fma(av, w0, a0[r]);
            a1[r] = v_fma(av, w1, a1[r]);
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++) {
        v_store(out + r * ld, relu ? v_relu(a0[r]) : a0[r]);
        v_store(out + r * ld + VL, relu ? v_relu(a1[r]) : a1[r]);
    }
}

/* out[r][0 .. NT) for r < mr (rows ld floats apart): B FMAs in order from zero, then stored
 * (overwrite) or added. dp = dy[0 .. B)[o0 .. o0 + mr) packed (B, MR); xs = the x columns
 * packed (B, NT). */
static ALWAYS_INLINE void wgrad_tile(float *out, size_t ld, const float *dp, const float *xs, int B,
                                     const int mr, int overwrite) {
    vec a0[MR], a1[MR];
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++) a0[r] = a1[r] = v_zero();
    for (int n = 0; n < B; n++) {
        const float *xn = xs + (size_t)n * NT, *d = dp + (size_t)n * MR;
        const vec x0 = v_load(xn), x1 = v_load(xn + VL);
#pragma GCC unroll 12
        for (int r = 0; r < mr; r++) {
            const vec dv = v_set1(d[r]);
            a0[r] = v_fma(dv, x0, a0[r]);
            a1[r] = v_fma(dv, x1, a1[r]);
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++) {
        float *g = out + r * ld;
        if (overwrite) {
            v_store(g, a0[r]);
            v_store(g + VL, a1[r]);
        } else {
            v_store(g, v_add(v_load(g), a0[r]));
            v_store(g + VL, v_add(v_load(g + VL), a1[r]));
        }
    }
}

/* dst[j] = src[j] for j < nc, 0 for nc <= j < NT: a strip of nc <= NT columns, zero-padded
 * so that a tail strip runs through the same tile (its extra lanes compute unused zeros). */
static inline void copy_strip(float *restrict dst, const float *restrict src, int nc) {
    if (nc == NT) {
        memcpy(dst, src, sizeof(float) * NT);
        return;
    }
    memcpy(dst, src, sizeof(float) * (size_t)nc);
    memset(dst + nc, 0, sizeof(float) * (size_t)(NT - nc));
}
/* The forward of a layer with at most SKINNY_IN inputs (the first layer on a state vector):
 * for NT outputs at a time, w's columns are copied transposed into a strip (cheap at this
 * size) and every sample becomes broadcast FMAs into whole vectors of outputs, stored in
 * place. The batch-as-vector form would spend its time on the per-element stores of outputs
 * that each take only In FMAs. Same chains, same bits. */
#define SKINNY_IN 32
static void forward_skinny(float *y, const float *x, const float *w, const float *b, int B, int In,
                           int O, int relu, int o_begin, int o_end) {
    _Alignas(64) float strip[SKINNY_IN * NT], bias[NT], tail[MR * NT];
    for (int o0 = o_begin; o0 < o_end; o0 += NT) {
        const int nc = O - o0 < NT ? O - o0 : NT;
        for (int j = 0; j < NT; j++) {
            bias[j] = j < nc ? b[o0 + j] : 0.0f;
            for (int k = 0; k < In; k++)
                strip[k * NT + j] = j < nc ? w[(size_t)(o0 + j) * In + k] : 0.0f;
        }
        for (int n0 = 0; n0 < B; n0 += MR) {
            const int mr = B - n0 < MR ? B - n0 : MR;
            const float *xr = x + (size_t)n0 * In;
            if (nc == NT) {
#define SK(m)                                                                                      \
    strip_tile(y + (size_t)n0 * O + o0, (size_t)O, xr, (size_t)In, strip, m, 0, In, bias, relu)
                ROWS_SWITCH(mr, SK)
#undef SK
                continue;
            }
#define SKT(m) strip_tile(tail, NT, xr, (size_t)In, strip, m, 0, In, bias, relu)
            ROWS_SWITCH(mr, SKT)
#undef SKT
            for (int r = 0; r < mr; r++)
                memcpy(y + (size_t)(n0 + r) * O + o0, tail + (size_t)r * NT,
                       sizeof(float) * (size_t)nc);
        }
    }
}
#endif

/* ---- the split over threads ------------------------------------------------------------------
 * A product is split only when the pool has several threads, the product has at least
 * SPLIT_MIN_FMAS multiply-adds and the split dimension gives every thread two tiles or more:
 * below that, waking a worker and waiting for the slower part cost more than the split saves
 * (measured with 2 threads on a 2-core Zen 3: at 2^18 FMAs the backward products took 0.65-0.7
 * of their one-thread time, the 1x512x512 matrix-vector product 0.54; at 2^17 a split forward
 * was slower than none). The decision reads only the shape, never a clock, and the split never
 * changes a result: each output is computed by exactly one part, by the same chain of
 * operations as without a split. Parts take contiguous runs of whole tiles (units of `unit`
 * outputs), as even as the unit allows. */
#define SPLIT_MIN_FMAS (1L << 18)

static int split_wanted(long fmas, int n, int unit) {
    const int threads = nn_pool_threads();
    return threads > 1 && fmas >= SPLIT_MIN_FMAS && n >= 2 * unit * threads;
}

/* [*begin, *end) of the n outputs for `part` of `parts`, in whole units. */
static void split_range(int n, int unit, int part, int parts, int *begin, int *end) {
    const long units = (n + unit - 1) / unit;
    const long u0 = units * part / parts, u1 = units * (part + 1) / parts;
    *begin = (int)(u0 * unit);
    *end = u1 * unit < n ? (int)(u1 * unit) : n;
}

/* The arguments of one product, for the parts of a split. */
typedef struct gemm_job {
    float *out, *pack;
    const float *x, *w, *b, *dy;
    int B, In, O, relu, overwrite, reverse;
    int c0, nc; /* forward: the packed rows [c0, c0 + nc) */
} gemm_job;

/* ---- entry points ------------------------------------------------------------------------------
 */

#if defined(GEMM_SIMD)
/* Rows [c0, c0 + nc) of the forward (packed in pack), outputs [o_begin, o_end). */
static void forward_chunk(float *y, const float *pack, const float *w, const float *b, int c0,
                          int nc, int In, int O, int relu, int o_begin, int o_end) {
    for (int o0 = o_begin; o0 < o_end; o0 += MR)
        for (int t0 = 0; t0 < nc; t0 += NT) {
            const int nt = nc - t0 < NT ? nc - t0 : NT;
#define FWD(m) forward_tile(y, pack + (size_t)t0 * In, w, b, c0 + t0, nt, o0, m, In, O, relu)
            ROWS_SWITCH(o_end - o0, FWD)
#undef FWD
        }
}

static void forward_chunk_part(void *ctx, int part, int parts) {
    const gemm_job *j = ctx;
    int o0, o1;
    split_range(j->O, MR, part, parts, &o0, &o1);
    forward_chunk(j->out, j->pack, j->w, j->b, j->c0, j->nc, j->In, j->O, j->relu, o0, o1);
}

static void forward_skinny_part(void *ctx, int part, int parts) {
    const gemm_job *j = ctx;
    int o0, o1;
    split_range(j->O, NT, part, parts, &o0, &o1);
    forward_skinny(j->out, j->x, j->w, j->b, j->B, j->In, j->O, j->relu, o0, o1);
}
#endif

void nn_gemm_forward(float *y, float *pack, const float *x, const float *w, const float *b, int B,
                     int In, int O, int relu) {
#if defined(GEMM_SIMD)
    if (In <= SKINNY_IN) {
        const int split = split_wanted((long)B * In * O, O, NT);
        gemm_job j = {.out = y, .x = x, .w = w, .b = b, .B = B, .In = In, .O = O, .relu = relu};
        if (split)
            nn_pool_run(forward_skinny_part, &j);
        else
            forward_skinny(y, x, w, b, B, In, O, relu, 0, O);
        return;
    }
    /* 64-byte aligned, so that no packed row (NT floats) straddles two cache lines: a split
     * load costs two (nn_gemm_pack_size leaves 16 floats of room for this) */
    pack = (float *)(((uintptr_t)pack + 63) & ~(uintptr_t)63);
    const int split = split_wanted((long)B * In * O, O, MR);
    /* Up to 32 rows packed at once (32 / NT tiles), then each group of MR weight rows meets
     * every packed tile while it is in L1: w streams from memory once per 32 rows. A split
     * shares the packed rows and divides the weight rows. */
    for (int c0 = 0; c0 < B; c0 += 32) {
        const int nc = B - c0 < 32 ? B - c0 : 32;
        for (int t0 = 0; t0 < nc; t0 += NT)
            pack_xt(pack + (size_t)t0 * In, x, c0 + t0, nc - t0 < NT ? nc - t0 : NT, In);
        if (split) {
            gemm_job j = {.out = y,
                          .pack = pack,
                          .w = w,
                          .b = b,
                          .c0 = c0,
                          .nc = nc,
                          .In = In,
                          .O = O,
                          .relu = relu};
            nn_pool_run(forward_chunk_part, &j);
        } else {
            forward_chunk(y, pack, w, b, c0, nc, In, O, relu, 0, O);
        }
    }
#else
    (void)pack;
    nn_gemm_forward_portable(y, x, w, b, B, In, O, relu);
#endif
}

#if defined(GEMM_SIMD)
/* Columns [i_begin, i_end) of the input gradient (i_begin a multiple of NT). */
static void dgrad_cols_simd(float *dx, const float *dy, const float *w, int B, int In, int O,
                            int i_begin, int i_end) {
    /* Blocks of OB outputs; per strip of NT columns, the block's w is copied contiguous (8 KiB
     * at OB 128 with ymm) and stays in L1 while every batch tile passes it. Read in place, the
     * strip's rows sit In floats apart, and at In = 512 or 1024 (multiples of 4 KiB) they fall
     * into the same few L1 sets and evict each other. A last strip of fewer than NT columns is
     * zero-padded and its tiles go through a scratch tile. */
    _Alignas(64) float strip[OB * NT], tail[MR * NT];
    for (int i0 = i_begin; i0 < i_end; i0 += NT) {
        const int nc = In - i0 < NT ? In - i0 : NT;
        if (nc == NT) {
            for (int o_lo = 0; o_lo < O; o_lo += OB) {
                const int o_hi = O - o_lo < OB ? O : o_lo + OB;
                for (int o = o_lo; o < o_hi; o++)
                    copy_strip(strip + (size_t)(o - o_lo) * NT, w + (size_t)o * In + i0, NT);
                for (int n0 = 0; n0 < B; n0 += MR) {
                    float *out = dx + (size_t)n0 * In + i0;
#define DG(m)                                                                                      \
    strip_tile(out, (size_t)In, dy + (size_t)n0 * O, (size_t)O, strip, m, o_lo, o_hi, NULL, 0)
                    ROWS_SWITCH(B - n0, DG)
#undef DG
                }
            }
            continue;
        }
        /* the scratch tile carries one row group's partial sums across the o blocks, so for
         * the tail strip the o blocks run innermost */
        for (int n0 = 0; n0 < B; n0 += MR) {
            const int mr = B - n0 < MR ? B - n0 : MR;
            for (int o_lo = 0; o_lo < O; o_lo += OB) {
                const int o_hi = O - o_lo < OB ? O : o_lo + OB;
                for (int o = o_lo; o < o_hi; o++)
                    copy_strip(strip + (size_t)(o - o_lo) * NT, w + (size_t)o * In + i0, nc);
#define DG(m) strip_tile(tail, NT, dy + (size_t)n0 * O, (size_t)O, strip, m, o_lo, o_hi, NULL, 0)
                ROWS_SWITCH(mr, DG)
#undef DG
            }
            for (int r = 0; r < mr; r++)
                memcpy(dx + (size_t)(n0 + r) * In + i0, tail + (size_t)r * NT,
                       sizeof(float) * (size_t)nc);
        }
    }
}

static void dgrad_part(void *ctx, int part, int parts) {
    const gemm_job *j = ctx;
    int i0, i1;
    split_range(j->In, NT, part, parts, &i0, &i1);
    dgrad_cols_simd(j->out, j->dy, j->w, j->B, j->In, j->O, i0, i1);
}

/* Rows [o_begin, o_end) of the weight gradient (o_begin a multiple of MR). */
static void wgrad_rows(float *dw, const float *dy, const float *x, int B, int In, int O,
                       int overwrite, int o_begin, int o_end) {
    /* Blocks of IB input columns and 32 samples, copied contiguous (strips of NT columns, the
     * last zero-padded) so that the block (16 KiB at IB 128) stays in L1 while every output
     * tile passes it: in place its rows sit In floats apart and at In = 512 or 1024 share a
     * few L1 sets. Each output tile's slice of dy is copied contiguous too (its rows are O
     * floats apart). A tail strip's tiles go through a scratch tile. */
    _Alignas(64) float xs[IB * 32], dp[32 * MR], tail[MR * NT];
    for (int c0 = 0; c0 < B; c0 += 32) {
        const int nb = B - c0 < 32 ? B - c0 : 32, ow = overwrite && c0 == 0;
        for (int i_lo = 0; i_lo < In; i_lo += IB) {
            const int i_hi = In - i_lo < IB ? In : i_lo + IB;
            for (int i0 = i_lo; i0 < i_hi; i0 += NT) {
                const int nc = i_hi - i0 < NT ? i_hi - i0 : NT;
                for (int n = 0; n < nb; n++)
                    copy_strip(xs + (size_t)(i0 - i_lo) * 32 + (size_t)n * NT,
                               x + (size_t)(c0 + n) * In + i0, nc);
            }
            for (int o0 = o_begin; o0 < o_end; o0 += MR) {
                const int mr = o_end - o0 < MR ? o_end - o0 : MR;
                for (int n = 0; n < nb; n++)
                    memcpy(dp + (size_t)n * MR, dy + (size_t)(c0 + n) * O + o0,
                           sizeof(float) * (size_t)mr);
                for (int i0 = i_lo; i0 < i_hi; i0 += NT) {
                    const int nc = i_hi - i0 < NT ? i_hi - i0 : NT;
                    const float *xb = xs + (size_t)(i0 - i_lo) * 32;
                    float *out = dw + (size_t)o0 * In + i0;
                    if (nc == NT) {
#define WG(m) wgrad_tile(out, (size_t)In, dp, xb, nb, m, ow)
                        ROWS_SWITCH(mr, WG)
#undef WG
                        continue;
                    }
#define WT(m) wgrad_tile(tail, NT, dp, xb, nb, m, 1)
                    ROWS_SWITCH(mr, WT)
#undef WT
                    for (int r = 0; r < mr; r++)
                        for (int j = 0; j < nc; j++) {
                            float *g = out + (size_t)r * In + j;
                            *g = ow ? tail[r * NT + j] : *g + tail[r * NT + j];
                        }
                }
            }
        }
    }
}

static void wgrad_part(void *ctx, int part, int parts) {
    const gemm_job *j = ctx;
    int o0, o1;
    split_range(j->O, MR, part, parts, &o0, &o1);
    wgrad_rows(j->out, j->dy, j->x, j->B, j->In, j->O, j->overwrite, o0, o1);
}
#endif

/* Both backward products split their outputs: the input gradient by strips of NT columns (each
 * part copies only its own strips of w), the weight gradient by groups of MR rows (each part
 * copies the block of x it needs: 16 KiB per block, small beside the FMAs of its rows). */
void nn_gemm_dgrad(float *dx, const float *dy, const float *w, int B, int In, int O) {
#if defined(GEMM_SIMD)
    if (split_wanted((long)B * In * O, In, NT)) {
        gemm_job j = {.out = dx, .dy = dy, .w = w, .B = B, .In = In, .O = O};
        nn_pool_run(dgrad_part, &j);
    } else {
        dgrad_cols_simd(dx, dy, w, B, In, O, 0, In);
    }
#else
    nn_gemm_dgrad_portable(dx, dy, w, B, In, O);
#endif
}

void nn_gemm_wgrad(float *dw, const float *dy, const float *x, int B, int In, int O,
                   int overwrite) {
#if defined(GEMM_SIMD)
    if (split_wanted((long)B * In * O, O, MR)) {
        gemm_job j = {
            .out = dw, .dy = dy, .x = x, .B = B, .In = In, .O = O, .overwrite = overwrite};
        nn_pool_run(wgrad_part, &j);
    } else {
        wgrad_rows(dw, dy, x, B, In, O, overwrite, 0, O);
    }
#else
    nn_gemm_wgrad_portable(dw, dy, x, B, In, O, overwrite);
#endif
}

#if defined(__AVX512F__)
static inline __mmask16 tail_mask(int n) {
    int r = n % 16;
    return r ? (__mmask16)((1u << r) - 1u) : (__mmask16)0xFFFF;
}

/* Rows [r0, r1), four at a time sharing each load of x: one 16-lane FMA chain a row. */
static void matvec_rows(float *y, const float *w, const float *x, const float *b, int In, int r0,
                        int r1) {
    const int nv = (In + 15) / 16;
    const __mmask16 last = tail_mask(In);
    int o = r0;
    for (; o + 4 <= r1; o += 4) {
        const float *w0 = w + (size_t)o * In, *w1 = w0 + In, *w2 = w1 + In, *w3 = w2 + In;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int v = 0; v < nv; v++) {
            __mmask16 m = v == nv - 1 ? last : (__mmask16)0xFFFF;
            __m512 xv = _mm512_maskz_loadu_ps(m, x + 16 * v);
            a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w0 + 16 * v), xv, a0);
            a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w1 + 16 * v), xv, a1);
            a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w2 + 16 * v), xv, a2);
            a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w3 + 16 * v), xv, a3);
        }
        y[o] = b[o] + _mm512_reduce_add_ps(a0);
        y[o + 1] = b[o + 1] + _mm512_reduce_add_ps(a1);
        y[o + 2] = b[o + 2] + _mm512_reduce_add_ps(a2);
        y[o + 3] = b[o + 3] + _mm512_reduce_add_ps(a3);
    }
    for (; o < r1; o++) {
        const float *w0 = w + (size_t)o * In;
        __m512 a0 = _mm512_setzero_ps();
        for (int v = 0; v < nv; v++) {
            __mmask16 m = v == nv - 1 ? last : (__mmask16)0xFFFF;
            a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w0 + 16 * v),
                                 _mm512_maskz_loadu_ps(m, x + 16 * v), a0);
        }
        y[o] = b[o] + _mm512_reduce_add_ps(a0);
    }
}
#elif defined(__AVX2__) && defined(__FMA__)
/* The 16 lanes as two ymm halves (lo: k = 0..7 mod 16, hi: 8..15); the tail chunk is loaded
 * masked (zeros past the end), as the AVX-512 form does. */
static inline __m256i tail_mask8(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline float reduce_halves(__m256 lo, __m256 hi) {
    __m256 s8 = _mm256_add_ps(lo, hi);
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

static void matvec_rows(float *y, const float *w, const float *x, const float *b, int In, int r0,
                        int r1) {
    const int full = In / 16, rem = In % 16;
    const __m256i mlo = tail_mask8(rem), mhi = tail_mask8(rem - 8);
    int o = r0;
    for (; o + 4 <= r1; o += 4) {
        const float *w0 = w + (size_t)o * In, *w1 = w0 + In, *w2 = w1 + In, *w3 = w2 + In;
        __m256 l0 = _mm256_setzero_ps(), l1 = l0, l2 = l0, l3 = l0;
        __m256 h0 = l0, h1 = l0, h2 = l0, h3 = l0;
        for (int v = 0; v < full; v++) {
            const int k = 16 * v;
            __m256 xl = _mm256_loadu_ps(x + k), xh = _mm256_loadu_ps(x + k + 8);
            l0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k), xl, l0);
            h0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k + 8), xh, h0);
            l1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + k), xl, l1);
            h1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + k + 8), xh, h1);
            l2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + k), xl, l2);
            h2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + k + 8), xh, h2);
            l3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + k), xl, l3);
            h3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + k + 8), xh, h3);
        }
        if (rem) {
            const int k = 16 * full;
            __m256 xl = _mm256_maskload_ps(x + k, mlo), xh = _mm256_maskload_ps(x + k + 8, mhi);
            l0 = _mm256_fmadd_ps(_mm256_maskload_ps(w0 + k, mlo), xl, l0);
            h0 = _mm256_fmadd_ps(_mm256_maskload_ps(w0 + k + 8, mhi), xh, h0);
            l1 = _mm256_fmadd_ps(_mm256_maskload_ps(w1 + k, mlo), xl, l1);
            h1 = _mm256_fmadd_ps(_mm256_maskload_ps(w1 + k + 8, mhi), xh, h1);
            l2 = _mm256_fmadd_ps(_mm256_maskload_ps(w2 + k, mlo), xl, l2);
            h2 = _mm256_fmadd_ps(_mm256_maskload_ps(w2 + k + 8, mhi), xh, h2);
            l3 = _mm256_fmadd_ps(_mm256_maskload_ps(w3 + k, mlo), xl, l3);
            h3 = _mm256_fmadd_ps(_mm256_maskload_ps(w3 + k + 8, mhi), xh, h3);
        }
        y[o] = b[o] + reduce_halves(l0, h0);
        y[o + 1] = b[o + 1] + reduce_halves(l1, h1);
        y[o + 2] = b[o + 2] + reduce_halves(l2, h2);
        y[o + 3] = b[o + 3] + reduce_halves(l3, h3);
    }
    for (; o < r1; o++) {
        const float *w0 = w + (size_t)o * In;
        __m256 l0 = _mm256_setzero_ps(), h0 = l0;
        for (int v = 0; v < full; v++) {
            const int k = 16 * v;
            l0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k), _mm256_loadu_ps(x + k), l0);
            h0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k + 8), _mm256_loadu_ps(x + k + 8), h0);
        }
        if (rem) {
            const int k = 16 * full;
            l0 = _mm256_fmadd_ps(_mm256_maskload_ps(w0 + k, mlo), _mm256_maskload_ps(x + k, mlo),
                                 l0);
            h0 = _mm256_fmadd_ps(_mm256_maskload_ps(w0 + k + 8, mhi),
                                 _mm256_maskload_ps(x + k + 8, mhi), h0);
        }
        y[o] = b[o] + reduce_halves(l0, h0);
    }
}
#else
#define matvec_rows matvec_rows_portable
#endif

/* Rows [r_begin, r_end) (r_begin a multiple of MATVEC_BLOCK) in blocks, forward or reverse. */
#define MATVEC_BLOCK 64
static void matvec_blocks(float *y, const float *x, const float *w, const float *b, int In,
                          int reverse, int r_begin, int r_end) {
    const int bs = MATVEC_BLOCK, nb = (r_end - r_begin + bs - 1) / bs;
    for (int j = 0; j < nb; j++) {
        int blk = reverse ? nb - 1 - j : j;
        int r0 = r_begin + blk * bs, r1 = r0 + bs < r_end ? r0 + bs : r_end;
        matvec_rows(y, w, x, b, In, r0, r1);
    }
}

static void matvec_part(void *ctx, int part, int parts) {
    const gemm_job *j = ctx;
    int r0, r1;
    split_range(j->O, MATVEC_BLOCK, part, parts, &r0, &r1);
    matvec_blocks(j->out, j->x, j->w, j->b, j->In, j->reverse, r0, r1);
}

/* A split gives each part its own rows: with two cores, each keeps its half of a 512x512
 * layer's weights in its own L2 across calls. */
void nn_matvec(float *y, const float *x, const float *w, const float *b, int In, int O,
               int reverse) {
    /* Blocks of 64 rows, in reverse block order when asked. The 512x512 layer's 1 MiB of
     * weights does not quite fit the 1 MiB L2 with everything else, so a scan in one fixed
     * order finds each line already evicted (LRU) and streams it all from L3; alternating the
     * direction starts each call on the lines the previous one touched last, which are still
     * in L2. A row's value does not depend on the block order. */
    if (split_wanted((long)In * O, O, MATVEC_BLOCK)) {
        gemm_job j = {.out = y, .x = x, .w = w, .b = b, .In = In, .O = O, .reverse = reverse};
        nn_pool_run(matvec_part, &j);
    } else {
        matvec_blocks(y, x, w, b, In, reverse, 0, O);
    }
}
