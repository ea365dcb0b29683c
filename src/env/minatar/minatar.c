/* What the MinAtar games share: options, the sticky-action rule, recorded random draws, and
 * the terminal picture. See minatar.h; the games themselves are in the files beside this. */
#include "minatar.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const prism_minatar_action_names[PRISM_MINATAR_ACTIONS] = {
    "no-op", "left", "up", "right", "down", "fire",
};

void prism_minatar_common_init(prism_minatar_common *c, const int *action_map) {
    c->sticky_action_prob = 0.1;
    c->ramping = true;
    c->last_action = 0;
    c->applied_action = 0;
    c->action_map = action_map;
    c->trace = NULL;
}

prism_status prism_minatar_configure(void *state, const char *key, const char *value) {
    prism_minatar_common *c = state; /* every game's state starts with its common part */
    if (!strcmp(key, "sticky_action_prob")) {
        char *end;
        double p = strtod(value, &end);
        if (*value == 0 || *end != 0 || !(p >= 0.0 && p <= 1.0))
            return prism_error(PRISM_ERR_INVALID,
                               "sticky_action_prob must be a number in [0, 1] (MinAtar uses "
                               "0.1), got '%s'",
                               value);
        c->sticky_action_prob = p;
        return PRISM_OK;
    }
    if (!strcmp(key, "difficulty_ramping")) {
        if (!strcasecmp(value, "on") || !strcasecmp(value, "true") || !strcmp(value, "1"))
            c->ramping = true;
        else if (!strcasecmp(value, "off") || !strcasecmp(value, "false") || !strcmp(value, "0"))
            c->ramping = false;
        else
            return prism_error(PRISM_ERR_INVALID,
                               "difficulty_ramping must be on or off (or true/false, 1/0), "
                               "got '%s'",
                               value);
        return PRISM_OK;
    }
    return prism_error(PRISM_ERR_INVALID,
                       "MinAtar games have no option '%s'; their options are "
                       "sticky_action_prob, difficulty_ramping and max_episode_steps",
                       key);
}

static void record(prism_minatar_common *c, bool is_int, int64_t lo, int64_t hi, double v) {
    prism_minatar_trace *t = c->trace;
    if (t->n < PRISM_MINATAR_TRACE_CAP) {
        prism_minatar_draw *d = &t->draws[t->n];
        d->is_int = is_int;
        d->lo = lo;
        d->hi = hi;
        d->value = v;
    }
    t->n++;
}

double prism_minatar_rand(prism_minatar_common *c, prism_env_random *r) {
    double v = prism_env_random_uniform(r);
    if (c->trace) record(c, false, 0, 0, v);
    return v;
}

int prism_minatar_randint(prism_minatar_common *c, prism_env_random *r, int lo, int hi) {
    int v = (int)prism_env_random_int(r, lo, hi);
    if (c->trace) record(c, true, lo, hi, (double)v);
    return v;
}

int prism_minatar_sticky(prism_minatar_common *c, prism_env_random *r, int action) {
    int a = c->action_map ? c->action_map[action] : action;
    if (prism_minatar_rand(c, r) < c->sticky_action_prob) a = c->last_action;
    c->last_action = a;
    c->applied_action = a;
    return a;
}

/* snprintf that keeps a running length and never writes past cap. */
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*len < cap ? buf + *len : NULL, *len < cap ? cap - *len : 0, fmt, ap);
    va_end(ap);
    if (n > 0) *len += (size_t)n;
}

int prism_minatar_render(const float *obs, int channels, const prism_minatar_glyph *glyphs,
                         const char *status, char *buf, size_t cap, bool color) {
    PRISM_ASSERT(channels > 0 && channels <= PRISM_MINATAR_MAX_CHANNELS);
    size_t len = 0;
    if (cap) buf[0] = 0;
    put(buf, cap, &len, "+--------------------+\n");
    for (int y = 0; y < 10; y++) {
        put(buf, cap, &len, "|");
        for (int x = 0; x < 10; x++) {
            int ch = -1;
            for (int k = 0; k < channels && ch < 0; k++)
                if (MINATAR_AT(obs, channels, y, x, k) != 0.0f) ch = k;
            if (ch < 0)
                put(buf, cap, &len, "  ");
            else if (color)
                put(buf, cap, &len, "\033[%dm  \033[0m", glyphs[ch].ansi_bg);
            else
                put(buf, cap, &len, "%c%c", glyphs[ch].letter, glyphs[ch].letter);
        }
        put(buf, cap, &len, "|\n");
    }
    put(buf, cap, &len, "+--------------------+\n");
    for (int k = 0; k < channels; k++) {
        /* four legend entries a line keeps it within the width of a small terminal */
        const char *sep = k == 0 ? "" : k % 4 == 0 ? "\n" : "  ";
        if (color)
            put(buf, cap, &len, "%s\033[%dm  \033[0m %s", sep, glyphs[k].ansi_bg, glyphs[k].name);
        else
            put(buf, cap, &len, "%s%c %s", sep, glyphs[k].letter, glyphs[k].name);
    }
    put(buf, cap, &len, "\n%s\n", status);
    return (int)len;
}
