/* src/agent/munchausen.c — the Munchausen target (Vieillard et al. 2020) as in the Revisiting
 * Rainbow code, for a scalar head (M-DQN) and for the implicit head (M-IQN): both the log-policy
 * bonus and the soft bootstrap use the target network, and the bonus is added once to the
 * (n-step) return. The implicit head's policy is the softmax of the mean over K target
 * quantiles; its soft bootstrap weights each of the N' target quantiles by it.
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

/* One transition: the next policy pi (A) and its scaled log lp (A) from q_next, and the return
 * plus the clipped bonus alpha * clip(tau log pi(action | obs), clip_min, 0) from q_obs. */
static double policy_and_bonus(const float *q_obs, const float *q_next, int action, float ret,
                               int A, double tau, double temp, double alpha, double clip_min,
                               double *pi, double *lp) {
    double lp_obs[64];
    scaled_log_policy(q_obs, A, tau, temp, lp_obs);
    double bonus = lp_obs[action];
    bonus = bonus < clip_min ? clip_min : bonus > 0 ? 0 : bonus;
    scaled_log_policy(q_next, A, tau, temp, lp);
    for (int a = 0; a < A; a++) pi[a] = exp(lp[a] / tau);
    return (double)ret + alpha * bonus;
}

void munchausen_targets_temp(const float *q_obs, const float *q_next, const int32_t *actions,
                             const float *returns, const float *discounts, int B, int A, double tau,
                             double temp, double alpha, double clip_min, float *targets) {
    PRISM_ASSERT(A >= 1 && A <= 64 && tau > 0 && temp > 0);
    double pi[64], lp[64];
    for (int b = 0; b < B; b++) {
        const float *qn = q_next + (size_t)b * A;
        double r = policy_and_bonus(q_obs + (size_t)b * A, qn, actions[b], returns[b], A, tau, temp,
                                    alpha, clip_min, pi, lp);
        /* soft value of next: sum_a pi(a) (Q(a) - tau log pi(a)) */
        double v = 0;
        for (int a = 0; a < A; a++) v += pi[a] * ((double)qn[a] - lp[a]);
        targets[b] = (float)(r + (double)discounts[b] * v);
    }
}

void prism_agent_munchausen_targets(const float *q_obs, const float *q_next, const int32_t *actions,
                                    const float *returns, const float *discounts, int B, int A,
                                    double tau, double alpha, double clip_min, float *targets) {
    munchausen_targets_temp(q_obs, q_next, actions, returns, discounts, B, A, tau, tau, alpha,
                            clip_min, targets);
}

void munchausen_quantile_targets_temp(const float *q_obs, const float *q_next, const float *theta,
                                      const int32_t *actions, const float *returns,
                                      const float *discounts, int B, int A, int M, double tau,
                                      double temp, double alpha, double clip_min, float *targets) {
    PRISM_ASSERT(A >= 1 && A <= 64 && M >= 1 && tau > 0 && temp > 0);
    double pi[64], lp[64];
    for (int b = 0; b < B; b++) {
        double r = policy_and_bonus(q_obs + (size_t)b * A, q_next + (size_t)b * A, actions[b],
                                    returns[b], A, tau, temp, alpha, clip_min, pi, lp);
        for (int j = 0; j < M; j++) {
            /* target quantile j: sum_a pi(a) (theta_j(a) - tau log pi(a)) */
            const float *th = theta + ((size_t)b * M + j) * A;
            double v = 0;
            for (int a = 0; a < A; a++) v += pi[a] * ((double)th[a] - lp[a]);
            targets[(size_t)b * M + j] = (float)(r + (double)discounts[b] * v);
        }
    }
}
