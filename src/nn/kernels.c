/* src/nn/kernels.c — the compute kernels of the nn engine: dense and 3x3 conv layers, forward
 * and backward, each in a naive reference form and a fast form.
 *
 * The naive forms are plain loops in the obvious summation order; they exist to be read and to
 * test the fast forms against. The fast forms use OpenBLAS where it wins (sgemm for wide dense
 * layers at batch >= 2, sgemv for wide layers at batch 1) and hand-written kernels where it
 * does not: narrow layers with few outputs (sgemm's packing costs more than the arithmetic)
 * and the 3x3 conv (direct AVX kernels; im2col + sgemm lost at MinAtar's sizes). docs/nn.md
 * has the measurements (prism bench nn). Not here: activations, heads and the network wiring
 * (nn.c). No kernel allocates. */
#include "nn_internal.h"

#if !defined(PRISM_GEMM_OWN)
#include <cblas.h>
#endif
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#if defined(__AVX__)
#include <immintrin.h>
#endif

#if defined(PRISM_GEMM_OWN)
/* No BLAS, and prism's kernels are single-threaded: nothing to set or check. */
void nn_blas_single_thread(void) {}

void nn_blas_set_threads(int n) {
    (void)n;
}

int nn_blas_threads(void) {
    return 1;
}

prism_status nn_blas_check_address_space(void) {
    return PRISM_OK;
}
#else
/* Not latched: whatever set OpenBLAS's thread count since (OPENBLAS_NUM_THREADS read at load,
 * or an embedding program calling openblas_set_num_threads), every init puts it back to one.
 * Multi-threaded sgemm splits its reductions by thread count, so its bits depend on it. */
void nn_blas_single_thread(void) {
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
}

void nn_blas_set_threads(int n) {
    openblas_set_num_threads(n);
}

int nn_blas_threads(void) {
    return openblas_get_num_threads();
}

/* OpenBLAS reserves its work buffer (BUFFER_SIZE, 128 MiB on the x86-64 kernels) at its first
 * matrix product, and when an address-space limit refuses it, it retries forever instead of
 * failing. So the room is checked here, where a clear error can still be returned: the process
 * size now (/proc/self/statm) plus the buffer plus a margin for the network and replay memory
 * that follow must fit under RLIMIT_AS. */
prism_status nn_blas_check_address_space(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return PRISM_OK;
    unsigned long long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return PRISM_OK;
    int got = fscanf(f, "%llu", &pages);
    fclose(f);
    if (got != 1) return PRISM_OK;
    const unsigned long long mib = 1ull << 20;
    unsigned long long used = pages * (unsigned long long)sysconf(_SC_PAGESIZE);
    unsigned long long need = used + 128 * mib + 64 * mib;
    if ((unsigned long long)rl.rlim_cur >= need) return PRISM_OK;
    return prism_error(PRISM_ERR_NOMEM,
                       "the address-space limit (ulimit -v) of %llu MiB is too small: this "
                       "process uses %llu MiB and OpenBLAS needs a 128 MiB work buffer (it waits "
                       "forever instead of failing when it cannot have it); raise the limit to at "
                       "least %llu MiB (ulimit -v %llu)",
                       (unsigned long long)rl.rlim_cur / mib, used / mib, need / mib + 1,
                       (need / mib + 1) * 1024);
}
#endif

float nn_noise_f(double e) {
    /* copysign rather than a branch on the sign: the sign of a normal sample is a coin flip,
     * so the branch mispredicted on half of the thousands of calls per noise sample. Same
     * value as sgn(e) sqrt(|e|) (e = -0 gives -0, which only ever multiplies). */
    return (float)copysign(sqrt(fabs(e)), e);
}

/* ---- naive ---------------------------------------------------------------------------------- */

void nn_linear_forward_naive(float *y, const float *x, const float *w, const float *b, int B,
                             int In, int O) {
    for (int n = 0; n < B; n++)
        for (int o = 0; o < O; o++) {
            float s = b[o];
            for (int i = 0; i < In; i++) s += x[(size_t)n * In + i] * w[(size_t)o * In + i];
            y[(size_t)n * O + o] = s;
        }
}

void nn_linear_backward_naive(float *dx, float *dw, float *db, const float *dy, const float *x,
                              const float *w, int B, int In, int O, int dw_overwrite) {
    for (int o = 0; o < O; o++) {
        float sb = 0;
        for (int n = 0; n < B; n++) sb += dy[(size_t)n * O + o];
        db[o] += sb;
        for (int i = 0; i < In; i++) {
            float s = 0;
            for (int n = 0; n < B; n++) s += dy[(size_t)n * O + o] * x[(size_t)n * In + i];
            if (dw_overwrite)
                dw[(size_t)o * In + i] = s;
            else
                dw[(size_t)o * In + i] += s;
        }
    }
    if (dx)
        for (int n = 0; n < B; n++)
            for (int i = 0; i < In; i++) {
                float s = 0;
                for (int o = 0; o < O; o++) s += dy[(size_t)n * O + o] * w[(size_t)o * In + i];
                dx[(size_t)n * In + i] = s;
            }
}

void nn_conv_forward_naive(float *y, const float *x, const float *w, const float *b, int B, int H,
                           int W, int C, int F, int pad) {
    int Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
    for (int n = 0; n < B; n++)
        for (int r = 0; r < Ho; r++)
            for (int c = 0; c < Wo; c++)
                for (int f = 0; f < F; f++) {
                    float s = b[f];
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++) {
                            int ir = r + kh - pad, ic = c + kw - pad;
                            if (ir < 0 || ir >= H || ic < 0 || ic >= W) continue;
                            for (int ch = 0; ch < C; ch++)
                                s += x[(((size_t)n * H + ir) * W + ic) * C + ch] *
                                     w[(((size_t)f * 3 + kh) * 3 + kw) * C + ch];
                        }
                    y[(((size_t)n * Ho + r) * Wo + c) * F + f] = s;
                }
}

void nn_conv_backward_naive(float *dw, float *db, const float *dy, const float *x, int B, int H,
                            int W, int C, int F, int pad) {
    int Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
    for (int f = 0; f < F; f++) {
        float sb = 0;
        for (int n = 0; n < B; n++)
            for (int p = 0; p < Ho * Wo; p++) sb += dy[((size_t)n * Ho * Wo + p) * F + f];
        db[f] += sb;
        for (int kh = 0; kh < 3; kh++)
            for (int kw = 0; kw < 3; kw++)
                for (int ch = 0; ch < C; ch++) {
                    float s = 0;
                    for (int n = 0; n < B; n++)
                        for (int r = 0; r < Ho; r++)
                            for (int c = 0; c < Wo; c++) {
                                int ir = r + kh - pad, ic = c + kw - pad;
                                if (ir < 0 || ir >= H || ic < 0 || ic >= W) continue;
                                s += dy[(((size_t)n * Ho + r) * Wo + c) * F + f] *
                                     x[(((size_t)n * H + ir) * W + ic) * C + ch];
                            }
                    dw[(((size_t)f * 3 + kh) * 3 + kw) * C + ch] += s;
                }
    }
}

/* ---- fast ----------------------------------------------------------------------------------- */

#if defined(PRISM_GEMM_OWN)
/* Built with GEMM=prism: every dense product on prism's kernels (gemm.c); no BLAS. */

void nn_linear_forward_fast(float *y, float *pack, const float *x, const float *w, const float *b,
                            int B, int In, int O, int relu) {
    nn_gemm_forward(y, pack, x, w, b, B, In, O, relu);
}

void nn_linear_forward1_fast(float *y, const float *x, const float *w, const float *b, int In,
                             int O, int reverse) {
    nn_matvec(y, x, w, b, In, O, reverse);
}

void nn_matvec_noisy(float *y, float *u, const float *x, const float *t, const float *mu,
                     const float *sigma, const float *b_mu, const float *b_sigma, const float *eo,
                     int In, int O, int reverse) {
    /* y and u double as the bias arguments: each row reads b[o] before writing y[o] */
    for (int o = 0; o < O; o++) y[o] = b_mu[o] + b_sigma[o] * eo[o];
    memset(u, 0, sizeof(float) * (size_t)O);
    nn_matvec(y, x, mu, y, In, O, reverse);
    nn_matvec(u, t, sigma, u, In, O, reverse);
}

void nn_linear_backward_fast(float *dx, float *dw, float *db, const float *dy, const float *x,
                             const float *w, int B, int In, int O, int dw_overwrite) {
    /* the same sums in the same order, vectorised over o (nn_add: restrict, blocks of 16) */
    for (int n = 0; n < B; n++) nn_add(db, dy + (size_t)n * O, (size_t)O);
    nn_gemm_wgrad(dw, dy, x, B, In, O, dw_overwrite);
    if (dx) nn_gemm_dgrad(dx, dy, w, B, In, O);
}

#else
/* The default build: OpenBLAS for wide layers, hand-written kernels for small shapes. */

/* Outputs at or below this count take the hand-written path (head layers with 2-6 actions,
 * 1-6 dueling values): sgemm with N this small spends its time packing. */
#define NARROW_O 8

/* Dot product with 32 independent partial sums: four AVX registers' worth, enough to hide the
 * add latency, in a shape GCC vectorises at -O2 without fast-math (the summation order is
 * fixed by the code, so the result is deterministic). */
static float dot(const float *a, const float *b, int n) {
    float acc[32] = {0};
    int i = 0;
    for (; i + 32 <= n; i += 32)
        for (int j = 0; j < 32; j++) acc[j] += a[i + j] * b[i + j];
    for (int j = 0; j < 8; j++) acc[j] += acc[j + 8] + acc[j + 16] + acc[j + 24];
    float s = 0;
    for (int j = 0; j < 8; j++) s += acc[j];
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void forward_blas(float *y, const float *x, const float *w, const float *b, int B, int In,
                         int O) {
    if (B == 1 && O > NARROW_O) {
        /* Batch-1 acting through a wide layer: sgemv measured 12.6 us for 512x512 against
         * 15.6 us for our row of dot products and 13.1 us for sgemm with M = 1 (the 1 MB of
         * weights streams from L3 either way: L2 is 1 MB per core here). */
        memcpy(y, b, sizeof(float) * (size_t)O);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, O, In, 1.0f, w, In, x, 1, 1.0f, y, 1);
        return;
    }
    if (nn_small_forward(y, x, w, b, B, In, O)) return;
    if (O <= NARROW_O) {
        /* Narrow heads (2-8 outputs): a row of dot products, no packing. */
        for (int n = 0; n < B; n++)
            for (int o = 0; o < O; o++)
                y[(size_t)n * O + o] = b[o] + dot(x + (size_t)n * In, w + (size_t)o * In, In);
        return;
    }
    for (int n = 0; n < B; n++) memcpy(y + (size_t)n * O, b, sizeof(float) * (size_t)O);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, O, In, 1.0f, x, In, w, In, 1.0f, y, O);
}

void nn_linear_forward_fast(float *y, float *pack, const float *x, const float *w, const float *b,
                            int B, int In, int O, int relu) {
    (void)pack;
    forward_blas(y, x, w, b, B, In, O);
    if (relu) nn_relu(y, (size_t)B * (size_t)O);
}

void nn_linear_forward1_fast(float *y, const float *x, const float *w, const float *b, int In,
                             int O, int reverse) {
#if defined(__AVX512F__)
    /* prism's matrix-vector kernel beat sgemv where AVX-512 exists (10.0 against 11.7 us at
     * 512x512); with AVX2 it lost (18.6 against 15.2 us). */
    if (O > NARROW_O && In >= 64) {
        nn_matvec(y, x, w, b, In, O, reverse);
        return;
    }
#else
    (void)reverse;
#endif
    forward_blas(y, x, w, b, 1, In, O);
}

void nn_matvec_noisy(float *y, float *u, const float *x, const float *t, const float *mu,
                     const float *sigma, const float *b_mu, const float *b_sigma, const float *eo,
                     int In, int O, int reverse) {
    for (int o = 0; o < O; o++) y[o] = b_mu[o] + b_sigma[o] * eo[o];
#if defined(__AVX512F__)
    if (O > NARROW_O && In >= 64) {
        /* y and u double as the bias arguments: each row reads b[o] before writing y[o] */
        memset(u, 0, sizeof(float) * (size_t)O);
        nn_matvec(y, x, mu, y, In, O, reverse);
        nn_matvec(u, t, sigma, u, In, O, reverse);
        return;
    }
#else
    (void)reverse;
#endif
    if (O > NARROW_O) {
        memset(u, 0, sizeof(float) * (size_t)O);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, O, In, 1.0f, mu, In, x, 1, 1.0f, y, 1);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, O, In, 1.0f, sigma, In, t, 1, 0.0f, u, 1);
        return;
    }
    for (int o = 0; o < O; o++) {
        y[o] += dot(x, mu + (size_t)o * In, In);
        u[o] = dot(t, sigma + (size_t)o * In, In);
    }
}

void nn_linear_backward_fast(float *dx, float *dw, float *db, const float *dy, const float *x,
                             const float *w, int B, int In, int O, int dw_overwrite) {
    /* the same sums in the same order, vectorised over o (nn_add: restrict, blocks of 16) */
    for (int n = 0; n < B; n++) nn_add(db, dy + (size_t)n * O, (size_t)O);
    if (nn_small_backward(dx, dw, dy, x, w, B, In, O, dw_overwrite)) return;
    if (O <= NARROW_O) {
        if (dw_overwrite) memset(dw, 0, sizeof(float) * (size_t)O * (size_t)In);
        for (int o = 0; o < O; o++)
            for (int n = 0; n < B; n++)
                nn_axpy(dw + (size_t)o * In, dy[(size_t)n * O + o], x + (size_t)n * In, In);
        if (dx)
            for (int n = 0; n < B; n++) {
                float *r = dx + (size_t)n * In;
                memset(r, 0, sizeof(float) * (size_t)In);
                for (int o = 0; o < O; o++)
                    nn_axpy(r, dy[(size_t)n * O + o], w + (size_t)o * In, In);
            }
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, In, B, 1.0f, dy, O, x, In,
                dw_overwrite ? 0.0f : 1.0f, dw, In);
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, In, O, 1.0f, dy, O, w, In, 0.0f,
                    dx, In);
}
#endif

int prism_nn_matmul(float *c, const float *a, const float *b, int M, int N, int K) {
#if defined(PRISM_GEMM_OWN)
    float *zero = prism_calloc((size_t)N, sizeof(float));
    float *pack = prism_alloc(sizeof(float) * nn_gemm_pack_size(K));
    if (!zero || !pack) {
        prism_free(zero), prism_free(pack);
        return 1;
    }
    nn_gemm_forward(c, pack, a, b, zero, M, K, N, 0);
    prism_free(zero), prism_free(pack);
#else
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, a, K, b, K, 0.0f, c, N);
#endif
    return 0;
}

/* The fast conv is direct, not im2col + sgemm: with F = 16 filters one output pixel is a
 * single 16-wide vector, and a kernel that walks the 3x3xC window accumulating
 * x * w^T[k][0..F) needs no patch matrix. Measured on the MinAtar net (10x10x4, F 16, batch
 * 32): im2col + sgemm spent more time building and packing patches than multiplying (prism
 * bench nn: update 466 us with it; see docs/nn.md for the direct kernel's figure).
 * Summation order equals the naive kernel's (bias, then kh, kw, c), so the forward results are
 * bit-identical to it; the weight gradient sums pixels in the naive order too. */

/* wt (9C, F) = w (F, 9C) transposed */
static void transpose(float *restrict wt, const float *restrict w, int F, int K) {
    for (int f = 0; f < F; f++)
        for (int k = 0; k < K; k++) wt[(size_t)k * F + f] = w[(size_t)f * K + k];
}

/* One output pixel, filters [f0, f0 + nf): acc = b + sum over the window of x * wt, in the
 * naive kernel's order (kh, kw, c), multiply then add (no FMA), so the bits match it. */
static void conv_pixel(float *restrict out, const float *restrict x, const float *restrict wt,
                       const float *restrict b, int n, int r, int c, int H, int W, int C, int F,
                       int pad) {
    int f = 0;
#if defined(__AVX__)
    for (; f + 8 <= F; f += 8) {
        __m256 acc = _mm256_loadu_ps(b + f);
        for (int kh = 0; kh < 3; kh++) {
            int ir = r + kh - pad;
            if (ir < 0 || ir >= H) continue;
            for (int kw = 0; kw < 3; kw++) {
                int ic = c + kw - pad;
                if (ic < 0 || ic >= W) continue;
                const float *xs = x + (((size_t)n * H + ir) * W + ic) * C;
                const float *wk = wt + (size_t)((kh * 3 + kw) * C) * F + f;
                for (int ch = 0; ch < C; ch++)
                    acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(xs[ch]),
                                                           _mm256_loadu_ps(wk + (size_t)ch * F)));
            }
        }
        _mm256_storeu_ps(out + f, acc);
    }
#endif
    for (; f < F; f++) {
        float s = b[f];
        for (int kh = 0; kh < 3; kh++) {
            int ir = r + kh - pad;
            if (ir < 0 || ir >= H) continue;
            for (int kw = 0; kw < 3; kw++) {
                int ic = c + kw - pad;
                if (ic < 0 || ic >= W) continue;
                const float *xs = x + (((size_t)n * H + ir) * W + ic) * C;
                const float *wk = wt + (size_t)((kh * 3 + kw) * C) * F + f;
                for (int ch = 0; ch < C; ch++) s += xs[ch] * wk[(size_t)ch * F];
            }
        }
        out[f] = s;
    }
}

#if defined(__AVX__)
/* Four horizontally adjacent interior pixels (every window position inside the image), F a
 * multiple of 8: four independent accumulator chains instead of one, so the adds overlap
 * rather than wait on each other's latency. Same per-element order as conv_pixel. */
static void conv_pixels4(float *restrict out, const float *restrict x, const float *restrict wt,
                         const float *restrict b, int n, int r, int c, int H, int W, int C, int F,
                         int pad) {
    int f = 0;
#if defined(__AVX512F__)
    /* 16 filters per register where the machine has AVX-512: half the instructions. */
    for (; f + 16 <= F; f += 16) {
        __m512 a0 = _mm512_loadu_ps(b + f), a1 = a0, a2 = a0, a3 = a0;
        for (int kh = 0; kh < 3; kh++) {
            int ir = r + kh - pad;
            for (int kw = 0; kw < 3; kw++) {
                const float *xs = x + (((size_t)n * H + ir) * W + (c + kw - pad)) * C;
                const float *wk = wt + (size_t)((kh * 3 + kw) * C) * F + f;
                for (int ch = 0; ch < C; ch++) {
                    __m512 w = _mm512_loadu_ps(wk + (size_t)ch * F);
                    a0 = _mm512_add_ps(a0, _mm512_mul_ps(_mm512_set1_ps(xs[ch]), w));
                    a1 = _mm512_add_ps(a1, _mm512_mul_ps(_mm512_set1_ps(xs[C + ch]), w));
                    a2 = _mm512_add_ps(a2, _mm512_mul_ps(_mm512_set1_ps(xs[2 * C + ch]), w));
                    a3 = _mm512_add_ps(a3, _mm512_mul_ps(_mm512_set1_ps(xs[3 * C + ch]), w));
                }
            }
        }
        _mm512_storeu_ps(out + f, a0);
        _mm512_storeu_ps(out + F + f, a1);
        _mm512_storeu_ps(out + 2 * F + f, a2);
        _mm512_storeu_ps(out + 3 * F + f, a3);
    }
#endif
    for (; f < F; f += 8) {
        __m256 a0 = _mm256_loadu_ps(b + f), a1 = a0, a2 = a0, a3 = a0;
        for (int kh = 0; kh < 3; kh++) {
            int ir = r + kh - pad;
            for (int kw = 0; kw < 3; kw++) {
                const float *xs = x + (((size_t)n * H + ir) * W + (c + kw - pad)) * C;
                const float *wk = wt + (size_t)((kh * 3 + kw) * C) * F + f;
                for (int ch = 0; ch < C; ch++) {
                    __m256 w = _mm256_loadu_ps(wk + (size_t)ch * F);
                    a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_set1_ps(xs[ch]), w));
                    a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_set1_ps(xs[C + ch]), w));
                    a2 = _mm256_add_ps(a2, _mm256_mul_ps(_mm256_set1_ps(xs[2 * C + ch]), w));
                    a3 = _mm256_add_ps(a3, _mm256_mul_ps(_mm256_set1_ps(xs[3 * C + ch]), w));
                }
            }
        }
        _mm256_storeu_ps(out + f, a0);
        _mm256_storeu_ps(out + F + f, a1);
        _mm256_storeu_ps(out + 2 * F + f, a2);
        _mm256_storeu_ps(out + 3 * F + f, a3);
    }
}
#endif

#if defined(__AVX__) /* its callers are the vectorised convolutions */
/* x (B, H, W, C) zero-padded by pad on each side into p (B, H+2pad, W+2pad, C); returns p, or
 * x itself when pad is 0. */
static const float *pad_input(float *p, const float *x, int B, int H, int W, int C, int pad) {
    if (!pad) return x;
    const int Hp = H + 2 * pad, Wp = W + 2 * pad;
    memset(p, 0, sizeof(float) * (size_t)B * Hp * Wp * C);
    for (int n = 0; n < B; n++)
        for (int r = 0; r < H; r++)
            memcpy(p + (((size_t)n * Hp + r + pad) * Wp + pad) * C, x + ((size_t)n * H + r) * W * C,
                   sizeof(float) * (size_t)W * C);
    return p;
}
#endif

void nn_conv_forward_fast(float *y, float *scratch, const float *x, const float *w, const float *b,
                          int B, int H, int W, int C, int F, int pad) {
    int Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2, K = 9 * C;
    float *wt = scratch; /* (9C, F) */
    transpose(wt, w, F, K);
#if defined(__AVX__)
    if (F % 8 == 0 && Wo >= 4) {
        /* Zero-pad the input once so every pixel takes the 4-pixel kernel: border pixels alone
         * have one accumulator chain each and cost as much as all the interior ones. A padded
         * tap adds 0 * w (+-0) to a partial sum, which leaves any nonzero sum unchanged; only
         * the sign of an exactly zero sum can differ, and the ReLU that follows erases it. */
        const int Hp = H + 2 * pad, Wp = W + 2 * pad;
        const float *xp = pad_input(scratch + (size_t)K * F + F, x, B, H, W, C, pad);
        for (int n = 0; n < B; n++)
            for (int r = 0; r < Ho; r++)
                for (int c0 = 0; c0 < Wo; c0 += 4) {
                    /* the last group may overlap the previous one: recomputed pixels get the
                     * same bits */
                    int c = c0 + 4 <= Wo ? c0 : Wo - 4;
                    conv_pixels4(y + (((size_t)n * Ho + r) * Wo + c) * F, xp, wt, b, n, r, c, Hp,
                                 Wp, C, F, 0);
                }
        return;
    }
#endif
    for (int n = 0; n < B; n++)
        for (int r = 0; r < Ho; r++)
            for (int c = 0; c < Wo; c++)
                conv_pixel(y + (((size_t)n * Ho + r) * Wo + c) * F, x, wt, b, n, r, c, H, W, C, F,
                           pad);
}

/* g[f] += a * d[f] for f in [0, F): multiply then add, as the naive kernel. */
static inline void grad_row(float *restrict g, float a, const float *restrict d, int F) {
    int f = 0;
#if defined(__AVX512F__)
    __m512 vz = _mm512_set1_ps(a);
    for (; f + 16 <= F; f += 16)
        _mm512_storeu_ps(g + f, _mm512_add_ps(_mm512_loadu_ps(g + f),
                                              _mm512_mul_ps(_mm512_loadu_ps(d + f), vz)));
#endif
#if defined(__AVX__)
    __m256 va = _mm256_set1_ps(a);
    for (; f + 8 <= F; f += 8)
        _mm256_storeu_ps(g + f, _mm256_add_ps(_mm256_loadu_ps(g + f),
                                              _mm256_mul_ps(_mm256_loadu_ps(d + f), va)));
#endif
    for (; f < F; f++) g[f] += d[f] * a;
}

#if defined(__AVX__)
/* The weight gradient with register accumulators: for 8 filters and 9 consecutive taps k at a
 * time, sum dy[pixel][f] * xp[pixel + offset(k)] over all pixels, in pixel order (the naive
 * kernel's order, so the bits agree), on the zero-padded input (no branches; padded taps add
 * +-0 to a sum that starts at +0, which changes nothing). 9C is always a multiple of 9. */
static void conv_wgrad_avx(float *gt, const float *dy, const float *xp, int B, int Ho, int Wo,
                           int Hp, int Wp, int C, int F) {
    const int K = 9 * C;
    for (int f = 0; f < F; f += 8)
        for (int k0 = 0; k0 < K; k0 += 9) {
            size_t off[9];
            for (int g = 0; g < 9; g++) {
                int k = k0 + g, kh = k / (3 * C), kw = (k / C) % 3, ch = k % C;
                off[g] = ((size_t)kh * Wp + (size_t)kw) * C + (size_t)ch;
            }
            __m256 acc[9];
            for (int g = 0; g < 9; g++) acc[g] = _mm256_setzero_ps();
            for (int n = 0; n < B; n++)
                for (int r = 0; r < Ho; r++)
                    for (int c = 0; c < Wo; c++) {
                        const float *xs = xp + (((size_t)n * Hp + r) * Wp + c) * C;
                        __m256 d = _mm256_loadu_ps(dy + (((size_t)n * Ho + r) * Wo + c) * F + f);
                        for (int g = 0; g < 9; g++)
                            acc[g] =
                                _mm256_add_ps(acc[g], _mm256_mul_ps(d, _mm256_set1_ps(xs[off[g]])));
                    }
            for (int g = 0; g < 9; g++) _mm256_storeu_ps(gt + (size_t)(k0 + g) * F + f, acc[g]);
        }
}
#endif

void nn_conv_backward_fast(float *dw, float *db, const float *dy, const float *x, float *scratch,
                           int B, int H, int W, int C, int F, int pad) {
    int Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2, K = 9 * C;
    float *gt = scratch; /* (9C, F) transposed weight gradient of this call */
    memset(gt, 0, sizeof(float) * (size_t)K * (size_t)F);
    float *dbs = gt + (size_t)K * F; /* (F) */
    memset(dbs, 0, sizeof(float) * (size_t)F);
#if defined(__AVX__)
    if (F % 8 == 0) {
        const float *xp = pad_input(dbs + F, x, B, H, W, C, pad);
        conv_wgrad_avx(gt, dy, xp, B, Ho, Wo, H + 2 * pad, W + 2 * pad, C, F);
        for (int m = 0; m < B * Ho * Wo; m++) nn_add(dbs, dy + (size_t)m * F, (size_t)F);
        for (int f = 0; f < F; f++) {
            db[f] += dbs[f];
            for (int k = 0; k < K; k++) dw[(size_t)f * K + k] += gt[(size_t)k * F + f];
        }
        return;
    }
#endif
    for (int n = 0; n < B; n++)
        for (int r = 0; r < Ho; r++)
            for (int c = 0; c < Wo; c++) {
                const float *d = dy + (((size_t)n * Ho + r) * Wo + c) * F;
                nn_add(dbs, d, (size_t)F);
                for (int kh = 0; kh < 3; kh++) {
                    int ir = r + kh - pad;
                    if (ir < 0 || ir >= H) continue;
                    for (int kw = 0; kw < 3; kw++) {
                        int ic = c + kw - pad;
                        if (ic < 0 || ic >= W) continue;
                        const float *xs = x + (((size_t)n * H + ir) * W + ic) * C;
                        float *gk = gt + (size_t)((kh * 3 + kw) * C) * F;
                        for (int ch = 0; ch < C; ch++) grad_row(gk + (size_t)ch * F, xs[ch], d, F);
                    }
                }
            }
    for (int f = 0; f < F; f++) {
        db[f] += dbs[f];
        for (int k = 0; k < K; k++) dw[(size_t)f * K + k] += gt[(size_t)k * F + f];
    }
}
