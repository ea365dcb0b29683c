/* src/nn/bf16.c — the matrix products of a network run at precision bf16: every operand rounded
 * to bfloat16 (round to nearest even), the products accumulated in fp32 exactly as AVX512_BF16's
 * vdpbf16ps does, on any CPU.
 *
 * vdpbf16ps, per fp32 lane, takes one pair (k = 2i, 2i + 1) of bf16 values from each operand
 * and does acc += a[2i+1] * b[2i+1], then acc += a[2i] * b[2i], each step one fused
 * multiply-add (a product of two bf16 values is exact in fp32) rounded to nearest even, with
 * denormal inputs read as zero and denormal results flushed to zero. Each output here is one
 * such chain over the pairs in ascending order, starting at the bias (forward) or at zero; an
 * odd inner length gets a zero in the last pair's high half, as the hardware needs. Three forms
 * compute the same bits: the AVX512_BF16 kernel (vdpbf16ps itself, compiled with a function
 * target and chosen at run time where the CPU has the extension), an AVX2+FMA emulation and a
 * portable one (fmaf plus an explicit flush after every step). Where the hardware would give a
 * NaN, the emulation gives a NaN too, not necessarily with the same payload.
 *
 * The operands are packed before each product: A (M, P) pairs of its rows (a pair is one 32-bit
 * word, k = 2i in the low half), B (P, ldb) pairs of its columns, one row of ldb words per pair,
 * so one vector load gives a pair for 8 or 16 adjacent outputs. Not here: anything outside the
 * products (biases' gradients, optimizer, conv, LayerNorm: fp32 as always). No function
 * allocates; the caller gives the packing scratch (nn_bf16_scratch_a / _b). */
#include "nn_internal.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define ALWAYS_INLINE inline __attribute__((always_inline))
#define BF16_COLS     32 /* columns per tile of the hardware kernel: the unit of ldb and splits */
#define BF16_MR       4  /* rows per register tile */

static inline uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}
static inline float float_of(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* vcvtneps2bf16: zero and denormals become a signed zero, infinities stay, a NaN stays a NaN
 * (quieted), everything else rounds to nearest even (an overflow rounds to infinity). */
uint16_t nn_bf16_from_float(float x) {
    uint32_t u = bits_of(x), e = u & 0x7F800000u;
    if (e == 0) return (uint16_t)((u >> 16) & 0x8000u);
    if (e == 0x7F800000u) return (uint16_t)((u >> 16) | ((u & 0x007FFFFFu) ? 0x0040u : 0u));
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float nn_bf16_to_float(uint16_t h) {
    return float_of((uint32_t)h << 16);
}

static inline uint32_t pair(const float *src, int k, int K, size_t ks) {
    uint32_t lo = nn_bf16_from_float(src[(size_t)k * ks]);
    uint32_t hi = k + 1 < K ? nn_bf16_from_float(src[(size_t)(k + 1) * ks]) : 0u;
    return lo | hi << 16;
}

void nn_bf16_pack_a(uint32_t *dst, const float *src, int rows, int K, size_t rs, size_t ks) {
    const int P = (K + 1) / 2;
    if (ks == 1 || rs != 1) {
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < P; i++)
                dst[(size_t)r * P + i] = pair(src + (size_t)r * rs, 2 * i, K, ks);
    } else { /* rows adjacent in memory: walk them innermost */
        for (int i = 0; i < P; i++)
            for (int r = 0; r < rows; r++)
                dst[(size_t)r * P + i] = pair(src + (size_t)r * rs, 2 * i, K, ks);
    }
}

void nn_bf16_pack_b(uint32_t *dst, size_t ldb, const float *src, int N, int K, size_t ns,
                    size_t ks) {
    const int P = (K + 1) / 2;
    if (ks == 1 && ns != 1) {
        for (int n = 0; n < N; n++)
            for (int i = 0; i < P; i++)
                dst[(size_t)i * ldb + n] = pair(src + (size_t)n * ns, 2 * i, K, ks);
    } else {
        for (int i = 0; i < P; i++)
            for (int n = 0; n < N; n++)
                dst[(size_t)i * ldb + n] = pair(src + (size_t)n * ns, 2 * i, K, ks);
    }
    for (int i = 0; i < P; i++)
        memset(dst + (size_t)i * ldb + N, 0, sizeof(uint32_t) * (ldb - (size_t)N));
}

size_t nn_bf16_ldb(int N) {
    return (size_t)(N + BF16_COLS - 1) / BF16_COLS * BF16_COLS;
}

/* ---- portable form: the definition ------------------------------------------------------- */

/* a denormal read as, or flushed to, a zero of its sign; NaN and everything else unchanged */
static inline float flush(float x) {
    return fabsf(x) < FLT_MIN ? copysignf(0.0f, x) : x;
}

static inline float finish(float acc, float old, int mode) {
    if (mode == NN_BF16_ADD) return old + acc;
    if (mode == NN_BF16_RELU) return !(acc <= 0.0f) ? acc : 0.0f;
    return acc;
}

static void gemm_portable_cols(float *C, size_t ldc, const uint32_t *A, const uint32_t *Bp,
                               size_t ldb, const float *bias, int M, int P, int mode, int n0,
                               int n1) {
    for (int m = 0; m < M; m++)
        for (int n = n0; n < n1; n++) {
            float acc = bias ? flush(bias[n]) : 0.0f;
            for (int i = 0; i < P; i++) {
                const uint32_t a = A[(size_t)m * P + i], b = Bp[(size_t)i * ldb + n];
                acc = flush(fmaf(float_of(a & 0xFFFF0000u), float_of(b & 0xFFFF0000u), acc));
                acc = flush(fmaf(float_of(a << 16), float_of(b << 16), acc));
            }
            float *c = C + (size_t)m * ldc + n;
            *c = finish(acc, *c, mode);
        }
}

void nn_bf16_gemm_portable(float *C, size_t ldc, const uint32_t *A, const uint32_t *Bp, size_t ldb,
                           const float *bias, int M, int N, int P, int mode) {
    gemm_portable_cols(C, ldc, A, Bp, ldb, bias, M, P, mode, 0, N);
}

/* ---- AVX2+FMA emulation ------------------------------------------------------------------ */

#if defined(__AVX2__) && defined(__FMA__)
static ALWAYS_INLINE __m256 flush8(__m256 v, __m256 absmask, __m256 tiny) {
    const __m256 small = _mm256_cmp_ps(_mm256_and_ps(v, absmask), tiny, _CMP_LT_OQ);
    return _mm256_andnot_ps(_mm256_and_ps(small, absmask), v);
}

/* C rows [m0, m0 + mr), columns [n0, n0 + nc), nc <= 16 (ldb covers n0 + 16). */
static ALWAYS_INLINE void emu_tile(float *C, size_t ldc, const uint32_t *A, const uint32_t *Bp,
                                   size_t ldb, const float *bias, int m0, const int mr, int n0,
                                   int nc, int P, int mode) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    const __m256 tiny = _mm256_set1_ps(FLT_MIN);
    const __m256i himask = _mm256_set1_epi32((int)0xFFFF0000u);
    __m256 acc[BF16_MR][2];
    _Alignas(32) float t[16] = {0};
    if (bias)
        for (int j = 0; j < nc; j++) t[j] = flush(bias[n0 + j]);
    for (int r = 0; r < mr; r++) acc[r][0] = _mm256_load_ps(t), acc[r][1] = _mm256_load_ps(t + 8);
    for (int i = 0; i < P; i++) {
        const uint32_t *bp = Bp + (size_t)i * ldb + n0;
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)bp);
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(bp + 8));
        const __m256 hi0 = _mm256_castsi256_ps(_mm256_and_si256(w0, himask));
        const __m256 hi1 = _mm256_castsi256_ps(_mm256_and_si256(w1, himask));
        const __m256 lo0 = _mm256_castsi256_ps(_mm256_slli_epi32(w0, 16));
        const __m256 lo1 = _mm256_castsi256_ps(_mm256_slli_epi32(w1, 16));
        for (int r = 0; r < mr; r++) {
            const uint32_t a = A[(size_t)(m0 + r) * P + i];
            const __m256 ahi = _mm256_set1_ps(float_of(a & 0xFFFF0000u));
            const __m256 alo = _mm256_set1_ps(float_of(a << 16));
            acc[r][0] = flush8(_mm256_fmadd_ps(ahi, hi0, acc[r][0]), absmask, tiny);
            acc[r][1] = flush8(_mm256_fmadd_ps(ahi, hi1, acc[r][1]), absmask, tiny);
            acc[r][0] = flush8(_mm256_fmadd_ps(alo, lo0, acc[r][0]), absmask, tiny);
            acc[r][1] = flush8(_mm256_fmadd_ps(alo, lo1, acc[r][1]), absmask, tiny);
        }
    }
    for (int r = 0; r < mr; r++) {
        _mm256_store_ps(t, acc[r][0]);
        _mm256_store_ps(t + 8, acc[r][1]);
        float *c = C + (size_t)(m0 + r) * ldc + n0;
        for (int j = 0; j < nc; j++) c[j] = finish(t[j], c[j], mode);
    }
}

static void gemm_emulated_cols(float *C, size_t ldc, const uint32_t *A, const uint32_t *Bp,
                               size_t ldb, const float *bias, int M, int P, int mode, int n0,
                               int n1) {
    for (int c0 = n0; c0 < n1; c0 += 16) {
        const int nc = n1 - c0 < 16 ? n1 - c0 : 16;
        int m0 = 0;
        for (; m0 + BF16_MR <= M; m0 += BF16_MR)
            emu_tile(C, ldc, A, Bp, ldb, bias, m0, BF16_MR, c0, nc, P, mode);
        for (; m0 < M; m0++) emu_tile(C, ldc, A, Bp, ldb, bias, m0, 1, c0, nc, P, mode);
    }
}
#else
#define gemm_emulated_cols gemm_portable_cols
#endif

void nn_bf16_gemm_emulated(float *C, size_t ldc, const uint32_t *A, const uint32_t *Bp, size_t ldb,
                           const float *bias, int M, int N, int P, int mode) {
    gemm_emulated_cols(C, ldc, A, Bp, ldb, bias, M, P, mode, 0, N);
}

/* ---- AVX512_BF16: vdpbf16ps itself ------------------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__)
#define BF16_HW_BUILT 1
#define BF16_TARGET   __attribute__((target("avx512f,avx512bf16")))

BF16_TARGET static ALWAYS_INLINE void hw_tile(float *C, size_t ldc, const uint32_t *A,
                                              const uint32_t *Bp, size_t ldb, const float *bias,
                                              int m0, const int mr, int n0, int nc, int P,
                                              int mode) {
    const __mmask16 m_lo = (__mmask16)(nc >= 16 ? 0xFFFF : (1u << nc) - 1u);
    const __mmask16 m_hi = (__mmask16)(nc >= 32 ? 0xFFFF : nc > 16 ? (1u << (nc - 16)) - 1u : 0);
    __m512 acc[BF16_MR][2];
    const __m512 b_lo = bias ? _mm512_maskz_loadu_ps(m_lo, bias + n0) : _mm512_setzero_ps();
    const __m512 b_hi = bias ? _mm512_maskz_loadu_ps(m_hi, bias + n0 + 16) : _mm512_setzero_ps();
    for (int r = 0; r < mr; r++) acc[r][0] = b_lo, acc[r][1] = b_hi;
    for (int i = 0; i < P; i++) {
        const uint32_t *bp = Bp + (size_t)i * ldb + n0;
        const __m512bh w0 = (__m512bh)_mm512_loadu_si512(bp);
        const __m512bh w1 = (__m512bh)_mm512_loadu_si512(bp + 16);
        for (int r = 0; r < mr; r++) {
            const __m512bh a = (__m512bh)_mm512_set1_epi32((int)A[(size_t)(m0 + r) * P + i]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], a, w0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], a, w1);
        }
    }
    for (int r = 0; r < mr; r++) {
        float *c = C + (size_t)(m0 + r) * ldc + n0;
        for (int h = 0; h < 2; h++) {
            const __mmask16 m = h ? m_hi : m_lo;
            __m512 v = acc[r][h];
            if (mode == NN_BF16_ADD) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, c + 16 * h), v);
            if (mode == NN_BF16_RELU)
                v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NLE_UQ), v);
            _mm512_mask_storeu_ps(c + 16 * h, m, v);
        }
    }
}

BF16_TARGET static void gemm_hw_cols(float *C, size_t ldc, const uint32_t *A, const uint32_t *Bp,
                                     size_t ldb, const float *bias, int M, int P, int mode, int n0,
                                     int n1) {
    for (int c0 = n0; c0 < n1; c0 += BF16_COLS) {
        const int nc = n1 - c0 < BF16_COLS ? n1 - c0 : BF16_COLS;
        int m0 = 0;
        for (; m0 + BF16_MR <= M; m0 += BF16_MR)
            hw_tile(C, ldc, A, Bp, ldb, bias, m0, BF16_MR, c0, nc, P, mode);
        for (; m0 < M; m0++) hw_tile(C, ldc, A, Bp, ldb, bias, m0, 1, c0, nc, P, mode);
    }
}
#endif

int prism_nn_bf16_hardware(void) {
#if defined(BF16_HW_BUILT)
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512f");
    }
    return known;
#else
    return 0;
#endif
}

int nn_bf16_gemm_hw(float *C, size_t ldc, const uint32_t *A, const uint32_t *Bp, size_t ldb,
                    const float *bias, int M, int N, int P, int mode) {
#if defined(BF16_HW_BUILT)
    if (!prism_nn_bf16_hardware()) return 0;
    gemm_hw_cols(C, ldc, A, Bp, ldb, bias, M, P, mode, 0, N);
    return 1;
#else
    (void)C, (void)ldc, (void)A, (void)Bp, (void)ldb, (void)bias, (void)M, (void)N, (void)P;
    (void)mode;
    return 0;
#endif
}

/* ---- dispatch and the split over threads ------------------------------------------------- */

typedef struct bf16_job {
    float *C;
    size_t ldc, ldb;
    const uint32_t *A, *Bp;
    const float *bias;
    int M, N, P, mode;
} bf16_job;

static void run_cols(const bf16_job *j, int n0, int n1) {
#if defined(BF16_HW_BUILT)
    if (prism_nn_bf16_hardware()) {
        gemm_hw_cols(j->C, j->ldc, j->A, j->Bp, j->ldb, j->bias, j->M, j->P, j->mode, n0, n1);
        return;
    }
#endif
    gemm_emulated_cols(j->C, j->ldc, j->A, j->Bp, j->ldb, j->bias, j->M, j->P, j->mode, n0, n1);
}

static void bf16_part(void *ctx, int part, int parts) {
    const bf16_job *j = ctx;
    const long units = (j->N + BF16_COLS - 1) / BF16_COLS;
    const long u0 = units * part / parts, u1 = units * (part + 1) / parts;
    const int n0 = (int)(u0 * BF16_COLS), n1 = u1 * BF16_COLS < j->N ? (int)(u1 * BF16_COLS) : j->N;
    if (n0 < n1) run_cols(j, n0, n1);
}

/* Products below this many multiply-adds stay on one thread (waking a worker costs more). */
#define BF16_SPLIT_MIN (1L << 16)

void nn_bf16_gemm(float *C, size_t ldc, const uint32_t *A, const uint32_t *Bp, size_t ldb,
                  const float *bias, int M, int N, int P, int mode) {
    bf16_job j = {C, ldc, ldb, A, Bp, bias, M, N, P, mode};
    const int threads = nn_pool_threads();
    if (threads > 1 && 2L * M * N * P >= BF16_SPLIT_MIN && N >= 2 * BF16_COLS * threads)
        nn_pool_run(bf16_part, &j);
    else
        run_cols(&j, 0, N);
}

/* ---- a dense layer's three products ------------------------------------------------------ */

void nn_bf16_forward(float *y, uint32_t *pa, uint32_t *pb, const float *x, const float *w,
                     const float *b, int B, int In, int O, int relu) {
    const size_t ldb = nn_bf16_ldb(O);
    nn_bf16_pack_a(pa, x, B, In, (size_t)In, 1);
    nn_bf16_pack_b(pb, ldb, w, O, In, (size_t)In, 1);
    nn_bf16_gemm(y, (size_t)O, pa, pb, ldb, b, B, O, (In + 1) / 2,
                 relu ? NN_BF16_RELU : NN_BF16_STORE);
}

void nn_bf16_backward(float *dx, float *dw, float *db, uint32_t *pa, uint32_t *pb, const float *dy,
                      const float *x, const float *w, int B, int In, int O, int dw_overwrite) {
    for (int n = 0; n < B; n++) nn_add(db, dy + (size_t)n * O, (size_t)O);
    const size_t ldb = nn_bf16_ldb(In);
    /* dw (O, In) = dy^T x: rows o, inner index the batch */
    nn_bf16_pack_a(pa, dy, O, B, 1, (size_t)O);
    nn_bf16_pack_b(pb, ldb, x, In, B, 1, (size_t)In);
    nn_bf16_gemm(dw, (size_t)In, pa, pb, ldb, NULL, O, In, (B + 1) / 2,
                 dw_overwrite ? NN_BF16_STORE : NN_BF16_ADD);
    if (!dx) return;
    /* dx (B, In) = dy w: rows n, inner index the outputs */
    nn_bf16_pack_a(pa, dy, B, O, (size_t)O, 1);
    nn_bf16_pack_b(pb, ldb, w, In, O, 1, (size_t)In);
    nn_bf16_gemm(dx, (size_t)In, pa, pb, ldb, NULL, B, In, (O + 1) / 2, NN_BF16_STORE);
}

void nn_bf16_scratch_words(int rows, int In, int O, size_t *a_words, size_t *b_words) {
    const size_t R = (size_t)rows, pin = (size_t)(In + 1) / 2, pout = (size_t)(O + 1) / 2,
                 prow = (size_t)(rows + 1) / 2;
    size_t a = R * pin;
    if (R * pout > a) a = R * pout;
    if ((size_t)O * prow > a) a = (size_t)O * prow;
    size_t b = pin * nn_bf16_ldb(O);
    if (pout * nn_bf16_ldb(In) > b) b = pout * nn_bf16_ldb(In);
    if (prow * nn_bf16_ldb(In) > b) b = prow * nn_bf16_ldb(In);
    *a_words = a;
    *b_words = b;
}
