/* Reference trace reader: gzip -dc through popen, one JSON document per line, parsed into an
 * arena that is reset for every line. */
#include "fixture.h"
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct block {
    struct block *next;
    size_t used, cap;
    char data[];
} block;

typedef struct arena {
    block *head;
} arena;

static void *arena_alloc(arena *a, size_t bytes) {
    bytes = (bytes + 15) / 16 * 16;
    if (!a->head || a->head->used + bytes > a->head->cap) {
        size_t cap = bytes > (1u << 20) ? bytes : (1u << 20);
        block *b = malloc(sizeof *b + cap);
        if (!b) abort();
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += bytes;
    return p;
}

static void arena_reset(arena *a) {
    while (a->head) {
        block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

typedef struct parser {
    const char *p;
    arena *a;
    bool ok;
} parser;

static void skip_ws(parser *ps) {
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') ps->p++;
}

static bool parse_value(parser *ps, json *out);

static const char *parse_string(parser *ps) {
    /* ps->p is at the opening quote; escapes other than \uXXXX are decoded, \u becomes '?' */
    const char *start = ++ps->p;
    size_t len = 0;
    while (ps->p[len] && ps->p[len] != '"') len += ps->p[len] == '\\' ? 2 : 1;
    if (!ps->p[len]) {
        ps->ok = false;
        return "";
    }
    char *s = arena_alloc(ps->a, len + 1), *w = s;
    for (const char *r = start; r < start + len; r++) {
        if (*r != '\\') {
            *w++ = *r;
            continue;
        }
        r++;
        switch (*r) {
        case 'n':
            *w++ = '\n';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'u':
            *w++ = '?';
            r += 4;
            break;
        default:
            *w++ = *r;
        }
    }
    *w = 0;
    ps->p = start + len + 1;
    return s;
}

static bool parse_items(parser *ps, json *out, char close, bool object) {
    /* Two passes would need re-parsing; instead collect into a growing temporary list. */
    int cap = 8, n = 0;
    json *items = malloc(sizeof(json) * (size_t)cap);
    const char **keys = object ? malloc(sizeof(char *) * (size_t)cap) : NULL;
    ps->p++;
    skip_ws(ps);
    if (*ps->p == close)
        ps->p++;
    else {
        for (;;) {
            if (n == cap) {
                cap *= 2;
                items = realloc(items, sizeof(json) * (size_t)cap);
                if (object) keys = realloc(keys, sizeof(char *) * (size_t)cap);
            }
            skip_ws(ps);
            if (object) {
                if (*ps->p != '"') break;
                keys[n] = parse_string(ps);
                skip_ws(ps);
                if (*ps->p++ != ':') break;
            }
            if (!parse_value(ps, &items[n])) break;
            n++;
            skip_ws(ps);
            if (*ps->p == ',') {
                ps->p++;
                continue;
            }
            if (*ps->p == close) {
                ps->p++;
                out->kind = object ? JSON_OBJECT : JSON_ARRAY;
                out->n = n;
                out->items = arena_alloc(ps->a, sizeof(json) * (size_t)(n ? n : 1));
                memcpy(out->items, items, sizeof(json) * (size_t)n);
                if (object) {
                    out->keys = arena_alloc(ps->a, sizeof(char *) * (size_t)(n ? n : 1));
                    memcpy(out->keys, keys, sizeof(char *) * (size_t)n);
                }
                free(items);
                free(keys);
                return true;
            }
            break;
        }
        free(items);
        free(keys);
        ps->ok = false;
        return false;
    }
    out->kind = object ? JSON_OBJECT : JSON_ARRAY;
    out->n = 0;
    out->items = NULL;
    out->keys = NULL;
    free(items);
    free(keys);
    return true;
}

static bool parse_value(parser *ps, json *out) {
    memset(out, 0, sizeof *out);
    skip_ws(ps);
    char c = *ps->p;
    if (c == '{') return parse_items(ps, out, '}', true);
    if (c == '[') return parse_items(ps, out, ']', false);
    if (c == '"') {
        out->kind = JSON_STRING;
        out->string = parse_string(ps);
        return ps->ok;
    }
    if (!strncmp(ps->p, "true", 4) || !strncmp(ps->p, "false", 5)) {
        out->kind = JSON_BOOL;
        out->number = c == 't';
        ps->p += c == 't' ? 4 : 5;
        return true;
    }
    if (!strncmp(ps->p, "null", 4)) {
        out->kind = JSON_NULL;
        ps->p += 4;
        return true;
    }
    /* Python writes NaN/Infinity for non-finite floats */
    if (!strncmp(ps->p, "NaN", 3)) {
        out->kind = JSON_NUMBER;
        out->number = NAN;
        ps->p += 3;
        return true;
    }
    char *end;
    out->number = strtod(ps->p, &end);
    if (end == ps->p) {
        ps->ok = false;
        return false;
    }
    out->kind = JSON_NUMBER;
    ps->p = end;
    return true;
}

bool fixture_open(fixture *f, const char *name) {
    memset(f, 0, sizeof *f);
    const char *path = test_fixture_path(name);
    if (!path) return false;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
    f->pipe = popen(cmd, "r");
    if (!f->pipe) {
        test_fail(__FILE__, __LINE__, "cannot run gzip on %s", path);
        return false;
    }
    f->arena = calloc(1, sizeof(arena));
    f->name = name;
    return true;
}

const json *fixture_next(fixture *f) {
    static json root;
    arena_reset(f->arena);
    ssize_t len = getline(&f->line, &f->cap, f->pipe);
    if (len <= 0) return NULL;
    f->line_no++;
    parser ps = {f->line, f->arena, true};
    if (!parse_value(&ps, &root) || !ps.ok) {
        test_fail(__FILE__, __LINE__, "%s line %ld: malformed JSON", f->name, f->line_no);
        return NULL;
    }
    return &root;
}

void fixture_close(fixture *f) {
    if (f->pipe && pclose(f->pipe) != 0)
        test_fail(__FILE__, __LINE__, "gzip -dc %s failed (truncated file?)", f->name);
    if (f->arena) arena_reset(f->arena);
    free(f->arena);
    free(f->line);
    memset(f, 0, sizeof *f);
}

const json *json_get(const json *obj, const char *key) {
    if (!obj || obj->kind != JSON_OBJECT) return NULL;
    for (int i = 0; i < obj->n; i++)
        if (!strcmp(obj->keys[i], key)) return &obj->items[i];
    return NULL;
}

const json *json_at(const json *arr, int i) {
    if (!arr || (arr->kind != JSON_ARRAY && arr->kind != JSON_OBJECT) || i < 0 || i >= arr->n)
        return NULL;
    return &arr->items[i];
}

const char *json_str(const json *v) {
    return v && v->kind == JSON_STRING ? v->string : "";
}
double json_num(const json *v) {
    return v && (v->kind == JSON_NUMBER || v->kind == JSON_BOOL) ? v->number : (double)NAN;
}
bool json_bool(const json *v) {
    return v && v->kind == JSON_BOOL && v->number != 0;
}
