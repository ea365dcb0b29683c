/* src/nn/layer_norm.c — LayerNorm over the last dimension of (R, D) rows, forward and backward,
 * each in a naive reference form (double sums, plain loops), a portable form (float sums in
 * 16 partial accumulators, blocked loops the compiler vectorises) and a fast form that equals
 * the portable one bit for bit (AVX2 intrinsics). The portable and fast forms also apply the
 * ReLU that follows (forward) and its mask (backward), saving a pass over the activations. nn.c
 * wires it in after the conv and the hidden dense layers when cfg.layer_norm is on. It is not a
 * general normalisation layer: no batch statistics, no running averages (PQN's network needs
 * neither).
 *
 * Dimension letters: R rows (batch, or batch * pixels after a conv), D normalised features. */
#include "nn_internal.h"

#include <math.h>
#include <string.h>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

void nn_layer_norm_forward_naive(float *y, float *mean, float *rstd, const float *x, const float *g,
                                 const float *b, int R, int D, float eps) {
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * D;
        double s = 0, ss = 0;
        for (int i = 0; i < D; i++) s += (double)xr[i];
        double m = s / D;
        for (int i = 0; i < D; i++) ss += ((double)xr[i] - m) * ((double)xr[i] - m);
        double rs = 1.0 / sqrt(ss / D + (double)eps);
        mean[r] = (float)m, rstd[r] = (float)rs;
        for (int i = 0; i < D; i++)
            y[(size_t)r * D + i] = (float)(((double)xr[i] - m) * rs) * g[i] + b[i];
    }
}

/* Every loop of the portable forms runs in blocks of 16 with a fixed inner count, the shape GCC's
 * -O2 cost model vectorises (see nn_axpy in nn_internal.h), with restrict where nothing
 * aliases; each element sees the same operations as in a plain loop, so blocking changes no
 * result. */

/* yr = ((xr - m) * rs) * g + b */
static void normalise_row(float *restrict yr, const float *restrict xr, const float *restrict g,
                          const float *restrict b, float m, float rs, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) yr[i + j] = ((xr[i + j] - m) * rs) * g[i + j] + b[i + j];
    for (; i < n; i++) yr[i] = ((xr[i] - m) * rs) * g[i] + b[i];
}

/* Sum of n floats in 16 fixed partial sums (deterministic order, vectorisable). */
static float sum16(const float *restrict x, int n) {
    float acc[16] = {0};
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += x[i + j];
    for (; i < n; i++) acc[0] += x[i];
    float s = 0;
    for (int j = 0; j < 16; j++) s += acc[j];
    return s;
}

/* Sum of (x - m)^2 in the same way. */
static float sumsq16(const float *restrict x, float m, int n) {
    float acc[16] = {0};
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += (x[i + j] - m) * (x[i + j] - m);
    for (; i < n; i++) acc[0] += (x[i] - m) * (x[i] - m);
    float s = 0;
    for (int j = 0; j < 16; j++) s += acc[j];
    return s;
}

#if defined(__AVX2__)
/* The fast forms: the portable forms' arithmetic written with AVX2 intrinsics, eight rows at a
 * time. A row's 16 partial sums are lanes 0-7 and 8-15 of two registers (tail elements go to
 * partial 0, as in sum16); what made the portable forms slow is adding the 16 partials of a
 * row one after another, a chain of 16 dependent adds per sum, twice per row in each
 * direction. Here the partials of eight rows are transposed so that lane r holds row r, and
 * the same chain of adds runs for eight rows at once. Every value sees the operations of the
 * portable forms in the same order (sqrt and division are correctly rounded in both), so the
 * bits are theirs; tests/test_nn_layer_norm.c compares them. */

/* The 8 x 8 transpose of r[0..7] in registers. */
static inline void transpose8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int k = 0; k < 8; k += 2) {
        t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
        t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
    }
    for (int k = 0; k < 8; k += 4) {
        u[k] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int k = 0; k < 4; k++) {
        r[k] = _mm256_permute2f128_ps(u[k], u[k + 4], 0x20);
        r[k + 4] = _mm256_permute2f128_ps(u[k], u[k + 4], 0x31);
    }
}

/* Per lane r: 0 + a0[r] + lo[r][1] + ... + lo[r][7] + hi[r][0] + ... + hi[r][7], for the
 * eight rows' partials lo[r] (acc[0..7]; acc[0] replaced by a0[r], which took the tail) and
 * hi[r] (acc[8..15]). lo and hi are transposed in place. */
static inline __m256 sum_partials8(const float a0[8], __m256 lo[8], __m256 hi[8]) {
    transpose8(lo), transpose8(hi);
    __m256 s = _mm256_add_ps(_mm256_setzero_ps(), _mm256_loadu_ps(a0));
    for (int k = 1; k < 8; k++) s = _mm256_add_ps(s, lo[k]);
    for (int k = 0; k < 8; k++) s = _mm256_add_ps(s, hi[k]);
    return s;
}

/* y = !(y <= 0) ? y : 0 per lane (nn_relu's rule: NaN passes, -0 becomes +0) */
static inline __m256 relu8(__m256 y) {
    return _mm256_andnot_ps(_mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_LE_OQ), y);
}

/* dy where y > 0, else +0 (nn_relu_backward's rule); y NULL: dy */
static inline __m256 load_dy(const float *dy, const float *y, int i) {
    __m256 d = _mm256_loadu_ps(dy + i);
    if (!y) return d;
    return _mm256_and_ps(_mm256_cmp_ps(_mm256_loadu_ps(y + i), _mm256_setzero_ps(), _CMP_GT_OQ), d);
}

/* One row's partial sums of x (m NULL) or of (x - *m)^2: lo, hi the 16 block partials, the
 * return value partial 0 after the tail. */
static inline float row_partials(__m256 *lo, __m256 *hi, const float *restrict xr, const float *m,
                                 int D) {
    const int nb = D / 16 * 16;
    __m256 l = _mm256_setzero_ps(), h = _mm256_setzero_ps();
    if (!m) {
        for (int i = 0; i < nb; i += 16) {
            l = _mm256_add_ps(l, _mm256_loadu_ps(xr + i));
            h = _mm256_add_ps(h, _mm256_loadu_ps(xr + i + 8));
        }
    } else {
        const __m256 mv = _mm256_set1_ps(*m);
        for (int i = 0; i < nb; i += 16) {
            __m256 t0 = _mm256_sub_ps(_mm256_loadu_ps(xr + i), mv);
            __m256 t1 = _mm256_sub_ps(_mm256_loadu_ps(xr + i + 8), mv);
            l = _mm256_add_ps(l, _mm256_mul_ps(t0, t0));
            h = _mm256_add_ps(h, _mm256_mul_ps(t1, t1));
        }
    }
    float a0 = _mm256_cvtss_f32(l);
    if (!m)
        for (int i = nb; i < D; i++) a0 += xr[i];
    else
        for (int i = nb; i < D; i++) a0 += (xr[i] - *m) * (xr[i] - *m);
    *lo = l, *hi = h;
    return a0;
}

/* yr = relu?(((xr - m) * rs) * g + b) */
static inline void normalise_row8(float *restrict yr, const float *restrict xr,
                                  const float *restrict g, const float *restrict b, float m,
                                  float rs, int D, int relu) {
    const __m256 mv = _mm256_set1_ps(m), rv = _mm256_set1_ps(rs);
    int i = 0;
    for (; i + 8 <= D; i += 8) {
        __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), mv), rv);
        __m256 y = _mm256_add_ps(_mm256_mul_ps(t, _mm256_loadu_ps(g + i)), _mm256_loadu_ps(b + i));
        _mm256_storeu_ps(yr + i, relu ? relu8(y) : y);
    }
    for (; i < D; i++) {
        float y = ((xr[i] - m) * rs) * g[i] + b[i];
        yr[i] = relu && y <= 0.0f ? 0.0f : y;
    }
}

/* Widest row the forward form pads to eight rows on the stack (8 KB for x and y together). */
#define PAD_MAX_D 128

/* Eight rows of the forward form. */
static void forward_rows8(float *y, float *mean, float *rstd, const float *x, const float *g,
                          const float *b, int D, float inv_d, float eps, int relu) {
    __m256 lo[8], hi[8];
    float a0[8], m[8], rs[8];
    for (int k = 0; k < 8; k++) a0[k] = row_partials(&lo[k], &hi[k], x + (size_t)k * D, NULL, D);
    _mm256_storeu_ps(m, _mm256_mul_ps(sum_partials8(a0, lo, hi), _mm256_set1_ps(inv_d)));
    for (int k = 0; k < 8; k++) a0[k] = row_partials(&lo[k], &hi[k], x + (size_t)k * D, &m[k], D);
    __m256 var = _mm256_mul_ps(sum_partials8(a0, lo, hi), _mm256_set1_ps(inv_d));
    _mm256_storeu_ps(rs, _mm256_div_ps(_mm256_set1_ps(1.0f),
                                       _mm256_sqrt_ps(_mm256_add_ps(var, _mm256_set1_ps(eps)))));
    memcpy(mean, m, sizeof m), memcpy(rstd, rs, sizeof rs);
    for (int k = 0; k < 8; k++)
        normalise_row8(y + (size_t)k * D, x + (size_t)k * D, g, b, m[k], rs[k], D, relu);
}
#endif

void nn_layer_norm_forward_portable(float *y, float *mean, float *rstd, const float *x,
                                    const float *g, const float *b, int R, int D, float eps,
                                    int relu) {
    const float inv_d = 1.0f / (float)D;
    for (int r = 0; r < R; r++) {
        const float *restrict xr = x + (size_t)r * D;
        float *restrict yr = y + (size_t)r * D;
        float m = sum16(xr, D) * inv_d;
        float rs = 1.0f / sqrtf(sumsq16(xr, m, D) * inv_d + eps);
        mean[r] = m, rstd[r] = rs;
        normalise_row(yr, xr, g, b, m, rs, D);
        if (relu) nn_relu(yr, (size_t)D);
    }
}

void nn_layer_norm_forward_fast(float *y, float *mean, float *rstd, const float *x, const float *g,
                                const float *b, int R, int D, float eps, int relu) {
#if defined(__AVX2__)
    const float inv_d = 1.0f / (float)D;
    int r = 0;
    for (; r + 8 <= R; r += 8) {
        const size_t o = (size_t)r * D;
        forward_rows8(y + o, mean + r, rstd + r, x + o, g, b, D, inv_d, eps, relu);
    }
    if (r < R && D <= PAD_MAX_D) {
        /* the last rows (acting with a few environments: all of them) padded to eight with
         * zero rows, whose results are dropped: each lane is its own row, so the bits of the
         * real rows do not depend on the padding */
        const int n = R - r;
        float xp[8 * PAD_MAX_D] = {0}, yp[8 * PAD_MAX_D], mp[8], rp[8];
        memcpy(xp, x + (size_t)r * D, sizeof(float) * (size_t)n * D);
        forward_rows8(yp, mp, rp, xp, g, b, D, inv_d, eps, relu);
        memcpy(y + (size_t)r * D, yp, sizeof(float) * (size_t)n * D);
        memcpy(mean + r, mp, sizeof(float) * (size_t)n);
        memcpy(rstd + r, rp, sizeof(float) * (size_t)n);
    } else if (r < R)
        nn_layer_norm_forward_portable(y + (size_t)r * D, mean + r, rstd + r, x + (size_t)r * D, g,
                                       b, R - r, D, eps, relu);
#else
    nn_layer_norm_forward_portable(y, mean, rstd, x, g, b, R, D, eps, relu);
#endif
}

void nn_layer_norm_backward_naive(float *dx, float *dg, float *db, const float *dy, const float *x,
                                  const float *mean, const float *rstd, const float *g, int R,
                                  int D) {
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * D, *dyr = dy + (size_t)r * D;
        double m = mean[r], rs = rstd[r], s1 = 0, s2 = 0;
        for (int i = 0; i < D; i++) {
            double xh = ((double)xr[i] - m) * rs, dxh = (double)dyr[i] * (double)g[i];
            s1 += dxh, s2 += dxh * xh;
            dg[i] += (float)((double)dyr[i] * xh);
            db[i] += dyr[i];
        }
        s1 /= D, s2 /= D;
        /* dx may alias dy: each element is read before it is written */
        for (int i = 0; i < D; i++) {
            double xh = ((double)xr[i] - m) * rs, dxh = (double)dyr[i] * (double)g[i];
            dx[(size_t)r * D + i] = (float)(rs * (dxh - s1 - xh * s2));
        }
    }
}

/* One row's parameter gradients (dg += dy * xhat, db += dy) and the two row sums the input
 * gradient needs, s[0] = sum dy * g and s[1] = sum dy * g * xhat (16 partial sums each). */
static void row_sums(float *restrict dg, float *restrict db, float s[2], const float *restrict dyr,
                     const float *restrict xr, const float *restrict g, float m, float rs, int D) {
    float a1[16] = {0}, a2[16] = {0};
    int i = 0;
    for (; i + 16 <= D; i += 16)
        for (int j = 0; j < 16; j++) {
            float xh = (xr[i + j] - m) * rs, dxh = dyr[i + j] * g[i + j];
            a1[j] += dxh, a2[j] += dxh * xh;
            dg[i + j] += dyr[i + j] * xh;
            db[i + j] += dyr[i + j];
        }
    for (; i < D; i++) {
        float xh = (xr[i] - m) * rs, dxh = dyr[i] * g[i];
        a1[0] += dxh, a2[0] += dxh * xh;
        dg[i] += dyr[i] * xh;
        db[i] += dyr[i];
    }
    s[0] = s[1] = 0;
    for (int j = 0; j < 16; j++) s[0] += a1[j], s[1] += a2[j];
}

/* dxr = rs * (dyr * g - s1 - xhat * s2); dxr may be dyr (each element read, then written), so
 * neither is restrict. */
static void input_grad_row(float *dxr, const float *dyr, const float *restrict xr,
                           const float *restrict g, float m, float rs, float s1, float s2, int D) {
    int i = 0;
    for (; i + 16 <= D; i += 16) {
        float t[16];
        for (int j = 0; j < 16; j++) {
            float xh = (xr[i + j] - m) * rs;
            t[j] = rs * (dyr[i + j] * g[i + j] - s1 - xh * s2);
        }
        for (int j = 0; j < 16; j++) dxr[i + j] = t[j];
    }
    for (; i < D; i++) {
        float xh = (xr[i] - m) * rs;
        dxr[i] = rs * (dyr[i] * g[i] - s1 - xh * s2);
    }
}

#if defined(__AVX2__)
/* One row's parameter gradients and the 16 partials of its two row sums (see row_sums): lo1,
 * hi1 of sum dy * g, lo2, hi2 of sum dy * g * xhat, partial 0 after the tail in b[0], b[1]. */
static inline void row_grad_partials(__m256 *lo1, __m256 *hi1, __m256 *lo2, __m256 *hi2, float b[2],
                                     float *restrict dg, float *restrict db, const float *dyr,
                                     const float *yr, const float *restrict xr,
                                     const float *restrict g, float m, float rs, int D) {
    const int nb = D / 16 * 16;
    const __m256 mv = _mm256_set1_ps(m), rv = _mm256_set1_ps(rs);
    __m256 a1[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    __m256 a2[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int i = 0; i < nb; i += 16)
        for (int h = 0; h < 2; h++) {
            const int k = i + 8 * h;
            __m256 d = load_dy(dyr, yr, k);
            __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + k), mv), rv);
            __m256 dxh = _mm256_mul_ps(d, _mm256_loadu_ps(g + k));
            a1[h] = _mm256_add_ps(a1[h], dxh);
            a2[h] = _mm256_add_ps(a2[h], _mm256_mul_ps(dxh, xh));
            _mm256_storeu_ps(dg + k, _mm256_add_ps(_mm256_loadu_ps(dg + k), _mm256_mul_ps(d, xh)));
            _mm256_storeu_ps(db + k, _mm256_add_ps(_mm256_loadu_ps(db + k), d));
        }
    float b1 = _mm256_cvtss_f32(a1[0]), b2 = _mm256_cvtss_f32(a2[0]);
    for (int i = nb; i < D; i++) {
        float d = yr && !(yr[i] > 0.0f) ? 0.0f : dyr[i];
        float xh = (xr[i] - m) * rs, dxh = d * g[i];
        b1 += dxh, b2 += dxh * xh;
        dg[i] += d * xh;
        db[i] += d;
    }
    *lo1 = a1[0], *hi1 = a1[1], *lo2 = a2[0], *hi2 = a2[1];
    b[0] = b1, b[1] = b2;
}

/* dxr = rs * (dy * g - s1 - xhat * s2), dy masked by yr; dxr may be dyr (each 8 read, then
 * written). */
static inline void input_grad_row8(float *dxr, const float *dyr, const float *yr,
                                   const float *restrict xr, const float *restrict g, float m,
                                   float rs, float s1, float s2, int D) {
    const __m256 mv = _mm256_set1_ps(m), rv = _mm256_set1_ps(rs);
    const __m256 s1v = _mm256_set1_ps(s1), s2v = _mm256_set1_ps(s2);
    int i = 0;
    for (; i + 8 <= D; i += 8) {
        __m256 d = load_dy(dyr, yr, i);
        __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), mv), rv);
        __m256 t = _mm256_sub_ps(_mm256_sub_ps(_mm256_mul_ps(d, _mm256_loadu_ps(g + i)), s1v),
                                 _mm256_mul_ps(xh, s2v));
        _mm256_storeu_ps(dxr + i, _mm256_mul_ps(rv, t));
    }
    for (; i < D; i++) {
        float d = yr && !(yr[i] > 0.0f) ? 0.0f : dyr[i];
        float xh = (xr[i] - m) * rs;
        dxr[i] = rs * (d * g[i] - s1 - xh * s2);
    }
}

/* Eight rows of the backward form; y NULL: no ReLU mask. */
static void backward_rows8(float *dx, float *dg, float *db, const float *dy, const float *x,
                           const float *mean, const float *rstd, const float *g, const float *y,
                           int D, float inv_d) {
    __m256 lo1[8], hi1[8], lo2[8], hi2[8];
    float b1[8], b2[8], s1[8], s2[8];
    for (int k = 0; k < 8; k++) {
        const size_t o = (size_t)k * D;
        float b[2];
        row_grad_partials(&lo1[k], &hi1[k], &lo2[k], &hi2[k], b, dg, db, dy + o, y ? y + o : NULL,
                          x + o, g, mean[k], rstd[k], D);
        b1[k] = b[0], b2[k] = b[1];
    }
    const __m256 id = _mm256_set1_ps(inv_d);
    _mm256_storeu_ps(s1, _mm256_mul_ps(sum_partials8(b1, lo1, hi1), id));
    _mm256_storeu_ps(s2, _mm256_mul_ps(sum_partials8(b2, lo2, hi2), id));
    for (int k = 0; k < 8; k++) {
        const size_t o = (size_t)k * D;
        input_grad_row8(dx + o, dy + o, y ? y + o : NULL, x + o, g, mean[k], rstd[k], s1[k], s2[k],
                        D);
    }
}
#endif

void nn_layer_norm_backward_portable(float *dx, float *dg, float *db, const float *dy,
                                     const float *x, const float *mean, const float *rstd,
                                     const float *g, const float *y, int R, int D) {
    const float inv_d = 1.0f / (float)D;
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * D, *dyr = dy + (size_t)r * D;
        float *dxr = dx + (size_t)r * D;
        if (y) {
            /* the ReLU's mask first, into dx (each element read, then written) */
            const float *yr = y + (size_t)r * D;
            for (int i = 0; i < D; i++) dxr[i] = yr[i] > 0.0f ? dyr[i] : 0.0f;
            dyr = dxr;
        }
        float s[2];
        row_sums(dg, db, s, dyr, xr, g, mean[r], rstd[r], D);
        input_grad_row(dxr, dyr, xr, g, mean[r], rstd[r], s[0] * inv_d, s[1] * inv_d, D);
    }
}

void nn_layer_norm_backward_fast(float *dx, float *dg, float *db, const float *dy, const float *x,
                                 const float *mean, const float *rstd, const float *g,
                                 const float *y, int R, int D) {
#if defined(__AVX2__)
    const float inv_d = 1.0f / (float)D;
    int r = 0;
    for (; r + 8 <= R; r += 8) {
        const size_t o = (size_t)r * D;
        backward_rows8(dx + o, dg, db, dy + o, x + o, mean + r, rstd + r, g, y ? y + o : NULL, D,
                       inv_d);
    }
    if (r < R) {
        const size_t o = (size_t)r * D;
        nn_layer_norm_backward_portable(dx + o, dg, db, dy + o, x + o, mean + r, rstd + r, g,
                                        y ? y + o : NULL, R - r, D);
    }
#else
    nn_layer_norm_backward_portable(dx, dg, db, dy, x, mean, rstd, g, y, R, D);
#endif
}
