/* prism/fields.h — named binary fields: a file section whose every value carries its name.
 *
 * A struct written as raw bytes changes the file format whenever a field is added, removed or
 * reordered, and nothing notices until a value lands in the wrong place. A fields section
 * writes each value under a name instead, and the reader asks for names: a missing field, a
 * field of another size or a field nobody asked for (written by a newer build) is an error that
 * names it. Values are little-endian; doubles are stored as their bit patterns, so they come
 * back bit for bit.
 *
 *     prism_fields w;
 *     prism_fields_init(&w);
 *     prism_fields_i64(&w, "env_steps", steps);
 *     prism_fields_f64(&w, "return_sum", sum);
 *     st = prism_fields_write(&w, file);          // then prism_fields_free(&w)
 *
 *     prism_fields_view v;
 *     st = prism_fields_parse(&v, data, len, &used, "ckpt-3.bin");
 *     if (!st) st = prism_fields_get_i64(&v, "env_steps", &steps);
 *     ...
 *     if (!st) st = prism_fields_done(&v);        // every field in the file was read
 *
 * Section layout: u32 field count, u64 byte length of the fields, then per field: u8 name
 * length, the name (no terminator), u32 value length, the value.
 */
#ifndef PRISM_FIELDS_H
#define PRISM_FIELDS_H

#include "prism/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { PRISM_FIELDS_MAX = 256 };

/* A section being written (in memory until prism_fields_write). */
typedef struct prism_fields {
    unsigned char *data;
    size_t len, cap;
    int count;
    bool failed; /* out of memory or too many fields: prism_fields_write reports it */
} prism_fields;

void prism_fields_init(prism_fields *w);
void prism_fields_free(prism_fields *w);
void prism_fields_i64(prism_fields *w, const char *name, int64_t v);
void prism_fields_f64(prism_fields *w, const char *name, double v);
void prism_fields_i64s(prism_fields *w, const char *name, const int64_t *v, size_t n);
void prism_fields_u64s(prism_fields *w, const char *name, const uint64_t *v, size_t n);
void prism_fields_u32s(prism_fields *w, const char *name, const uint32_t *v, size_t n);
/* Append the section to f. PRISM_ERR_NOMEM when a put failed, PRISM_ERR_IO when f did. */
prism_status prism_fields_write(const prism_fields *w, FILE *f);

/* A section being read: points into the caller's buffer, which must outlive it. */
typedef struct prism_fields_view {
    const unsigned char *data;
    size_t len;
    int count;
    const char *source; /* named in every message (a file path) */
    uint32_t offsets[PRISM_FIELDS_MAX];
    bool read[PRISM_FIELDS_MAX];
} prism_fields_view;

/* Check the section at data[0..avail) (counts, lengths, names unique and non-empty) and set
 * *used to its size. PRISM_ERR_CORRUPT naming `source` when it is malformed. */
prism_status prism_fields_parse(prism_fields_view *v, const void *data, size_t avail, size_t *used,
                                const char *source);
/* Read the field `name`: PRISM_ERR_CORRUPT naming source and field when it is missing or has
 * another size than asked for. */
prism_status prism_fields_get_i64(prism_fields_view *v, const char *name, int64_t *out);
prism_status prism_fields_get_f64(prism_fields_view *v, const char *name, double *out);
prism_status prism_fields_get_i64s(prism_fields_view *v, const char *name, int64_t *out, size_t n);
prism_status prism_fields_get_u64s(prism_fields_view *v, const char *name, uint64_t *out, size_t n);
prism_status prism_fields_get_u32s(prism_fields_view *v, const char *name, uint32_t *out, size_t n);
/* PRISM_ERR_CORRUPT naming the first field that no get asked for (a newer writer's). */
prism_status prism_fields_done(const prism_fields_view *v);

#endif
