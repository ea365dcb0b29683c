/* The JSON writer: a growing text buffer with comma and nesting bookkeeping. Numbers: integers
 * exactly, doubles in the fewest of 15 to 17 significant digits that parse back to the same
 * double (0.9, not 0.90000000000000002), float32 values with %.9g, fixed decimals on request;
 * NaN/Inf as null (JSON cannot spell them). Layouts: compact, indented, or lines (the caller
 * places the line breaks: a table as one row per line). Not a streaming writer: documents here are
 * small (run.json, one JSON line of a command). */
#include "prism/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void prism_json_init(prism_json *j, int indent) {
    memset(j, 0, sizeof *j);
    j->indent = indent;
}

void prism_json_init_lines(prism_json *j, int indent) {
    prism_json_init(j, indent);
    j->lines = true;
}

void prism_json_break(prism_json *j) {
    j->pending_break = j->lines;
}

void prism_json_free(prism_json *j) {
    prism_free(j->buf);
    j->buf = NULL;
    j->len = j->cap = 0;
}

static void put(prism_json *j, const char *s, size_t n) {
    if (j->status) return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 256;
        while (cap < j->len + n + 1) cap *= 2;
        char *nb = prism_alloc(cap);
        if (!nb) {
            j->status = PRISM_ERR_NOMEM;
            return;
        }
        if (j->len) memcpy(nb, j->buf, j->len);
        prism_free(j->buf);
        j->buf = nb;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = 0;
}

static void puts_(prism_json *j, const char *s) {
    put(j, s, strlen(s));
}

static void newline(prism_json *j) {
    if (!j->indent && !j->lines) return;
    put(j, "\n", 1);
    for (int i = 0; i < j->depth * j->indent; i++) put(j, " ", 1);
}

/* Called before every value and every key: the comma and indentation (or, in the line layout,
 * the comma and the space or requested line break) that precede it. */
static void before_item(prism_json *j) {
    bool brk = j->pending_break;
    j->pending_break = false;
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth > 0) {
        int first = !j->count[j->depth - 1];
        if (!first) put(j, ",", 1);
        if (j->count[j->depth - 1] < 255) j->count[j->depth - 1]++;
        if (!j->lines || brk)
            newline(j);
        else if (!first)
            put(j, " ", 1);
    }
}

static void write_string(prism_json *j, const char *s) {
    put(j, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"':
            puts_(j, "\\\"");
            break;
        case '\\':
            puts_(j, "\\\\");
            break;
        case '\n':
            puts_(j, "\\n");
            break;
        case '\r':
            puts_(j, "\\r");
            break;
        case '\t':
            puts_(j, "\\t");
            break;
        case '\b':
            puts_(j, "\\b");
            break;
        case '\f':
            puts_(j, "\\f");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                puts_(j, esc);
            } else {
                /* bytes >= 0x80 pass through: prism's strings are UTF-8 (or the caller's bytes) */
                put(j, (const char *)p, 1);
            }
        }
    }
    put(j, "\"", 1);
}

static void open_container(prism_json *j, int is_obj) {
    before_item(j);
    put(j, is_obj ? "{" : "[", 1);
    if (j->depth >= PRISM_JSON_MAX_DEPTH) {
        j->status = PRISM_ERR_INVALID;
        return;
    }
    j->is_obj[j->depth] = (unsigned char)is_obj;
    j->count[j->depth] = 0;
    j->depth++;
}

static void close_container(prism_json *j, int is_obj) {
    bool brk = j->pending_break;
    j->pending_break = false;
    if (j->depth == 0 || j->is_obj[j->depth - 1] != is_obj || j->after_key) {
        j->status = PRISM_ERR_INVALID;
        return;
    }
    int had_items = j->count[j->depth - 1] != 0;
    j->depth--;
    if (j->lines ? brk : had_items) newline(j);
    put(j, is_obj ? "}" : "]", 1);
}

void prism_json_object_begin(prism_json *j) {
    open_container(j, 1);
}
void prism_json_object_end(prism_json *j) {
    close_container(j, 1);
}
void prism_json_array_begin(prism_json *j) {
    open_container(j, 0);
}
void prism_json_array_end(prism_json *j) {
    close_container(j, 0);
}

void prism_json_key(prism_json *j, const char *key) {
    PRISM_ASSERT(j->depth > 0 && j->is_obj[j->depth - 1] && !j->after_key);
    before_item(j);
    write_string(j, key);
    int spaced = j->indent || j->lines;
    put(j, spaced ? ": " : ":", spaced ? 2 : 1);
    j->after_key = true;
}

void prism_json_string(prism_json *j, const char *s) {
    before_item(j);
    if (s)
        write_string(j, s);
    else
        puts_(j, "null");
}

void prism_json_int(prism_json *j, long long v) {
    char b[32];
    before_item(j);
    snprintf(b, sizeof b, "%lld", v);
    puts_(j, b);
}

/* A finite number printed by `fmt` with `digits`; NaN and Inf as null. */
static void number(prism_json *j, const char *fmt, int digits, double v) {
    char b[400]; /* %.Nf of the largest double has 309 digits before the point */
    before_item(j);
    if (!isfinite(v)) {
        puts_(j, "null");
        return;
    }
    snprintf(b, sizeof b, fmt, digits, v);
    puts_(j, b);
}

void prism_json_u64(prism_json *j, uint64_t v) {
    char b[32];
    before_item(j);
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    puts_(j, b);
}

void prism_json_double(prism_json *j, double v) {
    /* %.17g round-trips every double; fewer digits often do, and read better. "1e+20" and "3"
     * are both valid JSON. */
    int digits = 15;
    char b[40];
    for (; digits < 17 && isfinite(v); digits++) {
        snprintf(b, sizeof b, "%.*g", digits, v);
        if (strtod(b, NULL) == v) break;
    }
    number(j, "%.*g", digits, v);
}

void prism_json_double_digits(prism_json *j, double v, int digits) {
    PRISM_ASSERT(digits >= 1 && digits <= 17);
    number(j, "%.*g", digits, v);
}

void prism_json_float(prism_json *j, float v) {
    /* 9 significant digits round-trip every float32 */
    prism_json_double_digits(j, (double)v, 9);
}

void prism_json_fixed(prism_json *j, double v, int decimals) {
    PRISM_ASSERT(decimals >= 0 && decimals <= 17);
    number(j, "%.*f", decimals, v);
}

void prism_json_bool(prism_json *j, bool v) {
    before_item(j);
    puts_(j, v ? "true" : "false");
}

void prism_json_null(prism_json *j) {
    before_item(j);
    puts_(j, "null");
}

void prism_json_kv_string(prism_json *j, const char *key, const char *s) {
    prism_json_key(j, key);
    prism_json_string(j, s);
}
void prism_json_kv_int(prism_json *j, const char *key, long long v) {
    prism_json_key(j, key);
    prism_json_int(j, v);
}
void prism_json_kv_uint(prism_json *j, const char *key, uint64_t v) {
    prism_json_key(j, key);
    prism_json_u64(j, v);
}
void prism_json_kv_double(prism_json *j, const char *key, double v) {
    prism_json_key(j, key);
    prism_json_double(j, v);
}
void prism_json_kv_fixed(prism_json *j, const char *key, double v, int decimals) {
    prism_json_key(j, key);
    prism_json_fixed(j, v, decimals);
}
void prism_json_kv_bool(prism_json *j, const char *key, bool v) {
    prism_json_key(j, key);
    prism_json_bool(j, v);
}

prism_status prism_json_finish(prism_json *j) {
    if (j->status == PRISM_ERR_NOMEM)
        return prism_error(PRISM_ERR_NOMEM, "out of memory writing JSON");
    if (j->status || j->depth != 0 || j->after_key)
        return prism_error(PRISM_ERR_INVALID,
                           "JSON document is not balanced (%d containers open, or a key without "
                           "a value, or nesting deeper than %d)",
                           j->depth, PRISM_JSON_MAX_DEPTH);
    if (j->indent || j->lines) put(j, "\n", 1);
    if (j->status) return prism_error(PRISM_ERR_NOMEM, "out of memory writing JSON");
    return PRISM_OK;
}

const char *prism_json_text(const prism_json *j) {
    return j->buf ? j->buf : "";
}
size_t prism_json_length(const prism_json *j) {
    return j->len;
}

void prism_json_write_value(prism_json *j, const prism_json_value *v) {
    switch (v->type) {
    case PRISM_JSON_NULL:
        prism_json_null(j);
        break;
    case PRISM_JSON_BOOL:
        prism_json_bool(j, v->boolean);
        break;
    case PRISM_JSON_NUMBER:
        /* integers print as they were read (exact to 64 bits); integral doubles that a double
         * holds exactly print without ".0" or exponent; the range test comes first, since
         * converting an out-of-range double to an integer is undefined */
        if (v->integer && !v->negative)
            prism_json_u64(j, v->magnitude);
        else if (v->integer) /* magnitude <= 2^63: negate in unsigned arithmetic */
            prism_json_int(j, (long long)(0 - v->magnitude));
        else if (fabs(v->number) < 9007199254740992.0 && v->number == floor(v->number))
            prism_json_int(j, (long long)v->number);
        else
            prism_json_double(j, v->number);
        break;
    case PRISM_JSON_STRING:
        prism_json_string(j, v->string);
        break;
    case PRISM_JSON_ARRAY:
        prism_json_array_begin(j);
        for (const prism_json_value *c = v->child; c; c = c->next) prism_json_write_value(j, c);
        prism_json_array_end(j);
        break;
    case PRISM_JSON_OBJECT:
        prism_json_object_begin(j);
        for (const prism_json_value *c = v->child; c; c = c->next) {
            prism_json_key(j, c->key ? c->key : "");
            prism_json_write_value(j, c);
        }
        prism_json_object_end(j);
        break;
    }
}
