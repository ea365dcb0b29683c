/* Finite MDP models: the list of known models, their accessors and consistency check, and
 * the generic environment that samples a model (reset from the start distribution, step from
 * P(s' | s, a)). The models themselves live beside their environments (homl_mdp.c,
 * src/env/probes/); the agents that use them live in src/agent/tabular.c. */
#include "mdp_env.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

extern const prism_mdp prism_homl_mdp_model, prism_probe_constant_model,
    prism_probe_obs_reward_model, prism_probe_discount_model, prism_probe_action_model,
    prism_probe_match_model, prism_probe_truncation_model, prism_probe_nstep_model,
    prism_probe_distributional_model, prism_probe_prioritized_model;

static const prism_mdp *const models[] = {
    &prism_homl_mdp_model,          &prism_probe_constant_model, &prism_probe_obs_reward_model,
    &prism_probe_discount_model,    &prism_probe_action_model,   &prism_probe_match_model,
    &prism_probe_truncation_model,  &prism_probe_nstep_model,    &prism_probe_distributional_model,
    &prism_probe_prioritized_model,
};

enum { MODEL_COUNT = (int)(sizeof models / sizeof models[0]) };

int prism_mdp_count(void) {
    return MODEL_COUNT;
}

const prism_mdp *prism_mdp_at(int i) {
    return i >= 0 && i < MODEL_COUNT ? models[i] : NULL;
}

const prism_mdp *prism_mdp_find(const char *env_id) {
    /* resolve aliases through the environment registry, so both name the same thing */
    const prism_env_class *cls = prism_env_find(env_id);
    if (!cls) return NULL;
    for (int i = 0; i < MODEL_COUNT; i++)
        if (strcasecmp(models[i]->env_id, cls->id) == 0) return models[i];
    return NULL;
}

bool prism_mdp_available(const prism_mdp *m, int s, int a) {
    PRISM_ASSERT(s >= 0 && s < m->num_states && a >= 0 && a < m->num_actions);
    return !m->available || m->available[s * m->num_actions + a];
}

static size_t index3(const prism_mdp *m, int s, int a, int s2) {
    int n = m->num_states + m->num_terminal;
    PRISM_ASSERT(s >= 0 && s < m->num_states && a >= 0 && a < m->num_actions && s2 >= 0 && s2 < n);
    return ((size_t)s * (size_t)m->num_actions + (size_t)a) * (size_t)n + (size_t)s2;
}

double prism_mdp_p(const prism_mdp *m, int s, int a, int s2) {
    return m->p[index3(m, s, a, s2)];
}

double prism_mdp_r(const prism_mdp *m, int s, int a, int s2) {
    return m->r[index3(m, s, a, s2)];
}

int prism_mdp_state_of(const prism_mdp *m, const float *obs) {
    for (int s = 0; s < m->num_states; s++)
        if (memcmp(m->obs + (size_t)s * (size_t)m->obs_size, obs,
                   sizeof(float) * (size_t)m->obs_size) == 0)
            return s;
    return -1;
}

prism_status prism_mdp_check(const prism_mdp *m) {
    int n = m->num_states + m->num_terminal;
    double start = 0;
    for (int s = 0; s < m->num_states; s++) {
        if (!(m->start[s] >= 0 && m->start[s] <= 1))
            return prism_error(PRISM_ERR_INVALID, "%s: start[%d] = %g is not a probability",
                               m->env_id, s, m->start[s]);
        start += m->start[s];
        int any = 0;
        for (int a = 0; a < m->num_actions; a++) {
            bool avail = prism_mdp_available(m, s, a);
            any += avail;
            double sum = 0;
            for (int s2 = 0; s2 < n; s2++) {
                double p = prism_mdp_p(m, s, a, s2);
                if (!(p >= 0 && p <= 1) || (!avail && p != 0))
                    return prism_error(PRISM_ERR_INVALID,
                                       "%s: P(%d | %d, %d) = %g (must be in [0, 1], and 0 for "
                                       "an unavailable action)",
                                       m->env_id, s2, s, a, p);
                if (!isfinite(prism_mdp_r(m, s, a, s2)))
                    return prism_error(PRISM_ERR_INVALID, "%s: R(%d, %d, %d) is not finite",
                                       m->env_id, s, a, s2);
                sum += p;
            }
            if (avail && fabs(sum - 1.0) > 1e-12)
                return prism_error(PRISM_ERR_INVALID, "%s: P(. | %d, %d) sums to %.17g, not 1",
                                   m->env_id, s, a, sum);
        }
        if (!any)
            return prism_error(PRISM_ERR_INVALID, "%s: state %d has no available action", m->env_id,
                               s);
    }
    if (fabs(start - 1.0) > 1e-12)
        return prism_error(PRISM_ERR_INVALID, "%s: the start distribution sums to %.17g, not 1",
                           m->env_id, start);
    return PRISM_OK;
}

/* ---- the generic environment ---- */

static void observe(const prism_mdp_env_state *e, float *obs) {
    memcpy(obs, e->m->obs + (size_t)e->s * (size_t)e->m->obs_size,
           sizeof(float) * (size_t)e->m->obs_size);
}

/* Index drawn from a discrete distribution p (n entries summing to 1). One uniform draw,
 * cumulative search; if rounding leaves u above the running sum, the last entry with
 * non-zero probability is taken (never one with probability 0). */
static int draw(prism_env_random *random, const double *p, int n) {
    double u = prism_env_random_uniform(random), cum = 0;
    int last = -1;
    for (int i = 0; i < n; i++) {
        if (p[i] <= 0) continue;
        last = i;
        cum += p[i];
        if (u < cum) return i;
    }
    PRISM_ASSERT(last >= 0);
    return last;
}

void prism_mdp_env_reset(void *state, prism_env_random *random, float *obs) {
    prism_mdp_env_state *e = state;
    e->s = draw(random, e->m->start, e->m->num_states);
    observe(e, obs);
}

float prism_mdp_env_step(void *state, prism_env_random *random, int action, float *obs,
                         bool *terminated) {
    prism_mdp_env_state *e = state;
    const prism_mdp *m = e->m;
    if (e->s >= m->num_states) {
        /* stepping on after termination (the caller should reset): the terminal state is
         * absorbing, worth nothing, and says so again rather than aborting a rollout */
        *terminated = true;
        observe(e, obs);
        return 0.0f;
    }
    if (!prism_mdp_available(m, e->s, action)) {
        /* the documented no-op: same state, reward 0, no draw (see prism/mdp.h) */
        *terminated = false;
        observe(e, obs);
        return 0.0f;
    }
    int n = m->num_states + m->num_terminal;
    size_t row = index3(m, e->s, action, 0);
    int s2 = draw(random, m->p + row, n);
    float reward = (float)m->r[row + (size_t)s2];
    e->s = s2;
    *terminated = s2 >= m->num_states;
    observe(e, obs);
    return reward;
}

prism_status prism_mdp_env_set_state(void *state, const double *values, int n, float *obs) {
    (void)n;
    prism_mdp_env_state *e = state;
    double v = values[0];
    if (!(v >= 0 && v < e->m->num_states) || v != floor(v))
        return prism_error(PRISM_ERR_INVALID,
                           "%s: the state is an index from 0 to %d (ordinary states), got %g",
                           e->m->env_id, e->m->num_states - 1, v);
    e->s = (int)v;
    observe(e, obs);
    return PRISM_OK;
}

void prism_mdp_env_get_state(const void *state, double *values) {
    const prism_mdp_env_state *e = state;
    values[0] = e->s;
}

int prism_mdp_env_render(const void *state, char *buf, size_t cap, bool color) {
    const prism_mdp_env_state *e = state;
    bool end = e->s >= e->m->num_states;
    return snprintf(buf, cap, "state %s%s%s%s\n", color ? "\033[1m" : "", e->m->state_names[e->s],
                    color ? "\033[0m" : "", end ? " (terminal)" : "");
}
