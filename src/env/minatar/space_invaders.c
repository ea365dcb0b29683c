/* MinAtar Space Invaders: MinAtar 1.0.15 (commit 4241f246) space_invaders.py, step for step.
 *
 * A cannon on the bottom row shoots at a 4x6 block of aliens that marches sideways and steps
 * down at the edges; the alien nearest the cannon shoots every 10 steps. +1 per alien hit;
 * the episode ends when an enemy bullet or an alien reaches the cannon, or the block reaches
 * the bottom row as it turns. No random draws besides the sticky-action rule. Difficulty ramp
 * (on by default): each cleared wave makes the aliens move one step faster (every 12 steps at
 * first, down to every 6).
 * Channels: 0 cannon, 1 alien, 2 alien moving left, 3 alien moving right, 4 friendly bullet,
 * 5 enemy bullet.
 *
 * The 10x10 maps are rows of bits (bit x = column x), which makes the reference's np.roll
 * calls shifts and its counts popcounts.
 */
#include "minatar.h"

#include <stdio.h>
#include <string.h>

enum {
    C = 6,
    CH_CANNON = 0,
    CH_ALIEN = 1,
    CH_LEFT = 2,
    CH_RIGHT = 3,
    CH_FBULLET = 4,
    CH_EBULLET = 5
};
enum { SHOT_COOL_DOWN = 5, ENEMY_MOVE_INTERVAL = 12, ENEMY_SHOT_INTERVAL = 10 };
#define ROW_MASK 0x3FFu
#define WAVE_ROW 0xFCu /* columns 2..7 */

typedef struct space_invaders {
    prism_minatar_common c;
    uint16_t alien[10], f_bullet[10], e_bullet[10]; /* (10 rows) of 10 column bits */
    int pos, alien_dir, enemy_move_interval, alien_move_timer, alien_shot_timer, ramp_index,
        shot_timer;
    bool terminal;
} space_invaders;

static void new_wave(space_invaders *g) {
    for (int y = 0; y < 4; y++) g->alien[y] = WAVE_ROW;
}

static void game_reset(space_invaders *g, prism_env_random *r) {
    (void)r;
    g->pos = 5;
    memset(g->f_bullet, 0, sizeof g->f_bullet);
    memset(g->e_bullet, 0, sizeof g->e_bullet);
    memset(g->alien, 0, sizeof g->alien);
    new_wave(g);
    g->alien_dir = -1;
    g->enemy_move_interval = ENEMY_MOVE_INTERVAL;
    g->alien_move_timer = g->enemy_move_interval;
    g->alien_shot_timer = ENEMY_SHOT_INTERVAL;
    g->ramp_index = 0;
    g->shot_timer = 0;
    g->terminal = false;
}

static int count_aliens(const space_invaders *g) {
    int n = 0;
    for (int y = 0; y < 10; y++) n += __builtin_popcount(g->alien[y]);
    return n;
}

static uint16_t columns(const space_invaders *g) {
    uint16_t any = 0;
    for (int y = 0; y < 10; y++) any |= g->alien[y];
    return any;
}

static int game_act(space_invaders *g, prism_env_random *r, int a) {
    (void)r;
    int reward = 0;
    if (g->terminal) return 0;
    const uint16_t cannon = (uint16_t)(1u << g->pos);
    if (a == MINATAR_FIRE && g->shot_timer == 0) {
        g->f_bullet[9] |= cannon;
        g->shot_timer = SHOT_COOL_DOWN;
    } else if (a == MINATAR_LEFT) {
        g->pos = g->pos > 0 ? g->pos - 1 : 0;
    } else if (a == MINATAR_RIGHT) {
        g->pos = g->pos < 9 ? g->pos + 1 : 9;
    }
    const uint16_t at = (uint16_t)(1u << g->pos);

    /* friendly bullets up one row (np.roll -1 then the wrapped bottom row cleared) */
    memmove(g->f_bullet, g->f_bullet + 1, sizeof(uint16_t) * 9);
    g->f_bullet[9] = 0;
    /* enemy bullets down one row (np.roll +1 then the wrapped top row cleared) */
    memmove(g->e_bullet + 1, g->e_bullet, sizeof(uint16_t) * 9);
    g->e_bullet[0] = 0;
    if (g->e_bullet[9] & at) g->terminal = true;

    if (g->alien[9] & at) g->terminal = true;
    if (g->alien_move_timer == 0) {
        int n = count_aliens(g);
        g->alien_move_timer = n < g->enemy_move_interval ? n : g->enemy_move_interval;
        uint16_t cols = columns(g);
        if (((cols & 1u) && g->alien_dir < 0) || ((cols & (1u << 9)) && g->alien_dir > 0)) {
            g->alien_dir = -g->alien_dir;
            if (g->alien[9]) g->terminal = true;
            /* np.roll(+1, axis=0): the bottom row wraps to the top */
            uint16_t bottom = g->alien[9];
            memmove(g->alien + 1, g->alien, sizeof(uint16_t) * 9);
            g->alien[0] = bottom;
        } else {
            /* np.roll(alien_dir, axis=1), with the wrap-around the reference would do */
            for (int y = 0; y < 10; y++) {
                uint16_t row = g->alien[y];
                row = g->alien_dir > 0 ? (uint16_t)((row << 1) | (row >> 9))
                                       : (uint16_t)((row >> 1) | ((row & 1u) << 9));
                g->alien[y] = row & ROW_MASK;
            }
        }
        if (g->alien[9] & at) g->terminal = true;
    }
    if (g->alien_shot_timer == 0) {
        g->alien_shot_timer = ENEMY_SHOT_INTERVAL;
        /* the nearest non-empty column (ties to the left: a stable sort of 0..9 by distance),
         * and its lowest alien */
        uint16_t cols = columns(g);
        PRISM_ASSERT(cols != 0); /* a wave is refilled at the end of every step */
        for (int d = 0; d < 10; d++) {
            int x = g->pos - d;
            if (x < 0 || !(cols & (1u << x))) x = g->pos + d;
            if (x > 9 || !(cols & (1u << x))) continue;
            int y = 9;
            while (!(g->alien[y] & (1u << x))) y--;
            g->e_bullet[y] |= (uint16_t)(1u << x);
            break;
        }
    }
    for (int y = 0; y < 10; y++) {
        uint16_t kill = g->alien[y] & g->f_bullet[y];
        reward += __builtin_popcount(kill);
        g->alien[y] &= (uint16_t)~kill;
        g->f_bullet[y] &= (uint16_t)~kill;
    }

    g->shot_timer -= g->shot_timer > 0;
    g->alien_move_timer -= 1;
    g->alien_shot_timer -= 1;
    if (count_aliens(g) == 0) {
        if (g->enemy_move_interval > 6 && g->c.ramping) {
            g->enemy_move_interval -= 1;
            g->ramp_index += 1;
        }
        new_wave(g);
    }
    return reward;
}

static void game_observe(const space_invaders *g, float *obs) {
    memset(obs, 0, sizeof(float) * 100 * C);
    MINATAR_AT(obs, C, 9, g->pos, CH_CANNON) = 1.0f;
    const int dir_ch = g->alien_dir < 0 ? CH_LEFT : CH_RIGHT;
    for (int y = 0; y < 10; y++) {
        uint16_t al = g->alien[y], fb = g->f_bullet[y], eb = g->e_bullet[y];
        if (!(al | fb | eb)) continue;
        for (int x = 0; x < 10; x++) {
            float *cell = obs + (y * 10 + x) * C;
            if (al >> x & 1u) cell[CH_ALIEN] = cell[dir_ch] = 1.0f;
            if (fb >> x & 1u) cell[CH_FBULLET] = 1.0f;
            if (eb >> x & 1u) cell[CH_EBULLET] = 1.0f;
        }
    }
}

static int game_status(const space_invaders *g, char *buf, size_t cap) {
    return snprintf(buf, cap, "aliens %d moving %s, wave speed %d%s", count_aliens(g),
                    g->alien_dir < 0 ? "left" : "right", g->enemy_move_interval,
                    g->terminal ? "  GAME OVER" : "");
}

static const prism_minatar_glyph glyphs[C] = {
    {"cannon", 'A', 44},      {"alien", 'W', 42},           {"alien_left", '<', 42},
    {"alien_right", '>', 42}, {"friendly_bullet", '|', 43}, {"enemy_bullet", '!', 41}};
static const int minimal[] = {MINATAR_NOOP, MINATAR_LEFT, MINATAR_RIGHT, MINATAR_FIRE};
static const char *const minimal_names[] = {"no-op", "left", "right", "fire"};

PRISM_MINATAR_GLUE(space_invaders, space_invaders, C, glyphs, minimal, game_reset, game_act,
                   game_observe, game_status)

const prism_env_class prism_minatar_space_invaders = PRISM_MINATAR_CLASS(
    space_invaders, space_invaders, C, "space_invaders",
    "MinAtar/SpaceInvaders-v1 MinAtar/SpaceInvaders-v0 minatar-space_invaders spaceinvaders",
    "MinAtar Space Invaders: shoot the marching aliens; +1 per alien", prism_minatar_action_names,
    ".awdsf", PRISM_MINATAR_ACTIONS);
const prism_env_class prism_minatar_space_invaders_minimal = PRISM_MINATAR_CLASS(
    space_invaders, space_invaders, C, "space_invaders-minimal", "MinAtar/SpaceInvaders-minimal",
    "MinAtar Space Invaders with its minimal action set (no-op, left, right, fire)", minimal_names,
    ".adf", 4);
