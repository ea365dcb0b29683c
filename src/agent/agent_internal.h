/* src/agent/agent_internal.h — the DQN-family agent's heads and target rules that live in files
 * of their own (quantile_head.c, munchausen.c), for dqn_agent.c. Not a public header. */
#ifndef PRISM_AGENT_INTERNAL_H
#define PRISM_AGENT_INTERNAL_H

#include "prism/agent.h"

/* Whether the agent's head is the quantile head. */
bool quantile_head_on(const prism_agent_config *cfg);
/* The fixed fractions tau_i = (i + 1/2) / N in every row of taus (B, N). */
void quantile_taus_init(float *taus, int B, int N);
/* Q (rows, A) = the mean over N of the quantiles out (rows, A, N). */
void quantile_q(float *q, const float *out, int rows, int A, int N);
/* The target samples R + discount * theta'(next, a*)_j into ag->target_probs (B, N), with a* the
 * argmax of the mean of select (B, A, N) (the online net's outputs on next_obs with double Q,
 * the target net's otherwise); tout (B, A, N) the target net's. */
void quantile_targets(prism_agent *ag, const float *tout, const float *select);
/* The quantile Huber loss of the online outputs out (B, A, N) against ag->target_probs: the
 * per-sample losses into ag->losses, the gradient into ag->dout; returns the weighted mean. */
double quantile_loss(prism_agent *ag, const float *out, const float *weights);

/* The Munchausen targets (prism_agent_munchausen_targets) with the policy softmax(Q / temp)
 * instead of softmax(Q / tau): temp = tau is the rule; any other temp is a deliberate bug. */
void munchausen_targets_temp(const float *q_obs, const float *q_next, const int32_t *actions,
                             const float *returns, const float *discounts, int B, int A, double tau,
                             double temp, double alpha, double clip_min, float *targets);

#endif
