/* The environment object: creation by id, the random source, seeding, the time limit. */
#include "prism/env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double prism_env_random_uniform(prism_env_random *r) {
    if (r->kind == PRISM_RANDOM_NUMPY) return prism_np_random_rand(&r->np);
    return prism_rng_uniform(&r->rng);
}

int64_t prism_env_random_int(prism_env_random *r, int64_t lo, int64_t hi) {
    PRISM_ASSERT(hi > lo);
    if (r->kind == PRISM_RANDOM_NUMPY) return prism_np_random_randint(&r->np, lo, hi);
    return lo + (int64_t)prism_rng_below(&r->rng, (uint32_t)(hi - lo));
}

prism_env_options prism_env_options_default(void) {
    prism_env_options o = {.max_episode_steps = -1, .random = PRISM_RANDOM_PRISM};
    return o;
}

static prism_status not_found(const char *id) {
    const char *close[3];
    int n = prism_env_suggest(id, close, 3);
    char hint[256] = "";
    size_t used = 0;
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(hint + used, sizeof hint - used, "%s%s", i ? ", " : "", close[i]);
    return prism_error(PRISM_ERR_NOT_FOUND,
                       "unknown environment '%s'%s%s%s (`prism env ls` lists them all)", id,
                       n ? "; did you mean " : "", hint, n ? "?" : "");
}

prism_status prism_env_lookup(const char *id, const prism_env_class **cls) {
    *cls = prism_env_find(id);
    return *cls ? PRISM_OK : not_found(id);
}

prism_status prism_env_init(prism_env *env, const char *id, const prism_env_options *options) {
    memset(env, 0, sizeof *env);
    const prism_env_class *cls;
    prism_status st = prism_env_lookup(id, &cls);
    if (st) return st;
    prism_env_options opt = options ? *options : prism_env_options_default();
    if (opt.random == PRISM_RANDOM_NUMPY && !cls->supports_numpy_rng)
        return prism_error(PRISM_ERR_UNSUPPORTED,
                           "%s does not support the numpy random source (--rng numpy is for the "
                           "MinAtar games); use the default --rng prism",
                           cls->id);
    env->state = prism_calloc(1, cls->state_bytes);
    if (!env->state)
        return prism_error(PRISM_ERR_NOMEM, "out of memory creating environment %s", cls->id);
    env->cls = cls;
    if (cls->init) cls->init(env->state);
    env->random.kind = opt.random;
    env->max_episode_steps =
        opt.max_episode_steps < 0 ? cls->max_episode_steps : opt.max_episode_steps;
    prism_env_seed(env, 0, PRISM_STREAM_ENV);
    return PRISM_OK;
}

void prism_env_free(prism_env *env) {
    if (env->cls && env->cls->destroy && env->state) env->cls->destroy(env->state);
    prism_free(env->state);
    memset(env, 0, sizeof *env);
}

prism_status prism_env_configure(prism_env *env, const char *key, const char *value) {
    if (!strcmp(key, "max_episode_steps")) {
        char *end;
        long v = strtol(value, &end, 10);
        if (*value == 0 || *end != 0 || v < 0 || v > 1000000000)
            return prism_error(PRISM_ERR_INVALID,
                               "max_episode_steps must be a whole number >= 0 (0 = no limit), "
                               "got '%s'",
                               value);
        env->max_episode_steps = (int)v;
        return PRISM_OK;
    }
    if (!env->cls->configure)
        return prism_error(PRISM_ERR_INVALID,
                           "%s has no option '%s' (its only option is max_episode_steps)",
                           env->cls->id, key);
    return env->cls->configure(env->state, key, value);
}

void prism_env_seed(prism_env *env, uint64_t seed, uint64_t stream) {
    if (env->random.kind == PRISM_RANDOM_NUMPY)
        prism_np_random_seed(&env->random.np, (uint32_t)seed);
    else
        prism_rng_seed(&env->random.rng, seed, stream);
}

void prism_env_reset(prism_env *env, float *obs) {
    env->elapsed = 0;
    env->cls->reset(env->state, &env->random, obs);
}

prism_step prism_env_step(prism_env *env, int action, float *obs) {
    PRISM_ASSERT(action >= 0 && action < env->cls->num_actions);
    prism_step s;
    s.reward = env->cls->step(env->state, &env->random, action, obs, &s.terminated);
    env->elapsed++;
    s.truncated = env->max_episode_steps > 0 && env->elapsed >= env->max_episode_steps;
    return s;
}

prism_status prism_env_set_state(prism_env *env, const double *values, int n, float *obs) {
    const prism_env_class *cls = env->cls;
    if (!cls->set_state || cls->state_values == 0)
        return prism_error(PRISM_ERR_UNSUPPORTED, "%s does not support setting its state", cls->id);
    if (n != cls->state_values)
        return prism_error(PRISM_ERR_INVALID, "%s takes %d state values (%s), got %d", cls->id,
                           cls->state_values, cls->state_names, n);
    return cls->set_state(env->state, values, n, obs);
}

int prism_env_obs_size(const prism_env_class *cls) {
    return cls->obs_shape[0] * cls->obs_shape[1] * cls->obs_shape[2];
}
