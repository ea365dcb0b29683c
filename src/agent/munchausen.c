/* src/agent/munchausen.c — the Munchausen target (Vieillard et al. 2020, M-DQN) for a scalar
 * head, as in the Revisiting Rainbow code: both the log-policy bonus and the soft bootstrap use
 * the target network, and the bonus is added once to the (n-step) return.
 * Not here: refusing the combinations it is not defined for (prism_agent_config_check). */
#include "agent_internal.h"

#include <math.h>

/* tau log softmax(q / temp) of one row (A) into out (A), with the max subtracted first. */
static void scaled_log_policy(const float *q, int A, double tau, double temp, double *out) {
    double mx = q[0];
    for (int a = 1; a < A; a++) mx = (double)q[a] > mx ? (double)q[a] : mx;
    double s = 0;
    for (int a = 0; a < A; a++) s += exp(((double)q[a] - mx) / temp);
    for (int a = 0; a < A; a++) out[a] = tau * (((double)q[a] - mx) / temp - log(s));
}

void munchausen_targets_temp(const float *q_obs, const float *q_next, const int32_t *actions,
                             const float *returns, const float *discounts, int B, int A, double tau,
                             double temp, double alpha, double clip_min, float *targets) {
    PRISM_ASSERT(A >= 1 && A <= 64 && tau > 0 && temp > 0);
    double lp[64];
    for (int b = 0; b < B; b++) {
        const float *qn = q_next + (size_t)b * A;
        /* soft value of next: sum_a pi(a) (Q(a) - tau log pi(a)), pi = exp(log pi) */
        scaled_log_policy(qn, A, tau, temp, lp);
        double v = 0;
        for (int a = 0; a < A; a++) v += exp(lp[a] / tau) * ((double)qn[a] - lp[a]);
        scaled_log_policy(q_obs + (size_t)b * A, A, tau, temp, lp);
        double bonus = lp[actions[b]];
        bonus = bonus < clip_min ? clip_min : bonus > 0 ? 0 : bonus;
        targets[b] = (float)((double)returns[b] + alpha * bonus + (double)discounts[b] * v);
    }
}

void prism_agent_munchausen_targets(const float *q_obs, const float *q_next, const int32_t *actions,
                                    const float *returns, const float *discounts, int B, int A,
                                    double tau, double alpha, double clip_min, float *targets) {
    munchausen_targets_temp(q_obs, q_next, actions, returns, discounts, B, A, tau, tau, alpha,
                            clip_min, targets);
}
