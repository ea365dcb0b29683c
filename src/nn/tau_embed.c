/* src/nn/tau_embed.c — the arithmetic of the implicit quantile embedding (IQN, Dabney et al.
 * 2018) around its dense layer: the cosine features of the fractions, and the product of each
 * sample's features with the embedding of each of its fractions, forward and backward. The dense
 * layer between them (W, b, ReLU) is an ordinary dense layer of the network (nn.c), with its
 * naive and fast kernels. Not here: where the embedding sits in the network (nn.c).
 *
 * Dimension letters: B samples, T fractions per sample, E embedding dim, K feature width. */
#include "nn_internal.h"

#include <math.h>

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

void nn_tau_product_forward(float *h, const float *feat, const float *phi, int B, int T, int K) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const size_t r = (size_t)b * T + t;
            const float *restrict x = feat + (size_t)b * K, *restrict e = phi + r * K;
            float *restrict y = h + r * K;
            for (int k = 0; k < K; k++) y[k] = x[k] * e[k];
        }
}

void nn_tau_product_backward(float *dphi, float *dfeat, const float *dh, const float *feat,
                             const float *phi, int B, int T, int K) {
    for (int b = 0; b < B; b++) {
        const float *restrict x = feat + (size_t)b * K;
        float *restrict dx = dfeat ? dfeat + (size_t)b * K : NULL;
        if (dx)
            for (int k = 0; k < K; k++) dx[k] = 0.0f;
        for (int t = 0; t < T; t++) {
            const size_t r = (size_t)b * T + t;
            const float *restrict g = dh + r * K, *restrict e = phi + r * K;
            float *restrict de = dphi + r * K;
            for (int k = 0; k < K; k++) de[k] = g[k] * x[k];
            if (dx)
                for (int k = 0; k < K; k++) dx[k] += g[k] * e[k];
        }
    }
}
