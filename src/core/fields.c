/* Named binary fields (see prism/fields.h): a writer that appends name + little-endian value
 * records, and a reader that finds them by name and notices any it was not asked for. */
#include "prism/fields.h"

#include <stdlib.h>
#include <string.h>

void prism_fields_init(prism_fields *w) {
    memset(w, 0, sizeof *w);
}

void prism_fields_free(prism_fields *w) {
    free(w->data);
    memset(w, 0, sizeof *w);
}

static bool reserve(prism_fields *w, size_t extra) {
    if (w->len + extra <= w->cap) return true;
    size_t cap = w->cap ? 2 * w->cap : 1024;
    while (cap < w->len + extra) cap *= 2;
    unsigned char *p = realloc(w->data, cap);
    if (!p) return false;
    w->data = p;
    w->cap = cap;
    return true;
}

static void put_le(unsigned char *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Append a field of n values of `width` bytes each, taken from v as integers. */
static void put(prism_fields *w, const char *name, const void *v, size_t n, int width) {
    size_t name_len = strlen(name);
    PRISM_ASSERT(name_len > 0 && name_len < 256);
    size_t bytes = n * (size_t)width;
    if (w->failed || w->count == PRISM_FIELDS_MAX || bytes > UINT32_MAX ||
        !reserve(w, 1 + name_len + 4 + bytes)) {
        w->failed = true;
        return;
    }
    unsigned char *p = w->data + w->len;
    p[0] = (unsigned char)name_len;
    memcpy(p + 1, name, name_len);
    put_le(p + 1 + name_len, bytes, 4);
    p += 1 + name_len + 4;
    for (size_t i = 0; i < n; i++) {
        uint64_t x;
        if (width == 8)
            memcpy(&x, (const unsigned char *)v + 8 * i, 8);
        else {
            uint32_t y;
            memcpy(&y, (const unsigned char *)v + 4 * i, 4);
            x = y;
        }
        put_le(p + (size_t)width * i, x, width);
    }
    w->len += 1 + name_len + 4 + bytes;
    w->count++;
}

void prism_fields_i64(prism_fields *w, const char *name, int64_t v) {
    put(w, name, &v, 1, 8);
}
void prism_fields_f64(prism_fields *w, const char *name, double v) {
    put(w, name, &v, 1, 8);
}
void prism_fields_i64s(prism_fields *w, const char *name, const int64_t *v, size_t n) {
    put(w, name, v, n, 8);
}
void prism_fields_u64s(prism_fields *w, const char *name, const uint64_t *v, size_t n) {
    put(w, name, v, n, 8);
}
void prism_fields_u32s(prism_fields *w, const char *name, const uint32_t *v, size_t n) {
    put(w, name, v, n, 4);
}

prism_status prism_fields_write(const prism_fields *w, FILE *f) {
    if (w->failed)
        return prism_error(PRISM_ERR_NOMEM,
                           "out of memory (or more than %d fields) building a "
                           "fields section",
                           PRISM_FIELDS_MAX);
    unsigned char head[12];
    put_le(head, (uint64_t)w->count, 4);
    put_le(head + 4, w->len, 8);
    if (fwrite(head, sizeof head, 1, f) != 1 || (w->len && fwrite(w->data, w->len, 1, f) != 1))
        return prism_error(PRISM_ERR_IO, "could not write a fields section");
    return PRISM_OK;
}

static prism_status malformed(const prism_fields_view *v, const char *what) {
    return prism_error(PRISM_ERR_CORRUPT, "%s is damaged: its named fields are malformed (%s)",
                       v->source, what);
}

prism_status prism_fields_parse(prism_fields_view *v, const void *data, size_t avail, size_t *used,
                                const char *source) {
    memset(v, 0, sizeof *v);
    v->source = source;
    const unsigned char *p = data;
    if (avail < 12) return malformed(v, "shorter than its header");
    uint64_t count = get_le(p, 4), len = get_le(p + 4, 8);
    if (count > PRISM_FIELDS_MAX) return malformed(v, "too many fields");
    if (len > avail - 12) return malformed(v, "longer than the file");
    v->data = p + 12;
    v->len = (size_t)len;
    v->count = (int)count;
    size_t at = 0;
    for (int i = 0; i < v->count; i++) {
        if (at + 1 > v->len) return malformed(v, "a field runs past the end");
        size_t name_len = v->data[at];
        if (name_len == 0) return malformed(v, "a field without a name");
        if (at + 1 + name_len + 4 > v->len) return malformed(v, "a field runs past the end");
        uint64_t bytes = get_le(v->data + at + 1 + name_len, 4);
        if (bytes > v->len - (at + 1 + name_len + 4))
            return malformed(v, "a field runs past the end");
        for (int j = 0; j < i; j++) {
            const unsigned char *q = v->data + v->offsets[j];
            if (q[0] == name_len && !memcmp(q + 1, v->data + at + 1, name_len))
                return malformed(v, "a field name appears twice");
        }
        v->offsets[i] = (uint32_t)at;
        at += 1 + name_len + 4 + (size_t)bytes;
    }
    if (at != v->len) return malformed(v, "bytes after the last field");
    *used = 12 + v->len;
    return PRISM_OK;
}

/* The value of `name`, which must hold n values of `width` bytes, into out. */
static prism_status get(prism_fields_view *v, const char *name, void *out, size_t n, int width) {
    size_t name_len = strlen(name);
    for (int i = 0; i < v->count; i++) {
        const unsigned char *q = v->data + v->offsets[i];
        if (q[0] != name_len || memcmp(q + 1, name, name_len)) continue;
        uint64_t bytes = get_le(q + 1 + name_len, 4);
        if (bytes != n * (size_t)width)
            return prism_error(PRISM_ERR_CORRUPT,
                               "%s is damaged: field %s has %llu bytes where this prism expects "
                               "%zu",
                               v->source, name, (unsigned long long)bytes, n * (size_t)width);
        const unsigned char *val = q + 1 + name_len + 4;
        for (size_t k = 0; k < n; k++) {
            uint64_t x = get_le(val + (size_t)width * k, width);
            if (width == 8)
                memcpy((unsigned char *)out + 8 * k, &x, 8);
            else {
                uint32_t y = (uint32_t)x;
                memcpy((unsigned char *)out + 4 * k, &y, 4);
            }
        }
        v->read[i] = true;
        return PRISM_OK;
    }
    return prism_error(PRISM_ERR_CORRUPT,
                       "%s has no field %s: it was written by another version of prism", v->source,
                       name);
}

prism_status prism_fields_get_i64(prism_fields_view *v, const char *name, int64_t *out) {
    return get(v, name, out, 1, 8);
}
prism_status prism_fields_get_f64(prism_fields_view *v, const char *name, double *out) {
    return get(v, name, out, 1, 8);
}
prism_status prism_fields_get_i64s(prism_fields_view *v, const char *name, int64_t *out, size_t n) {
    return get(v, name, out, n, 8);
}
prism_status prism_fields_get_u64s(prism_fields_view *v, const char *name, uint64_t *out,
                                   size_t n) {
    return get(v, name, out, n, 8);
}
prism_status prism_fields_get_u32s(prism_fields_view *v, const char *name, uint32_t *out,
                                   size_t n) {
    return get(v, name, out, n, 4);
}

prism_status prism_fields_done(const prism_fields_view *v) {
    for (int i = 0; i < v->count; i++) {
        if (v->read[i]) continue;
        const unsigned char *q = v->data + v->offsets[i];
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s holds a field this prism does not know (%.*s): it was written by "
                           "a newer prism",
                           v->source, (int)q[0], (const char *)q + 1);
    }
    return PRISM_OK;
}
