/* src/nn/kernels_small.c — AVX-512 kernels for the dense-layer shapes where OpenBLAS loses:
 * few outputs (Q heads: O <= 8) and few inputs (the first layer on a classic-control
 * observation: In <= 8). At these shapes sgemm spends its time packing and in call overhead,
 * not multiplying (prism bench nn and docs/benchmarks-training.md: 128x4x120 forward ran at
 * 38 GFLOP/s, the 128x84x2 head at 10, against 90-99 for the wide layers). They predate
 * gemm.c and were kept where AVX-512 exists because they were measured against sgemm there.
 *
 * Each kernel keeps its sums in registers and writes each output once. Sums use explicit
 * fused multiply-adds (_mm512_fmadd_ps: written out, so no compiler contraction is involved)
 * in a fixed order, so results are deterministic; they differ from the naive kernels only by
 * rounding (the tests compare them). Without AVX-512 every function returns 0 and the callers
 * take their generic paths. Not here: wide layers (OpenBLAS, or gemm.c in a GEMM=prism build,
 * which does not use these), conv layers. */
#include "nn_internal.h"

#include <string.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#if defined(__AVX512F__)
/* Lanes of the last 16-wide chunk of a row of n floats. */
static __mmask16 tail_mask(int n) {
    int r = n % 16;
    return r ? (__mmask16)((1u << r) - 1u) : (__mmask16)0xFFFF;
}

/* y (B, O) = x (B, In) w^T + b for O <= 8: per row, one accumulator per output over 16-wide
 * chunks of the row (the tail chunk masked), then a horizontal sum. Two rows at a time so
 * the FMA chains of the two overlap. */
static void narrow_forward(float *y, const float *x, const float *w, const float *b, int B, int In,
                           int O) {
    const int nv = (In + 15) / 16;
    const __mmask16 last = tail_mask(In);
    int n = 0;
    for (; n + 2 <= B; n += 2) {
        const float *x0 = x + (size_t)n * In, *x1 = x0 + In;
        for (int o = 0; o < O; o++) {
            const float *wr = w + (size_t)o * In;
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
            for (int v = 0; v < nv; v++) {
                __mmask16 m = v == nv - 1 ? last : (__mmask16)0xFFFF;
                __m512 wv = _mm512_maskz_loadu_ps(m, wr + 16 * v);
                a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x0 + 16 * v), wv, a0);
                a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x1 + 16 * v), wv, a1);
            }
            y[(size_t)n * O + o] = b[o] + _mm512_reduce_add_ps(a0);
            y[(size_t)(n + 1) * O + o] = b[o] + _mm512_reduce_add_ps(a1);
        }
    }
    for (; n < B; n++) {
        const float *x0 = x + (size_t)n * In;
        for (int o = 0; o < O; o++) {
            const float *wr = w + (size_t)o * In;
            __m512 a0 = _mm512_setzero_ps();
            for (int v = 0; v < nv; v++) {
                __mmask16 m = v == nv - 1 ? last : (__mmask16)0xFFFF;
                a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x0 + 16 * v),
                                     _mm512_maskz_loadu_ps(m, wr + 16 * v), a0);
            }
            y[(size_t)n * O + o] = b[o] + _mm512_reduce_add_ps(a0);
        }
    }
}

/* dw (O, In) (+)= dy^T x and dx (B, In) = dy w for O <= 8. dw: per output row, up to eight
 * 16-wide chunks of the row accumulate over the batch in registers. dx: per sample, each
 * chunk sums its O terms in registers. */
static void narrow_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                            int B, int In, int O, int dw_overwrite) {
    const int nv = (In + 15) / 16;
    const __mmask16 last = tail_mask(In);
    for (int o = 0; o < O; o++)
        for (int v0 = 0; v0 < nv; v0 += 8) {
            /* A fixed trip count of 8 (chunks past the row get an empty mask) keeps acc in
             * registers: with a variable count GCC keeps the array in memory. */
            __mmask16 mk[8];
            __m512 acc[8];
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
                int v = v0 + j;
                mk[j] = v < nv - 1 ? (__mmask16)0xFFFF : v == nv - 1 ? last : (__mmask16)0;
                acc[j] = _mm512_setzero_ps();
            }
            for (int n = 0; n < B; n++) {
                const __m512 d = _mm512_set1_ps(dy[(size_t)n * O + o]);
                const float *xr = x + (size_t)n * In + 16 * v0;
#pragma GCC unroll 8
                for (int j = 0; j < 8; j++)
                    acc[j] = _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(mk[j], xr + 16 * j), acc[j]);
            }
            float *dr = dw + (size_t)o * In + 16 * v0;
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
                __m512 r = dw_overwrite
                               ? acc[j]
                               : _mm512_add_ps(_mm512_maskz_loadu_ps(mk[j], dr + 16 * j), acc[j]);
                _mm512_mask_storeu_ps(dr + 16 * j, mk[j], r);
            }
        }
    if (!dx) return;
    for (int n = 0; n < B; n++) {
        const float *d = dy + (size_t)n * O;
        float *xr = dx + (size_t)n * In;
        for (int v = 0; v < nv; v++) {
            __mmask16 m = v == nv - 1 ? last : (__mmask16)0xFFFF;
            __m512 acc = _mm512_setzero_ps();
            for (int o = 0; o < O; o++)
                acc = _mm512_fmadd_ps(_mm512_set1_ps(d[o]),
                                      _mm512_maskz_loadu_ps(m, w + (size_t)o * In + 16 * v), acc);
            _mm512_mask_storeu_ps(xr + 16 * v, m, acc);
        }
    }
}

/* Gather column k of w (O, In) for outputs [o, o + 16) (masked): w[(o + j) In + k]. */
static __m512 gather_col(const float *w, int o, int k, int In, __mmask16 m) {
    const __m512i idx =
        _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                           _mm512_set1_epi32(In));
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, w + (size_t)o * In + k, 4);
}

/* y (B, O) = x (B, In) w^T + b for In <= 8: for each block of 16 outputs, the In weight
 * columns are gathered into registers once; every sample is then In broadcast FMAs. */
static inline __attribute__((always_inline)) void skinny_forward(float *y, const float *x,
                                                                 const float *w, const float *b,
                                                                 int B, const int In, int O) {
    for (int o = 0; o < O; o += 16) {
        const __mmask16 m = O - o >= 16 ? (__mmask16)0xFFFF : tail_mask(O - o);
        __m512 wc[8];
#pragma GCC unroll 8
        for (int k = 0; k < In; k++) wc[k] = gather_col(w, o, k, In, m);
        const __m512 bv = _mm512_maskz_loadu_ps(m, b + o);
        for (int n = 0; n < B; n++) {
            const float *xr = x + (size_t)n * In;
            __m512 acc = bv;
#pragma GCC unroll 8
            for (int k = 0; k < In; k++) acc = _mm512_fmadd_ps(_mm512_set1_ps(xr[k]), wc[k], acc);
            _mm512_mask_storeu_ps(y + (size_t)n * O + o, m, acc);
        }
    }
}

/* dw (O, In) (+)= dy^T x for In <= 8: per block of 16 outputs, In accumulators over the batch,
 * then written back column by column. */
static inline __attribute__((always_inline)) void skinny_wgrad(float *dw, const float *dy,
                                                               const float *x, int B, const int In,
                                                               int O, int dw_overwrite) {
    for (int o = 0; o < O; o += 16) {
        const int cnt = O - o >= 16 ? 16 : O - o;
        const __mmask16 m = cnt == 16 ? (__mmask16)0xFFFF : tail_mask(cnt);
        __m512 acc[8];
#pragma GCC unroll 8
        for (int k = 0; k < In; k++) acc[k] = _mm512_setzero_ps();
        for (int n = 0; n < B; n++) {
            const __m512 d = _mm512_maskz_loadu_ps(m, dy + (size_t)n * O + o);
            const float *xr = x + (size_t)n * In;
#pragma GCC unroll 8
            for (int k = 0; k < In; k++) acc[k] = _mm512_fmadd_ps(d, _mm512_set1_ps(xr[k]), acc[k]);
        }
        float col[8][16];
#pragma GCC unroll 8
        for (int k = 0; k < In; k++) _mm512_storeu_ps(col[k], acc[k]);
        for (int j = 0; j < cnt; j++)
            for (int k = 0; k < In; k++) {
                float *p = dw + (size_t)(o + j) * In + k;
                *p = dw_overwrite ? col[k][j] : *p + col[k][j];
            }
    }
}

/* One copy of each skinny kernel per input count 1..8: with In a constant the loops over it
 * unroll and the weight columns and accumulators stay in registers (with In a variable GCC
 * keeps the arrays in memory, which measured slower than sgemm). */
#define SKINNY_CASES(CALL)                                                                         \
    switch (In) {                                                                                  \
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
    default:                                                                                       \
        CALL(8);                                                                                   \
        break;                                                                                     \
    }
static void skinny_forward_any(float *y, const float *x, const float *w, const float *b, int B,
                               int In, int O) {
#define FWD(K) skinny_forward(y, x, w, b, B, K, O)
    SKINNY_CASES(FWD)
#undef FWD
}
static void skinny_wgrad_any(float *dw, const float *dy, const float *x, int B, int In, int O,
                             int dw_overwrite) {
#define WG(K) skinny_wgrad(dw, dy, x, B, K, O, dw_overwrite)
    SKINNY_CASES(WG)
#undef WG
}
#endif

int nn_small_forward(float *y, const float *x, const float *w, const float *b, int B, int In,
                     int O) {
#if defined(__AVX512F__)
    if (O <= NN_SMALL_DIM) {
        narrow_forward(y, x, w, b, B, In, O);
        return 1;
    }
    if (In <= NN_SMALL_DIM) {
        skinny_forward_any(y, x, w, b, B, In, O);
        return 1;
    }
#else
    (void)y, (void)x, (void)w, (void)b, (void)B, (void)In, (void)O;
#endif
    return 0;
}

int nn_small_backward(float *dx, float *dw, const float *dy, const float *x, const float *w, int B,
                      int In, int O, int dw_overwrite) {
#if defined(__AVX512F__)
    if (O <= NN_SMALL_DIM) {
        narrow_backward(dx, dw, dy, x, w, B, In, O, dw_overwrite);
        return 1;
    }
    if (In <= NN_SMALL_DIM && !dx) {
        skinny_wgrad_any(dw, dy, x, B, In, O, dw_overwrite);
        return 1;
    }
#else
    (void)dx, (void)dw, (void)dy, (void)x, (void)w, (void)B, (void)In, (void)O, (void)dw_overwrite;
#endif
    return 0;
}
