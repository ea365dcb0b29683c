/* A vector of environments stepped in one loop, auto-resetting without losing the final
 * observation (the learner bootstraps from it when an episode is truncated). */
#include "prism/env.h"

#include <string.h>

prism_status prism_vec_env_init(prism_vec_env *v, const char *id, int n,
                                const prism_env_options *options, uint64_t seed) {
    memset(v, 0, sizeof *v);
    if (n <= 0) return prism_error(PRISM_ERR_INVALID, "a vector needs at least one environment");
    v->envs = prism_calloc((size_t)n, sizeof *v->envs);
    if (!v->envs) return prism_error(PRISM_ERR_NOMEM, "out of memory creating %d environments", n);
    for (int i = 0; i < n; i++) {
        prism_status st = prism_env_init(&v->envs[i], id, options);
        if (st != PRISM_OK) {
            v->n = i;
            prism_vec_env_free(v);
            return st;
        }
        prism_env_seed(&v->envs[i],
                       seed + (v->envs[i].random.kind == PRISM_RANDOM_NUMPY ? (uint64_t)i : 0),
                       PRISM_STREAM_ENV + (uint64_t)i);
    }
    v->n = n;
    v->obs_size = prism_env_obs_size(v->envs[0].cls);
    return PRISM_OK;
}

void prism_vec_env_free(prism_vec_env *v) {
    for (int i = 0; i < v->n; i++) prism_env_free(&v->envs[i]);
    prism_free(v->envs);
    memset(v, 0, sizeof *v);
}

void prism_vec_env_reset(prism_vec_env *v, float *obs) {
    for (int i = 0; i < v->n; i++) prism_env_reset(&v->envs[i], obs + (size_t)i * v->obs_size);
}

/* The time-limit bookkeeping prism_env_step does, for copies stepped through step_many:
 * count the step and say whether the limit truncates the episode. */
static bool tick(prism_env *e) {
    e->elapsed++;
    return e->max_episode_steps > 0 && e->elapsed >= e->max_episode_steps;
}

void prism_vec_env_step(prism_vec_env *v, const int *actions, float *obs, float *final_obs,
                        float *rewards, bool *terminated, bool *truncated) {
    const size_t d = (size_t)v->obs_size;
    const prism_env_class *cls = v->envs[0].cls;
    if (cls->step_many) {
        /* One call for the physics of every copy, then the bookkeeping prism_env_step does. */
        for (int i = 0; i < v->n; i++)
            PRISM_ASSERT(actions[i] >= 0 && actions[i] < cls->num_actions);
        cls->step_many(v->envs, v->n, actions, obs, rewards, terminated);
        for (int i = 0; i < v->n; i++) {
            prism_env *e = &v->envs[i];
            truncated[i] = tick(e);
            if (terminated[i] || truncated[i]) {
                float *row = obs + (size_t)i * d;
                memcpy(final_obs + (size_t)i * d, row, d * sizeof *row);
                prism_env_reset(e, row);
            }
        }
        return;
    }
    for (int i = 0; i < v->n; i++) {
        float *row = obs + (size_t)i * d;
        prism_step s = prism_env_step(&v->envs[i], actions[i], row);
        rewards[i] = s.reward;
        terminated[i] = s.terminated;
        truncated[i] = s.truncated;
        if (s.terminated || s.truncated) {
            memcpy(final_obs + (size_t)i * d, row, d * sizeof *row);
            prism_env_reset(&v->envs[i], row);
        }
    }
}

void prism_vec_env_step_next(prism_vec_env *v, const int *actions, bool *pending, float *obs,
                             float *rewards, bool *terminated, bool *truncated) {
    const size_t d = (size_t)v->obs_size;
    const prism_env_class *cls = v->envs[0].cls;
    for (int i = 0; i < v->n;) {
        if (pending[i]) {
            prism_env_reset(&v->envs[i], obs + (size_t)i * d);
            rewards[i] = 0.0f;
            terminated[i] = truncated[i] = pending[i] = false;
            i++;
            continue;
        }
        /* the run of copies [i, j) that step: one step_many call when the class has it */
        int j = i + 1;
        while (j < v->n && !pending[j]) j++;
        if (cls->step_many) {
            for (int k = i; k < j; k++)
                PRISM_ASSERT(actions[k] >= 0 && actions[k] < cls->num_actions);
            cls->step_many(v->envs + i, j - i, actions + i, obs + (size_t)i * d, rewards + i,
                           terminated + i);
            for (int k = i; k < j; k++) truncated[k] = tick(&v->envs[k]);
        } else {
            for (int k = i; k < j; k++) {
                prism_step s = prism_env_step(&v->envs[k], actions[k], obs + (size_t)k * d);
                rewards[k] = s.reward;
                terminated[k] = s.terminated;
                truncated[k] = s.truncated;
            }
        }
        for (int k = i; k < j; k++) pending[k] = terminated[k] || truncated[k];
        i = j;
    }
}
