/* src/nn/tau_embed.c — the arithmetic of the implicit quantile embedding (IQN, Dabney et al.
 * 2018) around its dense layer: the cosine features of the fractions, and the product of each
 * sample's features with the embedding of each of its fractions, forward and backward. The dense
 * layer between them (W, b) is an ordinary dense layer of the network (nn.c), with its naive and
 * fast kernels; its ReLU is applied here, inside the product. Not here: where the embedding sits
 * in the network (nn.c).
 *
 * Dimension letters: B samples, T fractions per sample, E embedding dim, K feature width. */
#include "nn_internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

void nn_tau_cosines(float *cosines, const float *taus, int R, int E) {
    for (int r = 0; r < R; r++) {
        /* One cos per fraction, then Chebyshev's recurrence cos((i+1)t) = 2 cos t cos(i t) -
         * cos((i-1)t) in double: a cos per value was a fifth of an IQN update, and the
         * recurrence's error grows only linearly in i (about E * 1e-16, far below float's). */
        const double c1 = cos((double)taus[r] * 3.14159265358979323846);
        double prev = 1.0, cur = c1;
        float *out = cosines + (size_t)r * E;
        for (int i = 0; i < E; i++) {
            out[i] = (float)cur;
            const double next = 2.0 * c1 * cur - prev;
            prev = cur, cur = next;
        }
    }
}

/* phi is the embedding layer's linear output: its ReLU is applied here, as each value is read,
 * rather than in a pass of its own over the B*T rows (nn_relu's rule: NaN stays NaN). phi is
 * left as it is, so backward takes the ReLU's mask from its sign. The loops run in blocks of
 * 16, the shape GCC vectorises at -O2 (kernels.c's nn_add). */
static inline float relu(float v) {
    return !(v <= 0.0f) ? v : 0.0f;
}

static void product_row(float *restrict y, const float *restrict x, const float *restrict e,
                        int K) {
    int k = 0;
    for (; k + 16 <= K; k += 16)
        for (int j = 0; j < 16; j++) y[k + j] = x[k + j] * relu(e[k + j]);
    for (; k < K; k++) y[k] = x[k] * relu(e[k]);
}

void nn_tau_product_forward(float *h, const float *feat, const float *phi, int B, int T, int K) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const size_t r = (size_t)b * T + t;
            product_row(h + r * K, feat + (size_t)b * K, phi + r * K, K);
        }
}

/* de = dh * x where e > 0, else 0: the gradient of the linear output through the ReLU */
static void dphi_row(float *restrict de, const float *restrict g, const float *restrict x,
                     const float *restrict e, int K) {
    int k = 0;
    for (; k + 16 <= K; k += 16)
        for (int j = 0; j < 16; j++) {
            /* the product and a bit mask, not a branch: GCC vectorises this at -O2, not the
             * select; +0.0 where the mask is off, as the select gives */
            union {
                float f;
                uint32_t u;
            } p = {.f = g[k + j] * x[k + j]};
            p.u &= 0u - (uint32_t)(e[k + j] > 0.0f);
            de[k + j] = p.f;
        }
    for (; k < K; k++) de[k] = e[k] > 0.0f ? g[k] * x[k] : 0.0f;
}

/* dx += dh * ReLU(e) */
static void dfeat_row(float *restrict dx, const float *restrict g, const float *restrict e, int K) {
    int k = 0;
    for (; k + 16 <= K; k += 16)
        for (int j = 0; j < 16; j++) dx[k + j] += g[k + j] * relu(e[k + j]);
    for (; k < K; k++) dx[k] += g[k] * relu(e[k]);
}

void nn_tau_product_backward(float *dphi, float *dfeat, const float *dh, const float *feat,
                             const float *phi, int B, int T, int K) {
    for (int b = 0; b < B; b++) {
        const float *x = feat + (size_t)b * K;
        float *dx = dfeat ? dfeat + (size_t)b * K : NULL;
        if (dx) memset(dx, 0, sizeof(float) * (size_t)K);
        for (int t = 0; t < T; t++) {
            const size_t r = (size_t)b * T + t;
            dphi_row(dphi + r * K, dh + r * K, x, phi + r * K, K);
            if (dx) dfeat_row(dx, dh + r * K, phi + r * K, K);
        }
    }
}
