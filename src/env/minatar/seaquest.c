/* MinAtar Seaquest: MinAtar 1.0.15 (commit 4241f246) seaquest.py, step for step.
 *
 * A submarine shoots enemy fish and subs (+1 each), picks up divers (up to 6), and must
 * surface before its oxygen (200 steps) runs out; surfacing with no diver ends the episode,
 * with 6 it pays oxygen * 10 // 200. Enemy subs shoot every 10 steps. Touching an enemy or a
 * bullet ends the episode. Draws: an enemy spawn takes rand() (side), rand() (a sub with
 * probability 1/3) and randint(1, 9) (row); a diver spawn takes rand() and randint(1, 9).
 * Difficulty ramp (on by default): each surfacing shortens the enemy spawn interval by one
 * (20 down to 1) and, every other time, the enemies' move interval (5 down to 2).
 * Channels: 0 sub front, 1 sub back, 2 friendly bullet, 3 trail, 4 enemy bullet, 5 enemy fish,
 * 6 enemy sub, 7 oxygen gauge, 8 diver gauge, 9 diver.
 *
 * Kept from the reference on purpose, because parity needs them: surfacing with 6 divers
 * leaves the count at -1 (it is zeroed, then decremented), so the next surfacing does not end
 * the episode; an enemy sub that is shot or leaves the board can still fire in that step.
 *
 * The reference keeps its objects in Python lists that it edits while iterating them in
 * reverse, and removes with list.remove(), which deletes the first element *equal by value*.
 * To follow it exactly even when two objects are equal, each list here holds handles into a
 * pool of objects: iteration walks handles the way Python's reversed() walks indices, and
 * removal searches by value.
 */
#include "minatar.h"

#include <stdio.h>
#include <string.h>

enum { C = 10 };
enum {
    CH_SUB_FRONT,
    CH_SUB_BACK,
    CH_FBULLET,
    CH_TRAIL,
    CH_EBULLET,
    CH_FISH,
    CH_ESUB,
    CH_OXYGEN,
    CH_DIVER_GAUGE,
    CH_DIVER
};
enum {
    RAMP_INTERVAL = 100,
    MAX_OXYGEN = 200,
    INIT_SPAWN_SPEED = 20,
    DIVER_SPAWN_SPEED = 30,
    INIT_MOVE_INTERVAL = 5,
    SHOT_COOL_DOWN = 5,
    ENEMY_SHOT_INTERVAL = 10,
    DIVER_MOVE_INTERVAL = 5
};
/* Objects alive at once stay far below this (enemies spawn at most once a step and cross in
 * at most ~30 steps at full difficulty); overflowing it is asserted. */
enum { CAP = 96 };
_Static_assert(CAP <= 256, "handles are uint8_t");
enum { X, Y, DIR, TIMER, SHOT }; /* object fields; DIR: moving right */

typedef struct objects {
    int n, nf;         /* live handles; fields compared by remove() */
    uint8_t list[CAP]; /* handles in list order */
    int nfree;
    uint8_t free_[CAP];
    int8_t obj[CAP][5];
} objects;

typedef struct seaquest {
    prism_minatar_common c;
    int oxygen, diver_count, sub_x, sub_y;
    bool sub_or; /* facing right */
    objects f_bullets, e_bullets, e_fish, e_subs, divers;
    int e_spawn_speed, e_spawn_timer, d_spawn_timer, move_speed, ramp_index, shot_timer;
    bool surface, terminal;
} seaquest;

static void objects_clear(objects *o, int nf) {
    o->n = 0;
    o->nf = nf;
    o->nfree = CAP;
    for (int i = 0; i < CAP; i++) o->free_[i] = (uint8_t)(CAP - 1 - i);
}

static void objects_append(objects *o, int x, int y, bool dir, int timer, int shot) {
    PRISM_ASSERT(o->n < CAP && o->nfree > 0);
    int h = o->free_[--o->nfree];
    int8_t *v = o->obj[h];
    v[X] = (int8_t)x, v[Y] = (int8_t)y, v[DIR] = dir, v[TIMER] = (int8_t)timer;
    v[SHOT] = (int8_t)shot;
    o->list[o->n++] = (uint8_t)h;
}

/* list.remove(value): the first element equal to object h, by value. */
static void objects_remove(objects *o, int h) {
    const int8_t *v = o->obj[h];
    for (int i = 0; i < o->n; i++) {
        const int8_t *w = o->obj[o->list[i]];
        if (memcmp(v, w, (size_t)o->nf) == 0) {
            o->free_[o->nfree++] = o->list[i];
            memmove(o->list + i, o->list + i + 1, (size_t)(o->n - i - 1));
            o->n--;
            return;
        }
    }
    PRISM_ASSERT(!"remove of an object not in its list"); /* Python raises ValueError */
}

static bool at(const int8_t *v, int x, int y) {
    return v[X] == x && v[Y] == y;
}

static void game_reset(seaquest *g, prism_env_random *r) {
    (void)r;
    g->oxygen = MAX_OXYGEN;
    g->diver_count = 0;
    g->sub_x = 5;
    g->sub_y = 0;
    g->sub_or = false;
    objects_clear(&g->f_bullets, 3);
    objects_clear(&g->e_bullets, 3);
    objects_clear(&g->e_fish, 4);
    objects_clear(&g->e_subs, 5);
    objects_clear(&g->divers, 4);
    g->e_spawn_speed = INIT_SPAWN_SPEED;
    g->e_spawn_timer = g->e_spawn_speed;
    g->d_spawn_timer = DIVER_SPAWN_SPEED;
    g->move_speed = INIT_MOVE_INTERVAL;
    g->ramp_index = 0;
    g->shot_timer = 0;
    g->surface = true;
    g->terminal = false;
}

static bool opposite_in_row(const objects *o, int y, bool lr) {
    for (int i = 0; i < o->n; i++) {
        const int8_t *z = o->obj[o->list[i]];
        if (z[Y] == y && (bool)z[DIR] != lr) return true;
    }
    return false;
}

static void spawn_enemy(seaquest *g, prism_env_random *r) {
    bool lr = prism_minatar_rand(&g->c, r) < 1.0 / 2.0;
    bool is_sub = prism_minatar_rand(&g->c, r) < 1.0 / 3.0;
    int x = lr ? 0 : 9;
    int y = prism_minatar_randint(&g->c, r, 1, 9);
    /* no spawn in a row where something moves the other way */
    if (opposite_in_row(&g->e_subs, y, lr) || opposite_in_row(&g->e_fish, y, lr)) return;
    if (is_sub)
        objects_append(&g->e_subs, x, y, lr, g->move_speed, ENEMY_SHOT_INTERVAL);
    else
        objects_append(&g->e_fish, x, y, lr, g->move_speed, 0);
}

static void spawn_diver(seaquest *g, prism_env_random *r) {
    bool lr = prism_minatar_rand(&g->c, r) < 1.0 / 2.0;
    int x = lr ? 0 : 9;
    int y = prism_minatar_randint(&g->c, r, 1, 9);
    objects_append(&g->divers, x, y, lr, DIVER_MOVE_INTERVAL, 0);
}

/* The first friendly bullet on v's cell is removed (+1); returns whether one was. */
static bool shot_by_bullet(seaquest *g, const int8_t *v) {
    objects *fb = &g->f_bullets;
    for (int i = 0; i < fb->n; i++) {
        int h = fb->list[i];
        if (at(fb->obj[h], v[X], v[Y])) {
            objects_remove(fb, h);
            return true;
        }
    }
    return false;
}

/* Reversed iteration as Python's reversed(list) does it while the list shrinks: an index
 * that walks down and stops as soon as it is out of range. */
#define FOR_REVERSED(o, h)                                                                         \
    for (int i_ = (o)->n - 1, h = 0; i_ >= 0 && i_ < (o)->n && (h = (o)->list[i_], 1); i_--)

static int surface(seaquest *g) {
    int r = 0;
    g->surface = true;
    if (g->diver_count == 6) {
        g->diver_count = 0;
        r = g->oxygen * 10 / MAX_OXYGEN; /* oxygen > 0 here, so / is Python's // */
    }
    g->oxygen = MAX_OXYGEN;
    g->diver_count -= 1;
    if (g->c.ramping && (g->e_spawn_speed > 1 || g->move_speed > 2)) {
        if (g->move_speed > 2 && g->ramp_index % 2) g->move_speed -= 1;
        if (g->e_spawn_speed > 1) g->e_spawn_speed -= 1;
        g->ramp_index += 1;
    }
    return r;
}

static int game_act(seaquest *g, prism_env_random *r, int a) {
    int reward = 0;
    if (g->terminal) return 0;
    if (g->e_spawn_timer == 0) {
        spawn_enemy(g, r);
        g->e_spawn_timer = g->e_spawn_speed;
    }
    if (g->d_spawn_timer == 0) {
        spawn_diver(g, r);
        g->d_spawn_timer = DIVER_SPAWN_SPEED;
    }
    if (a == MINATAR_FIRE && g->shot_timer == 0) {
        objects_append(&g->f_bullets, g->sub_x, g->sub_y, g->sub_or, 0, 0);
        g->shot_timer = SHOT_COOL_DOWN;
    } else if (a == MINATAR_LEFT) {
        g->sub_x = g->sub_x > 0 ? g->sub_x - 1 : 0;
        g->sub_or = false;
    } else if (a == MINATAR_RIGHT) {
        g->sub_x = g->sub_x < 9 ? g->sub_x + 1 : 9;
        g->sub_or = true;
    } else if (a == MINATAR_UP) {
        g->sub_y = g->sub_y > 0 ? g->sub_y - 1 : 0;
    } else if (a == MINATAR_DOWN) {
        g->sub_y = g->sub_y < 8 ? g->sub_y + 1 : 8;
    }

    /* friendly bullets: move, then hit the first fish (or else the first sub) on their cell */
    FOR_REVERSED(&g->f_bullets, h) {
        int8_t *b = g->f_bullets.obj[h];
        b[X] = (int8_t)(b[X] + (b[DIR] ? 1 : -1));
        if (b[X] < 0 || b[X] > 9) {
            objects_remove(&g->f_bullets, h);
            continue;
        }
        bool removed = false;
        for (int j = 0; j < g->e_fish.n && !removed; j++) {
            int f = g->e_fish.list[j];
            if (at(g->e_fish.obj[f], b[X], b[Y])) {
                objects_remove(&g->e_fish, f);
                objects_remove(&g->f_bullets, h);
                reward += 1;
                removed = true;
            }
        }
        if (removed) continue;
        for (int j = 0; j < g->e_subs.n; j++) {
            int s = g->e_subs.list[j];
            if (at(g->e_subs.obj[s], b[X], b[Y])) {
                objects_remove(&g->e_subs, s);
                objects_remove(&g->f_bullets, h);
                reward += 1;
                break;
            }
        }
    }

    /* divers: picked up on the sub's cell (while fewer than 6 are aboard), else move */
    FOR_REVERSED(&g->divers, h) {
        int8_t *d = g->divers.obj[h];
        if (at(d, g->sub_x, g->sub_y) && g->diver_count < 6) {
            objects_remove(&g->divers, h);
            g->diver_count += 1;
        } else if (d[TIMER] == 0) {
            d[TIMER] = DIVER_MOVE_INTERVAL;
            d[X] = (int8_t)(d[X] + (d[DIR] ? 1 : -1));
            if (d[X] < 0 || d[X] > 9) {
                objects_remove(&g->divers, h);
            } else if (at(d, g->sub_x, g->sub_y) && g->diver_count < 6) {
                objects_remove(&g->divers, h);
                g->diver_count += 1;
            }
        } else {
            d[TIMER] -= 1;
        }
    }

    /* enemy subs: collide, move, get shot, and fire (even when just removed) */
    FOR_REVERSED(&g->e_subs, h) {
        int8_t *s = g->e_subs.obj[h];
        if (at(s, g->sub_x, g->sub_y)) g->terminal = true;
        if (s[TIMER] == 0) {
            s[TIMER] = (int8_t)g->move_speed;
            s[X] = (int8_t)(s[X] + (s[DIR] ? 1 : -1));
            if (s[X] < 0 || s[X] > 9) {
                objects_remove(&g->e_subs, h);
            } else if (at(s, g->sub_x, g->sub_y)) {
                g->terminal = true;
            } else if (shot_by_bullet(g, s)) {
                objects_remove(&g->e_subs, h);
                reward += 1;
            }
        } else {
            s[TIMER] -= 1;
        }
        if (s[SHOT] == 0) {
            s[SHOT] = ENEMY_SHOT_INTERVAL;
            objects_append(&g->e_bullets, s[X], s[Y], s[DIR], 0, 0);
        } else {
            s[SHOT] -= 1;
        }
    }

    /* enemy bullets */
    FOR_REVERSED(&g->e_bullets, h) {
        int8_t *b = g->e_bullets.obj[h];
        if (at(b, g->sub_x, g->sub_y)) g->terminal = true;
        b[X] = (int8_t)(b[X] + (b[DIR] ? 1 : -1));
        if (b[X] < 0 || b[X] > 9)
            objects_remove(&g->e_bullets, h);
        else if (at(b, g->sub_x, g->sub_y))
            g->terminal = true;
    }

    /* enemy fish */
    FOR_REVERSED(&g->e_fish, h) {
        int8_t *f = g->e_fish.obj[h];
        if (at(f, g->sub_x, g->sub_y)) g->terminal = true;
        if (f[TIMER] == 0) {
            f[TIMER] = (int8_t)g->move_speed;
            f[X] = (int8_t)(f[X] + (f[DIR] ? 1 : -1));
            if (f[X] < 0 || f[X] > 9) {
                objects_remove(&g->e_fish, h);
            } else if (at(f, g->sub_x, g->sub_y)) {
                g->terminal = true;
            } else if (shot_by_bullet(g, f)) {
                objects_remove(&g->e_fish, h);
                reward += 1;
            }
        } else {
            f[TIMER] -= 1;
        }
    }

    g->e_spawn_timer -= g->e_spawn_timer > 0;
    g->d_spawn_timer -= g->d_spawn_timer > 0;
    g->shot_timer -= g->shot_timer > 0;
    if (g->oxygen <= 0) g->terminal = true;
    if (g->sub_y > 0) {
        g->oxygen -= 1;
        g->surface = false;
    } else if (!g->surface) {
        if (g->diver_count == 0)
            g->terminal = true;
        else
            reward += surface(g);
    }
    return reward;
}

/* Python indexing of a column: negative counts from the right; past the end is skipped (the
 * reference would raise, which only an object left over by list.remove()'s by-value rule
 * could trigger). */
static void mark(float *obs, int y, int x, int ch) {
    if (x < 0) x += 10;
    if (x < 0 || x > 9) return;
    MINATAR_AT(obs, C, y, x, ch) = 1.0f;
}

static void mark_all(float *obs, const objects *o, int ch, bool trail) {
    for (int i = 0; i < o->n; i++) {
        const int8_t *v = o->obj[o->list[i]];
        mark(obs, v[Y], v[X], ch);
        if (!trail) continue;
        int back_x = v[DIR] ? v[X] - 1 : v[X] + 1;
        if (back_x >= 0 && back_x <= 9) MINATAR_AT(obs, C, v[Y], back_x, CH_TRAIL) = 1.0f;
    }
}

static void game_observe(const seaquest *g, float *obs) {
    memset(obs, 0, sizeof(float) * 100 * C);
    MINATAR_AT(obs, C, g->sub_y, g->sub_x, CH_SUB_FRONT) = 1.0f;
    mark(obs, g->sub_y, g->sub_or ? g->sub_x - 1 : g->sub_x + 1, CH_SUB_BACK);
    int oxygen_cells = (g->oxygen > 0 ? g->oxygen : 0) * 10 / MAX_OXYGEN;
    for (int x = 0; x < oxygen_cells; x++) MINATAR_AT(obs, C, 9, x, CH_OXYGEN) = 1.0f;
    /* state[9, 9-diver_count:9]: empty when the count is negative (see the file comment) */
    for (int x = 9 - g->diver_count; x < 9; x++)
        if (x >= 0) MINATAR_AT(obs, C, 9, x, CH_DIVER_GAUGE) = 1.0f;
    mark_all(obs, &g->f_bullets, CH_FBULLET, false);
    mark_all(obs, &g->e_bullets, CH_EBULLET, false);
    mark_all(obs, &g->e_fish, CH_FISH, true);
    mark_all(obs, &g->e_subs, CH_ESUB, true);
    mark_all(obs, &g->divers, CH_DIVER, true);
}

static int game_status(const seaquest *g, char *buf, size_t cap) {
    return snprintf(buf, cap, "oxygen %d/%d, divers %d, difficulty %d%s", g->oxygen, MAX_OXYGEN,
                    g->diver_count, g->ramp_index, g->terminal ? "  GAME OVER" : "");
}

static const prism_minatar_glyph glyphs[C] = {
    {"sub_front", 'S', 43},  {"sub_back", 's', 103},    {"friendly_bullet", '-', 47},
    {"trail", '.', 100},     {"enemy_bullet", '*', 45}, {"enemy_fish", 'F', 41},
    {"enemy_sub", 'U', 101}, {"oxygen_gauge", 'o', 44}, {"diver_gauge", 'd', 42},
    {"diver", 'D', 102}};
static const int minimal[] = {MINATAR_NOOP,  MINATAR_LEFT, MINATAR_UP,
                              MINATAR_RIGHT, MINATAR_DOWN, MINATAR_FIRE};

PRISM_MINATAR_GLUE(seaquest, seaquest, C, glyphs, minimal, game_reset, game_act, game_observe,
                   game_status)

const prism_env_class prism_minatar_seaquest = PRISM_MINATAR_CLASS(
    seaquest, seaquest, C, "seaquest", "MinAtar/Seaquest-v1 MinAtar/Seaquest-v0 minatar-seaquest",
    "MinAtar Seaquest: shoot enemies, rescue divers, surface for oxygen",
    prism_minatar_action_names, ".awdsf", PRISM_MINATAR_ACTIONS);
/* Seaquest's minimal set is the full set; the id exists so every game has one. */
const prism_env_class prism_minatar_seaquest_minimal =
    PRISM_MINATAR_CLASS(seaquest, seaquest, C, "seaquest-minimal", "MinAtar/Seaquest-minimal",
                        "MinAtar Seaquest with its minimal action set (all six actions)",
                        prism_minatar_action_names, ".awdsf", 6);
