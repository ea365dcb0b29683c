/* `prism doctor` probes: train the configured DQN-family agent on every probe environment and
 * compare what it learned with the analytic answers (prism/probes.h).
 *
 * The agent is driven directly (act, env step, observe), not through the trainer: no run
 * directory, no logging, a few thousand steps per probe. After training, Q(obs, a) of every
 * ordinary state comes from the online network (with noisy nets: averaged over noise draws,
 * see noise_mean_q). Checks per probe:
 *   - every Q(s, a) within a tolerance of prism_probe_q at the agent's gamma (with the Munchausen
 *     target on a probe with a choice of actions: of the regularised values, munchausen_q);
 *   - C51 on probe-distributional: the learned distribution of the return against the
 *     analytic one projected onto the support (total variation), so "two peaks at -1 and +1";
 *   - the quantile head there: each learned quantile against the analytic quantile at its
 *     fraction (mean distance), so "the lower half at -1, the upper half at +1";
 *   - prioritized replay on probe-prioritized: every importance weight finite and in (0, 1].
 * Not here: the engine checks (engine.c) and what a check means (docs/doctor.md).
 */
#include "prism/doctor.h"
#include "prism/probes.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { DEFAULT_PROBE_STEPS = 4000, MAX_ATOMS = 1001, MAX_OBS = 16 }; /* atoms: config.c's range */

/* Importance weights seen in sampled batches. */
typedef struct weight_watch {
    double min, max;
    long long nonfinite, batches;
} weight_watch;

static void watch_weights(const prism_agent *ag, weight_watch *w) {
    const prism_replay_batch *b = &ag->batch;
    w->batches++;
    for (int i = 0; i < b->size; i++) {
        double x = (double)b->weights[i];
        if (!isfinite(x)) {
            w->nonfinite++;
            continue;
        }
        if (x < w->min) w->min = x;
        if (x > w->max) w->max = x;
    }
}

/* Run the agent on the probe's environment for `steps` steps. */
static prism_status train(prism_agent *ag, prism_env *env, long long steps, uint64_t seed,
                          weight_watch *w) {
    float obs[MAX_OBS], next[MAX_OBS];
    prism_env_seed(env, seed, PRISM_STREAM_ENV);
    prism_env_reset(env, obs);
    const int D = prism_env_obs_size(env->cls);
    PRISM_ASSERT(D <= MAX_OBS);
    const long long settle = steps - steps / 4;
    const float lr = ag->opt.cfg.lr;
    for (long long t = 0; t < steps; t++) {
        /* Annealing: the last quarter at a tenth of the learning rate. With noise in the
         * targets (noisy nets, the coin-flip probe) Adam's steps keep about lr in size and the
         * weights wander; a smaller final step lets the values settle to the precision the
         * checks need (docs/doctor.md, "Tolerances"). */
        ag->opt.cfg.lr = t < settle ? lr : lr * 0.1f;
        int a = prism_agent_act(ag, obs, false);
        prism_step s = prism_env_step(env, a, next);
        long long before = ag->stats.updates;
        prism_status st =
            prism_agent_observe(ag, obs, a, s.reward, s.terminated, s.truncated, next);
        if (st) return st;
        if (ag->stats.updates != before && ag->cfg.prioritized) watch_weights(ag, w);
        if (s.terminated || s.truncated)
            prism_env_reset(env, obs);
        else
            memcpy(obs, next, sizeof(float) * (size_t)D);
    }
    return PRISM_OK;
}

/* The network's input for an observation: the agent's own min/max scaling. */
static void scaled(const prism_agent *ag, const float *obs, float *x) {
    for (int i = 0; i < ag->obs_size; i++) x[i] = obs[i] * ag->scale_mul[i] + ag->scale_add[i];
}

/* Q(x, .) into q (A). With noisy nets, the mean over NOISE_SAMPLES noise draws: TD learning
 * fits the expectation over the noise (targets average over the target net's noise too), and
 * through the ReLUs that differs from the output of the mean weights by about sigma^2. With
 * fixed noise the net is one deterministic function, fitted under its one draw: that draw. */
enum { NOISE_SAMPLES = 256 };
static bool noise_is_fixed(const prism_agent *ag) {
    return ag->cfg.noisy_resample == PRISM_NOISE_FIXED ||
           ag->cfg.noisy_resample == PRISM_NOISE_FIXED_SHARED;
}
static void noise_mean_q(prism_agent *ag, const float *x, float *q) {
    const int A = ag->num_actions;
    if (!ag->cfg.noisy || noise_is_fixed(ag)) {
        prism_agent_q_values(ag, x, 1, q);
        return;
    }
    double sum[8] = {0};
    float one[8];
    for (int k = 0; k < NOISE_SAMPLES; k++) {
        prism_nn_noise_resample(&ag->online);
        prism_agent_q_values(ag, x, 1, one);
        for (int a = 0; a < A; a++) sum[a] += (double)one[a];
    }
    for (int a = 0; a < A; a++) q[a] = (float)(sum[a] / NOISE_SAMPLES);
}

/* "Q(obs=-1, a=0)" or "Q(pos=3)" for state s of the probe. */
static void describe(const prism_probe *p, int s, int a, char *buf, size_t cap) {
    const prism_mdp *m = p->model;
    char state[32];
    if (m->obs_size == 1) {
        snprintf(state, sizeof state, "obs=%g", (double)prism_probe_obs(p, s)[0]);
    } else {
        int pos = 0;
        const float *o = prism_probe_obs(p, s);
        for (int i = 0; i < m->obs_size; i++)
            if (o[i] != 0.0f) pos = i;
        snprintf(state, sizeof state, "pos=%d", pos);
    }
    if (m->num_actions > 1)
        snprintf(buf, cap, "Q(%s, a=%d)", state, a);
    else
        snprintf(buf, cap, "Q(%s)", state);
}

/* Tolerance of a value check. Deterministic targets are fitted to about 1e-3 by a scalar head
 * in these few thousand updates (C51 too, at the doctor's learning rate); the coin-flip probe's
 * mean moves with the last few hundred samples; noisy nets' weights wander with the noise. The
 * gaps the doctor must see are larger: one discount too many moves a value by 1 - gamma (0.0099
 * at 0.99), which is why the tolerance stays below 0.01 (docs/doctor.md, "Tolerances"). */
static double tolerance(const prism_probe *p, const prism_agent_config *c) {
    if (!strcmp(p->env_id, "probe-distributional")) return 0.15;
    double t = 0.005;
    if (c->noisy) t += 0.0035;
    return t;
}

/* Mass of the learned distribution within one atom spacing of value v. */
static double mass_near(const double *probs, int N, double vmin, double dz, double v) {
    double m = 0;
    for (int j = 0; j < N; j++)
        if (fabs(vmin + dz * j - v) < dz * 0.999) m += probs[j];
    return m;
}

/* C51 on probe-distributional: learned distribution of (s, a) vs the analytic one projected on
 * the support (each atom's mass split between its two neighbours, as the C51 target is). */
static prism_status check_distribution(const prism_probe *p, prism_agent *ag, const float *x, int s,
                                       double gamma, prism_doctor_report *r) {
    const int N = ag->num_atoms;
    PRISM_ASSERT(N <= MAX_ATOMS);
    const double vmin = ag->online.cfg.v_min, vmax = ag->online.cfg.v_max;
    const double dz = (vmax - vmin) / (N - 1);
    double values[8], probs[8], want[MAX_ATOMS] = {0}, got[MAX_ATOMS];
    int n = prism_probe_distribution(p, s, 0, gamma, values, probs, 8);
    for (int k = 0; k < n; k++) {
        double v = values[k] < vmin ? vmin : values[k] > vmax ? vmax : values[k];
        double pos = (v - vmin) / dz;
        int lo = (int)floor(pos), hi = (int)ceil(pos);
        if (lo == hi)
            want[lo] += probs[k];
        else {
            want[lo] += probs[k] * (hi - pos);
            want[hi] += probs[k] * (pos - lo);
        }
    }
    /* action 0 (the probe has one); with noisy nets the mean distribution over noise draws */
    const bool resample = ag->cfg.noisy && !noise_is_fixed(ag);
    const int draws = resample ? NOISE_SAMPLES : 1;
    float sm[MAX_ATOMS];
    for (int j = 0; j < N; j++) got[j] = 0;
    for (int k = 0; k < draws; k++) {
        if (resample) prism_nn_noise_resample(&ag->online);
        prism_nn_softmax(sm, prism_nn_forward(&ag->online, x, 1), 1, N);
        for (int j = 0; j < N; j++) got[j] += (double)sm[j] / draws;
    }
    double tv = 0;
    for (int j = 0; j < N; j++) tv += 0.5 * fabs(got[j] - want[j]);
    const double tol = 0.15;
    char msg[320];
    char peaks[160] = "";
    size_t used = 0;
    for (int k = 0; k < n && used < sizeof peaks; k++)
        used += (size_t)snprintf(peaks + used, sizeof peaks - used, "%sP(%+g) = %.2f (want %.2f)",
                                 k ? ", " : "", values[k], mass_near(got, N, vmin, dz, values[k]),
                                 probs[k]);
    bool ok = tv <= tol;
    if (ok)
        snprintf(msg, sizeof msg, "%s", peaks);
    else
        snprintf(msg, sizeof msg, "%s: distribution off by %.2f (total variation): %s; %s",
                 p->env_id, tv, peaks, p->implicates);
    return prism_doctor_report_check(r, p->env_id, "distribution (TV)", 0.0, tv, tol,
                                     ok ? PRISM_DOCTOR_PASS : PRISM_DOCTOR_FAIL, msg);
}

/* The value theta the quantile Huber loss at fraction tau settles at for a return with outcomes
 * values (n) of probabilities probs: the root of its derivative
 *   g(theta) = sum_k p_k |tau - 1{u_k < 0}| H'_kappa(u_k),  u_k = v_k - theta,
 * which falls as theta grows. It is the tau-quantile as kappa -> 0; with kappa above the spread
 * of the outcomes it moves towards the tau-expectile (on the coin flip at kappa 1:
 * theta = 2 tau - 1 where all |u| <= 1), which is what a correct head learns. */
static double huber_quantile(const double *values, const double *probs, int n, double tau,
                             double kappa) {
    double lo = values[0], hi = values[0];
    for (int k = 1; k < n; k++) {
        lo = values[k] < lo ? values[k] : lo;
        hi = values[k] > hi ? values[k] : hi;
    }
    for (int it = 0; it < 100; it++) {
        const double theta = 0.5 * (lo + hi);
        double g = 0;
        for (int k = 0; k < n; k++) {
            const double u = values[k] - theta;
            const double d = fabs(u) <= kappa ? u : (u > 0 ? kappa : -kappa);
            g += probs[k] * fabs(tau - (u < 0 ? 1.0 : 0.0)) * d;
        }
        if (g > 0)
            lo = theta;
        else
            hi = theta;
    }
    return 0.5 * (lo + hi);
}

/* The quantile and implicit heads on probe-distributional: each learned quantile theta_i of
 * (s, a = 0), at tau_i = (i + 1/2) / N (the implicit head's K fractions), against the value the
 * loss settles at (huber_quantile); the mean distance over i is the check. Fractions in reverse
 * order (a sign error in the loss's indicator) mirror every quantile: the lower ones go up, the
 * upper ones down. */
static prism_status check_quantiles(const prism_probe *p, prism_agent *ag, const float *x, int s,
                                    double gamma, prism_doctor_report *r) {
    /* the implicit head: its K fractions spread evenly, (i + 1/2) / K, one row each */
    const bool implicit = ag->act_taus != NULL;
    const int N = implicit ? ag->cfg.num_quantile_samples : ag->num_atoms;
    const int A = ag->num_actions;
    PRISM_ASSERT(N <= MAX_ATOMS);
    static float taus[MAX_ATOMS];
    for (int j = 0; j < N; j++) taus[j] = (float)((j + 0.5) / N);
    if (implicit) prism_nn_set_taus(&ag->online, taus, N);
    double values[8], probs[8];
    int n = prism_probe_distribution(p, s, 0, gamma, values, probs, 8);
    const bool resample = ag->cfg.noisy && !noise_is_fixed(ag);
    const int draws = resample ? NOISE_SAMPLES : 1;
    double got[MAX_ATOMS] = {0};
    for (int k = 0; k < draws; k++) {
        if (resample) prism_nn_noise_resample(&ag->online);
        const float *out = prism_nn_forward(&ag->online, x, 1);
        for (int j = 0; j < N; j++) got[j] += (double)out[implicit ? j * A : j] / draws;
    }
    double err = 0, first = 0, last = 0;
    for (int j = 0; j < N; j++) {
        double want = huber_quantile(values, probs, n, (j + 0.5) / N, ag->cfg.kappa);
        err += fabs(got[j] - want) / N;
        if (j == 0) first = want;
        if (j == N - 1) last = want;
    }
    const double tol = 0.1;
    bool ok = err <= tol;
    char msg[320];
    snprintf(msg, sizeof msg,
             "%squantile at tau %.3f = %+.2f (want %+.2f), at tau %.3f = %+.2f (want %+.2f)%s",
             ok ? "" : "probe-distributional: quantiles off: ", 0.5 / N, got[0], first,
             (N - 0.5) / N, got[N - 1], last,
             ok ? "" : "; check the quantile loss's asymmetric weights |tau - 1{u < 0}|");
    return prism_doctor_report_check(r, p->env_id, "quantiles (mean distance)", 0.0, err, tol,
                                     ok ? PRISM_DOCTOR_PASS : PRISM_DOCTOR_FAIL, msg);
}

/* The values the Munchausen target (prism_agent_config) settles at on a probe's model, by
 * iterating it to its fixed point:
 *   Q(s, a) = sum_s' P(s' | s, a) (R + alpha clip(tau log pi(a | s), l0, 0) + gamma V(s')),
 *   V(s) = sum_a pi(a | s) (Q(s, a) - tau log pi(a | s)),  pi = softmax(Q / tau),  V(end) = 0.
 * With one action, pi = 1 and these are the ordinary values (prism_probe_q answers those); with a
 * choice, an action worse than the best by more than -l0 settles alpha * l0 below its return. */
enum { MAX_MODEL = 8 };
static double munchausen_q(const prism_probe *p, const prism_agent_config *c, int s0, int a0) {
    const prism_mdp *m = p->model;
    const int S = m->num_states, T = m->num_terminal, A = m->num_actions;
    PRISM_ASSERT(S <= MAX_MODEL && A <= MAX_MODEL);
    const double tau = c->munchausen_tau;
    double q[MAX_MODEL][MAX_MODEL] = {{0}}, lp[MAX_MODEL][MAX_MODEL], v[MAX_MODEL];
    for (int it = 0; it < 5000; it++) {
        for (int s = 0; s < S; s++) { /* tau log pi and the soft value of the current Q */
            double mx = q[s][0], z = 0;
            for (int a = 1; a < A; a++) mx = q[s][a] > mx ? q[s][a] : mx;
            for (int a = 0; a < A; a++) z += exp((q[s][a] - mx) / tau);
            v[s] = 0;
            for (int a = 0; a < A; a++) {
                lp[s][a] = q[s][a] - mx - tau * log(z);
                v[s] += exp(lp[s][a] / tau) * (q[s][a] - lp[s][a]);
            }
        }
        for (int s = 0; s < S; s++)
            for (int a = 0; a < A; a++) {
                double bonus = lp[s][a] < c->munchausen_clip ? c->munchausen_clip : lp[s][a];
                double x = 0;
                for (int s2 = 0; s2 < S + T; s2++) {
                    double pr = prism_mdp_p(m, s, a, s2);
                    if (pr > 0)
                        x += pr * (prism_mdp_r(m, s, a, s2) + c->munchausen_alpha * bonus +
                                   (s2 < S ? c->gamma * v[s2] : 0.0));
                }
                q[s][a] = x;
            }
    }
    return q[s0][a0];
}

/* One probe: build, train, check. */
static prism_status examine(const prism_doctor_options *o, const prism_probe *p,
                            prism_doctor_report *r) {
    prism_config cfg;
    prism_status st = prism_doctor_config(o, p->env_id, true, &cfg);
    if (st) return st;
    if (cfg.agent_cfg.kind == PRISM_AGENT_PQN)
        /* these probes train the DQN-family agent; a DQN agent with PQN's network would pass or
         * fail for reasons that say nothing about PQN */
        return prism_doctor_report_check(
            r, p->env_id, "all values", NAN, NAN, NAN, PRISM_DOCTOR_SKIP,
            "the probes train the DQN-family agent, not PQN (agent.kind=pqn); PQN's Q(lambda) "
            "targets and truncation bootstrapping are checked by tests/test_pqn.c, on the "
            "truncation probe among others");
    prism_env env;
    if ((st = prism_env_init(&env, p->env_id, NULL))) return st;
    const int D = prism_env_obs_size(env.cls);
    if ((st = prism_config_validate(&cfg, D))) {
        prism_env_free(&env);
        return st;
    }
    const prism_agent_config *c = &cfg.agent_cfg;
    r->gamma = c->gamma;
    /* A C51 support that cannot hold the probe's returns cannot answer it. */
    double worst = 0;
    for (int s = 0; s < p->model->num_states; s++)
        for (int a = 0; a < p->model->num_actions; a++) {
            double q = fabs(prism_probe_q(p, s, a, c->gamma));
            double vals[8], probs[8];
            int n = prism_probe_distribution(p, s, a, c->gamma, vals, probs, 8);
            for (int k = 0; k < n; k++) q = fabs(vals[k]) > q ? fabs(vals[k]) : q;
            worst = q > worst ? q : worst;
        }
    if (c->distributional && c->head == PRISM_HEAD_C51 && c->v_max < worst) {
        char msg[320];
        snprintf(msg, sizeof msg,
                 "the C51 support [-%g, %g] cannot hold this probe's returns (up to %g): "
                 "set agent.v_max >= %g",
                 c->v_max, c->v_max, worst, worst);
        prism_env_free(&env);
        return prism_doctor_report_check(r, p->env_id, "all values", NAN, NAN, NAN,
                                         PRISM_DOCTOR_SKIP, msg);
    }

    prism_agent ag;
    if ((st = prism_agent_init(&ag, c, env.cls, cfg.seed ^ o->seed))) {
        prism_env_free(&env);
        return st;
    }
    ag.bug = o->bug;
    weight_watch w = {INFINITY, -INFINITY, 0, 0};
    /* Munchausen's bonus moves a worse action's value only once the target net already ranks
     * it below the best by more than -l0: its values settle in about twice as many steps */
    long long steps = o->probe_steps > 0 ? o->probe_steps
                      : c->munchausen    ? 2 * DEFAULT_PROBE_STEPS
                                         : DEFAULT_PROBE_STEPS;
    prism_status trained = train(&ag, &env, steps, cfg.seed ^ o->seed, &w);
    if (trained == PRISM_ERR_DIVERGED) {
        char msg[320];
        snprintf(msg, sizeof msg, "%s: training diverged (%s): %s", p->env_id,
                 prism_error_message(), p->implicates);
        st = prism_doctor_report_check(r, p->env_id, "training", NAN, NAN, NAN, PRISM_DOCTOR_FAIL,
                                       msg);
        goto done;
    }
    if ((st = trained)) goto done;

    const double tol = tolerance(p, c);
    for (int s = 0; s < p->model->num_states && !st; s++) {
        float x[MAX_OBS], q[8];
        scaled(&ag, prism_probe_obs(p, s), x);
        noise_mean_q(&ag, x, q);
        for (int a = 0; a < p->model->num_actions && !st; a++) {
            double want = c->munchausen && p->model->num_actions > 1
                              ? munchausen_q(p, c, s, a)
                              : prism_probe_q(p, s, a, c->gamma),
                   got = q[a];
            char what[64], msg[320];
            describe(p, s, a, what, sizeof what);
            bool ok = fabs(got - want) <= tol;
            if (ok)
                msg[0] = 0;
            else
                snprintf(msg, sizeof msg, "%s: %s = %.3f, expected %.3f: %s", p->env_id, what, got,
                         want, p->implicates);
            st = prism_doctor_report_check(r, p->env_id, what, want, got, tol,
                                           ok ? PRISM_DOCTOR_PASS : PRISM_DOCTOR_FAIL, msg);
        }
        if (!st && p->distribution && ag.taus)
            st = check_quantiles(p, &ag, x, s, c->gamma, r);
        else if (!st && p->distribution && ag.num_atoms > 1)
            st = check_distribution(p, &ag, x, s, c->gamma, r);
    }
    if (!st && p->distribution && ag.num_atoms == 1 && !ag.taus)
        st = prism_doctor_report_check(
            r, p->env_id, "distribution", NAN, NAN, NAN, PRISM_DOCTOR_SKIP,
            "a scalar head learns only the mean (agent.distributional=false)");
    if (!st && !strcmp(p->env_id, "probe-prioritized")) {
        if (!c->prioritized) {
            st = prism_doctor_report_check(r, p->env_id, "importance weights", NAN, NAN, NAN,
                                           PRISM_DOCTOR_SKIP,
                                           "prioritized replay is off (agent.prioritized=false)");
        } else {
            bool ok = w.batches > 0 && w.nonfinite == 0 && w.min > 0 && w.max <= 1.0;
            char msg[320];
            snprintf(msg, sizeof msg,
                     "%s%lld batches: min weight %.3g, max %.3g, %lld non-finite%s%s",
                     ok ? "" : "probe-prioritized: ", w.batches, w.min, w.max, w.nonfinite,
                     ok ? "" : ": ", ok ? "" : p->implicates);
            st = prism_doctor_report_check(r, p->env_id, "importance weights in (0,1]", 1.0, w.max,
                                           NAN, ok ? PRISM_DOCTOR_PASS : PRISM_DOCTOR_FAIL, msg);
        }
    }
done:
    prism_agent_free(&ag);
    prism_env_free(&env);
    return st;
}

prism_status prism_doctor_probes(const prism_doctor_options *o, prism_doctor_report *r) {
    for (int i = 0; i < prism_probe_count(); i++) {
        prism_status st = examine(o, prism_probe_at(i), r);
        if (st) return st;
    }
    return PRISM_OK;
}
