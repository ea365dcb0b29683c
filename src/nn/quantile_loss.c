/* src/nn/quantile_loss.c — the quantile Huber loss of QR-DQN and IQN (Dabney et al. 2018), in
 * the form Dopamine and the Revisiting Rainbow code use: the Huber part is not divided by kappa
 * (the papers' rho^kappa_tau divides by it; at kappa = 1, every preset's value, both agree).
 * A pure function over caller-owned arrays: which quantiles are predicted, and where their
 * gradients go in a network's outputs, is the agent's business. Sums in double. */
#include "prism/nn.h"

#include <math.h>

double prism_nn_loss_quantile(const float *pred, const float *taus, const float *targets,
                              const float *weights, int B, int N, int M, float kappa, float *losses,
                              float *dpred) {
    PRISM_ASSERT(B >= 1 && N >= 1 && M >= 1 && kappa > 0.0f);
    const double k = kappa;
    double total = 0;
    for (int b = 0; b < B; b++) {
        const float *theta = pred + (size_t)b * N, *tau = taus + (size_t)b * N;
        const float *t = targets + (size_t)b * M;
        const double w = weights ? (double)weights[b] : 1.0;
        double l = 0;
        for (int i = 0; i < N; i++) {
            double g = 0; /* d l / d theta_i, before the 1/M */
            for (int j = 0; j < M; j++) {
                const double u = (double)t[j] - (double)theta[i];
                /* |tau - 1{u < 0}|: an under-estimate (u > 0) is weighted by tau, an
                 * over-estimate by 1 - tau, so theta_i settles at the tau-quantile */
                const double asym = fabs((double)tau[i] - (u < 0 ? 1.0 : 0.0));
                const double au = fabs(u);
                const double huber = au <= k ? 0.5 * u * u : k * (au - 0.5 * k);
                const double dhuber = au <= k ? u : (u > 0 ? k : -k); /* d huber / d u */
                l += asym * huber;
                g -= asym * dhuber; /* du / d theta_i = -1 */
            }
            if (dpred) dpred[(size_t)b * N + i] = (float)(w * g / M / B);
        }
        l /= M;
        if (losses) losses[b] = (float)l;
        total += w * l;
    }
    return total / B;
}
