/* The DQN-family agent: acting (epsilon-greedy and noisy nets), storing transitions, and the
 * learning step with its six switches. See prism/agent.h for the equations.
 *
 * Not here: the environment loop, iteration bookkeeping and logging (run/trainer.c).
 */
#include "agent_internal.h"

#include <math.h>
#include <string.h>

const char *prism_nonfinite_name(prism_nonfinite what) {
    switch (what) {
    case PRISM_NONFINITE_LOSS:
        return "TD loss";
    case PRISM_NONFINITE_GRAD_NORM:
        return "gradient norm";
    case PRISM_NONFINITE_Q_VALUES:
        return "Q-values";
    case PRISM_NONFINITE_PARAMETERS:
        return "parameters";
    case PRISM_NONFINITE_NONE:
        break;
    }
    return "a learning quantity";
}

prism_nn_config prism_agent_net_config(const prism_agent_config *c, const prism_env_class *env) {
    prism_nn_config n;
    memset(&n, 0, sizeof n);
    if (env->obs_rank == 3) {
        n.in_h = env->obs_shape[0];
        n.in_w = env->obs_shape[1];
        n.in_c = env->obs_shape[2];
    } else {
        n.in_dim = env->obs_shape[0];
    }
    n.conv_filters = c->conv_channels;
    n.conv_padding = c->conv_valid ? PRISM_NN_PAD_VALID : PRISM_NN_PAD_SAME;
    n.n_hidden = c->n_hidden;
    for (int i = 0; i < c->n_hidden; i++) n.hidden[i] = c->hidden[i];
    n.n_actions = env->num_actions;
    n.n_atoms = c->distributional && !implicit_head_on(c) ? c->num_atoms : 1;
    n.quantile_embedding_dim = implicit_head_on(c) ? c->quantile_embedding_dim : 0;
    n.v_min = (float)-c->v_max;
    n.v_max = (float)c->v_max;
    n.dueling = c->dueling;
    n.noisy = c->noisy;
    n.noisy_sigma0 = (float)c->noisy_sigma0;
    n.init = c->init;
    /* Dopamine's JAX networks: variance_scaling(1/sqrt(3), fan_in, uniform). Other kinds keep
     * init_scale 0 (ignored), so their network configs, and checkpoints, are unchanged. */
    if (c->init == PRISM_NN_INIT_VS_FAN_IN || c->init == PRISM_NN_INIT_VS_FAN_AVG)
        n.init_scale = (float)(1.0 / sqrt(3.0));
    if (c->init == PRISM_NN_INIT_ORTHOGONAL) n.init_scale = (float)c->init_gain;
    if (c->layer_norm) n.layer_norm = 1, n.layer_norm_eps = 1e-5f; /* PyTorch's default */
    n.precision = c->precision;
    return n;
}

prism_agent_flops prism_agent_count_flops(const prism_agent_config *c, const prism_env_class *env) {
    prism_nn_config n = prism_agent_net_config(c, env);
    const int B = c->batch_size;
    prism_nn_flops rows = prism_nn_count_flops(&n, B), one = prism_nn_count_flops(&n, 1);
    prism_agent_flops f;
    /* double Q runs the online net on 2B rows, Munchausen the target net */
    f.update = rows.forward * (c->double_q || c->munchausen ? 3 : 2) + rows.backward;
    f.act = one.forward;
    if (implicit_head_on(c)) {
        /* the target at N' fractions, the choice of a* at K, the online net at N, its backward */
        prism_nn_flops on = prism_nn_count_flops_taus(&n, B, c->num_tau_samples);
        const double k = prism_nn_count_flops_taus(&n, B, c->num_quantile_samples).forward;
        f.update = prism_nn_count_flops_taus(&n, B, c->num_tau_prime_samples).forward +
                   k * (c->munchausen ? 2 : 1) + on.forward + on.backward; /* M-IQN: K on obs */
        f.act = prism_nn_count_flops_taus(&n, 1, c->num_quantile_samples).forward;
    }
    f.per_step =
        f.update / (c->update_period > 0 ? c->update_period : 1) + (1.0 - c->eps_end) * f.act;
    return f;
}

static prism_optim_config optim_config(const prism_agent_config *c) {
    prism_optim_config o;
    switch (c->optimizer) {
    case PRISM_OPTIM_RMSPROP_TF:
        o = prism_optim_config_rmsprop_tf((float)c->lr, (float)c->rms_eps);
        o.rho = (float)c->rms_decay;
        o.momentum = (float)c->rms_momentum;
        o.centered = c->rms_centered;
        break;
    case PRISM_OPTIM_RMSPROP_TORCH:
        o = prism_optim_config_rmsprop_torch((float)c->lr);
        o.rho = (float)c->rms_decay;
        o.eps = (float)c->rms_eps;
        o.momentum = (float)c->rms_momentum;
        o.centered = c->rms_centered;
        break;
    case PRISM_OPTIM_SGD:
        o = prism_optim_config_sgd((float)c->lr);
        break;
    case PRISM_OPTIM_ADAM:
    default:
        o = prism_optim_config_adam((float)c->lr, (float)c->adam_eps);
        o.beta1 = (float)c->adam_beta1;
        o.beta2 = (float)c->adam_beta2;
        break;
    }
    o.clip_norm = (float)c->grad_clip;
    return o;
}

static prism_obs_storage storage_for(const prism_agent_config *c, const prism_env_class *env) {
    if (c->obs_storage != PRISM_OBS_AUTO) return c->obs_storage;
    /* Image observations are binary (MinAtar): one bit each, a 32x smaller replay. */
    return env->obs_rank == 3 ? PRISM_OBS_BITS : PRISM_OBS_FLOAT32;
}

bool prism_agent_keeps_noise(const prism_agent_config *c) {
    return c->noisy && c->noisy_resample != PRISM_NOISE_ACTION;
}

/* The one draw of the fixed modes, on a stream of its own so that it does not depend on how
 * many draws the nets made at init; the target uses the same noise as the online net. */
static void draw_fixed_noise(prism_agent *ag, uint64_t seed) {
    const prism_noise_resample mode = ag->cfg.noisy_resample;
    if (mode != PRISM_NOISE_FIXED && mode != PRISM_NOISE_FIXED_SHARED) return;
    prism_rng rng;
    prism_rng_seed(&rng, seed, PRISM_STREAM_NOISY_FIXED);
    if (mode == PRISM_NOISE_FIXED_SHARED)
        prism_nn_noise_draw_by_length(&ag->online, prism_rng_next(&rng));
    else
        prism_nn_noise_draw(&ag->online, &rng);
    prism_nn_noise_copy(&ag->target, &ag->online);
}

void prism_agent_free(prism_agent *ag) {
    prism_nn_free(&ag->online);
    prism_nn_free(&ag->target);
    prism_optim_free(&ag->opt);
    prism_replay_free(&ag->replay);
    prism_replay_batch_free(&ag->batch);
    prism_free(ag->scratch);
    memset(ag, 0, sizeof *ag);
}

prism_status prism_agent_config_check(const prism_agent_config *c) {
    if (c->head != PRISM_HEAD_C51 && !c->distributional)
        return prism_error(PRISM_ERR_INVALID,
                           "agent.head=%s picks the distributional head, but "
                           "agent.distributional is false (set agent.distributional=true, or "
                           "agent.head=c51 for a scalar head)",
                           c->head == PRISM_HEAD_IMPLICIT ? "implicit" : "quantile");
    if (implicit_head_on(c) && (c->num_tau_samples < 1 || c->num_tau_prime_samples < 1 ||
                                c->num_quantile_samples < 1 || c->quantile_embedding_dim < 1))
        return prism_error(
            PRISM_ERR_INVALID,
            "the implicit head needs agent.num_tau_samples, "
            "agent.num_tau_prime_samples, agent.num_quantile_samples and "
            "agent.quantile_embedding_dim of at least 1 (Revisiting Rainbow: 32, 32, 32, 64)");
    if (c->munchausen && c->distributional && c->head == PRISM_HEAD_C51)
        return prism_error(PRISM_ERR_INVALID,
                           "agent.munchausen cannot be combined with the C51 head: the "
                           "log-policy bonus has no categorical projection, and Revisiting "
                           "Rainbow reports it could not combine the two (set "
                           "agent.distributional=false)");
    if (c->munchausen && c->distributional && !implicit_head_on(c))
        return prism_error(PRISM_ERR_INVALID,
                           "agent.munchausen is defined for the scalar and the implicit heads "
                           "(set agent.head=implicit, or agent.distributional=false)");
    if (c->munchausen && c->double_q)
        return prism_error(PRISM_ERR_INVALID,
                           "agent.munchausen cannot be combined with agent.double: the soft "
                           "bootstrap averages over the target policy instead of taking one "
                           "action, so there is no action for the online net to pick, and "
                           "Revisiting Rainbow reports it could not combine the two (set "
                           "agent.double=false)");
    return PRISM_OK;
}

prism_status prism_agent_init(prism_agent *ag, const prism_agent_config *cfg,
                              const prism_env_class *env, uint64_t seed) {
    memset(ag, 0, sizeof *ag);
    prism_status checked = prism_agent_config_check(cfg);
    if (checked) return checked;
    ag->cfg = *cfg;
    ag->obs_size = prism_env_obs_size(env);
    ag->num_actions = env->num_actions;
    const bool implicit = implicit_head_on(cfg);
    ag->num_atoms = cfg->distributional && !implicit ? cfg->num_atoms : 1;
    if (cfg->conv_channels > 0 && env->obs_rank != 3)
        return prism_error(PRISM_ERR_INVALID,
                           "agent.conv_channels needs image observations, and %s's are a vector "
                           "(set agent.conv_channels=0)",
                           env->id);
    if (cfg->obs_minmax && (cfg->n_obs_min != ag->obs_size || cfg->n_obs_max != ag->obs_size))
        return prism_error(PRISM_ERR_INVALID,
                           "agent.obs_min and agent.obs_max need %d values each for %s",
                           ag->obs_size, env->id);

    const int B = cfg->batch_size, D = ag->obs_size, A = ag->num_actions, N = ag->num_atoms;
    prism_nn_config ncfg = prism_agent_net_config(cfg, env);
    prism_status st = prism_nn_config_check(&ncfg);
    if (st) return st;
    /* With double Q the online net runs obs and next_obs as one batch of 2B rows (see
     * build_targets), so it is sized for 2B; with Munchausen the target net does. */
    const int online_batch = cfg->double_q && !implicit ? 2 * B : B;
    /* the implicit head: the online net runs N fractions per sample (K to choose a* with double
     * Q, and to act), the target N' (K to choose a* without) */
    const int Ni = cfg->num_tau_samples, Np = cfg->num_tau_prime_samples,
              K = cfg->num_quantile_samples;
    const int online_taus = implicit ? (Ni > K ? Ni : K) : 1;
    const int target_taus = implicit ? (Np > K ? Np : K) : 1;
    if ((st = prism_nn_init_taus(&ag->online, &ncfg, online_batch, online_taus, seed))) goto fail;
    if ((st = prism_nn_init_taus(&ag->target, &ncfg, cfg->munchausen && !implicit ? 2 * B : B,
                                 target_taus, seed)))
        goto fail;
    /* The target draws its own noise (Fortunato et al.: independent noise for the target). */
    prism_rng_seed(&ag->target.noise_rng, seed, PRISM_STREAM_NOISY + 1);
    prism_agent_sync_target(ag);
    if (cfg->noisy) draw_fixed_noise(ag, seed);
    prism_optim_config ocfg = optim_config(cfg);
    if ((st = prism_optim_init(&ag->opt, &ocfg, ag->online.n_params))) goto fail;

    prism_replay_options ro = prism_replay_options_default();
    ro.capacity = cfg->replay_capacity;
    ro.obs_size = D;
    ro.storage = storage_for(cfg, env);
    ro.n_step = cfg->n_step;
    ro.gamma = (float)cfg->gamma;
    ro.prioritized = cfg->prioritized;
    ro.alpha = (float)cfg->per_alpha;
    ro.beta = (float)cfg->per_beta;
    if ((st = prism_replay_init(&ag->replay, &ro))) goto fail;
    if ((st = prism_replay_batch_init(&ag->batch, B, D))) goto fail;

    const bool both = (cfg->double_q || cfg->munchausen) && !implicit;
    const bool quantile = quantile_head_on(cfg);
    /* probs and dout hold (B, A, N) values, or (B*N, A) with the implicit head's N */
    const size_t rows_n = implicit ? (size_t)B * Ni : (size_t)B * N;
    const size_t implicit_floats = implicit ? 2 * (size_t)B * Np + (size_t)B * K + (size_t)K +
                                                  3 * (size_t)B * Ni + (size_t)B * A
                                            : 0;
    size_t floats = 3 * (size_t)D + (size_t)B * A + (size_t)B + 2 * (size_t)B * N + rows_n * A +
                    (size_t)B + rows_n * A + ag->online.n_params + (both ? 2 * (size_t)B * D : 0) +
                    (quantile ? 3 * (size_t)B * N + A : 0) + implicit_floats;
    ag->scratch = prism_calloc(floats * sizeof(float) + (size_t)B * sizeof(int32_t), 1);
    if (!ag->scratch) {
        st = prism_error(PRISM_ERR_NOMEM, "out of memory allocating the agent's scratch buffers");
        goto fail;
    }
    float *p = ag->scratch;
    ag->scale_mul = p, p += D;
    ag->scale_add = p, p += D;
    ag->act_obs = p, p += D;
    ag->next_q = p, p += (size_t)B * A;
    ag->targets = p, p += B;
    ag->target_probs = p, p += (size_t)B * N;
    ag->next_probs = p, p += (size_t)B * N;
    ag->probs = p, p += rows_n * A;
    ag->losses = p, p += B;
    ag->dout = p, p += rows_n * A;
    ag->params_before = p, p += ag->online.n_params;
    ag->both_obs = both ? p : NULL;
    p += both ? 2 * (size_t)B * D : 0;
    if (quantile) {
        ag->taus = p, p += (size_t)B * N;
        ag->quantiles = p, p += (size_t)B * N;
        ag->dquantiles = p, p += (size_t)B * N;
        ag->act_q = p, p += A;
        quantile_taus_init(ag->taus, B, N);
    }
    if (implicit) {
        ag->taus = p, p += (size_t)B * Ni;
        ag->quantiles = p, p += (size_t)B * Ni;
        ag->dquantiles = p, p += (size_t)B * Ni;
        ag->taus_prime = p, p += (size_t)B * Np;
        ag->taus_select = p, p += (size_t)B * K;
        ag->quantile_targets = p, p += (size_t)B * Np;
        ag->act_taus = p, p += K;
        ag->obs_q = p, p += (size_t)B * A;
    }
    ag->next_actions = (int32_t *)p;

    /* obs' = 2 (obs - min) / (max - min) - 1 = obs * mul + add */
    for (int i = 0; i < D; i++) {
        if (cfg->obs_minmax) {
            double range = cfg->obs_max[i] - cfg->obs_min[i];
            ag->scale_mul[i] = (float)(2.0 / range);
            ag->scale_add[i] = (float)(-2.0 * cfg->obs_min[i] / range - 1.0);
        } else {
            ag->scale_mul[i] = 1.0f;
            ag->scale_add[i] = 0.0f;
        }
    }
    prism_rng_seed(&ag->explore_rng, seed, PRISM_STREAM_EXPLORATION);
    prism_rng_seed(&ag->replay_rng, seed, PRISM_STREAM_REPLAY);
    prism_rng_seed(&ag->eval_rng, seed, PRISM_STREAM_EVAL);
    prism_rng_seed(&ag->tau_rng, seed, PRISM_STREAM_TAUS);
    prism_agent_stats_reset(ag);
    return PRISM_OK;
fail:
    prism_agent_free(ag);
    return st;
}

static void scale_rows(const prism_agent *ag, float *x, int rows) {
    if (!ag->cfg.obs_minmax) return;
    const int D = ag->obs_size;
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < D; i++)
            x[r * D + i] = x[r * D + i] * ag->scale_mul[i] + ag->scale_add[i];
}

int argmax_row(const float *row, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (row[i] > row[best]) best = i;
    return best;
}

void prism_agent_q_values(prism_agent *ag, const float *x, int B, float *q) {
    if (ag->act_taus) {
        implicit_q(ag, x, B, q);
        return;
    }
    if (!quantile_head_on(&ag->cfg)) {
        prism_nn_q(&ag->online, x, B, q);
        return;
    }
    quantile_q(q, prism_nn_forward(&ag->online, x, B), B, ag->num_actions, ag->num_atoms);
}

double prism_agent_epsilon(const prism_agent *ag) {
    const prism_agent_config *c = &ag->cfg;
    if (c->eps_decay_steps <= 0) return c->eps_end;
    if (ag->steps < c->eps_warmup) return c->eps_start;
    double frac = (double)(ag->steps - c->eps_warmup) / c->eps_decay_steps;
    if (frac > 1.0) frac = 1.0;
    return c->eps_start + (c->eps_end - c->eps_start) * frac;
}

int prism_agent_act(prism_agent *ag, const float *obs, bool eval) {
    double eps = eval ? ag->cfg.eps_eval : prism_agent_epsilon(ag);
    /* Always draw both numbers so the stream advances the same way whatever epsilon is. */
    prism_rng *rng = eval ? &ag->eval_rng : &ag->explore_rng;
    double u = prism_rng_uniform(rng);
    int random_action = (int)prism_rng_below(rng, (uint32_t)ag->num_actions);
    if (u < eps) return random_action;
    memcpy(ag->act_obs, obs, sizeof(float) * (size_t)ag->obs_size);
    scale_rows(ag, ag->act_obs, 1);
    if (ag->cfg.noisy) {
        if (eval)
            prism_nn_set_eval(&ag->online, 1);
        else if (ag->cfg.noisy_resample == PRISM_NOISE_ACTION)
            prism_nn_noise_resample(&ag->online);
    }
    int a;
    if (ag->act_taus) {
        implicit_act_taus(ag, eval);
        a = prism_nn_act(&ag->online, ag->act_obs);
    } else if (ag->act_q) {
        prism_agent_q_values(ag, ag->act_obs, 1, ag->act_q);
        a = argmax_row(ag->act_q, ag->num_actions);
    } else {
        a = prism_nn_act(&ag->online, ag->act_obs);
    }
    if (ag->cfg.noisy && eval) prism_nn_set_eval(&ag->online, 0);
    return a;
}

void prism_agent_sync_target(prism_agent *ag) {
    prism_rng target_noise = ag->target.noise_rng;
    if (ag->cfg.tau >= 1.0) {
        prism_nn_copy_params(&ag->target, &ag->online);
    } else {
        const float tau = (float)ag->cfg.tau;
        for (size_t i = 0; i < ag->online.n_params; i++)
            ag->target.params[i] = tau * ag->online.params[i] + (1.0f - tau) * ag->target.params[i];
    }
    ag->target.noise_rng = target_noise;
    ag->stats.target_syncs++;
}

void prism_agent_stats_reset(prism_agent *ag) {
    memset(&ag->stats, 0, sizeof ag->stats);
    ag->stats.q_max = -INFINITY;
    ag->stats.weight_min = 1.0;
    ag->stats.update_ratio = NAN;
}

double prism_agent_param_norm(const prism_agent *ag) {
    double s = 0;
    for (size_t i = 0; i < ag->online.n_params; i++)
        s += (double)ag->online.params[i] * (double)ag->online.params[i];
    return sqrt(s);
}

/* The deliberate bugs of prism_agent_bug that act on the batch's discounts (tests only). */
static void inject_discount_bug(prism_agent *ag) {
    prism_replay_batch *b = &ag->batch;
    const float gamma = (float)ag->cfg.gamma;
    float gamma_n = 1.0f;
    for (int k = 0; k < ag->cfg.n_step; k++) gamma_n *= gamma;
    for (int i = 0; i < b->size; i++) {
        if (ag->bug == PRISM_BUG_NO_TERMINAL_MASK && b->discounts[i] == 0.0f)
            b->discounts[i] = gamma_n;
        if (ag->bug == PRISM_BUG_NSTEP_OFF_BY_ONE) b->discounts[i] *= gamma;
        if (ag->bug == PRISM_BUG_TARGET_SIGN) b->discounts[i] = -b->discounts[i];
    }
}

/* Next-state values into ag->targets (scalar) or ag->target_probs (C51). Returns the online
 * outputs on obs, (B, A*N), when it computed them (double Q), else NULL.
 *
 * Double Q needs the online net on next_obs (to choose a*) and on obs (for the loss). Both
 * use the same parameters and the same noise sample, so they run as one forward of 2B rows,
 * obs first: one pass over the weights (and one build of the noisy weights) instead of two,
 * and a taller matrix product. Backward then uses the first B rows (prism_nn_backward). */
static const float *build_targets(prism_agent *ag) {
    prism_replay_batch *b = &ag->batch;
    const int B = b->size, A = ag->num_actions, N = ag->num_atoms, D = ag->obs_size;
    if (ag->bug) inject_discount_bug(ag);
    if (ag->act_taus) {
        implicit_targets(ag);
        return NULL;
    }
    if (ag->cfg.munchausen) {
        /* the target net on obs (the log-policy bonus) and next_obs, as one batch of 2B rows */
        memcpy(ag->both_obs, b->obs, sizeof(float) * (size_t)B * D);
        memcpy(ag->both_obs + (size_t)B * D, b->next_obs, sizeof(float) * (size_t)B * D);
        const float *tq = prism_nn_forward(&ag->target, ag->both_obs, 2 * B);
        const double tau = ag->cfg.munchausen_tau;
        const double temp = ag->bug == PRISM_BUG_MUNCHAUSEN_NO_INV_TAU ? 1.0 : tau;
        munchausen_targets_temp(tq, tq + (size_t)B * A, b->actions, b->returns, b->discounts, B, A,
                                tau, temp, ag->cfg.munchausen_alpha, ag->cfg.munchausen_clip,
                                ag->targets);
        return NULL;
    }
    const float *tout = prism_nn_forward(&ag->target, b->next_obs, B);
    const float *both = NULL, *online_next = NULL;
    if (ag->cfg.double_q) {
        memcpy(ag->both_obs, b->obs, sizeof(float) * (size_t)B * D);
        memcpy(ag->both_obs + (size_t)B * D, b->next_obs, sizeof(float) * (size_t)B * D);
        both = prism_nn_forward(&ag->online, ag->both_obs, 2 * B);
        online_next = both + (size_t)B * A * N;
    }
    if (N == 1) {
        const float *select = ag->cfg.double_q ? online_next : tout;
        for (int i = 0; i < B; i++) {
            int a = argmax_row(select + (size_t)i * A, A);
            ag->next_actions[i] = a;
            ag->targets[i] = b->returns[i] + b->discounts[i] * tout[(size_t)i * A + a];
        }
        return both;
    }
    if (quantile_head_on(&ag->cfg)) {
        quantile_targets(ag, tout, ag->cfg.double_q ? online_next : tout);
        return both;
    }
    prism_nn_softmax(ag->probs, tout, B * A, N);
    /* a* = argmax of the selecting network's expected values (the online one with double Q) */
    prism_nn_q_from_logits(ag->next_q, ag->cfg.double_q ? online_next : tout, B, A, N,
                           ag->online.cfg.v_min, ag->online.cfg.v_max);
    for (int i = 0; i < B; i++) {
        int a = argmax_row(ag->next_q + (size_t)i * A, A);
        ag->next_actions[i] = a;
        memcpy(ag->next_probs + (size_t)i * N, ag->probs + ((size_t)i * A + a) * N,
               sizeof(float) * (size_t)N);
    }
    prism_nn_c51_project(ag->target_probs, ag->next_probs, b->returns, b->discounts, B, N,
                         ag->online.cfg.v_min, ag->online.cfg.v_max);
    return both;
}

/* Q, target and distribution statistics of this batch into ag->stats. */
static void batch_stats(prism_agent *ag, const float *out) {
    prism_replay_batch *b = &ag->batch;
    const int B = b->size, A = ag->num_actions, N = ag->num_atoms;
    prism_agent_stats *s = &ag->stats;
    const float vmin = ag->online.cfg.v_min, vmax = ag->online.cfg.v_max;
    for (int i = 0; i < B; i++) {
        double q, target;
        if (ag->act_taus) {
            implicit_stats(ag, &q, &target, i);
        } else if (N == 1) {
            q = out[(size_t)i * A + b->actions[i]];
            target = ag->targets[i];
        } else if (ag->taus) {
            /* the mean of the quantiles; the spread from the first to the last */
            const float *theta = out + ((size_t)i * A + b->actions[i]) * N;
            const float *t = ag->target_probs + (size_t)i * N;
            double sq = 0, st = 0;
            for (int j = 0; j < N; j++) sq += (double)theta[j], st += (double)t[j];
            q = sq / N;
            target = st / N;
            s->quantile_spread_sum += ((double)theta[N - 1] - (double)theta[0]) / B;
        } else {
            const float *logits = out + ((size_t)i * A + b->actions[i]) * N;
            float qf;
            prism_nn_q_from_logits(&qf, logits, 1, 1, N, vmin, vmax);
            q = qf;
            target = prism_nn_c51_mean(ag->target_probs + (size_t)i * N, N, vmin, vmax);
            /* the entropy of the predicted distribution */
            float maxl = logits[0];
            for (int j = 1; j < N; j++) maxl = logits[j] > maxl ? logits[j] : maxl;
            double z = 0, ent = 0;
            for (int j = 0; j < N; j++) z += exp((double)logits[j] - (double)maxl);
            for (int j = 0; j < N; j++) {
                double p = exp((double)logits[j] - (double)maxl) / z;
                if (p > 0) ent -= p * log(p);
            }
            s->dist_entropy_sum += ent / B;
        }
        s->q_sum += q;
        if (q > s->q_max) s->q_max = q;
        s->target_sum += target;
        if (fabs(target) > s->target_absmax) s->target_absmax = fabs(target);
    }
    s->q_count += B;
}

prism_status prism_agent_learn(prism_agent *ag) {
    prism_replay_batch *b = &ag->batch;
    double t0 = prism_now();
    prism_status st = prism_replay_sample(&ag->replay, &ag->replay_rng, b);
    double t1 = prism_now();
    ag->stats.time_replay += t1 - t0;
    if (st) return st;
    const int B = b->size, A = ag->num_actions, N = ag->num_atoms;
    scale_rows(ag, b->obs, B);
    scale_rows(ag, b->next_obs, B);
    if (ag->cfg.noisy && ag->cfg.noisy_resample == PRISM_NOISE_ACTION) {
        prism_nn_noise_resample(&ag->online);
        prism_nn_noise_resample(&ag->target);
    } else if (ag->cfg.noisy && ag->cfg.noisy_resample == PRISM_NOISE_UPDATE) {
        prism_nn_noise_resample(&ag->online);
        prism_nn_noise_copy(&ag->target, &ag->online);
    }
    /* The online forward on obs comes last (or is the first half of build_targets' 2B-row
     * forward): backward uses its saved activations. */
    const float *out = build_targets(ag);
    if (!out)
        out = ag->act_taus ? implicit_online_forward(ag) : prism_nn_forward(&ag->online, b->obs, B);
    const float *weights = ag->cfg.prioritized ? b->weights : NULL;
    double loss;
    if (ag->act_taus)
        loss = implicit_loss(ag, out, weights);
    else if (ag->taus)
        loss = quantile_loss(ag, out, weights);
    else if (N > 1)
        loss = prism_nn_loss_c51(out, b->actions, ag->target_probs, weights, B, A, N, ag->losses,
                                 ag->dout);
    else if (ag->cfg.loss == PRISM_LOSS_MSE)
        loss = prism_nn_loss_mse(out, b->actions, ag->targets, weights, B, A, ag->losses, ag->dout);
    else
        loss =
            prism_nn_loss_huber(out, b->actions, ag->targets, weights, B, A, ag->losses, ag->dout);
    batch_stats(ag, out);
    prism_agent_stats *s = &ag->stats;
    if (!isfinite(loss)) {
        s->first_nonfinite = PRISM_NONFINITE_LOSS;
        return prism_error(PRISM_ERR_DIVERGED, "the TD loss became %g at update %lld", loss,
                           s->updates + 1);
    }
    prism_nn_backward_into(&ag->online, ag->dout, B);
    bool first = s->updates == 0;
    if (first) memcpy(ag->params_before, ag->online.params, sizeof(float) * ag->online.n_params);
    double gnorm = prism_optim_step(&ag->opt, ag->online.params, ag->online.grads);
    if (!isfinite(gnorm)) {
        s->first_nonfinite = PRISM_NONFINITE_GRAD_NORM;
        return prism_error(PRISM_ERR_DIVERGED, "the gradient norm became %g at update %lld", gnorm,
                           s->updates + 1);
    }
    if (first) {
        double d = 0, n = 0;
        for (size_t i = 0; i < ag->online.n_params; i++) {
            double before = ag->params_before[i], delta = (double)ag->online.params[i] - before;
            d += delta * delta;
            n += before * before;
        }
        s->update_ratio = n > 0 ? sqrt(d / n) : (double)NAN;
    }
    s->updates++;
    s->loss_sum += loss;
    s->grad_norm_sum += gnorm;
    if (gnorm > s->grad_norm_max) s->grad_norm_max = gnorm;
    if (b->weights && ag->cfg.prioritized)
        for (int i = 0; i < B; i++)
            if ((double)b->weights[i] < s->weight_min) s->weight_min = (double)b->weights[i];
    if (!isfinite(s->q_sum)) {
        s->first_nonfinite = PRISM_NONFINITE_Q_VALUES;
        return prism_error(PRISM_ERR_DIVERGED, "the Q-values became non-finite at update %lld",
                           s->updates);
    }
    double t2 = prism_now();
    s->time_learn += t2 - t1;
    if (ag->cfg.prioritized) {
        st = prism_replay_update_priorities(&ag->replay, b->indices, ag->losses, B);
        s->time_replay += prism_now() - t2;
        if (st) return st;
    }
    return PRISM_OK;
}

prism_status prism_agent_observe(prism_agent *ag, const float *obs, int action, float reward,
                                 bool terminated, bool truncated, const float *next_obs) {
    if (ag->cfg.reward_clip) reward = reward > 1.0f ? 1.0f : reward < -1.0f ? -1.0f : reward;
    double t0 = prism_now();
    prism_replay_add(&ag->replay, obs, action, reward, terminated, truncated, next_obs);
    ag->stats.time_replay += prism_now() - t0;
    ag->steps++;
    const prism_agent_config *c = &ag->cfg;
    if (ag->replay.steps <= c->min_replay || prism_replay_size(&ag->replay) == 0) return PRISM_OK;
    if (ag->steps % c->update_period == 0) {
        prism_status st = prism_agent_learn(ag);
        if (st) return st;
    }
    if (ag->steps % c->target_period == 0 && ag->bug != PRISM_BUG_TARGET_NEVER_SYNCS)
        prism_agent_sync_target(ag);
    return PRISM_OK;
}
