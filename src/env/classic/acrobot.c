/* Acrobot-v1: Gymnasium 1.x classic_control/acrobot.py semantics.
 *
 * Sutton's two-link underactuated pendulum with the 'book' dynamics (the Java implementation
 * and Sutton & Barto's equations), one RK4 step of dt = 0.2 in double, angles wrapped to
 * [-pi, pi], velocities clipped to +-4pi and +-9pi, reward -1 per step and 0 on the step that
 * swings the tip above the bar (terminated). The reset draws uniform(-0.1, 0.1) for the four
 * state values and rounds them to float32, as the reference does.
 * The expression shapes (operation order, `cos(theta1 - pi / 2)` instead of `sin(theta1)`)
 * follow the reference on purpose: algebraically equal forms change the last bits, and the
 * parity tests compare the float64 state exactly.
 * Not here: torque noise (0 in the reference) and the 'nips' dynamics variant.
 */
#include "prism/env.h"
#include "small_trig.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const double m1 = 1.0, m2 = 1.0;   /* link masses [kg] */
static const double l1 = 1.0;             /* length of link 1 [m] */
static const double lc1 = 0.5, lc2 = 0.5; /* centres of mass [m] */
static const double I1 = 1.0, I2 = 1.0;   /* moments of inertia */
static const double g = 9.8;
static const double dt = 0.2;
#define MAX_VEL_1 (4 * M_PI)
#define MAX_VEL_2 (9 * M_PI)
static const double avail_torque[3] = {-1.0, 0.0, 1.0};

typedef struct acrobot {
    double s[4];       /* theta1, theta2, dtheta1, dtheta2 */
    double cos2, sin2; /* cos and sin of s[1], kept for the next step's first derivative */
} acrobot;

/* Write the observation and refresh the cached cos/sin of theta2; returns cos(theta1), which
 * the terminal test needs too (libm calls are most of an Acrobot step, so none is repeated). */
static double observe(acrobot *a, float *obs) {
    const double c1 = cos(a->s[0]), s1 = sin(a->s[0]);
    a->cos2 = cos(a->s[1]);
    a->sin2 = sin(a->s[1]);
    obs[0] = (float)c1;
    obs[1] = (float)s1;
    obs[2] = (float)a->cos2;
    obs[3] = (float)a->sin2;
    obs[4] = (float)a->s[2];
    obs[5] = (float)a->s[3];
    return c1;
}

static void reset(void *state, prism_env_random *random, float *obs) {
    acrobot *a = state;
    /* numpy's uniform(low, high) is low + (high - low) * random(); the reference then casts the
     * state to float32 (and integrates in double from those rounded values). */
    for (int i = 0; i < 4; i++)
        a->s[i] = (double)(float)(-0.1 + (0.1 - -0.1) * prism_env_random_uniform(random));
    observe(a, obs);
}

/* libm's pow, reached through a volatile pointer so the compiler cannot fold pow(x, 2.0) into
 * x * x (which it does even without fast-math). */
static double (*volatile libm_pow)(double, double) = pow;

/* Python's `x**2` on a float: CPython (and numpy's float64 scalar) call libm pow(x, 2.0), which
 * is not always the correctly rounded x * x: glibc's pow is documented to 0.54 ULP, so it can
 * round the other way only when x * x lies within 0.04 ULP of a midpoint between two doubles
 * (measured: 0.09% of random x disagree, all within 0.008 ULP of a midpoint; 4 records in
 * 2,921 of our libm fixtures). We compute x * x and its exact rounding error with an explicit
 * fma; only when the product sits within 1/16 ULP of a midpoint do we pay for pow.
 * square_near_midpoint is the branch-free half (vectorisable); py_square the complete scalar
 * version. */
static inline double square_near_midpoint(double x, int *near) {
    const double p = x * x;
    const double err = fma(x, x, -p); /* x * x == p + err exactly */
    uint64_t bits;
    memcpy(&bits, &p, sizeof bits);
    bits &= 0x7FF0000000000000ull; /* 2^exponent of p */
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    const double half_ulp = scale * 0x1p-53;
    *near = fabs(fabs(err) - half_ulp) <= half_ulp * 0.125;
    return p;
}

static inline double py_square(double x) {
    int near;
    const double p = square_near_midpoint(x, &near);
    return near ? libm_pow(x, 2.0) : p;
}

/* The two terms built from cos(theta2) alone. */
static inline double d1_of(double cos_theta2) {
    return m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cos_theta2) + I1 + I2;
}
static inline double d2_of(double cos_theta2) {
    return m2 * (lc2 * lc2 + l1 * lc2 * cos_theta2) + I2;
}

/* The angular accelerations, given the trigonometric values (ca = cos(theta1 + theta2 -
 * pi / 2.0), cb = cos(theta1 - pi / 2)) and the three Python squares. The one definition of
 * the arithmetic, shared by the scalar and the batched paths so both give the same bits. */
static inline void accelerations(double dtheta1, double dtheta2, double cos_theta2,
                                 double sin_theta2, double ca, double cb, double torque,
                                 double sq_dtheta1, double sq_dtheta2, double d2, double sq_d2,
                                 double *ddtheta1, double *ddtheta2) {
    const double d1 = d1_of(cos_theta2);
    const double phi2 = m2 * lc2 * g * ca;
    const double phi1 = -m2 * l1 * lc2 * sq_dtheta2 * sin_theta2 -
                        2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin_theta2 +
                        (m1 * lc1 + m2 * l1) * g * cb + phi2;
    const double acc2 = (torque + d2 / d1 * phi1 - m2 * l1 * lc2 * sq_dtheta1 * sin_theta2 - phi2) /
                        (m2 * (lc2 * lc2) + I2 - sq_d2 / d1);
    *ddtheta2 = acc2;
    *ddtheta1 = -(d2 * acc2 + phi1) / d1;
}

/* The time derivative of (theta1, theta2, dtheta1, dtheta2) under torque `torque`, given
 * cos and sin of theta2 (computed by the caller, so the first of the four calls per step can
 * reuse the values the previous observation computed). The reference's fifth component (the
 * torque's derivative) is 0, so the torque is constant. */
static void dsdt(const double *s, double torque, double cos_theta2, double sin_theta2,
                 double *out) {
    const double theta1 = s[0], theta2 = s[1], dtheta1 = s[2], dtheta2 = s[3];
    const double ca = cos(theta1 + theta2 - M_PI / 2.0), cb = cos(theta1 - M_PI / 2);
    const double d2 = d2_of(cos_theta2);
    out[0] = dtheta1;
    out[1] = dtheta2;
    accelerations(dtheta1, dtheta2, cos_theta2, sin_theta2, ca, cb, torque, py_square(dtheta1),
                  py_square(dtheta2), d2, py_square(d2), &out[2], &out[3]);
}

static double wrap(double x, double m, double M) {
    const double diff = M - m;
    while (x > M) x = x - diff;
    while (x < m) x = x + diff;
    return x;
}

static double bound(double x, double m, double M) {
    /* min(max(x, m), M) as Python evaluates it (NaN passes through max and min unchanged) */
    double y = x < m ? m : x;
    return M < y ? M : y;
}

static float step(void *state, prism_env_random *random, int action, float *obs, bool *terminated) {
    (void)random;
    acrobot *a = state;
    const double torque = avail_torque[action];
    /* One RK4 step over [0, dt], with the reference's grouping:
     * y0 + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4). */
    const double h = dt - 0.0, h2 = h / 2.0;
    double k1[4], k2[4], k3[4], k4[4], y[4];
    const double *y0 = a->s;
    dsdt(y0, torque, a->cos2, a->sin2, k1);
    for (int i = 0; i < 4; i++) y[i] = y0[i] + h2 * k1[i];
    dsdt(y, torque, cos(y[1]), sin(y[1]), k2);
    for (int i = 0; i < 4; i++) y[i] = y0[i] + h2 * k2[i];
    dsdt(y, torque, cos(y[1]), sin(y[1]), k3);
    for (int i = 0; i < 4; i++) y[i] = y0[i] + h * k3[i];
    dsdt(y, torque, cos(y[1]), sin(y[1]), k4);
    double ns[4];
    for (int i = 0; i < 4; i++) ns[i] = y0[i] + h / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    a->s[0] = wrap(ns[0], -M_PI, M_PI);
    a->s[1] = wrap(ns[1], -M_PI, M_PI);
    a->s[2] = bound(ns[2], -MAX_VEL_1, MAX_VEL_1);
    a->s[3] = bound(ns[3], -MAX_VEL_2, MAX_VEL_2);
    const double cos1 = observe(a, obs);
    *terminated = -cos1 - cos(a->s[1] + a->s[0]) > 1.0;
    return *terminated ? 0.0f : -1.0f;
}

/* The vector fast path, in blocks of B copies. Each RK4 stage runs as three passes over
 * local (4, B) arrays: the libm calls per copy; the squares with their near-midpoint flags
 * (SIMD) and the rare pow fix-ups; then the accelerations (SIMD: the divisions of different
 * copies overlap instead of waiting on each other). Every lane computes exactly what step
 * computes, through the same inline helpers. Unused lanes of the last block run on zeros. */
enum { B = 32 };

/* out[j] = cos(x[j]) and, when sin_out is not NULL, sin_out[j] = sin(x[j]), exactly as glibc
 * computes them: wide_sincos for every lane (SIMD), then glibc where it cannot vouch. */
static void cos_sin_block(const double *restrict x, double *restrict cos_out,
                          double *restrict sin_out) {
    int ok_c[B], ok_s[B];
    double sn[B];
    for (int j = 0; j < B; j++) wide_sincos(x[j], &sn[j], &cos_out[j], &ok_s[j], &ok_c[j]);
    for (int j = 0; j < B; j++)
        if (!ok_c[j]) cos_out[j] = cos(x[j]);
    if (!sin_out) return;
    for (int j = 0; j < B; j++) sin_out[j] = ok_s[j] ? sn[j] : sin(x[j]);
}

/* k (4, B) = derivative at y (4, B); cos2/sin2 (B) given, the rest computed here. */
static void dsdt_block(const double (*restrict y)[B], const double *restrict torque,
                       const double *restrict cos2, const double *restrict sin2,
                       double (*restrict k)[B]) {
    double ca[B], cb[B], d2[B], sq1[B], sq2[B], sqd2[B], arg_a[B], arg_b[B];
    int n1[B], n2[B], nd[B];
    for (int j = 0; j < B; j++) {
        arg_a[j] = y[0][j] + y[1][j] - M_PI / 2.0;
        arg_b[j] = y[0][j] - M_PI / 2;
    }
    cos_sin_block(arg_a, ca, NULL);
    cos_sin_block(arg_b, cb, NULL);
    for (int j = 0; j < B; j++) {
        d2[j] = d2_of(cos2[j]);
        sq1[j] = square_near_midpoint(y[2][j], &n1[j]);
        sq2[j] = square_near_midpoint(y[3][j], &n2[j]);
        sqd2[j] = square_near_midpoint(d2[j], &nd[j]);
    }
    for (int j = 0; j < B; j++) {
        if (n1[j]) sq1[j] = libm_pow(y[2][j], 2.0);
        if (n2[j]) sq2[j] = libm_pow(y[3][j], 2.0);
        if (nd[j]) sqd2[j] = libm_pow(d2[j], 2.0);
    }
    for (int j = 0; j < B; j++) {
        k[0][j] = y[2][j];
        k[1][j] = y[3][j];
        accelerations(y[2][j], y[3][j], cos2[j], sin2[j], ca[j], cb[j], torque[j], sq1[j], sq2[j],
                      d2[j], sqd2[j], &k[2][j], &k[3][j]);
    }
}

static void step_many(prism_env *envs, int n, const int *actions, float *obs, float *rewards,
                      bool *terminated) {
    const double h = dt - 0.0, h2 = h / 2.0;
    double y0[4][B], y[4][B], k1[4][B], k2[4][B], k3[4][B], k4[4][B];
    double torque[B], cos2[B], sin2[B];
    for (int base = 0; base < n; base += B) {
        const int m = n - base < B ? n - base : B;
        for (int j = 0; j < B; j++) {
            const acrobot *a = envs[base + (j < m ? j : 0)].state;
            for (int i = 0; i < 4; i++) y0[i][j] = j < m ? a->s[i] : 0.0;
            torque[j] = j < m ? avail_torque[actions[base + j]] : 0.0;
            cos2[j] = j < m ? a->cos2 : 1.0;
            sin2[j] = j < m ? a->sin2 : 0.0;
        }
        dsdt_block((const double(*)[B])y0, torque, cos2, sin2, k1);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < B; j++) y[i][j] = y0[i][j] + h2 * k1[i][j];
        cos_sin_block(y[1], cos2, sin2);
        dsdt_block((const double(*)[B])y, torque, cos2, sin2, k2);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < B; j++) y[i][j] = y0[i][j] + h2 * k2[i][j];
        cos_sin_block(y[1], cos2, sin2);
        dsdt_block((const double(*)[B])y, torque, cos2, sin2, k3);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < B; j++) y[i][j] = y0[i][j] + h * k3[i][j];
        cos_sin_block(y[1], cos2, sin2);
        dsdt_block((const double(*)[B])y, torque, cos2, sin2, k4);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < B; j++)
                y[i][j] = y0[i][j] + h / 6.0 * (k1[i][j] + 2 * k2[i][j] + 2 * k3[i][j] + k4[i][j]);
        /* wrap and clip, then the observation's and the terminal test's trigonometry for the
         * whole block (the same values observe and step compute) */
        double c1[B], s1[B], c12[B], arg[B];
        for (int j = 0; j < B; j++) {
            y[0][j] = wrap(y[0][j], -M_PI, M_PI);
            y[1][j] = wrap(y[1][j], -M_PI, M_PI);
            y[2][j] = bound(y[2][j], -MAX_VEL_1, MAX_VEL_1);
            y[3][j] = bound(y[3][j], -MAX_VEL_2, MAX_VEL_2);
            arg[j] = y[1][j] + y[0][j];
        }
        cos_sin_block(y[0], c1, s1);
        cos_sin_block(y[1], cos2, sin2);
        cos_sin_block(arg, c12, NULL);
        for (int j = 0; j < m; j++) {
            acrobot *a = envs[base + j].state;
            for (int i = 0; i < 4; i++) a->s[i] = y[i][j];
            a->cos2 = cos2[j];
            a->sin2 = sin2[j];
            float *o = obs + (size_t)(base + j) * 6;
            o[0] = (float)c1[j];
            o[1] = (float)s1[j];
            o[2] = (float)cos2[j];
            o[3] = (float)sin2[j];
            o[4] = (float)y[2][j];
            o[5] = (float)y[3][j];
            terminated[base + j] = -c1[j] - c12[j] > 1.0;
            rewards[base + j] = terminated[base + j] ? 0.0f : -1.0f;
        }
    }
}

static prism_status set_state(void *state, const double *v, int n, float *obs) {
    (void)n;
    acrobot *a = state;
    /* The reference wraps angles by repeated subtraction of 2 pi, one per turn: a huge angle
     * would make the step loop for ages (Python's too), and a non-finite one forever. */
    for (int i = 0; i < 4; i++)
        if (!isfinite(v[i]) || fabs(v[i]) > 1e4)
            return prism_error(PRISM_ERR_INVALID,
                               "Acrobot-v1 state value %d (%s) is %g: give finite values within "
                               "+-1e4 (angles in radians, wrapped to [-pi, pi] by the dynamics)",
                               i + 1,
                               i == 0   ? "theta1"
                               : i == 1 ? "theta2"
                               : i == 2 ? "dtheta1"
                                        : "dtheta2",
                               v[i]);
    memcpy(a->s, v, sizeof a->s);
    observe(a, obs);
    return PRISM_OK;
}

static void get_state(const void *state, double *v) {
    const acrobot *a = state;
    memcpy(v, a->s, sizeof a->s);
}

/* Append to buf at *used without overflowing cap (the output is truncated, never overrun). */
static void put(char *buf, size_t cap, size_t *used, const char *text) {
    size_t n = strlen(text);
    if (*used + 1 >= cap) return;
    if (n > cap - 1 - *used) n = cap - 1 - *used;
    memcpy(buf + *used, text, n);
    *used += n;
    buf[*used] = 0;
}

static int render(const void *state, char *buf, size_t cap, bool color) {
    const acrobot *a = state;
    /* A 21x11 character grid: the pivot at the centre, each link drawn as 5 marks; the bar the
     * tip must cross (one link length above the pivot) as a dashed top line. y grows down. */
    enum { W = 21, H = 11 };
    char grid[H][W];
    memset(grid, ' ', sizeof grid);
    for (int x = 0; x < W; x++) grid[0][x] = '-';
    const double cx = W / 2, cy = H / 2, sx = 4.5, sy = 2.5; /* characters per metre */
    double p1x = sin(a->s[0]), p1y = cos(a->s[0]);           /* p1y > 0: below the pivot */
    double p2x = p1x + sin(a->s[0] + a->s[1]), p2y = p1y + cos(a->s[0] + a->s[1]);
    for (int k = 1; k <= 5; k++) {
        double f = k / 5.0;
        int x1 = (int)lround(cx + sx * f * p1x), y1 = (int)lround(cy + sy * f * p1y);
        int x2 = (int)lround(cx + sx * (p1x + f * (p2x - p1x)));
        int y2 = (int)lround(cy + sy * (p1y + f * (p2y - p1y)));
        if (x1 >= 0 && x1 < W && y1 >= 0 && y1 < H) grid[y1][x1] = 'o';
        if (x2 >= 0 && x2 < W && y2 >= 0 && y2 < H) grid[y2][x2] = k == 5 ? '@' : '*';
    }
    grid[(int)cy][(int)cx] = '+';
    size_t used = 0;
    if (cap) buf[0] = 0;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            char c[2] = {grid[y][x], 0};
            bool tip = c[0] == '@', link = c[0] == 'o' || c[0] == '*';
            if (color && (tip || link)) put(buf, cap, &used, tip ? "\033[31m" : "\033[33m");
            put(buf, cap, &used, c);
            if (color && (tip || link)) put(buf, cap, &used, "\033[0m");
        }
        put(buf, cap, &used, "\n");
    }
    char line[96];
    snprintf(line, sizeof line, "theta1=%+.2f theta2=%+.2f tip height=%+.2f (goal > 1)\n", a->s[0],
             a->s[1], -cos(a->s[0]) - cos(a->s[1] + a->s[0]));
    put(buf, cap, &used, line);
    return (int)used;
}

static const char *const action_names[] = {"torque -1", "no torque", "torque +1"};

const prism_env_class prism_acrobot_v1 = {
    .id = "Acrobot-v1",
    .aliases = "acrobot",
    .summary = "swing a two-link pendulum's tip above the bar; -1 per step, 500-step limit",
    .reference = "Gymnasium 1.x Acrobot-v1 (book dynamics, RK4)",
    .obs_rank = 1,
    .obs_shape = {6, 1, 1},
    .num_actions = 3,
    .action_names = action_names,
    .play_keys = "asd",
    .max_episode_steps = 500,
    .state_values = 4,
    .state_names = "theta1,theta2,dtheta1,dtheta2",
    .state_bytes = sizeof(acrobot),
    .reset = reset,
    .step = step,
    .set_state = set_state,
    .get_state = get_state,
    .render = render,
    .step_many = step_many,
};
