/* src/nn/layer_norm.c — LayerNorm over the last dimension of (R, D) rows, forward and backward,
 * each in a naive reference form (double sums, plain loops) and a fast form (float sums in
 * 16 partial accumulators the compiler keeps in vector registers). nn.c wires it in after the
 * conv and the hidden dense layers when cfg.layer_norm is on. It is not a general normalisation
 * layer: no batch statistics, no running averages (PQN's network needs neither).
 *
 * Dimension letters: R rows (batch, or batch * pixels after a conv), D normalised features. */
#include "nn_internal.h"

#include <math.h>

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

/* Every loop of the fast forms runs in blocks of 16 with a fixed inner count, the shape GCC's
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

void nn_layer_norm_forward_fast(float *y, float *mean, float *rstd, const float *x, const float *g,
                                const float *b, int R, int D, float eps) {
    const float inv_d = 1.0f / (float)D;
    for (int r = 0; r < R; r++) {
        const float *restrict xr = x + (size_t)r * D;
        float *restrict yr = y + (size_t)r * D;
        float m = sum16(xr, D) * inv_d;
        float rs = 1.0f / sqrtf(sumsq16(xr, m, D) * inv_d + eps);
        mean[r] = m, rstd[r] = rs;
        normalise_row(yr, xr, g, b, m, rs, D);
    }
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

void nn_layer_norm_backward_fast(float *dx, float *dg, float *db, const float *dy, const float *x,
                                 const float *mean, const float *rstd, const float *g, int R,
                                 int D) {
    const float inv_d = 1.0f / (float)D;
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * D, *dyr = dy + (size_t)r * D;
        const float m = mean[r], rs = rstd[r];
        float s[2];
        row_sums(dg, db, s, dyr, xr, g, m, rs, D);
        input_grad_row(dx + (size_t)r * D, dyr, xr, g, m, rs, s[0] * inv_d, s[1] * inv_d, D);
    }
}
