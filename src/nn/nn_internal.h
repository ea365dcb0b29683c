/* src/nn/nn_internal.h — what the files of src/nn/ share: the private layer table of a network
 * and the kernels (naive reference and fast). Not a public header: nothing outside src/nn/ and
 * its tests includes it.
 *
 * Dimension letters: B batch, In layer inputs, O layer outputs, H, W, C image, F filters,
 * Ho, Wo conv output size. */
#ifndef PRISM_NN_INTERNAL_H
#define PRISM_NN_INTERNAL_H

#include "prism/nn.h"

#include <stddef.h>
#include <stdint.h>

/* A dense layer: y (B, O) = x (B, In) W^T + b; noisy: W = mu + sigma * (eps_out eps_in^T). */
typedef struct nn_dense {
    int in, out;
    int noisy;
    int relu;          /* ReLU after it (hidden layers) */
    size_t w, b;       /* param offsets of W (O, In) and b (O) (mu for noisy layers) */
    size_t ws, bs;     /* noisy: param offsets of sigma_W (O, In) and sigma_b (O) */
    float *eps_in;     /* noisy: (In) f(e_in) */
    float *eps_out;    /* noisy: (O) f(e_out) */
    float *w_eff;      /* noisy: (O, In) effective weights of the last forward */
    int w_eff_stale;   /* noisy: 1 when the last forward did not materialise w_eff (batch 1) */
    int reverse;       /* batch-1 forward: scan direction of the next call (nn_matvec) */
    float *b_eff;      /* noisy: (O) */
    float *dw_scratch; /* noisy: (O, In) dW before it is split into mu and sigma gradients */
    float *x;          /* (B, In) the input of the last forward (points into an act buffer) */
    float *y;          /* (B, O) output (post-ReLU when relu) */
    int ln;            /* LayerNorm between the linear map and the ReLU (hidden layers) */
    size_t lg, lb;     /* ln: param offsets of the LayerNorm scale and shift (O) */
    float *z;          /* ln: (B, O) the linear output before normalisation */
    float *ln_mean;    /* ln: (B) */
    float *ln_rstd;    /* ln: (B) */
} nn_dense;

struct prism_nn_impl {
    int has_conv;
    int conv_ho, conv_wo;    /* Ho, Wo */
    size_t conv_w, conv_b;   /* (F, 3, 3, C), (F) */
    float *conv_out;         /* (B, Ho, Wo, F) post-ReLU */
    float *conv_scratch;     /* nn_conv_scratch_size floats: transposed weights, padded input */
    size_t conv_lg, conv_lb; /* layer_norm: (F) LayerNorm scale and shift of the conv */
    float *conv_pre;         /* layer_norm: (B, Ho, Wo, F) conv output before normalisation */
    float *conv_mean;        /* layer_norm: (B * Ho * Wo) */
    float *conv_rstd;        /* layer_norm: (B * Ho * Wo) */
    const float *x;          /* (B, in) the last input (caller-owned; only read during forward) */
    int n_dense;             /* hidden layers + head layers */
    nn_dense dense[PRISM_NN_MAX_HIDDEN + 2];
    int n_hidden;   /* dense[0..n_hidden-1] are hidden; then head (or adv, val) */
    float *out;     /* (B, A*N) network outputs */
    float *dbuf[2]; /* (B, maxwidth) ping-pong gradient buffers */
    float *dhead;   /* dueling: (B, A*N) d adv, (B, N) d val */
    float *dval;
    float *q1;   /* (A) batch-1 Q scratch */
    float *pack; /* nn_gemm_pack_size(widest dense input) floats: the forward's packed input */
    uint32_t *bf16_a, *bf16_b; /* precision bf16: the packed operands (nn_bf16_scratch_words) */
    int last_b;                /* B of the last forward, 0 before any */
    /* the quantile embedding (cfg.quantile_embedding_dim > 0), else unused */
    nn_dense embed;    /* E -> K dense: phi before its ReLU (B*T, K) in embed.y */
    float *cosines;    /* (B*T, E) the embedding's input */
    float *prod;       /* (B*T, K) features times phi: the head's input */
    float *dphi;       /* (B*T, K) */
    const float *feat; /* (B, K) the features of the last forward */
    const float *taus; /* (B, T) caller-owned (prism_nn_set_taus) */
    int n_taus;        /* T */
    void *block;       /* the one activation allocation */
};

/* ---- kernels (kernels.c) -------------------------------------------------------------------
 * Each has a naive reference form (plain loops in the obvious order) and a fast form (OpenBLAS
 * or hand-written SIMD-friendly loops). They compute the same function; results differ only by
 * float rounding order. */

/* y (B, O) = x (B, In) w^T (O, In) + b (O). The fast form applies the ReLU itself when relu is
 * 1 (fused into the store) and needs pack, nn_gemm_pack_size(In) floats of scratch. */
void nn_linear_forward_naive(float *y, const float *x, const float *w, const float *b, int B,
                             int In, int O);
void nn_linear_forward_fast(float *y, float *pack, const float *x, const float *w, const float *b,
                            int B, int In, int O, int relu);
/* Batch 1: y (O) = w x + b; reverse alternates the scan direction of nn_matvec where it is
 * used (the bits do not depend on it). */
void nn_linear_forward1_fast(float *y, const float *x, const float *w, const float *b, int In,
                             int O, int reverse);
/* dw (O, In) += dy^T x; db (O) += sum_b dy; dx (B, In) = dy w (overwritten; NULL: skipped).
 * dw_overwrite: 1 writes dw = dy^T x instead of accumulating (noisy scratch). */
void nn_linear_backward_naive(float *dx, float *dw, float *db, const float *dy, const float *x,
                              const float *w, int B, int In, int O, int dw_overwrite);
void nn_linear_backward_fast(float *dx, float *dw, float *db, const float *dy, const float *x,
                             const float *w, int B, int In, int O, int dw_overwrite);

/* AVX-512 kernels for small dense shapes (kernels_small.c): O <= NN_SMALL_DIM outputs
 * (forward and backward) or In <= NN_SMALL_DIM inputs (forward, and backward when no input
 * gradient is wanted). Same contracts as nn_linear_forward_fast / nn_linear_backward_fast
 * minus the bias gradient; return 1 when they handled the call, 0 (nothing touched) when the
 * shape is not theirs or the machine lacks AVX-512. */
#define NN_SMALL_DIM 8
int nn_small_forward(float *y, const float *x, const float *w, const float *b, int B, int In,
                     int O);
int nn_small_backward(float *dx, float *dw, const float *dy, const float *x, const float *w, int B,
                      int In, int O, int dw_overwrite);

/* ---- prism's matrix products (gemm.c) ---------------------------------------------------------
 * Fixed reduction order on every instruction set (see gemm.c): each batched output is one FMA
 * chain over its inner index in ascending order; the vector forms (AVX-512 or AVX2+FMA, chosen
 * at build time) equal the _portable forms bit for bit. */

/* Floats of scratch nn_gemm_forward needs for In inputs: x transposed, 32 rows at a time, and
 * room to align it to 64 bytes. */
static inline size_t nn_gemm_pack_size(int In) {
    return (size_t)In * 32 + 16;
}
/* y (B, O) = relu?(x (B, In) w^T (O, In) + b): each output starts at b[o], then In FMAs. */
void nn_gemm_forward(float *y, float *pack, const float *x, const float *w, const float *b, int B,
                     int In, int O, int relu);
void nn_gemm_forward_portable(float *y, const float *x, const float *w, const float *b, int B,
                              int In, int O, int relu);
/* dx (B, In) = dy (B, O) w (O, In), overwritten: O FMAs from zero. */
void nn_gemm_dgrad(float *dx, const float *dy, const float *w, int B, int In, int O);
void nn_gemm_dgrad_portable(float *dx, const float *dy, const float *w, int B, int In, int O);
/* dw (O, In) = (overwrite) or += dy^T (O, B) x (B, In): per chunk of 32 samples, an FMA chain
 * from zero, then stored (first chunk, overwrite) or added; training batches are one chunk. */
void nn_gemm_wgrad(float *dw, const float *dy, const float *x, int B, int In, int O, int overwrite);
void nn_gemm_wgrad_portable(float *dw, const float *dy, const float *x, int B, int In, int O,
                            int overwrite);
/* Batch 1: y (O) = b + w (O, In) x (In), 16 partial sums a row added in a fixed tree; rows in
 * blocks of 64 taken last-to-first when reverse is 1 (callers alternate it to keep weights in
 * L2). The bits do not depend on reverse. y may equal b. */
void nn_matvec(float *y, const float *x, const float *w, const float *b, int In, int O,
               int reverse);
void nn_matvec_portable(float *y, const float *x, const float *w, const float *b, int In, int O);

/* Batch-1 noisy layer, the two products of the factorised form (nn.c dense_forward_noisy1):
 * y (O) = b_mu + b_sigma * eo + mu (O, In) x (In);  u (O) = sigma (O, In) t (In). */
void nn_matvec_noisy(float *y, float *u, const float *x, const float *t, const float *mu,
                     const float *sigma, const float *b_mu, const float *b_sigma, const float *eo,
                     int In, int O, int reverse);

/* ---- bf16 products (bf16.c) -------------------------------------------------------------------
 * A network at precision bf16 runs its dense layers' products here: operands rounded to bf16,
 * each output one chain of vdpbf16ps steps in fp32 (see bf16.c), the same bits on every CPU. */

/* vcvtneps2bf16 (round to nearest even, denormals to zero, NaN kept NaN) and back. */
uint16_t nn_bf16_from_float(float x);
float nn_bf16_to_float(uint16_t h);
/* Packing: A (rows, P) and B (P, ldb) of bf16 pairs (one uint32_t, element 2i in the low half),
 * P = (K + 1) / 2, the last pair's high half zero when K is odd. Element k of row r of A is
 * src[r * rs + k * ks]; element k of column n of B is src[n * ns + k * ks]; B's columns N to ldb
 * are zero. ldb = nn_bf16_ldb(N). */
void nn_bf16_pack_a(uint32_t *dst, const float *src, int rows, int K, size_t rs, size_t ks);
void nn_bf16_pack_b(uint32_t *dst, size_t ldb, const float *src, int N, int K, size_t ns,
                    size_t ks);
size_t nn_bf16_ldb(int N);
/* C (M, N), rows ldc apart: acc = bias ? bias[n] : 0, then for each pair i the two vdpbf16ps
 * steps with A[m][i] and B[i][n]; then C = acc (STORE), C = relu(acc) (RELU) or C += acc (ADD,
 * an ordinary fp32 add). nn_bf16_gemm picks the hardware kernel where the CPU has AVX512_BF16,
 * else the emulation, and splits the columns over the thread pool; _emulated (AVX2+FMA where
 * built, else portable) and _portable are for tests; _hw returns 0 (nothing touched) where the
 * CPU lacks the extension. */
enum { NN_BF16_STORE = 0, NN_BF16_RELU = 1, NN_BF16_ADD = 2 };
void nn_bf16_gemm(float *C, size_t ldc, const uint32_t *A, const uint32_t *Bp, size_t ldb,
                  const float *bias, int M, int N, int P, int mode);
void nn_bf16_gemm_emulated(float *C, size_t ldc, const uint32_t *A, const uint32_t *Bp, size_t ldb,
                           const float *bias, int M, int N, int P, int mode);
void nn_bf16_gemm_portable(float *C, size_t ldc, const uint32_t *A, const uint32_t *Bp, size_t ldb,
                           const float *bias, int M, int N, int P, int mode);
int nn_bf16_gemm_hw(float *C, size_t ldc, const uint32_t *A, const uint32_t *Bp, size_t ldb,
                    const float *bias, int M, int N, int P, int mode);
/* A dense layer's products, contracts as nn_linear_forward_fast / nn_linear_backward_fast (db
 * summed in fp32); pa and pb are nn_bf16_scratch_words' sizes of scratch for the largest call. */
void nn_bf16_forward(float *y, uint32_t *pa, uint32_t *pb, const float *x, const float *w,
                     const float *b, int B, int In, int O, int relu);
void nn_bf16_backward(float *dx, float *dw, float *db, uint32_t *pa, uint32_t *pb, const float *dy,
                      const float *x, const float *w, int B, int In, int O, int dw_overwrite);
void nn_bf16_scratch_words(int rows, int In, int O, size_t *a_words, size_t *b_words);

/* ---- the worker pool (thread_pool.c) ---------------------------------------------------------
 * One per process: the caller plus threads - 1 parked workers. nn_pool_run calls fn(ctx, part,
 * parts) for every part in [0, parts), part 0 on the calling thread, and returns when all are
 * done; parts is the pool's thread count (1: fn runs once, inline). */
typedef void (*nn_pool_fn)(void *ctx, int part, int parts);
/* Start (or resize to) `threads` threads, 1 to PRISM_NN_MAX_THREADS, in any build; 1 joins the
 * workers. prism_nn_set_threads is the public form, which also refuses threads > 1 in a build
 * whose dense layers run on OpenBLAS. */
prism_status nn_pool_start(int threads);
int nn_pool_threads(void);
void nn_pool_run(nn_pool_fn fn, void *ctx);
/* Jobs run on more than one thread since the process started (tests: a split happened). */
unsigned long long nn_pool_jobs(void);

/* Floats of scratch the fast conv needs at batch B: the transposed weights or weight
 * gradient (9C, F) plus F, and the zero-padded input (B, H+2, W+2, C). */
static inline size_t nn_conv_scratch_size(const prism_nn_config *c, int B) {
    size_t C = (size_t)c->in_c, F = (size_t)c->conv_filters;
    return 9 * C * F + F + (size_t)B * (size_t)(c->in_h + 2) * (size_t)(c->in_w + 2) * C;
}

/* conv 3x3 stride 1: y (B, Ho, Wo, F) = conv(x (B, H, W, C), w (F, 3, 3, C)) + b, pad 1 (SAME)
 * or 0 (VALID). The fast form is a direct kernel that needs scratch of 9*C*F + F floats. */
void nn_conv_forward_naive(float *y, const float *x, const float *w, const float *b, int B, int H,
                           int W, int C, int F, int pad);
void nn_conv_forward_fast(float *y, float *scratch, const float *x, const float *w, const float *b,
                          int B, int H, int W, int C, int F, int pad);
/* dw (F, 3, 3, C) += ...; db (F) += ...: the input gradient is never needed (the conv is the
 * first layer). */
void nn_conv_backward_naive(float *dw, float *db, const float *dy, const float *x, int B, int H,
                            int W, int C, int F, int pad);
void nn_conv_backward_fast(float *dw, float *db, const float *dy, const float *x, float *scratch,
                           int B, int H, int W, int C, int F, int pad);

/* LayerNorm over the last dimension (layer_norm.c): y (R, D) = (x - mean) * rstd * g (D) + b (D),
 * saving mean (R) and rstd (R) = 1 / sqrt(biased var + eps) for backward. Backward accumulates
 * dg (D) and db (D) and overwrites dx (R, D), which may alias dy. The fast and portable forms
 * fuse the ReLU that follows LayerNorm in every network that has it: forward applies it to y
 * when relu is 1; backward, given y (the post-ReLU output; NULL: no ReLU), masks dy by y > 0
 * as it reads it. The portable forms are blocked loops in plain C; the fast forms equal them
 * bit for bit (AVX2 intrinsics where built, else the portable forms). */
void nn_layer_norm_forward_naive(float *y, float *mean, float *rstd, const float *x, const float *g,
                                 const float *b, int R, int D, float eps);
void nn_layer_norm_forward_portable(float *y, float *mean, float *rstd, const float *x,
                                    const float *g, const float *b, int R, int D, float eps,
                                    int relu);
void nn_layer_norm_forward_fast(float *y, float *mean, float *rstd, const float *x, const float *g,
                                const float *b, int R, int D, float eps, int relu);
void nn_layer_norm_backward_naive(float *dx, float *dg, float *db, const float *dy, const float *x,
                                  const float *mean, const float *rstd, const float *g, int R,
                                  int D);
void nn_layer_norm_backward_portable(float *dx, float *dg, float *db, const float *dy,
                                     const float *x, const float *mean, const float *rstd,
                                     const float *g, const float *y, int R, int D);
void nn_layer_norm_backward_fast(float *dx, float *dg, float *db, const float *dy, const float *x,
                                 const float *mean, const float *rstd, const float *g,
                                 const float *y, int R, int D);

/* Orthogonal initialisation (orthogonal.c): w (rows, cols) = gain * Q from the QR decomposition
 * of a (rows x cols, transposed when rows < cols) in double, Q's columns signed by diag(R) as
 * torch.nn.init.orthogonal_. `a` is the starting matrix, (rows, cols) row-major, overwritten.
 * nn_init_orthogonal draws `a` standard normal from rng. Return PRISM_ERR_NOMEM on allocation
 * failure (scratch of rows * cols doubles). */
prism_status nn_orthogonalize(float *w, double *a, int rows, int cols, double gain);
prism_status nn_init_orthogonal(float *w, int rows, int cols, double gain, prism_rng *rng);

/* Force OpenBLAS to one thread (at every prism_nn_init). */
void nn_blas_single_thread(void);
/* Set and read OpenBLAS's thread count (tests: whatever it was set to, init makes it one). */
void nn_blas_set_threads(int n);
int nn_blas_threads(void);
/* PRISM_ERR_NOMEM with what to do when RLIMIT_AS leaves no room for OpenBLAS's work buffer
 * (it would spin forever at the first matrix product); PRISM_OK otherwise. */
prism_status nn_blas_check_address_space(void);

/* ---- vector helpers --------------------------------------------------------------------------
 * Written as blocks of 16 with a fixed inner count: at -O2 GCC only vectorises a loop when the
 * vector code replaces the scalar code entirely (its "very cheap" cost model), which a loop of
 * unknown length never satisfies but a 16-wide block does. restrict rules out aliasing checks.
 * Each element sees the same operations as in a plain loop, so results do not change. */

/* y[i] += a * x[i] */
static inline void nn_axpy(float *restrict y, float a, const float *restrict x, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) y[i + j] += a * x[i + j];
    for (; i < n; i++) y[i] += a * x[i];
}

/* y[i] += x[i] */
static inline void nn_add(float *restrict y, const float *restrict x, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) y[i + j] += x[i + j];
    for (; i < n; i++) y[i] += x[i];
}

/* y = max(y, 0), with NaN passed through: `y > 0 ? y : 0` would turn a NaN into 0 and hide a
 * diverged weight from the loss and Q-value checks (the watchdog relies on them). -0.0 still
 * becomes +0.0. */
static inline void nn_relu(float *restrict y, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) y[i + j] = !(y[i + j] <= 0.0f) ? y[i + j] : 0.0f;
    for (; i < n; i++) y[i] = !(y[i] <= 0.0f) ? y[i] : 0.0f;
}

/* dy = y > 0 ? dy : 0 (the ReLU backward, y the post-ReLU output) */
static inline void nn_relu_backward(float *restrict dy, const float *restrict y, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) dy[i + j] = y[i + j] > 0.0f ? dy[i + j] : 0.0f;
    for (; i < n; i++) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* ---- the implicit quantile embedding (tau_embed.c) -------------------------------------------
 * cosines (R, E) = cos(pi i tau_r), i = 1..E, for R fractions taus (R). */
void nn_tau_cosines(float *cosines, const float *taus, int R, int E);
/* h (B*T, K): row b*T + t = feat[b] (K) * ReLU(phi[b*T + t]) (K), elementwise; phi is the
 * embedding layer's linear output (the layer has no ReLU of its own: it is applied here). */
void nn_tau_product_forward(float *h, const float *feat, const float *phi, int B, int T, int K);
/* Its backward for dh (B*T, K): dphi (B*T, K) = dh * feat[b] where phi > 0, else 0 (the
 * gradient of the linear output, overwritten), dfeat (B, K) = sum_t dh * ReLU(phi) (overwritten;
 * NULL: skipped, when nothing below needs it). */
void nn_tau_product_backward(float *dphi, float *dfeat, const float *dh, const float *feat,
                             const float *phi, int B, int T, int K);

/* f(e) = sgn(e) sqrt(|e|) (Fortunato et al.). */
float nn_noise_f(double e);

#endif
