/* prism/json.h — a small JSON writer (into a growing buffer) and a small JSON reader (a tree).
 *
 * The writer is what run.json and every other JSON prism prints go through: objects, arrays,
 * strings with escaping, integers, doubles printed round-trip (the fewest of 15 to 17
 * significant digits that read back to the same double; NaN and Inf become null,
 * since JSON has no spelling for them), optional indentation or a line layout whose line
 * breaks the caller places (one table row per line). Commas and nesting are tracked
 * for the caller. An allocation failure makes the writer sticky-failed: later calls do
 * nothing and prism_json_finish() reports PRISM_ERR_NOMEM.
 *
 *     prism_json j;
 *     prism_json_init(&j, 2);                 // 2-space indentation; 0 for one line
 *     prism_json_object_begin(&j);
 *     prism_json_kv_string(&j, "env", "CartPole-v0");
 *     prism_json_kv_int(&j, "seed", 0);
 *     prism_json_object_end(&j);
 *     if (prism_json_finish(&j) == PRISM_OK) fputs(prism_json_text(&j), f);
 *     prism_json_free(&j);
 *
 * The reader parses a whole document into a tree of prism_json_value nodes (one allocation per
 * node, freed together by prism_json_value_free). It is meant for prism's own files (run.json),
 * not for adversarial gigabytes: nesting is limited to PRISM_JSON_MAX_DEPTH.
 */
#ifndef PRISM_JSON_H
#define PRISM_JSON_H

#include "prism/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRISM_JSON_MAX_DEPTH 32

typedef struct prism_json {
    char *buf; /* NUL-terminated text so far (prism_alloc'd; NULL until the first write) */
    size_t len, cap;
    int indent;                                 /* spaces per level; 0 = compact, one line */
    int depth;                                  /* open containers */
    unsigned char count[PRISM_JSON_MAX_DEPTH];  /* 0 = nothing written yet in this container */
    unsigned char is_obj[PRISM_JSON_MAX_DEPTH]; /* 1 object, 0 array */
    bool after_key;                             /* a key was written, its value comes next */
    bool lines;                                 /* line layout: breaks only where asked */
    bool pending_break;                         /* line layout: the next item starts a line */
    prism_status status;                        /* sticky: first failure */
} prism_json;

/* Start an empty document. `indent` spaces per nesting level (0: compact). Never fails. */
void prism_json_init(prism_json *j, int indent);
/* Start an empty document in the line layout: items separated by ", " and keys by ": " on one
 * line, except that an item (value, key or closing bracket) after prism_json_break() starts a
 * new line indented by `indent` spaces per open container. A finished document ends with a
 * newline. Never fails. */
void prism_json_init_lines(prism_json *j, int indent);
/* Line layout: the next item starts a new line. Ignored in the other layouts. */
void prism_json_break(prism_json *j);
/* Release the buffer. Safe on a writer that never wrote. */
void prism_json_free(prism_json *j);

void prism_json_object_begin(prism_json *j);
void prism_json_object_end(prism_json *j);
void prism_json_array_begin(prism_json *j);
void prism_json_array_end(prism_json *j);
/* The key of the next value in the current object (asserts that an object is open). */
void prism_json_key(prism_json *j, const char *key);
/* Values. A NULL string writes null; doubles that are NaN or +-Inf write null. */
void prism_json_string(prism_json *j, const char *s);
void prism_json_int(prism_json *j, long long v);
/* An unsigned 64-bit integer (a seed), exactly. */
void prism_json_u64(prism_json *j, uint64_t v);
void prism_json_double(prism_json *j, double v);
/* A double with `digits` significant digits (%.*g, 1 to 17): for data that must agree with a
 * CSV written at that precision. NaN and +-Inf write null. */
void prism_json_double_digits(prism_json *j, double v, int digits);
/* A float32 with %.9g, which reads back to the same float (the rollout format). */
void prism_json_float(prism_json *j, float v);
/* A measurement with `decimals` digits after the point (%.*f; 0 to 17): for numbers whose
 * precision beyond that is noise, such as a benchmark's rates. */
void prism_json_fixed(prism_json *j, double v, int decimals);
void prism_json_bool(prism_json *j, bool v);
void prism_json_null(prism_json *j);
/* key + value in one call. */
void prism_json_kv_string(prism_json *j, const char *key, const char *s);
void prism_json_kv_int(prism_json *j, const char *key, long long v);
void prism_json_kv_uint(prism_json *j, const char *key, uint64_t v);
void prism_json_kv_double(prism_json *j, const char *key, double v);
void prism_json_kv_fixed(prism_json *j, const char *key, double v, int decimals);
void prism_json_kv_bool(prism_json *j, const char *key, bool v);

/* Check the document is complete (every container closed) and append a final newline when
 * indenting or in the line layout. Returns PRISM_OK, PRISM_ERR_NOMEM after an allocation failure,
 * or PRISM_ERR_INVALID for unbalanced containers (a bug in the caller, reported, not asserted). */
prism_status prism_json_finish(prism_json *j);
/* The text written so far ("" before any write). Owned by the writer. */
const char *prism_json_text(const prism_json *j);
size_t prism_json_length(const prism_json *j);

/* ---- reader ---- */

typedef enum prism_json_type {
    PRISM_JSON_NULL,
    PRISM_JSON_BOOL,
    PRISM_JSON_NUMBER,
    PRISM_JSON_STRING,
    PRISM_JSON_ARRAY,
    PRISM_JSON_OBJECT,
} prism_json_type;

typedef struct prism_json_value {
    prism_json_type type;
    bool boolean;
    double number;
    /* NUMBER written as a plain integer (no '.' or exponent) within [-2^63, 2^64): its exact
     * value is -magnitude when `negative`, else magnitude. A double holds integers exactly only
     * up to 2^53, so 64-bit seeds are read (and written back) from these, never from `number`. */
    bool integer, negative;
    uint64_t magnitude;
    char *string;                   /* STRING: the decoded text, NUL-terminated (UTF-8) */
    char *key;                      /* the member name when the parent is an object */
    struct prism_json_value *child; /* ARRAY/OBJECT: first element */
    struct prism_json_value *next;  /* next sibling */
    int count;                      /* ARRAY/OBJECT: number of children */
} prism_json_value;

/* Parse `len` bytes of `text` into a tree (*out, owned by the caller: free with
 * prism_json_value_free). Errors: PRISM_ERR_CORRUPT with the byte offset and the problem in
 * the message; PRISM_ERR_NOMEM. `what` names the source in messages (a file path). */
prism_status prism_json_parse(const char *text, size_t len, const char *what,
                              prism_json_value **out);
/* Read and parse a whole file (PRISM_ERR_NOT_FOUND / PRISM_ERR_IO naming the path). */
prism_status prism_json_parse_file(const char *path, prism_json_value **out);
void prism_json_value_free(prism_json_value *v);
/* The member `key` of an object, or NULL (also when v is NULL or not an object). */
const prism_json_value *prism_json_get(const prism_json_value *v, const char *key);
/* Convenience: the string member `key`, or `fallback` when absent or not a string. */
const char *prism_json_get_string(const prism_json_value *v, const char *key, const char *fallback);
/* The number member `key`, or `fallback` when absent or not a number (null reads as fallback). */
double prism_json_get_number(const prism_json_value *v, const char *key, double fallback);
/* The number member `key` as a signed / unsigned 64-bit integer: exact when it was written as
 * a plain integer, otherwise from the double, range-checked before the conversion (a double
 * outside the range would be undefined behaviour to convert). PRISM_OK and
 * *out set; PRISM_ERR_NOT_FOUND (no message, *out untouched) when the member is absent or null;
 * PRISM_ERR_CORRUPT naming `what` (the file), the key and the value when it is not a number,
 * not integral, or out of range. */
prism_status prism_json_get_int64(const prism_json_value *v, const char *key, const char *what,
                                  long long *out);
prism_status prism_json_get_uint64(const prism_json_value *v, const char *key, const char *what,
                                   uint64_t *out);
/* Write a parsed value back out through a writer (used to pretty-print run.json). */
void prism_json_write_value(prism_json *j, const prism_json_value *v);

#endif
