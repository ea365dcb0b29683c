/* The list of built-in environments, lookup by id or alias, and "did you mean" suggestions. */
#include "prism/env.h"

#include <string.h>
#include <strings.h>

extern const prism_env_class prism_cartpole_v1, prism_cartpole_v0, prism_acrobot_v1,
    prism_mountain_car_v0, prism_lunar_lander_v3;
extern const prism_env_class prism_minatar_asterix, prism_minatar_breakout, prism_minatar_freeway,
    prism_minatar_seaquest, prism_minatar_space_invaders, prism_minatar_asterix_minimal,
    prism_minatar_breakout_minimal, prism_minatar_freeway_minimal, prism_minatar_seaquest_minimal,
    prism_minatar_space_invaders_minimal;
extern const prism_env_class prism_homl_mdp, prism_probe_constant, prism_probe_obs_reward,
    prism_probe_discount, prism_probe_action, prism_probe_match, prism_probe_truncation,
    prism_probe_nstep, prism_probe_distributional, prism_probe_prioritized;

/* Listed in the order `prism env ls` shows: classic control, MinAtar, tabular, probes. */
static const prism_env_class *const classes[] = {
    &prism_cartpole_v1,
    &prism_cartpole_v0,
    &prism_acrobot_v1,
    &prism_mountain_car_v0,
    &prism_lunar_lander_v3,
    &prism_minatar_asterix,
    &prism_minatar_breakout,
    &prism_minatar_freeway,
    &prism_minatar_seaquest,
    &prism_minatar_space_invaders,
    &prism_minatar_asterix_minimal,
    &prism_minatar_breakout_minimal,
    &prism_minatar_freeway_minimal,
    &prism_minatar_seaquest_minimal,
    &prism_minatar_space_invaders_minimal,
    &prism_homl_mdp,
    &prism_probe_constant,
    &prism_probe_obs_reward,
    &prism_probe_discount,
    &prism_probe_action,
    &prism_probe_match,
    &prism_probe_truncation,
    &prism_probe_nstep,
    &prism_probe_distributional,
    &prism_probe_prioritized,
};

enum { CLASS_COUNT = (int)(sizeof classes / sizeof classes[0]) };

int prism_env_class_count(void) {
    return CLASS_COUNT;
}

const prism_env_class *prism_env_class_at(int i) {
    return i >= 0 && i < CLASS_COUNT ? classes[i] : NULL;
}

static bool alias_matches(const char *aliases, const char *id) {
    size_t len = strlen(id);
    for (const char *p = aliases; p && *p;) {
        while (*p == ' ') p++;
        const char *end = p;
        while (*end && *end != ' ') end++;
        if ((size_t)(end - p) == len && len > 0 && strncasecmp(p, id, len) == 0) return true;
        p = end;
    }
    return false;
}

const prism_env_class *prism_env_find(const char *id) {
    for (int i = 0; i < CLASS_COUNT; i++)
        if (strcasecmp(classes[i]->id, id) == 0 || alias_matches(classes[i]->aliases, id))
            return classes[i];
    return NULL;
}

const char *prism_env_canonical_id(const char *id) {
    const prism_env_class *cls = prism_env_find(id);
    return cls ? cls->id : id;
}

int prism_env_suggest(const char *id, const char **out, int max) {
    int dist[CLASS_COUNT], order[CLASS_COUNT], n = 0;
    for (int i = 0; i < CLASS_COUNT; i++) {
        int d = prism_edit_distance(id, classes[i]->id);
        /* a shared prefix (e.g. "cartpole") counts as close even when the version differs */
        if (strncasecmp(id, classes[i]->id, 4) == 0 && d > 2) d = 2;
        if (d > 1 + (int)strlen(classes[i]->id) / 3) continue;
        dist[i] = d;
        int k = n++;
        while (k > 0 && dist[order[k - 1]] > d) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = i;
    }
    int count = n < max ? n : max;
    for (int i = 0; i < count; i++) out[i] = classes[order[i]]->id;
    return count;
}
