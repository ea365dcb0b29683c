/* src/nn/loss.c — losses with per-sample weights (Huber, squared error, C51 cross-entropy) and
 * the distributional helpers (softmax over atoms, Q from logits, the categorical projection).
 * Pure functions over caller-owned arrays; nothing here knows about a network. Sums and the
 * returned losses are accumulated in double: a batch mean of 512 floats loses bits otherwise. */
#include "prism/nn.h"

#include <math.h>
#include <string.h>

void prism_nn_softmax(float *p, const float *logits, int rows, int N) {
    for (int r = 0; r < rows; r++) {
        const float *l = logits + (size_t)r * N;
        float *o = p + (size_t)r * N;
        float mx = l[0];
        for (int i = 1; i < N; i++) mx = l[i] > mx ? l[i] : mx;
        double s = 0;
        for (int i = 0; i < N; i++) {
            float e = expf(l[i] - mx);
            o[i] = e;
            s += (double)e;
        }
        float inv = (float)(1.0 / s);
        for (int i = 0; i < N; i++) o[i] *= inv;
    }
}

void prism_nn_q_from_logits(float *q, const float *logits, int B, int A, int N, float v_min,
                            float v_max) {
    const double dz = ((double)v_max - (double)v_min) / (N - 1);
    for (int r = 0; r < B * A; r++) {
        const float *l = logits + (size_t)r * N;
        float mx = l[0];
        for (int i = 1; i < N; i++) mx = l[i] > mx ? l[i] : mx;
        double s = 0, sz = 0;
        for (int i = 0; i < N; i++) {
            double e = (double)expf(l[i] - mx);
            s += e;
            sz += e * ((double)v_min + i * dz);
        }
        q[r] = (float)(sz / s);
    }
}

double prism_nn_c51_mean(const float *p, int N, float v_min, float v_max) {
    const double dz = ((double)v_max - (double)v_min) / (N - 1);
    double m = 0;
    for (int i = 0; i < N; i++) m += (double)p[i] * ((double)v_min + i * dz);
    return m;
}

void prism_nn_c51_project(float *out, const float *probs, const float *rewards,
                          const float *discounts, int B, int N, float v_min, float v_max) {
    PRISM_ASSERT(N >= 2 && N <= 1024 && v_max > v_min && out != probs);
    const double lo = v_min, hi = v_max, dz = (hi - lo) / (N - 1);
    for (int b = 0; b < B; b++) {
        double m[1024]; /* N <= 1024 (prism_nn_config_check) */
        const float *p = probs + (size_t)b * N;
        memset(m, 0, sizeof(double) * (size_t)N);
        double r = rewards[b], g = discounts[b];
        for (int j = 0; j < N; j++) {
            double tz = r + g * (lo + j * dz);
            /* NaN reward or discount: propagate it (the loss becomes NaN and the agent reports
             * divergence) instead of indexing with it */
            if (tz != tz) {
                m[0] = (double)NAN;
                continue;
            }
            tz = tz < lo ? lo : tz > hi ? hi : tz;
            double bj = (tz - lo) / dz; /* position in atoms, in [0, N-1] */
            int l = (int)floor(bj);
            if (l >= N - 1) l = N - 1; /* tz == v_max */
            double frac = bj - l;      /* mass to the upper neighbour */
            if (frac <= 0.0 || l == N - 1) {
                m[l] += (double)p[j]; /* an exact hit: all on one atom (Bellemare's l == u case) */
            } else {
                m[l] += (double)p[j] * (1.0 - frac);
                m[l + 1] += (double)p[j] * frac;
            }
        }
        for (int i = 0; i < N; i++) out[(size_t)b * N + i] = (float)m[i];
    }
}

static double weight(const float *w, int b) {
    return w ? (double)w[b] : 1.0;
}

/* Shared body of the two scalar-Q losses: kind 0 Huber (delta 1), 1 squared error. */
static double q_loss(int kind, const float *q, const int32_t *actions, const float *targets,
                     const float *weights, int B, int A, float *losses, float *dout) {
    memset(dout, 0, sizeof(float) * (size_t)B * (size_t)A);
    double total = 0;
    for (int b = 0; b < B; b++) {
        int a = actions[b];
        PRISM_ASSERT(a >= 0 && a < A);
        double d = (double)q[(size_t)b * A + a] - (double)targets[b], l, dl;
        if (kind == 1) {
            l = d * d, dl = 2 * d;
        } else if (fabs(d) <= 1.0) {
            l = 0.5 * d * d, dl = d;
        } else {
            l = fabs(d) - 0.5, dl = d > 0 ? 1.0 : -1.0;
        }
        double w = weight(weights, b);
        if (losses) losses[b] = (float)l;
        total += w * l;
        dout[(size_t)b * A + a] = (float)(w * dl / B);
    }
    return total / B;
}

double prism_nn_loss_huber(const float *q, const int32_t *actions, const float *targets,
                           const float *weights, int B, int A, float *losses, float *dout) {
    return q_loss(0, q, actions, targets, weights, B, A, losses, dout);
}

double prism_nn_loss_mse(const float *q, const int32_t *actions, const float *targets,
                         const float *weights, int B, int A, float *losses, float *dout) {
    return q_loss(1, q, actions, targets, weights, B, A, losses, dout);
}

double prism_nn_loss_c51(const float *logits, const int32_t *actions, const float *target_probs,
                         const float *weights, int B, int A, int N, float *losses, float *dout) {
    memset(dout, 0, sizeof(float) * (size_t)B * (size_t)A * (size_t)N);
    double total = 0;
    for (int b = 0; b < B; b++) {
        int a = actions[b];
        PRISM_ASSERT(a >= 0 && a < A);
        const float *l = logits + ((size_t)b * A + a) * N, *t = target_probs + (size_t)b * N;
        float *d = dout + ((size_t)b * A + a) * N;
        /* log softmax = l - (max + log sum exp(l - max)), in double. */
        double mx = (double)l[0];
        for (int i = 1; i < N; i++) mx = (double)l[i] > mx ? (double)l[i] : mx;
        double s = 0;
        for (int i = 0; i < N; i++) s += exp((double)l[i] - mx);
        double lse = mx + log(s), ce = 0, tsum = 0;
        for (int i = 0; i < N; i++) {
            ce -= (double)t[i] * ((double)l[i] - lse);
            tsum += (double)t[i];
        }
        double w = weight(weights, b);
        if (losses) losses[b] = (float)ce;
        total += w * ce;
        /* d ce / d l_i = softmax_i * sum(t) - t_i (sum(t) is 1 for a proper target). */
        for (int i = 0; i < N; i++)
            d[i] = (float)(w / B * (exp((double)l[i] - lse) * tsum - (double)t[i]));
    }
    return total / B;
}
