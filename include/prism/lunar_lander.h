/* prism/lunar_lander.h — what LunarLander offers beyond the generic environment interface:
 * Gymnasium's heuristic controller, a view of the terrain, and a replay hook for parity tests.
 *
 *     prism_env env;
 *     prism_env_init(&env, "LunarLander-v3", NULL);
 *     float obs[8];
 *     prism_env_reset(&env, obs);
 *     for (prism_step s = {0}; !s.terminated && !s.truncated;)
 *         s = prism_env_step(&env, prism_lunar_lander_heuristic(obs), obs);
 *
 * Observation (8): x, y (helipad centre at 0, 0), vx, vy, angle, angular velocity, left and
 * right leg contact (0 or 1). Actions (4): 0 nothing, 1 left orientation engine, 2 main engine,
 * 3 right orientation engine.
 */
#ifndef PRISM_LUNAR_LANDER_H
#define PRISM_LUNAR_LANDER_H

#include "prism/env.h"

#include <stdbool.h>

enum { PRISM_LUNAR_CHUNKS = 11 };

/* Gymnasium's heuristic lander (lunar_lander.py, heuristic()) for the discrete actions: aim the
 * angle at the pad, hover at a height proportional to the horizontal offset, only damp the fall
 * once a leg touches. Reads obs (8), returns an action in [0, 4). Pure; never fails. */
int prism_lunar_lander_heuristic(const float *obs);

/* The terrain of the current episode, in Box2D units (the world is 20 x 13.33). */
typedef struct prism_lunar_terrain {
    double helipad_x1, helipad_x2, helipad_y;
    double height[PRISM_LUNAR_CHUNKS + 1]; /* the drawn heights, pad chunks overwritten */
    double smooth_y[PRISM_LUNAR_CHUNKS];   /* the ground's vertex heights at chunk_x[i] = 2 i */
} prism_lunar_terrain;

/* Copy the terrain of env (a LunarLander after a reset) into *out. Returns PRISM_ERR_INVALID
 * when env is not a LunarLander. */
prism_status prism_lunar_lander_terrain(const prism_env *env, prism_lunar_terrain *out);

/* Test hook: the next n random draws of env return draws[0..n) in order, as the values of the
 * reference's np_random.uniform(lo, hi) (not as [0, 1) numbers), instead of coming from the
 * environment's random source; after them, draws come from the random source again. This lets
 * a parity test feed Gymnasium's recorded draws in. `draws` is borrowed and must outlive them.
 * Returns PRISM_ERR_INVALID when env is not a LunarLander. */
prism_status prism_lunar_lander_replay(prism_env *env, const double *draws, int n);

/* The Box2D version the library is linked with, as major * 100 + minor * 10 + revision (240 for
 * Debian's 2.4.1, whose b2_version says 2.4.0). Trajectories match Gymnasium bit for bit only
 * on 2.3 (see docs/lunar_lander.md); the parity tests choose their tolerances by it. */
int prism_lunar_lander_box2d_version(void);

#endif
