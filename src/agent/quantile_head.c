/* src/agent/quantile_head.c — the quantile head of the DQN-family agent (QR-DQN, Dabney et al.
 * 2018): the network's (A, N) outputs per sample are N quantiles of each action's return at the
 * fixed fractions tau_i = (i + 1/2) / N; Q is their mean. Dueling and noisy layers act on them
 * as on C51's logits (prism/nn.h), which is what the Revisiting Rainbow network does.
 * Not here: the loss itself (nn/quantile_loss.c), the implicit head (implicit_head.c), the
 * schedule and the other switches (dqn_agent.c). */
#include "agent_internal.h"

#include <string.h>

bool quantile_head_on(const prism_agent_config *c) {
    return c->distributional && c->head == PRISM_HEAD_QUANTILE;
}

void quantile_taus_init(float *taus, int B, int N) {
    for (int b = 0; b < B; b++)
        for (int i = 0; i < N; i++) taus[(size_t)b * N + i] = (float)((i + 0.5) / N);
}

void quantile_q(float *q, const float *out, int rows, int A, int N) {
    for (int r = 0; r < rows * A; r++) {
        double s = 0;
        for (int i = 0; i < N; i++) s += (double)out[(size_t)r * N + i];
        q[r] = (float)(s / N);
    }
}

void quantile_targets(prism_agent *ag, const float *tout, const float *select) {
    const prism_replay_batch *b = &ag->batch;
    const int B = b->size, A = ag->num_actions, N = ag->num_atoms;
    quantile_q(ag->next_q, select, B, A, N);
    for (int i = 0; i < B; i++) {
        const int a = argmax_row(ag->next_q + (size_t)i * A, A);
        ag->next_actions[i] = a;
        const float *theta = tout + ((size_t)i * A + a) * N;
        for (int j = 0; j < N; j++)
            ag->target_probs[(size_t)i * N + j] = b->returns[i] + b->discounts[i] * theta[j];
    }
}

double quantile_loss_rows(prism_agent *ag, const float *pred, const float *targets,
                          const float *weights, int N, int M) {
    const int B = ag->batch.size;
    /* 1{u > 0} in place of 1{u < 0} is |(1 - tau) - 1{u < 0}| (u != 0): the fractions reversed */
    const float *taus = ag->taus;
    if (ag->bug == PRISM_BUG_QUANTILE_INDICATOR) {
        for (size_t k = 0; k < (size_t)B * N; k++) ag->probs[k] = 1.0f - ag->taus[k];
        taus = ag->probs;
    }
    return prism_nn_loss_quantile(pred, taus, targets, weights, B, N, M, (float)ag->cfg.kappa,
                                  ag->losses, ag->dquantiles);
}

double quantile_loss(prism_agent *ag, const float *out, const float *weights) {
    const prism_replay_batch *b = &ag->batch;
    const int B = b->size, A = ag->num_actions, N = ag->num_atoms;
    for (int i = 0; i < B; i++)
        memcpy(ag->quantiles + (size_t)i * N, out + ((size_t)i * A + b->actions[i]) * N,
               sizeof(float) * (size_t)N);
    double loss = quantile_loss_rows(ag, ag->quantiles, ag->target_probs, weights, N, N);
    memset(ag->dout, 0, sizeof(float) * (size_t)B * A * N);
    for (int i = 0; i < B; i++)
        memcpy(ag->dout + ((size_t)i * A + b->actions[i]) * N, ag->dquantiles + (size_t)i * N,
               sizeof(float) * (size_t)N);
    return loss;
}
