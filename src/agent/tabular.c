/* Tabular agents: the Q table, Q-value iteration over a known model and Q-learning from
 * sampled transitions (Hands-On Machine Learning, ch. 18). Everything in double: the tables
 * are tiny and the book's numbers are double. Not here: function approximation (the DQN
 * family in src/agent/dqn*.c) and the model data (src/env/mdp, src/env/probes). */
#include "prism/tabular.h"

#include <math.h>
#include <string.h>
#include <strings.h>

prism_status prism_qtable_init(prism_qtable *t, const prism_mdp *m) {
    memset(t, 0, sizeof *t);
    size_t n = (size_t)m->num_states * (size_t)m->num_actions;
    /* one block: q (doubles), visits (u64), available (bytes), in that order for alignment */
    unsigned char *block = prism_alloc(n * (sizeof(double) + sizeof(uint64_t) + 1));
    if (!block)
        return prism_error(PRISM_ERR_NOMEM, "out of memory for the Q table of %s (%d x %d)",
                           m->env_id, m->num_states, m->num_actions);
    t->num_states = m->num_states;
    t->num_actions = m->num_actions;
    t->q = (double *)(void *)block;
    t->visits = (uint64_t *)(void *)(block + n * sizeof(double));
    t->available = block + n * (sizeof(double) + sizeof(uint64_t));
    for (int s = 0; s < m->num_states; s++)
        for (int a = 0; a < m->num_actions; a++)
            t->available[s * m->num_actions + a] = prism_mdp_available(m, s, a);
    prism_qtable_clear(t);
    return PRISM_OK;
}

void prism_qtable_free(prism_qtable *t) {
    prism_free(t->q); /* the block starts at q */
    memset(t, 0, sizeof *t);
}

void prism_qtable_clear(prism_qtable *t) {
    int n = t->num_states * t->num_actions;
    for (int i = 0; i < n; i++) {
        t->q[i] = t->available[i] ? 0.0 : -(double)INFINITY;
        t->visits[i] = 0;
    }
}

int prism_qtable_greedy(const prism_qtable *t, int s) {
    PRISM_ASSERT(s >= 0 && s < t->num_states);
    const double *q = t->q + (size_t)s * (size_t)t->num_actions;
    const unsigned char *ok = t->available + (size_t)s * (size_t)t->num_actions;
    int best = -1;
    for (int a = 0; a < t->num_actions; a++)
        if (ok[a] && (best < 0 || q[a] > q[best])) best = a;
    PRISM_ASSERT(best >= 0); /* prism_mdp_check: every state has an available action */
    return best;
}

double prism_qtable_value(const prism_qtable *t, int s) {
    return t->q[(size_t)s * (size_t)t->num_actions + (size_t)prism_qtable_greedy(t, s)];
}

static prism_status check_table(const prism_qtable *t, const prism_mdp *m) {
    if (!t->q || t->num_states != m->num_states || t->num_actions != m->num_actions)
        return prism_error(PRISM_ERR_INVALID,
                           "the Q table (%d x %d) does not match the model of %s (%d x %d): "
                           "create it with prism_qtable_init for this model",
                           t->num_states, t->num_actions, m->env_id, m->num_states, m->num_actions);
    return PRISM_OK;
}

prism_q_iteration_options prism_q_iteration_defaults(void) {
    prism_q_iteration_options o = {.gamma = 0.9, .max_iterations = 1000, .tolerance = 1e-12};
    return o;
}

prism_status prism_q_iteration(prism_qtable *t, const prism_mdp *m,
                               const prism_q_iteration_options *o, int *iterations) {
    if (iterations) *iterations = 0;
    prism_status st = check_table(t, m);
    if (st) return st;
    if (!(o->gamma >= 0 && o->gamma <= 1))
        return prism_error(PRISM_ERR_INVALID, "gamma must be in [0, 1], got %g", o->gamma);
    if (o->max_iterations < 1)
        return prism_error(PRISM_ERR_INVALID, "iterations must be >= 1, got %d", o->max_iterations);
    if (!(o->tolerance >= 0))
        return prism_error(PRISM_ERR_INVALID, "tolerance must be >= 0, got %g", o->tolerance);
    int S = m->num_states, A = m->num_actions, N = S + m->num_terminal;
    double *v = prism_alloc(sizeof(double) * (size_t)S); /* (S) max_a Q_k(s, a) */
    if (!v) return prism_error(PRISM_ERR_NOMEM, "out of memory for Q-value iteration");
    int k = 0;
    while (k < o->max_iterations) {
        for (int s = 0; s < S; s++) v[s] = prism_qtable_value(t, s);
        double change = 0;
        for (int s = 0; s < S; s++)
            for (int a = 0; a < A; a++) {
                if (!t->available[s * A + a]) continue;
                double sum = 0;
                for (int s2 = 0; s2 < N; s2++) {
                    double p = prism_mdp_p(m, s, a, s2);
                    if (p == 0) continue;
                    /* terminal states (s2 >= S) are worth 0: no bootstrap */
                    double next = s2 < S ? o->gamma * v[s2] : 0.0;
                    sum += p * (prism_mdp_r(m, s, a, s2) + next);
                }
                double d = fabs(sum - t->q[s * A + a]);
                if (d > change) change = d;
                t->q[s * A + a] = sum;
            }
        k++;
        if (o->tolerance > 0 && change <= o->tolerance) break;
    }
    prism_free(v);
    if (iterations) *iterations = k;
    return PRISM_OK;
}

prism_q_learning_options prism_q_learning_defaults(void) {
    prism_q_learning_options o = {
        .gamma = 0.9,
        .alpha0 = 0.05,
        .decay = 0.005,
        .steps = 10000,
        .exploration = PRISM_EXPLORE_EPSILON,
        .epsilon = 1.0,
        .kappa = 1.0,
        .seed = 0,
    };
    return o;
}

/* f(Q, N) = Q + kappa / (1 + N): optimism for actions tried rarely (the book's exploration
 * function); with epsilon-greedy exploration the plain Q. */
static double explored_value(const prism_qtable *t, const prism_q_learning_options *o, int i) {
    if (o->exploration != PRISM_EXPLORE_FUNCTION) return t->q[i];
    return t->q[i] + o->kappa / (1.0 + (double)t->visits[i]);
}

/* The available action maximising explored_value in s (lowest index on ties). */
static int best_action(const prism_qtable *t, const prism_q_learning_options *o, int s,
                       double *value) {
    int A = t->num_actions, best = -1;
    double best_v = 0;
    for (int a = 0; a < A; a++) {
        if (!t->available[s * A + a]) continue;
        double v = explored_value(t, o, s * A + a);
        if (best < 0 || v > best_v) best = a, best_v = v;
    }
    PRISM_ASSERT(best >= 0);
    if (value) *value = best_v;
    return best;
}

static int random_available(const prism_qtable *t, int s, prism_rng *rng) {
    int A = t->num_actions, count = 0;
    for (int a = 0; a < A; a++) count += t->available[s * A + a];
    int k = (int)prism_rng_below(rng, (uint32_t)count);
    for (int a = 0; a < A; a++)
        if (t->available[s * A + a] && k-- == 0) return a;
    PRISM_ASSERT(0);
}

static prism_status unknown_obs(const prism_mdp *m, const float *obs) {
    return prism_error(PRISM_ERR_INVALID,
                       "%s produced an observation (first value %g) that is no state of its "
                       "model: the environment and the model disagree",
                       m->env_id, (double)obs[0]);
}

prism_status prism_q_learning(prism_qtable *t, const prism_mdp *m, prism_env *env,
                              const prism_q_learning_options *o) {
    prism_status st = check_table(t, m);
    if (st) return st;
    /* the same id, not just the same shapes: probes 1 and 3 share their shapes */
    if (strcasecmp(env->cls->id, m->env_id) != 0 || env->cls->num_actions != m->num_actions ||
        prism_env_obs_size(env->cls) != m->obs_size)
        return prism_error(PRISM_ERR_INVALID,
                           "environment %s does not match the model of %s: create the "
                           "environment with the model's id",
                           env->cls->id, m->env_id);
    if (!(o->gamma >= 0 && o->gamma <= 1))
        return prism_error(PRISM_ERR_INVALID, "gamma must be in [0, 1], got %g", o->gamma);
    if (!(o->alpha0 > 0 && o->alpha0 <= 1))
        return prism_error(PRISM_ERR_INVALID, "alpha0 must be in (0, 1], got %g", o->alpha0);
    if (!(o->decay >= 0 && isfinite(o->decay)))
        return prism_error(PRISM_ERR_INVALID, "decay must be >= 0, got %g", o->decay);
    if (o->steps < 1)
        return prism_error(PRISM_ERR_INVALID, "steps must be >= 1, got %ld", o->steps);
    if (!(o->epsilon >= 0 && o->epsilon <= 1))
        return prism_error(PRISM_ERR_INVALID, "epsilon must be in [0, 1], got %g", o->epsilon);
    if (!(o->kappa >= 0 && isfinite(o->kappa)))
        return prism_error(PRISM_ERR_INVALID, "kappa must be >= 0, got %g", o->kappa);
    if (o->exploration != PRISM_EXPLORE_EPSILON && o->exploration != PRISM_EXPLORE_FUNCTION)
        return prism_error(PRISM_ERR_INVALID, "unknown exploration kind %d", (int)o->exploration);

    enum { MAX_OBS = 64 }; /* the models are tiny; a bigger one is a new model's job */
    if (m->obs_size > MAX_OBS)
        return prism_error(PRISM_ERR_UNSUPPORTED, "%s: observations over %d values", m->env_id,
                           MAX_OBS);
    float obs[MAX_OBS];
    prism_rng explore;
    prism_rng_seed(&explore, o->seed, PRISM_STREAM_EXPLORATION);
    prism_env_seed(env, o->seed, PRISM_STREAM_ENV);
    prism_env_reset(env, obs);
    int s = prism_mdp_state_of(m, obs);
    if (s < 0) return unknown_obs(m, obs);
    int A = t->num_actions;
    for (long step = 0; step < o->steps; step++) {
        /* epsilon applies to both kinds: pure greedy on f(Q, N) can lock into a zero-reward
         * self-loop (homl-mdp's s1 a0: its own bonus feeds its target), see docs/tabular.md.
         * One uniform draw per step whatever epsilon, so the stream's use is fixed. */
        double u = prism_rng_uniform(&explore);
        int a = u < o->epsilon ? random_available(t, s, &explore) : best_action(t, o, s, NULL);
        prism_step r = prism_env_step(env, a, obs);
        double target = r.reward;
        int s2 = -1;
        if (!r.terminated) {
            /* not terminal: bootstrap, also when the time limit truncated the episode */
            s2 = prism_mdp_state_of(m, obs);
            if (s2 < 0) return unknown_obs(m, obs);
            double next;
            best_action(t, o, s2, &next);
            target += o->gamma * next;
        }
        double alpha = o->alpha0 / (1.0 + (double)step * o->decay);
        double *q = &t->q[s * A + a];
        /* the book's form: Q *= 1 - alpha; Q += alpha * target */
        *q *= 1.0 - alpha;
        *q += alpha * target;
        t->visits[s * A + a]++;
        if (r.terminated || r.truncated) {
            prism_env_reset(env, obs);
            s2 = prism_mdp_state_of(m, obs);
            if (s2 < 0) return unknown_obs(m, obs);
        }
        s = s2;
    }
    return PRISM_OK;
}
