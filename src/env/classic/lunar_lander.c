/* LunarLander-v3 (discrete): Gymnasium 1.x box2d/lunar_lander.py semantics on Box2D 2.4.
 *
 * A lander with two spring-loaded legs falls onto random terrain with a flat helipad between two
 * flags at (0, 0) of the observation. Four actions: nothing, left orientation engine, main
 * engine, right orientation engine. Constants, the terrain recipe, the order of the random
 * draws, the engine impulses with their dispersion, the shaped reward, the termination rules and
 * the observation scaling follow the reference; the arithmetic the reference does in Python
 * (double) is done in double here with the same expression shapes, and rounded to float where
 * pybox2d hands it to Box2D.
 *
 * Deliberately not here:
 * - Engine particles. In Gymnasium v3 they exist only when rendering ("a decoration, with no
 *   impact on the physics"); even then they are separate bodies in collision category 0x0100
 *   that collide only with the ground (mask 0x0001), never with the lander or legs, so they
 *   cannot change the lander's trajectory, contacts or sleep. render() draws flames instead.
 * - Wind and turbulence (off by default in v3; no prism preset uses them) and the continuous
 *   action version.
 * - Bit-identical trajectories: Gymnasium links Box2D 2.3.10, Debian packages 2.4.1 (the revolute
 *   joint limit solver changed), so states drift apart slowly; see docs/lunar_lander.md.
 *
 * Box2D world: like v3 (which fixed v2's non-determinism by rebuilding the world), every reset
 * destroys the old world and builds a new one, so an episode never depends on the ones before.
 * That is a few mallocs per episode inside Box2D; steps themselves reuse Box2D's allocators.
 */
#include "box2d_shim.h"
#include "prism/env.h"
#include "prism/lunar_lander.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Reference constants (lunar_lander.py). */
#define FPS                    50
#define SCALE                  30.0
#define MAIN_ENGINE_POWER      13.0
#define SIDE_ENGINE_POWER      0.6
#define INITIAL_RANDOM         1000.0
#define LEG_AWAY               20
#define LEG_DOWN               18
#define LEG_W                  2
#define LEG_H                  8
#define LEG_SPRING_TORQUE      40
#define SIDE_ENGINE_HEIGHT     14
#define SIDE_ENGINE_AWAY       12
#define MAIN_ENGINE_Y_LOCATION 4
#define VIEWPORT_W             600
#define VIEWPORT_H             400
#define CHUNKS                 PRISM_LUNAR_CHUNKS

static const int lander_poly[6][2] = {{-14, +17}, {-17, 0}, {-17, -10},
                                      {+17, -10}, {+17, 0}, {+14, +17}};

typedef struct lunar {
    prism_b2_world *world; /* rebuilt by every reset; NULL before the first */
    prism_b2_body *moon, *lander, *legs[2];
    bool game_over;      /* the lander's body touched the ground */
    bool leg_contact[2]; /* legs[i] touches the ground */
    prism_lunar_terrain terrain;
    bool has_prev_shaping;
    double prev_shaping;
    double s[8];     /* the last observation before rounding to float (for render) */
    int last_action; /* for render's flames */
    float last_reward;
    /* test hook (prism_lunar_lander_replay): recorded draws returned before the random source */
    const double *replay;
    int replay_n, replay_pos;
} lunar;

/* The reference's np_random.uniform(lo, hi) = lo + (hi - lo) * u. */
static double draw_uniform(lunar *s, prism_env_random *random, double lo, double hi) {
    if (s->replay && s->replay_pos < s->replay_n) return s->replay[s->replay_pos++];
    return lo + (hi - lo) * prism_env_random_uniform(random);
}

/* The reference's ContactDetector: any contact of the lander's body is game over; a leg's
 * contact flag follows begin / end events (legs collide only with the ground). */
static void on_contact(void *ctx, const prism_b2_body *a, const prism_b2_body *b, bool begin) {
    lunar *s = ctx;
    if (begin && (a == s->lander || b == s->lander)) s->game_over = true;
    for (int i = 0; i < 2; i++)
        if (a == s->legs[i] || b == s->legs[i]) s->leg_contact[i] = begin;
}

static void destroy(void *state) {
    lunar *s = state;
    prism_b2_world_destroy(s->world);
    s->world = NULL;
}

static float step(void *state, prism_env_random *random, int action, float *obs, bool *terminated);

static void build_terrain(lunar *s, prism_env_random *random) {
    const double W = VIEWPORT_W / SCALE, H = VIEWPORT_H / SCALE;
    prism_lunar_terrain *t = &s->terrain;
    for (int i = 0; i < CHUNKS + 1; i++) t->height[i] = draw_uniform(s, random, 0, H / 2);
    double chunk_x[CHUNKS];
    for (int i = 0; i < CHUNKS; i++) chunk_x[i] = W / (CHUNKS - 1) * i;
    t->helipad_x1 = chunk_x[CHUNKS / 2 - 1];
    t->helipad_x2 = chunk_x[CHUNKS / 2 + 1];
    t->helipad_y = H / 4;
    for (int i = CHUNKS / 2 - 2; i <= CHUNKS / 2 + 2; i++) t->height[i] = t->helipad_y;
    /* height[i - 1] at i = 0 is Python's height[-1], the last of the 12 */
    for (int i = 0; i < CHUNKS; i++)
        t->smooth_y[i] =
            0.33 * (t->height[i == 0 ? CHUNKS : i - 1] + t->height[i] + t->height[i + 1]);

    s->moon = prism_b2_body_create(s->world, false, 0, 0, 0);
    /* a bottom edge with Box2D's default fixture (friction 0.2), then the 10 terrain edges */
    const prism_b2_fixture bottom = {0, 0.2f, 0, 0x0001, 0xFFFF};
    const prism_b2_fixture ground = {0, 0.1f, 0, 0x0001, 0xFFFF};
    prism_b2_body_add_edge(s->moon, 0, 0, (float)W, 0, &bottom);
    for (int i = 0; i < CHUNKS - 1; i++)
        prism_b2_body_add_edge(s->moon, (float)chunk_x[i], (float)t->smooth_y[i],
                               (float)chunk_x[i + 1], (float)t->smooth_y[i + 1], &ground);
}

static void reset(void *state, prism_env_random *random, float *obs) {
    lunar *s = state;
    destroy(s);
    s->world = prism_b2_world_create(0.0f, -10.0f, on_contact, s);
    PRISM_ASSERT(s->world != NULL); /* out of memory for a 100 KiB world: nothing to recover */
    s->game_over = false;
    s->leg_contact[0] = s->leg_contact[1] = false;
    s->has_prev_shaping = false;

    build_terrain(s, random);

    const double initial_x = VIEWPORT_W / SCALE / 2, initial_y = VIEWPORT_H / SCALE;
    s->lander = prism_b2_body_create(s->world, true, (float)initial_x, (float)initial_y, 0);
    float poly[12];
    for (int i = 0; i < 6; i++) {
        poly[2 * i] = (float)(lander_poly[i][0] / SCALE);
        poly[2 * i + 1] = (float)(lander_poly[i][1] / SCALE);
    }
    const prism_b2_fixture hull = {5.0f, 0.1f, 0.0f, 0x0010, 0x0001}; /* collides with ground */
    prism_b2_body_add_polygon(s->lander, poly, 6, &hull);
    double fx = draw_uniform(s, random, -INITIAL_RANDOM, INITIAL_RANDOM);
    double fy = draw_uniform(s, random, -INITIAL_RANDOM, INITIAL_RANDOM);
    prism_b2_body_apply_force_to_center(s->lander, (float)fx, (float)fy, true);

    const prism_b2_fixture leg_fix = {1.0f, 0.2f, 0.0f, 0x0020, 0x0001};
    for (int k = 0; k < 2; k++) {
        int i = k == 0 ? -1 : +1;
        s->legs[k] = prism_b2_body_create(s->world, true, (float)(initial_x - i * LEG_AWAY / SCALE),
                                          (float)initial_y, (float)(i * 0.05));
        prism_b2_body_add_box(s->legs[k], (float)(LEG_W / SCALE), (float)(LEG_H / SCALE), &leg_fix);
        /* pybox2d's revoluteJointDef(bodyA=, bodyB=, ...) sets referenceAngle to
         * bodyB.angle - bodyA.angle when it is not given (so the legs start at joint angle 0,
         * not -+0.05); plain Box2D would leave it 0. Without this, leg contacts differ wildly. */
        float leg_angle = (float)(i * 0.05);
        prism_b2_revolute j = {
            .anchor_a = {0, 0},
            .anchor_b = {(float)(i * LEG_AWAY / SCALE), (float)(LEG_DOWN / SCALE)},
            .reference_angle = leg_angle - 0.0f,
            .enable_motor = true,
            .enable_limit = true,
            .max_motor_torque = LEG_SPRING_TORQUE,
            .motor_speed = (float)(+0.3 * i), /* low enough not to jump back into the sky */
            .lower_angle = (float)(i == -1 ? +0.9 - 0.5 : -0.9),
            .upper_angle = (float)(i == -1 ? +0.9 : -0.9 + 0.5),
        };
        prism_b2_revolute_create(s->world, s->lander, s->legs[k], &j);
    }
    /* Gymnasium's reset returns the observation of one step(0), which draws the dispersion */
    bool terminated;
    step(s, random, 0, obs, &terminated);
    s->last_reward = 0;
}

static float step(void *state, prism_env_random *random, int action, float *obs, bool *terminated) {
    lunar *s = state;
    PRISM_ASSERT(s->world != NULL); /* reset first */
    prism_b2_body_state b = prism_b2_body_get_state(s->lander);
    const double tip[2] = {sin((double)b.angle), cos((double)b.angle)};
    const double side[2] = {-tip[1], tip[0]};
    /* two draws every step, whatever the action */
    double dispersion[2];
    for (int i = 0; i < 2; i++) dispersion[i] = draw_uniform(s, random, -1.0, +1.0) / SCALE;

    double m_power = 0.0;
    if (action == 2) {
        m_power = 1.0;
        double ox =
            tip[0] * (MAIN_ENGINE_Y_LOCATION / SCALE + 2 * dispersion[0]) + side[0] * dispersion[1];
        double oy = -tip[1] * (MAIN_ENGINE_Y_LOCATION / SCALE + 2 * dispersion[0]) -
                    side[1] * dispersion[1];
        double px = (double)b.x + ox, py = (double)b.y + oy;
        prism_b2_body_apply_linear_impulse(s->lander, (float)(-ox * MAIN_ENGINE_POWER * m_power),
                                           (float)(-oy * MAIN_ENGINE_POWER * m_power), (float)px,
                                           (float)py, true);
    }
    double s_power = 0.0;
    if (action == 1 || action == 3) {
        double direction = action - 2;
        s_power = 1.0;
        double ox = tip[0] * dispersion[0] +
                    side[0] * (3 * dispersion[1] + direction * SIDE_ENGINE_AWAY / SCALE);
        double oy = -tip[1] * dispersion[0] -
                    side[1] * (3 * dispersion[1] + direction * SIDE_ENGINE_AWAY / SCALE);
        /* 17, not SIDE_ENGINE_HEIGHT, in x: the reference's quirk (an angle-dependent torque) */
        double px = (double)b.x + ox - tip[0] * 17 / SCALE;
        double py = (double)b.y + oy + tip[1] * SIDE_ENGINE_HEIGHT / SCALE;
        prism_b2_body_apply_linear_impulse(s->lander, (float)(-ox * SIDE_ENGINE_POWER * s_power),
                                           (float)(-oy * SIDE_ENGINE_POWER * s_power), (float)px,
                                           (float)py, true);
    }

    prism_b2_world_step(s->world, 1.0f / FPS, 6 * 30, 2 * 30);

    b = prism_b2_body_get_state(s->lander);
    const double helipad_y = s->terrain.helipad_y;
    double *st = s->s;
    st[0] = ((double)b.x - VIEWPORT_W / SCALE / 2) / (VIEWPORT_W / SCALE / 2);
    st[1] = ((double)b.y - (helipad_y + LEG_DOWN / SCALE)) / (VIEWPORT_H / SCALE / 2);
    st[2] = (double)b.vx * (VIEWPORT_W / SCALE / 2) / FPS;
    st[3] = (double)b.vy * (VIEWPORT_H / SCALE / 2) / FPS;
    st[4] = (double)b.angle;
    st[5] = 20.0 * (double)b.omega / FPS;
    st[6] = s->leg_contact[0] ? 1.0 : 0.0;
    st[7] = s->leg_contact[1] ? 1.0 : 0.0;
    for (int i = 0; i < 8; i++) obs[i] = (float)st[i];

    /* ten points per leg contact: losing contact after landing costs them back */
    double shaping = -100 * sqrt(st[0] * st[0] + st[1] * st[1]) -
                     100 * sqrt(st[2] * st[2] + st[3] * st[3]) - 100 * fabs(st[4]) + 10 * st[6] +
                     10 * st[7];
    double reward = 0;
    if (s->has_prev_shaping) reward = shaping - s->prev_shaping;
    s->prev_shaping = shaping;
    s->has_prev_shaping = true;
    reward -= m_power * 0.30; /* fuel */
    reward -= s_power * 0.03;

    *terminated = false;
    if (s->game_over || fabs(st[0]) >= 1.0) {
        *terminated = true;
        reward = -100;
    }
    if (!b.awake) { /* came to rest: Box2D put the lander to sleep */
        *terminated = true;
        reward = +100;
    }
    s->last_action = action;
    s->last_reward = (float)reward;
    return (float)reward;
}

/* ---- rendering: an ASCII picture of the 20 x 13.33 world plus 2 m of sky above it (the
 * lander starts at the top edge, y = 13.33) ---- */

enum { COLS = 60, ROWS = 23 };

typedef struct text {
    char *buf;
    size_t cap, len;
} text;

static void put(text *t, const char *str) {
    size_t n = strlen(str);
    if (t->cap == 0) return;
    if (t->len + n >= t->cap) n = t->cap - 1 - t->len;
    memcpy(t->buf + t->len, str, n);
    t->len += n;
    t->buf[t->len] = 0;
}

static bool inside(const float *xy, int n, double x, double y) {
    /* convex polygon, counter-clockwise (Box2D's order): inside when left of every edge */
    for (int i = 0; i < n; i++) {
        int j = (i + 1) % n;
        double ex = (double)xy[2 * j] - (double)xy[2 * i],
               ey = (double)xy[2 * j + 1] - (double)xy[2 * i + 1];
        if (ex * (y - (double)xy[2 * i + 1]) - ey * (x - (double)xy[2 * i]) < 0) return false;
    }
    return n > 0;
}

static double ground_at(const prism_lunar_terrain *t, double x) {
    int i = (int)(x / 2.0);
    if (i < 0) i = 0;
    if (i > CHUNKS - 2) i = CHUNKS - 2;
    double f = (x - 2.0 * i) / 2.0;
    return t->smooth_y[i] + f * (t->smooth_y[i + 1] - t->smooth_y[i]);
}

static int render(const void *state, char *buf, size_t cap, bool color) {
    const lunar *s = state;
    text out = {buf, cap, 0};
    if (cap) buf[0] = 0;
    if (!s->world) {
        put(&out, "(not reset)\n");
        return (int)out.len;
    }
    const double W = VIEWPORT_W / SCALE, H = VIEWPORT_H / SCALE;
    const prism_lunar_terrain *t = &s->terrain;
    float hull[16], leg[2][16];
    int nh = prism_b2_body_polygon(s->lander, hull, 8);
    int nl[2] = {prism_b2_body_polygon(s->legs[0], leg[0], 8),
                 prism_b2_body_polygon(s->legs[1], leg[1], 8)};
    prism_b2_body_state b = prism_b2_body_get_state(s->lander);
    double tip[2] = {sin((double)b.angle), cos((double)b.angle)};
    /* flame cells: below the main engine, beside the fired orientation engine */
    double flame[2] = {-1e9, -1e9};
    if (s->last_action == 2) {
        flame[0] = (double)b.x - tip[0] * 0.75;
        flame[1] = (double)b.y - tip[1] * 0.75;
    } else if (s->last_action == 1 || s->last_action == 3) {
        double dir = s->last_action == 1 ? 1.0 : -1.0; /* left engine's nozzle is on the right */
        flame[0] = (double)b.x + dir * tip[1] * 0.9;
        flame[1] = (double)b.y - dir * tip[0] * 0.9 + tip[1] * 0.3;
    }
    const double top = H + 2.0, cw = W / COLS, ch = top / ROWS,
                 flag_top = t->helipad_y + 50 / SCALE;
    for (int r = 0; r < ROWS; r++) {
        const char *cur = NULL;
        for (int c = 0; c < COLS; c++) {
            double x = (c + 0.5) * cw, y = top - (r + 0.5) * ch;
            char cell[2] = " ";
            const char *col = NULL;
            bool pole = (fabs(x - t->helipad_x1) < cw / 2 || fabs(x - t->helipad_x2) < cw / 2) &&
                        y >= t->helipad_y && y < flag_top + ch;
            if (inside(hull, nh, x, y)) {
                cell[0] = '@', col = "\033[35m";
            } else if (inside(leg[0], nl[0], x, y) || inside(leg[1], nl[1], x, y)) {
                cell[0] = '|', col = "\033[35m";
            } else if (fabs(x - flame[0]) < cw && fabs(y - flame[1]) < ch * 0.75) {
                cell[0] = '*', col = "\033[31m";
            } else if (pole) {
                cell[0] = y >= flag_top - ch ? '>' : '|', col = "\033[33m";
            } else if (y < ground_at(t, x)) {
                bool pad = x >= t->helipad_x1 && x <= t->helipad_x2;
                cell[0] = pad ? '=' : '#', col = pad ? "\033[33m" : "\033[90m";
            }
            if (color && col != cur) {
                put(&out, col ? col : "\033[0m");
                cur = col;
            }
            put(&out, cell);
        }
        if (color && cur) put(&out, "\033[0m");
        put(&out, "\n");
    }
    char line[200];
    snprintf(line, sizeof line,
             "x=%+.2f y=%+.2f vx=%+.2f vy=%+.2f angle=%+.2f legs=%d%d reward=%+.2f%s\n", s->s[0],
             s->s[1], s->s[2], s->s[3], s->s[4], s->leg_contact[0], s->leg_contact[1],
             (double)s->last_reward,
             s->game_over ? " CRASHED"
             : !b.awake   ? " AT REST"
                          : "");
    put(&out, line);
    return (int)out.len;
}

static const char *const action_names[] = {"nothing", "left engine", "main engine", "right engine"};

const prism_env_class prism_lunar_lander_v3 = {
    .id = "LunarLander-v3",
    .aliases = "LunarLander-v2 lunarlander",
    .summary = "land on the pad between the flags (Box2D); +100 landed, -100 crashed, 1000-step "
               "limit",
    .reference = "Gymnasium 1.x LunarLander-v3 (discrete, no wind), on Box2D 2.4",
    .obs_rank = 1,
    .obs_shape = {8, 1, 1},
    .num_actions = 4,
    .action_names = action_names,
    .play_keys = "sawd",
    .heuristic = prism_lunar_lander_heuristic,
    .max_episode_steps = 1000,
    .state_bytes = sizeof(lunar),
    .destroy = destroy,
    .reset = reset,
    .step = step,
    .render = render,
};

static lunar *lunar_of(const prism_env *env) {
    return env && env->cls == &prism_lunar_lander_v3 ? env->state : NULL;
}

prism_status prism_lunar_lander_terrain(const prism_env *env, prism_lunar_terrain *out) {
    const lunar *s = lunar_of(env);
    if (!s)
        return prism_error(PRISM_ERR_INVALID, "%s is not LunarLander; terrain needs a LunarLander",
                           env && env->cls ? env->cls->id : "(null)");
    *out = s->terrain;
    return PRISM_OK;
}

prism_status prism_lunar_lander_replay(prism_env *env, const double *draws, int n) {
    lunar *s = lunar_of(env);
    if (!s)
        return prism_error(PRISM_ERR_INVALID, "%s is not LunarLander; replay needs a LunarLander",
                           env && env->cls ? env->cls->id : "(null)");
    s->replay = draws;
    s->replay_n = n;
    s->replay_pos = 0;
    return PRISM_OK;
}

int prism_lunar_lander_box2d_version(void) {
    return prism_b2_version();
}

int prism_lunar_lander_heuristic(const float *obs) {
    double s[8];
    for (int i = 0; i < 8; i++) s[i] = (double)obs[i];
    double angle_targ = s[0] * 0.5 + s[2] * 1.0; /* point towards the centre */
    if (angle_targ > 0.4) angle_targ = 0.4;      /* more than 22 degrees is bad */
    if (angle_targ < -0.4) angle_targ = -0.4;
    double hover_targ = 0.55 * fabs(s[0]); /* the further out, the higher */
    double angle_todo = (angle_targ - s[4]) * 0.5 - s[5] * 1.0;
    double hover_todo = (hover_targ - s[1]) * 0.5 - s[3] * 0.5;
    if (s[6] != 0 || s[7] != 0) { /* legs down: only slow the fall */
        angle_todo = 0;
        hover_todo = -s[3] * 0.5;
    }
    if (hover_todo > fabs(angle_todo) && hover_todo > 0.05) return 2;
    if (angle_todo < -0.05) return 3;
    if (angle_todo > +0.05) return 1;
    return 0;
}
