/* src/agent/implicit_head.c — the implicit head of the DQN-family agent (IQN, Dabney et al.
 * 2018): the network takes fractions tau through its cosine embedding (prism/nn.h) and gives one
 * quantile of each action's return per fraction. Every update draws N fractions for the online
 * quantiles, N' for the target's and K for choosing the next action; every action draws K. All
 * from the agent's tau stream (PRISM_STREAM_TAUS; evaluation draws from the eval stream), so a
 * run is deterministic for its seed and a checkpoint that keeps the stream resumes it exactly.
 * The loss is the quantile head's (quantile_loss_rows), with sampled fractions; the Munchausen
 * target (M-IQN) is munchausen.c's.
 * Not here: the schedule and the other switches (dqn_agent.c). */
#include "agent_internal.h"

#include <string.h>

bool implicit_head_on(const prism_agent_config *c) {
    return c->distributional && c->head == PRISM_HEAD_IMPLICIT;
}

static void draw(float *taus, size_t n, prism_rng *rng) {
    for (size_t i = 0; i < n; i++) taus[i] = (float)prism_rng_uniform(rng);
}

void implicit_act_taus(prism_agent *ag, bool eval) {
    const int K = ag->cfg.num_quantile_samples;
    draw(ag->act_taus, (size_t)K, eval ? &ag->eval_rng : &ag->tau_rng);
    prism_nn_set_taus(&ag->online, ag->act_taus, K);
}

void implicit_q(prism_agent *ag, const float *x, int B, float *q) {
    /* the K fractions spread evenly, (k + 1/2) / K: a Q estimate that draws nothing, so that
     * looking at the values (the doctor, tests) never moves the tau stream */
    const int K = ag->cfg.num_quantile_samples;
    PRISM_ASSERT(B <= ag->cfg.batch_size);
    quantile_taus_init(ag->taus_select, B, K);
    prism_nn_set_taus(&ag->online, ag->taus_select, K);
    prism_nn_q(&ag->online, x, B, q);
}

/* M-IQN (the Revisiting Rainbow code's Munchausen quantile target): the policy is the softmax of
 * the target net's mean over K quantiles, on next (the selection's fractions) and on obs (K more,
 * drawn after the online ones), and it weights the N' target quantiles at next. */
static void munchausen_targets(prism_agent *ag) {
    const prism_replay_batch *b = &ag->batch;
    const prism_agent_config *c = &ag->cfg;
    const int B = b->size, A = ag->num_actions;
    const int Np = c->num_tau_prime_samples, K = c->num_quantile_samples;
    prism_nn_set_taus(&ag->target, ag->taus_select, K);
    prism_nn_q(&ag->target, b->next_obs, B, ag->next_q);
    draw(ag->taus_select, (size_t)B * K, &ag->tau_rng);
    prism_nn_q(&ag->target, b->obs, B, ag->obs_q);
    prism_nn_set_taus(&ag->target, ag->taus_prime, Np);
    const float *tout = prism_nn_forward(&ag->target, b->next_obs, B); /* (B*N', A) */
    const double tau = c->munchausen_tau;
    const double temp = ag->bug == PRISM_BUG_MUNCHAUSEN_NO_INV_TAU ? 1.0 : tau;
    munchausen_quantile_targets_temp(ag->obs_q, ag->next_q, tout, b->actions, b->returns,
                                     b->discounts, B, A, Np, tau, temp, c->munchausen_alpha,
                                     c->munchausen_clip, ag->quantile_targets);
}

void implicit_targets(prism_agent *ag) {
    const prism_replay_batch *b = &ag->batch;
    const prism_agent_config *c = &ag->cfg;
    const int B = b->size, A = ag->num_actions;
    const int N = c->num_tau_samples, Np = c->num_tau_prime_samples, K = c->num_quantile_samples;
    /* one order of draws for every update: the target's, the selection's, the online's */
    draw(ag->taus_prime, (size_t)B * Np, &ag->tau_rng);
    draw(ag->taus_select, (size_t)B * K, &ag->tau_rng);
    draw(ag->taus, (size_t)B * N, &ag->tau_rng);
    if (c->munchausen) {
        munchausen_targets(ag);
        return;
    }
    /* a* = argmax of the mean over K quantiles, from the online net with double Q */
    prism_nn *select = c->double_q ? &ag->online : &ag->target;
    prism_nn_set_taus(select, ag->taus_select, K);
    prism_nn_q(select, b->next_obs, B, ag->next_q);
    prism_nn_set_taus(&ag->target, ag->taus_prime, Np);
    const float *tout = prism_nn_forward(&ag->target, b->next_obs, B); /* (B*N', A) */
    for (int i = 0; i < B; i++) {
        const int a = argmax_row(ag->next_q + (size_t)i * A, A);
        ag->next_actions[i] = a;
        for (int j = 0; j < Np; j++)
            ag->quantile_targets[(size_t)i * Np + j] =
                b->returns[i] + b->discounts[i] * tout[((size_t)i * Np + j) * A + a];
    }
}

const float *implicit_online_forward(prism_agent *ag) {
    prism_nn_set_taus(&ag->online, ag->taus, ag->cfg.num_tau_samples);
    return prism_nn_forward(&ag->online, ag->batch.obs, ag->batch.size);
}

double implicit_loss(prism_agent *ag, const float *out, const float *weights) {
    const prism_replay_batch *b = &ag->batch;
    const int B = b->size, A = ag->num_actions;
    const int N = ag->cfg.num_tau_samples, Np = ag->cfg.num_tau_prime_samples;
    /* the quantiles of the taken action: row b*N + i, column a_b */
    for (int i = 0; i < B; i++)
        for (int j = 0; j < N; j++)
            ag->quantiles[(size_t)i * N + j] = out[((size_t)i * N + j) * A + b->actions[i]];
    double loss = quantile_loss_rows(ag, ag->quantiles, ag->quantile_targets, weights, N, Np);
    memset(ag->dout, 0, sizeof(float) * (size_t)B * N * A);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < N; j++)
            ag->dout[((size_t)i * N + j) * A + b->actions[i]] = ag->dquantiles[(size_t)i * N + j];
    return loss;
}

void implicit_stats(prism_agent *ag, double *q, double *target, int i) {
    const int N = ag->cfg.num_tau_samples, Np = ag->cfg.num_tau_prime_samples;
    const float *theta = ag->quantiles + (size_t)i * N, *tau = ag->taus + (size_t)i * N;
    const float *t = ag->quantile_targets + (size_t)i * Np;
    double sq = 0, st = 0;
    int lo = 0, hi = 0; /* the quantiles at the smallest and the largest fraction drawn */
    for (int j = 0; j < N; j++) {
        sq += (double)theta[j];
        if (tau[j] < tau[lo]) lo = j;
        if (tau[j] > tau[hi]) hi = j;
    }
    for (int j = 0; j < Np; j++) st += (double)t[j];
    *q = sq / N;
    *target = st / Np;
    ag->stats.quantile_spread_sum += ((double)theta[hi] - (double)theta[lo]) / ag->batch.size;
}
