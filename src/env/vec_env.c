/* A vector of environments stepped in one loop, auto-resetting without losing the final
 * observation (the learner bootstraps from it when an episode is truncated). */
#include "prism/env.h"

#include <string.h>

/* Bytes prism_vec_env_step_next holds per copy: its state, random stream and observation. */
static size_t held_record(const prism_vec_env *v) {
    return v->envs[0].cls->state_bytes + sizeof(prism_rng) + (size_t)v->obs_size * sizeof(float);
}

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
    /* only for states that are their bytes alone (no destroy hook), which a copy can hold */
    if (v->envs[0].cls->step_many && !v->envs[0].cls->destroy) {
        v->held = prism_alloc((size_t)n * held_record(v));
        if (!v->held) {
            prism_vec_env_free(v);
            return prism_error(PRISM_ERR_NOMEM, "out of memory creating %d environments", n);
        }
    }
    return PRISM_OK;
}

void prism_vec_env_free(prism_vec_env *v) {
    for (int i = 0; i < v->n; i++) prism_env_free(&v->envs[i]);
    prism_free(v->envs);
    prism_free(v->held);
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

/* The copies step one by one: classes without step_many, or drawing from numpy's generator. */
static void step_next_each(prism_vec_env *v, const int *actions, bool *pending, float *obs,
                           float *rewards, bool *terminated, bool *truncated) {
    const size_t d = (size_t)v->obs_size;
    for (int i = 0; i < v->n; i++) {
        float *row = obs + (size_t)i * d;
        if (pending[i]) {
            prism_env_reset(&v->envs[i], row);
            rewards[i] = 0.0f;
            terminated[i] = truncated[i] = pending[i] = false;
            continue;
        }
        prism_step s = prism_env_step(&v->envs[i], actions[i], row);
        rewards[i] = s.reward;
        terminated[i] = s.terminated;
        truncated[i] = s.truncated;
        pending[i] = s.terminated || s.truncated;
    }
}

/* One step_many call for the whole vector, so its blocks stay full: a copy that resets is
 * reset first, stepped with the others (from its first state: always a valid step), and then
 * put back as the reset left it, state, random stream and observation. Leaving reset copies
 * out instead splits the call into short runs, which cost CartPole half its speed. */
void prism_vec_env_step_next(prism_vec_env *v, const int *actions, bool *pending, float *obs,
                             float *rewards, bool *terminated, bool *truncated) {
    const prism_env_class *cls = v->envs[0].cls;
    if (!v->held || v->envs[0].random.kind != PRISM_RANDOM_PRISM) {
        step_next_each(v, actions, pending, obs, rewards, terminated, truncated);
        return;
    }
    const size_t d = (size_t)v->obs_size, sb = cls->state_bytes, rec = held_record(v);
    for (int i = 0; i < v->n; i++) {
        PRISM_ASSERT(actions[i] >= 0 && actions[i] < cls->num_actions);
        if (!pending[i]) continue;
        prism_env *e = &v->envs[i];
        unsigned char *h = v->held + (size_t)i * rec;
        prism_env_reset(e, obs + (size_t)i * d);
        memcpy(h, e->state, sb);
        memcpy(h + sb, &e->random.rng, sizeof(prism_rng));
        memcpy(h + sb + sizeof(prism_rng), obs + (size_t)i * d, d * sizeof(float));
    }
    cls->step_many(v->envs, v->n, actions, obs, rewards, terminated);
    for (int i = 0; i < v->n; i++) {
        prism_env *e = &v->envs[i];
        if (pending[i]) {
            const unsigned char *h = v->held + (size_t)i * rec;
            memcpy(e->state, h, sb);
            memcpy(&e->random.rng, h + sb, sizeof(prism_rng));
            memcpy(obs + (size_t)i * d, h + sb + sizeof(prism_rng), d * sizeof(float));
            rewards[i] = 0.0f;
            terminated[i] = truncated[i] = pending[i] = false;
            continue;
        }
        truncated[i] = tick(e);
        pending[i] = terminated[i] || truncated[i];
    }
}
