/* MountainCar-v0: Gymnasium 1.x classic_control/mountain_car.py semantics.
 *
 * Moore's under-powered car in a valley: the position and velocity live in double, the step
 * is `velocity += (action - 1) * force + cos(3 * position) * (-gravity)` in exactly that
 * grouping, then a clip of the velocity to +-0.07, `position += velocity`, a clip of the
 * position to [-1.2, 0.6], and the velocity is zeroed when the car sits on the left wall
 * moving left. Reward -1 on every step; terminated once position >= 0.5 (goal velocity 0).
 * The reset draws the position from uniform(-0.6, -0.4) with velocity 0.
 * The 600-step variant of the Revisiting Rainbow presets is max_episode_steps=600.
 * Not here: MountainCarContinuous and the goal_velocity option (no prism preset uses them).
 */
#include "prism/env.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const double min_position = -1.2;
static const double max_position = 0.6;
static const double max_speed = 0.07;
static const double goal_position = 0.5;
static const double goal_velocity = 0.0;
static const double force = 0.001;
static const double gravity = 0.0025;

typedef struct mountain_car {
    double position, velocity;
} mountain_car;

static void observe(const mountain_car *s, float *obs) {
    obs[0] = (float)s->position;
    obs[1] = (float)s->velocity;
}

static void reset(void *state, prism_env_random *random, float *obs) {
    mountain_car *s = state;
    /* numpy's uniform(low, high): low + (high - low) * random() */
    s->position = -0.6 + (-0.4 - -0.6) * prism_env_random_uniform(random);
    s->velocity = 0.0;
    observe(s, obs);
}

/* np.clip(x, lo, hi) on a float64 scalar: max then min (NaN stays NaN). */
static double clip(double x, double lo, double hi) {
    double y = x < lo ? lo : x;
    return y > hi ? hi : y;
}

static float step(void *state, prism_env_random *random, int action, float *obs, bool *terminated) {
    (void)random;
    mountain_car *s = state;
    double position = s->position, velocity = s->velocity;
    velocity += (action - 1) * force + cos(3 * position) * (-gravity);
    velocity = clip(velocity, -max_speed, max_speed);
    position += velocity;
    position = clip(position, min_position, max_position);
    if (position == min_position && velocity < 0) velocity = 0;
    *terminated = position >= goal_position && velocity >= goal_velocity;
    s->position = position;
    s->velocity = velocity;
    observe(s, obs);
    return -1.0f;
}

/* The vector fast path: the same step for each copy, without an indirect call per copy. */
static void step_many(prism_env *envs, int n, const int *actions, float *obs, float *rewards,
                      bool *terminated) {
    for (int i = 0; i < n; i++)
        rewards[i] = step(envs[i].state, NULL, actions[i], obs + (size_t)i * 2, &terminated[i]);
}

static prism_status set_state(void *state, const double *v, int n, float *obs) {
    (void)n;
    mountain_car *s = state;
    s->position = v[0];
    s->velocity = v[1];
    observe(s, obs);
    return PRISM_OK;
}

static void get_state(const void *state, double *v) {
    const mountain_car *s = state;
    v[0] = s->position;
    v[1] = s->velocity;
}

static int render(const void *state, char *buf, size_t cap, bool color) {
    const mountain_car *s = state;
    /* The hill y = sin(3x) * 0.45 + 0.55 sampled on 61 columns over [-1.2, 0.6] and 9 rows;
     * the car is the coloured '@', the flag at the goal position a 'F'. */
    enum { W = 61, H = 9 };
    char grid[H][W + 1];
    for (int y = 0; y < H; y++) {
        memset(grid[y], ' ', W);
        grid[y][W] = 0;
    }
    int car_col = 0, car_row = 0, flag_col = 0;
    for (int x = 0; x < W; x++) {
        double pos = min_position + (max_position - min_position) * x / (W - 1);
        double height = sin(3 * pos) * 0.45 + 0.55; /* in [0.1, 1.0] */
        int row = (H - 1) - (int)lround((height - 0.1) / 0.9 * (H - 1));
        grid[row][x] = '.';
        if (fabs(pos - s->position) <= (max_position - min_position) / (W - 1) / 2 || x == 0)
            car_col = x, car_row = row;
        if (pos <= goal_position) flag_col = x;
    }
    int flag_row = 0;
    for (int y = 0; y < H; y++)
        if (grid[y][flag_col] == '.') flag_row = y > 0 ? y - 1 : 0;
    grid[flag_row][flag_col] = 'F';
    int used = 0;
    for (int y = 0; y < H; y++) {
        int n;
        if (y == car_row)
            n = snprintf(buf + used, cap - (size_t)used, "%.*s%s@%s%s\n", car_col, grid[y],
                         color ? "\033[33m" : "", color ? "\033[0m" : "", grid[y] + car_col + 1);
        else
            n = snprintf(buf + used, cap - (size_t)used, "%s\n", grid[y]);
        if (n < 0 || (size_t)(used + n) >= cap) return (int)strlen(buf);
        used += n;
    }
    int n = snprintf(buf + used, cap - (size_t)used, "position=%+.3f velocity=%+.4f (goal 0.5)\n",
                     s->position, s->velocity);
    if (n < 0 || (size_t)(used + n) >= cap) return (int)strlen(buf);
    return used + n;
}

static const char *const action_names[] = {"accelerate left", "coast", "accelerate right"};

const prism_env_class prism_mountain_car_v0 = {
    .id = "MountainCar-v0",
    .aliases = "mountaincar",
    .summary = "drive an under-powered car up the right hill; -1 per step, 200-step limit",
    .reference = "Gymnasium 1.x MountainCar-v0",
    .obs_rank = 1,
    .obs_shape = {2, 1, 1},
    .num_actions = 3,
    .action_names = action_names,
    .play_keys = "asd",
    .max_episode_steps = 200,
    .state_values = 2,
    .state_names = "position,velocity",
    .state_bytes = sizeof(mountain_car),
    .reset = reset,
    .step = step,
    .set_state = set_state,
    .get_state = get_state,
    .render = render,
    .step_many = step_many,
};
