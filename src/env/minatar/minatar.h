/* src/env/minatar/minatar.h — what the five MinAtar games share (private to src/env/minatar
 * and the parity tests): the sticky-action rule, the options, the random draws (with an
 * optional trace a test can compare against the reference's `rng` field), the ANSI renderer
 * and the glue that turns a game's reset/act/observe into a prism_env_class.
 *
 * It is not a game: each game lives in its own file (asterix.c, breakout.c, freeway.c,
 * seaquest.c, space_invaders.c) and follows MinAtar 1.0.15 (commit 4241f246) line by line.
 *
 * Every game's state struct starts with a prism_minatar_common named `c`, so code that only
 * knows an environment's state pointer (the option hook, the tests) can reach it.
 */
#ifndef PRISM_MINATAR_H
#define PRISM_MINATAR_H

#include "prism/env.h"

#include <stdbool.h>
#include <stdint.h>

enum { PRISM_MINATAR_ACTIONS = 6, PRISM_MINATAR_MAX_CHANNELS = 10 };

/* The full action set, in MinAtar's order: 'n','l','u','r','d','f'. */
enum { MINATAR_NOOP, MINATAR_LEFT, MINATAR_UP, MINATAR_RIGHT, MINATAR_DOWN, MINATAR_FIRE };

/* One random call as the reference logs it: rand() or randint(lo, hi). */
typedef struct prism_minatar_draw {
    bool is_int;
    int64_t lo, hi; /* randint's range; unused for rand() */
    double value;   /* the result (an integer for randint) */
} prism_minatar_draw;

enum { PRISM_MINATAR_TRACE_CAP = 64 };

/* Draws made since the trace was last cleared (a test clears it before each reset/step).
 * Calls past the capacity are counted in n but not stored. */
typedef struct prism_minatar_trace {
    int n;
    prism_minatar_draw draws[PRISM_MINATAR_TRACE_CAP];
} prism_minatar_trace;

typedef struct prism_minatar_common {
    double sticky_action_prob; /* double: the reference compares rand() < 0.1 in double */
    bool ramping;
    int last_action;    /* sticky rule; survives reset, as in the reference */
    int applied_action; /* the full-set action the last step actually took */
    /* The minimal action set's map into the full set, or NULL for the full set. */
    const int *action_map;
    prism_minatar_trace *trace; /* NULL except in tests */
} prism_minatar_common;

/* Defaults: sticky 0.1, ramping on, last action 0 (no-op). */
void prism_minatar_common_init(prism_minatar_common *c, const int *action_map);
/* The option hook shared by all games: sticky_action_prob (a number in [0, 1]) and
 * difficulty_ramping (on/off, true/false, 1/0). PRISM_ERR_INVALID for anything else. */
prism_status prism_minatar_configure(void *state, const char *key, const char *value);

/* rand() and randint(lo, hi) on the environment's generator, recorded in the trace when
 * one is attached. */
double prism_minatar_rand(prism_minatar_common *c, prism_env_random *r);
int prism_minatar_randint(prism_minatar_common *c, prism_env_random *r, int lo, int hi);

/* Maps the agent's action to the full set, then applies the sticky rule: with probability
 * sticky_action_prob the previous action repeats. The rand() is drawn on every step, even
 * with probability 0, as the reference does. Returns the action the game takes. */
int prism_minatar_sticky(prism_minatar_common *c, prism_env_random *r, int action);

/* How render draws a channel: its name (for the legend), a letter when colour is off, and an
 * ANSI background colour code (e.g. 41) when it is on. */
typedef struct prism_minatar_glyph {
    const char *name;
    char letter;
    int ansi_bg;
} prism_minatar_glyph;

/* A 10x10 picture of an observation (10, 10, C): each cell shows the first active channel in
 * `glyphs` order, then a legend line. Returns the length written (snprintf semantics). */
int prism_minatar_render(const float *obs, int channels, const prism_minatar_glyph *glyphs,
                         const char *status, char *buf, size_t cap, bool color);

/* Observation helpers: obs is (10, 10, C), channel fastest. */
#define MINATAR_AT(obs, C, y, x, ch) ((obs)[((y)*10 + (x)) * (C) + (ch)])

extern const char *const prism_minatar_action_names[PRISM_MINATAR_ACTIONS];

/* Defines the class functions of a game from its own:
 *   void RESET(T *g, prism_env_random *r);
 *   int  ACT(T *g, prism_env_random *r, int action);       (the reward; sets g->terminal)
 *   void OBSERVE(const T *g, float *obs);                    (writes every element)
 *   int  STATUS(const T *g, char *buf, size_t cap);          (one line for render)
 * and a MINIMAL[] action map. PREFIX names the generated functions. */
#define PRISM_MINATAR_GLUE(PREFIX, T, C, GLYPHS, MINIMAL, RESET, ACT, OBSERVE, STATUS)             \
    static void PREFIX##_init_full(void *state) {                                                  \
        prism_minatar_common_init(&((T *)state)->c, NULL);                                         \
    }                                                                                              \
    static void PREFIX##_init_minimal(void *state) {                                               \
        prism_minatar_common_init(&((T *)state)->c, MINIMAL);                                      \
    }                                                                                              \
    static void PREFIX##_reset(void *state, prism_env_random *random, float *obs) {                \
        T *g = state;                                                                              \
        RESET(g, random);                                                                          \
        OBSERVE(g, obs);                                                                           \
    }                                                                                              \
    static float PREFIX##_step(void *state, prism_env_random *random, int action, float *obs,      \
                               bool *terminated) {                                                 \
        T *g = state;                                                                              \
        int a = prism_minatar_sticky(&g->c, random, action);                                       \
        int r = ACT(g, random, a);                                                                 \
        OBSERVE(g, obs);                                                                           \
        *terminated = g->terminal;                                                                 \
        return (float)r;                                                                           \
    }                                                                                              \
    static int PREFIX##_render(const void *state, char *buf, size_t cap, bool color) {             \
        float obs[100 * (C)];                                                                      \
        char status[160];                                                                          \
        OBSERVE((const T *)state, obs);                                                            \
        STATUS((const T *)state, status, sizeof status);                                           \
        return prism_minatar_render(obs, C, GLYPHS, status, buf, cap, color);                      \
    }

/* The class of a game (full action set) and of its minimal-action variant. */
#define PRISM_MINATAR_CLASS(PREFIX, T, C, ID, ALIASES, SUMMARY, NAMES, KEYS, N)                    \
    {                                                                                              \
        .id = ID, .aliases = ALIASES, .summary = SUMMARY,                                          \
        .reference = "MinAtar 1.0.15 (commit 4241f246) " ID, .obs_rank = 3,                        \
        .obs_shape = {10, 10, C}, .num_actions = N, .action_names = NAMES, .play_keys = KEYS,      \
        .max_episode_steps = 0, .supports_numpy_rng = true, .state_bytes = sizeof(T),              \
        .init = N == PRISM_MINATAR_ACTIONS ? PREFIX##_init_full : PREFIX##_init_minimal,           \
        .configure = prism_minatar_configure, .reset = PREFIX##_reset, .step = PREFIX##_step,      \
        .render = PREFIX##_render,                                                                 \
    }

#endif
