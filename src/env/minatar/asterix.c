/* MinAtar Asterix: MinAtar 1.0.15 (commit 4241f246) asterix.py, step for step.
 *
 * The player moves in rows 1-8; enemies and gold cross the eight rows (one per row at most)
 * from either side. Gold gives +1; touching an enemy ends the episode. Spawning draws
 * rand() (side), rand() (gold with probability 1/3) and, when a row is free, randint(free
 * rows) for the row. Difficulty ramp (on by default): every 100 steps the spawn interval
 * shortens by one (from 10 down to 1) and, every other time, the move interval too (from 5
 * down to 1).
 * Channels: 0 player, 1 enemy, 2 trail (the cell an object just left), 3 gold.
 */
#include "minatar.h"

#include <stdio.h>
#include <string.h>

enum { C = 4, CH_PLAYER = 0, CH_ENEMY = 1, CH_TRAIL = 2, CH_GOLD = 3 };
enum { RAMP_INTERVAL = 100, INIT_SPAWN_SPEED = 10, INIT_MOVE_INTERVAL = 5 };

typedef struct entity {
    bool alive; /* the reference's slot is not None */
    int x;      /* row is slot + 1 */
    bool lr;    /* moving right */
    bool gold;
} entity;

typedef struct asterix {
    prism_minatar_common c;
    int player_x, player_y;
    entity entities[8];
    int spawn_speed, spawn_timer, move_speed, move_timer, ramp_timer, ramp_index;
    bool terminal;
} asterix;

static void spawn_entity(asterix *g, prism_env_random *r) {
    bool lr = prism_minatar_rand(&g->c, r) < 1.0 / 2.0;
    bool gold = prism_minatar_rand(&g->c, r) < 1.0 / 3.0;
    int free_slots[8], n = 0;
    for (int i = 0; i < 8; i++)
        if (!g->entities[i].alive) free_slots[n++] = i;
    if (n == 0) return;
    int slot = free_slots[prism_minatar_randint(&g->c, r, 0, n)];
    g->entities[slot] = (entity){.alive = true, .x = lr ? 0 : 9, .lr = lr, .gold = gold};
}

static void game_reset(asterix *g, prism_env_random *r) {
    (void)r;
    g->player_x = 5;
    g->player_y = 5;
    memset(g->entities, 0, sizeof g->entities);
    g->spawn_speed = INIT_SPAWN_SPEED;
    g->spawn_timer = g->spawn_speed;
    g->move_speed = INIT_MOVE_INTERVAL;
    g->move_timer = g->move_speed;
    g->ramp_timer = RAMP_INTERVAL;
    g->ramp_index = 0;
    g->terminal = false;
}

/* An entity on the player's cell: gold is collected (+1), an enemy ends the episode. */
static int touch(asterix *g, int i) {
    entity *e = &g->entities[i];
    if (e->x != g->player_x || i + 1 != g->player_y) return 0;
    if (e->gold) {
        e->alive = false;
        return 1;
    }
    g->terminal = true;
    return 0;
}

static int game_act(asterix *g, prism_env_random *r, int a) {
    int reward = 0;
    if (g->terminal) return 0;
    if (g->spawn_timer == 0) {
        spawn_entity(g, r);
        g->spawn_timer = g->spawn_speed;
    }
    if (a == MINATAR_LEFT)
        g->player_x = g->player_x > 0 ? g->player_x - 1 : 0;
    else if (a == MINATAR_RIGHT)
        g->player_x = g->player_x < 9 ? g->player_x + 1 : 9;
    else if (a == MINATAR_UP)
        g->player_y = g->player_y > 1 ? g->player_y - 1 : 1;
    else if (a == MINATAR_DOWN)
        g->player_y = g->player_y < 8 ? g->player_y + 1 : 8;

    for (int i = 0; i < 8; i++)
        if (g->entities[i].alive) reward += touch(g, i);
    if (g->move_timer == 0) {
        g->move_timer = g->move_speed;
        for (int i = 0; i < 8; i++) {
            entity *e = &g->entities[i];
            if (!e->alive) continue;
            e->x += e->lr ? 1 : -1;
            if (e->x < 0 || e->x > 9)
                e->alive = false; /* off the board: it cannot touch the player either */
            else
                reward += touch(g, i);
        }
    }
    g->spawn_timer -= 1;
    g->move_timer -= 1;

    if (g->c.ramping && (g->spawn_speed > 1 || g->move_speed > 1)) {
        if (g->ramp_timer >= 0) {
            g->ramp_timer -= 1;
        } else {
            if (g->move_speed > 1 && g->ramp_index % 2) g->move_speed -= 1;
            if (g->spawn_speed > 1) g->spawn_speed -= 1;
            g->ramp_index += 1;
            g->ramp_timer = RAMP_INTERVAL;
        }
    }
    return reward;
}

static void game_observe(const asterix *g, float *obs) {
    memset(obs, 0, sizeof(float) * 100 * C);
    MINATAR_AT(obs, C, g->player_y, g->player_x, CH_PLAYER) = 1.0f;
    for (int i = 0; i < 8; i++) {
        const entity *e = &g->entities[i];
        if (!e->alive) continue;
        MINATAR_AT(obs, C, i + 1, e->x, e->gold ? CH_GOLD : CH_ENEMY) = 1.0f;
        int back_x = e->lr ? e->x - 1 : e->x + 1;
        if (back_x >= 0 && back_x <= 9) MINATAR_AT(obs, C, i + 1, back_x, CH_TRAIL) = 1.0f;
    }
}

static int game_status(const asterix *g, char *buf, size_t cap) {
    return snprintf(buf, cap, "difficulty %d (spawn every %d, move every %d)%s", g->ramp_index,
                    g->spawn_speed, g->move_speed, g->terminal ? "  GAME OVER" : "");
}

static const prism_minatar_glyph glyphs[C] = {
    {"player", 'A', 44}, {"enemy", 'X', 41}, {"trail", '.', 100}, {"gold", '$', 43}};
static const int minimal[] = {MINATAR_NOOP, MINATAR_LEFT, MINATAR_UP, MINATAR_RIGHT, MINATAR_DOWN};
static const char *const minimal_names[] = {"no-op", "left", "up", "right", "down"};

PRISM_MINATAR_GLUE(asterix, asterix, C, glyphs, minimal, game_reset, game_act, game_observe,
                   game_status)

const prism_env_class prism_minatar_asterix = PRISM_MINATAR_CLASS(
    asterix, asterix, C, "asterix", "MinAtar/Asterix-v1 MinAtar/Asterix-v0 minatar-asterix",
    "MinAtar Asterix: collect gold, dodge enemies; +1 per gold", prism_minatar_action_names,
    ".awdsf", PRISM_MINATAR_ACTIONS);
const prism_env_class prism_minatar_asterix_minimal =
    PRISM_MINATAR_CLASS(asterix, asterix, C, "asterix-minimal", "MinAtar/Asterix-minimal",
                        "MinAtar Asterix with its minimal action set (no-op and the four moves)",
                        minimal_names, ".awds", 5);
