/* `prism doctor` engine checks on the configured network (the preset's network for the
 * engine environment, CartPole-v0 unless told otherwise):
 *   gradcheck    analytic gradients vs central finite differences (prism_nn_gradcheck)
 *   overfit      one fixed batch, trained alone, must lose at least 99% of its loss
 *   determinism  two short training runs with one seed end with bit-identical parameters
 *   naive        the fast kernels and the naive reference kernels give the same outputs and
 *                gradients (up to float summation order)
 * Not here: the probes (probes.c); the learning rules themselves (src/agent, src/nn).
 */
#include "prism/doctor.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static prism_status add(prism_doctor_report *r, const char *name, const char *what, double expected,
                        double learned, double tol, bool ok, const char *message) {
    return prism_doctor_report_check(r, name, what, expected, learned, tol,
                                     ok ? PRISM_DOCTOR_PASS : PRISM_DOCTOR_FAIL, message);
}

static void fill_uniform(float *x, size_t n, prism_rng *rng) {
    for (size_t i = 0; i < n; i++) x[i] = 2.0f * prism_rng_uniform_f(rng) - 1.0f;
}

enum { GC_BATCH = 4, FIT_BATCH = 32, FIT_STEPS = 300, RUN_STEPS = 300, ENGINE_TAUS = 4 };

/* A network for the engine checks at batch B. With the quantile embedding (the implicit head) it
 * takes ENGINE_TAUS fractions per sample, drawn into taus (B * ENGINE_TAUS) and set on it, so
 * that every check covers the embedding layer too. */
static prism_status engine_net(prism_nn *net, const prism_nn_config *nc, int B, uint64_t seed,
                               float *taus) {
    const bool implicit = nc->quantile_embedding_dim > 0;
    prism_status st = prism_nn_init_taus(net, nc, B, implicit ? ENGINE_TAUS : 1, seed);
    if (st || !implicit) return st;
    prism_rng rng;
    prism_rng_seed(&rng, seed, PRISM_STREAM_TAUS);
    for (int i = 0; i < B * ENGINE_TAUS; i++) taus[i] = prism_rng_uniform_f(&rng);
    prism_nn_set_taus(net, taus, ENGINE_TAUS);
    return PRISM_OK;
}

static prism_status gradcheck(const prism_nn_config *nc, uint64_t seed, prism_doctor_report *r) {
    prism_nn net;
    float taus[GC_BATCH * ENGINE_TAUS];
    prism_status st = engine_net(&net, nc, GC_BATCH, seed, taus);
    if (st) return st;
    prism_rng rng;
    prism_rng_seed(&rng, seed, PRISM_STREAM_ACTIONS);
    float *x = prism_alloc(sizeof(float) * (size_t)GC_BATCH * (size_t)net.in_size);
    if (!x) {
        prism_nn_free(&net);
        return prism_error(PRISM_ERR_NOMEM, "out of memory for the gradient check");
    }
    fill_uniform(x, (size_t)GC_BATCH * (size_t)net.in_size, &rng);
    prism_nn_gradcheck_result res;
    st = prism_nn_gradcheck(&net, x, GC_BATCH, NULL, 1e-3, 12, &rng, &res);
    if (!st) {
        /* 1e-3: float32 backward against a double-precision finite difference agrees to about
         * 1e-5 on a healthy network (tests/test_nn.c asserts 1e-4); a wrong gradient is off by
         * O(1). */
        const double tol = 1e-3;
        bool ok = res.max_rel_err <= tol && res.checked > 0;
        char msg[320];
        snprintf(msg, sizeof msg, "%s%d parameters checked, %d skipped at ReLU kinks, worst %s%s",
                 ok ? "" : "gradcheck: backward disagrees with finite differences: ", res.checked,
                 res.skipped_kinks, res.worst, ok ? "" : ": check the layer's _backward");
        st = add(r, "gradcheck", "max relative error", 0.0, res.max_rel_err, tol, ok, msg);
    }
    prism_free(x);
    prism_nn_free(&net);
    return st;
}

/* Outputs and gradients of the fast and naive kernels on one batch. */
static prism_status naive_check(const prism_nn_config *nc, uint64_t seed, prism_doctor_report *r) {
    prism_nn fast, naive;
    float taus[FIT_BATCH * ENGINE_TAUS];
    prism_status st = engine_net(&fast, nc, FIT_BATCH, seed, taus);
    if (st) return st;
    if ((st = engine_net(&naive, nc, FIT_BATCH, seed, taus))) {
        prism_nn_free(&fast);
        return st;
    }
    prism_nn_set_naive(&naive, 1);
    const size_t nx = (size_t)FIT_BATCH * (size_t)fast.in_size;
    const size_t no = (size_t)prism_nn_rows(&fast, FIT_BATCH) * (size_t)fast.out_size;
    float *buf = prism_alloc(sizeof(float) * (nx + 2 * no));
    if (!buf) {
        st = prism_error(PRISM_ERR_NOMEM, "out of memory for the kernel check");
        goto done;
    }
    float *x = buf, *dout = buf + nx, *out = dout + no;
    prism_rng rng;
    prism_rng_seed(&rng, seed, PRISM_STREAM_ACTIONS);
    fill_uniform(x, nx, &rng);
    fill_uniform(dout, no, &rng);
    memcpy(out, prism_nn_forward(&fast, x, FIT_BATCH), sizeof(float) * no);
    const float *o2 = prism_nn_forward(&naive, x, FIT_BATCH);
    double worst = 0, scale = 1;
    for (size_t i = 0; i < no; i++) {
        worst = fmax(worst, fabs((double)out[i] - (double)o2[i]));
        scale = fmax(scale, fabs((double)out[i]));
    }
    prism_nn_zero_grad(&fast);
    prism_nn_zero_grad(&naive);
    prism_nn_backward(&fast, dout, FIT_BATCH);
    prism_nn_backward(&naive, dout, FIT_BATCH);
    double gworst = 0, gscale = 1;
    for (size_t i = 0; i < fast.n_params; i++) {
        gworst = fmax(gworst, fabs((double)fast.grads[i] - (double)naive.grads[i]));
        gscale = fmax(gscale, fabs((double)fast.grads[i]));
    }
    /* Relative to the largest magnitude: the kernels sum in different orders, so float32
     * rounding (about 1e-7 per add over a few hundred terms) is all that may differ. */
    const double tol = 1e-4;
    double err = fmax(worst / scale, gworst / gscale);
    char msg[320];
    snprintf(msg, sizeof msg, "%soutputs differ by %.2g, gradients by %.2g (relative)%s",
             err <= tol ? "" : "naive: fast and naive kernels disagree: ", worst / scale,
             gworst / gscale, err <= tol ? "" : ": check the fast kernels (src/nn/kernels.c)");
    st = add(r, "naive-kernels", "max relative difference", 0.0, err, tol, err <= tol, msg);
done:
    prism_free(buf);
    prism_nn_free(&naive);
    prism_nn_free(&fast);
    return st;
}

/* Train on one fixed batch of random inputs, actions and targets: a network that cannot drive
 * the loss of 32 samples down has a broken backward, optimizer or loss. */
static prism_status overfit(const prism_nn_config *nc, const prism_agent_config *ac, uint64_t seed,
                            prism_doctor_report *r) {
    prism_nn net;
    float net_taus[FIT_BATCH * ENGINE_TAUS];
    prism_status st = engine_net(&net, nc, FIT_BATCH, seed, net_taus);
    if (st) return st;
    const bool implicit = nc->quantile_embedding_dim > 0;
    prism_optim opt;
    prism_optim_config oc = prism_optim_config_adam(1e-3f, (float)ac->adam_eps);
    if ((st = prism_optim_init(&opt, &oc, net.n_params))) {
        prism_nn_free(&net);
        return st;
    }
    /* the implicit head's N quantiles are its ENGINE_TAUS rows per sample */
    const int B = FIT_BATCH, A = nc->n_actions,
              N = implicit          ? ENGINE_TAUS
                  : nc->n_atoms > 1 ? nc->n_atoms
                                    : 1;
    const size_t nx = (size_t)B * (size_t)net.in_size;
    /* the quantile heads learn N quantiles of a target that is one value per sample (all its
     * N samples equal), so their loss can reach 0 too */
    const bool quantile = ac->distributional && ac->head != PRISM_HEAD_C51;
    float *buf = prism_alloc(sizeof(float) * (nx + (size_t)B * (size_t)(5 * N + 1 + A * N)) +
                             sizeof(int32_t) * (size_t)B);
    if (!buf) {
        st = prism_error(PRISM_ERR_NOMEM, "out of memory for the overfit check");
        goto done;
    }
    float *x = buf, *targets = x + nx, *tprobs = targets + B, *dout = tprobs + (size_t)B * N;
    float *pred = dout + (size_t)B * A * N, *taus = pred + (size_t)B * N;
    float *dpred = taus + (size_t)B * N, *samples = dpred + (size_t)B * N;
    int32_t *actions = (int32_t *)(samples + (size_t)B * N);
    prism_rng rng;
    prism_rng_seed(&rng, seed, PRISM_STREAM_ACTIONS);
    fill_uniform(x, nx, &rng);
    memset(tprobs, 0, sizeof(float) * (size_t)B * N);
    for (int b = 0; b < B; b++) {
        actions[b] = (int32_t)prism_rng_below(&rng, (uint32_t)A);
        targets[b] = 2.0f * prism_rng_uniform_f(&rng) - 1.0f;
        tprobs[(size_t)b * N + prism_rng_below(&rng, (uint32_t)N)] = 1.0f; /* one-hot: min CE 0 */
        for (int j = 0; j < N; j++) {
            samples[(size_t)b * N + j] = targets[b];
            taus[(size_t)b * N + j] = implicit ? net_taus[b * N + j] : (float)((j + 0.5) / N);
        }
    }
    double first = NAN, last = NAN;
    for (int t = 0; t < FIT_STEPS; t++) {
        const float *out = prism_nn_forward(&net, x, B);
        double loss;
        if (quantile) {
            memset(dout, 0, sizeof(float) * (size_t)B * A * N);
            /* quantile j of sample b: (b, a_b, j) in the quantile head's outputs, row b*N + j
             * and column a_b in the implicit head's */
            for (int b = 0; b < B; b++)
                for (int j = 0; j < N; j++)
                    pred[(size_t)b * N + j] = out[implicit ? ((size_t)b * N + j) * A + actions[b]
                                                           : ((size_t)b * A + actions[b]) * N + j];
            loss = prism_nn_loss_quantile(pred, taus, samples, NULL, B, N, N, (float)ac->kappa,
                                          NULL, dpred);
            for (int b = 0; b < B; b++)
                for (int j = 0; j < N; j++)
                    dout[implicit ? ((size_t)b * N + j) * A + actions[b]
                                  : ((size_t)b * A + actions[b]) * N + j] =
                        dpred[(size_t)b * N + j];
        } else if (N > 1) {
            loss = prism_nn_loss_c51(out, actions, tprobs, NULL, B, A, N, NULL, dout);
        } else {
            loss = prism_nn_loss_mse(out, actions, targets, NULL, B, A, NULL, dout);
        }
        if (t == 0) first = loss;
        last = loss;
        prism_nn_zero_grad(&net);
        prism_nn_backward(&net, dout, B);
        prism_optim_step(&opt, net.params, net.grads);
    }
    {
        /* 100x: a healthy network of this size memorises 32 samples to <1% of the initial loss
         * in a few hundred Adam steps; a sign error or a missing gradient leaves it near 1x. */
        const double need = 100;
        double ratio = last > 0 ? first / last : (double)INFINITY;
        bool ok = isfinite(first) && ratio >= need;
        char msg[320];
        snprintf(msg, sizeof msg, "%sloss %.4g -> %.4g in %d steps (%.0fx)%s",
                 ok ? "" : "overfit: one fixed batch is not memorised: ", first, last, FIT_STEPS,
                 ratio, ok ? "" : ": check the loss gradient, backward and the optimizer");
        st = add(r, "overfit", "loss drop (first/last)", need, ratio, NAN, ok, msg);
    }
done:
    prism_free(buf);
    prism_optim_free(&opt);
    prism_nn_free(&net);
    return st;
}

/* A short training run of the configured agent on the engine environment; copies the final
 * online parameters into params (P floats, allocated here). */
static prism_status short_run(const prism_config *cfg, const prism_env_class *cls, uint64_t seed,
                              float **params, size_t *n) {
    prism_env env;
    prism_status st = prism_env_init(&env, cls->id, NULL);
    if (st) return st;
    prism_agent ag;
    if ((st = prism_agent_init(&ag, &cfg->agent_cfg, cls, seed))) {
        prism_env_free(&env);
        return st;
    }
    const int D = prism_env_obs_size(cls);
    float *obs = prism_alloc(sizeof(float) * 2 * (size_t)D);
    if (!obs) {
        st = prism_error(PRISM_ERR_NOMEM, "out of memory for the determinism check");
        goto done;
    }
    float *next = obs + D;
    prism_env_seed(&env, seed, PRISM_STREAM_ENV);
    prism_env_reset(&env, obs);
    for (int t = 0; t < RUN_STEPS && !st; t++) {
        int a = prism_agent_act(&ag, obs, false);
        prism_step s = prism_env_step(&env, a, next);
        st = prism_agent_observe(&ag, obs, a, s.reward, s.terminated, s.truncated, next);
        if (s.terminated || s.truncated)
            prism_env_reset(&env, obs);
        else
            memcpy(obs, next, sizeof(float) * (size_t)D);
    }
    if (!st) {
        *n = ag.online.n_params;
        *params = prism_alloc(sizeof(float) * *n);
        if (!*params)
            st = prism_error(PRISM_ERR_NOMEM, "out of memory for the determinism check");
        else
            memcpy(*params, ag.online.params, sizeof(float) * *n);
    }
done:
    prism_free(obs);
    prism_agent_free(&ag);
    prism_env_free(&env);
    return st;
}

static prism_status determinism(const prism_config *base, const prism_env_class *cls, uint64_t seed,
                                prism_doctor_report *r) {
    prism_config cfg = *base;
    /* learn from step 64 on, every step, so 300 steps make a few hundred updates */
    cfg.agent_cfg.min_replay = 64;
    cfg.agent_cfg.update_period = 1;
    if (cfg.agent_cfg.batch_size > 32) cfg.agent_cfg.batch_size = 32;
    float *p1 = NULL, *p2 = NULL;
    size_t n1 = 0, n2 = 0;
    prism_status st = short_run(&cfg, cls, seed, &p1, &n1);
    if (!st) st = short_run(&cfg, cls, seed, &p2, &n2);
    if (!st) {
        size_t differ = 0, first = 0;
        for (size_t i = 0; i < n1; i++)
            if (memcmp(&p1[i], &p2[i], sizeof(float)) != 0 && differ++ == 0) first = i;
        char msg[320];
        if (differ)
            snprintf(msg, sizeof msg,
                     "determinism: two runs with seed %llu differ in %zu of %zu parameters (first "
                     "at %zu): look for an unseeded RNG, uninitialised memory or threads",
                     (unsigned long long)seed, differ, n1, first);
        else
            snprintf(msg, sizeof msg, "%zu parameters bit-identical after %d steps", n1, RUN_STEPS);
        st = add(r, "determinism", "parameters that differ", 0.0, (double)differ, 0.0, differ == 0,
                 msg);
    }
    prism_free(p1);
    prism_free(p2);
    return st;
}

prism_status prism_doctor_engine(const prism_doctor_options *o, prism_doctor_report *r) {
    const char *env_id = o->engine_env ? o->engine_env : "CartPole-v0";
    const prism_env_class *cls = prism_env_find(env_id);
    if (!cls) {
        prism_env probe;
        return prism_env_init(&probe, env_id, NULL); /* the registry's message, with suggestions */
    }
    prism_config cfg;
    prism_status st = prism_doctor_config(o, cls->id, false, &cfg);
    if (st) return st;
    if ((st = prism_config_validate(&cfg, prism_env_obs_size(cls)))) return st;
    prism_nn_config nc = prism_agent_net_config(&cfg.agent_cfg, cls);
    uint64_t seed = o->seed ^ cfg.seed;
    if ((st = gradcheck(&nc, seed, r))) return st;
    if ((st = overfit(&nc, &cfg.agent_cfg, seed, r))) return st;
    if ((st = determinism(&cfg, cls, seed, r))) return st;
    return naive_check(&nc, seed, r);
}
