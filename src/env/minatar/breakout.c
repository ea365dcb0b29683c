/* MinAtar Breakout: MinAtar 1.0.15 (commit 4241f246) breakout.py, step for step.
 *
 * A paddle on the bottom row, a ball moving diagonally, three rows of bricks. +1 per brick;
 * the episode ends when the ball passes the paddle. When the bricks are gone, a new wall
 * appears as the ball reaches the bottom row. One draw per episode: randint(2) at reset picks
 * the ball's starting side. No difficulty ramp (the option is accepted and has no effect,
 * as in the reference).
 * Channels: 0 paddle, 1 ball, 2 trail (the ball's previous cell), 3 brick.
 */
#include "minatar.h"

#include <stdio.h>
#include <string.h>

enum { C = 4, CH_PADDLE = 0, CH_BALL = 1, CH_TRAIL = 2, CH_BRICK = 3 };

typedef struct breakout {
    prism_minatar_common c;
    int ball_x, ball_y, ball_dir; /* dir 0: up-left, 1: up-right, 2: down-right, 3: down-left */
    int last_x, last_y;
    int pos;            /* paddle column */
    uint16_t brick[10]; /* (10 rows) of column bits: bit x set = a brick at column x */
    int bricks;         /* count of brick cells (the reference's count_nonzero) */
    bool strike, terminal;
} breakout;

static void fill_wall(breakout *g) {
    for (int y = 1; y < 4; y++) g->brick[y] = 0x3FF;
    g->bricks = 30;
}

static void game_reset(breakout *g, prism_env_random *r) {
    g->ball_y = 3;
    int start = prism_minatar_randint(&g->c, r, 0, 2);
    g->ball_x = start ? 9 : 0;
    g->ball_dir = start ? 3 : 2;
    g->pos = 4;
    memset(g->brick, 0, sizeof g->brick);
    fill_wall(g);
    g->strike = false;
    g->last_x = g->ball_x;
    g->last_y = g->ball_y;
    g->terminal = false;
}

static int game_act(breakout *g, prism_env_random *r, int a) {
    (void)r;
    int reward = 0;
    if (g->terminal) return 0;
    if (a == MINATAR_LEFT)
        g->pos = g->pos > 0 ? g->pos - 1 : 0;
    else if (a == MINATAR_RIGHT)
        g->pos = g->pos < 9 ? g->pos + 1 : 9;

    g->last_x = g->ball_x;
    g->last_y = g->ball_y;
    static const int dx[4] = {-1, 1, 1, -1}, dy[4] = {-1, -1, 1, 1};
    int new_x = g->ball_x + dx[g->ball_dir], new_y = g->ball_y + dy[g->ball_dir];

    static const int flip_x[4] = {1, 0, 3, 2}, flip_y[4] = {3, 2, 1, 0}, flip_xy[4] = {2, 3, 0, 1};
    bool strike_toggle = false;
    if (new_x < 0 || new_x > 9) {
        new_x = new_x < 0 ? 0 : 9;
        g->ball_dir = flip_x[g->ball_dir];
    }
    if (new_y < 0) {
        new_y = 0;
        g->ball_dir = flip_y[g->ball_dir];
    } else if (g->brick[new_y] >> new_x & 1u) {
        strike_toggle = true;
        if (!g->strike) {
            reward += 1;
            g->strike = true;
            g->brick[new_y] &= (uint16_t) ~(1u << new_x);
            g->bricks--;
            new_y = g->last_y;
            g->ball_dir = flip_y[g->ball_dir];
        }
    } else if (new_y == 9) {
        if (g->bricks == 0) fill_wall(g);
        if (g->ball_x == g->pos) {
            g->ball_dir = flip_y[g->ball_dir];
            new_y = g->last_y;
        } else if (new_x == g->pos) {
            g->ball_dir = flip_xy[g->ball_dir];
            new_y = g->last_y;
        } else {
            g->terminal = true;
        }
    }
    if (!strike_toggle) g->strike = false;
    g->ball_x = new_x;
    g->ball_y = new_y;
    return reward;
}

static void game_observe(const breakout *g, float *obs) {
    memset(obs, 0, sizeof(float) * 100 * C);
    MINATAR_AT(obs, C, g->ball_y, g->ball_x, CH_BALL) = 1.0f;
    MINATAR_AT(obs, C, 9, g->pos, CH_PADDLE) = 1.0f;
    MINATAR_AT(obs, C, g->last_y, g->last_x, CH_TRAIL) = 1.0f;
    /* bricks only ever exist in rows 1-3 (walls fill them; nothing adds any elsewhere);
     * branch-free stores: this loop is most of the step's cost */
    for (int y = 1; y < 4; y++) {
        unsigned row = g->brick[y];
        float *cell = obs + y * 10 * C + CH_BRICK;
        for (int x = 0; x < 10; x++) cell[x * C] = (float)(row >> x & 1u);
    }
}

static int game_status(const breakout *g, char *buf, size_t cap) {
    return snprintf(buf, cap, "bricks left %d%s", g->bricks, g->terminal ? "  GAME OVER" : "");
}

static const prism_minatar_glyph glyphs[C] = {
    {"paddle", 'P', 47}, {"ball", 'o', 43}, {"trail", '.', 100}, {"brick", '#', 41}};
static const int minimal[] = {MINATAR_NOOP, MINATAR_LEFT, MINATAR_RIGHT};
static const char *const minimal_names[] = {"no-op", "left", "right"};

PRISM_MINATAR_GLUE(breakout, breakout, C, glyphs, minimal, game_reset, game_act, game_observe,
                   game_status)

const prism_env_class prism_minatar_breakout = PRISM_MINATAR_CLASS(
    breakout, breakout, C, "breakout", "MinAtar/Breakout-v1 MinAtar/Breakout-v0 minatar-breakout",
    "MinAtar Breakout: bounce the ball into the bricks; +1 per brick", prism_minatar_action_names,
    ".awdsf", PRISM_MINATAR_ACTIONS);
const prism_env_class prism_minatar_breakout_minimal = PRISM_MINATAR_CLASS(
    breakout, breakout, C, "breakout-minimal", "MinAtar/Breakout-minimal",
    "MinAtar Breakout with its minimal action set (no-op, left, right)", minimal_names, ".ad", 3);
