/* MinAtar Freeway: MinAtar 1.0.15 (commit 4241f246) freeway.py, step for step.
 *
 * A chicken crosses eight lanes of traffic from the bottom row to the top: +1 per crossing,
 * after which the cars get new random speeds and directions. A car hit sends the chicken back
 * to the bottom. The chicken moves at most once every 3 steps. The episode ends after 2500
 * steps (the game's own rule, not a time limit: it terminates). Draws: randint(1, 6) eight
 * times then rand() eight times, at reset and after every crossing. No difficulty ramp.
 * Channels: 0 chicken, 1 car, 2-6 the cell behind a car, by the car's speed (1 to 5; speed
 * 1 moves every step, 5 every fifth).
 */
#include "minatar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { C = 7, CH_CHICKEN = 0, CH_CAR = 1, CH_SPEED1 = 2 };
enum { PLAYER_SPEED = 3, TIME_LIMIT = 2500 };

typedef struct freeway {
    prism_minatar_common c;
    int cars[8][4]; /* x, y, timer, signed speed (as the reference's lists) */
    int pos;        /* chicken row (column 4) */
    int move_timer, terminate_timer;
    bool terminal;
} freeway;

static void randomize_cars(freeway *g, prism_env_random *r, bool initialize) {
    int speeds[8], dirs[8];
    for (int i = 0; i < 8; i++) speeds[i] = prism_minatar_randint(&g->c, r, 1, 6);
    for (int i = 0; i < 8; i++) {
        /* np.sign(rand() - 0.5): exactly 0.5 gives 0, a car that never leaves its cell */
        double d = prism_minatar_rand(&g->c, r) - 0.5;
        dirs[i] = d > 0 ? 1 : d < 0 ? -1 : 0;
    }
    for (int i = 0; i < 8; i++) {
        int s = speeds[i] * dirs[i];
        if (initialize) {
            g->cars[i][0] = 0;
            g->cars[i][1] = i + 1;
        }
        g->cars[i][2] = abs(s);
        g->cars[i][3] = s;
    }
}

static void game_reset(freeway *g, prism_env_random *r) {
    randomize_cars(g, r, true);
    g->pos = 9;
    g->move_timer = PLAYER_SPEED;
    g->terminate_timer = TIME_LIMIT;
    g->terminal = false;
}

static int game_act(freeway *g, prism_env_random *r, int a) {
    int reward = 0;
    if (g->terminal) return 0;
    if (a == MINATAR_UP && g->move_timer == 0) {
        g->move_timer = PLAYER_SPEED;
        g->pos = g->pos > 0 ? g->pos - 1 : 0;
    } else if (a == MINATAR_DOWN && g->move_timer == 0) {
        g->move_timer = PLAYER_SPEED;
        g->pos = g->pos < 9 ? g->pos + 1 : 9;
    }
    if (g->pos == 0) {
        reward += 1;
        randomize_cars(g, r, false);
        g->pos = 9;
    }
    for (int i = 0; i < 8; i++) {
        int *car = g->cars[i];
        if (car[0] == 4 && car[1] == g->pos) g->pos = 9;
        if (car[2] == 0) {
            car[2] = abs(car[3]);
            car[0] += car[3] > 0 ? 1 : -1;
            if (car[0] < 0)
                car[0] = 9;
            else if (car[0] > 9)
                car[0] = 0;
            if (car[0] == 4 && car[1] == g->pos) g->pos = 9;
        } else {
            car[2] -= 1;
        }
    }
    g->move_timer -= g->move_timer > 0;
    g->terminate_timer -= 1;
    if (g->terminate_timer < 0) g->terminal = true;
    return reward;
}

static void game_observe(const freeway *g, float *obs) {
    memset(obs, 0, sizeof(float) * 100 * C);
    MINATAR_AT(obs, C, g->pos, 4, CH_CHICKEN) = 1.0f;
    int trail = CH_SPEED1; /* the reference reuses the previous car's channel for speed 0 */
    for (int i = 0; i < 8; i++) {
        const int *car = g->cars[i];
        MINATAR_AT(obs, C, car[1], car[0], CH_CAR) = 1.0f;
        int back_x = car[3] > 0 ? car[0] - 1 : car[0] + 1;
        if (back_x < 0)
            back_x = 9;
        else if (back_x > 9)
            back_x = 0;
        int speed = abs(car[3]);
        if (speed >= 1 && speed <= 5) trail = CH_SPEED1 + speed - 1;
        MINATAR_AT(obs, C, car[1], back_x, trail) = 1.0f;
    }
}

static int game_status(const freeway *g, char *buf, size_t cap) {
    return snprintf(buf, cap, "steps left %d%s", g->terminate_timer < 0 ? 0 : g->terminate_timer,
                    g->terminal ? "  TIME UP" : "");
}

static const prism_minatar_glyph glyphs[C] = {
    {"chicken", 'C', 43}, {"car", '=', 41},    {"speed1", '1', 44}, {"speed2", '2', 46},
    {"speed3", '3', 42},  {"speed4", '4', 45}, {"speed5", '5', 100}};
static const int minimal[] = {MINATAR_NOOP, MINATAR_UP, MINATAR_DOWN};
static const char *const minimal_names[] = {"no-op", "up", "down"};

PRISM_MINATAR_GLUE(freeway, freeway, C, glyphs, minimal, game_reset, game_act, game_observe,
                   game_status)

const prism_env_class prism_minatar_freeway = PRISM_MINATAR_CLASS(
    freeway, freeway, C, "freeway", "MinAtar/Freeway-v1 MinAtar/Freeway-v0 minatar-freeway",
    "MinAtar Freeway: cross the road; +1 per crossing, 2500 steps", prism_minatar_action_names,
    ".awdsf", PRISM_MINATAR_ACTIONS);
const prism_env_class prism_minatar_freeway_minimal = PRISM_MINATAR_CLASS(
    freeway, freeway, C, "freeway-minimal", "MinAtar/Freeway-minimal",
    "MinAtar Freeway with its minimal action set (no-op, up, down)", minimal_names, ".ws", 3);
