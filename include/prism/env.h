/* prism/env.h — environments: one interface, a registry, and a vector of environments.
 *
 * An environment writes observations (float32) into buffers the caller owns and returns the
 * reward and the two end flags. Termination (a terminal state: do not bootstrap) and
 * truncation (the time limit cut the episode: bootstrap from the real final observation) are
 * kept apart, as in Gymnasium.
 *
 *     prism_env env;
 *     if (prism_env_init(&env, "CartPole-v1", NULL) != PRISM_OK) { ...prism_error_message()... }
 *     float obs[4];
 *     prism_env_seed(&env, 0, PRISM_STREAM_ENV);
 *     prism_env_reset(&env, obs);
 *     prism_step s = prism_env_step(&env, 1, obs);
 *     if (s.terminated || s.truncated) prism_env_reset(&env, obs);
 *     prism_env_free(&env);
 *
 * Observation layout: vectors are (D); images are (H, W, C) row-major, channel fastest
 * (MinAtar's own layout). Nothing allocates after init.
 */
#ifndef PRISM_ENV_H
#define PRISM_ENV_H

#include "prism/core.h"
#include "prism/rng.h"

#include <stdbool.h>
#include <stddef.h>

/* The random source an environment draws from: prism's own generator (the default) or
 * numpy's legacy RandomState, for exact parity with Python references that use it. */
typedef enum prism_random_kind { PRISM_RANDOM_PRISM = 0, PRISM_RANDOM_NUMPY = 1 } prism_random_kind;

typedef struct prism_env_random {
    prism_random_kind kind;
    prism_rng rng;
    prism_np_random np;
} prism_env_random;

/* A double in [0, 1): numpy kind draws as RandomState.rand(). */
double prism_env_random_uniform(prism_env_random *r);
/* An integer in [lo, hi): numpy kind draws as RandomState.randint(lo, hi). */
int64_t prism_env_random_int(prism_env_random *r, int64_t lo, int64_t hi);

typedef struct prism_step {
    float reward;
    bool terminated; /* terminal state reached: the value of what follows is zero */
    bool truncated;  /* the time limit cut the episode: the final observation still has value */
} prism_step;

struct prism_env;

/* What one kind of environment is: constants plus functions over its private state. Each
 * environment file defines one (or a few, for versions) and registry.c lists them. */
typedef struct prism_env_class {
    const char *id;        /* "CartPole-v1"; ids match case-insensitively */
    const char *aliases;   /* other accepted ids, space separated, or NULL */
    const char *summary;   /* one line for `prism env ls` */
    const char *reference; /* what it matches, e.g. "Gymnasium 1.x CartPole-v1" */
    int obs_rank;          /* 1: (D); 3: (H, W, C) */
    int obs_shape[3];      /* D or H, W, C (unused dimensions are 1) */
    int num_actions;
    const char *const *action_names; /* num_actions names */
    const char *play_keys;           /* key for each action in `prism env play`, or NULL */
    int max_episode_steps;           /* default time limit; 0 = none */
    bool supports_numpy_rng;
    int state_values;        /* values accepted by set_state (0: unsupported) */
    const char *state_names; /* "x,x_dot,theta,theta_dot" */
    size_t state_bytes;      /* size of the private state */

    /* Set defaults in freshly zeroed state (may be NULL). */
    void (*init)(void *state);
    /* Release what the state holds beyond its own bytes (a physics world, say); called by
     * prism_env_free. May be NULL. */
    void (*destroy)(void *state);
    /* An option by name, e.g. "sticky_action_prob"; NULL if the class has none. Return
     * PRISM_ERR_INVALID (with prism_error) for an unknown key or a bad value. */
    prism_status (*configure)(void *state, const char *key, const char *value);
    /* Start an episode: draw the initial state from `random`, write the observation. */
    void (*reset)(void *state, prism_env_random *random, float *obs);
    /* Advance one step with a valid action; write the observation, return the reward. */
    float (*step)(void *state, prism_env_random *random, int action, float *obs, bool *terminated);
    /* Overwrite the internal state with `n` values (see state_names), write the observation. */
    prism_status (*set_state)(void *state, const double *values, int n, float *obs);
    /* Read the internal state as state_values doubles (NULL when state_values is 0). */
    void (*get_state)(const void *state, double *values);
    /* Text picture of the state into buf (cap bytes, NUL-terminated); ANSI colour when
     * `color`. Returns the length written. */
    int (*render)(const void *state, char *buf, size_t cap, bool color);
    /* A hand-written controller for baselines (`prism env eval --policy heuristic`, `prism
     * doctor env`): observation in, action out; NULL when the environment has none. */
    int (*heuristic)(const float *obs);

    /* Optional fast path (NULL = not provided; the vector env then calls step per copy).
     * Step copies 0..n-1 of a vector at once with valid actions[i] (n): the same effect,
     * bit for bit, as calling step on envs[i].state with &envs[i].random for each i, writing
     * obs (n, D), rewards (n) and terminated (n). It touches nothing else: the time limit,
     * the elapsed counters and auto-reset stay with the vector env. One call per vector step
     * lets a class hoist work out of the loop and overlap the copies' latency chains. */
    void (*step_many)(struct prism_env *envs, int n, const int *actions, float *obs, float *rewards,
                      bool *terminated);
} prism_env_class;

/* Registry. */
int prism_env_class_count(void);
const prism_env_class *prism_env_class_at(int i);
/* The class for an id or alias (case-insensitive), or NULL. */
const prism_env_class *prism_env_find(const char *id);
/* The registered id for an id or alias ("cartpole" -> "CartPole-v1"), or `id` itself when no
 * environment has it. Everything that records or compares environments uses this, so one
 * environment never appears under two names. */
const char *prism_env_canonical_id(const char *id);
/* Up to `max` registered ids closest to `id` (edit distance), closest first; returns count. */
int prism_env_suggest(const char *id, const char **out, int max);
/* The class for an id or alias in *cls; an unknown id is PRISM_ERR_NOT_FOUND with the closest
 * registered ids in the message ("did you mean CartPole-v1?"). Every reader of a user-given
 * environment id goes through here, so a typo is an error, never a silent default. */
prism_status prism_env_lookup(const char *id, const prism_env_class **cls);
/* D, or H*W*C. */
int prism_env_obs_size(const prism_env_class *cls);

typedef struct prism_env_options {
    int max_episode_steps; /* < 0: the class default; 0: no limit */
    prism_random_kind random;
} prism_env_options;

/* The defaults: class time limit, prism's generator. */
prism_env_options prism_env_options_default(void);

typedef struct prism_env {
    const prism_env_class *cls;
    void *state; /* cls->state_bytes, owned */
    prism_env_random random;
    int max_episode_steps; /* in force; 0 = none */
    int elapsed;           /* steps since the last reset */
} prism_env;

/* Create an environment by id. Unknown id: PRISM_ERR_NOT_FOUND with suggestions in the
 * message; numpy random on a class without it: PRISM_ERR_UNSUPPORTED. */
prism_status prism_env_init(prism_env *env, const char *id, const prism_env_options *options);
void prism_env_free(prism_env *env);
/* Class option ("max_episode_steps" is handled here for every class). */
prism_status prism_env_configure(prism_env *env, const char *key, const char *value);
/* Seed the random source. prism: (seed, stream); numpy: RandomState(seed), stream ignored. */
void prism_env_seed(prism_env *env, uint64_t seed, uint64_t stream);
void prism_env_reset(prism_env *env, float *obs);
/* Step with an action in [0, num_actions) (asserted). Sets truncated when the time limit is
 * reached, whether or not the step also terminated (Gymnasium's TimeLimit does the same). */
prism_step prism_env_step(prism_env *env, int action, float *obs);
/* Set the internal state right after a reset (see prism_env_class.set_state). */
prism_status prism_env_set_state(prism_env *env, const double *values, int n, float *obs);

/* N copies of one environment stepped in one call, with auto-reset. */
typedef struct prism_vec_env {
    int n;
    int obs_size;
    prism_env *envs; /* (n) */
    /* (n, record) room to hold a copy's state, random stream and observation across a batched
     * step (prism_vec_env_step_next); NULL for classes without step_many */
    unsigned char *held;
} prism_vec_env;

/* Copies seeded (seed, PRISM_STREAM_ENV + i) for prism's generator; (seed + i) for numpy. */
prism_status prism_vec_env_init(prism_vec_env *v, const char *id, int n,
                                const prism_env_options *options, uint64_t seed);
void prism_vec_env_free(prism_vec_env *v);
/* Reset every copy; obs is (n, obs_size). */
void prism_vec_env_reset(prism_vec_env *v, float *obs);
/* Step copy i with actions[i]. Where an episode ends, its true final observation goes to
 * final_obs row i and obs row i receives the first observation of the next episode; other
 * rows of final_obs are left untouched. All buffers are the caller's: obs and final_obs
 * (n, obs_size), rewards, terminated, truncated (n). */
void prism_vec_env_step(prism_vec_env *v, const int *actions, float *obs, float *final_obs,
                        float *rewards, bool *terminated, bool *truncated);
/* Step with Gymnasium 1.x's next-step autoreset instead: a copy whose episode ended at the
 * previous call (pending[i]) is reset rather than stepped: obs row i gets the first
 * observation, reward 0, both flags false. Every other copy steps with actions[i]; where its
 * episode ends, obs row i keeps the final observation and pending[i] becomes true. Every
 * action must be valid, a reset copy's too (it is not used). pending (n) is the caller's, all
 * false after prism_vec_env_reset; other buffers as above. */
void prism_vec_env_step_next(prism_vec_env *v, const int *actions, bool *pending, float *obs,
                             float *rewards, bool *terminated, bool *truncated);

#endif
