/* Tabular agents: the Q table, Q-value iteration over a known model and Q-learning from
 * sampled transitions (Hands-On Machine Learning, ch. 18). Everything in double: the tables
 * are tiny and the book's numbers are double. Not here: function approximation (the DQN
 * family in src/agent/dqn*.c) and the model data (src/env/mdp, src/env/probes). */
#include "prism/tabular.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the settings' key table ---- */

typedef enum key_type {
    K_NUMBER,     /* double */
    K_WHOLE,      /* int */
    K_EXPLORATION /* prism_exploration, by name */
} key_type;

enum { FOR_ITERATION = 1, FOR_LEARNING = 2 };

typedef struct key_spec {
    const char *name;
    int agents; /* FOR_ITERATION | FOR_LEARNING: which agents take the key */
    key_type type;
    size_t offset; /* of the value in prism_tabular_settings */
    double lo, hi; /* range, inclusive unless lo_open */
    bool lo_open;  /* (lo, hi] */
    double def;    /* the default (K_EXPLORATION: the prism_exploration value) */
    const char *help;
} key_spec;

#define QI(field) offsetof(prism_tabular_settings, iteration.field)
#define QL(field) offsetof(prism_tabular_settings, learning.field)

/* The defaults are the book's (Hands-On Machine Learning, ch. 18), except the tolerance: the
 * book runs 50 sweeps; 1e-12 stops once values settle far below printing precision. */
static const key_spec keys[] = {
    {"agent.gamma", FOR_ITERATION, K_NUMBER, QI(gamma), 0, 1, false, 0.9, "discount"},
    {"agent.iterations", FOR_ITERATION, K_WHOLE, QI(max_iterations), 1, 1e9, false, 1000,
     "most sweeps"},
    {"agent.tolerance", FOR_ITERATION, K_NUMBER, QI(tolerance), 0, 1e9, false, 1e-12,
     "stop when no Q changes more than this; 0 = all sweeps"},
    {"agent.gamma", FOR_LEARNING, K_NUMBER, QL(gamma), 0, 1, false, 0.9, "discount"},
    /* a learning rate of 0 learns nothing, hence the open bound */
    {"agent.alpha0", FOR_LEARNING, K_NUMBER, QL(alpha0), 0, 1, true, 0.05, "initial learning rate"},
    {"agent.decay", FOR_LEARNING, K_NUMBER, QL(decay), 0, 1e12, false, 0.005,
     "alpha_t = alpha0 / (1 + t * decay)"},
    {"agent.exploration", FOR_LEARNING, K_EXPLORATION, QL(exploration), 0, 0, false,
     PRISM_EXPLORE_EPSILON, "epsilon (epsilon-greedy on Q) or function (on f(Q, N))"},
    {"agent.epsilon", FOR_LEARNING, K_NUMBER, QL(epsilon), 0, 1, false, 1,
     "random-action probability (1: the book's random policy; exploration=function makes the "
     "default 0)"},
    {"agent.kappa", FOR_LEARNING, K_NUMBER, QL(kappa), 0, 1e12, false, 1,
     "exploration-function bonus, f(Q, N) = Q + kappa / (1 + N)"},
};
enum { KEY_COUNT = (int)(sizeof keys / sizeof keys[0]) };

static int agent_of(const prism_tabular_settings *s) {
    return s->is_learning ? FOR_LEARNING : FOR_ITERATION;
}

static const char *agent_name(int agent) {
    return agent == FOR_LEARNING ? "q-learning" : "q-iteration";
}

/* The i-th row `agent` takes, or NULL. */
static const key_spec *nth_key(int agent, int i) {
    for (int k = 0; k < KEY_COUNT; k++)
        if ((keys[k].agents & agent) && i-- == 0) return &keys[k];
    return NULL;
}

static const key_spec *find_key(int agents, const char *name) {
    for (int k = 0; k < KEY_COUNT; k++)
        if ((keys[k].agents & agents) && !strcmp(keys[k].name, name)) return &keys[k];
    return NULL;
}

static void write_value(prism_tabular_settings *s, const key_spec *k, double v) {
    void *field = (char *)s + k->offset;
    if (k->type == K_NUMBER)
        *(double *)field = v;
    else if (k->type == K_WHOLE)
        *(int *)field = (int)v;
    else
        *(prism_exploration *)field = (prism_exploration)v;
}

/* Without an explicit agent.epsilon, the exploration function explores by itself: its default
 * epsilon is 0 (the book's pure form); epsilon-greedy keeps the table's default. */
static void settle_epsilon(prism_tabular_settings *s) {
    if (s->epsilon_given) return;
    s->learning.epsilon = s->learning.exploration == PRISM_EXPLORE_FUNCTION
                              ? 0.0
                              : find_key(FOR_LEARNING, "agent.epsilon")->def;
}

static void apply_defaults(prism_tabular_settings *s, int agent) {
    const key_spec *k;
    for (int i = 0; (k = nth_key(agent, i)) != NULL; i++) write_value(s, k, k->def);
}

bool prism_tabular_is_agent(const char *agent) {
    return agent && (!strcmp(agent, "q-iteration") || !strcmp(agent, "q-learning"));
}

prism_status prism_tabular_settings_init(prism_tabular_settings *s, const char *agent) {
    memset(s, 0, sizeof *s);
    if (!prism_tabular_is_agent(agent))
        return prism_error(PRISM_ERR_INVALID,
                           "the tabular agents are q-iteration and q-learning (got '%s')",
                           agent ? agent : "none");
    s->is_learning = !strcmp(agent, "q-learning");
    s->iteration = prism_q_iteration_defaults();
    s->learning = prism_q_learning_defaults();
    return PRISM_OK;
}

static prism_status unknown_key(const prism_tabular_settings *s, const char *key) {
    int agent = agent_of(s), other = agent == FOR_LEARNING ? FOR_ITERATION : FOR_LEARNING;
    if (find_key(other, key))
        return prism_error(PRISM_ERR_NOT_FOUND, "%s is a %s setting; %s does not take it", key,
                           agent_name(other), agent_name(agent));
    const char *best = NULL;
    int best_d = 1 << 30;
    for (int i = 0; nth_key(agent, i); i++) {
        const char *name = nth_key(agent, i)->name;
        /* "alpha" is as close to agent.alpha0 as "agent.alpha" */
        int d = prism_edit_distance(key, name), short_d = prism_edit_distance(key, name + 6);
        if (short_d < d) d = short_d;
        if (d < best_d) best_d = d, best = name;
    }
    if (best && best_d <= 3)
        return prism_error(PRISM_ERR_NOT_FOUND, "unknown key '%s' for %s; did you mean '%s'?", key,
                           agent_name(agent), best);
    return prism_error(PRISM_ERR_NOT_FOUND, "unknown key '%s' for %s", key, agent_name(agent));
}

prism_status prism_tabular_set(prism_tabular_settings *s, const char *key, const char *value) {
    const key_spec *k = find_key(agent_of(s), key);
    if (!k) return unknown_key(s, key);
    double v;
    if (k->type == K_EXPLORATION) {
        if (!strcmp(value, "epsilon"))
            v = PRISM_EXPLORE_EPSILON;
        else if (!strcmp(value, "function"))
            v = PRISM_EXPLORE_FUNCTION;
        else
            return prism_error(PRISM_ERR_INVALID, "%s is epsilon or function (got '%s')", key,
                               value);
    } else {
        char *end;
        errno = 0;
        v = strtod(value, &end);
        bool number = *value != 0 && *end == 0 && !errno && isfinite(v);
        bool in_range = number && (k->lo_open ? v > k->lo : v >= k->lo) && v <= k->hi;
        if (k->type == K_WHOLE && (!in_range || v != floor(v)))
            return prism_error(PRISM_ERR_INVALID,
                               "%s must be a whole number from %.0f to %.0f (got '%s')", key, k->lo,
                               k->hi, value);
        if (!in_range && k->lo_open)
            return prism_error(PRISM_ERR_INVALID,
                               "%s must be a number greater than %g and at most %g (got '%s')", key,
                               k->lo, k->hi, value);
        if (!in_range)
            return prism_error(PRISM_ERR_INVALID, "%s must be a number from %g to %g (got '%s')",
                               key, k->lo, k->hi, value);
    }
    write_value(s, k, v);
    if (!strcmp(key, "agent.epsilon")) s->epsilon_given = true;
    settle_epsilon(s);
    return PRISM_OK;
}

const char *prism_tabular_key_name(const prism_tabular_settings *s, int i) {
    const key_spec *k = i >= 0 ? nth_key(agent_of(s), i) : NULL;
    return k ? k->name : NULL;
}

void prism_tabular_key_describe(const prism_tabular_settings *s, int i, char *buf, size_t cap) {
    const key_spec *k = i >= 0 ? nth_key(agent_of(s), i) : NULL;
    PRISM_ASSERT(k && cap > 0);
    if (k->type == K_EXPLORATION)
        snprintf(buf, cap, "%s (default %s)", k->help,
                 k->def == PRISM_EXPLORE_FUNCTION ? "function" : "epsilon");
    else if (k->type == K_WHOLE)
        snprintf(buf, cap, "%s, a whole number in [%.0f, %.0f] (default %.0f)", k->help, k->lo,
                 k->hi, k->def);
    else
        snprintf(buf, cap, "%s, in %c%g, %g] (default %g)", k->help, k->lo_open ? '(' : '[', k->lo,
                 k->hi, k->def);
}

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
    prism_tabular_settings s;
    memset(&s, 0, sizeof s);
    apply_defaults(&s, FOR_ITERATION);
    return s.iteration;
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
    prism_tabular_settings s;
    memset(&s, 0, sizeof s);
    apply_defaults(&s, FOR_LEARNING);
    /* steps and seed are run options (prism train --steps, --seed), not keys */
    s.learning.steps = 10000;
    s.learning.seed = 0;
    return s.learning;
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
