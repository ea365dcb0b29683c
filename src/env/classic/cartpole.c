/* CartPole-v1 and CartPole-v0: Gymnasium 1.x classic_control/cartpole.py semantics.
 *
 * Barto, Sutton & Anderson's cart-pole with Gymnasium's constants, Euler integration in
 * double where all four variables update from the old values, termination at |x| > 2.4 or
 * |theta| > 12 degrees, and reward 1 on every step including the terminating one. The
 * expression shapes follow the reference so results agree to the last bit of double.
 * Not here: the "semi-implicit euler" kinematics option and the Sutton-Barto reward option,
 * which no prism preset uses.
 */
#include "prism/env.h"
#include "small_trig.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const double gravity = 9.8;
static const double masspole = 0.1;
static const double total_mass = 0.1 + 1.0; /* masspole + masscart (1.0) */
static const double length = 0.5;           /* half the pole's length */
static const double polemass_length = 0.1 * 0.5;
static const double force_mag = 10.0;
static const double tau = 0.02;
static const double x_threshold = 2.4;
#define THETA_THRESHOLD (12.0 * 2.0 * M_PI / 360.0)

typedef struct cartpole {
    double x, x_dot, theta, theta_dot;
} cartpole;

static void observe(const cartpole *s, float *obs) {
    obs[0] = (float)s->x;
    obs[1] = (float)s->x_dot;
    obs[2] = (float)s->theta;
    obs[3] = (float)s->theta_dot;
}

static void reset(void *state, prism_env_random *random, float *obs) {
    cartpole *s = state;
    /* Gymnasium draws uniform(-0.05, 0.05) for each of the four variables. */
    s->x = -0.05 + 0.1 * prism_env_random_uniform(random);
    s->x_dot = -0.05 + 0.1 * prism_env_random_uniform(random);
    s->theta = -0.05 + 0.1 * prism_env_random_uniform(random);
    s->theta_dot = -0.05 + 0.1 * prism_env_random_uniform(random);
    observe(s, obs);
}

/* One Euler step of the dynamics given cos and sin of theta: the single definition of the
 * arithmetic, shared by step and step_many so both give the same bits. */
static inline void advance(double *x, double *x_dot, double *theta, double *theta_dot, double force,
                           double costheta, double sintheta) {
    double temp = (force + polemass_length * (*theta_dot * *theta_dot) * sintheta) / total_mass;
    double thetaacc = (gravity * sintheta - costheta * temp) /
                      (length * (4.0 / 3.0 - masspole * (costheta * costheta) / total_mass));
    double xacc = temp - polemass_length * thetaacc * costheta / total_mass;
    *x = *x + tau * *x_dot;
    *x_dot = *x_dot + tau * xacc;
    *theta = *theta + tau * *theta_dot;
    *theta_dot = *theta_dot + tau * thetaacc;
}

static inline bool is_terminal(double x, double theta) {
    return x < -x_threshold || x > x_threshold || theta < -THETA_THRESHOLD ||
           theta > THETA_THRESHOLD;
}

static float step(void *state, prism_env_random *random, int action, float *obs, bool *terminated) {
    (void)random;
    cartpole *s = state;
    double force = action == 1 ? force_mag : -force_mag;
    advance(&s->x, &s->x_dot, &s->theta, &s->theta_dot, force, cos(s->theta), sin(s->theta));
    *terminated = is_terminal(s->x, s->theta);
    observe(s, obs);
    return 1.0f;
}

/* The vector fast path, in blocks of B copies and three passes: gather the states and compute
 * cos/sin (see below); then the arithmetic over local arrays with a fixed trip count, which
 * the compiler turns into SIMD (each lane computes exactly what step computes: IEEE operations in
 * the same order, no contraction); then scatter states, observations and flags. The divisions
 * of consecutive copies no longer wait on each other. Unused lanes of the last block run on
 * zeros and are discarded. */
static void step_many(prism_env *envs, int n, const int *actions, float *obs, float *rewards,
                      bool *terminated) {
    enum { B = 32 };
    double x[B], xd[B], th[B], thd[B], c[B], sn[B], f[B];
    int ok_c[B], ok_s[B];
    for (int base = 0; base < n; base += B) {
        const int m = n - base < B ? n - base : B;
        for (int j = 0; j < B; j++) {
            if (j < m) {
                const cartpole *p = envs[base + j].state;
                x[j] = p->x, xd[j] = p->x_dot, th[j] = p->theta, thd[j] = p->theta_dot;
                f[j] = actions[base + j] == 1 ? force_mag : -force_mag;
            } else {
                x[j] = xd[j] = th[j] = thd[j] = f[j] = 0.0;
            }
        }
        /* cos/sin exactly as glibc computes them (what step calls): the small-angle path of
         * small_trig.h for all lanes in SIMD (the pole angle stays within +-0.21 rad during an
         * episode), then glibc for the lanes where it cannot vouch for the last bit (~1 in 8).
         * In a scalar loop the fallback's unpredictable branch eats the gain, so step keeps
         * calling glibc. */
        for (int j = 0; j < B; j++) {
            c[j] = small_cos(th[j], &ok_c[j]);
            sn[j] = small_sin(th[j], &ok_s[j]);
        }
        for (int j = 0; j < B; j++) {
            if (!ok_c[j]) c[j] = cos(th[j]);
            if (!ok_s[j]) sn[j] = sin(th[j]);
        }
        for (int j = 0; j < B; j++) advance(&x[j], &xd[j], &th[j], &thd[j], f[j], c[j], sn[j]);
        for (int j = 0; j < m; j++) {
            cartpole *p = envs[base + j].state;
            p->x = x[j], p->x_dot = xd[j], p->theta = th[j], p->theta_dot = thd[j];
            terminated[base + j] = is_terminal(x[j], th[j]);
            rewards[base + j] = 1.0f;
            observe(p, obs + (size_t)(base + j) * 4);
        }
    }
}

static prism_status set_state(void *state, const double *v, int n, float *obs) {
    (void)n;
    cartpole *s = state;
    s->x = v[0];
    s->x_dot = v[1];
    s->theta = v[2];
    s->theta_dot = v[3];
    observe(s, obs);
    return PRISM_OK;
}

static void get_state(const void *state, double *v) {
    const cartpole *s = state;
    v[0] = s->x;
    v[1] = s->x_dot;
    v[2] = s->theta;
    v[3] = s->theta_dot;
}

/* The picture: the pole as a line of POLE rows leaning by theta (a character cell is about
 * twice as tall as wide, hence the factor 2 on the lean), the cart under it, and the track
 * between walls at x = +-x_threshold, where an episode ends. */
static int render(const void *state, char *buf, size_t cap, bool color) {
    const cartpole *s = state;
    enum { W = 61, POLE = 6 };
    int cart = (int)lround((s->x + x_threshold) / (2 * x_threshold) * (W - 3)) + 1;
    if (cart < 1) cart = 1;
    if (cart > W - 2) cart = W - 2;
    double deg = s->theta * 180.0 / M_PI, lean = 2.0 * tan(fmax(-1.2, fmin(1.2, s->theta)));
    long tip = lround(POLE * lean); /* the tip's offset from the cart, in columns */
    const char *pole = tip == 0 ? "|" : tip > 0 ? "/" : "\\";
    int n = 0;
    for (int r = POLE; r >= 1; r--) {
        int col = cart + (int)lround(r * lean);
        if (col < 0) col = 0;
        if (col > W - 1) col = W - 1;
        n += snprintf(buf + n, cap > (size_t)n ? cap - (size_t)n : 0, "%*s%s%s%s\n", col, "",
                      color ? "\033[33m" : "", pole, color ? "\033[0m" : "");
    }
    char cart_row[W + 1], track[W + 1];
    memset(cart_row, ' ', W);
    cart_row[W] = 0;
    for (int i = cart - 2; i <= cart + 2; i++)
        if (i >= 0 && i < W) cart_row[i] = i == cart - 2 ? '[' : i == cart + 2 ? ']' : '=';
    memset(track, '-', W);
    track[0] = track[W - 1] = '|';
    track[W] = 0;
    n += snprintf(buf + n, cap > (size_t)n ? cap - (size_t)n : 0,
                  "%s\n%s\nx=%+.3f (ends at +-%.1f)  theta=%+.2f deg (ends at +-12)\n", cart_row,
                  track, s->x, x_threshold, deg);
    return n;
}

/* Push towards the side the pole is falling to (angle plus angular velocity): a baseline that
 * balances for the whole episode almost always (mean 486 of 500 over 100 episodes). */
static int heuristic(const float *obs) {
    return (double)obs[2] + (double)obs[3] > 0 ? 1 : 0;
}

static const char *const action_names[] = {"push left", "push right"};

#define CARTPOLE_CLASS(id_, aliases_, limit_)                                                      \
    {                                                                                              \
        .id = id_, .aliases = aliases_,                                                            \
        .summary = "balance a pole on a cart; +1 per step, " #limit_ "-step limit",                \
        .reference = "Gymnasium 1.x " id_, .obs_rank = 1, .obs_shape = {4, 1, 1},                  \
        .num_actions = 2, .action_names = action_names, .play_keys = "ad",                         \
        .max_episode_steps = limit_, .state_values = 4, .state_names = "x,x_dot,theta,theta_dot",  \
        .state_bytes = sizeof(cartpole), .reset = reset, .step = step, .set_state = set_state,     \
        .get_state = get_state, .render = render, .heuristic = heuristic, .step_many = step_many,  \
    }

const prism_env_class prism_cartpole_v1 = CARTPOLE_CLASS("CartPole-v1", "cartpole", 500);
const prism_env_class prism_cartpole_v0 = CARTPOLE_CLASS("CartPole-v0", NULL, 200);
