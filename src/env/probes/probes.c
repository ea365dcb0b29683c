/* The list of probe environments and the generic accessors of prism/probes.h. The probes
 * themselves (model, environment class, analytic answers) live in jones.c, truncation.c,
 * nstep.c, distributional.c and prioritized.c. */
#include "prism/env.h"
#include "prism/probes.h"

#include <strings.h>

extern const prism_probe prism_probe_constant_info, prism_probe_obs_reward_info,
    prism_probe_discount_info, prism_probe_action_info, prism_probe_match_info,
    prism_probe_truncation_info, prism_probe_nstep_info, prism_probe_distributional_info,
    prism_probe_prioritized_info;

static const prism_probe *const probes[] = {
    &prism_probe_constant_info, &prism_probe_obs_reward_info,     &prism_probe_discount_info,
    &prism_probe_action_info,   &prism_probe_match_info,          &prism_probe_truncation_info,
    &prism_probe_nstep_info,    &prism_probe_distributional_info, &prism_probe_prioritized_info,
};

enum { PROBE_COUNT = (int)(sizeof probes / sizeof probes[0]) };

int prism_probe_count(void) {
    return PROBE_COUNT;
}

const prism_probe *prism_probe_at(int i) {
    return i >= 0 && i < PROBE_COUNT ? probes[i] : NULL;
}

const prism_probe *prism_probe_find(const char *env_id) {
    const prism_env_class *cls = prism_env_find(env_id);
    if (!cls) return NULL;
    for (int i = 0; i < PROBE_COUNT; i++)
        if (strcasecmp(probes[i]->env_id, cls->id) == 0) return probes[i];
    return NULL;
}

const float *prism_probe_obs(const prism_probe *p, int s) {
    PRISM_ASSERT(s >= 0 && s < p->model->num_states);
    return p->model->obs + (size_t)s * (size_t)p->model->obs_size;
}

double prism_probe_q(const prism_probe *p, int s, int a, double gamma) {
    PRISM_ASSERT(gamma >= 0 && gamma <= 1);
    PRISM_ASSERT(s >= 0 && s < p->model->num_states && a >= 0 && a < p->model->num_actions);
    return p->q(s, a, gamma);
}

int prism_probe_distribution(const prism_probe *p, int s, int a, double gamma, double *values,
                             double *probs, int max) {
    double q = prism_probe_q(p, s, a, gamma);
    if (max < 1) return 0;
    if (p->distribution) return p->distribution(s, a, gamma, values, probs, max);
    values[0] = q;
    probs[0] = 1.0;
    return 1;
}
