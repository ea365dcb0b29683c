/* src/agent/agent_internal.h — the DQN-family agent's heads and target rules that live in files
 * of their own (quantile_head.c, munchausen.c), for dqn_agent.c. Not a public header. */
#ifndef PRISM_AGENT_INTERNAL_H
#define PRISM_AGENT_INTERNAL_H

#include "prism/agent.h"

/* The first index of the largest of row[0..n) (numpy's argmax): greedy actions. */
int argmax_row(const float *row, int n);

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

/* The quantile Huber loss of pred (B, N) at ag->taus (B, N) against targets (B, M), kappa from
 * the config (the fractions reversed under PRISM_BUG_QUANTILE_INDICATOR): per-sample losses into
 * ag->losses, the gradient into ag->dquantiles (B, N); returns the weighted mean. */
double quantile_loss_rows(prism_agent *ag, const float *pred, const float *targets,
                          const float *weights, int N, int M);

/* The implicit head (implicit_head.c). Whether the agent's head is it: */
bool implicit_head_on(const prism_agent_config *cfg);
/* Draw the K fractions of one action (from the eval stream when eval) and set them on the online
 * net, for prism_nn_act. */
void implicit_act_taus(prism_agent *ag, bool eval);
/* Q (B, A) of the online net: the mean over K evenly spaced fractions; draws nothing. */
void implicit_q(prism_agent *ag, const float *x, int B, float *q);
/* Draw the update's fractions (N', K, N, in that order), choose a* (the mean over the K
 * quantiles of the online net with double Q, of the target net otherwise) and write the target
 * samples R + discount * theta'(next, a*)_j at the N' fractions into ag->quantile_targets. */
void implicit_targets(prism_agent *ag);
/* The online net's outputs (B*N, A) on the batch's obs at its N fractions (saved for backward). */
const float *implicit_online_forward(prism_agent *ag);
/* The quantile Huber loss of the taken actions' quantiles against the target samples: losses
 * into ag->losses, the gradient into ag->dout (B*N, A); returns the weighted mean. */
double implicit_loss(prism_agent *ag, const float *out, const float *weights);
/* Sample i's Q (the mean of its N quantiles) and target (the mean of its N' samples), and its
 * share of the quantile spread (the quantile at the largest fraction minus the smallest's). */
void implicit_stats(prism_agent *ag, double *q, double *target, int i);

/* The Munchausen targets (prism_agent_munchausen_targets) with the policy softmax(Q / temp)
 * instead of softmax(Q / tau): temp = tau is the rule; any other temp is a deliberate bug. */
void munchausen_targets_temp(const float *q_obs, const float *q_next, const int32_t *actions,
                             const float *returns, const float *discounts, int B, int A, double tau,
                             double temp, double alpha, double clip_min, float *targets);

/* The Munchausen targets of the implicit head (M-IQN), B transitions: the policy
 * softmax(q / temp) of the mean target quantiles q_obs and q_next (B, A) (temp = tau is the
 * rule), the bonus alpha * clip(tau log pi(a_b|obs), clip_min, 0) on the return, and for each of
 * the M target quantiles theta (B, M, A) at next the soft value sum_a pi(a|next) (theta_j(a) -
 * tau log pi(a|next)) times the discount: targets (B, M). Double sums; A <= 64 (asserted). */
void munchausen_quantile_targets_temp(const float *q_obs, const float *q_next, const float *theta,
                                      const int32_t *actions, const float *returns,
                                      const float *discounts, int B, int A, int M, double tau,
                                      double temp, double alpha, double clip_min, float *targets);

#endif
