/* src/agent/pqn_agent.c — the PQN learner (prism/pqn.h): lockstep rollouts through the vector
 * env, Q(lambda) returns, minibatch MSE regression. No replay memory and no target network: the
 * network the rollout acted with gives the bootstrap values, and learning starts after the
 * first rollout. */
#include "prism/pqn.h"

#include <math.h>
#include <string.h>

void prism_pqn_lambda_returns(float *returns, const float *rewards, const float *next_v,
                              const uint8_t *terminated, const uint8_t *truncated, int T, int N,
                              double gamma, double lambda, bool truncation_as_termination) {
    for (int i = 0; i < N; i++) {
        double g = 0; /* G_{t+1} */
        for (int t = T - 1; t >= 0; t--) {
            size_t k = (size_t)t * N + (size_t)i;
            double r = rewards[k], v = next_v[k];
            bool term = terminated[k] || (truncation_as_termination && truncated[k]);
            if (term)
                g = r;
            else if (truncated[k] || t == T - 1)
                g = r + gamma * v;
            else
                g = r + gamma * ((1.0 - lambda) * v + lambda * g);
            returns[k] = (float)g;
        }
    }
}

double prism_pqn_epsilon(const prism_pqn *pq, long long env_steps) {
    const prism_agent_config *c = &pq->cfg;
    if (c->eps_decay_steps <= 0) return c->eps_end;
    double e = c->eps_start + (c->eps_end - c->eps_start) * (double)env_steps / c->eps_decay_steps;
    return c->eps_end < c->eps_start ? fmax(e, c->eps_end) : fmin(e, c->eps_end);
}

double prism_pqn_lr(const prism_pqn *pq) {
    if (!pq->cfg.lr_anneal) return pq->cfg.lr;
    double frac = 1.0 - (double)pq->rollouts / (double)pq->rollouts_total;
    return pq->cfg.lr * (frac > 0 ? frac : 0);
}

static prism_optim_config optim_config(const prism_agent_config *c) {
    prism_optim_config o = c->optimizer == PRISM_OPTIM_RADAM
                               ? prism_optim_config_radam((float)c->lr)
                               : prism_optim_config_adam((float)c->lr, (float)c->adam_eps);
    if (c->optimizer == PRISM_OPTIM_ADAM)
        o.beta1 = (float)c->adam_beta1, o.beta2 = (float)c->adam_beta2;
    o.clip_norm = (float)c->grad_clip;
    return o;
}

static prism_status check_config(const prism_agent_config *c) {
    if (c->num_envs < 1 || c->rollout_steps < 1 || c->epochs < 1 || c->minibatches < 1)
        return prism_error(PRISM_ERR_INVALID,
                           "pqn: agent.num_envs, agent.rollout_steps, agent.epochs and "
                           "agent.minibatches must all be at least 1");
    long long batch = (long long)c->num_envs * c->rollout_steps;
    if (batch % c->minibatches != 0 || batch / c->minibatches > 65536)
        return prism_error(PRISM_ERR_INVALID,
                           "pqn: agent.minibatches = %d must divide agent.num_envs x "
                           "agent.rollout_steps = %lld into minibatches of at most 65536",
                           c->minibatches, batch);
    if (c->optimizer != PRISM_OPTIM_RADAM && c->optimizer != PRISM_OPTIM_ADAM)
        return prism_error(PRISM_ERR_INVALID, "pqn: agent.optimizer must be radam (PQN's) or adam");
    if (c->distributional || c->dueling || c->noisy || c->prioritized || c->double_q)
        return prism_error(PRISM_ERR_INVALID,
                           "pqn: agent.distributional, agent.dueling, agent.noisy, "
                           "agent.prioritized and agent.double belong to the DQN family; set "
                           "them to false for agent.kind = pqn");
    if (!(c->lambda >= 0 && c->lambda <= 1))
        return prism_error(PRISM_ERR_INVALID, "pqn: agent.lambda %g must be in [0, 1]", c->lambda);
    return PRISM_OK;
}

prism_status prism_pqn_init(prism_pqn *pq, const prism_agent_config *cfg,
                            const prism_env_options *options, const char *env_id,
                            long long total_steps, uint64_t seed) {
    memset(pq, 0, sizeof *pq);
    prism_status st = check_config(cfg);
    if (st) return st;
    if ((st = prism_env_lookup(env_id, &pq->cls))) return st;
    pq->cfg = *cfg;
    const int N = cfg->num_envs, T = cfg->rollout_steps, A = pq->cls->num_actions;
    const int D = prism_env_obs_size(pq->cls);
    pq->n = N, pq->T = T, pq->obs_size = D, pq->num_actions = A;
    pq->minibatch = N * T / cfg->minibatches;
    pq->total_steps = total_steps;
    pq->rollouts_total = total_steps / ((long long)N * T);
    if (pq->rollouts_total < 1) pq->rollouts_total = 1;
    if ((st = prism_vec_env_init(&pq->venv, env_id, N, options, seed))) return st;
    prism_nn_config nc = prism_agent_net_config(cfg, pq->cls);
    int max_batch = N > pq->minibatch ? N : pq->minibatch;
    if ((st = prism_nn_init(&pq->net, &nc, max_batch, seed))) goto fail;
    prism_optim_config oc = optim_config(cfg);
    if ((st = prism_optim_init(&pq->opt, &oc, pq->net.n_params))) goto fail;

    const size_t TN = (size_t)T * (size_t)N, MB = (size_t)pq->minibatch;
    size_t bytes = 0;
#define PIECE(n) (((size_t)(n) + 63) & ~(size_t)63)
    const size_t sz[] = {
        PIECE(sizeof(float) * (size_t)N * D),
        PIECE(sizeof(double) * N),
        PIECE(sizeof(int) * N),
        PIECE(sizeof(float) * TN * D),
        PIECE(sizeof(int32_t) * TN),
        PIECE(sizeof(float) * TN),
        PIECE(TN),
        PIECE(TN),
        PIECE(sizeof(float) * TN),
        PIECE(sizeof(float) * TN),
        PIECE(sizeof(prism_pqn_episode) * TN),
        PIECE(sizeof(float) * max_batch * A),
        PIECE(sizeof(float) * (size_t)N * D),
        PIECE(sizeof(float) * MB * D),
        PIECE(sizeof(int32_t) * MB),
        PIECE(sizeof(float) * MB),
        PIECE(sizeof(float) * MB * A),
        PIECE(sizeof(int32_t) * TN),
        PIECE(sizeof(int) * N),
        PIECE(sizeof(float) * N),
        PIECE(sizeof(bool) * N),
        PIECE(sizeof(bool) * N),
        PIECE(sizeof(float) * N),
        PIECE(sizeof(int) * N),
    };
    for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++) bytes += sz[i];
    pq->block = prism_calloc(1, bytes);
    if (!pq->block) {
        st = prism_error(PRISM_ERR_NOMEM, "pqn: out of memory for rollouts of %d x %d", T, N);
        goto fail;
    }
    char *cur = pq->block;
    int k = 0;
#define TAKE() (cur += sz[k], cur - sz[k++])
    pq->obs = (float *)TAKE();
    pq->ep_return = (double *)TAKE();
    pq->ep_length = (int *)TAKE();
    pq->r_obs = (float *)TAKE();
    pq->r_act = (int32_t *)TAKE();
    pq->r_rew = (float *)TAKE();
    pq->r_term = (uint8_t *)TAKE();
    pq->r_trunc = (uint8_t *)TAKE();
    pq->r_next_v = (float *)TAKE();
    pq->r_returns = (float *)TAKE();
    pq->episodes = (prism_pqn_episode *)TAKE();
    pq->q = (float *)TAKE();
    pq->final_obs = (float *)TAKE();
    pq->mb_obs = (float *)TAKE();
    pq->mb_act = (int32_t *)TAKE();
    pq->mb_ret = (float *)TAKE();
    pq->dout = (float *)TAKE();
    pq->perm = (int32_t *)TAKE();
    pq->actions = (int *)TAKE();
    pq->rewards = (float *)TAKE();
    pq->term = (bool *)TAKE();
    pq->trunc = (bool *)TAKE();
    pq->max_q = (float *)TAKE();
    pq->cut_env = (int *)TAKE();
#undef TAKE
#undef PIECE
    prism_rng_seed(&pq->explore_rng, seed, PRISM_STREAM_EXPLORATION);
    prism_rng_seed(&pq->shuffle_rng, seed, PRISM_STREAM_REPLAY);
    prism_vec_env_reset(&pq->venv, pq->obs);
    prism_pqn_stats_reset(pq);
    return PRISM_OK;
fail:
    prism_pqn_free(pq);
    return st;
}

void prism_pqn_free(prism_pqn *pq) {
    prism_vec_env_free(&pq->venv);
    prism_nn_free(&pq->net);
    prism_optim_free(&pq->opt);
    prism_free(pq->block);
    memset(pq, 0, sizeof *pq);
}

void prism_pqn_stats_reset(prism_pqn *pq) {
    memset(&pq->stats, 0, sizeof pq->stats);
    pq->stats.q_max = -INFINITY;
    pq->stats.ret_min = INFINITY, pq->stats.ret_max = -INFINITY;
}

/* max_a q[b][a] for B rows into v (stride `stride`), argmax into act (may be NULL). */
static void max_rows(const float *q, int B, int A, float *v, size_t stride, int *act) {
    for (int b = 0; b < B; b++) {
        const float *row = q + (size_t)b * A;
        int best = 0;
        for (int a = 1; a < A; a++)
            if (row[a] > row[best]) best = a;
        v[(size_t)b * stride] = row[best];
        if (act) act[b] = best;
    }
}

void prism_pqn_rollout(prism_pqn *pq) {
    const int N = pq->n, T = pq->T, A = pq->num_actions, D = pq->obs_size;
    const size_t row = (size_t)N * D;
    prism_pqn_stats *s = &pq->stats;
    pq->n_episodes = 0;
    for (int t = 0; t < T; t++) {
        double t0 = prism_now();
        float *o = pq->r_obs + (size_t)t * row;
        memcpy(o, pq->obs, sizeof(float) * row);
        /* greedy actions for all N in one forward; its maxima are the previous step's v */
        prism_nn_q(&pq->net, o, N, pq->q);
        max_rows(pq->q, N, A, pq->max_q, 1, pq->actions);
        if (t > 0)
            for (int i = 0; i < N; i++) {
                size_t k = (size_t)(t - 1) * N + (size_t)i;
                if (!pq->r_term[k] && !pq->r_trunc[k]) pq->r_next_v[k] = pq->max_q[i];
            }
        pq->env_steps += N;
        double eps = prism_pqn_epsilon(pq, pq->env_steps); /* CleanRL: after the increment */
        s->epsilon_last = eps;
        for (int i = 0; i < N; i++)
            if (prism_rng_uniform(&pq->explore_rng) < eps)
                pq->actions[i] = (int)prism_rng_below(&pq->explore_rng, (uint32_t)A);
        double t1 = prism_now();
        prism_vec_env_step(&pq->venv, pq->actions, pq->obs, pq->final_obs, pq->rewards, pq->term,
                           pq->trunc);
        double t2 = prism_now();
        int n_cut = 0;
        for (int i = 0; i < N; i++) {
            size_t k = (size_t)t * N + (size_t)i;
            pq->r_act[k] = pq->actions[i];
            pq->r_rew[k] = pq->rewards[i];
            pq->r_term[k] = pq->term[i];
            pq->r_trunc[k] = pq->trunc[i] && !pq->term[i];
            pq->r_next_v[k] = 0.0f;
            pq->ep_return[i] += (double)pq->rewards[i];
            pq->ep_length[i]++;
            if (pq->term[i] || pq->trunc[i]) {
                prism_pqn_episode *e = &pq->episodes[pq->n_episodes++];
                e->ret = pq->ep_return[i], e->length = pq->ep_length[i], e->env = i;
                pq->ep_return[i] = 0, pq->ep_length[i] = 0;
            }
            /* truncated rows bootstrap from their final observation: gather them */
            if (pq->r_trunc[k] && !pq->cfg.truncation_as_termination) {
                if (n_cut != i)
                    memcpy(pq->final_obs + (size_t)n_cut * D, pq->final_obs + (size_t)i * D,
                           sizeof(float) * D);
                pq->cut_env[n_cut++] = i;
            }
        }
        if (n_cut) {
            prism_nn_q(&pq->net, pq->final_obs, n_cut, pq->q);
            for (int j = 0; j < n_cut; j++) {
                float v;
                max_rows(pq->q + (size_t)j * A, 1, A, &v, 1, NULL);
                pq->r_next_v[(size_t)t * N + (size_t)pq->cut_env[j]] = v;
            }
        }
        s->time_act += t1 - t0 + (prism_now() - t2);
        s->time_env += t2 - t1;
    }
    /* the bootstrap after the last step: max Q of where each environment is now */
    double t0 = prism_now();
    prism_nn_q(&pq->net, pq->obs, N, pq->q);
    max_rows(pq->q, N, A, pq->max_q, 1, NULL);
    for (int i = 0; i < N; i++) {
        size_t k = (size_t)(T - 1) * N + (size_t)i;
        if (!pq->r_term[k] && !pq->r_trunc[k]) pq->r_next_v[k] = pq->max_q[i];
    }
    double t1 = prism_now();
    prism_pqn_lambda_returns(pq->r_returns, pq->r_rew, pq->r_next_v, pq->r_term, pq->r_trunc, T, N,
                             pq->cfg.gamma, pq->cfg.lambda, pq->cfg.truncation_as_termination);
    for (size_t k = 0; k < (size_t)T * N; k++) {
        double g = pq->r_returns[k];
        s->ret_sum += g, s->ret_sq += g * g;
        s->ret_min = fmin(s->ret_min, g), s->ret_max = fmax(s->ret_max, g);
    }
    s->ret_count += (long long)T * N;
    s->rollouts++;
    s->time_act += t1 - t0;
    s->time_returns += prism_now() - t1;
}

prism_status prism_pqn_learn(prism_pqn *pq) {
    double t0 = prism_now();
    const int A = pq->num_actions, D = pq->obs_size, MB = pq->minibatch;
    const int n = pq->n * pq->T;
    prism_pqn_stats *s = &pq->stats;
    pq->opt.cfg.lr = (float)prism_pqn_lr(pq);
    s->lr_last = pq->opt.cfg.lr;
    prism_status st = PRISM_OK;
    for (int i = 0; i < n; i++) pq->perm[i] = i;
    for (int e = 0; e < pq->cfg.epochs && !st; e++) {
        /* Fisher-Yates: a fresh order of the whole rollout for every epoch */
        for (int i = n - 1; i > 0; i--) {
            int j = (int)prism_rng_below(&pq->shuffle_rng, (uint32_t)(i + 1));
            int32_t tmp = pq->perm[i];
            pq->perm[i] = pq->perm[j], pq->perm[j] = tmp;
        }
        for (int m = 0; m < pq->cfg.minibatches; m++) {
            for (int b = 0; b < MB; b++) {
                int k = pq->perm[m * MB + b];
                memcpy(pq->mb_obs + (size_t)b * D, pq->r_obs + (size_t)k * D, sizeof(float) * D);
                pq->mb_act[b] = pq->r_act[k];
                pq->mb_ret[b] = pq->r_returns[k];
            }
            const float *q = prism_nn_forward(&pq->net, pq->mb_obs, MB);
            prism_nn_zero_grad(&pq->net);
            double loss = prism_nn_loss_mse(q, pq->mb_act, pq->mb_ret, NULL, MB, A, NULL, pq->dout);
            for (int b = 0; b < MB; b++) {
                double qa = q[(size_t)b * A + pq->mb_act[b]];
                s->q_sum += qa;
                if (qa > s->q_max) s->q_max = qa;
            }
            s->q_count += MB;
            prism_nn_backward(&pq->net, pq->dout, MB);
            double gn = prism_optim_step(&pq->opt, pq->net.params, pq->net.grads);
            s->updates++;
            s->loss_sum += loss;
            s->grad_norm_sum += gn;
            if (gn > s->grad_norm_max) s->grad_norm_max = gn;
            prism_nonfinite bad = !isfinite(loss)       ? PRISM_NONFINITE_LOSS
                                  : !isfinite(gn)       ? PRISM_NONFINITE_GRAD_NORM
                                  : !isfinite(s->q_sum) ? PRISM_NONFINITE_Q_VALUES
                                                        : PRISM_NONFINITE_NONE;
            if (bad) {
                if (!s->first_nonfinite) s->first_nonfinite = bad;
                st = prism_error(PRISM_ERR_DIVERGED, "pqn: the %s became non-finite at update %lld",
                                 prism_nonfinite_name(bad), s->updates);
                break;
            }
        }
    }
    pq->rollouts++;
    s->time_learn += prism_now() - t0;
    return st;
}

int prism_pqn_act(prism_pqn *pq, const float *obs, double epsilon, prism_rng *rng) {
    if (epsilon > 0 && prism_rng_uniform(rng) < epsilon)
        return (int)prism_rng_below(rng, (uint32_t)pq->num_actions);
    return prism_nn_act(&pq->net, obs);
}

double prism_pqn_count_flops(const prism_agent_config *cfg, const prism_env_class *env) {
    prism_nn_config nc = prism_agent_net_config(cfg, env);
    const int N = cfg->num_envs, T = cfg->rollout_steps;
    const int MB = N * T / (cfg->minibatches > 0 ? cfg->minibatches : 1);
    prism_nn_flops act = prism_nn_count_flops(&nc, N), mb = prism_nn_count_flops(&nc, MB);
    return (T + 1) * act.forward +
           (double)cfg->epochs * cfg->minibatches * (mb.forward + mb.backward);
}
